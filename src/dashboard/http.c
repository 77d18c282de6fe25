/* libmicrohttpd glue; see http.h.
 *
 * A request's life: the URI-log callback (first thing MHD knows) makes
 * our struct http_request with the raw target, before MHD unescapes
 * anything; the access handler then sees it once with the headers (route,
 * method and early refusals), again for each piece of a POST body
 * (bounded), and a last time to answer; the completion callback frees it.
 * Everything from the target, query, cookie and form is parsed by the
 * pure request layer (request.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dashboard/data.h"
#include "dashboard/http_internal.h"
#include "dashboard/ratelimit.h"
#include "dashboard/sse.h"

/* CSP: only our own origin, no inline script or style, no framing. */
#define CSP "default-src 'self'; img-src 'self' data:; object-src 'none'; " \
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

int64_t http_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- answers */

struct MHD_Response *http_buffer(const char *type, char *body, size_t len)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(body);
		return NULL;
	}
	if (type)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	return r;
}

enum MHD_Result http_send(struct http_request *rq, unsigned status,
    struct MHD_Response *r, enum cache cache)
{
	enum MHD_Result ret;

	if (r == NULL) {
		/* Out of memory: a response with no body at all. */
		r = MHD_create_response_from_buffer(0, (void *)"",
		    MHD_RESPMEM_PERSISTENT);
		status = 500;
		if (r == NULL)
			return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Security-Policy", CSP);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
	    cache == CACHE_NONE ? "no-store" : "no-cache");
	if (rq->srv->tls)
		MHD_add_response_header(r, "Strict-Transport-Security",
		    "max-age=31536000");
	if (status >= 100 && status < 600)
		atomic_fetch_add(&rq->srv->responses[status / 100], 1);
	ret = MHD_queue_response(rq->conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result http_error(struct http_request *rq, unsigned status,
    const char *msg)
{
	struct dash_reply r = { 0 };

	dash_reply_error(&r, (int)status, msg);
	return http_reply(rq, &r);
}

enum MHD_Result http_reply(struct http_request *rq, struct dash_reply *r)
{
	struct MHD_Response *resp = NULL;
	unsigned status = r->status > 0 ? (unsigned)r->status : 500;

	if (r->body) {
		resp = http_buffer(r->content_type, r->body, r->len);
		r->body = NULL;		/* taken */
	}
	dash_reply_free(r);
	return http_send(rq, status, resp, CACHE_NONE);
}

enum MHD_Result http_redirect(struct http_request *rq, const char *location,
    const char *cookie)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(0,
	    (void *)"", MHD_RESPMEM_PERSISTENT);

	if (r) {
		MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, location);
		if (cookie)
			MHD_add_response_header(r,
			    MHD_HTTP_HEADER_SET_COOKIE, cookie);
	}
	return http_send(rq, 303, r, CACHE_NONE);
}

/* ---------------------------------------------------------------- request */

static void client_address(struct http_request *rq)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(rq->conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	strcpy(rq->addr, "unknown");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, rq->addr, sizeof(rq->addr));
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr, rq->addr, sizeof(rq->addr));
}

static struct http_request *request_new(struct http_server *s, bool metrics,
    const char *uri, struct MHD_Connection *c)
{
	struct http_request *rq = calloc(1, sizeof(*rq));

	if (rq == NULL)
		return NULL;
	rq->srv = s;
	rq->conn = c;
	rq->metrics = metrics;
	if (strlen(uri) > REQ_TARGET_MAX)
		rq->target_ret = -EINVAL;
	else
		strcpy(rq->target, uri);
	return rq;
}

static void *uri_main(void *cls, const char *uri, struct MHD_Connection *c)
{
	return request_new(cls, false, uri, c);
}

static void *uri_metrics(void *cls, const char *uri, struct MHD_Connection *c)
{
	return request_new(cls, true, uri, c);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_request *rq = *con_cls;

	if (rq == NULL)
		return;
	if (rq->body) {
		/* A login form: the password. */
		explicit_bzero(rq->body, rq->body_len);
		free(rq->body);
	}
	explicit_bzero(&rq->form, sizeof(rq->form));
	free(rq);
	*con_cls = NULL;
}

/* The session from the Cookie header, if it names a live one. */
static void find_session(struct http_request *rq)
{
	const char *cookie = MHD_lookup_connection_value(rq->conn,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE);

	if (req_cookie_get(cookie, SESSION_COOKIE, rq->session_id,
	    sizeof(rq->session_id)) != 0)
		return;
	rq->has_session = sessions_lookup(rq->srv->sessions, rq->session_id,
	    http_now_ms(), &rq->session);
}

/* A POST from a page of another site (a browser says so in Origin): not
 * for us, whatever it carries. */
