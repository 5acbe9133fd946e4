#!/usr/bin/env bash
# Safety and locks (issue 12, items 4 and 5) without a terminal: deletes
# refuse without --force; read-only commands work beside an mlsh that holds
# the workspace, writers get its pid and --wait; did-you-mean, unknown
# regions, an empty node ls. The terminal side is tests/interactive/safety.t.
. "$TESTS_DIR/lib.sh"
: "${MOTO_URL:?tests/run starts moto and sets MOTO_URL}"
export AWS_ACCESS_KEY_ID=AKIDMLSHTEST AWS_SECRET_ACCESS_KEY=mlsh-secret-never-printed AWS_REGION=us-east-1
WS=tsafe
m() { "$MLSH" --norc --endpoint-url "$MOTO_URL" -w "$WS" "$@"; }
mkdir -p "$HOME/.ssh" && ssh-keygen -q -t ed25519 -N '' -f "$HOME/.ssh/id_ed25519"
. "$TESTS_DIR/regress/stack-lib.sh"
ws_clean "$WS"
STATE="$XDG_STATE_HOME/mlsh/$WS.json"
NONE="vpc=0 subnet=0 igw=0 rt=0 eip=0 nat=0 sg=0 key=0 instance=0 efs=0"

# -- did you mean, regions, an empty node ls --------------------------------
t_err 'a swapped pair is the closest typo: vcp is vpc, not cp' \
	'unknown command: vcp (did you mean vpc?)' 2 '"$MLSH" --norc -c vcp'
t_err 'a misspelt flag gets a suggestion, not the whole usage' \
	'down: unknown flag: --dry-rn (did you mean --dry-run?)' 2 '"$MLSH" --norc -c "down --dry-rn"'
t_err '--yes on a delete points at --force' \
	'node: unknown flag: --yes (did you mean --force?)' 2 '"$MLSH" --norc -c "node dl1-1 down --yes"'
t_ok 'region xx-nowhere-1 is refused with the list of regions' '
	out=$("$MLSH" --norc -c "region xx-nowhere-1" 2>&1); [ $? -eq 1 ] &&
	[ "$(wc -l <<<"$out")" = 1 ] &&
	grep -q "^region: unknown region .xx-nowhere-1.; known: af-south-1 .* us-east-1 .* us-west-2 (--force for a newer one)$" <<<"$out"'
t_ok 'a typo of a region suggests the region' '
	out=$("$MLSH" --norc -c "region eu-wset-1" 2>&1); [ $? -eq 1 ] &&
	grep -q "^region: unknown region .eu-wset-1. (did you mean eu-west-1?); known: " <<<"$out"'
t_out 'a known region is taken; --force takes a newer one' 'eu-west-1 ap-southeast-9' '
	a=$("$MLSH" --norc --json -c "region eu-west-1" | python3 -S -c "import json,sys; print(json.load(sys.stdin)[\"region\"])") &&
	b=$("$MLSH" --norc --json -c "region --force ap-southeast-9" | python3 -S -c "import json,sys; print(json.load(sys.stdin)[\"region\"])") &&
	echo "$a $b"'
t_ok 'an empty node ls says so (and --json stays an empty list)' '
	out=$(m -c "node ls" 2>&1) && [ "$out" = "node: no nodes in workspace '"'"'$WS'"'"' (node KIND up starts one)" ] &&
	[ "$(m --json -c "node ls" 2>/dev/null)" = "[]" ]'

# -- a writer holds the workspace: an mlsh reading commands from a FIFO -----
mkfifo "$T/in"
"$MLSH" --norc --endpoint-url "$MOTO_URL" -w "$WS" <"$T/in" >"$T/holder.log" 2>&1 &
holder=$!
t_bg_pids+=("$holder")
exec 9>"$T/in"		# the holder's stdin stays open while this test runs
echo "vpc up --allow 127.0.0.1/32 --types dl1.24xlarge" >&9
t_ok 'the holder made the network and holds the workspace' '
	t_wait 120 "grep -q \"vpc up: .* created\" \"\$T/holder.log\"" &&
	[ "$(cat "$XDG_STATE_HOME/mlsh/$WS.lock")" = "$holder" ] || { cat "$T/holder.log"; false; }'
t_ok 'status, cost, workspace, node ls and ssh-config work beside it, reading what it wrote' '
	m -c status >"$T/st.out" 2>&1 && grep -q "^jump " "$T/st.out" && grep -q "^nat " "$T/st.out" &&
	m -c cost >"$T/cost.out" 2>&1 && grep -q "^total " "$T/cost.out" &&
	m --json -c workspace | python3 -S -c "import json,sys; d=json.load(sys.stdin); assert d[\"resources\"] > 10, d" &&
	m -c "node ls" 2>&1 | grep -q "no nodes in workspace" &&
	m -c "vpc status; efs status" >/dev/null 2>&1 &&
	m -c "ssh-config" 2>&1 | grep -q "^Host mlsh-$WS-jump" || { cat "$T/st.out" "$T/cost.out"; false; }'
t_ok 'a writer beside it is refused with the pid and --wait; nothing changes' '
	cp "$STATE" "$T/s.before" &&
	out=$(m -c "efs up --dry-run" 2>&1); [ $? -eq 1 ] &&
	[ "$out" = "efs: workspace '"'"'$WS'"'"' is in use by pid $holder (--wait waits for it)" ] &&
	out=$(m -c "status --refresh" 2>&1); [ $? -eq 1 ] && grep -q "in use by pid $holder (--wait waits for it)" <<<"$out" &&
	cmp -s "$STATE" "$T/s.before"'
t_ok 'a delete beside it is refused with the pid (the lock comes before the question)' '
	out=$(m -c "vpc down --force" 2>&1 </dev/null); [ $? -eq 1 ] && grep -q "in use by pid $holder" <<<"$out"'
# --wait: waits (with a status line) until the holder is gone, then runs.
"$MLSH" --norc --wait --endpoint-url "$MOTO_URL" -w "$WS" -c "vpc down" </dev/null >"$T/waiter.out" 2>"$T/waiter.err" &
waiter=$!
t_bg_pids+=("$waiter")
t_ok '--wait shows that it waits, and for whom' \
	't_wait 60 "grep -q \"^waiting for workspace .$WS. (in use by pid $holder): [0-9]* s of at most 300 s\" \"\$T/waiter.err\""'
echo "exit" >&9
exec 9>&-
# Exited (a zombie until waited for counts as gone), bounded.
gone() { ! kill -0 "$1" 2>/dev/null || grep -q "^[0-9]* (.*) Z" "/proc/$1/stat" 2>/dev/null; }
t_wait 60 "gone $holder && gone $waiter"
gone "$waiter" && { wait "$waiter"; wrc=$?; } || wrc=timeout
t_ok 'the holder leaves; the waiter then runs (and, with no terminal, refuses the delete)' '
	[ "$wrc" = 1 ] &&
	grep -q "^vpc: refusing to delete [0-9]* resources of workspace .$WS. without a terminal to ask on; pass --force$" "$T/waiter.err" ||
	{ echo "rc $wrc"; cat "$T/waiter.err"; false; }'
t_ok 'with --force it deletes without asking' '
	m -c "vpc down --force" >/dev/null 2>"$T/down.err" </dev/null && [ "$(counts)" = "$NONE" ] ||
	{ cat "$T/down.err"; counts; false; }'
t_done
