#!/bin/sh
# `wgu up` beyond sys_quick.sh: the default-route case as wg-quick does it
# with nftables, SaveConfig's addresses, the bare-name path and DNS.  Three
# namespaces this script creates: a hub (wgu up), an edge (Debian's
# wireguard-go) joined to it by a veth, and a LAN host on a second veth of
# the hub.
#
#   default route: with table 51820 holding an IPv4 route and 51821 an
#          IPv6 one, a 0.0.0.0/0 + ::/0 peer gets fwmark and table 51822
#          (the first with no route of either family), its rules and
#          routes there, src_valid_mark=1, and the tables `ip
#          wg-quick-IF` and `ip6 wg-quick-IF` with wg-quick's rules; the
#          same tables, rule for rule, as wg-quick's own script makes for
#          this config (fe80:: aside, see src/cli/routes.c); the tunnel works while
#          the endpoint is reachable only through main's default route;
#          the LAN host cannot reach the tunnel addresses (IPv4, IPv6)
#          until the table of that family is deleted; `down` removes
#          tables, rules and routes.  A failing PostUp removes them too.
#          Without nft: a warning, the routes and rules, no table.
#   SaveConfig: `down` writes the addresses the interface has then (one
#          added and one removed by hand after `up`), not the file's, and
#          no fe80:: address; and its MTU, changed by hand too.  A symlink
#          planted at CONFIG.tmp is neither followed nor replaced: the new
#          file gets a random name, then the config's.
#   bare name: `wgu up NAME` / `wgu down NAME` read
#          /etc/wireguard/NAME.conf, inside a private mount namespace with
#          a tmpfs over /etc/wireguard (and an overlay over /etc for
#          /etc/resolvconf); the host's /etc is not touched.
#   DNS: a fake resolvconf first in PATH records its arguments and input:
#          `up` feeds `resolvconf -a IF -m 0 -x` the nameserver lines then
#          one search line, `down` runs `resolvconf -d IF -f`; with
#          /etc/resolvconf/interface-order naming tun* the name is
#          tun.IF; search domains alone do not call it.
#
# Every address is inside the namespaces.  Needs root; exits 77 otherwise
# or when wireguard-go, wg, ip, nft, ping, unshare or timeout is missing.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

lib_require_tunnel wireguard-go nft ping unshare timeout
lib_init

tag=$$
hub=qxh$tag
edge=qxe$tag
lan=qxl$tag
hif=qx$tag
eif=qy$tag
lib_sockets="$lib_sockets $hif"

ns_create "$hub" && ns_create "$edge" && ns_create "$lan" &&
    ns_link "$hub" "$edge" 192.168.79.1/24 192.168.79.2/24 &&
    ns_addr "$hub" fd79::1/64 veth0 && ns_addr "$edge" fd79::2/64 veth0 &&
    ns_veth "$hub" lan0 "$lan" veth0 &&
    ns_addr "$hub" 192.168.81.1/24 lan0 && ns_addr "$lan" 192.168.81.2/24 veth0 &&
    ns_addr "$hub" fd81::1/64 lan0 && ns_addr "$lan" fd81::2/64 veth0 &&
    ip -n "$lan" route add 10.78.0.0/24 via 192.168.81.1 &&
    ip -n "$lan" -6 route add fd78:1::/64 via fd81::1 || {
	not_ok "namespaces"
	lib_summary
}

hub_pub=$(genkey hub)
edge_pub=$(genkey edge)
hub_priv=$(cat "$lib_tmp/hub.key")

# The edge's endpoint is reachable only through main's default route, so
# unmarked tunnel UDP would loop into the tunnel.
start_wggo "$edge" "$eif" || { not_ok "wireguard-go"; lib_summary; }
wg set "$eif" private-key "$lib_tmp/edge.key" listen-port 51821 \
    peer "$hub_pub" allowed-ips 10.78.0.1/32,fd78:1::1/128 &&
ns_if_up "$edge" "$eif" 10.78.0.2/24 fd78:1::2/64 &&
ip -n "$edge" addr add 192.168.80.2/32 dev veth0 &&
ip -n "$hub" route add default via 192.168.79.2 dev veth0 &&
ip -n "$hub" -6 route add default via fd79::2 dev veth0 ||
    not_ok "edge setup"

mkdir -m 700 "$lib_tmp/c" "$lib_tmp/bin"
conf=$lib_tmp/c/$hif.conf
rules_before=$(ip -n "$hub" rule; ip -n "$hub" -6 rule)

