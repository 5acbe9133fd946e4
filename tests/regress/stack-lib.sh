# stack-lib.sh: helpers for the stack-*.t tests (sourced after lib.sh, with
# awscli and py defined).

# Resources carrying the workspace tag, by kind (live ones only). moto ignores
# tag filters on DescribeNatGateways: those are filtered here.
counts() {
	local w=${1:-$WS} f="Name=tag:mlsh:workspace,Values=${1:-$WS}"
	printf 'vpc=%s ' "$(awscli ec2 describe-vpcs --filters "$f" | py 'print(len(d["Vpcs"]))')"
	printf 'subnet=%s ' "$(awscli ec2 describe-subnets --filters "$f" | py 'print(len(d["Subnets"]))')"
	printf 'igw=%s ' "$(awscli ec2 describe-internet-gateways --filters "$f" | py 'print(len(d["InternetGateways"]))')"
	printf 'rt=%s ' "$(awscli ec2 describe-route-tables --filters "$f" | py 'print(len(d["RouteTables"]))')"
	printf 'eip=%s ' "$(awscli ec2 describe-addresses --filters "$f" | py 'print(len(d["Addresses"]))')"
	printf 'nat=%s ' "$(awscli ec2 describe-nat-gateways --filter "$f" | py "print(len([n for n in d['NatGateways'] if n['State'] not in ('deleted','deleting') and {'Key':'mlsh:workspace','Value':'$w'} in n.get('Tags',[])]))")"
	printf 'sg=%s ' "$(awscli ec2 describe-security-groups --filters "$f" | py 'print(len(d["SecurityGroups"]))')"
	printf 'key=%s ' "$(awscli ec2 describe-key-pairs --filters "$f" | py 'print(len(d["KeyPairs"]))')"
	printf 'instance=%s ' "$(awscli ec2 describe-instances --filters "$f" Name=instance-state-name,Values=pending,running,stopping,stopped | py 'print(sum(len(r["Instances"]) for r in d["Reservations"]))')"
	printf 'efs=%s\n' "$(awscli efs describe-file-systems | py "print(len([f for f in d['FileSystems'] if {'Key':'mlsh:workspace','Value':'$w'} in f.get('Tags',[])]))")"
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
