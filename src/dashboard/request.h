/* wgu-dashboard's HTTP request layer, free of I/O: which route a raw
 * request target names, its query string and urlencoded form bodies, the
 * Cookie header, the Origin check.  Pure functions of their arguments (no
 * clock, no globals), so fuzz/fuzz_http.c drives them all.
 *
 * Input is what arrived on the wire: the request target as sent
 * ("/api/history?node=n1&from=-2h", percent-escapes intact), header values
 * as libmicrohttpd hands them over.  Everything decoded here is bounded by
 * the sizes below; longer input is refused, never cut. */
#ifndef WGU_DASHBOARD_REQUEST_H
#define WGU_DASHBOARD_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

enum {
	REQ_TARGET_MAX = 2048,	/* the whole request target */
	REQ_ARG_MAX = 256,	/* a decoded path argument (node, file, id) */
	REQ_PARAMS_MAX = 16,	/* key=value pairs in a query or a form */
	REQ_PARAMS_BUF = 4096,	/* their decoded bytes, NULs included */
	REQ_STATIC_DEPTH = 4,	/* directories below /static/ */
	REQ_TOKEN_HEX = 64,	/* session ids and CSRF tokens: 32 bytes */
};

enum req_method {
	REQ_GET = 1 << 0,
	REQ_HEAD = 1 << 1,
	REQ_POST = 1 << 2,
	REQ_OTHER = 1 << 3,	/* anything else: 405 wherever it goes */
};

enum req_route {
	ROUTE_NONE = 0,		/* no such resource: 404 */
	/* pages (a session, else 303 to /login) */
	ROUTE_PAGE_INDEX,
	ROUTE_PAGE_NODE,	/* arg: the node name, decoded */
	ROUTE_PAGE_ALARMS,
	ROUTE_PAGE_TUNNEL,
	/* no session needed */
	ROUTE_LOGIN,		/* GET the page, POST the form */
	ROUTE_STATIC,		/* arg: the file below --static, relative */
	ROUTE_CHARTJS,
	/* a session needed */
	ROUTE_LOGOUT,
	ROUTE_API_SESSION,
	ROUTE_API_NODES,
	ROUTE_API_THRESHOLDS,
	ROUTE_API_HISTORY,
	ROUTE_API_HISTORY_CSV,
	ROUTE_API_ALARMS,
	ROUTE_API_ACK,		/* arg: the alarm id as sent (decimal) */
	ROUTE_API_TUNNEL,
	ROUTE_EVENTS,
	/* the metrics listener's only resource */
	ROUTE_METRICS,
	ROUTE_COUNT
};

/* What a route is: the methods it answers, whether it needs a session,
 * whether a session answers with 401 (API) or 303 (pages), whether it
 * changes state (CSRF checked) and which query keys it takes. */
struct req_route_info {
	unsigned methods;		/* enum req_method bits */
	bool session;
	bool api;			/* JSON errors, 401 not 303 */
	bool csrf;			/* a state change: CSRF token */
	bool query;			/* query parameters allowed at all */
	const char *name;		/* for logs and metrics */
};

const struct req_route_info *req_route_info(enum req_route r);

struct req_target {
	enum req_route route;
	char arg[REQ_ARG_MAX];		/* see enum req_route; else "" */
	const char *query;		/* into the caller's target, after '?';
					 * NULL when there is none */
	size_t query_len;
};

/* Splits and matches a raw request target.  The path's segments are
 * decoded one by one ("%2F" stays inside its segment).  Returns 0 with t
 * filled (t->route may be ROUTE_NONE: 404), or -EINVAL for a target no
 * route can mean (not starting with '/', bad escapes, NUL or control
 * bytes, too long): 400.  metrics selects the metrics listener's table. */
int req_target_parse(const char *target, bool metrics, struct req_target *t);

/* "GET" -> REQ_GET, ...; anything else REQ_OTHER. */
enum req_method req_method_parse(const char *method);

/* The value of the Allow header for a route's methods ("GET, HEAD"). */
const char *req_allow_header(unsigned methods);

/* Decoded key/value pairs of application/x-www-form-urlencoded text (a
 * query string or a form body): '+' is a space, %XX a byte.  value is
 * NULL for a key without '='.  The pointers point into buf. */
struct req_params {
	size_t n;
	const char *key[REQ_PARAMS_MAX];
	const char *value[REQ_PARAMS_MAX];
	char buf[REQ_PARAMS_BUF];
};

/* Parses len bytes of s.  Empty input gives n = 0.  Returns 0, or
 * -EINVAL for a bad escape, a decoded NUL or control byte, an empty key,
 * more than REQ_PARAMS_MAX pairs or more than REQ_PARAMS_BUF bytes. */
int req_params_parse(struct req_params *p, const char *s, size_t len);

/* The value of the first pair with this key; NULL when there is none (or
 * it has no '='). */
const char *req_params_get(const struct req_params *p, const char *key);

/* Whether key occurs more than once. */
bool req_params_repeated(const struct req_params *p, const char *key);

/* The value of cookie name in a Cookie header ("a=1; wgu_session=ab"),
 * copied into out (cap bytes with the NUL).  Returns 0, -ENOENT when
 * absent, -EINVAL when the value does not fit or the header is not
 * name=value pairs. */
int req_cookie_get(const char *header, const char *name, char *out,
    size_t cap);

/* A session id or CSRF token as we make them: exactly REQ_TOKEN_HEX
 * lowercase hex digits. */
bool req_token_valid(const char *s);

/* A browser's Origin header against the Host it asked for: absent (NULL)
 * passes (not every client sends one), "null" or another origin does
 * not.  tls chooses the scheme expected. */
bool req_origin_ok(const char *origin, const char *host, bool tls);

/* Whether a Content-Type header names a urlencoded form (parameters such
 * as "; charset=UTF-8" allowed). */
bool req_is_form(const char *content_type);

#endif
