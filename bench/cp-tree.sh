# cp -r of 2,000 files of 4 KB through the jump host, in the lab: mlsh
# (`mlsh -c "cp -r …"`, one tar stream since issue 15) against
# `tar | ssh -J` from the lab's client namespace, both ways, the same cipher
# and MAC on both (aes128-ctr, hmac-sha2-256: what mlsh's libssh2 1.10
# negotiates; OpenSSH is told so in its config). Paired runs, medians of the
# per-round ratios; connection setup (a `true` over the same path) is timed
# separately and taken out of both. Target (issue 15): mlsh <= 1.5x.
# Never part of make test.
set -u
[ "$(id -u)" = 0 ] || { echo "  (needs root)"; exit 0; }
M=$(pwd)/mlsh
ROUNDS=${ROUNDS:-5}
FILES=${FILES:-2000}
tmp=$(mktemp -d)
export HOME=$tmp/home XDG_STATE_HOME=$tmp/state MLSH_LAB_NAME=mlshbct$$
trap '"$M" --norc lab down >/dev/null 2>&1; rm -rf "$tmp"' EXIT
mkdir -p "$HOME/.ssh" && ssh-keygen -q -t ed25519 -N "" -f "$HOME/.ssh/id_ed25519"
m() { "$M" --norc --lab "$@"; }
m -c "workspace b; vpc up --allow 198.18.0.2/32 --yes; efs up; node dl1 up --yes" >/dev/null 2>&1 ||
	{ echo "  lab stack did not come up"; exit 1; }
m -c "ssh-config -o $tmp/cfg" >/dev/null || exit 1
printf 'Host *\n\tCiphers aes128-ctr\n\tMACs hmac-sha2-256\n\tBatchMode yes\n' >>"$tmp/cfg"
C="ip netns exec $MLSH_LAB_NAME-client"
o() { $C ssh -F "$tmp/cfg" "$@"; }
mkdir -p "$tmp/tree"
for i in $(seq 1 "$FILES"); do head -c 4096 /dev/urandom >"$tmp/tree/f$i"; done
ms() { echo $(( $(date +%s%N) / 1000000 )); }
t() { local t0; t0=$(ms); "$@" >/dev/null 2>&1 || echo "  (failed: $*)" >&2; echo $(( $(ms) - t0 )); }
cipher="mlsh: aes128-ctr, hmac-sha2-256 (libssh2 $(dpkg-query -W -f '${Version}' libssh2-1 2>/dev/null); tests/remote/remote.t checks the choice)"
o dl1-1 true >/dev/null 2>&1 || { echo "  OpenSSH cannot reach the node"; exit 1; }

put_r=() get_r=() sm=() so=()
for r in $(seq 1 "$ROUNDS"); do
	m -c "ssh dl1-1 'rm -rf /efs/m /efs/o'" >/dev/null 2>&1; rm -rf "$tmp/gm" "$tmp/go"
	s_m=$(t m -c "ssh dl1-1 true")
	s_o=$(t o dl1-1 true)
	pm=$(t m -c "cp -r $tmp/tree dl1-1:/efs/m")
	po=$(t sh -c "tar -C '$tmp' -cf - tree | $C ssh -F '$tmp/cfg' dl1-1 'mkdir -p /efs/o && tar -xf - -C /efs/o'")
	gm=$(t m -c "cp -r dl1-1:/efs/m $tmp/gm")
	go=$(t sh -c "mkdir -p '$tmp/go' && $C ssh -F '$tmp/cfg' dl1-1 'tar -C /efs/o -cf - tree' | tar -xf - -C '$tmp/go'")
	sm+=("$s_m") so+=("$s_o")
	put_r+=("$(awk -v a="$pm" -v b="$po" -v x="$s_m" -v y="$s_o" 'BEGIN{printf "%.2f", (a-x)/((b-y)>1?(b-y):1)}')")
	get_r+=("$(awk -v a="$gm" -v b="$go" -v x="$s_m" -v y="$s_o" 'BEGIN{printf "%.2f", (a-x)/((b-y)>1?(b-y):1)}')")
	echo "  round $r: setup mlsh $s_m ms, ssh $s_o ms; put mlsh $pm ms, tar|ssh $po ms; get mlsh $gm ms, ssh|tar $go ms"
done
diff -r "$tmp/tree" "$tmp/gm/" >/dev/null && diff -r "$tmp/tree" "$tmp/go/tree" >/dev/null ||
	echo "  (copies differ from the source)"
# one SFTP round for comparison (the way cp -r went before issue 15)
m -c "ssh dl1-1 'rm -rf /efs/s'" >/dev/null 2>&1
ps=$(MLSH_CP_VIA=sftp t m -c "cp -r $tmp/tree dl1-1:/efs/s")
med() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END{print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
mp=$(med "${put_r[@]}") mg=$(med "${get_r[@]}")
echo "  load average $(cut -d' ' -f1-3 /proc/loadavg); $cipher; OpenSSH: Ciphers aes128-ctr, MACs hmac-sha2-256"
echo "  cp -r $FILES x 4 KB, mlsh/(tar|ssh -J), setup excluded, median of $ROUNDS paired rounds: put $mp, get $mg (target <= 1.5)"
echo "  one round over SFTP (MLSH_CP_VIA=sftp): put $ps ms"
awk -v a="$mp" -v b="$mg" 'BEGIN{exit !(a <= 1.5 && b <= 1.5)}'
