#!/usr/bin/python3
# notebook-client.py URL CODE: drive a Jupyter server through the URL
# `notebook open` printed (its authToken on every call, as a presigned URL's
# holder would): print the top of the tree as JSON on the first line, then
# start a python3 kernel, run CODE in it over the kernel's WebSocket and print
# its output; exit 1 on an error in the cell. Debian's /usr/bin/python3 with
# tornado (a dependency of jupyter-notebook). Every step is bounded.
import json
import sys
import urllib.parse
import urllib.request
import uuid

from tornado import ioloop, websocket

url, code = sys.argv[1], sys.argv[2]
u = urllib.parse.urlsplit(url)
token = urllib.parse.parse_qs(u.query)["authToken"][0]
base = "%s://%s" % (u.scheme, u.netloc)


def api(method, path, body=None):
    req = urllib.request.Request("%s/api/%s?authToken=%s" % (base, path, token),
                                 method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    with urllib.request.urlopen(req, timeout=60) as r:
        text = r.read()
        return json.loads(text) if text else None


tree = api("GET", "contents")
print(json.dumps(sorted(e["name"] for e in tree["content"])))
kernel = api("POST", "kernels", {"name": "python3"})


async def run():
    ws = await websocket.websocket_connect(
        "ws://%s/api/kernels/%s/channels?authToken=%s" % (u.netloc, kernel["id"], token),
        connect_timeout=60)
    msg_id = uuid.uuid4().hex
    ws.write_message(json.dumps({
        "header": {"msg_id": msg_id, "username": "mlsh", "session": uuid.uuid4().hex,
                   "msg_type": "execute_request", "version": "5.3"},
        "parent_header": {}, "metadata": {}, "channel": "shell",
        "content": {"code": code, "silent": False, "store_history": False,
                    "user_expressions": {}, "allow_stdin": False}}))
    status = None
    while status is None:
        m = await ws.read_message()
        if m is None:
            raise SystemExit("the kernel's WebSocket closed")
        m = json.loads(m)
        if m.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        t = m["header"]["msg_type"]
        if t == "stream":
            sys.stdout.write(m["content"]["text"])
        elif t == "error":
            sys.stdout.write("\n".join(m["content"]["traceback"]) + "\n")
        elif t == "execute_reply":
            status = m["content"]["status"]
    ws.close()
    return status


try:
    status = ioloop.IOLoop.current().run_sync(run, timeout=240)
finally:
    api("DELETE", "kernels/" + kernel["id"])
sys.exit(0 if status == "ok" else 1)
