# Shell helpers for wgu's system tests (POSIX sh; sourced, not run).
#
#	. "$(dirname "$0")/lib.sh"
#	lib_require_root; lib_require_cmds ip wg
#	lib_init			# temp dir, cleanup trap
#	ns_create a; ns_create b; ns_link a b 192.168.1.1/24 192.168.1.2/24
#	start_wgu a wg0			# foreground daemon, waits for its socket
#	check "ping" ip netns exec a ping -c 1 ...
#	lib_summary			# "N passed, N failed", exit status
#
# Everything the helpers create (namespaces, daemons, sockets, files) is
# removed on exit, however the script ends.  Daemons are started as our
# children and stopped by their process ids only.
#
# WGU_BIN: the wgu binary (default src/wgu).  WGU_LOG_LEVEL: LOG_LEVEL for
# the daemons (default error); their output is in $lib_tmp/IFNAME.log and
# is shown for the failed tests' interfaces at the end.

WGU=${WGU_BIN:-src/wgu}
WG_SOCKET_DIR=/var/run/wireguard
lib_passed=0
lib_failed=0
lib_namespaces=
lib_pids=
lib_sockets=
lib_tmp=
lib_last_pid=

lib_skip() {
	echo "SKIP: $*"
	exit 77
}

lib_require_root() {
	[ "$(id -u)" -eq 0 ] || lib_skip "needs root (network namespaces, TUN)"
}

lib_require_cmds() {
	for lib_cmd in "$@"; do
		command -v "$lib_cmd" >/dev/null 2>&1 ||
		    lib_skip "$lib_cmd is not installed"
	done
}

