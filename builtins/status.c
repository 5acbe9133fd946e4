/* status: one table of every resource of the workspace. --refresh
 * reconciles the record with AWS and reports drift (gone, changed, unknown
 * but tagged); --recover rebuilds a lost state file from the
 * `mlsh:workspace` tags. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lib/state.h"
#include "builtins/autostop.h"
#include "builtins/stackcmd.h"
#include "builtins/target.h"

static char *
age_text(double seconds)
{
	if (seconds < 0)
		seconds = 0;
	if (seconds < 120)
		return xasprintf("%.0fs", seconds);
	if (seconds < 7200)
		return xasprintf("%.0fm", seconds / 60);
	if (seconds < 2 * 86400)
		return xasprintf("%.1fh", seconds / 3600);
	return xasprintf("%.1fd", seconds / 86400);
}

static char *
money(double v, int hourly)
{
	if (v < 0)
		return xstrdup("unknown");
	if (hourly)
		return xasprintf("$%.4f", v);
	return xasprintf("$%.2f", v);
}

/* One record as data (numbers, null for none); status_people() makes the
 * table's text of it. */
static cJSON *
row(struct stack *st, const char *role, const cJSON *rec)
{
	cJSON *o = cJSON_CreateObject();
	const char *v;
	double created = cJSON_GetNumberValue(
	    cJSON_GetObjectItemCaseSensitive(rec, "created"));
	const char *status = stack_attr(rec, "status");
	double h = stack_rec_hourly(&st->prices, rec);

	cJSON_AddStringToObject(o, "role", role);
	stackcmd_add_text(o, "id", stack_attr(rec, "id"));
	if (status != NULL && strcmp(status, "pending") == 0)
		v = "pending (interrupted create; re-run its up)";
	else
		v = stack_attr(rec, "state");
	stackcmd_add_text(o, "state", v);
	v = stack_attr(rec, "instance_type");
	if (v == NULL)
		v = stack_attr(rec, "type");
	stackcmd_add_text(o, "type", v);
	stackcmd_add_text(o, "private_ip", stack_attr(rec, "private_ip"));
	stackcmd_add_text(o, "public_ip", stack_attr(rec, "public_ip"));
	json_add_usd(o, "usd_per_hour", h);
	if (created > 0) {
		double age = (double)time(NULL) - created;
		cJSON_AddNumberToObject(o, "age_seconds", age > 0 ? age : 0);
	} else
		cJSON_AddNullToObject(o, "age_seconds");
	json_add_usd(o, "accrued_usd", stack_rec_accrued(&st->prices, rec));
	return o;
}

/* The table a person reads: $/h to four places, the accrued cost to two,
 * the age in its unit, "unknown" for a price the table does not know. */
static void
status_people(cJSON *rows)
{
	cJSON *o, *v;
	char *s;

	cJSON_ArrayForEach(o, rows) {
		if ((v = cJSON_GetObjectItemCaseSensitive(o, "usd_per_hour"))) {
			s = money(cJSON_IsNumber(v) ? v->valuedouble : -1, 1);
			cJSON_ReplaceItemInObjectCaseSensitive(o,
			    "usd_per_hour", cJSON_CreateString(s));
			free(s);
		}
		v = cJSON_DetachItemFromObjectCaseSensitive(o, "age_seconds");
		if (v != NULL) {
			s = cJSON_IsNumber(v) ? age_text(v->valuedouble) :
			    xstrdup("-");
			cJSON_AddStringToObject(o, "age", s);
			free(s);
			cJSON_Delete(v);
		}
		v = cJSON_DetachItemFromObjectCaseSensitive(o, "accrued_usd");
		if (v != NULL) {
			s = money(cJSON_IsNumber(v) ? v->valuedouble : -1, 0);
			cJSON_AddStringToObject(o, "accrued", s);
			free(s);
			cJSON_Delete(v);
		}
		if ((s = autostop_take_text(o)) != NULL) {
			cJSON_AddStringToObject(o, "autostop", s);
			free(s);
		}
		if ((v = cJSON_GetObjectItemCaseSensitive(o, "drift")) != NULL) {
			cJSON_DetachItemViaPointer(o, v);
			cJSON_AddItemToObject(o, "drift", v);	/* stays last */
		}
	}
}

/* A spot node's request under it: `down` cancels it before terminating,
 * else a persistent request would start the node again. */
