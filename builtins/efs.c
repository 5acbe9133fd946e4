/* efs: the shared file system mounted at /efs on every node: encrypted,
 * CreationToken from the workspace (idempotent), lifecycle to IA after 30
 * days, one mount target in the private subnet behind the efs security
 * group. `efs down` destroys data: on a tty it asks, in scripts it needs
 * --force. The types' functions for stack_types.def live here too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "shell/ui.h"
#include "stack/stack.h"

static void
fs_attrs(cJSON *at, const cJSON *it)
{
	const cJSON *v;

	v = cJSON_GetObjectItemCaseSensitive(it, "LifeCycleState");
	if (cJSON_IsString(v)) {
		cJSON_DeleteItemFromObjectCaseSensitive(at, "state");
		cJSON_AddStringToObject(at, "state", v->valuestring);
	}
	v = stack_path(it, "SizeInBytes.Value");
	if (cJSON_IsNumber(v)) {
		char n[32];
		snprintf(n, sizeof n, "%.0f", v->valuedouble);
		cJSON_DeleteItemFromObjectCaseSensitive(at, "size_bytes");
		cJSON_AddStringToObject(at, "size_bytes", n);
	}
	v = cJSON_GetObjectItemCaseSensitive(it, "Encrypted");
	if (cJSON_IsBool(v)) {
		cJSON_DeleteItemFromObjectCaseSensitive(at, "encrypted");
		cJSON_AddStringToObject(at, "encrypted", cJSON_IsTrue(v) ?
		    "true" : "false");
	}
	v = cJSON_GetObjectItemCaseSensitive(it, "AvailabilityZoneName");
	cJSON_DeleteItemFromObjectCaseSensitive(at, "price_key");
	if (cJSON_IsString(v) && v->valuestring[0] != '\0') {
		cJSON_DeleteItemFromObjectCaseSensitive(at, "az");
		cJSON_AddStringToObject(at, "az", v->valuestring);
		cJSON_AddStringToObject(at, "price_key", "efs-one-zone-gb-month");
	} else
		cJSON_AddStringToObject(at, "price_key", "efs-gb-month");
}

static void
mt_attrs(cJSON *at, const cJSON *it)
{
	static const char *const m[][2] = {
		{ "state", "LifeCycleState" }, { "private_ip", "IpAddress" },
		{ "subnet", "SubnetId" }, { "az", "AvailabilityZoneName" },
		{ "file_system", "FileSystemId" },
	};
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, m[i][1]);
		if (cJSON_IsString(v) && v->valuestring[0] != '\0') {
			cJSON_DeleteItemFromObjectCaseSensitive(at, m[i][0]);
			cJSON_AddStringToObject(at, m[i][0], v->valuestring);
		}
	}
}

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
		double p = stack_price(ctx, pi.key);
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
		    .attrs = fs_attrs, .summary = sum };
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
		    .id_key = "MountTargetId", .attrs = mt_attrs,
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
	if (stack_rec(&st, "efs") != NULL && !st.force && !st.dry_run) {
		if (!ui_can_ask(ctx)) {
			const char *id = stack_attr(stack_rec(&st, "efs"), "id");
			cmd_error(ctx, "this deletes the file system %s and its "
			    "data; pass --force in scripts", id ? id :
			    "(pending)");
			stack_close(&st);
			return 1;
		}
		if (!ui_confirm("efs: delete the file system and all its "
		    "data?")) {
			stack_close(&st);
			return cmd_error(ctx, "not deleted");
		}
	}
	strlist_init(&roles);
	strlist_add(&roles, "mount-target");
	strlist_add(&roles, "efs");
	rc = stack_delete(&st, &roles);
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

/* --- the types' functions --- */

int
efs_fs_delete(struct stack *st, cJSON *rec, struct aws_error *err)
{
	return stack_delete_by_id(st, "efs", "DeleteFileSystem", "FileSystemId",
	    stack_attr(rec, "id"), err);
}

int
efs_fs_refresh(struct stack *st, cJSON *rec, struct aws_error *err)
{
	int r = stack_refresh_by_id(st, rec, "efs", "DescribeFileSystems",
	    "FileSystemId", "FileSystems.0", NULL, fs_attrs, err);
	const char *s = stack_attr(rec, "state");

	if (r == STACK_LIVE && s != NULL && strcmp(s, "deleted") == 0)
		return STACK_GONE;
	return r;
}

