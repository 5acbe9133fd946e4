/* history: the lines typed at the REPL, and `history save` to turn this
 * session's successful commands into a runnable Lua (.mlsh) script. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "shell/shell.h"

static int
history_exec(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	cJSON *arr = cJSON_CreateArray();
	long long n = cmd_opt_num(a, "count");
	size_t from = 0;

	if (n > 0 && (size_t)n < ctx->history.n)
		from = ctx->history.n - (size_t)n;
	for (size_t i = from; i < ctx->history.n; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "n", (double)(i + 1));
		cJSON_AddStringToObject(o, "command", ctx->history.v[i]);
		cJSON_AddItemToArray(arr, o);
	}
	*result = arr;
	return 0;
}

static int
history_save(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	const char *path = a->argv[0];
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, fd;
	/* A session can hold what it was given on the command line: only the
	 * owner reads it; executable only when asked. */
	mode_t mode = cmd_opt_bool(a, "executable") ? 0700 : 0600;
	FILE *f;

	flags |= cmd_opt_bool(a, "force") ? O_TRUNC : O_EXCL;
	fd = open(path, flags, mode);
	if (fd < 0 && errno == EEXIST)
		return cmd_error(ctx, "'%s' exists; --force overwrites it",
		    path);
	if (fd < 0 && errno == ELOOP)
		return cmd_error(ctx, "'%s' is a symbolic link; give the file "
		    "itself", path);
	/* An overwritten file keeps its old mode unless told. */
	if (fd >= 0 && fchmod(fd, mode) != 0) {
		close(fd);
		return cmd_error(ctx, "cannot set the mode of '%s': %s", path,
		    strerror(errno));
	}
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		if (fd >= 0)
			close(fd);
		return cmd_error(ctx, "cannot write '%s': %s", path,
		    strerror(errno));
	}
	history_write_script(ctx, f, path);
	if (fclose(f) != 0)
		return cmd_error(ctx, "cannot write '%s': %s", path,
		    strerror(errno));
	*result = cJSON_CreateObject();
	cJSON_AddStringToObject(*result, "saved", path);
	cJSON_AddNumberToObject(*result, "commands", (double)ctx->session.n);
	return 0;
}

static const struct mlsh_opt history_opts[] = {
	OPT_NUM("count", 0, "N", "show only the last N lines", 0, CMD_NUM_MAX,
	    0),
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct mlsh_opt save_opts[] = {
	OPT_FORCE("overwrite an existing file"),
	{ "executable", 'x', OPT_BOOL, NULL, NULL,
	    "mode 0700 instead of 0600, to run it as ./FILE" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct mlsh_cmd history_subcmds[] = {
	{ .name = "save",
	    .summary = "write this session's successful commands as a Lua "
		"script",
	    .args_usage = "FILE.mlsh", .opts = save_opts, .min_args = 1,
	    .max_args = 1, .arg_type = OPT_PATH, .exec = history_save,
	    .flags = CMD_NO_HISTORY },
	{ .name = NULL }
};

const struct mlsh_cmd cmd_history_entry = {
	.name = "history",
	.summary = "show the lines typed at the prompt, or save the session "
	    "as a script",
	.help = "History lives in $XDG_STATE_HOME/mlsh/history (mode 0600, "
	    "the last 1000 lines, no consecutive duplicates). `history save "
	    "FILE` writes this session's successful commands as a Lua script "
	    "that reproduces it: its header names the target (the lab, an "
	    "endpoint, or AWS with profile and region) and the line to run it "
	    "with; the workspace is a parameter (the first argument, else -w "
	    "or MLSH_WORKSPACE, else the session's). Ids an earlier command's "
	    "result gave are read from that result on replay (r[N]); an id "
	    "typed that no result gave is flagged in a comment. Dry runs, "
	    "interactive commands (ssh without a command, tunnel, open) and "
	    "read-only ones (status, ls, api Describe/List/Get) are comments, "
	    "unless a later command reads their result; --yes is left out, so "
	    "a replay from a terminal asks before starting what costs (mlsh "
	    "--yes does not). The file is mode 0600 (0700 with --executable); "
	    "$NAME stays a reference (os.getenv or the mlsh variable), `set` "
	    "of a name containing TOKEN, SECRET, KEY or PASSWORD and `!` lines "
	    "that export are left out.",
	.opts = history_opts,
	.min_args = 0,
	.max_args = 0,
	.subcmds = history_subcmds,
	.exec = history_exec,
	.flags = CMD_NO_HISTORY,
};
