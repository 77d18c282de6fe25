#!/bin/sh
# Readings from the publishers plants already have, end to end: the plain
# schema (no boot_id/seq, any timestamp form, extra data fields) through
# the tunnel and the hardened broker into the production log.  Two
# namespaces this script creates: a hub (wgu from `wgu up`, the broker of
# scripts/hub-setup.sh bound to 10.0.0.1, wgu-historian) and an edge (the
# publishers), joined by a veth LAN.  Every address used is inside them.
#
#   - examples/publish.py (Python, paho-mqtt) with each timestamp form and
#     an extra field: every reading logged once, "at-least-once", its ts
#     the timestamp normalised to milliseconds;
#   - mosquitto_pub, an independent client: the same reading sent again
#     (also with other member order and spacing) is logged once, another
#     timestamp is a new reading;
#   - side by side, a node with boot_id/seq (publish.py --seq-state) and
#     one without: seq 1..N exactly once and "exactly-once" for the first,
#     at least once for the second; a gap of a numbered node is asked for
#     on its command topic, while a node without seq is never asked;
#   - refused payloads: each reject names the field, what was found and
#     what is accepted;
#   - the summary lists the nodes without seq as at-least-once.
#
# Needs root, mosquitto and its clients, /usr/bin/python3 with paho-mqtt;
# exits 77 otherwise.  About 40 s.  WGU_BIN names wgu; wgu-historian is
# taken from beside it.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/plant.sh
. "$(dirname "$0")/plant.sh"

PY=/usr/bin/python3
[ -x "$PY" ] && "$PY" -c 'import paho.mqtt.client' 2>/dev/null ||
    lib_skip "no /usr/bin/python3 with paho-mqtt (python3-paho-mqtt)"
plant_require mosquitto_sub mosquitto_pub timeout ping nft
plant_init pl 192.168.84
rejects=${prod%.log}.rejects.log

plant_tunnel
plant_hub_setup edge-01,edge-02,edge-03,edge-04
check_or_stop "broker listens on 10.0.0.1:1883" "$lib_tmp/broker.log" \
    plant_start_broker "$hub"
plant_start_historian
check_or_stop "historian subscribed" "$lib_tmp/historian.log" \
    wait_until 20 historian_subscribed
for n in edge-02 edge-03 edge-04; do
	client_conf "c-$n" "$n" "$hubdir/clients/$n.pw"
done

# pub NODE PAYLOAD: one QoS 1 message as NODE, over the tunnel.
pub() {
	ip netns exec "$edge" env XDG_CONFIG_HOME="$lib_tmp/c-$1" \
	    HOME=/nonexistent mosquitto_pub -h 10.0.0.1 -i "$1-pub" -q 1 \
	    -t "$prefix/$1/telemetry" -m "$2"
}

# watch_cmd NODE: everything published on NODE's command topic until the
# end, into $lib_tmp/NODE.cmd (its own credentials: the ACL lets a node
# read its own command topic).
watch_cmd() {
	ip netns exec "$edge" env XDG_CONFIG_HOME="$lib_tmp/c-$1" \
	    HOME=/nonexistent stdbuf -oL mosquitto_sub -h 10.0.0.1 \
	    -i "$1-cmd" -q 1 -t "$prefix/$1/cmd" -d >"$lib_tmp/$1.cmd" 2>&1 &
	lib_pids="$lib_pids $!"
}
cmd_subscribed() { grep -q SUBACK "$lib_tmp/$1.cmd"; }

# example NODE ARGS...: examples/publish.py in the edge, as NODE.
example() {
	ex_node=$1
	shift
	ip netns exec "$edge" env TZ=UTC "$PY" "$srcdir/examples/publish.py" \
	    --host 10.0.0.1 --node "$ex_node" \
	    --password-file "$hubdir/clients/$ex_node.pw" --prefix "$prefix" \
	    --interval 0.05 "$@" >>"$lib_tmp/example-$ex_node.out" \
	    2>>"$lib_tmp/example.err"
}

# lines NODE: the log lines of NODE.
lines() { grep -F "\"node_id\":\"$1\"" "$prod" 2>/dev/null; }
count_is() { [ "$(lines "$1" | wc -l)" -eq "$2" ]; }

