/* The store's PostgreSQL backend (store_pg.h): the schema, the month
 * partitions, batches COPYed in with the plant's position, retention by
 * whole partitions. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "hub/store.h"
#include "hub/store_internal.h"
#include "hub/store_pg.h"

_Static_assert(STORE_PG_SCHEMA_VERSION == 1, "schema text below is version 1");

/* Schema version 1 (STORE_PG_SCHEMA_VERSION), made under an advisory lock:
 * two historians starting at once must not both create it. */
static const char schema[] =
"SELECT pg_advisory_xact_lock(2003792245);"
"CREATE TABLE IF NOT EXISTS wgu_meta ("
"  key text PRIMARY KEY, value text NOT NULL);"
"INSERT INTO wgu_meta VALUES ('schema_version', '1') ON CONFLICT DO NOTHING;"
"CREATE TABLE IF NOT EXISTS nodes ("
"  id bigserial PRIMARY KEY,"
"  plant text NOT NULL,"
"  name text NOT NULL,"
"  UNIQUE (plant, name));"
"CREATE TABLE IF NOT EXISTS readings ("
"  plant text NOT NULL,"
"  node bigint NOT NULL,"
"  ts bigint NOT NULL,"
"  boot bigint, seq bigint,"
"  received bigint NOT NULL,"
"  p double precision, t double precision, v double precision,"
"  status integer NOT NULL,"
"  exactly_once integer NOT NULL,"
"  digest bigint,"
"  fields jsonb,"
"  UNIQUE (plant, node, boot, seq, ts),"
"  UNIQUE (plant, node, ts, received, digest)"
") PARTITION BY RANGE (ts);"
"CREATE INDEX IF NOT EXISTS readings_node_ts ON readings (node, ts);"
"CREATE TABLE IF NOT EXISTS readings_before_1970 PARTITION OF readings"
"  FOR VALUES FROM (MINVALUE) TO (0);"
"CREATE TABLE IF NOT EXISTS readings_after_9999 PARTITION OF readings"
"  FOR VALUES FROM (253402300800000) TO (MAXVALUE);"
"CREATE TABLE IF NOT EXISTS log_position ("
"  plant text PRIMARY KEY,"
"  dev bigint NOT NULL, ino bigint NOT NULL,"
"  log_offset bigint NOT NULL, lines bigint NOT NULL);"
"CREATE OR REPLACE VIEW wgu_readings AS SELECT r.plant, n.name AS node,"
"  to_timestamp(r.ts / 1000.0) AS time, r.boot, r.seq, r.p, r.t, r.v,"
"  r.status, r.fields, to_timestamp(r.received / 1000.0) AS received"
"  FROM readings r JOIN nodes n ON n.id = r.node;";

/* Per connection: the batch's rows arrive here by COPY. */
static const char batch_table[] =
"SET client_min_messages = warning;"
"CREATE TEMP TABLE wgu_batch ("
"  node text, ts bigint, boot bigint, seq bigint, received bigint,"
"  p double precision, t double precision, v double precision,"
"  status integer, exactly_once integer, digest bigint, fields jsonb"
") ON COMMIT DELETE ROWS;";

static const char insert_nodes[] =
"INSERT INTO nodes (plant, name) SELECT DISTINCT $1::text, node "
"FROM wgu_batch ON CONFLICT DO NOTHING";

static const char insert_readings[] =
"INSERT INTO readings (plant, node, ts, boot, seq, received, p, t, v, "
"status, exactly_once, digest, fields) SELECT $1::text, n.id, b.ts, b.boot, "
"b.seq, b.received, b.p, b.t, b.v, b.status, b.exactly_once, b.digest, "
"b.fields FROM wgu_batch b JOIN nodes n ON n.plant = $1::text AND "
"n.name = b.node ON CONFLICT DO NOTHING";

static const char set_position[] =
"INSERT INTO log_position (plant, dev, ino, log_offset, lines) "
"VALUES ($1, $2, $3, $4, $5) ON CONFLICT (plant) DO UPDATE SET "
"dev = EXCLUDED.dev, ino = EXCLUDED.ino, log_offset = EXCLUDED.log_offset, "
"lines = EXCLUDED.lines";

enum {
	MONTHS_KNOWN = 64,	/* partitions this connection made or saw */
};

