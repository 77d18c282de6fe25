/* Handshake rate limiter, on a fake clock: the burst, the refill rate,
 * independent sources, IPv6 /64 grouping, garbage collection and a full
 * table.  Plus SipHash-2-4 known answers. */
#include <arpa/inet.h>
#include <stdint.h>

#include "check.h"
#include "ratelimit.h"

#define MS UINT64_C(1000000)	/* in nanoseconds */
#define SEC (1000 * MS)
#define COST_MS (1000 / WG_RATELIMIT_PACKETS_PER_SECOND)	/* 50 */

static const uint8_t test_key[WG_RATELIMIT_KEY_LEN] = {
	0x6b, 0x65, 0x79, 0x20, 0x66, 0x6f, 0x72, 0x20,
	0x74, 0x65, 0x73, 0x74, 0x73, 0x20, 0x21, 0x21,
};

/* An arbitrary, non-zero starting time. */
static const uint64_t T0 = 12345ULL * SEC + 678;

static bool allow_text(struct wg_ratelimit *rl, const char *text, uint64_t now)
{
	uint8_t addr[16];

	if (inet_pton(AF_INET, text, addr) == 1)
		return wg_ratelimit_allow(rl, AF_INET, addr, now);
	if (inet_pton(AF_INET6, text, addr) == 1)
		return wg_ratelimit_allow(rl, AF_INET6, addr, now);
	CHECK_FAIL("bad address %s in the test", text);
	return false;
}

/* How many of n back-to-back packets (all at time now) get through. */
static int burst(struct wg_ratelimit *rl, const char *text, uint64_t now,
    int n)
{
	int allowed = 0;

	while (n-- > 0)
		allowed += allow_text(rl, text, now);
	return allowed;
}

static void test_siphash_vectors(void)
{
	/* Key 00..0f, message 00 01 .. (len - 1): the reference
	 * implementation's vectors (siphash24.c / vectors.h). */
	static const struct {
		size_t len;
		uint64_t want;
	} rows[] = {
		{ 0, 0x726fdb47dd0e0e31ULL },
		{ 1, 0x74f839c593dc67fdULL },
		{ 4, 0xcf2794e0277187b7ULL },
		{ 7, 0xab0200f58b01d137ULL },
		{ 8, 0x93f5f5799a932462ULL },
		{ 9, 0x9e0082df0ba9e4b0ULL },
		{ 15, 0xa129ca6149be45e5ULL },	/* the paper's Appendix A */
		{ 16, 0x3f2acc7f57c29bdbULL },
		{ 63, 0x958a324ceb064572ULL },
	};
	uint8_t key[16], msg[64];
	size_t i;

	for (i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t got = wg_ratelimit_siphash(key, msg, rows[i].len);

		if (got != rows[i].want)
			CHECK_FAIL("len %zu: %016llx, want %016llx",
			    rows[i].len, (unsigned long long)got,
			    (unsigned long long)rows[i].want);
	}
}

static void test_burst_then_refused(void)
{
	struct wg_ratelimit rl;

	CHECK(wg_ratelimit_init(&rl, test_key) == 0);
	CHECK(burst(&rl, "192.0.2.1", T0, 5) == 5);
	CHECK(!allow_text(&rl, "192.0.2.1", T0));
	CHECK(!allow_text(&rl, "192.0.2.1", T0 + 1 * MS));
	CHECK(wg_ratelimit_count(&rl) == 1);
	wg_ratelimit_clear(&rl);
}

