#!/usr/bin/env bash
# history-save.t: `history save` keeps secrets out of the script and off
# other users: mode 0600 (0700 with --executable), $NAME kept as references,
# secret-looking `set`s and exporting `!` lines left out, valid Lua.
# errexit: a failed command stops a -c list or a script. Against moto (when
# tests/run gives one): a saved session replays in a new workspace, its ids
# read from the replay's own results (the lab test: tests/lab/replay.t).
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

# errexit (no AWS needed).
t_err 'errexit: a failed command stops a -c list, one line says what did not run' \
	"unknown command: nosuch (try 'help')
mlsh: stopped at 'nosuch' (status 2): the rest did not run ('set errexit off' goes on after failures)" 2 \
	'out=$("$MLSH" --norc -c "echo a; nosuch; echo b"); r=$?; [ "$out" = a ] && exit $r'
t_out 'set errexit off: the list goes on' 'a
b' '"$MLSH" --norc -c "set errexit off; echo a; nosuch; echo b" 2>/dev/null'
t_out 'standard input goes on after a failure unless set errexit on' 'a
b
c' 'printf "%s\n" "echo a" "nosuch" "echo b" "set errexit on" "echo c" "nosuch" "echo d" | "$MLSH" --norc 2>/dev/null'
printf 'echo("one")\nset("a")\necho("two")\n' >"$T/fail.mlsh"
t_err 'a script stops at a failed command: one line with file:line, status 1' \
	"mlsh: fail.mlsh:2: set: missing arguments (usage: set NAME VALUE)" 1 \
	'out=$("$MLSH" --norc fail.mlsh); r=$?; [ "$out" = one ] && exit $r'
printf 'set("errexit", "off")\nlocal v, e = set("a")\nprint(v, e ~= nil)\necho("two")\n' >"$T/goon.mlsh"
t_out 'set errexit off in a script: a failed builtin returns nil, err and the script goes on' 'nil	true
two' '"$MLSH" --norc goon.mlsh 2>/dev/null'

t_ok 'the workspace is a parameter: the recorded one, the first argument, or -w' '
	"$MLSH" --norc -w rec1 -c "set a 1; history save ws.mlsh" >/dev/null 2>&1 &&
	echo "print(workspace().workspace)" >>ws.mlsh &&
	[ "$("$MLSH" --norc -w other -c "lua 1" >/dev/null; "$MLSH" --norc ws.mlsh 2>&1)" = rec1 ] &&
	[ "$("$MLSH" --norc ws.mlsh argws 2>&1)" = argws ] &&
	[ "$("$MLSH" --norc -w dashw ws.mlsh 2>&1)" = dashw ] &&
	[ "$(MLSH_WORKSPACE=envws "$MLSH" --norc ws.mlsh 2>&1)" = envws ]'
if [ -z "${MOTO_URL:-}" ]; then
	t_skip 'needs moto (tests/run starts it when python3 has moto)'
	t_done
	exit
fi
export AWS_ACCESS_KEY_ID=AKIDMLSHTEST AWS_SECRET_ACCESS_KEY=mlsh-secret-never-printed AWS_REGION=us-east-1
mkdir -p "$HOME/.ssh" && ssh-keygen -q -t ed25519 -N '' -f "$HOME/.ssh/id_ed25519"
. "$TESTS_DIR/regress/stack-lib.sh"
# Workspace names of this run only (tests/run starts a fresh moto): no
# clean-up of earlier runs; the last test takes both down.
A=hsave$$ B=hsrep$$
m() { "$MLSH" --norc --endpoint-url "$MOTO_URL" "$@"; }
sgof() { python3 -S -c "import json,sys; print(json.load(open(sys.argv[1]))['resources'][sys.argv[2]]['id'])" "$XDG_STATE_HOME/mlsh/$1.json" "$2"; }
# The 8080 rule on a workspace's sg-jump: 1 when there, 0 when not.
rule() {
	python3 - "$(sgof "$1" sg-jump)" <<'PY'
import boto3, os, sys
ec2 = boto3.client("ec2", endpoint_url=os.environ["MOTO_URL"], region_name="us-east-1")
g = ec2.describe_security_groups(GroupIds=[sys.argv[1]])["SecurityGroups"][0]
print(int(any(p.get("FromPort") == 8080 for p in g["IpPermissions"])))
PY
}

