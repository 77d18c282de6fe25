#!/bin/sh
# The packages under a real systemd (make check-systemd, not make check):
# two Debian 12 containers booted with systemd-nspawn -b, a hub and an
# edge, each in its private network namespace, joined by a veth pair made
# here (nothing reaches any other network).  The packages built from a release
# tarball are installed with dpkg in both; the hub runs wgu@wg0, mosquitto
# and wgu-historian, the edge wgu@wg0 and wgu-sim (a transient unit: it has
# no unit of its own yet), then wgu-dashboard with an operator account.
# Proves, while the edge keeps publishing: the
# historian killed with SIGKILL is restarted; `systemctl reload wgu@wg0`
# after a change to wg0.conf applies it and the readings keep flowing; the
# historian raises the new peer's handshake alarm (read through the
# monitor socket); the dashboard, as its user with its two groups, logs
# the operator in and shows the edge's node, the tunnel's peer and the
# node's metrics; the hub powered off and booted again brings the tunnel,
# then the broker, then the historian and the dashboard back by itself; every reading the edge spooled is in
# the log exactly once; the units' scores inside are within bounds.
#
# The root file system, debootstrap'ed once (about 60 s), is cached in
# WGU_NSPAWN_CACHE (default /var/cache/wgu-nspawn); each run copies it.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/plant.sh
. "$(dirname "$0")/plant.sh"

lib_require_root
lib_require_cmds systemd-nspawn debootstrap dpkg-buildpackage nsenter ip
[ -n "${WGU_BIN:-}" ] || lib_skip "WGU_BIN is not set"
builddir=$(cd "$(dirname "$WGU_BIN")/.." && pwd)
cache=${WGU_NSPAWN_CACHE:-/var/cache/wgu-nspawn}
lib_init

# What the containers need beside the packages: they have no network to
# fetch anything from.
include=systemd,systemd-sysv,dbus,iproute2,adduser,mosquitto,mosquitto-clients
include=$include,nftables,wireguard-tools,android-libboringssl,libev4
include=$include,libcjson1,libseccomp2,libmosquitto1
# The store (wgu-historian, wgu-query) and wgu-modbus: root-v2.
include=$include,libsqlite3-0,libssl3,libmodbus5,util-linux
# PostgreSQL's client library (the historian's --pg), wgu-dashboard's
# libraries and page library, and curl to ask it: root-v3.
include=$include,libpq5,libmicrohttpd12,libjs-chart.js,curl
if [ ! -d "$cache/root-v3" ]; then
	uri=$(grep -h '^URIs:' /etc/apt/sources.list.d/debian.sources \
	    2>/dev/null | grep -v security | head -n1 | awk '{print $2}')
	[ -n "$uri" ] || uri=$(awk '$1 == "deb" && $3 == "bookworm" {
	    print $2; exit }' /etc/apt/sources.list)
	echo "  debootstrap into $cache/root-v3 from $uri"
	mkdir -p "$cache" && rm -rf "$cache/root.tmp" &&
	    debootstrap --variant=minbase --include="$include" bookworm \
	    "$cache/root.tmp" "$uri" >"$lib_tmp/debootstrap.out" 2>&1 &&
	    mv "$cache/root.tmp" "$cache/root-v3" || {
		tail -n 20 "$lib_tmp/debootstrap.out"
		not_ok "debootstrap"
		lib_summary
	}
fi

# ---------------------------------------------------------------- packages
debs=$lib_tmp/debs
mkdir -p "$debs"
if ! { make -s -C "$builddir" dist >"$lib_tmp/build.out" 2>&1 &&
    tar -xzf "$builddir"/wgu-*.tar.gz -C "$debs" &&
    (cd "$debs"/wgu-*/ && dpkg-buildpackage -us -uc -b) \
    >>"$lib_tmp/build.out" 2>&1; }; then
	tail -n 30 "$lib_tmp/build.out"
	not_ok "the packages build from the release tarball"
	lib_summary
fi
ok "the packages build from the release tarball"

# ---------------------------------------------------------------- containers
for c in hub edge; do
	cp -a "$cache/root-v3" "$lib_tmp/$c" || { not_ok "copy root"; lib_summary; }
done

