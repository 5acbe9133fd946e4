/* lua, source: run Lua code in the session's interpreter. */
#include <stdlib.h>
#include "shell/shell.h"

static int
lua_exec(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct buf b;
	int st;

	buf_init(&b);
	for (int i = 0; i < a->argc; i++)
		buf_printf(&b, "%s%s", i ? " " : "", a->argv[i]);
	st = script_run_string(ctx, b.data, "=lua", result);
	buf_release(&b);
	return st;
}

static int
source_exec(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	char *cause = NULL;
	int st;

	(void)result;
	st = script_run_file(ctx, a->argv[0], a->argc - 1, a->argv + 1, &cause);
	if (st != 0 && cause != NULL)
		cmd_error(ctx, "%s", cause);
	else if (st != 0)
		cmd_error(ctx, "%s exited with status %d", a->argv[0], st);
	free(cause);
	return st;
}

const struct mlsh_cmd cmd_lua_entry = {
	.name = "lua",
	.summary = "run a Lua chunk in the session (its value is the result)",
	.args_usage = "CHUNK…",
	.help = "The words are joined with blanks. Builtins are Lua functions: "
	    "lua 'for i=1,3 do set(\"x\"..i, i) end'.",
	.min_args = 1,
	.max_args = -1,
	.exec = lua_exec,
};

const struct mlsh_cmd cmd_source_entry = {
	.name = "source",
	.aliases = (const char *const[]){ ".", NULL },
	.summary = "run a .mlsh (Lua) script in this session",
	.args_usage = "FILE [ARG…]",
	.min_args = 1,
	.max_args = -1,
	.arg_type = OPT_PATH,
	.exec = source_exec,
};
