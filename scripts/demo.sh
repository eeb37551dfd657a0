#!/usr/bin/env bash
# demo.sh: bedlog_fdw on generated Bedrock logs, end to end, on this machine.
#
# Installs what is missing, builds and installs the extension, starts a local
# S3 server (s3rver behind the test proxy, 127.0.0.1 only) loaded with two
# days of generated logs for two accounts and two regions, starts a throwaway
# PostgreSQL cluster, creates the foreign table and runs the example queries
# of scripts/demo.sql.  From a terminal it then opens psql; everything stops
# when psql (or the script) exits.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
. "$ROOT/scripts/lib.sh"

BEDLOG_TMP=$(mktemp -d /tmp/bedlog-demo.XXXXXX)
trap cleanup_all EXIT
trap 'exit 130' INT TERM

bedlog_log "dependencies"
bash "$ROOT/scripts/deps.sh"

build_log=$BEDLOG_TMP/build.log
if ! bedlog_build_install >"$build_log" 2>&1; then
	tail -n 60 "$build_log" >&2
	bedlog_log "build failed (full log above was $build_log)"
	exit 1
fi

bedlog_log "generating sample logs"
python3 "$ROOT/tools/genlogs.py" --out "$BEDLOG_TMP/demo-logs" --bucket demo-logs --prefix bedrock/ \
	--seed 2026 --start 2026-11-01T00 --hours 48 \
	--accounts 111111111111,222222222222 --regions us-east-1,eu-west-1 \
	--files-per-hour 2 --records-per-file 1-12 --gzip-level 6 \
	--manifest "$BEDLOG_TMP/demo-logs.manifest.json"

s3_start
bedlog_log "loading the sample into s3://demo-logs/"
s3_load "$BEDLOG_TMP/demo-logs" demo-logs
pg_start

python3 - "$BEDLOG_TMP/demo-logs.manifest.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
t = m["totals"]
print("Generated: %d log objects (+%d large-data objects), %d records, %d with errorCode, %d delivered late,"
      % (m["log_objects"], m["data_objects_count"], t["records"], t["records_with_error"], t["late_records"]))
print("           %d input tokens, %d output tokens, %s .. %s"
      % (t["input_tokens"], t["output_tokens"], t["min_timestamp"], t["max_timestamp"]))
EOF

bedlog_rig_sql s3://demo-logs/bedrock/ | psql -X -q -v ON_ERROR_STOP=1
echo
echo "CREATE EXTENSION bedlog_fdw;"
echo "CREATE SERVER bedrock FOREIGN DATA WRAPPER bedlog_fdw OPTIONS (endpoint '$S3_ENDPOINT', aws_region 'us-east-1');"
echo "CREATE USER MAPPING FOR CURRENT_USER SERVER bedrock OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER');"
echo "IMPORT FOREIGN SCHEMA bedrock FROM SERVER bedrock INTO public OPTIONS (location 's3://demo-logs/bedrock/');"

psql -X -v ON_ERROR_STOP=1 -v cache_dir="$BEDLOG_PGDIR/cache" -e -f "$ROOT/scripts/demo.sql"

if [ -t 0 ] && [ -t 1 ]; then
	echo
	echo "psql on the demo database: try  \\d model_invocations  or the queries in scripts/demo.sql."
	echo "Quit with \\q; the servers stop then."
	psql -X || true
fi
