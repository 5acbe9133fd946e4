# tests/remote/sshd.sh: two throw-away OpenSSH servers on 127.0.0.1, sourced
# by remote.t and bench/ssh.sh.
#
#   sshd_setup DIR        keys (client ed25519/ecdsa/rsa, host keys), configs
#   sshd_start NAME       start sshd NAME (jump|node) on its port; sets PID_<NAME>
#   sshd_stop NAME        kill it, and its per-connection children, by PID
#   sshd_regen_hostkey NAME
#
# Only loopback; every wait bounded; PIDs recorded so the caller's trap can
# stop exactly what was started.
SSHD=/usr/sbin/sshd

free_port() {
	python3 -S -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

sshd_setup() {
	SD=$1
	mkdir -p "$SD" /run/sshd
	chmod 700 "$SD"
	ssh-keygen -q -t ecdsa -N '' -f "$SD/id_ecdsa" -C mlsh-test
	ssh-keygen -q -t ed25519 -N '' -f "$SD/id_ed25519" -C mlsh-test
	ssh-keygen -q -t rsa -b 2048 -N '' -f "$SD/id_rsa" -C mlsh-test
	ssh-keygen -q -t ecdsa -N 'sekrit' -f "$SD/id_locked" -C mlsh-test
	ssh-keygen -q -t ecdsa -N '' -f "$SD/id_other" -C mlsh-test
	# HOME points at an empty directory: bash started by sshd sources
	# ~/.bashrc, and root's here runs pyenv & co (~150 ms per command),
	# which would drown what is measured.  Same for every client.
	mkdir -p "$SD/home"
	for k in id_ecdsa id_ed25519 id_rsa id_locked; do
		printf 'environment="HOME=%s/home" %s\n' "$SD" "$(cat "$SD/$k.pub")"
	done >"$SD/authorized_keys"
	chmod 600 "$SD/authorized_keys"
	PORT_jump=$(free_port)
	PORT_node=$(free_port)
	for n in jump node; do
		ssh-keygen -q -t ed25519 -N '' -f "$SD/host_$n"
		local port
		eval "port=\$PORT_$n"
		cat >"$SD/sshd_$n.conf" <<CFG
ListenAddress 127.0.0.1
Port $port
HostKey $SD/host_$n
PidFile $SD/sshd_$n.pid
AuthorizedKeysFile $SD/authorized_keys
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AllowTcpForwarding yes
AllowAgentForwarding no
X11Forwarding no
PrintMotd no
PrintLastLog no
UseDNS no
PermitUserEnvironment yes
MaxSessions 100
MaxStartups 100
Subsystem sftp internal-sftp
LogLevel ERROR
CFG
	done
}

sshd_start() {
	local n=$1 port
	eval "port=\$PORT_$n"
	$SSHD -D -e -f "$SD/sshd_$n.conf" >>"$SD/sshd_$n.log" 2>&1 &
	eval "PID_$n=$!"
	for _ in $(seq 1 100); do
		if python3 -S -c "import socket,sys;s=socket.socket();s.settimeout(0.2);sys.exit(s.connect_ex(('127.0.0.1',$port)))" 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	echo "sshd $n did not start:" >&2; cat "$SD/sshd_$n.log" >&2
	return 1
}

sshd_stop() {
	local n=$1 pid kids
	eval "pid=\${PID_$n:-}"
	[ -n "$pid" ] || return 0
	# The listener's per-connection children (and theirs) keep connections
	# up after the listener dies: kill them by PID too.
	kids=$(ps -o pid= --ppid "$pid" 2>/dev/null)
	for k in $kids; do
		kill $(ps -o pid= --ppid "$k" 2>/dev/null) 2>/dev/null
		kill "$k" 2>/dev/null
	done
	kill "$pid" 2>/dev/null
	for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	eval "PID_$n="
	return 0
}

sshd_regen_hostkey() {
	rm -f "$SD/host_$1" "$SD/host_$1.pub"
	ssh-keygen -q -t ed25519 -N '' -f "$SD/host_$1"
}
