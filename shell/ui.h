/* ui.h: the terminal side of a command, in one place: the y/N question and
 * the status line (one updating line on a tty, plain lines in logs).
 *
 * Lower layers (stack/, aws/, remote/) never print or ask; the builtins
 * hand them callbacks made of these. */
#ifndef MLSH_UI_H
#define MLSH_UI_H

#include "lib/util.h"

struct mlsh_ctx;

/* Whether a question can be asked: an interactive session with a terminal
 * on standard input. */
int ui_can_ask(struct mlsh_ctx *);
/* Whether standard input is a terminal, whatever the session: a delete
 * asks even under `mlsh -c down` or `mlsh down` typed at a shell prompt
 * (ui_can_ask, for the price questions, wants the REPL). */
int ui_on_terminal(void);
/* Ask "QUESTION [y/N] " on stderr and read one line from stdin: 1 for an
 * answer starting with y or Y, 0 for anything else, end of file included.
 * Callers check ui_can_ask first (scripts are never asked). */
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
