#!/bin/sh
# The speed figures in one run (`make bench` calls this):
#   1. bench/wgu-bench: ChaCha20-Poly1305 seal/open MB/s, X25519 cost and
#      handshakes answered per second on one core;
#   2. BoringSSL's own ChaCha20-Poly1305 figure (bssl-tool, Debian package
#      android-boringssl), and wgu's 1350-byte seal as a ratio of it;
#   3. as root, ../shared/bench/tunnel-bench.sh (or $TUNNEL_BENCH) with
#      wireguard-go and wgu side by side, then the ratios wgu/wireguard-go
#      of its median lines against the targets.
# Each part that cannot run is skipped with the reason.
#
# usage: scripts/bench.sh [BUILDDIR]      (default: the current directory)
# environment: TUNNEL_BENCH  path of tunnel-bench.sh
#              WGU           the wgu binary to measure (BUILDDIR/src/wgu)
#              BENCH_ROUNDS  tunnel-bench rounds (3)
# Exits 1 when a program fails (wgu-bench's own checks, tunnel-bench); a
# target that is not met is reported, not an error.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
builddir=$(cd "${1:-.}" && pwd) || exit 1
rounds=${BENCH_ROUNDS:-3}
status=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

section() {
	printf '\n==== %s\n' "$*"
}

skip() {
	echo "SKIPPED: $*"
}

# ratio NUM DEN -> NUM/DEN with two decimals, or n/a when either is not a
# positive number (a failed measurement prints "?", "inf" or 0).
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || a + 0 <= 0 ||
		    b + 0 <= 0) { print "n/a"; exit }
		printf "%.2f", a / b }'
}

# verdict RATIO OP LIMIT -> "met" / "NOT met" / "unknown"
verdict() {
	awk -v r="$1" -v op="$2" -v l="$3" 'BEGIN {
		if (r == "n/a") { print "unknown"; exit }
		ok = (op == ">=") ? (r + 0 >= l + 0) : (r + 0 <= l + 0)
		print ok ? "met" : "NOT met" }'
}

# shown NAME COMMAND...: runs COMMAND, its output shown and kept in
# $tmp/NAME; when it fails, says so and sets status 1.
shown() {
	sh_name=$1
	shift
	{
		"$@"
		echo $? >"$tmp/$sh_name.rc"
	} 2>&1 | tee "$tmp/$sh_name"
	sh_rc=$(cat "$tmp/$sh_name.rc" 2>/dev/null || echo 1)
	[ "$sh_rc" -eq 0 ] && return 0
	echo "bench: $sh_name FAILED (exit $sh_rc)" >&2
	status=1
}

# ------------------------------------------------------------ 1. wgu-bench
section "crypto and handshakes on one core (bench/wgu-bench)"
bench=$builddir/bench/wgu-bench
if [ -x "$bench" ]; then
	shown wgu-bench "$bench"
else
	skip "no $bench (build it with: make bench)"
	status=1
fi

# ------------------------------------------------------------ 2. BoringSSL
section "BoringSSL's own ChaCha20-Poly1305 (bssl-tool speed)"
if command -v bssl-tool >/dev/null 2>&1; then
	# bssl-tool counts wall time, wgu-bench CPU time: bash's `time` gives
	# bssl-tool's share of a core, to put its figure per CPU second too
	# (the same on an idle machine; on a shared one the wall figure
	# measures the neighbours; the share is of the whole run, so this is
	# an estimate when the load changes meanwhile).
	bash -c 'TIMEFORMAT="bssl-times %R %U %S"
	    time bssl-tool speed -filter ChaCha20-Poly1305' >"$tmp/bssl" 2>&1
	grep -v '^bssl-times ' "$tmp/bssl"
	share=$(awk '$1 == "bssl-times" && $2 > 0 {
	    printf "%.3f", ($3 + $4) / $2 }' "$tmp/bssl")
	# "Did N ChaCha20-Poly1305 (1350 bytes) seal operations in ...: X MB/s"
	wall=$(awk '/\(1350 bytes\) seal/ { print $(NF - 1) }' "$tmp/bssl")
	theirs=$(awk -v w="${wall:-0}" -v s="${share:-0}" 'BEGIN {
	    if (w > 0 && s > 0) printf "%.1f", w / s }')
	ours=$(awk '$1 == "chacha20poly1305" && $2 == "seal" && $3 == 1350 {
	    print $5 }' "$tmp/wgu-bench" 2>/dev/null)
	echo "BoringSSL seal 1350 B: ${wall:-?} MB/s of wall time at" \
	    "${share:-?} of a core = ${theirs:-?} MB/s per CPU second"
	echo "wgu seal 1350 B / BoringSSL seal 1350 B (per CPU second):" \
	    "$(ratio "${ours:-}" "${theirs:-}")"
else
	skip "bssl-tool not installed (apt-get install --no-install-recommends android-boringssl)"
fi

# ------------------------------------------------------------ 3. tunnel
section "tunnel-bench: wireguard-go and wgu between two namespaces"
tb=${TUNNEL_BENCH:-$top/../shared/bench/tunnel-bench.sh}
wgu=${WGU:-$builddir/src/wgu}
missing=""
for c in bash ip iperf3 wg ping wireguard-go; do
	command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
done
if [ "$(id -u)" -ne 0 ]; then
	skip "tunnel-bench needs root (network namespaces)"
elif [ ! -f "$tb" ]; then
	skip "no tunnel-bench.sh at $tb (set TUNNEL_BENCH=PATH)"
elif [ ! -x "$wgu" ]; then
	skip "no wgu binary at $wgu"
elif [ -n "$missing" ]; then
	skip "tunnel-bench needs:$missing"
else
	echo "tunnel-bench: $tb -r $rounds, WGU=$wgu"
	# tunnel-bench creates, and removes on exit, its own namespaces.
	shown tunnel-bench env WGU="$wgu" bash "$tb" -r "$rounds" \
	    wireguard-go:wireguard-go wgu:wgu
	# PAIR median ping_ms tcp_e2h tcp_h2e cpu_s/GB rss_kb; with a single
	# round there is no median line and the one line is used.
	row() {
		awk -v p="$1" '$1 == p && $2 == "median" {
		    print $3, $4, $5, $6, $7; found = 1; exit }
		    END { if (!found) exit 1 }' "$tmp/tunnel-bench" ||
		awk -v p="$1" '$1 == p { print $2, $3, $4, $5, $6; exit }' \
		    "$tmp/tunnel-bench"
	}
	go=$(row wireguard-go:wireguard-go)
	us=$(row wgu:wgu)
	if [ -z "$go" ] || [ -z "$us" ]; then
		echo "bench: no result lines from tunnel-bench" >&2
		status=1
	else
		# shellcheck disable=SC2086
		set -- $go $us
		printf '\nratios wgu:wgu / wireguard-go:wireguard-go (median lines)\n'
		printf '%-16s %8s  %-8s %s\n' figure ratio target verdict
		line() { # NAME GO US OP LIMIT
			r=$(ratio "$3" "$2")
			printf '%-16s %8s  %-8s %s\n' "$1" "$r" "$4 $5" \
			    "$(verdict "$r" "$4" "$5")"
		}
		line "tcp edge->hub" "$2" "$7" ">=" 2.0
		line "tcp hub->edge" "$3" "$8" ">=" 2.0
		line "cpu s per GB" "$4" "$9" "<=" 0.5
		line "peak rss" "$5" "${10}" "<=" 0.25
		line "ping" "$1" "$6" "<=" 1.0
	fi
fi

exit "$status"
