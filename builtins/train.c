/* train: training runs that live on the node, not in mlsh.
 *
 * `train run -- CMD…` starts CMD detached on a node (setsid + nohup, stdin
 * from /dev/null, output to a log), so it survives mlsh exiting and the SSH
 * connection dropping. Everything about a run is in its directory on the
 * node, the one source of truth: /efs/runs/<run>/ when /efs is mounted (seen
 * from every node), else ~/runs/<run>/ on the node's disk:
 *
 *	cmd	the command as given      node	the node's name ("dl1-1")
 *	run.sh	the wrapper that ran it   pid	the wrapper's pid = its process group
 *	log	stdout and stderr         started	unix time (node clock)
 *	exit	the exit status, written by the wrapper when the command ends
 *	stopped	unix time `train stop` was asked (with exit: state "killed")
 *
 * Following (`logs -f`, `attach`) polls the node with `tail -c +OFFSET`
 * reads: the exit file is checked before the log is read, so once it is
 * there the log is drained and the follow ends. A dropped connection only
 * means the next poll reconnects at the same offset. `attach` keeps the byte
 * offset it has printed up to in $XDG_STATE_HOME/mlsh/train/<ws>/<run>.offset
 * (updated after every write), so a new mlsh picks up where a killed one
 * stopped: no line lost, none repeated.
 *
 * Progress (progress.c) comes from lines matching the mlsh variable
 * train_pattern (default: the DCGAN format), with the ETA and the cost to
 * finish at the node's $/h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "shell/shell.h"
#include "shell/ui.h"
#include "lib/state.h"
#include "shell/complete.h"
#include "shell/plot.h"
#include "stack/progress.h"
#include "stack/trainlog.h"
#include "stack/stack.h"
#include "builtins/stage.h"
#include "builtins/stackcmd.h"
#include "builtins/target.h"

#define CHUNK_MAX	(1024 * 1024)	/* bytes per poll */
#define POLL_MS		500
#define RETRY_MAX_S	300		/* give up following after this long
					 * without a working connection */
#define GRACE_DEFAULT	10
#define GRACE_MAX	300

/* Where runs live: shell code that sets $b to the base directory. */
#define SH_BASE \
	"if mountpoint -q /efs 2>/dev/null || [ -d /efs/runs ]; then " \
	"b=/efs/runs; else b=\"$HOME/runs\"; fi; "
/* Find run $r: sets $d or exits 44. */
#define SH_FIND \
	"d=; for b in /efs/runs \"$HOME/runs\"; do " \
	"[ -d \"$b/$r\" ] && [ -e \"$b/$r/started\" ] && { d=$b/$r; break; }; " \
	"done; [ -n \"$d\" ] || exit 44; "
#define EXIT_NO_RUN	44

struct run_info {
	char *name, *dir, *node_file, *cmd;
	long long pid, started, now, stopped, logsize;
	char exit_s[16];		/* "-" while none */
	int alive;
	char *first, *last;		/* progress lines, or NULL */
	char *done;			/* the last "epoch E/N done" line */
	const char *role;		/* the node it was read from */
};

static int train_run(struct mlsh_ctx *, struct cmd_args *, cJSON **);
static int train_logs(struct mlsh_ctx *, struct cmd_args *, cJSON **);
static int train_attach(struct mlsh_ctx *, struct cmd_args *, cJSON **);
static int train_status(struct mlsh_ctx *, struct cmd_args *, cJSON **);
static int train_stop(struct mlsh_ctx *, struct cmd_args *, cJSON **);
static int train_ls(struct mlsh_ctx *, struct cmd_args *, cJSON **);
static int train_plot(struct mlsh_ctx *, struct cmd_args *, cJSON **);
static int train_samples(struct mlsh_ctx *, struct cmd_args *, cJSON **);
static void train_complete(struct mlsh_ctx *, const struct cmd_args *,
    const char *, int, const char *, struct strlist *);

static const struct mlsh_opt run_opts[] = {
	OPT_NODE("node to run on (default: the workspace's only node)"),
	{ "env", 'e', OPT_STRING, NULL, "CONDA_ENV",
	    "activate this conda environment first (pytorch_p38)" },
	{ "name", 0, OPT_STRING, NULL, "RUN",
	    "the run's name (default r1, r2 …: the next free one)" },
	{ "workdir", 'C', OPT_STRING, NULL, "DIR",
	    "directory to run in on the node (default: home)" },
	{ "attach", 'a', OPT_BOOL, NULL, NULL,
	    "follow it with progress right away (Ctrl-C detaches)" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};
static const struct mlsh_opt logs_opts[] = {
	{ "follow", 'f', OPT_BOOL, NULL, NULL,
	    "keep printing until the run ends (Ctrl-C stops following)" },
	OPT_NODE("node the run is on"),
	{ NULL, 0, 0, NULL, NULL, NULL }
};
static const struct mlsh_opt attach_opts[] = {
	{ "all", 0, OPT_BOOL, NULL, NULL,
	    "print the log from the start, not from where the last attach "
	    "stopped" },
	OPT_NODE("node the run is on"),
	{ NULL, 0, 0, NULL, NULL, NULL }
};
static const struct mlsh_opt node_opts[] = {
	OPT_NODE("node to look on (default: every node)"),
	{ NULL, 0, 0, NULL, NULL, NULL }
};
static const struct mlsh_opt stop_opts[] = {
	OPT_NUM("grace", 'g', "SECONDS",
	    "wait this long after TERM before KILL (default 10, at most 300)",
	    0, GRACE_MAX, GRACE_DEFAULT),
	OPT_NODE("node the run is on"),
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct mlsh_opt plot_opts[] = {
	OPT_NUM("width", 'W', "COLUMNS",
	    "the picture's width (default: the terminal's)", PLOT_MIN_WIDTH,
	    1000, 0),
	OPT_NUM("height", 'H', "LINES",
	    "its height (default: the terminal's less one line)",
	    PLOT_MIN_HEIGHT, 500, 0),
	OPT_NODE("node the run is on"),
	{ NULL, 0, 0, NULL, NULL, NULL }
};
static const struct mlsh_opt samples_opts[] = {
	OPT_NODE("node the run is on"),
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct mlsh_cmd train_subcmds[] = {
	{ .name = "run", .summary = "start a command detached on a node",
	    .args_usage = "-- COMMAND…",
	    .help = "Starts COMMAND with setsid and nohup on the node, output "
	    "to the run's log, so it keeps going when mlsh exits or the "
	    "connection drops. Several words are quoted one by one; a single "
	    "word is a shell command line ('cd src && python3 run.py | tee "
	    "x'). The run's files are in /efs/runs/RUN/ when /efs is "
	    "mounted, else ~/runs/RUN/ on the node. Lua: train.run{node="
	    "\"dl1-1\", cmd={\"python3\", \"run.py\"}}.",
	    .opts = run_opts, .min_args = 1, .max_args = -1,
	    .complete = train_complete, .exec = train_run, .lua_rest = "cmd" },
	{ .name = "logs", .summary = "print a run's log (-f: follow it)",
	    .args_usage = "RUN", .opts = logs_opts, .min_args = 1,
	    .max_args = 1, .complete = train_complete, .exec = train_logs,
	    .flags = CMD_NO_HISTORY },
	{ .name = "attach", .summary = "follow a run with progress until it "
	    "ends (Ctrl-C detaches, the run goes on)",
	    .args_usage = "RUN",
	    .help = "Prints the log from where the last attach on this machine "
	    "stopped (--all: from the start) and keeps following it, with a "
	    "progress line: epoch, fraction done, ETA and the estimated cost "
	    "to finish at the node's hourly price. Progress lines match the "
	    "POSIX ERE in the variable train_pattern (four groups: epoch, "
	    "epochs, step, steps; default the DCGAN format "
	    "'[3/16][450/7463]'). Ends when the run has ended and its log is "
	    "drained; the result is the run's final state.",
	    .opts = attach_opts, .min_args = 1, .max_args = 1,
	    .complete = train_complete, .exec = train_attach },
	{ .name = "status", .summary = "a run's state, progress, ETA, cost "
	    "to finish, images/s and cost per epoch (every run without RUN)",
	    .args_usage = "[RUN]", .opts = node_opts, .min_args = 0,
	    .max_args = 1, .complete = train_complete, .exec = train_status,
	    .flags = CMD_NO_HISTORY },
	{ .name = "stop", .summary = "stop a run: TERM to its process group, "
	    "KILL after a grace period",
	    .args_usage = "RUN", .opts = stop_opts, .min_args = 1,
	    .max_args = 1, .complete = train_complete, .exec = train_stop },
	{ .name = "ls", .summary = "the runs on the workspace's nodes",
	    .opts = node_opts, .min_args = 0, .max_args = 0,
	    .complete = train_complete, .exec = train_ls,
	    .flags = CMD_NO_HISTORY },
	{ .name = "plot", .summary = "Loss_D and Loss_G over the steps, drawn "
	    "in the terminal", .args_usage = "RUN",
	    .help = "Reads the progress lines of the run's log (rank 0's) and "
	    "draws Loss_D (braille dots) and Loss_G (blocks) over the global "
	    "step (epoch * steps + step), fitted to the terminal or to "
	    "--width and --height; in colour on a terminal unless NO_COLOR is "
	    "set. Each column shows the mean of its steps, so 100,000 lines "
	    "draw as fast as 100; the labels are the extremes. At most the "
	    "newest 200,000 lines are read. With --json and in Lua the result "
	    "is the series instead of the picture: steps, loss_d and loss_g "
	    "(null where a line lacks that loss).",
	    .opts = plot_opts, .min_args = 1, .max_args = 1,
	    .complete = train_complete, .exec = train_plot,
	    .flags = CMD_NO_HISTORY },
	{ .name = "samples", .summary = "copy the run's newest sample grid "
	    "(PNG) here and print its path", .args_usage = "RUN [DEST]",
	    .help = "The newest 'samples: PATH' line of the run's log names "
	    "the grid; it is copied over SFTP (as cp) into DEST: an existing "
	    "directory (default the current one) under its own name, or that "
	    "file name, which it replaces as cp does. The copy must be a PNG "
	    "of at most 64 MB, else nothing is written. A relative PATH is "
	    "taken from the node's home directory. Result: path, bytes, "
	    "remote (and width, height).",
	    .opts = samples_opts, .min_args = 1, .max_args = 2,
	    .complete = train_complete, .exec = train_samples },
	{ .name = NULL }
};

const struct mlsh_cmd cmd_train_entry = {
	.name = "train",
	.summary = "training runs detached on the nodes: run, attach, logs, "
	    "status, stop, ls, plot, samples",
	.help = "A run lives on its node: `train run -- python3 train.py` "
	    "starts it detached and returns; `train attach r1` follows it with "
	    "a progress bar, ETA and the cost to finish; Ctrl-C detaches and "
	    "the run goes on, and a later attach (from any mlsh) resumes where "
	    "the last one stopped.",
	.subcmds = train_subcmds,
};

/* ---- helpers ------------------------------------------------------------ */

static int
run_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || s[0] == '.' || s[0] == '-')
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
		    *s == '-'))
			return 0;
	return 1;
}

