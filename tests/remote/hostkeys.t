#!/usr/bin/env bash
# hostkeys.t: mlsh's host-key policy against OpenSSH's own, on the same
# known_hosts files.  For each file, remote/ (through the driver, via a jump
# host) and `ssh -o StrictHostKeyChecking=yes` must agree on connect/refuse;
# `ssh-keygen -F` must find what mlsh records.  Real sshd servers on
# 127.0.0.1 offer different key types (HostKey lines).  Loopback only; every
# server is started here and stopped by PID.
: "${MLSH:=unused}"
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/remote/sshd.sh"
cd "$(dirname "$0")/../.."

if [ "$(id -u)" != 0 ] || [ ! -x "$SSHD" ]; then
	t_skip 'needs root and openssh-server'; t_done; exit
fi

cleanup() { for n in jump ed ec both same; do sshd_stop $n; done; rm -rf "$T"; }
t_on_exit cleanup

B=${B:-build}
DRV=$T/driver
# lib/util.c reads cJSON (json_string).
LIBS="$(pkg-config --libs libssh2 openssl libcjson) -lpthread -lm"
if [ -f "$B/libmlsh.a" ] && nm "$B/libmlsh.a" 2>/dev/null | grep -q ' T rmt_known_hosts_lookup$'; then
	${DRIVER_CC:-cc} -std=c11 -D_GNU_SOURCE -Wall -Wextra -I. -o "$DRV" tests/remote/driver.c \
		"$B/libmlsh.a" $(pkg-config --libs libedit libcurl libcjson lua5.4 expat 2>/dev/null) $LIBS \
		2>"$T/cc.err"
