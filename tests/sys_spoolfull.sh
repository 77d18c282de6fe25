#!/bin/sh
# wgu-sim with its spool on a full disk: a 64 KiB tmpfs (mounted in a
# private mount namespace, so the host never sees it) that a filler file
# fills up, freed again while the simulator runs, across restarts, with the
# hardened broker of scripts/hub-setup.sh on 127.0.0.1 in a network
# namespace of our own and mosquitto_sub (as the historian) counting what
# arrives.
#
#   run 1  broker up; the disk fills: the readings without room are held
#          in memory (never a record cut short and another written onto
#          it), the filler goes, they are written and published;
#   run 2  broker down; the disk fills again at once (the boot id still
#          fits); freed, every reading lands in the spool unacknowledged;
#   run 3  the disk is full at start (the spool opens without its
#          compaction); broker up, freed: run 2's readings and run 3's go
#          out.
# Checked: every seq of every boot arrives exactly once (an acknowledgement
# without room is written as soon as there is, before any new reading), the
# simulator counts nothing lost and its spool nothing unreadable.
#
# Needs root, unshare, mosquitto, mosquitto_passwd and mosquitto_sub; exits
# 77 otherwise.  About 25 s.  WGU_BIN names wgu; wgu-sim is taken from
# beside it.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/plant.sh
. "$(dirname "$0")/plant.sh"

plant_require_hub unshare mount mosquitto_sub stdbuf
# The tmpfs is mounted in a mount namespace of our own: run in one.
lib_own_mounts "$0" "$@"
lib_init
chmod 711 "$lib_tmp"

ns=sf$$
prefix=plant1/area1/line1
hubdir=$lib_tmp/hub
spool=$lib_tmp/spool
broker_pid='' sim_pid='' sub_pid=''
mkdir "$spool"
spoolfull_cleanup() {
	lib_stop_daemons
	umount "$spool" 2>/dev/null
	lib_cleanup
}
trap spoolfull_cleanup EXIT

check "64 KiB tmpfs for the spool" mount -t tmpfs -o size=64k,mode=0700 \
    tmpfs "$spool" || lib_summary
ns_create "$ns" || { not_ok "namespace"; lib_summary; }
sh "$srcdir/scripts/hub-setup.sh" --dir "$hubdir" --vpn-address 127.0.0.1 \
    --nodes edge-01 --topic-prefix "$prefix" >"$lib_tmp/hub-setup.log" 2>&1
check "hub-setup" test -s "$hubdir/mosquitto.conf" || lib_summary
mkdir -m 700 "$lib_tmp/c-hist"
(umask 077
printf -- '-u historian\n-P %s\n' "$(head -n 1 "$hubdir/clients/historian.pw")" \
    >"$lib_tmp/c-hist/mosquitto_sub")

# fill BYTES: the filler leaves about BYTES free on the tmpfs.
fill() {
	rm -f "$spool/filler"
	fl_free=$(df --output=avail -B1 "$spool" | tail -n 1)
	[ "$fl_free" -gt "$1" ] || return 0
	head -c $((fl_free - $1)) /dev/zero >"$spool/filler" 2>/dev/null
	return 0
}

# start_sim OUT OPTIONS...: node edge-01, 20 readings/s, at most 80 held;
# logs looks at what it logs from here on.
: >"$lib_tmp/sim.log"
start_sim() {
	ss_out=$1
	shift
	log_mark=$(wc -l <"$lib_tmp/sim.log")
	ip netns exec "$ns" "$SIM" --broker 127.0.0.1 --node-id edge-01 \
	    --password-file "$hubdir/clients/edge-01.pw" \
	    --topic-prefix "$prefix" --rate 20 --seed 5 --spool-max 80 \
	    --spool-dir "$spool" "$@" >"$lib_tmp/$ss_out" \
	    2>>"$lib_tmp/sim.log" &
	sim_pid=$!
	lib_pids="$lib_pids $sim_pid"
}

# start_sub: mosquitto_sub as the historian, each payload a line in
# sub-N.out (N counts the starts) among its debug lines; subscribed (the
# SUBACK seen) before it returns.
sub_n=0
start_sub() {
	sub_n=$((sub_n + 1))
	ip netns exec "$ns" env XDG_CONFIG_HOME="$lib_tmp/c-hist" \
	    HOME=/nonexistent stdbuf -oL mosquitto_sub -d -h 127.0.0.1 \
	    -i "sf-sub-$sub_n" -q 1 -t "$prefix/+/telemetry" \
	    >"$lib_tmp/sub-$sub_n.out" 2>>"$lib_tmp/sub.log" &
	sub_pid=$!
	lib_pids="$lib_pids $sub_pid"
	wait_until 5 subscribed "$lib_tmp/sub-$sub_n.out"
}

