#!/bin/sh
# Faults with nothing lost.  Two namespaces this script creates:
# a hub (wgu from `wgu up`, the hardened broker of scripts/hub-setup.sh on
# 10.0.0.1, wgu-historian) and an edge (wgu from `wgu up`, wgu-sim with
# four nodes at 10 readings/s each), joined by a veth LAN.  Every address
# used is inside them.  During one run of the simulator:
#
#   t+3   kill -9 of the edge's wgu, `wgu up` again: the tunnel must carry
#         a ping again within 3 s (the edge initiates at once);
#   t+8   kill -9 of the hub's wgu, `wgu up` again: within 3 s (the hub
#         knows the edge's LAN endpoint and initiates as soon as it has a
#         packet for it; a hub that knows no endpoint waits for the edge,
#         which starts a handshake 15 s after its data went unanswered);
#   t+13  the broker stopped (SIGTERM) and restarted from its persistence;
#   t+17  kill -9 of the historian while it writes (about 40 lines/s, and
#         the backlog from the broker restart), restarted after 1 s;
#   t+20  the LAN link down for 60 s (the edge's veth), then up, and the
#         historian killed with kill -9 again while the backlog pours in.
#
# Afterwards: every reading the simulator generated (seq 1..N of every
# node, N from its closing report) is in industrial_production.log exactly
# once, nothing else is; every line is a whole record; and the log is in
# order per node: within each (node, boot) the seqs rise line by line,
# except for a reading that fills a hole below the highest seq logged so
# far (a resend, after a gap the historian reported and asked for again).
# Those late fills are counted and shown; none may come without a resend
# request.  About 90 s.
#
# Needs root, mosquitto and its clients; exits 77 otherwise.  WGU_BIN names
# wgu; wgu-sim and wgu-historian are taken from beside it.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/plant.sh
. "$(dirname "$0")/plant.sh"

plant_require timeout ping awk nft
nodes=4
sim_pid=''
# The hub knows the edge's endpoint: it can initiate after its restart.
plant_init f 192.168.74
plant_tunnel both
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ---------------------------------------------------------------- hub
plant_hub_setup "$(plant_node_list $nodes)"
start_broker() { plant_start_broker "$hub"; }
start_historian() { plant_start_historian; }
check_or_stop "broker listens on 10.0.0.1:1883" "$lib_tmp/broker.log" \
    start_broker
start_historian
ip netns exec "$edge" "$SIM" --broker 10.0.0.1 --node-id edge \
    --nodes "$nodes" --password-file "$hubdir/clients/sensors.pw" \
    --topic-prefix "$prefix" --rate 10 --cycle 30 --seed 11 \
    --duration 84 --spool-dir "$spool" >"$lib_tmp/sim.out" \
    2>>"$lib_tmp/sim.log" &
sim_pid=$!
lib_pids="$lib_pids $sim_pid"
t0=$(now_ms)
# The faults' schedule is what is tested: at() waits for a time, not for a
# condition.
at() { # SECONDS: sleeps until t0 + SECONDS
	d=$(($1 * 1000 - ($(now_ms) - t0)))
	[ $d -gt 0 ] && sleep "$(awk -v d=$d 'BEGIN { printf "%.3f", d / 1000 }')"
	echo "t+$1: $2"
}

# ---------------------------------------------------------------- faults
# back_within SECONDS NS ADDR: pings (one at a time, 200 ms apart) until
# one is answered; true when that took at most SECONDS.  The time taken
# is printed and left in $back_ms.
back_within() {
	b0=$(now_ms)
	while :; do
		ip netns exec "$2" ping -q -c 1 -W 0.2 "$3" >/dev/null 2>&1 && break
		[ $(($(now_ms) - b0)) -gt 30000 ] && break
	done
	back_ms=$(($(now_ms) - b0))
	echo "  tunnel back after ${back_ms} ms"
	[ "$back_ms" -le $(($1 * 1000)) ]
}
# restart SIDE: kill -9 of that side's wgu, `wgu up` again.
restart() {
	rp=$(plant_daemon_pid "$1") || { echo "  no wgu daemon on the $1"; return 1; }
	kill -KILL "$rp"
	wait_until 10 not test -e "/proc/$rp" ||
	    { echo "  wgu $rp outlived kill -9"; return 1; }
	plant_up "$1" || { echo "  wgu up failed:"; tail -n 5 "$lib_tmp/wgu-up.log"; return 1; }
}

at 3 "kill -9 of the edge's wgu"
check "edge's wgu killed and brought up again" restart edge
check "tunnel back within 3 s of the edge's wgu up" \
    back_within 3 "$edge" 10.0.0.1
edge_ms=$back_ms
at 8 "kill -9 of the hub's wgu"
check "hub's wgu killed and brought up again" restart hub
check "tunnel back within 3 s of the hub's wgu up" \
    back_within 3 "$hub" 10.0.0.2
