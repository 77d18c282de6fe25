#!/bin/sh
# Writes the hardened Mosquitto configuration of the telemetry hub:
#
#	scripts/hub-setup.sh [--dir DIR] [--vpn-address 10.0.0.1]
#	    [--nodes edge-01,edge-02,...] [--historian historian]
#	    [--dashboard wgu-dashboard]
#	    [--topic-prefix plant1/area1/line1] [--port 1883]
#	    [--tunnel-interface wg0]
#
# - one listener, on the tunnel address only (never the LAN), no anonymous
#   clients, no zero-length client ids, settings global
#   (per_listener_settings false);
# - a password file hashed by mosquitto_passwd (root:mosquitto 0640) with
#   a random password per client (from /dev/urandom);
# - an ACL: each sensor NODE writes only PREFIX/NODE/telemetry and reads
#   only PREFIX/NODE/cmd; the historian reads PREFIX/+/telemetry and
#   PREFIX/+/event and writes PREFIX/+/cmd and PREFIX/alarms (its alarms);
#   the dashboard's account (wgu-dashboard) only reads PREFIX/+/telemetry,
#   PREFIX/+/event and PREFIX/alarms; nobody else anything;
# - limits: 4 KiB messages, a queue of a million messages per offline
#   persistent session (a long historian outage at 10 readings/s from 25
#   nodes is over an hour), 20 in flight;
# - an nftables ruleset (wgu-hub.nft) that resets every TCP connection to
#   the broker's port arriving on any interface but the tunnel and
#   loopback.  The listener alone is not enough: Linux accepts a packet for
#   any of its addresses on any interface (the weak host model), so a LAN
#   host that routes 10.0.0.0/24 through the hub would reach 10.0.0.1:1883
#   without the tunnel.  Debian's mosquitto.service loads it before the
#   broker starts (ExecStartPre in systemd/mosquitto-wgu.conf); the demo
#   and the tests load it with `nft -f`.
#
# The clients' passwords go to 0600 files, one per client, for the
# --password-file options of wgu-historian, wgu-dashboard and wgu-sim
# (NODE.pw holds the
# bare password, sensors.pw the "user:password" lines of all sensors for a
# multi-node wgu-sim).  They never appear on a command line or in output.
#
# Without --dir: the broker's drop-in /etc/mosquitto/conf.d/wgu-hub.conf
# (Debian's mosquitto.conf already turns persistence on in
# /var/lib/mosquitto), its password, ACL and nftables files in /etc/mosquitto, the
# client password files in /etc/wgu/clients.  With --dir DIR everything
# goes below DIR, DIR/mosquitto.conf is a complete configuration for
# `mosquitto -c` (persistence in DIR/persist), and nothing outside DIR is
# touched: the demo and the tests use that; DIR must not be a symbolic
# link nor writable by anyone but root.  Running it again makes new
# passwords for every client.  Needs root (the files belong to the
# mosquitto user's group).
#
# All or nothing: every file is first written in full in a staging
# directory beside its place (.wgu-hub-setup.XXXXXX in the broker's and the
# clients' directories), and only then are they renamed into place; the
# old files are kept until all the new ones are there, and put back if a
# rename fails.  A failure (a full disk, say) leaves the previous working
# configuration as it was.  Node ids that would meet one of the files
# written are refused: "sensors" (sensors.pw is all sensors' passwords),
# "." and "..".
set -eu

usage() {
	echo "usage: $0 [--dir DIR] [--vpn-address ADDR] [--nodes ID,ID,...]" \
	    "[--historian USER] [--dashboard USER] [--topic-prefix P]" \
	    "[--port N]" \
	    "[--tunnel-interface IFNAME]" >&2
	exit 2
}

die() {
	echo "hub-setup: $*" >&2
	exit 1
}

dir='' vpn=10.0.0.1 nodes=edge-01 historian=historian dashboard=wgu-dashboard
prefix=plant1/area1/line1 port=1883 tunif=wg0
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || case $1 in -h|--help) usage ;; *) echo \
	    "hub-setup: $1 needs a value" >&2; usage ;; esac
	case $1 in
	--dir) dir=$2 ;;
	--vpn-address) vpn=$2 ;;
	--nodes) nodes=$2 ;;
	--historian) historian=$2 ;;
	--dashboard) dashboard=$2 ;;
	--topic-prefix) prefix=$2 ;;
	--port) port=$2 ;;
	--tunnel-interface) tunif=$2 ;;
	*) echo "hub-setup: unknown option $1" >&2; usage ;;
	esac
	shift 2
