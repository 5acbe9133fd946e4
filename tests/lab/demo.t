#!/usr/bin/env bash
# `make demo`: the seed's story in the lab from nothing to nothing: two
# nodes train the PyTorch DCGAN data-parallel, resume, samples, plot, down.
. "$TESTS_DIR/lib.sh"
[ "$(id -u)" = 0 ] || { echo "not ok - the lab tests run as root"; exit 1; }
export MLSH_LAB_NAME="mlshdm$$"
t_ok 'the demo runs the whole session and leaves nothing' '
	out=$("$TESTS_DIR/../scripts/demo.sh" 2>&1); rc=$?
	echo "$out" | tail -40
	[ $rc -eq 0 ] && grep -q "^done: 2 epochs, resumed to 3, on 2 nodes$" <<<"$out" &&
	grep -q "checkpoint_2.pt" <<<"$out" &&
	grep -Eq "/samples_3.png \([0-9]+ bytes, 530x530 PNG\) from /efs/trained_model/demo/samples_3.png$" <<<"$out" &&
	grep -q "Loss_D" <<<"$out" &&
	grep -q "^resources left in workspace demo-lab: 0$" <<<"$out" &&
	! ip netns list | grep -q "^$MLSH_LAB_NAME-"'
t_done
