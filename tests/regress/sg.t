#!/usr/bin/env bash
# Security groups, the Grafana admin password and the cost model against
# moto, read back with boto3. Requests go through tests/regress/sgdeps.py,
# which refuses DeleteSecurityGroup while another group's rule names the
# group, as AWS does (moto does not).
. "$TESTS_DIR/lib.sh"
: "${MOTO_URL:?tests/run starts moto and sets MOTO_URL}"
export AWS_ACCESS_KEY_ID=AKIDMLSHTEST AWS_SECRET_ACCESS_KEY=mlsh-secret-never-printed AWS_REGION=us-east-1
WS=tsg
STATE="$XDG_STATE_HOME/mlsh/$WS.json"
mkdir -p "$HOME/.ssh" && ssh-keygen -q -t ed25519 -N '' -f "$HOME/.ssh/id_ed25519"
export MLSH_CHECKIP_URL=http://127.0.0.1:9/no-checkip-in-tests MLSH_DEPENDENCY_TIMEOUT=20

t_bg sgdeps '[ -s "$T/port" ]' \
	python3 "$TESTS_DIR/regress/sgdeps.py" --target "$MOTO_URL" --port-file "$T/port" --log "$T/calls" ||
	{ t_done; exit 1; }
U="http://127.0.0.1:$(cat "$T/port")"
m() { "$MLSH" --norc --endpoint-url "$U" -w "$WS" "$@"; }
# bpy CODE: python with ec2 (boto3, straight to moto), st (the state file).
bpy() {
	python3 -c "
import base64, gzip, json, os, re, stat, boto3
ec2 = boto3.client('ec2', endpoint_url='$MOTO_URL', region_name='us-east-1')
st = json.load(open('$STATE')) if os.path.exists('$STATE') else {'resources': {}}
def rid(role): return st['resources'][role]['id']
def groups(): return ec2.describe_security_groups(Filters=[{'Name': 'tag:mlsh:workspace', 'Values': ['$WS']}])['SecurityGroups']
def rules():
    role = {r['id']: k for k, r in st['resources'].items() if r.get('type') == 'security-group'}
    out = set()
    for g in groups():
        for p in g['IpPermissions']:
            k = (role[g['GroupId']], p['IpProtocol'], p.get('FromPort'), p.get('ToPort'))
            out |= {k + ('cidr ' + r['CidrIp'],) for r in p['IpRanges']}
            out |= {k + ('ipv6 ' + r['CidrIpv6'],) for r in p.get('Ipv6Ranges', [])}
            out |= {k + (role.get(r['GroupId'], r['GroupId']),) for r in p['UserIdGroupPairs']}
    return out
WANT = {
    ('sg-jump', 'tcp', 22, 22, 'cidr 203.0.113.7/32'),
    ('sg-nodes', 'tcp', 22, 22, 'sg-jump'),
    ('sg-nodes', '-1', None, None, 'sg-nodes'),
    ('sg-notebook', 'tcp', 22, 22, 'sg-jump'),
    ('sg-grafana', 'tcp', 22, 22, 'sg-jump'),
    ('sg-grafana', 'tcp', 3000, 3000, 'sg-jump'),
    ('sg-efs', 'tcp', 2049, 2049, 'sg-nodes'),
    ('sg-efs', 'tcp', 2049, 2049, 'sg-notebook'),
}
$1"
}

t_ok 'vpc up makes one group per role, tagged like the rest' '
	m -c "vpc up --allow 203.0.113.7/32 --types dl1.24xlarge" >/dev/null 2>"$T/up.err" || { cat "$T/up.err"; false; }
	bpy "
