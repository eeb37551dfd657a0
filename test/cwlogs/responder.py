#!/usr/bin/env python3
"""responder.py: a loopback stand-in for Amazon CloudWatch Logs, for the
bedlog_fdw tests (sql/cwlogs.sql).

Design notes.  It speaks CloudWatch Logs' JSON 1.1 protocol: a POST to "/"
with Content-Type application/x-amz-json-1.1 and X-Amz-Target
Logs_20140328.FilterLogEvents or Logs_20140328.GetLogEvents, answered with
JSON, or with an error body {"__type": ..., "message": ...} as the service
sends.  Every request must be signed for the service "logs": the signature
is recomputed with botocore's own SigV4 signer over the request as
received, and the caller's key must be one of the rig's (testcreds.py).
Every request body is checked against the operation's input shape in the
"logs" service model that python3-botocore ships
(botocore/data/logs/2014-03-28/service-2.json), with botocore's own
parameter validator: a member the model does not have, a wrong type, a
value out of range is refused with a ValidationException and counted
(validation_rejects), so that a test can require none.

Log groups hold the events of one stream, aws/bedrock/modelinvocations,
as Bedrock writes them: one event per record, its timestamp the record's
"timestamp" in milliseconds, its ingestion time 1.5 s later.
--group NAME=DIR loads every Bedrock log object (.json.gz, named as
Bedrock names them) below DIR, a bucket that genlogs.py --fixtures wrote,
so that a group holds exactly the records of that S3 bucket.
POST /__cw/load?group=NAME&dir=DIR loads a bucket written later (below
/tmp/).  POST /__cw/put?group=NAME (body: a JSON array of {"timestamp", "message",
optional "ingestionTime", "logStreamName"}) adds events, creating the
group; tests use it for events at chosen milliseconds, late ones and
broken ones.

FilterLogEvents applies startTime and endTime (both inclusive, as the API
reference says), and filterPattern: the JSON form { <expr> } with
$.member = "value" (a trailing * matches any rest), $.member EXISTS, &&,
|| and parentheses; anything else is refused as InvalidParameterException
(the client must send only what the service understands).  Pages hold at
most limit events (default 10,000, or the page_size setting) and carry
nextToken while events remain; with empty_pages on, each page is preceded
by an empty one with a nextToken, as the service may answer.
GetLogEvents serves one stream with nextForwardToken.

Control endpoints: GET /__cw/stats (counters, and the last requests'
parameters, JSON); POST /__cw/reset; POST /__cw/config?page_size=N&
throttle=N&fail5xx=N&empty_pages=0|1&delay_ms=N (throttle: the next N requests are
answered 400 ThrottlingException; fail5xx: the next N 503
ServiceUnavailableException; delay_ms: every answer that much late).

It binds 127.0.0.1 only and exits by itself: on SIGTERM/SIGINT, when its
parent process goes away, or after --max-lifetime seconds (3 hours).
"""
import argparse
import base64
import calendar
import gzip
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

import botocore.session
from botocore.exceptions import ParamValidationError
from botocore.validate import ParamValidator

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 's3'))
import rigserver  # noqa: E402
import testcreds  # noqa: E402

STREAM = 'aws/bedrock/modelinvocations'
TARGET_PREFIX = 'Logs_20140328.'
MODEL = botocore.session.get_session().get_service_model('logs')
VALIDATOR = ParamValidator()
LOG_NAME = re.compile(r'^\d{8}T\d{9}Z_[0-9a-f]{16}\.json\.gz$')

lock = threading.Lock()
groups = {}      # name -> list of events (dicts), kept sorted by (timestamp, seq)
settings = {}
stats = {}
seq = [0]


def reset():
    settings.clear()
    settings.update(page_size=0, throttle=0, fail5xx=0, empty_pages=0, delay_ms=0)
    stats.clear()
    stats.update(requests=0, filter_requests=0, get_requests=0, pages=0, events_returned=0,
                 signatures_verified=0, signature_rejects=0, validation_rejects=0,
                 throttled=0, failed5xx=0, last=[])


reset()


class CwError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def parse_ts(s):
    """Bedrock's timestamp (ISO 8601, Z, optional fraction) in milliseconds."""
    m = re.match(r'^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?Z$', s)
    if not m:
        raise ValueError(s)
    secs = calendar.timegm(tuple(int(x) for x in m.groups()[:6]))
    frac = (m.group(7) or '0')[:3].ljust(3, '0')
    return secs * 1000 + int(frac)


def event_id(group, ts, stream, message):
    """56 digits, as the service's: the time, then digits of a hash of the
    event, so that the same event has the same id whatever was loaded
    before it"""
    h = int(hashlib.sha256(('%s\0%s\0%s' % (group, stream, message)).encode()).hexdigest(), 16)
    return '%020d%036d' % (ts, h % 10 ** 36)


