/* plot.h: a line chart drawn with Unicode characters, for the terminal.
 *
 * Pure: takes numbers, gives text (no I/O), so a unit test can look at the
 * picture. The first series is drawn in braille dots (2x4 per cell), the
 * second in quadrant blocks (2x2 per cell), so the two are told apart
 * without colour; with colour each also has its own (ANSI 36 and 33).
 * Where both fall in one cell the first is shown.
 *
 *	 ⠒⠒ Loss_D  ▀▀ Loss_G  run r1
 *	 5.83 ┤      ▀▄▄
 *	      │  ⠤⠤⠒⠒⠉⠉⠉⠒⠒⠤
 *	 0.12 ┤
 *	      └──────────────────────
 *	       0        step       3999
 *
 * Many points: each point goes to the column its x falls in and a column
 * shows the mean of its points, so the work is O(n + width * height) and
 * the picture never leaves its box. NaN and infinite values are left out. */
#ifndef MLSH_PLOT_H
#define MLSH_PLOT_H

#include <stddef.h>

#define PLOT_MIN_WIDTH	30
#define PLOT_MIN_HEIGHT	8
#define PLOT_MAX_SERIES	2

struct plot_series {
	const char *name;
	const double *y;		/* n values, one per x */
};

struct plot_opts {
	int width, height;		/* the whole picture, in cells */
	int color;			/* ANSI colours */
	const char *title;		/* after the legend; NULL: none */
	const char *xlabel;		/* under the x axis; NULL: none */
};

/* The chart as height lines of at most width cells, each ending in '\n'
 * (allocated). NULL with *cause (allocated) when width or height is below
 * the minimum, there are no series or more than PLOT_MAX_SERIES, or no
 * finite point at all. */
char *plot_render(const double *x, size_t n, const struct plot_series *,
    int nseries, const struct plot_opts *, char **cause);

/* How many cells s takes on a terminal: code points outside ANSI escape
 * sequences (the chart's characters are all one cell wide). */
size_t plot_text_width(const char *s, size_t len);

#endif
