#!/bin/sh
# Hostile input against a wgu hub, on one LAN:
#
#   hub (wgu) ---- lan (bridge) ---- edge (wgu)
#                       |
#                   attacker (10.177.0.3 and 200 more addresses)
#
# The attacker is tests/hostile_flood.  Checked, each against the hub's
# drop counters (`wgu stats`) and what the tunnel and the attacker see:
#
#   replay     a captured data packet and a captured handshake initiation,
#              sent again from another address: nothing delivered, no new
#              session, the edge's endpoint does not move, no answer;
#   inner src  a packet from the edge whose inner source is outside the
#              edge's AllowedIPs is dropped and counted;
#   low order  a peer whose public key is a low-order point (Wycheproof
#              x25519 tcId 63) never gets a packet from the hub, and
#              initiations forged in its name (the all-zero DH anyone can
#              compute) are never answered;
#   junk       a flood of malformed datagrams of every type and size while
#              the edge pings and sends 1 MiB through the tunnel: the
#              traffic gets through, the hub is alive, each junk datagram
#              is counted under the counter it should raise;
#   handshake  initiations with a valid MAC1 from 100 addresses: the hub
#              answers with cookie replies, rate-limits the sources that
#              come back with the cookie (20 a second each), and the edge,
#              its peer removed and added again, completes a new handshake
#              during the flood; then the same from 200 spoofed addresses
#              that never use their cookies.
#
# and first that `wgu stats` prints the twelve counters and fails cleanly
# without a daemon.
#
# The floods run at the lowest rate at which the hub answers with cookie
# replies (hostile_flood -A).  A faster flood only fills the hub's
# handshake queue, whose overflow drops legitimate initiations as well;
# 100 sources with cookies stay, at 2000 DH a second, under what the hub
# does with sanitizers on a busy 2-core machine (about 3000 to 4000).
#
# Everything stays inside the namespaces created here (the attacker's
# processes end by themselves within 15 s should the script be killed).
# Needs root; exits 77 otherwise or when wg, ip or ping is missing.
# About 50 s.
#
# WGU_FLOOD: the hostile_flood binary (default: tests/hostile_flood next to
# $WGU_BIN's src/).  WGU_HOSTILE_HS_RATE: the handshake floods' datagrams
# per second, 0 for as fast as the attacker can; by default the lowest
# rate (doubled from 4000) at which the hub answers with cookie replies.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

lib_require_tunnel ping perl base64 awk
FLOOD=${WGU_FLOOD:-$(dirname "$WGU")/../tests/hostile_flood}
if [ ! -x "$FLOOD" ]; then
	echo "FAIL: $FLOOD is not an executable (set WGU_FLOOD)"
	echo "0 passed, 1 failed"
	exit 1
fi
lib_init

tag=$$
lan=h3-lan-$tag hub=h3-hub-$tag edge=h3-edge-$tag atk=h3-atk-$tag
hif=h3hub$tag eif=h3edg$tag
PORT=51900 LOWPORT=51950
HS_RATE=-A
[ -n "${WGU_HOSTILE_HS_RATE:-}" ] && HS_RATE="-r $WGU_HOSTILE_HS_RATE"

HUB=10.177.0.1 EDGE=10.177.0.2 ATK=10.177.0.3
# Wycheproof x25519_test.json tcId 63: a point of order 8.
LOW_HEX=e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800
LOW=$(perl -e 'print pack("H*", $ARGV[0])' "$LOW_HEX" | base64)

# counter NAME: the hub's drop counter NAME.
counter() {
	"$WGU" stats "$hif" | sed -n "s/^$1=//p"
}

# counter_reaches NAME N: the hub's counter NAME is at least N.
counter_reaches() {
	[ "$(counter "$1")" -ge "$2" ]
}

# delivered: packets the hub's wgu wrote to its TUN device.
delivered() {
	ip netns exec "$hub" cat "/sys/class/net/$hif/statistics/rx_packets"
}

# field KEY FILE: KEY's value in hostile_flood's report.
field() {
	tr ' ' '\n' <"$2" | sed -n "s/^$1=//p"
}

handshake_of() {
	wg show "$1" latest-handshakes | awk -v k="$2" '$1 == k { print $2 }'
}

