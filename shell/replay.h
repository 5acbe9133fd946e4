/* replay.h: what makes a recorded session a script that reproduces it
 * (replay.c), for history.c.
 *
 * Each recorded command gets a record: why it is only a comment (a dry run,
 * an interactive or a read-only command), whether a later command uses its
 * result, and the ids typed in it that no earlier result gave. The ids in
 * a command's result (vpc-…, sg-…, subnet-…, i-…, fs-…) are remembered with
 * the Lua expression that reads them from that result (r[3] is the third
 * command's result), so an id typed later becomes that expression and the
 * script works in a new workspace where every id differs. */
#ifndef MLSH_REPLAY_H
#define MLSH_REPLAY_H

#include "lib/util.h"
#include "shell/shell.h"

struct history_rec {
	const char *skip;	/* why it is a comment, or NULL: it runs */
	char *flag;		/* comment line on literal ids, or NULL */
	int *refs;		/* the earlier commands whose results it reads */
	size_t nrefs;
};

/* A command being recorded: the ids typed in it that no result gave, and
 * the earlier commands whose results it reads (1-based). */
struct replay_emit {
	struct mlsh_ctx *ctx;
	struct strlist unknown;
	int *refs;
	size_t nrefs;
};

/* Add the literal s (n bytes) to the Lua expression in b: quoted text, and
 * ids from earlier results as references; *parts counts the pieces joined
 * with "..". Unknown ids go to e->unknown. */
void replay_lit(struct replay_emit *e, const char *s, size_t n, struct buf *b,
    int *parts);

/* Why the command is a comment in a saved script, or NULL. */
const char *replay_skip_reason(const struct cmd_args *);

/* Record form (taken) with its skip reason; the ids of result (may be
 * NULL) become readable as r[N]. e's lists go to the record. */
void replay_add(struct replay_emit *e, char *form, const char *skip,
    const cJSON *result);

#endif
