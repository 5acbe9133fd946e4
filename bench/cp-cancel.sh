# cp: Ctrl-C (SIGINT) to exit while a 200 MB copy runs, both directions, in
# the lab (target < 200 ms). Never part of make test: the tests only check
# that the copy stops well short of the file (lab/ssh.t).
set -u
[ "$(id -u)" = 0 ] || { echo "  (needs root)"; exit 0; }
M=$(pwd)/mlsh
tmp=$(mktemp -d)
export HOME=$tmp/home XDG_STATE_HOME=$tmp/state MLSH_LAB_NAME=mlshbcc$$
trap '"$M" --norc lab down >/dev/null 2>&1; rm -rf "$tmp"' EXIT
mkdir -p "$HOME/.ssh" && ssh-keygen -q -t ed25519 -N "" -f "$HOME/.ssh/id_ed25519"
m() { "$M" --norc --lab "$@"; }
m -c "workspace b; vpc up --allow 198.18.0.2/32 --yes; efs up; node dl1 up --yes" >/dev/null 2>&1 || exit 1
head -c 200000000 /dev/urandom >"$tmp/big"
m -c "cp $tmp/big dl1-1:/efs/big" >/dev/null 2>&1
# Python drives mlsh so the times are read where they happen: SIGINT sent,
# the "interrupted" line on stderr (the prompt would be back here), exit
# (after the dropped connections are closed).
measure() {
	python3 - "$M" "$1" <<'PY'
import os, re, signal, subprocess, sys, time
p = subprocess.Popen([sys.argv[1], "--norc", "--lab", "-c", "cp " + sys.argv[2]],
                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
buf, t0, t1 = b"", None, None
fd = p.stderr.fileno()
end = time.time() + 120
while time.time() < end:
    chunk = os.read(fd, 4096)
    if not chunk:
        break
    buf += chunk
    if t0 is None and re.search(rb" [1-9][0-9]*\.[0-9]/200\.0 MB", buf):
        p.send_signal(signal.SIGINT)
        t0 = time.time()
    if t0 is not None and b"interrupted" in buf:
        t1 = time.time()
        break
p.wait()
t2 = time.time()
if t0 is None or t1 is None:
    print("0 0 no-cancel")
else:
    print("%d %d" % ((t1 - t0) * 1000, (t2 - t0) * 1000))
PY
}
worst=0
for dir in up down; do
	rm -f "$tmp/down"
	m -c "ssh dl1-1 'rm -f /efs/part'" >/dev/null 2>&1
	if [ $dir = up ]; then args="$tmp/big dl1-1:/efs/part"; else args="dl1-1:/efs/big $tmp/down"; fi
	read -r stop exit rest <<<"$(measure "$args")"
	[ -n "${rest:-}" ] && { echo "  $dir: the copy ended before Ctrl-C"; exit 1; }
	echo "  $dir: Ctrl-C to the copy stopped $stop ms, to mlsh's exit $exit ms"
	[ "$stop" -gt $worst ] && worst=$stop
done
echo "  worst $worst ms to stop (target < 200)"
[ $worst -lt 200 ]
