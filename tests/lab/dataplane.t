#!/usr/bin/env bash
# tests/lab/dataplane.t: the lab's data plane through its C primitives
# (tests/lab/driver.c), independent of the shell and of the AWS layer.
#
# net up -> a public jump host and a private host in one VPC (two subnets), and
# a host with the same private IP in a second VPC with the same CIDR -> sshd
# answers OpenSSH run in the lab's client namespace; the private host only
# through the jump host; user-data ran once; EFS shared between hosts;
# stop/start/destroy; nothing routes out of the lab; the root namespace is
# unchanged; net down leaves no namespace, mount or process behind.
#
# Needs root. Never sends a packet from the root namespace: every ssh/curl
# runs inside a lab namespace, and "unreachable" is read from route tables.
here=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$here/../.." && pwd)
: "${MLSH:=$ROOT/mlsh}" "${TESTS_DIR:=$ROOT/tests}"
export MLSH TESTS_DIR
. "$TESTS_DIR/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	t_report 1 'lab data plane' 'not root: the lab needs CAP_NET_ADMIN and CAP_SYS_ADMIN'
	t_done
	exit 1
fi
missing=""
for p in ip ssh sshd ssh-keygen mount; do
	command -v "$p" >/dev/null 2>&1 || [ -x "/usr/sbin/$p" ] || missing="$missing $p"
done
if [ -n "$missing" ]; then
	t_report 1 'lab data plane' "missing:$missing (make deps)"
	t_done
	exit 1
fi

NAME="mlshlabt$$"
STATE="$T/lab"
DRV="$T/driver"
CLIENT="$NAME-client"
CORE="$NAME-core"
PORT=5000
JUMP_PUB=203.0.113.10
ms_now() { echo $(( $(date +%s%N) / 1000000 )); }

snapshot() { # the root namespace's network, as seen by ip (other labs'
	# namespaces, e.g. a concurrent run of this test, are not ours to judge)
	ip addr; ip route; ip link; ip rule; ip -6 route 2>/dev/null
	ip netns list | grep -v '^mlsh'
}
snapshot | grep -v "$NAME" >"$T/root.before"
efs_before=$([ -e /efs ] && echo yes || echo no)

lab_down() { [ -x "$DRV" ] && "$DRV" "$STATE" net-down >/dev/null 2>&1; }
trap 'lab_down' EXIT
trap 'exit 130' INT TERM

