/* iam: roles and instance profiles for nodes, grafana and notebooks (see
 * iam.h), and the "iam-role" / "instance-profile" types of the stack. */
#include <stdlib.h>
#include <string.h>
#include "stack/iam.h"
#include "stack/types.h"
#include "lib/state.h"

static void role_attrs(cJSON *attrs, const cJSON *item);
static void profile_attrs(cJSON *attrs, const cJSON *item);
static int profile_wait(struct stack *, const char *profile,
    const char *role);
static void attached_check(struct stack *, const char *rec_role,
    const char *name, const struct stack_step *, size_t n);

char *
iam_role_name(struct stack *st, const char *purpose)
{
	return xasprintf("mlsh-%s-%s", st->ws, purpose);
}

static char *
iam_path(struct stack *st)
{
	return xasprintf("/mlsh/%s/", st->ws);
}

static char *
trust_policy(const char *service)
{
	return xasprintf("{\"Version\":\"2012-10-17\",\"Statement\":[{"
	    "\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"%s\"},"
	    "\"Action\":\"sts:AssumeRole\"}]}", service);
}

/* Adopt name when IAM already has it (a lost state, a previous run that
 * died after the create): 1 adopted, 0 not there, -1 error recorded. */
static int
adopt(struct stack *st, const char *rec_role, const char *type,
    const char *action, const char *member, const char *name,
    const char *item_key, void (*attrs)(cJSON *, const cJSON *))
{
	struct aws_error err;
	cJSON *p, *res = NULL, *rec;
	int rc;

	if (st->dry_run)
		return 0;
	memset(&err, 0, sizeof err);
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, member, name);
	rc = stack_call(st, "iam", action, p, &res, &err);
	cJSON_Delete(p);
	if (rc != 0) {
		if (stack_err_gone(&err))
			return 0;
		return stack_fail(st, name, &err);
	}
	rec = stack_record(st, rec_role, type, name);
	if (rec != NULL) {
		cJSON *a = cJSON_GetObjectItemCaseSensitive(rec, "attrs");
		if (a == NULL)
			a = cJSON_AddObjectToObject(rec, "attrs");
		attrs(a, cJSON_GetObjectItemCaseSensitive(res, item_key));
	}
	cJSON_AddItemToArray(st->existing, cJSON_CreateString(rec_role));
	cJSON_Delete(res);
	return stack_save(st) == 0 ? 1 : -1;
}

/* The role: adopted, or created. 0, or -1 after an error. */
static int
ensure_role(struct stack *st, const struct iam_role_spec *spec,
    const char *rrole, const char *name, const char *path)
{
	char *doc, *sum;
	int r;

	if (stack_id(st, rrole) != NULL)
		return 0;
	r = adopt(st, rrole, "iam-role", "GetRole", "RoleName", name, "Role",
	    role_attrs);
	if (r != 0)
		return r < 0 ? -1 : 0;
	doc = trust_policy(spec->service);
	sum = xasprintf("%s trusted by %s", name, spec->service);
	{
		struct stack_create c = {
			.role = rrole, .type = "iam-role",
			.service = "iam", .action = "CreateRole",
			.params = cJSON_CreateObject(),
			.tag_style = STACK_TAG_LIST,
			.item_path = "Role", .id_key = "RoleName",
			.attrs = role_attrs, .summary = sum,
		};
		cJSON_AddStringToObject(c.params, "RoleName", name);
		cJSON_AddStringToObject(c.params, "Path", path);
		cJSON_AddStringToObject(c.params, "AssumeRolePolicyDocument",
		    doc);
		cJSON_AddStringToObject(c.params, "Description",
		    "made by mlsh; removed by mlsh down");
		r = stack_create_many(st, &c, 1);
	}
	free(doc);
	free(sum);
	return r;
}

