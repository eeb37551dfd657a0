# shellcheck shell=bash
# rgw.sh: a throwaway Ceph cluster with its S3 gateway (radosgw) on
# 127.0.0.1, for the radosgw stage of the tests.  Source it after lib.sh:
#
#     . scripts/lib.sh
#     . scripts/rgw.sh
#     rgw_start             # mon, one OSD, radosgw on 127.0.0.1:45720
#     rgw_load DIR          # DIR/<bucket>/<key>  (or: rgw_load DIR BUCKET)
#     rgw_stop
#
# Design notes.  One monitor, one OSD that keeps its objects in memory
# (memstore), no manager, no authentication between the daemons (auth
# none), pools of one replica: the smallest cluster radosgw runs on.  The
# S3 side is real: radosgw verifies SigV4 with the test user's keys
# (S3RVER/S3RVER, as the SQL tests' user mappings have them) and answers
# listings itself.  radosgw's monitor client defaults to the "secure"
# messenger mode, which cannot work with auth none (it loops on
# "get_initial_auth_request returned -13"), so its section sets crc.
# Everything binds 127.0.0.1 within ports 45720-45729 (HTTP 45720, the
# monitor 45721, the OSD's messengers 45722-45729).  Data, logs and
# admin sockets live in a fresh /tmp/bedlog-rgw.XXXXXX; pid files under
# $BEDLOG_RUN_DIR, where rgw_stop finds what a killed earlier run left.
# A watchdog (a small shell loop in its own session) stops the daemons and
# removes the data when the shell that called rgw_start exits, or after
# $S3_LIFETIME seconds, like the node servers' --max-lifetime.

RGW_PORT=${RGW_PORT:-45720}
RGW_MON_PORT=${RGW_MON_PORT:-45721}
RGW_ENDPOINT="http://127.0.0.1:$RGW_PORT"
RGW_MEMSTORE_BYTES=${RGW_MEMSTORE_BYTES:-2147483648} # the OSD's in-memory "disk"

# Stop the radosgw cluster (also one left by an earlier, killed run) and
# remove its data directory.
rgw_stop() {
	_bedlog_kill_pidfile "$BEDLOG_RUN_DIR/rgw-watchdog.pid" "bedlog-rgw-watchdog"
	_bedlog_kill_pidfile "$BEDLOG_RUN_DIR/rgw-radosgw.pid" "radosgw"
	_bedlog_kill_pidfile "$BEDLOG_RUN_DIR/rgw-osd.pid" "ceph-osd"
	_bedlog_kill_pidfile "$BEDLOG_RUN_DIR/rgw-mon.pid" "ceph-mon"
	_bedlog_rm_recorded_dir rgw
}

# _rgw_daemon NAME PIDFILE CMD...: start a Ceph daemon in the foreground
# mode (-f), in the background, and record its pid.
_rgw_daemon() {
	local name=$1 pidfile=$2
	shift 2
	"$@" >"$RGW_DIR/log/$name.out" 2>&1 &
	echo $! >"$pidfile"
	disown $! 2>/dev/null || true
}

# Start radosgw and wait until it answers HTTP.  Its port may still be
# held by a socket of the tests that ran before (a client connection whose
# ephemeral port happened to be 45720, or one in TIME-WAIT, up to a
# minute): radosgw then exits with "failed to bind"; start it again, for
# two minutes at most.  The monitor and the OSD retry by themselves
# (ms bind retry count).
_rgw_start_gateway() {
	local pid end=$((SECONDS + 120))
	while :; do
		: >"$RGW_DIR/log/client.rgw.log"
		_rgw_daemon radosgw "$BEDLOG_RUN_DIR/rgw-radosgw.pid" radosgw -c "$RGW_CONF" -f -n client.rgw
		pid=$(cat "$BEDLOG_RUN_DIR/rgw-radosgw.pid")
		while kill -0 "$pid" 2>/dev/null; do
			curl -s -o /dev/null --max-time 2 "$RGW_ENDPOINT/" && return 0
			[ $SECONDS -lt $end ] || break
			sleep 0.2
		done
		if [ $SECONDS -lt $end ] && grep -q 'failed to bind' "$RGW_DIR/log/client.rgw.log"; then
			bedlog_log "radosgw: 127.0.0.1:$RGW_PORT is still in use; trying again in 5s"
			sleep 5
			continue
		fi
		bedlog_log "radosgw did not answer on $RGW_ENDPOINT"
		return 1
	done
}

