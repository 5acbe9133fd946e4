#!/usr/bin/env bash
# The shell from the outside: -c, stdin, exit codes, errors, --json, variables.
. "$TESTS_DIR/lib.sh"

t_ok 'help lists every builtin' '
	out=$("$MLSH" -c help) &&
	for b in help workspace profile region set unset vars echo history source lua exit; do
		grep -q "^$b " <<<"$out" || { echo "missing $b"; exit 1; }
	done'
t_out '--version' "mlsh 0.1.0" '"$MLSH" --version'
t_ok '--help shows usage' '"$MLSH" --help | grep -q "^usage: mlsh"'
t_err 'unknown option is a usage error' "mlsh: unknown option: --bogus (try 'mlsh --help')" 2 '"$MLSH" --bogus'
t_out 'several commands, quoting and escapes' 'a b|c;d|$HOME' \
	"\"\$MLSH\" -c 'echo \"a b|c\"\\;d\\|\\\$HOME'"
t_out 'mlsh variables expand before the environment' 'local env' \
	'FOO=env BAR=env "$MLSH" -c "set FOO local; echo \$FOO \${BAR}"'
t_out 'a variable set earlier on the line is seen later' '1-2' \
	'"$MLSH" -c "set a 1; set b 2; echo \$a-\$b"'
t_out 'comments are ignored' 'x' '"$MLSH" -c "echo x # not this"'
t_out '!cmd runs through /bin/sh' 'sh says 3' '"$MLSH" -c "!echo sh says \$((1+2))"'
t_ok 'exit status is the last command'\''s' '
	"$MLSH" -c "echo a; exit 7"; [ $? -eq 7 ] &&
	"$MLSH" -c "!exit 5"; [ $? -eq 5 ] &&
	"$MLSH" -c "!false; echo ok" >/dev/null; [ $? -eq 0 ]'
t_ok 'stdin that is not a terminal is read line by line' '
	out=$(printf "set v 4\necho \$v\nexit 3\necho never\n" | "$MLSH"); rc=$?
	[ "$out" = 4 ] && [ $rc -eq 3 ]'

# Bad input: one clear line, status 2.
t_err 'unknown command suggests' 'unknown command: wrkspace (did you mean workspace?)' 2 '"$MLSH" -c wrkspace'
t_err 'ambiguous prefix lists candidates' 'ambiguous command: h, could be: help, history' 2 '"$MLSH" -c h'
t_err 'unknown flag prints usage' 'workspace: unknown flag: --bogus (usage: workspace [ls|rm] [NAME])' 2 '"$MLSH" -c "workspace --bogus"'
t_err 'missing argument prints usage' 'set: missing arguments (usage: set NAME VALUE)' 2 '"$MLSH" -c "set a"'
t_err 'extra argument prints usage' 'set: unexpected argument: c (usage: set NAME VALUE)' 2 '"$MLSH" -c "set a b c"'
t_err 'unterminated quote' 'mlsh: unterminated single quote' 2 "\"\$MLSH\" -c \"echo 'abc\""
t_err 'an error stops nothing before it ran' 'mlsh: unterminated double quote' 2 '"$MLSH" -c "echo first; echo \"x"'
t_err 'bad integer' 'history: --count needs an integer, not '\''x'\'' (usage: history [save] [--count N])' 2 '"$MLSH" -c "history --count x"'
t_err 'a number out of its range: the one message, from the table' "train: --grace must be 0 to 300, not '301' (usage: train stop [--grace SECONDS] [--node NODE] RUN)" 2 '"$MLSH" -c "train stop --grace 301 x"'
t_err 'a number without an upper bound' "history: --count must be 0 or more, not '-1' (usage: history [save] [--count N])" 2 '"$MLSH" -c "history --count -1"'
t_err '-n is --dry-run, never a count' "history: unknown flag: -n (usage: history [save] [--count N])" 2 '"$MLSH" -c "history -n 3"'
t_ok 'NUL bytes are refused, not a crash' '
	out=$(printf "echo a\0b\necho next\n" | "$MLSH" 2>&1); rc=$?
	grep -q "line contains a NUL byte" <<<"$out" && grep -q "^next$" <<<"$out"'
