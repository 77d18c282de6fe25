#!/bin/sh
# NAT roaming, configured only through wg(8), ip(8) and nft(8):
#
#   hub ---- "wan" ---- router (nftables masquerade) ---- "lan" ---- edge
#
# The edge sits behind the NAT, knows the hub's endpoint and keeps the
# mapping open with PersistentKeepalive; the hub has no route to the LAN
# and only ever sees the router's public address.  While the hub pings
# the edge through the tunnel, the NAT rebinds:
#
#   port:    the masquerade moves to a port range and conntrack is
#            flushed: the edge's datagrams leave from a new public port;
#   address: the router's outside address moves (a new one is added, the
#            old one removed) and conntrack is flushed;
#   lan:     (wgu edges) the edge's own LAN address changes: its cached
#            source address no longer exists and must not pin the socket.
#
# After each, the tunnel carries traffic again within a keepalive or two
# and the hub's `wg show endpoints` follows the edge to its new public
# address.  Pairs: wireguard-go hub <-> wgu edge (IPv4), wgu hub <->
# wireguard-go edge (IPv4), wgu hub <-> wgu edge (IPv6 outside and inside,
# NAT66).
#
# Traffic never leaves the namespaces this script creates.  Needs root;
# exits 77 otherwise or when wireguard-go, wg, ip, nft, conntrack or ping
# is missing.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

lib_require_tunnel wireguard-go nft conntrack ping awk
lib_init

tag=$$
PORT=51860

start_impl() {
	case "$1" in
	wgu) start_wgu "$2" "$3" ;;
	wggo) start_wggo "$2" "$3" ;;
	esac
}

# nat_rule NS FAMILY RULE CT_FAMILY: the router's only postrouting NAT
# rule (RULE is split into words), and its conntrack table flushed.
# shellcheck disable=SC2086
nat_rule() {
	ip netns exec "$1" nft flush chain "$2" nat post &&
	ip netns exec "$1" nft add rule "$2" nat post oifname wan $3 &&
	ip netns exec "$1" conntrack -F -f "$4" >/dev/null 2>&1
}

# endpoint_is IFNAME PUBKEY PATTERN: the peer's endpoint matches the
# extended regular expression PATTERN.
endpoint_is() {
	lib_ep=$(peer_endpoint "$1" "$2")
	echo "$lib_ep" | grep -Eq "^$3\$" || {
		echo "    endpoint is '$lib_ep', expected /$3/"
		return 1
	}
}

# stream_start NS ADDR / stream_ok: a ping stream of 4 s around a change;
# it may lose what was in flight until the edge's next keepalive, not more
# (and not the end of the stream).
stream_start() {
	lib_replies0=$(echo_replies "$1")
	ip netns exec "$1" ping -n -c 40 -i 0.1 -W 1 "$2" \
	    >"$lib_tmp/stream.out" 2>&1 &
	lib_stream=$!
	wait_until 5 replies_above "$1" "$lib_replies0"
}
stream_ok() {
	wait "$lib_stream"
	lib_rx=$(awk '/packets transmitted/ { print $4 }' "$lib_tmp/stream.out")
	lib_last=$(grep -o 'icmp_seq=[0-9]*' "$lib_tmp/stream.out" | tail -n 1)
	echo "    stream: ${lib_rx:-0} of 40 replies, last $lib_last"
	[ "${lib_rx:-0}" -ge 20 ] && [ "$lib_last" = icmp_seq=40 ]
}

