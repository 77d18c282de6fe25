/* The duplicate/gap table (src/hub/dedup.c): tables of (seq in, verdict,
 * effect, gap) rows, the per-node bounds (boots retired, a node flooding
 * boots, the node limit), and a randomized differential test against a naive
 * twin (a plain array of seen flags). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "hub/dedup.h"

struct row {
	uint64_t seq;
	enum dedup_verdict verdict;
	enum dedup_effect effect;	/* when NEW */
	uint64_t gfrom, gto;		/* expected *gap for gap effects */
	uint64_t missing;		/* after the row */
};

/* Runs rows on one stream ("n1", boot 1): lookup, then add when new. */
static void run_rows(uint64_t origin, const struct row *rows, size_t n)
{
	struct dedup_table *t = dedup_new(origin);
	size_t i;

	CHECK(t != NULL);
	for (i = 0; t && i < n; i++) {
		const struct row *w = &rows[i];
		enum dedup_verdict v = dedup_lookup(t, "n1", 1, w->seq);
		enum dedup_effect e = DEDUP_ALREADY;
		struct dedup_gap g = { 0, 0 };

		if (v != w->verdict)
			CHECK_FAIL("row %zu (seq %llu): verdict %d, want %d", i,
			    (unsigned long long)w->seq, v, w->verdict);
		if (v == DEDUP_NEW) {
			CHECK(dedup_add(t, "n1", 1, w->seq, false, &e, &g) == 0);
			if (e != w->effect)
				CHECK_FAIL("row %zu (seq %llu): effect %d, want %d",
				    i, (unsigned long long)w->seq, e, w->effect);
			if ((e == DEDUP_OPENED_GAP || e == DEDUP_FILLED) &&
			    (g.from != w->gfrom || g.to != w->gto))
				CHECK_FAIL("row %zu: gap %llu..%llu, want %llu..%llu",
				    i, (unsigned long long)g.from,
				    (unsigned long long)g.to,
				    (unsigned long long)w->gfrom,
				    (unsigned long long)w->gto);
		}
		if (dedup_missing(dedup_at(t, 0)) != w->missing)
			CHECK_FAIL("row %zu: missing %llu, want %llu", i,
			    (unsigned long long)dedup_missing(dedup_at(t, 0)),
			    (unsigned long long)w->missing);
	}
	dedup_free(t);
}

#define N DEDUP_NEW
#define D DEDUP_DUPLICATE

