/* protocol.c: the four AWS protocols mlsh speaks, requests and responses.
 *
 *  EC2 / query   form-encoded POST (Action, Version, flattened params); XML back
 *  JSON 1.1      POST / with the params as body and X-Amz-Target; JSON back
 *  REST-JSON     the operation's method and URI template (efs_ops.inc), members
 *                bound to URI/query/headers, the rest as JSON body; JSON back */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/internal.h"
#include "aws/xml.h"

static void flatten(struct buf *, int ec2, const char *key, const cJSON *);
static int build_rest(const struct aws_service *, const char *action,
    const cJSON *params, struct aws_request *, char **cause);
static char *error_snippet(const char *body, size_t len);

void
aws_request_init(struct aws_request *r)
{
	memset(r, 0, sizeof *r);
	buf_init(&r->body);
	strlist_init(&r->headers);
}

void
aws_request_release(struct aws_request *r)
{
	free(r->path);
	free(r->query);
	buf_release(&r->body);
	free(r->target);
	strlist_release(&r->headers);
	memset(r, 0, sizeof *r);
}

void
aws_response_init(struct aws_response *r)
{
	memset(r, 0, sizeof *r);
	buf_init(&r->body);
}

void
aws_response_release(struct aws_response *r)
{
	buf_release(&r->body);
	free(r->request_id);
	free(r->error_type);
	memset(r, 0, sizeof *r);
}

int
aws_proto_build(const struct aws_service *svc, const char *action,
    const cJSON *params, struct aws_request *r, char **cause)
{
	const cJSON *p;
	char *s;

	if (params != NULL && !cJSON_IsObject(params)) {
		*cause = xasprintf("%s %s: parameters must be an object",
		    svc->name, action);
		return -1;
	}
	switch (svc->protocol) {
	case AWS_PROTO_EC2:
	case AWS_PROTO_QUERY:
		r->method = "POST";
		r->path = xstrdup("/");
		r->query = xstrdup("");
		r->content_type =
		    "application/x-www-form-urlencoded; charset=utf-8";
		buf_adds(&r->body, "Action=");
		aws_buf_urlencode(&r->body, action, strlen(action), 0);
		buf_adds(&r->body, "&Version=");
		aws_buf_urlencode(&r->body, svc->api_version,
		    strlen(svc->api_version), 0);
		if (params != NULL) {
			cJSON_ArrayForEach(p, params)
				flatten(&r->body, svc->protocol == AWS_PROTO_EC2,
				    p->string, p);
		}
		return 0;
	case AWS_PROTO_JSON:
		r->method = "POST";
		r->path = xstrdup("/");
		r->query = xstrdup("");
		r->content_type = "application/x-amz-json-1.1";
		r->target = xasprintf("%s.%s", svc->target_prefix, action);
		if (params == NULL) {
			buf_adds(&r->body, "{}");
		} else {
			s = cJSON_PrintUnformatted(params);
			buf_adds(&r->body, s);
			cJSON_free(s);
		}
		return 0;
	case AWS_PROTO_REST_JSON:
		return build_rest(svc, action, params, r, cause);
	}
	*cause = xstrdup("unknown protocol");
	return -1;
}

void
aws_buf_urlencode(struct buf *b, const char *s, size_t n, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
		    (keep_slash && c == '/')) {
			buf_addc(b, (char)c);
		} else {
			buf_addc(b, '%');
			buf_addc(b, hex[c >> 4]);
			buf_addc(b, hex[c & 15]);
		}
	}
}

char *
aws_scalar_text(const cJSON *v)
{
	double d;

	if (cJSON_IsString(v))
		return xstrdup(v->valuestring);
	if (cJSON_IsBool(v))
		return xstrdup(cJSON_IsTrue(v) ? "true" : "false");
	if (cJSON_IsNumber(v)) {
		d = v->valuedouble;
		if (isfinite(d) && d == floor(d) && fabs(d) < 9e15)
			return xasprintf("%.0f", d);
		return xasprintf("%.17g", d);
	}
	return NULL;
}

/* EC2: lists are Key.N (the caller names the members, "Filter" not
 * "Filters"); query: Key.member.N. Structures: Key.Sub. */
