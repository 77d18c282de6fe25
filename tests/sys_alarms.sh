#!/bin/sh
# The historian's alarms end to end, in the real plant (tunnel, hardened
# broker of hub-setup.sh, wgu-historian with --alarm-clear-after 3
# --alarm-silent-after 4 and an --alarm-hook; the readings published by
# mosquitto_pub from the edge with each node's own credentials):
#
#   threshold: a critical p gives one alarm row in the store and a
#            "raise" on PREFIX/alarms, seen by a subscriber with the
#            wgu-dashboard account; normal readings clear it after the
#            clear time ("clear", end set), not before;
#   silent:  a node that stops publishing is alarmed after 4 s;
#   gap:     a seq missing for 2 s is alarmed, cleared when it comes;
#   hook:    ran as the historian's user with the alarm in WGU_ALARM_*;
#            a device's hostile source-down reason (quotes, $(...),
#            backticks, control bytes) reaches it as data only, and a
#            hostile node_id is refused before any alarm;
#   account: wgu-dashboard cannot publish on PREFIX/alarms nor telemetry,
#            nor subscribe to a node's cmd topic;
#   restart: kill -9 of the historian, --rebuild of the store (the alarms
#            carried over, ids and all), a restart: the open alarms are
#            resumed, not raised again, and cleared as before;
#   peers:   with --interface, a peer without a handshake is alarmed (the
#            monitor socket read by user wgu-historian, group wgu-monitor,
#            under its seccomp filter) and the alarm
#            cleared when the peer is removed; the live peer is not;
#   figures: historian_stats refreshed.
#
# Needs root, mosquitto and its clients, sqlite3, python3; exits 77
# otherwise.  About 60 s.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/plant.sh
. "$(dirname "$0")/plant.sh"

plant_require timeout sqlite3 python3 stdbuf
plant_init al 192.168.89
db=${prod%.log}.db
t0=$(date +%s)
step() { echo "# $(($(date +%s) - t0)) s: $*"; }

plant_tunnel
plant_hub_setup edge-01,edge-02,edge-03
plant_log_subscriptions
check "broker listens" plant_start_broker "$hub"

# The hook: one file per run with the alarm's environment, as it came.
runs=$lib_tmp/prod/runs
mkdir "$runs"
chown wgu-historian "$runs"
cat >"$lib_tmp/hook.sh" <<EOF
#!/bin/sh
env | grep '^WGU_ALARM_' | sort >"$runs/run.\$\$"
id -un >>"$runs/run.\$\$"
EOF
chmod 755 "$lib_tmp/hook.sh"

start_historian() {
	hist_subscribed=$(historian_subscriptions)
	ip netns exec "$hub" "$HIST" --broker 10.0.0.1 \
	    --password-file "$hubdir/clients/historian.pw" \
	    --topic-prefix "$prefix" --log "$prod" --color never \
	    --alarm-clear-after 3 --alarm-silent-after 4 --alarm-gap-after 2 \
	    "$@" \
	    >>"$lib_tmp/historian.log" 2>&1 &
	hist_pid=$!
	lib_pids="$lib_pids $hist_pid"
	check_or_stop "historian subscribed" "$lib_tmp/historian.log" \
	    wait_until 10 historian_subscribed
}
start_historian --alarm-hook "$lib_tmp/hook.sh"

# The dashboard's account reads PREFIX/alarms for the whole test.
client_conf dash wgu-dashboard "$hubdir/clients/wgu-dashboard.pw"
client_conf e1 edge-01 "$hubdir/clients/edge-01.pw"
client_conf e2 edge-02 "$hubdir/clients/edge-02.pw"
client_conf e3 edge-03 "$hubdir/clients/edge-03.pw"
as() { # CONF NS PROGRAM ARGS...
	as_conf=$1 as_ns=$2
	shift 2
	ip netns exec "$as_ns" env XDG_CONFIG_HOME="$lib_tmp/$as_conf" \
	    HOME=/nonexistent "$@"
}
as dash "$hub" stdbuf -oL mosquitto_sub -h 10.0.0.1 -i al-dash -q 1 \
    -t "$prefix/alarms" >"$lib_tmp/alarms.out" 2>"$lib_tmp/dash-sub.log" &