# expect_eq WHAT GOT WANT / expect_ge WHAT GOT MIN: a check with the values
# shown.
expect_eq() {
	echo "    $1: $2 (want $3)"
	[ "$2" = "$3" ]
}
expect_ge() {
	echo "    $1: $2 (want >= $3)"
	[ -n "$2" ] && [ "$2" -ge "$3" ]
}

# counted NAME EXPECTED BEFORE: the hub counted between half and all of
# the EXPECTED datagrams under NAME (the rest may be dropped by the kernel
# before wgu reads them: socket buffer full, fragments lost), never more.
counted() {
	lib_d=$(($(counter "$1") - $3))
	echo "    $1: +$lib_d of $2 sent"
	[ "$2" -gt 0 ] && [ "$lib_d" -le "$2" ] && [ $((lib_d * 2)) -ge "$2" ]
}

# ---------------------------------------------------------------- setup
setup() {
	ns_create "$lan" && ns_create "$hub" && ns_create "$edge" &&
	ns_create "$atk" &&
	ip -n "$lan" link add br0 type bridge &&
	ip -n "$lan" link set br0 up &&
	ns_veth "$lan" phub "$hub" eth0 && ns_veth "$lan" pedge "$edge" eth0 &&
	ns_veth "$lan" patk "$atk" eth0 &&
	ip -n "$lan" link set phub master br0 &&
	ip -n "$lan" link set pedge master br0 &&
	ip -n "$lan" link set patk master br0 &&
	ns_addr "$hub" "$HUB/16" eth0 && ns_addr "$edge" "$EDGE/16" eth0 &&
	ns_addr "$atk" "$ATK/16" eth0 &&
	# The handshake flood's sources: 10.177.1.1 to 10.177.1.200.
	for i in $(seq 1 200); do
		echo "addr add 10.177.1.$i/16 dev eth0"
	done | ip -n "$atk" -batch - &&
	hpub=$(genkey hub) && epub=$(genkey edge) &&
	start_wgu "$hub" "$hif" && hub_pid=$lib_last_pid &&
	start_wgu "$edge" "$eif" &&
	wg set "$hif" private-key "$lib_tmp/hub.key" listen-port "$PORT" \
	    peer "$epub" allowed-ips 10.178.0.2/32 \
	    peer "$LOW" allowed-ips 10.178.0.50/32 endpoint "$ATK:$LOWPORT" &&
	ip -n "$hub" addr add 10.178.0.1/24 dev "$hif" &&
	ip -n "$hub" link set "$hif" up &&
	ip -n "$edge" addr add 10.178.0.2/24 dev "$eif" &&
	ip -n "$edge" link set "$eif" up
}

edge_peer() {
	wg set "$eif" private-key "$lib_tmp/edge.key" \
	    peer "$hpub" allowed-ips 10.178.0.0/24 endpoint "$HUB:$PORT"
}

if ! check "setup: four namespaces on a LAN, wgu hub and edge" setup; then
	lib_summary
fi
stats_cmd() {
	[ "$("$WGU" stats "$hif" | grep -c '^[a-z_]*=[0-9]*$')" -eq 12 ] &&
	    ! "$WGU" stats h3none 2>/dev/null
}
check "wgu stats: twelve counters; an error without a daemon" stats_cmd

# ---------------------------------------------------------------- capture
# The first initiation and data packet of the edge, as seen on the hub's
# LAN port, for the replays below.
ip netns exec "$hub" "$FLOOD" capture -i eth0 -p "$PORT" -o "$lib_tmp" -d 15 \
    >"$lib_tmp/capture.out" 2>&1 &
cap_pid=$!
wait_until 5 grep -q capturing "$lib_tmp/capture.out"
tunnel_up() {
	edge_peer && pings_ok "$edge" 10.178.0.1
}
check "tunnel: the edge's first handshake and pings" tunnel_up
wait_exit $cap_pid 100
check "capture: an initiation and a data packet of the edge" \
    grep -q 'initiation=1 data=1' "$lib_tmp/capture.out"

