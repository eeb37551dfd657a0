'use strict';
/*
 * testcreds.js: the fake AWS credentials of the test rig, shared by the
 * metadata server (metadata.js), which hands temporary ones out, and the
 * fault proxy (proxy.js), which verifies the signatures made with them.
 *
 * Design notes.  Static keys come from the fixture files in aws/ (the
 * server process's environment and its shared credentials file) and from
 * the user-mapping keys below.  Temporary keys are derived, so the two
 * processes agree without talking: an access key id ASIA<KIND><n>X<expiry>
 * carries its expiry (Unix seconds), and its secret and session token are
 * HMACs of the id under a fixed seed.  KIND is IMDS or CTNR for
 * metadata.js's keys, ROLE or WEBI for those the STS responder (sts.py,
 * through testcreds.py, the same derivation in Python) issues for
 * AssumeRole and AssumeRoleWithWebIdentity.  Every secret starts with a
 * recognisable word (EnvSecret, FileToken, TmpSecret, StsToken,
 * PodToken...), so the tests can search messages, plans and logs for any
 * of them.
 */
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const SEED = 'bedlog-test-temporary-credentials';
const AWS_DIR = path.join(__dirname, 'aws');

/* Keys a test gives a user mapping (sql/credentials.sql, sql/sts.sql). */
const MAPPING = {};
for (const [id, k] of Object.entries(JSON.parse(fs.readFileSync(path.join(AWS_DIR, 'mapping-keys.json'), 'utf8')))) {
  if (id[0] !== '_') MAPPING[id] = { secret: k.secret, token: k.token };
}

function hmac(data) {
  return crypto.createHmac('sha256', SEED).update(data).digest('base64').replace(/[^A-Za-z0-9]/g, '');
}

/* KEY=VALUE lines of a file; comments and blanks ignored. */
function readEnvFile(file) {
  const out = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/* Profiles of an AWS shared credentials file: { name: { key: value } }. */
function readCredentialsFile(file) {
  const out = {};
  let cur = null;
  for (let line of fs.readFileSync(file, 'utf8').split('\n')) {
    line = line.trim();
    if (!line || line[0] === '#' || line[0] === ';') continue;
    const s = /^\[([^\]]+)\]$/.exec(line);
    if (s) {
      cur = out[s[1].trim()] = {};
      continue;
    }
    const eq = line.indexOf('=');
    if (cur && eq > 0) cur[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

/* access key id -> { secret, token } of every static test key */
function staticKeys() {
  const keys = Object.assign({}, MAPPING);
  const env = readEnvFile(path.join(AWS_DIR, 'environment'));
  if (env.AWS_ACCESS_KEY_ID) {
    keys[env.AWS_ACCESS_KEY_ID] = { secret: env.AWS_SECRET_ACCESS_KEY, token: env.AWS_SESSION_TOKEN || null };
  }
  const profiles = readCredentialsFile(path.join(AWS_DIR, 'credentials'));
  for (const p of Object.values(profiles)) {
    if (p.aws_access_key_id && p.aws_secret_access_key) {
      keys[p.aws_access_key_id] = { secret: p.aws_secret_access_key, token: p.aws_session_token || null };
    }
  }
  return keys;
}

let counter = 0;

/*
 * New temporary credentials of kind ('IMDS' or 'CTNR') that expire in
 * lifetime seconds, in the JSON shape of the container endpoint and IMDS.
 */
function issue(kind, lifetime) {
  const expiry = Math.floor(Date.now() / 1000) + lifetime;
  counter = (counter + 1) % 10000;
  const id = `ASIA${kind}${String(counter).padStart(4, '0')}X${expiry}`;
  return {
    Code: 'Success',
    LastUpdated: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    Type: 'AWS-HMAC',
    AccessKeyId: id,
    SecretAccessKey: 'TmpSecret' + hmac('secret:' + id).slice(0, 30),
    Token: 'TmpToken' + hmac('token:' + id) + hmac('token2:' + id),
    Expiration: new Date(expiry * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
  };
}

/*
 * What the proxy needs to check a request signed with access key id:
 * { secret, token (or null), expiresMs (or null) }, or null for a key
 * that is not one of the test keys.
 */
let statics = null;
function lookup(id) {
  if (statics === null) statics = staticKeys();
  if (statics[id]) return { secret: statics[id].secret, token: statics[id].token, expiresMs: null };
  const m = /^ASIA(IMDS|CTNR|ROLE|WEBI)\d{4}X(\d{9,11})$/.exec(id);
  if (!m) return null;
  const w = m[1] === 'ROLE' || m[1] === 'WEBI' ? 'Sts' : 'Tmp';
  return {
    secret: w + 'Secret' + hmac('secret:' + id).slice(0, 30),
    token: w + 'Token' + hmac('token:' + id) + hmac('token2:' + id),
    expiresMs: Number(m[2]) * 1000,
    issuedBySts: w === 'Sts',
  };
}

module.exports = { issue, lookup, AWS_DIR };
