/* cost: what the workspace costs per hour now and has really cost so far
 * (from the states mlsh saw: stack/meter.c), per resource, for resources
 * already removed (the ledger) and in total, from the price table (built in
 * per region with its date, overridable in config). An unknown price shows
 * "unknown" (null in JSON), never $0. `cost --prices` shows the table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/state.h"
#include "builtins/stackcmd.h"

static char *
money(double v, int hourly)
{
	if (v < 0)
		return xstrdup("unknown");
	return hourly ? xasprintf("$%.4f", v) : xasprintf("$%.2f", v);
}

struct tally {
	double hourly, accrued;
	int unknown;
};

static void
tally_add(struct tally *t, double h, double c)
{
	if (h < 0 || c < 0)
		t->unknown = 1;
	if (h > 0)
		t->hourly += h;
	if (c > 0)
		t->accrued += c;
}

/* One row: role[/suffix], what, state, $/h now, spent, hours. */
static cJSON *
row(const char *role, const char *suffix, const char *what,
    const char *state, double h, double c, const struct stack_spent *sp)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	if (suffix != NULL && *suffix != '\0') {
		s = xasprintf("%s/%s", role, suffix);
		cJSON_AddStringToObject(o, "role", s);
		free(s);
	} else
		cJSON_AddStringToObject(o, "role", role);
	cJSON_AddStringToObject(o, "type", what);
	cJSON_AddStringToObject(o, "state", state ? state : "-");
	json_add_usd(o, "usd_per_hour", h);
	json_add_usd(o, "accrued_usd", c);
	json_add_usd(o, "running_h", sp->all_h);
	json_add_usd(o, "stopped_h", sp->storage_h);
	return o;
}

/* The current rate of rec's part with suffix (0 when it has none now). */
static double
part_rate(const struct stack_cost_part *cur, size_t n, const char *suffix)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(cur[i].suffix, suffix) == 0)
			return cur[i].usd_per_hour;
	return 0;
}

/* The workspace's resources: a row each, or a row per part (compute,
 * public IPv4, root volume) where a record has several. */
static cJSON *
resource_rows(struct stack *st, double now, struct tally *t)
{
	size_t n;
	struct stack_role_rec *k = stack_records(st, 0, &n);
	cJSON *rows = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++) {
		cJSON *rec = k[i].rec;
		struct stack_spent sp;
		struct stack_cost_part cur[STACK_COST_PARTS];
		double h = stack_rec_hourly(&st->prices, rec);
		double c = stack_rec_spent(&st->prices, rec, now, &sp);
		const char *state = stack_attr(rec, "state");
		size_t nc;

		if (h == 0 && c == 0)
			continue;	/* free resources: VPC, subnets … */
		tally_add(t, h, c);
		if (sp.n <= 1) {
			const char *ty = stack_attr(rec, "instance_type");
			cJSON_AddItemToArray(rows, row(k[i].role, "", ty ? ty :
			    sp.n == 1 ? sp.parts[0].what :
			    stack_attr(rec, "type"), state, h, c, &sp));
			continue;
		}
		nc = stack_rec_parts(&st->prices, rec, cur);
		for (size_t j = 0; j < sp.n; j++)
			cJSON_AddItemToArray(rows, row(k[i].role,
			    sp.parts[j].suffix, sp.parts[j].what, state,
			    part_rate(cur, nc, sp.parts[j].suffix),
			    sp.parts[j].usd, &sp));
	}
	free(k);
	return rows;
}

/* What resources removed since the last complete `down` cost (the
 * ledger: an interrupted down loses nothing). */
