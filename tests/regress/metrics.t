#!/usr/bin/env bash
# metrics NODE against moto: data put with the AWS CLI as a node's
# mlsh-metrics would (namespace mlsh, dimensions Workspace and Node, disk per
# path) and AWS/EC2 CPUUtilization of its instance come back from
# GetMetricData with the same values (--json), and are drawn one panel per
# series; a node without metrics is one line; bad --since values are one
# line each. The node is a made-up instance record in the state file.
# moto answers GetMetricData in one page, so a small fake CloudWatch on
# loopback (query protocol, XML) gives two pages joined by NextToken, out of
# time order, and a throttled answer once.
. "$TESTS_DIR/lib.sh"
export AWS_ACCESS_KEY_ID=AKIDMLSHTEST AWS_SECRET_ACCESS_KEY=mlsh-secret AWS_REGION=us-east-1

t_moto || { t_done; exit 1; }
U=$MOTO_URL
W=tmet
m() { "$MLSH" --norc --endpoint-url "$U" -w "$W" "$@"; }
awscli() { aws --endpoint-url "$U" --region us-east-1 --output json "$@"; }
py() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }

mkdir -p "$XDG_STATE_HOME/mlsh"
printf '{"schema":1,"workspace":"%s","resources":{"jump":{"type":"instance","id":"i-0jump","attrs":{"public_ip":"203.0.113.9","state":"running"}},"dl1-1":{"type":"instance","id":"i-0abc","attrs":{"private_ip":"10.0.1.5","state":"running","instance_type":"dl1.24xlarge"}},"dl1-2":{"type":"instance","id":"i-0def","attrs":{"private_ip":"10.0.1.6","state":"running","instance_type":"dl1.24xlarge"}}}}\n' \
	"$W" >"$XDG_STATE_HOME/mlsh/$W.json"

# Five minutes of data, a point per minute, ending two minutes ago.
NOW=$(date -u +%s)
ts() { date -u -d "@$(( (NOW / 60 - $1) * 60 ))" +%Y-%m-%dT%H:%M:%SZ; }
dims='{"Name":"Workspace","Value":"'$W'"},{"Name":"Node","Value":"dl1-1"}'
data=""
for i in 1 2 3 4 5; do
	t=$(ts $((7 - i)))
	data="$data${data:+,}{\"MetricName\":\"cpu_used_percent\",\"Value\":$((i * 10)),\"Unit\":\"Percent\",\"Timestamp\":\"$t\",\"Dimensions\":[$dims]}"
	data="$data,{\"MetricName\":\"disk_used_percent\",\"Value\":4$i,\"Unit\":\"Percent\",\"Timestamp\":\"$t\",\"Dimensions\":[$dims,{\"Name\":\"path\",\"Value\":\"/efs\"}]}"
	data="$data,{\"MetricName\":\"hpu_memory_used\",\"Value\":${i}000,\"Unit\":\"Megabytes\",\"Timestamp\":\"$t\",\"Dimensions\":[$dims,{\"Name\":\"index\",\"Value\":\"3\"}]}"
done
t_ok 'put-metric-data: a node'\''s metrics, as mlsh-metrics sends them' '
	awscli cloudwatch put-metric-data --namespace mlsh --metric-data "[$data]" &&
	awscli cloudwatch put-metric-data --namespace AWS/EC2 --metric-data \
	    "[{\"MetricName\":\"CPUUtilization\",\"Value\":77.5,\"Unit\":\"Percent\",\"Timestamp\":\"$(ts 3)\",\"Dimensions\":[{\"Name\":\"InstanceId\",\"Value\":\"i-0abc\"}]}]"'

m --json -c "metrics dl1-1" >"$T/m.json" 2>"$T/m.err"
t_ok 'metrics --json: every series with the values put, in time order' '
	py "