static void
flatten(struct buf *b, int ec2, const char *key, const cJSON *v)
{
	const cJSON *c;
	char *k, *s;
	int i = 0;

	if (cJSON_IsObject(v)) {
		cJSON_ArrayForEach(c, v) {
			k = xasprintf("%s.%s", key, c->string);
			flatten(b, ec2, k, c);
			free(k);
		}
	} else if (cJSON_IsArray(v)) {
		if (!ec2 && cJSON_GetArraySize(v) == 0) {
			/* What botocore sends for an empty query list. */
			buf_addc(b, '&');
			aws_buf_urlencode(b, key, strlen(key), 0);
			buf_addc(b, '=');
		}
		cJSON_ArrayForEach(c, v) {
			k = ec2 ? xasprintf("%s.%d", key, ++i) :
			    xasprintf("%s.member.%d", key, ++i);
			flatten(b, ec2, k, c);
			free(k);
		}
	} else if ((s = aws_scalar_text(v)) != NULL) {
		buf_addc(b, '&');
		aws_buf_urlencode(b, key, strlen(key), 0);
		buf_addc(b, '=');
		aws_buf_urlencode(b, s, strlen(s), 0);
		free(s);
	}
}

static const struct aws_rest_member *
rest_member(const struct aws_rest_op *op, const char *name)
{
	size_t i;

	for (i = 0; i < op->nmembers; i++) {
		if (strcmp(op->members[i].name, name) == 0)
			return &op->members[i];
	}
	return NULL;
}

static void
query_add(struct buf *q, const char *name, const char *value)
{
	if (q->len > 0)
		buf_addc(q, '&');
	aws_buf_urlencode(q, name, strlen(name), 0);
	buf_addc(q, '=');
	aws_buf_urlencode(q, value, strlen(value), 0);
}

static int
build_rest(const struct aws_service *svc, const char *action,
    const cJSON *params, struct aws_request *r, char **cause)
{
	const struct aws_rest_op *op = aws_rest_op_find(svc, action);
	const struct aws_rest_member *m;
	const cJSON *p, *e;
	cJSON *body;
	struct buf path, query;
	const char *t, *end;
	char *s, *label;
	int greedy;

	if (op == NULL) {
		*cause = xasprintf("%s: unknown operation %s", svc->name, action);
		return -1;
	}
	buf_init(&path);
	buf_init(&query);
	/* The URI template, labels filled from the params. */
	for (t = op->uri; *t != '\0' && *t != '?'; t++) {
		if (*t != '{') {
			buf_addc(&path, *t);
			continue;
		}
		end = strchr(t, '}');
		if (end == NULL)
			break;
		label = xstrndup(t + 1, (size_t)(end - t - 1));
		greedy = str_endswith(label, "+");
		if (greedy)
			label[strlen(label) - 1] = '\0';
		s = NULL;
		if (params != NULL)
			s = aws_scalar_text(cJSON_GetObjectItemCaseSensitive(params,
			    label));
		if (s == NULL || *s == '\0') {
			*cause = xasprintf("%s %s: missing required parameter %s",
			    svc->name, action, label);
			free(s);
			free(label);
			buf_release(&path);
			buf_release(&query);
			return -1;
		}
		aws_buf_urlencode(&path, s, strlen(s), greedy);
		free(s);
		free(label);
		t = end;
	}
	if (*t == '?')
		buf_adds(&query, t + 1);

	body = cJSON_CreateObject();
	if (params != NULL) {
		cJSON_ArrayForEach(p, params) {
			m = rest_member(op, p->string);
			if (m == NULL) {
				cJSON_AddItemToObject(body, p->string,
				    cJSON_Duplicate(p, 1));
				continue;
			}
			if (m->loc == AWS_LOC_QUERY && cJSON_IsArray(p)) {
				cJSON_ArrayForEach(e, p) {
					if ((s = aws_scalar_text(e)) != NULL) {
						query_add(&query, m->loc_name, s);
						free(s);
					}
				}
			} else if (m->loc == AWS_LOC_QUERY) {
				if ((s = aws_scalar_text(p)) != NULL) {
					query_add(&query, m->loc_name, s);
					free(s);
				}
			} else if (m->loc == AWS_LOC_HEADER) {
				if ((s = aws_scalar_text(p)) != NULL) {
					strlist_take(&r->headers, xasprintf(
					    "%s: %s", m->loc_name, s));
					free(s);
				}
			}
			/* AWS_LOC_URI: already in the path. */
		}
	}
	r->method = op->method;
	r->path = buf_detach(&path);
	r->query = buf_detach(&query);
	if (cJSON_GetArraySize(body) > 0 || strcmp(op->method, "POST") == 0 ||
	    strcmp(op->method, "PUT") == 0) {
		s = cJSON_PrintUnformatted(body);
		buf_adds(&r->body, s);
		cJSON_free(s);
		r->content_type = "application/json";
	}
	cJSON_Delete(body);
	buf_release(&path);
	buf_release(&query);
	return 0;
}

