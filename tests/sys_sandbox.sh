#!/bin/sh
# The long-running programs once set up: each its own user, a seccomp
# filter, no inherited descriptor; a forbidden call made by the running
# program is refused.  Namespaces this script creates: two tunnel ends
# (wgu -f and wgu up) joined by a veth, and one with a broker on its
# loopback for wgu-historian and wgu-sim.  Every address used is inside
# them.
#
#   users:   /proc/PID/status of wgu -f, of the `wgu up` daemon, of
#            wgu-historian and of wgu-sim: Uid of users wgu, wgu-historian,
#            wgu-sim (not 0), Seccomp 2 (a filter), NoNewPrivs 1; CapEff
#            0x1400 for wgu, 0 for the other two; a descriptor the starter
#            left open (fd 7) is not there.
#   works:   the tunnel carries traffic after a move to listen-port 443 and
#            an fwmark; the historian logs what the simulator sends; no
#            program reports a refused system call (WGU_SANDBOX_LOG=1 names
#            any on stderr); `wgu down` (the interface deleted) makes the
#            daemon exit and remove its socket as user wgu.
#   refused: WGU_SANDBOX_PROBE (test only) makes a running program try, on
#            SIGUSR2, to open a root-owned 0600 file for writing (it is
#            left as it was, the program keeps running) or to execve
#            (the daemon is killed by SIGSYS, exit status 159).
#   errors:  WGU_USER naming a missing user: wgu refuses to start, with a
#            message naming the user; WGU_USER=root keeps uid 0 and the
#            filter.
#
# Needs root, wg, mosquitto; exits 77 otherwise.  About 15 s.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/plant.sh
. "$(dirname "$0")/plant.sh"

lib_require_root
lib_require_cmds ip wg mosquitto ping timeout
lib_require_wgu
plant_programs
[ -e /dev/net/tun ] || lib_skip "no /dev/net/tun"
lib_init
chmod 711 "$lib_tmp"		# the broker (user mosquitto) reads its config
export WGU_SANDBOX_LOG=1

tag=$$
na=xa$tag nb=xb$tag nm=xm$tag
ifa=xa$tag ifb=xb$tag
conf_dir=$lib_tmp/wg
trap 'ip netns exec "$nb" "$WGU" down "$conf_dir/$ifb.conf" >/dev/null 2>&1
    lib_cleanup' EXIT

ns_create "$na" && ns_create "$nb" && ns_create "$nm" &&
    ns_link "$na" "$nb" 192.168.79.1/24 192.168.79.2/24 || {
	not_ok "namespaces"
	lib_summary
}
uid_of() { getent passwd "$1" | cut -d: -f3; }

# status_ok PID USER CAPEFF: the sandbox as /proc/PID/status shows it.
status_ok() {
	got=$(grep -E '^(Uid|CapEff|NoNewPrivs|Seccomp):' "/proc/$1/status" |
	    tr -s '\t ' ' ' | tr '\n' ' ')
	u=$(uid_of "$2")
	want="Uid: $u $u $u $u CapEff: $3 NoNewPrivs: 1 Seccomp: 2 "
	[ "$u" != 0 ] && [ "$got" = "$want" ] ||
	    { echo "  pid $1: $got (want $want)"; return 1; }
}
# no_fd7 PID: the descriptor its starter left open (fd 7, on file fd7) is
# closed; the number may since be reused by something the program opened.
no_fd7() {
	for f in /proc/"$1"/fd/*; do
		[ "$(readlink "$f")" = "$lib_tmp/fd7" ] &&
		    { echo "  pid $1 holds $lib_tmp/fd7 as fd ${f##*/}"; return 1; }
	done
	return 0
}
# probed PID: PID has taken the SIGUSR2 sent to it (no longer pending:
# its handler runs), for a program whose stderr the test cannot read.
probed() {
	pb=$(sed -n 's/^\(SigPnd\|ShdPnd\):[[:space:]]*/0x/p' "/proc/$1/status" |
	    tr '\n' ' ')
	[ -n "$pb" ] || return 1
	for pb_mask in $pb; do
		[ $((pb_mask & 0x800)) = 0 ] || return 1
	done
}
# said FILE: the program writing its stderr to FILE has run its probe.
said() {
	grep -q '^sandbox probe: ' "$1"
}
# untouched FILE PID: still root's "original" content after PID's probe,
# and PID still running (without a probe, SIGUSR2 would kill it).
untouched() {
	[ "$(cat "$1")" = original ] || { echo "  $1 was written"; return 1; }
	is_running "$2" || { echo "  pid $2 is gone"; return 1; }
}
target() {
	(umask 077; echo original >"$lib_tmp/$1")
	echo "$lib_tmp/$1"
}
no_refusals() {
	if grep -h 'refused system call' "$@"; then return 1; fi
}
echo "descriptor the programs must not keep" >"$lib_tmp/fd7"

