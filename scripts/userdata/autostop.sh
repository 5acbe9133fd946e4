#!/bin/sh
# mlsh-autostop: stop this machine after it has been idle for a while.
#
#	mlsh-autostop tick	check once (systemd timer or cron, every minute)
#	mlsh-autostop loop	check forever (no systemd, no cron: the lab)
#	mlsh-autostop show	the settings and the last check, key=value lines
#	mlsh-autostop install IDLE NAME [PORTS]	settings (a re-run keeps
#				them), then a check every minute
#	mlsh-autostop schedule NAME ARGS	run mlsh-NAME ARGS every minute
#				(systemd timer, else cron); 1: neither
#
# Idle (each check): no live train run of this node, no SSH session on a
# terminal, no TCP connection to a port of ports= (Grafana's :3000 through
# `grafana open`), CPU < cpu=%, HPUs/GPUs < accel=%. Idle for idle= seconds
# in a row: shutdown -h now. Settings: /etc/mlsh/autostop (idle=SECS|off,
# cpu=, accel=, node=, ports=); state: /var/lib/mlsh/autostop (its
# idle_since and stops_at are what `status` shows). Details:
# builtins/autostop.c.
# Tests: MLSH_ROOT prefixes paths, MLSH_PROC replaces /proc.
PATH=$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
ROOT=${MLSH_ROOT:-}
PROC=${MLSH_PROC:-/proc}
CONF=$ROOT/etc/mlsh/autostop
VAR=$ROOT/var/lib/mlsh
STATE=$VAR/autostop

log() { echo "mlsh-autostop: $*"; }
have() { command -v "$1" >/dev/null 2>&1; }

idle=off cpu=10 accel=10 node='' ports=''
conf_read() {
	[ -r "$CONF" ] || return 0
	while IFS='=' read -r k v; do
		case $k in
		idle) case $v in off|[0-9]*) idle=$v;; esac;;
		cpu) case $v in [0-9]*) cpu=$v;; esac;;
		accel) case $v in [0-9]*) accel=$v;; esac;;
		node) node=$v;;
		ports) case $v in *[!0-9,]*) ;; *) ports=$v;; esac;;
		esac
	done <"$CONF"
	case $idle in off) ;; *[!0-9]*|'') idle=off;; esac
}

state_get() {	# key: its value in the state file, or ""
	[ -r "$STATE" ] && sed -n "s/^$1=//p" "$STATE" | head -n 1
}

# A live train run of this node: prints its directory.
run_alive() {
	for base in "$ROOT/efs/runs" "$ROOT/root/runs" "$ROOT"/home/*/runs; do
		for pf in "$base"/*/pid "$base"/*/*/pid; do
			[ -f "$pf" ] || continue
			d=${pf%/pid}
			[ -e "$d/exit" ] && continue
			if [ -n "$node" ] && [ -r "$d/node" ] &&
			    [ "$(cat "$d/node")" != "$node" ]; then
				continue
			fi
			p=$(cat "$pf" 2>/dev/null)
			case $p in ''|*[!0-9]*) continue;; esac
			if kill -0 "$p" 2>/dev/null; then
				echo "$d"
				return 0
			fi
		done
	done
	return 1
}