static const char *
rec_str(const cJSON *rec, const char *attrs_key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(rec, "attrs"), attrs_key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The training nodes: instances other than the jump host and Grafana. */
static void
node_roles(const cJSON *res, struct strlist *out)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, res) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "type");
		if (!cJSON_IsString(t) || strcmp(t->valuestring, "instance") ||
		    strcmp(r->string, "jump") == 0 ||
		    strcmp(r->string, "grafana") == 0)
			continue;
		strlist_add(out, r->string);
	}
	strlist_sort(out);
}

/* The nodes a command looks at: --node, else every node. -1 after
 * cmd_error when there is none. */
static int
pick_nodes(struct mlsh_ctx *ctx, struct cmd_args *a, int only_one,
    struct strlist *out)
{
	const cJSON *res;
	const char *want = cmd_opt(a, "node");
	struct strlist all;
	struct buf b;

	if ((res = target_resources(ctx)) == NULL)
		return -1;
	strlist_init(&all);
	node_roles(res, &all);
	if (want != NULL) {
		if (!strlist_has(&all, want)) {
			buf_init(&b);
			for (size_t i = 0; i < all.n; i++)
				buf_printf(&b, "%s%s", i ? ", " : "", all.v[i]);
			cmd_error(ctx, "no node '%s' in workspace '%s' (nodes: "
			    "%s)", want, ctx->workspace, all.n ? b.data :
			    "none; 'node dl1 up' starts one");
			buf_release(&b);
			strlist_release(&all);
			return -1;
		}
		strlist_add(out, want);
		strlist_release(&all);
		return 0;
	}
	if (all.n == 0) {
		strlist_release(&all);
		cmd_error(ctx, "no node in workspace '%s'; run 'node dl1 up' "
		    "first", ctx->workspace);
		return -1;
	}
	if (only_one && all.n > 1) {
		buf_init(&b);
		for (size_t i = 0; i < all.n; i++)
			buf_printf(&b, "%s%s", i ? ", " : "", all.v[i]);
		cmd_error(ctx, "workspace '%s' has %zu nodes (%s); say which "
		    "with --node", ctx->workspace, all.n, b.data);
		buf_release(&b);
		strlist_release(&all);
		return -1;
	}
	for (size_t i = 0; i < all.n; i++)
		strlist_add(out, all.v[i]);
	strlist_release(&all);
	return 0;
}

/* $/h of a node (-1 unknown). */
static double
node_price(struct mlsh_ctx *ctx, const char *role)
{
	const cJSON *res = target_resources(ctx), *rec;
	const char *type;

	if (res == NULL)
		return -1;
	rec = cJSON_GetObjectItemCaseSensitive(res, role);
	if ((type = rec_str(rec, "instance_type")) == NULL)
		return -1;
	return stack_price(stackcmd_prices(ctx), type);
}

struct collect {
	struct buf out, err;
	size_t max;			/* bytes each may hold, 0: no limit */
};

/* More than max bytes from the node (not trusted) fails the exec. */
static int
collect_out(void *arg, const char *data, size_t len)
{
	struct collect *c = arg;

	if (c->max && c->out.len + len > c->max)
		return -1;
	buf_add(&c->out, data, len);
	return 0;
}

static int
collect_err(void *arg, const char *data, size_t len)
{
	struct collect *c = arg;

	if (c->max && c->err.len + len > c->max)
		return -1;
	buf_add(&c->err, data, len);
	return 0;
}

/* Run script on role's node; output collected, at most max bytes of each
 * stream (0: no limit). The exit code, or -1 with *cause set (the
 * connection failed, too much output, or Ctrl-C: *cancelled). */
static int
node_sh_max(struct mlsh_ctx *ctx, const char *ip, const char *script,
    struct collect *c, int timeout_ms, int *cancelled, char **cause,
    size_t max)
{
	struct rmt_session *s;
	struct rmt_exec ex = RMT_EXEC_INIT;
	struct rmt_status st;

	buf_init(&c->out);
	buf_init(&c->err);
	c->max = max;
	if (cancelled != NULL)
		*cancelled = 0;
	if ((s = target_session(ctx)) == NULL) {
		*cause = xstrdup(ctx->error ? ctx->error : "no session");
		return -1;
	}
	ex.command = script;
	ex.on_stdout = collect_out;
	ex.on_stderr = collect_err;
	ex.arg = c;
	ex.cancel = target_cancelled;
	ex.timeout_ms = timeout_ms;
	memset(&st, 0, sizeof st);
	if (rmt_exec(s, ip, &ex, &st, cause) != 0)
		return -1;
	if (st.cancelled || st.timed_out) {
		if (cancelled != NULL)
			*cancelled = st.cancelled;
		*cause = xstrdup(st.cancelled ? "interrupted" : "timed out");
		return -1;
	}
	buf_addc(&c->out, '\0');
	c->out.len--;
	buf_addc(&c->err, '\0');
	c->err.len--;
	return st.exit_code;
}

static int
node_sh(struct mlsh_ctx *ctx, const char *ip, const char *script,
    struct collect *c, int timeout_ms, int *cancelled, char **cause)
{
	return node_sh_max(ctx, ip, script, c, timeout_ms, cancelled, cause, 0);
}

static void
collect_release(struct collect *c)
{
	buf_release(&c->out);
	buf_release(&c->err);
}

/* The last line of text (for remote errors), trimmed. */
static char *
last_line(const char *s)
{
	const char *e, *p;

	if (s == NULL)
		return xstrdup("");
	e = s + strlen(s);
	while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' '))
		e--;
	p = e;
	while (p > s && p[-1] != '\n')
		p--;
	return xstrndup(p, (size_t)(e - p));
}

static char *
train_pattern(struct mlsh_ctx *ctx)
{
	const char *p = shell_var_get_local(ctx, "train_pattern");

	return xstrdup(p != NULL && *p ? p : PROGRESS_DEFAULT_PATTERN);
}

/* Local cache of run names for completion (never blocks the prompt). */
static char *
cache_dir(struct mlsh_ctx *ctx)
{
	return xasprintf("%s/train/%s", ctx->state_dir, ctx->workspace);
}

static void
cache_runs(struct mlsh_ctx *ctx, const struct strlist *names, int replace)
{
	char *dir = cache_dir(ctx), *p, *cause = NULL, *old;
	struct strlist all;
	struct buf text;

	if (mkdir_p(dir, 0700, &cause) != 0) {
		free(cause);
		free(dir);
		return;
	}
	p = xasprintf("%s/runs", dir);
	strlist_init(&all);
	if (!replace && (old = file_read(p, NULL, &cause)) != NULL) {
		for (char *s = old, *nl; *s; s = nl + 1) {
			if ((nl = strchr(s, '\n')) == NULL)
				break;
			if (nl > s)
				strlist_addn(&all, s, (size_t)(nl - s));
		}
		free(old);
	}
	free(cause);
	cause = NULL;
	for (size_t i = 0; i < names->n; i++)
		strlist_add(&all, names->v[i]);
	strlist_sort(&all);
	strlist_uniq(&all);
	/* Atomic and 0600 like every state file (lib/state.c). */
	buf_init(&text);
	for (size_t i = 0; i < all.n; i++)
		buf_printf(&text, "%s\n", all.v[i]);
	if (state_write_file(p, text.data ? text.data : "", text.len,
	    &cause) != 0)
		free(cause);
	buf_release(&text);
	free(p);
	free(dir);
	strlist_release(&all);
}

static void
train_complete(struct mlsh_ctx *ctx, const struct cmd_args *a,
    const char *opt, int argi, const char *prefix, struct strlist *out)
{
	char *dir, *p, *text, *cause = NULL;

	if (opt != NULL) {
		if (strcmp(opt, "node") == 0) {
			struct strlist t;
			strlist_init(&t);
			target_complete(ctx, prefix, &t);
			for (size_t i = 0; i < t.n; i++)
				if (strcmp(t.v[i], "jump") != 0 &&
				    strcmp(t.v[i], "grafana") != 0)
					strlist_add(out, t.v[i]);
			strlist_release(&t);
		}
		return;
	}
	if (a->cmd != NULL && strcmp(a->cmd->name, "samples") == 0 &&
	    argi == 1) {
		complete_files(prefix, out);	/* DEST */
		return;
	}
	if (a->cmd == NULL || strcmp(a->cmd->name, "run") == 0 || argi != 0)
		return;
	dir = cache_dir(ctx);
	p = xasprintf("%s/runs", dir);
	if ((text = file_read(p, NULL, &cause)) != NULL) {
		for (char *s = text, *nl; *s; s = nl + 1) {
			if ((nl = strchr(s, '\n')) == NULL)
				break;
			*nl = '\0';
			if (*s && str_startswith(s, prefix))
				strlist_add(out, s);
		}
		free(text);
	}
	free(cause);
	free(p);
	free(dir);
}

