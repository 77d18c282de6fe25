#!/bin/sh
# Many peers on one wgu hub, configured only through wg(8) and ip(8):
#
#   routing: three edges with overlapping AllowedIPs on the hub,
#          e1 (wireguard-go) 10.9.0.0/16 + fd09::/32,
#          e2 (wgu)          10.9.1.0/24 + fd09:0:1::/48,
#          e3 (wireguard-go) 10.9.1.7/32 + fd09:0:1::7/128;
#          each edge is pinged at its own address over IPv4 and IPv6, and
#          the hub's per-peer transmit counters show where a packet to an
#          address nobody holds went: the longest match.
#   dual stack: the hub listens on one port; e1 reaches it over IPv4, e2
#          and e3 over IPv6, at the same time, and the hub learns each
#          edge's endpoint in its family.
#   runtime: while a ping stream runs to e1, e3 is removed with `wg set`
#          and added back; the stream loses nothing, and e3 works again.
#          With e2 removed its /24 falls back to e1's /16.
#   scale: a second hub gets 1,000 peers (keys from wg genkey) in one
#          `wg setconf`, timed (must be under a second), and `wg show`
#          lists all of them.
#
# Traffic never leaves the namespaces this script creates.  Needs root;
# exits 77 otherwise or when wireguard-go, wg, ip or ping is missing.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

lib_require_tunnel wireguard-go ping awk
lib_init

tag=$$
hub=wgu-ph-$tag hif=wph-$tag
PORT=51840 EPORT=51841
# Set by edge() for each edge N: pubN, eifN, nsN, allowedN.
pub1='' pub2='' pub3='' allowed2='' allowed3=''

# tx IFNAME PUBKEY: bytes sent to that peer.
tx() {
	wg show "$1" transfer | awk -v k="$2" '$1 == k { print $3 }'
}

# The transmit counters of e1, e2, e3 on the hub, in $tx1 $tx2 $tx3.
read_tx() {
	tx1=$(tx "$hif" "$pub1") tx2=$(tx "$hif" "$pub2") tx3=$(tx "$hif" "$pub3")
}

# routed_to ADDR N: pinging ADDR (which nobody holds) from the hub moves
# only edge N's transmit counter.
routed_to() {
	read_tx
	a1=$tx1 a2=$tx2 a3=$tx3
	ip netns exec "$hub" ping -q -c 2 -i 0.1 -W 1 "$1" >/dev/null 2>&1
	read_tx
	moved=
	[ "$tx1" != "$a1" ] && moved="$moved 1"
	[ "$tx2" != "$a2" ] && moved="$moved 2"
	[ "$tx3" != "$a3" ] && moved="$moved 3"
	[ "$moved" = " $2" ] || {
		echo "    counters moved for edge(s):${moved:- none}"
		return 1
	}
}

# ---------------------------------------------------------------- setup

ns_create "$hub" || { not_ok "hub namespace"; lib_summary; }
start_wgu "$hub" "$hif" || { not_ok "wgu hub starts"; lib_summary; }
hub_pub=$(genkey hub) &&
    wg set "$hif" private-key "$lib_tmp/hub.key" listen-port $PORT ||
    not_ok "hub key and port"
ns_if_up "$hub" "$hif" 10.8.0.1/32 fd08::1/128 &&
ip -n "$hub" route add 10.9.0.0/16 dev "$hif" &&
ip -n "$hub" route add fd09::/32 dev "$hif" || not_ok "hub addresses"

