/* aws.c: the AWS client: calls with retries (SDK standard mode),
 * idempotency tokens, batches over curl multi, pagination and waiters. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "aws/creds.h"
#include "aws/internal.h"

#define AWS_DEFAULT_ATTEMPTS	3
#define AWS_DEFAULT_TIMEOUT_MS	30000L
#define AWS_BACKOFF_BASE_MS	100.0
#define AWS_BACKOFF_CAP_MS	20000.0
#define AWS_CREDS_MARGIN_S	300

/* One call across its attempts. */
struct aws_job {
	const struct aws_service *svc;
	const char *service;
	const char *action;
	const cJSON *params;		/* effective: the caller's or owned */
	cJSON *owned;			/* copy with a generated token */
	const struct aws_creds *creds;	/* explicit, or NULL for the client's */
	int attempt;
	int done;
	int retry;
	struct aws_attempt at;
	cJSON *result;
	struct aws_error err;
};

static int run_jobs(struct aws_client *, struct aws_job *, size_t n);
static int job_init(struct aws_client *, struct aws_job *, const char *service,
    const char *action, const cJSON *params, const struct aws_creds *);
static void job_release(struct aws_job *);
static int backoff_sleep(struct aws_client *, double ms);
static double rand01(struct aws_client *);
static void adopt_existing(struct aws_client *, struct aws_job *);
static int wait_loop(struct aws_client *, aws_wait_check, void *, long, long,
    long, aws_wait_progress, void *, struct aws_error *);

/* --- errors and credentials --- */

void
aws_error_set(struct aws_error *err, long status, const char *service,
    const char *code, const char *message, const char *request_id)
{
	aws_error_release(err);
	err->http_status = status;
	err->service = service ? xstrdup(service) : NULL;
	/* Code, message and request id come from the server and end up on
	 * the terminal (and in Lua error strings): sanitised here, once. */
	err->code = str_sanitize(code ? code : "Unknown", 0);
	err->message = message ? str_sanitize(message, 0) : NULL;
	err->request_id = request_id && *request_id ?
	    str_sanitize(request_id, 0) : NULL;
}

void
aws_error_release(struct aws_error *err)
{
	if (err == NULL)
		return;
	free(err->service);
	free(err->code);
	free(err->message);
	free(err->request_id);
	memset(err, 0, sizeof *err);
}

char *
aws_error_line(const struct aws_error *err)
{
	struct buf b;

	buf_init(&b);
	if (err->service != NULL)
		buf_printf(&b, "%s: ", err->service);
	buf_adds(&b, err->code ? err->code : "Unknown");
	if (err->message != NULL && err->message[0] != '\0')
		buf_printf(&b, ": %s", err->message);
	if (err->request_id != NULL && err->request_id[0] != '\0') {
		if (strlen(err->request_id) > 8) {
			/* Cut at a character boundary: never half a UTF-8
			 * sequence on the terminal. */
			int n = 8;

			while (n > 0 && ((unsigned char)err->request_id[n] &
			    0xc0) == 0x80)
				n--;
			buf_printf(&b, " (request %.*s\xe2\x80\xa6)", n,
			    err->request_id);
		} else
			buf_printf(&b, " (request %s)", err->request_id);
	}
	return buf_detach_release(&b);
}

static const char *const retry_codes[] = {
	/* throttling */
	"Throttling", "ThrottlingException", "ThrottledException",
	"RequestThrottledException", "TooManyRequestsException",
	"ProvisionedThroughputExceededException",
	"TransactionInProgressException", "RequestLimitExceeded",
	"BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
	"SlowDown", "PriorRequestNotComplete", "EC2ThrottledException",
	/* transient */
	"RequestTimeout", "RequestTimeoutException", "InternalError",
	/* no answer (http.c) */
	"ConnectionError",
	NULL,
};

int
aws_error_retryable(const struct aws_error *err)
{
	size_t i;

	if (err->code != NULL && strcmp(err->code, "Interrupted") == 0)
		return 0;
	switch (err->http_status) {
	case 500: case 502: case 503: case 504:
		return 1;
	}
	for (i = 0; err->code != NULL && retry_codes[i] != NULL; i++) {
		if (strcmp(err->code, retry_codes[i]) == 0)
			return 1;
	}
	return 0;
}