/* ---- run ---------------------------------------------------------------- */

/* Shell that sets $act to the node's conda activate script, or leaves it
 * empty (the Deep Learning AMIs' anaconda3, miniconda, /opt/conda, or
 * wherever `conda info --base` says). */
#define CONDA_FIND \
	"for f in \"$HOME/anaconda3/bin/activate\" " \
	"\"$HOME/miniconda3/bin/activate\" /opt/conda/bin/activate " \
	"/usr/local/anaconda3/bin/activate; do\n" \
	"\t[ -f \"$f\" ] && { act=$f; break; }\n" \
	"done\n" \
	"if [ -z \"$act\" ] && command -v conda >/dev/null 2>&1; " \
	"then act=\"$(conda info --base 2>/dev/null)/bin/activate\"; fi\n"

/* --env checked before the run is made, so a node without conda (or
 * without that environment) is one line at start, not a run whose log
 * says so: activate it in a subshell, as the wrapper will. */
static void
conda_check(struct buf *b, const char *env)
{
	char *qe = str_sh_quote(env);

	buf_printf(b, "env=%s; act=\n" CONDA_FIND
	    "if [ -z \"$act\" ] || [ ! -f \"$act\" ]; then echo \"no conda on "
	    "this node: cannot activate environment '$env' (--env)\" >&2; "
	    "exit 5; fi\n"
	    "( set -- \"$env\"; . \"$act\" >/dev/null 2>&1 && "
	    "{ [ \"${CONDA_DEFAULT_ENV:-}\" = \"$env\" ] || "
	    "[ \"$(basename \"${CONDA_PREFIX:-}\")\" = \"$env\" ]; } ) || "
	    "{ echo \"no conda environment '$env' on this node (conda: "
	    "${act%%/bin/activate})\" >&2; exit 5; }\n", qe);
	free(qe);
}

/* The wrapper that runs on the node as `sh run.sh DIR`: records its pid
 * (= the process group setsid made), activates the conda environment,
 * runs the command and records how it ended. TERM is trapped so a
 * `train stop` lets the command end and the exit status still be written. */
static char *
wrapper_script(const char *env, const char *workdir, const char *cmdline)
{
	struct buf b;

	buf_init(&b);
	buf_adds(&b,
	    "# mlsh train: the wrapper of one run (sh run.sh RUN_DIR)\n"
	    "d=$1\n"
	    "echo $$ >\"$d/pid.tmp\" && mv \"$d/pid.tmp\" \"$d/pid\"\n"
	    "finish() { echo \"$1\" >\"$d/exit.tmp\" && "
	    "mv \"$d/exit.tmp\" \"$d/exit\"; exit \"$1\"; }\n"
	    "trap 'echo \"train: TERM received\"' TERM\n"
	    "trap '' HUP\n");
	buf_adds(&b, "export PYTHONUNBUFFERED=1 MLSH_RUN=\"${d##*/}\" "
	    "MLSH_RUN_DIR=\"$d\"\n");
	if (env != NULL) {
		char *qe = str_sh_quote(env);
		buf_printf(&b, "env=%s; act=\n" CONDA_FIND
		    "if [ -z \"$act\" ] || [ ! -f \"$act\" ]; then\n"
		    "\techo \"train: no conda on this node: cannot activate "
		    "environment '$env'\"; finish 127\n"
		    "fi\n"
		    "set -- \"$env\"\n"
		    ". \"$act\" || { echo \"train: cannot activate conda "
		    "environment '$env' ($act)\"; finish 127; }\n"
		    "[ \"${CONDA_DEFAULT_ENV:-}\" = \"$env\" ] || "
		    "[ \"$(basename \"${CONDA_PREFIX:-}\")\" = \"$env\" ] || "
		    "{ echo \"train: no conda environment '$env'\"; "
		    "finish 127; }\n", qe);
		free(qe);
	}
	if (workdir != NULL) {
		char *qw = str_sh_quote(workdir);
		buf_printf(&b, "cd %s || { echo \"train: cannot cd to\" %s; "
		    "finish 126; }\n", qw, qw);
		free(qw);
	} else
		buf_adds(&b, "cd || cd /\n");
	buf_printf(&b, "%s\nfinish $?\n", cmdline);
	return buf_detach_release(&b);
}

/* train run as its steps (stage.h). */
struct train_start {
	struct mlsh_ctx *ctx;
	struct cmd_args *a;
	cJSON **result;
	const char *name;		/* --name, or NULL: the node picks rN */
	struct strlist nodes;		/* the one node */
	char *ip;
	char *script;			/* makes the run directory, starts it */
	char rname[80], rdir[1024];
	long long pid;
};

static int start_options(void *), start_node(void *), start_script(void *),
    start_launch(void *), start_cache(void *), start_report(void *),
    start_attach(void *);

static const struct stage train_run_stages[] = {
	{ "options", start_options },
	{ "node", start_node },		/* the node and its address */
	{ "script", start_script },
	{ "launch", start_launch },	/* run it there: the run's name */
	{ "cache", start_cache },	/* for completion */
	{ "report", start_report },	/* done, unless --attach */
	{ "attach", start_attach },
};

static int
train_run(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct train_start t = { .ctx = ctx, .a = a, .result = result };
	int rc;

	strlist_init(&t.nodes);
	rc = stage_run(train_run_stages, STAGE_COUNT(train_run_stages), &t);
	free(t.ip);
	free(t.script);
	strlist_release(&t.nodes);
	return rc;
}

static int
start_options(void *job)
{
	struct train_start *t = job;
	const char *env = cmd_opt(t->a, "env");

	t->name = cmd_opt(t->a, "name");
	if (t->name != NULL && !run_name_ok(t->name))
		return cmd_error(t->ctx, "bad run name '%s' (letters, digits, "
		    ". _ -)", t->name);
	if (env != NULL && (strchr(env, '/') || !*env))
		return cmd_error(t->ctx, "bad conda environment name '%s'", env);
	return 0;
}

static int
start_node(void *job)
{
	struct train_start *t = job;

	if (pick_nodes(t->ctx, t->a, 1, &t->nodes) != 0 ||
	    target_resolve(t->ctx, t->nodes.v[0], &t->ip) != 0)
		return 1;
	return 0;
}

/* The node's side: make the run directory (the next free rN, or --name),
 * write cmd, node and the wrapper there, start the wrapper detached, and
 * answer "name dir pid". */
static int
start_script(void *job)
{
	struct train_start *t = job;
	struct cmd_args *a = t->a;
	struct buf cmdline, script;
	char *wrapper, *qw, *qn, *qc, *qnode;

	/* One word: a shell line as typed; several: each quoted. */
	buf_init(&cmdline);
	if (a->argc == 1)
		buf_adds(&cmdline, a->argv[0]);
	else
		for (int i = 0; i < a->argc; i++) {
			char *q = str_sh_quote(a->argv[i]);
			buf_printf(&cmdline, "%s%s", i ? " " : "", q);
			free(q);
		}
	wrapper = wrapper_script(cmd_opt(a, "env"), cmd_opt(a, "workdir"),
	    cmdline.data);
	qw = str_sh_quote(wrapper);
	qn = str_sh_quote(t->name ? t->name : "");
	qc = str_sh_quote(cmdline.data);
	qnode = str_sh_quote(t->nodes.v[0]);
	buf_init(&script);
	buf_adds(&script, SH_BASE);
	if (cmd_opt(a, "env") != NULL)
		conda_check(&script, cmd_opt(a, "env"));
	buf_printf(&script,
	    "mkdir -p \"$b\" 2>/dev/null; [ -d \"$b\" ] && [ -w \"$b\" ] || "
	    "{ echo \"cannot create run directory $b\" >&2; exit 3; }\n"
	    "name=%s\n"
	    "if [ -z \"$name\" ]; then\n"
	    "\tn=1; while :; do\n"
	    "\t\tmkdir \"$b/r$n\" 2>/dev/null && break\n"
	    "\t\t[ -e \"$b/r$n\" ] || { echo \"cannot create $b/r$n\" >&2; "
	    "exit 3; }\n"
	    "\t\tn=$((n + 1)); [ $n -le 100000 ] || exit 3\n"
	    "\tdone; name=r$n\n"
	    "elif ! mkdir \"$b/$name\" 2>/dev/null; then\n"
	    "\t[ -e \"$b/$name\" ] && { echo \"run '$name' already exists in "
	    "$b\" >&2; exit 4; }\n"
	    "\techo \"cannot create $b/$name\" >&2; exit 3\n"
	    "fi\n"
	    "d=$b/$name\n"
	    "printf '%%s\\n' %s >\"$d/cmd\"\n"
	    "printf '%%s\\n' %s >\"$d/node\"\n"
	    "printf '%%s' %s >\"$d/run.sh\"\n"
	    ": >\"$d/log\"\n"
	    "date +%%s >\"$d/started\"\n"
	    "sh=sh; command -v bash >/dev/null 2>&1 && sh=bash\n"
	    "setsid nohup $sh \"$d/run.sh\" \"$d\" </dev/null >>\"$d/log\" "
	    "2>&1 &\n"
	    "i=0; while [ ! -s \"$d/pid\" ] && [ $i -lt 100 ]; do "
	    "sleep 0.05; i=$((i + 1)); done\n"
	    "echo \"$name\"; echo \"$d\"; cat \"$d/pid\" 2>/dev/null || echo 0\n",
	    qn, qc, qnode, qw);
	free(wrapper);
	free(qw);
	free(qn);
	free(qc);
	free(qnode);
	buf_release(&cmdline);
	t->script = buf_detach_release(&script);
	return 0;
}