assert d[\"node\"] == \"dl1-1\" and d[\"instance_id\"] == \"i-0abc\" and d[\"workspace\"] == \"$W\", d
assert d[\"since_seconds\"] == 3600 and d[\"period_seconds\"] % 60 == 0 and d[\"period_seconds\"] >= 60, d
S = {(x[\"metric\"], x[\"dimensions\"].get(\"path\", x[\"dimensions\"].get(\"index\"))): x for x in d[\"metrics\"]}
assert sorted(S) == [(\"CPUUtilization\", None), (\"cpu_used_percent\", None), (\"disk_used_percent\", \"/efs\"),
                     (\"hpu_memory_used\", \"3\")], sorted(S)
c = S[(\"cpu_used_percent\", None)]
assert c[\"values\"] == [10, 20, 30, 40, 50] and c[\"unit\"] == \"%\", c
assert c[\"min\"] == 10 and c[\"max\"] == 50 and c[\"last\"] == 50, c
assert c[\"timestamps\"] == sorted(c[\"timestamps\"]) and len(c[\"timestamps\"]) == 5, c
assert c[\"dimensions\"] == {\"Workspace\": \"$W\", \"Node\": \"dl1-1\"}, c
assert S[(\"disk_used_percent\", \"/efs\")][\"values\"] == [41, 42, 43, 44, 45]
h = S[(\"hpu_memory_used\", \"3\")]; assert h[\"values\"] == [1000, 2000, 3000, 4000, 5000] and h[\"unit\"] == \"MB\", h
e = S[(\"CPUUtilization\", None)]; assert e[\"values\"] == [77.5] and e[\"namespace\"] == \"AWS/EC2\", e
" <"$T/m.json"' || cat "$T/m.json" "$T/m.err"
t_ok 'the timestamps are the minutes the data was put at' '
	py "
c = [x for x in d[\"metrics\"] if x[\"metric\"] == \"cpu_used_percent\"][0]
assert c[\"timestamps\"] == [\"$(ts 6)\", \"$(ts 5)\", \"$(ts 4)\", \"$(ts 3)\", \"$(ts 2)\"], c[\"timestamps\"]
" <"$T/m.json"'

COLUMNS=100 m -c "metrics dl1-1" >"$T/m.txt" 2>&1
t_ok 'the panels: one per series, with unit, min, max and last' '
	grep -q "^dl1-1 (i-0abc) · last 1h · a point per [0-9]*s" "$T/m.txt" &&
	grep -q "cpu_used_percent  %  min 10  max 50  last 50" "$T/m.txt" &&
	grep -q "disk_used_percent path=/efs  %  min 41  max 45  last 45" "$T/m.txt" &&
	grep -q "hpu_memory_used index=3  MB  min 1000  max 5000  last 5000" "$T/m.txt" &&
	grep -q "CPUUtilization (AWS/EC2)  %  min 77.5  max 77.5  last 77.5" "$T/m.txt" &&
	grep -q "minutes to [0-9][0-9]:[0-9][0-9] UTC" "$T/m.txt" &&
	[ "$(grep -c "┤" "$T/m.txt")" -ge 8 ] && ! grep -q "[^ -~]\[" "$T/m.txt"' || cat "$T/m.txt"
t_ok 'a panel fits the width' '
	python3 -c "
import sys
w = max(len(l.rstrip(chr(10))) for l in open(sys.argv[1], encoding=\"utf-8\"))
assert w <= 100, w" "$T/m.txt"'

t_err 'a node without metrics: one line' \
	"metrics: no CloudWatch metrics for dl1-2 in the last 1h (namespace mlsh, dimensions Workspace=$W Node=dl1-2; the node sends them every minute once its mlsh-metrics timer runs)" 1 \
	'm -c "metrics dl1-2"'
t_ok 'the same with --json: an empty list' '
	m --json -c "metrics dl1-2" | py "assert d[\"metrics\"] == [] and d[\"instance_id\"] == \"i-0def\", d"'
t_ok 'an older window: a coarser period, the data still there' '
	m --json -c "metrics dl1-1 --since 30d" | py "
assert d[\"period_seconds\"] % 300 == 0 and d[\"since_seconds\"] == 30 * 86400, d
c = [x for x in d[\"metrics\"] if x[\"metric\"] == \"cpu_used_percent\"][0]
assert len(c[\"values\"]) >= 1 and abs(sum(c[\"values\"]) / len(c[\"values\"]) - 30) < 1e-9, c"'

# The fake CloudWatch: ListMetrics gives one metric; GetMetricData gives the
# later points first with NextToken p2, then the earlier ones; the first
# call is throttled (retried inside). Every request body goes to its log.
cat >"$T/fakecw.py" <<'PY'
import http.server, sys, urllib.parse
log = open(sys.argv[2], "a")
calls = {"n": 0}
def member(ts, vs):
    t = "".join("<member>%s</member>" % x for x in ts)
    v = "".join("<member>%s</member>" % x for x in vs)
    return ("<MetricDataResults><member><Id>m0</Id><Label>cpu</Label><Timestamps>%s</Timestamps>"
            "<Values>%s</Values><StatusCode>PartialData</StatusCode></member></MetricDataResults>" % (t, v))
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        q = urllib.parse.parse_qs(body)
        log.write(body + "\n"); log.flush()
        act = q["Action"][0]
        if act == "ListMetrics":
            r = ("<ListMetricsResult><Metrics><member><Namespace>mlsh</Namespace><MetricName>cpu_used_percent</MetricName>"
                 "<Dimensions><member><Name>Workspace</Name><Value>tmet</Value></member>"
                 "<member><Name>Node</Name><Value>dl1-9</Value></member></Dimensions></member></Metrics></ListMetricsResult>")
        elif "NextToken" not in q:
            calls["n"] += 1
            if calls["n"] == 1:
                return self.send(400, "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                                 "<Message>Rate exceeded</Message></Error><RequestId>x</RequestId></ErrorResponse>")
            r = ("<GetMetricDataResult>" + member(["2026-12-02T10:03:00Z", "2026-12-02T10:04:00Z"], ["3", "4.5"]) +
                 "<NextToken>p2</NextToken></GetMetricDataResult>")
        else:
            r = "<GetMetricDataResult>" + member(["2026-12-02T10:01:00Z", "2026-12-02T10:02:00Z"], ["1", "2"]) + "</GetMetricDataResult>"
        self.send(200, "<%sResponse>%s<ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></%sResponse>" % (act, r, act))
    def send(self, code, text):
        b = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
FP=$(t_free_port)
t_bg fakecw "curl -s -o /dev/null -X POST -d Action=ListMetrics http://127.0.0.1:$FP/" python3 "$T/fakecw.py" "$FP" "$T/fakecw.req" ||
	{ t_done; exit 1; }
python3 - "$XDG_STATE_HOME/mlsh/$W.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["resources"]["dl1-9"] = {"type": "instance", "attrs": {"state": "running"}}
json.dump(d, open(sys.argv[1], "w"))
PY
: >"$T/fakecw.req"
"$MLSH" --norc --endpoint-url "http://127.0.0.1:$FP" -w "$W" --json -c "metrics dl1-9" >"$T/fake.json" 2>"$T/fake.err"
t_ok 'two GetMetricData pages (NextToken), a throttled try retried: one series in time order' '
	py "
assert d[\"instance_id\"] is None, d
(c,) = d[\"metrics\"]
assert c[\"values\"] == [1, 2, 3, 4.5], c
assert c[\"timestamps\"] == [\"2026-12-02T10:0%d:00Z\" % i for i in (1, 2, 3, 4)], c
" <"$T/fake.json"' || cat "$T/fake.json" "$T/fake.err"
t_ok 'the second page was asked with the first one'\''s NextToken, the same queries' '
	python3 - "$T/fakecw.req" <<'\''PY'\''
import sys, urllib.parse
reqs = [urllib.parse.parse_qs(l.strip()) for l in open(sys.argv[1]) if "GetMetricData" in l]
assert len(reqs) == 3, reqs
assert "NextToken" not in reqs[0] and "NextToken" not in reqs[1] and reqs[2]["NextToken"] == ["p2"], reqs
for r in reqs:
    assert r["MetricDataQueries.member.1.MetricStat.Metric.MetricName"] == ["cpu_used_percent"], r
    assert r["MetricDataQueries.member.1.MetricStat.Stat"] == ["Average"], r
    assert r["ScanBy"] == ["TimestampAscending"] and int(r["MetricDataQueries.member.1.MetricStat.Period"][0]) % 60 == 0, r
PY'

# The period: at most one point per panel column (the width less the
# axis), whole minutes, 5 minutes past 15 days, an hour past 63 days.
period() { COLUMNS=80 m --json -c "metrics dl1-1 --since $1" | py "print(d[\"period_seconds\"])"; }
t_ok 'the period from --since and the width: 1h 60 s, 1d 1260 s, 30d 37200 s, 100d 126000 s' '
	[ "$(period 1h)" = 60 ] && [ "$(period 1d)" = 1260 ] && [ "$(period 30d)" = 37200 ] &&
	[ "$(period 100d)" = 126000 ]'

t_err 'no such node' "metrics: no node 'dl9-9' in workspace '$W' (nodes: dl1-1, dl1-2, dl1-9)" 1 'm -c "metrics dl9-9"'
forms='give a number with s, m, h or d (30m, 1h, 2h30m, 90s)'
t_err '--since 0' "metrics: --since: bad duration '0': $forms" 1 'm -c "metrics dl1-1 --since 0"'
t_err '--since -1h' "metrics: --since: bad duration '-1h': $forms" 1 'm -c "metrics dl1-1 --since -1h"'
t_err '--since abc' "metrics: --since: bad duration 'abc': $forms" 1 'm -c "metrics dl1-1 --since abc"'
t_err '--since 1m: below 5m' "metrics: --since: duration '1m' is out of range: 5m to 455d" 1 \
	'm -c "metrics dl1-1 --since 1m"'
t_err '--since 500d: more than CloudWatch keeps' "metrics: --since: duration '500d' is out of range: 5m to 455d" 1 \
	'm -c "metrics dl1-1 --since 500d"'
t_err 'no node given' "metrics: missing argument (usage: metrics [--since DURATION] NODE)" 2 'm -c "metrics"'
t_done
