#!/usr/bin/env bash
# scripts/dcgan/dcgan.py and gen_images.py: the PyTorch DCGAN on CPU, tiny
# (32 images of 64x64, ngf/ndf 8, nz 16, batch 8: a few seconds a run).
# Log lines, checkpoints, sample grids, resume, determinism, bad input, and
# two gloo processes: identical parameters, only rank 0 logs, a dead rank
# fails the other.
# The program is node code: it runs only in a sandbox (its own network
# namespace with nothing but loopback, as nobody; its own PID namespace, so
# nothing it started outlives it), never on this host.
# tests/run: no mlsh code (only the Python program runs here)
. "$TESTS_DIR/lib.sh"

PY=/usr/bin/python3	# Debian's, with python3-torch (a pyenv python has none)
if ! "$PY" -c 'import torch, torchvision' 2>/dev/null; then
	t_skip 'the DCGAN runs: they need python3-torch and python3-torchvision (make deps)'
	t_done; exit
fi
if ! unshare -n true 2>/dev/null || ! command -v setpriv >/dev/null; then
	t_skip 'the DCGAN runs: the sandbox needs unshare -n (root) and setpriv'
	t_done; exit
fi

# Its own directory readable by nobody (the suite's temp dir is root's).
sb=$(mktemp -d /tmp/mlsh-dcgan.XXXXXX); chmod 755 "$sb"
t_on_exit 'rm -rf "$sb"'
cp "$TESTS_DIR/../scripts/dcgan/dcgan.py" "$TESTS_DIR/../scripts/dcgan/gen_images.py" "$sb/"
mkdir -p "$sb/home" "$sb/out" "$sb/hash" && chmod -R a+rwX "$sb"
# sandbox CMD...: in a new network namespace with only lo up (gloo talks
# over 127.0.0.1 there), as nobody, one thread, 120 s at most; every
# process in it dies with it.
sandbox() {
	unshare -n --pid --fork --kill-child sh -c 'ip link set lo up && exec setpriv --reuid=65534 --regid=65534 --clear-groups \
	    --inh-caps=-all env HOME="$0/home" OMP_NUM_THREADS=1 PATH=/usr/bin:/bin timeout 600 "$@"' "$sb" "$@"
}
TINY="--dataroot $sb/data --outdir $sb/out --seed 7 --batch_size 8 --workers 0 --nz 16 --ngf 8 --ndf 8 --log_every 2"
dcgan() { sandbox "$PY" "$sb/dcgan.py" $TINY "$@"; }
# The exact line formats mlsh parses (train attach/plot/samples/status).
TS='^\[[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\] '
F='[0-9]+\.[0-9]{4}'
PROG_RE="$TS\[[0-9]+/[0-9]+\]\[[0-9]+/[0-9]+\] Loss_D: $F Loss_G: $F D\(x\): $F D\(G\(z\)\): $F / $F\$"
DONE_RE="${TS}epoch [0-9]+/[0-9]+ done: [0-9]+ images in [0-9]+\.[0-9] s, [0-9]+\.[0-9] images/s\$"
# losses LOG: the progress lines without time stamps and epoch totals.
losses() { grep -E "$PROG_RE" "$1" | sed -E 's/^\[[^]]*\] \[([0-9]+)\/[0-9]+\]/[\1]/'; }
png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }

t_ok 'the sandbox has no way out: no route but loopback' '
	sandbox ip route get 192.0.2.1 2>&1 | grep -q "Network is unreachable" &&
	sandbox ip route get 127.0.0.1 | grep -q "dev lo"'
t_ok 'gen_images writes 32 RGB PNGs of 64x64 in ImageFolder layout, the same for the same seed' '
	sandbox "$PY" "$sb/gen_images.py" --dataroot "$sb/data" --count 32 --seed 5 | grep -q "^wrote 32 images of 64x64" &&
	sandbox "$PY" "$sb/gen_images.py" --dataroot "$sb/data2" --count 32 --seed 5 >/dev/null &&
	[ "$(ls "$sb/data/shapes" | grep -c "^[0-9]\{6\}\.png$")" = 32 ] && png "$sb/data/shapes/000031.png" &&
	diff -r "$sb/data" "$sb/data2" && "$PY" -c "from PIL import Image
