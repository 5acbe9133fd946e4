/* http.c: one signed HTTP attempt over libcurl.
 *
 * A client keeps one easy handle per endpoint, so calls to the same service
 * reuse the kept-alive connection, and a share handle for TLS sessions, DNS
 * and the connection cache, so the extra handles aws_call_many creates reuse
 * them too. Sockets can be opened inside another network namespace. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "aws/internal.h"
#include "aws/sigv4.h"

#ifndef MLSH_VERSION
#define MLSH_VERSION "dev"
#endif

struct aws_conn {
	char *base;
	CURL *easy;
	struct aws_conn *next;
};

static size_t on_body(char *, size_t, size_t, void *);
static size_t on_header(char *, size_t, size_t, void *);
static int on_progress(void *, curl_off_t, curl_off_t, curl_off_t,
    curl_off_t);
static curl_socket_t on_open_socket(void *, curlsocktype,
    struct curl_sockaddr *);
static char *redact(const char *text, const char *secret);
static char *size_text(size_t);
static char *redact_after(const char *text, const char *marker,
    const char *stop);
static CURL *conn_easy(struct aws_client *, const char *base);

int
aws_http_global_init(void)
{
	static int done;

	if (!done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return -1;
		done = 1;
	}
	return 0;
}

int
aws_http_client_init(struct aws_client *c, char **cause)
{
	c->self_netns_fd = -1;
	if (aws_http_global_init() != 0) {
		*cause = xstrdup("cannot initialise libcurl");
		return -1;
	}
	if (c->opt.netns_fd >= 0) {
		c->self_netns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (c->self_netns_fd < 0) {
			*cause = xasprintf("cannot open /proc/self/ns/net: %s",
			    strerror(errno));
			return -1;
		}
	}
	c->share = curl_share_init();
	if (c->share == NULL) {
		*cause = xstrdup("cannot create a curl share handle");
		return -1;
	}
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	return 0;
}

void
aws_http_client_release(struct aws_client *c)
{
	struct aws_conn *k, *next;

	for (k = c->conns; k != NULL; k = next) {
		next = k->next;
		curl_easy_cleanup(k->easy);
		free(k->base);
		free(k);
	}
	c->conns = NULL;
	if (c->share != NULL)
		curl_share_cleanup(c->share);
	c->share = NULL;
	if (c->self_netns_fd >= 0)
		close(c->self_netns_fd);
	c->self_netns_fd = -1;
}

static CURL *
conn_easy(struct aws_client *c, const char *base)
{
	struct aws_conn *k;

	for (k = c->conns; k != NULL; k = k->next) {
		if (strcmp(k->base, base) == 0)
			return k->easy;
	}
	k = xcalloc(1, sizeof *k);
	k->easy = curl_easy_init();
	if (k->easy == NULL) {
		free(k);
		return NULL;
	}
	k->base = xstrdup(base);
	k->next = c->conns;
	c->conns = k;
	return k->easy;
}

/* "https://host:port/prefix" -> host "host:port", path prefix "/prefix". */
static void
split_url(const char *base, char **host, char **prefix)
{
	const char *h = strstr(base, "://"), *slash;

	h = h != NULL ? h + 3 : base;
	slash = strchr(h, '/');
	if (slash == NULL) {
		*host = xstrdup(h);
		*prefix = xstrdup("");
	} else {
		*host = xstrndup(h, (size_t)(slash - h));
		*prefix = xstrdup(slash);
	}
}

int
aws_attempt_prepare(struct aws_attempt *at, int use_own_easy,
    struct aws_error *err)
{
	struct aws_client *c = at->client;
	const struct aws_creds *cr = at->creds;
	struct sigv4_header sh[16 + 8];
	struct sigv4_request sreq;
	struct sigv4_params sp;
	struct sigv4_result sres;
	struct buf line, tr;
	struct strlist hnames;
	char *base, *host, *prefix, *full_path, *cause = NULL, *s, *t;
	char date[17];
	const char *ca;
	size_t nh = 0, i;
	long connect_ms, timeout_ms;

	memset(&sres, 0, sizeof sres);
	at->t0 = now_ms();
	base = aws_endpoint_url(at->svc, c->region, c->opt.endpoint_url);
	split_url(base, &host, &prefix);
	full_path = xasprintf("%s%s", prefix, at->req.path);
	at->url = xasprintf("%s%s%s%s", base, at->req.path,
	    at->req.query[0] != '\0' ? "?" : "", at->req.query);

