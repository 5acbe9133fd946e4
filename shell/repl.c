/* repl.c: the interactive prompt, on libedit.
 *
 * Tab completes through complete.c (a pure function): the first Tab inserts
 * the common prefix (or the only candidate and a blank), a second Tab on the
 * same line lists the candidates, as bash does. Ctrl-C cancels the line or the
 * running command and never leaves; Ctrl-D on an empty line leaves. */
#include <errno.h>
#include <histedit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "shell/complete.h"
#include "shell/shell.h"

/* What libedit's callbacks need, reached through EL_CLIENTDATA. */
struct repl {
	struct mlsh_ctx *ctx;
	char *prompt_text;
	char *last_tab;		/* the line as it was at the last Tab */
};

static struct repl *
repl_of(EditLine *el)
{
	void *r = NULL;

	el_get(el, EL_CLIENTDATA, &r);
	return r;
}

static char *
prompt_fn(EditLine *el)
{
	return repl_of(el)->prompt_text;
}

/* Backslash-escape what the lexer would otherwise interpret. */
static char *
escape_word(const char *s, char quote)
{
	struct buf b;

	buf_init(&b);
	for (; *s; s++) {
		if (quote == 0 && strchr(" \t'\"\\$;#!", *s) != NULL &&
		    !(*s == '!' && b.len > 0))
			buf_addc(&b, '\\');
		else if (quote == '"' && strchr("\"\\$", *s) != NULL)
			buf_addc(&b, '\\');
		buf_addc(&b, *s);
	}
	return buf_detach_release(&b);
}

static void
list_candidates(const struct completion *c)
{
	struct winsize ws;
	size_t width = 80, w = 0, cols, rows;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		width = ws.ws_col;
	for (size_t i = 0; i < c->cands.n; i++) {
		const char *s = c->cands.v[i], *sl = strrchr(s, '/');
		size_t l = strlen(sl && sl[1] ? sl + 1 : s);
		if (l > w)
			w = l;
	}
	w += 2;
	cols = width / w ? width / w : 1;
	rows = (c->cands.n + cols - 1) / cols;
	fputc('\n', stdout);
	for (size_t r = 0; r < rows; r++) {
		for (size_t k = 0; k < cols; k++) {
			size_t i = k * rows + r;
			const char *s, *sl;
			if (i >= c->cands.n)
				break;
			s = c->cands.v[i];
			sl = strrchr(s, '/');
			/* Files show their last component, as bash does. */
			if (sl != NULL && sl[1] != '\0')
				s = sl + 1;
			printf("%-*s", (int)w, s);
		}
		fputc('\n', stdout);
	}
	fflush(stdout);
}

static unsigned char
complete_fn(EditLine *el, int ch)
{
	struct repl *r = repl_of(el);
	const LineInfo *li = el_line(el);
	size_t cursor = (size_t)(li->cursor - li->buffer);
	char *line = xstrndup(li->buffer, (size_t)(li->lastchar - li->buffer));
	struct completion c;
	unsigned char ret = CC_REFRESH;
	int again = r->last_tab != NULL && strcmp(r->last_tab, line) == 0;
	const char *typed;
	char *ins = NULL, *esc;

	(void)ch;
	complete_line(r->ctx, line, cursor, &c);
	free(r->last_tab);
	r->last_tab = xstrdup(line);
	if (c.cands.n == 0) {
		ret = CC_REFRESH_BEEP;
		goto out;
	}
	typed = line + c.start;
	if (c.cands.n == 1) {
		const char *cand = c.cands.v[0];
		int dir = cand[0] != '\0' && cand[strlen(cand) - 1] == '/';
		esc = escape_word(cand, c.quote);
		if (c.quote != 0 && !dir)
			ins = xasprintf("%c%s%c ", c.quote, esc, c.quote);
		else if (c.quote != 0)
			ins = xasprintf("%c%s", c.quote, esc);
		else
			ins = xasprintf("%s%s", esc, dir ? "" : " ");
		free(esc);
	} else {
		char *common = complete_common_prefix(&c);
		size_t typed_len = cursor - c.start;
		esc = escape_word(common, c.quote);
		ins = c.quote ? xasprintf("%c%s", c.quote, esc) : xstrdup(esc);
		free(esc);
		/* No progress: list on the second Tab, beep on the first. */
		if (strlen(ins) <= typed_len && strncmp(ins, typed,
		    typed_len) == 0) {
			free(ins);
			ins = NULL;
			free(common);
			if (again) {
				list_candidates(&c);
				ret = CC_REDISPLAY;
			} else
				ret = CC_REFRESH_BEEP;
			goto out;
		}
		free(common);
	}
	el_deletestr(el, (int)(cursor - c.start));
	if (el_insertstr(el, ins) != 0)
		ret = CC_REFRESH_BEEP;
	free(r->last_tab);
	r->last_tab = NULL;
	if (c.cands.n > 1) {
		/* Still ambiguous: the next Tab lists, as bash does. */
		li = el_line(el);
		r->last_tab = xstrndup(li->buffer,
		    (size_t)(li->lastchar - li->buffer));
	}
out:
	free(ins);
	free(line);
	completion_release(&c);
	return ret;
}

