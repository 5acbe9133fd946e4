#!/usr/bin/env bash
# api-cli-json.t: `mlsh --json -c "api SERVICE ACTION …"` prints what
# `aws … --output json` prints for the same call, compared as parsed JSON,
# key for key and type for type (numbers are numbers, booleans booleans,
# lists lists even when empty), values equal, across the four protocols
# (ec2, query, JSON 1.1, REST-JSON), against one moto of this test's own.
#
# The one setting: the CLI runs with cli_timestamp_format = iso8601 (the AWS
# CLI v2 default; v1, installed here, prints the wire form unless told), so
# both sides print timestamps as ISO 8601, and TZ=UTC so the CLI's epoch
# conversion is in UTC as mlsh's is.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export MLSH="${MLSH:-$ROOT/mlsh}" TESTS_DIR="${TESTS_DIR:-$ROOT/tests}"
. "$TESTS_DIR/lib.sh"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing-secret-key-0123456789
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true TZ=UTC
printf '[default]\ncli_timestamp_format = iso8601\n' >"$T/cli-config"
: >"$T/empty"
export AWS_SHARED_CREDENTIALS_FILE="$T/empty" AWS_CONFIG_FILE="$T/cli-config"
unset AWS_ENDPOINT_URL

if ! command -v aws >/dev/null 2>&1; then
	t_skip 'api output against the AWS CLI' 'no aws (AWS CLI) on PATH'
	t_done; exit
fi
t_moto || { t_done; exit 1; }

m() { "$MLSH" --norc --endpoint-url "$MOTO_URL" "$@"; }
cli() { aws --endpoint-url "$MOTO_URL" --output json "$@"; }
get() { python3 -S -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("/"):
    v = v[int(k)] if k.isdigit() else v[k]
print(v)' "$1"; }

# cmp.py MLSH_FILE CLI_FILE [VOLATILE…]: silent and 0 when the two are the
# same JSON (int and float both count as a number); else each difference by
# path. Two differences are allowed, both by design:
#  - the CLI pages a paginated action to its end and drops the paging
#    members (IsTruncated, Marker, NextToken); mlsh's api makes one call and
#    keeps them, so a script can page. At the top level only, mlsh only.
#  - members named VOLATILE may differ in value (not in type): moto makes
#    them up per request (EFS SizeInBytes.Timestamp is "now").
cat >"$T/cmp.py" <<'PY'
import json, sys

PAGING = {"IsTruncated", "Marker", "NextToken"}
VOLATILE = set(sys.argv[3:])

def kind(v):
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    return {str: "string", list: "array", dict: "object",
            type(None): "null"}[type(v)]

def diff(a, b, path, out):
    if kind(a) != kind(b):
        out.append("%s: mlsh %s %r, cli %s %r" % (path, kind(a), a, kind(b), b))
    elif isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in b and path == "$" and k in PAGING:
                continue
            if k not in b:
                out.append("%s.%s: only in mlsh" % (path, k))
            elif k not in a:
                out.append("%s.%s: only in cli" % (path, k))
            else:
                diff(a[k], b[k], path + "." + k, out)
    elif isinstance(a, list):
        if len(a) != len(b):
            out.append("%s: %d items in mlsh, %d in cli" % (path, len(a), len(b)))
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, "%s[%d]" % (path, i), out)
    elif a != b and path.rsplit(".", 1)[-1] not in VOLATILE:
        out.append("%s: mlsh %r, cli %r" % (path, a, b))

