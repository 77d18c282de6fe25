#!/bin/sh
# The moved-TUN case, as with the kernel module: `wgu IFNAME` starts in
# namespace "outer", where its UDP sockets are born; the interface is then
# moved to namespace "inner" (`ip link set IFNAME netns inner`).  The
# daemon keeps running, its sockets stay in "outer", and traffic flows
# between the tunnel address in "inner" and a wireguard-go peer that is
# reachable only through "outer".  Then `ip link del` in "inner" still
# stops the daemon.
#
# Traffic never leaves the namespaces this script creates.  Needs root;
# exits 77 otherwise or when wireguard-go, wg, ip, ping or ss is missing.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

lib_require_tunnel wireguard-go ping ss
lib_init

tag=$$
outer=wgu-mo-$tag inner=wgu-mi-$tag peer=wgu-mp-$tag
wif=wm-$tag pif=wp-$tag
PORT=51830

# The interface IFNAME is (or is not) in namespace NS.
link_in() {
	ip -n "$1" link show "$2" >/dev/null 2>&1
}

# NS holds a UDP socket on PORT.
udp_in() {
	ip netns exec "$1" ss -Hlun "sport = :$2" | grep -q .
}

ns_create "$outer" && ns_create "$inner" && ns_create "$peer" &&
    ns_link "$outer" "$peer" 192.168.77.1/24 192.168.77.2/24 || {
	not_ok "namespaces"
	lib_summary
}
wpub=$(genkey w) && ppub=$(genkey p) || { not_ok "keys"; lib_summary; }

if ! start_wgu "$outer" "$wif"; then
	not_ok "wgu starts in $outer"
	lib_summary
fi
wpid=$lib_last_pid
start_wggo "$peer" "$pif" || { not_ok "wireguard-go starts"; lib_summary; }

wg set "$wif" private-key "$lib_tmp/w.key" listen-port $PORT \
    peer "$ppub" allowed-ips 10.77.0.2/32,fd77::2/128 &&
wg set "$pif" private-key "$lib_tmp/p.key" \
    peer "$wpub" allowed-ips 10.77.0.1/32,fd77::1/128 \
    endpoint 192.168.77.1:$PORT persistent-keepalive 1 ||
	not_ok "configuration with wg"

# The move, before any address: as `ip link set wg0 netns` is used.
ip -n "$outer" link set "$wif" netns "$inner"
check "the interface moved to the inner namespace" link_in "$inner" "$wif"
# Time for a wrong exit on the DELLINK: an absence is waited for by time.
sleep 0.3
check "the daemon survives the move" is_running "$wpid"
check "wg still reaches the daemon after the move" \
    eval "wg show $wif >/dev/null"

ns_if_up "$inner" "$wif" 10.77.0.1/24 fd77::1/64 &&
ns_if_up "$peer" "$pif" 10.77.0.2/24 fd77::2/64 || not_ok "addresses with ip"

check "the UDP socket stayed in the outer namespace" udp_in "$outer" $PORT
check "no UDP socket in the inner namespace" eval "! udp_in $inner $PORT"
check "ping inner -> peer through the moved interface" \
    pings_ok "$inner" 10.77.0.2
check "ping peer -> inner" pings_ok "$peer" 10.77.0.1
check "ping6 inner -> peer" pings_ok "$inner" fd77::2
check "ping6 peer -> inner" pings_ok "$peer" fd77::1
check "the peer sees wgu at its outer address" \
    eval "peer_endpoint $pif $wpub | grep -q '^192\\.168\\.77\\.1:$PORT\$'"

# A listen-port change after the move: the new sockets are born where
# the daemon lives, not where the interface went.
wg set "$wif" listen-port $((PORT + 1)) &&
wg set "$pif" peer "$wpub" endpoint 192.168.77.1:$((PORT + 1))
check "a new listen port opens in the outer namespace" \
    udp_in "$outer" $((PORT + 1))
check "traffic after the listen-port change" pings_ok "$inner" 10.77.0.2

# MTU changes made in the inner namespace are not seen by the daemon's
# rtnetlink socket, which stays in the outer one; the MTU only caps the
# padding, so full-size packets must still pass either way.
ip -n "$inner" link set "$wif" mtu 1380
ip -n "$peer" link set "$pif" mtu 1380
check "full-size packets after an MTU change in the inner namespace" \
    eval "ip netns exec $inner ping -q -M do -s 1352 -c 3 -i 0.2 -w 5 \
    10.77.0.2 >/dev/null"
ip -n "$inner" link set "$wif" mtu 1500
ip -n "$peer" link set "$pif" mtu 1500
check "full-size packets after raising the MTU in the inner namespace" \
    eval "ip netns exec $inner ping -q -M do -s 1472 -c 3 -i 0.2 -w 5 \
    10.77.0.2 >/dev/null"

ip -n "$inner" link del "$wif"
check "ip link del in the inner namespace stops the daemon" \
    wait_exit "$wpid" 50
check "... with status 0" test "${lib_status:-1}" -eq 0
check "... and removes its socket" test ! -e "$WG_SOCKET_DIR/$wif.sock"

lib_summary
