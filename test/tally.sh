# shellcheck shell=bash
# tally.sh: what the stand-alone C suites' run.sh (test/jsonscan,
# test/s3xml) share: their build flags, compiling a test program with the
# source file under test, running it, and counting its results.  The
# sourcing script sets $root (the project) and $here (its directory), and
# $unit (the file of src/ under test) before calling build.
#
# After sourcing: $build (here/build), $CC (default cc), $CFLAGS and
# $suffix (SANITIZE=1: ASan and UBSan, any report aborts the program, which
# then counts as a failure; the programs get a -san suffix), and the
# totals $passed and $failed at 0.

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

# build NAME SOURCE [MORE...]: compile $build/NAME$suffix from SOURCE and
# src/$unit; MORE are further compiler arguments (flags, libraries).  A
# build that fails counts as a failure and returns 1.
build() {
	local name=$1 src=$2
	shift 2
	if ! $CC $CFLAGS -I"$root/src" -o "$build/$name$suffix" \
		"$root/src/$unit" "$src" "$@" 2>"$build/$name$suffix.log"; then
		cat "$build/$name$suffix.log"
		echo "FAIL build: $name"
		failed=$((failed + 1))
		return 1
	fi
	return 0
}

# run NAME COMMAND...: run a test, pass its report through, add up its
# "RESULT ... passed=N failed=M" line (tally); a crash counts as a failure.
run() {
	local name=$1 out
	shift
	out="$build/$name$suffix.out"
	"$@" >"$out" 2>&1
	tally "$name" "$out" $?
}

# tally NAME OUT RC: pass OUT (a test program's report) through, add its
# "RESULT ... passed=N failed=M" line to $passed and $failed; a program
# that printed no result, or exited non-zero without a failure, counts as
# one failure.
tally() {
	local name=$1 out=$2 rc=$3 line p f
	grep -v '^RESULT ' "$out"
	line=$(grep '^RESULT ' "$out" | tail -n 1)
	if [ -z "$line" ]; then
		echo "FAIL $name: exited with status $rc without a result"
		failed=$((failed + 1))
		return
	fi
	p=$(echo "$line" | sed -n 's/.* passed=\([0-9]*\).*/\1/p')
	f=$(echo "$line" | sed -n 's/.* failed=\([0-9]*\).*/\1/p')
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $name: exited with status $rc"
		failed=$((failed + 1))
	fi
}
