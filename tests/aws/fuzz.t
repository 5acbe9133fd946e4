#!/usr/bin/env bash
# fuzz.t: a short libFuzzer run (about 10 s in all) of the XML and JSON
# response parsers; tests/fuzz/run prints the ok / not ok lines. Needs clang
# with libFuzzer (make deps installs clang).
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if ! command -v clang >/dev/null; then
	echo "not ok - fuzz: clang is not installed (make deps)"
	exit 1
fi
FUZZ_SECONDS=${FUZZ_SECONDS:-5} exec "$ROOT/tests/fuzz/run"