static int
start_launch(void *job)
{
	struct train_start *t = job;
	struct collect c;
	char *cause = NULL;
	int rc = node_sh(t->ctx, t->ip, t->script, &c, 30000, NULL, &cause);

	if (rc != 0) {
		char *why = rc < 0 ? xstrdup(cause) : last_line(c.err.data);
		cmd_error(t->ctx, "cannot start on %s: %s", t->nodes.v[0],
		    *why ? why : "the node's shell failed");
		free(why);
		free(cause);
		collect_release(&c);
		return 1;
	}
	if (sscanf(c.out.data, "%79s %1023s %lld", t->rname, t->rdir,
	    &t->pid) < 2) {
		cmd_error(t->ctx, "cannot start on %s: unexpected answer '%s'",
		    t->nodes.v[0], c.out.data);
		collect_release(&c);
		return 1;
	}
	collect_release(&c);
	return 0;
}

static int
start_cache(void *job)
{
	struct train_start *t = job;
	struct strlist one;

	strlist_init(&one);
	strlist_add(&one, t->rname);
	cache_runs(t->ctx, &one, 0);
	strlist_release(&one);
	return 0;
}

static int
start_report(void *job)
{
	struct train_start *t = job;
	cJSON *r;

	if (cmd_opt_bool(t->a, "attach"))
		return 0;
	r = *t->result = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "run", t->rname);
	cJSON_AddStringToObject(r, "node", t->nodes.v[0]);
	cJSON_AddStringToObject(r, "dir", t->rdir);
	cJSON_AddNumberToObject(r, "pid", (double)t->pid);
	if (t->pid == 0)
		shell_warn(t->ctx, "train: %s started but wrote no pid yet; see "
		    "'train logs %s'", t->rname, t->rname);
	return STAGE_DONE;
}

/* Attach as `train attach RUN --node NODE` would. */
static int
start_attach(void *job)
{
	struct train_start *t = job;
	char *argv[] = { "attach", t->rname, "--node", t->nodes.v[0], NULL };
	const struct mlsh_cmd *sub = cmd_find_sub(t->a->builtin, "attach");
	struct cmd_args aa;
	char *pc = NULL;
	int rc;

	fflush(stdout);
	fprintf(stderr, "train: %s started on %s (%s); Ctrl-C detaches\n",
	    t->rname, t->nodes.v[0], t->rdir);
	if (cmd_parse_as(sub, 4, argv, &aa, &pc) != 0) {
		cmd_error(t->ctx, "%s", pc ? pc : "attach");
		free(pc);
		return 1;
	}
	aa.builtin = t->a->builtin;
	aa.json = t->a->json;
	rc = train_attach(t->ctx, &aa, t->result);
	cmd_args_release(&aa);
	return rc == STAGE_DONE ? 1 : rc;	/* a failure stays one */
}

/* ---- finding and reading runs ------------------------------------------- */

/* The shell code printing one run's record ($d set, $r its name): a line
 * "R<TAB>name<TAB>dir<TAB>node<TAB>pid<TAB>started<TAB>now<TAB>exit<TAB>
 * alive<TAB>stopped<TAB>logsize" (now: when the exit file was written,
 * once there is one), then "F<TAB>first progress line",
 * "L<TAB>last progress line", "C<TAB>command", "E<TAB>last epoch end"
 * (trainlog.h). $pat holds the pattern. */
#define SH_RECORD \
	"p=$(cat \"$d/pid\" 2>/dev/null); a=0; " \
	"[ -n \"$p\" ] && kill -0 \"$p\" 2>/dev/null && a=1; " \
	"e=-; [ -e \"$d/exit\" ] && e=$(cat \"$d/exit\"); " \
	"s=0; [ -e \"$d/stopped\" ] && s=$(cat \"$d/stopped\"); " \
	"t=$(date +%s); [ -e \"$d/exit\" ] && " \
	"t=$(stat -c %Y \"$d/exit\" 2>/dev/null || echo \"$t\"); " \
	"printf 'R\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\n' " \
	"\"$r\" \"$d\" \"$(cat \"$d/node\" 2>/dev/null)\" \"${p:-0}\" " \
	"\"$(cat \"$d/started\" 2>/dev/null || echo 0)\" \"$t\" " \
	"\"${e:--}\" \"$a\" \"${s:-0}\" \"$(wc -c <\"$d/log\" 2>/dev/null || " \
	"echo 0)\"; " \
	"printf 'F\\t%s\\n' \"$(grep -E -m1 -e \"$pat\" \"$d/log\" 2>/dev/null " \
	"| tr '\\t' ' ')\"; " \
	"printf 'L\\t%s\\n' \"$(grep -E -e \"$pat\" \"$d/log\" 2>/dev/null " \
	"| tail -n 1 | tr '\\t' ' ')\"; " \
	"printf 'C\\t%s\\n' \"$(head -n 1 \"$d/cmd\" 2>/dev/null | " \
	"tr '\\t' ' ')\"; " \
	"printf 'E\\t%s\\n' \"$(grep -E -e 'epoch [0-9]+/[0-9]+ done: ' " \
	"\"$d/log\" 2>/dev/null | tail -n 1 | cut -c1-300 | tr '\\t' ' ')\"; "

static void
run_info_release(struct run_info *r)
{
	free(r->name);
	free(r->dir);
	free(r->node_file);
	free(r->cmd);
	free(r->first);
	free(r->last);
	free(r->done);
	memset(r, 0, sizeof *r);
}

/* Parse SH_RECORD output into runs (appended). */
static void
parse_records(const char *text, const char *role, struct run_info **runs,
    size_t *n)
{
	const char *s = text;

	while (s != NULL && *s) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		char *line = xstrndup(s, len);
		struct run_info *r = *n ? &(*runs)[*n - 1] : NULL;

		if (line[0] == 'R' && line[1] == '\t') {
			char *f[11], *save = NULL, *p = line + 2;
			int k = 0;
			for (char *t = strtok_r(p, "\t", &save); t && k < 10;
			    t = strtok_r(NULL, "\t", &save))
				f[k++] = t;
			if (k == 10) {
				*runs = xreallocarray(*runs, *n + 1,
				    sizeof **runs);
				r = &(*runs)[(*n)++];
				memset(r, 0, sizeof *r);
				r->name = xstrdup(f[0]);
				r->dir = xstrdup(f[1]);
				r->node_file = xstrdup(f[2]);
				r->pid = strtoll(f[3], NULL, 10);
				r->started = strtoll(f[4], NULL, 10);
				r->now = strtoll(f[5], NULL, 10);
				snprintf(r->exit_s, sizeof r->exit_s, "%s",
				    f[6]);
				r->alive = atoi(f[7]);
				r->stopped = strtoll(f[8], NULL, 10);
				r->logsize = strtoll(f[9], NULL, 10);
				r->role = role;
			}
		} else if (r != NULL && len > 2 && line[1] == '\t') {
			char *v = xstrdup(line + 2);
			if (line[0] == 'F' && r->first == NULL)
				r->first = v;
			else if (line[0] == 'L' && r->last == NULL)
				r->last = v;
			else if (line[0] == 'C' && r->cmd == NULL)
				r->cmd = v;
			else if (line[0] == 'E' && r->done == NULL)
				r->done = v;
			else
				free(v);
		}
		free(line);
		s = nl ? nl + 1 : NULL;
	}
}

/* The run's state word: running, exited N, killed, lost. */
static const char *
run_state(const struct run_info *r, char *buf, size_t len)
{
	if (strcmp(r->exit_s, "-") != 0) {
		if (r->stopped > 0)
			snprintf(buf, len, "killed");
		else
			snprintf(buf, len, "exited %s", r->exit_s);
	} else if (r->alive)
		snprintf(buf, len, "running");
	else if (r->pid == 0 && r->now - r->started < 10)
		snprintf(buf, len, "starting");
	else
		snprintf(buf, len, "lost");
	return buf;
}

/* Read runs (one when name is set) from the chosen nodes. -1 after
 * cmd_error. A run on the shared /efs is seen from every node: the record
 * read on the node that started it wins (only there is its pid
 * meaningful). */
static int
read_runs(struct mlsh_ctx *ctx, struct cmd_args *a, const char *name,
    struct run_info **runs, size_t *n, struct strlist *roles)
{
	char *pat = train_pattern(ctx), *qpat = str_sh_quote(pat);
	struct buf script;
	int found_err = 0;

	*runs = NULL;
	*n = 0;
	if (pick_nodes(ctx, a, 0, roles) != 0) {
		free(pat);
		free(qpat);
		return -1;
	}
	buf_init(&script);
	buf_printf(&script, "pat=%s; ", qpat);
	if (name != NULL) {
		char *qr = str_sh_quote(name);
		buf_printf(&script, "r=%s; ", qr);
		buf_adds(&script, SH_FIND SH_RECORD);
		free(qr);
	} else
		buf_adds(&script,
		    "for b in /efs/runs \"$HOME/runs\"; do "
		    "for d in \"$b\"/*; do [ -e \"$d/started\" ] || continue; "
		    "r=${d##*/}; " SH_RECORD "done; done; exit 0");
	for (size_t i = 0; i < roles->n; i++) {
		struct collect c;
		char *ip = NULL, *cause = NULL;
		int rc;

		if (target_resolve(ctx, roles->v[i], &ip) != 0) {
			found_err = 1;
			break;
		}
		rc = node_sh(ctx, ip, script.data, &c, 30000, NULL, &cause);
		free(ip);
		if (rc < 0) {
			cmd_error(ctx, "%s: %s", roles->v[i], cause);
			free(cause);
			found_err = 1;
			break;
		}
		if (rc == 0)
			parse_records(c.out.data, roles->v[i], runs, n);
		else if (rc != EXIT_NO_RUN) {
			char *why = last_line(c.err.data);
			cmd_error(ctx, "%s: reading runs failed (exit %d) %s",
			    roles->v[i], rc, why);
			free(why);
			collect_release(&c);
			found_err = 1;
			break;
		}
		collect_release(&c);
		if (name != NULL && *n > 0 && *runs != NULL &&
		    strcmp((*runs)[*n - 1].node_file, roles->v[i]) == 0)
			break;		/* found on its own node */
	}
	buf_release(&script);
	free(pat);
	free(qpat);
	if (found_err)
		return -1;
	/* Deduplicate shared runs: keep the record from the owning node. */
	for (size_t i = 0; i < *n; i++)
		for (size_t k = i + 1; k < *n; k++) {
			struct run_info *x = &(*runs)[i], *y = &(*runs)[k];
			if (strcmp(x->dir, y->dir) || strcmp(x->name, y->name))
				continue;
			if (strcmp(y->node_file, y->role) == 0) {
				struct run_info t = *x;
				*x = *y;
				*y = t;
			}
			run_info_release(y);
			memmove(y, y + 1, (*n - k - 1) * sizeof *y);
			(*n)--;
			k--;
		}
	if (name != NULL && *n == 0) {
		cmd_error(ctx, "no run '%s' on %s", name, roles->n == 1 ?
		    roles->v[0] : "any node");
		return -1;
	}
	return 0;
}