static cJSON *
removed_rows(struct stack *st, struct tally *t)
{
	cJSON *rows = cJSON_CreateArray(), *e, *o;

	cJSON_ArrayForEach(e, stack_ledger_removed(st)) {
		const cJSON *u = cJSON_GetObjectItemCaseSensitive(e, "usd");
		const char *role = stack_attr(e, "role"), *what = stack_attr(e,
		    "what"), *id = stack_attr(e, "id");
		double c = cJSON_IsNumber(u) ? u->valuedouble : -1;
		struct stack_spent sp;

		memset(&sp, 0, sizeof sp);
		sp.all_h = cJSON_GetNumberValue(
		    cJSON_GetObjectItemCaseSensitive(e, "running_h"));
		sp.storage_h = cJSON_GetNumberValue(
		    cJSON_GetObjectItemCaseSensitive(e, "stopped_h"));
		tally_add(t, 0, c);
		o = row(role ? role : "-", "", what ? what : "-", "removed", 0,
		    c, &sp);
		cJSON_AddStringToObject(o, "id", id ? id : "-");
		cJSON_AddItemToArray(rows, o);
	}
	return rows;
}

/* Everything as data: {"resources", "removed", "not_metered", "total",
 * "prices"}, numbers as numbers. */
static cJSON *
cost_data(struct stack *st)
{
	struct tally t = { 0, 0, 0 };
	double now = stack_now();
	cJSON *o = cJSON_CreateObject(), *x;

	cJSON_AddItemToObject(o, "resources", resource_rows(st, now, &t));
	cJSON_AddItemToObject(o, "removed", removed_rows(st, &t));
	x = cJSON_AddArrayToObject(o, "not_metered");
	if (stack_id(st, "nat") != NULL) {
		/* What the NAT gateway costs per GB it carries. */
		cJSON *n = cJSON_CreateObject();
		cJSON_AddStringToObject(n, "role", "nat/data");
		cJSON_AddStringToObject(n, "type", "NAT data processing");
		json_add_usd(n, "usd_per_gb", stack_price(&st->prices, "nat-gb"));
		cJSON_AddItemToArray(x, n);
	}
	x = cJSON_AddObjectToObject(o, "total");
	json_add_usd(x, "usd_per_hour", t.hourly);
	json_add_usd(x, "accrued_usd", t.accrued);
	cJSON_AddBoolToObject(x, "some_prices_unknown", t.unknown);
	x = cJSON_AddObjectToObject(o, "forecast");
	json_add_usd(x, "usd_per_hour", t.hourly);
	json_add_usd(x, "usd_per_day", t.hourly * 24);
	x = stack_budget_json(&st->prices, st->state->root, now);
	cJSON_AddItemToObject(o, "budget", x ? x : cJSON_CreateNull());
	x = cJSON_AddObjectToObject(o, "prices");
	cJSON_AddStringToObject(x, "region", st->prices.region ?
	    st->prices.region : "-");
	cJSON_AddStringToObject(x, "as_of", stack_prices_date(&st->prices));
	cJSON_AddBoolToObject(x, "overridden", st->prices.config != NULL ||
	    st->prices.file != NULL);
	return o;
}

