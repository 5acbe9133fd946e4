/* stack.c: the machinery the stack builtins share (see stack.h): records and
 * their journal in the workspace state, creates in parallel with tags and
 * idempotency, plans for --dry-run, waits with progress, deletes in
 * dependency order, AMI resolution, prices. */
#include "stack/stack.h"
#include "stack/types.h"
#include "builtins/target.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <lauxlib.h>
#include <lua.h>
#include "lib/state.h"

/* --- opening --- */

static int
has_opt(const struct cmd_args *a, const char *name)
{
	if (a == NULL || a->cmd == NULL || a->cmd->opts == NULL ||
	    a->optv == NULL)
		return 0;
	for (size_t i = 0; a->cmd->opts[i].name != NULL; i++)
		if (strcmp(a->cmd->opts[i].name, name) == 0)
			return a->optv[i] != NULL;
	return 0;
}

int
stack_open(struct mlsh_ctx *ctx, const struct cmd_args *a, struct stack *st)
{
	char *cause = NULL;
	const char *seq = getenv("MLSH_SEQUENTIAL");
	cJSON *res;

	memset(st, 0, sizeof *st);
	st->ctx = ctx;
	st->args = a;
	if ((st->state = shell_state(ctx, &cause)) == NULL) {
		cmd_error(ctx, "%s", cause);
		free(cause);
		return -1;
	}
	st->aws = shell_aws(ctx);
	st->ws = st->state->workspace;
	st->region = aws_client_region(st->aws);
	st->dry_run = has_opt(a, "dry-run");
	st->yes = has_opt(a, "yes");
	st->force = has_opt(a, "force");
	st->sequential = seq != NULL && *seq != '\0' && strcmp(seq, "0") != 0;
	res = cJSON_GetObjectItemCaseSensitive(st->state->root, "resources");
	if (!cJSON_IsObject(res)) {
		cJSON_DeleteItemFromObjectCaseSensitive(st->state->root,
		    "resources");
		res = cJSON_AddObjectToObject(st->state->root, "resources");
	}
	st->resources = st->dry_run ? cJSON_Duplicate(res, 1) : res;
	st->plan = cJSON_CreateArray();
	st->created = cJSON_CreateArray();
	st->existing = cJSON_CreateArray();
	st->removed = cJSON_CreateArray();
	st->started_ms = now_ms();
	return 0;
}

void
stack_close(struct stack *st)
{
	if (st->dry_run)
		cJSON_Delete(st->resources);
	cJSON_Delete(st->plan);
	cJSON_Delete(st->created);
	cJSON_Delete(st->existing);
	cJSON_Delete(st->removed);
	free(st->fail_code);
	memset(st, 0, sizeof *st);
}

int
stack_save(struct stack *st)
{
	char *cause = NULL;

	if (st->dry_run)
		return 0;
	if (state_save(st->state, &cause) != 0) {
		cmd_error(st->ctx, "%s", cause);
		free(cause);
		return -1;
	}
	return 0;
}

static void
add_row(cJSON *rows, const char *role, const char *id, const char *what,
    const char *detail)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "role", role);
	cJSON_AddStringToObject(o, "id", id ? id : "-");
	cJSON_AddStringToObject(o, "result", what);
	cJSON_AddStringToObject(o, "detail", detail ? detail : "");
	cJSON_AddItemToArray(rows, o);
}

cJSON *
stack_result(struct stack *st)
{
	cJSON *rows, *r;
	int nc = cJSON_GetArraySize(st->created);
	int ne = cJSON_GetArraySize(st->existing);
	int nr = cJSON_GetArraySize(st->removed);
	const char *name = st->args && st->args->builtin ?
	    st->args->builtin->name : "stack";
	const char *sub = st->args && st->args->cmd &&
	    st->args->cmd != st->args->builtin ? st->args->cmd->name : NULL;

	if (st->dry_run) {
		int n = cJSON_GetArraySize(st->plan);
		if (!st->ctx->json)
			fprintf(stderr, "%s%s%s: dry run: %d call%s planned, "
			    "nothing changed\n", name, sub ? " " : "",
			    sub ? sub : "", n, n == 1 ? "" : "s");
		r = st->plan;
		st->plan = cJSON_CreateArray();
		return r;
	}
	rows = cJSON_CreateArray();
	cJSON_ArrayForEach(r, st->created) {
		cJSON *rec = stack_rec(st, r->valuestring);
		add_row(rows, r->valuestring, rec ? stack_attr(rec, "id") : NULL,
		    "created", rec ? stack_attr(rec, "type") : NULL);
	}
	cJSON_ArrayForEach(r, st->existing) {
		cJSON *rec = stack_rec(st, r->valuestring);
		add_row(rows, r->valuestring, rec ? stack_attr(rec, "id") : NULL,
		    "exists", rec ? stack_attr(rec, "type") : NULL);
	}
	cJSON_ArrayForEach(r, st->removed) {
		cJSON *o = cJSON_Duplicate(r, 1);
		cJSON_AddItemToArray(rows, o);
	}
	fflush(stdout);
	if (nc == 0 && nr == 0 && ne > 0)
		fprintf(stderr, "%s%s%s: nothing new: all %d resource%s "
		    "already exist (%d call%s, %.1f s)\n", name, sub ? " " : "",
		    sub ? sub : "", ne, ne == 1 ? "" : "s", st->ncalls,
		    st->ncalls == 1 ? "" : "s",
		    (now_ms() - st->started_ms) / 1000);
	else
		fprintf(stderr, "%s%s%s: %d created, %d existing, %d removed "
		    "(%d call%s, %.1f s)\n", name, sub ? " " : "",
		    sub ? sub : "", nc, ne, nr, st->ncalls,
		    st->ncalls == 1 ? "" : "s",
		    (now_ms() - st->started_ms) / 1000);
	return rows;
}

/* --- records --- */

cJSON *
stack_rec(struct stack *st, const char *role)
{
	return cJSON_GetObjectItemCaseSensitive(st->resources, role);
}

const char *
stack_attr(const cJSON *rec, const char *key)
{
	const cJSON *v;

	if (rec == NULL)
		return NULL;
	v = cJSON_GetObjectItemCaseSensitive(rec, key);
	if (v == NULL) {
		const cJSON *at = cJSON_GetObjectItemCaseSensitive(rec, "attrs");
		v = cJSON_GetObjectItemCaseSensitive(at, key);
	}
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *
stack_id(struct stack *st, const char *role)
{
	cJSON *rec = stack_rec(st, role);
	const char *status = stack_attr(rec, "status");

	if (rec == NULL || status == NULL)
		return NULL;
	if (strcmp(status, "created") == 0 || strcmp(status, "planned") == 0)
		return stack_attr(rec, "id");
	return NULL;
}

const char *
stack_need(struct stack *st, const char *role, const char *run_first)
{
	const char *id = stack_id(st, role);

	if (id == NULL)
		cmd_error(st->ctx, "no %s in workspace '%s'; run '%s' first",
		    role, st->ws, run_first);
	return id;
}

static cJSON *
rec_attrs(cJSON *rec)
{
	cJSON *at = cJSON_GetObjectItemCaseSensitive(rec, "attrs");

	if (!cJSON_IsObject(at)) {
		cJSON_DeleteItemFromObjectCaseSensitive(rec, "attrs");
		at = cJSON_AddObjectToObject(rec, "attrs");
	}
	return at;
}

cJSON *
stack_rec_attrs(cJSON *rec)
{
	return rec_attrs(rec);
}

static void
obj_set_str(cJSON *o, const char *key, const char *value)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, key);
	if (value != NULL)
		cJSON_AddStringToObject(o, key, value);
}

void
stack_set_attr(struct stack *st, const char *role, const char *key,
    const char *value)
{
	cJSON *rec = stack_rec(st, role);

	if (rec != NULL)
		obj_set_str(rec_attrs(rec), key, value);
}

static cJSON *
rec_new(struct stack *st, const char *role, const char *type)
{
	cJSON *rec = stack_rec(st, role);

	if (rec == NULL) {
		rec = cJSON_AddObjectToObject(st->resources, role);
		cJSON_AddStringToObject(rec, "role", role);
	}
	obj_set_str(rec, "type", type);
	obj_set_str(rec, "region", st->region);
	cJSON_DeleteItemFromObjectCaseSensitive(rec, "created");
	cJSON_AddNumberToObject(rec, "created", (double)time(NULL));
	rec_attrs(rec);
	return rec;
}

cJSON *
stack_record(struct stack *st, const char *role, const char *type,
    const char *id)
{
	cJSON *rec = stack_rec(st, role);

	if (rec == NULL || strcmp(stack_attr(rec, "type") ?
	    stack_attr(rec, "type") : "", type) != 0)
		rec = rec_new(st, role, type);
	obj_set_str(rec, "id", id);
	obj_set_str(rec, "status", st->dry_run ? "planned" : "created");
	stack_save(st);
	return rec;
}

