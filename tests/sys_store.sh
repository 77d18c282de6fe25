#!/bin/sh
# The historian's store end to end: the real plant (tunnel, hardened
# broker, wgu-sim with three nodes, wgu-historian with its default
# industrial_production.db beside the log), faults, and wgu-query.
#
#   faults:  kill -9 of the historian mid-batch (restarted: it catches the
#            store up from its recorded log position); the historian
#            stopped, the database and its -wal/-shm deleted, restarted
#            (rebuilt from the log); the log rotated (moved aside,
#            SIGHUP); afterwards every reading of the two logs is
#            in the store exactly once, and nothing else is, and
#            `wgu-historian --rebuild` of the logs gives the same rows;
#            kill -9 mid --rebuild, and the next start makes it anew.
#   queries: while the historian runs (read-only beside the writer); table
#            (aligned, a header), CSV (a header, one row a reading), JSON
#            lines against the log; --every 1m counts add up to the log's
#            per node; events against the episodes the log's statuses make;
#            gaps open and closed on a crafted log; bad input: exit 2 for
#            usage, 1 for a node or database that is not there.
#
# Needs root, mosquitto and its clients; exits 77 otherwise.  About 50 s.
# WGU_BIN names wgu; wgu-sim, wgu-historian, wgu-query beside it.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/plant.sh
. "$(dirname "$0")/plant.sh"

plant_require timeout ping
QUERY=$(dirname "$WGU")/wgu-query
plant_need "$QUERY"
plant_init s 192.168.86
db=${prod%.log}.db

plant_tunnel
plant_hub_setup edge-01,edge-02,edge-03
check "broker listens" plant_start_broker "$hub"
plant_start_historian
check_or_stop "historian subscribed" "$lib_tmp/historian.log" \
    wait_until 10 historian_subscribed
ip netns exec "$edge" "$SIM" --broker 10.0.0.1 --node-id edge --nodes 3 \
    --password-file "$hubdir/clients/sensors.pw" --topic-prefix "$prefix" \
    --rate 20 --cycle 8 --seed 14 --duration 22 --spool-dir "$lib_tmp/spool" \
    >"$lib_tmp/sim.out" 2>>"$lib_tmp/sim.log" &
sim_pid=$!
lib_pids="$lib_pids $sim_pid"

q() { "$QUERY" --db "$db" "$@"; }

sleep 4
check "store beside the log, in WAL mode" sh -c "
    [ -s '$db' ] && [ -e '$db-wal' ]"
check "wgu-query reads while the historian writes" sh -c "
    '$QUERY' --db '$db' nodes --format csv | grep -q '^edge-02,'"
# kill -9 between two commits of the store (about one a second, 60
# readings a second): the batch in flight is lost to the store, not to
# the log.
sleep 2.05
kill -KILL "$hist_pid"
wait "$hist_pid" 2>/dev/null
sleep 1
plant_start_historian
check "restart after kill -9: store caught up from its position" \
    wait_until 10 grep -q 'log lines read to catch up' "$lib_tmp/historian.log"
sleep 5
kill -TERM "$hist_pid"
check "historian stops on SIGTERM" wait_exit "$hist_pid" 100
rm -f "$db" "$db-wal" "$db-shm"
plant_start_historian
check "database deleted while stopped: rebuilt from the log" \
    wait_until 10 sh -c "grep 'log lines read to catch up' \
    '$lib_tmp/historian.log' | tail -n 1 | grep -qv ' 0 readings added'"
# logrotate: the log moved aside, SIGHUP; the store goes on in the new
# file (its position names the new file from the first line on).
sleep 3
mv "$prod" "$prod.1"
kill -HUP "$hist_pid"
check "SIGHUP: a new log" wait_until 10 test -s "$prod"
check "simulator finishes (all acknowledged)" wait_exit "$sim_pid" 600
for n in edge-01 edge-02 edge-03; do
	awk -v n="$n" '$1 == "R" { print n, $2, $3 }' \
	    "$lib_tmp/spool/$n/spool.log"
done | sort -u >"$lib_tmp/expected"
# all_logged reads $prod: both files for it.
all_logged_rotated() {
	log_keys "$prod.1" "$prod" 2>/dev/null | sort -u >"$lib_tmp/logged"
	! comm -23 "$1" "$lib_tmp/logged" | grep -q .
}
wait_until 20 all_logged_rotated "$lib_tmp/expected"
sleep 1
kill -TERM "$hist_pid"
check "historian stops on SIGTERM" wait_exit "$hist_pid" 100

# ---------------------------------------------------------------- agree
grep 'catch up' "$lib_tmp/historian.log" | sed 's/^/  /'
log_keys "$prod.1" "$prod" | sort >"$lib_tmp/log.keys"
check "every spooled reading in the log" sh -c "
    ! sort -u '$lib_tmp/log.keys' | comm -13 - '$lib_tmp/expected' | grep -q ."
q --format csv | awk -F, 'NR > 1 { print $1, $3, $4 }' | sort \
    >"$lib_tmp/db.keys"
echo "  $(wc -l <"$lib_tmp/log.keys") log lines, $(wc -l \
    <"$lib_tmp/db.keys") store rows"
