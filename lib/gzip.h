/* gzip.h: gzip (RFC 1952) in memory, for user-data over EC2's 16 KB: AWS
 * takes compressed user-data and cloud-init uncompresses it ("Gzip
 * compressed content", cloud-init docs, user-data formats); the lab does the
 * same before it runs a host's script. */
#ifndef MLSH_GZIP_H
#define MLSH_GZIP_H

#include <stddef.h>

/* Whether data starts with gzip's magic bytes. */
int gzip_is(const void *data, size_t len);
/* Compress (gzip_pack) or uncompress (gzip_unpack: at most max bytes out)
 * data into a new buffer (*out, *outlen; caller frees). 0, or -1. */
int gzip_pack(const void *data, size_t len, char **out, size_t *outlen);
int gzip_unpack(const void *data, size_t len, size_t max, char **out,
    size_t *outlen);

#endif
