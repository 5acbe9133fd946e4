/* apply.c: make the lab's hosts match what the control plane reports (the
 * reconciler polls DescribeInstances and hands the result here). */
#include <stdlib.h>
#include <string.h>

#include "lab/lab.h"
#include "lab/lab_int.h"

static void fail(struct strlist *errs, const char *id, char *cause);

int
lab_apply(const char *state, const struct lab_want *want, size_t n,
    struct strlist *errs)
{
	struct strlist have, wanted;
	int failed = 0;
	char *cause = NULL;
	size_t i;

	strlist_init(&have);
	strlist_init(&wanted);
	lab_host_list(state, &have, &cause);
	for (i = 0; i < n; i++)
		strlist_add(&wanted, want[i].spec.instance_id);
	strlist_sort(&wanted);

	/* Terminated first: frees addresses a new instance may reuse. */
	for (i = 0; i < have.n; i++) {
		if (strlist_has(&wanted, have.v[i]))
			continue;
		cause = NULL;
		if (lab_host_destroy(state, have.v[i], &cause) == -1) {
			fail(errs, have.v[i], cause);
			failed++;
		}
	}

	for (i = 0; i < n; i++) {
		const struct lab_host_spec *s = &want[i].spec;
		const char *now = lab_host_state(state, s->instance_id);
		int rc = 0;

		cause = NULL;
		if (now == NULL) {
			/* New: it boots once (user-data) even if already
			 * stopped by the time the lab sees it. */
			rc = lab_host_create(state, s, &cause);
			if (rc == 0 && !want[i].running)
				rc = lab_host_stop(state, s->instance_id, &cause);
		} else {
			rc = lab_host_set_public_ip(state, s->instance_id,
			    s->public_ip, &cause);
			if (rc == 0 && want[i].running &&
			    strcmp(now, "running") != 0)
				rc = lab_host_start(state, s->instance_id, &cause);
			else if (rc == 0 && !want[i].running &&
			    strcmp(now, "stopped") != 0)
				rc = lab_host_stop(state, s->instance_id, &cause);
		}
		if (rc == -1) {
			fail(errs, s->instance_id, cause);
			failed++;
		}
	}
	strlist_release(&have);
	strlist_release(&wanted);
	return failed;
}

static void
fail(struct strlist *errs, const char *id, char *cause)
{
	if (errs != NULL)
		strlist_take(errs, xasprintf("%s: %s", id,
		    cause != NULL ? cause : "failed"));
	free(cause);
}
