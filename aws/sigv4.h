/* sigv4.h: AWS Signature Version 4 header signing.
 *
 * Pure functions: no I/O, no clock (the caller passes the date), no printing.
 * The canonical request and string to sign are returned so --trace and the
 * tests can show and compare them. */
#ifndef MLSH_SIGV4_H
#define MLSH_SIGV4_H

#include <stddef.h>

struct sigv4_header {
	const char *name;	/* as sent; any case */
	const char *value;	/* as sent; may have folds/extra blanks */
};

struct sigv4_request {
	const char *method;		/* "GET", "POST" … */
	const char *path;		/* path as on the request line, e.g. "/a%20b/../c" */
	const char *query;		/* raw query after '?', or NULL/"" */
	const struct sigv4_header *headers; /* must include Host; X-Amz-Date,
					   * when given, must equal amz_date
					   * (it is signed either way) */
	size_t nheaders;
	const void *body;		/* payload, may be NULL when body_len is 0 */
	size_t body_len;
	const char *payload_hash;	/* hex SHA-256 of the body, or NULL to compute */
};

struct sigv4_params {
	const char *access_key;
	const char *secret_key;
	const char *session_token;	/* NULL when none */
	const char *region;		/* "us-east-1" */
	const char *service;		/* signing name: "ec2", "elasticfilesystem" … */
	const char *amz_date;		/* "20150830T123600Z" */
	int normalize_path;		/* 1 for every service but S3: dot
					 * segments and '//' removed, path
					 * encoded once more; 0: verbatim */
	int sign_session_token;		/* 1: X-Amz-Security-Token is a signed header
					 * (what the SDKs do); 0: added after signing */
};

struct sigv4_result {
	char *canonical_request;
	char *string_to_sign;
	char *signed_headers;		/* "host;x-amz-date" */
	char *signature;		/* 64 hex chars */
	char *authorization;		/* full Authorization header value */
};

/* Returns 0 and fills *out (release with sigv4_result_release), or -1 with an
 * allocated *cause. */
int sigv4_sign(const struct sigv4_request *, const struct sigv4_params *,
    struct sigv4_result *out, char **cause);
void sigv4_result_release(struct sigv4_result *);

/* Helpers the HTTP layer needs too. */
char *sigv4_hex_sha256(const void *, size_t);		/* 64 hex chars */
/* RFC 3986 percent-encoding of everything but unreserved characters; with
 * keep_slash, '/' stays (for paths). */
char *sigv4_uri_encode(const char *, size_t, int keep_slash);
/* "20150830T123600Z" for the given UNIX time, into a 17-byte buffer. */
void sigv4_amz_date(long long t, char out[17]);

#endif
