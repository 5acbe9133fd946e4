/* bench/status.c: plain `status` (the state only, no API call) on the
 * workspace named by argv[1], straight through the shell. Each run closes
 * the state first, so reading and parsing the file count as in a fresh
 * mlsh (the process start itself is bench/shell.sh's figure). Prints the
 * median of the runs, CPU and wall, and exits 1 when the CPU median misses
 * the target in ms (argv[2]): CPU, because this 2-core machine is shared
 * and the wall clock measures the other users too. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "shell/shell.h"
#include "bench/bench.h"
#include "lib/state.h"

static int
dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	enum { RUNS = 15 };
	double cpu[RUNS], wall[RUNS], target;
	struct mlsh_ctx ctx;
	char *cause = NULL;
	int out, null;

	if (argc != 3) {
		fprintf(stderr, "usage: status WORKSPACE TARGET_MS\n");
		return 2;
	}
	target = atof(argv[2]);
	shell_init(&ctx);
	ctx.workspace = xstrdup("default");
	if (shell_switch_workspace(&ctx, argv[1], &cause) != 0) {
		fprintf(stderr, "status bench: %s\n", cause);
		return 2;
	}
	out = dup(1);
	null = open("/dev/null", O_WRONLY);
	for (int i = 0; i < RUNS; i++) {
		double c0, w0;
		state_close(ctx.state);
		ctx.state = NULL;
		fflush(stdout);
		dup2(null, 1);
		c0 = cpu_ms();
		w0 = now_ms();
		if (shell_run_line(&ctx, "status", 6) != 0) {
			fflush(stdout);
			dup2(out, 1);
			fprintf(stderr, "status bench: status failed\n");
			return 2;
		}
		fflush(stdout);
		cpu[i] = cpu_ms() - c0;
		wall[i] = now_ms() - w0;
		dup2(out, 1);
	}
	qsort(cpu, RUNS, sizeof *cpu, dbl_cmp);
	qsort(wall, RUNS, sizeof *wall, dbl_cmp);
	printf("  status, %d resources: %.1f ms cpu, %.1f ms wall (median of "
	    "%d; target < %.0f ms)%s\n", state_resource_count(ctx.state->root),
	    cpu[RUNS / 2], wall[RUNS / 2], RUNS, target,
	    cpu[RUNS / 2] < target ? "" : "  MISSED");
	shell_free(&ctx);
	return cpu[RUNS / 2] < target ? 0 : 1;
}
