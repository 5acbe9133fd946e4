/* fuzz_xml.c: libFuzzer target for the XML side of responses: the XML to
 * cJSON converter, a successful EC2/query response (wrapper unwrapping,
 * RequestId) and the XML error parser. Built by tests/fuzz/run. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/internal.h"
#include "aws/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const svcs[] = { "ec2", "iam" };
	struct aws_response r;
	struct aws_error err;
	cJSON *v;
	char *cause = NULL, *root = NULL, *line;
	size_t i;

	v = awsxml_parse((const char *)data, size, &root, &cause);
	if ((v == NULL) == (cause == NULL))
		abort();	/* exactly one of a value and a cause */
	cJSON_Delete(v);
	free(root);
	free(cause);

	for (i = 0; i < 2; i++) {
		memset(&err, 0, sizeof err);
		aws_response_init(&r);
		r.status = (i == 0) ? 200 : 400 + (size % 200);
		buf_add(&r.body, data, size);
		v = NULL;
		if (aws_proto_parse(aws_service_find(svcs[i]), "DescribeVpcs", &r,
		    &v, &err) != 0) {
			if (err.code == NULL || v != NULL)
				abort();
			line = aws_error_line(&err);
			free(line);
		}
		cJSON_Delete(v);
		aws_error_release(&err);
		aws_response_release(&r);
	}
	return 0;
}
