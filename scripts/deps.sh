#!/usr/bin/env bash
# deps.sh: install what bedlog_fdw needs to build, test, package and demo, on Debian 12 as root.
#
# Idempotent and fast when everything is there: it asks dpkg-query first and
# runs apt-get (update once, then install) only for packages that are
# missing.  Node.js and npm count as present when the commands exist (a
# NodeSource nodejs package ships npm itself and conflicts with Debian's
# npm).  Then it installs the pinned test S3 server into test/s3/node_modules
# with `npm ci`, unless that tree already matches the lockfile.
#
# Environment: PG_MAJOR (default 15).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_MAJOR=${PG_MAJOR:-15}

log() { printf 'deps: %s\n' "$*" >&2; }

# scripts/packages.txt, and what only this machine runs: a throwaway Ceph
# cluster (one mon, one memstore OSD, radosgw) for the radosgw stage of the
# tests (scripts/rgw.sh, test/radosgw/run.sh)
mapfile -t pkgs < <(sed -e '/^#/d' -e '/^$/d' -e "s/PGMAJOR/$PG_MAJOR/g" "$ROOT/scripts/packages.txt")
pkgs+=(radosgw ceph-mon ceph-osd)

missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	missing+=(nodejs npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		log "missing packages (${missing[*]}) and not root: run as root"
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	# update once: when the package lists are absent or older than a day,
	# or when a first install attempt cannot find a package
	stamp=/var/lib/apt/lists/.bedlog-updated
	if [ ! -e "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440 2>/dev/null)" ] ||
		! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
		log "apt-get update"
		apt-get update -qq
		touch "$stamp"
	fi
	log "installing ${missing[*]}"
	if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
		log "install failed; updating package lists and retrying"
		apt-get update -qq
		touch "$stamp"
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
else
	log "system packages present"
fi

# The PostgreSQL server binaries (initdb, pg_ctl) live here; check them.
if [ ! -x "/usr/lib/postgresql/$PG_MAJOR/bin/initdb" ]; then
	log "/usr/lib/postgresql/$PG_MAJOR/bin/initdb is missing"
	exit 1
fi

# Pinned test S3 server, under the project.
cd "$ROOT/test/s3"
if [ -f package-lock.json ] && [ -x node_modules/.bin/s3rver ] && node -e '
	const fs = require("fs");
	const want = JSON.parse(fs.readFileSync("package-lock.json")).packages;
	const have = JSON.parse(fs.readFileSync("node_modules/.package-lock.json")).packages;
	for (const [k, v] of Object.entries(want)) {
		if (k === "") continue;
		const h = have[k];
		if (!h || h.version !== v.version || h.integrity !== v.integrity) process.exit(1);
	}' 2>/dev/null; then
	log "test/s3/node_modules up to date"
else
	if [ -f package-lock.json ]; then
		log "npm ci in test/s3"
		npm ci --no-audit --no-fund --loglevel=error >/dev/null
	else
		log "npm install in test/s3 (no lockfile)"
		npm install --no-audit --no-fund --loglevel=error >/dev/null
	fi
fi
log "ok"
