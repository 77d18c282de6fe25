/* wgu-query's gaps view (views.h): missing seq ranges per node and boot,
 * still open or closed by readings that came later. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/views.h"
#include "query/views_internal.h"

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
static int node_gaps(struct qdb *db, struct qstmt *q,
    const struct query_filter *f, const struct query_node *node,
    struct output *o)
{
	struct gaps g = { 0 };
	uint64_t boot = 0, above = 0, late_to = 0, late_from = 0;
	int64_t min_received = INT64_MAX;
	bool first = true, late = false;
	int rc, ret = 0;
	size_t i;

	query_bind_range(q, f, node->id);
	while (ret == 0 && (rc = qdb_step(q)) == QDB_ROW) {
		uint64_t b = (uint64_t)qdb_column_int64(q, 0);
		uint64_t seq = (uint64_t)qdb_column_int64(q, 1);
		int64_t received = qdb_column_int64(q, 2);

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
	if (ret == 0 && rc != QDB_DONE)
		ret = query_sql_fail(db, "gaps");
	if (ret == 0 && late)
		ret = gap_add(&g, boot, late_from, late_to, false);
	if (ret == 0 && !first && f->since == 0 && above > 1)
		ret = gap_add(&g, boot, 1, above - 1, true);
	/* Collected downwards: printed upwards. */
	for (i = g.n; ret == 0 && i-- > 0;) {
		char c[4][QUERY_CELL];
		const char *cells[6] = { node->name, c[0], c[1], c[2], c[3] };

		snprintf(c[0], QUERY_CELL, "%" PRIu64, g.v[i].boot);
		snprintf(c[1], QUERY_CELL, "%" PRIu64, g.v[i].from);
		snprintf(c[2], QUERY_CELL, "%" PRIu64, g.v[i].to);
		snprintf(c[3], QUERY_CELL, "%" PRIu64, g.v[i].to - g.v[i].from + 1);
		cells[5] = g.v[i].open ? "open" : "closed";
		output_row(o, cells);
	}
	if (ret == -ENOMEM)
		fprintf(stderr, "wgu-query: %s\n", strerror(ENOMEM));
	free(g.v);
	return ret;
}

int view_gaps(struct qdb *db, const struct query_filter *f,
    const struct query_node *nodes, size_t n, struct output *o)
{
	static const struct output_column cols[] = {
		{ "node", false }, { "boot", true }, { "from", true },
		{ "to", true }, { "missing", true }, { "state", false },
	};
	struct qstmt *q;
	size_t i;
	int ret;

	/* The unique index (node, boot, seq), walked downwards. */
	if ((ret = query_prepare(db, "SELECT boot, seq, received FROM readings "
	    "WHERE " QUERY_RANGE " AND seq IS NOT NULL ORDER BY boot DESC, "
	    "seq DESC", &q)) < 0)
		return ret;
	output_begin(o, o->format, o->f, cols, sizeof(cols) / sizeof(cols[0]));
	for (i = 0; i < n && ret == 0; i++) {
		o->plant = nodes[i].plant;
		ret = node_gaps(db, q, f, &nodes[i], o);
	}
	qdb_finalize(q);
	return ret;
}