check "log and store hold the same readings, each once" sh -c "
    [ -s '$lib_tmp/db.keys' ] && cmp -s '$lib_tmp/log.keys' '$lib_tmp/db.keys' &&
    [ -z \"\$(uniq -d '$lib_tmp/db.keys')\" ]"
check "--rebuild of the log gives the same rows" sh -c "
    '$HIST' --seed-log '$prod.1' --log '$prod' --db '$lib_tmp/re.db' \
    --rebuild >/dev/null &&
    '$QUERY' --db '$lib_tmp/re.db' --format csv >'$lib_tmp/re.csv' &&
    '$QUERY' --db '$db' --format csv | cmp -s - '$lib_tmp/re.csv'"

# ---------------------------------------------------------------- formats
rows=$(wc -l <"$lib_tmp/log.keys")
check "csv: a header and one row a reading" sh -c "
    q() { '$QUERY' --db '$db' \"\$@\"; }
    [ \"\$(q --format csv | head -n 1)\" = \
    'node,ts,boot,seq,p,t,v,other,status,guarantee,received' ] &&
    [ \$(q --format csv | wc -l) = $((rows + 1)) ]"
check "json: one object a reading, numbers as numbers" sh -c "
    q() { '$QUERY' --db '$db' \"\$@\"; }
    [ \$(q --format json | wc -l) = $rows ] &&
    q --format json --node edge-01 | head -n 1 | grep -Eq \
    '^\\{\"node\":\"edge-01\",\"ts\":\"[0-9T:.-]+Z\",\"boot\":[0-9]+,\"seq\":1,\"p\":[0-9.]+,'"
check "table: aligned under a header" sh -c "
    q() { '$QUERY' --db '$db' \"\$@\"; }
    q --format table --node edge-02 >'$lib_tmp/table' &&
    head -n 1 '$lib_tmp/table' | grep -Eq '^node +ts +boot +seq +p +t +v ' &&
    [ \$(awk '{ print index(\$0, \" exactly-once\") }' '$lib_tmp/table' |
    sed 1d | sort -u | wc -l) = 1 ]"
# --every 1m: per node the counts add up to its readings in the log.
q --every 1m --format csv | awk -F, 'NR > 1 { c[$1] += $3 }
    END { for (n in c) print n, c[n] }' | sort >"$lib_tmp/every"
awk '{ c[$1]++ } END { for (n in c) print n, c[n] }' "$lib_tmp/log.keys" |
    sort >"$lib_tmp/every.log"
check "--every 1m: counts per node as in the log" cmp "$lib_tmp/every" \
    "$lib_tmp/every.log"
check "--every 1m as a table: its header and aligned rows" sh -c "
    '$QUERY' --db '$db' --every 1m --format table >'$lib_tmp/every.table' &&
    head -n 1 '$lib_tmp/every.table' | grep -Eq \
    '^node +start +count +p_min +p_avg +p_max +t_min .* status\$' &&
    [ \$(awk '{ print length(\$0) }' '$lib_tmp/every.table' | sort -u |
    wc -l) = 1 ]"
check "--field p --every 1m: min <= avg <= max" sh -c "
    '$QUERY' --db '$db' --field p --every 1m --format csv | awk -F, '
    NR == 1 { ok = \$4 == \"p_min\" } NR > 1 && !(\$4 <= \$5 && \$5 <= \$6) {
    ok = 0 } END { exit !ok }'"
# events: the episodes the log's statuses make (runs of status > 0 per
# node by device time).  Readings of one node at the same device time are
# one instant: a normal one beside an anomalous one lies between nothing
# (wgu-query's rule), so each instant counts with its worst status.
awk 'match($0, /"node_id":"[^"]*"/) { n = substr($0, RSTART + 11,
    RLENGTH - 12); match($0, /"ts":[0-9]+/); t = substr($0, RSTART + 5,
    RLENGTH - 5); match($0, /"status":[0-9]/); print n, t,
    substr($0, RSTART + 9, 1) }' "$prod.1" "$prod" | sort -k1,1 -k2,2n |
    awk '$1 == n && $2 == t { if ($3 > s) s = $3; next }
    NR > 1 { print n, t, s } { n = $1; t = $2; s = $3 }
    END { if (NR) print n, t, s }' |
    awk '$1 != n { n = $1; prev = 0 } $3 > 0 && prev == 0 { e[$1]++ }
    { prev = $3 } END { for (k in e) print k, e[k] }' | sort \
    >"$lib_tmp/episodes.log"
q events --format csv | awk -F, 'NR > 1 { e[$1]++ }
    END { for (k in e) print k, e[k] }' | sort >"$lib_tmp/episodes"
echo "  episodes: $(tr '\n' ' ' <"$lib_tmp/episodes")"
check "events: one per episode in the log" sh -c "
    [ -s '$lib_tmp/episodes' ] &&
    cmp -s '$lib_tmp/episodes' '$lib_tmp/episodes.log'"
check "events --status 2: critical episodes only" sh -c "
    '$QUERY' --db '$db' events --status 2 --format csv | awk -F, '
    NR > 1 && \$7 != 2 { exit 1 }'"
check "gaps: none open after the run" sh -c "
    ! '$QUERY' --db '$db' gaps --format csv | grep -q ',open\$'"

# gaps on a crafted log: seq 5 of n001 never came, 8..9 came late.
python3 "$srcdir/scripts/gen-log.py" 2 12 >"$lib_tmp/g.log"
grep -v '"node_id":"n001","timestamp":[0-9]*,"boot_id":1,"seq":\(5\|8\|9\),' \
    "$lib_tmp/g.log" >"$lib_tmp/g2.log"
grep '"node_id":"n001","timestamp":[0-9]*,"boot_id":1,"seq":\(8\|9\),' \
    "$lib_tmp/g.log" | sed 's/"received":[0-9]*/"received":1900000000000/' \
    >>"$lib_tmp/g2.log"
"$HIST" --log "$lib_tmp/g2.log" --db "$lib_tmp/g.db" --rebuild >/dev/null
check "gaps: open and closed ranges" sh -c "
    [ \"\$('$QUERY' --db '$lib_tmp/g.db' gaps --format csv)\" = \
    'node,boot,from,to,missing,state
n001,1,5,5,1,open
n001,1,8,9,2,closed' ]"

# --retain: the crafted log's readings are a year old; a historian with
# --retain 1 (no broker needed for this) deletes them from the store at
# start, and the log keeps every line.
cp "$lib_tmp/g2.log" "$lib_tmp/r.log"
timeout 30 "$HIST" --broker 127.0.0.1 --port 1 --log "$lib_tmp/r.log" \
    --retain 1 --duration 2 --color never >"$lib_tmp/retain.out" 2>&1
check "--retain 1: old readings leave the store, not the log" sh -c "
    grep -q '[1-9][0-9]* readings older than 1 days deleted' \
    '$lib_tmp/retain.out' &&
    [ \$('$QUERY' --db '$lib_tmp/r.db' --format csv | wc -l) = 1 ] &&
    cmp -s '$lib_tmp/g2.log' '$lib_tmp/r.log'"

# kill -9 in the middle of a --rebuild (it writes without syncing): the
# next start finds the store unfinished, moves it aside and makes it anew
# from the log, with the rows a whole --rebuild gives.
python3 "$srcdir/scripts/gen-log.py" 50 4000 >"$lib_tmp/k.log"
"$HIST" --log "$lib_tmp/k.log" --db "$lib_tmp/k2.db" --rebuild >/dev/null
killed=no
for attempt in 1 2 3; do
	rm -f "$lib_tmp/k.db"*
	"$HIST" --log "$lib_tmp/k.log" --db "$lib_tmp/k.db" --rebuild \
	    >/dev/null 2>&1 &
	pid=$!
	# The first commit (100,000 rows) is on disk: kill it there.
	i=0
	while [ "$(stat -c %s "$lib_tmp/k.db" 2>/dev/null || echo 0)" \
	    -lt 2000000 ] && [ $i -lt 400 ]; do
		sleep 0.02
		i=$((i + 1))
	done
	kill -9 "$pid" 2>/dev/null && killed=yes
	wait "$pid" 2>/dev/null
	[ $killed = yes ] && break
done
echo "  killed mid-rebuild: $killed (attempt $attempt)"
timeout 60 "$HIST" --broker 127.0.0.1 --port 1 --log "$lib_tmp/k.log" \
    --db "$lib_tmp/k.db" --duration 1 --color never >"$lib_tmp/k.out" 2>&1
check "kill -9 mid --rebuild: the next start makes the store anew" sh -c "
    [ $killed = yes ] && grep -q 'unreadable, moved to' '$lib_tmp/k.out' &&
    '$QUERY' --db '$lib_tmp/k.db' --format csv >'$lib_tmp/k.csv' &&
    [ \$(wc -l <'$lib_tmp/k.csv') = 200001 ] &&
    '$QUERY' --db '$lib_tmp/k2.db' --format csv | cmp -s - '$lib_tmp/k.csv'"

# ---------------------------------------------------------------- errors
# exit_is STATUS COMMAND...: COMMAND exits STATUS with one line on stderr.
exit_is() {
	ei_want=$1
	shift
	"$@" >/dev/null 2>"$lib_tmp/err"
	ei_got=$?
	[ "$ei_got" = "$ei_want" ] && [ "$(wc -l <"$lib_tmp/err")" = 1 ] &&
	    return 0
	echo "    exit $ei_got: $(cat "$lib_tmp/err")"
	return 1
}
check "unknown option: exit 2" exit_is 2 q --colour
check "impossible time range: exit 2" exit_is 2 q --since -1h --until -2h
check "bad time: exit 2" exit_is 2 q --since yesterday
check "bad --every: exit 2" exit_is 2 q --every 0m
check "unknown view: exit 2" exit_is 2 q eventz
check "node that does not exist: exit 1" exit_is 1 q --node nosuch
check "database that does not exist: exit 1" exit_is 1 \
    "$QUERY" --db "$lib_tmp/none.db"
check "not a database: exit 1" exit_is 1 "$QUERY" --db "$prod"
lib_summary
