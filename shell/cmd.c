/* cmd.c: lookup, option parsing, usage and help — all from the table. */
#include "shell/cmd.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The table, from builtins.def: once for the externs, once for the array. */
#define MLSH_BUILTIN(n) extern const struct mlsh_cmd cmd_##n##_entry;
#include "builtins/builtins.def"
#undef MLSH_BUILTIN
#define MLSH_BUILTIN(n) &cmd_##n##_entry,
const struct mlsh_cmd *const mlsh_builtins[] = {
#include "builtins/builtins.def"
	NULL
};
#undef MLSH_BUILTIN

/* Options every command takes, after its own. */
static const struct mlsh_opt common_opts[] = {
	{ "json", 0, OPT_BOOL, NULL, NULL, "print the result as JSON" },
	{ "help", 'h', OPT_BOOL, NULL, NULL, "show this help" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static size_t
opt_count(const struct mlsh_opt *o)
{
	size_t n = 0;
	while (o != NULL && o[n].name != NULL)
		n++;
	return n;
}

/* Optimal string alignment (Damerau-Levenshtein without moves across a
 * transposed pair): insertions, deletions, substitutions and swaps of two
 * neighbours each cost 1, so `vcp` is 1 from `vpc`, as a typo is. */
int
cmd_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int *prev2, *prev, *cur, d;

	if (la > 64 || lb > 64)
		return 99;
	prev2 = xcalloc(lb + 1, sizeof *prev2);
	prev = xcalloc(lb + 1, sizeof *prev);
	cur = xcalloc(lb + 1, sizeof *cur);
	for (size_t j = 0; j <= lb; j++)
		prev[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int cost = a[i - 1] == b[j - 1] ? 0 : 1;
			int v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (prev[j - 1] + cost < v)
				v = prev[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
		}
		memcpy(prev2, prev, (lb + 1) * sizeof *prev);
		memcpy(prev, cur, (lb + 1) * sizeof *prev);
	}
	d = prev[lb];
	free(prev2);
	free(prev);
	free(cur);
	return d;
}

/* The closest name by edit distance; a tie goes to the name whose length
 * is nearer the typed one (`vcp`: `vpc` before `cp`), then to the first in
 * the table. At most 2 edits, and fewer than the typed name's length (two
 * letters are never "close" to every other two-letter name). */
const char *
cmd_suggest(const char *name, const char *const *names)
{
	const char *best = NULL;
	size_t len = strlen(name), bestl = 0;
	int bestd = len > 2 ? 3 : (int)len;

	for (size_t i = 0; names[i] != NULL; i++) {
		int d = cmd_edit_distance(name, names[i]);
		size_t l = strlen(names[i]);
		size_t dl = l > len ? l - len : len - l;
		if (d < bestd || (d == bestd && best != NULL && dl < bestl)) {
			bestd = d;
			bestl = dl;
			best = names[i];
		}
	}
	return best;
}

static int
cmd_matches(const struct mlsh_cmd *c, const char *name)
{
	if (strcmp(c->name, name) == 0)
		return 1;
	for (size_t i = 0; c->aliases != NULL && c->aliases[i] != NULL; i++)
		if (strcmp(c->aliases[i], name) == 0)
			return 1;
	return 0;
}

const struct mlsh_cmd *
cmd_find(const char *name, char **cause)
{
	const struct mlsh_cmd *found = NULL;
	struct strlist cands;
	size_t len = strlen(name);

	for (size_t i = 0; mlsh_builtins[i] != NULL; i++)
		if (cmd_matches(mlsh_builtins[i], name))
			return mlsh_builtins[i];
	strlist_init(&cands);
	if (len > 0) {
		for (size_t i = 0; mlsh_builtins[i] != NULL; i++) {
			if (strncmp(mlsh_builtins[i]->name, name, len) == 0) {
				found = mlsh_builtins[i];
				strlist_add(&cands, found->name);
			}
		}
	}
	if (cands.n == 1) {
		strlist_release(&cands);
		return found;
	}
	if (cands.n > 1) {
		struct buf b;
		buf_init(&b);
		for (size_t i = 0; i < cands.n; i++)
			buf_printf(&b, "%s%s", i ? ", " : "", cands.v[i]);
		*cause = xasprintf("ambiguous command: %s, could be: %s", name,
		    b.data);
		buf_release(&b);
	} else {
		struct strlist names;
		const char *s;
		strlist_init(&names);
		for (size_t i = 0; mlsh_builtins[i] != NULL; i++) {
			const struct mlsh_cmd *c = mlsh_builtins[i];
			strlist_add(&names, c->name);
			for (size_t j = 0; c->aliases && c->aliases[j]; j++)
				strlist_add(&names, c->aliases[j]);
		}
		s = cmd_suggest(name, (const char *const *)names.v);
		if (s != NULL)
			*cause = xasprintf("unknown command: %s (did you mean "
			    "%s?)", name, s);
		else
			*cause = xasprintf("unknown command: %s (try 'help')",
			    name);
		strlist_release(&names);
	}
	strlist_release(&cands);
	return NULL;
}

const struct mlsh_cmd *
cmd_find_sub(const struct mlsh_cmd *c, const char *name)
{
	for (size_t i = 0; c->subcmds != NULL && c->subcmds[i].name != NULL;
	    i++)
		if (cmd_matches(&c->subcmds[i], name))
			return &c->subcmds[i];
	return NULL;
}

/* Find an option of cmd (then the common ones) by long or short name. */
static const struct mlsh_opt *
opt_find(const struct mlsh_cmd *cmd, const char *lname, size_t llen,
    char sname, int *index)
{
	size_t n = opt_count(cmd->opts);

	for (size_t i = 0; i < n; i++) {
		const struct mlsh_opt *o = &cmd->opts[i];
		if ((lname != NULL && strlen(o->name) == llen &&
		    strncmp(o->name, lname, llen) == 0) ||
		    (sname != 0 && o->short_name == sname)) {
			*index = (int)i;
			return o;
		}
	}
	for (size_t i = 0; common_opts[i].name != NULL; i++) {
		const struct mlsh_opt *o = &common_opts[i];
		if ((lname != NULL && strlen(o->name) == llen &&
		    strncmp(o->name, lname, llen) == 0) ||
		    (sname != 0 && o->short_name == sname)) {
			*index = -1 - (int)i;
			return o;
		}
	}
	return NULL;
}

/* The long option of cmd (or a common one) closest to a misspelt name. */
static const char *
flag_suggest(const struct mlsh_cmd *cmd, const char *name)
{
	const char *names[64];
	size_t n = 0;

	for (size_t i = 0; i < opt_count(cmd->opts) && n < 60; i++)
		names[n++] = cmd->opts[i].name;
	for (size_t i = 0; common_opts[i].name != NULL && n < 63; i++)
		names[n++] = common_opts[i].name;
	names[n] = NULL;
	/* --yes answers price questions; a delete that would be asked
	 * about takes --force (Terraform's -auto-approve habit). */
	if (strcmp(name, "yes") == 0)
		for (size_t i = 0; i < n; i++)
			if (strcmp(names[i], "force") == 0)
				return names[i];
	return cmd_suggest(name, names);
}

static char *
metavar(const struct mlsh_opt *o)
{
	char *m;
	if (o->metavar != NULL)
		return xstrdup(o->metavar);
	if (o->type == OPT_ENUM && o->values != NULL) {
		struct buf b;
		buf_init(&b);
		for (size_t i = 0; o->values[i] != NULL; i++)
			buf_printf(&b, "%s%s", i ? "|" : "", o->values[i]);
		return buf_detach_release(&b);
	}
	m = xstrdup(o->name);
	for (char *p = m; *p; p++)
		*p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
	return m;
}

/* The one message for a number out of its option's range. */
static char *
range_error(const struct mlsh_opt *o, const char *value)
{
	if (o->max == CMD_NUM_MAX)
		return xasprintf("--%s must be %lld or more, not '%s'", o->name,
		    o->min, value);
	return xasprintf("--%s must be %lld to %lld, not '%s'", o->name, o->min,
	    o->max, value);
}

/* Check and store one option value. Returns NULL or an allocated cause. */
static char *
opt_store(struct cmd_args *a, const struct mlsh_opt *o, int index,
    const char *value)
{
	if (o->type == OPT_INT) {
		char *end;
		errno = 0;
		long long v = strtoll(value, &end, 10);
		if (*value == '\0' || *end != '\0' || errno != 0)
			return xasprintf("--%s needs an integer, not '%s'",
			    o->name, value);
		if (o->ranged && (v < o->min || v > o->max))
			return range_error(o, value);
	}
	if (o->type == OPT_ENUM) {
		int ok = 0;
		struct buf b;
		for (size_t i = 0; o->values[i] != NULL; i++)
			if (strcmp(o->values[i], value) == 0)
				ok = 1;
		if (!ok) {
			char *r;
			buf_init(&b);
			for (size_t i = 0; o->values[i] != NULL; i++)
				buf_printf(&b, "%s%s", i ? ", " : "",
				    o->values[i]);
			r = xasprintf("--%s must be one of %s, not '%s'",
			    o->name, b.data, value);
			buf_release(&b);
			return r;
		}
	}
	if (index >= 0) {
		free(a->optv[index]);
		a->optv[index] = xstrdup(value);
	}
	return NULL;
}

int
cmd_parse(int argc, char **argv, struct cmd_args *a, char **cause)
{
	const struct mlsh_cmd *b;

	memset(a, 0, sizeof *a);
	b = cmd_find(argv[0], cause);
	if (b == NULL)
		return 2;
	return cmd_parse_as(b, argc, argv, a, cause);
}

int
cmd_parse_as(const struct mlsh_cmd *b, int argc, char **argv,
    struct cmd_args *a, char **cause)
{
	const struct mlsh_cmd *cmd;
	struct strlist pos;
	char *err = NULL;
	const char *object = NULL;
	int i = 1, dashdash = 0, help = 0;
	size_t nopts;

	memset(a, 0, sizeof *a);
	cmd = b;
	/* A subcommand is the first word, unless it is an option. */
	if (b->subcmds != NULL && i < argc && argv[i][0] != '-') {
		const struct mlsh_cmd *s = cmd_find_sub(b, argv[i]);
		if (s != NULL) {
			cmd = s;
			i++;
		} else if ((b->flags & CMD_VERB_SECOND) && i + 1 < argc &&
		    argv[i + 1][0] != '-' &&
		    (s = cmd_find_sub(b, argv[i + 1])) != NULL) {
			/* OBJECT VERB: the object is the first positional. */
			object = argv[i];
			cmd = s;
			i += 2;
		} else if (b->exec == NULL) {
			struct strlist names;
			const char *sug;
			strlist_init(&names);
			for (size_t k = 0; b->subcmds[k].name; k++)
				strlist_add(&names, b->subcmds[k].name);
			sug = cmd_suggest(argv[i], (const char *const *)names.v);
			if (sug != NULL)
				*cause = xasprintf("%s: unknown subcommand: %s "
				    "(did you mean %s?)", b->name, argv[i], sug);
			else {
				char *u = cmd_usage(NULL, b);
				*cause = xasprintf("%s: unknown subcommand: %s "
				    "(usage: %s)", b->name, argv[i], u);
				free(u);
			}
			strlist_release(&names);
			return 2;
		}
	} else if (b->subcmds != NULL && b->exec == NULL &&
	    !(i < argc && (strcmp(argv[i], "-h") == 0 ||
	    strcmp(argv[i], "--help") == 0))) {
		char *u = cmd_usage(NULL, b);
		*cause = xasprintf("%s: missing subcommand (usage: %s)",
		    b->name, u);
		free(u);
		return 2;
	}

	a->builtin = b;
	a->cmd = cmd;
	nopts = opt_count(cmd->opts);
	a->optv = xcalloc(nopts + 1, sizeof *a->optv);
	strlist_init(&pos);
	if (object != NULL)
		strlist_add(&pos, object);

	for (; i < argc; i++) {
		const char *w = argv[i];
		const struct mlsh_opt *o;
		int index;

		if (cmd->raw_after > 0 && (int)pos.n >= cmd->raw_after)
			dashdash = 1;	/* the rest is the remote command's */
		if (dashdash || w[0] != '-' || w[1] == '\0') {
			strlist_add(&pos, w);
			continue;
		}
		if (strcmp(w, "--") == 0) {
			dashdash = 1;
			continue;
		}
		if (w[1] == '-') {
			const char *name = w + 2, *eq = strchr(name, '=');
			size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
			o = opt_find(cmd, name, nlen, 0, &index);
			if (o == NULL) {
				char *n = xstrndup(name, nlen);
				const char *sug = flag_suggest(cmd, n);
				if (sug != NULL) {
					/* The fix, not the whole usage. */
					*cause = xasprintf("%s: unknown flag: --%s "
					    "(did you mean --%s?)", b->name, n,
					    sug);
					free(n);
					strlist_release(&pos);
					cmd_args_release(a);
					return 2;
				}
				err = xasprintf("unknown flag: --%s", n);
				free(n);
				goto usage;
			}
			if (o->type == OPT_BOOL) {
				if (eq != NULL) {
					err = xasprintf("--%s takes no value",
					    o->name);
					goto usage;
				}
			} else if (eq == NULL) {
				if (i + 1 >= argc) {
					err = xasprintf("--%s needs a value",
					    o->name);
					goto usage;
				}
				if ((err = opt_store(a, o, index,
				    argv[++i])) != NULL)
					goto usage;
				continue;
			} else {
				if ((err = opt_store(a, o, index, eq + 1)) !=
				    NULL)
					goto usage;
				continue;
			}
		} else {
			/* -f value, or -abc for booleans. */
			for (const char *p = w + 1; *p; p++) {
				o = opt_find(cmd, NULL, 0, *p, &index);
				if (o == NULL) {
					err = xasprintf("unknown flag: -%c", *p);
					goto usage;
				}
				if (o->type != OPT_BOOL) {
					const char *v = p[1] ? p + 1 : NULL;
					if (v == NULL) {
						if (i + 1 >= argc) {
							err = xasprintf("-%c "
							    "needs a value", *p);
							goto usage;
						}
						v = argv[++i];
					}
					if ((err = opt_store(a, o, index, v)) !=
					    NULL)
						goto usage;
					break;
				}
				if (index >= 0) {
					free(a->optv[index]);
					a->optv[index] = xstrdup("1");
				} else if (strcmp(o->name, "help") == 0)
					help = 1;
				else if (strcmp(o->name, "json") == 0)
					a->json = 1;
			}
			continue;
		}
		/* A boolean long option. */
		if (index >= 0) {
			free(a->optv[index]);
			a->optv[index] = xstrdup("1");
		} else if (strcmp(o->name, "help") == 0)
			help = 1;
		else if (strcmp(o->name, "json") == 0)
			a->json = 1;
	}
	a->argc = (int)pos.n;
	a->argv = pos.v != NULL ? pos.v : xcalloc(1, sizeof(char *));
	strlist_init(&pos);
	if (help)
		return 3;	/* the caller shows help */
	if (a->argc < cmd->min_args) {
		err = xstrdup(a->argc == 0 ? "missing argument" :
		    "missing arguments");
		goto usage_args;
	}
	if (cmd->max_args >= 0 && a->argc > cmd->max_args) {
		err = xasprintf("unexpected argument: %s",
		    a->argv[cmd->max_args]);
		goto usage_args;
	}
	return 0;

usage:
	strlist_release(&pos);
usage_args:
	{
		char *u = cmd_usage(cmd == b ? NULL : b, cmd);
		*cause = xasprintf("%s: %s (usage: %s)", b->name, err, u);
		free(u);
		free(err);
	}
	cmd_args_release(a);
	return 2;
}

void
cmd_args_release(struct cmd_args *a)
{
	size_t n = a->cmd != NULL ? opt_count(a->cmd->opts) : 0;

	if (a->optv != NULL)
		for (size_t i = 0; i < n; i++)
			free(a->optv[i]);
	free(a->optv);
	for (int i = 0; i < a->argc; i++)
		free(a->argv[i]);
	free(a->argv);
	memset(a, 0, sizeof *a);
}

static int
opt_index(const struct cmd_args *a, const char *name)
{
	size_t n = opt_count(a->cmd->opts);
	for (size_t i = 0; i < n; i++)
		if (strcmp(a->cmd->opts[i].name, name) == 0)
			return (int)i;
	abort();	/* a builtin asked for an option it does not declare */
}

const char *
cmd_opt(const struct cmd_args *a, const char *name)
{
	return a->optv[opt_index(a, name)];
}

int
cmd_opt_bool(const struct cmd_args *a, const char *name)
{
	return a->optv[opt_index(a, name)] != NULL;
}

long long
cmd_opt_int(const struct cmd_args *a, const char *name, long long dflt)
{
	const char *v = a->optv[opt_index(a, name)];
	return v != NULL ? strtoll(v, NULL, 10) : dflt;
}

long long
cmd_opt_num(const struct cmd_args *a, const char *name)
{
	int i = opt_index(a, name);

	return cmd_opt_int(a, name, a->cmd->opts[i].dflt);
}

char *
cmd_usage(const struct mlsh_cmd *parent, const struct mlsh_cmd *cmd)
{
	struct buf b;
	size_t n = opt_count(cmd->opts);

	const char *args_usage = cmd->args_usage;

	buf_init(&b);
	if (parent != NULL)
		buf_printf(&b, "%s ", parent->name);
	if (parent != NULL && (parent->flags & CMD_VERB_SECOND) &&
	    args_usage != NULL && isupper((unsigned char)args_usage[0])) {
		/* "node KIND up …": the object before the verb. */
		size_t n = strcspn(args_usage, " ");
		buf_printf(&b, "%.*s ", (int)n, args_usage);
		args_usage += n;
		args_usage += strspn(args_usage, " ");
	}
	buf_adds(&b, cmd->name);
	if (parent == NULL && cmd->subcmds != NULL) {
		buf_adds(&b, cmd->exec != NULL ? " [" : " ");
		for (size_t i = 0; cmd->subcmds[i].name != NULL; i++)
			buf_printf(&b, "%s%s", i ? "|" : "",
			    cmd->subcmds[i].name);
		buf_adds(&b, cmd->exec != NULL ? "]" : " …");
	}
	for (size_t i = 0; i < n; i++) {
		const struct mlsh_opt *o = &cmd->opts[i];
		if (o->type == OPT_BOOL)
			buf_printf(&b, " [--%s]", o->name);
		else {
			char *m = metavar(o);
			buf_printf(&b, " [--%s %s]", o->name, m);
			free(m);
		}
	}
	if (args_usage != NULL && *args_usage != '\0')
		buf_printf(&b, " %s", args_usage);
	return buf_detach_release(&b);
}

static void
help_opts(struct buf *b, const struct mlsh_opt *opts)
{
	size_t n = opt_count(opts), w = 0;
	char **left = xcalloc(n + 1, sizeof *left);

	for (size_t i = 0; i < n; i++) {
		const struct mlsh_opt *o = &opts[i];
		char *m = o->type == OPT_BOOL ? xstrdup("") : metavar(o);
		if (o->short_name)
			left[i] = xasprintf("-%c, --%s%s%s", o->short_name,
			    o->name, *m ? " " : "", m);
		else
			left[i] = xasprintf("    --%s%s%s", o->name,
			    *m ? " " : "", m);
		free(m);
		if (strlen(left[i]) > w)
			w = strlen(left[i]);
	}
	for (size_t i = 0; i < n; i++) {
		buf_printf(b, "  %-*s  %s\n", (int)w, left[i],
		    opts[i].help ? opts[i].help : "");
		free(left[i]);
	}
	free(left);
}

char *
cmd_help_text(const struct mlsh_cmd *parent, const struct mlsh_cmd *cmd)
{
	struct buf b;
	char *u = cmd_usage(parent, cmd);

	buf_init(&b);
	buf_printf(&b, "usage: %s\n\n%s\n", u, cmd->summary);
	free(u);
	if (cmd->aliases != NULL && cmd->aliases[0] != NULL) {
		buf_adds(&b, "aliases:");
		for (size_t i = 0; cmd->aliases[i]; i++)
			buf_printf(&b, " %s", cmd->aliases[i]);
		buf_addc(&b, '\n');
	}
	if (cmd->help != NULL)
		buf_printf(&b, "\n%s\n", cmd->help);
	if (opt_count(cmd->opts) > 0) {
		buf_adds(&b, "\noptions:\n");
		help_opts(&b, cmd->opts);
	}
	if (parent == NULL && cmd->subcmds != NULL) {
		size_t w = 0;
		buf_adds(&b, "\nsubcommands:\n");
		for (size_t i = 0; cmd->subcmds[i].name; i++)
			if (strlen(cmd->subcmds[i].name) > w)
				w = strlen(cmd->subcmds[i].name);
		for (size_t i = 0; cmd->subcmds[i].name; i++)
			buf_printf(&b, "  %-*s  %s\n", (int)w,
			    cmd->subcmds[i].name, cmd->subcmds[i].summary);
		buf_printf(&b, "\n'help %s SUBCOMMAND' shows a subcommand\n",
		    cmd->name);
	}
	return buf_detach_release(&b);
}

static cJSON *
opts_json(const struct mlsh_opt *opts)
{
	static const char *const types[] = { "string", "integer", "boolean",
	    "enum", "path" };
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < opt_count(opts); i++) {
		const struct mlsh_opt *o = &opts[i];
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "name", o->name);
		if (o->short_name) {
			char s[2] = { o->short_name, 0 };
			cJSON_AddStringToObject(j, "short", s);
		}
		cJSON_AddStringToObject(j, "type", types[o->type]);
		if (o->values != NULL) {
			cJSON *v = cJSON_AddArrayToObject(j, "values");
			for (size_t k = 0; o->values[k]; k++)
				cJSON_AddItemToArray(v,
				    cJSON_CreateString(o->values[k]));
		}
		cJSON_AddStringToObject(j, "help", o->help ? o->help : "");
		cJSON_AddItemToArray(arr, j);
	}
	return arr;
}