im = Image.open(\"$sb/data/shapes/000000.png\"); assert im.size == (64, 64) and im.mode == \"RGB\", (im.size, im.mode)"'
t_err 'gen_images: a bad count is one line, exit 2' \
	'gen_images.py: error: --count must be from 1 to 10000000, not 0' 2 \
	'sandbox "$PY" "$sb/gen_images.py" --dataroot "$sb/x" --count 0'

# --- one process ---
sandbox env DCGAN_DEBUG_HASH="$sb/hash" "$PY" "$sb/dcgan.py" $TINY --name a --n_epoch 3 >"$T/a.log" 2>"$T/a.err"
a_rc=$?
mv "$sb/hash/rank0.sha256" "$T/straight.sha256" 2>/dev/null
t_ok 'a run of 3 epochs: 4 steps each, progress lines every 2 steps and at the last, losses finite' '
	[ "$a_rc" = 0 ] && [ ! -s "$T/a.err" ] &&
	[ "$(grep -cE "$PROG_RE" "$T/a.log")" = 9 ] &&
	[ "$(grep -E "$PROG_RE" "$T/a.log" | sed -E "s/^[^]]*\] //; s/\] Loss.*/]/" | tr "\n" " ")" = \
	    "[0/3][0/4] [0/3][2/4] [0/3][3/4] [1/3][0/4] [1/3][2/4] [1/3][3/4] [2/3][0/4] [2/3][2/4] [2/3][3/4] " ] &&
	! grep -qiE "nan|inf" "$T/a.log"'
t_ok 'after each epoch: images/s, then the sample grid, then the checkpoint, in the exact formats' '
	[ "$(grep -cE "$DONE_RE" "$T/a.log")" = 3 ] &&
	grep -qE "${TS}epoch 2/3 done: 32 images in " "$T/a.log" &&
	for e in 1 2 3; do
		grep -A2 -E "${TS}epoch $((e - 1))/3 done: " "$T/a.log" | sed -E "s/^\[[^]]*\] //" | tail -2 >"$T/after" &&
		printf "samples: %s\ncheckpoint: %s\n" "$sb/out/a/samples_$e.png" "$sb/out/a/checkpoint_$e.pt" | diff - "$T/after" &&
		png "$sb/out/a/samples_$e.png" && [ -s "$sb/out/a/checkpoint_$e.pt" ] || exit 1
	done && [ -z "$(ls "$sb/out/a" | grep tmp)" ]'
t_ok 'the checkpoint holds G, D, both optimizers, epochs done, the global step, RNG states and args' '
	"$PY" -c "import torch