void
aws_creds_release(struct aws_creds *c)
{
	if (c == NULL)
		return;
	if (c->secret_key != NULL)
		explicit_bzero(c->secret_key, strlen(c->secret_key));
	if (c->session_token != NULL)
		explicit_bzero(c->session_token, strlen(c->session_token));
	free(c->access_key);
	free(c->secret_key);
	free(c->session_token);
	free(c->source);
	memset(c, 0, sizeof *c);
}

/* --- the client --- */

struct aws_client *
aws_client_new(const struct aws_options *opt)
{
	struct aws_client *c = xcalloc(1, sizeof *c);
	char *cause = NULL;
	unsigned long long seed;

	if (opt != NULL)
		c->opt = *opt;
	else
		c->opt.netns_fd = -1;
	c->max_attempts = c->opt.max_attempts > 0 ? c->opt.max_attempts :
	    AWS_DEFAULT_ATTEMPTS;
	c->timeout_ms = c->opt.timeout_ms > 0 ? c->opt.timeout_ms :
	    AWS_DEFAULT_TIMEOUT_MS;
	c->max_body = c->opt.max_body;
	if (c->max_body == 0) {
		const char *e = getenv("MLSH_MAX_BODY");
		long long n;

		c->max_body = AWS_DEFAULT_MAX_BODY;
		if (e != NULL && *e != '\0') {
			if ((n = aws_parse_size(e)) > 0)
				c->max_body = (size_t)n;
			else
				c->config_error = xasprintf("MLSH_MAX_BODY must "
				    "be a size such as 64M or 1G, not '%s'", e);
		}
	}
	c->region = aws_region_resolve(c->opt.region, c->opt.profile);
	if (c->region == NULL || c->region[0] == '\0') {
		free(c->region);
		c->region = xstrdup("us-east-1");
	}
	if (!aws_region_ok(c->region) && c->config_error == NULL) {
		const char *from = c->opt.region != NULL && *c->opt.region ?
		    "--region" : getenv("AWS_REGION") && *getenv("AWS_REGION") ?
		    "AWS_REGION" : getenv("AWS_DEFAULT_REGION") &&
		    *getenv("AWS_DEFAULT_REGION") ? "AWS_DEFAULT_REGION" :
		    "the profile's region";
		char *r = str_sanitize(c->region, 0);

		c->config_error = xasprintf("%s '%s' is not a region name (like "
		    "us-east-1)", from, r);
		free(r);
	}
	if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
		seed = (unsigned long long)time(NULL) ^
		    ((unsigned long long)getpid() << 32);
	c->rng = seed | 1;
	if (aws_http_client_init(c, &cause) != 0) {
		/* Calls will fail with the cause; the client stays usable. */
		free(cause);
	}
	return c;
}

void
aws_client_free(struct aws_client *c)
{
	if (c == NULL)
		return;
	aws_http_client_release(c);
	aws_creds_release(&c->creds);
	free(c->region);
	free(c->config_error);
	free(c);
}

int
aws_region_ok(const char *r)
{
	const char *p = r;
	int groups = 0;

	if (r == NULL || strlen(r) > 32)
		return 0;
	/* xx */
	if (!(p[0] >= 'a' && p[0] <= 'z' && p[1] >= 'a' && p[1] <= 'z'))
		return 0;
	p += 2;
	/* (-[a-z]+)+ */
	while (p[0] == '-' && p[1] >= 'a' && p[1] <= 'z') {
		for (p++; *p >= 'a' && *p <= 'z'; p++)
			;
		groups++;
	}
	/* -[0-9]+$ */
	if (groups == 0 || p[0] != '-' || !(p[1] >= '0' && p[1] <= '9'))
		return 0;
	for (p++; *p >= '0' && *p <= '9'; p++)
		;
	return *p == '\0';
}

long long
aws_parse_size(const char *s)
{
	char *end;
	long long n, mul = 1;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || n <= 0)
		return -1;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mul = 1LL << 10; end++; break;
	case 'm': case 'M': mul = 1LL << 20; end++; break;
	case 'g': case 'G': mul = 1LL << 30; end++; break;
	default: return -1;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0' || n > LLONG_MAX / mul)
		return -1;
	return n * mul;
}