static void test_refill_rate(void)
{
	struct wg_ratelimit rl;
	uint64_t t;

	CHECK(wg_ratelimit_init(&rl, test_key) == 0);
	CHECK(burst(&rl, "192.0.2.1", T0, 10) == 5);
	/* One packet's worth arrives every 50 ms. */
	CHECK(!allow_text(&rl, "192.0.2.1", T0 + COST_MS * MS - 1));
	CHECK(allow_text(&rl, "192.0.2.1", T0 + COST_MS * MS));
	CHECK(!allow_text(&rl, "192.0.2.1", T0 + COST_MS * MS));
	/* A refusal spends nothing: 25 ms + 25 ms make one packet. */
	t = T0 + COST_MS * MS;
	CHECK(!allow_text(&rl, "192.0.2.1", t + 25 * MS));
	CHECK(allow_text(&rl, "192.0.2.1", t + 50 * MS));
	/* After a long pause the bucket is full again, but holds no more
	 * than the burst. */
	t += 10 * SEC;
	CHECK(burst(&rl, "192.0.2.1", t, 20) == 5);
	/* 120 ms later: two packets' worth. */
	CHECK(burst(&rl, "192.0.2.1", t + 120 * MS, 20) == 2);
	wg_ratelimit_clear(&rl);
}

/* A source sending 100 a second for 10 s: its credit is the initial 250 ms
 * plus the 9.99 s elapsed between its first and last packets, all spent
 * at 50 ms a packet (the bucket never fills again while it floods), so
 * floor(10240 / 50) = 204 get through. */
static void test_steady_flood(void)
{
	struct wg_ratelimit rl;
	int i, allowed = 0;

	CHECK(wg_ratelimit_init(&rl, test_key) == 0);
	for (i = 0; i < 1000; i++)
		allowed += allow_text(&rl, "2001:db8::1", T0 + (uint64_t)i *
		    10 * MS);
	if (allowed != 204)
		CHECK_FAIL("%d allowed", allowed);
	wg_ratelimit_clear(&rl);
}

static void test_independent_sources(void)
{
	struct wg_ratelimit rl;

	CHECK(wg_ratelimit_init(&rl, test_key) == 0);
	CHECK(burst(&rl, "192.0.2.1", T0, 8) == 5);
	CHECK(burst(&rl, "192.0.2.2", T0, 8) == 5);
	CHECK(burst(&rl, "198.51.100.1", T0, 8) == 5);
	CHECK(!allow_text(&rl, "192.0.2.1", T0));
	CHECK(wg_ratelimit_count(&rl) == 3);
	/* The same 8 leading bytes in both families are still two sources:
	 * 1.2.3.4 and 0:0:102:304:: (whose /64 holds the value 0x01020304). */
	CHECK(burst(&rl, "1.2.3.4", T0, 8) == 5);
	CHECK(burst(&rl, "0:0:102:304::", T0, 8) == 5);
	CHECK(wg_ratelimit_count(&rl) == 5);
	wg_ratelimit_clear(&rl);
}

static void test_ipv6_prefix(void)
{
	struct wg_ratelimit rl;

	CHECK(wg_ratelimit_init(&rl, test_key) == 0);
	CHECK(burst(&rl, "2001:db8:1:2::1", T0, 3) == 3);
	/* Same /64, other interface identifiers: the same bucket. */
	CHECK(burst(&rl, "2001:db8:1:2:ffff:ffff:ffff:ffff", T0, 3) == 2);
	CHECK(!allow_text(&rl, "2001:db8:1:2:dead:beef::", T0));
	/* The neighbouring /64s are other sources. */
	CHECK(burst(&rl, "2001:db8:1:3::1", T0, 6) == 5);
	CHECK(burst(&rl, "2001:db8:1:1::1", T0, 6) == 5);
	CHECK(burst(&rl, "3001:db8:1:2::1", T0, 6) == 5);
	CHECK(wg_ratelimit_count(&rl) == 4);
	wg_ratelimit_clear(&rl);
}

