#!/usr/bin/env bash
# autostop in the lab: the watchdog from the node's user-data stops an idle
# node by itself (the lab's shutdown shim -> StopInstances in moto), keeps a
# node with a live train run or an interactive SSH session up past its
# limit, and `autostop off` holds.
# No fixed sleeps: every wait is on the watchdog's own state (its `checked`
# time) or on moto, bounded. Needs root.
. "$TESTS_DIR/lib.sh"
[ "$(id -u)" = 0 ] || { echo "not ok - the lab tests run as root"; exit 1; }
export MLSH_LAB_NAME="mlshas$$"
export MLSH_CHECKIP_URL=http://127.0.0.1:9/no-checkip-in-tests
# Seconds, not minutes, in tests (autostop.c).
export MLSH_AUTOSTOP_MIN_S=4
m() { "$MLSH" --norc --lab "$@"; }
py() { python3 -S -c "import json,sys; d=json.load(sys.stdin); $1"; }
cleanup() { "$MLSH" --norc lab down >/dev/null 2>&1; }
trap cleanup EXIT
mkdir -p "$HOME/.ssh" && ssh-keygen -q -t ed25519 -N "" -f "$HOME/.ssh/id_ed25519"
wait_for() { # tries(1 s each) command…
	local n=$1; shift
	for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 1; done
	return 1
}
# The watchdog's view of NODE, one field (autostop.c's row).
as() { m --json -c "node $1 autostop" 2>/dev/null | py "print(d.get(\"$2\", \"\"))"; }
# NODE's last check, unix time on the node (the lab's clock is ours).
checked() { m -c "ssh $1 'sed -n s/^checked=//p /var/lib/mlsh/autostop'" 2>/dev/null; }
state() { m --json -c "node $1 status" 2>/dev/null | py 'print(d["state"])'; }
# The lab shares the machine's /proc/stat: other tests' CPU is not this
# node's, so the CPU rule is switched off here (the sandbox test has it).
is() { [ "$(as "$1" "$2")" = "$3" ]; }
checked_ge() { local c; c=$(checked "$1"); [ -n "$c" ] && [ "$c" -ge "$2" ]; }
busy_with() { [ "$(m --json -c "node $1 autostop" 2>/dev/null | py 'print(d["state"], d.get("reason"))')" = "busy $2" ]; }
is_state() { [ "$(state "$1")" = "$2" ]; }
nocpu() { m -c "ssh $1 \"sudo sh -c 'echo cpu=101 >>/etc/mlsh/autostop'\"" >/dev/null 2>&1; }

"$MLSH" --norc lab up >/dev/null 2>&1
for _ in $(seq 1 10); do m -c "api ec2 DescribeAvailabilityZones" >/dev/null 2>&1 && break; sleep 2; done
t_ok 'two nodes with autostop off: vpc up, node dl1 up --count 2 --autostop off' '
	m -c "vpc up --allow 198.18.0.2/32 --yes; node dl1 up --count 2 --autostop off --yes" >"$T/up.log" 2>&1 ||
	{ tail -5 "$T/up.log"; false; }'
t_ok 'they launch with InstanceInitiatedShutdownBehavior=stop' '
	id=$(m --json -c "node dl1-1 status" | py "print(d[\"id\"])") &&
	m --json -c "api ec2 DescribeInstanceAttribute InstanceId=$id Attribute=instanceInitiatedShutdownBehavior" |
	    grep -q "\"stop\""'
t_ok 'node NAME autostop reads the watchdog: off' '
	wait_for 90 is dl1-1 autostop off && wait_for 90 is dl1-2 autostop off'
nocpu dl1-1; nocpu dl1-2

# dl1-2: a live run, then a short limit: busy, and it stays up past it.
t_ok 'a train run on dl1-2, then autostop 4s: the watchdog says busy' '
	m -c "train run --node dl1-2 --name busy -- sleep 600" >/dev/null 2>&1 &&
	m -c "node dl1-2 autostop 4s" | grep -q "autostop *4s" &&
	wait_for 60 busy_with dl1-2 "train run busy"'
t0=$(date +%s)
t_ok 'still busy and running well past the limit (checks 10 s later)' '
	wait_for 120 checked_ge dl1-2 $((t0 + 10)) &&
	[ "$(as dl1-2 state)" = busy ] && [ "$(state dl1-2)" = running ]'

