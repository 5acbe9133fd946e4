#!/usr/bin/env bash
# spot.t: the strict AWS's "spot_persistent" switch: terminating the instance
# of an open persistent spot request launches a replacement (same request,
# new id, same tags) unless the request was cancelled first. Counted with
# boto3 through the proxy and the AWS CLI straight from moto.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export MLSH="${MLSH:-$ROOT/mlsh}" TESTS_DIR="${TESTS_DIR:-$ROOT/tests}"
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/strict/lib.sh"
strict_start
u="sp$$"

py='
def launch(t="persistent"):
    r = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="t3.micro",
        InstanceMarketOptions={"MarketType": "spot", "SpotOptions": {"SpotInstanceType": t,
            "InstanceInterruptionBehavior": "stop" if t == "persistent" else "terminate"}},
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "'$u'"}]}])
    return r["Instances"][0]
def live():
    r = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": ["'$u'"]},
        {"Name": "instance-state-name", "Values": ["pending", "running"]}])
    return [i["InstanceId"] for x in r["Reservations"] for i in x["Instances"]]
def sir(rid):
    return ec2.describe_spot_instance_requests(SpotInstanceRequestIds=[rid])["SpotInstanceRequests"][0]
'

t_out 'RunInstances with a persistent spot option: the instance names its request' 'sir- persistent active' '
	strict_set "{\"spot_persistent\": true}" && spy "$py
i = launch()
r = sir(i[\"SpotInstanceRequestId\"])
assert r[\"InstanceId\"] == i[\"InstanceId\"]
print(i[\"SpotInstanceRequestId\"][:4], r[\"Type\"], r[\"State\"])
ec2.cancel_spot_instance_requests(SpotInstanceRequestIds=[r[\"SpotInstanceRequestId\"]])
ec2.terminate_instances(InstanceIds=[i[\"InstanceId\"]])"'

t_out 'terminate first: a replacement with a new id, the same tag, in the same request' 'relaunched 1 same-request' '
	spy "$py
i = launch()
ec2.terminate_instances(InstanceIds=[i[\"InstanceId\"]])
now = live()
r = sir(i[\"SpotInstanceRequestId\"])
print(\"relaunched\" if now and now[0] != i[\"InstanceId\"] else now, len(now),
      \"same-request\" if r[\"InstanceId\"] == now[0] else r)
open(\"'$T'/rid\", \"w\").write(i[\"SpotInstanceRequestId\"])"'

t_out 'cancel, then terminate: nothing relaunches, the request shows cancelled' '0 cancelled' '
	spy "$py
rid = open(\"'$T'/rid\").read()
ec2.cancel_spot_instance_requests(SpotInstanceRequestIds=[rid])
ec2.terminate_instances(InstanceIds=live())
print(len(live()), sir(rid)[\"State\"])"'

t_out 'moto agrees: no live instance left' '0' '
	mcli ec2 describe-instances --filters Name=tag:Name,Values='$u' Name=instance-state-name,Values=pending,running \
		--query "length(Reservations[].Instances[])" --output text'

t_out 'a one-time spot instance does not relaunch' '0' '
	spy "$py
i = launch(\"one-time\")
ec2.terminate_instances(InstanceIds=[i[\"InstanceId\"]])
print(len(live()))"'

t_out 'RequestSpotInstances type persistent relaunches too' 'relaunched' '
	spy "
r = ec2.request_spot_instances(SpotPrice=\"5\", Type=\"persistent\", LaunchSpecification={\"ImageId\": \"ami-12c6146b\", \"InstanceType\": \"t3.micro\"})[\"SpotInstanceRequests\"][0]
rid = r[\"SpotInstanceRequestId\"]
old = ec2.describe_spot_instance_requests(SpotInstanceRequestIds=[rid])[\"SpotInstanceRequests\"][0][\"InstanceId\"]
ec2.terminate_instances(InstanceIds=[old])
new = ec2.describe_spot_instance_requests(SpotInstanceRequestIds=[rid])[\"SpotInstanceRequests\"][0][\"InstanceId\"]
print(\"relaunched\" if new != old else \"same\")
ec2.cancel_spot_instance_requests(SpotInstanceRequestIds=[rid])
ec2.terminate_instances(InstanceIds=[new])"'

t_out 'off: terminating a persistent spot instance leaves nothing' '0' '
	strict_reset && spy "$py
i = launch()
ec2.terminate_instances(InstanceIds=[i[\"InstanceId\"]])
print(len(live()))"'

strict_reset
t_done
