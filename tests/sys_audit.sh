#!/bin/sh
# The record an auditor can trust (#14): the historian's chained log and
# signed checkpoints, checked by `wgu-historian verify`, across everything
# that happens to a real log.  The broker (hardened configuration of
# scripts/hub-setup.sh) and the historian run on the loopback of one
# network namespace this script creates.
#
#   keygen: the private key 0600 and the historian's, never replaced.
#   life:   200 readings; logrotate (rename + SIGHUP); readings in the new
#           file, kill -9 of the historian while it writes, a torn last
#           line (a power loss) appended while it is down, a restart that
#           logs the rest; kill -9 again, a rotation while it is down and a
#           start on an empty log; afterwards verify says the three files
#           are intact, every reading once.
#   tamper: on copies, verify names the file and line of one byte changed,
#           a line deleted, two lines swapped, a line inserted, the last
#           100 lines cut off, a file rewritten with a recomputed chain,
#           and a checkpoint changed.
#
# Needs root, mosquitto, mosquitto_pub, mosquitto_passwd and python3 (the
# chain recomputed with hashlib's BLAKE2s, as a forger would); exits 77
# otherwise.  About 30 s.  WGU_BIN names wgu; wgu-historian is taken from
# beside it.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/plant.sh
. "$(dirname "$0")/plant.sh"

plant_require_hub mosquitto_pub python3 stat
lib_init
chmod 711 "$lib_tmp"	# the broker runs as user mosquitto

ns=au$$
prefix=plant1/area1/line1
hubdir=$lib_tmp/hub
logdir=$lib_tmp/audit
prod=$logdir/industrial_production.log
cps=$logdir/industrial_production.checkpoints
starts=0

mkdir "$logdir"
# The historian, user wgu-historian once set up, makes the new file.
chown wgu-historian "$logdir"
ns_create "$ns" || { not_ok "namespace"; lib_summary; }
sh "$srcdir/scripts/hub-setup.sh" --dir "$hubdir" --vpn-address 127.0.0.1 \
    --nodes edge-01 --topic-prefix "$prefix" \
    >"$lib_tmp/hub-setup.log" 2>&1 ||
    { not_ok "hub-setup"; lib_summary; }
check "broker on 127.0.0.1:1883 in the namespace" \
    plant_start_broker "$ns" || lib_summary

# ------------------------------------------------- keygen
check "keygen writes the key pair" "$HIST" keygen "$logdir"
check "the private key is 0600 and the historian's" sh -c "
    [ \"\$(stat -c '%a %U' '$logdir/historian.key')\" = '600 wgu-historian' ]"
check "keygen never replaces a key" sh -c "
    ! '$HIST' keygen '$logdir' 2>/dev/null"

start_historian() {
	starts=$((starts + 1))
	hist_out=$lib_tmp/historian.$starts.log
	ip netns exec "$ns" "$HIST" --broker 127.0.0.1 \
	    --password-file "$hubdir/clients/historian.pw" \
	    --topic-prefix "$prefix" --log "$prod" --checkpoint-interval 1 \
	    --color never >"$hist_out" 2>&1 &
	hist_pid=$!
	lib_pids="$lib_pids $hist_pid"
	wait_until 10 grep -q '^-- connected to 127.0.0.1:1883, subscribed' \
	    "$hist_out" && sleep 0.5	# the SUBACK follows the CONNACK
}
# publish FROM TO: edge-01's readings seq FROM..TO of boot 1, QoS 1.
publish() {
	awk -v s0="$1" -v s1="$2" 'BEGIN { for (s = s0; s <= s1; s++)
		printf "{\"timestamp\":%.0f,\"node_id\":\"edge-01\"," \
		    "\"boot_id\":1,\"seq\":%d,\"data\":{\"p\":6.02," \
		    "\"t\":64.8,\"v\":2.11},\"status\":0}\n",
		    1764051600000 + s * 1000, s }' |
	ip netns exec "$ns" mosquitto_pub -h 127.0.0.1 -q 1 -l -i pub-edge-01 \
	    -u edge-01 -P "$(cat "$hubdir/clients/edge-01.pw")" \
	    -t "$prefix/edge-01/telemetry"
}
# has FILE COUNT: FILE holds at least COUNT whole lines.
has() { [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ]; }

# ------------------------------------------------- life
check "historian started" start_historian || lib_summary
publish 1 200
check "200 readings logged" wait_until 20 has "$prod" 200
sleep 1.5	# an interval checkpoint
mv "$prod" "$prod.1"
kill -HUP "$hist_pid"
sleep 0.5
publish 201 400
check "logrotate: the new file takes the next 200" wait_until 20 has "$prod" 200
publish 401 2400 &
pub_pid=$!
check "kill -9 while it writes" wait_until 20 has "$prod" 400
kill -KILL "$hist_pid"
wait "$pub_pid"
wait_exit "$hist_pid" 50
printf '{"received":1764051600000,"topic":"plant1/ar' >>"$prod"
check "historian restarted" start_historian || lib_summary
# A reading acknowledged but not yet written at the kill is lost to this
# publisher, which answers no resend request: it sends them all again, as
# a node's spool would, and the duplicates are dropped.
publish 401 2400
check "the rest logged after the restart" wait_until 30 has "$prod" 2200
check "the torn line cut off at the start" \
    grep -q 'torn last line cut off' "$hist_out"
