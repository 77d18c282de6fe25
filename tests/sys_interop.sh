#!/bin/sh
# wgu against itself and against Debian's wireguard-go, in network
# namespaces this script creates, configured only through wg(8):
#
#   pairs: wgu<->wgu over IPv4, wgu(hub)<->wireguard-go(edge) over IPv6,
#          wireguard-go(hub)<->wgu(edge) over IPv6 and IPv4.  Only the edge
#          knows the hub's endpoint and initiates, so wgu is tested both as
#          initiator and as responder.  Ping both ways inside the tunnel
#          over IPv4 and IPv6, 4 MiB each way by TCP compared by checksum,
#          `wg show` lists the peer, a handshake and counters, the hub
#          learns the edge's endpoint; then the edge's own address changes
#          and a wgu edge keeps its tunnel (sticky source dropped).
#   config: the same `wg setconf` / `addconf` / `set` / `syncconf` given to
#          wgu and to wireguard-go read back identically (`wg show dump`),
#          `wg showconf` round-trips through `wg setconf`, wg prints the
#          same error for a port in use from both, and stalled or garbage
#          clients do not keep 20 concurrent wg commands from being served.
#   life:  the daemon exits 0 and removes its socket on SIGTERM, SIGINT,
#          `ip link del` and removal of its socket; MTU changes reach it;
#          `wgu IFNAME` returns once interface and socket exist and leaves
#          a daemon in its own session; a second one is refused; a stale
#          socket is replaced; the command line's errors.
#
# Traffic never leaves the namespaces: they have no route outside, and
# every endpoint is inside them.  Needs root; exits 77 otherwise, or when
# wireguard-go, wg, ip, perl (perl-base), ping, ss or timeout is missing.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

lib_require_tunnel wireguard-go perl ping ss sha256sum timeout
lib_init

tag=$$
BYTES=$((4 * 1024 * 1024))
PORT=51820

start_impl() {
	case "$1" in
	wgu) start_wgu "$2" "$3" ;;
	wggo) start_wggo "$2" "$3" ;;
	esac
}

# pings NS ADDR: three echo replies within five seconds.
pings() {
	ip netns exec "$1" ping -q -c 3 -i 0.2 -w 5 "$2" >"$lib_tmp/ping.out" 2>&1 || {
		sed 's/^/    /' "$lib_tmp/ping.out"
		return 1
	}
}

# `wg show` on a wgu interface: the peer, a handshake, counters.
wg_show_has_traffic() {
	out=$(wg show "$1") || return 1
	echo "$out" | grep -q '^peer: ' &&
	echo "$out" | grep -q 'latest handshake: ' &&
	echo "$out" | grep -Eq 'transfer: [0-9.]+ [KMG]?i?B received, [0-9.]+ [KMG]?i?B sent' || {
		echo "$out" | sed 's/^/    /'
		return 1
	}
	# The raw counters are non-zero both ways.
	wg show "$1" transfer | awk '{ exit !($2 > 0 && $3 > 0) }'
}

