#!/usr/bin/env bash
# Budgets (issue 14, item 2) against moto: `set budget` is per workspace and
# kept in its state; cost shows the forecast (a day at today's rate, how
# long the budget lasts); a warning from 80 % on; past the budget a start is
# refused unless --over-budget (a dry run only warns); what removed
# resources and an emptied workspace cost still counts; the prompt shows
# spent/budget and warns once; leaving lists each running kind with its
# autostop. Time moves with MLSH_TEST_CLOCK_OFFSET.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/regress/stack-lib.sh"
export AWS_ACCESS_KEY_ID=AKIDMLSHTEST AWS_SECRET_ACCESS_KEY=mlsh-secret AWS_REGION=us-east-1

t_moto MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_AMIS_PATH="$TESTS_DIR/regress/amis.json" ||
	{ t_done; exit 1; }
U=$MOTO_URL
W=tbudget
m() { "$MLSH" --norc --endpoint-url "$U" -w "$W" "$@"; }
at() { local o=$1; shift; MLSH_TEST_CLOCK_OFFSET=$o m "$@"; }
py() { python3 -S -c "import json,sys; d=json.load(sys.stdin); $1"; }
instances() { # running or pending instances of the workspace, by boto3
	python3 - "$U" "$W" <<'EOF'
import sys, boto3
ec2 = boto3.client("ec2", endpoint_url=sys.argv[1], region_name="us-east-1")
n = 0
for r in ec2.describe_instances(Filters=[{"Name": "tag:mlsh:workspace", "Values": [sys.argv[2]]},
        {"Name": "instance-state-name", "Values": ["pending", "running"]}])["Reservations"]:
    n += len(r["Instances"])
print(n)
EOF
}
# err2 NAME ERE CMD…: CMD fails with exit 2 (a usage error) and one stderr
# line matching ERE.
err2() { errn 2 "$@"; }
# errlast NAME ERE CMD…: exit 1, the last stderr line matches ERE (notes
# about the image and the price come first).
errlast() {
	local name=$1 re=$2 rc; shift 2
	"$@" >"$T/e.out" 2>"$T/e.err"; rc=$?
	if [ "$rc" = 1 ] && tail -1 "$T/e.err" | grep -Eq -- "$re"; then t_report 0 "$name"; else
		t_report 1 "$name" "rc $rc, stderr: $(cat "$T/e.err")"
	fi
}
errn() {
	local want=$1 name=$2 re=$3 rc; shift 3
	"$@" >"$T/e.out" 2>"$T/e.err"; rc=$?
	if [ "$rc" = "$want" ] && [ "$(wc -l <"$T/e.err")" = 1 ] && grep -Eq -- "$re" "$T/e.err"; then
		t_report 0 "$name"
	else
		t_report 1 "$name" "rc $rc, stderr: $(cat "$T/e.err")"
	fi
}
mkdir -p "$HOME/.ssh" && ssh-keygen -q -t ed25519 -N '' -f "$HOME/.ssh/id_ed25519"

for bad in abc 0 1e9 inf 12x; do
	err2 "set budget $bad: a one-line error" "^set: budget must be an amount in USD above 0 and at most 10000000, or off; not '$bad' \\(usage: set NAME VALUE\\)$" \
		m -c "set budget $bad"
done
err2 'set budget -5: a one-line error (a flag to the parser)' '^set: unknown flag: -5 ' m -c "set budget -5"
t_ok 'no budget: cost --json says null' 'm --json -c cost | py "assert d[\"budget\"] is None, d"'

t_ok 'the network comes up' '
	m -c "vpc up --allow 203.0.113.7/32 --types dl1.24xlarge" >"$T/up.out" 2>&1 || { cat "$T/up.out"; false; }'
t_ok 'set budget 20: kept in the workspace state, shown by vars' '
	m -c "set budget 20" 2>"$T/set.err" && grep -q "^budget: workspace .tbudget.: \$20.00, \$0.0[0-9] spent so far$" "$T/set.err" &&
	python3 -S -c "import json,sys; assert json.load(open(sys.argv[1]))[\"budget\"][\"usd\"] == 20" "$XDG_STATE_HOME/mlsh/$W.json" &&
	m --json -c vars | py "assert {x[\"name\"]: x[\"value\"] for x in d}[\"budget\"] == \"20\", d" ||
	{ cat "$T/set.err"; false; }'
