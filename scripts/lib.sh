# shellcheck shell=bash
# lib.sh: shell functions for bedlog_fdw's demo and tests.  Source it:
#
#     . scripts/lib.sh
#     trap cleanup_all EXIT
#     bedlog_build_install
#     s3_start              # s3rver on 127.0.0.1:45711, proxy.js on 127.0.0.1:45712
#     s3_load DIR           # DIR/<bucket>/<key>  (or: s3_load DIR BUCKET)
#     pg_start              # throwaway cluster on 127.0.0.1:45710; exports PGHOST PGPORT PGUSER
#     pg_start_aux          # a second one on 45717 whose only AWS identity is IMDS
#     pg_start_aux webid    # a third on 45719 whose only one is a web identity (EKS)
#
# Design notes.  Every server binds 127.0.0.1 only and ends by itself: the
# node servers exit when the shell that started them exits (they watch their
# parent) or after three hours; PostgreSQL is stopped by cleanup_all, which
# the caller runs from an EXIT trap.  Pid files and the temporary directories
# of a run are recorded under $BEDLOG_RUN_DIR, so a run that was killed
# leaves nothing that the next run cannot find and stop first.  Start the
# servers from the script's own shell, not from $( ) or a pipeline: a
# subshell that exits would take them with it.

BEDLOG_ROOT=${BEDLOG_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
PG_MAJOR=${PG_MAJOR:-15}
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/$PG_MAJOR/bin}
PG_CONFIG=${PG_CONFIG:-$PG_BINDIR/pg_config}
BEDLOG_RUN_DIR=${BEDLOG_RUN_DIR:-/tmp/bedlog-run}
S3RVER_PORT=${S3RVER_PORT:-45711}
S3_PROXY_PORT=${S3_PROXY_PORT:-45712}
S3_PROXY_TLS_PORT=${S3_PROXY_TLS_PORT:-45713}
BEDLOG_PGPORT=${BEDLOG_PGPORT:-45710}
BEDLOG_AUX_PGPORT=${BEDLOG_AUX_PGPORT:-45717}
BEDLOG_WEBID_PGPORT=${BEDLOG_WEBID_PGPORT:-45719}
META_PORT=${META_PORT:-45716}
STS_PORT=${STS_PORT:-45714}
CWLOGS_PORT=${CWLOGS_PORT:-45730}
S3_ENDPOINT="http://127.0.0.1:$S3_PROXY_PORT" # what the extension talks to
S3_DIRECT="http://127.0.0.1:$S3RVER_PORT"     # s3rver itself, for loading
S3_LIFETIME=${S3_LIFETIME:-10800}
PYTHON_BOTO=${PYTHON_BOTO:-/usr/bin/python3} # Debian's python3 has python3-botocore
export PG_CONFIG

bedlog_log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# pg_exec CMD [ARGS...]: run CMD on the PostgreSQL side, in the current
# directory.  That is this machine, or, when BEDLOG_CHROOT names a root made
# by scripts/pg-chroot.sh (another PostgreSQL major), that root, where /tmp
# and the project are at the same paths as here.  Everything that builds,
# installs or runs PostgreSQL goes through it (make, initdb, pg_ctl,
# pg_regress, dpkg); the S3 rig, Python and psql stay on this machine.
pg_exec() {
	if [ -n "${BEDLOG_CHROOT:-}" ]; then
		chroot "$BEDLOG_CHROOT" /bin/sh -c 'cd "$1" && shift && exec "$@"' pg_exec "$PWD" "$@"
	else
		"$@"
	fi
}