# The driver, from the data plane's sources (not build/libmlsh.a: it may be
# stale or mid-rebuild while the shell's other files change; this tests lab/
# as it is). ctrl.c and notebook.c are the control plane on top, tested
# through mlsh (lab.t, notebook.t);
# fw.c (security groups as nftables rules) reads cJSON.
build_driver() {
	${DRIVER_CC:-cc} -std=c11 -D_GNU_SOURCE -Wall -O1 -g -I"$ROOT" -I"$ROOT/shell" -o "$DRV" \
		"$here/driver.c" $(ls "$ROOT"/lab/*.c | grep -v -e '/ctrl\.c$' -e '/notebook\.c$') "$ROOT/lib/util.c" "$ROOT/lib/gzip.c" \
		$(pkg-config --libs libcjson 2>/dev/null || echo -lcjson) -lm
}
t_ok 'driver builds' 'build_driver'
[ -x "$DRV" ] || { t_done; exit 1; }
D() { "$DRV" "$STATE" "$@"; }

ssh-keygen -q -t ed25519 -N '' -C lab-test -f "$T/key"
cat >"$T/ssh_config" <<EOF
Host *
  User ubuntu
  IdentityFile $T/key
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  BatchMode yes
  ConnectTimeout 10
  LogLevel ERROR
EOF
# ConnectTimeout 10 s: through -J the banner waits for the whole login to the
# jump host, past 3 s on a loaded machine (two groups at once, tests/run -j2).
# ssh from the lab's client namespace (-J gets its options from the file).
cssh() { timeout 20 ip netns exec "$CLIENT" ssh -F "$T/ssh_config" "$@"; }
pssh() { cssh -J "$JUMP_PUB" 10.0.2.20 "$@"; }

cat >"$T/ud-jump" <<'EOF'
#!/bin/bash
echo "hello from user-data on $(hostname)"
echo "$AWS_ENDPOINT_URL" >/root/ud-ran
EOF
cat >"$T/ud-priv" <<'EOF'
echo private user-data ran
touch /home/ubuntu/ud-private
EOF

# -- net up ------------------------------------------------------------------
t0=$(ms_now)
t_ok 'net up' 'D net-up "$NAME"'
net_ms=$(( $(ms_now) - t0 ))
echo "# net up: $net_ms ms (driver process included)"
t_ok 'client and core namespaces exist' \
	'ip netns list | grep -qx "$CLIENT.*" && ip netns list | grep -q "^$CORE"'

# -- control plane in the core namespace (moto when installed) --------------
PY=$(command -v python3)
have_moto=no
if [ -n "$PY" ] && "$PY" -c 'import moto' 2>/dev/null; then
	moto_pid=$(D spawn-core moto "$PY" -m moto.server -H 0.0.0.0 -p "$PORT")
	for _ in $(seq 1 100); do
		code=$(timeout 3 ip netns exec "$CLIENT" curl -s -m 1 -o /dev/null -w '%{http_code}' \
			"http://198.18.0.1:$PORT/moto-api/" 2>/dev/null)
		[ "$code" = 200 ] && { have_moto=yes; break; }
		sleep 0.1
	done
	t_ok 'control plane answers the client namespace at 198.18.0.1' '[ "$have_moto" = yes ]'
else
	t_skip 'control plane checks: python3 with moto is not installed'
fi

# -- hosts ------------------------------------------------------------------
t0=$(ms_now)
t_ok 'create the public jump host' 'D host-create id=i-jump vpc=vpc-1 vpc_cidr=10.0.0.0/16 \
	subnet=subnet-pub subnet_cidr=10.0.1.0/24 ip=10.0.1.10 public_ip=$JUMP_PUB \
	key=@"$T/key.pub" userdata=@"$T/ud-jump" port=$PORT region=us-east-1'
t_ok 'jump sshd listens (bounded: 60 s)' 'D host-wait i-jump 60000'
for _ in $(seq 1 100); do cssh "$JUMP_PUB" true 2>/dev/null && break; sleep 0.05; done
ready_ms=$(( $(ms_now) - t0 ))
echo "# jump host ready (host-create -> ssh from the client accepted): $ready_ms ms"
t_ok 'create the private host' 'D host-create id=i-priv vpc=vpc-1 vpc_cidr=10.0.0.0/16 \
	subnet=subnet-priv subnet_cidr=10.0.2.0/24 ip=10.0.2.20 \
	key=@"$T/key.pub" userdata=@"$T/ud-priv" port=$PORT region=us-east-1'
t_ok 'private sshd listens (bounded: 60 s)' 'D host-wait i-priv 60000'

t_out 'ssh from the client namespace reaches the jump host' 'ip-10-0-1-10' \
	'cssh "$JUMP_PUB" hostname'
t_out 'the private host answers through the jump host (-J)' 'i-priv' \
	'pssh cat /etc/mlshlab-instance-id'
t_ok 'the client namespace has no route to the private host' \
	'out=$(ip -n "$CLIENT" route get 10.0.2.20 2>&1); echo "$out"; [[ "$out" == *"Network is unreachable"* ]]'
t_ok 'nor to the jump host'"'"'s private address' \
	'out=$(ip -n "$CLIENT" route get 10.0.1.10 2>&1); echo "$out"; [[ "$out" == *"Network is unreachable"* ]]'
t_out 'login user is ubuntu with passwordless sudo' 'ubuntu root' \
	'cssh "$JUMP_PUB" '"'"'echo "$(id -un) $(sudo -n id -un)"'"'"

t_ok 'net up on a lab that is up keeps its hosts' 'D net-up "$NAME" && cssh "$JUMP_PUB" true'
t_ok 'a host does not see the machine'"'"'s host keys or password hashes' \
	'D host-exec i-jump /bin/sh -c "! ls /etc/ssh/ssh_host_*_key 2>/dev/null && ! grep -qF \$ /etc/shadow && [ ! -e /etc/gshadow ]"'
t_ok 'a host cannot write the lab'"'"'s files for it (sshd config, mount targets)' \
	'D host-exec i-jump /bin/sh -c "! touch /run/mlshlab/host/x 2>/dev/null && ! touch /run/mlshlab/mt/x 2>/dev/null"'

# -- user-data ------------------------------------------------------------------
wait_rc() { # host: wait up to 5 s for its user-data's exit status
	local st
	for _ in $(seq 1 100); do st=$(D host-userdata "$1"); [ "$st" != running ] && break; sleep 0.05; done
	echo "$st"
}
t_out 'jump user-data exited 0' '0' 'wait_rc i-jump'
t_out 'private user-data exited 0' '0' 'wait_rc i-priv'
t_ok 'console log keeps the user-data output' \
	'grep -qx "hello from user-data on ip-10-0-1-10" "$STATE/hosts/i-jump/console.log"'
t_ok 'the console log shows the host key the jump host offers' \
	'k=$(timeout 10 ip netns exec "$CLIENT" ssh-keyscan -t ed25519 "$JUMP_PUB" 2>/dev/null | cut -d" " -f2-3)
	[ -n "$k" ] && grep -qF "$k" "$STATE/hosts/i-jump/console.log"'
t_out 'the file the jump user-data wrote exists (with the endpoint)' "http://198.18.1.1:$PORT" \
	'cssh "$JUMP_PUB" sudo cat /root/ud-ran'
t_out 'the host'"'"'s /root is its own' 'ud-ran' 'cssh "$JUMP_PUB" sudo ls -A /root'
t_ok 'the file the private user-data wrote exists' 'pssh test -f /home/ubuntu/ud-private'
t_out 'AWS_ENDPOINT_URL in a login environment' "http://198.18.1.1:$PORT" \
	'pssh '"'"'echo $AWS_ENDPOINT_URL'"'"
t_ok 'and credentials to sign with (moto takes any)' \
	'pssh '"'"'test -n "$AWS_ACCESS_KEY_ID" && test -n "$AWS_SECRET_ACCESS_KEY"'"'"
if [ "$have_moto" = yes ]; then
	t_out 'a private host reaches the control plane' '200' \
		'pssh '"'"'curl -s -m 3 -o /dev/null -w "%{http_code}" "$AWS_ENDPOINT_URL/moto-api/"'"'"
fi

# (the machine's /root and /home are hidden in hosts: a pyenv aws does not count)
if [ "$have_moto" = yes ] && { [ -x /usr/bin/aws ] || [ -x /usr/local/bin/aws ]; }; then
	t_out 'the AWS CLI on a private host calls the control plane' 'None' \
		'pssh "aws sts get-caller-identity --query Arn --output text >/dev/null && aws ec2 describe-vpcs --query \"Vpcs[0].Tags\" --output text"'
elif [ "$have_moto" = yes ]; then
	t_skip 'the AWS CLI on a private host: no system-wide aws (hosts see /usr, not a pyenv one)'
fi

# -- EFS ------------------------------------------------------------------------
opts=nfsvers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2,noresvport
t_ok 'efs: file system and two mount targets' 'D efs-create fs-lab1 &&
	D efs-target-add fs-lab1 vpc-1 10.0.1.100 && D efs-target-add fs-lab1 vpc-1 10.0.2.100'
t_ok 'efs: mount -t nfs4 on the jump host, write a file' \
	'cssh "$JUMP_PUB" "sudo mkdir -p /efs && sudo mount -t nfs4 -o $opts 10.0.1.100:/ /efs && echo from-jump | sudo tee /efs/a >/dev/null"'
t_out 'efs: the private host reads it' 'from-jump' \
	'pssh "sudo mkdir -p /efs && sudo mount -t nfs4 -o $opts 10.0.2.100:/ /efs && cat /efs/a"'
t_out 'efs: and back' 'from-priv' \
	'pssh "echo from-priv | sudo tee /efs/b >/dev/null" && cssh "$JUMP_PUB" cat /efs/b'
t_ok 'efs: an unknown mount target fails' '! pssh "sudo mkdir -p /mnt/x && sudo mount -t nfs4 10.0.9.9:/ /mnt/x"'
t_out 'efs: hosts write into the lab state, not onto the machine' "from-jump no" \
	'echo "$(cat "$(D efs-path fs-lab1)/a") $([ -e /efs ] && [ $efs_before = no ] && echo yes || echo no)"'

# -- a second VPC with the same CIDR and the same private IP ---------------------
t_ok 'a host in an overlapping VPC (same CIDR, same IP)' 'D host-create id=i-other vpc=vpc-2 \
	vpc_cidr=10.0.0.0/16 subnet=subnet-o subnet_cidr=10.0.2.0/24 ip=10.0.2.20 \
	key=@"$T/key.pub" port=$PORT && D host-wait i-other 60000'
t_out 'the jump host still reaches its own VPC'"'"'s 10.0.2.20' 'i-priv' \
	'pssh cat /etc/mlshlab-instance-id'
if [ "$have_moto" = yes ]; then
	t_out 'the overlapping VPC reaches the control plane too' '200' \
		'D host-exec i-other /usr/bin/curl -s -m 3 -o /dev/null -w "%{http_code}" http://198.18.2.1:$PORT/moto-api/'
fi

# -- hermetic ---------------------------------------------------------------------
unreachable() { local out; out=$(ip -n "$1" route get 192.0.2.1 2>&1); [[ "$out" == *"Network is unreachable"* ]] || { echo "$1: $out"; return 1; }; }
t_ok 'no route out of the client namespace' 'unreachable "$CLIENT"'
t_ok 'no route out of the core namespace' 'unreachable "$CORE"'
t_ok 'no route out of the VPC routers' 'unreachable "$NAME-v1" && unreachable "$NAME-v2"'
t_ok 'no route out of the hosts' \
	'unreachable "$NAME-i-jump" && unreachable "$NAME-i-priv" && unreachable "$NAME-i-other"'
t_ok 'from inside a host, too' \
	'out=$(D host-exec i-priv /usr/sbin/ip route get 192.0.2.1 2>&1); [[ "$out" == *"Network is unreachable"* ]]'

# -- stop / start / destroy ---------------------------------------------------------
priv_sshd=$(cat "$STATE/hosts/i-priv/sshd.pid")
t_ok 'stop the private host' 'D host-stop i-priv'
t_out 'stopped: state' 'stopped' 'D host-state i-priv'
t_out 'stopped: no process in its namespace' '0' 'ip netns pids "$NAME-i-priv" | wc -l'
t_ok 'stopped: ssh is refused' '! pssh true'
t_ok 'start it again' 'D host-start i-priv && D host-wait i-priv 60000'
t_out 'started: state' 'running' 'D host-state i-priv'
t_ok 'started: ssh works, files kept' 'pssh "test -f /home/ubuntu/ud-private && cat /efs/a"'
t_out 'started: user-data was not run again' '1' \
	'grep -c "private user-data ran" "$STATE/hosts/i-priv/console.log"'
t_ok 'started: a new sshd' '[ "$(cat "$STATE/hosts/i-priv/sshd.pid")" != "$priv_sshd" ]'
t_ok 'destroy the overlapping host and its VPC' 'D host-destroy i-other && D vpc-destroy vpc-2'
t_ok 'destroyed: no namespace left for them' \
	'! ip netns list | grep -E "^($NAME-i-other|$NAME-v2)( |$)"'
t_out 'destroyed: state' 'none' 'D host-state i-other'

# -- apply: the reconciler's last step --------------------------------------------------
cat >"$T/want1" <<EOF
running id=i-jump vpc=vpc-1 vpc_cidr=10.0.0.0/16 subnet=subnet-pub subnet_cidr=10.0.1.0/24 ip=10.0.1.10 public_ip=203.0.113.11 key=@$T/key.pub port=$PORT
stopped id=i-priv vpc=vpc-1 vpc_cidr=10.0.0.0/16 subnet=subnet-priv subnet_cidr=10.0.2.0/24 ip=10.0.2.20 key=@$T/key.pub port=$PORT
running id=i-new vpc=vpc-1 vpc_cidr=10.0.0.0/16 subnet=subnet-priv subnet_cidr=10.0.2.0/24 ip=10.0.2.30 key=@$T/key.pub port=$PORT
EOF
head -1 "$T/want1" >"$T/want2"
t_ok 'apply: create one, stop one, move a public IP' 'D apply "$T/want1"'
t_out 'apply: the states follow' 'running stopped running' \
	'echo $(D host-state i-jump) $(D host-state i-priv) $(D host-state i-new)'
t_out 'apply: the new host answers through the jump host'"'"'s new public IP' 'i-new' \
	'D host-wait i-new 60000 >/dev/null && cssh -J 203.0.113.11 10.0.2.30 cat /etc/mlshlab-instance-id'
t_ok 'apply: the old public IP is gone from the client'"'"'s routes' \
	'out=$(ip -n "$CLIENT" route get "$JUMP_PUB" 2>&1); [[ "$out" == *"Network is unreachable"* ]]'
apply_pids=$(cat "$STATE"/hosts/*/sshd.pid 2>/dev/null)
t_ok 'apply: hosts no longer wanted are destroyed' \
	'D apply "$T/want2" && [ "$(D host-state i-priv) $(D host-state i-new)" = "none none" ] &&
	! ip netns list | grep -qE "^$NAME-i-(priv|new)( |$)"'
t_out 'apply: nothing to do is nothing done' 'running' 'D apply "$T/want2" && D host-state i-jump'

# -- net down -------------------------------------------------------------------------
pids="${moto_pid:-} $(cat "$STATE"/hosts/*/sshd.pid "$STATE"/hosts/*/userdata.pid 2>/dev/null) $priv_sshd $apply_pids"
t_ok 'net down' 'D net-down'
t_ok 'no lab namespace left' '! ip netns list | grep -q "$NAME"'
alive() { # a live (not zombie) process
	local s; s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) || return 1
	[ -n "$s" ] && [ "$s" != Z ] && [ "$s" != X ]
}
t_ok 'no lab process left (recorded PIDs)' \
	'for p in $pids; do alive "$p" && { echo "alive: $p"; exit 1; }; done; true'