# Set and read through eval.
# shellcheck disable=SC2034
hub_pid='' edge_pid='' hub_np='' edge_np=''
# boot NAME: boots the container NAME with a private network; its
# systemd's pid (as seen from here) in $NAME_pid, nspawn's in $NAME_np.
# (With --network-namespace-path instead, nspawn does not let it use
# /dev/net/tun.)
boot() {
	systemd-nspawn -D "$lib_tmp/$1" -b --register=no --keep-unit \
	    --console=read-only --private-network \
	    --bind-ro="$debs:/debs" >>"$lib_tmp/$1.nspawn.log" 2>&1 &
	eval "$1_np=$!"
	wait_until 20 pgrep -P "$!" -x systemd >/dev/null || return 1
	eval "$1_pid=$(pgrep -P "$!" -x systemd)"
	# Until dbus is up, systemctl cannot ask; degraded is fine (a
	# minimal root has units that fail in a container).
	wait_until 30 in_c "$1" sh -c \
	    'case $(systemctl is-system-running --wait 2>/dev/null) in
	    running|degraded) true ;; *) false ;; esac'
}

# in_c NAME COMMAND...: COMMAND inside container NAME.
in_c() {
	ic_pid=$(eval echo "\$$1_pid")
	shift
	nsenter -t "$ic_pid" -a "$@"
}

# poweroff NAME: powers NAME off and waits for nspawn to exit.
poweroff() {
	po_np=$(eval echo "\$$1_np")
	[ -n "$po_np" ] || return 0
	in_c "$1" systemctl poweroff >/dev/null 2>&1
	wait_exit "$po_np" 300 || { kill -KILL "$po_np"; wait "$po_np"; }
	eval "$1_np="
}

# lan: the LAN between the containers, a veth pair from the hub's network
# namespace to the edge's, 192.168.91.1 and .2.  A container powered off
# takes the pair with it.
lan() {
	ip link add veth0 netns "$hub_pid" type veth peer name veth0 \
	    netns "$edge_pid" || return 1
	nsenter -t "$hub_pid" -n ip addr add 192.168.91.1/24 dev veth0 &&
	    nsenter -t "$hub_pid" -n ip link set veth0 up &&
	    nsenter -t "$edge_pid" -n ip addr add 192.168.91.2/24 dev veth0 &&
	    nsenter -t "$edge_pid" -n ip link set veth0 up
}

boot_cleanup() {
	poweroff edge
	poweroff hub
	# nspawn leaves these behind at the cgroup root.
	rmdir /sys/fs/cgroup/payload /sys/fs/cgroup/supervisor 2>/dev/null
	lib_cleanup
}
trap boot_cleanup EXIT

boot hub && boot edge && lan || {
	not_ok "both containers boot"
	lib_summary
}
ok "both containers boot (systemd $(in_c hub systemctl --version |
    head -n1 | cut -d' ' -f2))"

for c in hub edge; do
	pkgs="/debs/wgu_*.deb"
	[ "$c" = hub ] && pkgs="$pkgs /debs/wgu-hub_*.deb"
	[ "$c" = edge ] && pkgs="$pkgs /debs/wgu-edge_*.deb"
	check "$c: the packages install" in_c "$c" sh -c \
	    "dpkg -i $pkgs >/var/tmp/dpkg.out 2>&1" ||
	    tail "$lib_tmp/$c/var/tmp/dpkg.out"
done
users() { in_c "$1" getent passwd "$2" "$3" >/dev/null; }
check "hub: users wgu and wgu-historian made" users hub wgu wgu-historian
check "edge: users wgu and wgu-sim made" users edge wgu wgu-sim

# ---------------------------------------------------------------- set-up
in_c hub wgu genkey >"$lib_tmp/hub.key"
in_c edge wgu genkey >"$lib_tmp/edge.key"
hub_pub=$(in_c hub wgu pubkey <"$lib_tmp/hub.key")
edge_pub=$(in_c edge wgu pubkey <"$lib_tmp/edge.key")
(umask 077
mkdir -p "$lib_tmp/hub/etc/wireguard" "$lib_tmp/edge/etc/wireguard"
cat >"$lib_tmp/hub/etc/wireguard/wg0.conf" <<EOF
[Interface]
PrivateKey = $(cat "$lib_tmp/hub.key")
Address = 10.0.0.1/24
ListenPort = 51820

[Peer]
PublicKey = $edge_pub
AllowedIPs = 10.0.0.2/32
EOF
cat >"$lib_tmp/edge/etc/wireguard/wg0.conf" <<EOF
[Interface]
PrivateKey = $(cat "$lib_tmp/edge.key")
Address = 10.0.0.2/24

[Peer]
PublicKey = $hub_pub
Endpoint = 192.168.91.1:51820
AllowedIPs = 10.0.0.0/24
PersistentKeepalive = 5
EOF
)
check "hub: wgu-hub-setup" in_c hub wgu-hub-setup --nodes edge-01 \
    >"$lib_tmp/hubsetup.out" 2>&1 || cat "$lib_tmp/hubsetup.out"
mkdir -p "$lib_tmp/edge/etc/wgu/clients" &&
    chmod 700 "$lib_tmp/edge/etc/wgu" "$lib_tmp/edge/etc/wgu/clients"
