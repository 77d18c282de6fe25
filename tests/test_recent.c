/* The duplicate window: tables of (operation, expected) rows for the
 * window's edges, and a randomized run against a deliberately naive twin
 * that keeps every addition in one list. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "check.h"
#include "mqtt/recent.h"

enum op { ADD, LOOK };

struct row {
	enum op op;
	const char *node;
	int64_t ts;
	uint64_t digest;
	uint64_t now;
	int want;		/* ADD: return value; LOOK: verdict */
};

static void run_rows(const struct recent_limits *lim, const struct row *rows,
    size_t n)
{
	struct recent_table *t = recent_new(lim);
	size_t i;

	CHECK(t != NULL);
	if (t == NULL)
		return;
	for (i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		int got = r->op == ADD ?
		    recent_add(t, r->node, r->ts, r->digest, r->now) :
		    (int)recent_lookup(t, r->node, r->ts, r->digest, r->now);
		if (got != r->want)
			CHECK_FAIL("row %zu (%s %s ts %lld digest %llu at %llu): "
			    "got %d, want %d", i, r->op == ADD ? "add" : "lookup",
			    r->node, (long long)r->ts,
			    (unsigned long long)r->digest,
			    (unsigned long long)r->now, got, r->want);
	}
	recent_free(t);
}

#define NEW RECENT_NEW
#define DUP RECENT_DUPLICATE

/* Same node, timestamp and content within the window: a duplicate; any
 * of the three different, or too late: new. */
static void test_window(void)
{
	static const struct recent_limits lim = { 4, 3, 1000 };
	static const struct row rows[] = {
		{ LOOK, "a", 100, 7, 0, NEW },
		{ ADD, "a", 100, 7, 0, 0 },
		{ LOOK, "a", 100, 7, 0, DUP },
		{ LOOK, "a", 100, 7, 1000, DUP },	/* age == max: still */
		{ LOOK, "a", 100, 7, 1001, NEW },	/* forgotten by age */
		{ LOOK, "a", 101, 7, 10, NEW },		/* another timestamp */
		{ LOOK, "a", 100, 8, 10, NEW },		/* another content */
		{ LOOK, "b", 100, 7, 10, NEW },		/* another node */
		{ LOOK, "", 100, 7, 10, NEW },
		/* A clock stepped back: the entry is young, not ancient. */
		{ LOOK, "a", 100, 7, 0, DUP },
		/* Same timestamp, new content: both kept. */
		{ ADD, "a", 100, 8, 20, 0 },
		{ LOOK, "a", 100, 7, 20, DUP },
		{ LOOK, "a", 100, 8, 20, DUP },
		/* Count: the fourth addition pushes out the first. */
		{ ADD, "a", 200, 1, 30, 0 },
		{ LOOK, "a", 100, 7, 30, DUP },
		{ ADD, "a", 300, 1, 40, 0 },
		{ LOOK, "a", 100, 7, 40, NEW },
		{ LOOK, "a", 100, 8, 40, DUP },
		{ LOOK, "a", 200, 1, 40, DUP },
		{ LOOK, "a", 300, 1, 40, DUP },
		{ ADD, "a", 400, 1, 50, 0 },
		{ ADD, "a", 500, 1, 60, 0 },
		{ LOOK, "a", 100, 8, 60, NEW },
		{ LOOK, "a", 200, 1, 60, NEW },
		{ LOOK, "a", 300, 1, 60, DUP },
		{ LOOK, "a", 500, 1, 60, DUP },
		/* Bad node ids. */
		{ ADD, "", 1, 1, 70, -EINVAL },
		{ ADD, "x1234567890123456789012345678901234567890123456789"
		  "012345678901234", 1, 1, 70, -EINVAL },
		{ ADD, "x1234567890123456789012345678901234567890123456789"
		  "01234567890123", 1, 1, 70, 0 },
		{ LOOK, "x1234567890123456789012345678901234567890123456789"
		  "01234567890123", 1, 1, 70, DUP },
	};

	run_rows(&lim, rows, sizeof(rows) / sizeof(rows[0]));
}

/* Nodes: the least recently added-to is forgotten first; a lookup does
 * not count as use. */
static void test_nodes(void)
{
	static const struct recent_limits lim = { 3, 2, 100000 };
	static const struct row rows[] = {
		{ ADD, "n1", 1, 1, 0, 0 },
		{ ADD, "n2", 1, 1, 1, 0 },
		{ ADD, "n3", 1, 1, 2, 0 },
		{ ADD, "n1", 2, 1, 3, 0 },		/* n2 is now the oldest */
		{ LOOK, "n2", 1, 1, 4, DUP },		/* no effect on age */
		{ ADD, "n4", 1, 1, 5, 0 },		/* evicts n2 */
		{ LOOK, "n2", 1, 1, 6, NEW },
		{ LOOK, "n1", 1, 1, 6, DUP },
		{ LOOK, "n3", 1, 1, 6, DUP },
		{ LOOK, "n4", 1, 1, 6, DUP },
		{ ADD, "n2", 9, 9, 7, 0 },		/* evicts n3 */
		{ LOOK, "n3", 1, 1, 8, NEW },
		{ LOOK, "n2", 1, 1, 8, NEW },		/* came back empty */
		{ LOOK, "n2", 9, 9, 8, DUP },
		{ ADD, "n0", 1, 1, 9, 0 },		/* evicts n1 */
		{ LOOK, "n1", 2, 1, 9, NEW },
		{ LOOK, "n0", 1, 1, 9, DUP },
		{ LOOK, "n4", 1, 1, 9, DUP },
	};
	struct recent_table *t;

	run_rows(&lim, rows, sizeof(rows) / sizeof(rows[0]));

	t = recent_new(&lim);
	CHECK(t != NULL && recent_nodes(t) == 0 && recent_evicted(t) == 0);
	CHECK(recent_add(t, "a", 1, 1, 0) == 0);
	CHECK(recent_add(t, "b", 1, 1, 0) == 0);
	CHECK(recent_add(t, "a", 2, 1, 0) == 0);
	CHECK(recent_nodes(t) == 2 && recent_evicted(t) == 0);
	CHECK(recent_add(t, "c", 1, 1, 0) == 0);
	CHECK(recent_add(t, "d", 1, 1, 0) == 0);
	CHECK(recent_nodes(t) == 3 && recent_evicted(t) == 1);
	recent_free(t);
}

