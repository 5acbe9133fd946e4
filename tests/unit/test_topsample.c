/* test_topsample.c: top's reader of the node sampler's answer (untrusted:
 * strict, bounded) and its cells: CPU deltas, sparklines, accelerators. */
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "builtins/topsample.h"

static int
parse(const char *text, struct top_sample *t, char **cause)
{
	*cause = NULL;
	return top_parse(text, strlen(text), t, cause);
}

/* The rejected sample's message, freed by the next call. */
static const char *
why(const char *text)
{
	static char *cause;
	struct top_sample t;

	free(cause);
	cause = NULL;
	if (top_parse(text, strlen(text), &t, &cause) == 0)
		return "(accepted)";
	return cause;
}

static void
test_good(void)
{
	struct top_sample t;
	char *cause;

	T_EQ_INT(parse("cpu0=1000 800\ncpu=1100 850\nmem_total_kb=16000000\n"
	    "mem_avail_kb=4000000\ndisk_pct=43\nefs_pct=0\n"
	    "accel=45,1200,32768\naccel=[N/A],N/A,32768\nnewkey=whatever\n\n",
	    &t, &cause), 0);
	T_OK(cause == NULL);
	T_OK(t.cpu0_total == 1000 && t.cpu0_idle == 800);
	T_OK(t.cpu_total == 1100 && t.cpu_idle == 850);
	T_OK(t.mem_total_kb == 16000000 && t.mem_avail_kb == 4000000);
	T_OK(t.disk_pct == 43 && t.efs_pct == 0);
	T_EQ_INT(t.naccel, 2);
	T_OK(t.accel[0].util_pct == 45 && t.accel[0].mem_used_mb == 1200 &&
	    t.accel[0].mem_total_mb == 32768);
	T_OK(t.accel[1].util_pct == -1 && t.accel[1].mem_used_mb == -1);
	/* Without /efs, hl-smi and the early read: those unknown. */
	T_EQ_INT(parse("cpu=5 1\nmem_total_kb=10\nmem_avail_kb=5\n", &t,
	    &cause), 0);
	T_OK(t.efs_pct == -1 && t.disk_pct == -1 && t.cpu0_total == -1);
	T_EQ_INT(t.naccel, 0);
	/* No trailing newline; a decimal utilisation. */
	T_EQ_INT(parse("cpu=5 1\naccel=12.5,1,2", &t, &cause), 0);
	T_OK(t.accel[0].util_pct == 12.5);
}

