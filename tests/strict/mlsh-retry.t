#!/usr/bin/env bash
# mlsh-retry.t: mlsh on the strict AWS's "consistency" and "iam" switches.
# A new id is NotFound for a few requests, a new role / instance profile is
# refused for a few: mlsh retries (same parameters and idempotency token),
# converges with exactly one of each, bounds the wait, and `down` leaves
# nothing. Counts with boto3 straight from moto.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export MLSH="${MLSH:-$ROOT/mlsh}" TESTS_DIR="${TESTS_DIR:-$ROOT/tests}"
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/strict/lib.sh"
strict_start
. "$TESTS_DIR/strict/mlsh-lib.sh"
W=sr$$

t_ok 'vpc up converges while every new id is NotFound twice' '
	strict_set "{\"consistency\": {\"calls\": 2}}" &&
	m -w $W -c "vpc up --allow 203.0.113.7/32 --types dl1.24xlarge" >"$T/vpc.out" 2>"$T/vpc.err" &&
	strict_log | grep -q " 400 consistency" &&
	[ "$(counts $W)" = "vpc=1 subnet=2 instance=1 notebook=0 role=0 profile=0 spot=0" ] ||
	{ cat "$T/vpc.err"; strict_log | grep -c consistency; counts $W; false; }'

t_ok 'node up: the new instance profile is refused 3 times, retried with progress; one node' '
	strict_reset && strict_set "{\"iam\": {\"calls\": 3}, \"consistency\": {\"calls\": 1}}" &&
	m -w $W -c "node dl1 up --ami $PLAIN_AMI --skip-quota-check" >"$T/node.out" 2>"$T/node.err" &&
	[ "$(strict_log | grep -c "RunInstances 400.*iam")" = 3 ] &&
	grep -q "RunInstances: the new IAM role/profile is not usable yet (IAM propagation); retry 1" "$T/node.err" &&
	[ "$(counts $W)" = "vpc=1 subnet=2 instance=2 notebook=0 role=1 profile=1 spot=0" ] ||
	{ cat "$T/node.err"; strict_log | grep RunInstances; counts $W; false; }'

t_ok 'the retried RunInstances carried one ClientToken (the journal kept it)' '
	python3 -S -c "import json,sys; r=json.load(open(sys.argv[1]))[\"resources\"][\"dl1-1\"]; assert r[\"status\"]==\"created\" and r[\"token\"].startswith(\"mlsh-$W-dl1-1-\"), r" \
	    "$XDG_STATE_HOME/mlsh/$W.json" &&
	[ "$(strict_log | grep -c "RunInstances 200")" = 1 ]'

t_ok 'notebook up: SageMaker cannot assume the new role twice, then the notebook is made' '
	strict_reset && strict_set "{\"iam\": {\"calls\": 2}}" &&
	m -w $W -c "notebook up --type ml.t3.medium --skip-quota-check" >"$T/nb.out" 2>"$T/nb.err" &&
	[ "$(strict_log | grep -c "CreateNotebookInstance 400.*iam")" = 2 ] &&
	[ "$(counts $W)" = "vpc=1 subnet=2 instance=2 notebook=1 role=2 profile=1 spot=0" ] ||
	{ cat "$T/nb.err"; strict_log | grep -i notebook; counts $W; false; }'

t_ok 'down leaves nothing' '
	strict_reset && strict_set "{\"consistency\": {\"calls\": 1}}" &&
	m -w $W -c "down --force" >/dev/null 2>"$T/down.err" &&
	[ "$(counts $W)" = "$NONE" ] || { cat "$T/down.err"; counts $W; false; }'

# The bound: a profile that never becomes usable fails in bounded time with
# AWS's own error, and nothing is launched.
W2=sb$$
t_ok 'a profile that never works: refused after the bound, one line, no instance' '
	strict_reset &&
	m -w $W2 -c "vpc up --allow 203.0.113.7/32 --types dl1.24xlarge" >/dev/null 2>&1 &&
	strict_set "{\"iam\": {\"calls\": 1000}}" &&
	! MLSH_IAM_RETRY_S=2 m -w $W2 -c "node dl1 up --ami $PLAIN_AMI --skip-quota-check" >/dev/null 2>"$T/b.err" &&
	tail -1 "$T/b.err" | grep -q "^node: cannot create dl1-1: ec2: InvalidParameterValue: Value (mlsh-$W2-node) for parameter iamInstanceProfile.name is invalid" &&
	n=$(strict_log | grep -c "RunInstances 400.*iam") && [ "$n" -ge 2 ] && [ "$n" -le 6 ] &&
	[ "$(counts $W2)" = "vpc=1 subnet=2 instance=1 notebook=0 role=1 profile=1 spot=0" ] ||
	{ cat "$T/b.err"; false; }'

t_ok 'and down after it leaves nothing' '
	strict_reset && m -w $W2 -c "down --force" >/dev/null 2>&1 && [ "$(counts $W2)" = "$NONE" ]'

strict_reset
t_done
