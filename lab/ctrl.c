/* ctrl.c: moto in the lab, and the reconciler. */
#include "lab/ctrl.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "lab/fw.h"
#include "lab/lab.h"
#include "lab/lab_int.h"
#include "lib/util.h"

/*
 * The catalogue: images whose names match what mlsh looks up (Ubuntu for the
 * jump host and Grafana, the Deep Learning AMIs for the nodes). Owners are
 * the real publishers' account ids; moto gives every loaded image the
 * "amazon" owner alias too. One image per kind and no creation_date: moto 5
 * parses the dates in place and its /moto-api/reset then fails on them.
 */
static const struct {
	const char *id, *name, *owner, *desc;
} images[] = {
	{ "ami-0a1b2c3d4e5f60001",
	  "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240301",
	  "099720109477", "Canonical, Ubuntu, 22.04 LTS, amd64 jammy image" },
	{ "ami-0a1b2c3d4e5f60003",
	  "Deep Learning AMI Habana PyTorch 1.13.1 SynapseAI 1.8.0 (Ubuntu 20.04) 20230301",
	  "898082745236", "Deep Learning AMI for Habana Gaudi (DL1)" },
	{ "ami-0a1b2c3d4e5f60005",
	  "Deep Learning AMI GPU PyTorch 1.13.1 (Ubuntu 20.04) 20230315",
	  "898082745236", "Deep Learning AMI GPU PyTorch (NVIDIA)" },
	{ NULL, NULL, NULL, NULL }
};

char *
lab_ctrl_catalogue(void)
{
	cJSON *arr = cJSON_CreateArray();
	char *s;

	for (size_t i = 0; images[i].id != NULL; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "ami_id", images[i].id);
		cJSON_AddStringToObject(o, "name", images[i].name);
		cJSON_AddStringToObject(o, "description", images[i].desc);
		cJSON_AddStringToObject(o, "owner_id", images[i].owner);
		cJSON_AddStringToObject(o, "state", "available");
		cJSON_AddBoolToObject(o, "public", 1);
		cJSON_AddStringToObject(o, "image_location", images[i].name);
		cJSON_AddStringToObject(o, "image_type", "machine");
		cJSON_AddStringToObject(o, "architecture", "x86_64");
		cJSON_AddStringToObject(o, "virtualization_type", "hvm");
		cJSON_AddStringToObject(o, "hypervisor", "xen");
		cJSON_AddStringToObject(o, "root_device_type", "ebs");
		cJSON_AddStringToObject(o, "root_device_name", "/dev/sda1");
		cJSON_AddStringToObject(o, "sriov", "simple");
		cJSON_AddItemToArray(arr, o);
	}
	s = cJSON_Print(arr);
	cJSON_Delete(arr);
	return s;
}

/* A plain HTTP request from the client namespace (moto's own API). */
struct nsarg {
	int fd;
};

static curl_socket_t
open_in_ns(void *p, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct nsarg *ns = p;
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), s;

	(void)purpose;
	if (self < 0 || setns(ns->fd, CLONE_NEWNET) != 0) {
		if (self >= 0)
			close(self);
		return CURL_SOCKET_BAD;
	}
	s = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	if (setns(self, CLONE_NEWNET) != 0)
		abort();	/* never continue in the wrong namespace */
	close(self);
	return s < 0 ? CURL_SOCKET_BAD : s;
}

static size_t
keep(char *p, size_t s, size_t n, void *a)
{
	struct buf *b = a;

	if (b == NULL)
		return s * n;	/* not wanted: discarded */
	if (b->len + s * n > 65536)
		return 0;
	buf_add(b, p, s * n);
	return s * n;
}

static int ns_http(const char *state, const char *method, const char *url,
    const char *header, const char *post, long timeout_ms, char **body,
    char **cause);

static int
ctrl_http(const char *state, const char *method, const char *path,
    long timeout_ms, char **cause)
{
	char *url = xasprintf("%s%s", LAB_CTRL_URL, path);
	int rc = ns_http(state, method, url, NULL, NULL, timeout_ms, NULL, cause);

	free(url);
	return rc;
}

int
lab_http_get(const char *state, const char *url, long timeout_ms,
    char **body, char **cause)
{
	return ns_http(state, "GET", url, NULL, NULL, timeout_ms, body, cause);
}

/* One request from the client namespace (body NULL: discarded; header and
 * post optional). */