int
stack_forget(struct stack *st, const char *role)
{
	cJSON_DeleteItemFromObjectCaseSensitive(st->resources, role);
	return stack_save(st);
}

static int
type_order(const char *type)
{
	const struct stack_type *t = stack_type_find(type);
	return t != NULL ? t->order : 90;
}

static struct stack *sort_st;

static int
role_cmp(const void *a, const void *b)
{
	const char *ra = *(char *const *)a, *rb = *(char *const *)b;
	int oa = type_order(stack_attr(stack_rec(sort_st, ra), "type"));
	int ob = type_order(stack_attr(stack_rec(sort_st, rb), "type"));

	if (oa != ob)
		return oa < ob ? -1 : 1;
	return strcmp(ra, rb);
}

void
stack_roles(struct stack *st, int reverse, struct strlist *out)
{
	cJSON *rec;
	size_t first = out->n;

	cJSON_ArrayForEach(rec, st->resources)
		strlist_add(out, rec->string);
	if (out->n - first < 2)
		return;
	sort_st = st;
	qsort(out->v + first, out->n - first, sizeof *out->v, role_cmp);
	if (reverse) {
		for (size_t i = first, j = out->n; i + 1 < j; i++, j--) {
			char *t = out->v[i];
			out->v[i] = out->v[j - 1];
			out->v[j - 1] = t;
		}
	}
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
stack_roles_of(struct stack *st, const char *type, struct strlist *out)
{
	cJSON *rec;
	size_t first = out->n;

	cJSON_ArrayForEach(rec, st->resources) {
		const char *t = stack_attr(rec, "type");
		if (t != NULL && strcmp(t, type) == 0)
			strlist_add(out, rec->string);
	}
	if (out->n - first > 1)
		qsort(out->v + first, out->n - first, sizeof *out->v,
		    name_cmp);
}

char *
stack_name(struct stack *st, const char *role)
{
	return xasprintf("%s-%s", st->ws, role);
}

cJSON *
stack_tags(struct stack *st, const char *role)
{
	cJSON *tags = cJSON_CreateArray(), *t;
	char *name = stack_name(st, role);

	t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "Key", "mlsh:workspace");
	cJSON_AddStringToObject(t, "Value", st->ws);
	cJSON_AddItemToArray(tags, t);
	t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "Key", "Name");
	cJSON_AddStringToObject(t, "Value", name);
	cJSON_AddItemToArray(tags, t);
	free(name);
	return tags;
}

const cJSON *
stack_path(const cJSON *v, const char *path)
{
	char *p, *seg, *save = NULL;

	if (path == NULL || *path == '\0')
		return v;
	p = xstrdup(path);
	for (seg = strtok_r(p, ".", &save); seg != NULL && v != NULL;
	    seg = strtok_r(NULL, ".", &save)) {
		if (cJSON_IsArray(v) && seg[0] >= '0' && seg[0] <= '9')
			v = cJSON_GetArrayItem(v, atoi(seg));
		else
			v = cJSON_GetObjectItemCaseSensitive(v, seg);
	}
	free(p);
	return v;
}

const char *
stack_tag_value(const cJSON *item, const char *key)
{
	const cJSON *tags = cJSON_GetObjectItemCaseSensitive(item, "tagSet");
	const cJSON *t;
	int upper = 0;

	if (tags == NULL) {
		tags = cJSON_GetObjectItemCaseSensitive(item, "Tags");
		upper = 1;
	}
	if (tags == NULL)
		tags = cJSON_GetObjectItemCaseSensitive(item, "tags");
	cJSON_ArrayForEach(t, tags) {
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(t,
		    upper ? "Key" : "key");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(t,
		    upper ? "Value" : "value");
		if (cJSON_IsString(k) && strcmp(k->valuestring, key) == 0)
			return cJSON_IsString(v) ? v->valuestring : "";
	}
	return NULL;
}

const char *
stack_role_from_name(struct stack *st, const char *name)
{
	size_t n = strlen(st->ws);

	if (name == NULL || strncmp(name, st->ws, n) != 0 || name[n] != '-' ||
	    name[n + 1] == '\0')
		return NULL;
	return name + n + 1;
}

int
stack_err_notfound(const struct aws_error *e)
{
	const char *c = e->code;

	if (c == NULL)
		return 0;
	return strstr(c, "NotFound") != NULL || strncmp(c, "NoSuch", 6) == 0 ||
	    strcmp(c, "InvalidAllocationID.NotFound") == 0 ||
	    strcmp(c, "FileSystemNotFound") == 0 ||
	    strcmp(c, "MountTargetNotFound") == 0 ||
	    (strcmp(c, "ValidationException") == 0 && e->message != NULL &&
	    strstr(e->message, "does not exist") != NULL);
}

/* --- calls and plans --- */

void
stack_plan(struct stack *st, const char *action, const char *role,
    const char *fmt, ...)
{
	va_list ap;
	char *m;
	cJSON *o;

	if (!st->dry_run)
		return;
	va_start(ap, fmt);
	m = xvasprintf(fmt, ap);
	va_end(ap);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "step", cJSON_GetArraySize(st->plan) + 1);
	cJSON_AddStringToObject(o, "action", action);
	cJSON_AddStringToObject(o, "role", role ? role : "");
	cJSON_AddStringToObject(o, "params", m);
	cJSON_AddItemToArray(st->plan, o);
	free(m);
}

/* --- retries AWS needs on top of the SDKs' standard mode --- */

/* Whether a string value anywhere in params is the id (or name) of a
 * record this workspace made less than STACK_FRESH_S seconds ago. */
static int
names_fresh_id(struct stack *st, const cJSON *params)
{
	const cJSON *v;

	if (params == NULL)
		return 0;
	if (cJSON_IsString(params)) {
		const cJSON *rec;
		time_t now = time(NULL);
		cJSON_ArrayForEach(rec, st->resources) {
			const char *id = stack_attr(rec, "id");
			const cJSON *c = cJSON_GetObjectItemCaseSensitive(rec,
			    "created");
			if (id != NULL && cJSON_IsNumber(c) &&
			    now - (time_t)c->valuedouble <= STACK_FRESH_S &&
			    strcmp(id, params->valuestring) == 0)
				return 1;
		}
		return 0;
	}
	cJSON_ArrayForEach(v, params)
		if (names_fresh_id(st, v))
			return 1;
	return 0;
}

int
stack_retry_kind(struct stack *st, const cJSON *params,
    const struct aws_error *e)
{
	const char *c = e->code, *m = e->message ? e->message : "";

	if (c == NULL)
		return STACK_RETRY_NO;
	/* IAM is eventually consistent: a new instance profile is unknown to
	 * EC2, and a new role cannot be assumed by SageMaker, for seconds
	 * after the create. AWS gives generic codes here, so the message's
	 * fixed part says which case it is. ("Eventual consistency in IAM",
	 * https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html;
	 * hashicorp/terraform-provider-aws retries the same two messages.) */
	if (strcmp(c, "InvalidParameterValue") == 0 &&
	    (strstr(m, "Invalid IAM Instance Profile") != NULL ||
	    strstr(m, "iamInstanceProfile") != NULL))
		return STACK_RETRY_IAM;
	if (strcmp(c, "ValidationException") == 0 &&
	    strcasestr(m, "could not assume role") != NULL)
		return STACK_RETRY_IAM;
	/* EC2 is eventually consistent too: an id just returned by a create
	 * may be unknown to the next call for a moment ("Eventual consistency",
	 * https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html).
	 * Retried only when the request names an id this workspace made
	 * moments ago, never one the user typed. */
	if (str_endswith(c, ".NotFound") && names_fresh_id(st, params))
		return STACK_RETRY_FRESH_ID;
	return STACK_RETRY_NO;
}

/* Bounds of the retries above, in seconds of waiting. */
static int
retry_limit_s(int kind)
{
	const char *v = getenv(kind == STACK_RETRY_IAM ? "MLSH_IAM_RETRY_S" :
	    "MLSH_NOTFOUND_RETRY_S");
	if (v != NULL && atoi(v) > 0)
		return atoi(v);
	return kind == STACK_RETRY_IAM ? 120 : 30;
}

static const char *
retry_what(int kind)
{
	return kind == STACK_RETRY_IAM ? "the new IAM role/profile is not "
	    "usable yet (IAM propagation)" : "a new id is not visible yet "
	    "(EC2 eventual consistency)";
}

/* One wait between attempts: 0 go on, -1 past the bound or interrupted
 * (the caller keeps the error it has). delay_ms doubles up to 4 s. */
