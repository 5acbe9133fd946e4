/* test_sigv4.c: SigV4 against the official test suite (tests/sigv4-suite),
 * plus the helpers and the error paths.
 *
 * Every case directory (a directory D holding D/<basename D>.req) is one test
 * case: the request is parsed, signed with the suite's credentials and the
 * canonical request, string to sign and Authorization must equal .creq, .sts
 * and .authz byte for byte. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "aws/sigv4.h"
#include "lib/util.h"
#include "unit.h"

#define SUITE_CASES	34
#define SUITE_MAX_DEPTH	4

static const char suite_access_key[] = "AKIDEXAMPLE";
static const char suite_secret_key[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
static const char suite_date[] = "20150830T123600Z";

static struct strlist suite_dirs;
static char *suite_root;

struct parsed_req {
	char *method;
	char *path;
	char *query;			/* NULL when the target has no '?' */
	struct strlist names;
	struct strlist values;
	struct sigv4_header *headers;
	char *body;
	size_t body_len;
};

/* The suite's directory: $TESTS_DIR/sigv4-suite, else relative to the
 * repository root the runner starts from. */
static char *
find_suite(void)
{
	const char *dir = getenv("TESTS_DIR");
	struct stat st;
	char *path;

	if (dir != NULL && *dir != '\0')
		path = xasprintf("%s/sigv4-suite", dir);
	else
		path = xstrdup("tests/sigv4-suite");
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return path;
	free(path);
	return NULL;
}

/* Collects every case directory below dir, depth bounded. */
static void
walk_suite(const char *dir, int depth)
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	const char *base;
	char *path, *req;

	if (depth > SUITE_MAX_DEPTH || (d = opendir(dir)) == NULL)
		return;
	base = strrchr(dir, '/');
	base = base != NULL ? base + 1 : dir;
	req = xasprintf("%s/%s.req", dir, base);
	if (stat(req, &st) == 0 && S_ISREG(st.st_mode))
		strlist_add(&suite_dirs, dir);
	free(req);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			walk_suite(path, depth + 1);
		free(path);
	}
	closedir(d);
}

static char *
read_text(const char *dir, const char *base, const char *ext, size_t *lenp)
{
	char *path, *cause = NULL, *text;
	size_t len = 0;

	path = xasprintf("%s/%s.%s", dir, base, ext);
	text = file_read(path, &len, &cause);
	if (text == NULL) {
		T_FAIL("cannot read %s: %s", path, cause ? cause : "?");
		free(cause);
	}
	free(path);
	if (lenp != NULL)
		*lenp = len;
	return text;
}

/* The expected files end without a newline; tolerate one anyway. */
static void
chomp(char *s)
{
	size_t n = strlen(s);

	if (n > 0 && s[n - 1] == '\n')
		s[--n] = '\0';
	if (n > 0 && s[n - 1] == '\r')
		s[--n] = '\0';
}

static void
parsed_release(struct parsed_req *pr)
{
	free(pr->method);
	free(pr->path);
	free(pr->query);
	strlist_release(&pr->names);
	strlist_release(&pr->values);
	free(pr->headers);
	free(pr->body);
	memset(pr, 0, sizeof *pr);
}

/* Request line, headers (a line starting with a blank continues the header
 * before it; the fold is kept for the signer to collapse), a blank line and
 * the body. The target may hold spaces ("GET /example space/ HTTP/1.1"). */
static int
parse_req(const char *text, size_t len, struct parsed_req *pr)
{
	const char *p = text, *end = text + len, *nl, *sp1, *sp2, *q, *colon;
	size_t n, i;
	char *line, *prev;
	int first = 1;

	memset(pr, 0, sizeof *pr);
	strlist_init(&pr->names);
	strlist_init(&pr->values);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		line = xstrndup(p, n);
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		p = nl != NULL ? nl + 1 : end;
		if (first) {
			first = 0;
			sp1 = strchr(line, ' ');
			sp2 = strrchr(line, ' ');
			if (sp1 == NULL || sp2 == sp1) {
				free(line);
				return -1;
			}
			pr->method = xstrndup(line, (size_t)(sp1 - line));
			q = memchr(sp1 + 1, '?', (size_t)(sp2 - sp1 - 1));
			if (q != NULL) {
				pr->path = xstrndup(sp1 + 1, (size_t)(q - sp1 - 1));
				pr->query = xstrndup(q + 1, (size_t)(sp2 - q - 1));
			} else
				pr->path = xstrndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
			free(line);
			continue;
		}
		if (n == 0) {
			free(line);
			pr->body_len = (size_t)(end - p);
			pr->body = xstrndup(p, pr->body_len);
			break;
		}
		if ((line[0] == ' ' || line[0] == '\t') && pr->values.n > 0) {
			prev = pr->values.v[pr->values.n - 1];
			pr->values.v[pr->values.n - 1] = xasprintf("%s\n%s",
			    prev, line);
			free(prev);
			free(line);
			continue;
		}
		if ((colon = strchr(line, ':')) == NULL) {
			free(line);
			return -1;
		}
		strlist_addn(&pr->names, line, (size_t)(colon - line));
		strlist_add(&pr->values, colon + 1);
		free(line);
	}
	if (pr->method == NULL)
		return -1;
	pr->headers = xcalloc(pr->names.n + 1, sizeof *pr->headers);
	for (i = 0; i < pr->names.n; i++) {
		pr->headers[i].name = pr->names.v[i];
		pr->headers[i].value = pr->values.v[i];
	}
	return 0;
}