cp "$lib_tmp/hub/etc/wgu/clients/edge-01.pw" "$lib_tmp/edge/etc/wgu/clients/"
check "hub: enable --now wgu@wg0 mosquitto wgu-historian" in_c hub \
    systemctl enable --now wgu@wg0 mosquitto wgu-historian
# The broker ran since boot, before hub-setup wrote its configuration.
in_c hub systemctl restart mosquitto
check "edge: enable --now wgu@wg0" in_c edge systemctl enable --now wgu@wg0
count=900
check "edge: wgu-sim as a unit" in_c edge systemd-run --unit=wgu-sim \
    -p Restart=always -p After=wgu@wg0.service /usr/bin/wgu-sim \
    --node-id edge-01 --password-file /etc/wgu/clients/edge-01.pw \
    --rate 5 --count "$count"

prod=$lib_tmp/hub/var/lib/wgu-historian/industrial_production.log
spool=$lib_tmp/edge/var/lib/wgu-sim/edge-01/spool.log
lines() { [ -f "$prod" ] && wc -l <"$prod" || echo 0; }
grows() { [ "$(lines)" -gt "$1" ]; }
check "readings flow into the hub's log" wait_until 30 grows 5

# The dashboard's access: user wgu-dashboard made by
# wgu-hub; the historian runs with group wgu-monitor (SupplementaryGroups=,
# beside PrivateUsers=) and makes its store group-readable (UMask=0027), so that
# a member of group wgu-historian reads the .db and its -wal.
check "hub: user wgu-dashboard made" users hub wgu-dashboard wgu-dashboard
hist_groups() {
	in_c hub sh -c 'grep "^Groups:" \
	    "/proc/$(systemctl show -P MainPID wgu-historian)/status"' |
	    tr -s ' \t' '\n' | grep -qx "$(in_c hub getent group wgu-monitor |
	    cut -d: -f3)"
}
check "historian runs with supplementary group wgu-monitor" hist_groups
db=/var/lib/wgu-historian/industrial_production.db
check "the store is 0640, group wgu-historian" sh -c \
    "[ \"\$(nsenter -t $hub_pid -a stat -c '%a %G' $db)\" = \
    '640 wgu-historian' ]"
check "group wgu-historian reads the store and its -wal" in_c hub \
    setpriv --reuid wgu-dashboard --regid wgu-dashboard \
    --groups "$(in_c hub getent group wgu-historian | cut -d: -f3)" \
    sh -c "head -c 15 $db | grep -q 'SQLite format 3' && head -c 1 $db-wal >/dev/null"

# ---------------------------------------------------------------- SIGKILL
old=$(in_c hub systemctl show -P MainPID wgu-historian)
in_c hub systemctl kill -s KILL wgu-historian
restarted() {
	new=$(in_c hub systemctl show -P MainPID wgu-historian)
	[ "$new" != 0 ] && [ "$new" != "$old" ] &&
	    [ "$(in_c hub systemctl is-active wgu-historian)" = active ]
}
check "historian killed with SIGKILL is restarted" wait_until 15 restarted
n=$(lines)
check "readings flow after the restart" wait_until 20 grows "$n"

# ---------------------------------------------------------------- reload
key9=$(in_c hub wgu genkey | in_c hub wgu pubkey)
printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.0.0.9/32\n' "$key9" \
    >>"$lib_tmp/hub/etc/wireguard/wg0.conf"
check "hub: systemctl reload wgu@wg0" in_c hub systemctl reload wgu@wg0
check "the new peer is there" sh -c "nsenter -t $hub_pid -a wg show wg0 \
    peers | grep -qx '$key9'"
check "wgu@wg0 still active" in_c hub systemctl is-active --quiet wgu@wg0
n=$(lines)
check "readings flow after the reload" wait_until 20 grows "$n"

# ---------------------------------------------------------------- dashboard
check "hub: wgu-dashboard user add op --role operator" sh -c "echo op-secret-1 |
    nsenter -t $hub_pid -a wgu-dashboard user add /etc/wgu/dashboard.users \
    op --role operator >/dev/null"
check "hub: enable --now wgu-dashboard" in_c hub \
    systemctl enable --now wgu-dashboard
# gid NAME: the group's number in the hub.
gid() { in_c hub getent group "$1" | cut -d: -f3; }
dash_creds() {
	in_c hub systemctl is-active --quiet wgu-dashboard &&
	    st=$(in_c hub sh -c 'cat "/proc/$(systemctl show -P MainPID \
	    wgu-dashboard)/status"') &&
	    echo "$st" | grep -Eq "^Uid:\s+$(in_c hub id -u wgu-dashboard)\s" &&
	    groups=$(echo "$st" | sed -n 's/^Groups://p' | tr -s ' \t' '\n') &&
	    echo "$groups" | grep -qx "$(gid wgu-historian)" &&
	    echo "$groups" | grep -qx "$(gid wgu-monitor)"
}
check "dashboard active as wgu-dashboard, groups wgu-historian and wgu-monitor" \
    wait_until 15 dash_creds
