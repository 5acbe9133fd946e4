#!/usr/bin/env bash
# Crash-resume: `vpc up` killed with SIGKILL in the middle (its calls go
# through tests/aws/faultproxy.py, which lets one create through without
# answering and then stalls), then run again: the stack is finished with no
# duplicate. Also: the checkip stub (MLSH_CHECKIP_URL) and --allow 0.0.0.0/0.
# Loopback only: moto, the proxy and a tiny HTTP server on 127.0.0.1.
. "$TESTS_DIR/lib.sh"
: "${MOTO_URL:?tests/run starts moto and sets MOTO_URL}"
export AWS_ACCESS_KEY_ID=AKIDMLSHTEST AWS_SECRET_ACCESS_KEY=mlsh-secret-never-printed AWS_REGION=us-east-1
WS=tcrash
m() { "$MLSH" --endpoint-url "$MOTO_URL" -w "$WS" "$@"; }
awscli() { aws --endpoint-url "$MOTO_URL" --region us-east-1 --output json "$@"; }
py() { python3 -S -c "import json,sys; d=json.load(sys.stdin); $1"; }
. "$TESTS_DIR/regress/stack-lib.sh"
mkdir -p "$HOME/.ssh" && ssh-keygen -q -t ed25519 -N '' -f "$HOME/.ssh/id_ed25519"
ws_clean tcrash tint tefs tdv
STATE="$XDG_STATE_HOME/mlsh/$WS.json"

t_bg proxy '[ -s "$T/proxy.port" ]' \
	python3 "$TESTS_DIR/aws/faultproxy.py" --target "$MOTO_URL" --port-file "$T/proxy.port" ||
	{ t_done; exit 1; }
PROXY="http://127.0.0.1:$(cat "$T/proxy.port")"
script() { curl -sf -X POST --data "$1" "$PROXY/__fault__/script" >/dev/null; }

# Requests of `vpc up --types …`: offerings, SSM, 2 DescribeImages, 3 creates
# (VPC, EIP, key pair), 2 ModifyVpcAttribute, then the 8 parallel creates.
# The 10th is let through unanswered (the resource exists, mlsh never learns
# its id); everything after stalls until mlsh is killed.
faults="pass,pass,pass,pass,pass,pass,pass,pass,pass,reset-after"
for _ in $(seq 1 40); do faults="$faults,stall:60"; done

