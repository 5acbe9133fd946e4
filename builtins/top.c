/* top: every node of the workspace live in the terminal.
 *
 * Each tick runs one short sampler (builtins/topsample.c) on every node at
 * once: one thread per node, each with an SSH session of its own (its own
 * jump connection and node connection, kept from tick to tick; an
 * rmt_session is not thread-safe, so none is shared), so 10 nodes take one
 * round trip's time. Each sample is bounded (connecting, when needed, to
 * 8 s; the exec to 4 s: rmt_session_limit); the tick waits for every node
 * up to that bound (4 s once a node has answered before) and a node that
 * has not answered by then is shown as "no answer" without holding the
 * others: its thread finishes on its own (the bound ends it), a failed
 * connection is dropped and the node asked afresh at a later tick. When
 * top ends, a thread still out is left to finish and free its own worker
 * (W_ORPHAN), so leaving never waits for a silent node. The same sample
 * gives the node's live train run (its first and last progress lines:
 * fraction done and ETA as `train status` computes them) and its autostop
 * watchdog's state (`mlsh-autostop show`: the countdown while idle), else
 * the setting its record keeps. CPU % comes from /proc/stat deltas between
 * ticks (the first tick reads twice a moment apart). The live view is
 * plain ANSI (alternate screen, clear + home each tick, no curses) with the
 * terminal in raw mode, restored on every way out; `top --once` prints one
 * table, `--json` data for scripts. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "builtins/node.h"
#include "builtins/target.h"
#include "builtins/topsample.h"
#include "lib/duration.h"
#include "stack/progress.h"

#define HIST 30			/* CPU samples in the sparkline */
#define BOUND_MS 4000		/* per node and tick: the sampler's exec */
#define CONNECT_MS 8000		/* connecting (jump and node), when needed */
#define GRACE_MS 500		/* past the bound, before "no answer" */
/* New connections started at once: each session has its own jump
 * connection, and sshd drops unauthenticated connections at random past
 * its MaxStartups (default 10:30:100, sshd_config(5)); more nodes connect
 * over the next ticks. */
#define MAX_FRESH 8

/* MAX_FRESH, or fewer for the tests (MLSH_TOP_MAX_FRESH). */
static int
max_fresh(void)
{
	const char *e = getenv("MLSH_TOP_MAX_FRESH");

	return e != NULL && atoi(e) >= 1 && atoi(e) < MAX_FRESH ? atoi(e) :
	    MAX_FRESH;
}

/* One node's sampler thread. Between samples (busy 0) everything here is
 * the main thread's; while busy, the thread's, except the atomics. A
 * thread still out when top ends is left to finish on its own: whichever
 * of the two sets its bit in state second (W_DONE by the thread, W_ORPHAN
 * by top) frees the worker, so neither waits for the other. */
#define W_DONE		1
#define W_ORPHAN	2
struct top_worker {
	pthread_t th;
	int busy;		/* a thread was started and not joined */
	int contacted;		/* connected once: later ticks are short */
	atomic_int state;	/* W_DONE, W_ORPHAN */
	atomic_int quit;	/* cancel the exec */
	atomic_int connecting;	/* still connecting (for the message) */
	struct rmt_session *s;	/* its own session, kept across ticks */
	char *ip, *command;
	struct buf out;
	int over, ok;
	char *error;
};
static void worker_release(struct top_worker *);

struct top_node {
	char *name, *state;
	char *autostop_rec;	/* the record's setting (seconds, "off"), or NULL */
	double usd_h;
	int sampled;		/* a sample was asked for (running node) */
	int waiting;		/* not asked: MAX_FRESH were connecting */
	int answered;
	char *error;
	struct top_sample s;
	double prev_total, prev_idle, cpu_pct;
	double hist[HIST];
	size_t nhist;
	struct top_worker *w;
};

struct top_run {
	struct mlsh_ctx *ctx;
	struct top_node *v;
	size_t n;
	int live;		/* reading keys from the terminal */
	int quit;
	char *pattern;		/* train_pattern */
};

static volatile sig_atomic_t top_signalled;

static void
on_signal(int sig)
{
	top_signalled = sig;
}

