#!/bin/sh
# `wgu up`, `wgu down`, `wgu show`, `wgu strip` and wg-quick with
# WG_QUICK_USERSPACE_IMPLEMENTATION=wgu, in two namespaces this script
# creates: a hub (wgu, brought up from config files in a temp dir, by
# path) and an edge (Debian's wireguard-go, configured with wg and ip),
# joined by a veth with IPv4 and IPv6.
#
#   broken configs: each kind of mistake refused with FILE:LINE and exit 1,
#          nothing left behind (interface, daemon, socket, rule); the
#          world-accessible warning; strip output.
#   up/down with every key: PSK, IPv6 outside (endpoint [fd77::2]) and a
#          host name endpoint (/etc/netns/NS/hosts, which `ip netns exec`
#          mounts over /etc/hosts for that namespace only), IPv4 and IPv6
#          inside, MTU, two Address lines, hooks with %i in order (PreUp
#          before the interface exists), DNS without resolvconf warns,
#          `up` twice refused, `show`; `down` leaves nothing.
#   PSK mismatch: no tunnel.  Rollback: a failing PostUp, an Address the
#          kernel refuses (a duplicate) and a ListenPort in use leave
#          nothing.
#   Table = off and Table = 1234.  A 0.0.0.0/0 + ::/0 peer: fwmark 51820,
#          the two rules per family, the route in table 51820, and the
#          tunnel works while the hub's only way to the edge's endpoint is
#          main's default route (so unmarked UDP would loop into the
#          tunnel); the rules go with `down`.  SaveConfig writes back a
#          runtime change.
#   wg-quick up/down with WG_QUICK_USERSPACE_IMPLEMENTATION=wgu (this
#          machine has no WireGuard kernel module, so wg-quick falls back
#          to it; with the module loaded that part is skipped, as wg-quick
#          would never run wgu).
#
# Every endpoint is inside the namespaces.  Needs root; exits 77 otherwise
# or when wireguard-go, wg, wg-quick, ip, ping or timeout is missing.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

lib_require_tunnel wireguard-go ping timeout
lib_init

tag=$$
hub=qh$tag
edge=qe$tag
hif=qh$tag
eif=qe$tag
# The hosts file `ip netns exec $hub` sees; removed with everything else.
netns_etc=/etc/netns/$hub
quick_cleanup() {
	rm -rf "$netns_etc"
	rmdir /etc/netns 2>/dev/null
	lib_cleanup
}
trap quick_cleanup EXIT
lib_sockets="$lib_sockets $hif qw$tag"

ns_create "$hub" && ns_create "$edge" &&
    ns_link "$hub" "$edge" 192.168.77.1/24 192.168.77.2/24 &&
    ns_addr "$hub" fd77::1/64 veth0 && ns_addr "$edge" fd77::2/64 veth0 || {
	not_ok "namespaces"
	lib_summary
}
# Name lookups in the hub see these files only: no query leaves.
mkdir -p "$netns_etc" &&
    printf '127.0.0.1 localhost\nfd77::2 edge.wgu.test\n' >"$netns_etc/hosts" &&
    printf 'nameserver 127.0.0.1\n' >"$netns_etc/resolv.conf"

hub_pub=$(genkey hub)
edge_pub=$(genkey edge)
hub_priv=$(cat "$lib_tmp/hub.key")
(umask 077; wg genpsk >"$lib_tmp/psk"; wg genpsk >"$lib_tmp/psk2")
psk=$(cat "$lib_tmp/psk")

start_wggo "$edge" "$eif" || { not_ok "wireguard-go"; lib_summary; }
wg set "$eif" private-key "$lib_tmp/edge.key" listen-port 51821 \
    peer "$hub_pub" preshared-key "$lib_tmp/psk" endpoint "[fd77::1]:51820" \
    allowed-ips 10.77.0.1/32,fd77:1::1/128 &&
ns_if_up "$edge" "$eif" 10.77.0.2/24 fd77:1::2/64 || not_ok "edge setup"

mkdir -m 700 "$lib_tmp/c"
conf=$lib_tmp/c/$hif.conf
marks=$lib_tmp/marks
rules_before=$(ip -n "$hub" rule; ip -n "$hub" -6 rule)

# conf [EXTRA-INTERFACE-LINES [PEER-LINES]]: writes $conf.
write_conf() {
	cat >"$conf" <<EOF
[Interface]
PrivateKey = $hub_priv
Address = 10.77.0.1/24
ListenPort = 51820
$1
[Peer]
PublicKey = $edge_pub
PresharedKey = $psk
${2:-AllowedIPs = 10.77.0.2/32, fd77:1::2/128
Endpoint = [fd77::2]:51821}
EOF
	chmod 600 "$conf"
}

