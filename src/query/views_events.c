/* wgu-query's events view (views.h): anomaly episodes, consecutive
 * readings of a node with a status and nothing else of it between them. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mqtt/telemetry.h"
#include "query/views.h"
#include "query/views_internal.h"

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
static bool seq_next(struct qstmt *q, const struct episode *e)
{
	return e->has_seq && qdb_column_type(q, 6) != QDB_NULL &&
	    qdb_column_int64(q, 5) == e->boot &&
	    qdb_column_int64(q, 6) == e->seq + 1;
}

static void episode_take(struct episode *e, struct qstmt *q)
{
	int i, status = (int)qdb_column_int64(q, 4);

	e->end = qdb_column_int64(q, 0);
	e->has_seq = qdb_column_type(q, 6) != QDB_NULL;
	e->boot = qdb_column_int64(q, 5);
	e->seq = qdb_column_int64(q, 6);
	if (status > e->worst)
		e->worst = status;
	e->readings++;
	for (i = 0; i < 3; i++) {
		double v;

		if (qdb_column_type(q, 1 + i) == QDB_NULL)
			continue;
		v = qdb_column_double(q, 1 + i);
		if (isnan(e->max[i]) || v > e->max[i])
			e->max[i] = v;
		if (v >= kinds[i].warn)
			e->over[i] = true;
	}
}

static void episode_print(const struct query_node *node,
    const struct episode *e, bool open, struct output *o)
{
	char start[QUERY_CELL], end[QUERY_CELL], dur[QUERY_CELL];
	char peak[QUERY_CELL], worst[QUERY_CELL], count[QUERY_CELL];
	char kind[64] = "";
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
	query_time_cell(start, e->start);
	query_time_cell(end, e->end);
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
static int between(struct qstmt *q, int64_t node, int64_t from, int64_t to)
{
	int rc;

	qdb_reset(q);
	qdb_bind_int64(q, 1, node);
	qdb_bind_int64(q, 2, from);
	qdb_bind_int64(q, 3, to);
	rc = qdb_step(q);
	return rc == QDB_ROW ? 1 : rc == QDB_DONE ? 0 : -EIO;
}

static int node_events(struct qdb *db, struct qstmt *q, struct qstmt *gap,
    const struct query_filter *f, const struct query_node *node,
    struct output *o)
{
	struct episode e = { 0 };
	bool in = false;
	int rc, b;

	/* Readings with a status only: the partial index (node, ts). */
	query_bind_range(q, f, node->id);
	qdb_bind_int64(q, 4, 1);
	while ((rc = qdb_step(q)) == QDB_ROW) {
		int64_t ts = qdb_column_int64(q, 0);

		/* The next seq of the same boot: nothing can lie between. */
		b = in && !(seq_next(q, &e) && e.end <= ts);
		if (b && (b = between(gap, node->id, e.end, ts)) != 0) {
			if (b < 0)
				return query_sql_fail(db, "events");
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
	if (rc != QDB_DONE)
		return query_sql_fail(db, "events");
	if (in && e.worst >= f->status) {
		if ((b = between(gap, node->id, e.end, INT64_MAX)) < 0)
			return query_sql_fail(db, "events");
		episode_print(node, &e, b == 0, o);
	}
	return 0;
}

int view_events(struct qdb *db, const struct query_filter *f,
    const struct query_node *nodes, size_t n, struct output *o)
{
	static const struct output_column cols[] = {
		{ "node", false }, { "kind", false }, { "start", false },
		{ "end", false }, { "duration_s", true }, { "peak", true },
		{ "worst", true }, { "readings", true }, { "state", false },
	};
	struct qstmt *q, *gap;
	size_t i;
	int ret;

	/* The partial index holds all it reads. */
	if ((ret = query_prepare(db, "SELECT ts, p, t, v, status, boot, seq FROM "
	    "readings INDEXED BY readings_anomalies WHERE " QUERY_RANGE
	    " AND status > 0 ORDER BY ts", &q)) < 0)
		return ret;
	if ((ret = query_prepare(db, "SELECT 1 FROM readings WHERE node = ?1 AND "
	    "ts > ?2 AND ts < ?3 LIMIT 1", &gap)) < 0) {
		qdb_finalize(q);
		return ret;
	}
	output_begin(o, o->format, o->f, cols, sizeof(cols) / sizeof(cols[0]));
	for (i = 0; i < n && ret == 0; i++) {
		o->plant = nodes[i].plant;
		ret = node_events(db, q, gap, f, &nodes[i], o);
	}
	qdb_finalize(q);
	qdb_finalize(gap);
	return ret;
}
