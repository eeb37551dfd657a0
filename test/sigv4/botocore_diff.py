#!/usr/bin/python3
"""Differential test: src/sigv4.c (through sigv4_cli) against botocore.

Design notes.  botocore's S3SigV4Auth is an independent implementation of
the same S3 rules: it signs the URL path as given (S3SigV4Auth overrides
_normalize_url_path to return the path untouched), and it encodes query
parameters with quote(safe='-_.~'), i.e. everything but the unreserved
characters, '/' included (checked below rather than assumed).  We build
CASES deterministic pseudo-random S3 requests (fixed seed), sign each with
botocore at a fixed time, feed the same requests to sigv4_cli, and compare
the Authorization value, the canonical query string and the x-amz-date,
byte for byte.

The object path is encoded on each side by its own code: here with
urllib.parse.quote(path, safe='/~'), in C with sigv4_uri_encode.  The body
is hashed on each side too (hashlib inside botocore, sigv4_sha256_hex).

Corners where botocore differs from what S3 documents or from our API,
excluded on purpose:
  - A Date header makes botocore drop X-Amz-Date and rewrite Date; we always
    send x-amz-date, so no case carries a Date header.
  - botocore folds header values with str.split(), i.e. any Unicode
    whitespace; SigV4 and we fold blanks (space, tab).  Header values here
    are ASCII with spaces and tabs only.
  - botocore signs a parameter value None as the text "None"; a bare
    parameter is given to botocore as '' and to us as NULL, both "name=".
  - botocore's HTTPHeaders keeps one value per header name here, so no case
    repeats a header (the AWS vectors in sigv4_test.c cover that).
  - botocore never signs User-Agent, Expect or X-Amzn-Trace-Id; not used.

Time: botocore up to 1.31 reads datetime.datetime.utcnow() in
SigV4Auth.add_auth, later ones botocore.auth.get_current_datetime(); for
the duration of each signing, botocore.auth.datetime is replaced by a
stand-in whose utcnow() returns the case's time, and get_current_datetime
(where botocore.auth has it) by a function returning that time.

Output: one line per failed check, then "#counts <passed> <failed>".
"""

import contextlib
import datetime
import random
import subprocess
import sys
import types
import urllib.parse
from unittest import mock

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SEED = 20240601
CASES = 500

HOSTS = [
    ('https', 'examplebucket.s3.amazonaws.com', ''),
    ('https', 'bedrock-logs.s3.us-west-2.amazonaws.com', ''),
    ('https', 's3.eu-west-1.amazonaws.com', '/my-bucket'),
    ('http', '127.0.0.1:9000', '/logs'),
    ('http', 'localhost:4566', '/b'),
    ('https', 'minio.internal:8443', '/bucket.with.dots'),
]
REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-2',
           'us-gov-west-1', 'cn-north-1']
KEY_PIECES = [
    'AWSLogs', '123456789012', 'BedrockModelInvocationLogs', 'us-east-1',
    '2024', '06', '01', 'file.json.gz', 'a', 'Z', '0', 'x-y_z.~',
    ' ', '  ', '+', '=', '&', '%', '%20', '~', '!', '*', "'", '(', ')', '$',
    ',', ';', ':', '@', '#', '?', '[', ']', '"', '<', '>', '^', '`', '{',
    '|', '}', '\\',
    '\u00e9', '\u00fc', '\u65e5\u672c', '\u20ac', '\U0001F600', '\u1234',
    '/', '//', '///',
]
TOKEN_CHARS = ('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
               '0123456789+/=')
SECRET_CHARS = TOKEN_CHARS


def random_key(rng):
    """An object key built from awkward pieces, possibly with '/' runs."""
    n = rng.randint(1, 12)
    key = ''.join(rng.choice(KEY_PIECES) for _ in range(n))
    if rng.random() < 0.2:
        key += '/'
    return key


def random_token(rng, lo, hi, alphabet=TOKEN_CHARS):
    return ''.join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))


def random_blanks(rng):
    return rng.choice(['', '', ' ', '  ', '\t', ' \t '])


