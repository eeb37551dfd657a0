#!/usr/bin/env bash
# test.sh: bedlog_fdw's whole test suite; what CI runs (through .ci/run).
#
# Installs what is missing, builds and installs the extension with warnings
# as errors, runs the stand-alone C suites (test/sigv4, test/jsonscan,
# test/s3xml) and the check that the built modules form layers
# (test/modgraph: no cycle in their symbol graph), each of which prints
# `<name>: N passed, N failed`, generates the fixture buckets and loads
# them into s3rver behind the fault-injecting proxy (127.0.0.1:45712),
# starts a throwaway PostgreSQL cluster and runs pg_regress (make
# installcheck), then the Grafana dashboard's queries against the same rig
# (test/grafana/run.sh), then a subset against Ceph's radosgw, a real S3
# server (test/radosgw/run.sh; on this machine's major only; BEDLOG_RADOSGW=0
# skips it), then the Debian package (test/package/run.sh: build, install
# into a fresh cluster, query; in a root only).  Prints one line per suite,
# then exactly one final line `N passed, N failed`, and exits non-zero iff
# anything failed.  A suite that is missing, crashes or prints no count
# counts as one failure.
#
# PostgreSQL majors: `--pg 15,18` (the default) runs the whole suite once
# per major and adds the counts up; `--pg 17` runs it on 17 alone.  15 is
# Debian 12's own and runs on this machine; 17 (trixie) and 18 (unstable)
# run in a Debian root made and kept by scripts/pg-chroot.sh (about two
# minutes the first time), where the extension is built, installed and run
# by that major while the S3 rig stays on this machine (see pg_exec in
# lib.sh).  BEDLOG_PG_MAJORS sets the default list.
#
# For development, BEDLOG_REGRESS="examples errors" runs only those
# pg_regress tests (examples first: it creates the server the others use),
# on 15 unless --pg says otherwise, and skips the stand-alone C suites and
# the module graph check, the Grafana suite, the radosgw stage and the
# package suite (BEDLOG_GRAFANA=1, BEDLOG_RADOSGW=1 and BEDLOG_PACKAGE=1
# keep those).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1

majors=()
while [ $# -gt 0 ]; do
	case "$1" in
		--pg) IFS=', ' read -ra majors <<<"${2:-}"; shift 2 || { echo "--pg needs a list, e.g. --pg 15,18" >&2; exit 2; } ;;
		--pg=*) IFS=', ' read -ra majors <<<"${1#--pg=}"; shift ;;
		-h | --help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
		*) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
	esac
done
if [ ${#majors[@]} -eq 0 ]; then
	if [ -n "${BEDLOG_REGRESS:-}" ]; then
		read -ra majors <<<"${BEDLOG_PG_MAJORS:-15}"
	else
		read -ra majors <<<"${BEDLOG_PG_MAJORS:-15 18}"
	fi
fi
for m in "${majors[@]}"; do
	# 14 and 16 are in no Debian suite reachable here: scripts/check-pg-versions.sh compiles against them
	case "$m" in 15 | 17 | 18) ;; *) echo "the suite runs on PostgreSQL 15, 17 and 18, not $m" >&2; exit 2 ;; esac
done

