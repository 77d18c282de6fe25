#!/bin/sh
# A real Prometheus (Debian's 2.42) scraping the plant's metrics: the hub's
# wgu-dashboard /metrics (127.0.0.1:9108 in the hub) and an edge's
# `wgu stats --prometheus IFACE` output, written every second as a
# node_exporter textfile would be and served by a small static HTTP server
# on the edge's tunnel address (10.0.0.2:9100), so the hub's Prometheus
# scrapes the edge through the tunnel as it would in a plant.  Asserted
# through Prometheus's query API: both targets up; every simulated node's
# wgu_node_readings_total above 0 and growing; a node driven critical
# (mosquitto_pub as edge-04) with its value, status 2 and an active
# critical threshold alarm in wgu_alarms_active; the peer's handshake
# age under 180 s on both ends; bytes each way on the edge.  And
# `promtool check metrics` clean on both outputs.
#
# Needs root, mosquitto and its clients, prometheus (promtool), curl;
# exits 77 otherwise.  About 40 s.  WGU_BIN names wgu; wgu-sim,
# wgu-historian, wgu-dashboard beside it.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/plant.sh
. "$(dirname "$0")/plant.sh"

plant_require timeout ping mosquitto_pub prometheus promtool curl
[ -x /usr/bin/python3 ] || lib_skip "no /usr/bin/python3"
DASH=$(dirname "$WGU")/wgu-dashboard
plant_need "$DASH"
start=$(date +%s)
stamp() { echo "  [$(($(date +%s) - start)) s] $*"; }

plant_init m 192.168.88
db=${prod%.log}.db
# Normal for the test's length; edge-04 goes critical.
plant_watched 16
wait_until 10 test -s "$db"
# Accounts are not needed for /metrics, but the dashboard wants its file.
check "a users file" sh -c "head -c 18 /dev/urandom | base64 |
    '$DASH' user add '$lib_tmp/users' nobody"
ip netns exec "$hub" "$DASH" --listen 127.0.0.1:8080 \
    --metrics-listen 127.0.0.1:9108 --db "$db" --acks "$lib_tmp/acks.db" \
    --users "$lib_tmp/users" --interface "$hif" --broker 10.0.0.1 \
    --username wgu-dashboard \
    --password-file "$hubdir/clients/wgu-dashboard.pw" \
    --topic-prefix "$prefix" --static "$srcdir/src/dashboard/www" \
    >"$lib_tmp/dashboard.log" 2>&1 &
dash_pid=$!
lib_pids="$lib_pids $dash_pid"
check_or_stop "dashboard's metrics listen on 127.0.0.1:9108" \
    "$lib_tmp/dashboard.log" wait_listen "$hub" 9108

# ---------------------------------------------------------------- edge
# The textfile collector's way: written beside, renamed into place.
mkdir "$lib_tmp/textfile"
ip netns exec "$edge" sh -c "
    while :; do
	'$WGU' stats --prometheus '$eif' >'$lib_tmp/textfile/.metrics.tmp' \
	    2>>'$lib_tmp/stats.log' &&
	    mv '$lib_tmp/textfile/.metrics.tmp' '$lib_tmp/textfile/metrics'
	sleep 1
    done" &
lib_pids="$lib_pids $!"
check "wgu stats --prometheus writes the edge's textfile" \
    wait_until 5 test -s "$lib_tmp/textfile/metrics"
ip netns exec "$edge" /usr/bin/python3 -m http.server 9100 \
    --bind 10.0.0.2 --directory "$lib_tmp/textfile" \
    >"$lib_tmp/textfile-http.log" 2>&1 &
lib_pids="$lib_pids $!"
check_or_stop "the textfile served on the edge's tunnel address" \
    "$lib_tmp/textfile-http.log" wait_listen "$edge" 9100

# ---------------------------------------------------------------- prometheus
cat >"$lib_tmp/prometheus.yml" <<EOF
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: hub
    static_configs: [{targets: ['127.0.0.1:9108']}]
  - job_name: edge
    static_configs: [{targets: ['10.0.0.2:9100']}]
EOF
ip netns exec "$hub" prometheus --config.file="$lib_tmp/prometheus.yml" \
    --storage.tsdb.path="$lib_tmp/tsdb" \
    --web.listen-address=127.0.0.1:19090 >"$lib_tmp/prometheus.log" 2>&1 &
lib_pids="$lib_pids $!"
check_or_stop "prometheus ready" "$lib_tmp/prometheus.log" wait_until 15 \
    ip netns exec "$hub" curl -sf -o /dev/null http://127.0.0.1:19090/-/ready
stamp "plant, dashboard, edge textfile and prometheus up"

