#!/bin/sh
# The historian against the real broker, where MQTT alone is not enough.
# Everything runs on the loopback of one network namespace this script
# creates (127.0.0.1:1883 in there), with the hardened configuration of
# scripts/hub-setup.sh.
#
#   resend:  the broker keeps at most 5 messages for an offline session
#            (max_queued_messages 5).  The historian is stopped for 3 s
#            while the simulator publishes 20 readings/s: the broker
#            acknowledges them all to the simulator and drops most of them
#            for the historian.  Back, the historian sees the hole in seq,
#            reports it and publishes a resend request on the node's command
#            topic; the simulator replays those readings from its spool
#            (acknowledged ones are kept there as history, see
#            src/edge/spool.h); the gap closes and the log holds every seq
#            of the run exactly once.  With resend handling disabled on
#            either side, the readings never come back and this fails.
#   share:   two historians in one MQTT 5 shared subscription group split
#            the readings between them (each gets some, together each
#            reading exactly once); a lone group member stopped for a
#            while and restarted gets the readings published meanwhile,
#            also across a reconnect after a broker restart (the session
#            expiry interval must be sent with every CONNECT).
#
# Needs root, mosquitto and mosquitto_passwd; exits 77 otherwise.  About
# 50 s.  WGU_BIN names wgu; wgu-sim and wgu-historian are taken from
# beside it.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/plant.sh
. "$(dirname "$0")/plant.sh"

plant_require_hub
lib_init
# The broker runs as user mosquitto and must reach its files in here.
chmod 711 "$lib_tmp"

ns=rs$$
prefix=plant1/area1/line1
hubdir=$lib_tmp/hub
spool=$lib_tmp/spool
broker_pid='' sim_pid=''

ns_create "$ns" || { not_ok "namespace"; lib_summary; }

sh "$srcdir/scripts/hub-setup.sh" --dir "$hubdir" --vpn-address 127.0.0.1 \
    --nodes edge-01 --topic-prefix "$prefix" >"$lib_tmp/hub-setup.log" 2>&1
if ! grep -q '^max_queued_messages ' "$hubdir/mosquitto.conf"; then
	not_ok "hub-setup"
	lib_summary
fi
# A tiny queue: the broker itself loses what an offline historian missed.
sed -i 's/^max_queued_messages .*/max_queued_messages 5/' \
    "$hubdir/mosquitto.conf"
plant_log_subscriptions

start_broker() { plant_start_broker "$ns"; }

# start_historian NAME [OPTIONS...]: output in NAME.log, pid in $hist_pid.
start_historian() {
	sh_name=$1
	shift
	ip netns exec "$ns" "$HIST" --broker 127.0.0.1 \
	    --password-file "$hubdir/clients/historian.pw" \
	    --topic-prefix "$prefix" --log "$lib_tmp/$sh_name.prod.log" \
	    --color never "$@" >>"$lib_tmp/$sh_name.log" 2>&1 &
	hist_pid=$!
	lib_pids="$lib_pids $hist_pid"
}

# start_sim SPOOL OUT OPTIONS...: node edge-01, 20 readings/s.
start_sim() {
	ss_spool=$1 ss_out=$2
	shift 2
	ip netns exec "$ns" "$SIM" --broker 127.0.0.1 --node-id edge-01 \
	    --password-file "$hubdir/clients/edge-01.pw" \
	    --topic-prefix "$prefix" --rate 20 --cycle 30 --seed 3 \
	    --spool-dir "$ss_spool" "$@" >"$lib_tmp/$ss_out" \
	    2>>"$lib_tmp/sim.log" &
	sim_pid=$!
	lib_pids="$lib_pids $sim_pid"
}

# stop PID: SIGTERM, and reaped within 10 s.
stop() {
	kill -TERM "$1" 2>/dev/null
	wait_exit "$1" 100
}

# generated OUT: what the simulator's summary says node edge-01 generated.
generated() {
	sed -n 's/^edge-01: generated \([0-9]*\),.*/\1/p' "$lib_tmp/$1"
}

# exactly_once N LOG...: the logs together hold seq 1..N of one boot of
# edge-01, each exactly once, in whole lines.
exactly_once() {
	eo_n=$1
	shift
	log_keys "$@" >"$lib_tmp/keys" 2>"$lib_tmp/torn" || return 1
	[ -s "$lib_tmp/torn" ] && { head -n 3 "$lib_tmp/torn"; return 1; }
	[ "$(cut -d' ' -f1,2 "$lib_tmp/keys" | sort -u | wc -l)" = 1 ] || {
		echo "  not one (node, boot)"; return 1; }
	cut -d' ' -f3 "$lib_tmp/keys" | sort -n >"$lib_tmp/seqs"
	seq 1 "$eo_n" | cmp -s - "$lib_tmp/seqs" && return 0
	echo "  expected seq 1..$eo_n once each; got $(wc -l <"$lib_tmp/seqs")" \
	    "lines; missing: $(awk -v n="$eo_n" '{ c[$1]++ } END {
		for (i = 1; i <= n; i++) if (!(i in c)) printf "%d ", i }' \
	    "$lib_tmp/seqs" | cut -c1-60) twice: $(uniq -d "$lib_tmp/seqs" |
	    head -n 5 | tr '\n' ' ')"
	return 1
}

# wait_once SECONDS N LOG...: exactly_once, polled for a while.
wait_once() {
	wo_s=$1
	shift
	wait_until "$wo_s" exactly_once "$@" >/dev/null 2>&1 ||
	    exactly_once "$@"
}

check "broker on 127.0.0.1:1883 in the namespace" start_broker ||
    lib_summary