static void
nodes_free(struct top_run *r)
{
	for (size_t i = 0; i < r->n; i++) {
		worker_release(r->v[i].w);
		free(r->v[i].name);
		free(r->v[i].state);
		free(r->v[i].autostop_rec);
		free(r->v[i].error);
	}
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

/* The nodes as `node ls` lists them, with their state and price. */
static int
nodes_load(struct top_run *r)
{
	const cJSON *res = target_resources(r->ctx);
	struct strlist names;

	if (res == NULL)
		return -1;
	strlist_init(&names);
	node_list(res, &names);
	r->v = xcalloc(names.n ? names.n : 1, sizeof *r->v);
	r->n = names.n;
	for (size_t i = 0; i < names.n; i++) {
		const cJSON *rec = cJSON_GetObjectItemCaseSensitive(res,
		    names.v[i]);
		const char *st = stack_attr(rec, "state");
		struct top_node *t = &r->v[i];

		const char *as = stack_attr(rec, "autostop");

		t->name = xstrdup(names.v[i]);
		t->state = xstrdup(st ? st : "-");
		t->autostop_rec = as ? xstrdup(as) : NULL;
		t->w = xcalloc(1, sizeof *t->w);
		buf_init(&t->w->out);
		t->usd_h = stack_rec_hourly(stackcmd_prices(r->ctx), rec);
		t->prev_total = t->prev_idle = t->cpu_pct = -1;
	}
	strlist_release(&names);
	return 0;
}

/* Keys typed while sampling or waiting: q, Q or Ctrl-C leave; a signal
 * (TERM, HUP, or SIGINT when the terminal still sends it) too. */
static int
keys_quit(struct top_run *r)
{
	struct pollfd p = { .fd = 0, .events = POLLIN };
	char c;

	if (top_signalled || mlsh_interrupted)
		r->quit = 1;
	while (r->live && !r->quit && poll(&p, 1, 0) == 1 &&
	    read(0, &c, 1) == 1)
		if (c == 'q' || c == 'Q' || c == 3)
			r->quit = 1;
	for (size_t i = 0; r->quit && i < r->n; i++)
		atomic_store(&r->v[i].w->quit, 1);
	return r->quit;
}

/* ---- the sampler threads: no ctx, no stdio, only their worker ---------- */

static int
collect_out(void *arg, const char *d, size_t n)
{
	struct top_worker *w = arg;

	if (w->out.len + n > TOP_MAX_OUTPUT) {
		w->over = 1;
		return -1;
	}
	buf_add(&w->out, d, n);
	return 0;
}

static int
worker_cancel(void *arg)
{
	return atomic_load(&((struct top_worker *)arg)->quit);
}

static void
worker_free(struct top_worker *w)
{
	if (w->s != NULL)
		rmt_session_free(w->s);
	free(w->ip);
	free(w->command);
	free(w->error);
	buf_release(&w->out);
	free(w);
}

/* Connect and run the sampler within the bound. */
static void *
worker_main(void *arg)
{
	struct top_worker *w = arg;
	struct rmt_exec ex = RMT_EXEC_INIT;
	struct rmt_status st;
	char *cause = NULL;

	/* Connecting (only when not connected: a live connection answers
	 * at once) gets its own, longer bound; a loaded machine's handshakes
	 * must not keep a node from ever answering. */
	rmt_session_limit(w->s, CONNECT_MS);
	if (rmt_connect(w->s, w->ip, &cause) != 0)
		goto out;
	atomic_store(&w->connecting, 0);
	rmt_session_limit(w->s, BOUND_MS);
	ex.command = w->command;
	ex.on_stdout = collect_out;
	ex.arg = w;
	ex.cancel = worker_cancel;
	ex.timeout_ms = BOUND_MS;
	memset(&st, 0, sizeof st);
	if (rmt_exec(w->s, w->ip, &ex, &st, &cause) != 0 && !w->over)
		;
	else if (st.timed_out || st.cancelled)
		cause = xstrdup(st.cancelled ? "interrupted" : "timed out");
	else if (w->over)
		cause = xasprintf("sampler: answer over %d bytes",
		    TOP_MAX_OUTPUT);
	else
		w->ok = 1;
out:
	rmt_session_limit(w->s, 0);
	if (!w->ok)	/* a hung connection: start afresh next time */
		rmt_disconnect(w->s, w->ip);
	w->error = cause;
	if (atomic_fetch_or(&w->state, W_DONE) & W_ORPHAN)
		worker_free(w);		/* top has ended */
	return NULL;
}

/* At the end: free the worker, or leave it to its thread (see W_ORPHAN). */
static void
worker_release(struct top_worker *w)
{
	if (w == NULL)
		return;
	if (!w->busy) {
		worker_free(w);
		return;
	}
	atomic_store(&w->quit, 1);
	if (atomic_fetch_or(&w->state, W_ORPHAN) & W_DONE) {
		pthread_join(w->th, NULL);
		worker_free(w);
	} else
		pthread_detach(w->th);
}

/* ---- the main thread's side -------------------------------------------- */

/* The error cmd_error left, without the "top: " prefix; cleared. */
static char *
take_error(struct mlsh_ctx *ctx)
{
	char *m;

	if (ctx->error == NULL)
		return xstrdup("failed");
	m = xstrdup(str_startswith(ctx->error, "top: ") ? ctx->error + 5 :
	    ctx->error);
	free(ctx->error);
	ctx->error = NULL;
	return m;
}

static void
hist_push(struct top_node *t, double pct)
{
	t->cpu_pct = pct;
	if (t->nhist == HIST)
		memmove(t->hist, t->hist + 1, (HIST - 1) * sizeof *t->hist);
	else
		t->nhist++;
	t->hist[t->nhist - 1] = pct;
}

/* Start node t's sample in its thread; 0, or -1 with t->error. */
static int
node_start(struct top_run *r, struct top_node *t, int first)
{
	struct top_worker *w = t->w;
	char *ip = NULL;

	if (target_resolve(r->ctx, t->name, &ip) != 0) {
		t->error = take_error(r->ctx);
		return -1;
	}
	if (w->ip != NULL && strcmp(w->ip, ip) != 0 && w->s != NULL) {
		rmt_session_free(w->s);		/* a new address */
		w->s = NULL;
	}
	free(w->ip);
	w->ip = ip;
	if (w->s == NULL && (w->s = target_session_own(r->ctx, ip,
	    t->name)) == NULL) {
		t->error = take_error(r->ctx);
		return -1;
	}
	free(w->command);
	w->command = top_sampler(first, t->name, r->pattern);
	w->out.len = 0;
	w->over = w->ok = 0;
	atomic_store(&w->state, 0);
	atomic_store(&w->connecting, 1);
	if ((errno = pthread_create(&w->th, NULL, worker_main, w)) != 0) {
		t->error = xasprintf("cannot start a sampler: %s",
		    strerror(errno));
		return -1;
	}
	w->busy = 1;
	return 0;
}

/* A finished thread's sample into t: figures, CPU % and history. */
static void
node_take(struct top_node *t)
{
	struct top_worker *w = t->w;
	char *cause = NULL;
	double pct = -1;

	pthread_join(w->th, NULL);
	w->busy = 0;
	if (w->ok)
		w->contacted = 1;
	if (!w->ok) {
		t->error = w->error ? w->error : xstrdup("failed");
		w->error = NULL;
	} else if (top_parse(w->out.data ? w->out.data : "", w->out.len,
	    &t->s, &cause) != 0)
		t->error = cause;
	else
		t->answered = 1;
	if (t->answered) {
		pct = t->s.cpu0_total >= 0 ? top_cpu_percent(t->s.cpu0_total,
		    t->s.cpu0_idle, t->s.cpu_total, t->s.cpu_idle) :
		    top_cpu_percent(t->prev_total, t->prev_idle,
		    t->s.cpu_total, t->s.cpu_idle);
		t->prev_total = t->s.cpu_total;
		t->prev_idle = t->s.cpu_idle;
	}
	hist_push(t, pct);
}

/* Whether any started sample is still out. */
static int
any_busy(const struct top_run *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].w->busy && !(atomic_load(&r->v[i].w->state) &
		    W_DONE))
			return 1;
	return 0;
}

