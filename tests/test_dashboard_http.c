/* wgu-dashboard's HTTP side without a socket: the request layer (routes,
 * query strings, forms, cookies, /static/ paths), scrypt hashes and the
 * users file, sessions (expiry, CSRF), the login rate limit. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "check.h"
#include "dashboard/ratelimit.h"
#include "dashboard/request.h"
#include "dashboard/session.h"
#include "dashboard/sse.h"
#include "dashboard/uapi_relay.h"
#include "dashboard/users.h"

/* ---------------------------------------------------------------- routes */

static void test_routes(void)
{
	static const struct {
		const char *target;
		int ret;
		enum req_route route;
		const char *arg;
	} rows[] = {
		{ "/", 0, ROUTE_PAGE_INDEX, "" },
		{ "/?x=1", 0, ROUTE_PAGE_INDEX, "" },
		{ "/login", 0, ROUTE_LOGIN, "" },
		{ "/logout", 0, ROUTE_LOGOUT, "" },
		{ "/alarms", 0, ROUTE_PAGE_ALARMS, "" },
		{ "/tunnel", 0, ROUTE_PAGE_TUNNEL, "" },
		{ "/events", 0, ROUTE_EVENTS, "" },
		{ "/node/n001", 0, ROUTE_PAGE_NODE, "n001" },
		{ "/node/edge-01.a_b", 0, ROUTE_PAGE_NODE, "edge-01.a_b" },
		{ "/node/%65dge", 0, ROUTE_PAGE_NODE, "edge" },
		{ "/node/..", 0, ROUTE_NONE, "" },
		{ "/node/a%2Fb", 0, ROUTE_NONE, "" },
		{ "/node/", 0, ROUTE_NONE, "" },
		{ "/node/a/b", 0, ROUTE_NONE, "" },
		{ "/api/session", 0, ROUTE_API_SESSION, "" },
		{ "/api/nodes", 0, ROUTE_API_NODES, "" },
		{ "/api/thresholds", 0, ROUTE_API_THRESHOLDS, "" },
		{ "/api/history?node=n1", 0, ROUTE_API_HISTORY, "" },
		{ "/api/history.csv", 0, ROUTE_API_HISTORY_CSV, "" },
		{ "/api/alarms", 0, ROUTE_API_ALARMS, "" },
		{ "/api/alarms/17/ack", 0, ROUTE_API_ACK, "17" },
		{ "/api/alarms//ack", 0, ROUTE_NONE, "" },
		{ "/api/alarms/17/ack/", 0, ROUTE_NONE, "" },
		{ "/api/tunnel", 0, ROUTE_API_TUNNEL, "" },
		{ "/api/nodes/", 0, ROUTE_NONE, "" },
		{ "/api", 0, ROUTE_NONE, "" },
		{ "/metrics", 0, ROUTE_NONE, "" },	/* not on the main port */
		{ "/alarms/", 0, ROUTE_NONE, "" },
		{ "//", 0, ROUTE_NONE, "" },
		{ "/a/b/c/d/e/f/g/h/i/j", 0, ROUTE_NONE, "" },
		{ "/static/chart.js", 0, ROUTE_CHARTJS, "" },
		{ "/static/app.js", 0, ROUTE_STATIC, "app.js" },
		{ "/static/css/app.css?v=2", 0, ROUTE_STATIC, "css/app.css" },
		/* traversal, hidden files, encoded separators */
		{ "/static/../etc/passwd", 0, ROUTE_NONE, "" },
		{ "/static/%2e%2e/etc/passwd", 0, ROUTE_NONE, "" },
		{ "/static/css/../../x", 0, ROUTE_NONE, "" },
		{ "/static/.htpasswd", 0, ROUTE_NONE, "" },
		{ "/static/a%2F..%2Fb", 0, ROUTE_NONE, "" },
		{ "/static/a%5c..%5cb", 0, ROUTE_NONE, "" },
		{ "/static/", 0, ROUTE_NONE, "" },
		{ "/static//app.js", 0, ROUTE_NONE, "" },
		{ "/static/./app.js", 0, ROUTE_NONE, "" },
		{ "/static/a/b/c/d/e/f.js", 0, ROUTE_NONE, "" },
		{ "/static/a/b/c/d/e.js", 0, ROUTE_STATIC, "a/b/c/d/e.js" },
				/* malformed: 400 */
		{ "/static/x%00.js", -EINVAL, ROUTE_NONE, "" },
		{ "/node/%0a", -EINVAL, ROUTE_NONE, "" },
		{ "/%zz", -EINVAL, ROUTE_NONE, "" },
		{ "/%4", -EINVAL, ROUTE_NONE, "" },
		{ "http://example.org/", -EINVAL, ROUTE_NONE, "" },
		{ "*", -EINVAL, ROUTE_NONE, "" },
		{ "", -EINVAL, ROUTE_NONE, "" },
	};
	struct req_target t;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		ret = req_target_parse(rows[i].target, false, &t);
		if (ret != rows[i].ret || t.route != rows[i].route ||
		    strcmp(t.arg, rows[i].arg) != 0)
			CHECK_FAIL("%s: ret %d route %d arg '%s'",
			    rows[i].target, ret, t.route, t.arg);
	}
	CHECK(req_target_parse("/metrics", true, &t) == 0 &&
	    t.route == ROUTE_METRICS);
	CHECK(req_target_parse("/", true, &t) == 0 && t.route == ROUTE_NONE);
	CHECK(req_target_parse("/api/nodes", true, &t) == 0 &&
	    t.route == ROUTE_NONE);
	CHECK(req_target_parse("/api/history?node=a&b", false, &t) == 0 &&
	    t.query_len == 8 && strncmp(t.query, "node=a&b", 8) == 0);
}