static bool origin_ok(struct http_request *rq)
{
	const char *origin = MHD_lookup_connection_value(rq->conn,
	    MHD_HEADER_KIND, "Origin");
	const char *host = MHD_lookup_connection_value(rq->conn,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);

	return req_origin_ok(origin, host, rq->srv->tls);
}

/* A state change: the session's CSRF token in the header or the form. */
static bool csrf_ok(struct http_request *rq)
{
	const char *token = MHD_lookup_connection_value(rq->conn,
	    MHD_HEADER_KIND, "X-CSRF-Token");

	if (token == NULL)
		token = req_params_get(&rq->form, "csrf");
	return token != NULL && sessions_csrf_ok(&rq->session, token);
}

/* 405 with the methods the resource takes. */
static enum MHD_Result not_allowed(struct http_request *rq, unsigned methods)
{
	static const char body[] = "{\"error\":\"method not allowed\"}";
	struct MHD_Response *r = http_buffer("application/json",
	    strdup(body), sizeof(body) - 1);

	if (r)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW,
		    req_allow_header(methods));
	return http_send(rq, 405, r, CACHE_NONE);
}

/* The checks every route shares, in order: target, route, method,
 * query, body, origin, session, CSRF.  Then the route's handler. */
static enum MHD_Result dispatch(struct http_request *rq)
{
	const struct req_route_info *info = req_route_info(rq->t.route);
	const char *type;

	if (rq->target_ret < 0)
		return http_error(rq, 400, "malformed request target");
	if (rq->t.route == ROUTE_NONE)
		return http_error(rq, 404, "no such resource");
	if (!(info->methods & rq->method))
		return not_allowed(rq, info->methods);
	if (rq->t.query && rq->t.query_len > 0 && !info->query)
		return http_error(rq, 400, "this resource takes no query "
		    "parameters");
	if (rq->t.query && req_params_parse(&rq->query, rq->t.query,
	    rq->t.query_len) < 0)
		return http_error(rq, 400, "malformed query string");
	if (rq->body_too_big)
		return http_error(rq, 413, "request body too large");
	if (rq->body_len > 0) {
		type = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_TYPE);
		if (!req_is_form(type))
			return http_error(rq, 415, "expected an "
			    "application/x-www-form-urlencoded body");
		if (req_params_parse(&rq->form, rq->body, rq->body_len) < 0)
			return http_error(rq, 400, "malformed form body");
	}
	if (rq->method == REQ_POST && !origin_ok(rq))
		return http_error(rq, 403, "request from another origin");
	find_session(rq);
	if (info->session && !rq->has_session) {
		if (info->api)
			return http_error(rq, 401, "not logged in");
		return http_redirect(rq, "/login", NULL);
	}
	if (info->csrf && !csrf_ok(rq))
		return http_error(rq, 403, "missing or wrong CSRF token");
	if (info->api)
		return api_handle(rq);
	return pages_handle(rq);
}

/* The Content-Length header's value; 0 when absent or unreadable (MHD
 * itself refuses a malformed one). */
