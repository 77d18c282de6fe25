/* Cryptokey routing table: fixed tables of overlapping prefixes, the edges
 * of the API, and a randomized differential test against a naive twin (a
 * flat array searched linearly), in the spirit of Linux's allowedips
 * selftest. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "allowedips.h"
#include "testutil.h"

static char owner_a, owner_b, owner_c, owner_d, owner_e, owner_f;
#define A (&owner_a)
#define B (&owner_b)
#define C (&owner_c)
#define D (&owner_d)
#define E (&owner_e)
#define F (&owner_f)

static const char *owner_name(const void *o)
{
	if (o == NULL)
		return "none";
	if (o == A) return "A";
	if (o == B) return "B";
	if (o == C) return "C";
	if (o == D) return "D";
	if (o == E) return "E";
	if (o == F) return "F";
	return "?";
}

/* Parses "10.0.0.0" or "2001:db8::" into addr; returns the family. */
static int parse(const char *text, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, text, addr) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, text, addr) == 1)
		return AF_INET6;
	CHECK_FAIL("bad address %s in the test", text);
	return AF_UNSPEC;
}

static int insert_text(struct wg_allowedips *t, const char *text,
    uint8_t cidr, void *owner)
{
	uint8_t addr[16];
	int family = parse(text, addr);

	return wg_allowedips_insert(t, family, addr, cidr, owner);
}

static int remove_text(struct wg_allowedips *t, const char *text,
    uint8_t cidr, void *owner)
{
	uint8_t addr[16];
	int family = parse(text, addr);

	return wg_allowedips_remove(t, family, addr, cidr, owner);
}

static void *lookup_text(const struct wg_allowedips *t, const char *text)
{
	uint8_t addr[16];
	int family = parse(text, addr);

	return wg_allowedips_lookup(t, family, addr);
}

struct prefix_row {
	const char *addr;
	uint8_t cidr;
	void *owner;
};

struct lookup_row {
	const char *addr;
	void *want;
};

static void insert_rows(struct wg_allowedips *t, const struct prefix_row *rows,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (insert_text(t, rows[i].addr, rows[i].cidr,
		    rows[i].owner) != 0)
			CHECK_FAIL("insert %s/%u failed", rows[i].addr,
			    rows[i].cidr);
}

static void check_lookups(const struct wg_allowedips *t,
    const struct lookup_row *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		void *got = lookup_text(t, rows[i].addr);

		if (got != rows[i].want)
			CHECK_FAIL("lookup %s: got %s, want %s", rows[i].addr,
			    owner_name(got), owner_name(rows[i].want));
	}
}

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

static const struct prefix_row v4_prefixes[] = {
	{ "0.0.0.0", 0, A },
	{ "10.0.0.0", 8, B },
	{ "10.1.0.0", 16, C },
	{ "10.1.2.0", 24, D },
	{ "10.1.2.3", 32, E },
	{ "10.1.2.128", 25, B },
	{ "192.168.1.77", 24, F },	/* host bits: stored as .0/24 */
	{ "255.255.255.255", 32, C },
};

static const struct lookup_row v4_lookups[] = {
	{ "10.1.2.3", E },
	{ "10.1.2.4", D },
	{ "10.1.2.2", D },
	{ "10.1.2.127", D },
	{ "10.1.2.128", B },
	{ "10.1.2.200", B },
	{ "10.1.3.1", C },
	{ "10.1.255.255", C },
	{ "10.2.0.0", B },
	{ "10.255.255.255", B },
	{ "9.255.255.255", A },
	{ "11.0.0.0", A },
	{ "192.168.1.1", F },
	{ "192.168.1.77", F },
	{ "192.168.2.1", A },
	{ "0.0.0.0", A },
	{ "255.255.255.255", C },
	{ "255.255.255.254", A },
};

