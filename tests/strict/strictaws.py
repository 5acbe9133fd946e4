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
import fnmatch
import gzip
import os
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



# ---------------------------------------------------------------- upstream

UPSTREAM = None


def _http(method, path, body, headers):
    u = urllib.parse.urlsplit(UPSTREAM)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    conn.request(method, path, body=body or None, headers=headers)
    r = conn.getresponse()
    out = Resp(r.status, [(k, v) for k, v in r.getheaders() if k.lower() not in HOP], r.read())
    conn.close()
    return out


def forward(req):
    """The client's request to moto, unchanged."""
    headers = {k: v for k, v in req.headers.items() if k.lower() not in HOP}
    return _http(req.method, req.path, req.body, headers)


def _auth(req, service):
    # moto reads the account from the access key and the region and service
    # from the credential scope; it does not check signatures.
    akid = re.search(r"Credential=([^/]+)/", req.headers.get("Authorization") or "")
    return ("AWS4-HMAC-SHA256 Credential=%s/20260101/%s/%s/aws4_request, "
            "SignedHeaders=host, Signature=0" % (akid.group(1) if akid else "testing",
                                                  req.region, service))


def ec2_ask(req, action, params):
    """An EC2 query of the proxy's own to moto, in the client's account and region."""
    body = urllib.parse.urlencode(dict(params, Action=action, Version="2016-11-15"))
    r = _http("POST", "/", body.encode(), {
        "Authorization": _auth(req, "ec2"),
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    return r.body.decode("utf-8", "replace")


def json_ask(req, service, target, obj):
    r = _http("POST", "/", json.dumps(obj).encode(), {
        "Authorization": _auth(req, service), "X-Amz-Target": target,
        "Content-Type": "application/x-amz-json-1.1"})
    try:
        return r.status, json.loads(r.body or b"{}")
    except ValueError:
        return r.status, {}


def rest_ask(req, service, path):
    r = _http("GET", path, b"", {"Authorization": _auth(req, service)})
    try:
        return r.status, json.loads(r.body or b"{}")
    except ValueError:
        return r.status, {}


def xml_root(text):
    """moto's XML as an ElementTree with the namespaces taken off the tags."""
    import xml.etree.ElementTree as ET
    root = ET.fromstring(text)
    for el in root.iter():
        if "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]
    return root


def tags(text, tag):
    """Every <tag>value</tag> in an XML text (moto's answers are regular)."""
    return re.findall(r"<%s>([^<]*)</%s>" % (tag, tag), text)


# Instance types: vCPUs from moto's own table (the same numbers AWS's
# DescribeInstanceTypes gives).
_TYPES = None


def vcpus(itype):
    global _TYPES
    if _TYPES is None:
        import importlib.util
        import os
        spec = importlib.util.find_spec("moto")
        path = os.path.join(list(spec.submodule_search_locations)[0], "ec2", "resources",
                            "instance_types.json.gz")
        try:
            with gzip.open(path, "rt") as f:
                _TYPES = json.load(f)
        except OSError:
            _TYPES = {}
    if itype in RETIRED_VCPUS:
        return RETIRED_VCPUS[itype]
    t = _TYPES.get(itype) or {}
    return int((t.get("VCpuInfo") or {}).get("DefaultVCpus") or 2)


# Types AWS (and so moto's table) no longer describes: P3, from
# https://aws.amazon.com/ec2/instance-types/p3/ (p3.2xlarge 8 vCPUs,
# p3.8xlarge 32, p3.16xlarge 64, p3dn.24xlarge 96).
RETIRED_VCPUS = {"p3.2xlarge": 8, "p3.8xlarge": 32, "p3.16xlarge": 64, "p3dn.24xlarge": 96}


def family(itype):
    """The quota bucket letters of an instance type: dl1.24xlarge -> dl."""
    m = re.match(r"([a-z]+)", itype or "")
    return m.group(1) if m else ""


# ---------------------------------------------------------------- state

# Each switch's defaults for {"all": true}; a switch set to true takes these.
# {"all": true} must still let a whole stack (vpc, efs, node dl1, node p3,
# notebook ml.p3.8xlarge, grafana) come up, so its limits leave room for it.
DEFAULTS = {
    "consistency": {},                       # calls drawn 1-3 per new id
    "iam": {},                               # calls drawn 1-3 per new role / profile
    # p3.8xlarge short in us-east-1b: the stack's AZ (the one with dl1,
    # us-east-1a) is not affected.
    "capacity": {"azs": ["us-east-1b"], "types": ["p3.8xlarge"]},
    "vcpu_limit": {"dl": 96, "p": 64},       # on-demand vCPUs per family
    "quotas": {
        "ec2/L-6E869C2A": 96.0,   # Running On-Demand DL instances (vCPUs)
        "ec2/L-417A185B": 64.0,   # Running On-Demand P instances (vCPUs)
        "ec2/L-85EED4F7": 96.0,   # All DL Spot Instance Requests (vCPUs)
        "ec2/L-7212CCBC": 64.0,   # All P Spot Instance Requests (vCPUs)
        "ec2/L-1216C47A": 64.0,   # Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances
        "ec2/L-34B43A08": 64.0,   # All Standard Spot Instance Requests
        "sagemaker/L-619D6E43": 1.0,  # ml.p3.8xlarge for notebook instance usage
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
        self.mem = {}       # each behaviour's own memory, by switch name

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

    def memory(self, name):
        return self.mem.setdefault(name, {})

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


def behaviour(cls):
    BEHAVIOURS.append(cls())
    return cls


def named_ids(req):
    """The values of an EC2 request's parameters, filters left out (a filter
    on an unknown id matches nothing: AWS answers an empty list)."""
    return [v for k, v in req.params.items()
            if not k.startswith("Filter.") and k not in ("Action", "Version")]


@behaviour
class Consistency:
    """Eventual consistency of EC2: an id a create just returned is not yet
    known to the next requests that name it.
    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/query-api-troubleshooting.html#eventual-consistency
    terraform-provider-aws retries *.NotFound after its creates for this
    (internal/service/ec2/consts.go: ec2PropagationTimeout = 5 * time.Minute).
    """
    name = "consistency"
    CREATES = {"CreateVpc": "vpcId", "CreateSubnet": "subnetId",
               "CreateSecurityGroup": "groupId", "RunInstances": "instanceId",
               "CreateRouteTable": "routeTableId"}
    ERRORS = {"vpc-": ("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist"),
              "subnet-": ("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist"),
              "sg-": ("InvalidGroup.NotFound", "The security group '%s' does not exist"),
              "i-": ("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist"),
              "rtb-": ("InvalidRouteTableID.NotFound", "The routeTable ID '%s' does not exist")}

    def before(self, req, st):
        if req.protocol != "ec2":
            return None
        pending = st.memory(self.name)
        hit = [v for v in named_ids(req) if pending.get(v, 0) > 0]
        if not hit:
            return None
        for v in set(hit):
            pending[v] -= 1
        code, msg = next(e for p, e in self.ERRORS.items() if hit[0].startswith(p))
        return ec2_error(st, code, msg % hit[0])

    def after(self, req, st, resp):
        tag = self.CREATES.get(req.action) if req.protocol == "ec2" else None
        if tag and resp.status == 200:
            pending = st.memory(self.name)
            for new in tags(resp.body.decode("utf-8", "replace"), tag):
                pending[new] = st.count(st.on(self.name))
        return resp


@behaviour
class Iam:
    """IAM propagation: a new role cannot be assumed by SageMaker, a new
    instance profile is refused by RunInstances, for the next N uses.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency
    terraform-provider-aws waits iamPropagationTimeout = 2 * time.Minute
    (internal/service/ec2/consts.go) retrying RunInstances on "Invalid IAM
    Instance Profile", and retries SageMaker's "Could not assume role".
    Armed by CreateRole, CreateInstanceProfile and AddRoleToInstanceProfile.
    """
    name = "iam"

    def before(self, req, st):
        mem = st.memory(self.name)
        if req.protocol == "json" and req.action == "CreateNotebookInstance":
            arn = str((req.json or {}).get("RoleArn") or "")
            key = "role/" + arn.rsplit("/", 1)[-1]
            if mem.get(key, 0) > 0:
                mem[key] -= 1
                return json_error(st, "ValidationException",
                                  "Could not assume role %s. Please ensure that the role exists "
                                  "and allows principal 'sagemaker.amazonaws.com' to assume the "
                                  "role." % arn)
        if req.protocol == "ec2" and req.action == "RunInstances":
            for param, label in (("IamInstanceProfile.Name", "name"),
                                 ("IamInstanceProfile.Arn", "arn")):
                val = req.params.get(param)
                if not val:
                    continue
                key = "profile/" + val.rsplit("/", 1)[-1]
                if mem.get(key, 0) > 0:
                    mem[key] -= 1
                    return ec2_error(st, "InvalidParameterValue",
                                     "Value (%s) for parameter iamInstanceProfile.%s is invalid. "
                                     "Invalid IAM Instance Profile %s"
                                     % (val, label, "name" if label == "name" else "ARN"))
        return None

    def after(self, req, st, resp):
        if req.protocol != "query" or resp.status != 200:
            return resp
        mem = st.memory(self.name)
        if req.action == "CreateRole":
            mem["role/" + req.params.get("RoleName", "")] = st.count(st.on(self.name))
        elif req.action in ("CreateInstanceProfile", "AddRoleToInstanceProfile"):
            key = "profile/" + req.params.get("InstanceProfileName", "")
            mem[key] = max(mem.get(key, 0), st.count(st.on(self.name)))
        return resp



def run_az(req, st):
    """The AZ a RunInstances request launches into, when it names one (a
    Placement or a subnet); None when AWS would choose."""
    az = req.params.get("Placement.AvailabilityZone")
    if az:
        return az
    subnet = req.params.get("SubnetId") or next(
        (v for k, v in sorted(req.params.items())
         if re.match(r"NetworkInterface\.\d+\.SubnetId$", k)), None)
    if not subnet:
        return None
    cache = st.memory("_subnet_az")
    if subnet not in cache:
        found = tags(ec2_ask(req, "DescribeSubnets", {"SubnetId.1": subnet}), "availabilityZone")
        if not found:
            return None
        cache[subnet] = found[0]
    return cache[subnet]


def region_azs(req):
    return sorted(set(tags(ec2_ask(req, "DescribeAvailabilityZones", {}), "zoneName")))


OFFERINGS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "offerings.json")
_OFFERINGS = None


def offerings_for(st, region, itype):
    """{"zones": [...], "ids": [...]} for a type the data (or the switch's
    override) knows in that region, else None (then moto's answer stands)."""
    global _OFFERINGS
    if _OFFERINGS is None:
        with open(OFFERINGS_FILE) as f:
            _OFFERINGS = json.load(f)
    spec = st.on("offerings")
    if isinstance(spec, dict) and itype in (spec.get(region) or {}):
        return {"zones": list(spec[region][itype]), "ids": []}
    return (_OFFERINGS.get(region) or {}).get(itype)


def offered_zones(req, st, itype):
    o = offerings_for(st, req.region, itype) if "offerings" in st.config else None
    return o["zones"] if o is not None else region_azs(req)


@behaviour
class Offerings:
    """DescribeInstanceTypeOfferings per AZ from real data
    (tests/strict/offerings.json), and RunInstances of a type into an AZ
    that does not offer it answers "Unsupported" as AWS does, e.g. (quoted
    in runs-on/runs-on issue #5): "Your requested instance type
    (m7a.4xlarge) is not supported in your requested Availability Zone
    (us-east-1a). Please retry your request by not specifying an
    Availability Zone or choosing us-east-1c, us-east-1d, ..."
    """
    name = "offerings"

    def before(self, req, st):
        if req.protocol != "ec2" or req.action != "RunInstances":
            return None
        itype = req.params.get("InstanceType", "m1.small")
        o = offerings_for(st, req.region, itype)
        az = run_az(req, st)
        if o is None or az is None or az in o["zones"]:
            return None
        if not o["zones"]:
            return ec2_error(st, "Unsupported", "The requested configuration is currently not "
                             "supported. Please check the documentation for supported configurations.")
        return ec2_error(st, "Unsupported",
                         "Your requested instance type (%s) is not supported in your requested "
                         "Availability Zone (%s). Please retry your request by not specifying an "
                         "Availability Zone or choosing %s." % (itype, az, ", ".join(o["zones"])))

    def after(self, req, st, resp):
        if req.protocol != "ec2" or req.action != "DescribeInstanceTypeOfferings" or resp.status != 200:
            return resp
        ltype = req.params.get("LocationType", "region")
        if ltype not in ("availability-zone", "availability-zone-id"):
            return resp
        root = xml_root(resp.body)
        rows = [(i.findtext("instanceType"), i.findtext("location"))
                for i in root.iter("item") if i.findtext("instanceType")]
        filters = req.filters()
        want_types = filters.get("instance-type")
        want_locs = filters.get("location")
        key = "zones" if ltype == "availability-zone" else "ids"
        known = {}
        for t in set([r[0] for r in rows] + (want_types or [])):
            o = offerings_for(st, req.region, t)
            if o is not None and (o.get(key) or key == "zones"):
                known[t] = o.get(key) or []
        rows = [r for r in rows if r[0] not in known]
        for t, locs in sorted(known.items()):
            if want_types and not any(fnmatch.fnmatchcase(t, w) for w in want_types):
                continue
            rows += [(t, loc) for loc in locs
                     if not want_locs or any(fnmatch.fnmatchcase(loc, w) for w in want_locs)]
        inner = "<instanceTypeOfferingSet>%s</instanceTypeOfferingSet>" % "".join(
            "<item><instanceType>%s</instanceType><locationType>%s</locationType>"
            "<location>%s</location></item>" % (t, ltype, loc) for t, loc in rows)
        return ec2_ok(st, "DescribeInstanceTypeOfferings", inner)


@behaviour
class Capacity:
    """InsufficientInstanceCapacity for chosen types in chosen AZs, HTTP 500
    (a server error code in
    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html),
    with the message AWS gives (quoted in runs-on/runs-on issue #5)."""
    name = "capacity"

    def before(self, req, st):
        if req.protocol != "ec2" or req.action != "RunInstances":
            return None
        spec = st.on(self.name) or {}
        itype = req.params.get("InstanceType", "m1.small")
        if itype not in (spec.get("types") or []):
            return None
        az = run_az(req, st)
        azs = spec.get("azs") or []
        if az is None or az not in azs:
            return None
        others = [z for z in offered_zones(req, st, itype) if z not in azs]
        tail = ("by not specifying an Availability Zone in your request or choosing %s."
                % ", ".join(others)) if others else "by not specifying an Availability Zone in your request."
        return ec2_error(st, "InsufficientInstanceCapacity",
                         "We currently do not have sufficient %s capacity in the Availability Zone "
                         "you requested (%s). Our system will be working on provisioning additional "
                         "capacity. You can currently get %s capacity %s" % (itype, az, itype, tail),
                         status=500)


def is_spot(req):
    return (req.params.get("InstanceMarketOptions.MarketType") == "spot")


@behaviour
class VcpuLimit:
    """On-demand vCPU limits per instance family (the "Running On-Demand …
    instances" quotas, counted in vCPUs:
    https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-on-demand-instances.html#ec2-on-demand-instances-limits).
    RunInstances whose vCPUs plus the pending/running ones of its family
    exceed the limit answers VcpuLimitExceeded with AWS's message."""
    name = "vcpu_limit"

    def before(self, req, st):
        if req.protocol != "ec2" or req.action != "RunInstances" or is_spot(req):
            return None
        limits = st.on(self.name) or {}
        itype = req.params.get("InstanceType", "m1.small")
        fam = family(itype)
        if fam not in limits:
            return None
        want = vcpus(itype) * int(req.params.get("MinCount", "1") or 1)
        used = 0
        root = xml_root(ec2_ask(req, "DescribeInstances", {
            "Filter.1.Name": "instance-state-name", "Filter.1.Value.1": "pending",
            "Filter.1.Value.2": "running"}))
        for inst in root.iter("item"):
            t = inst.findtext("instanceType")
            if t and family(t) == fam and inst.findtext("instanceLifecycle") != "spot":
                used += vcpus(t)
        if used + want <= int(limits[fam]):
            return None
        return ec2_error(st, "VcpuLimitExceeded",
                         "You have requested more vCPU capacity than your current vCPU limit of %d "
                         "allows for the instance bucket that the specified instance type belongs "
                         "to. Please visit http://aws.amazon.com/contact-us/ec2-request to request "
                         "an adjustment to this limit." % int(limits[fam]))


# Service Quotas: codes and names as the Service Quotas console and API give
# them (EC2: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-on-demand-instances.html
# and .../using-spot-limits.html; SageMaker: the "… for notebook instance
# usage" quotas, codes from a ListAWSDefaultServiceQuotas snapshot published
# in a public quota-audit repository, e.g. L-619D6E43 = ml.p3.8xlarge).
QUOTA_NAMES = {
    "ec2/L-1216C47A": "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances",
    "ec2/L-6E869C2A": "Running On-Demand DL instances",
    "ec2/L-417A185B": "Running On-Demand P instances",
    "ec2/L-DB2E81BA": "Running On-Demand G and VT instances",
    "ec2/L-34B43A08": "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests",
    "ec2/L-85EED4F7": "All DL Spot Instance Requests",
    "ec2/L-7212CCBC": "All P Spot Instance Requests",
    "ec2/L-3819A6DF": "All G and VT Spot Instance Requests",
    "sagemaker/L-619D6E43": "ml.p3.8xlarge for notebook instance usage",
    "sagemaker/L-1F4A5AAB": "ml.p3.2xlarge for notebook instance usage",
}
SERVICE_NAMES = {"ec2": "Amazon Elastic Compute Cloud (Amazon EC2)", "sagemaker": "Amazon SageMaker"}


@behaviour
class Quotas:
    """Service Quotas (JSON 1.1, X-Amz-Target ServiceQuotasV20190624.*)
    answered from the switch: {"ec2/L-6E869C2A": 96, ...}."""
    name = "quotas"

    def quota(self, req, key, value):
        svc, code = key.split("/", 1)
        return {"ServiceCode": svc, "ServiceName": SERVICE_NAMES.get(svc, svc),
                "QuotaArn": "arn:aws:servicequotas:%s:123456789012:%s/%s" % (req.region, svc, code),
                "QuotaCode": code, "QuotaName": QUOTA_NAMES.get(key, code), "Value": float(value),
                "Unit": "None", "Adjustable": True, "GlobalQuota": False}

    def before(self, req, st):
        if req.protocol != "json" or not (req.headers.get("X-Amz-Target") or "").startswith(
                "ServiceQuotasV20190624."):
            return None
        q = st.on(self.name) or {}
        body = req.json or {}
        svc = body.get("ServiceCode", "")
        if req.action in ("GetServiceQuota", "GetAWSDefaultServiceQuota"):
            key = "%s/%s" % (svc, body.get("QuotaCode", ""))
            if key not in q:
                return json_error(st, "NoSuchResourceException",
                                  "The request failed because the specified service quota "
                                  "does not exist.")
            return json_ok(st, {"Quota": self.quota(req, key, q[key])})
        if req.action in ("ListServiceQuotas", "ListAWSDefaultServiceQuotas"):
            return json_ok(st, {"Quotas": [self.quota(req, k, v) for k, v in sorted(q.items())
                                           if k.startswith(svc + "/")]})
        return None


@behaviour
class SagemakerLimit:
    """SageMaker's per-type notebook instance quota ("ml.p3.8xlarge for
    notebook instance usage"): CreateNotebookInstance over it answers
    ResourceLimitExceeded with the account-level service limit message."""
    name = "sagemaker_limit"

    def before(self, req, st):
        if req.protocol != "json" or req.action != "CreateNotebookInstance":
            return None
        limits = st.on(self.name) or {}
        itype = (req.json or {}).get("InstanceType", "")
        if itype not in limits:
            return None
        _, listed = json_ask(req, "sagemaker", "SageMaker.ListNotebookInstances", {})
        used = sum(1 for n in listed.get("NotebookInstances", [])
                   if n.get("InstanceType") == itype
                   and n.get("NotebookInstanceStatus") not in ("Deleting", "Failed"))
        if used + 1 <= int(limits[itype]):
            return None
        return json_error(st, "ResourceLimitExceeded",
                          "The account-level service limit '%s for notebook instance usage' is %d "
                          "Instances, with current utilization of %d Instances and a request delta "
                          "of 1 Instances. Please use AWS Service Quotas to request an increase for "
                          "this quota. If AWS Service Quotas is not available, contact AWS support "
                          "to request an increase for this quota." % (itype, int(limits[itype]), used))


CATALOGUE_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "catalogue.json")
_CATALOGUE = None


def catalogue():
    global _CATALOGUE
    if _CATALOGUE is None:
        with open(CATALOGUE_FILE) as f:
            _CATALOGUE = json.load(f)
    return _CATALOGUE


def deprecation_time(img):
    # Public AMIs are deprecated 2 years after creation by default:
    # https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ami-deprecate.html
    c = img["CreationDate"]
    return "%04d%s" % (int(c[:4]) + 2, c[4:])


@behaviour
class Catalogue:
    """DescribeImages from tests/strict/catalogue.json (Habana and GPU
    DLAMIs, Ubuntu and Amazon Linux), deprecated images hidden unless
    IncludeDeprecated=true or their ids are named, as AWS does; images the
    account itself registered still come from moto. RunInstances with a
    catalogue id needs nothing more: moto does not check image ids unless
    MOTO_ENABLE_AMI_VALIDATION is set."""
    name = "catalogue"
    FIELDS = {"name": "Name", "owner-id": "OwnerId", "owner-alias": "ImageOwnerAlias",
              "architecture": "Architecture", "image-id": "ImageId", "description": "Description"}
    FIXED = {"state": "available", "is-public": "true", "image-type": "machine",
             "root-device-type": "ebs", "virtualization-type": "hvm", "hypervisor": "xen",
             "platform-details": "Linux/UNIX"}

    def matches(self, img, req, as_of):
        ids = req.plist("ImageId")
        if ids and img["ImageId"] not in ids:
            return False
        owners = req.plist("Owner")
        if owners and not (img["OwnerId"] in owners or (img.get("ImageOwnerAlias") or "") in owners):
            return False
        if not ids and req.params.get("IncludeDeprecated") != "true" and deprecation_time(img) <= as_of:
            return False
        for fname, values in req.filters().items():
            if fname in self.FIELDS:
                have = img.get(self.FIELDS[fname]) or ""
            elif fname in self.FIXED:
                have = self.FIXED[fname]
            else:
                continue        # a filter the catalogue does not model: ignored
            if not any(fnmatch.fnmatchcase(have, v) for v in values):
                return False
        return True

    def item(self, img):
        e = xml_escape
        alias = img.get("ImageOwnerAlias")
        return ("<item><imageId>%s</imageId><imageLocation>%s/%s</imageLocation>"
                "<imageState>available</imageState><imageOwnerId>%s</imageOwnerId>"
                "<creationDate>%s</creationDate><isPublic>true</isPublic>"
                "<architecture>%s</architecture><imageType>machine</imageType>%s"
                "<name>%s</name><description>%s</description><rootDeviceType>ebs</rootDeviceType>"
                "<rootDeviceName>%s</rootDeviceName><blockDeviceMapping><item><deviceName>%s"
                "</deviceName><ebs><snapshotId>snap-%s</snapshotId><volumeSize>%d</volumeSize>"
                "<deleteOnTermination>true</deleteOnTermination><volumeType>gp3</volumeType>"
                "<encrypted>false</encrypted></ebs></item></blockDeviceMapping>"
                "<virtualizationType>hvm</virtualizationType><hypervisor>xen</hypervisor>"
                "<enaSupport>true</enaSupport><sriovNetSupport>simple</sriovNetSupport>"
                "<platformDetails>Linux/UNIX</platformDetails><usageOperation>RunInstances"
                "</usageOperation><deprecationTime>%s</deprecationTime></item>"
                % (img["ImageId"], e(alias or img["OwnerId"]), e(img["Name"]), img["OwnerId"],
                   img["CreationDate"], img["Architecture"],
                   "<imageOwnerAlias>%s</imageOwnerAlias>" % alias if alias else "",
                   e(img["Name"]), e(img["Description"]), img["RootDeviceName"],
                   img["RootDeviceName"], img["ImageId"][4:], 100 if "Deep Learning" in img["Name"] else 8,
                   deprecation_time(img)))

    def before(self, req, st):
        if req.protocol != "ec2" or req.action != "DescribeImages":
            return None
        spec = st.on(self.name)
        cat = catalogue()
        as_of = (spec.get("as_of") if isinstance(spec, dict) else None) or cat["as_of"]
        mine = [self.item(img) for img in cat["images"] if self.matches(img, req, as_of)]
        known = {img["ImageId"] for img in cat["images"]}
        ids = req.plist("ImageId")
        others = ""
        if not ids or any(i not in known for i in ids):
            # The account's own images (RegisterImage, CreateImage) from moto;
            # moto's built-in public ones are not AWS's and stay hidden.
            r = forward(req)
            if r.status != 200:
                return r
            root = xml_root(r.body)
            account = re.search(r"<ownerId>(\d{12})</ownerId>", ec2_ask(req, "DescribeSecurityGroups", {
                "Filter.1.Name": "group-name", "Filter.1.Value.1": "default"}))
            acct = account.group(1) if account else "123456789012"
            keep = []
            import xml.etree.ElementTree as ET
            for it in root.iter("item"):
                if it.find("imageId") is not None and it.findtext("imageOwnerId") == acct:
                    keep.append(ET.tostring(it, encoding="unicode"))
            others = "".join(keep)
        return ec2_ok(st, "DescribeImages", "<imagesSet>%s%s</imagesSet>" % ("".join(mine), others))


@behaviour
class SpotPersistent:
    """Persistent spot requests relaunch. "If you terminate a running or
    stopped Spot Instance that was launched by a persistent Spot request, the
    Spot request returns to the open state so that a new Spot Instance can be
    launched. To cancel a persistent Spot request and terminate its Spot
    Instances, you must cancel the Spot request first and then terminate the
    Spot Instances."
    (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/terminating-a-spot-instance.html)
    Spot launches by RunInstances (InstanceMarketOptions) get a request id
    here (moto makes none), shown in DescribeInstances and
    DescribeSpotInstanceRequests as AWS shows it; moto drops a cancelled
    request, here it stays, "cancelled"."""
    name = "spot_persistent"

    def requests(self, st):
        return st.memory(self.name)

    def by_instance(self, st, iid):
        return next((k for k, r in self.requests(st).items() if iid in r["instances"]), None)

    def before(self, req, st):
        if req.protocol != "ec2":
            return None
        reqs = self.requests(st)
        if req.action == "CancelSpotInstanceRequests":
            ids = req.plist("SpotInstanceRequestId")
            if ids and all(i in reqs for i in ids):
                items = ""
                for i in ids:
                    reqs[i]["state"] = "cancelled"
                    items += ("<item><spotInstanceRequestId>%s</spotInstanceRequestId>"
                              "<state>cancelled</state></item>" % i)
                    if not reqs[i]["synthetic"]:
                        ec2_ask(req, "CancelSpotInstanceRequests", {"SpotInstanceRequestId.1": i})
                return ec2_ok(st, "CancelSpotInstanceRequests",
                              "<spotInstanceRequestSet>%s</spotInstanceRequestSet>" % items)
        if req.action == "DescribeSpotInstanceRequests" and reqs:
            return self.describe(req, st)
        return None

    def describe(self, req, st):
        reqs = self.requests(st)
        r = forward(req)
        if r.status != 200:
            return r
        import xml.etree.ElementTree as ET
        root = xml_root(r.body)
        items = []
        sset = root.find("spotInstanceRequestSet")
        for it in (list(sset) if sset is not None else []):
            if it.findtext("spotInstanceRequestId") not in reqs:
                items.append(ET.tostring(it, encoding="unicode"))
        want = req.plist("SpotInstanceRequestId")
        f = req.filters()
        for rid, rec in sorted(reqs.items()):
            if want and rid not in want:
                continue
            if "instance-id" in f and rec["current"] not in f["instance-id"]:
                continue
            if "state" in f and rec["state"] not in f["state"]:
                continue
            if "spot-instance-request-id" in f and rid not in f["spot-instance-request-id"]:
                continue
            code = {"active": "fulfilled", "open": "pending-fulfillment",
                    "cancelled": "request-canceled-and-instance-running"}[rec["state"]]
            tagset = "".join("<item><key>%s</key><value>%s</value></item>"
                             % (xml_escape(k), xml_escape(v)) for k, v in rec["tags"])
            items.append(
                "<item><spotInstanceRequestId>%s</spotInstanceRequestId><spotPrice>%s</spotPrice>"
                "<type>%s</type><state>%s</state><status><code>%s</code><updateTime>%s</updateTime>"
                "<message>%s</message></status><instanceId>%s</instanceId><launchSpecification>"
                "<imageId>%s</imageId><instanceType>%s</instanceType></launchSpecification>"
                "<productDescription>Linux/UNIX</productDescription>"
                "<instanceInterruptionBehavior>%s</instanceInterruptionBehavior>"
                "<tagSet>%s</tagSet></item>"
                % (rid, rec["price"], rec["type"], rec["state"], code, "2026-12-01T00:00:00.000Z",
                   code, rec["current"], rec["image"], rec["itype"], rec["behavior"], tagset))
        return ec2_ok(st, "DescribeSpotInstanceRequests",
                      "<spotInstanceRequestSet>%s</spotInstanceRequestSet>" % "".join(items))

    def after(self, req, st, resp):
        if req.protocol != "ec2" or resp.status != 200:
            return resp
        reqs = self.requests(st)
        body = resp.body.decode("utf-8", "replace")
        if req.action == "RunInstances" and is_spot(req):
            p = req.params
            tags_ = []
            i = 1
            while "TagSpecification.%d.ResourceType" % i in p:
                if p["TagSpecification.%d.ResourceType" % i] == "spot-instances-request":
                    j = 1
                    while "TagSpecification.%d.Tag.%d.Key" % (i, j) in p:
                        tags_.append((p["TagSpecification.%d.Tag.%d.Key" % (i, j)],
                                      p.get("TagSpecification.%d.Tag.%d.Value" % (i, j), "")))
                        j += 1
                i += 1
            for iid in tags(body, "instanceId"):
                rid = "sir-%08x" % st.rng.getrandbits(32)
                reqs[rid] = {"synthetic": True, "instances": [iid], "current": iid,
                             "state": "active", "tags": tags_,
                             "type": p.get("InstanceMarketOptions.SpotOptions.SpotInstanceType",
                                           "one-time"),
                             "behavior": p.get("InstanceMarketOptions.SpotOptions."
                                               "InstanceInterruptionBehavior", "terminate"),
                             "price": p.get("InstanceMarketOptions.SpotOptions.MaxPrice", "13.110000"),
                             "image": p.get("ImageId", ""), "itype": p.get("InstanceType", "m1.small"),
                             "launch": {k: v for k, v in p.items()
                                        if k not in ("Action", "Version", "ClientToken",
                                                     "MinCount", "MaxCount")}}
            return self.mark(resp, st)
        if req.action == "RequestSpotInstances":
            p = req.params
            launch = {k[len("LaunchSpecification."):]: v for k, v in p.items()
                      if k.startswith("LaunchSpecification.")}
            launch["InstanceMarketOptions.MarketType"] = "spot"
            for rid, iid in zip(tags(body, "spotInstanceRequestId"), tags(body, "instanceId")):
                reqs[rid] = {"synthetic": False, "instances": [iid], "current": iid,
                             "state": "active", "tags": [], "type": p.get("Type", "one-time"),
                             "behavior": p.get("InstanceInterruptionBehavior", "terminate"),
                             "price": p.get("SpotPrice", "13.110000"),
                             "image": launch.get("ImageId", ""),
                             "itype": launch.get("InstanceType", "m1.small"), "launch": launch}
            return resp
        if req.action == "TerminateInstances":
            for iid in req.plist("InstanceId"):
                rid = self.by_instance(st, iid)
                if rid is None:
                    continue
                rec = reqs[rid]
                if rec["type"] != "persistent" or rec["state"] == "cancelled" or rec["current"] != iid:
                    continue
                self.relaunch(req, st, rec, iid)
            return resp
        if req.action == "DescribeInstances" and reqs:
            return self.mark(resp, st)
        return resp

    def relaunch(self, req, st, rec, old):
        """The replacement: the same launch, the terminated instance's tags."""
        root = xml_root(ec2_ask(req, "DescribeInstances", {"InstanceId.1": old}))
        params = {k: v for k, v in rec["launch"].items() if not k.startswith("TagSpecification.")}
        n = 0
        for inst in root.iter("item"):
            if inst.findtext("instanceId") != old:
                continue
            ts = inst.find("tagSet")
            for t in (list(ts) if ts is not None else []):
                n += 1
                params["TagSpecification.1.Tag.%d.Key" % n] = t.findtext("key") or ""
                params["TagSpecification.1.Tag.%d.Value" % n] = t.findtext("value") or ""
        if n:
            params["TagSpecification.1.ResourceType"] = "instance"
        params.update({"MinCount": "1", "MaxCount": "1"})
        new = tags(ec2_ask(req, "RunInstances", params), "instanceId")
        if new:
            rec["instances"].append(new[0])
            rec["current"] = new[0]

    def mark(self, resp, st):
        """Put spotInstanceRequestId into instance items (after instanceId)."""
        text = resp.body.decode("utf-8", "replace")
        for rid, rec in self.requests(st).items():
            for iid in rec["instances"]:
                text = text.replace("<instanceId>%s</instanceId>" % iid,
                                    "<instanceId>%s</instanceId><spotInstanceRequestId>%s"
                                    "</spotInstanceRequestId>" % (iid, rid))
        resp.body = text.encode()
        return resp


@behaviour
class Eni:
    """Lingering network interfaces: an EFS mount target's or a SageMaker
    notebook's ENI outlives the delete call for a while, so the next N
    DeleteSubnet / DeleteSecurityGroup of its subnet / groups answer
    DependencyViolation (terraform-provider-aws waits for these ENIs before
    deleting subnets and security groups, e.g. its aws_subnet delete retries
    DependencyViolation for the ec2 delete timeout)."""
    name = "eni"

    def before(self, req, st):
        mem = st.memory(self.name)
        if req.protocol == "rest-json" and req.method == "DELETE" and \
                req.path.startswith("/2015-02-01/mount-targets/"):
            mt = req.path.split("?")[0].rsplit("/", 1)[-1]
            _, d = rest_ask(req, "elasticfilesystem", "/2015-02-01/mount-targets?MountTargetId=" + mt)
            subnet = ((d.get("MountTargets") or [{}])[0]).get("SubnetId")
            _, g = rest_ask(req, "elasticfilesystem", "/2015-02-01/mount-targets/%s/security-groups" % mt)
            req.eni = [x for x in [subnet] + list(g.get("SecurityGroups") or []) if x]
        elif req.protocol == "json" and req.action == "DeleteNotebookInstance":
            _, d = json_ask(req, "sagemaker", "SageMaker.DescribeNotebookInstance",
                            {"NotebookInstanceName": (req.json or {}).get("NotebookInstanceName", "")})
            req.eni = [x for x in [d.get("SubnetId")] + list(d.get("SecurityGroups") or []) if x]
        elif req.protocol == "ec2" and req.action == "DeleteSubnet":
            sub = req.params.get("SubnetId", "")
            if mem.get(sub, 0) > 0:
                mem[sub] -= 1
                return ec2_error(st, "DependencyViolation",
                                 "The subnet '%s' has dependencies and cannot be deleted." % sub)
        elif req.protocol == "ec2" and req.action == "DeleteSecurityGroup":
            sg = req.params.get("GroupId", "")
            if mem.get(sg, 0) > 0:
                mem[sg] -= 1
                return ec2_error(st, "DependencyViolation",
                                 "resource %s has a dependent object" % sg)
        return None

    def after(self, req, st, resp):
        if getattr(req, "eni", None) and resp.status < 300:
            n = st.count(st.on(self.name))
            for x in req.eni:
                st.memory(self.name)[x] = n
        return resp


@behaviour
class States:
    """Non-instant states, in describes rather than seconds: new instances
    are pending and terminating ones shutting-down
    (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-lifecycle.html),
    NAT gateways pending / deleting, EFS file systems and mount targets
    creating, notebooks Pending / Stopping, for the next N describes that
    show them. A state filter is applied to the shown state."""
    name = "states"
    CODES = {"pending": "0", "running": "16", "shutting-down": "32", "terminated": "48",
             "stopping": "64", "stopped": "80"}

    def arm(self, st, kind, rid, state):
        st.memory(self.name)[(kind, rid)] = [state, st.count(st.on(self.name))]

    def shown(self, st, kind, rid):
        """The state to show instead of moto's, counting one describe."""
        e = st.memory(self.name).get((kind, rid))
        if not e or e[1] <= 0:
            return None
        e[1] -= 1
        return e[0]

    def active(self, st, kind):
        return any(k[0] == kind and v[1] > 0 for k, v in st.memory(self.name).items())

    def before(self, req, st):
        if req.protocol == "ec2" and req.action == "DescribeInstances" and self.active(st, "i"):
            return self.instances(req, st)
        return None

    def instances(self, req, st):
        import xml.etree.ElementTree as ET
        f = req.filters()
        want = f.pop("instance-state-name", None)
        params = {k: v for k, v in req.params.items()
                  if not k.startswith("Filter.") and k not in ("Action", "Version")}
        for n, (name, values) in enumerate(f.items(), 1):
            params["Filter.%d.Name" % n] = name
            for m, v in enumerate(values, 1):
                params["Filter.%d.Value.%d" % (n, m)] = v
        root = xml_root(ec2_ask(req, "DescribeInstances", params))
        rset = root.find("reservationSet")
        for res in (list(rset) if rset is not None else []):
            iset = res.find("instancesSet")
            for inst in (list(iset) if iset is not None else []):
                state = self.shown(st, "i", inst.findtext("instanceId"))
                el = inst.find("instanceState")
                if state and el is not None:
                    el.find("code").text = self.CODES[state]
                    el.find("name").text = state
                name = el.findtext("name") if el is not None else ""
                if want and name not in want:
                    iset.remove(inst)
            if iset is not None and len(iset) == 0:
                rset.remove(res)
        # moto's DescribeInstances hides terminated instances after a while;
        # AWS keeps them about an hour: not modelled.
        return Resp(200, [("Content-Type", "text/xml;charset=UTF-8")],
                    ET.tostring(root, encoding="utf-8"))

    def after(self, req, st, resp):
        if resp.status >= 300:
            return resp
        body = resp.body.decode("utf-8", "replace")
        a = req.action
        if req.protocol == "ec2":
            if a == "RunInstances":
                for i in tags(body, "instanceId"):
                    self.arm(st, "i", i, "pending")
            elif a == "TerminateInstances":
                for i in req.plist("InstanceId"):
                    self.arm(st, "i", i, "shutting-down")
                body = re.sub(r"<currentState>\s*<code>\d+</code>\s*<name>terminated</name>\s*"
                              r"</currentState>", "<currentState><code>32</code><name>"
                              "shutting-down</name></currentState>", body)
                resp.body = body.encode()
            elif a == "CreateNatGateway":
                for n in tags(body, "natGatewayId"):
                    self.arm(st, "nat", n, "pending")
            elif a == "DeleteNatGateway":
                for n in tags(body, "natGatewayId"):
                    self.arm(st, "nat", n, "deleting")
            elif a == "DescribeNatGateways" and self.active(st, "nat"):
                import xml.etree.ElementTree as ET
                root = xml_root(resp.body)
                for it in root.iter("item"):
                    nid = it.findtext("natGatewayId")
                    state = self.shown(st, "nat", nid) if nid else None
                    if state and it.find("state") is not None:
                        it.find("state").text = state
                resp.body = ET.tostring(root, encoding="utf-8")
        elif req.protocol == "rest-json":
            try:
                d = json.loads(resp.body or b"{}")
            except ValueError:
                return resp
            path = req.path.split("?")[0]
            if req.method == "POST" and path == "/2015-02-01/file-systems" and d.get("FileSystemId"):
                self.arm(st, "fs", d["FileSystemId"], "creating")
                d["LifeCycleState"] = "creating"
            elif req.method == "POST" and path == "/2015-02-01/mount-targets" and d.get("MountTargetId"):
                self.arm(st, "mt", d["MountTargetId"], "creating")
                d["LifeCycleState"] = "creating"
            elif req.method == "GET" and path == "/2015-02-01/file-systems":
                for fs in d.get("FileSystems") or []:
                    fs["LifeCycleState"] = self.shown(st, "fs", fs.get("FileSystemId")) or fs.get("LifeCycleState")
            elif req.method == "GET" and path == "/2015-02-01/mount-targets":
                for mt in d.get("MountTargets") or []:
                    mt["LifeCycleState"] = self.shown(st, "mt", mt.get("MountTargetId")) or mt.get("LifeCycleState")
            else:
                return resp
            resp.body = json.dumps(d).encode()
        elif req.protocol == "json" and req.service == "sagemaker":
            name = (req.json or {}).get("NotebookInstanceName")
            if a in ("CreateNotebookInstance", "StartNotebookInstance"):
                self.arm(st, "nb", name, "Pending")
            elif a == "StopNotebookInstance":
                self.arm(st, "nb", name, "Stopping")
            elif a == "DescribeNotebookInstance":
                state = self.shown(st, "nb", name)
                if state:
                    d = json.loads(resp.body or b"{}")
                    d["NotebookInstanceStatus"] = state
                    resp.body = json.dumps(d).encode()
        return resp

# ---------------------------------------------------------------- server

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    state = None

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
                if b.name in st.config and hasattr(b, "before"):
                    resp = b.before(req, st)
                    if resp is not None:
                        resp.switch = resp.switch or b.name
                        break
            if resp is None:
                resp = forward(req)
            # Every answer, moto's or a behaviour's, passes the others' after
            # hooks (a DescribeInstances made by "states" still shows the spot
            # request ids of "spot_persistent").
            for b in BEHAVIOURS:
                if b.name in st.config and hasattr(b, "after"):
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
    global UPSTREAM
    UPSTREAM = a.upstream.rstrip("/")
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
