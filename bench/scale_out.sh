#!/usr/bin/env bash
# bench/scale_out.sh: the aggregate of bench/run.sh's figure 1 over its
# corpus, through a coordinator and two nodes (postgres_fdw,
# examples/scale_out.sql), against one node alone, measured in the same
# run; then the time for 1 TB on 10 nodes worked out from the measured
# per-core rate.  Not part of the test suite.
#
#     bash bench/scale_out.sh
#
# Design notes.  Three clusters on this machine (lib.sh: pg_start for the
# coordinator, which is also the single node, pg_start_aux for the nodes on
# 45717 and 45719), all reading s3rver directly (no proxy, as figure 1).
# The corpus is figure 1's (~95 MB of JSON in ~285 objects; the same
# generator options and cache key as run.sh, under $BENCH_CACHE).  Each
# query runs once as a warm-up, then $BENCH_RUNS times; the best time
# counts, psql's \timing.  Every scan is serial
# (max_parallel_workers_per_gather = 0): one core per node.  On a machine
# of two cores shared by three clusters and s3rver, the coordinator's
# figure shows the overhead of the layout (the rows or groups carried over
# postgres_fdw, the extra connections), not a speedup: the two nodes
# compete for the same cores.  The shapes timed:
#   single:   the aggregate on the single node's table (all shards);
#   rows:     the same query on the coordinator's partitioned table, which
#             receives every record's three columns (postgres_fdw pushes no
#             partial aggregate) from both nodes at once (Async Foreign Scan);
#   pushed:   grouped by s3_shard first with enable_partitionwise_aggregate,
#             so each node aggregates its shard and sends its groups.
# Exits non-zero when something failed to run or the answers differ.
#
# Environment: BENCH_CACHE (/tmp/bedlog-bench), BENCH_RUNS (3),
# BENCH_CORES_PER_NODE (8: the cores per node of the 1 TB calculation),
# BENCH_AGG_ARGS (as in run.sh), BEDLOG_RUN_DIR (default here
# /tmp/bedlog-bench-scale-run) and lib.sh's ports.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
export BEDLOG_RUN_DIR=${BEDLOG_RUN_DIR:-/tmp/bedlog-bench-scale-run}
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"

BENCH_CACHE=${BENCH_CACHE:-/tmp/bedlog-bench}
BENCH_RUNS=${BENCH_RUNS:-3}
CORES=${BENCH_CORES_PER_NODE:-8}
PY=/usr/bin/python3

BEDLOG_TMP=$(mktemp -d /tmp/bedlog-bench-tmp.XXXXXX)
trap 'cleanup_all' EXIT
trap 'exit 130' INT TERM

