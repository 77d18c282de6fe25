#!/bin/sh
# The store's figures for the README: --rebuild speed from a generated log
# of 1 M readings, and on a store of 10 M readings (100 nodes x 27.8 h at
# 1 Hz, scripts/gen-log.py) the time of wgu-query's common questions (the
# median of 5 runs, process start included) and the size on disk per
# reading.  No assertion: figures only.
#
#	scripts/bench-store.sh [BUILDDIR] [WORKDIR]
#
# BUILDDIR holds src/wgu-historian and src/wgu-query (build); WORKDIR gets
# about 3 GB of logs and databases (a fresh temporary directory, removed
# afterwards unless given).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
HIST=$build/src/wgu-historian
QUERY=$build/src/wgu-query
if [ -n "${2:-}" ]; then
	work=$2
	mkdir -p "$work"
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/bench-store.XXXXXX")
	trap 'rm -rf "$work"' EXIT
fi
gen() { python3 "$top/scripts/gen-log.py" "$@"; }

[ -s "$work/1m.log" ] || gen 100 10000 >"$work/1m.log"
rm -f "$work/1m.db" "$work/1m.db-wal" "$work/1m.db-shm"
echo "== --rebuild, 1 M readings ($(du -m "$work/1m.log" | cut -f1) MB of log)"
"$HIST" --log "$work/1m.log" --db "$work/1m.db" --rebuild

if [ ! -s "$work/10m.db" ]; then
	[ -s "$work/10m.log" ] || gen 100 100000 >"$work/10m.log"
	echo "== --rebuild, 10 M readings"
	"$HIST" --log "$work/10m.log" --db "$work/10m.db" --rebuild
fi
rows=10000000
bytes=$(stat -c %s "$work/10m.db")
echo "== store of $rows readings: $bytes bytes, $((bytes / rows)) bytes a reading"

# timed LABEL ARGS...: wgu-query ARGS --timing five times; the median
# wall and CPU time of the query (from opening the store to the last row).
timed() {
	label=$1
	shift
	for i in 1 2 3 4 5; do
		"$QUERY" --db "$work/10m.db" --format csv --timing "$@" \
		    2>&1 >/dev/null
	done | sed -n 's/^wgu-query: \([0-9]*\) rows in \([0-9.]*\) ms (\([0-9.]*\) ms CPU)$/\1 \2 \3/p' |
	    sort -k2,2n | sed -n 3p | {
		read -r rows wall cpu
		echo "$label: $wall ms ($cpu ms CPU), $rows rows"
	}
}
day=2025-12-01T00:00:00Z
next=2025-12-02T00:00:00Z
timed "one node's raw hour" --node n042 --since 2025-12-01T10:00:00Z \
    --until 2025-12-01T11:00:00Z
timed "one node's day at 1-minute aggregates" --node n042 --since $day \
    --until $next --every 1m
timed "a day's critical episodes, all nodes" events --status 2 \
    --since $day --until $next