/* One tick: every running node's sampler at once, then each answer as it
 * is, within the bound; a node still out is "no answer" this tick.
 * again: only the nodes left waiting by the last call (--once). */
static int
sample_all(struct top_run *r, int first, int again)
{
	struct pollfd p = { .fd = 0, .events = POLLIN };
	double deadline;
	int wait_ms = BOUND_MS, fresh = 0, waiting = 0;

	for (size_t i = 0; i < r->n; i++) {
		struct top_node *t = &r->v[i];
		if (again && !t->waiting)
			continue;
		free(t->error);
		t->error = NULL;
		t->answered = t->waiting = 0;
		t->sampled = strcmp(t->state, "running") == 0;
		if (!t->sampled || t->w->busy)
			continue;
		if (!t->w->contacted && fresh++ >= max_fresh()) {
			t->error = xasprintf("waiting to connect (%d new "
			    "connections at a time)", max_fresh());
			t->waiting = 1;
			if (!again)
				hist_push(t, -1);
		} else if (node_start(r, t, first || t->prev_total < 0) != 0)
			hist_push(t, -1);
		else if (!t->w->contacted)	/* first contact: connect too */
			wait_ms = CONNECT_MS + BOUND_MS;
	}
	deadline = now_ms() + wait_ms + GRACE_MS;
	while (any_busy(r) && !keys_quit(r) && now_ms() < deadline)
		(void)poll(r->live ? &p : NULL, r->live ? 1 : 0, 50);
	for (size_t i = 0; i < r->n; i++) {
		struct top_node *t = &r->v[i];
		if (!t->w->busy || t->error != NULL)
			continue;
		if (atomic_load(&t->w->state) & W_DONE)
			node_take(t);
		else {
			t->error = xasprintf("timed out: no answer within "
			    "%d s%s", wait_ms / 1000, atomic_load(
			    &t->w->connecting) ? " (connecting)" : "");
			hist_push(t, -1);
		}
	}
	for (size_t i = 0; i < r->n; i++)
		waiting += r->v[i].waiting;
	return waiting;
}

