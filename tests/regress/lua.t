#!/usr/bin/env bash
# Lua: builtins as functions, scripts, errors, history save, ~/.mlshrc.
. "$TESTS_DIR/lib.sh"

cat > "$T/ok.mlsh" <<'LUA'
#!/usr/bin/env mlsh
-- builtins are functions generated from the table
local w = workspace("lab1")
assert(w.workspace == "lab1" and type(w.created) == "boolean", "workspace result")
set("greeting", "hello")
echo("$greeting")     -- Lua strings are not expanded: prints $greeting
mlsh.run("echo $greeting from run")
local v = vars()
local found = false
for _, r in ipairs(v) do if r.name == "greeting" then found = r.value end end
assert(found == "hello", "vars() returns rows")
local ls = workspace.ls()
assert(#ls >= 1 and ls[1].workspace ~= nil)
local ok, err = mlsh.pcall(set, "bad name", "x")
assert(ok == nil and err:find("bad variable name"), "pcall gives nil, err")
local ok2, err2 = mlsh.pcall(workspace.rm, {"nonexistent"})
assert(ok2 == nil and err2 == "workspace: no workspace 'nonexistent'", err2)
local h = help{"history", json=true}
assert(h.subcommands[1].name == "save")
print("args", #arg, arg[1], arg[2], arg[0]:match("ok.mlsh$") ~= nil)
LUA

t_out 'a script calling builtins, with arguments' '$greeting
hello from run
args	2	one	two	true' '"$MLSH" ok.mlsh one two'
t_ok 'a #! script runs directly' 'chmod +x ok.mlsh && PATH="$(dirname "$MLSH"):$PATH" ./ok.mlsh a b | grep -q "^args	2	a	b"'

printf 'echo("fine")\nlocal x = nil\nprint(x.field)\n' > "$T/broken.mlsh"
t_ok 'a broken script reports file:line and a traceback, status 1' '
	out=$("$MLSH" broken.mlsh 2>&1); rc=$?
	[ $rc -eq 1 ] && grep -q "^mlsh: broken.mlsh:3: attempt to index a nil value" <<<"$out" &&
	grep -q "stack traceback:" <<<"$out"'
printf 'set("a")\n' > "$T/usage.mlsh"
t_ok 'a failing builtin raises a Lua error at the caller'\''s line' '
	out=$("$MLSH" usage.mlsh 2>&1); rc=$?
	[ $rc -eq 1 ] && grep -q "^mlsh: usage.mlsh:1: set: missing arguments (usage: set NAME VALUE)" <<<"$out"'
printf 'print("before")\nexit(3)\nprint("after")\n' > "$T/exit.mlsh"
t_ok 'exit() ends a script with its status' '
	out=$("$MLSH" exit.mlsh 2>&1); rc=$?; [ $rc -eq 3 ] && [ "$out" = before ]'
printf 'syntax error here\n' > "$T/syntax.mlsh"
t_ok 'a syntax error names the file and line' '
	"$MLSH" syntax.mlsh 2>&1 | grep -q "^mlsh: syntax.mlsh:1:"'
t_err 'a missing script' 'mlsh: cannot open nope.mlsh: No such file or directory' 1 '"$MLSH" nope.mlsh'

t_out 'lua CHUNK returns its value' '3' '"$MLSH" -c "lua 1+2"'
t_out 'lua tables render as results' 'a  1' "\"\$MLSH\" -c \"lua '{a=1}'\""
t_out 'lua shares state with the session' 'from lua' \
	"\"\$MLSH\" -c \"lua 'set(\\\"x\\\", \\\"from lua\\\")'; echo \\\$x\""
t_ok 'lua error names the chunk, status 1' '
	out=$("$MLSH" -c "lua '"'"'error(\"boom\")'"'"'" 2>&1); [ $? -eq 1 ] && grep -q "^lua: lua:1: boom" <<<"$out"'
t_out 'source runs a script in the session' 'sourced' \
	'printf "set(\"s\", \"sourced\")\n" > src.mlsh; "$MLSH" -c "source src.mlsh; echo \$s"'
t_ok 'source of a broken script fails with its location' '
	out=$("$MLSH" -c "source broken.mlsh" 2>&1); [ $? -eq 1 ] && grep -q "^source: broken.mlsh:3:" <<<"$out"'

# The Lua -> JSON bridge: deep tables (a crash at ~16 levels), cycles,
# exponential sharing: a result or a clear one-line error.
cat > "$T/deep.lua" <<'LUA'
local t = {} local c = t
for i = 1, tonumber(os.getenv("DEPTH")) - 1 do c.a = {} c = c.a end
c.a = "bottom"
return t
LUA
deep() { DEPTH=$1 DL="$T/deep.lua" "$MLSH" --norc --json -c "lua 'return dofile(os.getenv(\"DL\"))'"; }
t_ok 'a table nested 999 deep prints whole' '
	deep 999 | python3 -S -c "import json,sys; sys.setrecursionlimit(5000); d=json.load(sys.stdin); n=0
while isinstance(d, dict): d=d[\"a\"]; n+=1
assert (n, d) == (999, \"bottom\"), (n, d)"'
t_err 'a table nested deeper than 1000 levels: one line' 'lua: result: table nested deeper than 1000 levels' 1 'deep 1001'
t_err 'a cyclic table: one line' 'lua: result: a table contains itself (a cycle)' 1 \
	"\"\$MLSH\" --norc -c \"lua 'local t = {} t.me = t return t'\""
t_err 'a table shared exponentially: refused, not endless' 'lua: result: more than 1000000 values' 1 \
	"\"\$MLSH\" --norc -c \"lua 'local t = {} for i = 1, 60 do t = {t, t} end return t'\""
t_ok 'a cyclic argument to api.call is an error Lua can catch' '
	printf "local t = {} t.t = t\nlocal ok, err = pcall(api.call, \"ec2\", \"DescribeVpcs\", t)\nassert(not ok and err:find(\"a table contains itself\"), err)\nprint(\"caught\")\n" > cyc.mlsh &&
	[ "$("$MLSH" --norc cyc.mlsh)" = caught ]'

# ~/.mlshrc
printf 'set("fromrc", "yes")\n' > "$HOME/.mlshrc"
t_out '~/.mlshrc runs at start-up' 'yes' '"$MLSH" -c "echo \$fromrc"'
t_out '--norc skips it' '' '"$MLSH" --norc -c "echo \$fromrc"'
rm -f "$HOME/.mlshrc"

# history save: a session becomes a script that replays it.
t_ok 'history save writes a runnable Lua script' '
	printf "workspace hs\nset k v1\n!true\necho \$k\nhelp\nset bad\nhistory save sess.mlsh\n" | "$MLSH" >/dev/null 2>&1
	grep -q "^workspace(WS)$" sess.mlsh && grep -q "^    \"hs\"$" sess.mlsh &&
	grep -q "^set(\"k\", \"v1\")$" sess.mlsh &&
	grep -q "^mlsh.run(\"!true\")$" sess.mlsh &&
	! grep -q "help\|bad\|history" sess.mlsh &&
	[ "$("$MLSH" --norc sess.mlsh)" = v1 ]'
t_ok 'mlsh.run(line) prints as the prompt does; the same builtin called as a function returns data' '
	"$MLSH" --norc -c "lua \"mlsh.run(\\\"cost\\\")\"" 2>"$T/run.err" | grep -q "^total  *\\\$0.0000" &&
	grep -q "^cost: on-demand prices" "$T/run.err" &&
	[ "$("$MLSH" --norc -c "lua \"print(type(cost().total), type(cost().total.usd_per_hour))\"" 2>/dev/null)" = "$(printf "table\tnumber")" ]'
t_err 'history save will not overwrite' "history: 'sess.mlsh' exists; --force overwrites it" 1 '"$MLSH" -c "history save sess.mlsh"'
t_ok 'history save --force overwrites' '"$MLSH" -c "history save --force sess.mlsh" >/dev/null'
t_ok 'options become a Lua table' '
	printf "workspace rm --force nothing-here\nworkspace x9\nworkspace default\nworkspace rm --force x9\nhistory save --force t.mlsh\n" | "$MLSH" >/dev/null 2>&1
	grep -q "^workspace.rm{\"x9\", force=true}$" t.mlsh && "$MLSH" -c "workspace x9" >/dev/null && "$MLSH" -c "workspace default" >/dev/null && "$MLSH" t.mlsh'

# The table's rest-of-line key (lua_rest in the entry) gives the positionals:
# train.run{cmd={…}} parses as `train run -- …` through the one binder.
t_ok 'Lua: train.run{cmd={…}} passes its words as the command' '
	printf "train.run{cmd={\"echo\", \"x\"}}\n" > rest.mlsh
	printf "train.run{name=\"r\"}\n" > norest.mlsh
	! "$MLSH" --norc ./rest.mlsh 2>rest.err && grep -q "train: " rest.err &&
	! grep -q "missing argument" rest.err &&
	! "$MLSH" --norc ./norest.mlsh 2>norest.err && grep -q "train: missing argument" norest.err'
t_ok 'Lua: a word of the rest that is not one is an error' '
	printf "train.run{cmd={\"a\", {}}}\n" > bad.mlsh
	! "$MLSH" --norc ./bad.mlsh 2>bad.err &&
	grep -q "cmd: expected a string or number, got table" bad.err'

t_done
