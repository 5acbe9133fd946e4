#!/bin/sh
# mlsh grafana user-data: install Grafana, provision a CloudWatch data source
# (credentials from the instance role: no keys on the machine) and the
# training dashboard (scripts/grafana-dashboard.json), and start it on :3000.
#
# Placeholders as in scripts/userdata/node.sh. POSIX sh, tolerant of missing
# tools (the mlsh lab has no package mirror: it logs and goes on), safe to
# run again.
PATH=$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

WORKSPACE='@WORKSPACE@'
REGION='@REGION@'

# Overridable for tests only.
GRAFANA_ETC=${MLSH_GRAFANA_ETC:-/etc/grafana}
DASHBOARDS=${MLSH_GRAFANA_DASHBOARDS:-/var/lib/grafana/dashboards}

log() { echo "mlsh-userdata: $*"; }
have() { command -v "$1" >/dev/null 2>&1; }

# ---- Grafana itself ---------------------------------------------------------
if ! have grafana-server && ! have grafana && have apt-get; then
	log "installing grafana from apt.grafana.com"
	export DEBIAN_FRONTEND=noninteractive
	{
		apt-get update -q &&
		apt-get install -y -q apt-transport-https gnupg wget &&
		mkdir -p /etc/apt/keyrings &&
		wget -q -O - https://apt.grafana.com/gpg.key |
		    gpg --dearmor >/etc/apt/keyrings/grafana.gpg &&
		echo "deb [signed-by=/etc/apt/keyrings/grafana.gpg] https://apt.grafana.com stable main" \
		    >/etc/apt/sources.list.d/grafana.list &&
		apt-get update -q &&
		apt-get install -y -q grafana
	} >/var/log/mlsh-grafana-install.log 2>&1 ||
	    log "could not install grafana (see /var/log/mlsh-grafana-install.log)"
fi

# ---- provisioning -----------------------------------------------------------
mkdir -p "$GRAFANA_ETC/provisioning/datasources" \
    "$GRAFANA_ETC/provisioning/dashboards" "$DASHBOARDS"
cat >"$GRAFANA_ETC/provisioning/datasources/mlsh-cloudwatch.yaml" <<YAML
# Written by mlsh (workspace $WORKSPACE).
apiVersion: 1
datasources:
  - name: CloudWatch
    uid: cloudwatch
    type: cloudwatch
    isDefault: true
    jsonData:
      authType: default
      defaultRegion: $REGION
YAML
cat >"$GRAFANA_ETC/provisioning/dashboards/mlsh.yaml" <<YAML
apiVersion: 1
providers:
  - name: mlsh
    folder: mlsh
    type: file
    allowUiUpdates: true
    options:
      path: $DASHBOARDS
YAML
cat >"$DASHBOARDS/mlsh-training.json" <<'DASHBOARD'
@@DASHBOARD@@
DASHBOARD

# ---- run it -----------------------------------------------------------------
if [ -d /run/systemd/system ] && have systemctl &&
    systemctl list-unit-files grafana-server.service >/dev/null 2>&1; then
	systemctl daemon-reload
	systemctl enable grafana-server >/dev/null 2>&1
	systemctl restart grafana-server && log "grafana-server running on :3000"
elif have grafana-server || have grafana; then
	# No systemd (a container, the lab): run it in the background once.
	if ! [ -f /run/mlsh-grafana.pid ] ||
	    ! kill -0 "$(cat /run/mlsh-grafana.pid)" 2>/dev/null; then
		bin=$(command -v grafana-server || command -v grafana)
		sub=""
		[ "$(basename "$bin")" = grafana ] && sub=server
		nohup "$bin" $sub --homepath /usr/share/grafana \
		    --config "$GRAFANA_ETC/grafana.ini" >/var/log/mlsh-grafana.log 2>&1 &
		echo $! >/run/mlsh-grafana.pid
		log "grafana started (pid $!)"
	fi
else
	log "grafana is not installed; provisioning written for when it is"
fi
log "done"