/* Every node once: more rounds while some wait for their turn to
 * connect (MAX_FRESH at a time), each round bounded. */
static void
sample_once(struct top_run *r)
{
	for (size_t k = 0; sample_all(r, 1, k > 0) > 0 && k <= r->n &&
	    !keys_quit(r); k++)
		;
}

/* The newest live run's progress: fraction done and ETA (as train status
 * computes them); 0 when the node has no live run. */
static int
node_run(const struct top_run *r, const struct top_node *t,
    const struct top_runinfo **ri, struct progress_track *tr, double *eta)
{
	struct progress_parser pp;
	char *cause = NULL;

	*ri = NULL;
	*eta = -1;
	memset(tr, 0, sizeof *tr);
	if (!t->answered || t->s.nruns == 0)
		return 0;
	*ri = &t->s.runs[0];
	for (size_t i = 1; i < t->s.nruns; i++)
		if (t->s.runs[i].started > (*ri)->started)
			*ri = &t->s.runs[i];
	if (progress_parser_init(&pp, r->pattern, &cause) != 0) {
		free(cause);
		return 1;
	}
	progress_track_line(tr, &pp, (*ri)->first, strlen((*ri)->first));
	progress_track_line(tr, &pp, (*ri)->last, strlen((*ri)->last));
	progress_parser_release(&pp);
	if (tr->have)
		*eta = progress_eta(&tr->first, &tr->last, t->s.now >= 0 ?
		    t->s.now - (*ri)->started : -1);
	return 1;
}

/* Seconds until the watchdog stops the node (-1: not counting down), and
 * its setting (seconds, 0 off; -1 unknown) with where it came from. */
