#!/usr/bin/env bash
# vpc, efs, status, cost, down against moto, read back with the AWS CLI.
# moto is shared by the whole run: everything is filtered by this file's
# workspace tag (mlsh:workspace=tvpc).
. "$TESTS_DIR/lib.sh"
: "${MOTO_URL:?tests/run starts moto and sets MOTO_URL}"
export AWS_ACCESS_KEY_ID=AKIDMLSHTEST AWS_SECRET_ACCESS_KEY=mlsh-secret-never-printed AWS_REGION=us-east-1
WS=tvpc
m() { "$MLSH" --endpoint-url "$MOTO_URL" -w "$WS" "$@"; }
awscli() { aws --endpoint-url "$MOTO_URL" --region us-east-1 --output json "$@"; }
py() { python3 -S -c "import json,sys; d=json.load(sys.stdin); $1"; }
F="Name=tag:mlsh:workspace,Values=$WS"
mkdir -p "$HOME/.ssh" && ssh-keygen -q -t ed25519 -N '' -f "$HOME/.ssh/id_ed25519"
ws_clean "$WS"
STATE="$XDG_STATE_HOME/mlsh/$WS.json"

. "$TESTS_DIR/regress/stack-lib.sh"

t_ok 'no AZ offers every node type: the best one is used and the missing types are named' '
	out=$(m -c "vpc up --allow 203.0.113.7/32 --dry-run" 2>&1) &&
	grep -q "^vpc: warning: no availability zone of us-east-1 offers all of dl1.24xlarge,p3.8xlarge: .*p3.8xlarge offered in no zone.*; using us-east-1a" <<<"$out" &&
	grep -q "CreateSubnet .*in us-east-1a" <<<"$out"'
t_ok 'no AZ offers any of the types: one clear error' '
	out=$(m -c "vpc up --allow 203.0.113.7/32 --types p3.8xlarge --dry-run" 2>&1); [ $? -eq 1 ] &&
	[ "$(wc -l <<<"$out")" -eq 1 ] && grep -q "^vpc: no availability zone of us-east-1 offers any of p3.8xlarge: p3.8xlarge offered in no zone" <<<"$out"'

before=$(counts)
t_ok '--dry-run prints the plan and changes nothing (AWS and state file)' '
	[ ! -e "$STATE" ] || cp "$STATE" "$T/state.before"
	out=$(m -c "vpc up --allow 203.0.113.7/32 --types dl1.24xlarge --dry-run" 2>"$T/err") &&
	grep -q "CreateVpc .*CidrBlock=10.0.0.0/16" <<<"$out" && grep -q "CreateNatGateway" <<<"$out" &&
	grep -q "RunInstances .*IMDSv2 required" <<<"$out" && grep -q "dry run: .* nothing changed" "$T/err" &&
	[ "$(counts)" = "$before" ] && [ "$before" = "vpc=0 subnet=0 igw=0 rt=0 eip=0 nat=0 sg=0 key=0 instance=0 efs=0" ] &&
	{ [ ! -e "$T/state.before" ] && ! grep -q "\"vpc\"" "$STATE" 2>/dev/null || cmp -s "$STATE" "$T/state.before"; }'

t_ok 'vpc up creates the network, shows the price first' '
	m -c "vpc up --allow 203.0.113.7/32 --types dl1.24xlarge" >"$T/up.out" 2>"$T/up.err" &&
	grep -q "starting NAT gateway \$0.045/h, Elastic IP \$0.005/h, jump host (t3.nano) \$0.0052/h, its public IPv4 \$0.005/h, its root volume (8 GB) \$0.001096/h: total \$0.0613/h" "$T/up.err" &&
	[ "$(counts)" = "vpc=1 subnet=2 igw=1 rt=2 eip=1 nat=1 sg=5 key=1 instance=1 efs=0" ]'

sid() { python3 -S -c "import json;print(json.load(open('$STATE'))['resources']['$1']['id'])"; }
t_ok 'both subnets in one AZ (the one offering dl1.24xlarge), inside the VPC CIDR' '
	awscli ec2 describe-subnets --filters "$F" | py "