# wgu_hub OUT ARGS...: wgu ARGS in the hub, its output in $lib_tmp/OUT and
# added to commands.log, where lib_summary looks for sanitizer reports.
wgu_hub() {
	wgu_out=$lib_tmp/$1
	shift
	ip netns exec "$hub" "$WGU" "$@" >"$wgu_out" 2>&1
	wgu_st=$?
	cat "$wgu_out" >>"$lib_tmp/commands.log"
	return $wgu_st
}

hub_up() {
	wgu_hub up.out up "$conf"
}

hub_down() {
	wgu_hub down.out down "$conf"
}

# Nothing of ours left in the hub: no interface, socket, daemon or rule.
nothing_left() {
	if ip -n "$hub" link show "$hif" >/dev/null 2>&1; then
		echo "  interface left"; return 1
	fi
	if [ -e "$WG_SOCKET_DIR/$hif.sock" ]; then
		echo "  socket left"; return 1
	fi
	if pgrep -f "^wgu $hif\$" >/dev/null; then
		echo "  daemon left"; return 1
	fi
	if [ "$(ip -n "$hub" rule; ip -n "$hub" -6 rule)" != "$rules_before" ]
	then
		echo "  rules left"; return 1
	fi
}

# refused NAME EXPECTED-STDERR-LINE: `wgu up $conf` fails with exit 1 and
# that message (a final '*' matches any rest), and changes nothing.
refused() {
	wgu_hub up.out up "$conf"
	st=$?
	case "$2" in
	*\*) found=$(grep -cF "${2%\*}" "$lib_tmp/up.out") ;;
	*) found=$(grep -cxF "$2" "$lib_tmp/up.out") ;;
	esac
	if [ $st -ne 1 ] || [ "$found" = 0 ] ||
	    ! nothing_left; then
		echo "  status $st, wanted: $2"
		sed 's/^/    /' "$lib_tmp/up.out"
		not_ok "refused: $1"
		return
	fi
	ok "refused: $1"
}

# ---------------------------------------------------------------- broken
write_conf "Frobnicate = 1"
refused "unknown key" "$conf:5: unknown key \"Frobnicate\" in [Interface]"
write_conf "" "PublicKey = $edge_pub
AllowedIPs = 10.77.0.2/33"
refused "bad AllowedIPs" \
    "$conf:10: bad AllowedIPs: invalid prefix \"10.77.0.2/33\""
write_conf "MTU = big"
refused "bad MTU" "$conf:5: bad MTU: expected 68 to 65535"
write_conf "[Tunnel]"
refused "unknown section" "$conf:5: unknown section \"[Tunnel]\""
sed -i "s|^PrivateKey = .*|PrivateKey = AAAA|" "$conf"
refused "bad PrivateKey" \
    "$conf:2: bad PrivateKey: not a base64 key of 32 bytes"
write_conf "" "PublicKey = $edge_pub
Endpoint = edge.wgu.test"
refused "bad Endpoint" "$conf:10: bad Endpoint: expected HOST:PORT"
write_conf "" "PublicKey = $edge_pub
Endpoint = no-such-host.wgu.test:1"
# The resolver's words vary (no name server answers in the namespace).
refused "unresolvable endpoint" "wgu: no-such-host.wgu.test:1: *"
check "refused: missing file" sh -c "ip netns exec $hub $WGU up \
    '$lib_tmp/c/none0.conf' 2>&1 | grep -qxF \
    'wgu: $lib_tmp/c/none0.conf: No such file or directory'"
check "refused: a file name that is no interface name" sh -c \
    "! ip netns exec $hub $WGU up '$lib_tmp/c/x.txt' 2>/dev/null"

write_conf "Address = fd77:1::1/64
DNS = 10.77.0.53"
chmod 644 "$conf"
chmod 755 "$lib_tmp/c"
check "world-accessible warning" sh -c "$WGU strip '$conf' 2>&1 >/dev/null |
    grep -qxF \"Warning: \\\`$conf' is world accessible\""
chmod 700 "$lib_tmp/c"
chmod 600 "$conf"
check "strip drops Address, DNS and keeps the rest" sh -c "
    out=\$($WGU strip '$conf') &&
    ! echo \"\$out\" | grep -Eqi '^(address|dns)' &&
    echo \"\$out\" | grep -qx 'ListenPort = 51820' &&
    echo \"\$out\" | grep -qx 'PresharedKey = $psk'"

