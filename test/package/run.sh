#!/usr/bin/env bash
# run.sh: the Debian package, built, installed and used.
#
# Builds postgresql-$PG_MAJOR-bedlog-fdw with `dpkg-buildpackage -us -uc -b`
# from a copy of the work tree (its tracked and untracked, not ignored files,
# uncommitted edits included, so the tree itself stays clean), installs the
# .deb, makes a fresh cluster on 127.0.0.1:45718, creates the extension and
# reads generated logs from s3://pkg-logs/ through the S3 rig
# (scripts/test.sh's, or one this script starts when none answers), and
# compares them with the generator's manifest.  Prints
# `package: N passed, N failed` and exits non-zero on failure.
#
# Everything on the PostgreSQL side (dpkg-buildpackage, apt-get, dpkg,
# initdb, pg_ctl, pg_config) goes through pg_exec, so with BEDLOG_CHROOT set
# the package is built for and installed into that root's PostgreSQL
# (PG_MAJOR); psql and Python stay on this machine.
#
# Installing the package replaces the files that `make install` put in the
# same places, under a server other test runs may be using: on this machine
# (no BEDLOG_CHROOT) the test runs only with BEDLOG_PACKAGE_TEST_HOST=1.  At
# exit it removes the package again (unless it was installed before) and,
# if there was a source install before, puts it back with `make install`.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/scripts/lib.sh"

PKG=postgresql-$PG_MAJOR-bedlog-fdw
PKG_PGPORT=${BEDLOG_PACKAGE_PGPORT:-45718}
BUCKET=pkg-logs
pass=0
fail=0

if [ -z "${BEDLOG_CHROOT:-}" ] && [ "${BEDLOG_PACKAGE_TEST_HOST:-0}" != 1 ]; then
	echo "package: skipped: installing $PKG on this machine would replace the extension that"
	echo "  make install put there, under other runs' servers; run with BEDLOG_CHROOT (a root made by"
	echo "  scripts/pg-chroot.sh), or set BEDLOG_PACKAGE_TEST_HOST=1 to install it here"
	echo "package: 0 passed, 0 failed"
	exit 0
fi

# check NAME OK [DETAIL]: count one check
check() {
	if [ "$2" = 1 ]; then
		pass=$((pass + 1))
		echo "ok: $1"
	else
		fail=$((fail + 1))
		echo "FAILED: $1${3:+: $3}"
	fi
}

finish() {
	echo "package: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}

# ---- cleanup: the cluster, the rig if started here, the package, the temp dir ----
work=
pgdir=
started_rig=0
installed_here=0
pkg_before=
source_install=0
pkglibdir=

pkg_stop_cluster() {
	local f=$BEDLOG_RUN_DIR/pkg-pg.dir d
	[ -f "$f" ] || return 0
	d=$(cat "$f")
	case "$d" in /tmp/bedlog-pkg.*) ;; *) rm -f "$f"; return 0 ;; esac
	if [ -f "$d/pg/data/postmaster.pid" ]; then
		(cd / && pg_exec runuser -u postgres -- "$PG_BINDIR/pg_ctl" -D "$d/pg/data" -m fast -w -t 30 stop) >/dev/null 2>&1 || true
	fi
	rm -rf "$d"
	rm -f "$f"
}

pkg_cleanup() {
	local rc=$?
	pkg_stop_cluster
	[ "$started_rig" = 1 ] && s3_stop
	if [ "$installed_here" = 1 ] && [ -z "$pkg_before" ]; then
		echo "removing $PKG again"
		(cd / && pg_exec dpkg -r "$PKG") >/dev/null 2>&1 || echo "could not remove $PKG"
		if [ "$source_install" = 1 ]; then
			echo "putting back the source install (make install)"
			(cd "$ROOT" && pg_exec make install PG_CONFIG="$PG_CONFIG") >/dev/null 2>&1 ||
				echo "make install failed: run it in $ROOT"
		fi
	fi
	if [ -n "$work" ]; then
		case "$work" in /tmp/bedlog-pkg.*) rm -rf "$work" ;; esac
	fi
	return $rc
}
trap pkg_cleanup EXIT
trap 'exit 130' INT TERM

