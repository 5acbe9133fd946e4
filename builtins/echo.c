/* echo: print words (after quoting and $VAR expansion).
 *
 * Printing is echo's effect, not its result, so it prints from Lua too
 * (echo("x") in a replayed session prints as the session did). */
#include <stdio.h>
#include "shell/shell.h"

static int
echo_exec(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct buf b;

	(void)ctx;
	(void)result;
	buf_init(&b);
	for (int i = 0; i < a->argc; i++)
		buf_printf(&b, "%s%s", i ? " " : "", a->argv[i]);
	if (a->json) {
		cJSON *s = cJSON_CreateString(b.data);
		char *t = cJSON_PrintUnformatted(s);
		printf("%s\n", t);
		cJSON_free(t);
		cJSON_Delete(s);
	} else
		printf("%s\n", b.data);
	fflush(stdout);
	buf_release(&b);
	return 0;
}

const struct mlsh_cmd cmd_echo_entry = {
	.name = "echo",
	.summary = "print the arguments, separated by blanks",
	.args_usage = "[WORD…]",
	.min_args = 0,
	.max_args = -1,
	.exec = echo_exec,
};
