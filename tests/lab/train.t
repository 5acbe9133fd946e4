#!/usr/bin/env bash
# train in the lab: a run started through the jump host keeps going when the
# mlsh following it is killed -9; a new `train attach` resumes with no line
# lost or repeated; stop (TERM, then KILL after the grace period); Ctrl-C
# detaches; status with progress, ETA and cost to finish; ls; errors; Lua.
# Needs root (the lab).
. "$TESTS_DIR/lib.sh"
[ "$(id -u)" = 0 ] || { echo "not ok - the lab tests run as root"; exit 1; }

export MLSH_LAB_NAME="mlshtr$$"
export MLSH_CHECKIP_URL=http://127.0.0.1:9/no-checkip-in-tests
m() { "$MLSH" --norc --lab "$@"; }
mbg() { exec "$MLSH" --norc --lab "$@"; }	# `mbg … &`: $! is mlsh itself
py() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }
root_net() { ip -o addr; ip route; ip -o link | sed 's/ qlen.*//'; ip rule; }
root_net > "$T/net.before" 2>&1
bg_pids=""
cleanup() {
	for p in $bg_pids; do kill -9 "$p" 2>/dev/null; done
	[ -n "${TMUX_TMPDIR:-}" ] && tmux kill-server 2>/dev/null
	"$MLSH" --norc lab down >/dev/null 2>&1
}
trap cleanup EXIT

mkdir -p "$HOME/.ssh"
ssh-keygen -q -t ed25519 -N "" -f "$HOME/.ssh/id_ed25519"