# ---------------------------------------------------------------- up/down
rm -f "$marks"
write_conf "Address = fd77:1::1/64
address = 10.77.5.1/24
MTU = 1380
DNS = 10.77.0.53, wgu.test
Table = auto
FwMark = 0x4242
SaveConfig = false
PreUp = ip link show %i >/dev/null 2>&1 || echo preup-%i >>$marks
PostUp = ip link show %i >/dev/null && echo postup-%i >>$marks
PreDown = echo predown-%i >>$marks
PostDown = ip link show %i >/dev/null 2>&1 || echo postdown-%i >>$marks" \
"PublicKey = $edge_pub
AllowedIPs = 10.77.0.2/32
AllowedIPs = fd77:1::2/128
Endpoint = edge.wgu.test:51821
PersistentKeepalive = 25"
check "up with every key" hub_up || sed 's/^/    /' "$lib_tmp/up.out"
check "up warns about DNS without resolvconf" \
    grep -q "resolvconf not found" "$lib_tmp/up.out"
check "PreUp before the interface, PostUp after" sh -c \
    "[ \"\$(cat $marks)\" = \"preup-$hif
postup-$hif\" ]"
check "addresses, MTU, up" sh -c "ip -n $hub addr show $hif |
    grep -q 'inet 10.77.0.1/24' && ip -n $hub addr show $hif |
    grep -q 'inet 10.77.5.1/24' && ip -n $hub addr show $hif |
    grep -q 'inet6 fd77:1::1/64' && ip -n $hub link show $hif |
    grep -q 'mtu 1380' && ip -n $hub link show $hif | grep -q ',UP'"
check "routes for AllowedIPs" sh -c "ip -n $hub route show dev $hif |
    grep -q '^10.77.0.2 ' && ip -n $hub -6 route show dev $hif |
    grep -q '^fd77:1::2 '"
check "fwmark, keepalive, PSK set" sh -c "wg show $hif fwmark |
    grep -qx 0x4242 && wg show $hif persistent-keepalive | grep -q '25\$' &&
    wg show $hif preshared-keys | grep -q '$psk'"
check "ping IPv4 inside, IPv6 outside (host name endpoint)" \
    pings_ok "$hub" 10.77.0.2
check "ping IPv6 inside" pings_ok "$hub" fd77:1::2
check "ping from the edge" pings_ok "$edge" 10.77.0.1
check "show lists the peer" sh -c "ip netns exec $hub $WGU show $hif |
    grep -q 'peer: $edge_pub'"
check "show without wg: the state from the socket, no private key" sh -c "
    out=\$(PATH=/nonexistent $WGU show $hif) &&
    echo \"\$out\" | grep -qx 'PublicKey = $edge_pub' &&
    echo \"\$out\" | grep -qx 'AllowedIPs = 10.77.0.2/32, fd77:1::2/128' &&
    echo \"\$out\" | grep -qx 'PersistentKeepalive = 25' &&
    ! echo \"\$out\" | grep -qi 'PrivateKey'" || PATH=/nonexistent "$WGU" show "$hif"
wgu_hub up2.out up "$conf"
up2=$?
check "second up refused" sh -c "[ $up2 -eq 1 ] &&
    grep -qxF \"wgu: \\\`$hif' already exists\" '$lib_tmp/up2.out'"
check "down" hub_down || sed 's/^/    /' "$lib_tmp/down.out"
check "PreDown before, PostDown after deletion" sh -c \
    "tail -n 2 $marks | tr '\n' ' ' | grep -qx 'predown-$hif postdown-$hif '"
check "down leaves nothing" nothing_left

# ---------------------------------------------------------------- PSK
sed -i "s|^PresharedKey = .*|PresharedKey = $(cat "$lib_tmp/psk2")|" "$conf"
hub_up
check "PSK mismatch: no tunnel" sh -c \
    "! ip netns exec $hub ping -q -c 1 -w 3 10.77.0.2 >/dev/null 2>&1"
hub_down
check "down after PSK mismatch" nothing_left

# ---------------------------------------------------------------- rollback
write_conf "PostUp = false"
refused "failing PostUp rolls back" "wgu: hook failed (status 1)"
write_conf "Address = 10.77.0.1/24"
refused "Address the kernel refuses rolls back" \
    "wgu: address 10.77.0.1/24: File exists"
# The daemon refuses the config (its port is taken): the UAPI set fails.
write_conf ""
# shellcheck disable=SC2016  # Perl, not shell
ip netns exec "$hub" perl -e 'use IO::Socket::IP;
    my $s = IO::Socket::IP->new(LocalHost => "::", LocalPort => 51820,
    Proto => "udp") or die "bind: $@\n"; sleep 20;' &
blocker=$!
wait_until 5 listens "$hub" 51820 udp
refused "a port in use rolls back" \
    "wgu: setting the configuration failed: Address already in use"
