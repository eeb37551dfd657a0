#!/usr/bin/env bash
#
# fuzz/run.sh -- build and run the libFuzzer harnesses of the
# PostgreSQL-independent modules, src/jsonscan.c, src/sigv4.c and
# src/s3xml.c, under AddressSanitizer + UndefinedBehaviorSanitizer
# (LeakSanitizer included).
#
# Usage (from anywhere):
#   bash fuzz/run.sh                          # every harness, 1800 s each, all at once
#   FUZZ_SECONDS=60 bash fuzz/run.sh s3xml    # one harness for 60 s
#   bash fuzz/run.sh jsonscan sigv4           # a selection
#
# Harnesses: jsonscan, sigv4, s3xml (fuzz/fuzz_<name>.c).
#
# Environment:
#   FUZZ_SECONDS  time budget per harness, seconds (default 1800)
#   FUZZ_WORKDIR  work directory (default: a new /tmp/bedlog-fuzz.XXXXXX)
#   FUZZ_FLAGS    extra libFuzzer flags, e.g. "-use_value_profile=1"
#
# Installs clang, libclang-rt-14-dev (libFuzzer and sanitizer runtimes on
# Debian 12), libssl-dev and libxml2-dev when missing (apt-get, via sudo
# when not root).  The seed corpora in fuzz/corpus/<name>/ are copied into
# the work directory; the committed ones are never modified.  A dictionary
# fuzz/<name>.dict is used when there is one.  The chosen harnesses run in
# parallel with -max_len=65536 -timeout=10 -rss_limit_mb=2048.  Logs, grown
# corpora and artifacts stay in the work directory; crash, leak, timeout
# and OOM reproducers are also copied to fuzz/crashes/<harness>/.  At the
# end it prints, per harness, one line: runs, seconds, the cov and ft of
# the final libFuzzer stats line and "crashes: N"; it exits non-zero if
# any harness crashed, leaked or produced a sanitizer report.
#
# Only the project's own code is instrumented: the system's libxml2,
# OpenSSL and libc are not, so for s3xml coverage counts the walk over
# libxml2's tree, not libxml2's parser (which OSS-Fuzz fuzzes).
#
# Reproduce an artifact:  <workdir>/bin/fuzz_<name> <artifact>
#
set -u

FUZZ_SECONDS=${FUZZ_SECONDS:-1800}
FUZZ_FLAGS=${FUZZ_FLAGS:-}
harnesses=${*:-jsonscan sigv4 s3xml}
for h in $harnesses; do
	case $h in
		jsonscan | sigv4 | s3xml) ;;
		*)
			echo "run.sh: unknown harness \"$h\" (jsonscan, sigv4, s3xml)" >&2
			exit 2
			;;
	esac
done
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
work=${FUZZ_WORKDIR:-$(mktemp -d /tmp/bedlog-fuzz.XXXXXX)}
mkdir -p "$work"

# --- tools -----------------------------------------------------------------
need=()
command -v clang >/dev/null 2>&1 || need+=(clang)
for p in libclang-rt-14-dev libssl-dev libxml2-dev; do
	dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	sudo=""
	[ "$(id -u)" -ne 0 ] && sudo=sudo
	echo "installing: ${need[*]}"
	$sudo apt-get update -q && $sudo apt-get install -y -q "${need[@]}" || {
		echo "run.sh: could not install ${need[*]}" >&2
		exit 2
	}
fi

# --- build -----------------------------------------------------------------
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I $repo/src"
mkdir -p "$work/bin"
set -e
clang $CFLAGS "$here/fuzz_jsonscan.c" "$repo/src/jsonscan.c" -o "$work/bin/fuzz_jsonscan"
clang $CFLAGS "$here/fuzz_sigv4.c" "$repo/src/sigv4.c" -lcrypto -o "$work/bin/fuzz_sigv4"
clang $CFLAGS $(xml2-config --cflags) "$here/fuzz_s3xml.c" "$repo/src/s3xml.c" \
	$(xml2-config --libs) -o "$work/bin/fuzz_s3xml"
set +e

# --- run (the chosen harnesses at once) ----------------------------------------
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "work dir: $work   FUZZ_SECONDS=$FUZZ_SECONDS"
for h in $harnesses; do
	rm -rf "$work/corpus/$h" "$work/artifacts/$h"
	mkdir -p "$work/corpus/$h" "$work/artifacts/$h"
	cp "$here/corpus/$h"/* "$work/corpus/$h/"
	dict=
	[ -f "$here/$h.dict" ] && dict="-dict=$here/$h.dict"
	(
		TIMEFORMAT='%U %S %R'
		{ time (
			# shellcheck disable=SC2086
			"$work/bin/fuzz_$h" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
				-max_total_time="$FUZZ_SECONDS" -print_final_stats=1 $dict $FUZZ_FLAGS \
				-artifact_prefix="$work/artifacts/$h/" \
				"$work/corpus/$h" >"$work/$h.log" 2>&1
			echo $? >"$work/$h.rc"
		) ; } 2>"$work/$h.time"
	) &
	echo "started fuzz_$h (pid $!), log $work/$h.log"
done
wait

# --- report ------------------------------------------------------------------
status=0
echo
for h in $harnesses; do
	log="$work/$h.log"
	rc=$(cat "$work/$h.rc" 2>/dev/null || echo "?")
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	read -r user sys real <"$work/$h.time" 2>/dev/null
	cov=$(grep -E '^#[0-9]+.* cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 |
		sed -E 's/.*(cov: [0-9]+ ft: [0-9]+).*/\1/')
	ncrash=$(find "$work/artifacts/$h" -type f \
		\( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) |
		wc -l)
	reports=$(grep -cE 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error:|SUMMARY: ' "$log")
	printf '%-9s runs: %s  wall seconds: %s  cpu seconds: %s (user %s + sys %s)  %s  crashes: %s  exit: %s\n' \
		"$h" "${runs:-?}" "${real:-?}" \
		"$(awk -v u="${user:-0}" -v s="${sys:-0}" 'BEGIN{printf "%.2f", u+s}')" \
		"${user:-?}" "${sys:-?}" "${cov:-cov: ? ft: ?}" "$ncrash" "$rc"
	if [ "$ncrash" -gt 0 ] || [ "$reports" -gt 0 ] || [ "$rc" != 0 ]; then
		status=1
		mkdir -p "$here/crashes/$h"
		find "$work/artifacts/$h" -type f \
			\( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) \
			-exec cp {} "$here/crashes/$h/" \;
		echo "  see $log; reproducers copied to fuzz/crashes/$h/"
		grep -m1 -E 'ERROR: |runtime error:|SUMMARY: ' "$log" | sed 's/^/  /'
	fi
done
exit $status
