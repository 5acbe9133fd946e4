/* sigv4.c: AWS Signature Version 4 header signing.
 *
 * The canonical request is built the way the official test suite
 * (tests/sigv4-suite) and botocore's SigV4Auth build it:
 *
 *  - path: with normalize_path, dot segments and empty segments are removed
 *    (botocore's remove_dot_segments) and the result is percent-encoded once
 *    more, '/' kept. The path is the one on the request line, so an already
 *    encoded "/a%20b" signs as "/a%2520b": the double encoding every SDK
 *    but S3's does. Without normalize_path (S3) the path is signed verbatim.
 *  - query: split on '&' (empty pieces skipped), each key and value
 *    percent-decoded and re-encoded with the RFC 3986 unreserved set, a key
 *    without '=' gets an empty value, pairs sorted by key then value.
 *  - headers: names lowercased, values trimmed with inner runs of blanks
 *    (folded lines included) collapsed to one space, repeated names joined
 *    with ',' in the order given, sorted by name. Hop-by-hop headers and
 *    User-Agent are never signed (botocore's list), nor is Authorization.
 *  - X-Amz-Date is signed with params->amz_date: a header given with another
 *    value is an error, and when none is given one is signed anyway, so the
 *    caller must send it.
 *  - X-Amz-Security-Token: with sign_session_token and a session token, the
 *    token is signed (replacing any such header given); without
 *    sign_session_token no such header is signed.
 *  - payload hash: req->payload_hash, else an X-Amz-Content-SHA256 header
 *    (S3's UNSIGNED-PAYLOAD), else the SHA-256 of the body.
 */
#include "aws/sigv4.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "lib/util.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"

struct sigv4_hdr {
	char *name;	/* lowercased, trimmed */
	char *value;	/* trimmed, blanks collapsed */
	size_t order;	/* position given, so repeated names keep their order */
};

struct sigv4_hdrs {
	struct sigv4_hdr *v;
	size_t n;
	size_t cap;
};

struct sigv4_qparam {
	char *key;	/* encoded */
	char *value;	/* encoded */
};

static const char sigv4_hex[] = "0123456789abcdef";
static const char sigv4_hex_upper[] = "0123456789ABCDEF";

/* Never signed: hop-by-hop headers a proxy may change, plus what botocore
 * leaves out (User-Agent, X-Amzn-Trace-Id) and the signature itself. */
static const char *const sigv4_unsigned_headers[] = {
	"authorization", "connection", "expect", "keep-alive",
	"proxy-authenticate", "proxy-authorization", "te", "trailer",
	"transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
};

static int	 sigv4_check(const struct sigv4_request *,
		    const struct sigv4_params *, char **);
static int	 sigv4_collect_headers(const struct sigv4_request *,
		    const struct sigv4_params *, struct sigv4_hdrs *, char **);
static void	 sigv4_hdrs_add(struct sigv4_hdrs *, char *, char *);
static void	 sigv4_hdrs_release(struct sigv4_hdrs *);
static const char *sigv4_hdrs_find(const struct sigv4_hdrs *, const char *);
static int	 sigv4_hdr_cmp(const void *, const void *);
static char	*sigv4_header_name(const char *);
static char	*sigv4_trimall(const char *);
static int	 sigv4_is_blank(unsigned char);
static int	 sigv4_is_unsigned(const char *);
static char	*sigv4_canonical_path(const char *, int);
static char	*sigv4_remove_dot_segments(const char *);
static char	*sigv4_canonical_query(const char *);
static char	*sigv4_reencode(const char *, size_t);
static int	 sigv4_unhex(unsigned char);
static int	 sigv4_qparam_cmp(const void *, const void *);
static int	 sigv4_hmac(const void *, size_t, const char *, unsigned char *);
static int	 sigv4_signature(const struct sigv4_params *, const char *,
		    char *);
static void	 sigv4_tohex(const unsigned char *, size_t, char *);
static void	 sigv4_put_digits(char *, unsigned long long, int);

int
sigv4_sign(const struct sigv4_request *req, const struct sigv4_params *p,
    struct sigv4_result *out, char **cause)
{
	struct sigv4_hdrs hdrs = { NULL, 0, 0 };
	struct buf creq, names, sts;
	const char *content_sha256;
	char *path, *query, *payload_hash, *creq_hash;
	char signature[65], date[9];
	size_t i;

	memset(out, 0, sizeof *out);
	if (sigv4_check(req, p, cause) == -1)
		return -1;
	if (sigv4_collect_headers(req, p, &hdrs, cause) == -1)
		return -1;

