/* The historian's PostgreSQL follower (--pg): a thread of its own that
 * reads the production log, as far as it is synced, into PostgreSQL
 * (store_pg.h) with the store's catch-up (store_catch_up_to): the same
 * code that brings the SQLite store level at start.  The loop only says
 * how far the log is synced; it never waits for PostgreSQL, so a server
 * that is down, restarting or slow never holds up the log.  A failed
 * batch is rolled back whole, the connection dropped and tried again
 * with a back-off (1 s doubling to 30 s), and the plant's position,
 * committed with its rows, says where to read on from: nothing lost,
 * nothing twice.
 *
 * The thread reads the files through descriptors opened before the
 * sandbox's drop (the historian's user may not open the logs by name):
 * the seed logs, and a duplicate of the log's own descriptor, handed
 * over anew after each reopen (logrotate); the old file's is kept until
 * PostgreSQL has read to its end. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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
	int handed_fd;			/* a new log's, -1: none */
	/* The loop's own: the log the thread was last handed. */
	uint64_t log_dev, log_ino;
	/* The thread's own: seed logs, the rotated log, the log. */
	const struct ingest_config *cfg;
	const char **paths;
	int *fds;
	int npaths;
	struct store *s;
	bool up, said_down;
	bool level;			/* caught up to done_to */
	struct store_position done_to;
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
	if (pg->handed_fd >= 0) {
		if (pg->fds[pg->npaths - 2] >= 0) {
			view_warn("postgresql (plant %s): two logrotates behind: "
			    "the oldest file's rest is not read (wgu-historian "
			    "--seed-log FILE at the next start)",
			    pg->cfg->plant);
			close(pg->fds[pg->npaths - 2]);
		}
		pg->fds[pg->npaths - 2] = pg->fds[pg->npaths - 1];
		pg->fds[pg->npaths - 1] = pg->handed_fd;
		pg->handed_fd = -1;
	}
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
	pg->level = false;
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

	struct store_position pos;
	int old = pg->npaths - 2;

	ret = store_catch_up_to(pg->s, pg->paths, pg->fds, pg->npaths, limit,
	    &lines, &bad);
	if (ret < 0) {
		lost(pg, store_error(pg->s));
		return;
	}
	/* The rotated file is done once the position is in the new one. */
	if (pg->fds[old] >= 0 && store_position(pg->s, &pos) == 0 &&
	    pos.dev == limit->dev && pos.ino == limit->ino) {
		close(pg->fds[old]);
		pg->fds[old] = -1;
	}
	pthread_mutex_lock(&pg->mu);
	pg->n = *store_counters(pg->s);
	pthread_mutex_unlock(&pg->mu);
	pg->level = true;
	pg->done_to = *limit;
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
			/* Nothing new since: no round trip. */
			if (!pg->level || memcmp(&limit, &pg->done_to,
			    sizeof(limit)) != 0)
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

static void pg_free(struct ingest_pg *pg)
{
	int k;

	for (k = 0; pg->fds && k < pg->npaths; k++)
		if (pg->fds[k] >= 0)
			close(pg->fds[k]);
	if (pg->handed_fd >= 0)
		close(pg->handed_fd);
	free(pg->fds);
	free(pg->paths);
	free(pg);
}

/* A duplicate of the log's descriptor (read and write, the thread only
 * reads), and its identity. */
static int dup_log(struct ingest *in, uint64_t *dev, uint64_t *ino)
{
	struct stat st;
	int fd;

	if (fstat(in->log.fd, &st) != 0 ||
	    (fd = fcntl(in->log.fd, F_DUPFD_CLOEXEC, 0)) < 0)
		return -errno;
	*dev = (uint64_t)st.st_dev;
	*ino = (uint64_t)st.st_ino;
	return fd;
}

int ingest_pg_init(struct ingest *in)
{
	struct ingest_pg *pg;
	int k, n = in->cfg.nseed_logs + 2;

	if (in->cfg.pg == NULL)
		return 0;
	if ((pg = calloc(1, sizeof(*pg))) == NULL)
		return -ENOMEM;
	pg->handed_fd = -1;
	pg->paths = calloc((size_t)n, sizeof(*pg->paths));
	pg->fds = calloc((size_t)n, sizeof(*pg->fds));
	if (pg->paths == NULL || pg->fds == NULL) {
		pg_free(pg);
		return -ENOMEM;
	}
	pg->npaths = n;
	for (k = 0; k < n; k++)
		pg->fds[k] = -1;
	for (k = 0; k < in->cfg.nseed_logs; k++) {
		pg->paths[k] = in->cfg.seed_logs[k];
		pg->fds[k] = open(pg->paths[k], O_RDONLY | O_CLOEXEC);
	}
	pg->paths[n - 2] = in->cfg.log;	/* rotated: its old name */
	pg->paths[n - 1] = in->cfg.log;
	if ((pg->fds[n - 1] = dup_log(in, &pg->log_dev, &pg->log_ino)) < 0) {
		k = pg->fds[n - 1];
		pg_free(pg);
		return k;
	}
	pg->cfg = &in->cfg;
	pg->backoff = BACKOFF_MIN_S;
	pg->limit = in->pos;
	pthread_mutex_init(&pg->mu, NULL);
	pthread_cond_init(&pg->cv, NULL);
	in->pg = pg;
	return 0;
}

int ingest_pg_start(struct ingest *in)
{
	struct ingest_pg *pg = in->pg;
	int ret;

	if (pg == NULL)
		return 0;
	pg->limit = in->pos;
	if ((ret = -pthread_create(&pg->th, NULL, follow, pg)) < 0) {
		view_warn("postgresql: no thread: %s", strerror(-ret));
		pthread_cond_destroy(&pg->cv);
		pthread_mutex_destroy(&pg->mu);
		pg_free(pg);
		in->pg = NULL;
	}
	return ret;
}

void ingest_pg_synced(struct ingest *in, bool retain)
{
	struct ingest_pg *pg = in->pg;

	uint64_t dev, ino;
	struct stat st;
	int fd;

	if (pg == NULL)
		return;
	/* A new file since (logrotate): the thread gets its descriptor. */
	if (fstat(in->log.fd, &st) == 0 && ((uint64_t)st.st_dev != pg->log_dev ||
	    (uint64_t)st.st_ino != pg->log_ino) &&
	    (fd = dup_log(in, &dev, &ino)) >= 0) {
		pthread_mutex_lock(&pg->mu);
		if (pg->handed_fd >= 0)
			close(pg->handed_fd);
		pg->handed_fd = fd;
		pthread_mutex_unlock(&pg->mu);
		pg->log_dev = dev;
		pg->log_ino = ino;
	}
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
	pg_free(pg);
}
