/* RFC 6479 anti-replay: a ring of 64-bit words.  Moving the window forward
 * zeroes whole words instead of shifting the bitmap, which is why one word
 * of the ring is not part of the window.
 *
 * Positions are counter + 1 (the top field holds G + 1), as in Linux's
 * counter_validate(): top == 0 means nothing was accepted, and counter 0
 * needs no special case.  counter < limit <= UINT64_MAX, so counter + 1
 * cannot wrap. */
#include <string.h>

#include "replay.h"

enum {
	WORD_BITS = 64,
	RING_WORDS = WG_REPLAY_BITS_TOTAL / WORD_BITS,
};

_Static_assert((RING_WORDS & (RING_WORDS - 1)) == 0,
    "the ring is indexed with a mask");
_Static_assert(WG_REPLAY_WINDOW == WG_REPLAY_BITS_TOTAL - WORD_BITS,
    "one word of the ring is outside the window");
_Static_assert(sizeof(((struct wg_replay *)0)->bitmap) * 8 ==
    WG_REPLAY_BITS_TOTAL, "bitmap size");

void wg_replay_init(struct wg_replay *r)
{
	memset(r, 0, sizeof(*r));
}

/* Below the limit and not older than the window (ignoring the bitmap). */
static bool in_window(const struct wg_replay *r, uint64_t counter,
    uint64_t limit)
{
	uint64_t pos;

	if (counter >= limit)
		return false;
	pos = counter + 1;
	return pos > r->top || r->top - pos <= WG_REPLAY_WINDOW;
}

static uint64_t *word_of(struct wg_replay *r, uint64_t pos)
{
	return &r->bitmap[(pos / WORD_BITS) & (RING_WORDS - 1)];
}

static uint64_t bit_of(uint64_t pos)
{
	return 1ULL << (pos % WORD_BITS);
}

bool wg_replay_check(const struct wg_replay *r, uint64_t counter,
    uint64_t limit)
{
	uint64_t pos = counter + 1;

	if (!in_window(r, counter, limit))
		return false;
	if (pos > r->top)
		return true;	/* newer than anything: its bit is clear */
	return (r->bitmap[(pos / WORD_BITS) & (RING_WORDS - 1)] &
	    bit_of(pos)) == 0;
}

/* Slides the window up to pos: the words after top's word, up to and
 * including pos's word, now stand for new counters and start empty.  The
 * bits above top in top's own word were never set. */
static void advance(struct wg_replay *r, uint64_t pos)
{
	uint64_t cur = r->top / WORD_BITS, steps = pos / WORD_BITS - cur, i;

	if (steps > RING_WORDS)
		steps = RING_WORDS;
	for (i = 1; i <= steps; i++)
		r->bitmap[(cur + i) & (RING_WORDS - 1)] = 0;
	r->top = pos;
}

bool wg_replay_update(struct wg_replay *r, uint64_t counter, uint64_t limit)
{
	uint64_t pos = counter + 1, *word;

	if (!in_window(r, counter, limit))
		return false;
	if (pos > r->top)
		advance(r, pos);
	word = word_of(r, pos);
	if (*word & bit_of(pos))
		return false;	/* only when pos <= top: nothing changed */
	*word |= bit_of(pos);
	return true;
}