# ---------------------------------------------------------------- replay
replay() {
	hs0=$(handshake_of "$hif" "$epub")
	ep0=$(peer_endpoint "$hif" "$epub")
	rx0=$(delivered)
	replayed0=$(counter rx_replayed) failed0=$(counter rx_handshake_failed)
	ip netns exec "$atk" "$FLOOD" replay -t "$HUB:$PORT" -s "$ATK" \
	    -f "$lib_tmp/data.bin" -c 3 >"$lib_tmp/replay-data.out" &&
	ip netns exec "$atk" "$FLOOD" replay -t "$HUB:$PORT" -s "$ATK" \
	    -f "$lib_tmp/initiation.bin" -c 3 >"$lib_tmp/replay-init.out" ||
	    return 1
	# The hub has read them once it has counted them (checked below).
	wait_until 5 counter_reaches rx_replayed $((replayed0 + 3))
	wait_until 5 counter_reaches rx_handshake_failed $((failed0 + 3))
	expect_eq "packets delivered" "$(delivered)" "$rx0" &&
	expect_eq "rx_replayed" "$(counter rx_replayed)" $((replayed0 + 3)) &&
	expect_eq "rx_handshake_failed" "$(counter rx_handshake_failed)" \
	    $((failed0 + 3)) &&
	expect_eq "latest handshake" "$(handshake_of "$hif" "$epub")" "$hs0" &&
	expect_eq "edge endpoint" "$(peer_endpoint "$hif" "$epub")" "$ep0" &&
	expect_eq "answers to the replayer" \
	    "$(field received "$lib_tmp/replay-init.out")" 0
}
check "replay: captured data and initiation, from another address" replay

# ---------------------------------------------------------------- inner
# The edge's tunnel gets an address the hub does not allow it.
inner() {
	rx0=$(delivered) bad0=$(counter rx_bad_inner)
	ip -n "$edge" addr add 10.178.9.9/32 dev "$eif" &&
	! ip netns exec "$edge" ping -q -c 2 -i 0.2 -W 1 -I 10.178.9.9 \
	    10.178.0.1 >/dev/null &&
	expect_eq "rx_bad_inner" "$(counter rx_bad_inner)" $((bad0 + 2)) &&
	expect_eq "packets delivered" "$(delivered)" "$rx0" &&
	ip -n "$edge" addr del 10.178.9.9/32 dev "$eif"
}
check "inner source outside the edge's AllowedIPs: dropped, counted" inner

# ---------------------------------------------------------------- low order
loworder() {
	ip netns exec "$atk" "$FLOOD" listen -s "$ATK:$LOWPORT" -d 4 \
	    >"$lib_tmp/low-listen.out" &
	listen_pid=$!
	wait_until 5 listens "$atk" "$LOWPORT" udp
	failed0=$(counter rx_handshake_failed)
	# The hub is asked to reach the peer, and the peer is forged.
	ip netns exec "$hub" ping -q -c 3 -i 0.3 -W 1 10.178.0.50 \
	    >/dev/null 2>&1 &
	ip netns exec "$atk" "$FLOOD" loworder -t "$HUB:$PORT" -s "$ATK" \
	    -k "$hpub" -l "$LOW" -c 10 >"$lib_tmp/low.out"
	wait "$listen_pid"
	sent=$(field sent "$lib_tmp/low.out")
	expect_eq "forged initiations sent" "$sent" 10 &&
	expect_eq "responses to them" \
	    "$(field recv_response "$lib_tmp/low.out")" 0 &&
	expect_eq "rx_handshake_failed" "$(counter rx_handshake_failed)" \
	    $((failed0 + sent)) &&
	expect_eq "datagrams at the low-order peer's endpoint" \
	    "$(field received "$lib_tmp/low-listen.out")" 0 &&
	expect_eq "its latest handshake" "$(handshake_of "$hif" "$LOW")" 0 &&
	expect_eq "its endpoint" "$(peer_endpoint "$hif" "$LOW")" \
	    "$ATK:$LOWPORT" &&
	expect_eq "its transfer" \
	    "$(wg show "$hif" transfer | awk -v k="$LOW" \
		'$1 == k { print $2, $3 }')" "0 0"
}
check "low-order peer key: no packet, no session" loworder

