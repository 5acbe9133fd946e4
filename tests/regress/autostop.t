#!/usr/bin/env bash
# autostop: the node's watchdog (scripts/userdata/autostop.sh) in a sandbox
# (no network, as nobody, files under MLSH_ROOT, a made-up /proc under
# MLSH_PROC, shutdown a stub), and the durations mlsh accepts. The whole
# story on lab hosts is tests/lab/autostop.t.
. "$TESTS_DIR/lib.sh"

sb=$(mktemp -d /tmp/mlsh-autostop.XXXXXX); chmod 755 "$sb"
t_on_exit 'rm -rf "$sb"'
R=$sb/root P=$sb/proc
mkdir -p "$R/etc/mlsh" "$R/var/lib/mlsh" "$R/efs/runs/r1" "$R/home/ubuntu/runs" "$sb/bin" "$P/self/ns" "$P/4242/ns"
cp "$TESTS_DIR/../scripts/userdata/autostop.sh" "$sb/autostop.sh"
printf '#!/bin/sh\necho "shutdown $*" >>"$MLSH_ROOT/shutdown.log"\n' >"$sb/bin/shutdown"
ln -s 'net:[1]' "$P/self/ns/net"; ln -s 'net:[1]' "$P/4242/ns/net"
echo 'cpu  100 0 100 1000 0 0 0 0' >"$P/stat"
printf 'idle=600\ncpu=50\naccel=10\nnode=dl1-1\n' >"$R/etc/mlsh/autostop"
chmod -R a+rwX "$sb"; chmod 755 "$sb/bin/"*
sandbox() {
	unshare -n setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	    env MLSH_ROOT="$R" MLSH_PROC="$P" PATH="$sb/bin:/usr/bin:/bin" timeout 30 "$@"
}
tick() { sandbox sh "$sb/autostop.sh" tick; }
st() { sed -n "s/^$1=//p" "$R/var/lib/mlsh/autostop"; }

if ! unshare -n true 2>/dev/null || ! command -v setpriv >/dev/null; then
	t_skip 'watchdog sandbox runs: they need unshare -n (root) and setpriv'
