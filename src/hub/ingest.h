/* The historian's ingest: every message from the session goes through
 *
 *	validate -> dedup -> append -> remember (and ask for gaps)
 *
 * - validate: the topic names a node, the payload is a valid reading
 *   (telemetry.h) of that node, parsed once; anything else goes to the
 *   reject log with the reason.  Another payload schema would be
 *   recognised here and turned into the same struct telemetry_reading.
 * - dedup: a reading already in the log is dropped (counted); one whose
 *   duplicate state cannot be kept (its node out of room, see dedup.h) is
 *   refused to the reject log, counted, and never logged.  A reading
 *   without boot_id/seq (a plant's own publisher) is logged at least
 *   once: a redelivery of the same node, timestamp and content within the
 *   duplicate window (recent.h) is dropped, and no resend is ever asked
 *   of such a node.
 * - append: one line in the production log (histlog.h), the record.  The
 *   store (store.h, a database derived from the log) takes the reading
 *   after this step, never before, and commits after the log was synced:
 *   it is never ahead of the log.
 * - remember: the reading is marked seen; a gap it opens is asked for
 *   again (resend.h); the live view shows it.
 *
 * A node's event (PREFIX/NODE/event) goes to the reject log, the log of
 * everything that is not a reading.  One that carries "boot_id" and
 * "event_seq" (wgu-modbus spools its events, node.h) is logged exactly
 * once: a copy of one already logged is dropped (counted), by a table of
 * its own rebuilt from the reject log at start.
 *
 * Exactly-once is ours, not MQTT's: libmosquitto acknowledges a QoS 1
 * message before our callback runs, and nodes replay their spool, so the
 * same reading can come twice and one can be lost between PUBACK and the
 * disk.  (node_id, boot_id, seq) with seq gapless per boot (telemetry.h)
 * lets the log itself say what it holds, what it lacks, and what to ask
 * for again.
 *
 * Usage: ingest_init() opens both logs and rebuilds the duplicate table
 * from them (seed logs first), then opens the store and catches it up
 * with the logs; ingest_start() starts the group commit timer (which
 * also commits the store) and the retention timer; ingest_message() for each message; ingest_stop() syncs and closes
 * the logs. */
#ifndef WGU_HUB_INGEST_H
#define WGU_HUB_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "hub/dedup.h"
#include "hub/histlog.h"
#include "hub/resend.h"
#include "hub/store.h"
#include "hub/view.h"
#include "mqtt/recent.h"

/* Told of what ingest takes (the alarms, watch.h); either may be NULL. */
struct ingest_observer {
	/* A reading just logged, received at received (ms). */
	void (*reading)(void *ctx, const struct telemetry_reading *r,
	    uint64_t received);
	/* A node's valid event: its name ([a-z-]) and its "reason" member
	 * ("" when none). */
	void (*event)(void *ctx, const char *node, const char *event,
	    const char *reason, uint64_t received);
	void *ctx;
};

struct ingest_config {
	const char *log, *reject_log;
	enum histlog_fsync fsync;
	double fsync_interval;		/* seconds, for INTERVAL */
	const char *const *seed_logs;	/* older (rotated) logs, only read */
	int nseed_logs;
	/* Minutes east of UTC of a timestamp string without a zone. */
	int zoneless_offset_min;
	/* The duplicate window of nodes without boot_id/seq. */
	struct recent_limits window;
	/* The store: NULL for none.  Readings older than retain_days
	 * (device time) leave it; 0 keeps everything. */
	const char *db;
	int retain_days;
	/* PostgreSQL (store_pg.h): libpq's conninfo, NULL for none, and
	 * this historian's plant. */
	const char *pg, *plant;
	const struct ingest_observer *observer;	/* NULL: none */
};

struct ingest_counters {
	uint64_t received, logged, duplicates, rejected, write_errors;
	uint64_t refused;	/* of rejected: no room for their state */
	uint64_t events;	/* nodes' events, in the reject log */
	uint64_t event_duplicates;	/* copies of logged events dropped */
};

struct ingest {
	struct ingest_config cfg;
	struct ev_loop *loop;
	struct dedup_table *dedup;	/* the caller's, filled here */
	struct dedup_table *event_dedup;	/* ours: events with a seq */
	struct recent_table *recent;	/* ours: nodes without boot_id/seq */
	struct resend *resend;
	const struct view *view;
	struct histlog log, rejects;
	ev_timer commit;
	ev_tstamp store_committed;	/* the store's last commit, loop time */
	struct ingest_counters n;
	uint64_t recovered_bad;		/* log lines without a key */
	struct store *store;		/* NULL: none, or given up on */
	struct store_position pos;	/* the log's end, for the store */
	ev_timer retain;
	struct ingest_pg *pg;		/* NULL: no PostgreSQL */
};

/* Opens the logs and recovers them into dedup.  cfg's strings, dedup,
 * resend and view must outlive in.  0, or a negative errno after saying
 * why on stderr; ingest_stop() is safe either way. */
int ingest_init(struct ingest *in, struct ev_loop *loop,
    const struct ingest_config *cfg, struct dedup_table *dedup,
    struct resend *resend, const struct view *view);
void ingest_start(struct ingest *in);

/* One message: topic NUL-terminated, payload len bytes of anything. */
void ingest_message(struct ingest *in, const char *topic,
    const void *payload, size_t len);

/* Fills the message counts of the summary's totals. */
void ingest_totals(const struct ingest *in, struct view_totals *t);

/* The production log, open from ingest_init() to ingest_stop(): for the
 * signed checkpoints (audit.h), which read its chain and line count. */
struct histlog *ingest_log(struct ingest *in);

/* The store, NULL when there is none or it was given up on (then until
 * the next start): for the alarms and figures kept beside the readings. */
struct store *ingest_store(struct ingest *in);

/* --rebuild: the store made anew from the seed logs and the log, which
 * are only read (no repair); its alarms, which the logs cannot give
 * back, are carried over.  0 or a negative errno (said on stderr). */
int ingest_rebuild(const struct ingest_config *cfg);

/* For logrotate (SIGHUP): reopens both logs. */
void ingest_reopen(struct ingest *in);

/* Stops the timer, syncs and closes the logs. */
void ingest_stop(struct ingest *in);

#endif