static void
spot_row(cJSON *rows, const char *role, const cJSON *rec)
{
	const char *sr = stack_attr(rec, "spot_request");
	const char *state = stack_attr(rec, "spot_state");
	cJSON *o;
	char *name;

	if (sr == NULL)
		return;
	o = cJSON_CreateObject();
	name = xasprintf("%s spot request", role);
	cJSON_AddStringToObject(o, "role", name);
	cJSON_AddStringToObject(o, "id", sr);
	stackcmd_add_text(o, "state", state);
	cJSON_AddStringToObject(o, "type", "spot-request (persistent)");
	stackcmd_add_text(o, "private_ip", NULL);
	stackcmd_add_text(o, "public_ip", NULL);
	/* The request costs nothing itself: its node's row has the price. */
	cJSON_AddItemToArray(rows, o);
	free(name);
}

cJSON *
stack_status_rows(struct stack *st, const struct strlist *only)
{
	size_t n;
	struct stack_role_rec *k = stack_records(st, 1, &n);
	cJSON *rows = cJSON_CreateArray();

	/* Prices read the region from st->prices, resolved once by the
	 * adapter (builtins/stackcmd.c), not once a row. */
	for (size_t i = 0; i < n; i++) {
		if (only != NULL && !strlist_has(only, k[i].role))
			continue;
		cJSON_AddItemToArray(rows, row(st, k[i].role, k[i].rec));
		spot_row(rows, k[i].role, k[i].rec);
	}
	free(k);
	return rows;
}

/* Everything tagged with the workspace, type by type. */
static int
list_all(struct stack *st, cJSON *found)
{
	for (size_t i = 0; stack_types[i].name != NULL; i++) {
		cJSON *out = cJSON_CreateArray(), *it;
		struct aws_error err;

		memset(&err, 0, sizeof err);
		if (stack_type_list(st, &stack_types[i], out, &err) != 0) {
			char *what = xasprintf("cannot list %s",
			    stack_types[i].name);
			cJSON_Delete(out);
			stack_fail(st, what, &err);
			free(what);
			return -1;
		}
		cJSON_ArrayForEach(it, out)
			cJSON_AddStringToObject(it, "type", stack_types[i].name);
		while (cJSON_GetArraySize(out) > 0)
			cJSON_AddItemToArray(found,
			    cJSON_DetachItemFromArray(out, 0));
		cJSON_Delete(out);
	}
	return 0;
}

static int
status_recover(struct stack *st, cJSON **result)
{
	cJSON *found = cJSON_CreateArray(), *it, *rows = cJSON_CreateArray();
	int n = 0;

	if (list_all(st, found) != 0) {
		cJSON_Delete(found);
		cJSON_Delete(rows);
		return 1;
	}
	cJSON_ArrayForEach(it, found) {
		const char *role = stack_attr(it, "role");
		const char *id = stack_attr(it, "id");
		cJSON *rec, *at;
		if (role == NULL || id == NULL || stack_id(st, role) != NULL)
			continue;
		rec = stack_record(st, role, stack_attr(it, "type"), id);
		at = cJSON_GetObjectItemCaseSensitive(it, "attrs");
		if (cJSON_IsObject(at)) {
			cJSON_DeleteItemFromObjectCaseSensitive(rec, "attrs");
			cJSON_AddItemToObject(rec, "attrs",
			    cJSON_Duplicate(at, 1));
		}
		cJSON_AddItemToArray(rows, row(st, role, rec));
		n++;
	}
	cJSON_Delete(found);
	if (stack_save(st) != 0) {
		cJSON_Delete(rows);
		return 1;
	}
	fflush(stdout);
	fprintf(stderr, "status: recovered %d resource%s tagged "
	    "mlsh:workspace=%s\n", n, n == 1 ? "" : "s", st->ws);
	*result = rows;
	return 0;
}

/* Refresh every record (one describe per type) and add a row for each,
 * with its drift; records gone are forgotten. The number of drifts, or -1
 * after stack_fail. */
