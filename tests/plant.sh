# The plant the pipeline tests build: a hub and an edge network namespace
# joined by a veth LAN, wgu between them from `wgu up` configs, the
# hardened broker of scripts/hub-setup.sh and wgu-historian in the hub.
# Sourced by tests/sys_pipeline.sh, sys_faults.sh, sys_resend.sh, soak.sh
# after tests/lib.sh; the tests start the simulator themselves (each its
# own way).
#
#   plant_require_hub CMD... skips the test unless root, with wgu, the
#                            mosquitto group, ip, mosquitto, mosquitto_passwd,
#                            ss, getent and CMD...; plant_programs; srcdir
#   plant_require CMD...     the same and TUN; then lib_init
#   plant_programs           SIM and HIST from beside $WGU (the test fails
#                            when either is missing)
#   plant_init ID LAN        after lib_init: namespaces and interfaces
#                            ${ID}h$$ (hub) and ${ID}e$$ (edge), the LAN
#                            LAN.1/24 (hub) - LAN.2/24 (edge), everything
#                            undone at exit; sets hub edge hif eif
#                            conf_dir hubdir prefix prod spool
#   plant_tunnel [ENDPOINTS] keys, configs (hub 10.0.0.1, edge 10.0.0.2
#                            with PersistentKeepalive 25), `wgu up` on both,
#                            a ping; ENDPOINTS "both" also gives the hub
#                            the edge's endpoint (LAN.2:51821)
#   plant_up SIDE            `wgu up` of hub's or edge's config
#   plant_daemon_pid SIDE    the wgu daemon of that side
#   plant_hub_setup NODES    hub-setup.sh --dir $hubdir for node ids NODES
#                            (comma-separated), tunnel interface $hif
#   plant_start_broker NS    mosquitto -c $hubdir/mosquitto.conf in NS,
#                            until it listens on 1883; pid in broker_pid
#   plant_log_subscriptions  the broker started next logs each subscription
#                            it takes: broker_subscribed CLIENT TOPIC [N]
#                            true once it took N (default 1) of CLIENT's
#   plant_start_historian [ADDR]  wgu-historian to ADDR (default 10.0.0.1)
#                            in the hub, log $prod; pid in hist_pid;
#                            historian_subscribed true once it subscribed
#   plant_node_list N        edge-01,..,edge-N (edge-001,.. above 99)
#   plant_watched SEED       what the dashboard tests watch: plant_tunnel,
#                            a hub for edge-01..edge-04, broker, historian,
#                            and wgu-sim's edge-01..03 at 2 Hz for 300 s,
#                            normal throughout (an hour's cycle; the test
#                            publishes edge-04 itself)
#
# Logs go to $plant_logs (default $lib_tmp): broker.log, historian.log,
# wgu-up.log.  A few helpers the tests share are here too: plant_need,
# check_or_stop, none, log_keys, all_logged, client_conf.

plant_require_hub() {
	lib_require_root
	lib_require_cmds ip mosquitto mosquitto_passwd ss getent "$@"
	getent group mosquitto >/dev/null || lib_skip "no mosquitto group"
	lib_require_wgu
	plant_programs
	srcdir=${WGU_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
}

plant_require() {
	[ -e /dev/net/tun ] || lib_skip "no /dev/net/tun"
	plant_require_hub "$@"
	lib_init
}

plant_programs() {
	bindir=$(dirname "$WGU")
	SIM=$bindir/wgu-sim
	HIST=$bindir/wgu-historian
	plant_need "$SIM"
	plant_need "$HIST"
}

# plant_need PROGRAM: the test fails (exit 1) when PROGRAM, one of the
# build's programs, is missing.
plant_need() {
	[ -x "$1" ] || { echo "FAIL: $1 is missing"
	    echo "0 passed, 1 failed"; exit 1; }
}

# check_or_stop DESCRIPTION LOG COMMAND...: a check that the rest needs;
# when it fails, LOG is shown and the test ends.
check_or_stop() {
	cos_desc=$1 cos_log=$2
	shift 2
	if "$@"; then
		ok "$cos_desc"
	else
		not_ok "$cos_desc"
		[ -n "$cos_log" ] && sed 's/^/    /' "$cos_log"
		lib_summary
	fi
}

# none FILE: true when FILE is empty; else shows its first lines.
none() {
	[ ! -s "$1" ] && return 0
	head -n 5 "$1" | sed 's/^/    /'
	return 1
}

# log_keys LOG...: "node boot seq" of every record of production logs, in
# log order; a line that is not a whole record goes to stderr as TORN or
# BAD with its file and line number.
log_keys() {
	awk '
	!/^\{"received":[0-9]+,"topic":"[^"]*",("ts":[0-9]+,"guarantee":"[a-z-]+",)?"payload":\{.*\},"chain":"[0-9a-f]+"\}$/ {
		print "TORN " FILENAME ":" FNR > "/dev/stderr"; next }
	{
		if (!match($0, /"node_id":"[^"]*"/)) {
			print "BAD " FILENAME ":" FNR > "/dev/stderr"; next }
		n = substr($0, RSTART + 11, RLENGTH - 12)
		if (!match($0, /"boot_id":[0-9]+/)) {
			print "BAD " FILENAME ":" FNR > "/dev/stderr"; next }
		b = substr($0, RSTART + 10, RLENGTH - 10)
		if (!match($0, /"seq":[0-9]+/)) {
			print "BAD " FILENAME ":" FNR > "/dev/stderr"; next }
		print n, b, substr($0, RSTART + 6, RLENGTH - 6)
	}' "$@"
}

