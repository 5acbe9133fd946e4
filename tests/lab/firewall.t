#!/usr/bin/env bash
# The lab enforces the VPC's security groups and route tables (nftables inside
# each host's own namespace, derived by the reconciler): the allowed path
# works, what AWS would drop is dropped (a wrong --allow, a node group without
# the jump host's rule, a port no rule opens, a public subnet without its
# route to the internet gateway), mlsh says when the user's address is not in
# --allow, and the root namespace's firewall is never touched. Needs root.
# Every packet here goes between the lab's own namespaces.
. "$TESTS_DIR/lib.sh"
[ "$(id -u)" = 0 ] || { echo "not ok - the lab tests run as root"; exit 1; }
command -v nft >/dev/null || { echo "not ok - nft is not installed (make deps)"; exit 1; }

export MLSH_LAB_NAME="mlshfw$$"
NS="$MLSH_LAB_NAME"
unset MLSH_CHECKIP_URL		# the lab answers checkip itself
m() { "$MLSH" --norc --lab "$@"; }
py() { python3 -S -c "import json,sys; d=json.load(sys.stdin); $1"; }
# Read-only views of the root namespace's firewall.
root_fw() { nft list ruleset 2>&1; command -v iptables-save >/dev/null && iptables-save 2>/dev/null | grep -v '^#'; }
root_fw > "$T/fw.before"
cleanup() { "$MLSH" --norc lab down >/dev/null 2>&1; }
trap cleanup EXIT
mkdir -p "$HOME/.ssh" && ssh-keygen -q -t ed25519 -N "" -f "$HOME/.ssh/id_ed25519"

# Bounded waits (0.2 s a try).
wait_for() { local n=$1; shift; for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.2; done; return 1; }
rec() { python3 -S -c "import json;print(json.load(open('$XDG_STATE_HOME/mlsh/fw.json'))['resources']['$1']$2)"; }
loaded() { # instance-id pattern: the host's loaded ruleset has it
	ip netns exec "$NS-$1" nft list table ip mlshlab 2>/dev/null | grep -q -- "$2"; }
