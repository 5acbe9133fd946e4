#!/usr/bin/env bash
# quotas.t: the strict AWS's "quotas" switch (Service Quotas GetServiceQuota,
# JSON 1.1) and "sagemaker_limit" (CreateNotebookInstance answers
# ResourceLimitExceeded). Checked with the AWS CLI and boto3.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export MLSH="${MLSH:-$ROOT/mlsh}" TESTS_DIR="${TESTS_DIR:-$ROOT/tests}"
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/strict/lib.sh"
strict_start
u="qt$$"

t_out 'the AWS CLI reads a configured quota, with its real name' \
	"$(printf 'L-6E869C2A\tRunning On-Demand DL instances\t96.0')" '
	strict_set "{\"quotas\": {\"ec2/L-6E869C2A\": 96, \"sagemaker/L-619D6E43\": 0}}" &&
	scli service-quotas get-service-quota --service-code ec2 --quota-code L-6E869C2A \
		--query "[Quota.QuotaCode, Quota.QuotaName, Quota.Value]" --output text'

t_out 'sagemaker: the ml.p3.8xlarge notebook quota' "$(printf 'ml.p3.8xlarge for notebook instance usage\t0.0')" '
	scli service-quotas get-service-quota --service-code sagemaker --quota-code L-619D6E43 \
		--query "[Quota.QuotaName, Quota.Value]" --output text'

t_out 'an unknown code: NoSuchResourceException (botocore parses the JSON 1.1 error)' 'NoSuchResourceException' '
	spy "print(err(sq.get_service_quota, ServiceCode=\"ec2\", QuotaCode=\"L-417A185B\"))"'

t_out 'list answers the configured quotas of a service' 'L-6E869C2A' '
	scli service-quotas list-service-quotas --service-code ec2 --query "Quotas[].QuotaCode" --output text'

t_ok 'off: Service Quotas requests reach moto unchanged' '
	strict_reset && [ "$(strict_log | tail -1)" = "" ] &&
	spy "sq.get_service_quota(ServiceCode=\"ec2\", QuotaCode=\"L-6E869C2A\")" >/dev/null 2>&1;
	strict_log | grep -q "servicequotas GetServiceQuota [0-9]*$"'

t_out 'sagemaker_limit 1: the first ml.p3.8xlarge notebook is made, the second refused' \
	'ok|ResourceLimitExceeded|The account-level service limit '"'"'ml.p3.8xlarge for notebook instance usage'"'"' is 1 Instances, with current utilization of 1 Instances and a request delta of 1 Instances. Please use AWS Service Quotas to request an increase for this quota. If AWS Service Quotas is not available, contact AWS support to request an increase for this quota.' '
	strict_set "{\"sagemaker_limit\": {\"ml.p3.8xlarge\": 1}}" && spy "
kw = dict(InstanceType=\"ml.p3.8xlarge\", RoleArn=\"arn:aws:iam::123456789012:role/r\")
a = err(sm.create_notebook_instance, NotebookInstanceName=\"'$u'a\", **kw)
try:
    sm.create_notebook_instance(NotebookInstanceName=\"'$u'b\", **kw)
except botocore.exceptions.ClientError as e:
    print(a + \"|\" + e.response[\"Error\"][\"Code\"] + \"|\" + e.response[\"Error\"][\"Message\"])"'

t_out 'sagemaker_limit: other types are not limited' 'ok' '
	spy "print(err(sm.create_notebook_instance, NotebookInstanceName=\"'$u'c\", InstanceType=\"ml.t3.medium\", RoleArn=\"arn:aws:iam::123456789012:role/r\"))"'

strict_reset
t_done
