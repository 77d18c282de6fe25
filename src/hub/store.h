/* The historian's store: every reading of the production log in a
 * database that can be asked questions (wgu-query), beside the log and
 * named after it (industrial_production.db).
 *
 * The log is the record; the store is derived from it and never ahead of
 * it.  A reading is added only after its log line was appended, and the
 * store keeps, in the same transaction as the rows, how far into the log
 * it has read (struct store_position).  store_catch_up() brings it level
 * with the log from there: after a crash, at every start, and from zero
 * for a new, lost or unreadable database (--rebuild).
 *
 * Exactly once, in the database as in the log:
 * - a reading with boot_id/seq is unique on (node, boot, seq): a second
 *   copy is refused (counted as already there);
 * - a reading without them is one log line: unique on (node, ts,
 *   received, content digest), which tells a line read twice (a catch-up
 *   over lines already in the store) from a redelivery that the log
 *   itself holds twice (outside the duplicate window, recent.h), which
 *   stays twice.
 *
 * This header names no database library: the SQLite backend is store.c
 * (store_open), the PostgreSQL one store_pg.c (store_open_pg in
 * store_pg.h, one database for many plants); both behind the same calls
 * (store_internal.h), with the shared bookkeeping in store_common.c.  Not
 * thread-safe; one writer per database (SQLite) or per plant
 * (PostgreSQL); readers any time.
 *
 * The schema and its version live in store.c only. */
#ifndef WGU_HUB_STORE_H
#define WGU_HUB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hub/alarms.h"
#include "mqtt/telemetry.h"

enum {
	STORE_SCHEMA_VERSION = 2,
	STORE_BATCH_ROWS = 1000,	/* the catch-up commits this often */
	/* The live historian commits about once a second (a node's rows of
	 * that second then share their pages, written once per commit) and
	 * at the latest after this many rows. */
	STORE_LIVE_ROWS = 65536,
};

/* How far into the log the store has read: the file (device and inode)
 * and the end of the last line taken, in bytes and in lines.  dev == 0 &&
 * ino == 0: nothing read yet. */
struct store_position {
	uint64_t dev, ino;
	uint64_t offset, lines;
};

struct store_counters {
	uint64_t added;		/* rows inserted */
	uint64_t present;	/* refused: already in the store */
	uint64_t commits;
};

struct store;

/* The SQLite backend (store.c).
 * Opens (creating when missing) the database at path for writing, in WAL
 * mode, and creates the schema.  Returns 0 and *s, or:
 * -EBADMSG  not a database, corrupt, another schema version, or left by
 *           a bulk load that did not finish (store_bulk): the caller may
 *           store_remove() it and open anew;
 * other negative errno (the message via store_error()).
 * *s is NULL on error. */
int store_open(struct store **s, const char *path);

/* Deletes the database and its -wal and -shm files.  0 or -errno (a file
 * that does not exist is no error). */
int store_remove(const char *path);

/* The last error's text (static or owned by s; valid until the next
 * call), for messages. */
const char *store_error(const struct store *s);

/* The recorded position (all zero for a new store).  0 or -errno. */
int store_position(struct store *s, struct store_position *pos);

/* One reading, in the current transaction (begun when none is open),
 * whose log line ends at *after.  ts_ms is the line's ts member.
 * Returns 1 (added), 0 (already there), or -errno. */
int store_add(struct store *s, const struct telemetry_reading *r,
    uint64_t received_ms, int64_t ts_ms, const struct store_position *after);

/* The position moves without a reading (a log line that is none), or to
 * a new file (logrotate): kept with the next commit. */
void store_advance(struct store *s, const struct store_position *after);

/* Rows added since the last commit. */
size_t store_pending(const struct store *s);

/* Writes the position and commits the open transaction (if the position
 * moved, even without rows).  The caller syncs the log before: the store
 * is never ahead of the log on disk.  0 or -errno. */
int store_commit(struct store *s);

