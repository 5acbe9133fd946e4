/* httpget.c: a bounded GET for a small text answer. */
#include "aws/aws.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include "lib/util.h"

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (b->len + size * n > 65536)
		return 0;
	buf_add(b, p, size * n);
	return size * n;
}

int
aws_http_get_text(const char *url, long timeout_ms, char **body, char **cause)
{
	CURL *c = curl_easy_init();
	struct buf b;
	CURLcode rc;
	long status = 0;

	*body = NULL;
	if (c == NULL) {
		*cause = xstrdup("cannot start libcurl");
		return -1;
	}
	buf_init(&b);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "mlsh");
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		*cause = xasprintf("%s: %s", url, curl_easy_strerror(rc));
		buf_release(&b);
		return -1;
	}
	if (status < 200 || status > 299) {
		*cause = xasprintf("%s: HTTP %ld", url, status);
		buf_release(&b);
		return -1;
	}
	*body = buf_detach_release(&b);
	return 0;
}