# ---------------------------------------------------------------- junk
junk() {
	inv0=$(counter rx_invalid) mac0=$(counter rx_bad_mac)
	unk0=$(counter rx_unknown_index)
	ip netns exec "$atk" "$FLOOD" junk -t "$HUB:$PORT" -s "$ATK" -d 6 \
	    -k "$hpub" -S "$tag" >"$lib_tmp/junk.out" &
	flood_pid=$!
	# The flood has begun once the hub counts its junk.
	wait_until 5 counter_reaches rx_invalid $((inv0 + 1))
	ip netns exec "$edge" ping -n -c 40 -i 0.1 -W 1 10.178.0.1 \
	    >"$lib_tmp/junk-ping.out" 2>&1
	replies=$(awk '/packets transmitted/ { print $4 }' \
	    "$lib_tmp/junk-ping.out")
	transfer "$edge" "$hub" 10.178.0.1 5001 1048576
	moved=$?
	still=no
	is_running "$flood_pid" && still=yes
	wait "$flood_pid"
	sed 's/^/    /' "$lib_tmp/junk.out"
	expect_eq "the flood lasted through the traffic" "$still" yes &&
	expect_ge "ping replies during the flood" "$replies" 20 &&
	expect_eq "1 MiB through the tunnel during the flood" "$moved" 0 &&
	is_running "$hub_pid" && wg show "$hif" >/dev/null &&
	counted rx_invalid "$(field exp_invalid "$lib_tmp/junk.out")" \
	    "$inv0" &&
	counted rx_bad_mac "$(field exp_bad_mac "$lib_tmp/junk.out")" \
	    "$mac0" &&
	counted rx_unknown_index \
	    "$(field exp_unknown_index "$lib_tmp/junk.out")" "$unk0"
}
check "junk flood: traffic flows, the hub lives, every kind counted" junk

# ---------------------------------------------------------------- handshake
# edge_gets_in_during PID: true when a ping from the edge to the hub is
# answered (one a second, for up to 11 s) while the flood PID still runs.
edge_gets_in_during() {
	egi_t=0
	while [ "$egi_t" -lt 11 ] && is_running "$1"; do
		if ip netns exec "$edge" ping -q -c 1 -W 1 10.178.0.1 \
		    >/dev/null 2>&1; then
			is_running "$1"
			return
		fi
		egi_t=$((egi_t + 1))
	done
	return 1
}
handshake() {
	req0=$(counter rx_cookie_required) lim0=$(counter rx_ratelimited)
	failed0=$(counter rx_handshake_failed)
	# shellcheck disable=SC2086 # HS_RATE is an option and its value
	ip netns exec "$atk" "$FLOOD" handshake -t "$HUB:$PORT" -s 10.177.1.1 \
	    -n 100 -k "$hpub" -d 14 $HS_RATE >"$lib_tmp/hs.out" &
	flood_pid=$!
	# The flood loads the hub once it answers with cookie replies.
	wait_until 5 counter_reaches rx_cookie_required $((req0 + 1))
	# A new handshake the edge must complete during the flood.
	wg set "$eif" peer "$hpub" remove && edge_peer || return 1
	ok=no
	edge_gets_in_during "$flood_pid" && ok=yes
	hs=$(handshake_of "$eif" "$hpub")
	wait "$flood_pid"
	sed 's/^/    /' "$lib_tmp/hs.out"
	expect_eq "edge's new handshake and ping during the flood" "$ok" yes &&
	expect_ge "its latest handshake" "$hs" 1 &&
	expect_ge "cookie replies to the flood" \
	    "$(field recv_cookie "$lib_tmp/hs.out")" 1 &&
	expect_ge "cookies decrypted" \
	    "$(field cookies_ok "$lib_tmp/hs.out")" 1 &&
	expect_ge "rx_cookie_required" "$(counter rx_cookie_required)" \
	    $((req0 + 1)) &&
	# At this rate the queue does not overflow: these are the sources
	# over their 20 initiations a second.
	expect_ge "rx_ratelimited" "$(counter rx_ratelimited)" $((lim0 + 1)) &&
	echo "    rx_handshake_failed (reached the DH): +$(($(counter \
	    rx_handshake_failed) - failed0))" &&
	is_running "$hub_pid" &&
	ip netns exec "$edge" ping -q -c 2 -i 0.2 -w 3 10.178.0.1 >/dev/null
}
check "handshake flood from 100 sources: cookies, rate limit, edge gets in" \
    handshake

