#!/usr/bin/env bash
# eni.t: the strict AWS's "eni" switch: after DeleteMountTarget or
# DeleteNotebookInstance, the next N DeleteSubnet / DeleteSecurityGroup of
# its subnet / groups answer DependencyViolation, then succeed.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export MLSH="${MLSH:-$ROOT/mlsh}" TESTS_DIR="${TESTS_DIR:-$ROOT/tests}"
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/strict/lib.sh"
strict_start
u="en$$"

t_out 'EFS mount target deleted: its subnet and group are still in use twice' \
	'DependencyViolation|The subnet '"'"'SUBNET'"'"' has dependencies and cannot be deleted.
DependencyViolation|resource SG has a dependent object
DependencyViolation DependencyViolation ok ok' '
	strict_set "{\"eni\": {\"calls\": 2}}" && spy "
def e(fn, **kw):
    try:
        fn(**kw); return \"ok\"
    except botocore.exceptions.ClientError as x:
        return x.response[\"Error\"][\"Code\"] + \"|\" + x.response[\"Error\"][\"Message\"]
v = ec2.create_vpc(CidrBlock=\"10.99.0.0/16\")[\"Vpc\"][\"VpcId\"]
s = ec2.create_subnet(VpcId=v, CidrBlock=\"10.99.1.0/24\")[\"Subnet\"][\"SubnetId\"]
g = ec2.create_security_group(VpcId=v, GroupName=\"'$u'\", Description=\"nfs\")[\"GroupId\"]
fs = efs.create_file_system(CreationToken=\"'$u'\")[\"FileSystemId\"]
mt = efs.create_mount_target(FileSystemId=fs, SubnetId=s, SecurityGroups=[g])[\"MountTargetId\"]
efs.delete_mount_target(MountTargetId=mt)
print(e(ec2.delete_subnet, SubnetId=s).replace(s, \"SUBNET\"))
print(e(ec2.delete_security_group, GroupId=g).replace(g, \"SG\"))
print(err(ec2.delete_subnet, SubnetId=s), err(ec2.delete_security_group, GroupId=g),
      err(ec2.delete_subnet, SubnetId=s), err(ec2.delete_security_group, GroupId=g))"'

t_out 'a notebook deleted: its subnet is in use once' 'DependencyViolation ok' '
	strict_set "{\"eni\": {\"calls\": 1}}" && spy "
v = ec2.create_vpc(CidrBlock=\"10.100.0.0/16\")[\"Vpc\"][\"VpcId\"]
s = ec2.create_subnet(VpcId=v, CidrBlock=\"10.100.1.0/24\")[\"Subnet\"][\"SubnetId\"]
g = ec2.create_security_group(VpcId=v, GroupName=\"'$u'n\", Description=\"nb\")[\"GroupId\"]
sm.create_notebook_instance(NotebookInstanceName=\"'$u'\", InstanceType=\"ml.t3.medium\", RoleArn=\"arn:aws:iam::123456789012:role/r\", SubnetId=s, SecurityGroupIds=[g])
sm.stop_notebook_instance(NotebookInstanceName=\"'$u'\")
sm.delete_notebook_instance(NotebookInstanceName=\"'$u'\")
print(err(ec2.delete_subnet, SubnetId=s), err(ec2.delete_subnet, SubnetId=s))"'

t_out 'off: deleted at once' 'ok' '
	strict_reset && spy "
v = ec2.create_vpc(CidrBlock=\"10.101.0.0/16\")[\"Vpc\"][\"VpcId\"]
s = ec2.create_subnet(VpcId=v, CidrBlock=\"10.101.1.0/24\")[\"Subnet\"][\"SubnetId\"]
fs = efs.create_file_system(CreationToken=\"'$u'o\")[\"FileSystemId\"]
mt = efs.create_mount_target(FileSystemId=fs, SubnetId=s)[\"MountTargetId\"]
efs.delete_mount_target(MountTargetId=mt)
print(err(ec2.delete_subnet, SubnetId=s))"'

strict_reset
t_done