static int sleep_ms_interruptible(long ms);

static int
retry_wait(struct stack *st, int kind, const char *action, double t0,
    long *delay_ms, int attempt)
{
	double waited = now_ms() - t0;

	if (waited + *delay_ms > retry_limit_s(kind) * 1000.0)
		return -1;
	stack_progress(st, 0, "%s: %s; retry %d in %.1fs (%.0fs of at most "
	    "%ds)", action, retry_what(kind), attempt, *delay_ms / 1000.0,
	    waited / 1000, retry_limit_s(kind));
	if (sleep_ms_interruptible(*delay_ms) != 0)
		return -1;
	*delay_ms = *delay_ms * 2 > 4000 ? 4000 : *delay_ms * 2;
	return 0;
}

int
stack_call(struct stack *st, const char *service, const char *action,
    const cJSON *params, cJSON **result, struct aws_error *err)
{
	double t0 = now_ms();
	long delay = 250;
	int kind, rc;

	memset(err, 0, sizeof *err);
	*result = NULL;
	if (st->dry_run && strncmp(action, "Describe", 8) != 0 &&
	    strncmp(action, "Get", 3) != 0 && strncmp(action, "List", 4) != 0) {
		err->code = xstrdup("DryRun");
		err->message = xstrdup("not sent in a dry run");
		return -1;
	}
	for (int attempt = 1;; attempt++) {
		st->ncalls++;
		rc = aws_call(st->aws, service, action, params, result, err);
		if (rc == 0 || (kind = stack_retry_kind(st, params, err)) ==
		    STACK_RETRY_NO || retry_wait(st, kind, action, t0, &delay,
		    attempt) != 0) {
			if (attempt > 1)
				stack_progress(st, 1, NULL);
			break;
		}
		aws_error_release(err);
	}
	return rc;
}

int
stack_fail(struct stack *st, const char *what, struct aws_error *err)
{
	char *line;

	free(st->fail_code);
	st->fail_code = err->code != NULL ? xstrdup(err->code) : NULL;
	if (err->code != NULL && strcmp(err->code, "Interrupted") == 0) {
		cmd_error(st->ctx, "interrupted (%s); the state is saved, run "
		    "the command again to resume", what);
		aws_error_release(err);
		return -1;
	}
	line = aws_error_line(err);

	cmd_error(st->ctx, "%s: %s", what, line);
	free(line);
	aws_error_release(err);
	return -1;
}

/* Send n calls at once, or one by one when sequential. */
static void
send_many(struct stack *st, struct aws_batch_item *items, size_t n)
{
	if (n == 0)
		return;
	st->ncalls += (int)n;
	if (!st->sequential && n > 1)
		aws_call_many(st->aws, items, n);
	else
		for (size_t i = 0; i < n; i++) {
			memset(&items[i].err, 0, sizeof items[i].err);
			items[i].result = NULL;
			aws_call(st->aws, items[i].service, items[i].action,
			    items[i].params, &items[i].result, &items[i].err);
		}
	/* What failed only because AWS has not caught up with mlsh's own
	 * creates is sent again, same parameters (same idempotency token),
	 * bounded. */
	{
		double t0 = now_ms();
		long delay = 250;
		int retried = 0;
		for (int attempt = 1;; attempt++) {
			int kind = STACK_RETRY_NO;
			const char *action = NULL;
			for (size_t i = 0; i < n && kind == STACK_RETRY_NO; i++)
				if (items[i].err.code != NULL &&
				    (kind = stack_retry_kind(st,
				    items[i].params, &items[i].err)) !=
				    STACK_RETRY_NO)
					action = items[i].action;
			if (kind == STACK_RETRY_NO || retry_wait(st, kind,
			    action, t0, &delay, attempt) != 0)
				break;
			retried = 1;
			for (size_t i = 0; i < n; i++) {
				if (items[i].err.code == NULL ||
				    stack_retry_kind(st, items[i].params,
				    &items[i].err) == STACK_RETRY_NO)
					continue;
				aws_error_release(&items[i].err);
				cJSON_Delete(items[i].result);
				items[i].result = NULL;
				st->ncalls++;
				aws_call(st->aws, items[i].service,
				    items[i].action, items[i].params,
				    &items[i].result, &items[i].err);
			}
		}
		if (retried)
			stack_progress(st, 1, NULL);
	}
}

