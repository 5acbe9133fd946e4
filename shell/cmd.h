/* cmd.h: the one table of builtins.
 *
 * Every builtin is a file builtins/<name>.c exporting one const struct
 * mlsh_cmd, listed in builtins/builtins.def. Parsing, validation, usage
 * errors, help, completion, the Lua bindings and docs/commands.md are all
 * produced by walking these entries, never written twice. */
#ifndef MLSH_CMD_H
#define MLSH_CMD_H

#include <limits.h>
#include <cjson/cJSON.h>
#include "lib/util.h"

struct mlsh_ctx;

enum opt_type {
	OPT_STRING,
	OPT_INT,
	OPT_BOOL,	/* takes no value */
	OPT_ENUM,	/* one of .values */
	OPT_PATH,	/* a file path: completes files */
};

struct mlsh_opt {
	const char *name;		/* long name, without "--" */
	char short_name;		/* 0 when none */
	enum opt_type type;
	const char *const *values;	/* OPT_ENUM: NULL-terminated */
	const char *metavar;		/* "CIDR"; NULL: upper-cased name */
	const char *help;
	/* A number with a range (OPT_NUM): the parser refuses a value
	 * outside min..max, with one message for every command; cmd_opt_num
	 * gives dflt when the option is absent. */
	int ranged;
	long long min, max, dflt;
};

/* The end of an option list. */
#define OPT_END { NULL, 0, 0, NULL, NULL, NULL }
/* Options many builtins take, spelt one way: -n is --dry-run everywhere
 * (as make -n, rsync -n), -y --yes, -f --force, -N --node. */
#define OPT_DRY_RUN(help) { "dry-run", 'n', OPT_BOOL, NULL, NULL, help }
#define OPT_YES(help) { "yes", 'y', OPT_BOOL, NULL, NULL, help }
#define OPT_OVER_BUDGET { "over-budget", 0, OPT_BOOL, NULL, NULL, \
	"start it even when the workspace has spent its budget (set budget)" }
#define OPT_FORCE(help) { "force", 'f', OPT_BOOL, NULL, NULL, help }
#define OPT_NODE(help) { "node", 'N', OPT_STRING, NULL, NULL, help }
/* An integer option from lo to hi (CMD_NUM_MAX: no upper bound), def
 * when absent. */
#define OPT_NUM(name, short_name, metavar, help, lo, hi, def) \
	{ name, short_name, OPT_INT, NULL, metavar, help, 1, lo, hi, def }
#define CMD_NUM_MAX LLONG_MAX

/* The parsed form of one command, handed to exec. */
struct cmd_args {
	const struct mlsh_cmd *builtin;	/* top-level entry */
	const struct mlsh_cmd *cmd;	/* the subcommand run, or builtin */
	int argc;			/* positionals */
	char **argv;
	char **optv;			/* parallel to cmd->opts; NULL = not given,
					 * "1" for a given boolean */
	int json;			/* --json on this call or globally */
};

/* Completion hook: add to out the values that fit prefix for the option
 * named opt (NULL for a positional, argi = its index). The args hold the
 * positionals typed before it (argc/argv; optv is NULL). Reads caches only:
 * it must never block the prompt on the network. */
typedef void (*cmd_complete_fn)(struct mlsh_ctx *, const struct cmd_args *,
    const char *opt, int argi, const char *prefix, struct strlist *out);

/* Run the command. Return 0 on success with *result set (or left NULL),
 * 1 on failure after cmd_error(), 2 for a usage error. */
typedef int (*cmd_exec_fn)(struct mlsh_ctx *, struct cmd_args *,
    cJSON **result);

/* Extra Lua functions a builtin adds to its Lua table (e.g. api.call). The
 * argument is a lua_State * with the builtin's table on top of the stack. */
typedef void (*cmd_lua_fn)(struct mlsh_ctx *, void *L);

#define CMD_NO_HISTORY	0x1	/* not recorded for `history save` */
/* The object may come before the verb: `node dl1 up` parses as
 * `node up dl1` when the first word is not a subcommand and the second is.
 * Usage then shows the subcommand's first positional before its name. */
