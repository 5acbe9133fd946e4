/* test_aws_moto.c: the AWS client against moto (MOTO_URL, started by
 * tests/run): a round trip per protocol, pagination, batches, waiters,
 * errors, credentials, trace redaction. Only ever talks to 127.0.0.1. */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "unit.h"
#include "aws/internal.h"

#define TEST_KEY	"AKIDMLSHTESTKEY"
#define TEST_SECRET	"mlsh-secret-never-shown"
#define TEST_TOKEN	"mlsh-session-token-never-shown"

static const char *moto_url;
static char empty_file[] = "/tmp/mlsh-empty-XXXXXX";

struct trace_log {
	int n;
	struct buf text;
};

static void
on_trace(void *arg, const char *text)
{
	struct trace_log *t = arg;

	t->n++;
	buf_adds(&t->text, text);
}

static struct aws_client *
client(struct trace_log *t)
{
	struct aws_options o;

	memset(&o, 0, sizeof o);
	o.endpoint_url = moto_url;
	o.region = "us-east-1";
	o.netns_fd = -1;
	o.timeout_ms = 10000;
	if (t != NULL) {
		o.trace = on_trace;
		o.trace_arg = t;
	}
	return aws_client_new(&o);
}

static void
env_creds(int with_token)
{
	setenv("AWS_ACCESS_KEY_ID", TEST_KEY, 1);
	setenv("AWS_SECRET_ACCESS_KEY", TEST_SECRET, 1);
	if (with_token)
		setenv("AWS_SESSION_TOKEN", TEST_TOKEN, 1);
	else
		unsetenv("AWS_SESSION_TOKEN");
}

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p, (void)arg;
	return size * n;
}

static int
moto_reset(void)
{
	CURL *h = curl_easy_init();
	char *url = xasprintf("%s/moto-api/reset", moto_url);
	long status = 0;
	CURLcode rc;

	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	/* A bound, not a speed: moto rebuilds its backends on a reset, past
	 * 10 s at a load of 15 (the ASan pass beside pass 1, in CI). */
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	free(url);
	return rc == CURLE_OK && status == 200 ? 0 : -1;
}

/* A call that must succeed; the result or NULL (and a failed check). */
static cJSON *
call_ok(struct aws_client *c, const char *svc, const char *action,
    const char *params_json)
{
	cJSON *p = params_json ? cJSON_Parse(params_json) : NULL, *r = NULL;
	struct aws_error e;
	char *line;

	if (params_json != NULL && p == NULL)
		T_FAIL("bad test JSON: %s", params_json);
	if (aws_call(c, svc, action, p, &r, &e) != 0) {
		line = aws_error_line(&e);
		T_FAIL("%s %s: %s", svc, action, line);
		free(line);
		aws_error_release(&e);
	}
	cJSON_Delete(p);
	return r;
}