struct pg_store {
	struct store base;	/* first: a struct store * is one of these */
	PGconn *conn;
	char plant[STORE_PG_PLANT_MAX + 1];
	char *buf;		/* the batch in COPY text format */
	size_t len, cap, rows;
	int64_t months[MONTHS_KNOWN];	/* starts of known partitions */
	size_t nmonths;
	int64_t batch_months[MONTHS_KNOWN];	/* starts the batch needs */
	size_t nbatch_months;
};

static struct pg_store *pq(struct store *s)
{
	return (struct pg_store *)s;
}

/* libpq's message as one line in err. */
static void one_line(char *err, size_t len, const char *msg)
{
	size_t i;

	snprintf(err, len, "%s", msg && *msg ? msg : "unknown error");
	for (i = 0; err[i]; i++)
		if (err[i] == '\n' || err[i] == '\r' || err[i] == '\t')
			err[i] = ' ';
	while (i > 0 && err[i - 1] == ' ')
		err[--i] = '\0';
}

/* Keeps the reason and returns -ENOTCONN (the connection is gone) or
 * -EIO. */
static int fail(struct pg_store *s, const PGresult *res)
{
	const char *msg = res ? PQresultErrorMessage(res) : "";

	if (*msg == '\0')
		msg = PQerrorMessage(s->conn);
	one_line(s->base.err, sizeof(s->base.err), msg);
	return PQstatus(s->conn) == CONNECTION_OK ? -EIO : -ENOTCONN;
}

/* Runs sql (several statements, no parameters).  0 or -errno. */
static int exec(struct pg_store *s, const char *sql)
{
	PGresult *res = PQexec(s->conn, sql);
	ExecStatusType st = PQresultStatus(res);
	int ret = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 :
	    fail(s, res);

	PQclear(res);
	return ret;
}

/* One statement with text parameters; *res kept when asked for (the
 * caller clears it).  0 or -errno. */
static int exec_params(struct pg_store *s, const char *sql, int n,
    const char *const *params, PGresult **out)
{
	PGresult *res = PQexecParams(s->conn, sql, n, NULL, params, NULL,
	    NULL, 0);
	ExecStatusType st = PQresultStatus(res);
	int ret = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 :
	    fail(s, res);

	if (ret == 0 && out)
		*out = res;
	else
		PQclear(res);
	return ret;
}

static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;	/* NOTICEs of CREATE ... IF NOT EXISTS */
}

bool store_pg_conninfo_ok(const char *conninfo, char *err, size_t errlen)
{
	char *msg = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &msg);

	if (opts == NULL)
		one_line(err, errlen, msg ? msg : "out of memory");
	PQfreemem(msg);
	PQconninfoFree(opts);
	return opts != NULL;
}

static int read_position(struct pg_store *s, struct store_position *pos)
{
	const char *params[1] = { s->plant };
	PGresult *res = NULL;
	int ret;

	*pos = (struct store_position){ 0 };
	ret = exec_params(s, "SELECT dev, ino, log_offset, lines FROM "
	    "log_position WHERE plant = $1", 1, params, &res);
	if (ret == 0 && PQntuples(res) == 1) {
		pos->dev = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
		pos->ino = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
		pos->offset = strtoull(PQgetvalue(res, 0, 2), NULL, 10);
		pos->lines = strtoull(PQgetvalue(res, 0, 3), NULL, 10);
	}
	PQclear(res);
	return ret;
}

static int pg_position(struct store *s, struct store_position *pos)
{
	return read_position(pq(s), pos);
}

static int check_version(struct pg_store *s)
{
	PGresult *res = NULL;
	int ret = exec_params(s, "SELECT value FROM wgu_meta WHERE key = "
	    "'schema_version'", 0, NULL, &res);

	if (ret == 0 && (PQntuples(res) != 1 ||
	    atoi(PQgetvalue(res, 0, 0)) != STORE_PG_SCHEMA_VERSION)) {
		snprintf(s->base.err, sizeof(s->base.err), "schema version %s, "
		    "this program knows %d", PQntuples(res) == 1 ?
		    PQgetvalue(res, 0, 0) : "unknown", STORE_PG_SCHEMA_VERSION);
		ret = -EBADMSG;
	}
	PQclear(res);
	return ret;
}

/* ------------------------------------------------------------ batches */

static int reserve(struct pg_store *s, size_t more)
{
	char *p;
	size_t cap;

	if (s->len + more <= s->cap)
		return 0;
	cap = s->cap ? s->cap : 1 << 16;
	while (cap < s->len + more)
		cap *= 2;
	if ((p = realloc(s->buf, cap)) == NULL)
		return -ENOMEM;
	s->buf = p;
	s->cap = cap;
	return 0;
}