/* A header's raw value from a parsed request; borrowed. */
static const char *
parsed_header(const struct parsed_req *pr, const char *name)
{
	size_t i;

	for (i = 0; i < pr->names.n; i++) {
		if (strcasecmp(pr->names.v[i], name) == 0)
			return pr->values.v[i];
	}
	return NULL;
}

static void
run_suite_case(const char *dir)
{
	const char *base = strrchr(dir, '/') + 1;
	struct parsed_req pr, spr;
	struct sigv4_request req;
	struct sigv4_params params;
	struct sigv4_result res;
	char *text, *sreq, *creq, *sts, *authz, *cause = NULL, *token = NULL;
	char *readme, *parent;
	size_t len, slen;

	text = read_text(dir, base, "req", &len);
	sreq = read_text(dir, base, "sreq", &slen);
	creq = read_text(dir, base, "creq", NULL);
	sts = read_text(dir, base, "sts", NULL);
	authz = read_text(dir, base, "authz", NULL);
	if (text == NULL || sreq == NULL || creq == NULL || sts == NULL ||
	    authz == NULL)
		goto out;
	chomp(creq);
	chomp(sts);
	chomp(authz);
	if (parse_req(text, len, &pr) == -1) {
		T_FAIL("cannot parse %s/%s.req", dir, base);
		parsed_release(&pr);
		goto out;
	}

	/* The session token: the signed request (.sreq) carries it, also for
	 * get-vanilla-with-session-token whose .req has none. The sts cases
	 * must agree with the token their readme gives. */
	if (parse_req(sreq, slen, &spr) == 0 &&
	    parsed_header(&spr, "X-Amz-Security-Token") != NULL)
		token = xstrdup(parsed_header(&spr, "X-Amz-Security-Token"));
	parsed_release(&spr);
	if (strstr(dir, "/post-sts-token/") != NULL) {
		parent = xstrndup(dir, (size_t)(strrchr(dir, '/') - dir));
		readme = read_text(parent, "readme", "txt", NULL);
		T_OK(token != NULL && readme != NULL &&
		    strstr(readme, token) != NULL);
		free(readme);
		free(parent);
	}

	memset(&req, 0, sizeof req);
	req.method = pr.method;
	req.path = pr.path;
	req.query = pr.query;
	req.headers = pr.headers;
	req.nheaders = pr.names.n;
	req.body = pr.body;
	req.body_len = pr.body_len;

	memset(&params, 0, sizeof params);
	params.access_key = suite_access_key;
	params.secret_key = suite_secret_key;
	params.session_token = token;
	params.region = "us-east-1";
	params.service = "service";
	params.amz_date = suite_date;
	params.normalize_path = 1;
	/* The readme: "after" adds the token once the request is signed. */
	params.sign_session_token = strcmp(base, "post-sts-header-after") != 0;

	if (sigv4_sign(&req, &params, &res, &cause) == -1) {
		T_FAIL("sigv4_sign: %s", cause);
		free(cause);
	} else {
		T_EQ_STR(res.canonical_request, creq);
		T_EQ_STR(res.string_to_sign, sts);
		T_EQ_STR(res.authorization, authz);
		sigv4_result_release(&res);
	}
	parsed_release(&pr);
out:
	free(token);
	free(text);
	free(sreq);
	free(creq);
	free(sts);
	free(authz);
}

static void
suite_found(void)
{
	T_OK(suite_root != NULL);
	T_EQ_INT(suite_dirs.n, SUITE_CASES);
}