const char *
aws_client_region(struct aws_client *c)
{
	return c->region;
}

int
aws_client_creds(struct aws_client *c, const struct aws_creds **out,
    struct aws_error *err)
{
	time_t now = time(NULL);

	if (c->have_creds && (c->creds.expires == 0 ||
	    c->creds.expires - AWS_CREDS_MARGIN_S > now)) {
		*out = &c->creds;
		return 0;
	}
	aws_creds_release(&c->creds);
	c->have_creds = 0;
	memset(err, 0, sizeof *err);
	if (aws_creds_resolve(c, c->opt.profile, &c->creds, err) != 0) {
		if (err->code == NULL)
			err->code = xstrdup("NoCredentials");
		return -1;
	}
	c->have_creds = 1;
	*out = &c->creds;
	return 0;
}

/* --- calls --- */

int
aws_call(struct aws_client *c, const char *service, const char *action,
    const cJSON *params, cJSON **result, struct aws_error *err)
{
	return aws_call_with_creds(c, NULL, service, action, params, result,
	    err);
}

int
aws_call_with_creds(struct aws_client *c, const struct aws_creds *creds,
    const char *service, const char *action, const cJSON *params,
    cJSON **result, struct aws_error *err)
{
	struct aws_job job;
	int rc;

	*result = NULL;
	memset(err, 0, sizeof *err);
	if (job_init(c, &job, service, action, params, creds) != 0) {
		*err = job.err;
		return -1;
	}
	run_jobs(c, &job, 1);
	if (job.err.code != NULL && job.attempt > 1)
		adopt_existing(c, &job);
	rc = job.err.code != NULL ? -1 : 0;
	*result = job.result;
	*err = job.err;
	job.result = NULL;
	memset(&job.err, 0, sizeof job.err);
	job_release(&job);
	return rc;
}

int
aws_call_many(struct aws_client *c, struct aws_batch_item *items, size_t n)
{
	struct aws_job *jobs = xcalloc(n ? n : 1, sizeof *jobs);
	size_t i, nj = 0, *map = xcalloc(n ? n : 1, sizeof *map);
	int failed = 0;

	for (i = 0; i < n; i++) {
		items[i].result = NULL;
		memset(&items[i].err, 0, sizeof items[i].err);
		if (job_init(c, &jobs[nj], items[i].service, items[i].action,
		    items[i].params, NULL) != 0) {
			items[i].err = jobs[nj].err;
			memset(&jobs[nj], 0, sizeof jobs[nj]);
			continue;
		}
		map[nj++] = i;
	}
	if (nj > 0)
		run_jobs(c, jobs, nj);
	for (i = 0; i < nj; i++) {
		items[map[i]].result = jobs[i].result;
		items[map[i]].err = jobs[i].err;
		jobs[i].result = NULL;
		memset(&jobs[i].err, 0, sizeof jobs[i].err);
		job_release(&jobs[i]);
	}
	for (i = 0; i < n; i++) {
		if (items[i].err.code != NULL)
			failed++;
	}
	free(jobs);
	free(map);
	return failed;
}

/* EFS answers a second CreateFileSystem with the same CreationToken with
 * FileSystemAlreadyExists instead of the file system. When that happens on
 * a retry, the first attempt made it: the call succeeds with that file
 * system, found by its token, so a lost answer never looks like a failure. */
static void
adopt_existing(struct aws_client *c, struct aws_job *job)
{
	const cJSON *tok;
	cJSON *p, *r = NULL, *list;
	struct aws_error e;

	if (strcmp(job->svc->name, "efs") != 0 ||
	    strcmp(job->action, "CreateFileSystem") != 0 ||
	    strcmp(job->err.code, "FileSystemAlreadyExists") != 0)
		return;
	tok = cJSON_GetObjectItemCaseSensitive(job->params, "CreationToken");
	if (!cJSON_IsString(tok))
		return;
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "CreationToken", tok->valuestring);
	if (aws_call_with_creds(c, job->creds, "efs", "DescribeFileSystems", p,
	    &r, &e) == 0) {
		list = cJSON_GetObjectItemCaseSensitive(r, "FileSystems");
		if (cJSON_GetArraySize(list) == 1) {
			job->result = cJSON_DetachItemFromArray(list, 0);
			aws_error_release(&job->err);
		}
	}
	aws_error_release(&e);
	cJSON_Delete(r);
	cJSON_Delete(p);
}

