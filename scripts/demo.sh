#!/bin/sh
# The main job: the whole telemetry pipeline on one machine, over wgu.
#
#	scripts/demo.sh [--duration SECONDS] [--nodes N] [--rate HZ]
#	    [--out DIR] [--no-plot]
#
# As root, with no configuration.  It creates two network namespaces, a hub
# and an edge, joined by a veth "LAN" (192.168.100.0/24); generates keys
# with `wgu genkey`; writes wg-quick configs for both ends (the edge with
# PersistentKeepalive = 25) and brings each up with `wgu up PATH` inside
# its namespace; writes the hardened broker configuration with
# scripts/hub-setup.sh and starts Mosquitto in the hub, bound to the
# tunnel address 10.0.0.1 only; starts wgu-historian in the hub and
# wgu-sim (N virtual nodes, a 30 s anomaly cycle) on the edge; starts
# wgu-dashboard in the hub on the tunnel address (http://10.0.0.1:8080/,
# an operator account whose password it prints and keeps in a 0600 file
# in the output directory) and, near the end of the run, saves screenshots
# of its overview and alarms pages (headless Chromium, when installed);
# shows the historian's live view while the simulator runs (75 s by
# default); and then verifies: readings published versus logged (none lost, none twice),
# the anomalies seen of each kind, and the hub's security (anonymous and
# wrong-password clients refused, the broker unreachable on the hub's LAN
# address, a sensor's subscription to another node's telemetry and its
# publication to another node's topic getting nowhere).  Exit status 0
# only if every check passed.
#
# Everything it creates goes away at exit (namespaces, daemons, interfaces,
# sockets, the temp dir with keys, passwords and broker files) except the
# output directory: the historian's industrial_production.log, its reject
# log and, with gnuplot, the plot industrial_production.png, the
# dashboard's screenshots dashboard.png and dashboard-alarms.png, in --out DIR
# (default ./wgu-demo-DATE-TIME).  All traffic stays inside the two
# namespaces.  Binaries: $WGU_BINDIR, else build/src of this checkout, else
# $PATH.  The hub-and-edge setup is the pipeline tests' own, from
# tests/plant.sh (with tests/lib.sh) beside this script.
set -u

usage() {
	echo "usage: $0 [--duration SECONDS] [--nodes N] [--rate HZ]" \
	    "[--out DIR] [--no-plot]" >&2
	exit 2
}

die() {
	echo "demo: $*" >&2
	exit 1
}

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tests/lib.sh
. "$top/tests/lib.sh"
# shellcheck source=tests/plant.sh
. "$top/tests/plant.sh"
srcdir=$top
duration=75 nodes=3 rate=1 out='' plot=yes
cycle=30
while [ $# -gt 0 ]; do
	case $1 in
	--no-plot) plot=no; shift; continue ;;
	-h|--help) usage ;;
	--duration|--nodes|--rate|--out)
		[ $# -ge 2 ] || { echo "demo: $1 needs a value" >&2; usage; } ;;
	*) echo "demo: unknown option $1" >&2; usage ;;
	esac
	case $1 in
	--duration) duration=$2 ;;
	--nodes) nodes=$2 ;;
	--rate) rate=$2 ;;
	--out) out=$2 ;;
	esac
	shift 2
done
is_int() {
	case $1 in ''|*[!0-9]*) return 1 ;; esac
	[ "${#1}" -le 6 ]
}
is_int "$duration" && [ "$duration" -ge "$cycle" ] ||
    die "--duration: whole seconds, at least $cycle (one anomaly cycle)"
is_int "$nodes" && [ "$nodes" -ge 1 ] && [ "$nodes" -le 20 ] ||
    die "--nodes: 1 to 20"
is_int "$rate" && [ "$rate" -ge 1 ] && [ "$rate" -le 50 ] ||
    die "--rate: 1 to 50 readings per second per node"
out=${out:-./wgu-demo-$(date -u +%Y%m%d-%H%M%S)}

[ "$(id -u)" -eq 0 ] || die "run me as root (network namespaces, TUN)"
[ -e /dev/net/tun ] || die "no /dev/net/tun"
bindir=${WGU_BINDIR:-}
if [ -z "$bindir" ] && [ -x "$top/build/src/wgu" ]; then
	bindir=$top/build/src
