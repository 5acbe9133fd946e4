/* top: every node of the workspace live in the terminal.
 *
 * Each tick runs one short sampler (builtins/topsample.c) on each node over
 * the session's kept SSH connections (builtins/target.c), one node after
 * the other: the session is single-threaded, so each node gets a bound
 * (connect and exec together, rmt_session_limit) and a node that does not
 * answer within it is shown as "no answer" and its connection dropped, to
 * be tried afresh next tick. CPU % comes from /proc/stat deltas between
 * ticks (the first tick reads twice a moment apart). The live view is
 * plain ANSI (alternate screen, clear + home each tick, no curses) with the
 * terminal in raw mode, restored on every way out; `top --once` prints one
 * table, `--json` data for scripts.
 *
 * Not shown: the training run's progress (it would cost a second exec per
 * node per tick) and the autostop countdown (no autostop yet). */
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "builtins/node.h"
#include "builtins/target.h"
#include "builtins/topsample.h"

#define HIST 30			/* CPU samples in the sparkline */
#define BOUND_MS 4000		/* per node and tick: connect + exec */

struct top_node {
	char *name, *state;
	double usd_h;
	int sampled;		/* a sample was asked for (running node) */
	int answered;
	char *error;
	struct top_sample s;
	double prev_total, prev_idle, cpu_pct;
	double hist[HIST];
	size_t nhist;
};

struct top_run {
	struct mlsh_ctx *ctx;
	struct top_node *v;
	size_t n;
	int live;		/* reading keys from the terminal */
	int quit;
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
		free(r->v[i].name);
		free(r->v[i].state);
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

		t->name = xstrdup(names.v[i]);
		t->state = xstrdup(st ? st : "-");
		t->usd_h = stack_rec_hourly(stackcmd_prices(r->ctx), rec);
		t->prev_total = t->prev_idle = t->cpu_pct = -1;
	}
	strlist_release(&names);
	return 0;
}

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

struct collect {
	struct buf out;
	int over;
	struct top_run *run;	/* for the cancel hook */
};

static int
collect_out(void *arg, const char *d, size_t n)
{
	struct collect *c = arg;

	if (c->out.len + n > TOP_MAX_OUTPUT) {
		c->over = 1;
		return -1;
	}
	buf_add(&c->out, d, n);
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
	return r->quit;
}

static int
exec_cancel(void *arg)
{
	return keys_quit(((struct collect *)arg)->run);
}

/* Run the sampler on one node within the bound. */
static int
node_exec(struct top_run *r, struct rmt_session *s, const char *ip,
    struct top_node *t, int first, struct collect *c)
{
	struct rmt_exec ex = RMT_EXEC_INIT;
	struct rmt_status st;
	char *cause = NULL;
	int rc = -1;

	rmt_session_limit(s, BOUND_MS);
	if (target_connect(r->ctx, s, ip, t->name, 0) != 0) {
		t->error = take_error(r->ctx);
		goto out;
	}
	ex.command = top_sampler(first);
	ex.on_stdout = collect_out;
	ex.arg = c;
	ex.cancel = exec_cancel;
	ex.timeout_ms = BOUND_MS;
	memset(&st, 0, sizeof st);
	if (rmt_exec(s, ip, &ex, &st, &cause) != 0 && !c->over)
		t->error = cause, cause = NULL;
	else if (st.timed_out || st.cancelled)
		t->error = xstrdup(st.cancelled ? "interrupted" : "timed out");
	else if (c->over)
		t->error = xasprintf("sampler: answer over %d bytes",
		    TOP_MAX_OUTPUT);
	else
		rc = 0;
out:
	rmt_session_limit(s, 0);
	free(cause);
	if (rc != 0)	/* a hung connection: start afresh next tick */
		rmt_disconnect(s, ip);
	return rc;
}