/* --- responses --- */

static void
xml_tidy(cJSON *root, const char *action)
{
	cJSON *res, *c, *meta, *rid;
	char *wrapper = xasprintf("%sResult", action);

	res = cJSON_DetachItemFromObjectCaseSensitive(root, wrapper);
	free(wrapper);
	if (res != NULL) {
		if (cJSON_IsObject(res)) {
			while ((c = res->child) != NULL) {
				cJSON_DetachItemViaPointer(res, c);
				if (cJSON_GetObjectItemCaseSensitive(root,
				    c->string) != NULL) {
					cJSON_Delete(c);
					continue;
				}
				cJSON_AddItemToObject(root, c->string, c);
			}
		}
		cJSON_Delete(res);
	}
	meta = cJSON_DetachItemFromObjectCaseSensitive(root, "ResponseMetadata");
	if (meta != NULL) {
		rid = cJSON_DetachItemFromObjectCaseSensitive(meta, "RequestId");
		if (cJSON_IsString(rid) &&
		    !cJSON_HasObjectItem(root, "RequestId"))
			cJSON_AddItemToObject(root, "RequestId", rid);
		else
			cJSON_Delete(rid);
		cJSON_Delete(meta);
	}
	rid = cJSON_DetachItemFromObjectCaseSensitive(root, "requestId");
	if (rid != NULL) {
		if (cJSON_IsString(rid) &&
		    !cJSON_HasObjectItem(root, "RequestId"))
			cJSON_AddItemToObject(root, "RequestId", rid);
		else
			cJSON_Delete(rid);
	}
}

int
aws_proto_parse(const struct aws_service *svc, const char *action,
    const struct aws_response *resp, cJSON **result, struct aws_error *err)
{
	cJSON *v;
	char *cause = NULL, *msg;
	size_t i;

	*result = NULL;
	if (resp->status < 200 || resp->status > 299) {
		aws_proto_error(svc, resp, err);
		return -1;
	}
	for (i = 0; i < resp->body.len && isspace((unsigned char)
	    resp->body.data[i]); i++)
		;
	if (i == resp->body.len) {
		*result = cJSON_CreateObject();
		return 0;
	}
	if (svc->protocol == AWS_PROTO_EC2 || svc->protocol == AWS_PROTO_QUERY) {
		v = awsxml_parse(resp->body.data, resp->body.len, NULL, &cause);
		if (v != NULL && !cJSON_IsObject(v)) {
			cJSON_Delete(v);
			v = cJSON_CreateObject();
		}
		if (v != NULL)
			xml_tidy(v, action);
	} else {
		v = cJSON_ParseWithLength(resp->body.data, resp->body.len);
		if (v == NULL)
			cause = xstrdup("malformed JSON");
	}
	if (v == NULL) {
		msg = xasprintf("cannot parse the %s response: %s", action, cause);
		aws_error_set(err, resp->status, svc->name, "InvalidResponse",
		    msg, resp->request_id);
		free(msg);
		free(cause);
		return -1;
	}
	*result = v;
	return 0;
}

static const char *
json_str(const cJSON *o, const char *a, const char *b, const char *c)
{
	const char *keys[3] = { a, b, c };
	const cJSON *v;
	int i;

	for (i = 0; i < 3; i++) {
		if (keys[i] == NULL)
			continue;
		v = cJSON_GetObjectItemCaseSensitive(o, keys[i]);
		if (cJSON_IsString(v) && v->valuestring[0] != '\0')
			return v->valuestring;
	}
	return NULL;
}

/* "prefix#Code:http://…" -> "Code" */
static char *
clean_code(const char *code)
{
	const char *hash = strchr(code, '#');
	size_t n;

	if (hash != NULL)
		code = hash + 1;
	n = strcspn(code, ":");
	return xstrndup(code, n);
}

