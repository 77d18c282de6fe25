#!/bin/sh
# wgu-dashboard's HTTP side, the real binary over loopback in a network
# namespace of its own, with curl: a store made by the real historian
# (wgu-historian --rebuild of a log from scripts/gen-log.py), accounts
# made by `wgu-dashboard user add`, live readings from a real mosquitto.
#
#   accounts: user add/del (0600, scrypt lines, short password refused)
#   login:    303 + cookie HttpOnly, SameSite=Strict, Path=/; wrong
#             password 401, then 429 with Retry-After per address and per
#             account; logout (CSRF) ends the session and its stream
#   access:   pages 303 to /login and API 401 without a session; ack
#             without or with a wrong CSRF token 403, a viewer's 403;
#             nonsense parameters 400, unknown paths 404, wrong methods
#             405, traversal under /static/ 404, a big body 413, a body
#             that is no form 415
#   headers:  CSP default-src 'self', nosniff, DENY, no-store on the API
#   live:     a reading published to the broker reaches /events
#   metrics:  /metrics on the metrics port without login, not on the main
#   TLS:      a self-signed certificate from openssl: HTTPS, Secure cookie
#   sandbox:  every thread as wgu-dashboard under seccomp; still alive at
#             the end, stops on SIGTERM
#
# Needs root, curl, openssl, python3, mosquitto; exits 77 otherwise.
# About 15 s.  WGU_BIN names wgu; wgu-dashboard, wgu-historian beside it.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

lib_require_root
lib_require_cmds ip curl openssl python3 mosquitto mosquitto_pub
lib_require_wgu
DASH=$(dirname "$WGU")/wgu-dashboard
HIST=$(dirname "$WGU")/wgu-historian
srcdir=${WGU_SRCDIR:-$(dirname "$0")/..}
for b in "$DASH" "$HIST"; do
	[ -x "$b" ] || { echo "FAIL: $b is not built"; echo "0 passed, 1 failed"
	    exit 1; }
done
getent passwd wgu-dashboard >/dev/null ||
    useradd --system --no-create-home --shell /usr/sbin/nologin \
    wgu-dashboard || { echo "FAIL: cannot create user wgu-dashboard"
    echo "0 passed, 1 failed"; exit 1; }
lib_init
T=$lib_tmp
chmod 711 "$T"			# the sandboxed user reaches www/ and acks/
ns=dh$$
ns_create "$ns"
X="ip netns exec $ns"
URL=http://127.0.0.1:8080
step_start=$(date +%s)
step() {
	echo "  ($(($(date +%s) - step_start)) s) $*"
}

# ---------------------------------------------------------------- setup
step "store, accounts, pages"
start_ms=$(( ($(date +%s) - 300) * 1000 ))
python3 "$srcdir/scripts/gen-log.py" 3 240 "$start_ms" >"$T/prod.log"
check "wgu-historian --rebuild makes the store" sh -c "
    '$HIST' --log '$T/prod.log' --db '$T/store.db' --rebuild \
    >'$T/rebuild.log' 2>&1 && [ -s '$T/store.db' ]"
chmod 644 "$T/store.db"

printf 'ann-secret-1\n' | "$DASH" user add "$T/users" ann --role operator \
    2>"$T/useradd.log"
