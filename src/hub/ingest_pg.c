/* The historian's PostgreSQL follower (--pg): a thread of its own that
 * reads the production log, as far as it is synced, into PostgreSQL
 * (store_pg.h) with the store's catch-up (store_catch_up_to): the same
 * code that brings the SQLite store level at start.  The loop only says
 * how far the log is synced; it never waits for PostgreSQL, so a server
 * that is down, restarting or slow never holds up the log.  A failed
 * batch is rolled back whole, the connection dropped and tried again
 * with a back-off (1 s doubling to 30 s), and the plant's position,
 * committed with its rows, says where to read on from: nothing lost,
 * nothing twice. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hub/ingest.h"
#include "hub/ingest_internal.h"
#include "hub/store_pg.h"

enum {
	BACKOFF_MIN_S = 1,
	BACKOFF_MAX_S = 30,
	STOP_WAIT_S = 10,	/* at exit, for the last batch */
};

struct ingest_pg {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* Under mu: */
	bool stop, kick, retain, done;
	struct store_position limit;	/* the log, synced this far */
	struct store_counters n;	/* as of the last catch-up */
	/* The thread's own: */
	const struct ingest_config *cfg;
	const char **paths;
	int npaths;
	struct store *s;
	bool up, said_down;
	int backoff;
	time_t next_try;
};

static void wait_for_work(struct ingest_pg *pg, struct store_position *limit,
    bool *stop, bool *retain)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 1;
	pthread_mutex_lock(&pg->mu);
	while (!pg->stop && !pg->kick && !pg->retain &&
	    pthread_cond_timedwait(&pg->cv, &pg->mu, &until) == 0)
		;
	pg->kick = false;
	*limit = pg->limit;
	*stop = pg->stop;
	*retain = pg->retain;
	pg->retain = false;
	pthread_mutex_unlock(&pg->mu);
}

static void lost(struct ingest_pg *pg, const char *why)
{
	if (pg->up || !pg->said_down)
		view_warn("postgresql (plant %s): %s; logging goes on, "
		    "PostgreSQL is caught up from the log when it is back "
		    "(retrying every %d to %d s)", pg->cfg->plant, why,
		    BACKOFF_MIN_S, BACKOFF_MAX_S);
	pg->up = false;
	pg->said_down = true;
	store_close(pg->s);
	pg->s = NULL;
	pg->next_try = time(NULL) + pg->backoff;
	pg->backoff = pg->backoff * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S :
	    pg->backoff * 2;
}

static bool connect_pg(struct ingest_pg *pg, bool stopping)
{
	char err[256];

	if (pg->s)
		return true;
	if (!stopping && time(NULL) < pg->next_try)
		return false;
	if (store_open_pg(&pg->s, pg->cfg->pg, pg->cfg->plant, err,
	    sizeof(err)) < 0) {
		lost(pg, err);
		return false;
	}
	view_warn("postgresql (plant %s): connected, catching up from the "
	    "log", pg->cfg->plant);
	pg->up = true;
	pg->backoff = BACKOFF_MIN_S;
	return true;
}

static void catch_up(struct ingest_pg *pg, const struct store_position *limit)
{
	uint64_t lines, bad;
	int ret;

	ret = store_catch_up_to(pg->s, pg->paths, pg->npaths, limit, &lines,
	    &bad);
	if (ret < 0) {
		lost(pg, store_error(pg->s));
		return;
	}
	pthread_mutex_lock(&pg->mu);
	pg->n = *store_counters(pg->s);
	pthread_mutex_unlock(&pg->mu);
}

static void retain(struct ingest_pg *pg)
{
	int64_t cutoff = (int64_t)ingest_now_ms() -
	    (int64_t)pg->cfg->retain_days * 86400000;
	int64_t n = store_retain(pg->s, cutoff);

	if (n < 0)
		lost(pg, store_error(pg->s));
	else if (n > 0)
		view_warn("postgresql (plant %s): %" PRId64 " readings older "
		    "than %d days deleted (the log keeps them)", pg->cfg->plant,
		    n, pg->cfg->retain_days);
}

static void *follow(void *arg)
{
	struct ingest_pg *pg = arg;
	struct store_position limit;
	bool stop, want_retain = false, r;

	for (;;) {
		wait_for_work(pg, &limit, &stop, &r);
		want_retain |= r;
		if (connect_pg(pg, stop)) {
			catch_up(pg, &limit);
			if (pg->s && want_retain) {
				retain(pg);
				want_retain = false;
			}
		}
		if (stop)
			break;
	}
	store_close(pg->s);
	pg->s = NULL;
	pthread_mutex_lock(&pg->mu);
	pg->done = true;
	pthread_cond_broadcast(&pg->cv);
	pthread_mutex_unlock(&pg->mu);
	return NULL;
}

int ingest_pg_start(struct ingest *in)
{
	struct ingest_pg *pg;
	int k, ret;

	if (in->cfg.pg == NULL)
		return 0;
	if ((pg = calloc(1, sizeof(*pg))) == NULL ||
	    (pg->paths = calloc((size_t)in->cfg.nseed_logs + 1,
	    sizeof(*pg->paths))) == NULL) {
		free(pg);
		return -ENOMEM;
	}
	pg->cfg = &in->cfg;
	for (k = 0; k < in->cfg.nseed_logs; k++)
		pg->paths[k] = in->cfg.seed_logs[k];
	pg->paths[k] = in->cfg.log;
	pg->npaths = k + 1;
	pg->backoff = BACKOFF_MIN_S;
	pg->limit = in->pos;
	pthread_mutex_init(&pg->mu, NULL);
	pthread_cond_init(&pg->cv, NULL);
	if ((ret = -pthread_create(&pg->th, NULL, follow, pg)) < 0) {
		view_warn("postgresql: no thread: %s", strerror(-ret));
		free(pg->paths);
		free(pg);
		return ret;
	}
	in->pg = pg;
	return 0;
}

void ingest_pg_synced(struct ingest *in, bool retain)
{
	struct ingest_pg *pg = in->pg;

	if (pg == NULL)
		return;
	pthread_mutex_lock(&pg->mu);
	pg->limit = in->pos;
	pg->kick = true;
	pg->retain |= retain;
	pthread_cond_broadcast(&pg->cv);
	pthread_mutex_unlock(&pg->mu);
}

void ingest_pg_stop(struct ingest *in)
{
	struct ingest_pg *pg = in->pg;
	struct store_counters n;
	struct timespec until;
	bool done;

	if (pg == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += STOP_WAIT_S;
	pthread_mutex_lock(&pg->mu);
	pg->limit = in->pos;
	pg->stop = true;
	pthread_cond_broadcast(&pg->cv);
	while (!pg->done && pthread_cond_timedwait(&pg->cv, &pg->mu,
	    &until) == 0)
		;
	done = pg->done;
	n = pg->n;
	pthread_mutex_unlock(&pg->mu);
	view_warn("postgresql (plant %s): %" PRIu64 " readings added, %" PRIu64
	    " already there%s", in->cfg.plant, n.added, n.present,
	    done ? "" : "; the last batch did not finish in time (the next "
	    "start catches up)");
	in->pg = NULL;
	if (!done)
		return;	/* the thread still holds pg; exit ends it */
	pthread_join(pg->th, NULL);
	pthread_cond_destroy(&pg->cv);
	pthread_mutex_destroy(&pg->mu);
	free(pg->paths);
	free(pg);
}
