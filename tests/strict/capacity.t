#!/usr/bin/env bash
# capacity.t: the strict AWS's "capacity" switch: RunInstances of a chosen
# type in a subnet of a chosen AZ answers InsufficientInstanceCapacity
# (HTTP 500, AWS's message naming other AZs); other AZs and types launch.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export MLSH="${MLSH:-$ROOT/mlsh}" TESTS_DIR="${TESTS_DIR:-$ROOT/tests}"
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/strict/lib.sh"
strict_start

setup='
v = ec2.create_vpc(CidrBlock="10.98.0.0/16")["Vpc"]["VpcId"]
sa = ec2.create_subnet(VpcId=v, CidrBlock="10.98.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
sb = ec2.create_subnet(VpcId=v, CidrBlock="10.98.2.0/24", AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
kw = dict(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)
def run(t, s):
    return err(ec2.run_instances, InstanceType=t, SubnetId=s, **kw)
'
t_out 'dl1.24xlarge in us-east-1a: no capacity, with the status and message AWS gives' \
	'500 InsufficientInstanceCapacity We currently do not have sufficient dl1.24xlarge capacity in the Availability Zone you requested (us-east-1a). Our system will be working on provisioning additional capacity. You can currently get dl1.24xlarge capacity by not specifying an Availability Zone in your request or choosing us-east-1b, us-east-1c, us-east-1d, us-east-1e, us-east-1f.' '
	strict_set "{\"capacity\": {\"azs\": [\"us-east-1a\"], \"types\": [\"dl1.24xlarge\"]}}" && spy "$setup
try:
    ec2.run_instances(InstanceType=\"dl1.24xlarge\", SubnetId=sa, **kw)
except botocore.exceptions.ClientError as e:
    print(e.response[\"ResponseMetadata\"][\"HTTPStatusCode\"], e.response[\"Error\"][\"Code\"], e.response[\"Error\"][\"Message\"])"'

t_out 'another AZ, another type, or no AZ at all: launched' 'ok ok ok' '
	spy "$setup
print(run(\"dl1.24xlarge\", sb), run(\"t3.micro\", sa), err(ec2.run_instances, InstanceType=\"dl1.24xlarge\", **kw))"'

t_out 'a Placement AZ counts as well; with offerings on, only AZs offering the type are named' \
	'InsufficientInstanceCapacity ... choosing us-west-2b, us-west-2c.' '
	strict_set "{\"capacity\": {\"azs\": [\"us-west-2a\"], \"types\": [\"p3.8xlarge\"]}, \"offerings\": true}" &&
	AWS_REGION=us-west-2 AWS_DEFAULT_REGION=us-west-2 spy "
try:
    ec2.run_instances(ImageId=\"ami-12c6146b\", MinCount=1, MaxCount=1, InstanceType=\"p3.8xlarge\", Placement={\"AvailabilityZone\": \"us-west-2a\"})
except botocore.exceptions.ClientError as e:
    print(e.response[\"Error\"][\"Code\"], \"...\", e.response[\"Error\"][\"Message\"].split(\"or \")[-1])"'

t_out 'off: launched' 'ok' 'strict_reset && spy "$setup
print(run(\"dl1.24xlarge\", sa))"'

strict_reset
t_done
