/* What spool.c (the entry table) and spool_file.c (the file under it)
 * share; not for use outside the spool. */
#ifndef WGU_SPOOL_INTERNAL_H
#define WGU_SPOOL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edge/spool.h"

/* The i-th entry held (i < spool_count()). */
static inline struct spool_entry *spool_at(const struct spool *sp, size_t i)
{
	return &sp->e[sp->first + i];
}

/* Whether (b1, s1) comes before (b2, s2): the order of the entries. */
static inline bool spool_key_less(uint64_t b1, uint64_t s1, uint64_t b2,
    uint64_t s2)
{
	return b1 < b2 || (b1 == b2 && s1 < s2);
}

/* In spool.c. */

/* The entry (boot_id, seq), or NULL. */
struct spool_entry *spool_lookup(struct spool *sp, uint64_t boot_id,
    uint64_t seq);

/* Makes room for one more entry at the end: 0 or -ENOMEM. */
int spool_grow(struct spool *sp);

/* Adds e at the end, after spool_grow(); the caller keeps the order. */
void spool_push(struct spool *sp, const struct spool_entry *e);

/* Drops the oldest entry, which must be ACKED. */
void spool_evict(struct spool *sp);

/* Moves e to state (enum spool_state), keeping pending and the cursor. */
void spool_set_state(struct spool *sp, struct spool_entry *e, int state);

/* In spool_file.c. */

/* Writes one whole record (len bytes) at the end of spool.log, cutting a
 * short write back.  Returns 0 or a negative errno. */
int spool_write_record(struct spool *sp, const char *rec, size_t len);

/* Rewrites spool.log with only the entries held, and sets the record
 * count at which the next compaction is due. */
void spool_compact(struct spool *sp);

#endif
