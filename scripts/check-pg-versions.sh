#!/usr/bin/env bash
# check-pg-versions.sh: compile bedlog_fdw's C files against the server
# headers of other PostgreSQL major versions (warnings as errors).
#
#   scripts/check-pg-versions.sh [options] TREE|DIR ...
#
# Each argument is a PostgreSQL source tree (a git checkout or an unpacked
# release tarball, e.g. of REL_14_STABLE ... REL_18_STABLE), or a directory
# whose immediate subdirectories are such trees.  For each tree it
#
#   1. runs ./configure (only if the tree is not configured yet, or was
#      configured without bison while it still needs it),
#   2. runs `make -C src/backend generated-headers` (errcodes.h, fmgroids.h,
#      probes.h, catalog headers, wait_event_types.h on 17+ ...),
#   3. compiles every object of the extension with that tree's own CC,
#      CFLAGS, CFLAGS_SL, CFLAGS_SL_MODULE and CPPFLAGS (what PGXS would use
#      for that version) plus -Werror, the extension's PG_CPPFLAGS and
#      -I TREE/src/include,
#
# and prints one line per tree, `pgNN: ok` or `pgNN: FAILED`, the latter
# followed by the compiler's messages.  Exits 1 if any tree failed, 2 on a
# usage or setup error.  Objects go to a temporary directory; nothing is
# written into the extension's tree.  A tree is written to (configure output
# and the generated headers), so use throwaway copies.
#
# Needs: gcc (or --cc), make, perl, bison and flex (a git checkout has no
# pre-built parser; on Debian: apt-get install bison flex), libxml2-dev.
# Getting trees from a clone of postgres.git, for example:
#
#   for v in 14 16; do
#       mkdir -p /tmp/pgsrc/$v
#       git -C postgres archive REL_${v}_STABLE | tar -x -C /tmp/pgsrc/$v
#   done
#   scripts/check-pg-versions.sh /tmp/pgsrc
#
# Options:
#   --all            compile bedlog_fdw.c and every src/*.c instead of the
#                    Makefile's OBJS (OBJS is the default: it is what is built)
#   --project DIR    the extension's root (default: this script's parent)
#   --cc CC          compiler to use instead of the tree's configured CC
#   --reconfigure    run configure again even if the tree is configured
#   CONFIGURE_OPTS   environment: configure options (default:
#                    --without-readline --without-icu --with-libxml)
#   EXTRA_CFLAGS     environment: added to every compile (e.g. -std=gnu99)
#
# Not part of the test suite (scripts/test.sh); run it by hand.
set -uo pipefail

PROJECT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ALL=0
CC_OVERRIDE=
RECONFIGURE=0
CONFIGURE_OPTS=${CONFIGURE_OPTS:---without-readline --without-icu --with-libxml}
EXTRA_CFLAGS=${EXTRA_CFLAGS:-}
ARGS=()

usage() {
	sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
		--all) ALL=1 ;;
		--project) PROJECT=$(cd "$2" && pwd) || exit 2; shift ;;
		--cc) CC_OVERRIDE=$2; shift ;;
		--reconfigure) RECONFIGURE=1 ;;
		-h|--help) usage ;;
		--) shift; ARGS+=("$@"); break ;;
		-*) echo "unknown option: $1" >&2; usage ;;
		*) ARGS+=("$1") ;;
	esac
	shift
