#!/bin/sh
# The installed units' exposure as systemd-analyze scores it offline (no
# systemd needed): `make install DESTDIR=...` from the build directory
# gives units with real paths, and every *.service among them must score
# at most 2.0, wgu@.service (root, CAP_NET_ADMIN, /dev/net/tun) at most
# 3.5.  A unit added later is checked without a change here, and so is a
# unit in systemd/ that is not installed yet (wgu-dashboard.service before
# its program is built): scored from the source with @bindir@ made real.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

lib_require_cmds systemd-analyze make
[ -n "${WGU_BIN:-}" ] || lib_skip "WGU_BIN is not set"
builddir=$(cd "$(dirname "$WGU_BIN")/.." && pwd)
srcdir=${WGU_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
lib_init

dest=$lib_tmp/root
if ! make -s -C "$builddir" install DESTDIR="$dest" \
    >"$lib_tmp/install.out" 2>&1; then
	sed 's/^/    /' "$lib_tmp/install.out"
	not_ok "make install DESTDIR=..."
	lib_summary
fi
units=$(find "$dest" -path '*/systemd/system/*.service' -type f | sort)
[ -n "$units" ] || not_ok "no unit installed under $dest"
mkdir "$lib_tmp/src"
for unit in "$srcdir"/systemd/*.service; do
	name=$(basename "$unit")
	echo "$units" | grep -q "/$name\$" && continue
	sed 's|@bindir@|/usr/local/bin|g' "$unit" >"$lib_tmp/src/$name"
	units="$units
$lib_tmp/src/$name"
done

for unit in $units; do
	name=$(basename "$unit")
	case "$name" in
	wgu@.service) limit=3.5 ;;
	*) limit=2.0 ;;
	esac
	systemd-analyze security --offline=yes \
	    --no-pager "$unit" >"$lib_tmp/score.out" 2>&1
	score=$(sed -n 's/^→ Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p' \
	    "$lib_tmp/score.out")
	if [ -z "$score" ]; then
		sed 's/^/    /' "$lib_tmp/score.out"
		not_ok "$name: no score"
	elif awk -v s="$score" -v l="$limit" 'BEGIN { exit !(s <= l) }'; then
		ok "$name: exposure $score (at most $limit)"
	else
		grep '✗' "$lib_tmp/score.out" | sed 's/^/    /'
		not_ok "$name: exposure $score, above $limit"
	fi
done
lib_summary
