#!/usr/bin/env bash
# hostile.t: `mlsh cp` against a node whose SFTP server lies (issue 10 items
# 3 and 4). Two real OpenSSH sshd on loopback play the workspace: the jump
# host on 127.x.y.z:22 (mlsh always reaches the jump on port 22) and a node on
# 127.0.0.1:PORT whose "Subsystem sftp" is tests/remote/hostile_sftp.py. mlsh
# logs in as "ubuntu": both sshd run in a private mount namespace (unshare -m)
# whose /etc/passwd adds that user; nothing of the machine changes. The state
# file names no instance ids, so mlsh never asks AWS for console output; the
# AWS endpoint points at a closed loopback port all the same. OpenSSH's own
# sftp and scp are run against the same server for comparison. Every process
# is stopped by PID.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/remote/sshd.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3

if [ "$(id -u)" != 0 ] || [ ! -x "$SSHD" ] || ! command -v unshare >/dev/null || [ ! -x "$PY" ]; then
	t_skip "needs root, openssh-server, unshare, $PY"; t_done; exit
fi

cleanup() { sshd_stop jump; sshd_stop node; rm -rf "$T"; }
t_on_exit cleanup

umask 022	# before sshd: its sftp server creates files with it
sshd_setup "$T/sd"
# The jump on port 22 of a loopback address of its own (127.0.0.0/8 is all
# loopback: no other sshd is there), the node's sftp the hostile one.
ADDR_jump=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
PORT_jump=22
sed -i -e "s/^ListenAddress .*/ListenAddress $ADDR_jump/" -e "s/^Port .*/Port 22/" "$T/sd/sshd_jump.conf"
sed -i "s|^Subsystem sftp .*|Subsystem sftp $PY $ROOT/tests/remote/hostile_sftp.py $T/sftp.log|" "$T/sd/sshd_node.conf"
{ cat /etc/passwd; echo "ubuntu:x:0:0:ubuntu:$T/sd/home:/bin/sh"; } >"$T/passwd"
# sshd_start, in a mount namespace whose /etc/passwd knows ubuntu (the PID
# stays sshd's: unshare and sh exec it).
hsshd_start() {
	local n=$1 port addr
	eval "port=\$PORT_$n addr=\${ADDR_$n:-127.0.0.1}"
	unshare -m sh -c 'mount --bind "$1" /etc/passwd && exec '"$SSHD"' -D -e -f "$2"' sh \
		"$T/passwd" "$T/sd/sshd_$n.conf" >>"$T/sd/sshd_$n.log" 2>&1 &
	eval "PID_$n=$!"
	for _ in $(seq 1 100); do
		"$PY" -c "import socket,sys;s=socket.socket();s.settimeout(0.2);sys.exit(s.connect_ex(('$addr',$port)))" && return 0
		sleep 0.05
	done
	return 1
}
hsshd_start jump && hsshd_start node ||
	{ t_report 1 'sshd starts' "$(cat "$T"/sd/*.log)"; t_done; exit 1; }

# The workspace: a jump host, a node "dl1-1" at the hostile sshd's address
# and an honest one, "dl1-2", that is the jump's sshd again (internal-sftp).
mkdir -p "$XDG_STATE_HOME/mlsh"
cat >"$XDG_STATE_HOME/mlsh/hostile.json" <<JSON
{"resources": {
  "jump": {"type": "instance", "attrs": {"public_ip": "$ADDR_jump", "private_ip": "10.0.0.5", "state": "running"}},
  "dl1-1": {"type": "instance", "attrs": {"private_ip": "127.0.0.1:$PORT_node", "state": "running"}},
  "dl1-2": {"type": "instance", "attrs": {"private_ip": "$ADDR_jump", "state": "running"}},
  "key": {"type": "key_pair", "attrs": {"private_key": "$T/sd/id_ed25519"}}
}}
JSON
export AWS_ENDPOINT_URL=http://127.0.0.1:9 AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=test \
	AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
unset SSH_AUTH_SOCK
umask 022
m() { "$MLSH" --norc -w hostile "$@"; }
# The hostile node lies over SFTP: its trees must go that way, not as a tar
# stream (whose reader tests/unit/test_tar.c and tests/remote/remote.t test).
export MLSH_CP_VIA=sftp

# Everything under $T/work but the copies, before and after: "../evil" and
# "../../evil2" would land in $W and $W/.., "/tmp/abs-evil" in /tmp.
W=$T/work/deep/er
mkdir -p "$W"
outside() { find "$T/work" -path "$W/dest" -prune -o -path "$W/ossh" -prune -o -path "$W/oscp" -prune -o -print | sort; }
outside >"$T/before"

