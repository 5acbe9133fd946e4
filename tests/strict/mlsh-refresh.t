#!/usr/bin/env bash
# mlsh-refresh.t: status --refresh and node ls --refresh send one describe
# per resource type, with every id (stack_refresh_many), not one per
# resource; a resource missing from the answer is reported gone, also when
# EC2 refuses the whole batch because one id no longer exists.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export MLSH="${MLSH:-$ROOT/mlsh}" TESTS_DIR="${TESTS_DIR:-$ROOT/tests}"
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/strict/lib.sh"
strict_start
. "$TESTS_DIR/strict/mlsh-lib.sh"
W=sr$$
STATE="$XDG_STATE_HOME/mlsh/$W.json"
N=4
rec() { python3 -S -c "import json;print(json.load(open('$STATE'))['resources']['$1']['id'])"; }
# calls ACTION: how many the proxy saw since the last strict_reset.
calls() { strict_log | awk -v a="$1" '$3 == a' | wc -l; }

t_ok "vpc up, and $N nodes tagged for the workspace adopted by status --recover" '
	m -w $W -c "vpc up --allow 203.0.113.7/32 --az us-east-1a" >/dev/null 2>"$T/up.err" &&
	for i in $(seq 1 $N); do
		mcli ec2 run-instances --image-id $PLAIN_AMI --instance-type p3.8xlarge \
			--subnet-id "$(rec subnet-private)" --count 1 --tag-specifications \
			"ResourceType=instance,Tags=[{Key=mlsh:workspace,Value=$W},{Key=Name,Value=$W-p3-$i}]" \
			>/dev/null || exit 1
	done &&
	rm "$STATE" && m -w $W -c "status --recover" >/dev/null 2>"$T/rec.err" &&
	[ "$(m -w $W -c "node" | grep -c "^p3-")" = $N ] || { cat "$T/up.err" "$T/rec.err"; false; }'

t_ok "status --refresh: one DescribeInstances for the $((N + 1)) instances (and one for the drift list)" '
	strict_reset && m -w $W -c "status --refresh" >"$T/st.out" 2>"$T/st.err" &&
	grep -q "^status: 0 drifts" "$T/st.err" &&
	[ "$(calls DescribeInstances)" = 2 ] && [ "$(calls DescribeSecurityGroups)" = 2 ] &&
	[ "$(calls DescribeSubnets)" = 2 ] && [ "$(grep -c " running " "$T/st.out")" = $((N + 1)) ] ||
	{ cat "$T/st.out" "$T/st.err"; strict_log; false; }'

t_ok "node ls --refresh: one DescribeInstances for the $N nodes" '
	strict_reset && m -w $W -c "node ls --refresh" >"$T/ls.out" 2>&1 &&
	[ "$(calls DescribeInstances)" = 1 ] && [ "$(strict_log | wc -l)" = 1 ] &&
	[ "$(grep -c "^p3-.* running" "$T/ls.out")" = $N ] || { cat "$T/ls.out"; strict_log; false; }'

t_ok "a terminated node and a deleted group are gone; the rest refreshed as before" '
	mcli ec2 terminate-instances --instance-ids "$(rec p3-2)" >/dev/null &&
	mcli ec2 delete-security-group --group-id "$(rec sg-grafana)" >/dev/null &&
	strict_reset && m -w $W -c "status --refresh" >"$T/st2.out" 2>"$T/st2.err" &&
	grep -q "^status: 2 drifts" "$T/st2.err" &&
	grep -q "^p3-2 .*gone (forgotten)" "$T/st2.out" && grep -q "^sg-grafana .*gone (forgotten)" "$T/st2.out" &&
	[ "$(grep -c "gone" "$T/st2.out")" = 2 ] && [ "$(grep "^sg-" "$T/st2.out" | grep -v gone | grep -c available)" = 4 ] &&
	[ "$(calls DescribeInstances)" = 2 ] &&
	python3 -S -c "import json,sys;r=json.load(open(\"$STATE\"))[\"resources\"];sys.exit(\"p3-2\" in r or \"sg-grafana\" in r)" ||
	{ cat "$T/st2.out" "$T/st2.err"; strict_log; false; }'

t_ok 'down leaves nothing' '
	m -w $W -c "down --force" >/dev/null 2>"$T/down.err" && [ "$(counts $W)" = "$NONE" ] ||
	{ cat "$T/down.err"; counts $W; false; }'
t_done
