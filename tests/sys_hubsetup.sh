#!/bin/sh
# scripts/hub-setup.sh as an administrator runs it on the hub, without
# --dir: it writes /etc/mosquitto/conf.d/wgu-hub.conf, the password file
# and the ACL in /etc/mosquitto, the clients' passwords in /etc/wgu/clients;
# then Debian's broker is started the way its unit does (mosquitto -c
# /etc/mosquitto/mosquitto.conf, which includes conf.d).
#
# The host's files are never touched: all of it happens in a private mount
# namespace (unshare -m) in which /etc and /run are overlays whose upper
# layers are in our temporary directory, and /var/lib/mosquitto and
# /var/log/mosquitto are tmpfs; the namespace and its mounts vanish with
# the process.  The network is a namespace of our own with 10.0.0.1 on a
# veth "wg0" standing in for the tunnel.  Checked: the files written (and
# nothing else in /etc), owners and modes, hashed passwords, the broker
# starting with the configuration, listening on 10.0.0.1:1883 only,
# refusing anonymous clients and wrong passwords, accepting the historian
# and delivering a sensor's reading to it; and afterwards that the host's
# /etc/mosquitto, /etc/wgu, /run/mosquitto and /var/lib/mosquitto are as
# they were.
#
# Needs root, unshare, overlayfs, mosquitto and its clients; exits 77
# otherwise.  About 5 s.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

srcdir=${WGU_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
prefix=plant1/area1/line1

# ------------------------------------------------------------ inside
# Run as: HUBSETUP_INSIDE=TMPDIR sh sys_hubsetup.sh, in the network
# namespace and a new mount namespace.  Prints the checks; the counts go
# to TMPDIR/inside.counts for the outer script's summary.
inside() {
	t=$HUBSETUP_INSIDE
	broker=''
	finish() {
		if [ -n "$broker" ]; then
			kill -TERM "$broker" 2>/dev/null
			wait_exit "$broker" 50 || kill -KILL "$broker" 2>/dev/null
		fi
		echo "$lib_passed $lib_failed" >"$t/inside.counts"
		exit 0
	}
	# Never mount anything in the caller's mount namespace (the variable
	# set by mistake in a root shell, say): both namespaces must differ
	# from those the outer script recorded (/proc/1/ns may be unreadable).
	in_mnt=$(readlink /proc/self/ns/mnt) in_net=$(readlink /proc/self/ns/net)
	case ${HUBSETUP_OUTER_MNT:-}/${HUBSETUP_OUTER_NET:-}/$in_mnt/$in_net in
	mnt:\[*\]/net:\[*\]/mnt:\[*\]/net:\[*\]) ;;
	*) in_mnt=$HUBSETUP_OUTER_MNT ;;
	esac
	if [ "$in_mnt" = "${HUBSETUP_OUTER_MNT:-}" ] ||
	    [ "$in_net" = "${HUBSETUP_OUTER_NET:-}" ]; then
		not_ok "in a mount and network namespace of our own"
		finish
	fi
	ok "in a mount and network namespace of our own"
	# Every write below must land in an overlay or a tmpfs: made sure of
	# before anything is written, else nothing is run at all.
	fstype() { awk -v m="$1" '$5 == m { f = $(NF - 2) } END { print f }' \
	    /proc/self/mountinfo; }
	for d in etc run; do
		mkdir -p "$t/ov/$d/upper" "$t/ov/$d/work"
		mount -t overlay overlay -o "lowerdir=/$d,upperdir=$t/ov/$d/upper,workdir=$t/ov/$d/work" "/$d" ||
		    break
	done
	for d in /var/lib/mosquitto /var/log/mosquitto; do
		[ -d "$d" ] && mount -t tmpfs -o mode=0755 tmpfs "$d" &&
		    chown mosquitto:root "$d"
	done
	if [ "$(fstype /etc)" != overlay ] || [ "$(fstype /run)" != overlay ] ||
	    [ "$(fstype /var/lib/mosquitto)" != tmpfs ] ||
	    [ "$(fstype /var/log/mosquitto)" != tmpfs ]; then
		not_ok "private /etc, /run and /var/lib|log/mosquitto (overlay, tmpfs)"
		finish
	fi
	ok "private /etc, /run and /var/lib|log/mosquitto (overlay, tmpfs)"

	sh "$srcdir/scripts/hub-setup.sh" --nodes edge-01,edge-02 \
	    --topic-prefix "$prefix" >"$t/hub-setup.log" 2>&1
	check "hub-setup.sh without --dir succeeds" [ $? -eq 0 ] || {
		sed 's/^/    /' "$t/hub-setup.log"
		finish
	}
	# What it wrote in /etc: the overlay's upper layer holds exactly that
	# (and the directories on the way, copied up).
	(cd "$t/ov/etc/upper" && find . -mindepth 1 | sort) >"$t/written"
	cat >"$t/expected" <<EOF
