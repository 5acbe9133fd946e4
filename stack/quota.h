/* quota.h: Service Quotas read before anything costly starts.
 *
 * EC2 limits running instances by vCPUs per family class ("Running
 * On-Demand DL instances", "All P Spot Instance Requests" …); SageMaker
 * limits notebook instances per type ("ml.p3.8xlarge for notebook instance
 * usage"). Both default to 0 for GPU and Gaudi types on a new account, and
 * the launch fails only after roles, profiles and lifecycle configs were
 * made. These checks refuse first, with one line naming the quota, its
 * value, what the request needs and how to ask for more.
 *
 * An endpoint that does not know Service Quotas (moto, an account without
 * servicequotas:GetServiceQuota) gets one warning per session and the
 * check is skipped. */
#ifndef MLSH_QUOTA_H
#define MLSH_QUOTA_H

#include "stack/stack.h"

/* count more instances of itype (spot or on-demand) for what ("dl1-1").
 * 0 fits, or could not be checked (warned); -1 after stack_error. */
int quota_check_instances(struct stack *, const char *what, const char *itype,
    int count, int spot);

/* One more SageMaker notebook instance of itype ("ml.p3.8xlarge"). */
int quota_check_notebook(struct stack *, const char *itype);

/* The EC2 quota (code and name) that counts itype's vCPUs, or -1 when
 * mlsh knows none for its family. Borrowed static strings. */
int quota_ec2_code(const char *itype, int spot, const char **code,
    const char **name);

#endif