# write_conf [EXTRA-INTERFACE-LINES]: $conf with a default-route peer.
write_conf() {
	cat >"$conf" <<EOF
[Interface]
PrivateKey = $hub_priv
Address = 10.78.0.1/24
Address = fd78:1::1/64
ListenPort = 51820
$1
[Peer]
PublicKey = $edge_pub
AllowedIPs = 0.0.0.0/0, ::/0
Endpoint = 192.168.80.2:51821
EOF
	chmod 600 "$conf"
}

# in_hub OUT CMD...: CMD in the hub, its output in $lib_tmp/OUT and added
# to commands.log (where lib_summary looks for sanitizer reports).
in_hub() {
	hub_out=$lib_tmp/$1
	shift
	ip netns exec "$hub" "$@" >"$hub_out" 2>&1
	hub_st=$?
	cat "$hub_out" >>"$lib_tmp/commands.log"
	return $hub_st
}

hub_up() {
	in_hub up.out "$WGU" up "$conf" || {
		sed 's/^/    /' "$lib_tmp/up.out"
		return 1
	}
}

hub_down() {
	in_hub down.out "$WGU" down "$conf" || {
		sed 's/^/    /' "$lib_tmp/down.out"
		return 1
	}
}

# nft_table FAMILY: `nft list table FAMILY wg-quick-$hif` in the hub.
nft_table() {
	ip netns exec "$hub" nft list table "$1" "wg-quick-$hif" 2>/dev/null
}

# has_line FAMILY TEXT: the table has a line that is TEXT (trimmed).
has_line() {
	nft_table "$1" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//' |
	    grep -qxF "$2" || { echo "  no line: $2"; return 1; }
}

no_tables() {
	if ip netns exec "$hub" nft list tables | grep -q "wg-quick-$hif"; then
		echo "  nft table left:"
		ip netns exec "$hub" nft list tables | sed 's/^/    /'
		return 1
	fi
}

# Nothing of ours left in the hub: interface, socket, rules, tables,
# routes in the tables it may have used.
nothing_left() {
	if ip -n "$hub" link show "$hif" >/dev/null 2>&1; then
		echo "  interface left"; return 1
	fi
	if [ -e "$WG_SOCKET_DIR/$hif.sock" ]; then
		echo "  socket left"; return 1
	fi
	if [ "$(ip -n "$hub" rule; ip -n "$hub" -6 rule)" != "$rules_before" ]
	then
		echo "  rules left"; return 1
	fi
	if [ -n "$(ip -n "$hub" route show table 51822; \
	    ip -n "$hub" -6 route show table 51822)" ]; then
		echo "  routes left in table 51822"; return 1
	fi
	no_tables
}

# reaches NS ADDR: one echo reply within 2 s.
reaches() {
	ip netns exec "$1" ping -q -c 1 -W 2 "$2" >/dev/null 2>&1
}

# ---------------------------------------------------------------- default
# Tables 51820 (IPv4) and 51821 (IPv6) are taken.
ip -n "$hub" route add 10.99.0.0/24 dev veth0 table 51820 &&
ip -n "$hub" -6 route add fd99::/64 dev veth0 table 51821 &&
ip netns exec "$hub" sysctl -qw net.ipv4.conf.all.src_valid_mark=0 ||
    not_ok "table setup"
check "LAN host reaches the hub's LAN address" reaches "$lan" 192.168.81.1
write_conf ""
check "up with 0.0.0.0/0 and ::/0" hub_up
check "fwmark: the first table with no route, 51822" sh -c \
    "wg show $hif fwmark | grep -qx 0xca6e"
check "rules use table 51822" sh -c "
    ip -n $hub rule | grep -q 'not from all fwmark 0xca6e lookup 51822' &&
    ip -n $hub -6 rule | grep -q 'not from all fwmark 0xca6e lookup 51822' &&
    ip -n $hub rule | grep -q 'from all lookup main suppress_prefixlength 0'"