lib_pids="$lib_pids $!"
check_or_stop "wgu-dashboard subscribes to $prefix/alarms" \
    "$lib_tmp/broker.log" wait_until 5 broker_subscribed al-dash \
    "$prefix/alarms"

now_ms() { echo "$(date +%s)$(date +%N | cut -c1-3)"; }
# reading NODE P STATUS: published from the edge with NODE's account.
reading() {
	as "e${1#edge-0}" "$edge" mosquitto_pub -h 10.0.0.1 -i "al-$1" -q 1 \
	    -t "$prefix/$1/telemetry" -m "{\"timestamp\":$(now_ms),\
\"node_id\":\"$1\",\"data\":{\"p\":$2,\"t\":65.0,\"v\":2.0},\"status\":$3}"
}
q() { sqlite3 -cmd '.timeout 2000' "$db" "$1" 2>>"$lib_tmp/sqlite.log"; }
is() { [ "$(q "$1")" = "$2" ]; }

step "threshold"
reading edge-01 6.0 0
reading edge-01 10.2 2
check "critical p: one open alarm row (threshold, p, severity 2, peak)" \
    wait_until 5 is "SELECT count(*), max(peak) FROM alarms WHERE
    node = 'edge-01' AND kind = 'threshold' AND field = 'p' AND
    severity = 2 AND end IS NULL" "1|10.2"
id=$(q "SELECT id FROM alarms WHERE kind = 'threshold'")
published() { # EVENT KIND NODE
	grep "\"event\":\"$1\"" "$lib_tmp/alarms.out" |
	    grep "\"kind\":\"$2\"" | grep -q "\"node\":\"$3\""
}
check "... and a raise on $prefix/alarms, read with the wgu-dashboard account" \
    wait_until 5 published raise threshold edge-01
check "... which is the dashboard's alarm object" sh -c "
    grep '\"event\":\"raise\"' '$lib_tmp/alarms.out' | head -n 1 |
    grep -q '\"id\":$id,\"node\":\"edge-01\",\"kind\":\"threshold\",\"field\":\"p\",\"severity\":2,\"start\":[0-9]*,\"end\":null,\"peak\":10.2,'"

# Normal readings, one a second: cleared 3 s after the first, not before.
reading edge-01 7.0 0
normal_at=$(date +%s)
i=0
while [ $i -lt 5 ]; do
	sleep 1
	reading edge-01 7.0 0
	if [ "$(date +%s)" -lt $((normal_at + 2)) ]; then
		is "SELECT count(*) FROM alarms WHERE end IS NULL" 1 ||
		    echo "    cleared after $(($(date +%s) - normal_at)) s" \
		    >"$lib_tmp/early"
	fi
	i=$((i + 1))
done
check "normal again: not cleared before the clear time" test ! -e "$lib_tmp/early"
check "... then cleared (end set), the same row" wait_until 3 is "SELECT
    count(*) FROM alarms WHERE id = $id AND end IS NOT NULL" 1
check "... a clear on $prefix/alarms" wait_until 3 published clear threshold \
    edge-01
silent_from=$(date +%s)

