#!/usr/bin/env bash
# ssh-config-ws.t: two workspaces' ssh-config snippets included in one
# ~/.ssh/config do not collide: every host is named by workspace
# (mlsh-WS-jump, mlsh-WS-dl1-1), a node's short name is an alias only where
# no other workspace has that name. Checked with OpenSSH's own parser
# (ssh -G), no connection made; and with a loopback endpoint outside the lab
# nothing connects to them. The state files are written by hand (pins
# in known_hosts, so nothing asks AWS for console output).
. "$TESTS_DIR/lib.sh"
S=$XDG_STATE_HOME/mlsh
mkdir -p "$S" && chmod 700 "$S"
ws() { # name jump-id jump-ip node-ip [extra node]
	local extra=""
	[ -n "${5:-}" ] && extra=",\"$5\":{\"type\":\"instance\",\"id\":\"i-${1}p3\",\"attrs\":{\"private_ip\":\"10.9.9.9\"}}"
	printf '{"schema":1,"workspace":"%s","resources":{"jump":{"type":"instance","id":"%s","attrs":{"public_ip":"%s"}},"dl1-1":{"type":"instance","id":"i-%sdl1","attrs":{"private_ip":"%s"}}%s}}\n' \
		"$1" "$2" "$3" "$1" "$4" "$extra" >"$S/$1.json"
	chmod 600 "$S/$1.json"
}
ws wsa i-0aaa 203.0.113.10 10.0.1.5 p3-1
ws wsb i-0bbb 203.0.113.20 10.0.1.6
printf '%s\n' "i-0aaa,203.0.113.10 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl" \
	"i-0bbb,203.0.113.20 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl" >"$S/known_hosts"
chmod 600 "$S/known_hosts"
m() { "$MLSH" --norc "$@"; }
g() { ssh -G -F "$T/config" "$1" 2>/dev/null | grep -i "^$2 " | cut -d' ' -f2-; }

t_ok 'each workspace writes its snippet' '
	m -w wsa -c "ssh-config -o $T/a.conf" >/dev/null && m -w wsb -c "ssh-config -o $T/b.conf" >/dev/null &&
	printf "Include %s\nInclude %s\n" "$T/a.conf" "$T/b.conf" >"$T/config"'
t_ok 'every host is named by workspace' '
	grep -qx "Host mlsh-wsa-jump" "$T/a.conf" && grep -qx "Host mlsh-wsa-dl1-1" "$T/a.conf" &&
	grep -qx "Host mlsh-wsb-jump" "$T/b.conf" && grep -qx "Host mlsh-wsb-dl1-1" "$T/b.conf"'
t_out 'ssh -G: workspace a'\''s node goes to its address through its own jump host' \
	'10.0.1.5 mlsh-wsa-jump i-wsadl1' \
	'echo $(g mlsh-wsa-dl1-1 hostname) $(g mlsh-wsa-dl1-1 proxyjump) $(g mlsh-wsa-dl1-1 hostkeyalias)'
t_out 'ssh -G: workspace b'\''s node of the same name goes to its own' \
	'10.0.1.6 mlsh-wsb-jump i-wsbdl1' \
	'echo $(g mlsh-wsb-dl1-1 hostname) $(g mlsh-wsb-dl1-1 proxyjump) $(g mlsh-wsb-dl1-1 hostkeyalias)'
t_out 'ssh -G: each jump host resolves to its own address and pin' \
	'203.0.113.10 i-0aaa 203.0.113.20 i-0bbb' \
	'echo $(g mlsh-wsa-jump hostname) $(g mlsh-wsa-jump hostkeyalias) $(g mlsh-wsb-jump hostname) $(g mlsh-wsb-jump hostkeyalias)'
t_out 'a short name both workspaces have is no alias (ssh -G leaves it alone)' \
	'dl1-1' 'echo $(g dl1-1 hostname) $(g dl1-1 proxyjump)'
t_out 'a short name only one workspace has is an alias for its node' \
	'10.9.9.9 mlsh-wsa-jump' 'echo $(g p3-1 hostname) $(g p3-1 proxyjump)'

# An emulator's made-up public addresses are somebody else's hosts: with a
# loopback endpoint outside the lab, nothing connects. Run in a namespace of
# its own with no network (unshare -n), so that even a regression here
# sends nothing out of this machine.
if unshare -n true 2>/dev/null; then
	[ -f "$HOME/.ssh/id_ed25519" ] || { mkdir -p "$HOME/.ssh" && ssh-keygen -q -t ed25519 -N '' -f "$HOME/.ssh/id_ed25519"; }
	sealed() { unshare -n timeout 60 "$MLSH" --norc "$@"; }
	refused='not connecting to 203.0.113.10: the endpoint http://127.0.0.1:5000 is an emulator on this machine and its addresses are not real hosts (use --lab)'
	t_err 'ssh to a moto host from outside the lab is refused, no connection tried' "ssh: $refused" 1 \
		'sealed --endpoint-url http://127.0.0.1:5000 -w wsa -c "ssh jump hostname"'
	t_err 'cp likewise' "cp: $refused" 1 \
		'sealed --endpoint-url http://127.0.0.1:5000 -w wsa -c "cp /etc/hostname dl1-1:/tmp/"'
	t_err 'a tunnel likewise' "tunnel: $refused" 1 \
		'sealed --endpoint-url http://127.0.0.1:5000 -w wsa -c "tunnel dl1-1 0:8080"'
	t_err 'AWS_ENDPOINT_URL on localhost likewise' \
		"ssh: not connecting to 203.0.113.10: the endpoint http://localhost:5000 is an emulator on this machine and its addresses are not real hosts (use --lab)" 1 \
		'AWS_ENDPOINT_URL=http://localhost:5000 sealed -w wsa -c "ssh jump true"'
else
	t_skip 'emulator hosts refused: unshare -n needs root'
fi
t_done
