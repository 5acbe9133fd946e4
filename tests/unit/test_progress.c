/* test_progress.c: the training progress parser and its ETA/cost math. */
#include <math.h>
#include <stdlib.h>
#include "unit.h"
#include "stack/progress.h"

#define DCGAN "[2022-01-24 10:00:00] [3/16][450/7463] Loss_D: 0.41 " \
	"Loss_G: 2.9 D(x): 0.8 D(G(z)): 0.1 / 0.2"

static int
near(double a, double b)
{
	return fabs(a - b) < 1e-6;
}

static void
dcgan_line(void)
{
	struct progress_parser p;
	struct progress_point pt;
	char *cause = NULL;

	T_EQ_INT(progress_parser_init(&p, NULL, &cause), 0);
	T_EQ_INT(progress_parse(&p, DCGAN, sizeof DCGAN - 1, &pt), 1);
	T_EQ_INT(pt.epoch, 3);
	T_EQ_INT(pt.epochs, 16);
	T_EQ_INT(pt.step, 450);
	T_EQ_INT(pt.steps, 7463);
	T_OK(near(pt.fraction, (3.0 * 7463 + 451) / (16.0 * 7463)));
	T_OK(near(pt.t, 1643018400));	/* 2022-01-24 10:00:00 UTC */
	T_EQ_STR(pt.metrics, "Loss_D: 0.41 Loss_G: 2.9 D(x): 0.8 "
	    "D(G(z)): 0.1 / 0.2");
	/* A trailing newline and no timestamp are fine. */
	T_EQ_INT(progress_parse(&p, "[0/2][4/10] x\n", 14, &pt), 1);
	T_OK(near(pt.fraction, 0.25));
	T_OK(pt.t < 0);
	T_EQ_STR(pt.metrics, "x");
	progress_parser_release(&p);
}

static void
non_matching(void)
{
	struct progress_parser p;
	struct progress_point pt;
	char *cause = NULL;
	const char *lines[] = {
		"", "Starting Training Loop...", "[3/16] Loss_D: 0.4",
		"[a/16][450/7463]", "[3/0][450/7463]", "[3/16][450/0]",
		"[2022-01-24 10:00:00] epoch 3", "[3/16][450/99999999999999999]",
		NULL,
	};

	T_EQ_INT(progress_parser_init(&p, "", &cause), 0);
	for (int i = 0; lines[i] != NULL; i++)
		if (progress_parse(&p, lines[i], strlen(lines[i]), &pt) != 0)
			T_FAIL("matched: %s", lines[i]);
	progress_parser_release(&p);
}

static void
custom_pattern(void)
{
	struct progress_parser p;
	struct progress_point pt;
	char *cause = NULL;
	const char *l = "epoch 2 of 4, batch 30 of 120, loss 0.5";

	T_EQ_INT(progress_parser_init(&p, "epoch ([0-9]+) of ([0-9]+), batch "
	    "([0-9]+) of ([0-9]+)", &cause), 0);
	T_EQ_INT(progress_parse(&p, l, strlen(l), &pt), 1);
	T_EQ_INT(pt.epoch, 2);
	T_EQ_INT(pt.steps, 120);
	T_OK(near(pt.fraction, (2 * 120 + 31) / 480.0));
	T_EQ_STR(pt.metrics, ", loss 0.5");
	progress_parser_release(&p);

	/* Too few groups, or not a regex: a clear error. */
	T_EQ_INT(progress_parser_init(&p, "\\[([0-9]+)/([0-9]+)\\]", &cause),
	    -1);
	T_OK(cause != NULL && strstr(cause, "needs 4") != NULL);
	free(cause);
	cause = NULL;
	T_EQ_INT(progress_parser_init(&p, "([0-9]+", &cause), -1);
	T_OK(cause != NULL && strstr(cause, "bad pattern") != NULL);
	free(cause);
}