t_ok 'kill -9 in the middle of vpc up leaves a journaled intent and a created VPC' '
	script "$faults" &&
	{ "$MLSH" --endpoint-url "$PROXY" -w "$WS" -c "vpc up --allow 203.0.113.7/32 --types dl1.24xlarge" \
		>"$T/crash.out" 2>"$T/crash.err" & } ; pid=$!
	ok=1
	for _ in $(seq 1 150); do
		if grep -q "\"pending\"" "$STATE" 2>/dev/null && grep -q "\"vpc-" "$STATE" &&
		   curl -sf "$PROXY/__fault__/log" | grep -q stall; then ok=0; break; fi
		sleep 0.1
	done
	kill -9 "$pid"; wait "$pid" 2>/dev/null
	script "" ; [ $ok -eq 0 ] &&
	[ "$(counts | sed "s/ instance.*//")" != "vpc=0 subnet=0 igw=0 rt=0 eip=0 nat=0 sg=0 key=0" ]'

t_ok 'status shows the interrupted create as pending' '
	m -c status 2>/dev/null | grep -q "pending (interrupted create"'

t_ok 're-run finishes the stack with exactly one of each resource' '
	m -c "vpc up --allow 203.0.113.7/32 --types dl1.24xlarge" >"$T/rerun.out" 2>"$T/rerun.err" &&
	[ "$(counts)" = "vpc=1 subnet=2 igw=1 rt=2 eip=1 nat=1 sg=5 key=1 instance=1 efs=0" ] &&
	! grep -q "\"pending\"" "$STATE"' 
t_ok 'a third run creates nothing' '
	m -c "vpc up --types dl1.24xlarge" 2>&1 | grep -q "nothing new: all 15"'
t_ok 'down after a crash-resume leaves nothing tagged' '
	m -c "down --force" >/dev/null 2>&1 &&
	[ "$(counts)" = "vpc=0 subnet=0 igw=0 rt=0 eip=0 nat=0 sg=0 key=0 instance=0 efs=0" ]'

# The same for efs up: the mount target's create goes through unanswered.
t_ok 'kill -9 after CreateMountTarget went through; the re-run adopts it: one file system, one mount target' '
	me() { "$MLSH" --endpoint-url "$1" -w tefs -c "$2"; }
	me "$MOTO_URL" "vpc up --allow 203.0.113.7/32 --types dl1.24xlarge" >/dev/null 2>&1 &&
	f="pass,pass,pass,reset-after"; for _ in $(seq 1 20); do f="$f,stall:60"; done
	script "$f" &&
	{ "$MLSH" --endpoint-url "$PROXY" -w tefs -c "efs up" >"$T/efs.out" 2>"$T/efs.err" & } ; pid=$!
	for _ in $(seq 1 150); do curl -sf "$PROXY/__fault__/log" | grep -q stall && break; sleep 0.1; done
	kill -9 "$pid"; wait "$pid" 2>/dev/null; script ""
	grep -q "\"pending\"" "$XDG_STATE_HOME/mlsh/tefs.json" &&
	me "$MOTO_URL" "efs up" >/dev/null 2>&1 &&
	fs=$(python3 -S -c "import json;print(json.load(open(\"$XDG_STATE_HOME/mlsh/tefs.json\"))[\"resources\"][\"efs\"][\"id\"])") &&
	[ "$(counts tefs | sed "s/.*efs=//")" = 1 ] &&
	awscli efs describe-mount-targets --file-system-id "$fs" | py "assert len(d[\"MountTargets\"])==1, d" &&
	me "$MOTO_URL" "down --force" >/dev/null 2>&1 && [ "$(counts tefs)" = "vpc=0 subnet=0 igw=0 rt=0 eip=0 nat=0 sg=0 key=0 instance=0 efs=0" ]'

# Ctrl-C (SIGINT) while calls hang: mlsh stops by itself long before the
# 60 s stall ends (exit 1, not the kill -9 after 30 s: how fast is a
# benchmark's business), says how to resume, and the state is consistent
# (intents pending, nothing lost).
stalls="pass,pass,pass,pass,pass,pass,pass,pass,pass"
for _ in $(seq 1 40); do stalls="$stalls,stall:60"; done
t_ok 'Ctrl-C during vpc up stops promptly with a resumable state' '
	script "$stalls" &&
	{ "$MLSH" --endpoint-url "$PROXY" -w tint -c "vpc up --allow 203.0.113.7/32 --types dl1.24xlarge" \
		>"$T/int.out" 2>"$T/int.err" & } ; pid=$!
	for _ in $(seq 1 100); do curl -sf "$PROXY/__fault__/log" | grep -q stall && break; sleep 0.1; done
	kill -INT "$pid"
	for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null; wait "$pid"; rc=$?
	script ""
	[ "$rc" -eq 1 ] && grep -q "^vpc: interrupted (.*); the state is saved, run the command again to resume" "$T/int.err" &&
	python3 -S -c "import json; json.load(open(\"$XDG_STATE_HOME/mlsh/tint.json\"))" && grep -q "\"pending\"" "$XDG_STATE_HOME/mlsh/tint.json"'
t_ok 'after Ctrl-C, the re-run finishes and down cleans up' '
	"$MLSH" --endpoint-url "$MOTO_URL" -w tint -c "vpc up --allow 203.0.113.7/32 --types dl1.24xlarge" >/dev/null 2>&1 &&
	[ "$(counts tint)" = "vpc=1 subnet=2 igw=1 rt=2 eip=1 nat=1 sg=5 key=1 instance=1 efs=0" ] &&
	"$MLSH" --endpoint-url "$MOTO_URL" -w tint -c "down --force" >/dev/null 2>&1 &&
	[ "$(counts tint)" = "vpc=0 subnet=0 igw=0 rt=0 eip=0 nat=0 sg=0 key=0 instance=0 efs=0" ]'

# 14: the stack of vpc up (five security groups, one per role) but the VPC.
t_ok 'down retries DependencyViolation, then names what is still in use; a second down finishes' '
	mt() { "$MLSH" --endpoint-url "$MOTO_URL" -w tdv "$@"; }
	mt -c "vpc up --allow 203.0.113.7/32 --types dl1.24xlarge" >/dev/null 2>&1 &&
	vpc=$(python3 -S -c "import json;print(json.load(open(\"$XDG_STATE_HOME/mlsh/tdv.json\"))[\"resources\"][\"vpc\"][\"id\"])") &&
	sn=$(awscli ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.0.9.0/24 | py "print(d[\"Subnet\"][\"SubnetId\"])") &&
	out=$(MLSH_DEPENDENCY_TIMEOUT=2 mt -c "down --force" 2>&1); rc=$?
	awscli ec2 delete-subnet --subnet-id "$sn" &&
	{ [ $rc -eq 1 ] && grep -q "^down: vpc vpc-.* is still in use after 2 s: ec2: DependencyViolation" <<<"$out" &&
	grep -q "removed 14 resources before the error" <<<"$out" || { echo "$out"; false; }; } &&
	mt -c "down --force" >/dev/null 2>&1 && [ "$(counts tdv)" = "vpc=0 subnet=0 igw=0 rt=0 eip=0 nat=0 sg=0 key=0 instance=0 efs=0" ]'

# checkip: a stub on loopback answers the caller's address.
mkdir -p "$T/www" && echo "198.51.100.23" >"$T/www/ip"
port=$(t_free_port)
t_bg http "curl -sf -o /dev/null http://127.0.0.1:$port/ip" \
	python3 -m http.server --bind 127.0.0.1 --directory "$T/www" "$port"
t_ok 'without --allow, ssh is opened to the address checkip answers, as a /32' '
	out=$(MLSH_CHECKIP_URL="http://127.0.0.1:$port/ip" "$MLSH" --endpoint-url "$MOTO_URL" -w tcheckip \
		-c "vpc up --types dl1.24xlarge --dry-run" 2>/dev/null) &&
	grep -q "AuthorizeSecurityGroupIngress  *sg-jump  *tcp 22 from 198.51.100.23/32" <<<"$out"'
t_ok 'a checkip failure is one clear line asking for --allow' '
	out=$(MLSH_CHECKIP_URL="http://127.0.0.1:$port/missing" "$MLSH" --endpoint-url "$MOTO_URL" -w tcheckip \
		-c "vpc up --types dl1.24xlarge --dry-run" 2>&1); [ $? -eq 1 ] &&
	[ "$(wc -l <<<"$out")" -eq 1 ] && grep -q "^vpc: cannot find your public address .*pass --allow CIDR" <<<"$out"'
t_ok '--allow 0.0.0.0/0 is taken only when given, with a warning' '
	out=$("$MLSH" --endpoint-url "$MOTO_URL" -w tcheckip -c "vpc up --allow 0.0.0.0/0 --types dl1.24xlarge --dry-run" 2>&1) &&
	grep -q "warning: --allow 0.0.0.0/0 opens SSH on the jump host to the whole internet" <<<"$out" &&
	grep -q "tcp 22 from 0.0.0.0/0" <<<"$out"'
t_ok 'no public key: one line naming what to do' '
	out=$(HOME="$T/nokey" "$MLSH" --endpoint-url "$MOTO_URL" -w tcheckip -c "vpc up --allow 203.0.113.7/32 --types dl1.24xlarge --dry-run" 2>&1)
	[ $? -eq 1 ] && grep -q "^vpc: no public key in ~/.ssh .*--key PATH" <<<"$out"'
t_ok '--key PATH imports that key; a file that is no public key is refused' '
	ssh-keygen -q -t ed25519 -N "" -f "$T/other" &&
	"$MLSH" --endpoint-url "$MOTO_URL" -w tkey -c "vpc up --allow 203.0.113.7/32 --types dl1.24xlarge --key $T/other.pub --dry-run" 2>/dev/null |
		grep -q "ImportKeyPair  *key  *KeyName=tkey-key from $T/other.pub" &&
	out=$("$MLSH" --endpoint-url "$MOTO_URL" -w tkey -c "vpc up --allow 203.0.113.7/32 --types dl1.24xlarge --key $T/other --dry-run" 2>&1)
	[ $? -eq 1 ] && grep -q "^vpc: .*is not an OpenSSH public key" <<<"$out"'
t_bg_stop_all
t_done
