#!/usr/bin/env bash
# gen-efs-ops.t: aws/efs_ops.inc is what scripts/gen-efs-ops.py makes from
# the installed botocore, and it holds what the AWS layer relies on.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export MLSH="${MLSH:-$ROOT/mlsh}" TESTS_DIR="${TESTS_DIR:-$ROOT/tests}"
. "$TESTS_DIR/lib.sh"
export INC="$ROOT/aws/efs_ops.inc"

t_ok 'aws/efs_ops.inc is up to date with botocore (else rerun scripts/gen-efs-ops.py)' '
	python3 "$ROOT/scripts/gen-efs-ops.py" "$T/efs_ops.inc" &&
	diff <(tail -n +3 "$INC") <(tail -n +3 "$T/efs_ops.inc")'

t_ok 'EFS operations carry their method, URI and bound members' '
	grep -q "{ \"CreateFileSystem\", \"POST\", \"/2015-02-01/file-systems\", NULL, 0 }" "$INC" &&
	grep -q "{ \"DeleteFileSystem\", \"DELETE\", \"/2015-02-01/file-systems/{FileSystemId}\"" "$INC" &&
	grep -q "{ \"TagKeys\", AWS_LOC_QUERY, \"tagKeys\" }" "$INC"'

t_ok 'idempotency tokens come from the models' '
	grep -q "{ \"efs\", \"CreateFileSystem\", \"CreationToken\" }" "$INC" &&
	grep -q "{ \"efs\", \"CreateAccessPoint\", \"ClientToken\" }" "$INC" &&
	grep -q "{ \"ec2\", \"RunInstances\", \"ClientToken\" }" "$INC" &&
	grep -q "{ \"ec2\", \"CreateNatGateway\", \"ClientToken\" }" "$INC" &&
	! grep -q "{ \"ec2\", \"CreateVpc\"," "$INC" &&
	grep -q "{ \"sagemaker\", \"CreatePipeline\", \"ClientRequestToken\" }" "$INC"'

t_done