static void test_gc(void)
{
	struct wg_ratelimit rl;
	char text[32];
	int i;

	CHECK(wg_ratelimit_init(&rl, test_key) == 0);
	wg_ratelimit_gc(&rl, T0);	/* empty: nothing to do */
	for (i = 0; i < 100; i++) {
		snprintf(text, sizeof(text), "10.0.%d.%d", i / 10, i % 10);
		CHECK(allow_text(&rl, text, T0 + (uint64_t)i * MS));
	}
	CHECK(burst(&rl, "10.0.0.0", T0, 10) == 4);	/* 1 + 4 of 5 */
	CHECK(burst(&rl, "2001:db8::1", T0 + 500 * MS, 1) == 1);
	CHECK(wg_ratelimit_count(&rl) == 101);

	/* Exactly one second idle is not "over a second". */
	wg_ratelimit_gc(&rl, T0 + SEC);
	CHECK(wg_ratelimit_count(&rl) == 101);
	/* Past a second: the oldest go, one per millisecond. */
	wg_ratelimit_gc(&rl, T0 + SEC + 1);
	CHECK(wg_ratelimit_count(&rl) == 100);
	wg_ratelimit_gc(&rl, T0 + SEC + 50 * MS + 1);
	CHECK(wg_ratelimit_count(&rl) == 50);
	wg_ratelimit_gc(&rl, T0 + SEC + 100 * MS);
	CHECK(wg_ratelimit_count(&rl) == 1);	/* the IPv6 one */
	/* A collected source starts over with a full burst. */
	CHECK(burst(&rl, "10.0.0.0", T0 + SEC + 100 * MS, 10) == 5);
	wg_ratelimit_gc(&rl, T0 + 10 * SEC);
	CHECK(wg_ratelimit_count(&rl) == 0);
	/* Freed entries are reused. */
	for (i = 0; i < 100; i++) {
		snprintf(text, sizeof(text), "10.1.%d.%d", i / 10, i % 10);
		CHECK(allow_text(&rl, text, T0 + 11 * SEC));
	}
	CHECK(wg_ratelimit_count(&rl) == 100);
	CHECK(rl.fresh == 101);
	wg_ratelimit_clear(&rl);
}

static void test_full_table(void)
{
	struct wg_ratelimit rl;
	uint8_t addr[4] = { 10, 0, 0, 0 };
	uint32_t i;
	bool all = true;

	CHECK(wg_ratelimit_init(&rl, test_key) == 0);
	for (i = 0; i < WG_RATELIMIT_MAX_ENTRIES; i++) {
		addr[2] = (uint8_t)(i >> 8);
		addr[3] = (uint8_t)i;
		all &= wg_ratelimit_allow(&rl, AF_INET, addr, T0);
	}
	CHECK(all);
	CHECK(wg_ratelimit_count(&rl) == WG_RATELIMIT_MAX_ENTRIES);
	/* New sources are refused while the table is full... */
	CHECK(!allow_text(&rl, "192.0.2.1", T0));
	CHECK(!allow_text(&rl, "2001:db8::1", T0));
	CHECK(!allow_text(&rl, "192.0.2.1", T0 + 500 * MS));
	/* ...but known ones keep their buckets. */
	CHECK(burst(&rl, "10.0.0.7", T0, 10) == 4);
	CHECK(burst(&rl, "10.0.31.255", T0, 10) == 4);
	CHECK(wg_ratelimit_count(&rl) == WG_RATELIMIT_MAX_ENTRIES);
	/* Once the idle ones are collected there is room again. */
	CHECK(allow_text(&rl, "10.0.0.7", T0 + 900 * MS));
	wg_ratelimit_gc(&rl, T0 + 1500 * MS);
	CHECK(wg_ratelimit_count(&rl) == 1);
	CHECK(allow_text(&rl, "192.0.2.1", T0 + 1500 * MS));
	wg_ratelimit_clear(&rl);
}

