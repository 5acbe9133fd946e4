/* down: remove everything the workspace made, in dependency order
 * (stack/types.c), waiting where AWS needs it and retrying
 * DependencyViolation; prints what was removed and what it cost. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "builtins/stackcmd.h"

/* What the workspace really cost: what this and any earlier, interrupted
 * run removed (the ledger) and what is kept; then the ledger closes. */
static void
down_report(struct stack *st)
{
	int n, unknown = 0;
	double removed = stack_ledger_total(st, &n, &unknown), kept = 0;
	int earlier = 0;
	struct strlist ids;
	cJSON *rec;

	strlist_init(&ids);
	cJSON_ArrayForEach(rec, st->removed)
		if (stack_attr(rec, "id") != NULL)
			strlist_add(&ids, stack_attr(rec, "id"));
	cJSON_ArrayForEach(rec, stack_ledger_removed(st))
		if (!strlist_has(&ids, stack_attr(rec, "id") ?
		    stack_attr(rec, "id") : ""))
			earlier++;
	strlist_release(&ids);
	(void)n;
	cJSON_ArrayForEach(rec, st->resources) {
		double c = stack_rec_accrued(&st->prices, rec);
		if (c < 0)
			unknown = 1;
		else
			kept += c;
	}
	fprintf(stderr, "down: the workspace cost %s$%.2f", unknown ?
	    "at least " : "", removed + kept);
	if (earlier > 0)
		fprintf(stderr, " (%d resource%s removed by an earlier run "
		    "included)", earlier, earlier == 1 ? "" : "s");
	if (kept > 0)
		fprintf(stderr, " ($%.2f of it on what is kept)", kept);
	fputc('\n', stderr);
	stack_ledger_close(st);
}

static int
down_exec(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct stack st;
	struct strlist roles, keep;
	int rc;

	if (stack_open(ctx, a, &st) != 0)
		return 1;
	strlist_init(&roles);
	strlist_init(&keep);
	stack_roles(&st, 0, &roles);
	if (cmd_opt_bool(a, "keep-efs")) {
		/* The file system (the data) stays; its mount target goes
		 * with the subnet. */
		for (size_t i = 0; i < roles.n; i++)
			if (strcmp(roles.v[i], "efs") != 0)
				strlist_add(&keep, roles.v[i]);
	} else
		for (size_t i = 0; i < roles.n; i++)
			strlist_add(&keep, roles.v[i]);
	if (keep.n == 0) {
		fprintf(stderr, "down: nothing to remove in workspace '%s'\n",
		    st.ws);
		if (!st.dry_run &&
		    cJSON_GetArraySize(stack_ledger_removed(&st)) > 0)
			down_report(&st);	/* an interrupted run's */
		*result = cJSON_CreateArray();
		goto done;
	}
	if ((rc = stackcmd_confirm_delete(&st, &keep, NULL)) != 0) {
		strlist_release(&roles);
		strlist_release(&keep);
		stack_close(&st);
		return rc;
	}
	if (stack_delete(&st, &keep) != 0) {
		int nr = cJSON_GetArraySize(st.removed);
		if (nr > 0)
			shell_warn(ctx, "down: removed %d resource%s before "
			    "the error; run 'down' again to finish", nr,
			    nr == 1 ? "" : "s");
		strlist_release(&roles);
		strlist_release(&keep);
		stack_close(&st);
		return 1;
	}
	*result = stack_result(&st);
	if (!st.dry_run)
		down_report(&st);
done:
	strlist_release(&roles);
	strlist_release(&keep);
	stack_close(&st);
	return 0;
}

static const struct mlsh_opt down_opts[] = {
	{ "keep-efs", 0, OPT_BOOL, NULL, NULL,
	    "keep the EFS file system and its data" },
	OPT_FORCE("delete without asking (needed without a terminal)"),
	OPT_DRY_RUN("print the plan and change nothing"),
	{ NULL, 0, 0, NULL, NULL, NULL }
};

const struct mlsh_cmd cmd_down_entry = {
	.name = "down",
	.summary = "remove everything the workspace made, in dependency order",
	.help = "Instances and notebooks first, then the NAT gateway and its "
	    "Elastic IP, mount targets, the file system, subnets, route "
	    "tables, internet gateway, security groups, key pair, instance "
	    "profiles and roles, and the VPC; waits where AWS needs it and "
	    "retries DependencyViolation. A second `down` removes nothing. "
	    "With a terminal on standard input it lists what goes and asks "
	    "first (also under `mlsh -c down`); without one it refuses "
	    "unless --force (--yes only answers price questions).",
	.opts = down_opts,
	.min_args = 0,
	.max_args = 0,
	.exec = down_exec,
};
