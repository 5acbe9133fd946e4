# Scale (issue 11 item 5): a workspace state of N synthetic resources (3,000
# by default; SCALE_N=10000 for the other figure), no AWS: plain `status`
# < 50 ms and `node <Tab>` < 5 ms per call. Exits 1 when a target is missed.
set -u
N=${SCALE_N:-3000}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export XDG_STATE_HOME=$tmp/state HOME=$tmp NO_COLOR=1
mkdir -p "$tmp/state/mlsh" && chmod 700 "$tmp/state/mlsh"
# One VPC's roles, then nodes (dl1-*, p3-*: 5 in 6) and the rest spread over
# the other types, role names shuffled so that the file's order is not the
# sorted one.
python3 - "$N" "$tmp/state/mlsh/scale.json" <<'PY'
import json, random, sys
n, path = int(sys.argv[1]), sys.argv[2]
random.seed(11)
vpc = {"vpc": "vpc", "igw": "igw", "nat": "nat-gateway", "eip": "eip",
       "key": "key-pair", "rt-public": "route-table", "rt-private": "route-table",
       "subnet-public": "subnet", "subnet-private": "subnet", "sg-jump": "security-group",
       "sg-nodes": "security-group", "jump": "instance"}
others = ["eip", "subnet", "security-group", "mount-target", "efs", "notebook",
          "lifecycle-config", "iam-role", "instance-profile"]
roles = list(vpc.items())
left = n - len(roles)
nodes = left * 5 // 6
roles += [("dl1-%d" % (i + 1), "instance") for i in range(nodes * 3 // 5)]
roles += [("p3-%d" % (i + 1), "instance") for i in range(nodes - nodes * 3 // 5)]
roles += [("%s-%d" % (others[i % len(others)], i), others[i % len(others)])
          for i in range(n - len(roles))]
random.shuffle(roles)
res = {}
for i, (role, t) in enumerate(roles):
    a = {"id": "%s-%08x" % (t[:3], i), "state": "available"}
    if t == "instance":
        a.update(instance_type="dl1.24xlarge" if role.startswith("dl1") else "t3.small",
                 private_ip="10.0.%d.%d" % (i // 250 % 250, i % 250 + 2), state="running")
    res[role] = {"role": role, "type": t, "region": "us-east-1",
                 "created": 1764660000, "status": "created", "attrs": a}
json.dump({"schema": 1, "workspace": "scale", "resources": res}, open(path, "w"))
PY
chmod 600 "$tmp/state/mlsh/scale.json"
rc=0
for d in status complete; do
	cc -O2 -std=c11 -D_GNU_SOURCE -I. $(pkg-config --cflags libcjson) -include string.h \
		-o "$tmp/$d" "bench/$d.c" build/libmlsh.a \
		$(pkg-config --libs libedit libcurl openssl libcjson libssh2 lua5.4 expat) -lm || exit 1
done
"$tmp/status" scale 50 || rc=1
"$tmp/complete" scale || rc=1
exit $rc
