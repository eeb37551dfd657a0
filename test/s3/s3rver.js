#!/usr/bin/env node
/*
 * s3rver.js: start the pinned s3rver (test/s3/node_modules) on loopback for
 * the bedlog_fdw tests, silent, with a bounded life.
 *
 * Design notes.  This is what node_modules/.bin/s3rver does, plus what a test
 * server must do here and the CLI cannot: exit when the process that started
 * it goes away, after --max-lifetime seconds (3 hours), and on SIGTERM, so a
 * killed test run leaves nothing behind.  Storage is a directory (s3rver has
 * no memory store); the caller gives a temporary one and removes it.
 */
'use strict';

// One libuv worker thread for s3rver's file reads instead of four.  A GET
// costs s3rver a stat and three small file reads; with four workers each
// read also costs a hand-off between threads, and on a two-core machine
// that CPU is taken from the backend under test.  Measured with curl
// --parallel-max 32 GETting 285 objects of about 70 kB, ten times: 0.75 ms
// of s3rver CPU a GET with four threads, 0.60 ms with one; a listing of 781
// keys 85 ms and 68 ms.  Wall time did not suffer (0.19 s and 0.14 s a
// pass).  libuv reads the variable when the pool first starts, which is
// after this line.
if (process.env.UV_THREADPOOL_SIZE === undefined) process.env.UV_THREADPOOL_SIZE = '1';

const fs = require('fs');
const path = require('path');
const S3rver = require(path.join(__dirname, 'node_modules', 's3rver'));

const opts = { port: 45711, bind: '127.0.0.1', dir: null, maxLifetime: 3 * 3600, pidFile: null };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const need = () => {
    if (i + 1 >= argv.length) {
      process.stderr.write(`s3rver.js: missing value for ${argv[i]}\n`);
      process.exit(2);
    }
    return argv[++i];
  };
  switch (argv[i]) {
    case '--port': opts.port = Number(need()); break;
    case '--bind': opts.bind = need(); break;
    case '-d':
    case '--directory': opts.dir = need(); break;
    case '--max-lifetime': opts.maxLifetime = Number(need()); break;
    case '--pid-file': opts.pidFile = need(); break;
    default:
      process.stderr.write(
        `s3rver.js: unknown option ${argv[i]}\n` +
          'usage: node s3rver.js --directory DIR [--port 45711] [--bind 127.0.0.1] [--max-lifetime 10800] [--pid-file PATH]\n',
      );
      process.exit(2);
  }
}
if (!opts.dir) {
  process.stderr.write('s3rver.js: --directory is required\n');
  process.exit(2);
}
fs.mkdirSync(opts.dir, { recursive: true });

require('./lifetime').bound(opts.pidFile, opts.maxLifetime);

new S3rver({
  port: opts.port,
  address: opts.bind,
  silent: true,
  directory: opts.dir,
  resetOnClose: false,
})
  .run()
  .then(({ address, port }) => {
    if (opts.pidFile) fs.writeFileSync(opts.pidFile, `${process.pid}\n`);
    process.stdout.write(`s3rver ${require(path.join(__dirname, 'node_modules', 's3rver', 'package.json')).version} listening on ${address}:${port}, data in ${opts.dir}\n`);
  })
  .catch(err => {
    process.stderr.write(`s3rver.js: ${err.message}\n`);
    process.exit(1);
  });
