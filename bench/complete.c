/* bench/complete.c: completion latency, straight through the engine. */
#include <stdio.h>
#include <stdlib.h>
#include "shell/complete.h"
#include "shell/shell.h"

int
main(void)
{
	static const char *const lines[] = { "wor", "workspace ", "api ec2 Desc",
	    "api ec2 DescribeVpcE", "history save --f", "region eu-", "e", NULL };
	struct mlsh_ctx ctx;
	int n = 20000;

	shell_init(&ctx);
	ctx.workspace = xstrdup("default");
	for (size_t i = 0; lines[i]; i++) {
		double t0 = now_ms();
		size_t cands = 0;
		for (int k = 0; k < n; k++) {
			struct completion c;
			complete_line(&ctx, lines[i], strlen(lines[i]), &c);
			cands = c.cands.n;
			completion_release(&c);
		}
		printf("  %-24s %6.1f us/call  (%zu candidates)\n", lines[i],
		    (now_ms() - t0) * 1000.0 / n, cands);
	}
	shell_free(&ctx);
	return 0;
}
