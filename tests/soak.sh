#!/bin/sh
# The soak (docs/SOAK.md): the telemetry pipeline through the
# tunnel for a long time, then zero loss and flat memory.  Not part of
# `make check` (an hour by default).
#
#	[SOAK_SECONDS=3600] [SOAK_NODES=100] [SOAK_RATE=10] [SOAK_SAMPLE=30] \
#	[SOAK_SPOOL_MAX=N] [SOAK_MEMORY=0] WGU_BIN=build/src/wgu tests/soak.sh
#
# Two namespaces this script creates: a hub (wgu from `wgu up`, the
# hardened broker of scripts/hub-setup.sh on 10.0.0.1, wgu-historian) and
# an edge (wgu from `wgu up`, wgu-sim with SOAK_NODES nodes at SOAK_RATE
# readings/s each), joined by a veth LAN; every address inside them.  For
# SOAK_SECONDS the simulator publishes; every SOAK_SAMPLE seconds the
# VmRSS of both wgu daemons, mosquitto, the historian and the simulator
# and the tunnel's latest handshake are recorded (in $SOAK_OUT, default a
# directory ./soak-DATE-TIME, kept; the production log is copied there
# only when a check failed).  Then:
#
#   rekeys:  the hub saw a new handshake at least every 150 s on average
#            (WireGuard rekeys every 120 s: REKEY_AFTER_TIME);
#   loss:    every seq 1..N of every node, N as the simulator reports it,
#            is in the log exactly once, and nothing else; no torn line;
#   memory:  flat: for every process, the largest VmRSS of the last third
#            of the samples is at most 10% + 1 MiB above the largest of
#            the first third (not with SOAK_MEMORY=0);
#   throughput: printed, not checked: the readings over the seconds from
#            the start to the last of them in the log, and each
#            process's CPU time per reading (also in throughput.txt).
#
# The simulator keeps acknowledged readings as resend history, up to
# --spool-max entries per node (32 bytes each in memory): its memory grows
# by design until that bound.  The soak sets the bound (SOAK_SPOOL_MAX,
# default SOAK_RATE * SOAK_SECONDS / 10, at least 500: a tenth of the
# run) so that it is reached well within the first third of the samples;
# the flat check then proves that nothing else grows.  (An unacknowledged
# reading is never evicted: a bound too small for the backlog shows up as
# "lost" readings, and the loss checks fail.)
#
# Use a build without sanitizers (scripts/build.sh build): ASan's
# quarantine makes memory grow by design.  Needs root, mosquitto.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/plant.sh
. "$(dirname "$0")/plant.sh"

secs=${SOAK_SECONDS:-3600}
nodes=${SOAK_NODES:-100}
rate=${SOAK_RATE:-10}
sample=${SOAK_SAMPLE:-30}
spool_max=${SOAK_SPOOL_MAX:-$((rate * secs / 10))}
case $spool_max in ''|*[!0-9]*) ;; *) [ "$spool_max" -ge 500 ] || spool_max=500 ;; esac
for v in "$secs" "$nodes" "$rate" "$sample" "$spool_max"; do
	case $v in ''|*[!0-9]*|0) echo "soak: SOAK_* must be positive integers" >&2
	    exit 2 ;; esac
done
[ "$nodes" -le 999 ] || { echo "soak: at most 999 nodes" >&2; exit 2; }
lib_require_root
lib_require_cmds ip mosquitto mosquitto_passwd ss timeout getent ping awk wg \
    nft
