# scripts/dcgan/dcgan.py on CPU: images/s of one process, and of two gloo
# processes (data-parallel, one network namespace). No target: on this
# machine both share the same cores, so the figures are reported, not a
# speed-up. Runs in a sandbox (no network, nobody, own PID namespace).
set -u
[ "$(id -u)" = 0 ] || { echo "  (needs root: unshare)"; exit 0; }
PY=/usr/bin/python3
"$PY" -c 'import torch, torchvision' 2>/dev/null || { echo "  (needs python3-torch, python3-torchvision)"; exit 0; }
sb=$(mktemp -d /tmp/mlsh-bench-dcgan.XXXXXX); trap 'rm -rf "$sb"' EXIT
chmod 755 "$sb"; cp scripts/dcgan/dcgan.py scripts/dcgan/gen_images.py "$sb/"; mkdir -p "$sb/home" "$sb/out"
chmod -R a+rwX "$sb"
IMAGES=${DCGAN_BENCH_IMAGES:-64} BATCH=${DCGAN_BENCH_BATCH:-8} EPOCHS=2
# sandbox THREADS CMD...
sandbox() {
	unshare -n --pid --fork --kill-child sh -c 't=$1; shift; ip link set lo up && exec setpriv --reuid=65534 \
	    --regid=65534 --clear-groups --inh-caps=-all env HOME="$0/home" OMP_NUM_THREADS="$t" PATH=/usr/bin:/bin \
	    timeout 900 "$@"' "$sb" "$@"
}
sandbox 1 "$PY" "$sb/gen_images.py" --dataroot "$sb/data" --count "$IMAGES" --seed 1 >/dev/null || exit 1
ARGS="--dataroot $sb/data --outdir $sb/out --seed 1 --n_epoch $EPOCHS --workers 0 --log_every 1000"
echo "  settings: standard DCGAN (64x64, nz 100, ngf 64, ndf 64), $IMAGES images, batch $BATCH per process,"
echo "  --workers 0, $EPOCHS epochs, figure of the last (the first warms up); $(nproc) cores shared by both runs"
rate() { grep -E "epoch $((EPOCHS - 1))/$EPOCHS done: " "$1" | sed -E 's/.* ([0-9.]+) images\/s$/\1/'; }
sandbox 2 "$PY" "$sb/dcgan.py" $ARGS --name one --batch_size "$BATCH" >"$sb/one.log" 2>&1 ||
	{ tail -3 "$sb/one.log"; exit 1; }
echo "  1 process, 2 threads:             $(rate "$sb/one.log") images/s"
cat >"$sb/two.sh" <<'EOF'
export MASTER_ADDR=127.0.0.1 MASTER_PORT=29500 WORLD_SIZE=2
RANK=1 LOCAL_RANK=0 python3 "$@" --name two >/dev/null 2>&1 &
RANK=0 LOCAL_RANK=0 python3 "$@" --name two; rc=$?
wait $! || rc=1; exit $rc
EOF
sandbox 1 sh "$sb/two.sh" "$sb/dcgan.py" $ARGS --batch_size "$((BATCH / 2))" --dist_timeout 120 >"$sb/two.log" 2>&1 ||
	{ tail -3 "$sb/two.log"; exit 1; }
echo "  2 gloo processes, 1 thread each:  $(rate "$sb/two.log") images/s (batch $((BATCH / 2)) each, the same $BATCH per step)"
