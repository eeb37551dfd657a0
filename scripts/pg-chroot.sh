#!/usr/bin/env bash
# pg-chroot.sh: a Debian root with another PostgreSQL major, for the tests.
#
#   scripts/pg-chroot.sh ensure MAJOR     make (or reuse) the root; print its path
#   scripts/pg-chroot.sh path MAJOR       print the path it has or would have
#   scripts/pg-chroot.sh mount MAJOR      bind the host's /proc, /dev, /tmp and
#                                         the project into it (idempotent)
#   scripts/pg-chroot.sh umount MAJOR     undo mount
#   scripts/pg-chroot.sh remove MAJOR     delete the root
#
# Debian 12's own archive has PostgreSQL 15 only; 17 comes from trixie and
# 18 from unstable (sid), both reached through the host's Debian mirror.  The
# root is a `debootstrap --variant=minbase` tree under
# $BEDLOG_CHROOT_DIR (/var/cache/bedlog/chroot), kept between runs: a second
# `ensure` only checks it and installs what is missing.  It holds what
# building and running the extension needs (the server, its headers, the
# libraries, pg_buildext and debhelper for the package) and nothing of the
# test rig: s3rver, the proxy and the Python loaders stay on the host, and
# reach PostgreSQL in the root over loopback, which a chroot shares.
#
# Paths are the same inside and out: `mount` binds the host's /tmp (the
# clusters and fixtures live there) and the project at its own path, so the
# scripts can hand the same file names to either side.  The root's postgres
# user gets the host's uid and gid, so files made on one side are owned
# right on the other.
#
# Unstable's Release file on the mirror may be past its Valid-Until date:
# apt in the root runs with Acquire::Check-Valid-Until=false.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BEDLOG_CHROOT_DIR=${BEDLOG_CHROOT_DIR:-/var/cache/bedlog/chroot}
MIRROR=${BEDLOG_DEBIAN_MIRROR:-$(sed -n 's/^URIs: *\(http[^ ]*debian\)\/*$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}

log() { printf 'pg-chroot: %s\n' "$*" >&2; }

suite_of() {
	case "$1" in
		15) echo bookworm ;;
		16) echo bookworm ;; # not in any reachable suite; refused below
		17) echo trixie ;;
		18) echo sid ;;
		*) return 1 ;;
	esac
}

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
	exit 2
}

[ $# -eq 2 ] || usage
cmd=$1
major=$2
case "$major" in 17 | 18) ;; *) log "PostgreSQL $major: only 17 (trixie) and 18 (unstable) come in a root; 15 is the host's own"; exit 2 ;; esac
suite=$(suite_of "$major")
dir=$BEDLOG_CHROOT_DIR/pg$major-$suite

apt_in() {
	chroot "$dir" env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 \
		apt-get -o Acquire::Check-Valid-Until=false -o APT::Sandbox::User=root "$@"
}

# scripts/packages.txt, and openssl for the test certificates
mapfile -t pkgs < <(sed -e '/^#/d' -e '/^$/d' -e "s/PGMAJOR/$major/g" "$ROOT/scripts/packages.txt")
pkgs+=(openssl)

is_mounted() { mountpoint -q "$1" 2>/dev/null; }

do_mount() {
	local m
	mkdir -p "$dir/proc" "$dir/dev" "$dir/tmp" "$dir$ROOT"
	is_mounted "$dir/proc" || mount -t proc proc "$dir/proc"
	is_mounted "$dir/dev" || mount --rbind /dev "$dir/dev"
	is_mounted "$dir/tmp" || mount --bind /tmp "$dir/tmp"
	is_mounted "$dir$ROOT" || mount --bind "$ROOT" "$dir$ROOT"
	for m in /etc/resolv.conf; do
		[ -f "$m" ] && cp -L "$m" "$dir$m" 2>/dev/null || true
	done
}

do_umount() {
	local m
	for m in "$dir$ROOT" "$dir/tmp" "$dir/dev" "$dir/proc"; do
		if is_mounted "$m"; then
			umount -R "$m" 2>/dev/null || umount -l -R "$m" 2>/dev/null || true
		fi
	done
}

# Delete the root, never what is bound into it (the host's /tmp and the
# project would go with it): refuse while anything is mounted below it.
safe_remove() {
	do_umount
	if awk -v d="$dir/" 'index($2, d) == 1 { found = 1 } END { exit !found }' /proc/self/mounts; then
		log "something is still mounted under $dir: not deleting it"
		exit 1
	fi
	rm -rf "$dir"
}

ensure() {
	local stamp=$dir/.bedlog-ready missing=() p st uid gid
	if [ "$(id -u)" -ne 0 ]; then
		log "making a root needs root"
		exit 1
	fi
	if [ ! -x "$dir/usr/bin/apt-get" ] || [ ! -e "$dir/.bedlog-bootstrapped" ]; then
		command -v debootstrap >/dev/null || {
			log "installing debootstrap"
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null ||
				{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
		}
		safe_remove
		mkdir -p "$dir"
		log "debootstrap $suite into $dir (from $MIRROR)"
		if ! debootstrap --variant=minbase "$suite" "$dir" "$MIRROR" >"$BEDLOG_CHROOT_DIR/pg$major-debootstrap.log" 2>&1; then
			tail -n 20 "$BEDLOG_CHROOT_DIR/pg$major-debootstrap.log" >&2
			log "debootstrap failed"
			exit 1
		fi
		echo "deb $MIRROR $suite main" >"$dir/etc/apt/sources.list"
		# no default cluster: the tests make their own
		mkdir -p "$dir/etc/postgresql-common"
		echo "create_main_cluster = false" >"$dir/etc/postgresql-common/createcluster.conf"
		# the host's postgres ids, before the server package makes its own
		uid=$(id -u postgres)
		gid=$(id -g postgres)
		chroot "$dir" groupadd -g "$gid" postgres
		chroot "$dir" useradd -u "$uid" -g "$gid" -d /var/lib/postgresql -s /bin/bash -M postgres
		touch "$dir/.bedlog-bootstrapped"
		rm -f "$stamp"
	fi
	do_mount
	for p in "${pkgs[@]}"; do
		st=$(chroot "$dir" dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
		[ "$st" = installed ] || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		log "installing in the root: ${missing[*]}"
		apt_in update -qq
		apt_in install -y -qq --no-install-recommends "${missing[@]}" >"$BEDLOG_CHROOT_DIR/pg$major-apt.log" 2>&1 || {
			tail -n 30 "$BEDLOG_CHROOT_DIR/pg$major-apt.log" >&2
			log "apt-get install failed in the root"
			exit 1
		}
	fi
	[ -x "$dir/usr/lib/postgresql/$major/bin/initdb" ] || { log "no initdb for $major in the root"; exit 1; }
	touch "$stamp"
	echo "$dir"
}

case "$cmd" in
	ensure) ensure ;;
	path) echo "$dir" ;;
	mount) do_mount ;;
	umount) do_umount ;;
	remove) safe_remove ;;
	*) usage ;;
esac