# A node made with `api ec2 RunInstances` and recorded the way node.c records
# one, for when `node dl1 up` cannot run in this lab.
mknode() { # ROLE
	local role=$1 st="$XDG_STATE_HOME/mlsh/default.json" ud out iid ip
	read -r subnet sg key mt < <(python3 -c "
import json;r=json.load(open('$st'))['resources']
print(r['subnet-private']['id'], r['sg-nodes']['id'], r['key']['id'], r.get('mount-target',{}).get('attrs',{}).get('private_ip','-'))")
	ud=$(printf '#!/bin/sh\nif [ "%s" != - ]; then mkdir -p /efs; for i in 1 2 3 4 5 6 7 8 9 10; do mount -t nfs4 %s:/ /efs && break; sleep 1; done; chown ubuntu:ubuntu /efs; fi\n' "$mt" "$mt" | base64 -w0)
	out=$(m --json -c "api ec2 RunInstances ImageId=ami-0a1b2c3d4e5f60001 MinCount=1 MaxCount=1 InstanceType=dl1.24xlarge KeyName=$key UserData=$ud SubnetId=$subnet SecurityGroupId.1=$sg") || return 1
	read -r iid ip < <(py 'i=d["Instances"][0];print(i["InstanceId"],i["PrivateIpAddress"])' <<<"$out")
	python3 - "$st" "$role" "$iid" "$ip" <<'PY'
import json, os, sys, time
path, role, iid, ip = sys.argv[1:]
d = json.load(open(path))
d["resources"][role] = {"role": role, "type": "instance", "region": "us-east-1",
    "created": int(time.time()), "id": iid, "status": "created",
    "attrs": {"state": "running", "instance_type": "dl1.24xlarge", "private_ip": ip}}
with open(path + ".tmp", "w") as f: json.dump(d, f)
os.chmod(path + ".tmp", 0o600); os.rename(path + ".tmp", path)
PY
}
# Bounded waits.
wait_for() { # tries(0.2 s each) command…
	local n=$1; shift
	for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.2; done
	return 1
}
lines() { [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; }
cat >"$T/st.mlsh" <<"EOF"
print(train.attach(arg[1]).state)
EOF
state_of() { m --json -c "train status $1" 2>/dev/null | py 'print(d["state"])'; }

# On a busy machine the lab's moto takes more than mlsh's 10 s to answer its
# first EC2 request (it builds the region's backend; 55 s seen): warm it up,
# bounded, before the stack (as grafana.t does).
"$MLSH" --norc lab up >/dev/null 2>&1
for _ in $(seq 1 10); do m -c "api ec2 DescribeAvailabilityZones" >/dev/null 2>&1 && break; sleep 2; done
t_ok 'a stack in the lab: vpc up, efs up' '
	m -c "vpc up --allow 198.18.0.2/32 --yes" >"$T/vpc.log" 2>&1 &&
	m -c "efs up" >"$T/efs.log" 2>&1'
if m -c "node dl1 up --yes" >"$T/node.log" 2>&1; then
	echo "# node dl1-1 from node dl1 up"
else
	echo "# node dl1 up failed here ($(tail -1 "$T/node.log")); dl1-1 from api ec2 RunInstances"
	mknode dl1-1
fi
t_ok 'the node answers through the jump host' '
	wait_for 300 m -c "train ls" >/dev/null 2>&1'
t_ok 'train ls with no runs is an empty table' '[ "$(m --json -c "train ls")" = "[]" ]'

# The runs wait at a gate (a file on the node, 150 s at most) so that what a
# test checks while a run is alive cannot race the run's end on a slow machine.
gate() { # NAME: the gate's path on the node
	echo "/tmp/$MLSH_LAB_NAME-gate-$1"; }
open_gate() { m -c "ssh dl1-1 touch $(gate "$1")" >/dev/null 2>&1; }
GATE='g() { n=0; while [ ! -e "$1" ] && [ $n -lt 1500 ]; do sleep 0.1; n=$((n+1)); done; }; '
SEQ=$GATE'i=0; while [ $i -lt 150 ]; do i=$((i+1)); echo "line $i"; [ $i = 50 ] && g '$(gate r1)'; sleep 0.04; done'
start() { # [OPTIONS…] SHELL-LINE: the run's name
	local line=${*: -1}
	m --json -c "train run ${*:1:$#-1} -- '$line'" | py 'print(d["run"])'
}
t_ok 'train run starts a detached run named r1' '
	[ "$(start "$SEQ")" = r1 ] &&
	[ "$(state_of r1)" = running ]'
t_ok 'its files are in the run directory' '
	m --json -c "train status r1" | py "assert d[\"dir\"].endswith(\"/runs/r1\"), d; assert d[\"pid\"] > 0, d"'

mbg -c "train attach r1" >"$T/a1.out" 2>"$T/a1.err" &
a1=$!; bg_pids="$bg_pids $a1"
t_ok 'the follower prints the log as it grows' 'wait_for 300 lines "$T/a1.out" 20'
kill -9 "$a1"; wait "$a1" 2>/dev/null
n1=$(wc -l <"$T/a1.out")
logs_past() { [ "$(m -c "train logs $1" | wc -l)" -gt "$2" ]; }
t_ok 'kill -9 of the follower: the run goes on' '
	[ "$(state_of r1)" = running ] && open_gate r1 &&
	wait_for 300 logs_past r1 "$n1"'
t_ok 'a new train attach resumes: 1..150, no gap, no repeat' '
	m -c "train attach r1" >"$T/a2.out" 2>"$T/a2.err" &&
	grep -q "resuming at byte" "$T/a2.err" &&
	cat "$T/a1.out" "$T/a2.out" | diff - <(seq 1 150 | sed "s/^/line /")'
# A dropped connection while following: end the jump host's sshd processes
# serving mlsh (never its listener); the follow reconnects at its offset.
drop_jump_conns() {
	local jid ns a n=0
	jid=$(python3 -c "import json;print(json.load(open('$XDG_STATE_HOME/mlsh/default.json'))['resources']['jump']['id'])")
	ns="$MLSH_LAB_NAME-$jid"
	for p in $(ip netns pids "$ns"); do
		a=$(ps -o args= -p "$p") || continue
		case "$a" in *"sshd: ubuntu"*) kill "$p" && n=$((n + 1));; esac
	done
	[ "$n" -gt 0 ]
}
SEQ2=$GATE'i=0; while [ $i -lt 100 ]; do i=$((i+1)); echo "line $i"; [ $i = 30 ] && g '$(gate drop)'; sleep 0.05; done'
start --name drop "$SEQ2" >/dev/null
mbg -c "train attach drop" >"$T/r.out" 2>"$T/r.err" &
rp=$!; bg_pids="$bg_pids $rp"
wait_for 300 lines "$T/r.out" 10
drop_jump_conns; dropped=$?
open_gate drop
wait "$rp"; rrc=$?
t_ok 'a connection dropped mid-follow: reconnected, 1..100 with no gap or repeat' '
	{ [ "$dropped" = 0 ] && [ "$rrc" = 0 ] &&
	  diff "$T/r.out" <(seq 1 100 | sed "s/^/line /"); } ||
	{ echo "dropped=$dropped rc=$rrc; its stderr:"; tail -20 "$T/r.err"; false; }'
t_out 'the run ended: exited 0' 'exited 0' 'state_of r1'
t_ok 'attach again prints nothing new; --all the whole log' '
	[ -z "$(m -c "train attach r1" 2>/dev/null)" ] &&
	[ "$(m -c "train attach --all r1" 2>/dev/null | wc -l)" = 150 ]'
t_ok 'train logs prints the whole log' '[ "$(m -c "train logs r1" | wc -l)" = 150 ]'

start --name long "sleep 600" >/dev/null
start --name stubborn 'trap "" TERM; echo ignoring TERM; sleep 600' >/dev/null
pid_of() { m --json -c "train status $1" | py 'print(d["pid"])'; }
lp=$(pid_of long); sp=$(pid_of stubborn)
t_ok 'train stop: TERM ends the run, exit 143, state killed' '
	out=$(m --json -c "train stop long") &&
	py "assert d[\"signal\"]==\"TERM\" and d[\"exit\"]==\"143\", d" <<<"$out" &&
	! kill -0 "$lp" 2>/dev/null && [ "$(state_of long)" = killed ]'
# Bounded without timing the stop (a loaded machine takes seconds per ssh
# round trip): one that waited for the run instead of KILLing it after the
# grace would last until its sleep 600 ends, twice the timeout.
t_ok 'train stop: a run ignoring TERM gets KILL after --grace' '
	out=$(timeout 300 "$MLSH" --norc --lab --json -c "train stop --grace 1 stubborn") &&
	py "assert d[\"signal\"]==\"KILL\" and d[\"exit\"]==\"137\", d" <<<"$out" &&
	! kill -0 "$sp" 2>/dev/null && [ "$(state_of stubborn)" = killed ]'
t_ok 'train stop of an ended run changes nothing' '
	m --json -c "train stop r1" | py "assert d[\"state\"]==\"exited 0\", d"'

start --name det 'for i in $(seq 1 300); do echo $i; sleep 0.1; done' >/dev/null
mbg -c "train attach det" >"$T/d.out" 2>"$T/d.err" &
dp=$!; bg_pids="$bg_pids $dp"
wait_for 300 lines "$T/d.out" 3
kill -INT "$dp"
wait "$dp"; drc=$?
t_ok 'Ctrl-C detaches: attach ends with 0, the run goes on' '
	[ "$drc" = 0 ] && grep -q "detached from det" "$T/d.err" &&
	[ "$(state_of det)" = running ]'
m -c "train stop --grace 1 det" >/dev/null

# Progress: two DCGAN lines 30 minutes apart (log time): from a quarter
# to half done, so the other half takes 30 minutes * 2 = an hour, at
# dl1.24xlarge's $13.11/h.
PROG='echo "[2022-01-24 10:00:00] [0/4][99/100] Loss_D: 1.0 Loss_G: 2.0 D(x): 0.5 D(G(z)): 0.5 / 0.5"; echo "[2022-01-24 10:30:00] [1/4][99/100] Loss_D: 0.4 Loss_G: 2.9 D(x): 0.8 D(G(z)): 0.1 / 0.2"; sleep 600'
start --name prog "$PROG" >/dev/null
t_ok 'train status: progress, ETA, cost to finish and the last losses' '
	wait_for 300 sh -c "\"$MLSH\" --norc --lab -c \"train status prog\" | grep -q \"epoch 1/4\"" &&
	out=$(m --json -c "train status prog") &&
	py "p=d[\"progress\"]; assert (p[\"epoch\"],p[\"epochs\"])==(1,4) and abs(p[\"fraction\"]-0.5)<1e-9, d; assert d[\"eta_seconds\"]==3600, d; assert d[\"cost_to_finish_usd\"]==13.11, d; assert d[\"last\"].startswith(\"Loss_D: 0.4\"), d" <<<"$out" &&
	m -c "train status prog" | grep -q "^eta  *1h00m" && m -c "train status prog" | grep -q "^cost_to_finish  *[$]13[.]11"'
t_ok 'attach (no tty) prints a plain progress line on stderr' '
	mbg -c "train attach prog" >/dev/null 2>"$T/p.err" &
	p=$!; line="^\[run prog\] epoch 1/4 50%  ETA 1h00m  est. cost to finish \$13.11"
	wait_for 300 grep -q "$line" "$T/p.err"; kill -INT $p; wait $p;
	grep -q "$line" "$T/p.err"'
# On a terminal: one updating bar; Ctrl-C there detaches.
if command -v tmux >/dev/null; then
	export TMUX_TMPDIR="$T"		# a private tmux server
	tmux new-session -d -s tr -x 120 -y 12 \
		"'$MLSH' --norc --lab -c 'train attach --all prog'; echo attach-exit=\$?; sleep 600"
	screen() { tmux capture-pane -p -t tr 2>/dev/null; }
	t_ok 'attach on a tty: a progress bar with ETA and cost to finish' '
		wait_for 300 sh -c "tmux capture-pane -p -t tr | grep -q \"ETA 1h00m\"" &&
		screen | grep -q "^\[run prog\] epoch 1/4 ▕████████░░░░░░░░▏ 50%  ETA 1h00m  est. cost to finish \$13.11"'
	tmux send-keys -t tr C-c
	t_ok 'Ctrl-C on the tty detaches and leaves the run going' '
		{ wait_for 300 sh -c "tmux capture-pane -p -t tr | grep -q attach-exit=" &&
		  screen | grep -q attach-exit=0 &&
		  screen | grep -q "detached from prog" && [ "$(state_of prog)" = running ]; } ||
		{ echo "the screen:"; screen; false; }'
	tmux kill-server 2>/dev/null
else
	t_skip 'attach on a tty: tmux is not installed (make deps)'
fi
m -c "train stop --grace 1 prog" >/dev/null
t_ok 'a custom train_pattern' '
	cat >"$T/pat.mlsh" <<-"EOF"
	set("train_pattern", "epoch ([0-9]+) of ([0-9]+) batch ([0-9]+) of ([0-9]+)")
	train.run{name = "pat", cmd = "echo epoch 1 of 4 batch 5 of 10, loss 3"}
	local p = train.attach("pat").progress
	print(string.format("epoch %d/%d %d%%", p.epoch, p.epochs, math.floor(p.fraction * 100)))
	EOF
	[ "$(m "$T/pat.mlsh" 2>/dev/null | tail -1)" = "epoch 1/4 40%" ]'

t_ok 'train ls: every run with its state' '
	out=$(m --json -c "train ls") &&
	py "s={r[\"run\"]:r[\"state\"] for r in d}; assert s[\"r1\"]==\"exited 0\" and s[\"long\"]==\"killed\" and s[\"stubborn\"]==\"killed\" and s[\"det\"]==\"killed\", s" <<<"$out"'
t_ok '--env with no conda: one line at start, no run made' '
	! m -c "train run --name noenv --env pytorch_p38 -- python3 -c 1" >/dev/null 2>"$T/noenv.err" &&
	grep -q "^train: cannot start on dl1-1: no conda on this node: cannot activate environment .pytorch_p38." "$T/noenv.err" &&
	[ "$(wc -l <"$T/noenv.err")" = 1 ] && ! m -c "train ls" | grep -q noenv'
# A stand-in conda on the node whose only environment is "base".
printf '%s\n' '[ "$1" = base ] || return 1' 'export CONDA_DEFAULT_ENV=base' >"$T/activate"
m -c "ssh dl1-1 'mkdir -p miniconda3/bin'; cp $T/activate dl1-1:miniconda3/bin/activate" >/dev/null
t_ok '--env naming an environment the node'\''s conda lacks: one line at start' '
	! m -c "train run --name noenv2 --env nope -- true" >/dev/null 2>"$T/noenv2.err" &&
	grep -q "^train: cannot start on dl1-1: no conda environment .nope. on this node" "$T/noenv2.err" &&
	[ "$(wc -l <"$T/noenv2.err")" = 1 ]'
t_ok '--env naming one it has runs in it' '
	m -c "train run --name inbase --env base -- printenv CONDA_DEFAULT_ENV" >/dev/null &&
	[ "$(m "$T/st.mlsh" inbase 2>/dev/null | tail -1)" = "exited 0" ] && m -c "train logs inbase" | grep -qx base'
m -c "ssh dl1-1 'rm -rf ~/miniconda3'"
cat >"$T/q.mlsh" <<"EOF"
train.run{name = "q", workdir = "/tmp",
	cmd = {"sh", "-c", 'pwd; printf "%s|" "$@"', "x", "a b", "it's", "$HOME", "`id`"}}
train.attach("q")
EOF
t_ok '--workdir and quoting: words with quotes and blanks arrive intact' '
	m "$T/q.mlsh" 2>/dev/null | diff - <(printf "/tmp\na b|it'"'"'s|\$HOME|\`id\`|")'
t_ok 'a run name is never reused' '
	! m -c "train run --name q -- true" 2>"$T/q.err" &&
	grep -q "^train: cannot start on dl1-1: run .q. already exists in /" "$T/q.err" &&
	[ "$(wc -l <"$T/q.err")" = 1 ]'
t_err 'an unknown node: one line naming the nodes' \
	"train: no node 'dl1-9' in workspace 'default' (nodes: dl1-1)" 1 \
	'm -c "train run --node dl1-9 -- true"'
t_err 'an unknown run' "train: no run 'nope' on dl1-1" 1 'm -c "train attach nope"'
t_ok 'Lua: train.run{cmd={…}} and train.attach return tables' '
	cat >"$T/t.mlsh" <<-"EOF"
	local r = train.run{name = "lua1", cmd = {"echo", "from lua"}}
	local s = train.attach(r.run)
	assert(s.state == "exited 0", s.state)
	print("ok " .. r.run .. " " .. r.node)
	EOF
	[ "$(m "$T/t.mlsh")" = "from lua
ok lua1 dl1-1" ]'

t_ok 'lab down leaves no namespace' '
	"$MLSH" --norc lab down >/dev/null && ! ip netns list | grep -q "^$MLSH_LAB_NAME-"'
t_ok 'the root namespace is unchanged by the whole test' '
	root_net > "$T/net.after" 2>&1; diff "$T/net.before" "$T/net.after"'
t_done
