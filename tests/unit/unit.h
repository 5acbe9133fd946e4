/* unit.h: a tiny assert helper for the C unit tests.
 *
 * Each test file defines main() that calls its cases with T_RUN and ends with
 * T_DONE(), which prints "N passed, N failed, N skipped" for the file and
 * exits non-zero on any failure. A check that fails prints file:line and
 * what differed.  A case that cannot run here calls T_SKIP("why") and
 * returns: it prints "skip - CASE: why" and counts as skipped, never as
 * passed (tests/run fails it under MLSH_TEST_NO_SKIP=1). */
#ifndef MLSH_UNIT_H
#define MLSH_UNIT_H

#include <stdio.h>
#include <string.h>

static int t_passed, t_failed, t_skipped, t_case_failed, t_case_skipped;
static const char *t_case;

#define T_FAIL(...) do {						\
	fprintf(stderr, "FAIL %s (%s:%d): ", t_case, __FILE__, __LINE__); \
	fprintf(stderr, __VA_ARGS__);					\
	fputc('\n', stderr);						\
	t_case_failed = 1;						\
} while (0)

#define T_OK(cond) do {							\
	if (!(cond))							\
		T_FAIL("%s", #cond);					\
} while (0)

#define T_EQ_INT(a, b) do {						\
	long long t_a = (long long)(a), t_b = (long long)(b);		\
	if (t_a != t_b)							\
		T_FAIL("%s == %lld, expected %lld", #a, t_a, t_b);	\
} while (0)

#define T_EQ_STR(a, b) do {						\
	const char *t_a = (a), *t_b = (b);				\
	if (t_a == NULL || t_b == NULL || strcmp(t_a, t_b) != 0)	\
		T_FAIL("%s == \"%s\", expected \"%s\"", #a,		\
		    t_a ? t_a : "(null)", t_b ? t_b : "(null)");	\
} while (0)

#define T_SKIP(why) do {						\
	printf("skip - %s: %s\n", t_case, (why));			\
	t_case_skipped = 1;						\
} while (0)

#define T_RUN(fn) do {							\
	t_case = #fn;							\
	t_case_failed = 0;						\
	t_case_skipped = 0;						\
	fn();								\
	if (t_case_failed)						\
		t_failed++;						\
	else if (t_case_skipped)					\
		t_skipped++;						\
	else								\
		t_passed++;						\
} while (0)

#define T_DONE() do {							\
	printf("%s: %d passed, %d failed, %d skipped\n", __FILE__,	\
	    t_passed, t_failed, t_skipped);				\
	return t_failed ? 1 : 0;					\
} while (0)

#endif
