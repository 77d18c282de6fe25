#!/bin/sh
# "No one let in", each protection checked by a test that fails
# without it.  Namespaces this script creates: a hub (wgu, the hardened
# broker of scripts/hub-setup.sh on 10.0.0.1), an edge (wgu) joined to it
# by a LAN veth, and an intruder on a second LAN port of the hub that
# routes the tunnel's addresses through the hub.  Every address used is
# inside them.
#
#   broker:  listens on 10.0.0.1:1883 only; refused (TCP) on the hub's LAN
#            address, on its loopback and, once hub-setup.sh's nftables
#            rules are loaded, to a LAN host routing 10.0.0.0/24 through
#            the hub (which gets in without them: the control); reachable
#            through the tunnel.
#   MQTT:    what mosquitto 2.0.11 answers, as seen with mosquitto_sub/pub
#            -V mqttv5 -d: anonymous, wrong password and unknown user get
#            CONNACK 135 (0x87 not authorized; v3.1.1: CONNACK 5); a QoS 1
#            publication to another node's topic gets PUBACK 135 and reaches
#            no one; a subscription to another node's topic is granted
#            (SUBACK 0: 2.0.11 checks read access per message, not at
#            subscribe time) and delivers nothing, while the historian's
#            subscription gets the same message.
#   files:   the UAPI socket root 0600 and /var/run/wireguard root:wgu 0770
#            when wgu creates it (checked in a private mount namespace with an
#            empty /run); the daemon holds no file others can read; the
#            config SaveConfig writes is 0600 under umask 000.
#   monitor: the read-only socket /var/run/wgu-monitor/IF.sock, root:
#            wgu-monitor 0660 in a 0750 directory: a member's get has no
#            private key, its stats are answered, its set is refused with
#            errno=-1 and changes nothing; others cannot connect.
#   keys:    private and preshared keys (base64 and hex) never in the
#            daemons' LOG_LEVEL=debug output through a handshake, traffic
#            and bad UAPI input, in `ps` while wgu/wg run, or in the error
#            messages of wgu commands given bad input.
#   caps:    after setup both daemons (foreground and `wgu up`) have CapEff
#            and CapPrm = CAP_NET_ADMIN|CAP_NET_BIND_SERVICE (0x1400), empty
#            bounding, inheritable and ambient sets, NoNewPrivs 1; `wg set
#            fwmark` and a move to listen-port 443 still work and the tunnel
#            carries traffic afterwards.
#
# Needs root, wg, mosquitto and its clients; exits 77 otherwise.  About 10 s.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/plant.sh
. "$(dirname "$0")/plant.sh"

lib_require_root
lib_require_cmds ip wg mosquitto mosquitto_passwd mosquitto_sub \
    mosquitto_pub ss unshare nsenter ps perl timeout getent ping nft