static void test_route_info(void)
{
	char big[REQ_TARGET_MAX + 2];
	struct req_target t;

	CHECK(req_route_info(ROUTE_API_NODES)->methods ==
	    (REQ_GET | REQ_HEAD));
	CHECK(!(req_route_info(ROUTE_API_NODES)->methods & REQ_POST));
	CHECK(req_route_info(ROUTE_API_ACK)->methods == REQ_POST);
	CHECK(req_route_info(ROUTE_API_ACK)->csrf);
	CHECK(req_route_info(ROUTE_LOGOUT)->csrf);
	CHECK(!req_route_info(ROUTE_LOGIN)->csrf);
	CHECK(!req_route_info(ROUTE_LOGIN)->session);
	CHECK(!req_route_info(ROUTE_STATIC)->session);
	CHECK(req_route_info(ROUTE_PAGE_INDEX)->session &&
	    !req_route_info(ROUTE_PAGE_INDEX)->api);
	CHECK(req_route_info(ROUTE_EVENTS)->session &&
	    req_route_info(ROUTE_EVENTS)->api);
	CHECK(!req_route_info(ROUTE_API_NODES)->query);
	CHECK(req_route_info(ROUTE_API_HISTORY)->query);
	CHECK(req_route_info((enum req_route)999) ==
	    req_route_info(ROUTE_NONE));
	CHECK(strcmp(req_allow_header(REQ_POST), "POST") == 0);
	CHECK(strcmp(req_allow_header(REQ_GET | REQ_HEAD), "GET, HEAD") == 0);
	CHECK(req_method_parse("GET") == REQ_GET);
	CHECK(req_method_parse("POST") == REQ_POST);
	CHECK(req_method_parse("get") == REQ_OTHER);
	CHECK(req_method_parse("DELETE") == REQ_OTHER);
	CHECK(req_method_parse(NULL) == REQ_OTHER);
	memset(big, 'a', sizeof(big));
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	CHECK(req_target_parse(big, false, &t) == -EINVAL);
}

/* ---------------------------------------------------------------- params */

#define PARSE(p, lit) req_params_parse((p), (lit), strlen(lit))

