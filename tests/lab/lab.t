#!/usr/bin/env bash
# The lab through mlsh: `lab up`, instances made with `api ec2 RunInstances`
# (mlsh's own AWS layer, through the lab's client namespace) become SSH hosts;
# the private one only through the jump host; user-data; EFS on two hosts;
# stop/start/terminate; hermetic; `lab down` leaves nothing. Needs root.
. "$TESTS_DIR/lib.sh"
[ "$(id -u)" = 0 ] || { echo "not ok - the lab tests run as root"; exit 1; }

export MLSH_LAB_NAME="mlshlt$$"		# beside any other lab on the machine
NS="$MLSH_LAB_NAME"
m() { "$MLSH" --norc --lab "$@"; }
py() { python3 -S -c "import json,sys; d=json.load(sys.stdin); $1"; }
root_net() { ip -o addr; ip route; ip -o link | sed 's/ qlen.*//'; ip rule; }
root_net > "$T/net.before" 2>&1
cleanup() { "$MLSH" --norc lab down >/dev/null 2>&1; }
trap cleanup EXIT

t_ok 'lab up starts the control plane and the reconciler' '
	out=$("$MLSH" --norc lab up --json) &&
	py "s={r[\"component\"]:r[\"state\"] for r in d}; assert s[\"control-plane\"]==\"answering\" and s[\"reconciler\"]==\"running\", s" <<<"$out"'
t_ok 'lab up again is a no-op' '"$MLSH" --norc lab up >/dev/null'

ssh-keygen -q -t ed25519 -N "" -f "$T/key"
K=$(base64 -w0 < "$T/key.pub")
UD=$(printf '#!/bin/sh\necho "user-data ran on $(hostname)" > /tmp/ud-ran\necho x >> /var/tmp/ud-count\n' | base64 -w0)
vpc=$(m --json -c "api ec2 CreateVpc CidrBlock=10.0.0.0/16" | py 'print(d["Vpc"]["VpcId"])')
pub=$(m --json -c "api ec2 CreateSubnet VpcId=$vpc CidrBlock=10.0.1.0/24" | py 'print(d["Subnet"]["SubnetId"])')
priv=$(m --json -c "api ec2 CreateSubnet VpcId=$vpc CidrBlock=10.0.2.0/24" | py 'print(d["Subnet"]["SubnetId"])')
m -c "api ec2 ImportKeyPair KeyName=lab-t PublicKeyMaterial=$K" >/dev/null
# The lab enforces security groups and route tables as AWS does: the public
# subnet needs its route to an internet gateway, and the instances (in the
# VPC's default group) SSH from the client. AWS's default group admits its
# own members; moto's lacks that rule, so it is added here.
igw=$(m --json -c "api ec2 CreateInternetGateway" | py 'print(d["InternetGateway"]["InternetGatewayId"])')
m -c "api ec2 AttachInternetGateway InternetGatewayId=$igw VpcId=$vpc" >/dev/null
rtb=$(m --json -c "api ec2 DescribeRouteTables Filter.1.Name=vpc-id Filter.1.Value.1=$vpc" | py 'print(d["RouteTables"][0]["RouteTableId"])')
m -c "api ec2 CreateRoute RouteTableId=$rtb DestinationCidrBlock=0.0.0.0/0 GatewayId=$igw" >/dev/null
dsg=$(m --json -c "api ec2 DescribeSecurityGroups Filter.1.Name=vpc-id Filter.1.Value.1=$vpc Filter.2.Name=group-name Filter.2.Value.1=default" | py 'print(d["SecurityGroups"][0]["GroupId"])')
m -c "api ec2 AuthorizeSecurityGroupIngress GroupId=$dsg IpPermissions.1.IpProtocol=tcp IpPermissions.1.FromPort=22 IpPermissions.1.ToPort=22 IpPermissions.1.IpRanges.1.CidrIp=198.18.0.2/32 IpPermissions.2.IpProtocol=-1 IpPermissions.2.Groups.1.GroupId=$dsg" >/dev/null
run() { # subnet public(true/false) -> "id ip"
	m --json -c "api ec2 RunInstances ImageId=ami-0a1b2c3d4e5f60001 MinCount=1 MaxCount=1 InstanceType=t3.nano KeyName=lab-t UserData=$UD NetworkInterface.1.DeviceIndex=0 NetworkInterface.1.SubnetId=$1 NetworkInterface.1.AssociatePublicIpAddress=$2" |
		py 'i=d["Instances"][0]; print(i["InstanceId"], i["PrivateIpAddress"])'
}
read -r jid jip <<<"$(run "$pub" true)"
read -r nid nip <<<"$(run "$priv" false)"
jpub=$(m --json -c "api ec2 DescribeInstances InstanceId.1=$jid" | py 'print(d["Reservations"][0]["Instances"][0]["PublicIpAddress"])')
t_ok 'RunInstances through mlsh made two instances' '[ -n "$jid" ] && [ -n "$nid" ] && [ -n "$jpub" ]'