# Is pid $1 alive and is its command line matching $2?
_bedlog_pid_is() {
	local pid=$1 pat=$2
	[ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] &&
		{ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -q -- "$pat"
}

# Stop the process whose pid is in file $1 if its command line matches $2.
_bedlog_kill_pidfile() {
	local f=$1 pat=$2 pid
	[ -f "$f" ] || return 0
	pid=$(head -n1 "$f" 2>/dev/null)
	if _bedlog_pid_is "$pid" "$pat"; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do
			_bedlog_pid_is "$pid" "$pat" || break
			sleep 0.1
		done
		_bedlog_pid_is "$pid" "$pat" && kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$f"
}

# Wait until URL $1 answers HTTP at all (any status), for $2 seconds (20).
bedlog_wait_http() {
	local url=$1 secs=${2:-20}
	for _ in $(seq 1 $((secs * 10))); do
		if curl -s -o /dev/null --max-time 2 "$url"; then
			return 0
		fi
		sleep 0.1
	done
	bedlog_log "no answer from $url after ${secs}s"
	return 1
}

# Build and install the extension with warnings as errors, on the
# PostgreSQL side (pg_exec).  The objects of a build for another major (or
# in another root) are cleaned first.
bedlog_build_install() {
	local stamp=$BEDLOG_ROOT/.bedlog-build-for want="$PG_MAJOR ${BEDLOG_CHROOT:-host}"
	bedlog_log "build and install (PG_CONFIG=$PG_CONFIG${BEDLOG_CHROOT:+, in $BEDLOG_CHROOT})"
	if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
		pg_exec make -C "$BEDLOG_ROOT" clean PG_CONFIG="$PG_CONFIG" >/dev/null || return 1
		echo "$want" >"$stamp"
	fi
	pg_exec make -C "$BEDLOG_ROOT" -j2 PG_CONFIG="$PG_CONFIG" COPT=-Werror &&
		pg_exec make -C "$BEDLOG_ROOT" install PG_CONFIG="$PG_CONFIG" COPT=-Werror
}

# Keep the rig's ports (45710-45739) out of the kernel's range of ephemeral
# ports, so that no outgoing connection of the tests holds one as its source
# port when a server binds it (they are inside the default 32768-60999).
# Root only, and a no-op when already done or not allowed.
bedlog_reserve_ports() {
	local f=/proc/sys/net/ipv4/ip_local_reserved_ports cur
	[ -w "$f" ] || return 0
	cur=$(cat "$f" 2>/dev/null) || return 0
	case ",$cur," in *,45710-45739,*) return 0 ;; esac
	echo "${cur:+$cur,}45710-45739" >"$f" 2>/dev/null || true
}

