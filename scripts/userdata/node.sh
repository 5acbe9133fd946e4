#!/bin/sh
# mlsh node user-data: mount EFS at /efs and send metrics to CloudWatch.
#
# mlsh fills the @name@ placeholders when it starts a node (node.c): each
# sits inside single quotes and its value is quoted for them; @@name@@ lines
# are whole files put in as they are. POSIX sh, tolerant of missing tools,
# and safe to run again (reboot, re-run by hand): the fstab entry is added
# once and `mount -a` mounts it. Runs on AWS (Ubuntu DLAMIs) and in the mlsh
# lab (hosts in network namespaces where `mount -t nfs4 IP:/ /efs` works and
# AWS_ENDPOINT_URL is set). The accelerator setup is chosen by what is on the
# machine (hl-smi, nvidia-smi), never by an instance type string.
PATH=$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

WORKSPACE='@WORKSPACE@'
NODE='@NODE@'
REGION='@REGION@'
EFS_ID='@EFS_ID@'
EFS_DNS='@EFS_DNS@'
EFS_IP='@EFS_IP@'
NAMESPACE='@NAMESPACE@'
AUTOSTOP='@AUTOSTOP@'

# For tests only: MLSH_ROOT puts every file under a scratch directory and
# MLSH_MOUNTS replaces /proc/mounts. On a node both are unset.
ROOT=${MLSH_ROOT:-}
MOUNTS=${MLSH_MOUNTS:-/proc/mounts}
MOUNT_TRIES=${MLSH_MOUNT_TRIES:-30}
EFS_DIR=$ROOT/efs
FSTAB=$ROOT/etc/fstab
ETC=$ROOT/etc/mlsh
BIN=$ROOT/usr/local/bin
NFS_OPTS=nfsvers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2,noresvport

log() { echo "mlsh-userdata: $*"; }
have() { command -v "$1" >/dev/null 2>&1; }

mkdir -p "$ETC" "$BIN"
cat >"$ETC/metrics.env" <<ENV
MLSH_NAMESPACE=$NAMESPACE
MLSH_NODE=$NODE
MLSH_WORKSPACE=$WORKSPACE
MLSH_REGION=$REGION
ENV

# ---- EFS at /efs ------------------------------------------------------------
efs_mounted() { grep -qs "[[:space:]]${EFS_DIR}[[:space:]]" "$MOUNTS"; }

efs_setup() {
	# The mount target's address works in AWS and in the lab; the DNS name
	# needs the VPC's resolver.
	if [ -n "$EFS_IP" ]; then src="$EFS_IP:/"
	elif [ -n "$EFS_DNS" ]; then src="$EFS_DNS:/"
	else
		log "no EFS in this workspace; $EFS_DIR not mounted"
		return 0
	fi
	mkdir -p "$EFS_DIR"
	if [ -z "$ROOT" ] && ! have mount.nfs4 && ! have mount.nfs && have apt-get; then
		log "installing nfs-common"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q nfs-common \
		    >/dev/null 2>&1 || log "could not install nfs-common"
	fi
	if ! grep -qs "^[^#]*[[:space:]]${EFS_DIR}[[:space:]]" "$FSTAB"; then
		echo "$src $EFS_DIR nfs4 $NFS_OPTS,_netdev 0 0" >>"$FSTAB"
		log "added $EFS_DIR to $FSTAB"
	fi
	n=0
	while ! efs_mounted; do
		# The mount target may still be coming up: try for a while.
		mount -a -t nfs4 2>/dev/null ||
		    mount -t nfs4 -o "$NFS_OPTS" "$src" "$EFS_DIR" 2>/dev/null
		efs_mounted && break
		n=$((n + 1))
		if [ "$n" -ge "$MOUNT_TRIES" ]; then
			log "could not mount $src at $EFS_DIR after $n tries"
			return 1
		fi
		sleep 10
	done
	log "$EFS_ID mounted at $EFS_DIR"
	# The training user writes datasets and checkpoints there.
	if id ubuntu >/dev/null 2>&1; then
		chown ubuntu:ubuntu "$EFS_DIR" 2>/dev/null || true
	fi
	return 0
}

