/* tar.c: a small tar writer and a reader for untrusted archives (tar.h).
 * Formats: POSIX.1-2001 pax (the ustar header and "x" records) and GNU tar's
 * long names and base-256 sizes, as GNU tar's manual describes them
 * ("Basic Tar Format", "GNU Extensions to the Archive Format"). */
#include "remote/tar.h"
#include "remote/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OCTAL_SIZE_MAX 077777777777ULL	/* what 11 octal digits hold */

/* Writer. */

static void
octal(char *field, size_t width, uint64_t v)
{
	/* width - 1 digits and a NUL, as GNU tar writes them */
	snprintf(field, width, "%0*llo", (int)width - 1, (unsigned long long)v);
}

/* "LEN key=value\n", where LEN counts the whole record, itself included. */
static void
pax_record(struct buf *b, const char *key, const char *value)
{
	size_t body = strlen(key) + strlen(value) + 3, len = body + 1;
	char digits[32];

	while ((size_t)snprintf(digits, sizeof digits, "%zu", len) + body != len)
		len = (size_t)snprintf(digits, sizeof digits, "%zu", len) + body;
	buf_printf(b, "%zu %s=%s\n", len, key, value);
}

static void
raw_header(struct buf *b, const char *name, char type, unsigned mode,
    uint64_t size, int64_t mtime)
{
	char h[TAR_BLOCK];
	unsigned sum = 0;

	memset(h, 0, sizeof h);
	memcpy(h, name, strnlen(name, 100));
	octal(h + 100, 8, mode & 07777);
	octal(h + 108, 8, 0);
	octal(h + 116, 8, 0);
	octal(h + 124, 12, size <= OCTAL_SIZE_MAX ? size : 0);
	octal(h + 136, 12, mtime < 0 ? 0 : (uint64_t)mtime & OCTAL_SIZE_MAX);
	memset(h + 148, ' ', 8);
	h[156] = type;
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	for (size_t i = 0; i < sizeof h; i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 7, "%06o", sum);
	h[155] = ' ';
	buf_add(b, h, sizeof h);
}

void
tar_header(struct buf *b, const char *name, char type, unsigned mode,
    uint64_t size, int64_t mtime)
{
	char *full = type == '5' ? xasprintf("%s/", name) : xstrdup(name);

	if (strlen(full) > 100 || size > OCTAL_SIZE_MAX) {
		struct buf pax;
		buf_init(&pax);
		if (strlen(full) > 100)
			pax_record(&pax, "path", full);
		if (size > OCTAL_SIZE_MAX) {
			char n[32];
			snprintf(n, sizeof n, "%llu", (unsigned long long)size);
			pax_record(&pax, "size", n);
		}
		raw_header(b, "././@PaxHeader", 'x', 0644, pax.len, mtime);
		buf_add(b, pax.data, pax.len);
		for (size_t i = tar_padding(pax.len); i > 0; i--)
			buf_addc(b, '\0');
		buf_release(&pax);
	}
	raw_header(b, full, type, mode, size, mtime);
	free(full);
}

