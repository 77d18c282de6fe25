/* What the store's two pieces share and no caller needs: store.c (the
 * SQLite backend) owns struct store, store_catchup.c (the catch-up from
 * the log) and store_alarms.c (the alarms and figures) reach it only
 * through store.h and these. */
#ifndef WGU_HUB_STORE_INTERNAL_H
#define WGU_HUB_STORE_INTERNAL_H

#include <stdbool.h>

struct store;

/* The page cache: large while catching up, small while live.  An SQLite
 * result code (0 when done). */
int store_set_cache(struct store *s, bool large);

/* Begins a transaction when none is open (committed by the next
 * store_commit()).  0 or -errno. */
int store_begin(struct store *s);

/* The connection, for store_alarms.c. */
struct sqlite3 *store_sqlite(struct store *s);

/* Keeps SQLite's message for store_error() and returns the result code
 * rc as a negative errno. */
int store_sql_error(struct store *s, int rc);

/* Whether a bulk load (store_bulk) is under way. */
bool store_in_bulk(const struct store *s);

#endif