fi
find_bin() {
	if [ -n "$bindir" ]; then
		[ -x "$bindir/$1" ] || die "$bindir/$1 is missing (build first:" \
		    "scripts/build.sh build)"
		echo "$bindir/$1"
	else
		command -v "$1" || die "$1 not found (build first:" \
		    "scripts/build.sh build, or set WGU_BINDIR)"
	fi
}
WGU=$(find_bin wgu) || exit 1
SIM=$(find_bin wgu-sim) || exit 1
HIST=$(find_bin wgu-historian) || exit 1
DASH=$(find_bin wgu-dashboard) || exit 1
# The web pages: this checkout's when run from one, else the installed ones.
www=$top/src/dashboard/www
[ -e "$www/index.html" ] || www=''
for c in ip ping mosquitto mosquitto_passwd mosquitto_sub mosquitto_pub ss \
    timeout getent nft; do
	command -v "$c" >/dev/null 2>&1 ||
	    die "$c is not installed (scripts/install-deps.sh installs it)"
done
getent group mosquitto >/dev/null || die "no mosquitto group (install mosquitto)"
# The users the programs become once set up (README, "Users and the
# sandbox"): make install creates them; a build run from its directory
# gets them here.
for u in wgu wgu-historian wgu-sim wgu-dashboard; do
	getent passwd "$u" >/dev/null && continue
	useradd --system --no-create-home --shell /usr/sbin/nologin "$u" ||
	    die "cannot create user $u"
done

# ---------------------------------------------------------------- network
tag=$$
lib_init
tmp=$lib_tmp
mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd)
log=$out/industrial_production.log
[ ! -e "$log" ] || die "$log exists: give the demo a fresh --out DIR"

step() {
	printf '\n== %s\n' "$*"
}

# Everything goes away at exit (plant_init's trap); an interrupted demo
# says so in its exit status.
plant_init demo 192.168.100
trap 'exit 130' INT
trap 'exit 143' TERM HUP
step "network: namespaces $hub and $edge, LAN 192.168.100.0/24"

step "tunnel: wgu up in both (keys from wgu genkey, kept in $tmp)"
plant_tunnel
sed 's/^/  /' "$tmp/wgu-up.log"
echo "edge 10.0.0.2 -> hub 10.0.0.1 through the tunnel: ping ok"

# ---------------------------------------------------------------- hub
node_ids=$(plant_node_list "$nodes")
step "hub: hardened Mosquitto on 10.0.0.1:1883 (scripts/hub-setup.sh)"
plant_hub_setup "$node_ids"
sed 's/^/  /' "$tmp/hub-setup.log"
# Port 1883 from the tunnel and loopback only, as the broker's systemd
# drop-in loads it on a real hub.
ip netns exec "$hub" nft -f "$tmp/hub/wgu-hub.nft" ||
    die "could not load the hub's nftables rules"
plant_start_broker "$hub" || {
	cat "$tmp/broker.log" >&2
	die "the broker did not start"
}

step "live telemetry: wgu-historian in the hub, wgu-sim ($nodes nodes," \
    "$rate/s, ${duration}s) on the edge"
color=never
[ -t 1 ] && color=always
ip netns exec "$hub" "$HIST" --broker 10.0.0.1 \
    --password-file "$tmp/hub/clients/historian.pw" --topic-prefix "$prefix" \
    --log "$log" --color "$color" 2>"$tmp/historian.err" &
historian=$!
lib_pids="$lib_pids $historian"
# Its session (and subscription) once the broker has it connected.
wait_until 10 grep -q ' as wgu-historian ' "$tmp/broker.log"
ip netns exec "$edge" "$SIM" --broker 10.0.0.1 --node-id edge \
    --nodes "$nodes" --password-file "$tmp/hub/clients/sensors.pw" \
    --topic-prefix "$prefix" --rate "$rate" --cycle "$cycle" \
    --seed "$tag" --duration "$duration" --spool-dir "$tmp/spool" \
    >"$tmp/sim.out" 2>"$tmp/sim.err" &
sim=$!
sim_start=$(date +%s)
lib_pids="$lib_pids $sim"

