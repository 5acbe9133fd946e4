#!/usr/bin/env bash
# ssh, cp, tunnel and ssh-config in the lab: mlsh's own SSH (libssh2) through
# the jump host to a private node, against real OpenSSH servers. Needs root.
. "$TESTS_DIR/lib.sh"
[ "$(id -u)" = 0 ] || { echo "not ok - the lab tests run as root"; exit 1; }
export MLSH_LAB_NAME="mlshss$$"
m() { "$MLSH" --norc --lab "$@"; }
cleanup() { [ "${TMUX_TMPDIR:-}" = "$T" ] && tmux kill-server 2>/dev/null; "$MLSH" --norc lab down >/dev/null 2>&1; [ -n "${srv:-}" ] && kill "$srv" 2>/dev/null; }
trap cleanup EXIT
mkdir -p "$HOME/.ssh" && ssh-keygen -q -t ed25519 -N "" -f "$HOME/.ssh/id_ed25519"

t_ok 'the stack comes up in the lab' '
	m -c "workspace ssht; vpc up --allow 198.18.0.2/32 --yes; efs up; node dl1 up --yes" >/dev/null'
t_ok 'ssh runs a command on the jump host and on the node' '
	[ "$(m -c "ssh jump hostname")" = "$(m -c "ssh jump hostname")" ] &&
	m -c "ssh dl1-1 hostname" | grep -q "^ip-10-"'
t_ok 'the remote exit status is mlsh'\''s' '
	m -c "ssh dl1-1 '"'"'exit 7'"'"'"; [ $? -eq 7 ]'
t_ok 'stdout and stderr stay apart' '
	out=$(m -c "ssh dl1-1 '"'"'echo out; echo err >&2'"'"'" 2>"$T/err") &&
	[ "$out" = out ] && grep -qx err "$T/err"'
t_ok 'first contact recorded the host keys in mlsh'\''s known_hosts' '
	[ "$(wc -l < "$XDG_STATE_HOME/mlsh/known_hosts")" -ge 2 ]'
t_ok '10 MB of output arrive intact' '
	m -c "ssh dl1-1 '"'"'head -c 10000000 /dev/urandom > /tmp/big; sha256sum < /tmp/big'"'"'" > "$T/want" &&
	m -c "ssh dl1-1 '"'"'cat /tmp/big'"'"'" | sha256sum | diff - "$T/want"'
t_ok 'the node shares /efs with the mount options of the seed' '
	m -c "ssh dl1-1 '"'"'grep -q \" /efs \" /proc/mounts && touch /efs/from-node'"'"'"'

head -c 50000000 /dev/urandom > "$T/f50"
t_ok 'cp: a 50 MB round trip through the jump host' '
	m -c "cp $T/f50 dl1-1:/efs/f50; cp dl1-1:/efs/f50 $T/f50.back" >/dev/null && cmp "$T/f50" "$T/f50.back"'
t_ok 'cp resumes a partial copy' '
	m -c "ssh dl1-1 '"'"'truncate -s 20000000 /efs/f50'"'"'" &&
	out=$(m --json -c "cp $T/f50 dl1-1:/efs/f50") &&
	python3 -S -c "import json,sys; d=json.loads(sys.argv[1]); assert d[\"resumed_from\"]==20000000 and d[\"bytes\"]==30000000, d" "$out" &&
	m -c "cp dl1-1:/efs/f50 $T/f50.again" >/dev/null && cmp "$T/f50" "$T/f50.again"'