static void
uri_encode(void)
{
	char *s;

	s = sigv4_uri_encode("a b/c~-_.Z9", 11, 1);
	T_EQ_STR(s, "a%20b/c~-_.Z9");
	free(s);
	s = sigv4_uri_encode("a b/c~-_.Z9", 11, 0);
	T_EQ_STR(s, "a%20b%2Fc~-_.Z9");
	free(s);
	s = sigv4_uri_encode("\xe1\x88\xb4", 3, 0);
	T_EQ_STR(s, "%E1%88%B4");
	free(s);
	s = sigv4_uri_encode("%+=&?#*!'()$,;:@", 16, 1);
	T_EQ_STR(s, "%25%2B%3D%26%3F%23%2A%21%27%28%29%24%2C%3B%3A%40");
	free(s);
	s = sigv4_uri_encode("a\0b", 3, 0);
	T_EQ_STR(s, "a%00b");
	free(s);
	s = sigv4_uri_encode("", 0, 0);
	T_EQ_STR(s, "");
	free(s);
}

static void
amz_date(void)
{
	char d[17];

	sigv4_amz_date(1440938160, d);
	T_EQ_STR(d, "20150830T123600Z");
	sigv4_amz_date(0, d);
	T_EQ_STR(d, "19700101T000000Z");
	sigv4_amz_date(951782400, d);
	T_EQ_STR(d, "20000229T000000Z");
	sigv4_amz_date(1709251199, d);
	T_EQ_STR(d, "20240229T235959Z");
	sigv4_amz_date(946684799, d);
	T_EQ_STR(d, "19991231T235959Z");
	sigv4_amz_date(4107542400LL, d);
	T_EQ_STR(d, "21000301T000000Z");
	sigv4_amz_date(-5, d);
	T_EQ_STR(d, "19700101T000000Z");
	sigv4_amz_date(1LL << 50, d);
	T_EQ_STR(d, "99991231T235959Z");
}