/* The role's managed policies (at most 6), each a step done once. */
static int
attach_policies(struct stack *st, const struct iam_role_spec *spec,
    const char *rrole, const char *name)
{
	struct stack_step steps[6];
	size_t nsteps = 0;
	int r;

	for (size_t i = 0; spec->policies != NULL && spec->policies[i] != NULL &&
	    nsteps < 6; i++) {
		const char *arn = spec->policies[i], *slash = strrchr(arn, '/');
		struct stack_step *s = &steps[nsteps++];
		memset(s, 0, sizeof *s);
		s->role = rrole;
		s->service = "iam";
		s->action = "AttachRolePolicy";
		s->params = cJSON_CreateObject();
		cJSON_AddStringToObject(s->params, "RoleName", name);
		cJSON_AddStringToObject(s->params, "PolicyArn", arn);
		s->step = xasprintf("attach:%s", slash ? slash + 1 : arn);
		s->summary = arn;
		/* AWS's own policies always exist in AWS; an emulator may lack
		 * them: checked (and said) below rather than failing here. */
		if (str_startswith(arn, "arn:aws:iam::aws:policy/"))
			s->ok_codes = "NoSuchEntity";
	}
	r = nsteps > 0 ? stack_step_many(st, steps, nsteps) : 0;
	if (r == 0 && nsteps > 0 && !st->dry_run)
		attached_check(st, rrole, name, steps, nsteps);
	for (size_t i = 0; i < nsteps; i++)
		free((char *)steps[i].step);
	return r;
}

/* The instance profile (same name as the role) holding the role. */
static int
ensure_profile(struct stack *st, const char *prole, const char *name,
    const char *path)
{
	int r;

	if (stack_id(st, prole) == NULL) {
		r = adopt(st, prole, "instance-profile", "GetInstanceProfile",
		    "InstanceProfileName", name, "InstanceProfile",
		    profile_attrs);
		if (r < 0)
			return -1;
		if (r == 0) {
			struct stack_create c = {
				.role = prole,
				.type = "instance-profile",
				.service = "iam",
				.action = "CreateInstanceProfile",
				.params = cJSON_CreateObject(),
				.tag_style = STACK_TAG_LIST,
				.item_path = "InstanceProfile",
				.id_key = "InstanceProfileName",
				.attrs = profile_attrs,
				.summary = name,
			};
			cJSON_AddStringToObject(c.params, "InstanceProfileName",
			    name);
			cJSON_AddStringToObject(c.params, "Path", path);
			if (stack_create_many(st, &c, 1) != 0)
				return -1;
		}
	}
	{
		struct stack_step s = {
			.role = prole, .step = "add-role",
			.service = "iam",
			.action = "AddRoleToInstanceProfile",
			.params = cJSON_CreateObject(),
			/* a profile holds one role: already in */
			.ok_codes = "LimitExceeded,EntityAlreadyExists",
			.summary = name,
		};
		cJSON_AddStringToObject(s.params, "InstanceProfileName", name);
		cJSON_AddStringToObject(s.params, "RoleName", name);
		if (stack_step_many(st, &s, 1) != 0)
			return -1;
	}
	if (!st->dry_run && profile_wait(st, name, name) != 0)
		return -1;
	return 0;
}

int
iam_ensure(struct stack *st, const struct iam_role_spec *spec,
    const char **role_arn, const char **profile_name)
{
	char *rrole = xasprintf("iam-%s", spec->purpose);
	char *prole = xasprintf("profile-%s", spec->purpose);
	char *name = iam_role_name(st, spec->purpose), *path = iam_path(st);
	int rc = -1;

	if (ensure_role(st, spec, rrole, name, path) != 0 ||
	    attach_policies(st, spec, rrole, name) != 0)
		goto out;
	if (profile_name != NULL)
		*profile_name = NULL;
	if (spec->profile) {
		if (ensure_profile(st, prole, name, path) != 0)
			goto out;
		if (profile_name != NULL)
			*profile_name = stack_id(st, prole);
	}
	if (role_arn != NULL) {
		const char *arn = stack_attr(stack_rec(st, rrole), "arn");
		*role_arn = arn != NULL ? arn : stack_id(st, rrole);
	}
	rc = 0;
out:
	free(rrole);
	free(prole);
	free(name);
	free(path);
	return rc;
}