static int
code_in(const char *code, const char *list)
{
	size_t n;
	const char *p;

	if (code == NULL || list == NULL)
		return 0;
	n = strlen(code);
	for (p = list; (p = strstr(p, code)) != NULL; p += n) {
		if ((p == list || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
			return 1;
	}
	return 0;
}

/* --- creates --- */

static char *
new_token(struct stack *st, const char *role)
{
	unsigned char r[6];
	char hex[13];
	char *t;

	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
		for (size_t i = 0; i < sizeof r; i++)
			r[i] = (unsigned char)(rand() & 0xff);
	}
	for (size_t i = 0; i < sizeof r; i++)
		snprintf(hex + 2 * i, 3, "%02x", r[i]);
	t = xasprintf("mlsh-%s-%s-%s", st->ws, role, hex);
	if (strlen(t) > 64) {	/* EC2 ClientToken limit */
		char *s = xasprintf("mlsh-%.*s-%s", 40, role, hex);
		free(t);
		t = s;
	}
	return t;
}

/* A pending intent: find it through the type's list function. 1 found and
 * recorded, 0 not found, -1 error recorded. */
static int
resolve_pending(struct stack *st, struct stack_create *c)
{
	const struct stack_type *t = stack_type_find(c->type);
	struct aws_error err;
	cJSON *out, *it;
	int found = 0;

	if (t == NULL)
		return 0;
	out = cJSON_CreateArray();
	memset(&err, 0, sizeof err);
	if (stack_type_list(st, t, out, &err) != 0) {
		cJSON_Delete(out);
		return stack_fail(st, c->role, &err);
	}
	cJSON_ArrayForEach(it, out) {
		const char *role = stack_attr(it, "role");
		const char *id = stack_attr(it, "id");
		cJSON *rec, *at;
		if (role == NULL || id == NULL || strcmp(role, c->role) != 0)
			continue;
		rec = stack_rec(st, c->role);
		obj_set_str(rec, "id", id);
		obj_set_str(rec, "status", "created");
		at = cJSON_GetObjectItemCaseSensitive(it, "attrs");
		if (cJSON_IsObject(at)) {
			cJSON_DeleteItemFromObjectCaseSensitive(rec, "attrs");
			cJSON_AddItemToObject(rec, "attrs",
			    cJSON_Duplicate(at, 1));
		}
		found = 1;
		break;
	}
	cJSON_Delete(out);
	return found;
}

static void
add_tags(struct stack *st, struct stack_create *c, cJSON *params)
{
	if (c->tag_style == STACK_TAG_SPEC) {
		cJSON *specs = cJSON_CreateArray(), *spec = cJSON_CreateObject();
		cJSON_AddStringToObject(spec, "ResourceType", c->tag_type);
		cJSON_AddItemToObject(spec, "Tag", stack_tags(st, c->role));
		cJSON_AddItemToArray(specs, spec);
		/* A spot launch makes a spot request too: tag it the same
		 * (RunInstances takes "spot-instances-request" tags). */
		if (cJSON_GetObjectItemCaseSensitive(params,
		    "InstanceMarketOptions") != NULL) {
			spec = cJSON_CreateObject();
			cJSON_AddStringToObject(spec, "ResourceType",
			    "spot-instances-request");
			cJSON_AddItemToObject(spec, "Tag", stack_tags(st,
			    c->role));
			cJSON_AddItemToArray(specs, spec);
		}
		cJSON_DeleteItemFromObjectCaseSensitive(params,
		    "TagSpecification");
		cJSON_AddItemToObject(params, "TagSpecification", specs);
	} else if (c->tag_style == STACK_TAG_LIST) {
		cJSON *tags = stack_tags(st, c->role), *old, *t;
		old = cJSON_GetObjectItemCaseSensitive(params, "Tags");
		if (cJSON_IsArray(old)) {
			cJSON_ArrayForEach(t, old)
				cJSON_AddItemToArray(tags, cJSON_Duplicate(t, 1));
			cJSON_DeleteItemFromObjectCaseSensitive(params, "Tags");
		}
		cJSON_AddItemToObject(params, "Tags", tags);
	}
}

int
stack_create_many(struct stack *st, struct stack_create *cs, size_t n)
{
	struct aws_batch_item *items = xcalloc(n ? n : 1, sizeof *items);
	size_t *map = xcalloc(n ? n : 1, sizeof *map), ni = 0;
	int rc = 0;

	/* 1. What is there already; resolve pending intents. */
	for (size_t i = 0; i < n; i++) {
		struct stack_create *c = &cs[i];
		cJSON *rec = stack_rec(st, c->role);
		const char *status = stack_attr(rec, "status");

		c->skipped = 0;
		if (status != NULL && (strcmp(status, "created") == 0 ||
		    strcmp(status, "planned") == 0)) {
			c->skipped = 1;
			cJSON_AddItemToArray(st->existing,
			    cJSON_CreateString(c->role));
			continue;
		}
		if (status != NULL && strcmp(status, "pending") == 0 &&
		    !st->dry_run) {
			int f = resolve_pending(st, c);
			if (f < 0) {
				rc = -1;
				goto out;
			}
			if (f > 0) {
				c->skipped = 1;
				cJSON_AddItemToArray(st->created,
				    cJSON_CreateString(c->role));
				continue;
			}
		}
	}
	/* Adopted intents are saved even when nothing else is sent. */
	if (!st->dry_run && cJSON_GetArraySize(st->created) > 0 &&
	    stack_save(st) != 0) {
		rc = -1;
		goto out;
	}
	/* 2. Journal the intents (one save), or plan them. */
	for (size_t i = 0; i < n; i++) {
		struct stack_create *c = &cs[i];
		cJSON *rec;
		const char *tok;

		if (c->skipped)
			continue;
		rec = stack_rec(st, c->role);
		tok = stack_attr(rec, "status") != NULL &&
		    strcmp(stack_attr(rec, "status"), "pending") == 0 ?
		    stack_attr(rec, "token") : NULL;
		if (c->token != NULL) {
			rec = rec_new(st, c->role, c->type);
			obj_set_str(rec, "token", c->token);
		} else if (tok == NULL || stack_attr(rec, "type") == NULL ||
		    strcmp(stack_attr(rec, "type"), c->type) != 0) {
			char *t = new_token(st, c->role);
			rec = rec_new(st, c->role, c->type);
			obj_set_str(rec, "token", t);
			free(t);
		}
		obj_set_str(rec, "status", "pending");
		cJSON_DeleteItemFromObjectCaseSensitive(rec, "id");
		tok = stack_attr(rec, "token");
		if (c->token_member != NULL) {
			cJSON_DeleteItemFromObjectCaseSensitive(c->params,
			    c->token_member);
			cJSON_AddStringToObject(c->params, c->token_member, tok);
		}
		add_tags(st, c, c->params);
		if (st->dry_run) {
			char *id = xasprintf("<%s>", c->role);
			stack_plan(st, c->action, c->role, "%s", c->summary ?
			    c->summary : "");
			obj_set_str(rec, "id", id);
			obj_set_str(rec, "status", "planned");
			free(id);
			continue;
		}
		items[ni].service = c->service;
		items[ni].action = c->action;
		items[ni].params = c->params;
		map[ni++] = i;
	}
	if (ni == 0 || st->dry_run)
		goto out;
	if (stack_save(st) != 0) {
		rc = -1;
		goto out;
	}
	/* 3. Send; record ids (one save). */
	send_many(st, items, ni);
	for (size_t k = 0; k < ni; k++) {
		struct stack_create *c = &cs[map[k]];
		const cJSON *item, *id;
		cJSON *rec = stack_rec(st, c->role);

		if (items[k].err.code != NULL &&
		    (strstr(items[k].err.code, "Duplicate") != NULL ||
		    strstr(items[k].err.code, "AlreadyExists") != NULL)) {
			/* Made before without a record (a lost state file):
			 * adopt it when it carries the workspace's tags. */
			int f = resolve_pending(st, c);
			if (f > 0) {
				aws_error_release(&items[k].err);
				shell_warn(st->ctx, "%s: adopted the existing %s "
				    "%s tagged with workspace '%s'",
				    st->args && st->args->builtin ?
				    st->args->builtin->name : "stack", c->role,
				    stack_id(st, c->role), st->ws);
				cJSON_AddItemToArray(st->existing,
				    cJSON_CreateString(c->role));
				continue;
			}
			if (f < 0)
				rc = -1;
		}
		if (items[k].err.code != NULL) {
			if (rc == 0) {
				char *what = xasprintf("cannot create %s",
				    c->role);
				stack_fail(st, what, &items[k].err);
				free(what);
			}
			/* The intent stays pending: a re-run looks it up. */
			rc = -1;
			continue;
		}
		item = stack_path(items[k].result, c->item_path);
		id = cJSON_GetObjectItemCaseSensitive(item, c->id_key);
		if (!cJSON_IsString(id)) {
			if (rc == 0)
				cmd_error(st->ctx, "cannot create %s: %s "
				    "returned no %s", c->role, c->action,
				    c->id_key);
			rc = -1;
			continue;
		}
		obj_set_str(rec, "id", id->valuestring);
		obj_set_str(rec, "status", "created");
		if (c->attrs != NULL)
			c->attrs(rec_attrs(rec), item);
		else if (stack_type_find(c->type) != NULL)
			stack_type_attrs(stack_type_find(c->type),
			    rec_attrs(rec), item);
		cJSON_AddItemToArray(st->created, cJSON_CreateString(c->role));
	}
	if (stack_save(st) != 0)
		rc = -1;
	/* 4. Tags for the APIs without TagSpecifications. */
	{
		struct aws_batch_item *tg = xcalloc(ni ? ni : 1, sizeof *tg);
		size_t nt = 0;
		for (size_t k = 0; k < ni; k++) {
			struct stack_create *c = &cs[map[k]];
			cJSON *p;
			const char *id;
			if (c->tag_style != STACK_TAG_AFTER ||
			    items[k].err.code != NULL ||
			    (id = stack_id(st, c->role)) == NULL)
				continue;
			p = cJSON_CreateObject();
			cJSON_AddStringToObject(p, "ResourceId.1", id);
			cJSON_AddItemToObject(p, "Tag", stack_tags(st, c->role));
			tg[nt].service = "ec2";
			tg[nt].action = "CreateTags";
			tg[nt].params = p;
			nt++;
		}
		send_many(st, tg, nt);
		for (size_t k = 0; k < nt; k++) {
			if (tg[k].err.code != NULL && rc == 0) {
				stack_fail(st, "cannot tag", &tg[k].err);
				rc = -1;
			}
			aws_error_release(&tg[k].err);
			cJSON_Delete(tg[k].result);
			cJSON_Delete((cJSON *)tg[k].params);
		}
		free(tg);
	}
out:
	for (size_t k = 0; k < ni; k++) {
		cJSON_Delete(items[k].result);
		aws_error_release(&items[k].err);
	}
	for (size_t i = 0; i < n; i++) {
		cJSON_Delete(cs[i].params);
		cs[i].params = NULL;
	}
	free(items);
	free(map);
	return rc;
}

int
stack_step_many(struct stack *st, struct stack_step *ss, size_t n)
{
	struct aws_batch_item *items = xcalloc(n ? n : 1, sizeof *items);
	size_t *map = xcalloc(n ? n : 1, sizeof *map), ni = 0;
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		cJSON *rec = stack_rec(st, ss[i].role), *steps;
		if (rec == NULL)
			continue;
		steps = cJSON_GetObjectItemCaseSensitive(rec, "steps");
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(steps,
		    ss[i].step)))
			continue;
		if (st->dry_run) {
			stack_plan(st, ss[i].action, ss[i].role, "%s",
			    ss[i].summary ? ss[i].summary : "");
			if (!cJSON_IsObject(steps))
				steps = cJSON_AddObjectToObject(rec, "steps");
			cJSON_AddTrueToObject(steps, ss[i].step);
			continue;
		}
		items[ni].service = ss[i].service;
		items[ni].action = ss[i].action;
		items[ni].params = ss[i].params;
		map[ni++] = i;
	}
	send_many(st, items, ni);
	for (size_t k = 0; k < ni; k++) {
		struct stack_step *s = &ss[map[k]];
		cJSON *rec = stack_rec(st, s->role), *steps;
		if (items[k].err.code != NULL &&
		    !code_in(items[k].err.code, s->ok_codes)) {
			if (rc == 0) {
				char *what = xasprintf("%s %s", s->role,
				    s->step);
				stack_fail(st, what, &items[k].err);
				free(what);
			}
			rc = -1;
			continue;
		}
		steps = cJSON_GetObjectItemCaseSensitive(rec, "steps");
		if (!cJSON_IsObject(steps))
			steps = cJSON_AddObjectToObject(rec, "steps");
		cJSON_DeleteItemFromObjectCaseSensitive(steps, s->step);
		cJSON_AddTrueToObject(steps, s->step);
	}
	if (ni > 0 && stack_save(st) != 0)
		rc = -1;
	for (size_t k = 0; k < ni; k++) {
		cJSON_Delete(items[k].result);
		aws_error_release(&items[k].err);
	}
	for (size_t i = 0; i < n; i++) {
		cJSON_Delete(ss[i].params);
		ss[i].params = NULL;
	}
	free(items);
	free(map);
	return rc;
}

