/* Random receiver indices to handshakes and keypairs: a chained hash table
 * keyed by the index itself (it is random, so its low bits spread evenly).
 * Linux uses 2^13 buckets for the same table; so do we. */
#include <errno.h>
#include <stdlib.h>

#include "index_table.h"

enum { BUCKET_BITS = 13 };

int wg_index_table_init(struct wg_index_table *t)
{
	t->mask = (1u << BUCKET_BITS) - 1;
	t->count = 0;
	t->buckets = calloc((size_t)t->mask + 1, sizeof(*t->buckets));
	return t->buckets ? 0 : -ENOMEM;
}

void wg_index_table_clear(struct wg_index_table *t)
{
	free(t->buckets);
	t->buckets = NULL;
	t->count = 0;
}

static struct wg_index_entry **slot_of(const struct wg_index_table *t,
    uint32_t index)
{
	return &t->buckets[index & t->mask];
}

static bool index_taken(const struct wg_index_table *t, uint32_t index)
{
	const struct wg_index_entry *e;

	for (e = *slot_of(t, index); e != NULL; e = e->next)
		if (e->index == index)
			return true;
	return false;
}

void wg_index_table_insert(struct wg_index_table *t, struct wg_index_entry *e,
    wg_index_random_fn *random, void *ctx)
{
	struct wg_index_entry **slot;
	uint32_t index;

	wg_index_table_remove(t, e);
	/* With at most a few thousand of 2^32 indices taken, a second draw
	 * is already rare. */
	do {
		random(ctx, &index, sizeof(index));
	} while (index_taken(t, index));

	e->index = index;
	slot = slot_of(t, index);
	e->next = *slot;
	*slot = e;
	e->linked = true;
	t->count++;
}

void wg_index_table_replace(struct wg_index_table *t,
    struct wg_index_entry *old, struct wg_index_entry *new_entry)
{
	struct wg_index_entry **p;

	if (!old->linked)
		return;
	wg_index_table_remove(t, new_entry);
	for (p = slot_of(t, old->index); *p != NULL; p = &(*p)->next) {
		if (*p == old) {
			new_entry->index = old->index;
			new_entry->next = old->next;
			new_entry->linked = true;
			*p = new_entry;
			old->next = NULL;
			old->linked = false;
			return;
		}
	}
}

void wg_index_table_remove(struct wg_index_table *t, struct wg_index_entry *e)
{
	struct wg_index_entry **p;

	if (!e->linked)
		return;
	for (p = slot_of(t, e->index); *p != NULL; p = &(*p)->next) {
		if (*p == e) {
			*p = e->next;
			e->next = NULL;
			e->linked = false;
			t->count--;
			return;
		}
	}
}

struct wg_index_entry *wg_index_table_lookup(const struct wg_index_table *t,
    uint32_t index, unsigned kinds)
{
	struct wg_index_entry *e;

	for (e = *slot_of(t, index); e != NULL; e = e->next)
		if (e->index == index)
			return (e->kind & kinds) ? e : NULL;
	return NULL;
}
