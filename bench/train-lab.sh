# Training in the lab: the DCGAN's images/s on one lab node and on two
# (train run --nodes 2, gloo over the lab's network), and the time from
# `train run` to the run's first progress line (torch's import, the data,
# the rendezvous, the first step). No target: the lab's nodes share this
# machine's cores, so the figures are reported, not a speed-up claim.
set -u
[ "$(id -u)" = 0 ] || { echo "  (needs root)"; exit 0; }
/usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null || { echo "  (needs python3-torch, python3-torchvision)"; exit 0; }
M=$(pwd)/mlsh
tmp=$(mktemp -d); trap '"$M" --norc lab down >/dev/null 2>&1; rm -rf "$tmp"' EXIT
export HOME=$tmp/home XDG_STATE_HOME=$tmp/state MLSH_LAB_NAME=mlshbtrain
mkdir -p "$HOME/.ssh" && chmod 700 "$HOME/.ssh" && ssh-keygen -q -t ed25519 -N "" -f "$HOME/.ssh/id_ed25519"
"$M" --norc lab up >/dev/null || exit 1
m() { "$M" --norc --lab -y "$@"; }
py() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }
allow=$(m --json -c "lab status" | py 'print([r["id"] for r in d if r["component"] == "network"][0])')
m -c "vpc up --allow $allow/32 --types dl1.24xlarge; efs up; node dl1 up --count 2" >"$tmp/up.log" 2>&1 ||
	{ tail -5 "$tmp/up.log"; exit 1; }
for n in dl1-1 dl1-2; do
	for _ in $(seq 1 120); do m -c "ssh $n mountpoint -q /efs" >/dev/null 2>&1 && break; sleep 1; done
done
m -c "ssh dl1-1 mkdir -p /efs/code; cp scripts/dcgan/dcgan.py dl1-1:/efs/code/; cp scripts/dcgan/gen_images.py dl1-1:/efs/code/" >/dev/null 2>&1 &&
	m -c "ssh dl1-1 /usr/bin/python3 /efs/code/gen_images.py --dataroot /efs/images --count 256 --seed 1" >/dev/null 2>&1 ||
	{ echo "  could not set up /efs"; exit 1; }
IMAGES=256 BATCH=16 EPOCHS=2
echo "  settings: DCGAN 64x64, ngf/ndf 32, nz 100, $IMAGES images, batch $BATCH per rank, --workers 0,"
echo "  $EPOCHS epochs, images/s of the last; $(nproc) cores shared by every lab node"
ms() { echo $(( $(date +%s%N) / 1000000 )); }
# run WHERE NAME: train run, the time to the first progress line, images/s.
run() {
	local where=$1 name=$2 t0 t1 r
	t0=$(ms)
	r=$(m --json -c "train run $where -- /usr/bin/python3 /efs/code/dcgan.py --dataroot /efs/images --seed 1 --name $name --n_epoch $EPOCHS --batch_size $BATCH --workers 0 --ngf 32 --ndf 32 --log_every 1 --outdir /efs/bench" |
		py 'print(d["run"])') || return 1
	t1=
	for _ in $(seq 1 1200); do
		m -c "train logs $r" 2>/dev/null | grep -Eq '\[[0-9]+/[0-9]+\]\[[0-9]+/[0-9]+\] Loss_D' && { t1=$(ms); break; }
		sleep 0.25
	done
	m -c "train attach $r" >"$tmp/$name.log" 2>&1
	rate=$(grep -E "epoch $((EPOCHS - 1))/$EPOCHS done: " "$tmp/$name.log" | sed -E 's/.* ([0-9.]+) images\/s.*/\1/')
	echo "  $where: first progress line $(( ${t1:-0} - t0 )) ms after train run; $rate images/s"
}
run "--node dl1-1" one || exit 1
run "--nodes 2" two || exit 1
m -c "down --force" >/dev/null 2>&1
