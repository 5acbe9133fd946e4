/* Unit tests: the one sanitiser for server-supplied text (util.c) and the
 * response size parser (aws.c). */
#include <stdlib.h>
#include <string.h>
#include "aws/aws.h"
#include "lib/util.h"
#include "unit.h"

static void
check(const char *in, int keep, const char *want)
{
	char *got = str_sanitize(in, keep), *again;

	T_EQ_STR(got, want);
	/* Idempotent: sanitising twice changes nothing more. */
	again = str_sanitize(got, keep);
	T_EQ_STR(again, got);
	free(again);
	free(got);
}

static void
test_controls(void)
{
	check("plain text", 0, "plain text");
	check("a\x1b[2Jb", 0, "a\\x1b[2Jb");
	check("title\x1b]0;x\x07", 0, "title\\x1b]0;x\\x07");
	check("l1\nl2\tx", 0, "l1\\nl2\\tx");
	check("l1\nl2\tx\r", 1, "l1\nl2\tx\\x0d");
	check("del\x7f", 0, "del\\x7f");
	check("", 0, "");
}

static void
test_utf8(void)
{
	check("caf\xc3\xa9 \xe2\x96\x88 \xf0\x9f\x98\x80", 0,
	    "caf\xc3\xa9 \xe2\x96\x88 \xf0\x9f\x98\x80");
	/* C1 CSI, encoded and raw; an overlong ESC; a lone continuation. */
	check("\xc2\x9b" "31m", 0, "\\u009b31m");
	check("\x9b" "31m", 0, "\\x9b31m");
	check("\xc0\x9b", 0, "\\xc0\\x9b");
	check("\xe2\x80\xae" "evil", 0, "\\u202eevil");
	check("cut\xe2\x96", 0, "cut\\xe2\\x96");
	check("\xed\xa0\x80", 0, "\\xed\\xa0\\x80");	/* a surrogate */
}

static void
test_sizes(void)
{
	T_EQ_INT(aws_parse_size("1048576"), 1048576);
	T_EQ_INT(aws_parse_size("64M"), 64LL << 20);
	T_EQ_INT(aws_parse_size("64MB"), 64LL << 20);
	T_EQ_INT(aws_parse_size("2g"), 2LL << 30);
	T_EQ_INT(aws_parse_size("500k"), 500LL << 10);
	T_EQ_INT(aws_parse_size("0"), -1);
	T_EQ_INT(aws_parse_size("-5"), -1);
	T_EQ_INT(aws_parse_size("12X"), -1);
	T_EQ_INT(aws_parse_size(""), -1);
	T_EQ_INT(aws_parse_size("99999999999999999999G"), -1);
}

int
main(void)
{
	T_RUN(test_controls);
	T_RUN(test_utf8);
	T_RUN(test_sizes);
	T_DONE();
}
