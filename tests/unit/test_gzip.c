/* test_gzip.c: mlsh's gzip writer (lib/gzip.c) checked by an independent
 * reader: every output goes through the system's `gzip -dc` and must give back
 * the input byte for byte; a corrupted CRC-32 or ISIZE must make it fail. The
 * real rendered user-data (node, Grafana) must pack under EC2's 16 KB. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "lib/gzip.h"
#include "lib/util.h"
#include "stack/userdata.h"
#include "unit.h"

static char dir[] = "/tmp/mlsh-gzip-test.XXXXXX";

static int
write_all(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (f == NULL)
		return -1;
	ok = fwrite(p, 1, n, f) == n;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* The exit status of `gzip -dc` on gz; its output in *back (caller frees). */
static int
oracle(const char *gz, size_t glen, char **back, size_t *blen)
{
	char *in = xasprintf("%s/in.gz", dir), *out = xasprintf("%s/out", dir);
	char *cmd = xasprintf("gzip -dc '%s' >'%s' 2>/dev/null", in, out);
	char *c = NULL;
	int rc = -1;

	*back = NULL;
	*blen = 0;
	if (write_all(in, gz, glen) == 0) {
		rc = system(cmd);
		*back = file_read(out, blen, &c);
		free(c);
	}
	free(in);
	free(out);
	free(cmd);
	return rc;
}

/* data packs, gzip -dc gives it back, and a flipped CRC or ISIZE byte is
 * caught. */
static void
round_trip(const char *what, const void *data, size_t len)
{
	char *gz = NULL, *back;
	size_t glen = 0, blen;

	T_OK(gzip_pack(data, len, &gz, &glen) == 0);
	if (gz == NULL)
		return;
	T_OK(gzip_is(gz, glen));
	T_EQ_INT(oracle(gz, glen, &back, &blen), 0);
	if (back == NULL || blen != len || memcmp(back, data, len) != 0)
		T_FAIL("%s: %zu bytes came back as %zu different ones", what,
		    len, blen);
	free(back);
	for (size_t k = 8; k >= 1; k -= 4) {	/* CRC-32, then ISIZE */
		gz[glen - k] ^= 0x01;
		if (oracle(gz, glen, &back, &blen) == 0)
			T_FAIL("%s: a corrupt %s passed gzip -dc", what,
			    k == 8 ? "CRC-32" : "ISIZE");
		free(back);
		gz[glen - k] ^= 0x01;
	}
	free(gz);
}

static void
test_small(void)
{
	round_trip("empty", "", 0);
	round_trip("one byte", "x", 1);
	round_trip("two bytes", "ab", 2);
	round_trip("a NUL", "\0", 1);
	round_trip("text", "#!/bin/sh\necho hello hello hello\n", 33);
}

static void
test_repetitive(void)
{
	size_t n = 200000;
	char *p = xmalloc(n), *gz;
	size_t glen;

	memset(p, 'a', n);
	round_trip("one byte repeated", p, n);
	T_OK(gzip_pack(p, n, &gz, &glen) == 0);
	T_OK(glen < n / 100);	/* 258-byte matches: about 1/100 */
	free(gz);
	for (size_t i = 0; i < n; i++)
		p[i] = "abcdefghij-0123456789\n"[i % 22];
	round_trip("a period of 22", p, n);
	for (size_t i = 0; i < n; i++)	/* matches at every distance */
		p[i] = (char)((i * i / 97) % 61 + 33);
	round_trip("slow drift", p, n);
	free(p);
}

static void
test_random(void)
{
	size_t n = 100000;	/* over 64 KB: past the window twice */
	unsigned char *p = xmalloc(n);
	uint32_t x = 2463534242u;

	for (size_t i = 0; i < n; i++) {	/* xorshift: reproducible */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)x;
	}
	round_trip("random bytes", p, n);
	/* Random text from a small alphabet: many short matches. */
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)("ab \n"[p[i] & 3]);
	round_trip("random 4-letter text", p, n);
	free(p);
}

/* zlib -9's size for the same text, for the record (python3's zlib). */
static long
zlib9(const char *text, size_t len)
{
	char *in = xasprintf("%s/ud", dir), *cmd;
	long n = -1;
	FILE *f;

	if (write_all(in, text, len) == 0) {
		cmd = xasprintf("python3 -c 'import gzip,sys; print(len(gzip."
		    "compress(open(sys.argv[1],\"rb\").read(),9)))' '%s' "
		    "2>/dev/null", in);
		if ((f = popen(cmd, "r")) != NULL) {
			if (fscanf(f, "%ld", &n) != 1)
				n = -1;
			pclose(f);
		}
		free(cmd);
	}
	free(in);
	return n;
}

/* The user-data as node_user_data renders it (real embedded scripts, the
 * compact dashboard), stripped of comments when over 16 KB. */
static void
userdata(const char *what, const char *path)
{
	const char *d = userdata_file("scripts/grafana-dashboard.json");
	cJSON *j = d != NULL ? cJSON_Parse(d) : NULL;
	char *dash = j != NULL ? cJSON_PrintUnformatted(j) : NULL;
	struct userdata_var v[] = { { "WORKSPACE", "research-ws" },
	    { "NODE", "train-1" }, { "REGION", "us-east-1" },
	    { "EFS_ID", "fs-0123456789abcdef0" },
	    { "EFS_DNS", "fs-0123456789abcdef0.efs.us-east-1.amazonaws.com" },
	    { "EFS_IP", "10.0.1.23" }, { "NAMESPACE", "mlsh" },
	    { "METRICS", userdata_file("scripts/userdata/metrics.sh") },
	    { "AUTOSTOP_SH", userdata_file("scripts/userdata/autostop.sh") },
	    { "NOTEBOOK_AUTOSTOP",
	    userdata_file("scripts/notebook-autostop.py") },
	    { "DASHBOARD", dash }, { "AUTOSTOP", "3600" },
	    { "ADMIN_PASSWORD", "0123456789abcdefABCDEF-_" } };
	char *cause = NULL, *o, *gz;
	size_t raw, len, glen;

	T_OK(dash != NULL);
	o = userdata_render(userdata_file(path), v, sizeof v / sizeof v[0],
	    &cause);
	T_OK(o != NULL);
	if (o == NULL || dash == NULL) {
		free(cause);
		cJSON_Delete(j);
		free(dash);
		return;
	}
	raw = strlen(o);
	if (raw > USERDATA_MAX)
		userdata_strip_comments(o);
	len = strlen(o);
	round_trip(what, o, len);
	T_OK(gzip_pack(o, len, &gz, &glen) == 0);
	fprintf(stderr, "# %s user-data: %zu bytes, %zu stripped, gzip %zu "
	    "(zlib -9: %ld)\n", what, raw, len, glen, zlib9(o, len));
	T_OK(glen < USERDATA_MAX);
	free(gz);
	free(o);
	cJSON_Delete(j);
	free(dash);
}

static void
test_userdata(void)
{
	userdata("node", "scripts/userdata/node.sh");
	userdata("grafana", "scripts/userdata/grafana.sh");
}

int
main(void)
{
	char *cmd;

	if (mkdtemp(dir) == NULL) {
		perror(dir);
		return 1;
	}
	if (system("gzip --version >/dev/null 2>&1") != 0) {
		fprintf(stderr, "no gzip on this machine: the oracle\n");
		return 1;
	}
	T_RUN(test_small);
	T_RUN(test_repetitive);
	T_RUN(test_random);
	T_RUN(test_userdata);
	cmd = xasprintf("rm -rf '%s'", dir);
	(void)!system(cmd);
	free(cmd);
	T_DONE();
}
