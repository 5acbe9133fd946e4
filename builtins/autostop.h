/* autostop.h: what mlsh knows of a machine's idle watchdog
 * (scripts/userdata/autostop.sh) and shows of it in `status` and the
 * prompt (builtins/autostop.c).
 *
 * The watchdog runs on the machine; mlsh only reads it. What it last said is
 * kept in the machine's record, times on this machine's clock:
 *	autostop		the setting: seconds, or "off"
 *	autostop_action		"terminate" (--autostop-down); absent: stop
 *	autostop_state		idle, busy, off, stopping
 *	autostop_reason		why busy ("train run r3", "ssh session (…)")
 *	autostop_idle_since	when it became idle (unix time)
 *	autostop_checked	when mlsh read it (unix time)
 * Reading needs SSH, so plain `status` and the prompt never read: they show
 * the record, counted on to now. */
#ifndef MLSH_AUTOSTOP_H
#define MLSH_AUTOSTOP_H

#include "shell/shell.h"
#include "stack/stack.h"

/* --autostop DURATION|off of an `up` (default 60m) as the user-data's
 * @AUTOSTOP@ and the record's value: seconds, or "off", into val. -1 after
 * cmd_error (one line naming the value). */
int autostop_option(struct mlsh_ctx *, struct cmd_args *, char *val,
    size_t n);

/* The watchdog's `show` output (key=value lines) of NAME, over the
 * session's kept SSH connection: with set (seconds or "off") its setting is
 * changed first. bound_ms > 0 bounds the connect and the exec together (a
 * node that does not answer is dropped); 0 waits up to 30 s for a node
 * still booting. 0 with *text (caller frees), or -1 after cmd_error. */
int autostop_read(struct mlsh_ctx *, const char *name, const char *set,
    int bound_ms, char **text);

/* Keep what the watchdog said (its show output, read at now on this
 * machine's clock) in NAME's record. */
void autostop_observe(struct stack *, const char *name, const char *text,
    long now);

/* A status row's autostop fields from the record, at now: autostop (the
 * setting, "60m" or "off"), autostop_action, autostop_state (null: never
 * read, or the machine is not running), busy_reason, idle_seconds and
 * stops_in_seconds (numbers, null when not known), checked_seconds_ago.
 * Nothing for a record without an autostop setting. */
void autostop_fields(const cJSON *rec, long now, cJSON *row);
/* The fields as one text ("idle 12m, stops in 48m", "busy (run r3)",
 * "autostop off", "60m, not read yet"), taken out of the row. Caller
 * frees; NULL when the row has none. */
char *autostop_take_text(cJSON *row);

/* Seconds to the nearest stop of a running machine whose watchdog was
 * last seen idle, from the records; -1 when none is known. */
long autostop_next_stop(const cJSON *resources, long now);

#endif