def add_event(group, ts, message, ingestion=None, stream=STREAM):
    seq[0] += 1
    ev = {'logStreamName': stream, 'timestamp': ts, 'message': message,
          'ingestionTime': ingestion if ingestion is not None else ts + 1500,
          'eventId': event_id(group, ts, stream, message), '_seq': seq[0]}
    groups.setdefault(group, []).append(ev)


def sort_group(group):
    groups[group].sort(key=lambda e: (e['timestamp'], e['_seq']))


def load_bucket(group, root):
    n = 0
    for d, _, files in os.walk(root):
        for f in sorted(files):
            if not LOG_NAME.match(f):
                continue
            with open(os.path.join(d, f), 'rb') as fh:
                data = fh.read()
            if not data:
                continue
            # lines end in LF (CRLF too); str.splitlines would also cut at
            # the Unicode separators a JSON string may hold
            for line in gzip.decompress(data).decode('utf-8').split('\n'):
                line = line[:-1] if line.endswith('\r') else line
                if not line.strip():
                    continue
                add_event(group, parse_ts(json.loads(line)['timestamp']), line)
                n += 1
    groups.setdefault(group, [])
    sort_group(group)
    return n


def verify_signature(headers, body):
    try:
        testcreds.check_sigv4(headers, body, 'logs',
                              required=('content-type', 'host', 'x-amz-date', 'x-amz-target'))
    except testcreds.Rejected as e:
        if e.kind == 'missing':
            raise CwError(400, 'MissingAuthenticationTokenException', 'Missing Authentication Token')
        if e.kind == 'malformed':
            raise CwError(400, 'IncompleteSignatureException', 'Authorization header requires well-formed Credential, SignedHeaders and Signature.')
        if e.kind == 'unknown_key':
            raise CwError(400, 'UnrecognizedClientException', 'The security token included in the request is invalid.')
        if e.kind == 'expired':
            raise CwError(400, 'ExpiredTokenException', 'The security token included in the request is expired')
        if e.kind == 'wrong_service':
            raise CwError(400, 'InvalidSignatureException', "Credential should be scoped to correct service: 'logs'.")
        if e.kind == 'unsigned_header':
            raise CwError(400, 'InvalidSignatureException', "'%s' must be a signed header." % e.detail)
        with lock:
            stats['signature_rejects'] += 1
        raise CwError(400, 'InvalidSignatureException',
                      'The request signature we calculated does not match the signature you provided. '
                      'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.')
    with lock:
        stats['signatures_verified'] += 1


# --- filter patterns: the JSON form, as much of it as the client sends ---

def tokenize(s):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c.isspace():
            i += 1
        elif s.startswith('&&', i) or s.startswith('||', i):
            out.append(s[i:i + 2])
            i += 2
        elif c in '(){}=':
            out.append(c)
            i += 1
        elif c == '"':
            j, val = i + 1, ''
            while j < len(s) and s[j] != '"':
                if s[j] == '\\' and j + 1 < len(s):
                    j += 1
                val += s[j]
                j += 1
            if j >= len(s):
                raise ValueError('unterminated string')
            out.append(('str', val))
            i = j + 1
        else:
            m = re.match(r'\$(?:\.[A-Za-z0-9_]+)+|EXISTS', s[i:])
            if not m:
                raise ValueError('unexpected %r' % s[i:i + 10])
            out.append(('sel', m.group(0)) if m.group(0) != 'EXISTS' else 'EXISTS')
            i += len(m.group(0))
    return out


def parse_pattern(s):
    toks = tokenize(s)
    pos = [0]

    def peek():
        return toks[pos[0]] if pos[0] < len(toks) else None

    def take(t=None):
        tok = peek()
        if tok is None or (t is not None and tok != t):
            raise ValueError('expected %r' % (t,))
        pos[0] += 1
        return tok

    def term():
        if peek() == '(':
            take('(')
            e = expr()
            take(')')
            return e
        sel = take()
        if not (isinstance(sel, tuple) and sel[0] == 'sel'):
            raise ValueError('expected a selector')
        path = sel[1].split('.')[1:]
        if peek() == 'EXISTS':
            take()
            return ('exists', path)
        take('=')
        v = take()
        if not (isinstance(v, tuple) and v[0] == 'str'):
            raise ValueError('expected a string')
        return ('eq', path, v[1])

    def expr():
        e = term()
        while peek() in ('&&', '||'):
            op = take()
            e = (op, e, term())
        return e

    take('{')
    e = expr()
    take('}')
    if peek() is not None:
        raise ValueError('trailing text')
    return e


def member(doc, path):
    for p in path:
        if not isinstance(doc, dict) or p not in doc:
            return None, False
        doc = doc[p]
    return doc, True


