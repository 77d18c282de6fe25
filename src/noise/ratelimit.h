/* Rate limit for handshake initiations under load, per source address, as
 * Linux's ratelimiter.c: a token bucket of 20 packets a second with a burst
 * of 5.  IPv4 sources are keyed by the whole address, IPv6 sources by their
 * /64 (one host owns a /64, so an attacker cannot dodge the limit by cycling
 * through its low 64 bits).
 *
 * The table holds at most WG_RATELIMIT_MAX_ENTRIES sources; while it is full
 * new sources are refused (rate limited).  Entries idle for over a second
 * hold a full bucket, so dropping them changes no answer:
 * wg_ratelimit_gc() does that and must run at least once a second.  Bucket
 * positions come from SipHash-2-4 under a caller-supplied random key, so an
 * attacker choosing source addresses cannot aim them at one hash chain.
 *
 * Time is the caller's monotonic clock in nanoseconds.  Memory is allocated
 * by init and released by clear; allow() never allocates. */
#ifndef WG_RATELIMIT_H
#define WG_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>		/* AF_INET, AF_INET6 */

#include "crypto/primitives.h"

enum {
	WG_RATELIMIT_PACKETS_PER_SECOND = 20,
	WG_RATELIMIT_BURST = 5,
	WG_RATELIMIT_MAX_ENTRIES = 8192,
	WG_RATELIMIT_KEY_LEN = 16,
};

struct wg_ratelimit_entry;

struct wg_ratelimit {
	struct wg_ratelimit_entry *entries;	/* WG_RATELIMIT_MAX_ENTRIES */
	uint32_t *buckets;		/* chain heads: indexes into entries */
	uint32_t free_list;		/* recycled entries */
	uint32_t fresh;			/* entries[fresh...] never used yet */
	uint32_t count;			/* sources in the table */
	uint64_t k0, k1;		/* SipHash key */
};

/* hash_key: 16 random bytes, secret from the network.  Returns 0 or
 * -ENOMEM. */
int wg_ratelimit_init(struct wg_ratelimit *rl,
    const uint8_t hash_key[static WG_RATELIMIT_KEY_LEN]);
/* Frees the table; init may be called again afterwards. */
void wg_ratelimit_clear(struct wg_ratelimit *rl);

/* Takes one token from addr's bucket (family AF_INET: 4 bytes, AF_INET6: 16
 * bytes, network byte order).  True: let the initiation through.  False
 * when the bucket is empty, the table is full of other sources, or the
 * family is unknown. */
WG_MUST_CHECK bool wg_ratelimit_allow(struct wg_ratelimit *rl, int family,
    const uint8_t *addr, uint64_t now_ns);

/* Drops entries idle for over a second.  O(table size). */
void wg_ratelimit_gc(struct wg_ratelimit *rl, uint64_t now_ns);

/* Sources currently tracked. */
size_t wg_ratelimit_count(const struct wg_ratelimit *rl);

/* SipHash-2-4 of in under key (Aumasson and Bernstein), the table's hash;
 * exposed for its known-answer test. */
uint64_t wg_ratelimit_siphash(const uint8_t key[static WG_RATELIMIT_KEY_LEN],
    const uint8_t *in, size_t len);

#endif
