/* wgu-query's database (qdb.h): SQLite's calls as they are, and the same
 * over libpq. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "hub/store.h"
#include "hub/store_pg.h"
#include "query/qdb.h"

/* PostgreSQL's type oids (catalog/pg_type_d.h, stable). */
enum {
	OID_INT8 = 20, OID_INT2 = 21, OID_INT4 = 23, OID_FLOAT4 = 700,
	OID_FLOAT8 = 701, OID_NUMERIC = 1700,
};

struct qdb {
	sqlite3 *lite;
	PGconn *pg;
	char *plant;		/* PostgreSQL: NULL for all */
	char err[256];
};

struct qstmt {
	struct qdb *db;
	sqlite3_stmt *lite;
	/* PostgreSQL: the text with $N, the bound values, the result. */
	char *sql;
	int nparams;
	char *params[QDB_PARAMS];
	PGresult *res;
	int row;
};

static void set_err(struct qdb *db, const char *msg)
{
	size_t i;

	snprintf(db->err, sizeof(db->err), "%s", msg && *msg ? msg :
	    "unknown error");
	for (i = 0; db->err[i]; i++)
		if (db->err[i] == '\n' || db->err[i] == '\t')
			db->err[i] = ' ';
	while (i > 0 && db->err[i - 1] == ' ')
		db->err[--i] = '\0';
}

struct qdb *qdb_open_sqlite(const char *path)
{
	struct qdb *db = calloc(1, sizeof(*db));
	sqlite3_stmt *q = NULL;
	int rc, version = -1;

	if (db == NULL)
		return NULL;
	if (access(path, F_OK) != 0) {
		fprintf(stderr, "wgu-query: %s: %s (--db names the historian's "
		    "store)\n", path, strerror(errno));
		free(db);
		return NULL;
	}
	rc = sqlite3_open_v2(path, &db->lite, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db->lite, 5000);
		rc = sqlite3_prepare_v2(db->lite, "PRAGMA user_version", -1,
		    &q, NULL);
	}
	if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		version = sqlite3_column_int(q, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_OK) {
		fprintf(stderr, "wgu-query: %s: %s\n", path, db->lite ?
		    sqlite3_errmsg(db->lite) : sqlite3_errstr(rc));
	} else if (version != STORE_SCHEMA_VERSION && version != 1) {
		/* Version 2 only added the historian's alarms and figures,
		 * which no view reads: a version 1 store reads the same. */
		fprintf(stderr, "wgu-query: %s: not a store of schema version "
		    "%d (found %d)\n", path, STORE_SCHEMA_VERSION, version);
		rc = SQLITE_ERROR;
	}
	if (rc != SQLITE_OK) {
		qdb_close(db);
		return NULL;
	}
	return db;
}

struct qdb *qdb_open_pg(const char *conninfo, const char *plant)
{
	struct qdb *db = calloc(1, sizeof(*db));
	char *msg = NULL;
	PQconninfoOption *opts;
	PGresult *res;
	const char *keys[] = { "connect_timeout", "application_name",
	    "dbname", NULL };
	const char *values[] = { "5", "wgu-query", conninfo, NULL };

	if (db == NULL)
		return NULL;
	if ((opts = PQconninfoParse(conninfo, &msg)) == NULL) {
		set_err(db, msg ? msg : "out of memory");
		fprintf(stderr, "wgu-query: --pg: not a PostgreSQL conninfo: "
		    "%s\n", db->err);
		PQfreemem(msg);
		free(db);
		return NULL;
	}
	PQconninfoFree(opts);
	db->pg = PQconnectdbParams(keys, values, 1);
	if (db->pg == NULL || PQstatus(db->pg) != CONNECTION_OK) {
		set_err(db, db->pg ? PQerrorMessage(db->pg) : "out of memory");
		fprintf(stderr, "wgu-query: --pg: %s\n", db->err);
		qdb_close(db);
		return NULL;
	}
	res = PQexec(db->pg, "SELECT value FROM wgu_meta WHERE key = "
	    "'schema_version'");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
	    atoi(PQgetvalue(res, 0, 0)) != STORE_PG_SCHEMA_VERSION) {
		fprintf(stderr, "wgu-query: --pg: not a historian's database "
		    "of schema version %d\n", STORE_PG_SCHEMA_VERSION);
		PQclear(res);
		qdb_close(db);
		return NULL;
	}
	PQclear(res);
	if (plant && (db->plant = strdup(plant)) == NULL) {
		qdb_close(db);
		return NULL;
	}
	return db;
}

void qdb_close(struct qdb *db)
{
	if (db == NULL)
		return;
	sqlite3_close(db->lite);
	PQfinish(db->pg);
	free(db->plant);
	free(db);
}

bool qdb_is_pg(const struct qdb *db)
{
	return db->pg != NULL;
}

bool qdb_many_plants(const struct qdb *db)
{
	return db->pg != NULL && db->plant == NULL;
}

const char *qdb_errmsg(const struct qdb *db)
{
	return db->lite ? sqlite3_errmsg(db->lite) : db->err;
}

/* ?N to $N, and SQLite's index hints dropped; the highest N counted. */
static char *pg_sql(const char *sql, int *nparams)
{
	static const char hint[] = "INDEXED BY ";
	char *out = malloc(strlen(sql) + 1), *o = out;

	*nparams = 0;
	if (out == NULL)
		return NULL;
	while (*sql) {
		if (strncmp(sql, hint, sizeof(hint) - 1) == 0) {
			sql += sizeof(hint) - 1;
			sql += strcspn(sql, " ");
			sql += *sql == ' ';
		} else if (*sql == '?' && sql[1] >= '1' && sql[1] <= '9') {
			if (sql[1] - '0' > *nparams)
				*nparams = sql[1] - '0';
			*o++ = '$';
			sql++;
		} else {
			*o++ = *sql++;
		}
	}
	*o = '\0';
	return out;
}