# pair N HUB_IMPL EDGE_IMPL FAMILY
pair() {
	n=$1 hub_impl=$2 edge_impl=$3 fam=$4
	name="$hub_impl(hub) <-> $edge_impl(edge) behind NAT, IPv$fam"
	hub=wgu-rh$n-$tag router=wgu-rr$n-$tag edge=wgu-re$n-$tag
	hif=wrh$n-$tag eif=wre$n-$tag
	if [ "$fam" = 6 ]; then
		nft_fam=ip6 ct_fam=ipv6 len=64 esc='\[' ecl='\]'
		hub_wan=fd31::1 pub1=fd31::254 pub2=fd31::253
		gw=fd50::1 lan1=fd50::2 lan2=fd50::5
		hub_ep="[$hub_wan]:$PORT" inner_hub=fd60::1 inner_edge=fd60::2
	else
		nft_fam=ip ct_fam=ipv4 len=24 esc='' ecl=''
		hub_wan=172.31.0.1 pub1=172.31.0.254 pub2=172.31.0.253
		gw=192.168.50.1 lan1=192.168.50.2 lan2=192.168.50.5
		hub_ep="$hub_wan:$PORT" inner_hub=10.60.0.1 inner_edge=10.60.0.2
	fi
	pub1_re=$(echo "$pub1" | sed 's/\./\\./g')
	pub2_re=$(echo "$pub2" | sed 's/\./\\./g')
	echo "# $name"
	ns_create "$hub" && ns_create "$router" && ns_create "$edge" &&
	ns_veth "$hub" wan "$router" wan &&
	ns_veth "$router" lan "$edge" lan &&
	ns_addr "$hub" "$hub_wan/$len" wan &&
	ns_addr "$router" "$pub1/$len" wan &&
	ns_addr "$router" "$gw/$len" lan &&
	ns_addr "$edge" "$lan1/$len" lan &&
	ip -n "$edge" route add default via "$gw" &&
	# The new outside address must survive the old one's removal.
	ip netns exec "$router" sysctl -qw net.ipv4.ip_forward=1 \
	    net.ipv6.conf.all.forwarding=1 \
	    net.ipv4.conf.all.promote_secondaries=1 &&
	ip netns exec "$router" nft add table "$nft_fam" nat &&
	ip netns exec "$router" nft add chain "$nft_fam" nat post \
	    '{ type nat hook postrouting priority srcnat; }' &&
	nat_rule "$router" "$nft_fam" masquerade "$ct_fam" || {
		not_ok "$name: namespaces and NAT"
		return
	}
	hpub=$(genkey hub$n) && epub=$(genkey edge$n) || {
		not_ok "$name: keys"
		return
	}
	start_impl "$hub_impl" "$hub" "$hif" &&
	start_impl "$edge_impl" "$edge" "$eif" || {
		not_ok "$name: daemons start"
		return
	}
	wg set "$hif" private-key "$lib_tmp/hub$n.key" listen-port $PORT \
	    peer "$epub" allowed-ips 10.60.0.2/32,fd60::2/128 &&
	wg set "$eif" private-key "$lib_tmp/edge$n.key" \
	    peer "$hpub" allowed-ips 10.60.0.1/32,fd60::1/128 \
	    endpoint "$hub_ep" persistent-keepalive 1 &&
	ns_if_up "$hub" "$hif" 10.60.0.1/24 fd60::1/64 &&
	ns_if_up "$edge" "$eif" 10.60.0.2/24 fd60::2/64 || {
		not_ok "$name: configuration with wg and ip"
		return
	}

	check "$name: edge -> hub through the NAT" \
	    pings_ok "$edge" "$inner_hub"
	check "$name: hub -> edge" pings_ok "$hub" "$inner_edge"
	check "$name: hub sees the edge at the NAT's address" \
	    endpoint_is "$hif" "$epub" "$esc$pub1_re$ecl:[0-9]+"

	# The NAT rebinds to a new public port, mid-stream.
	stream_start "$hub" "$inner_edge"
	nat_rule "$router" "$nft_fam" "meta l4proto udp masquerade to :20000-20099" "$ct_fam"
	check "$name: new NAT port, the hub's ping stream recovers" stream_ok
	check "$name: hub -> edge after the port change" \
	    pings_ok "$hub" "$inner_edge"
	check "$name: hub follows the edge to its new port" \
	    endpoint_is "$hif" "$epub" "$esc$pub1_re$ecl:200[0-9][0-9]"

	# The router's outside address moves, mid-stream.
	stream_start "$hub" "$inner_edge"
	ns_addr "$router" "$pub2/$len" wan &&
	ip -n "$router" addr del "$pub1/$len" dev wan &&
	nat_rule "$router" "$nft_fam" masquerade "$ct_fam"
	check "$name: new NAT address, the hub's ping stream recovers" \
	    stream_ok
	check "$name: hub -> edge after the address change" \
	    pings_ok "$hub" "$inner_edge"
	check "$name: hub follows the edge to the new NAT address" \
	    endpoint_is "$hif" "$epub" "$esc$pub2_re$ecl:[0-9]+"
	check "$name: edge -> hub after the address change" \
	    pings_ok "$edge" "$inner_hub"

	# The edge's own LAN address changes (wgu only: Debian's
	# wireguard-go keeps sending from the vanished address).
	[ "$edge_impl" = wgu ] || return
	ip -n "$edge" addr del "$lan1/$len" dev lan &&
	ns_addr "$edge" "$lan2/$len" lan &&
	ip -n "$edge" route replace default via "$gw"
	check "$name: edge's LAN address changes, edge -> hub works" \
	    pings_ok "$edge" "$inner_hub"
	check "$name: ... and hub -> edge" pings_ok "$hub" "$inner_edge"
	check "$name: ... the edge left from its new LAN address" eval \
	    "ip netns exec $router conntrack -L -f $ct_fam -p udp \
	    --dport $PORT 2>/dev/null | grep -q 'src=$lan2 '"
}

pair 1 wggo wgu 4
pair 2 wgu wggo 4
pair 3 wgu wgu 6

lib_summary
