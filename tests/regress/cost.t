#!/usr/bin/env bash
# Cost that is true (issue 12, item 2) against moto: a stopped node costs $0
# of compute while its root volume keeps costing, a restart does not charge
# the stopped time, a stop made outside mlsh is dated from the instance's
# StateTransitionReason, and a down interrupted by Ctrl-C then run again
# reports the whole cost. The engine's clock is moved with
# MLSH_TEST_CLOCK_OFFSET (seconds), never by sleeping. cost --json gives
# numbers, the total apart.
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/regress/stack-lib.sh"
export AWS_ACCESS_KEY_ID=AKIDMLSHTEST AWS_SECRET_ACCESS_KEY=mlsh-secret AWS_REGION=us-east-1

t_moto MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_AMIS_PATH="$TESTS_DIR/regress/amis.json" ||
	{ t_done; exit 1; }
U=$MOTO_URL
W=tcost
m() { "$MLSH" --norc --endpoint-url "$U" -w "$W" "$@"; }
at() { local o=$1; shift; MLSH_TEST_CLOCK_OFFSET=$o m "$@"; }
awscli() { aws --endpoint-url "$U" --region us-east-1 --output json "$@"; }
py() { python3 -S -c "import json,sys; d=json.load(sys.stdin); $1"; }
sid() { python3 -S -c "import json,sys; print(json.load(open(sys.argv[1]))['resources'][sys.argv[2]]['id'])" \
	"$XDG_STATE_HOME/mlsh/$W.json" "$1"; }
# A cost --json row by role: R["dl1-1"], R["dl1-1/ebs"].
rows='R={x["role"]: x for x in d["resources"] + d["removed"]}'
mkdir -p "$HOME/.ssh" && ssh-keygen -q -t ed25519 -N '' -f "$HOME/.ssh/id_ed25519"

EBS_H=$(python3 -c "print(200 * 0.08 / 730)")	# dl1's 200 GB gp3 root, $/h

t_ok 'the stack and a dl1 node come up (clock unmoved)' '
	m -c "vpc up --allow 203.0.113.7/32 --types dl1.24xlarge; efs up; node dl1 up" >"$T/up.out" 2>&1 ||
	{ cat "$T/up.out"; false; }'

t_ok 'cost --json: numbers, not strings; the total and the price date apart from the rows' '
	m --json -c cost | py "$rows