static void
top_autostop(const struct top_node *t, double *stops_in, double *setting,
    const char **source)
{
	const struct top_sample *s = &t->s;

	*stops_in = *setting = -1;
	*source = NULL;
	if (t->answered && s->as_idle >= 0) {
		*setting = s->as_idle;
		*source = "watchdog";
		/* As `node NAME autostop` reads it: the setting may have
		 * changed since the last check. */
		if (strcmp(s->as_state, "idle") == 0 && s->as_idle > 0 &&
		    s->as_idle_since >= 0 && s->now >= 0) {
			double left = s->as_idle_since + s->as_idle - s->now;
			*stops_in = left > 0 ? left : 0;
		}
	} else if (t->autostop_rec != NULL) {
		*setting = strcmp(t->autostop_rec, "off") == 0 ? 0 :
		    atof(t->autostop_rec);
		*source = "record";
	}
}

static void
add_num(cJSON *o, const char *k, double v)
{
	if (v < 0)
		cJSON_AddNullToObject(o, k);
	else
		cJSON_AddNumberToObject(o, k, v);
}

/* The node's newest live run: {name, epoch, epochs, fraction,
 * elapsed_seconds, eta_seconds, last}, or null. */
static cJSON *
run_json(const struct top_run *r, const struct top_node *t)
{
	const struct top_runinfo *ri;
	struct progress_track tr;
	double eta;
	cJSON *o;
	char *last;

	if (!node_run(r, t, &ri, &tr, &eta))
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", ri->name);
	add_num(o, "epoch", tr.have ? (double)tr.last.epoch : -1);
	add_num(o, "epochs", tr.have ? (double)tr.last.epochs : -1);
	add_num(o, "fraction", tr.have ? tr.last.fraction : -1);
	add_num(o, "elapsed_seconds", t->s.now >= ri->started ?
	    t->s.now - ri->started : -1);
	add_num(o, "eta_seconds", eta >= 0 ? round(eta) : -1);
	if (tr.have) {
		last = str_sanitize(tr.last.metrics, 0);
		cJSON_AddStringToObject(o, "last", last);
		free(last);
	} else
		cJSON_AddNullToObject(o, "last");
	return o;
}

/* {setting_seconds (0: off), state, stops_in_seconds, source}, nulls for
 * unknown; null when nothing is known. */
static cJSON *
autostop_json(const struct top_node *t)
{
	double in, setting;
	const char *src;
	cJSON *o;

	top_autostop(t, &in, &setting, &src);
	if (src == NULL)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	add_num(o, "setting_seconds", setting);
	if (strcmp(src, "watchdog") == 0 && t->s.as_state[0])
		cJSON_AddStringToObject(o, "state", t->s.as_state);
	else
		cJSON_AddNullToObject(o, "state");
	add_num(o, "stops_in_seconds", in >= 0 ? round(in) : -1);
	cJSON_AddStringToObject(o, "source", src);
	return o;
}

/* The node as data: numbers as numbers, null for unknown. */
static cJSON *
node_json(const struct top_run *r, const struct top_node *t)
{
	cJSON *o = cJSON_CreateObject(), *acc;
	const struct top_sample *s = &t->s;
	int a = t->answered;

	cJSON_AddStringToObject(o, "node", t->name);
	cJSON_AddStringToObject(o, "state", t->state);
	add_num(o, "cpu_percent", a && t->cpu_pct >= 0 ?
	    round(t->cpu_pct * 10) / 10 : -1);
	add_num(o, "mem_used_mb", a && s->mem_total_kb >= 0 &&
	    s->mem_avail_kb >= 0 && s->mem_avail_kb <= s->mem_total_kb ?
	    round((s->mem_total_kb - s->mem_avail_kb) / 1024) : -1);
	add_num(o, "mem_total_mb", a && s->mem_total_kb >= 0 ?
	    round(s->mem_total_kb / 1024) : -1);
	add_num(o, "disk_percent", a ? s->disk_pct : -1);
	add_num(o, "efs_percent", a ? s->efs_pct : -1);
	acc = cJSON_AddArrayToObject(o, "accel");
	for (size_t i = 0; a && i < s->naccel; i++) {
		cJSON *x = cJSON_CreateObject();
		cJSON_AddNumberToObject(x, "index", (double)i);
		add_num(x, "util_percent", s->accel[i].util_pct);
		add_num(x, "mem_used_mb", s->accel[i].mem_used_mb);
		add_num(x, "mem_total_mb", s->accel[i].mem_total_mb);
		cJSON_AddItemToArray(acc, x);
	}
	add_num(o, "usd_per_hour", t->usd_h);
	cJSON_AddItemToObject(o, "run", run_json(r, t));
	cJSON_AddItemToObject(o, "autostop", autostop_json(t));
	cJSON_AddBoolToObject(o, "answered", a);
	if (t->error != NULL) {
		char *e = str_sanitize(t->error, 0);
		cJSON_AddStringToObject(o, "error", e);
		free(e);
	} else
		cJSON_AddNullToObject(o, "error");
	return o;
}