static void test_params(void)
{
	struct req_params p;
	char many[512] = "";
	int i;

	CHECK(PARSE(&p, "") == 0 && p.n == 0);
	CHECK(PARSE(&p, "a=1&b=x+y%20z&c&d=") == 0);
	CHECK(p.n == 4);
	CHECK(strcmp(req_params_get(&p, "a"), "1") == 0);
	CHECK(strcmp(req_params_get(&p, "b"), "x y z") == 0);
	CHECK(req_params_get(&p, "c") == NULL && strcmp(p.key[2], "c") == 0 &&
	    p.value[2] == NULL);
	CHECK(strcmp(req_params_get(&p, "d"), "") == 0);
	CHECK(req_params_get(&p, "e") == NULL);
	/* len bounds the input: "a=1&b" parsed as "a=1" */
	CHECK(req_params_parse(&p, "a=1&b", 3) == 0 && p.n == 1);
	CHECK(PARSE(&p, "&&a=1&") == 0 && p.n == 1);
	CHECK(PARSE(&p, "a=1&a=2") == 0 &&
	    req_params_repeated(&p, "a") && !req_params_repeated(&p, "b"));
	CHECK(PARSE(&p, "k%3D=v%26") == 0 &&
	    strcmp(p.key[0], "k=") == 0 && strcmp(p.value[0], "v&") == 0);
	/* UTF-8 passes, control bytes and bad escapes do not */
	CHECK(PARSE(&p, "n=%C3%A9") == 0 &&
	    strcmp(p.value[0], "\xc3\xa9") == 0);
	CHECK(PARSE(&p, "=1") == -EINVAL);
	CHECK(PARSE(&p, "a=%00") == -EINVAL);
	CHECK(PARSE(&p, "a=%0d%0a") == -EINVAL);
	CHECK(PARSE(&p, "a=%G1") == -EINVAL);
	CHECK(PARSE(&p, "a=%") == -EINVAL);
	CHECK(PARSE(&p, "a=%4") == -EINVAL);
	CHECK(PARSE(&p, "%=1") == -EINVAL);
	for (i = 0; i < REQ_PARAMS_MAX + 1; i++)
		strcat(many, "k=v&");
	CHECK(req_params_parse(&p, many, strlen(many)) == -EINVAL);
	many[4 * REQ_PARAMS_MAX] = '\0';
	CHECK(req_params_parse(&p, many, strlen(many)) == 0 &&
	    p.n == REQ_PARAMS_MAX);
}

static void test_params_too_long(void)
{
	size_t n = REQ_PARAMS_BUF + 10;
	char *s = malloc(n + 1);
	struct req_params p;

	if (s == NULL)
		return;
	memset(s, 'x', n);
	s[0] = 'a';
	s[1] = '=';
	s[n] = '\0';
	CHECK(req_params_parse(&p, s, n) == -EINVAL);
	free(s);
}

/* ---------------------------------------------------------------- headers */

static void test_cookies(void)
{
	char v[REQ_TOKEN_HEX + 1];

	CHECK(req_cookie_get("wgu_session=abc", "wgu_session", v,
	    sizeof(v)) == 0 && strcmp(v, "abc") == 0);
	CHECK(req_cookie_get("a=1; wgu_session=xyz ;b=2", "wgu_session", v,
	    sizeof(v)) == 0 && strcmp(v, "xyz") == 0);
	CHECK(req_cookie_get("x_wgu_session=1; wgu_session=2", "wgu_session",
	    v, sizeof(v)) == 0 && strcmp(v, "2") == 0);
	CHECK(req_cookie_get("wgu_session=\"q\"", "wgu_session", v,
	    sizeof(v)) == 0 && strcmp(v, "q") == 0);
	CHECK(req_cookie_get("wgu_session=", "wgu_session", v,
	    sizeof(v)) == 0 && strcmp(v, "") == 0);
	CHECK(req_cookie_get("a=1; b", "wgu_session", v, sizeof(v)) ==
	    -ENOENT);
	CHECK(req_cookie_get("wgu_sessio=1", "wgu_session", v, sizeof(v)) ==
	    -ENOENT);
	CHECK(req_cookie_get(NULL, "wgu_session", v, sizeof(v)) == -ENOENT);
	CHECK(req_cookie_get(";;;", "wgu_session", v, sizeof(v)) == -ENOENT);
	CHECK(req_cookie_get("wgu_session=0123456789012345678901234567890"
	    "12345678901234567890123456789012345", "wgu_session", v,
	    sizeof(v)) == -EINVAL);
	/* first of two wins */
	CHECK(req_cookie_get("wgu_session=a; wgu_session=b", "wgu_session",
	    v, sizeof(v)) == 0 && strcmp(v, "a") == 0);
}

