#!/usr/bin/env bash
# replay.t: a whole session typed at the prompt in the lab (tmux), saved with
# `history save`, replayed in a new workspace, and the two workspaces compared
# with boto3 against the lab's moto: the same kinds and counts, other ids.
# One lab for every workspace. Needs root.
. "$TESTS_DIR/lib.sh"
[ "$(id -u)" = 0 ] || { echo "not ok - the lab tests run as root"; exit 1; }
command -v tmux >/dev/null || { echo "not ok - tmux is installed"; exit 1; }
export MLSH_LAB_NAME="mlshrp$$"
NS="$MLSH_LAB_NAME"
SOCK="mlshrp$$"			# this test's own tmux server
S=replay
A=rpa B=rpb C=rpc
m() { "$MLSH" --norc --lab "$@"; }
tm() { tmux -L "$SOCK" "$@"; }
cleanup() { tm kill-server 2>/dev/null; "$MLSH" --norc lab down >/dev/null 2>&1; }
trap cleanup EXIT
mkdir -p "$HOME/.ssh" && ssh-keygen -q -t ed25519 -N "" -f "$HOME/.ssh/id_ed25519"
screen() { tm capture-pane -p -t "$S" 2>/dev/null; }
# Wait until the screen matches an extended regex: at most $2 s (default 30).
wait_for() {
	local end=$((SECONDS + ${2:-30}))
	until screen | grep -Eq -- "$1"; do
		[ "$SECONDS" -ge "$end" ] && { screen | grep -v "^$" | tail -5; return 1; }
		sleep 0.2
	done
}
# Type a line at the prompt and wait for the next prompt of workspace $A.
prompts() { screen | grep -c "^mlsh\[lab\] $A@"; }
type_line() {
	local n
	n=$(prompts)
	tm send-keys -t "$S" "$1" Enter
	local end=$((SECONDS + ${2:-60}))
	until [ "$(prompts)" -gt "$n" ]; do
		[ "$SECONDS" -ge "$end" ] && { screen | grep -v "^$" | tail -5; return 1; }
		sleep 0.2
	done
}
rid() { python3 -S -c "import json,sys; print(json.load(open(sys.argv[1]))['resources'][sys.argv[2]]['id'])" \
	"$XDG_STATE_HOME/mlsh/$1.json" "$2"; }

t_ok 'the lab comes up' 'm lab up >"$T/lab.log" 2>&1 || { tail -3 "$T/lab.log"; false; }'
# On a busy machine the lab's moto takes more than mlsh's 10 s to answer its
# first EC2 request: warm it up, bounded, before the session (as train.t).
for _ in $(seq 1 10); do m -c "api ec2 DescribeAvailabilityZones" >/dev/null 2>&1 && break; sleep 2; done
ctrl=$(m --json lab status | python3 -S -c 'import json,sys; print([r["id"] for r in json.load(sys.stdin) if r["component"] == "control-plane"][0])')

# The session, typed at the prompt (100 lines tall: nothing scrolls away).
tm new-session -d -s "$S" -x 160 -y 100 \
	"env HOME=$HOME XDG_STATE_HOME=$XDG_STATE_HOME MLSH_LAB_NAME=$MLSH_LAB_NAME NO_COLOR=1 TERM=xterm $MLSH --norc --lab -w $A"
t_ok 'the prompt comes' 'wait_for "^mlsh\\[lab\\] $A@"'
t_ok 'vpc up; efs up at the prompt' '
	type_line "vpc up --allow 198.18.0.2/32" 120 && type_line "efs up" 120 && rid "$A" efs >/dev/null'
tm send-keys -t "$S" 'node dl1 up' Enter
t_ok 'node dl1 up shows its price and asks' 'wait_for "dl1.24xlarge.*13.11/h.*" 60 && wait_for "start it\? \[y/N\]" 60'
t_ok 'answered y, the node starts' '
	n=$(prompts); tm send-keys -t "$S" y Enter
	end=$((SECONDS + 180)); until [ "$(prompts)" -gt "$n" ]; do [ "$SECONDS" -lt "$end" ] || exit 1; sleep 0.3; done
	rid "$A" dl1-1 | grep -q "^i-"'
sgn=$(rid "$A" sg-nodes 2>/dev/null)
t_ok 'an api call on an id an earlier result showed' '
	type_line "api ec2 AuthorizeSecurityGroupIngress GroupId=$sgn IpProtocol=tcp FromPort=8080 ToPort=8080 CidrIp=10.0.0.0/16" &&
	screen | grep -q "^Return *true"'
t_ok 'ssh dl1-1 hostname' 'type_line "ssh dl1-1 hostname" 90 && screen | grep -q "^ip-10-"'
tm send-keys -t "$S" 'ssh dl1-1' Enter
t_ok 'ssh dl1-1 is a shell on the node; exit leaves it' '
	wait_for "ubuntu@ip-10-" 60 && type_line "exit"'
t_ok 'a dry run; status' '
	type_line "node dl1 up -n" && screen | grep -q "dry run" && type_line "status" && screen | grep -q "^dl1-1 "'
t_ok 'history save' 'type_line "history save $T/s.mlsh" && [ -s "$T/s.mlsh" ]'
tm send-keys -t "$S" 'exit' Enter

t_ok 'the script: lab target in its header, the workspace a parameter' '
	grep -qxF -- "-- Run it with: mlsh --lab -r us-east-1 $T/s.mlsh [WORKSPACE]" "$T/s.mlsh" &&
	grep -q "^    \"$A\"$" "$T/s.mlsh" && grep -q "^workspace(WS)$" "$T/s.mlsh"'