static const char *
str_at(const cJSON *o, const char *path)
{
	char *p = xstrdup(path), *save = NULL, *tok;
	const cJSON *v = o;

	for (tok = strtok_r(p, "/", &save); tok != NULL && v != NULL;
	    tok = strtok_r(NULL, "/", &save)) {
		if (*tok >= '0' && *tok <= '9')
			v = cJSON_GetArrayItem(v, atoi(tok));
		else
			v = cJSON_GetObjectItemCaseSensitive(v, tok);
	}
	free(p);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void
ec2_vpcs_filter_and_paginate(void)
{
	struct trace_log t = { 0 };
	struct aws_client *c;
	struct aws_error e;
	cJSON *r, *items, *p;
	char json[128], cidr[32];
	int i, before;

	buf_init(&t.text);
	c = client(&t);
	for (i = 0; i < 7; i++) {
		snprintf(json, sizeof json, "{\"CidrBlock\":\"10.%d.0.0/16\"}",
		    100 + i);
		r = call_ok(c, "ec2", "CreateVpc", json);
		T_OK(str_at(r, "vpc/vpcId") != NULL);
		snprintf(cidr, sizeof cidr, "10.%d.0.0/16", 100 + i);
		T_EQ_STR(str_at(r, "vpc/cidrBlock"), cidr);
		cJSON_Delete(r);
	}
	r = call_ok(c, "ec2", "DescribeVpcs", "{\"Filter\":[{\"Name\":"
	    "\"cidr-block-association.cidr-block\",\"Value\":[\"10.103.0.0/16\"]}]}");
	T_OK(cJSON_IsArray(cJSON_GetObjectItem(r, "vpcSet")));
	T_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(r, "vpcSet")), 1);
	T_EQ_STR(str_at(r, "vpcSet/0/cidrBlock"), "10.103.0.0/16");
	T_OK(str_at(r, "RequestId") != NULL);
	cJSON_Delete(r);

	/* 7 created + moto's default VPC, or more: CreateVpc takes no client
	 * token, so on a loaded machine a create that timed out and was retried
	 * makes a second VPC, as AWS would. The paginated list must hold what
	 * one plain call lists (moto ignores MaxResults here, so the pages
	 * themselves are checked with instances below). */
	r = call_ok(c, "ec2", "DescribeVpcs", "{}");
	before = cJSON_GetArraySize(cJSON_GetObjectItem(r, "vpcSet"));
	cJSON_Delete(r);
	T_OK(before >= 8);
	p = cJSON_Parse("{\"MaxResults\":5}");
	T_EQ_INT(aws_paginate(c, "ec2", "DescribeVpcs", p, "Vpcs", 0, &items,
	    &e), 0);
	T_EQ_INT(cJSON_GetArraySize(items), before);
	T_OK(str_at(items, "7/vpcId") != NULL);
	cJSON_Delete(items);
	cJSON_Delete(p);

	/* RunInstances gets a generated ClientToken; 8 reservations over
	 * pages of 5 in moto */
	for (i = 0; i < 7; i++) {
		r = call_ok(c, "ec2", "RunInstances", "{\"ImageId\":"
		    "\"ami-12c6146b\",\"MinCount\":1,\"MaxCount\":1,"
		    "\"InstanceType\":\"t3.micro\"}");
		T_OK(str_at(r, "instancesSet/0/instanceId") != NULL);
		/* the generated token, as moto echoes it */
		T_OK(str_at(r, "instancesSet/0/clientToken") != NULL &&
		    strlen(str_at(r, "instancesSet/0/clientToken")) == 36);
		cJSON_Delete(r);
	}
	/* a caller's token is sent as given */
	r = call_ok(c, "ec2", "RunInstances", "{\"ImageId\":\"ami-12c6146b\","
	    "\"MinCount\":1,\"MaxCount\":1,\"ClientToken\":\"mine-1\"}");
	T_EQ_STR(str_at(r, "instancesSet/0/clientToken"), "mine-1");
	cJSON_Delete(r);
	before = t.n;
	p = cJSON_Parse("{\"MaxResults\":5}");
	T_EQ_INT(aws_paginate(c, "ec2", "DescribeInstances", p, "Reservations",
	    0, &items, &e), 0);
	T_EQ_INT(cJSON_GetArraySize(items), 8);
	T_EQ_INT(t.n - before, 2);
	T_OK(str_at(items, "7/instancesSet/0/instanceId") != NULL);
	cJSON_Delete(items);
	/* More pages than max_pages: an error naming the action and the
	 * limit, no partial list (moto has a second page here). */
	before = t.n;
	T_EQ_INT(aws_paginate(c, "ec2", "DescribeInstances", p, "Reservations",
	    1, &items, &e), -1);
	T_OK(items == NULL);
	T_EQ_INT(t.n - before, 1);
	T_EQ_STR(e.code, "PageLimitExceeded");
	{
		char *line = aws_error_line(&e);
		T_EQ_STR(line, "ec2: PageLimitExceeded: DescribeInstances: more "
		    "than 1 page (mlsh's page limit); stopped rather than "
		    "return an incomplete list");
		free(line);
	}
	aws_error_release(&e);
	/* Exactly max_pages pages is not over the limit. */
	T_EQ_INT(aws_paginate(c, "ec2", "DescribeInstances", p, "Reservations",
	    2, &items, &e), 0);
	T_EQ_INT(cJSON_GetArraySize(items), 8);
	cJSON_Delete(items);
	cJSON_Delete(p);
	aws_client_free(c);
	buf_release(&t.text);
}

