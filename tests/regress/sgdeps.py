#!/usr/bin/env python3
"""sgdeps.py: a loopback proxy in front of moto that deletes security groups
the way AWS does.

    sgdeps.py --target http://127.0.0.1:PORT --port-file F --log F

AWS answers DeleteSecurityGroup with DependencyViolation while a rule of
another group names the group ("If you attempt to delete a security group
that is ... referenced by another security group in the same VPC ... the
operation fails with DependencyViolation",
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSecurityGroup.html);
moto deletes it anyway. Everything else is forwarded unchanged. Every request
is logged as "ACTION" or "ACTION DependencyViolation" (one line each).
Only binds and connects to loopback.
"""
import argparse
import http.client
import http.server
import re
import sys
import threading
import urllib.parse

HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding",
       "te", "trailer", "upgrade", "content-length"}
LOCK = threading.Lock()


def upstream(target, method, path, body, headers):
    u = urllib.parse.urlsplit(target)
    assert u.hostname in ("127.0.0.1", "localhost"), "loopback only"
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    hs = [(k, v) for k, v in r.getheaders() if k.lower() not in HOP]
    c.close()
    return r.status, hs, data


def referenced_by_others(target, gid, headers):
    q = urllib.parse.urlencode({
        "Action": "DescribeSecurityGroups", "Version": "2016-11-15",
        "Filter.1.Name": "ip-permission.group-id", "Filter.1.Value.1": gid})
    h = {"Content-Type": "application/x-www-form-urlencoded"}
    if "Authorization" in headers:
        h["Authorization"] = headers["Authorization"]
    _, _, data = upstream(target, "POST", "/", q.encode(), h)
    ids = re.findall(r"<groupId>(sg-[0-9a-f]+)</groupId>", data.decode())
    # The first groupId of each item is the group itself; any group found
    # other than gid refers to it.
    return sorted(set(i for i in ids if i != gid))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def handle_one(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            action = (form.get("Action") or ["-"])[0]
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in HOP}
            note = ""
            if action == "DeleteSecurityGroup":
                gid = (form.get("GroupId") or [""])[0]
                others = referenced_by_others(a.target, gid, headers)
                if others:
                    note = " DependencyViolation"
                    msg = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                           "<Response><Errors><Error><Code>DependencyViolation"
                           "</Code><Message>resource %s has a dependent object"
                           "</Message></Error></Errors><RequestID>sgdeps"
                           "</RequestID></Response>" % gid).encode()
                    with LOCK, open(a.log, "a") as f:
                        f.write(action + note + "\n")
                    self.send_response(400)
                    self.send_header("Content-Type", "text/xml")
                    self.send_header("Content-Length", str(len(msg)))
                    self.end_headers()
                    self.wfile.write(msg)
                    return
            with LOCK, open(a.log, "a") as f:
                f.write(action + "\n")
            status, hs, data = upstream(a.target, self.command, self.path,
                                        body, headers)
            self.send_response(status)
            for k, v in hs:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_GET = do_PUT = do_DELETE = do_HEAD = handle_one

    s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(s.server_address[1]))
    import os
    os.rename(a.port_file + ".tmp", a.port_file)
    s.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
