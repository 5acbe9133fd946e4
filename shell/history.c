/* history.c: the interactive history file.
 *
 * $XDG_STATE_HOME/mlsh/history, one line per entry, mode 0600, no
 * consecutive duplicates, at most HISTORY_MAX entries (oldest dropped). Only
 * lines typed at the REPL are recorded. */
#include "shell/shell.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "shell/lexer.h"
#include "shell/replay.h"
#include "lib/state.h"

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
	if ((text = state_read_file(ctx->history_path, NULL, &cause)) == NULL) {
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
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
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

/*
 * The session record behind `history save`.
 *
 * A command is recorded in its Lua form once it succeeded. Values that came
 * from $NAME stay references: the raw words of the command are lexed again
 * with every expansion replaced by a marker, parsed against the same entry,
 * and each marker becomes os.getenv("NAME") (an environment variable) or
 * var("NAME") (an mlsh variable: a helper the script defines). When that
 * cannot be done exactly (a reference inside an integer flag, or one that
 * decides which subcommand runs), the command is recorded as
 * mlsh.run("raw text"), which expands its references when replayed.
 * `set` of a secret-looking name and `!` lines that export are not recorded.
 */

#define MARK_OPEN	'\001'
#define MARK_CLOSE	'\002'

struct history_note {
	char **argv;		/* the words the note is for (identity) */
	char *raw;		/* the command as typed */
	int has_refs;		/* it expands at least one $NAME */
	int ok;			/* tmpl is usable */
	struct strlist tmpl;	/* the words with markers */
	struct strlist names;	/* marker i -> variable name */
	struct strlist marks;	/* marker i -> its text */
	struct strlist values;	/* marker i -> its value when expanded */
	char *kinds;		/* marker i -> 'v' mlsh variable, 'e' environment */
	struct mlsh_ctx *ctx;
	struct history_note *next;	/* the command that ran this one (source, lua) */
};

static void
note_pop(struct mlsh_ctx *ctx)
{
	struct history_note *n = ctx->notes;

	if (n == NULL)
		return;
	ctx->notes = n->next;
	free(n->raw);
	strlist_release(&n->tmpl);
	strlist_release(&n->names);
	strlist_release(&n->marks);
	strlist_release(&n->values);
	free(n->kinds);
	free(n);
}

static const char *
mark_lookup(void *arg, const char *name)
{
	struct history_note *n = arg;
	const char *v;
	size_t i;

	for (i = 0; i < n->names.n; i++)
		if (strcmp(n->names.v[i], name) == 0)
			return n->marks.v[i];
	n->kinds = xrealloc(n->kinds, i + 1);
	n->kinds[i] = shell_var_get_local(n->ctx, name) != NULL ? 'v' : 'e';
	v = shell_var_get(n->ctx, name);
	strlist_add(&n->values, v != NULL ? v : "");
	strlist_add(&n->names, name);
	strlist_take(&n->marks, xasprintf("%c%zu%c", MARK_OPEN, i,
	    MARK_CLOSE));
	return n->marks.v[i];
}

void
history_note(struct mlsh_ctx *ctx, const char *raw, size_t len, int argc,
    char **argv)
{
	struct lex_cmd c;
	struct history_note *n;
	char *cause = NULL;
	size_t pos = 0;

	if (raw == NULL) {
		note_pop(ctx);
		return;
	}
	n = xcalloc(1, sizeof *n);
	n->next = ctx->notes;
	ctx->notes = n;
	n->ctx = ctx;
	n->argv = argv;
	n->raw = xstrndup(raw, len);
	n->has_refs = memchr(raw, '$', len) != NULL;
	if (!n->has_refs || memchr(raw, MARK_OPEN, len) != NULL ||
	    memchr(raw, MARK_CLOSE, len) != NULL)
		return;
	if (lex_one(raw, len, &pos, mark_lookup, n, &c, &cause) != 1) {
		free(cause);
		return;
	}
	/* An expansion never splits a word: the same words, with markers. */
	if (c.shell == NULL && (int)c.n == argc) {
		for (size_t i = 0; i < c.n; i++)
			strlist_add(&n->tmpl, c.w[i].text);
		n->ok = n->names.n > 0;
	}
	lex_cmd_release(&c);
	if (n->names.n == 0)
		n->has_refs = 0;	/* '$x' in single quotes, a lone $ */
}

/* A template with markers filled in with today's values. */
static char *
tmpl_expand(const struct history_note *top, const char *t)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	while (*t != '\0') {
		if (*t == MARK_OPEN) {
			i = strtoul(t + 1, (char **)&t, 10);
			t++;	/* MARK_CLOSE */
			buf_adds(&b, top->values.v[i]);
		} else
			buf_addc(&b, *t++);
	}
	return buf_detach_release(&b);
}

