#!/bin/sh
# wgu-modbus's benchmark over the tunnel: one edge polling DEVICES devices
# x 10 fields (holding registers 0..9, int16) at RATE Hz, in the plant of
# the system tests (tests/plant.sh: hub and edge namespaces, a real wgu
# tunnel between them, the hardened broker and wgu-historian in the hub).
# The devices are served by SERVERS pymodbus processes in the edge's
# namespace (DEVICES/SERVERS devices each, one port each; a device is one
# connection).  Prints the polls the schedule asks for, the polls made,
# the readings, whether every spooled reading is in the hub's log exactly
# once, and the CPU (user + system, % of one core, from /proc/PID/stat) of
# the edge program, the pymodbus servers, the edge's wgu, the broker and
# the historian over the SECONDS measured.
#
#	sudo scripts/bench-modbus.sh [BUILD_DIR] [SECONDS]
#	DEVICES=100 SERVERS=10 RATE=10 TIMEOUT=0.1 (the defaults)
#	PERF=FILE: perf record -g of wgu-modbus for 10 s after the measure
#
# Needs root, /dev/net/tun, mosquitto, python3-pymodbus.  Not part of make
# check (it takes SECONDS + about 30 s).
set -u
build=$(cd "${1:-build}" && pwd) || exit 1
secs=${2:-60}
devices=${DEVICES:-100}
servers=${SERVERS:-10}
rate=${RATE:-10}
timeout=${TIMEOUT:-0.1}
WGU_BIN=$build/src/wgu
WGU_SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
export WGU_BIN WGU_SRCDIR
# shellcheck source=tests/lib.sh
. "$WGU_SRCDIR/tests/lib.sh"
# shellcheck source=tests/plant.sh
. "$WGU_SRCDIR/tests/plant.sh"

PY=/usr/bin/python3
"$PY" -c 'import pymodbus.server' 2>/dev/null ||
    lib_skip "no pymodbus (python3-pymodbus python3-serial-asyncio)"
plant_require timeout ping nft
MODBUS=$build/src/wgu-modbus
plant_need "$MODBUS"
plant_init b 192.168.84

node_ids() {
	i=0
	while [ $i -lt "$devices" ]; do
		printf 'dev-%03d\n' $i
		i=$((i + 1))
	done
}
plant_tunnel
plant_hub_setup "$(node_ids | paste -sd, -)"
check_or_stop "broker listens on 10.0.0.1:1883" "$lib_tmp/broker.log" \
    plant_start_broker "$hub"
plant_start_historian
check_or_stop "historian subscribed" "$lib_tmp/historian.log" \
    wait_until 10 historian_subscribed

plc_pids=''
i=0
while [ $i -lt "$servers" ]; do
	ip netns exec "$edge" "$PY" -c '
import sys
from pymodbus.datastore import (ModbusSequentialDataBlock,
                                ModbusServerContext, ModbusSlaveContext)
from pymodbus.server import StartTcpServer
store = ModbusSlaveContext(hr=ModbusSequentialDataBlock(0, list(range(10)) + [0] * 10),
                           zero_mode=True)
StartTcpServer(context=ModbusServerContext(slaves=store, single=True),
               address=("127.0.0.1", int(sys.argv[1])), allow_reuse_address=True)
' $((15100 + i)) >"$lib_tmp/plc$i.log" 2>&1 &
	plc_pids="$plc_pids $!"
	lib_pids="$lib_pids $!"
	i=$((i + 1))
done
check_or_stop "pymodbus servers listen" "$lib_tmp/plc0.log" \
    wait_listen "$edge" $((15100 + servers - 1))

{
	printf '[mqtt]\nbroker = 10.0.0.1\npassword-file = %s\n' \
	    "$hubdir/clients/sensors.pw"
	printf 'topic-prefix = %s\nspool-dir = %s\n' "$prefix" "$spool"
	d=0
	while [ $d -lt "$devices" ]; do
		printf '[device dev-%03d]\naddress = 127.0.0.1\nport = %d\n' \
		    $d $((15100 + d % servers))
		printf 'interval = %s\ntimeout = %s\n' \
		    "$(awk -v r="$rate" 'BEGIN { print 1 / r }')" "$timeout"
		f=0
		while [ $f -lt 10 ]; do
			printf 'field = r%d holding %d int16\n' $f $f
			f=$((f + 1))
		done
		d=$((d + 1))
	done
} >"$lib_tmp/modbus.conf"
ip netns exec "$edge" "$MODBUS" --config "$lib_tmp/modbus.conf" \
    >"$lib_tmp/modbus.out" 2>"$lib_tmp/modbus.log" &
mb=$!
lib_pids="$lib_pids $mb"
t_start=$(date +%s%3N)

