/* plot.c: a line chart in braille and block characters (see plot.h). */
#include "shell/plot.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/util.h"

/* Dots per cell and colour of each series' glyphs. */
struct style {
	int sx, sy;
	const char *color, *legend;
};
static const struct style styles[PLOT_MAX_SERIES] = {
	{ 2, 4, "\033[36m", "\u2812\u2812" },	/* braille */
	{ 2, 2, "\033[33m", "\u2580\u2580" },	/* quadrant blocks */
};
#define RESET "\033[0m"

/* Braille dot bits by [row][column] within a cell (U+2800 + bits). */
static const uint8_t braille_bit[4][2] = {
	{ 0x01, 0x08 }, { 0x02, 0x10 }, { 0x04, 0x20 }, { 0x40, 0x80 },
};
/* Quadrants: bits upper-left 1, upper-right 2, lower-left 4, lower-right
 * 8, and the character for each combination. */
static const uint8_t quad_bit[2][2] = { { 1, 2 }, { 4, 8 } };
static const char *const quad_char[16] = {
	" ", "\u2598", "\u259d", "\u2580", "\u2596", "\u258c", "\u259e",
	"\u259b", "\u2597", "\u259a", "\u2590", "\u259c", "\u2584", "\u2599",
	"\u259f", "\u2588",
};

struct canvas {
	int w, h;			/* plot area in cells */
	double xmin, xmax, ymin, ymax;
	uint8_t *cell[PLOT_MAX_SERIES];	/* w * h dot masks per series */
};

static int
dot_col(const struct canvas *cv, double x, int dots)
{
	long c;

	if (!(cv->xmax > cv->xmin))
		return 0;
	c = lround((x - cv->xmin) / (cv->xmax - cv->xmin) * (dots - 1));
	return c < 0 ? 0 : c >= dots ? dots - 1 : (int)c;
}

static int
dot_row(const struct canvas *cv, double y, int dots)
{
	long r;

	if (!(cv->ymax > cv->ymin))
		return (dots - 1) / 2;
	r = lround((cv->ymax - y) / (cv->ymax - cv->ymin) * (dots - 1));
	return r < 0 ? 0 : r >= dots ? dots - 1 : (int)r;
}

static void
set_dot(struct canvas *cv, int s, int dx, int dy)
{
	const struct style *st = &styles[s];
	uint8_t *c = &cv->cell[s][(dy / st->sy) * cv->w + dx / st->sx];

	*c |= s == 0 ? braille_bit[dy % 4][dx % 2] : quad_bit[dy % 2][dx % 2];
}

/* The mean of each dot column's points (NaN for a column with none): one
 * pass over the points, so 10^5 of them cost as little as 100. */
static double *
column_means(const struct canvas *cv, const double *x, const double *y,
    size_t n, int dots)
{
	double *mean = xcalloc((size_t)dots, sizeof *mean);
	size_t *cnt = xcalloc((size_t)dots, sizeof *cnt);

	for (size_t i = 0; i < n; i++) {
		int c;
		if (!isfinite(x[i]) || !isfinite(y[i]))
			continue;
		c = dot_col(cv, x[i], dots);
		mean[c] += y[i];
		cnt[c]++;
	}
	for (int c = 0; c < dots; c++)
		mean[c] = cnt[c] ? mean[c] / (double)cnt[c] : NAN;
	free(cnt);
	return mean;
}

/* Draw one series from its column means: a dot per column, joined to the
 * previous column by a vertical run (straight across empty columns). */