# status: plain status reads the records only; --refresh reads each running
# node's watchdog (autostop.c) into them.
after() { [ "$(date +%s)" -ge "$1" ]; }
sj() { m --json -c "status $1" 2>/dev/null | py "r={x[\"role\"]:x for x in d}[\"$2\"]; print($3)"; }
t_ok 'status --refresh: dl1-2 with its live run is busy (run busy), no stop time' '
	[ "$(sj --refresh dl1-2 "r[\"autostop_state\"], r[\"busy_reason\"], r[\"stops_in_seconds\"]")" = "busy train run busy None" ] &&
	m -c "status" 2>/dev/null | grep -Eq "^dl1-2 .*busy \(run busy\)"'
t_ok 'dl1-1 idle with autostop 10m: status --refresh shows idle_seconds and a stops-in that decreases' '
	m -c "node dl1-1 autostop 10m" >/dev/null && wait_for 60 is dl1-1 state idle &&
	s1=$(sj --refresh dl1-1 "r[\"stops_in_seconds\"]") && [ "$s1" -gt 0 ] && [ "$s1" -le 600 ] &&
	[ "$(sj "" dl1-1 "r[\"idle_seconds\"] >= 0")" = True ] && t3=$(date +%s) &&
	wait_for 10 after $((t3 + 2)) &&
	s2=$(sj --refresh dl1-1 "r[\"stops_in_seconds\"]") && [ "$s2" -lt "$s1" ] &&
	m -c "status" 2>/dev/null | grep -Eq "^dl1-1 .*idle [0-9]+[ms]*, stops in [0-9]+m" ||
	{ echo "s1=${s1-} s2=${s2-}"; m -c "status"; false; }'
t_ok 'plain status (no SSH) counts the stop down from the record' '
	s3=$(sj "" dl1-1 "r[\"stops_in_seconds\"]") && t4=$(date +%s) &&
	wait_for 10 after $((t4 + 2)) &&
	s4=$(sj "" dl1-1 "r[\"stops_in_seconds\"]") && [ "$s4" -lt "$s3" ]'

# dl1-1: nothing running, 4s: it stops itself.
t_ok 'dl1-1 idle with autostop 4s stops by itself: moto says stopped' '
	m -c "node dl1-1 autostop 4s" >/dev/null &&
	wait_for 120 is_state dl1-1 stopped'
t_ok 'node ls shows dl1-1 stopped' 'm -c "node ls --refresh" | grep -Eq "^dl1-1 .* stopped "'

# dl1-2: autostop off, the run stopped: idle, and it holds.
t_ok 'dl1-2 with autostop off and its run stopped: off, idle, still running past 4 s' '
	m -c "node dl1-2 autostop off" | grep -q "autostop *off" &&
	m -c "train stop --node dl1-2 busy" >/dev/null && t1=$(date +%s) &&
	wait_for 120 checked_ge dl1-2 $((t1 + 10)) &&
	[ "$(as dl1-2 state)" = off ] && [ -z "$(as dl1-2 reason)" ] && [ "$(state dl1-2)" = running ] ||
	{ m -c "node dl1-2 autostop"; false; }'
# An interactive session (a terminal: sshd's "ubuntu@pts/N") keeps dl1-2 up;
# once it ends, dl1-2 stops.
attr() { python3 -S -c "import json,sys; print(json.load(open(sys.argv[1]))['resources'][sys.argv[2]]['attrs'][sys.argv[3]])" \
	"$XDG_STATE_HOME/mlsh/default.json" "$1" "$2"; }
O=(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=5 -o BatchMode=yes -i "$HOME/.ssh/id_ed25519")
in_ssh() { as dl1-2 reason | grep -q "^ssh session (sshd.*: ubuntu@pts/"; }
t_ok 'an open interactive SSH session keeps dl1-2 up with autostop 4s; closed, dl1-2 stops' '
	jpub=$(attr jump public_ip) && nip=$(attr dl1-2 private_ip) &&
	{ ip netns exec "$MLSH_LAB_NAME-client" ssh -tt "${O[@]}" -o "ProxyCommand=ssh ${O[*]} -W %h:%p ubuntu@$jpub" \
	    "ubuntu@$nip" "sleep 300" </dev/null >/dev/null 2>&1 & sp=$!; } &&
	m -c "node dl1-2 autostop 4s" >/dev/null && wait_for 90 in_ssh && t2=$(date +%s) &&
	wait_for 120 checked_ge dl1-2 $((t2 + 8)) && in_ssh && is_state dl1-2 running &&
	kill $sp && wait_for 120 is_state dl1-2 stopped; rc=$?; kill $sp 2>/dev/null; [ $rc = 0 ]'
# --autostop-down: the shim asks, the reconciler reads the instance's
# InstanceInitiatedShutdownBehavior and terminates it.
iid_state() { m --json -c "api ec2 DescribeInstances InstanceId.1=$1" 2>/dev/null |
	py 'print(d["Reservations"][0]["Instances"][0]["State"]["Name"])'; }
is_iid() { [ "$(iid_state "$1")" = "$2" ]; }
t_ok 'node up --autostop-down: idle, dl1-3 terminates itself (TerminateInstances, not Stop)' '
	m -c "node dl1 up --count 3 --autostop 8s --autostop-down --yes" >"$T/up3.log" 2>&1 &&
	id3=$(m --json -c "node dl1-3 status" | py "print(d[\"id\"])") && nocpu dl1-3 &&
	wait_for 180 is_iid "$id3" terminated || { tail -3 "$T/up3.log"; iid_state "$id3"; false; }'
t_ok 'lab down leaves no namespace of this lab' '
	"$MLSH" --norc lab down >/dev/null 2>&1 && ! ip netns list | grep -q "^$MLSH_LAB_NAME-"'
t_done