./mosquitto
./mosquitto/conf.d
./mosquitto/conf.d/wgu-hub.conf
./mosquitto/wgu-hub.acl
./mosquitto/wgu-hub.nft
./mosquitto/wgu-hub.passwd
./wgu
./wgu/clients
./wgu/clients/edge-01.pw
./wgu/clients/edge-02.pw
./wgu/clients/historian.pw
./wgu/clients/sensors.pw
./wgu/clients/wgu-dashboard.pw
EOF
	check "it wrote these files in /etc and nothing else" \
	    cmp -s "$t/expected" "$t/written" ||
	    diff "$t/expected" "$t/written" | sed 's/^/    /'
	modes() {
		for f in "$@"; do
			stat -c '%n %U:%G %a' "$f"
		done
	}
	modes /etc/mosquitto/conf.d/wgu-hub.conf /etc/mosquitto/wgu-hub.passwd \
	    /etc/mosquitto/wgu-hub.acl /etc/mosquitto/wgu-hub.nft /etc/wgu \
	    /etc/wgu/clients \
	    /etc/wgu/clients/*.pw >"$t/modes"
	cat >"$t/modes.expected" <<EOF
/etc/mosquitto/conf.d/wgu-hub.conf root:root 644
/etc/mosquitto/wgu-hub.passwd root:mosquitto 640
/etc/mosquitto/wgu-hub.acl root:mosquitto 640
/etc/mosquitto/wgu-hub.nft root:root 644
/etc/wgu root:root 755
/etc/wgu/clients root:root 700
/etc/wgu/clients/edge-01.pw root:root 600
/etc/wgu/clients/edge-02.pw root:root 600
/etc/wgu/clients/historian.pw root:root 600
/etc/wgu/clients/sensors.pw root:root 600
/etc/wgu/clients/wgu-dashboard.pw root:root 600
EOF
	check "owners and modes (passwd, ACL root:mosquitto 0640; client passwords 0600)" \
	    cmp -s "$t/modes.expected" "$t/modes" ||
	    diff "$t/modes.expected" "$t/modes" | sed 's/^/    /'
	conf=/etc/mosquitto/conf.d/wgu-hub.conf
	check "drop-in: one listener on 10.0.0.1, no anonymous, our files" sh -c "
	    [ \$(grep -c '^listener' $conf) = 1 ] &&
	    grep -qx 'listener 1883 10.0.0.1' $conf &&
	    grep -qx 'allow_anonymous false' $conf &&
	    grep -qx 'password_file /etc/mosquitto/wgu-hub.passwd' $conf &&
	    grep -qx 'acl_file /etc/mosquitto/wgu-hub.acl' $conf &&
	    grep -qx 'allow_zero_length_clientid false' $conf &&
	    ! grep -q '^persistence' $conf"
	hashed() {
		[ "$(cut -d: -f1 /etc/mosquitto/wgu-hub.passwd | sort | tr '\n' ' ')" = \
		    "edge-01 edge-02 historian wgu-dashboard " ] || return 1
		grep -qv '^[^:]*:\$[67]\$' /etc/mosquitto/wgu-hub.passwd && return 1
		for u in historian wgu-dashboard edge-01 edge-02; do
			pw=$(head -n 1 "/etc/wgu/clients/$u.pw")
			[ "${#pw}" -ge 22 ] || return 1
			grep -qF "$pw" /etc/mosquitto/wgu-hub.passwd && return 1
			grep -qx "$u:$pw" /etc/wgu/clients/sensors.pw ||
			    [ "$u" = historian ] || [ "$u" = wgu-dashboard ] ||
			    return 1
		done
		! grep -q '^historian:' /etc/wgu/clients/sensors.pw &&
		    ! grep -q '^wgu-dashboard:' /etc/wgu/clients/sensors.pw
	}
	check "passwords hashed (no plain text in the password file)" hashed
	# The ACL's grants, user by user (issue #15: the historian publishes
	# its alarms, the dashboard only reads).
	acl_of() {
		awk -v u="$1" '/^user / { on = ($2 == u); next }
		    on && /^topic / { print $2, $3 }' /etc/mosquitto/wgu-hub.acl |
		    tr '\n' ';'
	}
	check "ACL: historian reads telemetry and events, writes cmd and alarms" \
	    [ "$(acl_of historian)" = "read $prefix/+/telemetry;read $prefix/+/event;write $prefix/+/cmd;write $prefix/alarms;" ]
	check "ACL: wgu-dashboard only reads telemetry, events and alarms" \
	    [ "$(acl_of wgu-dashboard)" = "read $prefix/+/telemetry;read $prefix/+/event;read $prefix/alarms;" ]

	# The drop-in's ExecStartPre, as systemd runs it ('+': as root).
	pre=$(sed -n 's/^ExecStartPre=+//p' "$srcdir/systemd/mosquitto-wgu.conf")
	check "the drop-in loads the firewall before the broker: $pre" \
	    sh -c "$pre 2>$t/nft.err" || sed 's/^/    /' "$t/nft.err"
	check "... 1883 only from loopback and wg0" sh -c "
	    nft list table inet wgu_hub | grep -q 'tcp dport 1883 iifname != { \"lo\", \"wg0\" } reject with tcp reset'"
	check "... and loading it twice leaves one rule" sh -c "
	    $pre && [ \$(nft list ruleset | grep -c 'dport 1883') = 1 ]"
	# As Debian's mosquitto.service does it.
	{ [ -d /run/mosquitto ] || mkdir -m 740 /run/mosquitto; } &&
	    chown mosquitto /run/mosquitto
	mosquitto -c /etc/mosquitto/mosquitto.conf >"$t/broker.out" 2>&1 &
	broker=$!
	listens_1883() { ss -Hltn "sport = :1883" | grep -q .; }
	# Listening, or given up on: no need to wait for a broker that died.
	broker_settled() { listens_1883 || ! is_running "$broker"; }
	listening() {
		wait_until 5 broker_settled && listens_1883 && return 0
		sed 's/^/    /' "$t/broker.out" /var/log/mosquitto/mosquitto.log \
		    2>/dev/null
		return 1
	}
	check "Debian's mosquitto starts with it (mosquitto.conf + conf.d)" \
	    listening || finish
	check "the broker listens on 10.0.0.1:1883 and nowhere else" sh -c "
	    [ \"\$(ss -Hltn | awk '{ print \$4 }')\" = 10.0.0.1:1883 ]"

	# Credentials through mosquitto_sub/pub's options file, never argv.
	mkdir -m 700 "$t/c-hist" "$t/c-edge"
	(umask 077
	printf -- '-u historian\n-P %s\n' \
	    "$(head -n 1 /etc/wgu/clients/historian.pw)" >"$t/c-hist/mosquitto_sub"
	printf -- '-u edge-01\n-P %s\n' \
	    "$(head -n 1 /etc/wgu/clients/edge-01.pw)" >"$t/c-edge/mosquitto_pub")
	client() { # CONFDIR PROGRAM ARGS...
		cl_conf=$1
		shift
		env XDG_CONFIG_HOME="$cl_conf" HOME=/nonexistent "$@"
	}
	refused() { # NAME ARGS...
		rf_id=hs-$1
		shift
		! client "$t" mosquitto_sub -h 10.0.0.1 -i "$rf_id" "$@" -t '#' \
		    -C 1 -W 5 >"$t/sub.out" 2>&1 &&
		    grep -q 'not authorised' "$t/sub.out" ||
		    { sed 's/^/    /' "$t/sub.out"; return 1; }
	}
	check "anonymous client refused (not authorised)" refused anon
	check "wrong password refused (not authorised)" refused wrong \
	    -u historian -P wrong-password
	client "$t/c-hist" stdbuf -oL mosquitto_sub -d -h 10.0.0.1 -i hs-hist \
	    -q 1 -t "$prefix/+/telemetry" -C 1 -W 8 >"$t/hist.out" 2>&1 &
	sub=$!
	wait_until 5 subscribed "$t/hist.out"
	client "$t/c-edge" mosquitto_pub -h 10.0.0.1 -i hs-edge -q 1 \
	    -t "$prefix/edge-01/telemetry" -m "reading-$$" >"$t/pub.out" 2>&1
	wait "$sub"
	check "historian accepted, receives a sensor's reading" \
	    grep -qx "reading-$$" "$t/hist.out" ||
	    sed 's/^/    /' "$t/hist.out" "$t/pub.out"
	finish
}

if [ -n "${HUBSETUP_INSIDE:-}" ]; then
	inside
fi

# ------------------------------------------------------------ outside
lib_require_root
lib_require_cmds ip unshare mount nft mosquitto mosquitto_passwd mosquitto_sub \
    mosquitto_pub ss
getent group mosquitto >/dev/null || lib_skip "no mosquitto group"
grep -qw overlay /proc/filesystems || lib_skip "no overlayfs"
[ -d /etc/mosquitto/conf.d ] || lib_skip "no /etc/mosquitto/conf.d"
lib_init
chmod 711 "$lib_tmp"

# The host's state that must not change.
host_state() {
	for p in /etc/mosquitto /etc/wgu /run/mosquitto /var/lib/mosquitto \
	    /var/log/mosquitto; do
		if [ -e "$p" ]; then
			find "$p" -exec stat -c '%n %s %Y %a %U:%G' {} +
		else
			echo "$p absent"
		fi
	done
}
host_state >"$lib_tmp/host.before"

ns=hs$$
hubsetup_cleanup() {
	ns_kill "$ns"
	lib_cleanup
}
trap hubsetup_cleanup EXIT
ns_create "$ns" &&
    ip -n "$ns" link add wg0 type veth peer name wg0-peer &&
    ip -n "$ns" addr add 10.0.0.1/24 dev wg0 &&
    ip -n "$ns" link set wg0-peer up &&
    ip -n "$ns" link set wg0 up || { not_ok "namespace"; lib_summary; }

HUBSETUP_OUTER_MNT=$(readlink /proc/self/ns/mnt)
HUBSETUP_OUTER_NET=$(readlink /proc/self/ns/net)
ip netns exec "$ns" unshare -m --propagation private \
    env HUBSETUP_INSIDE="$lib_tmp" WGU_SRCDIR="$srcdir" \
    HUBSETUP_OUTER_MNT="$HUBSETUP_OUTER_MNT" \
    HUBSETUP_OUTER_NET="$HUBSETUP_OUTER_NET" sh "$0"
if [ -r "$lib_tmp/inside.counts" ]; then
	read -r p f <"$lib_tmp/inside.counts"
	lib_passed=$((lib_passed + p))
	lib_failed=$((lib_failed + f))
else
	not_ok "the checks inside the mount namespace ran to the end"
fi
check "no broker left running" sh -c "[ -z \"\$(ip netns pids $ns)\" ]"
host_state >"$lib_tmp/host.after"
check "the host's /etc, /run and /var/lib|log/mosquitto are untouched" \
    cmp -s "$lib_tmp/host.before" "$lib_tmp/host.after" ||
    diff "$lib_tmp/host.before" "$lib_tmp/host.after" | head -n 10
lib_summary