fi
[ -x "$DRV" ] || cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -I. -o "$DRV" tests/remote/driver.c \
	remote/*.c lib/util.c $LIBS 2>"$T/cc.err"
[ -x "$DRV" ] || { t_report 1 'driver builds' "$(cat "$T/cc.err")"; t_done; exit 1; }

# A jump host, and nodes offering: ed25519 only, ECDSA only, both; "same"
# plays one address whose host is replaced (two workspaces' nodes).
sshd_setup "$T/sd"
SD=$T/sd
ssh-keygen -q -t ecdsa -N '' -f "$SD/host_ec"
ssh-keygen -q -t ed25519 -N '' -f "$SD/host_ed2"
ssh-keygen -q -t ed25519 -N '' -f "$SD/host_other"
mkconf() { # name hostkey...
	local n=$1 port; shift
	port=$(free_port); eval "PORT_$n=$port"
	grep -v '^HostKey\|^Port\|^PidFile' "$SD/sshd_node.conf" >"$SD/sshd_$n.conf"
	{ echo "Port $port"; echo "PidFile $SD/sshd_$n.pid"; for k; do echo "HostKey $SD/$k"; done; } >>"$SD/sshd_$n.conf"
}
mkconf ed host_node
mkconf ec host_ec
mkconf both host_node host_ec
mkconf same host_node
for n in jump ed ec both same; do
	sshd_start $n || { t_report 1 "sshd $n starts" "$(cat "$SD"/*.log)"; t_done; exit 1; }
done

ED=$(cut -d' ' -f1,2 "$SD/host_node.pub")	# offered by ed, both, same
EC=$(cut -d' ' -f1,2 "$SD/host_ec.pub")		# offered by ec, both
OTHER=$(cut -d' ' -f1,2 "$SD/host_other.pub")
JUMPLINE="[127.0.0.1]:$PORT_jump $(cut -d' ' -f1,2 "$SD/host_jump.pub")"
fp() { ssh-keygen -lf "$1" | awk '{print $2}'; }
name() { eval "echo \"[127.0.0.1]:\$PORT_$1\""; }

# kh FILE LINE...: a known_hosts with the jump host's pin and these lines.
kh() { local f=$1; shift; { echo "$JUMPLINE"; [ $# -eq 0 ] || printf "%s\n" "$@"; } >"$f"; chmod 600 "$f"; }
# mlsh FILE NODE [alias] [driver flags]: connect or refuse (no file change kept).
mlsh_v() {
	local f=$1 n=$2 a=${3:-} port; shift; shift; [ $# -gt 0 ] && shift
	eval "port=\$PORT_$n"
	DRIVER_ALIAS=${a:+"127.0.0.1 $port $a"} "$DRV" -T 10000 -J "127.0.0.1:$PORT_jump" \
		-i "$SD/id_ecdsa" -k "$f" "$@" exec "127.0.0.1:$port" true >"$T/mlsh.out" 2>&1 &&
		echo connect || echo refuse
}
# ssh FILE NODE [alias] [StrictHostKeyChecking]: OpenSSH's verdict.
ssh_v() {
	local port; eval "port=\$PORT_$2"
	ssh -F /dev/null -o BatchMode=yes -o ConnectTimeout=10 -o StrictHostKeyChecking="${4:-yes}" \
		-o UserKnownHostsFile="$1" -o GlobalKnownHostsFile=/dev/null ${3:+-o HostKeyAlias=$3} \
		-i "$SD/id_ed25519" -p "$port" root@127.0.0.1 true >"$T/ssh.out" 2>&1 && echo connect || echo refuse
}
# agree 'what' EXPECTED NODE LINE...: on the same file, mlsh's strict policy
# and ssh -o StrictHostKeyChecking=yes both give EXPECTED, and mlsh's
# default policy gives what ssh -o StrictHostKeyChecking=accept-new gives.
# agree_strict: the strict comparison only.
agree() { agree_ "$@"; }
agree_strict() { AGREE_STRICT_ONLY=1 agree_ "$@"; }
agree_() {
	local what=$1 want=$2 n=$3 m s a sa; shift 3
	kh "$T/f" "$@"; cp "$T/f" "$T/f.ssh"; cp "$T/f" "$T/f.new"; cp "$T/f" "$T/f.sshnew"
	m=$(mlsh_v "$T/f" "$n" "" -S); s=$(ssh_v "$T/f.ssh" "$n")
	if [ -n "${AGREE_STRICT_ONLY:-}" ]; then a=-; sa=-; else
		a=$(mlsh_v "$T/f.new" "$n"); sa=$(ssh_v "$T/f.sshnew" "$n" "" accept-new)
	fi
	t_ok "$what: mlsh and ssh both $want" \
		"[ '$m' = '$want' ] && [ '$s' = '$want' ] && [ '$a' = '$sa' ] ||
		 { echo 'strict: mlsh $m, ssh $s; accept-new: mlsh $a, ssh $sa'; cat '$T/mlsh.out' '$T/ssh.out'; false; }"
}
# On failure, what the driver said.
show() { cat "$T/mlsh.out"; false; }

N_ed=$(name ed) N_ec=$(name ec) N_both=$(name both)
agree 'same type, same key' connect ed "$N_ed $ED"
agree 'another type when one is known (ed25519 pinned, ECDSA offered)' refuse ec "$N_ec $ED"
agree 'several types offered, the pinned one is used (ECDSA pinned)' connect both "$N_both $EC"
agree 'several types offered, ed25519 pinned' connect both "$N_both $ED"
agree 'two types pinned, one offered' connect ec "$N_ec $ED" "$N_ec $EC"
agree 'the key is @revoked for the host (nothing else known)' refuse ed "@revoked $N_ed $ED"
agree 'the key is @revoked for * and also pinned' refuse ed "$N_ed $ED" "@revoked * $ED"
agree 'another key is @revoked, this one pinned' connect ed "$N_ed $ED" "@revoked * $OTHER"
agree 'a wildcard pattern pins it' connect ed "[127.0.0.*]:$PORT_ed $ED"
agree 'a negated pattern excludes the line' refuse ed "[127.0.0.*]:$PORT_ed,!$N_ed $ED"
agree 'a pin for another host does not count' refuse ed "[127.0.0.2]:$PORT_ed $ED"
agree 'comments, blank, malformed and old-style lines are skipped' connect ed \
	"# comment" "" "@bogus $N_ed $ED" "$N_ed ssh-ed25519 not-base64!" "$N_ed ssh-rsa ${ED#* }" \
	"$N_ed 2048 35 12345" "$N_ed" "   $N_ed   $ED   trailing comment"
kh "$T/h" "$N_ed $ED"; ssh-keygen -q -H -f "$T/h" 2>/dev/null; rm -f "$T/h.old"
agree 'a hashed entry (ssh-keygen -H) pins it' connect ed "$(grep -v "^\[" "$T/h")"

# Unknown host: refused under the strict policy, as by ssh; accepted and
# recorded otherwise, in a line ssh-keygen -F finds and ssh accepts.
kh "$T/u"; cp "$T/u" "$T/u.ssh"
t_ok 'unknown host: refused by mlsh -S and by ssh StrictHostKeyChecking=yes' \
	"[ \"\$(mlsh_v '$T/u' ed '' -S)\" = refuse ] && [ \"\$(ssh_v '$T/u.ssh' ed)\" = refuse ] && grep -q 'unknown host key' '$T/mlsh.out'"
t_ok 'unknown host: mlsh records it; ssh-keygen -F finds it; ssh then accepts it strictly' \
	"[ \"\$(mlsh_v '$T/u' ed)\" = connect ] && ssh-keygen -F '$N_ed' -f '$T/u' | grep -q 'ssh-ed25519' &&
	 [ \"\$(ssh_v '$T/u' ed)\" = connect ]"

# The change message: one line, both fingerprints, how to accept it.
kh "$T/c" "$N_ec $ED"
t_err 'a key of another type is a change: one line, both fingerprints, the ssh-keygen -R command' \
	"driver: exec: node 127.0.0.1:$PORT_ec: host key changed: $T/c line 2 has $(fp "$SD/host_node.pub") (ED25519) for $N_ec, the host offers $(fp "$SD/host_ec.pub") (ECDSA); if the host was rebuilt, forget the old key with: ssh-keygen -f $T/c -R '$N_ec'" 255 \
	"'$DRV' -T 10000 -J 127.0.0.1:$PORT_jump -i '$SD/id_ecdsa' -k '$T/c' exec 127.0.0.1:$PORT_ec true"
t_ok 'the change was not recorded, and the suggested command makes it first contact' \
	"[ \$(wc -l <'$T/c') = 2 ] && ssh-keygen -q -f '$T/c' -R '$N_ec' >/dev/null 2>&1 && [ \"\$(mlsh_v '$T/c' ec)\" = connect ] &&
	 ssh-keygen -F '$N_ec' -f '$T/c' | grep -q ecdsa-sha2-nistp256"
kh "$T/r" "@revoked $N_ed $ED"
t_ok 'a revoked key is refused on first contact, naming the line' \
	"[ \"\$(mlsh_v '$T/r' ed)\" = refuse ] && grep -q 'is revoked (@revoked, line 2 of $T/r)' '$T/mlsh.out' && [ \$(wc -l <'$T/r') = 2 ]"

# @cert-authority: never a pin of its key.  libssh2 cannot check host
# certificates, so mlsh refuses the host's plain key (OpenSSH with
# accept-new would record it) until a plain line pins it.
agree_strict '@cert-authority holding the host key itself is no pin' refuse ed "@cert-authority $N_ed $ED"
kh "$T/ca" "@cert-authority * $OTHER"
t_ok '@cert-authority for the host: mlsh refuses its plain key even with accept-new, and says why' \
	"[ \"\$(mlsh_v '$T/ca' ed)\" = refuse ] && grep -q 'covered by an @cert-authority line (line 2 of' '$T/mlsh.out' && [ \$(wc -l <'$T/ca') = 2 ]"
agree '@cert-authority and a plain pin: the pin decides' connect ed "@cert-authority * $OTHER" "$N_ed $ED"

# Published fingerprints (console output) still apply on first contact,
# also under an alias; a pinned host is decided by its pin.
kh "$T/p"
t_ok 'first contact under an alias: a key the instance did not publish is refused' \
	"DRIVER_EXPECT='127.0.0.1 $PORT_ed SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' mlsh_v '$T/p' ed i-0aaa | grep -q refuse &&
	 grep -q 'matches none of the 1 fingerprints' '$T/mlsh.out' && [ \$(wc -l <'$T/p') = 1 ] || show"
t_ok 'first contact under an alias: a published key passes and is pinned as ALIAS,HOST' \
	"DRIVER_EXPECT='127.0.0.1 $PORT_ed $(fp "$SD/host_node.pub")' mlsh_v '$T/p' ed i-0aaa | grep -q connect &&
	 grep -qxF 'i-0aaa,$N_ed $ED' '$T/p' || show"

# Two workspaces whose nodes share an address: pins by instance id.
S=$T/shared
kh "$S"; chmod 644 "$S"
t_ok 'workspace A pins its node under its instance id' \
	"[ \"\$(mlsh_v '$S' same i-0aaa)\" = connect ] && grep -qxF 'i-0aaa,$(name same) $ED' '$S' || show"
sshd_stop same; sed -i "s#HostKey .*#HostKey $SD/host_ed2#" "$SD/sshd_same.conf"; sshd_start same
ED2=$(cut -d' ' -f1,2 "$SD/host_ed2.pub")
t_ok 'workspace B'\''s node at the same address is a first contact, not a change' \
	"[ \"\$(mlsh_v '$S' same i-0bbb)\" = connect ] && grep -qxF 'i-0bbb,$(name same) $ED2' '$S' && grep -qxF 'i-0aaa,$(name same) $ED' '$S' || show"
t_ok 'each pin holds only for its instance' \
	"[ \"\$(mlsh_v '$S' same i-0bbb)\" = connect ] && [ \"\$(mlsh_v '$S' same i-0aaa)\" = refuse ] && grep -q 'host key changed' '$T/mlsh.out'"
t_ok 'OpenSSH with HostKeyAlias agrees, and ssh-keygen -F finds both by address' \
	"[ \"\$(ssh_v '$S' same i-0bbb)\" = connect ] && [ \"\$(ssh_v '$S' same i-0aaa)\" = refuse ] &&
	 [ \"\$(ssh-keygen -F '$(name same)' -f '$S' | grep -vc '^#')\" = 2 ]"
t_ok 'every rewrite leaves the file 0600' "[ \"\$(stat -c %a '$S')\" = 600 ]"
t_out 'forgetting A'\''s instance removes its line only' 'forgot 1' "'$DRV' -k '$S' forget i-0aaa"
t_ok 'B'\''s pin is intact and still used; the file is 0600' \
	"! grep -q i-0aaa '$S' && grep -qxF 'i-0bbb,$(name same) $ED2' '$S' && [ \"\$(stat -c %a '$S')\" = 600 ] &&
	 [ \"\$(mlsh_v '$S' same i-0bbb)\" = connect ] || show"
t_out 'forgetting leaves other lines byte for byte (markers, wildcards, comments)' 'forgot 2' \
	"printf '# keep\n@revoked i-0bbb %s\ni-0b* %s\ni-0bbb,10.9.9.9 %s\n' '$OTHER' '$OTHER' '$OTHER' >>'$S'; cp '$S' '$T/before';
	 '$DRV' -k '$S' forget I-0BBB"
t_ok '... the three other lines and the comment are still there' \
	"diff <(grep -v '^i-0bbb,' '$T/before') '$S'"

# Legacy lines (an address, no alias): converted when they hold the key.
kh "$T/l" "$N_ed $ED" "$N_ed $OTHER"
t_ok 'a legacy address line holding the key is converted to the alias line' \
	"[ \"\$(mlsh_v '$T/l' ed i-0ccc)\" = connect ] && grep -qxF 'i-0ccc,$N_ed $ED' '$T/l' && ! grep -qxF '$N_ed $ED' '$T/l' &&
	 grep -qxF '$N_ed $OTHER' '$T/l' && ! grep -q 'new host key' '$T/mlsh.out' || show"
kh "$T/l2" "$N_ed $OTHER"
t_ok 'a legacy line with another key is ignored (another workspace'\''s host): first contact' \
	"[ \"\$(mlsh_v '$T/l2' ed i-0ddd)\" = connect ] && grep -q 'new host key' '$T/mlsh.out' && grep -qxF '$N_ed $OTHER' '$T/l2' || show"

# The file itself.
ln -s "$T/u" "$T/link"
t_ok 'a symlinked known_hosts is refused, never followed' \
	"[ \"\$(mlsh_v '$T/link' ed)\" = refuse ] && grep -q 'is a symbolic link' '$T/mlsh.out' && [ -L '$T/link' ]"

t_done