static void test_forms_and_origin(void)
{
	CHECK(req_is_form("application/x-www-form-urlencoded"));
	CHECK(req_is_form("Application/X-WWW-Form-Urlencoded; charset=UTF-8"));
	CHECK(!req_is_form("application/x-www-form-urlencodedx"));
	CHECK(!req_is_form("multipart/form-data; boundary=x"));
	CHECK(!req_is_form("application/json"));
	CHECK(!req_is_form(NULL));
	CHECK(req_origin_ok(NULL, "127.0.0.1:8080", false));
	CHECK(req_origin_ok("http://127.0.0.1:8080", "127.0.0.1:8080", false));
	CHECK(req_origin_ok("HTTP://Hub:8080", "hub:8080", false));
	CHECK(!req_origin_ok("http://127.0.0.1:8080", "127.0.0.1:8080", true));
	CHECK(req_origin_ok("https://hub", "hub", true));
	CHECK(!req_origin_ok("http://evil.example", "127.0.0.1:8080", false));
	CHECK(!req_origin_ok("null", "127.0.0.1:8080", false));
	CHECK(!req_origin_ok("http://127.0.0.1:8080", NULL, false));
	CHECK(req_token_valid("0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef"));
	CHECK(!req_token_valid("0123456789ABCDEF0123456789abcdef"
	    "0123456789abcdef0123456789abcdef"));
	CHECK(!req_token_valid("0123456789abcdef"));
	CHECK(!req_token_valid("0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef0"));
	CHECK(!req_token_valid(NULL));
}

/* ---------------------------------------------------------------- users */

static void test_scrypt(void)
{
	char h[USER_HASH_MAX], h2[USER_HASH_MAX];
	int n1, n2, n3;

	/* RFC 7914 section 12, the second vector's first 32 bytes (the
	 * final PBKDF2 block does not depend on the length asked for). */
	CHECK(users_hash_with("password", 8, (const uint8_t *)"NaCl", 4,
	    1024, 8, 16, h) == 0);
	CHECK(strcmp(h, "$scrypt$1024$8$16$TmFDbA==$"
	    "/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWI=") == 0);
	CHECK(users_hash_check(h, "password", 8));
	CHECK(!users_hash_check(h, "passwore", 8));
	CHECK(!users_hash_check(h, "password", 7));
	/* fresh salts: two hashes of one password differ, both check */
	CHECK(users_hash_password("correct horse", 13, h) == 0);
	CHECK(users_hash_password("correct horse", 13, h2) == 0);
	CHECK(strcmp(h, h2) != 0);
	CHECK(strncmp(h, "$scrypt$16384$8$1$", 18) == 0);
	CHECK(sscanf(h, "$scrypt$%d$%d$%d$", &n1, &n2, &n3) == 3);
	CHECK(strlen(strrchr(h, '$') + 1) == 44);	/* 32 bytes */
	CHECK(users_hash_check(h, "correct horse", 13));
	CHECK(users_hash_check(h2, "correct horse", 13));
	CHECK(!users_hash_check(h, "correct horse ", 14));
	/* malformed, or too costly to compute: never a match */
	CHECK(!users_hash_check("", "x", 1));
	CHECK(!users_hash_check("$scrypt$1024$8$16$TmFDbA==$", "password", 8));
	CHECK(!users_hash_check("$scrypt$1000$8$16$TmFDbA==$"
	    "/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWI=", "password", 8));
	CHECK(!users_hash_check("$scrypt$1048576$8$1$TmFDbA==$"
	    "/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWI=", "password", 8));
	CHECK(!users_hash_check("$scrypt$-1024$8$16$TmFDbA==$"
	    "/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWI=", "password", 8));
	CHECK(!users_hash_check("$scrypt$1024$8$16$TmFDbA=$"
	    "/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWI=", "password", 8));
	CHECK(!users_hash_check("$bcrypt$1024$8$16$TmFDbA==$"
	    "/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWI=", "password", 8));
}

static char tmpdir[64];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		CHECK_FAIL("cannot write %s", path);
		return;
	}
	fputs(text, f);
	fclose(f);
}

