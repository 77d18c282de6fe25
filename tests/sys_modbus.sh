#!/bin/sh
# wgu-modbus end to end: Modbus TCP devices in the edge namespace polled
# into the plant's pipeline (tests/plant.sh: wgu tunnel, hardened broker,
# historian).  The PLC is pymodbus (tests/modbus_plc.py), the hostile
# device a small Python server (tests/modbus_hostile.py), both on the
# edge's loopback.
#
#   values:   every data type in every word and byte order, scaled, in the
#             hub's log as the registers hold them; thresholds give status
#             0, 1, 2 (three devices reading the same registers).
#   down:     the PLC stopped for 12 s: a source-down event in the hub's
#             reject log, no reading of that time, then readings and a
#             source-up event again without a restart.
#   hostile:  wrong function code, short frames, exceptions, wrong
#             transaction and unit ids, a response that never ends: the
#             edge keeps running, counts each class, and the hub's log
#             holds only the good value.
#   broker:   the broker stopped, then a second PLC: plc-04's source-down
#             event is spooled, and reaches the hub's reject log once the
#             broker is back; a copy of it, published again before and
#             after a historian restart, is dropped.
#   dead:     a device that accepts connections and never answers (2 s
#             timeout) does not slow a live device polled at 10 Hz in the
#             same process: the live one's readings over a window.
#   events:   malformed events (bad name, another node's id) rejected;
#             every spooled event in the reject log exactly once.
#   NaN:      a float32 NaN gives no reading, one log line, a count.
#   pipeline: every spooled reading in the log exactly once, nothing
#             pending at exit.
#
# Needs root, mosquitto, python3-pymodbus; exits 77 otherwise.  About 80 s.
# WGU_BIN names wgu; wgu-modbus and wgu-historian are taken from beside it.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/plant.sh
. "$(dirname "$0")/plant.sh"

PY=/usr/bin/python3
"$PY" -c 'import pymodbus.server' 2>/dev/null ||
    lib_skip "no pymodbus (python3-pymodbus python3-serial-asyncio)"
plant_require mosquitto_pub timeout ping nft
MODBUS=$(dirname "$WGU")/wgu-modbus
plant_need "$MODBUS"
plant_init m 192.168.81
rejects=$lib_tmp/prod/industrial_production.rejects.log
nodes=plc-01,plc-02,plc-03,bad-01,nan-01,plc-04,fast-01,dead-01

plant_tunnel
plant_hub_setup $nodes
check "broker listens on 10.0.0.1:1883" plant_start_broker "$hub"
plant_start_historian
wait_until 10 historian_subscribed

start_plc() {
	ip netns exec "$edge" "$PY" "$srcdir/tests/modbus_plc.py" 15020 \
	    >>"$lib_tmp/plc.log" 2>&1 &
	plc_pid=$!
	lib_pids="$lib_pids $plc_pid"
	wait_listen "$edge" 15020
}
check "PLC (pymodbus) listens" start_plc
ip netns exec "$edge" "$PY" "$srcdir/tests/modbus_hostile.py" 15021 \
    >"$lib_tmp/hostile.out" 2>>"$lib_tmp/hostile.log" &
hostile_pid=$!
lib_pids="$lib_pids $hostile_pid"
check "hostile server listens" wait_listen "$edge" 15021
ip netns exec "$edge" "$PY" "$srcdir/tests/modbus_plc.py" 15022 \
    >>"$lib_tmp/plc4.log" 2>&1 &
plc4_pid=$!
lib_pids="$lib_pids $plc4_pid"
check "second PLC listens" wait_listen "$edge" 15022
# A device that takes connections and never answers.
ip netns exec "$edge" "$PY" -c '
import socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 15023))
s.listen(1024)
time.sleep(3600)
' >>"$lib_tmp/silent.log" 2>&1 &
lib_pids="$lib_pids $!"
check "silent device listens" wait_listen "$edge" 15023