static void
iam_create_role(void)
{
	struct aws_client *c = client(NULL);
	cJSON *r = call_ok(c, "iam", "CreateRole", "{\"RoleName\":\"mlsh-test\","
	    "\"AssumeRolePolicyDocument\":\"{\\\"Version\\\":\\\"2012-10-17\\\"}\","
	    "\"Tags\":[{\"Key\":\"team\",\"Value\":\"ml\"}]}");

	T_EQ_STR(str_at(r, "Role/RoleName"), "mlsh-test");
	T_OK(str_at(r, "Role/Arn") != NULL);
	T_OK(str_at(r, "RequestId") != NULL);
	cJSON_Delete(r);
	aws_client_free(c);
}

static void
sts_caller_identity(void)
{
	struct aws_client *c = client(NULL);
	cJSON *r = call_ok(c, "sts", "GetCallerIdentity", NULL);

	T_EQ_STR(str_at(r, "Account"), "123456789012");
	T_OK(str_at(r, "Arn") != NULL);
	cJSON_Delete(r);
	aws_client_free(c);
}

static void
cloudwatch_metrics(void)
{
	struct aws_client *c = client(NULL);
	cJSON *r = call_ok(c, "cloudwatch", "PutMetricData",
	    "{\"Namespace\":\"mlsh/test\",\"MetricData\":[{\"MetricName\":"
	    "\"gpu_util\",\"Value\":42.5,\"Unit\":\"Percent\"}]}");

	cJSON_Delete(r);
	r = call_ok(c, "cloudwatch", "ListMetrics",
	    "{\"Namespace\":\"mlsh/test\"}");
	T_EQ_STR(str_at(r, "Metrics/0/MetricName"), "gpu_util");
	cJSON_Delete(r);
	aws_client_free(c);
}

static void
sagemaker_notebook(void)
{
	struct aws_client *c = client(NULL);
	cJSON *r = call_ok(c, "sagemaker", "CreateNotebookInstance",
	    "{\"NotebookInstanceName\":\"mlsh-nb\",\"InstanceType\":"
	    "\"ml.t3.medium\",\"RoleArn\":\"arn:aws:iam::123456789012:role/r\"}");

	T_OK(str_at(r, "NotebookInstanceArn") != NULL);
	cJSON_Delete(r);
	r = call_ok(c, "sagemaker", "DescribeNotebookInstance",
	    "{\"NotebookInstanceName\":\"mlsh-nb\"}");
	T_EQ_STR(str_at(r, "NotebookInstanceName"), "mlsh-nb");
	T_EQ_STR(str_at(r, "InstanceType"), "ml.t3.medium");
	cJSON_Delete(r);
	aws_client_free(c);
}

static void
efs_filesystem(void)
{
	struct aws_client *c = client(NULL);
	cJSON *r = call_ok(c, "efs", "CreateFileSystem",
	    "{\"PerformanceMode\":\"generalPurpose\",\"Tags\":[{\"Key\":\"Name\","
	    "\"Value\":\"mlsh-efs\"}]}");
	char *id = NULL, *tok = NULL, *json;

	if (str_at(r, "FileSystemId") != NULL)
		id = xstrdup(str_at(r, "FileSystemId"));
	/* no CreationToken given: one was generated */
	if (str_at(r, "CreationToken") != NULL)
		tok = xstrdup(str_at(r, "CreationToken"));
	T_OK(id != NULL);
	T_OK(tok != NULL && strlen(tok) == 36);
	cJSON_Delete(r);
	json = xasprintf("{\"FileSystemId\":\"%s\"}", id ? id : "x");
	r = call_ok(c, "efs", "DescribeFileSystems", json);
	T_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(r, "FileSystems")), 1);
	T_EQ_STR(str_at(r, "FileSystems/0/FileSystemId"), id);
	cJSON_Delete(r);
	free(json);
	free(id);
	free(tok);
	aws_client_free(c);
}

