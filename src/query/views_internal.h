/* What wgu-query's views share (views.c) and their callers do not need:
 * the bound time range, a cell as text, the loop over the nodes. */
#ifndef WGU_QUERY_VIEWS_INTERNAL_H
#define WGU_QUERY_VIEWS_INTERNAL_H

#include <stdint.h>

#include "query/qdb.h"

#include "query/output.h"
#include "query/views.h"

enum {
	QUERY_CELL = 64,	/* one cell as text, with its NUL */
};

/* Bound in every per-node statement: ?1 node, ?2 since, ?3 until,
 * ?4 status, ?5 interval or field name. */
#define QUERY_RANGE "node = ?1 AND ts >= ?2 AND ts < ?3 AND status >= ?4"

/* The message on stderr, and -EIO. */
int query_sql_fail(struct qdb *db, const char *what);
int query_prepare(struct qdb *db, const char *sql, struct qstmt **q);

/* Resets q and binds ?1 to ?4. */
void query_bind_range(struct qstmt *q, const struct query_filter *f,
    int64_t node);

/* Into buf[QUERY_CELL]: a time as telemetry_time_format() writes it (the
 * milliseconds when it cannot); a column as text, "" for NULL. */
void query_time_cell(char *buf, int64_t ms);
void query_cell(char *buf, struct qstmt *q, int col);

/* p, t or v: the index of a column field, -1 for another. */
int query_column_field(const char *field);

/* Runs q (bound by query_each_node through query_bind_range) for every
 * node, then finalizes it; row() turns each result row into cells. */
typedef void query_row_fn(const struct query_node *node, struct qstmt *q,
    const struct query_filter *f, struct output *o);
int query_each_node(struct qdb *db, struct qstmt *q,
    const struct query_filter *f, const struct query_node *nodes, size_t n,
    query_row_fn *row, struct output *o);

#endif