size_t
tar_padding(uint64_t size)
{
	return (size_t)((TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK);
}

void
tar_end(struct buf *b)
{
	for (int i = 0; i < 2 * TAR_BLOCK; i++)
		buf_addc(b, '\0');
}

/* Reader. */

enum { RD_HEADER, RD_META, RD_DATA, RD_END };

struct tar_reader {
	struct tar_sink sink;
	int state;
	char hdr[TAR_BLOCK];
	size_t have;		/* bytes of hdr so far */
	uint64_t remain;	/* data bytes of the current entry left */
	size_t pad;		/* padding bytes left after them */
	int take;		/* the sink takes the data */
	char meta_type;		/* 'x', 'L' while reading such a record */
	struct buf meta;
	/* what "x" and "L" records said about the next entry */
	char *next_name;
	size_t next_len;
	int next_has_size;
	uint64_t next_size;
};

struct tar_reader *
tar_reader_new(const struct tar_sink *sink)
{
	struct tar_reader *r = xcalloc(1, sizeof *r);

	r->sink = *sink;
	buf_init(&r->meta);
	return r;
}

void
tar_reader_free(struct tar_reader *r)
{
	if (r == NULL)
		return;
	buf_release(&r->meta);
	free(r->next_name);
	free(r);
}

/* A numeric field: octal digits (leading blanks, ended by NUL or blank), or
 * GNU's base 256 (high bit of the first byte set; negative refused). */
static int
number(const char *f, size_t width, uint64_t *out)
{
	const unsigned char *p = (const unsigned char *)f;
	uint64_t v = 0;
	size_t i = 0;

	if (p[0] & 0x80) {
		if (p[0] != 0x80)
			return -1;	/* negative, or more than 64 bits */
		for (i = 1; i < width; i++) {
			if (v >> 56)
				return -1;
			v = v << 8 | p[i];
		}
		*out = v;
		return 0;
	}
	while (i < width && p[i] == ' ')
		i++;
	for (; i < width && p[i] >= '0' && p[i] <= '7'; i++) {
		if (v >> 60)
			return -1;
		v = v << 3 | (uint64_t)(p[i] - '0');
	}
	if (i < width && p[i] != '\0' && p[i] != ' ')
		return -1;
	*out = v;
	return 0;
}

static int
checksum_ok(const char *h)
{
	uint64_t want;
	unsigned usum = 0;
	int ssum = 0;

	if (number(h + 148, 8, &want) == -1)
		return 0;
	for (int i = 0; i < TAR_BLOCK; i++) {
		unsigned char c = i >= 148 && i < 156 ? ' ' : (unsigned char)h[i];
		usum += c;
		ssum += (signed char)c;
	}
	/* some old writers summed signed chars */
	return want == usum || (int64_t)want == ssum;
}

/* Check and normalise a name: *bad says why it is refused. */
static char *
clean_name(const char *raw, size_t len, const char **bad)
{
	struct buf b;
	size_t i, start, depth = 0;

	*bad = NULL;
	if (len > TAR_NAME_MAX) {
		*bad = "longer than 4096 bytes";
		return rmt_printable(raw, strnlen(raw, 200));
	}
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)raw[i];
		if (ch < 0x20 || ch == 0x7f) {
			*bad = "control character in the name";
			return rmt_printable(raw, len);
		}
	}
	if (len > 0 && raw[0] == '/') {
		*bad = "absolute path";
		return rmt_printable(raw, len);
	}
	buf_init(&b);
	for (start = 0; start <= len; start = i + 1) {
		for (i = start; i < len && raw[i] != '/'; i++)
			;
		size_t n = i - start;
		if (n == 0 || (n == 1 && raw[start] == '.'))
			continue;
		if (n == 2 && raw[start] == '.' && raw[start + 1] == '.') {
			*bad = "\"..\" in the path";
			break;
		}
		if (++depth > TAR_DEPTH_MAX) {
			*bad = "nests deeper than 256 directories";
			break;
		}
		if (b.len > 0)
			buf_addc(&b, '/');
		buf_add(&b, raw + start, n);
	}
	if (*bad != NULL) {
		buf_release(&b);
		return rmt_printable(raw, len);
	}
	buf_addc(&b, '\0');
	return buf_detach_release(&b);
}

static int
stop(struct tar_reader *r, char **cause, char *msg)
{
	r->state = RD_END;
	*cause = msg;
	return -1;
}

/* The pax records of an "x" header: path and size for the next entry. */
static int
pax_parse(struct tar_reader *r, char **cause)
{
	const char *p = r->meta.data, *end = p + r->meta.len;

	while (p < end) {
		size_t len = 0, i = 0;
		while (p + i < end && p[i] >= '0' && p[i] <= '9' && i < 8)
			len = len * 10 + (size_t)(p[i++] - '0');
		if (i == 0 || len <= i + 1 || len > (size_t)(end - p) || p[i] != ' ' ||
		    p[len - 1] != '\n')
			return stop(r, cause, xstrdup("malformed pax record"));
		const char *kv = p + i + 1, *eq = memchr(kv, '=', (size_t)(p + len - 1 - kv));
		if (eq == NULL)
			return stop(r, cause, xstrdup("malformed pax record"));
		size_t klen = (size_t)(eq - kv), vlen = (size_t)(p + len - 1 - eq - 1);
		if (klen == 4 && memcmp(kv, "path", 4) == 0) {
			free(r->next_name);
			r->next_name = xstrndup(eq + 1, vlen);
			r->next_len = vlen;	/* a NUL inside shows as a short string */
		} else if (klen == 4 && memcmp(kv, "size", 4) == 0) {
			uint64_t v = 0;
			size_t j;
			for (j = 0; j < vlen && eq[1 + j] >= '0' && eq[1 + j] <= '9' &&
			    v < UINT64_MAX / 10; j++)
				v = v * 10 + (uint64_t)(eq[1 + j] - '0');
			if (j == 0 || j < vlen)
				return stop(r, cause, xstrdup("malformed pax size"));
			r->next_has_size = 1;
			r->next_size = v;
		}
		p += len;
	}
	return 0;
}

static enum tar_kind
kind_of(char type)
{
	switch (type) {
	case '0': case '\0': case '7':
		return TAR_FILE;
	case '5':
		return TAR_DIR;
	case '1': case '2':
		return TAR_LINK;
	default:
		return TAR_OTHER;
	}
}

