/* Per-stream seen-sets kept as (first, hi, sorted gap ranges): memory grows
 * with the number of holes, not with the number of readings, and a lookup
 * is a binary search.  Nodes live in one array of pointers sorted by
 * node_id, each with its few streams in a fixed array sorted by boot_id:
 * the summary wants them sorted, and a node's room is its own. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hub/dedup.h"

enum {
	FIRST_GAPS = 4,		/* gap room a new stream starts with */
};

struct dedup_table {
	uint64_t origin;
	struct dedup_node **nodes;
	size_t n, cap;
	size_t nstreams;
	/* Room made by dedup_lookup() for the dedup_add() that follows. */
	struct dedup_node *spare_node;
	struct dedup_gap *spare_gaps;	/* FIRST_GAPS of them */
};

struct dedup_table *dedup_new(uint64_t origin)
{
	struct dedup_table *t = calloc(1, sizeof(*t));

	if (t)
		t->origin = origin;
	return t;
}

void dedup_free(struct dedup_table *t)
{
	size_t i, b;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++) {
		for (b = 0; b < t->nodes[i]->nboots; b++)
			free(t->nodes[i]->boots[b].gaps);
		free(t->nodes[i]);
	}
	free(t->nodes);
	free(t->spare_node);
	free(t->spare_gaps);
	free(t);
}

size_t dedup_count(const struct dedup_table *t)
{
	return t->nstreams;
}

const struct dedup_stream *dedup_at(const struct dedup_table *t, size_t i)
{
	size_t k;

	for (k = 0; k < t->n; k++) {
		if (i < t->nodes[k]->nboots)
			return &t->nodes[k]->boots[i];
		i -= t->nodes[k]->nboots;
	}
	return NULL;
}

size_t dedup_node_count(const struct dedup_table *t)
{
	return t->n;
}

struct dedup_node *dedup_node_at(const struct dedup_table *t, size_t i)
{
	return i < t->n ? t->nodes[i] : NULL;
}

uint64_t dedup_missing(const struct dedup_stream *s)
{
	uint64_t sum = 0, len;
	size_t i;

	for (i = 0; i < s->ngaps; i++) {
		len = s->gaps[i].to - s->gaps[i].from + 1;
		sum = sum + len < sum ? UINT64_MAX : sum + len;
	}
	return sum;
}

static bool valid_node_id(const char *node_id)
{
	size_t len = strnlen(node_id, DEDUP_NODE_ID_MAX + 1);

	return len > 0 && len <= DEDUP_NODE_ID_MAX;
}

