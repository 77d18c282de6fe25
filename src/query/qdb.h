/* wgu-query's database: the historian's SQLite store (--db) or its
 * PostgreSQL database (--pg), behind the few calls the views make, shaped
 * after SQLite's (prepare, bind, step, column).  The views' SQL is
 * written once with ?N parameters; on PostgreSQL they become $N and
 * SQLite's index hints go.  Where the two differ (the data fields beyond
 * p, t, v: a table in SQLite, a jsonb column in PostgreSQL), a view asks
 * qdb_is_pg().  Columns come back typed on both (PostgreSQL's text is
 * read by the column's type), so a view prints the same cells from
 * either. */
#ifndef WGU_QUERY_QDB_H
#define WGU_QUERY_QDB_H

#include <stdbool.h>
#include <stdint.h>

enum qdb_step {
	QDB_DONE = 0,
	QDB_ROW = 1,
	QDB_ERROR = -1,
};

enum qdb_type {
	QDB_NULL, QDB_INTEGER, QDB_FLOAT, QDB_TEXT,
};

enum {
	QDB_PARAMS = 8,		/* ?1..?8 */
};

struct qdb;
struct qstmt;

/* Read-only; a store of another schema version is refused.  NULL after
 * one line on stderr. */
struct qdb *qdb_open_sqlite(const char *path);
/* plant NULL: every plant's nodes. */
struct qdb *qdb_open_pg(const char *conninfo, const char *plant);
void qdb_close(struct qdb *db);

bool qdb_is_pg(const struct qdb *db);
/* The last error's text, for messages. */
const char *qdb_errmsg(const struct qdb *db);

/* 0 and *q, or -1. */
int qdb_prepare(struct qdb *db, const char *sql, struct qstmt **q);
/* Bindings stay until bound again (as SQLite's); text is copied. */
void qdb_bind_int64(struct qstmt *q, int i, int64_t v);
void qdb_bind_text(struct qstmt *q, int i, const char *v);
enum qdb_step qdb_step(struct qstmt *q);
/* Back to before the first step, the bindings kept. */
void qdb_reset(struct qstmt *q);
void qdb_finalize(struct qstmt *q);

enum qdb_type qdb_column_type(struct qstmt *q, int col);
int64_t qdb_column_int64(struct qstmt *q, int col);
double qdb_column_double(struct qstmt *q, int col);
const char *qdb_column_text(struct qstmt *q, int col);

/* Nodes: id, name (and plant on PostgreSQL) of every node whose name
 * matches glob, ordered by plant and name.  Rows: 0 id, 1 name, 2 plant
 * (NULL on SQLite). */
int qdb_prepare_nodes(struct qdb *db, const char *glob, struct qstmt **q);

/* Whether the rows come from several plants (PostgreSQL without
 * --plant): the views then show the plant first. */
bool qdb_many_plants(const struct qdb *db);

#endif
