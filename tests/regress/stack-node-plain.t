#!/usr/bin/env bash
# node on the suite's shared moto (no Deep Learning AMIs; AWS managed IAM
# policies only when started with MOTO_IAM_LOAD_MANAGED_POLICIES): what a user
# of a bare emulator sees. The AMI is not guessed; --ami works; a missing
# managed policy is a warning, not a failure.
. "$TESTS_DIR/lib.sh"
: "${MOTO_URL:?tests/run starts moto and sets MOTO_URL}"
export AWS_ACCESS_KEY_ID=AKIDMLSHTEST AWS_SECRET_ACCESS_KEY=mlsh-secret AWS_REGION=us-east-1
m() { "$MLSH" --endpoint-url "$MOTO_URL" "$@"; }
awscli() { aws --endpoint-url "$MOTO_URL" --region us-east-1 --output json "$@"; }
py() { python3 -S -c "import json,sys; d=json.load(sys.stdin); $1"; }
mkdir -p "$HOME/.ssh" && ssh-keygen -q -t ed25519 -N '' -f "$HOME/.ssh/id_ed25519"
W=plainnode
DLAMI=ami-dca37ea5	# moto's built-in "Deep Learning AMI Ubuntu Linux - 2.4_Oct2017"

t_ok 'the network and EFS' '
	m -c "workspace $W; vpc up --allow 203.0.113.7/32 --types dl1.24xlarge; efs up" >/dev/null 2>&1'
t_err 'no Habana AMI: one line naming what was tried' \
	"node: no AMI for dl1: tried 'Deep Learning AMI Habana PyTorch*', '*Habana*PyTorch*' (owner amazon); give one with --ami, or ami_name in node_kinds" 1 \
	'm -c "node dl1 up"'
t_ok 'with --ami: created; the agent policy attached, or a warning where the endpoint lacks it' '
	out=$(m -c "node dl1 up --ami $DLAMI" 2>&1) && grep -q "dl1-1 .* created" <<<"$out" &&
	if awscli iam list-attached-role-policies --role-name mlsh-$W-node | grep -q CloudWatchAgentServerPolicy; then
		! grep -v "cannot read Service Quotas here" <<<"$out" | grep -q "warning"
	else
		grep -q "^node: warning: arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy is not attached" <<<"$out"
	fi'
t_ok 'moto has no Service Quotas for ec2: one warning, and node up goes on' '
	grep -c "^node: warning: cannot read Service Quotas here (" <<<"$(m -c "node dl1 up --ami $DLAMI --dry-run --count 2; node dl1 up --ami $DLAMI --dry-run --count 3" 2>&1)" | grep -qx 1'
t_ok 'the node: private, no public IP, IMDSv2, the given AMI' '
	awscli ec2 describe-instances --filters "Name=tag:Name,Values=$W-dl1-1" |
	py "i=d[\"Reservations\"][0][\"Instances\"][0]; assert i[\"ImageId\"]==\"$DLAMI\" and not i.get(\"PublicIpAddress\") and i[\"MetadataOptions\"][\"HttpTokens\"]==\"required\""'
t_ok 'vpc up; efs up; node dl1 up; status; down: nothing tagged is left' '
	m -c "status" | grep -q "^dl1-1 " && m -c "down --force" >/dev/null 2>&1 &&
	[ "$(awscli ec2 describe-instances --filters "Name=tag:mlsh:workspace,Values=$W" "Name=instance-state-name,Values=pending,running,stopping,stopped" | py "print(sum(len(r[\"Instances\"]) for r in d[\"Reservations\"]))")" = 0 ] &&
	! awscli iam get-role --role-name mlsh-$W-node >/dev/null 2>&1 &&
	! awscli iam get-instance-profile --instance-profile-name mlsh-$W-node >/dev/null 2>&1'
t_done
