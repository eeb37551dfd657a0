#!/usr/bin/env python3
"""sts.py: a loopback stand-in for AWS STS, for the bedlog_fdw tests
(sql/sts.sql).

Design notes.  It speaks STS's Query protocol: a form-encoded POST to "/"
with Action AssumeRole or AssumeRoleWithWebIdentity, answered with STS's
XML (AssumeRoleResponse, AssumeRoleWithWebIdentityResponse, or an
ErrorResponse with STS's codes and messages).  Every AssumeRole must be
signed: the signature is recomputed with botocore's own SigV4 signer
(botocore.auth.SigV4Auth, python3-botocore) over the request as received,
for the signed headers it names, and compared; the caller's key must be
one of the rig's (testcreds.py: static keys, or temporary ones with their
session token and before their expiry).  The keys it issues are derived
as testcreds.js derives them, so the fault proxy accepts them (kinds ROLE
and WEBI), and only them in its --role-bucket buckets.

Roles (account 222222222222), as trust policies would allow them:
  role/bedlog-log-reader  AssumeRole by principals of account 111111111111;
                          MaxSessionDuration 1 hour
  role/bedlog-partner     the same, with sts:ExternalId bedlog-partner-7731
  role/bedlog-chain-reader  AssumeRole by an assumed role's keys only (role
                          chaining: the profile chains of sql/sts.sql)
  role/bedlog-eks-reader  AssumeRoleWithWebIdentity with a token that
                          starts WebIdTokenOK (WebIdTokenOld: expired)
Others are AccessDenied with STS's message, which names the caller and the
role.  Control endpoints: GET /__sts/stats (counters, JSON), POST
/__sts/reset, POST /__sts/config?lifetime=S&status=N&delay_ms=N (lifetime:
seconds the issued keys live whatever DurationSeconds asked, 0: as asked;
status: answer every call with that HTTP status and an InternalFailure).

It binds 127.0.0.1 only and exits by itself: on SIGTERM/SIGINT, when its
parent process goes away, or after --max-lifetime seconds (3 hours).
"""
import argparse
import hashlib
import json
import os
import re
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rigserver  # noqa: E402
import testcreds  # noqa: E402

NS = 'https://sts.amazonaws.com/doc/2011-06-15/'
READER = 'arn:aws:iam::222222222222:role/bedlog-log-reader'
PARTNER = 'arn:aws:iam::222222222222:role/bedlog-partner'
EKS = 'arn:aws:iam::222222222222:role/bedlog-eks-reader'
CHAIN = 'arn:aws:iam::222222222222:role/bedlog-chain-reader'
PARTNER_EXTERNAL_ID = 'bedlog-partner-7731'

lock = threading.Lock()
settings = {}
stats = {}


def reset():
    settings.clear()
    settings.update(lifetime=0, status=200, delay_ms=0)
    stats.clear()
    stats.update(assume_role=0, web_identity=0, signatures_verified=0, signature_rejects=0,
                 access_denied=0, caller_rejects=0, issued=0, callers={}, session_names=[],
                 durations=[], web_tokens_seen=0, _tokens=[])


reset()


class StsError(Exception):
    def __init__(self, status, code, message, typ='Sender'):
        super().__init__(message)
        self.status, self.code, self.message, self.typ = status, code, message, typ


