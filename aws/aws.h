/* aws.h: mlsh's AWS client: credentials, endpoints, SigV4 over libcurl, the
 * EC2/query/JSON 1.1/REST-JSON protocols, errors, retries, pagination, waiters.
 *
 * Every response becomes one data model: a cJSON tree (XML lists of item/member
 * become arrays), so builtins never see XML. This layer never prints and never
 * exits: failures come back as a struct aws_error; traces go to a callback. */
#ifndef MLSH_AWS_H
#define MLSH_AWS_H

#include <stddef.h>
#include <time.h>
#include <cjson/cJSON.h>

enum aws_protocol {
	AWS_PROTO_EC2,		/* query request, EC2-style XML response */
	AWS_PROTO_QUERY,	/* IAM, STS, CloudWatch: query request, XML response */
	AWS_PROTO_JSON,		/* JSON 1.1 with X-Amz-Target: SageMaker, SSM */
	AWS_PROTO_REST_JSON,	/* EFS */
};

struct aws_service {
	const char *name;		/* mlsh's name: "ec2", "efs", "sagemaker" … */
	const char *endpoint_prefix;	/* "ec2", "elasticfilesystem", "api.sagemaker" */
	const char *signing_name;	/* "ec2", "elasticfilesystem", "sagemaker" */
	const char *env_name;		/* AWS_ENDPOINT_URL_<env_name>: "EC2", "EFS" … */
	enum aws_protocol protocol;
	const char *api_version;	/* "2016-11-15" */
	const char *target_prefix;	/* JSON 1.1: "SageMaker", "AmazonSSM" */
	const char *json_version;	/* JSON 1.1: "1.1" */
	int global;			/* IAM: one endpoint, signed for us-east-1 */
};

/* Whether r looks like an AWS region: ^[a-z]{2}(-[a-z]+)+-[0-9]+$, at most
 * 32 characters (us-east-1, us-gov-west-1, ap-southeast-5). The region
 * reaches URLs and the node's sourced config, so nothing else passes. */
int aws_region_ok(const char *r);

/* A size such as "64M", "1G", "500k" or "1048576" (bytes) as a number of
 * bytes; -1 when it is not one (or is 0). */
long long aws_parse_size(const char *);

/* The services mlsh knows; NULL when unknown. */
const struct aws_service *aws_service_find(const char *name);
/* NULL-terminated array of all known services (for completion and help). */
const struct aws_service *const *aws_services(void);

struct aws_error {
	long http_status;	/* 0 when the request never got an answer */
	char *service;		/* "ec2" */
	char *code;		/* "InvalidVpcID.NotFound", "RequestTimeout", "NoCredentials" */
	char *message;
	char *request_id;	/* NULL when none */
};
void aws_error_release(struct aws_error *);
/* "ec2: InvalidVpcID.NotFound: The vpc ID 'vpc-123' does not exist (request 1a2b…)" */
char *aws_error_line(const struct aws_error *);

struct aws_creds {
	char *access_key;
	char *secret_key;
	char *session_token;	/* NULL when none */
	time_t expires;		/* 0 when they do not expire */
	char *source;		/* "environment", "profile dev", "assume-role …", … */
};
void aws_creds_release(struct aws_creds *);

/* What the shell hands the client. All strings are borrowed for the client's
 * lifetime; NULL means "take it from the environment / config files". */
struct aws_options {
	const char *profile;		/* --profile, else AWS_PROFILE, else "default" */
	const char *region;		/* --region, else AWS_REGION, AWS_DEFAULT_REGION, profile;
					 * one that is not aws_region_ok fails every call */
	const char *endpoint_url;	/* --endpoint-url (all services) */
	int max_attempts;		/* 0 = default (3, as the SDKs' standard mode) */
	long timeout_ms;		/* per attempt; 0 = default (30 s) */
	/* Largest response body accepted, in bytes; 0 = MLSH_MAX_BODY, else
	 * 64 MiB. A larger answer fails the call ("ResponseTooLarge") as soon
	 * as it is known to be larger, without reading the rest. */
	size_t max_body;
	/* --trace: called once per request with a ready multi-line text in which
	 * the secret key, session token and signature are redacted. */
	void (*trace)(void *arg, const char *text);
	void *trace_arg;
	/* Polled during waits and between retries; non-zero cancels (Ctrl-C). */
	int (*interrupted)(void *arg);
	void *interrupted_arg;
	/* When >= 0, sockets are opened inside this network namespace (the lab's
	 * client namespace) with setns around socket creation. -1 otherwise. */
	int netns_fd;
};

struct aws_client;

