/* exit: leave the shell (or end a script) with a status. Leaving the
 * REPL (exit, quit, Ctrl-D) while the workspace still costs money lists
 * what runs and its $/h first: no question, a reminder. */
#include <stdio.h>
#include <stdlib.h>
#include "builtins/stackcmd.h"

static int
exit_exec(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	(void)result;
	if (a->argc == 1) {
		char *end;
		long v = strtol(a->argv[0], &end, 10);
		if (*a->argv[0] == '\0' || *end != '\0' || v < 0 || v > 255)
			return cmd_usage_error(ctx, a, "status must be 0-255, "
			    "not '%s'", a->argv[0]);
		ctx->exit_status = (int)v;
	} else
		ctx->exit_status = ctx->last_status;
	ctx->exit_requested = 1;
	if (ctx->interactive && ctx->lua_depth == 0) {
		char *running = stackcmd_running(ctx);
		if (running != NULL) {
			fflush(stdout);
			fputs(running, stderr);
			free(running);
		}
	}
	return 0;
}

const struct mlsh_cmd cmd_exit_entry = {
	.name = "exit",
	.aliases = (const char *const[]){ "quit", NULL },
	.summary = "leave mlsh (or end a script) with a status",
	.args_usage = "[STATUS]",
	.min_args = 0,
	.max_args = 1,
	.exec = exit_exec,
	.flags = CMD_NO_HISTORY,
};
