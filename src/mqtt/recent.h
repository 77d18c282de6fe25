/* The duplicate window of nodes that send no boot_id/seq.  Such a node's
 * readings are logged at least once: MQTT QoS 1 may deliver one twice (a
 * lost PUBACK, a reconnect), and a publisher may retry by sending the same
 * payload again.  A redelivery carries the same node, timestamp and content,
 * so the historian drops a reading that matches one it logged from the same
 * node a short while ago.  Pure: no I/O, no clock (the caller passes the
 * time); memory bounded by the limits given to recent_new().
 *
 * Per node it keeps the last per_node (timestamp, content digest) pairs it
 * was given, each forgotten max_age_ms after it was added; at most max_nodes
 * nodes, the least recently added-to one forgotten first.  So a
 * redelivery is recognised when it arrives within max_age_ms of the
 * original and fewer than per_node other readings of that node came
 * between; after that it is logged again (at least once, never lost).
 *
 * The digest is telemetry_content_digest(): the data fields as a set and
 * the status, so a redelivery by another client with other member order or
 * spacing still matches.  Two different readings of one node with the same
 * timestamp and the same content are the same reading.
 *
 *	t = recent_new(&(struct recent_limits){ 1024, 256, 600000 });
 *	if (recent_lookup(t, node, ts, digest, now) == RECENT_DUPLICATE)
 *		drop;
 *	else if (write to the log succeeded)
 *		recent_add(t, node, ts, digest, now);
 */
#ifndef WGU_RECENT_H
#define WGU_RECENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	/* Longest node id kept (TELEMETRY_NODE_ID_MAX). */
	RECENT_NODE_ID_MAX = 64,
	/* Defaults, for the historian's options: a node reading once a second
	 * is covered for about four minutes, one every 10 s for ten. */
	RECENT_DEFAULT_NODES = 1024,
	RECENT_DEFAULT_PER_NODE = 256,
	RECENT_DEFAULT_AGE_MS = 600000,
};

struct recent_limits {
	size_t max_nodes;	/* >= 1 */
	size_t per_node;	/* >= 1 */
	uint64_t max_age_ms;	/* >= 1 */
};

enum recent_verdict {
	RECENT_NEW = 0,
	RECENT_DUPLICATE,
};

struct recent_table;

/* A table with these limits, or NULL (errno EINVAL for a zero limit or one
 * too large to allocate, ENOMEM).  At most max_nodes * (per_node * 24 + 96)
 * bytes, allocated as nodes arrive.  Free with recent_free(). */
struct recent_table *recent_new(const struct recent_limits *lim);

void recent_free(struct recent_table *t);

/* RECENT_DUPLICATE when node_id has an entry (timestamp_ms, digest) added
 * at most max_age_ms before now_ms.  Changes nothing. */
enum recent_verdict recent_lookup(const struct recent_table *t,
    const char *node_id, int64_t timestamp_ms, uint64_t digest,
    uint64_t now_ms);

/* Remembers (timestamp_ms, digest) for node_id, added at now_ms: replaces
 * the node's oldest entry when it has per_node, and the least recently
 * added-to node when max_nodes are known.  Returns 0, -EINVAL for a node
 * id longer than RECENT_NODE_ID_MAX or empty, -ENOMEM. */
int recent_add(struct recent_table *t, const char *node_id,
    int64_t timestamp_ms, uint64_t digest, uint64_t now_ms);

/* As recent_add(), for a reading found in the log at startup: added_ms is
 * when it was received, so it ages from then; counted as recovered. */
int recent_recover(struct recent_table *t, const char *node_id,
    int64_t timestamp_ms, uint64_t digest, uint64_t added_ms);

/* Counts a dropped redelivery against node_id (a known node only). */
void recent_note_duplicate(struct recent_table *t, const char *node_id);

/* The i-th known node in node id order (0 <= i < recent_nodes()), for the
 * summary: false past the end.  node_id points into the table, valid until
 * its next change.  The counts start when the node was (last) taken in. */
struct recent_node_info {
	const char *node_id;
	uint64_t logged, recovered, duplicates;
};
bool recent_node_at(const struct recent_table *t, size_t i,
    struct recent_node_info *out);

/* How many nodes the table knows, and how many it forgot to make room. */
size_t recent_nodes(const struct recent_table *t);
uint64_t recent_evicted(const struct recent_table *t);

#endif