	content_sha256 = sigv4_hdrs_find(&hdrs, "x-amz-content-sha256");
	if (req->payload_hash != NULL)
		payload_hash = xstrdup(req->payload_hash);
	else if (content_sha256 != NULL)
		payload_hash = xstrdup(content_sha256);
	else
		payload_hash = sigv4_hex_sha256(req->body, req->body_len);
	if (payload_hash == NULL) {
		sigv4_hdrs_release(&hdrs);
		*cause = xstrdup("cannot sign request: sha-256 failed");
		return -1;
	}

	path = sigv4_canonical_path(req->path, p->normalize_path);
	query = sigv4_canonical_query(req->query);

	buf_init(&creq);
	buf_init(&names);
	buf_printf(&creq, "%s\n%s\n%s\n", req->method, path, query);
	for (i = 0; i < hdrs.n; i++) {
		if (i > 0 && strcmp(hdrs.v[i].name, hdrs.v[i - 1].name) == 0) {
			/* A repeated name: one line, values in order. */
			buf_addc(&creq, ',');
			buf_adds(&creq, hdrs.v[i].value);
			continue;
		}
		if (i > 0) {
			buf_addc(&creq, '\n');
			buf_addc(&names, ';');
		}
		buf_printf(&creq, "%s:%s", hdrs.v[i].name, hdrs.v[i].value);
		buf_adds(&names, hdrs.v[i].name);
	}
	buf_printf(&creq, "\n\n%s\n%s", names.data, payload_hash);
	free(path);
	free(query);
	free(payload_hash);
	sigv4_hdrs_release(&hdrs);

	creq_hash = sigv4_hex_sha256(creq.data, creq.len);
	if (creq_hash == NULL) {
		buf_release(&creq);
		buf_release(&names);
		*cause = xstrdup("cannot sign request: sha-256 failed");
		return -1;
	}
	memcpy(date, p->amz_date, 8);
	date[8] = '\0';
	buf_init(&sts);
	buf_printf(&sts, "%s\n%s\n%s/%s/%s/aws4_request\n%s", SIGV4_ALGORITHM,
	    p->amz_date, date, p->region, p->service, creq_hash);
	free(creq_hash);

	if (sigv4_signature(p, sts.data, signature) == -1) {
		buf_release(&creq);
		buf_release(&names);
		buf_release(&sts);
		*cause = xstrdup("cannot sign request: hmac-sha256 failed");
		return -1;
	}

	/* The buffers' data are handed over as they are. */
	out->canonical_request = creq.data;
	out->string_to_sign = sts.data;
	out->signed_headers = names.data;
	out->signature = xstrdup(signature);
	out->authorization = xasprintf("%s Credential=%s/%s/%s/%s/aws4_request, "
	    "SignedHeaders=%s, Signature=%s", SIGV4_ALGORITHM, p->access_key,
	    date, p->region, p->service, names.data, signature);
	return 0;
}

void
sigv4_result_release(struct sigv4_result *r)
{
	if (r == NULL)
		return;
	free(r->canonical_request);
	free(r->string_to_sign);
	free(r->signed_headers);
	free(r->signature);
	free(r->authorization);
	memset(r, 0, sizeof *r);
}

/* Returns NULL only if OpenSSL fails. */
char *
sigv4_hex_sha256(const void *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char *hex;

	if (EVP_Digest(data != NULL ? data : "", len, md, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen != 32)
		return NULL;
	hex = xmalloc(65);
	sigv4_tohex(md, 32, hex);
	return hex;
}

char *
sigv4_uri_encode(const char *s, size_t len, int keep_slash)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~' || (c == '/' && keep_slash)) {
			buf_addc(&b, (char)c);
			continue;
		}
		buf_addc(&b, '%');
		buf_addc(&b, sigv4_hex_upper[c >> 4]);
		buf_addc(&b, sigv4_hex_upper[c & 0xf]);
	}
	return b.data;
}

/* Civil date from days since 1970-01-01 (Howard Hinnant's algorithm), so
 * no time zone or libc range enters the result. */