static void
free_runs(struct run_info *runs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		run_info_release(&runs[i]);
	free(runs);
}

/* "epoch 1/4 50%" for people; {"epoch":1,"epochs":4,"fraction":0.5} as data. */
static cJSON *
run_progress(const struct progress_track *tr, int data)
{
	cJSON *o;
	char pr[64];

	if (!tr->have)
		return data ? cJSON_CreateNull() : cJSON_CreateString("-");
	if (!data) {
		snprintf(pr, sizeof pr, "epoch %ld/%ld %.0f%%", tr->last.epoch,
		    tr->last.epochs, floor(tr->last.fraction * 100));
		return cJSON_CreateString(pr);
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "epoch", (double)tr->last.epoch);
	cJSON_AddNumberToObject(o, "epochs", (double)tr->last.epochs);
	cJSON_AddNumberToObject(o, "fraction", tr->last.fraction);
	return o;
}

/* A duration: "1h00m" for people, seconds (null when unknown) as data. */
static void
add_duration(cJSON *o, const char *key, double seconds, int data)
{
	char s[32], *k;

	if (data) {
		k = xasprintf("%s_seconds", key);
		if (seconds < 0 || !isfinite(seconds))
			cJSON_AddNullToObject(o, k);
		else
			cJSON_AddNumberToObject(o, k, round(seconds));
		free(k);
		return;
	}
	if (seconds < 0 || !isfinite(seconds))
		snprintf(s, sizeof s, "-");
	else
		progress_duration(s, sizeof s, seconds);
	cJSON_AddStringToObject(o, key, s);
}

/* What the run costs an hour: its node's $/h (-1 unknown). A run on
 * several nodes costs that many times one node's price. */
static double
run_hourly_cost(struct mlsh_ctx *ctx, const struct run_info *r)
{
	return node_price(ctx, *r->node_file ? r->node_file : r->role);
}

/* Speed: images/s of the last finished epoch, and what an epoch costs at
 * the run's $/h (its duration from that line, else from the progress
 * rate); with detail also the epoch's duration. */
static void
run_speed(struct mlsh_ctx *ctx, cJSON *o, const struct run_info *r,
    const struct progress_track *tr, int detail, int data)
{
	struct trainlog_epoch e;
	int have = r->done != NULL && trainlog_epoch_done(r->done, &e);
	double secs = trainlog_epoch_seconds(have ? &e : NULL, tr);
	double cost = progress_cost(secs, run_hourly_cost(ctx, r));
	char v[32];

	if (data && have)
		cJSON_AddNumberToObject(o, "images_per_s", e.rate);
	else if (data)
		cJSON_AddNullToObject(o, "images_per_s");
	else {
		snprintf(v, sizeof v, have ? "%.1f" : "-", e.rate);
		cJSON_AddStringToObject(o, "images_per_s", v);
	}
	if (detail)
		add_duration(o, "epoch_time", secs, data);
	if (data)
		json_add_usd(o, "cost_per_epoch_usd", cost);
	else {
		snprintf(v, sizeof v, cost < 0 ? "-" : cost < 0.1 ? "$%.4f" :
		    "$%.2f", cost);
		cJSON_AddStringToObject(o, "cost_per_epoch", v);
	}
}

/* The detail of `train status`: ETA, cost to finish, last metrics, dir. */
static void
run_detail(struct mlsh_ctx *ctx, cJSON *o, const struct run_info *r,
    const struct progress_track *tr, double elapsed, int data)
{
	int running = r->alive && strcmp(r->exit_s, "-") == 0;
	double eta = running ? progress_eta(&tr->first, &tr->last,
	    elapsed) : -1;
	double cost = progress_cost(eta, run_hourly_cost(ctx, r));
	char cs[32];

	add_duration(o, "eta", running && tr->have ? eta : -1, data);
	if (data && cost >= 0)
		cJSON_AddNumberToObject(o, "cost_to_finish_usd",
		    round(cost * 100) / 100);
	else if (data)
		cJSON_AddNullToObject(o, "cost_to_finish_usd");
	else {
		snprintf(cs, sizeof cs, cost >= 0 ? "$%.2f" : "-", cost);
		cJSON_AddStringToObject(o, "cost_to_finish", cs);
	}
	if (tr->have)
		cJSON_AddStringToObject(o, "last", tr->last.metrics);
	else if (data)
		cJSON_AddNullToObject(o, "last");
	else
		cJSON_AddStringToObject(o, "last", "-");
	cJSON_AddStringToObject(o, "dir", r->dir);
}

/* One run as a result row; detail adds progress, ETA and cost. data (for
 * --json and Lua): numbers, ISO 8601 UTC times, null for none. */
static cJSON *
run_row(struct mlsh_ctx *ctx, const struct run_info *r,
    const struct progress_parser *pp, int detail, int data)
{
	cJSON *o = cJSON_CreateObject();
	char st[32], when[32];
	struct progress_track tr;
	time_t t = (time_t)r->started;
	double elapsed = (double)(r->now - r->started);

	memset(&tr, 0, sizeof tr);
	if (r->first != NULL)
		progress_track_line(&tr, pp, r->first, strlen(r->first));
	if (r->last != NULL)
		progress_track_line(&tr, pp, r->last, strlen(r->last));
	if (data)
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	else
		strftime(when, sizeof when, "%Y-%m-%d %H:%M", localtime(&t));
	cJSON_AddStringToObject(o, "run", r->name);
	cJSON_AddStringToObject(o, "node", *r->node_file ? r->node_file :
	    r->role);
	cJSON_AddStringToObject(o, "state", run_state(r, st, sizeof st));
	cJSON_AddNumberToObject(o, "pid", (double)r->pid);
	cJSON_AddStringToObject(o, "started", when);
	add_duration(o, "elapsed", elapsed < 0 ? 0 : elapsed, data);
	cJSON_AddItemToObject(o, "progress", run_progress(&tr, data));
	run_speed(ctx, o, r, &tr, detail, data);
	if (detail)
		run_detail(ctx, o, r, &tr, elapsed, data);
	cJSON_AddStringToObject(o, "command", r->cmd ? r->cmd : "");
	return o;
}

static int
list_runs(struct mlsh_ctx *ctx, struct cmd_args *a, const char *name,
    int detail, cJSON **result)
{
	struct run_info *runs;
	struct progress_parser pp;
	struct strlist roles, names;
	char *pat = train_pattern(ctx), *cause = NULL;
	size_t n;
	cJSON *arr;

	if (progress_parser_init(&pp, pat, &cause) != 0) {
		cmd_error(ctx, "train_pattern: %s", cause);
		free(cause);
		free(pat);
		return 1;
	}
	free(pat);
	strlist_init(&roles);
	if (read_runs(ctx, a, name, &runs, &n, &roles) != 0) {
		strlist_release(&roles);
		progress_parser_release(&pp);
		return 1;
	}
	arr = cJSON_CreateArray();
	strlist_init(&names);
	for (size_t i = 0; i < n; i++) {
		cJSON_AddItemToArray(arr, run_row(ctx, &runs[i], &pp, detail,
		    a->json || ctx->lua_depth > 0));
		strlist_add(&names, runs[i].name);
	}
	if (name == NULL)
		cache_runs(ctx, &names, cmd_opt(a, "node") == NULL);
	strlist_release(&names);
	if (name != NULL) {
		*result = cJSON_DetachItemFromArray(arr, 0);
		cJSON_Delete(arr);
	} else
		*result = arr;
	free_runs(runs, n);
	strlist_release(&roles);
	progress_parser_release(&pp);
	return 0;
}

static int
train_ls(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	return list_runs(ctx, a, NULL, 0, result);
}

static int
train_status(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	if (a->argc == 1 && !run_name_ok(a->argv[0]))
		return cmd_error(ctx, "bad run name '%s'", a->argv[0]);
	return list_runs(ctx, a, a->argc ? a->argv[0] : NULL, 1, result);
}

/* Find one run: its node (the one that started it) and directory. */
static int
find_run(struct mlsh_ctx *ctx, struct cmd_args *a, const char *name,
    char **role, struct run_info *out)
{
	struct run_info *runs;
	struct strlist roles;
	size_t n;

	if (!run_name_ok(name))
		return cmd_error(ctx, "bad run name '%s'", name), -1;
	strlist_init(&roles);
	if (read_runs(ctx, a, name, &runs, &n, &roles) != 0) {
		strlist_release(&roles);
		return -1;
	}
	*out = runs[0];
	memset(&runs[0], 0, sizeof runs[0]);
	free_runs(runs, n);
	/* The node that started it, when it is one of the workspace's. */
	*role = xstrdup(out->role);
	if (*out->node_file && strcmp(out->node_file, out->role) != 0) {
		const cJSON *res = target_resources(ctx);
		if (res != NULL && cJSON_GetObjectItemCaseSensitive(res,
		    out->node_file) != NULL) {
			free(*role);
			*role = xstrdup(out->node_file);
		}
	}
	strlist_release(&roles);
	out->role = NULL;
	return 0;
}

/* ---- stop --------------------------------------------------------------- */