#define CMD_VERB_SECOND	0x2
/* The command (this entry's own exec, or this subcommand) only reads the
 * workspace: it works beside another mlsh that holds it, on a snapshot of
 * the state taken without the lock (lib/state.h). A save it makes after all
 * (status --refresh) takes the lock then, and fails while another holds it.
 * Every other command that opens the state takes the lock first. */
#define CMD_READONLY	0x4

struct mlsh_cmd {
	const char *name;
	const char *const *aliases;	/* NULL-terminated, or NULL */
	const char *summary;		/* one line, lowercase, no period */
	const char *args_usage;		/* positional part: "[NAME]", "FILE [ARGS…]" */
	const char *help;		/* longer text for `help CMD`, or NULL */
	const struct mlsh_opt *opts;	/* terminated by a NULL name, or NULL */
	int min_args, max_args;		/* max -1: unlimited */
	enum opt_type arg_type;		/* OPT_PATH: positionals complete files */
	int raw_after;			/* >0: after this many positionals every
					 * word is a positional (ssh TARGET CMD…) */
	const struct mlsh_cmd *subcmds;	/* terminated by a NULL name, or NULL;
					 * with exec set too, a word that is not
					 * a subcommand goes to exec */
	cmd_complete_fn complete;
	cmd_exec_fn exec;
	cmd_lua_fn lua;
	/* In Lua's table form, the key whose value (a list of words, or one
	 * word) is the rest of the positionals: train.run{cmd={"python3",
	 * "run.py"}} runs `train run -- python3 run.py`. NULL: none. */
	const char *lua_rest;
	int flags;
};

/* The table: NULL-terminated, in builtins.def order. */
extern const struct mlsh_cmd *const mlsh_builtins[];

/* Lookup by exact name or alias, else unique prefix. Returns NULL and sets
 * *cause ("unknown command: x (did you mean y?)" / "ambiguous command: x,
 * could be: a, b") when there is none. */
const struct mlsh_cmd *cmd_find(const char *name, char **cause);
const struct mlsh_cmd *cmd_find_sub(const struct mlsh_cmd *, const char *name);

/* Parse argv (argv[0] is the builtin's name as typed) against the table.
 * Returns 0 and fills *args (release with cmd_args_release), or 2 with a
 * one-line *cause that already names the command and its usage. */
int cmd_parse(int argc, char **argv, struct cmd_args *args, char **cause);
/* The same against a given entry (argv[0] is not looked up). -h/--help
 * returns 3 with *args filled, so the caller can show the help. */
int cmd_parse_as(const struct mlsh_cmd *, int argc, char **argv,
    struct cmd_args *args, char **cause);
void cmd_args_release(struct cmd_args *);

/* Option accessors by long name; the name must exist in the spec. */
const char *cmd_opt(const struct cmd_args *, const char *name);
int cmd_opt_bool(const struct cmd_args *, const char *name);
long long cmd_opt_int(const struct cmd_args *, const char *name, long long dflt);
/* An OPT_NUM option's value, else its entry's default. */
long long cmd_opt_num(const struct cmd_args *, const char *name);

/* "workspace [ls|rm] [NAME]" style usage line for an entry or a subcommand
 * (parent NULL for a top-level entry). Caller frees. */
char *cmd_usage(const struct mlsh_cmd *parent, const struct mlsh_cmd *cmd);
/* Full help text (usage, summary, options, subcommands). Caller frees. */
char *cmd_help_text(const struct mlsh_cmd *parent, const struct mlsh_cmd *cmd);
/* The same as a JSON value. */
cJSON *cmd_help_json(const struct mlsh_cmd *parent, const struct mlsh_cmd *cmd);
/* docs/commands.md. Caller frees. */
char *cmd_markdown(void);

/* Closest name among names by edit distance with transpositions (at most 2,
 * ties to the nearer length), or NULL. Borrowed. */
const char *cmd_suggest(const char *name, const char *const *names);
int cmd_edit_distance(const char *, const char *);

#endif
