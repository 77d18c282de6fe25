#!/bin/sh
# The telemetry pipeline end to end, over wgu, with faults in the middle of
# a run.  Two namespaces this script creates: a hub (wgu brought up with
# `wgu up CONFIG`, the hardened broker of scripts/hub-setup.sh bound to
# 10.0.0.1, wgu-historian) and an edge (wgu, wgu-sim with two nodes),
# joined by a veth LAN.  Every address used is inside them.
#
#   faults:  a broker restart, kill -9 of the historian (restarted), kill -9
#            of the simulator (restarted on the same spool), a 30 s tunnel
#            outage (the LAN veth down); afterwards every reading in the
#            spools, and every seq of every (node, boot) from 1 to the
#            last, is in the log exactly once; no torn line; the last boot's
#            count is what the simulator says it generated.
#   security: anonymous and wrong-password clients refused (CONNACK 5, "not
#            authorised"); the broker unreachable on the hub's LAN address;
#            a sensor's subscription to another node's telemetry gets
#            nothing; a sensor's publication to another node's topic is not
#            delivered (and to its own one is: the controls prove that the
#            checks can see a message at all).
#
# Needs root, mosquitto and its clients; exits 77 otherwise.  About 100 s.
# WGU_BIN names wgu; wgu-sim and wgu-historian are taken from beside it.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/plant.sh
. "$(dirname "$0")/plant.sh"

plant_require mosquitto_sub mosquitto_pub timeout ping nft
tag=$$
sim_pid=''
plant_init p 192.168.79

# ---------------------------------------------------------------- tunnel
plant_tunnel

# ---------------------------------------------------------------- hub
plant_hub_setup edge-01,edge-02
check "hub-setup: listener on 10.0.0.1 only, no anonymous" sh -c "
    [ \$(grep -c '^listener' '$hubdir/mosquitto.conf') = 1 ] &&
    grep -qx 'listener 1883 10.0.0.1' '$hubdir/mosquitto.conf' &&
    grep -qx 'allow_anonymous false' '$hubdir/mosquitto.conf' &&
    ! grep -q '^port' '$hubdir/mosquitto.conf'"
