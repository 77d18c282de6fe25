#!/bin/sh
# One node cannot break exactly-once for the others.  An authenticated node
# (edge-01) publishes ATTACK valid readings, each with a new boot_id: the
# first 2,000 with seq 5, so that each opens a gap (a resend request each,
# and again at every gap report, were they not rate-limited), the rest with
# seq 1, more than the historian's duplicate table once held in all.  Afterwards two other nodes deliver
# every reading three times: edge-02, which the historian knew before the
# attack, and edge-03, new after it.  Each of their readings must be in
# the log exactly once, a replayed reading of a boot the historian retired
# must be refused (reject log, counted), its resident memory must stay flat
# from the first 10,000 attack readings to the last, and its resend
# requests must stay within the rate limit.
#
# The broker (hardened configuration of scripts/hub-setup.sh) and the
# historian run on the loopback of one network namespace this script
# creates.  Needs root, mosquitto, mosquitto_pub and mosquitto_passwd;
# exits 77 otherwise.  About 40 s.  WGU_BIN names wgu; wgu-historian is
# taken from beside it.  ATTACK (default 70000) can be lowered by hand.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/plant.sh
. "$(dirname "$0")/plant.sh"

plant_require_hub mosquitto_pub
lib_init
chmod 711 "$lib_tmp"	# the broker runs as user mosquitto

attack=${ATTACK:-70000}
first=10000		# attack readings before the first memory sample
gappy=2000		# attack readings that each open a gap
victim=30		# readings per victim node, each delivered 3 times
ns=df$$
prefix=plant1/area1/line1
hubdir=$lib_tmp/hub
prod=$lib_tmp/prod.log

ns_create "$ns" || { not_ok "namespace"; lib_summary; }
sh "$srcdir/scripts/hub-setup.sh" --dir "$hubdir" --vpn-address 127.0.0.1 \
    --nodes edge-01,edge-02,edge-03 --topic-prefix "$prefix" \
    >"$lib_tmp/hub-setup.log" 2>&1 ||
    { not_ok "hub-setup"; lib_summary; }
plant_log_subscriptions
check "broker on 127.0.0.1:1883 in the namespace" \
    plant_start_broker "$ns" || lib_summary

# ASan's quarantine would hold freed memory and hide what is measured.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1" \
    ip netns exec "$ns" "$HIST" --broker 127.0.0.1 \
    --password-file "$hubdir/clients/historian.pw" --topic-prefix "$prefix" \
    --log "$prod" --color never >"$lib_tmp/historian.log" 2>&1 &
hist_pid=$!
lib_pids="$lib_pids $hist_pid"
t0=$(date +%s)

# Its live view says "subscribed" once it has sent SUBSCRIBE; the broker
# says when the subscription is in place.
check "historian subscribed" \
    wait_until 10 broker_subscribed wgu-historian "$prefix/+/telemetry" ||
    lib_summary

# readings NODE BOOT_FROM BOOT_TO SEQ_FROM SEQ_TO COPIES: valid payloads.
readings() {
	awk -v n="$1" -v b0="$2" -v b1="$3" -v s0="$4" -v s1="$5" -v c="$6" \
	    'BEGIN { for (b = b0; b <= b1; b++) for (s = s0; s <= s1; s++)
		for (k = 0; k < c; k++)
		printf "{\"timestamp\":1764051600000,\"node_id\":\"%s\"," \
		    "\"boot_id\":%d,\"seq\":%d,\"data\":{\"p\":6.02," \
		    "\"t\":64.8,\"v\":2.11},\"status\":0}\n", n, b, s }'
}
publish() { # NODE: lines on stdin, QoS 1, with NODE's own credentials
	ip netns exec "$ns" mosquitto_pub -h 127.0.0.1 -q 1 -l \
	    -i "pub-$1" -u "$1" -P "$(cat "$hubdir/clients/$1.pw")" \
	    -t "$prefix/$1/telemetry"
}
# logged NODE COUNT: the log holds COUNT lines of NODE.
logged() { [ "$(grep -c "\"node_id\":\"$1\"" "$prod" 2>/dev/null)" = "$2" ]; }
# handled NODE COUNT: the historian logged or dropped COUNT of NODE's.
handled() {
	[ $(($(grep -c "\"node_id\":\"$1\"" "$prod" 2>/dev/null) +
	    $(grep -c "^-- duplicate $1 " "$lib_tmp/historian.log"))) -ge "$2" ]
}
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$hist_pid/status"; }

readings edge-02 1 1 1 10 1 | publish edge-02
check "edge-02 logged before the attack" wait_until 10 logged edge-02 10

readings edge-01 1 "$gappy" 5 5 1 | publish edge-01
check "attack: $gappy readings with new boot_ids that each open a gap logged" \
    wait_until 30 logged edge-01 "$gappy"
readings edge-01 $((gappy + 1)) "$first" 1 1 1 | publish edge-01
check "attack: the first $first readings logged" \
    wait_until 30 logged edge-01 "$first"
rss1=$(rss)
readings edge-01 $((first + 1)) "$attack" 1 1 1 | publish edge-01
check "attack: all $attack readings with new boot_ids logged" \
    wait_until 90 logged edge-01 "$attack"
rss2=$(rss)
echo "  historian VmRSS ${rss1:-?} kB after $first readings, ${rss2:-?} kB" \
    "after $attack"
# The duplicate table the attack once filled grew by 8 MB over this span.
# AddressSanitizer's allocator warms up by some 3 MB more, once (the same
# with 130,000 readings).
limit=2048
grep -q __asan_init "$HIST" && limit=6144
check "historian memory flat under the attack (grew under $((limit / 1024)) MB)" \
    [ "$((${rss2:-99999} - ${rss1:-0}))" -lt "$limit" ]

# A replay of one of its first boots, retired since: refused with the
# reason, never logged again.
readings edge-01 1 1 5 5 1 | publish edge-01
refused() { grep -q '"reason":"boot retired' "$lib_tmp/prod.rejects.log"; }
check "a reading of a retired boot refused to the reject log" \
    wait_until 10 refused
check "... and not logged" logged edge-01 "$attack"

readings edge-02 1 1 11 "$victim" 3 | publish edge-02
readings edge-03 1 1 1 "$victim" 3 | publish edge-03
wait_until 30 handled edge-02 $((10 + 3 * (victim - 10))) &&
    wait_until 30 handled edge-03 $((3 * victim))
for n in edge-02 edge-03; do
	log_keys "$prod" | awk -v n="$n" '$1 == n' >"$lib_tmp/$n.keys"
	check "$n: every reading in the log exactly once after the attack" \
	    sh -c "[ \$(wc -l <'$lib_tmp/$n.keys') = $victim ] &&
	    [ \$(sort -u '$lib_tmp/$n.keys' | wc -l) = $victim ]"
done

kill -TERM "$hist_pid"
check "historian stops on SIGTERM" wait_exit "$hist_pid" 100
secs=$(($(date +%s) - t0))
line=$(grep 'wgu-historian summary' "$lib_tmp/historian.log" | tail -n 1)
echo "  $line"
requests=$(echo "$line" | sed -n 's/.* \([0-9]*\) resend requests.*/\1/p')
# RESEND_PER_NODE (16) per 10 s period, and one period more at most.
check "resend requests to the attacking node rate-limited" \
    [ "${requests:-99999}" -le $((16 * (secs / 10 + 2))) ]
check "historian: no write errors, the refused reading counted" sh -c "
    echo '$line' | grep -q ' 0 write errors.* 1 refused'"

lib_summary