# edge N IMPL FAMILY INNER4 INNER6 HUB_ALLOWED: edge N behind its own veth
# to the hub (192.168.9N.0/24 and fd9N::/64), reaching the hub over IPv4
# or IPv6 (FAMILY); its public key in $pubN, its interface in $eifN.
edge() {
	n=$1 ns=wgu-p$1-$tag eif=wpe$1-$tag
	ns_create "$ns" &&
	ns_veth "$hub" "h$n" "$ns" veth0 &&
	ns_addr "$hub" "192.168.9$n.1/24" "h$n" &&
	ns_addr "$hub" "fd9$n::1/64" "h$n" &&
	ns_addr "$ns" "192.168.9$n.2/24" veth0 &&
	ns_addr "$ns" "fd9$n::2/64" veth0 || return 1
	case $2 in
	wgu) start_wgu "$ns" "$eif" ;;
	*) start_wggo "$ns" "$eif" ;;
	esac || return 1
	if [ "$3" = 6 ]; then ep="[fd9$n::1]:$PORT"; else ep="192.168.9$n.1:$PORT"; fi
	p=$(genkey "e$n") || return 1
	eval "pub$n=\$p eif$n=\$eif ns$n=\$ns allowed$n=\$6"
	wg set "$eif" private-key "$lib_tmp/e$n.key" listen-port $EPORT \
	    peer "$hub_pub" allowed-ips 10.8.0.1/32,fd08::1/128 endpoint "$ep" &&
	wg set "$hif" peer "$p" allowed-ips "$6" &&
	ns_if_up "$ns" "$eif" "$4/32" "$5/128" &&
	ip -n "$ns" route add 10.8.0.1/32 dev "$eif" &&
	ip -n "$ns" route add fd08::1/128 dev "$eif"
}

check "edge 1: wireguard-go over IPv4, 10.9.0.0/16" \
    edge 1 wggo 4 10.9.0.2 fd09::2 10.9.0.0/16,fd09::/32
check "edge 2: wgu over IPv6, 10.9.1.0/24" \
    edge 2 wgu 6 10.9.1.2 fd09:0:1::2 10.9.1.0/24,fd09:0:1::/48
check "edge 3: wireguard-go over IPv6, 10.9.1.7/32" \
    edge 3 wggo 6 10.9.1.7 fd09:0:1::7 10.9.1.7/32,fd09:0:1::7/128

# ---------------------------------------------------------------- routing

# The edges initiate (only they know an endpoint).
for n in 1 2 3; do
	eval "ns=\$ns$n"
	check "edge $n -> hub ping" pings_ok "$ns" 10.8.0.1
	check "edge $n -> hub ping6" pings_ok "$ns" fd08::1
done
check "hub -> edge 1 (the /16)" pings_ok "$hub" 10.9.0.2
check "hub -> edge 2 (the /24 inside the /16)" pings_ok "$hub" 10.9.1.2
check "hub -> edge 3 (the /32 inside the /24)" pings_ok "$hub" 10.9.1.7
check "hub -> edge 1 over IPv6 (the /32)" pings_ok "$hub" fd09::2
check "hub -> edge 2 over IPv6 (the /48)" pings_ok "$hub" fd09:0:1::2
check "hub -> edge 3 over IPv6 (the /128)" pings_ok "$hub" fd09:0:1::7
check "10.9.200.1 goes to edge 1 only (/16)" routed_to 10.9.200.1 1
check "10.9.1.99 goes to edge 2 only (/24 beats /16)" routed_to 10.9.1.99 2
check "fd09:0:1::99 goes to edge 2 only (/48 beats /32)" routed_to fd09:0:1::99 2
check "fd09:0:2::1 goes to edge 1 only (/32)" routed_to fd09:0:2::1 1

# One port, both families: the hub learned e1 over IPv4, e2 and e3 over
# IPv6, each from its own link.
check "dual stack: hub learned edge 1 at 192.168.91.2" eval \
    "peer_endpoint $hif $pub1 | grep -q '^192\\.168\\.91\\.2:$EPORT\$'"
check "dual stack: hub learned edge 2 at [fd92::2]" eval \
    "peer_endpoint $hif $pub2 | grep -q '^\\[fd92::2\\]:$EPORT\$'"
check "dual stack: hub learned edge 3 at [fd93::2]" eval \
    "peer_endpoint $hif $pub3 | grep -q '^\\[fd93::2\\]:$EPORT\$'"
check "dual stack: one UDP port, both families" eval \
    "[ \$(ip netns exec $hub ss -Hlun 'sport = :$PORT' | wc -l) -eq 2 ]"