int
iam_remove(struct stack *st, const char *purpose)
{
	struct strlist roles;
	char *r;
	int rc;

	strlist_init(&roles);
	r = xasprintf("profile-%s", purpose);
	if (stack_rec(st, r) != NULL)
		strlist_take(&roles, r);
	else
		free(r);
	r = xasprintf("iam-%s", purpose);
	if (stack_rec(st, r) != NULL)
		strlist_take(&roles, r);
	else
		free(r);
	rc = roles.n > 0 ? stack_delete(st, &roles) : 0;
	strlist_release(&roles);
	return rc;
}

/* ---- helpers ------------------------------------------------------------ */

static void
role_attrs(cJSON *attrs, const cJSON *item)
{
	const cJSON *arn = cJSON_GetObjectItemCaseSensitive(item, "Arn");

	if (cJSON_IsString(arn)) {
		cJSON_DeleteItemFromObjectCaseSensitive(attrs, "arn");
		cJSON_AddStringToObject(attrs, "arn", arn->valuestring);
	}
	cJSON_DeleteItemFromObjectCaseSensitive(attrs, "state");
	cJSON_AddStringToObject(attrs, "state", "available");
}

static void
profile_attrs(cJSON *attrs, const cJSON *item)
{
	role_attrs(attrs, item);
}

/* Warn about a policy the role still lacks (an AWS managed policy the
 * endpoint does not know) and forget its step, so a later run tries again. */
static void
attached_check(struct stack *st, const char *rec_role, const char *name,
    const struct stack_step *steps, size_t n)
{
	cJSON *p = cJSON_CreateObject(), *res = NULL, *rec, *done;
	struct aws_error err;
	char *have;

	cJSON_AddStringToObject(p, "RoleName", name);
	if (stack_call(st, "iam", "ListAttachedRolePolicies", p, &res,
	    &err) != 0) {
		aws_error_release(&err);
		cJSON_Delete(p);
		return;
	}
	cJSON_Delete(p);
	have = cJSON_PrintUnformatted(res);
	rec = stack_rec(st, rec_role);
	done = cJSON_GetObjectItemCaseSensitive(rec, "steps");
	for (size_t i = 0; i < n; i++) {
		const char *arn = cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(steps[i].params, "PolicyArn"));
		char *q;
		if (arn == NULL)
			arn = steps[i].summary;
		q = xasprintf("\"%s\"", arn);
		if (have != NULL && strstr(have, q) == NULL) {
			stack_warn(st, "%s: warning: %s is not attached to %s: "
			    "this endpoint does not know it", st->ui.cmd ?
			    st->ui.cmd : "iam", arn, name);
			cJSON_DeleteItemFromObjectCaseSensitive(done,
			    steps[i].step);
		}
		free(q);
	}
	free(have);
	cJSON_Delete(res);
	stack_save(st);
}

struct profile_check {
	struct stack *st;
	const char *profile, *role;
};

static int
profile_check(void *arg, int *done, char **status, struct aws_error *err)
{
	struct profile_check *pc = arg;
	cJSON *p = cJSON_CreateObject(), *res = NULL;
	const cJSON *roles, *r;
	int rc;

	cJSON_AddStringToObject(p, "InstanceProfileName", pc->profile);
	rc = stack_call(pc->st, "iam", "GetInstanceProfile", p, &res, err);
	cJSON_Delete(p);
	if (rc != 0) {
		if (stack_err_gone(err)) {	/* not visible yet */
			*status = xstrdup("not visible yet");
			return 0;
		}
		return -1;
	}
	roles = stack_path(res, "InstanceProfile.Roles");
	cJSON_ArrayForEach(r, roles) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(r, "RoleName");
		if (cJSON_IsString(n) && strcmp(n->valuestring, pc->role) == 0)
			*done = 1;
	}
	*status = xstrdup(*done ? "ready" : "role not attached yet");
	cJSON_Delete(res);
	return 0;
}

/* IAM is eventually consistent: a profile made a moment ago can be unknown
 * to EC2 for a few seconds. Wait until IAM itself shows the role in it. */
static int
profile_wait(struct stack *st, const char *profile, const char *role)
{
	struct profile_check pc = { st, profile, role };
	struct aws_error err;

	memset(&err, 0, sizeof err);
	if (aws_wait(st->aws, profile_check, &pc, 500, 4000, 60000, NULL, NULL,
	    &err) != 0)
		return stack_fail(st, profile, &err);
	return 0;
}

