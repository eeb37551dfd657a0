#!/bin/bash
# bench/dashboard.sh: the Grafana dashboard refreshed twice in one session
# over HTTPS with latency added to every request; the second refresh's time
# against the first's, and the TLS handshakes of each.  Not part of the test
# suite.
#
#     bash bench/dashboard.sh
#
# Design notes.  One command from a fresh clone, as root: installs what is
# missing (scripts/deps.sh), builds and installs the extension, generates a
# month of logs for two accounts in two regions (tools/genlogs.py, cached
# under $BENCH_CACHE like bench/run.sh's corpora), loads them into s3rver
# behind test/s3/proxy.js with --latency-ms $BENCH_LATENCY_MS (20) on its
# HTTPS port (a throwaway CA from lib.sh), starts a throwaway cluster, and
# imports two tables over the bucket's prefix above AWSLogs/, as the README
# recommends (so every scan discovers accounts and regions): one on a
# server without cache_dir, one with.  bench/dashboard.py then runs the
# dashboard's queries for one settled day, BENCH_RUNS (3) sessions per
# table, two refreshes a session, and prints the figures.  Servers bind
# 127.0.0.1 and are stopped by the EXIT trap.  Uses the test rig's ports
# with its own run directory; refuses to start while one is taken.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
export BEDLOG_RUN_DIR=${BEDLOG_RUN_DIR:-/tmp/bedlog-bench-dash-run}
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"

BENCH_CACHE=${BENCH_CACHE:-/tmp/bedlog-bench}
BENCH_LATENCY_MS=${BENCH_LATENCY_MS:-20}
export BENCH_RUNS=${BENCH_RUNS:-3}
PY=/usr/bin/python3

trap 'cleanup_all' EXIT
trap 'exit 130' INT TERM
die() {
	printf 'bench: FAILED: %s\n' "$*" >&2
	exit 1
}
say() { bedlog_log "bench: $*"; }
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

for p in "$S3RVER_PORT" "$S3_PROXY_PORT" "$S3_PROXY_TLS_PORT" "$BEDLOG_PGPORT"; do
	port_free "$p" || die "port $p is in use (the test suite or another bench running?)"
done
TMP=$(mktemp -d /tmp/bedlog-bench-dash.XXXXXX)

say "dependencies"
bash "$ROOT/scripts/deps.sh" >"$TMP/deps.log" 2>&1 || {
	cat "$TMP/deps.log" >&2
	die "scripts/deps.sh"
}
say "build and install"
bedlog_build_install >"$TMP/build.log" 2>&1 || {
	tail -n 60 "$TMP/build.log" >&2
	die "build"
}

# the corpus: 30 days, 2 accounts x 2 regions, 2 objects an hour each
GEN_ARGS=(--bucket dash --prefix logs/ --start 2026-11-01T00 --hours 720
	--accounts 111111111111,222222222222 --regions us-east-1,eu-west-1
	--files-per-hour 2 --records-per-file 1-3 --seed 30)
key=$(printf '%s\n' "$(sha256sum "$ROOT/tools/genlogs.py" | cut -c1-16)" "${GEN_ARGS[@]}" | sha256sum | cut -c1-12)
CORPUS=$BENCH_CACHE/dash-$key
if [ ! -f "$CORPUS/.complete" ]; then
	rm -rf "$BENCH_CACHE"/dash-*
	say "generating the corpus: genlogs.py ${GEN_ARGS[*]}"
	"$PY" "$ROOT/tools/genlogs.py" --out "$CORPUS/dash" "${GEN_ARGS[@]}" \
		--manifest "$CORPUS/manifest.json" --quiet || die "genlogs.py"
	touch "$CORPUS/.complete"
fi

say "s3rver and the proxy (${BENCH_LATENCY_MS} ms a request, HTTPS on $S3_PROXY_TLS_PORT)"
S3_VERIFY_SIGV4=0 S3_PROXY_ARGS="--latency-ms $BENCH_LATENCY_MS" s3_start >"$TMP/s3.log" 2>&1 || {
	cat "$TMP/s3.log" >&2
	die "s3_start"
}
s3_load "$CORPUS" >"$TMP/load.log" 2>&1 || {
	cat "$TMP/load.log" >&2
	die "loading the corpus"
}
say "PostgreSQL"
pg_start >"$TMP/pg.log" 2>&1 || {
	cat "$TMP/pg.log" >&2
	die "pg_start"
}
CA=/tmp/bedlog-bench-dash-ca.crt
CACHE_DIR=/tmp/bedlog-bench-dash-cache
cp "$BEDLOG_RUN_DIR/tls/ca.crt" "$CA" && chmod 644 "$CA"
rm -rf "$CACHE_DIR" && mkdir -p "$CACHE_DIR" && chown postgres:postgres "$CACHE_DIR"
psql -X -q -v ON_ERROR_STOP=1 >"$TMP/setup.log" 2>&1 <<EOF || { cat "$TMP/setup.log" >&2; die "setup SQL"; }
CREATE EXTENSION IF NOT EXISTS bedlog_fdw;
CREATE SERVER dash_tls FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'https://127.0.0.1:$S3_PROXY_TLS_PORT', ca_bundle '$CA');
CREATE SERVER dash_tls_cache FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'https://127.0.0.1:$S3_PROXY_TLS_PORT', ca_bundle '$CA', cache_dir '$CACHE_DIR');
CREATE USER MAPPING FOR CURRENT_USER SERVER dash_tls
  OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER');
CREATE USER MAPPING FOR CURRENT_USER SERVER dash_tls_cache
  OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER');
CREATE SCHEMA nc;
CREATE SCHEMA c;
IMPORT FOREIGN SCHEMA bedrock FROM SERVER dash_tls INTO nc OPTIONS (location 's3://dash/logs/');
IMPORT FOREIGN SCHEMA bedrock FROM SERVER dash_tls_cache INTO c OPTIONS (location 's3://dash/logs/');
EOF

printf 'bedlog_fdw dashboard benchmark  %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
printf 'machine: %s cores; commit %s; load %s\n' "$(nproc)" \
	"$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'corpus: %s log objects over 30 days; HTTPS with %s ms added to every request\n' \
	"$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["log_objects"])' "$CORPUS/manifest.json")" \
	"$BENCH_LATENCY_MS"
BENCH_PROXY=$S3_ENDPOINT BENCH_TABLES="nocache:nc,cache:c" \
	BENCH_CACHE_RESET="rm -rf $CACHE_DIR/*" "$PY" "$ROOT/bench/dashboard.py" || die "dashboard.py"
