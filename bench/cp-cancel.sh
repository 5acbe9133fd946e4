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
ms() { echo $(( $(date +%s%N) / 1000000 )); }
worst=0
for dir in up down; do
	rm -f "$tmp/down"
	m -c "ssh dl1-1 'rm -f /efs/part'" >/dev/null 2>&1
	if [ $dir = up ]; then args="$tmp/big dl1-1:/efs/part"; else args="dl1-1:/efs/big $tmp/down"; fi
	# mlsh itself in the background (no function or subshell between),
	# so the signal reaches it
	"$M" --norc --lab -c "cp $args" >/dev/null 2>"$tmp/err" &
	pid=$!
	for _ in $(seq 1 300); do grep -q " [1-9][0-9]*\.[0-9]/200\.0 MB" "$tmp/err" && break; sleep 0.05; done
	t0=$(ms); kill -INT $pid; wait $pid; t1=$(ms)
	echo "  $dir: Ctrl-C to exit $((t1 - t0)) ms ($(tail -1 "$tmp/err" | tr -d '\r' | cut -c1-90))"
	[ $((t1 - t0)) -gt $worst ] && worst=$((t1 - t0))
done
echo "  worst $worst ms (target < 200)"
[ $worst -lt 200 ]