static int
train_stop(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct run_info r;
	struct collect c;
	struct buf script;
	char *role = NULL, *ip = NULL, *cause = NULL, *qd;
	long long grace = cmd_opt_num(a, "grace");
	char sig[16] = "", ex[16] = "", how[16] = "";
	int rc;

	if (find_run(ctx, a, a->argv[0], &role, &r) != 0)
		return 1;
	if (target_resolve(ctx, role, &ip) != 0) {
		run_info_release(&r);
		free(role);
		return 1;
	}
	qd = str_sh_quote(r.dir);
	buf_init(&script);
	buf_printf(&script,
	    "d=%s; p=$(cat \"$d/pid\" 2>/dev/null)\n"
	    "if [ -e \"$d/exit\" ]; then echo \"none $(cat \"$d/exit\") "
	    "$([ -e \"$d/stopped\" ] && echo killed)\"; exit 0; fi\n"
	    "[ -n \"$p\" ] || { echo \"no pid recorded\" >&2; exit 3; }\n"
	    "date +%%s >\"$d/stopped\"\n"
	    "kill -s TERM -- \"-$p\" 2>/dev/null || kill -s TERM \"$p\" "
	    "2>/dev/null\n"
	    "i=0; while kill -0 \"$p\" 2>/dev/null && [ $i -lt %lld ]; do "
	    "sleep 0.1; i=$((i + 1)); done\n"
	    "sig=TERM\n"
	    "if kill -0 \"$p\" 2>/dev/null; then sig=KILL; "
	    "kill -s KILL -- \"-$p\" 2>/dev/null || kill -s KILL \"$p\"; "
	    "i=0; while kill -0 \"$p\" 2>/dev/null && [ $i -lt 50 ]; do "
	    "sleep 0.1; i=$((i + 1)); done; fi\n"
	    "[ -e \"$d/exit\" ] || { echo 137 >\"$d/exit.tmp\" && "
	    "mv \"$d/exit.tmp\" \"$d/exit\"; }\n"
	    "echo \"$sig $(cat \"$d/exit\")\"\n", qd, grace * 10);
	free(qd);
	rc = node_sh(ctx, ip, script.data, &c, (int)(grace + 20) * 1000, NULL,
	    &cause);
	buf_release(&script);
	free(ip);
	if (rc != 0) {
		char *why = rc < 0 ? xstrdup(cause) : last_line(c.err.data);
		cmd_error(ctx, "cannot stop '%s' on %s: %s", r.name, role, why);
		free(why);
		free(cause);
		if (rc >= 0)
			collect_release(&c);
		run_info_release(&r);
		free(role);
		return 1;
	}
	sscanf(c.out.data, "%15s %15s %15s", sig, ex, how);
	collect_release(&c);
	*result = cJSON_CreateObject();
	cJSON_AddStringToObject(*result, "run", r.name);
	cJSON_AddStringToObject(*result, "node", role);
	if (strcmp(sig, "none") == 0) {
		char w[32];
		if (strcmp(how, "killed") == 0)
			snprintf(w, sizeof w, "killed");
		else
			snprintf(w, sizeof w, "exited %s", ex);
		cJSON_AddStringToObject(*result, "state", w);
		cJSON_AddStringToObject(*result, "signal", "none (had ended)");
	} else {
		cJSON_AddStringToObject(*result, "state", "killed");
		cJSON_AddStringToObject(*result, "signal", sig);
		cJSON_AddStringToObject(*result, "exit", ex);
	}
	run_info_release(&r);
	free(role);
	return 0;
}

/* ---- following ---------------------------------------------------------- */

struct follow {
	struct mlsh_ctx *ctx;
	const char *run, *role;
	char *ip, *dir;
	uint64_t off;			/* bytes read from the log */
	struct buf partial;		/* read but not yet printed (no newline) */
	int save_fd;			/* offset file, -1 when none */
	int progress;			/* attach: show progress */
	int tty;			/* stderr is a terminal */
	struct progress_parser pp;
	struct progress_track tr;
	double price;
	long long started, now;
	double last_plain_ms;
	int printed_since_plain;
	int broken;			/* writing stdout failed: errno */
	int stopped;			/* `train stop` was asked */
};

/* The offset file: "%020llu <started>\n", rewritten in place. */
static int
offset_open(struct mlsh_ctx *ctx, const char *run, long long started,
    uint64_t *off)
{
	char *dir = cache_dir(ctx), *p, *cause = NULL, buf[64];
	unsigned long long o = 0;
	long long st = 0;
	ssize_t n;
	int fd;

	*off = 0;
	if (mkdir_p(dir, 0700, &cause) != 0) {
		free(cause);
		free(dir);
		return -1;
	}
	p = xasprintf("%s/%s.offset", dir, run);
	free(dir);
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(p);
	if (fd < 0)
		return -1;
	if ((n = pread(fd, buf, sizeof buf - 1, 0)) > 0) {
		buf[n] = '\0';
		/* Only for the same run: a new run of that name restarts. */
		if (sscanf(buf, "%llu %lld", &o, &st) == 2 && st == started)
			*off = o;
	}
	return fd;
}

static void
offset_save(struct follow *f)
{
	char buf[64];
	int n;

	if (f->save_fd < 0)
		return;
	n = snprintf(buf, sizeof buf, "%020" PRIu64 " %lld\n",
	    f->off - f->partial.len, f->started);
	if (pwrite(f->save_fd, buf, (size_t)n, 0) != n)
		return;
}

/* The progress on the status line (shell/ui.h): in place on a tty; in a
 * log, a line at most every 5 s and only after new output. */
static void
bar_show(struct follow *f, int force)
{
	char line[512];
	double el = (double)(f->now - f->started);

	if (!f->progress)
		return;
	progress_summary(line, sizeof line, f->run, &f->tr, el, f->price,
	    f->tty);
	if (f->tty)
		ui_status(0, "%s", line);
	else if (f->tr.have && f->printed_since_plain && (force ||
	    now_ms() - f->last_plain_ms >= 5000)) {
		ui_status(0, "%s", line);
		f->last_plain_ms = now_ms();
		f->printed_since_plain = 0;
	}
}

/* Print what is complete of data (all of it when final). */
static void
emit(struct follow *f, const char *data, size_t len, int final)
{
	size_t start = 0, end;

	buf_add(&f->partial, data, len);
	f->off += len;
	end = f->partial.len;
	if (!final) {
		while (end > 0 && f->partial.data[end - 1] != '\n')
			end--;
	}
	if (end == 0)
		return;
	ui_status_clear();
	if (fwrite(f->partial.data, 1, end, stdout) != end ||
	    fflush(stdout) != 0) {
		/* Nobody reads any more (a closed pipe): stop, and keep the
		 * offset where it was so nothing counts as shown. */
		f->broken = errno ? errno : EIO;
		return;
	}
	if (f->progress)
		for (size_t i = 0; i < end; i++)
			if (f->partial.data[i] == '\n' || i + 1 == end) {
				if (progress_track_line(&f->tr, &f->pp,
				    f->partial.data + start, i - start + 1))
					f->printed_since_plain = 1;
				start = i + 1;
			}
	memmove(f->partial.data, f->partial.data + end, f->partial.len - end);
	f->partial.len -= end;
	offset_save(f);
}

/* Sleep ms in small steps, returning early on Ctrl-C. */
static void
nap(int ms)
{
	struct timespec ts = { 0, 50 * 1000000L };

	for (int i = 0; i < ms / 50 && !mlsh_interrupted; i++)
		nanosleep(&ts, NULL);
}

/* Follow until the run has ended and its log is drained (follow), or the
 * log is read to its current end (!follow). *state gets the final state.
 * 0, 1 after cmd_error, or 130 on Ctrl-C (detached). */
static int
follow_run(struct follow *f, int follow, char *exit_s, size_t exit_len,
    int *alive)
{
	struct buf script;
	char *qd = str_sh_quote(f->dir);
	double fail_since = 0;
	int backoff = 1, st = 0;

	buf_init(&script);
	snprintf(exit_s, exit_len, "-");
	*alive = 1;
	for (;;) {
		struct collect c;
		char *cause = NULL;
		int rc, cancelled = 0, a = 0;
		char e[16] = "-";
		long long now = 0;
		size_t got;

		if (mlsh_interrupted) {
			st = 130;
			break;
		}
		buf_reset(&script);
		buf_printf(&script,
		    "d=%s; e=-; [ -e \"$d/exit\" ] && e=$(cat \"$d/exit\"); "
		    "a=0; p=$(cat \"$d/pid\" 2>/dev/null); "
		    "[ -n \"$p\" ] && kill -0 \"$p\" 2>/dev/null && a=1; "
		    "[ \"$e\" = - ] && [ $a = 0 ] && [ -e \"$d/exit\" ] && "
		    "e=$(cat \"$d/exit\"); "
		    "s=0; [ -e \"$d/stopped\" ] && s=1; "
		    "echo \"${e:--} $a $(date +%%s) $s\" >&2; "
		    "[ -e \"$d/log\" ] || exit 45; "
		    "tail -c +%" PRIu64 " \"$d/log\" | head -c %d",
		    qd, f->off + 1, CHUNK_MAX);
		rc = node_sh(f->ctx, f->ip, script.data, &c, 60000, &cancelled,
		    &cause);
		if (rc < 0) {
			if (cancelled || mlsh_interrupted) {
				free(cause);
				st = 130;
				break;
			}
			if (fail_since == 0)
				fail_since = now_ms();
			if (now_ms() - fail_since > RETRY_MAX_S * 1000.0) {
				ui_status_clear();
				cmd_error(f->ctx, "lost %s for %d s: %s "
				    "('train attach %s' resumes)", f->role,
				    RETRY_MAX_S, cause, f->run);
				free(cause);
				st = 1;
				break;
			}
			ui_status_clear();
			shell_warn(f->ctx, "train: %s: %s; retrying in %d s",
			    f->role, cause, backoff);
			free(cause);
			nap(backoff * 1000);
			backoff = backoff < 16 ? backoff * 2 : 30;
			continue;
		}
		fail_since = 0;
		backoff = 1;
		if (rc == 45) {
			collect_release(&c);
			cmd_error(f->ctx, "run '%s' has no log in %s", f->run,
			    f->dir);
			st = 1;
			break;
		}
		sscanf(c.err.data, "%15s %d %lld %d", e, &a, &now, &f->stopped);
		if (now > 0)
			f->now = now;
		got = c.out.len;
		snprintf(exit_s, exit_len, "%s", e);
		*alive = a;
		{
			int ended = strcmp(e, "-") != 0 || !a;
			int drained = got < CHUNK_MAX;
			emit(f, c.out.data, got, drained && (ended || !follow));
			collect_release(&c);
			if (f->broken) {
				cmd_error(f->ctx, "cannot write the log of "
				    "'%s': %s", f->run, strerror(f->broken));
				st = 1;
				break;
			}
			if (drained && (ended || !follow))
				break;
			if (!drained)
				continue;	/* more to read now */
		}
		bar_show(f, 0);
		nap(POLL_MS);
	}
	free(qd);
	buf_release(&script);
	return st;
}

