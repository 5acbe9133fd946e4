/* stack.c: the domain layer the stack builtins share (see stack.h):
 * records and their journal in the workspace state, creates in parallel
 * with tags and idempotency, plans for --dry-run, waits, deletes in
 * dependency order, AMI resolution, prices. It reports through the
 * caller's struct stack_ui and never prints. */
#include "stack/stack.h"
#include "stack/types.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include "lib/state.h"

/* --- opening --- */

void
stack_begin(struct stack *st, const struct stack_env *env,
    const struct stack_opts *opts, const struct stack_ui *ui)
{
	cJSON *res;

	memset(st, 0, sizeof *st);
	st->env = *env;
	if (ui != NULL)
		st->ui = *ui;
	if (opts != NULL) {
		st->dry_run = opts->dry_run;
		st->yes = opts->yes;
		st->force = opts->force;
		st->over_budget = opts->over_budget;
		st->sequential = opts->sequential;
		st->json = opts->json;
	}
	st->state = env->state;
	st->aws = env->aws;
	st->ws = st->state->workspace;
	st->region = env->region;
	st->prices = env->prices;
	if (st->prices.region == NULL)
		st->prices.region = st->region;
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
	aws_error_release(&st->fail);
	memset(st, 0, sizeof *st);
}

/* --- talking to the user: only through the caller's ui --- */

const char *
stack_cmd(const struct stack *st)
{
	return st->ui.cmd != NULL ? st->ui.cmd : "stack";
}

/* One formatted line to one of the ui's callbacks (dropped when NULL). */
static void
say(struct stack *st, void (*to)(void *, const char *), const char *fmt,
    va_list ap)
{
	char *m = xvasprintf(fmt, ap);

	if (to != NULL)
		to(st->ui.arg, m);
	free(m);
}

int
stack_error(struct stack *st, const char *fmt, ...)
{
	va_list ap;

	st->nerrors++;
	va_start(ap, fmt);
	say(st, st->ui.error, fmt, ap);
	va_end(ap);
	return -1;
}

void
stack_warn(struct stack *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(st, st->ui.warn, fmt, ap);
	va_end(ap);
}

void
stack_note(struct stack *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(st, st->ui.note, fmt, ap);
	va_end(ap);
}

void
stack_progress(struct stack *st, int done, const char *fmt, ...)
{
	va_list ap;
	char *m = NULL;

	if (fmt != NULL) {
		va_start(ap, fmt);
		m = xvasprintf(fmt, ap);
		va_end(ap);
	}
	if (st->ui.progress != NULL && (done || m != NULL))
		st->ui.progress(st->ui.arg, done, m);
	free(m);
}

