/* history.c: the interactive history file.
 *
 * $XDG_STATE_HOME/mlsh/history, one line per entry, mode 0600, no
 * consecutive duplicates, at most HISTORY_MAX entries (oldest dropped). Only
 * lines typed at the REPL are recorded. */
#include "shell.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
history_trim(struct mlsh_ctx *ctx)
{
	size_t drop;

	if (ctx->history.n <= HISTORY_MAX)
		return;
	drop = ctx->history.n - HISTORY_MAX;
	for (size_t i = 0; i < drop; i++)
		free(ctx->history.v[i]);
	memmove(ctx->history.v, ctx->history.v + drop,
	    (ctx->history.n - drop + 1) * sizeof *ctx->history.v);
	ctx->history.n -= drop;
}

void
history_load(struct mlsh_ctx *ctx)
{
	char *text, *cause = NULL, *p, *nl;

	if (ctx->history_path == NULL)
		ctx->history_path = xasprintf("%s/history", ctx->state_dir);
	if ((text = file_read(ctx->history_path, NULL, &cause)) == NULL) {
		free(cause);
		return;
	}
	for (p = text; *p != '\0'; p = nl) {
		nl = strchr(p, '\n');
		if (nl != NULL)
			*nl++ = '\0';
		else
			nl = p + strlen(p);
		if (*p != '\0')
			strlist_add(&ctx->history, p);
	}
	free(text);
	history_trim(ctx);
}

void
history_add(struct mlsh_ctx *ctx, const char *line)
{
	if (*line == '\0' || strchr(line, '\n') != NULL)
		return;
	if (ctx->history.n > 0 &&
	    strcmp(ctx->history.v[ctx->history.n - 1], line) == 0)
		return;
	strlist_add(&ctx->history, line);
	history_trim(ctx);
}

/* Rewrite the file atomically; the directory is made 0700. */
int
history_save_file(struct mlsh_ctx *ctx)
{
	char *tmp, *cause = NULL;
	FILE *f;
	int fd;

	if (ctx->history_path == NULL)
		return 0;
	if (mkdir_p(ctx->state_dir, 0700, &cause) != 0) {
		free(cause);
		return -1;
	}
	tmp = xasprintf("%s.tmp.%ld", ctx->history_path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		if (fd >= 0)
			close(fd);
		free(tmp);
		return -1;
	}
	for (size_t i = 0; i < ctx->history.n; i++)
		fprintf(f, "%s\n", ctx->history.v[i]);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		fclose(f);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	fclose(f);
	if (rename(tmp, ctx->history_path) != 0) {
		unlink(tmp);
		free(tmp);
		return -1;
	}
	chmod(ctx->history_path, 0600);
	free(tmp);
	return 0;
}