static void test_limits(void)
{
	struct recent_limits lim = { 0, 1, 1 };

	CHECK(recent_new(&lim) == NULL && errno == EINVAL);
	lim = (struct recent_limits){ 1, 0, 1 };
	CHECK(recent_new(&lim) == NULL && errno == EINVAL);
	lim = (struct recent_limits){ 1, 1, 0 };
	CHECK(recent_new(&lim) == NULL && errno == EINVAL);
	lim = (struct recent_limits){ SIZE_MAX / 2, 1, 1 };
	CHECK(recent_new(&lim) == NULL);
	lim = (struct recent_limits){ 1, SIZE_MAX / 2, 1 };
	CHECK(recent_new(&lim) == NULL && errno == EINVAL);
	recent_free(NULL);
}

/* The naive twin: every addition in one list, in order, with its node's
 * membership epoch; a node is forgotten by dropping its additions. */
enum { TWIN_MAX = 4000 };

struct twin_add {
	int node;
	int64_t ts;
	uint64_t digest, at;
	bool live;
};

struct twin {
	struct recent_limits lim;
	struct twin_add adds[TWIN_MAX];
	size_t n;
	uint64_t last[16];	/* add count at the node's last add; 0: unknown */
	uint64_t count;
};

static bool twin_known(const struct twin *w, int node)
{
	return w->last[node] != 0;
}

static int twin_lookup(const struct twin *w, int node, int64_t ts,
    uint64_t digest, uint64_t now)
{
	size_t i, newer = 0;

	/* Walk back through the node's live additions: only the last
	 * per_node count. */
	for (i = w->n; i-- > 0;) {
		const struct twin_add *a = &w->adds[i];
		if (!a->live || a->node != node)
			continue;
		if (newer++ >= w->lim.per_node)
			break;
		if (a->ts == ts && a->digest == digest &&
		    (now <= a->at || now - a->at <= w->lim.max_age_ms))
			return DUP;
	}
	return NEW;
}

static void twin_add(struct twin *w, int node, int64_t ts, uint64_t digest,
    uint64_t now)
{
	size_t i, known = 0;
	int k, victim = -1;

	if (!twin_known(w, node)) {
		for (k = 0; k < 16; k++) {
			if (!twin_known(w, k))
				continue;
			known++;
			if (victim < 0 || w->last[k] < w->last[victim])
				victim = k;
		}
		if (known == w->lim.max_nodes) {
			for (i = 0; i < w->n; i++)
				if (w->adds[i].node == victim)
					w->adds[i].live = false;
			w->last[victim] = 0;
		}
	}
	w->last[node] = ++w->count;
	w->adds[w->n++] = (struct twin_add){ node, ts, digest, now, true };
}

static void test_against_twin(void)
{
	static const struct recent_limits lims[] = {
		{ 1, 1, 50 }, { 3, 4, 40 }, { 5, 2, 1000000 }, { 16, 8, 30 },
		{ 4, 16, 200 },
	};
	static struct twin w;
	unsigned int x = 19;
	size_t l, i, mismatches = 0, dups = 0;

	for (l = 0; l < sizeof(lims) / sizeof(lims[0]); l++) {
		struct recent_table *t = recent_new(&lims[l]);
		uint64_t now = 1000;

		CHECK(t != NULL);
		if (t == NULL)
			return;
		memset(&w, 0, sizeof(w));
		w.lim = lims[l];
		for (i = 0; i < TWIN_MAX; i++) {
			char name[8];
			int node, want, got;
			int64_t ts;
			uint64_t digest;

			x ^= x << 13; x ^= x >> 17; x ^= x << 5;
			node = (int)(x % 7) + (int)(i / 1000) * 3;
			ts = (int64_t)(x >> 8) % 6;
			digest = (x >> 16) % 3;
			/* Mostly forward, now and then back. */
			now += (x >> 20) % 5 == 0 ? (uint64_t)-3 : (x >> 24) % 9;
			snprintf(name, sizeof(name), "n%d", node);
			want = twin_lookup(&w, node, ts, digest, now);
			got = (int)recent_lookup(t, name, ts, digest, now);
			if (got != want && mismatches++ < 5)
				CHECK_FAIL("limits %zu step %zu: %s ts %lld "
				    "digest %llu: got %d, want %d", l, i, name,
				    (long long)ts, (unsigned long long)digest,
				    got, want);
			dups += got == DUP;
			if (got == NEW) {
				CHECK(recent_add(t, name, ts, digest, now) == 0);
				twin_add(&w, node, ts, digest, now);
			}
		}
		CHECK(recent_nodes(t) <= lims[l].max_nodes);
		recent_free(t);
	}
	/* Both verdicts, often: the run tests something. */
	CHECK(dups > 1000 && dups < 4 * TWIN_MAX);
}

int main(void)
{
	RUN(test_window);
	RUN(test_nodes);
	RUN(test_limits);
	RUN(test_against_twin);
	return check_summary();
}