lib_require_wgu() {
	if [ ! -x "$WGU" ]; then
		echo "FAIL: $WGU is not an executable (set WGU_BIN)"
		echo "0 passed, 1 failed"
		exit 1
	fi
	case "$WGU" in /*) ;; *) WGU=$(pwd)/$WGU ;; esac
	lib_sandbox_users
}

# The users wgu, wgu-historian, wgu-sim and wgu-modbus become once set up (make
# install creates them), and group wgu-monitor with the historian in it:
# made here when missing, as make install would.
lib_sandbox_users() {
	for lib_u in wgu wgu-historian wgu-sim wgu-modbus; do
		getent passwd "$lib_u" >/dev/null && continue
		useradd --system --no-create-home --shell /usr/sbin/nologin \
		    "$lib_u" || { echo "FAIL: cannot create user $lib_u"
		    echo "0 passed, 1 failed"; exit 1; }
	done
	# The read-only monitor socket's group, with the hub's readers.
	getent group wgu-monitor >/dev/null || groupadd --system wgu-monitor ||
	    { echo "FAIL: cannot create group wgu-monitor"
	    echo "0 passed, 1 failed"; exit 1; }
	id -nG wgu-historian | grep -qw wgu-monitor ||
	    usermod -aG wgu-monitor wgu-historian
}

# lib_require_tunnel CMD...: skips the test unless root, with ip, wg,
# CMD..., wgu and /dev/net/tun: what a test that builds tunnels needs.
lib_require_tunnel() {
	lib_require_root
	lib_require_cmds ip wg "$@"
	lib_require_wgu
	[ -e /dev/net/tun ] || lib_skip "no /dev/net/tun"
}

# lib_own_mounts "$0" "$@": the test runs again in a mount namespace of its
# own (private: the host never sees what it mounts); returns there.
lib_own_mounts() {
	if [ -z "${LIB_OUTER_MNT:-}" ]; then
		LIB_OUTER_MNT=$(readlink /proc/self/ns/mnt) \
		    exec unshare -m --propagation private sh "$@"
	fi
	[ "$(readlink /proc/self/ns/mnt)" != "$LIB_OUTER_MNT" ] || {
		echo "FAIL not in a mount namespace of our own"
		echo "0 passed, 1 failed"
		exit 1
	}
}

lib_init() {
	lib_tmp=$(mktemp -d "${TMPDIR:-/tmp}/wgu-systest.XXXXXX") || exit 1
	chmod 700 "$lib_tmp"
	trap lib_cleanup EXIT
	trap 'exit 1' HUP INT TERM
	# Output into a closed pipe (`tests/sys_x.sh | head`) must not kill
	# the shell before its cleanup: exit through it, ignoring the rest.
	trap 'trap "" PIPE; exit 1' PIPE
}

# Whether process $1 is alive (a zombie child is not).
is_running() {
	[ -r "/proc/$1/stat" ] || return 1
	lib_state=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$1/stat" 2>/dev/null)
	[ -n "$lib_state" ] && [ "$lib_state" != Z ]
}

# wait_until SECONDS COMMAND...: runs COMMAND every 0.1 s until it
# succeeds (true) or SECONDS (tenths allowed: 0.5, 2.5) have passed
# (false).  COMMAND may be a shell function; `not` turns it around.
wait_until() {
	case $1 in
	*.*) wu_n=$((${1%%.*} * 10 + $(printf '%.1s' "${1#*.}"))) ;;
	*) wu_n=$(($1 * 10)) ;;
	esac
	shift
	until "$@"; do
		[ "$wu_n" -gt 0 ] || return 1
		sleep 0.1
		wu_n=$((wu_n - 1))
	done
}

# not COMMAND...: true when COMMAND fails, for wait_until.
not() {
	! "$@"
}

# wait_exit PID [TENTHS]: true when PID has exited within TENTHS/10 s
# (default 50); reaps it and leaves its exit status in $lib_status.
wait_exit() {
	lib_n=${2:-50}
	wait_until "$((lib_n / 10)).$((lib_n % 10))" not is_running "$1" ||
	    return 1
	wait "$1" 2>/dev/null
	lib_status=$?
	return 0
}

# Stops every daemon we started: SIGTERM, then SIGKILL after 3 s.
lib_stop_daemons() {
	for lib_pid in $lib_pids; do
		kill -TERM "$lib_pid" 2>/dev/null
	done
	for lib_pid in $lib_pids; do
		wait_exit "$lib_pid" 30 || {
			kill -KILL "$lib_pid" 2>/dev/null
			wait "$lib_pid" 2>/dev/null
		}
	done
	lib_pids=
}

lib_cleanup() {
	trap - EXIT
	lib_stop_daemons
	for lib_ns in $lib_namespaces; do
		ip netns del "$lib_ns" 2>/dev/null
	done
	# Left by a daemon that had to be killed; the names are ours.
	for lib_sock in $lib_sockets; do
		rm -f "$WG_SOCKET_DIR/$lib_sock.sock"
	done
	[ -n "$lib_tmp" ] && rm -rf "$lib_tmp"
}

ok() {
	lib_passed=$((lib_passed + 1))
	echo "ok   $1"
}

not_ok() {
	lib_failed=$((lib_failed + 1))
	echo "FAIL $1"
}

# check DESCRIPTION COMMAND...: one test, passing when COMMAND succeeds.
# Returns the verdict, so `check ... || show_diagnostics` works.
check() {
	lib_desc=$1
	shift
	if "$@"; then ok "$lib_desc"; else not_ok "$lib_desc"; return 1; fi
}

# Prints the closing line and exits with the verdict.  A sanitizer report
# in any daemon's log is one more failure; daemon logs are shown when
# something failed.
lib_summary() {
	# Leak reports come at exit.
	lib_stop_daemons
	if [ -n "$lib_tmp" ] &&
	    grep -lE 'Sanitizer|runtime error:' "$lib_tmp"/*.log 2>/dev/null; then
		not_ok "sanitizer reports in the daemon logs above"
	fi
	if [ "$lib_failed" -gt 0 ] && [ -n "$lib_tmp" ]; then
		for lib_log in "$lib_tmp"/*.log; do
			[ -s "$lib_log" ] || continue
			echo "--- $(basename "$lib_log")"
			tail -n 20 "$lib_log"
		done
	fi
	echo "$lib_passed passed, $lib_failed failed"
	[ "$lib_failed" -eq 0 ]
	exit $?
}

# has_lines FILE N: FILE exists and has at least N lines.
has_lines() {
	[ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ]
}

# ---------------------------------------------------------------- netns

# ns_create NAME: a namespace with its loopback up, deleted at exit.
ns_create() {
	ip netns add "$1" || return 1
	lib_namespaces="$lib_namespaces $1"
	ip -n "$1" link set lo up
}

# ns_kill NS...: kill -9 of whatever still runs in the namespaces (what
# `wgu up` or a broker starts there is ours without being our child).
ns_kill() {
	for nk_ns in "$@"; do
		for nk_pid in $(ip netns pids "$nk_ns" 2>/dev/null); do
			kill -KILL "$nk_pid" 2>/dev/null
		done
	done
}

# ns_addr NS ADDR/LEN DEV: adds an address, IPv6 without duplicate
# address detection (it would hold the address back for a second or two).
ns_addr() {
	case "$2" in
	*:*) ip -n "$1" addr add "$2" dev "$3" nodad ;;
	*) ip -n "$1" addr add "$2" dev "$3" ;;
	esac
}

# ns_if_up NS DEV ADDR/LEN...: DEV in NS with these addresses (ns_addr),
# then up.
ns_if_up() {
	niu_ns=$1 niu_dev=$2
	shift 2
	for niu_addr in "$@"; do
		ns_addr "$niu_ns" "$niu_addr" "$niu_dev" || return 1
	done
	ip -n "$niu_ns" link set "$niu_dev" up
}

# ns_link NS1 NS2 ADDR1/LEN ADDR2/LEN: a veth pair "veth0" between two
# namespaces (created inside them, so the names cannot clash outside).
ns_link() {
	ip link add veth0 netns "$1" type veth peer name veth0 netns "$2" ||
	    return 1
	ns_addr "$1" "$3" veth0 &&
	ns_addr "$2" "$4" veth0 &&
	ip -n "$1" link set veth0 up &&
	ip -n "$2" link set veth0 up
}

# ---------------------------------------------------------------- daemons

# wait_socket IFNAME: true once a daemon answers on IFNAME's UAPI socket.
wait_socket() {
	wait_until 5 serves_socket "$1" && return 0
	echo "  no UAPI socket for $1"
	return 1
}
serves_socket() {
	[ -S "$WG_SOCKET_DIR/$1.sock" ] && wg show "$1" >/dev/null 2>&1
}

# listens NS PORT [PROTO]: something listens on PORT (TCP, or udp) in NS.
listens() {
	ls_opt=-Hltn
	[ "${3:-tcp}" = udp ] && ls_opt=-Hlun
	ip netns exec "$1" ss "$ls_opt" "sport = :$2" | grep -q .
}

# wait_listen NS PORT: true once something listens on TCP PORT in NS (5 s).
wait_listen() {
	wait_until 5 listens "$1" "$2"
}

# start_wgu NS IFNAME: wgu in the foreground as our child; its pid in
# $lib_last_pid.  Returns once it serves its socket.
start_wgu() {
	lib_sockets="$lib_sockets $2"
	ip netns exec "$1" env LOG_LEVEL="${WGU_LOG_LEVEL:-error}" \
	    "$WGU" -f "$2" >"$lib_tmp/$2.log" 2>&1 &
	lib_last_pid=$!
	lib_pids="$lib_pids $lib_last_pid"
	wait_socket "$2"
}

# start_wggo NS IFNAME: the same for Debian's wireguard-go.
start_wggo() {
	lib_sockets="$lib_sockets $2"
	ip netns exec "$1" env LOG_LEVEL="${WGU_LOG_LEVEL:-error}" \
	    WG_PROCESS_FOREGROUND=1 wireguard-go "$2" >"$lib_tmp/$2.log" 2>&1 &
	lib_last_pid=$!
	lib_pids="$lib_pids $lib_last_pid"
	wait_socket "$2"
}

# genkey NAME [PROGRAM]: a private key in $lib_tmp/NAME.key (0600) from
# PROGRAM genkey (default wg; `wgu` has the same commands), its public key
# printed.
genkey() {
	(umask 077; "${2:-wg}" genkey >"$lib_tmp/$1.key") &&
	    "${2:-wg}" pubkey <"$lib_tmp/$1.key"
}

# ---------------------------------------------------------------- traffic

# A TCP sink and source in Perl (perl-base is Essential in Debian: no extra
# package).  The sink accepts one connection and writes what it reads to
# a file; the source sends a file and half-closes.
# shellcheck disable=SC2016  # Perl, not shell
LIB_TCP_SINK='use IO::Socket::IP;
my ($h, $p, $out) = @ARGV;
my $s = IO::Socket::IP->new(LocalHost => $h, LocalPort => $p, Listen => 1,
    ReuseAddr => 1) or die "listen: $@\n";
my $c = $s->accept or die "accept: $!\n";
open(my $f, ">", $out) or die "$out: $!\n";
binmode $f;
my $b;
while ((my $n = sysread($c, $b, 65536)) > 0) { print $f $b or die; }
close $f or die;'
LIB_TCP_SOURCE='use IO::Socket::IP;
my ($h, $p, $in) = @ARGV;
my $c = IO::Socket::IP->new(PeerHost => $h, PeerPort => $p)
    or die "connect: $@\n";
open(my $f, "<", $in) or die "$in: $!\n";
binmode $f;
my $b;
while ((my $n = sysread($f, $b, 65536)) > 0) {
	my $o = 0;
	while ($o < $n) {
		my $w = syswrite($c, $b, $n - $o, $o);
		die "write: $!\n" unless defined $w;
		$o += $w;
	}
}
shutdown($c, 1);
1 while sysread($c, $b, 65536);'

# transfer FROM_NS TO_NS TO_ADDR PORT BYTES: sends BYTES random bytes over
# TCP and compares checksums.
transfer() {
	head -c "$5" /dev/urandom >"$lib_tmp/tx.bin"
	rm -f "$lib_tmp/rx.bin"
	ip netns exec "$2" timeout 30 perl -e "$LIB_TCP_SINK" "$3" "$4" \
	    "$lib_tmp/rx.bin" &
	lib_sink=$!
	wait_listen "$2" "$4"
	ip netns exec "$1" timeout 30 perl -e "$LIB_TCP_SOURCE" "$3" "$4" \
	    "$lib_tmp/tx.bin" || { echo "  sending failed"; }
	wait "$lib_sink"
	lib_a=$(sha256sum <"$lib_tmp/tx.bin")
	lib_b=$(sha256sum <"$lib_tmp/rx.bin" 2>/dev/null)
	[ "$lib_a" = "$lib_b" ] || {
		echo "  received $(wc -c <"$lib_tmp/rx.bin" 2>/dev/null || echo 0)" \
		    "of $5 bytes, or different ones"
		return 1
	}
}

# subscribed FILE: true once the output FILE of `stdbuf -oL mosquitto_sub
# -d` shows the broker's SUBACK (its debug lines go there, line by line).
subscribed() {
	grep -q 'received SUBACK' "$1"
}

# ---------------------------------------------------------------- links
# Several links per namespace, pings, endpoints.

# ns_veth NS1 DEV1 NS2 DEV2: a veth pair DEV1 in NS1 <-> DEV2 in NS2, up,
# without addresses (several links per namespace need distinct names).
ns_veth() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" &&
	ip -n "$1" link set "$2" up &&
	ip -n "$3" link set "$4" up
}

# pings_ok NS ADDR [COUNT]: COUNT (default 3) echo replies within 5 s.
pings_ok() {
	ip netns exec "$1" ping -q -c "${3:-3}" -i 0.2 -w 5 "$2" \
	    >"$lib_tmp/ping.out" 2>&1 || {
		sed 's/^/    /' "$lib_tmp/ping.out"
		return 1
	}
}

# echo_replies NS: the ICMP and ICMPv6 echo replies NS has received.
echo_replies() {
	ip netns exec "$1" awk '
	$1 == "Icmp:" && !c {
		for (i = 2; i <= NF; i++) if ($i == "InEchoReps") c = i
		next
	}
	$1 == "Icmp:" { n += $c }
	$1 == "Icmp6InEchoReplies" { n += $2 }
	END { print n + 0 }' /proc/net/snmp /proc/net/snmp6
}

# replies_above NS N: NS has received more than N echo replies (a ping
# stream started after echo_replies said N is flowing).
replies_above() {
	[ "$(echo_replies "$1")" -gt "$2" ]
}

# peer_endpoint IFNAME PUBKEY: the endpoint wg reports for that peer.
peer_endpoint() {
	wg show "$1" endpoints | awk -v k="$2" '$1 == k { print $2 }'
}