static int
iam_simple(struct stack *st, const char *action, const char *k1,
    const char *v1, const char *k2, const char *v2, cJSON **res,
    struct aws_error *err)
{
	cJSON *p = cJSON_CreateObject(), *mine = NULL;
	int rc;

	cJSON_AddStringToObject(p, k1, v1);
	if (k2 != NULL)
		cJSON_AddStringToObject(p, k2, v2);
	rc = stack_call(st, "iam", action, p, res != NULL ? res : &mine, err);
	cJSON_Delete(p);
	cJSON_Delete(mine);
	return rc;
}

/* ---- the types table's functions ----------------------------------------- */

/* Detach managed policies, delete inline ones, leave any profile, delete. */
int
iam_role_delete(struct stack *st, cJSON *rec, struct aws_error *err)
{
	const char *name = stack_attr(rec, "id");
	cJSON *res = NULL;
	const cJSON *e;

	if (name == NULL)
		return 0;
	if (iam_simple(st, "ListAttachedRolePolicies", "RoleName", name, NULL,
	    NULL, &res, err) != 0)
		goto fail;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(res,
	    "AttachedPolicies")) {
		const cJSON *arn = cJSON_GetObjectItemCaseSensitive(e,
		    "PolicyArn");
		if (cJSON_IsString(arn) && iam_simple(st, "DetachRolePolicy",
		    "RoleName", name, "PolicyArn", arn->valuestring, NULL,
		    err) != 0 && !stack_err_notfound(err))
			goto fail;
		aws_error_release(err);
	}
	cJSON_Delete(res);
	res = NULL;
	if (iam_simple(st, "ListRolePolicies", "RoleName", name, NULL, NULL,
	    &res, err) == 0) {
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(res,
		    "PolicyNames"))
			if (cJSON_IsString(e))
				(void)iam_simple(st, "DeleteRolePolicy",
				    "RoleName", name, "PolicyName",
				    e->valuestring, NULL, err);
		aws_error_release(err);
	} else if (stack_err_notfound(err))
		goto gone;
	else {
		aws_error_release(err);
	}
	cJSON_Delete(res);
	res = NULL;
	if (iam_simple(st, "ListInstanceProfilesForRole", "RoleName", name,
	    NULL, NULL, &res, err) == 0) {
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(res,
		    "InstanceProfiles")) {
			const cJSON *pn = cJSON_GetObjectItemCaseSensitive(e,
			    "InstanceProfileName");
			if (cJSON_IsString(pn))
				(void)iam_simple(st,
				    "RemoveRoleFromInstanceProfile",
				    "InstanceProfileName", pn->valuestring,
				    "RoleName", name, NULL, err);
			aws_error_release(err);
		}
	} else {
		aws_error_release(err);
	}
	cJSON_Delete(res);
	res = NULL;
	if (iam_simple(st, "DeleteRole", "RoleName", name, NULL, NULL, NULL,
	    err) != 0 && !stack_err_notfound(err))
		return -1;
gone:
	cJSON_Delete(res);
	aws_error_release(err);
	return 0;
fail:
	cJSON_Delete(res);
	if (stack_err_gone(err))
		return 0;
	return -1;
}

int
iam_role_refresh(struct stack *st, cJSON *rec, struct aws_error *err)
{
	const char *name = stack_attr(rec, "id");
	cJSON *res = NULL, *attrs;

	if (name == NULL)
		return STACK_GONE;
	if (iam_simple(st, "GetRole", "RoleName", name, NULL, NULL, &res,
	    err) != 0) {
		if (stack_err_gone(err))
			return STACK_GONE;
		return -1;
	}
	if ((attrs = cJSON_GetObjectItemCaseSensitive(rec, "attrs")) == NULL)
		attrs = cJSON_AddObjectToObject(rec, "attrs");
	role_attrs(attrs, cJSON_GetObjectItemCaseSensitive(res, "Role"));
	cJSON_Delete(res);
	return STACK_LIVE;
}

