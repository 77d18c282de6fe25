#!/bin/sh
# systemd/wgu@.service as systemd would run it, without systemd: these test
# machines have no systemd as PID 1, so the unit's own ExecStart,
# ExecReload and ExecStop lines are read from the file, %i and @bindir@
# substituted as systemd and `make install` do, and run for a hub and an
# edge, each in its namespace with its own /etc/wireguard (a bind mount in
# the private mount namespace `ip netns exec` makes; the host's
# /etc/wireguard is never touched).  Proves: ExecStart brings up
# /etc/wireguard/NAME.conf by bare name and the tunnel works; ExecReload
# applies a changed peer setting without dropping the tunnel; ExecStop
# removes the interface and the daemon.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

lib_require_tunnel ping bash
lib_init

unit=$(dirname "$0")/../systemd/wgu@.service
[ -r "$unit" ] || { not_ok "cannot read $unit"; lib_summary; }
bindir=$(dirname "$WGU")
tag=$$
hub=suh$tag edge=sue$tag
# Two names: the UAPI sockets share one directory across namespaces.
hif=wgs$tag eif=wgt$tag
lib_sockets="$lib_sockets $hif $eif"

ns_create "$hub" && ns_create "$edge" &&
    ns_link "$hub" "$edge" 192.168.83.1/24 192.168.83.2/24 || {
	not_ok "namespaces"
	lib_summary
}

# exec_line KEY INSTANCE: the unit's KEY= command with %i and @bindir@
# filled in.
exec_line() {
	sed -n "s/^$1=//p" "$unit" | sed -e "s|%i|$2|g" \
	    -e "s|@bindir@|$bindir|g"
}

# run_unit NS ETCDIR KEY INSTANCE: runs that line in NS with ETCDIR as
# /etc/wireguard, as root, from /, the way systemd would.
run_unit() {
	lib_line=$(exec_line "$3" "$4")
	[ -n "$lib_line" ] || { echo "  no $3= in $unit"; return 1; }
	ip netns exec "$1" sh -c 'mkdir -p /etc/wireguard &&
	    mount --bind "$1" /etc/wireguard && cd / && eval "$2"' - "$2" \
	    "$lib_line" >"$lib_tmp/unit.out" 2>&1 || {
		sed 's/^/    /' "$lib_tmp/unit.out"
		return 1
	}
}

hub_pub=$(genkey hub) edge_pub=$(genkey edge)
mkdir -m 700 "$lib_tmp/etc-hub" "$lib_tmp/etc-edge"
(umask 077
cat >"$lib_tmp/etc-hub/$hif.conf" <<EOF
[Interface]
PrivateKey = $(cat "$lib_tmp/hub.key")
Address = 10.83.0.1/24
ListenPort = 51830

[Peer]
PublicKey = $edge_pub
AllowedIPs = 10.83.0.2/32
EOF
cat >"$lib_tmp/etc-edge/$eif.conf" <<EOF
[Interface]
PrivateKey = $(cat "$lib_tmp/edge.key")
Address = 10.83.0.2/24

[Peer]
PublicKey = $hub_pub
Endpoint = 192.168.83.1:51830
AllowedIPs = 10.83.0.0/24
PersistentKeepalive = 25
EOF
)

check "the unit's ExecStart on the hub (bare name)" \
    run_unit "$hub" "$lib_tmp/etc-hub" ExecStart "$hif"
check "the unit's ExecStart on the edge" \
    run_unit "$edge" "$lib_tmp/etc-edge" ExecStart "$eif"
check "the tunnel works" pings_ok "$edge" 10.83.0.1 3
hs1=$(ip netns exec "$edge" wg show "$eif" latest-handshakes |
    awk '{ print $2 }')

sed -i 's/^PersistentKeepalive = 25/PersistentKeepalive = 15/' \
    "$lib_tmp/etc-edge/$eif.conf"
check "the unit's ExecReload on the edge" \
    run_unit "$edge" "$lib_tmp/etc-edge" ExecReload "$eif"
check "the reload applied the new keepalive" sh -c \
    '[ "$(ip netns exec "$1" wg show "$2" persistent-keepalive |
    awk "{ print \$2 }")" = 15 ]' - "$edge" "$eif"
check "the reload kept the session (same handshake)" sh -c \
    '[ "$(ip netns exec "$1" wg show "$2" latest-handshakes |
    awk "{ print \$2 }")" = "$3" ]' - "$edge" "$eif" "$hs1"
check "the tunnel still works" pings_ok "$edge" 10.83.0.1 2

check "the unit's ExecStop on the edge" \
    run_unit "$edge" "$lib_tmp/etc-edge" ExecStop "$eif"
check "the unit's ExecStop on the hub" \
    run_unit "$hub" "$lib_tmp/etc-hub" ExecStop "$hif"
check "hub: no interface left" \
    sh -c '! ip -n "$1" link show "$2" >/dev/null 2>&1' - "$hub" "$hif"
check "edge: no interface left" \
    sh -c '! ip -n "$1" link show "$2" >/dev/null 2>&1' - "$edge" "$eif"
for i in "$hif" "$eif"; do
	check "$i: no socket left" [ ! -e "$WG_SOCKET_DIR/$i.sock" ]
	check "$i: no daemon left" sh -c \
	    '! pgrep -f "wgu (-f )?$1\$" >/dev/null' - "$i"
done

lib_summary