t_ok 'a session: vpc up, an api call on an id vpc up gave, a dry run, a typed id; saved' '
	m -w "$A" -c "vpc up --allow 127.0.0.1/32 --yes" >/dev/null 2>&1 && sg=$(sgof "$A" sg-jump) &&
	printf "%s\n" "workspace $A" "vpc up --allow 127.0.0.1/32 --yes" \
		"api ec2 AuthorizeSecurityGroupIngress GroupId=$sg IpProtocol=tcp FromPort=8080 ToPort=8080 CidrIp=10.0.0.0/16" \
		"efs up -n" "api ec2 DescribeVpcs" "echo sg-0123456789abcdef" "history save sess.mlsh" |
		m >"$T/sess.out" 2>&1 || { tail -3 "$T/sess.out"; false; }; [ "$(rule "$A")" = 1 ]'
t_ok 'the header names the target and the workspace parameter' '
	grep -qxF -- "-- Run it with: mlsh --endpoint-url $MOTO_URL -r us-east-1 sess.mlsh [WORKSPACE]" sess.mlsh &&
	grep -q "^-- Workspace: the first argument, else -w or MLSH_WORKSPACE, else $A$" sess.mlsh &&
	grep -q "^    \"$A\"$" sess.mlsh && ! grep -q "^workspace(\"$A\")" sess.mlsh'
t_ok 'the id vpc up gave is read from its result; --yes is left to the replayer' '
	grep -qxF "r[2] = vpc.up{allow=\"127.0.0.1/32\"}" sess.mlsh &&
	grep -qF "\"GroupId=\" .. find(r[2], \"role\", \"sg-jump\").id" sess.mlsh && ! grep -q "sg-[0-9a-f]\{17\}" sess.mlsh'
t_ok 'dry runs and read-only calls are comments; a typed id is flagged' '
	grep -qxF -- "-- not replayed (dry run): efs.up{dry_run=true}" sess.mlsh &&
	grep -qxF -- "-- not replayed (read-only): api(\"ec2\", \"DescribeVpcs\")" sess.mlsh &&
	grep -B1 -xF "echo(\"sg-0123456789abcdef\")" sess.mlsh | grep -q "^-- mlsh: no earlier result gave sg-0123456789abcdef: "'
t_ok 'replayed in a new workspace (argument, --yes, no terminal): the same kinds and counts, other ids' '
	m --yes sess.mlsh "$B" </dev/null >"$T/rep.out" 2>&1 || { tail -3 "$T/rep.out"; false; }
	[ "$(counts "$A")" = "$(counts "$B")" ] && [ "$(sgof "$A" sg-jump)" != "$(sgof "$B" sg-jump)" ] &&
	[ "$(rule "$B")" = 1 ] && counts "$B" | grep -q " efs=0$"'
t_ok 'a failed command stops the replay: one line with the script line' '
	sed "s/CidrIp=10.0.0.0\/16/CidrIp=bad/" sess.mlsh >bad.mlsh &&
	out=$(m --yes bad.mlsh "$B" </dev/null 2>&1); [ $? -eq 1 ] &&
	[ "$(grep -c "^mlsh: bad.mlsh:[0-9]*: ec2: " <<<"$out")" = 1 ] && ! grep -q traceback <<<"$out"'
t_ok 'down removes both workspaces'\'' resources' '
	m -w "$A" -c "down --force" >/dev/null 2>&1 & pa=$!
	m -w "$B" -c "down --force" >/dev/null 2>&1 && wait $pa &&
	[ "$(counts "$A")" = "$(counts "$B")" ] && counts "$A" | grep -q "^vpc=0 .* instance=0 "'

t_done
