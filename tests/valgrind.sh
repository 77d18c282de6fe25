#!/bin/sh
# The long-running programs under valgrind: no memory error, no
# definite or indirect leak after a run.
#
#	tests/valgrind.sh BUILDDIR
#
# BUILDDIR is a build WITHOUT sanitizers (valgrind and ASan do not mix),
# e.g. scripts/build.sh build-valgrind.  In network namespaces this script
# creates (every address inside them):
#
#   wgu -f on both ends of a veth: keys and a preshared key set with `wg`,
#       a handshake, pings and 2 MiB of TCP each way through the tunnel, a
#       peer added and removed, a listen-port change; stopped with SIGTERM;
#   a loopback mosquitto (scripts/hub-setup.sh with --vpn-address
#       127.0.0.1): wgu-historian and wgu-sim (3 nodes, 10 readings/s for
#       12 s) through a broker restart and a SIGHUP to the historian;
#       the simulator ends by itself, the historian on SIGTERM.
#
# Each program runs under valgrind --leak-check=full
# --errors-for-leak-kinds=definite,indirect --error-exitcode=99; a test
# fails when valgrind reports an error or a leak, or the program exits
# with any status but 0.  "Still reachable" blocks (libc, libev's and
# libmosquitto's one-time allocations) are not leaks.  About 25 s.
# Needs root, valgrind, wg, mosquitto; exits 77 otherwise.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || { echo "usage: $0 BUILDDIR" >&2; exit 2; }
builddir=$(cd "$1" && pwd) || exit 2
WGU_BIN=$builddir/src/wgu
WGU=$WGU_BIN
lib_require_root
lib_require_cmds valgrind ip wg mosquitto mosquitto_passwd ss perl ping
getent group mosquitto >/dev/null || lib_skip "no mosquitto group"
lib_require_wgu
[ -e /dev/net/tun ] || lib_skip "no /dev/net/tun"
SIM=$builddir/src/wgu-sim
HIST=$builddir/src/wgu-historian
for p in "$SIM" "$HIST"; do
	[ -x "$p" ] || { echo "FAIL: $p is missing"; echo "0 passed, 1 failed"
	    exit 1; }
done
if grep -q __asan_init "$WGU" "$SIM" "$HIST" 2>/dev/null; then
	echo "FAIL: $builddir is a sanitizer build; valgrind needs a plain one"
	echo "0 passed, 1 failed"
	exit 1
fi
srcdir=$(cd "$(dirname "$0")/.." && pwd)
lib_init
chmod 711 "$lib_tmp"		# the broker (user mosquitto) reads its files

tag=$$
na=va$tag nb=vb$tag nm=vm$tag
ia=va$tag ib=vb$tag
prefix=plant1/area1/line1
hubdir=$lib_tmp/hub
VG_STATUS=99

valgrind_cleanup() {
	lib_stop_daemons
	ns_kill "$na" "$nb" "$nm"
	lib_cleanup
}
trap valgrind_cleanup EXIT
lib_sockets="$lib_sockets $ia $ib"

# vg NS NAME PROGRAM ARGS...: PROGRAM under valgrind in NS as our child,
# its pid in $lib_last_pid; valgrind's report in $lib_tmp/NAME.vg, the
# program's output in $lib_tmp/NAME.log.
vg() {
	vg_ns=$1 vg_name=$2
	shift 2
	ip netns exec "$vg_ns" valgrind -q --leak-check=full \
	    --errors-for-leak-kinds=definite,indirect \
	    --show-leak-kinds=definite,indirect \
	    --error-exitcode=$VG_STATUS --track-fds=no --vgdb=no \
	    --log-file="$lib_tmp/$vg_name.vg" "$@" \
	    >"$lib_tmp/$vg_name.log" 2>&1 &
	lib_last_pid=$!
	lib_pids="$lib_pids $lib_last_pid"
}

# clean_exit PID NAME [TENTHS]: the program (already told to stop) exits
# within TENTHS/10 s with status 0 and valgrind reported nothing.
clean_exit() {
	if ! wait_exit "$1" "${3:-300}"; then
		echo "  $2 did not exit"
		return 1
	fi
	ce_rc=0
	[ "$lib_status" -eq 0 ] || { echo "  $2 exited with $lib_status"; ce_rc=1; }
	if [ -s "$lib_tmp/$2.vg" ]; then
		echo "  valgrind on $2:"
		sed 's/^/    /' "$lib_tmp/$2.vg" | head -n 40
		ce_rc=1
	fi
	[ "$ce_rc" -eq 0 ] || { tail -n 5 "$lib_tmp/$2.log" | sed 's/^/    | /'; }
	return "$ce_rc"
}

# wait_uapi IFNAME: valgrind starts slowly; up to 30 s.
wait_uapi() {
	wait_until 30 wg show "$1" >/dev/null 2>&1
}

# ---------------------------------------------------------------- wgu
ns_create "$na" && ns_create "$nb" && ns_create "$nm" &&
    ns_link "$na" "$nb" 192.168.73.1/24 192.168.73.2/24 || {
	not_ok "namespaces"
	lib_summary
}
vg "$na" wgu-a "$WGU" -f "$ia"
pa=$lib_last_pid
vg "$nb" wgu-b "$WGU" -f "$ib"
pb=$lib_last_pid
both_up() { wait_uapi "$ia" && wait_uapi "$ib"; }
check "wgu under valgrind serves its UAPI socket (both ends)" both_up ||
    lib_summary