t_ok 'another workspace has no budget' 'm -w other --json -c cost | py "assert d[\"budget\"] is None, d"'

t_ok 'node dl1 up: the note says what is left and for how long at the new rate' '
	m -c "node dl1 up" >"$T/n1.out" 2>&1 &&
	grep -Eq "^node: budget: \\\$(19\.[0-9]{2}|20\.00) of \\\$20\.00 left, 1\.[45] h at the new rate$" "$T/n1.out" ||
	{ cat "$T/n1.out"; false; }'

# The rate now: the dl1 node, its volume and address, the jump host, the NAT
# gateway. The test computes the hours to 85 % and past 100 % itself.
rate=$(m --json -c cost | py 'print(d["forecast"]["usd_per_hour"])')
h85=$(python3 -c "print(int(20 * 0.85 / $rate * 3600))")
h120=$(python3 -c "print(int(20 * 1.2 / $rate * 3600))")
t_ok 'cost --json: the forecast per day, and the budget with spent, left and hours left' '
	at "$h85" --json -c cost | py "
b, f = d[\"budget\"], d[\"forecast\"]
assert abs(f[\"usd_per_day\"] - 24 * f[\"usd_per_hour\"]) < 1e-3, f
assert b[\"usd\"] == 20 and 16.5 < b[\"spent_usd\"] < 17.5 and abs(b[\"spent_usd\"] - d[\"total\"][\"accrued_usd\"]) < 0.01, (b, d[\"total\"])
assert abs(b[\"left_usd\"] - (20 - b[\"spent_usd\"])) < 0.01 and 84 <= b[\"percent\"] <= 86, b
assert abs(b[\"hours_left\"] - b[\"left_usd\"] / f[\"usd_per_hour\"]) < 0.02, b"'
t_ok 'cost (table) prints the forecast lines' '
	at "$h85" -c cost 2>"$T/cost.err" >/dev/null &&
	grep -Eq "^cost: at today.s rate \(\\\$13\.[0-9]+/h\): \\\$3[0-9]{2}\.[0-9]{2} a day$" "$T/cost.err" &&
	grep -Eq "^cost: budget \\\$20\.00: \\\$1[67]\.[0-9]{2} spent \(8[4-6]%\), \\\$[23]\.[0-9]{2} left: 0\.[0-9] h at today.s rate$" "$T/cost.err" ||
	{ cat "$T/cost.err"; false; }'
t_ok 'status shows the budget under the table' '
	at "$h85" -c status 2>&1 >/dev/null | grep -Eq "^status: budget \\\$1[67]\.[0-9]{2} spent of \\\$20\.00 \(8[4-6]%\)$"'
t_ok 'past 80 %: a start warns' '
	at "$h85" -c "node dl1 up --count 2 --dry-run" >"$T/w.out" 2>&1 &&
	grep -Eq "^node: warning: workspace .tbudget. has spent \\\$1[67]\.[0-9]{2} of its \\\$20\.00 budget \(8[4-6]%\)$" "$T/w.out" ||
	{ cat "$T/w.out"; false; }'

before=$(instances)
errlast 'past the budget: node up refuses: exit 1, the error its last line' \
	"^node: over budget: workspace 'tbudget' has spent \\\$2[0-9]\.[0-9]{2} of its \\\$20\.00; --over-budget starts it anyway, .set budget N. raises it$" \
	at "$h120" -c "node dl1 up --count 2 -y"
t_ok '... and started nothing' '[ "$(instances)" = "$before" ] && [ "$before" = 2 ]'
t_ok 'a dry run past the budget warns and plans' '
	at "$h120" -c "node dl1 up --count 2 --dry-run" >"$T/d.out" 2>&1 &&
	grep -q "^node: warning: over budget: .*(without --over-budget a real run stops here)$" "$T/d.out" ||
	{ cat "$T/d.out"; false; }'
t_ok '--over-budget starts it' '
	at "$h120" -c "node dl1 up --count 2 -y --over-budget" >"$T/o.out" 2>&1 && [ "$(instances)" = 3 ] ||
	{ cat "$T/o.out"; false; }'
t_ok 'set budget 100 lifts the refusal: a dry run plans without a warning' '
	at "$h120" -c "set budget 100; node dl1 up --count 3 --dry-run" >"$T/r.out" 2>&1 &&
	! grep -Eq "warning: (over budget|workspace)" "$T/r.out" && grep -q "^node: budget: " "$T/r.out" || { cat "$T/r.out"; false; }'

# Leaving with $/h running: one line per kind, with its autostop.
S0="mlsh-bexit$$"
export TMUX_TMPDIR="$T"
tmux -L "$S0" new-session -d -s main -x 120 -y 20 \
	"env HOME=$HOME XDG_STATE_HOME=$XDG_STATE_HOME TERM=xterm AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY AWS_REGION=us-east-1 $MLSH --norc --endpoint-url $U -w $W; echo exited \$?; sleep 600"
screen0() { tmux -L "$S0" capture-pane -p -t main 2>/dev/null; }
at_prompt0() { screen0 | grep -q "^mlsh tbudget@"; }
exited0() { screen0 | grep -q "^exited 0"; }
t_wait 30 at_prompt0 && tmux -L "$S0" send-keys -t main 'exit' Enter
t_ok 'exit lists the running kinds, the nodes with their autostop' '
	t_wait 30 exited0 && screen0 | grep -Eq "^  dl1 +×2 +\\\$26\.[0-9]{2}/h  autostop 1h$" &&
	screen0 | grep -Eq "^  jump host +×1 +\\\$0\.[0-9]+/h$" || { screen0; false; }'
tpid0=$(tmux -L "$S0" display-message -p '#{pid}' 2>/dev/null)
tmux -L "$S0" kill-server 2>/dev/null
[ -n "$tpid0" ] && t_wait 30 "! kill -0 $tpid0"

spent=$(at "$h120" --json -c cost | py 'print(d["budget"]["spent_usd"])')
t_ok 'down: what the removed resources cost still counts (the ledger, then the closed total)' '
	at "$h120" -c "down --force" >"$T/down.out" 2>&1 &&
	at "$h120" --json -c cost | py "
b = d[\"budget\"]
assert d[\"resources\"] == [] and abs(b[\"spent_usd\"] - $spent) < 0.05, (b, $spent)
assert b[\"hours_left\"] is None and b[\"usd_per_hour\"] == 0, b" || { cat "$T/down.out"; false; }'
t_ok 'unset budget removes it' 'm -c "unset budget" 2>/dev/null && m --json -c cost | py "assert d[\"budget\"] is None, d"'

# The prompt: spent/budget in its cost segment, and the warning once.
S="mlsh-budget$$"
export TMUX_TMPDIR="$T"
m -c "set budget 10" 2>/dev/null
tmux -L "$S" new-session -d -s main -x 120 -y 20 \
	"env HOME=$HOME XDG_STATE_HOME=$XDG_STATE_HOME TERM=xterm AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY AWS_REGION=us-east-1 $MLSH --norc --endpoint-url $U -w $W"
screen() { tmux -L "$S" capture-pane -p -t main 2>/dev/null; }
warned() { screen | grep -Eq "budget: workspace .tbudget. has spent .* of its \\\$10\.00 \([0-9]+%\): new starts need --over-budget"; }
prompt_seg() { screen | grep -Eq "\\\$0\.00/h \\\$[0-9]+\.[0-9]{2}/\\\$10[^0-9]"; }
# "again", then the next prompt: its tick has run.
again_done() { [ "$(screen | grep -v '^$' | tail -2 | head -1)" = again ]; }
t_ok 'the prompt shows spent/budget: over it, the warning says so once' '
	t_wait 30 warned && t_wait 30 prompt_seg || { screen; false; }'
tmux -L "$S" send-keys -t main 'echo again' Enter
t_ok '... and not again at the next prompt' '
	t_wait 30 again_done && [ "$(screen | grep -c "budget: workspace")" = 1 ] || { screen; false; }'
# Before t_done: it removes $T, and with it the server's socket.
tpid=$(tmux -L "$S" display-message -p '#{pid}' 2>/dev/null)
tmux -L "$S" kill-server 2>/dev/null
[ -n "$tpid" ] && t_wait 30 "! kill -0 $tpid"
t_done