# edge-04 critical (p 11.2 bar), as a device would say it.
client_conf c-pub edge-04 "$hubdir/clients/edge-04.pw"
pub_critical() {
	ip netns exec "$edge" env XDG_CONFIG_HOME="$lib_tmp/c-pub" \
	    HOME=/nonexistent mosquitto_pub -h 10.0.0.1 -q 1 -i edge-04 \
	    -t "$prefix/edge-04/telemetry" -m "{\"timestamp\":$(date +%s)000,\
\"node_id\":\"edge-04\",\"data\":{\"p\":11.2,\"t\":60.5,\"v\":1.5},\"status\":2}"
}
check "edge-04 publishes a critical reading" pub_critical

# q PROMQL: the query's result as "LABELS VALUE" lines, one a series
# (labels as {k="v",...} sorted by name), into $lib_tmp/q.out.
q() {
	ip netns exec "$hub" curl -sf -G http://127.0.0.1:19090/api/v1/query \
	    --data-urlencode "query=$1" >"$lib_tmp/q.json" || return 1
	/usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
if r.get("status") != "success":
    sys.exit(1)
for s in r["data"]["result"]:
    m = s["metric"]
    print("{" + ",".join("%s=\"%s\"" % (k, m[k]) for k in sorted(m)) + "}",
          s["value"][1])' "$lib_tmp/q.json" >"$lib_tmp/q.out"
}
# has_series PROMQL N: the query returns at least N series.
has_series() {
	q "$1" && [ "$(wc -l <"$lib_tmp/q.out")" -ge "$2" ]
}
# value PROMQL: the single value of a query (empty when none).
value() {
	q "$1" && awk 'NR == 1 { print $2 }' "$lib_tmp/q.out"
}

check "both targets up" wait_until 20 has_series 'up == 1' 2
stamp "first samples"
check "wgu_node_readings_total > 0 for each simulated node" wait_until 10 \
    has_series 'wgu_node_readings_total{job="hub",node=~"edge-0[123]"} > 0' 3
readings='wgu_node_readings_total{job="hub",node=~"edge-0[123]"}'
q "$readings" && mv "$lib_tmp/q.out" "$lib_tmp/readings.1"
sleep 3
q "$readings" && mv "$lib_tmp/q.out" "$lib_tmp/readings.2"
sed 's/^/  then: /' "$lib_tmp/readings.1"
sed 's/^/  3 s later: /' "$lib_tmp/readings.2"
check "... and growing (3 s later, at 2 readings a second)" awk '
    NR == FNR { before[$1] = $2; next }
    ($1 in before) && $2 > before[$1] { grew++ }
    END { exit grew != 3 }' "$lib_tmp/readings.1" "$lib_tmp/readings.2"
value_is() {
	[ "$(value "$1")" = "$2" ]
}
check "edge-04's pressure: wgu_node_value 11.2" wait_until 10 value_is \
    'wgu_node_value{node="edge-04",field="p"}' 11.2
check "edge-04's status: wgu_node_status 2" wait_until 10 has_series \
    'wgu_node_status{node="edge-04"} == 2' 1
check "the critical threshold alarm in wgu_alarms_active" wait_until 15 \
    has_series 'wgu_alarms_active{kind="threshold",severity="2"} >= 1' 1
check "hub's peer: wgu_peer_last_handshake_age_seconds < 180" has_series \
    'wgu_peer_last_handshake_age_seconds{job="hub",interface="'"$hif"'"} < 180' 1 ||
    ip netns exec "$hub" curl -sf http://127.0.0.1:9108/metrics |
    grep -E '^wgu_(peer|drops)|tunnel|uapi' | sed 's/^/    /'
check "edge's peer (through its textfile): handshake age < 180" has_series \
    'wgu_peer_last_handshake_age_seconds{job="edge",interface="'"$eif"'"} < 180' 1
bytes_both() {
	has_series 'wgu_peer_receive_bytes_total{job="edge"} > 0' 1 &&
	    has_series 'wgu_peer_transmit_bytes_total{job="edge"} > 0' 1
}
check "edge's bytes each way > 0" bytes_both
check "edge's drop counters: wgu_drops_total series" has_series \
    'wgu_drops_total{job="edge"}' 1
check "the historian's figures: wgu_historian_gaps_open present" has_series \
    'wgu_historian_gaps_open{job="hub"}' 1

# ---------------------------------------------------------------- promtool
ip netns exec "$hub" curl -sf http://127.0.0.1:9108/metrics \
    >"$lib_tmp/hub.prom"
check "promtool check metrics: the dashboard's /metrics" sh -c "
    [ -s '$lib_tmp/hub.prom' ] &&
    promtool check metrics <'$lib_tmp/hub.prom' >'$lib_tmp/promtool-hub.log' 2>&1" ||
    sed 's/^/    /' "$lib_tmp/promtool-hub.log"
check "promtool check metrics: wgu stats --prometheus" sh -c "
    promtool check metrics <'$lib_tmp/textfile/metrics' \
    >'$lib_tmp/promtool-edge.log' 2>&1" ||
    sed 's/^/    /' "$lib_tmp/promtool-edge.log"
check "dashboard still running" is_running "$dash_pid"
stamp "end"
lib_summary
