/* test_plot.c: the terminal line chart (shell/plot.c) and the training
 * log's contract lines (stack/trainlog.c). */
#include <math.h>
#include <stdlib.h>
#include "unit.h"
#include "shell/plot.h"
#include "stack/progress.h"
#include "stack/trainlog.h"

/* Lines of text (each ends in '\n'): count, widest, and whether every
 * line has exactly width cells. */
static int
lines_of(const char *s, int *widest)
{
	int n = 0;

	*widest = 0;
	for (const char *p = s, *nl; *p; p = nl + 1) {
		int w;
		if ((nl = strchr(p, '\n')) == NULL)
			return -1;	/* every line ends in '\n' */
		w = (int)plot_text_width(p, (size_t)(nl - p));
		if (w > *widest)
			*widest = w;
		n++;
	}
	return n;
}

/* The line of s starting after n newlines (a pointer into s). */
static const char *
line_at(const char *s, int n)
{
	while (n-- > 0 && (s = strchr(s, '\n')) != NULL)
		s++;
	return s;
}

static int
has_braille(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; p[0]; p++)
		if (p[0] == 0xe2 && p[1] >= 0xa0 && p[1] <= 0xa3 &&
		    !(p[1] == 0xa0 && p[2] == 0x80))
			return 1;
	return 0;
}

static int
has_block(const char *s)
{
	/* U+2580..U+259F: E2 96 80..9F */
	for (const unsigned char *p = (const unsigned char *)s; p[0]; p++)
		if (p[0] == 0xe2 && p[1] == 0x96 && p[2] >= 0x80 &&
		    p[2] <= 0x9f)
			return 1;
	return 0;
}

static void
known_series(void)
{
	double x[40], d[40], g[40];
	struct plot_series ser[2] = { { "Loss_D", d }, { "Loss_G", g } };
	struct plot_opts o = { 60, 14, 0, "run r1", "step" };
	char *cause = NULL, *pic;
	int widest;

	for (int i = 0; i < 40; i++) {
		x[i] = i * 10;
		d[i] = 0.5 + 0.01 * i;		/* 0.5 .. 0.89 */
		g[i] = 4.0 - 0.05 * i;		/* 4 .. 2.05 */
	}
	pic = plot_render(x, 40, ser, 2, &o, &cause);
	T_OK(pic != NULL);
	if (pic == NULL)
		return;
	if (getenv("PLOT_SHOW"))
		fputs(pic, stderr);
	T_EQ_INT(lines_of(pic, &widest), 14);
	T_EQ_INT(widest, 60);
	/* the legend names both; the top label is the max, the bottom the
	 * min, the x axis shows the step range */
	T_OK(strstr(line_at(pic, 0), "Loss_D") != NULL);
	T_OK(strstr(line_at(pic, 0), "Loss_G") != NULL);
	T_OK(strstr(line_at(pic, 0), "run r1") != NULL);
	T_OK(strncmp(line_at(pic, 1), "  4 \u2524", 7) == 0);
	T_OK(strncmp(line_at(pic, 11), "0.5 \u2524", 6) == 0);
	T_OK(strstr(line_at(pic, 12), "\u2514\u2500\u2500") != NULL);
	T_OK(strncmp(line_at(pic, 13), "     0 ", 7) == 0);
	T_OK(strstr(line_at(pic, 13), "390\n") != NULL);
	T_OK(strstr(line_at(pic, 13), "step") != NULL);
	/* both series drawn, each in its own glyphs, no colour codes */
	T_OK(has_braille(line_at(pic, 1)) || has_braille(line_at(pic, 11)));
	T_OK(has_block(line_at(pic, 1)));	/* Loss_G starts at the top */
	T_OK(has_braille(line_at(pic, 11)));	/* Loss_D at the bottom */
	T_OK(strchr(pic, '\033') == NULL);
	free(pic);
	/* colour: each series its own colour, reset at the end of a row */
	o.color = 1;
	pic = plot_render(x, 40, ser, 2, &o, &cause);
	T_OK(pic != NULL && strstr(pic, "\033[36m") && strstr(pic, "\033[33m")
	    && strstr(pic, "\033[0m"));
	T_EQ_INT(lines_of(pic, &widest), 14);
	T_EQ_INT(widest, 60);
	free(pic);
}