kill "$blocker" && wait "$blocker" 2>/dev/null

# ---------------------------------------------------------------- tables
write_conf "Table = off"
hub_up
check "Table = off: no route" sh -c \
    "[ -z \"\$(ip -n $hub route show 10.77.0.2)\" ]"
hub_down
write_conf "Table = 1234"
hub_up
check "Table = 1234: route there, not in main" sh -c \
    "ip -n $hub route show table 1234 | grep -q '^10.77.0.2 dev $hif' &&
    [ -z \"\$(ip -n $hub route show 10.77.0.2)\" ]"
hub_down
check "tables: nothing left" nothing_left

# ---------------------------------------------------------------- default
# The edge's endpoint is reachable only through main's default route.
ip -n "$edge" addr add 192.168.78.2/32 dev veth0 &&
ip -n "$hub" route add default via 192.168.77.2 dev veth0 &&
ip -n "$hub" -6 route add default via fd77::2 dev veth0 ||
    not_ok "default route setup"
wg set "$eif" peer "$hub_pub" remove
wg set "$eif" peer "$hub_pub" preshared-key "$lib_tmp/psk" \
    allowed-ips 10.77.0.1/32,fd77:1::1/128
write_conf "Address = fd77:1::1/64" "PublicKey = $edge_pub
AllowedIPs = 0.0.0.0/0, ::/0
Endpoint = 192.168.78.2:51821"
check "up with 0.0.0.0/0 and ::/0" hub_up || sed 's/^/    /' "$lib_tmp/up.out"
check "fwmark 51820" sh -c "wg show $hif fwmark | grep -qx 0xca6c"
check "IPv4 rules" sh -c "ip -n $hub rule |
    grep -q 'not from all fwmark 0xca6c lookup 51820' && ip -n $hub rule |
    grep -q 'from all lookup main suppress_prefixlength 0'"
check "IPv6 rules" sh -c "ip -n $hub -6 rule |
    grep -q 'not from all fwmark 0xca6c lookup 51820' && ip -n $hub -6 rule |
    grep -q 'from all lookup main suppress_prefixlength 0'"
check "default routes in table 51820" sh -c "ip -n $hub route show \
    table 51820 | grep -q '^default dev $hif' && ip -n $hub -6 route show \
    table 51820 | grep -q '^default dev $hif'"
check "tunnel works; its own UDP does not loop" pings_ok "$hub" 10.77.0.2
check "the handshake went over the veth" sh -c \
    "wg show $eif endpoints | grep -q '192.168.77.1:51820'"
check "down (default route)" hub_down
check "rules removed" nothing_left

# ---------------------------------------------------------------- SaveConfig
write_conf "SaveConfig = true
Address = fd77:1::1/64"
hub_up
wg set "$hif" peer "$edge_pub" persistent-keepalive 7
hub_down
check "SaveConfig writes the runtime state back" sh -c "
    grep -qx 'PersistentKeepalive = 7' '$conf' &&
    grep -qx 'Address = 10.77.0.1/24' '$conf' &&
    grep -qx 'Address = fd77:1::1/64' '$conf' &&
    grep -qx 'SaveConfig = true' '$conf' &&
    grep -qx 'PrivateKey = $hub_priv' '$conf'"
check "the saved config comes up again" hub_up
hub_down
check "SaveConfig: nothing left" nothing_left

# ---------------------------------------------------------------- wg-quick
if [ -e /sys/module/wireguard ]; then
	echo "skip wg-quick: the WireGuard kernel module is loaded here"
elif ! command -v wg-quick >/dev/null 2>&1; then
	echo "skip wg-quick: not installed"
else
	wconf=$lib_tmp/c/qw$tag.conf
	write_conf "Address = fd77:1::1/64"
	mv "$conf" "$wconf"
	ip netns exec "$hub" env WG_QUICK_USERSPACE_IMPLEMENTATION="$WGU" \
	    wg-quick up "$wconf" >"$lib_tmp/wq.out" 2>&1
	cat "$lib_tmp/wq.out" >>"$lib_tmp/commands.log"
	check "wg-quick up with WG_QUICK_USERSPACE_IMPLEMENTATION=wgu" \
	    pings_ok "$hub" 10.77.0.2 || sed 's/^/    /' "$lib_tmp/wq.out"
	ip netns exec "$hub" wg-quick down "$wconf" >"$lib_tmp/wq.out" 2>&1
	check "wg-quick down" sh -c "! ip -n $hub link show qw$tag \
	    >/dev/null 2>&1" || sed 's/^/    /' "$lib_tmp/wq.out"
fi

lib_summary
