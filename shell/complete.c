/* complete.c: the completion engine. */
#include "shell/complete.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "shell/cmd.h"
#include "shell/lexer.h"
#include "shell/shell.h"

static const char *
lookup(void *arg, const char *name)
{
	return shell_var_get(arg, name);
}

static void
add_if(struct strlist *out, const char *cand, const char *prefix)
{
	if (str_startswith(cand, prefix))
		strlist_add(out, cand);
}

void
complete_files(const char *prefix, struct strlist *out)
{
	const char *slash = strrchr(prefix, '/');
	char *dir, *base;
	DIR *d;
	struct dirent *e;

	if (slash != NULL) {
		dir = xstrndup(prefix, (size_t)(slash - prefix) + 1);
		base = xstrdup(slash + 1);
	} else {
		dir = xstrdup("");
		base = xstrdup(prefix);
	}
	d = opendir(*dir ? dir : ".");
	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			struct stat st;
			char *full;
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			if (e->d_name[0] == '.' && base[0] != '.')
				continue;
			if (!str_startswith(e->d_name, base))
				continue;
			full = xasprintf("%s%s", dir, e->d_name);
			if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
				char *f2 = xasprintf("%s/", full);
				free(full);
				full = f2;
			}
			strlist_take(out, full);
		}
		closedir(d);
	}
	free(dir);
	free(base);
}

static const struct mlsh_opt *
find_long(const struct mlsh_cmd *c, const char *w)
{
	for (size_t i = 0; c->opts && c->opts[i].name; i++) {
		const struct mlsh_opt *o = &c->opts[i];
		if (w[0] == '-' && w[1] == '-' && strcmp(w + 2, o->name) == 0)
			return o;
		if (w[0] == '-' && w[1] == o->short_name && w[2] == '\0' &&
		    o->short_name != 0)
			return o;
	}
	return NULL;
}

static void
complete_opt_value(struct mlsh_ctx *ctx, const struct mlsh_cmd *c,
    const struct cmd_args *a, const struct mlsh_opt *o, const char *prefix,
    struct strlist *out)
{
	if (o->type == OPT_ENUM)
		for (size_t i = 0; o->values[i]; i++)
			add_if(out, o->values[i], prefix);
	else if (o->type == OPT_PATH)
		complete_files(prefix, out);
	else if (c->complete != NULL)
		c->complete(ctx, a, o->name, -1, prefix, out);
}

void
complete_line(struct mlsh_ctx *ctx, const char *line, size_t cursor,
    struct completion *out)
{
	struct lex_cmd lc;
	const struct mlsh_cmd *b, *c;
	struct cmd_args a;
	const char *prefix;
	char *cause = NULL;
	size_t nw, i, verb_at = 0;
	int open, npos = 0;

	memset(out, 0, sizeof *out);
	strlist_init(&out->cands);
	memset(&a, 0, sizeof a);
	lex_partial(line, cursor, lookup, ctx, &lc, &open, &out->quote);
	if (lc.shell != NULL)
		goto done;
	/* Words before the one being completed, and that word's prefix. */
	nw = open ? lc.n - 1 : lc.n;
	prefix = open ? lc.w[lc.n - 1].text : "";
	out->start = open ? lc.w[lc.n - 1].start : cursor;

	if (nw == 0) {
		for (i = 0; mlsh_builtins[i] != NULL; i++) {
			b = mlsh_builtins[i];
			add_if(&out->cands, b->name, prefix);
			for (size_t k = 0; b->aliases && b->aliases[k]; k++)
				add_if(&out->cands, b->aliases[k], prefix);
		}
		goto done;
	}
	b = cmd_find(lc.w[0].text, &cause);
	free(cause);
	if (b == NULL)
		goto done;
	c = b;
	i = 1;
	if (b->subcmds != NULL && nw >= 2 && lc.w[1].text[0] != '-') {
		const struct mlsh_cmd *s = cmd_find_sub(b, lc.w[1].text);
		if (s != NULL) {
			c = s;
			i = 2;
		} else if ((b->flags & CMD_VERB_SECOND) && nw >= 3 &&
		    lc.w[2].text[0] != '-' &&
		    (s = cmd_find_sub(b, lc.w[2].text)) != NULL) {
			c = s;		/* OBJECT VERB (see cmd.h) */
			verb_at = 2;
		}
	}
	a.builtin = b;
	a.cmd = c;
	/* Hooks see the positionals typed so far (borrowed from lc). */
	a.argv = xcalloc(lc.n + 1, sizeof *a.argv);

