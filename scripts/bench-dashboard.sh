#!/bin/sh
# The dashboard's figures for the README (a benchmark, not a test: no
# assertion): 1,000 simulated nodes at 1 Hz through the real plant
# (tests/plant.sh: wgu tunnel, hardened mosquitto, wgu-historian with its
# store; wgu-sim processes of 500 nodes each on the edge) and
# wgu-dashboard in the hub with 50 clients on the overview: a few real
# browsers (headless Chromium through Selenium) and, for the rest, event
# streams read by one Python process (scripts/bench-dashboard.py sse: the
# same /events stream a browser opens, without a browser's cost).
# Measured:
#   - the dashboard's CPU, % of one core (utime+stime from /proc), with
#     the readings flowing and no client, then with the 50 clients;
#   - the overview's load time in the browsers: navigation to every
#     node's tile drawn (three loads each);
#   - the live-update latency: a reading's "received" time at the hub to
#     its arrival at the client (the stream readers), or to the page's own
#     event handler (the browsers); 50th and 99th percentile, maximum.
# Everything runs on this machine: the clients compete with the plant for
# the same cores, so their latency includes their own waiting.
#
#	scripts/bench-dashboard.sh [--nodes N] [--browsers B] [--clients C]
#	    [--seconds S]
#
# Defaults: 1000 nodes, 3 browsers, 50 clients in all, 30 s measured.  As
# root; binaries from $WGU_BINDIR, else build/src of this checkout.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
nodes=1000 browsers=3 clients=50 seconds=30
while [ $# -gt 0 ]; do
	case $1 in
	--nodes|--browsers|--clients|--seconds)
		[ $# -ge 2 ] || { echo "bench-dashboard: $1 needs a value" >&2
		    exit 2; } ;;
	*) echo "usage: $0 [--nodes N] [--browsers B] [--clients C]" \
	    "[--seconds S]" >&2; exit 2 ;;
	esac
	case $2 in ''|*[!0-9]*) echo "bench-dashboard: $1: a number" >&2
	    exit 2 ;; esac
	case $1 in
	--nodes) nodes=$2 ;;
	--browsers) browsers=$2 ;;
	--clients) clients=$2 ;;
	--seconds) seconds=$2 ;;
	esac
	shift 2
done
[ "$browsers" -le "$clients" ] || { echo "bench-dashboard: more browsers" \
    "than clients" >&2; exit 2; }
bindir=${WGU_BINDIR:-$top/build/src}
WGU_BIN=$bindir/wgu
export WGU_BIN
# shellcheck source=tests/lib.sh
. "$top/tests/lib.sh"
# shellcheck source=tests/plant.sh
. "$top/tests/plant.sh"
plant_require curl chromium chromedriver
DASH=$bindir/wgu-dashboard
plant_need "$DASH"
/usr/bin/python3 -c 'import selenium' || exit 1
t0=$(date +%s)
say() { echo "[$(($(date +%s) - t0)) s] $*"; }

plant_init b 192.168.89
plant_tunnel
# wgu-sim runs at most 999 nodes a process: groups of 500, ids
# s1-001..s1-500, s2-001...
groups=$(((nodes + 499) / 500))
ids=''
g=1
while [ $g -le "$groups" ]; do
	n=$((nodes - (g - 1) * 500))
	[ $n -gt 500 ] && n=500
	i=1
	while [ $i -le $n ]; do
		if [ $n -gt 99 ]; then ids=$ids$(printf 's%d-%03d,' $g $i)
		else ids=$ids$(printf 's%d-%02d,' $g $i); fi
		i=$((i + 1))
	done
	g=$((g + 1))
done
say "hub-setup for $nodes nodes"
plant_hub_setup "${ids%,}"
check_or_stop "broker" "$lib_tmp/broker.log" plant_start_broker "$hub"
plant_start_historian
check_or_stop "historian" "$lib_tmp/historian.log" \
    wait_until 10 historian_subscribed
run_for=$((seconds + 240))
g=1
while [ $g -le "$groups" ]; do
	n=$((nodes - (g - 1) * 500))
	[ $n -gt 500 ] && n=500
	ip netns exec "$edge" "$SIM" --broker 10.0.0.1 --node-id "s$g" \
	    --nodes "$n" --password-file "$hubdir/clients/sensors.pw" \
	    --topic-prefix "$prefix" --rate 1 --seed "$g" \
	    --duration "$run_for" --spool-dir "$lib_tmp/spool" \
	    >"$lib_tmp/sim$g.out" 2>>"$lib_tmp/sim.log" &
	lib_pids="$lib_pids $!"
	g=$((g + 1))
