/* What http.c, pages.c and api.c share: the server, one request's state,
 * and the helpers that answer it.  Every answer goes out through
 * http_send(), which adds the security headers. */
#ifndef WGU_DASHBOARD_HTTP_INTERNAL_H
#define WGU_DASHBOARD_HTTP_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <microhttpd.h>

#include "dashboard/http.h"
#include "dashboard/request.h"
#include "dashboard/session.h"

struct dash_reply;

enum {
	HTTP_BODY_MAX = 8192,		/* POST bodies: forms only */
	SESSIONS_MAX = 4096,
	SSE_CLIENTS_MAX = 256,
	SSE_QUEUE_EVENTS = 4096,
	SSE_QUEUE_BYTES = 4 << 20,
	LOGIN_FAILURES_MAX = 5,		/* per minute, per address/account */
};

#define SESSION_COOKIE "wgu_session"
#define SESSION_IDLE_MS (30 * 60 * 1000)
#define SESSION_ABS_MS (12 * 3600 * 1000)

struct http_server {
	struct dash_data *data;
	struct users *users;
	struct sessions *sessions;
	struct loginlimit *limit;
	struct sse_hub *sse;
	struct http_config cfg;
	char *cert, *key;		/* our copies of the PEM text */
	struct MHD_Daemon *main, *metrics;
	bool tls;
	/* answers by status class 1xx..5xx, both daemons */
	atomic_uint_fast64_t responses[6];
};

enum cache { CACHE_NONE, CACHE_REVALIDATE };

struct http_request {
	struct http_server *srv;
	struct MHD_Connection *conn;
	bool metrics;			/* on the metrics listener */
	bool started;
	enum req_method method;
	char target[REQ_TARGET_MAX + 1];
	int target_ret;			/* req_target_parse()'s */
	struct req_target t;
	struct req_params query, form;
	char *body;
	size_t body_len;
	bool body_too_big;
	bool has_session;
	char session_id[REQ_TOKEN_HEX + 1];
	struct session_info session;
	char addr[64];			/* the client's address, text */
};

int64_t http_now_ms(void);

/* Queues r (taking it) with status and the common headers. */
enum MHD_Result http_send(struct http_request *rq, unsigned status,
    struct MHD_Response *r, enum cache cache);
/* {"error":msg} with status. */
enum MHD_Result http_error(struct http_request *rq, unsigned status,
    const char *msg);
/* A data-side reply (freed here). */
enum MHD_Result http_reply(struct http_request *rq, struct dash_reply *r);
/* 303 to location, with a Set-Cookie when cookie is not NULL. */
enum MHD_Result http_redirect(struct http_request *rq, const char *location,
    const char *cookie);
/* A malloc'd body, taken. */
struct MHD_Response *http_buffer(const char *type, char *body, size_t len);

/* pages.c: pages, static files, chart.js, login and logout. */
enum MHD_Result pages_handle(struct http_request *rq);
/* api.c: /api/..., /events, and the metrics listener. */
enum MHD_Result api_handle(struct http_request *rq);
enum MHD_Result api_metrics(struct http_request *rq);

#endif