hub_ms=$back_ms
check "... both ways" pings_ok "$edge" 10.0.0.1 1
at 13 "broker restart"
kill -TERM "$broker_pid"
check "broker stops on SIGTERM" wait_exit "$broker_pid" 100
check "broker restarted (persistent sessions from disk)" start_broker
# kill_historian: kill -9, notes whether the log then ended mid-line
# (the restarted historian must repair that), restarts it after 1 s.
kill_historian() {
	kill -KILL "$hist_pid"
	wait "$hist_pid" 2>/dev/null
	if [ -n "$(tail -c 1 "$prod" | tr -d '\n')" ]; then
		echo "  killed mid-line: the log ends in a torn line"
	fi
	echo "  $(wc -l <"$prod") lines in the log at the kill"
	# An outage of 1 s: time itself.
	sleep 1
	start_historian
}
at 17 "kill -9 of the historian"
kill_historian
at 20 "LAN link down for 60 s"
ip -n "$edge" link set veth0 down
at 80 "LAN link up"
ip -n "$edge" link set veth0 up
check "tunnel back after the LAN outage" pings_ok "$edge" 10.0.0.1
# Again while the outage's backlog (some 2,400 readings) pours in.
l0=$(wc -l <"$prod")
wait_until 5 has_lines "$prod" $((l0 + 200))
echo "t+$((($(now_ms) - t0) / 1000)): kill -9 of the historian during the backlog"
kill_historian
check "simulator finishes (everything acknowledged)" wait_exit "$sim_pid" 450
sed 's/^/  /' "$lib_tmp/sim.out"
check "simulator: nothing pending, nothing lost" sh -c "
    [ \$(grep -c 'pending 0, lost 0 ' '$lib_tmp/sim.out') = $nodes ]"

# ---------------------------------------------------------------- the log
# What the simulator generated: "node boot seq", one a line.
grep -E '^edge-[0-9]+: generated ' "$lib_tmp/sim.out" |
    sed 's/^\([^:]*\): generated \([0-9]*\),.*(boot \([0-9]*\),.*/\1 \3 \2/' |
    while read -r n b c; do
	i=1
	while [ $i -le "$c" ]; do echo "$n $b $i"; i=$((i + 1)); done
done | sort >"$lib_tmp/expected"
# The historian catches up (the queue, resends of gaps): up to 20 s.
wait_until 20 all_logged "$lib_tmp/expected"
kill -TERM "$hist_pid"
wait_exit "$hist_pid" 100
log_keys "$prod" >"$lib_tmp/keys" 2>"$lib_tmp/torn"
[ -z "$(tail -c 1 "$prod" | tr -d '\n')" ] || echo "TORN tail" >>"$lib_tmp/torn"
sort "$lib_tmp/keys" >"$lib_tmp/logged.all"
sort -u "$lib_tmp/keys" >"$lib_tmp/logged"
echo "  $(wc -l <"$lib_tmp/expected") readings generated," \
    "$(wc -l <"$lib_tmp/keys") lines logged"

check "simulator generated readings for 80 s or more" sh -c "
    [ \$(wc -l <'$lib_tmp/expected') -ge $((nodes * 10 * 80)) ]"
check "log: whole lines only" none "$lib_tmp/torn"
uniq -d "$lib_tmp/logged.all" >"$lib_tmp/twice"
check "log: no reading twice" none "$lib_tmp/twice"
comm -23 "$lib_tmp/expected" "$lib_tmp/logged" >"$lib_tmp/missing"
check "log: every seq of every node" none "$lib_tmp/missing"
comm -13 "$lib_tmp/expected" "$lib_tmp/logged" >"$lib_tmp/extra"
check "log: nothing else" none "$lib_tmp/extra"
# In order: line by line, a (node, boot)'s seq is above every seq before
# it, or fills a hole below (a late fill).  With no duplicates (checked
# above) a late fill always is a hole's; what is checked here is that late
# fills come only where the historian asked for a resend.
awk '{ k = $1 " " $2
	if ($3 > m[k]) m[k] = $3
	else { late++; print "late fill: " $0 > "/dev/stderr" }
} END { print late + 0 }' "$lib_tmp/keys" >"$lib_tmp/late" \
    2>"$lib_tmp/late.lines"
late=$(cat "$lib_tmp/late")
# A historian killed with -9 prints no summary: the requests it made are
# counted where they arrived, in the nodes' own summaries.
resends=$( { grep 'wgu-historian summary' "$lib_tmp/historian.log" |
    sed -n 's/.* \([0-9]*\) resend requests.*/\1/p'
    sed -n 's/^edge-[0-9]*: generated .*resend requests \([0-9]*\))$/\1/p' \
    "$lib_tmp/sim.out"; } | awk '{ s += $1 } END { print s + 0 }')
echo "  in order: $late late fills, $resends resend requests (asked or received)"
[ "$late" -gt 0 ] && head -n 5 "$lib_tmp/late.lines" | sed 's/^/    /'
check "log: in order per node (late fills only after resend requests)" \
    sh -c "[ $late -eq 0 ] || [ $resends -gt 0 ]"
check "historian: no write errors" sh -c "
    grep 'wgu-historian summary' '$lib_tmp/historian.log' | tail -n 1 |
    grep -q ' 0 write errors'"
echo "  tunnel back after kill -9: edge ${edge_ms} ms, hub ${hub_ms} ms;" \
    "whole run $((($(now_ms) - t0) / 1000)) s after the simulator started"

lib_summary
