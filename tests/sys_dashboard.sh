#!/bin/sh
# wgu-dashboard in a real browser over the real pipeline: tests/plant.sh's
# plant (hub and edge namespaces, wgu tunnel, hardened mosquitto,
# wgu-historian with its store), wgu-sim with three nodes on the edge, and
# wgu-dashboard in the hub on 127.0.0.1:8080 (its own read-only MQTT
# account, the store read-only, the hub's UAPI for the tunnel page).
# tests/dashboard_browser.py then drives headless Chromium (Selenium) and
# raw HTTP: login (wrong password refused, then 429), the cookie's
# attributes, one tile per node, a reading published now (mosquitto_pub as
# a fourth node) on screen within 2 s, that node driven critical raising an
# alarm the operator acknowledges and a viewer cannot (no button, 403),
# CSRF refusals, nonsense query parameters answered 400, the tunnel page
# with the edge peer, a silent node marked.  Screenshots of the overview, a
# node page, the alarms and the tunnel page are kept in the output
# directory the test prints ($WGU_TEST_OUT/sys_dashboard, default
# ./test-output/sys_dashboard).
#
# Needs root, mosquitto and its clients, chromium, chromium-driver,
# python3-selenium and libjs-chart.js; exits 77 otherwise.  About 60 s.
# WGU_BIN names wgu; wgu-sim, wgu-historian, wgu-dashboard beside it.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/plant.sh
. "$(dirname "$0")/plant.sh"

CHARTJS=/usr/share/javascript/chart.js/chart.min.js
plant_require timeout ping mosquitto_pub chromium chromedriver
/usr/bin/python3 -c 'import selenium' 2>/dev/null ||
    lib_skip "python3-selenium is not installed"
[ -r "$CHARTJS" ] || lib_skip "libjs-chart.js is not installed"
DASH=$(dirname "$WGU")/wgu-dashboard
plant_need "$DASH"
out=${WGU_TEST_OUT:-$(pwd)/test-output}/sys_dashboard
rm -rf "$out" && mkdir -p "$out" || exit 1
out=$(cd "$out" && pwd)
echo "output (screenshots, logs): $out"
start=$(date +%s)
stamp() { echo "  [$(($(date +%s) - start)) s] $*"; }

plant_init d 192.168.87
db=${prod%.log}.db
# The simulated nodes stay normal for the test's length; only the fourth
# node, published by the test, goes critical.
plant_watched 15
stamp "plant up"

# ---------------------------------------------------------------- dashboard
users=$lib_tmp/dashboard.users
(umask 077
head -c 18 /dev/urandom | base64 >"$lib_tmp/ann.pw"
head -c 18 /dev/urandom | base64 >"$lib_tmp/vic.pw")
check "user add: an operator and a viewer" sh -c "
    '$DASH' user add '$users' ann --role operator <'$lib_tmp/ann.pw' &&
    '$DASH' user add '$users' vic --role viewer <'$lib_tmp/vic.pw'"
check "users file: mode 0600, scrypt hashes, no password in it" sh -c "
    [ \"\$(stat -c %a '$users')\" = 600 ] &&
    [ \$(grep -c '^ann:operator:\\\$scrypt\\\$' '$users') = 1 ] &&
    [ \$(grep -c '^vic:viewer:\\\$scrypt\\\$' '$users') = 1 ] &&
    ! grep -qF \"\$(cat '$lib_tmp/ann.pw')\" '$users'"
# The store exists once the historian has taken its first readings.
wait_until 10 test -s "$db"
ip netns exec "$hub" "$DASH" --listen 127.0.0.1:8080 \
    --metrics-listen 127.0.0.1:9108 --db "$db" --acks "$lib_tmp/acks.db" \
    --users "$users" --interface "$hif" --broker 10.0.0.1 \
    --username wgu-dashboard \
    --password-file "$hubdir/clients/wgu-dashboard.pw" \
    --topic-prefix "$prefix" --static "$srcdir/src/dashboard/www" \
    --chartjs "$CHARTJS" --silent-after 3 >"$lib_tmp/dashboard.log" 2>&1 &
dash_pid=$!
lib_pids="$lib_pids $dash_pid"
check_or_stop "dashboard listens on 127.0.0.1:8080" "$lib_tmp/dashboard.log" \
    wait_listen "$hub" 8080
check "and only there: nothing on the hub's LAN or tunnel address" sh -c "
    ! ip netns exec '$hub' ss -Htln | awk '{ print \$4 }' |
    grep -E '^(0\\.0\\.0\\.0|\\[::\\]|\\*|10\\.0\\.0\\.1|192\\.168\\.87\\.1):(8080|9108)\$'"
stamp "dashboard up"

# ---------------------------------------------------------------- browser
client_conf c-pub edge-04 "$hubdir/clients/edge-04.pw"
ip netns exec "$hub" /usr/bin/python3 "$srcdir/tests/dashboard_browser.py" \
    --base http://127.0.0.1:8080 --out "$out" \
    --operator "ann:$lib_tmp/ann.pw" --viewer "vic:$lib_tmp/vic.pw" \
    --nodes edge-01,edge-02,edge-03 --pub-node edge-04 \
    --pub-conf "$lib_tmp/c-pub" --broker 10.0.0.1 --prefix "$prefix" \
    --peer "$pt_edge_pub" --endpoint "$plant_lan.2:51821" \
    --silent-after 3 >"$lib_tmp/browser.out" 2>&1
browser_status=$?
sed 's/^/  /' "$lib_tmp/browser.out"
lib_passed=$((lib_passed + $(grep -c '^ok ' "$lib_tmp/browser.out")))
lib_failed=$((lib_failed + $(grep -c '^FAIL ' "$lib_tmp/browser.out")))
[ $browser_status -eq 0 ] || grep -q '^FAIL ' "$lib_tmp/browser.out" ||
    not_ok "dashboard_browser.py ended with status $browser_status"
stamp "browser done"

check "dashboard still running" is_running "$dash_pid"
check "no password in the dashboard's log" sh -c "
    ! grep -qF -e \"\$(cat '$lib_tmp/ann.pw')\" -e \"\$(cat '$lib_tmp/vic.pw')\" \
    '$lib_tmp/dashboard.log'"
kill -TERM "$dash_pid"
check "dashboard stops on SIGTERM" wait_exit "$dash_pid" 50
check "... with status 0" test "${lib_status:-1}" -eq 0
cp "$lib_tmp/dashboard.log" "$lib_tmp/historian.log" "$out/" 2>/dev/null
stamp "end"
lib_summary