static void
ssm_parameter(void)
{
	struct aws_client *c = client(NULL);
	cJSON *r = call_ok(c, "ssm", "PutParameter", "{\"Name\":\"/mlsh/test\","
	    "\"Value\":\"v 1\",\"Type\":\"String\"}");

	cJSON_Delete(r);
	r = call_ok(c, "ssm", "GetParameter", "{\"Name\":\"/mlsh/test\"}");
	T_EQ_STR(str_at(r, "Parameter/Value"), "v 1");
	cJSON_Delete(r);
	aws_client_free(c);
}

static void
call_many(void)
{
	struct aws_client *c = client(NULL);
	struct aws_batch_item it[4];

	memset(it, 0, sizeof it);
	it[0].service = "ec2";
	it[0].action = "DescribeVpcs";
	it[1].service = "sts";
	it[1].action = "GetCallerIdentity";
	it[2].service = "ssm";
	it[2].action = "DescribeParameters";
	it[3].service = "ec2";
	it[3].action = "DescribeVpcs";
	it[3].params = cJSON_Parse("{\"VpcId\":[\"vpc-none\"]}");
	T_EQ_INT(aws_call_many(c, it, 4), 1);
	T_OK(it[0].result != NULL && it[0].err.code == NULL);
	T_EQ_STR(str_at(it[1].result, "Account"), "123456789012");
	T_OK(it[2].result != NULL);
	T_EQ_STR(it[3].err.code, "InvalidVpcID.NotFound");
	for (size_t i = 0; i < 4; i++) {
		cJSON_Delete(it[i].result);
		aws_error_release(&it[i].err);
	}
	cJSON_Delete((cJSON *)it[3].params);
	aws_client_free(c);
}

static void
error_unknown_vpc(void)
{
	struct aws_client *c = client(NULL);
	cJSON *p = cJSON_Parse("{\"VpcId\":[\"vpc-123\"]}"), *r = NULL;
	struct aws_error e;
	char *line;

	T_EQ_INT(aws_call(c, "ec2", "DescribeVpcs", p, &r, &e), -1);
	T_OK(r == NULL);
	T_EQ_INT(e.http_status, 400);
	T_EQ_STR(e.code, "InvalidVpcID.NotFound");
	line = aws_error_line(&e);
	/* moto words the message its own way ("VpcID {'vpc-123'} does not
	 * exist."); the line is service: code: message (request id…) */
	T_OK(e.message != NULL && strstr(e.message, "vpc-123") != NULL);
	T_OK(e.request_id != NULL && strlen(e.request_id) > 8);
	if (e.message != NULL && e.request_id != NULL) {
		char *want = xasprintf("ec2: InvalidVpcID.NotFound: %s (request "
		    "%.8s\xe2\x80\xa6)", e.message, e.request_id);
		T_EQ_STR(line, want);
		free(want);
	}
	free(line);
	aws_error_release(&e);
	cJSON_Delete(p);
	aws_client_free(c);
}

static void
error_malformed_parameter(void)
{
	struct aws_client *c = client(NULL);
	cJSON *p = cJSON_Parse("{\"CidrBlock\":\"not-a-cidr\"}"), *r = NULL;
	struct aws_error e;

	T_EQ_INT(aws_call(c, "ec2", "CreateVpc", p, &r, &e), -1);
	T_EQ_INT(e.http_status, 400);
	T_OK(e.code != NULL && strstr(e.code, "Invalid") != NULL);
	aws_error_release(&e);
	cJSON_Delete(p);
	/* caught before sending: a URI label missing, params not an object */
	T_EQ_INT(aws_call(c, "efs", "DeleteFileSystem", NULL, &r, &e), -1);
	T_EQ_STR(e.code, "InvalidParameter");
	T_EQ_INT(e.http_status, 0);
	aws_error_release(&e);
	p = cJSON_CreateArray();
	T_EQ_INT(aws_call(c, "ec2", "DescribeVpcs", p, &r, &e), -1);
	T_EQ_STR(e.code, "InvalidParameter");
	aws_error_release(&e);
	cJSON_Delete(p);
	T_EQ_INT(aws_call(c, "nosuch", "Do", NULL, &r, &e), -1);
	T_EQ_STR(e.code, "UnknownService");
	aws_error_release(&e);
	aws_client_free(c);
}

