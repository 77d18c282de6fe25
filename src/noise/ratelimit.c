/* Per-source token buckets for handshake initiations, after Linux's
 * ratelimiter.c: credit is kept in nanoseconds, one packet costs 1/20 s,
 * and the bucket holds at most 5 packets' worth, so a source gets a burst
 * of 5 and then 20 a second.
 *
 * A fixed pool of entries chained from a power-of-two bucket array by
 * index: the table's memory is bounded and allocated once, and allow()
 * only takes an entry from the pool.  Pool pages are touched as sources
 * arrive, not at init. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

enum {
	NSEC_PER_SEC = 1000000000,
	PACKET_COST = NSEC_PER_SEC / WG_RATELIMIT_PACKETS_PER_SECOND,
	TOKEN_MAX = PACKET_COST * WG_RATELIMIT_BURST,
	/* One chain per entry on average when full. */
	BUCKETS = WG_RATELIMIT_MAX_ENTRIES,
};

_Static_assert((BUCKETS & (BUCKETS - 1)) == 0, "buckets are masked");

#define NONE UINT32_MAX

struct wg_ratelimit_entry {
	uint64_t source;	/* IPv4 address or IPv6 /64, big-endian value */
	uint64_t last_ns;	/* latest packet seen */
	uint64_t tokens;	/* credit in nanoseconds, at most TOKEN_MAX */
	uint32_t next;		/* in a chain or in the free list */
	uint8_t family;
};

static uint64_t rotl(uint64_t x, unsigned int b)
{
	return (x << b) | (x >> (64 - b));
}

static void sipround(uint64_t v[4])
{
	v[0] += v[1]; v[1] = rotl(v[1], 13); v[1] ^= v[0]; v[0] = rotl(v[0], 32);
	v[2] += v[3]; v[3] = rotl(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = rotl(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = rotl(v[1], 17); v[1] ^= v[2]; v[2] = rotl(v[2], 32);
}

static uint64_t load_le64(const uint8_t *p, size_t n)
{
	uint64_t x = 0;

	while (n-- > 0)
		x = (x << 8) | p[n];
	return x;
}

/* SipHash-2-4 (https://www.aumasson.jp/siphash/siphash.pdf): two rounds
 * per 8-byte word, the length in the top byte of the last word, four
 * finalization rounds. */
static uint64_t siphash24(uint64_t k0, uint64_t k1, const uint8_t *in,
    size_t len)
{
	uint64_t v[4] = {
		k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
		k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL,
	};
	uint64_t m;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		m = load_le64(in + i, 8);
		v[3] ^= m;
		sipround(v);
		sipround(v);
		v[0] ^= m;
	}
	m = load_le64(in + i, len - i) | (uint64_t)len << 56;
	v[3] ^= m;
	sipround(v);
	sipround(v);
	v[0] ^= m;
	v[2] ^= 0xff;
	for (i = 0; i < 4; i++)
		sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

uint64_t wg_ratelimit_siphash(const uint8_t key[static WG_RATELIMIT_KEY_LEN],
    const uint8_t *in, size_t len)
{
	return siphash24(load_le64(key, 8), load_le64(key + 8, 8), in, len);
}

int wg_ratelimit_init(struct wg_ratelimit *rl,
    const uint8_t hash_key[static WG_RATELIMIT_KEY_LEN])
{
	memset(rl, 0, sizeof(*rl));
	rl->entries = malloc(WG_RATELIMIT_MAX_ENTRIES * sizeof(*rl->entries));
	rl->buckets = malloc(BUCKETS * sizeof(*rl->buckets));
	if (rl->entries == NULL || rl->buckets == NULL) {
		wg_ratelimit_clear(rl);
		return -ENOMEM;
	}
	memset(rl->buckets, 0xff, BUCKETS * sizeof(*rl->buckets)); /* NONE */
	rl->free_list = NONE;
	rl->k0 = load_le64(hash_key, 8);
	rl->k1 = load_le64(hash_key + 8, 8);
	return 0;
}

void wg_ratelimit_clear(struct wg_ratelimit *rl)
{
	free(rl->entries);
	free(rl->buckets);
	memset(rl, 0, sizeof(*rl));
}

/* Refills by the time since the last packet, then takes one packet's cost
 * if there is enough.  A refused packet spends nothing, so a source that
 * keeps knocking still gets 20 a second. */
static bool take_token(struct wg_ratelimit_entry *e, uint64_t now_ns)
{
	uint64_t elapsed = 0, tokens;

	if (now_ns > e->last_ns) {	/* the clock never runs backwards, but */
		elapsed = now_ns - e->last_ns;
		e->last_ns = now_ns;
	}
	/* The bucket is never above TOKEN_MAX: compare before adding, so a
	 * long idle time cannot overflow. */
	if (elapsed >= TOKEN_MAX - e->tokens)
		tokens = TOKEN_MAX;
	else
		tokens = e->tokens + elapsed;
	if (tokens < PACKET_COST) {
		e->tokens = tokens;
		return false;
	}
	e->tokens = tokens - PACKET_COST;
	return true;
}

static uint32_t entry_get(struct wg_ratelimit *rl)
{
	uint32_t i = rl->free_list;

	if (i != NONE) {
		rl->free_list = rl->entries[i].next;
		return i;
	}
	if (rl->fresh < WG_RATELIMIT_MAX_ENTRIES)
		return rl->fresh++;
	return NONE;
}

bool wg_ratelimit_allow(struct wg_ratelimit *rl, int family,
    const uint8_t *addr, uint64_t now_ns)
{
	struct wg_ratelimit_entry *e;
	uint32_t *head, i;
	uint64_t source = 0;
	size_t len, j;

	if (family == AF_INET)
		len = 4;
	else if (family == AF_INET6)
		len = 8;	/* the /64 */
	else
		return false;
	if (rl->entries == NULL)
		return false;
	for (j = 0; j < len; j++)
		source = (source << 8) | addr[j];

	/* IPv4 hashes 4 bytes, IPv6 8: SipHash mixes in the length, so the
	 * two families never share a key. */
	head = &rl->buckets[siphash24(rl->k0, rl->k1, addr, len) &
	    (BUCKETS - 1)];
	for (i = *head; i != NONE; i = e->next) {
		e = &rl->entries[i];
		if (e->source == source && e->family == family)
			return take_token(e, now_ns);
	}

	/* A new source starts with a full bucket, less this packet. */
	i = entry_get(rl);
	if (i == NONE)
		return false;	/* full: refuse rather than evict */
	e = &rl->entries[i];
	e->source = source;
	e->family = (uint8_t)family;
	e->last_ns = now_ns;
	e->tokens = TOKEN_MAX - PACKET_COST;
	e->next = *head;
	*head = i;
	rl->count++;
	return true;
}

void wg_ratelimit_gc(struct wg_ratelimit *rl, uint64_t now_ns)
{
	struct wg_ratelimit_entry *e;
	uint32_t b, *link, i;

	if (rl->count == 0)
		return;
	for (b = 0; b < BUCKETS; b++) {
		link = &rl->buckets[b];
		while ((i = *link) != NONE) {
			e = &rl->entries[i];
			if (now_ns > e->last_ns &&
			    now_ns - e->last_ns > NSEC_PER_SEC) {
				*link = e->next;
				e->next = rl->free_list;
				rl->free_list = i;
				rl->count--;
			} else {
				link = &e->next;
			}
		}
	}
}

size_t wg_ratelimit_count(const struct wg_ratelimit *rl)
{
	return rl->count;
}