check "/run/wgu-monitor/wg0.sock: root:wgu-monitor 660" sh -c \
    "[ \"\$(nsenter -t $hub_pid -a stat -c '%U:%G %a %F' \
    /run/wgu-monitor/wg0.sock)\" = 'root:wgu-monitor 660 socket' ]"
# curl_hub ARGS...: curl inside the hub, the body on stdout.
curl_hub() { in_c hub curl -sf -m 5 "$@"; }
dash=http://10.0.0.1:8080
login_page() {
	[ "$(in_c hub curl -s -m 5 -o /dev/null -w '%{http_code}' \
	    "$dash/login")" = 200 ]
}
check "/login answers 200 on 10.0.0.1:8080" wait_until 15 login_page
sid=$(in_c hub curl -s -m 5 -o /dev/null -D - \
    -d 'username=op&password=op-secret-1' "$dash/login" |
    sed -n 's/^[Ss]et-[Cc]ookie: wgu_session=\([0-9a-f]*\);.*/\1/p')
check "the operator logs in: a session cookie" test -n "$sid"
api_has() {
	curl_hub -b "wgu_session=$sid" "$dash/api/$1" | grep -qF "$2"
}
check "/api/nodes: the edge's node" wait_until 10 api_has nodes \
    '"node":"edge-01"'
check "/api/tunnel: the edge's peer (the monitor socket)" api_has tunnel \
    "\"public_key\":\"$edge_pub\""
readings_metric() {
	curl_hub http://127.0.0.1:9108/metrics |
	    grep -Eq '^wgu_node_readings_total\{node="edge-01"\} [1-9]'
}
check "/metrics: wgu_node_readings_total for edge-01" wait_until 15 \
    readings_metric
# The peer added above never made a handshake: only a historian that
# reads wg0 through the monitor socket raises its alarm (in the store,
# where the dashboard reads it).
check "the historian's handshake alarm for the new peer" wait_until 25 \
    api_has alarms "\"node\":\"$key9\",\"kind\":\"handshake\""
check "no monitor socket error in the historian's journal" sh -c \
    "! nsenter -t $hub_pid -a journalctl -b -q -u wgu-historian \
    --no-pager | grep 'monitor socket'"

# ---------------------------------------------------------------- reboot
poweroff hub
check "hub powered off" test -z "$hub_np"
sleep 10
check "hub boots again" boot hub
check "the LAN back" lan
for u in wgu@wg0 mosquitto wgu-historian wgu-dashboard; do
	check "hub: $u active after the boot" wait_until 20 \
	    in_c hub systemctl is-active --quiet "$u"
done
since() {
	in_c hub systemctl show -P ActiveEnterTimestampMonotonic "$1"
}
check "the broker came up after the tunnel" \
    test "$(since mosquitto.service)" -gt "$(since wgu@wg0.service)"
n=$(lines)
check "readings flow after the boot" wait_until 60 grows "$n"
check "the dashboard answers after the boot" wait_until 20 login_page

# ---------------------------------------------------------------- all there
sim_done() {
	[ "$(awk '$1 == "R"' "$spool" 2>/dev/null | wc -l)" -ge "$count" ]
}
check "the edge generated its $count readings" wait_until 300 sim_done
awk '$1 == "R" { print "edge-01", $2, $3 }' "$spool" | sort -u \
    >"$lib_tmp/expected"
check "every reading in the hub's log" wait_until 120 all_logged \
    "$lib_tmp/expected"
log_keys "$prod" >"$lib_tmp/keys" 2>"$lib_tmp/torn"
check "no torn line" test ! -s "$lib_tmp/torn"
check "each reading exactly once ($(wc -l <"$lib_tmp/keys") lines)" \
    sh -c "[ \"\$(sort '$lib_tmp/keys' | uniq -d)\" = '' ]"
check "nothing but those readings" sh -c \
    "sort -u '$lib_tmp/keys' | cmp -s - '$lib_tmp/expected'"

# ---------------------------------------------------------------- scores
for u in wgu@wg0 wgu-historian wgu-dashboard; do
	limit=2.0
	[ "$u" = wgu@wg0 ] && limit=3.5
	s=$(in_c hub systemd-analyze security "$u.service" 2>/dev/null |
	    sed -n 's/^→ Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p')
	check "inside: $u scores $s (at most $limit)" \
	    awk -v s="$s" -v l="$limit" 'BEGIN { exit !(s != "" && s <= l) }'
done
lib_summary
