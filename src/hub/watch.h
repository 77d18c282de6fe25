/* The historian's alarms at work: the adapter around the pure alarms.h.
 * It feeds it the readings and events ingest takes (the observer of
 * ingest.h), the gaps of the duplicate table, the WireGuard peers of
 * --interface's monitor socket (src/cli/ipc.h, every WATCH_PEERS_SECONDS)
 * and the time (every second); it keeps each change in the store
 * (store.h: the alarms table), publishes it (alarms_publish.h) and runs
 * the hook (hook.h).  Every WATCH_STATS_SECONDS it also refreshes the
 * store's historian_stats: duplicates_dropped, gaps_open, rejects,
 * log_bytes, ingest_lag_seconds (received minus device time of the
 * latest reading), readings_logged, and alarms_open, alarms_published,
 * hook_runs, hook_failures.
 *
 * At start the alarms the store has open are resumed, not raised again
 * (two open for one key: the later is closed), and the nodes it knows
 * are watched for silence from their latest reading.
 *
 * Usage: watch_init() once ingest_init() has levelled the store;
 * watch_start() with the loop; watch_stop(). */
#ifndef WGU_HUB_WATCH_H
#define WGU_HUB_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include "hub/alarms.h"
#include "hub/alarms_publish.h"
#include "hub/dedup.h"
#include "hub/hook.h"
#include "hub/ingest.h"
#include "hub/view.h"

enum {
	WATCH_TICK_SECONDS = 1,
	WATCH_STATS_SECONDS = 2,
	WATCH_PEERS_SECONDS = 10,
	WATCH_UAPI_TIMEOUT_MS = 2000,
};

struct watch_config {
	struct alarms_config alarms;
	const char *interface;	/* NULL: no peers watched */
	const char *prefix;	/* topic PREFIX/alarms */
	bool gaps;		/* false for a --share member (resend.h) */
};

struct watch {
	struct watch_config cfg;
	struct ev_loop *loop;
	struct alarms al;
	struct alarms_publisher pub;
	struct ingest *in;
	const struct dedup_table *dedup;
	struct hook *hook;
	const struct view *view;
	struct ingest_observer observer;	/* for ingest_config */
	ev_timer tick, stats, peers;
	int64_t last_id;	/* ids without a store continue from here */
	double lag;		/* seconds, of the latest reading */
	bool peers_failing;	/* said once per episode */
	uint64_t store_errors;
};

/* Prepares w and the observer ingest_init() gets (w->observer): call
 * before ingest_init(). */
void watch_prepare(struct watch *w, const struct watch_config *cfg,
    struct hook *hook, const struct view *view, alarms_publish_fn *publish,
    void *publish_ctx);

/* After ingest_init(): resumes what the store has open, the nodes it
 * knows, and writes the thresholds (a store that fails at it is said,
 * and the alarms go on without). */
void watch_init(struct watch *w, struct ev_loop *loop, struct ingest *in,
    const struct dedup_table *dedup);

void watch_start(struct watch *w);

/* The session is (again) connected: what waited is published. */
void watch_connected(struct watch *w);

void watch_stop(struct watch *w);

#endif