/* The table a person reads: money as text, the total as the last row. */
static cJSON *
cost_table(const cJSON *d)
{
	const char *const parts[] = { "resources", "removed", NULL };
	const cJSON *r, *tot = cJSON_GetObjectItemCaseSensitive(d, "total");
	int unknown = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(tot,
	    "some_prices_unknown"));
	cJSON *rows = cJSON_CreateArray(), *o;
	char *s;

	for (size_t i = 0; parts[i] != NULL; i++)
		cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(d,
		    parts[i])) {
			const cJSON *h = cJSON_GetObjectItemCaseSensitive(r,
			    "usd_per_hour");
			const cJSON *c = cJSON_GetObjectItemCaseSensitive(r,
			    "accrued_usd");
			o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "role", stack_attr(r, "role"));
			cJSON_AddStringToObject(o, "type", stack_attr(r, "type"));
			cJSON_AddStringToObject(o, "state", stack_attr(r, "state"));
			s = money(cJSON_IsNumber(h) ? h->valuedouble : -1, 1);
			cJSON_AddStringToObject(o, "usd_per_hour", s);
			free(s);
			s = money(cJSON_IsNumber(c) ? c->valuedouble : -1, 0);
			cJSON_AddStringToObject(o, "accrued", s);
			free(s);
			s = xasprintf("%.1fh / %.1fh", cJSON_GetNumberValue(
			    cJSON_GetObjectItemCaseSensitive(r, "running_h")),
			    cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
			    r, "stopped_h")));
			cJSON_AddStringToObject(o, "running/stopped", s);
			free(s);
			cJSON_AddItemToArray(rows, o);
		}
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(d,
	    "not_metered")) {
		const cJSON *g = cJSON_GetObjectItemCaseSensitive(r, "usd_per_gb");
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "role", stack_attr(r, "role"));
		cJSON_AddStringToObject(o, "type", "NAT data processing (not "
		    "metered: add it per GB)");
		cJSON_AddStringToObject(o, "state", "");
		s = cJSON_IsNumber(g) ? xasprintf("$%.3f/GB", g->valuedouble) :
		    xstrdup("unknown");
		cJSON_AddStringToObject(o, "usd_per_hour", s);
		free(s);
		cJSON_AddStringToObject(o, "accrued", "not metered");
		cJSON_AddStringToObject(o, "running/stopped", "");
		cJSON_AddItemToArray(rows, o);
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "role", "total");
	cJSON_AddStringToObject(o, "type", unknown ? "(some prices unknown)" :
	    "");
	cJSON_AddStringToObject(o, "state", "");
	s = xasprintf("%s$%.4f", unknown ? ">=" : "", cJSON_GetNumberValue(
	    cJSON_GetObjectItemCaseSensitive(tot, "usd_per_hour")));
	cJSON_AddStringToObject(o, "usd_per_hour", s);
	free(s);
	s = xasprintf("%s$%.2f", unknown ? ">=" : "", cJSON_GetNumberValue(
	    cJSON_GetObjectItemCaseSensitive(tot, "accrued_usd")));
	cJSON_AddStringToObject(o, "accrued", s);
	free(s);
	cJSON_AddStringToObject(o, "running/stopped", "");
	cJSON_AddItemToArray(rows, o);
	return rows;
}

static double
num(const cJSON *o, const char *key)
{
	return cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* At today's rate: a day's cost, and how long the budget lasts. */
static void
forecast_lines(const cJSON *d)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(d, "budget");
	double rate = num(cJSON_GetObjectItemCaseSensitive(d, "forecast"),
	    "usd_per_hour");

	if (rate > 0)
		fprintf(stderr, "cost: at today's rate ($%.4g/h): $%.2f a day\n",
		    rate, rate * 24);
	if (!cJSON_IsObject(b))
		return;
	fprintf(stderr, "cost: budget $%.2f: $%.2f spent (%.0f%%), $%.2f left",
	    num(b, "usd"), num(b, "spent_usd"), num(b, "percent"),
	    num(b, "left_usd"));
	if (num(b, "left_usd") <= 0)
		fputs(": over budget (new starts need --over-budget)", stderr);
	else if (rate > 0)
		fprintf(stderr, ": %.1f h at today's rate", num(b,
		    "hours_left"));
	fputc('\n', stderr);
}

static int
cost_exec(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct stack st;
	cJSON *d;

	if (cmd_opt_bool(a, "prices")) {
		cJSON *t = stack_prices_table(stackcmd_prices(ctx)), *r;
		const char *date = stack_prices_date(stackcmd_prices(ctx));
		cJSON_ArrayForEach(r, t)
			cJSON_AddStringToObject(r, "as_of", date);
		if (cJSON_GetArraySize(t) == 0 && !a->json)
			fprintf(stderr, "cost: no built-in prices for %s; set "
			    "them in ~/.mlshrc (prices = {...})\n",
			    shell_region(ctx));
		*result = t;
		return 0;
	}
	if (stack_open(ctx, a, &st) != 0)
		return 1;
	d = cost_data(&st);
	if (shell_wants_data(ctx, a->json))
		*result = d;
	else {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(d, "prices");
		*result = cost_table(d);
		fprintf(stderr, "cost: on-demand prices for %s as of %s%s; "
		    "accrued from the states mlsh saw (stopped: storage "
		    "only)\n", stack_attr(p, "region"), stack_attr(p, "as_of"),
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p,
		    "overridden")) ? ", with your overrides" : "");
		forecast_lines(d);
		cJSON_Delete(d);
	}
	stack_close(&st);
	return 0;
}

