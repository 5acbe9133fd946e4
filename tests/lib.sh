# tests/lib.sh: helpers for the *.t scripts, in the spirit of git's t/.
#
#   . "$TESTS_DIR/lib.sh"
#   t_ok 'what it checks' 'shell commands that must succeed'
#   t_out 'what' 'expected output' 'command'      # stdout must equal expected
#   t_err 'what' 'expected stderr' rc 'command'  # stderr equal, exit status rc
#   t_skip 'needs X'        # what follows cannot run here: "skip - NAME: needs X"
#   t_bg NAME 'ready-condition' cmd args...   # a background process, stopped at exit
#   t_moto [VAR=value...]   # a private moto; exports MOTO_URL
#   t_on_exit 'command'     # run at exit (use it instead of trap ... EXIT)
#   t_wait 30 'condition'   # bounded polling instead of a fixed sleep
#   t_done
#
# Each test runs in a fresh HOME and XDG_STATE_HOME under $T (a temp dir that
# t_done removes), so no test touches the user's files.
set -u
: "${MLSH:?MLSH must name the mlsh binary}"
T=$(mktemp -d "${TEST_TMP:-/tmp}/t.XXXXXX")
export HOME="$T/home" XDG_STATE_HOME="$T/state" NO_COLOR=1
mkdir -p "$HOME" "$XDG_STATE_HOME"
unset AWS_PROFILE AWS_REGION AWS_DEFAULT_REGION AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
t_n=0 t_fail=0 t_skipped=0
# This group's name in skip lines: remote/remote.t.
t_name=$(basename "$(dirname "$0")")/$(basename "$0")

# Exit work: what t_on_exit registered, then every t_bg process stopped by
# its PID.  lib.sh owns the EXIT trap; a script adds to it with t_on_exit.
t_exit_cmds=() t_bg_pids=()
t_on_exit() { t_exit_cmds+=("$1"); }
t_exit() { # each command once: t_done runs them before it removes $T
	local c
	for c in "${t_exit_cmds[@]}"; do eval "$c"; done
	t_exit_cmds=()
	t_bg_stop_all
}
trap t_exit EXIT

t_report() { # rc name [detail]
	t_n=$((t_n + 1))
	if [ "$1" -eq 0 ]; then echo "ok - $2"; else
		t_fail=$((t_fail + 1)); echo "not ok - $2"; [ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/#   /'
	fi
	return 0
}

t_ok() {
	local out rc
	out=$(cd "$T" && eval "$2" 2>&1); rc=$?
	t_report "$rc" "$1" "$out"
}

t_out() {
	local out rc
	out=$(cd "$T" && eval "$3" 2>"$T/.stderr"); rc=$?
	if [ "$out" = "$2" ]; then t_report 0 "$1"; else
		t_report 1 "$1" "expected: $2
got:      $out
stderr:   $(cat "$T/.stderr")
rc:       $rc"
	fi
}

t_err() {
	local out rc err
	out=$(cd "$T" && eval "$4" 2>"$T/.stderr"); rc=$?
	err=$(cat "$T/.stderr")
	if [ "$err" = "$2" ] && [ "$rc" -eq "$3" ]; then t_report 0 "$1"; else
		t_report 1 "$1" "expected stderr: $2 (rc $3)
got stderr:      $err (rc $rc)
stdout:          $out"
	fi
}

# t_skip REASON: what follows cannot run here (not root, a tool missing).
# Never a pass: tests/run counts "skip - NAME: REASON" lines apart and, under
# MLSH_TEST_NO_SKIP=1 (CI), as failures unless REASON is one it declares
# unavoidable.  A group that skips whole does: t_skip '...'; t_done; exit
t_skip() {
	t_skipped=$((t_skipped + 1))
	echo "skip - $t_name: $1"
}

# t_wait SECONDS CONDITION: poll the shell condition every 0.1 s until it
# holds (0) or SECONDS have passed (1).  For waits on a loaded machine: give
# a generous bound, it costs nothing when the condition comes true at once.
t_wait() {
	local end=$((SECONDS + $1))
	while ! (eval "$2") >/dev/null 2>&1; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.1
	done
	return 0
}

# t_free_port: a free TCP port on 127.0.0.1.
t_free_port() {
	python3 -S -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

# t_bg NAME READY CMD [ARG...]: start CMD in the background, output in
# $T/NAME.log, its PID in t_bg_pid (and remembered: stopped at exit); then
# wait until the shell condition READY holds ('' : do not wait), at most
# T_BG_WAIT seconds (default 60: a loaded machine starts python slowly).
# Returns 1 with "not ok - NAME starts" and the log when CMD exits first or
# the wait ends.
t_bg() {
	local name=$1 ready=$2 end
	shift 2
	"$@" >"$T/$name.log" 2>&1 &
	t_bg_pid=$!
	t_bg_pids+=("$t_bg_pid")
	[ -z "$ready" ] && return 0
	end=$((SECONDS + ${T_BG_WAIT:-60}))
	while [ "$SECONDS" -le "$end" ]; do
		(eval "$ready") >/dev/null 2>&1 && return 0
		kill -0 "$t_bg_pid" 2>/dev/null || break
		sleep 0.1
	done
	t_report 1 "$name starts" "$(tail -20 "$T/$name.log" 2>/dev/null)"
	return 1
}

# t_bg_stop PID: TERM, up to 5 s to go, then KILL; reaped either way.
t_bg_stop() {
	kill "$1" 2>/dev/null || return 0
	for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}
t_bg_stop_all() {
	local p
	for p in "${t_bg_pids[@]}"; do t_bg_stop "$p"; done
	t_bg_pids=()
}

# t_moto [VAR=value...]: a moto server of this script's own on a free
# loopback port, with those variables in its environment (MOTO_AMIS_PATH,
# MOTO_IAM_LOAD_MANAGED_POLICIES...); exports MOTO_URL once it answers.
t_moto() {
	local port
	port=$(t_free_port) || return 1
	t_bg moto "curl -s -o /dev/null http://127.0.0.1:$port/moto-api/" \
		env "$@" python3 -m moto.server -H 127.0.0.1 -p "$port" || return 1
	export MOTO_URL="http://127.0.0.1:$port"
}

t_done() {
	t_exit	# the exit commands may still need $T (tmux sockets, lab names)
	rm -rf "$T"
	echo "# $t_n tests, $t_fail failed, $t_skipped skipped"
	[ "$t_fail" -eq 0 ]
}