#define NCOL 11
static const char *const heads[NCOL] = { "NODE", "STATE", "CPU", "MEM",
	"DISK", "EFS", "ACCEL", "RUN", "AUTOSTOP", "$/H", "CPU HISTORY" };

static char *
pct_cell(double v)
{
	return v < 0 ? xstrdup("-") : xasprintf("%.0f%%", v);
}

/* "r1 45% ETA 3m12s" (the run's name is [A-Za-z0-9._-]). */
static char *
run_cell(const struct top_run *r, const struct top_node *t)
{
	const struct top_runinfo *ri;
	struct progress_track tr;
	double eta;
	char e[32];

	if (!node_run(r, t, &ri, &tr, &eta))
		return xstrdup("-");
	if (!tr.have)
		return xasprintf("%s started", ri->name);
	progress_duration(e, sizeof e, eta);
	return xasprintf("%s %.0f%% ETA %s", ri->name,
	    floor(tr.last.fraction * 100), eta >= 0 ? e : "?");
}

/* "in 12m" counting down while idle; else the setting ("60m", "off"),
 * with "busy" when the watchdog saw work. */
static char *
autostop_cell(const struct top_node *t)
{
	double in, setting;
	const char *src;
	char d[32];

	top_autostop(t, &in, &setting, &src);
	if (src == NULL)
		return xstrdup("-");
	if (in >= 0) {
		duration_format(in > 0 ? (long)in : 1, d, sizeof d);
		return xasprintf("in %s", d);
	}
	duration_format((long)setting, d, sizeof d);
	if (strcmp(src, "watchdog") == 0 && strcmp(t->s.as_state, "busy") == 0
	    && setting > 0)
		return xasprintf("busy, %s", d);
	return xstrdup(d);
}

/* One node's cells (allocated; sanitised: names and states come from the
 * state file, figures are numbers). */
static void
node_cells(const struct top_run *r, const struct top_node *t, char **c)
{
	const struct top_sample *s = &t->s;

	c[0] = str_sanitize(t->name, 0);
	c[1] = str_sanitize(t->state, 0);
	if (!t->answered) {
		c[2] = xstrdup(t->sampled ? "no answer" : "-");
		for (int i = 3; i < 7; i++)
			c[i] = xstrdup("-");
	} else {
		c[2] = pct_cell(t->cpu_pct);
		c[3] = s->mem_total_kb < 0 || s->mem_avail_kb < 0 ?
		    xstrdup("-") : xasprintf("%.1f/%.1fG",
		    (s->mem_total_kb - s->mem_avail_kb) / 1048576.0,
		    s->mem_total_kb / 1048576.0);
		c[4] = pct_cell(s->disk_pct);
		c[5] = pct_cell(s->efs_pct);
		c[6] = top_accel_cell(s);
	}
	c[7] = run_cell(r, t);
	c[8] = autostop_cell(t);
	c[9] = t->usd_h < 0 ? xstrdup("unknown") : xasprintf("$%.2f",
	    t->usd_h);
	c[10] = top_sparkline(t->hist, t->nhist);
}

/* The table as lines (no newline), columns padded; the history column
 * only in the live view. */
