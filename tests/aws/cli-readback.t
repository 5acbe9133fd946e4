#!/usr/bin/env bash
# cli-readback.t: what mlsh's AWS client creates, the AWS CLI reads back the
# same (and the other way round), one service per protocol, against moto
# (MOTO_URL from tests/run, else a moto of its own). Loopback only.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export MLSH="${MLSH:-$ROOT/mlsh}" TESTS_DIR="${TESTS_DIR:-$ROOT/tests}"
. "$TESTS_DIR/lib.sh"
DRV="$ROOT/${B:-build}/tests/test_aws_moto"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing-secret-key-0123456789
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
: >"$T/empty"
export AWS_SHARED_CREDENTIALS_FILE="$T/empty" AWS_CONFIG_FILE="$T/empty"
unset AWS_ENDPOINT_URL

if [ ! -x "$DRV" ]; then
	t_report 1 "driver $DRV is built" "run make ${B:-build}/tests/test_aws_moto"
	t_done; exit
fi
[ -n "${MOTO_URL:-}" ] || t_moto || { t_done; exit 1; }

u="rb$$"	# names unique to this run in a shared moto
call() { "$DRV" call --endpoint "$MOTO_URL" "$@"; }
cli() { aws --endpoint-url "$MOTO_URL" "$@"; }
get() { python3 -S -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("/"):
    v = v[int(k)] if k.isdigit() else v[k]
print(v)' "$1"; }

t_out 'ec2: a tagged VPC made by mlsh, read by the CLI' '10.211.0.0/16' '
	call ec2 CreateVpc "{\"CidrBlock\":\"10.211.0.0/16\",\"TagSpecification\":[{\"ResourceType\":\"vpc\",\"Tag\":[{\"Key\":\"Name\",\"Value\":\"'$u'\"}]}]}" >/dev/null &&
	cli ec2 describe-vpcs --filters Name=tag:Name,Values='$u' --query "Vpcs[0].CidrBlock" --output text'

t_out 'ec2: a VPC made by the CLI, read by mlsh' '10.212.0.0/16' '
	id=$(cli ec2 create-vpc --cidr-block 10.212.0.0/16 --query Vpc.VpcId --output text) &&
	call ec2 DescribeVpcs "{\"VpcId\":[\"$id\"]}" | get vpcSet/0/cidrBlock'

t_out 'iam: a role with a path and a tag' "$(printf '/ml/\tteam=ml')" '
	call iam CreateRole "{\"RoleName\":\"'$u'\",\"Path\":\"/ml/\",\"AssumeRolePolicyDocument\":\"{}\",\"Tags\":[{\"Key\":\"team\",\"Value\":\"ml\"}]}" >/dev/null &&
	cli iam get-role --role-name '$u' --query "[Role.Path, join(\`=\`, [Role.Tags[0].Key, Role.Tags[0].Value])]" --output text'

t_out 'sts: the caller identity agrees' "$(aws --endpoint-url "${MOTO_URL}" sts get-caller-identity --query Account --output text 2>/dev/null)" '
	call sts GetCallerIdentity | get Account'

t_out 'cloudwatch: a metric put by mlsh is listed by the CLI' 'gpu_util' '
	call cloudwatch PutMetricData "{\"Namespace\":\"'$u'\",\"MetricData\":[{\"MetricName\":\"gpu_util\",\"Value\":3,\"Dimensions\":[{\"Name\":\"host\",\"Value\":\"a b\"}]}]}" >/dev/null &&
	cli cloudwatch list-metrics --namespace '$u' --query "Metrics[0].MetricName" --output text'

t_out 'sagemaker: a notebook instance' 'ml.t3.medium' '
	call sagemaker CreateNotebookInstance "{\"NotebookInstanceName\":\"'$u'\",\"InstanceType\":\"ml.t3.medium\",\"RoleArn\":\"arn:aws:iam::123456789012:role/r\"}" >/dev/null &&
	cli sagemaker describe-notebook-instance --notebook-instance-name '$u' --query InstanceType --output text'

t_out 'ssm: a parameter with blanks and unicode' 'a b=c ✓' '
	call ssm PutParameter "{\"Name\":\"/'$u'/p\",\"Value\":\"a b=c ✓\",\"Type\":\"String\"}" >/dev/null &&
	cli ssm get-parameter --name /'$u'/p --query Parameter.Value --output text'

t_out 'efs: a file system with a tag, by id' "$u" '
	id=$(call efs CreateFileSystem "{\"Tags\":[{\"Key\":\"Name\",\"Value\":\"'$u'\"}]}" | get FileSystemId) &&
	cli efs describe-file-systems --file-system-id "$id" --query "FileSystems[0].Name" --output text'

t_out 'efs: a file system made by the CLI, read by mlsh with a query-string member' "cli-$u" '
	cli efs create-file-system --creation-token "cli-$u" >/dev/null &&
	call efs DescribeFileSystems "{\"CreationToken\":\"cli-'$u'\"}" | get FileSystems/0/CreationToken'

t_bg_stop_all
t_done
