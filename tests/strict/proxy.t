#!/usr/bin/env bash
# proxy.t: the strict AWS with every switch off is transparent: the AWS CLI
# and boto3 through STRICT_URL see moto's answers; the control API merges,
# reports and resets switches. Loopback only.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export MLSH="${MLSH:-$ROOT/mlsh}" TESTS_DIR="${TESTS_DIR:-$ROOT/tests}"
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/strict/lib.sh"
strict_start
u="px$$"

t_out 'control: every switch off after reset' '{}' 'strict_get'

t_out 'ec2 (query/XML): a VPC made through the proxy is in moto' '10.91.0.0/16' '
	id=$(scli ec2 create-vpc --cidr-block 10.91.0.0/16 --query Vpc.VpcId --output text) &&
	mcli ec2 describe-vpcs --vpc-ids "$id" --query "Vpcs[0].CidrBlock" --output text'

t_out 'ec2: moto'"'"'s error passes through unchanged' 'InvalidVpcID.NotFound' '
	spy "print(err(ec2.describe_vpcs, VpcIds=[\"vpc-00000000deadbeef0\"]))"'

t_out 'iam (query/XML) through the proxy' "$u" '
	scli iam create-role --role-name '$u' --assume-role-policy-document "{}" >/dev/null &&
	mcli iam get-role --role-name '$u' --query Role.RoleName --output text'

t_out 'sagemaker (JSON 1.1) through the proxy' 'ml.t3.medium' '
	spy "sm.create_notebook_instance(NotebookInstanceName=\"'$u'\", InstanceType=\"ml.t3.medium\", RoleArn=\"arn:aws:iam::123456789012:role/'$u'\")" &&
	mcli sagemaker describe-notebook-instance --notebook-instance-name '$u' --query InstanceType --output text'

t_out 'efs (REST-JSON) through the proxy' 'ok' '
	id=$(scli efs create-file-system --creation-token '$u' --query FileSystemId --output text) &&
	[ "$(mcli efs describe-file-systems --file-system-id "$id" --query "FileSystems[0].CreationToken" --output text)" = '$u' ] &&
	echo ok'

t_out 'the same DescribeVpcs answer through the proxy and from moto' 'same' '
	a=$(scli ec2 describe-vpcs --filters Name=cidr,Values=10.91.0.0/16) &&
	b=$(mcli ec2 describe-vpcs --filters Name=cidr,Values=10.91.0.0/16) &&
	[ -n "$a" ] && [ "$a" = "$b" ] && echo same'

t_out 'control: set merges top-level keys, reset clears' '{"capacity": {"types": ["dl1.24xlarge"]}, "quotas": {"ec2/L-6E869C2A": 96}}
{}' '
	strict_set "{\"quotas\": {\"ec2/L-6E869C2A\": 96}}" && strict_set "{\"capacity\": {\"types\": [\"dl1.24xlarge\"]}}" &&
	strict_get && strict_reset && strict_get'

t_out 'control: an unknown switch is refused with 400' '400' '
	curl -s -o /dev/null -w "%{http_code}" -X POST --data "{\"nosuch\": 1}" "$STRICT_URL/_strict/config"'

t_out 'control: all turns every switch on' 'capacity catalogue consistency eni iam offerings quotas sagemaker_limit spot_persistent states vcpu_limit' '
	strict_set "{\"all\": true}" && strict_get | python3 -S -c "import json,sys;print(\" \".join(sorted(json.load(sys.stdin))))"; strict_reset'

t_ok 'the log names each request' 'strict_reset && scli ec2 describe-vpcs >/dev/null && strict_log | grep -q "^1 ec2 DescribeVpcs 200$"'

strict_reset
t_done