# ---------------------------------------------------------------- wgu
mkdir -m 700 "$conf_dir"
pub_a=$(genkey a) && pub_b=$(genkey b) || { not_ok "keys"; lib_summary; }
(umask 077
cat >"$conf_dir/$ifb.conf" <<EOC
[Interface]
PrivateKey = $(cat "$lib_tmp/b.key")
Address = 10.9.0.2/24
ListenPort = 51820

[Peer]
PublicKey = $pub_a
AllowedIPs = 10.9.0.1/32
EOC
)
ta=$(target a.target) tb=$(target b.target)
# start_a ENV...: wgu -f in na with ENV, output in $ifa.log, pid in pid_a.
start_a() {
	ip netns exec "$na" env LOG_LEVEL=info "$@" "$WGU" -f "$ifa" \
	    >>"$lib_tmp/$ifa.log" 2>&1 7<"$lib_tmp/fd7" &
	pid_a=$!
	lib_pids="$lib_pids $pid_a"
	lib_sockets="$lib_sockets $ifa"
	wait_socket "$ifa"
}
start_a WGU_SANDBOX_PROBE="open:$ta"
ip netns exec "$nb" env WGU_SANDBOX_PROBE="open:$tb" "$WGU" up \
    "$conf_dir/$ifb.conf" >"$lib_tmp/up.log" 2>&1 7<"$lib_tmp/fd7" ||
    sed 's/^/    /' "$lib_tmp/up.log"
pid_b=$(ip netns pids "$nb" | head -n 1)
wg set "$ifa" private-key "$lib_tmp/a.key" listen-port 443 fwmark 0x42 \
    peer "$pub_b" allowed-ips 10.9.0.2/32 endpoint 192.168.79.2:51820 &&
    ip -n "$na" addr add 10.9.0.1/24 dev "$ifa" &&
    ip -n "$na" link set "$ifa" up

check "users: wgu -f runs as wgu, CapEff 0x1400, seccomp on" \
    status_ok "$pid_a" wgu 0000000000001400
check "users: the wgu up daemon runs as wgu, CapEff 0x1400, seccomp on" \
    status_ok "$pid_b" wgu 0000000000001400
check "users: wgu -f closed the descriptor it inherited" no_fd7 "$pid_a"
check "users: the wgu up daemon closed the descriptor it inherited" \
    no_fd7 "$pid_b"
check "works: wgu up configured the address after the daemon started" \
    sh -c "ip -n $nb -br addr show $ifb | grep -q 10.9.0.2/24"
check "works: the tunnel carries traffic (listen-port 443, fwmark set)" \
    pings_ok "$na" 10.9.0.2
check "works: ... from port 443" sh -c "
    wg show $ifb endpoints | grep -q '192.168.79.1:443\$'"

check "works: no system call refused in the daemon's run" \
    no_refusals "$lib_tmp/$ifa.log"
kill -USR2 "$pid_a" "$pid_b"
wait_until 0.5 said "$lib_tmp/$ifa.log"
wait_until 0.5 probed "$pid_b"
check "refused: wgu -f cannot open a root 0600 file for writing" \
    untouched "$ta" "$pid_a"
check "refused: the wgu up daemon cannot either" untouched "$tb" "$pid_b"
check "refused: ... refused by the filter (EPERM), the daemon runs on" sh -c "
    grep -q 'sandbox probe: open refused (EPERM)' '$lib_tmp/$ifa.log' &&
    kill -0 $pid_a && kill -0 $pid_b"
# down_b: `wgu down` of b; its daemon gone within 5 s, its socket too.
down_b() {
	ip netns exec "$nb" "$WGU" down "$conf_dir/$ifb.conf" >/dev/null 2>&1 &&
	    wait_until 5 not kill -0 "$pid_b" 2>/dev/null &&
	    [ ! -e "$WG_SOCKET_DIR/$ifb.sock" ]
}
check "works: wgu down: the daemon exits and removes its socket as wgu" \
    down_b