# pair N HUB_IMPL EDGE_IMPL FAMILY: a hub and an edge namespace joined by
# a veth carrying the tunnel over IPv4 or IPv6 (FAMILY 4 or 6), and the
# traffic tests.  Only the edge knows the other's endpoint: it initiates.
pair() {
	n=$1 hub_impl=$2 edge_impl=$3
	name="$hub_impl(hub) <-> $edge_impl(edge) over IPv$4"
	if [ "$4" = 6 ]; then
		hub_addr=fd99::1 edge_addr=fd99::2 new_addr=fd99::5 len=64
		hub_ep="[$hub_addr]:$PORT"
	else
		hub_addr=192.168.241.1 edge_addr=192.168.241.2
		new_addr=192.168.241.5 len=24
		hub_ep="$hub_addr:$PORT"
	fi
	hub_ns=wgu-h$n-$tag edge_ns=wgu-e$n-$tag
	hub_if=wh$n-$tag edge_if=we$n-$tag
	echo "# $name"
	ns_create "$hub_ns" && ns_create "$edge_ns" &&
	    ns_link "$hub_ns" "$edge_ns" $hub_addr/$len $edge_addr/$len || {
		not_ok "$name: namespaces"
		return
	}
	hub_pub=$(genkey hub$n) && edge_pub=$(genkey edge$n) || {
		not_ok "$name: keys"
		return
	}
	if ! start_impl "$hub_impl" "$hub_ns" "$hub_if" ||
	    ! start_impl "$edge_impl" "$edge_ns" "$edge_if"; then
		not_ok "$name: daemons start"
		return
	fi
	wg set "$hub_if" private-key "$lib_tmp/hub$n.key" listen-port $PORT \
	    peer "$edge_pub" allowed-ips 10.241.0.2/32,fd42::2/128 &&
	wg set "$edge_if" private-key "$lib_tmp/edge$n.key" \
	    peer "$hub_pub" allowed-ips 10.241.0.0/24,fd42::/64 \
	    endpoint "$hub_ep" persistent-keepalive 25 &&
	ns_if_up "$hub_ns" "$hub_if" 10.241.0.1/24 fd42::1/64 &&
	ns_if_up "$edge_ns" "$edge_if" 10.241.0.2/24 fd42::2/64 || {
		not_ok "$name: configuration with wg and ip"
		return
	}
	check "$name: ping edge -> hub" pings "$edge_ns" 10.241.0.1
	check "$name: ping hub -> edge" pings "$hub_ns" 10.241.0.2
	check "$name: ping6 edge -> hub" pings "$edge_ns" fd42::1
	check "$name: ping6 hub -> edge" pings "$hub_ns" fd42::2
	check "$name: 4 MiB edge -> hub, same checksum" \
	    transfer "$edge_ns" "$hub_ns" 10.241.0.1 5001 $BYTES
	check "$name: 4 MiB hub -> edge, same checksum" \
	    transfer "$hub_ns" "$edge_ns" 10.241.0.2 5002 $BYTES
	[ "$hub_impl" = wgu ] && check "$name: wg show on the wgu hub" \
	    wg_show_has_traffic "$hub_if"
	[ "$edge_impl" = wgu ] && check "$name: wg show on the wgu edge" \
	    wg_show_has_traffic "$edge_if"
	# The hub learned the edge's endpoint from its packets.
	check "$name: hub learned the edge's endpoint" \
	    has_endpoint "$hub_if" "$edge_addr"
	# The edge's own address changes: a wgu edge drops the sticky source
	# it can no longer send from, and the hub follows it (roaming).
	if [ "$edge_impl" = wgu ]; then
		ip -n "$edge_ns" addr del $edge_addr/$len dev veth0
		ns_addr "$edge_ns" $new_addr/$len veth0
		check "$name: edge changes address, tunnel keeps working" \
		    pings "$edge_ns" 10.241.0.1
		check "$name: hub follows the edge to its new address" \
		    has_endpoint "$hub_if" "$new_addr"
	fi
}

# has_endpoint IFNAME ADDR: IFNAME's peer is at ADDR.
has_endpoint() {
	wg show "$1" endpoints | grep -Eq "	\[?$2\]?:[0-9]+\$" || {
		wg show "$1" endpoints | sed 's/^/    /'
		return 1
	}
}

# ---------------------------------------------------------------- config

# `wg show IF dump` without what differs between two daemons that hold
# the same configuration: the listen port, the handshake time and the
# counters; peers sorted, allowed IPs sorted within a peer.  wgu writes an
# IPv4-mapped endpoint as plain IPv4 where wireguard-go keeps the IPv6
# form: the same address, so it is compared as IPv4.
normalized_dump() {
	wg show "$1" dump | sed 's/\[::ffff:\([0-9.]*\)\]:/\1:/' |
	    awk -F '\t' '
	NR == 1 { print $1 "\t" $2 "\t" $4; next }
	{
		n = split($4, ips, ",")
		for (i = 1; i <= n; i++)
			for (j = i + 1; j <= n; j++)
				if (ips[j] < ips[i]) { t = ips[i]; ips[i] = ips[j]; ips[j] = t }
		s = ips[1]
		for (i = 2; i <= n; i++)
			s = s "," ips[i]
		print $1 "\t" $2 "\t" $3 "\t" s "\t" $8
	}' | sort
}

same_as_wggo() {
	normalized_dump "$cfg_wgu" >"$lib_tmp/dump.wgu" &&
	normalized_dump "$cfg_wggo" >"$lib_tmp/dump.wggo" || return 1
	if ! cmp -s "$lib_tmp/dump.wgu" "$lib_tmp/dump.wggo"; then
		diff "$lib_tmp/dump.wggo" "$lib_tmp/dump.wgu" | sed 's/^/    /'
		return 1
	fi
	# Not vacuous: the configuration is there.
	[ "$(wc -l <"$lib_tmp/dump.wgu")" -ge "${1:-2}" ]
}

# both MINLINES COMMAND-WITH-@IF@: runs a wg command on both interfaces,
# then compares what they hold.
both() {
	min=$1
	shift
	for i in "$cfg_wgu" "$cfg_wggo"; do
		cmd=$(printf '%s' "$*" | sed "s/@IF@/$i/g")
		sh -c "$cmd" || { echo "  failed on $i: $cmd"; return 1; }
	done
	same_as_wggo "$min"
}