# ---------------------------------------------------------------- runtime

replies0=$(echo_replies "$hub")
ip netns exec "$hub" ping -q -c 80 -i 0.05 -W 1 10.9.0.2 \
    >"$lib_tmp/stream.out" 2>&1 &
stream=$!
wait_until 5 replies_above "$hub" "$replies0"
wg set "$hif" peer "$pub3" remove
check "edge 3 removed at runtime" \
    eval "! wg show $hif peers | grep -qF '$pub3'"
check "while removed, nothing reaches edge 3's address" \
    eval "! ip netns exec $hub ping -q -c 1 -W 1 10.9.1.7 >/dev/null 2>&1"
wg set "$hif" peer "$pub3" allowed-ips "$allowed3" endpoint "[fd93::2]:$EPORT"
check "edge 3 added back works" pings_ok "$hub" 10.9.1.7
wait "$stream"
check "the ping stream to edge 1 lost nothing meanwhile" \
    grep -q ' 0% packet loss' "$lib_tmp/stream.out"
grep 'packets' "$lib_tmp/stream.out" | sed 's/^/    /'
check "edge 2 was not disturbed" pings_ok "$hub" 10.9.1.2

wg set "$hif" peer "$pub2" remove
check "edge 2 removed: 10.9.1.99 falls back to edge 1's /16" \
    routed_to 10.9.1.99 1
wg set "$hif" peer "$pub2" allowed-ips "$allowed2" endpoint "[fd92::2]:$EPORT"
check "edge 2 added back works" pings_ok "$hub" 10.9.1.2
check "and takes its /24 back" routed_to 10.9.1.99 2

# ---------------------------------------------------------------- scale

big=wgu-pb-$tag bif=wpb-$tag
NPEERS=1000
scale() {
	ns_create "$big" && start_wgu "$big" "$bif" || return 1
	(umask 077; wg genkey >"$lib_tmp/big.key") || return 1
	{
		echo "[Interface]"
		echo "PrivateKey = $(cat "$lib_tmp/big.key")"
		echo "ListenPort = 51850"
		i=0
		while [ $i -lt $NPEERS ]; do
			echo "[Peer]"
			echo "PublicKey = $(wg genkey | wg pubkey)"
			echo "AllowedIPs = 10.100.$((i / 250)).$((i % 250 + 1))/32, fd64::$i/128"
			echo "Endpoint = 192.168.250.$((i % 250 + 1)):$((40000 + i))"
			echo "PersistentKeepalive = 0"
			i=$((i + 1))
		done
	} >"$lib_tmp/big.conf" || return 1
	t0=$(date +%s%N)
	wg setconf "$bif" "$lib_tmp/big.conf" || return 1
	t1=$(date +%s%N)
	ms=$(( (t1 - t0) / 1000000 ))
	echo "    wg setconf with $NPEERS peers took $ms ms"
	t0=$(date +%s%N)
	wg show "$bif" dump >"$lib_tmp/big.dump" || return 1
	t1=$(date +%s%N)
	echo "    wg show dump of $NPEERS peers took $(( (t1 - t0) / 1000000 )) ms"
}
check "a hub with $NPEERS peers from one wg setconf" scale
check "... in under a second" test "${ms:-99999}" -lt 1000
check "wg show lists all $NPEERS peers" \
    eval "[ \$(wg show $bif peers | sort -u | wc -l) -eq $NPEERS ]"
check "... each with its allowed IPs" \
    eval "[ \$(wg show $bif allowed-ips | grep -c '/32 fd64::[0-9]*/128\$') \
    -eq $NPEERS ]"
check "... and its endpoint" \
    eval "[ \$(wg show $bif endpoints | grep -c '192\\.168\\.250\\.') \
    -eq $NPEERS ]"
check "wg showconf round-trips the $NPEERS peers" eval \
    "wg showconf $bif >$lib_tmp/big2.conf && \
    [ \$(grep -c '^\\[Peer\\]' $lib_tmp/big2.conf) -eq $NPEERS ]"

lib_summary
