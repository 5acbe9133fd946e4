/* stage.h: a command told as a short list of named steps.
 *
 * A long command (node up, notebook up, train run) keeps its state in one
 * struct (the job) and its steps in a static table of {name, fn}, run in
 * order by stage_run: the table reads as what the command does, each step is
 * a short function, and there is one way out (the command frees the job
 * after the run, whichever step ended it). The names say what a step is for
 * where the table is read; they are never printed, so messages and plans
 * stay the steps' own. */
#ifndef MLSH_STAGE_H
#define MLSH_STAGE_H

#include <stddef.h>

/* A step returns 0 to go on, STAGE_DONE when the command has finished early
 * with success (nothing left to do), or the command's nonzero exit status
 * (1, or 2 for a usage error) when it failed. */
#define STAGE_DONE	(-1)

struct stage {
	const char *name;
	int (*fn)(void *job);
};

#define STAGE_COUNT(t)	(sizeof (t) / sizeof (t)[0])

/* Run the steps in order: 0 when all went on or one said STAGE_DONE, else the
 * failing step's status. */
int stage_run(const struct stage *, size_t n, void *job);

#endif