config_tests() {
	echo "# configuration: wgu and wireguard-go read back the same"
	cfg_ns=wgu-c-$tag
	cfg_wgu=wc-$tag cfg_wggo=wg-$tag
	ns_create "$cfg_ns" || { not_ok "config: namespace"; return; }
	if ! start_wgu "$cfg_ns" "$cfg_wgu" ||
	    ! start_wggo "$cfg_ns" "$cfg_wggo"; then
		not_ok "config: daemons start"
		return
	fi
	genkey cfg >/dev/null
	p1=$(genkey p1) p2=$(genkey p2) p3=$(genkey p3)
	(umask 077; wg genpsk >"$lib_tmp/psk")
	# Endpoints on this namespace's loopback: nothing leaves it.
	cat >"$lib_tmp/a.conf" <<EOF
[Interface]
PrivateKey = $(cat "$lib_tmp/cfg.key")
FwMark = 0x1234

[Peer]
PublicKey = $p1
PresharedKey = $(cat "$lib_tmp/psk")
AllowedIPs = 10.0.0.0/8, fd00::/64, 192.168.1.7/32, ::/0
Endpoint = 127.0.0.2:51999
PersistentKeepalive = 25

[Peer]
PublicKey = $p2
AllowedIPs = 10.200.0.0/16, 10.200.9.0/24
Endpoint = [::1]:51998
EOF
	check "config: wg setconf, same dump" both 3 \
	    "wg setconf @IF@ $lib_tmp/a.conf"
	cat >"$lib_tmp/b.conf" <<EOF
[Peer]
PublicKey = $p3
AllowedIPs = 172.16.0.0/12
Endpoint = [::ffff:127.0.0.3]:51997
EOF
	check "config: wg addconf, same dump" both 4 \
	    "wg addconf @IF@ $lib_tmp/b.conf"
	check "config: an IPv4-mapped endpoint is shown as IPv4" \
	    sh -c "wg show $cfg_wgu endpoints | grep -q '	127.0.0.3:51997\$'"
	check "config: wg set peer remove / update, same dump" both 3 \
	    "wg set @IF@ peer $p1 remove peer $p2 allowed-ips 10.9.0.0/16 persistent-keepalive 7"
	cat >"$lib_tmp/c.conf" <<EOF
[Interface]
PrivateKey = $(cat "$lib_tmp/cfg.key")

[Peer]
PublicKey = $p2
AllowedIPs = 10.2.0.0/16

[Peer]
PublicKey = $p1
AllowedIPs = 10.1.0.0/16
EOF
	check "config: wg syncconf, same dump" both 3 \
	    "wg syncconf @IF@ $lib_tmp/c.conf"

	check "config: a stalled and a garbage client do not block 20 others" \
	    clients_served

	# showconf -> setconf on a fresh wgu gives the same showconf.
	check "config: wg showconf round-trips through wg setconf" \
	    showconf_roundtrip

	# The errno sign: wg must print the errno's name, as for wireguard-go.
	port=$(wg show "$cfg_wggo" listen-port)
	wg set "$cfg_wgu" listen-port "$port" 2>"$lib_tmp/err.wgu"
	rc_wgu=$?
	wgu_port=$(wg show "$cfg_wgu" listen-port)
	wg set "$cfg_wggo" listen-port "$wgu_port" 2>"$lib_tmp/err.wggo"
	rc_wggo=$?
	check "config: port in use: wg says what wireguard-go makes it say" \
	    sh -c "[ $rc_wgu -ne 0 ] && [ $rc_wggo -ne 0 ] &&
	        grep -q 'Address already in use' '$lib_tmp/err.wgu' &&
	        cmp -s '$lib_tmp/err.wgu' '$lib_tmp/err.wggo'"
	check "config: a failed set leaves the port alone" \
	    test "$(wg show "$cfg_wgu" listen-port)" = "$wgu_port"
}