static int
follow_cmd(struct mlsh_ctx *ctx, struct cmd_args *a, int follow,
    int progress, cJSON **result)
{
	struct follow f;
	struct run_info r;
	char *role = NULL, *pat, *cause = NULL, exit_s[16], st[32];
	int alive, rc;

	memset(&f, 0, sizeof f);
	f.save_fd = -1;
	if (find_run(ctx, a, a->argv[0], &role, &r) != 0)
		return 1;
	if (target_resolve(ctx, role, &f.ip) != 0) {
		run_info_release(&r);
		free(role);
		return 1;
	}
	pat = train_pattern(ctx);
	if (progress && progress_parser_init(&f.pp, pat, &cause) != 0) {
		cmd_error(ctx, "train_pattern: %s", cause);
		free(cause);
		free(pat);
		free(f.ip);
		run_info_release(&r);
		free(role);
		return 1;
	}
	free(pat);
	f.ctx = ctx;
	f.run = r.name;
	f.role = role;
	f.dir = r.dir;
	f.progress = progress;
	f.tty = isatty(STDERR_FILENO) && progress;
	f.started = r.started;
	f.now = r.now;
	f.price = node_price(ctx, role);
	buf_init(&f.partial);
	if (progress) {
		f.save_fd = offset_open(ctx, r.name, r.started, &f.off);
		if (cmd_opt_bool(a, "all"))
			f.off = 0;
		if (f.off > 0 && !a->json) {
			fflush(stdout);
			fprintf(stderr, "train: %s: resuming at byte %" PRIu64
			    " of its log (--all: from the start)\n", r.name,
			    f.off);
		}
		/* Progress so far, before the first new line arrives. */
		if (r.first != NULL)
			progress_track_line(&f.tr, &f.pp, r.first,
			    strlen(r.first));
		if (r.last != NULL)
			progress_track_line(&f.tr, &f.pp, r.last,
			    strlen(r.last));
		f.printed_since_plain = f.tr.have > 0;
	}
	rc = follow_run(&f, follow, exit_s, sizeof exit_s, &alive);
	if (rc == 130) {
		ui_status_clear();
		/* Whatever was read but not printed is read again next time. */
		offset_save(&f);
		fflush(stdout);
		fprintf(stderr, "train: detached from %s; it goes on ('train "
		    "attach %s' resumes)\n", r.name, r.name);
		mlsh_interrupted = 0;
		rc = 0;
	} else if (rc == 0 && progress) {
		bar_show(&f, 1);
		ui_status_clear();
		if (f.tty && f.tr.have) {
			char line[512];
			progress_summary(line, sizeof line, f.run, &f.tr,
			    (double)(f.now - f.started), f.price, 1);
			fprintf(stderr, "%s\n", line);
		}
	}
	if (rc == 0 && (progress || follow)) {
		struct run_info fin = r;
		snprintf(fin.exit_s, sizeof fin.exit_s, "%s", exit_s);
		fin.alive = alive;
		fin.now = f.now;
		if (f.stopped)		/* a stop while attached */
			fin.stopped = 1;
		*result = cJSON_CreateObject();
		cJSON_AddStringToObject(*result, "run", r.name);
		cJSON_AddStringToObject(*result, "node", role);
		cJSON_AddStringToObject(*result, "state",
		    run_state(&fin, st, sizeof st));
		if (strcmp(exit_s, "-") != 0)
			cJSON_AddNumberToObject(*result, "exit", atoi(exit_s));
		if (f.tr.have)
			cJSON_AddItemToObject(*result, "progress",
			    run_progress(&f.tr, 1));
		/* Only scripts and --json want the summary: at the prompt
		 * the log and the progress line said it all. */
		if (!a->json && ctx->lua_depth == 0) {
			cJSON_Delete(*result);
			*result = NULL;
		}
	}
	if (f.save_fd >= 0)
		close(f.save_fd);
	buf_release(&f.partial);
	if (progress)
		progress_parser_release(&f.pp);
	free(f.ip);
	run_info_release(&r);
	free(role);
	return rc;
}

static int
train_logs(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	return follow_cmd(ctx, a, cmd_opt_bool(a, "follow"), 0, result);
}

static int
train_attach(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	return follow_cmd(ctx, a, 1, 1, result);
}

/* ---- pictures: plot, samples -------------------------------------------- */

#define PLOT_LINES	200000		/* the newest progress lines plotted */
#define PLOT_LINE_LEN	300		/* bytes kept of each */
#define NODE_OUT_MAX	(64u * 1024 * 1024)	/* from the node, per stream */
#define SAMPLES_MAX	(64u * 1024 * 1024)	/* a sample grid's size */

/* Run script (with d=the run's directory prepended) on the run's node,
 * output bounded; 0 with c filled, 1 after cmd_error. Exit 45 in script
 * means the run has no log. */
static int
run_sh(struct mlsh_ctx *ctx, const char *role, const struct run_info *r,
    const char *script, struct collect *c)
{
	char *ip = NULL, *cause = NULL, *qd = str_sh_quote(r->dir), *full;
	int rc;

	if (target_resolve(ctx, role, &ip) != 0) {
		free(qd);
		return 1;
	}
	full = xasprintf("d=%s; [ -e \"$d/log\" ] || exit 45; %s", qd, script);
	rc = node_sh_max(ctx, ip, full, c, 60000, NULL, &cause, NODE_OUT_MAX);
	free(full);
	free(qd);
	free(ip);
	if (rc == 0)
		return 0;
	if (rc == 45)
		cmd_error(ctx, "run '%s' has no log in %s", r->name, r->dir);
	else {
		char *why = rc < 0 ? xstrdup(cause) : last_line(c->err.data);
		cmd_error(ctx, "cannot read the log of '%s' on %s: %s", r->name,
		    role, *why ? why : "the node's shell failed");
		free(why);
	}
	free(cause);
	if (rc >= 0)
		collect_release(c);
	return 1;
}

/* The terminal's size (stdout, else $COLUMNS/$LINES, else 80x24), or the
 * options'; the picture leaves a line for the prompt. -1 after cmd_error
 * when it is smaller than a plot can be. */
static int
plot_size(struct mlsh_ctx *ctx, struct cmd_args *a, int *w, int *h)
{
	struct winsize ws;
	const char *cols = getenv("COLUMNS"), *lines = getenv("LINES");

	*w = 80;
	*h = 24;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 &&
	    ws.ws_row > 0) {
		*w = ws.ws_col;
		*h = ws.ws_row;
	} else {
		if (cols != NULL && atoi(cols) > 0)
			*w = atoi(cols);
		if (lines != NULL && atoi(lines) > 0)
			*h = atoi(lines);
	}
	*h -= 1;
	if (cmd_opt_num(a, "width") > 0)
		*w = (int)cmd_opt_num(a, "width");
	if (cmd_opt_num(a, "height") > 0)
		*h = (int)cmd_opt_num(a, "height");
	if (*w < PLOT_MIN_WIDTH || *h < PLOT_MIN_HEIGHT) {
		cmd_error(ctx, "a %dx%d terminal is too small for a plot (at "
		    "least %dx%d; --width, --height)", *w, *h, PLOT_MIN_WIDTH,
		    PLOT_MIN_HEIGHT);
		return -1;
	}
	return 0;
}

static cJSON *
numbers(const double *v, size_t n)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, isfinite(v[i]) ?
		    cJSON_CreateNumber(v[i]) : cJSON_CreateNull());
	return arr;
}

/* The series as data, or the picture (a string) for people. */
static int
plot_result(struct mlsh_ctx *ctx, struct cmd_args *a, const char *run,
    const struct trainlog_series *s, long lines, cJSON **result)
{
	struct plot_series ser[2] = {
		{ "Loss_D", s->loss_d }, { "Loss_G", s->loss_g },
	};
	struct plot_opts o = { .color = ctx->color, .xlabel = "step" };
	char *pic, *cause = NULL, *title;

	if (a->json || ctx->lua_depth > 0) {
		*result = cJSON_CreateObject();
		cJSON_AddStringToObject(*result, "run", run);
		cJSON_AddNumberToObject(*result, "points", (double)s->n);
		cJSON_AddNumberToObject(*result, "lines", (double)lines);
		cJSON_AddItemToObject(*result, "steps", numbers(s->step, s->n));
		cJSON_AddItemToObject(*result, "loss_d",
		    numbers(s->loss_d, s->n));
		cJSON_AddItemToObject(*result, "loss_g",
		    numbers(s->loss_g, s->n));
		return 0;
	}
	if (s->n == 0) {
		*result = cJSON_CreateString("");
		shell_warn(ctx, "train: %s has no progress line with Loss_D or "
		    "Loss_G yet: nothing to plot", run);
		return 0;
	}
	if (plot_size(ctx, a, &o.width, &o.height) != 0)
		return 1;
	title = lines > (long)s->n && lines > PLOT_LINES ?
	    xasprintf("run %s, the last %zu of %ld lines", run, s->n, lines) :
	    xasprintf("run %s, %zu points", run, s->n);
	o.title = title;
	pic = plot_render(s->step, s->n, ser, 2, &o, &cause);
	free(title);
	if (pic == NULL) {
		cmd_error(ctx, "cannot plot '%s': %s", run, cause);
		free(cause);
		return 1;
	}
	*result = cJSON_CreateString(pic);
	free(pic);
	return 0;
}

