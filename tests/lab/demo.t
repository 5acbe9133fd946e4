#!/usr/bin/env bash
# `make demo`: the whole session in the lab from nothing to nothing.
. "$TESTS_DIR/lib.sh"
[ "$(id -u)" = 0 ] || { echo "not ok - the lab tests run as root"; exit 1; }
export MLSH_LAB_NAME="mlshdm$$"
t_ok 'the demo runs the whole session and leaves nothing' '
	out=$("$TESTS_DIR/../scripts/demo.sh" 4 2>&1); rc=$?
	echo "$out" | tail -30
	[ $rc -eq 0 ] && grep -q "^done: 4 epochs" <<<"$out" &&
	grep -q "checkpoint_3.npz" <<<"$out" &&
	grep -q "^resources left in workspace demo-lab: 0$" <<<"$out" &&
	! ip netns list | grep -q "^$MLSH_LAB_NAME-"'
t_done