# ticks PID...: their user + system clock ticks so far.
ticks() {
	for p in "$@"; do cat "/proc/$p/stat"; done 2>/dev/null |
	    awk '{ s += $14 + $15 } END { print s + 0 }'
}
wgu_edge=$(plant_daemon_pid edge)
sleep 5
# shellcheck disable=SC2086 # one word per process
c0_mb=$(ticks $mb) c0_plc=$(ticks $plc_pids) c0_wgu=$(ticks "$wgu_edge")
c0_broker=$(ticks "$broker_pid") c0_hist=$(ticks "$hist_pid")
sleep "$secs"
# shellcheck disable=SC2086 # one word per process
c1_mb=$(ticks $mb) c1_plc=$(ticks $plc_pids) c1_wgu=$(ticks "$wgu_edge")
c1_broker=$(ticks "$broker_pid") c1_hist=$(ticks "$hist_pid")
# PERF=FILE: a profile of 10 s more, after the measured time.
[ -n "${PERF:-}" ] && perf record -g -o "$PERF" -p $mb -- sleep 10 \
    >/dev/null 2>&1
kill -TERM $mb
t_stop=$(date +%s%3N)
check "wgu-modbus stops" wait_exit $mb 150

for n in $(node_ids); do
	awk -v n="$n" '$1 == "R" { print n, $2, $3 }' "$spool/$n/spool.log"
done | sort -u >"$lib_tmp/expected"
wait_until 30 all_logged "$lib_tmp/expected"
log_keys "$prod" >"$lib_tmp/keys" 2>"$lib_tmp/torn"

hz=$(getconf CLK_TCK)
pct() {
	awk -v a="$1" -v b="$2" -v h="$hz" -v s="$secs" \
	    'BEGIN { printf "%.1f", (b - a) / h / s * 100 }'
}
# sum FIELD: the sum of the numbers after FIELD in the source summaries.
sum() {
	sed -n "s/^dev-[0-9]*: polls .*$1 \\([0-9]*\\).*/\\1/p" \
	    "$lib_tmp/modbus.out" | awk '{ s += $1 } END { print s + 0 }'
}
first() {
	sed -n 's/^dev-[0-9]*: polls \([0-9]*\), readings \([0-9]*\),.*/\1 \2/p' \
	    "$lib_tmp/modbus.out"
}
polls=$(first | awk '{ s += $1 } END { print s + 0 }')
readings=$(first | awk '{ s += $2 } END { print s + 0 }')
# Due: from the first poll's reading to the last one's (their device
# timestamps are the polls' start), every device at the rate.
span=$(awk 'match($0, /"timestamp":[0-9]+/) {
	t = substr($0, RSTART + 12, RLENGTH - 12) + 0
	if (lo == "" || t < lo) lo = t
	if (t > hi) hi = t
} END { print hi - lo }' "$prod")
due=$(awk -v s="$span" -v d="$devices" -v r="$rate" \
    'BEGIN { printf "%d", (s / 1000 + 1 / r) * d * r }')
expected=$(wc -l <"$lib_tmp/expected")
distinct=$(sort -u "$lib_tmp/keys" | wc -l)
copies=$(sort "$lib_tmp/keys" | uniq -d | wc -l)
missing=$(comm -23 "$lib_tmp/expected" "$lib_tmp/logged" 2>/dev/null | wc -l)

echo "devices $devices x 10 fields at $rate Hz (timeout $timeout s), $servers pymodbus servers, over the wgu tunnel; ${secs} s measured, $(uptime | sed 's/.*load/load/')"
echo "polls due by the schedule $due (from the first poll to the last, $((span / 1000)) s; the run $(( (t_stop - t_start) / 1000 )) s), polls made $polls, readings $readings"
echo "no answer $(sum 'no answer'), skipped $(sum 'polls skipped')"
echo "spooled $expected, in the hub's log $distinct distinct, $copies logged twice, $missing missing"
echo "CPU, % of one core: wgu-modbus $(pct "$c0_mb" "$c1_mb"), pymodbus (all $servers) $(pct "$c0_plc" "$c1_plc"), edge wgu $(pct "$c0_wgu" "$c1_wgu"), broker $(pct "$c0_broker" "$c1_broker"), historian $(pct "$c0_hist" "$c1_hist")"
echo "target (every poll's reading in the hub's log exactly once, the edge under 10 % of a core): $(
    [ "$expected" -eq "$distinct" ] && [ "$copies" -eq 0 ] &&
    [ "$missing" -eq 0 ] && echo "exactly once: yes" || echo "exactly once: NO"), $(
    awk -v c="$(pct "$c0_mb" "$c1_mb")" 'BEGIN { print (c < 10 ? "CPU: yes" : "CPU: NO") }')"
echo "wgu-modbus's log, lines by kind:"
sed 's/^wgu-modbus: [^:]*: //; s/[0-9][0-9.]*/N/g' "$lib_tmp/modbus.log" |
    sort | uniq -c | sort -rn | head -n 8
check "every spooled reading in the hub's log exactly once" sh -c \
    "[ $expected -eq $distinct ] && [ $copies -eq 0 ] && [ $missing -eq 0 ]"
check "no torn line" none "$lib_tmp/torn"
lib_summary