/* Appends printf text to the batch (node ids and field names need no
 * escaping: telemetry.h allows none of COPY's or JSON's specials). */
__attribute__((format(printf, 2, 3)))
static int put(struct pg_store *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(s->buf + s->len, s->cap - s->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -EINVAL;
		if ((size_t)n < s->cap - s->len) {
			s->len += (size_t)n;
			return 0;
		}
		if (reserve(s, (size_t)n + 1) < 0)
			return -ENOMEM;
	}
}

static int put_value(struct pg_store *s, double v)
{
	return isnan(v) ? put(s, "\t\\N") : put(s, "\t%.17g", v);
}

static int put_fields(struct pg_store *s, const struct telemetry_reading *r)
{
	const char *sep = "\t{";
	size_t i;
	int ret = 0;

	for (i = 0; i < r->nfields && ret == 0; i++) {
		if (store_column_field(r->fields[i].name) ||
		    !isfinite(r->fields[i].value))
			continue;
		ret = put(s, "%s\"%s\": %.17g", sep, r->fields[i].name,
		    r->fields[i].value);
		sep = ", ";
	}
	if (ret == 0)
		ret = *sep == '\t' ? put(s, "\t\\N") : put(s, "}");
	return ret;
}

/* The months the batch's rows fall into: false when ts is in a new one
 * and there is no room left for it. */
static bool note_month(struct pg_store *s, int64_t ts)
{
	char name[STORE_PG_PART_NAME];
	int64_t from, to;
	size_t i;

	store_pg_month(ts, name, &from, &to);
	for (i = 0; i < s->nbatch_months; i++)
		if (s->batch_months[i] == from)
			return true;
	if (s->nbatch_months == MONTHS_KNOWN)
		return false;
	s->batch_months[s->nbatch_months++] = from;
	return true;
}

static int pg_add(struct store *base, const struct telemetry_reading *r,
    uint64_t received_ms, int64_t ts_ms)
{
	struct pg_store *s = pq(base);
	size_t len = s->len;
	int ret;

	/* A batch over more months than that is committed first, with
	 * the position of the line before this one. */
	if (!note_month(s, ts_ms)) {
		if ((ret = store_commit(base)) < 0)
			return ret;
		note_month(s, ts_ms);
	}
	ret = put(s, "%s\t%" PRId64, r->node_id, ts_ms);
	if (ret == 0)
		ret = r->has_seq ? put(s, "\t%" PRIu64 "\t%" PRIu64,
		    r->boot_id, (uint64_t)r->seq) : put(s, "\t\\N\t\\N");
	if (ret == 0)
		ret = put(s, "\t%" PRIu64, received_ms);
	if (ret == 0)
		ret = put_value(s, r->p);
	if (ret == 0)
		ret = put_value(s, r->t);
	if (ret == 0)
		ret = put_value(s, r->v);
	if (ret == 0)
		ret = put(s, "\t%d\t%d", r->status, r->has_seq ? 1 : 0);
	if (ret == 0)
		ret = r->has_seq ? put(s, "\t\\N") : put(s, "\t%" PRId64,
		    (int64_t)telemetry_content_digest(r));
	if (ret == 0)
		ret = put_fields(s, r);
	if (ret == 0)
		ret = put(s, "\n");
	if (ret < 0) {
		s->len = len;
		snprintf(base->err, sizeof(base->err), "%s", strerror(-ret));
		return ret;
	}
	s->rows++;
	base->in_tx = true;
	return 1;	/* counted again at the commit */
}

static bool month_known(const struct pg_store *s, int64_t from)
{
	size_t i;

	for (i = 0; i < s->nmonths; i++)
		if (s->months[i] == from)
			return true;
	return false;
}

/* The partition of the month starting at from, and the next one ahead,
 * in their own transaction under the schema's lock. */
static int make_month(struct pg_store *s, int64_t from)
{
	char name[STORE_PG_PART_NAME], sql[512];
	int64_t lo, hi, at = from;
	int k, ret = 0;

	for (k = 0; k < 2 && ret == 0; k++) {
		if (!store_pg_month(at, name, &lo, &hi))
			break;	/* the fixed outer partitions */
		snprintf(sql, sizeof(sql), "BEGIN; SELECT "
		    "pg_advisory_xact_lock(2003792245); CREATE TABLE IF NOT "
		    "EXISTS %s PARTITION OF readings FOR VALUES FROM "
		    "(%" PRId64 ") TO (%" PRId64 "); COMMIT", name, lo, hi);
		if ((ret = exec(s, sql)) < 0)
			exec(s, "ROLLBACK");
		at = hi;
	}
	if (ret == 0 && s->nmonths < MONTHS_KNOWN)
		s->months[s->nmonths++] = from;
	return ret;
}