/* Deletes readings whose device time is before cutoff_ms; never touches
 * the log.  Returns the number of rows deleted or -errno. */
int64_t store_retain(struct store *s, int64_t cutoff_ms);

/* A bulk load (--rebuild) between store_bulk(s, true) and
 * store_bulk(s, false): the query indexes (and, into an empty store of a
 * log in order, the (node, boot, seq) index) are made at its end, a
 * rollback journal instead of the WAL, larger transactions, no syncing
 * until the end.  Readers see the store without those indexes
 * meanwhile.  A bulk load that does not reach store_bulk(s, false) (a
 * crash, an error) leaves a SQLite store that store_open() refuses with
 * -EBADMSG, to be made anew.  0 or -errno. */
int store_bulk(struct store *s, bool on);

const struct store_counters *store_counters(const struct store *s);

/* Commits what is pending and closes.  Safe on NULL. */
void store_close(struct store *s);

/* Brings the store level with the logs: paths[0..n-1] oldest first, the
 * current log last.  Resumes inside the file the recorded position names
 * (same device and inode, the offset within it, at a line's end) and
 * reads every later file whole; when no file matches, reads all of them
 * (what is already there is refused, see above).  Commits every
 * STORE_BATCH_ROWS * 10 rows and at the end.  *lines gets the lines read,
 * *bad those that are no reading.  A missing file is skipped.  0 or
 * -errno (said on stderr with the path). */
int store_catch_up(struct store *s, const char *const *paths, int n,
    uint64_t *lines, uint64_t *bad);

/* The same, for a store that follows a live log from another thread
 * (ingest_pg.c): the files are fds[0..n-1] already open for reading
 * (paths only name them; -1: none), and the file limit names (its device
 * and inode) is read no further than limit->offset, what the log has
 * synced.  fds NULL: open the paths; limit NULL: to the end of every
 * file. */
int store_catch_up_to(struct store *s, const char *const *paths,
    const int *fds, int n, const struct store_position *limit,
    uint64_t *lines, uint64_t *bad);

/* ------------------------------------------------------------------
 * What the historian keeps beside the readings (store_alarms.c): its
 * alarms, its figures and the thresholds it alarms on.  Not derived from
 * the log (silence depends on the wall clock), so --rebuild carries the
 * alarms over (store_alarms_save/restore).  Each write joins the open
 * transaction (begun when none is), committed by the next store_commit().
 * The SQLite store only: PostgreSQL has no such tables (-ENOTSUP). */

/* A new row for a; a->id gets its id.  0 or -errno. */
int store_alarm_add(struct store *s, struct alarm *a);

/* The row of a->id gets a's severity, peak, detail and end (0: open). */
int store_alarm_update(struct store *s, const struct alarm *a);

/* fn for each alarm still open (end NULL), oldest first; a row whose
 * kind is unknown is skipped.  0, fn's negative return, or -errno. */
int store_alarms_open(struct store *s,
    int (*fn)(void *ctx, const struct alarm *a), void *ctx);

/* fn for each node with its latest reading's receipt time (ms). */
int store_nodes_last(struct store *s,
    int (*fn)(void *ctx, const char *node, int64_t received_ms), void *ctx);

/* The thresholds table becomes t[0..n).  0 or -errno. */
int store_thresholds_set(struct store *s, const struct alarm_threshold *t,
    size_t n);

/* One row of historian_stats.  0 or -errno. */
int store_stat_set(struct store *s, const char *name, double value,
    int64_t now_ms);

/* Every alarm row of the database at path (none when it does not exist
 * or has no alarms table), for --rebuild: *rows (heap, caller frees)
 * and *n.  0 or -errno (the message on stderr). */
int store_alarms_save(const char *path, struct alarm **rows, size_t *n);

/* The rows saved, with their ids, into s.  0 or -errno. */
int store_alarms_restore(struct store *s, const struct alarm *rows,
    size_t n);

#endif