check "default routes in table 51822, the others untouched" sh -c "
    ip -n $hub route show table 51822 | grep -q '^default dev $hif' &&
    ip -n $hub -6 route show table 51822 | grep -q '^default dev $hif' &&
    [ \"\$(ip -n $hub route show table 51820)\" = \
        '10.99.0.0/24 dev veth0 scope link ' ] &&
    [ -z \"\$(ip -n $hub -6 route show table 51820)\" ]"
check "src_valid_mark = 1" sh -c "[ \"\$(ip netns exec $hub \
    sysctl -n net.ipv4.conf.all.src_valid_mark)\" = 1 ]"
for fam in ip ip6; do
	if [ $fam = ip ]; then a=10.78.0.1; else a=fd78:1::1; fi
	check "nft $fam: chains at raw and mangle priorities" sh -c "
	    t=\$(ip netns exec $hub nft list table $fam wg-quick-$hif) &&
	    echo \"\$t\" | grep -A1 'chain preraw' |
	        grep -q 'hook prerouting priority raw;' &&
	    echo \"\$t\" | grep -A1 'chain premangle' |
	        grep -q 'hook prerouting priority mangle;' &&
	    echo \"\$t\" | grep -A1 'chain postmangle' |
	        grep -q 'hook postrouting priority mangle;'"
	check "nft $fam: anti-spoofing rule for $a" has_line $fam \
	    "iifname != \"$hif\" $fam daddr $a fib saddr type != local drop"
	check "nft $fam: conntrack mark save and restore" sh -c "
	    ip netns exec $hub nft list table $fam wg-quick-$hif |
	        grep -qF 'meta l4proto udp meta mark 0x0000ca6e ct mark set meta mark' &&
	    ip netns exec $hub nft list table $fam wg-quick-$hif |
	        grep -qF 'meta l4proto udp meta mark set ct mark'"
done
check "nft ip6: no rule for the TUN's fe80:: address" sh -c \
    "! ip netns exec $hub nft list table ip6 wg-quick-$hif | grep -q fe80"
check "tunnel works; its own UDP does not loop" pings_ok "$hub" 10.78.0.2
check "IPv6 inside" pings_ok "$hub" fd78:1::2
check "the handshake went over the veth" sh -c \
    "wg show $eif endpoints | grep -q '192.168.79.1:51820'"
if command -v conntrack >/dev/null 2>&1; then
	check "conntrack kept the mark of the tunnel's UDP" sh -c "
	    ip netns exec $hub conntrack -L -p udp --dport 51821 2>/dev/null |
	        grep -q 'mark=51822'"
else
	echo "skip conntrack mark: conntrack is not installed"
fi
# The LAN host routes the tunnel subnets to the hub: the rule of each
# family drops it, and only it (the packet gets through once it is gone).
check "LAN host cannot reach 10.78.0.1" sh -c "
    ! ip netns exec $lan ping -q -c 1 -W 1 10.78.0.1 >/dev/null 2>&1"
check "LAN host cannot reach fd78:1::1" sh -c \
    "! ip netns exec $lan ping -q -c 1 -W 1 fd78:1::1 >/dev/null 2>&1"
ip netns exec "$hub" nft delete table ip "wg-quick-$hif"
check "without the ip table it can: the rule dropped it" \
    reaches "$lan" 10.78.0.1
ip netns exec "$hub" nft delete table ip6 "wg-quick-$hif"
check "without the ip6 table it can: the rule dropped it" \
    reaches "$lan" fd78:1::1
check "down" hub_down
check "down removes rules and routes" nothing_left
# The tables were deleted by hand above: once more with them in place.
hub_up
check "up again: both tables" sh -c "
    ip netns exec $hub nft list table ip wg-quick-$hif >/dev/null &&
    ip netns exec $hub nft list table ip6 wg-quick-$hif >/dev/null"
hub_down
check "down removes the tables" nothing_left

# The same config through wg-quick's own script makes the same tables.
if [ -e /sys/module/wireguard ]; then
	echo "skip wg-quick comparison: the WireGuard kernel module is loaded"
elif ! command -v wg-quick >/dev/null 2>&1; then
	echo "skip wg-quick comparison: not installed"
else
	hub_up
	in_hub wgu.nft nft list ruleset
	hub_down
	in_hub wq.out env WG_QUICK_USERSPACE_IMPLEMENTATION="$WGU" \
	    wg-quick up "$conf"
	in_hub wq.nft nft list ruleset
	in_hub wq.out wg-quick down "$conf"
	# Tables in one order; wg-quick's fe80:: rule left out.
	norm() {
		awk '/^table /{ t = $0 } { print t "\t" $0 }' "$1" |
		    grep -v 'daddr fe80:' | sort
	}
	norm "$lib_tmp/wgu.nft" >"$lib_tmp/wgu.norm"
	norm "$lib_tmp/wq.nft" >"$lib_tmp/wq.norm"
	check "the same nftables rules as wg-quick's script" sh -c \
	    "grep -q wg-quick-$hif '$lib_tmp/wq.norm' &&
	    cmp -s '$lib_tmp/wgu.norm' '$lib_tmp/wq.norm'" ||
	    diff "$lib_tmp/wgu.nft" "$lib_tmp/wq.nft" | sed 's/^/    /'
	check "wg-quick comparison: nothing left" nothing_left
fi

# A failed up takes its tables with it.
write_conf "PostUp = false"
in_hub up.out "$WGU" up "$conf"
check "failing PostUp: refused" [ $? -eq 1 ]
check "failing PostUp: no table, rule or route left" nothing_left

# No nft: the tunnel comes up with its routes and rules, and a warning.
write_conf ""
ln -s "$(command -v ip)" "$lib_tmp/bin/ip"
in_hub up.out env PATH="$lib_tmp/bin" "$WGU" up "$conf"
check "without nft: up works" [ $? -eq 0 ]
check "without nft: a warning" grep -q "^Warning: nft not found" \
    "$lib_tmp/up.out"
check "without nft: rules and routes, no table" sh -c "
    ip -n $hub rule | grep -q 'lookup 51822' &&
    ip -n $hub route show table 51822 | grep -q '^default dev $hif' &&
    ! ip netns exec $hub nft list tables | grep -q wg-quick-$hif"
check "without nft: tunnel works" pings_ok "$hub" 10.78.0.2
in_hub down.out env PATH="$lib_tmp/bin" "$WGU" down "$conf"
check "without nft: down" [ $? -eq 0 ]
check "without nft: nothing left" nothing_left
rm -f "$lib_tmp/bin/ip"

# ---------------------------------------------------------------- SaveConfig
write_conf "SaveConfig = true
MTU = 1400"
hub_up
ip -n "$hub" addr add 10.78.9.1/24 dev "$hif" &&
ip -n "$hub" addr del 10.78.0.1/24 dev "$hif" &&
ip -n "$hub" link set "$hif" mtu 1380 || not_ok "address and MTU change"
# A symlink planted where a temporary file of a fixed name would go: the
# new file must not be written through it, nor take its place.
printf 'not a config\n' >"$lib_tmp/victim"
ln -s "$lib_tmp/victim" "$conf.tmp"
check "SaveConfig: down" hub_down
check "SaveConfig: the symlink's target is untouched" sh -c "
    [ \"\$(cat '$lib_tmp/victim')\" = 'not a config' ] && [ -L '$conf.tmp' ]"
check "SaveConfig: a regular file of mode 600, no temporary left" sh -c "
    [ ! -L '$conf' ] && [ \"\$(stat -c %a '$conf')\" = 600 ] &&
    [ \"\$(ls -A '$lib_tmp/c')\" = '$hif.conf
$hif.conf.tmp' ]" || ls -lA "$lib_tmp/c" | sed 's/^/    /'
rm -f "$conf.tmp"
check "SaveConfig: the interface's addresses, in the kernel's order" sh -c "
    [ \"\$(grep '^Address' '$conf')\" = 'Address = 10.78.9.1/24
Address = fd78:1::1/64' ]" || sed 's/^/    /' "$conf"
check "SaveConfig: the link's MTU" grep -qx "MTU = 1380" "$conf"
check "SaveConfig: the rest" sh -c "grep -qx 'SaveConfig = true' '$conf' &&
    grep -qx 'PrivateKey = $hub_priv' '$conf' &&
    grep -qx 'PublicKey = $edge_pub' '$conf'"
check "SaveConfig: the saved file comes up again" hub_up
check "SaveConfig: with the saved address" sh -c \
    "ip -n $hub addr show $hif | grep -q 'inet 10.78.9.1/24'"
hub_down
check "SaveConfig: nothing left" nothing_left

# ---------------------------------------------------------------- DNS
# resolvconf records its arguments, and for -a what it is given.
cat >"$lib_tmp/bin/resolvconf" <<EOF
#!/bin/sh
echo "args: \$*" >>"$lib_tmp/resolvconf.log"
[ "\$1" = -a ] && sed 's/^/in: /' >>"$lib_tmp/resolvconf.log"
exit 0
EOF
chmod 755 "$lib_tmp/bin/resolvconf"
dns_path=$lib_tmp/bin:$PATH

rm -f "$lib_tmp/resolvconf.log"
write_conf "DNS = example.test, 10.78.0.53
DNS = fd78::53, corp.test"
in_hub up.out env PATH="$dns_path" "$WGU" up "$conf"
check "DNS: up" [ $? -eq 0 ]
check "DNS: resolvconf -a, nameservers then one search line" sh -c "
    [ \"\$(cat '$lib_tmp/resolvconf.log')\" = 'args: -a $hif -m 0 -x
in: nameserver 10.78.0.53
in: nameserver fd78::53
in: search example.test corp.test' ]" ||
    sed 's/^/    /' "$lib_tmp/resolvconf.log"
rm -f "$lib_tmp/resolvconf.log"
in_hub down.out env PATH="$dns_path" "$WGU" down "$conf"
check "DNS: down runs resolvconf -d" sh -c "[ $? -eq 0 ] &&
    [ \"\$(cat '$lib_tmp/resolvconf.log')\" = 'args: -d $hif -f' ]" ||
    sed 's/^/    /' "$lib_tmp/resolvconf.log"
check "DNS: nothing left" nothing_left

rm -f "$lib_tmp/resolvconf.log"
write_conf "DNS = example.test"
in_hub up.out env PATH="$dns_path" "$WGU" up "$conf"
in_hub down.out env PATH="$dns_path" "$WGU" down "$conf"
check "DNS: search domains alone do not call resolvconf" \
    [ ! -e "$lib_tmp/resolvconf.log" ]

# ---------------------------------------------------------------- bare name
# Inside a private mount namespace: a tmpfs over /etc/wireguard holds the
# config; an overlay over /etc (its changes in a tmpfs) adds
# /etc/resolvconf/interface-order.  Nothing reaches the host's /etc.
# (Not /etc itself: other tests add and remove /etc/netns.)
etc_state() {
	ls -ld --time-style=+%s.%N /etc/wireguard 2>&1
	ls -lA --time-style=+%s.%N /etc/wireguard 2>&1
	ls -d /etc/resolvconf 2>&1
}
etc_before=$(etc_state)
write_conf "DNS = 10.78.0.53
SaveConfig = true"
rm -f "$lib_tmp/resolvconf.log"
mkdir "$lib_tmp/m"
cat >"$lib_tmp/bare.sh" <<EOF
set -u
t=$lib_tmp
mount -t tmpfs -o mode=700 wgu-test "\$t/m" || exit 2
mkdir "\$t/m/up" "\$t/m/work"
if mount -t overlay overlay \
    -o lowerdir=/etc,upperdir="\$t/m/up",workdir="\$t/m/work" /etc; then
	mkdir -p /etc/resolvconf /etc/wireguard
	printf 'lo.inet*\nlo\ntun*\ntap*\n' >/etc/resolvconf/interface-order
	echo overlay >"\$t/bare.overlay"
fi
mount -t tmpfs -o mode=700 wgu-test /etc/wireguard || exit 3
cp "$conf" /etc/wireguard/$hif.conf
export PATH="$dns_path"
"$WGU" up $hif >"\$t/bare-up.out" 2>&1; echo "up \$?" >"\$t/bare.st"
ip link show $hif >/dev/null 2>&1 && echo "exists" >>"\$t/bare.st"
"$WGU" down $hif >"\$t/bare-down.out" 2>&1; echo "down \$?" >>"\$t/bare.st"
cp /etc/wireguard/$hif.conf "\$t/bare.saved"
EOF
ip netns exec "$hub" unshare -m sh "$lib_tmp/bare.sh"
cat "$lib_tmp"/bare-*.out >>"$lib_tmp/commands.log" 2>/dev/null
check "bare name: up, the interface, down" sh -c "[ \"\$(cat \
    '$lib_tmp/bare.st')\" = 'up 0
exists
down 0' ]" || cat "$lib_tmp"/bare-*.out 2>/dev/null | sed 's/^/    /'
check "bare name: SaveConfig wrote /etc/wireguard/$hif.conf" \
    grep -qx "Address = 10.78.0.1/24" "$lib_tmp/bare.saved"
if [ -e "$lib_tmp/bare.overlay" ]; then
	check "bare name: interface-order makes it tun.$hif" sh -c "
	    [ \"\$(grep ^args '$lib_tmp/resolvconf.log')\" = \
	    'args: -a tun.$hif -m 0 -x
args: -d tun.$hif -f' ]" || sed 's/^/    /' "$lib_tmp/resolvconf.log"
else
	echo "skip interface-order: no overlay mount here"
fi
etc_after=$(etc_state)
check "bare name: the host's /etc is untouched" \
    [ "$etc_after" = "$etc_before" ]
check "bare name: nothing left" nothing_left

lib_summary