# ---------------------------------------------------------------- dashboard
# wgu-dashboard on the hub's tunnel address, reading the historian's store
# (beside its log) and the live readings and alarms on its own MQTT account.
dash_url=http://10.0.0.1:8080
dash_pw=$out/dashboard-operator.pw
(umask 077; head -c 18 /dev/urandom | base64 >"$dash_pw")
"$DASH" user add "$tmp/dashboard.users" operator --role operator \
    <"$dash_pw" >/dev/null || die "wgu-dashboard user add failed"
wait_until 10 test -s "${log%.log}.db"
ip netns exec "$hub" "$DASH" --listen 10.0.0.1:8080 \
    --metrics-listen 127.0.0.1:9108 --db "${log%.log}.db" \
    --acks "$tmp/acks.db" --users "$tmp/dashboard.users" --interface "$hif" \
    --broker 10.0.0.1 --password-file "$tmp/hub/clients/wgu-dashboard.pw" \
    --topic-prefix "$prefix" ${www:+--static "$www"} \
    >"$tmp/dashboard.log" 2>&1 &
dashboard=$!
lib_pids="$lib_pids $dashboard"
if wait_listen "$hub" 8080; then
	step "dashboard: $dash_url (in namespace $hub: ip netns exec $hub" \
	    "chromium --no-sandbox $dash_url/)"
	echo "  user operator, password $(cat "$dash_pw") (also in $dash_pw)"
	echo "  Prometheus metrics: http://127.0.0.1:9108/metrics in $hub"
else
	sed 's/^/  /' "$tmp/dashboard.log"
	echo "demo: the dashboard did not start (the demo goes on without it)" >&2
fi
# Screenshots near the end of the run, while readings still flow.
shots=''
if command -v chromium >/dev/null 2>&1 &&
    /usr/bin/python3 -c 'import selenium' 2>/dev/null; then
	(
		# About 15 s before the simulator stops (the browser takes a
		# few to start).
		pause=$((sim_start + duration - 15 - $(date +%s)))
		[ "$pause" -gt 0 ] && sleep "$pause"
		ip netns exec "$hub" /usr/bin/python3 \
		    "$top/scripts/dashboard-screenshot.py" --base "$dash_url" \
		    --user operator --password-file "$dash_pw" \
		    "/=$out/dashboard.png" "/alarms=$out/dashboard-alarms.png"
	) >"$tmp/screenshot.log" 2>&1 &
	shots=$!
	lib_pids="$lib_pids $shots"
else
	echo "(no chromium or python3-selenium: no dashboard screenshot)"
fi

# ---------------------------------------------------------------- security
# Client credentials for mosquitto_sub/pub go in their options file
# ($XDG_CONFIG_HOME/mosquitto_sub), never on a command line (client_conf).
client_conf c-sensor edge-01 "$tmp/hub/clients/edge-01.pw"
client_conf c-hist historian "$tmp/hub/clients/historian.pw"
mkdir -m 700 "$tmp/c-none"
other="edge-02"
[ "$nodes" -ge 2 ] || other="edge-99"
# mq NAME NS CONFDIR PROGRAM ARGS...: a mosquitto client with the client
# id demo-NAME-PID (the broker refuses an empty one, and one id kicks out
# the other) and only our options file; its output in $tmp/NAME.out, line
# by line.
mq() {
	mq_name=$1 mq_ns=$2 mq_conf=$3 mq_prog=$4
	shift 4
	ip netns exec "$mq_ns" env XDG_CONFIG_HOME="$tmp/$mq_conf" \
	    HOME=/nonexistent stdbuf -oL "$mq_prog" -i "demo-$mq_name-$tag" \
	    "$@" >"$tmp/$mq_name.out" 2>&1
}
# In the background while the simulator runs: edge-01's credentials
# subscribed to the other nodes' telemetry, and the historian's (the
# control that proves telemetry flowed meanwhile); then edge-01 publishing
# to another node's topic and to its own, watched with the historian's.
(
	wait_until 30 has_lines "$log" 1
	mq cross "$edge" c-sensor mosquitto_sub -h 10.0.0.1 \
	    -t "$prefix/$other/telemetry" -t "$prefix/+/telemetry" -t '#' -W 6 &
	mq control "$edge" c-hist mosquitto_sub -h 10.0.0.1 \
	    -t "$prefix/+/telemetry" -C 3 -W 6 &
	wait
	mq watch "$hub" c-hist mosquitto_sub -d -h 10.0.0.1 \
	    -t "$prefix/+/telemetry" -W 5 &
	wait_until 5 subscribed "$tmp/watch.out"
	mq pub-other "$edge" c-sensor mosquitto_pub -h 10.0.0.1 -q 1 \
	    -t "$prefix/$other/telemetry" -m "not-a-reading-to-$other"
	mq pub-own "$edge" c-sensor mosquitto_pub -h 10.0.0.1 -q 1 \
	    -t "$prefix/edge-01/telemetry" -m "not-a-reading-to-edge-01"
	wait
) &
checker=$!
lib_pids="$lib_pids $checker"

