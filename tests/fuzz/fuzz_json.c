/* fuzz_json.c: libFuzzer target for JSON responses and the error parser of
 * every protocol: the first byte picks the service and status, the second
 * whether an x-amzn-ErrorType header is set; the rest is the body. Also
 * feeds the body as request params through the serialisers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const svcs[] = { "sagemaker", "ssm", "efs", "ec2",
	    "sts", "cloudwatch", "iam" };
	static const char *const efs_ops[] = { "DescribeFileSystems",
	    "DeleteFileSystem", "UntagResource", "CreateFileSystem" };
	const struct aws_service *svc;
	struct aws_response r;
	struct aws_request rq;
	struct aws_error err;
	cJSON *v = NULL, *params;
	char *line, *cause = NULL;
	uint8_t sel, hdr;

	if (size < 2)
		return 0;
	sel = data[0];
	hdr = data[1];
	data += 2;
	size -= 2;
	svc = aws_service_find(svcs[sel % 7]);

	memset(&err, 0, sizeof err);
	aws_response_init(&r);
	r.status = (sel & 0x80) ? 200 : 400 + (sel & 0x7f);
	if (hdr & 1)
		r.error_type = xstrndup((const char *)data, size < 40 ? size : 40);
	if (hdr & 2)
		r.request_id = xstrdup("fuzz-request-id");
	buf_add(&r.body, data, size);
	if (aws_proto_parse(svc, "Action", &r, &v, &err) != 0) {
		if (err.code == NULL || v != NULL)
			abort();
		line = aws_error_line(&err);
		free(line);
		(void)aws_error_retryable(&err);
	}
	cJSON_Delete(v);
	aws_error_release(&err);
	aws_response_release(&r);

	/* The same bytes as params: serialisers must not crash either. */
	params = cJSON_ParseWithLength((const char *)data, size);
	if (params != NULL) {
		aws_request_init(&rq);
		if (aws_proto_build(svc, svc->protocol == AWS_PROTO_REST_JSON ?
		    efs_ops[hdr % 4] : "Action", params, &rq, &cause) != 0)
			free(cause);
		aws_request_release(&rq);
		cJSON_Delete(params);
	}
	return 0;
}