/* moto accepts any session token, so an expired one cannot be refused here:
 * what is checked is that the token is sent, signed, and never traced. */
static void
session_token_signed_and_redacted(void)
{
	struct trace_log t = { 0 };
	struct aws_client *c;
	cJSON *r;

	env_creds(1);
	buf_init(&t.text);
	c = client(&t);
	r = call_ok(c, "sts", "GetCallerIdentity", NULL);
	T_OK(r != NULL);
	cJSON_Delete(r);
	T_EQ_INT(t.n, 1);
	T_OK(strstr(t.text.data, "x-amz-security-token:<redacted>") != NULL);
	T_OK(strstr(t.text.data, "SignedHeaders=") != NULL);
	T_OK(strstr(t.text.data, "x-amz-security-token") != NULL);
	T_OK(strstr(t.text.data, "Signature=<redacted>") != NULL);
	T_OK(strstr(t.text.data, TEST_TOKEN) == NULL);
	T_OK(strstr(t.text.data, TEST_SECRET) == NULL);
	T_OK(strstr(t.text.data, "POST ") != NULL);
	T_OK(strstr(t.text.data, "status 200") != NULL);
	T_OK(strstr(t.text.data, "attempt 1") != NULL);
	aws_client_free(c);
	buf_release(&t.text);
	env_creds(0);
}

/* The client keeps credentials until 5 minutes before they expire. */
static void
credentials_cache(void)
{
	struct trace_log t = { 0 };
	struct aws_client *c;
	cJSON *r;

	buf_init(&t.text);
	c = client(&t);
	c->have_creds = 1;
	c->creds.access_key = xstrdup("AKIDCACHED");
	c->creds.secret_key = xstrdup("cached-secret-key-0123456789");
	c->creds.source = xstrdup("test");
	c->creds.expires = time(NULL) + 3600;
	r = call_ok(c, "sts", "GetCallerIdentity", NULL);
	cJSON_Delete(r);
	T_OK(strstr(t.text.data, "Credential=AKIDCACHED/") != NULL);
	/* 4 minutes left: resolved again (from the environment) */
	c->creds.expires = time(NULL) + 240;
	buf_reset(&t.text);
	r = call_ok(c, "sts", "GetCallerIdentity", NULL);
	cJSON_Delete(r);
	T_OK(strstr(t.text.data, "Credential=" TEST_KEY "/") != NULL);
	T_EQ_INT(c->creds.expires, 0);
	aws_client_free(c);
	buf_release(&t.text);
}

static void
no_credentials(void)
{
	struct aws_client *c;
	const struct aws_creds *cr;
	struct aws_error e;
	cJSON *r = NULL;

	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	c = client(NULL);
	T_EQ_INT(aws_client_creds(c, &cr, &e), -1);
	T_EQ_STR(e.code, "NoCredentials");
	aws_error_release(&e);
	T_EQ_INT(aws_call(c, "ec2", "DescribeVpcs", NULL, &r, &e), -1);
	T_EQ_STR(e.code, "NoCredentials");
	T_EQ_INT(e.http_status, 0);
	aws_error_release(&e);
	aws_client_free(c);
	env_creds(0);
}

struct polls {
	int n, until;
};

static int
check_polls(void *arg, int *done, char **status, struct aws_error *err)
{
	struct polls *p = arg;

	(void)err;
	p->n++;
	*done = p->until > 0 && p->n >= p->until;
	*status = xasprintf("poll %d", p->n);
	return 0;
}

