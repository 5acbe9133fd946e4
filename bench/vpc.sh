# `vpc up` wall time, parallel (the default) against the same plan run one
# call at a time (MLSH_SEQUENTIAL=1), and the number of API calls per `up`.
# Against a moto of its own on loopback, directly and through a proxy that
# adds DELAY_MS (default 60) to every request, closer to a real API's latency.
# Target ratio (parallel / sequential) <= 0.6. Loopback only.
set -u
M=${MLSH:-$PWD/mlsh}
RUNS=${RUNS:-5}
DELAY_MS=${DELAY_MS:-60}
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
export MLSH_CHECKIP_URL=http://127.0.0.1:9/no-checkip-in-bench
export HOME=$tmp/home XDG_STATE_HOME=$tmp/state AWS_ACCESS_KEY_ID=AKIDBENCH \
	AWS_SECRET_ACCESS_KEY=bench-secret AWS_REGION=us-east-1
mkdir -p "$HOME/.ssh" && ssh-keygen -q -t ed25519 -N '' -f "$HOME/.ssh/id_ed25519"
freeport() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

port=$(freeport)
python3 -m moto.server -H 127.0.0.1 -p "$port" >"$tmp/moto.log" 2>&1 &
pids+=($!)
MOTO="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -s -o /dev/null "$MOTO/moto-api/" && break; sleep 0.1; done

# A threaded forwarding proxy that sleeps DELAY_MS before each request.
pport=$(freeport)
python3 - "$pport" "$port" "$DELAY_MS" >"$tmp/proxy.log" 2>&1 <<'PY' &
import http.client, http.server, socketserver, sys, time
lport, tport, delay = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) / 1000
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def fwd(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        time.sleep(delay)
        c = http.client.HTTPConnection("127.0.0.1", tport, timeout=60)
        c.request(self.command, self.path, body, dict(self.headers))
        r = c.getresponse(); data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers(); self.wfile.write(data)
    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = fwd
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
S(("127.0.0.1", lport), H).serve_forever()
PY
pids+=($!)
PROXY="http://127.0.0.1:$pport"
for _ in $(seq 1 100); do curl -s -o /dev/null "$PROXY/moto-api/" && break; sleep 0.1; done

# up_ms ENDPOINT WS [env…]: wall ms of one `vpc up`; calls in $tmp/calls.
up_ms() {
	local ep=$1 ws=$2 t0 t1
	shift 2
	t0=$(date +%s%N)
	env "$@" "$M" --endpoint-url "$ep" -w "$ws" -c "vpc up --allow 203.0.113.7/32 --types dl1.24xlarge" \
		>/dev/null 2>"$tmp/up.err" || { cat "$tmp/up.err" >&2; return 1; }
	t1=$(date +%s%N)
	sed -nE 's/.*\(([0-9]+) calls.*/\1/p' "$tmp/up.err" >"$tmp/calls"
	"$M" --endpoint-url "$ep" -w "$ws" -c "down --force" >/dev/null 2>&1
	echo $(( (t1 - t0) / 1000000 ))
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for target in "moto $MOTO" "moto+${DELAY_MS}ms $PROXY"; do
	set -- $target
	name=$1 ep=$2
	par=() seq=()
	for i in $(seq 1 "$RUNS"); do
		par+=("$(up_ms "$ep" "bp$i" MLSH_SEQUENTIAL=0)") || exit 1
		calls=$(cat "$tmp/calls")
		seq+=("$(up_ms "$ep" "bs$i" MLSH_SEQUENTIAL=1)") || exit 1
	done
	p=$(printf '%s\n' "${par[@]}" | median)
	s=$(printf '%s\n' "${seq[@]}" | median)
	echo "  vpc up ($name): parallel ${p} ms, sequential ${s} ms, ratio $(awk "BEGIN{printf \"%.2f\", $p/$s}") (target <= 0.6); ${calls} API calls per up (median of $RUNS)"
done