g = groups(); names = sorted(x[\"GroupName\"] for x in g)
assert names == sorted(\"$WS-sg-\" + n for n in (\"jump\", \"nodes\", \"notebook\", \"grafana\", \"efs\")), names
for x in g:
    t = {d[\"Key\"]: d[\"Value\"] for d in x.get(\"Tags\", [])}
    assert t.get(\"mlsh:workspace\") == \"$WS\" and t.get(\"Name\") == x[\"GroupName\"], (x[\"GroupName\"], t)
    assert x[\"VpcId\"] == rid(\"vpc\"), x"'
t_ok 'every ingress rule read back: exactly the expected set, sources by group' '
	bpy "r = rules(); assert r == WANT, (sorted(r - WANT, key=str), sorted(WANT - r, key=str))"'
t_ok 'no ingress from 0.0.0.0/0 or ::/0, no range wider than --allow; egress left as AWS makes it' '
	bpy "
for x in groups():
    for p in x[\"IpPermissions\"]:
        for r in p[\"IpRanges\"]:
            assert r[\"CidrIp\"] == \"203.0.113.7/32\" and x[\"GroupName\"] == \"$WS-sg-jump\", (x[\"GroupName\"], r)
        assert not p.get(\"Ipv6Ranges\"), p
    e = x[\"IpPermissionsEgress\"]
    assert len(e) == 1 and e[0][\"IpProtocol\"] == \"-1\" and [r[\"CidrIp\"] for r in e[0][\"IpRanges\"]] == [\"0.0.0.0/0\"], e"'
t_ok 'a second vpc up adds no rule and no group' '
	m -c "vpc up --types dl1.24xlarge" >/dev/null 2>&1 && bpy "assert rules() == WANT and len(groups()) == 5"'
t_ok 'a workspace from before: its VPC-wide rules are revoked by vpc up' '
	bpy "
ec2.authorize_security_group_ingress(GroupId=rid(\"sg-nodes\"), IpPermissions=[{\"IpProtocol\": \"-1\", \"IpRanges\": [{\"CidrIp\": \"10.0.0.0/16\"}]}])
ec2.authorize_security_group_ingress(GroupId=rid(\"sg-efs\"), IpPermissions=[{\"IpProtocol\": \"tcp\", \"FromPort\": 2049, \"ToPort\": 2049, \"IpRanges\": [{\"CidrIp\": \"10.0.0.0/16\"}]}])
st[\"resources\"][\"sg-nodes\"].setdefault(\"steps\", {})[\"ingress-vpc\"] = True
st[\"resources\"][\"sg-efs\"].setdefault(\"steps\", {})[\"ingress-nfs\"] = True
json.dump(st, open(\"$STATE\", \"w\"))
assert rules() != WANT" &&
	m -c "vpc up --types dl1.24xlarge" >/dev/null 2>&1 && bpy "
assert rules() == WANT, sorted(rules() ^ WANT, key=str)
assert \"ingress-vpc\" not in st[\"resources\"][\"sg-nodes\"][\"steps\"]"'

t_ok 'grafana up launches into sg-grafana with a generated admin password in its user-data' '
	m -c "grafana up" >/dev/null 2>"$T/g.err" || { cat "$T/g.err"; false; }
	bpy "
pw = st[\"grafana\"][\"admin_password\"]
assert re.fullmatch(r\"[A-Za-z0-9_-]{24}\", pw), pw
i = ec2.describe_instances(InstanceIds=[rid(\"grafana\")])[\"Reservations\"][0][\"Instances\"][0]
assert [g[\"GroupId\"] for g in i[\"NetworkInterfaces\"][0][\"Groups\"]] == [rid(\"sg-grafana\")], i[\"NetworkInterfaces\"]
ud = base64.b64decode(ec2.describe_instance_attribute(InstanceId=rid(\"grafana\"), Attribute=\"userData\")[\"UserData\"][\"Value\"])
ud = (gzip.decompress(ud) if ud[:2] == b\"\\x1f\\x8b\" else ud).decode()  # over 16 KB: gzipped, as cloud-init takes it
assert \"ADMIN_PASSWORD=%s\" % repr(pw) in ud, \"password not provisioned\"
assert \"GF_SECURITY_ADMIN_PASSWORD=%s\" in ud and \"EnvironmentFile=\" in ud and \"reset-admin-password\" in ud
assert \"admin/admin\" not in ud.replace(\"never Grafana\x27s admin/admin\", \"\")
assert not re.search(r\"(?i)admin_password\\s*=\\s*admin\\b\", ud)
open(\"$T/ud.sh\", \"w\").write(ud)"'
t_ok 'the state file holding the password is 0600' '
	[ "$(stat -c %a "$STATE")" = 600 ] && grep -q admin_password "$STATE"'
t_ok 'a second grafana up keeps the password' '
	before=$(bpy "print(st[\"grafana\"][\"admin_password\"])") && m -c "grafana up" >/dev/null 2>&1 &&
	[ "$(bpy "print(st[\"grafana\"][\"admin_password\"])")" = "$before" ]'
t_ok 'grafana --dry-run in a fresh workspace makes no password and prints none' '
	out=$("$MLSH" --norc --endpoint-url "$U" -w tsg2 --json -c "grafana up --dry-run" 2>&1); ! grep -q admin_password "$XDG_STATE_HOME/mlsh/tsg2.json" 2>/dev/null'
t_ok 'the rendered user-data is POSIX sh and has the lock wait, the retries and the console markers' '
	sh -n "$T/ud.sh" && dash -n "$T/ud.sh" &&
	grep -q "/var/lib/dpkg/lock-frontend" "$T/ud.sh" && grep -q "fuser" "$T/ud.sh" &&
	grep -q "DPkg::Lock::Timeout=" "$T/ud.sh" && grep -q "^TRIES=3" "$T/ud.sh" && grep -q "^LOCK_WAIT=300" "$T/ud.sh" &&
	grep -q "log \"FAILED \$\*\"" "$T/ud.sh" && grep -q "log \"ready on :3000\"" "$T/ud.sh" &&
	grep -q ">/dev/console" "$T/ud.sh" &&
	{ ! command -v shellcheck >/dev/null || shellcheck -s sh -S warning "$T/ud.sh"; }'
t_ok 'grafana status reports what the console says (moto: no marker yet)' '
	m --json -c "grafana status" | python3 -S -c "import json,sys; d=json.load(sys.stdin); assert d[\"grafana\"].startswith(\"unknown\"), d"'

t_ok 'cost --json: public IPv4 (jump host, Elastic IP), root volumes, NAT data as a note' '
	m --json -c cost | python3 -c "
import json, sys
d = json.load(sys.stdin)
r = {x[\"role\"]: x for x in d[\"resources\"]}
assert r[\"jump\"][\"usd_per_hour\"] == 0.0052, r[\"jump\"]
assert r[\"jump/public-ipv4\"][\"type\"] == \"public IPv4\" and r[\"jump/public-ipv4\"][\"usd_per_hour\"] == 0.005, r
assert r[\"jump/ebs\"][\"type\"] == \"EBS gp2 8 GB\" and abs(r[\"jump/ebs\"][\"usd_per_hour\"] - 8 * 0.10 / 730) < 1e-6, r
assert r[\"eip\"][\"type\"] == \"public IPv4 (Elastic IP)\" and r[\"eip\"][\"usd_per_hour\"] == 0.005, r
assert r[\"grafana/ebs\"][\"type\"] == \"EBS gp3 20 GB\" and abs(r[\"grafana/ebs\"][\"usd_per_hour\"] - 20 * 0.08 / 730) < 1e-6, r
assert \"grafana/public-ipv4\" not in r, \"grafana has no public address\"
n = d[\"not_metered\"][0]
assert n[\"role\"] == \"nat/data\" and n[\"usd_per_gb\"] == 0.045, n
assert abs(d[\"total\"][\"usd_per_hour\"] - 0.0843) < 1e-4, d[\"total\"]"'
t_ok 'cost --prices lists the public IPv4, EBS and NAT data prices with their units' '
	m --json -c "cost --prices" | python3 -c "
import json, sys
p = {x[\"key\"]: x for x in json.load(sys.stdin)}
assert p[\"public-ipv4\"][\"price\"] == 0.005 and p[\"public-ipv4\"][\"unit\"] == \"\$/h\"
assert p[\"ebs-gp3-gb-month\"][\"price\"] == 0.08 and p[\"ebs-gp3-gb-month\"][\"unit\"] == \"\$/GB-month\"
assert p[\"nat-gb\"][\"price\"] == 0.045 and p[\"nat-gb\"][\"unit\"] == \"\$/GB\""'

t_ok 'the proxy refuses to delete a group another group refers to (it can fail)' '
	bpy "
v = rid(\"vpc\")
a = ec2.create_security_group(GroupName=\"tsg-probe-a\", Description=\"a\", VpcId=v)[\"GroupId\"]
b = ec2.create_security_group(GroupName=\"tsg-probe-b\", Description=\"b\", VpcId=v)[\"GroupId\"]
ec2.authorize_security_group_ingress(GroupId=b, IpPermissions=[{\"IpProtocol\": \"tcp\", \"FromPort\": 22, \"ToPort\": 22, \"UserIdGroupPairs\": [{\"GroupId\": a}]}])
open(\"$T/probe\", \"w\").write(a + \" \" + b + \"\\n\")" &&
	read -r a b <"$T/probe" &&
	m -c "api ec2 DeleteSecurityGroup GroupId=$a" >"$T/probe.out" 2>&1; [ $? -ne 0 ] && grep -q DependencyViolation "$T/probe.out" &&
	m -c "api ec2 DeleteSecurityGroup GroupId=$b; api ec2 DeleteSecurityGroup GroupId=$a" >/dev/null 2>&1'
t_ok 'grafana down forgets the password; the next grafana up makes a new one' '
	old=$(bpy "print(st[\"grafana\"][\"admin_password\"])") &&
	m -c "grafana down --force" >/dev/null 2>&1 && ! grep -q admin_password "$STATE" &&
	m -c "grafana up" >/dev/null 2>&1 && new=$(bpy "print(st[\"grafana\"][\"admin_password\"])") &&
	[ ${#new} -eq 24 ] && [ "$new" != "$old" ]'
: >"$T/calls"
t_ok 'down revokes the rules that name a group before deleting it, and leaves zero groups' '
	m -c "down --force" >"$T/down.out" 2>"$T/down.err" || { cat "$T/down.err"; false; }
	{ ! grep -q "DependencyViolation" "$T/calls" &&
	[ "$(grep -c "^RevokeSecurityGroupIngress$" "$T/calls")" -ge 1 ] &&
	[ "$(grep -c "^DeleteSecurityGroup$" "$T/calls")" -eq 5 ] ||
	{ sort "$T/calls" | uniq -c; false; }; } &&
	bpy "assert groups() == [], [g[\"GroupName\"] for g in groups()]"'
t_done
