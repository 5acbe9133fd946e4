#!/usr/bin/env bash
# Safety on a terminal (issue 12, item 4), through tmux against moto: a delete
# asks whenever standard input is a terminal, also as `mlsh -c down` and
# `mlsh down`, listing what goes; leaving the REPL (Ctrl-D, exit) lists what
# still costs; a REPL holding the workspace does not stop `status` beside it.
. "$TESTS_DIR/lib.sh"
command -v tmux >/dev/null || { echo "not ok - tmux is installed"; exit 1; }
: "${MOTO_URL:?tests/run starts moto and sets MOTO_URL}"
export AWS_ACCESS_KEY_ID=AKIDMLSHTEST AWS_SECRET_ACCESS_KEY=mlsh-secret-never-printed AWS_REGION=us-east-1
WS=tsafetty
m() { "$MLSH" --norc --endpoint-url "$MOTO_URL" -w "$WS" "$@"; }
mkdir -p "$HOME/.ssh" && ssh-keygen -q -t ed25519 -N '' -f "$HOME/.ssh/id_ed25519"
. "$TESTS_DIR/regress/stack-lib.sh"
ws_clean "$WS"
STATE="$XDG_STATE_HOME/mlsh/$WS.json"
NONE="vpc=0 subnet=0 igw=0 rt=0 eip=0 nat=0 sg=0 key=0 instance=0 efs=0"

# A private tmux server (its own socket), killed by that socket.
L="mlsh-safety-$$"
t_on_exit 'tmux -L "$L" kill-server 2>/dev/null'
ENV="env HOME=$HOME XDG_STATE_HOME=$XDG_STATE_HOME AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY AWS_REGION=us-east-1 TERM=xterm"
# run NAME 'mlsh arguments': a window running mlsh on a terminal; when it
# ends the window says "exited RC" and stays, so what it printed last can
# be read.
run() {
	tmux -L "$L" new-window -d -t main -n "$1" \
		"$ENV $MLSH --norc --endpoint-url $MOTO_URL -w $WS $2; echo exited \$?; sleep 120"
}
screen() { tmux -L "$L" capture-pane -p -J -S -60 -t "main:$1" 2>/dev/null; }
# Wait (at most ~10 s) until window $1's screen matches the regex $2.
wait_for() {
	for _ in $(seq 1 100); do screen "$1" | grep -Eq -- "$2" && return 0; sleep 0.1; done
	screen "$1"
	return 1
}
tmux -L "$L" new-session -d -s main -x 150 -y 50 "sleep 600"

t_ok 'setup: the network (jump host, NAT gateway)' '
	m -c "vpc up --allow 127.0.0.1/32 --types dl1.24xlarge" >/dev/null 2>"$T/up.err" || { cat "$T/up.err"; false; }'
N=$(python3 -S -c "import json; print(len(json.load(open('$STATE'))['resources']))")

run repl ""
t_ok 'a REPL on the workspace' 'wait_for repl "mlsh $WS@us-east-1 "'
tmux -L "$L" send-keys -t main:repl 'vpc down --dry-run' Enter
t_ok 'a writer in it takes the workspace' 'wait_for repl "dry run: " && grep -q "^[0-9]" "$XDG_STATE_HOME/mlsh/$WS.lock"'
t_ok 'status and cost work beside the REPL; a writer is told its pid and --wait' '
	m -c status 2>&1 | grep -q "^jump " && m -c cost 2>&1 | grep -q "^total " &&
	out=$(m -c "efs up --dry-run" 2>&1); [ $? -eq 1 ] &&
	grep -q "^efs: workspace .$WS. is in use by pid $(cat "$XDG_STATE_HOME/mlsh/$WS.lock") (--wait waits for it)$" <<<"$out"'
tmux -L "$L" send-keys -t main:repl C-d
t_ok 'Ctrl-D lists what still costs, one line per kind, without asking, and leaves' '
	wait_for repl "^exited 0" &&
	screen repl | grep -Eq "^still running in workspace .$WS.: \\\$0\.[0-9]+/h in all \(.down. stops it\)$" &&
	screen repl | grep -Eq "^  jump host +×1 +\\\$0\.[0-9]+/h$" &&
	screen repl | grep -Eq "^  NAT gateway +×1 +\\\$0\.0450/h$" &&
	! screen repl | grep -q "\[y/N\]"'
run repl2 ""
t_ok 'exit in the REPL lists them too' '
	wait_for repl2 "mlsh $WS@" && tmux -L "$L" send-keys -t main:repl2 "exit" Enter &&
	wait_for repl2 "^exited 0" && screen repl2 | grep -q "^  NAT gateway "'

run ask1 "-c down"
t_ok 'mlsh -c down on a terminal lists what goes (the EFS data named) and asks' '
	wait_for ask1 "delete them\? \[y/N\]" &&
	screen ask1 | grep -q "^down: this deletes $N resources of workspace .$WS.:$" &&
	screen ask1 | grep -Eq "^  jump +i-[0-9a-f]+ +instance t3.nano +\\\$" &&
	screen ask1 | grep -Eq "^  vpc +vpc-[0-9a-f]+ +VPC"'
tmux -L "$L" send-keys -t main:ask1 n Enter
t_ok 'answering no deletes nothing' '
	wait_for ask1 "^exited 1" && screen ask1 | grep -q "^down: nothing deleted$" &&
	[ "$(python3 -S -c "import json; print(len(json.load(open(\"$STATE\"))[\"resources\"]))")" = "$N" ] &&
	[ "$(counts)" != "$NONE" ]'
run ask2 "efs up"
t_ok 'setup: a file system' 'wait_for ask2 "^exited 0"'
run ask3 "efs down"
t_ok 'efs down on a terminal names the file system and its data' '
	wait_for ask3 "delete them\? \[y/N\]" &&
	screen ask3 | grep -q "^efs: this deletes 2 resources of workspace .$WS. (with the EFS file system fs-[0-9a-f]* and all its data):$" &&
	screen ask3 | grep -Eq "^  efs +fs-[0-9a-f]+ +EFS file system, with all its data \(/efs\)"'
tmux -L "$L" send-keys -t main:ask3 n Enter
t_ok 'and keeps it on no' 'wait_for ask3 "^exited 1" && grep -q "\"efs\"" "$STATE"'
run ask4 "down"
t_ok 'mlsh down (the builtin form) asks too' 'wait_for ask4 "delete them\? \[y/N\]"'
tmux -L "$L" send-keys -t main:ask4 y Enter
t_ok 'answering yes deletes everything' '
	wait_for ask4 "^exited 0" && screen ask4 | grep -q "the workspace cost" && [ "$(counts)" = "$NONE" ] ||
	{ counts; false; }'
t_done