/* One node, one tick: its sample, CPU % and history, or why not. */
static void
node_sample(struct top_run *r, struct top_node *t, int first)
{
	struct rmt_session *s;
	struct collect c;
	char *ip = NULL, *cause = NULL;
	double pct = -1;

	free(t->error);
	t->error = NULL;
	t->answered = 0;
	t->sampled = strcmp(t->state, "running") == 0;
	if (!t->sampled)
		return;
	if (target_resolve(r->ctx, t->name, &ip) != 0 ||
	    (s = target_session(r->ctx)) == NULL) {
		t->error = take_error(r->ctx);
		free(ip);
		return;
	}
	buf_init(&c.out);
	c.over = 0;
	c.run = r;
	if (node_exec(r, s, ip, t, first, &c) == 0) {
		if (top_parse(c.out.data ? c.out.data : "", c.out.len, &t->s,
		    &cause) != 0)
			t->error = cause;
		else
			t->answered = 1;
	}
	buf_release(&c.out);
	free(ip);
	if (t->answered) {
		pct = t->s.cpu0_total >= 0 ? top_cpu_percent(t->s.cpu0_total,
		    t->s.cpu0_idle, t->s.cpu_total, t->s.cpu_idle) :
		    top_cpu_percent(t->prev_total, t->prev_idle,
		    t->s.cpu_total, t->s.cpu_idle);
		t->prev_total = t->s.cpu_total;
		t->prev_idle = t->s.cpu_idle;
	}
	t->cpu_pct = pct;
	if (t->nhist == HIST)
		memmove(t->hist, t->hist + 1, (HIST - 1) * sizeof *t->hist);
	else
		t->nhist++;
	t->hist[t->nhist - 1] = pct;
}

static void
sample_all(struct top_run *r, int first)
{
	for (size_t i = 0; i < r->n && !keys_quit(r); i++)
		node_sample(r, &r->v[i], first || r->v[i].prev_total < 0);
}

static void
add_num(cJSON *o, const char *k, double v)
{
	if (v < 0)
		cJSON_AddNullToObject(o, k);
	else
		cJSON_AddNumberToObject(o, k, v);
}

/* The node as data: numbers as numbers, null for unknown. */
static cJSON *
node_json(const struct top_node *t)
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
	cJSON_AddBoolToObject(o, "answered", a);
	if (t->error != NULL) {
		char *e = str_sanitize(t->error, 0);
		cJSON_AddStringToObject(o, "error", e);
		free(e);
	} else
		cJSON_AddNullToObject(o, "error");
	return o;
}

#define NCOL 9
static const char *const heads[NCOL] = { "NODE", "STATE", "CPU", "MEM",
	"DISK", "EFS", "ACCEL", "$/H", "CPU HISTORY" };

static char *
pct_cell(double v)
{
	return v < 0 ? xstrdup("-") : xasprintf("%.0f%%", v);
}

/* One node's cells (allocated; sanitised: names and states come from the
 * state file, figures are numbers). */
static void
node_cells(const struct top_node *t, char **c)
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
	c[7] = t->usd_h < 0 ? xstrdup("unknown") : xasprintf("$%.2f",
	    t->usd_h);
	c[8] = top_sparkline(t->hist, t->nhist);
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
		node_cells(&r->v[i], cells + (i + 1) * NCOL);
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
		sample_all(r, first);
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

	memset(&r, 0, sizeof r);
	r.ctx = ctx;
	if (nodes_load(&r) != 0)
		return 1;
	if (r.n == 0 && !a->json)
		fprintf(stderr, "top: no nodes in workspace '%s' (node KIND up "
		    "starts one)\n", ctx->workspace);
	else if (a->json) {
		cJSON *arr = cJSON_CreateArray();
		sample_all(&r, 1);
		for (size_t i = 0; i < r.n; i++)
			cJSON_AddItemToArray(arr, node_json(&r.v[i]));
		*result = arr;
	} else if (cmd_opt_bool(a, "once")) {
		sample_all(&r, 1);
		print_once(&r);
	} else
		rc = top_live(&r, (int)cmd_opt_num(a, "interval"));
	nodes_free(&r);
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
	.summary = "every node live: CPU, memory, disk, /efs, accelerators, $/h",
	.help = "Samples every node of the workspace (as 'node ls' lists them) "
	    "over the kept SSH connections: one short exec per node per tick, "
	    "each bounded to 4 s (a node that does not answer in time shows "
	    "'no answer'). CPU % is from /proc/stat between ticks, with a "
	    "sparkline of the last samples; accelerators from hl-smi or "
	    "nvidia-smi when on the node's PATH ($HOME/.local/bin first). "
	    "q or Ctrl-C leaves. --once prints one table; --json (implies "
	    "--once) gives [{node, state, cpu_percent, mem_used_mb, "
	    "mem_total_mb, disk_percent, efs_percent, accel: [{index, "
	    "util_percent, mem_used_mb, mem_total_mb}], usd_per_hour, "
	    "answered, error}], null for unknown.",
	.opts = top_opts,
	.min_args = 0, .max_args = 0,
	.exec = top_exec,
	.flags = CMD_READONLY,
};
