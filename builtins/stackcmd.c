/* stackcmd.c: a command's context and arguments as the stack engine's env,
 * opts and ui (see stackcmd.h). */
#include "builtins/stackcmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lua.h>
#include "builtins/target.h"
#include "lib/state.h"
#include "shell/ui.h"

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

/* --- the ui --- */

static void
ui_error(void *arg, const char *line)
{
	cmd_error(arg, "%s", line);
}

static void
ui_warn(void *arg, const char *line)
{
	shell_warn(arg, "%s", line);
}

static void
ui_note(void *arg, const char *line)
{
	(void)arg;
	fflush(stdout);
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
}

/* Plain lines in logs at most every 10 s. */
static void
ui_progress(void *arg, int done, const char *line)
{
	(void)arg;
	if (!done)
		ui_status(10000, "%s", line);
	else if (line != NULL)
		ui_status_done("%s", line);
	else
		ui_status_done(NULL);
}

static int
ui_ask(void *arg, const char *question)
{
	if (!ui_can_ask(arg))
		return -1;
	return ui_confirm("%s", question);
}

/* Its host key pins go with an instance (by instance id: another workspace
 * may have a host at the same address). */
static void
instance_gone(void *arg, const char *id)
{
	target_forget_instance(arg, id);
}

int
stack_open(struct mlsh_ctx *ctx, const struct cmd_args *a, struct stack *st)
{
	const char *seq = getenv("MLSH_SEQUENTIAL");
	struct stack_env env;
	struct stack_opts opts;
	struct stack_ui ui = {
		.arg = ctx, .error = ui_error, .warn = ui_warn,
		.note = ui_note, .progress = ui_progress, .confirm = ui_ask,
	};
	char *cause = NULL;

	memset(st, 0, sizeof *st);
	memset(&env, 0, sizeof env);
	if ((env.state = shell_state(ctx, &cause)) == NULL) {
		cmd_error(ctx, "%s", cause);
		free(cause);
		return -1;
	}
	env.aws = shell_aws(ctx);
	env.region = aws_client_region(env.aws);
	env.prices = *stackcmd_prices(ctx);
	env.instance_gone = instance_gone;
	env.arg = ctx;
	opts.dry_run = has_opt(a, "dry-run");
	opts.yes = has_opt(a, "yes");
	opts.force = has_opt(a, "force");
	opts.sequential = seq != NULL && *seq != '\0' && strcmp(seq, "0") != 0;
	opts.json = ctx->json;
	if (a != NULL && a->builtin != NULL) {
		ui.cmd = a->builtin->name;
		if (a->cmd != NULL && a->cmd != a->builtin)
			ui.sub = a->cmd->name;
	}
	stack_begin(st, &env, &opts, &ui);
	st->ctx = ctx;
	return 0;
}

/* --- prices --- */

/* The Lua table at the top of L's stack as {key: number}, and with depth
 * > 0 its tables too ({region: {key: number}}). */
static cJSON *
lua_price_table(lua_State *L, int depth)
{
	cJSON *o = cJSON_CreateObject();

	lua_pushnil(L);
	while (lua_next(L, -2) != 0) {
		/* lua_type, not lua_isstring: a number key must not be
		 * converted in place under lua_next. */
		if (lua_type(L, -2) == LUA_TSTRING &&
		    lua_type(L, -1) == LUA_TNUMBER)
			cJSON_AddNumberToObject(o, lua_tostring(L, -2),
			    lua_tonumber(L, -1));
		else if (depth > 0 && lua_type(L, -2) == LUA_TSTRING &&
		    lua_type(L, -1) == LUA_TTABLE)
			cJSON_AddItemToObject(o, lua_tostring(L, -2),
			    lua_price_table(L, depth - 1));
		lua_pop(L, 1);
	}
	return o;
}

/* The Lua global `prices` ({key: number}, or per region {region: {key:
 * number}}), or NULL when there is none. */
static cJSON *
lua_prices(struct mlsh_ctx *ctx)
{
	lua_State *L = ctx->L;
	cJSON *o = NULL;
	int top;

	if (L == NULL)
		return NULL;
	top = lua_gettop(L);
	if (lua_getglobal(L, "prices") == LUA_TTABLE)
		o = lua_price_table(L, 1);
	lua_settop(L, top);
	return o;
}

const struct stack_prices *
stackcmd_prices(struct mlsh_ctx *ctx)
{
	static struct stack_prices pr;
	static cJSON *config, *file;
	static int loaded;
	cJSON *now = lua_prices(ctx);

	/* Kept while unchanged: a stack opened earlier points at it. */
	if (now == NULL || config == NULL || !cJSON_Compare(now, config, 1)) {
		cJSON_Delete(config);
		config = now;
	} else
		cJSON_Delete(now);
	if (!loaded) {
		char *p = xasprintf("%s/prices.json", ctx->state_dir);
		char *cause = NULL, *text;

		loaded = 1;
		if ((text = file_read(p, NULL, &cause)) != NULL) {
			file = cJSON_Parse(text);
			free(text);
		}
		free(cause);
		free(p);
	}
	pr.region = shell_region(ctx);
	pr.config = config;
	pr.file = file;
	return &pr;
}

double
stackcmd_hourly_rate(struct mlsh_ctx *ctx)
{
	cJSON *parsed;
	char *p, *cause = NULL, *text;
	double sum;

	if (ctx->state != NULL)
		return stack_hourly_rate(stackcmd_prices(ctx), ctx->state->root);
	p = xasprintf("%s/%s.json", ctx->state_dir, ctx->workspace ?
	    ctx->workspace : "default");
	text = file_read(p, NULL, &cause);
	free(p);
	free(cause);
	if (text == NULL)
		return 0;
	parsed = cJSON_Parse(text);
	free(text);
	sum = stack_hourly_rate(stackcmd_prices(ctx), parsed);
	cJSON_Delete(parsed);
	return sum;
}