static void
eta_cost(void)
{
	struct progress_point a = { 0 }, b = { 0 };
	char buf[64];

	/* 10% -> 20% in 600 s of log time: 80% left takes 4800 s. */
	a.fraction = 0.1;
	a.t = 1000;
	b.fraction = 0.2;
	b.t = 1600;
	T_OK(near(progress_eta(&a, &b, 0), 4800));
	/* dl1.24xlarge at $13.11/h for 4800 s. */
	T_OK(near(progress_cost(4800, 13.11), 17.48));
	T_OK(progress_cost(4800, -1) < 0);
	T_OK(progress_cost(-1, 13.11) < 0);
	/* No log times: the elapsed time since start (25% in 100 s). */
	a.t = b.t = -1;
	b.fraction = 0.25;
	T_OK(near(progress_eta(&a, &b, 100), 300));
	T_OK(progress_eta(&a, &b, 0) < 0);
	b.fraction = 1;
	T_OK(near(progress_eta(&a, &b, 0), 0));
	/* Clamping. */
	T_OK(near(progress_fraction(16, 16, 5, 10), 1));
	T_OK(near(progress_fraction(0, 16, 0, 10), 1 / 160.0));
	T_OK(near(progress_fraction(15, 16, 9, 10), 1));	/* the last step */
	T_OK(near(progress_fraction(0, 16, 99, 10), 10 / 160.0));
	T_OK(near(progress_fraction(0, 0, 0, 10), 0));

	progress_duration(buf, sizeof buf, 3 * 3600 + 12 * 60 + 7);
	T_EQ_STR(buf, "3h12m");
	progress_duration(buf, sizeof buf, 245);
	T_EQ_STR(buf, "4m05s");
	progress_duration(buf, sizeof buf, 12);
	T_EQ_STR(buf, "12s");
	progress_duration(buf, sizeof buf, 2 * 86400 + 3 * 3600);
	T_EQ_STR(buf, "2d03h");
	progress_duration(buf, sizeof buf, -1);
	T_EQ_STR(buf, "?");
}

static void
summary(void)
{
	struct progress_parser p;
	struct progress_track tr = { 0 };
	char *cause = NULL, line[256];
	const char *l1 = "[2022-01-24 10:00:00] [2/16][9/100] Loss_D: 1";
	const char *l2 = "[2022-01-24 10:10:00] [2/16][39/100] Loss_D: 1";

	T_EQ_INT(progress_parser_init(&p, NULL, &cause), 0);
	progress_summary(line, sizeof line, "r1", &tr, 5, 13.11, 0);
	T_EQ_STR(line, "[run r1] no progress line yet (5s)");
	T_EQ_INT(progress_track_line(&tr, &p, "loading", 7), 0);
	T_EQ_INT(progress_track_line(&tr, &p, l1, strlen(l1)), 1);
	T_EQ_INT(progress_track_line(&tr, &p, l2, strlen(l2)), 1);
	T_EQ_INT(tr.have, 2);
	/* 210/1600 -> 240/1600 in 600 s: 1360 steps left at 0.05/s. */
	progress_summary(line, sizeof line, "r1", &tr, 0, 13.11, 0);
	T_EQ_STR(line, "[run r1] epoch 2/16 15%  ETA 7h33m  "
	    "est. cost to finish $99.05");
	progress_summary(line, sizeof line, "r1", &tr, 0, 13.11, 1);
	T_OK(strstr(line, "\u2595\u2588\u2588\u2591") != NULL);
	T_OK(strstr(line, "\u258f 15%") != NULL);
	progress_summary(line, sizeof line, "r1", &tr, 0, -1, 0);
	T_EQ_STR(line, "[run r1] epoch 2/16 15%  ETA 7h33m");
	progress_parser_release(&p);
}

int
main(void)
{
	T_RUN(dcgan_line);
	T_RUN(non_matching);
	T_RUN(custom_pattern);
	T_RUN(eta_cost);
	T_RUN(summary);
	T_DONE();
}
