/* The store's SQLite backend (store.h): the schema and its version, the
 * batched inserts with the log position, retention and the bulk mode of
 * --rebuild.  The catch-up from the log is store_catchup.c. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "hub/store.h"
#include "hub/store_internal.h"

/* The schema, version STORE_SCHEMA_VERSION (PRAGMA user_version).
 *
 * readings: one row per reading, clustered by (node, ts): a node's time
 * range is one contiguous run of pages, which is what every question
 * asks for.  id numbers the rows (next_id in log_position, committed with
 * them) for fields, which holds every data field beyond p, t, v (the
 * fields every status is computed from, columns, NULL when absent).
 * exactly_once is the log line's guarantee (1: the reading has
 * boot/seq); digest (telemetry_content_digest) only for readings without
 * seq, part of their key.
 *
 * Indexes: the keys that make a row exactly once (store.h), and the
 * readings with a status (a small fraction), covering what the events
 * view reads. */
#define SEQ_INDEX \
"CREATE UNIQUE INDEX readings_seq ON readings(node, boot, seq)" \
"  WHERE seq IS NOT NULL"

static const char schema[] =
"CREATE TABLE nodes ("
"  id INTEGER PRIMARY KEY,"
"  name TEXT NOT NULL UNIQUE);"
"CREATE TABLE readings ("
"  node INTEGER NOT NULL REFERENCES nodes(id),"
"  ts INTEGER NOT NULL,"
"  id INTEGER NOT NULL,"
"  boot INTEGER,"
"  seq INTEGER,"
"  received INTEGER NOT NULL,"
"  p REAL, t REAL, v REAL,"
"  status INTEGER NOT NULL,"
"  exactly_once INTEGER NOT NULL,"
"  digest INTEGER,"
"  PRIMARY KEY (node, ts, id)) WITHOUT ROWID;"
SEQ_INDEX ";"
"CREATE UNIQUE INDEX readings_line ON readings(node, ts, received, digest)"
"  WHERE seq IS NULL;"
"CREATE TABLE fields ("
"  reading INTEGER NOT NULL,"
"  name TEXT NOT NULL,"
"  value REAL NOT NULL,"
"  PRIMARY KEY (reading, name)) WITHOUT ROWID;"
"CREATE TABLE log_position ("
"  id INTEGER PRIMARY KEY CHECK (id = 1),"
"  dev INTEGER NOT NULL, ino INTEGER NOT NULL,"
"  offset INTEGER NOT NULL, lines INTEGER NOT NULL,"
"  next_id INTEGER NOT NULL);";

/* Version 2 added what the historian keeps beside the readings and the
 * log cannot give back (store_alarms.c): its alarms (times in ms since
 * the epoch, end NULL while open; node is a node id, or a peer's public
 * key in base64 for kind 'handshake'), its figures (refreshed every few
 * seconds) and the thresholds it alarms on.  A version 1 store gets them
 * in place (setup()). */
static const char schema_v2[] =
"CREATE TABLE alarms ("
"  id INTEGER PRIMARY KEY,"
"  node TEXT NOT NULL,"
"  kind TEXT NOT NULL,"
"  field TEXT,"
"  severity INTEGER NOT NULL,"
"  start INTEGER NOT NULL,"
"  end INTEGER,"
"  peak REAL,"
"  detail TEXT);"
"CREATE INDEX alarms_open ON alarms(node, kind) WHERE end IS NULL;"
"CREATE INDEX alarms_start ON alarms(start);"
"CREATE TABLE historian_stats ("
"  name TEXT PRIMARY KEY,"
"  value REAL NOT NULL,"
"  updated INTEGER NOT NULL);"
"CREATE TABLE thresholds ("
"  field TEXT PRIMARY KEY,"
"  warning REAL,"
"  critical REAL,"
"  direction TEXT);"
"PRAGMA user_version = 2;";

/* The indexes only queries need, part of the schema: a bulk load
 * (store_bulk) drops them and makes them again at its end, faster than
 * keeping them up row by row. */
