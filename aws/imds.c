/* imds.c: IMDSv2 credentials (token, role name, role credentials), only
 * asked for on an EC2 machine. See credsrc.h. */
#include "aws/credsrc.h"


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#define IMDS_DEFAULT		"http://169.254.169.254"
#define IMDS_TIMEOUT_MS		1000
#define IMDS_MAX_BODY		65536

static size_t imds_write(char *p, size_t size, size_t n, void *arg);
static int imds_request(CURL *curl, const char *method, const char *url,
    const char *header, struct buf *out, char **cause);

/* IMDSv2: token, role name, role credentials; 1 s per request. */
struct imds_body {
	struct buf b;
	int overflow;
};

static size_t
imds_write(char *p, size_t size, size_t n, void *arg)
{
	struct imds_body *body = arg;

	if (body->b.len + size * n > IMDS_MAX_BODY) {
		body->overflow = 1;
		return 0;
	}
	buf_add(&body->b, p, size * n);
	return size * n;
}

static int
imds_request(CURL *curl, const char *method, const char *url,
    const char *header, struct buf *out, char **cause)
{
	struct curl_slist *h = NULL;
	struct imds_body body;
	CURLcode rc;
	long status = 0;

	buf_init(&body.b);
	body.overflow = 0;
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "PUT") == 0) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
	}
	h = curl_slist_append(h, header);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)IMDS_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)IMDS_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_PROXY, "");	/* never via a proxy */
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, imds_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
	rc = curl_easy_perform(curl);
	curl_slist_free_all(h);
	if (rc != CURLE_OK) {
		*cause = xasprintf("%s", body.overflow ? "answer too large" :
		    curl_easy_strerror(rc));
		buf_release(&body.b);
		return -1;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		*cause = xasprintf("HTTP %ld", status);
		buf_release(&body.b);
		return -1;
	}
	*out = body.b;
	return 0;
}

int
creds_imds(struct aws_creds *out, char **cause)
{
	const char *ep = creds_getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	struct buf token = { 0 }, roles = { 0 }, doc = { 0 };
	char *base, *url, *hdr = NULL, *role = NULL, *why = NULL;
	size_t n;
	cJSON *j = NULL, *code;
	CURL *curl;
	int r = -1;

	base = xstrdup(ep ? ep : IMDS_DEFAULT);
	for (n = strlen(base); n > 0 && base[n - 1] == '/'; n--)
		base[n - 1] = '\0';
	if ((curl = curl_easy_init()) == NULL) {
		*cause = xstrdup("cannot start libcurl");
		free(base);
		return -1;
	}
	url = xasprintf("%s/latest/api/token", base);
	if (imds_request(curl, "PUT", url,
	    "X-aws-ec2-metadata-token-ttl-seconds: 21600", &token, &why) != 0) {
		*cause = xasprintf("token: %s", why);
		goto out;
	}
	hdr = xasprintf("X-aws-ec2-metadata-token: %s", token.data);
	free(url);
	url = xasprintf("%s/latest/meta-data/iam/security-credentials/", base);
	if (imds_request(curl, "GET", url, hdr, &roles, &why) != 0) {
		*cause = xasprintf("role: %s", why);
		goto out;
	}
	role = creds_first_line(roles.data, roles.len);
	if (*role == '\0' || strchr(role, '/') != NULL) {
		*cause = xstrdup("no IAM role attached");
		goto out;
	}
	free(url);
	url = xasprintf("%s/latest/meta-data/iam/security-credentials/%s", base,
	    role);
	if (imds_request(curl, "GET", url, hdr, &doc, &why) != 0) {
		*cause = xasprintf("role '%s': %s", role, why);
		goto out;
	}
	j = cJSON_ParseWithLength(doc.data, doc.len);
	code = cJSON_GetObjectItemCaseSensitive(j, "Code");
	if (j == NULL)
		*cause = xasprintf("role '%s': answer is not JSON", role);
	else if (cJSON_IsString(code) && strcmp(code->valuestring, "Success") != 0)
		*cause = xasprintf("role '%s': %s", role, code->valuestring);
	else if (creds_from_json(j, "AccessKeyId", "SecretAccessKey", "Token",
	    out, &why) != 0) {
		*cause = xasprintf("role '%s': answer %s", role, why);
	} else {
		out->source = xasprintf("imds role %s", role);
		r = 0;
	}
out:
	free(why);
	cJSON_Delete(j);
	if (doc.data != NULL) {
		explicit_bzero(doc.data, doc.len);
		buf_release(&doc);
	}
	if (roles.data != NULL)
		buf_release(&roles);
	if (token.data != NULL)
		buf_release(&token);
	free(role);
	free(hdr);
	free(url);
	free(base);
	curl_easy_cleanup(curl);
	return r;
}