# The same from sources that never see the replies (spoofed): every
# initiation the hub reads costs it a cookie reply; the ones it cannot
# read in time are counted as dropped when its queue is full.
spoofed() {
	# The hub stays under load for a second after its queue drains: let
	# it calm down, or -A would settle on a rate that does not load it.
	# Nothing shows that from outside: a fixed time.
	sleep 2
	req0=$(counter rx_cookie_required) lim0=$(counter rx_ratelimited)
	# shellcheck disable=SC2086 # HS_RATE is an option and its value
	ip netns exec "$atk" "$FLOOD" handshake -t "$HUB:$PORT" -s 10.177.1.1 \
	    -n 200 -k "$hpub" -d 14 $HS_RATE -C >"$lib_tmp/spoof.out" &
	flood_pid=$!
	wait_until 5 counter_reaches rx_cookie_required $((req0 + 1))
	wg set "$eif" peer "$hpub" remove && edge_peer || return 1
	ok=no
	edge_gets_in_during "$flood_pid" && ok=yes
	wait "$flood_pid"
	sed 's/^/    /' "$lib_tmp/spoof.out"
	req=$(($(counter rx_cookie_required) - req0))
	expect_eq "edge's new handshake and ping during the flood" "$ok" yes &&
	expect_ge "cookie replies received" \
	    "$(field recv_cookie "$lib_tmp/spoof.out")" 1000 &&
	expect_ge "rx_cookie_required (sent)" "$req" \
	    "$(field recv_cookie "$lib_tmp/spoof.out")" &&
	is_running "$hub_pid" &&
	ip netns exec "$edge" ping -q -c 2 -i 0.2 -w 3 10.178.0.1 >/dev/null
}
check "spoofed flood from 200 sources: cookie replies, the edge gets in" \
    spoofed

# ---------------------------------------------------------------- prometheus
# `wgu stats --prometheus` on the quiet tunnel after the floods: promtool
# accepts it; bytes as wg show's transfer, the counters as wgu stats', two
# peers of which only the edge has a handshake age (the low-order peer
# never handshook: no sample), and that age as wg show's.
prom_sample() {
	awk -v k="$1{$2} " 'index($0, k) == 1 { print substr($0, length(k) + 1) }' \
	    "$lib_tmp/metrics"
}
prom_transfer() {
	"$WGU" stats --prometheus "$hif" >"$lib_tmp/metrics" &&
	    wg show "$hif" transfer >"$lib_tmp/transfer" || return 1
	while read -r key rx tx; do
		l="interface=\"$hif\",peer=\"$key\""
		[ "$(prom_sample wgu_peer_receive_bytes_total "$l")" = "$rx" ] &&
		    [ "$(prom_sample wgu_peer_transmit_bytes_total "$l")" = \
		    "$tx" ] || return 1
	done <"$lib_tmp/transfer"
}
prometheus() {
	command -v promtool >/dev/null || {
		echo "    promtool missing (Debian: prometheus)"
		return 1
	}
	# A keepalive between the two reads: again.
	wait_until 10 prom_transfer || return 1
	sed 's/^/    /' "$lib_tmp/metrics"
	promtool check metrics <"$lib_tmp/metrics" || return 1
	l="interface=\"$hif\""
	expect_eq "wgu_peers" "$(prom_sample wgu_peers "$l")" 2 || return 1
	for c in rx_invalid rx_cookie_required rx_bad_inner tx_dropped; do
		expect_eq "wgu_drops_total $c" "$(prom_sample wgu_drops_total \
		    "$l,reason=\"$c\"")" "$(counter "$c")" || return 1
	done
	expect_eq "handshake ages" "$(grep -c \
	    '^wgu_peer_last_handshake_age_seconds{' "$lib_tmp/metrics")" 1 &&
	    expect_eq "the low-order peer's age" "$(grep -F "$LOW" \
	    "$lib_tmp/metrics" | grep -c handshake)" 0 || return 1
	age=$(prom_sample wgu_peer_last_handshake_age_seconds \
	    "$l,peer=\"$epub\"" | cut -d. -f1)
	want=$(($(date +%s) - $(handshake_of "$hif" "$epub")))
	echo "    edge's handshake age: $age (wg show: $want)"
	[ -n "$age" ] && [ "$age" -ge $((want - 2)) ] &&
	    [ "$age" -le $((want + 2)) ] &&
	    ! "$WGU" stats --prometheus h3none >/dev/null 2>&1
}
check "wgu stats --prometheus: promtool accepts it, figures as wg show's" \
    prometheus

"$WGU" stats "$hif" | sed 's/^/    /'
lib_summary