done
db=${prod%.log}.db
wait_until 20 test -s "$db"
pw=$lib_tmp/bench.pw
(umask 077; head -c 18 /dev/urandom | base64 >"$pw")
"$DASH" user add "$lib_tmp/users" bench --role viewer <"$pw" >/dev/null
ip netns exec "$hub" "$DASH" --listen 127.0.0.1:8080 \
    --metrics-listen 127.0.0.1:9108 --db "$db" --acks "$lib_tmp/acks.db" \
    --users "$lib_tmp/users" --interface "$hif" --broker 10.0.0.1 \
    --password-file "$hubdir/clients/wgu-dashboard.pw" \
    --topic-prefix "$prefix" --static "$top/src/dashboard/www" \
    >"$lib_tmp/dashboard.log" 2>&1 &
dash=$!
lib_pids="$lib_pids $dash"
check_or_stop "dashboard" "$lib_tmp/dashboard.log" wait_listen "$hub" 8080

# Every node known to the dashboard (its /metrics counts them).
known() {
	ip netns exec "$hub" curl -sf http://127.0.0.1:9108/metrics |
	    grep -c '^wgu_node_readings_total{'
}
wait_until 120 sh -c "[ \$(ip netns exec '$hub' curl -sf \
    http://127.0.0.1:9108/metrics | grep -c '^wgu_node_readings_total{') \
    -ge $nodes ]"
say "$(known) nodes known to the dashboard"

# cpu_ticks: the dashboard's utime + stime, in clock ticks.
cpu_ticks() {
	sed 's/^.*) //' "/proc/$dash/stat" | awk '{ print $12 + $13 }'
}
hz=$(getconf CLK_TCK)
# cpu_percent SECONDS: % of one core over the next SECONDS.
cpu_percent() {
	c1=$(cpu_ticks) s1=$(date +%s.%N)
	sleep "$1"
	c2=$(cpu_ticks) s2=$(date +%s.%N)
	awk -v a="$c1" -v b="$c2" -v s="$s1" -v e="$s2" -v hz="$hz" \
	    'BEGIN { printf "%.1f", 100 * (b - a) / hz / (e - s) }'
}
idle=$(cpu_percent 10)
say "dashboard CPU, readings flowing, no client: $idle % of one core"

start_at=$(($(date +%s) + 60))
bench() {
	ip netns exec "$hub" /usr/bin/python3 "$top/scripts/bench-dashboard.py" \
	    "$@" --base http://127.0.0.1:8080 --user bench --password-file "$pw" \
	    --start-at "$start_at" --seconds "$seconds"
}
streams=$((clients - browsers))
readers=''
if [ "$streams" -gt 0 ]; then
	bench sse --clients "$streams" >"$lib_tmp/sse.json" \
	    2>"$lib_tmp/sse.err" &
	readers=$!
fi
b=1
while [ $b -le "$browsers" ]; do
	bench browser --nodes "$nodes" >"$lib_tmp/browser$b.json" \
	    2>"$lib_tmp/browser$b.err" &
	readers="$readers $!"
	b=$((b + 1))
done
say "$streams event streams and $browsers browsers connecting;" \
    "measuring from $(date -d "@$start_at" +%T) for $seconds s"
pause=$((start_at - $(date +%s)))
[ $pause -gt 0 ] && sleep $pause
busy=$(cpu_percent "$seconds")
for r in $readers; do
	wait "$r"
done
say "done"

echo
echo "== wgu-dashboard, $nodes nodes at 1 Hz, $clients overview clients" \
    "($browsers headless Chromium, $streams event-stream readers)"
echo "dashboard CPU: $idle % of one core with no client, $busy % with" \
    "the $clients clients"
for f in "$lib_tmp"/browser*.json; do
	[ -s "$f" ] || { echo "a browser failed:"; cat "${f%.json}.err"; continue; }
	cat "$f"
done
cat "$lib_tmp/sse.json" "$lib_tmp/sse.err" 2>/dev/null
cat "$lib_tmp"/browser*.json 2>/dev/null | /usr/bin/python3 -c '
import json, statistics, sys
loads, p99, p50, n = [], [], [], 0
for line in sys.stdin:
    o = json.loads(line)
    loads += o["loads_s"]
    if o["n"]:
        p50.append(o["p50_ms"]); p99.append(o["p99_ms"]); n += o["n"]
if loads:
    print("overview load (navigation to %s tiles): median %.2f s, max %.2f s"
          " (%d loads)" % (sys.argv[1], statistics.median(loads), max(loads),
                           len(loads)))
if p99:
    print("browsers: %d live updates, latency p50 %d ms, p99 %d ms (worst "
          "browser)" % (n, max(p50), max(p99)))' "$nodes"
/usr/bin/python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
print("event streams: %d readings, latency p50 %s ms, p99 %s ms, max %s ms;"
      " per stream %d..%d readings (%s expected)" % (o["n"], o["p50_ms"],
      o["p99_ms"], o["max_ms"], o["events_min"], o["events_max"],
      sys.argv[2]))' "$lib_tmp/sse.json" \
    "$((nodes * seconds))" 2>/dev/null
lib_summary
