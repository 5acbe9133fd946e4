/* trainlog.h: what a training log says beyond progress (progress.h): the
 * losses of each progress line, the end of each epoch, where the sample
 * grids and checkpoints went. Pure functions, no I/O.
 *
 * The lines (scripts/dcgan, rank 0 only; [ts] is [YYYY-MM-DD HH:MM:SS]):
 *   [ts] [E/N][I/S] Loss_D: 0.4100 Loss_G: 2.9000 D(x): … / …
 *   [ts] epoch E/N done: IMAGES images in SECS s, RATE images/s
 *   [ts] samples: /efs/trained_model/NAME/samples_<E+1>.png
 *   [ts] checkpoint: /efs/trained_model/NAME/checkpoint_<E+1>.pt */
#ifndef MLSH_TRAINLOG_H
#define MLSH_TRAINLOG_H

#include <stddef.h>
#include "stack/progress.h"

/* Loss_D and Loss_G from a progress line's metrics ("Loss_D: 0.41 Loss_G:
 * 2.9 …"); one that is missing is NaN. 1 when at least one was found. */
int trainlog_losses(const char *metrics, double *loss_d, double *loss_g);

/* The end of an epoch. */
struct trainlog_epoch {
	long epoch, epochs;		/* as printed (0-based) */
	double images, seconds, rate;	/* rate: images/s */
};
/* 1 and *e filled when line is an "epoch E/N done: …" line with sane
 * numbers (finite, seconds > 0, rate >= 0), else 0. */
int trainlog_epoch_done(const char *line, struct trainlog_epoch *e);

/* The path of a "samples: PATH" line (allocated; trailing blanks cut), or
 * NULL when line is not one. */
char *trainlog_samples(const char *line);

/* Loss_D and Loss_G over the global step (epoch * steps + step). */
struct trainlog_series {
	size_t n, cap;
	double *step, *loss_d, *loss_g;
};
void trainlog_series_init(struct trainlog_series *);
void trainlog_series_release(struct trainlog_series *);
/* Add every progress line of text (len bytes, lines split on '\n') that
 * carries a loss. Returns the number added. */
size_t trainlog_series_feed(struct trainlog_series *,
    const struct progress_parser *, const char *text, size_t len);

/* Seconds one epoch takes: the last finished epoch's own duration when
 * done is given, else from the progress rate between the first and last
 * progress lines (their times and fractions); -1 when unknown. */
double trainlog_epoch_seconds(const struct trainlog_epoch *done,
    const struct progress_track *);

#endif
