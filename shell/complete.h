/* complete.h: Tab completion as a pure function of (line, cursor).
 *
 * The engine lexes the line up to the cursor, finds the builtin, subcommand
 * and option in play from the table, and proposes: builtin names and aliases,
 * subcommands, --flags of the spec, enum values, files for path arguments,
 * and dynamic values from the builtin's completion hook (which reads caches
 * only). No terminal is involved, so it is unit-tested directly. */
#ifndef MLSH_COMPLETE_H
#define MLSH_COMPLETE_H

#include <stddef.h>
#include "lib/util.h"

struct mlsh_ctx;

struct completion {
	size_t start;		/* offset in the line of the word being completed */
	struct strlist cands;	/* full replacement words, sorted, unique */
	char quote;		/* open quote at the cursor, or 0 */
};

void complete_line(struct mlsh_ctx *, const char *line, size_t cursor,
    struct completion *out);
void completion_release(struct completion *);
/* Local files and directories (DIR/) whose path starts with prefix, for
 * hooks whose arguments are local paths only some of the time (cp). */
void complete_files(const char *prefix, struct strlist *out);
/* The longest common prefix of the candidates (caller frees). */
char *complete_common_prefix(const struct completion *);

#endif
