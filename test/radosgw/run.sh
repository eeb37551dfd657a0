#!/usr/bin/env bash
# run.sh: pg_regress tests against a real S3 server, Ceph's radosgw.
#
# Called by scripts/test.sh after the main pg_regress run, with its rig and
# PostgreSQL cluster still up (BEDLOG_FIXTURES, BEDLOG_TMP with the "month"
# and "big" buckets, PGHOST/PGPORT/PGUSER, BEDLOG_PGDIR, PG_CONFIG, the
# PGOPTIONS test.sh exports).  It starts a throwaway Ceph cluster
# (scripts/rgw.sh, radosgw on 127.0.0.1:45720), loads the same buckets into
# it, switches the proxy on 127.0.0.1:45712 (the endpoint the SQL tests
# name) to pass-through in front of radosgw: it still counts requests for
# the tests that read its counters, but answers nothing itself, fakes no
# delimiter listing, checks no signature and keeps the Host header, so
# radosgw verifies every signature and answers every listing.  Then it runs
# the subset below with pg_regress into results/radosgw/ (database
# bedlog_radosgw), switches the proxy back to s3rver as it was, and stops
# radosgw.  Prints `radosgw: N passed, N failed` (pg_regress tests); exits
# non-zero on failure.
#
# The subset: examples layout pagination pushdown keyspace pushdown_property
# objindex memory discovery, and rgw_errors (the cases of errors.sql that a real
# server answers by itself: a missing bucket, an unknown access key, a
# wrong secret, bad data, virtual-host addressing).  Expected files are the
# main ones, except where test/radosgw/expected/NAME.out replaces one for
# this stage: radosgw's listing pages are longer XML than s3rver's, so
# "S3 Bytes Read", which counts listing bodies too, differs in layout,
# pagination, pushdown, keyspace and objindex; nothing else in them does.
# See doc/testing-radosgw.md.
#
# Left out, because they need the fault proxy or s3rver, or are not about
# the S3 side:
#   errors        fault-* keys (403/404/500/503, cut, stall, changed ETag),
#                 region emulation, the proxy's TLS port; its other cases
#                 are in rgw_errors
#   cancel parallel  the slow proxy on 45715, which stays in front of s3rver
#   credentials   metadata.js, the test keys that the fault proxy verifies
#                 and maps to s3rver's, the second cluster on 45717
#   cache         changes objects through s3rver's own port (45711)
#   options import columns on_error jsonb pricing large_bodies rollup
#   analyze soak  decoding, planning and options, read the same way from
#                 any server: they add minutes and no S3 behaviour
#
# BEDLOG_RADOSGW_TESTS replaces the subset (e.g. "examples layout").
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
. "$ROOT/scripts/lib.sh"
. "$ROOT/scripts/rgw.sh"

tests=${BEDLOG_RADOSGW_TESTS:-examples layout pagination pushdown keyspace pushdown_property objindex memory discovery rgw_errors}
ntests=$(wc -w <<<"$tests")

fail() {
	echo "radosgw: $*" >&2
	echo "radosgw: 0 passed, $ntests failed"
	exit 1
}

for v in BEDLOG_FIXTURES BEDLOG_TMP BEDLOG_PGDIR PGHOST PGPORT; do
	[ -n "${!v:-}" ] || fail "$v is not set: run me from scripts/test.sh"
done
proxy_cfg="$S3_ENDPOINT/__bedlog/config"
orig=$(curl -s -X POST "$proxy_cfg") || fail "no proxy on $S3_ENDPOINT"
orig_target=$(sed -nE 's/.*"target":"([^"]*)".*/\1/p' <<<"$orig")
[ -n "$orig_target" ] || fail "the proxy on $S3_ENDPOINT has no /__bedlog/config: $orig"

work=$BEDLOG_TMP/radosgw # the input directory
out=$ROOT/results/radosgw # results and regression.diffs, kept as make installcheck keeps its own
rm -rf "$work" "$out"
mkdir -p "$work/input/expected" "$out"

restore() {
	curl -s -o /dev/null -X POST "$proxy_cfg?target=$orig_target&pass_through=0"
	rgw_stop
}
trap restore EXIT
trap 'exit 130' INT TERM

t_start=$SECONDS
rgw_start || fail "could not start the Ceph cluster"
rss_start=$(rgw_rss_mib)
# the fixture buckets, the month and the big object, as test.sh loaded them
if ! rgw_load "$BEDLOG_FIXTURES" || ! rgw_load "$BEDLOG_TMP/month" month || ! rgw_load "$BEDLOG_TMP/big" big; then
	fail "could not load the buckets"
fi
bedlog_log "buckets loaded into radosgw in $((SECONDS - t_start))s; $(rgw_rss_mib) MiB resident"
curl -s -o /dev/null -X POST "$proxy_cfg?target=127.0.0.1:$RGW_PORT&pass_through=1" || fail "could not switch the proxy"
curl -s -X POST "$S3_ENDPOINT/__bedlog/reset" >/dev/null

# the input directory: the main sql/ and expected/, with the stage's own
# tests added and its expected files laid over the main ones
cp -r "$ROOT/sql" "$work/input/sql"
cp "$ROOT"/expected/*.out "$work/input/expected/"
for f in "$ROOT"/test/radosgw/sql/*.sql; do [ -e "$f" ] && cp "$f" "$work/input/sql/"; done
for f in "$ROOT"/test/radosgw/expected/*.out; do [ -e "$f" ] && cp "$f" "$work/input/expected/"; done
chmod -R a+rX "$work"

regress=$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/regress/pg_regress
# shellcheck disable=SC2086
pg_exec "$regress" --inputdir="$work/input" --outputdir="$out" \
	--bindir="$("$PG_CONFIG" --bindir)" --dbname=bedlog_radosgw \
	--load-extension=bedlog_fdw $tests 2>&1 | tee "$out/regress.log"
rc=${PIPESTATUS[0]}
p=$(grep -cE '^(test +|[[:space:]]+)?[^[:space:]]+ +\.\.\. ok|^ok [0-9]+ +[-+] ' "$out/regress.log")
f=$(grep -cE '^(test +|[[:space:]]+)?[^[:space:]]+ +\.\.\. FAILED|^not ok [0-9]+ ' "$out/regress.log")
if [ -s "$out/regression.diffs" ]; then
	echo "===== $out/regression.diffs (first 200 lines)"
	head -n 200 "$out/regression.diffs"
fi
# what radosgw itself answered (its access log): listings with a delimiter
# included, which the proxy answered itself in front of s3rver
log=$RGW_DIR/log/client.rgw.log
bedlog_log "radosgw answered $(grep -c 'beast: .* HTTP/1.1" ' "$log") requests: $(grep -c '"GET /[^ ]*delimiter=[^ ]* HTTP/1.1" 200 ' "$log") delimiter listings with 200, $(grep -c 'HTTP/1.1" 403 ' "$log") refused with 403"
bedlog_log "stage took $((SECONDS - t_start))s; radosgw cluster $(rgw_rss_mib) MiB resident at the end ($rss_start MiB after start)"
if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
	f=$ntests
elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
	f=1
fi
echo "radosgw: $p passed, $f failed"
[ "$rc" -eq 0 ] && [ "$f" -eq 0 ]