static void
hex_sha256(void)
{
	char *s;

	s = sigv4_hex_sha256(NULL, 0);
	T_EQ_STR(s, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	free(s);
	s = sigv4_hex_sha256("Param1=value1", 13);
	T_EQ_STR(s, "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
	free(s);
}

static void
default_params(struct sigv4_params *p)
{
	memset(p, 0, sizeof *p);
	p->access_key = suite_access_key;
	p->secret_key = suite_secret_key;
	p->region = "us-east-1";
	p->service = "service";
	p->amz_date = suite_date;
	p->normalize_path = 1;
	p->sign_session_token = 1;
}

/* The canonical request's line n (0-based); caller frees. */
static char *
creq_line(const char *creq, int n)
{
	const char *e;

	while (n-- > 0 && creq != NULL) {
		creq = strchr(creq, '\n');
		if (creq != NULL)
			creq++;
	}
	if (creq == NULL)
		return xstrdup("(none)");
	e = strchr(creq, '\n');
	return e != NULL ? xstrndup(creq, (size_t)(e - creq)) : xstrdup(creq);
}

static char *
sign_creq(const char *path, const char *query, int normalize)
{
	struct sigv4_header h[] = { { "Host", "example.amazonaws.com" } };
	struct sigv4_request req = { "GET", path, query, h, 1, NULL, 0, NULL };
	struct sigv4_params p;
	struct sigv4_result res;
	char *cause = NULL, *creq;

	default_params(&p);
	p.normalize_path = normalize;
	if (sigv4_sign(&req, &p, &res, &cause) == -1) {
		T_FAIL("sigv4_sign: %s", cause);
		free(cause);
		return xstrdup("");
	}
	creq = xstrdup(res.canonical_request);
	sigv4_result_release(&res);
	return creq;
}

static void
paths(void)
{
	static const struct {
		const char *in;
		int normalize;
		const char *want;
	} cases[] = {
		{ "/a%20b", 1, "/a%2520b" },		/* encoded twice */
		{ "/a/b/..", 1, "/a" },
		{ "/a/./b//c/", 1, "/a/b/c/" },
		{ "/../..", 1, "/" },
		{ "", 1, "/" },
		{ "/a%20b//c/../d", 0, "/a%20b//c/../d" },	/* S3: verbatim */
		{ NULL, 0, "/" },
	};
	char *creq, *line;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		creq = sign_creq(cases[i].in, NULL, cases[i].normalize);
		line = creq_line(creq, 1);
		T_EQ_STR(line, cases[i].want);
		free(line);
		free(creq);
	}
}

static void
queries(void)
{
	char *creq, *line;

	creq = sign_creq("/", "a&b=&=c&&d=%zz&e=%e1%88%b4&f=+&e=%41", 1);
	line = creq_line(creq, 2);
	T_EQ_STR(line, "=c&a=&b=&d=%25zz&e=%E1%88%B4&e=A&f=%2B");
	free(line);
	free(creq);
	creq = sign_creq("/", "", 1);
	line = creq_line(creq, 2);
	T_EQ_STR(line, "");
	free(line);
	free(creq);
}

static void
headers(void)
{
	struct sigv4_header h[] = {
		{ "Host", "example.amazonaws.com" },
		{ "User-Agent", "mlsh/0.1" },
		{ "X-Amz-Security-Token", "stale" },
		{ "  X-Amz-Target ", "\t a \t\t b  " },
		{ "x-amz-date", suite_date },
	};
	struct sigv4_request req = { "POST", "/", NULL, h, 5, "{}", 2, NULL };
	struct sigv4_params p;
	struct sigv4_result res;
	char *cause = NULL;

	default_params(&p);
	p.session_token = "tok";
	T_EQ_INT(sigv4_sign(&req, &p, &res, &cause), 0);
	T_EQ_STR(res.signed_headers,
	    "host;x-amz-date;x-amz-security-token;x-amz-target");
	T_OK(strstr(res.canonical_request, "\nx-amz-security-token:tok\n") !=
	    NULL);
	T_OK(strstr(res.canonical_request, "\nx-amz-target:a b\n") != NULL);
	sigv4_result_release(&res);

	/* Token added after signing: not signed, whatever the headers say. */
	p.sign_session_token = 0;
	T_EQ_INT(sigv4_sign(&req, &p, &res, &cause), 0);
	T_EQ_STR(res.signed_headers, "host;x-amz-date;x-amz-target");
	sigv4_result_release(&res);

	/* No X-Amz-Date given: the signing date is signed anyway. */
	req.nheaders = 1;
	T_EQ_INT(sigv4_sign(&req, &p, &res, &cause), 0);
	T_EQ_STR(res.signed_headers, "host;x-amz-date");
	sigv4_result_release(&res);

	/* The payload hash given wins over the body. */
	req.payload_hash = "UNSIGNED-PAYLOAD";
	T_EQ_INT(sigv4_sign(&req, &p, &res, &cause), 0);
	T_OK(str_endswith(res.canonical_request, "\nUNSIGNED-PAYLOAD"));
	sigv4_result_release(&res);
}

static void
errors(void)
{
	struct sigv4_header h[] = {
		{ "X-Amz-Date", suite_date },
		{ "Host", "example.amazonaws.com" },
	};
	struct sigv4_request req = { "GET", "/", NULL, h, 1, NULL, 0, NULL };
	struct sigv4_params p;
	struct sigv4_result res;
	char *cause = NULL;

	default_params(&p);
	T_EQ_INT(sigv4_sign(&req, &p, &res, &cause), -1);
	T_EQ_STR(cause, "cannot sign request: no host header");
	free(cause);
	cause = NULL;
	T_OK(res.authorization == NULL);

	req.nheaders = 2;
	p.amz_date = "20150830T1236Z";
	T_EQ_INT(sigv4_sign(&req, &p, &res, &cause), -1);
	T_EQ_STR(cause, "cannot sign request: bad date \"20150830T1236Z\"");
	free(cause);
	cause = NULL;

	p.amz_date = "20150830T123601Z";
	T_EQ_INT(sigv4_sign(&req, &p, &res, &cause), -1);
	T_OK(cause != NULL && strstr(cause, "x-amz-date") != NULL);
	free(cause);
	cause = NULL;

	default_params(&p);
	p.secret_key = NULL;
	T_EQ_INT(sigv4_sign(&req, &p, &res, &cause), -1);
	T_EQ_STR(cause, "cannot sign request: no credentials");
	free(cause);
}

int
main(void)
{
	size_t i;
	char *name;

	strlist_init(&suite_dirs);
	suite_root = find_suite();
	if (suite_root != NULL)
		walk_suite(suite_root, 0);
	strlist_sort(&suite_dirs);
	T_RUN(suite_found);
	for (i = 0; i < suite_dirs.n; i++) {
		/* One test case per suite case, named after its directory. */
		name = xstrdup(suite_dirs.v[i] + strlen(suite_root) + 1);
		t_case = name;
		t_case_failed = 0;
		run_suite_case(suite_dirs.v[i]);
		if (t_case_failed)
			t_failed++;
		else
			t_passed++;
		free(name);
	}
	T_RUN(uri_encode);
	T_RUN(amz_date);
	T_RUN(hex_sha256);
	T_RUN(paths);
	T_RUN(queries);
	T_RUN(headers);
	T_RUN(errors);
	strlist_release(&suite_dirs);
	free(suite_root);
	T_DONE();
}
