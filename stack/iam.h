/* iam.h: IAM roles and instance profiles for the stack builtins (node,
 * grafana, notebook).
 *
 * One role per purpose and workspace, named mlsh-<ws>-<purpose> under the
 * path /mlsh/<ws>/ (so `down` and --recover find a workspace's roles by
 * path, and names never collide between workspaces: IAM is global). Roles
 * are recorded in the workspace as "iam-<purpose>" (type "iam-role", id =
 * role name, attrs "arn"), profiles as "profile-<purpose>" (type
 * "instance-profile", id = profile name, attrs "arn"). Names are the
 * idempotency key: an existing role is adopted, never created twice. */
#ifndef MLSH_IAM_H
#define MLSH_IAM_H

#include "stack/stack.h"

#define IAM_POLICY_CLOUDWATCH_AGENT \
	"arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"
#define IAM_POLICY_CLOUDWATCH_READ \
	"arn:aws:iam::aws:policy/CloudWatchReadOnlyAccess"
#define IAM_POLICY_SAGEMAKER \
	"arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"

struct iam_role_spec {
	const char *purpose;		/* "node", "grafana", "notebook" */
	const char *service;		/* trusted: "ec2.amazonaws.com" */
	const char *const *policies;	/* managed policy ARNs, NULL-ended */
	int profile;			/* also an instance profile (EC2) */
};

/* Make (or adopt) the role, attach its policies, and with spec->profile
 * make the instance profile holding it; waits until IAM answers for the
 * profile. *role_arn and *profile_name are borrowed from the records ("<…>"
 * placeholders in a dry run). -1 after stack_error. */
int iam_ensure(struct stack *, const struct iam_role_spec *,
    const char **role_arn, const char **profile_name);

/* Delete purpose's profile then role (detaching policies first), unless
 * another record still uses them. Used by `node down` on the last node,
 * `grafana down`, `notebook down`; `down` goes through the types table. */
int iam_remove(struct stack *, const char *purpose);

/* The IAM role name for purpose in this workspace. Caller frees. */
char *iam_role_name(struct stack *, const char *purpose);

#endif
