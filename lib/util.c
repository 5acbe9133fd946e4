/* util.c: allocation wrappers, buffers, string lists. */
#include <cjson/cJSON.h>

#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void
oom(void)
{
	static const char msg[] = "mlsh: out of memory\n";
	(void)!write(2, msg, sizeof msg - 1);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL)
		oom();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

void *
xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > (size_t)-1 / size)
		oom();
	return xrealloc(p, n * size);
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
	char *s;
	if (vasprintf(&s, fmt, ap) < 0)
		oom();
	return s;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

void
buf_init(struct buf *b)
{
	b->data = xmalloc(64);
	b->data[0] = '\0';
	b->len = 0;
	b->cap = 64;
}

void
buf_release(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->data[0] = '\0';
}

static void
buf_grow(struct buf *b, size_t more)
{
	if (b->len + more + 1 <= b->cap)
		return;
	while (b->len + more + 1 > b->cap)
		b->cap *= 2;
	b->data = xrealloc(b->data, b->cap);
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	buf_adds(b, s);
	free(s);
}

char *
buf_detach(struct buf *b)
{
	char *s = b->data;
	buf_init(b);
	return s;
}

char *
buf_detach_release(struct buf *b)
{
	char *s = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

void
strlist_init(struct strlist *l)
{
	l->v = NULL;
	l->n = l->cap = 0;
}

void
strlist_release(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	strlist_init(l);
}

void
strlist_take(struct strlist *l, char *s)
{
	if (l->n + 1 >= l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	l->v[l->n++] = s;
	l->v[l->n] = NULL;
}

void
strlist_add(struct strlist *l, const char *s)
{
	strlist_take(l, xstrdup(s));
}

void
strlist_addn(struct strlist *l, const char *s, size_t n)
{
	strlist_take(l, xstrndup(s, n));
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
strlist_sort(struct strlist *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof *l->v, cmpstr);
}

void
strlist_uniq(struct strlist *l)
{
	size_t j = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (j > 0 && strcmp(l->v[j - 1], l->v[i]) == 0) {
			free(l->v[i]);
			continue;
		}
		l->v[j++] = l->v[i];
	}
	l->n = j;
	if (l->v)
		l->v[j] = NULL;
}

int
strlist_has(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

/* Length of the UTF-8 sequence at p and its code point; 0 when the bytes
 * are not well-formed UTF-8 (overlong forms and surrogates included). */
static size_t
utf8_decode(const unsigned char *p, unsigned *cp)
{
	size_t n, i;
	unsigned c = p[0], min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2, c &= 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3, c &= 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4, c &= 0x07, min = 0x10000;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

char *
str_sanitize(const char *s, int keep_lines)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	struct buf b;
	unsigned cp;
	size_t n;

	buf_init(&b);
	while (*p != '\0') {
		n = utf8_decode(p, &cp);
		if (n == 0) {
			buf_printf(&b, "\\x%02x", *p++);
			continue;
		}
		if ((cp == '\n' || cp == '\t') && keep_lines)
			buf_addc(&b, (char)cp);
		else if (cp == '\n')
			buf_adds(&b, "\\n");
		else if (cp == '\t')
			buf_adds(&b, "\\t");
		else if (cp < 0x20 || cp == 0x7f)
			buf_printf(&b, "\\x%02x", cp);
		else if ((cp >= 0x80 && cp <= 0x9f) ||
		    (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069) ||
		    cp == 0x2028 || cp == 0x2029)
			/* C1 controls (0x9b is CSI), bidi overrides and
			 * line separators. */
			buf_printf(&b, "\\u%04x", cp);
		else
			buf_add(&b, p, n);
		p += n;
	}
	return buf_detach_release(&b);
}

int
str_startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int
str_endswith(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

char *
file_read(const char *path, size_t *lenp, char **cause)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return NULL;
	}
	return fd_read_all(fd, path, lenp, cause);
}

const char *
json_string(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

void
json_add_usd(cJSON *o, const char *key, double v)
{
	if (v < 0)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddNumberToObject(o, key, round(v * 1e6) / 1e6);
}

char *
fd_read_all(int fd, const char *path, size_t *lenp, char **cause)
{
	struct buf b;
	char chunk[8192];
	ssize_t n;

	buf_init(&b);
	for (;;) {
		n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*cause = xasprintf("%s: %s", path, strerror(errno));
			close(fd);
			buf_release(&b);
			return NULL;
		}
		if (n == 0)
			break;
		buf_add(&b, chunk, (size_t)n);
	}
	close(fd);
	if (lenp != NULL)
		*lenp = b.len;
	return b.data;
}

int
mkdir_p(const char *path, int mode, char **cause)
{
	char *p = xstrdup(path);
	for (char *s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST) {
				*cause = xasprintf("cannot create '%s': %s", p,
				    strerror(errno));
				free(p);
				return -1;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	free(p);
	return 0;
}

double
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

char *
base64_encode(const void *data, size_t len)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = (const unsigned char *)data;
	char *out = xmalloc((len + 2) / 3 * 4 + 1), *o = out;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)s[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)s[i + 1] << 8;
		if (i + 2 < len)
			v |= s[i + 2];
		*o++ = tab[(v >> 18) & 63];
		*o++ = tab[(v >> 12) & 63];
		*o++ = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? tab[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

char *
str_sh_quote(const char *s)
{
	struct buf b;

	buf_init(&b);
	buf_addc(&b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			buf_adds(&b, "'\\''");
		else
			buf_addc(&b, *s);
	}
	buf_addc(&b, '\'');
	return buf_detach_release(&b);
}
