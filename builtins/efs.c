/* efs: the shared file system mounted at /efs on every node: encrypted,
 * CreationToken from the workspace (idempotent), lifecycle to IA after 30
 * days, one mount target in the private subnet behind the efs security
 * group. `efs down` destroys data: on a tty it asks, without one it needs
 * --force (stackcmd_confirm_delete). Its types' rows are in stack/types.c, their hooks in
 * stack/efs.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "builtins/stackcmd.h"

static int
efs_up(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct stack st;
	const char *subnet, *sg, *az = NULL;
	char *token = NULL, *sum = NULL, *dns;
	int one_zone = cmd_opt_bool(a, "one-zone");
	int rc = 1;

	if (stack_open(ctx, a, &st) != 0)
		return 1;
	if ((subnet = stack_need(&st, "subnet-private", "vpc up")) == NULL ||
	    (sg = stack_need(&st, "sg-efs", "vpc up")) == NULL)
		goto out;
	if (one_zone)
		az = stack_attr(stack_rec(&st, "subnet-private"), "az");
	{
		const char *rz = stack_attr(stack_rec(&st, "efs"), "az");
		if (stack_id(&st, "efs") != NULL && one_zone != (rz != NULL))
			shell_warn(ctx, "efs: the file system is already %s; "
			    "--one-zone only applies to a new one",
			    rz ? "One Zone" : "Regional");
	}
	if (stack_id(&st, "efs") == NULL) {
		struct stack_price_item pi = { "file system",
		    one_zone ? "efs-one-zone-gb-month" : "efs-gb-month", 1 };
		double p = stack_price(&st.prices, pi.key);
		fflush(stdout);
		if (p >= 0)
			fprintf(stderr, "efs: storage costs $%.2f per GB-month "
			    "($0/h while empty)\n", p);
		else
			fprintf(stderr, "efs: storage price unknown in %s\n",
			    st.region);
	}
	token = xasprintf("mlsh-%s-efs", st.ws);
	sum = xasprintf("CreationToken=%s Encrypted=true%s%s", token,
	    az ? " AvailabilityZoneName=" : "", az ? az : "");
	{
		cJSON *p = cJSON_CreateObject();
		struct stack_create c;
		cJSON_AddStringToObject(p, "CreationToken", token);
		cJSON_AddBoolToObject(p, "Encrypted", 1);
		cJSON_AddStringToObject(p, "PerformanceMode", "generalPurpose");
		cJSON_AddStringToObject(p, "ThroughputMode", "bursting");
		if (az != NULL)
			cJSON_AddStringToObject(p, "AvailabilityZoneName", az);
		c = (struct stack_create){ .role = "efs", .type = "efs",
		    .service = "efs", .action = "CreateFileSystem", .params = p,
		    .token = token, .tag_style = STACK_TAG_LIST,
		    .item_path = "", .id_key = "FileSystemId",
		    .summary = sum };
		if (stack_create_many(&st, &c, 1) != 0)
			goto out;
	}
	if (stack_wait_state(&st, "efs", "available", 300) != 0)
		goto out;
	dns = xasprintf("%s.efs.%s.amazonaws.com", stack_id(&st, "efs"),
	    st.region);
	stack_set_attr(&st, "efs", "dns_name", dns);
	free(dns);
	{
		cJSON *p = cJSON_CreateObject(), *pol = cJSON_CreateArray(),
		    *one = cJSON_CreateObject();
		struct stack_step s;
		cJSON_AddStringToObject(p, "FileSystemId", stack_id(&st, "efs"));
		cJSON_AddStringToObject(one, "TransitionToIA", "AFTER_30_DAYS");
		cJSON_AddItemToArray(pol, one);
		cJSON_AddItemToObject(p, "LifecyclePolicies", pol);
		s = (struct stack_step){ "efs", "lifecycle-ia", "efs",
		    "PutLifecycleConfiguration", p, NULL,
		    "TransitionToIA=AFTER_30_DAYS" };
		if (stack_step_many(&st, &s, 1) != 0)
			goto out;
	}
	{
		cJSON *p = cJSON_CreateObject(), *sgs = cJSON_CreateArray();
		struct stack_create c;
		char *msum = xasprintf("in subnet-private %s, security group "
		    "sg-efs", subnet);
		cJSON_AddStringToObject(p, "FileSystemId", stack_id(&st, "efs"));
		cJSON_AddStringToObject(p, "SubnetId", subnet);
		cJSON_AddItemToArray(sgs, cJSON_CreateString(sg));
		cJSON_AddItemToObject(p, "SecurityGroups", sgs);
		c = (struct stack_create){ .role = "mount-target",
		    .type = "mount-target", .service = "efs",
		    .action = "CreateMountTarget", .params = p,
		    .tag_style = STACK_TAG_NONE, .item_path = "",
		    .id_key = "MountTargetId",
		    .summary = msum };
		rc = stack_create_many(&st, &c, 1);
		free(msum);
		if (rc != 0) {
			rc = 1;
			goto out;
		}
	}
	if (stack_wait_state(&st, "mount-target", "available", 600) != 0)
		goto out;
	*result = stack_result(&st);
	rc = 0;
out:
	free(token);
	free(sum);
	stack_close(&st);
	return rc;
}

static int
efs_down(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct stack st;
	struct strlist roles;
	int rc;

	if (stack_open(ctx, a, &st) != 0)
		return 1;
	strlist_init(&roles);
	strlist_add(&roles, "mount-target");
	strlist_add(&roles, "efs");
	rc = stackcmd_confirm_delete(&st, &roles, NULL) != 0 ? -1 :
	    stack_delete(&st, &roles);
	if (rc == 0)
		*result = stack_result(&st);
	strlist_release(&roles);
	stack_close(&st);
	return rc == 0 ? 0 : 1;
}

static int
efs_status(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct stack st;
	struct strlist roles;

	if (stack_open(ctx, a, &st) != 0)
		return 1;
	strlist_init(&roles);
	strlist_add(&roles, "efs");
	strlist_add(&roles, "mount-target");
	*result = stack_status_rows(&st, &roles);
	strlist_release(&roles);
	stack_close(&st);
	return 0;
}

/* --- entry --- */