static int
ns_http(const char *state, const char *method, const char *url,
    const char *header, const char *post, long timeout_ms, char **body,
    char **cause)
{
	struct nsarg ns;
	struct buf b;
	struct curl_slist *hdrs = NULL;
	CURL *c;
	CURLcode rc;
	long status = 0;

	if ((ns.fd = lab_client_netns_fd(state, cause)) < 0)
		return -1;
	buf_init(&b);
	c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "POST") == 0)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, post != NULL ? post : "");
	if (header != NULL) {
		hdrs = curl_slist_append(NULL, header);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	}
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_in_ns);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &ns);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body != NULL ? &b : NULL);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	close(ns.fd);
	if (rc != CURLE_OK) {
		*cause = xasprintf("%s: %s", url, curl_easy_strerror(rc));
		buf_release(&b);
		return -1;
	}
	if (status >= 400) {
		*cause = xasprintf("%s: HTTP %ld", url, status);
		buf_release(&b);
		return -1;
	}
	if (body != NULL)
		*body = buf_detach_release(&b);
	else
		buf_release(&b);
	return 0;
}

int
lab_ctrl_alive(const char *state)
{
	char *cause = NULL;
	/* Generous: moto builds a region's EC2 backend on the reconciler's
	 * first call and answers nothing else for seconds meanwhile. */
	int rc = ctrl_http(state, "GET", "/moto-api/", 10000, &cause);
	free(cause);
	return rc == 0;
}

/* Whether the control plane's process runs (its recorded PID, alive in the
 * core namespace), answering or not: a busy moto must not get a twin. */
static int
ctrl_running(const char *state)
{
	char *core = lab_core_netns(state), *p = lab_path(state, "pids/moto.pid");
	char *line = lab_read_line(p);
	pid_t pid = line != NULL ? (pid_t)atol(line) : 0;
	int rc = pid > 1 && lab_pid_in_netns(pid, core);

	free(line);
	free(p);
	free(core);
	return rc;
}

/*
 * The lab's checkip: like https://checkip.amazonaws.com, the caller's
 * address as the server sees it, one line of text. It listens on the
 * internet side of the core only (LAB_CHECKIP_URL), so the lab client learns
 * 198.18.0.2, the address a host's security group sees it come from.
 */
static const char checkip_py[] =
"import http.server\n"
"class H(http.server.BaseHTTPRequestHandler):\n"
"    def do_GET(self):\n"
"        b = (self.client_address[0] + '\\n').encode()\n"
"        self.send_response(200)\n"
"        self.send_header('Content-Type', 'text/plain')\n"
"        self.send_header('Content-Length', str(len(b)))\n"
"        self.end_headers()\n"
"        self.wfile.write(b)\n"
"    def log_message(self, *a):\n"
"        pass\n"
"http.server.ThreadingHTTPServer(('" LAB_CTRL_ADDR "', " LAB_CHECKIP_PORT_S
"), H).serve_forever()\n";

static int
checkip_start(const char *state, const char *python, char **cause)
{
	char *argv[] = { (char *)(python != NULL ? python : "python3"), "-c",
	    (char *)checkip_py, NULL };
	char *core = lab_core_netns(state), *p = lab_path(state,
	    "pids/checkip.pid");
	char *line = lab_read_line(p);
	pid_t pid = line != NULL ? (pid_t)atol(line) : 0;
	double deadline;
	int rc = 0;

	if (!(pid > 1 && lab_pid_in_netns(pid, core)))
		rc = lab_spawn_core(state, "checkip", argv, NULL, cause);
	/* lab up returns when checkip answers: the next vpc up asks it. */
	deadline = now_ms() + 30000;
	while (rc == 0) {
		char *why = NULL;
		int ok = ns_http(state, "GET", LAB_CHECKIP_URL, NULL, NULL,
		    2000, NULL, &why) == 0;

		free(why);
		if (ok)
			break;
		if (now_ms() >= deadline) {
			*cause = xstrdup("the lab's checkip did not answer "
			    "in 30 s");
			rc = -1;
			break;
		}
		usleep(100 * 1000);
	}
	free(line);
	free(p);
	free(core);
	return rc;
}

int
lab_ctrl_reset(const char *state, char **cause)
{
	return ctrl_http(state, "POST", "/moto-api/reset", 10000, cause);
}

int
lab_ctrl_strict(const char *state)
{
	char *p = lab_path(state, "strict");
	int rc = access(p, F_OK) == 0;

	free(p);
	return rc;
}

/* moto builds a region's EC2 backend on the first EC2 request there (the
 * reconciler's): up to a minute on a busy machine, and meanwhile requests
 * with mlsh's 10 s timeout fail. One request here with room for it, so that
 * lab up hands over a control plane that answers EC2. moto takes any
 * signature. Best effort: a failure leaves things as they were. Not through
 * the strict proxy, whose switches and counters belong to its tests. */