azs={s[\"AvailabilityZone\"] for s in d[\"Subnets\"]}; assert azs=={\"us-east-1a\"}, azs
assert sorted(s[\"CidrBlock\"] for s in d[\"Subnets\"])==[\"10.0.0.0/24\",\"10.0.1.0/24\"]"'
t_ok 'the VPC has DNS hostnames and support on' '
	v=$(sid vpc) &&
	awscli ec2 describe-vpc-attribute --vpc-id "$v" --attribute enableDnsHostnames | py "assert d[\"EnableDnsHostnames\"][\"Value\"] is True" &&
	awscli ec2 describe-vpc-attribute --vpc-id "$v" --attribute enableDnsSupport | py "assert d[\"EnableDnsSupport\"][\"Value\"] is True"'
t_ok 'jump host: public subnet, public IP, IMDSv2 required, t3.nano, sg-jump' '
	awscli ec2 describe-instances --instance-ids "$(sid jump)" | py "
i=d[\"Reservations\"][0][\"Instances\"][0]
assert i[\"SubnetId\"]==\"$(sid subnet-public)\", i[\"SubnetId\"]
assert i.get(\"PublicIpAddress\"), \"no public ip\"
assert i[\"MetadataOptions\"][\"HttpTokens\"]==\"required\"
assert i[\"InstanceType\"]==\"t3.nano\"
assert [g[\"GroupId\"] for g in i[\"NetworkInterfaces\"][0][\"Groups\"]]==[\"$(sid sg-jump)\"]
assert i[\"KeyName\"]==\"$WS-key\""'
t_ok 'security groups: 22 only from --allow; everything else only from groups (tests/regress/sg.t reads every rule)' '
	awscli ec2 describe-security-groups --filters "$F" | py "
g={s[\"GroupName\"]: s[\"IpPermissions\"] for s in d[\"SecurityGroups\"]}
def rules(n): return sorted((p[\"IpProtocol\"], p.get(\"FromPort\"), r[\"CidrIp\"]) for p in g[n] for r in p[\"IpRanges\"])
assert rules(\"$WS-sg-jump\")==[(\"tcp\",22,\"203.0.113.7/32\")], rules(\"$WS-sg-jump\")
for n in (\"efs\", \"nodes\", \"notebook\", \"grafana\"): assert rules(\"$WS-sg-\"+n)==[], (n, g[\"$WS-sg-\"+n])
assert all(r[\"CidrIp\"]!=\"0.0.0.0/0\" for s in g.values() for p in s for r in p[\"IpRanges\"])"'
t_ok 'routes: public 0.0.0.0/0 -> igw, private 0.0.0.0/0 -> nat, each associated with its subnet' '
	awscli ec2 describe-route-tables --filters "$F" | py "
t={[x[\"Value\"] for x in r[\"Tags\"] if x[\"Key\"]==\"Name\"][0]: r for r in d[\"RouteTables\"]}
pub=t[\"$WS-rt-public\"]; pri=t[\"$WS-rt-private\"]
assert any(r.get(\"DestinationCidrBlock\")==\"0.0.0.0/0\" and r.get(\"GatewayId\")==\"$(sid igw)\" for r in pub[\"Routes\"])
assert any(r.get(\"DestinationCidrBlock\")==\"0.0.0.0/0\" and r.get(\"NatGatewayId\")==\"$(sid nat)\" for r in pri[\"Routes\"])
assert [a[\"SubnetId\"] for a in pub[\"Associations\"] if not a[\"Main\"]]==[\"$(sid subnet-public)\"]
assert [a[\"SubnetId\"] for a in pri[\"Associations\"] if not a[\"Main\"]]==[\"$(sid subnet-private)\"]"'
t_ok 'NAT gateway: public subnet, with the Elastic IP, available' '
	awscli ec2 describe-nat-gateways --nat-gateway-ids "$(sid nat)" | py "
n=d[\"NatGateways\"][0]; assert n[\"SubnetId\"]==\"$(sid subnet-public)\" and n[\"State\"]==\"available\"
assert n[\"NatGatewayAddresses\"][0][\"AllocationId\"]==\"$(sid eip)\""'
t_ok 'the internet gateway is attached to the VPC' '
	awscli ec2 describe-internet-gateways --internet-gateway-ids "$(sid igw)" | py "
assert d[\"InternetGateways\"][0][\"Attachments\"][0][\"VpcId\"]==\"$(sid vpc)\""'
t_ok 'every resource has Name=<ws>-<role> and the workspace tag' '
	python3 -S -c "import json;[print(k, v[\"id\"]) for k, v in json.load(open(\"$STATE\"))[\"resources\"].items()]" > "$T/roles" &&
	[ $(wc -l <"$T/roles") -eq 15 ] &&
	awscli ec2 describe-tags --filters "Name=key,Values=Name" > "$T/tags" &&
	awscli ec2 describe-key-pairs --key-names "$WS-key" | py "
assert {\"Key\":\"Name\",\"Value\":\"$WS-key\"} in d[\"KeyPairs\"][0][\"Tags\"]" &&
	grep -v "^key " "$T/roles" | while read -r role id; do
		py "assert any(t[\"ResourceId\"]==\"$id\" and t[\"Value\"]==\"$WS-$role\" for t in d[\"Tags\"]), \"$role\"" <"$T/tags" || exit 1
	done'

t_ok 'a second vpc up creates nothing and says so' '
	before=$(counts) && out=$(m -c "vpc up --types dl1.24xlarge" 2>&1) &&
	grep -q "nothing new: all 15 resources already exist" <<<"$out" && [ "$(counts)" = "$before" ]'

t_ok 'a new --allow swaps the ssh rule (the address changed), nothing else' '
	before=$(counts) && m -c "vpc up --allow 198.51.100.9/32 --types dl1.24xlarge" >/dev/null 2>&1 &&
	[ "$(counts)" = "$before" ] &&
	awscli ec2 describe-security-groups --group-ids "$(sid sg-jump)" | py "
p=d[\"SecurityGroups\"][0][\"IpPermissions\"]
assert [r[\"CidrIp\"] for x in p for r in x[\"IpRanges\"]]==[\"198.51.100.9/32\"], p"'

t_ok 'efs up: encrypted, lifecycle to IA after 30 days, mount target in the private subnet' '
	m -c "efs up" >/dev/null 2>&1 && fs=$(sid efs) &&
	awscli efs describe-file-systems --file-system-id "$fs" | py "
f=d[\"FileSystems\"][0]; assert f[\"Encrypted\"] is True and f[\"CreationToken\"]==\"mlsh-$WS-efs\"
assert {\"Key\":\"Name\",\"Value\":\"$WS-efs\"} in f[\"Tags\"]" &&
	awscli efs describe-lifecycle-configuration --file-system-id "$fs" | py "
assert d[\"LifecyclePolicies\"]==[{\"TransitionToIA\":\"AFTER_30_DAYS\"}], d" &&
	awscli efs describe-mount-targets --file-system-id "$fs" | py "
m=d[\"MountTargets\"]; assert len(m)==1 and m[0][\"SubnetId\"]==\"$(sid subnet-private)\", m" &&
	awscli efs describe-mount-target-security-groups --mount-target-id "$(sid mount-target)" | py "
assert d[\"SecurityGroups\"]==[\"$(sid sg-efs)\"]"'
t_ok 'a second efs up creates nothing' '
	before=$(counts) && out=$(m -c "efs up" 2>&1) && grep -q "nothing new" <<<"$out" && [ "$(counts)" = "$before" ] &&
	awscli efs describe-mount-targets --file-system-id "$(sid efs)" | py "assert len(d[\"MountTargets\"])==1"'

t_ok 'status: one row per resource with role, id, state, type, IPs, $/h, age, accrued' '
	m --json -c status | py "
r={x[\"role\"]: x for x in d}; assert len(r)==17, sorted(r)
assert r[\"jump\"][\"state\"]==\"running\" and r[\"jump\"][\"public_ip\"] and abs(r[\"jump\"][\"usd_per_hour\"]-0.0113)<5e-5, r[\"jump\"]
assert abs(r[\"nat\"][\"usd_per_hour\"]-0.045)<1e-9 and r[\"mount-target\"][\"state\"]==\"available\"
assert all(k in r[\"vpc\"] for k in (\"id\",\"type\",\"private_ip\",\"age_seconds\",\"accrued_usd\"))
assert r[\"vpc\"][\"private_ip\"] is None and isinstance(r[\"vpc\"][\"age_seconds\"], (int, float))
assert not any(isinstance(v, str) and v.startswith(\"\$\") for x in d for v in x.values()), d" &&
	m -c status | awk "\$1==\"jump\"" | grep -q "[$]0[.]0113 .*[$][0-9]*[.][0-9][0-9]"'
t_ok 'cost: per resource and total; unknown price shows unknown, never $0' '
	m --json -c cost | py "
assert abs(d[\"total\"][\"usd_per_hour\"]-0.0613)<1e-4 and d[\"total\"][\"some_prices_unknown\"] is False, d[\"total\"]" &&
	m --json -c "cost --prices" | py "
p={x[\"key\"]: x for x in d}; assert p[\"dl1.24xlarge\"][\"price\"]==13.11 and p[\"p3.8xlarge\"][\"price\"]==12.24
assert p[\"ml.p3.8xlarge\"][\"price\"]==12.45 and p[\"t3.nano\"][\"as_of\"]==\"2022-01\"" &&
	m --region eu-west-3 --json -c "cost --prices" | py "assert d==[]"'
t_ok 'prices are overridable in config (Lua table prices)' '
	echo "prices = { [\"t3.nano\"] = 0.5 }" > "$HOME/.mlshrc" &&
	m --json -c cost | py "r={x[\"role\"]: x for x in d[\"resources\"]}; assert r[\"jump\"][\"usd_per_hour\"]==0.5 and d[\"prices\"][\"overridden\"], r" ; rc=$?
	rm -f "$HOME/.mlshrc"; exit $rc'

t_ok 'status --refresh: no drift, then changed and unknown-but-tagged resources are reported' '
	m -c "status --refresh" 2>&1 >/dev/null | grep -q "^status: 0 drifts" &&
	awscli ec2 stop-instances --instance-ids "$(sid jump)" >/dev/null &&
	x=$(awscli ec2 create-security-group --group-name tvpc-stray --description stray --vpc-id "$(sid vpc)" \
		--tag-specifications "ResourceType=security-group,Tags=[{Key=mlsh:workspace,Value=$WS},{Key=Name,Value=$WS-stray}]" | py "print(d[\"GroupId\"])") &&
	out=$(m --json -c "status --refresh" 2>/dev/null) &&
	awscli ec2 delete-security-group --group-id "$x" && awscli ec2 start-instances --instance-ids "$(sid jump)" >/dev/null &&
	py "
r={x[\"role\"]: x for x in d}
assert r[\"jump\"][\"drift\"].startswith(\"changed: running -> stop\"), r[\"jump\"]
assert r[\"stray\"][\"drift\"].startswith(\"unknown but tagged\"), r.get(\"stray\")" <<<"$out" &&
	m -c "status --refresh" >/dev/null 2>&1'

t_ok 'prices.json in the state dir overrides the built-in table' '
	echo "{\"us-east-1\": {\"nat-gateway\": 0.05}}" > "$XDG_STATE_HOME/mlsh/prices.json" &&
	m --json -c "cost --prices" | py "
p={x[\"key\"]: x for x in d}; assert p[\"nat-gateway\"][\"price\"]==0.05 and p[\"nat-gateway\"][\"source\"]==\"prices.json\"" ; rc=$?
	rm -f "$XDG_STATE_HOME/mlsh/prices.json"; exit $rc'
t_ok 'a price the table does not know is "unknown", never $0, and the total says so' '
	m --region eu-west-3 --json -c cost | py "
r={x[\"role\"]: x for x in d[\"resources\"]}; assert r[\"jump\"][\"usd_per_hour\"] is None and r[\"nat\"][\"accrued_usd\"] is None, r
assert d[\"total\"][\"some_prices_unknown\"] is True and d[\"prices\"][\"as_of\"]==\"unknown\"" &&
	m --region eu-west-3 -c cost 2>/dev/null | grep -q "^total  *(some prices unknown)  *>=\\$"'
t_ok 'the prompt shows the running $/h of the workspace' '
	S=mlsh-stack-$$; tmux -L "$S" new-session -d -s "$S" -x 100 -y 10 \
		"env HOME=$HOME XDG_STATE_HOME=$XDG_STATE_HOME $MLSH --norc --endpoint-url $MOTO_URL -w $WS" &&
	for _ in $(seq 1 300); do tmux -L "$S" capture-pane -p -t "$S" | grep -q "mlsh $WS@us-east-1 \$0.06/h>" && break; sleep 0.1; done
	tmux -L "$S" capture-pane -p -t "$S" | grep -q "mlsh $WS@us-east-1 \$0.06/h>"; rc=$?
	tmux -L "$S" kill-server 2>/dev/null; exit $rc'

t_ok 'status --recover rebuilds a lost state file from the tags' '
	m --json -c status | py "print(sorted((x[\"role\"], x[\"id\"]) for x in d))" > "$T/st.before" &&
	mv "$STATE" "$T/state.saved" && m -c "status --recover" >/dev/null 2>"$T/rec.err" &&
	m --json -c status | py "print(sorted((x[\"role\"], x[\"id\"]) for x in d))" > "$T/st.after" &&
	diff "$T/st.before" "$T/st.after" && grep -q "recovered 17 resources" "$T/rec.err"'

t_ok 'efs down without a terminal refuses in one line, naming the data and --force' '
	before=$(counts) &&
	out=$(m -c "efs down" 2>&1 </dev/null); [ $? -eq 1 ] && [ "$(wc -l <<<"$out")" = 1 ] &&
	grep -q "^efs: refusing to delete 2 resources of workspace .tvpc. (with the EFS file system fs-[0-9a-f]* and all its data) without a terminal to ask on; pass --force$" <<<"$out" &&
	[ "$(counts)" = "$before" ]'
t_ok 'vpc down refuses while the file system uses the VPC' '
	out=$(m -c "vpc down" 2>&1 </dev/null); [ $? -eq 1 ] && grep -q "^vpc: .*still use" <<<"$out"'
t_ok 'down without a terminal refuses unless --force: nothing deleted, as mlsh -c and as mlsh down' '
	before=$(counts) && cp "$STATE" "$T/s.before" &&
	out=$(m -c "down" 2>&1 </dev/null); [ $? -eq 1 ] &&
	grep -q "^down: refusing to delete 17 resources of workspace .tvpc. (with the EFS file system fs-[0-9a-f]* and all its data) without a terminal to ask on; pass --force$" <<<"$out" &&
	out=$(m down 2>&1 </dev/null); [ $? -eq 1 ] && grep -q "^down: refusing to delete 17 resources" <<<"$out" &&
	out=$(m -c "down --yes" 2>&1 </dev/null); [ $? -eq 2 ] && grep -q "^down: unknown flag: --yes (did you mean --force?)$" <<<"$out" &&
	[ "$(counts)" = "$before" ] && cmp -s "$STATE" "$T/s.before"'

t_ok 'down --dry-run plans every delete in dependency order and changes nothing' '
	before=$(counts) && cp "$STATE" "$T/s.before" && out=$(m -c "down --dry-run" 2>/dev/null) &&
	[ "$(counts)" = "$before" ] && cmp -s "$STATE" "$T/s.before" &&
	order=$(awk "NR>1{print \$3}" <<<"$out" | tr "\n" " ") &&
	case "$order" in "jump nat mount-target "*" vpc ") ;; *) echo "$order"; exit 1;; esac'
t_ok 'down removes everything: zero resources tagged with the workspace, type by type' '
	m -c "down --force" >"$T/down.out" 2>"$T/down.err" &&
	grep -q "the workspace cost" "$T/down.err" && [ $(grep -c " removed " "$T/down.out") -eq 17 ] &&
	[ "$(counts)" = "vpc=0 subnet=0 igw=0 rt=0 eip=0 nat=0 sg=0 key=0 instance=0 efs=0" ]'
t_ok 'a second down removes nothing and says so' '
	out=$(m -c down 2>&1 </dev/null) && grep -q "nothing to remove" <<<"$out"'
t_done