getent group mosquitto >/dev/null || lib_skip "no mosquitto group"
lib_require_wgu
[ -e /dev/net/tun ] || lib_skip "no /dev/net/tun"
srcdir=${WGU_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
lib_init
chmod 711 "$lib_tmp"		# the broker (user mosquitto) reads its files

tag=$$
hub=sh$tag edge=se$tag intr=si$tag mns=sm$tag
hif=sh$tag eif=se$tag mif=sm$tag
prefix=plant1/area1/line1
hubdir=$lib_tmp/hub
conf_dir=$lib_tmp/wg
broker_pid='' sampler=''

security_cleanup() {
	[ -n "$sampler" ] && kill "$sampler" 2>/dev/null
	[ -e "$conf_dir/$hif.conf" ] &&
	    ip netns exec "$hub" "$WGU" down "$conf_dir/$hif.conf" \
	    >/dev/null 2>&1
	lib_stop_daemons
	ns_kill "$hub" "$edge" "$intr" "$mns"
	lib_cleanup
}
trap security_cleanup EXIT
lib_sockets="$lib_sockets $hif"

ns_create "$hub" && ns_create "$edge" && ns_create "$intr" &&
    ns_link "$hub" "$edge" 192.168.77.1/24 192.168.77.2/24 &&
    ns_veth "$hub" lan1 "$intr" lan1 &&
    ns_addr "$hub" 192.168.76.1/24 lan1 &&
    ns_addr "$intr" 192.168.76.2/24 lan1 &&
    ip -n "$intr" route add 10.0.0.0/24 via 192.168.76.1 &&
    ip netns exec "$hub" sysctl -qw net.ipv4.ip_forward=1 || {
	not_ok "namespaces"
	lib_summary
}

# Every key made here; what must never show up is in $lib_tmp/secrets,
# base64 and hex, one a line (read with grep -F -f).
mkdir -m 700 "$conf_dir"
hub_pub=$(genkey hub) && edge_pub=$(genkey edge) && genkey m >/dev/null &&
    (umask 077; wg genpsk >"$lib_tmp/psk") || { not_ok "keys"; lib_summary; }
for k in hub edge m; do cat "$lib_tmp/$k.key"; done >"$lib_tmp/secrets.b64"
cat "$lib_tmp/psk" >>"$lib_tmp/secrets.b64"
while read -r k; do
	printf '%s\n' "$k"
	printf '%s' "$k" | base64 -d | od -An -v -tx1 | tr -d ' \n'
	echo
	# A leak of half a key is a leak too.
	printf '%s\n' "$k" | cut -c 1-22
done <"$lib_tmp/secrets.b64" >"$lib_tmp/secrets"
chmod 600 "$lib_tmp/secrets" "$lib_tmp/secrets.b64"

# no_secrets FILE...: true when none of the keys appears in the files.
no_secrets() {
	if grep -F -q -f "$lib_tmp/secrets" "$@"; then
		echo "  a key appears in: $(grep -F -l -f "$lib_tmp/secrets" "$@")"
		return 1
	fi
}

# ps while wgu and wg run: every 50 ms, the argument lists of both.
: >"$lib_tmp/ps.out"
(while :; do
	ps -eo pid=,args= | grep -E '(^|/| )(wgu|wg|wgu-[a-z]+)( |$)' \
	    >>"$lib_tmp/ps.out"
	# A sampler: its rate is time itself.
	sleep 0.05
done) &
sampler=$!

# ---------------------------------------------------------------- tunnel
# The hub through `wgu up` (daemonized), the edge in the foreground at
# LOG_LEVEL=debug, both with the preshared key.
(umask 077
cat >"$conf_dir/$hif.conf" <<EOF
[Interface]
PrivateKey = $(cat "$lib_tmp/hub.key")
Address = 10.0.0.1/24
ListenPort = 51820
SaveConfig = true

[Peer]
PublicKey = $edge_pub
PresharedKey = $(cat "$lib_tmp/psk")
AllowedIPs = 10.0.0.2/32
EOF
)
(umask 000; ip netns exec "$hub" env LOG_LEVEL=debug "$WGU" up \
    "$conf_dir/$hif.conf") >"$lib_tmp/wgu-up.log" 2>&1
hub_pid=$(ip netns pids "$hub" | head -n 1)
WGU_LOG_LEVEL=debug start_wgu "$edge" "$eif"
edge_pid=$lib_last_pid
wg set "$eif" private-key "$lib_tmp/edge.key" peer "$hub_pub" \
    preshared-key "$lib_tmp/psk" allowed-ips 10.0.0.1/32 \
    endpoint 192.168.77.1:51820 &&
ip -n "$edge" addr add 10.0.0.2/24 dev "$eif" &&
ip -n "$edge" link set "$eif" up
if ! check "tunnel up (wgu up on the hub, wgu -f on the edge)" \
    pings_ok "$edge" 10.0.0.1; then
	sed 's/^/    /' "$lib_tmp/wgu-up.log"
	lib_summary
fi

# ---------------------------------------------------------------- caps
# caps_ok PID: the daemon kept CAP_NET_ADMIN and CAP_NET_BIND_SERVICE only.
caps_ok() {
	got=$(grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' \
	    "/proc/$1/status" | tr -s '\t ' ' ' | tr '\n' ' ')
	want="CapInh: 0000000000000000 CapPrm: 0000000000001400"
	want="$want CapEff: 0000000000001400 CapBnd: 0000000000000000"
	want="$want CapAmb: 0000000000000000 NoNewPrivs: 1 "
	[ "$got" = "$want" ] || { echo "  pid $1: $got"; return 1; }
}
check "caps: the wgu up daemon keeps NET_ADMIN, NET_BIND_SERVICE only" \
    caps_ok "$hub_pid"
check "caps: the foreground daemon keeps NET_ADMIN, NET_BIND_SERVICE only" \
    caps_ok "$edge_pid"
check "caps: wg set fwmark still works" sh -c "
    wg set $eif fwmark 0x1234 && [ \"\$(wg show $eif fwmark)\" = 0x1234 ]"
check "caps: wg set listen-port 443 (below 1024) still works" sh -c "
    wg set $eif listen-port 443 && [ \"\$(wg show $eif listen-port)\" = 443 ]"
check "caps: the tunnel carries traffic from the new port" sh -c "
    ip netns exec $edge ping -q -c 3 -i 0.2 -w 5 10.0.0.1 >/dev/null &&
    wg show $hif endpoints | grep -q '192.168.77.2:443\$'"

# ---------------------------------------------------------------- broker
sh "$srcdir/scripts/hub-setup.sh" --dir "$hubdir" --nodes edge-01,edge-02 \
    --topic-prefix "$prefix" --tunnel-interface "$hif" \
    >"$lib_tmp/hub-setup.log" 2>&1 || {
	not_ok "hub-setup"
	sed 's/^/    /' "$lib_tmp/hub-setup.log"
	lib_summary
}
ip netns exec "$hub" mosquitto -c "$hubdir/mosquitto.conf" \
    >>"$lib_tmp/broker.log" 2>&1 &
broker_pid=$!
lib_pids="$lib_pids $broker_pid"
wait_listen "$hub" 1883
check "broker: listens on 10.0.0.1:1883 and nothing else" sh -c "
    [ \"\$(ip netns exec $hub ss -Hltnu | awk '{ print \$5 }' |
    grep -v ':51820\$' | sort -u)\" = 10.0.0.1:1883 ]"

# Credentials through mosquitto_sub/pub's options files, never argv.
client_conf c-edge1 edge-01 "$hubdir/clients/edge-01.pw"
client_conf c-edge2 edge-02 "$hubdir/clients/edge-02.pw"
client_conf c-hist historian "$hubdir/clients/historian.pw"
mkdir -m 700 "$lib_tmp/c-none"
for k in edge-01 edge-02 historian; do head -n 1 "$hubdir/clients/$k.pw"
done >>"$lib_tmp/secrets"

# mq NS CONF PROGRAM ARGS...: an MQTT client, its output in $lib_tmp/mq.out
# (with -d: the packets and their reason codes).
mq_n=0
mq() {
	mq_ns=$1 mq_conf=$2 mq_prog=$3
	shift 3
	mq_n=$((mq_n + 1))
	ip netns exec "$mq_ns" env XDG_CONFIG_HOME="$lib_tmp/$mq_conf" \
	    HOME=/nonexistent timeout 15 "$mq_prog" -i "sec-$tag-$mq_n" "$@" \
	    >"$lib_tmp/mq.out" 2>&1
}
# expect PATTERN: $lib_tmp/mq.out has a line matching PATTERN.
expect() {
	grep -q -- "$1" "$lib_tmp/mq.out" ||
	    { sed 's/^/    /' "$lib_tmp/mq.out"; return 1; }
}
# unreachable NS ADDR: a TCP connection refused (no CONNACK at all).
unreachable() {
	! mq "$1" c-edge1 mosquitto_sub -h "$2" -t "$prefix/edge-01/cmd" \
	    -W 3 -E -V mqttv5 -d && ! grep -q CONNACK "$lib_tmp/mq.out" ||
	    { sed 's/^/    /' "$lib_tmp/mq.out"; return 1; }
}
connack_at() { # ADDR CODE NS CONF ARGS...: mosquitto_sub gets CONNACK (CODE)
	ch=$1 cc=$2 cns=$3 cconf=$4
	shift 4
	mq "$cns" "$cconf" mosquitto_sub -h "$ch" -t "$prefix/edge-01/cmd" -W 3 \
	    -E -d "$@"
	expect "received CONNACK ($cc)"
}
connack() { # CODE NS CONF ARGS...: the same, at 10.0.0.1
	connack_at 10.0.0.1 "$@"
}

check "broker: reachable through the tunnel (control: CONNACK 0)" \
    connack 0 "$edge" c-edge1 -V mqttv5
check "broker: refused on the hub's LAN address, from the LAN" \
    unreachable "$edge" 192.168.77.1
check "broker: refused on the hub's loopback" unreachable "$hub" 127.0.0.1
check "broker: refused on the hub's LAN address, from the hub" \
    unreachable "$hub" 192.168.77.1
# Linux delivers a packet for any local address on any interface (the weak
# host model): a LAN host that routes 10.0.0.0/24 through the hub reaches
# a broker bound to 10.0.0.1 without the tunnel.  Mosquitto 2.0.11's
# bind_interface does not help (it binds to the interface's address).  So
# hub-setup.sh writes nftables rules (wgu-hub.nft) that the broker's
# systemd drop-in loads; here they are loaded by hand.  First the control:
# without them that LAN host does get in (this is what the rules stop).
check "broker: control: without hub-setup's nftables rules a LAN host routing 10.0.0.1 through the hub gets in" \
    connack_at 10.0.0.1 0 "$intr" c-edge1 -V mqttv5
check "broker: hub-setup's nftables rules load" \
    ip netns exec "$hub" nft -f "$hubdir/wgu-hub.nft"
check "broker: with them the LAN host is refused" unreachable "$intr" 10.0.0.1
check "broker: ... and the tunnel still reaches it" \
    connack 0 "$edge" c-edge1 -V mqttv5

check "mqtt v5: anonymous client gets CONNACK 135 (not authorized)" \
    connack 135 "$edge" c-none -V mqttv5
check "mqtt v3.1.1: anonymous client gets CONNACK 5 (not authorised)" \
    connack 5 "$edge" c-none
check "mqtt v5: wrong password gets CONNACK 135" \
    connack 135 "$edge" c-none -V mqttv5 -u edge-01 -P wrong-password
check "mqtt v5: unknown user gets CONNACK 135" \
    connack 135 "$edge" c-none -V mqttv5 -u intruder -P wrong-password

# pub CONF NODE: a QoS 1 v5 publication of a marker to NODE's topic.
pub() {
	mq "$edge" "$1" mosquitto_pub -h 10.0.0.1 -V mqttv5 -d -q 1 \
	    -t "$prefix/$2/telemetry" -m "marker-$1-to-$2-$tag"
}
check_pub_refused() {
	pub c-edge1 edge-02
	expect "received PUBACK (Mid: 1, RC:135)"
}
check_pub_own() {
	pub c-edge1 edge-01
	expect "received PUBACK (Mid: 1, RC:\(0\|16\))"
}

# While a watcher with the historian's rights and one with edge-01's
# listen to every telemetry topic: edge-01 publishes to edge-02's topic
# (refused) and to its own; edge-02 publishes to its own.
ip netns exec "$hub" env XDG_CONFIG_HOME="$lib_tmp/c-hist" HOME=/nonexistent \
    timeout 15 stdbuf -oL mosquitto_sub -i "sec-$tag-wh" -h 10.0.0.1 \
    -V mqttv5 -d -t "$prefix/+/telemetry" -W 5 >"$lib_tmp/watch-hist.out" \
    2>&1 &
w1=$!
ip netns exec "$edge" env XDG_CONFIG_HOME="$lib_tmp/c-edge1" \
    HOME=/nonexistent timeout 15 stdbuf -oL mosquitto_sub -i "sec-$tag-we" \
    -h 10.0.0.1 -V mqttv5 -d -t "$prefix/edge-02/telemetry" -t '#' -W 5 \
    >"$lib_tmp/watch-edge1.out" 2>&1 &
w2=$!
wait_until 5 subscribed "$lib_tmp/watch-hist.out"
wait_until 5 subscribed "$lib_tmp/watch-edge1.out"
check "mqtt v5: publication to another node's topic gets PUBACK 135" \
    check_pub_refused
check "mqtt v5: control: publication to its own topic is accepted" \
    check_pub_own
pub c-edge2 edge-02
wait "$w1" "$w2"
check "mqtt: the refused publication reaches no one" sh -c "
    ! grep -q 'marker-c-edge1-to-edge-02' '$lib_tmp/watch-hist.out' &&
    ! grep -q 'marker-c-edge1-to-edge-02' '$lib_tmp/watch-edge1.out'"
check "mqtt: control: the historian receives both nodes' own markers" sh -c "
    grep -q 'marker-c-edge1-to-edge-01-$tag' '$lib_tmp/watch-hist.out' &&
    grep -q 'marker-c-edge2-to-edge-02-$tag' '$lib_tmp/watch-hist.out'"
check "mqtt v5: subscription to another node's topic: SUBACK 0 (2.0.11)" \
    grep -q 'Subscribed (mid: 1): 0, 0' "$lib_tmp/watch-edge1.out"
check "mqtt: ... and it delivers nothing of another node" sh -c "
    ! grep -q 'marker-c-edge2-to-edge-02' '$lib_tmp/watch-edge1.out'"

# ---------------------------------------------------------------- files
# A daemon in its own mount namespace whose /run is an empty tmpfs: the
# socket directory is wgu's own making there.
ns_create "$mns" || not_ok "namespace for the file checks"
lib_sockets="$lib_sockets $mif"
ip netns exec "$mns" unshare -m --propagation private sh -c '
    mount -t tmpfs -o mode=0755 wgu-test-run /run && exec "$@"' sh \
    env LOG_LEVEL=debug "$WGU" -f "$mif" >"$lib_tmp/$mif.log" 2>&1 &
m_pid=$!
lib_pids="$lib_pids $m_pid"
wait_until 5 nsenter -t "$m_pid" -m test -S "/var/run/wireguard/$mif.sock" \
    2>/dev/null
# The directory is group wgu's so that the daemon, user wgu once set up,
# can stat and remove its socket; others still cannot look into it and
# only root may connect (the socket stays root's, 0600).
check "files: UAPI socket root 0600, /var/run/wireguard root:wgu 0770" sh -c "
    [ \"\$(nsenter -t $m_pid -m stat -c '%U:%G %a %F' \
    /var/run/wireguard /var/run/wireguard/$mif.sock)\" = \
    'root:wgu 770 directory
root:root 600 socket' ]"
check "files: ... and wg still reaches the daemon" \
    nsenter -t "$m_pid" -m wg set "$mif" private-key "$lib_tmp/m.key"
# The read-only monitor socket for group wgu-monitor (the historian's
# handshake alarms, the dashboard's tunnel page): get without secrets and
# stats, never set; others cannot connect.
# monitor_ask USER REQUEST: the answer on the monitor socket, as USER.
monitor_ask() {
	nsenter -t "$m_pid" -m setpriv --reuid="$1" --regid="$(id -g "$1")" \
	    --init-groups /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("connect:", e.strerror); sys.exit(0)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode())
s.shutdown(socket.SHUT_WR)
out = b""
while True:
    b = s.recv(4096)
    if not b: break
    out += b
sys.stdout.write(out.decode())' "/var/run/wgu-monitor/$mif.sock" "$2"
}
check "monitor: /var/run/wgu-monitor root:wgu-monitor 0750, socket 0660" \
    sh -c "[ \"\$(nsenter -t $m_pid -m stat -c '%U:%G %a %F' \
    /var/run/wgu-monitor /var/run/wgu-monitor/$mif.sock)\" = \
    'root:wgu-monitor 750 directory
root:wgu-monitor 660 socket' ]"
monitor_ask wgu-historian 'get=1\n\n' >"$lib_tmp/monitor.get"
check "monitor: a member's get has the listen port and no private key" \
    sh -c "grep -q '^listen_port=' '$lib_tmp/monitor.get' &&
    grep -q '^errno=0\$' '$lib_tmp/monitor.get' &&
    ! grep -q 'private_key' '$lib_tmp/monitor.get'"
check "monitor: control: the root socket's get has the private key" sh -c "
    nsenter -t $m_pid -m wg showconf '$mif' | grep -q '^PrivateKey = '"
monitor_ask wgu-historian 'stats=1\n\n' >"$lib_tmp/monitor.stats"
check "monitor: a member's stats give the drop counters" sh -c "
    grep -q '^rx_bad_mac=' '$lib_tmp/monitor.stats' &&
    grep -q '^errno=0\$' '$lib_tmp/monitor.stats'"
monitor_ask wgu-historian 'set=1\nlisten_port=4242\n\n' \
    >"$lib_tmp/monitor.set"
check "monitor: a member's set is refused with errno=-1" \
    grep -qx 'errno=-1' "$lib_tmp/monitor.set"
check "monitor: ... and changed nothing" sh -c "
    ! nsenter -t $m_pid -m wg show '$mif' listen-port | grep -qx 4242"
monitor_ask nobody 'get=1\n\n' >"$lib_tmp/monitor.nobody"
check "monitor: a user outside group wgu-monitor cannot connect" \
    grep -q '^connect: Permission denied' "$lib_tmp/monitor.nobody"
# open_files_ok PID: every file the daemon holds is root's and private,
# or a device everyone may open (/dev/null, /dev/net/tun).
open_files_ok() {
	for f in /proc/"$1"/fd/*; do
		# 0-2 are whatever the caller gave (here the test's log files).
		case ${f##*/} in 0|1|2) continue ;; esac
		t=$(readlink "$f") || continue
		case $t in
		socket:*|pipe:*|anon_inode:*|/dev/null|/dev/net/tun) continue ;;
		esac
		m=$(stat -L -c '%U %a' "$f") || return 1
		case $m in
		"root "[0-7]00) ;;
		*) echo "  $1 holds $t ($m)"; return 1 ;;
		esac
	done
}
all_open_files_ok() {
	for p in "$hub_pid" "$edge_pid" "$m_pid"; do
		open_files_ok "$p" || return 1
	done
}
check "files: the daemons hold no file others may read" all_open_files_ok

