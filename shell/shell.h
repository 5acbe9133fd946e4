/* shell.h: the shell's context and the one path every command line takes.
 *
 * A line is lexed (lexer.c), each command parsed against the builtin table
 * (cmd.c) and run; its structured result is rendered (output.c) as a table,
 * or JSON with --json. The REPL, -c, stdin, scripts and Lua's mlsh.run all go
 * through shell_run_line / shell_run_argv. */
#ifndef MLSH_SHELL_H
#define MLSH_SHELL_H

#include <signal.h>
#include <stdio.h>
#include <cjson/cJSON.h>
#include "shell/cmd.h"

struct state;
struct history_note;
struct aws_client;
struct aws_options;

/* Set by the SIGINT handler. mlsh_interrupted tells the running command to
 * stop; a command may clear it when Ctrl-C is its normal end (train attach
 * detaches). mlsh_line_interrupted only the REPL clears, before its prompt:
 * while it is set no further command runs (shell_run_argv refuses), so an
 * interrupt ends the whole line, script, -c list or standard input, as in
 * sh, and Lua code cannot go on (script.c). */
extern volatile sig_atomic_t mlsh_interrupted;
extern volatile sig_atomic_t mlsh_line_interrupted;

struct mlsh_var {
	char *name;
	char *value;
};

struct mlsh_ctx {
	/* Global settings (command line, then builtins). */
	char *workspace;
	char *profile;		/* NULL: AWS_PROFILE / default */
	char *region;		/* NULL: AWS_REGION … */
	char *endpoint_url;	/* --endpoint-url */
	int json;		/* --json */
	int trace;		/* --trace / set trace on */
	int wait_lock;		/* --wait */
	/* errexit: a failed command stops the rest of a -c list, a script's
	 * lines or standard input (on for scripts and -c, off at the prompt
	 * and on standard input until `set errexit on`). errexit_off: it was
	 * set off, so a builtin called from Lua prints its error and returns
	 * nil, err instead of raising (Lua code stops at a failure unless
	 * told). */
	int errexit;
	int errexit_off;
	/* --yes: price questions are answered yes (scripts run unattended). */
	int yes;
	/* -w / MLSH_WORKSPACE was given (a saved session's default yields). */
	int workspace_given;
	int interactive;	/* REPL on a tty */
	int lab;		/* --lab / MLSH_LAB=1: the session uses the lab */
	char *lab_dir;		/* $XDG_STATE_HOME/mlsh/lab */
	int color;		/* colour allowed on stdout */
	char *state_dir;	/* $XDG_STATE_HOME/mlsh */

	/* mlsh variables. */
	struct mlsh_var *vars;
	size_t nvars;

	/* The current workspace's state, opened (and locked) on first use. */
	struct state *state;

	/* AWS client, made on first use (aws/ layer). */
	struct aws_client *aws;

	/* The session services' state (builtins/services.def), one opaque
	 * slot each: reach yours through shell_service_slot. */
	void **services;
	/* `mlsh --lab lab …`: the lab command starts and stops the lab
	 * itself, the session does not bring it up first. */
	int lab_no_start;
	/* Regions resolved in this session (shell_region hands out these). */
	struct strlist regions;

	/* Lua host (script.c). */
	void *L;
	int lua_depth;		/* >0 while Lua code runs */
	int lua_run_depth;	/* lua_depth inside mlsh.run(line): a line
				 * run as typed prints as at the prompt */

	/* Session record for `history save`: the Lua form of each successful
	 * command, in order. */
	struct strlist session;
	/* history.c: notes on the commands running now (innermost first),
	 * whether the record needs its var() helper, and the secret-looking
	 * names `set` was not recorded for. */
	struct history_note *notes;
	int session_uses_var;
	struct strlist session_skipped;
	/* Per recorded command, parallel to session (history.c): why it is
	 * a comment, whether a later command uses its result, the ids typed
	 * that no earlier result gave. */
	struct history_rec *session_recs;
	/* Ids results gave: id -> "the Lua expression that reads it". */
	cJSON *session_ids;
	int session_uses_find;
	/* The session's target and workspace, at its first recorded command
	 * (a saved script's header and its WS parameter). */
	char *session_ws, *session_region, *session_profile;
	/* Interactive history (history.c). */
	struct strlist history;
	char *history_path;