static void
ctrl_warm(const char *state)
{
	char *cause = NULL;

	if (lab_ctrl_strict(state))
		return;
	(void)ns_http(state, "POST", LAB_CTRL_URL "/", "Authorization: "
	    "AWS4-HMAC-SHA256 Credential=AKIAMLSHLABWARMUP000/20200101/"
	    "us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0",
	    "Action=DescribeAvailabilityZones&Version=2016-11-15", 120000,
	    NULL, &cause);
	free(cause);
}

int
lab_ctrl_start(const char *state, const char *python, const char *strict,
    int timeout_ms, char **cause)
{
	char *cat, *catpath, *env, *port, *marker;
	const char *py = python != NULL ? python : "python3";
	double deadline;
	pid_t pid = 0;
	int rc;

	if (ctrl_running(state)) {
		if (strict != NULL && !lab_ctrl_strict(state)) {
			*cause = xstrdup("the lab runs without the strict AWS; "
			    "run lab down first");
			return -1;
		}
		goto wait;
	}
	cat = lab_ctrl_catalogue();
	catpath = lab_path(state, "amis.json");
	rc = lab_write_file(catpath, cat, strlen(cat), 0644, cause);
	free(cat);
	if (rc != 0) {
		free(catpath);
		return -1;
	}
	{
		char *pyp = lab_path(state, "python");
		lab_write_file(pyp, py, strlen(py), 0600, cause);
		free(pyp);
	}
	marker = lab_path(state, "strict");
	unlink(marker);
	env = xasprintf("MOTO_AMIS_PATH=%s", catpath);
	port = xasprintf("%d", strict != NULL ? LAB_MOTO_PORT : LAB_CTRL_PORT);
	{
		/* AWS's managed IAM policies (CloudWatchAgentServerPolicy …)
		 * exist only when moto is asked to load them. */
		/* moto.server with the lab's SageMaker additions
		 * (lab/motoext.py: presigned URLs, notebook statuses). */
		char *st = xasprintf("MLSH_LAB_STATE=%s", state);
		char *argv[] = { "/usr/bin/env", env,
		    "MOTO_IAM_LOAD_MANAGED_POLICIES=true", st, (char *)py, "-c",
		    (char *)lab_embedded("lab/motoext.py"), "-H",
		    strict != NULL ? "127.0.0.1" : "0.0.0.0", "-p", port, NULL };
		rc = lab_spawn_core(state, "moto", argv, &pid, cause);
		free(st);
	}
	free(env);
	free(port);
	free(catpath);
	if (rc == 0 && strict != NULL) {
		/* The proxy in front, every behaviour on (tests/strict/README.md). */
		char *up = xasprintf("http://127.0.0.1:%d", LAB_MOTO_PORT);
		char *lport = xasprintf("%d", LAB_CTRL_PORT);
		char *argv[] = { (char *)py, (char *)strict, "--host",
		    "0.0.0.0", "--port", lport, "--upstream", up, "--config",
		    "{\"all\": true}", NULL };
		rc = lab_spawn_core(state, "strict", argv, &pid, cause);
		if (rc == 0)
			rc = lab_write_file(marker, strict, strlen(strict),
			    0600, cause);
		free(up);
		free(lport);
	}
	free(marker);
	if (rc != 0)
		return -1;
wait:
	deadline = now_ms() + timeout_ms;
	while (now_ms() < deadline) {
		/* checkip after moto answers: its start does not slow moto's. */
		if (lab_ctrl_alive(state)) {
			ctrl_warm(state);
			return checkip_start(state, python, cause);
		}
		if (!ctrl_running(state)) {
			char *log = lab_path(state, "moto.log");
			*cause = xasprintf("the control plane (moto) exited; "
			    "see %s", log);
			free(log);
			return -1;
		}
		usleep(100 * 1000);
	}
	*cause = xasprintf("the control plane did not answer within %d s",
	    timeout_ms / 1000);
	return -1;
}

/* Waking the reconciler. It polls the control plane (four describes) at
 * most every 200 ms, and only every second when nothing wakes it: every AWS
 * call another mlsh process makes to the lab writes a byte to the FIFO
 * state/wake once the call is answered, so what a command changes is
 * applied as soon as before (200 ms polls, which kept the lab's moto about a
 * third of a core busy however idle the lab was). Changes nobody wakes it
 * for (a node's own calls) are seen within the second. */
#define WAKE_MIN_MS 200
#define WAKE_IDLE_MS 1000