# all_logged EXPECTED: true when every "node boot seq" line of the sorted
# file EXPECTED is in $prod (the historian catching up on queued messages
# and resent gaps: wait_until 20 all_logged FILE).
all_logged() {
	log_keys "$prod" 2>/dev/null | sort -u >"$lib_tmp/logged"
	! comm -23 "$1" "$lib_tmp/logged" | grep -q .
}

# client_conf NAME USER PASSWORD-FILE: mosquitto_sub/pub's options files
# in $lib_tmp/NAME (their $XDG_CONFIG_HOME), with USER's password: the
# credentials never go on a command line.
client_conf() {
	mkdir -m 700 "$lib_tmp/$1"
	(umask 077
	printf -- '-u %s\n-P %s\n' "$2" "$(head -n 1 "$3")" \
	    >"$lib_tmp/$1/mosquitto_sub"
	cp "$lib_tmp/$1/mosquitto_sub" "$lib_tmp/$1/mosquitto_pub")
}

plant_node_list() {
	pnl_width=2
	[ "$1" -gt 99 ] && pnl_width=3
	pnl_i=1 pnl_list=''
	while [ $pnl_i -le "$1" ]; do
		pnl_list=$pnl_list$(printf 'edge-%0*d' $pnl_width $pnl_i),
		pnl_i=$((pnl_i + 1))
	done
	echo "${pnl_list%,}"
}

