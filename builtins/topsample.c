/* topsample.c: the sampler command `top` runs on each node and the strict
 * reader of what it prints (see topsample.h). */
#include <stdlib.h>
#include <string.h>
#include "lib/util.h"
#include "stack/progress.h"
#include "builtins/topsample.h"

#define LINE_MAX_LEN 256
#define NUM_MAX 1e15		/* far above any jiffy count or KiB figure */

/* POSIX sh and awk only. /proc/stat's cpu line: the sum of every field is
 * the total, idle + iowait the idle time (proc(5)). MemAvailable, not
 * MemFree: what can be had without swapping. hl-smi's query flags are
 * Habana's (hl-smi -Q … -f csv,noheader,nounits, as nvidia-smi's). */
#define SAMPLER_HEAD \
	"export LC_ALL=C PATH=\"$HOME/.local/bin:$PATH:/usr/sbin:/usr/bin:/bin\"; " \
	"c(){ awk -v k=\"$1\" '/^cpu /{t=0;for(i=2;i<=NF;i++)t+=$i;" \
	"printf \"%s=%.0f %.0f\\n\",k,t,$5+$6;exit}' /proc/stat; }; "
#define SAMPLER_TAIL \
	"c cpu; " \
	"awk '/^MemTotal:/{print \"mem_total_kb=\" $2}" \
	"/^MemAvailable:/{print \"mem_avail_kb=\" $2}' /proc/meminfo; " \
	"df -P / 2>/dev/null | awk 'NR==2{sub(/%/,\"\",$5);print \"disk_pct=\" $5}'; " \
	"if awk '$2==\"/efs\"{f=1}END{exit !f}' /proc/mounts; then " \
	"df -P /efs 2>/dev/null | awk 'NR==2{sub(/%/,\"\",$5);print \"efs_pct=\" $5}'; fi; " \
	"{ if command -v hl-smi >/dev/null 2>&1; then " \
	"hl-smi -Q utilization.aip,memory.used,memory.total -f csv,noheader,nounits; " \
	"elif command -v nvidia-smi >/dev/null 2>&1; then " \
	"nvidia-smi --query-gpu=utilization.gpu,memory.used,memory.total " \
	"--format=csv,noheader,nounits; fi; } 2>/dev/null | head -n 17 | " \
	"awk -F', *' 'NF==3{print \"accel=\" $1 \",\" $2 \",\" $3}'"

/* The node's clock, its autostop watchdog's setting and last check, and
 * its live runs (train.c's layout: started, node, pid, no exit yet) with
 * their first progress line and the last one of the log's tail. */
#define SAMPLER_MORE \
	"; echo now=$(date +%s); A=/usr/local/bin/mlsh-autostop; " \
	"[ -x $A ] && $A show 2>/dev/null | awk -F= '$1==\"idle\"||" \
	"$1==\"state\"||$1==\"idle_since\"{print \"as_\" $0}'; " \
	"for d in /efs/runs/*/ /efs/runs/*/rank-*/ \"$HOME\"/runs/*/ " \
	"\"$HOME\"/runs/*/rank-*/; do " \
	"[ -e \"${d}started\" ] && [ ! -e \"${d}exit\" ] || continue; " \
	"[ \"$(cat \"${d}node\" 2>/dev/null)\" = \"$me\" ] || continue; " \
	"p=$(cat \"${d}pid\" 2>/dev/null); " \
	"[ -n \"$p\" ] && kill -0 \"$p\" 2>/dev/null || continue; " \
	"n=${d%/}; case ${n##*/} in rank-*) n=${n%/*};; esac; " \
	"echo \"run=$(cat \"${d}started\") ${n##*/}\"; " \
	"echo \"run_first=$(grep -E -m1 -e \"$pat\" \"${d}log\" 2>/dev/null | " \
	"head -n 1 | cut -c1-200 | tr -d '\\r')\"; " \
	"echo \"run_last=$(tail -c 65536 \"${d}log\" 2>/dev/null | " \
	"grep -E -e \"$pat\" | tail -n 1 | cut -c1-200 | tr -d '\\r')\"; " \
	"done | head -n 12"