void
sigv4_amz_date(long long t, char out[17])
{
	unsigned long long days, secs, era, doe, yoe, doy, mp, y, m, d;

	/* Four-digit years only: 1970-01-01 through 9999-12-31. */
	if (t < 0)
		t = 0;
	if (t > 253402300799LL)
		t = 253402300799LL;
	days = (unsigned long long)t / 86400;
	secs = (unsigned long long)t % 86400;

	days += 719468;
	era = days / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = yoe + era * 400 + (m <= 2);

	sigv4_put_digits(out, y, 4);
	sigv4_put_digits(out + 4, m, 2);
	sigv4_put_digits(out + 6, d, 2);
	out[8] = 'T';
	sigv4_put_digits(out + 9, secs / 3600, 2);
	sigv4_put_digits(out + 11, secs / 60 % 60, 2);
	sigv4_put_digits(out + 13, secs % 60, 2);
	out[15] = 'Z';
	out[16] = '\0';
}

static int
sigv4_check(const struct sigv4_request *req, const struct sigv4_params *p,
    char **cause)
{
	const char *d;
	int i;

	if (req == NULL || p == NULL) {
		*cause = xstrdup("cannot sign request: no request or parameters");
		return -1;
	}
	if (req->method == NULL || *req->method == '\0') {
		*cause = xstrdup("cannot sign request: no method");
		return -1;
	}
	if (req->nheaders > 0 && req->headers == NULL) {
		*cause = xstrdup("cannot sign request: headers missing");
		return -1;
	}
	if (req->body == NULL && req->body_len > 0) {
		*cause = xstrdup("cannot sign request: body missing");
		return -1;
	}
	if (p->access_key == NULL || *p->access_key == '\0' ||
	    p->secret_key == NULL || *p->secret_key == '\0') {
		*cause = xstrdup("cannot sign request: no credentials");
		return -1;
	}
	if (p->region == NULL || *p->region == '\0') {
		*cause = xstrdup("cannot sign request: no region");
		return -1;
	}
	if (p->service == NULL || *p->service == '\0') {
		*cause = xstrdup("cannot sign request: no service");
		return -1;
	}
	d = p->amz_date;
	if (d == NULL || strlen(d) != 16 || d[8] != 'T' || d[15] != 'Z')
		goto bad_date;
	for (i = 0; i < 15; i++) {
		if (i != 8 && (d[i] < '0' || d[i] > '9'))
			goto bad_date;
	}
	return 0;

bad_date:
	*cause = xasprintf("cannot sign request: bad date \"%s\"",
	    d != NULL ? d : "");
	return -1;
}

/* The headers to sign, sorted by name (stable for repeated names). */
static int
sigv4_collect_headers(const struct sigv4_request *req,
    const struct sigv4_params *p, struct sigv4_hdrs *hdrs, char **cause)
{
	int sign_token, have_host = 0;
	size_t i;
	char *name, *value;

	sign_token = p->sign_session_token && p->session_token != NULL &&
	    *p->session_token != '\0';
	for (i = 0; i < req->nheaders; i++) {
		if (req->headers[i].name == NULL) {
			*cause = xasprintf("cannot sign request: header %zu has "
			    "no name", i + 1);
			goto fail;
		}
		name = sigv4_header_name(req->headers[i].name);
		if (*name == '\0') {
			free(name);
			*cause = xstrdup("cannot sign request: empty header name");
			goto fail;
		}
		value = sigv4_trimall(req->headers[i].value != NULL ?
		    req->headers[i].value : "");
		if (strcmp(name, "x-amz-date") == 0 &&
		    strcmp(value, p->amz_date) != 0) {
			*cause = xasprintf("cannot sign request: x-amz-date "
			    "\"%s\" is not the signing date \"%s\"", value,
			    p->amz_date);
			free(name);
			free(value);
			goto fail;
		}
		/* The date and the token are added once below. */
		if (sigv4_is_unsigned(name) ||
		    strcmp(name, "x-amz-date") == 0 ||
		    (strcmp(name, "x-amz-security-token") == 0 &&
		    (!p->sign_session_token || sign_token))) {
			free(name);
			free(value);
			continue;
		}
		if (strcmp(name, "host") == 0)
			have_host = 1;
		sigv4_hdrs_add(hdrs, name, value);
	}
	if (!have_host) {
		*cause = xstrdup("cannot sign request: no host header");
		goto fail;
	}
	sigv4_hdrs_add(hdrs, xstrdup("x-amz-date"), xstrdup(p->amz_date));
	if (sign_token) {
		sigv4_hdrs_add(hdrs, xstrdup("x-amz-security-token"),
		    sigv4_trimall(p->session_token));
	}
	if (hdrs->n > 1)
		qsort(hdrs->v, hdrs->n, sizeof *hdrs->v, sigv4_hdr_cmp);
	return 0;

fail:
	sigv4_hdrs_release(hdrs);
	return -1;
}

