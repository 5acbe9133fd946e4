/* trainlog.c: losses, epoch ends and sample paths from training logs. */
#include "stack/trainlog.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/util.h"

/* The number after "key:" in s; NaN when absent or not a number. */
static double
metric(const char *s, const char *key)
{
	size_t kl = strlen(key);
	const char *p = s;
	char *end;
	double v;

	while ((p = strstr(p, key)) != NULL) {
		/* whole key only: "xLoss_D" is another metric */
		if ((p == s || isspace((unsigned char)p[-1])) && p[kl] == ':')
			break;
		p += kl;
	}
	if (p == NULL)
		return NAN;
	p += kl + 1;
	v = strtod(p, &end);
	return end == p ? NAN : v;
}

int
trainlog_losses(const char *metrics, double *loss_d, double *loss_g)
{
	*loss_d = metric(metrics, "Loss_D");
	*loss_g = metric(metrics, "Loss_G");
	return !isnan(*loss_d) || !isnan(*loss_g);
}

/* Past a leading "[YYYY-MM-DD HH:MM:SS] " (or any "[…] "), if there is
 * one. */
static const char *
after_stamp(const char *line)
{
	const char *e;

	while (*line == ' ')
		line++;
	if (*line == '[' && (e = strchr(line, ']')) != NULL && e[1] == ' ')
		return e + 2;
	return line;
}

int
trainlog_epoch_done(const char *line, struct trainlog_epoch *e)
{
	char done[8], in[4], s[4], per[16];
	int used = 0;

	memset(e, 0, sizeof e[0]);
	if (sscanf(after_stamp(line), "epoch %ld/%ld %7s %lf images %3s "
	    "%lf %3s %lf %15s%n", &e->epoch, &e->epochs, done, &e->images, in,
	    &e->seconds, s, &e->rate, per, &used) != 9 || used == 0)
		return 0;
	if (strcmp(done, "done:") || strcmp(in, "in") || strcmp(s, "s,") ||
	    strcmp(per, "images/s"))
		return 0;
	if (e->epoch < 0 || e->epochs <= 0 || !isfinite(e->images) ||
	    !isfinite(e->seconds) || !isfinite(e->rate) || e->seconds <= 0 ||
	    e->rate < 0 || e->images < 0)
		return 0;
	return 1;
}

char *
trainlog_samples(const char *line)
{
	const char *p = after_stamp(line);
	size_t n;

	if (strncmp(p, "samples: ", 9) != 0)
		return NULL;
	p += 9;
	while (*p == ' ')
		p++;
	n = strcspn(p, "\r\n");
	while (n > 0 && isspace((unsigned char)p[n - 1]))
		n--;
	return n > 0 ? xstrndup(p, n) : NULL;
}

void
trainlog_series_init(struct trainlog_series *s)
{
	memset(s, 0, sizeof *s);
}

void
trainlog_series_release(struct trainlog_series *s)
{
	free(s->step);
	free(s->loss_d);
	free(s->loss_g);
	memset(s, 0, sizeof *s);
}

static void
series_add(struct trainlog_series *s, double step, double d, double g)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->step = xreallocarray(s->step, s->cap, sizeof *s->step);
		s->loss_d = xreallocarray(s->loss_d, s->cap, sizeof *s->loss_d);
		s->loss_g = xreallocarray(s->loss_g, s->cap, sizeof *s->loss_g);
	}
	s->step[s->n] = step;
	s->loss_d[s->n] = d;
	s->loss_g[s->n] = g;
	s->n++;
}

size_t
trainlog_series_feed(struct trainlog_series *s,
    const struct progress_parser *pp, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	size_t added = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct progress_point pt;
		double d, g;

		if (progress_parse(pp, p, l, &pt) &&
		    trainlog_losses(pt.metrics, &d, &g)) {
			series_add(s, (double)pt.epoch * (double)pt.steps +
			    (double)pt.step, d, g);
			added++;
		}
		p += l + 1;
	}
	return added;
}

double
trainlog_epoch_seconds(const struct trainlog_epoch *done,
    const struct progress_track *tr)
{
	const struct progress_point *a, *b;

	if (done != NULL && done->seconds > 0)
		return done->seconds;
	if (tr == NULL || tr->have < 2)
		return -1;
	a = &tr->first;
	b = &tr->last;
	/* (b.t - a.t) seconds for (b.f - a.f) of the run; an epoch is
	 * 1/epochs of it */
	if (a->t < 0 || b->t <= a->t || b->fraction <= a->fraction ||
	    b->epochs <= 0)
		return -1;
	return (b->t - a->t) / (b->fraction - a->fraction) /
	    (double)b->epochs;
}
