#!/bin/sh
# The dashboard's tunnel page and tunnel metrics (src/dashboard/tunnel.c,
# metrics.c) against real wgu daemons: a hub and an edge in their own
# namespaces, a handshake and traffic between them, then /api/tunnel and
# /metrics of the hub's interface through tests/dash_tunnel_probe (the
# data side alone, no HTTP): the peer's key in base64, its endpoint, a
# fresh handshake, bytes both ways, wgu's drop counters; promtool accepts
# the metrics.  An interface without a daemon: 503, and tunnel_up 0.
#
# Traffic never leaves the namespaces this script creates.  Needs root;
# exits 77 otherwise or when wg, ip, ping, ss or promtool is missing.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

lib_require_tunnel ping ss promtool
lib_init

# WGU_DASH_PROBE: the probe (default: tests/dash_tunnel_probe next to
# src/wgu in the build tree).
PROBE=${WGU_DASH_PROBE:-$(dirname "$WGU")/../tests/dash_tunnel_probe}
[ -x "$PROBE" ] || lib_skip "no $PROBE (make tests/dash_tunnel_probe)"

tag=$$
hub=wgu-dh-$tag edge=wgu-de-$tag
hif=dh-$tag eif=de-$tag
PORT=51840

ns_create "$hub" && ns_create "$edge" &&
    ns_link "$hub" "$edge" 192.168.78.1/24 192.168.78.2/24 || {
	not_ok "namespaces"
	lib_summary
}
hpub=$(genkey h) && epub=$(genkey e) || { not_ok "keys"; lib_summary; }
start_wgu "$hub" "$hif" && start_wgu "$edge" "$eif" || {
	not_ok "wgu daemons start"
	lib_summary
}
wg set "$hif" private-key "$lib_tmp/h.key" listen-port $PORT \
    peer "$epub" allowed-ips 10.78.0.2/32 &&
wg set "$eif" private-key "$lib_tmp/e.key" listen-port $((PORT + 1)) \
    peer "$hpub" allowed-ips 10.78.0.1/32 endpoint 192.168.78.1:$PORT &&
ns_if_up "$hub" "$hif" 10.78.0.1/24 &&
ns_if_up "$edge" "$eif" 10.78.0.2/24 || not_ok "configuration"
check "ping edge -> hub through the tunnel" pings_ok "$edge" 10.78.0.1

# One member of the /api/tunnel JSON, by a path of keys and indexes.
json_get() {
	/usr/bin/python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    v = v[int(k)] if isinstance(v, list) else v[k]
print(json.dumps(v))' "$@"
}

"$PROBE" tunnel "$hif" "$lib_tmp/acks.db" >"$lib_tmp/tunnel.json"
check "/api/tunnel answers 200" test $? -eq 0
check "one peer, the edge's key in base64" \
    test "$(json_get "$lib_tmp/tunnel.json" peers 0 public_key)" = "\"$epub\""
check "its endpoint" test "$(json_get "$lib_tmp/tunnel.json" peers 0 \
    endpoint)" = '"192.168.78.2:'$((PORT + 1))'"'
age=$(json_get "$lib_tmp/tunnel.json" peers 0 handshake_age_s)
check "a handshake within the last minute ($age s)" \
    eval "[ '$age' != null ] && [ '$age' -ge 0 ] && [ '$age' -le 60 ]"
check "bytes received from the peer" \
    test "$(json_get "$lib_tmp/tunnel.json" peers 0 rx_bytes)" -gt 0
check "bytes sent to the peer" \
    test "$(json_get "$lib_tmp/tunnel.json" peers 0 tx_bytes)" -gt 0
check "wgu's drop counters" \
    test "$(json_get "$lib_tmp/tunnel.json" drops rx_bad_mac)" -ge 0
check "no private key in the answer" \
    not grep -q "$(cat "$lib_tmp/h.key")" "$lib_tmp/tunnel.json"

"$PROBE" metrics "$hif" "$lib_tmp/acks.db" >"$lib_tmp/metrics.txt"
check "/metrics answers 200" test $? -eq 0
check "promtool accepts the metrics" \
    eval "promtool check metrics <'$lib_tmp/metrics.txt'"
check "the interface answered" grep -qx \
    "wgu_dashboard_tunnel_up{interface=\"$hif\"} 1" "$lib_tmp/metrics.txt"
check "bytes received per peer" grep -q \
    "^wgu_peer_receive_bytes_total{interface=\"$hif\",peer=\"$epub\"} [1-9]" \
    "$lib_tmp/metrics.txt"
check "handshake age per peer" grep -q \
    "^wgu_peer_last_handshake_age_seconds{interface=\"$hif\",peer=\"$epub\"} [0-9]" \
    "$lib_tmp/metrics.txt"
check "drops by reason" grep -q \
    "^wgu_drops_total{interface=\"$hif\",reason=\"rx_invalid\"} [0-9]" \
    "$lib_tmp/metrics.txt"

"$PROBE" tunnel "nodaemon$tag" "$lib_tmp/acks.db" >"$lib_tmp/none.json"
check "no daemon: not 200" test $? -ne 0
check "no daemon: an error naming the interface" \
    grep -q "\"error\":\"interface nodaemon$tag: " "$lib_tmp/none.json"
"$PROBE" metrics "nodaemon$tag" "$lib_tmp/acks.db" >"$lib_tmp/none.txt"
check "no daemon: tunnel_up 0" grep -qx \
    "wgu_dashboard_tunnel_up{interface=\"nodaemon$tag\"} 0" "$lib_tmp/none.txt"

lib_summary
