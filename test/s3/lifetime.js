'use strict';
/*
 * lifetime.js: the test servers stop by themselves.  bound(pidFile,
 * maxLifetimeSeconds) makes this process exit on SIGTERM/SIGINT/SIGHUP,
 * when the process that started it goes away, and after its maximum
 * lifetime, removing its pid file.  It returns the shutdown function.
 */
const fs = require('fs');

function bound(pidFile, maxLifetimeSeconds) {
  function shutdown(code) {
    try {
      if (pidFile) fs.unlinkSync(pidFile);
    } catch (e) {
      /* already gone */
    }
    process.exit(code);
  }
  process.on('SIGTERM', () => shutdown(0));
  process.on('SIGINT', () => shutdown(0));
  process.on('SIGHUP', () => shutdown(0));

  const parentPid = process.ppid;
  setInterval(() => {
    let alive = process.ppid === parentPid && parentPid !== 1;
    if (alive) {
      try {
        process.kill(parentPid, 0);
      } catch (e) {
        alive = false;
      }
    }
    if (!alive) shutdown(0);
  }, 1000).unref();
  setTimeout(() => shutdown(0), maxLifetimeSeconds * 1000).unref();
  return shutdown;
}

module.exports = { bound };
