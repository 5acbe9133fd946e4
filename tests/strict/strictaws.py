#!/usr/bin/env python3
"""strictaws.py: a loopback HTTP proxy in front of moto that behaves the way
AWS does where moto is lenient (eventual consistency, IAM propagation,
capacity, quotas, persistent spot, lingering ENIs, non-instant states, a
realistic image catalogue and per-AZ instance type offerings).

    strictaws.py --port PORT --upstream http://127.0.0.1:MOTOPORT [--seed N]
                 [--host 127.0.0.1] [--config JSON]

Prints "strictaws ready on PORT" once listening. Every request is forwarded
unchanged (SigV4 headers intact) unless a switch says otherwise; every switch
is off by default, so the proxy is transparent until a test turns one on.

Control API (same port, unsigned):
    GET  /_strict/config   the switches, as JSON
    POST /_strict/config   a JSON object whose top-level keys are merged in;
                           {"all": true} turns every behaviour on with defaults
    POST /_strict/reset    every switch off, counters, ids and the RNG reset
    GET  /_strict/log      one line per request so far: "N SERVICE ACTION STATUS [switch]"

Determinism: requests are handled one at a time (a lock around the whole
exchange), every "for a while" is a count of requests, never wall-clock time,
and every count not given by the test is drawn from random.Random(seed),
re-seeded by reset. The contract is tests/strict/README.md and
/work/wt/_brief/strict-contract.md.

Only ever binds and connects to loopback addresses (or the --host given, the
lab's core namespace).
"""
import argparse
import http.client
import http.server
import json
import random
import re
import sys
import threading
import urllib.parse
import uuid

HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding",
       "te", "trailer", "upgrade", "content-length"}


# ---------------------------------------------------------------- requests

class Req:
    """One client request, parsed enough to decide what to do with it."""

    def __init__(self, method, path, headers, body):
        self.method, self.path, self.headers, self.body = method, path, headers, body
        auth = headers.get("Authorization") or ""
        # Credential=AKID/20260101/us-east-1/ec2/aws4_request
        m = re.search(r"Credential=[^/]+/\d+/([^/]+)/([^/]+)/", auth)
        self.region = m.group(1) if m else "us-east-1"
        self.service = m.group(2) if m else ""
        target = headers.get("X-Amz-Target")
        self.params = {}
        self.json = None
        if target:
            self.protocol = "json"
            self.action = target.split(".")[-1]
            try:
                self.json = json.loads(body or b"{}")
            except ValueError:
                self.json = {}
        elif path.startswith("/2015-02-01/"):
            self.protocol = "rest-json"
            self.action = method + " " + path.split("?")[0]
        else:
            ctype = headers.get("Content-Type") or ""
            text = body.decode("utf-8", "replace") if body else ""
            if not text and "?" in path:
                text = path.split("?", 1)[1]
            q = urllib.parse.parse_qs(text, keep_blank_values=True)
            self.params = {k: v[0] for k, v in q.items()}
            self.action = self.params.get("Action", "")
            if self.service == "ec2" or self.params.get("Version") == "2016-11-15":
                self.protocol = "ec2"
                self.service = "ec2"
            elif self.action or "x-www-form-urlencoded" in ctype:
                self.protocol = "query"
            else:
                self.protocol = "rest"

    def plist(self, prefix):
        """Values of an EC2 query list: InstanceId.1, InstanceId.2, ..."""
        out, i = [], 1
        while (prefix + "." + str(i)) in self.params:
            out.append(self.params[prefix + "." + str(i)])
            i += 1
        return out

    def filters(self):
        """EC2 Filter.N.Name / Filter.N.Value.M as {name: [values]}."""
        out, i = {}, 1
        while ("Filter.%d.Name" % i) in self.params:
            out[self.params["Filter.%d.Name" % i]] = self.plist("Filter.%d.Value" % i)
            i += 1
        return out


class Resp:
    def __init__(self, status, headers, body, switch=None):
        self.status, self.headers, self.body, self.switch = status, headers, body, switch


# ---------------------------------------------------------------- errors
# The wire shape of each protocol's errors, as botocore parses them.

