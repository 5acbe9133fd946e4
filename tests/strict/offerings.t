#!/usr/bin/env bash
# offerings.t: the strict AWS's "offerings" switch: DescribeInstanceType-
# Offerings per AZ from tests/strict/offerings.json (dl1.24xlarge and
# p3.8xlarge only in some AZs), overridable per test; RunInstances into an
# AZ that does not offer the type answers Unsupported.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export MLSH="${MLSH:-$ROOT/mlsh}" TESTS_DIR="${TESTS_DIR:-$ROOT/tests}"
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/strict/lib.sh"
strict_start
q() { scli ec2 describe-instance-type-offerings --location-type "${2:-availability-zone}" \
	--filters "Name=instance-type,Values=$1" --query "InstanceTypeOfferings[].Location" --output text | tr '\t' ' '; }

t_out 'us-east-1: dl1.24xlarge only in us-east-1a' 'us-east-1a' 'strict_set "{\"offerings\": true}" && q dl1.24xlarge'
t_out 'us-east-1: p3.8xlarge in four AZs' 'us-east-1a us-east-1b us-east-1c us-east-1d' 'q p3.8xlarge'
t_out 'us-west-2: dl1.24xlarge only in us-west-2b' 'us-west-2b' 'AWS_REGION=us-west-2 AWS_DEFAULT_REGION=us-west-2 q dl1.24xlarge'
t_out 'by AZ id' 'use1-az2' 'q dl1.24xlarge availability-zone-id'
t_out 'both types in one call' 'dl1.24xlarge p3.8xlarge' '
	scli ec2 describe-instance-type-offerings --location-type availability-zone \
		--filters Name=instance-type,Values=dl1.24xlarge,p3.8xlarge Name=location,Values=us-east-1a \
		--query "InstanceTypeOfferings[].InstanceType" --output text | tr "\t" " "'
t_out 'other types: moto'"'"'s answer' "$(aws --endpoint-url "$MOTO_URL" ec2 describe-instance-type-offerings --location-type availability-zone --filters Name=instance-type,Values=t3.micro --query 'InstanceTypeOfferings[].Location' --output text | tr '\t' ' ')" 'q t3.micro'
t_out 'a test can override the data' 'us-east-1c' 'strict_set "{\"offerings\": {\"us-east-1\": {\"p3.8xlarge\": [\"us-east-1c\"]}}}" && q p3.8xlarge'
t_out 'RunInstances into an AZ not offering the type: Unsupported' \
	'Unsupported|Your requested instance type (dl1.24xlarge) is not supported in your requested Availability Zone (us-east-1b). Please retry your request by not specifying an Availability Zone or choosing us-east-1a.' '
	strict_set "{\"offerings\": true}" && spy "
try:
    ec2.run_instances(ImageId=\"ami-12c6146b\", MinCount=1, MaxCount=1, InstanceType=\"dl1.24xlarge\", Placement={\"AvailabilityZone\": \"us-east-1b\"})
except botocore.exceptions.ClientError as e:
    print(e.response[\"Error\"][\"Code\"] + \"|\" + e.response[\"Error\"][\"Message\"])"'
t_out 'off: moto'"'"'s own data' "$(aws --endpoint-url "$MOTO_URL" ec2 describe-instance-type-offerings --location-type availability-zone --filters Name=instance-type,Values=p3.8xlarge --query 'InstanceTypeOfferings[].Location' --output text | tr '\t' ' ')" 'strict_reset && q p3.8xlarge'

strict_reset
t_done
