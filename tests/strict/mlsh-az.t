#!/usr/bin/env bash
# mlsh-az.t: AZ choice and capacity on the strict AWS's "offerings" and
# "capacity" switches. vpc up picks an AZ offering the training type first;
# a kind its AZ does not offer is refused before anything is created; an
# InsufficientInstanceCapacity answer names the other AZs; once capacity is
# back the node starts with no duplicate, and down leaves nothing.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export MLSH="${MLSH:-$ROOT/mlsh}" TESTS_DIR="${TESTS_DIR:-$ROOT/tests}"
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/strict/lib.sh"
strict_start
. "$TESTS_DIR/strict/mlsh-lib.sh"
W=sa$$

# moto's offerings (AWS data): dl1.24xlarge only in us-east-1a; p4de.24xlarge
# and trn1.32xlarge in other zones but not there. The zone with the most of
# them lacks dl1; the one for dl1 wins, and the warning names the kinds.
t_ok 'no zone offers every type: the training type s zone, and which kinds cannot start' '
	out=$(m -w sa0 -c "vpc up --allow 203.0.113.7/32 --types dl1.24xlarge,p4de.24xlarge,trn1.32xlarge --dry-run" 2>&1) &&
	grep -q "^vpc: warning: no availability zone of us-east-1 offers all of dl1.24xlarge,p4de.24xlarge,trn1.32xlarge: .*; using us-east-1a, where node kinds p4de (p4de.24xlarge), trn1 (trn1.32xlarge) cannot start" <<<"$out" &&
	grep -q "CreateSubnet.*in us-east-1a" <<<"$out" || { echo "$out"; false; }'

t_ok 'a workspace in us-east-1b (offerings on: p3 there, dl1 only in us-east-1a)' '
	strict_set "{\"offerings\": true}" &&
	m -w $W -c "vpc up --allow 203.0.113.7/32 --az us-east-1b --types p3.8xlarge" >/dev/null 2>"$T/vpc.err" ||
	{ cat "$T/vpc.err"; false; }'

t_err 'node dl1 up there is refused before anything is created' \
	"node: dl1 (dl1.24xlarge) is not offered in us-east-1b, the workspace's availability zone; it is offered in us-east-1a of us-east-1 (a workspace for it: 'workspace NEW', then 'vpc up --types dl1.24xlarge')" 1 '
	m -w $W -c "node dl1 up --ami $PLAIN_AMI"'

t_ok 'nothing was made for it' '
	[ "$(counts $W)" = "vpc=1 subnet=2 instance=1 notebook=0 role=0 profile=0 spot=0" ] || { counts $W; false; }'

t_ok 'InsufficientInstanceCapacity: the error names the zones that offer the type' '
	strict_set "{\"capacity\": {\"azs\": [\"us-east-1b\"], \"types\": [\"p3.8xlarge\"]}}" &&
	! m -w $W -c "node p3 up --ami $PLAIN_AMI --skip-quota-check" >/dev/null 2>"$T/ice.err" &&
	grep -q "^node: cannot create p3-1: ec2: InsufficientInstanceCapacity: .*; AWS has no p3.8xlarge capacity in us-east-1b now: try again later, or in a workspace in us-east-1a, us-east-1c, us-east-1d (.vpc up --az us-east-1a.)" "$T/ice.err" &&
	[ "$(counts $W)" = "vpc=1 subnet=2 instance=1 notebook=0 role=1 profile=1 spot=0" ] ||
	{ cat "$T/ice.err"; counts $W; false; }'

t_ok 'capacity back: the same command starts exactly one node' '
	strict_set "{\"capacity\": false}" &&
	m -w $W -c "node p3 up --ami $PLAIN_AMI --skip-quota-check" >/dev/null 2>"$T/p3.err" &&
	[ "$(counts $W)" = "vpc=1 subnet=2 instance=2 notebook=0 role=1 profile=1 spot=0" ] ||
	{ cat "$T/p3.err"; counts $W; false; }'

t_ok 'down leaves nothing' '
	strict_reset && m -w $W -c "down --force" >/dev/null 2>"$T/down.err" &&
	[ "$(counts $W)" = "$NONE" ] || { cat "$T/down.err"; counts $W; false; }'

strict_reset
t_done
