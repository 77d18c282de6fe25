/* Anti-replay window: tables of (counter, accepted?) rows like the Linux and
 * OpenBSD counter self-tests, then random sequences against a naive twin (a
 * set of seen counters and the greatest one).
 *
 * The edge, from RFC 6479 and Linux's counter_validate(): with G the greatest
 * counter accepted, G - WG_REPLAY_WINDOW (G - 8128) is the oldest counter
 * still accepted and G - 8129 is too old. */
#include <stdint.h>

#include "testutil.h"
#include "replay.h"

#define W ((uint64_t)WG_REPLAY_WINDOW)
#define RING ((uint64_t)WG_REPLAY_BITS_TOTAL)
/* REJECT_AFTER_MESSAGES = 2^64 - 2^13 - 1 */
#define LIM (UINT64_MAX - 8192)

struct row {
	uint64_t counter;
	bool accept;
	const char *why;
};

/* Runs rows through one fresh window: check() must predict update(), and
 * an accepted counter is a replay right after. */
static void run_rows(const char *name, const struct row *rows, size_t n,
    uint64_t limit)
{
	struct wg_replay r;
	size_t i;

	wg_replay_init(&r);
	for (i = 0; i < n; i++) {
		bool pre = wg_replay_check(&r, rows[i].counter, limit);
		bool got = wg_replay_update(&r, rows[i].counter, limit);

		if (pre != rows[i].accept || got != rows[i].accept)
			CHECK_FAIL("%s row %zu (%llu, %s): check %d, update %d,"
			    " want %d", name, i + 1,
			    (unsigned long long)rows[i].counter, rows[i].why,
			    pre, got, rows[i].accept);
		if (wg_replay_check(&r, rows[i].counter, limit))
			CHECK_FAIL("%s row %zu: %llu still acceptable after "
			    "update", name, i + 1,
			    (unsigned long long)rows[i].counter);
	}
}