def verify_signature(headers, body):
    """The caller's identity ARN, after checking the request's SigV4 signature."""
    try:
        key_id, k = testcreds.check_sigv4(headers, body, 'sts')
    except testcreds.Rejected as e:
        if e.kind == 'missing':
            raise StsError(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token')
        if e.kind == 'malformed':
            raise StsError(400, 'IncompleteSignature', 'Authorization header requires well-formed Credential, SignedHeaders and Signature.')
        if e.kind in ('unknown_key', 'expired'):
            with lock:
                stats['caller_rejects'] += 1
            if e.kind == 'unknown_key':
                raise StsError(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.')
            raise StsError(400, 'ExpiredToken', 'The security token included in the request is expired')
        if e.kind == 'wrong_service':
            raise StsError(403, 'SignatureDoesNotMatch', "Credential should be scoped to correct service: 'sts'.")
        with lock:
            stats['signature_rejects'] += 1
        raise StsError(403, 'SignatureDoesNotMatch',
                       'The request signature we calculated does not match the signature you provided. '
                       'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.')
    with lock:
        stats['signatures_verified'] += 1
    return k['identity'], key_id


def credentials_xml(kind, duration, role, session):
    with lock:
        life = settings['lifetime'] or duration
        stats['issued'] += 1
    c = testcreds.issue(kind, life)
    account = role.split(':')[4]
    name = role.split('/')[-1]
    return ('<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey>'
            '<SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials>'
            '<AssumedRoleUser><AssumedRoleId>AROA%s:%s</AssumedRoleId>'
            '<Arn>arn:aws:sts::%s:assumed-role/%s/%s</Arn></AssumedRoleUser>'
            % (c['AccessKeyId'], c['SecretAccessKey'], escape(c['SessionToken']), c['Expiration'],
               hashlib.sha1(role.encode()).hexdigest()[:17].upper(), escape(session),
               account, escape(name), escape(session)))


def common(p):
    role = p.get('RoleArn', '')
    session = p.get('RoleSessionName', '')
    if not re.match(r'^arn:aws:iam::\d{12}:role/[\w+=,.@/-]+$', role):
        raise StsError(400, 'ValidationError', "1 validation error detected: Value '%s' at 'roleArn' failed to satisfy constraint" % role[:100])
    if not re.match(r'^[\w+=,.@-]{2,64}$', session):
        raise StsError(400, 'ValidationError', "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*")
    duration = int(p.get('DurationSeconds', '3600'))
    if not 900 <= duration <= 43200:
        raise StsError(400, 'ValidationError', "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint")
    with lock:
        stats['session_names'].append(session)
        stats['durations'].append(duration)
    return role, session, duration


def assume_role(headers, body, p):
    caller, key_id = verify_signature(headers, body)
    with lock:
        stats['assume_role'] += 1
        stats['callers'][caller] = stats['callers'].get(caller, 0) + 1
    role, session, duration = common(p)
    denied = StsError(403, 'AccessDenied', 'User: %s is not authorized to perform: sts:AssumeRole on resource: %s' % (caller, role))
    chained = key_id.startswith('ASIAROLE') or key_id.startswith('ASIAWEBI')
    if role == CHAIN and not key_id.startswith('ASIAROLE'):
        with lock:
            stats['access_denied'] += 1
        raise denied
    if role not in (READER, PARTNER, CHAIN) or (role != CHAIN and ':111111111111:' not in caller):
        with lock:
            stats['access_denied'] += 1
        raise denied
    if role == PARTNER and p.get('ExternalId') != PARTNER_EXTERNAL_ID:
        with lock:
            stats['access_denied'] += 1
        raise denied
    if duration > 3600:
        raise StsError(400, 'ValidationError',
                       'The requested DurationSeconds exceeds the %s.'
                       % ('1 hour session limit for roles assumed by role chaining' if chained
                          else 'MaxSessionDuration set for this role'))
    return 'AssumeRole', credentials_xml('ROLE', duration, role, session)


def web_identity(p):
    with lock:
        stats['web_identity'] += 1
    role, session, duration = common(p)
    token = p.get('WebIdentityToken', '')
    digest = hashlib.sha256(token.encode()).hexdigest()
    with lock:
        if digest not in stats['_tokens']:
            stats['_tokens'].append(digest)
            stats['web_tokens_seen'] = len(stats['_tokens'])
    if token.startswith('WebIdTokenOld'):
        raise StsError(400, 'ExpiredTokenException',
                       'Token expired: current date/time %s must be before the expiration date/time 2026-01-01T00:00:00Z'
                       % time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()))
    if not token.startswith('WebIdTokenOK'):
        raise StsError(400, 'InvalidIdentityToken', 'Couldn\'t retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements')
    if role != EKS:
        with lock:
            stats['access_denied'] += 1
        raise StsError(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity')
    return 'AssumeRoleWithWebIdentity', credentials_xml('WEBI', duration, role, session)


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'bedlog-sts'

    def log_message(self, fmt, *args):  # quiet: the tests read the counters
        pass

    def send(self, status, body, ctype='text/xml'):
        data = body.encode()
        self.send_response(status)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(data)))
        self.send_header('x-amzn-RequestId', str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if urllib.parse.urlparse(self.path).path == '/__sts/stats':
            with lock:
                out = {k: v for k, v in stats.items() if not k.startswith('_')}
                body = json.dumps(out)
            return self.send(200, body + '\n', 'application/json')
        return self.send(404, '')

    def do_POST(self):
        u = urllib.parse.urlparse(self.path)
        n = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(n) if n else b''
        if u.path == '/__sts/reset':
            with lock:
                reset()
            return self.send(200, '{"reset":true}\n', 'application/json')
        if u.path == '/__sts/config':
            q = urllib.parse.parse_qs(u.query)
            with lock:
                for k in settings:
                    if k in q:
                        settings[k] = int(q[k][0])
                out = json.dumps(settings)
            return self.send(200, out + '\n', 'application/json')
        if u.path != '/':
            return self.send(404, '')
        with lock:
            delay, status = settings['delay_ms'], settings['status']
        if delay:
            time.sleep(delay / 1000)
        try:
            if status != 200:
                raise StsError(status, 'InternalFailure', 'The request processing has failed because of an unknown error, exception or failure.', 'Receiver')
            ctype = self.headers.get('Content-Type', '')
            if not ctype.startswith('application/x-www-form-urlencoded'):
                raise StsError(400, 'InvalidAction', 'Could not find operation for this request')
            p = dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
            if p.get('Version') != '2011-06-15':
                raise StsError(400, 'InvalidAction', 'Could not find operation %s for version %s' % (p.get('Action'), p.get('Version')))
            if p.get('Action') == 'AssumeRole':
                action, result = assume_role(self.headers, body, p)
            elif p.get('Action') == 'AssumeRoleWithWebIdentity':
                action, result = web_identity(p)
            else:
                raise StsError(400, 'InvalidAction', 'Could not find operation %s for version 2011-06-15' % p.get('Action'))
            self.send(200, '<%sResponse xmlns="%s">\n  <%sResult>%s</%sResult>\n  '
                      '<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata>\n</%sResponse>\n'
                      % (action, NS, action, result, action, uuid.uuid4(), action))
        except StsError as e:
            self.send(e.status, '<ErrorResponse xmlns="%s">\n  <Error>\n    <Type>%s</Type>\n    <Code>%s</Code>\n'
                      '    <Message>%s</Message>\n  </Error>\n  <RequestId>%s</RequestId>\n</ErrorResponse>\n'
                      % (NS, e.typ, e.code, escape(e.message), uuid.uuid4()))


def main():
    ap = argparse.ArgumentParser(description='a loopback stand-in for AWS STS')
    ap.add_argument('--port', type=int, default=45714)
    ap.add_argument('--bind', default='127.0.0.1')
    ap.add_argument('--max-lifetime', type=int, default=3 * 3600)
    ap.add_argument('--pid-file')
    a = ap.parse_args()
    server = ThreadingHTTPServer((a.bind, a.port), Handler)
    rigserver.serve_until_gone(server, 'sts.py', a.bind, a.port, a.pid_file, a.max_lifetime)


if __name__ == '__main__':
    main()
