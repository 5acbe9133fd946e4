/* tar.h: the little of tar that cp -r needs (ustar with pax records).
 *
 * The writer makes archives GNU tar and busybox tar extract: a ustar header
 * per entry, preceded by a pax "x" record when the name is longer than the
 * 100 bytes of the name field or the size does not fit its 11 octal digits.
 *
 * The reader takes an archive from a node, which is not trusted: it is fed
 * bytes as they arrive and hands each entry to the caller with its name
 * already checked (relative, no "..", no control characters, no empty
 * component, at most TAR_NAME_MAX bytes and TAR_DEPTH_MAX components). A name
 * that fails is passed with bad set (the caller skips it, its data is
 * skipped); a broken header (checksum, size field, a pax or GNU long-name
 * record over TAR_META_MAX) stops the archive with an error. It reads ustar,
 * pax (path, size; "g" records skipped) and GNU (long names "L", sizes in
 * base 256), i.e. what GNU tar and busybox tar write. */
#ifndef MLSH_REMOTE_TAR_H
#define MLSH_REMOTE_TAR_H

#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

#define TAR_BLOCK 512
#define TAR_NAME_MAX 4096	/* a longer name is refused (PATH_MAX) */
#define TAR_DEPTH_MAX 256	/* as the SFTP tree walk's limit */
#define TAR_META_MAX 65536	/* largest pax or long-name record read */

/* One entry's header(s) (name relative, without a trailing '/'; type '0' for
 * a file, '5' for a directory) onto b. */
void tar_header(struct buf *b, const char *name, char type, unsigned mode,
    uint64_t size, int64_t mtime);
/* The zero bytes that follow size bytes of data to the next block. */
size_t tar_padding(uint64_t size);
/* The end of the archive: two zero blocks. */
void tar_end(struct buf *b);

enum tar_kind { TAR_FILE, TAR_DIR, TAR_LINK, TAR_OTHER };

struct tar_entry {
	const char *name;	/* normalised: no "./" prefix, no trailing '/';
				   "" for the archive's top directory itself */
	const char *bad;	/* NULL, or why name is refused */
	enum tar_kind kind;
	char type;		/* the header's type flag */
	unsigned mode;		/* the header's mode bits (all of them) */
	uint64_t size;
};

/* Callbacks of a reader.  entry returns 0 to take the data (data is called
 * with it, in pieces, then end), 1 to skip it, -1 to stop with *cause set. */
struct tar_sink {
	int (*entry)(void *arg, const struct tar_entry *, char **cause);
	int (*data)(void *arg, const char *p, size_t n, char **cause);
	int (*end)(void *arg, char **cause);
	void *arg;
};

struct tar_reader;
struct tar_reader *tar_reader_new(const struct tar_sink *);
/* Feed the next n bytes: 0, or -1 with *cause (the archive is then over). */
int tar_reader_feed(struct tar_reader *, const char *p, size_t n, char **cause);
/* After the last byte: -1 with *cause when the archive stopped short. */
int tar_reader_finish(struct tar_reader *, char **cause);
void tar_reader_free(struct tar_reader *);

#endif