printf 'bob-secret-2\n' | "$DASH" user add "$T/users" bob 2>>"$T/useradd.log"
printf 'eve-secret-3\n' | "$DASH" user add "$T/users" eve 2>>"$T/useradd.log"
check "user add: 0600, NAME:ROLE:\$scrypt\$N\$r\$p\$SALT\$KEY lines" sh -c "
    [ \"\$(stat -c %a '$T/users')\" = 600 ] &&
    grep -Eq '^ann:operator:\\\$scrypt\\\$16384\\\$8\\\$1\\\$[A-Za-z0-9+/=]{24}\\\$[A-Za-z0-9+/=]{44}\$' '$T/users' &&
    grep -q '^bob:viewer:' '$T/users' && [ \$(wc -l <'$T/users') = 3 ]"
check "user del removes the line, keeps the others" sh -c "
    '$DASH' user del '$T/users' eve 2>/dev/null &&
    ! grep -q '^eve:' '$T/users' && [ \$(wc -l <'$T/users') = 2 ] &&
    ! '$DASH' user del '$T/users' eve 2>/dev/null"
check "user add refuses a short password and a bad role (exit 1, 2)" sh -c "
    printf 'short\n' | '$DASH' user add '$T/users' carl 2>/dev/null;
    [ \$? = 1 ] &&
    printf 'long-enough\n' | '$DASH' user add '$T/users' carl --role root \
    2>/dev/null; [ \$? = 2 ] && ! grep -q '^carl:' '$T/users'"
check "no password in the command's output" sh -c "
    ! grep -q secret '$T/useradd.log'"
check "bad flags: exit 2 with a message" sh -c "
    '$DASH' --listen nowhere >/dev/null 2>'$T/flag.err'; [ \$? = 2 ] &&
    grep -q 'is not ADDR:PORT' '$T/flag.err' &&
    '$DASH' --bogus 2>/dev/null; [ \$? = 2 ] &&
    '$DASH' --help | grep -q -- '--metrics-listen'"

mkdir -p "$T/www" "$T/www/css" "$T/acks"
for p in index node alarms tunnel login; do
	echo "<!doctype html><title>$p</title><p>$p page</p>" >"$T/www/$p.html"
done
echo 'body { color: black }' >"$T/www/css/app.css"
echo '/* chart.js stand-in */' >"$T/chart.js"
chmod -R a+rX "$T/www" "$T/chart.js"
chown wgu-dashboard "$T/acks"
printf 'listener 1883 127.0.0.1\nallow_anonymous true\n' >"$T/mosquitto.conf"
chmod 644 "$T/mosquitto.conf"
$X mosquitto -c "$T/mosquitto.conf" >"$T/broker.log" 2>&1 &
lib_pids="$lib_pids $!"
wait_listen "$ns" 1883

# The tunnel page's interface: a wgu daemon in the namespace with one
# peer (no handshake needed for get=1 to list it).
tif=
if [ -e /dev/net/tun ] && command -v wg >/dev/null; then
	tif=dht$$
	start_wgu "$ns" "$tif" && peer=$(genkey tpeer) &&
	    hkey=$(genkey thub) &&
	    $X wg set "$tif" private-key "$T/thub.key" listen-port 51990 \
	    peer "$peer" allowed-ips 10.91.0.2/32 endpoint 127.0.0.1:51999 ||
	    not_ok "a wgu daemon for the tunnel page"
fi

step "dashboard"
$X env WGU_SANDBOX_LOG=1 "$DASH" ${tif:+--interface "$tif"} \
    --listen 127.0.0.1:8080 \
    --metrics-listen 127.0.0.1:9108 --db "$T/store.db" \
    --acks "$T/acks/acks.db" --users "$T/users" --static "$T/www" \
    --chartjs "$T/chart.js" --broker 127.0.0.1 --port 1883 \
    >"$T/dashboard.log" 2>&1 &
dash_pid=$!
lib_pids="$lib_pids $dash_pid"
both_listen() {
	wait_listen "$ns" 8080 && wait_listen "$ns" 9108
}
check "dashboard listens on both ports" both_listen

# c ARGS...: curl in the namespace; headers in $T/h, body in $T/b, the
# status on stdout.
c() {
	$X curl -s -o "$T/b" -D "$T/h" -w '%{http_code}' "$@"
}
# status_is CODE ARGS...
status_is() {
	sc_want=$1
	shift
	[ "$(c "$@")" = "$sc_want" ]
}
header() {
	tr -d '\r' <"$T/h" | grep -i "^$1:"
}

# ---------------------------------------------------------------- access
step "login and access"
to_login() {
	status_is 303 "$@" && header location | grep -q ': /login$'
}
check "page without a session: 303 to /login" to_login "$URL/"
check "node page without a session: 303 to /login" to_login "$URL/node/n001"
check "API without a session: 401 JSON" status_is 401 "$URL/api/nodes"
check "events without a session: 401" status_is 401 "$URL/events"
check "login page without a session: 200" status_is 200 "$URL/login"
check "CSP default-src 'self', nosniff, X-Frame-Options DENY" sh -c "
    tr -d '\r' <'$T/h' | grep -qi \"^content-security-policy: default-src 'self'\" &&
    tr -d '\r' <'$T/h' | grep -qi '^x-content-type-options: nosniff\$' &&
    tr -d '\r' <'$T/h' | grep -qi '^x-frame-options: deny\$'"

check "login from another origin: 403" status_is 403 \
    -H 'Origin: http://evil.example' -d 'username=ann&password=ann-secret-1' \
    "$URL/login"
check "login ok: 303 to /" status_is 303 -d 'username=ann&password=ann-secret-1' \
    "$URL/login"
cookie=$(header set-cookie)
echo "  $cookie"
check "cookie: wgu_session, 64 hex, Path=/, HttpOnly, SameSite=Strict, no Secure" sh -c "
    echo '$cookie' | grep -Eq 'wgu_session=[0-9a-f]{64};' &&
    echo '$cookie' | grep -q 'Path=/' &&
    echo '$cookie' | grep -q 'HttpOnly' &&
    echo '$cookie' | grep -q 'SameSite=Strict' &&
    ! echo '$cookie' | grep -q Secure"
sid=$(echo "$cookie" | sed 's/.*wgu_session=\([0-9a-f]*\).*/\1/')
A="-b wgu_session=$sid"
index_page() {
	status_is 200 $A "$URL/" && grep -q 'index page' "$T/b"
}
check "page with the session: 200" index_page
check "node page: 200" status_is 200 $A "$URL/node/n001"
api_session() {
	status_is 200 $A "$URL/api/session" &&
	    grep -Eq '^\{"user":"ann","role":"operator","csrf":"[0-9a-f]{64}"\}$' \
	    "$T/b" && header cache-control | grep -q no-store
}
check "/api/session: ann, operator, a CSRF token, no-store" api_session
csrf=$(sed 's/.*"csrf":"\([0-9a-f]*\)".*/\1/' "$T/b")
api_nodes() {
	status_is 200 $A "$URL/api/nodes" && grep -q '"node":"n002"' "$T/b"
}
check "/api/nodes: the store's nodes" api_nodes
api_history() {
	status_is 200 $A "$URL/api/history?node=n001&from=-1h&fields=p,t" &&
	    grep -q '"series":{"p":\[\[' "$T/b"
}
check "/api/history from the store" api_history
api_csv() {
	status_is 200 $A "$URL/api/history.csv?node=n001&from=-1h" &&
	    header content-type | grep -q text/csv
}
check "/api/history.csv: text/csv" api_csv
static_files() {
	status_is 200 "$URL/static/css/app.css" &&
	    header content-type | grep -q text/css &&
	    status_is 200 "$URL/static/chart.js" && grep -q stand-in "$T/b"
}
check "static file without a session; chart.js" static_files

# The tunnel page from the root-only UAPI socket, through the relay the
# dashboard forked before dropping root (uapi_relay.h).
tunnel_page() {
	status_is 200 $A "$URL/api/tunnel" &&
	    grep -q "\"public_key\":\"$peer\"" "$T/b" &&
	    grep -q '"endpoint":"127.0.0.1:51999"' "$T/b"
}
relay_confined() {
	relay=$(pgrep -P "$dash_pid" | head -n 1)
	[ -n "$relay" ] &&
	    grep -q '^Uid:[[:space:]]*0[[:space:]]' "/proc/$relay/status" &&
	    grep -q '^CapEff:[[:space:]]*0000000000000000' "/proc/$relay/status" &&
	    grep -q '^CapBnd:[[:space:]]*0000000000000000' "/proc/$relay/status" &&
	    grep -q '^Seccomp:[[:space:]]*2' "/proc/$relay/status" &&
	    grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$relay/status"
}
if [ -n "$tif" ]; then
	check "/api/tunnel: the peer from the daemon's UAPI (sandboxed)" \
	    tunnel_page
	check "the UAPI relay: uid 0, no capabilities, seccomp" relay_confined
	check "tunnel metrics on the metrics port" sh -c "
	    $X curl -s http://127.0.0.1:9108/metrics |
	    grep -q '^wgu_peer_receive_bytes_total{interface=\"$tif\"'"
else
	echo "  (no /dev/net/tun or wg: tunnel page not tried)"
fi

# ---------------------------------------------------------------- bad input
step "bad input"
for q in 'node=n001&from=yesterday' 'node=n001&bogus=1' 'node=../x' \
    'node=n001&from=-1h&from=-2h' 'node=%zz' 'node=n001&fields=q' 'node'; do
	check "nonsense parameters: /api/history?$q 400" \
	    status_is 400 $A "$URL/api/history?$q"
done
check "nonsense parameters: /api/alarms?state=maybe 400" \
    status_is 400 $A "$URL/api/alarms?state=maybe"
check "parameters where none are taken: /api/nodes?x=1 400" \
    status_is 400 $A "$URL/api/nodes?x=1"
unknown_paths() {
	status_is 404 $A "$URL/api/nope" && grep -q '"error"' "$T/b" &&
	    status_is 404 $A "$URL/nope" && status_is 404 $A "$URL/alarms/"
}
check "unknown path 404 (JSON)" unknown_paths
wrong_methods() {
	status_is 405 $A -X DELETE "$URL/api/nodes" &&
	    header allow | grep -q 'GET, HEAD' &&
	    status_is 405 $A "$URL/api/alarms/1/ack" &&
	    header allow | grep -q 'POST'
}
check "wrong method 405 with Allow" wrong_methods
traversal() {
	status_is 404 --path-as-is "$URL/static/../users" &&
	    status_is 404 --path-as-is "$URL/static/css/../../users" &&
	    status_is 404 "$URL/static/%2e%2e/users" &&
	    status_is 404 "$URL/static/css%2F..%2F..%2Fusers" &&
	    status_is 404 "$URL/static/.hidden"
}
check "traversal under /static/: 404" traversal
check "a NUL in the path: 400" status_is 400 "$URL/node/a%00b"
head -c 20000 /dev/zero | tr '\0' a >"$T/big"
check "a body over 8 KiB: 413" status_is 413 $A -H "X-CSRF-Token: $csrf" \
    --data-binary "@$T/big" "$URL/api/alarms/1/ack"
check "a chunked body over 8 KiB: 413" status_is 413 $A \
    -H "X-CSRF-Token: $csrf" -H 'Transfer-Encoding: chunked' \
    --data-binary "@$T/big" "$URL/api/alarms/1/ack"
check "a JSON body where a form is taken: 415" status_is 415 $A \
    -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
    --data-binary '{}' "$URL/api/alarms/1/ack"

# ---------------------------------------------------------------- CSRF
step "CSRF and roles"
check "ack without CSRF token: 403" status_is 403 $A -X POST \
    "$URL/api/alarms/1/ack"
check "ack with a wrong CSRF token: 403" status_is 403 $A -X POST \
    -H "X-CSRF-Token: $(echo "$csrf" | tr 0-9a-f 1-9a-f0)" \
    "$URL/api/alarms/1/ack"
check "ack from another origin: 403" status_is 403 $A -X POST \
    -H "X-CSRF-Token: $csrf" -H 'Origin: http://evil.example' \
    "$URL/api/alarms/1/ack"
ack_ok() {
	ack=$(c $A -X POST -H "X-CSRF-Token: $csrf" \
	    -H "Origin: http://127.0.0.1:8080" "$URL/api/alarms/1/ack")
	echo "  ack with the token: $ack $(cat "$T/b")"
	[ "$ack" = 200 ] || [ "$ack" = 404 ]
}
check "ack with the token: past the CSRF check (200, or 404: no such alarm)" \
    ack_ok
check "ack id not a number: 400" status_is 400 $A -X POST \
    -H "X-CSRF-Token: $csrf" "$URL/api/alarms/x1/ack"
status_is 303 -d 'username=bob&password=bob-secret-2' "$URL/login"
bsid=$(header set-cookie | sed 's/.*wgu_session=\([0-9a-f]*\).*/\1/')
c -b "wgu_session=$bsid" "$URL/api/session" >/dev/null
bcsrf=$(sed 's/.*"csrf":"\([0-9a-f]*\)".*/\1/' "$T/b")
check "viewer bob: role viewer" grep -q '"role":"viewer"' "$T/b"
check "viewer's ack with its token: 403" status_is 403 \
    -b "wgu_session=$bsid" -X POST -H "X-CSRF-Token: $bcsrf" \
    "$URL/api/alarms/1/ack"
check "one session's token does not serve another" status_is 403 \
    -b "wgu_session=$bsid" -X POST -H "X-CSRF-Token: $csrf" \
    "$URL/api/alarms/1/ack"

# ---------------------------------------------------------------- live
step "live readings over /events"
$X curl -sN $A "$URL/events" >"$T/events.out" 2>/dev/null &
sse_pid=$!
lib_pids="$lib_pids $sse_pid"
wait_until 3 grep -q ': hello' "$T/events.out"
now_ms=$(($(date +%s) * 1000))
$X mosquitto_pub -h 127.0.0.1 -p 1883 -q 1 \
    -t plant1/area1/line1/n001/telemetry -m "{\"node_id\":\"n001\",\
\"timestamp\":$now_ms,\"data\":{\"p\":7.25,\"t\":61.5,\"v\":2.5},\"status\":0}"
pub_ms=$(date +%s%3N)
check "a published reading reaches /events" wait_until 5 grep -q \
    '"node":"n001".*"p":7.25' "$T/events.out"
echo "  reading on /events $(($(date +%s%3N) - pub_ms)) ms after mosquitto_pub returned (polled every 100 ms)"
check "event stream format: event: reading, data: {...}" sh -c "
    grep -B1 '\"p\":7.25' '$T/events.out' | head -n 1 | grep -qx 'event: reading'"

# ---------------------------------------------------------------- logout
check "logout without CSRF: 403" status_is 403 $A -X POST "$URL/logout"
logout() {
	to_login $A -d "csrf=$csrf" "$URL/logout" &&
	    header set-cookie | grep -q 'Max-Age=0'
}
check "logout with CSRF (form field): 303 to /login, cookie cleared" logout
check "the session is gone: 401" status_is 401 $A "$URL/api/session"
check "its event stream ended" wait_until 3 not is_running "$sse_pid"

# ---------------------------------------------------------------- limit
step "login rate limit"
for i in 1 2 3 4 5; do
	check "wrong password $i: 401" status_is 401 --interface 127.0.0.2 \
	    -d 'username=bob&password=wrong' "$URL/login"
done
limited() {
	status_is 429 --interface 127.0.0.2 -d 'username=bob&password=wrong' \
	    "$URL/login" && header retry-after | grep -Eq ': [0-9]+$'
}
check "6th from that address: 429 with Retry-After" limited
check "then even the right password from there: 429" status_is 429 \
    --interface 127.0.0.2 -d 'username=ann&password=ann-secret-1' \
    "$URL/login"
check "bob's account from another address: 429" status_is 429 \
    --interface 127.0.0.3 -d 'username=bob&password=bob-secret-2' \
    "$URL/login"
check "ann from her own address still logs in" status_is 303 \
    -d 'username=ann&password=ann-secret-1' "$URL/login"

# ---------------------------------------------------------------- metrics
step "metrics"
metrics() {
	status_is 200 http://127.0.0.1:9108/metrics &&
	    header content-type | grep -q 'text/plain' &&
	    grep -q '^wgu_dashboard_login_failures_total 5$' "$T/b" &&
	    grep -q '^wgu_dashboard_login_rate_limited_total 3$' "$T/b" &&
	    grep -q '^wgu_node_readings_total{node="n001"}' "$T/b"
}
check "/metrics on the metrics port, no login: text, login counters" metrics
if command -v promtool >/dev/null; then
	check "promtool check metrics" sh -c "
	    promtool check metrics <'$T/b' >'$T/promtool.out' 2>&1"
fi
check "the main port does not serve /metrics" status_is 404 $A \
    "$URL/metrics"
check "the metrics port serves nothing else" status_is 404 \
    http://127.0.0.1:9108/api/nodes
metrics_post() {
	status_is 405 -X POST http://127.0.0.1:9108/metrics &&
	    header allow | grep -q 'GET, HEAD'
}
check "POST /metrics: 405 with Allow" metrics_post

# ---------------------------------------------------------------- sandbox
step "sandbox"
uid=$(id -u wgu-dashboard)
check "every thread: uid wgu-dashboard, no capabilities, seccomp" sh -c "
    for t in /proc/$dash_pid/task/*; do
	grep -q '^Uid:[[:space:]]*$uid[[:space:]]' \$t/status &&
	grep -q '^CapEff:[[:space:]]*0000000000000000' \$t/status &&
	grep -q '^Seccomp:[[:space:]]*2' \$t/status || exit 1
    done; [ \$(ls /proc/$dash_pid/task | wc -l) -ge 3 ]"
check "no system call refused by the filter" sh -c "
    ! grep -q 'refused system call' '$T/dashboard.log'"
check "no password in the log" sh -c "! grep -q secret '$T/dashboard.log'"

# ---------------------------------------------------------------- TLS
step "TLS"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -days 1 \
    -keyout "$T/key.pem" -out "$T/cert.pem" >"$T/openssl.log" 2>&1
chmod 600 "$T/key.pem"
$X env WGU_SANDBOX_LOG=1 "$DASH" --listen 127.0.0.1:8443 --metrics-listen 127.0.0.1:9109 \
    --db "$T/store.db" --acks "$T/acks/acks.db" --users "$T/users" \
    --static "$T/www" --chartjs "$T/chart.js" --tls-cert "$T/cert.pem" \
    --tls-key "$T/key.pem" >"$T/dashboard-tls.log" 2>&1 &
tls_pid=$!
lib_pids="$lib_pids $tls_pid"
wait_listen "$ns" 8443
check "HTTPS login page with the self-signed certificate" status_is 200 \
    --cacert "$T/cert.pem" https://127.0.0.1:8443/login
tls_login() {
	status_is 303 --cacert "$T/cert.pem" \
	    -d 'username=ann&password=ann-secret-1' \
	    https://127.0.0.1:8443/login &&
	    header set-cookie | grep -q '; Secure' &&
	    header strict-transport-security | grep -q max-age
}
check "HTTPS login: the cookie is Secure" tls_login
check "plain HTTP to the TLS port gets no page" sh -c "
    ! $X curl -s -m 2 http://127.0.0.1:8443/login | grep -q 'login page'"
check "TLS: no system call refused by the filter" sh -c "
    ! grep -q 'refused system call' '$T/dashboard-tls.log'"
check "--tls-cert without --tls-key: exit 2" sh -c "
    '$DASH' --tls-cert '$T/cert.pem' 2>/dev/null; [ \$? = 2 ]"
check "a key that is no PEM: exit 1 with a message" sh -c "
    $X '$DASH' --listen 127.0.0.1:8444 --metrics-listen 127.0.0.1:9110 \
    --users '$T/users' --static '$T/www' --tls-cert '$T/cert.pem' \
    --tls-key '$T/users' 2>'$T/badkey.err'; [ \$? = 1 ] &&
    grep -q 'not a PEM' '$T/badkey.err'"

# ---------------------------------------------------------------- end
step "end"
check "the dashboards are still alive" sh -c "
    kill -0 $dash_pid && kill -0 $tls_pid"
kill -TERM "$dash_pid"
stopped() {
	wait_exit "$dash_pid" 50 && [ "$lib_status" = 0 ]
}
check "SIGTERM: stops, exit 0" stopped
step "done"
lib_summary