# check_ts NODE: every log line of NODE has ts = its payload's timestamp
# in milliseconds (integer ms as is, seconds times 1000 rounded, an RFC
# 3339 string read with its zone, UTC without one) and a guarantee that
# matches the presence of seq.
check_ts() {
	lines "$1" | "$PY" -c '
import datetime, json, math, sys
bad = 0
for line in sys.stdin:
    rec = json.loads(line)
    ts = rec["payload"]["timestamp"]
    if isinstance(ts, str):
        d = datetime.datetime.fromisoformat(ts)
        if d.tzinfo is None:
            d = d.replace(tzinfo=datetime.timezone.utc)
        # exact: whole seconds, then the fraction rounded half up
        epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        delta = d - epoch
        want = ((delta.days * 86400 + delta.seconds) * 1000 +
                (delta.microseconds + 500) // 1000)
    elif ts >= 1e11:
        want = ts
    else:
        # seconds: rounded half away from zero, as llround() in C
        want = math.floor(ts * 1000 + 0.5)
    g = "exactly-once" if "seq" in rec["payload"] else "at-least-once"
    if rec.get("ts") != want or rec.get("guarantee") != g:
        print("    ts", rec.get("ts"), "want", want, rec.get("guarantee"), g)
        bad += 1
sys.exit(bad > 0)'
}

watch_cmd edge-02
watch_cmd edge-04
check_or_stop "command topic watchers subscribed" "$lib_tmp/edge-02.cmd" \
    wait_until 10 sh -c "grep -q SUBACK '$lib_tmp/edge-02.cmd' &&
    grep -q SUBACK '$lib_tmp/edge-04.cmd'"

# ------------------------------------------------- every timestamp form
for form in seconds ms iso iso-naive; do
	example edge-01 --count 3 --time-form "$form"
done
example edge-01 --count 3 --field flow=12.5 --field rpm=1480
check "publish.py: 15 readings, every timestamp form, all logged" \
    wait_until 10 count_is edge-01 15
check "publish.py: each form's ts normalised, at-least-once" check_ts edge-01
check "publish.py: the extra fields are in the log" sh -c "
    [ \$(grep -F '\"node_id\":\"edge-01\"' '$prod' |
    grep -cF '\"flow\":12.5,\"rpm\":1480') -eq 3 ]"
check "publish.py: every timestamp form was sent" sh -c "
    grep -qE '\"timestamp\": [0-9]{10}\\.[0-9]+' '$lib_tmp/example-edge-01.out' &&
    grep -qE '\"timestamp\": [0-9]{13},' '$lib_tmp/example-edge-01.out' &&
    grep -qE '\"timestamp\": \"[0-9T:.-]+\\+00:00\"' '$lib_tmp/example-edge-01.out' &&
    grep -qE '\"timestamp\": \"[0-9T:.-]+\"' '$lib_tmp/example-edge-01.out'"

# ------------------------------------------------- sent again: logged once
r1='{"timestamp":"2026-12-07T10:00:00Z","node_id":"edge-02","data":{"p":6.1,"t":64.5,"v":2.2,"flow":3},"status":0}'
r1b='{ "status": 0, "data": {"flow": 3, "v": 2.2, "t": 64.5, "p": 6.1},
  "node_id": "edge-02", "timestamp": "2026-12-07T11:00:00+01:00" }'
r2='{"timestamp":"2026-12-07T10:00:01Z","node_id":"edge-02","data":{"p":6.1,"t":64.5,"v":2.2,"flow":3},"status":0}'
pub edge-02 "$r1" && pub edge-02 "$r1" && pub edge-02 "$r1b" &&
    pub edge-02 "$r2" && pub edge-02 "$r2"
check "mosquitto_pub: a reading sent three times (once reordered) logged once, the next one once" \
    wait_until 10 sh -c "[ \$(grep -cF '\"node_id\":\"edge-02\"' '$prod') -eq 2 ] &&
    grep -q 'duplicate edge-02 timestamp' '$lib_tmp/historian.log' &&
    [ \$(grep -c 'duplicate edge-02 timestamp' '$lib_tmp/historian.log') -eq 3 ]"
check "mosquitto_pub: its ts normalised, at-least-once" check_ts edge-02

# ------------------------------------------------- side by side
example edge-03 --count 20 --seq-state "$lib_tmp/edge-03.boot" &
ex_pid=$!
i=1
while [ $i -le 20 ]; do
	pub edge-02 "{\"timestamp\":$((1796644800000 + i)),\"node_id\":\"edge-02\",\"data\":{\"p\":6,\"t\":65,\"v\":2},\"status\":0}"
	i=$((i + 1))
done
wait "$ex_pid"
printf 'edge-03 1 %s\n' $(seq 1 20) | sort >"$lib_tmp/edge-03.want"
check "side by side: the numbered node's seq 1..20 all logged" \
    wait_until 10 all_logged "$lib_tmp/edge-03.want"