static void
waiters(void)
{
	struct aws_client *c = client(NULL);
	struct polls p = { 0, 3 };
	struct aws_error e;
	double t0;

	T_EQ_INT(aws_wait(c, check_polls, &p, 10, 40, 5000, NULL, NULL, &e), 0);
	T_EQ_INT(p.n, 3);
	p.n = 0;
	p.until = 0;
	t0 = now_ms();
	T_EQ_INT(aws_wait(c, check_polls, &p, 20, 100, 300, NULL, NULL, &e), -1);
	T_EQ_STR(e.code, "Timeout");
	T_OK(now_ms() - t0 < 600);
	aws_error_release(&e);
	aws_client_free(c);
}

static struct aws_client *
client_in_netns(int fd)
{
	struct aws_options o;

	memset(&o, 0, sizeof o);
	o.endpoint_url = moto_url;
	o.region = "us-east-1";
	o.netns_fd = fd;
	o.max_attempts = 1;
	o.timeout_ms = 3000;
	return aws_client_new(&o);
}

/* Sockets opened through setns: in our own namespace the call works; in a
 * fresh one (only a downed loopback, nothing added to the host) moto cannot
 * be reached. The second half needs CAP_SYS_ADMIN: without, the case counts
 * as skipped (the first half's checks still fail it if they fail). */
static void
network_namespace(void)
{
	struct aws_client *c;
	struct aws_error e;
	cJSON *r = NULL;
	int fd, pfd[2], nsfd;
	pid_t pid;
	char path[64], ok;

	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	T_OK(fd >= 0);
	c = client_in_netns(fd);
	r = call_ok(c, "sts", "GetCallerIdentity", NULL);
	T_EQ_STR(str_at(r, "Account"), "123456789012");
	cJSON_Delete(r);
	aws_client_free(c);
	close(fd);

	if (pipe(pfd) != 0)
		return;
	pid = fork();
	if (pid == 0) {
		ok = unshare(CLONE_NEWNET) == 0 ? 'y' : 'n';
		(void)!write(pfd[1], &ok, 1);
		pause();
		_exit(0);
	}
	close(pfd[1]);
	if (pid < 0 || read(pfd[0], &ok, 1) != 1 || ok != 'y') {
		T_SKIP("the fresh-namespace half needs CAP_SYS_ADMIN "
		    "(unshare CLONE_NEWNET)");
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		close(pfd[0]);
		return;
	}
	close(pfd[0]);
	snprintf(path, sizeof path, "/proc/%d/ns/net", (int)pid);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	T_OK(nsfd >= 0);
	c = client_in_netns(nsfd);
	T_EQ_INT(aws_call(c, "sts", "GetCallerIdentity", NULL, &r, &e), -1);
	T_EQ_STR(e.code, "ConnectionError");
	T_EQ_INT(e.http_status, 0);
	aws_error_release(&e);
	aws_client_free(c);
	close(nsfd);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* and this thread is back in its own namespace */
	c = client(NULL);
	r = call_ok(c, "sts", "GetCallerIdentity", NULL);
	T_OK(r != NULL);
	cJSON_Delete(r);
	aws_client_free(c);
}

static int
always(void *arg)
{
	(*(int *)arg)++;
	return 1;
}

static void
interrupted_call(void)
{
	struct aws_options o;
	struct aws_client *c;
	struct aws_error e;
	cJSON *r = NULL;
	int polls = 0;

	memset(&o, 0, sizeof o);
	o.endpoint_url = moto_url;
	o.netns_fd = -1;
	o.interrupted = always;
	o.interrupted_arg = &polls;
	c = aws_client_new(&o);
	T_EQ_INT(aws_call(c, "sts", "GetCallerIdentity", NULL, &r, &e), -1);
	T_EQ_STR(e.code, "Interrupted");
	T_OK(polls >= 1);
	aws_error_release(&e);
	aws_client_free(c);
}

