/* services.c: the services mlsh speaks to, their endpoints, and the tables
 * generated from botocore's models (scripts/gen-efs-ops.py). */
#include <stdlib.h>
#include <string.h>

#include "aws/internal.h"

/* Names and versions as in botocore's data/<svc>/<version>/service-2.json. */
static const struct aws_service svc_ec2 = {
	.name = "ec2", .endpoint_prefix = "ec2", .signing_name = "ec2",
	.env_name = "EC2", .protocol = AWS_PROTO_EC2, .api_version = "2016-11-15",
};
static const struct aws_service svc_iam = {
	.name = "iam", .endpoint_prefix = "iam", .signing_name = "iam",
	.env_name = "IAM", .protocol = AWS_PROTO_QUERY, .api_version = "2010-05-08",
	.global = 1,
};
static const struct aws_service svc_sts = {
	.name = "sts", .endpoint_prefix = "sts", .signing_name = "sts",
	.env_name = "STS", .protocol = AWS_PROTO_QUERY, .api_version = "2011-06-15",
};
static const struct aws_service svc_cloudwatch = {
	.name = "cloudwatch", .endpoint_prefix = "monitoring",
	.signing_name = "monitoring", .env_name = "CLOUDWATCH",
	.protocol = AWS_PROTO_QUERY, .api_version = "2010-08-01",
};
static const struct aws_service svc_sagemaker = {
	.name = "sagemaker", .endpoint_prefix = "api.sagemaker",
	.signing_name = "sagemaker", .env_name = "SAGEMAKER",
	.protocol = AWS_PROTO_JSON, .api_version = "2017-07-24",
	.target_prefix = "SageMaker", .json_version = "1.1",
};
static const struct aws_service svc_ssm = {
	.name = "ssm", .endpoint_prefix = "ssm", .signing_name = "ssm",
	.env_name = "SSM", .protocol = AWS_PROTO_JSON, .api_version = "2014-11-06",
	.target_prefix = "AmazonSSM", .json_version = "1.1",
};
/* CloudWatch Logs: botocore data/logs/2014-03-28 (the notebook's lifecycle
 * logs, group /aws/sagemaker/NotebookInstances). */
static const struct aws_service svc_logs = {
	.name = "logs", .endpoint_prefix = "logs", .signing_name = "logs",
	.env_name = "CLOUDWATCH_LOGS", .protocol = AWS_PROTO_JSON,
	.api_version = "2014-03-28", .target_prefix = "Logs_20140328",
	.json_version = "1.1",
};
static const struct aws_service svc_efs = {
	.name = "efs", .endpoint_prefix = "elasticfilesystem",
	.signing_name = "elasticfilesystem", .env_name = "EFS",
	.protocol = AWS_PROTO_REST_JSON, .api_version = "2015-02-01",
};

/* Service Quotas: botocore data/service-quotas/2019-06-24 (endpoint
 * servicequotas.<region>.amazonaws.com, target ServiceQuotasV20190624). */
static const struct aws_service svc_servicequotas = {
	.name = "servicequotas", .endpoint_prefix = "servicequotas",
	.signing_name = "servicequotas", .env_name = "SERVICE_QUOTAS",
	.protocol = AWS_PROTO_JSON, .api_version = "2019-06-24",
	.target_prefix = "ServiceQuotasV20190624", .json_version = "1.1",
};

static const struct aws_service *const services[] = {
	&svc_ec2, &svc_iam, &svc_sts, &svc_cloudwatch, &svc_sagemaker, &svc_ssm,
	&svc_efs, &svc_servicequotas, &svc_logs, NULL,
};

#include "aws/efs_ops.inc"

const struct aws_service *
aws_service_find(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; services[i] != NULL; i++) {
		if (strcmp(services[i]->name, name) == 0)
			return services[i];
	}
	return NULL;
}

const struct aws_service *const *
aws_services(void)
{
	return services;
}

const struct aws_rest_op *
aws_rest_op_find(const struct aws_service *svc, const char *action)
{
	size_t i;

	if (svc != &svc_efs || action == NULL)
		return NULL;
	for (i = 0; i < sizeof aws_efs_ops / sizeof aws_efs_ops[0]; i++) {
		if (strcmp(aws_efs_ops[i].name, action) == 0)
			return &aws_efs_ops[i];
	}
	return NULL;
}

const char *
aws_idem_member(const struct aws_service *svc, const char *action)
{
	size_t i;

	for (i = 0; i < sizeof aws_idem_ops / sizeof aws_idem_ops[0]; i++) {
		if (strcmp(aws_idem_ops[i].service, svc->name) == 0 &&
		    strcmp(aws_idem_ops[i].action, action) == 0)
			return aws_idem_ops[i].member;
	}
	return NULL;
}

static char *
trim_slash(const char *url)
{
	size_t n = strlen(url);

	while (n > 0 && url[n - 1] == '/')
		n--;
	return xstrndup(url, n);
}

char *
aws_endpoint_url(const struct aws_service *svc, const char *region,
    const char *endpoint_override)
{
	char *name;
	const char *v;

	if (endpoint_override != NULL && *endpoint_override != '\0')
		return trim_slash(endpoint_override);
	name = xasprintf("AWS_ENDPOINT_URL_%s", svc->env_name);
	v = getenv(name);
	free(name);
	if (v != NULL && *v != '\0')
		return trim_slash(v);
	v = getenv("AWS_ENDPOINT_URL");
	if (v != NULL && *v != '\0')
		return trim_slash(v);
	if (svc->global)
		return xasprintf("https://%s.amazonaws.com", svc->endpoint_prefix);
	return xasprintf("https://%s.%s.amazonaws.com", svc->endpoint_prefix,
	    region);
}

const char *
aws_signing_region(const struct aws_service *svc, const char *region)
{
	return svc->global ? "us-east-1" : region;
}
