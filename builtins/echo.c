/* echo: print words (after quoting and $VAR expansion). */
#include "shell.h"

static int
echo_exec(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct buf b;

	(void)ctx;
	buf_init(&b);
	for (int i = 0; i < a->argc; i++)
		buf_printf(&b, "%s%s", i ? " " : "", a->argv[i]);
	if (b.len == 0)
		buf_addc(&b, '\n');	/* an empty line, as sh's echo */
	*result = cJSON_CreateString(b.data);
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
