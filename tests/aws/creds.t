#!/usr/bin/env bash
# creds.t: profiles and regions from the shared AWS files, through the shell
# (aws/creds.c via the `profile` and `region` builtins). Everything lives in
# lib.sh's temp HOME; IMDS is never reachable (no EC2 DMI, loopback endpoint).
. "$TESTS_DIR/lib.sh"
export MLSH_DMI_DIR="$T/dmi" AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:9
unset AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE AWS_ENDPOINT_URL
mkdir -p "$MLSH_DMI_DIR" "$HOME/.aws"
cat >"$HOME/.aws/config" <<'INI'
# comment
[default]
region = eu-west-1
[profile  dev]   
region = eu-west-2 ; inline comment
s3 =
  region = nested-must-not-win
[stray]
region = ap-south-1
INI
cat >"$HOME/.aws/credentials" <<'INI'
[ci]
aws_access_key_id = AKIDCI
aws_secret_access_key = secretci
INI

m() { "$MLSH" --norc "$@"; }

t_ok 'default profile region from ~/.aws/config' \
	'm -c region | grep -q "eu-west-1"'
t_ok '--profile picks "[profile  dev]" despite blanks, comments, sub-section' \
	'm -p dev -c region | grep -q "eu-west-2$"'
t_ok 'AWS_PROFILE selects the profile' \
	'AWS_PROFILE=dev m -c region | grep -q "eu-west-2$"'
t_ok 'AWS_DEFAULT_REGION beats the profile' \
	'AWS_DEFAULT_REGION=us-west-1 m -p dev -c region | grep -q "us-west-1"'
t_ok 'AWS_REGION beats AWS_DEFAULT_REGION' \
	'AWS_REGION=us-west-2 AWS_DEFAULT_REGION=us-west-1 m -c region | grep -q "us-west-2"'
t_ok '--region beats everything' \
	'AWS_REGION=us-west-2 m -r ca-central-1 -p dev -c region | grep -q "ca-central-1"'
t_ok 'a profile of the credentials file alone exists; its region is the default' \
	'm -c "profile ci" | grep -q "us-east-1"'
t_ok '"[stray]" in the config file is not a profile' \
	'! m -c "profile stray" 2>/dev/null'
t_ok 'an unknown profile is refused' \
	'! m -c "profile nope" 2>/dev/null'
t_ok 'AWS_CONFIG_FILE moves the config file' \
	'printf "[profile alt]\nregion = me-south-1\n" >"$T/alt" &&
	 AWS_CONFIG_FILE="$T/alt" m -p alt -c region | grep -q "me-south-1"'
t_ok 'no config files: us-east-1' \
	'AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent m -c region | grep -q "us-east-1"'
t_done
