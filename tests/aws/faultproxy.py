#!/usr/bin/env python3
"""faultproxy.py: a loopback HTTP proxy in front of moto that misbehaves on cue.

    faultproxy.py --target http://127.0.0.1:PORT [--faults LIST] [--port-file F]
                  [--tls-cert CERT --tls-key KEY]

With --tls-cert/--tls-key it speaks HTTPS (to test certificate checks,
AWS_CA_BUNDLE and TLS session reuse); it always forwards over plain HTTP.

Listens on 127.0.0.1 (a free port, written to --port-file). Each request takes
the next fault of the script; when the script is used up, requests are
forwarded. LIST is comma-separated:

    pass          forward to the target
    503           answer 503 with an HTML page (what a load balancer says)
    500           answer 500 with an HTML page
    throttle      answer the protocol's throttling error (EC2 RequestLimitExceeded,
                  query Throttling, JSON/REST-JSON ThrottlingException)
    reset         drop the connection (RST) without forwarding
    reset-after   forward (the resource is created), then drop the connection
                  instead of answering: the client never learns it worked
    stall:SECS    say nothing for SECS seconds, then close
    ACTION=FAULT  FAULT for the next request of ACTION only (DeleteNatGateway=
                  stall:30); other requests pass until one of ACTION comes

Control endpoint (not counted as requests):
    POST /__fault__/script   body: a new LIST (replaces what is left; clears
                             the log)
    GET  /__fault__/log      one line per request so far: "N ACTION FAULT"
Only ever binds and connects to loopback addresses.
"""
import argparse
import http.client
import http.server
import os
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse

HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding",
       "te", "trailer", "upgrade", "content-length"}


class State:
    def __init__(self, faults):
        self.lock = threading.Lock()
        self.faults = list(faults)
        self.log = []

    def next_fault(self, action):
        with self.lock:
            fault = self.faults[0] if self.faults else "pass"
            want, eq, f = fault.partition("=")
            if eq and want != action:
                fault = "pass"          # waits for a request of its action
            elif self.faults:
                self.faults.pop(0)
                fault = f if eq else fault
            self.log.append("%d %s %s" % (len(self.log) + 1, action, fault))
            return fault


def parse_list(text):
    return [f.strip() for f in text.split(",") if f.strip()]


def action_of(handler, body):
    target = handler.headers.get("X-Amz-Target")
    if target:
        return target.split(".")[-1]
    if body:
        q = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        if "Action" in q:
            return q["Action"][0]
    return handler.command + ":" + handler.path.split("?")[0]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # no 40 ms Nagle/delayed-ACK stalls
    state = None
    target = None

    def log_message(self, fmt, *args):
        sys.stderr.write("faultproxy: " + (fmt % args) + "\n")

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, status, body, ctype, extra=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _reset(self):
        # SO_LINGER 0: close sends RST, the client sees a connection reset.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack("ii", 1, 0))
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.connection.close()

    def _control(self, body):
        if self.command == "POST" and self.path == "/__fault__/script":
            with self.state.lock:
                self.state.faults = parse_list(body.decode())
                self.state.log = []
            self._send(200, b"ok\n", "text/plain")
        elif self.command == "GET" and self.path == "/__fault__/log":
            with self.state.lock:
                text = "".join(line + "\n" for line in self.state.log)
            self._send(200, text.encode(), "text/plain")
        else:
            self._send(404, b"no such control\n", "text/plain")

    def _forward(self, body):
        u = urllib.parse.urlsplit(self.target)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in HOP}
        conn.request(self.command, self.path, body=body or None,
                     headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        rheaders = [(k, v) for k, v in resp.getheaders()
                    if k.lower() not in HOP]
        conn.close()
        return resp.status, rheaders, data

    def _throttle(self):
        if self.headers.get("X-Amz-Target") or self.path.startswith("/2015-02-01"):
            body = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'
            return self._send(400, body, "application/x-amz-json-1.1",
                              {"x-amzn-ErrorType": "ThrottlingException",
                               "x-amzn-RequestId": "faultproxy-throttle"})
        if self._ec2:
            body = (b"<Response><Errors><Error><Code>RequestLimitExceeded</Code>"
                    b"<Message>Request limit exceeded.</Message></Error></Errors>"
                    b"<RequestID>faultproxy-throttle</RequestID></Response>")
        else:
            body = (b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling"
                    b"</Code><Message>Rate exceeded</Message></Error>"
                    b"<RequestId>faultproxy-throttle</RequestId></ErrorResponse>")
        return self._send(400, body, "text/xml")

    def _handle(self):
        body = self._body()
        if self.path.startswith("/__fault__/"):
            return self._control(body)
        self._ec2 = b"Version=2016-11-15" in body
        fault = self.state.next_fault(action_of(self, body))
        if fault in ("503", "500"):
            page = ("<html><head><title>%s</title></head><body><h1>%s Service "
                    "Unavailable</h1></body></html>" % (fault, fault)).encode()
            return self._send(int(fault), page, "text/html")
        if fault == "throttle":
            return self._throttle()
        if fault == "reset":
            return self._reset()
        if fault.startswith("stall"):
            secs = float(fault.split(":", 1)[1]) if ":" in fault else 30.0
            time.sleep(secs)
            self.close_connection = True
            return None
        status, headers, data = self._forward(body)
        if fault == "reset-after":
            return self._reset()
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        return None

    def do_GET(self):
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that gave up on a stall: nothing to report.
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True)
    ap.add_argument("--faults", default="")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    a = ap.parse_args()
    host = urllib.parse.urlsplit(a.target).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("faultproxy: the target must be a loopback address")
    Handler.state = State(parse_list(a.faults))
    Handler.target = a.target
    srv = Server(("127.0.0.1", a.port), Handler)
    if a.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.rename(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
