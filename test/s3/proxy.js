#!/usr/bin/env node
/*
 * proxy.js: a small fault-injecting HTTP proxy in front of s3rver, for the
 * bedlog_fdw tests and benchmarks.
 *
 * Design notes.  The proxy forwards every request to the target (s3rver) over
 * a keep-alive agent and pipes the response back without buffering it, so a
 * request costs the test little more than the target alone.  It adds what
 * s3rver lacks and the tests need:
 *
 *   - faults chosen by the object key: a GET (or HEAD) of a key containing
 *     fault-404, fault-403, fault-500 or fault-503 gets the matching S3 error;
 *     fault-flaky answers 503 SlowDown to the first two GETs of each key,
 *     then forwards; fault-cut sends the headers and half of the body of
 *     the first GET of each key, then resets the connection, and forwards
 *     later GETs (Range included): a client must retry, and resume;
 *     fault-stall sends the headers and the first 1024 bytes of the real
 *     object, then nothing; fault-slowheaders answers only after a long wait;
 *     fault-changed serves the object with another ETag than the listing's,
 *     as if it had been rewritten since.
 *     Both hang for --stall-seconds (300) at most, or until the client leaves.
 *   - region emulation: buckets named with --bucket-region live in that region;
 *     a SigV4-signed request whose credential scope names another region gets
 *     S3's 400 AuthorizationHeaderMalformed, with x-amz-bucket-region set.
 *     GetBucketLocation (?location) answers the configured region.
 *   - optional SigV4 verification (--verify-sigv4): s3rver checks only that the
 *     access key exists, never the signature; with this flag the proxy
 *     recomputes the signature with the secrets given by --credentials and
 *     answers 403 SignatureDoesNotMatch, with S3's CanonicalRequest and
 *     StringToSign in the body, when they differ.  It also knows the fake
 *     keys of testcreds.js (the server process's environment and shared
 *     credentials file, user-mapping keys, and the temporary keys that
 *     metadata.js hands out): for those it checks the signature, the
 *     session token (403 InvalidToken) and the expiry (400 ExpiredToken),
 *     then forwards the request unsigned, since s3rver knows only its own
 *     key.  GET /__bedlog/stats counts requests by access key,
 *     and the GETs of each object by access key (get_keys_by_access_key).
 *   - buckets named with --role-bucket accept only requests signed with
 *     keys the STS responder (sts.py) issued, as a bucket of a log account
 *     that only its reader role may read (403 AccessDenied otherwise,
 *     counted as role_rejects); with --verify-sigv4 those keys' token and
 *     expiry are checked as the other temporary keys' are.
 *   - buckets named with --private-bucket refuse unsigned requests (403
 *     AccessDenied), as a bucket without a public policy does.
 *   - a GET of a key containing fault-delay is answered 400 ms late.
 *   - virtual-host addressing (bucket.localhost, bucket.s3.<anything>) is
 *     rewritten to path style, which s3rver understands.
 *   - --latency-ms delays every response, for benchmarks.
 *   - --pass-through (for a real S3 server behind it, such as radosgw):
 *     the proxy answers nothing itself and changes nothing: no faults, no
 *     region emulation, no signature check, no delimiter listings of its
 *     own, no virtual-host rewriting, and the client's Host header is kept,
 *     so the target verifies the client's signature.  It only counts.
 *     POST /__bedlog/config?target=HOST:PORT&pass_through=1 switches a
 *     running proxy to another target and mode (and back), so a test stage
 *     can put a real server behind the port the SQL tests use and leave the
 *     proxy, its lifetime and its TLS port as it found them.
 *   - counters: GET /__bedlog/stats returns JSON, POST /__bedlog/reset zeroes.
 *     Besides requests, it counts the client connections that carried a
 *     request since the reset (a connection kept from before is not counted
 *     again), the TLS handshakes among them (full, or a resumed session), the
 *     access key id each request was signed with, and the connections that
 *     carried requests signed with two different keys.
 *
 * It binds 127.0.0.1 only and exits by itself: on SIGTERM/SIGINT, when its
 * parent process goes away, or after --max-lifetime seconds (3 hours).
 */
'use strict';

const http = require('http');
const crypto = require('crypto');
const net = require('net');

/* ---------- options ---------- */

function usage(msg) {
  if (msg) process.stderr.write(`proxy.js: ${msg}\n`);
  process.stderr.write(
    'usage: node proxy.js [--port 45712] [--bind 127.0.0.1] [--target 127.0.0.1:45711]\n' +
      '                     [--bucket-region BUCKET=REGION]... [--default-region REGION]\n' +
      '                     [--latency-ms N] [--stall-seconds 300] [--max-lifetime 10800]\n' +
      '                     [--verify-sigv4] [--credentials AK:SECRET]... [--private-bucket BUCKET]... [--role-bucket BUCKET]...\n' +
      '                     [--pass-through] [--pid-file PATH] [--quiet]\n',
  );
  process.exit(2);
}

