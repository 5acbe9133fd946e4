/* internal.h: what the files of aws/ share and nothing outside aws/ needs.
 *
 * services.c  the service table, endpoints, generated EFS/idempotency tables
 * protocol.c  request serialisation and response/error parsing per protocol
 * xml.c       XML responses to cJSON (expat)
 * http.c      libcurl handles, signing, trace, network namespaces
 * aws.c       the client, aws_call with retries, pagination, waiters */
#ifndef MLSH_AWS_INTERNAL_H
#define MLSH_AWS_INTERNAL_H

#include <curl/curl.h>

#include "aws/aws.h"
#include "lib/util.h"

/* --- services.c --- */

enum aws_loc { AWS_LOC_URI, AWS_LOC_QUERY, AWS_LOC_HEADER };

struct aws_rest_member {
	const char *name;		/* input member */
	enum aws_loc loc;
	const char *loc_name;		/* name in the URI template / query / header */
};

struct aws_rest_op {
	const char *name;
	const char *method;
	const char *uri;		/* "/2015-02-01/file-systems/{FileSystemId}" */
	const struct aws_rest_member *members;
	size_t nmembers;
};

struct aws_idem_op {
	const char *service;
	const char *action;
	const char *member;		/* "ClientToken", "CreationToken" … */
};

/* The REST operation of a REST-JSON service, NULL when unknown. */
const struct aws_rest_op *aws_rest_op_find(const struct aws_service *,
    const char *action);
/* The idempotency token member of an action, NULL when it has none. */
const char *aws_idem_member(const struct aws_service *, const char *action);
/* Base URL without a trailing slash ("https://ec2.eu-west-1.amazonaws.com",
 * or the override, which may carry a path). Caller frees. */
char *aws_endpoint_url(const struct aws_service *, const char *region,
    const char *endpoint_override);
/* The region a request is signed for (IAM: us-east-1). Borrowed. */
const char *aws_signing_region(const struct aws_service *, const char *region);

/* --- protocol.c --- */

struct aws_request {
	const char *method;		/* static */
	char *path;			/* encoded, from "/" */
	char *query;			/* encoded, "" when none */
	struct buf body;
	const char *content_type;	/* static; NULL when no body */
	char *target;			/* X-Amz-Target, NULL when none */
	struct strlist headers;		/* extra "Name: value" lines (REST) */
};

void aws_request_init(struct aws_request *);
void aws_request_release(struct aws_request *);
/* Serialise one call. -1 with an allocated *cause when the params do not fit
 * the protocol (not an object, unknown REST operation, missing URI label). */
int aws_proto_build(const struct aws_service *, const char *action,
    const cJSON *params, struct aws_request *, char **cause);

struct aws_response {
	long status;
	struct buf body;
	char *request_id;		/* x-amzn-RequestId / x-amz-request-id */
	char *error_type;		/* x-amzn-ErrorType */
	size_t max_body;		/* the cap (bytes) for this attempt */
	int too_big;			/* the body went past max_body */
};

void aws_response_init(struct aws_response *);
void aws_response_release(struct aws_response *);
/* 0 with *result for a 2xx answer, else -1 with err filled (service too). */
int aws_proto_parse(const struct aws_service *, const char *action,
    const struct aws_response *, cJSON **result, struct aws_error *err);
/* Structured error out of a failed answer (any protocol, any body). */
void aws_proto_error(const struct aws_service *, const struct aws_response *,
    struct aws_error *err);

/* Percent-encode per RFC 3986 (unreserved kept; with keep_slash '/' too). */
void aws_buf_urlencode(struct buf *, const char *, size_t, int keep_slash);
/* A scalar parameter as text ("true", "12", "1.5", the string). NULL for
 * objects/arrays/null. Caller frees. */
char *aws_scalar_text(const cJSON *);

/* --- aws.c --- */

void aws_error_set(struct aws_error *, long status, const char *service,
    const char *code, const char *message, const char *request_id);
/* Whether an error is worth another attempt (throttling, transient, 5xx,
 * network). */
int aws_error_retryable(const struct aws_error *);

/* --- http.c --- */

struct aws_conn;

struct aws_client {
	struct aws_options opt;
	char *region;
	struct aws_creds creds;
	int have_creds;
	int max_attempts;
	long timeout_ms;
	CURLSH *share;
	struct aws_conn *conns;		/* one kept easy handle per endpoint */
	int self_netns_fd;		/* /proc/self/ns/net when opt.netns_fd >= 0 */
	unsigned long long rng;
	double deadline;		/* now_ms() bound set by aws_wait, 0 = none */
	size_t max_body;		/* response body cap in bytes */
	char *config_error;		/* a bad MLSH_MAX_BODY: every call fails */
};

/* The response body cap when nothing sets one: far above any page the
 * stack reads (a full DescribeInstances page is a few MB), far below what
 * would hurt the machine. */
#define AWS_DEFAULT_MAX_BODY	(64UL * 1024 * 1024)

/* One attempt of one call, prepared, sent (alone or in a multi) and finished. */
struct aws_attempt {
	struct aws_client *client;
	const struct aws_service *svc;
	const char *action;
	const struct aws_creds *creds;
	int attempt;			/* 1-based */
	char *url;
	struct aws_request req;
	struct aws_response resp;
	CURL *easy;
	int own_easy;			/* free easy at release (multi) */
	struct curl_slist *hdrs;
	char errbuf[CURL_ERROR_SIZE];
	char *trace_head;		/* request part of the trace */
	double t0;
};

int aws_http_global_init(void);
int aws_http_client_init(struct aws_client *, char **cause);
void aws_http_client_release(struct aws_client *);
/* Sign and set up the handle (kept per endpoint unless use_own_easy). */
int aws_attempt_prepare(struct aws_attempt *, int use_own_easy,
    struct aws_error *err);
/* After the transfer: status, headers, trace; a network failure becomes an
 * error with http_status 0. Returns 0 when an HTTP answer came. */
int aws_attempt_finish(struct aws_attempt *, CURLcode, struct aws_error *err);
void aws_attempt_release(struct aws_attempt *);

#endif