static void
sigv4_hdrs_add(struct sigv4_hdrs *hdrs, char *name, char *value)
{
	if (hdrs->n == hdrs->cap) {
		hdrs->cap = hdrs->cap ? hdrs->cap * 2 : 16;
		hdrs->v = xreallocarray(hdrs->v, hdrs->cap, sizeof *hdrs->v);
	}
	hdrs->v[hdrs->n].name = name;
	hdrs->v[hdrs->n].value = value;
	hdrs->v[hdrs->n].order = hdrs->n;
	hdrs->n++;
}

static void
sigv4_hdrs_release(struct sigv4_hdrs *hdrs)
{
	size_t i;

	for (i = 0; i < hdrs->n; i++) {
		free(hdrs->v[i].name);
		free(hdrs->v[i].value);
	}
	free(hdrs->v);
	hdrs->v = NULL;
	hdrs->n = hdrs->cap = 0;
}

/* The first value of a header by lowercased name; borrowed. */
static const char *
sigv4_hdrs_find(const struct sigv4_hdrs *hdrs, const char *name)
{
	size_t i;

	for (i = 0; i < hdrs->n; i++) {
		if (strcmp(hdrs->v[i].name, name) == 0)
			return hdrs->v[i].value;
	}
	return NULL;
}

static int
sigv4_hdr_cmp(const void *a0, const void *b0)
{
	const struct sigv4_hdr *a = a0, *b = b0;
	int c;

	if ((c = strcmp(a->name, b->name)) != 0)
		return c;
	return a->order < b->order ? -1 : a->order > b->order;
}

static char *
sigv4_header_name(const char *s)
{
	size_t len;
	char *name;
	size_t i;

	while (sigv4_is_blank((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len > 0 && sigv4_is_blank((unsigned char)s[len - 1]))
		len--;
	name = xstrndup(s, len);
	for (i = 0; i < len; i++) {
		if (name[i] >= 'A' && name[i] <= 'Z')
			name[i] = (char)(name[i] - 'A' + 'a');
	}
	return name;
}

/* Leading and trailing blanks dropped, each inner run (a folded line's
 * newline and indent included) made one space. */
static char *
sigv4_trimall(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;
	int gap = 0;

	for (; *s != '\0'; s++) {
		if (sigv4_is_blank((unsigned char)*s)) {
			gap = 1;
			continue;
		}
		if (gap && o != out)
			*o++ = ' ';
		gap = 0;
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

static int
sigv4_is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

static int
sigv4_is_unsigned(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof sigv4_unsigned_headers /
	    sizeof sigv4_unsigned_headers[0]; i++) {
		if (strcmp(name, sigv4_unsigned_headers[i]) == 0)
			return 1;
	}
	return 0;
}

static char *
sigv4_canonical_path(const char *path, int normalize)
{
	char *norm, *enc;

	if (path == NULL || *path == '\0')
		return xstrdup("/");
	if (!normalize)
		return xstrdup(path);
	norm = sigv4_remove_dot_segments(path);
	enc = sigv4_uri_encode(norm, strlen(norm), 1);
	free(norm);
	return enc;
}

/* RFC 3986 5.2.4 as botocore does it: "." and empty segments go, ".." drops
 * the segment before it (never above the root), the leading '/' stays and a
 * trailing '/' stays when something is left. */
static char *
sigv4_remove_dot_segments(const char *path)
{
	struct seg {
		const char *s;
		size_t n;
	} *segs;
	size_t len = strlen(path), nsegs = 0, n, i;
	const char *s = path, *end = path + len, *e;
	struct buf b;

	segs = xreallocarray(NULL, len + 1, sizeof *segs);
	/* Each turn moves s past one '/' or to end + 1. */
	while (s <= end) {
		e = memchr(s, '/', (size_t)(end - s));
		if (e == NULL)
			e = end;
		n = (size_t)(e - s);
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			if (nsegs > 0)
				nsegs--;
		} else if (n > 0 && !(n == 1 && s[0] == '.')) {
			segs[nsegs].s = s;
			segs[nsegs].n = n;
			nsegs++;
		}
		s = e + 1;
	}

	buf_init(&b);
	if (path[0] == '/')
		buf_addc(&b, '/');
	for (i = 0; i < nsegs; i++) {
		if (i > 0)
			buf_addc(&b, '/');
		buf_add(&b, segs[i].s, segs[i].n);
	}
	if (len > 0 && path[len - 1] == '/' && nsegs > 0)
		buf_addc(&b, '/');
	free(segs);
	return b.data;
}

static char *
sigv4_canonical_query(const char *query)
{
	struct sigv4_qparam *v = NULL;
	size_t n = 0, cap = 0, i;
	const char *s, *end, *e, *eq;
	struct buf b;

	if (query == NULL || *query == '\0')
		return xstrdup("");
	s = query;
	end = query + strlen(query);
	/* Each turn moves s past one '&' or to end + 1. */
	while (s <= end) {
		e = memchr(s, '&', (size_t)(end - s));
		if (e == NULL)
			e = end;
		if (e > s) {
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				v = xreallocarray(v, cap, sizeof *v);
			}
			eq = memchr(s, '=', (size_t)(e - s));
			if (eq != NULL) {
				v[n].key = sigv4_reencode(s, (size_t)(eq - s));
				v[n].value = sigv4_reencode(eq + 1,
				    (size_t)(e - eq - 1));
			} else {
				v[n].key = sigv4_reencode(s, (size_t)(e - s));
				v[n].value = xstrdup("");
			}
			n++;
		}
		s = e + 1;
	}
	if (n > 1)
		qsort(v, n, sizeof *v, sigv4_qparam_cmp);

	buf_init(&b);
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_addc(&b, '&');
		buf_printf(&b, "%s=%s", v[i].key, v[i].value);
		free(v[i].key);
		free(v[i].value);
	}
	free(v);
	return b.data;
}

