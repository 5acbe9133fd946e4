/* lexer.c: quoting, comments, separators and $VAR expansion. */
#include "shell/lexer.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "lib/util.h"

static void
cmd_push_word(struct lex_cmd *c, struct buf *w, size_t start, size_t end)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 8;
		c->w = xreallocarray(c->w, c->cap, sizeof *c->w);
	}
	c->w[c->n].text = xstrndup(w->data, w->len);
	c->w[c->n].start = start;
	c->w[c->n].end = end;
	c->n++;
	buf_reset(w);
}

static struct lex_cmd *
result_push_cmd(struct lex_result *r)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 4;
		r->cmds = xreallocarray(r->cmds, r->cap, sizeof *r->cmds);
	}
	memset(&r->cmds[r->n], 0, sizeof r->cmds[r->n]);
	return &r->cmds[r->n++];
}

static int
is_name_start(int c)
{
	return c == '_' || isalpha(c);
}

static int
is_name_char(int c)
{
	return c == '_' || isalnum(c);
}

/*
 * Expand a $ at line[*i]. Appends to w and advances *i past the expansion.
 * Returns -1 for an unterminated ${ (unless lenient).
 */
static int
expand_var(const char *line, size_t len, size_t *i, lex_lookup_fn lookup,
    void *arg, struct buf *w, int lenient)
{
	size_t j = *i + 1, start, end;
	const char *v;
	char *name;

	if (j < len && line[j] == '{') {
		start = ++j;
		while (j < len && line[j] != '}')
			j++;
		if (j >= len) {
			if (lenient) {
				buf_add(w, line + *i, len - *i);
				*i = len;
				return 0;
			}
			return -1;
		}
		end = j++;
	} else if (j < len && is_name_start((unsigned char)line[j])) {
		start = j;
		while (j < len && is_name_char((unsigned char)line[j]))
			j++;
		end = j;
	} else {
		buf_addc(w, '$');	/* a lone $ is itself */
		*i = j;
		return 0;
	}
	name = xstrndup(line + start, end - start);
	v = lookup != NULL ? lookup(arg, name) : NULL;
	if (v != NULL)
		buf_adds(w, v);
	free(name);
	*i = j;
	return 0;
}

/*
 * The one scanner behind lex_line and lex_partial. In lenient mode an open
 * quote or ${ ends the scan without an error and the state is reported.
 */
static int
scan(const char *line, size_t len, lex_lookup_fn lookup, void *arg,
    struct lex_result *out, int lenient, int check_nul, int *open,
    char *quote, size_t *stop, char **cause)
{
	struct buf w;
	struct lex_cmd *c = NULL;
	size_t i = 0, wstart = 0;
	int inword = 0;
	char q = 0;

	buf_init(&w);
	if (check_nul && memchr(line, '\0', len) != NULL) {
		*cause = xstrdup("line contains a NUL byte");
		goto fail;
	}
	c = result_push_cmd(out);

	while (i < len) {
		char ch = line[i];

		if (q == '\'') {
			if (ch == '\'') {
				q = 0;
				i++;
			} else
				buf_addc(&w, line[i++]);
			continue;
		}
		if (q == '"') {
			if (ch == '"') {
				q = 0;
				i++;
			} else if (ch == '\\' && i + 1 < len &&
			    strchr("$\"\\`\n", line[i + 1]) != NULL) {
				if (line[i + 1] != '\n')
					buf_addc(&w, line[i + 1]);
				i += 2;
			} else if (ch == '$') {
				if (expand_var(line, len, &i, lookup, arg, &w,
				    lenient) != 0) {
					*cause = xstrdup("unterminated ${");
					goto fail;
				}
			} else
				buf_addc(&w, line[i++]);
			continue;
		}

		/* Unquoted. */
		if (ch == ' ' || ch == '\t' || ch == '\r') {
			if (inword) {
				cmd_push_word(c, &w, wstart, i);
				inword = 0;
			}
			i++;
			continue;
		}
		if (ch == ';' || ch == '\n') {
			if (inword) {
				cmd_push_word(c, &w, wstart, i);
				inword = 0;
			}
			i++;
			if (c->n > 0 || c->shell != NULL) {
				if (stop != NULL) {
					*stop = i;
					buf_release(&w);
					return 0;
				}
				c = result_push_cmd(out);
			}
			continue;
		}
		if (!inword && ch == '#') {
			while (i < len && line[i] != '\n')
				i++;
			continue;
		}
		if (!inword && ch == '!' && c->n == 0 && c->shell == NULL) {
			/* The rest of the line (up to a newline) is for sh. */
			size_t e = i + 1;
			while (e < len && line[e] != '\n')
				e++;
			c->shell = xstrndup(line + i + 1, e - i - 1);
			i = e;
			continue;
		}
		if (!inword) {
			inword = 1;
			wstart = i;
		}
		if (ch == '\'' || ch == '"') {
			q = ch;
			i++;
		} else if (ch == '\\') {
			if (i + 1 < len) {
				if (line[i + 1] != '\n')
					buf_addc(&w, line[i + 1]);
				i += 2;
			} else if (lenient) {
				i++;
			} else {
				*cause = xstrdup("trailing backslash");
				goto fail;
			}
		} else if (ch == '$') {
			if (expand_var(line, len, &i, lookup, arg, &w,
			    lenient) != 0) {
				*cause = xstrdup("unterminated ${");
				goto fail;
			}
		} else
			buf_addc(&w, line[i++]);
	}
	if (q != 0 && !lenient) {
		*cause = xstrdup(q == '\'' ? "unterminated single quote" :
		    "unterminated double quote");
		goto fail;
	}
	if (open != NULL)
		*open = inword;
	if (quote != NULL)
		*quote = q;
	if (inword)
		cmd_push_word(c, &w, wstart, i);
	if (c->n == 0 && c->shell == NULL)
		out->n--;	/* drop the trailing empty command */
	if (stop != NULL)
		*stop = len;
	buf_release(&w);
	return 0;

fail:
	buf_release(&w);
	lex_result_release(out);
	return -1;
}

