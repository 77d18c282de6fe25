/* The receive side's anti-replay window for transport-data counters
 * (whitepaper section 5.4.6), a sliding bitmap after RFC 6479 as in Linux's
 * receive.c counter_validate().
 *
 * Let G be the greatest counter accepted so far.  A counter c is accepted
 * when c < limit, it has not been accepted before, and c >= G - WG_REPLAY_WINDOW
 * (so G - 8128 is the oldest still accepted and G - 8129 is too old; the
 * window spans 8129 counters, G included).  Before any counter is accepted
 * every c < limit is.  limit is REJECT_AFTER_MESSAGES (2^64 - 2^13 - 1) for
 * WireGuard; the caller passes it in.
 *
 * Order per packet: wg_replay_check() (cheap, no state change) before the
 * AEAD open, wg_replay_update() only after the tag verified, so forged
 * packets cannot move the window. */
#ifndef WG_REPLAY_H
#define WG_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/primitives.h"

enum {
	WG_REPLAY_BITS_TOTAL = 8192,
	/* One 64-bit word of the ring is always being recycled, so the
	 * window is the ring minus one word (RFC 6479 section 2). */
	WG_REPLAY_WINDOW = WG_REPLAY_BITS_TOTAL - 64,	/* 8128 */
};

struct wg_replay {
	/* G + 1, so that 0 means "nothing accepted yet"; bit n of the ring
	 * (mod WG_REPLAY_BITS_TOTAL) stands for counter n - 1. */
	uint64_t top;
	uint64_t bitmap[WG_REPLAY_BITS_TOTAL / 64];
};

void wg_replay_init(struct wg_replay *r);

/* Would counter be accepted?  No state change.  False when counter >= limit,
 * too old, or already seen. */
WG_MUST_CHECK bool wg_replay_check(const struct wg_replay *r, uint64_t counter,
    uint64_t limit);

/* Marks counter as seen; call only after the AEAD tag verified.  Returns
 * false, and changes nothing, when wg_replay_check() would have. */
WG_MUST_CHECK bool wg_replay_update(struct wg_replay *r, uint64_t counter,
    uint64_t limit);

#endif