/* 100,000 points (a noisy series and one with NaNs) in a small box: the
 * picture keeps its size, labels are the data's extremes, every drawn row
 * stays in the area. */
static void
many_points(void)
{
	size_t n = 100000;
	double *x = malloc(n * sizeof *x), *d = malloc(n * sizeof *d),
	    *g = malloc(n * sizeof *g);
	struct plot_series ser[2] = { { "Loss_D", d }, { "Loss_G", g } };
	struct plot_opts o = { 40, 10, 0, NULL, "step" };
	char *cause = NULL, *pic;
	int widest, dots = 0;

	for (size_t i = 0; i < n; i++) {
		x[i] = (double)i;
		d[i] = 1 + sin((double)i / 5000) * ((i % 7) / 7.0);
		g[i] = i % 1000 == 0 ? NAN : 3 + ((i * 7919) % 100) / 100.0;
	}
	d[123] = -2.5;
	d[99999] = 9.25;
	pic = plot_render(x, n, ser, 2, &o, &cause);
	T_OK(pic != NULL);
	if (pic == NULL)
		goto out;
	if (getenv("PLOT_SHOW"))
		fputs(pic, stderr);
	T_EQ_INT(lines_of(pic, &widest), 10);
	T_EQ_INT(widest, 40);
	T_OK(strncmp(line_at(pic, 1), "9.25 \u2524", 8) == 0);
	T_OK(strncmp(line_at(pic, 7), "-2.5 \u2524", 8) == 0);
	T_OK(strstr(line_at(pic, 9), "99999\n") != NULL);
	for (int r = 1; r <= 7; r++)
		dots += has_braille(line_at(pic, r)) + has_block(line_at(pic, r));
	T_OK(dots >= 2);
out:
	free(pic);
	free(x);
	free(d);
	free(g);
}

static void
edge_cases(void)
{
	double x[3] = { 5, 5, 5 }, y[3] = { 1, 1, 1 }, nan3[3] = { NAN, NAN,
	    NAN };
	struct plot_series one = { "Loss_D", y }, none = { "Loss_D", nan3 };
	struct plot_opts o = { 30, 8, 0, "a title much too long to fit beside "
	    "the legend at all", NULL };
	char *cause = NULL, *pic;
	int widest;

	/* one x value, one y value: a point in the middle, labels equal */
	pic = plot_render(x, 3, &one, 1, &o, &cause);
	T_OK(pic != NULL);
	T_EQ_INT(lines_of(pic, &widest), 8);
	T_EQ_INT(widest, 30);
	T_OK(strstr(pic, "too long") == NULL);
	T_OK(has_braille(pic));
	free(pic);
	T_OK(plot_render(x, 3, &none, 1, &o, &cause) == NULL);
	T_EQ_STR(cause, "no finite value to plot");
	free(cause);
	cause = NULL;
	T_OK(plot_render(x, 0, &one, 1, &o, &cause) == NULL);
	free(cause);
	cause = NULL;
	o.width = 29;
	T_OK(plot_render(x, 3, &one, 1, &o, &cause) == NULL);
	T_EQ_STR(cause, "29x8 is too small for a plot (at least 30x8)");
	free(cause);
	cause = NULL;
	o.width = 30;
	o.height = 7;
	T_OK(plot_render(x, 3, &one, 1, &o, &cause) == NULL);
	free(cause);
}

#define LINE(ts, e, i, d, g) "[2026-12-02 " ts "] [" e "/2][" i "/100] " \
	"Loss_D: " d " Loss_G: " g " D(x): 0.8000 D(G(z)): 0.1000 / 0.2000\n"