not_loaded() { ! loaded "$@"; }
# A TCP connect from the client namespace, 3 s at most.
ctcp() { timeout 5 ip netns exec "$NS-client" bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

t_ok 'the lab answers checkip with the client'\''s address, in the lab only' '
	"$MLSH" --norc lab up >/dev/null &&
	out=$(ip netns exec "$NS-client" curl -s -m 5 http://198.18.0.1:8080/) && [ "$out" = 198.18.0.2 ]'
t_ok 'vpc up without --allow opens ssh to the lab client'\''s address' '
	m -c "workspace fw; vpc up --yes" >"$T/up.log" 2>&1 &&
	[ "$(rec sg-jump "[\"attrs\"][\"allow\"]")" = 198.18.0.2/32 ]' 
J=$(rec jump '["id"]'); JPUB=$(rec jump '["attrs"]["public_ip"]'); JIP=$(rec jump '["attrs"]["private_ip"]')
t_ok 'the jump host'\''s ruleset lives in its own namespace: default drop, stateful, 22 from --allow' '
	wait_for 50 loaded "$J" "ip saddr 198.18.0.2 tcp dport 22 accept" &&
	ip netns exec "$NS-$J" nft list table ip mlshlab | grep -q "policy drop" &&
	ip netns exec "$NS-$J" nft list table ip mlshlab | grep -q "ct state established,related accept"'
t_ok 'allowed: ssh through the jump host to a node' '
	m -c "efs up; node dl1 up --yes" >"$T/node.log" 2>&1 &&
	m -c "ssh dl1-1 hostname" | grep -q "^ip-10-"'
N=$(rec dl1-1 '["id"]'); NIP=$(rec dl1-1 '["attrs"]["private_ip"]')
SGN=$(rec sg-nodes '["id"]'); SGJ=$(rec sg-jump '["id"]')
# From the jump host to the node's port 22 (a connect, 3 s at most).
jump_to_node() { m -c "ssh jump 'timeout 3 bash -c \"exec 3<>/dev/tcp/$NIP/22\"'" >/dev/null 2>&1; }

# A listener on the jump host's port 8081: only the firewall stands between.
m -c "ssh jump 'nohup python3 -m http.server 8081 >/dev/null 2>&1 </dev/null & exit 0'" >/dev/null 2>&1
t_ok 'a port no rule opens is dropped (the listener answers inside the host)' '
	wait_for 50 ip netns exec "$NS-$J" bash -c "exec 3<>/dev/tcp/127.0.0.1/8081" 2>/dev/null &&
	! ctcp "$JPUB" 8081'
t_ok 'a rule for that port opens it; revoking it closes it again' '
	m -c "api ec2 AuthorizeSecurityGroupIngress GroupId=$SGJ IpPermissions.1.IpProtocol=tcp IpPermissions.1.FromPort=8080 IpPermissions.1.ToPort=8090 IpPermissions.1.IpRanges.1.CidrIp=198.18.0.2/32" >/dev/null &&
	wait_for 50 loaded "$J" "tcp dport 8080-8090" && ctcp "$JPUB" 8081 &&
	m -c "api ec2 RevokeSecurityGroupIngress GroupId=$SGJ IpPermissions.1.IpProtocol=tcp IpPermissions.1.FromPort=8080 IpPermissions.1.ToPort=8090 IpPermissions.1.IpRanges.1.CidrIp=198.18.0.2/32" >/dev/null &&
	wait_for 50 not_loaded "$J" "tcp dport 8080-8090" && ! ctcp "$JPUB" 8081'

# vpc up admits ssh to sg-nodes from sg-jump only (a source-group rule; moto
# matches a rule to revoke with its description).
t_ok 'a node group without a rule for the jump host refuses its ssh' '
	jump_to_node &&
	m -c "api ec2 RevokeSecurityGroupIngress GroupId=$SGN IpPermissions.1.IpProtocol=tcp IpPermissions.1.FromPort=22 IpPermissions.1.ToPort=22 IpPermissions.1.Groups.1.GroupId=$SGJ \"IpPermissions.1.Groups.1.Description=ssh from the jump host\"" >/dev/null &&
	wait_for 50 not_loaded "$N" "ip saddr $JIP tcp dport 22 accept" && ! jump_to_node'
t_ok 'a rule naming the jump host'\''s group as source lets it in again' '
	m -c "api ec2 AuthorizeSecurityGroupIngress GroupId=$SGN IpPermissions.1.IpProtocol=tcp IpPermissions.1.FromPort=22 IpPermissions.1.ToPort=22 IpPermissions.1.Groups.1.GroupId=$SGJ" >/dev/null &&
	wait_for 50 loaded "$N" "ip saddr $JIP tcp dport 22 accept" && jump_to_node &&
	m -c "ssh dl1-1 true"'

t_ok 'vpc up --allow with another address: ssh jump is dropped, and mlsh says why' '
	m -c "vpc up --allow 203.0.113.7/32 --yes" >/dev/null 2>&1 &&
	wait_for 50 loaded "$J" "203.0.113.7" && wait_for 50 not_loaded "$J" "198.18.0.2" &&
	! m -c "ssh jump true" 2>"$T/err" &&
	[ "$(wc -l <"$T/err")" -eq 1 ] &&
	grep -q "^ssh: jump $JPUB:22: .*timed out.*: your address 198.18.0.2 is not in the jump host'\''s --allow (203.0.113.7/32); '\''vpc up --allow 198.18.0.2/32'\'' lets it in$" "$T/err"'
t_ok 'vpc up --allow with the client'\''s address lets it in again' '
	m -c "vpc up --allow 198.18.0.2/32 --yes" >/dev/null 2>&1 &&
	wait_for 50 loaded "$J" "198.18.0.2" && m -c "ssh jump true"'

RTP=$(rec rt-public '["id"]'); IGW=$(rec igw '["id"]')
t_ok 'a public subnet without its route to the internet gateway drops the public IP' '
	m -c "api ec2 DeleteRoute RouteTableId=$RTP DestinationCidrBlock=0.0.0.0/0" >/dev/null &&
	wait_for 50 loaded "$J" "iifname \"eth1\" drop" && ! ctcp "$JPUB" 22 &&
	m -c "api ec2 CreateRoute RouteTableId=$RTP DestinationCidrBlock=0.0.0.0/0 GatewayId=$IGW" >/dev/null &&
	wait_for 50 not_loaded "$J" "eth1" && ctcp "$JPUB" 22'

t_ok 'no ruleset is loaded twice (only on a change)' '
	n=$(grep -c "$N: security groups applied" "$XDG_STATE_HOME/mlsh/lab/reconciler.log") &&
	sleep 1 && [ "$(grep -c "$N: security groups applied" "$XDG_STATE_HOME/mlsh/lab/reconciler.log")" = "$n" ]'
t_ok 'hosts stay sealed: no route out of a host' '
	ip -n "$NS-$J" route get 192.0.2.1 2>&1 | grep -q "Network is unreachable" &&
	ip -n "$NS-$N" route get 192.0.2.1 2>&1 | grep -q "Network is unreachable"'
t_ok 'down, then lab down' 'm -c "down --force" >/dev/null 2>&1; "$MLSH" --norc lab down >/dev/null'
t_ok 'the root namespace'\''s firewall is unchanged (read with nft list ruleset)' '
	root_fw > "$T/fw.after"; diff "$T/fw.before" "$T/fw.after"'
t_done