# no AWS identity of the caller's reaches the test server
for v in $(env | grep -oE '^AWS_[A-Z0-9_]+'); do unset "$v"; done

mkdir -p "$BEDLOG_RUN_DIR"
pkg_stop_cluster # one left by a killed run
work=$(mktemp -d /tmp/bedlog-pkg.XXXXXX)
chmod 755 "$work"
echo "$work" >"$BEDLOG_RUN_DIR/pkg-pg.dir"

# ---- sample logs, in the rig ----
if ! python3 "$ROOT/tools/genlogs.py" --out "$work/logs" --bucket "$BUCKET" --prefix bedrock/ \
	--seed 1518 --start 2026-11-01T00 --hours 12 \
	--accounts 111111111111 --regions us-east-1,eu-west-1 \
	--files-per-hour 2 --records-per-file 1-8 --gzip-level 6 \
	--manifest "$work/logs.manifest.json" --quiet; then
	check "generate sample logs" 0
	finish
fi
if ! curl -s -o /dev/null --max-time 2 "$S3_ENDPOINT/__bedlog/stats"; then
	echo "no S3 rig on $S3_ENDPOINT: starting one"
	started_rig=1
	s3_start || { check "start the S3 rig" 0; finish; }
fi
if ! s3_load "$work/logs" "$BUCKET"; then
	check "load the sample into s3://$BUCKET/" 0
	finish
fi
records=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["records"])' "$work/logs.manifest.json")
input_tokens=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["input_tokens"])' "$work/logs.manifest.json")
echo "sample: $records records, $input_tokens input tokens in s3://$BUCKET/bedrock/"

# ---- the version numbers agree ----
# bedlog_fdw.control's default_version (1.1), padded to three parts, is
# META.json's version and the package's upstream version (1.1.0-1)
ext_version=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" "$ROOT/bedlog_fdw.control")
semver=$ext_version
while [ "$(tr -cd . <<<"$semver" | wc -c)" -lt 2 ]; do semver=$semver.0; done
meta_version=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$ROOT/META.json" 2>&1)
deb_version=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$ROOT/debian/changelog")
check "versions agree: control $ext_version, META.json $meta_version, debian/changelog $deb_version" \
	"$([ "$meta_version" = "$semver" ] && [ "${deb_version%-*}" = "$semver" ] && echo 1 || echo 0)"