# While one client has begun a set and stopped, and another sends bytes
# that are no protocol at all, 20 wg commands at once are all served.
clients_served() {
	sock=$WG_SOCKET_DIR/$cfg_wgu.sock
	perl -MIO::Socket::UNIX -e '$c = IO::Socket::UNIX->new(Peer => $ARGV[0])
	    or die "$!\n"; syswrite($c, "set=1\nlisten_port="); $| = 1;
	    print "sent\n"; sleep 5' "$sock" >"$lib_tmp/stalled.out" &
	stalled=$!
	perl -MIO::Socket::UNIX -e '$c = IO::Socket::UNIX->new(Peer => $ARGV[0])
	    or die "$!\n"; syswrite($c, "\0\1\2garbage" x 1000); $| = 1;
	    print "sent\n"; sleep 5' "$sock" >"$lib_tmp/garbage.out" &
	garbage=$!
	wait_until 5 grep -q sent "$lib_tmp/stalled.out"
	wait_until 5 grep -q sent "$lib_tmp/garbage.out"
	pids=
	i=0
	while [ $i -lt 20 ]; do
		if [ $((i % 2)) -eq 0 ]; then
			timeout 5 wg show "$cfg_wgu" dump >/dev/null &
		else
			timeout 5 wg set "$cfg_wgu" fwmark 0x1234 &
		fi
		pids="$pids $!"
		i=$((i + 1))
	done
	bad=0
	for p in $pids; do
		wait "$p" || bad=$((bad + 1))
	done
	kill "$stalled" "$garbage" 2>/dev/null
	wait "$stalled" "$garbage" 2>/dev/null
	[ $bad -eq 0 ] || echo "  $bad of 20 failed"
	[ $bad -eq 0 ]
}

showconf_roundtrip() {
	wg showconf "$cfg_wgu" >"$lib_tmp/show1.conf" || return 1
	rt_ns=wgu-r-$tag rt_if=wr-$tag
	ns_create "$rt_ns" && start_wgu "$rt_ns" "$rt_if" || return 1
	wg setconf "$rt_if" "$lib_tmp/show1.conf" || return 1
	wg showconf "$rt_if" >"$lib_tmp/show2.conf" || return 1
	if ! cmp -s "$lib_tmp/show1.conf" "$lib_tmp/show2.conf"; then
		diff "$lib_tmp/show1.conf" "$lib_tmp/show2.conf" | sed 's/^/    /'
		return 1
	fi
	grep -q '^\[Peer\]' "$lib_tmp/show1.conf"
}

# ---------------------------------------------------------------- life

# Exit status 0 and the socket file gone.
exited_cleanly() {
	wait_exit "$1" 50 || { echo "  still running"; return 1; }
	[ "$lib_status" -eq 0 ] || { echo "  exit status $lib_status"; return 1; }
	[ ! -e "$WG_SOCKET_DIR/$2.sock" ] || { echo "  socket left behind"; return 1; }
}

# ends_cleanly WHAT IFNAME COMMAND...: a daemon on IFNAME in $life_ns,
# then COMMAND (the daemon's pid in $lib_last_pid): it exits 0 and removes
# its socket.
ends_cleanly() {
	ec_what=$1 ec_if=$2
	shift 2
	if start_wgu "$life_ns" "$ec_if"; then
		"$@"
		check "$ec_what: exits 0 and removes its socket" \
		    exited_cleanly "$lib_last_pid" "$ec_if"
	else
		not_ok "$ec_what: start"
	fi
}
signal_last() { kill "-$1" "$lib_last_pid"; }

# socket_pid IFNAME NS: the pid of the daemon serving IFNAME's socket
# (unix sockets belong to a network namespace: ss must look in NS).
socket_pid() {
	ip netns exec "$2" ss -xlpH "src $WG_SOCKET_DIR/$1.sock" 2>/dev/null |
	    sed -n 's/.*pid=\([0-9][0-9]*\).*/\1/p' | head -n 1
}

mtu_logged() {
	wait_until 2 grep -q "MTU is now $2\$" "$lib_tmp/$1.log" && return 0
	sed 's/^/    /' "$lib_tmp/$1.log"
	return 1
}

