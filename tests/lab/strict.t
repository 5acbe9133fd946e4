#!/usr/bin/env bash
# strict.t: `lab up --strict` puts the strict AWS (tests/strict/strictaws.py,
# every switch on) in front of the lab's moto: `lab status` says so, the
# catalogue answers DescribeImages, an instance still becomes a host, and
# `lab down` leaves nothing. Needs root.
. "$TESTS_DIR/lib.sh"
[ "$(id -u)" = 0 ] || { echo "not ok - the lab tests run as root"; exit 1; }

export MLSH_LAB_NAME="mlshst$$"		# beside any other lab on the machine
NS="$MLSH_LAB_NAME"
m() { "$MLSH" --norc --lab "$@"; }
py() { python3 -S -c "import json,sys; d=json.load(sys.stdin); $1"; }
cleanup() { "$MLSH" --norc lab down >/dev/null 2>&1; }
trap cleanup EXIT

# The status's health check has a 3 s timeout: on a loaded machine one try
# may miss it, so status is asked up to 10 times.
ctrl_ok='r=[r for r in d if r["component"]=="control-plane"][0]; assert r["state"]=="answering" and r["detail"].startswith("strict"), r'
t_ok 'lab up --strict: the control plane answers and is the strict AWS' '
	"$MLSH" --norc lab up --strict >/dev/null &&
	for _ in $(seq 1 10); do
		out=$("$MLSH" --norc lab status --json) && py "$ctrl_ok" <<<"$out" 2>/dev/null && break
		sleep 1
	done && py "$ctrl_ok" <<<"$out"'

t_ok 'every switch is on (control API from the client namespace)' '
	ip netns exec "$NS-client" curl -sf http://198.18.0.1:5000/_strict/config |
		py "assert {\"catalogue\",\"consistency\",\"iam\",\"states\",\"spot_persistent\"} <= set(d), d"'

t_out 'DescribeImages answers from the catalogue' 'Deep Learning AMI Habana PyTorch 2.1.1 SynapseAI 1.14.0 (Ubuntu 22.04) 20250115' '
	m --json -c "api ec2 DescribeImages Owner.1=898082745236 Filter.1.Name=name Filter.1.Value.1=*Habana*PyTorch*Ubuntu*" |
		py "print(\"\\n\".join(i[\"Name\"] for i in d[\"Images\"]))"'

# Every switch is on: a new id is NotFound for up to 3 requests naming it,
# so each call naming one is tried up to 5 times (what a client must do).
api() { local i; for i in 1 2 3 4 5; do m --json -c "api $1" 2>/dev/null && return 0; done; return 1; }
t_ok 'an instance of a catalogue image in a subnet becomes a running host' '
	vpc=$(api "ec2 CreateVpc CidrBlock=10.0.0.0/16" | py "print(d[\"Vpc\"][\"VpcId\"])") &&
	sub=$(api "ec2 CreateSubnet VpcId=$vpc CidrBlock=10.0.1.0/24" | py "print(d[\"Subnet\"][\"SubnetId\"])") &&
	id=$(api "ec2 RunInstances ImageId=ami-0c0a0000000000002 MinCount=1 MaxCount=1 InstanceType=t3.nano SubnetId=$sub" |
		py "print(d[\"Instances\"][0][\"InstanceId\"])") &&
	for _ in $(seq 1 60); do
		st=$(m --json -c "lab status" | py "print(next((r[\"state\"] for r in d if r[\"id\"]==\"$id\"), \"none\"))")
		[ "$st" = running ] && break; sleep 0.5
	done; [ "$st" = running ]'

t_err 'a strict lab is not taken for a plain one the other way round' \
	'' 0 '"$MLSH" --norc lab up >/dev/null'

t_ok 'lab down leaves no namespace' '
	"$MLSH" --norc lab down >/dev/null && ! ip netns list | grep -q "^$NS"'

t_done
