/* The fleet's live state as the dashboard sees it: per node the last
 * reading (p, t, v, status, its device time and when the hub got it),
 * how many readings came since the dashboard started, the rate over the
 * last DASH_RATE_WINDOW_S seconds, and whether it has gone silent.
 *
 * Fed by the MQTT feed on the main thread, read by the HTTP threads:
 * every function takes the fleet's own lock.  Times are given by the
 * caller (ms since the epoch, the hub's clock), so tests inject them. */
#ifndef WGU_DASHBOARD_FLEET_H
#define WGU_DASHBOARD_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtt/telemetry.h"

enum {
	DASH_RATE_WINDOW_S = 10,
	/* Nodes beyond this are not tracked (counted): a broker account
	 * inventing node names cannot make the dashboard grow without end. */
	DASH_FLEET_MAX = 20000,
};

/* One node as seen at a moment (a copy: no lock needed to read it). */
struct fleet_entry {
	char node[TELEMETRY_NODE_ID_MAX + 1];
	int status;
	double p, t, v;			/* NAN when absent */
	int64_t ts, received;		/* ms; the last reading's */
	uint64_t readings;		/* since the dashboard started */
	double age_s;			/* now - received, >= 0 */
	double rate;			/* readings/s over the window */
	bool silent;			/* age_s > silent_after */
	unsigned gaps_open;		/* filled by the caller (alarms) */
};

struct fleet;

/* silent_after_s > 0. NULL on ENOMEM. */
struct fleet *fleet_new(double silent_after_s);
void fleet_free(struct fleet *f);

/* A reading received at received_ms.  live false: a row seeded from
 * the store (sets the last values only when newer, counts nothing).
 * Returns 0, -ENOSPC past DASH_FLEET_MAX nodes, -ENOMEM. */
int fleet_update(struct fleet *f, const struct telemetry_reading *r,
    int64_t received_ms, bool live);

/* The nodes sorted by name, as of now_ms: *out malloc'd (the caller
 * frees it), *n entries.  0 or -ENOMEM. */
int fleet_snapshot(struct fleet *f, int64_t now_ms, struct fleet_entry **out,
    size_t *n);

/* One node as of now_ms.  0, or -ENOENT. */
int fleet_lookup(struct fleet *f, const char *node, int64_t now_ms,
    struct fleet_entry *out);

/* Orders entries by node name (qsort/bsearch). */
int fleet_entry_cmp(const void *a, const void *b);

/* Nodes refused past DASH_FLEET_MAX. */
uint64_t fleet_refused(struct fleet *f);

#endif
