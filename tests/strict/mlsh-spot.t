#!/usr/bin/env bash
# mlsh-spot.t: persistent spot on the strict AWS's "spot_persistent" switch:
# terminating the instance of an open persistent request launches another.
# `node NAME down` and `down` cancel the request first, then terminate:
# nothing relaunches, zero instances and zero open requests after (boto3
# straight from moto); `status` shows the request.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export MLSH="${MLSH:-$ROOT/mlsh}" TESTS_DIR="${TESTS_DIR:-$ROOT/tests}"
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/strict/lib.sh"
strict_start
. "$TESTS_DIR/strict/mlsh-lib.sh"
W=sp$$

t_ok 'node dl1 up --spot: one node, one persistent request tagged with the workspace' '
	strict_set "{\"spot_persistent\": true}" &&
	m -w $W -c "vpc up --allow 203.0.113.7/32 --types dl1.24xlarge; node dl1 up --spot --ami $PLAIN_AMI --skip-quota-check" \
	    >/dev/null 2>"$T/up.err" &&
	[ "$(counts $W)" = "vpc=1 subnet=2 instance=2 notebook=0 role=1 profile=1 spot=1" ] &&
	spy "r = ec2.describe_spot_instance_requests()[\"SpotInstanceRequests\"]
assert [x[\"Type\"] for x in r if x[\"State\"] == \"active\"] == [\"persistent\"], r" ||
	{ cat "$T/up.err"; counts $W; false; }'

t_ok 'status shows the spot request under the node' '
	m -w $W -c status >"$T/st.out" 2>&1 &&
	grep -q "^dl1-1 spot request *sir-[0-9a-f]* *active *spot-request (persistent)" "$T/st.out" ||
	{ cat "$T/st.out"; false; }'

t_ok 'node dl1-1 down: CancelSpotInstanceRequests before TerminateInstances; nothing relaunched' '
	strict_log >"$T/before.log" &&
	m -w $W -c "node dl1-1 down --force" >/dev/null 2>"$T/down1.err" &&
	strict_log | tail -n +$(( $(wc -l <"$T/before.log") + 1 )) >"$T/after.log" &&
	c=$(grep -n "CancelSpotInstanceRequests 200" "$T/after.log" | head -1 | cut -d: -f1) &&
	t=$(grep -n "TerminateInstances 200" "$T/after.log" | head -1 | cut -d: -f1) &&
	[ -n "$c" ] && [ -n "$t" ] && [ "$c" -lt "$t" ] &&
	[ "$(counts $W)" = "vpc=1 subnet=2 instance=1 notebook=0 role=0 profile=0 spot=0" ] ||
	{ cat "$T/down1.err" "$T/after.log"; counts $W; false; }'

t_ok 'without the cancel AWS relaunches (the switch is on): what mlsh avoids' '
	id=$(spy "print(ec2.run_instances(ImageId=\"$PLAIN_AMI\", MinCount=1, MaxCount=1, InstanceType=\"t3.micro\",
    InstanceMarketOptions={\"MarketType\": \"spot\", \"SpotOptions\": {\"SpotInstanceType\": \"persistent\",
    \"InstanceInterruptionBehavior\": \"stop\"}})[\"Instances\"][0][\"InstanceId\"])") &&
	spy "ec2.terminate_instances(InstanceIds=[\"$id\"])
r = [x for x in ec2.describe_spot_instance_requests()[\"SpotInstanceRequests\"] if x[\"State\"] in (\"open\", \"active\")]
assert len(r) == 1 and r[0][\"InstanceId\"] != \"$id\", r
ec2.cancel_spot_instance_requests(SpotInstanceRequestIds=[r[0][\"SpotInstanceRequestId\"]])
ec2.terminate_instances(InstanceIds=[r[0][\"InstanceId\"]])"'

t_ok 'a second spot node, then the whole down: zero instances, zero open requests' '
	m -w $W -c "node dl1 up --spot --ami $PLAIN_AMI --skip-quota-check" >/dev/null 2>"$T/up2.err" &&
	[ "$(counts $W)" = "vpc=1 subnet=2 instance=2 notebook=0 role=1 profile=1 spot=1" ] &&
	m -w $W -c "down --force" >/dev/null 2>"$T/down.err" &&
	[ "$(counts $W)" = "$NONE" ] &&
	spy "assert not [i for r in ec2.describe_instances(Filters=[{\"Name\": \"instance-state-name\", \"Values\": [\"pending\", \"running\"]},
    {\"Name\": \"tag:mlsh:workspace\", \"Values\": [\"$W\"]}])[\"Reservations\"] for i in r[\"Instances\"]]" ||
	{ cat "$T/up2.err" "$T/down.err"; counts $W; false; }'

strict_reset
t_done