wait "$sim"
sim_status=$?
wait "$checker"
[ -n "$shots" ] && { wait "$shots"; lib_pids=$(echo "$lib_pids" |
    sed "s/ $shots\$//; s/ $shots / /"); }
lib_pids=$(echo "$lib_pids" |
    sed "s/ $sim\$//; s/ $sim / /; s/ $checker / /; s/ $checker\$//")

# The historian catches up with the last readings (10 s at most).
expected=$(awk '/: generated/ { n += $3 } END { print n + 0 }' \
    "$tmp/sim.out" | tr -d ,)
wait_until 10 has_lines "$log" "$expected"
# Duplicates would come late: an absence is waited for by time.
sleep 0.5
kill -TERM "$historian"
wait "$historian"
lib_pids=$(echo "$lib_pids" | sed "s/ $historian\$//; s/ $historian / /")

# ---------------------------------------------------------------- verify
passed=0 failed=0
result() { # STATUS TEXT
	if [ "$1" -eq 0 ]; then
		passed=$((passed + 1))
		echo "PASS  $2"
	else
		failed=$((failed + 1))
		echo "FAIL  $2"
	fi
}

step "VERIFICATION"
echo "simulator (what was published):"
sed 's/^/  /' "$tmp/sim.out"
[ "$sim_status" -eq 0 ] || sed 's/^/  /' "$tmp/sim.err"
# node boot seq, one per whole log line (the torn ones are counted below).
log_keys "$log" 2>/dev/null | sort >"$tmp/keys"
echo "historian's log ($log):"
printf '  %-10s %10s %10s %10s %10s\n' node published logged twice missing
all_nodes_ok=0
for id in $(echo "$node_ids" | tr ',' ' '); do
	line=$(grep "^$id: generated" "$tmp/sim.out")
	gen=$(echo "$line" | sed -n 's/^[^:]*: generated \([0-9]*\),.*/\1/p')
	pending=$(echo "$line" | sed -n 's/.* pending \([0-9]*\),.*/\1/p')
	lost=$(echo "$line" | sed -n 's/.* lost \([0-9]*\) .*/\1/p')
	gen=${gen:-0} pending=${pending:-1} lost=${lost:-1}
	mine=$(awk -v n="$id" '$1 == n' "$tmp/keys")
	logged=$(printf '%s\n' "$mine" | grep -c .)
	twice=$(printf '%s\n' "$mine" | uniq -d | grep -c .)
	missing=$(printf '%s\n' "$mine" | awk -v g="$gen" '{ s[$3] = 1 }
	    END { for (i = 1; i <= g; i++) if (!(i in s)) m++; print m + 0 }')
	printf '  %-10s %10s %10s %10s %10s\n' "$id" "$gen" "$logged" "$twice" \
	    "$missing"
	[ "$gen" -gt 0 ] && [ "$logged" -eq "$gen" ] && [ "$twice" -eq 0 ] &&
	    [ "$missing" -eq 0 ] && [ "$pending" -eq 0 ] && [ "$lost" -eq 0 ] ||
	    all_nodes_ok=1
done
result $all_nodes_ok "every published reading logged, none twice, none lost"
torn=$(grep -cvE '^\{"received":[0-9]+,"topic":"[^"]*",("ts":[0-9]+,"guarantee":"[a-z-]+",)?"payload":\{.*\},"chain":"[0-9a-f]+"\}$' "$log")
[ -z "$(tail -c 1 "$log" | tr -d '\n')" ] || torn=$((torn + 1))
[ "$torn" -eq 0 ]
result $? "the log holds whole JSON lines only"

# Anomalies by cause: the thresholds of src/mqtt/telemetry.h.
awk '{
	if (!match($0, /"p":[-0-9.eE+]+/)) next; p = substr($0, RSTART + 4, RLENGTH - 4) + 0
	if (!match($0, /"t":[-0-9.eE+]+/)) next; t = substr($0, RSTART + 4, RLENGTH - 4) + 0
	if (!match($0, /"v":[-0-9.eE+]+/)) next; v = substr($0, RSTART + 4, RLENGTH - 4) + 0
	if (p >= 9.5) pc++; else if (p >= 8.0) pw++
	if (t >= 95.0) tc++; else if (t >= 80.0) tw++
	if (v >= 7.1) vc++; else if (v >= 4.5) vw++
	if (match($0, /"status":[0-9]/)) st[substr($0, RSTART + 9, 1)]++
}
END {
	printf "  status: %d normal, %d warning, %d critical\n", st[0], st[1], st[2]
	printf "  pressure (hydraulic overpressure): %d warning, %d critical\n", pw, pc
	printf "  temperature (cooling inefficiency): %d warning, %d critical\n", tw, tc
	printf "  vibration (mechanical wear):        %d warning, %d critical\n", vw, vc
	exit !(pw + pc > 0 && tw + tc > 0 && vw + vc > 0)
}' "$log" >"$tmp/anomalies"
anomalies=$?
echo "anomalies in the log:"
cat "$tmp/anomalies"
result $anomalies "anomalies of each kind seen (pressure, temperature, vibration)"