static void test_in_order(void)
{
	static const struct row rows[] = {
		{ 1, N, DEDUP_STARTED, 0, 0, 0 },
		{ 2, N, DEDUP_IN_ORDER, 0, 0, 0 },
		{ 3, N, DEDUP_IN_ORDER, 0, 0, 0 },
		{ 3, D, 0, 0, 0, 0 },
		{ 1, D, 0, 0, 0, 0 },
		{ 4, N, DEDUP_IN_ORDER, 0, 0, 0 },
	};
	run_rows(1, rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_gap_then_fill(void)
{
	static const struct row rows[] = {
		{ 1, N, DEDUP_STARTED, 0, 0, 0 },
		{ 5, N, DEDUP_OPENED_GAP, 2, 4, 3 },
		{ 5, D, 0, 0, 0, 3 },
		{ 3, N, DEDUP_FILLED, 2, 2, 2 },	/* split: 2..2, 4..4 */
		{ 3, D, 0, 0, 0, 2 },
		{ 2, N, DEDUP_FILLED, 1, 0, 1 },	/* closed */
		{ 9, N, DEDUP_OPENED_GAP, 6, 8, 4 },
		{ 4, N, DEDUP_FILLED, 1, 0, 3 },
		{ 6, N, DEDUP_FILLED, 7, 8, 2 },
		{ 8, N, DEDUP_FILLED, 7, 7, 1 },
		{ 7, N, DEDUP_FILLED, 1, 0, 0 },
		{ 7, D, 0, 0, 0, 0 },
		{ 10, N, DEDUP_IN_ORDER, 0, 0, 0 },
	};
	run_rows(1, rows, sizeof(rows) / sizeof(rows[0]));
}

/* origin 1: a stream first seen at 4 is missing 1..3. */
static void test_origin(void)
{
	static const struct row rows[] = {
		{ 4, N, DEDUP_OPENED_GAP, 1, 3, 3 },
		{ 1, N, DEDUP_FILLED, 2, 3, 2 },
		{ 3, N, DEDUP_FILLED, 2, 2, 1 },
		{ 2, N, DEDUP_FILLED, 1, 0, 0 },
		{ 2, D, 0, 0, 0, 0 },
	};
	/* origin 0: where it was first seen; earlier ones open a gap below. */
	static const struct row rows0[] = {
		{ 40, N, DEDUP_STARTED, 0, 0, 0 },
		{ 41, N, DEDUP_IN_ORDER, 0, 0, 0 },
		{ 39, N, DEDUP_IN_ORDER, 0, 0, 0 },
		{ 30, N, DEDUP_OPENED_GAP, 31, 38, 8 },
		{ 35, N, DEDUP_FILLED, 31, 34, 7 },
		{ 40, D, 0, 0, 0, 7 },
	};
	run_rows(1, rows, sizeof(rows) / sizeof(rows[0]));
	run_rows(0, rows0, sizeof(rows0) / sizeof(rows0[0]));
}

/* A new boot_id is a new stream; the old boot's gap stays reported. */
static void test_new_boot(void)
{
	struct dedup_table *t = dedup_new(1);
	enum dedup_effect e;
	struct dedup_gap g;

	CHECK(dedup_add(t, "n1", 1, 1, false, &e, &g) == 0);
	CHECK(dedup_add(t, "n1", 1, 3, false, &e, &g) == 0);
	CHECK(e == DEDUP_OPENED_GAP && g.from == 2 && g.to == 2);
	CHECK(dedup_lookup(t, "n1", 2, 1) == DEDUP_NEW);
	CHECK(dedup_add(t, "n1", 2, 1, false, &e, &g) == 0);
	CHECK(e == DEDUP_STARTED);
	CHECK(dedup_lookup(t, "n1", 2, 1) == DEDUP_DUPLICATE);
	CHECK(dedup_lookup(t, "n1", 1, 1) == DEDUP_DUPLICATE);
	CHECK(dedup_lookup(t, "n1", 1, 2) == DEDUP_NEW);
	CHECK(dedup_count(t) == 2);
	CHECK(dedup_at(t, 0)->boot_id == 1 && dedup_missing(dedup_at(t, 0)) == 1);
	CHECK(dedup_at(t, 1)->boot_id == 2 && dedup_missing(dedup_at(t, 1)) == 0);
	CHECK(dedup_at(t, 0)->duplicates == 1 && dedup_at(t, 1)->duplicates == 1);
	CHECK(dedup_at(t, 2) == NULL);
	dedup_free(t);
}

static void test_many_nodes(void)
{
	struct dedup_table *t = dedup_new(1);
	enum dedup_effect e;
	char id[32];
	size_t i, k;

	for (k = 1; k <= 3; k++)
		for (i = 0; i < 500; i++) {
			snprintf(id, sizeof(id), "node-%03zu", (i * 7919) % 500);
			CHECK(dedup_add(t, id, 1, k, false, &e, NULL) == 0);
			CHECK(e == (k == 1 ? DEDUP_STARTED : DEDUP_IN_ORDER));
		}
	CHECK(dedup_count(t) == 500);
	for (i = 1; i < dedup_count(t); i++)
		CHECK(strcmp(dedup_at(t, i - 1)->node_id,
		    dedup_at(t, i)->node_id) < 0);
	for (i = 0; i < dedup_count(t); i++)
		CHECK(dedup_at(t, i)->logged == 3 && dedup_at(t, i)->hi == 3);
	CHECK(dedup_lookup(t, "node-123", 1, 2) == DEDUP_DUPLICATE);
	CHECK(dedup_lookup(t, "node-123", 1, 4) == DEDUP_NEW);
	dedup_free(t);
}

static void test_bad_input(void)
{
	struct dedup_table *t = dedup_new(1);
	enum dedup_effect e;
	char longid[DEDUP_NODE_ID_MAX + 2];

	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	CHECK(dedup_add(t, "", 1, 1, false, &e, NULL) == -EINVAL);
	CHECK(dedup_add(t, longid, 1, 1, false, &e, NULL) == -EINVAL);
	CHECK(dedup_lookup(t, longid, 1, 1) == DEDUP_NEW);
	longid[DEDUP_NODE_ID_MAX] = '\0';
	CHECK(dedup_add(t, longid, 1, 1, false, &e, NULL) == 0);
	/* Extremes do not wrap. */
	CHECK(dedup_add(t, "x", UINT64_MAX, UINT64_MAX, false, &e, NULL) == 0);
	CHECK(dedup_lookup(t, "x", UINT64_MAX, 0) == DEDUP_NEW);
	CHECK(dedup_add(t, "x", UINT64_MAX, 0, false, &e, NULL) == 0);
	CHECK(dedup_lookup(t, "x", UINT64_MAX, 0) == DEDUP_DUPLICATE);
	CHECK(dedup_lookup(t, "x", UINT64_MAX, 5) == DEDUP_NEW);
	dedup_free(t);
}

/* Every other seq first, then the rest: more holes than DEDUP_MAX_GAPS. */
static void test_gap_limit(void)
{
	struct dedup_table *t = dedup_new(1);
	enum dedup_effect e;
	uint64_t s, n = 2 * (uint64_t)DEDUP_MAX_GAPS + 10;
	const struct dedup_stream *st;

	for (s = 1; s <= n; s += 2)
		CHECK(dedup_add(t, "n", 1, s, false, &e, NULL) == 0);
	st = dedup_at(t, 0);
	CHECK(st->ngaps == DEDUP_MAX_GAPS);
	/* Holes 2, 4, ..., n - 2: the four lowest given up. */
	CHECK(st->gaps_forgotten == 4);
	CHECK(dedup_missing(st) == DEDUP_MAX_GAPS);
	/* The forgotten lowest holes read as seen; the rest are open. */
	CHECK(dedup_lookup(t, "n", 1, 8) == DEDUP_DUPLICATE);
	CHECK(dedup_lookup(t, "n", 1, 10) == DEDUP_NEW);
	CHECK(dedup_lookup(t, "n", 1, n - 2) == DEDUP_NEW);
	dedup_free(t);
}

/* One node opening boot after boot keeps DEDUP_BOOTS_PER_NODE streams:
 * closed boots retire first, their readings are then refused, and another
 * node still gets room and its duplicates found. */
static void test_boots_retire(void)
{
	static const struct {
		uint64_t boot, seq;
		enum dedup_verdict verdict;
	} rows[] = {
		/* boots 1..8 held (boot 2 with a gap), boot 9 retires boot 1
		 * (the lowest closed), boot 10 boot 3 (2 has a gap). */
		{ 9, 1, N }, { 10, 1, N },
		{ 1, 1, DEDUP_RETIRED }, { 1, 7, DEDUP_RETIRED },
		{ 3, 1, DEDUP_RETIRED },
		{ 2, 3, D }, { 2, 2, N },	/* kept, 1 still open */
		{ 4, 1, D }, { 10, 1, D }, { 10, 2, N },
		{ 11, 1, N },			/* retires boot 4 */
		{ 4, 1, DEDUP_RETIRED },
	};
	struct dedup_table *t = dedup_new(1);
	const struct dedup_node *nd;
	enum dedup_effect e;
	struct dedup_gap g;
	uint64_t b;
	size_t i;

	for (b = 1; b <= DEDUP_BOOTS_PER_NODE; b++)
		CHECK(dedup_add(t, "n", b, b == 2 ? 3 : 1, false, &e, &g) == 0);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum dedup_verdict v = dedup_lookup(t, "n", rows[i].boot,
		    rows[i].seq);

		if (v != rows[i].verdict)
			CHECK_FAIL("row %zu (boot %llu seq %llu): verdict %d, "
			    "want %d", i, (unsigned long long)rows[i].boot,
			    (unsigned long long)rows[i].seq, v, rows[i].verdict);
		if (v == N)
			CHECK(dedup_add(t, "n", rows[i].boot, rows[i].seq,
			    false, &e, &g) == 0);
	}
	nd = dedup_node_find(t, "n");
	CHECK(nd != NULL && nd->nboots == DEDUP_BOOTS_PER_NODE);
	CHECK(nd && nd->retired == 3 && nd->retired_hi == 4 &&
	    nd->retired_logged == 3 && nd->refused == 4);
	CHECK(dedup_count(t) == DEDUP_BOOTS_PER_NODE);
	CHECK(dedup_at(t, 0)->boot_id == 2 && dedup_missing(dedup_at(t, 0)) == 1);
	/* A retired boot found in the log again changes nothing. */
	CHECK(dedup_add(t, "n", 1, 2, true, &e, &g) == 0 && e == DEDUP_ALREADY);
	dedup_free(t);
}

/* When every held boot has gaps, the lowest goes, its gaps given up; an
 * older boot than all held ones is refused without retiring anything. */
static void test_boots_all_open(void)
{
	struct dedup_table *t = dedup_new(1);
	const struct dedup_node *nd;
	enum dedup_effect e;
	uint64_t b;

	for (b = 10; b < 10 + DEDUP_BOOTS_PER_NODE; b++)
		CHECK(dedup_add(t, "n", b, 5, false, &e, NULL) == 0 &&
		    e == DEDUP_OPENED_GAP);
	CHECK(dedup_lookup(t, "n", 9, 1) == DEDUP_RETIRED);
	CHECK(dedup_lookup(t, "n", 30, 5) == N);
	CHECK(dedup_add(t, "n", 30, 5, false, &e, NULL) == 0);
	nd = dedup_node_find(t, "n");
	CHECK(nd->retired == 1 && nd->retired_hi == 10 &&
	    nd->retired_missing == 4 && nd->nboots == DEDUP_BOOTS_PER_NODE);
	CHECK(dedup_lookup(t, "n", 10, 5) == DEDUP_RETIRED);
	CHECK(dedup_lookup(t, "n", 11, 5) == D);
	CHECK(dedup_lookup(t, "n", 11, 1) == N);
	dedup_free(t);
}

/* The attack of a node with 65,546 boots: its room stays its own, the
 * memory is bounded, and a node seen only afterwards is not refused. */
static void test_flood(void)
{
	struct dedup_table *t = dedup_new(1);
	enum dedup_effect e;
	uint64_t b;
	int bad = 0;

	for (b = 1; b <= 65546 && bad < 5; b++) {
		if (dedup_lookup(t, "attacker", b, 1) != N ||
		    dedup_add(t, "attacker", b, 1, false, &e, NULL) != 0) {
			CHECK_FAIL("attacker boot %llu", (unsigned long long)b);
			bad++;
		}
	}
	CHECK(dedup_count(t) == DEDUP_BOOTS_PER_NODE);
	CHECK(dedup_node_find(t, "attacker")->retired ==
	    65546 - DEDUP_BOOTS_PER_NODE);
	CHECK(dedup_lookup(t, "victim", 1, 1) == N);
	CHECK(dedup_add(t, "victim", 1, 1, false, &e, NULL) == 0);
	CHECK(dedup_lookup(t, "victim", 1, 1) == D);
	CHECK(dedup_lookup(t, "victim", 1, 1) == D);
	dedup_free(t);
}

/* The node table is bounded: a node beyond it is answered DEDUP_FULL
 * (refused before the log), a node already held is not. */
static void test_node_limit(void)
{
	struct dedup_table *t = dedup_new(1);
	enum dedup_effect e;
	char id[32];
	int i;

	for (i = 0; i < DEDUP_MAX_NODES; i++) {
		snprintf(id, sizeof(id), "n%05d", i);
		if (dedup_lookup(t, id, 1, 1) != N ||
		    dedup_add(t, id, 1, 1, false, &e, NULL) != 0) {
			CHECK_FAIL("node %d", i);
			break;
		}
	}
	CHECK(dedup_lookup(t, "z-late", 1, 1) == DEDUP_FULL);
	CHECK(dedup_add(t, "z-late", 1, 1, false, &e, NULL) == -ENOSPC);
	CHECK(dedup_lookup(t, "n00007", 1, 1) == D);
	CHECK(dedup_lookup(t, "n00007", 2, 1) == N);
	CHECK(dedup_add(t, "n00007", 2, 1, false, &e, NULL) == 0);
	CHECK(dedup_node_count(t) == DEDUP_MAX_NODES);
	dedup_free(t);
}

/* Random streams against a naive array of flags. */
static void test_differential(void)
{
	enum { NODES = 3, BOOTS = 2, SEQS = 200, OPS = 20000 };
	static bool naive[NODES][BOOTS][SEQS + 1];
	static const char *ids[NODES] = { "b", "a", "c" };
	struct dedup_table *t = dedup_new(1);
	uint32_t x = 12345;
	int op, bad = 0;

	memset(naive, 0, sizeof(naive));
	for (op = 0; op < OPS && bad < 5; op++) {
		unsigned n, b, s;
		enum dedup_verdict v;
		enum dedup_effect e;

		x ^= x << 13; x ^= x >> 17; x ^= x << 5;
		n = x % NODES;
		b = (x >> 8) % BOOTS;
		/* Mostly near the front, so duplicates and fills happen. */
		s = 1 + (x >> 16) % (op < OPS / 2 ? SEQS / 4 : SEQS);
		v = dedup_lookup(t, ids[n], b + 1, s);
		if ((v == DEDUP_DUPLICATE) != naive[n][b][s]) {
			CHECK_FAIL("op %d: %s/%u/%u verdict %d", op, ids[n],
			    b + 1, s, v);
			bad++;
		}
		if (v == DEDUP_NEW) {
			CHECK(dedup_add(t, ids[n], b + 1, s, false, &e, NULL) == 0);
			naive[n][b][s] = true;
		}
	}
	/* Missing = holes below the highest seen, from 1. */
	for (size_t i = 0; i < dedup_count(t); i++) {
		const struct dedup_stream *st = dedup_at(t, i);
		unsigned n, b = (unsigned)st->boot_id - 1, s, holes = 0;

		for (n = 0; strcmp(ids[n], st->node_id) != 0; n++)
			;
		for (s = 1; s <= st->hi; s++)
			holes += !naive[n][b][s];
		CHECK(dedup_missing(st) == holes);
	}
	dedup_free(t);
}

int main(void)
{
	RUN(test_in_order);
	RUN(test_gap_then_fill);
	RUN(test_origin);
	RUN(test_new_boot);
	RUN(test_many_nodes);
	RUN(test_bad_input);
	RUN(test_gap_limit);
	RUN(test_boots_retire);
	RUN(test_boots_all_open);
	RUN(test_flood);
	RUN(test_node_limit);
	RUN(test_differential);
	return check_summary();
}
