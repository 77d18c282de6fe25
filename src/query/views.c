/* wgu-query's views (views.h): what they all share (the nodes a glob
 * selects, the bound time range, cells, the loop over the nodes) and the
 * nodes view.  Every statement is fixed text; the user's values are bound
 * parameters. */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt/telemetry.h"
#include "query/views.h"
#include "query/views_internal.h"

int query_sql_fail(struct qdb *db, const char *what)
{
	fprintf(stderr, "wgu-query: %s: %s\n", what, qdb_errmsg(db));
	return -EIO;
}

int query_prepare(struct qdb *db, const char *sql, struct qstmt **q)
{
	return qdb_prepare(db, sql, q) == 0 ? 0 :
	    query_sql_fail(db, "prepare");
}

int query_nodes(struct qdb *db, const char *glob, struct query_node **nodes,
    size_t *n)
{
	struct qstmt *q;
	struct query_node *v = NULL, *p;
	size_t cap = 0;
	int rc, ret = 0;

	*nodes = NULL;
	*n = 0;
	if (qdb_prepare_nodes(db, glob, &q) < 0)
		return query_sql_fail(db, "nodes");
	while ((rc = qdb_step(q)) == QDB_ROW) {
		const char *plant = qdb_column_text(q, 2);

		/* PostgreSQL's rows are every node of the plant(s). */
		if (qdb_is_pg(db) && fnmatch(glob, qdb_column_text(q, 1), 0))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((p = realloc(v, cap * sizeof(*v))) == NULL)
				break;
			v = p;
		}
		v[*n].id = qdb_column_int64(q, 0);
		v[*n].name = strdup((const char *)qdb_column_text(q, 1));
		v[*n].plant = plant ? strdup(plant) : NULL;
		if (v[*n].name == NULL || (plant && v[*n].plant == NULL)) {
			free(v[*n].name);
			break;
		}
		(*n)++;
	}
	*nodes = v;
	if (rc == QDB_ROW) {
		fprintf(stderr, "wgu-query: %s\n", strerror(ENOMEM));
		ret = -ENOMEM;
	} else if (rc != QDB_DONE) {
		ret = query_sql_fail(db, "nodes");
	}
	qdb_finalize(q);
	return ret;
}

void query_nodes_free(struct query_node *nodes, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(nodes[i].name);
		free(nodes[i].plant);
	}
	free(nodes);
}

void query_bind_range(struct qstmt *q, const struct query_filter *f,
    int64_t node)
{
	qdb_reset(q);
	qdb_bind_int64(q, 1, node);
	qdb_bind_int64(q, 2, f->since);
	qdb_bind_int64(q, 3, f->until);
	qdb_bind_int64(q, 4, f->status);
}

void query_time_cell(char *buf, int64_t ms)
{
	char t[TELEMETRY_TIME_FORMAT_LEN];

	if (telemetry_time_format(ms, t) < 0)
		snprintf(buf, QUERY_CELL, "%" PRId64, ms);
	else
		snprintf(buf, QUERY_CELL, "%s", t);
}

/* A column as text: "" for NULL. */
void query_cell(char *buf, struct qstmt *q, int col)
{
	switch (qdb_column_type(q, col)) {
	case QDB_NULL:
		buf[0] = '\0';
		break;
	case QDB_INTEGER:
		snprintf(buf, QUERY_CELL, "%lld",
		    (long long)qdb_column_int64(q, col));
		break;
	case QDB_FLOAT:
		snprintf(buf, QUERY_CELL, "%.10g",
		    qdb_column_double(q, col));
		break;
	default:
		snprintf(buf, QUERY_CELL, "%s",
		    (const char *)qdb_column_text(q, col));
		break;
	}
}

/* p, t or v: the index of a column field, -1 for another. */
int query_column_field(const char *field)
{
	static const char *const names[] = { "p", "t", "v" };
	int i;

	for (i = 0; field && i < 3; i++)
		if (strcmp(field, names[i]) == 0)
			return i;
	return -1;
}

int query_each_node(struct qdb *db, struct qstmt *q,
    const struct query_filter *f, const struct query_node *nodes, size_t n,
    query_row_fn *row, struct output *o)
{
	size_t i;
	int rc = QDB_DONE;

	for (i = 0; i < n && rc == QDB_DONE; i++) {
		query_bind_range(q, f, nodes[i].id);
		o->plant = nodes[i].plant;
		if (f->every > 0)
			qdb_bind_int64(q, 5, f->every);
		else if (f->field && query_column_field(f->field) < 0)
			qdb_bind_text(q, 5, f->field);
		while ((rc = qdb_step(q)) == QDB_ROW)
			row(&nodes[i], q, f, o);
	}
	qdb_finalize(q);
	return rc == QDB_DONE ? 0 : query_sql_fail(db, "query");
}

int view_nodes(struct qdb *db, const struct query_filter *f,
    const struct query_node *nodes, size_t n, struct output *o)
{
	static const struct output_column cols[] = {
		{ "node", false }, { "first", false }, { "last", false },
	};
	struct qstmt *q;
	size_t i;
	int rc = QDB_DONE, ret;

	if ((ret = query_prepare(db, "SELECT (SELECT min(ts) FROM readings WHERE "
	    "node = ?1), (SELECT max(ts) FROM readings WHERE node = ?1)",
	    &q)) < 0)
		return ret;
	output_begin(o, o->format, o->f, cols, sizeof(cols) / sizeof(cols[0]));
	for (i = 0; i < n; i++) {
		char first[QUERY_CELL] = "", last[QUERY_CELL] = "";
		const char *cells[3] = { nodes[i].name, first, last };

		o->plant = nodes[i].plant;

		qdb_reset(q);
		qdb_bind_int64(q, 1, nodes[i].id);
		if ((rc = qdb_step(q)) != QDB_ROW)
			break;
		if (qdb_column_type(q, 0) != QDB_NULL) {
			query_time_cell(first, qdb_column_int64(q, 0));
			query_time_cell(last, qdb_column_int64(q, 1));
		}
		output_row(o, cells);
		rc = QDB_DONE;
	}
	qdb_finalize(q);
	return rc == QDB_DONE ? 0 : query_sql_fail(db, "nodes");
}