done

# Validation: every value ends up in a config file, where a newline or a
# space would add or change a directive.
case $vpn in
*[!0-9.]*|'') die "--vpn-address: an IPv4 address, not '$vpn'" ;;
esac
echo "$vpn" | awk -F. 'NF != 4 { exit 1 }
    { for (i = 1; i <= 4; i++) if ($i == "" || $i > 255) exit 1 }' ||
    die "--vpn-address: an IPv4 address, not '$vpn'"
case $port in
*[!0-9]*|'') die "--port: a number from 1 to 65535, not '$port'" ;;
esac
[ "$port" -ge 1 ] && [ "$port" -le 65535 ] ||
    die "--port: a number from 1 to 65535, not '$port'"
# An interface name as the kernel allows it (and nothing nft would parse).
case $tunif in
''|*[!A-Za-z0-9._-]*|-*)
	die "--tunnel-interface: an interface name, not '$tunif'" ;;
esac
[ "${#tunif}" -le 15 ] || die "--tunnel-interface: '$tunif' is too long"
# Node ids as telemetry.h allows them: one topic level, 1..64 characters.
valid_id() {
	case $1 in
	''|*[!A-Za-z0-9._-]*) return 1 ;;
	esac
	[ "${#1}" -le 64 ]
}
# Names that would meet a file of ours (ID.pw beside sensors.pw) or a
# directory's own entries.
reserved_id() {
	case $1 in
	sensors) die "$2: '$1' is reserved (sensors.pw holds the passwords of" \
	    "all sensors)" ;;
	.|..) die "$2: '$1' is not a usable id (a directory's own name)" ;;
	esac
}
valid_id "$historian" || die "--historian: bad user name '$historian'"
reserved_id "$historian" --historian
valid_id "$dashboard" || die "--dashboard: bad user name '$dashboard'"
reserved_id "$dashboard" --dashboard
[ "$dashboard" != "$historian" ] ||
    die "--dashboard: '$dashboard' is the historian's name"
case $nodes in
''|,*|*,|*,,*|*[!A-Za-z0-9._,-]*)
	die "--nodes: node ids (A-Za-z0-9._-) separated by commas, not '$nodes'" ;;
esac
node_list=$(echo "$nodes" | tr ',' ' ')
for n in $node_list; do
	valid_id "$n" || die "--nodes: bad node id '$n' (1..64 of A-Za-z0-9._-)"
	reserved_id "$n" --nodes
	[ "$n" != "$historian" ] || die "--nodes: '$n' is the historian's name"
	[ "$n" != "$dashboard" ] || die "--nodes: '$n' is the dashboard's name"
done
[ "$(echo "$node_list" | tr ' ' '\n' | sort | uniq -d)" = "" ] ||
    die "--nodes: a node id appears twice"
case $prefix in
''|/*|*/|*//*|*[!A-Za-z0-9._/-]*)
	die "--topic-prefix: levels of A-Za-z0-9._- separated by '/', not '$prefix'" ;;
esac

[ "$(id -u)" -eq 0 ] || die "needs root (files owned by group mosquitto)"
command -v mosquitto_passwd >/dev/null 2>&1 ||
    die "mosquitto_passwd not found (Debian: apt-get install mosquitto)"
getent group mosquitto >/dev/null 2>&1 ||
    die "no group 'mosquitto' (is the mosquitto package installed?)"

