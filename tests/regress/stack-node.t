#!/usr/bin/env bash
# node against moto, read back with the AWS CLI (notebook, grafana and the
# session scripts are in stack-services.t: two groups run side by side).
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/regress/node-lib.sh"

W=nodes
t_ok 'the network and EFS come up (vpc, efs: the other half of the stack)' '
	m -c "workspace $W; vpc up --allow 203.0.113.7/32 --types dl1.24xlarge; efs up" >/dev/null 2>"$T/up.err" ||
	{ cat "$T/up.err"; false; }'

# --- AMIs, plans ---
t_ok 'dl1 resolves the newest Habana DLAMI by name, p3 the GPU PyTorch one' '
	m --json -c "node dl1 up --dry-run" 2>/dev/null | grep -q ami-0habana00000new2 &&
	! m --json -c "node dl1 up --dry-run" 2>/dev/null | grep -q ami-0habana00000old1 &&
	m --json -c "node p3 up --dry-run" 2>/dev/null | grep -q ami-0gpupytorch00001'
t_ok '--dry-run prints the plan and changes nothing' '
	before=$(md5sum <"$XDG_STATE_HOME/mlsh/$W.json") &&
	out=$(m -c "node dl1 up --count 2 --dry-run" 2>&1) &&
	grep -q "RunInstances *dl1-1" <<<"$out" && grep -q "RunInstances *dl1-2" <<<"$out" &&
	grep -q "CreateRole" <<<"$out" && grep -q "dry run: .* nothing changed" <<<"$out" &&
	[ "$(tagged $W $W-dl1-1)" = 0 ] && [ "$(md5sum <"$XDG_STATE_HOME/mlsh/$W.json")" = "$before" ] &&
	! awscli iam get-role --role-name mlsh-$W-node >/dev/null 2>&1'
t_ok 'the price shows before anything starts' '
	m -c "node p3 up --dry-run" 2>&1 | grep -q "^node: starting .*p3.8xlarge)* \$12.24/h"'

# --- node dl1 up, read back ---
t_ok 'node dl1 up creates dl1-1' '
	m -c "node dl1 up" >"$T/nodeup.out" 2>&1 && grep -q "dl1-1 .* created" "$T/nodeup.out"'
I=$(rec $W dl1-1 id)
# The seven read-backs below look at one instance nothing changes between
# them: one AWS CLI answer (~2 s of CPU a start), each check reading it.
awscli ec2 describe-instances --instance-ids "$I" >"$T/dl1-1.json"
dl1_1() { py "i=d['Reservations'][0]['Instances'][0]; $1" <"$T/dl1-1.json"; }
t_ok 'dl1-1 is a dl1.24xlarge from the Habana AMI' '
	dl1_1 "assert i[\"InstanceType\"]==\"dl1.24xlarge\" and i[\"ImageId\"]==\"ami-0habana00000new2\", i"'
t_ok 'dl1-1 is in the private subnet with the nodes security group' '
	sub=$(rec $W subnet-private id) sg=$(rec $W sg-nodes id) &&
	dl1_1 "assert i[\"SubnetId\"]==\"$sub\"; assert \"$sg\" in [g[\"GroupId\"] for n in i[\"NetworkInterfaces\"] for g in n[\"Groups\"]]"'
t_ok 'dl1-1 has no public IP' '
	dl1_1 "assert not i.get(\"PublicIpAddress\"), i.get(\"PublicIpAddress\")"'
t_ok 'dl1-1 requires IMDSv2' '
	dl1_1 "assert i[\"MetadataOptions\"][\"HttpTokens\"]==\"required\""'
t_ok 'dl1-1 has the node instance profile, whose role may run the CloudWatch agent' '
	dl1_1 "assert i[\"IamInstanceProfile\"][\"Arn\"].endswith(\"/mlsh-$W-node\")" &&
	awscli iam get-instance-profile --instance-profile-name mlsh-$W-node |
	    py "assert [r[\"RoleName\"] for r in d[\"InstanceProfile\"][\"Roles\"]]==[\"mlsh-$W-node\"]" &&
	awscli iam list-attached-role-policies --role-name mlsh-$W-node | grep -q CloudWatchAgentServerPolicy &&
	awscli iam get-role --role-name mlsh-$W-node | grep -q "ec2.amazonaws.com"'
t_ok 'dl1-1 is tagged with the workspace and its Name' '
	dl1_1 "t={x[\"Key\"]:x[\"Value\"] for x in i[\"Tags\"]}; assert t[\"mlsh:workspace\"]==\"$W\" and t[\"Name\"]==\"$W-dl1-1\", t"'
