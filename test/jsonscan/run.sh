#!/bin/sh
#
# run.sh
#	Build and run the jsonscan tests: unit.c (table-driven cases) and
#	diff.c (differential test against jansson over the real records in
#	test/fixtures/examples/ and a generated corpus); also builds
#	bench/jsonscan_bench.c so that it keeps compiling (run it with BENCH=1).
#
#	SANITIZE=1 builds with ASan and UBSan (any report aborts the program,
#	which then counts as a failure).  CC picks the compiler (default cc).
#	Prints failing cases, then exactly one line
#	"jsonscan: N passed, N failed"; exits 0 iff nothing failed.
#
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
unit=jsonscan.c
# shellcheck source=test/tally.sh
. "$root/test/tally.sh"

if build unit "$here/unit.c"; then
	run unit "$build/unit$suffix"
fi

if ! printf '#include <jansson.h>\n' | $CC -E -x c - >/dev/null 2>&1; then
	echo "FAIL diff: jansson is not installed (apt-get install -y libjansson-dev)"
	failed=$((failed + 1))
else
	if build diff "$here/diff.c" -ljansson; then
		run diff "$build/diff$suffix" "$root/test/fixtures/examples" ${DIFF_DOCS:-20000}
	fi
	if build jsonscan_bench "$root/bench/jsonscan_bench.c" -ljansson; then
		if [ "${BENCH:-0}" = 1 ]; then
			"$build/jsonscan_bench$suffix"
		fi
	fi
fi

echo "jsonscan: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
