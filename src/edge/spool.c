/* The spool's entry table in memory: appending a reading, holding the ones
 * a full disk has no room for, the publish cursor, acknowledgements and
 * resend requests.  The file under it is in spool_file.c; the format and
 * the policies are in spool.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "edge/spool.h"
#include "edge/spool_internal.h"
#include "edge/spool_record.h"

size_t spool_count(const struct spool *sp)
{
	return sp->end - sp->first;
}

/* Binary search: entries are in (boot_id, seq) order. */
struct spool_entry *spool_lookup(struct spool *sp, uint64_t boot_id,
    uint64_t seq)
{
	size_t lo = 0, hi = spool_count(sp);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct spool_entry *e = spool_at(sp, mid);
		if (e->boot_id == boot_id && e->seq == seq)
			return e;
		if (spool_key_less(e->boot_id, e->seq, boot_id, seq))
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Makes room for one more entry at the end. */
int spool_grow(struct spool *sp)
{
	struct spool_entry *n;
	size_t alloc;

	if (sp->end < sp->alloc)
		return 0;
	if (sp->first > 0) {
		memmove(sp->e, sp->e + sp->first,
		    spool_count(sp) * sizeof(*sp->e));
		sp->end -= sp->first;
		sp->first = 0;
		return 0;
	}
	alloc = sp->alloc ? sp->alloc * 2 : 64;
	n = realloc(sp->e, alloc * sizeof(*n));
	if (n == NULL)
		return -ENOMEM;
	sp->e = n;
	sp->alloc = alloc;
	return 0;
}

void spool_push(struct spool *sp, const struct spool_entry *e)
{
	sp->e[sp->end++] = *e;
	if (e->state != SPOOL_ACKED)
		sp->pending++;
}

/* Drops the oldest entry, which must be ACKED. */
void spool_evict(struct spool *sp)
{
	if (spool_at(sp, 0)->unsaved)
		sp->unsaved--;
	sp->first++;
	if (sp->cursor > 0)
		sp->cursor--;
}

void spool_set_state(struct spool *sp, struct spool_entry *e, int state)
{
	size_t i = (size_t)(e - sp->e) - sp->first;

	if (e->state == SPOOL_ACKED && state != SPOOL_ACKED)
		sp->pending++;
	else if (e->state != SPOOL_ACKED && state == SPOOL_ACKED)
		sp->pending--;
	e->state = (uint8_t)state;
	if (state == SPOOL_UNSENT && i < sp->cursor)
		sp->cursor = i;
}

size_t spool_drop_held(struct spool *sp)
{
	struct spool_held *h;
	size_t n = sp->nheld;

	while ((h = sp->held) != NULL) {
		sp->held = h->next;
		free(h);
	}
	sp->held_tail = &sp->held;
	sp->pending -= sp->nheld;
	sp->nheld = 0;
	return n;
}

/* Whether the bound leaves no room for one more entry, once the oldest
 * acknowledged ones made what room they can. */
static bool full(struct spool *sp)
{
	while (spool_count(sp) >= sp->max && spool_at(sp, 0)->state == SPOOL_ACKED)
		spool_evict(sp);
	return spool_count(sp) >= sp->max;
}

/* Writes a reading to the file and the index (the bound was checked):
 * returns 0, -ENOMEM or the write's error. */
static int append_record(struct spool *sp, uint64_t boot_id, uint64_t seq,
    const char *payload, size_t len)
{
	struct spool_entry e = { .boot_id = boot_id, .seq = seq,
	    .state = SPOOL_UNSENT };
	char *rec = NULL;
	size_t cap = 0;
	int n, ret;

	/* Keep the file near the size of what it holds. */
	if (sp->records > sp->compact_at)
		spool_compact(sp);
	if ((ret = spool_grow(sp)) < 0)
		return ret;
	if ((n = spool_record_head(&rec, &cap, boot_id, seq, len)) < 0)
		return n;
	memcpy(rec + n, payload, len);
	/* O_APPEND: the record lands at the end of the whole ones. */
	e.off = sp->size + n;
	e.len = (uint32_t)len;
	ret = spool_write_record(sp, rec, spool_record_seal(rec, (size_t)n + len));
	free(rec);
	if (ret < 0)
		return ret;
	spool_push(sp, &e);
	if (boot_id == sp->boot_id)
		sp->last_seq = seq;
	return 0;
}

/* Writes the A records a full disk kept back. */
static int write_acks(struct spool *sp)
{
	char rec[SPOOL_RECORD_HEADER_MAX];
	size_t i;
	int ret;

	for (i = 0; sp->unsaved > 0 && i < spool_count(sp); i++) {
		struct spool_entry *e = spool_at(sp, i);
		if (!e->unsaved)
			continue;
		ret = spool_write_record(sp, rec, spool_record_ack(rec, e->boot_id, e->seq));
		if (ret < 0)
			return ret;
		e->unsaved = 0;
		sp->unsaved--;
	}
	return 0;
}

/* What a full disk kept back, in order: 0 once all of it is written. */
static int flush(struct spool *sp)
{
	struct spool_held *h;
	int ret = write_acks(sp);

	while (ret == 0 && (h = sp->held) != NULL) {
		ret = full(sp) ? -ENOSPC :
		    append_record(sp, h->boot_id, h->seq, h->payload, h->len);
		if (ret < 0)
			break;
		sp->pending--;	/* counted again as an entry */
		sp->held = h->next;
		if (sp->held == NULL)
			sp->held_tail = &sp->held;
		sp->nheld--;
		free(h);
	}
	if (ret < 0)
		sp->held_err = ret;
	return ret;
}

size_t spool_flush_held(struct spool *sp)
{
	(void)flush(sp);
	return sp->nheld;
}

/* Keeps a reading the file has no room for, in order, until it has. */
static int hold(struct spool *sp, uint64_t boot_id, uint64_t seq,
    const char *payload, size_t len)
{
	struct spool_held *h;

	if (sp->nheld >= SPOOL_HELD_MAX)
		return -ENOBUFS;
	h = malloc(sizeof(*h) + len);
	if (h == NULL)
		return -ENOMEM;
	h->next = NULL;
	h->boot_id = boot_id;
	h->seq = seq;
	h->len = len;
	memcpy(h->payload, payload, len);
	*sp->held_tail = h;
	sp->held_tail = &h->next;
	sp->nheld++;
	sp->pending++;
	return SPOOL_HELD;
}

int spool_append(struct spool *sp, uint64_t boot_id, uint64_t seq,
    const char *payload, size_t len)
{
	struct spool_entry *last = spool_count(sp) > 0 ?
	    spool_at(sp, spool_count(sp) - 1) : NULL;
	uint64_t lb = last ? last->boot_id : 0, ls = last ? last->seq : 0;
	int ret;

	if (len == 0 || len > SPOOL_RECORD_MAX || memchr(payload, '\n', len) ||
	    boot_id < 1 || seq < 1)
		return -EINVAL;
	if (sp->held != NULL) {
		/* The last of the readings held is the newest. */
		struct spool_held *h = sp->held;
		while (h->next != NULL)
			h = h->next;
		lb = h->boot_id;
		ls = h->seq;
	}
	if (!spool_key_less(lb, ls, boot_id, seq))
		return -EINVAL;
	/* What was kept back first, in order. */
	if (flush(sp) == 0) {
		if (full(sp))
			return -ENOSPC;
		ret = append_record(sp, boot_id, seq, payload, len);
		if (ret == 0 || ret == -ENOMEM)
			return ret;
		sp->held_err = ret;
	}
	return hold(sp, boot_id, seq, payload, len);
}

struct spool_entry *spool_next_unsent(struct spool *sp)
{
	while (sp->cursor < spool_count(sp)) {
		struct spool_entry *e = spool_at(sp, sp->cursor);
		if (e->state == SPOOL_UNSENT)
			return e;
		sp->cursor++;
	}
	return NULL;
}

void spool_mark_inflight(struct spool *sp, struct spool_entry *e)
{
	spool_set_state(sp, e, SPOOL_INFLIGHT);
}

int spool_ack(struct spool *sp, uint64_t boot_id, uint64_t seq)
{
	struct spool_entry *e = spool_lookup(sp, boot_id, seq);
	char rec[SPOOL_RECORD_HEADER_MAX];

	if (e == NULL)
		return -ENOENT;
	if (e->state == SPOOL_ACKED)
		return 0;
	spool_set_state(sp, e, SPOOL_ACKED);
	if (sp->unsaved == 0 &&
	    spool_write_record(sp, rec, spool_record_ack(rec, boot_id, seq)) == 0)
		return 0;
	/* No room: written later, before any new reading. */
	e->unsaved = 1;
	sp->unsaved++;
	return write_acks(sp);
}

void spool_requeue_inflight(struct spool *sp)
{
	size_t i;

	for (i = 0; i < spool_count(sp); i++)
		if (spool_at(sp, i)->state == SPOOL_INFLIGHT)
			spool_set_state(sp, spool_at(sp, i), SPOOL_UNSENT);
}

size_t spool_resend(struct spool *sp, uint64_t boot_id, uint64_t from,
    uint64_t to, size_t limit)
{
	size_t i, n = 0;

	for (i = 0; i < spool_count(sp) && n < limit; i++) {
		struct spool_entry *e = spool_at(sp, i);
		if (e->boot_id != boot_id || e->seq < from || e->seq > to ||
		    e->state != SPOOL_ACKED)
			continue;
		spool_set_state(sp, e, SPOOL_UNSENT);
		n++;
	}
	return n;
}

