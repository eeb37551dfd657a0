#!/bin/bash
#
# test/sigv4/run.sh
#	Build and run the SigV4 signer tests: AWS's published vectors
#	(sigv4_test.c) and the differential test against botocore
#	(botocore_diff.py driving sigv4_cli.c).
#
# Prints one line per failed check and ends with exactly one summary line,
# "sigv4: N passed, N failed"; exits 0 iff nothing failed.  SANITIZE=1
# builds with AddressSanitizer and UndefinedBehaviorSanitizer (any report
# aborts the program and counts as a failure).  CC overrides the compiler.
#
# Needs the OpenSSL headers (libssl-dev), Debian's /usr/bin/python3 and
# python3-botocore.

set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build="$here/build"
cc=${CC:-cc}
cflags=(-std=c99 -Wall -Wextra -Werror -pedantic -O1 -g)
if [ "${SANITIZE:-0}" = 1 ]; then
	cflags+=(-fsanitize=address,undefined -fno-omit-frame-pointer
		 -fno-sanitize-recover=all)
	build="$here/build/sanitize"
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi

passed=0
failed=0

# Add the "#counts P F" line of a test's output to the totals, and echo
# everything else (the failure lines).  A missing count line is a failure.
tally()
{
	local name=$1 out=$2 rc=$3 counts
	counts=$(printf '%s\n' "$out" | sed -n 's/^#counts \([0-9]*\) \([0-9]*\)$/\1 \2/p' | tail -n 1)
	printf '%s\n' "$out" | grep -v '^#counts ' | sed '/^$/d'
	if [ -z "$counts" ]; then
		echo "FAIL $name: no result (exit status $rc)"
		failed=$((failed + 1))
		return
	fi
	set -- $counts
	passed=$((passed + $1))
	failed=$((failed + $2))
	if [ "$rc" -ne 0 ] && [ "$2" -eq 0 ]; then
		echo "FAIL $name: exit status $rc with no failed check"
		failed=$((failed + 1))
	fi
}

mkdir -p "$build"
for prog in sigv4_test sigv4_cli; do
	if ! "$cc" "${cflags[@]}" -I"$top/src" -o "$build/$prog" \
		"$here/$prog.c" "$top/src/sigv4.c" -lcrypto; then
		echo "FAIL build of $prog"
		echo "sigv4: $passed passed, $((failed + 1)) failed"
		exit 1
	fi
done

out=$("$build/sigv4_test" 2>&1)
tally sigv4_test "$out" $?

if /usr/bin/python3 -c 'import botocore.auth' 2>/dev/null; then
	out=$(/usr/bin/python3 "$here/botocore_diff.py" "$build/sigv4_cli" 2>&1)
	tally botocore_diff "$out" $?
else
	echo "FAIL botocore_diff: /usr/bin/python3 cannot import botocore (apt-get install python3-botocore)"
	failed=$((failed + 1))
fi

echo "sigv4: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