echo "hub security:"
mq anon "$edge" c-none mosquitto_sub -h 10.0.0.1 -t '#' -C 1 -W 5
st=$?
[ $st -ne 0 ] && grep -q 'not authorised' "$tmp/anon.out"
result $? "anonymous client refused: $(head -n 1 "$tmp/anon.out")"
# A wrong password is no secret: it may go on the command line.
mq wrong "$edge" c-none mosquitto_sub -h 10.0.0.1 -u edge-01 \
    -P not-the-password -t "$prefix/edge-01/cmd" -C 1 -W 5
st=$?
[ $st -ne 0 ] && grep -q 'not authorised' "$tmp/wrong.out"
result $? "wrong password refused: $(head -n 1 "$tmp/wrong.out")"
mq lan "$edge" c-sensor mosquitto_sub -h 192.168.100.1 \
    -t "$prefix/edge-01/cmd" -C 1 -W 5
st=$?
[ $st -ne 0 ] && ! grep -q 'not authorised' "$tmp/lan.out"
result $? "broker unreachable on the hub's LAN address 192.168.100.1:\
 $(head -n 1 "$tmp/lan.out")"
[ "$(grep -c '"node_id"' "$tmp/control.out")" -ge 3 ] &&
    ! grep -q '"node_id"' "$tmp/cross.out"
result $? "edge-01 subscribed to $other's (and every) telemetry received nothing (the historian's account got $(grep -c '"node_id"' "$tmp/control.out") readings meanwhile)"
grep -q 'not-a-reading-to-edge-01' "$tmp/watch.out" &&
    ! grep -q "not-a-reading-to-$other" "$tmp/watch.out"
result $? "edge-01 publishing to $other's topic not delivered (to its own: delivered)"

if [ "$plot" = yes ] && command -v gnuplot >/dev/null 2>&1; then
	echo "plot:"
	sh "$top/scripts/plot-log.sh" -o "$out/industrial_production.png" \
	    "$log" 2>&1 | sed 's/^/  /'
fi
if [ -s "$out/dashboard.png" ]; then
	echo "dashboard screenshots: $out/dashboard.png," \
	    "$out/dashboard-alarms.png"
elif [ -n "$shots" ]; then
	echo "no dashboard screenshot:"
	sed 's/^/  /' "$tmp/screenshot.log"
fi
echo
echo "log: $log"
echo "rejects (the test message edge-01 sent itself): ${log%.log}.rejects.log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