cJSON *
cmd_help_json(const struct mlsh_cmd *parent, const struct mlsh_cmd *cmd)
{
	cJSON *j = cJSON_CreateObject();
	char *u = cmd_usage(parent, cmd);

	cJSON_AddStringToObject(j, "name", cmd->name);
	cJSON_AddStringToObject(j, "usage", u);
	free(u);
	cJSON_AddStringToObject(j, "summary", cmd->summary);
	if (cmd->aliases != NULL) {
		cJSON *a = cJSON_AddArrayToObject(j, "aliases");
		for (size_t i = 0; cmd->aliases[i]; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(cmd->aliases[i]));
	}
	cJSON_AddItemToObject(j, "options", opts_json(cmd->opts));
	if (parent == NULL && cmd->subcmds != NULL) {
		cJSON *s = cJSON_AddArrayToObject(j, "subcommands");
		for (size_t i = 0; cmd->subcmds[i].name; i++)
			cJSON_AddItemToArray(s,
			    cmd_help_json(cmd, &cmd->subcmds[i]));
	}
	return j;
}

static void
markdown_cmd(struct buf *b, const struct mlsh_cmd *parent,
    const struct mlsh_cmd *cmd)
{
	char *u = cmd_usage(parent, cmd);

	buf_printf(b, "%s `%s%s%s`\n\n", parent ? "###" : "##",
	    parent ? parent->name : "", parent ? " " : "", cmd->name);
	buf_printf(b, "%s.\n\n```\n%s\n```\n\n", cmd->summary, u);
	free(u);
	if (cmd->help != NULL)
		buf_printf(b, "%s\n\n", cmd->help);
	if (opt_count(cmd->opts) > 0) {
		buf_adds(b, "| option | value | meaning |\n|---|---|---|\n");
		for (size_t i = 0; i < opt_count(cmd->opts); i++) {
			const struct mlsh_opt *o = &cmd->opts[i];
			char *m = o->type == OPT_BOOL ? xstrdup("") : metavar(o);
			buf_printf(b, "| `--%s`%s%c%s | %s | %s |\n", o->name,
			    o->short_name ? ", `-" : "", o->short_name ?
			    o->short_name : ' ', o->short_name ? "`" : "", m,
			    o->help ? o->help : "");
			free(m);
		}
		buf_addc(b, '\n');
	}
}

char *
cmd_markdown(void)
{
	struct buf b;

	buf_init(&b);
	buf_adds(&b, "# mlsh commands\n\nGenerated from the builtin table "
	    "by `make docs` (`mlsh --gen-docs`); do not edit by hand.\n\n"
	    "Every command also takes `--json` (print the result as JSON) "
	    "and `-h`/`--help`.\n\n");
	for (size_t i = 0; mlsh_builtins[i] != NULL; i++) {
		const struct mlsh_cmd *c = mlsh_builtins[i];
		markdown_cmd(&b, NULL, c);
		for (size_t k = 0; c->subcmds && c->subcmds[k].name; k++)
			markdown_cmd(&b, c, &c->subcmds[k]);
	}
	return buf_detach_release(&b);
}