static volatile sig_atomic_t stop_daemon;
static int in_reconciler;	/* this process is the reconciler: never wakes itself */

struct wake {
	char *fifo;
	void (*trace)(void *, const char *);	/* the caller's own --trace */
	void *trace_arg;
};
/* Kept for the process's life, as the clients that point at them are. */
static struct wake **wakes;
static size_t nwakes;

static void
wake_reconciler(void *arg, const char *text)
{
	struct wake *w = arg;
	int fd;

	if (w->trace != NULL)
		w->trace(w->trace_arg, text);
	/* No reader (no reconciler): ENXIO, nothing to wake. */
	if ((fd = open(w->fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
		return;
	/* A full FIFO is a reconciler already woken. */
	if (write(fd, "w", 1) < 0) {
		/* nothing to do */
	}
	close(fd);
}

/* The reconciler's end of state/wake, made afresh; -1 when it cannot be
 * (then it polls every WAKE_MIN_MS as it always did). O_RDWR: a FIFO with
 * a writer of its own never reports end of file between wakers. */
static int
wake_open(const char *state)
{
	char *p = lab_path(state, "wake");
	int fd = -1;

	unlink(p);
	if (mkfifo(p, 0600) == 0)
		fd = open(p, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	free(p);
	return fd;
}

/* Between two polls: WAKE_MIN_MS, then until a wake or WAKE_IDLE_MS. */
static void
wake_wait(int fd)
{
	char b[64];
	struct pollfd pf = { .fd = fd, .events = POLLIN };

	usleep(WAKE_MIN_MS * 1000);
	if (fd < 0 || stop_daemon)
		return;
	if (poll(&pf, 1, WAKE_IDLE_MS - WAKE_MIN_MS) > 0)
		while (read(fd, b, sizeof b) > 0)
			;
}

struct aws_client *
lab_ctrl_client(const char *state, const struct aws_options *base,
    char **cause)
{
	struct aws_options o;
	int fd;

	if ((fd = lab_client_netns_fd(state, cause)) < 0)
		return NULL;
	/* The lab's own keys: real credentials never go to the emulator. */
	setenv("AWS_ACCESS_KEY_ID", LAB_ACCESS_KEY, 1);
	setenv("AWS_SECRET_ACCESS_KEY", LAB_SECRET_KEY, 1);
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
	if (base != NULL)
		o = *base;
	else
		memset(&o, 0, sizeof o);
	o.profile = NULL;
	o.endpoint_url = LAB_CTRL_URL;
	o.netns_fd = fd;	/* kept open for the process's life */
	if (o.max_attempts == 0)
		o.max_attempts = 2;
	/* 30 s as against AWS: moto loads a service's backend on its first
	 * call (EC2's instance type offerings, some seconds); on a loaded
	 * machine that once took over 10 s, twice, and vpc up failed. */
	if (o.timeout_ms == 0)
		o.timeout_ms = 30000;
	if (!in_reconciler) {
		struct wake *w = xmalloc(sizeof *w);

		w->fifo = lab_path(state, "wake");
		w->trace = o.trace;
		w->trace_arg = o.trace_arg;
		o.trace = wake_reconciler;
		o.trace_arg = w;
		wakes = xreallocarray(wakes, nwakes + 1, sizeof *wakes);
		wakes[nwakes++] = w;
	}
	return aws_client_new(&o);
}

/* The reconciler process. */

static char *
pid_path(const char *state)
{
	return lab_path(state, "reconciler.pid");
}

long
lab_reconciler_pid(const char *state)
{
	char *p = pid_path(state), *line = lab_read_line(p);
	long pid = line != NULL ? atol(line) : 0;
	char *comm, *cause = NULL, *text;

	free(p);
	free(line);
	if (pid <= 1 || kill((pid_t)pid, 0) != 0)
		return 0;
	/* A recycled PID is someone else's: check it runs mlsh. */
	comm = xasprintf("/proc/%ld/cmdline", pid);
	text = file_read(comm, NULL, &cause);
	free(comm);
	free(cause);
	if (text == NULL || strstr(text, "mlsh") == NULL) {
		free(text);
		return 0;
	}
	free(text);
	return pid;
}

int
lab_reconciler_start(const char *state, const char *exe, char **cause)
{
	char *log, *p;
	pid_t pid;
	int fd;

	if (lab_reconciler_pid(state) > 0)
		return 0;
	log = lab_path(state, "reconciler.log");
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		*cause = xasprintf("%s: %s", log, strerror(errno));
		free(log);
		return -1;
	}
	free(log);
	pid = fork();
	if (pid < 0) {
		*cause = xasprintf("cannot fork: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (pid == 0) {
		/* Detach: its own session, no terminal, stdio to the log. A
		 * second fork so it is not our child (no zombie to reap). */
		int nul = open("/dev/null", O_RDONLY);
		setsid();
		if (fork() != 0)
			_exit(0);
		dup2(nul, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		signal(SIGINT, SIG_IGN);
		execl(exe, "mlsh", "--lab-daemon", state, (char *)NULL);
		_exit(127);
	}
	close(fd);
	waitpid(pid, NULL, 0);
	/* The daemon writes its own PID file; wait (bounded) for it. */
	for (int i = 0; i < 50; i++) {
		if (lab_reconciler_pid(state) > 0)
			return 0;
		usleep(100 * 1000);
	}
	p = pid_path(state);
	*cause = xasprintf("the reconciler did not start (see %s)", p);
	free(p);
	return -1;
}

int
lab_reconciler_stop(const char *state)
{
	long pid = lab_reconciler_pid(state);
	char *p = pid_path(state);

	if (pid > 0) {
		pid_t pp = (pid_t)pid;
		lab_kill_pids(&pp, 1, 3000);
	}
	unlink(p);
	free(p);
	return 0;
}

/* What the reconciler remembers of an instance between polls. */
struct known {
	char *id;
	char *user_data;	/* decoded; NULL: none */
	size_t user_data_len;
	char *pubkey;
	char *vpc_cidr;
	char *subnet_cidr;
};


static void
on_term(int sig)
{
	(void)sig;
	stop_daemon = 1;
}


void
lab_logf(FILE *log, const char *fmt, ...)
{
	va_list ap;
	time_t t = time(NULL);
	char when[32];

	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	fprintf(log, "%s ", when);
	va_start(ap, fmt);
	vfprintf(log, fmt, ap);
	va_end(ap);
	fputc('\n', log);
	fflush(log);
}

char *
lab_b64decode(const char *in, size_t *outlen)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(in), o = 0;
	char *out = xmalloc(n / 4 * 3 + 4);
	unsigned int acc = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		const char *p = strchr(tbl, in[i]);
		if (in[i] == '=' || p == NULL || in[i] == '\0')
			continue;
		acc = (acc << 6) | (unsigned int)(p - tbl);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

char *
lab_ec2_first(struct aws_client *c, const char *action, const char *key,
    const char *val, const char *set, const char *field)
{
	cJSON *p = cJSON_CreateObject(), *r = NULL, *e;
	struct aws_error err;
	char *out = NULL;

	memset(&err, 0, sizeof err);
	cJSON_AddStringToObject(p, key, val);
	if (strcmp(action, "DescribeKeyPairs") == 0)
		cJSON_AddStringToObject(p, "IncludePublicKey", "true");
	if (aws_call(c, "ec2", action, p, &r, &err) == 0) {
		e = cJSON_GetArrayItem(cJSON_GetObjectItem(r, set), 0);
		if (json_string(e, field) != NULL)
			out = xstrdup(json_string(e, field));
	}
	aws_error_release(&err);
	cJSON_Delete(p);
	cJSON_Delete(r);
	return out;
}

static struct known *
learn(struct aws_client *c, const cJSON *inst, FILE *log)
{
	struct known *k = xcalloc(1, sizeof *k);
	const char *id = json_string(inst, "instanceId");
	cJSON *p = cJSON_CreateObject(), *r = NULL;
	struct aws_error err;

	memset(&err, 0, sizeof err);
	k->id = xstrdup(id);
	cJSON_AddStringToObject(p, "InstanceId", id);
	cJSON_AddStringToObject(p, "Attribute", "userData");
	if (aws_call(c, "ec2", "DescribeInstanceAttribute", p, &r, &err) == 0) {
		const char *v = json_string(cJSON_GetObjectItem(r, "userData"),
		    "value");
		if (v != NULL && *v != '\0')
			k->user_data = lab_b64decode(v, &k->user_data_len);
	} else
		lab_logf(log, "%s: user-data: %s", id, err.message ? err.message :
		    "?");
	aws_error_release(&err);
	cJSON_Delete(p);
	cJSON_Delete(r);
	if (json_string(inst, "keyName") != NULL)
		k->pubkey = lab_ec2_first(c, "DescribeKeyPairs", "KeyName.1",
		    json_string(inst, "keyName"), "keySet", "publicKey");
	if (json_string(inst, "subnetId") != NULL)
		k->subnet_cidr = lab_ec2_first(c, "DescribeSubnets", "SubnetId.1",
		    json_string(inst, "subnetId"), "subnetSet", "cidrBlock");
	if (json_string(inst, "vpcId") != NULL)
		k->vpc_cidr = lab_ec2_first(c, "DescribeVpcs", "VpcId.1",
		    json_string(inst, "vpcId"), "vpcSet", "cidrBlock");
	lab_logf(log, "%s: new instance in %s (%s), key %s, user-data %zu bytes",
	    id, json_string(inst, "subnetId") ? json_string(inst, "subnetId") : "?",
	    k->subnet_cidr ? k->subnet_cidr : "?", k->pubkey ? "yes" : "none",
	    k->user_data_len);
	return k;
}

static void
known_free(struct known *k)
{
	free(k->id);
	free(k->user_data);
	free(k->pubkey);
	free(k->vpc_cidr);
	free(k->subnet_cidr);
	free(k);
}

/* EFS: every file system a directory, every mount target an address. */
static void
reconcile_efs(const char *state, struct aws_client *c, struct strlist *seen,
    FILE *log)
{
	cJSON *r = NULL, *fs;
	struct aws_error err;
	char *cause = NULL;

	memset(&err, 0, sizeof err);
	if (aws_call(c, "efs", "DescribeFileSystems", NULL, &r, &err) != 0) {
		aws_error_release(&err);
		return;
	}
	cJSON_ArrayForEach(fs, cJSON_GetObjectItem(r, "FileSystems")) {
		const char *id = json_string(fs, "FileSystemId");
		cJSON *p, *mr = NULL, *mt;
		if (id == NULL)
			continue;
		if (!strlist_has(seen, id)) {
			if (lab_efs_create(state, id, &cause) == 0) {
				lab_logf(log, "%s: file system ready", id);
				strlist_add(seen, id);
			} else {
				lab_logf(log, "%s: %s", id, cause);
				free(cause);
				cause = NULL;
			}
		}
		p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "FileSystemId", id);
		if (aws_call(c, "efs", "DescribeMountTargets", p, &mr,
		    &err) == 0) {
			cJSON_ArrayForEach(mt, cJSON_GetObjectItem(mr,
			    "MountTargets")) {
				const char *ip = json_string(mt, "IpAddress");
				const char *vpc = json_string(mt, "VpcId");
				char *key;
				if (ip == NULL || vpc == NULL)
					continue;
				key = xasprintf("%s@%s", ip, vpc);
				if (!strlist_has(seen, key)) {
					if (lab_efs_target_add(state, id, vpc,
					    ip, &cause) == 0) {
						lab_logf(log, "%s: mount target "
						    "%s in %s", id, ip, vpc);
						strlist_add(seen, key);
					} else {
						lab_logf(log, "%s: %s", id, cause);
						free(cause);
						cause = NULL;
					}
				}
				free(key);
			}
		}
		aws_error_release(&err);
		cJSON_Delete(mr);
		cJSON_Delete(p);
	}
	cJSON_Delete(r);
}

/* Security groups and route tables (lab/fw.h): every wanted host's ruleset
 * derived from this poll's answers. NULL rules (and 0) when a Describe call
 * failed: a transient error must not seal a host. */
static int
derive_fw(struct aws_client *c, const cJSON *items, const cJSON **winst,
    size_t n, char ***rulesp)
{
	cJSON *sgs = NULL, *rts = NULL;
	struct aws_error err;
	char **rules;

	*rulesp = NULL;
	memset(&err, 0, sizeof err);
	if (n == 0)
		return 0;
	if (aws_paginate(c, "ec2", "DescribeSecurityGroups", NULL,
	    "securityGroupInfo", 20, &sgs, &err) != 0 ||
	    aws_paginate(c, "ec2", "DescribeRouteTables", NULL,
	    "routeTableSet", 20, &rts, &err) != 0) {
		aws_error_release(&err);
		cJSON_Delete(sgs);
		return 0;
	}
	rules = xcalloc(n, sizeof *rules);
	for (size_t i = 0; i < n; i++)
		rules[i] = lab_fw_ruleset(winst[i], items, sgs, rts);
	cJSON_Delete(sgs);
	cJSON_Delete(rts);
	*rulesp = rules;
	return 1;
}

/* Load each host's ruleset when it changed (a new host got it at creation).
 * A failure is logged once per host and cause (logged holds what was). */
static void
apply_fw(const char *state, const struct lab_want *want, char **rules,
    size_t n, struct strlist *logged, FILE *log)
{
	for (size_t i = 0; i < n; i++) {
		const char *id = want[i].spec.instance_id;
		char *cause = NULL, *line;
		int changed = 0;

		if (lab_host_state(state, id) == NULL)
			continue;	/* its creation failed: logged there */
		if (lab_fw_apply(state, id, rules[i], &changed, &cause) == 0) {
			if (changed)
				lab_logf(log, "%s: security groups applied", id);
		} else {
			line = xasprintf("%s: firewall: %s", id, cause);
			if (!strlist_has(logged, line)) {
				lab_logf(log, "%s", line);
				strlist_add(logged, line);
			}
			free(line);
			free(cause);
		}
	}
}

/* What EC2 does to an instance that shuts itself down: its
 * InstanceInitiatedShutdownBehavior, "stop" (the default) or "terminate"
 * (EC2 User Guide, "Change the instance initiated shutdown behavior").
 * Asked per request (DescribeInstances does not carry it). */
static const char *
shutdown_action(struct aws_client *c, const char *id)
{
	cJSON *p = cJSON_CreateObject(), *r = NULL;
	const cJSON *v;
	struct aws_error err;
	const char *action = "StopInstances";

	memset(&err, 0, sizeof err);
	cJSON_AddStringToObject(p, "InstanceId", id);
	cJSON_AddStringToObject(p, "Attribute",
	    "instanceInitiatedShutdownBehavior");
	if (aws_call(c, "ec2", "DescribeInstanceAttribute", p, &r, &err) == 0) {
		v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
		    r, "instanceInitiatedShutdownBehavior"), "value");
		if (cJSON_IsString(v) && strcmp(v->valuestring, "terminate") == 0)
			action = "TerminateInstances";
	}
	aws_error_release(&err);
	cJSON_Delete(p);
	cJSON_Delete(r);
	return action;
}

/* A running host that asked to power off (host.c's shutdown shim) is
 * stopped, or terminated, as EC2 treats an instance by its
 * InstanceInitiatedShutdownBehavior; moto's new state then stops or
 * removes the host (lab_apply). */
static void
power_requests(const char *state, struct aws_client *c,
    const struct lab_want *want, size_t n, FILE *log)
{
	for (size_t i = 0; i < n; i++) {
		const char *id = want[i].spec.instance_id;
		char *req, *what;
		cJSON *p, *r = NULL;
		struct aws_error err;

		if (!want[i].running)
			continue;
		req = lab_path(state, "hosts/%s/power/request", id);
		if ((what = lab_read_line(req)) == NULL) {
			free(req);
			continue;
		}
		const char *action = shutdown_action(c, id);
		memset(&err, 0, sizeof err);
		p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "InstanceId.1", id);
		if (aws_call(c, "ec2", action, p, &r, &err) == 0) {
			lab_logf(log, "%s: %s: %s the instance", id, what,
			    action[0] == 'S' ? "stopping" : "terminating");
			unlink(req);
		} else
			lab_logf(log, "%s: %s: %s", id, action,
			    err.message ? err.message : "failed");
		aws_error_release(&err);
		cJSON_Delete(p);
		cJSON_Delete(r);
		free(what);
		free(req);
	}
}

int
lab_reconciler_run(const char *state, FILE *log)
{
	struct aws_client *c;
	struct known **known = NULL;
	size_t nknown = 0;
	struct strlist efs_seen, fw_logged;
	char *cause = NULL, *region, *p, num[32];
	struct sigaction sa;
	int fails = 0, wfd, lfd;

	/* One reconciler per lab: mlsh processes that start at once each
	 * start one before any has written its PID file (three seen polling
	 * one lab). The lock is held for the process's life; every child the
	 * lab forks closes it (O_CLOEXEC, close_from). */
	p = lab_path(state, "reconciler.lock");
	lfd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(p);
	if (lfd >= 0 && flock(lfd, LOCK_EX | LOCK_NB) == -1) {
		lab_logf(log, "reconciler %ld: another one runs this lab; leaving",
		    (long)getpid());
		close(lfd);
		return 0;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	p = lab_path(state, "region");
	region = lab_read_line(p);
	free(p);
	{
		struct aws_options o;
		memset(&o, 0, sizeof o);
		o.region = region ? region : "us-east-1";
		in_reconciler = 1;
		c = lab_ctrl_client(state, &o, &cause);
	}
	if (c == NULL) {
		lab_logf(log, "cannot reach the control plane: %s", cause);
		free(cause);
		free(region);
		return 1;
	}
	p = pid_path(state);
	snprintf(num, sizeof num, "%ld\n", (long)getpid());
	lab_write_file(p, num, strlen(num), 0600, &cause);
	free(p);
	strlist_init(&efs_seen);
	strlist_init(&fw_logged);
	wfd = wake_open(state);
	lab_logf(log, "reconciler %ld up, region %s", (long)getpid(),
	    region ? region : "us-east-1");

	while (!stop_daemon && lab_net_is_up(state)) {
		cJSON *items = NULL, *inst;
		struct aws_error err;
		struct lab_want *want = NULL;
		const cJSON **winst = NULL;
		char **rules = NULL;
		size_t nwant = 0, nall;
		struct strlist errs;

		memset(&err, 0, sizeof err);
		if (aws_paginate(c, "ec2", "DescribeInstances", NULL,
		    "reservationSet", 20, &items, &err) != 0) {
			if (fails++ % 50 == 0)
				lab_logf(log, "DescribeInstances: %s",
				    err.message ? err.message : "failed");
			aws_error_release(&err);
			usleep(500 * 1000);
			continue;
		}
		fails = 0;
		cJSON *res;
		cJSON_ArrayForEach(res, items) {
			cJSON_ArrayForEach(inst, cJSON_GetObjectItem(res,
			    "instancesSet")) {
				const char *id = json_string(inst, "instanceId");
				const char *st = json_string(cJSON_GetObjectItem(inst,
				    "instanceState"), "name");
				struct known *k = NULL;
				struct lab_host_spec *s;
				if (id == NULL || st == NULL ||
				    strcmp(st, "terminated") == 0 ||
				    strcmp(st, "shutting-down") == 0)
					continue;
				for (size_t i = 0; i < nknown; i++)
					if (strcmp(known[i]->id, id) == 0)
						k = known[i];
				if (k == NULL) {
					k = learn(c, inst, log);
					known = xreallocarray(known, nknown + 1,
					    sizeof *known);
					known[nknown++] = k;
				}
				want = xreallocarray(want, nwant + 1,
				    sizeof *want);
				winst = xreallocarray(winst, nwant + 1,
				    sizeof *winst);
				winst[nwant] = inst;
				memset(&want[nwant], 0, sizeof *want);
				s = &want[nwant].spec;
				s->instance_id = k->id;
				s->vpc_id = json_string(inst, "vpcId");
				s->vpc_cidr = k->vpc_cidr;
				s->subnet_id = json_string(inst, "subnetId");
				s->subnet_cidr = k->subnet_cidr;
				s->private_ip = json_string(inst, "privateIpAddress");
				s->public_ip = json_string(inst, "ipAddress");
				s->ssh_public_key = k->pubkey;
				s->user_data = k->user_data;
				s->user_data_len = k->user_data_len;
				s->ctrl_port = LAB_CTRL_PORT;
				s->region = region ? region : "us-east-1";
				want[nwant].running = strcmp(st, "running") == 0
				    || strcmp(st, "pending") == 0;
				if (s->vpc_id && s->subnet_cidr && s->private_ip)
					nwant++;
			}
		}
		power_requests(state, c, want, nwant, log);
		if (derive_fw(c, items, winst, nwant, &rules))
			for (size_t i = 0; i < nwant; i++)
				want[i].spec.firewall = rules[i];
		/* SageMaker notebooks after the instances (lab/notebook.c):
		 * hosts too, without security groups of their own (SageMaker's
		 * proxy reaches Jupyter outside the customer's groups). */
		nall = nwant;
		lab_nb_want(state, c, items, region ? region : "us-east-1",
		    &want, &nall, log);
		strlist_init(&errs);
		if (lab_apply(state, want, nall, &errs) > 0)
			for (size_t i = 0; i < errs.n; i++)
				lab_logf(log, "%s", errs.v[i]);
		strlist_release(&errs);
		if (rules != NULL) {
			apply_fw(state, want, rules, nwant, &fw_logged, log);
			for (size_t i = 0; i < nwant; i++)
				free(rules[i]);
			free(rules);
		}
		lab_nb_boot(state, c, log);
		free(want);
		free(winst);
		cJSON_Delete(items);
		reconcile_efs(state, c, &efs_seen, log);
		wake_wait(wfd);
	}
	lab_logf(log, "reconciler %ld down", (long)getpid());
	if (lfd >= 0)
		close(lfd);
	if (wfd >= 0) {
		close(wfd);
		p = lab_path(state, "wake");
		unlink(p);
		free(p);
	}
	for (size_t i = 0; i < nknown; i++)
		known_free(known[i]);
	free(known);
	lab_nb_forget();
	strlist_release(&efs_seen);
	strlist_release(&fw_logged);
	aws_client_free(c);
	free(region);
	return 0;
}
