/* topsample.h: what `top` asks a node and how it reads the answer (pure:
 * no I/O, for builtins/top.c and tests/unit/test_topsample.c).
 *
 * The sampler is one POSIX sh command line run over the kept SSH connection
 * once per tick. It prints key=value lines:
 *   cpu0=TOTAL IDLE      first tick only: /proc/stat's cpu line a moment
 *                        before the next (jiffies, summed; idle + iowait)
 *   cpu=TOTAL IDLE       /proc/stat now
 *   mem_total_kb=N  mem_avail_kb=N     /proc/meminfo
 *   disk_pct=N           df -P / ; efs_pct=N only when /efs is mounted
 *   accel=UTIL,USED,TOTAL  one line per card (percent, MiB, MiB), from
 *                        hl-smi or nvidia-smi when one is on PATH
 *                        ($HOME/.local/bin is searched first)
 *   now=EPOCH            the node's clock
 *   run=STARTED NAME     a live train run of this node (builtins/train.c's
 *                        run directories: /efs/runs, ~/runs, rank-K of a
 *                        multi-node run), at most TOP_MAX_RUNS, each
 *                        followed by run_first=LINE and run_last=LINE: its
 *                        first and last progress lines (train_pattern)
 *   as_idle=SECS|off  as_state=WORD  as_idle_since=EPOCH
 *                        the autostop watchdog's setting and last check
 *                        (`mlsh-autostop show`), when the node has one
 * Everything in the answer is untrusted: lines and the whole answer are
 * bounded, numbers are plain decimals in range, a key seen twice or a
 * malformed value rejects the sample, unknown keys are skipped. */
#ifndef MLSH_TOPSAMPLE_H
#define MLSH_TOPSAMPLE_H

#include <stddef.h>

#define TOP_MAX_ACCEL 16	/* cards kept per node (more are an error) */
#define TOP_MAX_OUTPUT 8192	/* bytes of sampler output accepted */
#define TOP_MAX_RUNS 4		/* live runs kept per node */
#define TOP_LINE 232		/* a progress line kept, bytes */

struct top_runinfo {
	char name[64];			/* [A-Za-z0-9._-] */
	double started;			/* node clock */
	char first[TOP_LINE], last[TOP_LINE];	/* "" when none; raw bytes:
						 * sanitise to show */
};

struct top_accel {
	double util_pct, mem_used_mb, mem_total_mb;
};

/* A field is -1 when the node did not say. */
struct top_sample {
	double cpu0_total, cpu0_idle;	/* -1: no early read */
	double cpu_total, cpu_idle;
	double mem_total_kb, mem_avail_kb;
	double disk_pct, efs_pct;
	size_t naccel;
	struct top_accel accel[TOP_MAX_ACCEL];
	double now;			/* node clock */
	size_t nruns, runs_dropped;
	struct top_runinfo runs[TOP_MAX_RUNS];
	double as_idle;			/* seconds; 0 off; -1 no watchdog */
	char as_state[16];		/* "idle", "busy" …; "" unknown */
	double as_idle_since;
};

/* The command line (allocated); first: read /proc/stat twice a moment
 * apart, so the first tick has a CPU figure without waiting for the
 * second. node: the node's name (its runs are those whose node file says
 * so); pattern: the progress lines' ERE (NULL: the default). */
char *top_sampler(int first, const char *node, const char *pattern);

/* Parse the sampler's output (len bytes, need not be NUL-terminated).
 * 0, or -1 with *cause (allocated, printable). */
int top_parse(const char *text, size_t len, struct top_sample *,
    char **cause);

/* CPU busy percent between two reads (totals and idles in jiffies), or -1
 * when they do not make a forward interval. */
double top_cpu_percent(double total0, double idle0, double total1,
    double idle1);

/* A sparkline of v[0..n) (0..100) in ▁▂▃▄▅▆▇█, a value < 0 as ' '.
 * Allocated UTF-8. */
char *top_sparkline(const double *v, size_t n);

/* The accelerators in a cell: "-" without, "util% used/totalG" per card
 * for up to 4, else "N× ▁▃█… avg% used/totalG" (one block per card).
 * Allocated. */
char *top_accel_cell(const struct top_sample *);

/* Display columns of UTF-8 text (one per character: sparklines and ×). */
size_t top_width(const char *);
/* Cut s (UTF-8) in place to at most cols display columns. */
void top_cut(char *s, size_t cols);

#endif
