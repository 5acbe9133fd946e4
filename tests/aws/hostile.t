#!/usr/bin/env bash
# hostile.t: what a hostile endpoint can make mlsh print or read, through
# tests/aws/hostile.py on loopback. Terminal escapes in error codes, messages,
# request ids (also under --trace), object keys and values must never reach
# the terminal raw; an endless or huge body fails the call quickly with one
# line naming the service and the limit.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export MLSH="${MLSH:-$ROOT/mlsh}" TESTS_DIR="${TESTS_DIR:-$ROOT/tests}"
. "$TESTS_DIR/lib.sh"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing-secret-key-0123456789
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
: >"$T/empty"
export AWS_SHARED_CREDENTIALS_FILE="$T/empty" AWS_CONFIG_FILE="$T/empty"
unset AWS_ENDPOINT_URL MLSH_MAX_BODY

t_bg hostile '[ -s "$T/port" ]' python3 "$TESTS_DIR/aws/hostile.py" --port-file "$T/port" ||
	{ t_done; exit 1; }
EP="http://127.0.0.1:$(cat "$T/port")"
m() { "$MLSH" --norc --endpoint-url "$EP" "$@"; }
# No ESC, BEL or C1 byte (raw 0x9b or UTF-8 c2 9b) in a file.
clean() { ! LC_ALL=C grep -q "$(printf '[\033\007\233]')\|$(printf '\302\233')" "$1"; }

t_ok 'hostile server answers (the test can fail)' '
	curl -s -X POST -H "X-Amz-Target: SageMaker.DescribeNotebookInstance" "$EP/" -D out -o /dev/null &&
	! clean out'

t_ok 'JSON error __type, message and request id: escaped on the terminal' '
	m -c "api sagemaker DescribeNotebookInstance NotebookInstanceName=x" >out 2>err
	[ $? -eq 1 ] && clean err && clean out &&
	grep -q "^sagemaker: Validation\\\\x1b\[2J\\\\x1b\]0;pwned\\\\x07\\\\u009b31mred: bad" err &&
	[ "$(wc -l <err)" -eq 1 ]'

t_ok 'the request id header is escaped under --trace too' '
	m --trace -c "api sagemaker DescribeNotebookInstance NotebookInstanceName=x" >out 2>err
	clean err && grep -q "request id \\\\x1b\[2J" err'

t_ok 'values are escaped' '
	m -c "api sagemaker ListNotebookInstances" >out 2>err &&
	clean out && clean err && grep -q "nb\\\\x1b\[2J" out'
t_ok 'object keys (of a map), table headers and values are escaped' '
	m -c "lua \"return api.call(\\\"sagemaker\\\", \\\"DescribeTrainingJob\\\", {TrainingJobName = \\\"x\\\"}).HyperParameters\"" >out 2>err &&
	clean out && clean err && grep -q "^Top\\\\x1b\[2J" out'

t_ok 'a table of objects: headers escaped' '
	m -c "lua \"return {api.call(\\\"sagemaker\\\", \\\"DescribeTrainingJob\\\", {TrainingJobName = \\\"x\\\"}).HyperParameters}\"" >out 2>err &&
	clean out && grep -q "KEY\\\\X1B\[2J\|KEY\\\\x1b\[2J" out'

t_ok '--json output holds escapes only (valid JSON, no control byte)' '
	m --json -c "api sagemaker DescribeTrainingJob TrainingJobName=x" >out 2>err &&
	clean out && python3 -S -c "import json,sys; d=json.load(open(\"out\"))[\"HyperParameters\"]; assert \"\\x1b\" in d[\"Top\\x1b[2J\\x1b]0;pwned\\x07\\x9b31mred\"]"'

t_ok 'an endless body: one line naming the service and the limit, status 1' '
	timeout 60 "$MLSH" --norc --endpoint-url "$EP" -c "api sagemaker ListTags ResourceArn=x" >out 2>err
	[ $? -eq 1 ] &&
	[ "$(cat err)" = "sagemaker: ResponseTooLarge: the ListTags answer is larger than 64 MiB, the limit (MLSH_MAX_BODY raises it); not read" ]'

t_ok 'MLSH_MAX_BODY lowers the cap' '
	MLSH_MAX_BODY=1M timeout 60 "$MLSH" --norc --endpoint-url "$EP" -c "api sagemaker ListTags ResourceArn=x" >out 2>err
	[ $? -eq 1 ] && grep -q "larger than 1 MiB, the limit" err'

t_ok 'a Content-Length past the cap is refused before the body is read' '
	timeout 30 "$MLSH" --norc --endpoint-url "$EP" -c "api sagemaker ListModels" >out 2>err
	[ $? -eq 1 ] && grep -q "^sagemaker: ResponseTooLarge: the ListModels answer is larger than 64 MiB" err'

t_ok 'a bad MLSH_MAX_BODY is a clear error' '
	MLSH_MAX_BODY=lots "$MLSH" --norc --endpoint-url "$EP" -c "api sagemaker ListModels" >out 2>err
	[ $? -eq 1 ] &&
	[ "$(cat err)" = "sagemaker: InvalidConfig: MLSH_MAX_BODY must be a size such as 64M or 1G, not '"'"'lots'"'"'" ]'

t_ok 'normal answers are untouched' '
	m --json -c "api sagemaker ListEndpoints" >out 2>err && [ "$(tr -d " \n\t" <out)" = "{}" ]'

t_done