def random_params(rng, method):
    """Query parameters as (name, value) with value None for a bare one."""
    params = []
    if method == 'GET' and rng.random() < 0.6:
        params.append(('list-type', '2'))
        if rng.random() < 0.8:
            params.append(('prefix', random_key(rng)))
        if rng.random() < 0.4:
            params.append(('continuation-token', random_token(rng, 1, 120)))
        if rng.random() < 0.3:
            params.append(('start-after', random_key(rng)))
        if rng.random() < 0.5:
            params.append(('delimiter', '/'))
        if rng.random() < 0.5:
            params.append(('max-keys', str(rng.randint(0, 1000))))
        if rng.random() < 0.2:
            params.append(('encoding-type', 'url'))
        if rng.random() < 0.1:
            params.append(('fetch-owner', rng.choice(['true', 'false'])))
    else:
        r = rng.random()
        if r < 0.15:
            params.append((rng.choice(['lifecycle', 'versions', 'acl',
                                       'tagging', 'uploads']), None))
        elif r < 0.3:
            params.append(('versionId', random_token(rng, 1, 40)))
        elif r < 0.4:
            params.append(('partNumber', str(rng.randint(1, 10000))))
            params.append(('uploadId', random_token(rng, 1, 60)))
    if rng.random() < 0.15:
        # an odd name and a repeated name, sorted by value
        params.append((random_key(rng), random_key(rng)))
        params.append(('dup', random_token(rng, 0, 5)))
        params.append(('dup', random_token(rng, 0, 5)))
    rng.shuffle(params)
    return params


def random_headers(rng, method):
    """Extra headers (name, value); names unique case-insensitively."""
    headers = []
    if method in ('GET', 'HEAD') and rng.random() < 0.5:
        a = rng.randint(0, 10 ** 9)
        headers.append((rng.choice(['Range', 'range', 'RANGE']),
                        random_blanks(rng) + 'bytes=%d-%d' %
                        (a, a + rng.randint(0, 10 ** 6)) + random_blanks(rng)))
    if rng.random() < 0.3:
        headers.append(('If-None-Match', '"%s"' % random_token(
            rng, 1, 32, '0123456789abcdef')))
    if method == 'PUT' and rng.random() < 0.6:
        headers.append(('Content-Type', rng.choice(
            ['application/json', 'application/x-gzip',
             'text/plain;  charset=utf-8'])))
    if rng.random() < 0.3:
        headers.append(('x-amz-meta-Note', random_blanks(rng) + 'a' +
                        random_blanks(rng) + 'b  c' + random_blanks(rng)))
    if rng.random() < 0.2:
        headers.append(('X-Amz-Request-Payer', 'requester'))
    rng.shuffle(headers)
    return headers


def random_time(rng):
    r = rng.random()
    if r < 0.1:
        return rng.choice([0, 951782400, 951868799, 1078012800, 1709164800,
                           1369353600, 1440938160, 2147483647, 2147483648,
                           4102444799, 4102444800])
    return rng.randint(946684800, 4102444800)


def make_case(rng, i):
    scheme, host, path_prefix = rng.choice(HOSTS)
    method = rng.choice(['GET', 'GET', 'HEAD', 'PUT'])
    key = random_key(rng)
    raw_path = path_prefix + '/' + key
    body = b''
    if method == 'PUT':
        n = rng.randint(0, 200)
        body = bytes(rng.randint(0, 255) for _ in range(n))
    return {
        'id': str(i),
        'scheme': scheme,
        'method': method,
        'host': host,
        'raw_path': raw_path,
        't': random_time(rng),
        'region': rng.choice(REGIONS),
        'service': 's3',
        'akid': 'AKIA' + random_token(rng, 16, 16,
                                      'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'),
        'secret': random_token(rng, 40, 40, SECRET_CHARS),
        'token': random_token(rng, 16, 400) if rng.random() < 0.5 else None,
        'unsigned': scheme == 'https' and rng.random() < 0.3,
        'body': body,
        'params': random_params(rng, method),
        'headers': random_headers(rng, method),
    }


class _FixedDatetime(datetime.datetime):
    """datetime.datetime whose utcnow() is pinned by botocore_sign."""
    pinned = None

    @classmethod
    def utcnow(cls):
        return cls.pinned


class _S3Config:
    """Just enough of a client config to turn payload signing off."""

    def __init__(self, sign_payload):
        self.s3 = {'payload_signing_enabled': sign_payload}


