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
	"[ -d \"$b/$r\" ] && { [ -e \"$b/$r/started\" ] || " \
	"[ -e \"$b/$r/nodes\" ]; } && { d=$b/$r; break; }; " \
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
	/* A rank of a multi-node run (nranks > 0): its rank, the job's
	 * nodes in rank order ("dl1-1,dl1-2"), the first failure any rank
	 * recorded ("" while none), and the nodes' $/h summed (0: unknown). */
	int rank, nranks;
	char *job_nodes, *failed;
	double job_price;
};

static int train_run(struct mlsh_ctx *, struct cmd_args *, cJSON **);
/* Multi-node runs (the section at the end). */
struct progress_parser;
static void parse_rank_line(struct run_info *, char *);
static cJSON *job_row(struct mlsh_ctx *, struct run_info *, size_t, size_t,
    const struct progress_parser *, int detail, int data);
static size_t job_first_rank(const struct run_info *, size_t);
static double job_price(struct mlsh_ctx *, const char *nodes);
static void job_final(struct mlsh_ctx *, const char *name, cJSON *o);
static int stop_job(struct mlsh_ctx *, const char *name, long long grace,
    int data, cJSON **);
static void complete_nodes(struct mlsh_ctx *, const char *prefix,
    struct strlist *);
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
	{ "nodes", 0, OPT_STRING, NULL, "NODES|N",
	    "one rank per node, started together: names (dl1-1,dl1-2) or "
	    "a count (the kind's first N nodes)" },
	OPT_NUM("master-port", 0, "PORT",
	    "MASTER_PORT of a --nodes run (default 29500)", 1, 65535, 29500),
	OPT_NUM("procs-per-node", 0, "N",
	    "processes per node a --nodes run's command starts itself "
	    "(torchrun): RANK, WORLD_SIZE and LOCAL_RANK are left to it",
	    1, 1024, 1),
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
	    "\"dl1-1\", cmd={\"python3\", \"run.py\"}}. "
	    "--nodes dl1-1,dl1-2 (or --nodes 2: the kind's first two) starts "
	    "one rank on each node, rank 0 first, each in RUN/rank-K/, with "
	    "MLSH_NODE_RANK, MLSH_NUM_NODES, MLSH_NODE_IPS (private addresses "
	    "in rank order), MASTER_ADDR (rank 0's), MASTER_PORT and, for one "
	    "process per node, RANK, WORLD_SIZE and LOCAL_RANK=0 (torch.distributed's "
	    "env://). With --procs-per-node N the command starts the processes "
	    "itself and gets MLSH_PROCS_PER_NODE: for 8 Gaudi cards (or 4 "
	    "V100s, N=4) 'torchrun --nnodes $MLSH_NUM_NODES --node_rank "
	    "$MLSH_NODE_RANK --nproc_per_node 8 --master_addr $MASTER_ADDR "
	    "--master_port $MASTER_PORT dcgan.py …' (quote the line so the "
	    "node expands the variables). attach and logs follow rank 0; "
	    "status and ls show every rank; a rank that fails fails the run and "
	    "the wrappers of the others stop them (they watch the run's "
	    "directory on the shared /efs; without one, mlsh stops them when "
	    "it next reads the run: status, ls, attach); stop stops every "
	    "rank.",
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
	const char *want = a != NULL ? cmd_opt(a, "node") : NULL;
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

