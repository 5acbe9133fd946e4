#!/usr/bin/env bash
# mlsh-all.t: the whole stack on the strict AWS with every switch on
# ({"all": true}: eventual consistency, IAM propagation, quotas, capacity
# short elsewhere, persistent spot, lingering ENIs, non-instant states, the
# image catalogue, per-AZ offerings): vpc, efs, a dl1 spot node, a p3 node
# (on the last image that supports P3), the notebook and grafana come up
# with exactly one of each; down leaves nothing. Counts with boto3.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export MLSH="${MLSH:-$ROOT/mlsh}" TESTS_DIR="${TESTS_DIR:-$ROOT/tests}"
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/strict/lib.sh"
strict_start
. "$TESTS_DIR/strict/mlsh-lib.sh"
W=sx$$

t_ok 'everything up with every switch on' '
	strict_set "{\"all\": true}" &&
	m -w $W -c "vpc up --allow 203.0.113.7/32; efs up; node dl1 up --spot; node p3 up --include-deprecated; notebook up; grafana up" \
	    >"$T/up.out" 2>"$T/up.err" ||
	{ tail -n 15 "$T/up.err"; false; }'

t_ok 'exactly one of each (jump, dl1-1, p3-1, grafana; one notebook; one spot request)' '
	[ "$(counts $W)" = "vpc=1 subnet=2 instance=4 notebook=1 role=3 profile=2 spot=1" ] || { counts $W; false; }'

t_ok 'a second run creates nothing' '
	m -w $W -c "vpc up --allow 203.0.113.7/32; efs up; node dl1 up --spot; node p3 up --include-deprecated; notebook up; grafana up" \
	    >/dev/null 2>"$T/again.err" &&
	[ "$(counts $W)" = "vpc=1 subnet=2 instance=4 notebook=1 role=3 profile=2 spot=1" ] ||
	{ tail -n 15 "$T/again.err"; counts $W; false; }'

t_ok 'down with every switch on leaves nothing' '
	m -w $W -c "down --force" >/dev/null 2>"$T/down.err" &&
	[ "$(counts $W)" = "$NONE" ] || { tail -n 15 "$T/down.err"; counts $W; false; }'

strict_reset
t_done
