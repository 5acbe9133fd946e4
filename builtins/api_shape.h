/* api_shape.h: `api` results shaped like the AWS CLI's (botocore's output
 * shapes, compiled in from builtins/api_shapes.inc). */
#ifndef MLSH_API_SHAPE_H
#define MLSH_API_SHAPE_H

#include <stddef.h>
#include <cjson/cJSON.h>

/* The response of action k of service s (indexes into api_actions[]) as the
 * AWS CLI prints it: the output shape's member names (XML locationNames
 * mapped back), lists always arrays, booleans and numbers typed, timestamps
 * ISO 8601, members the shape does not know dropped (RequestId among them).
 * xml: the tree came from an EC2/query XML response (aws/xml.c's model).
 * Returns a new tree; raw is left alone. */
cJSON *api_shape_output(size_t s, size_t k, int xml, const cJSON *raw);

/* An AWS timestamp (epoch seconds, a number or its text, or ISO 8601 text)
 * as Python's datetime.isoformat() prints botocore's parse of it:
 * "2026-12-02T10:34:59+00:00", ".123456" when there is a fraction; an ISO
 * text keeps its own offset. NULL when v is none of these. */
char *api_iso_timestamp(const cJSON *v);

#endif