stop() {
	kill -TERM "$1" 2>/dev/null
	wait_exit "$1" 150
}

# logs PATTERN: the simulator started last has logged a line matching
# PATTERN.
logs() {
	tail -n +$((log_mark + 1)) "$lib_tmp/sim.log" | grep -q "$1"
}
held='readings held in memory until there is room'
room='spool has room again: held readings written'

# arrived BOOT N: the subscribers received seq 1..N of edge-01's boot
# BOOT, each once.
arrived() {
	sed -n 's/.*"node_id":"edge-01".*"boot_id":\([0-9]*\),"seq":\([0-9]*\)[,}].*/\1 \2/p' \
	    "$lib_tmp"/sub-*.out | awk -v b="$1" '$1 == b { print $2 }' |
	    sort -n >"$lib_tmp/seqs"
	seq 1 "$2" | cmp -s - "$lib_tmp/seqs" && return 0
	echo "  boot $1: expected seq 1..$2 once each, missing: $(awk -v n="$2" '
	    { c[$1] = 1 } END { for (i = 1; i <= n; i++) if (!(i in c))
		printf "%d ", i }' "$lib_tmp/seqs" | cut -c1-60) twice:" \
	    "$(uniq -d "$lib_tmp/seqs" | head -n 10 | tr '\n' ' ')"
	return 1
}

# wait_arrived SECONDS BOOT N: arrived within SECONDS; if not, says
# what is missing.
wait_arrived() {
	wait_until "$1" arrived "$2" "$3" >/dev/null || arrived "$2" "$3"
}

# full_then_room DESCRIPTION: the simulator started last holds readings
# in memory (the check DESCRIPTION); the disk stays full a second longer
# (some 20 readings held: the time is what is tested), then has room, and
# the held readings are written.
full_then_room() {
	check "$1" wait_until 20 logs "$held"
	sleep 1
	rm -f "$spool/filler"
	check "${1%%:*}: room again, the held readings are written" \
	    wait_until 20 logs "$room"
}

summary_ok() { # OUT GENERATED PENDING
	grep -q "^edge-01: generated $2, acknowledged [0-9]*, pending $3, lost 0 " \
	    "$lib_tmp/$1" || { sed 's/^/    /' "$lib_tmp/$1"; return 1; }
}

check "broker on 127.0.0.1:1883 in the namespace" plant_start_broker "$ns" ||
    lib_summary
check "mosquitto_sub subscribed as the historian" start_sub

# ---------------------------------------------------------------- run 1
fill 12000
start_sim run1.out --count 100
full_then_room "run 1: the disk fills, readings are held in memory"
check "run 1: simulator finishes" wait_exit "$sim_pid" 300
check "run 1: all 100 acknowledged, none lost" summary_ok run1.out 100 0
check "run 1: seq 1..100 of boot 1 arrived" wait_arrived 10 1 100

# ---------------------------------------------------------------- run 2
check "broker stops" stop "$broker_pid"
fill 6000
start_sim run2.out --count 60
full_then_room "run 2: the disk full again, readings are held in memory"
check "run 2: simulator ends without a broker" wait_exit "$sim_pid" 300
check "run 2: 60 pending in the spool, none lost" summary_ok run2.out 60 60

# ---------------------------------------------------------------- run 3
check "mosquitto_sub stops" stop "$sub_pid"
# Room for the new boot id (a page), hardly more.
fill 4500
check "broker restarted" plant_start_broker "$ns" || lib_summary
check "mosquitto_sub subscribed again" start_sub
start_sim run3.out --count 60
full_then_room "run 3: opened on a full disk, readings held in memory"
check "run 3: simulator finishes" wait_exit "$sim_pid" 300
check "run 3: all acknowledged, none lost" summary_ok run3.out 60 0
check "run 2's seq 1..60 arrived after the restart" wait_arrived 10 2 60
check "run 3: seq 1..60 of boot 3 arrived" wait_arrived 10 3 60
check "nothing lost or unreadable in the simulator's log" sh -c "
    ! grep -E 'LOST|unreadable lines|spool read' '$lib_tmp/sim.log'"
echo "  $(cat "$lib_tmp"/sub-*.out | grep -c '"node_id"') readings received," \
    "$(grep -c "$held" "$lib_tmp/sim.log") times held"
lib_summary
