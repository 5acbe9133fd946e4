#!/usr/bin/env bash
# bench/ssh.sh: remote/ against OpenSSH through a jump host, both talking to
# the same two sshd processes on 127.0.0.1 (never part of make test).
#
#   1. 20 x `true` on the node: one mlsh session (persistent jump + node
#      connections) vs `ssh -J` fresh each time vs OpenSSH ControlMaster
#   2. streaming throughput: `cat` of a 200 MB file on the node, mlsh vs ssh -J
#
# Prints per-exec milliseconds, MB/s and the ratios the issue asks for
# (mlsh/ControlMaster per command: target <= 0.5; mlsh/OpenSSH throughput:
# target >= 0.9).  Needs root (sshd) and openssh-server.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
TESTS_DIR=$ROOT/tests
. "$TESTS_DIR/remote/sshd.sh"
N=${N:-20}
MB=${MB:-200}

W=$(mktemp -d /tmp/mlsh-bench-ssh.XXXXXX)
cleanup() {
	ssh -F "$W/ssh_config" -O exit node >/dev/null 2>&1
	sshd_stop jump; sshd_stop node
	rm -rf "$W"
}
trap cleanup EXIT

B=${B:-build}
# lib/util.c reads cJSON (json_string).
LIBS="$(pkg-config --libs libssh2 openssl libcjson) -lpthread -lm"
cc -std=c11 -D_GNU_SOURCE -O2 -I. -o "$W/driver" tests/remote/driver.c remote/*.c \
	lib/util.c $LIBS || exit 1

sshd_setup "$W/sd" >/dev/null
sshd_start jump && sshd_start node || exit 1
cat >"$W/ssh_config" <<EOF
Host jump
	HostName 127.0.0.1
	Port $PORT_jump
Host node
	HostName 127.0.0.1
	Port $PORT_node
	ProxyJump jump
Host *
	User root
	IdentityFile $W/sd/id_ecdsa
	IdentitiesOnly yes
	UserKnownHostsFile $W/okh
	StrictHostKeyChecking accept-new
	BatchMode yes
	LogLevel ERROR
EOF
D="$W/driver -J 127.0.0.1:$PORT_jump -i $W/sd/id_ecdsa -k $W/kh"
NODE=127.0.0.1:$PORT_node
ms() { date +%s%N | cut -c1-13; }

# warm up both (host keys recorded, page cache)
$D exec "$NODE" true 2>/dev/null
ssh -F "$W/ssh_config" node true

# Three rounds of everything, best of each: the machine is shared, and the
# best round is the one least disturbed by others.
ROUNDS=${ROUNDS:-3}
CM="-o ControlMaster=auto -o ControlPath=$W/cm-%C -o ControlPersist=120"
head -c $((MB * 1000000)) /dev/urandom >"$W/big"
best() { if [ -z "$1" ] || awk -v a="$2" -v b="$1" 'BEGIN{exit !(a < b)}'; then echo "$2"; else echo "$1"; fi; }
mlsh_ms= fresh_ms= cm_ms= mlsh_net= ssh_net= mlsh_put= mlsh_get= scp_put=
for r in $(seq 1 "$ROUNDS"); do
	mlsh_ms=$(best "$mlsh_ms" "$($D repeat "$N" "$NODE" true | awk '/ms_per_exec/{print $2}')")

	t0=$(ms)
	for _ in $(seq 1 "$N"); do ssh -F "$W/ssh_config" node true; done
	fresh_ms=$(best "$fresh_ms" $(( ($(ms) - t0) / N )))

	ssh -F "$W/ssh_config" $CM node true	# opens the master
	t0=$(ms)
	for _ in $(seq 1 "$N"); do ssh -F "$W/ssh_config" $CM node true; done
	cm_ms=$(best "$cm_ms" "$(awk -v t=$(( $(ms) - t0 )) -v n="$N" 'BEGIN{printf "%.1f", t / n}')")
	ssh -F "$W/ssh_config" $CM -O exit node >/dev/null 2>&1

	cat "$W/big" >/dev/null
	# connection setup is timed separately and taken out
	t0=$(ms); $D exec "$NODE" true; s1=$(( $(ms) - t0 ))
	t0=$(ms); $D exec "$NODE" "cat $W/big" >/dev/null; c1=$(( $(ms) - t0 ))
	mlsh_net=$(best "$mlsh_net" $((c1 - s1)))
	t0=$(ms); ssh -F "$W/ssh_config" node true; s1=$(( $(ms) - t0 ))
	t0=$(ms); ssh -F "$W/ssh_config" node "cat $W/big" >/dev/null; c1=$(( $(ms) - t0 ))
	ssh_net=$(best "$ssh_net" $((c1 - s1)))
	t0=$(ms); $D put "$NODE" "$W/big" "$W/big.up" >/dev/null; mlsh_put=$(best "$mlsh_put" $(( $(ms) - t0 )))
	t0=$(ms); $D get "$NODE" "$W/big" "$W/big.down" >/dev/null; mlsh_get=$(best "$mlsh_get" $(( $(ms) - t0 )))
	t0=$(ms); scp -q -F "$W/ssh_config" "$W/big" node:"$W/big.scp"; scp_put=$(best "$scp_put" $(( $(ms) - t0 )))
done

awk -v n="$N" -v m="$mlsh_ms" -v f="$fresh_ms" -v c="$cm_ms" -v mb="$MB" -v r="$ROUNDS" \
    -v mn="$mlsh_net" -v sn="$ssh_net" \
    -v mp="$mlsh_put" -v mg="$mlsh_get" -v sp="$scp_put" 'BEGIN {
	printf "best of %d rounds; load average %s\n", r, "'"$(cut -d' ' -f1-3 /proc/loadavg)"'"
	printf "exec true on the node, %d times (ms per command)\n", n
	printf "  mlsh session (persistent jump+node)  %8.1f\n", m
	printf "  ssh -J, fresh                        %8.1f\n", f
	printf "  ssh -J, ControlMaster                %8.1f\n", c
	printf "  ratio mlsh/ControlMaster             %8.2f   (target <= 0.5)\n", m / c
	printf "  ratio mlsh/fresh                     %8.2f\n", m / f
	mt = mb / (mn / 1000); st = mb / (sn / 1000)
	printf "streaming cat of %d MB from the node (MB/s, setup excluded)\n", mb
	printf "  mlsh                                 %8.1f\n", mt
	printf "  ssh -J                               %8.1f\n", st
	printf "  ratio mlsh/OpenSSH                   %8.2f   (target >= 0.9)\n", mt / st
	printf "sftp through the jump host (MB/s, setup included)\n"
	printf "  mlsh put %.1f  mlsh get %.1f  scp -J put %.1f\n", mb / (mp / 1000), mb / (mg / 1000), mb / (sp / 1000)
}'