def load(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return json.loads(text) if text.strip() else {}	# the CLI prints nothing for {}

out = []
mine, theirs = load(sys.argv[1]), load(sys.argv[2])
diff(mine, theirs, "$", out)
if not out and not mine:
    out.append("$: both empty: nothing was compared")
print("\n".join(out[:20]))
sys.exit(1 if out else 0)
PY

# same NAME 'MLSH API ARGS' 'CLI ARGS' [VOLATILE…]: the two outputs agree.
same() {
	local f="$T/$(echo "$1" | tr -c 'A-Za-z0-9\n' _)"
	t_ok "$1: mlsh api --json = aws --output json" "
		m --json -c \"api $2\" >'$f.mlsh' && cli $3 >'$f.cli' &&
		python3 '$T/cmp.py' '$f.mlsh' '$f.cli' ${*:4}"
}

# --- resources for the describes, made through the CLI ---
u="cj$$"
vpc=$(cli ec2 create-vpc --cidr-block 10.61.0.0/16 --query Vpc.VpcId --output text)
subnet=$(cli ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.61.1.0/24 --query Subnet.SubnetId --output text)
sg=$(cli ec2 create-security-group --group-name "$u" --description "cli json" --vpc-id "$vpc" --query GroupId --output text)
cli ec2 authorize-security-group-ingress --group-id "$sg" --ip-permissions \
	'IpProtocol=tcp,FromPort=22,ToPort=22,IpRanges=[{CidrIp=10.0.0.0/8,Description=ssh}]' \
	'IpProtocol=udp,FromPort=9000,ToPort=9100,IpRanges=[{CidrIp=192.168.0.0/16}]' >/dev/null
cli ec2 create-tags --resources "$vpc" --tags Key=Name,Value="$u" Key=team,Value=ml >/dev/null
ami=$(cli ec2 describe-images --query 'Images[0].ImageId' --output text)
iid=$(cli ec2 run-instances --image-id "$ami" --instance-type t3.micro --subnet-id "$subnet" \
	--security-group-ids "$sg" --count 1 --query 'Instances[0].InstanceId' --output text)
cli iam create-role --role-name "$u" --path /ml/ --assume-role-policy-document '{"Version":"2012-10-17","Statement":[]}' \
	--tags Key=team,Value=ml >/dev/null
cli sagemaker create-notebook-instance --notebook-instance-name "$u" --instance-type ml.t3.medium \
	--role-arn arn:aws:iam::123456789012:role/x --volume-size-in-gb 7 >/dev/null
fs=$(cli efs create-file-system --creation-token "$u" --encrypted --tags Key=Name,Value="$u" --query FileSystemId --output text)
cli efs create-mount-target --file-system-id "$fs" --subnet-id "$subnet" --security-groups "$sg" >/dev/null
cli cloudwatch put-metric-data --namespace "$u" --metric-name gpu_util --value 3 --dimensions host=a >/dev/null
t_ok 'the resources to describe exist' "[ -n '$vpc' ] && [ -n '$subnet' ] && [ -n '$sg' ] && [ -n '$iid' ] && [ -n '$fs' ]"

# ec2 (EC2 query: <vpcSet><item>, lower-case locationNames, "true" text)
same 'ec2 DescribeVpcs' "ec2 DescribeVpcs VpcId.1=$vpc" "ec2 describe-vpcs --vpc-ids $vpc"
same 'ec2 DescribeVpcs (all)' 'ec2 DescribeVpcs' 'ec2 describe-vpcs'
same 'ec2 DescribeSubnets' "ec2 DescribeSubnets Filter.1.Name=vpc-id Filter.1.Value.1=$vpc" \
	"ec2 describe-subnets --filters Name=vpc-id,Values=$vpc"
same 'ec2 DescribeSecurityGroups with rules' "ec2 DescribeSecurityGroups GroupId.1=$sg" \
	"ec2 describe-security-groups --group-ids $sg"
same 'ec2 DescribeInstances' "ec2 DescribeInstances InstanceId.1=$iid" "ec2 describe-instances --instance-ids $iid"
same 'ec2 DescribeAvailabilityZones' 'ec2 DescribeAvailabilityZones' 'ec2 describe-availability-zones'
same 'ec2 DescribeRouteTables' "ec2 DescribeRouteTables Filter.1.Name=vpc-id Filter.1.Value.1=$vpc" \
	"ec2 describe-route-tables --filters Name=vpc-id,Values=$vpc"
# query (IAM, STS, CloudWatch: <member> lists inside an <ActionResult>)
same 'iam GetRole' "iam GetRole RoleName=$u" "iam get-role --role-name $u"
same 'iam ListRoles' 'iam ListRoles' 'iam list-roles'
same 'iam GetAccountSummary (a map)' 'iam GetAccountSummary' 'iam get-account-summary'
same 'sts GetCallerIdentity' 'sts GetCallerIdentity' 'sts get-caller-identity'
same 'cloudwatch ListMetrics' "cloudwatch ListMetrics Namespace=$u" "cloudwatch list-metrics --namespace $u"
# JSON 1.1 (SageMaker: epoch-second timestamps)
same 'sagemaker ListNotebookInstances' 'sagemaker ListNotebookInstances' 'sagemaker list-notebook-instances'
same 'sagemaker DescribeNotebookInstance' "sagemaker DescribeNotebookInstance NotebookInstanceName=$u" \
	"sagemaker describe-notebook-instance --notebook-instance-name $u"
# REST-JSON (EFS)
same 'efs DescribeFileSystems' "efs DescribeFileSystems FileSystemId=$fs" "efs describe-file-systems --file-system-id $fs" Timestamp
same 'efs DescribeMountTargets' "efs DescribeMountTargets FileSystemId=$fs" "efs describe-mount-targets --file-system-id $fs"

t_ok 'the comparison fails on what api printed before (XML names, text scalars)' "
	echo '{\"SecurityGroups\":[{\"ipPermissions\":[{\"fromPort\":\"22\"}]}]}' >'$T/old.json' &&
	echo '{\"SecurityGroups\":[{\"IpPermissions\":[{\"FromPort\":22}]}]}' >'$T/new.json' &&
	! python3 '$T/cmp.py' '$T/old.json' '$T/new.json' >/dev/null &&
	echo '{\"Vpcs\":[{\"IsDefault\":\"false\"}]}' >'$T/old.json' &&
	echo '{\"Vpcs\":[{\"IsDefault\":false}]}' >'$T/new.json' &&
	! python3 '$T/cmp.py' '$T/old.json' '$T/new.json' >/dev/null"
t_ok 'builtins/api_shapes.inc is what scripts/gen-api-actions.py makes of this botocore' "
	python3 '$ROOT/scripts/gen-api-actions.py' --check"

# What the issue saw, by name: typed scalars, lists, member names.
t_out 'a jq-style path of the CLI works on mlsh: IpPermissions[].FromPort is 22, a number' '22 int' "
	m --json -c 'api ec2 DescribeSecurityGroups GroupId.1=$sg' |
	python3 -S -c 'import json,sys; p=[x for x in json.load(sys.stdin)[\"SecurityGroups\"][0][\"IpPermissions\"] if x[\"IpProtocol\"]==\"tcp\"][0]; print(p[\"FromPort\"], type(p[\"FromPort\"]).__name__)'"
t_out 'Vpcs[].IsDefault is a boolean, an empty list is []' 'False []' "
	m --json -c 'api ec2 DescribeVpcs VpcId.1=$vpc' |
	python3 -S -c 'import json,sys; v=json.load(sys.stdin)[\"Vpcs\"][0]; print(v[\"IsDefault\"], v[\"Ipv6CidrBlockAssociationSet\"])'"
t_out 'Lua api.call has the same names and types' 'true 22 10.61.0.0/16' "
	m -c 'lua \"local g = api.call(\\\"ec2\\\", \\\"DescribeSecurityGroups\\\", {[\\\"GroupId.1\\\"] = \\\"$sg\\\"}).SecurityGroups[1]
	local v = api.call(\\\"ec2\\\", \\\"DescribeVpcs\\\", {[\\\"VpcId.1\\\"] = \\\"$vpc\\\"}).Vpcs[1]
	local p = g.IpPermissions[1].IpProtocol == \\\"tcp\\\" and g.IpPermissions[1] or g.IpPermissions[2]
	return tostring(v.IsDefault == false) .. \\\" \\\" .. math.tointeger(p.FromPort) .. \\\" \\\" .. v.CidrBlock\"'"
t_out 'the table view names members as the CLI does' "$vpc" "
	m -c 'api ec2 DescribeVpcs VpcId.1=$vpc' | awk 'NR>1 && /vpc-/{for(i=1;i<=NF;i++) if (\$i ~ /^vpc-/) print \$i}' | head -1"

t_bg_stop_all
t_done
