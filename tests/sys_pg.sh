#!/bin/sh
# PostgreSQL for many hubs end to end: the real plant (tunnel, hardened
# broker, wgu-sim with three nodes) and wgu-historian --pg into a real
# PostgreSQL 15 this test starts in the hub's namespace (initdb in the
# temporary directory, user postgres, port 55432 on the hub's loopback)
# and stops, beside the default SQLite store.
#
#   faults:  kill -9 of the historian mid-batch (restarted: PostgreSQL is
#            caught up from the plant's recorded position); PostgreSQL
#            stopped for 30 s mid-run (the historian logs on and catches
#            it up when it is back), the log rotated meanwhile (moved
#            aside, SIGHUP); afterwards every reading of the run is in
#            the logs, in SQLite and in PostgreSQL exactly once.
#   plants:  a second historian (plant south, a crafted log) into the
#            same database at the same time: each plant holds exactly its
#            own log's readings, and its own position.
#   queries: wgu-query --pg gives what wgu-query --db gives (readings,
#            --every, events, gaps, nodes); --plant selects a plant.
#   errors:  a bad conninfo: one clear line, for both programs.
#
# Needs root, mosquitto and its clients, postgresql-15; exits 77
# otherwise.  About 90 s (30 of them the outage).
# WGU_BIN names wgu; wgu-sim, wgu-historian, wgu-query beside it.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/plant.sh
. "$(dirname "$0")/plant.sh"

PGBIN=
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && PGBIN=$d; done
if [ -z "$PGBIN" ] || ! getent passwd postgres >/dev/null; then
	lib_skip "postgresql-15 not installed"
fi
plant_require timeout ping su
QUERY=$(dirname "$WGU")/wgu-query
plant_need "$QUERY"
plant_init g 192.168.87
db=${prod%.log}.db
port=55432
conninfo="host=127.0.0.1 port=$port dbname=wgu user=postgres"
pgdata=$lib_tmp/pg/data

pg_ctl() {
	ip netns exec "$hub" su postgres -s /bin/sh -c \
	    "$PGBIN/pg_ctl -D $pgdata -o '-k $lib_tmp/pg -p $port -c listen_addresses=127.0.0.1' -l $lib_tmp/pg/server.log $*" \
	    >>"$lib_tmp/pg_ctl.log" 2>&1
}
# shellcheck disable=SC2317 # the EXIT trap's
pg_cleanup() {
	[ -e "$pgdata/postmaster.pid" ] && pg_ctl stop -m immediate
	plant_cleanup
}
trap pg_cleanup EXIT
# psql SQL: one query's rows, fields separated by a space.
psql_q() {
	ip netns exec "$hub" "$PGBIN/psql" -h 127.0.0.1 -p "$port" -U postgres \
	    -d wgu -AtF ' ' -v ON_ERROR_STOP=1 -c "$1"
}
# pg_keys PLANT: "node boot seq" of the plant's readings, sorted.
pg_keys() {
	psql_q "SELECT n.name, r.boot, r.seq FROM readings r JOIN nodes n ON
	    n.id = r.node WHERE r.plant = '$1'" | sort
}
start_historian() {
	ip netns exec "$hub" "$HIST" --broker 10.0.0.1 \
	    --password-file "$hubdir/clients/historian.pw" \
	    --topic-prefix "$prefix" --log "$prod" --color never \
	    --pg "$conninfo" --plant north \
	    >>"$lib_tmp/historian.log" 2>&1 &
	hist_pid=$!
	lib_pids="$lib_pids $hist_pid"
}
# The log's lines, the rotated file's too.
log_lines() { cat "$prod.1" "$prod" 2>/dev/null | wc -l; }
# shellcheck disable=SC2317 # called by wait_until
all_logged_rotated() {
	log_keys "$prod.1" "$prod" 2>/dev/null | sort -u >"$lib_tmp/logged"
	! comm -23 "$1" "$lib_tmp/logged" | grep -q .
}

