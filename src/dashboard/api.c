/* /api/..., /events and /metrics: the checked request handed to the data
 * side (data.h), whose reply goes out as it is. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard/data.h"
#include "dashboard/http_internal.h"
#include "dashboard/ratelimit.h"
#include "dashboard/sse.h"

static enum MHD_Result session_info(struct http_request *rq)
{
	char *body;
	int n;

	/* User names are [A-Za-z0-9._-] (users.c), the token hex: nothing
	 * to escape. */
	n = asprintf(&body, "{\"user\":\"%s\",\"role\":\"%s\","
	    "\"csrf\":\"%s\"}", rq->session.user,
	    users_role_name(rq->session.role), rq->session.csrf);
	if (n < 0)
		return http_send(rq, 500, NULL, CACHE_NONE);
	return http_send(rq, 200, http_buffer("application/json", body,
	    (size_t)n), CACHE_NONE);
}

static enum MHD_Result events(struct http_request *rq)
{
	struct MHD_Response *r = sse_client_new(rq->srv->sse, rq->conn,
	    rq->session_id);

	if (r == NULL)
		return http_error(rq, 503, "too many event streams");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/event-stream");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	return http_send(rq, 200, r, CACHE_NONE);
}

/* The request's query string as the data side's arguments. */
static size_t query_args(const struct http_request *rq,
    struct dash_arg args[static REQ_PARAMS_MAX])
{
	size_t i;

	for (i = 0; i < rq->query.n; i++) {
		args[i].key = rq->query.key[i];
		args[i].value = rq->query.value[i];
	}
	return rq->query.n;
}

static enum MHD_Result history(struct http_request *rq, bool csv)
{
	struct dash_arg args[REQ_PARAMS_MAX];
	struct dash_history_query q;
	struct dash_reply r = { 0 };
	char err[DASH_ERR_MAX];

	if (dash_parse_history_args(args, query_args(rq, args), http_now_ms(),
	    &q, err) < 0)
		return http_error(rq, 400, err);
	dash_api_history(rq->srv->data, &q, csv, &r);
	return http_reply(rq, &r);
}

static enum MHD_Result alarms(struct http_request *rq)
{
	struct dash_arg args[REQ_PARAMS_MAX];
	struct dash_alarms_query q;
	struct dash_reply r = { 0 };
	char err[DASH_ERR_MAX];

	if (dash_parse_alarms_args(args, query_args(rq, args), http_now_ms(),
	    &q, err) < 0)
		return http_error(rq, 400, err);
	dash_api_alarms(rq->srv->data, &q, &r);
	return http_reply(rq, &r);
}

static enum MHD_Result ack(struct http_request *rq)
{
	struct dash_reply r = { 0 };
	char err[DASH_ERR_MAX];
	int64_t id;

	if (rq->session.role != USER_ROLE_OPERATOR)
		return http_error(rq, 403, "only operators acknowledge "
		    "alarms");
	if (dash_parse_alarm_id(rq->t.arg, &id, err) < 0)
		return http_error(rq, 400, err);
	dash_api_ack(rq->srv->data, id, rq->session.user, http_now_ms(), &r);
	return http_reply(rq, &r);
}

enum MHD_Result api_handle(struct http_request *rq)
{
	struct dash_reply r = { 0 };
	struct dash_data *d = rq->srv->data;

	switch (rq->t.route) {
	case ROUTE_API_SESSION:
		return session_info(rq);
	case ROUTE_API_NODES:
		dash_api_nodes(d, http_now_ms(), &r);
		return http_reply(rq, &r);
	case ROUTE_API_THRESHOLDS:
		dash_api_thresholds(d, &r);
		return http_reply(rq, &r);
	case ROUTE_API_HISTORY:
		return history(rq, false);
	case ROUTE_API_HISTORY_CSV:
		return history(rq, true);
	case ROUTE_API_ALARMS:
		return alarms(rq);
	case ROUTE_API_ACK:
		return ack(rq);
	case ROUTE_API_TUNNEL:
		dash_api_tunnel(d, http_now_ms(), &r);
		return http_reply(rq, &r);
	case ROUTE_EVENTS:
		return events(rq);
	default:
		return http_error(rq, 404, "no such resource");
	}
}

/* ---------------------------------------------------------------- metrics */

/* The HTTP side's own families after the data side's. */
static char *own_metrics(struct http_server *s, size_t *len)
{
	static const char *const classes[] = { "", "1xx", "2xx", "3xx",
	    "4xx", "5xx" };
	struct loginlimit_stats ls;
	struct sse_stats ss;
	char *buf = NULL;
	size_t cap = 0;
	FILE *f = open_memstream(&buf, &cap);
	unsigned i;

	if (f == NULL)
		return NULL;
	loginlimit_stats(s->limit, &ls);
	sse_stats(s->sse, &ss);
	fprintf(f, "# HELP wgu_dashboard_http_responses_total HTTP "
	    "responses by status class.\n"
	    "# TYPE wgu_dashboard_http_responses_total counter\n");
	for (i = 1; i <= 5; i++)
		fprintf(f, "wgu_dashboard_http_responses_total{code=\"%s\"} "
		    "%llu\n", classes[i], (unsigned long long)
		    atomic_load(&s->responses[i]));
	fprintf(f, "# HELP wgu_dashboard_sessions Login sessions held.\n"
	    "# TYPE wgu_dashboard_sessions gauge\n"
	    "wgu_dashboard_sessions %zu\n",
	    sessions_count(s->sessions));
	fprintf(f, "# HELP wgu_dashboard_login_failures_total Failed "
	    "logins.\n# TYPE wgu_dashboard_login_failures_total counter\n"
	    "wgu_dashboard_login_failures_total %llu\n"
	    "# HELP wgu_dashboard_login_rate_limited_total Logins refused "
	    "with 429.\n"
	    "# TYPE wgu_dashboard_login_rate_limited_total counter\n"
	    "wgu_dashboard_login_rate_limited_total %llu\n",
	    (unsigned long long)ls.failures, (unsigned long long)ls.refused);
	fprintf(f, "# HELP wgu_dashboard_sse_clients Browsers connected to "
	    "/events.\n# TYPE wgu_dashboard_sse_clients gauge\n"
	    "wgu_dashboard_sse_clients %llu\n"
	    "# HELP wgu_dashboard_sse_events_total Events published to "
	    "/events.\n# TYPE wgu_dashboard_sse_events_total counter\n"
	    "wgu_dashboard_sse_events_total %llu\n"
	    "# HELP wgu_dashboard_sse_overflows_total Event streams closed "
	    "because the browser did not keep up.\n"
	    "# TYPE wgu_dashboard_sse_overflows_total counter\n"
	    "wgu_dashboard_sse_overflows_total %llu\n",
	    (unsigned long long)ss.clients, (unsigned long long)ss.events,
	    (unsigned long long)ss.overflowed);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	*len = cap;
	return buf;
}

enum MHD_Result api_metrics(struct http_request *rq)
{
	struct dash_reply r = { 0 };
	char *own, *all;
	size_t own_len = 0;

	dash_metrics(rq->srv->data, http_now_ms(), &r);
	if (r.status != 200 || r.body == NULL)
		return http_reply(rq, &r);
	own = own_metrics(rq->srv, &own_len);
	all = own ? realloc(r.body, r.len + own_len + 1) : NULL;
	if (all) {
		memcpy(all + r.len, own, own_len + 1);
		r.body = all;
		r.len += own_len;
	}
	free(own);
	return http_reply(rq, &r);
}
