/* The historian's resend requests and gap report (see resend.h). */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "hub/resend.h"
#include "mqtt/telemetry.h"

static void on_report(struct ev_loop *loop, ev_timer *w, int revents);

void resend_init(struct resend *rs, struct ev_loop *loop,
    struct dedup_table *dedup, const struct view *view, const char *prefix,
    bool off, resend_publish_fn *publish, void *publish_ctx)
{
	*rs = (struct resend){
		.loop = loop, .dedup = dedup, .view = view, .prefix = prefix,
		.off = off, .publish = publish, .publish_ctx = publish_ctx,
	};
	ev_timer_init(&rs->report, on_report, RESEND_REPORT_SECONDS,
	    RESEND_REPORT_SECONDS);
	rs->report.data = rs;
}

void resend_start(struct resend *rs)
{
	ev_timer_start(rs->loop, &rs->report);
}

void resend_stop(struct resend *rs)
{
	ev_timer_stop(rs->loop, &rs->report);
}

void resend_report_soon(struct resend *rs)
{
	ev_feed_event(rs->loop, &rs->report, EV_TIMER);
}

/* Takes one request from a per-period allowance of max. */
static bool take(uint64_t *window, uint64_t *used, uint64_t now, uint64_t max)
{
	if (*window != now) {
		*window = now;
		*used = 0;
	}
	if (*used >= max)
		return false;
	(*used)++;
	return true;
}

/* The node's allowance first, then the overall one: a node out of room
 * must not use up the others'. */
static bool allowed(struct resend *rs, const char *node_id)
{
	uint64_t now = (uint64_t)(ev_now(rs->loop) / RESEND_REPORT_SECONDS);
	struct dedup_node *nd = dedup_node_find(rs->dedup, node_id);

	if (nd && !take(&nd->budget_window, &nd->budget_used, now,
	    RESEND_PER_NODE))
		return false;
	return take(&rs->window, &rs->used, now, RESEND_TOTAL);
}

/* A request that could not go out does not count against the node. */
static void refund(struct resend *rs, const char *node_id)
{
	struct dedup_node *nd = dedup_node_find(rs->dedup, node_id);

	if (nd && nd->budget_used > 0)
		nd->budget_used--;
	if (rs->used > 0)
		rs->used--;
}

static bool request(struct resend *rs, const char *node_id, uint64_t boot_id,
    const struct dedup_gap *gap)
{
	struct telemetry_resend rq = { boot_id, gap->from, gap->to };
	char topic[512], payload[256];
	int len, ret;

	if (rs->off || gap->from == 0 || gap->from > gap->to)
		return false;
	if (telemetry_topic(topic, sizeof(topic), rs->prefix, node_id,
	    "cmd") < 0)
		return false;
	len = telemetry_resend_build(&rq, payload, sizeof(payload));
	if (len < 0)
		return false;
	if (!allowed(rs, node_id)) {
		rs->held++;
		return false;
	}
	ret = rs->publish(rs->publish_ctx, topic, payload, (size_t)len);
	if (ret < 0) {
		refund(rs, node_id);
		if (ret != -ENOTCONN)	/* else asked again at the next report */
			view_warn("resend request to %s: %s", topic,
			    strerror(-ret));
		return false;
	}
	rs->requests++;
	return true;
}

bool resend_active(const struct resend *rs)
{
	return !rs->off;
}

void resend_totals(const struct resend *rs, struct view_totals *t)
{
	t->resend_requests = rs->requests;
	t->resends_held = rs->held;
}

bool resend_gap_opened(struct resend *rs, const char *node_id,
    uint64_t boot_id, const struct dedup_gap *gap)
{
	return request(rs, node_id, boot_id, gap);
}

/* Reports open gaps and asks for them again until they close. */
static void on_report(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct resend *rs = w->data;
	size_t i, b, g;

	if (rs->off)
		return;
	for (i = 0; i < dedup_node_count(rs->dedup); i++) {
		const struct dedup_node *nd = dedup_node_at(rs->dedup, i);

		for (b = 0; b < nd->nboots; b++) {
			const struct dedup_stream *s = &nd->boots[b];

			if (s->ngaps == 0)
				continue;
			view_event(rs->view, VIEW_GAP, "%s boot %" PRIu64 ": %"
			    PRIu64 " readings missing in %zu gaps, lowest %"
			    PRIu64 "..%" PRIu64, s->node_id, s->boot_id,
			    dedup_missing(s), s->ngaps, s->gaps[0].from,
			    s->gaps[0].to);
			for (g = 0; g < s->ngaps && g < VIEW_GAPS_SHOWN; g++)
				request(rs, s->node_id, s->boot_id,
				    &s->gaps[g]);
		}
	}
}
