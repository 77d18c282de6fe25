/* What wgu-historian shows: the live view on stdout (one line per reading
 * logged, one per event: a reject, a duplicate, a gap, the session), the
 * warnings on stderr, and the summary at exit.  Output only: it reads the
 * counts it is handed and the duplicate table, and changes nothing. */
#ifndef WGU_HUB_VIEW_H
#define WGU_HUB_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "hub/dedup.h"
#include "mqtt/recent.h"
#include "mqtt/telemetry.h"

enum {
	VIEW_GAPS_SHOWN = 8,	/* per stream, lowest first */
};

/* An event's kind picks its colour. */
enum view_event {
	VIEW_REJECTED,
	VIEW_DUPLICATE,
	VIEW_GAP,
	VIEW_SESSION,
};

struct view {
	bool color;		/* ANSI colours for warning, critical, events */
};

/* What the summary reports; ingest_totals() and resend_totals() fill it. */
struct view_totals {
	uint64_t received, logged, duplicates, rejected, write_errors;
	uint64_t resend_requests;
	uint64_t refused;	/* valid readings whose duplicate state could
				 * not be kept: rejected, never logged */
	uint64_t resends_held;	/* requests held back by the rate limit */
};

void view_init(struct view *v, bool color);

/* A reading just logged; note ("" for none) follows it on its line. */
void view_reading(const struct view *v, const struct telemetry_reading *r,
    const char *note);

/* A non-reading event in the live view. */
__attribute__((format(printf, 3, 4)))
void view_event(const struct view *v, enum view_event kind,
    const char *fmt, ...);

/* A warning on stderr: "wgu-historian: ..." (stdout flushed first, so the
 * two read in order when they go to one file). */
__attribute__((format(printf, 1, 2)))
void view_warn(const char *fmt, ...);

/* The summary at exit: the totals, then a row per stream of the table
 * (exactly-once nodes), then a row per node of the duplicate window
 * (at-least-once nodes; window may be NULL).
 * share names the --share group (NULL: none), whose gaps are mostly the
 * other members' readings. */
void view_summary(const struct view *v, const struct view_totals *n,
    const struct dedup_table *t, const struct recent_table *window,
    const char *share);

#endif