# Start s3rver (data in $1, default a fresh temporary directory), the
# fault-injecting proxy in front of it, metadata.js (127.0.0.1:45716, the
# stand-in for EC2 instance metadata and the container credentials
# endpoint) and sts.py (127.0.0.1:45714, the stand-in for STS, which checks
# signatures with botocore's signer).  Waits until they answer.  The proxy
# checks SigV4 signatures (s3rver does not) unless S3_VERIFY_SIGV4=0;
# S3_PROXY_ARGS adds proxy options (e.g. --latency-ms 20).
s3_start() {
	local data=${1:-}
	mkdir -p "$BEDLOG_RUN_DIR"
	bedlog_reserve_ports
	s3_stop
	if [ ! -x "$BEDLOG_ROOT/test/s3/node_modules/.bin/s3rver" ]; then
		bedlog_log "test/s3/node_modules missing: running scripts/deps.sh"
		bash "$BEDLOG_ROOT/scripts/deps.sh" || return 1
	fi
	if [ -z "$data" ]; then
		data=$(mktemp -d /tmp/bedlog-s3.XXXXXX)
		echo "$data" >"$BEDLOG_RUN_DIR/s3.dir" # removed by s3_stop
	fi
	mkdir -p "$data"
	local verify=--verify-sigv4
	[ "${S3_VERIFY_SIGV4:-1}" = 0 ] && verify=
	# a throwaway CA and a certificate for 127.0.0.1 and localhost, so that
	# the proxy also serves HTTPS (port $S3_PROXY_TLS_PORT) for TLS tests
	local tlsdir=$BEDLOG_RUN_DIR/tls
	rm -rf "$tlsdir"
	if true; then
		mkdir -p "$tlsdir"
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=bedlog test CA" \
			-keyout "$tlsdir/ca.key" -out "$tlsdir/ca.crt" >/dev/null 2>&1 &&
			openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
				-keyout "$tlsdir/server.key" -out "$tlsdir/server.csr" >/dev/null 2>&1 &&
			printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$tlsdir/ext.cnf" &&
			openssl x509 -req -in "$tlsdir/server.csr" -CA "$tlsdir/ca.crt" -CAkey "$tlsdir/ca.key" \
				-CAcreateserial -days 2 -extfile "$tlsdir/ext.cnf" -out "$tlsdir/server.crt" >/dev/null 2>&1 ||
			{ echo "could not make a test certificate" >&2; return 1; }
		chmod 755 "$tlsdir"
		chmod 644 "$tlsdir/ca.crt"
	fi
	NODE_OPTIONS=--openssl-legacy-provider node "$BEDLOG_ROOT/test/s3/s3rver.js" \
		--directory "$data" --bind 127.0.0.1 --port "$S3RVER_PORT" \
		--max-lifetime "$S3_LIFETIME" --pid-file "$BEDLOG_RUN_DIR/s3rver.pid" \
		>"$BEDLOG_RUN_DIR/s3rver.log" 2>&1 &
	echo $! >"$BEDLOG_RUN_DIR/s3rver.pid"
	disown $! 2>/dev/null || true
	NODE_OPTIONS=--openssl-legacy-provider node "$BEDLOG_ROOT/test/s3/proxy.js" \
		--bind 127.0.0.1 --port "$S3_PROXY_PORT" --target "127.0.0.1:$S3RVER_PORT" \
		--bucket-region eu-logs=eu-west-1 --max-lifetime "$S3_LIFETIME" \
		--pid-file "$BEDLOG_RUN_DIR/proxy.pid" $verify ${S3_PROXY_ARGS:-} --private-bucket private-logs --role-bucket role-logs \
		--tls-port "$S3_PROXY_TLS_PORT" --tls-cert "$tlsdir/server.crt" --tls-key "$tlsdir/server.key" \
		>"$BEDLOG_RUN_DIR/proxy.log" 2>&1 &
	echo $! >"$BEDLOG_RUN_DIR/proxy.pid"
	disown $! 2>/dev/null || true
	node "$BEDLOG_ROOT/test/s3/metadata.js" --bind 127.0.0.1 --port "$META_PORT" \
		--max-lifetime "$S3_LIFETIME" --pid-file "$BEDLOG_RUN_DIR/metadata.pid" \
		>"$BEDLOG_RUN_DIR/metadata.log" 2>&1 &
	echo $! >"$BEDLOG_RUN_DIR/metadata.pid"
	disown $! 2>/dev/null || true
	"$PYTHON_BOTO" "$BEDLOG_ROOT/test/s3/sts.py" --bind 127.0.0.1 --port "$STS_PORT" \
		--max-lifetime "$S3_LIFETIME" --pid-file "$BEDLOG_RUN_DIR/sts.pid" \
		>"$BEDLOG_RUN_DIR/sts.log" 2>&1 &
	echo $! >"$BEDLOG_RUN_DIR/sts.pid"
	disown $! 2>/dev/null || true
	# the CloudWatch Logs stand-in; its group bedrock/logs holds the records
	# of the fixture bucket logs, when the fixtures are there
	local groups=()
	[ -n "${BEDLOG_FIXTURES:-}" ] && [ -d "$BEDLOG_FIXTURES/logs" ] &&
		groups=(--group "bedrock/logs=$BEDLOG_FIXTURES/logs")
	"$PYTHON_BOTO" "$BEDLOG_ROOT/test/cwlogs/responder.py" --bind 127.0.0.1 --port "$CWLOGS_PORT" \
		--max-lifetime "$S3_LIFETIME" --pid-file "$BEDLOG_RUN_DIR/cwlogs.pid" "${groups[@]}" \
		>"$BEDLOG_RUN_DIR/cwlogs.log" 2>&1 &
	echo $! >"$BEDLOG_RUN_DIR/cwlogs.pid"
	disown $! 2>/dev/null || true
	if ! bedlog_wait_http "$S3_DIRECT/" 30 || ! bedlog_wait_http "$S3_ENDPOINT/__bedlog/stats" 30 ||
		! bedlog_wait_http "http://127.0.0.1:$META_PORT/__meta/stats" 30 ||
		! bedlog_wait_http "http://127.0.0.1:$STS_PORT/__sts/stats" 30 ||
		! bedlog_wait_http "http://127.0.0.1:$CWLOGS_PORT/__cw/stats" 60; then
		cat "$BEDLOG_RUN_DIR/s3rver.log" "$BEDLOG_RUN_DIR/proxy.log" "$BEDLOG_RUN_DIR/metadata.log" \
			"$BEDLOG_RUN_DIR/sts.log" "$BEDLOG_RUN_DIR/cwlogs.log" >&2
		return 1
	fi
	bedlog_log "s3rver on $S3_DIRECT, proxy on $S3_ENDPOINT (data in $data)"
}

