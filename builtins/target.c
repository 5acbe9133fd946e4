/* target.c: the session's SSH connections into the workspace's stack. */
#include "builtins/target.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include "builtins/checkip.h"
#include "lab/lab.h"
#include "lib/state.h"
#include "aws/aws.h"
#include <openssl/evp.h>

/* Completing a remote path: a listing is kept this long, and one that the
 * node does not give in time (or refuses) is nothing, kept as long, so a
 * dead node costs the prompt one short wait per PATH_CACHE_MS. */
#define PATH_CACHE_N 16
#define PATH_CACHE_MS 10000
#define PATH_LIST_MS 2000

/* The target service's state (its slot in the context): the session, its
 * config, and what the config borrows, for the session's life. */
struct target_state {
	struct rmt_session *remote;
	struct rmt_config *cfg;
	cJSON *snapshot;	/* the state file as target_resources read it */
	char *jump_host;
	char *jump_alias;
	char *key_file;
	char *known_hosts;
	struct strlist jump_fps;
	/* Nodes resolved so far: address → instance id, the name their keys
	 * are pinned under (given to the session when it is made). */
	/* per node address: its pin name, login user ("" → the default) and
	 * the name the user knows it by (dl1-1), for its errors */
	struct strlist alias_ip, alias_id, alias_user, alias_name;
	int netns_fd;
	int connect_ms;		/* lab sockets: connect timeout; 0 → 10 s */
	/* Remote directories listed for completion, newest last. */
	struct path_cache {
		char *key;	/* "TARGET\nDIR" */
		double at;
		struct strlist names;	/* directories end in '/' */
	} paths[PATH_CACHE_N];
	unsigned npaths;
};

static struct target_state *
tstate(struct mlsh_ctx *ctx)
{
	void **slot = shell_service_slot(ctx, &svc_target);

	if (*slot == NULL) {
		struct target_state *t = xcalloc(1, sizeof *t);
		t->netns_fd = -1;
		*slot = t;
	}
	return *slot;
}

static void console_fingerprints(struct mlsh_ctx *, const char *id,
    struct strlist *);

/*
 * The workspace's records, read-only. SSH never changes the stack, so it
 * reads the state file without taking the workspace's lock: a `train attach`
 * running for hours in one terminal must not stop `train status` or `ssh` in
 * another. A state this process holds (open, locked) is used as it is.
 */
const cJSON *
target_resources(struct mlsh_ctx *ctx)
{
	struct target_state *ts = tstate(ctx);
	char *p, *text, *cause = NULL;

	if (ctx->state != NULL)
		return cJSON_GetObjectItemCaseSensitive(ctx->state->root,
		    "resources");
	p = xasprintf("%s/%s.json", ctx->state_dir, ctx->workspace);
	text = file_read(p, NULL, &cause);
	free(p);
	if (text == NULL) {
		free(cause);
		cmd_error(ctx, "workspace '%s' has no stack; run 'vpc up' "
		    "first", ctx->workspace);
		return NULL;
	}
	cJSON_Delete(ts->snapshot);
	ts->snapshot = cJSON_Parse(text);
	free(text);
	if (ts->snapshot == NULL) {
		cmd_error(ctx, "the state of workspace '%s' is corrupt",
		    ctx->workspace);
		return NULL;
	}
	return cJSON_GetObjectItemCaseSensitive(ts->snapshot, "resources");
}