int qdb_prepare(struct qdb *db, const char *sql, struct qstmt **qp)
{
	struct qstmt *q = calloc(1, sizeof(*q));

	*qp = NULL;
	if (q == NULL) {
		set_err(db, strerror(ENOMEM));
		return -1;
	}
	q->db = db;
	q->row = -1;
	if (db->lite && sqlite3_prepare_v2(db->lite, sql, -1, &q->lite,
	    NULL) != SQLITE_OK) {
		free(q);
		return -1;
	}
	if (db->pg && ((q->sql = pg_sql(sql, &q->nparams)) == NULL ||
	    q->nparams > QDB_PARAMS)) {
		set_err(db, "too many parameters");
		qdb_finalize(q);
		return -1;
	}
	*qp = q;
	return 0;
}

void qdb_bind_int64(struct qstmt *q, int i, int64_t v)
{
	char buf[24];

	if (q->lite) {
		sqlite3_bind_int64(q->lite, i, v);
		return;
	}
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	qdb_bind_text(q, i, buf);
}

void qdb_bind_text(struct qstmt *q, int i, const char *v)
{
	if (q->lite) {
		sqlite3_bind_text(q->lite, i, v, -1, SQLITE_TRANSIENT);
		return;
	}
	if (i < 1 || i > QDB_PARAMS)
		return;
	free(q->params[i - 1]);
	q->params[i - 1] = strdup(v);
}

enum qdb_step qdb_step(struct qstmt *q)
{
	int rc;

	if (q->lite) {
		rc = sqlite3_step(q->lite);
		return rc == SQLITE_ROW ? QDB_ROW : rc == SQLITE_DONE ?
		    QDB_DONE : QDB_ERROR;
	}
	if (q->res == NULL) {
		q->res = PQexecParams(q->db->pg, q->sql, q->nparams, NULL,
		    (const char *const *)q->params, NULL, NULL, 0);
		if (PQresultStatus(q->res) != PGRES_TUPLES_OK) {
			set_err(q->db, PQresultErrorMessage(q->res));
			PQclear(q->res);
			q->res = NULL;
			return QDB_ERROR;
		}
		q->row = -1;
	}
	return ++q->row < PQntuples(q->res) ? QDB_ROW : QDB_DONE;
}

void qdb_reset(struct qstmt *q)
{
	if (q->lite) {
		sqlite3_reset(q->lite);
		return;
	}
	PQclear(q->res);
	q->res = NULL;
	q->row = -1;
}

void qdb_finalize(struct qstmt *q)
{
	int i;

	if (q == NULL)
		return;
	sqlite3_finalize(q->lite);
	PQclear(q->res);
	free(q->sql);
	for (i = 0; i < QDB_PARAMS; i++)
		free(q->params[i]);
	free(q);
}

enum qdb_type qdb_column_type(struct qstmt *q, int col)
{
	if (q->lite) {
		switch (sqlite3_column_type(q->lite, col)) {
		case SQLITE_NULL: return QDB_NULL;
		case SQLITE_INTEGER: return QDB_INTEGER;
		case SQLITE_FLOAT: return QDB_FLOAT;
		default: return QDB_TEXT;
		}
	}
	if (PQgetisnull(q->res, q->row, col))
		return QDB_NULL;
	switch (PQftype(q->res, col)) {
	case OID_INT8: case OID_INT2: case OID_INT4: return QDB_INTEGER;
	case OID_FLOAT4: case OID_FLOAT8: case OID_NUMERIC: return QDB_FLOAT;
	default: return QDB_TEXT;
	}
}

int64_t qdb_column_int64(struct qstmt *q, int col)
{
	if (q->lite)
		return sqlite3_column_int64(q->lite, col);
	return strtoll(PQgetvalue(q->res, q->row, col), NULL, 10);
}

double qdb_column_double(struct qstmt *q, int col)
{
	if (q->lite)
		return sqlite3_column_double(q->lite, col);
	return strtod(PQgetvalue(q->res, q->row, col), NULL);
}

const char *qdb_column_text(struct qstmt *q, int col)
{
	if (q->lite)
		return (const char *)sqlite3_column_text(q->lite, col);
	return PQgetisnull(q->res, q->row, col) ? NULL :
	    PQgetvalue(q->res, q->row, col);
}

int qdb_prepare_nodes(struct qdb *db, const char *glob, struct qstmt **q)
{
	int ret;

	if (db->lite) {
		if ((ret = qdb_prepare(db, "SELECT id, name, NULL FROM nodes "
		    "WHERE name GLOB ?1 ORDER BY name", q)) == 0)
			qdb_bind_text(*q, 1, glob);
		return ret;
	}
	/* The glob is matched by the caller (fnmatch). */
	if ((ret = qdb_prepare(db, db->plant ? "SELECT id, name, plant FROM "
	    "nodes WHERE plant = ?1 ORDER BY plant, name" : "SELECT id, name, "
	    "plant FROM nodes ORDER BY plant, name", q)) == 0 && db->plant)
		qdb_bind_text(*q, 1, db->plant);
	return ret;
}