static void
table_lines(const struct top_run *r, int live, struct strlist *out)
{
	int ncol = live ? NCOL : NCOL - 1;
	char **cells = xcalloc((r->n + 1) * NCOL, sizeof *cells);
	size_t w[NCOL] = { 0 };

	for (int j = 0; j < NCOL; j++)
		cells[j] = xstrdup(heads[j]);
	for (size_t i = 0; i < r->n; i++)
		node_cells(r, &r->v[i], cells + (i + 1) * NCOL);
	for (size_t i = 0; i <= r->n; i++)
		for (int j = 0; j < ncol; j++)
			if (top_width(cells[i * NCOL + j]) > w[j])
				w[j] = top_width(cells[i * NCOL + j]);
	for (size_t i = 0; i <= r->n; i++) {
		struct buf b;
		buf_init(&b);
		for (int j = 0; j < ncol; j++) {
			const char *c = cells[i * NCOL + j];
			buf_printf(&b, "%s%s", j ? "  " : "", c);
			if (j + 1 < ncol)
				for (size_t k = top_width(c); k < w[j]; k++)
					buf_addc(&b, ' ');
		}
		buf_addc(&b, '\0');
		strlist_take(out, b.data);
	}
	for (size_t i = 0; i < (r->n + 1) * NCOL; i++)
		free(cells[i]);
	free(cells);
}

/* Below the table: why each node that did not answer did not. */
static void
error_lines(const struct top_run *r, struct strlist *out)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].error != NULL) {
			/* remote/ names the node first already. */
			char *e = str_sanitize(r->v[i].error, 0);
			size_t n = strlen(r->v[i].name);
			if (strncmp(e, r->v[i].name, n) == 0 && e[n] == ':')
				strlist_take(out, e);
			else {
				strlist_take(out, xasprintf("%s: %s",
				    r->v[i].name, e));
				free(e);
			}
		}
}

/* One frame: clear, home, the lines cut to the window (read each frame,
 * so a resize shows at the next tick). Raw mode: lines end in \r\n. */
static void
draw(struct top_run *r, int interval, const char *note)
{
	struct winsize ws;
	size_t rows = 24, cols = 80;
	struct strlist l;
	struct buf b;
	double h = 0;

	if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
		rows = ws.ws_row, cols = ws.ws_col;
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].usd_h > 0)
			h += r->v[i].usd_h;
	strlist_init(&l);
	strlist_take(&l, xasprintf("mlsh top · workspace %s · %zu node%s · "
	    "$%.2f/h · every %ds · q quits%s", r->ctx->workspace, r->n,
	    r->n == 1 ? "" : "s", h, interval, note));
	strlist_add(&l, "");
	table_lines(r, 1, &l);
	error_lines(r, &l);
	buf_init(&b);
	buf_printf(&b, "\033[H\033[2J");
	for (size_t i = 0; i < l.n && i < rows; i++) {
		top_cut(l.v[i], cols);
		buf_printf(&b, "%s%s", i ? "\r\n" : "", l.v[i]);
	}
	fwrite(b.data, 1, b.len, stdout);
	fflush(stdout);
	buf_release(&b);
	strlist_release(&l);
}

/* Wait up to ms for the next tick, leaving early on q. */
static void
wait_keys(struct top_run *r, int ms)
{
	double deadline = now_ms() + ms;
	struct pollfd p = { .fd = 0, .events = POLLIN };

	while (!keys_quit(r)) {
		double left = deadline - now_ms();
		if (left <= 0)
			break;
		(void)poll(&p, 1, left < 200 ? (int)left + 1 : 200);
	}
}

static void
live_loop(struct top_run *r, int interval)
{
	draw(r, interval, " · sampling …");
	for (int first = 1; !keys_quit(r); first = 0) {
		sample_all(r, first, 0);
		if (keys_quit(r))
			break;
		draw(r, interval, "");
		wait_keys(r, interval * 1000);
	}
}

/* The live view: raw mode and the alternate screen around the loop, both
 * undone on every way out (q, Ctrl-C, TERM, HUP). */
