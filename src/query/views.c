/* wgu-query's views (views.h): what they all share (the nodes a glob
 * selects, the bound time range, cells, the loop over the nodes) and the
 * nodes view.  Every statement is fixed text; the user's values are bound
 * parameters. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt/telemetry.h"
#include "query/views.h"
#include "query/views_internal.h"

int query_sql_fail(sqlite3 *db, const char *what)
{
	fprintf(stderr, "wgu-query: %s: %s\n", what, sqlite3_errmsg(db));
	return -EIO;
}

int query_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **q)
{
	return sqlite3_prepare_v2(db, sql, -1, q, NULL) == SQLITE_OK ? 0 :
	    query_sql_fail(db, "prepare");
}

int query_nodes(sqlite3 *db, const char *glob, struct query_node **nodes,
    size_t *n)
{
	sqlite3_stmt *q;
	struct query_node *v = NULL, *p;
	size_t cap = 0;
	int rc, ret;

	*nodes = NULL;
	*n = 0;
	if ((ret = query_prepare(db, "SELECT id, name FROM nodes WHERE name GLOB ?1 "
	    "ORDER BY name", &q)) < 0)
		return ret;
	sqlite3_bind_text(q, 1, glob, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((p = realloc(v, cap * sizeof(*v))) == NULL)
				break;
			v = p;
		}
		v[*n].id = sqlite3_column_int64(q, 0);
		v[*n].name = strdup((const char *)sqlite3_column_text(q, 1));
		if (v[*n].name == NULL)
			break;
		(*n)++;
	}
	*nodes = v;
	if (rc == SQLITE_ROW) {
		fprintf(stderr, "wgu-query: %s\n", strerror(ENOMEM));
		ret = -ENOMEM;
	} else if (rc != SQLITE_DONE) {
		ret = query_sql_fail(db, "nodes");
	}
	sqlite3_finalize(q);
	return ret;
}

void query_nodes_free(struct query_node *nodes, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(nodes[i].name);
	free(nodes);
}

void query_bind_range(sqlite3_stmt *q, const struct query_filter *f,
    int64_t node)
{
	sqlite3_reset(q);
	sqlite3_bind_int64(q, 1, node);
	sqlite3_bind_int64(q, 2, f->since);
	sqlite3_bind_int64(q, 3, f->until);
	sqlite3_bind_int(q, 4, f->status);
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
void query_cell(char *buf, sqlite3_stmt *q, int col)
{
	switch (sqlite3_column_type(q, col)) {
	case SQLITE_NULL:
		buf[0] = '\0';
		break;
	case SQLITE_INTEGER:
		snprintf(buf, QUERY_CELL, "%lld",
		    (long long)sqlite3_column_int64(q, col));
		break;
	case SQLITE_FLOAT:
		snprintf(buf, QUERY_CELL, "%.10g",
		    sqlite3_column_double(q, col));
		break;
	default:
		snprintf(buf, QUERY_CELL, "%s",
		    (const char *)sqlite3_column_text(q, col));
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

int query_each_node(sqlite3 *db, sqlite3_stmt *q,
    const struct query_filter *f, const struct query_node *nodes, size_t n,
    query_row_fn *row, struct output *o)
{
	size_t i;
	int rc = SQLITE_DONE;

	for (i = 0; i < n && rc == SQLITE_DONE; i++) {
		query_bind_range(q, f, nodes[i].id);
		if (f->every > 0)
			sqlite3_bind_int64(q, 5, f->every);
		else if (f->field && query_column_field(f->field) < 0)
			sqlite3_bind_text(q, 5, f->field, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(q)) == SQLITE_ROW)
			row(&nodes[i], q, f, o);
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : query_sql_fail(db, "query");
}

int view_nodes(sqlite3 *db, const struct query_filter *f,
    const struct query_node *nodes, size_t n, struct output *o)
{
	static const struct output_column cols[] = {
		{ "node", false }, { "first", false }, { "last", false },
	};
	sqlite3_stmt *q;
	size_t i;
	int rc = SQLITE_DONE, ret;

	if ((ret = query_prepare(db, "SELECT (SELECT min(ts) FROM readings WHERE "
	    "node = ?1), (SELECT max(ts) FROM readings WHERE node = ?1)",
	    &q)) < 0)
		return ret;
	output_begin(o, o->format, o->f, cols, sizeof(cols) / sizeof(cols[0]));
	for (i = 0; i < n; i++) {
		char first[QUERY_CELL] = "", last[QUERY_CELL] = "";
		const char *cells[3] = { nodes[i].name, first, last };

		sqlite3_reset(q);
		sqlite3_bind_int64(q, 1, nodes[i].id);
		if ((rc = sqlite3_step(q)) != SQLITE_ROW)
			break;
		if (sqlite3_column_type(q, 0) != SQLITE_NULL) {
			query_time_cell(first, sqlite3_column_int64(q, 0));
			query_time_cell(last, sqlite3_column_int64(q, 1));
		}
		output_row(o, cells);
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : query_sql_fail(db, "nodes");
}
