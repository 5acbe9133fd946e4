#!/usr/bin/env bash
# The api builtin against moto, read back with the AWS CLI (an independent client).
. "$TESTS_DIR/lib.sh"
: "${MOTO_URL:?tests/run starts moto and sets MOTO_URL}"
export AWS_ACCESS_KEY_ID=AKIDMLSHTEST AWS_SECRET_ACCESS_KEY=mlsh-secret-never-printed AWS_REGION=us-east-1
m() { "$MLSH" --endpoint-url "$MOTO_URL" "$@"; }
awscli() { aws --endpoint-url "$MOTO_URL" --region us-east-1 --output json "$@"; }
jq_py() { python3 -S -c "import json,sys; d=json.load(sys.stdin); $1"; }

t_out 'sts GetCallerIdentity prints the account' '123456789012' \
	'm -c "api sts GetCallerIdentity" | awk "\$1==\"Account\"{print \$2}"'
t_ok 'ec2 CreateVpc, read back by the AWS CLI' '
	id=$(m --json -c "api ec2 CreateVpc CidrBlock=10.77.0.0/16" | jq_py "print(d[\"Vpc\"][\"VpcId\"])") &&
	awscli ec2 describe-vpcs --vpc-ids "$id" | jq_py "assert d[\"Vpcs\"][0][\"CidrBlock\"]==\"10.77.0.0/16\""'
t_ok 'ec2 filters select' '
	m -c "api ec2 DescribeVpcs Filter.1.Name=cidr Filter.1.Value.1=10.77.0.0/16" | grep -c 10.77.0.0/16 | grep -qx 1'
t_ok 'iam CreateRole (query protocol, global), read back' '
	doc='"'"'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}'"'"'
	m -c "api iam CreateRole RoleName=mlsh-api-role AssumeRolePolicyDocument='"'"'$doc'"'"'" >/dev/null &&
	awscli iam get-role --role-name mlsh-api-role | jq_py "assert d[\"Role\"][\"RoleName\"]==\"mlsh-api-role\""'
t_ok 'sagemaker (JSON 1.1) CreateNotebookInstance, read back' '
	m -c "api sagemaker CreateNotebookInstance '"'"'{\"NotebookInstanceName\":\"nb-api\",\"InstanceType\":\"ml.t3.medium\",\"RoleArn\":\"arn:aws:iam::123456789012:role/x\"}'"'"'" >/dev/null &&
	awscli sagemaker describe-notebook-instance --notebook-instance-name nb-api | jq_py "assert d[\"InstanceType\"]==\"ml.t3.medium\""'
t_ok 'efs (REST-JSON) CreateFileSystem, read back' '
	id=$(m --json -c "api efs CreateFileSystem '"'"'{\"CreationToken\":\"api-t\",\"Encrypted\":true}'"'"'" | jq_py "print(d[\"FileSystemId\"])") &&
	awscli efs describe-file-systems --file-system-id "$id" | jq_py "assert d[\"FileSystems\"][0][\"Encrypted\"] is True"'
t_ok 'ssm GetParameter' '
	awscli ssm put-parameter --name /mlsh/t --value v42 --type String >/dev/null &&
	m --json -c "api ssm GetParameter '"'"'{\"Name\":\"/mlsh/t\"}'"'"'" | jq_py "assert d[\"Parameter\"][\"Value\"]==\"v42\""'
t_ok 'Lua api.call returns the tree' '
	cat > call.mlsh <<LUA
local r = api.call("ec2", "DescribeVpcs", {["Filter.1.Name"]="cidr", ["Filter.1.Value.1"]="10.77.0.0/16"})
assert(#r.Vpcs == 1 and r.Vpcs[1].CidrBlock == "10.77.0.0/16")
local ok, err = mlsh.pcall(api.call, "ec2", "DescribeVpcs", {["VpcId.1"]="vpc-nope"})
assert(ok == nil and err:find("^ec2: InvalidVpcID.NotFound"), err)
print("lua ok")
LUA
	[ "$(m call.mlsh)" = "lua ok" ]'

# Errors: one line each.
t_ok 'an unknown id is one clear line' '
	out=$(m -c "api ec2 DescribeVpcs VpcId.1=vpc-123" 2>&1); [ $? -eq 1 ] &&
	[ $(wc -l <<<"$out") -eq 1 ] && grep -q "^ec2: InvalidVpcID.NotFound: .*vpc-123.* (request " <<<"$out"'
t_err 'unknown action suggests' "api: ec2 has no action 'DescribeVpc' (did you mean DescribeVpcs?)" 1 'm -c "api ec2 DescribeVpc"'
t_err 'unknown service suggests' "api: unknown service 'ec3' (did you mean ec2?)" 1 'm -c "api ec3 X"'
t_err 'parameters must be Key=Value' "api: 'oops' is not Key=Value (usage: api SERVICE ACTION [Key=Value…|'{json}'])" 2 'm -c "api ec2 DescribeVpcs oops"'
t_ok 'a malformed parameter is the service'\''s error' '
	out=$(m -c "api ec2 CreateVpc CidrBlock=not-a-cidr" 2>&1); [ $? -eq 1 ] && grep -q "^ec2: " <<<"$out"'
t_ok 'no credentials names what was tried' '
	out=$(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_EC2_METADATA_DISABLED=true "$MLSH" --endpoint-url "$MOTO_URL" -c "api sts GetCallerIdentity" 2>&1)
	[ $? -eq 1 ] && grep -q "no credentials: tried environment" <<<"$out"'
t_ok '--trace shows the signing steps and never the secret' '
	out=$(m --trace -c "api sts GetCallerIdentity" 2>&1) &&
	grep -q "^--- canonical request" <<<"$out" && grep -q "^--- string to sign" <<<"$out" &&
	grep -q "Signature=<redacted>" <<<"$out" && ! grep -q "mlsh-secret-never-printed" <<<"$out"'
t_ok '--trace names the service and action on the first line of each request' '
	out=$(m --trace -c "api sts GetCallerIdentity" 2>&1) &&
	grep -q "^POST http://127.0.0.1:[0-9]*/ (sts GetCallerIdentity)$" <<<"$out"'
t_ok 'set trace on does the same in a session; session token redacted' '
	out=$(AWS_SESSION_TOKEN=tok-secret-xyz m -c "set trace on; api sts GetCallerIdentity" 2>&1) &&
	grep -q "^--- string to sign" <<<"$out" && ! grep -q "tok-secret-xyz\|mlsh-secret-never-printed" <<<"$out"'
t_ok 'the region reaches the signature' '
	m --trace --region eu-west-1 -c "api sts GetCallerIdentity" 2>&1 | grep -q "/eu-west-1/sts/aws4_request"'
t_done