const opts = {
  port: 45712,
  bind: '127.0.0.1',
  targetHost: '127.0.0.1',
  targetPort: 45711,
  bucketRegion: new Map(),
  defaultRegion: null,
  latencyMs: 0,
  stallSeconds: 300,
  maxLifetime: 3 * 3600,
  verifySigv4: false,
  credentials: new Map([['S3RVER', 'S3RVER']]),
  pidFile: null,
  quiet: false,
  privateBuckets: new Set(),
  roleBuckets: new Set(),
  passThrough: false,
};

const testcreds = require('./testcreds');

(function parseArgs(argv) {
  let credsGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    let name = a;
    let val;
    if (a.startsWith('--') && eq > 0) {
      /* --opt=value form (but --bucket-region b=r uses '=' in its value) */
      const n = a.slice(0, eq);
      if (n !== '--bucket-region' || a.indexOf('=', eq + 1) > 0) {
        name = n;
        val = a.slice(eq + 1);
      }
    }
    const next = () => {
      if (val !== undefined) return val;
      if (i + 1 >= argv.length) usage(`missing value for ${name}`);
      return argv[++i];
    };
    const int = v => {
      if (!/^\d+$/.test(v)) usage(`${name} needs a non-negative integer, not "${v}"`);
      return Number(v);
    };
    switch (name) {
      case '--port': opts.port = int(next()); break;
      case '--bind': opts.bind = next(); break;
      case '--target': {
        const t = next();
        const m = /^(.*):(\d+)$/.exec(t);
        if (!m) usage('--target needs host:port');
        opts.targetHost = m[1] || '127.0.0.1';
        opts.targetPort = Number(m[2]);
        break;
      }
      case '--bucket-region': {
        for (const pair of next().split(',')) {
          const m = /^([^=]+)=([a-z0-9-]+)$/.exec(pair);
          if (!m) usage('--bucket-region needs BUCKET=REGION');
          opts.bucketRegion.set(m[1], m[2]);
        }
        break;
      }
      case '--default-region': opts.defaultRegion = next(); break;
      case '--latency-ms': opts.latencyMs = int(next()); break;
      case '--stall-seconds': opts.stallSeconds = int(next()); break;
      case '--max-lifetime': opts.maxLifetime = int(next()); break;
      case '--verify-sigv4': opts.verifySigv4 = true; break;
      case '--credentials': {
        const c = next();
        const k = c.indexOf(':');
        if (k <= 0) usage('--credentials needs ACCESS_KEY:SECRET');
        if (!credsGiven) opts.credentials.clear();
        credsGiven = true;
        opts.credentials.set(c.slice(0, k), c.slice(k + 1));
        break;
      }
      case '--pid-file': opts.pidFile = next(); break;
      case '--private-bucket': opts.privateBuckets.add(next()); break;
      case '--role-bucket': opts.roleBuckets.add(next()); break;
      case '--tls-port': opts.tlsPort = int(next()); break;
      case '--tls-cert': opts.tlsCert = next(); break;
      case '--tls-key': opts.tlsKey = next(); break;
      case '--pass-through': opts.passThrough = true; break;
      case '--quiet': opts.quiet = true; break;
      case '-h':
      case '--help': usage();
      /* falls through */
      default: usage(`unknown option ${a}`);
    }
  }
})(process.argv.slice(2));

/* ---------- counters ---------- */

let stats;
function resetStats() {
  stats = {
    requests: 0,
    by_method: {},
    by_kind: { list: 0, get: 0, head: 0, other: 0 },
    by_status: {},
    bytes: 0, /* response body bytes sent to clients */
    faults: 0,
    region_rejects: 0,
    signature_rejects: 0,
    token_rejects: 0, /* test keys: missing or wrong session token */
    expired_rejects: 0, /* test keys past their expiry */
    anonymous_rejects: 0, /* unsigned requests to a private bucket */
    role_rejects: 0, /* requests to a role bucket without STS-issued keys */
    by_access_key: {}, /* verified test keys -> requests */
    get_keys: {}, /* "bucket/key" -> GET count */
    list_prefixes: {}, /* "bucket/prefix" -> list count */
    connections: 0, /* client connections that carried their first request since the reset */
    tls_handshakes: 0, /* of which TLS: full handshakes */
    tls_resumed: 0, /* and TLS sessions resumed */
    by_key: {}, /* access key id of the signature (any key) -> requests; "" unsigned */
    get_keys_by_access_key: {}, /* access key id ("" unsigned) -> { "bucket/key" -> GET count } */
    mixed_key_connections: 0, /* connections that carried requests signed with two keys */
    since: new Date().toISOString(),
  };
}
resetStats();

function bump(obj, k) {
  obj[k] = (obj[k] || 0) + 1;
}

/* ---------- helpers ---------- */

function xmlEscape(s) {
  /* text content only: S3 leaves quotes and apostrophes as they are */
  return String(s).replace(/[<>&]/g, c => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]);
}

function requestId() {
  return crypto.randomBytes(8).toString('hex').toUpperCase();
}

