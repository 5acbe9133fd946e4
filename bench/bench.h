/* bench/bench.h: what the C benchmarks share. */
#ifndef MLSH_BENCH_H
#define MLSH_BENCH_H

#include <time.h>

/* CPU milliseconds of this process: on a shared machine the wall clock
 * measures the other users too. */
static inline double
cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

#endif