static const char query_indexes[] =
"CREATE INDEX IF NOT EXISTS readings_anomalies ON readings(node, ts, boot,"
"  seq, p, t, v, status) WHERE status > 0;";

_Static_assert(STORE_SCHEMA_VERSION == 2, "schema text above is version 2");

enum {
	NODE_CACHE = 1024,	/* slots, a power of two */
	BUSY_MS = 2000,
	/* The page cache (apply_cache()), KiB. */
	CACHE_KIB_PER_NODE = 24,
	CACHE_KIB_MIN = 2048,
	CACHE_KIB_MAX = 32768,
	CACHE_KIB_BULK = 65536,
};

enum stmt {
	S_BEGIN, S_COMMIT, S_NODE_ADD, S_NODE_GET, S_READING, S_FIELD,
	S_POS_GET, S_POS_SET, S_NODES, S_RETAIN_FIELDS, S_RETAIN_READINGS,
	S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_NODE_ADD] = "INSERT OR IGNORE INTO nodes(name) VALUES (?1)",
	[S_NODE_GET] = "SELECT id FROM nodes WHERE name = ?1",
	[S_READING] = "INSERT OR IGNORE INTO readings(node, boot, seq, ts, "
	    "received, p, t, v, status, exactly_once, digest, id) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[S_FIELD] = "INSERT OR IGNORE INTO fields(reading, name, value) "
	    "VALUES (?1, ?2, ?3)",
	[S_POS_GET] = "SELECT dev, ino, offset, lines, next_id FROM log_position "
	    "WHERE id = 1",
	[S_POS_SET] = "INSERT OR REPLACE INTO log_position(id, dev, ino, "
	    "offset, lines, next_id) VALUES (1, ?1, ?2, ?3, ?4, ?5)",
	[S_NODES] = "SELECT id FROM nodes",
	[S_RETAIN_FIELDS] = "DELETE FROM fields WHERE reading IN "
	    "(SELECT id FROM readings WHERE node = ?1 AND ts < ?2)",
	[S_RETAIN_READINGS] = "DELETE FROM readings WHERE node = ?1 AND "
	    "ts < ?2",
};

struct node_slot {
	char name[TELEMETRY_NODE_ID_MAX + 1];	/* "" when free */
	int64_t id;
};

/* A node's greatest (boot, seq) so far, while a bulk load goes without
 * readings_seq (seq_unindexed). */
struct seq_mark {
	uint64_t boot, seq;
};

struct sqlite_store {
	struct store base;	/* first: a struct store * is one of these */
	sqlite3 *db;
	sqlite3_stmt *st[S_COUNT];
	int64_t next_id;	/* of the next row */
	int64_t committed_id;	/* next_id as last committed */
	struct node_slot cache[NODE_CACHE];
	size_t cached;
	bool seq_unindexed, seq_indexed_in_tx;
	bool cache_large;	/* catching up: CACHE_KIB_BULK */
	int64_t cache_kib;	/* as set, 0 before */
	int64_t max_node;	/* the greatest node id seen */
	struct seq_mark *marks;	/* by node id */
	size_t nmarks;
};

static struct sqlite_store *sq(struct store *s)
{
	return (struct sqlite_store *)s;
}

static int errno_of(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK: case SQLITE_DONE: case SQLITE_ROW: return 0;
	case SQLITE_NOTADB: case SQLITE_CORRUPT: case SQLITE_SCHEMA:
		return -EBADMSG;
	case SQLITE_FULL: return -ENOSPC;
	case SQLITE_BUSY: case SQLITE_LOCKED: return -EBUSY;
	case SQLITE_READONLY: case SQLITE_PERM: case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CANTOPEN: return -ENOENT;
	case SQLITE_NOMEM: return -ENOMEM;
	default: return -EIO;
	}
}

