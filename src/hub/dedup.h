/* The historian's exactly-once bookkeeping: which (node_id, boot_id, seq)
 * readings are already in the log, which seqs are missing (gaps), and the
 * per-stream counts for the summary.  Pure: no I/O, no clock; the state is
 * rebuilt at start by feeding it every record of the log (dedup_add).
 *
 * A stream is one (node_id, boot_id).  With origin 0 its first reading
 * seen starts it; with origin N >= 1 every stream is taken to start at seq
 * N (telemetry.h: seq restarts at 1 with every boot), so a first reading
 * above N opens the gap N..seq-1.  Every seq above the highest seen opens
 * a gap below it, and a reading inside a gap closes that part of it, so
 * out-of-order arrival fills gaps.
 *
 * Bounded per node, so that no node can take another's room: a node keeps
 * at most DEDUP_BOOTS_PER_NODE streams.  A new boot beyond that retires
 * one of the node's streams: the lowest boot without gaps, else (its gaps
 * given up, counted) the lowest boot.  A node's boots only grow
 * (telemetry.h), so a retired boot is one that is over; its readings, and
 * those of any boot at or below the highest one retired that is no longer
 * held, are answered DEDUP_RETIRED: the caller refuses them rather than
 * risk logging one twice.  At most DEDUP_MAX_NODES nodes (the broker's
 * accounts bound them in practice).
 *
 * Usage: dedup_lookup() first; write the reading to the log only when it
 * answers DEDUP_NEW; then dedup_add(), which then cannot fail — a reading
 * is "seen" only when it is stored, and never stored when its being seen
 * could not be recorded. */
#ifndef WGU_HUB_DEDUP_H
#define WGU_HUB_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	DEDUP_NODE_ID_MAX = 64,		/* bytes, without the NUL */
	DEDUP_MAX_NODES = 4096,		/* beyond: DEDUP_FULL, caller refuses */
	DEDUP_BOOTS_PER_NODE = 8,	/* streams kept per node, see above */
	DEDUP_MAX_GAPS = 65536,		/* ranges per stream, see dedup_add */
};

/* Missing seqs from..to, both inclusive. */
struct dedup_gap {
	uint64_t from, to;
};

/* Read-only for callers. */
struct dedup_stream {
	char node_id[DEDUP_NODE_ID_MAX + 1];
	uint64_t boot_id;
	uint64_t first;		/* lowest seq seen */
	uint64_t hi;		/* highest seq seen */
	struct dedup_gap *gaps;	/* sorted, disjoint, all below hi */
	size_t ngaps, capgaps;
	uint64_t logged;	/* readings added */
	uint64_t duplicates;	/* dedup_lookup() answers DEDUP_DUPLICATE */
	uint64_t gaps_opened;	/* ranges ever opened */
	uint64_t gaps_forgotten;	/* seqs given up when DEDUP_MAX_GAPS hit */
	uint64_t recovered;	/* of logged, how many came from the log */
};

/* One node's streams and what was retired of them.  Read-only for
 * callers, but for the budget members. */
struct dedup_node {
	char node_id[DEDUP_NODE_ID_MAX + 1];
	struct dedup_stream boots[DEDUP_BOOTS_PER_NODE]; /* by boot_id */
	size_t nboots;
	uint64_t retired_hi;	/* highest boot_id retired (0: none) */
	uint64_t retired;	/* streams retired */
	uint64_t retired_logged;	/* readings logged in them */
	uint64_t retired_missing;	/* seqs they still missed: given up */
	uint64_t refused;	/* dedup_lookup() answers DEDUP_RETIRED */
	/* The caller's (a rate limit per node); dedup neither reads nor
	 * writes them after zeroing them with the node. */
	uint64_t budget_window;
	uint64_t budget_used;
};

enum dedup_verdict {
	DEDUP_NEW,		/* not seen: log it */
	DEDUP_DUPLICATE,	/* already in the log: drop it, counted */
	DEDUP_RETIRED,		/* its boot is over and no longer held (see
				 * above): refuse it, counted in the node */
	DEDUP_FULL,		/* a new node with DEDUP_MAX_NODES held, or
				 * out of memory: it cannot be recorded,
				 * refuse it */
};

/* What dedup_add() did to the stream. */
enum dedup_effect {
	DEDUP_STARTED,		/* first reading of a new stream, at origin
				 * (or any seq with origin 0) */
	DEDUP_IN_ORDER,		/* hi + 1 */
	DEDUP_OPENED_GAP,	/* above hi + 1 (or a new stream above
				 * origin): *gap is the new gap */
	DEDUP_FILLED,		/* inside a gap: *gap is what is left of it,
				 * from > to when it closed entirely */
	DEDUP_ALREADY,		/* was already seen, or its boot was retired
				 * (log recovery); nothing changed */
};

struct dedup_table;

/* origin: see above.  Returns NULL when out of memory.  dedup_free(NULL) is
 * a no-op. */
struct dedup_table *dedup_new(uint64_t origin);
void dedup_free(struct dedup_table *t);

/* node_id is a NUL-terminated string of 1..DEDUP_NODE_ID_MAX bytes (an
 * invalid one answers DEDUP_NEW and dedup_add() refuses it: validate it
 * first).  Counts a duplicate when it answers DEDUP_DUPLICATE (the caller
 * drops it).  When it answers DEDUP_NEW it has made the room (memory, a
 * node slot) a dedup_add() of this same reading needs, so that call, made
 * before any other change to the table, returns 0. */
enum dedup_verdict dedup_lookup(struct dedup_table *t, const char *node_id,
    uint64_t boot_id, uint64_t seq);

/* Marks a reading as stored.  from_log says it was found in the log at
 * start (counted as recovered).  Returns 0 and *effect (and *gap for the
 * gap effects, may be NULL), -EINVAL for a bad node_id, -ENOSPC for a
 * new node when the table holds DEDUP_MAX_NODES, -ENOMEM (neither right
 * after a DEDUP_NEW lookup, see above).  A new boot in a full node retires
 * one (see above); a reading of a retired boot changes nothing
 * (DEDUP_ALREADY).  When a stream already
 * has DEDUP_MAX_GAPS gaps its lowest gap is given up (counted in
 * gaps_forgotten) rather than failing: memory stays bounded and readings
 * keep being logged, at worst a late reading of a forgotten gap is taken
 * as a duplicate. */
int dedup_add(struct dedup_table *t, const char *node_id, uint64_t boot_id,
    uint64_t seq, bool from_log, enum dedup_effect *effect,
    struct dedup_gap *gap);

/* Streams sorted by node_id, then boot_id; valid until the next
 * dedup_lookup() or dedup_add().  dedup_at() walks the nodes: loops over
 * many nodes use the node functions below. */
size_t dedup_count(const struct dedup_table *t);
const struct dedup_stream *dedup_at(const struct dedup_table *t, size_t i);

/* Nodes sorted by node_id; a node's pointer stays valid until
 * dedup_free().  dedup_node_find() answers NULL for a node not held. */
size_t dedup_node_count(const struct dedup_table *t);
struct dedup_node *dedup_node_at(const struct dedup_table *t, size_t i);
struct dedup_node *dedup_node_find(const struct dedup_table *t,
    const char *node_id);

/* Number of seqs missing in a stream (saturating). */
uint64_t dedup_missing(const struct dedup_stream *s);

#endif
