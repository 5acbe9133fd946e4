/* progress.h: training progress from log lines, for `train attach/status`.
 *
 * Pure functions, no I/O: a line such as
 *   [2022-01-24 10:00:00] [3/16][450/7463] Loss_D: 0.41 Loss_G: 2.9 …
 * matched against a POSIX ERE with four groups (epoch, epochs, step, steps)
 * gives a point; two points (or one and the time since the start) give the
 * rate, the ETA and, with the node's $/h, the cost to finish.
 *
 * Epochs and steps count from 0 as printed by the PyTorch DCGAN example,
 * which prints a line after its step: `[3/16][450/7463]` is the fourth
 * epoch, three done, and 451 steps of it done. The fraction done is
 * (epoch * steps + step + 1) / (epochs * steps), clamped to [0, 1], so a
 * script printing 1-based numbers simply reads a little ahead. */
#ifndef MLSH_PROGRESS_H
#define MLSH_PROGRESS_H

#include <regex.h>
#include <stddef.h>

/* The DCGAN format of DESIGN.md section 2 (mlsh variable train_pattern
 * overrides it). */
#define PROGRESS_DEFAULT_PATTERN \
	"\\[([0-9]+)/([0-9]+)\\]\\[([0-9]+)/([0-9]+)\\]"

struct progress_parser {
	regex_t re;
	int compiled;
};

struct progress_point {
	long epoch, epochs;		/* as printed */
	long step, steps;
	double fraction;		/* 0..1 */
	double t;			/* the line's own [YYYY-MM-DD HH:MM:SS]
					 * as seconds (read as UTC: only
					 * differences count), -1 when none */
	char metrics[160];		/* the rest of the line after the match
					 * ("Loss_D: 0.41 …"), trimmed */
};

/* pattern NULL or "" → the default. -1 with *cause (allocated) when it
 * does not compile or has fewer than four groups. */
int progress_parser_init(struct progress_parser *, const char *pattern,
    char **cause);
void progress_parser_release(struct progress_parser *);

/* 1 and *p filled when line (len bytes, no newline needed) matches with
 * sane numbers (epochs > 0, steps > 0), else 0. */
int progress_parse(const struct progress_parser *, const char *line,
    size_t len, struct progress_point *p);

/* Fraction done of a point's numbers, clamped to [0, 1]. */
double progress_fraction(long epoch, long epochs, long step, long steps);

/* Seconds left, -1 when unknown. From the rate between first and last when
 * both carry times and progress moved between them; else from elapsed
 * seconds since the run started (elapsed_s <= 0: unknown). */
double progress_eta(const struct progress_point *first,
    const struct progress_point *last, double elapsed_s);

/* Dollars to finish: eta_s at usd_per_hour; -1 when either is unknown. */
double progress_cost(double eta_s, double usd_per_hour);

/* "3h12m", "4m05s", "12s", "2d03h"; "?" for a negative value. */
void progress_duration(char *buf, size_t len, double seconds);

/* "▕██████░░░░▏" with width cells (UTF-8). */
void progress_bar(char *buf, size_t len, double fraction, int width);

/* Tracking one run's points as lines arrive. */
struct progress_track {
	struct progress_point first, last;
	int have;			/* points seen */
};
/* Feed one line; 1 when it was a progress line. */
int progress_track_line(struct progress_track *, const struct progress_parser *,
    const char *line, size_t len);

/* The one-line summary: "[run r1] epoch 2/16 ▕██░░▏ 14%  ETA 3h12m  est.
 * cost to finish $42.10" (bar 0: no bar, plain text for logs). usd_per_hour
 * < 0 leaves the cost out. */
void progress_summary(char *buf, size_t len, const char *run,
    const struct progress_track *, double elapsed_s, double usd_per_hour,
    int bar);

#endif
