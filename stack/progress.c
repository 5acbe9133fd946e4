/* progress.c: epoch/step progress, ETA and cost to finish from log lines. */
#include "stack/progress.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lib/util.h"

#define TS_PATTERN \
	"^\\[([0-9]{4})-([0-9]{2})-([0-9]{2})[ T]([0-9]{2}):([0-9]{2}):([0-9]{2})"

static regex_t ts_re;
static int ts_ready;

int
progress_parser_init(struct progress_parser *p, const char *pattern,
    char **cause)
{
	int rc;
	char err[256];

	memset(p, 0, sizeof *p);
	if (pattern == NULL || *pattern == '\0')
		pattern = PROGRESS_DEFAULT_PATTERN;
	if ((rc = regcomp(&p->re, pattern, REG_EXTENDED)) != 0) {
		regerror(rc, &p->re, err, sizeof err);
		*cause = xasprintf("bad pattern '%s': %s", pattern, err);
		return -1;
	}
	if (p->re.re_nsub < 4) {
		regfree(&p->re);
		*cause = xasprintf("pattern '%s' has %zu groups; it needs 4 "
		    "(epoch, epochs, step, steps)", pattern, p->re.re_nsub);
		return -1;
	}
	p->compiled = 1;
	if (!ts_ready && regcomp(&ts_re, TS_PATTERN, REG_EXTENDED) == 0)
		ts_ready = 1;
	return 0;
}

void
progress_parser_release(struct progress_parser *p)
{
	if (p->compiled)
		regfree(&p->re);
	p->compiled = 0;
}