host_state() { m --json -c "lab status" | py "print(next((r[\"state\"] for r in d if r[\"id\"]==\"$1\"), \"none\"))"; }
wait_state() { # id state: at most ~10 s
	for _ in $(seq 1 150); do [ "$(host_state "$1")" = "$2" ] && return 0; sleep 0.2; done
	echo "$1 is $(host_state "$1"), not $2"; return 1
}
t_ok 'both become running hosts within seconds' 'wait_state "$jid" running && wait_state "$nid" running'

O=(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=30 -o BatchMode=yes -i "$T/key")
cssh() { ip netns exec "$NS-client" ssh "${O[@]}" "$@"; }
jssh() { cssh -o "ProxyCommand=ssh ${O[*]} -W %h:%p ubuntu@$jpub" "$@"; }
# sshd may take a moment after the host appears: bounded retries.
retry() { for _ in $(seq 1 25); do "$@" && return 0; sleep 0.2; done; return 1; }

t_ok 'the jump host answers SSH on its public IP' 'retry cssh ubuntu@"$jpub" true'
t_ok 'the private host answers only through the jump host' 'retry jssh ubuntu@"$nip" true'
t_ok 'the client has no route to the private host' \
	'ip -n "$NS-client" route get "$nip" 2>&1 | grep -q "Network is unreachable"'
t_ok 'user-data ran on both, as root, once' '
	cssh ubuntu@"$jpub" cat /tmp/ud-ran | grep -q "user-data ran on" &&
	jssh ubuntu@"$nip" cat /tmp/ud-ran | grep -q "user-data ran on"'
t_ok 'the control plane is reachable from a host (AWS_ENDPOINT_URL)' '
	jssh ubuntu@"$nip" '"'"'curl -s -o /dev/null -w "%{http_code}" "$AWS_ENDPOINT_URL/moto-api/"'"'"' | grep -qx 200'

fs=$(m --json -c "api efs CreateFileSystem '{\"CreationToken\":\"lab-t\",\"Encrypted\":true}'" | py 'print(d["FileSystemId"])')
mt=$(m --json -c "api efs CreateMountTarget '{\"FileSystemId\":\"$fs\",\"SubnetId\":\"$priv\"}'" | py 'print(d["IpAddress"])')
MOUNT="sudo mkdir -p /efs && sudo mount -t nfs4 -o nfsvers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2,noresvport $mt:/ /efs"
t_ok 'EFS: a file written on one host is read on the other' '
	retry jssh ubuntu@"$nip" "$MOUNT" && retry cssh ubuntu@"$jpub" "$MOUNT" &&
	cssh ubuntu@"$jpub" "echo shared-$$ | sudo tee /efs/hello >/dev/null" &&
	jssh ubuntu@"$nip" cat /efs/hello | grep -qx "shared-$$"'

m -c "api ec2 StopInstances InstanceId.1=$nid" >/dev/null
t_ok 'StopInstances stops the host' 'wait_state "$nid" stopped && ! jssh ubuntu@"$nip" true'
m -c "api ec2 StartInstances InstanceId.1=$nid" >/dev/null
t_ok 'StartInstances brings it back, user-data not re-run' '
	wait_state "$nid" running && retry jssh ubuntu@"$nip" true &&
	[ "$(jssh ubuntu@"$nip" cat /var/tmp/ud-count)" = x ]'
m -c "api ec2 TerminateInstances InstanceId.1=$nid" >/dev/null
t_ok 'TerminateInstances removes the host' 'wait_state "$nid" none && ! ip netns list | grep -q "$NS-$nid"'

t_ok 'hermetic: no route out of the client namespace or a host' '
	ip -n "$NS-client" route get 192.0.2.1 2>&1 | grep -q "Network is unreachable" &&
	ip -n "$NS-$jid" route get 192.0.2.1 2>&1 | grep -q "Network is unreachable"'

t_ok 'lab reset empties the control plane and removes the hosts' '
	m -c "lab reset" >/dev/null && [ "$(host_state "$jid")" = none ] &&
	out=$(m --json -c "api ec2 DescribeInstances" 2>&1) && py "assert not d.get(\"Reservations\"), d" <<<"$out"'

t_ok 'lab down leaves no namespace and no process' '
	"$MLSH" --norc lab down >/dev/null &&
	! ip netns list | grep -q "^$NS-" &&
	! pgrep -f -- "--lab-daemon $XDG_STATE_HOME" >/dev/null &&
	[ -z "$(ls "$XDG_STATE_HOME/mlsh/lab/pids" 2>/dev/null)" ]'
t_ok 'the root namespace is unchanged by the whole test' '
	root_net > "$T/net.after" 2>&1; diff "$T/net.before" "$T/net.after"'
t_done
