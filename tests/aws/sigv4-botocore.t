#!/usr/bin/env bash
# sigv4-botocore.t: mlsh's SigV4 signer (aws/sigv4.c) against botocore's
# SigV4Auth/S3SigV4Auth on a few hundred seeded-random requests with odd
# paths, queries, headers, bodies and session tokens. The driver
# (tests/sigv4/sigv4_driver.c) is built here against $B/libmlsh.a; see
# tests/sigv4/botocore_check.py for what is generated and why.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
: "${MLSH:=$ROOT/mlsh}" "${B:=build}"
case $B in /*) ;; *) B=$ROOT/$B ;; esac
. "$ROOT/tests/lib.sh"

DRIVER=$T/sigv4_driver
CHECK=$ROOT/tests/sigv4/botocore_check.py
# libmlsh.a holds everyone's objects; only sigv4.o and util.o are pulled in,
# but link against the full set in case that changes.
libs=$(pkg-config --cflags --libs libedit libcurl openssl libcjson libssh2 lua5.4 expat 2>/dev/null) ||
	libs=$(pkg-config --cflags --libs openssl)

t_ok 'sigv4 driver builds against libmlsh.a' \
	'${DRIVER_CC:-cc} -std=c11 -D_GNU_SOURCE -Wall -Wextra -I"$ROOT" -I"$ROOT/shell" -o "$DRIVER" "$ROOT/tests/sigv4/sigv4_driver.c" "$B/libmlsh.a" $libs -lm'
t_ok 'python3 has botocore' 'python3 -c "import botocore.auth"'

# One ok/not ok per batch; the summary ("N requests, M mismatches") follows
# as a comment, the first mismatching requests as the failure's detail.
batch() { # kind seed count
	local out rc
	out=$(cd "$T" && python3 "$CHECK" --driver "$DRIVER" --kind "$1" --seed "$2" --count "$3" 2>&1); rc=$?
	t_report "$rc" "sigv4 matches botocore: $1, seed $2, $3 requests" "$out"
	[ "$rc" -eq 0 ] && printf '# %s\n' "$(head -1 <<<"$out")"
	return 0
}
batch paths 1 100
batch queries 2 100
batch headers 3 100
batch s3 4 60
batch mixed 5 100

t_done