char *
top_sampler(int first, const char *node, const char *pattern)
{
	char *me = str_sh_quote(node), *pat = str_sh_quote(pattern != NULL &&
	    *pattern ? pattern : PROGRESS_DEFAULT_PATTERN), *s;

	s = xasprintf("me=%s; pat=%s; %s", me, pat, first ?
	    SAMPLER_HEAD "c cpu0; sleep 0.3; " SAMPLER_TAIL SAMPLER_MORE :
	    SAMPLER_HEAD SAMPLER_TAIL SAMPLER_MORE);
	free(me);
	free(pat);
	return s;
}

/* A plain decimal (digits, optionally one '.' and digits) up to NUM_MAX;
 * "N/A" and "[N/A]" (nvidia-smi on a card that does not report it) are
 * -1 when na is allowed. The whole of [s, e) must be the number. */
static int
num(const char *s, const char *e, int na, double *out)
{
	char tmp[32];
	size_t n = (size_t)(e - s);
	int dot = 0, digits = 0;

	if (na && ((n == 3 && memcmp(s, "N/A", 3) == 0) ||
	    (n == 5 && memcmp(s, "[N/A]", 5) == 0))) {
		*out = -1;
		return 0;
	}
	if (n == 0 || n >= sizeof tmp)
		return -1;
	for (const char *p = s; p < e; p++) {
		if (*p == '.' && !dot && digits > 0)
			dot = 1;
		else if (*p >= '0' && *p <= '9')
			digits++;
		else
			return -1;
	}
	if (s[n - 1] == '.')
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	*out = strtod(tmp, NULL);
	return *out <= NUM_MAX ? 0 : -1;
}

/* "A SEP B" (or three with two seps) into v[]. */
static int
nums(const char *s, const char *e, char sep, int na, double *v, int want)
{
	for (int i = 0; i < want; i++) {
		const char *q = i + 1 < want ? memchr(s, sep, (size_t)(e - s)) : e;
		if (q == NULL || num(s, q, na, &v[i]) != 0)
			return -1;
		s = q + 1;
	}
	return 0;
}

enum { K_CPU0, K_CPU, K_MT, K_MA, K_DISK, K_EFS, K_ACCEL, K_NOW, K_RUN,
	K_RFIRST, K_RLAST, K_ASIDLE, K_ASSTATE, K_ASSINCE, K_N };
static const char *const keys[K_N] = { "cpu0", "cpu", "mem_total_kb",
	"mem_avail_kb", "disk_pct", "efs_pct", "accel", "now", "run",
	"run_first", "run_last", "as_idle", "as_state", "as_idle_since" };
/* Keys that may come more than once. */
#define K_REPEATS ((1u << K_ACCEL) | (1u << K_RUN) | (1u << K_RFIRST) | \
	(1u << K_RLAST))

