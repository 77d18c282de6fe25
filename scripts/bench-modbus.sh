#!/bin/sh
# wgu-modbus's benchmark: one edge polling DEVICES devices x 10 fields
# (holding registers 0..9, int16) at RATE Hz, the devices served by
# SERVERS pymodbus processes (DEVICES/SERVERS devices each, on one port
# each), a broker and wgu-historian, all on the loopback of a network
# namespace this script creates and deletes.  Prints the edge's CPU (user +
# system, % of one core) over the run and whether every poll that read
# its registers is in the historian's log exactly once.
#
#	sudo scripts/bench-modbus.sh [BUILD_DIR] [SECONDS]
#	DEVICES=100 SERVERS=10 RATE=10 (the defaults)
#
# Needs root, mosquitto, python3-pymodbus.  Not part of make check.
set -u
build=${1:-build}
secs=${2:-30}
devices=${DEVICES:-100}
servers=${SERVERS:-10}
rate=${RATE:-10}
srcdir=$(cd "$(dirname "$0")/.." && pwd)
ns=wgumb$$
t=$(mktemp -d /tmp/wgu-bench-modbus.XXXXXX)
chmod 711 "$t"
pids=''
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	sleep 1
	ip netns del "$ns" 2>/dev/null
	rm -rf "$t"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ip netns add "$ns" && ip -n "$ns" link set lo up || exit 1
for u in wgu-historian wgu-modbus; do
	getent passwd "$u" >/dev/null || useradd --system --no-create-home \
	    --shell /usr/sbin/nologin "$u"
done

cat >"$t/mosquitto.conf" <<EOT
listener 1883 127.0.0.1
allow_anonymous true
max_inflight_messages 0
max_queued_messages 100000
EOT
ip netns exec "$ns" mosquitto -c "$t/mosquitto.conf" >"$t/broker.log" 2>&1 &
pids="$pids $!"
i=0
while [ $i -lt "$servers" ]; do
	ip netns exec "$ns" /usr/bin/python3 -c '
import sys
from pymodbus.datastore import (ModbusSequentialDataBlock,
                                ModbusServerContext, ModbusSlaveContext)
from pymodbus.server import StartTcpServer
store = ModbusSlaveContext(hr=ModbusSequentialDataBlock(0, list(range(10)) + [0] * 10),
                           zero_mode=True)
StartTcpServer(context=ModbusServerContext(slaves=store, single=True),
               address=("127.0.0.1", int(sys.argv[1])), allow_reuse_address=True)
' $((15100 + i)) >"$t/plc$i.log" 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
done
sleep 2
mkdir "$t/prod" && chown wgu-historian "$t/prod"
ip netns exec "$ns" "$build/src/wgu-historian" --broker 127.0.0.1 \
    --log "$t/prod/p.log" --color never >/dev/null 2>"$t/historian.log" &
hist=$!
pids="$pids $hist"

{
	printf '[mqtt]\nbroker = 127.0.0.1\nspool-dir = %s/spool\n' "$t"
	d=0
	while [ $d -lt "$devices" ]; do
		printf '[device dev-%03d]\naddress = 127.0.0.1\nport = %d\n' \
		    $d $((15100 + d % servers))
		printf 'interval = %s\ntimeout = 0.05\n' \
		    "$(awk -v r="$rate" 'BEGIN { print 1 / r }')"
		f=0
		while [ $f -lt 10 ]; do
			printf 'field = r%d holding %d int16\n' $f $f
			f=$((f + 1))
		done
		d=$((d + 1))
	done
} >"$t/modbus.conf"
ip netns exec "$ns" "$build/src/wgu-modbus" --config "$t/modbus.conf" \
    >"$t/modbus.out" 2>"$t/modbus.log" &
mb=$!
pids="$pids $mb"
sleep 3
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
c0=$(ticks $mb)
sleep "$secs"
c1=$(ticks $mb)
kill -TERM $mb
while kill -0 $mb 2>/dev/null; do sleep 0.2; done
sleep 3
hz=$(getconf CLK_TCK)
readings=$(awk '/: polls/ { s += $5 } END { print s + 0 }' FS='[ ,]+' \
    "$t/modbus.out")
polls=$(awk '/: polls/ { s += $3 } END { print s + 0 }' FS='[ ,]+' \
    "$t/modbus.out")
logged=$(wc -l <"$t/prod/p.log")
unique=$(sed 's/.*"node_id":"\([^"]*\)","boot_id":\([0-9]*\),"seq":\([0-9]*\).*/\1 \2 \3/' \
    "$t/prod/p.log" | sort -u | wc -l)
echo "devices $devices x 10 fields at $rate Hz, $servers pymodbus servers, ${secs} s measured"
echo "edge CPU: $(awk -v a="$c0" -v b="$c1" -v h="$hz" -v s="$secs" \
    'BEGIN { printf "%.1f", (b - a) / h / s * 100 }')% of one core"
echo "polls $polls, readings $readings, in the hub's log $logged ($unique distinct)"
grep -h ': polls' "$t/modbus.out" | awk -F'[ ,]+' '$5 != $3' | head -3
