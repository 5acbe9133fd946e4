#!/usr/bin/env bash
# faults.t: retries, idempotency tokens and timeouts of the AWS client, through
# tests/aws/faultproxy.py in front of a moto of its own (so resources can be
# counted exactly). Calls go through the C driver mode of test_aws_moto;
# counts are read back with the AWS CLI straight from moto. Loopback only.
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

t_moto || { t_done; exit 1; }
MOTO=$MOTO_URL
t_bg proxy '[ -s "$T/proxy.port" ]' \
	python3 "$TESTS_DIR/aws/faultproxy.py" --target "$MOTO" --port-file "$T/proxy.port" ||
	{ t_done; exit 1; }
PROXY="http://127.0.0.1:$(cat "$T/proxy.port")"

script() { curl -sf -X POST --data "$1" "$PROXY/__fault__/script" >/dev/null; }
plog() { curl -sf "$PROXY/__fault__/log"; }
call() { "$DRV" call --endpoint "$PROXY" "$@"; }
waitfor() { "$DRV" wait --endpoint "$PROXY" "$@"; }
cli() { aws --endpoint-url "$MOTO" "$@"; }
count_fs() { cli efs describe-file-systems --query 'length(FileSystems)' --output text; }
json_get() { python3 -S -c 'import json,sys;print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
ms() { echo $(( $(date +%s%N) / 1000000 )); }
# elapsed CMD...: runs CMD, leaves its duration in ms in $T/elapsed
elapsed() { local t0 rc; t0=$(ms); "$@"; rc=$?; echo $(( $(ms) - t0 )) >"$T/elapsed"; return $rc; }

t_ok '503, 503, then the create goes through: one file system, three tries' '
	script 503,503 &&
	call efs CreateFileSystem "{\"Tags\":[{\"Key\":\"t\",\"Value\":\"503\"}]}" >"$T/fs1" &&
	[ "$(count_fs)" = 1 ] &&
	[ "$(plog | grep -c "POST:/2015-02-01/file-systems")" = 3 ]'

t_ok 'answer lost after the create: the retry reuses the CreationToken, one more file system' '
	script reset-after &&
	call efs CreateFileSystem "{}" >"$T/fs2" &&
	tok=$(json_get CreationToken <"$T/fs2") &&
	[ ${#tok} = 36 ] &&
	[ "$(count_fs)" = 2 ] &&
	[ "$(cli efs describe-file-systems --creation-token "$tok" --query "length(FileSystems)" --output text)" = 1 ] &&
	[ "$(plog | grep -c "file-systems reset-after")" = 1 ] &&
	[ "$(json_get FileSystemId <"$T/fs2")" != "" ]'

t_ok 'a caller-given CreationToken is kept across retries' '
	script 503,reset-after &&
	call efs CreateFileSystem "{\"CreationToken\":\"mlsh-fixed-token\"}" >"$T/fs3" &&
	[ "$(json_get CreationToken <"$T/fs3")" = mlsh-fixed-token ] &&
	[ "$(count_fs)" = 3 ]'

t_ok 'EC2 throttling (RequestLimitExceeded) is retried: one VPC' '
	script throttle,throttle &&
	call ec2 CreateVpc "{\"CidrBlock\":\"10.77.0.0/16\"}" >/dev/null &&
	[ "$(cli ec2 describe-vpcs --filters Name=cidr,Values=10.77.0.0/16 --query "length(Vpcs)" --output text)" = 1 ] &&
	[ "$(plog | grep -c "CreateVpc throttle")" = 2 ]'

t_ok 'query throttling (Throttling) is retried' '
	script throttle &&
	call sts GetCallerIdentity | grep -q 123456789012'

t_ok 'JSON throttling (ThrottlingException) is retried' '
	script throttle &&
	call ssm PutParameter "{\"Name\":\"/faults/p\",\"Value\":\"v\",\"Type\":\"String\"}" >/dev/null &&
	[ "$(cli ssm get-parameter --name /faults/p --query Parameter.Value --output text)" = v ]'

t_ok 'a reset connection is retried' '
	script reset &&
	call ec2 DescribeVpcs "{}" | grep -q vpcSet'

t_out 'a batch (curl multi): each item retried on its own' 'ok
ok
ok
ec2: InvalidVpcID.NotFound' '
	script 503,throttle,reset &&
	"$DRV" many --endpoint "$PROXY" ec2 DescribeVpcs "{}" sts GetCallerIdentity "{}" \
		ssm DescribeParameters "{}" ec2 DescribeVpcs "{\"VpcId\":[\"vpc-none\"]}" |
		sed "s/^\(ec2: [A-Za-z.]*\):.*/\1/"'

t_err '503 on every attempt: one error line with the HTTP status' \
	'ec2: ServiceUnavailable: HTTP 503: 503 503 Service Unavailable' 1 \
	'script 503,503,503 && call --attempts 3 ec2 DescribeVpcs'

t_err 'throttled on every attempt: the throttling error' \
	'ec2: RequestLimitExceeded: Request limit exceeded. (request faultpro…)' 1 \
	'script throttle,throttle && call --attempts 2 ec2 DescribeVpcs'

# The bounds below are the property (the call ended at its own timeout, not
# when the server gave up after 20 s), with room for a loaded machine: how
# fast is a benchmark's business.
t_ok 'a stall ends at the attempt timeout' '
	script stall:20 &&
	! elapsed call --timeout-ms 1000 --attempts 1 ec2 DescribeVpcs 2>"$T/err" &&
	grep -q "^ec2: RequestTimeout: no answer from" "$T/err" &&
	[ "$(cat "$T/elapsed")" -lt 15000 ]'

t_ok 'a stall, then the retry answers' '
	script stall:20 &&
	elapsed call --timeout-ms 1000 --attempts 2 ec2 DescribeVpcs >/dev/null &&
	[ "$(cat "$T/elapsed")" -lt 15000 ]'

t_ok 'a wait through stalls ends within its timeout' '
	script stall:20,stall:20,stall:20,stall:20 &&
	! elapsed waitfor --timeout-ms 5000 efs DescribeFileSystems "{}" \
		FileSystems/0/LifeCycleState available 1500 2>"$T/err" &&
	grep -q "^Timeout: still waiting after" "$T/err" &&
	[ "$(cat "$T/elapsed")" -lt 15000 ]
	rc=$?; cat "$T/err"; echo "elapsed $(cat "$T/elapsed") ms"; exit $rc'

t_ok 'a wait for a state that never comes ends within its timeout' '
	script pass &&
	! elapsed waitfor efs DescribeFileSystems "{}" \
		FileSystems/0/LifeCycleState deleted 1200 2>"$T/err" &&
	grep -q "^Timeout: still waiting after 1\.[0-9] s: " "$T/err" &&
	[ "$(cat "$T/elapsed")" -lt 15000 ]
	rc=$?; cat "$T/err"; echo "elapsed $(cat "$T/elapsed") ms"; exit $rc'

t_ok 'a wait for a state that holds ends at once: one describe' '
	script pass &&
	waitfor efs DescribeFileSystems "{}" FileSystems/0/LifeCycleState available 5000 &&
	[ "$(plog | wc -l)" = 1 ]'

t_bg_stop_all
t_done
