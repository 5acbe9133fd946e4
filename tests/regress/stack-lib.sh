# stack-lib.sh: helpers for the stack-*.t tests (sourced after lib.sh, with
# awscli and py defined).

# Resources carrying the workspace tag, by kind (live ones only), read with
# boto3 in one python3 process (ten AWS CLI processes took ~1.2 s each).
# moto ignores tag filters on DescribeNatGateways: those are filtered here.
counts() {
	python3 - "${1:-$WS}" <<'PY'
import boto3, os, sys
w = sys.argv[1]
kw = dict(endpoint_url=os.environ["MOTO_URL"], region_name="us-east-1")
ec2, efs = boto3.client("ec2", **kw), boto3.client("efs", **kw)
f = [{"Name": "tag:mlsh:workspace", "Values": [w]}]
tag = {"Key": "mlsh:workspace", "Value": w}
live = [{"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}]
n = {
    "vpc": len(ec2.describe_vpcs(Filters=f)["Vpcs"]),
    "subnet": len(ec2.describe_subnets(Filters=f)["Subnets"]),
    "igw": len(ec2.describe_internet_gateways(Filters=f)["InternetGateways"]),
    "rt": len(ec2.describe_route_tables(Filters=f)["RouteTables"]),
    "eip": len(ec2.describe_addresses(Filters=f)["Addresses"]),
    "nat": len([g for g in ec2.describe_nat_gateways(Filter=f)["NatGateways"]
                if g["State"] not in ("deleted", "deleting") and tag in g.get("Tags", [])]),
    "sg": len(ec2.describe_security_groups(Filters=f)["SecurityGroups"]),
    "key": len(ec2.describe_key_pairs(Filters=f)["KeyPairs"]),
    "instance": sum(len(r["Instances"]) for r in ec2.describe_instances(Filters=f + live)["Reservations"]),
    "efs": len([x for x in efs.describe_file_systems()["FileSystems"] if tag in x.get("Tags", [])]),
}
print(" ".join("%s=%d" % kv for kv in n.items()))
PY
}


# Never ask the real checkip service: a closed loopback port unless a test
# points it at its own stub.
export MLSH_CHECKIP_URL=http://127.0.0.1:9/no-checkip-in-tests

# Remove what an earlier, interrupted run of a test left tagged with these
# workspaces in a long-lived moto (tests/run starts a fresh one: then this
# finds nothing). Two rounds of recover + down (a role recovered once per
# round), through mlsh itself: fast.
ws_clean() {
	local w i
	for w in "$@"; do
		for i in 1 2; do
			"$MLSH" --endpoint-url "$MOTO_URL" -w "$w" -c "status --recover; down --force" >/dev/null 2>&1
			rm -f "$XDG_STATE_HOME/mlsh/$w.json" "$XDG_STATE_HOME/mlsh/$w.lock"
		done
	done
}