def ec2_error(state, code, message, status=400, switch=None):
    # https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
    body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>"
            "<Code>%s</Code><Message>%s</Message></Error></Errors>"
            "<RequestID>%s</RequestID></Response>"
            % (code, xml_escape(message), state.request_id())).encode()
    return Resp(status, [("Content-Type", "text/xml;charset=UTF-8")], body, switch)


def query_error(state, code, message, status=400, switch=None):
    rid = state.request_id()
    body = ("<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s"
            "</Message></Error><RequestId>%s</RequestId></ErrorResponse>"
            % (code, xml_escape(message), rid)).encode()
    return Resp(status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)], body, switch)


def json_error(state, code, message, status=400, switch=None):
    # JSON 1.1: {"__type": ..., "message": ...} and the x-amzn-ErrorType header.
    rid = state.request_id()
    body = json.dumps({"__type": code, "message": message}).encode()
    return Resp(status, [("Content-Type", "application/x-amz-json-1.1"),
                         ("x-amzn-ErrorType", code), ("x-amzn-RequestId", rid)], body, switch)


def restjson_error(state, code, message, status=400, switch=None):
    # EFS (REST-JSON): x-amzn-ErrorType names the error, the body has
    # ErrorCode and Message (botocore's efs model, e.g. DependencyTimeout).
    rid = state.request_id()
    body = json.dumps({"ErrorCode": code, "Message": message}).encode()
    return Resp(status, [("Content-Type", "application/json"),
                         ("x-amzn-ErrorType", code), ("x-amzn-RequestId", rid)], body, switch)


def error_for(req, state, code, message, status=400, switch=None):
    fn = {"ec2": ec2_error, "json": json_error, "rest-json": restjson_error}.get(
        req.protocol, query_error)
    return fn(state, code, message, status, switch)


def xml_escape(s):
    return (str(s).replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;").replace('"', "&quot;"))


def json_ok(state, obj):
    body = json.dumps(obj).encode()
    return Resp(200, [("Content-Type", "application/x-amz-json-1.1"),
                      ("x-amzn-RequestId", state.request_id())], body)


def ec2_ok(state, action, inner):
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<%sResponse xmlns='
            '"http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>%s</requestId>'
            '%s</%sResponse>' % (action, state.request_id(), inner, action)).encode()
    return Resp(200, [("Content-Type", "text/xml;charset=UTF-8")], body)


# ---------------------------------------------------------------- state

# Each switch's defaults for {"all": true}; a switch set to true takes these.
# {"all": true} must still let a whole stack (vpc, efs, node dl1, node p3,
# notebook ml.p3.8xlarge, grafana) come up, so its limits leave room for it.
DEFAULTS = {
    "consistency": {},                       # calls drawn 1-3 per new id
    "iam": {},                               # calls drawn 1-3 per new role / profile
    "capacity": {"azs": ["us-east-1a"], "types": ["dl1.24xlarge"]},
    "vcpu_limit": {"dl": 96, "p": 64},       # on-demand vCPUs per family
    "quotas": {
        "ec2/L-6E869C2A": 96.0,   # Running On-Demand DL instances (vCPUs)
        "ec2/L-417A185B": 64.0,   # Running On-Demand P instances (vCPUs)
        "ec2/L-85EED4F7": 96.0,   # All DL Spot Instance Requests (vCPUs)
        "ec2/L-7212CCBC": 64.0,   # All P Spot Instance Requests (vCPUs)
    },
    "sagemaker_limit": {"ml.p4d.24xlarge": 0},
    "spot_persistent": True,
    "eni": {},                               # calls drawn 1-3 per deleted ENI owner
    "states": {},                            # describes drawn 1-3 per transition
    "catalogue": True,
    "offerings": True,
}


