/* gzip.c: see gzip.h. Written from RFC 1951 (deflate) and RFC 1952 (gzip).
 * LZ77 over a 32 KB window with hash chains on 3-byte prefixes and a one-step
 * lazy match, coded with the fixed Huffman codes: shell-script text packs to
 * about a third, which is all user-data needs, without dynamic tables. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lib/gzip.h"
#include "lib/util.h"

#define WSIZE 32768u		/* the farthest distance deflate can name */
#define WMASK (WSIZE - 1)
#define HBITS 15
#define MIN_MATCH 3
#define MAX_MATCH 258
#define MAX_CHAIN 512		/* candidates tried per position */

/* RFC 1951 3.2.5: the first length of codes 257..285 and of distance codes
 * 0..29, with their extra bits. */
static const uint16_t len_base[29] = { 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15,
    17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227,
    258 };
static const uint8_t len_extra[29] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2,
    2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0 };
static const uint16_t dist_base[30] = { 1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33,
    49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
    6145, 8193, 12289, 16385, 24577 };
static const uint8_t dist_extra[30] = { 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5,
    5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13 };

struct bitw {
	struct buf out;
	uint32_t acc;		/* pending bits, first bit lowest */
	int n;
};

/* Data fields go least significant bit first (RFC 1951 3.1.1). */
static void
put_bits(struct bitw *w, uint32_t v, int n)
{
	w->acc |= v << w->n;
	w->n += n;
	while (w->n >= 8) {
		buf_addc(&w->out, (char)(w->acc & 0xff));
		w->acc >>= 8;
		w->n -= 8;
	}
}

/* Huffman codes go most significant bit first: reversed into put_bits. */
static void
put_code(struct bitw *w, uint32_t code, int n)
{
	uint32_t r = 0;

	for (int i = 0; i < n; i++)
		r |= ((code >> i) & 1u) << (n - 1 - i);
	put_bits(w, r, n);
}

/* A literal/length symbol 0..287 in the fixed code (RFC 1951 3.2.6). */
static void
put_sym(struct bitw *w, unsigned int s)
{
	if (s < 144)
		put_code(w, 0x30 + s, 8);
	else if (s < 256)
		put_code(w, 0x190 + (s - 144), 9);
	else if (s < 280)
		put_code(w, s - 256, 7);
	else
		put_code(w, 0xc0 + (s - 280), 8);
}

static void
put_match(struct bitw *w, unsigned int len, unsigned int dist)
{
	int i = 28, d = 29;

	while (len_base[i] > len)
		i--;
	put_sym(w, 257 + (unsigned int)i);
	put_bits(w, len - len_base[i], len_extra[i]);
	while (dist_base[d] > dist)
		d--;
	put_code(w, (uint32_t)d, 5);	/* fixed distance codes: 5 bits */
	put_bits(w, dist - dist_base[d], dist_extra[d]);
}

struct lz {
	const unsigned char *p;
	size_t n;
	uint32_t *head;		/* hash -> last position + 1; 0: none */
	uint32_t *prev;		/* position & WMASK -> earlier position + 1 */
};

static uint32_t
hash3(const unsigned char *s)
{
	uint32_t v = (uint32_t)s[0] << 16 | (uint32_t)s[1] << 8 | s[2];

	return (v * 2654435761u) >> (32 - HBITS);
}

static void
lz_insert(struct lz *z, size_t pos)
{
	uint32_t h;

	if (z->n - pos < MIN_MATCH)
		return;
	h = hash3(z->p + pos);
	z->prev[pos & WMASK] = z->head[h];
	z->head[h] = (uint32_t)pos + 1;
}

/* The longest earlier match for pos within the window (pos not yet
 * inserted, so no chain entry in reach has been overwritten). */
static unsigned int
lz_find(const struct lz *z, size_t pos, unsigned int *dist)
{
	size_t max = z->n - pos < MAX_MATCH ? z->n - pos : MAX_MATCH;
	unsigned int best = 0;
	uint32_t cand;
	int chain = MAX_CHAIN;

	if (max < MIN_MATCH)
		return 0;
	cand = z->head[hash3(z->p + pos)];
	while (cand != 0 && chain-- > 0) {
		size_t c = cand - 1, l = 0;
		uint32_t next;

		if (pos - c > WSIZE)
			break;
		if (z->p[c + best] == z->p[pos + best]) {
			while (l < max && z->p[c + l] == z->p[pos + l])
				l++;
			if (l > best) {
				best = (unsigned int)l;
				*dist = (unsigned int)(pos - c);
				if (l == max)
					break;
			}
		}
		next = z->prev[c & WMASK];
		if (next >= cand)
			break;
		cand = next;
	}
	return best >= MIN_MATCH ? best : 0;
}

static void
deflate_fixed(struct bitw *w, const unsigned char *p, size_t n)
{
	struct lz z = { .p = p, .n = n };
	size_t i = 0;

	z.head = xcalloc((size_t)1 << HBITS, sizeof *z.head);
	z.prev = xcalloc(WSIZE, sizeof *z.prev);
	put_bits(w, 1, 1);	/* BFINAL */
	put_bits(w, 1, 2);	/* BTYPE 01: fixed Huffman codes */
	while (i < n) {
		unsigned int dist = 0, len = lz_find(&z, i, &dist), d2 = 0;

		lz_insert(&z, i);
		/* Lazy: a longer match one byte on is worth a literal. */
		if (len != 0 && len < MAX_MATCH && i + 1 < n &&
		    lz_find(&z, i + 1, &d2) > len)
			len = 0;
		if (len == 0) {
			put_sym(w, p[i]);
			i++;
			continue;
		}
		put_match(w, len, dist);
		for (size_t k = 1; k < len; k++)
			lz_insert(&z, i + k);
		i += len;
	}
	put_sym(w, 256);	/* end of block */
	if (w->n > 0)
		put_bits(w, 0, 8 - w->n);
	free(z.head);
	free(z.prev);
}

/* CRC-32 of RFC 1952 8: reflected polynomial 0xedb88320. */
static uint32_t
crc32_of(const unsigned char *p, size_t n)
{
	uint32_t table[256], c = 0xffffffffu;

	for (uint32_t i = 0; i < 256; i++) {
		uint32_t v = i;

		for (int k = 0; k < 8; k++)
			v = (v & 1) ? 0xedb88320u ^ (v >> 1) : v >> 1;
		table[i] = v;
	}
	for (size_t i = 0; i < n; i++)
		c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

static void
put_le32(struct buf *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		buf_addc(b, (char)((v >> (8 * i)) & 0xff));
}

int
gzip_is(const void *data, size_t len)
{
	const unsigned char *p = data;

	return len >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

int
gzip_pack(const void *data, size_t len, char **out, size_t *outlen)
{
	/* ID1 ID2, CM 8 (deflate), no flags, MTIME 0 (none), XFL 0, OS 3
	 * (Unix): RFC 1952 2.3.1. */
	static const char header[10] = { 0x1f, (char)0x8b, 8, 0, 0, 0, 0, 0, 0,
	    3 };
	const unsigned char *p = data != NULL ? data : (const unsigned char *)"";
	struct bitw w = { .acc = 0, .n = 0 };

	if (len >= UINT32_MAX)
		return -1;	/* positions are kept in 32 bits */
	buf_init(&w.out);
	buf_add(&w.out, header, sizeof header);
	deflate_fixed(&w, p, len);
	put_le32(&w.out, crc32_of(p, len));
	put_le32(&w.out, (uint32_t)len);	/* ISIZE: the size mod 2^32 */
	*outlen = w.out.len;
	*out = buf_detach_release(&w.out);
	return 0;
}