t_ok 'invalid UTF-8 passes through without a crash' '
	out=$(printf "echo \xff\xfe\xc3\n" | "$MLSH"); [ $? -eq 0 ] && [ "$(printf %s "$out" | od -An -tx1 | tr -d " ")" = "fffec3" ]'
t_ok 'a line of several megabytes' '
	python3 -c "print(\"echo \" + \"x\" * 6000000)" | "$MLSH" | wc -c | grep -qx 6000001'
t_ok 'a line of a million words' '
	python3 -c "print(\"echo \" + \"ab \" * 1000000)" | "$MLSH" | wc -c | grep -qx 3000000'

# Structured results.
t_ok '--json output parses back' '
	"$MLSH" --json -c help | python3 -S -c "import json,sys; d=json.load(sys.stdin); assert any(c[\"command\"]==\"workspace\" for c in d)"'
t_ok 'per-call --json' '
	"$MLSH" -c "workspace demo; workspace --json" | tail -n +7 | python3 -S -c "import json,sys; d=json.load(sys.stdin); assert d[\"workspace\"]==\"demo\", d"'
t_ok 'help CMD --json describes the options' '
	"$MLSH" -c "help history --json" | python3 -S -c "import json,sys; d=json.load(sys.stdin); assert d[\"subcommands\"][0][\"name\"]==\"save\""'
t_ok 'CMD -h is the same help' '[ "$("$MLSH" -c "history -h")" = "$("$MLSH" -c "help history")" ]'
t_ok 'no colour when not a terminal' '! "$MLSH" -c help | grep -q $'"'"'\033'"'"''
t_out 'vars shows variables and settings' 'trace errexit budget x' '"$MLSH" -c "set trace on; set x 1; vars" | awk "NR>1{printf \"%s \", \$1}" | sed "s/ $//"'
t_err 'settings are checked' "set: trace must be on or off, not 'maybe' (usage: set NAME VALUE)" 2 '"$MLSH" -c "set trace maybe"'
t_err 'unset of an unknown variable' "unset: no variable 'nope'" 1 '"$MLSH" -c "unset nope"'

# A builtin name is always the builtin; a script needs a path or .mlsh.
printf 'print("ran the file")\n' > "$T/status"
cp "$T/status" "$T/foo"
t_ok 'a file named like a builtin does not shadow it' '
	out=$("$MLSH" --norc status 2>&1); ! grep -q "ran the file" <<<"$out" &&
	grep -q "status" <<<"$out"'
t_out 'the file runs when named by a path' 'ran the file' '"$MLSH" --norc ./status'
t_err 'a bare word that names a file: use ./' \
	'mlsh: foo: not a builtin; to run the script in the current directory, write ./foo' 2 '"$MLSH" --norc foo'
t_err 'a bare word that is nothing' \
	"mlsh: nothing: no such builtin (a script needs a path with '/' or a .mlsh suffix, e.g. ./nothing; 'mlsh help' lists the builtins)" \
	2 '"$MLSH" --norc nothing'

# Region and profile.
t_out 'region from the environment' 'us-west-2' 'AWS_REGION=us-west-2 "$MLSH" -c "region --json" | python3 -S -c "import json,sys; print(json.load(sys.stdin)[\"region\"])"'
t_out '--region wins' 'eu-west-1' 'AWS_REGION=us-west-2 "$MLSH" --region eu-west-1 -c "echo x" >/dev/null; AWS_REGION=us-west-2 "$MLSH" --region eu-west-1 -c "region --json" | python3 -S -c "import json,sys; print(json.load(sys.stdin)[\"region\"])"'
t_err 'a bad region name' "region: 'moon' is not a region name (like us-east-1) (usage: region [--force] [REGION])" 2 '"$MLSH" -c "region moon"'
t_ok 'profile from the config file, and an unknown one refused' '
	mkdir -p ~/.aws && printf "[profile dev]\nregion = ap-south-1\n" > ~/.aws/config &&
	"$MLSH" -c "profile dev; region" | grep -q ap-south-1 &&
	"$MLSH" -c "profile nope" 2>&1 | grep -qx "profile: no profile '\''nope'\'' in the AWS config or credentials file"'

t_done