t_ok 'no lab mount left' '! grep -F "$STATE" /proc/self/mountinfo'
t_ok 'the root namespace is unchanged' 'snapshot | grep -v "$NAME" | diff "$T/root.before" -'
t_ok 'the state directory is empty but for its lock' '[ "$(ls "$STATE")" = lock ]'

# -- after a crash: the records are lost, the next net up cleans anyway --------------
t_ok 'crash: a lab with a running host' 'D net-up "$NAME" && D host-create id=i-crash vpc=vpc-1 \
	subnet=subnet-pub subnet_cidr=10.0.1.0/24 ip=10.0.1.30 public_ip=203.0.113.30 \
	key=@"$T/key.pub" && D host-wait i-crash 60000'
crash_sshd=$(cat "$STATE/hosts/i-crash/sshd.pid" 2>/dev/null)
rm -rf "$STATE/hosts" "$STATE/pids" "$STATE/net.up"
t_ok 'crash: net up again over the leftovers' 'D net-up "$NAME"'
t_ok 'crash: the orphaned sshd was stopped' '[ -n "$crash_sshd" ] && ! alive "$crash_sshd"'
t_ok 'crash: the orphaned host namespace was removed' '! ip netns list | grep -q "$NAME-i-crash"'
t_ok 'crash: its namespace files were unmounted' '! grep -F "i-crash" /proc/self/mountinfo'
t_ok 'crash: net down' 'D net-down && ! ip netns list | grep -q "$NAME"'
t_ok 'the root namespace is unchanged at the end' 'snapshot | grep -v "$NAME" | diff "$T/root.before" -'
trap - EXIT
t_done
