/* The fleet's live state: see fleet.h.  Nodes in an open-addressing
 * hash table by name (1,000 nodes at 1 Hz is a lookup per reading), the
 * rate from per-second buckets of received times. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard/fleet.h"

struct node {
	struct fleet_entry e;	/* age_s, rate, silent unused here */
	/* readings received in second sec[i] (hub clock), for the rate */
	int64_t sec[DASH_RATE_WINDOW_S];
	uint32_t count[DASH_RATE_WINDOW_S];
	int64_t first_live;		/* ms of the first live reading, 0 */
};

struct fleet {
	pthread_mutex_t lock;
	double silent_after_s;
	struct node **slots;		/* cap slots, NULL when free */
	size_t cap, n;
	uint64_t refused;
};

struct fleet *fleet_new(double silent_after_s)
{
	struct fleet *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->cap = 256;
	f->slots = calloc(f->cap, sizeof(*f->slots));
	if (f->slots == NULL) {
		free(f);
		return NULL;
	}
	f->silent_after_s = silent_after_s;
	pthread_mutex_init(&f->lock, NULL);
	return f;
}

void fleet_free(struct fleet *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->cap; i++)
		free(f->slots[i]);
	free(f->slots);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

static size_t hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return (size_t)h;
}

/* The slot of name, or the free slot where it would go. */
static size_t probe(struct node **slots, size_t cap, const char *name)
{
	size_t i = hash(name) & (cap - 1);

	while (slots[i] != NULL && strcmp(slots[i]->e.node, name) != 0)
		i = (i + 1) & (cap - 1);
	return i;
}

static int grow(struct fleet *f)
{
	size_t cap = f->cap * 2, i;
	struct node **slots = calloc(cap, sizeof(*slots));

	if (slots == NULL)
		return -ENOMEM;
	for (i = 0; i < f->cap; i++)
		if (f->slots[i])
			slots[probe(slots, cap, f->slots[i]->e.node)] =
			    f->slots[i];
	free(f->slots);
	f->slots = slots;
	f->cap = cap;
	return 0;
}

static struct node *find_or_add(struct fleet *f, const char *name, int *err)
{
	size_t i = probe(f->slots, f->cap, name);
	struct node *nd;

	*err = 0;
	if (f->slots[i])
		return f->slots[i];
	if (f->n >= DASH_FLEET_MAX) {
		f->refused++;
		*err = -ENOSPC;
		return NULL;
	}
	/* Keep the table at most half full. */
	if ((f->n + 1) * 2 > f->cap) {
		if ((*err = grow(f)) < 0)
			return NULL;
		i = probe(f->slots, f->cap, name);
	}
	if ((nd = calloc(1, sizeof(*nd))) == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	snprintf(nd->e.node, sizeof(nd->e.node), "%s", name);
	nd->e.p = nd->e.t = nd->e.v = NAN;
	f->slots[i] = nd;
	f->n++;
	return nd;
}

/* Floor division: received times are never negative, but be exact. */
static int64_t second_of(int64_t ms)
{
	return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
}

static void count_live(struct node *nd, int64_t received_ms)
{
	int64_t s = second_of(received_ms);
	size_t i = (size_t)(s % DASH_RATE_WINDOW_S);

	if (nd->sec[i] != s) {
		nd->sec[i] = s;
		nd->count[i] = 0;
	}
	nd->count[i]++;
	nd->e.readings++;
	if (nd->first_live == 0)
		nd->first_live = received_ms;
}

int fleet_update(struct fleet *f, const struct telemetry_reading *r,
    int64_t received_ms, bool live)
{
	struct node *nd;
	int err;

	pthread_mutex_lock(&f->lock);
	nd = find_or_add(f, r->node_id, &err);
	if (nd == NULL)
		goto out;
	if (live)
		count_live(nd, received_ms);
	/* A resent or late reading counts, but does not replace a newer
	 * one on screen. */
	if (nd->e.received == 0 || r->timestamp_ms >= nd->e.ts) {
		nd->e.ts = r->timestamp_ms;
		nd->e.p = r->p;
		nd->e.t = r->t;
		nd->e.v = r->v;
		nd->e.status = r->status;
	}
	if (received_ms > nd->e.received)
		nd->e.received = received_ms;
out:
	pthread_mutex_unlock(&f->lock);
	return err;
}

/* The rate over the window ending at now: the readings of the last
 * DASH_RATE_WINDOW_S whole seconds before now's own (a second still
 * running would read low), over the time the node has been watched
 * when that is shorter. */
static double rate_of(const struct node *nd, int64_t now_ms)
{
	int64_t now_s = second_of(now_ms), from = now_s - DASH_RATE_WINDOW_S;
	double span = DASH_RATE_WINDOW_S, watched;
	uint64_t sum = 0;
	size_t i;

	if (nd->first_live == 0)
		return 0;
	for (i = 0; i < DASH_RATE_WINDOW_S; i++)
		if (nd->sec[i] >= from && nd->sec[i] < now_s)
			sum += nd->count[i];
	watched = (double)(now_s - second_of(nd->first_live));
	if (watched < span)
		span = watched;
	return span >= 1 ? (double)sum / span : 0;
}

static void fill(const struct fleet *f, const struct node *nd, int64_t now_ms,
    struct fleet_entry *out)
{
	*out = nd->e;
	out->age_s = nd->e.received > 0 && now_ms > nd->e.received ?
	    (double)(now_ms - nd->e.received) / 1000.0 : 0;
	out->rate = rate_of(nd, now_ms);
	out->silent = out->age_s > f->silent_after_s;
	out->gaps_open = 0;
}

int fleet_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct fleet_entry *)a)->node,
	    ((const struct fleet_entry *)b)->node);
}

int fleet_snapshot(struct fleet *f, int64_t now_ms, struct fleet_entry **out,
    size_t *n)
{
	size_t i, k = 0;

	pthread_mutex_lock(&f->lock);
	*out = malloc((f->n ? f->n : 1) * sizeof(**out));
	if (*out == NULL) {
		pthread_mutex_unlock(&f->lock);
		*n = 0;
		return -ENOMEM;
	}
	for (i = 0; i < f->cap; i++)
		if (f->slots[i])
			fill(f, f->slots[i], now_ms, &(*out)[k++]);
	pthread_mutex_unlock(&f->lock);
	qsort(*out, k, sizeof(**out), fleet_entry_cmp);
	*n = k;
	return 0;
}

int fleet_lookup(struct fleet *f, const char *node, int64_t now_ms,
    struct fleet_entry *out)
{
	size_t i;
	int ret = -ENOENT;

	pthread_mutex_lock(&f->lock);
	i = probe(f->slots, f->cap, node);
	if (f->slots[i]) {
		fill(f, f->slots[i], now_ms, out);
		ret = 0;
	}
	pthread_mutex_unlock(&f->lock);
	return ret;
}

uint64_t fleet_refused(struct fleet *f)
{
	uint64_t n;

	pthread_mutex_lock(&f->lock);
	n = f->refused;
	pthread_mutex_unlock(&f->lock);
	return n;
}