# ---- accelerators -----------------------------------------------------------
accel=cpu
if have hl-smi; then
	accel=hpu
	# Habana Gaudi (dl1): the Synapse tools live under /opt/habanalabs; make
	# them and the HPU settings visible to login shells.
	cat >"$ROOT/etc/profile.d/mlsh-accel.sh" 2>/dev/null <<'PROF'
export MLSH_ACCEL=hpu
[ -d /opt/habanalabs ] && export PATH="$PATH:/opt/habanalabs/bin"
PROF
	hl-smi -L >/dev/null 2>&1 || log "hl-smi present but no HPU answered"
elif have nvidia-smi; then
	accel=gpu
	echo 'export MLSH_ACCEL=gpu' >"$ROOT/etc/profile.d/mlsh-accel.sh" 2>/dev/null
fi
log "accelerator: $accel"

# ---- autostop: stop the machine when idle (mlsh-autostop's header) ---------
# Written first: its `schedule` runs mlsh-metrics too.
cat >"$BIN/mlsh-autostop" <<'AUTOSTOP'
@@AUTOSTOP_SH@@
AUTOSTOP
chmod 755 "$BIN/mlsh-autostop"
"$BIN/mlsh-autostop" install "${AUTOSTOP:-off}" "$NODE"
schedule() { "$BIN/mlsh-autostop" schedule "$@"; }

# ---- metrics to CloudWatch --------------------------------------------------
cat >"$BIN/mlsh-metrics" <<'METRICS'
@@METRICS@@
METRICS
chmod 755 "$BIN/mlsh-metrics"

CWA=$ROOT/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl
metrics_args=""
if [ -x "$CWA" ]; then
	# The agent does CPU, memory, disk and NVIDIA GPUs (renamed to the names
	# mlsh-metrics uses); HPUs have no agent plugin, so mlsh-metrics sends
	# those with --no-system.
	gpu=""
	[ "$accel" = gpu ] && gpu=',
      "nvidia_gpu": {"measurement": [
        {"name": "utilization_gpu", "rename": "gpu_utilization", "unit": "Percent"},
        {"name": "memory_used", "rename": "gpu_memory_used", "unit": "Megabytes"}],
        "metrics_collection_interval": 60}'
	cat >"$ETC/cloudwatch-agent.json" <<CWCONF
{
  "agent": {"metrics_collection_interval": 60, "omit_hostname": true},
  "metrics": {
    "namespace": "$NAMESPACE",
    "append_dimensions": {"InstanceId": "\${aws:InstanceId}"},
    "metrics_collected": {
      "cpu": {"totalcpu": true, "measurement": [
        {"name": "usage_active", "rename": "cpu_used_percent", "unit": "Percent"}],
        "append_dimensions": {"Workspace": "$WORKSPACE", "Node": "$NODE"}},
      "mem": {"measurement": [{"name": "used_percent", "rename": "mem_used_percent", "unit": "Percent"}],
        "append_dimensions": {"Workspace": "$WORKSPACE", "Node": "$NODE"}},
      "disk": {"resources": ["/", "$EFS_DIR"], "drop_device": true, "measurement": [
        {"name": "used_percent", "rename": "disk_used_percent", "unit": "Percent"}],
        "append_dimensions": {"Workspace": "$WORKSPACE", "Node": "$NODE"}}$gpu
    }
  }
}
CWCONF
	if "$CWA" -a fetch-config -m ec2 -s -c "file:$ETC/cloudwatch-agent.json" \
	    >/dev/null 2>&1; then
		log "cloudwatch agent started"
		metrics_args=--no-system
	else
		log "cloudwatch agent did not start; mlsh-metrics sends everything"
	fi
fi

if [ "$metrics_args" = "" ] || [ "$accel" = hpu ]; then
	if schedule metrics "$metrics_args"; then :
	elif ! have aws; then
		log "metrics: no aws cli and no scheduler; none sent"
	elif ! [ -f "$ETC/metrics.pid" ] ||
	    ! kill -0 "$(cat "$ETC/metrics.pid")" 2>/dev/null; then
		# Neither systemd nor cron (a container, the lab): a plain loop.
		nohup sh -c "while :; do $BIN/mlsh-metrics $metrics_args; sleep 60; done" \
		    >/dev/null 2>&1 &
		echo $! >"$ETC/metrics.pid"
		log "metrics: background loop (pid $!)"
	fi
fi

efs_setup
log "done"