/* Not a pass/fail check: how much the kept connection saves (reported). */
static void
keepalive_timing(void)
{
	struct aws_client *c = client(NULL), *f;
	double t0, kept, fresh;
	cJSON *r;
	int i, n = 20;

	r = call_ok(c, "sts", "GetCallerIdentity", NULL);
	cJSON_Delete(r);
	t0 = now_ms();
	for (i = 0; i < n; i++) {
		r = call_ok(c, "sts", "GetCallerIdentity", NULL);
		cJSON_Delete(r);
	}
	kept = (now_ms() - t0) / n;
	t0 = now_ms();
	for (i = 0; i < n; i++) {
		f = client(NULL);
		r = call_ok(f, "sts", "GetCallerIdentity", NULL);
		cJSON_Delete(r);
		aws_client_free(f);
	}
	fresh = (now_ms() - t0) / n;
	fprintf(stderr, "# per call: kept-alive %.2f ms, fresh client %.2f ms\n",
	    kept, fresh);
	aws_client_free(c);
}

/*
 * Driver mode, for the scripts in tests/aws (no other C driver needed):
 *   test_aws_moto call [opts] SERVICE ACTION [JSON]
 *	prints the result as JSON, or the error line on stderr (exit 1)
 *   test_aws_moto wait [opts] SERVICE ACTION JSON PATH VALUE TIMEOUT_MS
 *	polls until PATH of the result is VALUE (exit 0), else the error line
 *   test_aws_moto many [opts] SERVICE ACTION JSON [SERVICE ACTION JSON]...
 *	one aws_call_many; per item a line "ok" or its error line; exit 1
 *	when any failed
 * opts: --endpoint URL --timeout-ms N --attempts N --trace
 *       --repeat N   make the call N times (one client, kept connections)
 *       --fresh      with --repeat: a new client for every call
 * With --repeat, "# N calls: X ms per call" goes to stderr.
 */
struct wait_arg {
	struct aws_client *c;
	const char *service, *action, *path, *value;
	cJSON *params;
};

static int
check_path(void *arg, int *done, char **status, struct aws_error *err)
{
	struct wait_arg *w = arg;
	cJSON *r = NULL;
	const char *v;

	if (aws_call(w->c, w->service, w->action, w->params, &r, err) != 0)
		return -1;
	v = str_at(r, w->path);
	*done = v != NULL && strcmp(v, w->value) == 0;
	*status = xstrdup(v ? v : "(none)");
	cJSON_Delete(r);
	return 0;
}

static void
trace_stderr(void *arg, const char *text)
{
	(void)arg;
	fprintf(stderr, "%s", text);
}

static int
driver_many(struct aws_client *c, int argc, char **argv)
{
	struct aws_batch_item *it;
	size_t n = (size_t)argc / 3, k;
	int failed;
	char *line;

	it = xcalloc(n ? n : 1, sizeof *it);
	for (k = 0; k < n; k++) {
		it[k].service = argv[3 * k];
		it[k].action = argv[3 * k + 1];
		it[k].params = cJSON_Parse(argv[3 * k + 2]);
	}
	failed = aws_call_many(c, it, n);
	for (k = 0; k < n; k++) {
		if (it[k].err.code == NULL) {
			printf("ok\n");
		} else {
			line = aws_error_line(&it[k].err);
			printf("%s\n", line);
			free(line);
		}
		cJSON_Delete(it[k].result);
		aws_error_release(&it[k].err);
		cJSON_Delete((cJSON *)it[k].params);
	}
	free(it);
	return failed ? 1 : 0;
}

