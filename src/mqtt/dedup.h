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
 * Usage: dedup_lookup() first; write the reading to the log; only once the
 * write succeeded, dedup_add() — a reading is "seen" only when it is
 * stored. */
#ifndef WGU_MQTT_DEDUP_H
#define WGU_MQTT_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	DEDUP_NODE_ID_MAX = 64,		/* bytes, without the NUL */
	DEDUP_MAX_STREAMS = 65536,	/* beyond: -ENOSPC, caller rejects */
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

enum dedup_verdict {
	DEDUP_NEW,		/* not seen: log it */
	DEDUP_DUPLICATE,	/* already in the log: drop it, counted */
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
	DEDUP_ALREADY,		/* was already seen; nothing changed */
};

struct dedup_table;

/* origin: see above.  Returns NULL when out of memory.  dedup_free(NULL) is
 * a no-op. */
struct dedup_table *dedup_new(uint64_t origin);
void dedup_free(struct dedup_table *t);

/* node_id is a NUL-terminated string of 1..DEDUP_NODE_ID_MAX bytes. Counts
 * a duplicate when it answers DEDUP_DUPLICATE (the caller drops it). */
enum dedup_verdict dedup_lookup(struct dedup_table *t, const char *node_id,
    uint64_t boot_id, uint64_t seq);

/* Marks a reading as stored.  from_log says it was found in the log at
 * start (counted as recovered).  Returns 0 and *effect (and *gap for the
 * gap effects, may be NULL), -EINVAL for a bad node_id, -ENOSPC when the
 * table holds DEDUP_MAX_STREAMS streams, -ENOMEM.  When a stream already
 * has DEDUP_MAX_GAPS gaps its lowest gap is given up (counted in
 * gaps_forgotten) rather than failing: memory stays bounded and readings
 * keep being logged, at worst a late reading of a forgotten gap is taken
 * as a duplicate. */
int dedup_add(struct dedup_table *t, const char *node_id, uint64_t boot_id,
    uint64_t seq, bool from_log, enum dedup_effect *effect,
    struct dedup_gap *gap);

/* Streams sorted by node_id, then boot_id; valid until the next
 * dedup_add(). */
size_t dedup_count(const struct dedup_table *t);
const struct dedup_stream *dedup_at(const struct dedup_table *t, size_t i);

/* Number of seqs missing in a stream (saturating). */
uint64_t dedup_missing(const struct dedup_stream *s);

#endif
