# tests/strict/lib.sh: helpers for tests on the strict AWS (strictaws.py),
# sourced after tests/lib.sh.
#
#   strict_set '{"consistency": {"calls": 2}}'   # merge switches
#   strict_reset                                  # every switch off, counters cleared
#   strict_get                                    # the switches, as JSON
#   strict_log                                    # "N SERVICE ACTION STATUS [switch]" lines
#   scli ec2 describe-vpcs ...                    # the AWS CLI through the proxy
#   mcli ec2 describe-vpcs ...                    # the AWS CLI straight to moto
#   spy 'python using ec2 = boto3 client through the proxy'
#
# tests/run starts one proxy for the run (STRICT_URL); without it (a test run
# on its own) strict_start starts moto and a proxy of its own (t_moto, t_bg:
# stopped by PID at exit). Every test that sets switches resets them when done.
: "${TESTS_DIR:?}"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing-secret-key-0123456789
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
: >"$T/empty"
export AWS_SHARED_CREDENTIALS_FILE="$T/empty" AWS_CONFIG_FILE="$T/empty"
unset AWS_ENDPOINT_URL

# strict_start: make sure MOTO_URL and STRICT_URL are set (own servers,
# t_moto and t_bg, stopped by PID at exit, if not).
strict_start() {
	local port
	if [ -z "${MOTO_URL:-}" ]; then
		t_moto || return 1
		unset STRICT_URL
	fi
	if [ -z "${STRICT_URL:-}" ]; then
		port=$(t_free_port)
		t_bg strict "grep -q '^strictaws ready' '$T/strict.log'" \
			python3 "$TESTS_DIR/strict/strictaws.py" --port "$port" --upstream "$MOTO_URL" ||
			return 1
		export STRICT_URL="http://127.0.0.1:$port"
	fi
	strict_reset
}

strict_set() { curl -sf -X POST --data "$1" "$STRICT_URL/_strict/config" >/dev/null; }
strict_reset() { curl -sf -X POST "$STRICT_URL/_strict/reset" >/dev/null; }
strict_get() { curl -sf "$STRICT_URL/_strict/config"; }
strict_log() { curl -sf "$STRICT_URL/_strict/log"; }
scli() { aws --endpoint-url "$STRICT_URL" --output json "$@"; }
mcli() { aws --endpoint-url "$MOTO_URL" --output json "$@"; }
# spy CODE: python with boto3 clients ec2, efs, sm (sagemaker), iam, sq
# (service-quotas) through the proxy, and `err(fn, **kw)` returning the error
# code (and printing nothing) or "ok"; botocore retries are off so every
# request is seen once.
spy() {
	python3 -c '
import sys, os, json, boto3, botocore.config, botocore.exceptions
cfg = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"})
def c(n): return boto3.client(n, endpoint_url=os.environ["STRICT_URL"], config=cfg)
ec2, efs, sm, iam, sq = c("ec2"), c("efs"), c("sagemaker"), c("iam"), c("service-quotas")
def err(fn, **kw):
    try:
        fn(**kw); return "ok"
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]
exec(sys.argv[1])' "$1"
}
