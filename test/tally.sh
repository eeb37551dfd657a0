# shellcheck shell=bash
# tally.sh: the result counting of the stand-alone C suites' run.sh.
#
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