/* A template as a Lua expression: literals quoted (ids from earlier results
 * as references), markers references, joined with "..". */
static char *
tmpl_lua(struct replay_emit *e, const struct history_note *top, const char *t)
{
	struct buf b, lit;
	char *q;
	size_t i;
	int parts = 0;

	buf_init(&b);
	buf_init(&lit);
	for (;;) {
		if (*t == MARK_OPEN || *t == '\0') {
			if (lit.len > 0 || (*t == '\0' && parts == 0)) {
				replay_lit(e, lit.data ? lit.data : "", lit.len,
				    &b, &parts);
				buf_reset(&lit);
			}
			if (*t == '\0')
				break;
			i = strtoul(t + 1, (char **)&t, 10);
			t++;
			q = script_quote(top->names.v[i]);
			if (top->kinds[i] == 'v') {
				buf_printf(&b, "%svar(%s)", parts++ ? " .. " : "",
				    q);
				top->ctx->session_uses_var = 1;
			} else
				buf_printf(&b, "%s(os.getenv(%s) or \"\")",
				    parts++ ? " .. " : "", q);
			free(q);
		} else
			buf_addc(&lit, *t++);
	}
	buf_release(&lit);
	return buf_detach_release(&b);
}

static int
is_lua_name(const char *s)
{
	static const char *const reserved[] = { "and", "break", "do", "else",
	    "elseif", "end", "false", "for", "function", "goto", "if", "in",
	    "local", "nil", "not", "or", "repeat", "return", "then", "true",
	    "until", "while", NULL };

	if (!shell_var_name_ok(s))
		return 0;
	for (size_t i = 0; reserved[i]; i++)
		if (strcmp(reserved[i], s) == 0)
			return 0;
	return 1;
}

/* A value in Lua: a reference expression when t (the template) is given,
 * else the literal (its ids from earlier results as references). */
static char *
value_lua(struct replay_emit *e, const struct history_note *top,
    const char *v, const char *t)
{
	struct buf b;
	int parts = 0;

	if (t != NULL)
		return tmpl_lua(e, top, t);
	buf_init(&b);
	replay_lit(e, v, strlen(v), &b, &parts);
	return buf_detach_release(&b);
}

/* The Lua name of a builtin and its subcommand: vpc.up, ssh_config. */
static void
lua_callee(struct buf *b, const struct cmd_args *a)
{
	char *s = xstrdup(a->builtin->name);

	for (char *p = s; *p; p++)
		if (*p == '-')
			*p = '_';
	buf_adds(b, s);
	free(s);
	if (a->cmd != a->builtin) {
		if (is_lua_name(a->cmd->name))
			buf_printf(b, ".%s", a->cmd->name);
		else
			buf_printf(b, "[\"%s\"]", a->cmd->name);
	}
}

/* Whether option i is left out of the script: --yes, so that the replay
 * asks on a terminal as the prompt did (mlsh --yes answers for it). */
static int
opt_dropped(const struct cmd_args *a, size_t i)
{
	return a->optv[i] == NULL || strcmp(a->cmd->opts[i].name, "yes") == 0;
}