static void
test_hostile(void)
{
	char big[TOP_MAX_OUTPUT + 10], line[400];
	size_t i;

	T_EQ_STR(why(""), "sampler: no figures in the answer");
	T_EQ_STR(why("unknown=1\n"), "sampler: no figures in the answer");
	T_EQ_STR(why("hello\n"), "sampler: not key=value: 'hello'");
	T_EQ_STR(why("cpu=1 1\ncpu=2 1\n"), "sampler: key twice: 'cpu=2 1'");
	T_EQ_STR(why("cpu=-1 0\n"), "sampler: bad value: 'cpu=-1 0'");
	T_EQ_STR(why("cpu=10 20\n"), "sampler: bad value: 'cpu=10 20'");
	T_EQ_STR(why("cpu=1e9 0\n"), "sampler: bad value: 'cpu=1e9 0'");
	T_EQ_STR(why("cpu=1  0\n"), "sampler: bad value: 'cpu=1  0'");
	T_EQ_STR(why("cpu=1 0 \n"), "sampler: bad value: 'cpu=1 0 '");
	T_EQ_STR(why("cpu=99999999999999999999 0\n"),
	    "sampler: bad value: 'cpu=99999999999999999999 0'");
	T_EQ_STR(why("mem_total_kb=nan\n"),
	    "sampler: bad value: 'mem_total_kb=nan'");
	T_EQ_STR(why("mem_total_kb=0x10\n"),
	    "sampler: bad value: 'mem_total_kb=0x10'");
	T_EQ_STR(why("cpu=1 0\ndisk_pct=101\n"),
	    "sampler: bad value: 'disk_pct=101'");
	T_EQ_STR(why("cpu=1 0\nefs_pct=5.\n"), "sampler: bad value: 'efs_pct=5.'");
	T_EQ_STR(why("cpu=1 0\naccel=1,2\n"), "sampler: bad value: 'accel=1,2'");
	T_EQ_STR(why("cpu=1 0\naccel=1,2,3,4\n"),
	    "sampler: bad value: 'accel=1,2,3,4'");
	T_EQ_STR(why("cpu=1 0\naccel=200,2,3\n"),
	    "sampler: bad value: 'accel=200,2,3'");
	/* Control characters in what is echoed back are escaped. */
	T_OK(strchr(why("\033]0;owned\007=1\n"), '\033') == NULL);
	T_OK(strchr(why("cpu=\033[2J 1\n"), '\033') == NULL);
	/* Bounds: a long line, a NUL, too many cards, too much output. */
	memset(line, 'a', sizeof line - 1);
	line[sizeof line - 1] = '\0';
	T_OK(strncmp(why(line), "sampler: line too long: 'aaaa", 29) == 0);
	{
		struct top_sample t;
		char *cause = NULL;
		T_EQ_INT(top_parse("cpu=1 0\0x", 9, &t, &cause), -1);
		T_EQ_STR(cause, "sampler: NUL byte in the answer");
		free(cause);
	}
	big[0] = '\0';
	strcat(big, "cpu=1 0\n");
	for (i = 0; i < 17; i++)
		strcat(big, "accel=1,2,3\n");
	T_EQ_STR(why(big), "sampler: more than 16 accelerators");
	memset(big, '\n', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	T_EQ_STR(why(big), "sampler: answer over 8192 bytes");
}

static void
test_cpu(void)
{
	T_OK(top_cpu_percent(1000, 800, 1100, 850) == 50);
	T_OK(top_cpu_percent(1000, 800, 1100, 900) == 0);
	T_OK(top_cpu_percent(1000, 800, 1100, 800) == 100);
	T_OK(top_cpu_percent(-1, -1, 1100, 800) == -1);	/* no earlier read */
	T_OK(top_cpu_percent(1100, 800, 1000, 800) == -1);	/* rebooted */
	T_OK(top_cpu_percent(1000, 800, 1000, 800) == -1);	/* no time */
	T_OK(top_cpu_percent(1000, 800, 1100, 950) == -1);	/* idle > total */
}

static void
test_cells(void)
{
	double v[] = { 0, 12.5, 50, 99, 100, -1, 250 };
	char *s = top_sparkline(v, 7);
	struct top_sample t;
	char *cause;

	T_EQ_STR(s, "▁▂▅██ █");
	T_EQ_INT(top_width(s), 7);
	top_cut(s, 3);
	T_EQ_STR(s, "▁▂▅");
	free(s);
	memset(&t, 0, sizeof t);
	s = top_accel_cell(&t);
	T_EQ_STR(s, "-");
	free(s);
	T_EQ_INT(parse("cpu=1 0\naccel=45,2048,32768\naccel=0,0,32768\n", &t,
	    &cause), 0);
	s = top_accel_cell(&t);
	T_EQ_STR(s, "45% 2/32G 0% 0/32G");
	free(s);
	T_EQ_INT(parse("cpu=1 0\naccel=0,1024,98304\naccel=100,1024,98304\n"
	    "accel=50,0,98304\naccel=50,0,98304\naccel=50,0,98304\n"
	    "accel=50,0,98304\naccel=50,0,98304\naccel=50,0,98304\n", &t,
	    &cause), 0);
	s = top_accel_cell(&t);
	T_EQ_STR(s, "8× ▁█▅▅▅▅▅▅ 50% 2/768G");
	free(s);
	s = top_sampler(1, "dl1-1", NULL);
	T_OK(strstr(s, "cpu0") != NULL && strncmp(s, "me='dl1-1'; pat=", 16) == 0);
	free(s);
	s = top_sampler(0, "it's", "x");
	T_OK(strstr(s, "cpu0") == NULL && strncmp(s, "me='it'\\''s'; pat='x'; ", 22) == 0);
	free(s);
}

/* The node's clock, its live runs and its autostop watchdog. */
static void
test_runs_autostop(void)
{
	struct top_sample t;
	char *cause;

	T_EQ_INT(parse("cpu=5 1\nnow=1700000100\nas_idle=600\nas_state=idle\n"
	    "as_idle_since=1700000000\nrun=1700000000 r1\n"
	    "run_first=[0/4][0/10] Loss_D: 1\nrun_last=[1/4][4/10] a=b\n"
	    "run=1700000050 job.2\nrun_first=\nrun_last=\n", &t, &cause), 0);
	T_OK(t.now == 1700000100 && t.as_idle == 600 && t.as_idle_since ==
	    1700000000);
	T_EQ_STR(t.as_state, "idle");
	T_EQ_INT(t.nruns, 2);
	T_EQ_STR(t.runs[0].name, "r1");
	T_OK(t.runs[0].started == 1700000000);
	T_EQ_STR(t.runs[0].first, "[0/4][0/10] Loss_D: 1");
	T_EQ_STR(t.runs[0].last, "[1/4][4/10] a=b");
	T_EQ_STR(t.runs[1].name, "job.2");
	T_EQ_STR(t.runs[1].last, "");
	/* off, a busy node (no idle_since), no watchdog at all. */
	T_EQ_INT(parse("cpu=5 1\nas_idle=off\nas_state=busy\nas_idle_since=\n",
	    &t, &cause), 0);
	T_OK(t.as_idle == 0 && t.as_idle_since == -1);
	T_EQ_INT(parse("cpu=5 1\n", &t, &cause), 0);
	T_OK(t.as_idle == -1 && t.now == -1 && t.nruns == 0 && !t.as_state[0]);
	/* Hostile: a name with a slash or a blank, a line before its run,
	 * a state that is not a word, the clock twice. */
	T_EQ_STR(why("cpu=5 1\nrun=1 ../x\n"), "sampler: bad value: 'run=1 ../x'");
	T_EQ_STR(why("cpu=5 1\nrun=1 a b\n"), "sampler: bad value: 'run=1 a b'");
	T_EQ_STR(why("cpu=5 1\nrun_last=x\n"), "sampler: bad value: 'run_last=x'");
	T_EQ_STR(why("cpu=5 1\nas_state=Idle;\n"), "sampler: bad value: 'as_state=Idle;'");
	T_EQ_STR(why("cpu=5 1\nnow=1\nnow=2\n"), "sampler: key twice: 'now=2'");
	/* More runs than kept: the rest are skipped, lines and all. */
	T_EQ_INT(parse("cpu=5 1\nrun=1 a\nrun=2 b\nrun=3 c\nrun=4 d\n"
	    "run=5 e\nrun_last=x\n", &t, &cause), 0);
	T_EQ_INT(t.nruns, TOP_MAX_RUNS);
	T_EQ_STR(t.runs[3].last, "");
}

int
main(void)
{
	T_RUN(test_good);
	T_RUN(test_hostile);
	T_RUN(test_cpu);
	T_RUN(test_cells);
	T_RUN(test_runs_autostop);
	T_DONE();
}
