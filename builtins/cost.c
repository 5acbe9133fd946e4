/* cost: what the workspace costs per hour now and has cost so far, per
 * resource and in total, from the price table (built in per region with its
 * date, overridable in config). An unknown price shows "unknown", never $0.
 * `cost --prices` shows the table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "builtins/stackcmd.h"

static char *
money(double v, int hourly)
{
	if (v < 0)
		return xstrdup("unknown");
	return hourly ? xasprintf("$%.4f", v) : xasprintf("$%.2f", v);
}

/* One row: role[/suffix], what, $/h and accrued. */
static void
add_row(cJSON *rows, const char *role, const char *suffix, const char *what,
    double h, double c)
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
	s = money(h, 1);
	cJSON_AddStringToObject(o, "usd_per_hour", s);
	free(s);
	s = money(c, 0);
	cJSON_AddStringToObject(o, "accrued", s);
	free(s);
	cJSON_AddItemToArray(rows, o);
}

static int
cost_exec(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct stack st;
	struct strlist roles;
	cJSON *rows;
	double hourly = 0, accrued = 0;
	int unknown = 0;
	char *s;

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
	rows = cJSON_CreateArray();
	strlist_init(&roles);
	stack_roles(&st, 0, &roles);
	for (size_t i = 0; i < roles.n; i++) {
		cJSON *rec = stack_rec(&st, roles.v[i]);
		struct stack_cost_part parts[STACK_COST_PARTS];
		double h = stack_rec_hourly(&st.prices, rec);
		double c = stack_rec_accrued(&st.prices, rec);
		size_t np;
		if (h == 0 && c <= 0)
			continue;	/* free resources: VPC, subnets … */
		np = stack_rec_parts(&st.prices, rec, parts);
		if (np <= 1 || h < 0 || c < 0 || stack_type_find(stack_attr(
		    rec, "type")) == NULL || stack_type_find(stack_attr(rec,
		    "type"))->price != NULL) {
			/* One row: a single price, or its own price function
			 * (EFS by size). */
			const char *ty = stack_attr(rec, "instance_type");
			if (np == 1 && ty == NULL)
				ty = parts[0].what;
			add_row(rows, roles.v[i], "", ty ? ty :
			    stack_attr(rec, "type"), h, c);
		} else {
			/* A row per part, the accrued cost shared out at the
			 * parts' current rates. */
			for (size_t k = 0; k < np; k++)
				add_row(rows, roles.v[i], parts[k].suffix,
				    parts[k].what, parts[k].usd_per_hour,
				    h > 0 ? c * parts[k].usd_per_hour / h : 0);
		}
		if (h < 0 || c < 0)
			unknown = 1;
		else {
			hourly += h;
			accrued += c;
		}
	}
	strlist_release(&roles);
	/* What the NAT gateway costs per GB it carries: not metered here. */
	if (stack_id(&st, "nat") != NULL) {
		double gb = stack_price(&st.prices, "nat-gb");
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "role", "nat/data");
		cJSON_AddStringToObject(o, "type", "NAT data processing "
		    "(not metered: add it per GB)");
		s = gb < 0 ? xstrdup("unknown") : xasprintf("$%.3f/GB", gb);
		cJSON_AddStringToObject(o, "usd_per_hour", s);
		free(s);
		cJSON_AddStringToObject(o, "accrued", "not metered");
		cJSON_AddItemToArray(rows, o);
	}
	{
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "role", "total");
		cJSON_AddStringToObject(o, "type", unknown ?
		    "(some prices unknown)" : "");
		s = xasprintf("%s$%.4f", unknown ? ">=" : "", hourly);
		cJSON_AddStringToObject(o, "usd_per_hour", s);
		free(s);
		s = xasprintf("%s$%.2f", unknown ? ">=" : "", accrued);
		cJSON_AddStringToObject(o, "accrued", s);
		free(s);
		cJSON_AddItemToArray(rows, o);
	}
	stack_close(&st);
	*result = rows;
	return 0;
}

static const struct mlsh_opt cost_opts[] = {
	{ "prices", 'p', OPT_BOOL, NULL, NULL,
	    "show the price table for the region, with its date" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

const struct mlsh_cmd cmd_cost_entry = {
	.name = "cost",
	.summary = "hourly rate and accrued cost of the workspace",
	.help = "Prices: a built-in on-demand table per region (with its "
	    "date), overridden by a Lua table `prices` in ~/.mlshrc "
	    "(prices = {[\"t3.nano\"] = 0.006}) or by "
	    "$XDG_STATE_HOME/mlsh/prices.json ({\"us-east-1\": {...}}). "
	    "EFS storage is priced per GB-month on its current size. Public "
	    "IPv4 addresses ($0.005/h each since February 2024: the jump "
	    "host's and the NAT gateway's Elastic IP) and the instances' root "
	    "volumes (EBS per GB-month) have rows of their own; the NAT "
	    "gateway's $0.045/GB data processing is shown but not metered.",
	.opts = cost_opts,
	.min_args = 0,
	.max_args = 0,
	.exec = cost_exec,
	.flags = CMD_NO_HISTORY | CMD_READONLY,
};

/* The prompt shows the workspace's running cost, from the state. */
static char *
cost_prompt(struct mlsh_ctx *ctx)
{
	return xasprintf("$%.2f/h", stackcmd_hourly_rate(ctx));
}

const struct mlsh_service svc_cost = {
	.name = "cost",
	.prompt = cost_prompt,
};