static void test_users_file(void)
{
	char path[128], hash[USER_HASH_MAX], text[1024], err[512];
	struct users *u;
	struct timespec ts[2];

	snprintf(path, sizeof(path), "%s/users", tmpdir);
	CHECK(users_open(path, err, sizeof(err)) == NULL);	/* missing */
	CHECK(strstr(err, "No such file") != NULL);
	CHECK(users_hash_with("secret-ann", 10, (const uint8_t *)"salt1234",
	    8, 1024, 8, 1, hash) == 0);
	snprintf(text, sizeof(text), "# comment\n\nann:operator:%s\n"
	    "bob:viewer:%s\n", hash, hash);
	write_file(path, text);
	u = users_open(path, err, sizeof(err));
	CHECK(u != NULL);
	if (u == NULL)
		return;
	CHECK(users_count(u) == 2);
	CHECK(users_verify(u, "ann", "secret-ann", 10) == USER_ROLE_OPERATOR);
	CHECK(users_verify(u, "bob", "secret-ann", 10) == USER_ROLE_VIEWER);
	CHECK(users_verify(u, "ann", "secret-anx", 10) == USER_ROLE_NONE);
	CHECK(users_verify(u, "carl", "secret-ann", 10) == USER_ROLE_NONE);
	CHECK(users_verify(u, "", "", 0) == USER_ROLE_NONE);
	/* changed on disk: read again at the next verify */
	snprintf(text, sizeof(text), "carl:viewer:%s\n", hash);
	write_file(path, text);
	ts[0].tv_sec = ts[1].tv_sec = 1000000000;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	utimensat(AT_FDCWD, path, ts, 0);
	CHECK(users_verify(u, "carl", "secret-ann", 10) == USER_ROLE_VIEWER);
	CHECK(users_verify(u, "ann", "secret-ann", 10) == USER_ROLE_NONE);
	/* a broken file later: the accounts we had stay */
	write_file(path, "garbage\n");
	ts[0].tv_sec = ts[1].tv_sec = 1000000100;
	utimensat(AT_FDCWD, path, ts, 0);
	CHECK(users_verify(u, "carl", "secret-ann", 10) == USER_ROLE_VIEWER);
	users_free(u);
}

static void test_users_bad_lines(void)
{
	static const char *const bad[] = {
		"ann\n",
		"ann:operator\n",
		"ann:admin:$scrypt$1024$8$1$c2FsdDEyMzQ=$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		".ann:viewer:$scrypt$1024$8$1$c2FsdDEyMzQ=$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"a n:viewer:$scrypt$1024$8$1$c2FsdDEyMzQ=$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"ann:viewer:plaintext\n",
		"ann:viewer:$scrypt$1024$8$1$c2FsdDEyMzQ=$AAAA\n",
	};
	char path[128], err[512];
	struct users *u;
	size_t i;

	snprintf(path, sizeof(path), "%s/bad", tmpdir);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(path, bad[i]);
		u = users_open(path, err, sizeof(err));
		if (u != NULL) {
			CHECK_FAIL("accepted: %s", bad[i]);
			users_free(u);
		} else if (strstr(err, ":1: ") == NULL) {
			CHECK_FAIL("no line number: %s", err);
		}
	}
	write_file(path, "ann:viewer:$scrypt$1024$8$1$c2FsdDEyMzQ=$"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
	    "ann:viewer:$scrypt$1024$8$1$c2FsdDEyMzQ=$"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n");
	u = users_open(path, err, sizeof(err));
	CHECK(u == NULL && strstr(err, ":2: user ann again") != NULL);
	users_free(u);
	CHECK(users_name_valid("edge-01.a_b"));
	CHECK(!users_name_valid(""));
	CHECK(!users_name_valid("a:b"));
	CHECK(!users_name_valid("a\"b"));
	CHECK(users_role_parse("viewer") == USER_ROLE_VIEWER);
	CHECK(users_role_parse("Operator") == USER_ROLE_NONE);
}

/* ---------------------------------------------------------------- sessions */

