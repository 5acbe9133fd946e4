/* lexer.h: mlsh's command language (DESIGN.md section 3).
 *
 * Words separated by blanks; '…' and "…" and \ quoting as in sh; # starts a
 * comment at the beginning of a word; ';' and newlines separate commands;
 * $NAME and ${NAME} expand (not inside '…'), and an expansion is never split
 * into words; a command starting with '!' is the rest of the line for
 * /bin/sh. */
#ifndef MLSH_LEXER_H
#define MLSH_LEXER_H

#include <stddef.h>

struct lex_word {
	char *text;		/* after quoting and expansion */
	size_t start;		/* byte offsets of the raw word in the line */
	size_t end;
};

struct lex_cmd {
	struct lex_word *w;
	size_t n;
	size_t cap;
	char *shell;		/* "!cmd": the text for /bin/sh; w is empty */
};

struct lex_result {
	struct lex_cmd *cmds;
	size_t n;
	size_t cap;
};

/* Variable lookup: returns a borrowed value or NULL (expands to ""). */
typedef const char *(*lex_lookup_fn)(void *arg, const char *name);

/* Lex a whole line. 0 on success; -1 with *cause ("unterminated single
 * quote", "line contains a NUL byte", …). */
int lex_line(const char *line, size_t len, lex_lookup_fn, void *arg,
    struct lex_result *out, char **cause);
void lex_result_release(struct lex_result *);

/* Lex the next command of line starting at *pos, expanding variables now (so
 * `set x 1; echo $x` sees the new value), and advance *pos past it. Returns
 * 1 with *out filled, 0 at the end of the line, -1 with *cause. The first
 * call (*pos == 0) checks the whole line for NUL bytes; each call reads only
 * the command it returns, so lexing a line this way is linear. */
int lex_one(const char *line, size_t len, size_t *pos, lex_lookup_fn,
    void *arg, struct lex_cmd *out, char **cause);

/* For completion: lex line[0..cursor) leniently (open quotes allowed) and
 * return the words of the last command. *open is 1 when the cursor is inside
 * a word (the last word is the one being completed), 0 after a blank. *quote
 * is the open quote character or 0. */
void lex_partial(const char *line, size_t cursor, lex_lookup_fn, void *arg,
    struct lex_cmd *out, int *open, char *quote);
void lex_cmd_release(struct lex_cmd *);

#endif