/* A word of [a-z] (state) or a run name ([A-Za-z0-9._-]) into out. */
static int
word(const char *v, const char *e, int name, char *out, size_t len)
{
	size_t n = (size_t)(e - v);

	if (n == 0 || n >= len)
		return -1;
	for (const char *p = v; p < e; p++)
		if (!((*p >= 'a' && *p <= 'z') || (name && ((*p >= 'A' &&
		    *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
		    *p == '_' || *p == '-'))))
			return -1;
	memcpy(out, v, n);
	out[n] = '\0';
	return 0;
}

/* run=STARTED NAME, and the progress lines of the last run given. */
static int
take_run(struct top_sample *t, int k, const char *v, const char *e)
{
	struct top_runinfo *r;
	const char *sp;
	size_t n = (size_t)(e - v);

	if (k == K_RUN) {
		if (t->nruns == TOP_MAX_RUNS) {
			t->runs_dropped++;	/* the sampler sends no more */
			return 0;
		}
		r = &t->runs[t->nruns];
		memset(r, 0, sizeof *r);
		if ((sp = memchr(v, ' ', n)) == NULL ||
		    num(v, sp, 0, &r->started) != 0 ||
		    word(sp + 1, e, 1, r->name, sizeof r->name) != 0)
			return -1;
		t->nruns++;
		return 0;
	}
	if (t->runs_dropped > 0)
		return 0;		/* a dropped run's */
	if (t->nruns == 0)
		return -1;
	r = &t->runs[t->nruns - 1];
	if (n >= TOP_LINE)
		n = TOP_LINE - 1;
	memcpy(k == K_RFIRST ? r->first : r->last, v, n);
	(k == K_RFIRST ? r->first : r->last)[n] = '\0';
	return 0;
}

/* The watchdog's keys. */
static int
take_autostop(struct top_sample *t, int k, const char *v, const char *e)
{
	if (k == K_ASSTATE)
		return v == e ? 0 : word(v, e, 0, t->as_state,
		    sizeof t->as_state);
	if (k == K_ASIDLE && e - v == 3 && memcmp(v, "off", 3) == 0) {
		t->as_idle = 0;
		return 0;
	}
	if (k == K_ASSINCE && v == e)
		return 0;		/* not idle now */
	return num(v, e, 0, k == K_ASIDLE ? &t->as_idle : &t->as_idle_since);
}

/* One key's value into the sample. */
static int
take(struct top_sample *t, int k, const char *v, const char *e)
{
	double x[3];

	switch (k) {
	case K_CPU0: case K_CPU:
		if (nums(v, e, ' ', 0, x, 2) != 0 || x[1] > x[0])
			return -1;
		if (k == K_CPU0)
			t->cpu0_total = x[0], t->cpu0_idle = x[1];
		else
			t->cpu_total = x[0], t->cpu_idle = x[1];
		return 0;
	case K_MT: case K_MA:
		if (num(v, e, 0, x) != 0)
			return -1;
		*(k == K_MT ? &t->mem_total_kb : &t->mem_avail_kb) = x[0];
		return 0;
	case K_DISK: case K_EFS:
		if (num(v, e, 0, x) != 0 || x[0] > 100)
			return -1;
		*(k == K_DISK ? &t->disk_pct : &t->efs_pct) = x[0];
		return 0;
	case K_NOW:
		return num(v, e, 0, &t->now);
	case K_RUN: case K_RFIRST: case K_RLAST:
		return take_run(t, k, v, e);
	case K_ASIDLE: case K_ASSTATE: case K_ASSINCE:
		return take_autostop(t, k, v, e);
	default:
		if (t->naccel >= TOP_MAX_ACCEL)
			return -2;
		if (nums(v, e, ',', 1, x, 3) != 0 || x[0] > 100)
			return -1;
		t->accel[t->naccel].util_pct = x[0];
		t->accel[t->naccel].mem_used_mb = x[1];
		t->accel[t->naccel].mem_total_mb = x[2];
		t->naccel++;
		return 0;
	}
}

static void
sample_init(struct top_sample *t)
{
	memset(t, 0, sizeof *t);
	t->cpu0_total = t->cpu0_idle = t->cpu_total = t->cpu_idle = -1;
	t->mem_total_kb = t->mem_avail_kb = t->disk_pct = t->efs_pct = -1;
	t->now = t->as_idle = t->as_idle_since = -1;
}

/* The message for a bad line: its key, sanitised and cut short. */
static int
bad_line(char **cause, const char *why, const char *s, size_t n)
{
	char shown[41], *clean;

	n = n < sizeof shown - 1 ? n : sizeof shown - 1;
	memcpy(shown, s, n);
	shown[n] = '\0';
	clean = str_sanitize(shown, 0);
	*cause = xasprintf("sampler: %s: '%s'", why, clean);
	free(clean);
	return -1;
}

int
top_parse(const char *text, size_t len, struct top_sample *t, char **cause)
{
	const char *p = text, *end = text + len;
	unsigned seen = 0;

	sample_init(t);
	if (len > TOP_MAX_OUTPUT)
		return *cause = xasprintf("sampler: answer over %d bytes",
		    TOP_MAX_OUTPUT), -1;
	if (memchr(text, '\0', len) != NULL)
		return *cause = xstrdup("sampler: NUL byte in the answer"), -1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *eq;
		size_t n = (size_t)(le - p);
		int k;

		if (n > LINE_MAX_LEN)
			return bad_line(cause, "line too long", p, n);
		if (n == 0) {
			p = le + 1;
			continue;
		}
		if ((eq = memchr(p, '=', n)) == NULL)
			return bad_line(cause, "not key=value", p, n);
		for (k = 0; k < K_N; k++)
			if (strlen(keys[k]) == (size_t)(eq - p) &&
			    memcmp(keys[k], p, (size_t)(eq - p)) == 0)
				break;
		if (k < K_N) {
			int r;
			if (!(K_REPEATS & (1u << k)) && (seen & (1u << k)))
				return bad_line(cause, "key twice", p, n);
			seen |= 1u << k;
			if ((r = take(t, k, eq + 1, le)) == -2)
				return *cause = xasprintf("sampler: more than "
				    "%d accelerators", TOP_MAX_ACCEL), -1;
			if (r != 0)
				return bad_line(cause, "bad value", p, n);
		}		/* unknown keys: a newer sampler's, skipped */
		p = le + 1;
	}
	if (!(seen & ((1u << K_CPU) | (1u << K_MT))))
		return *cause = xstrdup("sampler: no figures in the answer"), -1;
	return 0;
}

