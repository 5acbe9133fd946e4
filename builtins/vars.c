/* set, unset, vars: mlsh variables (expanded as $NAME before the
 * environment) and the shell's settings (trace). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "shell/shell.h"
#include "lib/state.h"
#include "stack/stack.h"
#include "builtins/stackcmd.h"

/* Settings are variables the shell itself reads. */
static const char *const on_off[] = { "on", "off", NULL };
static const struct {
	const char *name;
	const char *const *values;
	const char *help;
} settings[] = {
	{ "trace", on_off, "print each AWS request (secrets redacted)" },
	{ "errexit", on_off, "a failed command stops the script or -c list "
	    "(on there; off at the prompt)" },
	{ "budget", NULL, "what the workspace may cost in all, USD (kept in "
	    "its state; off removes it)" },
	{ NULL, NULL, NULL }
};

static int
setting_find(const char *name)
{
	for (int i = 0; settings[i].name != NULL; i++)
		if (strcmp(settings[i].name, name) == 0)
			return i;
	return -1;
}

/* What a setting changes in the session. */
static void
setting_apply(struct mlsh_ctx *ctx, const char *name, int on)
{
	if (strcmp(name, "trace") == 0)
		ctx->trace = on;
	else if (strcmp(name, "errexit") == 0) {
		ctx->errexit = on;
		ctx->errexit_off = !on;
	}
}

/* A setting's value in the session (1 on, 0 off), -1 for none. */
static int
setting_value(struct mlsh_ctx *ctx, const char *name)
{
	if (strcmp(name, "trace") == 0)
		return ctx->trace;
	if (strcmp(name, "errexit") == 0)
		return ctx->errexit;
	return -1;
}

static void
var_complete(struct mlsh_ctx *ctx, const struct cmd_args *a, const char *opt,
    int argi, const char *prefix, struct strlist *out)
{
	(void)opt;
	if (argi == 0 || strcmp(a->builtin->name, "unset") == 0) {
		for (size_t i = 0; i < ctx->nvars; i++)
			if (str_startswith(ctx->vars[i].name, prefix))
				strlist_add(out, ctx->vars[i].name);
		for (int i = 0; settings[i].name; i++)
			if (argi == 0 && str_startswith(settings[i].name, prefix))
				strlist_add(out, settings[i].name);
	}
}

#define BUDGET_MAX	1e7

/* set budget USD|off: kept in the workspace's state, not the session. */
static int
budget_set(struct mlsh_ctx *ctx, struct cmd_args *a, const char *value)
{
	struct stack st;
	double usd = 0, spent;
	char *end = NULL;
	int unknown = 0, rc;

	if (strcmp(value, "off") != 0) {
		usd = strtod(value, &end);
		if (end == value || *end != '\0' || !isfinite(usd) ||
		    usd <= 0 || usd > BUDGET_MAX)
			return cmd_usage_error(ctx, a, "budget must be an "
			    "amount in USD above 0 and at most %.0f, or off; "
			    "not '%s'", BUDGET_MAX, value);
	}
	if (stack_open(ctx, a, &st) != 0)
		return 1;
	stack_budget_set(st.state->root, usd);
	rc = stack_save(&st) != 0;
	spent = stack_spent_total(&st.prices, st.state->root, stack_now(),
	    &unknown);
	if (rc == 0 && usd > 0)
		fprintf(stderr, "budget: workspace '%s': $%.2f, $%.2f spent "
		    "so far%s\n", st.ws, usd, spent, unknown ?
		    " (some prices unknown)" : "");
	else if (rc == 0)
		fprintf(stderr, "budget: workspace '%s' has none\n", st.ws);
	stack_close(&st);
	return rc;
}

/* The budget as vars shows it: "50" or "". */
static char *
budget_text(struct mlsh_ctx *ctx)
{
	cJSON *b = stackcmd_budget(ctx);
	char *s = b ? xasprintf("%.4g", cJSON_GetNumberValue(
	    cJSON_GetObjectItemCaseSensitive(b, "usd"))) : xstrdup("");

	cJSON_Delete(b);
	return s;
}