t_ok 'the interactive ssh and the dry run are comments; ssh with a command runs' '
	grep -qxF -- "-- not replayed (interactive shell): ssh(\"dl1-1\")" "$T/s.mlsh" &&
	grep -qxF -- "-- not replayed (dry run): node.up{\"dl1\", dry_run=true}" "$T/s.mlsh" &&
	grep -qxF "ssh(\"dl1-1\", \"hostname\")" "$T/s.mlsh" && ! grep -q "status" "$T/s.mlsh"'
t_ok 'the security group id is read from vpc up'\''s result; no id of the session is left' '
	grep -q "^r\[[0-9]*\] = vpc.up{allow=\"198.18.0.2/32\"}$" "$T/s.mlsh" &&
	grep -qF "\"GroupId=\" .. find(r[" "$T/s.mlsh" && grep -qF ", \"role\", \"sg-nodes\").id" "$T/s.mlsh" &&
	! grep -Eq "(sg|vpc|subnet|i|fs)-[0-9a-f]{8,17}" "$T/s.mlsh"'
t_err 'without --lab the script refuses to run (it would target AWS)' \
	"mlsh: this session ran in the lab: run it with mlsh --lab $T/s.mlsh" 2 \
	'"$MLSH" --norc --endpoint-url http://127.0.0.1:9 "$T/s.mlsh" "$C" </dev/null'

t_ok 'replayed in a new workspace, no terminal, --yes' '
	m --yes "$T/s.mlsh" "$B" </dev/null >"$T/replay.log" 2>&1 || { tail -5 "$T/replay.log"; false; }'

# What each workspace has in the lab's moto, by kind, read with boto3 from
# the lab's client namespace (the control plane lives in the lab).
inventory() {
	ip netns exec "$NS-client" python3 - "$ctrl" "$1" <<'PY'
import boto3, json, sys
url, ws = sys.argv[1], sys.argv[2]
kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="lab", aws_secret_access_key="lab")
ec2, efs = boto3.client("ec2", **kw), boto3.client("efs", **kw)
f = [{"Name": "tag:mlsh:workspace", "Values": [ws]}]
tag = {"Key": "mlsh:workspace", "Value": ws}
live = [{"Name": "instance-state-name", "Values": ["pending", "running"]}]
ids = {
    "vpc": [v["VpcId"] for v in ec2.describe_vpcs(Filters=f)["Vpcs"]],
    "subnet": [s["SubnetId"] for s in ec2.describe_subnets(Filters=f)["Subnets"]],
    "sg": [g["GroupId"] for g in ec2.describe_security_groups(Filters=f)["SecurityGroups"]],
    "rt": [r["RouteTableId"] for r in ec2.describe_route_tables(Filters=f)["RouteTables"]],
    "instance": [i["InstanceId"] for r in ec2.describe_instances(Filters=f + live)["Reservations"] for i in r["Instances"]],
    "efs": [x["FileSystemId"] for x in efs.describe_file_systems()["FileSystems"] if tag in x.get("Tags", [])],
}
rule = [g for g in ec2.describe_security_groups(Filters=f + [{"Name": "tag:Name", "Values": [ws + "-sg-nodes"]}])["SecurityGroups"]
        if any(p.get("FromPort") == 8080 for p in g["IpPermissions"])]
print(json.dumps({"ids": ids, "rule8080": len(rule)}))
PY
}
t_ok 'boto3: the same kinds and counts in both workspaces, other ids, the api call replayed' '
	inventory "$A" >"$T/a.json" && inventory "$B" >"$T/b.json" &&
	python3 - "$T/a.json" "$T/b.json" <<'"'"'PY'"'"'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
counts = lambda d: {k: len(v) for k, v in d["ids"].items()}
assert counts(a) == counts(b), (counts(a), counts(b))
assert counts(a)["instance"] == 2 and counts(a)["efs"] == 1, counts(a)
for k in a["ids"]:
    assert not set(a["ids"][k]) & set(b["ids"][k]), k
assert a["rule8080"] == 1 and b["rule8080"] == 1, (a["rule8080"], b["rule8080"])
PY'

# From a terminal the replay shows the price and asks; n stops it there.
tm new-session -d -s "$S" -x 160 -y 50 \
	"env HOME=$HOME XDG_STATE_HOME=$XDG_STATE_HOME MLSH_LAB_NAME=$MLSH_LAB_NAME NO_COLOR=1 TERM=xterm sh -c '$MLSH --norc --lab $T/s.mlsh $C; echo replay-status=\$?; sleep 600'"
t_ok 'a replay on a terminal asks before the $13.11/h node; n stops the script (errexit)' '
	wait_for "start it\? \[y/N\]" 180 && tm send-keys -t "$S" n Enter &&
	wait_for "replay-status=1" 30 && screen | grep -q "not started" && ! rid "$C" dl1-1 >/dev/null 2>&1'
tm kill-server 2>/dev/null

t_ok 'down in all three workspaces' '
	for w in "$A" "$B" "$C"; do m -w "$w" -c "down --force" >"$T/down.log" 2>&1 || { tail -3 "$T/down.log"; exit 1; }; done
	inventory "$A" | grep -q "\"instance\": \[\], \"efs\": \[\]" && inventory "$B" | grep -q "\"vpc\": \[\], "'
t_ok 'lab down leaves no namespace of this lab' '
	"$MLSH" --norc lab down >/dev/null 2>&1 && ! ip netns list | grep -q "^$NS-"'
t_done