/* --- waits --- */

static double progress_last_ms;
static int progress_shown;

void
stack_progress(struct stack *st, int done, const char *fmt, ...)
{
	va_list ap;
	char *m;
	int tty = isatty(STDERR_FILENO);

	(void)st;
	if (done) {
		if (tty && progress_shown)
			fprintf(stderr, "\r\033[K");
		progress_shown = 0;
		progress_last_ms = 0;
		if (fmt == NULL)
			return;
	}
	va_start(ap, fmt);
	{
		/* Status texts come from AWS: the one sanitiser (util.c). */
		char *raw = xvasprintf(fmt, ap);

		m = str_sanitize(raw, 0);
		free(raw);
	}
	va_end(ap);
	fflush(stdout);
	if (tty && !done) {
		fprintf(stderr, "\r\033[K%s", m);
		progress_shown = 1;
	} else if (done || now_ms() - progress_last_ms >= 10000) {
		fprintf(stderr, "%s\n", m);
		progress_last_ms = now_ms();
	}
	fflush(stderr);
	free(m);
}

static int
sleep_ms_interruptible(long ms)
{
	while (ms > 0) {
		long s = ms > 100 ? 100 : ms;
		if (mlsh_interrupted)
			return -1;
		usleep((useconds_t)s * 1000);
		ms -= s;
	}
	return mlsh_interrupted ? -1 : 0;
}

/* Made by this workspace less than STACK_FRESH_S ago. */
static int
rec_fresh(const cJSON *rec)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(rec, "created");
	return cJSON_IsNumber(c) && time(NULL) - (time_t)c->valuedouble <=
	    STACK_FRESH_S;
}

static int
gone_state(const char *s)
{
	return strcmp(s, "terminated") == 0 || strcmp(s, "deleted") == 0 ||
	    strcmp(s, "Deleting") == 0 || strcmp(s, "shutting-down") == 0;
}

int
stack_wait_state(struct stack *st, const char *role, const char *want,
    int timeout_s)
{
	const char *roles[1] = { role };
	return stack_wait_states(st, roles, 1, want, timeout_s);
}

int
stack_wait_states(struct stack *st, const char *const *roles, size_t n,
    const char *want, int timeout_s)
{
	double t0 = now_ms(), deadline = t0 + timeout_s * 1000.0;
	int *done = xcalloc(n ? n : 1, sizeof *done);
	long delay = 500;
	int rc = 0;
	size_t left = n;

	if (st->dry_run) {
		for (size_t i = 0; i < n; i++)
			stack_plan(st, "wait", roles[i], "until %s (timeout "
			    "%d s)", want, timeout_s);
		free(done);
		return 0;
	}
	for (;;) {
		struct buf line;
		buf_init(&line);
		for (size_t i = 0; i < n; i++) {
			cJSON *rec = stack_rec(st, roles[i]);
			const struct stack_type *t = stack_type_find(
			    stack_attr(rec, "type"));
			struct aws_error err;
			const char *state;
			int r;

			if (done[i])
				continue;
			if (rec == NULL || t == NULL) {
				done[i] = 1;
				left--;
				continue;
			}
			memset(&err, 0, sizeof err);
			st->ncalls++;
			r = stack_type_refresh(st, rec, &err);
			if (r < 0) {
				char *what = xasprintf("waiting for %s",
				    roles[i]);
				stack_progress(st, 1, NULL);
				stack_fail(st, what, &err);
				free(what);
				rc = -1;
				goto out;
			}
			state = stack_attr(rec, "state");
			if (r == STACK_GONE && rec_fresh(rec) && (state ==
			    NULL || !gone_state(state)) && now_ms() - t0 <
			    retry_limit_s(STACK_RETRY_FRESH_ID) * 1000.0) {
				/* Not found, moments after mlsh made it: EC2
				 * has not caught up yet (see stack_retry_kind). */
				buf_printf(&line, "%s%s %s not visible yet",
				    line.len ? ", " : "", roles[i],
				    stack_attr(rec, "id"));
				continue;
			}
			if (r == STACK_GONE) {
				stack_progress(st, 1, NULL);
				cmd_error(st->ctx, "%s %s is gone while "
				    "waiting for it to be %s", roles[i],
				    stack_attr(rec, "id"), want);
				rc = -1;
				goto out;
			}
			if (state != NULL && code_in(state, want)) {
				done[i] = 1;
				left--;
				continue;
			}
			if (state != NULL && (strcmp(state, "failed") == 0 ||
			    strcmp(state, "error") == 0 ||
			    strcmp(state, "Failed") == 0)) {
				stack_progress(st, 1, NULL);
				cmd_error(st->ctx, "%s %s failed (state %s)",
				    roles[i], stack_attr(rec, "id"), state);
				rc = -1;
				goto out;
			}
			buf_printf(&line, "%s%s %s %s", line.len ? ", " : "",
			    roles[i], stack_attr(rec, "id"),
			    state ? state : "?");
		}
		stack_save(st);
		if (left == 0) {
			buf_release(&line);
			break;
		}
		stack_progress(st, 0, "waiting for %s: %.0fs", line.data,
		    (now_ms() - t0) / 1000);
		buf_release(&line);
		if (now_ms() >= deadline) {
			stack_progress(st, 1, NULL);
			cmd_error(st->ctx, "timed out after %d s waiting for "
			    "%s to be %s", timeout_s, roles[0], want);
			rc = -1;
			goto out;
		}
		if (sleep_ms_interruptible(delay) != 0) {
			stack_progress(st, 1, NULL);
			cmd_error(st->ctx, "interrupted; the state is saved, "
			    "run the command again to resume");
			rc = -1;
			goto out;
		}
		delay = delay * 2 > 5000 ? 5000 : delay * 2;
	}
	stack_progress(st, 1, NULL);
out:
	free(done);
	return rc;
}

/* --- deletes --- */

static int
is_dependency(const struct aws_error *e)
{
	return e->code != NULL && (strcmp(e->code, "DependencyViolation") == 0 ||
	    strcmp(e->code, "FileSystemInUse") == 0 ||
	    strcmp(e->code, "DeleteConflict") == 0 ||
	    strcmp(e->code, "InvalidIPAddress.InUse") == 0 ||
	    (strcmp(e->code, "InvalidParameterValue") == 0 &&
	    e->message != NULL && strstr(e->message, "in use") != NULL));
}

static void
removed_row(struct stack *st, const char *role, cJSON *rec)
{
	cJSON *o = cJSON_CreateObject();
	const char *id = stack_attr(rec, "id");
	const cJSON *acc = cJSON_GetObjectItemCaseSensitive(rec,
	    "accrued_at_delete");
	double cost_v = cJSON_IsNumber(acc) ? acc->valuedouble :
	    stack_rec_accrued(st->ctx, rec);
	char cost[32];

	cJSON_AddStringToObject(o, "role", role);
	cJSON_AddStringToObject(o, "id", id ? id : "-");
	cJSON_AddStringToObject(o, "result", "removed");
	if (cost_v < 0)
		snprintf(cost, sizeof cost, "cost unknown");
	else
		snprintf(cost, sizeof cost, "cost $%.4f", cost_v);
	cJSON_AddStringToObject(o, "detail", cost);
	cJSON_AddItemToArray(st->removed, o);
}