mkdir -p "$lib_tmp/pg"
chown postgres "$lib_tmp/pg"
t0=$(date +%s)
check_or_stop "initdb" "$lib_tmp/pg_ctl.log" su postgres -s /bin/sh -c \
    "$PGBIN/initdb -D $pgdata -A trust -U postgres >/dev/null"
check_or_stop "postgresql starts in the hub" "$lib_tmp/pg_ctl.log" \
    pg_ctl start -w
check_or_stop "database wgu" "$lib_tmp/pg_ctl.log" ip netns exec "$hub" \
    "$PGBIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc \
    "CREATE DATABASE wgu"
echo "  postgresql up in $(($(date +%s) - t0)) s"

# shellcheck disable=SC2119 # no endpoints argument
plant_tunnel
plant_hub_setup edge-01,edge-02,edge-03
check "broker listens" plant_start_broker "$hub"
hist_subscribed=0
start_historian
check_or_stop "historian subscribed" "$lib_tmp/historian.log" \
    wait_until 10 historian_subscribed
ip netns exec "$edge" "$SIM" --broker 10.0.0.1 --node-id edge --nodes 3 \
    --password-file "$hubdir/clients/sensors.pw" --topic-prefix "$prefix" \
    --rate 20 --cycle 8 --seed 15 --duration 48 --spool-dir "$lib_tmp/spool" \
    >"$lib_tmp/sim.out" 2>>"$lib_tmp/sim.log" &
sim_pid=$!
lib_pids="$lib_pids $sim_pid"

