/* What the store's pieces share and no caller needs: the state every
 * backend keeps (struct store, the head of each backend's own struct),
 * the backend's operations, and what the catch-up (store_catchup.c)
 * asks of them.  store_common.c keeps the shared bookkeeping (the
 * position, counters, the failed flag); store.c (SQLite) and store_pg.c
 * (PostgreSQL) only talk to their database; store_alarms.c (the alarms
 * and figures) reaches the SQLite one through the three calls below. */
#ifndef WGU_HUB_STORE_INTERNAL_H
#define WGU_HUB_STORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hub/store.h"

struct store_ops {
	/* The committed position, as the database holds it. */
	int (*position)(struct store *s, struct store_position *pos);
	/* One reading into the open batch: 1 added, 0 already there (as
	 * far as the backend knows before the commit), or -errno. */
	int (*add)(struct store *s, const struct telemetry_reading *r,
	    uint64_t received_ms, int64_t ts_ms);
	/* Writes s->pos with the batch and commits; on -errno, the
	 * caller then calls rollback. */
	int (*commit)(struct store *s);
	/* Forgets the open batch (nothing of it is kept). */
	void (*rollback)(struct store *s);
	int64_t (*retain)(struct store *s, int64_t cutoff_ms);
	int (*bulk)(struct store *s, bool on);
	int (*set_cache)(struct store *s, bool large);
	/* Frees the backend (after the caller committed or rolled back). */
	void (*close)(struct store *s);
};

struct store {
	const struct store_ops *ops;
	bool in_tx, moved, bulk;
	bool failed;		/* an add failed: the batch is not kept */
	struct store_position pos;		/* with the next commit */
	struct store_position committed;	/* as last committed */
	size_t pending;
	struct store_counters n;
	char err[256];
};

/* The page cache: large while catching up, small while live.  0 when
 * done (a backend's own result code otherwise, ignored by callers). */
int store_set_cache(struct store *s, bool large);

/* p, t and v are columns of readings; every other data field is kept
 * apart (SQLite: the fields table, PostgreSQL: a jsonb column). */
bool store_column_field(const char *name);

/* For store_alarms.c, on the SQLite store only (on any other: -ENOTSUP,
 * NULL).  store_begin begins a transaction when none is open (committed
 * by the next store_commit()), 0 or -errno; store_sqlite is the
 * connection; store_sql_error keeps SQLite's message for store_error()
 * and returns the result code rc as a negative errno. */
int store_begin(struct store *s);
struct sqlite3 *store_sqlite(struct store *s);
int store_sql_error(struct store *s, int rc);

/* Whether a bulk load (store_bulk) is under way. */
bool store_in_bulk(const struct store *s);

#endif
