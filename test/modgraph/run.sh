#!/bin/sh
#
# run.sh
#	Check that the modules of bedlog_fdw form layers: no cycle in the
#	graph of which object uses a symbol another defines (modgraph.py);
#	and that src/bedlog_fdw.h declares each symbol under the heading of
#	the file that defines it; and, with PG_MAJOR set, that no object catches
#	an error without re-throwing it (FlushErrorState) from 16 on, and only
#	src/skip.c and src/bodies.c before 16.
#
#	Builds nothing: reads the objects of the Makefile's OBJS as the last
#	build left them in the tree (bedlog_fdw.o, src/*.o), so run it after
#	make.  One check per module: built, up to date, and in no cycle; one
#	per group of the header.
#	Prints each cycle with the symbols of its edges, then exactly one line
#	"modgraph: N passed, N failed"; exits 0 iff nothing failed.  -v also
#	prints every module's dependencies.
#
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

if ! command -v nm >/dev/null 2>&1; then
	echo "FAIL nm is not installed (apt-get install -y binutils)"
	echo "modgraph: 0 passed, 1 failed"
	exit 1
fi
exec python3 "$here/modgraph.py" "$root" "$@"