# Every type and order; the same float with no, a warning and a critical
# threshold on three devices.
fields='field = f_abcd holding 0 float32 abcd
field = f_cdab holding 2 float32 cdab
field = f_badc holding 4 float32 BADC
field = f_dcba holding 6 float32 dcba
field = i_abcd holding 10 int32 abcd
field = i_cdab holding 12 int32 cdab
field = i_badc holding 14 int32 badc
field = i_dcba holding 16 int32 dcba
field = u_abcd holding 20 uint32 scale 0.001
field = u_cdab holding 22 uint32 cdab
field = s16 holding 30 int16 scale 0.1
field = s16_ba holding 32 int16 badc
field = u16 input 0 uint16 scale 0.01 offset -100
field = run coil 0
field = door discrete 0 bit'
cat >"$lib_tmp/modbus.conf" <<EOT
# wgu-modbus for sys_modbus.sh
[mqtt]
broker = 10.0.0.1
password-file = $hubdir/clients/sensors.pw
topic-prefix = $prefix
spool-dir = $spool

[device plc-01]
address = 127.0.0.1
port = 15020
interval = 0.5
timeout = 0.3
$fields

[device plc-02]
address = 127.0.0.1
port = 15020
interval = 0.5
timeout = 0.3
field = f holding 0 float32 warn 100
field = g holding 30 int16 warn 0 crit 1000

[device plc-03]
address = 127.0.0.1
port = 15020
interval = 0.5
timeout = 0.3
field = f holding 0 float32 warn 100 crit 120
field = g holding 30 int16 crit 1000

[device nan-01]
address = 127.0.0.1
port = 15020
interval = 0.5
timeout = 0.3
field = ok holding 30 int16
field = f holding 40 float32

[device bad-01]
address = 127.0.0.1
port = 15021
interval = 0.2
timeout = 0.15
field = x holding 7

[device plc-04]
address = 127.0.0.1
port = 15022
interval = 0.5
timeout = 0.3
field = g holding 30 int16

[device fast-01]
address = 127.0.0.1
port = 15020
interval = 0.1
timeout = 0.1
field = g holding 30 int16

[device dead-01]
address = 127.0.0.1
port = 15023
interval = 2
timeout = 2
field = g holding 30 int16
EOT
check "a bad configuration is refused with FILE:LINE" sh -c "
    printf '[device a]\naddress = h\nfield = x holding 0 float64\n' \
    >'$lib_tmp/bad.conf'
    ! '$MODBUS' --config '$lib_tmp/bad.conf' 2>'$lib_tmp/bad.err' &&
    grep -q '^wgu-modbus: $lib_tmp/bad.conf:3: field x: unknown option' \
    '$lib_tmp/bad.err'"
check "--check accepts the configuration" "$MODBUS" --config \
    "$lib_tmp/modbus.conf" --check
mb_start=$(date +%s%3N)
ip netns exec "$edge" "$MODBUS" --config "$lib_tmp/modbus.conf" \
    >"$lib_tmp/modbus.out" 2>>"$lib_tmp/modbus.log" &
mb_pid=$!
lib_pids="$lib_pids $mb_pid"

# logged_for NODE: how many of NODE's readings the log holds.
logged_for() {
	grep -c "\"node_id\":\"$1\"" "$prod" 2>/dev/null || echo 0
}
check "readings of plc-01 reach the hub" wait_until 20 \
    sh -c "[ \$(grep -c '\"node_id\":\"plc-01\"' '$prod' 2>/dev/null) -ge 5 ]"