	/* The command running now (for cmd_error's prefix). */
	const struct cmd_args *current;
	/* The last error message set by cmd_error (one line, no newline). */
	char *error;
	int exit_requested;
	int exit_status;
	int last_status;
	const char *where;	/* "file:line" prefix for messages in scripts, or NULL */
};

/* Whether a command's result goes back as data (--json, or a builtin
 * called as a Lua function) rather than printed for people: the prompt,
 * scripts' command lines and mlsh.run(line) print for people. */
static inline int
shell_wants_data(const struct mlsh_ctx *ctx, int json)
{
	return json || ctx->lua_depth > ctx->lua_run_depth;
}

void shell_init(struct mlsh_ctx *);
void shell_free(struct mlsh_ctx *);

/* Run a whole line (several commands separated by ';'). Prints results and
 * errors. Returns the status of the last command (2 for a lexing error). */
int shell_run_line(struct mlsh_ctx *, const char *line, size_t len);

/* Run one command given as words. If result is non-NULL the structured
 * result is handed back (not printed) and errors are left in ctx->error;
 * otherwise the result is printed and errors go to stderr. */
int shell_run_argv(struct mlsh_ctx *, int argc, char **argv, cJSON **result);

/* Record a one-line error for the running command: printf-style, lowercase,
 * no trailing period. Returns 1 so exec can `return cmd_error(…)`. */
int cmd_error(struct mlsh_ctx *, const char *fmt, ...) MLSH_PRINTF(2, 3);
/* A usage error: the message plus the command's usage; returns 2. */
int cmd_usage_error(struct mlsh_ctx *, const struct cmd_args *,
    const char *fmt, ...) MLSH_PRINTF(3, 4);

/* Variables: mlsh variables first, then the environment. Borrowed. */
const char *shell_var_get(struct mlsh_ctx *, const char *name);
const char *shell_var_get_local(struct mlsh_ctx *, const char *name);
void shell_var_set(struct mlsh_ctx *, const char *name, const char *value);
int shell_var_unset(struct mlsh_ctx *, const char *name);
int shell_var_name_ok(const char *name);

/* The prompt for the REPL ("mlsh ws@region $0.06/h> ", "mlsh[lab] …" on
 * the lab). Caller frees. */
char *shell_prompt(struct mlsh_ctx *);

/* Print a structured result the way the user asked (table or JSON). */
void shell_print_result(struct mlsh_ctx *, const cJSON *result, int json);

/* Message to stderr, prefixed with the script position when in a script. */
void shell_warn(struct mlsh_ctx *, const char *fmt, ...) MLSH_PRINTF(2, 3);

/* The workspace's state store, opened on first use: for a command that
 * only reads (CMD_READONLY; completion) a snapshot without the lock, else
 * locked (a snapshot taken earlier in the session is locked then), waiting
 * up to SHELL_WAIT_S with a status line under --wait. NULL with *cause set
 * when it cannot be opened (in use: "… in use by pid N (--wait waits for
 * it)", corrupt …). */
#define SHELL_WAIT_S 300
struct state *shell_state(struct mlsh_ctx *, char **cause);
/* Switch workspace: close the current state and open (creating) the new. */
int shell_switch_workspace(struct mlsh_ctx *, const char *name, char **cause);

/* The session's AWS client, made on first use from the session's profile,
 * region, endpoint and trace setting. shell_aws_reset drops it (after a
 * region or profile change) so the next call makes a new one. */
struct aws_client *shell_aws(struct mlsh_ctx *);
void shell_aws_reset(struct mlsh_ctx *);

/* The region in effect (never NULL). */
const char *shell_region(struct mlsh_ctx *);