done
[ ${#ARGS[@]} -gt 0 ] || usage

is_tree() {
	[ -f "$1/configure" ] && [ -f "$1/src/include/postgres.h" ]
}

# The trees named on the command line, in order; a directory that is not a
# tree stands for its subdirectories that are, in version order.
TREES=()
for a in "${ARGS[@]}"; do
	if is_tree "$a"; then
		TREES+=("$(cd "$a" && pwd)")
	elif [ -d "$a" ]; then
		found=0
		while IFS= read -r d; do
			if is_tree "$d"; then
				TREES+=("$(cd "$d" && pwd)")
				found=1
			fi
		done < <(find "$a" -mindepth 1 -maxdepth 1 -type d | sort -V)
		[ $found = 1 ] || { echo "$a: no PostgreSQL source tree in it" >&2; exit 2; }
	else
		echo "$a: not a directory" >&2
		exit 2
	fi
done

# The files to compile: the Makefile's OBJS as .c files, or (--all) every
# bedlog_fdw.c and src/*.c.
FILES=()
if [ $ALL = 1 ]; then
	for f in "$PROJECT"/bedlog_fdw.c "$PROJECT"/src/*.c; do
		[ -f "$f" ] && FILES+=("${f#"$PROJECT"/}")
	done
else
	while IFS= read -r o; do
		[ -n "$o" ] && FILES+=("${o%.o}.c")
	done < <(awk '
		/^OBJS[ \t]*[:+]?=/ { on = 1; sub(/^OBJS[ \t]*[:+]?=/, "") }
		on { line = $0; cont = sub(/\\[ \t]*$/, "", line);
		     n = split(line, w, /[ \t]+/); for (i = 1; i <= n; i++) if (w[i] != "") print w[i];
		     if (!cont) on = 0 }' "$PROJECT/Makefile")
fi
[ ${#FILES[@]} -gt 0 ] || { echo "no C files found under $PROJECT" >&2; exit 2; }

# PG_CPPFLAGS of the Makefile: -I src and libxml2's flags.
XML2_CFLAGS=$(pkg-config --cflags libxml-2.0 2>/dev/null || xml2-config --cflags 2>/dev/null || echo -I/usr/include/libxml2)

OUT=$(mktemp -d /tmp/bedlog-pgcheck.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

# tree_var TREE VAR: the value of VAR in TREE's configured Makefile.global.
# shellcheck disable=SC2016
tree_var() {
	make -s --no-print-directory -C "$1/src" \
		--eval 'bedlog-print-%: ; @echo $($*)' "bedlog-print-$2" 2>/dev/null
}

# prepare TREE: configure if needed, then generate the headers.  Returns
# non-zero (after printing why) if the tree cannot be used.
prepare() {
	local t=$1 need=0
	if [ $RECONFIGURE = 1 ] || [ ! -f "$t/src/Makefile.global" ]; then
		need=1
	elif [ -z "$(tree_var "$t" BISON)" ] && [ ! -f "$t/src/backend/parser/gram.c" ] \
		&& command -v bison >/dev/null; then
		# configured before bison was installed, and a git checkout needs it
		need=1
	fi
	if [ $need = 1 ]; then
		echo "  configuring $t ($CONFIGURE_OPTS)" >&2
		# shellcheck disable=SC2086
		if ! (cd "$t" && ./configure $CONFIGURE_OPTS) >"$t/bedlog-configure.log" 2>&1; then
			echo "  configure failed; last lines of $t/bedlog-configure.log:" >&2
			tail -n 5 "$t/bedlog-configure.log" | sed 's/^/    /' >&2
			return 1
		fi
	fi
	echo "  generating headers in $t" >&2
	if ! make -C "$t/src/backend" generated-headers >"$t/bedlog-headers.log" 2>&1; then
		echo "  make generated-headers failed; last lines of $t/bedlog-headers.log:" >&2
		tail -n 8 "$t/bedlog-headers.log" | sed 's/^/    /' >&2
		if [ ! -f "$t/src/backend/parser/gram.c" ] && ! command -v bison >/dev/null; then
			echo "  (a git checkout needs bison and flex: install them, then rerun)" >&2
		fi
		return 1
	fi
}

failed=0
for t in "${TREES[@]}"; do
	if ! prepare "$t"; then
		echo "pg??: FAILED (could not configure/generate headers in $t)"
		failed=1
		continue
	fi
	major=$(sed -n 's/^#define PG_MAJORVERSION "\(.*\)"/\1/p' "$t/src/include/pg_config.h")
	version=$(sed -n 's/^#define PG_VERSION "\(.*\)"/\1/p' "$t/src/include/pg_config.h")
	label="pg${major:-??}"
	cc=${CC_OVERRIDE:-$(tree_var "$t" CC)}
	cflags="$(tree_var "$t" CFLAGS) $(tree_var "$t" CFLAGS_SL) $(tree_var "$t" CFLAGS_SL_MODULE)"
	cppflags=$(tree_var "$t" CPPFLAGS)
	echo "  compiling ${#FILES[@]} files against PostgreSQL $version ($t) with $cc" >&2
	log="$OUT/$label.log"
	: >"$log"
	bad=0
	for f in "${FILES[@]}"; do
		o="$OUT/$label-$(echo "$f" | tr / _).o"
		# shellcheck disable=SC2086
		if ! (cd "$PROJECT" && $cc $cflags -Werror $EXTRA_CFLAGS \
				-I. -I./src $XML2_CFLAGS -I"$t/src/include" $cppflags \
				-c "$f" -o "$o") >>"$log" 2>&1; then
			bad=$((bad + 1))
		fi
	done
	if [ $bad = 0 ] && [ ! -s "$log" ]; then
		echo "$label: ok"
	else
		echo "$label: FAILED ($bad of ${#FILES[@]} files; PostgreSQL $version, $t)"
		sed 's/^/    /' "$log"
		failed=1
	fi
done
exit $failed
