/* ui.c: the y/N question and the status line (see ui.h). */
#include "shell/ui.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "shell/shell.h"

int
ui_can_ask(struct mlsh_ctx *ctx)
{
	(void)ctx;
	return isatty(STDIN_FILENO);
}

int
ui_confirm(const char *fmt, ...)
{
	va_list ap;
	char line[64];

	ui_status_clear();
	fflush(stdout);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" [y/N] ", stderr);
	fflush(stderr);
	return fgets(line, sizeof line, stdin) != NULL &&
	    (line[0] == 'y' || line[0] == 'Y');
}

static int status_shown;	/* a tty line is on screen */
static double status_last_ms;	/* when the last plain line was printed */

void
ui_status_clear(void)
{
	if (status_shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		status_shown = 0;
	}
}

static char *
status_text(const char *fmt, va_list ap)
{
	char *raw = xvasprintf(fmt, ap);
	char *m = str_sanitize(raw, 0);

	free(raw);
	return m;
}

void
ui_status(int plain_every_ms, const char *fmt, ...)
{
	va_list ap;
	char *m;

	va_start(ap, fmt);
	m = status_text(fmt, ap);
	va_end(ap);
	fflush(stdout);
	if (isatty(STDERR_FILENO)) {
		fprintf(stderr, "\r\033[K%s", m);
		status_shown = 1;
	} else if (plain_every_ms <= 0 ||
	    now_ms() - status_last_ms >= plain_every_ms) {
		fprintf(stderr, "%s\n", m);
		status_last_ms = now_ms();
	}
	fflush(stderr);
	free(m);
}

void
ui_status_done(const char *fmt, ...)
{
	va_list ap;
	char *m;

	ui_status_clear();
	status_last_ms = 0;
	if (fmt == NULL)
		return;
	va_start(ap, fmt);
	m = status_text(fmt, ap);
	va_end(ap);
	fflush(stdout);
	fprintf(stderr, "%s\n", m);
	fflush(stderr);
	free(m);
}
