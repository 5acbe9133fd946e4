#!/usr/bin/env bash
# The REPL through a real terminal: tmux new-session / send-keys / capture-pane.
. "$TESTS_DIR/lib.sh"
command -v tmux >/dev/null || { echo "not ok - tmux is installed"; exit 1; }

S="mlsh-t$$"
export TMUX_TMPDIR="$T"		# a private tmux server, never the user's
cleanup() { tmux kill-server 2>/dev/null; }
trap cleanup EXIT

# Two workspaces to complete.
"$MLSH" -c "workspace alpha; workspace beta; workspace default" >/dev/null

start() {
	tmux kill-session -t "$S" 2>/dev/null
	tmux new-session -d -s "$S" -x 100 -y 30 \
		"env HOME=$HOME XDG_STATE_HOME=$XDG_STATE_HOME TERM=xterm $MLSH --norc"
	wait_for 'mlsh default@'
}
screen() { tmux capture-pane -p -N -t "$S" 2>/dev/null; }
# Wait (at most ~30 s: a loaded machine under ASan) until the screen
# matches an extended regex.
wait_for() {
	for _ in $(seq 1 300); do
		screen | grep -Eq -- "$1" && return 0
		sleep 0.1
	done
	return 1
}
last_line() { screen | grep -v '^$' | tail -1; }
# Wait (bounded as wait_for) until the last line matches.
wait_last() {
	for _ in $(seq 1 300); do
		last_line | grep -Eq -- "$1" && return 0
		sleep 0.1
	done
	return 1
}

start
tmux send-keys -t "$S" 'wor' Tab
t_ok 'Tab completes a builtin name' 'wait_for "> workspace $"'
tmux send-keys -t "$S" Tab Tab
t_ok 'double Tab lists the workspaces and subcommands' 'wait_for "^alpha +beta +default +ls +rm"'
tmux send-keys -t "$S" C-u 'history s' Tab
t_ok 'Tab completes a subcommand' 'wait_for "> history save $"'
tmux send-keys -t "$S" C-u 'region eu-w' Tab
t_ok 'first Tab inserts the common prefix' 'wait_for "> region eu-west- *$"'
tmux send-keys -t "$S" C-u 'echo one' Enter
t_ok 'a command runs' 'wait_for "^one$"'
tmux send-keys -t "$S" "lua 'print(\"spin\" .. \"ning\") while true do end'" Enter
wait_for "^spinning$"
tmux send-keys -t "$S" C-c
t_ok 'Ctrl-C stops a running Lua loop and returns to the prompt' \
	'wait_for "lua: interrupted$" && wait_last "> $"'
tmux send-keys -t "$S" "lua 'print(\"loop\" .. \"ing\") while true do pcall(function() while true do end end) end'; echo second-cmd" Enter
wait_for "^looping$"
tmux send-keys -t "$S" C-c
t_ok 'Ctrl-C ends the whole line: a pcall loop stops and the next command never runs' \
	'for _ in $(seq 1 300); do [ "$(screen | grep -c "lua: interrupted$")" = 2 ] && break; sleep 0.1; done
	[ "$(screen | grep -c "lua: interrupted$")" = 2 ] && sleep 0.3 && ! screen | grep -q "^second-cmd" &&
	wait_last "> $"'
tmux send-keys -t "$S" 'echo next line runs' Enter
t_ok 'the next line runs as usual' 'wait_for "^next line runs$"'
tmux send-keys -t "$S" 'echo still here' Enter
t_ok 'the shell is still alive' 'wait_for "^still here$"'
tmux send-keys -t "$S" 'half typed' C-c
t_ok 'Ctrl-C at the prompt drops the line' 'wait_last "> $"'
tmux send-keys -t "$S" 'echo still here' Enter
sleep 0.3
tmux send-keys -t "$S" Up
t_ok 'Up recalls the last command' 'wait_for "> echo still here$"'
tmux send-keys -t "$S" C-u C-d
t_ok 'Ctrl-D leaves' 'for _ in $(seq 1 300); do tmux has-session -t "$S" 2>/dev/null || exit 0; sleep 0.1; done; exit 1'
t_ok 'history is saved with mode 0600, without consecutive duplicates' '
	h="$XDG_STATE_HOME/mlsh/history"
	[ "$(stat -c %a "$h")" = 600 ] && [ "$(grep -c "^echo still here$" "$h")" = 1 ] &&
	grep -q "^echo one$" "$h"'
start
tmux send-keys -t "$S" Up
t_ok 'history survives a restart' 'wait_for "> echo still here$"'
tmux send-keys -t "$S" C-u 'history' Enter
t_ok 'history lists it' 'wait_for "^[0-9]+ +echo one"'
tmux send-keys -t "$S" 'api ec2 DescribeVpcE' Tab Tab
t_ok 'Tab lists AWS actions for api' 'wait_for "DescribeVpcEndpoints"'
tmux send-keys -t "$S" C-u 'exit 3' Enter
t_ok 'exit leaves' 'for _ in $(seq 1 300); do tmux has-session -t "$S" 2>/dev/null || exit 0; sleep 0.1; done; exit 1'
t_done
