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