/* Keeps sqlite's message and returns rc as an errno. */
static int fail(struct sqlite_store *s, int rc)
{
	snprintf(s->base.err, sizeof(s->base.err), "%s", s->db ? sqlite3_errmsg(s->db) :
	    sqlite3_errstr(rc));
	return errno_of(rc);
}

/* Steps a statement that returns no row and resets it. */
static int run(struct sqlite_store *s, enum stmt k)
{
	int rc = sqlite3_step(s->st[k]);

	sqlite3_reset(s->st[k]);
	sqlite3_clear_bindings(s->st[k]);
	return rc == SQLITE_DONE ? 0 : fail(s, rc);
}

static int user_version(struct sqlite_store *s, int *v)
{
	sqlite3_stmt *q;
	int rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &q,
	    NULL);

	if (rc != SQLITE_OK)
		return fail(s, rc);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	return rc == SQLITE_ROW ? 0 : fail(s, rc);
}

/* The page cache, bounded so that the historian's memory stays flat.
 * Live, the pages it writes are the newest: a leaf of readings and one
 * of readings_seq per node (and interior pages above them), which must
 * stay cached, or every row reads and writes pages of its own; so
 * CACHE_KIB_PER_NODE for each node seen (the greatest node id), within
 * CACHE_KIB_MIN and CACHE_KIB_MAX.  The kernel's page cache holds the
 * rest.  CACHE_KIB_BULK while catching up, when every page of the run is
 * touched again and again. */
static int apply_cache(struct sqlite_store *s)
{
	int64_t kib = s->cache_large ? CACHE_KIB_BULK :
	    s->max_node * CACHE_KIB_PER_NODE;
	char sql[48];
	int rc;

	if (kib < CACHE_KIB_MIN)
		kib = CACHE_KIB_MIN;
	if (kib > CACHE_KIB_MAX && !s->cache_large)
		kib = CACHE_KIB_MAX;
	if (kib == s->cache_kib)
		return SQLITE_OK;
	snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%lld", (long long)kib);
	if ((rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL)) == SQLITE_OK)
		s->cache_kib = kib;
	return rc;
}

static int sqlite_set_cache(struct store *s, bool large)
{
	sq(s)->cache_large = large;
	return apply_cache(sq(s));
}