def botocore_sign(case):
    """Sign case with botocore; returns (authorization, query, x-amz-date)."""
    url = '%s://%s%s' % (case['scheme'], case['host'],
                         urllib.parse.quote(case['raw_path'], safe='/~'))
    params = [(n, '' if v is None else v) for n, v in case['params']]
    request = AWSRequest(method=case['method'], url=url,
                         headers=dict(case['headers']),
                         data=case['body'], params=params)
    if case['unsigned']:
        request.context['client_config'] = _S3Config(False)
    creds = Credentials(case['akid'], case['secret'], case['token'])
    auth = botocore.auth.S3SigV4Auth(creds, case['service'], case['region'])
    pinned = datetime.datetime.fromtimestamp(case['t'], datetime.timezone.utc)
    _FixedDatetime.pinned = pinned.replace(tzinfo=None)
    fake = types.SimpleNamespace(datetime=_FixedDatetime)
    with contextlib.ExitStack() as patches:
        patches.enter_context(mock.patch.object(botocore.auth, 'datetime', fake))
        if hasattr(botocore.auth, 'get_current_datetime'):
            patches.enter_context(mock.patch.object(
                botocore.auth, 'get_current_datetime',
                lambda remove_tzinfo=True: pinned.replace(tzinfo=None) if remove_tzinfo else pinned))
        auth.add_auth(request)
    query = auth.canonical_query_string(request)
    return (request.headers['Authorization'], query,
            request.headers['X-Amz-Date'])


def escape(value):
    """Field encoding understood by sigv4_cli: \\xHH for awkward bytes."""
    if isinstance(value, str):
        value = value.encode('utf-8')
    out = []
    for b in value:
        if b < 0x20 or b >= 0x7F or b == 0x5C:
            out.append('\\x%02X' % b)
        else:
            out.append(chr(b))
    return ''.join(out)


def cli_line(case):
    f = [case['id'], case['method'], case['host'], escape(case['raw_path']),
         str(case['t']), case['region'], case['service'], case['akid'],
         escape(case['secret']), escape(case['token'] or '')]
    if case['unsigned']:
        f.append('U')
    else:
        f.append('B' + escape(case['body']))
    f.append(str(len(case['params'])))
    for n, v in case['params']:
        f.append(escape(n))
        f.append('\\N' if v is None else escape(v))
    f.append(str(len(case['headers'])))
    for n, v in case['headers']:
        f.append(escape(n))
        f.append(escape(v))
    return '\t'.join(f)


class Counter:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, what, got, want):
        if got == want:
            self.passed += 1
        else:
            self.failed += 1
            print('FAIL botocore_diff %s: got %r want %r' % (what, got, want))


def self_checks(counter):
    """Assumptions about botocore that the comparison relies on."""
    auth = botocore.auth.S3SigV4Auth(Credentials('a', 'b'), 's3', 'us-east-1')
    counter.check('botocore query encodes / as %2F',
                  auth._canonical_query_string_params(
                      [('prefix', 'a/b c+d=e~')]),
                  'prefix=a%2Fb%20c%2Bd%3De~')
    counter.check('botocore S3 path is not normalised',
                  auth._normalize_url_path('/a//b/./c/../d%2F'),
                  '/a//b/./c/../d%2F')


def main():
    if len(sys.argv) != 2:
        sys.stderr.write('usage: botocore_diff.py path/to/sigv4_cli\n')
        return 2
    counter = Counter()
    self_checks(counter)

    rng = random.Random(SEED)
    cases = [make_case(rng, i) for i in range(CASES)]
    expected = {c['id']: botocore_sign(c) for c in cases}
    stdin = ''.join(cli_line(c) + '\n' for c in cases)
    proc = subprocess.run([sys.argv[1]], input=stdin.encode('ascii'),
                          stdout=subprocess.PIPE, check=False)
    # a sanitizer report (e.g. a leak) shows only in the exit status
    counter.check('sigv4_cli exit status', proc.returncode, 0)
    got = {}
    for line in proc.stdout.decode('utf-8', 'replace').splitlines():
        parts = line.split('\t')
        got[parts[0]] = parts[1:]

    for c in cases:
        desc = 'case %s (%s %s%s)' % (c['id'], c['method'], c['host'],
                                      ascii(c['raw_path']))
        want_auth, want_query, want_date = expected[c['id']]
        out = got.get(c['id'])
        if out is None or len(out) != 3:
            counter.check(desc + ': cli output', out, 'a signature')
            counter.failed += 2
            continue
        counter.check(desc + ': authorization', out[0], want_auth)
        counter.check(desc + ': query', out[1], want_query)
        counter.check(desc + ': x-amz-date', out[2], want_date)

    print('#counts %d %d' % (counter.passed, counter.failed))
    return 0 if counter.failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