else
	t_ok 'an idle machine: idle since the first check, stops after the setting' '
		tick && [ "$(st state)" = idle ] && s=$(st idle_since) &&
		[ "$(st stops_at)" = $((s + 600)) ] && [ ! -e "$R/shutdown.log" ]'
	t_ok 'idle long enough in a row: shutdown -h now' '
		sed -i "s/^idle_since=.*/idle_since=1/" "$R/var/lib/mlsh/autostop" &&
		tick && [ "$(st state)" = stopping ] && grep -q "^shutdown -h now" "$R/shutdown.log"'
	rm -f "$R/shutdown.log"
	t_ok 'a live train run of this node keeps it busy, and busy resets the idle clock' '
		echo dl1-1 >"$R/efs/runs/r1/node" &&
		sandbox sh -c "sleep 30 & echo \$! >$R/efs/runs/r1/pid; MLSH_ROOT=$R sh $sb/autostop.sh tick; kill \$!" &&
		[ "$(st state)" = busy ] && [ "$(st reason)" = "train run r1" ] && [ -z "$(st idle_since)" ] &&
		[ ! -e "$R/shutdown.log" ]'
	t_ok 'a run that has exited, or is another node'"'"'s, does not' '
		echo dl1-2 >"$R/efs/runs/r1/node" &&
		sandbox sh -c "sleep 30 & echo \$! >$R/efs/runs/r1/pid; MLSH_ROOT=$R sh $sb/autostop.sh tick; kill \$!" &&
		[ "$(st state)" = idle ] && echo dl1-1 >"$R/efs/runs/r1/node" && echo 0 >"$R/efs/runs/r1/exit" &&
		sandbox sh -c "sleep 30 & echo \$! >$R/efs/runs/r1/pid; MLSH_ROOT=$R sh $sb/autostop.sh tick; kill \$!" &&
		[ "$(st state)" = idle ]'
	t_ok 'an interactive SSH session in this namespace keeps it busy; mlsh'"'"'s exec one does not' '
		printf "sshd: ubuntu@notty\0" >"$P/4242/cmdline" && tick && [ "$(st state)" = idle ] &&
		printf "sshd: ubuntu@pts/0\0" >"$P/4242/cmdline" && tick && [ "$(st state)" = busy ] &&
		[ "$(st reason)" = "ssh session (sshd: ubuntu@pts/0)" ] &&
		rm "$P/4242/ns/net" && ln -s "net:[2]" "$P/4242/ns/net" && tick && [ "$(st state)" = idle ]'
	t_ok 'CPU above the threshold between two checks keeps it busy' '
		echo "cpu  1100 0 100 1100 0 0 0 0" >"$P/stat" && tick && [ "$(st state)" = busy ] &&
		[ "$(st reason)" = "cpu 90%" ] && echo "cpu  1110 0 100 1190 0 0 0 0" >"$P/stat" &&
		tick && [ "$(st state)" = idle ]'
	t_ok 'ports=3000 (Grafana): an established connection to :3000 keeps it busy; a listening socket does not' '
		echo ports=3000 >>"$R/etc/mlsh/autostop" && mkdir -p "$P/net" &&
		hdr="  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode" &&
		printf "%s\n   0: 0A00020A:0BB8 0A00010A:D431 01 00000000:00000000 00:00000000 00000000   472        0 1\n" "$hdr" >"$P/net/tcp" &&
		: >"$P/net/tcp6" && chmod a+r "$P/net/tcp" "$P/net/tcp6" && tick && [ "$(st state)" = busy ] &&
		[ "$(st reason)" = "connection to :3000" ] &&
		printf "%s\n   0: 00000000:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000   472        0 1\n" "$hdr" >"$P/net/tcp" &&
		tick && [ "$(st state)" = idle ]'
	t_ok 'install IDLE NAME PORTS: the settings (kept on a re-run) and a check every minute (cron here)' '
		mkdir -p "$sb/r2/etc/cron.d" && chmod -R a+rwX "$sb/r2" && printf "#!/bin/sh\n" >"$sb/bin/cron" && chmod 755 "$sb/bin/cron" &&
		sandbox env MLSH_ROOT="$sb/r2" sh "$sb/autostop.sh" install 1800 grafana 3000 >/dev/null &&
		grep -qx "idle=1800" "$sb/r2/etc/mlsh/autostop" && grep -qx "ports=3000" "$sb/r2/etc/mlsh/autostop" &&
		grep -qx "node=grafana" "$sb/r2/etc/mlsh/autostop" && grep -q "mlsh-autostop tick" "$sb/r2/etc/cron.d/mlsh-autostop" &&
		sed -i "s/^idle=.*/idle=off/" "$sb/r2/etc/mlsh/autostop" &&
		sandbox env MLSH_ROOT="$sb/r2" sh "$sb/autostop.sh" install 1800 grafana 3000 >/dev/null &&
		grep -qx "idle=off" "$sb/r2/etc/mlsh/autostop"; rc=$?; rm -f "$sb/bin/cron"; [ $rc = 0 ]'
	t_ok 'an HPU above the threshold keeps it busy (hl-smi)' '
		printf "#!/bin/sh\necho 3\necho 87\n" >"$sb/bin/hl-smi" && chmod 755 "$sb/bin/hl-smi" &&
		tick && [ "$(st reason)" = "accelerator 87%" ] && rm "$sb/bin/hl-smi"'
	t_ok 'idle=off: never stops, however long idle' '
		sed -i "s/^idle=.*/idle=off/" "$R/etc/mlsh/autostop" &&
		printf "state=idle\nidle_since=1\n" >"$R/var/lib/mlsh/autostop" &&
		tick && [ "$(st state)" = off ] && [ ! -e "$R/shutdown.log" ] &&
		sandbox sh "$sb/autostop.sh" show | grep -qx "idle=off"'
	t_ok 'a broken setting counts as off, not as stop now' '
		sed -i "s/^idle=.*/idle=soon/" "$R/etc/mlsh/autostop" && tick && [ "$(st state)" = off ]'
fi
# --- the notebook's checker (scripts/notebook-autostop.py) ---------------
# Its idle decision against a fake Jupyter (/api/kernels, /api/sessions as
# files) served on loopback inside a network namespace of its own (unshare
# -n: nothing leaves it), the checker as nobody, `aws` a stub that logs.
nb=$sb/nb
mkdir -p "$nb/www/api" "$nb/root/etc/mlsh" "$nb/root/var/lib/mlsh" "$nb/root/opt/ml/metadata" "$nb/bin"
cp "$TESTS_DIR/../scripts/notebook-autostop.py" "$nb/check.py"
printf '#!/bin/sh\necho "aws $*" >>"$MLSH_ROOT/aws.log"\n' >"$nb/bin/aws"
printf 'idle=600\nnode=svc-notebook\nregion=us-east-1\n' >"$nb/root/etc/mlsh/autostop"
echo '{"ResourceName": "svc-notebook"}' >"$nb/root/opt/ml/metadata/resource-metadata.json"
chmod -R a+rwX "$nb"; chmod 755 "$nb/bin/aws"
nbcheck() {
	unshare -n sh -c '
		ip link set lo up || exit 9
		cd "$1/www" || exit 9
		python3 -m http.server --bind 127.0.0.1 8765 >/dev/null 2>&1 & srv=$!
		n=0
		until python3 -c "import urllib.request as u; u.urlopen(\"http://127.0.0.1:8765/\", timeout=1)" 2>/dev/null; do
			n=$((n + 1)); [ $n -ge 100 ] && break; sleep 0.1
		done
		setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		    env MLSH_ROOT="$1/root" MLSH_JUPYTER_URL=http://127.0.0.1:8765 PATH="$1/bin:/usr/bin:/bin" \
		    timeout 30 python3 "$1/check.py" tick; rc=$?
		kill $srv; wait $srv 2>/dev/null; exit $rc' sh "$nb" >>"$nb/check.log" 2>&1
}
nst() { sed -n "s/^$1=//p" "$nb/root/var/lib/mlsh/autostop"; }
kernel() { # STATE LAST_ACTIVITY: one kernel, no session
	echo "[{\"id\": \"k1\", \"name\": \"python3\", \"execution_state\": \"$1\", \"last_activity\": \"$2\"}]" >"$nb/www/api/kernels"
	echo "[]" >"$nb/www/api/sessions"
}
since1() { printf 'state=idle\nidle_since=1\n' >"$nb/root/var/lib/mlsh/autostop"; }
long_ago=2000-01-01T00:00:00.000000Z
if ! unshare -n true 2>/dev/null || ! command -v setpriv >/dev/null; then
	t_skip 'notebook checker sandbox runs: they need unshare -n (root) and setpriv'
