/* The store's PostgreSQL backend (store.h's calls over libpq): one
 * database for the historians of many plants, each reading with its
 * plant, the readings table partitioned by month of device time so that
 * an old month drops as a whole.
 *
 * The schema (made when missing, by whichever historian comes first):
 * - nodes (id, plant, name): one id per node of a plant;
 * - readings (plant, node, ts, boot, seq, received, p, t, v, status,
 *   exactly_once, digest, fields): the SQLite store's columns (store.c),
 *   with the plant, and the data fields beyond p, t, v as one jsonb
 *   column (they drop with their month); PARTITION BY RANGE (ts), one
 *   partition per calendar month (UTC), readings_YYYY_MM, made before the
 *   first reading of a month is inserted, and the month after it ahead;
 *   readings_before_1970 and readings_after_9999 take absurd device
 *   times.  Unique on (plant, node, boot, seq, ts) and on (plant, node,
 *   ts, received, digest): a unique key of a partitioned table must hold
 *   its partition key, and ts is the same for every copy of a reading
 *   with boot/seq (it is the line's), so this is store.h's key.
 * - log_position (plant, dev, ino, log_offset, lines): how far into its
 *   log each plant's historian has read, written in the same transaction
 *   as the rows;
 * - wgu_readings: a view with node names and timestamptz times, for SQL
 *   tools (Grafana);
 * - wgu_meta: the schema version.
 *
 * A batch is COPYed into a temporary table and moved into readings with
 * INSERT ... ON CONFLICT DO NOTHING, with the position, in one
 * transaction.  Every call blocks on the server: the historian calls
 * them from its own thread (ingest_pg.c), never from the loop. */
#ifndef WGU_HUB_STORE_PG_H
#define WGU_HUB_STORE_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hub/store.h"

enum {
	STORE_PG_PLANT_MAX = 64,	/* of [A-Za-z0-9._-] */
	STORE_PG_PART_NAME = 32,	/* "readings_2026_12" with its NUL */
	STORE_PG_CONNECT_TIMEOUT = 5,	/* seconds, unless conninfo says */
	/* wgu_meta's schema_version: PostgreSQL has no alarm tables, so
	 * it stays at 1 where SQLite's (STORE_SCHEMA_VERSION) went on. */
	STORE_PG_SCHEMA_VERSION = 1,
};

/* Connects, makes the schema when missing and reads the plant's
 * position.  0 and *s, or -errno with *s NULL and the reason in err
 * (one line). */
int store_open_pg(struct store **s, const char *conninfo, const char *plant,
    char *err, size_t errlen);

/* --rebuild: the plant's readings and position deleted (its nodes
 * kept), for a catch-up from the start of the logs.  0 or -errno. */
int store_pg_forget(struct store *s);

/* Whether conninfo parses (libpq's syntax); the reason in err, one line. */
bool store_pg_conninfo_ok(const char *conninfo, char *err, size_t errlen);

/* Whether plant is a usable plant name (1..STORE_PG_PLANT_MAX of
 * [A-Za-z0-9._-]). */
bool store_pg_plant_ok(const char *plant);

/* The month partition holding device time ts_ms: its name and its range
 * [*from, *to) in ms.  false (and readings_before_1970 or
 * readings_after_9999) outside years 1970..9999. */
bool store_pg_month(int64_t ts_ms, char name[STORE_PG_PART_NAME],
    int64_t *from, int64_t *to);

/* Whether name is a month partition (readings_YYYY_MM) and, if so, the
 * end of its range in ms. */
bool store_pg_month_end(const char *name, int64_t *to);

#endif
