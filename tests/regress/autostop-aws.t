#!/usr/bin/env bash
# autostop against moto: node up --autostop-down launches with
# InstanceInitiatedShutdownBehavior=terminate (read back with the AWS CLI),
# the record and status say so; the default is stop. What status shows of a
# watchdog read earlier (the record's autostop_* attributes) is counted on
# to now without SSH. The story on lab hosts: tests/lab/autostop.t.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/regress/node-lib.sh"

W=asdown
shutdown_of() {
	awscli ec2 describe-instance-attribute --instance-id "$(rec $W "$1" id)" \
	    --attribute instanceInitiatedShutdownBehavior | py 'print(d["InstanceInitiatedShutdownBehavior"]["Value"])'
}
row() { m -w $W --json -c status 2>/dev/null | py "r={x[\"role\"]:x for x in d}[\"$1\"]; print($2)"; }
t_ok 'the network comes up' '
	m -c "workspace $W; vpc up --allow 203.0.113.7/32 --types dl1.24xlarge" >/dev/null 2>"$T/up.err" ||
	{ cat "$T/up.err"; false; }'
t_ok 'node up --autostop-down: RunInstances asks for terminate on shutdown' '
	m -w $W -c "node dl1 up --autostop 30m --autostop-down --yes" >/dev/null 2>&1 &&
	[ "$(shutdown_of dl1-1)" = terminate ] && [ "$(rec $W dl1-1 autostop_action)" = terminate ] &&
	[ "$(rec $W dl1-1 autostop)" = 1800 ]'
t_ok 'without it: stop (the disk and /efs stay)' '
	m -w $W -c "node dl1 up --count 2 --yes" >/dev/null 2>&1 &&
	[ "$(shutdown_of dl1-2)" = stop ] && [ -z "$(rec $W dl1-2 autostop_action)" ]'
t_ok 'status: the action, the setting, never read yet' '
	[ "$(row dl1-1 "r[\"autostop\"], r[\"autostop_action\"], r[\"autostop_state\"], r[\"stops_in_seconds\"]")" = "30m terminate None None" ] &&
	m -w $W -c status 2>/dev/null | grep -Eq "^dl1-1 .*30m, not read yet"'
# A watchdog read 100 s ago (idle for 60 s then): plain status counts on.
edit() { python3 - "$XDG_STATE_HOME/mlsh/$W.json" "$@" <<'PY'
import json, sys, time
p = sys.argv[1]; s = json.load(open(p)); a = s["resources"]["dl1-1"]["attrs"]
now = int(time.time())
for kv in sys.argv[2:]:
    k, v = kv.split("=", 1)
    a[k] = str(now + int(v[1:])) if v[:1] == "@" else v
json.dump(s, open(p, "w"))
PY
}
t_ok 'idle: idle_seconds and stops_in_seconds from the record, "idle 2m, terminates in 28m"' '
	edit autostop_state=idle autostop_idle_since=@-160 autostop_checked=@-100 &&
	r=$(row dl1-1 "r[\"idle_seconds\"], r[\"stops_in_seconds\"], r[\"checked_seconds_ago\"]") &&
	set -- $r && [ "$1" -ge 160 ] && [ "$1" -le 200 ] && [ "$2" -le 1640 ] && [ "$2" -ge 1600 ] && [ "$3" -ge 100 ] &&
	m -w $W -c status 2>/dev/null | grep -Eq "^dl1-1 .*idle 2m[0-9]*s?, terminates in 2[0-9]m"'
# On a terminal: the prompt's nearest stop, and leaving names the autostop.
command -v tmux >/dev/null || { echo "not ok - tmux is installed"; exit 1; }
S="mlsh-asprompt$$"
export TMUX_TMPDIR="$T"
t_on_exit 'tmux -L "$S" kill-server 2>/dev/null'
t_ok 'the prompt shows the nearest stop (stop 27m); leaving lists dl1 with "autostop 30m (terminates)"' '
	m -w $W -c "node dl1-2 down --force" >/dev/null 2>&1 &&
	tmux -L "$S" new-session -d -s main -x 120 -y 20 \
	    "env HOME=$HOME XDG_STATE_HOME=$XDG_STATE_HOME TERM=xterm AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY AWS_REGION=us-east-1 $MLSH --norc --endpoint-url $U -w $W; echo exited \$?; sleep 600" &&
	t_wait 30 "tmux -L $S capture-pane -p -t main | grep -Eq \"^mlsh $W@.* stop 2[67]m>\"" &&
	tmux -L "$S" send-keys -t main exit Enter &&
	t_wait 30 "tmux -L $S capture-pane -p -t main | grep -q \"^exited 0\"" &&
	tmux -L "$S" capture-pane -p -t main | grep -Eq "^  dl1 +×1 .*autostop 30m \(terminates\)$" ||
	{ tmux -L "$S" capture-pane -p -t main; false; }'
tmux -L "$S" kill-server 2>/dev/null
t_ok 'busy: "busy (run r3)", no stop time; autostop off: "autostop off"' '
	edit autostop_state=busy "autostop_reason=train run r3" &&
	m -w $W -c status 2>/dev/null | grep -Eq "^dl1-1 .*busy \(run r3\)" &&
	[ "$(row dl1-1 "r[\"idle_seconds\"], r[\"stops_in_seconds\"]")" = "0 None" ] &&
	edit autostop=off && m -w $W -c status 2>/dev/null | grep -Eq "^dl1-1 .*autostop off"'
t_ok 'status --refresh on an emulator reads no watchdog (its addresses are not hosts)' '
	m -w $W -c "status --refresh" >"$T/r.out" 2>"$T/r.err" && ! grep -q "autostop not read" "$T/r.err"'
for bad in "--autostop off --autostop-down" "--autostop-down --spot"; do
	t_ok "node up $bad: a one-line error" '
		out=$(m -w $W -c "node dl1 up --count 3 '"$bad"' --dry-run" 2>&1); rc=$?
		[ $rc -ne 0 ] && [ "$(printf "%s\n" "$out" | wc -l)" = 1 ] && grep -q -- "--autostop-down" <<<"$out"'
done
t_done