static unsigned long long announced_length(struct MHD_Connection *c)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);

	return v && strspn(v, "0123456789") == strlen(v) && *v ?
	    strtoull(v, NULL, 10) : 0;
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *c,
    const char *url, const char *method, const char *version,
    const char *upload, size_t *upload_size, void **con_cls)
{
	struct http_request *rq = *con_cls;

	if (rq == NULL)
		return MHD_NO;		/* out of memory at the URI */
	if (!rq->started) {
		rq->started = true;
		rq->conn = c;
		rq->method = req_method_parse(method);
		if (rq->target_ret == 0)
			rq->target_ret = req_target_parse(rq->target,
			    rq->metrics, &rq->t);
		client_address(rq);
		/* A body announced too big is refused before it is read
		 * (one sent chunked is read and dropped). */
		if (announced_length(c) > HTTP_BODY_MAX)
			return http_error(rq, 413, "request body too large");
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (rq->body_len + *upload_size > HTTP_BODY_MAX ||
		    rq->method != REQ_POST) {
			rq->body_too_big = true;
		} else if (!rq->body_too_big) {
			if (rq->body == NULL &&
			    (rq->body = malloc(HTTP_BODY_MAX)) == NULL)
				return MHD_NO;
			memcpy(rq->body + rq->body_len, upload, *upload_size);
			rq->body_len += *upload_size;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->metrics) {
		if (rq->target_ret < 0)
			return http_error(rq, 400, "malformed request target");
		if (rq->t.route != ROUTE_METRICS)
			return http_error(rq, 404, "only /metrics here");
		if (!(rq->method & req_route_info(ROUTE_METRICS)->methods))
			return not_allowed(rq,
			    req_route_info(ROUTE_METRICS)->methods);
		return api_metrics(rq);
	}
	return dispatch(rq);
}

/* ---------------------------------------------------------------- life */

static void log_mhd(void *cls, const char *fmt, va_list ap)
{
	fprintf(stderr, "wgu-dashboard: http: ");
	vfprintf(stderr, fmt, ap);
}

struct http_server *http_new(struct users *users)
{
	struct http_server *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->cfg.listen_fd = s->cfg.metrics_fd = -1;
	s->users = users;
	s->sessions = sessions_new(SESSIONS_MAX, SESSION_IDLE_MS,
	    SESSION_ABS_MS);
	s->limit = loginlimit_new(1024, LOGIN_FAILURES_MAX, 60 * 1000);
	s->sse = sse_hub_new(SSE_CLIENTS_MAX, SSE_QUEUE_EVENTS,
	    SSE_QUEUE_BYTES);
	if (s->sessions == NULL || s->limit == NULL || s->sse == NULL) {
		http_free(s);
		return NULL;
	}
	return s;
}

static struct MHD_Daemon *start_daemon(struct http_server *s, int fd,
    bool metrics, unsigned threads)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem opt[4];
	size_t n = 0;

	if (s->tls && !metrics) {
		flags |= MHD_USE_TLS;
		opt[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY,
		    0, s->key };
		opt[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT,
		    0, s->cert };
	}
	if (threads > 1)
		opt[n++] = (struct MHD_OptionItem){
		    MHD_OPTION_THREAD_POOL_SIZE, threads, NULL };
	opt[n] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	return MHD_start_daemon(flags, 0, NULL, NULL, access_handler, s,
	    MHD_OPTION_EXTERNAL_LOGGER, log_mhd, s,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_URI_LOG_CALLBACK, metrics ? uri_metrics : uri_main, s,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, s,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)(metrics ? 16 : 512),
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024,
	    MHD_OPTION_ARRAY, opt,
	    MHD_OPTION_END);
}

int http_start(struct http_server *s, const struct http_config *cfg,
    char *err, size_t errlen)
{
	s->cfg = *cfg;
	s->data = cfg->data;
	s->tls = cfg->tls_cert != NULL;
	if (s->tls) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			snprintf(err, errlen, "this libmicrohttpd has no TLS");
			return -1;
		}
		s->cert = strdup(cfg->tls_cert);
		s->key = strdup(cfg->tls_key);
		if (s->cert == NULL || s->key == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	s->main = start_daemon(s, cfg->listen_fd, false,
	    cfg->threads ? cfg->threads : 2);
	if (s->main == NULL) {
		snprintf(err, errlen, "cannot start the HTTP%s server%s",
		    s->tls ? "S" : "", s->tls ? " (is the key the "
		    "certificate's, both PEM?)" : "");
		return -1;
	}
	s->cfg.listen_fd = -1;		/* MHD closes it when it stops */
	s->metrics = start_daemon(s, cfg->metrics_fd, true, 1);
	if (s->metrics == NULL) {
		snprintf(err, errlen, "cannot start the metrics server");
		return -1;
	}
	s->cfg.metrics_fd = -1;
	return 0;
}

void http_stop(struct http_server *s)
{
	if (s->main) {
		sse_close_all(s->sse);
		MHD_stop_daemon(s->main);
		s->main = NULL;
	}
	if (s->metrics) {
		MHD_stop_daemon(s->metrics);
		s->metrics = NULL;
	}
	if (s->cfg.listen_fd >= 0)
		close(s->cfg.listen_fd);
	if (s->cfg.metrics_fd >= 0)
		close(s->cfg.metrics_fd);
	s->cfg.listen_fd = s->cfg.metrics_fd = -1;
}

void http_free(struct http_server *s)
{
	if (s == NULL)
		return;
	sessions_free(s->sessions);
	loginlimit_free(s->limit);
	sse_hub_free(s->sse);
	if (s->key) {
		explicit_bzero(s->key, strlen(s->key));
		free(s->key);
	}
	free(s->cert);
	free(s);
}

void http_event(void *arg, const char *event, const char *json)
{
	struct http_server *s = arg;

	sse_publish(s->sse, event, json);
}

/* An open event stream is a page in use: it keeps its session from
 * going idle (not past its absolute end, when the stream closes and the
 * page's reconnection meets 401). */
static bool session_alive(void *arg, const char *id)
{
	struct http_server *s = arg;
	struct session_info info;

	return sessions_lookup(s->sessions, id, http_now_ms(), &info);
}

void http_keepalive(struct http_server *s)
{
	sse_check_sessions(s->sse, session_alive, s);
	sse_keepalive(s->sse);
}