static long
group_long(const char *s, const regmatch_t *m)
{
	long v = 0;

	if (m->rm_so < 0)
		return -1;
	for (regoff_t i = m->rm_so; i < m->rm_eo; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		if (v > 100000000000L)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return m->rm_eo > m->rm_so ? v : -1;
}

/* The line's leading timestamp as seconds, -1 when none. */
static double
line_time(const char *s)
{
	regmatch_t m[7];
	long f[6];
	struct tm tm;

	if (!ts_ready || regexec(&ts_re, s, 7, m, 0) != 0)
		return -1;
	for (int i = 0; i < 6; i++)
		f[i] = group_long(s, &m[i + 1]);
	memset(&tm, 0, sizeof tm);
	tm.tm_year = (int)f[0] - 1900;
	tm.tm_mon = (int)f[1] - 1;
	tm.tm_mday = (int)f[2];
	tm.tm_hour = (int)f[3];
	tm.tm_min = (int)f[4];
	tm.tm_sec = (int)f[5];
	return (double)timegm(&tm);
}

double
progress_fraction(long epoch, long epochs, long step, long steps)
{
	double f;

	if (epochs <= 0 || steps <= 0)
		return 0;
	/* A line is printed after its step: step + 1 steps of the epoch are
	 * done (a 1-based step overcounts by one step, which is noise). */
	if (step >= steps)
		step = steps - 1;
	f = ((double)epoch * (double)steps + (double)step + 1) /
	    ((double)epochs * (double)steps);
	return f < 0 ? 0 : f > 1 ? 1 : f;
}

int
progress_parse(const struct progress_parser *p, const char *line, size_t len,
    struct progress_point *pt)
{
	regmatch_t m[5];
	char *s;
	const char *rest;
	size_t n;

	if (!p->compiled)
		return 0;
	s = xstrndup(line, len);
	s[strcspn(s, "\r\n")] = '\0';
	if (regexec(&p->re, s, 5, m, 0) != 0) {
		free(s);
		return 0;
	}
	memset(pt, 0, sizeof *pt);
	pt->epoch = group_long(s, &m[1]);
	pt->epochs = group_long(s, &m[2]);
	pt->step = group_long(s, &m[3]);
	pt->steps = group_long(s, &m[4]);
	if (pt->epoch < 0 || pt->epochs <= 0 || pt->step < 0 ||
	    pt->steps <= 0) {
		free(s);
		return 0;
	}
	pt->fraction = progress_fraction(pt->epoch, pt->epochs, pt->step,
	    pt->steps);
	pt->t = line_time(s);
	rest = s + m[0].rm_eo;
	while (isspace((unsigned char)*rest))
		rest++;
	n = strlen(rest);
	while (n > 0 && isspace((unsigned char)rest[n - 1]))
		n--;
	if (n >= sizeof pt->metrics)
		n = sizeof pt->metrics - 1;
	memcpy(pt->metrics, rest, n);
	pt->metrics[n] = '\0';
	free(s);
	return 1;
}

double
progress_eta(const struct progress_point *first,
    const struct progress_point *last, double elapsed_s)
{
	if (last == NULL)
		return -1;
	if (last->fraction >= 1)
		return 0;
	if (first != NULL && first->t >= 0 && last->t > first->t &&
	    last->fraction > first->fraction)
		return (1 - last->fraction) * (last->t - first->t) /
		    (last->fraction - first->fraction);
	if (elapsed_s > 0 && last->fraction > 0)
		return elapsed_s * (1 - last->fraction) / last->fraction;
	return -1;
}

double
progress_cost(double eta_s, double usd_per_hour)
{
	if (eta_s < 0 || usd_per_hour < 0)
		return -1;
	return eta_s / 3600.0 * usd_per_hour;
}

void
progress_duration(char *buf, size_t len, double seconds)
{
	long s;

	if (seconds < 0 || !isfinite(seconds)) {
		snprintf(buf, len, "?");
		return;
	}
	s = lround(seconds);
	if (s >= 86400)
		snprintf(buf, len, "%ldd%02ldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, len, "%ldh%02ldm", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, len, "%ldm%02lds", s / 60, s % 60);
	else
		snprintf(buf, len, "%lds", s);
}

void
progress_bar(char *buf, size_t len, double fraction, int width)
{
	struct buf b;
	int full;

	if (fraction < 0)
		fraction = 0;
	if (fraction > 1)
		fraction = 1;
	full = (int)(fraction * width + 0.5);
	buf_init(&b);
	buf_adds(&b, "\u2595");
	for (int i = 0; i < width; i++)
		buf_adds(&b, i < full ? "\u2588" : "\u2591");
	buf_adds(&b, "\u258f");
	snprintf(buf, len, "%s", b.data);
	buf_release(&b);
}

int
progress_track_line(struct progress_track *tr, const struct progress_parser *p,
    const char *line, size_t len)
{
	struct progress_point pt;

	if (!progress_parse(p, line, len, &pt))
		return 0;
	if (tr->have == 0)
		tr->first = pt;
	tr->last = pt;
	tr->have++;
	return 1;
}

void
progress_summary(char *buf, size_t len, const char *run,
    const struct progress_track *tr, double elapsed_s, double usd_per_hour,
    int bar)
{
	char b[256] = "", eta_s[32], *p = buf;
	double eta, cost;
	int n;

	if (tr->have == 0) {
		progress_duration(eta_s, sizeof eta_s, elapsed_s);
		snprintf(buf, len, "[run %s] no progress line yet (%s)", run,
		    eta_s);
		return;
	}
	eta = progress_eta(&tr->first, &tr->last, elapsed_s);
	cost = progress_cost(eta, usd_per_hour);
	progress_duration(eta_s, sizeof eta_s, eta);
	if (bar)
		progress_bar(b, sizeof b, tr->last.fraction, 16);
	n = snprintf(p, len, "[run %s] epoch %ld/%ld %s%s%.0f%%  ETA %s", run,
	    tr->last.epoch, tr->last.epochs, b, bar ? " " : "",
	    floor(tr->last.fraction * 100), eta_s);
	if (n < 0 || (size_t)n >= len)
		return;
	if (cost >= 0)
		snprintf(p + n, len - (size_t)n, "  est. cost to finish $%.2f",
		    cost);
}
