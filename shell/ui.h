/* ui.h: the terminal side of a command, in one place: the y/N question and
 * the status line (one updating line on a tty, plain lines in logs).
 *
 * Lower layers (stack/, aws/, remote/) never print or ask; the builtins
 * hand them callbacks made of these. */
#ifndef MLSH_UI_H
#define MLSH_UI_H

#include "lib/util.h"

struct mlsh_ctx;

/* Whether a question can be asked: a terminal on standard input, whatever
 * the session (the prompt, a script, a -c list, `mlsh down`): price
 * questions and deletes ask there; --yes / --force answer for them. */
int ui_can_ask(struct mlsh_ctx *);
/* Ask "QUESTION [y/N] " on stderr and read one line from stdin: 1 for an
 * answer starting with y or Y, 0 for anything else, end of file included.
 * Callers check ui_can_ask first. */
int ui_confirm(const char *fmt, ...) MLSH_PRINTF(1, 2);

/* The status line. On a tty, ui_status replaces the line in place
 * ("\r\033[K…"); elsewhere it prints a line when plain_every_ms have passed
 * since the last one (0: every time). ui_status_done clears the tty line;
 * with a text it then prints that text as a line of its own. Texts go
 * through str_sanitize (they often come from servers). One status line per
 * process: the state is the terminal's. */
void ui_status(int plain_every_ms, const char *fmt, ...) MLSH_PRINTF(2, 3);
void ui_status_done(const char *fmt, ...) MLSH_PRINTF(1, 2);
/* Clear the tty line if one is shown (before other output). */
void ui_status_clear(void);

#endif