/* Lua host: script.c */
int script_init(struct mlsh_ctx *);
void script_free(struct mlsh_ctx *);
/* From the SIGINT handler: stop the running Lua code (async-signal-safe). */
void script_interrupt(void);
/* Run a .mlsh (Lua) file with arg = argv. Returns its status; on a Lua
 * error, *cause holds "file:line: message" and a traceback. */
int script_run_file(struct mlsh_ctx *, const char *path, int argc, char **argv,
    char **cause);
int script_run_string(struct mlsh_ctx *, const char *chunk, const char *name,
    cJSON **result);
/* Lua <-> cJSON for builtins' own Lua functions (L is a lua_State *),
 * through luajson.c: a value too deep, too large or cyclic raises a Lua error
 * (so free what you hold first; JSON from cJSON's parser always fits). */
void script_push_json(void *L, const cJSON *);
cJSON *script_to_json(void *L, int idx);
/* Quote a string as a Lua literal. Caller frees. */
char *script_quote(const char *);

/* History: history.c */
void history_load(struct mlsh_ctx *);
void history_add(struct mlsh_ctx *, const char *line);
int history_save_file(struct mlsh_ctx *);
/* The session record for `history save` (history.c). Before a typed
 * command runs, history_note gets its raw text (raw, len) and its words
 * (argc, argv; NULL raw clears the note); after it succeeded,
 * history_record adds its Lua form, with $NAME references kept as
 * references. history_record_sh records a `!` line. */
void history_note(struct mlsh_ctx *, const char *raw, size_t len, int argc,
    char **argv);
void history_record(struct mlsh_ctx *, const struct cmd_args *, char **argv,
    const cJSON *result);
void history_record_sh(struct mlsh_ctx *, const char *text);
/* The saved script (header, parameters, helpers, commands) for path. */
void history_write_script(struct mlsh_ctx *, FILE *, const char *path);
/* Drop the session record. */
void history_session_release(struct mlsh_ctx *);
/* Whether a variable name looks like it holds a secret (TOKEN, SECRET,
 * KEY, PASSWORD in any case): such `set`s are never recorded. */
int history_secret_name(const char *);
#define HISTORY_MAX 1000

/* Session services (service.c): what builtins keep for the whole session,
 * listed in builtins/services.def. The shell calls them and knows nothing
 * else of them; every hook may be NULL. */
struct mlsh_service {
	const char *name;
	/* At session start, after the options (the lab comes up here).
	 * -1 with *cause set stops the session. */
	int (*init)(struct mlsh_ctx *, char **cause);
	/* The workspace changed: drop what belonged to the old one. */
	void (*reset)(struct mlsh_ctx *);
	/* Before each prompt (keep-alives); never blocks. */
	void (*tick)(struct mlsh_ctx *);
	/* A prompt segment ("$1.30/h"), or NULL for none. Caller frees. */
	char *(*prompt)(struct mlsh_ctx *);
	/* At session end. */
	void (*free)(struct mlsh_ctx *);
	/* Make the session's AWS client when this service supplies it (the
	 * lab's control plane): NULL with *cause NULL when it does not, NULL
	 * with *cause set when it should but cannot. */
	struct aws_client *(*aws)(struct mlsh_ctx *, const struct aws_options *,
	    char **cause);
};
/* The service's slot in the context (NULL until it stores something). */
void **shell_service_slot(struct mlsh_ctx *, const struct mlsh_service *);
/* Run each service's hook in services.def order (free: reverse order).
 * shell_services_init stops at the first failure, *cause naming it. */
int shell_services_init(struct mlsh_ctx *, char **cause);
void shell_services_reset(struct mlsh_ctx *);
void shell_services_tick(struct mlsh_ctx *);
void shell_services_prompt(struct mlsh_ctx *, struct buf *);
void shell_services_free(struct mlsh_ctx *);
/* The first service's AWS client (see the aws hook), or NULL. */
struct aws_client *shell_services_aws(struct mlsh_ctx *,
    const struct aws_options *, char **cause);

/* The REPL: repl.c */
int repl_run(struct mlsh_ctx *);

#endif