# Stop s3rver and the proxy; remove the temporary data directory.
s3_stop() {
	_bedlog_kill_pidfile "$BEDLOG_RUN_DIR/cwlogs.pid" "responder.py"
	_bedlog_kill_pidfile "$BEDLOG_RUN_DIR/sts.pid" "sts.py"
	_bedlog_kill_pidfile "$BEDLOG_RUN_DIR/metadata.pid" "metadata.js"
	_bedlog_kill_pidfile "$BEDLOG_RUN_DIR/proxy.pid" "proxy.js"
	_bedlog_kill_pidfile "$BEDLOG_RUN_DIR/s3rver.pid" "s3rver.js"
	_bedlog_rm_recorded_dir s3
}

# _bedlog_rm_recorded_dir NAME: remove the temporary directory
# /tmp/bedlog-NAME.* recorded in $BEDLOG_RUN_DIR/NAME.dir, and the record.
_bedlog_rm_recorded_dir() {
	local rec=$BEDLOG_RUN_DIR/$1.dir d
	[ -f "$rec" ] || return 0
	d=$(cat "$rec")
	case "$d" in /tmp/bedlog-"$1".*) rm -rf "$d" ;; esac
	rm -f "$rec"
}

# Upload DIR/<bucket>/<key> (or, with a bucket name, DIR/<key>) to s3rver.
s3_load() {
	local dir=$1 bucket=${2:-}
	if [ -n "$bucket" ]; then
		"$PYTHON_BOTO" "$BEDLOG_ROOT/tools/s3load.py" --endpoint "$S3_DIRECT" --bucket "$bucket" --quiet "$dir"
	else
		"$PYTHON_BOTO" "$BEDLOG_ROOT/tools/s3load.py" --endpoint "$S3_DIRECT" --quiet "$dir"
	fi
}

# bedlog_rig_sql LOCATION: the SQL that sets bedlog_fdw up against the S3
# rig: the extension, a server "bedrock" on $S3_ENDPOINT with the rig's
# keys, and IMPORT FOREIGN SCHEMA of the table model_invocations over
# LOCATION (s3://bucket/prefix/).
bedlog_rig_sql() {
	cat <<-EOF
		CREATE EXTENSION bedlog_fdw;
		CREATE SERVER bedrock FOREIGN DATA WRAPPER bedlog_fdw
		  OPTIONS (endpoint '$S3_ENDPOINT', aws_region 'us-east-1');
		CREATE USER MAPPING FOR CURRENT_USER SERVER bedrock
		  OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER');
		IMPORT FOREIGN SCHEMA bedrock FROM SERVER bedrock INTO public
		  OPTIONS (location '$1');
	EOF
}

# Proxy counters as JSON; reset them.
s3_stats() { curl -s "$S3_ENDPOINT/__bedlog/stats"; }
s3_reset() { curl -s -o /dev/null -X POST "$S3_ENDPOINT/__bedlog/reset"; }