/* One option's value in Lua. */
static void
opt_lua(struct replay_emit *e, const struct history_note *top,
    const struct mlsh_opt *o, const char *v, const char *t, struct buf *b)
{
	char *s;

	if (o->type == OPT_BOOL)
		buf_adds(b, "true");
	else if (o->type == OPT_INT) {
		/* The parser took "+1", " 7", "007": the number, written as
		 * Lua reads it. */
		long long n = strtoll(v, NULL, 10);

		if (n == LLONG_MIN)
			buf_adds(b, "math.mininteger");
		else
			buf_printf(b, "%lld", n);
	} else {
		s = value_lua(e, top, v, t);
		buf_adds(b, s);
		free(s);
	}
}

/* The Lua statement for a parsed command; tmpl (may be NULL) is the same
 * command parsed from the marker words. */
static char *
lua_form(struct replay_emit *e, const struct history_note *top,
    const struct cmd_args *a, const struct cmd_args *tmpl)
{
	struct mlsh_ctx *ctx = e->ctx;
	struct buf b;
	int nopts = 0, first = 1;
	/* api's result is its whole response with --json: the same shape on
	 * replay, for the references into it. */
	int json = a->json && strcmp(a->builtin->name, "api") == 0;
	char *s;

	buf_init(&b);
	/* The session's workspace is the script's parameter. */
	if (strcmp(a->builtin->name, "workspace") == 0 &&
	    a->cmd == a->builtin && a->argc == 1 && ctx->session_ws != NULL &&
	    strcmp(a->argv[0], ctx->session_ws) == 0) {
		buf_adds(&b, "workspace(WS)");
		return buf_detach_release(&b);
	}
	lua_callee(&b, a);
	for (size_t i = 0; a->cmd->opts && a->cmd->opts[i].name; i++)
		if (!opt_dropped(a, i))
			nopts++;
	nopts += json;
	buf_addc(&b, nopts ? '{' : '(');
	for (int i = 0; i < a->argc; i++) {
		s = value_lua(e, top, a->argv[i], tmpl ? tmpl->argv[i] : NULL);
		buf_printf(&b, "%s%s", first ? "" : ", ", s);
		free(s);
		first = 0;
	}
	for (size_t i = 0; a->cmd->opts && a->cmd->opts[i].name; i++) {
		char *key;

		if (opt_dropped(a, i))
			continue;
		key = xstrdup(a->cmd->opts[i].name);
		for (char *p = key; *p; p++)
			if (*p == '-')
				*p = '_';
		buf_printf(&b, "%s%s=", first ? "" : ", ", key);
		opt_lua(e, top, &a->cmd->opts[i], a->optv[i],
		    tmpl ? tmpl->optv[i] : NULL, &b);
		free(key);
		first = 0;
	}
	if (json)
		buf_printf(&b, "%sjson=true", first ? "" : ", ");
	buf_addc(&b, nopts ? '}' : ')');
	return buf_detach_release(&b);
}

/* Whether the marker words parse into the same command, each value the
 * template of the value actually used. */
static int
tmpl_matches(const struct history_note *top, const struct cmd_args *a,
    const struct cmd_args *t)
{
	char *v;
	int same;

	if (t->cmd != a->cmd || t->argc != a->argc)
		return 0;
	for (int i = 0; i < a->argc; i++) {
		v = tmpl_expand(top, t->argv[i]);
		same = strcmp(v, a->argv[i]) == 0;
		free(v);
		if (!same)
			return 0;
	}
	for (size_t i = 0; a->cmd->opts && a->cmd->opts[i].name; i++) {
		if ((a->optv[i] == NULL) != (t->optv[i] == NULL))
			return 0;
		if (a->optv[i] == NULL)
			continue;
		if (a->cmd->opts[i].type == OPT_INT &&
		    strchr(t->optv[i], MARK_OPEN) != NULL)
			return 0;
		v = tmpl_expand(top, t->optv[i]);
		same = strcmp(v, a->optv[i]) == 0;
		free(v);
		if (!same)
			return 0;
	}
	return 1;
}

