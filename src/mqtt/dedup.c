/* Per-stream seen-sets kept as (first, hi, sorted gap ranges): memory grows
 * with the number of holes, not with the number of readings, and a lookup
 * is a binary search.  Streams live in one array sorted by (node_id,
 * boot_id): there are few of them and the summary wants them sorted. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt/dedup.h"

struct dedup_table {
	uint64_t origin;
	struct dedup_stream *streams;
	size_t n, cap;
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
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++)
		free(t->streams[i].gaps);
	free(t->streams);
	free(t);
}

size_t dedup_count(const struct dedup_table *t)
{
	return t->n;
}

const struct dedup_stream *dedup_at(const struct dedup_table *t, size_t i)
{
	return i < t->n ? &t->streams[i] : NULL;
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

static int compare(const struct dedup_stream *s, const char *node_id,
    uint64_t boot_id)
{
	int c = strcmp(s->node_id, node_id);

	if (c != 0)
		return c;
	return s->boot_id < boot_id ? -1 : s->boot_id > boot_id;
}

/* Index of the stream, or of where it would go (*found false). */
static size_t find_stream(const struct dedup_table *t, const char *node_id,
    uint64_t boot_id, bool *found)
{
	size_t lo = 0, hi = t->n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = compare(&t->streams[mid], node_id, boot_id);
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

enum dedup_verdict dedup_lookup(struct dedup_table *t, const char *node_id,
    uint64_t boot_id, uint64_t seq)
{
	struct dedup_stream *s;
	bool found;
	size_t i;

	if (!valid_node_id(node_id))
		return DEDUP_NEW;	/* dedup_add() will refuse it */
	i = find_stream(t, node_id, boot_id, &found);
	if (!found)
		return DEDUP_NEW;
	s = &t->streams[i];
	if (!seen(s, seq))
		return DEDUP_NEW;
	s->duplicates++;
	return DEDUP_DUPLICATE;
}

static int new_stream(struct dedup_table *t, size_t at, const char *node_id,
    uint64_t boot_id, uint64_t seq)
{
	struct dedup_stream *s;

	if (t->n >= DEDUP_MAX_STREAMS)
		return -ENOSPC;
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		s = realloc(t->streams, cap * sizeof(*s));
		if (s == NULL)
			return -ENOMEM;
		t->streams = s;
		t->cap = cap;
	}
	memmove(&t->streams[at + 1], &t->streams[at],
	    (t->n - at) * sizeof(*s));
	t->n++;
	s = &t->streams[at];
	memset(s, 0, sizeof(*s));
	strcpy(s->node_id, node_id);	/* length checked by the caller */
	s->boot_id = boot_id;
	s->first = s->hi = seq;
	return 0;
}

/* Inserts a gap at index g, giving up the lowest one when full. */
static int insert_gap(struct dedup_stream *s, size_t g, uint64_t from,
    uint64_t to)
{
	if (s->ngaps >= DEDUP_MAX_GAPS) {
		uint64_t len = s->gaps[0].to - s->gaps[0].from + 1;

		s->gaps_forgotten += len;
		memmove(&s->gaps[0], &s->gaps[1],
		    (s->ngaps - 1) * sizeof(s->gaps[0]));
		s->ngaps--;
		if (g > 0)
			g--;
	}
	if (s->ngaps == s->capgaps) {
		size_t cap = s->capgaps ? 2 * s->capgaps : 4;
		struct dedup_gap *gaps;

		if (cap > DEDUP_MAX_GAPS)
			cap = DEDUP_MAX_GAPS;
		gaps = realloc(s->gaps, cap * sizeof(*gaps));
		if (gaps == NULL)
			return -ENOMEM;
		s->gaps = gaps;
		s->capgaps = cap;
	}
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

int dedup_add(struct dedup_table *t, const char *node_id, uint64_t boot_id,
    uint64_t seq, bool from_log, enum dedup_effect *effect,
    struct dedup_gap *gapp)
{
	struct dedup_stream *s;
	struct dedup_gap gap = { 1, 0 };
	bool found;
	size_t i, g;
	int ret;

	if (!valid_node_id(node_id))
		return -EINVAL;
	i = find_stream(t, node_id, boot_id, &found);
	if (!found) {
		ret = new_stream(t, i, node_id, boot_id, seq);
		if (ret < 0)
			return ret;
		*effect = DEDUP_STARTED;
		s = &t->streams[i];
		if (t->origin > 0 && seq > t->origin) {
			/* The stream began before this reading: all of
			 * origin..seq-1 is missing. */
			gap.from = t->origin;
			gap.to = seq - 1;
			ret = insert_gap(s, 0, gap.from, gap.to);
			if (ret < 0) {
				memmove(&t->streams[i], &t->streams[i + 1],
				    (t->n - i - 1) * sizeof(*s));
				t->n--;
				return ret;
			}
			s->first = t->origin;
			*effect = DEDUP_OPENED_GAP;
		}
		goto counted;
	}
	s = &t->streams[i];
	if (seen(s, seq)) {
		*effect = DEDUP_ALREADY;
		return 0;
	}
	if (seq > s->hi && seq - 1 == s->hi) {
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
		g = find_gap(s, seq);
		ret = fill(s, g, seq, &gap);
		if (ret < 0)
			return ret;
		*effect = DEDUP_FILLED;
	}
counted:
	s = &t->streams[i];
	s->logged++;
	if (from_log)
		s->recovered++;
	if (gapp)
		*gapp = gap;
	return 0;
}