struct aws_client *aws_client_new(const struct aws_options *);
void aws_client_free(struct aws_client *);
/* The resolved region (never NULL: "us-east-1" as the last resort). */
const char *aws_client_region(struct aws_client *);
/* Resolve credentials now (cached until expiry). 0, or -1 with *err set
 * (code "NoCredentials", message naming every source tried). */
int aws_client_creds(struct aws_client *, const struct aws_creds **out,
    struct aws_error *err);

/*
 * One call. params is borrowed and may be NULL:
 *  - EC2/query: a cJSON object. Values that are strings/numbers/bools are sent
 *    as they are under their key ("Filter.1.Name" is fine); nested arrays and
 *    objects are flattened with the protocol's rules (EC2: Key.N.Sub; query:
 *    Key.member.N.Sub).
 *  - JSON 1.1: the object is the request body.
 *  - REST-JSON: members bound to the URI/query/headers by the operation's
 *    model go there, the rest into the body.
 * On success returns 0 and *result (caller frees) holds the response:
 *  - XML: the children of the root element, with any <ActionResult> wrapper
 *    unwrapped and ResponseMetadata/RequestId kept as "RequestId".
 *  - JSON: the parsed body ({} when empty).
 * On failure returns -1 and fills *err. Retries (throttling, 5xx, timeouts,
 * connection resets) happen inside, with exponential backoff and full jitter.
 * Creates that take a ClientToken/CreationToken get one generated when the
 * caller gave none, and the same token is reused across retries.
 */
int aws_call(struct aws_client *, const char *service, const char *action,
    const cJSON *params, cJSON **result, struct aws_error *err);

/* Several independent calls at once (curl multi). Each item gets its own
 * result or error; returns the number that failed. */
struct aws_batch_item {
	const char *service;
	const char *action;
	const cJSON *params;
	cJSON *result;		/* out */
	struct aws_error err;	/* out; code NULL on success */
};
int aws_call_many(struct aws_client *, struct aws_batch_item *, size_t n);

/* Pagination: repeats the call following NextToken/nextToken/Marker
 * (IsTruncated) until done, concatenating the array found at result_key
 * ("Vpcs", "FileSystems" …) into *items. More than max_pages pages (0 = 100)
 * is an error, code "PageLimitExceeded" naming the action and the limit,
 * with *items NULL: never a silently truncated list. */
int aws_paginate(struct aws_client *, const char *service, const char *action,
    const cJSON *params, const char *result_key, int max_pages,
    cJSON **items, struct aws_error *err);

/* Waiter: calls check(arg, &done, &status_text, err) with backoff (from
 * initial_ms, doubling, capped at max_ms, jittered) until it sets done, fails,
 * timeout_ms passes ("Timeout" error) or the interrupted hook fires
 * ("Interrupted" error). progress (may be NULL) is called after each poll
 * with the elapsed time and check's status text. */
typedef int (*aws_wait_check)(void *arg, int *done, char **status_text,
    struct aws_error *err);
typedef void (*aws_wait_progress)(void *arg, double elapsed_ms,
    const char *status_text);
int aws_wait(struct aws_client *, aws_wait_check check, void *arg,
    long initial_ms, long max_ms, long timeout_ms,
    aws_wait_progress progress, void *progress_arg, struct aws_error *err);
/* Sleep ms, polling the interrupted hook: 0, or -1 when it fired. */
int aws_sleep(struct aws_client *, long ms);

/* Profiles and region, from the environment and the shared files
 * (~/.aws/config, ~/.aws/credentials; AWS_CONFIG_FILE and
 * AWS_SHARED_CREDENTIALS_FILE honoured). For the shell's profile and region
 * settings; the client resolves its own. */
/* Whether a profile is defined in either file, and the names of all of
 * them (sorted, unique; added to out, a struct strlist from lib/util.h). */
struct strlist;
int aws_profile_exists(const char *profile);
void aws_profile_list(struct strlist *out);
/* Region: explicit, AWS_REGION, AWS_DEFAULT_REGION, the profile's "region",
 * else "us-east-1". Caller frees. */
char *aws_region_resolve(const char *explicit_region, const char *profile);
/* The profile name in effect: explicit, AWS_PROFILE, "default". Borrowed. */
const char *aws_profile_name(const char *explicit_profile);

/* One small GET for plain text (e.g. the caller's public address from
 * https://checkip.amazonaws.com), outside any AWS API. On a 2xx answer
 * returns 0 with *body (caller frees, at most 64 KiB), else -1 with *cause.
 * Bounded by timeout_ms. */
int aws_http_get_text(const char *url, long timeout_ms, char **body,
    char **cause);

#endif