/* Delete one order group: start all, wait all gone. */
static int
delete_group(struct stack *st, char **roles, size_t n)
{
	int *state = xcalloc(n, sizeof *state);	/* 0 todo, 1 started, 2 gone */
	double *dv_since = xcalloc(n, sizeof *dv_since);
	double t0 = now_ms(), deadline = t0 + 20 * 60 * 1000.0;
	const char *dvt = getenv("MLSH_DEPENDENCY_TIMEOUT");
	double dv_limit = (dvt != NULL && atof(dvt) > 0 ? atof(dvt) : 180) *
	    1000.0;
	long delay = 500;
	int rc = 0;

	for (;;) {
		size_t left = 0;
		struct buf line;

		buf_init(&line);
		for (size_t i = 0; i < n; i++) {
			cJSON *rec = stack_rec(st, roles[i]);
			const struct stack_type *t = stack_type_find(
			    stack_attr(rec, "type"));
			struct aws_error err;
			int r;

			if (state[i] == 2)
				continue;
			memset(&err, 0, sizeof err);
			if (rec == NULL || t == NULL || stack_attr(rec, "id") ==
			    NULL) {
				state[i] = 2;
				if (rec != NULL)
					stack_forget(st, roles[i]);
				continue;
			}
			if (state[i] == 0) {
				/* What it cost, before its state changes. */
				cJSON_DeleteItemFromObjectCaseSensitive(rec,
				    "accrued_at_delete");
				cJSON_AddNumberToObject(rec, "accrued_at_delete",
				    stack_rec_accrued(st->ctx, rec));
				st->ncalls++;
				r = stack_type_delete(st, rec, &err);
				if (r != 0 && stack_err_notfound(&err)) {
					aws_error_release(&err);
					r = 0;
				}
				if (r != 0 && is_dependency(&err)) {
					/* Something still uses it: AWS lags,
					 * or something outside the record. */
					if (dv_since[i] == 0)
						dv_since[i] = now_ms();
					if (now_ms() - dv_since[i] > dv_limit) {
						char *what = xasprintf("%s %s is "
						    "still in use after %.0f s",
						    roles[i], stack_attr(rec,
						    "id"), dv_limit / 1000);
						stack_progress(st, 1, NULL);
						stack_fail(st, what, &err);
						free(what);
						rc = -1;
						goto out;
					}
					buf_printf(&line, "%s%s %s (in use)",
					    line.len ? ", " : "", roles[i],
					    stack_attr(rec, "id"));
					aws_error_release(&err);
					left++;
					continue;
				}
				if (r != 0) {
					char *what = xasprintf("cannot delete "
					    "%s %s", roles[i],
					    stack_attr(rec, "id"));
					stack_progress(st, 1, NULL);
					stack_fail(st, what, &err);
					free(what);
					rc = -1;
					goto out;
				}
				state[i] = 1;
			}
			st->ncalls++;
			r = stack_type_refresh(st, rec, &err);
			if (r < 0 && stack_err_notfound(&err)) {
				aws_error_release(&err);
				r = STACK_GONE;
			}
			if (r < 0) {
				char *what = xasprintf("cannot check %s",
				    roles[i]);
				stack_progress(st, 1, NULL);
				stack_fail(st, what, &err);
				free(what);
				rc = -1;
				goto out;
			}
			if (r == STACK_GONE) {
				removed_row(st, roles[i], rec);
				state[i] = 2;
				stack_forget(st, roles[i]);
				continue;
			}
			buf_printf(&line, "%s%s %s %s", line.len ? ", " : "",
			    roles[i], stack_attr(rec, "id"),
			    stack_attr(rec, "state") ? stack_attr(rec, "state") :
			    "deleting");
			left++;
		}
		if (left == 0) {
			buf_release(&line);
			break;
		}
		stack_progress(st, 0, "deleting %s: %.0fs", line.data,
		    (now_ms() - t0) / 1000);
		buf_release(&line);
		if (now_ms() >= deadline) {
			stack_progress(st, 1, NULL);
			cmd_error(st->ctx, "timed out deleting %s", roles[0]);
			rc = -1;
			goto out;
		}
		if (sleep_ms_interruptible(delay) != 0) {
			stack_progress(st, 1, NULL);
			cmd_error(st->ctx, "interrupted; the state is saved, "
			    "run the command again to resume");
			rc = -1;
			goto out;
		}
		delay = delay * 2 > 8000 ? 8000 : delay * 2;
	}
	stack_progress(st, 1, NULL);
out:
	free(state);
	free(dv_since);
	return rc;
}

int
stack_delete(struct stack *st, const struct strlist *only)
{
	struct strlist roles;
	size_t i = 0;
	int rc = 0;

	strlist_init(&roles);
	stack_roles(st, 0, &roles);
	if (only != NULL) {
		struct strlist keep;
		strlist_init(&keep);
		for (size_t k = 0; k < roles.n; k++)
			if (strlist_has(only, roles.v[k]))
				strlist_add(&keep, roles.v[k]);
		strlist_release(&roles);
		roles = keep;
	}
	/* Pending intents first: find what they may have made. */
	if (!st->dry_run) {
		for (size_t k = 0; k < roles.n; k++) {
			cJSON *rec = stack_rec(st, roles.v[k]);
			const char *s = stack_attr(rec, "status");
			if (s != NULL && strcmp(s, "pending") == 0) {
				struct stack_create c;
				memset(&c, 0, sizeof c);
				c.role = roles.v[k];
				c.type = stack_attr(rec, "type");
				if (resolve_pending(st, &c) < 0) {
					rc = -1;
					goto out;
				}
			}
		}
	}
	while (i < roles.n) {
		int order = type_order(stack_attr(stack_rec(st, roles.v[i]),
		    "type"));
		size_t j = i;
		while (j < roles.n && type_order(stack_attr(stack_rec(st,
		    roles.v[j]), "type")) == order)
			j++;
		if (st->dry_run) {
			for (size_t k = i; k < j; k++) {
				cJSON *rec = stack_rec(st, roles.v[k]);
				stack_plan(st, "delete", roles.v[k], "%s %s",
				    stack_attr(rec, "type"),
				    stack_attr(rec, "id") ? stack_attr(rec, "id")
				    : "(pending)");
			}
		} else if (delete_group(st, roles.v + i, j - i) != 0) {
			rc = -1;
			goto out;
		}
		i = j;
	}
out:
	strlist_release(&roles);
	return rc;
}

/* --- EC2 building blocks --- */

static int
rec_is_spot(const cJSON *rec)
{
	const char *l = stack_attr(rec, "lifecycle"), *s = stack_attr(rec,
	    "spot");
	return (l != NULL && strcmp(l, "spot") == 0) || (s != NULL &&
	    strcmp(s, "true") == 0) || stack_attr(rec, "spot_request") != NULL;
}

int
stack_spot_lookup(struct stack *st, cJSON *rec, struct aws_error *err)
{
	cJSON *p = cJSON_CreateObject(), *res = NULL, *it;
	const char *sr = stack_attr(rec, "spot_request");
	const char *id = stack_attr(rec, "id");
	int rc, found = 0;

	/* By its id when known; else every request, matched here by the
	 * instance (filters are not something to count on everywhere). */
	if (sr != NULL)
		cJSON_AddStringToObject(p, "SpotInstanceRequestId.1", sr);
	rc = stack_call(st, "ec2", "DescribeSpotInstanceRequests", p, &res,
	    err);
	cJSON_Delete(p);
	if (rc != 0) {
		if (stack_err_notfound(err)) {
			aws_error_release(err);
			return 0;
		}
		return -1;
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(res,
	    "spotInstanceRequestSet")) {
		const cJSON *rid = cJSON_GetObjectItemCaseSensitive(it,
		    "spotInstanceRequestId");
		const cJSON *iid = cJSON_GetObjectItemCaseSensitive(it,
		    "instanceId");
		const cJSON *state = cJSON_GetObjectItemCaseSensitive(it,
		    "state");
		if (!cJSON_IsString(rid) || (sr != NULL ? strcmp(sr,
		    rid->valuestring) != 0 : !(cJSON_IsString(iid) && id &&
		    strcmp(iid->valuestring, id) == 0)))
			continue;
		obj_set_str(rec_attrs(rec), "spot_request", rid->valuestring);
		obj_set_str(rec_attrs(rec), "spot_state",
		    cJSON_IsString(state) ? state->valuestring : NULL);
		obj_set_str(rec_attrs(rec), "spot_instance",
		    cJSON_IsString(iid) ? iid->valuestring : NULL);
		found = 1;
		break;
	}
	cJSON_Delete(res);
	return found;
}

/* Instances come inside reservations: flatten. */
int
stack_instance_list(struct stack *st, cJSON *out, struct aws_error *err)
{
	cJSON *p = cJSON_CreateObject(), *res = NULL, *r;
	int rc;

	cJSON_AddStringToObject(p, "Filter.1.Name", "tag:mlsh:workspace");
	cJSON_AddStringToObject(p, "Filter.1.Value.1", st->ws);
	cJSON_AddStringToObject(p, "Filter.2.Name", "instance-state-name");
	cJSON_AddStringToObject(p, "Filter.2.Value.1", "pending");
	cJSON_AddStringToObject(p, "Filter.2.Value.2", "running");
	cJSON_AddStringToObject(p, "Filter.2.Value.3", "stopping");
	cJSON_AddStringToObject(p, "Filter.2.Value.4", "stopped");
	cJSON_AddStringToObject(p, "Filter.2.Value.5", "shutting-down");
	st->ncalls++;
	rc = aws_paginate(st->aws, "ec2", "DescribeInstances", p,
	    "reservationSet", 0, &res, err);
	cJSON_Delete(p);
	if (rc != 0)
		return -1;
	cJSON_ArrayForEach(r, res) {
		cJSON *it;
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r,
		    "instancesSet")) {
			const char *role = stack_role_from_name(st,
			    stack_tag_value(it, "Name"));
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(it,
			    "instanceId");
			cJSON *o;
			if (role == NULL || !cJSON_IsString(id))
				continue;
			o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "role", role);
			cJSON_AddStringToObject(o, "id", id->valuestring);
			stack_instance_attrs(cJSON_AddObjectToObject(o, "attrs"),
			    it);
			cJSON_AddItemToArray(out, o);
		}
	}
	cJSON_Delete(res);
	return 0;
}

