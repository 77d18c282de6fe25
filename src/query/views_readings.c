/* wgu-query's readings views (views.h): the raw readings, and with
 * --every min/avg/max/count per node and interval. */
#include <inttypes.h>
#include <stdio.h>

#include "query/views.h"
#include "query/views_internal.h"

enum {
	QUERY_NAME_MAX = 48,	/* a field name and _avg */
};

#define READING_COLS "boot, seq, ts, received, "
#define ONE_COLUMN(c) "SELECT " READING_COLS c ", status, exactly_once " \
	"FROM readings WHERE " QUERY_RANGE " AND " c " IS NOT NULL ORDER BY ts"

static const char *const readings_one[3] = {
	ONE_COLUMN("p"), ONE_COLUMN("t"), ONE_COLUMN("v"),
};

static const char readings_all[] = "SELECT " READING_COLS
    "p, t, v, status, exactly_once, (SELECT group_concat(name || '=' || "
    "value, ' ') FROM fields WHERE reading = r.id) FROM readings r WHERE "
    QUERY_RANGE " ORDER BY ts";

static const char readings_other[] = "SELECT r.boot, r.seq, r.ts, "
    "r.received, f.value, r.status, r.exactly_once FROM readings r "
    "JOIN fields f ON f.reading = r.id AND f.name = ?5 WHERE r.node = ?1 "
    "AND r.ts >= ?2 AND r.ts < ?3 AND r.status >= ?4 ORDER BY r.ts";

/* PostgreSQL keeps the other fields in the jsonb column fields
 * (src/hub/store_pg.h).  They are written as SQLite writes a REAL as
 * text (a whole number with ".0"; float8's shortest form is SQLite's
 * for up to 15 significant digits), in byte order of their names. */
static const char readings_all_pg[] = "SELECT " READING_COLS
    "p, t, v, status, exactly_once, (SELECT string_agg(key || '=' || "
    "CASE WHEN x = trunc(x) AND abs(x) < 1e15 THEN x::bigint || '.0' "
    "ELSE x::text END, ' ' ORDER BY key COLLATE \"C\") FROM "
    "jsonb_each_text(r.fields), LATERAL (SELECT value::float8 AS x) c) "
    "FROM readings r WHERE " QUERY_RANGE " ORDER BY ts";

static const char readings_other_pg[] = "SELECT r.boot, r.seq, r.ts, "
    "r.received, (r.fields->>?5)::float8, r.status, r.exactly_once FROM "
    "readings r WHERE r.node = ?1 AND r.ts >= ?2 AND r.ts < ?3 AND "
    "r.status >= ?4 AND r.fields->>?5 IS NOT NULL ORDER BY r.ts";

static void reading_row(const struct query_node *node, struct qstmt *q,
    const struct query_filter *f, struct output *o)
{
	char c[12][QUERY_CELL];
	const char *cells[12];
	int nvals = f->field ? 1 : 3, i, k = 0;

	cells[k++] = node->name;
	query_time_cell(c[k], qdb_column_int64(q, 2));
	cells[k] = c[k], k++;
	query_cell(c[k], q, 0), cells[k] = c[k], k++;
	query_cell(c[k], q, 1), cells[k] = c[k], k++;
	for (i = 0; i < nvals; i++)
		query_cell(c[k], q, 4 + i), cells[k] = c[k], k++;
	if (!f->field) {
		query_cell(c[k], q, 9), cells[k] = c[k], k++;
	}
	query_cell(c[k], q, 4 + nvals), cells[k] = c[k], k++;
	cells[k++] = (int)qdb_column_int64(q, 5 + nvals) ? "exactly-once" :
	    "at-least-once";
	query_time_cell(c[k], qdb_column_int64(q, 3));
	cells[k] = c[k], k++;
	output_row(o, cells);
}