static void
draw_series(struct canvas *cv, int s, const double *mean)
{
	const struct style *st = &styles[s];
	int dw = cv->w * st->sx, dh = cv->h * st->sy, pc = -1, pr = 0;

	for (int c = 0; c < dw; c++) {
		int r, last;
		if (isnan(mean[c]))
			continue;
		r = dot_row(cv, mean[c], dh);
		if (pc < 0)
			set_dot(cv, s, c, r);
		last = pr;
		for (int k = pc + 1; pc >= 0 && k <= c; k++) {
			int rk = pr + (int)lround((double)(r - pr) * (k - pc) /
			    (c - pc));
			/* a vertical run from the last row (not itself) */
			if (rk == last)
				set_dot(cv, s, k, rk);
			for (int rr = last + 1; rr <= rk; rr++)
				set_dot(cv, s, k, rr);
			for (int rr = rk; rr < last; rr++)
				set_dot(cv, s, k, rr);
			last = rk;
		}
		pc = c;
		pr = r;
	}
}

/* The y range: every finite value of every series (a spike the column
 * means smooth away still shows in the labels). */
static int
y_range(struct canvas *cv, const double *x, size_t n,
    const struct plot_series *ser, int nseries)
{
	int any = 0;

	for (int s = 0; s < nseries; s++)
		for (size_t i = 0; i < n; i++) {
			double v = ser[s].y[i];
			if (!isfinite(v) || !isfinite(x[i]))
				continue;
			if (!any || v < cv->ymin)
				cv->ymin = v;
			if (!any || v > cv->ymax)
				cv->ymax = v;
			any = 1;
		}
	return any;
}

static void
x_range(struct canvas *cv, const double *x, size_t n)
{
	int any = 0;

	cv->xmin = cv->xmax = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(x[i]))
			continue;
		if (!any || x[i] < cv->xmin)
			cv->xmin = x[i];
		if (!any || x[i] > cv->xmax)
			cv->xmax = x[i];
		any = 1;
	}
}

static void
fmt_num(char *buf, size_t len, double v)
{
	if (v == floor(v) && fabs(v) < 1e9)	/* steps: 120000, not 1.2e+05 */
		snprintf(buf, len, "%.0f", v == 0 ? 0 : v);	/* no "-0" */
	else
		snprintf(buf, len, "%.4g", v);
}

/* One row of cells: the first series with a dot there wins the cell. */
static void
render_row(struct buf *b, const struct canvas *cv, int nseries, int row,
    int color)
{
	int cur = -1;

	for (int c = 0; c < cv->w; c++) {
		int s;
		uint8_t m = 0;
		for (s = 0; s < nseries; s++)
			if ((m = cv->cell[s][row * cv->w + c]) != 0)
				break;
		if (m == 0) {
			buf_addc(b, ' ');
			continue;
		}
		if (color && s != cur) {
			buf_adds(b, styles[s].color);
			cur = s;
		}
		if (s == 0) {		/* U+2800 + m in UTF-8 */
			buf_addc(b, (char)0xe2);
			buf_addc(b, (char)(0xa0 | (m >> 6)));
			buf_addc(b, (char)(0x80 | (m & 0x3f)));
		} else
			buf_adds(b, quad_char[m & 15]);
	}
	if (color && cur >= 0)
		buf_adds(b, RESET);
	buf_addc(b, '\n');
}

/* The legend line: each series' glyphs and name, then the title when it
 * fits in width. */
static void
render_legend(struct buf *b, const struct plot_series *ser, int nseries,
    const struct plot_opts *o)
{
	struct buf plain;
	size_t used;

	buf_init(&plain);
	for (int s = 0; s < nseries; s++)
		buf_printf(&plain, " %s %s ", styles[s].legend,
		    ser[s].name ? ser[s].name : "");
	used = plot_text_width(plain.data, plain.len);
	for (int s = 0; s < nseries; s++) {
		buf_printf(b, " %s%s%s %s ", o->color ? styles[s].color : "",
		    styles[s].legend, o->color ? RESET : "",
		    ser[s].name ? ser[s].name : "");
	}
	if (o->title != NULL && used + 1 + strlen(o->title) <= (size_t)o->width)
		buf_printf(b, " %s", o->title);
	buf_addc(b, '\n');
	buf_release(&plain);
}

