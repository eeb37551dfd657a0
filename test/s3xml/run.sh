#!/bin/sh
#
# run.sh
#	Build and run the tests of src/s3xml.c (S3's XML answers): unit.c
#	(table-driven cases) and diff.py (differential test against Python's
#	xml.etree over the fuzzer's seed corpus and a seeded random corpus of
#	listing pages and error bodies, through s3xml_cli.c).
#
#	SANITIZE=1 builds with ASan and UBSan (any report aborts the program,
#	which then counts as a failure).  CC picks the compiler (default cc);
#	DIFF_DOCS the size of the random corpus (default 10000).
#	Prints failing cases, then exactly one line
#	"s3xml: N passed, N failed"; exits 0 iff nothing failed.
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

if ! XML2_CFLAGS=$(xml2-config --cflags) || ! XML2_LIBS=$(xml2-config --libs); then
	echo "FAIL build: libxml2 is not installed (apt-get install -y libxml2-dev)"
	echo "s3xml: 0 passed, 1 failed"
	exit 1
fi

# build NAME SOURCE: compile one program with src/s3xml.c
build() {
	name=$1
	src=$2
	# shellcheck disable=SC2086
	if ! $CC $CFLAGS -I"$root/src" $XML2_CFLAGS -o "$build/$name$suffix" \
		"$root/src/s3xml.c" "$src" $XML2_LIBS 2>"$build/$name$suffix.log"; then
		cat "$build/$name$suffix.log"
		echo "FAIL build: $name"
		failed=$((failed + 1))
		return 1
	fi
	return 0
}

# run NAME COMMAND...: run a test, pass its report through, add up its
# "RESULT ... passed=N failed=M" line; a crash counts as a failure
run() {
	name=$1
	shift
	out="$build/$name$suffix.out"
	"$@" >"$out" 2>&1
	tally "$name" "$out" $?
}

if build unit "$here/unit.c"; then
	run unit "$build/unit$suffix"
fi
if build s3xml_cli "$here/s3xml_cli.c"; then
	rm -rf "$build/diff-docs"
	run diff python3 "$here/diff.py" "$build/s3xml_cli$suffix" \
		"$root/fuzz/corpus/s3xml" "$build/diff-docs" "${DIFF_DOCS:-10000}"
	rm -rf "$build/diff-docs"
	# bytes libxml2 cannot decode from the declared encoding: the parser
	# says MALFORMED and prints nothing (inside the server, stderr is the
	# server's log)
	printf '<?xml version="1.0" encoding="SHIFT_JIS"?>\n<ListBucketResult>\377\377\377\377</ListBucketResult>' \
		>"$build/bad-encoding.xml"
	"$build/s3xml_cli$suffix" "$build/bad-encoding.xml" >"$build/bad-encoding.out" 2>"$build/bad-encoding.err"
	if [ -s "$build/bad-encoding.err" ] || ! grep -q '^MALFORMED' "$build/bad-encoding.out"; then
		echo "FAIL bad-encoding: $(head -c 300 "$build/bad-encoding.err") $(head -c 100 "$build/bad-encoding.out")"
		failed=$((failed + 1))
	else
		passed=$((passed + 1))
	fi
fi

echo "s3xml: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
