/* creds.h: the AWS SDK credential and region chain (internal to aws/).
 *
 * Order: environment keys (+ session token); the profile (--profile, else
 * AWS_PROFILE, else "default") from ~/.aws/credentials and ~/.aws/config
 * (AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE honoured): static keys,
 * role_arn + source_profile through STS AssumeRole (cached until expiry),
 * credential_process; then IMDSv2, only on an EC2 machine. */
#ifndef MLSH_CREDS_H
#define MLSH_CREDS_H

#include "aws/aws.h"
#include "lib/util.h"

/* A value of the named profile: config file ("[profile NAME]", or "[default]")
 * first for config keys, credentials file ("[NAME]") first for keys. Caller
 * frees; NULL when absent. */
char *aws_config_get(const char *profile, const char *key);

/* aws_profile_exists, aws_profile_list, aws_region_resolve and
 * aws_profile_name are public: aws/aws.h. */

/* Resolve credentials; c is used for STS AssumeRole. 0, or -1 with err code
 * "NoCredentials" (message names every source tried) or the STS error. */
int aws_creds_resolve(struct aws_client *c, const char *profile,
    struct aws_creds *out, struct aws_error *err);

/* Make one call signed with the given credentials instead of the client's
 * (used for AssumeRole with the source profile). Same contract as aws_call. */
int aws_call_with_creds(struct aws_client *, const struct aws_creds *,
    const char *service, const char *action, const cJSON *params,
    cJSON **result, struct aws_error *err);

/* Whether this machine is an EC2 instance (DMI sys_vendor / board_asset_tag /
 * product_uuid under /sys/devices/virtual/dmi/id). Never touches the network. */
int aws_on_ec2(void);

#endif