die() {
	printf 'bench: FAILED: %s\n' "$*" >&2
	exit 1
}
say() { bedlog_log "bench: $*"; }
div() { awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN{ if (b+0==0) print "n/a"; else printf "%." d "f\n", a/b }'; }
bpsql() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# times NAME PORT SQL [SETUP]: in one session on PORT, SETUP, SQL once (its
# answer to NAME.out), then $BENCH_RUNS timed runs; prints the best seconds
times() {
	local name=$1 port=$2 sql=$3 setup=${4:-} f=$BEDLOG_TMP/$1.sql i
	{
		printf '%s\n' "SET max_parallel_workers_per_gather = 0;" "$setup"
		printf '\\pset format unaligned\n\\pset tuples_only on\n\\o %s\n%s;\n\\o /dev/null\n\\timing on\n' \
			"$BEDLOG_TMP/$name.out" "$sql"
		for ((i = 0; i < BENCH_RUNS; i++)); do
			printf '%s;\n' "$sql"
		done
	} >"$f"
	bpsql -p "$port" -f "$f" >"$BEDLOG_TMP/$name.log" 2>&1 || {
		cat "$BEDLOG_TMP/$name.log" >&2
		die "$name: query failed"
	}
	sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' "$BEDLOG_TMP/$name.log" |
		awk 'NR==1||$1<m{m=$1} END{if(NR==0)exit 1; printf "%.3f\n", m/1000}'
}

printf 'bedlog_fdw scale-out benchmark  %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
printf 'machine: %s cores, %s\n' "$(nproc)" "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
printf 'commit:  %s\n' "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"

say "build and install"
bedlog_build_install >"$BEDLOG_TMP/build.log" 2>&1 || {
	tail -n 60 "$BEDLOG_TMP/build.log" >&2
	die "build (make, make install)"
}

# the corpus of figure 1, keyed as run.sh keys it
AGG_ARGS=${BENCH_AGG_ARGS:---target-mb 95 --files-per-hour 12 --records-per-file 50-150}
GEN_SHA=$(sha256sum "$ROOT/tools/genlogs.py" | cut -c1-16)
# shellcheck disable=SC2086
KEY=$(printf '%s\n' "$GEN_SHA" bench-agg $AGG_ARGS | sha256sum | cut -c1-12)
DIR=$BENCH_CACHE/agg-$KEY
if [ ! -f "$DIR/.complete" ]; then
	rm -rf "$DIR"
	mkdir -p "$BENCH_CACHE"
	say "generating the corpus: genlogs.py $AGG_ARGS"
	# shellcheck disable=SC2086
	"$PY" "$ROOT/tools/genlogs.py" --out "$DIR/bench-agg" --bucket bench-agg \
		--manifest "$DIR/manifest.json" --quiet $AGG_ARGS || die "genlogs.py"
	touch "$DIR/.complete"
fi
read -r OBJECTS RECORDS JSON_BYTES GZ_BYTES < <("$PY" -c 'import json,sys,os
m=json.load(open(sys.argv[1]))
print(m["log_objects"], m["totals"]["records"], sum(o["json_bytes"] for o in m["objects"]),
      sum(os.path.getsize(os.path.join(sys.argv[2], o["key"])) for o in m["objects"]))' "$DIR/manifest.json" "$DIR/bench-agg")
printf 'corpus:  %d objects, %d records, %.1f MB of JSON, %.1f MB gzipped\n' "$OBJECTS" "$RECORDS" \
	"$(div "$JSON_BYTES" 1048576 1)" "$(div "$GZ_BYTES" 1048576 1)"

say "s3rver"
S3_VERIFY_SIGV4=0 s3_start >"$BEDLOG_TMP/s3start.log" 2>&1 || {
	cat "$BEDLOG_TMP/s3start.log" >&2
	die "s3_start"
}
s3_load "$DIR/bench-agg" bench-agg || die "s3_load"
say "three clusters"
{ pg_start && pg_start_aux && pg_start_aux webid; } >"$BEDLOG_TMP/pgstart.log" 2>&1 || {
	cat "$BEDLOG_TMP/pgstart.log" >&2
	die "pg_start"
}
export PGHOST PGPORT PGUSER PGDATABASE
COLS="model_id text, input_token_count bigint, output_token_count bigint, s3_shard int, s3_key text"
node_sql() {
	cat <<-EOF
		CREATE EXTENSION bedlog_fdw;
		CREATE SERVER s3 FOREIGN DATA WRAPPER bedlog_fdw OPTIONS (endpoint '$S3_DIRECT');
		CREATE USER MAPPING FOR CURRENT_USER SERVER s3 OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER');
		CREATE FOREIGN TABLE agg ($COLS) SERVER s3 OPTIONS (location 's3://bench-agg/'$1);
	EOF
}
node_sql "" | bpsql -p "$BEDLOG_PGPORT" || die "single node set-up"
node_sql ", shard '0/2'" | bpsql -p "$BEDLOG_AUX_PGPORT" || die "node 0 set-up"
node_sql ", shard '1/2'" | bpsql -p "$BEDLOG_WEBID_PGPORT" || die "node 1 set-up"
bpsql -p "$BEDLOG_PGPORT" >/dev/null <<EOF || die "coordinator set-up"
CREATE EXTENSION postgres_fdw;
CREATE SERVER node0 FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '$BEDLOG_AUX_PGPORT', dbname 'postgres');
CREATE SERVER node1 FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '$BEDLOG_WEBID_PGPORT', dbname 'postgres');
CREATE USER MAPPING FOR CURRENT_USER SERVER node0 OPTIONS (user 'postgres');
CREATE USER MAPPING FOR CURRENT_USER SERVER node1 OPTIONS (user 'postgres');
\i $ROOT/examples/scale_out.sql
SELECT bedlog_scale_out('agg_all', ARRAY['node0', 'node1'], 'agg');
EOF