function sendXml(req, res, status, fields, extraHeaders) {
  const rid = requestId();
  let body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error>';
  for (const [k, v] of fields) body += `<${k}>${xmlEscape(v)}</${k}>`;
  body += `<RequestId>${rid}</RequestId><HostId>${Buffer.from(rid).toString('base64')}</HostId></Error>`;
  const headers = Object.assign(
    {
      'content-type': 'application/xml',
      'x-amz-request-id': rid,
      date: new Date().toUTCString(),
      server: 'AmazonS3',
    },
    extraHeaders || {},
  );
  if (req.method === 'HEAD') {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const buf = Buffer.from(body, 'utf8');
  headers['content-length'] = buf.length;
  res.writeHead(status, headers);
  res.end(buf);
  stats.bytes += buf.length;
}

function safeDecode(s) {
  try {
    return decodeURIComponent(s);
  } catch (e) {
    return s;
  }
}

/*
 * Split a request into bucket, key (decoded) and whether it was addressed
 * virtual-host style.  Returns { bucket, key, rawKeyPath, vhost }.
 */
function addressOf(req, rawPath) {
  const hostHeader = req.headers.host || '';
  let hostname = hostHeader;
  const m6 = /^\[([^\]]*)\](?::\d+)?$/.exec(hostHeader);
  if (m6) hostname = m6[1];
  else hostname = hostHeader.replace(/:\d+$/, '');
  hostname = hostname.toLowerCase();

  let vbucket = null;
  if (hostname && !net.isIP(hostname) && hostname !== 'localhost') {
    let m = /^(.+?)\.s3(?:[.-][^.]+)*\.[^.]+(?:\.[^.]+)*$/.exec(hostname);
    if (m && /\.s3[.-]/.test(hostname)) vbucket = m[1];
    else if (hostname.endsWith('.localhost')) vbucket = hostname.slice(0, -'.localhost'.length);
  }
  if (vbucket) {
    const keyPath = rawPath.replace(/^\//, '');
    return { bucket: vbucket, key: safeDecode(keyPath), rawKeyPath: keyPath, vhost: true };
  }
  const p = rawPath.replace(/^\//, '');
  const slash = p.indexOf('/');
  const bucket = safeDecode(slash < 0 ? p : p.slice(0, slash));
  const keyPath = slash < 0 ? '' : p.slice(slash + 1);
  return { bucket, key: safeDecode(keyPath), rawKeyPath: keyPath, vhost: false };
}

/* Region in a SigV4 credential scope of the request, or null when unsigned. */
function signingRegion(req, query) {
  const auth = req.headers.authorization;
  let cred = null;
  if (auth) {
    const m = /Credential=([^,\s]+)/.exec(auth);
    if (m) cred = m[1];
  } else if (query && query.has('X-Amz-Credential')) {
    cred = query.get('X-Amz-Credential');
  }
  if (!cred) return null;
  const parts = cred.split('/');
  return parts.length >= 5 ? parts[parts.length - 3] : null;
}

/* ---------- SigV4 verification ---------- */

function rfc3986(s) {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    c => '%' + c.charCodeAt(0).toString(16).toUpperCase(),
  );
}

function hmac(key, data) {
  return crypto.createHmac('sha256', key).update(data, 'utf8').digest();
}

/*
 * Check the SigV4 signature of a request (header or presigned form).  Returns
 * null when it matches, when the request is unsigned, or when the access key
 * is unknown (s3rver then answers InvalidAccessKeyId itself); otherwise
 * { status, fields } of the S3 error to answer (SignatureDoesNotMatch, or
 * for a test key InvalidToken or ExpiredToken).  A matching test key's
 * Authorization and token headers are removed from req.
 */
function verifySigv4(req, rawPath, rawQuery) {
  const auth = req.headers.authorization;
  let credential, signedHeaders, signature, amzDate, payloadHash;
  const params = [];
  for (const part of rawQuery ? rawQuery.split('&') : []) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = safeDecode((eq < 0 ? part : part.slice(0, eq)).replace(/\+/g, '%20'));
    const v = eq < 0 ? '' : safeDecode(part.slice(eq + 1).replace(/\+/g, '%20'));
    params.push([k, v]);
  }
  if (auth) {
    if (!auth.startsWith('AWS4-HMAC-SHA256')) return null;
    const cm = /Credential=([^,\s]+)/.exec(auth);
    const hm = /SignedHeaders=([^,\s]+)/.exec(auth);
    const sm = /Signature=([0-9a-fA-F]+)/.exec(auth);
    if (!cm || !hm || !sm) return null; /* s3rver reports malformed headers */
    credential = cm[1];
    signedHeaders = hm[1];
    signature = sm[1];
    amzDate = req.headers['x-amz-date'] || '';
    payloadHash = req.headers['x-amz-content-sha256'] || '';
  } else {
    const q = new Map(params);
    if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return null;
    credential = q.get('X-Amz-Credential') || '';
    signedHeaders = q.get('X-Amz-SignedHeaders') || '';
    signature = q.get('X-Amz-Signature') || '';
    amzDate = q.get('X-Amz-Date') || '';
    payloadHash = 'UNSIGNED-PAYLOAD';
  }
  const cparts = credential.split('/');
  if (cparts.length !== 5) return null;
  const [accessKey, date, region, service, term] = cparts;
  const test = opts.credentials.has(accessKey) ? null : testcreds.lookup(accessKey);
  const secret = test ? test.secret : opts.credentials.get(accessKey);
  if (secret === undefined) return null;

  const canonicalUri =
    rawPath
      .split('/')
      .map(seg => rfc3986(safeDecode(seg)))
      .join('/') || '/';
  const canonicalQuery = params
    .filter(([k]) => auth || k !== 'X-Amz-Signature')
    .map(([k, v]) => [rfc3986(k), rfc3986(v)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const names = signedHeaders.split(';');
  let canonicalHeaders = '';
  for (const n of names) {
    let v = req.headers[n];
    if (Array.isArray(v)) v = v.join(',');
    if (v === undefined) v = '';
    canonicalHeaders += `${n}:${String(v).trim().replace(/\s+/g, ' ')}\n`;
  }
  const canonicalRequest = [
    req.method,
    canonicalUri,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${date}/${region}/${service}/${term}`;
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    crypto.createHash('sha256').update(canonicalRequest, 'utf8').digest('hex'),
  ].join('\n');
  let k = hmac('AWS4' + secret, date);
  k = hmac(k, region);
  k = hmac(k, service);
  k = hmac(k, term);
  const expected = crypto.createHmac('sha256', k).update(stringToSign, 'utf8').digest('hex');
  if (expected === signature.toLowerCase() && amzDate.slice(0, 8) === date) {
    if (!test) return null;
    /* a test key: its session token, its expiry, then forward unsigned */
    const token = req.headers['x-amz-security-token'] || (auth ? undefined : new Map(params).get('X-Amz-Security-Token'));
    if ((test.token || undefined) !== (token || undefined)) {
      stats.token_rejects++;
      return { status: 403, fields: [['Code', 'InvalidToken'], ['Message', 'The provided token is malformed or otherwise invalid.']] };
    }
    if (test.expiresMs !== null && Date.now() >= test.expiresMs) {
      stats.expired_rejects++;
      return { status: 400, fields: [['Code', 'ExpiredToken'], ['Message', 'The provided token has expired.']] };
    }
    bump(stats.by_access_key, accessKey);
    delete req.headers.authorization;
    delete req.headers['x-amz-security-token'];
    return null;
  }
  const hex = s =>
    Buffer.from(s, 'utf8')
      .toString('hex')
      .replace(/(..)(?!$)/g, '$1 ');
  stats.signature_rejects++;
  return { status: 403, fields: [
    ['Code', 'SignatureDoesNotMatch'],
    [
      'Message',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    ],
    ['AWSAccessKeyId', accessKey],
    ['StringToSign', stringToSign],
    ['SignatureProvided', signature],
    ['StringToSignBytes', hex(stringToSign)],
    ['CanonicalRequest', canonicalRequest],
    ['CanonicalRequestBytes', hex(canonicalRequest)],
  ] };
}

/* ---------- forwarding ---------- */

const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 });

const FAULTS = [
  ['fault-404', 404, 'NoSuchKey', 'The specified key does not exist.'],
  ['fault-403', 403, 'AccessDenied', 'Access Denied'],
  ['fault-500', 500, 'InternalError', 'We encountered an internal error. Please try again.'],
  ['fault-503', 503, 'SlowDown', 'Please reduce your request rate.'],
];

/* GETs seen per key, for the faults that pass after a few attempts. */
const attempts = new Map();

/* Keep a request hanging until the client leaves or the stall time is over. */
function hang(req, res, onExpire) {
  let done = false;
  const timer = setTimeout(() => {
    if (done) return;
    done = true;
    onExpire();
  }, opts.stallSeconds * 1000);
  const gone = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    res.destroy();
  };
  res.on('close', gone);
  if (req.socket) req.socket.on('close', gone);
}

/*
 * Forward a request to the target.  mode 'stall' sends the headers and the
 * first 1024 body bytes, then hangs.  extraHeaders are added to the response.
 */
function forward(req, res, path, mode, extraHeaders) {
  const headers = Object.assign({}, req.headers);
  /* a real S3 target checks the signature, which covers the Host header */
  if (!opts.passThrough) headers.host = `${opts.targetHost}:${opts.targetPort}`;
  const up = http.request(
    {
      host: opts.targetHost,
      port: opts.targetPort,
      method: req.method,
      path,
      headers,
      agent,
    },
    ures => {
      bump(stats.by_status, ures.statusCode);
      const h = Object.assign({}, ures.headers, extraHeaders || {});
      delete h.connection;
      delete h['keep-alive'];
      if (mode === 'cut') {
        /* the headers and half the body, flushed, then a reset connection */
        const half = Math.floor(Number(ures.headers['content-length'] || 0) / 2);
        let sent = 0;
        let cut = false;
        res.writeHead(ures.statusCode, h);
        res.flushHeaders();
        ures.on('data', chunk => {
          if (cut) return;
          const piece = chunk.subarray(0, Math.max(0, Math.min(chunk.length, half - sent)));
          sent += piece.length;
          stats.bytes += piece.length;
          if (sent >= half) {
            cut = true;
            ures.destroy();
            res.write(piece, () => setTimeout(() => res.socket && res.socket.destroy(), 50));
          } else {
            res.write(piece);
          }
        });
        return;
      }
      if (mode === 'stall') {
        res.writeHead(ures.statusCode, h);
        let sent = 0;
        ures.on('data', chunk => {
          if (sent >= 1024) return;
          const piece = chunk.length > 1024 - sent ? chunk.subarray(0, 1024 - sent) : chunk;
          sent += piece.length;
          stats.bytes += piece.length;
          res.write(piece);
          if (sent >= 1024) {
            ures.destroy(); /* never reuse this upstream socket */
            hang(req, res, () => res.destroy());
          }
        });
        ures.on('end', () => {
          if (sent < 1024) hang(req, res, () => res.destroy());
        });
        return;
      }
      res.writeHead(ures.statusCode, h);
      ures.on('data', chunk => {
        stats.bytes += chunk.length;
      });
      ures.pipe(res);
      ures.on('error', () => res.destroy());
    },
  );
  up.on('error', err => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    bump(stats.by_status, 502);
    sendXml(req, res, 502, [
      ['Code', 'BadGateway'],
      ['Message', `proxy could not reach the S3 target: ${err.code || err.message}`],
    ]);
  });
  res.on('close', () => {
    if (!res.writableFinished) up.destroy();
  });
  if ((req.method === 'GET' || req.method === 'HEAD') && !req.headers['content-length'] && !req.headers['transfer-encoding']) {
    up.end(); /* no body: skip the stream plumbing */
  } else {
    req.pipe(up);
  }
}

/* ---------- listing with a delimiter ---------- */

/*
 * s3rver 3.7.1 finds a common prefix only when an object sits directly under
 * it (listing "AWSLogs/" with delimiter "/" returns nothing when every object
 * is deeper), and it counts only keys against max-keys.  So the proxy answers
 * delimited listings itself, as S3 does: it reads plain listings from s3rver
 * (with the client's own headers, so s3rver still checks the access key and
 * the bucket), rolls keys up into common prefixes, counts keys and prefixes
 * together against max-keys, and pages with its own continuation token (v2)
 * or NextMarker (v1).  After each common prefix it restarts the upstream
 * listing past that prefix instead of reading every key beneath it.
 */

function xmlUnescape(s) {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (m, e) => {
    switch (e) {
      case 'amp': return '&';
      case 'lt': return '<';
      case 'gt': return '>';
      case 'quot': return '"';
      case 'apos': return "'";
      default:
        return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    }
  });
}

/* GET from the target, buffered; resolves { status, headers, body }. */
function upstreamGet(path, headers) {
  return new Promise((resolve, reject) => {
    const h = Object.assign({}, headers);
    h.host = `${opts.targetHost}:${opts.targetPort}`;
    delete h['content-length'];
    const r = http.request(
      { host: opts.targetHost, port: opts.targetPort, method: 'GET', path, headers: h, agent },
      ures => {
        const chunks = [];
        ures.on('data', c => chunks.push(c));
        ures.on('end', () => resolve({ status: ures.statusCode, headers: ures.headers, body: Buffer.concat(chunks) }));
        ures.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end();
  });
}

const CONTENTS_RE =
  /<Contents><Key>([^<]*)<\/Key><LastModified>([^<]*)<\/LastModified><ETag>([^<]*)<\/ETag><Size>(\d+)<\/Size>(?:<Owner>.*?<\/Owner>)?<StorageClass>([^<]*)<\/StorageClass><\/Contents>/g;

function cmp(a, b) {
  /* S3 orders keys by their UTF-8 bytes */
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

async function delimitedList(req, res, addr, query, v2) {
  const bucket = addr.bucket;
  const prefix = query.get('prefix') || '';
  const delim = query.get('delimiter');
  const urlEnc = query.get('encoding-type') === 'url';
  let maxKeys = 1000;
  if (query.has('max-keys')) {
    const mk = query.get('max-keys');
    if (!/^\d+$/.test(mk)) {
      sendXml(req, res, 400, [['Code', 'InvalidArgument'], ['Message', 'Provided max-keys not an integer or within integer range'], ['ArgumentName', 'max-keys'], ['ArgumentValue', mk]]);
      return;
    }
    maxKeys = Math.min(1000, Number(mk));
  }
  let startAfter = '';
  const token = query.get('continuation-token');
  if (v2 && token !== null && token !== '') {
    const t = Buffer.from(token, 'base64').toString('utf8');
    if (!t.startsWith(`bedlog1\n${bucket}\n`)) {
      sendXml(req, res, 400, [['Code', 'InvalidArgument'], ['Message', 'The continuation token provided is incorrect'], ['ArgumentName', 'continuation-token']]);
      return;
    }
    startAfter = t.slice(`bedlog1\n${bucket}\n`.length);
  } else if (v2) {
    startAfter = query.get('start-after') || '';
  } else {
    startAfter = query.get('marker') || '';
  }

  const entries = []; /* { key, lm, etag, size, sc } or { cp } */
  let truncated = false;
  const zero = maxKeys === 0; /* as s3rver: empty and not truncated */
  let sa = startAfter > prefix ? startAfter : '';
  let firstCall = true;
  outer: for (;;) {
    if (zero && !firstCall) break;
    const q = new URLSearchParams();
    q.set('list-type', '2');
    if (prefix) q.set('prefix', prefix);
    if (sa) q.set('start-after', sa);
    q.set('max-keys', '1000');
    const r = await upstreamGet(`/${encodeURIComponent(bucket)}?${q.toString()}`, req.headers);
    if (r.status !== 200) {
      /* pass s3rver's error (NoSuchBucket, InvalidAccessKeyId, ...) through */
      bump(stats.by_status, r.status);
      const h = Object.assign({}, r.headers);
      delete h.connection;
      delete h['keep-alive'];
      delete h['transfer-encoding'];
      h['content-length'] = r.body.length;
      res.writeHead(r.status, h);
      res.end(req.method === 'HEAD' ? undefined : r.body);
      stats.bytes += r.body.length;
      return;
    }
    firstCall = false;
    const xml = r.body.toString('utf8');
    const upTruncated = /<IsTruncated>true<\/IsTruncated>/.test(xml);
    const page = [];
    CONTENTS_RE.lastIndex = 0;
    let m;
    while ((m = CONTENTS_RE.exec(xml)) !== null) {
      page.push({ key: xmlUnescape(m[1]), lm: m[2], etag: xmlUnescape(m[3]), size: m[4], sc: m[5] });
    }
    page.sort((a, b) => cmp(a.key, b.key));
    let restartAt = null;
    for (const o of page) {
      if (!o.key.startsWith(prefix)) continue;
      const rest = o.key.slice(prefix.length);
      const i = rest.indexOf(delim);
      if (i >= 0) {
        const cp = prefix + rest.slice(0, i + delim.length);
        if (cmp(cp, startAfter) > 0 && !(entries.length && entries[entries.length - 1].cp === cp)) {
          if (entries.length >= maxKeys) {
            truncated = true;
            break outer;
          }
          entries.push({ cp });
        }
        restartAt = cp + '\uffff';
        break;
      }
      if (cmp(o.key, startAfter) <= 0) continue;
      if (entries.length >= maxKeys) {
        truncated = true;
        break outer;
      }
      entries.push(o);
    }
    if (restartAt !== null) {
      sa = restartAt;
      continue;
    }
    if (!upTruncated || page.length === 0) break;
    sa = page[page.length - 1].key;
  }
  if (zero) truncated = false;

  const enc = s => xmlEscape(urlEnc ? encodeURIComponent(s).replace(/%2F/g, '/') : s);
  const keys = entries.filter(e => e.key !== undefined);
  const cps = entries.filter(e => e.cp !== undefined);
  const last = entries.length ? (entries[entries.length - 1].cp || entries[entries.length - 1].key) : '';
  let x = '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">';
  x += `<Name>${xmlEscape(bucket)}</Name><Prefix>${enc(prefix)}</Prefix>`;
  if (v2) {
    if (token) x += `<ContinuationToken>${xmlEscape(token)}</ContinuationToken>`;
    if (truncated) {
      const nt = Buffer.from(`bedlog1\n${bucket}\n${last}`, 'utf8').toString('base64');
      x += `<NextContinuationToken>${nt}</NextContinuationToken>`;
    }
    x += `<KeyCount>${entries.length}</KeyCount>`;
  } else {
    x += `<Marker>${enc(query.get('marker') || '')}</Marker>`;
    if (truncated) x += `<NextMarker>${enc(last)}</NextMarker>`;
  }
  x += `<MaxKeys>${maxKeys}</MaxKeys><Delimiter>${enc(delim)}</Delimiter>`;
  if (urlEnc) x += '<EncodingType>url</EncodingType>';
  x += `<IsTruncated>${truncated}</IsTruncated>`;
  if (v2 && !token && query.get('start-after')) x += `<StartAfter>${enc(query.get('start-after'))}</StartAfter>`;
  for (const o of keys) {
    x += `<Contents><Key>${enc(o.key)}</Key><LastModified>${o.lm}</LastModified><ETag>${xmlEscape(o.etag)}</ETag><Size>${o.size}</Size><StorageClass>${o.sc}</StorageClass></Contents>`;
  }
  for (const c of cps) x += `<CommonPrefixes><Prefix>${enc(c.cp)}</Prefix></CommonPrefixes>`;
  x += '</ListBucketResult>';
  const body = Buffer.from(x, 'utf8');
  bump(stats.by_status, 200);
  res.writeHead(200, { 'content-type': 'application/xml', 'content-length': body.length, 'x-amz-request-id': requestId(), server: 'AmazonS3' });
  res.end(body);
  stats.bytes += body.length;
}

function noteConnection(req, rawQuery) {
  const sock = req.socket;
  if (!sock.bedlogCounted) {
    sock.bedlogCounted = true;
    sock.bedlogKeys = new Set();
    stats.connections++;
    if (sock.encrypted) {
      if (sock.isSessionReused()) stats.tls_resumed++;
      else stats.tls_handshakes++;
    }
  }
  const auth = req.headers.authorization || '';
  let m = /Credential=([^/,\s]+)\//.exec(auth);
  if (!m) m = /(?:^|&)X-Amz-Credential=([^%&/]+)(?:%2F|\/)/i.exec(rawQuery);
  const key = m ? m[1] : '';
  bump(stats.by_key, key);
  req.bedlogAccessKey = key;
  if (key && !sock.bedlogKeys.has(key)) {
    sock.bedlogKeys.add(key);
    if (sock.bedlogKeys.size === 2) stats.mixed_key_connections++;
  }
}

function handle(req, res) {
  const url = req.url || '/';
  const qpos = url.indexOf('?');
  const rawPath = qpos < 0 ? url : url.slice(0, qpos);
  const rawQuery = qpos < 0 ? '' : url.slice(qpos + 1);

  /* control endpoints, not counted */
  if (rawPath === '/__bedlog/stats') {
    const body = Buffer.from(JSON.stringify(stats, null, 1) + '\n');
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
    return;
  }
  if (rawPath === '/__bedlog/reset') {
    if (req.method !== 'POST') {
      res.writeHead(405, { 'content-length': 0 });
      res.end();
      return;
    }
    resetStats();
    const body = Buffer.from('{"reset":true}\n');
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
    return;
  }

  /* connections, counted at their first request (control requests aside),
   * and the keys each one's requests were signed with */
  noteConnection(req, rawQuery);

  if (rawPath === '/__bedlog/config') {
    if (req.method === 'POST') {
      const q = new URLSearchParams(rawQuery);
      const t = q.get('target');
      const m = t === null ? null : /^(.*):(\d+)$/.exec(t);
      const pt = q.get('pass_through');
      if ((t !== null && !m) || (pt !== null && pt !== '0' && pt !== '1')) {
        const msg = Buffer.from('use ?target=HOST:PORT and/or pass_through=0|1\n');
        res.writeHead(400, { 'content-type': 'text/plain', 'content-length': msg.length });
        res.end(msg);
        return;
      }
      if (m) {
        opts.targetHost = m[1] || '127.0.0.1';
        opts.targetPort = Number(m[2]);
      }
      if (pt !== null) opts.passThrough = pt === '1';
    }
    const body = Buffer.from(JSON.stringify({
      target: `${opts.targetHost}:${opts.targetPort}`,
      pass_through: opts.passThrough,
    }) + '\n');
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
    return;
  }

  const query = new URLSearchParams(rawQuery);
  const addr = addressOf(req, rawPath);
  const hasKey = addr.key !== '';
  let kind = 'other';
  if (req.method === 'GET' && addr.bucket && !hasKey) {
    const sub = ['location', 'acl', 'cors', 'policy', 'website', 'versioning', 'tagging', 'uploads', 'versions', 'lifecycle'];
    kind = sub.some(s => query.has(s)) ? 'other' : 'list';
  } else if (req.method === 'GET' && hasKey) kind = 'get';
  else if (req.method === 'HEAD') kind = 'head';

  stats.requests++;
  bump(stats.by_method, req.method);
  stats.by_kind[kind]++;
  if (kind === 'get') {
    const ak = req.bedlogAccessKey || '';
    bump(stats.get_keys, `${addr.bucket}/${addr.key}`);
    bump(stats.get_keys_by_access_key[ak] || (stats.get_keys_by_access_key[ak] = {}), `${addr.bucket}/${addr.key}`);
  }
  if (kind === 'list') bump(stats.list_prefixes, `${addr.bucket}/${query.get('prefix') || ''}`);

  /* path-style path for the target */
  const targetPath = addr.vhost
    ? `/${encodeURIComponent(addr.bucket)}/${addr.rawKeyPath}${qpos < 0 ? '' : url.slice(qpos)}`
    : url;

  const act = () => {
    if (opts.passThrough) {
      forward(req, res, url, 'normal');
      return;
    }
    const region = opts.bucketRegion.get(addr.bucket) || opts.defaultRegion;
    const regionHeaders = region && addr.bucket ? { 'x-amz-bucket-region': region } : undefined;

    /* GetBucketLocation works from any region, as on AWS */
    if (region && addr.bucket && !hasKey && req.method === 'GET' && query.has('location')) {
      bump(stats.by_status, 200);
      const loc = region === 'us-east-1' ? '' : region;
      const body = Buffer.from(
        `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${loc}</LocationConstraint>`,
      );
      res.writeHead(200, { 'content-type': 'application/xml', 'content-length': body.length });
      res.end(body);
      stats.bytes += body.length;
      return;
    }

    if (region && addr.bucket) {
      const sr = signingRegion(req, query);
      if (sr !== null && sr !== region) {
        stats.region_rejects++;
        bump(stats.by_status, 400);
        sendXml(
          req,
          res,
          400,
          [
            ['Code', 'AuthorizationHeaderMalformed'],
            ['Message', `The authorization header is malformed; the region '${sr}' is wrong; expecting '${region}'`],
            ['Region', region],
          ],
          regionHeaders,
        );
        return;
      }
    }

    if (opts.roleBuckets.has(addr.bucket)) {
      const cm = /Credential=([A-Z0-9]+)\//.exec(req.headers.authorization || '') ||
        /^([A-Z0-9]+)\//.exec(query.get('X-Amz-Credential') || '');
      const t = cm && testcreds.lookup(cm[1]);
      if (!t || !t.issuedBySts) {
        stats.role_rejects++;
        bump(stats.by_status, 403);
        sendXml(req, res, 403, [['Code', 'AccessDenied'], ['Message', 'Access Denied']]);
        return;
      }
    }

    if (opts.privateBuckets.has(addr.bucket) && !req.headers.authorization && !query.has('X-Amz-Algorithm')) {
      stats.anonymous_rejects++;
      bump(stats.by_status, 403);
      sendXml(req, res, 403, [['Code', 'AccessDenied'], ['Message', 'Access Denied']]);
      return;
    }

    if (opts.verifySigv4) {
      const bad = verifySigv4(req, rawPath, rawQuery);
      if (bad) {
        bump(stats.by_status, bad.status);
        sendXml(req, res, bad.status, bad.fields);
        return;
      }
    }

    if (hasKey && (req.method === 'GET' || req.method === 'HEAD')) {
      for (const [pat, status, code, message] of FAULTS) {
        if (addr.key.includes(pat)) {
          stats.faults++;
          bump(stats.by_status, status);
          const fields = [['Code', code], ['Message', message]];
          if (code === 'NoSuchKey') fields.push(['Key', addr.key]);
          sendXml(req, res, status, fields);
          return;
        }
      }
      if (req.method === 'GET' && (addr.key.includes('fault-flaky') || addr.key.includes('fault-cut'))) {
        const n = (attempts.get(addr.key) || 0) + 1;
        attempts.set(addr.key, n);
        if (addr.key.includes('fault-flaky') && n <= 2) {
          stats.faults++;
          bump(stats.by_status, 503);
          sendXml(req, res, 503, [['Code', 'SlowDown'], ['Message', 'Please reduce your request rate.']]);
          return;
        }
        if (addr.key.includes('fault-cut') && n === 1) {
          stats.faults++;
          forward(req, res, targetPath, 'cut', regionHeaders);
          return;
        }
      }
      if (addr.key.includes('fault-stall') && req.method === 'GET') {
        stats.faults++;
        forward(req, res, targetPath, 'stall', regionHeaders);
        return;
      }
      if (addr.key.includes('fault-delay') && req.method === 'GET') {
        stats.faults++;
        setTimeout(() => forward(req, res, targetPath, 'normal', regionHeaders), 400);
        return;
      }
      if (addr.key.includes('fault-changed') && req.method === 'GET') {
        /* as if rewritten since it was listed: another version's ETag */
        stats.faults++;
        forward(req, res, targetPath, 'normal',
          Object.assign({}, regionHeaders, { etag: '"0123456789abcdef0123456789abcdef"' }));
        return;
      }
      if (addr.key.includes('fault-slowheaders')) {
        stats.faults++;
        hang(req, res, () => forward(req, res, targetPath, 'normal', regionHeaders));
        return;
      }
    }
    if (kind === 'list' && query.get('delimiter')) {
      delimitedList(req, res, addr, query, query.get('list-type') === '2').catch(err => {
        if (res.headersSent) res.destroy();
        else sendXml(req, res, 502, [['Code', 'BadGateway'], ['Message', `proxy listing failed: ${err.message}`]]);
      });
      return;
    }
    forward(req, res, targetPath, 'normal', regionHeaders);
  };

  if (opts.latencyMs > 0) setTimeout(act, opts.latencyMs);
  else act();
}

/* ---------- lifetime ---------- */

const server = http.createServer(handle);
server.keepAliveTimeout = 20000;
server.headersTimeout = 30000;
server.requestTimeout = 0;

require('./lifetime').bound(opts.pidFile, opts.maxLifetime);

server.on('error', err => {
  process.stderr.write(`proxy.js: ${err.message}\n`);
  process.exit(1);
});
/* the same proxy over HTTPS, for the client's certificate verification */
if (opts.tlsPort) {
  const fs = require('fs');
  const tls = require('https').createServer(
    { cert: fs.readFileSync(opts.tlsCert), key: fs.readFileSync(opts.tlsKey) },
    handle,
  );
  tls.keepAliveTimeout = 20000;
  tls.on('error', err => {
    process.stderr.write(`proxy.js (tls): ${err.message}\n`);
    process.exit(1);
  });
  tls.listen(opts.tlsPort, opts.bind);
}

server.listen(opts.port, opts.bind, () => {
  if (opts.pidFile) require('fs').writeFileSync(opts.pidFile, `${process.pid}\n`);
  if (!opts.quiet) {
    const regions = [...opts.bucketRegion].map(([b, r]) => `${b}=${r}`).join(',');
    process.stdout.write(
      `proxy.js listening on ${opts.bind}:${server.address().port} -> ${opts.targetHost}:${opts.targetPort}` +
        (regions ? ` regions ${regions}` : '') +
        (opts.latencyMs ? ` latency ${opts.latencyMs}ms` : '') +
        (opts.verifySigv4 ? ' verify-sigv4' : '') +
        (opts.passThrough ? ' pass-through' : '') +
        '\n',
    );
  }
});
