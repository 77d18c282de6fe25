/* What every store backend shares (store.h over store_internal.h): the
 * position that moves with each reading and is committed with the rows,
 * the counters, the failed flag that keeps half a batch from being
 * committed, and the calls that reach the backend. */
#include <errno.h>
#include <string.h>

#include "hub/store.h"
#include "hub/store_internal.h"

const char *store_error(const struct store *s)
{
	return s ? s->err : "out of memory";
}

int store_position(struct store *s, struct store_position *pos)
{
	return s->ops->position(s, pos);
}

int store_add(struct store *s, const struct telemetry_reading *r,
    uint64_t received_ms, int64_t ts_ms, const struct store_position *after)
{
	int ret = s->ops->add(s, r, received_ms, ts_ms);

	if (ret < 0) {
		/* Half a reading must not be committed: the caller gives
		 * up on the store, which rolls back (store_close). */
		s->failed = true;
		return ret;
	}
	store_advance(s, after);
	if (ret == 0) {
		s->n.present++;
		return 0;
	}
	s->n.added++;
	s->pending++;
	return 1;
}

void store_advance(struct store *s, const struct store_position *after)
{
	s->pos = *after;
	s->moved = true;
}

size_t store_pending(const struct store *s)
{
	return s->pending;
}

int store_commit(struct store *s)
{
	int ret;

	if (s->failed)
		return -EIO;	/* store_close() rolls back */
	if (!s->moved && !s->in_tx)
		return 0;
	if ((ret = s->ops->commit(s)) < 0) {
		/* Nothing of the batch is kept: the next catch-up reads it
		 * from the log again. */
		s->ops->rollback(s);
		s->pos = s->committed;	/* never a position without its rows */
		s->moved = s->in_tx = false;
		s->pending = 0;
		return ret;
	}
	s->in_tx = s->moved = false;
	s->committed = s->pos;
	s->pending = 0;
	s->n.commits++;
	return 0;
}

int64_t store_retain(struct store *s, int64_t cutoff_ms)
{
	return s->ops->retain(s, cutoff_ms);
}

int store_bulk(struct store *s, bool on)
{
	int ret;

	if ((ret = store_commit(s)) < 0)
		return ret;
	s->bulk = on;
	return s->ops->bulk(s, on);
}

int store_set_cache(struct store *s, bool large)
{
	return s->ops->set_cache(s, large);
}

bool store_column_field(const char *name)
{
	return (name[0] == 'p' || name[0] == 't' || name[0] == 'v') &&
	    name[1] == '\0';
}

bool store_in_bulk(const struct store *s)
{
	return s->bulk;
}

const struct store_counters *store_counters(const struct store *s)
{
	return &s->n;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->failed && s->in_tx)
		s->ops->rollback(s);
	else if (s->in_tx || s->moved)
		store_commit(s);
	s->ops->close(s);
}