# Start the cluster and create the test user; waits until radosgw answers
# HTTP.  Sets RGW_DIR (the data directory) and RGW_CONF.
rgw_start() {
	local t0 fsid osd_uuid osd_id run=$BEDLOG_RUN_DIR
	t0=$(date +%s.%N)
	mkdir -p "$run"
	rgw_stop
	if ! command -v radosgw >/dev/null || ! command -v ceph-mon >/dev/null || ! command -v ceph-osd >/dev/null; then
		bedlog_log "radosgw, ceph-mon or ceph-osd missing: running scripts/deps.sh"
		bash "$BEDLOG_ROOT/scripts/deps.sh" || return 1
	fi
	RGW_DIR=$(mktemp -d /tmp/bedlog-rgw.XXXXXX)
	echo "$RGW_DIR" >"$run/rgw.dir"
	RGW_CONF=$RGW_DIR/ceph.conf
	mkdir -p "$RGW_DIR/mon" "$RGW_DIR/osd/ceph-0" "$RGW_DIR/run" "$RGW_DIR/log"
	fsid=$(cat /proc/sys/kernel/random/uuid)
	osd_uuid=$(cat /proc/sys/kernel/random/uuid)
	cat >"$RGW_CONF" <<-EOF
		[global]
		fsid = $fsid
		mon host = [v2:127.0.0.1:$RGW_MON_PORT]
		public addr = 127.0.0.1
		ms bind msgr1 = false
		ms bind ipv6 = false
		ms bind port min = $((RGW_MON_PORT + 1))
		ms bind port max = $((RGW_PORT + 9))
		ms bind retry count = 30
		ms bind retry delay = 4
		auth cluster required = none
		auth service required = none
		auth client required = none
		auth allow insecure global id reclaim = true
		osd pool default size = 1
		osd pool default min size = 1
		osd pool default pg num = 8
		osd pool default pgp num = 8
		osd pool default pg autoscale mode = off
		mon allow pool size one = true
		mon max pg per osd = 1000
		mon warn on pool no redundancy = false
		osd crush chooseleaf type = 0
		run dir = $RGW_DIR/run
		admin socket = $RGW_DIR/run/\$name.asok
		log file = $RGW_DIR/log/\$name.log
		log to stderr = false
		err to stderr = true
		keyring = /dev/null
		[mon]
		mon data = $RGW_DIR/mon/\$cluster-\$id
		mon cluster log file = $RGW_DIR/log/cluster.log
		[osd]
		osd data = $RGW_DIR/osd/\$cluster-\$id
		osd objectstore = memstore
		memstore device bytes = $RGW_MEMSTORE_BYTES
		osd crush update on start = true
		[client]
		ms mon client mode = crc
		[client.rgw]
		rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
		rgw dns name = localhost
		rgw thread pool size = 32
	EOF
	local ceph=(-c "$RGW_CONF")
	if ! monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$RGW_MON_PORT]" \
		--enable-all-features --set-min-mon-release pacific "$RGW_DIR/monmap" >"$RGW_DIR/log/mkfs.log" 2>&1 ||
		! ceph-mon "${ceph[@]}" --mkfs -i a --monmap "$RGW_DIR/monmap" >>"$RGW_DIR/log/mkfs.log" 2>&1; then
		cat "$RGW_DIR/log/mkfs.log" >&2
		return 1
	fi
	_rgw_daemon mon "$run/rgw-mon.pid" ceph-mon "${ceph[@]}" -f -i a
	# the watchdog: ends the daemons with the calling shell or after the
	# lifetime ($1 lifetime, $2 the shell, $3 the run dir, $4 the data)
	local watchdog='
		end=$((SECONDS + $1)) shell=$2 run=$3 data=$4
		while kill -0 "$shell" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 2; done
		stop() {
			local n p
			for n in radosgw:rgw-radosgw ceph-osd:rgw-osd ceph-mon:rgw-mon; do
				p=$(head -n1 "$run/${n#*:}.pid" 2>/dev/null) || continue
				tr "\0" " " <"/proc/$p/cmdline" 2>/dev/null | grep -q -- "${n%%:*}" &&
					kill "-$1" "$p" 2>/dev/null
			done
		}
		stop TERM
		sleep 3
		stop KILL
		rm -rf "$data"
		rm -f "$run/rgw.dir" "$run"/rgw-*.pid'
	setsid bash -c 'exec -a bedlog-rgw-watchdog bash -c "$1" bedlog-rgw-watchdog "${@:2}"' _ \
		"$watchdog" "$S3_LIFETIME" "$$" "$run" "$RGW_DIR" </dev/null >/dev/null 2>&1 &
	echo $! >"$run/rgw-watchdog.pid"
	disown $! 2>/dev/null || true
	if ! osd_id=$(timeout 60 ceph "${ceph[@]}" --connect-timeout 30 osd new "$osd_uuid" 2>>"$RGW_DIR/log/mkfs.log"); then
		bedlog_log "the monitor did not answer"
		cat "$RGW_DIR/log/mkfs.log" >&2
		tail -n 20 "$RGW_DIR/log/mon.a.log" >&2
		return 1
	fi
	if ! ceph-osd "${ceph[@]}" -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" >>"$RGW_DIR/log/mkfs.log" 2>&1; then
		cat "$RGW_DIR/log/mkfs.log" >&2
		return 1
	fi
	_rgw_daemon osd "$run/rgw-osd.pid" ceph-osd "${ceph[@]}" -f -i "$osd_id"
	if ! _rgw_start_gateway; then
		tail -n 30 "$RGW_DIR/log/client.rgw.log" "$RGW_DIR/log/osd.$osd_id.log" >&2
		return 1
	fi
	if ! radosgw-admin "${ceph[@]}" user create --uid bedlog --display-name "bedlog tests" \
		--access-key S3RVER --secret S3RVER >"$RGW_DIR/log/user.log" 2>&1; then
		cat "$RGW_DIR/log/user.log" >&2
		return 1
	fi
	bedlog_log "radosgw on $RGW_ENDPOINT (data in $RGW_DIR, started in $(awk -v a="$t0" -v b="$(date +%s.%N)" \
		'BEGIN { printf "%.1f", b - a }')s, $(rgw_rss_mib) MiB resident)"
}

# Upload DIR/<bucket>/<key> (or, with a bucket name, DIR/<key>) to radosgw.
rgw_load() {
	local dir=$1 bucket=${2:-}
	"$PYTHON_BOTO" "$BEDLOG_ROOT/tools/s3load.py" --endpoint "$RGW_ENDPOINT" ${bucket:+--bucket "$bucket"} --quiet "$dir"
}

# Resident memory of the radosgw cluster's daemons, in MiB.
rgw_rss_mib() {
	local f pid kb=0 k
	for f in rgw-mon rgw-osd rgw-radosgw; do
		pid=$(head -n1 "$BEDLOG_RUN_DIR/$f.pid" 2>/dev/null) || continue
		k=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
		kb=$((kb + ${k:-0}))
	done
	echo $((kb / 1024))
}