/* A complete header block in r->hdr. */
static int
header(struct tar_reader *r, char **cause)
{
	const char *h = r->hdr;
	uint64_t size, mode;
	char type = h[156];
	int i, ret;

	for (i = 0; i < TAR_BLOCK && h[i] == '\0'; i++)
		;
	if (i == TAR_BLOCK) {
		r->state = RD_END;	/* the end (a second zero block is not needed) */
		return 0;
	}
	if (!checksum_ok(h))
		return stop(r, cause, xstrdup("bad header checksum"));
	if (number(h + 124, 12, &size) == -1 || number(h + 100, 8, &mode) == -1)
		return stop(r, cause, xstrdup("bad number in a header"));
	if (r->next_has_size && type != 'x' && type != 'L' && type != 'g')
		size = r->next_size;
	r->pad = tar_padding(size);
	r->remain = size;
	r->state = RD_DATA;
	r->take = 0;
	if (type == 'x' || type == 'L') {
		if (size > TAR_META_MAX)
			return stop(r, cause, xasprintf("a header record of %llu bytes "
			    "(at most %d)", (unsigned long long)size, TAR_META_MAX));
		buf_reset(&r->meta);
		r->meta_type = type;
		r->state = RD_META;
		return 0;
	}
	if (type == 'g' || type == 'K')
		return 0;	/* global records, long link targets: skipped */

	struct tar_entry e = { .type = type, .kind = kind_of(type),
	    .mode = (unsigned)mode, .size = size };
	char *raw, *name;
	size_t len;
	if (r->next_name != NULL) {
		raw = r->next_name;
		len = r->next_len;
		if (strlen(raw) != len)
			len = TAR_NAME_MAX + 1;	/* a NUL inside: refused below */
		r->next_name = NULL;
	} else {
		size_t n = strnlen(h, 100);
		if (memcmp(h + 257, "ustar\0", 6) == 0 && h[345] != '\0')
			raw = xasprintf("%.*s/%.*s", (int)strnlen(h + 345, 155), h + 345,
			    (int)n, h);
		else
			raw = xstrndup(h, n);
		len = strlen(raw);
	}
	r->next_has_size = 0;
	name = clean_name(raw, len, &e.bad);
	free(raw);
	if (e.bad == NULL && *name == '\0' && e.kind != TAR_DIR)
		e.bad = "empty name";
	e.name = name;
	ret = r->sink.entry(r->sink.arg, &e, cause);
	free(name);
	if (ret == -1) {
		r->state = RD_END;
		return -1;
	}
	r->take = ret == 0;
	return 0;
}

static int
entry_done(struct tar_reader *r, char **cause)
{
	if (r->state == RD_META) {
		if (r->meta_type == 'x')
			return pax_parse(r, cause);
		/* 'L': the next entry's name, NUL-terminated in the record */
		free(r->next_name);
		r->next_len = strnlen(r->meta.data, r->meta.len);
		r->next_name = xstrndup(r->meta.data, r->next_len);
		return 0;
	}
	if (r->take && r->sink.end(r->sink.arg, cause) == -1) {
		r->state = RD_END;
		return -1;
	}
	return 0;
}

int
tar_reader_feed(struct tar_reader *r, const char *p, size_t n, char **cause)
{
	while (n > 0 && r->state != RD_END) {
		if (r->state == RD_HEADER) {
			size_t k = TAR_BLOCK - r->have < n ? TAR_BLOCK - r->have : n;
			memcpy(r->hdr + r->have, p, k);
			r->have += k;
			p += k;
			n -= k;
			if (r->have == TAR_BLOCK) {
				r->have = 0;
				if (header(r, cause) == -1)
					return -1;
				if (r->state != RD_END && r->remain == 0 &&
				    entry_done(r, cause) == -1)
					return -1;
				if (r->state != RD_END && r->remain == 0 && r->pad == 0)
					r->state = RD_HEADER;
			}
			continue;
		}
		if (r->remain > 0) {
			size_t k = r->remain < n ? (size_t)r->remain : n;
			if (r->state == RD_META)
				buf_add(&r->meta, p, k);
			else if (r->take && r->sink.data(r->sink.arg, p, k, cause) == -1) {
				r->state = RD_END;
				return -1;
			}
			r->remain -= k;
			p += k;
			n -= k;
			if (r->remain == 0 && entry_done(r, cause) == -1)
				return -1;
			if (r->remain == 0 && r->pad == 0)
				r->state = RD_HEADER;
			continue;
		}
		size_t k = r->pad < n ? r->pad : n;
		r->pad -= k;
		p += k;
		n -= k;
		if (r->pad == 0)
			r->state = RD_HEADER;
	}
	return 0;
}

int
tar_reader_finish(struct tar_reader *r, char **cause)
{
	if (r->state == RD_END || (r->state == RD_HEADER && r->have == 0 &&
	    r->next_name == NULL))
		return 0;	/* a missing end block, as GNU tar accepts */
	*cause = xstrdup("the archive ends in the middle of an entry");
	return -1;
}
