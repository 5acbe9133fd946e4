# Lab: `lab up` time, and RunInstances -> host accepting SSH (targets: < 5 s, < 1 s).
set -u
[ "$(id -u)" = 0 ] || { echo "  (needs root)"; exit 0; }
M=$(pwd)/mlsh
tmp=$(mktemp -d); trap '"$M" --norc lab down >/dev/null 2>&1; rm -rf "$tmp"' EXIT
export XDG_STATE_HOME=$tmp MLSH_LAB_NAME=mlshbench
ms() { echo $(( $(date +%s%N) / 1000000 )); }
t0=$(ms); "$M" --norc lab up >/dev/null || exit 1; t1=$(ms)
echo "  lab up: $((t1 - t0)) ms (target < 5000)"
ssh-keygen -q -t ed25519 -N "" -f "$tmp/key"
m() { "$M" --norc --lab --json -c "$1"; }
py() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }
vpc=$(m "api ec2 CreateVpc CidrBlock=10.9.0.0/16" | py 'print(d["Vpc"]["VpcId"])')
sn=$(m "api ec2 CreateSubnet VpcId=$vpc CidrBlock=10.9.1.0/24" | py 'print(d["Subnet"]["SubnetId"])')
m "api ec2 ImportKeyPair KeyName=b PublicKeyMaterial=$(base64 -w0 < "$tmp/key.pub")" >/dev/null
for i in 1 2 3; do
	t0=$(ms)
	ip=$(m "api ec2 RunInstances ImageId=ami-0a1b2c3d4e5f60001 MinCount=1 MaxCount=1 KeyName=b NetworkInterface.1.DeviceIndex=0 NetworkInterface.1.SubnetId=$sn NetworkInterface.1.AssociatePublicIpAddress=true" |
		py 'print(d["Instances"][0]["InstanceId"])')
	pub=$(m "api ec2 DescribeInstances InstanceId.1=$ip" | py 'print(d["Reservations"][0]["Instances"][0]["PublicIpAddress"])')
	t1=$(ms)
	for _ in $(seq 1 100); do
		ip netns exec mlshbench-client ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
			-o LogLevel=ERROR -o ConnectTimeout=2 -o BatchMode=yes -i "$tmp/key" ubuntu@"$pub" true 2>/dev/null && break
		sleep 0.05
	done
	t2=$(ms)
	echo "  RunInstances answered in $((t1 - t0)) ms; host accepted SSH $((t2 - t1)) ms later (target < 1000; includes ~200 ms of OpenSSH's own handshake)"
done