check "wgu-modbus runs as user wgu-modbus under seccomp" sh -c "
    [ \"\$(stat -c %U /proc/$mb_pid)\" = wgu-modbus ] &&
    grep -qx 'Seccomp:[[:space:]]*2' /proc/$mb_pid/status"
sleep 2

# ---------------------------------------------------------------- values
check "values: every type and order, scaled, status 0" "$PY" - "$prod" <<'EOT'
import json, sys
want = {"f_abcd": 123.456, "f_cdab": 123.456, "f_badc": 123.456,
        "f_dcba": 123.456, "i_abcd": -123456, "i_cdab": -123456,
        "i_badc": -123456, "i_dcba": -123456, "u_abcd": 3000000.0,
        "u_cdab": 3000000000, "s16": -123.4, "s16_ba": -1234,
        "u16": 550.0, "run": 1, "door": 1}
n = 0
for line in open(sys.argv[1]):
    p = json.loads(line)["payload"]
    if p["node_id"] != "plc-01":
        continue
    n += 1
    d = p["data"]
    assert list(d) == list(want), d
    for k, v in want.items():
        assert abs(d[k] - v) <= 1e-5 * max(1, abs(v)), (k, d[k], v)
    assert p["status"] == 0, p
assert n >= 5, n
EOT
check "thresholds: warning on plc-02, critical on plc-03" sh -c "
    grep '\"node_id\":\"plc-02\"' '$prod' | grep -q '\"status\":1}' &&
    ! grep '\"node_id\":\"plc-02\"' '$prod' | grep -vq '\"status\":1}' &&
    grep '\"node_id\":\"plc-03\"' '$prod' | grep -q '\"status\":2}' &&
    ! grep '\"node_id\":\"plc-03\"' '$prod' | grep -vq '\"status\":2}'"

# ---------------------------------------------------------------- dead
# fast-01 polls at 10 Hz beside dead-01, whose every poll waits 2 s for
# nothing: over 2..7 s after the start, fast-01 is due 50 polls.  Polls
# that block (dead-01's at 0, 2 and 4 s, then its back-off) would have let
# through about 10; at least half is asked.
check "dead device: window over" wait_until 20 sh -c \
    "[ \$(date +%s%3N) -gt $((mb_start + 9000)) ]"
check "dead device does not slow a live one (>= 25 of 50 readings)" \
    "$PY" - "$prod" "$((mb_start + 2000))" "$((mb_start + 7000))" <<'EOT'
import json, sys
lo, hi = int(sys.argv[2]), int(sys.argv[3])
n = sum(1 for line in open(sys.argv[1])
        if json.loads(line)["payload"]["node_id"] == "fast-01"
        and lo <= json.loads(line)["payload"]["timestamp"] < hi)
print(f"    fast-01: {n} readings in 5 s")
assert n >= 25, n
EOT
check "dead device: source-down event" wait_until 10 grep -q \
    "\"topic\":\"$prefix/dead-01/event\",\"reason\":\"event source-down\"" \
    "$rejects"

# ---------------------------------------------------------------- down
kill -TERM "$plc_pid"
wait "$plc_pid" 2>/dev/null
down_from=$(($(date +%s%3N) + 700))
check "source-down event of plc-01 in the hub's log" wait_until 15 \
    grep -q "\"topic\":\"$prefix/plc-01/event\",\"reason\":\"event source-down\"" \
    "$rejects"
check "... and the historian's source-down alarm (issue #15)" wait_until 5 \
    grep -q "ALARM raise #[0-9]* plc-01 source-down critical" \
    "${plant_logs:-$lib_tmp}/historian.log"
sleep 8
down_to=$(date +%s%3N)
check "PLC restarted" start_plc
before=$(logged_for plc-01)
check "readings of plc-01 resume by themselves" wait_until 20 \
    sh -c "[ \$(grep -c '\"node_id\":\"plc-01\"' '$prod') -gt $before ]"
check "source-up event of plc-01 in the hub's log" wait_until 15 \
    grep -q "\"topic\":\"$prefix/plc-01/event\",\"reason\":\"event source-up\"" \
    "$rejects"
check "... which clears the alarm" grep -q \
    "ALARM clear #[0-9]* plc-01 source-down" "${plant_logs:-$lib_tmp}/historian.log"
check "no reading of plc-01 while it was down" "$PY" - "$prod" \
    "$down_from" "$down_to" <<'EOT'
import json, sys
lo, hi = int(sys.argv[2]), int(sys.argv[3])
for line in open(sys.argv[1]):
    p = json.loads(line)["payload"]
    if p["node_id"] == "plc-01":
        assert not lo <= p["timestamp"] <= hi, p["timestamp"]
EOT

# ---------------------------------------------------------------- broker
kill -TERM "$broker_pid"
wait "$broker_pid" 2>/dev/null
kill -TERM "$plc4_pid"
wait "$plc4_pid" 2>/dev/null
check "broker down: plc-04's source-down event spooled" wait_until 15 \
    grep -q '"event":"source-down","node_id":"plc-04"' \
    "$spool/plc-04/events/spool.log"
sleep 1
check "broker back" plant_start_broker "$hub"
check "spooled source-down event of plc-04 in the hub's log" wait_until 30 \
    grep -q "\"topic\":\"$prefix/plc-04/event\",\"reason\":\"event source-down\"" \
    "$rejects"
# plc-04's first event, as the edge spooled and published it.
sed -n 's/^R [0-9]* 1 [0-9]* \(.*\) [0-9a-f]*$/\1/p' \
    "$spool/plc-04/events/spool.log" | head -n 1 | tr -d '\n' \
    >"$lib_tmp/event1"
client_conf c-plc4 plc-04 "$hubdir/clients/plc-04.pw"
publish_copy() {
	ip netns exec "$edge" env XDG_CONFIG_HOME="$lib_tmp/c-plc4" \
	    HOME=/nonexistent mosquitto_pub -i "copy-$$" -h 10.0.0.1 -q 1 \
	    -t "$prefix/plc-04/event" -f "$lib_tmp/event1"
}
# downs_of NODE: the source-down lines of NODE in the reject log.
downs_of() {
	grep -c "\"topic\":\"$prefix/$1/event\",\"reason\":\"event source-down\"" \
	    "$rejects"
}
check "plc-04's first event is event_seq 1 of its boot" grep -q \
    '"event_seq":1,' "$lib_tmp/event1"
publish_copy
check "a copy of a logged event is dropped" wait_until 10 grep -q \
    'duplicate event plc-04' "$plant_logs/historian.log"
check "  ... the event is once in the reject log" [ "$(downs_of plc-04)" = 1 ]
kill -TERM "$hist_pid"
wait "$hist_pid" 2>/dev/null
plant_start_historian
check "historian restarted" wait_until 10 historian_subscribed
publish_copy
check "after a historian restart too (its table from the reject log)" \
    wait_until 10 sh -c "[ \$(grep -c 'duplicate event plc-04' \
    '$plant_logs/historian.log') = 2 ]"
check "  ... the event is still once in the reject log" \
    [ "$(downs_of plc-04)" = 1 ]

# A node's event the historian cannot take is rejected with the reason.
client_conf c-plc plc-01 "$hubdir/clients/plc-01.pw"
for m in '{"event":"Bad Event","node_id":"plc-01"}' \
    '{"event":"source-down","node_id":"plc-02"}'; do
	ip netns exec "$edge" env XDG_CONFIG_HOME="$lib_tmp/c-plc" \
	    HOME=/nonexistent mosquitto_pub -i "check-$$" -h 10.0.0.1 -q 1 \
	    -t "$prefix/plc-01/event" -m "$m"
done
check "historian: malformed events rejected with the reason" wait_until 10 \
    sh -c "grep -q '\"reason\":\"event: needs' '$rejects' &&
    grep -q '\"reason\":\"event: node_id does not match topic\"' '$rejects'"

# ---------------------------------------------------------------- end
check "wgu-modbus still runs after the hostile device" is_running "$mb_pid"
kill -TERM "$mb_pid"
check "wgu-modbus stops on SIGTERM" wait_exit "$mb_pid" 100
kill -TERM "$hostile_pid"
wait "$hostile_pid" 2>/dev/null
cat "$lib_tmp/modbus.out" "$lib_tmp/hostile.out"
check "hostile: only the good value logged" sh -c "
    grep -q '\"node_id\":\"bad-01\".*\"x\":4242' '$prod' &&
    ! grep '\"node_id\":\"bad-01\"' '$prod' | grep -vq '\"x\":4242'"
# count CLASS: bad-01's counter of that class in the summary.
count() {
	sed -n "s/^bad-01: polls .* $1 \\([0-9]*\\).*/\\1/p" "$lib_tmp/modbus.out"
}
check "hostile: each class counted (exception, malformed, ids, no answer)" \
    sh -c "[ '$(count exceptions)' -gt 0 ] && [ '$(count malformed)' -gt 0 ] &&
    [ '$(count 'wrong transaction id')' -gt 0 ] &&
    [ '$(count 'wrong unit id')' -gt 0 ] && [ '$(count 'no answer')' -gt 0 ]"
# Three of each bad answer in a row, then a good one: one log line each.
check "hostile: each class logged once per episode, not per poll" sh -c "
    [ \$(grep -c 'bad-01: .*: exception' '$lib_tmp/modbus.log') -lt \
    '$(count exceptions)' ] &&
    [ \$(grep -c 'bad-01: .*: wrong unit id' '$lib_tmp/modbus.log') -lt \
    '$(count 'wrong unit id')' ]"

check "NaN: no reading, counted, said once" sh -c "
    ! grep -q '\"node_id\":\"nan-01\"' '$prod' &&
    [ \$(grep -c 'nan-01: field f: not a finite number' '$lib_tmp/modbus.log') = 1 ] &&
    grep -q '^nan-01: polls .* readings 0, .* bad values [1-9]' '$lib_tmp/modbus.out'"

# ---------------------------------------------------------------- pipeline
for n in $(echo $nodes | tr , ' '); do
	awk -v n="$n" '$1 == "R" { print n, $2, $3 }' "$spool/$n/spool.log"
done | sort -u >"$lib_tmp/expected"
wait_until 20 all_logged "$lib_tmp/expected"
log_keys "$prod" >"$lib_tmp/keys" 2>"$lib_tmp/torn"
check "every spooled reading in the log exactly once" sh -c "
    sort -u '$lib_tmp/keys' | cmp -s - '$lib_tmp/expected' &&
    [ \$(sort '$lib_tmp/keys' | uniq -d | wc -l) = 0 ]"
check "no torn line" none "$lib_tmp/torn"
check "nothing pending or lost at exit" sh -c "
    [ \$(grep -c 'pending 0, lost 0 ' '$lib_tmp/modbus.out') = 8 ] &&
    [ \$(grep -c ', events [0-9]* (acknowledged [0-9]*, lost 0)' \
    '$lib_tmp/modbus.out') = 8 ]"
check "every spooled event in the reject log exactly once" "$PY" - \
    "$rejects" "$spool" <<'EOT'
import collections, glob, json, re, sys
spooled = set()
for path in glob.glob(sys.argv[2] + "/*/events/spool.log"):
    for line in open(path):
        m = re.match(r"R \d+ \d+ \d+ (.*) [0-9a-f]{8}$", line)
        if m:
            e = json.loads(m.group(1))
            spooled.add((e["node_id"], e["boot_id"], e["event_seq"]))
logged = collections.Counter()
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["reason"].startswith("event ") and "event_seq" in r["raw"]:
        e = json.loads(r["raw"])
        logged[(e["node_id"], e["boot_id"], e["event_seq"])] += 1
print(f"    {len(spooled)} events spooled, {sum(logged.values())} logged")
assert len(spooled) >= 8, spooled
assert set(logged) == spooled, (spooled ^ set(logged))
assert max(logged.values()) == 1, logged
EOT
lib_summary