static void test_sessions(void)
{
	struct sessions *s = sessions_new(4, 1000, 5000);
	char id[REQ_TOKEN_HEX + 1], id2[REQ_TOKEN_HEX + 1], bad[70];
	struct session_info info, got;

	if (s == NULL) {
		CHECK_FAIL("sessions_new");
		return;
	}
	CHECK(sessions_create(s, "ann", USER_ROLE_OPERATOR, 0, id, &info) ==
	    0);
	CHECK(req_token_valid(id) && req_token_valid(info.csrf));
	CHECK(strcmp(id, info.csrf) != 0);
	CHECK(sessions_create(s, "bob", USER_ROLE_VIEWER, 0, id2, &info) == 0);
	CHECK(strcmp(id, id2) != 0);
	CHECK(sessions_lookup(s, id, 500, &got) && strcmp(got.user, "ann") ==
	    0 && got.role == USER_ROLE_OPERATOR);
	CHECK(sessions_csrf_ok(&got, got.csrf));
	strcpy(bad, got.csrf);
	bad[0] = bad[0] == 'a' ? 'b' : 'a';
	CHECK(!sessions_csrf_ok(&got, bad));
	CHECK(!sessions_csrf_ok(&got, ""));
	CHECK(!sessions_csrf_ok(&got, NULL));
	/* idle: 1 s without a request */
	CHECK(sessions_lookup(s, id, 1400, &got));	/* touched at 500 */
	CHECK(!sessions_lookup(s, id2, 1400, &got));	/* idle since 0 */
	CHECK(!sessions_lookup(s, id2, 1401, &got));	/* and gone */
	/* absolute: 5 s after login however busy */
	CHECK(sessions_lookup(s, id, 2300, &got));
	CHECK(sessions_lookup(s, id, 3200, &got));
	CHECK(sessions_lookup(s, id, 4100, &got));
	CHECK(!sessions_lookup(s, id, 5000, &got));
	/* logout */
	CHECK(sessions_create(s, "ann", USER_ROLE_OPERATOR, 6000, id,
	    &info) == 0);
	CHECK(sessions_lookup(s, id, 6001, &got));
	sessions_remove(s, id);
	CHECK(!sessions_lookup(s, id, 6002, &got));
	/* malformed ids */
	CHECK(!sessions_lookup(s, "", 6002, &got));
	CHECK(!sessions_lookup(s, "zz", 6002, &got));
	memset(bad, '0', 64);
	bad[64] = '\0';
	CHECK(!sessions_lookup(s, bad, 6002, &got));	/* an empty slot's */
	sessions_free(s);
}

static void test_sessions_full(void)
{
	struct sessions *s = sessions_new(3, 100000, 100000);
	char ids[5][REQ_TOKEN_HEX + 1];
	struct session_info info;
	int i;

	if (s == NULL)
		return;
	for (i = 0; i < 3; i++)
		CHECK(sessions_create(s, "u", USER_ROLE_VIEWER, i, ids[i],
		    &info) == 0);
	CHECK(sessions_lookup(s, ids[0], 10, &info));	/* 1 is now oldest */
	CHECK(sessions_create(s, "u", USER_ROLE_VIEWER, 11, ids[3], &info) ==
	    0);
	CHECK(sessions_count(s) == 3);
	CHECK(!sessions_lookup(s, ids[1], 12, &info));
	CHECK(sessions_lookup(s, ids[0], 12, &info));
	CHECK(sessions_lookup(s, ids[2], 12, &info));
	CHECK(sessions_lookup(s, ids[3], 12, &info));
	sessions_free(s);
}

/* ---------------------------------------------------------------- limit */

static void test_ratelimit(void)
{
	struct loginlimit *l = loginlimit_new(8, 5, 60000);
	struct loginlimit_stats st;
	int i;

	if (l == NULL) {
		CHECK_FAIL("loginlimit_new");
		return;
	}
	for (i = 0; i < 5; i++) {
		CHECK(loginlimit_check(l, "10.0.0.1", "ann", 1000 * i) == 0);
		loginlimit_failed(l, "10.0.0.1", "ann", 1000 * i);
	}
	/* the 6th within the minute: wait until the 1st leaves it */
	CHECK(loginlimit_check(l, "10.0.0.1", "ann", 5000) == 55);
	CHECK(loginlimit_check(l, "10.0.0.1", "ann", 59500) == 1);
	CHECK(loginlimit_check(l, "10.0.0.1", "ann", 60000) == 0);
	/* per address: another account from the same address */
	CHECK(loginlimit_check(l, "10.0.0.1", "bob", 5000) > 0);
	/* per account: the same account from another address */
	CHECK(loginlimit_check(l, "10.0.0.2", "ann", 5000) > 0);
	CHECK(loginlimit_check(l, "10.0.0.2", "bob", 5000) == 0);
	/* a good password clears the account, not the address */
	loginlimit_succeeded(l, "ann");
	CHECK(loginlimit_check(l, "10.0.0.2", "ann", 5000) == 0);
	CHECK(loginlimit_check(l, "10.0.0.1", "carl", 5000) > 0);
	loginlimit_stats(l, &st);
	CHECK(st.failures == 5);
	CHECK(st.refused == 5);
	loginlimit_free(l);
}