t_ok 'cp -r copies a directory' '
	mkdir -p "$T/d/sub" && echo a > "$T/d/a" && echo b > "$T/d/sub/b" &&
	m -c "cp -r $T/d dl1-1:/efs/d" >/dev/null &&
	[ "$(m -c "ssh dl1-1 '"'"'cat /efs/d/a /efs/d/sub/b'"'"'")" = "a
b" ]'

# scp's habits: a destination that is an existing directory receives the
# copy under the source's name, both ways, with -r too.
echo one > "$T/f1" && mkdir -p "$T/ldir"
t_ok 'cp into an existing remote directory, with or without the slash' '
	m -c "ssh dl1-1 '"'"'mkdir -p /efs/code'"'"'" &&
	out=$(m --json -c "cp $T/f1 dl1-1:/efs/code/") &&
	python3 -S -c "import json,sys; d=json.loads(sys.argv[1]); assert d[\"to\"]==\"dl1-1:/efs/code/f1\", d" "$out" &&
	m -c "ssh dl1-1 '"'"'rm /efs/code/f1'"'"'; cp $T/f1 dl1-1:/efs/code" >/dev/null &&
	[ "$(m -c "ssh dl1-1 '"'"'cat /efs/code/f1'"'"'")" = one ]'
t_ok 'cp -r into an existing remote directory puts the tree under it' '
	m -c "cp -r $T/d dl1-1:/efs/code/" >/dev/null &&
	[ "$(m -c "ssh dl1-1 '"'"'cat /efs/code/d/a /efs/code/d/sub/b'"'"'")" = "a
b" ]'
t_ok 'cp from a node into an existing local directory, and -r' '
	m -c "cp dl1-1:/efs/code/f1 $T/ldir; cp -r dl1-1:/efs/code $T/ldir/" >/dev/null &&
	[ "$(cat "$T/ldir/f1")" = one ] && [ "$(cat "$T/ldir/code/d/sub/b")" = b ]'
t_ok 'cp errors name the node, never its private address' '
	out=$(m -c "cp $T/f1 dl1-1:/no/such/dir/x; cp -r dl1-1:/no/such $T/ldir" 2>&1); [ $? -ne 0 ] &&
	grep -q "^cp: dl1-1: cannot create \"/no/such/dir/x\"" <<<"$out" &&
	! grep -q "10\.[0-9]*\.[0-9]*\.[0-9]" <<<"$out"'

# Right after vpc up the jump host's address may have no route yet
# ("Network is unreachable"): ssh waits as for a refused connection. The
# lab's client namespace loses its route to the jump host until mlsh says
# it waits, then gets it back.
jip=$(python3 -S -c 'import json,sys; print(json.load(open(sys.argv[1]))["resources"]["jump"]["attrs"]["public_ip"])' \
	"$XDG_STATE_HOME/mlsh/ssht.json")
ip -n "$MLSH_LAB_NAME-client" route del "$jip/32"
"$MLSH" --norc --lab -c "ssh jump hostname" >"$T/retry.out" 2>"$T/retry.err" &
rpid=$!
t_ok 'ssh to a jump host with no route yet says it waits' 't_wait 60 "grep -q \"waiting for jump.s sshd\" \"$T/retry.err\""'
ip -n "$MLSH_LAB_NAME-client" route add "$jip/32" dev eth0 src 198.18.0.2
for _ in $(seq 1 600); do kill -0 $rpid 2>/dev/null || break; sleep 0.1; done
kill $rpid 2>/dev/null; wait $rpid; rrc=$?
t_ok 'and connects once the route is there' '[ $rrc -eq 0 ] && grep -q "^ip-10-" "$T/retry.out"'
# A jump host that drops SYNs while it boots (connect timeout; the client's
# address is in its --allow, so no security-group hint): waited for too.
# A table of the test's own in the jump host's namespace drops port 22.
jns="$MLSH_LAB_NAME-$(python3 -S -c 'import json,sys; print(json.load(open(sys.argv[1]))["resources"]["jump"]["id"])' \
	"$XDG_STATE_HOME/mlsh/ssht.json")"
printf 'table inet mlshtestdrop {\n\tchain input { type filter hook input priority -50; tcp dport 22 drop; }\n}\n' |
	ip netns exec "$jns" nft -f -
"$MLSH" --norc --lab -c "ssh jump hostname" >"$T/retry2.out" 2>"$T/retry2.err" &
rpid=$!
t_ok 'ssh to a jump host that times out says it waits' 't_wait 60 "grep -q \"waiting for jump.s sshd\" \"$T/retry2.err\""'
ip netns exec "$jns" nft delete table inet mlshtestdrop
for _ in $(seq 1 900); do kill -0 $rpid 2>/dev/null || break; sleep 0.1; done
kill $rpid 2>/dev/null; wait $rpid; rrc=$?
t_ok 'and connects once it answers' '[ $rrc -eq 0 ] && grep -q "^ip-10-" "$T/retry2.out" || { cat "$T/retry2.err"; false; }'
t_ok 'the wait is bounded: a route that never comes fails with one line' '
	ip -n "$MLSH_LAB_NAME-client" route del "$jip/32"
	out=$(m -c "ssh jump true" 2>&1); rc=$?
	ip -n "$MLSH_LAB_NAME-client" route add "$jip/32" dev eth0 src 198.18.0.2
	[ $rc -eq 1 ] && grep -q "waiting for jump.s sshd" <<<"$out" && grep -qi "^ssh: jump .*unreachable" <<<"$out"'

# A tunnel to a server on the private node, 20 connections at once.
m -c "ssh dl1-1 'cd /tmp; nohup python3 -m http.server 8080 >/tmp/http.log 2>&1 </dev/null &'"
port=$(python3 -S -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
"$MLSH" --norc --lab -c "tunnel dl1-1 $port:8080" >"$T/tunnel.out" 2>&1 &
srv=$!		# mlsh itself, so the kill below reaches it
t_ok 'a tunnel carries HTTP to the node, 20 connections at once' '
	for _ in $(seq 1 300); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
	[ "$(seq 20 | xargs -P 20 -I{} curl -s -m 10 -o /dev/null -w "%{http_code}\n" "http://127.0.0.1:$port/" | grep -c 200)" = 20 ]'
t_ok 'the tunnel listens on loopback only' 'ss -ltn | grep ":$port " | grep -q "127.0.0.1:$port"'
kill -TERM "$srv"; wait "$srv" 2>/dev/null; srv=

# grafana open: the seed's hand-made ssh -L, as one command. The lab's
# Grafana host runs no Grafana (no network to install it): a stand-in
# server on its port 3000 plays it.
m -c "grafana up --yes" >/dev/null 2>&1
m -c "ssh grafana 'cd /tmp; nohup python3 -m http.server 3000 >/tmp/h.log 2>&1 </dev/null &'"
gport=$(python3 -S -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
"$MLSH" --norc --lab -c "grafana open --port $gport" >"$T/grafana.out" 2>&1 &
srv=$!
t_ok 'grafana open tunnels to Grafana port 3000 and prints the URL' '
	for _ in $(seq 1 300); do curl -s -o /dev/null "http://127.0.0.1:$gport/" && break; sleep 0.1; done
	[ "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$gport/")" = 200 ] &&
	grep -q "^url  *http://127.0.0.1:$gport/" "$T/grafana.out"'
kill -TERM "$srv"; wait "$srv" 2>/dev/null; srv=

kh="$XDG_STATE_HOME/mlsh/known_hosts"
rid() { python3 -S -c 'import json,sys; print(json.load(open(sys.argv[1]))["resources"][sys.argv[2]]["id"])' \
	"$XDG_STATE_HOME/mlsh/ssht.json" "$1"; }
t_ok 'host keys are pinned under instance ids, with the address as second name' '
	id=$(rid dl1-1) && jid=$(rid jump) && grep -q "^$id,10\.[0-9.]* ssh-ed25519 " "$kh" && grep -q "^$jid," "$kh" &&
	[ "$(stat -c %a "$kh")" = 600 ]'
t_ok 'ssh-config lets OpenSSH reach the node by name, strictly on mlsh'\''s pins (HostKeyAlias)' '
	m -c "ssh-config -o $T/cfg" >/dev/null && n=$(wc -l < "$kh") &&
	ip netns exec "$MLSH_LAB_NAME-client" ssh -F "$T/cfg" -o BatchMode=yes -o ConnectTimeout=30 \
		-o StrictHostKeyChecking=yes dl1-1 hostname | grep -q "^ip-10-" && [ "$(wc -l < "$kh")" = "$n" ]'
t_ok 'a changed host key is refused, naming both fingerprints' '
	cp "$kh" "$T/kh.good"
	ssh-keygen -q -t ed25519 -N "" -f "$T/other" && id=$(rid dl1-1) &&
	grep -v "^$id," "$T/kh.good" > "$kh" && echo "$id $(cut -d" " -f1,2 "$T/other.pub")" >> "$kh" &&
	out=$(m -c "ssh dl1-1 true" 2>&1); rc=$?; cp "$T/kh.good" "$kh"
	[ $rc -ne 0 ] && grep -q "host key changed" <<<"$out" && [ "$(grep -o "SHA256:" <<<"$out" | wc -l)" -ge 2 ] &&
	grep -q "ssh-keygen -f .* -R $id" <<<"$out"'
t_ok 'an unknown target is one clear line' '
	out=$(m -c "ssh dl1-9 true" 2>&1); [ $? -eq 1 ] &&
	grep -q "^ssh: no node '"'"'dl1-9'"'"' in workspace '"'"'ssht'"'"' (targets: " <<<"$out"'
# Interactive, through a real terminal.
export TMUX_TMPDIR="$T"
S="mlshss$$"
tmux new-session -d -s "$S" -x 100 -y 30 -c "$T" \
	"env HOME=$HOME XDG_STATE_HOME=$XDG_STATE_HOME MLSH_LAB_NAME=$MLSH_LAB_NAME TERM=xterm $MLSH --norc --lab -w ssht"
screen() { tmux capture-pane -p -t "$S" 2>/dev/null; }
wait_for() { for _ in $(seq 1 150); do screen | grep -Eq -- "$1" && return 0; sleep 0.2; done; screen; return 1; }
t_ok 'the prompt shows the session is on the lab' "wait_for 'mlsh\\[lab\\] ssht@[a-z0-9-]+ '"
tmux send-keys -t "$S" 'ssh ' Tab Tab
t_ok 'ssh <Tab> completes node names' 'wait_for "dl1-1 +grafana +jump"'
tmux send-keys -t "$S" C-u 'ssh dl1-1' Enter
t_ok 'ssh dl1-1 gives a shell prompt on the node' 'wait_for "ubuntu@ip-10-"'
tmux send-keys -t "$S" 'echo remote-$((6*7))' Enter
t_ok 'the remote shell runs commands' 'wait_for "^remote-42"'
tmux send-keys -t "$S" 'exit' Enter
prompt_back() { screen | grep -v "^$" | tail -1 | grep -q "mlsh\[lab\] ssht@.*> *$"; }
t_ok 'leaving it returns to the mlsh prompt' 't_wait 30 prompt_back'

# cp completes local paths for local arguments, remote ones for TARGET:.
tmux send-keys -t "$S" C-l "cp ./ld" Tab
t_ok 'cp <Tab> completes a local path' 'wait_for "> cp \./ldir/$"'
tmux send-keys -t "$S" ' dl1-1:/ef' Tab
t_ok 'cp TARGET:<Tab> completes a remote path over SFTP' 'wait_for "> cp \./ldir/ dl1-1:/efs/$"'
tmux send-keys -t "$S" 'co' Tab
t_ok 'and the next directory down' 'wait_for "> cp \./ldir/ dl1-1:/efs/code/$"'
# A node that does not answer gives nothing, in bounded time: the prompt
# takes the next key.
nodens="$MLSH_LAB_NAME-$(rid dl1-1)"
routes=$(ip -n "$nodens" route show | grep -v "proto kernel")
ip -n "$nodens" link set eth0 down
tmux send-keys -t "$S" C-u 'cp dl1-1:/tmp/' Tab 'Zz'
t_ok 'a node that does not answer completes nothing and the prompt goes on' 'wait_for "> cp dl1-1:/tmp/Zz$"'
# link down took the node's routes with it
ip -n "$nodens" link set eth0 up
while read -r r; do [ -n "$r" ] && ip -n "$nodens" route replace $r; done <<<"$routes"
tmux send-keys -t "$S" C-u

# Ctrl-C during a large cp stops it: the copy ends well short of the file's
# size, the prompt returns, and the same cp resumes what was written. The
# private links are paced at 200 Mbit/s (tbf in the jump host's and the
# node's namespaces) while Ctrl-C is sent, so that it lands well inside the
# file whatever the machine's speed or load; the resume runs unpaced.
pace() { # on|off
	local ns
	for ns in "$MLSH_LAB_NAME-$(rid jump)" "$MLSH_LAB_NAME-$(rid dl1-1)"; do
		if [ "$1" = on ]; then
			ip netns exec "$ns" tc qdisc replace dev eth0 root tbf rate 200mbit burst 256kb latency 200ms
		else
			ip netns exec "$ns" tc qdisc del dev eth0 root 2>/dev/null
		fi
	done
}
head -c 200000000 /dev/urandom > "$T/big"
pace on
tmux send-keys -t "$S" C-l "cp big dl1-1:/efs/big" Enter
wait_for " [1-9][0-9]\.[0-9]/200\.0 MB" >/dev/null; tmux send-keys -t "$S" C-c
t_ok 'Ctrl-C stops an upload and says what was written' '
	wait_for "^cp: interrupted: [0-9]+ bytes \([0-9.]+ MB\) copied to dl1-1:/efs/big;" && t_wait 30 prompt_back'
t_ok 'the upload stopped well short of the file size' '
	n=$(m -c "ssh dl1-1 '"'"'stat -c %s /efs/big'"'"'") && [ "$n" -lt 150000000 ]'
pace off
t_ok 'the same cp resumes it' '
	out=$(m --json -c "cp $T/big dl1-1:/efs/big") &&
	python3 -S -c "import json,sys; d=json.loads(sys.argv[1]); assert d[\"resumed_from\"]>0 and d[\"resumed_from\"]+d[\"bytes\"]==200000000, d" "$out" &&
	[ "$(m -c "ssh dl1-1 '"'"'sha256sum < /efs/big'"'"'")" = "$(sha256sum < "$T/big")" ]'
pace on
tmux send-keys -t "$S" C-l "cp dl1-1:/efs/big big.down" Enter
wait_for " [1-9][0-9]\.[0-9]/200\.0 MB" >/dev/null; tmux send-keys -t "$S" C-c
t_ok 'Ctrl-C stops a download too' '
	wait_for "^cp: interrupted: [0-9]+ bytes \([0-9.]+ MB\) copied to big.down;" && t_wait 30 prompt_back &&
	[ "$(stat -c %s "$T/big.down")" -lt 150000000 ]'
pace off
rm -f "$T/big" "$T/big.down"
# cp -r of a tree goes as one tar stream (remote/tarcopy.c): Ctrl-C stops
# it too, and the same cp -r then copies the whole tree.
mkdir -p "$T/tree" && for i in $(seq 1 40); do head -c 5000000 /dev/urandom >"$T/tree/f$i"; done
pace on
tmux send-keys -t "$S" C-l "cp -r tree dl1-1:/efs/" Enter
wait_for " [1-9][0-9]\.[0-9]/200\.0 MB" >/dev/null; tmux send-keys -t "$S" C-c
t_ok 'Ctrl-C stops a tree upload (one tar stream) and says what was written' '
	wait_for "^cp: interrupted: [0-9]+ bytes \([0-9.]+ MB\) copied to dl1-1:/efs/; what was written is kept" && t_wait 30 prompt_back'
pace off
sums() { LC_ALL=C sort | sha256sum; }
t_ok 'the same cp -r copies the tree whole' '
	m -c "cp -r $T/tree dl1-1:/efs/" >/dev/null &&
	[ "$(m -c "ssh dl1-1 '"'"'cd /efs/tree && sha256sum *'"'"'" | sums)" = "$(cd "$T/tree" && sha256sum * | sums)" ]'
t_ok 'and cp -r brings it back' '
	m -c "cp -r dl1-1:/efs/tree $T/tree.back" >/dev/null && diff -r "$T/tree" "$T/tree.back"'
rm -rf "$T/tree" "$T/tree.back"

# grafana open twice: the second reuses the first's tunnel; grafana down
# closes it.
gport=$(t_free_port)
tmux send-keys -t "$S" C-l "grafana open --port $gport" Enter
t_ok 'grafana open at the prompt keeps a tunnel' 'wait_for "^url +http://127.0.0.1:$gport/" &&
	t_wait 30 "curl -s -o /dev/null http://127.0.0.1:$gport/"'
tmux send-keys -t "$S" C-l "grafana open --port $gport" Enter
t_ok 'grafana open again reuses it and prints the URL' 'wait_for "^reused +true" &&
	screen | grep -q "^url  *http://127.0.0.1:$gport/" && ! screen | grep -qi "in use"'
tmux send-keys -t "$S" C-l 'grafana down' Enter
for _ in $(seq 1 100); do screen | grep -q "grafana-.*gone\|closed" && break
	screen | grep -qi "\[y/N\]\|(y/N)" && { tmux send-keys -t "$S" y Enter; break; }; sleep 0.3; done
t_ok 'grafana down closes its tunnel' 'wait_for "^tunnel: t[0-9]+ \(127.0.0.1:$gport to grafana:3000\) closed" &&
	t_wait 60 prompt_back && ! curl -s -m 5 -o /dev/null "http://127.0.0.1:$gport/"'
tmux kill-server 2>/dev/null

t_ok 'the stack comes down' 'm -c "down --force" >/dev/null'
t_ok 'down forgot the pins of the instances it terminated' '
	! grep -q "^i-" "$kh" && [ "$(stat -c %a "$kh")" = 600 ]'
cleanup		# the lab goes before t_done removes its state directory
t_done
