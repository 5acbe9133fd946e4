#!/usr/bin/env python3
"""mlsh-notebook-autostop: stop this SageMaker notebook instance once its
Jupyter kernels have been idle for a while (cron, every minute; written by
the OnStart script, scripts/notebook-onstart.sh).

Idle: no kernel busy (/api/kernels execution_state) and no kernel or
session activity (/api/kernels and /api/sessions last_activity) for idle=
seconds in a row; with no kernel at all, idle since the first check that
saw none. Then `aws sagemaker stop-notebook-instance` with the instance's
own role (AmazonSageMakerFullAccess). The known pattern is AWS's sample
lifecycle configuration "auto-stop-idle"
(github.com/aws-samples/amazon-sagemaker-notebook-instance-lifecycle-config-
samples, scripts/auto-stop-idle), which asks the same Jupyter API; this one
keeps its own idle clock so that a notebook nobody opened also stops, and
never stops when Jupyter does not answer.

    mlsh-notebook-autostop [tick|show]

Settings: /etc/mlsh/autostop (idle=SECS|off, node=NAME, region=REGION);
state: /var/lib/mlsh/autostop (the node watchdog's key=value lines).
Tests: MLSH_ROOT prefixes paths, MLSH_JUPYTER_URL replaces
https://localhost:8443 (the notebook's Jupyter, a self-signed certificate).
"""
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.request
from datetime import datetime

ROOT = os.environ.get("MLSH_ROOT", "")
CONF = ROOT + "/etc/mlsh/autostop"
STATE = ROOT + "/var/lib/mlsh/autostop"
META = ROOT + "/opt/ml/metadata/resource-metadata.json"
URL = os.environ.get("MLSH_JUPYTER_URL", "https://localhost:8443")


def read_kv(path):
    try:
        with open(path) as f:
            return dict(l.rstrip("\n").split("=", 1) for l in f if "=" in l)
    except OSError:
        return {}


def ask(path):
    """GET URL/path as JSON; None when Jupyter does not answer."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # localhost, its own certificate
    try:
        with urllib.request.urlopen(URL + path, timeout=10,
                                    context=ctx) as r:
            return json.load(r)
    except (OSError, ValueError):
        return None


def stamp(s):
    """Jupyter's ISO 8601 UTC time ('2024-05-01T10:00:00.123456Z')."""
    try:
        return datetime.strptime(s.rstrip("Z").split(".")[0] + "+0000",
                                 "%Y-%m-%dT%H:%M:%S%z").timestamp()
    except (AttributeError, ValueError):
        return None


def decide(kernels, sessions, idle, since, now):
    """The check, pure: (state, reason, idle_since). kernels/sessions are
    the API's answers (None: no answer); since the kept idle_since."""
    if kernels is None or sessions is None:
        return "unknown", "jupyter does not answer", since
    ks = list(kernels) + [s.get("kernel") or {} for s in sessions]
    for k in ks:
        if k.get("execution_state") == "busy":
            return "busy", "kernel %s busy" % k.get("name", "?"), None
    # The later of the kept clock (the first check when none was kept)
    # and the last activity any kernel or session saw.
    last = [t for t in (stamp(k.get("last_activity")) for k in ks) if t]
    start = max([since if since is not None else now] + last)
    if idle is None:
        return "off", "", start
    return ("stopping" if now - start >= idle else "idle"), "", start


def name_region(conf):
    try:
        with open(META) as f:
            name = json.load(f).get("ResourceName") or conf.get("node")
    except (OSError, ValueError):
        name = conf.get("node")
    return name, conf.get("region")


def tick():
    conf = read_kv(CONF)
    v = conf.get("idle", "off")
    idle = int(v) if v.isdigit() and int(v) > 0 else None
    old = read_kv(STATE)
    since = old.get("idle_since")
    since = float(since) if since and since.replace(".", "").isdigit() \
        else None
    now = time.time()
    state, why, since = decide(ask("/api/kernels"), ask("/api/sessions"),
                               idle, since, now)
    os.makedirs(os.path.dirname(STATE), exist_ok=True)
    with open(STATE + ".tmp", "w") as f:
        f.write("state=%s\nreason=%s\nidle_since=%s\nstops_at=%s\n"
                "checked=%d\n" % (state, why, "" if since is None else
                                  int(since), "" if since is None or
                                  idle is None else int(since + idle), now))
    os.replace(STATE + ".tmp", STATE)
    if state != "stopping":
        return 0
    name, region = name_region(conf)
    print("mlsh-notebook-autostop: idle %ds (limit %ds): stopping %s"
          % (now - since, idle, name))
    cmd = ["aws", "sagemaker", "stop-notebook-instance",
           "--notebook-instance-name", name]
    return subprocess.call(cmd + (["--region", region] if region else []))


def main(argv):
    if len(argv) > 1 and argv[1] == "show":
        for k, v in list(read_kv(CONF).items()) + \
                list(read_kv(STATE).items()):
            print("%s=%s" % (k, v))
        print("now=%d" % time.time())
        return 0
    if len(argv) > 1 and argv[1] != "tick":
        print("usage: mlsh-notebook-autostop [tick|show]", file=sys.stderr)
        return 2
    return tick()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