/* Index of the node, or of where it would go (*found false). */
static size_t find_node(const struct dedup_table *t, const char *node_id,
    bool *found)
{
	size_t lo = 0, hi = t->n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(t->nodes[mid]->node_id, node_id);
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

struct dedup_node *dedup_node_find(const struct dedup_table *t,
    const char *node_id)
{
	bool found;
	size_t i = find_node(t, node_id, &found);

	return found ? t->nodes[i] : NULL;
}

/* Index of the boot in the node, or of where it would go (*found false). */
static size_t find_boot(const struct dedup_node *nd, uint64_t boot_id,
    bool *found)
{
	size_t i;

	for (i = 0; i < nd->nboots && nd->boots[i].boot_id < boot_id; i++)
		;
	*found = i < nd->nboots && nd->boots[i].boot_id == boot_id;
	return i;
}

/* A boot not held that the node no longer takes: retired, or older than
 * every boot of a full node (taking it would retire it at once). */
static bool too_old(const struct dedup_node *nd, uint64_t boot_id)
{
	return (nd->retired > 0 && boot_id <= nd->retired_hi) ||
	    (nd->nboots == DEDUP_BOOTS_PER_NODE &&
	    boot_id < nd->boots[0].boot_id);
}

/* Index of the first gap whose end is >= seq (ngaps when none). */
static size_t find_gap(const struct dedup_stream *s, uint64_t seq)
{
	size_t lo = 0, hi = s->ngaps, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->gaps[mid].to < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool seen(const struct dedup_stream *s, uint64_t seq)
{
	size_t g;

	if (seq < s->first || seq > s->hi)
		return false;
	g = find_gap(s, seq);
	return g == s->ngaps || s->gaps[g].from > seq;
}

static int reserve_node(struct dedup_table *t)
{
	if (t->n >= DEDUP_MAX_NODES)
		return -ENOSPC;
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		struct dedup_node **nodes = realloc(t->nodes,
		    cap * sizeof(*nodes));

		if (nodes == NULL)
			return -ENOMEM;
		t->nodes = nodes;
		t->cap = cap;
	}
	if (t->spare_node == NULL &&
	    (t->spare_node = malloc(sizeof(*t->spare_node))) == NULL)
		return -ENOMEM;
	return 0;
}

static int reserve_stream(struct dedup_table *t)
{
	if (t->spare_gaps == NULL &&
	    (t->spare_gaps = malloc(FIRST_GAPS * sizeof(*t->spare_gaps))) ==
	    NULL)
		return -ENOMEM;
	return 0;
}

/* Room for one more gap in s (a split or a new one); when full, the
 * lowest is given up instead (insert_gap), which needs none. */
static int reserve_gap(struct dedup_stream *s)
{
	size_t cap;
	struct dedup_gap *gaps;

	if (s->ngaps < s->capgaps || s->ngaps >= DEDUP_MAX_GAPS)
		return 0;
	cap = s->capgaps ? 2 * s->capgaps : FIRST_GAPS;
	if (cap > DEDUP_MAX_GAPS)
		cap = DEDUP_MAX_GAPS;
	gaps = realloc(s->gaps, cap * sizeof(*gaps));
	if (gaps == NULL)
		return -ENOMEM;
	s->gaps = gaps;
	s->capgaps = cap;
	return 0;
}

enum dedup_verdict dedup_lookup(struct dedup_table *t, const char *node_id,
    uint64_t boot_id, uint64_t seq)
{
	struct dedup_node *nd;
	struct dedup_stream *s;
	bool found;
	size_t i;

	if (!valid_node_id(node_id))
		return DEDUP_NEW;	/* dedup_add() will refuse it */
	i = find_node(t, node_id, &found);
	if (!found)
		return reserve_node(t) < 0 || reserve_stream(t) < 0 ?
		    DEDUP_FULL : DEDUP_NEW;
	nd = t->nodes[i];
	i = find_boot(nd, boot_id, &found);
	if (!found) {
		if (too_old(nd, boot_id)) {
			nd->refused++;
			return DEDUP_RETIRED;
		}
		return reserve_stream(t) < 0 ? DEDUP_FULL : DEDUP_NEW;
	}
	s = &nd->boots[i];
	if (seen(s, seq)) {
		s->duplicates++;
		return DEDUP_DUPLICATE;
	}
	return reserve_gap(s) < 0 ? DEDUP_FULL : DEDUP_NEW;
}

static struct dedup_node *new_node(struct dedup_table *t, size_t at,
    const char *node_id)
{
	struct dedup_node *nd;

	if (reserve_node(t) < 0)
		return NULL;
	nd = t->spare_node;
	t->spare_node = NULL;
	memset(nd, 0, sizeof(*nd));
	strcpy(nd->node_id, node_id);	/* length checked by the caller */
	memmove(&t->nodes[at + 1], &t->nodes[at],
	    (t->n - at) * sizeof(t->nodes[0]));
	t->nodes[at] = nd;
	t->n++;
	return nd;
}

/* Makes room for one more boot in a full node (see dedup.h). */
static void retire_one(struct dedup_table *t, struct dedup_node *nd)
{
	size_t v = 0, i;
	struct dedup_stream *s;

	for (i = 0; i < nd->nboots; i++)
		if (nd->boots[i].ngaps == 0) {
			v = i;
			break;
		}
	s = &nd->boots[v];
	nd->retired++;
	nd->retired_logged += s->logged;
	nd->retired_missing += dedup_missing(s);
	if (s->boot_id > nd->retired_hi)
		nd->retired_hi = s->boot_id;
	free(s->gaps);
	memmove(&nd->boots[v], &nd->boots[v + 1],
	    (nd->nboots - v - 1) * sizeof(*s));
	nd->nboots--;
	t->nstreams--;
}

static int new_stream(struct dedup_table *t, struct dedup_node *nd,
    uint64_t boot_id, uint64_t seq, size_t *at)
{
	struct dedup_stream *s;
	bool found;

	if (reserve_stream(t) < 0)
		return -ENOMEM;
	if (nd->nboots == DEDUP_BOOTS_PER_NODE) {
		retire_one(t, nd);
		*at = find_boot(nd, boot_id, &found);
	}
	s = &nd->boots[*at];
	memmove(s + 1, s, (nd->nboots - *at) * sizeof(*s));
	nd->nboots++;
	t->nstreams++;
	memset(s, 0, sizeof(*s));
	strcpy(s->node_id, nd->node_id);
	s->boot_id = boot_id;
	s->first = s->hi = seq;
	s->gaps = t->spare_gaps;
	s->capgaps = FIRST_GAPS;
	t->spare_gaps = NULL;
	return 0;
}

/* Inserts a gap at index g, giving up the lowest one when full. */
static int insert_gap(struct dedup_stream *s, size_t g, uint64_t from,
    uint64_t to)
{
	int ret;

	if (s->ngaps >= DEDUP_MAX_GAPS) {
		uint64_t len = s->gaps[0].to - s->gaps[0].from + 1;

		s->gaps_forgotten += len;
		memmove(&s->gaps[0], &s->gaps[1],
		    (s->ngaps - 1) * sizeof(s->gaps[0]));
		s->ngaps--;
		if (g > 0)
			g--;
	}
	if ((ret = reserve_gap(s)) < 0)
		return ret;
	memmove(&s->gaps[g + 1], &s->gaps[g],
	    (s->ngaps - g) * sizeof(s->gaps[0]));
	s->gaps[g].from = from;
	s->gaps[g].to = to;
	s->ngaps++;
	s->gaps_opened++;
	return 0;
}

/* seq lies inside gap g: shrink, split or remove it. */
static int fill(struct dedup_stream *s, size_t g, uint64_t seq,
    struct dedup_gap *left)
{
	struct dedup_gap *gap = &s->gaps[g];
	int ret;

	if (gap->from == seq && gap->to == seq) {
		memmove(&s->gaps[g], &s->gaps[g + 1],
		    (s->ngaps - g - 1) * sizeof(s->gaps[0]));
		s->ngaps--;
		left->from = 1;
		left->to = 0;	/* closed */
		return 0;
	}
	if (gap->from == seq) {
		gap->from++;
	} else if (gap->to == seq) {
		gap->to--;
	} else {
		uint64_t to = gap->to;

		gap->to = seq - 1;
		/* A split is not a new gap for the count. */
		ret = insert_gap(s, g + 1, seq + 1, to);
		if (ret < 0) {
			s->gaps[g].to = to;	/* undone: seq not marked */
			return ret;
		}
		s->gaps_opened--;
		/* insert_gap may have dropped gap 0 and shifted ours. */
		g = find_gap(s, seq - 1);
		*left = s->gaps[g];
		return 0;
	}
	*left = *gap;
	return 0;
}

/* The stream of (node_id, boot_id), created when new.  *s NULL: the boot
 * is retired. */
static int get_stream(struct dedup_table *t, const char *node_id,
    uint64_t boot_id, uint64_t seq, struct dedup_stream **s, bool *created)
{
	struct dedup_node *nd;
	bool found;
	size_t i;
	int ret;

	i = find_node(t, node_id, &found);
	if (found) {
		nd = t->nodes[i];
	} else if ((nd = new_node(t, i, node_id)) == NULL) {
		return t->n >= DEDUP_MAX_NODES ? -ENOSPC : -ENOMEM;
	}
	i = find_boot(nd, boot_id, &found);
	*created = !found;
	*s = NULL;
	if (found) {
		*s = &nd->boots[i];
		return 0;
	}
	if (too_old(nd, boot_id))
		return 0;
	if ((ret = new_stream(t, nd, boot_id, seq, &i)) < 0)
		return ret;
	*s = &nd->boots[i];
	return 0;
}

int dedup_add(struct dedup_table *t, const char *node_id, uint64_t boot_id,
    uint64_t seq, bool from_log, enum dedup_effect *effect,
    struct dedup_gap *gapp)
{
	struct dedup_stream *s;
	struct dedup_gap gap = { 1, 0 };
	bool created;
	int ret;

	if (!valid_node_id(node_id))
		return -EINVAL;
	if ((ret = get_stream(t, node_id, boot_id, seq, &s, &created)) < 0)
		return ret;
	if (s == NULL || (!created && seen(s, seq))) {
		*effect = DEDUP_ALREADY;
		return 0;
	}
	if (created) {
		*effect = DEDUP_STARTED;
		if (t->origin > 0 && seq > t->origin) {
			/* The stream began before this reading: all of
			 * origin..seq-1 is missing (room: FIRST_GAPS). */
			gap.from = t->origin;
			gap.to = seq - 1;
			(void)insert_gap(s, 0, gap.from, gap.to);
			s->first = t->origin;
			*effect = DEDUP_OPENED_GAP;
		}
	} else if (seq > s->hi && seq - 1 == s->hi) {
		s->hi = seq;
		*effect = DEDUP_IN_ORDER;
	} else if (seq > s->hi) {
		gap.from = s->hi + 1;
		gap.to = seq - 1;
		ret = insert_gap(s, s->ngaps, gap.from, gap.to);
		if (ret < 0)
			return ret;
		s->hi = seq;
		*effect = DEDUP_OPENED_GAP;
	} else if (seq < s->first) {
		/* Earlier than the first reading seen: the stream started
		 * before we thought, and whatever lies between is missing. */
		if (seq + 1 < s->first) {
			gap.from = seq + 1;
			gap.to = s->first - 1;
			ret = insert_gap(s, 0, gap.from, gap.to);
			if (ret < 0)
				return ret;
			*effect = DEDUP_OPENED_GAP;
		} else {
			*effect = DEDUP_IN_ORDER;
		}
		s->first = seq;
	} else {
		ret = fill(s, find_gap(s, seq), seq, &gap);
		if (ret < 0)
			return ret;
		*effect = DEDUP_FILLED;
	}
	s->logged++;
	if (from_log)
		s->recovered++;
	if (gapp)
		*gapp = gap;
	return 0;
}