static const char *
attr(const cJSON *rec, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(rec, "attrs"), k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *
field(const cJSON *rec, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* In the lab, sockets open inside its client namespace. */
static int
lab_socket(void *arg, const char *host, int port, char **cause)
{
	struct target_state *ts = tstate(arg);
	int self, fd, rc;
	struct sockaddr_storage sa;
	socklen_t salen;
	struct addrinfo hints, *ai = NULL;
	char portstr[16];
	struct pollfd p;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST;
	snprintf(portstr, sizeof portstr, "%d", port);
	if (getaddrinfo(host, portstr, &hints, &ai) != 0 || ai == NULL) {
		*cause = xasprintf("%s: not an address", host);
		return -1;
	}
	memcpy(&sa, ai->ai_addr, ai->ai_addrlen);
	salen = ai->ai_addrlen;
	freeaddrinfo(ai);
	if ((self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0 ||
	    setns(ts->netns_fd, CLONE_NEWNET) != 0) {
		*cause = xasprintf("cannot enter the lab's namespace: %s",
		    strerror(errno));
		if (self >= 0)
			close(self);
		return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (setns(self, CLONE_NEWNET) != 0)
		abort();	/* never go on in the wrong namespace */
	close(self);
	if (fd < 0) {
		*cause = xasprintf("socket: %s", strerror(errno));
		return -1;
	}
	rc = connect(fd, (struct sockaddr *)&sa, salen);
	if (rc != 0 && errno == EINPROGRESS) {
		int err = 0;
		socklen_t el = sizeof err;
		p.fd = fd;
		p.events = POLLOUT;
		rc = poll(&p, 1, ts->connect_ms > 0 ? ts->connect_ms : 10000);
		if (rc == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err,
		    &el) == 0 && err == 0)
			rc = 0;
		else {
			errno = rc == 0 ? ETIMEDOUT : err;
			rc = -1;
		}
	}
	if (rc != 0) {
		/* remote/ prefixes "jump HOST:PORT". */
		*cause = errno == ETIMEDOUT ? xasprintf("connection timed out "
		    "after %d s", ts->connect_ms > 0 ? (ts->connect_ms + 999) /
		    1000 : 10) : xstrdup(strerror(errno));
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

/* A passphrase from the terminal, echo off; NULL without one. */
static char *
ask_passphrase(void *arg, const char *key)
{
	struct termios t, saved;
	char buf[512];
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	FILE *f;

	(void)arg;
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "r+");
	fprintf(f, "passphrase for %s: ", key);
	fflush(f);
	tcgetattr(fd, &saved);
	t = saved;
	t.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(fd, TCSAFLUSH, &t);
	if (fgets(buf, sizeof buf, f) == NULL)
		buf[0] = '\0';
	tcsetattr(fd, TCSAFLUSH, &saved);
	fputc('\n', f);
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return xstrdup(buf);
}

static void
new_hostkey(void *arg, const char *label, const char *fp)
{
	(void)arg;
	fflush(stdout);
	fprintf(stderr, "ssh: first contact with %s, host key %s "
	    "(recorded)\n", label, fp);
}

int
target_cancelled(void *arg)
{
	(void)arg;
	return mlsh_interrupted != 0;
}

static char *
find_key(const cJSON *res)
{
	const char *home = getenv("HOME");
	const char *rec_key = attr(cJSON_GetObjectItemCaseSensitive(res,
	    "key"), "private_key");
	const char *names[] = { "id_ed25519", "id_rsa", NULL };

	if (rec_key != NULL)
		return xstrdup(rec_key);
	for (size_t i = 0; home != NULL && names[i] != NULL; i++) {
		char *p = xasprintf("%s/.ssh/%s", home, names[i]);
		if (access(p, R_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

const struct rmt_config *
target_config(struct mlsh_ctx *ctx)
{
	struct target_state *ts = tstate(ctx);
	const cJSON *res, *jump;
	const char *ip;
	struct rmt_config *cfg;
	char *cause = NULL;

	if (ts->cfg != NULL)
		return ts->cfg;
	if ((res = target_resources(ctx)) == NULL)
		return NULL;
	jump = cJSON_GetObjectItemCaseSensitive(res, "jump");
	if (jump == NULL || (ip = attr(jump, "public_ip")) == NULL) {
		cmd_error(ctx, "no jump host in workspace '%s'; run 'vpc up' "
		    "first", ctx->workspace);
		return NULL;
	}
	if (ctx->lab && ts->netns_fd < 0 &&
	    (ts->netns_fd = lab_client_netns_fd(ctx->lab_dir, &cause)) < 0) {
		cmd_error(ctx, "lab: %s", cause);
		free(cause);
		return NULL;
	}
	free(ts->jump_host);
	free(ts->jump_alias);
	free(ts->key_file);
	free(ts->known_hosts);
	strlist_release(&ts->jump_fps);
	strlist_init(&ts->jump_fps);
	ts->jump_host = xstrdup(ip);
	ts->jump_alias = field(jump, "id") ? xstrdup(field(jump, "id")) : NULL;
	ts->key_file = find_key(res);
	ts->known_hosts = xasprintf("%s/known_hosts", ctx->state_dir);
	/* Host keys are pinned under instance ids (HostKeyAlias-style): two
	 * workspaces that reuse an address never share a pin.  The jump
	 * host's key is checked against its console output on first contact,
	 * also for a port forwarder's own connection. */
	if (ts->jump_alias != NULL &&
	    !rmt_known_hosts_has(ts->known_hosts, ts->jump_alias))
		console_fingerprints(ctx, ts->jump_alias, &ts->jump_fps);
	cfg = xcalloc(1, sizeof *cfg);
	cfg->jump_host = ts->jump_host;
	cfg->jump_alias = ts->jump_alias;
	cfg->jump_fingerprints = (const char *const *)ts->jump_fps.v;
	cfg->njump_fingerprints = ts->jump_fps.n;
	cfg->user = "ubuntu";
	cfg->key_file = ts->key_file;
	cfg->known_hosts = ts->known_hosts;
	cfg->hostkey_policy = RMT_HOSTKEY_ACCEPT_NEW;
	if (ctx->lab) {
		cfg->open_socket = lab_socket;
		cfg->open_socket_arg = ctx;
	}
	if (isatty(STDIN_FILENO))
		cfg->passphrase = ask_passphrase;
	cfg->new_hostkey = new_hostkey;
	ts->cfg = cfg;
	return cfg;
}

/* A node's key is pinned under its instance id, it logs in as the user its
 * image has (ubuntu, ec2-user), and its errors name it as the user does
 * (dl1-1, not its private address): remember these for the session (made
 * now or later). */
static void
node_alias(struct mlsh_ctx *ctx, const char *ip, const char *id,
    const char *user, const char *name)
{
	struct target_state *ts = tstate(ctx);
	size_t i;

	if (id == NULL)
		id = "";
	if (user == NULL)
		user = "";
	for (i = 0; i < ts->alias_ip.n; i++)
		if (strcmp(ts->alias_ip.v[i], ip) == 0)
			break;
	if (i == ts->alias_ip.n) {
		strlist_add(&ts->alias_ip, ip);
		strlist_add(&ts->alias_id, id);
		strlist_add(&ts->alias_user, user);
		strlist_add(&ts->alias_name, name);
	} else {
		free(ts->alias_id.v[i]);
		ts->alias_id.v[i] = xstrdup(id);
		free(ts->alias_user.v[i]);
		ts->alias_user.v[i] = xstrdup(user);
		free(ts->alias_name.v[i]);
		ts->alias_name.v[i] = xstrdup(name);
	}
	if (ts->remote != NULL) {
		if (*id != '\0')
			rmt_hostkey_alias(ts->remote, ip, 22, id);
		rmt_node_user(ts->remote, ip, *user ? user : NULL);
		rmt_label_node(ts->remote, ip, name);
	}
}

void
target_node_login(struct mlsh_ctx *ctx, const char *ip, const char **alias,
    const char **user)
{
	struct target_state *ts = tstate(ctx);

	*alias = *user = NULL;
	for (size_t i = 0; i < ts->alias_ip.n; i++)
		if (strcmp(ts->alias_ip.v[i], ip) == 0) {
			*alias = *ts->alias_id.v[i] ? ts->alias_id.v[i] : NULL;
			*user = *ts->alias_user.v[i] ? ts->alias_user.v[i] : NULL;
		}
}

/* Whether the host part of URL is this machine's loopback. */
static int
url_is_loopback(const char *url)
{
	const char *h = url != NULL ? strstr(url, "://") : NULL;

	if (h == NULL)
		return 0;
	h += 3;
	return str_startswith(h, "127.") || str_startswith(h, "localhost") ||
	    str_startswith(h, "[::1]");
}

/*
 * The config to connect with. An emulator on this machine (moto behind
 * --endpoint-url or AWS_ENDPOINT_URL on loopback, outside the lab) makes up
 * the public addresses of its instances: they are somebody else's hosts on
 * the internet, never ours. Connecting there is refused; the lab makes
 * them real.
 */
int
target_emulated(struct mlsh_ctx *ctx)
{
	return !ctx->lab && url_is_loopback(ctx->endpoint_url != NULL ?
	    ctx->endpoint_url : getenv("AWS_ENDPOINT_URL"));
}

const struct rmt_config *
target_config_connect(struct mlsh_ctx *ctx)
{
	const struct rmt_config *cfg = target_config(ctx);
	const char *ep = ctx->endpoint_url != NULL ? ctx->endpoint_url :
	    getenv("AWS_ENDPOINT_URL");

	if (cfg == NULL || ctx->lab || !url_is_loopback(ep) ||
	    str_startswith(cfg->jump_host, "127."))
		return cfg;
	cmd_error(ctx, "not connecting to %s: the endpoint %s is an emulator "
	    "on this machine and its addresses are not real hosts (use --lab)",
	    cfg->jump_host, ep);
	return NULL;
}

struct rmt_session *
target_session(struct mlsh_ctx *ctx)
{
	struct target_state *ts = tstate(ctx);
	const struct rmt_config *cfg;

	if (ts->remote != NULL)
		return ts->remote;
	if ((cfg = target_config_connect(ctx)) == NULL)
		return NULL;
	ts->remote = rmt_session_new(cfg);
	for (size_t i = 0; i < ts->alias_ip.n; i++) {
		if (*ts->alias_id.v[i] != '\0')
			rmt_hostkey_alias(ts->remote, ts->alias_ip.v[i], 22,
			    ts->alias_id.v[i]);
		if (*ts->alias_user.v[i] != '\0')
			rmt_node_user(ts->remote, ts->alias_ip.v[i],
			    ts->alias_user.v[i]);
		rmt_label_node(ts->remote, ts->alias_ip.v[i],
		    ts->alias_name.v[i]);
	}
	return ts->remote;
}

int
target_resolve(struct mlsh_ctx *ctx, const char *name, char **node)
{
	const cJSON *res, *rec, *r;
	const char *ip, *st;
	struct buf names;

	*node = NULL;
	if (strcmp(name, "jump") == 0)
		return 0;
	if ((res = target_resources(ctx)) == NULL)
		return -1;
	rec = cJSON_GetObjectItemCaseSensitive(res, name);
	if (rec == NULL || field(rec, "type") == NULL ||
	    strcmp(field(rec, "type"), "instance") != 0) {
		buf_init(&names);
		cJSON_ArrayForEach(r, res)
			if (field(r, "type") && strcmp(field(r, "type"),
			    "instance") == 0)
				buf_printf(&names, "%s%s", names.len ? ", " :
				    "", r->string);
		cmd_error(ctx, "no node '%s' in workspace '%s' (targets: %s)",
		    name, ctx->workspace, names.len ? names.data : "none");
		buf_release(&names);
		return -1;
	}
	if ((st = attr(rec, "state")) != NULL && (strcmp(st, "stopped") == 0 ||
	    strcmp(st, "stopping") == 0))
		return cmd_error(ctx, "node '%s' is %s; 'node %s start' starts "
		    "it", name, st, name), -1;
	if ((ip = attr(rec, "private_ip")) == NULL)
		return cmd_error(ctx, "node '%s' has no private address yet "
		    "('status --refresh' reads it)", name), -1;
	node_alias(ctx, ip, field(rec, "id"), attr(rec, "login_user"), name);
	*node = xstrdup(ip);
	return 0;
}

void
target_console_fingerprints(const char *console, struct strlist *out)
{
	const char *b = strstr(console, "-----BEGIN SSH HOST KEY FINGERPRINTS-----");
	const char *e = b ? strstr(b, "-----END SSH HOST KEY FINGERPRINTS-----") :
	    NULL;

	if (b == NULL || e == NULL)
		return;
	for (const char *p = b; p < e && (p = strstr(p, "SHA256:")) != NULL &&
	    p < e; ) {
		size_t n = strcspn(p, " \t\r\n");
		strlist_addn(out, p, n);
		p += n;
	}
}

/* The SHA256 fingerprints instance id's console output publishes (none
 * when it publishes none, or the call fails: then trust on first use). */
static void
console_fingerprints(struct mlsh_ctx *ctx, const char *id, struct strlist *fps)
{
	cJSON *p, *r = NULL;
	const cJSON *out;
	struct aws_error err;

	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "InstanceId", id);
	memset(&err, 0, sizeof err);
	if (aws_call(shell_aws(ctx), "ec2", "GetConsoleOutput", p, &r,
	    &err) == 0 && cJSON_IsString(out = cJSON_GetObjectItemCaseSensitive(
	    r, "output"))) {
		size_t len = strlen(out->valuestring);
		unsigned char *dec = xmalloc(len / 4 * 3 + 4);
		int n = EVP_DecodeBlock(dec, (const unsigned char *)
		    out->valuestring, (int)len);
		if (n >= 0) {
			dec[n] = '\0';
			target_console_fingerprints((char *)dec, fps);
		}
		free(dec);
	}
	aws_error_release(&err);
	cJSON_Delete(p);
	cJSON_Delete(r);
}

/* On first contact (no key pinned under the instance's id), check the
 * host's key against the fingerprints its console output published. */
static void
expect_console_keys(struct mlsh_ctx *ctx, struct rmt_session *s,
    const char *name, const char *host)
{
	const cJSON *res = target_resources(ctx), *rec;
	const char *id;
	char *kh;
	struct strlist fps;
	int known;

	rec = res ? cJSON_GetObjectItemCaseSensitive(res, name) : NULL;
	if ((id = field(rec, "id")) == NULL)
		return;
	kh = xasprintf("%s/known_hosts", ctx->state_dir);
	known = rmt_known_hosts_has(kh, id);
	free(kh);
	if (known)
		return;		/* the pin decides; any other key is a change */
	strlist_init(&fps);
	console_fingerprints(ctx, id, &fps);
	if (fps.n > 0)
		rmt_expect_hostkeys(s, host, 22, (const char *const *)fps.v,
		    fps.n);
	strlist_release(&fps);
}

struct rmt_session *
target_session_own(struct mlsh_ctx *ctx, const char *node, const char *name)
{
	const struct rmt_config *cfg = target_config_connect(ctx);
	struct rmt_config c;
	struct rmt_session *s;
	const char *alias, *user;

	if (cfg == NULL)
		return NULL;
	c = *cfg;
	c.passphrase = NULL;	/* no prompt from another thread */
	s = rmt_session_new(&c);
	target_node_login(ctx, node, &alias, &user);
	if (alias != NULL)
		rmt_hostkey_alias(s, node, 22, alias);
	if (user != NULL)
		rmt_node_user(s, node, user);
	rmt_label_node(s, node, name);
	expect_console_keys(ctx, s, name, node);
	return s;
}

/* A connect failure that a host still coming up gives. */
static int
not_up_yet(const char *cause)
{
	static const char *const why[] = { "refused", "connect failed",
	    "unreachable", "no route to host", "timed out", NULL };

	for (size_t i = 0; why[i] != NULL; i++)
		if (strcasestr(cause, why[i]) != NULL)
			return 1;
	return 0;
}

/* The jump host did not answer at all: most often its security group does
 * not admit this address (AWS drops, so it times out). */
static int
jump_dropped(const char *cause)
{
	return str_startswith(cause, "jump ") &&
	    strcasestr(cause, "timed out") != NULL;
}

int
target_connect(struct mlsh_ctx *ctx, struct rmt_session *s, const char *node,
    const char *name, int timeout_s)
{
	double deadline = now_ms() + timeout_s * 1000.0;
	char *cause = NULL, *hint = NULL;
	int said = 0, hinted = 0;

	/* The jump host's published keys came with the config. */
	if (node != NULL)
		expect_console_keys(ctx, s, name, node);

	for (;;) {
		if (rmt_connect(s, node, &cause) == 0) {
			if (said)
				fputc('\n', stderr);
			return 0;
		}
		/* Only "not up yet" is worth waiting for: right after `vpc up`
		 * a host's address may have no route yet (unreachable, no
		 * route; in the lab, a host the reconciler has not made yet)
		 * or drop SYNs while it boots (timed out), and its sshd may
		 * refuse before it starts. */
		if (!not_up_yet(cause) || now_ms() >= deadline ||
		    mlsh_interrupted)
			break;
		/* A jump host that drops us may never admit this address
		 * (its security group): say so at once rather than wait. */
		if (!hinted && jump_dropped(cause)) {
			hinted = 1;
			if ((hint = checkip_jump_hint(ctx)) != NULL)
				break;
		}
		if (!said) {
			fprintf(stderr, "ssh: waiting for %s's sshd …", name);
			said = 1;
		} else
			fputc('.', stderr);
		fflush(stderr);
		free(cause);
		cause = NULL;
		usleep(500 * 1000);
	}
	if (said)
		fputc('\n', stderr);
	if (!hinted && jump_dropped(cause))
		hint = checkip_jump_hint(ctx);
	if (hint != NULL)
		cmd_error(ctx, "%s: %s", cause, hint);
	else
		cmd_error(ctx, "%s", cause);
	free(hint);
	free(cause);
	return -1;
}

void
target_complete(struct mlsh_ctx *ctx, const char *prefix, struct strlist *out)
{
	char *p = xasprintf("%s/%s.json", ctx->state_dir, ctx->workspace);
	char *text, *cause = NULL;
	cJSON *root, *r;

	if (str_startswith("jump", prefix))
		strlist_add(out, "jump");
	text = file_read(p, NULL, &cause);
	free(p);
	free(cause);
	if (text == NULL)
		return;
	root = cJSON_Parse(text);
	free(text);
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(root,
	    "resources"))
		if (field(r, "type") && strcmp(field(r, "type"), "instance") ==
		    0 && strcmp(r->string, "jump") != 0 &&
		    str_startswith(r->string, prefix))
			strlist_add(out, r->string);
	cJSON_Delete(root);
}

/* rmt_walk: the names in the directory listed, not below. */
static int
list_one(void *arg, const char *rel, const struct rmt_stat *st, char **cause)
{
	(void)cause;
	if (*rel == '\0')
		return 0;
	strlist_take(arg, S_ISDIR(st->mode) ? xasprintf("%s/", rel) :
	    xstrdup(rel));
	return 1;
}

/* The names in dir on target, from the cache or listed now within
 * PATH_LIST_MS; only on a host whose key is already pinned (first contact
 * checks the console's fingerprints: target_connect's job, not Tab's). */
static const struct strlist *
remote_dir(struct mlsh_ctx *ctx, const char *target, const char *dir)
{
	struct target_state *ts = tstate(ctx);
	char *key = xasprintf("%s\n%s", target, dir), *node = NULL;
	char *saved = ctx->error, *cause = NULL;
	const char *alias = NULL, *user;
	struct path_cache *pc;
	struct rmt_session *s;

	for (unsigned i = 0; i < ts->npaths && i < PATH_CACHE_N; i++) {
		pc = &ts->paths[i];
		if (strcmp(pc->key, key) == 0 &&
		    now_ms() - pc->at < PATH_CACHE_MS) {
			free(key);
			return &pc->names;
		}
	}
	pc = &ts->paths[ts->npaths++ % PATH_CACHE_N];
	free(pc->key);
	strlist_release(&pc->names);
	strlist_init(&pc->names);
	pc->key = key;
	ctx->error = NULL;	/* nothing said at the prompt */
	if (target_resolve(ctx, target, &node) == 0 &&
	    (s = target_session(ctx)) != NULL) {
		if (node != NULL)
			target_node_login(ctx, node, &alias, &user);
		else
			alias = ts->jump_alias;
		if (alias != NULL && rmt_known_hosts_has(ts->known_hosts,
		    alias)) {
			ts->connect_ms = PATH_LIST_MS;
			rmt_session_limit(s, PATH_LIST_MS);
			if (rmt_walk(s, node, *dir ? dir : ".", list_one,
			    &pc->names, &cause) != 0)
				strlist_release(&pc->names);
			rmt_session_limit(s, 0);
			ts->connect_ms = 0;
			free(cause);
		}
	}
	free(node);
	free(ctx->error);
	ctx->error = saved;
	pc->at = now_ms();
	return &pc->names;
}

void
target_complete_path(struct mlsh_ctx *ctx, const char *target,
    const char *prefix, struct strlist *out)
{
	const char *slash = strrchr(prefix, '/');
	const char *base = slash ? slash + 1 : prefix;
	char *dir = xstrndup(prefix, (size_t)(base - prefix));
	const struct strlist *names = remote_dir(ctx, target, dir);

	for (size_t i = 0; i < names->n; i++)
		if (str_startswith(names->v[i], base) &&
		    (names->v[i][0] != '.' || base[0] == '.'))
			strlist_take(out, xasprintf("%s:%s%s", target, dir,
			    names->v[i]));
	free(dir);
}

void
target_forget_instance(struct mlsh_ctx *ctx, const char *id)
{
	char *path = xasprintf("%s/known_hosts", ctx->state_dir), *cause = NULL;
	int n = rmt_known_hosts_forget(path, id, &cause);

	if (n == -1) {
		/* The instance is gone either way; say why its pin stays. */
		fprintf(stderr, "warning: %s\n", cause);
		free(cause);
	} else if (n > 0)
		target_reset(ctx);	/* drop connections to the old host */
	free(path);
}

void
target_reset(struct mlsh_ctx *ctx)
{
	struct target_state *ts = tstate(ctx);

	if (ts->remote != NULL)
		rmt_session_free(ts->remote);
	ts->remote = NULL;
	strlist_release(&ts->alias_ip);
	strlist_release(&ts->alias_id);
	strlist_release(&ts->alias_user);
	strlist_release(&ts->alias_name);
	free(ts->cfg);
	ts->cfg = NULL;
	for (unsigned i = 0; i < PATH_CACHE_N; i++) {
		free(ts->paths[i].key);
		ts->paths[i].key = NULL;
		strlist_release(&ts->paths[i].names);
	}
	ts->npaths = 0;
}

/* SSH keep-alives and dropped-connection checks before each prompt. */
static void
target_tick(struct mlsh_ctx *ctx)
{
	struct target_state *ts = tstate(ctx);

	if (ts->remote != NULL)
		rmt_session_tick(ts->remote);
}

static void
target_free(struct mlsh_ctx *ctx)
{
	void **slot = shell_service_slot(ctx, &svc_target);
	struct target_state *ts = *slot;

	if (ts == NULL)
		return;
	target_reset(ctx);
	cJSON_Delete(ts->snapshot);
	free(ts->jump_host);
	free(ts->jump_alias);
	free(ts->key_file);
	free(ts->known_hosts);
	strlist_release(&ts->jump_fps);
	if (ts->netns_fd >= 0)
		close(ts->netns_fd);
	free(ts);
	*slot = NULL;
}

/* The session's SSH reach, dropped on a workspace switch (another stack,
 * another jump host). */
const struct mlsh_service svc_target = {
	.name = "target",
	.reset = target_reset,
	.tick = target_tick,
	.free = target_free,
};