	/* Walk the words typed after the (sub)command: positionals and options
	 * already given, and whether the last one waits for a value. */
	{
		const struct mlsh_opt *pending = NULL;
		int dashdash = 0;
		for (; i < nw; i++) {
			const char *w = lc.w[i].text;
			if (i == verb_at)
				continue;
			if (pending != NULL) {
				pending = NULL;
				continue;
			}
			if (!dashdash && strcmp(w, "--") == 0) {
				dashdash = 1;
				continue;
			}
			if (!dashdash && w[0] == '-' && w[1] != '\0') {
				const struct mlsh_opt *o = find_long(c, w);
				if (o != NULL && o->type != OPT_BOOL &&
				    strchr(w, '=') == NULL)
					pending = o;
				continue;
			}
			a.argv[a.argc++] = lc.w[i].text;
			npos++;
		}
		if (pending != NULL) {
			complete_opt_value(ctx, c, &a, pending, prefix,
			    &out->cands);
			goto done;
		}
		if (!dashdash && prefix[0] == '-') {
			const char *eq = strchr(prefix, '=');
			if (eq != NULL && prefix[1] == '-') {
				/* --flag=val: complete the value, keep the flag */
				char *name = xstrndup(prefix, (size_t)(eq - prefix));
				const struct mlsh_opt *o = find_long(c, name);
				struct strlist vals;
				strlist_init(&vals);
				if (o != NULL)
					complete_opt_value(ctx, c, &a, o, eq + 1,
					    &vals);
				for (size_t k = 0; k < vals.n; k++)
					strlist_take(&out->cands,
					    xasprintf("%s=%s", name, vals.v[k]));
				strlist_release(&vals);
				free(name);
				goto done;
			}
			for (size_t k = 0; c->opts && c->opts[k].name; k++) {
				char *f = xasprintf("--%s", c->opts[k].name);
				add_if(&out->cands, f, prefix);
				free(f);
			}
			add_if(&out->cands, "--json", prefix);
			add_if(&out->cands, "--help", prefix);
			goto done;
		}
	}
	/* A subcommand, when none was given yet. */
	if (c == b && b->subcmds != NULL && npos == 0)
		for (size_t k = 0; b->subcmds[k].name; k++)
			add_if(&out->cands, b->subcmds[k].name, prefix);
	if (c == b && b->subcmds != NULL && b->exec == NULL)
		goto done;
	if (c->max_args >= 0 && npos >= c->max_args)
		goto done;
	if (c->arg_type == OPT_PATH)
		complete_files(prefix, &out->cands);
	else if (c->complete != NULL)
		c->complete(ctx, &a, NULL, npos, prefix, &out->cands);
done:
	free(a.argv);
	strlist_sort(&out->cands);
	strlist_uniq(&out->cands);
	lex_cmd_release(&lc);
}

void
completion_release(struct completion *c)
{
	strlist_release(&c->cands);
}

char *
complete_common_prefix(const struct completion *c)
{
	size_t n;

	if (c->cands.n == 0)
		return xstrdup("");
	n = strlen(c->cands.v[0]);
	for (size_t i = 1; i < c->cands.n; i++) {
		size_t k = 0;
		while (k < n && c->cands.v[i][k] == c->cands.v[0][k])
			k++;
		n = k;
	}
	return xstrndup(c->cands.v[0], n);
}