static int
set_exec(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	const char *name = a->argv[0], *value = a->argv[1];
	int s;

	(void)result;
	if (!shell_var_name_ok(name))
		return cmd_usage_error(ctx, a, "bad variable name '%s'", name);
	if (strcmp(name, "budget") == 0)
		return budget_set(ctx, a, value);
	if ((s = setting_find(name)) >= 0) {
		int ok = 0;
		for (size_t i = 0; settings[s].values[i]; i++)
			if (strcmp(settings[s].values[i], value) == 0)
				ok = 1;
		if (!ok)
			return cmd_usage_error(ctx, a, "%s must be on or off, "
			    "not '%s'", name, value);
		setting_apply(ctx, name, strcmp(value, "on") == 0);
	}
	shell_var_set(ctx, name, value);
	return 0;
}

static int
unset_exec(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	int missing = 0;

	(void)result;
	for (int i = 0; i < a->argc; i++) {
		if (strcmp(a->argv[i], "budget") == 0) {
			missing |= budget_set(ctx, a, "off");
			continue;
		}
		if (setting_find(a->argv[i]) >= 0)
			setting_apply(ctx, a->argv[i], 0);
		if (shell_var_unset(ctx, a->argv[i]) != 0 &&
		    setting_find(a->argv[i]) < 0) {
			cmd_error(ctx, "no variable '%s'", a->argv[i]);
			missing = 1;
		}
	}
	return missing;
}

static int
vars_exec(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	cJSON *arr = cJSON_CreateArray();

	(void)a;
	for (int i = 0; settings[i].name; i++) {
		cJSON *o = cJSON_CreateObject();
		const char *v = shell_var_get_local(ctx, settings[i].name);
		int on = setting_value(ctx, settings[i].name);

		cJSON_AddStringToObject(o, "name", settings[i].name);
		if (strcmp(settings[i].name, "budget") == 0) {
			char *t = budget_text(ctx);
			cJSON_AddStringToObject(o, "value", t);
			free(t);
		} else
			cJSON_AddStringToObject(o, "value", on < 0 ? (v ? v :
			    "") : on ? "on" : "off");
		cJSON_AddStringToObject(o, "kind", "setting");
		cJSON_AddItemToArray(arr, o);
	}
	for (size_t i = 0; i < ctx->nvars; i++) {
		cJSON *o;
		if (setting_find(ctx->vars[i].name) >= 0)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", ctx->vars[i].name);
		cJSON_AddStringToObject(o, "value", ctx->vars[i].value);
		cJSON_AddStringToObject(o, "kind", "variable");
		cJSON_AddItemToArray(arr, o);
	}
	*result = arr;
	return 0;
}

const struct mlsh_cmd cmd_set_entry = {
	.name = "set",
	.summary = "set an mlsh variable or a setting (set trace on)",
	.args_usage = "NAME VALUE",
	.help = "Variables expand as $NAME or ${NAME}, before environment "
	    "variables of the same name. Settings: trace on|off; errexit "
	    "on|off (on in scripts and -c lists: a failed command stops the "
	    "rest; off at the prompt and on standard input; set off, a "
	    "builtin called from Lua prints its error and returns nil, err); "
	    "budget USD|off (per workspace, kept in its state: what it may "
	    "cost in all, removed resources included; the prompt shows "
	    "spent/budget, a warning comes at 80 %, and past it vpc, efs, "
	    "node, notebook and grafana up refuse to start anything without "
	    "--over-budget; cost shows the forecast).",
	.min_args = 2,
	.max_args = 2,
	.complete = var_complete,
	.exec = set_exec,
};

const struct mlsh_cmd cmd_unset_entry = {
	.name = "unset",
	.summary = "remove mlsh variables",
	.args_usage = "NAME…",
	.min_args = 1,
	.max_args = -1,
	.complete = var_complete,
	.exec = unset_exec,
};

const struct mlsh_cmd cmd_vars_entry = {
	.name = "vars",
	.summary = "list mlsh variables and settings",
	.min_args = 0,
	.max_args = 0,
	.exec = vars_exec,
	.flags = CMD_NO_HISTORY,
};