# The daemons `wgu up` starts are not our children: `wgu down`, then
# whatever still runs in our namespaces ends by its process id.
plant_cleanup() {
	for pc in "$hub:$hif" "$edge:$eif"; do
		pc_ns=${pc%%:*} pc_if=${pc#*:}
		[ -e "$conf_dir/$pc_if.conf" ] &&
		    ip netns exec "$pc_ns" "$WGU" down "$conf_dir/$pc_if.conf" \
		    >/dev/null 2>&1
	done
	lib_stop_daemons
	ns_kill "$hub" "$edge"
	lib_cleanup
}

plant_init() {
	hub=$1h$$ edge=$1e$$
	hif=$hub eif=$edge
	plant_lan=$2
	plant_logs=${plant_logs:-$lib_tmp}
	prefix=plant1/area1/line1
	hubdir=$lib_tmp/hub
	conf_dir=$lib_tmp/wg
	prod=$lib_tmp/prod/industrial_production.log
	spool=$lib_tmp/spool
	broker_pid='' hist_pid=''
	# The broker runs as user mosquitto and must reach its files.
	chmod 711 "$lib_tmp"
	trap plant_cleanup EXIT
	lib_sockets="$lib_sockets $hif $eif"
	mkdir -m 700 "$conf_dir"
	mkdir "$lib_tmp/prod"
	# The historian, user wgu-historian once set up, reopens its logs.
	chown wgu-historian "$lib_tmp/prod"
	ns_create "$hub" && ns_create "$edge" &&
	    ns_link "$hub" "$edge" "$plant_lan.1/24" "$plant_lan.2/24" || {
		not_ok "namespaces"
		lib_summary
	}
}

plant_tunnel() {
	pt_hub_pub=$(genkey hub "$WGU") && pt_edge_pub=$(genkey edge "$WGU") || {
		not_ok "keys"
		lib_summary
	}
	(umask 077
	cat >"$conf_dir/$hif.conf" <<EOF
[Interface]
PrivateKey = $(cat "$lib_tmp/hub.key")
Address = 10.0.0.1/24
ListenPort = 51820

[Peer]
PublicKey = $pt_edge_pub
AllowedIPs = 10.0.0.2/32
EOF
	[ "${1:-}" = both ] &&
	    echo "Endpoint = $plant_lan.2:51821" >>"$conf_dir/$hif.conf"
	cat >"$conf_dir/$eif.conf" <<EOF
[Interface]
PrivateKey = $(cat "$lib_tmp/edge.key")
Address = 10.0.0.2/24
ListenPort = 51821

[Peer]
PublicKey = $pt_hub_pub
AllowedIPs = 10.0.0.1/32
Endpoint = $plant_lan.1:51820
PersistentKeepalive = 25
EOF
	)
	rm -f "$lib_tmp/hub.key" "$lib_tmp/edge.key"
	plant_up hub && plant_up edge
	check_or_stop "wgu up on hub and edge" "${plant_logs:-$lib_tmp}/wgu-up.log" \
	    pings_ok "$edge" 10.0.0.1
}

plant_up() {
	if [ "$1" = hub ]; then set -- "$hub" "$hif"; else set -- "$edge" "$eif"; fi
	ip netns exec "$1" "$WGU" up "$conf_dir/$2.conf" \
	    >>"${plant_logs:-$lib_tmp}/wgu-up.log" 2>&1
}

plant_daemon_pid() {
	if [ "$1" = hub ]; then set -- "$hub" "$hif"; else set -- "$edge" "$eif"; fi
	# Its comm is "exe" (`wgu up` runs /proc/self/exe): match argv.
	for pdp in $(ip netns pids "$1"); do
		[ "$(tr '\0' ' ' <"/proc/$pdp/cmdline" 2>/dev/null)" = "wgu $2 " ] &&
		    { echo "$pdp"; return 0; }
	done
	return 1
}

plant_hub_setup() {
	sh "$srcdir/scripts/hub-setup.sh" --dir "$hubdir" --nodes "$1" \
	    --topic-prefix "$prefix" --tunnel-interface "$hif" \
	    >"$lib_tmp/hub-setup.log" 2>&1
	check_or_stop "hub-setup" "$lib_tmp/hub-setup.log" \
	    test -s "$hubdir/mosquitto.conf"
}

plant_start_broker() {
	ip netns exec "$1" mosquitto -c "$hubdir/mosquitto.conf" \
	    >>"${plant_logs:-$lib_tmp}/broker.log" 2>&1 &
	broker_pid=$!
	lib_pids="$lib_pids $broker_pid"
	wait_listen "$1" 1883
}

plant_start_historian() {
	hist_subscribed=$(historian_subscriptions)
	ip netns exec "$hub" "$HIST" --broker "${1:-10.0.0.1}" \
	    --password-file "$hubdir/clients/historian.pw" \
	    --topic-prefix "$prefix" --log "$prod" --color never \
	    >>"${plant_logs:-$lib_tmp}/historian.log" 2>&1 &
	hist_pid=$!
	lib_pids="$lib_pids $hist_pid"
}

plant_log_subscriptions() {
	# Setting one log_type drops the default ones: all four again.
	printf 'log_type %s\n' error warning notice information subscribe \
	    >>"$hubdir/mosquitto.conf"
}

# The broker handles one packet at a time: a subscription it has logged
# ("TIME: CLIENT QOS TOPIC") gets every PUBLISH it reads afterwards.
broker_subscribed() {
	[ "$(awk -v c="$1" -v t="$2" 'NF == 4 && $2 == c && $4 == t' \
	    "${plant_logs:-$lib_tmp}/broker.log" | wc -l)" -ge "${3:-1}" ]
}

# historian_subscribed: true once the historian plant_start_historian
# started last has connected and subscribed (its live view says so).
historian_subscribed() {
	[ "$(historian_subscriptions)" -gt "$hist_subscribed" ]
}
historian_subscriptions() {
	hs_log=${plant_logs:-$lib_tmp}/historian.log
	if [ -e "$hs_log" ]; then grep -c 'subscribed to' "$hs_log"; else echo 0; fi
}

plant_watched() {
	plant_tunnel
	plant_hub_setup edge-01,edge-02,edge-03,edge-04
	check "broker listens" plant_start_broker "$hub"
	plant_start_historian
	check_or_stop "historian subscribed" "$lib_tmp/historian.log" \
	    wait_until 10 historian_subscribed
	ip netns exec "$edge" "$SIM" --broker 10.0.0.1 --node-id edge \
	    --nodes 3 --password-file "$hubdir/clients/sensors.pw" \
	    --topic-prefix "$prefix" --rate 2 --cycle 3600 --seed "$1" \
	    --duration 300 --spool-dir "$lib_tmp/spool" >"$lib_tmp/sim.out" \
	    2>>"$lib_tmp/sim.log" &
	lib_pids="$lib_pids $!"
}