pub_a=$(genkey a) && pub_b=$(genkey b) && genkey c >/dev/null &&
    (umask 077; wg genpsk >"$lib_tmp/psk") &&
wg set "$ia" private-key "$lib_tmp/a.key" listen-port 51820 \
    peer "$pub_b" preshared-key "$lib_tmp/psk" allowed-ips 10.9.0.2/32 &&
wg set "$ib" private-key "$lib_tmp/b.key" \
    peer "$pub_a" preshared-key "$lib_tmp/psk" allowed-ips 10.9.0.0/24 \
    endpoint 192.168.73.1:51820 &&
ip -n "$na" addr add 10.9.0.1/24 dev "$ia" && ip -n "$na" link set "$ia" up &&
ip -n "$nb" addr add 10.9.0.2/24 dev "$ib" && ip -n "$nb" link set "$ib" up
check "handshake and ping through the tunnel" sh -c "
    ip netns exec $nb ping -q -c 3 -i 0.3 -w 20 10.9.0.1 >/dev/null"
check "2 MiB edge to hub" transfer "$nb" "$na" 10.9.0.1 5001 2097152
check "2 MiB hub to edge" transfer "$na" "$nb" 10.9.0.2 5002 2097152
check "a peer added and removed, listen-port changed" sh -c "
    wg set $ia peer \$(wg pubkey <'$lib_tmp/c.key') \
    allowed-ips 10.9.0.3/32 endpoint 192.168.73.9:1 &&
    ip netns exec $na ping -q -c 1 -W 1 10.9.0.3 >/dev/null 2>&1;
    wg set $ia peer \$(wg pubkey <'$lib_tmp/c.key') remove &&
    wg set $ib listen-port 51822 &&
    ip netns exec $nb ping -q -c 2 -i 0.3 -w 10 10.9.0.1 >/dev/null"
check "a handshake happened" sh -c "
    [ \"\$(wg show $ia latest-handshakes | awk '{ print \$2 }')\" -gt 0 ]"
kill -TERM "$pa" "$pb"
check "wgu (hub end): clean exit, no valgrind error or leak" \
    clean_exit "$pa" wgu-a
check "wgu (edge end): clean exit, no valgrind error or leak" \
    clean_exit "$pb" wgu-b

# ---------------------------------------------------------------- MQTT
sh "$srcdir/scripts/hub-setup.sh" --dir "$hubdir" \
    --nodes edge-01,edge-02,edge-03 --vpn-address 127.0.0.1 \
    --topic-prefix "$prefix" >"$lib_tmp/hub-setup.log" 2>&1 || {
	not_ok "hub-setup"
	lib_summary
}
start_broker() {
	ip netns exec "$nm" mosquitto -c "$hubdir/mosquitto.conf" \
	    >>"$lib_tmp/broker.log" 2>&1 &
	broker_pid=$!
	lib_pids="$lib_pids $broker_pid"
	wait_until 10 listens "$nm" 1883
}
check "broker on 127.0.0.1:1883" start_broker
prod=$lib_tmp/industrial_production.log
# A signing key: checkpoints every second, at the SIGHUP and at exit.
check "wgu-historian keygen" sh -c "'$HIST' keygen '$lib_tmp' >/dev/null"
vg "$nm" historian "$HIST" --broker 127.0.0.1 \
    --password-file "$hubdir/clients/historian.pw" --topic-prefix "$prefix" \
    --log "$prod" --checkpoint-interval 1 --color never
ph=$lib_last_pid
wait_until 30 grep -q 'subscribed to' "$lib_tmp/historian.log"
vg "$nm" sim "$SIM" --broker 127.0.0.1 --node-id edge --nodes 3 \
    --password-file "$hubdir/clients/sensors.pw" --topic-prefix "$prefix" \
    --rate 10 --cycle 10 --duration 12 --spool-dir "$lib_tmp/spool"
ps_=$lib_last_pid
# A schedule, not conditions: 4 s of readings, the broker down for 1 s,
# 2 s more before the historian's SIGHUP.
sleep 4
kill -TERM "$broker_pid"
wait_exit "$broker_pid" 100
sleep 1
check "broker restarted" start_broker
sleep 2
kill -HUP "$ph"
check "wgu-sim: finishes, clean exit, no valgrind error or leak" \
    clean_exit "$ps_" sim 900
check "wgu-sim: nothing pending, nothing lost" sh -c "
    [ \$(grep -c 'pending 0, lost 0 ' '$lib_tmp/sim.log') = 3 ]"
wait_until 10 has_lines "$prod" 360
check "wgu-historian: logged all 360 readings" sh -c "
    [ \$(wc -l <'$prod') -eq 360 ]"
kill -TERM "$ph"
check "wgu-historian: clean exit, no valgrind error or leak" \
    clean_exit "$ph" historian
check "wgu-historian verify: the log intact against its checkpoints" sh -c "
    '$HIST' verify '$prod' | grep -q '^wgu-historian verify: 360 lines .* intact'"

lib_summary
