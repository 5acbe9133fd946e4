#!/usr/bin/env bash
# fuzz.t: a short libFuzzer run of the XML and JSON response parsers: a fixed
# number of inputs per target (FUZZ_RUNS, 2000: about a second each on a quiet
# machine, the same work on a busy one; the long runs are `make fuzz`);
# tests/fuzz/run prints the ok / not ok lines. Needs clang with libFuzzer
# (make deps installs clang).
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if ! command -v clang >/dev/null; then
	echo "not ok - fuzz: clang is not installed (make deps)"
	exit 1
fi
FUZZ_RUNS=${FUZZ_RUNS:-2000} exec "$ROOT/tests/fuzz/run"