static int
train_plot(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct run_info r;
	struct progress_parser pp;
	struct trainlog_series s;
	struct collect c;
	char *role = NULL, *pat = train_pattern(ctx), *qpat, *script;
	char *cause = NULL;
	int rc;

	if (progress_parser_init(&pp, pat, &cause) != 0) {
		cmd_error(ctx, "train_pattern: %s", cause);
		free(cause);
		free(pat);
		return 1;
	}
	if (find_run(ctx, a, a->argv[0], &role, &r) != 0) {
		progress_parser_release(&pp);
		free(pat);
		return 1;
	}
	/* the count first (stderr), then the newest lines, each cut short */
	qpat = str_sh_quote(pat);
	script = xasprintf("pat=%s; grep -c -E -e \"$pat\" \"$d/log\" >&2; "
	    "grep -E -e \"$pat\" \"$d/log\" | tail -n %d | cut -c1-%d", qpat,
	    PLOT_LINES, PLOT_LINE_LEN);
	free(qpat);
	free(pat);
	rc = run_sh(ctx, role, &r, script, &c);
	free(script);
	if (rc == 0) {
		trainlog_series_init(&s);
		trainlog_series_feed(&s, &pp, c.out.data, c.out.len);
		rc = plot_result(ctx, a, r.name, &s, atol(c.err.data), result);
		trainlog_series_release(&s);
		collect_release(&c);
	}
	progress_parser_release(&pp);
	run_info_release(&r);
	free(role);
	return rc;
}

/* The node is not trusted with local names: the copy is named by the
 * last component of the path its log gave, which must be a plain name. */
static char *
samples_name(const char *remote)
{
	const char *b = strrchr(remote, '/');

	for (const char *p = remote; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return NULL;
	b = b ? b + 1 : remote;
	if (!*b || strcmp(b, ".") == 0 || strcmp(b, "..") == 0 ||
	    strlen(b) > 255)
		return NULL;
	return xstrdup(b);
}

/* Where the copy goes: into DEST when it is a directory (not through a
 * link unless written DIR/, as cp), else DEST itself. */
static char *
samples_dest(const char *dest, const char *name)
{
	struct stat st;
	size_t n;

	if (dest == NULL)
		return xstrdup(name);
	n = strlen(dest);
	if ((n > 0 && dest[n - 1] == '/') ? stat(dest, &st) == 0 &&
	    S_ISDIR(st.st_mode) : lstat(dest, &st) == 0 && S_ISDIR(st.st_mode))
		return xasprintf("%s%s%s", dest, dest[n - 1] == '/' ? "" : "/",
		    name);
	return xstrdup(dest);
}

/* A download's bytes so far, to stop one past the limit. */
struct samples_xfer {
	uint64_t done;
};

static void
samples_progress(void *arg, uint64_t done, uint64_t total)
{
	(void)total;
	((struct samples_xfer *)arg)->done = done;
}

static int
samples_cancel(void *arg)
{
	return target_cancelled(arg) ||
	    ((struct samples_xfer *)arg)->done > SAMPLES_MAX;
}

/* The copy must start as a PNG does; its size (IHDR) into w and h. */
static int
png_check(const char *path, long *w, long *h, char **cause)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n',
	    0x1a, '\n' };
	unsigned char b[24];
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, b, sizeof b);

	if (fd >= 0)
		close(fd);
	*w = *h = -1;
	if (n < 8 || memcmp(b, sig, 8) != 0) {
		*cause = xstrdup("not a PNG file (no PNG signature)");
		return -1;
	}
	if (n == 24 && memcmp(b + 12, "IHDR", 4) == 0) {
		*w = (long)b[16] << 24 | (long)b[17] << 16 | b[18] << 8 | b[19];
		*h = (long)b[20] << 24 | (long)b[21] << 16 | b[22] << 8 | b[23];
	}
	return 0;
}

/* The sftp side of samples_fetch: remote must be a regular file of at
 * most SAMPLES_MAX; it is copied into tmp. -1 with *cause, or with *cause
 * NULL after cmd_error (no connection). */
static int
samples_get(struct mlsh_ctx *ctx, const char *role, const char *remote,
    const char *tmp, char **cause)
{
	struct rmt_session *s = NULL;
	struct rmt_stat st;
	struct rmt_xfer x;
	struct samples_xfer sx = { 0 };
	char *ip = NULL;
	int r;

	if (target_resolve(ctx, role, &ip) != 0 ||
	    (s = target_session(ctx)) == NULL ||
	    target_connect(ctx, s, ip, role, 30) != 0) {
		free(ip);
		return -1;
	}
	if ((r = rmt_stat(s, ip, remote, &st, cause)) == 0 &&
	    !S_ISREG(st.mode))
		*cause = xasprintf("%s is not a regular file", remote);
	else if (r == 0 && st.size > SAMPLES_MAX)
		*cause = xasprintf("%s is %.1f MB, more than the %u MB a "
		    "sample grid may have", remote, st.size / 1e6,
		    SAMPLES_MAX >> 20);
	else if (r == 1)
		*cause = xasprintf("no file %s", remote);
	else if (r == 0) {
		memset(&x, 0, sizeof x);
		x.progress = samples_progress;
		x.cancel = samples_cancel;
		x.arg = &sx;
		if ((r = rmt_get(s, ip, remote, tmp, &x, cause)) != 0 &&
		    sx.done > SAMPLES_MAX) {
			free(*cause);
			*cause = xasprintf("%s grew past %u MB while copied",
			    remote, SAMPLES_MAX >> 20);
		}
	}
	free(ip);
	return r != 0 || *cause != NULL ? -1 : 0;
}

/* Copy remote to `to` through a temporary file beside it, renamed over
 * `to` only once it is a PNG of at most SAMPLES_MAX: a failed, cut or
 * hostile copy leaves nothing behind. -1 with *cause (NULL: after
 * cmd_error). */
static int
samples_fetch(struct mlsh_ctx *ctx, const char *role, const char *remote,
    const char *to, uint64_t *bytes, long *w, long *h, char **cause)
{
	const char *slash = strrchr(to, '/');
	char *tmp = slash ? xasprintf("%.*s/.mlsh-samples.XXXXXX",
	    (int)(slash - to), to) : xstrdup(".mlsh-samples.XXXXXX");
	struct stat st;
	mode_t um;
	int fd = mkstemp(tmp), rc;

	if (fd < 0) {
		*cause = xasprintf("cannot write beside %s: %s", to,
		    strerror(errno));
		free(tmp);
		return -1;
	}
	close(fd);
	um = umask(0);
	umask(um);
	if ((rc = samples_get(ctx, role, remote, tmp, cause)) == 0 &&
	    (rc = png_check(tmp, w, h, cause)) == 0) {
		rc = -1;
		if (stat(tmp, &st) != 0 || st.st_size > (off_t)SAMPLES_MAX)
			*cause = xasprintf("%s is more than %u MB", remote,
			    SAMPLES_MAX >> 20);
		else if (chmod(tmp, 0666 & ~um) != 0 || rename(tmp, to) != 0)
			*cause = xasprintf("cannot write %s: %s", to,
			    strerror(errno));
		else {
			*bytes = (uint64_t)st.st_size;
			rc = 0;
		}
	}
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

static int
train_samples(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct run_info r;
	struct collect c;
	char *role = NULL, *remote = NULL, *name = NULL, *to = NULL;
	char *cause = NULL;
	uint64_t bytes = 0;
	long w = -1, h = -1;
	int rc = 1;

	if (find_run(ctx, a, a->argv[0], &role, &r) != 0)
		return 1;
	if (run_sh(ctx, role, &r, "grep -E -e '(^|] )samples: ' \"$d/log\" | "
	    "tail -n 1 | cut -c1-4200", &c) != 0)
		goto out;
	remote = trainlog_samples(c.out.data);
	collect_release(&c);
	if (remote == NULL) {
		cmd_error(ctx, "run '%s' has no samples yet (no 'samples: PATH' "
		    "line in its log)", r.name);
		goto out;
	}
	if ((name = samples_name(remote)) == NULL) {
		char *safe = str_sanitize(remote, 0);
		cmd_error(ctx, "run '%s' names its samples '%s': not a file name "
		    "to copy to", r.name, safe);
		free(safe);
		goto out;
	}
	to = samples_dest(a->argc > 1 ? a->argv[1] : NULL, name);
	if (samples_fetch(ctx, role, remote, to, &bytes, &w, &h,
	    &cause) != 0) {
		if (cause != NULL || mlsh_interrupted)
			cmd_error(ctx, "cannot copy the samples of '%s' from "
			    "%s: %s", r.name, role, mlsh_interrupted ?
			    "interrupted" : cause);
		goto out;
	}
	if (a->json || ctx->lua_depth > 0) {
		*result = cJSON_CreateObject();
		cJSON_AddStringToObject(*result, "run", r.name);
		cJSON_AddStringToObject(*result, "path", to);
		cJSON_AddNumberToObject(*result, "bytes", (double)bytes);
		cJSON_AddStringToObject(*result, "remote", remote);
		cJSON_AddStringToObject(*result, "node", role);
		if (w >= 0) {
			cJSON_AddNumberToObject(*result, "width", (double)w);
			cJSON_AddNumberToObject(*result, "height", (double)h);
		}
	} else
		*result = cJSON_CreateString(to);
	rc = 0;
out:
	free(cause);
	free(to);
	free(name);
	free(remote);
	run_info_release(&r);
	free(role);
	return rc;
}
