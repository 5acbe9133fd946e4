/* sagemaker.h: SageMaker helpers the notebook command and the stack's
 * notebook / lifecycle-config types share (stack/sagemaker.c). */
#ifndef MLSH_SAGEMAKER_H
#define MLSH_SAGEMAKER_H

#include <cjson/cJSON.h>
#include "stack/stack.h"

#define NB_ROLE		"notebook"
#define NB_LC_ROLE	"notebook-lc"

/* "<ws>-<suffix>" as a SageMaker name: [a-zA-Z0-9](-*[a-zA-Z0-9])*, at
 * most 63 characters. Caller frees. */
char *stack_sm_name(struct stack *, const char *suffix);
/* DescribeNotebookInstance of name (counted in st->ncalls). */
int stack_sm_describe(struct stack *, const char *name, cJSON **res,
    struct aws_error *);
/* A notebook's attrs (state, instance_type, subnet, arn, name, url) from a
 * DescribeNotebookInstance answer. */
void stack_sm_attrs(cJSON *attrs, const cJSON *item);

#endif