# The AWS environment of the test clusters' server process, one NAME=VALUE a
# line, for `env`: every instance-credential source points at a test fixture
# (test/s3/aws/, copied to $1: the shared credentials and config files, the
# latter's profiles with roles, a web identity token file and a
# credential_process) or at metadata.js on loopback, and the AWS_*
# variables of the caller's own environment are left out.  pg_start gives the
# main cluster all four sources (environment variables, shared credentials
# file, container endpoint with an EKS token file, IMDS); pg_start_aux
# (with $2 = imds) gives its cluster instance metadata alone, and with
# $2 = webid a web identity alone (EKS IRSA: a token file, which
# sql/sts.sql rewrites, and the role sts.py lets it assume).
_bedlog_aws_env() {
	local awsdir=$1 which=${2:-all} v
	for v in $(env | grep -oE '^AWS_[A-Z0-9_]+'); do
		printf -- '-u\n%s\n' "$v"
	done
	if [ "$which" = all ]; then
		grep -E '^AWS_[A-Z_]+=' "$BEDLOG_ROOT/test/s3/aws/environment"
		echo "AWS_SHARED_CREDENTIALS_FILE=$awsdir/credentials"
		echo "AWS_CONFIG_FILE=$awsdir/config"
		echo "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:$META_PORT/v1/credentials"
		echo "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=$awsdir/pod-token"
	else
		echo "AWS_SHARED_CREDENTIALS_FILE=$awsdir/no-such-file"
		echo "AWS_CONFIG_FILE=$awsdir/no-such-config"
	fi
	if [ "$which" = webid ]; then
		echo "AWS_WEB_IDENTITY_TOKEN_FILE=$awsdir/web-identity-token"
		echo "AWS_ROLE_ARN=arn:aws:iam::222222222222:role/bedlog-eks-reader"
		echo "AWS_ROLE_SESSION_NAME=bedlog-eks-pod"
		echo "AWS_EC2_METADATA_DISABLED=true"
	fi
	echo "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:$META_PORT"
}