class State:
    def __init__(self, seed):
        self.seed = seed
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.config = {}
        self.rng = random.Random(self.seed)
        self.n = 0          # requests seen (not control calls)
        self.log = []

    def request_id(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def set_config(self, obj):
        if obj.get("all"):
            for k, v in DEFAULTS.items():
                self.config.setdefault(k, json.loads(json.dumps(v)))
        for k, v in obj.items():
            if k == "all":
                continue
            if k not in DEFAULTS:
                raise ValueError("unknown switch %r" % k)
            if v is True and isinstance(DEFAULTS[k], dict):
                v = json.loads(json.dumps(DEFAULTS[k]))
            if v is False or v is None:
                self.config.pop(k, None)
            else:
                self.config[k] = v

    def on(self, name):
        return self.config.get(name)

    def count(self, spec, lo=1, hi=3):
        """A switch's "calls": given, or drawn from the seed in [lo, hi]."""
        if isinstance(spec, dict) and isinstance(spec.get("calls"), int):
            return spec["calls"]
        return self.rng.randint(lo, hi)


# ---------------------------------------------------------------- behaviours
# Each behaviour: before(req, state) -> Resp or None (answer instead of moto),
# after(req, state, resp) -> Resp (observe / rewrite moto's answer).

BEHAVIOURS = []


# ---------------------------------------------------------------- server

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    state = None
    upstream = None

    def log_message(self, fmt, *args):
        pass

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, resp):
        self.send_response(resp.status)
        for k, v in resp.headers:
            if k.lower() not in HOP:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(resp.body)

    def _control(self, body):
        st = self.state
        if self.path == "/_strict/config" and self.command == "GET":
            out = json.dumps(st.config, sort_keys=True).encode() + b"\n"
            return Resp(200, [("Content-Type", "application/json")], out)
        if self.path == "/_strict/config" and self.command == "POST":
            try:
                obj = json.loads(body or b"{}")
                if not isinstance(obj, dict):
                    raise ValueError("config must be a JSON object")
                st.set_config(obj)
            except ValueError as e:
                msg = json.dumps({"error": str(e)}).encode() + b"\n"
                return Resp(400, [("Content-Type", "application/json")], msg)
            out = json.dumps(st.config, sort_keys=True).encode() + b"\n"
            return Resp(200, [("Content-Type", "application/json")], out)
        if self.path == "/_strict/reset" and self.command == "POST":
            st.reset()
            return Resp(200, [("Content-Type", "application/json")], b"{}\n")
        if self.path == "/_strict/log" and self.command == "GET":
            text = "".join(line + "\n" for line in st.log).encode()
            return Resp(200, [("Content-Type", "text/plain")], text)
        return Resp(404, [("Content-Type", "text/plain")], b"no such control\n")

    def forward(self, req):
        u = urllib.parse.urlsplit(self.upstream)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        conn.request(req.method, req.path, body=req.body or None, headers=headers)
        r = conn.getresponse()
        data = r.read()
        out = Resp(r.status, [(k, v) for k, v in r.getheaders()
                              if k.lower() not in HOP], data)
        conn.close()
        return out

    def _handle(self):
        body = self._body()
        st = self.state
        with st.lock:
            if self.path.startswith("/_strict/"):
                return self._send(self._control(body))
            req = Req(self.command, self.path, self.headers, body)
            st.n += 1
            resp = None
            for b in BEHAVIOURS:
                if st.on(b.name) and hasattr(b, "before"):
                    resp = b.before(req, st)
                    if resp is not None:
                        resp.switch = resp.switch or b.name
                        break
            if resp is None:
                resp = self.forward(req)
                for b in BEHAVIOURS:
                    if st.on(b.name) and hasattr(b, "after"):
                        resp = b.after(req, st, resp) or resp
            st.log.append("%d %s %s %d%s" % (st.n, req.service or "-", req.action or "-",
                                            resp.status, " " + resp.switch if resp.switch else ""))
            self._send(resp)

    def do_GET(self):
        try:
            self._handle()
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception:  # a bug here: say so on stderr and answer 500
            import traceback
            traceback.print_exc()
            self._send(Resp(500, [("Content-Type", "text/plain")], b"strictaws: internal error\n"))

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description="a strict AWS in front of moto")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--config", help="a JSON object of switches to start with")
    a = ap.parse_args()
    Handler.state = State(a.seed)
    Handler.upstream = a.upstream.rstrip("/")
    if a.config:
        Handler.state.set_config(json.loads(a.config))
    srv = Server((a.host, a.port), Handler)
    print("strictaws ready on %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