static int
refresh_rows(struct stack *st, const struct strlist *roles, cJSON *rows)
{
	char **before = xcalloc(roles->n ? roles->n : 1, sizeof *before);
	int *res = xcalloc(roles->n ? roles->n : 1, sizeof *res);
	const char *bad = NULL;
	struct aws_error err;
	int drift = 0;

	for (size_t i = 0; i < roles->n; i++) {
		const char *s = stack_attr(stack_rec(st, roles->v[i]), "state");
		before[i] = s != NULL ? xstrdup(s) : NULL;
	}
	if (stack_refresh_many(st, (const char *const *)roles->v, roles->n,
	    res, &err, &bad) != 0) {
		char *what = xasprintf("cannot refresh %s", bad);
		stack_fail(st, what, &err);
		free(what);
		drift = -1;
	}
	for (size_t i = 0; i < roles->n && drift >= 0; i++) {
		cJSON *rec = stack_rec(st, roles->v[i]), *o;
		const char *now = stack_attr(rec, "state");
		if (res[i] < 0)		/* nothing to describe it by */
			continue;
		o = row(st, roles->v[i], rec);
		if (res[i] == STACK_GONE) {
			cJSON_AddStringToObject(o, "drift", "gone (forgotten)");
			drift++;
		} else if (before[i] != NULL && now != NULL &&
		    strcmp(before[i], now) != 0) {
			char *c = xasprintf("changed: %s -> %s", before[i], now);
			cJSON_AddStringToObject(o, "drift", c);
			free(c);
			drift++;
		} else
			cJSON_AddStringToObject(o, "drift", "");
		cJSON_AddItemToArray(rows, o);
		if (res[i] == STACK_GONE) {
			/* What it cost stays in the ledger. */
			(void)stack_ledger_add(st, roles->v[i], rec);
			cJSON_DeleteItemFromObjectCaseSensitive(st->resources,
			    roles->v[i]);
		}
	}
	for (size_t i = 0; i < roles->n; i++)
		free(before[i]);
	free(before);
	free(res);
	return drift;
}

/* Each running machine's autostop watchdog, read over the session's kept
 * SSH connection (one short exec each, bounded, one after the other) into
 * its record. Only here: plain `status` and the prompt read no network, and
 * --refresh is where status already asks the world. An emulator's made-up
 * addresses are not read (target_emulated). */
#define WATCHDOG_BOUND_MS 5000
static void
read_watchdogs(struct stack *st)
{
	struct mlsh_ctx *ctx = st->ctx;
	const cJSON *rec;
	struct strlist roles;

	if (target_emulated(ctx))
		return;
	strlist_init(&roles);
	cJSON_ArrayForEach(rec, st->resources)
		if (stack_attr(rec, "autostop") != NULL &&
		    stack_attr(rec, "state") != NULL &&
		    strcmp(stack_attr(rec, "state"), "running") == 0)
			strlist_add(&roles, rec->string);
	for (size_t i = 0; i < roles.n && !mlsh_interrupted; i++) {
		char *text = NULL;
		if (autostop_read(ctx, roles.v[i], NULL, WATCHDOG_BOUND_MS,
		    &text) == 0)
			autostop_observe(st, roles.v[i], text,
			    (long)time(NULL));
		else {
			fflush(stdout);
			fprintf(stderr, "status: %s's autostop not read: %s\n",
			    roles.v[i], ctx->error ? ctx->error : "failed");
			free(ctx->error);
			ctx->error = NULL;
		}
		free(text);
	}
	strlist_release(&roles);
}

/* The autostop columns of every row whose record has a setting. */
static void
autostop_rows(struct stack *st, cJSON *rows)
{
	cJSON *o;
	long now = (long)time(NULL);

	cJSON_ArrayForEach(o, rows) {
		const cJSON *role = cJSON_GetObjectItemCaseSensitive(o, "role");
		const cJSON *rec = cJSON_IsString(role) ? stack_rec(st,
		    role->valuestring) : NULL;
		if (rec != NULL)
			autostop_fields(rec, now, o);
	}
}

