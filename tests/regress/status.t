#!/usr/bin/env bash
# status.t: plain `status` (the state only, no API call) lists the records
# in the types table's delete order reversed (what goes last first), then by
# role name reversed; a spot node's request right under it; `vpc status`
# the same order over its own roles. The expected orders below are those of
# the sort before it was keyed once per record (issue 11 item 5).
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export MLSH="${MLSH:-$ROOT/mlsh}" TESTS_DIR="${TESTS_DIR:-$ROOT/tests}"
. "$TESTS_DIR/lib.sh"
S="$XDG_STATE_HOME/mlsh"
mkdir -p "$S" && chmod 700 "$S"

# role:type pairs, shuffled; "-" is a record without a type.
python3 - "$S/mixed.json" <<'PY'
import json, sys
pairs = """jump:instance sg-nodes:security-group vpc:vpc efs:efs dl1-1:instance
untyped:- subnet-a:subnet notebook:notebook mystery:widget igw:igw
notebook-role:iam-role eip-nat:eip efs-mt-a:mount-target nat:nat-gateway
notebook-profile:instance-profile sg-jump:security-group key:key-pair
subnet-b:subnet rt-public:route-table notebook-lc:lifecycle-config""".split()
res = {}
for i, p in enumerate(pairs):
    role, t = p.split(":")
    rec = {"role": role, "region": "us-east-1", "created": 1764660000,
           "status": "created", "attrs": {"id": "id-%02d" % i}}
    if t != "-":
        rec["type"] = t
    if role == "dl1-1":
        rec["attrs"]["spot_request"] = "sir-1"
    res[role] = rec
json.dump({"schema": 1, "workspace": "mixed", "resources": res}, open(sys.argv[1], "w"))
PY
chmod 600 "$S/mixed.json"
roles() { python3 -S -c 'import json,sys; print(" ".join(r["role"].replace(" ", "_") for r in json.load(sys.stdin)))'; }

t_out 'status: delete order reversed, then role name reversed; unknown and missing types at 90' \
	'vpc untyped mystery notebook-role notebook-profile key sg-nodes sg-jump igw rt-public subnet-b subnet-a notebook-lc eip-nat efs efs-mt-a nat notebook jump dl1-1 dl1-1_spot_request' \
	'"$MLSH" --norc -w mixed -c "status --json" | roles'

t_out 'status (table): the same order, one row per record and spot request' \
	'vpc untyped mystery notebook-role notebook-profile key sg-nodes sg-jump igw rt-public subnet-b subnet-a notebook-lc eip-nat efs efs-mt-a nat notebook jump dl1-1 dl1-1' \
	'"$MLSH" --norc -w mixed -c "status" | awk "NR > 1 { print \$1 }" | paste -sd" "'

t_out 'vpc status: its own roles, in the same order' \
	'vpc key sg-nodes sg-jump igw rt-public nat jump' \
	'"$MLSH" --norc -w mixed -c "vpc status --json" | roles'

t_err 'an empty workspace: says so, rc 0' \
	"status: workspace 'none' has no resources" 0 \
	'"$MLSH" --norc -w none -c "status"'

t_done