static void
efs_complete(struct mlsh_ctx *ctx, const struct cmd_args *a, const char *opt,
    int argi, const char *prefix, struct strlist *out)
{
	/* No arguments take values today; nothing to offer. */
	(void)ctx;
	(void)a;
	(void)opt;
	(void)argi;
	(void)prefix;
	(void)out;
}

static const struct mlsh_opt up_opts[] = {
	{ "one-zone", 0, OPT_BOOL, NULL, NULL,
	    "One Zone storage in the private subnet's AZ (cheaper)" },
	OPT_YES("do not ask before starting"),
	OPT_DRY_RUN("print the plan and change nothing"),
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct mlsh_opt down_opts[] = {
	OPT_FORCE("delete the data without asking (needed without a terminal)"),
	OPT_DRY_RUN("print the plan and change nothing"),
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct mlsh_cmd efs_subcmds[] = {
	{ .name = "up", .summary = "create the encrypted file system and its "
	    "mount target", .opts = up_opts, .min_args = 0, .max_args = 0,
	    .complete = efs_complete, .exec = efs_up },
	{ .name = "down", .summary = "delete the file system and its data",
	    .opts = down_opts, .min_args = 0, .max_args = 0, .exec = efs_down },
	{ .name = "status", .summary = "show the file system and mount target",
	    .min_args = 0, .max_args = 0, .exec = efs_status,
	    .flags = CMD_NO_HISTORY | CMD_READONLY },
	{ .name = NULL }
};

const struct mlsh_cmd cmd_efs_entry = {
	.name = "efs",
	.summary = "shared EFS file system mounted at /efs on every node",
	.help = "Encrypted, CreationToken from the workspace (a second `efs "
	    "up` finds the same file system), lifecycle to Infrequent Access "
	    "after 30 days, one mount target in the private subnet that only "
	    "the VPC reaches on 2049.",
	.min_args = 0,
	.max_args = 0,
	.subcmds = efs_subcmds,
};
