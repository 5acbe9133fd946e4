/* stage.c: run a command's named steps in order (stage.h). */
#include "builtins/stage.h"

int
stage_run(const struct stage *v, size_t n, void *job)
{
	for (size_t i = 0; i < n; i++) {
		int r = v[i].fn(job);
		if (r == STAGE_DONE)
			return 0;
		if (r != 0)
			return r;
	}
	return 0;
}
