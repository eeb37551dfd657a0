#!/usr/bin/env python3
"""selftest.py: the CloudWatch Logs responder (responder.py) against
botocore's own client, so that what the responder accepts and answers is
what the real service's SDK sends and reads.

It starts the responder on a free loopback port, loads events through
/__cw/put, and checks: botocore's signed FilterLogEvents and GetLogEvents
pass signature and model validation; paging with nextToken and
nextForwardToken returns every event once; startTime and endTime are
inclusive for FilterLogEvents, endTime exclusive for GetLogEvents; each
filter pattern form the extension sends selects what it should; a wrong
secret, a wrong service in the scope and a body the model refuses are
refused; throttling and 503s are answered as asked.  Prints "N passed, M
failed" and exits non-zero on a failure.
"""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
KEY, SECRET, TOKEN = 'AKIABEDLOGMAPKEY0001', 'MapSecretMapping4Rf7Tg1Yh5Uj9Ik', 'MapTokenMappingZ8x6C4v2B0n8M6q4W2e0'
passed = failed = 0


def check(name, ok, detail=''):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print('FAIL %s %s' % (name, detail))


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


port = free_port()
base = 'http://127.0.0.1:%d' % port
proc = subprocess.Popen([sys.executable, os.path.join(HERE, 'responder.py'), '--port', str(port),
                         '--max-lifetime', '120'], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
try:
    for _ in range(100):
        try:
            urllib.request.urlopen(base + '/__cw/stats')
            break
        except OSError:
            time.sleep(0.1)

    def post(path, body=b''):
        return json.load(urllib.request.urlopen(urllib.request.Request(base + path, data=body, method='POST')))

    def stats():
        return json.load(urllib.request.urlopen(base + '/__cw/stats'))

    t0 = 1793491200000   # 2026-11-01T00:00:00Z
    evs = [{'timestamp': t0 + i * 250, 'message': json.dumps({
        'timestamp': '2026-11-01T00:00:%02d.%03dZ' % (i * 250 // 1000, i * 250 % 1000),
        'modelId': 'model-%d' % (i % 3), 'operation': 'Converse' if i % 2 else 'InvokeModel',
        **({'errorCode': 'ThrottlingException'} if i % 5 == 0 else {})})} for i in range(40)]
    post('/__cw/put?group=g1', json.dumps(evs).encode())
    post('/__cw/config?page_size=7')

    s = botocore.session.get_session()
    c = s.create_client('logs', region_name='us-east-1', endpoint_url=base, aws_access_key_id=KEY,
                        aws_secret_access_key=SECRET, aws_session_token=TOKEN,
                        config=Config(retries={'max_attempts': 1, 'mode': 'standard'}))

    def all_events(**kw):
        out, pages, token = [], 0, None
        while True:
            r = c.filter_log_events(logGroupName='g1', **kw, **({'nextToken': token} if token else {}))
            pages += 1
            out += r['events']
            token = r.get('nextToken')
            if not token:
                return out, pages

    got, pages = all_events()
    check('paging returns every event once', [e['timestamp'] for e in got] == [e['timestamp'] for e in evs],
          len(got))
    check('pages of 7', pages == 6, pages)
    check('events carry ids, streams, ingestion times',
          all(e['eventId'] and e['logStreamName'] == 'aws/bedrock/modelinvocations' and
              e['ingestionTime'] == e['timestamp'] + 1500 for e in got))
    got, _ = all_events(startTime=t0 + 1000, endTime=t0 + 2000)
    check('FilterLogEvents: both ends inclusive', [e['timestamp'] - t0 for e in got] == [1000, 1250, 1500, 1750, 2000],
          [e['timestamp'] - t0 for e in got])
    got, _ = all_events(filterPattern='{ $.modelId = "model-1" }')
    check('pattern =', len(got) == sum(1 for i in range(40) if i % 3 == 1))
    got, _ = all_events(filterPattern='{ ($.modelId = "model-1") || ($.modelId = "model-2") }')
    check('pattern ||', len(got) == sum(1 for i in range(40) if i % 3 != 0))
    got, _ = all_events(filterPattern='{ ($.modelId = "model-1") && ($.operation = "Converse") }')
    check('pattern &&', len(got) == sum(1 for i in range(40) if i % 3 == 1 and i % 2))
    got, _ = all_events(filterPattern='{ $.errorCode EXISTS }')
    check('pattern EXISTS', len(got) == 8, len(got))
    try:
        c.filter_log_events(logGroupName='g1', filterPattern='{ $.modelId ~ "x" }')
        check('bad pattern refused', False)
    except ClientError as e:
        check('bad pattern refused', e.response['Error']['Code'] == 'InvalidParameterException')

    r = c.get_log_events(logGroupName='g1', logStreamName='aws/bedrock/modelinvocations',
                         startTime=t0 + 1000, endTime=t0 + 2000, startFromHead=True)
    check('GetLogEvents: endTime exclusive', [e['timestamp'] - t0 for e in r['events']] == [1000, 1250, 1500, 1750])
    seen, token = [], None
    for _ in range(20):
        kw = {'nextToken': token} if token else {'startFromHead': True}
        r = c.get_log_events(logGroupName='g1', logStreamName='aws/bedrock/modelinvocations', **kw)
        seen += r['events']
        if r['nextForwardToken'] == token:
            break
        token = r['nextForwardToken']
    check('GetLogEvents pages with nextForwardToken', len(seen) == 40, len(seen))

    try:
        c.filter_log_events(logGroupName='nope')
        check('unknown group', False)
    except ClientError as e:
        check('unknown group', e.response['Error']['Code'] == 'ResourceNotFoundException')

    bad = s.create_client('logs', region_name='us-east-1', endpoint_url=base, aws_access_key_id=KEY,
                          aws_secret_access_key=SECRET + 'x', aws_session_token=TOKEN,
                          config=Config(retries={'max_attempts': 1}))
    try:
        bad.filter_log_events(logGroupName='g1')
        check('wrong secret refused', False)
    except ClientError as e:
        check('wrong secret refused', e.response['Error']['Code'] == 'InvalidSignatureException')

    def raw(body, service='logs'):
        req = AWSRequest(method='POST', url=base + '/', data=body, headers={
            'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'Logs_20140328.FilterLogEvents'})
        SigV4Auth(Credentials(KEY, SECRET, TOKEN), service, 'us-east-1').add_auth(req)
        p = req.prepare()
        try:
            r = urllib.request.urlopen(urllib.request.Request(p.url, data=p.body, headers=dict(p.headers),
                                                              method='POST'))
            return r.status, json.load(r)
        except urllib.error.HTTPError as e:
            return e.code, json.load(e)

    st, b = raw(json.dumps({'logGroupName': 'g1', 'limit': 1}).encode())
    check('signed raw request', st == 200 and len(b['events']) == 1, (st, b))
    st, b = raw(json.dumps({'logGroupName': 'g1', 'startTime': 'soon'}).encode())
    check('model refuses a string startTime', st == 400 and b['__type'] == 'ValidationException', b)
    st, b = raw(json.dumps({'logGroupName': 'g1', 'nextTokn': 'x'}).encode())
    check('model refuses an unknown member', st == 400 and b['__type'] == 'ValidationException', b)
    st, b = raw(json.dumps({'logGroupName': 'g1'}).encode(), service='s3')
    check('scope of another service refused', st == 400 and b['__type'] == 'InvalidSignatureException', b)
    check('validation rejects counted', stats()['validation_rejects'] == 2, stats()['validation_rejects'])

    post('/__cw/config?throttle=2&fail5xx=1&page_size=0&empty_pages=1')
    codes = [(st, b.get('__type')) for st, b in (raw(b'{"logGroupName": "g1"}') for _ in range(4))]
    check('throttling and 503 on demand', codes == [(400, 'ThrottlingException'), (400, 'ThrottlingException'),
                                                   (503, 'ServiceUnavailableException'), (200, None)], codes)
    r = c.filter_log_events(logGroupName='g1')
    check('empty page first, with a nextToken', r['events'] == [] and r.get('nextToken'))
    r = c.filter_log_events(logGroupName='g1', nextToken=r['nextToken'])
    check('then the events', len(r['events']) == 40 and not r.get('nextToken'), len(r['events']))
finally:
    proc.terminate()
    proc.wait()
print('%d passed, %d failed' % (passed, failed))
sys.exit(1 if failed else 0)