/* Percent-decoded ('+' is not a space in SigV4) then encoded again, so
 * "%e1%88%b4", "%E1%88%B4" and the raw bytes sign alike. A '%' not
 * followed by two hex digits is taken as itself. */
static char *
sigv4_reencode(const char *s, size_t len)
{
	char *raw = xmalloc(len + 1), *enc;
	size_t i, n = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len &&
		    (hi = sigv4_unhex((unsigned char)s[i + 1])) != -1 &&
		    (lo = sigv4_unhex((unsigned char)s[i + 2])) != -1) {
			raw[n++] = (char)(hi << 4 | lo);
			i += 2;
			continue;
		}
		raw[n++] = s[i];
	}
	enc = sigv4_uri_encode(raw, n, 0);
	free(raw);
	return enc;
}

static int
sigv4_unhex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
sigv4_qparam_cmp(const void *a0, const void *b0)
{
	const struct sigv4_qparam *a = a0, *b = b0;
	int c;

	if ((c = strcmp(a->key, b->key)) != 0)
		return c;
	return strcmp(a->value, b->value);
}

/* HMAC-SHA256 of a string; out holds 32 bytes. */
static int
sigv4_hmac(const void *key, size_t keylen, const char *msg, unsigned char *out)
{
	unsigned int len = 0;

	if (HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg,
	    strlen(msg), out, &len) == NULL || len != 32)
		return -1;
	return 0;
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" secret, date), region), service),
 * "aws4_request"); the signature is HMAC(kSigning, string to sign). */
static int
sigv4_signature(const struct sigv4_params *p, const char *sts, char *hex)
{
	unsigned char k1[32], k2[32], sig[32];
	char date[9], *secret;
	int rc = -1;

	memcpy(date, p->amz_date, 8);
	date[8] = '\0';
	secret = xasprintf("AWS4%s", p->secret_key);
	if (sigv4_hmac(secret, strlen(secret), date, k1) == -1 ||
	    sigv4_hmac(k1, sizeof k1, p->region, k2) == -1 ||
	    sigv4_hmac(k2, sizeof k2, p->service, k1) == -1 ||
	    sigv4_hmac(k1, sizeof k1, "aws4_request", k2) == -1 ||
	    sigv4_hmac(k2, sizeof k2, sts, sig) == -1)
		goto out;
	sigv4_tohex(sig, sizeof sig, hex);
	rc = 0;
out:
	OPENSSL_cleanse(secret, strlen(secret));
	free(secret);
	OPENSSL_cleanse(k1, sizeof k1);
	OPENSSL_cleanse(k2, sizeof k2);
	return rc;
}

/* out holds 2 * len + 1 bytes. */
static void
sigv4_tohex(const unsigned char *p, size_t len, char *out)
{
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = sigv4_hex[p[i] >> 4];
		out[2 * i + 1] = sigv4_hex[p[i] & 0xf];
	}
	out[2 * len] = '\0';
}

static void
sigv4_put_digits(char *out, unsigned long long v, int width)
{
	int i;

	for (i = width - 1; i >= 0; i--) {
		out[i] = (char)('0' + v % 10);
		v /= 10;
	}
}