/* A random UUID (version 4) for idempotency tokens. */
static char *
new_token(struct aws_client *c)
{
	unsigned char r[16];
	size_t i;

	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
		for (i = 0; i < sizeof r; i++)
			r[i] = (unsigned char)(rand01(c) * 256.0);
	}
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	return xasprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5],
	    r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
}

static int
job_init(struct aws_client *c, struct aws_job *job, const char *service,
    const char *action, const cJSON *params, const struct aws_creds *creds)
{
	const char *member;
	const cJSON *have;
	char *tok;

	memset(job, 0, sizeof *job);
	job->service = service;
	job->action = action;
	job->params = params;
	job->creds = creds;
	job->svc = aws_service_find(service);
	if (job->svc == NULL) {
		char *msg = xasprintf("unknown service \"%s\"",
		    service ? service : "");
		aws_error_set(&job->err, 0, service, "UnknownService", msg, NULL);
		free(msg);
		return -1;
	}
	if (action == NULL || *action == '\0') {
		aws_error_set(&job->err, 0, service, "InvalidAction",
		    "no action given", NULL);
		return -1;
	}
	if (params != NULL && !cJSON_IsObject(params)) {
		aws_error_set(&job->err, 0, service, "InvalidParameter",
		    "parameters must be an object", NULL);
		return -1;
	}
	/* Once per call, so every retry carries the same token. */
	member = aws_idem_member(job->svc, action);
	if (member != NULL) {
		have = params ? cJSON_GetObjectItemCaseSensitive(params, member) :
		    NULL;
		if (have == NULL || cJSON_IsNull(have) ||
		    (cJSON_IsString(have) && have->valuestring[0] == '\0')) {
			job->owned = params ? cJSON_Duplicate(params, 1) :
			    cJSON_CreateObject();
			cJSON_DeleteItemFromObjectCaseSensitive(job->owned, member);
			tok = new_token(c);
			cJSON_AddStringToObject(job->owned, member, tok);
			free(tok);
			job->params = job->owned;
		}
	}
	job->at.client = c;
	job->at.svc = job->svc;
	job->at.action = action;
	aws_request_init(&job->at.req);
	aws_response_init(&job->at.resp);
	return 0;
}

static void
job_release(struct aws_job *job)
{
	aws_attempt_release(&job->at);
	aws_request_release(&job->at.req);
	aws_response_release(&job->at.resp);
	cJSON_Delete(job->owned);
	cJSON_Delete(job->result);
	aws_error_release(&job->err);
	memset(job, 0, sizeof *job);
}

/* Credentials, request and signed handle for the next attempt. */
static int
job_prepare(struct aws_client *c, struct aws_job *job, int own_easy)
{
	char *cause = NULL;

	job->attempt++;
	aws_error_release(&job->err);
	if (c->config_error != NULL) {
		aws_error_set(&job->err, 0, job->svc->name, "InvalidConfig",
		    c->config_error, NULL);
		return -1;
	}
	if (job->creds != NULL) {
		job->at.creds = job->creds;
	} else if (aws_client_creds(c, &job->at.creds, &job->err) != 0) {
		if (job->err.service == NULL)
			job->err.service = xstrdup(job->svc->name);
		return -1;
	}
	aws_request_release(&job->at.req);
	aws_request_init(&job->at.req);
	if (aws_proto_build(job->svc, job->action, job->params, &job->at.req,
	    &cause) != 0) {
		aws_error_set(&job->err, 0, job->svc->name, "InvalidParameter",
		    cause, NULL);
		free(cause);
		return -1;
	}
	job->at.attempt = job->attempt;
	if (c->share == NULL) {
		aws_error_set(&job->err, 0, job->svc->name, "NetworkError",
		    "libcurl is not initialised", NULL);
		return -1;
	}
	return aws_attempt_prepare(&job->at, own_easy, &job->err);
}

