#!/usr/bin/env python3
"""botocore_check.py: mlsh's SigV4 signer against botocore's.

Generates seeded-random requests with odd paths, queries, headers, bodies,
session tokens, services and regions, signs each with botocore.auth.SigV4Auth
(S3SigV4Auth for S3, which signs the path verbatim) at a fixed time, and with
mlsh's sigv4_sign through tests/sigv4/sigv4_driver, and compares the
Authorization headers.

Both sides sign the same wire request: the path and query are given as they
would go on the request line. Queries are in canonical RFC 3986 form (what
mlsh's HTTP layer sends), since botocore signs a URL's query as it stands
while the SigV4 rules decode and re-encode it, and have no empty pieces
("a&&b": botocore signs one as "=", mlsh skips it as aws-c-auth does); paths
may hold anything a request line can (encoded octets, raw sub-delimiters, raw
UTF-8, spaces, dot segments, double slashes), since both sides encode the
path once more.

    botocore_check.py --driver PATH --kind KIND --seed N --count N

Prints "N requests, M mismatches" and the first few mismatches; exits 1 on
any mismatch.
"""
import argparse
import datetime
import hashlib
import random
import subprocess
import sys
from urllib.parse import quote

import botocore.auth
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

KINDS = ('paths', 'queries', 'headers', 's3', 'mixed')
SHOW_MISMATCHES = 3

LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
UNRESERVED = LETTERS + '-._~'
# Pieces of decoded text: every ASCII punctuation, blanks, percent signs that
# look like escapes, and UTF-8 of 2, 3 and 4 bytes.
ODD = [' ', '  ', '%', '%20', '%2F', '%%', '+', '=', '&', '~', '/', '?', '#',
       ':', ';', ',', '@', '!', '$', "'", '(', ')', '*', '[', ']', '"', '<',
       '>', '^', '`', '{', '|', '}', '\\', '-', '_', '.', '\u00e9', '\u00df',
       '\u1234', '\u4e2d\u6587', '\U0001f600', '\u00a0']
SUB_DELIMS = "$&+=;,:@!'()*"
RAW_UTF8 = ['\u1234', '\u00e9t\u00e9', '\u4e2d\u6587', '\U0001f600', 'na\u00efve']
SERVICES = ['service', 'ec2', 'sts', 'iam', 'elasticfilesystem', 'sagemaker',
            'ssm', 'monitoring', 'execute-api', 'lambda', 'dynamodb', 'logs']
REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2', 'us-gov-west-1',
           'cn-north-1', 'eu-central-2', 'sa-east-1']
METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS']
QUERY_KEYS = ['Action', 'Version', 'Filter.1.Name', 'Filter.1.Value.1',
              'X-Amz-Foo', 'a', 'A', 'b', '', 'key with space', '\u1234',
              'max-keys', 'prefix']
EXTRA_HEADERS = ['Content-Type', 'X-Amz-Target', 'My-Header1', 'My-Header2',
                 'X-Amz-Meta-Odd', 'Accept', 'Content-Encoding', 'Range',
                 'X-Amz-User-Agent', 'If-Match', 'User-Agent',
                 'X-Amzn-Trace-Id', 'Expect', 'Connection', 'Transfer-Encoding',
                 'Keep-Alive', 'Upgrade', 'TE', 'Authorization']
EMPTY_SHA256 = hashlib.sha256(b'').hexdigest()


def rand_text(rng, maxlen, odd=0.5):
    out = []
    for _ in range(rng.randint(1, maxlen)):
        out.append(rng.choice(ODD) if rng.random() < odd else rng.choice(LETTERS))
    return ''.join(out)


def rand_case(rng, name):
    r = rng.random()
    if r < 0.25:
        return name.lower()
    if r < 0.35:
        return name.upper()
    if r < 0.5:
        return ''.join(c.upper() if rng.random() < 0.5 else c.lower() for c in name)
    return name


def enc(s):
    return quote(s, safe='-_.~')


def rand_segment(rng):
    kind = rng.choice(['enc', 'enc', 'sub', 'utf8', 'space', 'dot', 'dotdot',
                       'empty', 'unres', 'pct', 'dotname'])
    if kind == 'enc':
        return enc(rand_text(rng, 10))
    if kind == 'sub':
        return ''.join(rng.choice(SUB_DELIMS + LETTERS) for _ in range(rng.randint(1, 8)))
    if kind == 'utf8':
        return rng.choice(RAW_UTF8) + rng.choice(['', 'x', '-1'])
    if kind == 'space':
        return rng.choice(['example space', 'a  b', 'x y z'])
    if kind == 'dot':
        return '.'
    if kind == 'dotdot':
        return '..'
    if kind == 'empty':
        return ''
    if kind == 'unres':
        return ''.join(rng.choice(UNRESERVED) for _ in range(rng.randint(1, 12)))
    if kind == 'pct':
        return rng.choice(['a%20b', '%2F', '%25', '%e1%88%b4', '%E1%88%B4',
                           '%41%42', '100%25', '%7E', '%2e%2e'])
    return rng.choice(['..a', 'a..', '...', '.a', 'a.', '.~'])