m -c "cp -r dl1-1:/srv/tree $W/dest" >"$T/out" 2>"$T/err"; rc=$?
t_ok 'cp -r from a hostile node fails (names refused), after copying the rest' \
	"[ $rc -eq 1 ] && grep -q 'cp: dl1-1: refused 10 unsafe names listed under \"/srv/tree\" (first \"../evil\"); the rest was copied' err || { cat err; false; }"
t_ok 'nothing was written outside the destination' \
	"outside >after; diff before after && [ ! -e /tmp/abs-evil ]"
t_ok 'the plain files and the directory arrived' \
	"[ \"\$(cat $W/dest/good.txt)\" = good ] && [ \"\$(cat $W/dest/sub/inner.txt)\" = inner ] &&
	 [ \"\$(cd $W/dest && find . | sort | tr '\n' ' ')\" = '. ./good.txt ./sgid-sticky ./sub ./sub/inner.txt ./suid ' ]"
t_ok 'no file in the destination holds hostile bytes' "! grep -rq PWNED '$W/dest'"
t_out 'set-id and sticky bits are dropped, the umask applies' '755 644 755 600' \
	"stat -c %a $W/dest/suid $W/dest/sgid-sticky $W/dest/sub $W/dest/sub/inner.txt | tr '\n' ' ' | sed 's/ \$//'"
t_ok 'each refused name has a one-line warning, control characters escaped' '
	for n in "../evil" "../../evil2" "a/b" "/tmp/abs-evil" "esc\\x1b[31mred" "new\\nline" "nul\\x00cut" "" "../evildir" "../../sub-evil"; do
		grep -qF "cp: warning: dl1-1: refused the name \"$n\" listed in" err || { echo "missing $n"; cat err; exit 1; }
	done
	! grep -q "$(printf "\033")" err && [ "$(grep -c "refused the name" err)" = 10 ]'
t_ok 'the link to a file outside the tree is skipped, not followed' \
	"[ ! -e $W/dest/link ] && grep -q 'skipped \"/srv/tree/link\": symbolic link, not followed' err &&
	 ! grep -q \"open '/srv/tree/link'\" '$T/sftp.log' && ! grep -q \"'/srv/secret'\" '$T/sftp.log'"
t_ok 'mlsh asked the server for no path built from a refused name' \
	"! grep -E \"'/srv/tree/(\\.\\.|a/b|/tmp)|/srv/tree/\\.\\./|PWNED\" '$T/sftp.log'"

# Links at the destination are never written through.
echo precious >"$T/victim"; mkdir -p "$T/victimdir"
t_ok 'a download onto a symbolic link is refused' '
	ln -s "$T/victim" "$T/lnk" &&
	! m -c "cp dl1-1:/srv/tree/good.txt $T/lnk" 2>e && grep -q "it is a symbolic link" e &&
	[ "$(cat "$T/victim")" = precious ] && [ -L "$T/lnk" ]'
# (cp -r into an existing directory D writes D/tree, as scp -r does.)
t_ok 'a link planted inside the destination tree is refused' '
	mkdir -p "$T/d2/tree" && ln -s "$T/victim" "$T/d2/tree/good.txt" &&
	! m -c "cp -r dl1-1:/srv/tree $T/d2" 2>e &&
	grep -q "^cp: cannot write \"$T/d2/tree/good.txt\": it is a symbolic link" e && [ "$(cat "$T/victim")" = precious ]'
t_ok 'a directory link planted inside the destination tree is not followed' '
	mkdir -p "$T/d3/tree" && ln -s "$T/victimdir" "$T/d3/tree/sub" &&
	! m -c "cp -r dl1-1:/srv/tree $T/d3" 2>e && grep -q "^cp: cannot write into \"$T/d3/tree/sub\": not a directory" e &&
	[ -z "$(ls -A "$T/victimdir")" ]'
t_ok 'a destination that is a link to a directory is not followed' '
	ln -s "$T/victimdir" "$T/d4" && ! m -c "cp -r dl1-1:/srv/tree/sub $T/d4" 2>e &&
	! m -c "cp dl1-1:/srv/tree/good.txt $T/d4" 2>>e && [ -z "$(ls -A "$T/victimdir")" ] &&
	[ "$(grep -c "\"$T/d4\": not a directory (a symbolic link is not followed)\|\"$T/d4\": it is a symbolic link" e)" = 2 ] || { cat e; false; }'
t_ok '… unless named with a trailing slash, as the directory to copy into' '
	m -c "cp dl1-1:/srv/tree/good.txt $T/d4/" >/dev/null && [ "$(cat "$T/victimdir/good.txt")" = good ]'
t_ok 'a set-id file downloaded alone loses the bits too' '
	m -c "cp dl1-1:/srv/tree/suid $T/suid1" >/dev/null && [ "$(stat -c %a "$T/suid1")" = 755 ]'

# The same server against OpenSSH's clients, for comparison. Both stop at
# the NUL name (fatal "parse filenames: invalid format"), so it is left out
# for them. sftp get -R refuses the names with '/' ("suspect path"), keeps
# those with ESC or a newline, skips the link; scp -r follows the link.
touch "$T/sftp.log.openssh"
OSSH="-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=$T/ossh_kh -i $T/sd/id_ed25519 -P $PORT_node"
printf 'get -R /srv/tree %s\n' "$W/ossh" | timeout 60 sftp $OSSH -b - ubuntu@127.0.0.1 >"$T/sftp.out" 2>&1
timeout 60 scp -r $OSSH ubuntu@127.0.0.1:/srv/tree "$W/oscp" >"$T/scp.out" 2>&1
t_ok 'OpenSSH sftp and scp: no escape either, "suspect path" refused' \
	"outside >after2; diff before after2 && [ ! -e /tmp/abs-evil ] &&
	 grep -q 'suspect path \"../evil\"' sftp.out && grep -q 'suspect path \"../evil\"' scp.out &&
	 [ \"\$(cat '$W/ossh/good.txt')\" = good ] && [ \"\$(cat '$W/oscp/good.txt')\" = good ]"
t_ok 'OpenSSH: sftp get -R skips the link as mlsh does, scp -r follows it' \
	"[ ! -e '$W/ossh/link' ] && grep -q 'download \"/srv/tree/link\": not a regular file' sftp.out &&
	 grep -q 'secret outside' '$W/oscp/link'"
t_out 'OpenSSH sftp masks file modes to 0777 as mlsh does' '755 644' \
	"stat -c %a '$W/ossh/suid' '$W/ossh/sgid-sticky' | tr '\n' ' ' | sed 's/ \$//'"

# cp as scp (issue 12): into an existing directory, errors naming the node.
# dl1-2 is honest: trees go as tar streams again.
unset MLSH_CP_VIA
mkdir -p "$T/rdir" "$T/ldir" "$T/up/sub" && echo payload >"$T/f" && echo in-sub >"$T/up/sub/g" &&
	cp "$T/f" "$T/setid" && chmod 4755 "$T/setid"
t_ok 'cp FILE node:DIR copies into the existing directory, with or without /' \
	"m -c 'cp $T/f dl1-2:$T/rdir' >/dev/null && [ \"\$(cat $T/rdir/f)\" = payload ] && rm $T/rdir/f &&
	 m -c 'cp $T/f dl1-2:$T/rdir/' >/dev/null && [ \"\$(cat $T/rdir/f)\" = payload ]"
t_ok 'cp FILE node: copies into the login directory, as scp' \
	"m -c 'cp $T/f dl1-2:' >/dev/null && [ \"\$(cat $T/sd/home/f)\" = payload ]"
t_ok 'cp -r DIR node:DIR copies the tree into the existing directory' \
	"m -c 'cp -r $T/up dl1-2:$T/rdir' >/dev/null && [ \"\$(cat $T/rdir/up/sub/g)\" = in-sub ]"
t_ok 'cp node:FILE DIR copies into the existing local directory' \
	"m -c 'cp dl1-2:$T/f $T/ldir' >/dev/null && [ \"\$(cat $T/ldir/f)\" = payload ]"
t_ok '--json names the path written' \
	"m --json -c 'cp $T/f dl1-2:$T/rdir' | grep -q '\"to\":[[:space:]]*\"dl1-2:$T/rdir/f\"'"
t_out 'an upload sends the mode without set-id bits' 755 "m -c 'cp $T/setid dl1-2:$T/rdir' >/dev/null && stat -c %a $T/rdir/setid"
t_err 'an error names the node, not its address' \
	'cp: dl1-2: cannot create "/nonexistent/x": no such file or directory' 1 \
	"m -c 'cp $T/f dl1-2:/nonexistent/x'"

t_done