assert R[\"dl1-1\"][\"usd_per_hour\"] == 13.11 and R[\"dl1-1\"][\"state\"] == \"running\", R[\"dl1-1\"]
assert abs(R[\"dl1-1/ebs\"][\"usd_per_hour\"] - $EBS_H) < 1e-6, R[\"dl1-1/ebs\"]
assert isinstance(d[\"total\"][\"usd_per_hour\"], float) and isinstance(d[\"total\"][\"accrued_usd\"], (int, float))
assert \"total\" not in R and d[\"total\"][\"some_prices_unknown\"] is False
assert d[\"prices\"] == {\"region\": \"us-east-1\", \"as_of\": \"2022-01\", \"overridden\": False}, d[\"prices\"]"'
t_ok 'node ls --json agrees: usd_per_hour and accrued_usd are numbers' '
	m --json -c "node ls" | py "
n = {x[\"name\"]: x for x in d}[\"dl1-1\"]
assert n[\"usd_per_hour\"] == 13.11 + $EBS_H and isinstance(n[\"accrued_usd\"], (int, float)), n"'
t_ok 'the Lua result is the same data: numbers, the total apart' '
	out=$(m -c "lua \"local c = cost(); print(math.type(c.total.usd_per_hour), #c.resources > 0, c.prices.as_of)\"") &&
	[ "$out" = "$(printf "float\ttrue\t2022-01")" ] || { echo "$out"; false; }'

# The jump host is stopped behind mlsh's back; a refresh an hour later dates
# the stop from its StateTransitionReason, not from when mlsh noticed.
t_ok 'a stop made outside mlsh is seen on status --refresh (StateTransitionReason)' '
	awscli ec2 stop-instances --instance-ids "$(sid jump)" >/dev/null &&
	awscli ec2 describe-instances --instance-ids "$(sid jump)" |
	    py "import re; r=d[\"Reservations\"][0][\"Instances\"][0][\"StateTransitionReason\"]; assert re.search(r\"\(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (GMT|UTC)\)\", r), r" &&
	at 3600 -c "status --refresh" >/dev/null 2>&1'

t_ok 'node dl1-1 stop' 'm -c "node dl1-1 stop" >/dev/null 2>&1'

t_ok 'two hours on: the stopped node has cost no compute since, its volume has' '
	at 7200 --json -c cost | py "$rows
c, e = R[\"dl1-1\"], R[\"dl1-1/ebs\"]
assert c[\"state\"] == \"stopped\" and c[\"usd_per_hour\"] == 0, c
assert abs(e[\"usd_per_hour\"] - $EBS_H) < 1e-6, e
# ran for seconds (billed a minute at least), not two hours (\$26.22)
assert c[\"accrued_usd\"] < 13.11 * 0.1 and c[\"running_h\"] < 0.1, c
assert abs(c[\"stopped_h\"] - 2.0) < 0.05, c
assert abs(e[\"accrued_usd\"] - $EBS_H * (c[\"running_h\"] + c[\"stopped_h\"])) < 1e-4, e
assert abs(d[\"total\"][\"usd_per_hour\"] - sum(r[\"usd_per_hour\"] for r in d[\"resources\"])) < 1e-6, d[\"total\"]"'
t_ok 'the jump host: stopped since the time in its StateTransitionReason, not since the refresh' '
	at 7200 --json -c cost | py "$rows
j = R[\"jump\"]
assert j[\"running_h\"] < 0.1 and abs(j[\"stopped_h\"] - 2.0) < 0.05, j"'

t_ok 'a restart two hours on does not charge the stopped time' '
	at 7200 -c "node dl1-1 start" >/dev/null 2>&1 &&
	at 10800 --json -c cost | py "$rows
c = R[\"dl1-1\"]
assert c[\"state\"] == \"running\" and c[\"usd_per_hour\"] == 13.11, c
assert abs(c[\"running_h\"] - 1.0) < 0.1 and abs(c[\"stopped_h\"] - 2.0) < 0.05, c
assert abs(c[\"accrued_usd\"] - 13.11 * c[\"running_h\"]) < 1e-3, c
assert abs(R[\"dl1-1/ebs\"][\"accrued_usd\"] - $EBS_H * 3) < 0.01, R[\"dl1-1/ebs\"]"'
t_ok 'the human table says running/stopped hours and the price date' '
	at 10800 -c cost >"$T/cost.out" 2>"$T/cost.err" &&
	grep -q "^dl1-1 .*running .*\$13.1100 " "$T/cost.out" && grep -q "^total " "$T/cost.out" &&
	grep -q "prices for us-east-1 as of 2022-01" "$T/cost.err"'

t_ok 'prices are per region, dated; a kind not offered there is unknown, never $0' '
	m --region eu-west-1 --json -c "cost --prices" | py "
p = {x[\"key\"]: x for x in d}
assert p[\"t3.nano\"][\"price\"] == 0.0057 and p[\"t3.nano\"][\"as_of\"] == \"2024-06\" and p[\"nat-gateway\"][\"price\"] == 0.048, p
assert \"dl1.24xlarge\" not in p" &&
	m --region us-west-2 --json -c "cost --prices" | py "
p = {x[\"key\"]: x for x in d}; assert p[\"dl1.24xlarge\"][\"price\"] == 13.11 and p[\"t3.nano\"][\"as_of\"] == \"2024-06\", p"'
t_ok 'a price table per region in ~/.mlshrc overrides that region only' '
	printf "%s\n" "prices = { [\"us-east-1\"] = { [\"dl1.24xlarge\"] = 20 }, [\"us-west-2\"] = { [\"t3.nano\"] = 1 } }" >"$HOME/.mlshrc" &&
	MLSH_TEST_CLOCK_OFFSET=10800 "$MLSH" --endpoint-url "$U" -w "$W" --json -c cost | py "$rows
assert R[\"dl1-1\"][\"usd_per_hour\"] == 20 and R[\"jump\"][\"usd_per_hour\"] == 0 and d[\"prices\"][\"overridden\"], (R[\"dl1-1\"], R[\"jump\"])" &&
	"$MLSH" --endpoint-url "$U" --region us-west-2 --json -c "cost --prices" | py "
p = {x[\"key\"]: x for x in d}; assert p[\"t3.nano\"][\"price\"] == 1 and p[\"t3.nano\"][\"source\"] == \"config\" and p[\"t3.micro\"][\"source\"] == \"built-in\", p"; rc=$?
	rm -f "$HOME/.mlshrc"; exit $rc'

# Ctrl-C in the middle of down: the proxy holds DeleteNatGateway (after the
# instances are gone) until mlsh is interrupted.
before=$(at 10800 --json -c cost | py 'print(d["total"]["accrued_usd"])')
t_bg fault "[ -s $T/fp.port ]" python3 "$TESTS_DIR/aws/faultproxy.py" --target "$U" \
	--faults "DeleteNatGateway=stall:60" --port-file "$T/fp.port"
FP="http://127.0.0.1:$(cat "$T/fp.port" 2>/dev/null)"
t_ok 'down, interrupted by Ctrl-C while deleting the NAT gateway' '
	MLSH_TEST_CLOCK_OFFSET=10800 "$MLSH" --norc --endpoint-url "$FP" -w "$W" -c "down --force" >"$T/d1.out" 2>"$T/d1.err" & p=$!
	t_wait 60 "curl -s $FP/__fault__/log | grep -q DeleteNatGateway"; seen=$?
	kill -INT $p; t_wait 20 "! kill -0 $p 2>/dev/null" || kill -9 $p; wait $p; rc=$?
	[ $seen -eq 0 ] && [ $rc -ne 0 ] &&
	grep -q "^down: removed [0-9]* resources before the error" "$T/d1.err" || { cat "$T/d1.out" "$T/d1.err"; false; }'
t_ok 'cost after it still counts what the removed node and jump host cost' '
	at 10800 --json -c cost | py "
rm = {x[\"role\"]: x for x in d[\"removed\"]}
assert rm[\"dl1-1\"][\"state\"] == \"removed\" and rm[\"dl1-1\"][\"accrued_usd\"] > 13.11 * 0.9, rm
assert rm[\"dl1-1\"][\"id\"].startswith(\"i-\") and abs(rm[\"dl1-1\"][\"stopped_h\"] - 2.0) < 0.05, rm
assert \"jump\" in rm and abs(d[\"total\"][\"accrued_usd\"] - $before) < 0.1, (d[\"total\"], $before)"'
t_ok 'a second down reports the whole cost, the interrupted run included' '
	at 10800 -c "down --force" >"$T/d2.out" 2>"$T/d2.err" &&
	python3 -c "
import re, sys
m = re.search(r\"the workspace cost \\\$([0-9.]+) \((\d+) resources removed by an earlier run included\)\", open(sys.argv[1]).read())
assert m and abs(float(m.group(1)) - $before) < 0.1 and int(m.group(2)) >= 2, (m and m.groups(), $before)" "$T/d2.err" ||
	{ cat "$T/d2.err"; false; }'
t_ok 'and the ledger is closed: the next stack starts from $0' '
	m --json -c cost | py "assert d[\"removed\"] == [] and d[\"total\"][\"accrued_usd\"] == 0, d" &&
	python3 -c "
import json, sys
l = json.load(open(sys.argv[1]))[\"ledger\"]
assert l[\"closed\"][-1][\"resources\"] >= 3 and abs(l[\"closed\"][-1][\"usd\"] - $before) < 0.1, l" "$XDG_STATE_HOME/mlsh/$W.json"'
t_done
