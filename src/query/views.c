/* wgu-query's views: see views.h.  Every statement is fixed text; the
 * user's values are bound parameters. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt/telemetry.h"
#include "query/views.h"

enum {
	CELL = 64,
	QUERY_NAME_MAX = 48,	/* a field name and _avg */
};

/* Bound in every per-node statement: ?1 node, ?2 since, ?3 until,
 * ?4 status, ?5 interval or field name. */
#define RANGE "node = ?1 AND ts >= ?2 AND ts < ?3 AND status >= ?4"

static int sql_fail(sqlite3 *db, const char *what)
{
	fprintf(stderr, "wgu-query: %s: %s\n", what, sqlite3_errmsg(db));
	return -EIO;
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **q)
{
	return sqlite3_prepare_v2(db, sql, -1, q, NULL) == SQLITE_OK ? 0 :
	    sql_fail(db, "prepare");
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
	if ((ret = prepare(db, "SELECT id, name FROM nodes WHERE name GLOB ?1 "
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
		ret = sql_fail(db, "nodes");
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

static void bind_range(sqlite3_stmt *q, const struct query_filter *f,
    int64_t node)
{
	sqlite3_reset(q);
	sqlite3_bind_int64(q, 1, node);
	sqlite3_bind_int64(q, 2, f->since);
	sqlite3_bind_int64(q, 3, f->until);
	sqlite3_bind_int(q, 4, f->status);
}

static void time_cell(char *buf, int64_t ms)
{
	char t[TELEMETRY_TIME_FORMAT_LEN];

	if (telemetry_time_format(ms, t) < 0)
		snprintf(buf, CELL, "%" PRId64, ms);
	else
		snprintf(buf, CELL, "%s", t);
}

/* A column as text: "" for NULL. */
static void cell(char *buf, sqlite3_stmt *q, int col)
{
	switch (sqlite3_column_type(q, col)) {
	case SQLITE_NULL:
		buf[0] = '\0';
		break;
	case SQLITE_INTEGER:
		snprintf(buf, CELL, "%lld", (long long)sqlite3_column_int64(q,
		    col));
		break;
	case SQLITE_FLOAT:
		snprintf(buf, CELL, "%.10g", sqlite3_column_double(q, col));
		break;
	default:
		snprintf(buf, CELL, "%s", (const char *)sqlite3_column_text(q,
		    col));
		break;
	}
}

/* p, t or v: the index of a column field, -1 for another. */
static int column_field(const char *field)
{
	static const char *const names[] = { "p", "t", "v" };
	int i;

	for (i = 0; field && i < 3; i++)
		if (strcmp(field, names[i]) == 0)
			return i;
	return -1;
}

/* Runs q (bound by the caller through bind_range) for every node; row()
 * turns each result row into cells. */
typedef void row_fn(const struct query_node *node, sqlite3_stmt *q,
    const struct query_filter *f, struct output *o);

static int each_node(sqlite3 *db, sqlite3_stmt *q,
    const struct query_filter *f, const struct query_node *nodes, size_t n,
    row_fn *row, struct output *o)
{
	size_t i;
	int rc = SQLITE_DONE;

	for (i = 0; i < n && rc == SQLITE_DONE; i++) {
		bind_range(q, f, nodes[i].id);
		if (f->every > 0)
			sqlite3_bind_int64(q, 5, f->every);
		else if (f->field && column_field(f->field) < 0)
			sqlite3_bind_text(q, 5, f->field, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(q)) == SQLITE_ROW)
			row(&nodes[i], q, f, o);
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : sql_fail(db, "query");
}

/* ------------------------------------------------------------ readings */

#define READING_COLS "boot, seq, ts, received, "
#define ONE_COLUMN(c) "SELECT " READING_COLS c ", status, exactly_once " \
	"FROM readings WHERE " RANGE " AND " c " IS NOT NULL ORDER BY ts"

static const char *const readings_one[3] = {
	ONE_COLUMN("p"), ONE_COLUMN("t"), ONE_COLUMN("v"),
};

static const char readings_all[] = "SELECT " READING_COLS
    "p, t, v, status, exactly_once, (SELECT group_concat(name || '=' || "
    "value, ' ') FROM fields WHERE reading = r.id) FROM readings r WHERE "
    RANGE " ORDER BY ts";

static const char readings_other[] = "SELECT r.boot, r.seq, r.ts, "
    "r.received, f.value, r.status, r.exactly_once FROM readings r "
    "JOIN fields f ON f.reading = r.id AND f.name = ?5 WHERE r.node = ?1 "
    "AND r.ts >= ?2 AND r.ts < ?3 AND r.status >= ?4 ORDER BY r.ts";

static void reading_row(const struct query_node *node, sqlite3_stmt *q,
    const struct query_filter *f, struct output *o)
{
	char c[12][CELL];
	const char *cells[12];
	int nvals = f->field ? 1 : 3, i, k = 0;

	cells[k++] = node->name;
	time_cell(c[k], sqlite3_column_int64(q, 2));
	cells[k] = c[k], k++;
	cell(c[k], q, 0), cells[k] = c[k], k++;
	cell(c[k], q, 1), cells[k] = c[k], k++;
	for (i = 0; i < nvals; i++)
		cell(c[k], q, 4 + i), cells[k] = c[k], k++;
	if (!f->field) {
		cell(c[k], q, 9), cells[k] = c[k], k++;
	}
	cell(c[k], q, 4 + nvals), cells[k] = c[k], k++;
	cells[k++] = sqlite3_column_int(q, 5 + nvals) ? "exactly-once" :
	    "at-least-once";
	time_cell(c[k], sqlite3_column_int64(q, 3));
	cells[k] = c[k], k++;
	output_row(o, cells);
}

int view_readings(sqlite3 *db, const struct query_filter *f,
    const struct query_node *nodes, size_t n, struct output *o)
{
	struct output_column cols[12] = {
		{ "node", false }, { "ts", false }, { "boot", true },
		{ "seq", true },
	};
	size_t k = 4;
	int col = column_field(f->field), ret;
	sqlite3_stmt *q;

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
	ret = prepare(db, !f->field ? readings_all : col >= 0 ?
	    readings_one[col] : readings_other, &q);
	if (ret < 0)
		return ret;
	output_begin(o, o->format, o->f, cols, k);
	return each_node(db, q, f, nodes, n, reading_row, o);
}

/* ------------------------------------------------------------ every */

/* p, t and v are aggregated here, row by row in device time order (the
 * table's own order): no sort, unlike GROUP BY on the bucket. */
#define SCAN_ONE(c) "SELECT ts, " c ", status FROM readings WHERE " RANGE \
	" AND " c " IS NOT NULL ORDER BY ts"

static const char *const every_one[3] = {
	SCAN_ONE("p"), SCAN_ONE("t"), SCAN_ONE("v"),
};

static const char every_all[] = "SELECT ts, p, t, v, status FROM readings "
    "WHERE " RANGE " ORDER BY ts";

/* Another field: SQLite groups.  The name is ?6 (?5 is the interval). */
static const char every_other[] = "SELECT (r.ts / ?5) * ?5 AS b, "
    "count(f.value), min(f.value), avg(f.value), max(f.value), "
    "max(r.status) FROM readings r JOIN fields f ON f.reading = r.id AND "
    "f.name = ?6 WHERE r.node = ?1 AND r.ts >= ?2 AND r.ts < ?3 AND "
    "r.status >= ?4 GROUP BY b ORDER BY b";

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
	char c[14][CELL];
	const char *cells[14];
	int i, k = 0;

	cells[k++] = node->name;
	time_cell(c[k], b->start);
	cells[k] = c[k], k++;
	snprintf(c[k], CELL, "%" PRIu64, b->rows);
	cells[k] = c[k], k++;
	for (i = 0; i < nvals; i++) {
		if (b->n[i] == 0) {
			cells[k++] = "", cells[k++] = "", cells[k++] = "";
			continue;
		}
		snprintf(c[k], CELL, "%.10g", b->min[i]);
		cells[k] = c[k], k++;
		snprintf(c[k], CELL, "%.6g", b->sum[i] / (double)b->n[i]);
		cells[k] = c[k], k++;
		snprintf(c[k], CELL, "%.10g", b->max[i]);
		cells[k] = c[k], k++;
	}
	snprintf(c[k], CELL, "%d", b->status);
	cells[k] = c[k], k++;
	output_row(o, cells);
}

static void bucket_take(struct bucket *b, sqlite3_stmt *q, int nvals)
{
	int i, status = sqlite3_column_int(q, 1 + nvals);

	b->rows++;
	if (status > b->status)
		b->status = status;
	for (i = 0; i < nvals; i++) {
		double v;

		if (sqlite3_column_type(q, 1 + i) == SQLITE_NULL)
			continue;
		v = sqlite3_column_double(q, 1 + i);
		if (b->n[i] == 0 || v < b->min[i])
			b->min[i] = v;
		if (b->n[i] == 0 || v > b->max[i])
			b->max[i] = v;
		b->sum[i] += v;
		b->n[i]++;
	}
}

static int every_scan(sqlite3 *db, sqlite3_stmt *q,
    const struct query_filter *f, const struct query_node *nodes, size_t n,
    int nvals, struct output *o)
{
	size_t i;
	int rc = SQLITE_DONE;

	for (i = 0; i < n && rc == SQLITE_DONE; i++) {
		struct bucket b = { .start = -1 };

		bind_range(q, f, nodes[i].id);
		while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
			int64_t ts = sqlite3_column_int64(q, 0);
			int64_t start = ts / f->every * f->every;

			if (start != b.start) {
				if (b.start >= 0)
					bucket_print(&nodes[i], &b, nvals, o);
				b = (struct bucket){ .start = start };
			}
			bucket_take(&b, q, nvals);
		}
		if (rc == SQLITE_DONE && b.start >= 0)
			bucket_print(&nodes[i], &b, nvals, o);
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : sql_fail(db, "query");
}

static void every_row(const struct query_node *node, sqlite3_stmt *q,
    const struct query_filter *f, struct output *o)
{
	char c[7][CELL];
	const char *cells[7];
	int i, k = 0;

	cells[k++] = node->name;
	time_cell(c[k], sqlite3_column_int64(q, 0));
	cells[k] = c[k], k++;
	for (i = 1; i < 6; i++) {
		if (i == 3 && sqlite3_column_type(q, i) == SQLITE_FLOAT)
			snprintf(c[k], CELL, "%.6g",
			    sqlite3_column_double(q, i));
		else
			cell(c[k], q, i);
		cells[k] = c[k], k++;
	}
	output_row(o, cells);
}

int view_every(sqlite3 *db, const struct query_filter *f,
    const struct query_node *nodes, size_t n, struct output *o)
{
	static const char *const agg[] = { "min", "avg", "max" };
	static const char *const pt[] = { "p", "t", "v" };
	struct output_column cols[14] = {
		{ "node", false }, { "start", false }, { "count", true },
	};
	char names[9][QUERY_NAME_MAX];
	int col = column_field(f->field), i, j, ret;
	size_t k = 3;
	sqlite3_stmt *q;

	for (i = 0; i < (f->field ? 1 : 3); i++)
		for (j = 0; j < 3; j++) {
			snprintf(names[i * 3 + j], QUERY_NAME_MAX, "%s_%s",
			    f->field ? f->field : pt[i], agg[j]);
			cols[k++] = (struct output_column){ names[i * 3 + j],
			    true };
		}
	cols[k++] = (struct output_column){ "status", true };
	if (f->field && col < 0) {
		if ((ret = prepare(db, every_other, &q)) < 0)
			return ret;
		/* each_node binds ?5, the interval; the name goes to ?6. */
		sqlite3_bind_text(q, 6, f->field, -1, SQLITE_TRANSIENT);
		output_begin(o, o->format, o->f, cols, k);
		return each_node(db, q, f, nodes, n, every_row, o);
	}
	if ((ret = prepare(db, f->field ? every_one[col] : every_all, &q)) < 0)
		return ret;
	output_begin(o, o->format, o->f, cols, k);
	return every_scan(db, q, f, nodes, n, f->field ? 1 : 3, o);
}

/* ------------------------------------------------------------ events */

/* The fields behind a status, by their thresholds (telemetry.h). */
static const struct kind {
	const char *name;
	double warn;
} kinds[3] = {
	{ "pressure", TELEMETRY_P_WARN }, { "thermal", TELEMETRY_T_WARN },
	{ "vibration", TELEMETRY_V_WARN },
};

struct episode {
	int64_t start, end;
	int worst;
	double max[3];		/* NAN: never seen */
	bool over[3];		/* exceeded its warning threshold */
	uint64_t readings;
	bool has_seq;		/* of the last reading */
	int64_t boot, seq;
};

/* Whether the row in q has the seq after the episode's last one, in the
 * same boot. */
static bool seq_next(sqlite3_stmt *q, const struct episode *e)
{
	return e->has_seq && sqlite3_column_type(q, 6) != SQLITE_NULL &&
	    sqlite3_column_int64(q, 5) == e->boot &&
	    sqlite3_column_int64(q, 6) == e->seq + 1;
}

static void episode_take(struct episode *e, sqlite3_stmt *q)
{
	int i, status = sqlite3_column_int(q, 4);

	e->end = sqlite3_column_int64(q, 0);
	e->has_seq = sqlite3_column_type(q, 6) != SQLITE_NULL;
	e->boot = sqlite3_column_int64(q, 5);
	e->seq = sqlite3_column_int64(q, 6);
	if (status > e->worst)
		e->worst = status;
	e->readings++;
	for (i = 0; i < 3; i++) {
		double v;

		if (sqlite3_column_type(q, 1 + i) == SQLITE_NULL)
			continue;
		v = sqlite3_column_double(q, 1 + i);
		if (isnan(e->max[i]) || v > e->max[i])
			e->max[i] = v;
		if (v >= kinds[i].warn)
			e->over[i] = true;
	}
}

static void episode_print(const struct query_node *node,
    const struct episode *e, bool open, struct output *o)
{
	char start[CELL], end[CELL], dur[CELL], peak[CELL], worst[CELL],
	    count[CELL], kind[64] = "";
	const char *cells[9];
	double best = -INFINITY;
	int i, top = -1;

	/* The kind: the fields over their threshold, the furthest over
	 * first (its peak is the one shown); none: the node's status. */
	for (i = 0; i < 3; i++)
		if (e->over[i] && e->max[i] / kinds[i].warn > best) {
			best = e->max[i] / kinds[i].warn;
			top = i;
		}
	if (top >= 0) {
		snprintf(kind, sizeof(kind), "%s", kinds[top].name);
		for (i = 0; i < 3; i++)
			if (e->over[i] && i != top)
				snprintf(kind + strlen(kind), sizeof(kind) -
				    strlen(kind), "+%s", kinds[i].name);
		snprintf(peak, sizeof(peak), "%.10g", e->max[top]);
	} else {
		snprintf(kind, sizeof(kind), "status");
		peak[0] = '\0';
	}
	time_cell(start, e->start);
	time_cell(end, e->end);
	snprintf(dur, sizeof(dur), "%.3f", (double)(e->end - e->start) / 1000);
	snprintf(worst, sizeof(worst), "%d", e->worst);
	snprintf(count, sizeof(count), "%" PRIu64, e->readings);
	cells[0] = node->name;
	cells[1] = kind;
	cells[2] = start;
	cells[3] = end;
	cells[4] = dur;
	cells[5] = peak;
	cells[6] = worst;
	cells[7] = count;
	cells[8] = open ? "open" : "closed";
	output_row(o, cells);
}

/* Anything of the node strictly between two times (then they are not in
 * one episode), or after one (then the episode is not over). */
static int between(sqlite3_stmt *q, int64_t node, int64_t from, int64_t to)
{
	int rc;

	sqlite3_reset(q);
	sqlite3_bind_int64(q, 1, node);
	sqlite3_bind_int64(q, 2, from);
	sqlite3_bind_int64(q, 3, to);
	rc = sqlite3_step(q);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -EIO;
}

static int node_events(sqlite3 *db, sqlite3_stmt *q, sqlite3_stmt *gap,
    const struct query_filter *f, const struct query_node *node,
    struct output *o)
{
	struct episode e = { 0 };
	bool in = false;
	int rc, b;

	/* Readings with a status only: the partial index (node, ts). */
	bind_range(q, f, node->id);
	sqlite3_bind_int(q, 4, 1);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t ts = sqlite3_column_int64(q, 0);

		/* The next seq of the same boot: nothing can lie between. */
		b = in && !(seq_next(q, &e) && e.end <= ts);
		if (b && (b = between(gap, node->id, e.end, ts)) != 0) {
			if (b < 0)
				return sql_fail(db, "events");
			if (e.worst >= f->status)
				episode_print(node, &e, false, o);
			in = false;
		}
		if (!in) {
			e = (struct episode){ .start = ts,
			    .max = { NAN, NAN, NAN } };
			in = true;
		}
		episode_take(&e, q);
	}
	if (rc != SQLITE_DONE)
		return sql_fail(db, "events");
	if (in && e.worst >= f->status) {
		if ((b = between(gap, node->id, e.end, INT64_MAX)) < 0)
			return sql_fail(db, "events");
		episode_print(node, &e, b == 0, o);
	}
	return 0;
}

int view_events(sqlite3 *db, const struct query_filter *f,
    const struct query_node *nodes, size_t n, struct output *o)
{
	static const struct output_column cols[] = {
		{ "node", false }, { "kind", false }, { "start", false },
		{ "end", false }, { "duration_s", true }, { "peak", true },
		{ "worst", true }, { "readings", true }, { "state", false },
	};
	sqlite3_stmt *q, *gap;
	size_t i;
	int ret;

	/* The partial index holds all it reads. */
	if ((ret = prepare(db, "SELECT ts, p, t, v, status, boot, seq FROM "
	    "readings INDEXED BY readings_anomalies WHERE " RANGE
	    " AND status > 0 ORDER BY ts", &q)) < 0)
		return ret;
	if ((ret = prepare(db, "SELECT 1 FROM readings WHERE node = ?1 AND "
	    "ts > ?2 AND ts < ?3 LIMIT 1", &gap)) < 0) {
		sqlite3_finalize(q);
		return ret;
	}
	output_begin(o, o->format, o->f, cols, sizeof(cols) / sizeof(cols[0]));
	for (i = 0; i < n && ret == 0; i++)
		ret = node_events(db, q, gap, f, &nodes[i], o);
	sqlite3_finalize(q);
	sqlite3_finalize(gap);
	return ret;
}

/* ------------------------------------------------------------ gaps */

struct gap {
	uint64_t boot, from, to;
	bool open;
};

struct gaps {
	struct gap *v;
	size_t n, cap;
};

static int gap_add(struct gaps *g, uint64_t boot, uint64_t from,
    uint64_t to, bool open)
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 64;
		struct gap *p = realloc(g->v, cap * sizeof(*p));

		if (p == NULL)
			return -ENOMEM;
		g->v = p;
		g->cap = cap;
	}
	g->v[g->n++] = (struct gap){ boot, from, to, open };
	return 0;
}