static int
top_live(struct top_run *r, int interval)
{
	unsigned char saved[RMT_TERMIOS_SIZE];
	struct sigaction sa, oterm, ohup;
	char *cause = NULL;

	if (!isatty(0) || !isatty(1))
		return cmd_error(r->ctx, "the live view needs a terminal; "
		    "'top --once' prints one table");
	if (rmt_tty_raw(0, saved, &cause) != 0) {
		cmd_error(r->ctx, "%s", cause);
		free(cause);
		return 1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	top_signalled = 0;
	sigaction(SIGTERM, &sa, &oterm);
	sigaction(SIGHUP, &sa, &ohup);
	r->live = 1;
	fputs("\033[?1049h\033[?25l", stdout);
	live_loop(r, interval);
	fputs("\033[?25h\033[?1049l", stdout);
	fflush(stdout);
	r->live = 0;
	rmt_tty_restore(0, saved);
	sigaction(SIGTERM, &oterm, NULL);
	sigaction(SIGHUP, &ohup, NULL);
	if (top_signalled)	/* TERM or HUP: delivered now, as if later */
		raise(top_signalled);
	return 0;
}

static void
print_once(struct top_run *r)
{
	struct strlist l;

	strlist_init(&l);
	table_lines(r, 0, &l);
	error_lines(r, &l);
	for (size_t i = 0; i < l.n; i++)
		printf("%s\n", l.v[i]);
	fflush(stdout);
	strlist_release(&l);
}

static int
top_exec(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct top_run r;
	int rc = 0;

	const char *pat = shell_var_get_local(ctx, "train_pattern");

	memset(&r, 0, sizeof r);
	r.ctx = ctx;
	r.pattern = xstrdup(pat != NULL && *pat ? pat :
	    PROGRESS_DEFAULT_PATTERN);
	if (nodes_load(&r) != 0) {
		free(r.pattern);
		return 1;
	}
	if (r.n == 0 && !a->json)
		fprintf(stderr, "top: no nodes in workspace '%s' (node KIND up "
		    "starts one)\n", ctx->workspace);
	else if (a->json) {
		cJSON *arr = cJSON_CreateArray();
		sample_once(&r);
		for (size_t i = 0; i < r.n; i++)
			cJSON_AddItemToArray(arr, node_json(&r, &r.v[i]));
		*result = arr;
	} else if (cmd_opt_bool(a, "once")) {
		sample_once(&r);
		print_once(&r);
	} else
		rc = top_live(&r, (int)cmd_opt_num(a, "interval"));
	nodes_free(&r);
	free(r.pattern);
	return rc;
}

static const struct mlsh_opt top_opts[] = {
	{ "once", 0, OPT_BOOL, NULL, NULL, "print one table and exit (--json: "
	    "the same as data)" },
	OPT_NUM("interval", 0, "SECS", "seconds between refreshes (default 2)",
	    1, 3600, 2),
	OPT_END
};

const struct mlsh_cmd cmd_top_entry = {
	.name = "top",
	.summary = "every node live: CPU, memory, disk, /efs, accelerators, "
	    "run progress, autostop, $/h",
	.help = "Samples every node of the workspace (as 'node ls' lists them) "
	    "at once: one thread and SSH session per node (its own jump "
	    "connection, kept between ticks), one short exec per node per "
	    "tick, bounded to 4 s (connecting, when needed, to 8 s more); a "
	    "node that has not answered by then shows 'no answer' while the "
	    "others' figures still arrive. CPU % "
	    "is from /proc/stat between ticks, with a sparkline of the last "
	    "samples; accelerators from hl-smi or nvidia-smi when on the "
	    "node's PATH ($HOME/.local/bin first); RUN is the node's newest "
	    "live train run with its fraction done and ETA (its progress "
	    "lines, train_pattern); AUTOSTOP is the node's watchdog: 'in 12m' "
	    "while idle, else its setting ('busy, 1h' while it sees work), or "
	    "the record's setting when the node did not answer. q or Ctrl-C "
	    "leaves. --once prints one table; --json (implies --once) gives "
	    "[{node, state, cpu_percent, mem_used_mb, mem_total_mb, "
	    "disk_percent, efs_percent, accel: [{index, util_percent, "
	    "mem_used_mb, mem_total_mb}], usd_per_hour, run: {name, epoch, "
	    "epochs, fraction, elapsed_seconds, eta_seconds, last}, autostop: "
	    "{setting_seconds (0: off), state, stops_in_seconds, source: "
	    "watchdog|record}, answered, error}], null for unknown.",
	.opts = top_opts,
	.min_args = 0, .max_args = 0,
	.exec = top_exec,
	.flags = CMD_READONLY,
};
