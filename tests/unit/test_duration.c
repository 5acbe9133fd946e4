/* test_duration.c: autostop's durations (lib/duration.c). */
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "lib/duration.h"

#define MIN 60
#define MAX (7 * 86400)

static long
ok(const char *s)
{
	long v = -1;
	char *cause = NULL;

	if (duration_parse(s, MIN, MAX, 1, &v, &cause) != 0) {
		T_FAIL("'%s': %s", s, cause);
		free(cause);
	}
	return v;
}

/* A bad value fails with one line that names it. */
static void
bad(const char *s, const char *want)
{
	long v = -1;
	char *cause = NULL;

	if (duration_parse(s, MIN, MAX, 1, &v, &cause) == 0) {
		T_FAIL("'%s' accepted as %ld", s, v);
		return;
	}
	T_OK(cause != NULL && strchr(cause, '\n') == NULL);
	if (cause != NULL && strstr(cause, want) == NULL)
		T_FAIL("'%s': \"%s\" lacks \"%s\"", s, cause, want);
	if (cause != NULL && *s != '\0' && strstr(cause, s) == NULL)
		T_FAIL("'%s': \"%s\" does not name it", s, cause);
	free(cause);
}

static void
test_parse(void)
{
	T_EQ_INT(ok("30m"), 1800);
	T_EQ_INT(ok("1h"), 3600);
	T_EQ_INT(ok("90s"), 90);
	T_EQ_INT(ok("2h30m"), 9000);
	T_EQ_INT(ok("1d"), 86400);
	T_EQ_INT(ok("7d"), MAX);
	T_EQ_INT(ok("1m"), 60);
	T_EQ_INT(ok("off"), 0);
}

static void
test_bad(void)
{
	bad("0", "30m");
	bad("-5m", "30m");
	bad("1y", "30m");
	bad("abc", "30m");
	bad("", "empty");
	bad("30", "30m");		/* no unit */
	bad("30m2h", "30m");		/* units descend */
	bad("1h1h", "30m");
	bad("m", "30m");
	bad("0m", "out of range");
	bad("59s", "out of range");
	bad("8d", "out of range");
	bad("99999999999999999999999h", "too long");
	bad("9223372036854775807s", "too long");
	bad("OFF", "30m");
	{
		long v;
		char *cause = NULL;
		T_OK(duration_parse("off", MIN, MAX, 0, &v, &cause) == -1);
		free(cause);
		/* a lower minimum (the lab's) */
		T_OK(duration_parse("10s", 5, MAX, 1, &v, &cause) == 0);
		T_EQ_INT(v, 10);
	}
}

static void
test_format(void)
{
	char b[32];

	duration_format(9000, b, sizeof b);
	T_EQ_STR(b, "2h30m");
	duration_format(0, b, sizeof b);
	T_EQ_STR(b, "off");
	duration_format(90, b, sizeof b);
	T_EQ_STR(b, "1m30s");
	duration_format(604800, b, sizeof b);
	T_EQ_STR(b, "7d");
	duration_format(3600, b, 3);
	T_EQ_STR(b, "1h");
}

int
main(void)
{
	T_RUN(test_parse);
	T_RUN(test_bad);
	T_RUN(test_format);
	T_DONE();
}