int
history_secret_name(const char *name)
{
	static const char *const words[] = { "TOKEN", "SECRET", "KEY",
	    "PASSWORD", "PASSWD", NULL };

	for (size_t i = 0; words[i] != NULL; i++)
		if (strcasestr(name, words[i]) != NULL)
			return 1;
	return 0;
}

/* The session's target and workspace, as its first recorded command
 * found them (after it ran: `workspace msls` first makes msls the one). */
static void
session_begin(struct mlsh_ctx *ctx)
{
	if (ctx->session_ws != NULL)
		return;
	ctx->session_ws = xstrdup(ctx->workspace);
	ctx->session_region = xstrdup(shell_region(ctx));
	if (ctx->profile != NULL)
		ctx->session_profile = xstrdup(ctx->profile);
}

/* A raw line, expanded on replay: mlsh.run("…") (ids as references). */
static char *
run_form(struct replay_emit *e, const char *raw)
{
	struct buf b;
	int parts = 0;

	buf_init(&b);
	buf_adds(&b, "mlsh.run(");
	replay_lit(e, raw, strlen(raw), &b, &parts);
	buf_addc(&b, ')');
	return buf_detach_release(&b);
}

void
history_record(struct mlsh_ctx *ctx, const struct cmd_args *a, char **argv,
    const cJSON *result)
{
	const struct history_note *top = ctx->notes;
	struct replay_emit e = { .ctx = ctx };
	const char *skip;
	struct cmd_args t;
	char *cause = NULL, *form = NULL;
	int st;

	if (strcmp(a->builtin->name, "set") == 0 && a->argc > 0 &&
	    history_secret_name(a->argv[0])) {
		if (!strlist_has(&ctx->session_skipped, a->argv[0]))
			strlist_add(&ctx->session_skipped, a->argv[0]);
		return;
	}
	session_begin(ctx);
	strlist_init(&e.unknown);
	skip = replay_skip_reason(a);
	if (top == NULL || top->argv != argv || !top->has_refs)
		form = lua_form(&e, top, a, NULL);
	else if (top->ok) {
		st = cmd_parse((int)top->tmpl.n, top->tmpl.v, &t, &cause);
		free(cause);
		if (st == 0 && tmpl_matches(top, a, &t))
			form = lua_form(&e, top, a, &t);
		if (st == 0 || st == 3)
			cmd_args_release(&t);
	}
	/* Not exactly expressible as a call: the line, expanded on replay
	 * (its status is no result to read ids from). */
	if (form == NULL) {
		form = run_form(&e, top->raw);
		result = NULL;
	}
	replay_add(&e, form, skip, result);
	strlist_release(&e.unknown);
	free(e.refs);
}

/* Whether a /bin/sh line exports or assigns a secret-looking variable. */
static int
sh_leaks(const char *s)
{
	const char *p, *e;

	for (p = s; (p = strstr(p, "export")) != NULL; p += 6) {
		if ((p == s || strchr(" \t;&|(`", p[-1]) != NULL) &&
		    (p[6] == '\0' || p[6] == ' ' || p[6] == '\t'))
			return 1;
	}
	/* NAME=value with a secret-looking NAME, anywhere in the line. */
	for (p = s; (e = strchr(p, '=')) != NULL; p = e + 1) {
		const char *n = e;
		char *name;
		int bad;

		while (n > s && (isalnum((unsigned char)n[-1]) || n[-1] == '_'))
			n--;
		if (n == e)
			continue;
		name = xstrndup(n, (size_t)(e - n));
		bad = history_secret_name(name);
		free(name);
		if (bad)
			return 1;
	}
	return 0;
}

void
history_record_sh(struct mlsh_ctx *ctx, const char *text)
{
	struct replay_emit e = { .ctx = ctx };
	char *line;

	if (sh_leaks(text))
		return;
	session_begin(ctx);
	strlist_init(&e.unknown);
	line = xasprintf("!%s", text);
	replay_add(&e, run_form(&e, line), NULL, NULL);
	strlist_release(&e.unknown);
	free(e.refs);
	free(line);
}
