#!/usr/bin/env bash
# Grafana in the lab: its user-data runs on a lab host, which has no network,
# so apt fails: the script must say so on the console (after its bounded
# retries) and `grafana status` must report that Grafana did not install.
# `grafana open` shows the generated admin login. Needs root.
. "$TESTS_DIR/lib.sh"
[ "$(id -u)" = 0 ] || { echo "not ok - the lab tests run as root"; exit 1; }
export MLSH_LAB_NAME="mlshgf$$"
m() { "$MLSH" --norc --lab "$@"; }
cleanup() { [ -n "${srv:-}" ] && kill "$srv" 2>/dev/null; "$MLSH" --norc lab down >/dev/null 2>&1; }
trap cleanup EXIT
mkdir -p "$HOME/.ssh" && ssh-keygen -q -t ed25519 -N "" -f "$HOME/.ssh/id_ed25519"
STATE="$XDG_STATE_HOME/mlsh/gft.json"

# On a busy machine the lab's moto can take more than mlsh's 10 s to answer
# its first EC2 request: warm it up (bounded) before timing anything.
"$MLSH" --norc lab up >/dev/null 2>&1
for _ in 1 2 3 4 5 6; do m -c "api ec2 DescribeInstanceTypeOfferings" >/dev/null 2>&1 && break; sleep 2; done
t_ok 'the network and Grafana come up in the lab' '
	m -c "workspace gft; vpc up --allow 198.18.0.2/32 --yes; grafana up --yes" >/dev/null 2>"$T/up.err" ||
	{ cat "$T/up.err"; false; }'
id=$(python3 -S -c "import json; print(json.load(open('$STATE'))['resources']['grafana']['id'])")
# The host's console log, once the reconciler has made the host (asked
# again until lab status names it). The user-data's apt steps: 3 attempts,
# 5 s and 10 s apart, each failing at once without a network: the FAILED
# line within ~30 s; allow 180 (a look a second: the FAILED line is seen
# at most a second late).
console= end=$((SECONDS + 180))
for _ in $(seq 1 180); do
	[ "$SECONDS" -lt "$end" ] || break
	[ -n "$console" ] || console=$(m --json -c "lab status" | python3 -S -c "import json,sys; print(next(r['detail'] for r in json.load(sys.stdin) if r.get('id')=='$id'))" 2>/dev/null)
	[ -n "$console" ] && grep -q "mlsh-grafana: FAILED" "$console" 2>/dev/null && break
	sleep 1
done
t_ok 'the user-data retried apt and wrote each failure and the verdict to the console' '
	grep -q "^mlsh-grafana: installing grafana" "$console" &&
	grep -q "^mlsh-grafana: FAILED apt-get" "$console" &&
	step=$(sed -n "s/^mlsh-grafana: apt-get \(.*\) failed (attempt 3 of 3.*/\1/p" "$console") && [ -n "$step" ] &&
	[ "$(grep -cF "mlsh-grafana: apt-get $step failed (attempt" "$console")" -eq 3 ] ||
	{ cat "$console"; false; }'
t_ok 'grafana status says Grafana did not install' '
	m --json -c "grafana status" >"$T/st.json" 2>"$T/st.err" &&
	python3 -S -c "import json; d=json.load(open(\"$T/st.json\")); assert d[\"grafana\"].startswith(\"did not install: apt-get \"), d" &&
	grep -q "^grafana: Grafana did not install on $id: apt-get " "$T/st.err"'

# A stand-in on the Grafana host's port 3000 (no Grafana could install).
m -c "ssh grafana 'cd /tmp; nohup python3 -m http.server 3000 >/tmp/h.log 2>&1 </dev/null &'"
gport=$(python3 -S -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
"$MLSH" --norc --lab -c "grafana open --port $gport" >"$T/open.out" 2>&1 &
srv=$!
t_ok 'grafana open prints the URL and the generated admin login, never admin/admin' '
	for _ in $(seq 1 100); do grep -q "^password" "$T/open.out" && break; sleep 0.1; done
	pw=$(python3 -S -c "import json; print(json.load(open(\"$STATE\"))[\"grafana\"][\"admin_password\"])") &&
	[ ${#pw} -eq 24 ] && grep -q "^url  *http://127.0.0.1:$gport/" "$T/open.out" &&
	grep -q "^user  *admin$" "$T/open.out" && grep -q "^password  *$pw$" "$T/open.out" ||
	{ cat "$T/open.out"; false; }'
kill -TERM "$srv"; wait "$srv" 2>/dev/null; srv=
# Down before t_done removes the state the lab needs to find its pieces.
"$MLSH" --norc lab down >/dev/null 2>&1
t_done