t_ok 'dl1-1 has the key pair for ssh through the jump host' '
	dl1_1 "assert i[\"KeyName\"]==\"$(rec $W key id)\""'
t_ok 'a second node dl1 up --count 1 creates nothing' '
	out=$(m -c "node dl1 up --count 1" 2>&1) && grep -q "nothing new" <<<"$out" &&
	[ "$(tagged $W $W-dl1-1)" = 1 ] && [ "$(tagged $W)" = 2 ]'  # dl1-1 and the jump host
t_ok 'node ls shows dl1-1 running with its private address' '
	m -c "node ls" | grep -Eq "^dl1-1 +$I +dl1 +dl1.24xlarge +running +10\.0\."'

# --- user-data ---
awscli ec2 describe-instance-attribute --instance-id "$I" --attribute userData |
	py "sys.stdout.write(base64.b64decode(d['UserData']['Value']).decode())" >"$T/ud.sh"
t_ok 'user-data: POSIX sh, the EFS id, its mount-target address and the seed NFS options' '
	sh -n "$T/ud.sh" && grep -q "^EFS_ID='"'"'$(rec $W efs id)'"'"'$" "$T/ud.sh" &&
	grep -q "^EFS_IP='"'"'$(rec $W mount-target private_ip)'"'"'$" "$T/ud.sh" &&
	grep -q "nfsvers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2,noresvport" "$T/ud.sh" &&
	grep -q "^NODE='"'"'dl1-1'"'"'$" "$T/ud.sh" && ! grep -q "@[A-Z_][A-Z_]*@" "$T/ud.sh"'
if command -v shellcheck >/dev/null; then
	t_ok 'user-data passes shellcheck -s sh' 'shellcheck -s sh -S warning "$T/ud.sh"'
else
	t_skip 'user-data shellcheck: shellcheck is not installed (make deps)'
fi
# Run it in a sandbox: no network (own net namespace), as nobody (the real
# /etc is out of reach), files under MLSH_ROOT, stub mount/hl-smi/cron.
# (its own directory: the suite's temp dir is private to root)
sb=$(mktemp -d /tmp/mlsh-userdata.XXXXXX); chmod 755 "$sb"
t_on_exit 'rm -rf "$sb"'
mkdir -p "$sb/root/etc/cron.d" "$sb/root/etc/profile.d" "$sb/bin" && cp "$T/ud.sh" "$sb/ud.sh"
cat >"$sb/bin/mount" <<'EOF'
#!/bin/sh
echo "mount $*" >>"$MLSH_ROOT/mount.log"
if [ "$1" = -a ]; then awk '$3=="nfs4"{print $1, $2, "nfs4", $4, 0, 0}' "$MLSH_ROOT/etc/fstab" >>"$MLSH_MOUNTS"; fi
EOF
printf '#!/bin/sh\nexit 0\n' >"$sb/bin/mount.nfs4"; cp "$sb/bin/mount.nfs4" "$sb/bin/cron"
printf '#!/bin/sh\necho "0, 87, 1234"\n' >"$sb/bin/hl-smi"
chmod 755 "$sb/bin/"*; chmod -R a+rwX "$sb"
# Every node script this file runs goes through sandbox: never on the host
# as itself (no network, not root).
sandbox() {
	unshare -n setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	    env MLSH_ROOT="$sb/root" MLSH_MOUNTS="$sb/root/mounts" MLSH_MOUNT_TRIES=1 \
	    PATH="$sb/bin:/usr/bin:/bin" timeout 30 "$@"
}
runud() { sandbox sh "$sb/ud.sh"; }
if ! unshare -n true 2>/dev/null || ! command -v setpriv >/dev/null; then
	t_skip 'user-data sandbox runs: they need unshare -n (root) and setpriv'
elif ! grep -q 'ROOT=${MLSH_ROOT' "$sb/ud.sh"; then
	t_report 1 'user-data honours MLSH_ROOT (else it cannot run in the sandbox)'
