# tests/lib.sh: helpers for the *.t scripts, in the spirit of git's t/.
#
#   . "$TESTS_DIR/lib.sh"
#   t_ok 'what it checks' 'shell commands that must succeed'
#   t_out 'what' 'expected output' 'command'      # stdout must equal expected
#   t_err 'what' 'expected stderr' rc 'command'  # stderr equal, exit status rc
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
t_n=0 t_fail=0

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

t_done() {
	rm -rf "$T"
	echo "# $t_n tests, $t_fail failed"
	[ "$t_fail" -eq 0 ]
}