# Start a throwaway PostgreSQL cluster: initdb as the postgres OS user in a
# temporary directory, trust authentication, 127.0.0.1 and a unix socket in
# that directory, port 45710.  Exports PGHOST PGPORT PGUSER PGDATABASE.  Its
# server process gets the test AWS environment (_bedlog_aws_env).
pg_start() {
	mkdir -p "$BEDLOG_RUN_DIR"
	pg_stop
	local dir runas=()
	dir=$(mktemp -d /tmp/bedlog-pg.XXXXXX)
	echo "$dir" >"$BEDLOG_RUN_DIR/pg.dir"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres:postgres "$dir"
		runas=(runuser -u postgres --)
	fi
	if ! pg_exec "${runas[@]}" "$PG_BINDIR/initdb" -D "$dir/data" --auth=trust -U postgres \
		--encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1; then
		cat "$dir/initdb.log" >&2
		return 1
	fi
	cat >>"$dir/data/postgresql.conf" <<-EOF
		listen_addresses = '127.0.0.1'
		port = $BEDLOG_PGPORT
		unix_socket_directories = '$dir'
		fsync = off
		synchronous_commit = off
		full_page_writes = off
		max_connections = 30
		shared_buffers = 128MB
		log_min_messages = warning
		log_min_error_statement = error
		log_line_prefix = '%m [%p] '
		timezone = 'UTC'
		log_timezone = 'UTC'
	EOF
	# copies of the fresh cluster for pg_start_aux
	cp -a "$dir/data" "$dir/aux"
	cp -a "$dir/data" "$dir/webid"
	mkdir -p "$dir/aws"
	cp "$BEDLOG_ROOT/test/s3/aws/credentials" "$BEDLOG_ROOT/test/s3/aws/pod-token" \
		"$BEDLOG_ROOT/test/s3/aws/credential-process" "$dir/aws/"
	sed "s#@AWSDIR@#$dir/aws#g" "$BEDLOG_ROOT/test/s3/aws/config" >"$dir/aws/config"
	echo "WebIdTokenOK-first" >"$dir/aws/web-identity-token"
	[ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$dir/aws"
	# pg_cron (postgresql-$PG_MAJOR-cron), when installed: its scheduler
	# lives in the postgres database and connects to run jobs over the socket
	if [ -f "${BEDLOG_CHROOT:-}$(pg_exec "$PG_CONFIG" --pkglibdir)/pg_cron.so" ]; then
		cat >>"$dir/data/postgresql.conf" <<-EOF
			shared_preload_libraries = 'pg_cron'
			cron.database_name = 'postgres'
			cron.host = '$dir'
		EOF
	fi
	local awsenv=()
	mapfile -t awsenv < <(_bedlog_aws_env "$dir/aws" all)
	if ! pg_exec "${runas[@]}" env "${awsenv[@]}" "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null; then
		cat "$dir/postgres.log" >&2
		return 1
	fi
	export PGHOST=$dir PGPORT=$BEDLOG_PGPORT PGUSER=postgres PGDATABASE=postgres
	export BEDLOG_PGDIR=$dir
	bedlog_log "postgres on 127.0.0.1:$PGPORT and $dir (log $dir/postgres.log)"
}

# Start a second, small cluster (a copy of pg_start's fresh one) on port
# 45717 whose server process has no AWS credentials but EC2 instance
# metadata (metadata.js): sql/credentials.sql reaches it with dblink.
# With "webid", a third on 45719 whose only AWS identity is a web
# identity token file (sql/sts.sql).  Stopped by pg_stop.
pg_start_aux() {
	local which=${1:-imds} dir=$BEDLOG_PGDIR runas=() awsenv=() name=aux port=$BEDLOG_AUX_PGPORT
	[ "$which" = webid ] && name=webid port=$BEDLOG_WEBID_PGPORT
	[ -n "$dir" ] && [ -d "$dir/$name" ] || { echo "pg_start_aux: run pg_start first" >&2; return 1; }
	[ "$(id -u)" -eq 0 ] && runas=(runuser -u postgres --)
	cat >>"$dir/$name/postgresql.conf" <<-EOF
		port = $port
		shared_buffers = 16MB
		max_connections = 10
	EOF
	mapfile -t awsenv < <(_bedlog_aws_env "$dir/aws" "$which")
	if ! pg_exec "${runas[@]}" env "${awsenv[@]}" "$PG_BINDIR/pg_ctl" -D "$dir/$name" -l "$dir/$name.log" -w -t 60 start >/dev/null; then
		cat "$dir/$name.log" >&2
		return 1
	fi
	bedlog_log "postgres ($which only) on 127.0.0.1:$port (log $dir/$name.log)"
}

# Stop the cluster started by pg_start (also one left by an earlier run).
pg_stop() {
	[ -f "$BEDLOG_RUN_DIR/pg.dir" ] || return 0
	local dir pid sub runas=()
	dir=$(cat "$BEDLOG_RUN_DIR/pg.dir")
	case "$dir" in /tmp/bedlog-pg.*) ;; *) rm -f "$BEDLOG_RUN_DIR/pg.dir"; return 0 ;; esac
	[ "$(id -u)" -eq 0 ] && runas=(runuser -u postgres --)
	for sub in aux webid; do
		[ -f "$dir/$sub/postmaster.pid" ] || continue
		pg_exec "${runas[@]}" "$PG_BINDIR/pg_ctl" -D "$dir/$sub" -m fast -w -t 30 stop >/dev/null 2>&1 || {
			pid=$(head -n1 "$dir/$sub/postmaster.pid" 2>/dev/null)
			_bedlog_pid_is "$pid" postgres && kill -9 "$pid" 2>/dev/null || true
		}
	done
	if [ -f "$dir/data/postmaster.pid" ]; then
		pg_exec "${runas[@]}" "$PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || {
			pid=$(head -n1 "$dir/data/postmaster.pid" 2>/dev/null)
			_bedlog_pid_is "$pid" postgres && kill -9 "$pid" 2>/dev/null || true
		}
	fi
	rm -rf "$dir"
	rm -f "$BEDLOG_RUN_DIR/pg.dir"
}

# Stop everything this run (or a killed earlier run) started.
cleanup_all() {
	local rc=$?
	pg_stop || true
	s3_stop || true
	if [ -n "${BEDLOG_TMP:-}" ]; then
		case "$BEDLOG_TMP" in /tmp/bedlog-*) rm -rf "$BEDLOG_TMP" ;; esac
	fi
	return $rc
}