/* Roles and profiles of the workspace: by path (/mlsh/<ws>/), filtered here
 * too since not every implementation honours PathPrefix. */
static int
iam_list(struct stack *st, const char *action, const char *key,
    const char *name_key, const char *prefix, cJSON *out,
    struct aws_error *err)
{
	char *path = iam_path(st), *want = xasprintf("mlsh-%s-", st->ws);
	cJSON *p = cJSON_CreateObject(), *items = NULL;
	const cJSON *e;
	int rc;

	cJSON_AddStringToObject(p, "PathPrefix", path);
	rc = aws_paginate(st->aws, "iam", action, p, key, 0, &items, err);
	st->ncalls++;
	cJSON_Delete(p);
	if (rc != 0)
		goto out;
	cJSON_ArrayForEach(e, items) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, name_key);
		const cJSON *pa = cJSON_GetObjectItemCaseSensitive(e, "Path");
		cJSON *o, *attrs;
		char *role;
		if (!cJSON_IsString(n) || !cJSON_IsString(pa) ||
		    strcmp(pa->valuestring, path) != 0 ||
		    !str_startswith(n->valuestring, want))
			continue;
		role = xasprintf("%s-%s", prefix, n->valuestring + strlen(want));
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "role", role);
		cJSON_AddStringToObject(o, "id", n->valuestring);
		attrs = cJSON_AddObjectToObject(o, "attrs");
		role_attrs(attrs, e);
		cJSON_AddItemToArray(out, o);
		free(role);
	}
out:
	cJSON_Delete(items);
	free(path);
	free(want);
	return rc;
}

int
iam_role_list(struct stack *st, cJSON *out, struct aws_error *err)
{
	return iam_list(st, "ListRoles", "Roles", "RoleName", "iam", out, err);
}

int
iam_profile_delete(struct stack *st, cJSON *rec, struct aws_error *err)
{
	const char *name = stack_attr(rec, "id");
	cJSON *res = NULL;
	const cJSON *e;

	if (name == NULL)
		return 0;
	if (iam_simple(st, "GetInstanceProfile", "InstanceProfileName", name,
	    NULL, NULL, &res, err) != 0) {
		if (stack_err_gone(err))
			return 0;
		return -1;
	}
	cJSON_ArrayForEach(e, stack_path(res, "InstanceProfile.Roles")) {
		const cJSON *rn = cJSON_GetObjectItemCaseSensitive(e, "RoleName");
		if (cJSON_IsString(rn) && iam_simple(st,
		    "RemoveRoleFromInstanceProfile", "InstanceProfileName", name,
		    "RoleName", rn->valuestring, NULL, err) != 0 &&
		    !stack_err_notfound(err)) {
			cJSON_Delete(res);
			return -1;
		}
		aws_error_release(err);
	}
	cJSON_Delete(res);
	if (iam_simple(st, "DeleteInstanceProfile", "InstanceProfileName", name,
	    NULL, NULL, NULL, err) != 0) {
		if (!stack_err_notfound(err))
			return -1;
		aws_error_release(err);
	}
	return 0;
}

int
iam_profile_refresh(struct stack *st, cJSON *rec, struct aws_error *err)
{
	const char *name = stack_attr(rec, "id");
	cJSON *res = NULL, *attrs;

	if (name == NULL)
		return STACK_GONE;
	if (iam_simple(st, "GetInstanceProfile", "InstanceProfileName", name,
	    NULL, NULL, &res, err) != 0) {
		if (stack_err_gone(err))
			return STACK_GONE;
		return -1;
	}
	if ((attrs = cJSON_GetObjectItemCaseSensitive(rec, "attrs")) == NULL)
		attrs = cJSON_AddObjectToObject(rec, "attrs");
	profile_attrs(attrs, cJSON_GetObjectItemCaseSensitive(res,
	    "InstanceProfile"));
	cJSON_Delete(res);
	return STACK_LIVE;
}

int
iam_profile_list(struct stack *st, cJSON *out, struct aws_error *err)
{
	return iam_list(st, "ListInstanceProfiles", "InstanceProfiles",
	    "InstanceProfileName", "profile", out, err);
}