int
lex_line(const char *line, size_t len, lex_lookup_fn lookup, void *arg,
    struct lex_result *out, char **cause)
{
	memset(out, 0, sizeof *out);
	return scan(line, len, lookup, arg, out, 0, 1, NULL, NULL, NULL, cause);
}

int
lex_one(const char *line, size_t len, size_t *pos, lex_lookup_fn lookup,
    void *arg, struct lex_cmd *out, char **cause)
{
	struct lex_result r;
	size_t stop = len;

	memset(&r, 0, sizeof r);
	memset(out, 0, sizeof *out);
	/* The NUL check reads the whole line, so only the first call makes it:
	 * checking the rest of the line on every call made lexing a line of
	 * many commands quadratic (a 7 MB line took 99 s). */
	if (scan(line + *pos, len - *pos, lookup, arg, &r, 0, *pos == 0, NULL,
	    NULL, &stop, cause) != 0)
		return -1;
	*pos += stop;
	if (r.n == 0) {
		lex_result_release(&r);
		return 0;
	}
	*out = r.cmds[0];
	r.n = 0;
	lex_result_release(&r);
	return 1;
}

void
lex_partial(const char *line, size_t cursor, lex_lookup_fn lookup, void *arg,
    struct lex_cmd *out, int *open, char *quote)
{
	struct lex_result r;
	char *cause = NULL;
	size_t len = strnlen(line, cursor);

	memset(&r, 0, sizeof r);
	memset(out, 0, sizeof *out);
	*open = 0;
	*quote = 0;
	if (scan(line, len, lookup, arg, &r, 1, 0, open, quote, NULL,
	    &cause) != 0) {
		free(cause);
		return;
	}
	/* A separator right before the cursor starts a new, empty command. */
	if (len > 0 && (line[len - 1] == ';' || line[len - 1] == '\n') &&
	    *quote == 0) {
		lex_result_release(&r);
		return;
	}
	if (r.n > 0) {
		*out = r.cmds[r.n - 1];
		r.n--;
	}
	lex_result_release(&r);
}

void
lex_cmd_release(struct lex_cmd *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->w[i].text);
	free(c->w);
	free(c->shell);
	memset(c, 0, sizeof *c);
}

void
lex_result_release(struct lex_result *r)
{
	for (size_t i = 0; i < r->n; i++)
		lex_cmd_release(&r->cmds[i]);
	free(r->cmds);
	memset(r, 0, sizeof *r);
}