static void
log_lines(void)
{
	const char *log =
	    "Starting Training Loop...\n"
	    LINE("10:00:00", "0", "0", "1.3862", "0.6931")
	    LINE("10:00:10", "0", "50", "0.4100", "2.9000")
	    "[2026-12-02 10:00:20] epoch 0/2 done: 6400 images in 20.00 s, "
	    "320.0 images/s\n"
	    "[2026-12-02 10:00:20] samples: /efs/trained_model/x/samples_1.png\n"
	    "[2026-12-02 10:00:20] checkpoint: /efs/trained_model/x/"
	    "checkpoint_1.pt\n"
	    LINE("10:00:30", "1", "99", "nan", "3.5")
	    "[1/2][7/100] Loss_D: 0.2 and no Loss_G\n"
	    "[1/2][8/100] D(x): 0.5 (no loss)\n";
	struct progress_parser pp;
	struct trainlog_series s;
	struct trainlog_epoch e;
	struct progress_track tr;
	char *cause = NULL, *p;

	T_EQ_INT(progress_parser_init(&pp, NULL, &cause), 0);
	trainlog_series_init(&s);
	T_EQ_INT(trainlog_series_feed(&s, &pp, log, strlen(log)), 4);
	T_EQ_INT(s.n, 4);
	T_OK(s.step[0] == 0 && s.step[1] == 50 && s.step[2] == 199 &&
	    s.step[3] == 107);
	T_OK(s.loss_d[1] == 0.41 && s.loss_g[1] == 2.9);
	T_OK(isnan(s.loss_d[2]) && s.loss_g[2] == 3.5);
	T_OK(s.loss_d[3] == 0.2 && isnan(s.loss_g[3]));
	trainlog_series_release(&s);

	T_EQ_INT(trainlog_epoch_done("[2026-12-02 10:00:20] epoch 0/2 done: "
	    "6400 images in 20.00 s, 320.0 images/s", &e), 1);
	T_OK(e.epoch == 0 && e.epochs == 2 && e.images == 6400 &&
	    e.seconds == 20 && e.rate == 320);
	T_EQ_INT(trainlog_epoch_done("epoch 3/4 done: 10 images in 2 s, 5 "
	    "images/s", &e), 1);
	T_EQ_INT(trainlog_epoch_done("epoch 0/2 done: 1 images in 0 s, 1 "
	    "images/s", &e), 0);
	T_EQ_INT(trainlog_epoch_done("epoch 0/2 done: 1 images in nan s, 1 "
	    "images/s", &e), 0);
	T_EQ_INT(trainlog_epoch_done("[x] epoch 0/2 started", &e), 0);
	T_EQ_INT(trainlog_epoch_done("the epoch 0/2 done: 1 images in 1 s, "
	    "1 images/s", &e), 0);

	T_EQ_STR(p = trainlog_samples("[2026-12-02 10:00:20] samples: "
	    "/efs/m/samples_1.png  \r\n"), "/efs/m/samples_1.png");
	free(p);
	T_OK(trainlog_samples("[ts] samples:") == NULL);
	T_OK(trainlog_samples("[ts] checkpoint: /x.pt") == NULL);
	T_OK(trainlog_samples("my samples: /x.png") == NULL);

	/* An epoch's seconds: its own line, else the progress rate: 10 s
	 * from 0.005 to 0.255 of 2 epochs */
	memset(&tr, 0, sizeof tr);
	T_OK(trainlog_epoch_seconds(NULL, &tr) < 0);
	progress_track_line(&tr, &pp, log + 26, strlen(log + 26));
	T_OK(trainlog_epoch_seconds(NULL, &tr) < 0);
	p = strchr(log + 26, '\n') + 1;
	progress_track_line(&tr, &pp, p, strcspn(p, "\n"));
	T_OK(fabs(trainlog_epoch_seconds(NULL, &tr) - 10 / 0.25 / 2) < 1e-9);
	trainlog_epoch_done("epoch 1/2 done: 10 images in 2 s, 5 images/s", &e);
	T_OK(trainlog_epoch_seconds(&e, &tr) == 2);
	progress_parser_release(&pp);
}

int
main(void)
{
	T_RUN(known_series);
	T_RUN(many_points);
	T_RUN(edge_cases);
	T_RUN(log_lines);
	T_DONE();
}
