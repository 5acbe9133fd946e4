#!/usr/bin/env bash
# top without a lab: bad input and a workspace without a stack are one-line
# errors (tests/lab/top.t samples real nodes).
. "$TESTS_DIR/lib.sh"

t_err '--interval 0' "top: --interval must be 1 to 3600, not '0' (usage: top [--once] [--interval SECS])" 2 \
	'"$MLSH" --norc -c "top --interval 0"'
t_err '--interval abc' "top: --interval needs an integer, not 'abc' (usage: top [--once] [--interval SECS])" 2 \
	'"$MLSH" --norc -c "top --interval abc"'
t_err '--interval -5' "top: --interval must be 1 to 3600, not '-5' (usage: top [--once] [--interval SECS])" 2 \
	'"$MLSH" --norc -c "top --interval -5"'
t_err 'an argument' "top: unexpected argument: extra (usage: top [--once] [--interval SECS])" 2 \
	'"$MLSH" --norc -c "top extra"'
t_err 'no stack' "top: workspace 'default' has no stack; run 'vpc up' first" 1 \
	'"$MLSH" --norc -c "top --once"'
t_err 'no stack, live' "top: workspace 'default' has no stack; run 'vpc up' first" 1 \
	'"$MLSH" --norc -c "top" </dev/null'
t_done