/* A new database gets the schema; an old one must have ours. */
static int setup(struct sqlite_store *s)
{
	int rc, v = 0;

	sqlite3_busy_timeout(s->db, BUSY_MS);
	rc = sqlite3_exec(s->db, "PRAGMA journal_mode = WAL;"
	    "PRAGMA synchronous = NORMAL;", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite_set_cache(&s->base, false);
	if (rc != SQLITE_OK)
		return fail(s, rc);
	if ((rc = user_version(s, &v)) < 0)
		return rc;
	if (v == 0 || v == 1) {
		/* New, or version 1 (migrated in place: the tables of
		 * version 2 added). */
		int from = v;

		rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		if (rc == SQLITE_OK && (rc = user_version(s, &v)) == 0 &&
		    v == from && from == 0 && (rc = sqlite3_exec(s->db,
		    schema, NULL, NULL, NULL)) == SQLITE_OK)
			rc = sqlite3_exec(s->db, query_indexes, NULL, NULL,
			    NULL);
		if (rc == SQLITE_OK && v == from)
			rc = sqlite3_exec(s->db, schema_v2, NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
		if (rc != SQLITE_OK) {
			rc = fail(s, rc);
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return rc;
		}
		v = STORE_SCHEMA_VERSION;
	}
	if (v != STORE_SCHEMA_VERSION) {
		snprintf(s->base.err, sizeof(s->base.err), "schema version %d, this "
		    "program knows %d", v, STORE_SCHEMA_VERSION);
		return -EBADMSG;
	}
	return 0;
}

/* The committed position and the id of the next row (1 when new). */
static int read_position(struct sqlite_store *s, struct store_position *pos,
    int64_t *next_id)
{
	sqlite3_stmt *q = s->st[S_POS_GET];
	int rc = sqlite3_step(q);

	*pos = (struct store_position){ 0 };
	*next_id = 1;
	if (rc == SQLITE_ROW) {
		pos->dev = (uint64_t)sqlite3_column_int64(q, 0);
		pos->ino = (uint64_t)sqlite3_column_int64(q, 1);
		pos->offset = (uint64_t)sqlite3_column_int64(q, 2);
		pos->lines = (uint64_t)sqlite3_column_int64(q, 3);
		*next_id = sqlite3_column_int64(q, 4);
		rc = SQLITE_DONE;
	}
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : fail(s, rc);
}

/* A bulk load that did not finish (sqlite_bulk) leaves a store whose
 * pages may not all be on disk: refused, to be made anew. */
static int unfinished(struct sqlite_store *s)
{
	sqlite3_stmt *q;
	int rc = sqlite3_prepare_v2(s->db, "SELECT 1 FROM sqlite_master "
	    "WHERE name = 'unfinished_rebuild'", -1, &q, NULL);

	if (rc != SQLITE_OK)
		return fail(s, rc);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc == SQLITE_ROW) {
		snprintf(s->base.err, sizeof(s->base.err), "a --rebuild did "
		    "not finish: the store is incomplete");
		return -EBADMSG;
	}
	return rc == SQLITE_DONE ? 0 : fail(s, rc);
}

static const struct store_ops sqlite_ops;

int store_open(struct store **sp, const char *path)
{
	struct sqlite_store *s = calloc(1, sizeof(*s));
	int rc, k;

	*sp = NULL;
	if (s == NULL)
		return -ENOMEM;
	s->base.ops = &sqlite_ops;
	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	rc = rc != SQLITE_OK ? fail(s, rc) : setup(s);
	for (k = 0; rc == 0 && k < S_COUNT; k++)
		if ((rc = sqlite3_prepare_v3(s->db, stmt_sql[k], -1,
		    SQLITE_PREPARE_PERSISTENT, &s->st[k], NULL)) != SQLITE_OK)
			rc = fail(s, rc);
	if (rc == 0)
		rc = unfinished(s);
	if (rc == 0)
		rc = read_position(s, &s->base.pos, &s->committed_id);
	s->next_id = s->committed_id;
	s->base.committed = s->base.pos;
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", path, s->base.err);
		store_close(&s->base);
		return rc;
	}
	*sp = &s->base;
	return 0;
}

int store_remove(const char *path)
{
	static const char *const ext[] = { "", "-wal", "-shm", "-journal" };
	char name[4096];
	size_t i;

	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		if (snprintf(name, sizeof(name), "%s%s", path, ext[i]) >=
		    (int)sizeof(name))
			return -ENAMETOOLONG;
		if (unlink(name) != 0 && errno != ENOENT)
			return -errno;
	}
	return 0;
}

static int sqlite_position(struct store *s, struct store_position *pos)
{
	int64_t next_id;

	return read_position(sq(s), pos, &next_id);
}

static uint32_t name_hash(const char *name)
{
	uint32_t h = 2166136261u;

	while (*name)
		h = (h ^ (uint8_t)*name++) * 16777619u;
	return h;
}

/* The node's id, added when new.  0 or -errno. */
static int node_id(struct sqlite_store *s, const char *name, int64_t *id)
{
	uint32_t i = name_hash(name) & (NODE_CACHE - 1);
	sqlite3_stmt *q = s->st[S_NODE_GET];
	int rc, ret;

	while (s->cache[i].name[0] != '\0') {
		if (strcmp(s->cache[i].name, name) == 0) {
			*id = s->cache[i].id;
			return 0;
		}
		i = (i + 1) & (NODE_CACHE - 1);
	}
	sqlite3_bind_text(s->st[S_NODE_ADD], 1, name, -1, SQLITE_STATIC);
	if ((ret = run(s, S_NODE_ADD)) < 0)
		return ret;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(q, 0);
	ret = rc == SQLITE_ROW ? 0 : fail(s, rc == SQLITE_DONE ?
	    SQLITE_CORRUPT : rc);
	sqlite3_reset(q);
	if (ret < 0)
		return ret;
	if (*id > s->max_node) {
		s->max_node = *id;
		if ((rc = apply_cache(s)) != SQLITE_OK)
			return fail(s, rc);
	}
	if (s->cached == NODE_CACHE * 3 / 4) {
		/* A rolled back transaction may have taken ids back: the
		 * cache only ever holds committed or current ones. */
		memset(s->cache, 0, sizeof(s->cache));
		s->cached = 0;
		i = name_hash(name) & (NODE_CACHE - 1);
	}
	snprintf(s->cache[i].name, sizeof(s->cache[i].name), "%s", name);
	s->cache[i].id = *id;
	s->cached++;
	return 0;
}

