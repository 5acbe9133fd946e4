#!/usr/bin/env bash
# Ctrl-C (SIGINT to mlsh) ends the whole line, script, -c list or input, as in
# sh, and no Lua code can catch it and go on: pcall/xpcall/mlsh.pcall loops and
# busy coroutines stop. No timing: the first command blocks on a fifo the
# test holds open, or a Lua loop announces itself; the test signals then.
. "$TESTS_DIR/lib.sh"

bg_pids=""
trap 'for p in $bg_pids; do kill -9 "$p" 2>/dev/null; done' EXIT
fifo="$T/fifo"
mkfifo "$fifo"

# Poll (at most ~10 s) for a condition.
poll() { for _ in $(seq 1 100); do eval "$1" && return 0; sleep 0.1; done; return 1; }

# Run mlsh ARGS… in the background with stdin from $IN (default /dev/null)
# while `!cat FIFO` (its first command) blocks: once cat has the fifo open,
# SIGINT goes to mlsh alone, then the fifo is closed (cat ends with 0). Sets
# mrc, mout, merr.
interrupt_during_cat() {
	local mp wp i=0
	rm -f "$T/opened" "$T/release"
	"$MLSH" --norc "$@" <"${IN:-/dev/null}" >"$T/out" 2>"$T/err" & mp=$!
	bg_pids="$bg_pids $mp"
	# The writer: open returns once cat has opened the fifo to read.
	( exec 3>"$fifo"; : >"$T/opened"
	  while [ ! -e "$T/release" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done ) & wp=$!
	bg_pids="$bg_pids $wp"
	poll '[ -e "$T/opened" ]' || { echo "cat never opened the fifo"; }
	kill -INT "$mp"
	: >"$T/release"
	wait "$wp"
	poll '! kill -0 "$mp" 2>/dev/null' || kill -9 "$mp"
	wait "$mp"; mrc=$?
	mout=$(cat "$T/out"); merr=$(cat "$T/err")
}

# (`!` takes the rest of its line: the commands are on lines of their own.)
interrupt_during_cat -c "$(printf '!cat %s\necho second\n!touch %s' "$fifo" "$T/ran")"
t_ok 'Ctrl-C during the first command of a -c line: the rest never runs, status 130' '
	[ "$mrc" = 130 ] && [ -z "$mout" ] && [ ! -e "$T/ran" ]'
interrupt_during_cat -c "lua 'return io.open(\"$fifo\"):read(\"a\")'; echo second"
t_ok 'and after ; on the same line (a builtin blocked reading the fifo)' '
	[ "$mrc" = 130 ] && [ -z "$mout" ]'
t_ok 'a -c line whose last command was interrupted keeps its status' '
	interrupt_during_cat -c "!cat \"$fifo\""; [ "$mrc" = 0 ]'

printf '!cat %s\necho second\n' "$fifo" >"$T/in.txt"
IN="$T/in.txt" interrupt_during_cat
t_ok 'Ctrl-C ends commands read from standard input' '[ "$mrc" = 130 ] && [ -z "$mout" ]'

cat >"$T/plain.mlsh" <<LUA
mlsh.run("!cat $fifo")
echo("second")
LUA
cat >"$T/caught.mlsh" <<LUA
print(pcall(mlsh.run, "!cat $fifo"))
echo("second")
print("third")
LUA
cat >"$T/mcaught.mlsh" <<LUA
print(mlsh.pcall(mlsh.run, "!cat $fifo"))
echo("second")
LUA
cat >"$T/builtin.mlsh" <<LUA
pcall(mlsh.run, "!cat $fifo")
local ok, err = mlsh.pcall(echo, "second")
io.write("after: ", tostring(err), "\n")
LUA
for s in plain caught mcaught builtin; do
	interrupt_during_cat "$T/$s.mlsh"
	t_ok "Ctrl-C ends a script ($s.mlsh): nothing after it runs, status 130" '
		[ "$mrc" = 130 ] && [ -z "$mout" ] && [ "$merr" = "mlsh: interrupted" ]'
done

# Lua that tries to keep running: each prints "started", then loops.
lua_loop() { # name chunk
	local mp
	"$MLSH" --norc -c "lua 'print(\"started\") io.stdout:flush() $2'; echo second" >"$T/out" 2>"$T/err" & mp=$!
	bg_pids="$bg_pids $mp"
	poll 'grep -q started "$T/out"'
	kill -INT "$mp"
	poll '! kill -0 "$mp" 2>/dev/null' || kill -9 "$mp"
	wait "$mp"; mrc=$?
	t_report "$( [ "$mrc" = 130 ] && [ "$(cat "$T/out")" = started ] && [ "$(cat "$T/err")" = "lua: interrupted" ]; echo $?)" \
		"Ctrl-C stops Lua: $1" "rc $mrc, out: $(cat "$T/out"), err: $(cat "$T/err")"
}
lua_loop 'a busy loop' 'while true do end'
lua_loop 'a pcall loop' 'while true do pcall(function() while true do end end) end'
lua_loop 'an xpcall loop' 'while true do xpcall(function() while true do end end, function(e) return e end) end'
lua_loop 'an mlsh.pcall loop' 'while true do mlsh.pcall(function() while true do end end) end'
lua_loop 'a busy coroutine' 'coroutine.wrap(function() while true do end end)()'
lua_loop 'a coroutine made before, resumed in a loop' 'local co = coroutine.create(function() while true do end end) while true do coroutine.resume(co) end'
lua_loop 'a pcall loop inside a coroutine' 'coroutine.wrap(function() while true do pcall(function() while true do end end) end end)()'

t_ok 'exit() cannot be caught by pcall either' '
	printf "pcall(exit, 4)\nprint(\"after\")\n" >ex.mlsh
	out=$("$MLSH" --norc ex.mlsh); rc=$?; [ "$rc" = 4 ] && [ -z "$out" ]'
t_done
