#!/usr/bin/env bash
# notebook, grafana and the Lua session scripts against moto, read back with
# the AWS CLI (node is in stack-node.t).
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/regress/node-lib.sh"

W=svc
t_ok 'the network and EFS come up' '
	m -c "workspace $W; vpc up --allow 203.0.113.7/32 --types dl1.24xlarge; efs up" >/dev/null 2>"$T/up.err" ||
	{ cat "$T/up.err"; false; }'

# --- notebook ---
t_ok 'notebook up --dry-run changes nothing' '
	m -c "notebook up --dry-run" 2>&1 | grep -q "CreateNotebookInstance " &&
	! awscli sagemaker describe-notebook-instance --notebook-instance-name $W-notebook >/dev/null 2>&1'
t_ok 'notebook up' 'm -c "notebook up" 2>&1 | grep -q "notebook .* created"'
t_ok 'the notebook: private subnet, its own SG (sg-notebook), no direct internet, lifecycle config, model repository' '
	awscli sagemaker describe-notebook-instance --notebook-instance-name $W-notebook |
	py "assert d[\"SubnetId\"]==\"$(rec $W subnet-private id)\", d; assert d[\"SecurityGroups\"]==[\"$(rec $W sg-notebook id)\"];
assert d[\"DirectInternetAccess\"]==\"Disabled\"; assert d[\"NotebookInstanceLifecycleConfigName\"]==\"$W-onstart\";
assert d[\"DefaultCodeRepository\"]==\"https://github.com/DMW2151/msls-pytorch-dcgan\"; assert d[\"InstanceType\"]==\"ml.p3.8xlarge\";
assert d[\"RoleArn\"].endswith(\"/mlsh-$W-notebook\"); assert d[\"NotebookInstanceStatus\"]==\"InService\""'
t_ok 'its OnStart mounts EFS and exports GPU and memory stats' '
	awscli sagemaker describe-notebook-instance-lifecycle-config --notebook-instance-lifecycle-config-name $W-onstart |
	py "sys.stdout.write(base64.b64decode(d[\"OnStart\"][0][\"Content\"]).decode())" >"$T/onstart.sh" &&
	sh -n "$T/onstart.sh" && grep -q "mount -t nfs4 -o \"\$NFS_OPTS\"" "$T/onstart.sh" &&
	grep -q "^EFS_IP='"'"'$(rec $W mount-target private_ip)'"'"'$" "$T/onstart.sh" &&
	grep -q "nvidia-smi" "$T/onstart.sh" && grep -q "mem_used_percent" "$T/onstart.sh"'
t_ok 'its OnStart installs the idle-kernel autostop: 60m by default, cron every minute, the checker compiles' '
	grep -q "^AUTOSTOP='"'"'3600'"'"'$" "$T/onstart.sh" &&
	grep -q "/usr/local/bin/mlsh-notebook-autostop tick" "$T/onstart.sh" &&
	sed -n "/<<.NBAUTOSTOP.$/,/^NBAUTOSTOP$/p" "$T/onstart.sh" | sed "1d;\$d" >"$T/nbas.py" &&
	grep -q "stop-notebook-instance" "$T/nbas.py" && grep -q "/api/sessions" "$T/nbas.py" &&
	python3 -c "import ast,sys; ast.parse(open(sys.argv[1]).read())" "$T/nbas.py" &&
	m --json -c status | py "r={x[\"role\"]:x for x in d}[\"notebook\"]; assert r[\"autostop\"]==\"1h\", r"'
t_ok 'notebook up --autostop: bad durations are one-line errors' '
	bad=0; for v in 0 -5m 1y abc; do out=$(m -c "notebook up --autostop=$v --dry-run" 2>&1); [ $? -ne 0 ] &&
	    [ "$(printf "%s\n" "$out" | wc -l)" = 1 ] && grep -qF -- "'"'"'$v'"'"'" <<<"$out" || bad=1; done; [ $bad = 0 ]'
t_ok 'the notebook role trusts SageMaker' '
	awscli iam get-role --role-name mlsh-$W-notebook | grep -q sagemaker.amazonaws.com &&
	awscli iam list-attached-role-policies --role-name mlsh-$W-notebook | grep -q AmazonSageMakerFullAccess'
t_ok 'notebook status NAME (the name completes from the state)' 'm --json -c "notebook status $W-notebook" | py "assert d[\"state\"]==\"InService\""'
t_err 'notebook status with a wrong name' "notebook: no notebook 'x' in workspace 'svc' (it has svc-notebook)" 1 'm -c "notebook status x"'
t_ok 'a second notebook up creates nothing' 'm -c "notebook up" 2>&1 | grep -q "nothing new"'
t_ok 'notebook stop / start wait for Stopped / InService' '
	m -c "notebook stop" | grep -q "^state *Stopped" && m -c "notebook start" | grep -q "^state *InService"'
t_ok 'notebook down removes the notebook, its lifecycle config and role' '
	m -c "notebook down --force" >/dev/null 2>&1 &&
	! awscli sagemaker describe-notebook-instance --notebook-instance-name $W-notebook >/dev/null 2>&1 &&
	! awscli sagemaker describe-notebook-instance-lifecycle-config --notebook-instance-lifecycle-config-name $W-onstart >/dev/null 2>&1 &&
	! awscli iam get-role --role-name mlsh-$W-notebook >/dev/null 2>&1'

# --- grafana ---
t_ok 'grafana up: t3.small, private subnet, no public IP, IMDSv2, CloudWatch read role' '
	m -c "grafana up" >/dev/null 2>&1 && G=$(rec $W grafana id) &&
	instance "$G" "assert i[\"InstanceType\"]==\"t3.small\" and i[\"SubnetId\"]==\"$(rec $W subnet-private id)\";
assert not i.get(\"PublicIpAddress\"); assert i[\"MetadataOptions\"][\"HttpTokens\"]==\"required\";
assert i[\"ImageId\"]==\"ami-0ubuntujammy0001\"; assert i[\"IamInstanceProfile\"][\"Arn\"].endswith(\"/mlsh-$W-grafana\")" &&
	awscli iam list-attached-role-policies --role-name mlsh-$W-grafana | grep -q CloudWatchReadOnlyAccess'
t_ok 'grafana user-data provisions the CloudWatch data source and the dashboard' '
	awscli ec2 describe-instance-attribute --instance-id $(rec $W grafana id) --attribute userData |
	py "b=base64.b64decode(d[\"UserData\"][\"Value\"]); sys.stdout.write((__import__(\"gzip\").decompress(b) if b[:2]==b\"\\x1f\\x8b\" else b).decode())" >"$T/gud.sh" &&
	sh -n "$T/gud.sh" && grep -q "type: cloudwatch" "$T/gud.sh" && grep -q "authType: default" "$T/gud.sh" &&
	sed -n "/<<.DASHBOARD.$/,/^DASHBOARD$/p" "$T/gud.sh" | sed "1d;\$d" |
	py "t=[p[\"title\"] for p in d[\"panels\"]]; assert any(\"CPU\" in x for x in t) and any(\"HPU\" in x for x in t) and any(\"GPU\" in x for x in t) and any(\"Disk\" in x for x in t) and any(\"Memory\" in x for x in t), t"'
t_ok 'grafana user-data installs the idle watchdog (no SSH, no :3000 connection, 60m by default); status shows it' '
	grep -q "^AUTOSTOP='"'"'3600'"'"'$" "$T/gud.sh" && grep -q "mlsh-autostop install \"\${AUTOSTOP:-off}\" grafana 3000" "$T/gud.sh" &&
	grep -q "^port_in_use()" "$T/gud.sh" &&
	m --json -c status | py "r={x[\"role\"]:x for x in d}[\"grafana\"]; assert r[\"autostop\"]==\"1h\" and r[\"stops_in_seconds\"] is None, r"'
t_ok 'grafana up --autostop: bad durations are one-line errors' '
	bad=0; for v in 0 -5m 1y abc; do out=$(m -c "grafana up --autostop=$v --dry-run" 2>&1); [ $? -ne 0 ] &&
	    [ "$(printf "%s\n" "$out" | wc -l)" = 1 ] && grep -qF -- "'"'"'$v'"'"'" <<<"$out" || bad=1; done; [ $bad = 0 ]'
t_ok 'grafana status and a second grafana up' '
	m -c "grafana status" | grep -q "^url *http://10\." && m -c "grafana up" 2>&1 | grep -q "nothing new"'
t_ok 'grafana down' '
	m -c "grafana down --force" >/dev/null 2>&1 && [ "$(tagged $W $W-grafana)" = 0 ] &&
	! awscli iam get-role --role-name mlsh-$W-grafana >/dev/null 2>&1'

# --- the Lua session scripts ---
t_ok 'scripts/msls-dl1.mlsh brings up the DL1 stack, and again creates nothing' '
	m "$TESTS_DIR/../scripts/msls-dl1.mlsh" 203.0.113.7/32 dl1stack >"$T/s1.out" 2>&1 &&
	grep -q "^node dl1-1 dl1.24xlarge running 10\." "$T/s1.out" && [ "$(tagged dl1stack dl1stack-dl1-1)" = 1 ] &&
	[ "$(tagged dl1stack dl1stack-grafana)" = 1 ] &&
	m "$TESTS_DIR/../scripts/msls-dl1.mlsh" 203.0.113.7/32 dl1stack >"$T/s2.out" 2>&1 &&
	! grep -q " created " "$T/s2.out" && [ "$(tagged dl1stack)" = 3 ]'
t_ok 'scripts/msls-notebook.mlsh brings up the notebook stack' '
	m "$TESTS_DIR/../scripts/msls-notebook.mlsh" 203.0.113.7/32 nbstack ml.p2.xlarge >"$T/s3.out" 2>&1 &&
	grep -q "^notebook nbstack-notebook ml.p2.xlarge InService" "$T/s3.out"'
t_ok 'down removes all of it, roles and notebook included' '
	m -c "workspace dl1stack; down --force" >/dev/null 2>&1 && m -c "workspace nbstack; down --force" >/dev/null 2>&1 &&
	[ "$(tagged dl1stack)" = 0 ] && ! awscli iam get-role --role-name mlsh-dl1stack-node >/dev/null 2>&1 &&
	! awscli sagemaker describe-notebook-instance --notebook-instance-name nbstack-notebook >/dev/null 2>&1 &&
	! awscli iam get-role --role-name mlsh-nbstack-notebook >/dev/null 2>&1'
t_done