	sigv4_amz_date((long long)time(NULL), date);
	sh[nh].name = "Host";
	sh[nh++].value = host;
	sh[nh].name = "X-Amz-Date";
	sh[nh++].value = date;
	if (at->req.content_type != NULL) {
		sh[nh].name = "Content-Type";
		sh[nh++].value = at->req.content_type;
	}
	if (at->req.target != NULL) {
		sh[nh].name = "X-Amz-Target";
		sh[nh++].value = at->req.target;
	}
	if (cr->session_token != NULL && cr->session_token[0] != '\0') {
		sh[nh].name = "X-Amz-Security-Token";
		sh[nh++].value = cr->session_token;
	}
	/* REST header members, "Name: value". */
	strlist_init(&hnames);
	for (i = 0; i < at->req.headers.n && nh < sizeof sh / sizeof sh[0]; i++) {
		s = at->req.headers.v[i];
		t = strchr(s, ':');
		if (t == NULL)
			continue;
		strlist_addn(&hnames, s, (size_t)(t - s));
		sh[nh].name = hnames.v[hnames.n - 1];
		sh[nh++].value = t + 1 + (t[1] == ' ');
	}

	memset(&sreq, 0, sizeof sreq);
	sreq.method = at->req.method;
	sreq.path = full_path;
	sreq.query = at->req.query;
	sreq.headers = sh;
	sreq.nheaders = nh;
	sreq.body = at->req.body.data;
	sreq.body_len = at->req.body.len;
	memset(&sp, 0, sizeof sp);
	sp.access_key = cr->access_key;
	sp.secret_key = cr->secret_key;
	sp.session_token = cr->session_token;
	sp.region = aws_signing_region(at->svc, c->region);
	sp.service = at->svc->signing_name;
	sp.amz_date = date;
	sp.normalize_path = 1;
	sp.sign_session_token = 1;
	if (sigv4_sign(&sreq, &sp, &sres, &cause) != 0) {
		aws_error_set(err, 0, at->svc->name, "SigningError", cause, NULL);
		free(cause);
		strlist_release(&hnames);
		free(base);
		free(host);
		free(prefix);
		free(full_path);
		return -1;
	}

	buf_init(&line);
	for (i = 0; i < nh; i++) {
		if (strcasecmp(sh[i].name, "Host") == 0)
			continue;	/* below, exactly as signed */
		buf_reset(&line);
		buf_printf(&line, "%s: %s", sh[i].name, sh[i].value);
		at->hdrs = curl_slist_append(at->hdrs, line.data);
	}
	buf_reset(&line);
	buf_printf(&line, "Host: %s", host);
	at->hdrs = curl_slist_append(at->hdrs, line.data);
	buf_reset(&line);
	buf_printf(&line, "Authorization: %s", sres.authorization);
	at->hdrs = curl_slist_append(at->hdrs, line.data);
	at->hdrs = curl_slist_append(at->hdrs, "Expect:");
	at->hdrs = curl_slist_append(at->hdrs, "Accept:");
	at->hdrs = curl_slist_append(at->hdrs, "User-Agent: mlsh/" MLSH_VERSION);
	if (at->req.content_type == NULL)
		at->hdrs = curl_slist_append(at->hdrs, "Content-Type:");
	buf_release(&line);

	if (c->opt.trace != NULL) {
		char *r1, *r2, *r3;

		buf_init(&tr);
		/* The action on the first line: the body (query protocols)
		 * is not shown, and bench/refresh.sh counts calls by it.
		 * Sanitised: it is the caller's text (`api`). */
		s = str_sanitize(at->action ? at->action : "-", 0);
		buf_printf(&tr, "%s %s (%s %s)\n", at->req.method, at->url,
		    at->svc->name, s);
		free(s);
		buf_printf(&tr, "attempt %d/%d\n", at->attempt, c->max_attempts);
		buf_printf(&tr, "--- canonical request\n%s\n",
		    sres.canonical_request);
		buf_printf(&tr, "--- string to sign\n%s\n", sres.string_to_sign);
		buf_printf(&tr, "--- authorization\n%s\n", sres.authorization);
		/* Nothing secret may leave: the token's header value, the
		 * signature, and (never expected there) the key or token. */
		r1 = redact_after(tr.data, "x-amz-security-token:", "\n");
		r2 = redact_after(r1, "Signature=", ",\n");
		free(r1);
		r1 = redact(r2, cr->secret_key);
		free(r2);
		r3 = redact(r1, cr->session_token);
		free(r1);
		at->trace_head = r3;
		buf_release(&tr);
	}
	sigv4_result_release(&sres);
	strlist_release(&hnames);

	if (use_own_easy) {
		at->easy = curl_easy_init();
		at->own_easy = 1;
	} else {
		at->easy = conn_easy(c, base);
		if (at->easy != NULL)
			curl_easy_reset(at->easy);
	}
	free(base);
	free(host);
	free(prefix);
	free(full_path);
	if (at->easy == NULL) {
		aws_error_set(err, 0, at->svc->name, "NetworkError",
		    "cannot create a curl handle", NULL);
		return -1;
	}