def rand_path(rng, s3):
    r = rng.random()
    if r < 0.05:
        return '/'
    if r < 0.08 and not s3:
        return ''
    if r < 0.1:
        return '//'
    segs = [rand_segment(rng) for _ in range(rng.randint(1, 6))]
    return '/' + '/'.join(segs) + ('/' if rng.random() < 0.3 else '')


def rand_query(rng):
    """A query as mlsh's HTTP layer would send it, or None."""
    r = rng.random()
    if r < 0.15:
        return None
    if r < 0.2:
        return ''
    keys = []
    pairs = []
    for _ in range(rng.randint(1, 7)):
        if keys and rng.random() < 0.3:
            key = rng.choice(keys)
        elif rng.random() < 0.5:
            key = rng.choice(QUERY_KEYS)
        else:
            key = rand_text(rng, 8)
        keys.append(key)
        v = rng.random()
        if v < 0.15 and key != '':
            # A key without '=' (an empty piece would be no parameter).
            pairs.append(enc(key))
        elif v < 0.3:
            pairs.append(enc(key) + '=')
        elif v < 0.45:
            pairs.append(enc(key) + '=' + ''.join(rng.choice(UNRESERVED) for _ in range(rng.randint(1, 10))))
        else:
            pairs.append(enc(key) + '=' + enc(rand_text(rng, 12)))
    return '&'.join(pairs)


def rand_header_value(rng):
    chars = []
    for _ in range(rng.randint(0, 20)):
        r = rng.random()
        if r < 0.15:
            chars.append(rng.choice([' ', '  ', '\t', ' \t ']))
        else:
            chars.append(chr(rng.randint(0x21, 0x7e)))
    v = ''.join(chars)
    if rng.random() < 0.3:
        v = rng.choice([' ', '   ', '\t']) + v
    if rng.random() < 0.3:
        v = v + rng.choice([' ', '   ', '\t'])
    return v


def rand_token(rng):
    chars = LETTERS + '/+='
    tok = ''.join(rng.choice(chars) for _ in range(rng.randint(16, 300)))
    if rng.random() < 0.1:
        tok = tok[:5] + '  ' + tok[5:]
    return tok


def rand_body(rng):
    r = rng.random()
    if r < 0.4:
        return b''
    if r < 0.7:
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 300)))
    if r < 0.85:
        return ('Action=Describe&Version=2016-11-15&Name=' + enc(rand_text(rng, 10))).encode()
    return ('{"Name": "%s", "n": %d}' % (rand_text(rng, 10).replace('"', "'").replace('\\', '/'),
                                         rng.randint(0, 999))).encode('utf-8')


def gen(rng, kind):
    s3 = kind == 's3' or (kind == 'mixed' and rng.random() < 0.2)
    service = 's3' if s3 else rng.choice(SERVICES)
    region = rng.choice(REGIONS)
    host = rng.choice([
        '%s.%s.amazonaws.com' % (service, region),
        'example.amazonaws.com',
        'localhost:4566',
        '127.0.0.1:5000',
        'bucket-%d.%s.%s.amazonaws.com' % (rng.randint(0, 99), service, region),
    ])
    ts = datetime.datetime(2000, 1, 1) + datetime.timedelta(seconds=rng.randrange(40 * 365 * 86400))
    req = {
        'method': rng.choice(METHODS),
        'service': service,
        'region': region,
        's3': s3,
        'host': host,
        'amz_date': ts.strftime('%Y%m%dT%H%M%SZ'),
        'ts': ts,
        'access': rng.choice(['AKIA', 'ASIA']) + ''.join(rng.choice(LETTERS[26:]) for _ in range(16)),
        'secret': ''.join(rng.choice(LETTERS + '/+') for _ in range(40)),
        'path': rand_path(rng, s3) if kind in ('paths', 's3', 'mixed') or rng.random() < 0.3 else '/',
        'query': rand_query(rng) if kind in ('queries', 's3', 'mixed') or rng.random() < 0.3 else None,
        'body': rand_body(rng) if kind in ('headers', 's3', 'mixed') or rng.random() < 0.3 else b'',
        'token': None,
        'sign_token': True,
        'payload_hash': None,
    }

    # Headers as both sides see them; X-Amz-Date only with the signing date.
    headers = [(rand_case(rng, 'Host'), host)]
    if rng.random() < 0.5:
        headers.append((rand_case(rng, 'X-Amz-Date'), req['amz_date']))
    nextra = rng.randint(0, 7) if kind in ('headers', 'mixed') else rng.randint(0, 2)
    sha_header = False
    for _ in range(nextra):
        if len(headers) > 1 and rng.random() < 0.25:
            name = rand_case(rng, headers[rng.randrange(1, len(headers))][0])
            if name.lower() in ('x-amz-date', 'host'):
                continue
        else:
            name = rand_case(rng, rng.choice(EXTRA_HEADERS))
        headers.append((name, rand_header_value(rng)))
    if not s3 and rng.random() < 0.15:
        sha_header = True
        headers.append((rand_case(rng, 'X-Amz-Content-SHA256'),
                        rng.choice(['UNSIGNED-PAYLOAD', hashlib.sha256(req['body']).hexdigest(),
                                    EMPTY_SHA256])))
    if s3:
        # S3SigV4Auth sets this header itself; the wire request carries it.
        headers.append(('X-Amz-Content-SHA256', hashlib.sha256(req['body']).hexdigest()))
    elif not sha_header and rng.random() < 0.3:
        req['payload_hash'] = hashlib.sha256(req['body']).hexdigest()

    r = rng.random()
    tokens = 0.7 if kind in ('headers', 'mixed') else 0.3
    if r < tokens:
        req['token'] = rand_token(rng)
        req['sign_token'] = rng.random() < 0.75
    if rng.random() < 0.2 and (req['token'] is None or req['sign_token']):
        # A stale token header: replaced by the token when there is one.
        headers.append((rand_case(rng, 'X-Amz-Security-Token'), rand_token(rng)))
    req['headers'] = headers
    return req


