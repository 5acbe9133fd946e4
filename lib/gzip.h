/* gzip.h: a gzip (RFC 1952) writer in memory, for user-data over EC2's 16 KB:
 * AWS takes compressed user-data and cloud-init uncompresses it ("Gzip
 * compressed content", cloud-init docs, user-data formats); the lab does the
 * same with the host's gzip before it runs a host's script. mlsh never reads
 * gzip, so it has no inflater. */
#ifndef MLSH_GZIP_H
#define MLSH_GZIP_H

#include <stddef.h>

/* Whether data starts with gzip's magic bytes. */
int gzip_is(const void *data, size_t len);
/* Compress data into a new buffer (*out, *outlen; caller frees): one deflate
 * block with the fixed Huffman codes (RFC 1951 3.2.6). 0, or -1 (input over
 * 4 GB). */
int gzip_pack(const void *data, size_t len, char **out, size_t *outlen);

#endif
