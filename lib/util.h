/* util.h: allocation wrappers, growable buffers and string lists.
 *
 * The x* wrappers abort on out-of-memory so callers carry no NULL ladders.
 * A function returning char * hands ownership to the caller. */
#ifndef MLSH_UTIL_H
#define MLSH_UTIL_H

#include <stdarg.h>
#include <stddef.h>

struct cJSON;

#if defined(__GNUC__)
#define MLSH_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define MLSH_PRINTF(f, a)
#endif

void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xrealloc(void *, size_t);
void *xreallocarray(void *, size_t, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
char *xasprintf(const char *, ...) MLSH_PRINTF(1, 2);
char *xvasprintf(const char *, va_list);

/* A growable byte buffer, always NUL-terminated. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};
void buf_init(struct buf *);
void buf_release(struct buf *);
void buf_reset(struct buf *);
void buf_add(struct buf *, const void *, size_t);
void buf_adds(struct buf *, const char *);
void buf_addc(struct buf *, char);
void buf_printf(struct buf *, const char *, ...) MLSH_PRINTF(2, 3);
char *buf_detach(struct buf *); /* caller owns the result; buf is reset */
char *buf_detach_release(struct buf *); /* caller owns the result; buf is released */

/* A list of owned strings. */
struct strlist {
	char **v;
	size_t n;
	size_t cap;
};
void strlist_init(struct strlist *);
void strlist_release(struct strlist *);
void strlist_add(struct strlist *, const char *);     /* copies */
void strlist_addn(struct strlist *, const char *, size_t);
void strlist_take(struct strlist *, char *);          /* takes ownership */
void strlist_sort(struct strlist *);
void strlist_uniq(struct strlist *);                  /* after sort */
int strlist_has(const struct strlist *, const char *);

/* Text from outside (AWS answers, remote hosts) made safe for a terminal:
 * C0 and C1 control characters, DEL, bidirectional overrides and bytes that
 * are not UTF-8 become visible escapes (\t \n \x1b \u009b), so nothing a
 * server sends can move the cursor, retitle the window or hide text. With
 * keep_lines, newlines and tabs stay as they are (multi-line messages).
 * The one sanitiser: everything server-supplied goes through it, and it is
 * idempotent (its output holds no character it would change). */
char *str_sanitize(const char *, int keep_lines);
/* 'text' quoted for sh (a ' inside as '\''). Caller frees. */
char *str_sh_quote(const char *);

/* Standard base64 (RFC 4648, with padding) of len bytes: user-data,
 * imported keys. Caller frees. */
char *base64_encode(const void *data, size_t len);

/* Misc. */
int str_startswith(const char *, const char *);
int str_endswith(const char *, const char *);
/* Read a whole file; returns NULL and sets *cause on error. */
char *file_read(const char *path, size_t *lenp, char **cause);
/* Read fd to its end and close it (path names it in *cause). */
char *fd_read_all(int fd, const char *path, size_t *lenp, char **cause);
/* o[key] when it is a string, else NULL (borrowed from o). */
const char *json_string(const struct cJSON *o, const char *key);
/* A dollar amount for scripts (--json, Lua): a number rounded to a millionth
 * (no 0.30000000000000004), null when unknown (v < 0). */
void json_add_usd(struct cJSON *o, const char *key, double v);
/* mkdir -p with the given mode for the created directories. */
int mkdir_p(const char *path, int mode, char **cause);
/* Monotonic clock in milliseconds. */
double now_ms(void);

#endif