static const struct mlsh_opt cost_opts[] = {
	{ "prices", 'p', OPT_BOOL, NULL, NULL,
	    "show the price table for the region, with its date" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

const struct mlsh_cmd cmd_cost_entry = {
	.name = "cost",
	.summary = "hourly rate and what the workspace really cost",
	.help = "Accrued cost comes from the states mlsh saw each resource "
	    "in, not from its age: a running instance costs its type, its "
	    "public IPv4 address and its root volume; a stopped one only its "
	    "root volume (EBS per GB-month), so a restart does not charge the "
	    "stopped time; a terminated one nothing. Changes mlsh makes (stop, "
	    "start, down) are dated when it makes them, others when "
	    "`status --refresh` sees them, from the instance's LaunchTime and "
	    "StateTransitionReason. What removed resources cost is kept "
	    "(rows \"removed\") until a `down` leaves the workspace empty, so "
	    "an interrupted `down` run again reports the whole cost. "
	    "Prices: built-in on-demand tables for us-east-1 (as of 2022-01), "
	    "us-west-2 and eu-west-1 (as of 2024-06), shown with their date; "
	    "overridden by a Lua table `prices` in ~/.mlshrc (prices = "
	    "{[\"t3.nano\"] = 0.006}, or per region prices = {[\"eu-west-1\"] "
	    "= {[\"p3.2xlarge\"] = 3.4}}) or by $XDG_STATE_HOME/mlsh/prices.json "
	    "({\"us-east-1\": {...}}). A price not known shows unknown, never "
	    "$0. EFS storage is priced per GB-month on its current size. "
	    "Public IPv4 addresses ($0.005/h each since February 2024) and "
	    "root volumes have rows of their own; the NAT gateway's per-GB "
	    "data processing is shown but not metered. --json (and Lua) give "
	    "{resources, removed, not_metered, total, prices} with numbers.",
	.opts = cost_opts,
	.min_args = 0,
	.max_args = 0,
	.exec = cost_exec,
	.flags = CMD_NO_HISTORY | CMD_READONLY,
};

/* The prompt shows the workspace's running cost, from the state, and
 * with a budget what is spent of it ("$13.17/h $41.20/$50"). */
static char *
cost_prompt(struct mlsh_ctx *ctx)
{
	cJSON *b = stackcmd_budget(ctx);
	char *s;

	if (b == NULL)
		return xasprintf("$%.2f/h", stackcmd_hourly_rate(ctx));
	s = xasprintf("$%.2f/h $%.2f/$%.4g", stackcmd_hourly_rate(ctx),
	    num(b, "spent_usd"), num(b, "usd"));
	cJSON_Delete(b);
	return s;
}

extern const struct mlsh_service svc_cost;

/* The budget warnings said in this session: 1 at 80 %, 2 when spent
 * (each once per workspace until it switches). */
struct budget_said {
	int level;
};

static void
cost_tick(struct mlsh_ctx *ctx)
{
	void **slot = shell_service_slot(ctx, &svc_cost);
	struct budget_said *said = *slot;
	cJSON *b = stackcmd_budget(ctx);
	double pct;
	int level;

	if (b == NULL)
		return;
	pct = num(b, "percent");
	level = pct >= 100 ? 2 : pct >= 80 ? 1 : 0;
	if (said == NULL)
		*slot = said = xcalloc(1, sizeof *said);
	if (level > said->level)
		fprintf(stderr, "budget: workspace '%s' has spent $%.2f of "
		    "its $%.2f (%.0f%%)%s\n", ctx->workspace ? ctx->workspace :
		    "default", num(b, "spent_usd"), num(b, "usd"), pct,
		    level == 2 ? ": new starts need --over-budget" : "");
	said->level = level;
	cJSON_Delete(b);
}

static void
cost_reset(struct mlsh_ctx *ctx)
{
	void **slot = shell_service_slot(ctx, &svc_cost);

	free(*slot);
	*slot = NULL;
}

const struct mlsh_service svc_cost = {
	.name = "cost",
	.tick = cost_tick,
	.reset = cost_reset,
	.prompt = cost_prompt,
	.free = cost_reset,
};