static void
collect_release(struct collect *c)
{
	buf_release(&c->out);
	buf_release(&c->err);
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
	/* A failure frees what was collected before it (a connection lost or
	 * a Ctrl-C mid-command): callers release only what succeeded. */
	if (rmt_exec(s, ip, &ex, &st, cause) != 0) {
		collect_release(c);
		return -1;
	}
	if (st.cancelled || st.timed_out) {
		if (cancelled != NULL)
			*cancelled = st.cancelled;
		*cause = xstrdup(st.cancelled ? "interrupted" : "timed out");
		collect_release(c);
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
		if (strcmp(opt, "nodes") == 0)
			complete_nodes(ctx, prefix, out);
		else if (strcmp(opt, "node") == 0) {
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

static void launch_in(struct buf *, const char *cmdline, const char *node,
    const char *wrapper);
static char *run_cmdline(const struct cmd_args *);
static int train_run_multi(struct mlsh_ctx *, struct cmd_args *, cJSON **);
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

	if (cmd_opt(a, "nodes") != NULL)
		return train_run_multi(ctx, a, result);
	if (cmd_opt(a, "master-port") || cmd_opt(a, "procs-per-node"))
		return cmd_error(ctx, "--%s is for --nodes runs",
		    cmd_opt(a, "master-port") ? "master-port" :
		    "procs-per-node");
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

/* A node just made by `node up` may not run its sshd yet: wait for it as
 * ssh and cp do (30 s, "waiting for sshd"), and check its host key against
 * the console's, before anything is started there. */
static int
node_reach(struct mlsh_ctx *ctx, const char *name, const char *ip)
{
	struct rmt_session *s = target_session(ctx);

	return s == NULL || target_connect(ctx, s, ip, name, 30) != 0 ? 1 : 0;
}

static int
start_node(void *job)
{
	struct train_start *t = job;

	if (pick_nodes(t->ctx, t->a, 1, &t->nodes) != 0 ||
	    target_resolve(t->ctx, t->nodes.v[0], &t->ip) != 0 ||
	    node_reach(t->ctx, t->nodes.v[0], t->ip) != 0)
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
	struct buf script;
	char *cmdline = run_cmdline(a), *wrapper, *qn;

	wrapper = wrapper_script(cmd_opt(a, "env"), cmd_opt(a, "workdir"),
	    cmdline);
	qn = str_sh_quote(t->name ? t->name : "");
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
	    "d=$b/$name\n", qn);
	launch_in(&script, cmdline, t->nodes.v[0], wrapper);
	free(wrapper);
	free(qn);
	free(cmdline);
	t->script = buf_detach_release(&script);
	return 0;
}

/* The node's side of starting a run in the new directory $d ($name its
 * run's name): its files, the wrapper started detached, and the answer
 * "name dir pid". */
static void
launch_in(struct buf *b, const char *cmdline, const char *node,
    const char *wrapper)
{
	char *qc = str_sh_quote(cmdline), *qnode = str_sh_quote(node),
	    *qw = str_sh_quote(wrapper);

	buf_printf(b,
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
	    qc, qnode, qw);
	free(qc);
	free(qnode);
	free(qw);
}

/* The command line of a run: one word is a shell line as typed; several
 * are quoted one by one. */
static char *
run_cmdline(const struct cmd_args *a)
{
	struct buf b;

	buf_init(&b);
	if (a->argc == 1)
		buf_adds(&b, a->argv[0]);
	else
		for (int i = 0; i < a->argc; i++) {
			char *q = str_sh_quote(a->argv[i]);
			buf_printf(&b, "%s%s", i ? " " : "", q);
			free(q);
		}
	buf_addc(&b, '\0');
	return buf_detach_release(&b);
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

/* The records of run directory $d: a multi-node run's job directory gives
 * one per rank directory there, each followed by "M<TAB>rank<TAB>nranks
 * <TAB>nodes<TAB>first failure" (multi-node runs, below). */
#define SH_EACH \
	"if [ -e \"$d/nodes\" ]; then j=$d; " \
	"nr=$(grep -c . \"$j/nodes\"); nl=$(paste -sd, \"$j/nodes\"); " \
	"fl=$(head -n 1 \"$j/failed\" 2>/dev/null | tr '\\t' ' '); " \
	"for d in \"$j\"/rank-*; do [ -e \"$d/started\" ] || continue; " \
	"o=\" $(cat \"$d/node\" 2>/dev/null) \"; case \" ${mine:-} \" in " \
	"*\"$o\"*) [ \"$o\" = \" ${me:-} \" ] || continue;; esac; " \
	SH_RECORD \
	"printf 'M\\t%s\\t%s\\t%s\\t%s\\n' \"${d##*/rank-}\" \"$nr\" \"$nl\" " \
	"\"$fl\"; done; else " SH_RECORD "fi; "

/* The listing script for node i of roles: on a shared /efs every node
 * sees every rank's directory, but only its own node can say whether a
 * rank is alive, so a node skips the ranks of the other nodes asked
 * ($mine, $me). */
static char *
rank_filter(const struct strlist *roles, size_t i, const char *script)
{
	struct buf b;
	char *q, *me, *out;

	buf_init(&b);
	buf_adds(&b, "");
	for (size_t k = 0; k < roles->n; k++)
		buf_printf(&b, " %s", roles->v[k]);
	q = str_sh_quote(b.data);
	buf_release(&b);
	me = str_sh_quote(roles->v[i]);
	out = xasprintf("me=%s; mine=%s; %s", me, q, script);
	free(q);
	free(me);
	return out;
}

static void
run_info_release(struct run_info *r)
{
	free(r->name);
	free(r->job_nodes);
	free(r->failed);
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
			else if (line[0] == 'M' && r->job_nodes == NULL) {
				parse_rank_line(r, v);
				free(v);
			} else
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
		buf_adds(&script, SH_FIND SH_EACH);
		free(qr);
	} else
		buf_adds(&script,
		    "for b in /efs/runs \"$HOME/runs\"; do "
		    "for d in \"$b\"/*; do { [ -e \"$d/started\" ] || "
		    "[ -e \"$d/nodes\" ]; } || continue; "
		    "r=${d##*/}; " SH_EACH "done; done; exit 0");
	for (size_t i = 0; i < roles->n; i++) {
		struct collect c;
		char *ip = NULL, *cause = NULL;
		int rc;

		if (target_resolve(ctx, roles->v[i], &ip) != 0) {
			found_err = 1;
			break;
		}
		{
			char *full = rank_filter(roles, i, script.data);
			rc = node_sh(ctx, ip, full, &c, 30000, NULL, &cause);
			free(full);
		}
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
		    (*runs)[*n - 1].nranks == 0 &&
		    strcmp((*runs)[*n - 1].node_file, roles->v[i]) == 0)
			break;		/* found on its own node (the ranks of a
					 * multi-node run are on every node) */
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
	/* A --nodes run: every node's price, added (job_price). */
	if (r->job_price > 0)
		return r->job_price;
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
		cJSON *row;
		strlist_add(&names, runs[i].name);
		if (runs[i].nranks > 0) {	/* one row per multi-node run */
			if ((row = job_row(ctx, runs, n, i, &pp, detail,
			    shell_wants_data(ctx, a->json))) != NULL)
				cJSON_AddItemToArray(arr, row);
			continue;
		}
		cJSON_AddItemToArray(arr, run_row(ctx, &runs[i], &pp, detail,
		    shell_wants_data(ctx, a->json)));
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
	{
		/* A multi-node run is followed on rank 0. */
		size_t k = job_first_rank(runs, n);
		*out = runs[k];
		memset(&runs[k], 0, sizeof runs[k]);
	}
	free_runs(runs, n);
	if (out->nranks > 0)
		out->job_price = job_price(ctx, out->job_nodes);
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

/* One run, or one rank of a multi-node run, to stop: where it is and what
 * came of it. */
struct stop_one {
	const char *node;		/* its node's name (borrowed) */
	char *ip, *dir;
	int termed;			/* TERM was sent */
	char sig[16], exit_s[16], how[16];	/* TERM/KILL/none, exit, killed */
	char *err;			/* why it could not be stopped */
};

static void
stop_one_release(struct stop_one *s)
{
	free(s->ip);
	free(s->dir);
	free(s->err);
}

/* The node's answer to a stop script, or the reason it failed in s->err. */
static int
stop_exec(struct mlsh_ctx *ctx, struct stop_one *s, const char *script,
    int timeout_s, struct collect *c)
{
	char *cause = NULL;
	int rc = node_sh(ctx, s->ip, script, c, timeout_s * 1000, NULL,
	    &cause);

	if (rc == 0)
		return 0;
	s->err = rc < 0 ? cause : last_line(c->err.data);
	if (rc >= 0) {
		free(cause);
		collect_release(c);
	}
	return -1;
}

/* Stop runs (the ranks of one multi-node run, or one run): TERM to every
 * process group first, then on each node what is left of the grace period
 * and KILL to whatever of the group is still there, so n ranks take one
 * grace period, not n. -1 when one could not be stopped (its err set); the
 * others are stopped all the same. */
static int
stop_ranks(struct mlsh_ctx *ctx, struct stop_one *s, size_t n,
    long long grace)
{
	struct collect c;
	struct buf b;
	double t0;
	int bad = 0;

	buf_init(&b);
	for (size_t i = 0; i < n; i++) {
		char *qd = str_sh_quote(s[i].dir);
		buf_reset(&b);
		buf_printf(&b, "d=%s; p=$(cat \"$d/pid\" 2>/dev/null)\n"
		    "if [ -e \"$d/exit\" ]; then echo \"none $(cat \"$d/exit\") "
		    "$([ -e \"$d/stopped\" ] && echo killed)\"; exit 0; fi\n"
		    "[ -n \"$p\" ] || { echo \"no pid recorded\" >&2; exit 3; }\n"
		    "date +%%s >\"$d/stopped\"\n"
		    "kill -s TERM -- \"-$p\" 2>/dev/null || kill -s TERM \"$p\" "
		    "2>/dev/null\necho term\n", qd);
		free(qd);
		if (stop_exec(ctx, &s[i], b.data, 20, &c) != 0) {
			bad = 1;
			continue;
		}
		sscanf(c.out.data, "%15s %15s %15s", s[i].sig, s[i].exit_s,
		    s[i].how);
		s[i].termed = strcmp(s[i].sig, "term") == 0;
		collect_release(&c);
	}
	t0 = now_ms();
	for (size_t i = 0; i < n; i++) {
		long long left = grace * 10 - (long long)((now_ms() - t0) / 100);
		char *qd;

		if (!s[i].termed)
			continue;
		qd = str_sh_quote(s[i].dir);
		buf_reset(&b);
		buf_printf(&b, "d=%s; p=$(cat \"$d/pid\")\n"
		    "up() { kill -0 -- \"-$p\" 2>/dev/null || "
		    "kill -0 \"$p\" 2>/dev/null; }\n"
		    "i=0; while up && [ $i -lt %lld ]; do sleep 0.1; "
		    "i=$((i + 1)); done\n"
		    "sig=TERM\n"
		    "if up; then sig=KILL; kill -s KILL -- \"-$p\" 2>/dev/null "
		    "|| kill -s KILL \"$p\"; i=0; while up && [ $i -lt 50 ]; do "
		    "sleep 0.1; i=$((i + 1)); done; fi\n"
		    "[ -e \"$d/exit\" ] || { echo 137 >\"$d/exit.tmp\" && "
		    "mv \"$d/exit.tmp\" \"$d/exit\"; }\n"
		    "echo \"$sig $(cat \"$d/exit\")\"\n", qd, left > 0 ? left : 0);
		free(qd);
		if (stop_exec(ctx, &s[i], b.data, (int)(left / 10) + 20,
		    &c) != 0) {
			bad = 1;
			continue;
		}
		sscanf(c.out.data, "%15s %15s", s[i].sig, s[i].exit_s);
		collect_release(&c);
	}
	buf_release(&b);
	return bad ? -1 : 0;
}

/* What came of stopping one: state, signal and exit into o. */
static void
stop_fields(cJSON *o, const struct stop_one *s)
{
	if (strcmp(s->sig, "none") == 0) {
		char w[32];
		if (strcmp(s->how, "killed") == 0)
			snprintf(w, sizeof w, "killed");
		else
			snprintf(w, sizeof w, "exited %s", s->exit_s);
		cJSON_AddStringToObject(o, "state", w);
		cJSON_AddStringToObject(o, "signal", "none (had ended)");
	} else {
		cJSON_AddStringToObject(o, "state", "killed");
		cJSON_AddStringToObject(o, "signal", s->sig);
		cJSON_AddStringToObject(o, "exit", s->exit_s);
	}
}

static int
train_stop(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct run_info r;
	struct stop_one s;
	char *role = NULL;
	int rc = 0;

	if (find_run(ctx, a, a->argv[0], &role, &r) != 0)
		return 1;
	memset(&s, 0, sizeof s);
	if (r.nranks > 0)
		rc = stop_job(ctx, r.name, cmd_opt_num(a, "grace"),
		    shell_wants_data(ctx, a->json), result);
	else if (target_resolve(ctx, role, &s.ip) != 0)
		rc = 1;
	else {
		s.node = role;
		s.dir = xstrdup(r.dir);
		if (stop_ranks(ctx, &s, 1, cmd_opt_num(a, "grace")) != 0)
			rc = cmd_error(ctx, "cannot stop '%s' on %s: %s", r.name,
			    role, s.err);
		else {
			*result = cJSON_CreateObject();
			cJSON_AddStringToObject(*result, "run", r.name);
			cJSON_AddStringToObject(*result, "node", role);
			stop_fields(*result, &s);
		}
	}
	stop_one_release(&s);
	run_info_release(&r);
	free(role);
	return rc;
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
	f.price = r.job_price > 0 ? r.job_price : node_price(ctx, role);
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
		if (r.nranks > 0)	/* the whole run's state, every rank */
			job_final(ctx, r.name, *result);
		/* Only scripts and --json want the summary: at the prompt
		 * the log and the progress line said it all. */
		if (!shell_wants_data(ctx, a->json)) {
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

	if (shell_wants_data(ctx, a->json)) {
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
	if (shell_wants_data(ctx, a->json)) {
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

/* ---- multi-node runs ---------------------------------------------------- */

/* `train run --nodes dl1-1,dl1-2 -- CMD` (or --nodes 2: the kind's first two
 * by number) is one run with one rank per node, started rank 0 first, each
 * detached as a single run is, with torch.distributed's env:// contract in
 * its environment. Its directory RUN/ (under /efs/runs or ~/runs, as for
 * any run) is the job:
 *
 *	job	a token naming this job (a rank joins the directory only
 *		when the token is its own: on a shared /efs all ranks meet
 *		there, without one each node has its own RUN/)
 *	nodes	the nodes in rank order      failed	the first failure
 *	rank-K/	rank K's files, as a single run's (cmd node run.sh pid log
 *		started exit stopped)
 *
 * Supervision lives in each rank's wrapper, so it works when no mlsh is
 * running: the command runs in the background and the wrapper looks once a
 * second for RUN/failed; a rank whose command exits non-zero writes it
 * ("rank 1 on dl1-2 exited 3", the first writer wins), and every other rank
 * seeing it stops its own process group (TERM, KILL after 10 s) and records
 * itself stopped. Ranks see each other's RUN/failed only through the shared
 * /efs; without one (or for a rank lost without a word), mlsh stops the
 * ranks still running when it next reads the run (job_enforce: train
 * status, ls, attach), and their collectives usually fail first anyway. */

struct train_multi {
	struct train_start t;		/* first: the shared steps take it */
	struct strlist ips;		/* private address per rank */
	char token[64];
	struct stop_one *started;	/* the ranks started so far */
	size_t nstarted;
	struct buf ranks;		/* "0 dl1-1 PID, …" */
	cJSON *data_ranks;		/* the same as data */
};

static int multi_nodes(void *), multi_probe(void *), multi_launch(void *),
    multi_report(void *);

static const struct stage train_multi_stages[] = {
	{ "options", start_options },
	{ "nodes", multi_nodes },	/* --nodes: names, running, addresses */
	{ "probe", multi_probe },	/* every node: conda, a free name */
	{ "launch", multi_launch },	/* rank 0 first; a failure stops them */
	{ "cache", start_cache },
	{ "report", multi_report },	/* done, unless --attach */
	{ "attach", start_attach },	/* rank 0 */
};

static int
train_run_multi(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct train_multi m;
	int rc;

	memset(&m, 0, sizeof m);
	m.t.ctx = ctx;
	m.t.a = a;
	m.t.result = result;
	strlist_init(&m.t.nodes);
	strlist_init(&m.ips);
	buf_init(&m.ranks);
	m.data_ranks = cJSON_CreateArray();
	rc = stage_run(train_multi_stages, STAGE_COUNT(train_multi_stages), &m);
	for (size_t i = 0; i < m.nstarted; i++)
		stop_one_release(&m.started[i]);
	free(m.started);
	buf_release(&m.ranks);
	cJSON_Delete(m.data_ranks);
	strlist_release(&m.t.nodes);
	strlist_release(&m.ips);
	return rc;
}

static char *
join_list(const struct strlist *l, const char *sep)
{
	struct buf b;

	buf_init(&b);
	buf_adds(&b, "");
	for (size_t i = 0; i < l->n; i++)
		buf_printf(&b, "%s%s", i ? sep : "", l->v[i]);
	return buf_detach_release(&b);
}

/* A node's kind ("dl1" of "dl1-2"): its record's, else its name's. */
static char *
node_kind(const cJSON *res, const char *role)
{
	const char *k = rec_str(cJSON_GetObjectItemCaseSensitive(res, role),
	    "kind"), *dash = strrchr(role, '-');

	if (k != NULL)
		return xstrdup(k);
	return dash ? xstrndup(role, (size_t)(dash - role)) : xstrdup(role);
}

static int
node_num_cmp(const void *x, const void *y)
{
	const char *a = *(char *const *)x, *b = *(char *const *)y;
	const char *da = strrchr(a, '-'), *db = strrchr(b, '-');
	long na = da ? strtol(da + 1, NULL, 10) : 0,
	    nb = db ? strtol(db + 1, NULL, 10) : 0;

	return na != nb ? (na < nb ? -1 : 1) : strcmp(a, b);
}

/* --nodes N: the first N nodes of the workspace's one kind, by number. */
static int
multi_first(struct mlsh_ctx *ctx, const cJSON *res, struct strlist *all,
    long long n, struct strlist *out)
{
	struct strlist kinds;
	char *list;
	int rc = 0;

	if (n < 1)
		return cmd_error(ctx, "--nodes %lld: a run needs at least one "
		    "node", n), -1;
	strlist_init(&kinds);
	for (size_t i = 0; i < all->n; i++)
		strlist_take(&kinds, node_kind(res, all->v[i]));
	strlist_sort(&kinds);
	strlist_uniq(&kinds);
	qsort(all->v, all->n, sizeof *all->v, node_num_cmp);
	list = join_list(all, ", ");
	if (all->n == 0)
		rc = cmd_error(ctx, "no node in workspace '%s'; run 'node dl1 "
		    "up --count %lld' first", ctx->workspace, n);
	else if (kinds.n > 1)
		rc = cmd_error(ctx, "--nodes %lld: workspace '%s' has nodes of "
		    "several kinds (%s); name them (--nodes %s,…)", n,
		    ctx->workspace, list, all->v[0]);
	else if ((size_t)n > all->n)
		rc = cmd_error(ctx, "--nodes %lld: workspace '%s' has %zu "
		    "node%s (%s); 'node %s up --count %lld' makes more", n,
		    ctx->workspace, all->n, all->n == 1 ? "" : "s", list,
		    kinds.v[0], n);
	for (long long i = 0; rc == 0 && i < n; i++)
		strlist_add(out, all->v[i]);
	free(list);
	strlist_release(&kinds);
	return rc ? -1 : 0;
}

/* --nodes A,B: those nodes in that order, each once. */
static int
multi_named(struct mlsh_ctx *ctx, struct strlist *all, const char *spec,
    struct strlist *out)
{
	const char *p = spec;

	for (;;) {
		const char *e = strchr(p, ',');
		char *name = e ? xstrndup(p, (size_t)(e - p)) : xstrdup(p);
		int bad = 0;

		if (*name == '\0')
			bad = cmd_error(ctx, "bad --nodes '%s': an empty node "
			    "name", spec);
		else if (!strlist_has(all, name)) {
			char *list = join_list(all, ", ");
			bad = cmd_error(ctx, "no node '%s' in workspace '%s' "
			    "(nodes: %s)", name, ctx->workspace, all->n ? list :
			    "none; 'node dl1 up --count 2' starts two");
			free(list);
		} else if (strlist_has(out, name))
			bad = cmd_error(ctx, "--nodes names '%s' twice", name);
		if (bad) {
			free(name);
			return -1;
		}
		strlist_take(out, name);
		if (e == NULL)
			return 0;
		p = e + 1;
	}
}

/* The nodes of --nodes (names in rank order), each running, with their
 * private addresses: every refusal before anything starts. */
static int
multi_nodes(void *job)
{
	struct train_multi *m = job;
	struct mlsh_ctx *ctx = m->t.ctx;
	const char *spec = cmd_opt(m->t.a, "nodes");
	const cJSON *res;
	struct strlist all;
	char *end;
	long long n;
	int rc;

	if (cmd_opt(m->t.a, "node") != NULL)
		return cmd_error(ctx, "--node and --nodes: give one");
	if ((res = target_resources(ctx)) == NULL)
		return 1;
	strlist_init(&all);
	node_roles(res, &all);
	errno = 0;
	n = strtoll(spec, &end, 10);
	if (*spec >= '0' && *spec <= '9' && *end == '\0' && errno == 0)
		rc = multi_first(ctx, res, &all, n, &m->t.nodes);
	else
		rc = multi_named(ctx, &all, spec, &m->t.nodes);
	strlist_release(&all);
	if (rc != 0)
		return 1;
	for (size_t i = 0; i < m->t.nodes.n; i++) {
		char *ip = NULL;
		if (target_resolve(ctx, m->t.nodes.v[i], &ip) != 0)
			return 1;
		strlist_take(&m->ips, ip);
		if (node_reach(ctx, m->t.nodes.v[i], ip) != 0)
			return 1;
	}
	return 0;
}

/* Ask every node before starting any: conda (--env), the name free on
 * each, and the highest rN there, so that the run's name is new on all. */
static int
multi_probe(void *job)
{
	struct train_multi *m = job;
	const char *env = cmd_opt(m->t.a, "env");
	char *qn = str_sh_quote(m->t.name ? m->t.name : "");
	long long top = 0;
	struct buf b;
	int rc = 0;

	buf_init(&b);
	buf_adds(&b, SH_BASE);
	if (env != NULL)
		conda_check(&b, env);
	buf_printf(&b, "name=%s\n"
	    "[ -n \"$name\" ] && for x in /efs/runs \"$HOME/runs\"; do "
	    "[ -e \"$x/$name\" ] && { echo \"run '$name' already exists in "
	    "$x\" >&2; exit 4; }; done\n"
	    "m=0; for x in /efs/runs/r* \"$HOME\"/runs/r*; do n=${x##*/r}; "
	    "case $n in ''|*[!0-9]*) continue;; esac; "
	    "[ \"$n\" -gt \"$m\" ] && m=$n; done; echo \"$m\"\n", qn);
	free(qn);
	for (size_t i = 0; rc == 0 && i < m->t.nodes.n; i++) {
		struct collect c;
		char *cause = NULL;
		int x = node_sh(m->t.ctx, m->ips.v[i], b.data, &c, 30000, NULL,
		    &cause);
		if (x != 0) {
			char *why = x < 0 ? xstrdup(cause) : last_line(c.err.data);
			rc = cmd_error(m->t.ctx, "cannot start on %s: %s",
			    m->t.nodes.v[i], *why ? why : "the node's shell "
			    "failed");
			free(why);
			free(cause);
			if (x > 0)
				collect_release(&c);
			break;
		}
		if (atoll(c.out.data) > top)
			top = atoll(c.out.data);
		collect_release(&c);
	}
	buf_release(&b);
	if (m->t.name != NULL)
		snprintf(m->t.rname, sizeof m->t.rname, "%s", m->t.name);
	else
		snprintf(m->t.rname, sizeof m->t.rname, "r%lld", top + 1);
	snprintf(m->token, sizeof m->token, "%lld-%ld-%ld",
	    (long long)time(NULL), (long)getpid(), random());
	return rc;
}

/* What rank k runs: the environment of the launch contract, then the
 * command in the background under the supervisor (the section's comment). */
static char *
rank_block(struct train_multi *m, size_t k, const char *cmdline)
{
	struct buf b;
	char *ips = join_list(&m->ips, ","), *qips = str_sh_quote(ips),
	    *q0 = str_sh_quote(m->ips.v[0]), *me, *qme;
	size_t n = m->t.nodes.n;
	long long ppn = cmd_opt_num(m->t.a, "procs-per-node");

	me = xasprintf("rank %zu on %s", k, m->t.nodes.v[k]);
	qme = str_sh_quote(me);
	buf_init(&b);
	buf_printf(&b, "export MLSH_NODE_RANK=%zu MLSH_NUM_NODES=%zu "
	    "MLSH_NODE_IPS=%s MASTER_ADDR=%s MASTER_PORT=%lld\n", k, n, qips,
	    q0, cmd_opt_num(m->t.a, "master-port"));
	if (ppn > 1)
		buf_printf(&b, "export MLSH_PROCS_PER_NODE=%lld\n", ppn);
	else
		buf_printf(&b, "export RANK=%zu WORLD_SIZE=%zu LOCAL_RANK=0\n",
		    k, n);
	buf_printf(&b, "j=${d%%/*}; me=%s\n"
	    "up() { kill -0 \"$c\" 2>/dev/null && ! ps -o stat= -p \"$c\" "
	    "2>/dev/null | grep -q '^Z'; }\n"
	    "(\n%s\n) &\nc=$!\n"
	    "while up; do\n"
	    "\tif [ -e \"$j/failed\" ] && [ ! -e \"$d/stopped\" ]; then\n"
	    "\t\techo \"train: stopping $me: $(cat \"$j/failed\")\"\n"
	    "\t\tdate +%%s >\"$d/stopped\"\n"
	    "\t\tkill -s TERM -- \"-$$\" 2>/dev/null\n"
	    "\t\ti=0; while up && [ $i -lt 100 ]; do sleep 0.1; "
	    "i=$((i + 1)); done\n"
	    "\t\tup && { echo 137 >\"$d/exit.tmp\" && mv \"$d/exit.tmp\" "
	    "\"$d/exit\"; kill -s KILL -- \"-$$\"; }\n"
	    "\tfi\n"
	    "\tsleep 1\n"
	    "done\n"
	    "while :; do wait \"$c\"; rc=$?; kill -0 \"$c\" 2>/dev/null || "
	    "break; done\n"
	    "[ \"$rc\" = 0 ] || [ -e \"$d/stopped\" ] || "
	    "( set -C; echo \"$me exited $rc\" >\"$j/failed\" ) 2>/dev/null\n"
	    "finish \"$rc\"", qme, cmdline);
	free(ips);
	free(qips);
	free(q0);
	free(me);
	free(qme);
	return buf_detach_release(&b);
}

/* The node's side of starting rank k: the job directory made or joined
 * (its token), rank-K/ in it, the wrapper started. */
static char *
rank_script(struct train_multi *m, size_t k)
{
	struct cmd_args *a = m->t.a;
	char *cmdline = run_cmdline(a), *block = rank_block(m, k, cmdline),
	    *wrapper = wrapper_script(cmd_opt(a, "env"), cmd_opt(a, "workdir"),
	    block), *qn = str_sh_quote(m->t.rname),
	    *qt = str_sh_quote(m->token);
	struct buf b;

	buf_init(&b);
	buf_adds(&b, SH_BASE);
	buf_printf(&b,
	    "mkdir -p \"$b\" 2>/dev/null; [ -d \"$b\" ] && [ -w \"$b\" ] || "
	    "{ echo \"cannot create run directory $b\" >&2; exit 3; }\n"
	    "name=%s; j=$b/$name\n"
	    "if mkdir \"$j\" 2>/dev/null; then printf '%%s\\n' %s >\"$j/job\" "
	    "|| exit 3; printf '%%s\\n'", qn, qt);
	for (size_t i = 0; i < m->t.nodes.n; i++) {
		char *q = str_sh_quote(m->t.nodes.v[i]);
		buf_printf(&b, " %s", q);
		free(q);
	}
	buf_printf(&b, " >\"$j/nodes\" || exit 3\n"
	    "elif [ \"$(cat \"$j/job\" 2>/dev/null)\" != %s ]; then "
	    "echo \"run '$name' already exists in $b\" >&2; exit 4; fi\n"
	    "d=$j/rank-%zu\n"
	    "mkdir \"$d\" 2>/dev/null || { echo \"cannot create $d\" >&2; "
	    "exit 3; }\n", qt, k);
	launch_in(&b, cmdline, m->t.nodes.v[k], wrapper);
	free(cmdline);
	free(block);
	free(wrapper);
	free(qn);
	free(qt);
	return buf_detach_release(&b);
}

/* Start rank 0, 1, … in turn (each start returns once its wrapper runs);
 * when one cannot start, the ones started are stopped. */
static int
multi_launch(void *job)
{
	struct train_multi *m = job;
	size_t n = m->t.nodes.n;

	m->started = xcalloc(n, sizeof *m->started);
	for (size_t k = 0; k < n; k++) {
		struct collect c;
		char *script = rank_script(m, k), *cause = NULL, *why;
		char name[80] = "", dir[1024] = "";
		long long pid = 0;
		int rc = node_sh(m->t.ctx, m->ips.v[k], script, &c, 30000, NULL,
		    &cause);

		free(script);
		if (rc == 0 && sscanf(c.out.data, "%79s %1023s %lld", name, dir,
		    &pid) >= 2) {
			struct stop_one *s = &m->started[m->nstarted++];
			cJSON *o = cJSON_CreateObject();
			s->node = m->t.nodes.v[k];
			s->ip = xstrdup(m->ips.v[k]);
			s->dir = xstrdup(dir);
			buf_printf(&m->ranks, "%s%zu %s %lld", k ? ", " : "", k,
			    s->node, pid);
			cJSON_AddNumberToObject(o, "rank", (double)k);
			cJSON_AddStringToObject(o, "node", s->node);
			cJSON_AddStringToObject(o, "dir", dir);
			cJSON_AddNumberToObject(o, "pid", (double)pid);
			cJSON_AddItemToArray(m->data_ranks, o);
			collect_release(&c);
			continue;
		}
		why = rc < 0 ? xstrdup(cause) : rc > 0 ? last_line(c.err.data) :
		    xasprintf("unexpected answer '%s'", c.out.data);
		free(cause);
		if (rc >= 0)
			collect_release(&c);
		stop_ranks(m->t.ctx, m->started, m->nstarted, 2);
		cmd_error(m->t.ctx, "cannot start rank %zu on %s: %s%s", k,
		    m->t.nodes.v[k], *why ? why : "the node's shell failed",
		    m->nstarted ? " (the ranks started were stopped)" : "");
		free(why);
		return 1;
	}
	/* Rank 0's directory is the run's, to follow and attach. */
	snprintf(m->t.rdir, sizeof m->t.rdir, "%s", m->started[0].dir);
	return 0;
}

static int
multi_report(void *job)
{
	struct train_multi *m = job;
	struct mlsh_ctx *ctx = m->t.ctx;
	int data = shell_wants_data(ctx, m->t.a->json);
	char *dir = xstrdup(m->t.rdir), *sl = strrchr(dir, '/');
	cJSON *r;

	if (sl != NULL)
		*sl = '\0';
	if (cmd_opt_bool(m->t.a, "attach")) {
		free(dir);
		return 0;
	}
	r = *m->t.result = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "run", m->t.rname);
	cJSON_AddStringToObject(r, "node", m->t.nodes.v[0]);
	if (data) {
		cJSON *a = cJSON_CreateArray();
		for (size_t i = 0; i < m->t.nodes.n; i++)
			cJSON_AddItemToArray(a,
			    cJSON_CreateString(m->t.nodes.v[i]));
		cJSON_AddItemToObject(r, "nodes", a);
	} else {
		char *s = join_list(&m->t.nodes, ",");
		cJSON_AddStringToObject(r, "nodes", s);
		free(s);
	}
	cJSON_AddStringToObject(r, "dir", dir);
	cJSON_AddNumberToObject(r, "master_port",
	    (double)cmd_opt_num(m->t.a, "master-port"));
	if (data) {
		cJSON_AddItemToObject(r, "ranks", m->data_ranks);
		m->data_ranks = NULL;
	} else
		cJSON_AddStringToObject(r, "ranks", m->ranks.data);
	free(dir);
	return STAGE_DONE;
}

/* "M<TAB>rank<TAB>nranks<TAB>nodes<TAB>failure" after a rank's record. */
static void
parse_rank_line(struct run_info *r, char *v)
{
	char *f[4] = { NULL, NULL, NULL, NULL };
	int k = 0;

	f[k++] = v;
	for (char *p = v; *p && k < 4; p++)
		if (*p == '\t') {
			*p = '\0';
			f[k++] = p + 1;
		}
	if (k < 3)
		return;
	r->rank = atoi(f[0]);
	r->nranks = atoi(f[1]) > 0 ? atoi(f[1]) : 1;
	r->job_nodes = xstrdup(f[2]);
	r->failed = xstrdup(k == 4 ? f[3] : "");
}

/* The index of run runs[0]'s rank 0 record (else its lowest rank's). */
static size_t
job_first_rank(const struct run_info *runs, size_t n)
{
	size_t best = 0;

	if (n == 0 || runs[0].nranks == 0)
		return 0;
	for (size_t i = 1; i < n; i++)
		if (runs[i].nranks > 0 && strcmp(runs[i].name,
		    runs[0].name) == 0 && runs[i].rank < runs[best].rank)
			best = i;
	return best;
}

/* The $/h of a run's nodes ("dl1-1,dl1-2") together, 0 when one is not
 * known. */
static double
job_price(struct mlsh_ctx *ctx, const char *nodes)
{
	double sum = 0;
	const char *p = nodes;

	while (p != NULL && *p) {
		const char *e = strchr(p, ',');
		char *name = e ? xstrndup(p, (size_t)(e - p)) : xstrdup(p);
		double x = node_price(ctx, name);
		free(name);
		if (x < 0)
			return 0;
		sum += x;
		p = e ? e + 1 : NULL;
	}
	return sum;
}

/* The records of multi-node run name among runs, one per rank in rank
 * order, into rk (room for n). A record read on another node than its own
 * cannot tell whether its rank is alive (only its node sees its pid): with
 * no exit file it runs as far as the files say while its node is one of
 * the workspace's (not asked: --node), and is lost when its node is gone. */
static size_t
job_ranks(struct mlsh_ctx *ctx, struct run_info *runs, size_t n,
    const char *name, struct run_info **rk)
{
	const cJSON *res = target_resources(ctx);
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		struct run_info *r = &runs[i];
		int dup = 0;
		if (r->nranks == 0 || strcmp(r->name, name) != 0)
			continue;
		for (size_t j = 0; j < k; j++)
			dup |= rk[j]->rank == r->rank;
		if (dup)
			continue;
		if (*r->node_file && r->role != NULL &&
		    strcmp(r->node_file, r->role) != 0)
			r->alive = strcmp(r->exit_s, "-") == 0 && res != NULL &&
			    cJSON_GetObjectItemCaseSensitive(res,
			    r->node_file) != NULL;
		rk[k++] = r;
	}
	for (size_t i = 1; i < k; i++)		/* a handful: insertion */
		for (size_t j = i; j > 0 && rk[j - 1]->rank > rk[j]->rank; j--) {
			struct run_info *t = rk[j];
			rk[j] = rk[j - 1];
			rk[j - 1] = t;
		}
	return k;
}

/* The run's state from its ranks': failed as soon as one rank exited
 * non-zero without being stopped or was lost (why says which, *code its
 * exit, -1 when none), else running while any runs, killed when stopped,
 * exited 0 when every rank did. */
static const char *
job_state(struct run_info **rk, size_t k, char *why, size_t wlen, int *code)
{
	int running = 0, killed = 0, bad = -1;
	const char *rec = "";

	*why = '\0';
	*code = -1;
	for (size_t i = 0; i < k; i++) {
		char st[32];
		run_state(rk[i], st, sizeof st);
		if (*rk[i]->failed)
			rec = rk[i]->failed;
		if (strcmp(st, "running") == 0 || strcmp(st, "starting") == 0)
			running = 1;
		else if (strcmp(st, "killed") == 0)
			killed = 1;
		else if (strcmp(st, "exited 0") != 0 && bad < 0) {
			bad = (int)i;
			snprintf(why, wlen, "rank %d on %s %s", rk[i]->rank,
			    rk[i]->node_file, st);
			if (strcmp(st, "lost") != 0)
				*code = atoi(rk[i]->exit_s);
		}
	}
	if (*rec)				/* the first, as recorded */
		snprintf(why, wlen, "%s", rec);
	if (bad >= 0 || *rec)
		return "failed";
	if (running)
		return "running";
	if (killed)
		return "killed";
	*code = 0;
	return "exited 0";
}

/* A run's state, failure, nodes and ranks into o (replacing state). */
static void
job_fields(cJSON *o, struct run_info **rk, size_t k, int data)
{
	char why[256];
	int code;
	const char *st = job_state(rk, k, why, sizeof why, &code);
	cJSON *ranks = data ? cJSON_CreateArray() : NULL, *nodes;
	struct buf b;

	cJSON_ReplaceItemInObjectCaseSensitive(o, "state",
	    cJSON_CreateString(st));
	if (*why)
		cJSON_AddStringToObject(o, "failure", why);
	else
		cJSON_AddItemToObject(o, "failure", data ? cJSON_CreateNull() :
		    cJSON_CreateString("-"));
	if (data && code >= 0)
		cJSON_AddNumberToObject(o, "exit", code);
	buf_init(&b);
	buf_adds(&b, "");
	for (size_t i = 0; i < k; i++) {
		char s[32];
		run_state(rk[i], s, sizeof s);
		buf_printf(&b, "%s%d %s %s", i ? ", " : "", rk[i]->rank,
		    rk[i]->node_file, s);
		if (data) {
			cJSON *r = cJSON_CreateObject();
			cJSON_AddNumberToObject(r, "rank", rk[i]->rank);
			cJSON_AddStringToObject(r, "node", rk[i]->node_file);
			cJSON_AddStringToObject(r, "state", s);
			if (strcmp(rk[i]->exit_s, "-") != 0)
				cJSON_AddNumberToObject(r, "exit",
				    atoi(rk[i]->exit_s));
			else
				cJSON_AddNullToObject(r, "exit");
			cJSON_AddNumberToObject(r, "pid", (double)rk[i]->pid);
			cJSON_AddStringToObject(r, "dir", rk[i]->dir);
			cJSON_AddItemToArray(ranks, r);
		}
	}
	if (data) {
		const char *p = rk[0]->job_nodes;
		nodes = cJSON_CreateArray();
		while (p != NULL && *p) {
			const char *e = strchr(p, ',');
			char *x = e ? xstrndup(p, (size_t)(e - p)) : xstrdup(p);
			cJSON_AddItemToArray(nodes, cJSON_CreateString(x));
			free(x);
			p = e ? e + 1 : NULL;
		}
		cJSON_AddItemToObject(o, "nodes", nodes);
		cJSON_AddItemToObject(o, "ranks", ranks);
	} else {
		cJSON_AddStringToObject(o, "nodes", rk[0]->job_nodes);
		cJSON_AddStringToObject(o, "ranks", b.data);
	}
	buf_release(&b);
}

/* mlsh's side of supervision, for ranks that cannot see the run's
 * RUN/failed (no shared /efs) or a failure nobody wrote (a rank lost): when
 * the run has failed and such ranks still run, stop them now, as `train
 * stop` would, and say so; their records then read killed. A rank whose
 * own node shows RUN/failed is left to its wrapper. */
static void
job_enforce(struct mlsh_ctx *ctx, struct run_info **rk, size_t k)
{
	char why[256], st[32];
	int code;
	size_t n = 0;
	struct stop_one *s;

	if (strcmp(job_state(rk, k, why, sizeof why, &code), "failed") != 0)
		return;
	s = xcalloc(k + 1, sizeof *s);
	for (size_t i = 0; i < k; i++) {
		if (strcmp(run_state(rk[i], st, sizeof st), "running") != 0 ||
		    *rk[i]->failed || strcmp(rk[i]->node_file, rk[i]->role) ||
		    target_resolve(ctx, rk[i]->node_file, &s[n].ip) != 0)
			continue;
		s[n].node = rk[i]->node_file;
		s[n++].dir = xstrdup(rk[i]->dir);
	}
	if (n > 0 && stop_ranks(ctx, s, n, GRACE_DEFAULT) == 0)
		for (size_t i = 0; i < k; i++)
			for (size_t j = 0; j < n; j++)
				if (strcmp(s[j].dir, rk[i]->dir) == 0) {
					shell_warn(ctx, "train: %s: %s; stopped "
					    "rank %d on %s", rk[i]->name, why,
					    rk[i]->rank, s[j].node);
					snprintf(rk[i]->exit_s, sizeof
					    rk[i]->exit_s, "%s", s[j].exit_s);
					rk[i]->stopped = 1;
					rk[i]->alive = 0;
				}
	for (size_t j = 0; j < n; j++)
		stop_one_release(&s[j]);
	free(s);
}

/* The row of the multi-node run runs[i] belongs to, NULL when an earlier
 * record of it made the row already: rank 0's row (progress from its log,
 * cost at every node's price) with the run's state and every rank. */
static cJSON *
job_row(struct mlsh_ctx *ctx, struct run_info *runs, size_t n, size_t i,
    const struct progress_parser *pp, int detail, int data)
{
	struct run_info **rk = xcalloc(n, sizeof *rk);
	size_t k;
	cJSON *o;

	for (size_t j = 0; j < i; j++)
		if (runs[j].nranks > 0 && strcmp(runs[j].name,
		    runs[i].name) == 0) {
			free(rk);
			return NULL;
		}
	k = job_ranks(ctx, runs, n, runs[i].name, rk);
	job_enforce(ctx, rk, k);
	rk[0]->job_price = job_price(ctx, rk[0]->job_nodes);
	o = run_row(ctx, rk[0], pp, detail, data);
	if (detail) {		/* the run's directory, not rank 0's */
		char *dir = xstrdup(rk[0]->dir), *sl = strrchr(dir, '/');
		if (sl != NULL)
			*sl = '\0';
		cJSON_ReplaceItemInObjectCaseSensitive(o, "dir",
		    cJSON_CreateString(dir));
		free(dir);
	}
	job_fields(o, rk, k, data);
	free(rk);
	return o;
}

/* After following rank 0: wait for the other ranks to end too (Ctrl-C
 * stops waiting), then the whole run's state into o, read from every node;
 * o is left as it is when they cannot be read. */
static void
job_final(struct mlsh_ctx *ctx, const char *name, cJSON *o)
{
	for (;;) {
		struct run_info *runs, **rk;
		struct strlist roles;
		size_t n, k;
		int more = 0;

		strlist_init(&roles);
		if (read_runs(ctx, NULL, name, &runs, &n, &roles) != 0) {
			strlist_release(&roles);
			return;
		}
		rk = xcalloc(n + 1, sizeof *rk);
		k = job_ranks(ctx, runs, n, name, rk);
		job_enforce(ctx, rk, k);
		for (size_t i = 0; i < k; i++) {
			char st[32];
			run_state(rk[i], st, sizeof st);
			more |= strcmp(st, "running") == 0 ||
			    strcmp(st, "starting") == 0;
		}
		if ((!more || mlsh_interrupted) && k > 0) {
			cJSON_DeleteItemFromObjectCaseSensitive(o, "exit");
			job_fields(o, rk, k, 1);
		}
		free(rk);
		free_runs(runs, n);
		strlist_release(&roles);
		if (!more || mlsh_interrupted || k == 0)
			return;
		nap(POLL_MS);
	}
}

/* train stop of a multi-node run: every rank on its own node, TERM to all
 * first, one grace period for all. */
static int
stop_job(struct mlsh_ctx *ctx, const char *name, long long grace,
    int data, cJSON **result)
{
	struct run_info *runs, **rk;
	struct stop_one *s;
	struct strlist roles;
	size_t n, k;
	int rc = 0, termed = 0;
	cJSON *ranks;

	strlist_init(&roles);
	if (read_runs(ctx, NULL, name, &runs, &n, &roles) != 0) {
		strlist_release(&roles);
		return 1;
	}
	rk = xcalloc(n + 1, sizeof *rk);
	k = job_ranks(ctx, runs, n, name, rk);
	s = xcalloc(k + 1, sizeof *s);
	for (size_t i = 0; i < k; i++) {
		s[i].node = rk[i]->node_file;
		s[i].dir = xstrdup(rk[i]->dir);
		if (target_resolve(ctx, s[i].node, &s[i].ip) != 0) {
			rc = 1;
			break;
		}
	}
	if (rc == 0 && stop_ranks(ctx, s, k, grace) != 0) {
		for (size_t i = 0; i < k; i++)
			if (s[i].err != NULL) {
				rc = cmd_error(ctx, "cannot stop rank %d of '%s' "
				    "on %s: %s", rk[i]->rank, name, s[i].node,
				    s[i].err);
				break;
			}
	}
	if (rc == 0) {
		*result = cJSON_CreateObject();
		cJSON_AddStringToObject(*result, "run", name);
		cJSON_AddStringToObject(*result, "node", rk[0]->node_file);
		ranks = cJSON_CreateArray();
		for (size_t i = 0; i < k; i++) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddNumberToObject(o, "rank", rk[i]->rank);
			cJSON_AddStringToObject(o, "node", s[i].node);
			stop_fields(o, &s[i]);
			termed |= strcmp(s[i].sig, "none") != 0;
			cJSON_AddItemToArray(ranks, o);
		}
		if (termed)
			cJSON_AddStringToObject(*result, "state", "killed");
		else
			job_fields(*result, rk, k, data);
		cJSON_AddItemToObject(*result, "stopped", ranks);
	}
	for (size_t i = 0; i < k; i++)
		stop_one_release(&s[i]);
	free(s);
	free(rk);
	free_runs(runs, n);
	strlist_release(&roles);
	return rc;
}

/* --nodes dl1-1,dl<Tab>: the nodes not in the list yet, after its commas. */
static void
complete_nodes(struct mlsh_ctx *ctx, const char *prefix,
    struct strlist *out)
{
	const char *comma = strrchr(prefix, ',');
	size_t head = comma ? (size_t)(comma - prefix) + 1 : 0;
	struct strlist t;
	char *listed = xasprintf(",%.*s", (int)head, prefix);

	strlist_init(&t);
	target_complete(ctx, prefix + head, &t);
	for (size_t i = 0; i < t.n; i++) {
		char *mark = xasprintf(",%s,", t.v[i]);
		if (strcmp(t.v[i], "jump") != 0 &&
		    strcmp(t.v[i], "grafana") != 0 && strstr(listed, mark) ==
		    NULL)
			strlist_take(out, xasprintf("%.*s%s", (int)head, prefix,
			    t.v[i]));
		free(mark);
	}
	free(listed);
	strlist_release(&t);
}