int
stack_delete_by_id(struct stack *st, const char *service, const char *action,
    const char *id_param, const char *id, struct aws_error *err)
{
	cJSON *p = cJSON_CreateObject(), *res = NULL;
	int rc;

	cJSON_AddStringToObject(p, id_param, id);
	rc = aws_call(st->aws, service, action, p, &res, err);
	cJSON_Delete(p);
	cJSON_Delete(res);
	return rc;
}

int
stack_instance_delete(struct stack *st, cJSON *rec, struct aws_error *err)
{
	int rc;

	/* A persistent spot request launches a new instance when its
	 * instance terminates: cancel the request first, then terminate
	 * ("Cancel a Spot Instance request",
	 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/using-spot-instances-cancel.html). */
	if (rec_is_spot(rec)) {
		const char *state, *other;
		int f = stack_spot_lookup(st, rec, err);
		if (f < 0)
			return -1;
		state = stack_attr(rec, "spot_state");
		if (f > 0 && state != NULL && (strcmp(state, "open") == 0 ||
		    strcmp(state, "active") == 0 || strcmp(state,
		    "disabled") == 0)) {
			if (stack_delete_by_id(st, "ec2",
			    "CancelSpotInstanceRequests",
			    "SpotInstanceRequestId.1", stack_attr(rec,
			    "spot_request"), err) != 0 &&
			    !stack_err_notfound(err))
				return -1;
			aws_error_release(err);
			stack_set_attr(st, rec->string, "spot_state",
			    "cancelled");
			stack_save(st);
		}
		/* The request's instance now, when AWS replaced ours. */
		other = stack_attr(rec, "spot_instance");
		if (f > 0 && other != NULL && strcmp(other,
		    stack_attr(rec, "id")) != 0) {
			if (stack_delete_by_id(st, "ec2", "TerminateInstances",
			    "InstanceId.1", other, err) != 0 &&
			    !stack_err_notfound(err))
				return -1;
			aws_error_release(err);
		}
	}
	rc = stack_delete_by_id(st, "ec2", "TerminateInstances",
	    "InstanceId.1", stack_attr(rec, "id"), err);

	/* Its host key pins go with it (by instance id: another workspace
	 * may have a host at the same address). */
	if ((rc == 0 || stack_err_notfound(err)) &&
	    stack_attr(rec, "id") != NULL)
		target_forget_instance(st->ctx, stack_attr(rec, "id"));
	return rc;
}

/* --- AMIs --- */

int
stack_resolve_ami(struct stack *st, const char *ssm_param, const char *owner,
    const char *name_pattern, char **ami)
{
	struct aws_error err;
	cJSON *p, *res = NULL, *img, *best = NULL;
	const char *bestdate = "";
	int rc;

	*ami = NULL;
	memset(&err, 0, sizeof err);
	if (ssm_param != NULL) {
		p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "Name", ssm_param);
		st->ncalls++;
		rc = aws_call(st->aws, "ssm", "GetParameter", p, &res, &err);
		cJSON_Delete(p);
		if (rc == 0) {
			const cJSON *v = stack_path(res, "Parameter.Value");
			if (cJSON_IsString(v) && strncmp(v->valuestring, "ami-",
			    4) == 0)
				*ami = xstrdup(v->valuestring);
		}
		aws_error_release(&err);
		cJSON_Delete(res);
		res = NULL;
		if (*ami != NULL)
			return 0;
	}
	p = cJSON_CreateObject();
	if (owner != NULL)
		cJSON_AddStringToObject(p, "Owner.1", owner);
	cJSON_AddStringToObject(p, "Filter.1.Name", "name");
	cJSON_AddStringToObject(p, "Filter.1.Value.1", name_pattern);
	st->ncalls++;
	rc = aws_call(st->aws, "ec2", "DescribeImages", p, &res, &err);
	cJSON_Delete(p);
	if (rc != 0)
		return stack_fail(st, "cannot resolve the AMI", &err);
	cJSON_ArrayForEach(img, cJSON_GetObjectItemCaseSensitive(res,
	    "imagesSet")) {
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(img,
		    "creationDate");
		const char *ds = cJSON_IsString(d) ? d->valuestring : "";
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(img, "name");
		const cJSON *bn = best ? cJSON_GetObjectItemCaseSensitive(best,
		    "name") : NULL;
		int c = best == NULL ? 1 : strcmp(ds, bestdate);
		/* Equal dates: the later release name (jammy > focal). */
		if (c == 0 && cJSON_IsString(nm) && cJSON_IsString(bn))
			c = strcmp(nm->valuestring, bn->valuestring);
		if (c > 0) {
			best = img;
			bestdate = ds;
		}
	}
	if (best != NULL) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(best,
		    "imageId");
		if (cJSON_IsString(id))
			*ami = xstrdup(id->valuestring);
	}
	cJSON_Delete(res);
	return *ami != NULL ? 0 : -1;
}

/* --- prices --- */

struct price_row {
	const char *key;
	double usd_per_hour;
};

/* us-east-1 on-demand, from the seed (DESIGN.md section 2) and the AWS
 * price list of the same time. */
static const struct price_row prices_us_east_1[] = {
	{ "p3.8xlarge", 12.24 },
	{ "p3.2xlarge", 3.06 },
	{ "p3.16xlarge", 24.48 },
	{ "p2.xlarge", 0.90 },
	{ "dl1.24xlarge", 13.11 },
	{ "g4dn.xlarge", 0.526 },
	{ "ml.p3.8xlarge", 12.45 },
	{ "ml.p3.2xlarge", 3.825 },
	{ "ml.t3.medium", 0.05 },
	{ "t3.nano", 0.0052 },
	{ "t3.micro", 0.0104 },
	{ "t3.small", 0.0208 },
	{ "t3.medium", 0.0416 },
	{ "t3.large", 0.0832 },
	{ "nat-gateway", 0.045 },
	/* Every public IPv4 address, Elastic or auto-assigned, in use or
	 * not, since 1 Feb 2024: "New – AWS Public IPv4 Address Charge +
	 * Public IP Insights", https://aws.amazon.com/blogs/aws/
	 * new-aws-public-ipv4-address-charge-public-ip-insights/ */
	{ "eip", 0.005 },
	{ "public-ipv4", 0.005 },
	/* https://aws.amazon.com/ebs/pricing/ (us-east-1) */
	{ "ebs-gp3-gb-month", 0.08 },
	{ "ebs-gp2-gb-month", 0.10 },
	/* https://aws.amazon.com/vpc/pricing/: per GB through a NAT gateway;
	 * not metered by mlsh, shown by `cost` as a note. */
	{ "nat-gb", 0.045 },
	{ "efs-gb-month", 0.30 },
	{ "efs-one-zone-gb-month", 0.16 },
	{ NULL, 0 }
};

static const struct {
	const char *region;
	const char *date;
	const struct price_row *rows;
} price_tables[] = {
	{ "us-east-1", "2022-01", prices_us_east_1 },
	{ NULL, NULL, NULL }
};

static const struct price_row *
builtin_rows(struct mlsh_ctx *ctx, const char **date)
{
	const char *r = shell_region(ctx);

	for (size_t i = 0; price_tables[i].region != NULL; i++)
		if (strcmp(price_tables[i].region, r) == 0) {
			if (date)
				*date = price_tables[i].date;
			return price_tables[i].rows;
		}
	if (date)
		*date = "unknown";
	return NULL;
}

/* Overrides: the Lua global `prices` ({["t3.nano"]=0.006}), then
 * <state dir>/prices.json ({"us-east-1": {"t3.nano": 0.006}} or flat). */
static double
override_price(struct mlsh_ctx *ctx, const char *key, const char **source)
{
	static cJSON *file;
	static int loaded;
	double v = -1;

	if (ctx->L != NULL) {
		lua_State *L = ctx->L;
		int top = lua_gettop(L);
		if (lua_getglobal(L, "prices") == LUA_TTABLE &&
		    lua_getfield(L, -1, key) == LUA_TNUMBER) {
			v = lua_tonumber(L, -1);
			*source = "config";
		}
		lua_settop(L, top);
		if (v >= 0)
			return v;
	}
	if (!loaded) {
		char *p = xasprintf("%s/prices.json", ctx->state_dir), *cause =
		    NULL, *text;
		loaded = 1;
		if ((text = file_read(p, NULL, &cause)) != NULL) {
			file = cJSON_Parse(text);
			free(text);
		}
		free(cause);
		free(p);
	}
	if (file != NULL) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(file,
		    shell_region(ctx));
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(
		    cJSON_IsObject(t) ? t : file, key);
		if (cJSON_IsNumber(n)) {
			*source = "prices.json";
			return n->valuedouble;
		}
	}
	return -1;
}

