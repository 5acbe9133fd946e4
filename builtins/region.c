/* region, profile: the AWS region and profile of the session. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "shell/shell.h"
#include "aws/aws.h"

/* The regions of the aws, aws-cn and aws-us-gov partitions, from
 * botocore's endpoints.json (botocore 1.43). `region`
 * refuses a name not here (a typo would fail every call later, far from
 * where it was typed); --force takes a region newer than this list. */
static const char *const regions[] = {
	"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1",
	"ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2",
	"ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
	"ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1",
	"ca-west-1", "cn-north-1", "cn-northwest-1", "eu-central-1",
	"eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1",
	"eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1",
	"mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-gov-east-1",
	"us-gov-west-1", "us-west-1", "us-west-2", NULL
};

static int
region_known(const char *r)
{
	for (size_t i = 0; regions[i] != NULL; i++)
		if (strcmp(regions[i], r) == 0)
			return 1;
	return 0;
}

/* "unknown region 'xx-nowhere-1' (did you mean eu-north-1?; known: …)". */
static int
region_unknown(struct mlsh_ctx *ctx, const char *r)
{
	struct buf b;
	const char *sug = cmd_suggest(r, regions);

	buf_init(&b);
	for (size_t i = 0; regions[i] != NULL; i++)
		buf_printf(&b, "%s%s", i ? " " : "", regions[i]);
	cmd_error(ctx, "unknown region '%s'%s%s%s; known: %s (--force for a "
	    "newer one)", r, sug ? " (did you mean " : "", sug ? sug : "",
	    sug ? "?)" : "", b.data);
	buf_release(&b);
	return 1;
}

static void
region_complete(struct mlsh_ctx *ctx, const struct cmd_args *a,
    const char *opt, int argi, const char *prefix, struct strlist *out)
{
	(void)ctx;
	(void)a;
	(void)opt;
	(void)argi;
	for (size_t i = 0; regions[i]; i++)
		if (str_startswith(regions[i], prefix))
			strlist_add(out, regions[i]);
}

static int
region_exec(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	const char *source;

	if (a->argc == 1) {
		if (!aws_region_ok(a->argv[0]))
			return cmd_usage_error(ctx, a, "'%s' is not a region "
			    "name (like us-east-1)", a->argv[0]);
		if (!region_known(a->argv[0]) && !cmd_opt_bool(a, "force"))
			return region_unknown(ctx, a->argv[0]);
		shell_aws_reset(ctx);	/* it borrowed the old string */
		free(ctx->region);
		ctx->region = xstrdup(a->argv[0]);
	}
	if (ctx->region != NULL)
		source = a->argc == 1 ? "set" : "--region";
	else if (getenv("AWS_REGION") && *getenv("AWS_REGION"))
		source = "AWS_REGION";
	else if (getenv("AWS_DEFAULT_REGION") && *getenv("AWS_DEFAULT_REGION"))
		source = "AWS_DEFAULT_REGION";
	else
		source = "profile or default";
	*result = cJSON_CreateObject();
	cJSON_AddStringToObject(*result, "region", shell_region(ctx));
	cJSON_AddStringToObject(*result, "source", source);
	return 0;
}

static int
profile_exec(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	const char *source;

	if (a->argc == 1) {
		if (!aws_profile_exists(a->argv[0]))
			return cmd_error(ctx, "no profile '%s' in the AWS "
			    "config or credentials file", a->argv[0]);
		shell_aws_reset(ctx);
		free(ctx->profile);
		ctx->profile = xstrdup(a->argv[0]);
	}
	if (ctx->profile != NULL)
		source = a->argc == 1 ? "set" : "--profile";
	else if (getenv("AWS_PROFILE") && *getenv("AWS_PROFILE"))
		source = "AWS_PROFILE";
	else
		source = "default";
	*result = cJSON_CreateObject();
	cJSON_AddStringToObject(*result, "profile",
	    aws_profile_name(ctx->profile));
	cJSON_AddStringToObject(*result, "source", source);
	cJSON_AddStringToObject(*result, "region", shell_region(ctx));
	return 0;
}

static void
profile_complete(struct mlsh_ctx *ctx, const struct cmd_args *a,
    const char *opt, int argi, const char *prefix, struct strlist *out)
{
	struct strlist names;

	(void)ctx;
	(void)a;
	(void)opt;
	(void)argi;
	strlist_init(&names);
	aws_profile_list(&names);
	for (size_t i = 0; i < names.n; i++)
		if (str_startswith(names.v[i], prefix))
			strlist_add(out, names.v[i]);
	strlist_release(&names);
}

static const struct mlsh_opt region_opts[] = {
	OPT_FORCE("take a region mlsh does not know yet"),
	OPT_END
};

const struct mlsh_cmd cmd_region_entry = {
	.name = "region",
	.summary = "show or set the AWS region of the session",
	.args_usage = "[REGION]",
	.help = "A region must be one mlsh knows (the aws, China and GovCloud "
	    "partitions); --force takes a newer one.",
	.opts = region_opts,
	.min_args = 0,
	.max_args = 1,
	.complete = region_complete,
	.exec = region_exec,
};

const struct mlsh_cmd cmd_profile_entry = {
	.name = "profile",
	.summary = "show or set the AWS profile of the session",
	.args_usage = "[PROFILE]",
	.help = "Profiles come from ~/.aws/credentials and ~/.aws/config "
	    "(AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE).",
	.min_args = 0,
	.max_args = 1,
	.complete = profile_complete,
	.exec = profile_exec,
};