ck = torch.load(\"$sb/out/a/checkpoint_2.pt\")
assert ck[\"epoch\"] == 2 and ck[\"global_step\"] == 8, (ck[\"epoch\"], ck[\"global_step\"])
assert {\"netG\", \"netD\", \"optG\", \"optD\", \"rng\", \"args\"} <= set(ck), set(ck)
assert ck[\"args\"][\"ngf\"] == 8 and ck[\"args\"][\"name\"] == \"a\"
from PIL import Image; assert Image.open(\"$sb/out/a/samples_2.png\").size == (530, 530)"'
dcgan --name b --n_epoch 2 >"$T/b1.log" 2>&1
t_ok 'the same seed and data give the same losses (a second run, of 2 epochs)' '
	losses "$T/a.log" | head -6 >"$T/l1" && losses "$T/b1.log" >"$T/l2" &&
	[ "$(wc -l <"$T/l1")" = 6 ] && diff "$T/l1" "$T/l2"'
sandbox env DCGAN_DEBUG_HASH="$sb/hash" "$PY" "$sb/dcgan.py" $TINY --name b --s_epoch 2 --n_epoch 3 \
	>"$T/b2.log" 2>"$T/b2.err"; b2_rc=$?
t_ok '--s_epoch 2 loads checkpoint_2, starts at epoch index 2 step 0 and writes checkpoint_3' '
	[ "$b2_rc" = 0 ] && [ ! -s "$T/b2.err" ] &&
	grep -qE "${TS}resumed from $sb/out/b/checkpoint_2.pt: epoch 2, step 8\$" "$T/b2.log" &&
	[ "$(grep -E "$PROG_RE" "$T/b2.log" | head -1 | sed -E "s/^[^]]*\] //; s/\] Loss.*/]/")" = "[2/3][0/4]" ] &&
	! grep -qE "\[[01]/3\]" "$T/b2.log" && [ -s "$sb/out/b/checkpoint_3.pt" ] &&
	grep -qE "${TS}checkpoint: $sb/out/b/checkpoint_3.pt\$" "$T/b2.log"'
t_ok 'a run resumed from epoch 2 ends with the weights of the straight 3-epoch run, and the same losses' '
	[ -s "$T/straight.sha256" ] && diff "$T/straight.sha256" "$sb/hash/rank0.sha256" &&
	losses "$T/a.log" | tail -3 >"$T/l3" && losses "$T/b2.log" >"$T/l4" && diff "$T/l3" "$T/l4"'
t_err '--s_epoch N without checkpoint_N: one line, exit 2' \
	"dcgan.py: error: --s_epoch 2: no checkpoint '$sb/out/none/checkpoint_2.pt'" 2 \
	'dcgan --name none --s_epoch 2 --n_epoch 3'
t_err 'a missing dataroot: one line, exit 2' \
	"dcgan.py: error: --dataroot '$sb/nothere' is not a directory" 2 \
	'sandbox "$PY" "$sb/dcgan.py" --dataroot "$sb/nothere" --name x'
t_err 'an empty dataset: one line, exit 2' \
	"dcgan.py: error: no images under '$sb/home' (looked for .png .jpg .jpeg .bmp .ppm .pgm .tif .tiff .webp)" 2 \
	'sandbox "$PY" "$sb/dcgan.py" --dataroot "$sb/home" --name x'
t_err 'bad numbers: one line, exit 2' \
	'dcgan.py: error: --s_epoch 3 leaves nothing to do: it must be below --n_epoch 3' 2 \
	'dcgan --name x --s_epoch 3 --n_epoch 3'

# --- two processes, gloo, in one namespace ---
# two.sh MODE NAME ARGS...: ranks 0 and 1 beside each other; rcN and logs
# in $sb/NAME.*. MODE ok: both run; kill: rank 1 is killed after rank 0's
# first progress line; badarg: rank 1 gets a bad --batch_size.
cat >"$sb/two.sh" <<'EOF'
mode=$1 name=$2; shift 2
d=$(dirname "$0")
export MASTER_ADDR=127.0.0.1 MASTER_PORT=29500 WORLD_SIZE=2
RANK=0 LOCAL_RANK=0 python3 "$d/dcgan.py" "$@" --name "$name" >"$d/$name.0" 2>"$d/$name.0.err" &
p0=$!
bad=""; [ "$mode" = badarg ] && bad="--batch_size 0"
RANK=1 LOCAL_RANK=0 python3 "$d/dcgan.py" "$@" --name "$name" $bad >"$d/$name.1" 2>"$d/$name.1.err" &
p1=$!
if [ "$mode" = kill ]; then
	i=0
	until grep -qs 'Loss_D' "$d/$name.0" || [ $i -ge 600 ]; do sleep 0.1; i=$((i + 1)); done
	kill -KILL "$p1"
fi 2>/dev/null
wait "$p1" 2>/dev/null; echo $? >"$d/$name.rc1"
s=$(date +%s); wait "$p0"; echo $? >"$d/$name.rc0"; echo $(( $(date +%s) - s )) >"$d/$name.wait0"
EOF
two() { sandbox env DCGAN_DEBUG_HASH="$sb/hash" sh "$sb/two.sh" "$@"; }
rm -f "$sb/hash/"*
two ok d $TINY --batch_size 4 --n_epoch 2 --dist_timeout 60
t_ok 'two gloo processes: both finish, with identical G and D parameters' '
	[ "$(cat "$sb/d.rc0" "$sb/d.rc1" | tr "\n" " ")" = "0 0 " ] &&
	[ -s "$sb/hash/rank0.sha256" ] && diff "$sb/hash/rank0.sha256" "$sb/hash/rank1.sha256" &&
	! diff -q "$sb/hash/rank0.sha256" "$T/straight.sha256" >/dev/null'
t_ok 'two processes: each takes half the data (4 steps of 4), images summed over ranks, only rank 0 writes' '
	grep -qE "${TS}\[1/2\]\[3/4\] Loss_D" "$sb/d.0" && grep -qE "${TS}epoch 1/2 done: 32 images in " "$sb/d.0" &&
	grep -q "batch 4 x 2 processes, device cpu, backend gloo" "$sb/d.0" &&
	[ ! -s "$sb/d.1" ] && [ ! -s "$sb/d.1.err" ] && [ ! -s "$sb/d.0.err" ] &&
	[ -s "$sb/out/d/checkpoint_2.pt" ] && png "$sb/out/d/samples_2.png"'
two kill k $TINY --batch_size 4 --n_epoch 200 --dist_timeout 20
t_ok 'a rank that dies fails the other: non-zero exit, one line naming its rank, before the end (not hung)' '
	[ "$(cat "$sb/k.rc1")" = 137 ] && [ "$(cat "$sb/k.rc0")" = 1 ] &&
	[ "$(wc -l <"$sb/k.0.err")" = 1 ] && grep -q "^dcgan.py: rank 0: error: " "$sb/k.0.err" &&
	! grep -q "epoch 199/200 done" "$sb/k.0" || { cat "$sb/k.0.err" "$sb/k.wait0"; false; }'
two badarg e $TINY --batch_size 4 --n_epoch 2 --dist_timeout 5
t_ok 'a rank that cannot start (bad argument) fails the other by --dist_timeout (not hung)' '
	[ "$(cat "$sb/e.rc1")" = 2 ] && [ "$(cat "$sb/e.1.err")" = "dcgan.py: rank 1: error: --batch_size must be at least 1, not 0" ] &&
	[ "$(cat "$sb/e.rc0")" = 1 ] &&
	[ "$(wc -l <"$sb/e.0.err")" = 1 ] && grep -q "^dcgan.py: rank 0: error: " "$sb/e.0.err" ||
	{ cat "$sb/e.rc0" "$sb/e.0.err" "$sb/e.wait0"; false; }'
t_done
