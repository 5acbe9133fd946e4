#!/usr/bin/env bash
# catalogue.t: the strict AWS's "catalogue" switch: DescribeImages from
# tests/strict/catalogue.json (Habana and GPU DLAMIs, Ubuntu, Amazon Linux),
# deprecated images hidden unless IncludeDeprecated or named by id; the
# account's own images still come from moto; RunInstances takes a
# catalogue id. Checked with the AWS CLI and boto3.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export MLSH="${MLSH:-$ROOT/mlsh}" TESTS_DIR="${TESTS_DIR:-$ROOT/tests}"
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/strict/lib.sh"
strict_start
names() { scli ec2 describe-images "$@" --query 'sort_by(Images, &CreationDate)[].Name' --output text | tr '\t' '\n'; }

t_out 'Habana PyTorch DLAMIs by name pattern: only the ones not deprecated' \
	'Deep Learning AMI Habana PyTorch 2.1.1 SynapseAI 1.14.0 (Ubuntu 22.04) 20250115
Deep Learning AMI Habana PyTorch 2.1.1 SynapseAI 1.14.0 (Amazon Linux 2) 20250301' '
	strict_set "{\"catalogue\": true}" &&
	names --owners amazon --filters "Name=name,Values=Deep Learning AMI Habana PyTorch *"'

t_out 'IncludeDeprecated shows the older ones too' '9' '
	scli ec2 describe-images --owners 898082745236 --include-deprecated \
		--filters "Name=name,Values=Deep Learning AMI Habana PyTorch *,Deep Learning AMI Habana TensorFlow *" \
		--query "length(Images)" --output text'

t_out 'GPU PyTorch DLAMIs on Ubuntu: none visible lists P3' 'none' '
	scli ec2 describe-images --owners amazon \
		--filters "Name=name,Values=Deep Learning*GPU PyTorch*(Ubuntu*" Name=architecture,Values=x86_64 \
		--query "Images[?contains(Description, \`P3\`)].Name" --output text >"$T/p3" && [ ! -s "$T/p3" ] && echo none'

t_out 'the last image listing P3 is deprecated, found with IncludeDeprecated' \
	'Deep Learning OSS Nvidia Driver AMI GPU PyTorch 2.3.0 (Ubuntu 20.04) 20240615	2026-06-15T10:11:12.000Z' '
	scli ec2 describe-images --owners amazon --include-deprecated \
		--filters "Name=name,Values=Deep Learning*GPU PyTorch*(Ubuntu*" \
		--query "reverse(sort_by(Images[?contains(Description, \`P3,\`)], &CreationDate))[0].[Name, DeprecationTime]" --output text'

t_out 'a deprecated image named by id is still described' 'Deep Learning AMI Habana PyTorch 1.12.0 SynapseAI 1.6.0 (Ubuntu 20.04) 20220926' '
	names --image-ids ami-0d1a0000000000005'

t_out 'Canonical Ubuntu 22.04 amd64 by owner id' 'ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20260310' '
	names --owners 099720109477 --filters "Name=name,Values=ubuntu/images/*ubuntu-jammy-22.04-amd64-server-*"'

t_out 'moto'"'"'s built-in images are hidden; the account'"'"'s own image is shown' 'mine-'"$$"' 0' '
	iid=$(scli ec2 run-instances --image-id ami-0c0a0000000000002 --instance-type t3.micro --query "Instances[0].InstanceId" --output text) &&
	scli ec2 create-image --instance-id "$iid" --name mine-'$$' >/dev/null &&
	echo "$(names --owners self) $(scli ec2 describe-images --owners amazon --filters "Name=name,Values=amzn-ami*" --query "length(Images)" --output text)"'

t_out 'RunInstances with a catalogue image id works through moto' 'ami-0d1a0000000000007' '
	scli ec2 run-instances --image-id ami-0d1a0000000000007 --instance-type dl1.24xlarge --query "Instances[0].ImageId" --output text'

t_out 'the image description names the supported instance types' 'Supported EC2 instances: DL1.' '
	scli ec2 describe-images --image-ids ami-0d1a0000000000007 --query "Images[0].Description" --output text | cut -d" " -f1-4'

t_out 'off: moto'"'"'s own catalogue' '0' 'strict_reset && names --owners 898082745236 | grep -c "Habana PyTorch 2.1.1"'

strict_reset
t_done