check "side by side: ... each exactly once, exactly-once" sh -c "
    [ \$(grep -cF '\"node_id\":\"edge-03\"' '$prod') -eq 20 ] &&
    [ \$(grep -F '\"node_id\":\"edge-03\"' '$prod' |
    grep -cF '\"guarantee\":\"exactly-once\"') -eq 20 ]"
check "side by side: the node without seq, 22 readings once each" \
    wait_until 10 count_is edge-02 22
both_ts() { check_ts edge-03 && check_ts edge-02; }
check "side by side: ts normalised, guarantee as the seq says, both nodes" \
    both_ts

# ------------------------------------------------- gaps: asked of seq only
pub edge-04 '{"timestamp":1796644800000,"node_id":"edge-04","boot_id":1,"seq":1,"data":{"p":6,"t":65,"v":2},"status":0}'
pub edge-04 '{"timestamp":1796644800200,"node_id":"edge-04","boot_id":1,"seq":3,"data":{"p":6,"t":65,"v":2},"status":0}'
check "a numbered node's gap is asked for on its command topic" \
    wait_until 15 grep -q '"resend":{"boot_id":1,"from":2,"to":2}' \
    "$lib_tmp/edge-04.cmd"
pub edge-04 '{"timestamp":1796644800100,"node_id":"edge-04","boot_id":1,"seq":2,"data":{"p":6,"t":65,"v":2},"status":0}'
check "... and filled by the late reading" \
    wait_until 10 grep -q 'late, gap closed' "$lib_tmp/historian.log"
check "the node without seq was never asked for anything" sh -c "
    ! grep -q resend '$lib_tmp/edge-02.cmd' &&
    ! grep -q 'PUBLISH' '$lib_tmp/edge-02.cmd' || {
    sed 's/^/    /' '$lib_tmp/edge-02.cmd'; false; }"

# ------------------------------------------------- refused, with reasons
# refused PAYLOAD FIELD ACCEPTED-PART: PAYLOAD from edge-02 goes to the
# reject log with a reason naming FIELD and what is accepted.
nrej=0
refused() {
	nrej=$((nrej + 1))
	pub edge-02 "$1"
	wait_until 10 sh -c "[ \$(wc -l <'$rejects' 2>/dev/null || echo 0) \
	    -ge $nrej ]" &&
	    tail -n 1 "$rejects" | grep -F "\"reason\":\"$2" | grep -qF "$3" || {
		echo "    $(tail -n 1 "$rejects" 2>/dev/null)"
		return 1
	}
}
check "refused: a timestamp in words names the field and the forms" \
    refused '{"timestamp":"yesterday","node_id":"edge-02","data":{"p":6},"status":0}' \
    'timestamp:' 'RFC 3339'
check "refused: February 30" \
    refused '{"timestamp":"2026-02-30T10:00:00Z","node_id":"edge-02","data":{"p":6},"status":0}' \
    'timestamp:' 'found'
check "refused: seq without boot_id names boot_id" \
    refused '{"timestamp":1796644800000,"node_id":"edge-02","seq":4,"data":{"p":6},"status":0}' \
    'boot_id:' 'accepted'
check "refused: a data field that is not a number" \
    refused '{"timestamp":1796644800000,"node_id":"edge-02","data":{"p":"high"},"status":0}' \
    'data.p:' 'found'
check "refused: status 5" \
    refused '{"timestamp":1796644800000,"node_id":"edge-02","data":{"p":6},"status":5}' \
    'status:' 'accepted'
check "refused: nothing of it reached the log" sh -c "
    ! grep -qE 'yesterday|\"high\"|2026-02-30' '$prod'"

# ------------------------------------------------- summary
kill -TERM "$hist_pid" 2>/dev/null
wait_exit "$hist_pid" 50
check "summary: the nodes without seq listed as at least once" sh -c "
    sed -n '/^at least once/,\$p' '$lib_tmp/historian.log' >'$lib_tmp/alo' &&
    grep -qE '^edge-01 +- +15 ' '$lib_tmp/alo' &&
    grep -qE '^edge-02 +- +22 +0 +3\$' '$lib_tmp/alo' &&
    ! grep -q '^edge-03' '$lib_tmp/alo'"
check "no torn or foreign line in the log" sh -c "
    ! grep -vE '^\\{\"received\":[0-9]+,\"topic\":\"[^\"]*\",\"ts\":[0-9]+,\"guarantee\":\"(exactly|at-least)-once\",\"payload\":\\{.*\\},\"chain\":\"[0-9a-f]{64}\"\\}\$' '$prod'"
lib_summary
