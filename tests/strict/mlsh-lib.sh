# tests/strict/mlsh-lib.sh: what the mlsh-*.t tests share, sourced after
# tests/lib.sh and tests/strict/lib.sh: mlsh against the strict AWS, and
# counts read with boto3 straight from moto (one python3 per check, never
# through the proxy, so they change no counter).
mkdir -p "$HOME/.ssh" && ssh-keygen -q -t ed25519 -N '' -f "$HOME/.ssh/id_ed25519"
# moto's own Ubuntu-named AMI, for nodes when the catalogue switch is off.
PLAIN_AMI=ami-dca37ea5
m() { "$MLSH" --endpoint-url "$STRICT_URL" "$@"; }

# counts WS: "vpc=N subnet=N instance=N notebook=N role=N profile=N spot=N"
# (instances not terminated; spot requests open or active, read through the
# proxy: moto makes none for RunInstances, the proxy keeps them).
counts() {
	python3 - "$1" <<'PY'
import boto3, os, sys
ws = sys.argv[1]
kw = dict(endpoint_url=os.environ["MOTO_URL"], region_name="us-east-1")
ec2, sm, iam = (boto3.client(n, **kw) for n in ("ec2", "sagemaker", "iam"))
f = [{"Name": "tag:mlsh:workspace", "Values": [ws]}]
live = [{"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}]
ids = [i["InstanceId"] for r in ec2.describe_instances(Filters=f + live)["Reservations"] for i in r["Instances"]]
every = [i["InstanceId"] for r in ec2.describe_instances(Filters=f)["Reservations"] for i in r["Instances"]]
sec2 = boto3.client("ec2", endpoint_url=os.environ["STRICT_URL"], region_name="us-east-1")
spot = [s for s in sec2.describe_spot_instance_requests()["SpotInstanceRequests"]
        if s["State"] in ("open", "active") and (s.get("InstanceId") in every or any(
            t["Key"] == "mlsh:workspace" and t["Value"] == ws for t in s.get("Tags", [])))]
# moto ignores PathPrefix on ListInstanceProfiles: the paths are checked here
# (other tests' profiles live in the same moto).
prefix = "/mlsh/%s/" % ws
def mine(items):
    return [x for x in items if x.get("Path", "").startswith(prefix)]
nb = [n for n in sm.list_notebook_instances()["NotebookInstances"]
      if n["NotebookInstanceName"].startswith(ws + "-") and n["NotebookInstanceStatus"] != "Deleting"]
print("vpc=%d subnet=%d instance=%d notebook=%d role=%d profile=%d spot=%d" % (
    len(ec2.describe_vpcs(Filters=f)["Vpcs"]), len(ec2.describe_subnets(Filters=f)["Subnets"]), len(ids),
    len(nb), len(mine(iam.list_roles(PathPrefix=prefix)["Roles"])),
    len(mine(iam.list_instance_profiles(PathPrefix=prefix)["InstanceProfiles"])), len(spot)))
PY
}
NONE="vpc=0 subnet=0 instance=0 notebook=0 role=0 profile=0 spot=0"
