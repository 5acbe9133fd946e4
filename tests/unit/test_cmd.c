/* Unit tests: lookup and option parsing from the table's specs. */
#include <stdlib.h>
#include <string.h>
#include "shell/cmd.h"
#include "unit.h"

static const char *const colours[] = { "red", "green", NULL };
static const struct mlsh_opt fx_opts[] = {
	{ "name", 'n', OPT_STRING, NULL, NULL, "a string" },
	{ "count", 'c', OPT_INT, NULL, NULL, "an integer" },
	{ "force", 'f', OPT_BOOL, NULL, NULL, "a boolean" },
	{ "all", 'a', OPT_BOOL, NULL, NULL, "another boolean" },
	{ "colour", 0, OPT_ENUM, colours, NULL, "an enum" },
	{ "file", 0, OPT_PATH, NULL, NULL, "a path" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};
static int
fx_exec(struct mlsh_ctx *c, struct cmd_args *a, cJSON **r)
{
	(void)c; (void)a; (void)r;
	return 0;
}
static const struct mlsh_cmd fx_subs[] = {
	{ .name = "up", .summary = "up", .opts = fx_opts, .min_args = 0,
	    .max_args = 0, .exec = fx_exec },
	{ .name = NULL }
};
static const struct mlsh_cmd fx = {
	.name = "fx", .summary = "fixture", .args_usage = "A [B]",
	.opts = fx_opts, .min_args = 1, .max_args = 2, .exec = fx_exec,
};
static const struct mlsh_cmd fx_nodefault = {
	.name = "node", .summary = "fixture", .subcmds = fx_subs,
};

/* Parse a blank-separated line against e; returns status, *cause. */
static int
parse(const struct mlsh_cmd *e, const char *line, struct cmd_args *a,
    char **cause)
{
	char *copy = strdup(line), *argv[32], *save = NULL;
	int argc = 0, st;

	for (char *w = strtok_r(copy, " ", &save); w && argc < 31;
	    w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	*cause = NULL;
	st = cmd_parse_as(e, argc, argv, a, cause);
	free(copy);
	return st;
}

static void
test_forms(void)
{
	struct cmd_args a;
	char *cause;

	T_EQ_INT(parse(&fx, "fx --name v -c 3 -fa --colour=red x", &a, &cause), 0);
	T_EQ_STR(cmd_opt(&a, "name"), "v");
	T_EQ_INT(cmd_opt_int(&a, "count", 0), 3);
	T_OK(cmd_opt_bool(&a, "force"));
	T_OK(cmd_opt_bool(&a, "all"));
	T_EQ_STR(cmd_opt(&a, "colour"), "red");
	T_OK(cmd_opt(&a, "file") == NULL);
	T_EQ_INT(a.argc, 1);
	T_EQ_STR(a.argv[0], "x");
	cmd_args_release(&a);

	T_EQ_INT(parse(&fx, "fx -nv -c7 -- --name", &a, &cause), 0);
	T_EQ_STR(cmd_opt(&a, "name"), "v");
	T_EQ_INT(cmd_opt_int(&a, "count", 0), 7);
	T_EQ_STR(a.argv[0], "--name");
	cmd_args_release(&a);

	T_EQ_INT(parse(&fx, "fx - --json", &a, &cause), 0);
	T_EQ_STR(a.argv[0], "-");
	T_OK(a.json);
	cmd_args_release(&a);

	T_EQ_INT(parse(&fx, "fx -h", &a, &cause), 3);
	cmd_args_release(&a);
}

static void
test_errors(void)
{
	struct cmd_args a;
	char *cause;

	T_EQ_INT(parse(&fx, "fx --bogus x", &a, &cause), 2);
	T_EQ_STR(cause, "fx: unknown flag: --bogus (usage: fx [--name NAME] "
	    "[--count COUNT] [--force] [--all] [--colour red|green] "
	    "[--file FILE] A [B])");
	free(cause);
	T_EQ_INT(parse(&fx, "fx -z x", &a, &cause), 2);
	T_OK(strstr(cause, "unknown flag: -z") != NULL);
	free(cause);
	T_EQ_INT(parse(&fx, "fx --count x y", &a, &cause), 2);
	T_OK(strstr(cause, "--count needs an integer, not 'x'") != NULL);
	free(cause);
	T_EQ_INT(parse(&fx, "fx --colour=blue y", &a, &cause), 2);
	T_OK(strstr(cause, "--colour must be one of red, green, not 'blue'") !=
	    NULL);
	free(cause);
	T_EQ_INT(parse(&fx, "fx --name", &a, &cause), 2);
	T_OK(strstr(cause, "--name needs a value") != NULL);
	free(cause);
	T_EQ_INT(parse(&fx, "fx --force=1 y", &a, &cause), 2);
	T_OK(strstr(cause, "--force takes no value") != NULL);
	free(cause);
	T_EQ_INT(parse(&fx, "fx", &a, &cause), 2);
	T_OK(strstr(cause, "fx: missing argument (usage: fx") == cause);
	free(cause);
	T_EQ_INT(parse(&fx, "fx a b c", &a, &cause), 2);
	T_OK(strstr(cause, "unexpected argument: c") != NULL);
	free(cause);
	T_EQ_INT(parse(&fx_nodefault, "node", &a, &cause), 2);
	T_OK(strstr(cause, "node: missing subcommand") == cause);
	free(cause);
	T_EQ_INT(parse(&fx_nodefault, "node uq", &a, &cause), 2);
	T_EQ_STR(cause, "node: unknown subcommand: uq (did you mean up?)");
	free(cause);
}

static void
test_subcommand(void)
{
	struct cmd_args a;
	char *cause;

	T_EQ_INT(parse(&fx_nodefault, "node up --count 2", &a, &cause), 0);
	T_OK(a.cmd == &fx_subs[0]);
	T_OK(a.builtin == &fx_nodefault);
	T_EQ_INT(cmd_opt_int(&a, "count", 0), 2);
	cmd_args_release(&a);
}

static void
test_lookup(void)
{
	char *cause = NULL;
	const struct mlsh_cmd *c;

	c = cmd_find("workspace", &cause);
	T_OK(c != NULL && strcmp(c->name, "workspace") == 0);
	c = cmd_find("ws", &cause);		/* alias */
	T_OK(c != NULL && strcmp(c->name, "workspace") == 0);
	c = cmd_find("wor", &cause);		/* unique prefix */
	T_OK(c != NULL && strcmp(c->name, "workspace") == 0);
	T_OK(cmd_find("h", &cause) == NULL);
	T_EQ_STR(cause, "ambiguous command: h, could be: help, history");
	free(cause);
	T_OK(cmd_find("hstory", &cause) == NULL);
	T_EQ_STR(cause, "unknown command: hstory (did you mean history?)");
	free(cause);
	T_OK(cmd_find("zzzzzzzz", &cause) == NULL);
	T_EQ_STR(cause, "unknown command: zzzzzzzz (try 'help')");
	free(cause);
	T_EQ_INT(cmd_edit_distance("kitten", "sitting"), 3);
	/* Transpositions cost one edit (Damerau): a swapped pair is the
	 * closest typo, ahead of a name one deletion away. */
	T_EQ_INT(cmd_edit_distance("vcp", "vpc"), 1);
	T_EQ_INT(cmd_edit_distance("ca", "abc"), 3);
	T_OK(cmd_find("vcp", &cause) == NULL);
	T_EQ_STR(cause, "unknown command: vcp (did you mean vpc?)");
	free(cause);
	T_OK(cmd_find("stauts", &cause) == NULL);
	T_EQ_STR(cause, "unknown command: stauts (did you mean status?)");
	free(cause);
	{
		/* A misspelt flag gets the flag it was meant to be. */
		char *argv[] = { "down", "--dry-rn", NULL };
		struct cmd_args a;
		T_EQ_INT(cmd_parse(2, argv, &a, &cause), 2);
		T_EQ_STR(cause, "down: unknown flag: --dry-rn (did you mean "
		    "--dry-run?)");
		free(cause);
		argv[1] = "--jsno";
		T_EQ_INT(cmd_parse(2, argv, &a, &cause), 2);
		T_EQ_STR(cause, "down: unknown flag: --jsno (did you mean "
		    "--json?)");
		free(cause);
		argv[1] = "--zzzzzz";
		T_EQ_INT(cmd_parse(2, argv, &a, &cause), 2);
		T_OK(strstr(cause, "unknown flag: --zzzzzz (usage: down") !=
		    NULL);
		free(cause);
	}
}

static void
test_docs_from_table(void)
{
	char *md = cmd_markdown(), *h = cmd_help_text(NULL, &fx);

	/* Every builtin has a section in the generated reference. */
	for (size_t i = 0; mlsh_builtins[i] != NULL; i++) {
		char *hdr = NULL;
		if (asprintf(&hdr, "## `%s`", mlsh_builtins[i]->name) < 0)
			abort();
		T_OK(strstr(md, hdr) != NULL);
		free(hdr);
	}
	T_OK(strstr(h, "  -c, --count COUNT ") != NULL);
	T_OK(strstr(h, "      --colour red|green  an enum") != NULL);
	free(md);
	free(h);
}

int
main(void)
{
	T_RUN(test_forms);
	T_RUN(test_errors);
	T_RUN(test_subcommand);
	T_RUN(test_lookup);
	T_RUN(test_docs_from_table);
	T_DONE();
}
