#!/bin/sh
# mlsh notebook OnStart (SageMaker lifecycle configuration, runs as root at
# every start): mount the workspace's EFS at /efs (linked into the Jupyter
# tree as ~/SageMaker/efs), export GPU and memory stats to CloudWatch
# every minute with mlsh-metrics (the same collector nodes use), and stop
# the instance when its kernels are idle (mlsh-notebook-autostop).
#
# Placeholders as in scripts/userdata/node.sh. SageMaker stops an OnStart
# that runs over 5 minutes, so the slow parts run in the background.
PATH=$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

WORKSPACE='@WORKSPACE@'
NODE='@NODE@'
REGION='@REGION@'
EFS_DNS='@EFS_DNS@'
EFS_IP='@EFS_IP@'
NAMESPACE='@NAMESPACE@'
AUTOSTOP='@AUTOSTOP@'
NFS_OPTS=nfsvers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2,noresvport
EFS_DIR=/efs
NB_HOME=/home/ec2-user/SageMaker

log() { echo "mlsh-onstart: $*"; }

mkdir -p /etc/mlsh
cat >/etc/mlsh/metrics.env <<ENV
MLSH_NAMESPACE=$NAMESPACE
MLSH_NODE=$NODE
MLSH_WORKSPACE=$WORKSPACE
MLSH_REGION=$REGION
ENV
cat >/usr/local/bin/mlsh-metrics <<'METRICS'
@@METRICS@@
METRICS
chmod 755 /usr/local/bin/mlsh-metrics

# EFS: the instance's disk does not survive a notebook's deletion; /efs does.
src=""
if [ -n "$EFS_IP" ]; then src="$EFS_IP:/"
elif [ -n "$EFS_DNS" ]; then src="$EFS_DNS:/"; fi
if [ -n "$src" ]; then
	mkdir -p "$EFS_DIR"
	if ! grep -qs "[[:space:]]${EFS_DIR}[[:space:]]" /proc/mounts; then
		(
			n=0
			until mount -t nfs4 -o "$NFS_OPTS" "$src" "$EFS_DIR"; do
				n=$((n + 1))
				[ "$n" -ge 30 ] && { log "could not mount $src"; exit 1; }
				sleep 10
			done
			chown ec2-user:ec2-user "$EFS_DIR" 2>/dev/null
			log "$src mounted at $EFS_DIR"
		) >>/var/log/mlsh-onstart.log 2>&1 &
	fi
	[ -d "$NB_HOME" ] && [ ! -e "$NB_HOME/efs" ] && ln -s "$EFS_DIR" "$NB_HOME/efs"
else
	log "no EFS in workspace $WORKSPACE; /efs not mounted"
fi

# Metrics every minute (notebook instances run cron).
echo "* * * * * root /usr/local/bin/mlsh-metrics >/dev/null 2>&1" \
    >/etc/cron.d/mlsh-metrics
# Autostop: idle Jupyter kernels for $AUTOSTOP seconds stop the instance
# (mlsh-notebook-autostop's header; the settings survive a restart).
cat >/usr/local/bin/mlsh-notebook-autostop <<'NBAUTOSTOP'
@@NOTEBOOK_AUTOSTOP@@
NBAUTOSTOP
chmod 755 /usr/local/bin/mlsh-notebook-autostop
printf 'idle=%s\nnode=%s\nregion=%s\n' "${AUTOSTOP:-off}" "$NODE" "$REGION" \
    >/etc/mlsh/autostop
echo "* * * * * root /usr/local/bin/mlsh-notebook-autostop tick >>/var/log/mlsh-autostop.log 2>&1" \
    >/etc/cron.d/mlsh-autostop
log "done"
