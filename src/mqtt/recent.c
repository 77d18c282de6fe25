/* The duplicate window of nodes without boot_id/seq; see recent.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt/recent.h"

struct entry {
	int64_t timestamp_ms;
	uint64_t digest;
	uint64_t added_ms;
};

struct node {
	char id[RECENT_NODE_ID_MAX + 1];
	uint64_t last_add;	/* the table's add count at its last add */
	size_t used, next;	/* entries in ring; where the next one goes */
	struct entry *ring;	/* per_node entries, allocated on first use */
	uint64_t logged, recovered, duplicates;	/* since it was last taken in */
};

struct recent_table {
	struct recent_limits lim;
	struct node *nodes;	/* max_nodes slots, the first n in use */
	size_t *order;		/* slots in use, sorted by id */
	size_t n;
	uint64_t adds, evicted;
};

struct recent_table *recent_new(const struct recent_limits *lim)
{
	struct recent_table *t;

	if (lim->max_nodes == 0 || lim->per_node == 0 ||
	    lim->max_age_ms == 0 ||
	    lim->max_nodes > SIZE_MAX / sizeof(struct node) ||
	    lim->per_node > SIZE_MAX / sizeof(struct entry)) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->lim = *lim;
	t->nodes = calloc(lim->max_nodes, sizeof(*t->nodes));
	t->order = calloc(lim->max_nodes, sizeof(*t->order));
	if (t->nodes == NULL || t->order == NULL) {
		recent_free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

void recent_free(struct recent_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	if (t->nodes != NULL)
		for (i = 0; i < t->lim.max_nodes; i++)
			free(t->nodes[i].ring);
	free(t->nodes);
	free(t->order);
	free(t);
}

/* The position of id in t->order, or where it would go. */
static size_t find(const struct recent_table *t, const char *id, bool *found)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(t->nodes[t->order[mid]].id, id);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

enum recent_verdict recent_lookup(const struct recent_table *t,
    const char *node_id, int64_t timestamp_ms, uint64_t digest,
    uint64_t now_ms)
{
	const struct node *nd;
	bool found;
	size_t pos, i;

	pos = find(t, node_id, &found);
	if (!found)
		return RECENT_NEW;
	nd = &t->nodes[t->order[pos]];
	for (i = 0; i < nd->used; i++) {
		const struct entry *e = &nd->ring[i];
		/* A clock stepped back makes an entry younger, not older. */
		uint64_t age = now_ms > e->added_ms ? now_ms - e->added_ms : 0;
		if (e->timestamp_ms == timestamp_ms && e->digest == digest &&
		    age <= t->lim.max_age_ms)
			return RECENT_DUPLICATE;
	}
	return RECENT_NEW;
}

/* The slot a new node takes: a free one, or the least recently added-to
 * node's, which is forgotten (its ring is kept for reuse). */
static size_t take_slot(struct recent_table *t)
{
	size_t i, victim = 0, pos;
	bool found;

	if (t->n < t->lim.max_nodes)
		return t->n;
	for (i = 1; i < t->n; i++)
		if (t->nodes[i].last_add < t->nodes[victim].last_add)
			victim = i;
	pos = find(t, t->nodes[victim].id, &found);
	memmove(&t->order[pos], &t->order[pos + 1],
	    (t->n - pos - 1) * sizeof(*t->order));
	t->n--;
	t->evicted++;
	return victim;
}

/* recent_add() and recent_recover(): the node's counter to bump is
 * *logged or *recovered. */
static int add(struct recent_table *t, const char *node_id,
    int64_t timestamp_ms, uint64_t digest, uint64_t now_ms, bool recovered)
{
	size_t len = strnlen(node_id, RECENT_NODE_ID_MAX + 1), pos, slot;
	struct node *nd;
	bool found;

	if (len == 0 || len > RECENT_NODE_ID_MAX)
		return -EINVAL;
	pos = find(t, node_id, &found);
	if (found) {
		nd = &t->nodes[t->order[pos]];
	} else {
		slot = take_slot(t);
		nd = &t->nodes[slot];
		if (nd->ring == NULL) {
			nd->ring = calloc(t->lim.per_node, sizeof(*nd->ring));
			if (nd->ring == NULL)
				return -ENOMEM;
		}
		memcpy(nd->id, node_id, len + 1);
		nd->used = nd->next = 0;
		nd->logged = nd->recovered = nd->duplicates = 0;
		pos = find(t, node_id, &found);
		memmove(&t->order[pos + 1], &t->order[pos],
		    (t->n - pos) * sizeof(*t->order));
		t->order[pos] = slot;
		t->n++;
	}
	nd->last_add = ++t->adds;
	nd->ring[nd->next] = (struct entry){ timestamp_ms, digest, now_ms };
	nd->next = (nd->next + 1) % t->lim.per_node;
	if (nd->used < t->lim.per_node)
		nd->used++;
	if (recovered)
		nd->recovered++;
	else
		nd->logged++;
	return 0;
}

int recent_add(struct recent_table *t, const char *node_id,
    int64_t timestamp_ms, uint64_t digest, uint64_t now_ms)
{
	return add(t, node_id, timestamp_ms, digest, now_ms, false);
}

int recent_recover(struct recent_table *t, const char *node_id,
    int64_t timestamp_ms, uint64_t digest, uint64_t added_ms)
{
	return add(t, node_id, timestamp_ms, digest, added_ms, true);
}

void recent_note_duplicate(struct recent_table *t, const char *node_id)
{
	bool found;
	size_t pos = find(t, node_id, &found);

	if (found)
		t->nodes[t->order[pos]].duplicates++;
}

bool recent_node_at(const struct recent_table *t, size_t i,
    struct recent_node_info *out)
{
	const struct node *nd;

	if (i >= t->n)
		return false;
	nd = &t->nodes[t->order[i]];
	out->node_id = nd->id;
	out->logged = nd->logged;
	out->recovered = nd->recovered;
	out->duplicates = nd->duplicates;
	return true;
}


size_t recent_nodes(const struct recent_table *t)
{
	return t->n;
}

uint64_t recent_evicted(const struct recent_table *t)
{
	return t->evicted;
}