static int copy_batch(struct pg_store *s)
{
	PGresult *res;
	int ret = 0;

	res = PQexec(s->conn, "COPY wgu_batch FROM STDIN");
	if (PQresultStatus(res) != PGRES_COPY_IN)
		ret = fail(s, res);
	PQclear(res);
	if (ret < 0)
		return ret;
	if (PQputCopyData(s->conn, s->buf, (int)s->len) != 1 ||
	    PQputCopyEnd(s->conn, NULL) != 1)
		return fail(s, NULL);
	while ((res = PQgetResult(s->conn)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && ret == 0)
			ret = fail(s, res);
		PQclear(res);
	}
	return ret;
}

/* The batch into readings: how many were new. */
static int move_batch(struct pg_store *s, uint64_t *added)
{
	const char *params[1] = { s->plant };
	PGresult *res = NULL;
	int ret;

	if ((ret = copy_batch(s)) < 0 ||
	    (ret = exec_params(s, insert_nodes, 1, params, NULL)) < 0 ||
	    (ret = exec_params(s, insert_readings, 1, params, &res)) < 0)
		return ret;
	*added = strtoull(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return 0;
}

static int pg_commit(struct store *base)
{
	struct pg_store *s = pq(base);
	char dev[24], ino[24], off[24], lines[24];
	const char *params[5] = { s->plant, dev, ino, off, lines };
	uint64_t added = 0;
	size_t i;
	int ret = 0;

	for (i = 0; i < s->nbatch_months && ret == 0; i++)
		if (!month_known(s, s->batch_months[i]))
			ret = make_month(s, s->batch_months[i]);
	if (ret == 0)
		ret = exec(s, "BEGIN");
	if (ret == 0 && s->rows > 0)
		ret = move_batch(s, &added);
	snprintf(dev, sizeof(dev), "%" PRId64, (int64_t)base->pos.dev);
	snprintf(ino, sizeof(ino), "%" PRId64, (int64_t)base->pos.ino);
	snprintf(off, sizeof(off), "%" PRIu64, base->pos.offset);
	snprintf(lines, sizeof(lines), "%" PRIu64, base->pos.lines);
	if (ret == 0)
		ret = exec_params(s, set_position, 5, params, NULL);
	if (ret == 0)
		ret = exec(s, "COMMIT");
	if (ret < 0)
		return ret;
	/* store_add counted every row as added: the rest were there. */
	base->n.added -= s->rows - added;
	base->n.present += s->rows - added;
	s->len = s->rows = s->nbatch_months = 0;
	return 0;
}

static void pg_rollback(struct store *base)
{
	struct pg_store *s = pq(base);

	if (PQstatus(s->conn) == CONNECTION_OK &&
	    PQtransactionStatus(s->conn) != PQTRANS_IDLE)
		PQclear(PQexec(s->conn, "ROLLBACK"));
	base->n.added -= s->rows;
	s->len = s->rows = s->nbatch_months = 0;
	s->nmonths = 0;	/* another historian's retention may have been */
}

/* Whole months before the cutoff are dropped, for every plant (the
 * fleet keeps one retention); in the month the cutoff falls into, this
 * plant's older readings are deleted. */
static int64_t pg_retain(struct store *base, int64_t cutoff_ms)
{
	struct pg_store *s = pq(base);
	char cutoff[24], sql[256];
	const char *params[2] = { s->plant, cutoff };
	PGresult *res = NULL, *del = NULL;
	int64_t deleted = 0, to;
	int i, ret;

	if ((ret = store_commit(base)) < 0)
		return ret;
	snprintf(cutoff, sizeof(cutoff), "%" PRId64, cutoff_ms);
	if ((ret = exec(s, "BEGIN; SELECT pg_advisory_xact_lock(2003792245)"))
	    < 0)
		return ret;
	ret = exec_params(s, "SELECT c.relname FROM pg_inherits i JOIN "
	    "pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = "
	    "'readings'::regclass", 0, NULL, &res);
	for (i = 0; ret == 0 && i < PQntuples(res); i++) {
		const char *name = PQgetvalue(res, i, 0);

		if (!store_pg_month_end(name, &to) || to > cutoff_ms)
			continue;
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", name);
		if ((ret = exec_params(s, sql, 0, NULL, &del)) < 0)
			break;
		deleted += strtoll(PQgetvalue(del, 0, 0), NULL, 10);
		PQclear(del);
		snprintf(sql, sizeof(sql), "DROP TABLE %s", name);
		ret = exec(s, sql);
	}
	PQclear(res);
	if (ret == 0 && (ret = exec_params(s, "DELETE FROM readings WHERE "
	    "plant = $1 AND ts < $2::bigint", 2, params, &del)) == 0) {
		deleted += strtoll(PQcmdTuples(del), NULL, 10);
		PQclear(del);
	}
	if (ret == 0)
		ret = exec(s, "COMMIT");
	if (ret < 0)
		exec(s, "ROLLBACK");
	s->nmonths = 0;
	return ret < 0 ? ret : deleted;
}

static int pg_bulk(struct store *base, bool on)
{
	(void)base;
	(void)on;	/* the batches are as large as they are */
	return 0;
}

static int pg_set_cache(struct store *base, bool large)
{
	(void)base;
	(void)large;	/* the server's */
	return 0;
}

static void pg_close(struct store *base)
{
	struct pg_store *s = pq(base);

	PQfinish(s->conn);
	free(s->buf);
	free(s);
}

int store_pg_forget(struct store *base)
{
	struct pg_store *s = pq(base);
	const char *params[1] = { s->plant };
	int ret;

	if ((ret = store_commit(base)) < 0 || (ret = exec(s, "BEGIN")) < 0)
		return ret;
	if ((ret = exec_params(s, "DELETE FROM readings WHERE plant = $1", 1,
	    params, NULL)) == 0 && (ret = exec_params(s, "DELETE FROM "
	    "log_position WHERE plant = $1", 1, params, NULL)) == 0)
		ret = exec(s, "COMMIT");
	if (ret < 0) {
		exec(s, "ROLLBACK");
		return ret;
	}
	base->pos = base->committed = (struct store_position){ 0 };
	return 0;
}

static const struct store_ops pg_ops = {
	.position = pg_position,
	.add = pg_add,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.retain = pg_retain,
	.bulk = pg_bulk,
	.set_cache = pg_set_cache,
	.close = pg_close,
};

static PGconn *connect_to(const char *conninfo)
{
	char timeout[16];
	/* Ours first: what conninfo says overrides them. */
	/* A server that stops answering fails the batch within about
	 * 30 s rather than holding the thread for TCP's 15 minutes. */
	const char *keys[] = { "connect_timeout", "application_name",
	    "tcp_user_timeout", "keepalives_idle", "keepalives_interval",
	    "keepalives_count", "dbname", NULL };
	const char *values[] = { timeout, "wgu-historian", "30000", "10",
	    "5", "4", conninfo, NULL };

	snprintf(timeout, sizeof(timeout), "%d", STORE_PG_CONNECT_TIMEOUT);
	return PQconnectdbParams(keys, values, 1);
}

int store_open_pg(struct store **sp, const char *conninfo, const char *plant,
    char *err, size_t errlen)
{
	struct pg_store *s = calloc(1, sizeof(*s));
	int ret;

	*sp = NULL;
	if (s == NULL) {
		one_line(err, errlen, strerror(ENOMEM));
		return -ENOMEM;
	}
	s->base.ops = &pg_ops;
	snprintf(s->plant, sizeof(s->plant), "%s", plant);
	s->conn = connect_to(conninfo);
	if (s->conn == NULL || PQstatus(s->conn) != CONNECTION_OK) {
		one_line(err, errlen, s->conn ? PQerrorMessage(s->conn) :
		    "out of memory");
		pg_close(&s->base);
		return -ENOTCONN;
	}
	PQsetNoticeProcessor(s->conn, quiet, NULL);
	ret = exec(s, batch_table);
	if (ret == 0 && (ret = exec(s, "BEGIN")) == 0) {
		if ((ret = exec(s, schema)) == 0)
			ret = exec(s, "COMMIT");
		else
			exec(s, "ROLLBACK");
	}
	if (ret == 0)
		ret = check_version(s);
	if (ret == 0)
		ret = read_position(s, &s->base.pos);
	if (ret < 0) {
		one_line(err, errlen, s->base.err);
		pg_close(&s->base);
		return ret;
	}
	s->base.committed = s->base.pos;
	*sp = &s->base;
	return 0;
}