double
top_cpu_percent(double total0, double idle0, double total1, double idle1)
{
	double dt = total1 - total0, di = idle1 - idle0;

	if (total0 < 0 || total1 < 0 || dt <= 0 || di < 0 || di > dt)
		return -1;
	return 100.0 * (dt - di) / dt;
}

static const char *const blocks[8] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇",
	"█" };

static const char *
block(double v)
{
	int i;

	if (v < 0)
		return " ";
	i = (int)(v / 100.0 * 8);
	return blocks[i < 0 ? 0 : i > 7 ? 7 : i];
}

char *
top_sparkline(const double *v, size_t n)
{
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s", block(v[i]));
	buf_addc(&b, '\0');
	return b.data;
}

static void
mem_gb(struct buf *b, double used, double total)
{
	if (used < 0 || total < 0)
		buf_printf(b, "?");
	else
		buf_printf(b, "%.0f/%.0fG", used / 1024, total / 1024);
}

char *
top_accel_cell(const struct top_sample *t)
{
	struct buf b;
	double u = 0, used = 0, total = 0;
	int nu = 0, unknown = 0;

	if (t->naccel == 0)
		return xstrdup("-");
	buf_init(&b);
	if (t->naccel <= 4) {
		for (size_t i = 0; i < t->naccel; i++) {
			const struct top_accel *a = &t->accel[i];
			if (a->util_pct < 0)
				buf_printf(&b, "%s?%% ", i ? " " : "");
			else
				buf_printf(&b, "%s%.0f%% ", i ? " " : "",
				    a->util_pct);
			mem_gb(&b, a->mem_used_mb, a->mem_total_mb);
		}
		buf_addc(&b, '\0');
		return b.data;
	}
	buf_printf(&b, "%zu× ", t->naccel);
	for (size_t i = 0; i < t->naccel; i++) {
		const struct top_accel *a = &t->accel[i];
		buf_printf(&b, "%s", block(a->util_pct));
		if (a->util_pct >= 0)
			u += a->util_pct, nu++;
		if (a->mem_used_mb < 0 || a->mem_total_mb < 0)
			unknown = 1;
		used += a->mem_used_mb, total += a->mem_total_mb;
	}
	if (nu > 0)
		buf_printf(&b, " %.0f%% ", u / nu);
	else
		buf_printf(&b, " ?%% ");
	mem_gb(&b, unknown ? -1 : used, unknown ? -1 : total);
	buf_addc(&b, '\0');
	return b.data;
}

size_t
top_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

void
top_cut(char *s, size_t cols)
{
	size_t n = 0;

	for (char *p = s; *p; p++) {
		if (((unsigned char)*p & 0xc0) != 0x80 && n++ == cols) {
			*p = '\0';
			return;
		}
	}
}
