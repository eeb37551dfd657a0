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
unit=s3xml.c
# shellcheck source=test/tally.sh
. "$root/test/tally.sh"

if ! XML2_CFLAGS=$(xml2-config --cflags) || ! XML2_LIBS=$(xml2-config --libs); then
	echo "FAIL build: libxml2 is not installed (apt-get install -y libxml2-dev)"
	echo "s3xml: 0 passed, 1 failed"
	exit 1
fi

# shellcheck disable=SC2086
if build unit "$here/unit.c" $XML2_CFLAGS $XML2_LIBS; then
	run unit "$build/unit$suffix"
fi
# shellcheck disable=SC2086
if build s3xml_cli "$here/s3xml_cli.c" $XML2_CFLAGS $XML2_LIBS; then
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
