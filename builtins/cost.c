/* cost: what the workspace costs per hour now and has cost so far, per
 * resource and in total, from the price table (built in per region with its
 * date, overridable in config). An unknown price shows "unknown", never $0.
 * `cost --prices` shows the table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "stack.h"

static char *
money(double v, int hourly)
{
	if (v < 0)
		return xstrdup("unknown");
	return hourly ? xasprintf("$%.4f", v) : xasprintf("$%.2f", v);
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
		cJSON *t = stack_prices_table(ctx), *r;
		const char *date = stack_prices_date(ctx);
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
		cJSON *rec = stack_rec(&st, roles.v[i]), *o;
		double h = stack_rec_hourly(ctx, rec);
		double c = stack_rec_accrued(ctx, rec);
		const char *ty = stack_attr(rec, "instance_type");
		if (h == 0 && c <= 0)
			continue;	/* free resources: VPC, subnets … */
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "role", roles.v[i]);
		cJSON_AddStringToObject(o, "type", ty ? ty :
		    stack_attr(rec, "type"));
		s = money(h, 1);
		cJSON_AddStringToObject(o, "usd_per_hour", s);
		free(s);
		s = money(c, 0);
		cJSON_AddStringToObject(o, "accrued", s);
		free(s);
		cJSON_AddItemToArray(rows, o);
		if (h < 0 || c < 0)
			unknown = 1;
		else {
			hourly += h;
			accrued += c;
		}
	}
	strlist_release(&roles);
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
	    "EFS storage is priced per GB-month on its current size.",
	.opts = cost_opts,
	.min_args = 0,
	.max_args = 0,
	.exec = cost_exec,
	.flags = CMD_NO_HISTORY,
};
