#!/usr/bin/env bash
# mlsh-quota.t: quotas before money, on the strict AWS's "quotas",
# "vcpu_limit" and "sagemaker_limit" switches. node up and notebook up read
# Service Quotas first and refuse with one line (the quota, its value, what
# the request needs, how to ask for more) before anything is created;
# --skip-quota-check goes on; AWS's own refusals read clearly too.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export MLSH="${MLSH:-$ROOT/mlsh}" TESTS_DIR="${TESTS_DIR:-$ROOT/tests}"
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/strict/lib.sh"
# vCPU quotas are account-wide: instances other tests left in the shared moto
# would count. This test gets an account (moto and proxy) of its own.
unset MOTO_URL STRICT_URL
strict_start
. "$TESTS_DIR/strict/mlsh-lib.sh"
W=sq$$

t_ok 'the network' '
	m -w $W -c "vpc up --allow 203.0.113.7/32 --types dl1.24xlarge" >/dev/null 2>"$T/vpc.err" ||
	{ cat "$T/vpc.err"; false; }'

t_out 'DL on-demand quota 0: refused in one line, before anything is created' \
	"node: the on-demand quota 'Running On-Demand DL instances' (ec2 L-6E869C2A) is 0 vCPUs in us-east-1; dl1-1 needs 96 more (0 running): ask for 96 with 'aws service-quotas request-service-quota-increase --region us-east-1 --service-code ec2 --quota-code L-6E869C2A --desired-value 96' or in the Service Quotas console; --skip-quota-check to try anyway" '
	strict_reset && strict_set "{\"quotas\": {\"ec2/L-6E869C2A\": 0}}" &&
	{ ! m -w $W -c "node dl1 up --ami $PLAIN_AMI" 2>"$T/q0.err" >/dev/null; } &&
	grep -v "^node: image " "$T/q0.err"'

t_ok 'nothing was created: no role, no profile, no node' '
	[ "$(counts $W)" = "vpc=1 subnet=2 instance=1 notebook=0 role=0 profile=0 spot=0" ] &&
	! strict_log | grep -q "CreateRole\|RunInstances"'

t_ok 'running instances of the class count: 96 allowed, 2 nodes need 192' '
	strict_set "{\"quotas\": {\"ec2/L-6E869C2A\": 96}}" &&
	! m -w $W -c "node dl1 up --count 2 --ami $PLAIN_AMI" >/dev/null 2>"$T/two.err" &&
	grep -q "is 96 vCPUs in us-east-1; dl1-1 needs 192 more (0 running): ask for 192 with" "$T/two.err"'

t_ok 'spot asks the spot quota' '
	strict_set "{\"quotas\": {\"ec2/L-6E869C2A\": 96, \"ec2/L-85EED4F7\": 0}}" &&
	! m -w $W -c "node dl1 up --spot --ami $PLAIN_AMI" >/dev/null 2>"$T/spot.err" &&
	grep -q "^node: the spot quota .All DL Spot Instance Requests. (ec2 L-85EED4F7) is 0 vCPUs" "$T/spot.err"'

t_ok 'within the quota: the node starts; then the running one counts' '
	m -w $W -c "node dl1 up --ami $PLAIN_AMI" >/dev/null 2>"$T/ok.err" &&
	! m -w $W -c "node dl1 up --count 2 --ami $PLAIN_AMI" >/dev/null 2>"$T/more.err" &&
	grep -q "dl1-2 needs 96 more (96 running): ask for 192" "$T/more.err" &&
	[ "$(counts $W)" = "vpc=1 subnet=2 instance=2 notebook=0 role=1 profile=1 spot=0" ] ||
	{ cat "$T/ok.err" "$T/more.err"; false; }'

t_ok 'an unknown quota code on this endpoint: one warning, and node up goes on (dry run)' '
	strict_set "{\"quotas\": {\"ec2/L-0000\": 1}}" &&
	out=$(m -w $W -c "node p3 up --ami $PLAIN_AMI --dry-run; node p3 up --ami $PLAIN_AMI --dry-run" 2>&1) &&
	[ "$(grep -c "warning: cannot read Service Quotas here (NoSuchResourceException" <<<"$out")" = 1 ]'

t_ok 'the EC2 limit itself (VcpuLimitExceeded) with --skip-quota-check: AWS s line, no extra instance' '
	strict_reset && strict_set "{\"vcpu_limit\": {\"dl\": 96}, \"quotas\": {\"ec2/L-6E869C2A\": 0}}" &&
	! m -w $W -c "node dl1 up --count 2 --ami $PLAIN_AMI --skip-quota-check" >/dev/null 2>"$T/vl.err" &&
	grep -q "^node: cannot create dl1-2: ec2: VcpuLimitExceeded: You have requested more vCPU capacity" "$T/vl.err" &&
	[ "$(counts $W)" = "vpc=1 subnet=2 instance=2 notebook=0 role=1 profile=1 spot=0" ] ||
	{ cat "$T/vl.err"; false; }'

t_ok 'notebook: the per-type SageMaker quota 0 is refused first, naming it' '
	strict_reset && strict_set "{\"quotas\": {\"sagemaker/L-619D6E43\": 0}}" &&
	! m -w $W -c "notebook up" >/dev/null 2>"$T/nb.err" &&
	grep -q "^notebook: the SageMaker quota .ml.p3.8xlarge for notebook instance usage. (sagemaker L-619D6E43) is 0 in us-east-1; the notebook needs 1 more (0 in use): ask for 1 with .aws service-quotas request-service-quota-increase --region us-east-1 --service-code sagemaker --quota-code L-619D6E43 --desired-value 1. or in the Service Quotas console; --skip-quota-check to try anyway" "$T/nb.err" &&
	! strict_log | grep -q "CreateRole\|CreateNotebookInstance" || { cat "$T/nb.err"; false; }'

t_ok 'notebook: SageMaker s own ResourceLimitExceeded (quota check skipped) says how to ask' '
	strict_reset && strict_set "{\"sagemaker_limit\": {\"ml.p3.8xlarge\": 0}}" &&
	! m -w $W -c "notebook up --skip-quota-check" >/dev/null 2>"$T/rl.err" &&
	grep -q "^notebook: cannot create notebook: sagemaker: ResourceLimitExceeded: .*; ask for more of the SageMaker quota .ml.p3.8xlarge for notebook instance usage." "$T/rl.err" &&
	[ "$(counts $W | sed "s/.*notebook=\([0-9]*\).*/\1/")" = 0 ] || { cat "$T/rl.err"; false; }'

t_ok 'down leaves nothing' '
	strict_reset && m -w $W -c "down --force" >/dev/null 2>"$T/down.err" &&
	[ "$(counts $W)" = "$NONE" ] || { cat "$T/down.err"; counts $W; false; }'

strict_reset
t_done