# The directory the broker's files go to must be root's alone: anyone
# else able to write there (or to point a symbolic link elsewhere) could
# replace a file between our writing and the broker's reading it.
private_dir() {
	[ -L "$1" ] && die "$2: '$1' is a symbolic link"
	[ -e "$1" ] || return 0
	[ -d "$1" ] || die "$2: '$1' is not a directory"
	pd_stat=$(stat -c '%u %a' "$1") || die "$2: cannot stat '$1'"
	pd_mode=$(printf '%04d' "${pd_stat#* }")
	# The group or others digit with write permission: 2, 3, 6 or 7.
	case ${pd_stat%% *}:$pd_mode in
	0:??[0145][0145]) ;;
	*) die "$2: '$1' is writable by others than root (owner uid" \
	    "${pd_stat%% *}, mode ${pd_stat#* })" ;;
	esac
}
if [ -n "$dir" ]; then
	case $dir in /*) ;; *) dir=$(pwd)/$dir ;; esac
	case $dir in *[!A-Za-z0-9._/-]*) die "--dir: unusual characters in '$dir'" ;; esac
	while [ "${dir%/}" != "$dir" ] && [ "$dir" != / ]; do dir=${dir%/}; done
	private_dir "$dir" --dir
	private_dir "$dir/clients" --dir
	conf=$dir/mosquitto.conf
	brokerdir=$dir
	clients=$dir/clients
	persist=$dir/persist
	mkdir -p "$dir"
	# The broker, running as user mosquitto, reads its files here.
	chown root:mosquitto "$dir"
	chmod 0750 "$dir"
else
	conf=/etc/mosquitto/conf.d/wgu-hub.conf
	brokerdir=/etc/mosquitto
	clients=/etc/wgu/clients
	persist=''
	[ -d /etc/mosquitto/conf.d ] || die "/etc/mosquitto/conf.d is missing"
fi
passwd=$brokerdir/wgu-hub.passwd
acl=$brokerdir/wgu-hub.acl
firewall=$brokerdir/wgu-hub.nft
mkdir -p "$clients"
chmod 0700 "$clients"

# A password: 24 random bytes, base64 without '/', '+' and '=' (no quoting
# worries in any file format), at least 128 bits left.
new_password() {
	head -c 24 /dev/urandom | base64 | tr -d '/+=\n'
}

# Everything is written in the staging directories first: stage_b beside
# the broker's files, stage_c beside the clients' (renames within one file
# system).  Removed at exit, whatever happens.
stage_b='' stage_c='' unchanged=yes
staging_exit() {
	se_rc=$?
	rm -rf ${stage_b:+"$stage_b"} ${stage_c:+"$stage_c"}
	if [ "$se_rc" != 0 ]; then
		if [ "$unchanged" = yes ]; then
			echo "hub-setup: failed; the previous configuration is" \
			    "unchanged" >&2
		else
			echo "hub-setup: failed, and some files could not be" \
			    "put back (above)" >&2
		fi
	fi
}
trap staging_exit EXIT
trap 'exit 1' HUP INT TERM
stage_b=$(mktemp -d "$brokerdir/.wgu-hub-setup.XXXXXX") ||
    die "cannot create a staging directory in $brokerdir"
stage_c=$(mktemp -d "$clients/.wgu-hub-setup.XXXXXX") ||
    die "cannot create a staging directory in $clients"
# moves: "STAGED=TARGET" pairs (no path holds '=' or a space).
moves=''
staged() { moves="$moves $1=$2"; }

old_umask=$(umask)
umask 077
plain=$stage_b/wgu-hub.passwd
: >"$plain"
: >"$stage_c/sensors.pw"
for user in $historian $dashboard $node_list; do
	pw=$(new_password)
	[ "${#pw}" -ge 22 ] || die "could not read /dev/urandom"
	printf '%s\n' "$pw" >"$stage_c/$user.pw"
	printf '%s:%s\n' "$user" "$pw" >>"$plain"
	[ "$user" = "$historian" ] || [ "$user" = "$dashboard" ] ||
	    printf '%s:%s\n' "$user" "$pw" >>"$stage_c/sensors.pw"
	staged "$stage_c/$user.pw" "$clients/$user.pw"
done
pw=''
staged "$stage_c/sensors.pw" "$clients/sensors.pw"
# Hashes the file in place: no password on a command line.
mosquitto_passwd -U "$plain" >/dev/null || die "mosquitto_passwd -U failed"
chown root:mosquitto "$plain"
chmod 0640 "$plain"
staged "$plain" "$passwd"

{
	echo "# wgu telemetry hub ACL, written by hub-setup.sh: whatever is not"
	echo "# granted here is denied."
	echo
	echo "user $historian"
	echo "topic read $prefix/+/telemetry"
	echo "topic read $prefix/+/event"
	echo "topic write $prefix/+/cmd"
	echo "topic write $prefix/alarms"
	echo
	echo "user $dashboard"
	echo "topic read $prefix/+/telemetry"
	echo "topic read $prefix/+/event"
	echo "topic read $prefix/alarms"
	for n in $node_list; do
		echo
		echo "user $n"
		echo "topic write $prefix/$n/telemetry"
		echo "topic write $prefix/$n/event"
		echo "topic read $prefix/$n/cmd"
	done
} >"$stage_b/wgu-hub.acl"
chown root:mosquitto "$stage_b/wgu-hub.acl"
chmod 0640 "$stage_b/wgu-hub.acl"
staged "$stage_b/wgu-hub.acl" "$acl"

{
	echo "# wgu telemetry hub, written by hub-setup.sh."
	echo "# Global settings: the same rules for every listener (there is one)."
	echo "per_listener_settings false"
	echo "allow_anonymous false"
	echo "password_file $passwd"
	echo "acl_file $acl"
	echo "allow_zero_length_clientid false"
	echo "# A reading is under 1 KiB; anything much bigger is not ours."
	echo "message_size_limit 4096"
	echo "# Readings wait here for an offline historian (persistent session)."
	echo "max_queued_messages 1000000"
	echo "max_queued_bytes 0"
	echo "# QoS 1 messages in flight to one client (the historian): the"
	echo "# broker reads one packet of a client per pass of its loop, so with"
	echo "# the default 20 a busy broker forwards about one reading per pass."
	echo "max_inflight_messages 1000"
	if [ -n "$persist" ]; then
		echo "persistence true"
		echo "persistence_location $persist/"
		echo "autosave_interval 60"
		echo "log_dest stderr"
	else
		echo "# persistence: on in Debian's /etc/mosquitto/mosquitto.conf."
	fi
	echo "# Only on the tunnel: the broker must not be reachable from the LAN."
	echo "# (The address exists once wgu@wg0 is up: see mosquitto-wgu.conf.)"
	echo "listener $port $vpn"
} >"$stage_b/wgu-hub.conf"
chmod 0644 "$stage_b/wgu-hub.conf"
staged "$stage_b/wgu-hub.conf" "$conf"

# `nft -f` replaces the table as a whole (the empty declaration makes the
# delete succeed the first time), so loading it twice is harmless.
{
	echo "#!/usr/sbin/nft -f"
	echo "# wgu telemetry hub, written by hub-setup.sh: the broker's port"
	echo "# only from the tunnel ($tunif) and loopback; a LAN host routing"
	echo "# $vpn through this machine gets a TCP reset."
	echo "table inet wgu_hub"
	echo "delete table inet wgu_hub"
	echo "table inet wgu_hub {"
	echo "	chain input {"
	echo "		type filter hook input priority filter; policy accept;"
	echo "		tcp dport $port iifname != { \"lo\", \"$tunif\" } reject with tcp reset"
	echo "	}"
	echo "}"
} >"$stage_b/wgu-hub.nft"
chmod 0644 "$stage_b/wgu-hub.nft"
staged "$stage_b/wgu-hub.nft" "$firewall"
if [ -n "$persist" ]; then
	mkdir -p "$persist"
	chown mosquitto:mosquitto "$persist"
	chmod 0700 "$persist"
fi

# Into place: first every old file kept (a hard link beside its staged
# successor), then the renames; if one fails, what was moved goes back.
put_back() {
	for pb in $1; do
		pb_new=${pb%%=*} pb_dst=${pb#*=}
		if [ -e "$pb_new.old" ]; then
			mv -f "$pb_new.old" "$pb_dst"
		else
			rm -f "$pb_dst"
		fi || { echo "hub-setup: could not put back $pb_dst" >&2
		    unchanged=no; }
	done
}
install_staged() {
	for is in $moves; do
		is_dst=${is#*=}
		[ -e "$is_dst" ] || continue
		ln -f "$is_dst" "${is%%=*}.old" 2>/dev/null ||
		    cp -p "$is_dst" "${is%%=*}.old" || return 1
	done
	is_done=''
	for is in $moves; do
		if ! mv -f "${is%%=*}" "${is#*=}"; then
			put_back "$is_done"
			return 1
		fi
		is_done="$is $is_done"
	done
}
install_staged || die "could not move the new files into place"
umask "$old_umask"

echo "hub-setup: broker configuration $conf"
echo "hub-setup: password file $passwd, ACL $acl"
echo "hub-setup: firewall rules $firewall (load with nft -f; the broker's" \
    "systemd drop-in does)"
echo "hub-setup: client passwords in $clients/ ($historian.pw, $dashboard.pw," \
    "$(echo "$node_list" | sed 's/\([^ ]*\)/\1.pw/g; s/ /, /g'), sensors.pw)"
