#!/usr/bin/env bash
# iam.t: the strict AWS's "iam" switch: a new role cannot be assumed by
# SageMaker (ValidationException, JSON 1.1) and a new instance profile is
# refused by RunInstances (InvalidParameterValue, EC2 XML) for the next N
# uses; then both work. Checked with boto3.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export MLSH="${MLSH:-$ROOT/mlsh}" TESTS_DIR="${TESTS_DIR:-$ROOT/tests}"
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/strict/lib.sh"
strict_start
u="ia$$"

t_out 'sagemaker: a new role is not assumable twice, then the notebook is made' \
	'ValidationException|Could not assume role arn:aws:iam::123456789012:role/'$u'r. Please ensure
ValidationException
ok' '
	strict_set "{\"iam\": {\"calls\": 2}}" && spy "
arn = iam.create_role(RoleName=\"'$u'r\", AssumeRolePolicyDocument=\"{}\")[\"Role\"][\"Arn\"]
kw = dict(NotebookInstanceName=\"'$u'\", InstanceType=\"ml.t3.medium\", RoleArn=arn)
try:
    sm.create_notebook_instance(**kw)
except botocore.exceptions.ClientError as e:
    print(e.response[\"Error\"][\"Code\"] + \"|\" + e.response[\"Error\"][\"Message\"].split(\" that\")[0])
print(err(sm.create_notebook_instance, **kw))
print(err(sm.create_notebook_instance, **kw))"'

t_out 'ec2: a new instance profile is refused once, with the message AWS gives, then accepted' \
	'InvalidParameterValue|Value ('$u'p) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name
ok' '
	strict_set "{\"iam\": {\"calls\": 1}}" && spy "
iam.create_instance_profile(InstanceProfileName=\"'$u'p\")
kw = dict(ImageId=\"ami-12c6146b\", MinCount=1, MaxCount=1, InstanceType=\"t3.micro\", IamInstanceProfile={\"Name\": \"'$u'p\"})
try:
    ec2.run_instances(**kw)
except botocore.exceptions.ClientError as e:
    print(e.response[\"Error\"][\"Code\"] + \"|\" + e.response[\"Error\"][\"Message\"])
print(err(ec2.run_instances, **kw))"'

t_out 'adding the role to the profile re-arms it; an old profile is not affected' 'InvalidParameterValue ok' '
	strict_set "{\"iam\": {\"calls\": 1}}" && spy "
iam.add_role_to_instance_profile(InstanceProfileName=\"'$u'p\", RoleName=\"'$u'r\")
kw = dict(ImageId=\"ami-12c6146b\", MinCount=1, MaxCount=1, InstanceType=\"t3.micro\")
print(err(ec2.run_instances, IamInstanceProfile={\"Arn\": \"arn:aws:iam::123456789012:instance-profile/'$u'p\"}, **kw),
      err(ec2.run_instances, IamInstanceProfile={\"Name\": \"'$u'p\"}, **kw))"'

t_out 'off: a new role is assumable at once' 'ok' '
	strict_reset && spy "
arn = iam.create_role(RoleName=\"'$u'q\", AssumeRolePolicyDocument=\"{}\")[\"Role\"][\"Arn\"]
print(err(sm.create_notebook_instance, NotebookInstanceName=\"'$u'q\", InstanceType=\"ml.t3.medium\", RoleArn=arn))"'

strict_reset
t_done