# execve: the foreground daemon dies of SIGSYS.
kill -TERM "$pid_a"
wait "$pid_a" 2>/dev/null
: >"$lib_tmp/$ifa.log"
start_a WGU_SANDBOX_PROBE=exec
pid_x=$pid_a
kill -USR2 "$pid_x"
{ wait "$pid_x"; } 2>/dev/null
status=$?
check "refused: execve kills the daemon (SIGSYS, status 159)" sh -c "
    [ $status = 159 ] && grep -q 'sandbox probe: execve\$' '$lib_tmp/$ifa.log' &&
    ! grep -q 'execve refused' '$lib_tmp/$ifa.log' ||
    { echo '  status $status'; sed 's/^/    /' '$lib_tmp/$ifa.log'; exit 1; }"
rm -f "$WG_SOCKET_DIR/$ifa.sock"

# ---------------------------------------------------------------- errors
check "errors: WGU_USER naming a missing user: refused, with the name" sh -c "
    ! ip netns exec $na env WGU_USER=no-such-user-$tag timeout 10 \
    '$WGU' -f $ifa \
    >'$lib_tmp/nouser.log' 2>&1 &&
    grep -q 'user no-such-user-$tag does not exist' '$lib_tmp/nouser.log'"
start_a WGU_USER=root
pid_r=$pid_a
check "errors: WGU_USER=root keeps uid 0 and the filter" sh -c "
    grep -q '^Uid:.0.0.0.0\$' /proc/$pid_r/status &&
    grep -q '^Seccomp:.2\$' /proc/$pid_r/status"

# ---------------------------------------------------------------- hub
# A broker on nm's loopback, anonymous; the historian and a simulator.
cat >"$lib_tmp/mosquitto.conf" <<EOC
listener 1883 127.0.0.1
allow_anonymous true
EOC
chmod 644 "$lib_tmp/mosquitto.conf"
ip netns exec "$nm" mosquitto -c "$lib_tmp/mosquitto.conf" \
    >"$lib_tmp/broker.log" 2>&1 &
lib_pids="$lib_pids $!"
wait_listen "$nm" 1883
mkdir "$lib_tmp/prod" "$lib_tmp/spool"
chown wgu-historian "$lib_tmp/prod"
th=$(target h.target) ts=$(target s.target)
ip netns exec "$nm" env WGU_SANDBOX_PROBE="open:$th" "$HIST" \
    --broker 127.0.0.1 --topic-prefix sb/x --log "$lib_tmp/prod/p.log" \
    --color never >"$lib_tmp/historian.log" 2>&1 7<"$lib_tmp/fd7" &
pid_h=$!
lib_pids="$lib_pids $pid_h"
ip netns exec "$nm" env WGU_SANDBOX_PROBE="open:$ts" "$SIM" \
    --broker 127.0.0.1 --node-id edge --topic-prefix sb/x --rate 20 \
    --spool-dir "$lib_tmp/spool" >"$lib_tmp/sim.out" 2>"$lib_tmp/sim.log" \
    7<"$lib_tmp/fd7" &
pid_s=$!
lib_pids="$lib_pids $pid_s"
# logged N: the historian has logged N readings of the simulator's.
logged() {
	[ -f "$lib_tmp/prod/p.log" ] &&
	    [ "$(grep -c . "$lib_tmp/prod/p.log")" -ge "$1" ]
}
wait_until 3 logged 20
check "users: wgu-historian runs as wgu-historian, no caps, seccomp on" \
    status_ok "$pid_h" wgu-historian 0000000000000000
check "users: wgu-sim runs as wgu-sim, no caps, seccomp on" \
    status_ok "$pid_s" wgu-sim 0000000000000000
check "users: wgu-historian closed the descriptor it inherited" \
    no_fd7 "$pid_h"
check "users: wgu-sim closed the descriptor it inherited" no_fd7 "$pid_s"
check "works: the historian logs the simulator's readings" logged 20
kill -USR2 "$pid_h" "$pid_s"
wait_until 0.5 said "$lib_tmp/historian.log"
wait_until 0.5 said "$lib_tmp/sim.log"
check "refused: wgu-historian cannot open a root 0600 file for writing" \
    untouched "$th" "$pid_h"
check "refused: wgu-sim cannot either" untouched "$ts" "$pid_s"
check "works: ... and both run on" sh -c "kill -0 $pid_h && kill -0 $pid_s"
kill -TERM "$pid_h" "$pid_s"
wait "$pid_h" "$pid_s"
check "works: no system call refused in the historian's or sim's run" \
    no_refusals "$lib_tmp/historian.log" "$lib_tmp/sim.log"
check "works: the simulator's spool belongs to wgu-sim" sh -c "
    [ \"\$(stat -c %U '$lib_tmp/spool/edge')\" = wgu-sim ]"

lib_summary