/* After a transfer: the result, or an error, retried or final. */
static void
job_finish(struct aws_client *c, struct aws_job *job, CURLcode rc)
{
	if (aws_attempt_finish(&job->at, rc, &job->err) == 0) {
		if (aws_proto_parse(job->svc, job->action, &job->at.resp,
		    &job->result, &job->err) == 0) {
			aws_error_release(&job->err);
			job->done = 1;
		}
	}
	aws_attempt_release(&job->at);
	job->retry = 0;
	if (job->done)
		return;
	if (aws_error_retryable(&job->err) && job->attempt < c->max_attempts)
		job->retry = 1;
	else
		job->done = 1;
}

static int
interrupted(struct aws_client *c)
{
	return c->opt.interrupted != NULL &&
	    c->opt.interrupted(c->opt.interrupted_arg);
}

/* One job goes over its endpoint's kept handle; several over curl multi with
 * handles of their own that share the client's connection cache. Rounds
 * repeat for the jobs that should be retried, after one backoff. */
static int
run_jobs(struct aws_client *c, struct aws_job *jobs, size_t n)
{
	CURLM *multi = NULL;
	CURLMsg *msg;
	size_t i, active;
	int running, left, round = 0, any_retry;
	double cap, delay;

	for (i = 0; i < n; i++)
		jobs[i].retry = 1;
	for (;;) {
		active = 0;
		for (i = 0; i < n; i++) {
			if (!jobs[i].retry)
				continue;
			if (job_prepare(c, &jobs[i], n > 1) != 0) {
				aws_attempt_release(&jobs[i].at);
				jobs[i].retry = 0;
				jobs[i].done = 1;
				continue;
			}
			active++;
		}
		if (n == 1 && active == 1) {
			CURLcode rc = curl_easy_perform(jobs[0].at.easy);

			job_finish(c, &jobs[0], rc);
		} else if (active > 0) {
			if (multi == NULL)
				multi = curl_multi_init();
			for (i = 0; i < n; i++) {
				if (jobs[i].retry && jobs[i].at.easy != NULL)
					curl_multi_add_handle(multi, jobs[i].at.easy);
			}
			do {
				curl_multi_perform(multi, &running);
				while ((msg = curl_multi_info_read(multi,
				    &left)) != NULL) {
					struct aws_attempt *at = NULL;

					if (msg->msg != CURLMSG_DONE)
						continue;
					curl_easy_getinfo(msg->easy_handle,
					    CURLINFO_PRIVATE, (char **)&at);
					curl_multi_remove_handle(multi,
					    msg->easy_handle);
					for (i = 0; i < n; i++) {
						if (&jobs[i].at == at)
							job_finish(c, &jobs[i],
							    msg->data.result);
					}
				}
				if (running > 0)
					curl_multi_poll(multi, NULL, 0, 100, NULL);
			} while (running > 0);
		}
		any_retry = 0;
		for (i = 0; i < n; i++) {
			if (jobs[i].retry)
				any_retry = 1;
		}
		if (!any_retry)
			break;
		/* Full jitter: uniform in [0, min(cap, base * 2^round)]. */
		cap = AWS_BACKOFF_BASE_MS * pow(2.0, round);
		if (cap > AWS_BACKOFF_CAP_MS)
			cap = AWS_BACKOFF_CAP_MS;
		delay = rand01(c) * cap;
		round++;
		if (c->deadline > 0 && now_ms() + delay >= c->deadline) {
			/* A waiter's deadline: the last error stands. */
			for (i = 0; i < n; i++) {
				if (jobs[i].retry) {
					jobs[i].retry = 0;
					jobs[i].done = 1;
				}
			}
			break;
		}
		if (backoff_sleep(c, delay) != 0) {
			for (i = 0; i < n; i++) {
				if (!jobs[i].retry)
					continue;
				jobs[i].retry = 0;
				jobs[i].done = 1;
				aws_error_set(&jobs[i].err, 0, jobs[i].svc->name,
				    "Interrupted", "interrupted between retries",
				    NULL);
			}
			break;
		}
	}
	if (multi != NULL)
		curl_multi_cleanup(multi);
	return 0;
}