static void test_ratelimit_bounded(void)
{
	struct loginlimit *l = loginlimit_new(4, 2, 60000);
	struct loginlimit_stats st;
	char addr[32];
	int i;

	if (l == NULL)
		return;
	/* 100 addresses into 4 slots: memory stays, evictions counted */
	for (i = 0; i < 100; i++) {
		snprintf(addr, sizeof(addr), "10.0.%d.%d", i / 250, i % 250);
		loginlimit_failed(l, addr, "ann", i);
	}
	loginlimit_stats(l, &st);
	CHECK(st.evicted == 96);
	/* the account was counted all along */
	CHECK(loginlimit_check(l, "10.9.9.9", "ann", 200) > 0);
	/* long keys count by their first bytes */
	loginlimit_failed(l, "x", "0123456789012345678901234567890123456789"
	    "012345678901234567890123456789-a", 300);
	loginlimit_failed(l, "y", "0123456789012345678901234567890123456789"
	    "012345678901234567890123456789-b", 301);
	CHECK(loginlimit_check(l, "z", "0123456789012345678901234567890123456"
	    "789012345678901234567890123456789-c", 302) > 0);
	CHECK(loginlimit_new(4, 0, 1) == NULL);
	CHECK(loginlimit_new(4, LOGINLIMIT_FAILURES_MAX + 1, 1) == NULL);
	loginlimit_free(l);
}

/* ---------------------------------------------------------------- SSE */

static int suspends, resumes;

static void fake_suspend(void *conn)
{
	suspends++;
}

static void fake_resume(void *conn)
{
	resumes++;
}

/* Reads what c has into buf (NUL-terminated); the reader's result. */
static ssize_t sse_read_all(struct sse_client *c, char *buf, size_t cap)
{
	ssize_t n = sse_client_read(c, buf, cap - 1);

	buf[n > 0 ? n : 0] = '\0';
	return n;
}

