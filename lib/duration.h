/* duration.h: durations as people type them ("30m", "1h", "90s", "2h30m",
 * "off"), for autostop and anything else that waits. */
#ifndef MLSH_DURATION_H
#define MLSH_DURATION_H

/* The accepted forms, for error messages. */
#define DURATION_FORMS "a number with s, m, h or d (30m, 1h, 2h30m, 90s), or off"

/* Parse s into seconds; "off" gives 0 when allow_off. The value must lie in
 * [min_s, max_s]. Returns 0, or -1 with *cause (caller frees), one line
 * naming the value and the accepted forms. */
int duration_parse(const char *s, long min_s, long max_s, int allow_off,
    long *out, char **cause);

/* secs as "2h30m", "90s", "1d"; 0 is "off". Writes at most n bytes. */
void duration_format(long secs, char *buf, unsigned n);

#endif