static void test_clock_edges(void)
{
	struct wg_ratelimit rl;
	uint8_t addr[4] = { 192, 0, 2, 9 };

	CHECK(wg_ratelimit_init(&rl, test_key) == 0);
	CHECK(burst(&rl, "192.0.2.9", T0, 5) == 5);
	/* A time before the last packet gives no credit... */
	CHECK(!allow_text(&rl, "192.0.2.9", T0 - 10 * SEC));
	/* ...and does not move the reference back to earn credit later. */
	CHECK(!allow_text(&rl, "192.0.2.9", T0 + 49 * MS));
	CHECK(allow_text(&rl, "192.0.2.9", T0 + 50 * MS));
	/* Years idle without gc: capped at the burst, no overflow. */
	CHECK(burst(&rl, "192.0.2.9", UINT64_MAX - 1, 10) == 5);
	/* Time zero and a huge time for a new source. */
	CHECK(burst(&rl, "192.0.2.10", 0, 10) == 5);
	CHECK(!wg_ratelimit_allow(&rl, AF_UNIX, addr, T0));
	wg_ratelimit_gc(&rl, UINT64_MAX);
	CHECK(wg_ratelimit_count(&rl) == 1);	/* .9 was seen at MAX - 1 */
	wg_ratelimit_clear(&rl);
	/* After clear, the limiter refuses instead of crashing, and can be
	 * initialized again. */
	CHECK(!wg_ratelimit_allow(&rl, AF_INET, addr, T0));
	wg_ratelimit_clear(&rl);
	CHECK(wg_ratelimit_init(&rl, test_key) == 0);
	CHECK(wg_ratelimit_allow(&rl, AF_INET, addr, T0));
	wg_ratelimit_clear(&rl);
}

/* An IPv4 source and an IPv6 /64 with the same 64-bit value that also
 * hash to the same chain (searched for under the fixed test key) are
 * still two sources. */
static void test_family_in_same_chain(void)
{
	struct wg_ratelimit rl;
	uint8_t a4[4], a6[16] = { 0 };
	uint32_t x;
	bool found = false;

	for (x = 1; x < 4000000 && !found; x++) {
		a4[0] = (uint8_t)(x >> 24); a4[1] = (uint8_t)(x >> 16);
		a4[2] = (uint8_t)(x >> 8); a4[3] = (uint8_t)x;
		memcpy(a6 + 4, a4, 4);
		found = ((wg_ratelimit_siphash(test_key, a4, 4) ^
		    wg_ratelimit_siphash(test_key, a6, 8)) &
		    (WG_RATELIMIT_MAX_ENTRIES - 1)) == 0;
	}
	CHECK(found);
	CHECK(wg_ratelimit_init(&rl, test_key) == 0);
	CHECK(wg_ratelimit_allow(&rl, AF_INET, a4, T0));
	CHECK(wg_ratelimit_allow(&rl, AF_INET6, a6, T0));
	CHECK(wg_ratelimit_count(&rl) == 2);
	wg_ratelimit_clear(&rl);
}

/* Many sources spread over the buckets: the keyed hash uses the whole
 * table, and different keys place the same sources differently. */
static void test_hash_spread(void)
{
	struct wg_ratelimit rl;
	uint8_t key2[WG_RATELIMIT_KEY_LEN] = { 1 };
	uint8_t a[4] = { 10, 0, 0, 0 };
	uint64_t h1, h2;
	uint32_t i, used = 0, same = 0, b;

	CHECK(wg_ratelimit_init(&rl, test_key) == 0);
	for (i = 0; i < 4096; i++) {
		a[2] = (uint8_t)(i >> 8);
		a[3] = (uint8_t)i;
		CHECK(wg_ratelimit_allow(&rl, AF_INET, a, T0));
		h1 = wg_ratelimit_siphash(test_key, a, 4);
		h2 = wg_ratelimit_siphash(key2, a, 4);
		same += (h1 & (WG_RATELIMIT_MAX_ENTRIES - 1)) ==
		    (h2 & (WG_RATELIMIT_MAX_ENTRIES - 1));
	}
	for (b = 0; b < WG_RATELIMIT_MAX_ENTRIES; b++)
		used += rl.buckets[b] != UINT32_MAX;
	/* 4096 balls in 8192 bins fill about 8192 (1 - e^-0.5) = 3223. */
	CHECK(used > 3000 && used < 3450);
	CHECK(same < 20);
	wg_ratelimit_clear(&rl);
}

int main(void)
{
	RUN(test_siphash_vectors);
	RUN(test_burst_then_refused);
	RUN(test_refill_rate);
	RUN(test_steady_flood);
	RUN(test_independent_sources);
	RUN(test_ipv6_prefix);
	RUN(test_gc);
	RUN(test_full_table);
	RUN(test_clock_edges);
	RUN(test_family_in_same_chain);
	RUN(test_hash_spread);
	return check_summary();
}
