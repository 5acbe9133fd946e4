/* httpget.h: one small GET for plain text (e.g. the caller's public address
 * from https://checkip.amazonaws.com). Never prints, never exits. */
#ifndef MLSH_HTTPGET_H
#define MLSH_HTTPGET_H

/* GET url; on a 2xx answer returns 0 with *body (caller frees, at most
 * 64 KiB), else -1 with *cause. Bounded by timeout_ms. */
int aws_http_get_text(const char *url, long timeout_ms, char **body,
    char **cause);

#endif