#define RUN_ROWS(rows, limit) \
	run_rows(#rows, rows, sizeof(rows) / sizeof(rows[0]), (limit))

/* G in the comments is the greatest counter accepted so far. */
static const struct row basic_rows[] = {
	{ 0, true, "counter 0 first" },
	{ 1, true, "in order" },
	{ 1, false, "duplicate" },
	{ 9, true, "skip ahead" },
	{ 8, true, "late, inside the window" },
	{ 7, true, "late, inside the window" },
	{ 7, false, "duplicate of a late one" },
	{ 0, false, "duplicate of the first" },
	{ W + 1, true, "G = 8129" },
	{ W, true, "late" },
	{ W, false, "duplicate" },
	{ W - 1, true, "late" },
	{ 2, true, "2 > G - W = 1: inside" },
	{ 2, false, "duplicate" },
	{ 1, false, "G - W exactly, but seen" },
	{ 3, true, "inside" },
	{ W + 17, true, "G = 8145" },
	{ 16, false, "G - W - 1: just too old" },
	{ 17, true, "G - W: the oldest accepted" },
	{ 18, true, "G - W + 1" },
	{ 4, false, "too old" },
	{ W + 17, false, "duplicate of G" },
	{ W + 16, true, "just below G" },
};

#define G4 (4 * (W + 1))
static const struct row edge_rows[] = {
	{ G4, true, "first packet far ahead: G = 4 * 8129" },
	{ G4 - W, true, "G - W: the oldest accepted" },
	{ 10, false, "far too old" },
	{ G4 - W - 1, false, "G - W - 1: just too old" },
	{ G4 - W - 2, false, "too old" },
	{ G4 - W + 1, true, "G - W + 1" },
	{ G4 - W, false, "duplicate at the edge" },
	{ G4 - 1, true, "just below G" },
	{ G4 + 1, true, "G + 1, window slides by one" },
	{ G4 - W, false, "now G - W - 1: too old" },
	{ G4 - W + 1, false, "now at the edge, but seen" },
	{ G4 - W + 2, true, "now G - W + 1" },
};

/* Bits are reused every RING counters; sliding must clear them. */
static const struct row jump_rows[] = {
	{ 5000, true, "G = 5000" },
	{ 5000 + W, true, "jump by exactly W" },
	{ 5000, false, "seen, and at the edge G - W" },
	{ 5001, true, "G - W + 1" },
	{ 5000 + RING, true, "shares 5000's bit: the slide cleared it" },
	{ 5001 + RING, true, "shares 5001's bit" },
	{ 5000 + RING, false, "duplicate" },
	{ 5000 + 3 * RING + 1, true, "jump by more than the whole ring" },
	{ 5000 + 2 * RING + 65, true, "G - W after the long jump" },
	{ 5000 + 2 * RING + 64, false, "G - W - 1" },
	{ 5000 + 2 * RING + 1, false, "RING below G: too old" },
	{ 5000 + 3 * RING, true, "just below G" },
	{ 5000 + 3 * RING + W + 1, true, "jump by W" },
	{ 5000 + 3 * RING + 1, false, "G - W, but seen (the old G)" },
	{ 5000 + 3 * RING + 2, true, "G - W + 1" },
	{ 5000 + 3 * RING, false, "G - W - 1" },
	{ 5000 + 3 * RING + W + 2, true, "in order again" },
	{ 5000 + 3 * RING + W + 3, true, "in order" },
	{ 5000 + 3 * RING + W + 67, true, "next word" },
	{ 5000 + 3 * RING + W + 66, true, "back a word" },
};

/* Filling every counter of the window in order, then out of order. */
static void test_full_window(void)
{
	struct wg_replay r;
	uint64_t c;
	bool ok = true;

	wg_replay_init(&r);
	for (c = 0; c < 3 * RING; c++)
		ok &= wg_replay_update(&r, c, LIM);
	CHECK(ok);
	for (c = 3 * RING - 1 - W; c < 3 * RING; c++)
		ok &= !wg_replay_check(&r, c, LIM) &&
		    !wg_replay_update(&r, c, LIM);
	CHECK(ok);
	/* Even counters first, then the odd ones, across a slide. */
	wg_replay_init(&r);
	for (c = 0; c < 2 * W; c += 2)
		ok &= wg_replay_update(&r, c, LIM);
	for (c = W + 1; c < 2 * W; c += 2)
		ok &= wg_replay_update(&r, c, LIM);
	CHECK(ok);
	CHECK(!wg_replay_update(&r, W - 3, LIM));	/* G = 2W - 1 */
	CHECK(wg_replay_update(&r, W - 1, LIM));	/* edge, odd: unseen */
	CHECK(!wg_replay_update(&r, W - 2, LIM));	/* too old */
}

static const struct row limit_rows[] = {
	{ LIM, false, "at REJECT_AFTER_MESSAGES" },
	{ LIM - 1, true, "the last counter allowed" },
	{ LIM, false, "at the limit" },
	{ LIM - 1, false, "duplicate" },
	{ LIM - 2, true, "late" },
	{ LIM + 1, false, "past the limit" },
	{ UINT64_MAX, false, "2^64 - 1" },
	{ LIM - 2, false, "duplicate" },
	{ LIM - 3, true, "late" },
	{ 0, false, "far too old" },
	{ LIM - 1 - W, true, "G - W" },
	{ LIM - 2 - W, false, "G - W - 1" },
};

static const struct row small_limit_rows[] = {
	{ 100, false, "at the limit" },
	{ 99, true, "the last allowed" },
	{ 100, false, "at the limit" },
	{ UINT64_MAX, false, "2^64 - 1" },
	{ 0, true, "inside" },
};

static const struct row no_limit_rows[] = {
	{ UINT64_MAX - 1, true, "limit 2^64 - 1 allows 2^64 - 2" },
	{ UINT64_MAX, false, "but not 2^64 - 1" },
	{ UINT64_MAX - 1 - W, true, "edge" },
	{ UINT64_MAX - 2 - W, false, "too old" },
};

static void test_tables(void)
{
	RUN_ROWS(basic_rows, LIM);
	RUN_ROWS(edge_rows, LIM);
	RUN_ROWS(jump_rows, LIM);
	RUN_ROWS(limit_rows, LIM);
	RUN_ROWS(small_limit_rows, 100);
	RUN_ROWS(no_limit_rows, UINT64_MAX);
}

static void test_zero_limit(void)
{
	struct wg_replay r;

	wg_replay_init(&r);
	CHECK(!wg_replay_check(&r, 0, 0));
	CHECK(!wg_replay_update(&r, 0, 0));
	CHECK(!wg_replay_update(&r, 5, 0));
	CHECK(wg_replay_update(&r, 0, 1));
}

/* A refused update changes nothing: the state is byte-identical. */
static void test_refusal_changes_nothing(void)
{
	struct wg_replay r, before;

	wg_replay_init(&r);
	CHECK(wg_replay_update(&r, 100000, LIM));
	CHECK(wg_replay_update(&r, 99999, LIM));
	before = r;
	CHECK(!wg_replay_update(&r, 100000, LIM));	/* replay */
	CHECK(!wg_replay_update(&r, 99999, LIM));	/* replay */
	CHECK(!wg_replay_update(&r, 100000 - W - 1, LIM));	/* too old */
	CHECK(!wg_replay_update(&r, 5, LIM));
	CHECK(!wg_replay_update(&r, LIM, LIM));		/* at the limit */
	CHECK(!wg_replay_update(&r, UINT64_MAX, LIM));
	CHECK(memcmp(&r, &before, sizeof(r)) == 0);
}

/* ---- Random sequences against the naive twin ---- */

static uint64_t rng_state;

static uint64_t rng(void)
{
	return splitmix64(&rng_state);
}

enum { SPAN_BITS = 22 };
#define SPAN ((uint64_t)1 << SPAN_BITS)

/* Every counter in [base, base + SPAN) has a seen flag. */
struct twin {
	uint64_t base, greatest;
	bool any;
	uint8_t *seen;
};

static bool twin_accept(const struct twin *t, uint64_t c, uint64_t limit)
{
	if (c >= limit || t->seen[c - t->base])
		return false;
	return !t->any || c >= t->greatest || t->greatest - c <= W;
}

static void twin_mark(struct twin *t, uint64_t c)
{
	t->seen[c - t->base] = 1;
	if (!t->any || c > t->greatest)
		t->greatest = c;
	t->any = true;
}

/* The next counter: mostly near the greatest, often around the window's
 * edge, sometimes far ahead.  Always inside the twin's span. */
static uint64_t next_counter(const struct twin *t)
{
	uint64_t g = t->any ? t->greatest : t->base, r = rng() % 100, c;
	int64_t d;

	if (r < 45)
		d = (int64_t)(rng() % 64);
	else if (r < 75)
		d = -(int64_t)(rng() % (W + 128));
	else if (r < 90)
		d = -(int64_t)W + (int64_t)(rng() % 7) - 3;
	else if (r < 98)
		d = (int64_t)(rng() % (2 * RING));
	else
		d = (int64_t)(rng() % (16 * RING));
	c = g + (uint64_t)d;
	if (d < 0 && (uint64_t)-d > g - t->base)
		c = t->base + rng() % 64;
	if (c - t->base >= SPAN)
		c = t->base + SPAN - 1 - rng() % 64;
	return c;
}

static void differential(uint64_t base, uint64_t limit, unsigned long steps)
{
	struct twin t = { .base = base };
	struct wg_replay r;
	unsigned long i, accepted = 0, mismatches = 0, restarts = 0;

	t.seen = calloc(SPAN, 1);
	if (t.seen == NULL) {
		CHECK_FAIL("out of memory");
		return;
	}
	wg_replay_init(&r);
	for (i = 0; i < steps; i++) {
		uint64_t c = next_counter(&t);
		bool want = twin_accept(&t, c, limit);
		bool pre = wg_replay_check(&r, c, limit);
		bool got = wg_replay_update(&r, c, limit);

		if (pre != want || got != want) {
			if (mismatches++ < 5)
				CHECK_FAIL("base %llu step %lu: counter %llu "
				    "(G %llu): check %d update %d twin %d",
				    (unsigned long long)base, i,
				    (unsigned long long)(c - base),
				    (unsigned long long)(t.greatest - base),
				    pre, got, want);
		}
		if (wg_replay_check(&r, c, limit) && mismatches++ < 5)
			CHECK_FAIL("counter %llu acceptable after update",
			    (unsigned long long)(c - base));
		if (want) {
			twin_mark(&t, c);
			accepted++;
		}
		/* Linger near the end of the span (and the limit) for a
		 * while, then start again from scratch. */
		if ((t.any && t.greatest - base > SPAN - 20 * RING &&
		    rng() % 2000 == 0) || rng() % 50000 == 0) {
			memset(t.seen, 0, SPAN);
			t.any = false;
			wg_replay_init(&r);
			restarts++;
		}
	}
	printf("     base %#llx limit %#llx: %lu counters, %lu accepted, "
	    "%lu restarts\n", (unsigned long long)base,
	    (unsigned long long)limit, steps, accepted, restarts);
	free(t.seen);
}

static void test_random_vs_twin(void)
{
	rng_state = 0x7e91a7;
	differential(0, LIM, 300000);
	/* The span ends at 2^64 - 1, past REJECT_AFTER_MESSAGES. */
	differential(0 - SPAN, LIM, 300000);
	/* A limit in the middle of the span. */
	differential(0, SPAN / 2, 300000);
}

int main(void)
{
	RUN(test_tables);
	RUN(test_full_window);
	RUN(test_zero_limit);
	RUN(test_refusal_changes_nothing);
	RUN(test_random_vs_twin);
	return check_summary();
}
