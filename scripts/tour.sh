#!/usr/bin/env bash
# make tour: run the tour against a moto started on a free loopback port,
# stopped by its PID at the end. State goes to a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v python3 >/dev/null && python3 -c 'import moto' 2>/dev/null || {
	echo "demo: moto is missing; install it with: pip install 'moto[server]'" >&2; exit 1; }
tmp=$(mktemp -d)
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
python3 -m moto.server -H 127.0.0.1 -p "$port" >"$tmp/moto.log" 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null; wait $moto 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 1 100); do
	curl -s -o /dev/null "http://127.0.0.1:$port/moto-api/" && break
	sleep 0.1
done
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1
export XDG_STATE_HOME="$tmp/state"
./mlsh --norc --endpoint-url "http://127.0.0.1:$port" scripts/tour.mlsh