static int begin(struct sqlite_store *s)
{
	int ret;

	if (s->base.in_tx)
		return 0;
	if ((ret = run(s, S_BEGIN)) == 0)
		s->base.in_tx = true;
	return ret;
}

static void bind_value(sqlite3_stmt *q, int col, double v)
{
	if (isnan(v))
		sqlite3_bind_null(q, col);
	else
		sqlite3_bind_double(q, col, v);
}

static int add_fields(struct sqlite_store *s,
    const struct telemetry_reading *r, int64_t reading)
{
	sqlite3_stmt *q = s->st[S_FIELD];
	size_t i;
	int ret;

	for (i = 0; i < r->nfields; i++) {
		if (store_column_field(r->fields[i].name))
			continue;
		sqlite3_bind_int64(q, 1, reading);
		sqlite3_bind_text(q, 2, r->fields[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_double(q, 3, r->fields[i].value);
		if ((ret = run(s, S_FIELD)) < 0)
			return ret;
	}
	return 0;
}

/* readings_seq made (again) from the rows there.  0 or -errno. */
static int index_seq(struct sqlite_store *s)
{
	int rc = sqlite3_exec(s->db, SEQ_INDEX, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return fail(s, rc);
	s->seq_unindexed = false;
	/* Gone again if the transaction is rolled back (the marks stay:
	 * never below what is there). */
	s->seq_indexed_in_tx = s->base.in_tx;
	return 0;
}

/* Without readings_seq, a reading cannot repeat one already there when
 * its (boot, seq) is past its node's greatest: so it is in a log that
 * was written in order, and the index is made once at the end (a sort,
 * cheaper than keeping it row by row).  At the first reading that is
 * not, the index is made there and then, and keeps them unique from
 * then on.  0 or -errno. */
static int check_seq(struct sqlite_store *s, int64_t node,
    const struct telemetry_reading *r)
{
	struct seq_mark *m;

	if (node < 0 || (uint64_t)node >= SIZE_MAX / sizeof(*m) / 2)
		return index_seq(s);
	if ((size_t)node >= s->nmarks) {
		size_t n = (size_t)node * 2 + 64;

		if ((m = realloc(s->marks, n * sizeof(*m))) == NULL)
			return index_seq(s);
		memset(m + s->nmarks, 0, (n - s->nmarks) * sizeof(*m));
		s->marks = m;
		s->nmarks = n;
	}
	m = &s->marks[node];
	/* boot and seq are at least 1: {0, 0} is below every reading. */
	if (r->boot_id < m->boot || (r->boot_id == m->boot &&
	    r->seq <= m->seq))
		return index_seq(s);
	m->boot = r->boot_id;
	m->seq = r->seq;
	return 0;
}

static int sqlite_add(struct store *base, const struct telemetry_reading *r,
    uint64_t received_ms, int64_t ts_ms)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *q = s->st[S_READING];
	int64_t node = 0;
	int ret;

	if ((ret = begin(s)) < 0 || (ret = node_id(s, r->node_id, &node)) < 0)
		return ret;
	if (s->seq_unindexed && r->has_seq && (ret = check_seq(s, node,
	    r)) < 0)
		return ret;
	sqlite3_bind_int64(q, 1, node);
	if (r->has_seq) {
		sqlite3_bind_int64(q, 2, (int64_t)r->boot_id);
		sqlite3_bind_int64(q, 3, (int64_t)r->seq);
	} else {
		sqlite3_bind_int64(q, 11,
		    (int64_t)telemetry_content_digest(r));
	}
	sqlite3_bind_int64(q, 4, ts_ms);
	sqlite3_bind_int64(q, 5, (int64_t)received_ms);
	bind_value(q, 6, r->p);
	bind_value(q, 7, r->t);
	bind_value(q, 8, r->v);
	sqlite3_bind_int(q, 9, r->status);
	sqlite3_bind_int(q, 10, r->has_seq);
	sqlite3_bind_int64(q, 12, s->next_id);
	if ((ret = run(s, S_READING)) < 0)
		return ret;
	if (sqlite3_changes(s->db) == 0)
		return 0;
	if ((ret = add_fields(s, r, s->next_id++)) < 0)
		return ret;
	return 1;
}

static int sqlite_commit(struct store *base)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *q = s->st[S_POS_SET];
	int ret;

	if ((ret = begin(s)) < 0)
		return ret;
	sqlite3_bind_int64(q, 1, (int64_t)base->pos.dev);
	sqlite3_bind_int64(q, 2, (int64_t)base->pos.ino);
	sqlite3_bind_int64(q, 3, (int64_t)base->pos.offset);
	sqlite3_bind_int64(q, 4, (int64_t)base->pos.lines);
	sqlite3_bind_int64(q, 5, s->next_id);
	if ((ret = run(s, S_POS_SET)) < 0 || (ret = run(s, S_COMMIT)) < 0)
		return ret;
	s->committed_id = s->next_id;
	s->seq_indexed_in_tx = false;
	return 0;
}

static void sqlite_rollback(struct store *base)
{
	struct sqlite_store *s = sq(base);

	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	memset(s->cache, 0, sizeof(s->cache));
	s->cached = 0;
	s->next_id = s->committed_id;
	if (s->seq_indexed_in_tx)
		s->seq_unindexed = true;
	s->seq_indexed_in_tx = false;
}

static int64_t sqlite_retain(struct store *base, int64_t cutoff_ms)
{
	struct sqlite_store *s = sq(base);
	sqlite3_stmt *nodes = s->st[S_NODES];
	int64_t deleted = 0;
	int rc, ret;

	if ((ret = begin(s)) < 0)
		return ret;
	/* Node by node: each delete is a range of the (node, ts) index. */
	while ((rc = sqlite3_step(nodes)) == SQLITE_ROW) {
		int64_t node = sqlite3_column_int64(nodes, 0);

		sqlite3_bind_int64(s->st[S_RETAIN_FIELDS], 1, node);
		sqlite3_bind_int64(s->st[S_RETAIN_FIELDS], 2, cutoff_ms);
		sqlite3_bind_int64(s->st[S_RETAIN_READINGS], 1, node);
		sqlite3_bind_int64(s->st[S_RETAIN_READINGS], 2, cutoff_ms);
		if ((ret = run(s, S_RETAIN_FIELDS)) < 0 ||
		    (ret = run(s, S_RETAIN_READINGS)) < 0)
			break;
		deleted += sqlite3_changes(s->db);
	}
	sqlite3_reset(nodes);
	if (ret == 0 && rc != SQLITE_DONE)
		ret = fail(s, rc);
	if (ret == 0)
		ret = store_commit(base);
	return ret < 0 ? ret : deleted;
}

/* Whether readings has no row: into *yes.  0 or -errno. */
static int readings_empty(struct sqlite_store *s, bool *yes)
{
	sqlite3_stmt *q;
	int rc = sqlite3_prepare_v2(s->db, "SELECT 1 FROM readings LIMIT 1",
	    -1, &q, NULL);

	if (rc != SQLITE_OK)
		return fail(s, rc);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	*yes = rc == SQLITE_DONE;
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : fail(s, rc);
}

/* Runs sql, rolling back an open transaction when it fails.  0 or
 * -errno. */
static int exec_or_rollback(struct sqlite_store *s, const char *sql)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	if (rc == SQLITE_OK)
		return 0;
	rc = fail(s, rc);
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* A bulk load writes without syncing (synchronous = OFF: the commits of
 * --rebuild wait for no disk), so a machine that stops meanwhile may
 * leave any page of the file half written.  The table unfinished_rebuild
 * says so: made, and synced, before the first such write, dropped only
 * after every page is on disk (the rollback journal's commit syncs the
 * file before the journal goes, and a hot journal brings the table
 * back).  store_open() refuses a store that has it (-EBADMSG: the
 * historian moves it aside and makes it anew from the log).  The query
 * indexes, and readings_seq when the store is empty (check_seq()), are
 * made at the end. */
static int bulk_begin(struct sqlite_store *s)
{
	bool empty = false;
	int ret;

	/* A rollback journal writes each new page once, WAL twice. */
	if ((ret = exec_or_rollback(s, "PRAGMA journal_mode = DELETE;"
	    "BEGIN IMMEDIATE;"
	    "CREATE TABLE IF NOT EXISTS unfinished_rebuild (x);"
	    "DROP INDEX IF EXISTS readings_anomalies;")) < 0)
		return ret;
	if ((ret = readings_empty(s, &empty)) < 0 || (empty &&
	    (ret = exec_or_rollback(s, "DROP INDEX readings_seq")) < 0) ||
	    (ret = exec_or_rollback(s, "COMMIT;"
	    "PRAGMA synchronous = OFF;")) < 0) {
		if (!sqlite3_get_autocommit(s->db))
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return ret;
	}
	s->seq_unindexed = empty;
	return 0;
}

static int bulk_end(struct sqlite_store *s)
{
	int ret;

	if (s->seq_unindexed && (ret = index_seq(s)) < 0)
		return ret;
	if ((ret = exec_or_rollback(s, "PRAGMA synchronous = FULL;")) < 0 ||
	    (ret = exec_or_rollback(s, query_indexes)) < 0 ||
	    (ret = exec_or_rollback(s, "DROP TABLE unfinished_rebuild")) < 0)
		return ret;
	return exec_or_rollback(s, "PRAGMA synchronous = NORMAL;"
	    "PRAGMA journal_mode = WAL;");
}

static int sqlite_bulk(struct store *base, bool on)
{
	struct sqlite_store *s = sq(base);
	int rc;

	if ((rc = sqlite_set_cache(base, on)) != SQLITE_OK)
		return fail(s, rc);
	return on ? bulk_begin(s) : bulk_end(s);
}

static void sqlite_close(struct store *base)
{
	struct sqlite_store *s = sq(base);
	int k;

	for (k = 0; k < S_COUNT; k++)
		sqlite3_finalize(s->st[k]);
	sqlite3_close(s->db);
	free(s->marks);
	free(s);
}

static const struct store_ops sqlite_ops = {
	.position = sqlite_position,
	.add = sqlite_add,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.retain = sqlite_retain,
	.bulk = sqlite_bulk,
	.set_cache = sqlite_set_cache,
	.close = sqlite_close,
};

/* store_alarms.c's way in (store_internal.h): the SQLite backend only,
 * PostgreSQL keeps no alarms. */
static struct sqlite_store *alarm_store(struct store *s)
{
	return s != NULL && s->ops == &sqlite_ops ? sq(s) : NULL;
}

int store_begin(struct store *s)
{
	return alarm_store(s) ? begin(sq(s)) : -ENOTSUP;
}

struct sqlite3 *store_sqlite(struct store *s)
{
	return alarm_store(s) ? sq(s)->db : NULL;
}

int store_sql_error(struct store *s, int rc)
{
	return alarm_store(s) ? fail(sq(s), rc) : -ENOTSUP;
}
