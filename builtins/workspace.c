/* workspace: one workspace = one stack, with its own locked state file. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "shell/shell.h"
#include "lib/state.h"

static void
ws_complete(struct mlsh_ctx *ctx, const struct cmd_args *a, const char *opt,
    int argi, const char *prefix, struct strlist *out)
{
	struct strlist names;

	(void)a;
	(void)opt;
	if (argi != 0)
		return;
	/* A directory listing of the state dir: local and fast. */
	strlist_init(&names);
	state_list(ctx->state_dir, &names);
	for (size_t i = 0; i < names.n; i++)
		if (str_startswith(names.v[i], prefix))
			strlist_add(out, names.v[i]);
	if (str_startswith(ctx->workspace, prefix))
		strlist_add(out, ctx->workspace);
	strlist_release(&names);
}

static cJSON *
ws_show(struct mlsh_ctx *ctx, struct state *s)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "workspace", ctx->workspace);
	cJSON_AddStringToObject(o, "region", shell_region(ctx));
	cJSON_AddStringToObject(o, "profile", ctx->profile ? ctx->profile :
	    (getenv("AWS_PROFILE") ? getenv("AWS_PROFILE") : "default"));
	cJSON_AddStringToObject(o, "state", s->path);
	cJSON_AddNumberToObject(o, "resources", state_resource_count(s->root));
	return o;
}

static int
ws_exec(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct state *s;
	char *cause = NULL;

	if (a->argc == 1) {
		const char *name = a->argv[0];
		int existed;
		char *p;
		struct stat st;
		if (cmd_find_sub(a->builtin, name) != NULL)
			return cmd_error(ctx, "'%s' is a subcommand, not a "
			    "workspace name", name);
		p = xasprintf("%s/%s.json", ctx->state_dir, name);
		existed = stat(p, &st) == 0;
		free(p);
		if (shell_switch_workspace(ctx, name, &cause) != 0) {
			cmd_error(ctx, "%s", cause);
			free(cause);
			return 1;
		}
		*result = ws_show(ctx, ctx->state);
		cJSON_AddBoolToObject(*result, "created", !existed);
		return 0;
	}
	if ((s = shell_state(ctx, &cause)) == NULL) {
		cmd_error(ctx, "%s", cause);
		free(cause);
		return 1;
	}
	*result = ws_show(ctx, s);
	return 0;
}

static int
ws_ls(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct strlist names;
	cJSON *arr = cJSON_CreateArray();
	int data = shell_wants_data(ctx, a->json);

	strlist_init(&names);
	state_list(ctx->state_dir, &names);
	if (!strlist_has(&names, ctx->workspace)) {
		strlist_add(&names, ctx->workspace);
		strlist_sort(&names);
	}
	for (size_t i = 0; i < names.n; i++) {
		cJSON *o = cJSON_CreateObject(), *root = NULL;
		char *p = xasprintf("%s/%s.json", ctx->state_dir, names.v[i]);
		char *text, *cause = NULL;
		struct stat st;
		int cur = strcmp(names.v[i], ctx->workspace) == 0;

		/* --json and Lua: a boolean, numbers, ISO 8601 UTC, null for
		 * none; the table: "*", "corrupt", local time, "-". */
		if (data)
			cJSON_AddBoolToObject(o, "current", cur);
		else
			cJSON_AddStringToObject(o, "current", cur ? "*" : "");
		cJSON_AddStringToObject(o, "workspace", names.v[i]);
		/* Read without locking: a listing must not block on others. */
		if ((text = file_read(p, NULL, &cause)) != NULL) {
			root = cJSON_Parse(text);
			free(text);
		}
		free(cause);
		if (root != NULL)
			cJSON_AddNumberToObject(o, "resources",
			    state_resource_count(root));
		else if (stat(p, &st) == 0 && data)
			cJSON_AddNullToObject(o, "resources");
		else if (stat(p, &st) == 0)
			cJSON_AddStringToObject(o, "resources", "corrupt");
		else
			cJSON_AddNumberToObject(o, "resources", 0);
		if (data)
			cJSON_AddBoolToObject(o, "corrupt", root == NULL &&
			    stat(p, &st) == 0);
		if (stat(p, &st) == 0) {
			char when[32];
			strftime(when, sizeof when, data ? "%Y-%m-%dT%H:%M:%SZ" :
			    "%Y-%m-%d %H:%M", data ? gmtime(&st.st_mtime) :
			    localtime(&st.st_mtime));
			cJSON_AddStringToObject(o, "modified", when);
		} else if (data)
			cJSON_AddNullToObject(o, "modified");
		else
			cJSON_AddStringToObject(o, "modified", "-");
		cJSON_Delete(root);
		free(p);
		cJSON_AddItemToArray(arr, o);
	}
	strlist_release(&names);
	*result = arr;
	return 0;
}

static int
ws_rm(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	const char *name = a->argv[0];
	char *p, *text, *cause = NULL;
	struct stat st;

	if (!state_name_ok(name))
		return cmd_error(ctx, "bad workspace name '%s'", name);
	if (strcmp(name, ctx->workspace) == 0)
		return cmd_error(ctx, "cannot remove the current workspace "
		    "'%s'; switch to another first", name);
	p = xasprintf("%s/%s.json", ctx->state_dir, name);
	if (stat(p, &st) != 0) {
		free(p);
		return cmd_error(ctx, "no workspace '%s'", name);
	}
	if (!cmd_opt_bool(a, "force") &&
	    (text = file_read(p, NULL, &cause)) != NULL) {
		cJSON *root = cJSON_Parse(text);
		int n = root ? state_resource_count(root) : 0;
		free(text);
		cJSON_Delete(root);
		if (n > 0) {
			free(p);
			return cmd_error(ctx, "workspace '%s' still records %d "
			    "resource%s; run 'down' in it first, or --force to "
			    "forget them", name, n, n == 1 ? "" : "s");
		}
	}
	free(cause);
	free(p);
	if (state_remove(ctx->state_dir, name, &cause) != 0) {
		cmd_error(ctx, "%s", cause);
		free(cause);
		return 1;
	}
	*result = cJSON_CreateObject();
	cJSON_AddStringToObject(*result, "removed", name);
	return 0;
}

static const struct mlsh_opt rm_opts[] = {
	OPT_FORCE("remove even if resources are recorded (they are not deleted)"),
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct mlsh_cmd ws_subcmds[] = {
	{ .name = "ls", .summary = "list workspaces", .min_args = 0,
	    .max_args = 0, .exec = ws_ls,
	    .flags = CMD_NO_HISTORY | CMD_READONLY },
	{ .name = "rm", .summary = "remove a workspace's state",
	    .args_usage = "NAME", .opts = rm_opts, .min_args = 1,
	    .max_args = 1, .complete = ws_complete, .exec = ws_rm },
	{ .name = NULL }
};

const struct mlsh_cmd cmd_workspace_entry = {
	.name = "workspace",
	.aliases = (const char *const[]){ "ws", NULL },
	.summary = "show or switch the workspace (one stack each)",
	.args_usage = "[NAME]",
	.help = "Without NAME, show the current workspace. With NAME, switch "
	    "to it, creating it if new; the choice is remembered for the next "
	    "session. A workspace's state is locked while an mlsh changes it; "
	    "commands that only read it (status, cost, workspace, node ls, "
	    "the status subcommands) work beside that mlsh.",
	.min_args = 0,
	.max_args = 1,
	.subcmds = ws_subcmds,
	.complete = ws_complete,
	.exec = ws_exec,
	.flags = CMD_READONLY,
};