getent group mosquitto >/dev/null || lib_skip "no mosquitto group"
lib_require_wgu
plant_programs
srcdir=${WGU_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
out=${SOAK_OUT:-$(pwd)/soak-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out" || exit 1
out=$(cd "$out" && pwd)
lib_init
sim_pid=''
plant_logs=$out
plant_init k 192.168.72
plant_tunnel
plant_hub_setup "$(plant_node_list "$nodes")"
check_or_stop "broker listens on 10.0.0.1:1883" "$out/broker.log" \
    plant_start_broker "$hub"
plant_start_historian
wait_until 10 historian_subscribed
ip netns exec "$edge" "$SIM" --broker 10.0.0.1 --node-id edge \
    --nodes "$nodes" --password-file "$hubdir/clients/sensors.pw" \
    --topic-prefix "$prefix" --rate "$rate" --duration "$secs" \
    --spool-dir "$spool" --spool-max "$spool_max" \
    >"$out/sim.out" 2>"$out/sim.log" &
sim_pid=$!
lib_pids="$lib_pids $sim_pid"

rss() { # PID: VmRSS in KiB, or 0
	awk '/^VmRSS:/ { print $2; f = 1 } END { if (!f) print 0 }' \
	    "/proc/$1/status" 2>/dev/null || echo 0
}
cpu() { # PID: user + system CPU time in clock ticks (all threads), or 0
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" \
	    2>/dev/null || echo 0
}
hub_wgu=$(plant_daemon_pid hub || echo 0)
edge_wgu=$(plant_daemon_pid edge || echo 0)
echo "soak: $nodes nodes x $rate/s for $secs s (spool history $spool_max" \
    "per node); samples every $sample s in $out/samples.tsv"
echo "t_s	hub_wgu_kib	edge_wgu_kib	mosquitto_kib	historian_kib	sim_kib	latest_handshake	logged_lines	hub_wgu_cpu	edge_wgu_cpu	mosquitto_cpu	historian_cpu	sim_cpu" \
    >"$out/samples.tsv"
t0=$(date +%s)
while :; do
	t=$(($(date +%s) - t0))
	hs=$(wg show "$hif" latest-handshakes 2>/dev/null | awk '{ print $2 }')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
	    "$t" "$(rss "$hub_wgu")" "$(rss "$edge_wgu")" "$(rss "$broker_pid")" \
	    "$(rss "$hist_pid")" "$(rss "$sim_pid")" "${hs:-0}" \
	    "$(wc -l <"$prod" 2>/dev/null || echo 0)" "$(cpu "$hub_wgu")" \
	    "$(cpu "$edge_wgu")" "$(cpu "$broker_pid")" "$(cpu "$hist_pid")" \
	    "$(cpu "$sim_pid")" >>"$out/samples.tsv"
	is_running "$sim_pid" || break
	[ "$t" -ge "$secs" ] && break
	# The sampling interval: time itself, not a condition.
	sleep "$sample"
done
check "daemons, broker and historian alive through the run" sh -c "
    for p in $hub_wgu $edge_wgu $broker_pid $hist_pid; do
    [ -d /proc/\$p ] || exit 1; done"
check "simulator finishes (everything acknowledged)" wait_exit "$sim_pid" 1200
check "simulator: nothing pending, nothing lost" sh -c "
    [ \$(grep -c 'pending 0, lost 0 ' '$out/sim.out') = $nodes ]"

# ---------------------------------------------------------------- rekeys
hs_count=$(awk 'NR > 1 && $7 > 0 { print $7 }' "$out/samples.tsv" | sort -u |
    wc -l)
hs_min=$((secs / 150))
echo "  handshakes seen: $hs_count distinct (at least $hs_min expected)"
check "rekeys: the handshake count grows (>= 1 per 150 s)" \
    [ "$hs_count" -ge "$hs_min" ]

# ---------------------------------------------------------------- loss
# generated: "node boot count" from the simulator's closing report.
grep -E '^edge-[0-9]+: generated ' "$out/sim.out" |
    sed 's/^\([^:]*\): generated \([0-9]*\),.*(boot \([0-9]*\),.*/\1 \3 \2/' \
    >"$lib_tmp/generated"
wanted=$(awk '{ s += $3 } END { print s + 0 }' "$lib_tmp/generated")
# The historian may lag behind the broker on a busy machine (the broker
# queues for it): wait while the log keeps growing, give up after 30 s
# without a new line.
# all_or_more: the log holds $wanted lines, or more than $last.
all_or_more() {
	now=$(wc -l <"$prod")
	[ "$now" -ge "$wanted" ] || [ "$now" -gt "$last" ]
}
last=-1
while wait_until 30 all_or_more && [ "$now" -lt "$wanted" ]; do
	last=$now
done
# Throughput: the readings over the time from the simulator's start to
# the last of them in the log; CPU per reading of each process from the
# run's start (sim: to its last sample).
t_all=$(($(date +%s) - t0))
[ "$t_all" -gt 0 ] || t_all=1
tck=$(getconf CLK_TCK)
printf '%s\t%s\t%s\t%s\t%s\n' "$(cpu "$hub_wgu")" "$(cpu "$edge_wgu")" \
    "$(cpu "$broker_pid")" "$(cpu "$hist_pid")" \
    "$(awk -F'\t' 'END { print $13 }' "$out/samples.tsv")" >"$lib_tmp/cpu_end"
echo "  throughput: $now of $wanted readings in the log ${t_all} s after the" \
    "start: $((now / t_all)) readings/s (offered $((nodes * rate))/s for $secs s)"
awk -F'\t' -v n="$now" -v tck="$tck" 'NR == FNR { if (FNR == 2)
	for (i = 9; i <= 13; i++) s[i - 8] = $i; next }
	{ split("hub-wgu edge-wgu mosquitto historian sim", name, " ")
	  for (i = 1; i <= 5; i++) printf "  cpu %-10s %6.1f s, %5.1f us a reading\n",
	    name[i], ($i - s[i]) / tck, n ? ($i - s[i]) / tck * 1e6 / n : 0 }' \
    "$out/samples.tsv" "$lib_tmp/cpu_end" | tee "$out/throughput.txt"
kill -TERM "$hist_pid"
wait_exit "$hist_pid" 300
log_keys "$prod" >"$lib_tmp/keys" 2>"$lib_tmp/torn"
[ -z "$(tail -c 1 "$prod" | tr -d '\n')" ] || echo "TORN tail" >>"$lib_tmp/torn"
logged=$(wc -l <"$lib_tmp/keys")
echo "  $wanted readings generated, $logged logged"
check "loss: simulator generated about $((secs * rate * nodes)) readings" \
    [ "$wanted" -ge $((secs * rate * nodes * 9 / 10)) ]
# The store (industrial_production.db, on by default) holds what the log
# holds, once each (unique on node, boot, seq).
db=${prod%.log}.db
stored=$("$(dirname "$WGU")/wgu-query" --db "$db" --timing --format csv \
    2>&1 >/dev/null | sed -n 's/^wgu-query: \([0-9]*\) rows.*/\1/p')
check "store: every logged reading in $(basename "$db") ($logged)" \
    [ "${stored:-0}" = "$logged" ]
check "loss: whole lines only" sh -c "[ ! -s '$lib_tmp/torn' ] ||
    { head -n 3 '$lib_tmp/torn'; exit 1; }"
sort "$lib_tmp/keys" | uniq -d >"$lib_tmp/twice"
check "loss: no reading twice" sh -c "[ ! -s '$lib_tmp/twice' ] ||
    { head -n 3 '$lib_tmp/twice'; exit 1; }"
# With no duplicate, seq 1..N once each is: N lines, smallest 1, largest N.
check "loss: every seq 1..N of every node (N as generated), nothing else" \
    awk 'NR == FNR { want[$1 " " $2] = $3; next }
	{ k = $1 " " $2; c[k]++; if (!(k in lo) || $3 < lo[k]) lo[k] = $3
	  if ($3 > hi[k]) hi[k] = $3 }
	END {
		for (k in want) if (c[k] != want[k] || (want[k] && (lo[k] != 1 ||
		    hi[k] != want[k]))) { print "  " k ": want " want[k] \
		    ", logged " c[k] + 0 " (" lo[k] ".." hi[k] ")"; bad = 1 }
		for (k in c) if (!(k in want)) { print "  unexpected " k; bad = 1 }
		exit bad
	}' "$lib_tmp/generated" "$lib_tmp/keys"

# ---------------------------------------------------------------- memory
flat() { # COLUMN NAME
	awk -F'\t' -v c="$1" -v name="$2" 'NR > 1 { v[++n] = $c }
	END {
		third = int(n / 3); if (third < 1) third = 1
		for (i = 1; i <= third; i++) if (v[i] > a) a = v[i]
		for (i = n - third + 1; i <= n; i++) if (v[i] > b) b = v[i]
		limit = a * 1.10 + 1024
		printf "  %-10s first third max %7d KiB, last third max %7d KiB" \
		    " (limit %d)\n", name, a, b, limit
		exit !(a > 0 && b <= limit)
	}' "$out/samples.tsv"
}
# SOAK_MEMORY=0 (scripts/bench-pipeline.sh): a short run at full load,
# where queues grow by design, so no memory check.
[ "${SOAK_MEMORY:-1}" = 0 ] ||
for c in "2 hub-wgu" "3 edge-wgu" "4 mosquitto" "5 historian" "6 sim"; do
	check "memory flat: ${c#* }" flat ${c%% *} "${c#* }"
done
# The production log (some 250 bytes a reading) only when it is evidence.
if [ "$lib_failed" -gt 0 ]; then
	cp "$prod" "$out/" 2>/dev/null
	echo "soak: samples, logs and the production log kept in $out"
else
	echo "soak: samples and logs kept in $out"
fi
lib_summary
