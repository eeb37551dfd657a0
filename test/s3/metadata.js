#!/usr/bin/env node
/*
 * metadata.js: a loopback stand-in for the AWS credential endpoints of
 * EC2 and of containers, for the bedlog_fdw tests (sql/credentials.sql).
 *
 * Design notes.  One HTTP server answers both:
 *   - EC2 instance metadata, IMDSv2 only: PUT /latest/api/token (with
 *     X-aws-ec2-metadata-token-ttl-seconds) gives a session token; GET
 *     /latest/meta-data/iam/security-credentials/ gives the role name and
 *     .../<role> its credentials, both only with a valid token in
 *     X-aws-ec2-metadata-token (401 without one, as EC2 answers).
 *   - the container credentials endpoint (ECS, EKS Pod Identity): GET
 *     /v1/credentials, only with Authorization equal to aws/pod-token
 *     (401 otherwise).
 * Credentials are temporary ones from testcreds.js, which the fault proxy
 * accepts until their Expiration; their lifetime is short when a test
 * asks for it, so that refreshing is exercised.  Control endpoints:
 * GET /__meta/stats (counters, JSON), POST /__meta/reset (counters and
 * settings), POST /__meta/config?lifetime=S&container_status=N&imds_status=N
 * &imds_role=0|1&delay_ms=N (0: no role attached, the role listing answers
 * 404; container_status=0: the container endpoint never answers; delay_ms:
 * every answer but the control endpoints' comes N ms late).
 *
 * It binds 127.0.0.1 only and exits by itself: on SIGTERM/SIGINT, when its
 * parent process goes away, or after --max-lifetime seconds (3 hours).
 */
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const path = require('path');
const testcreds = require('./testcreds');

const opts = { port: 45716, bind: '127.0.0.1', maxLifetime: 3 * 3600, pidFile: null };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const need = () => {
    if (i + 1 >= argv.length) {
      process.stderr.write(`metadata.js: missing value for ${argv[i]}\n`);
      process.exit(2);
    }
    return argv[++i];
  };
  switch (argv[i]) {
    case '--port': opts.port = Number(need()); break;
    case '--bind': opts.bind = need(); break;
    case '--max-lifetime': opts.maxLifetime = Number(need()); break;
    case '--pid-file': opts.pidFile = need(); break;
    default:
      process.stderr.write(
        `metadata.js: unknown option ${argv[i]}\n` +
          'usage: node metadata.js [--port 45716] [--bind 127.0.0.1] [--max-lifetime 10800] [--pid-file PATH]\n',
      );
      process.exit(2);
  }
}

const ROLE = 'bedlog-test-role';
const POD_TOKEN = fs.readFileSync(path.join(testcreds.AWS_DIR, 'pod-token'), 'utf8').trim();

let settings;
let stats;
const tokens = new Map(); /* IMDS session token -> expiry (ms) */
function reset() {
  settings = { lifetime: 3600, container_status: 200, imds_status: 200, imds_role: 1, delay_ms: 0 };
  stats = {
    imds_token: 0, imds_role: 0, imds_credentials: 0, imds_unauthorized: 0,
    container: 0, container_unauthorized: 0,
  };
  tokens.clear();
}
reset();

function send(res, status, body, type) {
  const buf = Buffer.from(body);
  res.writeHead(status, { 'content-type': type || 'text/plain', 'content-length': buf.length });
  res.end(buf);
}

function validToken(req) {
  const t = req.headers['x-aws-ec2-metadata-token'];
  const exp = t && tokens.get(t);
  return exp && exp > Date.now();
}

function handle(req, res) {
  const u = new URL(req.url, 'http://x');
  const p = u.pathname;
  if (p === '/__meta/stats') return send(res, 200, JSON.stringify(stats) + '\n', 'application/json');
  if (p === '/__meta/reset' && req.method === 'POST') {
    reset();
    return send(res, 200, '{"reset":true}\n', 'application/json');
  }
  if (p === '/__meta/config' && req.method === 'POST') {
    for (const k of Object.keys(settings)) {
      if (u.searchParams.has(k)) settings[k] = Number(u.searchParams.get(k));
    }
    return send(res, 200, JSON.stringify(settings) + '\n', 'application/json');
  }

  if (p === '/latest/api/token') {
    if (req.method !== 'PUT') return send(res, 405, '');
    const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
    if (!(ttl >= 1 && ttl <= 21600)) return send(res, 400, '');
    stats.imds_token++;
    const t = crypto.randomBytes(24).toString('base64');
    tokens.set(t, Date.now() + ttl * 1000);
    return send(res, 200, t);
  }
  if (p.startsWith('/latest/meta-data/iam/security-credentials/')) {
    if (!validToken(req)) {
      stats.imds_unauthorized++;
      return send(res, 401, '');
    }
    const role = p.slice('/latest/meta-data/iam/security-credentials/'.length);
    if (role === '') {
      stats.imds_role++;
      if (!settings.imds_role) return send(res, 404, '');
      return send(res, 200, ROLE);
    }
    if (role !== ROLE) return send(res, 404, '');
    stats.imds_credentials++;
    if (settings.imds_status !== 200) return send(res, settings.imds_status, '');
    return send(res, 200, JSON.stringify(testcreds.issue('IMDS', settings.lifetime), null, 2), 'text/plain');
  }
  if (p === '/v1/credentials') {
    if (req.headers.authorization !== POD_TOKEN) {
      stats.container_unauthorized++;
      return send(res, 401, '{"Message":"unauthorized"}');
    }
    stats.container++;
    if (settings.container_status === 0) return; /* never answers */
    if (settings.container_status !== 200) return send(res, settings.container_status, '');
    const c = testcreds.issue('CTNR', settings.lifetime);
    delete c.Code;
    delete c.Type;
    delete c.LastUpdated;
    return send(res, 200, JSON.stringify(c), 'application/json');
  }
  return send(res, 404, '');
}

const server = http.createServer((req, res) => {
  if (settings.delay_ms > 0 && !req.url.startsWith('/__meta/')) {
    setTimeout(() => handle(req, res), settings.delay_ms);
  } else {
    handle(req, res);
  }
});
require('./lifetime').bound(opts.pidFile, opts.maxLifetime);
server.on('error', err => {
  process.stderr.write(`metadata.js: ${err.message}\n`);
  process.exit(1);
});
server.listen(opts.port, opts.bind, () => {
  if (opts.pidFile) fs.writeFileSync(opts.pidFile, `${process.pid}\n`);
  process.stdout.write(`metadata.js listening on ${opts.bind}:${server.address().port}\n`);
});