# ---------------------------------------------------------------- keys
# Bad input to the daemon over its socket: keys in malformed lines.
uapi_raw() { # IFNAME TEXT: one request, the answer discarded
	ip netns exec "$edge" perl -MIO::Socket::UNIX -e '
	my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "$!\n";
	print $s $ARGV[1]; shutdown($s, 1); 1 while <$s>;' \
	    "/var/run/wireguard/$1.sock" "$2" >/dev/null 2>&1
}
hexkey=$(base64 -d <"$lib_tmp/edge.key" | od -An -v -tx1 | tr -d ' \n')
hexpsk=$(base64 -d <"$lib_tmp/psk" | od -An -v -tx1 | tr -d ' \n')
uapi_raw "$eif" "set=1
private_key=${hexkey}zz

"
uapi_raw "$eif" "set=1
private_key=$(cat "$lib_tmp/edge.key")

"
uapi_raw "$eif" "set=1
public_key=$(base64 -d <"$lib_tmp/hub.key" | od -An -v -tx1 | tr -d ' \n')
preshared_key=${hexpsk}0

"
uapi_raw "$eif" "set=1
preshared_key=$hexpsk

"
check "keys: the tunnel still works after the bad UAPI input" \
    pings_ok "$edge" 10.0.0.1
# Bad configs and key input to wgu's commands: the messages name the line,
# never the key.
priv=$(cat "$lib_tmp/edge.key") psk=$(cat "$lib_tmp/psk")
bad_n=0
bad_config() { # TEXT: a config that `wgu up` and `wgu strip` must refuse
	bad_n=$((bad_n + 1))
	(umask 077; printf '%s\n' "$1" >"$conf_dir/bad$bad_n.conf")
	for cmd in up strip; do
		if ip netns exec "$edge" "$WGU" $cmd "$conf_dir/bad$bad_n.conf" \
		    >"$lib_tmp/bad-$bad_n-$cmd.out" 2>&1; then
			echo "  wgu $cmd accepted bad$bad_n.conf"
			return 1
		fi
	done
}
bad_all() {
	bad_config "[Interface]
PrivateKey = ${priv}x" &&
	bad_config "[Interface]
PrivateKey = $(echo "$priv" | cut -c 1-40)" &&
	bad_config "[Interface]
PrivateKey = $priv $psk" &&
	bad_config "[Interface]
PrivateKey = $priv
PresharedKey = $psk" &&
	bad_config "[Interface]
PrivateKey = $priv
[Peer]
PublicKey = $hub_pub
PresharedKey = ${psk}AA" &&
	bad_config "[Interface]
PrivateKey = $priv
[Peer]
PublicKey = $psk$priv" &&
	bad_config "PrivateKey = $priv" &&
	bad_config "[Interface]
PrivateKey = $priv
PostUp = $psk
Bogus = $psk"
}
check "keys: wgu up/strip refuse every bad config" bad_all
check "keys: ... with a message" sh -c "
    for f in '$lib_tmp'/bad-*.out; do [ -s \"\$f\" ] || exit 1; done"
check "keys: ... that never holds a key" sh -c "
    grep -F -q -f '$lib_tmp/secrets' '$lib_tmp'/bad-*.out && {
    grep -F -h -f '$lib_tmp/secrets' '$lib_tmp'/bad-*.out | head -n 3 |
    sed 's/^/    /'; exit 1; }; true"
# A key pasted where no key belongs (a line broken after "PrivateKey =", a
# key in Address): config.c quotes what it refuses, except what looks like
# a key.
key_elsewhere() { # NAME TEXT
	bad_n=$((bad_n + 1))
	(umask 077; printf '%s\n' "$2" >"$conf_dir/bad$bad_n.conf")
	ip netns exec "$edge" "$WGU" up "$conf_dir/bad$bad_n.conf" \
	    >"$lib_tmp/else-$bad_n.out" 2>&1 && {
		not_ok "keys: wgu up accepted a config with $1"
		return
	}
	if grep -F -q -f "$lib_tmp/secrets" "$lib_tmp/else-$bad_n.out"; then
		not_ok "keys: the message for $1 quotes the key"
	else
		ok "keys: the message for $1 holds no key"
	fi
}
key_elsewhere "a key on a line of its own" "[Interface]
PrivateKey =
$priv"
key_elsewhere "a key without a name" "[Interface]
$priv"
key_elsewhere "a key as a section name" "[$priv]"
key_elsewhere "a key as Address" "[Interface]
PrivateKey = $priv
Address = $psk"

pubkey_bad() {
	for input in "${priv}x" "$priv$psk" "$(echo "$priv" | cut -c 2-)" \
	    "$priv
$psk"; do
		if printf '%s\n' "$input" | "$WGU" pubkey \
		    >>"$lib_tmp/pubkey.out" 2>&1; then
			echo "  wgu pubkey accepted a bad key"
			return 1
		fi
	done
	no_secrets "$lib_tmp/pubkey.out"
}
check "keys: wgu pubkey refuses bad keys without echoing them" pubkey_bad

kill "$sampler" 2>/dev/null
wait "$sampler" 2>/dev/null
sampler=''
check "keys: ps showed the wgu and wg processes" grep -q wgu "$lib_tmp/ps.out"
check "keys: never in ps output of wgu/wg processes" \
    no_secrets "$lib_tmp/ps.out"
check "keys: never in wgu up's output" no_secrets "$lib_tmp/wgu-up.log"
check "files: SaveConfig writes the config 0600 under umask 000" sh -c "
    umask 000; ip netns exec $hub '$WGU' down '$conf_dir/$hif.conf' \
    >>'$lib_tmp/wgu-up.log' 2>&1 &&
    [ \"\$(stat -c '%U %a' '$conf_dir/$hif.conf')\" = 'root 600' ]"
lib_stop_daemons
check "keys: the debug logs are there (handshake logged)" \
    grep -qi handshake "$lib_tmp/$eif.log"
check "keys: never in the daemons' debug logs" \
    no_secrets "$lib_tmp/$eif.log" "$lib_tmp/$mif.log"

lib_summary