# ---- several majors: one run each, counts added up ----
if [ ${#majors[@]} -gt 1 ]; then
	all_pass=0
	all_fail=0
	lines=()
	for m in "${majors[@]}"; do
		log=$(mktemp /tmp/bedlog-test-pg$m.XXXXXX)
		printf '\n##### PostgreSQL %s #####\n' "$m"
		bash "$ROOT/scripts/test.sh" --pg "$m" 2>&1 | tee "$log"
		last=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
		if [ -z "$last" ]; then
			all_fail=$((all_fail + 1))
			lines+=("pg$m: no summary (the run stopped early)")
		else
			all_pass=$((all_pass + ${last%% passed*}))
			f=${last#*passed, }
			all_fail=$((all_fail + ${f%% failed*}))
			while IFS= read -r l; do
				lines+=("pg$m $l")
			done < <(sed -n '/^===== summary =====$/,$p' "$log" | sed '1d;$d')
		fi
		rm -f "$log"
	done
	printf '\n===== summary, all majors =====\n'
	printf '%s\n' "${lines[@]}"
	echo "$all_pass passed, $all_fail failed"
	[ "$all_fail" -eq 0 ]
	exit
fi

# ---- one major ----
PG_MAJOR=${majors[0]}
export PG_MAJOR
. "$ROOT/scripts/lib.sh"

BEDLOG_TMP=$(mktemp -d /tmp/bedlog-test.XXXXXX)
test_cleanup() {
	cleanup_all
	if [ -n "${BEDLOG_CHROOT:-}" ]; then
		bash "$ROOT/scripts/pg-chroot.sh" umount "$PG_MAJOR" || true
	fi
}
trap test_cleanup EXIT
trap 'exit 130' INT TERM

total_pass=0
total_fail=0
summary=()

# record NAME PASSED FAILED [NOTE]
record() {
	total_pass=$((total_pass + $2))
	total_fail=$((total_fail + $3))
	summary+=("$(printf '%-10s %d passed, %d failed%s' "$1:" "$2" "$3" "${4:+ ($4)}")")
}

section() { printf '\n===== %s =====\n' "$*"; }

# ---- dependencies and build ----
section "dependencies (PostgreSQL $PG_MAJOR)"
# this machine's own: the S3 rig, Python, psql; and the server, when the
# major is Debian 12's (15)
if ! PG_MAJOR=15 bash "$ROOT/scripts/deps.sh"; then
	record deps 0 1 "scripts/deps.sh failed"
fi
if [ "$PG_MAJOR" = 17 ] || [ "$PG_MAJOR" = 18 ]; then
	# one run at a time in a root: the end of a run unmounts what another
	# run in the same root would be using
	lockdir=${BEDLOG_CHROOT_DIR:-/var/cache/bedlog/chroot}
	mkdir -p "$lockdir"
	exec 9>"$lockdir/pg$PG_MAJOR.lock"
	flock -n 9 || { echo "waiting for another test run in the PostgreSQL $PG_MAJOR root"; flock -w 3600 9; }
	if BEDLOG_CHROOT=$(bash "$ROOT/scripts/pg-chroot.sh" ensure "$PG_MAJOR"); then
		export BEDLOG_CHROOT
		echo "PostgreSQL $PG_MAJOR in $BEDLOG_CHROOT: $(pg_exec "$PG_BINDIR/postgres" --version)"
	else
		BEDLOG_CHROOT=
		record deps 0 1 "no root with PostgreSQL $PG_MAJOR (scripts/pg-chroot.sh)"
	fi
fi

section "build (warnings are errors)"
build_ok=1
if bedlog_build_install >"$BEDLOG_TMP/build.log" 2>&1; then
	grep -E ': (warning|error): ' "$BEDLOG_TMP/build.log" || true
	echo "build ok"
	summary+=("build:     ok")
else
	build_ok=0
	tail -n 80 "$BEDLOG_TMP/build.log"
	record build 0 1 "make failed"
fi

# ---- stand-alone suites ----
# run_suite NAME SCRIPT [pg]: the script's last `NAME: N passed, N failed`
# line counts.  With pg, the script runs on the PostgreSQL side (pg_exec):
# the stand-alone C suites then also meet that root's libraries.
run_suite() {
	local name=$1 script=$2 side=${3:-} log=$BEDLOG_TMP/$1.log rc line p f run=()
	section "$name ($script)"
	if [ ! -f "$ROOT/$script" ]; then
		echo "$script is missing"
		record "$name" 0 1 "missing"
		return
	fi
	[ "$side" = pg ] && run=(pg_exec)
	"${run[@]}" bash "$ROOT/$script" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '(^|[[:space:]])[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		record "$name" 0 1 "no count printed, exit $rc"
		return
	fi
	p=$(grep -oE '[0-9]+ passed' <<<"$line" | tail -n 1 | grep -oE '^[0-9]+')
	f=$(grep -oE '[0-9]+ failed' <<<"$line" | tail -n 1 | grep -oE '^[0-9]+')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		record "$name" "$p" 1 "exit $rc"
	else
		record "$name" "$p" "$f"
	fi
}
if [ -z "${BEDLOG_REGRESS:-}" ]; then
	run_suite sigv4 test/sigv4/run.sh pg
	run_suite jsonscan test/jsonscan/run.sh pg
	run_suite s3xml test/s3xml/run.sh pg
	# the CloudWatch Logs responder of the rig, against botocore's client
	run_suite cwlogs test/cwlogs/run.sh
	# reads the objects the build left in the tree (also a root's build)
	if [ "$build_ok" = 1 ]; then
		run_suite modgraph test/modgraph/run.sh
	else
		record modgraph 0 1 "not run: build failed"
	fi
	# every relative link and anchor of README.md and doc/ resolves
	run_suite links scripts/check-links.sh
fi

# ---- pg_regress against the S3 rig ----
section "fixtures and S3 rig"
regress_ready=1
export BEDLOG_FIXTURES=$BEDLOG_TMP/fixtures
if ! python3 "$ROOT/tools/genlogs.py" --fixtures "$BEDLOG_FIXTURES"; then
	echo "fixture generation failed"
	regress_ready=0
elif ! s3_start; then
	echo "could not start s3rver and the proxy"
	regress_ready=0
elif ! s3_load "$BEDLOG_FIXTURES"; then
	echo "could not load the fixtures"
	regress_ready=0
elif ! { NODE_OPTIONS=--openssl-legacy-provider node "$ROOT/test/s3/proxy.js" \
		--bind 127.0.0.1 --port 45715 --target 127.0.0.1:45711 --latency-ms 30 \
		--max-lifetime 5400 --quiet >"$BEDLOG_TMP/slow-proxy.log" 2>&1 &
	bedlog_wait_http http://127.0.0.1:45715/__bedlog/stats 30; }; then
	# a second proxy that answers every request 30 ms late (cancel.sql)
	echo "could not start the slow proxy"
	regress_ready=0
elif ! python3 "$ROOT/tools/genlogs.py" --out "$BEDLOG_TMP/month" --bucket month --prefix m/ \
	--start 2026-11-01T00 --hours 720 --accounts 111111111111 --regions us-east-1 \
	--files-per-hour 2 --records-per-file 1-3 --seed 30 --gzip-level 6 \
	--manifest "$BEDLOG_FIXTURES/month.manifest.json" --quiet ||
	! s3_load "$BEDLOG_TMP/month" month ||
	! curl -sf -o /dev/null -X POST \
		"http://127.0.0.1:${CWLOGS_PORT:-45730}/__cw/load?group=bedrock/month&dir=$BEDLOG_TMP/month"; then
	# the same month is the CloudWatch Logs group bedrock/month (Grafana's)
	echo "could not make and load the month of logs"
	regress_ready=0
elif ! python3 "$ROOT/tools/genlogs.py" --out "$BEDLOG_TMP/big" --bucket big --big-object-mb 200 \
	--manifest "$BEDLOG_FIXTURES/big.manifest.json" --quiet ||
	! s3_load "$BEDLOG_TMP/big" big; then
	echo "could not make and load the 200 MB object"
	regress_ready=0
elif ! python3 "$ROOT/tools/genlogs.py" --out "$BEDLOG_TMP/cpu" --bucket cpu --repeated-object-mb 4096 --quiet ||
	! s3_load "$BEDLOG_TMP/cpu" cpu; then
	# 4 GB of JSON in 32 MB of gzip: a scan of seconds of CPU (cancel_cpu.sql)
	echo "could not make and load the repeated object"
	regress_ready=0
elif ! pg_start; then
	echo "could not start PostgreSQL"
	regress_ready=0
elif ! pg_start_aux; then
	# a second cluster with IMDS as its only AWS identity (credentials.sql)
	echo "could not start the second PostgreSQL"
	regress_ready=0
elif ! pg_start_aux webid; then
	# a third with a web identity token file as its only one (sts.sql)
	echo "could not start the third PostgreSQL"
	regress_ready=0
fi

section "pg_regress (make installcheck)"
if [ "$build_ok" = 1 ] && [ "$regress_ready" = 1 ]; then
	rm -f "$ROOT/regression.diffs" "$ROOT/regression.out"
	# the tests read reference files (the real example records) with
	# pg_read_file: give the server a copy it can read, and tell the tests
	# where it is and where the server log is (they search it for secrets)
	cp -r "$ROOT/test/fixtures" "$BEDLOG_PGDIR/fixtures"
	cp "$BEDLOG_FIXTURES/fixtures.manifest.json" "$BEDLOG_FIXTURES/big.manifest.json" \
		"$BEDLOG_FIXTURES/month.manifest.json" "$BEDLOG_PGDIR/fixtures/"
	cp "$BEDLOG_RUN_DIR/tls/ca.crt" "$BEDLOG_PGDIR/fixtures/test-ca.crt"
	chown -R postgres:postgres "$BEDLOG_PGDIR/fixtures"
	# plans stay serial unless a test asks for parallel workers (parallel.sql)
	export PGOPTIONS="-c bedlog_test.fixtures=$BEDLOG_PGDIR/fixtures -c bedlog_test.server_log=$BEDLOG_PGDIR/postgres.log -c max_parallel_workers_per_gather=0"
	pg_exec make -C "$ROOT" installcheck PG_CONFIG="$PG_CONFIG" \
		${BEDLOG_REGRESS:+REGRESS="$BEDLOG_REGRESS"} 2>&1 | tee "$BEDLOG_TMP/regress.log"
	rc=${PIPESTATUS[0]}
	# PostgreSQL <= 15: "test name ... ok" (or indented inside parallel groups);
	# PostgreSQL >= 16: TAP, "ok 1 - name" / "not ok 1 - name".
	p=$(grep -cE '^(test +|[[:space:]]+)?[^[:space:]]+ +\.\.\. ok|^ok [0-9]+ +[-+] |\.\.\. failed \(ignored\)' "$BEDLOG_TMP/regress.log")
	f=$(grep -cE '^(test +|[[:space:]]+)?[^[:space:]]+ +\.\.\. FAILED|^not ok [0-9]+ ' "$BEDLOG_TMP/regress.log")
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		record regress 0 1 "no test ran, make exit $rc"
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		record regress "$p" 1 "make exit $rc"
	else
		record regress "$p" "$f"
	fi
	if [ -s "$ROOT/regression.diffs" ]; then
		section "regression.diffs (first 300 lines)"
		head -n 300 "$ROOT/regression.diffs"
	fi
	if [ "$rc" -ne 0 ] && [ -n "${BEDLOG_PGDIR:-}" ] && [ -f "$BEDLOG_PGDIR/postgres.log" ]; then
		section "postgres.log (last 40 lines)"
		tail -n 40 "$BEDLOG_PGDIR/postgres.log"
	fi
else
	record regress 0 1 "not run: $([ "$build_ok" = 1 ] && echo "rig failed" || echo "build failed")"
fi

# ---- the Grafana dashboard, against the same rig and cluster ----
if [ -z "${BEDLOG_REGRESS:-}" ] || [ "${BEDLOG_GRAFANA:-0}" = 1 ]; then
	if [ "$build_ok" = 1 ] && [ "$regress_ready" = 1 ]; then
		export BEDLOG_MONTH_MANIFEST=$BEDLOG_FIXTURES/month.manifest.json
		run_suite grafana test/grafana/run.sh pg
		# the same dashboard over the month as a CloudWatch Logs group
		export BEDLOG_GRAFANA_SOURCE=cloudwatch
		run_suite grafana_cw test/grafana/run.sh pg
		unset BEDLOG_GRAFANA_SOURCE
	else
		record grafana 0 1 "not run: $([ "$build_ok" = 1 ] && echo "rig failed" || echo "build failed")"
	fi
fi

# ---- a subset of pg_regress against a real S3 server (Ceph radosgw) ----
if { [ -z "${BEDLOG_REGRESS:-}" ] && [ -z "${BEDLOG_CHROOT:-}" ] && [ "${BEDLOG_RADOSGW:-1}" != 0 ]; } || [ "${BEDLOG_RADOSGW:-0}" = 1 ]; then
	if [ "$build_ok" = 1 ] && [ "$regress_ready" = 1 ]; then
		export BEDLOG_TMP
		run_suite radosgw test/radosgw/run.sh
	else
		record radosgw 0 1 "not run: $([ "$build_ok" = 1 ] && echo "rig failed" || echo "build failed")"
	fi
fi

# ---- the Debian package, built, installed into a fresh cluster, queried (same rig) ----
if [ -z "${BEDLOG_REGRESS:-}" ] || [ "${BEDLOG_PACKAGE:-0}" = 1 ]; then
	if [ "$build_ok" = 1 ] && [ "$regress_ready" = 1 ]; then
		run_suite package test/package/run.sh
	else
		record package 0 1 "not run: $([ "$build_ok" = 1 ] && echo "rig failed" || echo "build failed")"
	fi
fi

section "summary"
for l in "${summary[@]}"; do
	echo "$l"
done
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