/* One boot's readings come by seq downwards: a jump is a range still
 * missing (open); a reading received after one with a higher seq filled
 * a gap late (closed), and consecutive late ones make one range. */
static int node_gaps(sqlite3 *db, sqlite3_stmt *q,
    const struct query_filter *f, const struct query_node *node,
    struct output *o)
{
	struct gaps g = { 0 };
	uint64_t boot = 0, above = 0, late_to = 0, late_from = 0;
	int64_t min_received = INT64_MAX;
	bool first = true, late = false;
	int rc, ret = 0;
	size_t i;

	bind_range(q, f, node->id);
	while (ret == 0 && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		uint64_t b = (uint64_t)sqlite3_column_int64(q, 0);
		uint64_t seq = (uint64_t)sqlite3_column_int64(q, 1);
		int64_t received = sqlite3_column_int64(q, 2);

		if (first || b != boot) {
			if (late)
				ret = gap_add(&g, boot, late_from, late_to,
				    false);
			if (!first && f->since == 0 && above > 1 && ret == 0)
				ret = gap_add(&g, boot, 1, above - 1, true);
			boot = b;
			min_received = INT64_MAX;
			late = false;
			first = false;
		} else if (above - seq > 1 && ret == 0) {
			if (late)
				ret = gap_add(&g, boot, late_from, late_to,
				    false);
			late = false;
			ret = ret ? ret : gap_add(&g, boot, seq + 1,
			    above - 1, true);
		}
		if (received > min_received) {
			if (!late)
				late_to = seq;
			late_from = seq;
			late = true;
		} else if (late) {
			ret = gap_add(&g, boot, late_from, late_to, false);
			late = false;
		}
		if (received < min_received)
			min_received = received;
		above = seq;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = sql_fail(db, "gaps");
	if (ret == 0 && late)
		ret = gap_add(&g, boot, late_from, late_to, false);
	if (ret == 0 && !first && f->since == 0 && above > 1)
		ret = gap_add(&g, boot, 1, above - 1, true);
	/* Collected downwards: printed upwards. */
	for (i = g.n; ret == 0 && i-- > 0;) {
		char c[4][CELL];
		const char *cells[6] = { node->name, c[0], c[1], c[2], c[3] };

		snprintf(c[0], CELL, "%" PRIu64, g.v[i].boot);
		snprintf(c[1], CELL, "%" PRIu64, g.v[i].from);
		snprintf(c[2], CELL, "%" PRIu64, g.v[i].to);
		snprintf(c[3], CELL, "%" PRIu64, g.v[i].to - g.v[i].from + 1);
		cells[5] = g.v[i].open ? "open" : "closed";
		output_row(o, cells);
	}
	if (ret == -ENOMEM)
		fprintf(stderr, "wgu-query: %s\n", strerror(ENOMEM));
	free(g.v);
	return ret;
}

int view_gaps(sqlite3 *db, const struct query_filter *f,
    const struct query_node *nodes, size_t n, struct output *o)
{
	static const struct output_column cols[] = {
		{ "node", false }, { "boot", true }, { "from", true },
		{ "to", true }, { "missing", true }, { "state", false },
	};
	sqlite3_stmt *q;
	size_t i;
	int ret;

	/* The unique index (node, boot, seq), walked downwards. */
	if ((ret = prepare(db, "SELECT boot, seq, received FROM readings "
	    "WHERE " RANGE " AND seq IS NOT NULL ORDER BY boot DESC, "
	    "seq DESC", &q)) < 0)
		return ret;
	output_begin(o, o->format, o->f, cols, sizeof(cols) / sizeof(cols[0]));
	for (i = 0; i < n && ret == 0; i++)
		ret = node_gaps(db, q, f, &nodes[i], o);
	sqlite3_finalize(q);
	return ret;
}

/* ------------------------------------------------------------ nodes */

int view_nodes(sqlite3 *db, const struct query_filter *f,
    const struct query_node *nodes, size_t n, struct output *o)
{
	static const struct output_column cols[] = {
		{ "node", false }, { "first", false }, { "last", false },
	};
	sqlite3_stmt *q;
	size_t i;
	int rc = SQLITE_DONE, ret;

	if ((ret = prepare(db, "SELECT (SELECT min(ts) FROM readings WHERE "
	    "node = ?1), (SELECT max(ts) FROM readings WHERE node = ?1)",
	    &q)) < 0)
		return ret;
	output_begin(o, o->format, o->f, cols, sizeof(cols) / sizeof(cols[0]));
	for (i = 0; i < n; i++) {
		char first[CELL] = "", last[CELL] = "";
		const char *cells[3] = { nodes[i].name, first, last };

		sqlite3_reset(q);
		sqlite3_bind_int64(q, 1, nodes[i].id);
		if ((rc = sqlite3_step(q)) != SQLITE_ROW)
			break;
		if (sqlite3_column_type(q, 0) != SQLITE_NULL) {
			time_cell(first, sqlite3_column_int64(q, 0));
			time_cell(last, sqlite3_column_int64(q, 1));
		}
		output_row(o, cells);
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : sql_fail(db, "nodes");
}