check "hub-setup: password file root:mosquitto 0640, hashed" sh -c "
    [ \"\$(stat -c '%U:%G %a' '$hubdir/wgu-hub.passwd')\" = \
    'root:mosquitto 640' ] &&
    ! grep -qF \"\$(cat '$hubdir/clients/edge-01.pw')\" \
    '$hubdir/wgu-hub.passwd'"
check "hub-setup: client password files 0600" sh -c "
    [ \"\$(stat -c '%a' '$hubdir/clients/historian.pw' \
    '$hubdir/clients/sensors.pw' | sort -u)\" = 600 ]"

start_broker() { plant_start_broker "$hub"; }
start_historian() { plant_start_historian; }

# start_sim DURATION OUT: two nodes at 10 readings/s each.
start_sim() {
	ip netns exec "$edge" "$SIM" --broker 10.0.0.1 --node-id edge \
	    --nodes 2 --password-file "$hubdir/clients/sensors.pw" \
	    --topic-prefix "$prefix" --rate 10 --cycle 30 --seed 7 \
	    --duration "$1" --spool-dir "$spool" >"$lib_tmp/$2" \
	    2>>"$lib_tmp/sim.log" &
	sim_pid=$!
	lib_pids="$lib_pids $sim_pid"
}

check "broker listens on 10.0.0.1:1883" start_broker
check "broker does not listen on any other address" sh -c "
    [ \"\$(ip netns exec $hub ss -Hltn | awk '{ print \$4 }')\" = \
    10.0.0.1:1883 ]"
start_historian
start_sim 300 sim1.out

# ---------------------------------------------------------------- faults
# The schedule is what is tested: each fault lands while readings flow,
# each outage lasts its time and leaves its backlog.  Fixed sleeps.
sleep 4
kill -TERM "$broker_pid"
check "broker stops on SIGTERM" wait_exit "$broker_pid" 100
sleep 1
check "broker restarted (persistent sessions from disk)" start_broker
sleep 3
kill -KILL "$hist_pid"
wait "$hist_pid" 2>/dev/null
sleep 2
start_historian
sleep 3
kill -KILL "$sim_pid"
wait "$sim_pid" 2>/dev/null
start_sim 70 sim2.out
sleep 2
echo "tunnel outage: 30 s"
ip -n "$edge" link set veth0 down
sleep 30
ip -n "$edge" link set veth0 up
check "tunnel back after the outage" pings_ok "$edge" 10.0.0.1
check "simulator finishes (all acknowledged)" wait_exit "$sim_pid" 900
cat "$lib_tmp/sim2.out"
check "simulator: nothing pending, nothing lost" sh -c "
    [ \$(grep -c 'pending 0, lost 0 ' '$lib_tmp/sim2.out') = 2 ]"

# The readings every spool holds: "node boot seq", one a line.
for n in edge-01 edge-02; do
	awk -v n="$n" '$1 == "R" { print n, $2, $3 }' "$spool/$n/spool.log"
done | sort -u >"$lib_tmp/expected"
# The historian catches up: the queued messages, resends of gaps.
wait_until 20 all_logged "$lib_tmp/expected"
log_keys "$prod" >"$lib_tmp/keys" 2>"$lib_tmp/torn"
sort "$lib_tmp/keys" >"$lib_tmp/logged.all"
sort -u "$lib_tmp/keys" >"$lib_tmp/logged"
echo "  $(wc -l <"$lib_tmp/expected") readings spooled," \
    "$(wc -l <"$lib_tmp/keys") lines logged, longest delay from reading" \
    "to log $(awk 'match($0, /"received":[0-9]+/) {
	r = substr($0, RSTART + 11, RLENGTH - 11)
	if (match($0, /"timestamp":[0-9]+/)) {
		d = r - substr($0, RSTART + 12, RLENGTH - 12); if (d > m) m = d }
    } END { printf "%.1f", m / 1000 }' "$prod") s"

[ -z "$(tail -c 1 "$prod" | tr -d '\n')" ] || echo "TORN tail" >>"$lib_tmp/torn"
check "log: whole lines only" none "$lib_tmp/torn"
uniq -d "$lib_tmp/logged.all" >"$lib_tmp/twice"
check "log: no reading twice" none "$lib_tmp/twice"
comm -23 "$lib_tmp/expected" "$lib_tmp/logged" >"$lib_tmp/missing"
check "log: every spooled reading logged" none "$lib_tmp/missing"
comm -13 "$lib_tmp/expected" "$lib_tmp/logged" >"$lib_tmp/extra"
check "log: nothing but spooled readings" none "$lib_tmp/extra"
# seq 1..max in every (node, boot), and a node per kill: two boots each.
check "log: every (node, boot) has seq 1..last without a hole" sh -c "
    awk '{ k = \$1 \" \" \$2; c[k]++; if (\$3 > m[k]) m[k] = \$3 }
    END { for (k in c) if (c[k] != m[k]) { print k, c[k], m[k]; bad = 1 }
    exit bad }' '$lib_tmp/logged'"
check "log: two boots per node (the kill -9)" sh -c "
    [ \"\$(cut -d' ' -f1,2 '$lib_tmp/logged' | sort -u | cut -d' ' -f1 |
    uniq -c | awk '\$1 >= 2' | wc -l)\" = 2 ]"
# The last boot: the simulator's own count.
last_ok() {
	for n in edge-01 edge-02; do
		line=$(grep "^$n: " "$lib_tmp/sim2.out") || return 1
		gen=$(echo "$line" | sed 's/^[^:]*: generated \([0-9]*\),.*/\1/')
		boot=$(echo "$line" | sed 's/.*(boot \([0-9]*\),.*/\1/')
		got=$(awk -v n="$n" -v b="$boot" '$1 == n && $2 == b' \
		    "$lib_tmp/logged" | wc -l)
		[ "$gen" -gt 500 ] && [ "$got" = "$gen" ] || {
			echo "  $n boot $boot: generated $gen, logged $got"
			return 1
		}
	done
}
check "log: the last boot holds all the simulator generated" last_ok

# ---------------------------------------------------------------- security
# Credentials for mosquitto_sub/pub go through their options file, never
# the command line (client_conf).
client_conf c-edge1 edge-01 "$hubdir/clients/edge-01.pw"
client_conf c-hist historian "$hubdir/clients/historian.pw"
client_conf c-none nobody /dev/null
rm -f "$lib_tmp/c-none/mosquitto_sub" "$lib_tmp/c-none/mosquitto_pub"
printf -- '-u edge-01\n-P wrong-password\n' >"$lib_tmp/c-none/wrong"

# sub NS CONFDIR ARGS...: mosquitto_sub, output and status kept.  Each
# client names itself: the broker refuses a zero-length client id, and
# checks that before the credentials.
sub_n=0
sub() {
	sub_ns=$1 sub_conf=$2
	shift 2
	sub_n=$((sub_n + 1))
	ip netns exec "$sub_ns" env XDG_CONFIG_HOME="$lib_tmp/$sub_conf" \
	    HOME=/nonexistent mosquitto_sub -i "check-$tag-$sub_n" "$@" \
	    >"$lib_tmp/sub.out" 2>&1
}
refused_auth() {
	! sub "$edge" "$@" && grep -q 'not authorised' "$lib_tmp/sub.out" ||
	    { sed 's/^/    /' "$lib_tmp/sub.out"; return 1; }
}
check "anonymous client refused (CONNACK 5, not authorised)" \
    refused_auth c-none -h 10.0.0.1 -t '#' -C 1 -W 5
# mosquitto_sub without an options file: the wrong password is given as
# an argument, being no secret.
check "wrong password refused (not authorised)" refused_auth c-none \
    -h 10.0.0.1 -u edge-01 -P wrong-password -t "$prefix/edge-01/cmd" -C 1 -W 5
check "control: a sensor's own credentials are accepted" sub "$edge" \
    c-edge1 -h 10.0.0.1 -t "$prefix/edge-01/cmd" -W 2 -E
lan_unreachable() {
	! sub "$edge" c-edge1 -h 192.168.79.1 -t "$prefix/edge-01/cmd" -W 5 -E &&
	    ! grep -q 'not authorised' "$lib_tmp/sub.out" ||
	    { sed 's/^/    /' "$lib_tmp/sub.out"; return 1; }
}
check "broker unreachable on the hub's LAN address" lan_unreachable

# While a simulator publishes: edge-01 listens to edge-02's telemetry.
start_sim 8 sim3.out
cross_sub() {
	sub "$edge" c-edge1 -h 10.0.0.1 -t "$prefix/edge-02/telemetry" \
	    -t "$prefix/+/telemetry" -t '#' -W 5
	! grep -q '"node_id"' "$lib_tmp/sub.out" ||
	    { head -n 3 "$lib_tmp/sub.out"; return 1; }
}
check "a sensor subscribed to other nodes' telemetry receives nothing" \
    cross_sub
check "control: the historian's credentials receive the telemetry" sh -c "
    ip netns exec $edge env XDG_CONFIG_HOME='$lib_tmp/c-hist' \
    HOME=/nonexistent mosquitto_sub -i check-$tag-h -h 10.0.0.1 \
    -t '$prefix/+/telemetry' -C 3 -W 5 | grep -c '\"node_id\"' | grep -qx 3"
wait_exit "$sim_pid" 300

# edge-01 publishes to edge-02's topic and to its own, a marker each; a
# subscriber with the historian's rights watches both.
pub_check() {
	ip netns exec "$hub" env XDG_CONFIG_HOME="$lib_tmp/c-hist" \
	    HOME=/nonexistent stdbuf -oL mosquitto_sub -d -i "check-$tag-w" \
	    -h 10.0.0.1 -t "$prefix/+/telemetry" -W 6 >"$lib_tmp/watch.out" \
	    2>&1 &
	watch=$!
	wait_until 5 subscribed "$lib_tmp/watch.out"
	for t in edge-02 edge-01; do
		ip netns exec "$edge" env XDG_CONFIG_HOME="$lib_tmp/c-edge1" \
		    HOME=/nonexistent mosquitto_pub -i "check-$tag-$t" \
		    -h 10.0.0.1 -q 1 \
		    -t "$prefix/$t/telemetry" -m "marker-to-$t-$tag"
	done
	wait "$watch"
}
pub_check
check "a sensor's publication to another node's topic is not delivered" \
    sh -c "! grep -q 'marker-to-edge-02' '$lib_tmp/watch.out'"
check "control: its publication to its own topic is delivered" \
    grep -q "marker-to-edge-01-$tag" "$lib_tmp/watch.out"

kill -TERM "$hist_pid"
wait_exit "$hist_pid" 100
check "historian: no write errors" sh -c "
    grep 'wgu-historian summary' '$lib_tmp/historian.log' | tail -n 1 |
    grep -q ' 0 write errors'"

lib_summary
