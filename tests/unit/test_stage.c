/* Unit tests: a command's named steps (builtins/stage.h) run in order and
 * stop at the first that fails or finishes the command early. */
#include "builtins/stage.h"
#include "unit.h"

struct job {
	char trail[16];		/* the steps that ran, one letter each */
	int fail_at;		/* the step letter that fails with 2, or 0 */
	int done_at;		/* the step letter that says STAGE_DONE, or 0 */
};

static int
step(struct job *j, char c)
{
	size_t n = strlen(j->trail);

	j->trail[n] = c;
	j->trail[n + 1] = '\0';
	if (j->fail_at == c)
		return 2;
	return j->done_at == c ? STAGE_DONE : 0;
}

static int step_a(void *j) { return step(j, 'a'); }
static int step_b(void *j) { return step(j, 'b'); }
static int step_c(void *j) { return step(j, 'c'); }

static const struct stage steps[] = {
	{ "a", step_a }, { "b", step_b }, { "c", step_c },
};

static void
test_all_in_order(void)
{
	struct job j = { "", 0, 0 };

	T_EQ_INT(stage_run(steps, STAGE_COUNT(steps), &j), 0);
	T_EQ_STR(j.trail, "abc");
}

static void
test_failure_stops_with_its_status(void)
{
	struct job j = { "", 'b', 0 };

	T_EQ_INT(stage_run(steps, STAGE_COUNT(steps), &j), 2);
	T_EQ_STR(j.trail, "ab");
}

static void
test_done_stops_with_success(void)
{
	struct job j = { "", 0, 'a' };

	T_EQ_INT(stage_run(steps, STAGE_COUNT(steps), &j), 0);
	T_EQ_STR(j.trail, "a");
}

int
main(void)
{
	T_RUN(test_all_in_order);
	T_RUN(test_failure_stops_with_its_status);
	T_RUN(test_done_stops_with_success);
	T_DONE();
}
