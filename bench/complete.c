/* bench/complete.c: completion latency, straight through the engine.
 * With a workspace name (argv[1]), also node's hook over that workspace's
 * nodes (bench/scale.sh makes one of 3,000 resources), with the state open
 * as in the REPL; prints the target and exits 1 when a line's mean CPU
 * time per call misses it (CPU: the machine is shared, see status.c). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "shell/complete.h"
#include "shell/shell.h"
#include "bench/bench.h"

enum { TARGET_US = 5000 };

/* Mean CPU microseconds per call over n calls; prints the line. */
static double
time_line(struct mlsh_ctx *ctx, const char *line, int n)
{
	double t0 = cpu_ms(), w0 = now_ms(), us;
	size_t cands = 0;

	for (int k = 0; k < n; k++) {
		struct completion c;
		complete_line(ctx, line, strlen(line), &c);
		cands = c.cands.n;
		completion_release(&c);
	}
	us = (cpu_ms() - t0) * 1000.0 / n;
	printf("  %-24s %8.1f us/call cpu, %8.1f wall  (%zu candidates)%s\n",
	    line, us, (now_ms() - w0) * 1000.0 / n, cands,
	    us < TARGET_US ? "" : "  MISSED");
	return us;
}

int
main(int argc, char **argv)
{
	static const char *const lines[] = { "wor", "workspace ", "api ec2 Desc",
	    "api ec2 DescribeVpcE", "history save --f", "region eu-", "e", NULL };
	static const char *const node_lines[] = { "node ", "node dl1-1",
	    "node stop ", "node dl1-7 ", NULL };
	struct mlsh_ctx ctx;
	char *cause = NULL;
	int missed = 0;

	shell_init(&ctx);
	ctx.workspace = xstrdup("default");
	if (argc > 1 && shell_switch_workspace(&ctx, argv[1], &cause) != 0) {
		fprintf(stderr, "complete bench: %s\n", cause);
		return 2;
	}
	printf("  completion (target < %d us per call):\n", TARGET_US);
	for (size_t i = 0; lines[i]; i++)
		missed += time_line(&ctx, lines[i], 20000) >= TARGET_US;
	for (size_t i = 0; argc > 1 && node_lines[i]; i++)
		missed += time_line(&ctx, node_lines[i], 200) >= TARGET_US;
	shell_free(&ctx);
	return missed ? 1 : 0;
}
