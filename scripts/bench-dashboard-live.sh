#!/bin/sh
# The dashboard's live path under load (issue 15's speed figures): NODES
# nodes publishing one reading a second each to a real mosquitto, BROWSERS
# event streams open on /events (curl; a few of them timing each reading
# on arrival), for SECONDS seconds.  Prints the dashboard's CPU use (share
# of one core) and the delay from publishing to arrival on a stream
# (median, 99th percentile, maximum).  Everything runs on loopback in a
# network namespace of its own.
#
#	scripts/bench-dashboard-live.sh [NODES [BROWSERS [SECONDS]]]   (1000 50 20)
#
# Run as root from the top of a built tree (build/src/wgu-dashboard) or
# with WGU_DASHBOARD=path.  Needs mosquitto, curl and Debian's
# python3-paho-mqtt (run with /usr/bin/python3).
set -eu
nodes=${1:-1000}
browsers=${2:-50}
seconds=${3:-20}
timed=5
dash=${WGU_DASHBOARD:-build/src/wgu-dashboard}
[ "$(id -u)" = 0 ] || { echo "bench-dashboard-live: run as root" >&2; exit 1; }
[ -x "$dash" ] || { echo "bench-dashboard-live: no $dash" >&2; exit 1; }
[ "$browsers" -ge "$timed" ] || timed=$browsers

T=$(mktemp -d /tmp/wgu-bench-dash.XXXXXX)
chmod 711 "$T"
ns=wgu-bd-$$
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
ip netns add "$ns"
ip -n "$ns" link set lo up
X="ip netns exec $ns"

cat >"$T/pub.py" <<'EOF'
import json, sys, time
import paho.mqtt.client as mqtt
nodes, seconds = int(sys.argv[1]), int(sys.argv[2])
c = mqtt.Client(client_id="bench")
c.connect("127.0.0.1", 1883)
c.loop_start()
t0 = time.time()
for s in range(seconds):
    for i in range(nodes):
        n = "n%04d" % i
        c.publish("plant1/area1/line1/%s/telemetry" % n, json.dumps({
            "node_id": n, "timestamp": int(time.time() * 1000),
            "data": {"p": 5.0, "t": 60.0, "v": 2.0}, "status": 0}))
    left = t0 + s + 1 - time.time()
    if left > 0:
        time.sleep(left)
c.loop_stop()
EOF
cat >"$T/lat.py" <<'EOF'
import json, sys, time
for line in sys.stdin:
    if line.startswith("data: "):
        now = time.time() * 1000
        try:
            d = json.loads(line[6:])
        except ValueError:
            continue
        if "ts" in d:
            print("%.1f" % (now - d["ts"]), flush=True)
EOF

printf 'listener 1883 127.0.0.1\nallow_anonymous true\nmax_queued_messages 100000\n' \
    >"$T/mosquitto.conf"
chmod 644 "$T/mosquitto.conf"
$X mosquitto -c "$T/mosquitto.conf" >"$T/broker.log" 2>&1 &
pids="$pids $!"
printf 'bench-password\n' | "$dash" user add "$T/users" bench 2>/dev/null
mkdir -p "$T/www" "$T/acks"
echo '<!doctype html><title>login</title>' >"$T/www/login.html"
chmod -R a+rX "$T/www"
getent passwd wgu-dashboard >/dev/null &&
    chown wgu-dashboard "$T/acks" || export WGU_DASHBOARD_USER=root
sleep 0.3
$X "$dash" --users "$T/users" --static "$T/www" --db "$T/none.db" \
    --acks "$T/acks/acks.db" --broker 127.0.0.1 >"$T/dashboard.log" 2>&1 &
dpid=$!
pids="$pids $dpid"
sleep 1
$X curl -s -c "$T/jar" -d 'username=bench&password=bench-password' \
    http://127.0.0.1:8080/login
i=0
while [ $i -lt "$browsers" ]; do
	if [ $i -lt "$timed" ]; then
		$X curl -sN -b "$T/jar" http://127.0.0.1:8080/events |
		    /usr/bin/python3 -u "$T/lat.py" >"$T/lat.$i" &
	else
		$X curl -sN -b "$T/jar" http://127.0.0.1:8080/events \
		    >/dev/null &
	fi
	pids="$pids $!"
	i=$((i + 1))
done
sleep 1
t0=$(awk '{ print $14 + $15 }' "/proc/$dpid/stat")
$X /usr/bin/python3 "$T/pub.py" "$nodes" "$seconds"
t1=$(awk '{ print $14 + $15 }' "/proc/$dpid/stat")
sleep 2
hz=$(getconf CLK_TCK)
echo "wgu-dashboard: $nodes nodes at 1 Hz, $browsers event streams, $seconds s"
echo "  CPU: $(echo "$t0 $t1 $hz $seconds" |
    awk '{ printf "%.1f", ($2 - $1) / $3 / $4 * 100 }') % of one core"
cat "$T"/lat.* | sort -n | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "  no readings arrived"; exit 1 }
    p99 = int(NR * 0.99) + 1
    if (p99 > NR) p99 = NR
    printf "  publish to stream: %d readings timed, median %.0f ms, " \
        "99%% %.0f ms, max %.0f ms\n", NR, v[int(NR / 2) + 1], v[p99],
        v[NR] }'
$X curl -s http://127.0.0.1:9108/metrics |
    grep -E '^wgu_dashboard_sse_(clients|overflows_total) ' | sed 's/^/  /'