int
repl_run(struct mlsh_ctx *ctx)
{
	EditLine *el;
	History *hist;
	HistEvent ev;
	const char *line;
	int count, st = 0;
	struct repl r = { ctx, NULL, NULL };

	history_load(ctx);
	hist = history_init();
	history(hist, &ev, H_SETSIZE, HISTORY_MAX);
	history(hist, &ev, H_SETUNIQUE, 1);
	for (size_t i = 0; i < ctx->history.n; i++)
		history(hist, &ev, H_ENTER, ctx->history.v[i]);

	el = el_init("mlsh", stdin, stdout, stderr);
	el_set(el, EL_CLIENTDATA, &r);
	el_set(el, EL_EDITOR, "emacs");
	el_set(el, EL_HIST, history, hist);
	el_set(el, EL_PROMPT, prompt_fn);
	el_set(el, EL_ADDFN, "mlsh-complete", "complete a word", complete_fn);
	el_set(el, EL_BIND, "^I", "mlsh-complete", NULL);
	el_source(el, NULL);	/* ~/.editrc, as other libedit programs */

	for (;;) {
		/* SSH keep-alives and dropped-connection checks (never blocks). */
		shell_services_tick(ctx);
		free(r.prompt_text);
		r.prompt_text = shell_prompt(ctx);
		/* A new line: a Ctrl-C before it is spent. */
		mlsh_interrupted = 0;
		mlsh_line_interrupted = 0;
		line = el_gets(el, &count);
		if (line == NULL && count < 0 && errno == EINTR) {
			/* Ctrl-C at the prompt: drop the line, new prompt. */
			fputs("^C\n", stdout);
			el_reset(el);
			continue;
		}
		if (line == NULL || count == 0) {
			/* Ctrl-D is `exit`: the same reminder of what runs. */
			char *argv[] = { "exit", NULL };
			fputc('\n', stdout);
			shell_run_argv(ctx, 1, argv, NULL);
			st = ctx->exit_status;
			break;
		}
		{
			size_t n = strlen(line);
			char *copy = xstrndup(line, n);
			if (n > 0 && copy[n - 1] == '\n')
				copy[--n] = '\0';
			if (strspn(copy, " \t") != n) {
				history(hist, &ev, H_ENTER, copy);
				history_add(ctx, copy);
				history_save_file(ctx);
			}
			free(r.last_tab);
			r.last_tab = NULL;
			st = shell_run_line(ctx, copy, n);
			free(copy);
		}
		if (ctx->exit_requested) {
			st = ctx->exit_status;
			break;
		}
	}
	el_end(el);
	history_end(hist);
	free(r.prompt_text);
	free(r.last_tab);
	return st;
}