SQL="SELECT model_id, count(*), sum(input_token_count), sum(output_token_count) FROM agg GROUP BY 1 ORDER BY 1"
PUSHED="SELECT model_id, sum(n), sum(i), sum(o) FROM (SELECT s3_shard, model_id, count(*) AS n, sum(input_token_count) AS i, sum(output_token_count) AS o FROM agg_all GROUP BY 1, 2) g GROUP BY 1 ORDER BY 1"
# warm s3rver up (a fresh one is slower for its first thousands of requests)
for _ in 1 2 3 4 5; do bpsql -p "$BEDLOG_PGPORT" -c "SELECT count(*) FROM agg" >/dev/null || die "warm-up"; done
say "timing"
T_SINGLE=$(times single "$BEDLOG_PGPORT" "$SQL") || exit 1
T_ROWS=$(times rows "$BEDLOG_PGPORT" "${SQL/FROM agg/FROM agg_all}") || exit 1
T_PUSHED=$(times pushed "$BEDLOG_PGPORT" "$PUSHED" "SET enable_partitionwise_aggregate = on;") || exit 1
cmp -s "$BEDLOG_TMP/single.out" "$BEDLOG_TMP/rows.out" || die "the coordinator's answer (rows) differs from the single node's"
cmp -s "$BEDLOG_TMP/single.out" "$BEDLOG_TMP/pushed.out" || die "the coordinator's answer (pushed) differs from the single node's"
NGROUPS0=$(bpsql -p "$BEDLOG_AUX_PGPORT" -Atc "SELECT count(*) FROM (SELECT DISTINCT model_id FROM agg) g")
NGROUPS1=$(bpsql -p "$BEDLOG_WEBID_PGPORT" -Atc "SELECT count(*) FROM (SELECT DISTINCT model_id FROM agg) g")
OBJ0=$(bpsql -p "$BEDLOG_AUX_PGPORT" -Atc "SELECT count(DISTINCT s3_key) FROM agg")
OBJ1=$(bpsql -p "$BEDLOG_WEBID_PGPORT" -Atc "SELECT count(DISTINCT s3_key) FROM agg")

RATE=$(div "$JSON_BYTES" "$T_SINGLE" 0)
printf '\n'
printf 'single node: %s s (%s MB/s of JSON, %s records/s, one core)\n' "$T_SINGLE" \
	"$(div "$RATE" 1048576 0)" "$(div "$RECORDS" "$T_SINGLE" 0)"
printf 'coordinator + 2 nodes, every record sent (%d rows): %s s, ratio to the single node %s\n' \
	"$RECORDS" "$T_ROWS" "$(div "$T_ROWS" "$T_SINGLE")"
printf 'coordinator + 2 nodes, grouped by s3_shard first (%d groups sent): %s s, ratio to the single node %s\n' \
	"$((NGROUPS0 + NGROUPS1))" "$T_PUSHED" "$(div "$T_PUSHED" "$T_SINGLE")"
printf 'node 0 reads %s of the %d objects, node 1 %s\n' "$OBJ0" "$OBJECTS" "$OBJ1"
printf 'note: %s cores shared by three clusters and s3rver: the nodes compete for them, so the ratios show the overhead, not a speedup\n' "$(nproc)"
# 1 TB on 10 nodes, on paper, at the measured per-core rate: one shard a
# node reads on one core (postgres_fdw's cursor has no parallel workers);
# CORES shards a node, a postgres_fdw server each, use CORES cores.  S3 must
# then deliver the gzip at the rate printed, per node.
"$PY" - "$RATE" "$JSON_BYTES" "$GZ_BYTES" "$CORES" <<'EOF'
import sys
rate, json_b, gz_b, cores = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
ratio = json_b / gz_b
for what, js in (("1 TB of JSON", 1e12), ("1 TB of gzip (x%.1f, as this corpus)" % ratio, 1e12 * ratio)):
    for shards in (1, cores):
        t = js / (rate * shards * 10)
        print("on paper, %s on 10 nodes, %d shard%s a node, at %.0f MB/s a core: %.0f s (%.1f min); "
              "S3 sends each node %.0f MB/s of gzip" % (what, shards, "" if shards == 1 else "s",
                                                        rate / 1048576, t, t / 60,
                                                        js / ratio / 10 / t / 1048576))
EOF