static double
price_src(struct mlsh_ctx *ctx, const char *key, const char **source)
{
	const struct price_row *rows;
	double v;

	*source = "unknown";
	if (key == NULL)
		return -1;
	if ((v = override_price(ctx, key, source)) >= 0)
		return v;
	rows = builtin_rows(ctx, NULL);
	for (size_t i = 0; rows != NULL && rows[i].key != NULL; i++)
		if (strcmp(rows[i].key, key) == 0) {
			*source = "built-in";
			return rows[i].usd_per_hour;
		}
	return -1;
}

double
stack_price(struct mlsh_ctx *ctx, const char *key)
{
	const char *src;
	return price_src(ctx, key, &src);
}

const char *
stack_prices_date(struct mlsh_ctx *ctx)
{
	const char *d;
	builtin_rows(ctx, &d);
	return d;
}

cJSON *
stack_prices_table(struct mlsh_ctx *ctx)
{
	cJSON *arr = cJSON_CreateArray();
	const struct price_row *rows = builtin_rows(ctx, NULL);

	for (size_t i = 0; rows != NULL && rows[i].key != NULL; i++) {
		cJSON *o = cJSON_CreateObject();
		const char *src;
		double v = price_src(ctx, rows[i].key, &src);
		const char *unit = str_endswith(rows[i].key, "-gb-month") ?
		    "$/GB-month" : str_endswith(rows[i].key, "-gb") ? "$/GB" :
		    "$/h";
		cJSON_AddStringToObject(o, "key", rows[i].key);
		cJSON_AddNumberToObject(o, "price", v);
		cJSON_AddStringToObject(o, "unit", unit);
		cJSON_AddStringToObject(o, "source", src);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

/* Hours in a month, as AWS prices GB-months: 730. */
#define HOURS_PER_MONTH	730.0

size_t
stack_rec_parts(struct mlsh_ctx *ctx, const cJSON *rec,
    struct stack_cost_part *parts)
{
	const char *state = stack_attr(rec, "state");
	const char *key = stack_attr(rec, "price_key");
	const char *type = stack_attr(rec, "type");
	int stopped = state != NULL && (strcmp(state, "stopped") == 0 ||
	    strcmp(state, "Stopped") == 0 || strcmp(state, "stopping") == 0);
	int gone = state != NULL && (strcmp(state, "terminated") == 0 ||
	    strcmp(state, "deleted") == 0 || strcmp(state, "gone") == 0 ||
	    strcmp(state, "shutting-down") == 0);
	size_t n = 0;

	if (key == NULL)
		key = stack_attr(rec, "instance_type");
	if (key == NULL || gone)
		return 0;
	memset(parts, 0, STACK_COST_PARTS * sizeof *parts);
	snprintf(parts[n].what, sizeof parts[n].what, "%s",
	    strcmp(key, "eip") == 0 ? "public IPv4 (Elastic IP)" : key);
	parts[n].suffix = "";
	parts[n].usd_per_hour = stopped ? 0 : stack_price(ctx, key);
	n++;
	if (type == NULL || strcmp(type, "instance") != 0)
		return n;
	/* An instance's public address is charged while it has one (a
	 * stopped instance gives its auto-assigned address back). */
	if (!stopped && stack_attr(rec, "public_ip") != NULL &&
	    *stack_attr(rec, "public_ip") != '\0' &&
	    strcmp(stack_attr(rec, "public_ip"), "-") != 0) {
		snprintf(parts[n].what, sizeof parts[n].what, "public IPv4");
		parts[n].suffix = "public-ipv4";
		parts[n].usd_per_hour = stack_price(ctx, "public-ipv4");
		n++;
	}
	/* Its root volume, stopped or not: EBS is billed per provisioned
	 * GB-month until the volume is deleted (with the instance). */
	{
		const char *gb = stack_attr(rec, "disk_gb");
		const char *vt = stack_attr(rec, "disk_type");
		double g = gb != NULL ? atof(gb) : 0;
		if (g > 0) {
			char *k = xasprintf("ebs-%s-gb-month", vt ? vt : "gp3");
			double p = stack_price(ctx, k);
			snprintf(parts[n].what, sizeof parts[n].what,
			    "EBS %s %.0f GB", vt ? vt : "gp3", g);
			parts[n].suffix = "ebs";
			parts[n].usd_per_hour = p < 0 ? -1 : p * g /
			    HOURS_PER_MONTH;
			free(k);
			n++;
		}
	}
	return n;
}

double
stack_price_default(struct mlsh_ctx *ctx, const cJSON *rec)
{
	struct stack_cost_part parts[STACK_COST_PARTS];
	size_t n = stack_rec_parts(ctx, rec, parts);
	double sum = 0;

	for (size_t i = 0; i < n; i++) {
		if (parts[i].usd_per_hour < 0)
			return -1;
		sum += parts[i].usd_per_hour;
	}
	return sum;
}

double
stack_rec_hourly(struct mlsh_ctx *ctx, const cJSON *rec)
{
	const struct stack_type *t = stack_type_find(stack_attr(rec, "type"));
	const char *status = stack_attr(rec, "status");

	if (status != NULL && strcmp(status, "created") != 0)
		return 0;
	if (t != NULL && t->price != NULL)
		return t->price(ctx, rec);
	return stack_price_default(ctx, rec);
}

double
stack_hourly_rate(struct mlsh_ctx *ctx)
{
	const cJSON *rec, *root;
	cJSON *parsed = NULL;
	double sum = 0;

	/* The open state, else the file read without locking: the prompt
	 * never waits for another mlsh. */
	if (ctx->state != NULL)
		root = ctx->state->root;
	else {
		char *p = xasprintf("%s/%s.json", ctx->state_dir,
		    ctx->workspace ? ctx->workspace : "default");
		char *cause = NULL, *text = file_read(p, NULL, &cause);
		free(p);
		free(cause);
		if (text == NULL)
			return 0;
		parsed = cJSON_Parse(text);
		free(text);
		root = parsed;
	}
	cJSON_ArrayForEach(rec, cJSON_GetObjectItemCaseSensitive(root,
	    "resources")) {
		double h = stack_rec_hourly(ctx, rec);
		if (h > 0)
			sum += h;
	}
	cJSON_Delete(parsed);
	return sum;
}

int
stack_confirm_price(struct stack *st, const struct stack_price_item *items,
    size_t n)
{
	double total = 0;
	int unknown = 0;
	struct buf b;

	if (n == 0)
		return 0;
	buf_init(&b);
	for (size_t i = 0; i < n; i++) {
		double p = stack_price(st->ctx, items[i].key);
		int c = items[i].count > 0 ? items[i].count : 1;
		if (str_endswith(items[i].key, "-gb-month")) {
			/* count is GB: the hourly share of the month */
			if (p >= 0) {
				total += p * c / HOURS_PER_MONTH;
				buf_printf(&b, "%s%s (%d GB) $%.4g/h", i ? ", " :
				    "", items[i].what, c,
				    p * c / HOURS_PER_MONTH);
				continue;
			}
		}
		if (p < 0) {
			unknown = 1;
			buf_printf(&b, "%s%s (%s) price unknown", i ? ", " : "",
			    items[i].what, items[i].key);
		} else {
			/* Name instance types; "NAT gateway" says enough. */
			int named = strchr(items[i].key, '.') != NULL;
			total += p * c;
			buf_printf(&b, "%s%s", i ? ", " : "", items[i].what);
			if (c > 1)
				buf_printf(&b, " %d × %s", c, items[i].key);
			else if (named)
				buf_printf(&b, " (%s)", items[i].key);
			buf_printf(&b, " $%.4g/h", p * c);
		}
	}
	fflush(stdout);
	fprintf(stderr, "%s: starting %s: %s$%.4g/h%s\n",
	    st->args && st->args->builtin ? st->args->builtin->name : "stack",
	    b.data, unknown ? "total at least " : "total ", total,
	    st->dry_run ? " (dry run: not started)" : "");
	buf_release(&b);
	if (st->dry_run || st->yes || !isatty(STDIN_FILENO) ||
	    !st->ctx->interactive || (total < 1.0 && !unknown))
		return 0;
	fprintf(stderr, "start it? [y/N] ");
	fflush(stderr);
	{
		char line[64];
		if (fgets(line, sizeof line, stdin) == NULL ||
		    (line[0] != 'y' && line[0] != 'Y')) {
			cmd_error(st->ctx, "not started");
			return -1;
		}
	}
	return 0;
}
