#!/usr/bin/env bash
# vcpu_limit.t: the strict AWS's "vcpu_limit" switch: on-demand RunInstances
# whose vCPUs plus the running ones of its family exceed the limit answers
# VcpuLimitExceeded; terminated instances free their vCPUs.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export MLSH="${MLSH:-$ROOT/mlsh}" TESTS_DIR="${TESTS_DIR:-$ROOT/tests}"
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/strict/lib.sh"
strict_start

py='
kw = dict(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)
def run(t):
    try:
        return ec2.run_instances(InstanceType=t, **kw)["Instances"][0]["InstanceId"]
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]
'
t_out 'dl limit 0: refused with the message AWS gives' \
	'VcpuLimitExceeded|You have requested more vCPU capacity than your current vCPU limit of 0 allows for the instance bucket that the specified instance type belongs to. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.' '
	strict_set "{\"vcpu_limit\": {\"dl\": 0}}" && spy "$py
try:
    ec2.run_instances(InstanceType=\"dl1.24xlarge\", **kw)
except botocore.exceptions.ClientError as e:
    print(e.response[\"Error\"][\"Code\"] + \"|\" + e.response[\"Error\"][\"Message\"])"'

t_out 'p limit 40: one p3.8xlarge (32) fits, a second does not, until the first is terminated' \
	'i- VcpuLimitExceeded i-' '
	strict_set "{\"vcpu_limit\": {\"p\": 40}}" && spy "$py
a = run(\"p3.8xlarge\"); b = run(\"p3.8xlarge\")
ec2.terminate_instances(InstanceIds=[a])
c = run(\"p3.8xlarge\")
ec2.terminate_instances(InstanceIds=[c])
print(a[:2], b, c[:2])"'

t_out 'other families and spot requests are not counted against it' 'i- i-' '
	strict_set "{\"vcpu_limit\": {\"dl\": 0}}" && spy "$py
a = run(\"t3.micro\")
s = ec2.run_instances(InstanceType=\"dl1.24xlarge\", InstanceMarketOptions={\"MarketType\": \"spot\"}, **kw)[\"Instances\"][0][\"InstanceId\"]
ec2.terminate_instances(InstanceIds=[a, s])
print(a[:2], s[:2])"'

strict_reset
t_done