int
stack_save(struct stack *st)
{
	char *cause = NULL;

	if (st->dry_run)
		return 0;
	/* What every record is billed as, from what mlsh saw last. */
	stack_meter_observe_all(st->resources, stack_now());
	if (state_save(st->state, &cause) != 0) {
		stack_error(st, "%s", cause);
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

/* "vpc up" */
static char *
cmdline(struct stack *st)
{
	return xasprintf("%s%s%s", stack_cmd(st), st->ui.sub ? " " : "",
	    st->ui.sub ? st->ui.sub : "");
}

cJSON *
stack_result(struct stack *st)
{
	cJSON *rows, *r;
	int nc = cJSON_GetArraySize(st->created);
	int ne = cJSON_GetArraySize(st->existing);
	int nr = cJSON_GetArraySize(st->removed);
	char *name = cmdline(st);

	if (st->dry_run) {
		int n = cJSON_GetArraySize(st->plan);
		if (!st->json)
			stack_note(st, "%s: dry run: %d call%s planned, "
			    "nothing changed", name, n, n == 1 ? "" : "s");
		r = st->plan;
		st->plan = cJSON_CreateArray();
		free(name);
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
	cJSON_ArrayForEach(r, st->removed)
		cJSON_AddItemToArray(rows, cJSON_Duplicate(r, 1));
	if (nc == 0 && nr == 0 && ne > 0)
		stack_note(st, "%s: nothing new: all %d resource%s already "
		    "exist (%d call%s, %.1f s)", name, ne, ne == 1 ? "" : "s",
		    st->ncalls, st->ncalls == 1 ? "" : "s",
		    (now_ms() - st->started_ms) / 1000);
	else
		stack_note(st, "%s: %d created, %d existing, %d removed (%d "
		    "call%s, %.1f s)", name, nc, ne, nr, st->ncalls,
		    st->ncalls == 1 ? "" : "s",
		    (now_ms() - st->started_ms) / 1000);
	free(name);
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
		stack_error(st, "no %s in workspace '%s'; run '%s' first",
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
	/* An empty meter: billing starts when it is first seen created. */
	cJSON_DeleteItemFromObjectCaseSensitive(rec, "meter");
	cJSON_AddArrayToObject(rec, "meter");
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

static int
role_rec_cmp(const void *a, const void *b)
{
	const struct stack_role_rec *x = a, *y = b;

	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return strcmp(x->role, y->role);
}

/* Each record's order is looked up once, then sorted: O(n log n), where a
 * lookup inside the comparison made it O(n² log n) at thousands of
 * resources (down, cost, status). */
struct stack_role_rec *
stack_records(struct stack *st, int reverse, size_t *n)
{
	size_t cap = (size_t)cJSON_GetArraySize(st->resources);
	struct stack_role_rec *k = xreallocarray(NULL, cap ? cap : 1,
	    sizeof *k);
	cJSON *rec;

	*n = 0;
	cJSON_ArrayForEach(rec, st->resources) {
		if (rec->string == NULL || *n == cap)
			continue;
		k[*n].role = rec->string;
		k[*n].rec = rec;
		k[(*n)++].order = type_order(stack_attr(rec, "type"));
	}
	qsort(k, *n, sizeof *k, role_rec_cmp);
	for (size_t i = 0, j = *n; reverse && i + 1 < j; i++, j--) {
		struct stack_role_rec t = k[i];
		k[i] = k[j - 1];
		k[j - 1] = t;
	}
	return k;
}

void
stack_roles(struct stack *st, int reverse, struct strlist *out)
{
	size_t n;
	struct stack_role_rec *k = stack_records(st, reverse, &n);

	for (size_t i = 0; i < n; i++)
		strlist_add(out, k[i].role);
	free(k);
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
	if (strstr(c, "NotFound") != NULL || strncmp(c, "NoSuch", 6) == 0)
		return 1;
	/* SageMaker says "not found" with a validation error and a message
	 * (RecordNotFound, "does not exist", "Could not find"): the one place
	 * that reads the text, so callers branch on this kind. */
	return strncmp(c, "Validation", 10) == 0 && e->message != NULL &&
	    (strstr(e->message, "RecordNotFound") != NULL ||
	    strstr(e->message, "does not exist") != NULL ||
	    strstr(e->message, "Could not find") != NULL);
}

int
stack_err_gone(struct aws_error *e)
{
	if (!stack_err_notfound(e))
		return 0;
	aws_error_release(e);
	return 1;
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
	if (aws_sleep(st->aws, *delay_ms) != 0)
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

	aws_error_release(&st->fail);
	st->fail = *err;
	memset(err, 0, sizeof *err);
	if (st->fail.code != NULL && strcmp(st->fail.code, "Interrupted") == 0)
		return stack_error(st, "interrupted (%s); the state is saved, "
		    "run the command again to resume", what);
	line = aws_error_line(&st->fail);
	stack_error(st, "%s: %s", what, line);
	free(line);
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

/* 1. What is there already; resolve pending intents. -1 after an error. */
static int
create_resolve(struct stack *st, struct stack_create *cs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct stack_create *c = &cs[i];
		cJSON *rec = stack_rec(st, c->role);
		const char *status = stack_attr(rec, "status");
		int f;

		c->skipped = 0;
		if (status != NULL && (strcmp(status, "created") == 0 ||
		    strcmp(status, "planned") == 0)) {
			c->skipped = 1;
			cJSON_AddItemToArray(st->existing,
			    cJSON_CreateString(c->role));
			continue;
		}
		if (status == NULL || strcmp(status, "pending") != 0 ||
		    st->dry_run)
			continue;
		if ((f = resolve_pending(st, c)) < 0)
			return -1;
		if (f > 0) {
			c->skipped = 1;
			cJSON_AddItemToArray(st->created,
			    cJSON_CreateString(c->role));
		}
	}
	/* Adopted intents are saved even when nothing else is sent. */
	if (!st->dry_run && cJSON_GetArraySize(st->created) > 0)
		return stack_save(st);
	return 0;
}

/* 2. Journal one intent (its token kept across re-runs), or plan it. */
static void
create_journal(struct stack *st, struct stack_create *c)
{
	cJSON *rec = stack_rec(st, c->role);
	const char *tok = stack_attr(rec, "status") != NULL &&
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
	}
}

/* 3. One answer: record the id, or adopt a duplicate, or fail (the intent
 * stays pending: a re-run looks it up). rc is the error so far: only the
 * first failure is reported. */
static int
create_answer(struct stack *st, struct stack_create *c,
    struct aws_batch_item *it, int rc)
{
	cJSON *rec = stack_rec(st, c->role);
	const cJSON *item, *id;

	if (it->err.code != NULL && (strstr(it->err.code, "Duplicate") !=
	    NULL || strstr(it->err.code, "AlreadyExists") != NULL)) {
		/* Made before without a record (a lost state file): adopt it
		 * when it carries the workspace's tags. */
		int f = resolve_pending(st, c);
		if (f > 0) {
			aws_error_release(&it->err);
			stack_warn(st, "%s: adopted the existing %s %s tagged "
			    "with workspace '%s'", stack_cmd(st), c->role,
			    stack_id(st, c->role), st->ws);
			cJSON_AddItemToArray(st->existing,
			    cJSON_CreateString(c->role));
			return rc;
		}
		if (f < 0)
			rc = -1;
	}
	if (it->err.code != NULL) {
		if (rc == 0) {
			char *what = xasprintf("cannot create %s", c->role);
			stack_fail(st, what, &it->err);
			free(what);
		}
		return -1;
	}
	item = stack_path(it->result, c->item_path);
	id = cJSON_GetObjectItemCaseSensitive(item, c->id_key);
	if (!cJSON_IsString(id)) {
		if (rc == 0)
			stack_error(st, "cannot create %s: %s returned no %s",
			    c->role, c->action, c->id_key);
		return -1;
	}
	obj_set_str(rec, "id", id->valuestring);
	obj_set_str(rec, "status", "created");
	if (c->attrs != NULL)
		c->attrs(rec_attrs(rec), item);
	else if (stack_type_find(c->type) != NULL)
		stack_type_attrs(stack_type_find(c->type), rec_attrs(rec), item);
	cJSON_AddItemToArray(st->created, cJSON_CreateString(c->role));
	return rc;
}

/* 4. Tags for the APIs without TagSpecifications. */
static int
create_tag_after(struct stack *st, struct stack_create *cs,
    const struct aws_batch_item *items, const size_t *map, size_t ni, int rc)
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
	return rc;
}

int
stack_create_many(struct stack *st, struct stack_create *cs, size_t n)
{
	struct aws_batch_item *items = xcalloc(n ? n : 1, sizeof *items);
	size_t *map = xcalloc(n ? n : 1, sizeof *map), ni = 0;
	int rc;

	if ((rc = create_resolve(st, cs, n)) != 0)
		goto out;
	/* Journal the intents (one save), or plan them. */
	for (size_t i = 0; i < n; i++) {
		if (cs[i].skipped)
			continue;
		create_journal(st, &cs[i]);
		if (st->dry_run)
			continue;
		items[ni].service = cs[i].service;
		items[ni].action = cs[i].action;
		items[ni].params = cs[i].params;
		map[ni++] = i;
	}
	if (ni == 0 || st->dry_run)
		goto out;
	if ((rc = stack_save(st)) != 0)
		goto out;
	/* Send; record ids (one save). */
	send_many(st, items, ni);
	for (size_t k = 0; k < ni; k++)
		rc = create_answer(st, &cs[map[k]], &items[k], rc);
	if (stack_save(st) != 0)
		rc = -1;
	rc = create_tag_after(st, cs, items, map, ni, rc);
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

/* --- waits: one poll loop (aws_wait) for waits and deletes --- */

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

/* A poll over several roles: each round polls every role not yet done
 * with one(), which returns 0 when the role is done, 1 when it is still
 * going (its part of the status line appended to line), -1 after
 * reporting an error. */
struct poll {
	struct stack *st;
	const char *const *roles;
	size_t n;
	int *state;			/* 0 todo, 1 started (deletes), 2 done */
	int (*one)(struct poll *, size_t i);
	const char *verb;		/* "waiting for", "deleting" */
	const char *want;		/* waits: the states waited for */
	int save;			/* save the state after each round */
	double t0;
	struct buf line;
	int reported;			/* one() reported an error */
	double *dv_since;		/* deletes: in use since (ms) */
	double dv_limit;		/* deletes: how long "in use" may last */
};

static int
poll_round(void *arg, int *done, char **status, struct aws_error *err)
{
	struct poll *p = arg;
	size_t left = 0;

	buf_reset(&p->line);
	for (size_t i = 0; i < p->n; i++) {
		int r;
		if (p->state[i] == 2)
			continue;
		if ((r = p->one(p, i)) < 0) {
			p->reported = 1;
			err->code = xstrdup("Reported");
			return -1;
		}
		if (r == 0)
			p->state[i] = 2;
		else
			left++;
	}
	if (p->save)
		stack_save(p->st);
	if (left == 0)
		*done = 1;
	else
		*status = xasprintf("%s %s: %.0fs", p->verb, p->line.data ?
		    p->line.data : "", (now_ms() - p->t0) / 1000);
	return 0;
}

static void
poll_shown(void *arg, double elapsed_ms, const char *status)
{
	struct poll *p = arg;

	if (status != NULL)
		stack_progress(p->st, 0, "%s", status);
}

/* Run p until every role is done; the messages for a timeout and Ctrl-C
 * name what was waited for. */
static int
poll_run(struct poll *p, long max_ms, long timeout_ms, const char *timed_out)
{
	struct aws_error err;
	int rc;

	memset(&err, 0, sizeof err);
	p->state = xcalloc(p->n ? p->n : 1, sizeof *p->state);
	p->t0 = now_ms();
	buf_init(&p->line);
	rc = aws_wait(p->st->aws, poll_round, p, 500, max_ms, timeout_ms,
	    poll_shown, p, &err);
	stack_progress(p->st, 1, NULL);
	if (rc != 0 && !p->reported) {
		if (err.code != NULL && strcmp(err.code, "Timeout") == 0)
			stack_error(p->st, "%s", timed_out);
		else if (err.code != NULL && strcmp(err.code,
		    "Interrupted") == 0)
			stack_error(p->st, "interrupted; the state is saved, "
			    "run the command again to resume");
		else
			stack_fail(p->st, p->verb, &err);
	}
	aws_error_release(&err);
	buf_release(&p->line);
	free(p->state);
	return rc != 0 ? -1 : 0;
}

int
stack_wait_state(struct stack *st, const char *role, const char *want,
    int timeout_s)
{
	const char *roles[1] = { role };
	return stack_wait_states(st, roles, 1, want, timeout_s);
}

/* Waits: one role, one refresh. */
static int
wait_one(struct poll *p, size_t i)
{
	struct stack *st = p->st;
	const char *role = p->roles[i];
	cJSON *rec = stack_rec(st, role);
	const struct stack_type *t = stack_type_find(stack_attr(rec, "type"));
	struct aws_error err;
	const char *state;
	int r;

	if (rec == NULL || t == NULL)
		return 0;
	memset(&err, 0, sizeof err);
	st->ncalls++;
	if ((r = stack_type_refresh(st, rec, &err)) < 0) {
		char *what = xasprintf("waiting for %s", role);
		stack_fail(st, what, &err);
		free(what);
		return -1;
	}
	state = stack_attr(rec, "state");
	if (r == STACK_GONE && rec_fresh(rec) && (state == NULL ||
	    !gone_state(state)) && now_ms() - p->t0 <
	    retry_limit_s(STACK_RETRY_FRESH_ID) * 1000.0) {
		/* Not found, moments after mlsh made it: EC2 has not caught
		 * up yet (see stack_retry_kind). */
		buf_printf(&p->line, "%s%s %s not visible yet",
		    p->line.len ? ", " : "", role, stack_attr(rec, "id"));
		return 1;
	}
	if (r == STACK_GONE)
		return stack_error(st, "%s %s is gone while waiting for it to "
		    "be %s", role, stack_attr(rec, "id"), p->want);
	if (state != NULL && code_in(state, p->want))
		return 0;
	if (state != NULL && (strcmp(state, "failed") == 0 ||
	    strcmp(state, "error") == 0 || strcmp(state, "Failed") == 0))
		return stack_error(st, "%s %s failed (state %s)%s%s", role,
		    stack_attr(rec, "id"), state, stack_attr(rec,
		    "failure_reason") ? ": " : "", stack_attr(rec,
		    "failure_reason") ? stack_attr(rec, "failure_reason") : "");
	buf_printf(&p->line, "%s%s %s %s", p->line.len ? ", " : "", role,
	    stack_attr(rec, "id"), state ? state : "?");
	return 1;
}

int
stack_wait_states(struct stack *st, const char *const *roles, size_t n,
    const char *want, int timeout_s)
{
	struct poll p = { .st = st, .roles = roles, .n = n, .one = wait_one,
	    .verb = "waiting for", .want = want, .save = 1 };
	char *timed_out;
	int rc;

	if (st->dry_run) {
		for (size_t i = 0; i < n; i++)
			stack_plan(st, "wait", roles[i], "until %s (timeout "
			    "%d s)", want, timeout_s);
		return 0;
	}
	timed_out = xasprintf("timed out after %d s waiting for %s to be %s",
	    timeout_s, n > 0 ? roles[0] : "", want);
	rc = poll_run(&p, 5000, timeout_s * 1000L, timed_out);
	free(timed_out);
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
removed_row(struct stack *st, const char *role, cJSON *rec, double cost_v)
{
	cJSON *o = cJSON_CreateObject();
	const char *id = stack_attr(rec, "id");
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

/* Start deleting role: 0 started, 1 still in use (retried next round),
 * -1 reported. */
static int
delete_start(struct poll *p, size_t i, cJSON *rec,
    const struct stack_type *t)
{
	struct stack *st = p->st;
	const char *role = p->roles[i];
	struct aws_error err;
	int r;

	memset(&err, 0, sizeof err);
	st->ncalls++;
	r = stack_type_delete(st, rec, &err);
	if (r != 0 && stack_err_gone(&err))
		r = 0;
	if (r == 0)	/* billing ends as the delete starts */
		stack_meter_mark(rec, STACK_BILL_NONE, stack_now());
	if (r != 0 && is_dependency(&err)) {
		/* Something still uses it: AWS lags, or something outside
		 * the record. */
		if (p->dv_since[i] == 0)
			p->dv_since[i] = now_ms();
		if (now_ms() - p->dv_since[i] > p->dv_limit) {
			char *what = xasprintf("%s %s is still in use after "
			    "%.0f s", role, stack_attr(rec, "id"),
			    p->dv_limit / 1000);
			stack_fail(st, what, &err);
			free(what);
			return -1;
		}
		buf_printf(&p->line, "%s%s %s (in use)", p->line.len ? ", " :
		    "", role, stack_attr(rec, "id"));
		aws_error_release(&err);
		return 1;
	}
	if (r != 0) {
		char *what = xasprintf("cannot delete %s %s", role,
		    stack_attr(rec, "id"));
		stack_fail(st, what, &err);
		free(what);
		return -1;
	}
	p->state[i] = 1;
	return 0;
}

/* Deletes: start role once, then refresh it until gone. */
static int
delete_one(struct poll *p, size_t i)
{
	struct stack *st = p->st;
	const char *role = p->roles[i];
	cJSON *rec = stack_rec(st, role);
	const struct stack_type *t = stack_type_find(stack_attr(rec, "type"));
	struct aws_error err;
	int r;

	if (rec == NULL || t == NULL || stack_attr(rec, "id") == NULL) {
		if (rec != NULL)
			stack_forget(st, role);
		return 0;
	}
	if (p->state[i] == 0 && (r = delete_start(p, i, rec, t)) != 0)
		return r;
	memset(&err, 0, sizeof err);
	st->ncalls++;
	r = stack_type_refresh(st, rec, &err);
	if (r < 0 && stack_err_gone(&err))
		r = STACK_GONE;
	if (r < 0) {
		char *what = xasprintf("cannot check %s", role);
		stack_fail(st, what, &err);
		free(what);
		return -1;
	}
	if (r == STACK_GONE) {
		removed_row(st, role, rec, stack_ledger_add(st, role, rec));
		stack_forget(st, role);
		return 0;
	}
	buf_printf(&p->line, "%s%s %s %s", p->line.len ? ", " : "", role,
	    stack_attr(rec, "id"), stack_attr(rec, "state") ?
	    stack_attr(rec, "state") : "deleting");
	return 1;
}

/* Delete one order group: start all, wait all gone (20 minutes). */
static int
delete_group(struct stack *st, char **roles, size_t n)
{
	const char *dvt = getenv("MLSH_DEPENDENCY_TIMEOUT");
	struct poll p = { .st = st, .roles = (const char *const *)roles,
	    .n = n, .one = delete_one, .verb = "deleting" };
	char *timed_out = xasprintf("timed out deleting %s", roles[0]);
	int rc;

	p.dv_since = xcalloc(n, sizeof *p.dv_since);
	p.dv_limit = (dvt != NULL && atof(dvt) > 0 ? atof(dvt) : 180) * 1000.0;
	rc = poll_run(&p, 8000, 20 * 60 * 1000L, timed_out);
	free(p.dv_since);
	free(timed_out);
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
		if (stack_err_gone(err))
			return 0;
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
	    stack_attr(rec, "id") != NULL && st->env.instance_gone != NULL)
		st->env.instance_gone(st->env.arg, stack_attr(rec, "id"));
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

/* US West (Oregon) and Europe (Ireland): on-demand Linux prices from the
 * AWS pricing pages (https://aws.amazon.com/ec2/pricing/on-demand/,
 * https://aws.amazon.com/ebs/pricing/, https://aws.amazon.com/vpc/pricing/,
 * https://aws.amazon.com/efs/pricing/) as of mid-2024. These pages render
 * their tables with JavaScript and could not be fetched where this was
 * written, so the figures are as recalled, not checked against a fetched
 * copy: override any of them in ~/.mlshrc (prices = {["eu-west-1"] =
 * {...}}). Left out (shown "unknown", never $0) where no figure was at
 * hand: SageMaker notebook instances in both regions, EFS One Zone in
 * eu-west-1, and dl1.24xlarge in eu-west-1 (DL1 is offered in us-east-1
 * and us-west-2 only). Oregon prices these kinds as N. Virginia does. */
static const struct price_row prices_us_west_2[] = {
	{ "p3.8xlarge", 12.24 },
	{ "p3.2xlarge", 3.06 },
	{ "p3.16xlarge", 24.48 },
	{ "p2.xlarge", 0.90 },
	{ "dl1.24xlarge", 13.11 },
	{ "g4dn.xlarge", 0.526 },
	{ "t3.nano", 0.0052 },
	{ "t3.micro", 0.0104 },
	{ "t3.small", 0.0208 },
	{ "t3.medium", 0.0416 },
	{ "t3.large", 0.0832 },
	{ "nat-gateway", 0.045 },
	{ "eip", 0.005 },
	{ "public-ipv4", 0.005 },
	{ "ebs-gp3-gb-month", 0.08 },
	{ "ebs-gp2-gb-month", 0.10 },
	{ "nat-gb", 0.045 },
	{ "efs-gb-month", 0.30 },
	{ "efs-one-zone-gb-month", 0.16 },
	{ NULL, 0 }
};

static const struct price_row prices_eu_west_1[] = {
	{ "p3.8xlarge", 13.22 },
	{ "p3.2xlarge", 3.305 },
	{ "p3.16xlarge", 26.44 },
	{ "p2.xlarge", 0.972 },
	{ "g4dn.xlarge", 0.587 },
	{ "t3.nano", 0.0057 },
	{ "t3.micro", 0.0114 },
	{ "t3.small", 0.0228 },
	{ "t3.medium", 0.0456 },
	{ "t3.large", 0.0912 },
	{ "nat-gateway", 0.048 },
	{ "eip", 0.005 },
	{ "public-ipv4", 0.005 },
	{ "ebs-gp3-gb-month", 0.088 },
	{ "ebs-gp2-gb-month", 0.11 },
	{ "nat-gb", 0.048 },
	{ "efs-gb-month", 0.33 },
	{ NULL, 0 }
};

/* Each table with the date its prices are from (`cost` shows it). */
static const struct {
	const char *region;
	const char *date;
	const struct price_row *rows;
} price_tables[] = {
	{ "us-east-1", "2022-01", prices_us_east_1 },
	{ "us-west-2", "2024-06", prices_us_west_2 },
	{ "eu-west-1", "2024-06", prices_eu_west_1 },
	{ NULL, NULL, NULL }
};

static const struct price_row *
builtin_rows(const struct stack_prices *pr, const char **date)
{
	const char *r = pr->region != NULL ? pr->region : "";

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

/* Overrides: the configuration's for the region ({"us-west-2":
 * {"t3.nano": 0.006}}), then its flat ones ({"t3.nano": 0.006}), then the
 * file's (the same two forms). */
static double
override_price(const struct stack_prices *pr, const char *key,
    const char **source)
{
	const cJSON *r = pr->region != NULL ?
	    cJSON_GetObjectItemCaseSensitive(pr->config, pr->region) : NULL;
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(r, key);

	if (!cJSON_IsNumber(n))
		n = cJSON_GetObjectItemCaseSensitive(pr->config, key);
	if (cJSON_IsNumber(n) && n->valuedouble >= 0) {
		*source = "config";
		return n->valuedouble;
	}
	if (pr->file != NULL) {
		const cJSON *t = pr->region != NULL ?
		    cJSON_GetObjectItemCaseSensitive(pr->file, pr->region) :
		    NULL;
		n = cJSON_GetObjectItemCaseSensitive(cJSON_IsObject(t) ? t :
		    pr->file, key);
		if (cJSON_IsNumber(n)) {
			*source = "prices.json";
			return n->valuedouble;
		}
	}
	return -1;
}

static double
price_src(const struct stack_prices *pr, const char *key,
    const char **source)
{
	const struct price_row *rows;
	double v;

	*source = "unknown";
	if (key == NULL)
		return -1;
	if ((v = override_price(pr, key, source)) >= 0)
		return v;
	rows = builtin_rows(pr, NULL);
	for (size_t i = 0; rows != NULL && rows[i].key != NULL; i++)
		if (strcmp(rows[i].key, key) == 0) {
			*source = "built-in";
			return rows[i].usd_per_hour;
		}
	return -1;
}

double
stack_price(const struct stack_prices *pr, const char *key)
{
	const char *src;
	return price_src(pr, key, &src);
}

const char *
stack_prices_date(const struct stack_prices *pr)
{
	const char *d;
	builtin_rows(pr, &d);
	return d;
}

cJSON *
stack_prices_table(const struct stack_prices *pr)
{
	cJSON *arr = cJSON_CreateArray();
	const struct price_row *rows = builtin_rows(pr, NULL);

	for (size_t i = 0; rows != NULL && rows[i].key != NULL; i++) {
		cJSON *o = cJSON_CreateObject();
		const char *src;
		double v = price_src(pr, rows[i].key, &src);
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

/* Every part of rec as if it ran (stack_rec_parts_all); "running" set
 * when the instance's public address counts (it has one now). */
static size_t
parts_of(const struct stack_prices *pr, const cJSON *rec,
    struct stack_cost_part *parts, int running)
{
	const char *key = stack_attr(rec, "price_key");
	const char *type = stack_attr(rec, "type");
	const char *ip = stack_attr(rec, "public_ip");
	const struct stack_type *t = stack_type_find(type);
	size_t n = 0;

	if (key == NULL)
		key = stack_attr(rec, "instance_type");
	memset(parts, 0, STACK_COST_PARTS * sizeof *parts);
	if (t != NULL && t->price != NULL) {
		/* Its own price function (EFS by size): one part. */
		snprintf(parts[0].what, sizeof parts[0].what, "%s",
		    key != NULL ? key : type);
		parts[0].suffix = "";
		parts[0].usd_per_hour = t->price(pr, rec);
		return 1;
	}
	if (key == NULL)
		return 0;
	snprintf(parts[n].what, sizeof parts[n].what, "%s",
	    strcmp(key, "eip") == 0 ? "public IPv4 (Elastic IP)" : key);
	parts[n].suffix = "";
	parts[n].usd_per_hour = stack_price(pr, key);
	n++;
	if (type == NULL || strcmp(type, "instance") != 0)
		return n;
	/* An instance's public address is charged while it has one (a
	 * stopped instance gives its auto-assigned address back). */
	if (running && ip != NULL && *ip != '\0' && strcmp(ip, "-") != 0) {
		snprintf(parts[n].what, sizeof parts[n].what, "public IPv4");
		parts[n].suffix = "public-ipv4";
		parts[n].usd_per_hour = stack_price(pr, "public-ipv4");
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
			double p = stack_price(pr, k);
			snprintf(parts[n].what, sizeof parts[n].what,
			    "EBS %s %.0f GB", vt ? vt : "gp3", g);
			parts[n].suffix = "ebs";
			parts[n].storage = 1;
			parts[n].usd_per_hour = p < 0 ? -1 : p * g /
			    HOURS_PER_MONTH;
			free(k);
			n++;
		}
	}
	return n;
}

size_t
stack_rec_parts_all(const struct stack_prices *pr, const cJSON *rec,
    struct stack_cost_part *parts)
{
	return parts_of(pr, rec, parts, 1);
}

size_t
stack_rec_parts(const struct stack_prices *pr, const cJSON *rec,
    struct stack_cost_part *parts)
{
	int bill = stack_bill_class(stack_attr(rec, "state"));
	size_t n, k = 0;

	if (bill == STACK_BILL_NONE)
		return 0;
	n = parts_of(pr, rec, parts, bill == STACK_BILL_ALL);
	for (size_t i = 0; i < n; i++) {
		/* Stopped: the compute part shows $0, the volume its rate. */
		if (bill != STACK_BILL_ALL && !parts[i].storage && i > 0)
			continue;
		if (bill != STACK_BILL_ALL && !parts[i].storage)
			parts[i].usd_per_hour = 0;
		parts[k++] = parts[i];
	}
	return k;
}

double
stack_price_default(const struct stack_prices *pr, const cJSON *rec)
{
	struct stack_cost_part parts[STACK_COST_PARTS];
	size_t n = stack_rec_parts(pr, rec, parts);
	double sum = 0;

	for (size_t i = 0; i < n; i++) {
		if (parts[i].usd_per_hour < 0)
			return -1;
		sum += parts[i].usd_per_hour;
	}
	return sum;
}

double
stack_rec_hourly(const struct stack_prices *pr, const cJSON *rec)
{
	const struct stack_type *t = stack_type_find(stack_attr(rec, "type"));
	const char *status = stack_attr(rec, "status");

	if (status != NULL && strcmp(status, "created") != 0)
		return 0;
	if (t != NULL && t->price != NULL)
		return t->price(pr, rec);
	return stack_price_default(pr, rec);
}

double
stack_rec_accrued(const struct stack_prices *pr, const cJSON *rec)
{
	return stack_rec_spent(pr, rec, stack_now(), NULL);
}

double
stack_hourly_rate(const struct stack_prices *pr, const cJSON *root)
{
	const cJSON *rec;
	double sum = 0;

	cJSON_ArrayForEach(rec, cJSON_GetObjectItemCaseSensitive(root,
	    "resources")) {
		double h = stack_rec_hourly(pr, rec);
		if (h > 0)
			sum += h;
	}
	return sum;
}

int
stack_confirm_price(struct stack *st, const struct stack_price_item *items,
    size_t n)
{
	double total = 0;
	int unknown = 0, r;
	struct buf b;

	if (n == 0)
		return 0;
	buf_init(&b);
	for (size_t i = 0; i < n; i++) {
		double p = stack_price(&st->prices, items[i].key);
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
	stack_note(st, "%s: starting %s: %s$%.4g/h%s", stack_cmd(st), b.data,
	    unknown ? "total at least " : "total ", total,
	    st->dry_run ? " (dry run: not started)" : "");
	buf_release(&b);
	if (stack_budget_check(st, total) != 0)
		return -1;
	if (st->dry_run || st->yes || (total < 1.0 && !unknown))
		return 0;
	/* Scripts are never asked: they go on. */
	if (st->ui.confirm == NULL || (r = st->ui.confirm(st->ui.arg,
	    "start it?")) < 0)
		return 0;
	return r == 1 ? 0 : stack_error(st, "not started");
}