else
	t_ok 'user-data mounts /efs from fstab, and a re-run (reboot) adds no second entry' '
		runud >"$sb/run1.log" 2>&1 && runud >"$sb/run2.log" 2>&1 &&
		rm -f "$sb/root/mounts" && runud >"$sb/run3.log" 2>&1 &&
		[ "$(grep -c " $sb/root/efs nfs4 " "$sb/root/etc/fstab")" = 1 ] &&
		grep -q "^$(rec $W mount-target private_ip):/ $sb/root/efs nfs4 nfsvers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2,noresvport,_netdev 0 0$" "$sb/root/etc/fstab" &&
		[ "$(grep -c "^mount -a -t nfs4" "$sb/root/mount.log")" = 2 ] &&
		grep -q "mounted at" "$sb/run1.log"'
	t_ok 'user-data picks the HPU setup because hl-smi is there, and sends metrics every minute' '
		grep -q "accelerator: hpu" "$sb/run1.log" && grep -q MLSH_ACCEL=hpu "$sb/root/etc/profile.d/mlsh-accel.sh" &&
		grep -q "mlsh-metrics" "$sb/root/etc/cron.d/mlsh-metrics" &&
		sandbox env MLSH_NODE=dl1-1 sh "$sb/root/usr/local/bin/mlsh-metrics" --print --no-system |
		    py "m={x[\"MetricName\"]:x for x in d}; assert m[\"hpu_utilization\"][\"Value\"]==87; assert {\"Name\":\"Node\",\"Value\":\"dl1-1\"} in m[\"hpu_memory_used\"][\"Dimensions\"]"'
	# A GPU machine with the CloudWatch agent: the agent gets the config.
	t_ok 'user-data with nvidia-smi and the CloudWatch agent: agent config with GPU metrics, no cron' '
		rm -rf "$sb/root" && mkdir -p "$sb/root/etc/cron.d" "$sb/root/etc/profile.d" \
		    "$sb/root/opt/aws/amazon-cloudwatch-agent/bin" && rm -f "$sb/bin/hl-smi" &&
		printf "#!/bin/sh\necho \"\$*\" >\"\$MLSH_ROOT/cwa.args\"\n" >"$sb/root/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl" &&
		printf "#!/bin/sh\necho \"0, 55, 2048\"\n" >"$sb/bin/nvidia-smi" &&
		chmod -R a+rwX "$sb" && chmod 755 "$sb/bin/"* "$sb/root/opt/aws/amazon-cloudwatch-agent/bin/"* &&
		runud >"$sb/gpu.log" 2>&1 && grep -q "accelerator: gpu" "$sb/gpu.log" &&
		grep -q "cloudwatch agent started" "$sb/gpu.log" && grep -q "fetch-config -m ec2 -s -c file:" "$sb/root/cwa.args" &&
		py "m=d[\"metrics\"]; assert m[\"namespace\"]==\"mlsh\"; c=m[\"metrics_collected\"];
