/* What the pieces of the historian's ingest share: ingest.c (the path
 * of each message), ingest_logs.c (opening, recovering and committing the
 * logs) and ingest_store.c (the store hook).  Internal; the contract is
 * ingest.h. */
#ifndef WGU_HUB_INGEST_INTERNAL_H
#define WGU_HUB_INGEST_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "hub/ingest.h"
#include "mqtt/telemetry.h"

/* The live store commits at every group commit while it has at most
 * STORE_QUICK_ROWS rows to commit, else about every STORE_COMMIT_S
 * seconds (ingest_logs.c). */
#define STORE_COMMIT_S 1.0
#define STORE_QUICK_ROWS 256

/* ms since the epoch (CLOCK_REALTIME): when a message was received. */
uint64_t ingest_now_ms(void);

/* To the reject log with the reason (topic may be NULL), counted as
 * rejected and shown. */
void ingest_reject(struct ingest *in, uint64_t received, const char *topic,
    const char *reason, const void *raw, size_t rawlen);

/* After a successful append: the reading r and where its line ends (the
 * log's size now). */
void ingest_store_take(struct ingest *in, const struct telemetry_reading *r,
    uint64_t received);

/* The log synced (unless --fsync never), then PostgreSQL's thread told
 * how far it may read.  0 or -errno (not said). */
int ingest_log_sync(struct ingest *in);

/* The log synced first, then the store committed: the store is never
 * ahead of the log on disk.  Nothing without a store. */
void ingest_store_flush(struct ingest *in);

/* Whether the group commit at now commits the store too (see
 * STORE_QUICK_ROWS): true without a store (PostgreSQL only). */
bool ingest_store_due(const struct ingest *in, ev_tstamp now);

/* The log's identity and end, for the store's position; lines: the log's
 * line count (kept when the same file was reopened, not rotated). */
void ingest_store_mark_log(struct ingest *in, uint64_t lines);

/* Opens the store and brings it level with the logs; an unreadable
 * database is moved aside (PATH.unreadable) and made anew.  0, or a
 * negative errno with *sp NULL. */
int ingest_store_level(const struct ingest_config *cfg, struct store **sp);

/* PostgreSQL's follower (ingest_pg.c): set up with the logs open,
 * before the sandbox's drop (the files it reads are opened here); its
 * thread started after it (and filtered like the rest).  Nothing without
 * cfg.pg.  0 or -errno. */
int ingest_pg_init(struct ingest *in);
int ingest_pg_start(struct ingest *in);

/* The log is synced up to in->pos: the follower may read that far
 * (and run the retention when asked). */
void ingest_pg_synced(struct ingest *in, bool retain);

/* One last catch-up to in->pos, waited for a bounded time. */
void ingest_pg_stop(struct ingest *in);

/* The retention timer (in->retain): readings older than retain_days
 * leave the store. */
void ingest_on_retain(struct ev_loop *loop, ev_timer *w, int revents);

#endif
