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
# shellcheck source=test/tally.sh
. "$root/test/tally.sh"
build="$here/build"
CC=${CC:-cc}

if [ "${SANITIZE:-0}" = 1 ]; then
	CFLAGS="-std=c99 -Wall -Wextra -Werror -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
	suffix=-san
else
	CFLAGS="-std=c99 -Wall -Wextra -Werror -O2 -g"
	suffix=
fi

mkdir -p "$build"
passed=0
failed=0

# build NAME SOURCE [LIBS]: compile one program with src/jsonscan.c
build() {
	name=$1
	src=$2
	shift 2
	if ! $CC $CFLAGS -I"$root/src" -o "$build/$name$suffix" \
		"$root/src/jsonscan.c" "$src" "$@" 2>"$build/$name$suffix.log"; then
		cat "$build/$name$suffix.log"
		echo "FAIL build: $name"
		failed=$((failed + 1))
		return 1
	fi
	return 0
}

# run NAME ARGS...: run a test program, pass its report through, add up
# its "RESULT ... passed=N failed=M" line; a crash counts as a failure
run() {
	name=$1
	shift
	out="$build/$name$suffix.out"
	"$build/$name$suffix" "$@" >"$out" 2>&1
	tally "$name" "$out" $?
}

if build unit "$here/unit.c"; then
	run unit
fi

if ! printf '#include <jansson.h>\n' | $CC -E -x c - >/dev/null 2>&1; then
	echo "FAIL diff: jansson is not installed (apt-get install -y libjansson-dev)"
	failed=$((failed + 1))
else
	if build diff "$here/diff.c" -ljansson; then
		run diff "$root/test/fixtures/examples" ${DIFF_DOCS:-20000}
	fi
	if build jsonscan_bench "$root/bench/jsonscan_bench.c" -ljansson; then
		if [ "${BENCH:-0}" = 1 ]; then
			"$build/jsonscan_bench$suffix"
		fi
	fi
fi

echo "jsonscan: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
