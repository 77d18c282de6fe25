/* The login rate limit; see ratelimit.h.  Each entry keeps the times of
 * its last max_failures failures in a ring: the login is refused while
 * the ring is full and its oldest time is still inside the window. */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard/ratelimit.h"

struct entry {
	bool used;
	char key[LOGINLIMIT_KEY_MAX + 1];
	int64_t times[LOGINLIMIT_FAILURES_MAX];
	unsigned n, next;		/* failures in the ring, next slot */
	int64_t last_use;
};

struct table {
	struct entry *e;
	size_t slots;
};

struct loginlimit {
	pthread_mutex_t lock;
	struct table addrs, accounts;
	unsigned max;
	int64_t window;
	struct loginlimit_stats st;
};

struct loginlimit *loginlimit_new(size_t slots, unsigned max_failures,
    int64_t window_ms)
{
	struct loginlimit *l = calloc(1, sizeof(*l));

	if (l == NULL || max_failures == 0 ||
	    max_failures > LOGINLIMIT_FAILURES_MAX)
		goto fail;
	l->addrs.e = calloc(slots, sizeof(struct entry));
	l->accounts.e = calloc(slots, sizeof(struct entry));
	if (l->addrs.e == NULL || l->accounts.e == NULL)
		goto fail;
	l->addrs.slots = l->accounts.slots = slots;
	l->max = max_failures;
	l->window = window_ms;
	pthread_mutex_init(&l->lock, NULL);
	return l;
fail:
	if (l) {
		free(l->addrs.e);
		free(l->accounts.e);
	}
	free(l);
	return NULL;
}

void loginlimit_free(struct loginlimit *l)
{
	if (l == NULL)
		return;
	pthread_mutex_destroy(&l->lock);
	free(l->addrs.e);
	free(l->accounts.e);
	free(l);
}

static struct entry *lookup(struct table *t, const char *key)
{
	size_t i;

	for (i = 0; i < t->slots; i++)
		if (t->e[i].used && strncmp(t->e[i].key, key,
		    LOGINLIMIT_KEY_MAX) == 0)
			return &t->e[i];
	return NULL;
}

/* The entry for key, made when missing (a free slot or the least
 * recently used one, counted as evicted). */
static struct entry *lookup_add(struct loginlimit *l, struct table *t,
    const char *key, int64_t now)
{
	struct entry *e = lookup(t, key), *victim = NULL;
	size_t i;

	if (e)
		return e;
	for (i = 0; i < t->slots; i++) {
		if (!t->e[i].used) {
			victim = &t->e[i];
			break;
		}
		if (victim == NULL || t->e[i].last_use < victim->last_use)
			victim = &t->e[i];
	}
	if (victim == NULL)
		return NULL;
	if (victim->used)
		l->st.evicted++;
	memset(victim, 0, sizeof(*victim));
	victim->used = true;
	strncpy(victim->key, key, LOGINLIMIT_KEY_MAX);
	victim->last_use = now;
	return victim;
}

/* Milliseconds until e lets a login through; 0 now. */
static int64_t wait_ms(const struct loginlimit *l, const struct entry *e,
    int64_t now)
{
	int64_t oldest, left;

	if (e == NULL || e->n < l->max)
		return 0;
	oldest = e->times[e->next];	/* the ring is full: next is oldest */
	left = oldest + l->window - now;
	return left > 0 ? left : 0;
}

unsigned loginlimit_check(struct loginlimit *l, const char *addr,
    const char *account, int64_t now_ms)
{
	int64_t a, b, w;

	pthread_mutex_lock(&l->lock);
	a = wait_ms(l, lookup(&l->addrs, addr), now_ms);
	b = wait_ms(l, lookup(&l->accounts, account), now_ms);
	w = a > b ? a : b;
	if (w > 0)
		l->st.refused++;
	pthread_mutex_unlock(&l->lock);
	return w > 0 ? (unsigned)((w + 999) / 1000) : 0;
}

static void record(struct loginlimit *l, struct table *t, const char *key,
    int64_t now)
{
	struct entry *e = lookup_add(l, t, key, now);

	if (e == NULL)
		return;
	e->times[e->next] = now;
	e->next = (e->next + 1) % l->max;
	if (e->n < l->max)
		e->n++;
	e->last_use = now;
}

void loginlimit_failed(struct loginlimit *l, const char *addr,
    const char *account, int64_t now_ms)
{
	pthread_mutex_lock(&l->lock);
	l->st.failures++;
	record(l, &l->addrs, addr, now_ms);
	record(l, &l->accounts, account, now_ms);
	pthread_mutex_unlock(&l->lock);
}

void loginlimit_succeeded(struct loginlimit *l, const char *account)
{
	struct entry *e;

	pthread_mutex_lock(&l->lock);
	e = lookup(&l->accounts, account);
	if (e)
		memset(e, 0, sizeof(*e));
	pthread_mutex_unlock(&l->lock);
}

void loginlimit_stats(struct loginlimit *l, struct loginlimit_stats *st)
{
	pthread_mutex_lock(&l->lock);
	*st = l->st;
	pthread_mutex_unlock(&l->lock);
}
