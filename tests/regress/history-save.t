#!/usr/bin/env bash
# history-save.t: `history save` keeps secrets out of the script and off
# other users: mode 0600 (0700 with --executable), $NAME kept as references,
# secret-looking `set`s and exporting `!` lines left out, valid Lua.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export MLSH="${MLSH:-$ROOT/mlsh}" TESTS_DIR="${TESTS_DIR:-$ROOT/tests}"
. "$TESTS_DIR/lib.sh"
mode() { stat -c %a "$1"; }
export HS_ENV_SECRET=env-value-4711

t_ok 'a saved session is 0600 and holds no expanded value' '
	printf "%s\n" "set k v1" "set API_TOKEN tok-value-0815" "set db_password pw-value-42" \
		"echo \$k x\${HS_ENV_SECRET}y" "echo \$API_TOKEN" "!export LEAK=exp-value-99" \
		"!true" "history save s.mlsh" | "$MLSH" --norc >out 2>err &&
	[ "$(mode s.mlsh)" = 600 ] &&
	! grep -q "env-value-4711\|tok-value-0815\|pw-value-42\|exp-value-99" s.mlsh &&
	grep -q "^set(\"k\", \"v1\")$" s.mlsh &&
	grep -q "HS_ENV_SECRET" s.mlsh && grep -q "API_TOKEN" s.mlsh &&
	grep -q "^mlsh.run(\"!true\")$" s.mlsh'

t_ok 'the saved session replays with references resolved at run time' '
	[ "$(API_TOKEN=later HS_ENV_SECRET=now "$MLSH" --norc s.mlsh)" = "v1 xnowy
later" ]'

t_ok '--executable gives 0700; --force tightens an existing 0644 file to 0600' '
	"$MLSH" --norc -c "set a 1; history save -x x.mlsh" >/dev/null && [ "$(mode x.mlsh)" = 700 ] &&
	touch old.mlsh && chmod 644 old.mlsh &&
	"$MLSH" --norc -c "set a 1; history save --force old.mlsh" >/dev/null && [ "$(mode old.mlsh)" = 600 ]'

t_err 'a symbolic link is not written through' \
	"history: 'link.mlsh' is a symbolic link; give the file itself" 1 \
	'ln -s target.mlsh link.mlsh; "$MLSH" --norc -c "history save --force link.mlsh"; r=$?; [ ! -e target.mlsh ] && exit $r'

t_ok 'saved scripts load as Lua chunks (integer literals: unit test_history)' '
	printf "%s\n" "set n 1" "history save --force i.mlsh" | "$MLSH" --norc >/dev/null 2>&1 &&
	"$MLSH" --norc -c "lua \"assert(loadfile(\\\"s.mlsh\\\")); assert(loadfile(\\\"i.mlsh\\\"))\""'

t_done