	/* A waiter's deadline bounds the attempt too. */
	timeout_ms = c->timeout_ms;
	if (c->deadline > 0) {
		double left = c->deadline - now_ms();

		if (left < (double)timeout_ms)
			timeout_ms = left > 1 ? (long)left : 1;
	}
	connect_ms = timeout_ms < 10000 ? timeout_ms : 10000;
	curl_easy_setopt(at->easy, CURLOPT_URL, at->url);
	curl_easy_setopt(at->easy, CURLOPT_SHARE, c->share);
	curl_easy_setopt(at->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(at->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(at->easy, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	curl_easy_setopt(at->easy, CURLOPT_HTTPHEADER, at->hdrs);
	curl_easy_setopt(at->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(at->easy, CURLOPT_WRITEDATA, &at->resp);
	/* The cap: refused up front when Content-Length says so, else the
	 * write callback stops the transfer (on_body). */
	at->resp.max_body = c->max_body;
	curl_easy_setopt(at->easy, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)c->max_body);
	curl_easy_setopt(at->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(at->easy, CURLOPT_HEADERDATA, &at->resp);
	curl_easy_setopt(at->easy, CURLOPT_ERRORBUFFER, at->errbuf);
	curl_easy_setopt(at->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(at->easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(at->easy, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(at->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(at->easy, CURLOPT_PRIVATE, at);
	if ((ca = getenv("AWS_CA_BUNDLE")) != NULL && *ca != '\0')
		curl_easy_setopt(at->easy, CURLOPT_CAINFO, ca);
	if (c->opt.interrupted != NULL) {
		curl_easy_setopt(at->easy, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(at->easy, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(at->easy, CURLOPT_XFERINFODATA, c);
	}
	if (c->opt.netns_fd >= 0) {
		curl_easy_setopt(at->easy, CURLOPT_OPENSOCKETFUNCTION,
		    on_open_socket);
		curl_easy_setopt(at->easy, CURLOPT_OPENSOCKETDATA, c);
	}
	if (strcmp(at->req.method, "GET") == 0) {
		curl_easy_setopt(at->easy, CURLOPT_HTTPGET, 1L);
	} else {
		if (strcmp(at->req.method, "POST") != 0)
			curl_easy_setopt(at->easy, CURLOPT_CUSTOMREQUEST,
			    at->req.method);
		if (at->req.content_type != NULL ||
		    strcmp(at->req.method, "POST") == 0) {
			curl_easy_setopt(at->easy, CURLOPT_POSTFIELDS,
			    at->req.body.data ? at->req.body.data : "");
			curl_easy_setopt(at->easy, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)at->req.body.len);
		}
	}
	return 0;
}

static const char *
curl_code_name(CURLcode rc)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return "RequestTimeout";
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return "ConnectionError";
	case CURLE_ABORTED_BY_CALLBACK:
		return "Interrupted";
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
		return "TLSError";
	default:
		return "NetworkError";
	}
}

int
aws_attempt_finish(struct aws_attempt *at, CURLcode rc, struct aws_error *err)
{
	struct aws_client *c = at->client;
	double ms = now_ms() - at->t0;
	char *msg;
	long status = 0;

	if (rc == CURLE_OK) {
		curl_easy_getinfo(at->easy, CURLINFO_RESPONSE_CODE, &status);
		at->resp.status = status;
	}
	if (c->opt.trace != NULL) {
		struct buf tr;

		buf_init(&tr);
		buf_adds(&tr, at->trace_head ? at->trace_head : "");
		long nconn = 0;

		curl_easy_getinfo(at->easy, CURLINFO_NUM_CONNECTS, &nconn);
		if (rc == CURLE_OK)
			buf_printf(&tr, "--- response\nstatus %ld", status);
		else
			buf_printf(&tr, "--- response\nfailed: %s",
			    at->errbuf[0] ? at->errbuf : curl_easy_strerror(rc));
		buf_printf(&tr, ", %.1f ms, request id %s, attempt %d, %s "
		    "connection\n", ms,
		    at->resp.request_id ? at->resp.request_id : "-",
		    at->attempt, nconn > 0 ? "new" : "reused");
		c->opt.trace(c->opt.trace_arg, tr.data);
		buf_release(&tr);
	}
	if (rc == CURLE_OK)
		return 0;
	if (rc == CURLE_FILESIZE_EXCEEDED || (rc == CURLE_WRITE_ERROR &&
	    at->resp.too_big)) {
		char *lim = size_text(c->max_body);

		msg = xasprintf("the %s answer is larger than %s, the limit "
		    "(MLSH_MAX_BODY raises it); not read", at->action, lim);
		free(lim);
		aws_error_set(err, 0, at->svc->name, "ResponseTooLarge", msg,
		    at->resp.request_id);
		free(msg);
		return -1;
	}
	if (rc == CURLE_OPERATION_TIMEDOUT)
		msg = xasprintf("no answer from %s within %.0f ms", at->url, ms);
	else
		msg = xasprintf("%s: %s", at->url,
		    at->errbuf[0] ? at->errbuf : curl_easy_strerror(rc));
	aws_error_set(err, 0, at->svc->name, curl_code_name(rc), msg, NULL);
	free(msg);
	return -1;
}

void
aws_attempt_release(struct aws_attempt *at)
{
	if (at->own_easy && at->easy != NULL)
		curl_easy_cleanup(at->easy);
	at->easy = NULL;
	curl_slist_free_all(at->hdrs);
	at->hdrs = NULL;
	free(at->url);
	at->url = NULL;
	free(at->trace_head);
	at->trace_head = NULL;
	aws_response_release(&at->resp);
	aws_response_init(&at->resp);
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct aws_response *r = arg;

	/* Past the cap: a short count makes libcurl stop the transfer. */
	if (r->max_body > 0 && size * n > r->max_body - r->body.len) {
		r->too_big = 1;
		return 0;
	}
	buf_add(&r->body, p, size * n);
	return size * n;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct aws_response *r = arg;
	size_t len = size * n, nl;
	const char *colon = memchr(p, ':', len), *v, *e;
	char **slot = NULL;

	if (colon == NULL)
		return len;
	nl = (size_t)(colon - p);
	if (nl == 16 && strncasecmp(p, "x-amzn-RequestId", nl) == 0)
		slot = &r->request_id;
	else if (nl == 16 && strncasecmp(p, "x-amz-request-id", nl) == 0)
		slot = &r->request_id;
	else if (nl == 16 && strncasecmp(p, "x-amzn-ErrorType", nl) == 0)
		slot = &r->error_type;
	if (slot == NULL)
		return len;
	v = colon + 1;
	e = p + len;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
		e--;
	free(*slot);
	{
		/* Shown in errors and --trace: never raw server bytes. */
		char *raw = xstrndup(v, (size_t)(e - v));

		*slot = str_sanitize(raw, 0);
		free(raw);
	}
	return len;
}

static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	struct aws_client *c = arg;

	(void)dt, (void)dn, (void)ut, (void)un;
	return c->opt.interrupted(c->opt.interrupted_arg) ? 1 : 0;
}

/* The socket is created inside the target namespace; the thread goes back
 * to its own right after, so nothing else in the process sees the switch. */
static curl_socket_t
on_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct aws_client *c = arg;
	int fd, saved;

	(void)purpose;
	if (setns(c->opt.netns_fd, CLONE_NEWNET) != 0)
		return CURL_SOCKET_BAD;
	fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	saved = errno;
	if (setns(c->self_netns_fd, CLONE_NEWNET) != 0) {
		if (fd >= 0)
			close(fd);
		return CURL_SOCKET_BAD;
	}
	errno = saved;
	return fd < 0 ? CURL_SOCKET_BAD : fd;
}

/* "64 MiB", "512 KiB", "1000 bytes". */
static char *
size_text(size_t n)
{
	if (n >= (1UL << 30) && n % (1UL << 30) == 0)
		return xasprintf("%zu GiB", n >> 30);
	if (n >= (1UL << 20) && n % (1UL << 20) == 0)
		return xasprintf("%zu MiB", n >> 20);
	if (n >= (1UL << 10) && n % (1UL << 10) == 0)
		return xasprintf("%zu KiB", n >> 10);
	return xasprintf("%zu bytes", n);
}

/* Every value following marker (case-insensitive) up to a stop character
 * becomes "<redacted>". */
static char *
redact_after(const char *text, const char *marker, const char *stop)
{
	struct buf b;
	const char *p, *hit;
	size_t n = strlen(marker);

	buf_init(&b);
	for (p = text; (hit = strcasestr(p, marker)) != NULL; ) {
		buf_add(&b, p, (size_t)(hit - p) + n);
		buf_adds(&b, "<redacted>");
		p = hit + n;
		p += strcspn(p, stop);
	}
	buf_adds(&b, p);
	return buf_detach_release(&b);
}

/* Whole occurrences of a secret; short ones (never real keys) would only
 * garble the text. */
static char *
redact(const char *text, const char *secret)
{
	struct buf b;
	const char *p, *hit;
	size_t n;

	if (secret == NULL || strlen(secret) < 16)
		return xstrdup(text);
	n = strlen(secret);
	buf_init(&b);
	for (p = text; (hit = strstr(p, secret)) != NULL; p = hit + n) {
		buf_add(&b, p, (size_t)(hit - p));
		buf_adds(&b, "<redacted>");
	}
	buf_adds(&b, p);
	return buf_detach_release(&b);
}
