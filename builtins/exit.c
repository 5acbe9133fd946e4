/* exit: leave the shell (or end a script) with a status. */
#include <stdlib.h>
#include "shell/shell.h"

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
