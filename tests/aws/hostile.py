#!/usr/bin/env python3
"""hostile.py: a loopback HTTP server that answers AWS JSON 1.1 calls the way
a hostile or broken endpoint would, to test what mlsh lets reach a terminal
and how much it is willing to read.

    hostile.py --port-file F

Listens on 127.0.0.1 (a free port, written to F). What it answers depends on
the action (the X-Amz-Target's last part):

    ListNotebookInstances  200; terminal escapes in object keys, values and
                           the x-amzn-RequestId header
    DescribeTrainingJob    200; escapes in map keys (HyperParameters) and values
    DescribeNotebookInstance
                           400; escapes in __type, message and the request id
    ListTags               200; a chunked body that never ends (stops after
                           60 s or 4 GiB, whichever first, or when the client
                           goes away)
    ListModels             200; Content-Length of 10 GiB, then 1 MiB of body
                           and a wait of at most 60 s
    anything else          200 {}

Only ever binds to loopback. One line per request goes to stderr.
"""
import argparse
import http.server
import json
import sys
import time

ESC = "\x1b"
# Clear the screen, set the window title, a CSI by its 8-bit form (C1).
HOSTILE = ESC + "[2J" + ESC + "]0;pwned" + "\x07" + "\u009b31m" + "red"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("hostile: " + (fmt % args) + "\n")

    def answer(self, status, doc, rid=HOSTILE):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        # Raw control bytes in a header value (latin-1 on the wire).
        self.send_header("x-amzn-RequestId", rid)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        action = (self.headers.get("X-Amz-Target") or "").split(".")[-1]
        if action == "ListNotebookInstances":
            self.answer(200, {"NotebookInstances": [
                {"NotebookInstanceName": "nb" + HOSTILE,
                 "Key" + HOSTILE: "v"}],
                "Top" + HOSTILE: "value" + HOSTILE})
        elif action == "DescribeTrainingJob":
            # A map: its keys are data, so they reach the output (api
            # drops the members its output shape does not know).
            self.answer(200, {"TrainingJobName": "tj" + HOSTILE,
                              "HyperParameters": {"Top" + HOSTILE: "value" + HOSTILE,
                                                  "Key" + HOSTILE: "v"}})
        elif action == "DescribeNotebookInstance":
            self.answer(400, {"__type": "Validation" + HOSTILE,
                              "message": "bad" + HOSTILE})
        elif action == "ListTags":
            self.endless()
        elif action == "ListModels":
            self.huge_length()
        else:
            self.answer(200, {})

    def endless(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"[" * 65536
        frame = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
        t0, sent = time.time(), 0
        try:
            while time.time() - t0 < 60 and sent < (4 << 30):
                self.wfile.write(frame)
                sent += len(chunk)
        except OSError:
            pass
        self.close_connection = True

    def huge_length(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(10 << 30))
        self.end_headers()
        try:
            self.wfile.write(b" " * (1 << 20))
            self.wfile.flush()
            time.sleep(60)
        except OSError:
            pass
        self.close_connection = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    a = ap.parse_args()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
