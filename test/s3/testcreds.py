"""testcreds.py: the fake AWS credentials of the test rig, in Python, for
the stand-ins for STS (sts.py) and CloudWatch Logs (test/cwlogs/responder.py),
and the SigV4 check they share.

The same keys and the same derivation as testcreds.js, which the fault
proxy (proxy.js) and metadata.js use: static keys from the fixtures in aws/
(the server process's environment, its shared credentials file, the user
mappings' keys in mapping-keys.json) and temporary keys whose id
ASIA<KIND><n>X<expiry> carries its expiry and whose secret and session
token are HMACs of the id under a fixed seed.  What sts.py issues here the
proxy accepts there, and the other way round; a mismatch shows as the
proxy refusing the role's keys.
"""
import base64
import hashlib
import hmac as _hmac
import json
import os
import re
import time

SEED = b'bedlog-test-temporary-credentials'
AWS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'aws')


def _hmac_word(data):
    d = _hmac.new(SEED, data.encode(), hashlib.sha256).digest()
    return re.sub(r'[^A-Za-z0-9]', '', base64.b64encode(d).decode())


def _env_file(path):
    out = {}
    with open(path) as f:
        for line in f:
            m = re.match(r'^([A-Z_]+)=(.*)$', line.strip())
            if m:
                out[m.group(1)] = m.group(2)
    return out


def _credentials_file(path):
    out, cur = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in '#;':
                continue
            m = re.match(r'^\[([^\]]+)\]$', line)
            if m:
                cur = out.setdefault(m.group(1).strip(), {})
                continue
            if cur is not None and '=' in line:
                k, v = line.split('=', 1)
                cur[k.strip()] = v.strip()
    return out


def static_keys():
    """access key id -> {secret, token, identity} of every static test key"""
    keys = {}
    with open(os.path.join(AWS_DIR, 'mapping-keys.json')) as f:
        for k, v in json.load(f).items():
            if not k.startswith('_'):
                keys[k] = v
    env = _env_file(os.path.join(AWS_DIR, 'environment'))
    if env.get('AWS_ACCESS_KEY_ID'):
        keys[env['AWS_ACCESS_KEY_ID']] = {
            'secret': env['AWS_SECRET_ACCESS_KEY'], 'token': env.get('AWS_SESSION_TOKEN'),
            'identity': 'arn:aws:iam::111111111111:user/bedlog-server-env'}
    for name, p in _credentials_file(os.path.join(AWS_DIR, 'credentials')).items():
        if p.get('aws_access_key_id') and p.get('aws_secret_access_key'):
            keys[p['aws_access_key_id']] = {
                'secret': p['aws_secret_access_key'], 'token': p.get('aws_session_token'),
                'identity': 'arn:aws:iam::111111111111:user/bedlog-file-' + name}
    return keys


_statics = None
_counter = 0

IDENTITY = {
    'IMDS': 'arn:aws:sts::111111111111:assumed-role/bedlog-test-role/i-0bedl0g',
    'CTNR': 'arn:aws:sts::111111111111:assumed-role/bedlog-pod-role/eks-pod',
}


def lookup(key_id):
    """{secret, token, expires (s or None), identity} of key_id, or None"""
    global _statics
    if _statics is None:
        _statics = static_keys()
    if key_id in _statics:
        k = _statics[key_id]
        return {'secret': k['secret'], 'token': k.get('token'), 'expires': None,
                'identity': k.get('identity', 'arn:aws:iam::111111111111:user/unknown')}
    m = re.match(r'^ASIA(IMDS|CTNR|ROLE|WEBI)\d{4}X(\d{9,11})$', key_id)
    if not m:
        return None
    w = 'Sts' if m.group(1) in ('ROLE', 'WEBI') else 'Tmp'
    return {
        'secret': w + 'Secret' + _hmac_word('secret:' + key_id)[:30],
        'token': w + 'Token' + _hmac_word('token:' + key_id) + _hmac_word('token2:' + key_id),
        'expires': int(m.group(2)),
        'identity': IDENTITY.get(m.group(1), 'arn:aws:sts::222222222222:assumed-role/' + m.group(1)),
    }


def issue(kind, lifetime):
    """new temporary keys of kind (ROLE or WEBI) living lifetime seconds"""
    global _counter
    expiry = int(time.time()) + lifetime
    _counter = (_counter + 1) % 10000
    key_id = 'ASIA%s%04dX%d' % (kind, _counter, expiry)
    k = lookup(key_id)
    return {'AccessKeyId': key_id, 'SecretAccessKey': k['secret'], 'SessionToken': k['token'],
            'Expiration': time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(expiry)) + '.000Z',
            'expiry': expiry}


class Rejected(Exception):
    """Why check_sigv4 refused a request: kind is one of 'missing',
    'malformed', 'unknown_key', 'expired', 'wrong_service',
    'unsigned_header' (detail: the header) and 'mismatch'."""

    def __init__(self, kind, detail=None):
        super().__init__(kind)
        self.kind = kind
        self.detail = detail


def check_sigv4(headers, body, service, required=()):
    """Check the SigV4 signature of a POST to / (STS, CloudWatch Logs) with
    botocore's signer, against the keys of this rig.  Returns (key_id, key)
    (key as lookup returns it); raises Rejected otherwise.  required: the
    headers that must be among the signed ones."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    auth = headers.get('Authorization')
    if not auth:
        raise Rejected('missing')
    m = re.match(r'^AWS4-HMAC-SHA256 Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request,\s*'
                 r'SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$', auth)
    if not m:
        raise Rejected('malformed')
    key_id, date, region, scoped_service, signed, signature = m.groups()
    k = lookup(key_id)
    token = headers.get('X-Amz-Security-Token')
    if k is None or (k['token'] or None) != (token or None):
        raise Rejected('unknown_key')
    if k['expires'] is not None and time.time() >= k['expires']:
        raise Rejected('expired')
    if scoped_service != service:
        raise Rejected('wrong_service')
    names = signed.split(';')
    for h in required:
        if h not in names:
            raise Rejected('unsigned_header', h)
    amz_date = headers.get('X-Amz-Date', '')
    req = AWSRequest(method='POST', url='http://%s/' % headers.get('Host', ''), data=body,
                     headers={h: headers.get(h, '') for h in names if h != 'host'})
    signer = SigV4Auth(Credentials(key_id, k['secret'], token), service, region)
    req.context['timestamp'] = amz_date
    signer._modify_request_before_signing(req)
    canonical = signer.canonical_request(req)
    expected = signer.signature(signer.string_to_sign(req, canonical), req)
    if (signer.signed_headers(signer.headers_to_sign(req)) != signed or expected != signature or
            amz_date[:8] != date):
        raise Rejected('mismatch')
    return key_id, k