def matches(e, doc):
    if e[0] == '&&':
        return matches(e[1], doc) and matches(e[2], doc)
    if e[0] == '||':
        return matches(e[1], doc) or matches(e[2], doc)
    v, found = member(doc, e[1])
    if e[0] == 'exists':
        return found
    if not found or not isinstance(v, str):
        return False
    if e[2].endswith('*'):
        return v.startswith(e[2][:-1])
    return v == e[2]


def event_matches(pattern, ev):
    if pattern is None:
        return True
    try:
        doc = json.loads(ev['message'])
    except ValueError:
        return False
    return isinstance(doc, dict) and matches(pattern, doc)


# --- the operations ---

def page_token(kind, offset, params):
    key = json.dumps({k: params.get(k) for k in sorted(params) if k not in ('nextToken', 'limit', 'startFromHead')})
    raw = json.dumps({'k': kind, 'o': offset, 'p': key})
    return base64.urlsafe_b64encode(raw.encode()).decode()


def read_token(kind, token, params):
    try:
        t = json.loads(base64.urlsafe_b64decode(token.encode()).decode())
        key = json.dumps({k: params.get(k) for k in sorted(params) if k not in ('nextToken', 'limit', 'startFromHead')})
        if t['k'] != kind or t['p'] != key:
            raise ValueError
        return t['o']
    except (ValueError, KeyError, TypeError):
        raise CwError(400, 'InvalidParameterException', 'The specified nextToken is invalid.')


def group_of(p):
    name = p.get('logGroupName') or p.get('logGroupIdentifier')
    if name not in groups:
        raise CwError(400, 'ResourceNotFoundException', 'The specified log group does not exist.')
    return name


def filter_log_events(p):
    name = group_of(p)
    pattern = None
    if p.get('filterPattern'):
        try:
            pattern = parse_pattern(p['filterPattern'])
        except ValueError as e:
            raise CwError(400, 'InvalidParameterException', 'Invalid filter pattern: %s' % e)
    lo, hi = p.get('startTime'), p.get('endTime')
    streams = p.get('logStreamNames')
    with lock:
        evs = [e for e in groups[name]
               if (lo is None or e['timestamp'] >= lo) and (hi is None or e['timestamp'] <= hi) and
               (streams is None or e['logStreamName'] in streams) and event_matches(pattern, e)]
        size = settings['page_size'] or 10000
        empty = settings['empty_pages']
    limit = min(p.get('limit', 10000), size)
    # an offset of -1 - n: the empty page before offset n
    off = read_token('filter', p['nextToken'], p) if 'nextToken' in p else (-1 if empty else 0)
    out = {'searchedLogStreams': [{'logStreamName': STREAM, 'searchedCompletely': True}]}
    if off < 0:
        out['events'] = []
        out['nextToken'] = page_token('filter', -1 - off, p)
        return out
    chunk = evs[off:off + limit]
    out['events'] = [{k: v for k, v in e.items() if not k.startswith('_')} for e in chunk]
    nxt = off + len(chunk)
    if nxt < len(evs):
        out['nextToken'] = page_token('filter', -1 - nxt if empty else nxt, p)
    return out


def get_log_events(p):
    name = group_of(p)
    lo, hi = p.get('startTime'), p.get('endTime')
    with lock:
        evs = [e for e in groups[name] if e['logStreamName'] == p['logStreamName'] and
               (lo is None or e['timestamp'] >= lo) and (hi is None or e['timestamp'] < hi)]
        size = settings['page_size'] or 10000
    limit = min(p.get('limit', 10000), size)
    off = read_token('get', p['nextToken'].split('/', 1)[-1], p) if 'nextToken' in p else 0
    chunk = evs[off:off + limit]
    nxt = off + len(chunk)
    # at the end, the same forward token again, as the service does
    return {'events': [{'timestamp': e['timestamp'], 'message': e['message'],
                        'ingestionTime': e['ingestionTime']} for e in chunk],
            'nextForwardToken': 'f/' + page_token('get', nxt, p),
            'nextBackwardToken': 'b/' + page_token('get', off, p)}