/* Sleeps ms, polling the interrupted hook; -1 when it fired. */
static int
backoff_sleep(struct aws_client *c, double ms)
{
	double end = now_ms() + ms, left;
	struct timespec ts;

	for (;;) {
		if (interrupted(c))
			return -1;
		left = end - now_ms();
		if (left <= 0)
			return 0;
		if (left > 20)
			left = 20;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(left * 1e6);
		nanosleep(&ts, NULL);
	}
}

int
aws_sleep(struct aws_client *c, long ms)
{
	return backoff_sleep(c, (double)ms);
}

/* xorshift64*: jitter only, never secrets. */
static double
rand01(struct aws_client *c)
{
	unsigned long long x = c->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	c->rng = x;
	return (double)((x * 2685821657736338717ULL) >> 11) /
	    9007199254740992.0;
}

/* --- pagination --- */

/* The list under key: exactly, any case, EC2's "vpcSet" for "Vpcs", else the
 * only array of the page. */
static cJSON *
find_list(cJSON *page, const char *key)
{
	cJSON *v, *only = NULL;
	char *alt;
	size_t n;
	int arrays = 0;

	v = cJSON_GetObjectItemCaseSensitive(page, key);
	if (v != NULL)
		return v;
	v = cJSON_GetObjectItem(page, key);
	if (v != NULL)
		return v;
	n = strlen(key);
	if (n > 1) {
		alt = xasprintf("%.*sSet", (int)(key[n - 1] == 's' ? n - 1 : n),
		    key);
		v = cJSON_GetObjectItem(page, alt);
		free(alt);
		if (v != NULL)
			return v;
	}
	cJSON_ArrayForEach(v, page) {
		if (cJSON_IsArray(v)) {
			arrays++;
			only = v;
		}
	}
	return arrays == 1 ? only : NULL;
}

int
aws_paginate(struct aws_client *c, const char *service, const char *action,
    const cJSON *params, const char *result_key, int max_pages, cJSON **items,
    struct aws_error *err)
{
	const struct aws_service *svc = aws_service_find(service);
	static const char *const out_keys[] = {
		"NextToken", "nextToken", "NextMarker", "Marker", NULL,
	};
	cJSON *p, *page = NULL, *list, *e, *tok;
	const cJSON *trunc;
	char *prev = NULL;
	const char *in_key = NULL;
	int pages, i;

	*items = NULL;
	memset(err, 0, sizeof *err);
	if (max_pages <= 0)
		max_pages = 100;
	p = params != NULL ? cJSON_Duplicate(params, 1) : cJSON_CreateObject();
	*items = cJSON_CreateArray();
	for (pages = 0; pages < max_pages; pages++) {
		if (aws_call(c, service, action, p, &page, err) != 0) {
			cJSON_Delete(*items);
			*items = NULL;
			cJSON_Delete(p);
			free(prev);
			return -1;
		}
		list = find_list(page, result_key);
		if (cJSON_IsArray(list)) {
			while ((e = list->child) != NULL)
				cJSON_AddItemToArray(*items,
				    cJSON_DetachItemViaPointer(list, e));
		} else if (cJSON_IsObject(list)) {
			cJSON_AddItemToArray(*items,
			    cJSON_DetachItemViaPointer(page, list));
		}
		tok = NULL;
		for (i = 0; out_keys[i] != NULL; i++) {
			tok = cJSON_GetObjectItemCaseSensitive(page, out_keys[i]);
			if (!cJSON_IsString(tok) || tok->valuestring[0] == '\0') {
				tok = NULL;
				continue;
			}
			if (strcmp(out_keys[i], "Marker") == 0) {
				/* IAM: a Marker means more only with IsTruncated. */
				trunc = cJSON_GetObjectItemCaseSensitive(page,
				    "IsTruncated");
				if (!(cJSON_IsTrue(trunc) || (cJSON_IsString(trunc) &&
				    strcmp(trunc->valuestring, "true") == 0))) {
					tok = NULL;
					continue;
				}
			}
			if (i == 0 || i == 1)
				in_key = (i == 1 && svc != NULL &&
				    svc->protocol != AWS_PROTO_EC2) ?
				    "nextToken" : "NextToken";
			else
				in_key = "Marker";
			break;
		}
		if (tok == NULL || (prev != NULL &&
		    strcmp(prev, tok->valuestring) == 0)) {
			cJSON_Delete(page);
			page = NULL;
			break;
		}
		free(prev);
		prev = xstrdup(tok->valuestring);
		cJSON_DeleteItemFromObjectCaseSensitive(p, in_key);
		cJSON_AddStringToObject(p, in_key, prev);
		cJSON_Delete(page);
		page = NULL;
	}
	cJSON_Delete(p);
	free(prev);
	if (pages == max_pages) {
		/* The last page still had a token: a partial list would pass
		 * for the whole one (a status missing resources, a quota count
		 * too low), so the limit is an error. */
		char *msg = xasprintf("%s: more than %d page%s (mlsh's page "
		    "limit); stopped rather than return an incomplete list",
		    action, max_pages, max_pages == 1 ? "" : "s");
		aws_error_set(err, 0, svc != NULL ? svc->name : service,
		    "PageLimitExceeded", msg, NULL);
		free(msg);
		cJSON_Delete(*items);
		*items = NULL;
		return -1;
	}
	return 0;
}