static int
driver(int argc, char **argv)
{
	struct aws_options o;
	struct aws_client *c;
	struct aws_error e;
	struct wait_arg w;
	cJSON *p = NULL, *r = NULL;
	char *line, *s;
	int i = 2, rc, repeat = 1, fresh = 0, k;
	const char *mode = argv[1];
	double t0;

	memset(&o, 0, sizeof o);
	o.netns_fd = -1;
	for (; i + 1 < argc && str_startswith(argv[i], "--"); i++) {
		if (strcmp(argv[i], "--trace") == 0) {
			o.trace = trace_stderr;
			continue;
		}
		if (strcmp(argv[i], "--fresh") == 0) {
			fresh = 1;
			continue;
		}
		if (strcmp(argv[i], "--repeat") == 0) {
			repeat = atoi(argv[++i]);
			continue;
		}
		if (strcmp(argv[i], "--endpoint") == 0)
			o.endpoint_url = argv[++i];
		else if (strcmp(argv[i], "--timeout-ms") == 0)
			o.timeout_ms = atol(argv[++i]);
		else if (strcmp(argv[i], "--attempts") == 0)
			o.max_attempts = atoi(argv[++i]);
	}
	if (argc - i < 2 || (strcmp(mode, "wait") == 0 && argc - i < 6)) {
		fprintf(stderr, "usage: %s call|wait [opts] SERVICE ACTION [JSON] "
		    "[PATH VALUE TIMEOUT_MS]\n", argv[0]);
		return 2;
	}
	if (argc - i > 2 && (p = cJSON_Parse(argv[i + 2])) == NULL) {
		fprintf(stderr, "bad JSON: %s\n", argv[i + 2]);
		return 2;
	}
	c = aws_client_new(&o);
	if (strcmp(mode, "many") == 0) {
		rc = driver_many(c, argc - i, argv + i);
		cJSON_Delete(p);
		aws_client_free(c);
		return rc;
	}
	if (strcmp(mode, "wait") == 0) {
		w.c = c;
		w.service = argv[i];
		w.action = argv[i + 1];
		w.params = p;
		w.path = argv[i + 3];
		w.value = argv[i + 4];
		rc = aws_wait(c, check_path, &w, 100, 1000, atol(argv[i + 5]),
		    NULL, NULL, &e);
	} else {
		t0 = now_ms();
		for (rc = 0, k = 0; rc == 0 && k < repeat; k++) {
			if (fresh && k > 0) {
				aws_client_free(c);
				c = aws_client_new(&o);
			}
			cJSON_Delete(r);
			r = NULL;
			rc = aws_call(c, argv[i], argv[i + 1], p, &r, &e);
		}
		if (repeat > 1)
			fprintf(stderr, "# %d calls: %.2f ms per call\n", k,
			    (now_ms() - t0) / k);
	}
	if (rc != 0) {
		line = aws_error_line(&e);
		fprintf(stderr, "%s\n", line);
		free(line);
		aws_error_release(&e);
	} else if (r != NULL) {
		s = cJSON_PrintUnformatted(r);
		printf("%s\n", s);
		cJSON_free(s);
	}
	cJSON_Delete(r);
	cJSON_Delete(p);
	aws_client_free(c);
	return rc == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	int fd;

	if (argc > 1 && (strcmp(argv[1], "call") == 0 ||
	    strcmp(argv[1], "wait") == 0 || strcmp(argv[1], "many") == 0))
		return driver(argc, argv);

	moto_url = getenv("MOTO_URL");
	if (moto_url == NULL || *moto_url == '\0') {
		fprintf(stderr, "MOTO_URL is not set: tests/run starts moto "
		    "and exports it\n");
		t_case = "moto";
		t_failed = 1;
		T_DONE();
	}
	fd = mkstemp(empty_file);
	if (fd >= 0)
		close(fd);
	setenv("AWS_SHARED_CREDENTIALS_FILE", empty_file, 1);
	setenv("AWS_CONFIG_FILE", empty_file, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	setenv("AWS_REGION", "us-east-1", 1);
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_ENDPOINT_URL");
	env_creds(0);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (moto_reset() != 0) {
		fprintf(stderr, "moto does not answer at %s\n", moto_url);
		t_case = "moto";
		t_failed = 1;
		T_DONE();
	}

	T_RUN(ec2_vpcs_filter_and_paginate);
	T_RUN(iam_create_role);
	T_RUN(sts_caller_identity);
	T_RUN(cloudwatch_metrics);
	T_RUN(sagemaker_notebook);
	T_RUN(efs_filesystem);
	T_RUN(ssm_parameter);
	T_RUN(call_many);
	T_RUN(error_unknown_vpc);
	T_RUN(error_malformed_parameter);
	T_RUN(session_token_signed_and_redacted);
	T_RUN(credentials_cache);
	T_RUN(no_credentials);
	T_RUN(waiters);
	T_RUN(network_namespace);
	T_RUN(interrupted_call);
	T_RUN(keepalive_timing);
	unlink(empty_file);
	T_DONE();
}