/* The x axis and its labels: min at the left, max at the right, the
 * label in the middle when there is room. */
static void
render_x_axis(struct buf *b, const struct canvas *cv, int lw,
    const char *xlabel)
{
	char lo[32], hi[32];
	int room, mid, pad;

	buf_printf(b, "%*s \u2514", lw, "");
	for (int c = 0; c < cv->w; c++)
		buf_adds(b, "\u2500");
	buf_addc(b, '\n');
	fmt_num(lo, sizeof lo, cv->xmin);
	fmt_num(hi, sizeof hi, cv->xmax);
	room = cv->w - (int)strlen(lo) - (int)strlen(hi);
	mid = xlabel != NULL ? (int)strlen(xlabel) : 0;
	buf_printf(b, "%*s %s", lw + 1, "", lo);
	if (mid > 0 && room >= mid + 2) {
		pad = (room - mid) / 2;
		buf_printf(b, "%*s%s%*s", pad, "", xlabel, room - mid - pad, "");
	} else if (room > 0)
		buf_printf(b, "%*s", room, "");
	else
		buf_addc(b, ' ');
	buf_printf(b, "%s\n", hi);
}

char *
plot_render(const double *x, size_t n, const struct plot_series *ser,
    int nseries, const struct plot_opts *o, char **cause)
{
	struct canvas cv;
	char lo[32], hi[32];
	struct buf b;
	int lw;

	if (o->width < PLOT_MIN_WIDTH || o->height < PLOT_MIN_HEIGHT) {
		*cause = xasprintf("%dx%d is too small for a plot (at least "
		    "%dx%d)", o->width, o->height, PLOT_MIN_WIDTH,
		    PLOT_MIN_HEIGHT);
		return NULL;
	}
	if (nseries < 1 || nseries > PLOT_MAX_SERIES) {
		*cause = xasprintf("a plot takes 1 to %d series, not %d",
		    PLOT_MAX_SERIES, nseries);
		return NULL;
	}
	memset(&cv, 0, sizeof cv);
	x_range(&cv, x, n);
	if (!y_range(&cv, x, n, ser, nseries)) {
		*cause = xstrdup("no finite value to plot");
		return NULL;
	}
	fmt_num(lo, sizeof lo, cv.ymin);
	fmt_num(hi, sizeof hi, cv.ymax);
	lw = (int)(strlen(lo) > strlen(hi) ? strlen(lo) : strlen(hi));
	/* "%.4g" is at most 10 characters: at least 16 columns are left */
	cv.w = o->width - lw - 2;
	cv.h = o->height - 3;		/* legend, axis, its labels */
	for (int s = 0; s < nseries; s++) {
		double *mean = column_means(&cv, x, ser[s].y, n, cv.w * 2);
		cv.cell[s] = xcalloc((size_t)(cv.w * cv.h), 1);
		draw_series(&cv, s, mean);
		free(mean);
	}
	buf_init(&b);
	render_legend(&b, ser, nseries, o);
	for (int r = 0; r < cv.h; r++) {
		const char *l = r == 0 ? hi : r == cv.h - 1 ? lo : "";
		buf_printf(&b, "%*s %s", lw, l, *l ? "\u2524" : "\u2502");
		render_row(&b, &cv, nseries, r, o->color);
	}
	render_x_axis(&b, &cv, lw, o->xlabel);
	for (int s = 0; s < nseries; s++)
		free(cv.cell[s]);
	return buf_detach_release(&b);
}

size_t
plot_text_width(const char *s, size_t len)
{
	size_t w = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == 0x1b && i + 1 < len && s[i + 1] == '[') {
			for (i += 2; i < len && !(s[i] >= 0x40 && s[i] <= 0x7e);
			    i++)
				;
			continue;
		}
		if ((c & 0xc0) != 0x80 && c != '\n')
			w++;
	}
	return w;
}