static const struct prefix_row v6_prefixes[] = {
	{ "::", 0, A },
	{ "2001:db8::", 32, B },
	{ "2001:db8:1::", 48, C },
	{ "2001:db8:1:2::", 64, D },
	{ "2001:db8:1:2::3", 128, E },
	{ "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 48, F },
	{ "fe80::", 10, B },
};

static const struct lookup_row v6_lookups[] = {
	{ "2001:db8:1:2::3", E },
	{ "2001:db8:1:2::4", D },
	{ "2001:db8:1:2:ffff:ffff:ffff:ffff", D },
	{ "2001:db8:1:3::", C },
	{ "2001:db8:1:ffff::1", C },
	{ "2001:db8:2::", B },
	{ "2001:db9::", A },
	{ "2001:db7:ffff::", A },
	{ "2001:db8:ffff::1", F },
	{ "2001:db8:ffff:1234::1", F },
	{ "fe80::1", B },
	{ "febf:ffff::1", B },
	{ "fec0::1", A },
	{ "::", A },
	{ "::1", A },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", A },
};

static void test_overlapping_v4(void)
{
	struct wg_allowedips t;

	wg_allowedips_init(&t);
	insert_rows(&t, v4_prefixes, NROWS(v4_prefixes));
	check_lookups(&t, v4_lookups, NROWS(v4_lookups));
	CHECK(wg_allowedips_verify(&t));
	/* An IPv4 table does not answer for IPv6. */
	CHECK(lookup_text(&t, "::") == NULL);
	CHECK(lookup_text(&t, "::ffff:10.1.2.3") == NULL);
	wg_allowedips_clear(&t);
	CHECK(wg_allowedips_node_count(&t) == 0);
	CHECK(lookup_text(&t, "10.1.2.3") == NULL);
}

static void test_overlapping_v6(void)
{
	struct wg_allowedips t;

	wg_allowedips_init(&t);
	insert_rows(&t, v6_prefixes, NROWS(v6_prefixes));
	check_lookups(&t, v6_lookups, NROWS(v6_lookups));
	CHECK(wg_allowedips_verify(&t));
	CHECK(lookup_text(&t, "10.1.2.3") == NULL);
	wg_allowedips_clear(&t);
	CHECK(wg_allowedips_node_count(&t) == 0);
}

/* Both families in one table, inserted in the reverse order (longest
 * first), must answer the same. */
static void test_both_families_any_order(void)
{
	struct wg_allowedips t;
	size_t i;

	wg_allowedips_init(&t);
	for (i = NROWS(v6_prefixes); i-- > 0;)
		insert_rows(&t, &v6_prefixes[i], 1);
	for (i = NROWS(v4_prefixes); i-- > 0;)
		insert_rows(&t, &v4_prefixes[i], 1);
	check_lookups(&t, v4_lookups, NROWS(v4_lookups));
	check_lookups(&t, v6_lookups, NROWS(v6_lookups));
	CHECK(wg_allowedips_verify(&t));
	/* The trie is canonical: 8 + 7 prefixes, and the node count is the
	 * same whatever the insertion order (checked against forward order). */
	{
		struct wg_allowedips fwd;
		size_t n = wg_allowedips_node_count(&t);

		wg_allowedips_init(&fwd);
		insert_rows(&fwd, v4_prefixes, NROWS(v4_prefixes));
		insert_rows(&fwd, v6_prefixes, NROWS(v6_prefixes));
		CHECK(wg_allowedips_node_count(&fwd) == n);
		CHECK(n >= NROWS(v4_prefixes) + NROWS(v6_prefixes));
		wg_allowedips_clear(&fwd);
	}
	wg_allowedips_clear(&t);
	CHECK(wg_allowedips_node_count(&t) == 0);
}

static void test_no_default_route(void)
{
	struct wg_allowedips t;

	wg_allowedips_init(&t);
	CHECK(lookup_text(&t, "10.0.0.1") == NULL);
	CHECK(insert_text(&t, "10.0.0.0", 8, A) == 0);
	CHECK(lookup_text(&t, "10.0.0.1") == A);
	CHECK(lookup_text(&t, "11.0.0.1") == NULL);
	CHECK(lookup_text(&t, "9.255.255.255") == NULL);
	CHECK(insert_text(&t, "10.0.0.1", 32, B) == 0);
	CHECK(lookup_text(&t, "10.0.0.1") == B);
	CHECK(lookup_text(&t, "10.0.0.0") == A);
	CHECK(lookup_text(&t, "10.0.0.3") == A);
	/* A /128 alone, and its neighbours. */
	CHECK(insert_text(&t, "2001:db8::1", 128, C) == 0);
	CHECK(lookup_text(&t, "2001:db8::1") == C);
	CHECK(lookup_text(&t, "2001:db8::") == NULL);
	CHECK(lookup_text(&t, "2001:db8::3") == NULL);
	CHECK(lookup_text(&t, "a001:db8::1") == NULL);
	wg_allowedips_clear(&t);
}

static void test_host_bits_ignored(void)
{
	struct wg_allowedips t;

	wg_allowedips_init(&t);
	CHECK(insert_text(&t, "10.9.8.7", 8, A) == 0);
	CHECK(lookup_text(&t, "10.0.0.0") == A);
	CHECK(lookup_text(&t, "10.255.0.1") == A);
	/* The same prefix spelled with other host bits is the same entry. */
	CHECK(insert_text(&t, "10.1.1.1", 8, B) == 0);
	CHECK(wg_allowedips_node_count(&t) == 1);
	CHECK(lookup_text(&t, "10.9.8.7") == B);
	CHECK(remove_text(&t, "10.200.0.0", 8, B) == 0);
	CHECK(wg_allowedips_node_count(&t) == 0);

	CHECK(insert_text(&t, "2001:db8:aaaa:bbbb:cccc::1", 33, C) == 0);
	/* 0xaaaa starts with a one bit: the prefix is 2001:db8:8000::/33. */
	CHECK(lookup_text(&t, "2001:db8:8000::") == C);
	CHECK(lookup_text(&t, "2001:db8:ffff:ffff::1") == C);
	CHECK(lookup_text(&t, "2001:db8:7fff::") == NULL);
	CHECK(lookup_text(&t, "2001:db8::") == NULL);
	CHECK(remove_text(&t, "2001:db8:8000::", 33, C) == 0);
	CHECK(insert_text(&t, "255.255.255.255", 0, D) == 0);
	CHECK(lookup_text(&t, "1.2.3.4") == D);
	CHECK(remove_text(&t, "0.0.0.0", 0, D) == 0);
	CHECK(lookup_text(&t, "1.2.3.4") == NULL);
	CHECK(wg_allowedips_verify(&t));
	wg_allowedips_clear(&t);
}

static void test_reinsert_moves_owner(void)
{
	struct wg_allowedips t;

	wg_allowedips_init(&t);
	CHECK(insert_text(&t, "10.0.0.0", 8, A) == 0);
	CHECK(insert_text(&t, "10.0.0.0", 24, C) == 0);
	CHECK(insert_text(&t, "10.0.0.0", 8, B) == 0);
	CHECK(lookup_text(&t, "10.2.3.4") == B);
	CHECK(lookup_text(&t, "10.0.0.4") == C);
	CHECK(wg_allowedips_node_count(&t) == 2);
	CHECK(remove_text(&t, "10.0.0.0", 8, A) == -ENOENT);
	CHECK(lookup_text(&t, "10.2.3.4") == B);
	CHECK(remove_text(&t, "10.0.0.0", 8, B) == 0);
	CHECK(lookup_text(&t, "10.2.3.4") == NULL);
	CHECK(lookup_text(&t, "10.0.0.4") == C);
	CHECK(insert_text(&t, "2001:db8::", 64, A) == 0);
	CHECK(insert_text(&t, "2001:db8::", 64, A) == 0);	/* idempotent */
	CHECK(insert_text(&t, "2001:db8::", 64, D) == 0);
	CHECK(lookup_text(&t, "2001:db8::99") == D);
	CHECK(wg_allowedips_node_count(&t) == 2);
	CHECK(wg_allowedips_verify(&t));
	wg_allowedips_clear(&t);
	CHECK(wg_allowedips_node_count(&t) == 0);
}

static void test_remove(void)
{
	struct wg_allowedips t;

	wg_allowedips_init(&t);
	insert_rows(&t, v4_prefixes, NROWS(v4_prefixes));
	insert_rows(&t, v6_prefixes, NROWS(v6_prefixes));
	CHECK(remove_text(&t, "10.1.0.0", 16, B) == -ENOENT);	/* owned by C */
	CHECK(remove_text(&t, "10.1.0.0", 17, C) == -ENOENT);	/* no /17 */
	CHECK(remove_text(&t, "10.1.0.0", 15, C) == -ENOENT);
	CHECK(remove_text(&t, "10.1.2.0", 23, D) == -ENOENT);
	CHECK(remove_text(&t, "10.0.0.0", 7, B) == -ENOENT);
	CHECK(remove_text(&t, "10.1.0.0", 16, C) == 0);
	CHECK(remove_text(&t, "10.1.0.0", 16, C) == -ENOENT);	/* gone */
	CHECK(lookup_text(&t, "10.1.3.1") == B);
	CHECK(lookup_text(&t, "10.1.2.3") == E);
	CHECK(lookup_text(&t, "10.1.2.4") == D);
	/* Host bits in the removal are ignored, as in the insertion. */
	CHECK(remove_text(&t, "10.1.2.77", 24, D) == 0);
	CHECK(lookup_text(&t, "10.1.2.4") == B);
	CHECK(lookup_text(&t, "10.1.2.3") == E);
	CHECK(remove_text(&t, "0.0.0.0", 0, A) == 0);
	CHECK(lookup_text(&t, "11.0.0.0") == NULL);
	CHECK(lookup_text(&t, "10.0.0.1") == B);
	CHECK(remove_text(&t, "2001:db8:1:2::3", 128, E) == 0);
	CHECK(lookup_text(&t, "2001:db8:1:2::3") == D);
	CHECK(remove_text(&t, "2001:db8:1::", 48, C) == 0);
	CHECK(lookup_text(&t, "2001:db8:1:3::") == B);
	CHECK(lookup_text(&t, "2001:db8:1:2::") == D);
	CHECK(wg_allowedips_verify(&t));
	/* Removing the rest one by one frees every node. */
	CHECK(remove_text(&t, "10.0.0.0", 8, B) == 0);
	CHECK(remove_text(&t, "10.1.2.3", 32, E) == 0);
	CHECK(remove_text(&t, "10.1.2.128", 25, B) == 0);
	CHECK(remove_text(&t, "192.168.1.0", 24, F) == 0);
	CHECK(remove_text(&t, "255.255.255.255", 32, C) == 0);
	CHECK(t.root4 == NULL);
	CHECK(remove_text(&t, "::", 0, A) == 0);
	CHECK(remove_text(&t, "2001:db8::", 32, B) == 0);
	CHECK(remove_text(&t, "2001:db8:1:2::", 64, D) == 0);
	CHECK(remove_text(&t, "2001:db8:ffff::", 48, F) == 0);
	CHECK(remove_text(&t, "fe80::", 10, B) == 0);
	CHECK(wg_allowedips_node_count(&t) == 0);
	CHECK(remove_text(&t, "fe80::", 10, B) == -ENOENT);
	wg_allowedips_clear(&t);
}

static void test_bad_arguments(void)
{
	struct wg_allowedips t;
	uint8_t addr[16] = { 10 };

	wg_allowedips_init(&t);
	CHECK(wg_allowedips_insert(&t, AF_UNIX, addr, 8, A) == -EINVAL);
	CHECK(wg_allowedips_insert(&t, AF_INET, addr, 33, A) == -EINVAL);
	CHECK(wg_allowedips_insert(&t, AF_INET6, addr, 129, A) == -EINVAL);
	CHECK(wg_allowedips_insert(&t, AF_INET, addr, 8, NULL) == -EINVAL);
	CHECK(wg_allowedips_node_count(&t) == 0);
	CHECK(wg_allowedips_insert(&t, AF_INET, addr, 32, A) == 0);
	CHECK(wg_allowedips_insert(&t, AF_INET6, addr, 128, A) == 0);
	CHECK(wg_allowedips_lookup(&t, AF_UNIX, addr) == NULL);
	CHECK(wg_allowedips_remove(&t, AF_UNIX, addr, 8, A) == -EINVAL);
	CHECK(wg_allowedips_remove(&t, AF_INET, addr, 33, A) == -EINVAL);
	CHECK(wg_allowedips_remove(&t, AF_INET6, addr, 129, A) == -EINVAL);
	/* A NULL owner never matches, not even a branch point. */
	CHECK(insert_text(&t, "10.0.0.0", 24, B) == 0);
	CHECK(insert_text(&t, "10.0.1.0", 24, B) == 0);	/* fork at /23 */
	CHECK(remove_text(&t, "10.0.0.0", 23, NULL) == -ENOENT);
	wg_allowedips_remove_by_owner(&t, NULL);
	CHECK(lookup_text(&t, "10.0.1.1") == B);
	CHECK(wg_allowedips_verify(&t));
	wg_allowedips_clear(&t);
	CHECK(wg_allowedips_node_count(&t) == 0);
}

static void test_remove_by_owner(void)
{
	struct wg_allowedips t;

	wg_allowedips_init(&t);
	insert_rows(&t, v4_prefixes, NROWS(v4_prefixes));
	insert_rows(&t, v6_prefixes, NROWS(v6_prefixes));
	wg_allowedips_remove_by_owner(&t, B);
	CHECK(wg_allowedips_verify(&t));
	CHECK(lookup_text(&t, "10.2.0.0") == A);
	CHECK(lookup_text(&t, "10.1.2.200") == D);
	CHECK(lookup_text(&t, "10.1.2.3") == E);
	CHECK(lookup_text(&t, "2001:db8:2::") == A);
	CHECK(lookup_text(&t, "fe80::1") == A);
	CHECK(lookup_text(&t, "2001:db8:1::") == C);
	wg_allowedips_remove_by_owner(&t, A);
	CHECK(lookup_text(&t, "10.2.0.0") == NULL);
	CHECK(lookup_text(&t, "::1") == NULL);
	CHECK(lookup_text(&t, "10.1.2.3") == E);
	wg_allowedips_remove_by_owner(&t, F);	/* one per family */
	wg_allowedips_remove_by_owner(&t, F);	/* and again: no-op */
	CHECK(lookup_text(&t, "192.168.1.1") == NULL);
	CHECK(wg_allowedips_verify(&t));
	wg_allowedips_remove_by_owner(&t, C);
	wg_allowedips_remove_by_owner(&t, D);
	CHECK(wg_allowedips_verify(&t));
	CHECK(lookup_text(&t, "10.1.2.3") == E);
	CHECK(lookup_text(&t, "2001:db8:1:2::3") == E);
	CHECK(lookup_text(&t, "2001:db8:1:2::4") == NULL);
	/* Two /32 and /128 remain, each alone in its trie. */
	CHECK(wg_allowedips_node_count(&t) == 2);
	wg_allowedips_remove_by_owner(&t, E);
	CHECK(wg_allowedips_node_count(&t) == 0);
	CHECK(t.root4 == NULL && t.root6 == NULL);
	wg_allowedips_clear(&t);
}

struct collect {
	char text[512];
	int calls, stop_after;
};

static int collect_cb(void *ctx, int family, const uint8_t *addr,
    uint8_t cidr)
{
	struct collect *c = ctx;
	char buf[INET6_ADDRSTRLEN];
	size_t used = strlen(c->text);

	inet_ntop(family, addr, buf, sizeof(buf));
	snprintf(c->text + used, sizeof(c->text) - used, "%s%s/%u",
	    used ? " " : "", buf, cidr);
	if (++c->calls == c->stop_after)
		return 7;
	return 0;
}

static void test_foreach(void)
{
	static const struct prefix_row rows[] = {
		{ "2001:db8::", 32, A },
		{ "10.1.2.3", 32, A },
		{ "10.0.0.0", 16, A },
		{ "10.0.0.0", 8, B },
		{ "192.168.77.1", 16, A },	/* host bits zeroed */
		{ "10.0.0.0", 8, A },		/* takes B's /8 */
		{ "::", 0, A },
		{ "10.0.0.0", 24, B },
		{ "0.0.0.0", 0, A },
		{ "2001:db8::1", 128, B },
		{ "fe80::", 64, A },
	};
	struct wg_allowedips t;
	struct collect c;

	wg_allowedips_init(&t);
	insert_rows(&t, rows, NROWS(rows));

	memset(&c, 0, sizeof(c));
	CHECK(wg_allowedips_foreach_by_owner(&t, A, collect_cb, &c) == 0);
	if (strcmp(c.text, "0.0.0.0/0 10.0.0.0/8 10.0.0.0/16 10.1.2.3/32 "
	    "192.168.0.0/16 ::/0 2001:db8::/32 fe80::/64") != 0)
		CHECK_FAIL("A's prefixes: %s", c.text);

	memset(&c, 0, sizeof(c));
	CHECK(wg_allowedips_foreach_by_owner(&t, B, collect_cb, &c) == 0);
	CHECK(strcmp(c.text, "10.0.0.0/24 2001:db8::1/128") == 0);

	memset(&c, 0, sizeof(c));
	CHECK(wg_allowedips_foreach_by_owner(&t, C, collect_cb, &c) == 0);
	CHECK(c.calls == 0);
	CHECK(wg_allowedips_foreach_by_owner(&t, NULL, collect_cb, &c) == 0);
	CHECK(c.calls == 0);

	/* A non-zero return stops the walk and is passed through. */
	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	CHECK(wg_allowedips_foreach_by_owner(&t, A, collect_cb, &c) == 7);
	CHECK(c.calls == 2);
	CHECK(strcmp(c.text, "0.0.0.0/0 10.0.0.0/8") == 0);
	memset(&c, 0, sizeof(c));
	c.stop_after = 6;
	CHECK(wg_allowedips_foreach_by_owner(&t, A, collect_cb, &c) == 7);
	CHECK(strcmp(c.text, "0.0.0.0/0 10.0.0.0/8 10.0.0.0/16 10.1.2.3/32 "
	    "192.168.0.0/16 ::/0") == 0);
	wg_allowedips_clear(&t);
}

/* ---- The naive twin and the randomized differential test ---- */

static uint64_t rng_state;

static uint64_t rng(void)
{
	return splitmix64(&rng_state);
}

static unsigned int rng_below(unsigned int n)
{
	return (unsigned int)(rng() % n);
}

struct naive_entry {
	int family;
	uint8_t addr[16];
	uint8_t cidr;
	void *owner;
};

struct naive {
	struct naive_entry e[4096];
	size_t n;
};

static unsigned int bits_of(int family)
{
	return family == AF_INET ? 32 : 128;
}

static void mask_bytes(uint8_t *addr, unsigned int bits, unsigned int cidr)
{
	unsigned int i;

	for (i = 0; i < bits / 8; i++) {
		if (cidr <= 8 * i)
			addr[i] = 0;
		else if (cidr < 8 * (i + 1))
			addr[i] &= (uint8_t)(0xff << (8 - (cidr - 8 * i)));
	}
}

static bool naive_covers(const struct naive_entry *e, int family,
    const uint8_t *addr)
{
	uint8_t masked[16];

	if (e->family != family)
		return false;
	memcpy(masked, addr, bits_of(family) / 8);
	mask_bytes(masked, bits_of(family), e->cidr);
	return memcmp(masked, e->addr, bits_of(family) / 8) == 0;
}

static struct naive_entry *naive_find(struct naive *nv, int family,
    const uint8_t *addr, unsigned int cidr)
{
	size_t i;

	for (i = 0; i < nv->n; i++)
		if (nv->e[i].family == family && nv->e[i].cidr == cidr &&
		    naive_covers(&nv->e[i], family, addr))
			return &nv->e[i];
	return NULL;
}

static void naive_insert(struct naive *nv, int family, const uint8_t *addr,
    unsigned int cidr, void *owner)
{
	struct naive_entry *e = naive_find(nv, family, addr, cidr);

	if (e == NULL) {
		if (nv->n == NROWS(nv->e))
			abort();	/* the test keeps the twin smaller */
		e = &nv->e[nv->n++];
		e->family = family;
		memset(e->addr, 0, sizeof(e->addr));
		memcpy(e->addr, addr, bits_of(family) / 8);
		mask_bytes(e->addr, bits_of(family), cidr);
		e->cidr = (uint8_t)cidr;
	}
	e->owner = owner;
}

static int naive_remove(struct naive *nv, int family, const uint8_t *addr,
    unsigned int cidr, void *owner)
{
	struct naive_entry *e = naive_find(nv, family, addr, cidr);

	if (e == NULL || e->owner != owner)
		return -ENOENT;
	*e = nv->e[--nv->n];
	return 0;
}

static void naive_remove_by_owner(struct naive *nv, void *owner)
{
	size_t i = 0;

	while (i < nv->n) {
		if (nv->e[i].owner == owner)
			nv->e[i] = nv->e[--nv->n];
		else
			i++;
	}
}

static void *naive_lookup(const struct naive *nv, int family,
    const uint8_t *addr)
{
	const struct naive_entry *best = NULL;
	size_t i;

	for (i = 0; i < nv->n; i++)
		if (naive_covers(&nv->e[i], family, addr) &&
		    (best == NULL || nv->e[i].cidr > best->cidr))
			best = &nv->e[i];
	return best ? best->owner : NULL;
}

/* The order foreach promises: IPv4 first, then by address, then shorter
 * prefix first. */
static int entry_order(const void *pa, const void *pb)
{
	const struct naive_entry *a = pa, *b = pb;
	int c;

	if (a->family != b->family)
		return a->family == AF_INET ? -1 : 1;
	c = memcmp(a->addr, b->addr, 16);
	if (c != 0)
		return c;
	return (int)a->cidr - (int)b->cidr;
}

struct entry_list {
	struct naive_entry e[4096];
	size_t n;
};

static int list_cb(void *ctx, int family, const uint8_t *addr, uint8_t cidr)
{
	struct entry_list *l = ctx;
	struct naive_entry *e;

	if (l->n == NROWS(l->e))
		return -1;
	e = &l->e[l->n++];
	memset(e, 0, sizeof(*e));
	e->family = family;
	memcpy(e->addr, addr, bits_of(family) / 8);
	e->cidr = cidr;
	return 0;
}

static void compare_foreach(const struct wg_allowedips *t,
    const struct naive *nv, void *owner)
{
	static struct entry_list got, want;
	size_t i;

	got.n = want.n = 0;
	CHECK(wg_allowedips_foreach_by_owner(t, owner, list_cb, &got) == 0);
	for (i = 0; i < nv->n; i++) {
		if (nv->e[i].owner != owner)
			continue;
		want.e[want.n] = nv->e[i];
		want.e[want.n].owner = NULL;
		want.n++;
	}
	qsort(want.e, want.n, sizeof(want.e[0]), entry_order);
	if (got.n != want.n) {
		CHECK_FAIL("foreach: %zu prefixes, twin has %zu", got.n,
		    want.n);
		return;
	}
	for (i = 0; i < got.n; i++) {
		if (entry_order(&got.e[i], &want.e[i]) != 0) {
			CHECK_FAIL("foreach: prefix %zu differs", i);
			return;
		}
	}
}

enum { HOT_ADDRS = 6, OWNERS = 24 };
static uint8_t hot[2][HOT_ADDRS][16];
static char owners[OWNERS];

/* Random addresses that share long prefixes with a few hot ones, so that
 * prefixes nest and fork at every depth. */
static void random_addr(int family, uint8_t addr[16])
{
	unsigned int bits = bits_of(family), keep = rng_below(bits + 1), i;
	const uint8_t *base = hot[family == AF_INET6][rng_below(HOT_ADDRS)];

	memset(addr, 0, 16);
	for (i = 0; i < bits / 8; i++) {
		uint8_t r = (uint8_t)rng();
		uint8_t m = 0;

		if (keep >= 8 * (i + 1))
			m = 0xff;
		else if (keep > 8 * i)
			m = (uint8_t)(0xff << (8 - (keep - 8 * i)));
		addr[i] = (uint8_t)((base[i] & m) | (r & ~m));
	}
}

static void check_one_lookup(const struct wg_allowedips *t,
    const struct naive *nv, int family, const uint8_t *addr, int *reported)
{
	void *got = wg_allowedips_lookup(t, family, addr);
	void *want = naive_lookup(nv, family, addr);

	if (got != want) {
		check_current_failed++;
		if ((*reported)++ < 5) {
			char buf[INET6_ADDRSTRLEN];

			inet_ntop(family, addr, buf, sizeof(buf));
			fprintf(stderr, "lookup %s: trie %p, twin %p\n", buf,
			    got, want);
		}
	}
}

static void test_random_differential(void)
{
	static struct naive nv;
	struct wg_allowedips t;
	uint8_t addr[16];
	unsigned long steps, lookups = 0, inserts = 0, removes = 0;
	int reported = 0, f, i;

	rng_state = 0x5eed0a11;
	for (f = 0; f < 2; f++)
		for (i = 0; i < HOT_ADDRS; i++)
			for (unsigned int j = 0; j < 16; j++)
				hot[f][i][j] = (uint8_t)rng();
	nv.n = 0;
	wg_allowedips_init(&t);

	for (steps = 0; steps < 200000; steps++) {
		int family = rng_below(2) ? AF_INET6 : AF_INET;
		unsigned int r = rng_below(100), cidr;
		void *owner = &owners[rng_below(OWNERS)];

		/* Keep the twin between a few hundred and ~1500 prefixes. */
		if (r < 40 && nv.n < 1500) {
			random_addr(family, addr);
			cidr = rng_below(bits_of(family) + 1);
			CHECK(wg_allowedips_insert(&t, family, addr,
			    (uint8_t)cidr, owner) == 0);
			naive_insert(&nv, family, addr, cidr, owner);
			inserts++;
		} else if (r < 60 && nv.n > 0) {
			const struct naive_entry *e = &nv.e[rng_below(
			    (unsigned int)nv.n)];
			int want, got;

			/* Mostly an existing prefix with a random host part,
			 * sometimes the wrong owner, sometimes a random one. */
			family = e->family;
			cidr = e->cidr;
			memcpy(addr, e->addr, 16);
			if (cidr < bits_of(family)) {
				unsigned int bit = cidr + rng_below(
				    bits_of(family) - cidr);

				addr[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
			}
			if (rng_below(4) != 0)
				owner = e->owner;
			if (rng_below(10) == 0) {
				random_addr(family, addr);
				cidr = rng_below(bits_of(family) + 1);
			}
			got = wg_allowedips_remove(&t, family, addr,
			    (uint8_t)cidr, owner);
			want = naive_remove(&nv, family, addr, cidr, owner);
			CHECK(got == want);
			removes += got == 0;
		} else if (r < 61) {
			wg_allowedips_remove_by_owner(&t, owner);
			naive_remove_by_owner(&nv, owner);
		} else {
			random_addr(family, addr);
			check_one_lookup(&t, &nv, family, addr, &reported);
			lookups++;
		}
		if (steps % 1000 == 0) {
			CHECK(wg_allowedips_verify(&t));
			CHECK(wg_allowedips_node_count(&t) <= 2 * nv.n);
			compare_foreach(&t, &nv, &owners[rng_below(OWNERS)]);
			/* Every stored prefix looks up to its owner unless a
			 * longer one covers the probe: the twin decides. */
			for (i = 0; i < 50 && nv.n > 0; i++) {
				const struct naive_entry *e =
				    &nv.e[rng_below((unsigned int)nv.n)];

				check_one_lookup(&t, &nv, e->family, e->addr,
				    &reported);
			}
		}
	}
	CHECK(wg_allowedips_verify(&t));
	for (i = 0; i < OWNERS; i++)
		compare_foreach(&t, &nv, &owners[i]);
	printf("     %lu inserts, %lu removes, %lu lookups, %zu prefixes "
	    "in %zu nodes\n", inserts, removes, lookups, nv.n,
	    wg_allowedips_node_count(&t));

	/* Remove everything, owner by owner: no node may remain. */
	for (i = 0; i < OWNERS; i++) {
		wg_allowedips_remove_by_owner(&t, &owners[i]);
		naive_remove_by_owner(&nv, &owners[i]);
		if (i % 5 == 0)
			CHECK(wg_allowedips_verify(&t));
	}
	CHECK(nv.n == 0);
	CHECK(wg_allowedips_node_count(&t) == 0);
	CHECK(t.root4 == NULL && t.root6 == NULL);
	wg_allowedips_clear(&t);
}

/* Remove-and-reinsert churn leaves exactly the nodes a fresh table holds:
 * memory does not creep. */
static void test_churn_does_not_grow(void)
{
	enum { N = 800 };
	static struct naive_entry set[N];
	struct wg_allowedips t, fresh;
	size_t i, round, nodes;

	rng_state = 0xc4u;
	wg_allowedips_init(&t);
	for (i = 0; i < N; i++) {
		set[i].family = rng_below(2) ? AF_INET6 : AF_INET;
		random_addr(set[i].family, set[i].addr);
		set[i].cidr = (uint8_t)(8 + rng_below(bits_of(set[i].family)
		    - 7));
		set[i].owner = &owners[i % OWNERS];
		CHECK(wg_allowedips_insert(&t, set[i].family, set[i].addr,
		    set[i].cidr, set[i].owner) == 0);
	}
	nodes = wg_allowedips_node_count(&t);
	for (round = 0; round < 50; round++) {
		for (i = round % 3; i < N; i += 3)
			(void)wg_allowedips_remove(&t, set[i].family,
			    set[i].addr, set[i].cidr, set[i].owner);
		for (i = round % 3; i < N; i += 3)
			CHECK(wg_allowedips_insert(&t, set[i].family,
			    set[i].addr, set[i].cidr, set[i].owner) == 0);
		wg_allowedips_remove_by_owner(&t, &owners[round % OWNERS]);
		for (i = round % OWNERS; i < N; i += OWNERS)
			CHECK(wg_allowedips_insert(&t, set[i].family,
			    set[i].addr, set[i].cidr, set[i].owner) == 0);
	}
	CHECK(wg_allowedips_verify(&t));
	CHECK(wg_allowedips_node_count(&t) == nodes);
	/* A table built once from the same prefixes has the same shape. */
	wg_allowedips_init(&fresh);
	for (i = N; i-- > 0;)
		CHECK(wg_allowedips_insert(&fresh, set[i].family, set[i].addr,
		    set[i].cidr, set[i].owner) == 0);
	CHECK(wg_allowedips_node_count(&fresh) == nodes);
	wg_allowedips_clear(&fresh);
	wg_allowedips_clear(&t);
	CHECK(wg_allowedips_node_count(&t) == 0);
}

static double ms_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) * 1e3 +
	    (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

/* 1,000 peers with four prefixes each, as a large wg config would have:
 * inserting them all and removing them peer by peer must be quick. */
static void test_thousand_peers(void)
{
	enum { PEERS = 1000 };
	static char peers[PEERS];
	struct wg_allowedips t;
	struct timespec start;
	double insert_ms, remove_ms;
	uint8_t a4[4], a6[16];
	unsigned int i;

	wg_allowedips_init(&t);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = 0; i < PEERS; i++) {
		uint8_t hi = (uint8_t)(i >> 8), lo = (uint8_t)i;

		/* 10.hi.lo.0/24 and 172.16.hi.lo/32 */
		a4[0] = 10; a4[1] = hi; a4[2] = lo; a4[3] = 0;
		CHECK(wg_allowedips_insert(&t, AF_INET, a4, 24, &peers[i]) == 0);
		a4[0] = 172; a4[1] = 16; a4[2] = hi; a4[3] = lo;
		CHECK(wg_allowedips_insert(&t, AF_INET, a4, 32, &peers[i]) == 0);
		/* fd00:0:hi:lo::/64 and fd00:1::hi:lo/128 */
		memset(a6, 0, sizeof(a6));
		a6[0] = 0xfd; a6[5] = hi; a6[7] = lo;
		CHECK(wg_allowedips_insert(&t, AF_INET6, a6, 64, &peers[i]) == 0);
		memset(a6, 0, sizeof(a6));
		a6[0] = 0xfd; a6[3] = 1; a6[13] = hi; a6[15] = lo;
		CHECK(wg_allowedips_insert(&t, AF_INET6, a6, 128, &peers[i]) == 0);
	}
	insert_ms = ms_since(&start);
	CHECK(insert_ms < 1000);
	CHECK(wg_allowedips_verify(&t));

	for (i = 0; i < PEERS; i++) {
		uint8_t hi = (uint8_t)(i >> 8), lo = (uint8_t)i;

		a4[0] = 10; a4[1] = hi; a4[2] = lo; a4[3] = 99;
		CHECK(wg_allowedips_lookup(&t, AF_INET, a4) == &peers[i]);
		memset(a6, 0, sizeof(a6));
		a6[0] = 0xfd; a6[5] = hi; a6[7] = lo; a6[15] = 0x42;
		CHECK(wg_allowedips_lookup(&t, AF_INET6, a6) == &peers[i]);
		memset(a6, 0, sizeof(a6));
		a6[0] = 0xfd; a6[3] = 1; a6[13] = hi; a6[15] = lo;
		CHECK(wg_allowedips_lookup(&t, AF_INET6, a6) == &peers[i]);
	}

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = 0; i < PEERS; i++)
		wg_allowedips_remove_by_owner(&t, &peers[i]);
	remove_ms = ms_since(&start);
	CHECK(remove_ms < 5000);
	CHECK(wg_allowedips_node_count(&t) == 0);
	printf("     %d peers x 4 prefixes: insert %.2f ms, remove_by_owner "
	    "for all %.2f ms\n", PEERS, insert_ms, remove_ms);
	wg_allowedips_clear(&t);
}

int main(void)
{
	RUN(test_overlapping_v4);
	RUN(test_overlapping_v6);
	RUN(test_both_families_any_order);
	RUN(test_no_default_route);
	RUN(test_host_bits_ignored);
	RUN(test_reinsert_moves_owner);
	RUN(test_remove);
	RUN(test_bad_arguments);
	RUN(test_remove_by_owner);
	RUN(test_foreach);
	RUN(test_random_differential);
	RUN(test_churn_does_not_grow);
	RUN(test_thousand_peers);
	return check_summary();
}