def hexf(s):
    if s is None:
        return '-'
    if isinstance(s, str):
        s = s.encode('utf-8')
    return s.hex()


def driver_line(req):
    fields = [req['method'], req['path'], req['query'], req['access'], req['secret'],
              req['token'], req['region'], req['service'], req['amz_date'],
              b'\x00' if req['s3'] else b'\x01',
              b'\x01' if req['sign_token'] else b'\x00',
              req['payload_hash'], req['body']]
    for name, value in req['headers']:
        fields += [name, value]
    return '\t'.join(hexf(f) for f in fields)


_now = [None]


def _fixed_now(*args, **kwargs):
    return _now[0]


def botocore_sign(req):
    """Returns (authorization, canonical request) as botocore computes them."""
    # add_auth takes the time from get_current_datetime(); pin it.
    botocore.auth.get_current_datetime = _fixed_now
    _now[0] = req['ts']
    token = req['token'] if req['sign_token'] else None
    creds = Credentials(req['access'], req['secret'], token)
    cls = S3SigV4Auth if req['s3'] else SigV4Auth
    auth = cls(creds, req['service'], req['region'])
    url = 'http://' + req['host'] + req['path']
    if req['query'] is not None:
        url += '?' + req['query']
    areq = AWSRequest(method=req['method'], url=url, data=req['body'])
    for name, value in req['headers']:
        areq.headers[name] = value
    auth.add_auth(areq)
    authz = areq.headers['Authorization']
    del areq.headers['Authorization']
    return authz, auth.canonical_request(areq)


def describe(req):
    out = ['    service=%s region=%s s3=%s method=%s date=%s' % (
        req['service'], req['region'], req['s3'], req['method'], req['amz_date'])]
    out.append('    path=%r query=%r' % (req['path'], req['query']))
    out.append('    headers=%r' % (req['headers'],))
    out.append('    token=%r sign_token=%s payload_hash=%r body=%d bytes' % (
        req['token'] if req['token'] is None else req['token'][:24] + '...',
        req['sign_token'], req['payload_hash'], len(req['body'])))
    return '\n'.join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--driver', required=True)
    ap.add_argument('--kind', choices=KINDS, default='mixed')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--count', type=int, default=100)
    args = ap.parse_args()

    rng = random.Random('%s/%d' % (args.kind, args.seed))
    reqs = [gen(rng, args.kind) for _ in range(args.count)]
    stdin = ''.join(driver_line(r) + '\n' for r in reqs)
    proc = subprocess.run([args.driver], input=stdin.encode('ascii'),
                          stdout=subprocess.PIPE, timeout=120, check=False)
    lines = proc.stdout.decode('utf-8', 'replace').split('\n')
    if proc.returncode != 0 or len(lines) < len(reqs):
        print('driver failed: rc %d, %d lines for %d requests' % (
            proc.returncode, len(lines) - 1, len(reqs)))
        return 1

    mismatches = []
    for i, req in enumerate(reqs):
        want_authz, want_creq = botocore_sign(req)
        fields = lines[i].split('\t')
        if fields[0] == 'ok' and fields[1] == want_authz:
            continue
        if fields[0] == 'ok':
            got = 'authorization %s\n    mlsh creq:\n%s' % (
                fields[1], bytes.fromhex(fields[2]).decode('utf-8', 'replace'))
        else:
            got = 'error: ' + '\t'.join(fields[1:])
        mismatches.append('request %d:\n%s\n    botocore: %s\n    botocore creq:\n%s\n    mlsh: %s' % (
            i, describe(req), want_authz, want_creq, got))

    print('%s seed %d: %d requests, %d mismatches' % (
        args.kind, args.seed, len(reqs), len(mismatches)))
    for m in mismatches[:SHOW_MISMATCHES]:
        print(m)
    return 1 if mismatches else 0


if __name__ == '__main__':
    sys.exit(main())
