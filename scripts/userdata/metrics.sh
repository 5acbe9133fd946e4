#!/bin/sh
# mlsh-metrics: one sample of CPU, memory, disk and accelerator metrics, sent
# to CloudWatch with `aws cloudwatch put-metric-data`. Installed by the node
# user-data and the notebook's OnStart as /usr/local/bin/mlsh-metrics and run
# every minute (systemd timer, else cron, else a loop). POSIX sh; every tool
# is optional: a missing one only drops its metrics.
#
#   mlsh-metrics [--print] [--no-system]
#     --print      print the metric data (JSON) instead of sending it
#     --no-system  accelerators only (the CloudWatch agent does the rest)
#
# Settings from /etc/mlsh/metrics.env (written by the user-data):
#   MLSH_NAMESPACE, MLSH_NODE, MLSH_WORKSPACE, MLSH_REGION
# Metric names match scripts/grafana-dashboard.json and the agent's renames.
PATH=$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
[ -r /etc/mlsh/metrics.env ] && . /etc/mlsh/metrics.env
NS=${MLSH_NAMESPACE:-mlsh}
NODE=${MLSH_NODE:-$(hostname 2>/dev/null || echo unknown)}
WS=${MLSH_WORKSPACE:-default}
print=0 system=1
for a in "$@"; do
	case $a in
	--print) print=1 ;;
	--no-system) system=0 ;;
	esac
done

data=""
# add NAME VALUE UNIT [EXTRA_DIMENSION_JSON]
add() {
	case $2 in ''|*[!0-9.]*) return 0 ;; esac
	d="{\"Name\":\"Workspace\",\"Value\":\"$WS\"},{\"Name\":\"Node\",\"Value\":\"$NODE\"}"
	[ -n "${4:-}" ] && d="$d,$4"
	data="$data${data:+,}{\"MetricName\":\"$1\",\"Value\":$2,\"Unit\":\"$3\",\"Dimensions\":[$d]}"
}

if [ "$system" = 1 ]; then
	# CPU: busy share of two /proc/stat readings one second apart.
	if [ -r /proc/stat ]; then
		s1=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6; exit}' /proc/stat)
		sleep 1
		s2=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6; exit}' /proc/stat)
		add cpu_used_percent "$(echo "$s1 $s2" | awk '{b=$3-$1; i=$4-$2;
		    if (b+i > 0) printf "%.1f", 100*b/(b+i); else print 0}')" Percent
	fi
	if [ -r /proc/meminfo ]; then
		add mem_used_percent "$(awk '/^MemTotal:/{t=$2} /^MemAvailable:/{a=$2}
		    END{if (t > 0) printf "%.1f", 100*(t-a)/t}' /proc/meminfo)" Percent
	fi
	for p in / /efs; do
		[ -d "$p" ] || continue
		v=$(df -P "$p" 2>/dev/null | awk 'NR==2{sub("%","",$5); print $5}')
		add disk_used_percent "$v" Percent "{\"Name\":\"path\",\"Value\":\"$p\"}"
	done
fi

# Accelerators: chosen by what is on the machine, never by instance type.
tmp=$(mktemp 2>/dev/null || echo "/tmp/.mlsh-metrics.$$")
trap 'rm -f "$tmp"' EXIT
if command -v nvidia-smi >/dev/null 2>&1; then
	nvidia-smi --query-gpu=index,utilization.gpu,memory.used \
	    --format=csv,noheader,nounits 2>/dev/null | tr ',' ' ' >"$tmp"
	while read -r i u m; do
		add gpu_utilization "$u" Percent "{\"Name\":\"index\",\"Value\":\"$i\"}"
		add gpu_memory_used "$m" Megabytes "{\"Name\":\"index\",\"Value\":\"$i\"}"
	done <"$tmp"
fi
if command -v hl-smi >/dev/null 2>&1; then
	hl-smi -Q index,utilization.aip,memory.used -f csv,noheader,nounits \
	    2>/dev/null | tr ',' ' ' >"$tmp"
	while read -r i u m; do
		add hpu_utilization "$u" Percent "{\"Name\":\"index\",\"Value\":\"$i\"}"
		add hpu_memory_used "$m" Megabytes "{\"Name\":\"index\",\"Value\":\"$i\"}"
	done <"$tmp"
fi

[ -n "$data" ] || exit 0
if [ "$print" = 1 ]; then
	echo "[$data]"
	exit 0
fi
command -v aws >/dev/null 2>&1 || { echo "mlsh-metrics: no aws cli; nothing sent" >&2; exit 0; }
# put-metric-data takes at most 1000 items; a node has a few dozen.
exec aws cloudwatch put-metric-data ${MLSH_REGION:+--region "$MLSH_REGION"} \
    --namespace "$NS" --metric-data "[$data]"