OPERATIONS = {'FilterLogEvents': filter_log_events, 'GetLogEvents': get_log_events}


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'bedlog-cwlogs'

    def log_message(self, fmt, *args):
        pass

    def send(self, status, obj, ctype='application/x-amz-json-1.1'):
        data = (json.dumps(obj) + '\n').encode()
        self.send_response(status)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(data)))
        self.send_header('x-amzn-RequestId', str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if urllib.parse.urlparse(self.path).path == '/__cw/stats':
            with lock:
                out = json.loads(json.dumps(stats))
                out['groups'] = {g: len(e) for g, e in groups.items()}
            return self.send(200, out, 'application/json')
        return self.send(404, {})

    def do_POST(self):
        u = urllib.parse.urlparse(self.path)
        n = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(n) if n else b''
        q = urllib.parse.parse_qs(u.query)
        if u.path == '/__cw/reset':
            with lock:
                reset()
            return self.send(200, {'reset': True}, 'application/json')
        if u.path == '/__cw/config':
            with lock:
                for k in settings:
                    if k in q:
                        settings[k] = int(q[k][0])
                out = dict(settings)
            return self.send(200, out, 'application/json')
        if u.path == '/__cw/load':
            # a bucket genlogs.py wrote after the responder started (the
            # month of test.sh), loaded as a group; the directory must be
            # below the system's temporary directory
            name, root = q.get('group', [''])[0], os.path.realpath(q.get('dir', [''])[0])
            if not name or not root.startswith('/tmp/') or not os.path.isdir(root):
                return self.send(400, {'error': 'group and a directory below /tmp/ required'}, 'application/json')
            with lock:
                groups[name] = []
                n = load_bucket(name, root)
            return self.send(200, {'group': name, 'events': n}, 'application/json')
        if u.path == '/__cw/put':
            name = q.get('group', [''])[0]
            with lock:
                if q.get('replace', ['0'])[0] == '1':
                    groups[name] = []
                for e in json.loads(body.decode()):
                    add_event(name, int(e['timestamp']), e['message'], e.get('ingestionTime'),
                              e.get('logStreamName', STREAM))
                groups.setdefault(name, [])
                sort_group(name)
                count = len(groups[name])
            return self.send(200, {'group': name, 'events': count}, 'application/json')
        if u.path != '/':
            return self.send(404, {})
        with lock:
            stats['requests'] += 1
            delay = settings['delay_ms']
        if delay:
            time.sleep(delay / 1000)
        try:
            if not self.headers.get('Content-Type', '').startswith('application/x-amz-json-1.1'):
                raise CwError(400, 'SerializationException', 'Content-Type must be application/x-amz-json-1.1')
            target = self.headers.get('X-Amz-Target', '')
            op = target[len(TARGET_PREFIX):] if target.startswith(TARGET_PREFIX) else None
            if op not in OPERATIONS:
                raise CwError(400, 'UnknownOperationException', 'Unknown operation %s' % target)
            verify_signature(self.headers, body)
            try:
                p = json.loads(body.decode())
            except ValueError:
                raise CwError(400, 'SerializationException', 'Start of structure or map found where not expected.')
            try:
                if not isinstance(p, dict):
                    raise ParamValidationError(report='the body is not a JSON object')
                report = VALIDATOR.validate(p, MODEL.operation_model(op).input_shape)
                if report.has_errors():
                    raise ParamValidationError(report=report.generate_report())
            except ParamValidationError as e:
                with lock:
                    stats['validation_rejects'] += 1
                raise CwError(400, 'ValidationException', str(e))
            with lock:
                stats['last'] = (stats['last'] + [dict(p, operation=op)])[-20:]
                if settings['throttle'] > 0:
                    settings['throttle'] -= 1
                    stats['throttled'] += 1
                    raise CwError(400, 'ThrottlingException', 'Rate exceeded')
                if settings['fail5xx'] > 0:
                    settings['fail5xx'] -= 1
                    stats['failed5xx'] += 1
                    raise CwError(503, 'ServiceUnavailableException', 'The service cannot complete the request.')
            out = OPERATIONS[op](p)
            with lock:
                stats['filter_requests' if op == 'FilterLogEvents' else 'get_requests'] += 1
                stats['pages'] += 1
                stats['events_returned'] += len(out['events'])
            self.send(200, out)
        except CwError as e:
            self.send(e.status, {'__type': e.code, 'message': e.message})


def main():
    ap = argparse.ArgumentParser(description='a loopback stand-in for CloudWatch Logs')
    ap.add_argument('--port', type=int, default=45730)
    ap.add_argument('--bind', default='127.0.0.1')
    ap.add_argument('--max-lifetime', type=int, default=3 * 3600)
    ap.add_argument('--pid-file')
    ap.add_argument('--group', action='append', default=[], metavar='NAME=DIR')
    a = ap.parse_args()
    if a.bind != '127.0.0.1':
        ap.error('--bind: 127.0.0.1 only')
    for g in a.group:
        name, root = g.split('=', 1)
        print('group %s: %d events from %s' % (name, load_bucket(name, root), root), flush=True)
    server = ThreadingHTTPServer((a.bind, a.port), Handler)
    rigserver.serve_until_gone(server, 'responder.py', a.bind, a.port, a.pid_file, a.max_lifetime)


if __name__ == '__main__':
    main()