/* --- waiters --- */

int
aws_wait(struct aws_client *c, aws_wait_check check, void *arg,
    long initial_ms, long max_ms, long timeout_ms,
    aws_wait_progress progress, void *progress_arg, struct aws_error *err)
{
	double saved = c->deadline;
	int rc;

	/* Calls made by check() end by the deadline too (http.c, run_jobs). */
	if (timeout_ms > 0) {
		double d = now_ms() + (double)timeout_ms;

		if (c->deadline == 0 || d < c->deadline)
			c->deadline = d;
	}
	rc = wait_loop(c, check, arg, initial_ms, max_ms, timeout_ms, progress,
	    progress_arg, err);
	c->deadline = saved;
	return rc;
}

static int
wait_loop(struct aws_client *c, aws_wait_check check, void *arg,
    long initial_ms, long max_ms, long timeout_ms,
    aws_wait_progress progress, void *progress_arg, struct aws_error *err)
{
	double t0 = now_ms(), elapsed, delay, left;
	char *status, *msg, *line;
	int done;

	memset(err, 0, sizeof *err);
	if (initial_ms <= 0)
		initial_ms = 1000;
	if (max_ms < initial_ms)
		max_ms = initial_ms;
	delay = (double)initial_ms;
	for (;;) {
		done = 0;
		status = NULL;
		if (check(arg, &done, &status, err) != 0) {
			free(status);
			elapsed = now_ms() - t0;
			if (timeout_ms > 0 && elapsed + 100 >= (double)timeout_ms) {
				/* The deadline cut the last call short. */
				line = aws_error_line(err);
				msg = xasprintf("still waiting after %.1f s: %s",
				    elapsed / 1000.0, line);
				aws_error_set(err, 0, NULL, "Timeout", msg, NULL);
				free(msg);
				free(line);
			} else if (err->code == NULL) {
				err->code = xstrdup("WaitFailed");
			}
			return -1;
		}
		elapsed = now_ms() - t0;
		if (progress != NULL)
			progress(progress_arg, elapsed, status);
		if (done) {
			free(status);
			return 0;
		}
		/* Jittered within [delay/2, delay], never past the deadline. */
		left = delay * (0.5 + 0.5 * rand01(c));
		if (timeout_ms > 0 && elapsed + left > (double)timeout_ms)
			left = (double)timeout_ms - elapsed;
		if (left > 0 && backoff_sleep(c, left) != 0) {
			free(status);
			aws_error_set(err, 0, NULL, "Interrupted",
			    "interrupted while waiting", NULL);
			return -1;
		}
		elapsed = now_ms() - t0;
		if (timeout_ms > 0 && elapsed >= (double)timeout_ms) {
			msg = xasprintf("still waiting after %.1f s%s%s",
			    elapsed / 1000.0, status ? ": " : "",
			    status ? status : "");
			aws_error_set(err, 0, NULL, "Timeout", msg, NULL);
			free(msg);
			free(status);
			return -1;
		}
		free(status);
		delay *= 2;
		if (delay > (double)max_ms)
			delay = (double)max_ms;
	}
}