int view_readings(struct qdb *db, const struct query_filter *f,
    const struct query_node *nodes, size_t n, struct output *o)
{
	struct output_column cols[12] = {
		{ "node", false }, { "ts", false }, { "boot", true },
		{ "seq", true },
	};
	size_t k = 4;
	int col = query_column_field(f->field), ret;
	struct qstmt *q;

	if (f->field) {
		cols[k++] = (struct output_column){ f->field, true };
	} else {
		cols[k++] = (struct output_column){ "p", true };
		cols[k++] = (struct output_column){ "t", true };
		cols[k++] = (struct output_column){ "v", true };
		cols[k++] = (struct output_column){ "other", false };
	}
	cols[k++] = (struct output_column){ "status", true };
	cols[k++] = (struct output_column){ "guarantee", false };
	cols[k++] = (struct output_column){ "received", false };
	if (col >= 0)
		ret = query_prepare(db, readings_one[col], &q);
	else if (qdb_is_pg(db))
		ret = query_prepare(db, f->field ? readings_other_pg :
		    readings_all_pg, &q);
	else
		ret = query_prepare(db, f->field ? readings_other :
		    readings_all, &q);
	if (ret < 0)
		return ret;
	output_begin(o, o->format, o->f, cols, k);
	return query_each_node(db, q, f, nodes, n, reading_row, o);
}

/* ------------------------------------------------------------ every */

/* p, t and v are aggregated here, row by row in device time order (the
 * table's own order): no sort, unlike GROUP BY on the bucket. */
#define SCAN_ONE(c) "SELECT ts, " c ", status FROM readings WHERE " \
	QUERY_RANGE " AND " c " IS NOT NULL ORDER BY ts"

static const char *const every_one[3] = {
	SCAN_ONE("p"), SCAN_ONE("t"), SCAN_ONE("v"),
};

static const char every_all[] = "SELECT ts, p, t, v, status FROM readings "
    "WHERE " QUERY_RANGE " ORDER BY ts";

/* Another field: SQLite groups.  The name is ?6 (?5 is the interval). */
static const char every_other[] = "SELECT (r.ts / ?5) * ?5 AS b, "
    "count(f.value), min(f.value), avg(f.value), max(f.value), "
    "max(r.status) FROM readings r JOIN fields f ON f.reading = r.id AND "
    "f.name = ?6 WHERE r.node = ?1 AND r.ts >= ?2 AND r.ts < ?3 AND "
    "r.status >= ?4 GROUP BY b ORDER BY b";

static const char every_other_pg[] = "SELECT (r.ts / ?5) * ?5 AS b, "
    "count(x), min(x), avg(x), max(x), max(r.status) FROM readings r, "
    "LATERAL (SELECT (r.fields->>?6)::float8 AS x) l WHERE r.node = ?1 "
    "AND r.ts >= ?2 AND r.ts < ?3 AND r.status >= ?4 AND x IS NOT NULL "
    "GROUP BY b ORDER BY b";

struct bucket {
	int64_t start;
	uint64_t rows, n[3];
	double min[3], max[3], sum[3];
	int status;
};

static void bucket_print(const struct query_node *node,
    const struct bucket *b, int nvals, struct output *o)
{
	/* node, start, count, min/avg/max of up to 3 fields, status */
	char c[14][QUERY_CELL];
	const char *cells[14];
	int i, k = 0;

	cells[k++] = node->name;
	query_time_cell(c[k], b->start);
	cells[k] = c[k], k++;
	snprintf(c[k], QUERY_CELL, "%" PRIu64, b->rows);
	cells[k] = c[k], k++;
	for (i = 0; i < nvals; i++) {
		if (b->n[i] == 0) {
			cells[k++] = "", cells[k++] = "", cells[k++] = "";
			continue;
		}
		snprintf(c[k], QUERY_CELL, "%.10g", b->min[i]);
		cells[k] = c[k], k++;
		snprintf(c[k], QUERY_CELL, "%.6g", b->sum[i] / (double)b->n[i]);
		cells[k] = c[k], k++;
		snprintf(c[k], QUERY_CELL, "%.10g", b->max[i]);
		cells[k] = c[k], k++;
	}
	snprintf(c[k], QUERY_CELL, "%d", b->status);
	cells[k] = c[k], k++;
	output_row(o, cells);
}