step "hook, hostile input"
hook_run() { # EVENT KIND: the file of that run
	for hr in "$runs"/run.*; do
		grep -qx "WGU_ALARM_EVENT=$1" "$hr" &&
		    grep -qx "WGU_ALARM_KIND=$2" "$hr" && { echo "$hr"; return 0; }
	done 2>/dev/null
	return 1
}
check "the hook ran on the raise" wait_until 5 hook_run raise threshold
raise_run=$(hook_run raise threshold)
check "... with the alarm in its environment, as the historian's user" sh -c "
    grep -qx 'WGU_ALARM_ID=$id' '$raise_run' &&
    grep -qx 'WGU_ALARM_NODE=edge-01' '$raise_run' &&
    grep -qx 'WGU_ALARM_FIELD=p' '$raise_run' &&
    grep -qx 'WGU_ALARM_SEVERITY=2' '$raise_run' &&
    grep -qx 'WGU_ALARM_PEAK=10.2' '$raise_run' &&
    grep -qx 'WGU_ALARM_END=' '$raise_run' &&
    grep -q '^WGU_ALARM_START=1[0-9]\{12\}$' '$raise_run' &&
    grep -q '^WGU_ALARM_DETAIL=p 10.2 at or above critical 9.5' '$raise_run' &&
    [ \$(grep -c . '$raise_run') = 11 ] &&
    tail -n 1 '$raise_run' | grep -qx wgu-historian" ||
    sed 's/^/    /' "$raise_run"
clear_run() {
	cr=$(hook_run clear threshold) &&
	    grep -q '^WGU_ALARM_END=1[0-9]\{12\}$' "$cr"
}
check "the hook ran on the clear, with its end" wait_until 5 clear_run

# A device's reason is the sender's text: quotes, command substitutions,
# backticks, a newline and an escape byte.  As data, or it would make
# the marker files.
pwned=$lib_tmp/pwned
# shellcheck disable=SC2016
printf '{"event":"source-down","node_id":"edge-02","reason":"x\\"; touch %s1; $(touch %s2) `touch %s3` \\n\\u001b[2J"}' \
    "$pwned" "$pwned" "$pwned" >"$lib_tmp/event.json"
as e2 "$edge" mosquitto_pub -h 10.0.0.1 -i al-e2 -q 1 \
    -t "$prefix/edge-02/event" -f "$lib_tmp/event.json"
check "source-down event: an alarm for edge-02" wait_until 5 is "SELECT
    count(*) FROM alarms WHERE node = 'edge-02' AND kind = 'source-down' AND
    end IS NULL" 1
check "... the hook got the reason as data (control bytes as '?')" \
    wait_until 5 sh -c "grep -qxF 'WGU_ALARM_DETAIL=x\"; touch ${pwned}1; \$(touch ${pwned}2) \`touch ${pwned}3\` ??[2J' $runs/run.*" ||
    grep -h DETAIL "$runs"/run.* | sed 's/^/    /' 
check "... and nothing of it ran" sh -c "! ls '$pwned'* 2>/dev/null | grep -q ."
as e2 "$edge" mosquitto_pub -h 10.0.0.1 -i al-e2 -q 1 \
    -t "$prefix/edge-02/telemetry" -m "{\"timestamp\":$(now_ms),\
\"node_id\":\"edge-02;touch ${pwned}4\",\"data\":{\"p\":10,\"t\":65,\"v\":2},\"status\":2}"
printf '{"event":"source-up","node_id":"edge-02"}' >"$lib_tmp/up.json"
as e2 "$edge" mosquitto_pub -h 10.0.0.1 -i al-e2 -q 1 \
    -t "$prefix/edge-02/event" -f "$lib_tmp/up.json"
check "source-up clears it" wait_until 5 is "SELECT count(*) FROM alarms
    WHERE node = 'edge-02' AND end IS NOT NULL" 1
