/* wgu-query's views of the store (src/hub/store.c has the schema): each
 * runs prepared statements with bound parameters over the nodes a glob
 * selects, one node at a time (each query a range of the (node, ts)
 * index), and writes rows to an output.
 *
 * - readings: the raw readings;
 * - every: min/avg/max/count per node and interval;
 * - events: anomaly episodes, consecutive readings of a node with a
 *   status (nothing in the store lies between two of them);
 * - gaps: missing seq ranges per node and boot, open (still missing) or
 *   closed (filled later: the readings came after a higher seq);
 * - nodes: the nodes, their first and last reading. */
#ifndef WGU_QUERY_VIEWS_H
#define WGU_QUERY_VIEWS_H

#include <stdint.h>

#include "query/qdb.h"

#include "query/output.h"

struct query_filter {
	const char *glob;	/* node glob, "*" for all */
	int64_t since, until;	/* device time, [since, until) */
	const char *field;	/* NULL: p, t, v */
	int status;		/* this status or worse */
	int64_t every;		/* interval, ms (every) */
	int64_t now;		/* for episodes still open */
};

struct query_node {
	int64_t id;
	char *name;
	char *plant;	/* PostgreSQL: its plant; SQLite: NULL */
};

/* The nodes the glob selects, by name: heap array (query_nodes_free). */
int query_nodes(struct qdb *db, const char *glob, struct query_node **nodes,
    size_t *n);
void query_nodes_free(struct query_node *nodes, size_t n);

/* Each 0, or -errno after a message on stderr. */
typedef int query_view_fn(struct qdb *db, const struct query_filter *q,
    const struct query_node *nodes, size_t n, struct output *o);
query_view_fn view_readings, view_every, view_events, view_gaps,
    view_nodes;

#endif
