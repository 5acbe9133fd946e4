/* help: the builtins and their usage, straight from the table. */
#include <stdlib.h>
#include <string.h>
#include "shell/shell.h"

static void
help_complete(struct mlsh_ctx *ctx, const struct cmd_args *a, const char *opt,
    int argi, const char *prefix, struct strlist *out)
{
	(void)ctx;
	(void)opt;
	if (argi == 0) {
		for (size_t i = 0; mlsh_builtins[i] != NULL; i++)
			if (str_startswith(mlsh_builtins[i]->name, prefix))
				strlist_add(out, mlsh_builtins[i]->name);
	}
	(void)a;
}

static int
help_exec(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	const struct mlsh_cmd *c, *s = NULL;
	char *cause = NULL;

	if (a->argc == 0) {
		cJSON *arr = cJSON_CreateArray();
		for (size_t i = 0; mlsh_builtins[i] != NULL; i++) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "command",
			    mlsh_builtins[i]->name);
			cJSON_AddStringToObject(o, "summary",
			    mlsh_builtins[i]->summary);
			cJSON_AddItemToArray(arr, o);
		}
		*result = arr;
		return 0;
	}
	if ((c = cmd_find(a->argv[0], &cause)) == NULL) {
		cmd_error(ctx, "%s", cause);
		free(cause);
		return 1;
	}
	if (a->argc == 2 && (s = cmd_find_sub(c, a->argv[1])) == NULL)
		return cmd_error(ctx, "%s has no subcommand '%s'", c->name,
		    a->argv[1]);
	if (a->json)
		*result = cmd_help_json(s ? c : NULL, s ? s : c);
	else {
		char *t = cmd_help_text(s ? c : NULL, s ? s : c);
		*result = cJSON_CreateString(t);
		free(t);
	}
	return 0;
}

const struct mlsh_cmd cmd_help_entry = {
	.name = "help",
	.aliases = (const char *const[]){ "?", NULL },
	.summary = "list the commands, or show one command's usage",
	.args_usage = "[COMMAND [SUBCOMMAND]]",
	.help = "Every command also takes -h. `help` lists the builtins; "
	    "`help CMD` shows its usage, options and subcommands.",
	.min_args = 0,
	.max_args = 2,
	.complete = help_complete,
	.exec = help_exec,
	.flags = CMD_NO_HISTORY,
};