int
efs_fs_list(struct stack *st, cJSON *out, struct aws_error *err)
{
	cJSON *items = NULL, *it;

	st->ncalls++;
	if (aws_paginate(st->aws, "efs", "DescribeFileSystems", NULL,
	    "FileSystems", 0, &items, err) != 0)
		return -1;
	cJSON_ArrayForEach(it, items) {
		const char *ws = stack_tag_value(it, "mlsh:workspace");
		const char *role = stack_role_from_name(st,
		    stack_tag_value(it, "Name"));
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(it,
		    "FileSystemId");
		const cJSON *lc = cJSON_GetObjectItemCaseSensitive(it,
		    "LifeCycleState");
		cJSON *o;
		if (ws == NULL || strcmp(ws, st->ws) != 0 || role == NULL ||
		    !cJSON_IsString(id) || (cJSON_IsString(lc) &&
		    (strcmp(lc->valuestring, "deleted") == 0 ||
		    strcmp(lc->valuestring, "deleting") == 0)))
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "role", role);
		cJSON_AddStringToObject(o, "id", id->valuestring);
		fs_attrs(cJSON_AddObjectToObject(o, "attrs"), it);
		cJSON_AddItemToArray(out, o);
	}
	cJSON_Delete(items);
	return 0;
}

double
efs_fs_price(struct mlsh_ctx *ctx, const cJSON *rec)
{
	const char *key = stack_attr(rec, "price_key");
	const char *size = stack_attr(rec, "size_bytes");
	double per_gb_month = stack_price(ctx, key ? key : "efs-gb-month");

	if (per_gb_month < 0)
		return -1;
	/* AWS bills GB-months; a month is 730 hours. */
	return (size ? atof(size) : 0) / 1e9 * per_gb_month / 730.0;
}

int
efs_mt_delete(struct stack *st, cJSON *rec, struct aws_error *err)
{
	return stack_delete_by_id(st, "efs", "DeleteMountTarget",
	    "MountTargetId", stack_attr(rec, "id"), err);
}

int
efs_mt_refresh(struct stack *st, cJSON *rec, struct aws_error *err)
{
	int r = stack_refresh_by_id(st, rec, "efs", "DescribeMountTargets",
	    "MountTargetId", "MountTargets.0", NULL, mt_attrs, err);
	const char *s = stack_attr(rec, "state");

	if (r == STACK_LIVE && s != NULL && strcmp(s, "deleted") == 0)
		return STACK_GONE;
	return r;
}

/* Mount targets carry no tags: they belong to the workspace's file system;
 * the one in the private subnet is "mount-target". */
int
efs_mt_list(struct stack *st, cJSON *out, struct aws_error *err)
{
	cJSON *fss = cJSON_CreateArray(), *fs;
	int first_seen = 0;

	if (efs_fs_list(st, fss, err) != 0) {
		cJSON_Delete(fss);
		return -1;
	}
	cJSON_ArrayForEach(fs, fss) {
		cJSON *p = cJSON_CreateObject(), *items = NULL, *it;
		cJSON_AddStringToObject(p, "FileSystemId", stack_attr(fs, "id"));
		st->ncalls++;
		if (aws_paginate(st->aws, "efs", "DescribeMountTargets", p,
		    "MountTargets", 0, &items, err) != 0) {
			cJSON_Delete(p);
			cJSON_Delete(fss);
			return -1;
		}
		cJSON_Delete(p);
		cJSON_ArrayForEach(it, items) {
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(it,
			    "MountTargetId");
			const cJSON *lc = cJSON_GetObjectItemCaseSensitive(it,
			    "LifeCycleState");
			const char *sub = stack_id(st, "subnet-private");
			const cJSON *sid = cJSON_GetObjectItemCaseSensitive(it,
			    "SubnetId");
			cJSON *o;
			if (!cJSON_IsString(id) || (cJSON_IsString(lc) &&
			    strncmp(lc->valuestring, "delet", 5) == 0))
				continue;
			o = cJSON_CreateObject();
			/* Without a recorded subnet (--recover), the first
			 * one is the workspace's. */
			if ((sub == NULL && !first_seen) || (sub != NULL &&
			    cJSON_IsString(sid) &&
			    strcmp(sid->valuestring, sub) == 0))
				cJSON_AddStringToObject(o, "role",
				    "mount-target");
			else {
				char *r = xasprintf("mount-target-%s",
				    cJSON_IsString(sid) ? sid->valuestring :
				    id->valuestring);
				cJSON_AddStringToObject(o, "role", r);
				free(r);
			}
			first_seen = 1;
			cJSON_AddStringToObject(o, "id", id->valuestring);
			mt_attrs(cJSON_AddObjectToObject(o, "attrs"), it);
			cJSON_AddItemToArray(out, o);
		}
		cJSON_Delete(items);
	}
	cJSON_Delete(fss);
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
	OPT_FORCE("delete the data without asking (needed in scripts)"),
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
	    .flags = CMD_NO_HISTORY },
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