static const char *
status_code_name(long status)
{
	switch (status) {
	case 400: return "BadRequest";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "NotFound";
	case 405: return "MethodNotAllowed";
	case 409: return "Conflict";
	case 413: return "RequestEntityTooLarge";
	case 429: return "TooManyRequestsException";
	case 500: return "InternalFailure";
	case 502: return "BadGateway";
	case 503: return "ServiceUnavailable";
	case 504: return "GatewayTimeout";
	}
	return NULL;
}

void
aws_proto_error(const struct aws_service *svc,
    const struct aws_response *resp, struct aws_error *err)
{
	const char *body = resp->body.data ? resp->body.data : "";
	size_t len = resp->body.len, i;
	cJSON *v = NULL;
	const cJSON *e;
	const char *code = NULL, *msg = NULL, *rid = NULL;
	char *cause = NULL, *ccode = NULL, *fallback = NULL, *snip;
	char numcode[32];

	for (i = 0; i < len && isspace((unsigned char)body[i]); i++)
		;
	if (i < len && body[i] == '<') {
		char *root = NULL;

		v = awsxml_parse(body, len, &root, &cause);
		if (cJSON_IsObject(v)) {
			/* EC2: Response/Errors/Error; query: ErrorResponse/Error;
			 * bare <Error> elsewhere. */
			e = cJSON_GetObjectItemCaseSensitive(v, "Errors");
			if (cJSON_IsObject(e))
				e = cJSON_GetObjectItemCaseSensitive(e, "Error");
			else
				e = cJSON_GetObjectItemCaseSensitive(v, "Error");
			if (cJSON_IsArray(e))
				e = cJSON_GetArrayItem(e, 0);
			if (e == NULL && root != NULL &&
			    strcmp(root, "Error") == 0)
				e = v;
			if (cJSON_IsObject(e)) {
				code = json_str(e, "Code", NULL, NULL);
				msg = json_str(e, "Message", "message", NULL);
				rid = json_str(e, "RequestId", NULL, NULL);
			}
			if (rid == NULL)
				rid = json_str(v, "RequestID", "RequestId",
				    "requestId");
		}
		free(root);
	} else if (i < len && body[i] == '{') {
		v = cJSON_ParseWithLength(body, len);
		if (cJSON_IsObject(v)) {
			code = json_str(v, "__type", "code", "Code");
			msg = json_str(v, "message", "Message", "errorMessage");
		}
	}
	free(cause);
	/* REST-JSON says it in a header, which wins over the body. */
	if (resp->error_type != NULL && resp->error_type[0] != '\0')
		code = resp->error_type;
	if (code != NULL)
		ccode = clean_code(code);
	if (rid == NULL)
		rid = resp->request_id;
	if (ccode == NULL || *ccode == '\0') {
		free(ccode);
		code = status_code_name(resp->status);
		if (code == NULL) {
			snprintf(numcode, sizeof numcode, "HTTP%ld",
			    resp->status);
			code = numcode;
		}
		ccode = xstrdup(code);
	}
	if (msg == NULL) {
		snip = error_snippet(body, len);
		if (*snip != '\0')
			fallback = xasprintf("HTTP %ld: %s", resp->status, snip);
		else
			fallback = xasprintf("HTTP %ld", resp->status);
		free(snip);
		msg = fallback;
	}
	aws_error_set(err, resp->status, svc->name, ccode, msg, rid);
	free(ccode);
	free(fallback);
	cJSON_Delete(v);
}

/* The text of a non-AWS body (an HTML page from a proxy): tags dropped,
 * blanks folded, printable only, at most 160 characters. */
static char *
error_snippet(const char *body, size_t len)
{
	struct buf b;
	size_t i;
	int in_tag = 0, space = 0;

	buf_init(&b);
	for (i = 0; i < len && b.len < 160; i++) {
		unsigned char c = (unsigned char)body[i];

		if (c == '<') {
			in_tag = 1;
			space = 1;
			continue;
		}
		if (in_tag) {
			if (c == '>')
				in_tag = 0;
			continue;
		}
		if (isspace(c) || c < 0x20 || c == 0x7f) {
			space = 1;
			continue;
		}
		if (space && b.len > 0)
			buf_addc(&b, ' ');
		space = 0;
		buf_addc(&b, (char)c);
	}
	return buf_detach_release(&b);
}