check "a hostile node_id is refused: no alarm of it, nothing ran" sh -c "
    grep -q 'REJECTED.*invalid node_id' '$lib_tmp/historian.log' &&
    [ \$(sqlite3 '$db' \"SELECT count(*) FROM alarms WHERE node
    LIKE '%touch%'\") = 0 ] && ! ls '$pwned'* 2>/dev/null | grep -q ."

step "gap"
# seq_reading SEQ: edge-03's reading of boot 1 with that seq.
seq_reading() {
	as e3 "$edge" mosquitto_pub -h 10.0.0.1 -i al-edge-03 -q 1 \
	    -t "$prefix/edge-03/telemetry" -m "{\"timestamp\":$(now_ms),\
\"node_id\":\"edge-03\",\"boot_id\":1,\"seq\":$1,\
\"data\":{\"p\":6.0,\"t\":65.0,\"v\":2.0},\"status\":0}"
}
seq_reading 1
seq_reading 3
check "seq 2 missing for 2 s: a gap alarm" wait_until 8 is "SELECT count(*),
    min(detail LIKE '1 readings missing in 1 gaps for _ s') FROM alarms
    WHERE node = 'edge-03' AND kind = 'gap' AND end IS NULL" "1|1"
seq_reading 2
check "... cleared once it came" wait_until 4 is "SELECT count(*) FROM alarms
    WHERE node = 'edge-03' AND kind = 'gap' AND end IS NOT NULL" 1

step "the dashboard's account"
as dash "$hub" mosquitto_pub -h 10.0.0.1 -i al-dash-pub -q 1 \
    -t "$prefix/alarms" -m "forged-$$" >/dev/null 2>&1
as dash "$hub" mosquitto_pub -h 10.0.0.1 -i al-dash-pub -q 1 \
    -t "$prefix/edge-01/telemetry" -m "{\"timestamp\":$(now_ms),\
\"node_id\":\"edge-01\",\"data\":{\"p\":99,\"t\":65,\"v\":2},\"status\":2}" \
    >/dev/null 2>&1
# A command on edge-01's topic (as the historian may send one): edge-01
# gets it, the dashboard's account does not.
client_conf hist historian "$hubdir/clients/historian.pw"
as dash "$hub" mosquitto_sub -h 10.0.0.1 -i al-dash-cmd -q 1 \
    -t "$prefix/edge-01/cmd" -C 1 -W 4 >"$lib_tmp/cmd-dash.out" 2>&1 &
cmd_dash=$!
as e1 "$edge" mosquitto_sub -h 10.0.0.1 -i al-e1-cmd -q 1 \
    -t "$prefix/edge-01/cmd" -C 1 -W 4 >"$lib_tmp/cmd-e1.out" 2>&1 &
cmd_e1=$!
wait_until 3 broker_subscribed al-dash-cmd "$prefix/edge-01/cmd" &&
    wait_until 3 broker_subscribed al-e1-cmd "$prefix/edge-01/cmd"
as hist "$hub" mosquitto_pub -h 10.0.0.1 -i al-hist-cmd -q 1 \
    -t "$prefix/edge-01/cmd" -m "command-$$"
wait "$cmd_dash" "$cmd_e1"
check "wgu-dashboard cannot read a node's cmd topic (edge-01 can)" sh -c "
    grep -qx 'command-$$' '$lib_tmp/cmd-e1.out' &&
    ! grep -q 'command-$$' '$lib_tmp/cmd-dash.out'" ||
    sed 's/^/    /' "$lib_tmp/cmd-e1.out" "$lib_tmp/cmd-dash.out"
check "... nor publish alarms or readings (none delivered, none logged)" \
    sh -c "! grep -q 'forged-$$' '$lib_tmp/alarms.out' &&
    ! grep -q '\"p\":99' '$prod'"

step "silent"
check "edge-01 silent for 4 s: alarmed" wait_until 8 is "SELECT count(*)
    FROM alarms WHERE node = 'edge-01' AND kind = 'silent' AND end IS NULL" 1
check "... raised on $prefix/alarms" wait_until 3 published raise silent \
    edge-01
echo "    raised $(($(date +%s) - silent_from)) s after the last reading"
check "edge-02, which never sent a reading, is not" is "SELECT count(*) FROM
    alarms WHERE node = 'edge-02' AND kind = 'silent'" 0

step "kill -9, --rebuild, restart"
sleep 1	# the group commit (100 ms) has the alarm
kill -KILL "$hist_pid"
wait "$hist_pid" 2>/dev/null
q "SELECT * FROM alarms ORDER BY id" >"$lib_tmp/alarms.before"
"$HIST" --log "$prod" --rebuild >"$lib_tmp/rebuild.log" 2>&1
check "--rebuild carries the alarms over, ids and all" sh -c "
    grep -q 'alarms carried over' '$lib_tmp/rebuild.log' &&
    [ \"\$(sqlite3 '$db' 'SELECT * FROM alarms ORDER BY id')\" = \
    \"\$(cat '$lib_tmp/alarms.before')\" ] && [ -s '$lib_tmp/alarms.before' ]" ||
    sed 's/^/    /' "$lib_tmp/rebuild.log"
# A peer that never shook hands, on the hub's interface.
uapi() {
	ip netns exec "$hub" python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n\n")
a = b""
while not a.endswith(b"\n\n"):
    d = s.recv(4096)
    if not d: break
    a += d
ok = b"errno=0\n" in a
ok or print(a)
sys.exit(0 if ok else 1)' "/var/run/wireguard/$hif.sock" "$1"
}
bogus=$(printf '11%.0s' $(seq 32))
bogus_b64=ERERERERERERERERERERERERERERERERERERERERERE=
check "a peer without a handshake added to the hub" \
    uapi "$(printf 'set=1\npublic_key=%s\nallowed_ip=10.0.0.9/32' "$bogus")"
# The historian as its own user reads the read-only monitor socket
# (root:wgu-monitor 0660), never the UAPI socket (root's 0600).
start_historian --interface "$hif"
check "restart: the open alarms resumed" wait_until 5 grep -q \
    'alarms open, resumed from the store' "$lib_tmp/historian.log"
sleep 5	# more than the silent time
check "... not raised again (one silent alarm of edge-01, ever)" is "SELECT
    count(*) FROM alarms WHERE node = 'edge-01' AND kind = 'silent'" 1
check "--interface: the peer without a handshake is alarmed" wait_until 5 is \
    "SELECT count(*), min(detail) FROM alarms WHERE kind = 'handshake' AND
    node = '$bogus_b64' AND end IS NULL" "1|no handshake yet"
check "... the live peer (the edge) is not" is "SELECT count(*) FROM alarms
    WHERE kind = 'handshake' AND node != '$bogus_b64'" 0
reading edge-01 6.5 0
check "a reading ends the resumed silent alarm" wait_until 5 is "SELECT
    count(*) FROM alarms WHERE node = 'edge-01' AND kind = 'silent' AND
    end IS NOT NULL" 1
check "the peer removed: its alarm cleared" uapi \
    "$(printf 'set=1\npublic_key=%s\nremove=true' "$bogus")"
check "... within a poll (10 s)" wait_until 12 is "SELECT count(*) FROM
    alarms WHERE kind = 'handshake' AND end IS NULL" 0

step "figures"
check "historian_stats refreshed: readings logged, log bytes, fresh" sh -c "
    q() { sqlite3 '$db' \"\$1\"; }
    [ \$(q \"SELECT count(*) FROM historian_stats WHERE name IN
    ('duplicates_dropped', 'gaps_open', 'rejects', 'log_bytes',
    'ingest_lag_seconds', 'readings_logged')\") = 6 ] &&
    [ \$(q \"SELECT value >= 1 FROM historian_stats WHERE
    name = 'readings_logged'\") = 1 ] &&
    [ \$(q \"SELECT value = $(stat -c %s "$prod") FROM historian_stats
    WHERE name = 'log_bytes'\") = 1 ] &&
    [ \$(q \"SELECT max(updated) > $(($(date +%s) - 5))000 FROM
    historian_stats\") = 1 ]"
check "the thresholds table: wgu-sim's" is "SELECT group_concat(field || ' '
    || warning || ' ' || critical || ' ' || direction, ',') FROM (SELECT *
    FROM thresholds ORDER BY field)" "p 8.0 9.5 above,t 80.0 95.0 above,v 4.5 7.1 above"
kill -TERM "$hist_pid"
check "historian stops on SIGTERM" wait_exit "$hist_pid" 50
step "done"
lib_summary