# kill -9 again, no checkpoint at exit: the next file chains from the
# last line of the rotated one.
publish 2401 2450
check "50 more logged" wait_until 20 has "$prod" 2250
kill -KILL "$hist_pid"
wait_exit "$hist_pid" 50
mv "$prod.1" "$prod.2"
mv "$prod" "$prod.1"
check "historian started on an empty log" start_historian || lib_summary
publish 2451 2600
check "150 readings in the newest file" wait_until 20 has "$prod" 150
kill -TERM "$hist_pid"
check "historian stops again" wait_exit "$hist_pid" 100
grep -h 'checkpoints written' "$lib_tmp"/historian.*.log | sed 's/^/  /'

log_keys "$prod.2" "$prod.1" "$prod" >"$lib_tmp/keys" 2>"$lib_tmp/keys.err"
check "every reading in the logs exactly once, no torn line" sh -c "
    [ ! -s '$lib_tmp/keys.err' ] && [ \$(wc -l <'$lib_tmp/keys') = 2600 ] &&
    [ \$(sort -u '$lib_tmp/keys' | wc -l) = 2600 ]"
# verify VERDICT_FILE ARGS...: runs verify; its exit status.
verify() {
	vf=$1
	shift
	"$HIST" verify "$@" >"$vf" 2>&1
}
check "verify: the three files intact (given in any order)" sh -c "
    '$HIST' verify '$prod' '$prod.2' '$prod.1' >'$lib_tmp/v.ok' 2>&1 &&
    grep -q '^wgu-historian verify: 2600 lines from .* intact' '$lib_tmp/v.ok'"
sed 's/^/  /' "$lib_tmp/v.ok"
check "verify: the newest two alone, anchored in a signed checkpoint" \
    verify "$lib_tmp/v.two" "$prod.1" "$prod"

# ------------------------------------------------- tamper
# tampered NAME: a fresh copy of the record in $lib_tmp/NAME; sets t.
tampered() {
	t=$lib_tmp/$1
	mkdir "$t"
	cp "$logdir"/industrial_production.* "$logdir/historian.pub" "$t/"
	tp=$t/industrial_production.log
}
# says NAME TEXT: verify of copy NAME fails and its verdict holds TEXT.
says() {
	verify "$t/verdict" "$tp.2" "$tp.1" "$tp" && return 1
	grep -qF "$2" "$t/verdict" || { sed 's/^/    /' "$t/verdict"; return 1; }
}

tampered byte
sed -i '57s/"seq":57,/"seq":58,/' "$tp.2"
check "one byte changed: line 57 named" \
    says byte "the record breaks at line 57 of $tp.2:"

tampered deleted
sed -i '100d' "$tp.1"
check "a line deleted: line 100 named" \
    says deleted "the record breaks at line 100 of $tp.1:"

tampered swapped
awk 'NR == 150 { keep = $0; next } { print } NR == 151 { print keep }' \
    "$tp.2" >"$t/x" && mv "$t/x" "$tp.2"
check "two lines swapped: lines 150 and 151 named" \
    says swapped "lines 150 and 151 of $tp.2 are swapped"

tampered inserted
sed -n 10p "$tp.1" >"$t/line10"
sed -i "120r $t/line10" "$tp.1"
check "a line inserted: line 121 named" \
    says inserted "line 121 of $tp.1 was inserted"

tampered cut
head -n 50 "$tp" >"$t/x" && mv "$t/x" "$tp"
check "the last 100 lines cut off: the file and line named" \
    says cut "$tp is cut short: it ends at line 50, but signed checkpoint"

tampered rewritten
# Line 1000 of the middle file changed, and the chain recomputed from the
# start through every file, as whoever holds the files but not the key
# could.
python3 - "$tp.2" "$tp.1" "$tp" <<'PY'
import hashlib, re, sys
prev = bytes(32)
for n, path in enumerate(sys.argv[1:]):
    out = []
    for i, line in enumerate(open(path).read().splitlines()):
        body = line[:-(10 + 64 + 2)]
        if n == 1 and i == 999:
            body = body.replace('"p":6.02', '"p":9.99')
        prev = hashlib.blake2s(prev + body.encode()).digest()
        out.append(body + ',"chain":"%s"}\n' % prev.hex())
    open(path, 'w').write(''.join(out))
PY
rewritten_range() {
	says rewritten "the record was rewritten between line" || return 1
	r=$(sed -n 's/.*rewritten between line \([0-9]*\) and line \([0-9]*\) of \([^:]*\):.*/\1 \2 \3/p' \
	    "$t/verdict")
	set -- $r
	echo "  named: lines $1 to $2 of $3"
	[ "$1" -le 1000 ] && [ "$2" -ge 1000 ] && [ "$3" = "$tp.1" ]
}
check "rewritten with a recomputed chain: the lines around 1000 named" \
    rewritten_range
check "... and the chain alone cannot tell" sh -c "
    '$HIST' verify --chain-only '$tp.2' '$tp.1' '$tp' >/dev/null"

tampered checkpoint
sed -i '2s/"line":\([0-9]\)/"line":9\1/' "$t/industrial_production.checkpoints"
check "a checkpoint changed: its line in the checkpoint file named" \
    says checkpoint "line 2 of the checkpoint file $t/industrial_production.checkpoints is not signed by this public key"

lib_summary
