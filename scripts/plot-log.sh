#!/bin/sh
# Renders the historian's log as a PNG: pressure, temperature and vibration
# over time, one panel each, one line per node, with the warning and
# critical thresholds drawn and the time spans of warning (yellow) and
# critical (red) readings shaded behind them.
#
#	scripts/plot-log.sh [-o OUT.png] [-n NODE] [--size WxH] [LOG]
#
# LOG defaults to industrial_production.log, OUT to LOG with .png.  Needs
# gnuplot (Debian: gnuplot-nox).  Reads only lines the historian wrote
# (cJSON's unformatted output); other lines are skipped and counted.
set -eu

usage() {
	echo "usage: $0 [-o OUT.png] [-n NODE] [--size WxH] [LOG]" >&2
	exit 2
}

out='' node='' size=1400x900 log=''
while [ $# -gt 0 ]; do
	case $1 in
	-o|--output) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
	-n|--node) [ $# -ge 2 ] || usage; node=$2; shift 2 ;;
	--size) [ $# -ge 2 ] || usage; size=$2; shift 2 ;;
	-h|--help) usage ;;
	-*) echo "$0: unknown option $1" >&2; usage ;;
	*) [ -z "$log" ] || usage; log=$1; shift ;;
	esac
done
log=${log:-industrial_production.log}
out=${out:-${log%.log}.png}
case $size in
*[!0-9x]*|x*|*x|*x*x*|'') echo "$0: --size wants WIDTHxHEIGHT" >&2; exit 2 ;;
*x*) ;;
*) echo "$0: --size wants WIDTHxHEIGHT" >&2; exit 2 ;;
esac
case $node in
*[!A-Za-z0-9._-]*) echo "$0: bad node id '$node'" >&2; exit 2 ;;
esac
[ -r "$log" ] || { echo "$0: cannot read $log" >&2; exit 1; }
command -v gnuplot >/dev/null 2>&1 || {
	echo "$0: gnuplot not found (Debian: apt-get install gnuplot-nox)" >&2
	exit 1
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# One data file per node: seconds since the epoch, p, t, v, status.  The
# payload fields are found by name, wherever cJSON put them.
awk -v dir="$tmp" -v want="$node" '
function num(key,   m) {
	if (match($0, "\"" key "\":-?[0-9.eE+-]+")) {
		m = substr($0, RSTART + length(key) + 3, RLENGTH - length(key) - 3)
		return m
	}
	return ""
}
{
	if (!match($0, /"node_id":"[A-Za-z0-9._-]+"/)) { bad++; next }
	id = substr($0, RSTART + 11, RLENGTH - 12)
	if (want != "" && id != want) next
	ts = num("timestamp"); p = num("p"); t = num("t"); v = num("v")
	st = num("status")
	if (ts == "" || p == "" || t == "" || v == "" || st == "") { bad++; next }
	printf "%.3f %s %s %s %s\n", ts / 1000, p, t, v, st > (dir "/" id ".dat")
	if (!(id in seen)) { seen[id] = 1; print id > (dir "/nodes") }
	n++
}
END {
	printf "%d %d\n", n, bad > (dir "/count")
}' "$log"

read -r readings skipped < "$tmp/count"
if [ "$readings" -eq 0 ]; then
	echo "$0: no readings${node:+ of node $node} in $log" >&2
	exit 1
fi
[ "$skipped" -eq 0 ] || echo "$0: skipped $skipped lines that are not readings" >&2

# Each node's file sorted by time: readings arrive late after a resend.
for f in "$tmp"/*.dat; do
	sort -n -k1,1 "$f" > "$f.s" && mv "$f.s" "$f"
done
# Shading: one box per reading, as wide as a node's typical spacing (the
# largest of the nodes' median spacings, so the bands have no stripes).
width=$(for f in "$tmp"/*.dat; do
	awk 'NR > 1 && $1 > prev { print $1 - prev } { prev = $1 }' "$f" |
	    sort -g | awk '{ d[NR] = $1 } END { if (NR) print d[int((NR + 1) / 2)] }'
done | sort -g | tail -n 1)
width=${width:-1}

nodes=$(sort "$tmp/nodes" | tr '\n' ' ')
# Inside gnuplot's single-quoted strings a quote is written twice.
gp_out=$(printf '%s' "$out" | sed "s/'/''/g")
gp_log=$(printf '%s' "$log" | sed "s/'/''/g")
w=${size%x*} h=${size#*x}
{
	echo "set terminal pngcairo size $w,$h noenhanced font ',10'" 2>/dev/null
	echo "set output '$gp_out'"
	echo "set xdata time; set timefmt '%s'; set format x '%H:%M:%S'"
	echo "set grid; set key outside right top"
	echo "set style fill transparent solid 0.18 noborder"
	echo "set boxwidth $width absolute"
	echo "set y2range [0:1]; unset y2tics"
	echo "set multiplot layout 3,1 title 'Telemetry: $gp_log ($readings readings)'"
	# Thresholds from src/mqtt/telemetry.h (TELEMETRY_*_WARN/CRIT).
	panel() { # column, label, warn, crit
		echo "set ylabel '$2'"
		echo "unset arrow"
		echo "set arrow from graph 0, first $3 to graph 1, first $3 nohead dt 2 lc rgb '#c8a000'"
		echo "set arrow from graph 0, first $4 to graph 1, first $4 nohead dt 2 lc rgb '#c00000'"
		printf "plot "
		for n in $nodes; do
			f="$tmp/$n.dat"
			printf "'%s' using 1:(\$5 == 1 ? 1 : NaN) axes x1y2 with boxes lc rgb '#e0c000' notitle, " "$f"
			printf "'%s' using 1:(\$5 == 2 ? 1 : NaN) axes x1y2 with boxes lc rgb '#e00000' notitle, " "$f"
		done
		# Line colours that are not the bands' yellow and red.
		sep='' i=0
		for n in $nodes; do
			c=$(echo "#1f5fbf #2a9d3a #7b3fa0 #222222 #d0661a #1aa0a0" |
			    cut -d' ' -f$((i % 6 + 1)))
			printf "%s'%s' using 1:%s with lines lw 1.2 lc rgb '%s' title '%s'" \
			    "$sep" "$tmp/$n.dat" "$1" "$c" "$n"
			sep=", " i=$((i + 1))
		done
		echo
	}
	panel 2 'pressure (bar)' 8.0 9.5
	panel 3 'temperature (C)' 80.0 95.0
	echo "set xlabel 'time (UTC)'"
	panel 4 'vibration (mm/s)' 4.5 7.1
	echo "unset multiplot"
} > "$tmp/plot.gp"

if ! gnuplot "$tmp/plot.gp" 2> "$tmp/err"; then
	# pngcairo is in gnuplot-nox; fall back to the plain png terminal.
	sed -i "1s/.*/set terminal png size $w,$h/" "$tmp/plot.gp"
	gnuplot "$tmp/plot.gp" || { cat "$tmp/err" >&2; exit 1; }
fi
echo "$out: $readings readings of $(echo "$nodes" | wc -w) node(s)"
