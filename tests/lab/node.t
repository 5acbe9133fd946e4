#!/usr/bin/env bash
# node dl1 up in the lab: the node becomes a real host in the private subnet
# and its user-data (scripts/userdata/node.sh) mounts EFS at /efs through the
# fstab entry the seed's options describe. Checked with OpenSSH through the
# jump host from the lab's client namespace. Needs root.
. "$TESTS_DIR/lib.sh"
[ "$(id -u)" = 0 ] || { echo "not ok - the lab tests run as root"; exit 1; }
export MLSH_LAB_NAME="mlshnd$$"
NS="$MLSH_LAB_NAME"
m() { "$MLSH" --norc --lab "$@"; }
cleanup() { "$MLSH" --norc lab down >/dev/null 2>&1; }
trap cleanup EXIT
mkdir -p "$HOME/.ssh" && ssh-keygen -q -t ed25519 -N "" -f "$HOME/.ssh/id_ed25519"
attr() { python3 -S -c "import json,sys; print(json.load(open(sys.argv[1]))['resources'][sys.argv[2]]['attrs'][sys.argv[3]])" \
	"$XDG_STATE_HOME/mlsh/labn.json" "$1" "$2"; }

t_ok 'vpc up; efs up; node dl1 up in the lab' '
	m -c "workspace labn; vpc up --allow 198.18.0.2/32 --yes; efs up; node dl1 up --yes" >"$T/up.log" 2>&1 ||
	{ tail -5 "$T/up.log"; false; }'
jpub=$(attr jump public_ip 2>/dev/null); nip=$(attr dl1-1 private_ip 2>/dev/null); mt=$(attr mount-target private_ip 2>/dev/null)
O=(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=30 -o BatchMode=yes -i "$HOME/.ssh/id_ed25519")
nssh() { ip netns exec "$NS-client" ssh "${O[@]}" -o "ProxyCommand=ssh ${O[*]} -W %h:%p ubuntu@$jpub" ubuntu@"$nip" "$@"; }
retry() { for _ in $(seq 1 150); do "$@" && return 0; sleep 0.2; done; return 1; }

t_ok 'the node answers only through the jump host' 'retry nssh true'
t_ok 'its user-data mounted the EFS at /efs' 'retry nssh "grep -q \" /efs \" /proc/mounts"'
t_ok 'with one fstab entry: the mount target and the seed NFS options' '
	[ "$(nssh "grep -c \" /efs nfs4 \" /etc/fstab")" = 1 ] &&
	nssh "grep -qx \"$mt:/ /efs nfs4 nfsvers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2,noresvport,_netdev 0 0\" /etc/fstab"'
t_ok '/efs belongs to ubuntu and is shared with the file system' '
	nssh "touch /efs/from-node-\$(hostname) && stat -c %U /efs" | grep -qx ubuntu'
# The user-data installs the collector after the mount: on a loaded machine
# it may still be on its way; wait for it. And ssh gets 30 s to connect:
# 5 s ran out at a load of 14 ("Connection timed out during banner exchange").
t_ok 'the metrics collector is installed with the node'\''s settings' '
	retry nssh "test -x /usr/local/bin/mlsh-metrics" &&
	nssh "grep -qx MLSH_NODE=dl1-1 /etc/mlsh/metrics.env && /usr/local/bin/mlsh-metrics --print" | python3 -S -c "import json,sys; n={x[\"MetricName\"] for x in json.load(sys.stdin)}; assert \"mem_used_percent\" in n, n"'
t_ok 'no HPU or GPU tool in the lab: the CPU setup' '! nssh "test -e /etc/profile.d/mlsh-accel.sh"'
# Before t_done: it removes $T, where the lab keeps what lab down needs.
t_ok 'lab down leaves no namespace of this lab' '
	"$MLSH" --norc lab down >/dev/null 2>&1 && ! ip netns list | grep -q "^$NS-"'
t_done
