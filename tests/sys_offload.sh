#!/bin/sh
# The data path's offloads, between two namespaces joined by a
# veth: TCP through the tunnel arrives intact with every offload on, with
# all off and with mixed sets on the two ends; the offloads really are in
# use (far fewer TUN reads and writes than packets) and the switch really
# turns them off; an unknown offload name is refused with a clear error.
. "$(dirname "$0")/lib.sh"
lib_require_root
lib_require_cmds ip wg perl ss sha256sum
lib_require_wgu
lib_init
# Verbose: the daemon's log then says which offloads it uses.
WGU_LOG_LEVEL=verbose

A=offl-a B=offl-b IA=offwg0 IB=offwg1
BYTES=$((24 * 1024 * 1024))
# 24 MiB in segments of at most 1420 - 40 - 32 bytes of TCP payload.
PACKETS=$((BYTES / 1348))

ns_create $A && ns_create $B &&
    ns_link $A $B 192.168.91.1/24 192.168.91.2/24 || exit 1
KA=$(genkey a) KB=$(genkey b)

# up MODE_A MODE_B: both daemons (re)started with those offload switches.
PID_A= PID_B=
up() {
	for p in $PID_A $PID_B; do
		kill "$p" 2>/dev/null && wait_exit "$p"
	done
	WGU_DISABLE_OFFLOAD=$1 start_wgu $A $IA || return 1
	PID_A=$lib_last_pid
	WGU_DISABLE_OFFLOAD=$2 start_wgu $B $IB || return 1
	PID_B=$lib_last_pid
	ip netns exec $A wg set $IA private-key "$lib_tmp/a.key" \
	    listen-port 51001 peer "$KB" allowed-ips 10.91.0.2/32,fd91::2/128 &&
	ip netns exec $B wg set $IB private-key "$lib_tmp/b.key" \
	    peer "$KA" allowed-ips 10.91.0.1/32,fd91::1/128 \
	    endpoint 192.168.91.1:51001 &&
	ns_addr $A 10.91.0.1/24 $IA && ns_addr $A fd91::1/64 $IA &&
	ns_addr $B 10.91.0.2/24 $IB && ns_addr $B fd91::2/64 $IB &&
	ip -n $A link set $IA up && ip -n $B link set $IB up &&
	pings_ok $B 10.91.0.1 1
}

# io PID FIELD: a counter from /proc/PID/io (syscr: read system calls,
# syscw: write system calls).
io() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/io"
}

# The daemon reads ($2 = syscr) or writes (syscw) while BYTES cross from
# namespace $3 to $4 at address $5, as a count; the transfer must be exact.
calls_during_transfer() {
	lib_c0=$(io "$1" "$2")
	transfer "$3" "$4" "$5" 5201 $BYTES || return 1
	lib_c1=$(io "$1" "$2")
	echo $((lib_c1 - lib_c0))
}

# The switch's environment variable reaches each daemon (start_wgu runs it
# through ip netns exec, which keeps the environment).
check "all offloads on: both daemons up" up "" ""
for i in $IA $IB; do
	check "$i reports every offload on" grep -q \
	    "Offloads: TUN TSO on, TUN GRO on, UDP GSO on, UDP GRO on" \
	    "$lib_tmp/$i.log"
done

# Sender A: TUN reads; receiver B: TUN writes.  Without offloads each is
# one per packet; with them, one per super-packet of up to 64 KiB.
reads=$(calls_during_transfer "$PID_A" syscr $A $B 10.91.0.2) || reads=
check "24 MiB over IPv4 arrive intact with offloads" [ -n "$reads" ]
echo "    TUN-side reads on the sender: $reads for $PACKETS packets"
check "TSO: fewer than one TUN read per 4 packets" \
    [ "${reads:-$PACKETS}" -lt $((PACKETS / 4)) ]
w0=$(io "$PID_B" syscw)
check "24 MiB over IPv6 inside arrive intact" \
    transfer $A $B fd91::2 5202 $BYTES
w1=$(io "$PID_B" syscw)
echo "    TUN writes on the receiver: $((w1 - w0)) for $PACKETS packets"
check "TUN GRO: fewer than one TUN write per 4 packets" \
    [ $((w1 - w0)) -lt $((PACKETS / 4)) ]
check "24 MiB the other way arrive intact" \
    transfer $B $A 10.91.0.1 5203 $BYTES

check "all offloads off: both daemons up" up all all
check "the daemon reports every offload off" grep -q \
    "Offloads: TUN TSO off, TUN GRO off, UDP GSO off, UDP GRO off" \
    "$lib_tmp/$IA.log"
reads=$(calls_during_transfer "$PID_A" syscr $A $B 10.91.0.2) || reads=
check "24 MiB arrive intact without offloads" [ -n "$reads" ]
echo "    TUN-side reads on the sender: $reads for $PACKETS packets"
check "the switch works: a read per packet again" \
    [ "${reads:-0}" -ge $((PACKETS * 9 / 10)) ]

check "mixed offloads: both daemons up" up tun-tso,udp-gro tun-gro,udp-gso
check "mixed: 24 MiB A to B intact" transfer $A $B 10.91.0.2 5204 $BYTES
check "mixed: 24 MiB B to A over IPv6 intact" \
    transfer $B $A fd91::1 5205 $BYTES
check "mixed: ping" pings_ok $B 10.91.0.1 3

# The kernel refuses a UDP GSO send whose datagrams exceed the path MTU
# (EINVAL: GSO cannot fragment), while single datagrams go out in IP
# fragments.  A LAN MTU below the tunnel's datagram size (1420 + 32) makes
# exactly that happen: the daemon must notice and fall back by itself.
# Both ends of the LAN get the smaller MTU: a veth silently drops a plain
# (not GSO) packet longer than its receiving end's MTU, which with only
# one end lowered would make the other direction lossy.
check "fallback: both daemons up" up "" ""
check "fallback: LAN MTU 1400 on both ends" sh -c "
    ip -n $A link set veth0 mtu 1400 && ip -n $B link set veth0 mtu 1400"
check "fallback: 24 MiB A to B intact" transfer $A $B 10.91.0.2 5206 $BYTES
check "fallback: A noticed and sends one by one" grep -q \
    "UDP GSO failed; sending datagrams one by one" "$lib_tmp/$IA.log"
check "fallback: 24 MiB B to A intact" transfer $B $A 10.91.0.1 5207 $BYTES
check "fallback: B noticed and sends one by one" grep -q \
    "UDP GSO failed; sending datagrams one by one" "$lib_tmp/$IB.log"

out=$(WGU_DISABLE_OFFLOAD=tun-tso,bogus "$WGU" -f offwgbad 2>&1)
status=$?
check "an unknown offload: exit 1" [ "$status" -eq 1 ]
check "an unknown offload: says which" \
    sh -c 'echo "$1" | grep -q "unknown offload \"bogus\""' - "$out"
check "an unknown offload: no interface left" \
    sh -c '! ip link show offwgbad >/dev/null 2>&1'

lib_summary