static int
status_refresh(struct stack *st, cJSON **result)
{
	struct strlist roles;
	cJSON *rows = cJSON_CreateArray(), *found = cJSON_CreateArray(), *it;
	int drift = 0;

	strlist_init(&roles);
	stack_roles(st, 0, &roles);
	drift = refresh_rows(st, &roles, rows);
	if (drift < 0) {
		strlist_release(&roles);
		cJSON_Delete(rows);
		cJSON_Delete(found);
		return 1;
	}
	strlist_release(&roles);
	read_watchdogs(st);
	if (list_all(st, found) != 0) {
		cJSON_Delete(rows);
		cJSON_Delete(found);
		return 1;
	}
	cJSON_ArrayForEach(it, found) {
		const char *id = stack_attr(it, "id");
		int known = 0;
		cJSON *rec, *o;
		cJSON_ArrayForEach(rec, st->resources) {
			const char *rid = stack_attr(rec, "id");
			if (rid != NULL && id != NULL && strcmp(rid, id) == 0)
				known = 1;
		}
		if (known)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "role", stack_attr(it, "role"));
		stackcmd_add_text(o, "id", id);
		stackcmd_add_text(o, "state", stack_attr(it, "state"));
		stackcmd_add_text(o, "type", stack_attr(it, "type"));
		cJSON_AddStringToObject(o, "drift", "unknown but tagged "
		    "(status --recover adopts it)");
		cJSON_AddItemToArray(rows, o);
		drift++;
	}
	cJSON_Delete(found);
	if (stack_save(st) != 0) {
		cJSON_Delete(rows);
		return 1;
	}
	fflush(stdout);
	fprintf(stderr, "status: %d drift%s\n", drift, drift == 1 ? "" : "s");
	*result = rows;
	return 0;
}

/* With a budget: what is spent of it, under the table. */
static void
budget_line(struct stack *st)
{
	cJSON *b = stack_budget_json(&st->prices, st->state->root,
	    stack_now());

	if (b == NULL)
		return;
	fprintf(stderr, "status: budget $%.2f spent of $%.2f (%.0f%%)%s\n",
	    cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(b,
	    "spent_usd")), cJSON_GetNumberValue(
	    cJSON_GetObjectItemCaseSensitive(b, "usd")), cJSON_GetNumberValue(
	    cJSON_GetObjectItemCaseSensitive(b, "percent")),
	    cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(b,
	    "left_usd")) <= 0 ? ": over budget" : "");
	cJSON_Delete(b);
}

static int
status_exec(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct stack st;
	int rc = 0;

	if (stack_open(ctx, a, &st) != 0)
		return 1;
	if (cmd_opt_bool(a, "recover"))
		rc = status_recover(&st, result);
	else if (cmd_opt_bool(a, "refresh"))
		rc = status_refresh(&st, result);
	else {
		*result = stack_status_rows(&st, NULL);
		if (cJSON_GetArraySize(*result) == 0 && !a->json) {
			cJSON_Delete(*result);
			*result = cJSON_CreateString("");
			fprintf(stderr, "status: workspace '%s' has no "
			    "resources\n", st.ws);
		}
	}
	if (rc == 0 && cJSON_IsArray(*result))
		autostop_rows(&st, *result);
	/* --json and Lua get the data; the prompt a table of text. */
	if (rc == 0 && !shell_wants_data(ctx, a->json) &&
	    cJSON_IsArray(*result))
		status_people(*result);
	if (rc == 0 && !shell_wants_data(ctx, a->json))
		budget_line(&st);
	stack_close(&st);
	return rc;
}

static const struct mlsh_opt status_opts[] = {
	{ "refresh", 'r', OPT_BOOL, NULL, NULL,
	    "ask AWS and report drift (gone, changed, unknown but tagged); "
	    "read the machines' autostop watchdogs" },
	{ "recover", 0, OPT_BOOL, NULL, NULL,
	    "rebuild the state from the mlsh:workspace tags" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

const struct mlsh_cmd cmd_status_entry = {
	.name = "status",
	.aliases = (const char *const[]){ "st", NULL },
	.summary = "every resource of the workspace, its state and cost",
	.help = "Columns: role, id, state, type, private and public IP, $/h, "
	    "age and accrued cost (at today's rate since creation), and for "
	    "machines with an idle watchdog their autostop (\"idle 12m, stops "
	    "in 48m\", \"busy (run r3)\", \"autostop off\"). Without "
	    "flags it reads the state only (the autostop as last read, counted "
	    "on to now); --refresh asks AWS, and each running machine's "
	    "watchdog over SSH (5 s at most each). --json: usd_per_hour, "
	    "age_seconds, accrued_usd, idle_seconds and stops_in_seconds as "
	    "numbers, null where unknown or none.",
	.opts = status_opts,
	.min_args = 0,
	.max_args = 0,
	.exec = status_exec,
	.flags = CMD_NO_HISTORY | CMD_READONLY,
};
