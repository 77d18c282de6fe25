/* The historian's resend requests: asks a node to publish again what the
 * log lacks, when a gap opens and again at every gap report (every
 * RESEND_REPORT_SECONDS) until it closes, through the node's command topic
 * (telemetry.h).
 *
 * Rate-limited per node and overall, per report period, so that a node
 * which keeps opening gaps (or many nodes at once) cannot make the hub
 * flood the broker: a request held back is counted and asked again at a
 * later report, since the gap stays open.  The per-node allowance lives in
 * the node's duplicate state (struct dedup_node), bounded with it.
 *
 * Usage: resend_init(), resend_start() once the event loop runs,
 * resend_stop() before the loop goes.  Requests go out through the publish
 * function given to resend_init(), which answers 0 when the message is
 * queued and a negative errno when not (-ENOTCONN while no session:
 * asked again at the next report, not counted). */
#ifndef WGU_HUB_RESEND_H
#define WGU_HUB_RESEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "hub/dedup.h"
#include "hub/view.h"

enum {
	RESEND_REPORT_SECONDS = 10,	/* gap report, and asked again */
	RESEND_PER_NODE = 16,		/* requests per node per period */
	RESEND_TOTAL = 512,		/* requests in all per period */
};

typedef int resend_publish_fn(void *ctx, const char *topic,
    const char *payload, size_t len);

struct resend {
	struct ev_loop *loop;
	struct dedup_table *dedup;	/* read, and the budget members */
	const struct view *view;
	const char *prefix;		/* topics PREFIX/NODE/cmd */
	bool off;			/* a --share member asks for nothing */
	resend_publish_fn *publish;
	void *publish_ctx;
	ev_timer report;
	uint64_t window, used;		/* the overall allowance */
	uint64_t requests;		/* published */
	uint64_t held;			/* held back by the rate limit */
};

/* off: a member of a shared subscription sees only its share of the
 * seqs, so its holes are mostly the other members' readings; only the
 * union of the group's logs can tell what is missing, so it neither
 * reports gaps nor asks for them.  prefix, dedup and view must outlive
 * rs. */
void resend_init(struct resend *rs, struct ev_loop *loop,
    struct dedup_table *dedup, const struct view *view, const char *prefix,
    bool off, resend_publish_fn *publish, void *publish_ctx);
void resend_start(struct resend *rs);
void resend_stop(struct resend *rs);

/* False for a --share member, which asks for nothing (see resend_init). */
bool resend_active(const struct resend *rs);

/* A gap just opened in (node_id, boot_id): ask for it now.  True when the
 * request went out. */
bool resend_gap_opened(struct resend *rs, const char *node_id,
    uint64_t boot_id, const struct dedup_gap *gap);

/* Adds the requests made and held back to the summary's totals. */
void resend_totals(const struct resend *rs, struct view_totals *t);

/* Runs the gap report at the next loop iteration (after a (re)connect:
 * gaps found in the log at start or while disconnected). */
void resend_report_soon(struct resend *rs);

#endif