assert {\"cpu\",\"mem\",\"disk\",\"nvidia_gpu\"} <= set(c), c;
assert c[\"mem\"][\"append_dimensions\"]=={\"Workspace\":\"$W\",\"Node\":\"dl1-1\"}" <"$sb/root/etc/mlsh/cloudwatch-agent.json" &&
		[ ! -e "$sb/root/etc/cron.d/mlsh-metrics" ]'
	t_ok 'metrics without accelerators: CPU, memory, disk' '
		rm -f "$sb/bin/nvidia-smi" "$sb/bin/hl-smi" &&
		cp "$TESTS_DIR/../scripts/userdata/metrics.sh" "$sb/metrics.sh" && chmod 644 "$sb/metrics.sh" &&
		sandbox sh "$sb/metrics.sh" --print | py "n={x[\"MetricName\"] for x in d}; assert {\"cpu_used_percent\",\"mem_used_percent\",\"disk_used_percent\"} <= n, n"'
fi
# --- more nodes, stop/start/down ---
t_ok 'node dl1 up --count 2 adds dl1-2 only' '
	m -c "node dl1 up --count 2" 2>&1 | grep -q "dl1-2 .* created" &&
	[ "$(tagged $W $W-dl1-1)" = 1 ] && [ "$(tagged $W $W-dl1-2)" = 1 ]'
t_ok 'node up KIND (verb first) and node.up{kind=…} in Lua are the same command' '
	m -c "node up dl1 --count 2" 2>&1 | grep -q "nothing new" &&
	echo "local r = node.up{kind=\"dl1\", count=2}; assert(#r == 2 and r[1].result == \"exists\", #r)" >"$T/up.mlsh" &&
	m "$T/up.mlsh" 2>/dev/null'
t_ok 'node dl1-1 stop stops it' '
	m -c "node dl1-1 stop" | grep -q "^state *stopped" &&
	instance "$I" "assert i[\"State\"][\"Name\"]==\"stopped\""'
t_ok 'node dl1-1 start starts it' '
	m -c "node dl1-1 start" | grep -q "^state *running" &&
	instance "$I" "assert i[\"State\"][\"Name\"]==\"running\""'
t_ok 'node dl1-1 status asks AWS' 'm --json -c "node dl1-1 status" | py "assert d[\"state\"]==\"running\" and abs(d[\"usd_per_hour\"]-(13.11+200*0.08/730))<1e-6, d"'
t_ok 'node dl1-1 down terminates it; the role stays for dl1-2' '
	m -c "node dl1-1 down --force" >/dev/null 2>&1 &&
	instance "$I" "assert i[\"State\"][\"Name\"]==\"terminated\"" &&
	[ -z "$(rec $W dl1-1 id)" ] && awscli iam get-role --role-name mlsh-$W-node >/dev/null'
t_ok 'the last node down takes the node role and profile with it' '
	m -c "node dl1-2 down --force" >/dev/null 2>&1 && [ "$(tagged $W $W-dl1-2)" = 0 ] &&
	! awscli iam get-role --role-name mlsh-$W-node >/dev/null 2>&1 &&
	! awscli iam get-instance-profile --instance-profile-name mlsh-$W-node >/dev/null 2>&1'

# --- crash safety: a run killed mid-launch leaves a pending intent ---
pending() { # ROLE TOKEN: journal an intent the way stack_create_many does
	python3 - "$XDG_STATE_HOME/mlsh/$W.json" "$1" "$2" <<'PY'
import json, sys, time
p, role, tok = sys.argv[1:]
d = json.load(open(p))
d["resources"][role] = {"role": role, "type": "instance", "region": "us-east-1",
    "created": int(time.time()), "attrs": {}, "token": tok, "status": "pending"}
json.dump(d, open(p, "w"))
PY
}
t_ok 'killed before the call: the re-run sends it, once' '
	pending dl1-1 mlsh-$W-dl1-1-crash1 && m -c "node dl1 up" >/dev/null 2>&1 &&
	[ "$(tagged $W $W-dl1-1)" = 1 ] && [ -n "$(rec $W dl1-1 id)" ] &&
	m -c "node dl1 up" 2>&1 | grep -q "nothing new"'
t_ok 'killed after the call: the re-run adopts the instance, no duplicate' '
	id=$(awscli ec2 run-instances --image-id ami-0habana00000new2 --instance-type dl1.24xlarge \
	    --subnet-id $(rec $W subnet-private id) --client-token mlsh-$W-dl1-2-crash2 \
	    --tag-specifications "ResourceType=instance,Tags=[{Key=mlsh:workspace,Value=$W},{Key=Name,Value=$W-dl1-2}]" |
	    py "print(d[\"Instances\"][0][\"InstanceId\"])") &&
	pending dl1-2 mlsh-$W-dl1-2-crash2 && m -c "node dl1 up --count 2" >/dev/null 2>&1 &&
	[ "$(tagged $W $W-dl1-2)" = 1 ] && [ "$(rec $W dl1-2 id)" = "$id" ] &&
	m -c "node dl1-1 down --force; node dl1-2 down --force" >/dev/null 2>&1 && [ "$(tagged $W $W-dl1-1)$(tagged $W $W-dl1-2)" = 00 ]'

# --- errors: one line each ---
t_err 'an unknown node name' "node: no node 'dl1-9' in workspace 'nodes' (no nodes yet)" 1 'm -c "node dl1-9 stop"'
t_err 'an unknown kind' "node: unknown kind 'x9' (kinds: dl1, p3; more from node_kinds in ~/.mlshrc)" 1 'm -c "node x9 up"'
t_err 'a kind where a name is wanted' "node: 'dl1' is a kind; stop takes a node name (none yet: node KIND up)" 1 'm -c "node dl1 stop"'
t_err 'usage comes from the entry' "node: unknown flag: --count (usage: node NAME stop [--dry-run])" 2 'm -c "node dl1-1 stop --count 3"'

# --- kinds from ~/.mlshrc ---
t_ok 'a kind from node_kinds in ~/.mlshrc' '
	cat >"$HOME/.mlshrc" <<LUA
node_kinds = { g5 = { type = "g5.xlarge", ami_name = { "No Such AMI*", "Deep Learning AMI GPU PyTorch*" }, disk = 120 } }
LUA
	out=$(m -c "node g5 up --dry-run" 2>&1) && grep -q "RunInstances *g5-1 *g5.xlarge ami-0gpupytorch00001" <<<"$out" &&
	m -c "help node" | grep -q node_kinds; rc=$?; rm -f "$HOME/.mlshrc"; [ $rc = 0 ]'
t_ok '--ami overrides the resolution (never a hard-coded id in mlsh)' '
	m -c "node p3 up --ami ami-12345678 --dry-run" 2>&1 | grep -q "p3.8xlarge ami-12345678"'

t_done