# An interactive SSH session in this network namespace: prints its process.
ssh_session() {
	mine=$(readlink "$PROC/self/ns/net" 2>/dev/null)
	for p in "$PROC"/[0-9]*; do
		[ -r "$p/cmdline" ] || continue
		c=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)
		case $c in
		"sshd: "*@pts/*|"sshd-session: "*@pts/*|"sshd: "*@tty*) ;;
		*) continue;;
		esac
		[ "$(readlink "$p/ns/net" 2>/dev/null)" = "$mine" ] || continue
		echo "$c"
		return 0
	done
	return 1
}

# An established TCP connection to one of ports= (/proc/net/tcp: local
# address HEXIP:HEXPORT, state 01): prints which.
port_in_use() {
	for p in $(echo "$ports" | tr ',' ' '); do
		h=$(printf ':%04X' "$p")
		if awk -v h="$h" '$4 == "01" && substr($2, length($2) - 4) == h \
		    { f = 1 } END { exit !f }' "$PROC/net/tcp" "$PROC/net/tcp6" \
		    2>/dev/null; then
			echo "connection to :$p"
			return 0
		fi
	done
	return 1
}

# CPU busy percent since the last check; nothing on the first.
cpu_pct() {
	# shellcheck disable=SC2046 # the numbers, split
	set -- $(sed -n 's/^cpu  *//p' "$PROC/stat" | head -n 1)
	[ $# -ge 4 ] || return 1
	tot=0
	for v in "$@"; do tot=$((tot + v)); done
	idl=$(($4 + ${5:-0}))
	prev=$(cat "$VAR/cpu.prev" 2>/dev/null)
	echo "$tot $idl" >"$VAR/cpu.prev"
	# shellcheck disable=SC2086
	set -- $prev
	[ $# -eq 2 ] && [ "$tot" -gt "$1" ] || return 1
	echo $(( (100 * ((tot - $1) - (idl - $2))) / (tot - $1) ))
}

# The busiest accelerator's utilisation, percent.
accel_pct() {
	if have hl-smi; then
		hl-smi -Q utilization.aip -f csv,noheader,nounits 2>/dev/null
	elif have nvidia-smi; then
		nvidia-smi --query-gpu=utilization.gpu --format=csv,noheader,nounits \
		    2>/dev/null
	fi | tr -dc '0-9\n' | sort -n | tail -n 1
}

busy_reason() {
	if d=$(run_alive); then echo "train run ${d##*/}"; return; fi
	if s=$(ssh_session); then echo "ssh session (${s% })"; return; fi
	if s=$(port_in_use); then echo "$s"; return; fi
	if c=$(cpu_pct) && [ "$c" -ge "$cpu" ]; then echo "cpu ${c}%"; return; fi
	a=$(accel_pct)
	if [ -n "$a" ] && [ "$a" -ge "$accel" ]; then echo "accelerator ${a}%"; fi
}

state_put() {	# state reason idle_since stops_at
	printf 'state=%s\nreason=%s\nidle_since=%s\nstops_at=%s\nchecked=%s\n' \
	    "$1" "$2" "$3" "$4" "$now" >"$STATE.tmp" && mv "$STATE.tmp" "$STATE"
}

conf_changed() { [ -n "$(find "$CONF" -newer "$STATE" 2>/dev/null)" ]; }

tick() {
	mkdir -p "$VAR"
	conf_read
	now=$(date +%s)
	why=$(busy_reason)
	if [ "$idle" = off ]; then
		state_put off "$why" "" ""
		return 0
	fi
	if [ -n "$why" ]; then
		state_put busy "$why" "" ""
		return 0
	fi
	since=$(state_get idle_since)
	case $since in ''|*[!0-9]*) since=$now;; esac
	stops=$((since + idle))
	if [ "$now" -lt "$stops" ]; then
		state_put idle "" "$since" "$stops"
		return 0
	fi
	state_put stopping "idle since $since" "$since" "$stops"
	log "idle for $((now - since))s (limit ${idle}s): stopping"
	if have shutdown; then shutdown -h now "mlsh autostop"
	else poweroff; fi
}

BIN=$ROOT/usr/local/bin
# Run $BIN/mlsh-NAME ARGS every minute: systemd timer, else cron; 1: neither.
schedule() {
	if [ -d "$ROOT/run/systemd/system" ] && have systemctl; then
		cat >"$ROOT/etc/systemd/system/mlsh-$1.service" <<UNIT
[Unit]
Description=mlsh $1
[Service]
Type=oneshot
ExecStart=$BIN/mlsh-$1 $2
UNIT
		cat >"$ROOT/etc/systemd/system/mlsh-$1.timer" <<UNIT
[Unit]
Description=mlsh $1 every minute
[Timer]
OnBootSec=1min
OnUnitActiveSec=1min
[Install]
WantedBy=timers.target
UNIT
		systemctl daemon-reload && systemctl enable --now "mlsh-$1.timer" \
		    >/dev/null 2>&1 && log "$1: systemd timer"
	elif [ -d "$ROOT/etc/cron.d" ] && { have cron || have crond; }; then
		echo "* * * * * root $BIN/mlsh-$1 $2 >/dev/null 2>&1" \
		    >"$ROOT/etc/cron.d/mlsh-$1"
		log "$1: cron"
	else
		return 1
	fi
}

install() {
	mkdir -p "${CONF%/*}"
	# A re-run keeps a setting changed since (`node NAME autostop`).
	[ -f "$CONF" ] || printf 'idle=%s\ncpu=10\naccel=10\nnode=%s\nports=%s\n' \
	    "${1:-off}" "$2" "$3" >"$CONF"
	schedule autostop tick && return 0
	pf=${CONF%/*}/autostop.pid
	[ -f "$pf" ] && kill -0 "$(cat "$pf")" 2>/dev/null && return 0
	nohup "$BIN/mlsh-autostop" loop >/dev/null 2>&1 &
	echo $! >"$pf"
	log "background loop (pid $!)"
}

case ${1:-tick} in
tick)	tick;;
install) install "$2" "$3" "$4";;
schedule) schedule "$2" "$3";;
loop)
	while :; do
		tick
		# Every minute (a short limit: more often); a new setting in 5 s.
		n=60
		[ "$idle" != off ] && [ "$idle" -lt 240 ] && n=$((idle / 4))
		[ "$n" -lt 2 ] && n=2
		while [ "$n" -gt 0 ] && ! conf_changed; do
			s=5; [ "$n" -lt 5 ] && s=$n
			sleep "$s"
			n=$((n - s))
		done
	done;;
show)
	conf_read
	echo "idle=$idle"
	echo "cpu=$cpu"
	echo "accel=$accel"
	echo "ports=$ports"
	[ -r "$STATE" ] && cat "$STATE"
	echo "now=$(date +%s)";;
*)	echo "usage: mlsh-autostop tick|loop|show|install|schedule" >&2; exit 2;;
esac
