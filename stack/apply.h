/* apply.h: build part of the stack from a declarative table (stack/apply.c).
 *
 * A command lists the roles it makes (type, the roles each needs first, the
 * create call and a parameters builder) and the follow-up steps (attach,
 * routes, ingress rules: each with the roles or "role:step"s it needs).
 * stack_apply walks the table in waves: every role whose dependencies are
 * done is created in one parallel batch (stack_create_many), the roles of
 * the batch that have a wanted state are waited for together, then every
 * step whose dependencies are done runs (again until none is left ready),
 * and the next wave starts. Order inside a batch is the table's order, so
 * the plan (--dry-run) and the calls are the same on every run. */
#ifndef MLSH_STACK_APPLY_H
#define MLSH_STACK_APPLY_H

#include "stack/stack.h"

struct stack_apply_role {
	const char *role;		/* "subnet-public" */
	const char *type;		/* a type name (stack/types.c) */
	const char *deps;		/* comma-separated roles, or NULL */
	const char *service;
	const char *action;		/* "CreateSubnet" */
	const char *token_member;	/* see struct stack_create */
	enum stack_tag_style tag_style;
	const char *tag_type;
	const char *item_path;
	const char *id_key;
	/* The create's parameters and its summary (*summary: caller frees,
	 * may stay NULL). */
	cJSON *(*params)(struct stack *, void *arg,
	    const struct stack_apply_role *, char **summary);
	const char *wait;		/* a state to wait for, or NULL */
	int wait_s;			/* its timeout */
	const void *data;		/* for params */
};

struct stack_apply_step {
	const char *role;
	const char *step;		/* "attach": recorded in role's steps */
	const char *deps;		/* roles and "role:step"s, or NULL */
	const char *service;
	const char *action;
	const char *ok_codes;		/* see struct stack_step */
	/* The call's parameters and summary; NULL: nothing to do this time. */
	cJSON *(*params)(struct stack *, void *arg,
	    const struct stack_apply_step *, char **summary);
	/* Or instead of one call, a step of its own (not recorded): 0 or -1
	 * after recording the error. */
	int (*run)(struct stack *, void *arg, const struct stack_apply_step *);
	const void *data;		/* for params or run */
};

/* Create and wire what is missing, in waves (see above). -1 after the
 * first failure (recorded); what was done is recorded and saved. */
int stack_apply(struct stack *, const struct stack_apply_role *, size_t nroles,
    const struct stack_apply_step *, size_t nsteps, void *arg);

#endif
