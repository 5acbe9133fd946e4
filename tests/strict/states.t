#!/usr/bin/env bash
# states.t: the strict AWS's "states" switch: new instances show pending and
# terminating ones shutting-down, NAT gateways pending, EFS mount targets
# creating, notebooks Pending, for the next N describes; a state filter
# sees the shown state.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export MLSH="${MLSH:-$ROOT/mlsh}" TESTS_DIR="${TESTS_DIR:-$ROOT/tests}"
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/strict/lib.sh"
strict_start
u="st$$"

t_out 'instance: pending twice, then running; terminate: shutting-down twice, then terminated' \
	'pending pending running | shutting-down shutting-down shutting-down terminated' '
	strict_set "{\"states\": {\"calls\": 2}}" && spy "
i = ec2.run_instances(ImageId=\"ami-12c6146b\", MinCount=1, MaxCount=1, InstanceType=\"t3.micro\")[\"Instances\"][0][\"InstanceId\"]
def st():
    return ec2.describe_instances(InstanceIds=[i])[\"Reservations\"][0][\"Instances\"][0][\"State\"][\"Name\"]
a = [st() for _ in range(3)]
t = ec2.terminate_instances(InstanceIds=[i])[\"TerminatingInstances\"][0][\"CurrentState\"][\"Name\"]
print(*a, \"|\", t, *[st() for _ in range(3)])"'

t_out 'a filter on running does not list a pending instance' '0 1' '
	strict_set "{\"states\": {\"calls\": 1}}" && spy "
i = ec2.run_instances(ImageId=\"ami-12c6146b\", MinCount=1, MaxCount=1, InstanceType=\"t3.micro\",
    TagSpecifications=[{\"ResourceType\": \"instance\", \"Tags\": [{\"Key\": \"Name\", \"Value\": \"'$u'\"}]}])[\"Instances\"][0][\"InstanceId\"]
f = [{\"Name\": \"tag:Name\", \"Values\": [\"'$u'\"]}, {\"Name\": \"instance-state-name\", \"Values\": [\"running\"]}]
n = lambda: sum(len(r[\"Instances\"]) for r in ec2.describe_instances(Filters=f)[\"Reservations\"])
print(n(), n())"'

t_out 'NAT gateway pending, then available' 'pending available' '
	strict_set "{\"states\": {\"calls\": 1}}" && spy "
v = ec2.create_vpc(CidrBlock=\"10.102.0.0/16\")[\"Vpc\"][\"VpcId\"]
s = ec2.create_subnet(VpcId=v, CidrBlock=\"10.102.1.0/24\")[\"Subnet\"][\"SubnetId\"]
a = ec2.allocate_address(Domain=\"vpc\")[\"AllocationId\"]
n = ec2.create_nat_gateway(SubnetId=s, AllocationId=a)[\"NatGateway\"][\"NatGatewayId\"]
st = lambda: ec2.describe_nat_gateways(NatGatewayIds=[n])[\"NatGateways\"][0][\"State\"]
print(st(), st())"'

t_out 'EFS mount target creating, then available' 'creating creating available' '
	spy "
v = ec2.create_vpc(CidrBlock=\"10.103.0.0/16\")[\"Vpc\"][\"VpcId\"]
s = ec2.create_subnet(VpcId=v, CidrBlock=\"10.103.1.0/24\")[\"Subnet\"][\"SubnetId\"]
fs = efs.create_file_system(CreationToken=\"'$u'\")[\"FileSystemId\"]
mt = efs.create_mount_target(FileSystemId=fs, SubnetId=s)
st = lambda: efs.describe_mount_targets(MountTargetId=mt[\"MountTargetId\"])[\"MountTargets\"][0][\"LifeCycleState\"]
print(mt[\"LifeCycleState\"], st(), st())"'

t_out 'notebook Pending, then InService' 'Pending InService' '
	spy "
sm.create_notebook_instance(NotebookInstanceName=\"'$u'\", InstanceType=\"ml.t3.medium\", RoleArn=\"arn:aws:iam::123456789012:role/r\")
st = lambda: sm.describe_notebook_instance(NotebookInstanceName=\"'$u'\")[\"NotebookInstanceStatus\"]
print(st(), st())"'

t_out 'off: running at once' 'running' '
	strict_reset && spy "
i = ec2.run_instances(ImageId=\"ami-12c6146b\", MinCount=1, MaxCount=1, InstanceType=\"t3.micro\")[\"Instances\"][0][\"InstanceId\"]
print(ec2.describe_instances(InstanceIds=[i])[\"Reservations\"][0][\"Instances\"][0][\"State\"][\"Name\"])"'

strict_reset
t_done
