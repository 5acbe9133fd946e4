/* sigv4_driver.c: signs requests read from stdin with mlsh's sigv4_sign, for
 * tests/sigv4/botocore_check.py.
 *
 * One request per input line, fields separated by tabs. Each field is the
 * hex of its bytes ("" for an empty string) or "-" for NULL; the two flags
 * are one byte, "00" or "01":
 *
 *   method path query access_key secret_key session_token region service
 *   amz_date normalize_path sign_session_token payload_hash body
 *   [header_name header_value]...
 *
 * One output line per input line:
 *
 *   ok<TAB>authorization<TAB>hex(canonical request)<TAB>hex(string to sign)
 *   err<TAB>cause
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sigv4.h"
#include "lib/util.h"

#define DRIVER_FIXED_FIELDS	13
#define DRIVER_MAX_LINES	1000000

struct field {
	char *data;	/* NUL-terminated; NULL for "-" */
	size_t len;
};

static int
unhex(int c)
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
decode_field(const char *s, struct field *f)
{
	size_t n = strlen(s), i;
	int hi, lo;

	f->data = NULL;
	f->len = 0;
	if (strcmp(s, "-") == 0)
		return 0;
	if (n % 2 != 0)
		return -1;
	f->data = xmalloc(n / 2 + 1);
	for (i = 0; i < n / 2; i++) {
		if ((hi = unhex((unsigned char)s[2 * i])) == -1 ||
		    (lo = unhex((unsigned char)s[2 * i + 1])) == -1) {
			free(f->data);
			f->data = NULL;
			return -1;
		}
		f->data[i] = (char)(hi << 4 | lo);
	}
	f->data[n / 2] = '\0';
	f->len = n / 2;
	return 0;
}

static void
put_hex(const char *s)
{
	for (; *s != '\0'; s++)
		printf("%02x", (unsigned char)*s);
}

static void
sign_line(char *line)
{
	struct field *fields = NULL;
	size_t nfields = 0, cap = 0, i, nh;
	struct sigv4_header *headers = NULL;
	struct sigv4_request req;
	struct sigv4_params p;
	struct sigv4_result res;
	char *tok, *cause = NULL;

	while ((tok = strsep(&line, "\t")) != NULL) {
		if (nfields == cap) {
			cap = cap ? cap * 2 : 32;
			fields = xreallocarray(fields, cap, sizeof *fields);
		}
		if (decode_field(tok, &fields[nfields]) == -1) {
			printf("err\tbad field %zu\n", nfields + 1);
			goto out;
		}
		nfields++;
	}
	if (nfields < DRIVER_FIXED_FIELDS ||
	    (nfields - DRIVER_FIXED_FIELDS) % 2 != 0) {
		printf("err\tbad field count %zu\n", nfields);
		goto out;
	}
	nh = (nfields - DRIVER_FIXED_FIELDS) / 2;
	headers = xcalloc(nh + 1, sizeof *headers);
	for (i = 0; i < nh; i++) {
		headers[i].name = fields[DRIVER_FIXED_FIELDS + 2 * i].data;
		headers[i].value = fields[DRIVER_FIXED_FIELDS + 2 * i + 1].data;
	}

	memset(&req, 0, sizeof req);
	req.method = fields[0].data;
	req.path = fields[1].data;
	req.query = fields[2].data;
	req.headers = headers;
	req.nheaders = nh;
	req.payload_hash = fields[11].data;
	req.body = fields[12].data;
	req.body_len = fields[12].len;

	memset(&p, 0, sizeof p);
	p.access_key = fields[3].data;
	p.secret_key = fields[4].data;
	p.session_token = fields[5].data;
	p.region = fields[6].data;
	p.service = fields[7].data;
	p.amz_date = fields[8].data;
	p.normalize_path = fields[9].data != NULL && fields[9].data[0] != 0;
	p.sign_session_token = fields[10].data != NULL &&
	    fields[10].data[0] != 0;

	if (sigv4_sign(&req, &p, &res, &cause) == -1) {
		printf("err\t%s\n", cause);
		free(cause);
		goto out;
	}
	printf("ok\t%s\t", res.authorization);
	put_hex(res.canonical_request);
	putchar('\t');
	put_hex(res.string_to_sign);
	putchar('\n');
	sigv4_result_release(&res);
out:
	for (i = 0; i < nfields; i++)
		free(fields[i].data);
	free(fields);
	free(headers);
}

int
main(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lines = 0;

	while (lines++ < DRIVER_MAX_LINES &&
	    (n = getline(&line, &cap, stdin)) != -1) {
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		sign_line(line);
	}
	free(line);
	return ferror(stdin) || fflush(stdout) != 0 ? 1 : 0;
}