life_tests() {
	echo "# process life"
	life_ns=wgu-l-$tag
	ns_create "$life_ns" || { not_ok "life: namespace"; return; }

	ends_cleanly SIGTERM wt-$tag signal_last TERM
	ends_cleanly SIGINT wi-$tag signal_last INT
	ends_cleanly "ip link del" wd-$tag ip -n "$life_ns" link del wd-$tag

	# Moved to another namespace: rtnetlink says DELLINK, yet the
	# interface lives on (the "ready-made namespace" setup); deleting it
	# there ends the daemon.
	if start_wgu "$life_ns" wv-$tag && ns_create wgu-m-$tag; then
		pid=$lib_last_pid
		ip -n "$life_ns" link set wv-$tag netns wgu-m-$tag
		# Time for a wrong exit on the DELLINK: an absence is waited
		# for by time.
		sleep 0.3
		check "moved to another namespace: keeps running and serving" \
		    sh -c "grep -q '^[^)]*) [^Z]' /proc/$pid/stat &&
		        wg show wv-$tag >/dev/null"
		ip -n wgu-m-$tag link del wv-$tag
		check "moved, then deleted there: exits 0, removes its socket" \
		    exited_cleanly "$pid" wv-$tag
	else
		not_ok "moved to another namespace: start"
	fi

	# Socket removed.
	if start_wgu "$life_ns" ws-$tag; then
		rm -f "$WG_SOCKET_DIR/ws-$tag.sock"
		check "socket removed: exits 0" \
		    exited_cleanly "$lib_last_pid" ws-$tag
		check "socket removed: the interface goes too" \
		    sh -c "! ip -n $life_ns link show ws-$tag 2>/dev/null"
	else
		not_ok "socket removed: start"
	fi

	# MTU: 1420 at creation, changes reach the daemon (rtnetlink).
	WGU_LOG_LEVEL=verbose	# read by start_wgu
	export WGU_LOG_LEVEL
	if start_wgu "$life_ns" wm-$tag; then
		check "the interface starts with MTU 1420" \
		    sh -c "ip -n $life_ns link show wm-$tag | grep -q 'mtu 1420 '"
		ip -n "$life_ns" link set wm-$tag mtu 1280
		check "an MTU change reaches the daemon" mtu_logged wm-$tag 1280
	else
		not_ok "MTU: start"
	fi
	unset WGU_LOG_LEVEL

	# Daemon mode: returns when ready, refuses a second daemon.
	lib_sockets="$lib_sockets wb-$tag"
	check "wgu IFNAME: returns 0 with interface and socket in place" \
	    ip netns exec "$life_ns" sh -c "'$WGU' wb-$tag &&
	        [ -S '$WG_SOCKET_DIR/wb-$tag.sock' ] &&
	        ip link show wb-$tag >/dev/null"
	bg_pid=$(socket_pid wb-$tag "$life_ns")
	[ -n "$bg_pid" ] && lib_pids="$lib_pids $bg_pid"
	check "wgu IFNAME: the daemon left the session (setsid)" \
	    sh -c "[ -n '$bg_pid' ] && [ \"\$(ps -o sid= -p '$bg_pid' | tr -d ' ')\" = '$bg_pid' ]"
	ip netns exec "$life_ns" "$WGU" wb-$tag 2>"$lib_tmp/second.err"
	rc=$?
	check "a second wgu on the same name: exit 1, says why" \
	    sh -c "[ $rc -eq 1 ] && grep -q 'already listening' '$lib_tmp/second.err'"
	check "the first one still serves" sh -c "wg show wb-$tag >/dev/null"
	if [ -n "$bg_pid" ]; then
		kill -TERM "$bg_pid"
		wait_until 5 not is_running "$bg_pid"
		# Not our child: once gone it may linger as a zombie of
		# init, which is_running does not count.
		check "daemon: SIGTERM ends it and removes the socket" \
		    sh -c "! [ -e '$WG_SOCKET_DIR/wb-$tag.sock' ] &&
		        ! grep -q '^[^)]*) [^Z]' /proc/$bg_pid/stat 2>/dev/null"
	fi

	# A stale socket (nobody listening) is replaced.
	lib_sockets="$lib_sockets wx-$tag"
	perl -MIO::Socket::UNIX -e 'IO::Socket::UNIX->new(Local => $ARGV[0],
	    Listen => 1) or die "$!\n"' "$WG_SOCKET_DIR/wx-$tag.sock"
	if [ -S "$WG_SOCKET_DIR/wx-$tag.sock" ] &&
	    start_wgu "$life_ns" wx-$tag; then
		ok "a stale socket is replaced"
		check "the socket is 0600" \
		    sh -c "[ \"\$(stat -c %a '$WG_SOCKET_DIR/wx-$tag.sock')\" = 600 ]"
	else
		not_ok "a stale socket is replaced"
	fi

	# Command line.
	check "wgu --version" sh -c "'$WGU' --version | grep -q '^wgu v'"
	check "wgu --bogus: usage, exit 1" \
	    sh -c "'$WGU' --bogus 2>&1 | grep -q Usage; [ \$? -eq 0 ] &&
	        ! '$WGU' --bogus 2>/dev/null"
	check "wgu with a 16-character name: clear error, exit 1" \
	    sh -c "! '$WGU' -f abcdefghijklmnop 2>'$lib_tmp/name.err' &&
	        grep -q 'longer than 15' '$lib_tmp/name.err'"
}

start=$(date +%s)
pair 1 wgu wgu 4
pair 2 wgu wggo 6
pair 3 wggo wgu 6
pair 4 wggo wgu 4
config_tests
life_tests
echo "# $(($(date +%s) - start)) seconds"
lib_summary
