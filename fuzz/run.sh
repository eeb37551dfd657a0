#!/usr/bin/env bash
#
# fuzz/run.sh -- build and run the libFuzzer harnesses of the two
# PostgreSQL-independent modules, src/jsonscan.c and src/sigv4.c, under
# AddressSanitizer + UndefinedBehaviorSanitizer (LeakSanitizer included).
#
# Usage (from anywhere):
#   bash fuzz/run.sh                    # 1800 s per harness (both at once)
#   FUZZ_SECONDS=60 bash fuzz/run.sh    # quick run
#
# Environment:
#   FUZZ_SECONDS  time budget per harness, seconds (default 1800)
#   FUZZ_WORKDIR  work directory (default: a new /tmp/bedlog-fuzz.XXXXXX)
#
# Installs clang, libclang-rt-14-dev (libFuzzer and sanitizer runtimes on
# Debian 12) and libssl-dev when missing (apt-get, via sudo when not root).
# The seed corpora in fuzz/corpus/ are copied into the work directory;
# the committed ones are never modified.  Both harnesses run in parallel
# (2 cores) with -max_len=65536 -timeout=10 -rss_limit_mb=2048.  Logs,
# grown corpora and artifacts stay in the work directory; crash, leak,
# timeout and OOM reproducers are also copied to fuzz/crashes/<harness>/.
# At the end it prints, per harness: runs, seconds, the coverage of the
# final libFuzzer stats line and "crashes: N", and it exits non-zero if
# any harness crashed, leaked or produced a sanitizer report.
#
# Reproduce an artifact:  <workdir>/bin/fuzz_jsonscan <artifact>
#
set -u

FUZZ_SECONDS=${FUZZ_SECONDS:-1800}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
work=${FUZZ_WORKDIR:-$(mktemp -d /tmp/bedlog-fuzz.XXXXXX)}
mkdir -p "$work"

# --- tools -----------------------------------------------------------------
need=()
command -v clang >/dev/null 2>&1 || need+=(clang)
for p in libclang-rt-14-dev libssl-dev; do
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
set +e

# --- run (both at once) -----------------------------------------------------
harnesses="jsonscan sigv4"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "work dir: $work   FUZZ_SECONDS=$FUZZ_SECONDS"
for h in $harnesses; do
	rm -rf "$work/corpus/$h" "$work/artifacts/$h"
	mkdir -p "$work/corpus/$h" "$work/artifacts/$h"
	cp "$here/corpus/$h"/* "$work/corpus/$h/"
	(
		TIMEFORMAT='%U %S %R'
		{ time (
			"$work/bin/fuzz_$h" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
				-max_total_time="$FUZZ_SECONDS" -print_final_stats=1 \
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
