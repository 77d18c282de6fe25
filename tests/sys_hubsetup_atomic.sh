#!/bin/sh
# scripts/hub-setup.sh run again on a working hub (--dir on a small tmpfs,
# mounted in a private mount namespace): whatever goes wrong, the previous
# configuration stays as it was, byte for byte, or the new one is all in
# place, never half of each (new client passwords with the old broker
# password file lock every client out).
#
#   refused up front, nothing changed: node, historian or dashboard
#   "sensors" (whose
#   sensors.pw is the file of all sensors' passwords), ids "." and "..";
#   --dir a symbolic link, or a directory others can write to;
#   failures midway, nothing changed: a rename that fails (an mv in PATH
#   failing for the ACL), a full disk;
#   then a run that succeeds: every password new, and the broker started
#   with them lets the historian in.
#
# Needs root, unshare, mosquitto, mosquitto_passwd and mosquitto_sub;
# exits 77 otherwise.  About 10 s.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

lib_require_root
lib_require_cmds ip unshare mount mosquitto mosquitto_passwd mosquitto_sub ss \
    sha256sum
getent group mosquitto >/dev/null || lib_skip "no mosquitto group"
srcdir=${WGU_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
# The tmpfs is mounted in a mount namespace of our own: run in one.
lib_own_mounts "$0" "$@"
lib_init
chmod 711 "$lib_tmp"
hub=$lib_tmp/hub
mkdir "$hub"
atomic_cleanup() {
	lib_stop_daemons
	umount "$hub" 2>/dev/null
	lib_cleanup
}
trap atomic_cleanup EXIT
setup() {
	sh "$srcdir/scripts/hub-setup.sh" --vpn-address 127.0.0.1 \
	    --topic-prefix plant1/area1/line1 "$@" >"$lib_tmp/out" 2>&1
}

# The state of a directory: every name with its mode and owner, every
# file's checksum.
state() {
	(cd "$1" && find . -printf '%p %m %u:%g\n' | sort &&
	    find . -type f ! -name filler -exec sha256sum {} + | sort)
}

check "a 256 KiB tmpfs for the hub's files" mount -t tmpfs \
    -o size=256k,mode=0750 tmpfs "$hub" || lib_summary
check "hub-setup --dir on it: nodes edge-01, edge-02" \
    setup --dir "$hub" --nodes edge-01,edge-02 ||
    { sed 's/^/    /' "$lib_tmp/out"; lib_summary; }
state "$hub" >"$lib_tmp/before"

# refused DESCRIPTION MESSAGE ARGS...: hub-setup exits 1 with MESSAGE
# (a fixed string) on stderr, and the hub's files are as they were.
refused() {
	rf_msg=$1
	shift
	setup "$@"
	rf_rc=$?
	state "$hub" >"$lib_tmp/after"
	[ "$rf_rc" = 1 ] && grep -qF -e "$rf_msg" "$lib_tmp/out" &&
	    cmp -s "$lib_tmp/before" "$lib_tmp/after" && return 0
	echo "    exit $rf_rc; output:"
	sed 's/^/    /' "$lib_tmp/out"
	diff "$lib_tmp/before" "$lib_tmp/after" | head -n 10 | sed 's/^/    /'
	return 1
}
reserved="'sensors' is reserved"
check "node 'sensors' refused, nothing changed" \
    refused "--nodes: $reserved" --dir "$hub" --nodes sensors
check "node 'sensors' among others refused, nothing changed" \
    refused "--nodes: $reserved" --dir "$hub" --nodes edge-01,sensors
check "historian 'sensors' refused, nothing changed" \
    refused "--historian: $reserved" --dir "$hub" --historian sensors \
    --nodes edge-01
check "dashboard 'sensors' refused, nothing changed" \
    refused "--dashboard: $reserved" --dir "$hub" --dashboard sensors
check "dashboard named as a node refused, nothing changed" \
    refused "--nodes: 'wgu-dashboard' is the dashboard's name" --dir "$hub" \
    --nodes edge-01,wgu-dashboard
for id in . ..; do
	check "node '$id' refused, nothing changed" \
	    refused "--nodes: '$id' is not a usable id" --dir "$hub" \
	    --nodes "edge-01,$id"
	check "historian '$id' refused, nothing changed" \
	    refused "--historian: '$id' is not a usable id" --dir "$hub" \
	    --historian "$id"
done

ln -s "$hub" "$lib_tmp/link"
check "--dir a symbolic link refused, nothing changed" \
    refused "is a symbolic link" --dir "$lib_tmp/link" --nodes edge-01
check "... also written with a final /" \
    refused "is a symbolic link" --dir "$lib_tmp/link/" --nodes edge-01
for mode in 0777 1777 0770 0752; do
	mkdir -m "$mode" "$lib_tmp/open$mode"
	check "--dir a directory of mode $mode refused, left empty" sh -c "
	    ! sh '$srcdir/scripts/hub-setup.sh' --dir '$lib_tmp/open$mode' \
		>'$lib_tmp/out' 2>&1 &&
	    grep -q 'writable by others than root' '$lib_tmp/out' &&
	    [ -z \"\$(ls -A '$lib_tmp/open$mode')\" ] &&
	    [ \$(stat -c %a '$lib_tmp/open$mode') = ${mode#0} ]" ||
	    sed 's/^/    /' "$lib_tmp/out"
done
chmod 0755 "$lib_tmp/open0777"
chown nobody "$lib_tmp/open0777"
check "--dir a directory owned by another user refused" \
    refused "writable by others than root" --dir "$lib_tmp/open0777"

# A rename that fails midway: the ACL's (after the clients' passwords in
# the order the script had).
mkdir "$lib_tmp/bin"
cat >"$lib_tmp/bin/mv" <<'EOF'
#!/bin/sh
for last; do :; done
case $last in
*/wgu-hub.acl)
	for a; do case $a in *.old) exec /bin/mv "$@" ;; esac; done
	echo "mv: injected failure" >&2
	exit 1 ;;
esac
exec /bin/mv "$@"
EOF
chmod 755 "$lib_tmp/bin/mv"
failed_midway() {
	PATH=$lib_tmp/bin:$PATH setup --dir "$hub" --nodes edge-01,edge-02
	fm_rc=$?
	state "$hub" >"$lib_tmp/after"
	[ "$fm_rc" != 0 ] && grep -q 'mv: injected failure' "$lib_tmp/out" &&
	    grep -q 'the previous configuration is unchanged' "$lib_tmp/out" &&
	    cmp -s "$lib_tmp/before" "$lib_tmp/after" && return 0
	echo "    exit $fm_rc; output:"
	sed 's/^/    /' "$lib_tmp/out"
	diff "$lib_tmp/before" "$lib_tmp/after" | head -n 10 | sed 's/^/    /'
	return 1
}
check "a rename failing midway: fails, the previous files all as they were" \
    failed_midway

# A full disk: two pages left.
full_disk() {
	fd_free=$(df --output=avail -B1 "$hub" | tail -n 1)
	head -c $((fd_free - 8192)) /dev/zero >"$hub/filler" 2>/dev/null
	setup --dir "$hub" --nodes edge-01,edge-02
	fd_rc=$?
	rm -f "$hub/filler"
	state "$hub" >"$lib_tmp/after"
	[ "$fd_rc" != 0 ] && grep -q 'the previous configuration is unchanged' "$lib_tmp/out" &&
	    cmp -s "$lib_tmp/before" "$lib_tmp/after" && return 0
	echo "    exit $fd_rc; output:"
	sed 's/^/    /' "$lib_tmp/out"
	diff "$lib_tmp/before" "$lib_tmp/after" | head -n 10 | sed 's/^/    /'
	return 1
}
check "a full disk: fails, the previous files all as they were" full_disk

# At last a run that succeeds: all new, and the broker takes them.
check "hub-setup again succeeds" setup --dir "$hub" --nodes edge-01,edge-02 ||
    sed 's/^/    /' "$lib_tmp/out"
all_new() {
	(cd "$hub" && sha256sum ./clients/historian.pw ./clients/edge-01.pw \
	    ./clients/edge-02.pw ./clients/sensors.pw \
	    ./clients/wgu-dashboard.pw ./wgu-hub.passwd) \
	    >"$lib_tmp/new.sums" || return 1
	! grep -xFf "$lib_tmp/new.sums" "$lib_tmp/before"
}
check "... every password file is new" all_new
check "... and no staging directory is left" sh -c "
    [ -z \"\$(find '$hub' -name '.wgu-hub-setup.*')\" ]"
ns=ha$$
ns_create "$ns" || { not_ok "namespace"; lib_summary; }
ip netns exec "$ns" mosquitto -c "$hub/mosquitto.conf" \
    >>"$lib_tmp/broker.log" 2>&1 &
lib_pids="$lib_pids $!"
check "the broker starts with the new configuration" wait_listen "$ns" 1883
mkdir -m 700 "$lib_tmp/c-hist"
(umask 077
printf -- '-u historian\n-P %s\n' "$(head -n 1 "$hub/clients/historian.pw")" \
    >"$lib_tmp/c-hist/mosquitto_sub")
# -W 2 with no message: exit 27 (timed out) after a successful CONNECT;
# a refused one is "not authorised".
historian_in() {
	ip netns exec "$ns" env XDG_CONFIG_HOME="$lib_tmp/c-hist" \
	    HOME=/nonexistent mosquitto_sub -h 127.0.0.1 -i ha-hist \
	    -t 'plant1/area1/line1/+/telemetry' -C 1 -W 2 >"$lib_tmp/sub.out" 2>&1
	hi_rc=$?
	[ "$hi_rc" = 27 ] && ! grep -q 'not authorised' "$lib_tmp/sub.out" &&
	    return 0
	echo "    exit $hi_rc"
	sed 's/^/    /' "$lib_tmp/sub.out"
	return 1
}
check "... and lets the historian in with its new password" historian_in
lib_summary