check "schema made, readings arrive in postgresql" wait_until 10 sh -c "
    [ \"\$(ip netns exec '$hub' '$PGBIN/psql' -h 127.0.0.1 -p $port \
    -U postgres -d wgu -Atc \"SELECT count(*) FROM readings\")\" -gt 0 ]"
check "readings partitioned by month" sh -c "
    ip netns exec '$hub' '$PGBIN/psql' -h 127.0.0.1 -p $port -U postgres \
    -d wgu -Atc \"SELECT c.relname FROM pg_inherits i JOIN pg_class c ON
    c.oid = i.inhrelid WHERE i.inhparent = 'readings'::regclass\" |
    grep -q \"^readings_\$(date -u +%Y_%m)\$\""

# kill -9 between two batches (or in one): what PostgreSQL committed has
# its position with it; the rest comes from the log after the restart.
sleep 1.55
kill -KILL "$hist_pid"
wait "$hist_pid" 2>/dev/null
start_historian
check "restart after kill -9: postgresql caught up again" wait_until 10 sh -c "
    [ \$(grep -c 'postgresql (plant north): connected' \
    '$lib_tmp/historian.log') -ge 2 ]"

# PostgreSQL stopped for 30 s mid-run.
sleep 2
pg_ctl stop -m fast -w
before=$(log_lines)
check "postgresql down: the historian says so" wait_until 10 grep -q \
    'postgresql (plant north): .*logging goes on' "$lib_tmp/historian.log"
# logrotate meanwhile: the rest of the old file, not yet in PostgreSQL,
# is read from the descriptor the historian kept.
sleep 12
mv "$prod" "$prod.1"
kill -HUP "$hist_pid"
check "logrotate during the outage: a new log" wait_until 10 test -s "$prod"
sleep 15
after=$(log_lines)
echo "  log lines during the outage: $before -> $after"
check "postgresql down 30 s: the historian logged on" [ "$after" -gt \
    $((before + 500)) ]
check "postgresql back" pg_ctl start -w
check "historian reconnects and catches up" wait_until 40 sh -c "
    [ \$(grep -c 'postgresql (plant north): connected' \
    '$lib_tmp/historian.log') -ge 3 ]"

# A second plant's historian into the same database meanwhile: its own
# crafted log (two nodes, a year ago), no broker.
python3 "$srcdir/scripts/gen-log.py" 2 300 >"$lib_tmp/south.prod"
timeout 60 ip netns exec "$hub" "$HIST" --broker 127.0.0.1 --port 1 \
    --log "$lib_tmp/south.prod" --no-db --pg "$conninfo" --plant south \
    --duration 3 --color never >"$lib_tmp/south.out" 2>&1
check "second plant: its log into the same database" grep -q \
    'postgresql (plant south): 600 readings added, 0 already there' \
    "$lib_tmp/south.out"

check "simulator finishes (all acknowledged)" wait_exit "$sim_pid" 600
for n in edge-01 edge-02 edge-03; do
	awk -v n="$n" '$1 == "R" { print n, $2, $3 }' \
	    "$lib_tmp/spool/$n/spool.log"
done | sort -u >"$lib_tmp/expected"
wait_until 20 all_logged_rotated "$lib_tmp/expected"
rows=$(log_lines)
check "postgresql level with the log" wait_until 20 sh -c "
    [ \"\$(ip netns exec '$hub' '$PGBIN/psql' -h 127.0.0.1 -p $port \
    -U postgres -d wgu -Atc \"SELECT count(*) FROM readings WHERE
    plant = 'north'\")\" = $rows ]"
kill -TERM "$hist_pid"
check "historian stops on SIGTERM" wait_exit "$hist_pid" 150

# ---------------------------------------------------------------- agree
grep 'postgresql' "$lib_tmp/historian.log" | sed 's/^/  /'
log_keys "$prod.1" "$prod" | sort >"$lib_tmp/log.keys"
check "every spooled reading in the log" sh -c "
    ! sort -u '$lib_tmp/log.keys' | comm -13 - '$lib_tmp/expected' | grep -q ."
"$QUERY" --db "$db" --format csv | awk -F, 'NR > 1 { print $1, $3, $4 }' |
    sort >"$lib_tmp/db.keys"
pg_keys north >"$lib_tmp/pg.keys"
echo "  $(wc -l <"$lib_tmp/log.keys") log lines, $(wc -l \
    <"$lib_tmp/db.keys") sqlite rows, $(wc -l <"$lib_tmp/pg.keys") postgresql rows"
check "log, sqlite and postgresql hold the same readings, each once" sh -c "
    [ -s '$lib_tmp/pg.keys' ] && cmp -s '$lib_tmp/log.keys' '$lib_tmp/db.keys' &&
    cmp -s '$lib_tmp/log.keys' '$lib_tmp/pg.keys' &&
    [ -z \"\$(uniq -d '$lib_tmp/pg.keys')\" ]"
# (gen-log.py's lines have no chain: not log_keys.)
sed -n 's/.*"node_id":"\([^"]*\)".*"boot_id":\([0-9]*\),"seq":\([0-9]*\),.*/\1 \2 \3/p' \
    "$lib_tmp/south.prod" | sort >"$lib_tmp/south.keys"
pg_keys south >"$lib_tmp/south.pg"
check "second plant: exactly its log's readings, no cross-talk" sh -c "
    [ \$(wc -l <'$lib_tmp/south.keys') = 600 ] && cmp -s '$lib_tmp/south.keys' '$lib_tmp/south.pg' &&
    [ \"\$(ip netns exec '$hub' '$PGBIN/psql' -h 127.0.0.1 -p $port \
    -U postgres -d wgu -Atc \"SELECT string_agg(plant, ',' ORDER BY plant)
    FROM log_position\")\" = north,south ]"
check "the wgu_readings view: names and times for SQL tools" sh -c "
    [ \"\$(ip netns exec '$hub' '$PGBIN/psql' -h 127.0.0.1 -p $port \
    -U postgres -d wgu -Atc \"SELECT count(*) FROM wgu_readings WHERE
    plant = 'north' AND node = 'edge-02' AND time > now() - interval '1 hour'\")\" \
    = \$(grep -c '^edge-02 ' '$lib_tmp/log.keys') ]"

# ---------------------------------------------------------------- queries
# same_as DB PLANT ARGS...: wgu-query ARGS gives the same non-empty
# answer from the SQLite store DB and from PLANT in PostgreSQL.
# shellcheck disable=SC2317 # called by check
same_as() {
	sa_db=$1 sa_plant=$2
	shift 2
	"$QUERY" --db "$sa_db" "$@" >"$lib_tmp/q.db" 2>&1
	ip netns exec "$hub" "$QUERY" --pg "$conninfo" --plant "$sa_plant" "$@" \
	    >"$lib_tmp/q.pg" 2>&1
	cmp -s "$lib_tmp/q.db" "$lib_tmp/q.pg" && [ -s "$lib_tmp/q.db" ] &&
	    return 0
	diff "$lib_tmp/q.db" "$lib_tmp/q.pg" | head -n 6 | sed 's/^/    /'
	return 1
}
# shellcheck disable=SC2317 # called by check
same() { same_as "$db" north "$@"; }
check "wgu-query --pg: the readings as with --db" same --format csv
check "wgu-query --pg: --node, --field, --since" same --node 'edge-0[12]' \
    --field t --since -10m --format csv
check "wgu-query --pg: --every 1m" same --every 1m --format csv
check "wgu-query --pg: --field p --every 10s" same --field p --every 10s \
    --format csv
check "wgu-query --pg: events" same events --format csv
check "wgu-query --pg: gaps" same gaps --format csv
check "wgu-query --pg: nodes" same nodes --format csv
# Data fields beyond p, t, v (a table in SQLite, jsonb in PostgreSQL)
# and one batch over 70 months (a partition each, more than a batch
# keeps apart): both stores rebuilt from one crafted log answer alike.
python3 - >"$lib_tmp/months.prod" <<'EOF'
import json
for i in range(1, 71):
    ts = 1500000000000 + i * 31 * 86400000
    print(json.dumps({"received": ts + 15, "ts": ts,
        "topic": "plant1/area1/line1/m1/telemetry",
        "guarantee": "exactly-once", "payload": {"node_id": "m1",
        "timestamp": ts, "boot_id": 1, "seq": i, "data": {"p": 5.0 + i,
        "t": 60.0, "v": 2.0, "x1": i / 4, "rpm": 1000 + i},
        "status": 0}}, separators=(",", ":")))
EOF
check "--rebuild --pg: 70 readings in 70 months into both stores" sh -c "
    ip netns exec '$hub' '$HIST' --log '$lib_tmp/months.prod' \
    --db '$lib_tmp/months.db' --rebuild --pg '$conninfo' --plant months |
    grep -q 'postgresql (plant months): rebuilt from 1 log: 70 lines, 70 readings'"
check "other fields: the readings alike" same_as "$lib_tmp/months.db" months \
    --format csv
check "other fields: --field x1 alike" same_as "$lib_tmp/months.db" months \
    --field x1 --format csv
check "other fields: --field rpm --every 1d alike" same_as \
    "$lib_tmp/months.db" months --field rpm --every 1d --format csv
check "wgu-query --pg without --plant: the plant as a column" sh -c "
    ip netns exec '$hub' '$QUERY' --pg '$conninfo' nodes --format csv |
    grep -q '^south,n001,' &&
    ip netns exec '$hub' '$QUERY' --pg '$conninfo' nodes --format csv |
    grep -q '^north,edge-03,'"

# ---------------------------------------------------------------- errors
check "historian: bad conninfo, one clear line first, exit 2" sh -c "
    '$HIST' --log '$lib_tmp/x.log' --pg 'host=127.0.0.1 nonsense' \
    >/dev/null 2>'$lib_tmp/err'; [ \$? = 2 ] &&
    head -n 1 '$lib_tmp/err' | grep -q '^wgu-historian: --pg: not a PostgreSQL conninfo: missing \"=\" after \"nonsense\"'"
check "wgu-query: bad conninfo, one line, exit 1" sh -c "
    '$QUERY' --pg 'nonsense' >/dev/null 2>'$lib_tmp/err'; [ \$? = 1 ] &&
    [ \$(wc -l <'$lib_tmp/err') = 1 ] && grep -q 'conninfo' '$lib_tmp/err'"
check "wgu-query: server not there, one line, exit 1" sh -c "
    '$QUERY' --pg 'host=127.0.0.1 port=1 dbname=wgu' >/dev/null \
    2>'$lib_tmp/err'; [ \$? = 1 ] && [ \$(wc -l <'$lib_tmp/err') = 1 ]"
echo "  $(($(date +%s) - t0)) s"
lib_summary
