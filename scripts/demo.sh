#!/usr/bin/env bash
# make demo: the seed's story in the lab, from nothing to nothing — vpc up,
# efs up, two dl1 nodes, a generated image set onto /efs, the PyTorch DCGAN
# trained data-parallel on both nodes and followed, resumed from its
# checkpoint, its samples fetched and losses plotted, down (scripts/demo-lab.mlsh)
# — then `lab down`, and a check that nothing of the lab is left. Needs root (the
# lab makes network namespaces): run as root or through sudo.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
	exec sudo -E "$0" "$@"
fi
tmp=$(mktemp -d)
export HOME="$tmp/home" XDG_STATE_HOME="$tmp/state" MLSH_LAB_NAME="${MLSH_LAB_NAME:-mlshdemo}"
mkdir -p "$HOME/.ssh" && chmod 700 "$HOME/.ssh"
ssh-keygen -q -t ed25519 -N "" -f "$HOME/.ssh/id_ed25519"	# the demo's own key
cleanup() {
	./mlsh --norc lab down >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
./mlsh --norc lab up
./mlsh --norc --lab scripts/demo-lab.mlsh "$@"
./mlsh --norc lab down
if ip netns list | grep -q "^$MLSH_LAB_NAME-"; then
	echo "demo: lab namespaces left behind" >&2
	exit 1
fi
echo "demo: the lab is down; nothing of it is left"
