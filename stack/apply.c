/* apply.c: stack_apply (see apply.h), the walk of a command's table of
 * roles and steps in dependency waves. */
#include "stack/apply.h"

#include <stdlib.h>
#include <string.h>

/* What is done in this run: roles created (or found), steps run. */
struct done {
	struct strlist names;		/* "role" and "role:step" */
};

/* Whether every comma-separated name in deps is done. */
static int
deps_done(const struct done *d, const char *deps)
{
	char *dup, *tok, *save = NULL;
	int ok = 1;

	if (deps == NULL)
		return 1;
	dup = xstrdup(deps);
	for (tok = strtok_r(dup, ",", &save); tok != NULL && ok;
	    tok = strtok_r(NULL, ",", &save))
		ok = strlist_has(&d->names, tok);
	free(dup);
	return ok;
}

static void
mark(struct done *d, const char *role, const char *step)
{
	if (step == NULL)
		strlist_add(&d->names, role);
	else
		strlist_take(&d->names, xasprintf("%s:%s", role, step));
}

static int
is_done(const struct done *d, const char *role, const char *step)
{
	char *k = step ? xasprintf("%s:%s", role, step) : xstrdup(role);
	int r = strlist_has(&d->names, k);
	free(k);
	return r;
}

static void
fill_create(struct stack *st, void *arg, const struct stack_apply_role *r,
    struct stack_create *c, char **sum)
{
	*sum = NULL;
	*c = (struct stack_create){ .role = r->role, .type = r->type,
	    .service = r->service, .action = r->action,
	    .token_member = r->token_member, .tag_style = r->tag_style,
	    .tag_type = r->tag_type, .item_path = r->item_path,
	    .id_key = r->id_key };
	c->params = r->params(st, arg, r, sum);
	c->summary = *sum ? *sum : "";
}

/* Sequential (benchmarks): each create, then its wait, before the next. */
static int
create_one_by_one(struct stack *st, void *arg,
    const struct stack_apply_role **b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct stack_create c;
		char *sum;
		int rc;
		fill_create(st, arg, b[i], &c, &sum);
		rc = stack_create_many(st, &c, 1);
		free(sum);
		if (rc == 0 && b[i]->wait != NULL)
			rc = stack_wait_state(st, b[i]->role, b[i]->wait,
			    b[i]->wait_s);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* One batch in parallel, then its waits together (the longest timeout,
 * any of the wanted states). */
static int
create_batch(struct stack *st, void *arg, const struct stack_apply_role **b,
    size_t n)
{
	struct stack_create *c = xcalloc(n, sizeof *c);
	char **sums = xcalloc(n, sizeof *sums);
	const char **waits = xcalloc(n, sizeof *waits);
	struct buf want;
	size_t nw = 0;
	int rc, timeout = 0;

	buf_init(&want);
	for (size_t i = 0; i < n; i++) {
		fill_create(st, arg, b[i], &c[i], &sums[i]);
		if (b[i]->wait == NULL)
			continue;
		waits[nw++] = b[i]->role;
		buf_printf(&want, "%s%s", want.len ? "," : "", b[i]->wait);
		if (b[i]->wait_s > timeout)
			timeout = b[i]->wait_s;
	}
	rc = stack_create_many(st, c, n);
	if (rc == 0 && nw > 0)
		rc = stack_wait_states(st, waits, nw, want.data, timeout);
	for (size_t i = 0; i < n; i++)
		free(sums[i]);
	buf_release(&want);
	free(sums);
	free(waits);
	free(c);
	return rc;
}

/* The roles ready now (dependencies done), created. 0 with *n the count. */
static int
create_wave(struct stack *st, const struct stack_apply_role *roles,
    size_t nr, void *arg, struct done *d, size_t *n)
{
	const struct stack_apply_role **b = xcalloc(nr ? nr : 1, sizeof *b);
	int rc = 0, waits = 0;

	*n = 0;
	for (size_t i = 0; i < nr; i++)
		if (!is_done(d, roles[i].role, NULL) &&
		    deps_done(d, roles[i].deps)) {
			b[(*n)++] = &roles[i];
			waits |= roles[i].wait != NULL;
		}
	if (*n > 0)
		rc = st->sequential && waits ? create_one_by_one(st, arg, b,
		    *n) : create_batch(st, arg, b, *n);
	for (size_t i = 0; i < *n; i++)
		mark(d, b[i]->role, NULL);
	free(b);
	return rc;
}

/* Send the collected call steps (one stack_step_many). */
static int
flush_steps(struct stack *st, struct stack_step *s, char **sums, size_t *n)
{
	int rc = *n > 0 ? stack_step_many(st, s, *n) : 0;

	for (size_t i = 0; i < *n; i++)
		free(sums[i]);
	*n = 0;
	return rc;
}

/* One pass over the steps ready now, in table order: consecutive call
 * steps go in one stack_step_many, a step of its own runs in its place.
 * 0 with *ran the count, or -1. */
static int
step_pass(struct stack *st, const struct stack_apply_step *steps, size_t ns,
    void *arg, struct done *d, size_t *ran)
{
	struct stack_step *s = xcalloc(ns ? ns : 1, sizeof *s);
	char **sums = xcalloc(ns ? ns : 1, sizeof *sums);
	char *ready = xcalloc(ns ? ns : 1, 1);
	size_t n = 0;
	int rc = 0;

	/* Readiness is decided before any of this pass runs. */
	for (size_t i = 0; i < ns; i++)
		ready[i] = !is_done(d, steps[i].role, steps[i].step) &&
		    deps_done(d, steps[i].deps);
	*ran = 0;
	for (size_t i = 0; i < ns && rc == 0; i++) {
		const struct stack_apply_step *p = &steps[i];
		if (!ready[i])
			continue;
		mark(d, p->role, p->step);
		(*ran)++;
		if (p->run != NULL) {
			if ((rc = flush_steps(st, s, sums, &n)) == 0)
				rc = p->run(st, arg, p);
			continue;
		}
		sums[n] = NULL;
		s[n].params = p->params(st, arg, p, &sums[n]);
		if (s[n].params == NULL) {
			free(sums[n]);
			continue;
		}
		s[n].role = p->role;
		s[n].step = p->step;
		s[n].service = p->service;
		s[n].action = p->action;
		s[n].ok_codes = p->ok_codes;
		s[n].summary = sums[n] ? sums[n] : "";
		n++;
	}
	if (rc == 0)
		rc = flush_steps(st, s, sums, &n);
	for (size_t i = 0; i < n; i++) {	/* not sent after a failure */
		cJSON_Delete(s[i].params);
		free(sums[i]);
	}
	free(s);
	free(sums);
	free(ready);
	return rc;
}

int
stack_apply(struct stack *st, const struct stack_apply_role *roles, size_t nr,
    const struct stack_apply_step *steps, size_t ns, void *arg)
{
	struct done d;
	int rc = 0;

	strlist_init(&d.names);
	/* Every wave does at least one role or step: bounded. */
	for (size_t wave = 0; wave <= nr + ns && rc == 0; wave++) {
		size_t made = 0, ran = 0, total = 0;
		rc = create_wave(st, roles, nr, arg, &d, &made);
		while (rc == 0 && (rc = step_pass(st, steps, ns, arg, &d,
		    &ran)) == 0 && ran > 0)
			total += ran;
		if (made == 0 && total == 0)
			break;
	}
	strlist_release(&d.names);
	return rc == 0 ? 0 : -1;
}