# ---- build the package from a copy of the work tree ----
mkdir -p "$work/build/src"
(
	cd "$ROOT" &&
		git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			[ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"
		done |
		tar -cf - --null -T - | tar -xf - -C "$work/build/src"
) || { check "copy the work tree" 0; finish; }
echo "building $PKG (log: dpkg-buildpackage.log, shown on failure)"
(
	cd "$work/build/src" &&
		pg_exec env PG_SUPPORTED_VERSIONS="$PG_MAJOR" pg_buildext updatecontrol &&
		pg_exec env PG_SUPPORTED_VERSIONS="$PG_MAJOR" dpkg-buildpackage -us -uc -b -j2
) >"$work/dpkg-buildpackage.log" 2>&1
deb=$(ls "$work/build/${PKG}_"*.deb 2>/dev/null | head -n1)
if [ -z "$deb" ]; then
	tail -n 60 "$work/dpkg-buildpackage.log"
	check "dpkg-buildpackage builds $PKG" 0
	finish
fi
check "dpkg-buildpackage builds $(basename "$deb") ($(stat -c %s "$deb") bytes)" 1

# ---- install it ----
pkglibdir=$(cd / && pg_exec "$PG_CONFIG" --pkglibdir)
pkg_before=$(cd / && pg_exec dpkg-query -W -f='${db:Status-Status}' "$PKG" 2>/dev/null | grep -x installed)
# a source install (make install) to put back at exit: the library there, owned by no package
if [ -z "$pkg_before" ] && (cd / && pg_exec test -f "$pkglibdir/bedlog_fdw.so") &&
	! (cd / && pg_exec dpkg -S "$pkglibdir/bedlog_fdw.so") >/dev/null 2>&1; then
	source_install=1
fi
installed_here=1
if ! (cd "$work/build" && pg_exec env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --reinstall \
	--no-install-recommends -o DPkg::Lock::Timeout=300 -o APT::Sandbox::User=root "./$(basename "$deb")") \
	>"$work/apt.log" 2>&1; then
	tail -n 30 "$work/apt.log"
	check "apt-get install $PKG" 0
	finish
fi
owner=$(cd / && pg_exec dpkg -S "$pkglibdir/bedlog_fdw.so" 2>/dev/null | cut -d: -f1)
check "$pkglibdir/bedlog_fdw.so belongs to $PKG" "$([ "$owner" = "$PKG" ] && echo 1 || echo 0)" "dpkg -S says '${owner:-nothing}'"

# ---- a fresh cluster ----
pgdir=$work/pg
mkdir -p "$pgdir"
chown postgres:postgres "$pgdir"
if ! (cd / && pg_exec runuser -u postgres -- "$PG_BINDIR/initdb" -D "$pgdir/data" --auth=trust -U postgres \
	--encoding=UTF8 --locale=C.UTF-8) >"$work/initdb.log" 2>&1; then
	cat "$work/initdb.log"
	check "initdb" 0
	finish
fi
cat >>"$pgdir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PKG_PGPORT
unix_socket_directories = '$pgdir'
fsync = off
max_connections = 10
shared_buffers = 32MB
timezone = 'UTC'
EOF
if ! (cd / && pg_exec runuser -u postgres -- "$PG_BINDIR/pg_ctl" -D "$pgdir/data" -l "$pgdir/postgres.log" \
	-w -t 60 start) >/dev/null 2>&1; then
	cat "$pgdir/postgres.log"
	check "start a fresh cluster" 0
	finish
fi

q() { psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PKG_PGPORT" -U postgres -d postgres "$@"; }

if ! bedlog_rig_sql "s3://$BUCKET/bedrock/" | q >"$work/setup.log" 2>&1; then
	cat "$work/setup.log"
	check "CREATE EXTENSION, server, user mapping, IMPORT FOREIGN SCHEMA" 0
	finish
fi
got_version=$(q -c "SELECT extversion FROM pg_extension WHERE extname = 'bedlog_fdw'" 2>&1)
check "extension version $ext_version" "$([ "$got_version" = "$ext_version" ] && echo 1 || echo 0)" "got '$got_version'"

got=$(q -c "SELECT count(*) FROM model_invocations" 2>&1)
check "count(*) = $records (the manifest's records)" "$([ "$got" = "$records" ] && echo 1 || echo 0)" "got '$got'"
got=$(q -c "SELECT coalesce(sum(input_token_count), 0) FROM model_invocations" 2>&1)
check "sum(input_token_count) = $input_tokens (the manifest's)" "$([ "$got" = "$input_tokens" ] && echo 1 || echo 0)" "got '$got'"
# the session keeps its S3 connections for the next query, and lists them
got=$(q -c "SELECT count(*) FROM model_invocations" \
	-c "SELECT string_agg(format('%s/%s/%s', server_name, user_name, valid), ',') FROM bedlog_fdw_get_connections()" 2>&1 | tail -n 1)
check "bedlog_fdw_get_connections() lists the session's connection" \
	"$([ "$got" = "bedrock/postgres/t" ] && echo 1 || echo 0)" "got '$got'"

# an installation of the first version updates to this one
got=$(q -c "CREATE DATABASE bedlog_update" &&
	psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PKG_PGPORT" -U postgres -d bedlog_update \
		-c "CREATE EXTENSION bedlog_fdw VERSION '1.0'" -c "ALTER EXTENSION bedlog_fdw UPDATE" \
		-c "SELECT extversion || ',' || bedlog_fdw_disconnect_all() FROM pg_extension WHERE extname = 'bedlog_fdw'" 2>&1)
check "CREATE EXTENSION VERSION '1.0' then ALTER EXTENSION UPDATE gives $ext_version" \
	"$([ "$got" = "$ext_version,false" ] && echo 1 || echo 0)" "got '$got'"

finish