static const char sid_a[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char sid_b[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

static void test_sse_queue(void)
{
	struct sse_hub *h = sse_hub_new(2, 4, 1000);
	struct sse_client *a, *b;
	struct sse_stats st;
	char buf[256];

	if (h == NULL)
		return;
	sse_hub_set_hooks(h, fake_suspend, fake_resume);
	suspends = resumes = 0;
	a = sse_client_attach(h, (void *)1, sid_a);
	b = sse_client_attach(h, (void *)2, sid_b);
	CHECK(a && b);
	CHECK(sse_client_attach(h, (void *)3, sid_b) == NULL);	/* full */
	if (a == NULL || b == NULL)
		return;
	CHECK(sse_read_all(a, buf, sizeof(buf)) == 9 &&
	    strcmp(buf, ": hello\n\n") == 0);
	/* nothing queued: the reader suspends its connection */
	CHECK(sse_read_all(a, buf, sizeof(buf)) == 0 && suspends == 1);
	/* an event wakes exactly the suspended client */
	sse_publish(h, "reading", "{\"node\":\"n1\"}");
	CHECK(resumes == 1);
	CHECK(sse_read_all(a, buf, sizeof(buf)) > 0 && strcmp(buf,
	    "event: reading\ndata: {\"node\":\"n1\"}\n\n") == 0);
	/* a newline inside the data starts another data: line; short
	 * reads continue where they stopped */
	sse_publish(h, "alarm", "{\n}");
	CHECK(sse_client_read(a, buf, 5) == 5 && memcmp(buf, "event", 5) == 0);
	CHECK(sse_read_all(a, buf, sizeof(buf)) > 0 && strcmp(buf,
	    ": alarm\ndata: {\ndata: }\n\n") == 0);
	sse_keepalive(h);
	CHECK(sse_read_all(a, buf, sizeof(buf)) > 0 &&
	    strcmp(buf, ": keepalive\n\n") == 0);
	/* b never read: hello + 3 events fill its 4 slots; the next
	 * closes it, counted, while a goes on */
	sse_publish(h, "reading", "{}");
	CHECK(sse_read_all(a, buf, sizeof(buf)) > 0);
	sse_stats(h, &st);
	CHECK(st.overflowed == 1 && st.clients == 2);
	CHECK(sse_client_read(b, buf, sizeof(buf)) ==
	    MHD_CONTENT_READER_END_OF_STREAM);
	sse_publish(h, "reading", "{}");
	CHECK(sse_read_all(a, buf, sizeof(buf)) > 0);
	sse_stats(h, &st);
	CHECK(st.overflowed == 1 && st.events == 4 && st.refused == 1);
	sse_client_detach(b);
	/* logout ends the session's streams */
	sse_close_session(h, sid_b);
	CHECK(sse_read_all(a, buf, sizeof(buf)) == 0);	/* suspended again */
	sse_close_session(h, sid_a);
	CHECK(sse_client_read(a, buf, sizeof(buf)) ==
	    MHD_CONTENT_READER_END_OF_STREAM);
	sse_client_detach(a);
	sse_stats(h, &st);
	CHECK(st.clients == 0 && st.connected == 2);
	sse_hub_free(h);
}

static bool only_a(void *arg, const char *id)
{
	(*(int *)arg)++;
	return strcmp(id, sid_a) == 0;
}

static void test_sse_sessions(void)
{
	struct sse_hub *h = sse_hub_new(4, 16, 4096);
	struct sse_client *a, *b;
	char buf[64];
	int asked = 0;

	if (h == NULL)
		return;
	sse_hub_set_hooks(h, fake_suspend, fake_resume);
	a = sse_client_attach(h, (void *)1, sid_a);
	b = sse_client_attach(h, (void *)2, sid_b);
	if (a == NULL || b == NULL)
		return;
	sse_check_sessions(h, only_a, &asked);
	CHECK(asked == 2);
	CHECK(sse_read_all(a, buf, sizeof(buf)) == 9);	/* hello */
	CHECK(sse_client_read(b, buf, sizeof(buf)) ==
	    MHD_CONTENT_READER_END_OF_STREAM);
	sse_check_sessions(h, only_a, &asked);
	CHECK(asked == 3);			/* closed ones not asked */
	sse_client_detach(a);
	sse_client_detach(b);
	sse_hub_free(h);
}

static void test_sse_bytes(void)
{
	struct sse_hub *h = sse_hub_new(4, 100, 64);
	struct sse_client *a;
	struct sse_stats st;
	char big[80];

	if (h == NULL)
		return;
	sse_hub_set_hooks(h, fake_suspend, fake_resume);
	a = sse_client_attach(h, (void *)1, sid_a);
	if (a == NULL)
		return;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sse_publish(h, "reading", big);		/* over 64 bytes queued */
	sse_stats(h, &st);
	CHECK(st.overflowed == 1);
	CHECK(sse_client_read(a, big, sizeof(big)) ==
	    MHD_CONTENT_READER_END_OF_STREAM);
	sse_client_detach(a);
	sse_hub_free(h);
}

static void test_relay_strip(void)
{
	char a[] = "private_key=e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f"
	    "8575680feba52027a\nlisten_port=51820\npublic_key=b85996fecc9c7f1"
	    "fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33\n"
	    "preshared_key=188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d"
	    "5dacce3b70fcf52\nendpoint=127.0.0.1:51999\nerrno=0\n\n";
	char b[] = "errno=0\n\n";
	char c[] = "private_key=00";		/* no newline at the end */

	CHECK(uapi_relay_strip_keys(a) == strlen(a));
	CHECK(strcmp(a, "listen_port=51820\npublic_key=b85996fecc9c7f1fc6d25"
	    "72a76eda11d59bcd20be8e543b15ce4bd85a8e75a33\nendpoint="
	    "127.0.0.1:51999\nerrno=0\n\n") == 0);
	CHECK(uapi_relay_strip_keys(b) == 9 && strcmp(b, "errno=0\n\n") == 0);
	CHECK(uapi_relay_strip_keys(c) == 0 && c[0] == '\0');
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_dashboard_http.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_routes);
	RUN(test_route_info);
	RUN(test_params);
	RUN(test_params_too_long);
	RUN(test_cookies);
	RUN(test_forms_and_origin);
	RUN(test_scrypt);
	RUN(test_users_file);
	RUN(test_users_bad_lines);
	RUN(test_sessions);
	RUN(test_sessions_full);
	RUN(test_ratelimit);
	RUN(test_ratelimit_bounded);
	RUN(test_sse_queue);
	RUN(test_sse_bytes);
	RUN(test_sse_sessions);
	RUN(test_relay_strip);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		(void)!system(cmd);
	}
	return check_summary();
}
