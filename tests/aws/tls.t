#!/usr/bin/env bash
# tls.t: HTTPS endpoints: the certificate is verified, AWS_CA_BUNDLE is
# honoured, and one client keeps its TLS connection across calls. The server
# is tests/aws/faultproxy.py with a throwaway self-signed certificate for
# 127.0.0.1, in front of moto (MOTO_URL, else a moto of its own).
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export MLSH="${MLSH:-$ROOT/mlsh}" TESTS_DIR="${TESTS_DIR:-$ROOT/tests}"
. "$TESTS_DIR/lib.sh"
DRV="$ROOT/${B:-build}/tests/test_aws_moto"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing-secret-key-0123456789
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
: >"$T/empty"
export AWS_SHARED_CREDENTIALS_FILE="$T/empty" AWS_CONFIG_FILE="$T/empty"
unset AWS_ENDPOINT_URL AWS_CA_BUNDLE

if [ ! -x "$DRV" ]; then
	t_report 1 "driver $DRV is built" "run make ${B:-build}/tests/test_aws_moto"
	t_done; exit
fi
[ -n "${MOTO_URL:-}" ] || t_moto || { t_done; exit 1; }
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" \
	-days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>"$T/openssl.log"
t_bg proxy '[ -s "$T/proxy.port" ]' \
	python3 "$TESTS_DIR/aws/faultproxy.py" --target "$MOTO_URL" --port-file "$T/proxy.port" \
	--tls-cert "$T/cert.pem" --tls-key "$T/key.pem" || { t_done; exit 1; }
HTTPS="https://127.0.0.1:$(cat "$T/proxy.port")"
call() { "$DRV" call --endpoint "$HTTPS" "$@"; }

t_ok 'an unknown certificate is refused with a TLS error, not retried' '
	! call --trace sts GetCallerIdentity 2>"$T/err" &&
	grep -q "^sts: TLSError: $HTTPS/: " "$T/err" &&
	[ "$(grep -c "^failed: .*attempt 1, new connection" "$T/err")" = 1 ] &&
	! grep -q "attempt 2" "$T/err"'

t_ok 'AWS_CA_BUNDLE makes it trusted' '
	AWS_CA_BUNDLE="$T/cert.pem" call sts GetCallerIdentity | grep -q 123456789012'

t_ok 'one client keeps its TLS connection: 1 new, 4 reused' '
	AWS_CA_BUNDLE="$T/cert.pem" call --trace --repeat 5 sts GetCallerIdentity 2>"$T/trace" >/dev/null &&
	[ "$(grep -c "attempt 1, new connection" "$T/trace")" = 1 ] &&
	[ "$(grep -c "attempt 1, reused connection" "$T/trace")" = 4 ]'

# Not a check: what the kept connection saves, for the record.
AWS_CA_BUNDLE="$T/cert.pem" call --repeat 30 sts GetCallerIdentity 2>&1 >/dev/null |
	sed 's/^# /# kept-alive TLS: /'
AWS_CA_BUNDLE="$T/cert.pem" call --repeat 30 --fresh sts GetCallerIdentity 2>&1 >/dev/null |
	sed 's/^# /# fresh client per call: /'

t_bg_stop_all
t_done