# ---------------------------------------------------------------- resend
# The replayed readings can overflow the tiny queue too (20 in flight, 5
# queued): what is still missing is asked for again at the next gap
# reports, every 10 s, so the simulator runs long enough to answer two.
start_historian rs
start_sim "$spool" rs-sim.out --duration 28
rs_hist=$hist_pid
# The historian's run and outage are timed: they make the gap.
sleep 3
check "historian stops on SIGTERM" stop "$rs_hist"
sleep 2
start_historian rs
rs_hist=$hist_pid
check "simulator finishes, all acknowledged" wait_exit "$sim_pid" 300
check "simulator: nothing pending or lost" \
    grep -q '^edge-01: generated [0-9]*, acknowledged [0-9]*, pending 0, lost 0 ' \
    "$lib_tmp/rs-sim.out"
rs_n=$(generated rs-sim.out)
echo "  simulator generated ${rs_n:-?} readings"
check "broker dropped messages queued for the offline historian" \
    grep -q 'Outgoing messages are being dropped for client wgu-historian' \
    "$lib_tmp/broker.log"
check "historian reported the gap and requested a resend" \
    grep -q 'GAP [0-9]*\.\.[0-9]*, resend requested' "$lib_tmp/rs.log"
resend_ok() {
	grep -E 'resend request boot [0-9]+ seq [0-9]+\.\.[0-9]+: [1-9][0-9]* readings from the spool' \
	    "$lib_tmp/sim.log"
}
check "the node got the request and replayed readings from its spool" \
    resend_ok
check "log: seq 1..N exactly once after the resend (N generated)" \
    wait_once 20 "${rs_n:-0}" "$lib_tmp/rs.prod.log"
check "historian: the gap closed" grep -q 'late, gap closed' "$lib_tmp/rs.log"
check "historian stops" stop "$rs_hist"
check "historian summary: nothing missing, resend requests counted" sh -c "
    grep 'wgu-historian summary' '$lib_tmp/rs.log' | tail -n 1 |
    grep -q ' [1-9][0-9]* resend requests' &&
    awk '/^wgu-historian summary/ { s = NR } { l[NR] = \$0 }
    END { for (i = s + 2; i in l; i++) if (l[i] ~ /^edge-01 /) {
	split(l[i], f); if (f[7] != 0) exit 1; found = 1 }
	exit !found }' '$lib_tmp/rs.log'"

# ---------------------------------------------------------------- share
# A queue for a long outage again, and none of the sessions above.
check "broker stops" stop "$broker_pid"
sed -i 's/^max_queued_messages .*/max_queued_messages 100000/' \
    "$hubdir/mosquitto.conf"
rm -rf "$hubdir/persist/"*
check "broker restarted" start_broker || lib_summary

# connected NAME GROUP COUNT: NAME's live view shows COUNT connections,
# and the broker has taken COUNT subscriptions of its client (sa: hist-a)
# to GROUP's share (10 s each).
connected() {
	wait_until 10 shared_subscriptions "$1" "$3" &&
	    wait_until 10 broker_subscribed "hist-${1#s}" \
	    "\$share/$2/$prefix/+/telemetry" "$3"
}
shared_subscriptions() {
	[ "$(grep -c '^-- connected to 127.0.0.1:1883, subscribed to \$share/' \
	    "$lib_tmp/$1.log")" -ge "$2" ]
}
lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }

start_historian sa --client-id hist-a --share g1
sa_pid=$hist_pid
start_historian sb --client-id hist-b --share g1
sb_pid=$hist_pid
both_connected() {
	grep -q 'hist-a (p5, c0' "$lib_tmp/broker.log" &&
	    grep -q 'hist-b (p5, c0' "$lib_tmp/broker.log"
}
check "two historians in share group g1 connected (MQTT 5)" \
    wait_until 1 both_connected && connected sa g1 1 && connected sb g1 1
start_sim "$lib_tmp/spool-share" sa-sim.out --count 200
check "simulator finishes, all acknowledged" wait_exit "$sim_pid" 300
sa_n=$(generated sa-sim.out)
check "share: the two logs together hold seq 1..N exactly once" \
    wait_once 10 "${sa_n:-0}" "$lib_tmp/sa.prod.log" "$lib_tmp/sb.prod.log"
echo "  hist-a logged $(lines "$lib_tmp/sa.prod.log"), hist-b" \
    "$(lines "$lib_tmp/sb.prod.log") of ${sa_n:-?}"
check "share: both members got a share" sh -c "
    [ $(lines "$lib_tmp/sa.prod.log") -ge 20 ] &&
    [ $(lines "$lib_tmp/sb.prod.log") -ge 20 ]"
check "share: members stop" sh -c "kill -TERM $sa_pid $sb_pid"
wait_exit "$sa_pid" 100
wait_exit "$sb_pid" 100

# A lone member of g2: its session must outlive a reconnect (the broker
# restarts under it) and then a crash of the historian.
start_historian sc --client-id hist-c --share g2
sc_pid=$hist_pid
check "historian in share group g2 connected" connected sc g2 1
check "broker stops (sessions saved)" stop "$broker_pid"
check "broker restarted" start_broker
check "historian reconnected to the restarted broker" connected sc g2 2
kill -KILL "$sc_pid"
wait "$sc_pid" 2>/dev/null
start_sim "$lib_tmp/spool-share2" sc-sim.out --count 60
check "simulator finishes while the historian is down" \
    wait_exit "$sim_pid" 300
sc_n=$(generated sc-sim.out)
check "nothing logged while the historian was down" \
    [ "$(lines "$lib_tmp/sc.prod.log")" = 0 ]
start_historian sc --client-id hist-c --share g2
sc_pid=$hist_pid
check "session kept across reconnect and restart: seq 1..N arrive" \
    wait_once 10 "${sc_n:-0}" "$lib_tmp/sc.prod.log"
check "historian stops" stop "$sc_pid"

lib_summary