static void bucket_take(struct bucket *b, struct qstmt *q, int nvals)
{
	int i, status = (int)qdb_column_int64(q, 1 + nvals);

	b->rows++;
	if (status > b->status)
		b->status = status;
	for (i = 0; i < nvals; i++) {
		double v;

		if (qdb_column_type(q, 1 + i) == QDB_NULL)
			continue;
		v = qdb_column_double(q, 1 + i);
		if (b->n[i] == 0 || v < b->min[i])
			b->min[i] = v;
		if (b->n[i] == 0 || v > b->max[i])
			b->max[i] = v;
		b->sum[i] += v;
		b->n[i]++;
	}
}

static int every_scan(struct qdb *db, struct qstmt *q,
    const struct query_filter *f, const struct query_node *nodes, size_t n,
    int nvals, struct output *o)
{
	size_t i;
	int rc = QDB_DONE;

	for (i = 0; i < n && rc == QDB_DONE; i++) {
		struct bucket b = { .start = -1 };

		query_bind_range(q, f, nodes[i].id);
		o->plant = nodes[i].plant;
		while ((rc = qdb_step(q)) == QDB_ROW) {
			int64_t ts = qdb_column_int64(q, 0);
			int64_t start = ts / f->every * f->every;

			if (start != b.start) {
				if (b.start >= 0)
					bucket_print(&nodes[i], &b, nvals, o);
				b = (struct bucket){ .start = start };
			}
			bucket_take(&b, q, nvals);
		}
		if (rc == QDB_DONE && b.start >= 0)
			bucket_print(&nodes[i], &b, nvals, o);
	}
	qdb_finalize(q);
	return rc == QDB_DONE ? 0 : query_sql_fail(db, "query");
}

static void every_row(const struct query_node *node, struct qstmt *q,
    const struct query_filter *f, struct output *o)
{
	char c[7][QUERY_CELL];
	const char *cells[7];
	int i, k = 0;

	cells[k++] = node->name;
	query_time_cell(c[k], qdb_column_int64(q, 0));
	cells[k] = c[k], k++;
	for (i = 1; i < 6; i++) {
		if (i == 3 && qdb_column_type(q, i) == QDB_FLOAT)
			snprintf(c[k], QUERY_CELL, "%.6g",
			    qdb_column_double(q, i));
		else
			query_cell(c[k], q, i);
		cells[k] = c[k], k++;
	}
	output_row(o, cells);
}

int view_every(struct qdb *db, const struct query_filter *f,
    const struct query_node *nodes, size_t n, struct output *o)
{
	static const char *const agg[] = { "min", "avg", "max" };
	static const char *const pt[] = { "p", "t", "v" };
	struct output_column cols[14] = {
		{ "node", false }, { "start", false }, { "count", true },
	};
	char names[9][QUERY_NAME_MAX];
	int col = query_column_field(f->field), i, j, ret;
	size_t k = 3;
	struct qstmt *q;

	for (i = 0; i < (f->field ? 1 : 3); i++)
		for (j = 0; j < 3; j++) {
			snprintf(names[i * 3 + j], QUERY_NAME_MAX, "%s_%s",
			    f->field ? f->field : pt[i], agg[j]);
			cols[k++] = (struct output_column){ names[i * 3 + j],
			    true };
		}
	cols[k++] = (struct output_column){ "status", true };
	if (f->field && col < 0) {
		if ((ret = query_prepare(db, qdb_is_pg(db) ? every_other_pg :
		    every_other, &q)) < 0)
			return ret;
		/* each_node binds ?5, the interval; the name goes to ?6. */
		qdb_bind_text(q, 6, f->field);
		output_begin(o, o->format, o->f, cols, k);
		return query_each_node(db, q, f, nodes, n, every_row, o);
	}
	if ((ret = query_prepare(db, f->field ? every_one[col] : every_all, &q)) < 0)
		return ret;
	output_begin(o, o->format, o->f, cols, k);
	return every_scan(db, q, f, nodes, n, f->field ? 1 : 3, o);
}