else
	t_ok 'notebook: an idle kernel, first check: idle from now, no stop' '
		kernel idle $long_ago && nbcheck && [ "$(nst state)" = idle ] &&
		[ "$(nst stops_at)" = $(($(nst idle_since) + 600)) ] && [ ! -e "$nb/root/aws.log" ]'
	t_ok 'notebook: idle kernels past the limit: aws sagemaker stop-notebook-instance with its name and region' '
		since1 && nbcheck && [ "$(nst state)" = stopping ] &&
		grep -qx "aws sagemaker stop-notebook-instance --notebook-instance-name svc-notebook --region us-east-1" "$nb/root/aws.log"'
	rm -f "$nb/root/aws.log"
	t_ok 'notebook: a busy kernel keeps it up and resets the idle clock' '
		since1 && kernel busy $long_ago && nbcheck && [ "$(nst state)" = busy ] &&
		[ "$(nst reason)" = "kernel python3 busy" ] && [ -z "$(nst idle_since)" ] && [ ! -e "$nb/root/aws.log" ]'
	t_ok 'notebook: a busy kernel of a session (/api/sessions) too' '
		since1 && kernel idle $long_ago &&
		echo "[{\"id\": \"s1\", \"kernel\": {\"name\": \"python3\", \"execution_state\": \"busy\"}}]" >"$nb/www/api/sessions" &&
		nbcheck && [ "$(nst state)" = busy ] && [ ! -e "$nb/root/aws.log" ]'
	t_ok 'notebook: recent kernel activity counts as not idle yet' '
		since1 && kernel idle "$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)" && nbcheck && [ "$(nst state)" = idle ] &&
		[ ! -e "$nb/root/aws.log" ]'
	t_ok 'notebook: Jupyter not answering never stops it' '
		since1 && rm -f "$nb/www/api/kernels" "$nb/www/api/sessions" && nbcheck && [ "$(nst state)" = unknown ] &&
		[ ! -e "$nb/root/aws.log" ]'
	t_ok 'notebook: idle=off never stops it' '
		since1 && kernel idle $long_ago && sed -i "s/^idle=.*/idle=off/" "$nb/root/etc/mlsh/autostop" &&
		nbcheck && [ "$(nst state)" = off ] && [ ! -e "$nb/root/aws.log" ]'
fi

if command -v shellcheck >/dev/null; then
	t_ok 'the watchdog passes shellcheck -s sh' 'shellcheck -s sh -S warning "$sb/autostop.sh"'
else
	t_skip 'watchdog shellcheck: shellcheck is not installed (make deps)'
fi

# --- durations at the command line (no AWS needed: refused before) ---
for d in 0 -5m 1y abc 30s 8d 99999999999999999999h; do
	t_ok "node dl1 up --autostop $d: a one-line error naming it" '
		out=$("$MLSH" -c "node dl1 up --autostop='"$d"' --dry-run" 2>&1); rc=$?
		[ $rc -ne 0 ] && [ $(printf "%s\n" "$out" | wc -l) = 1 ] && grep -qF -- "'"'$d'"'" <<<"$out"' 
done
t_ok 'node NAME autostop BAD: the same one-line error' '
	out=$("$MLSH" -c "node dl1-1 autostop 1y" 2>&1); rc=$?
	[ $rc -ne 0 ] && [ $(printf "%s\n" "$out" | wc -l) = 1 ] && grep -q "bad duration .1y.: give" <<<"$out"'
t_done
