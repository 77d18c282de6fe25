/* The historian's store hook: the store (store.h) takes each reading
 * after the log did, commits after the log's sync, is given up on (and
 * caught up at the next start) when it fails, and is rebuilt from the
 * logs for --rebuild; retention runs on its timer. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "hub/ingest.h"
#include "hub/ingest_internal.h"
#include "hub/store_pg.h"

/* A store that fails is closed and left to the next start, which catches
 * it up from the log: the log goes on either way. */
static void store_give_up(struct ingest *in, int err)
{
	view_warn("store %s: %s; not written until the historian restarts "
	    "(it then catches up from the log)", in->cfg.db,
	    err == -ENOMEM ? strerror(-err) : store_error(in->store));
	store_close(in->store);
	in->store = NULL;
}

int ingest_log_sync(struct ingest *in)
{
	int ret;

	if (in->cfg.fsync != HISTLOG_FSYNC_NEVER &&
	    (ret = histlog_sync(&in->log)) < 0)
		return ret;
	ingest_pg_synced(in, false);
	return 0;
}

bool ingest_store_due(const struct ingest *in, ev_tstamp now)
{
	return in->store == NULL ||
	    store_pending(in->store) <= STORE_QUICK_ROWS ||
	    now - in->store_committed >= STORE_COMMIT_S;
}

void ingest_store_flush(struct ingest *in)
{
	int ret;

	if (in->store == NULL && in->pg == NULL)
		return;
	if ((ret = ingest_log_sync(in)) < 0) {
		view_warn("fdatasync %s: %s (store not committed)", in->cfg.log,
		    strerror(-ret));
		return;
	}
	in->store_committed = ev_now(in->loop);
	if (in->store && (ret = store_commit(in->store)) < 0)
		store_give_up(in, ret);
}

void ingest_store_take(struct ingest *in, const struct telemetry_reading *r,
    uint64_t received)
{
	int ret;

	in->pos.offset = (uint64_t)in->log.size;
	in->pos.lines++;
	if (in->store == NULL)
		return;
	ret = store_add(in->store, r, received, r->timestamp_ms, &in->pos);
	if (ret < 0)
		store_give_up(in, ret);
	else if (store_pending(in->store) >= STORE_LIVE_ROWS)
		ingest_store_flush(in);
}

void ingest_store_mark_log(struct ingest *in, uint64_t lines)
{
	struct stat st;

	if (fstat(in->log.fd, &st) != 0)
		return;
	if (in->pos.dev == (uint64_t)st.st_dev &&
	    in->pos.ino == (uint64_t)st.st_ino)
		lines = in->pos.lines;	/* reopened, not rotated */
	in->pos = (struct store_position){ .dev = (uint64_t)st.st_dev,
	    .ino = (uint64_t)st.st_ino, .offset = (uint64_t)in->log.size,
	    .lines = lines };
	if (in->store)
		store_advance(in->store, &in->pos);
}

struct store *ingest_store(struct ingest *in)
{
	return in->store;
}

void ingest_on_retain(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ingest *in = w->data;
	int64_t cutoff = (int64_t)ingest_now_ms() -
	    (int64_t)in->cfg.retain_days * 86400000;
	int64_t n;

	ingest_store_flush(in);
	ingest_pg_synced(in, true);
	if (in->store == NULL)
		return;
	if (in->store == NULL)
		return;
	n = store_retain(in->store, cutoff);
	if (n < 0)
		store_give_up(in, (int)n);
	else if (n > 0)
		view_event(in->view, VIEW_SESSION, "store: %" PRId64 " readings "
		    "older than %d days deleted (the log keeps them)", n,
		    in->cfg.retain_days);
}

/* The seed logs and the log, oldest first: heap array (caller frees). */
static const char **log_paths(const struct ingest_config *cfg, int *n)
{
	const char **paths = calloc((size_t)cfg->nseed_logs + 1,
	    sizeof(*paths));
	int k;

	if (paths == NULL)
		return NULL;
	for (k = 0; k < cfg->nseed_logs; k++)
		paths[k] = cfg->seed_logs[k];
	paths[k] = cfg->log;
	*n = k + 1;
	return paths;
}

int ingest_store_level(const struct ingest_config *cfg, struct store **sp)
{
	uint64_t lines, bad;
	char aside[4096];
	const char **paths;
	int attempt, n, ret = -ENOMEM;

	*sp = NULL;
	if ((paths = log_paths(cfg, &n)) == NULL)
		return -ENOMEM;
	for (attempt = 0; attempt < 2; attempt++) {
		ret = store_open(sp, cfg->db);
		if (ret == 0) {
			ret = store_catch_up(*sp, paths, n, &lines, &bad);
			if (ret == 0) {
				view_warn("store %s: %" PRIu64 " log lines "
				    "read to catch up, %" PRIu64 " readings "
				    "added", cfg->db, lines,
				    store_counters(*sp)->added);
				break;
			}
			store_close(*sp);
			*sp = NULL;
		}
		if (ret != -EBADMSG || attempt == 1)
			break;
		snprintf(aside, sizeof(aside), "%s.unreadable", cfg->db);
		view_warn("store %s: unreadable, moved to %s and rebuilt from "
		    "the log", cfg->db, aside);
		if (rename(cfg->db, aside) != 0 || store_remove(cfg->db) < 0) {
			ret = -errno;
			break;
		}
	}
	free(paths);
	return ret;
}

/* --rebuild --pg: the plant's rows made anew from the logs, timed. */
static int rebuild_pg(const struct ingest_config *cfg, const char **paths,
    int n)
{
	struct store *s;
	struct timespec t0, t1;
	uint64_t lines, bad;
	char err[256];
	double secs;
	int ret;

	if ((ret = store_open_pg(&s, cfg->pg, cfg->plant, err,
	    sizeof(err))) < 0) {
		fprintf(stderr, "wgu-historian: postgresql: %s\n", err);
		return ret;
	}
	ret = store_pg_forget(s);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (ret == 0)
		ret = store_catch_up(s, paths, n, &lines, &bad);
	if (ret == 0)
		ret = store_commit(s);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (ret == 0)
		printf("postgresql (plant %s): rebuilt from %d log%s: %" PRIu64
		    " lines, %" PRIu64 " readings, %.2f s (%.0f readings/s)\n",
		    cfg->plant, n, n == 1 ? "" : "s", lines,
		    store_counters(s)->added, secs, secs > 0 ?
		    (double)store_counters(s)->added / secs : 0.0);
	else
		fprintf(stderr, "wgu-historian: postgresql: %s\n",
		    store_error(s));
	store_close(s);
	return ret;
}

int ingest_rebuild(const struct ingest_config *cfg)
{
	struct store *s;
	struct timespec t0, t1;
	uint64_t lines, bad;
	const char **paths;
	struct alarm *alarms;
	size_t nalarms;
	double secs;
	int n, ret;

	if (cfg->db == NULL) {
		if ((paths = log_paths(cfg, &n)) == NULL)
			return -ENOMEM;
		ret = rebuild_pg(cfg, paths, n);
		free(paths);
		return ret;
	}
	/* Alarms are not in the logs: kept across the rebuild (the SQLite
	 * store only: PostgreSQL has none). */
	if ((ret = store_alarms_save(cfg->db, &alarms, &nalarms)) < 0)
		return ret;
	if ((ret = store_remove(cfg->db)) < 0) {
		free(alarms);
		fprintf(stderr, "wgu-historian: %s: %s\n", cfg->db,
		    strerror(-ret));
		return ret;
	}
	if ((ret = store_open(&s, cfg->db)) < 0) {
		free(alarms);
		return ret;
	}
	ret = store_alarms_restore(s, alarms, nalarms);
	free(alarms);
	if (ret < 0) {
		fprintf(stderr, "wgu-historian: %s: alarms not carried over: "
		    "%s\n", cfg->db, store_error(s));
		store_close(s);
		return ret;
	}
	if (nalarms > 0)
		printf("%s: %zu alarms carried over\n", cfg->db, nalarms);
	if ((paths = log_paths(cfg, &n)) == NULL) {
		store_close(s);
		return -ENOMEM;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = store_bulk(s, true);
	if (ret == 0)
		ret = store_catch_up(s, paths, n, &lines, &bad);
	if (ret == 0)
		ret = store_bulk(s, false);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (ret == 0)
		printf("%s: rebuilt from %d log%s: %" PRIu64 " lines, %" PRIu64
		    " readings, %" PRIu64 " already there, %" PRIu64 " lines "
		    "not readings, %.2f s (%.0f readings/s)\n", cfg->db, n,
		    n == 1 ? "" : "s", lines, store_counters(s)->added,
		    store_counters(s)->present, bad, secs,
		    secs > 0 ? (double)store_counters(s)->added / secs : 0.0);
	store_close(s);
	if (ret == 0 && cfg->pg)
		ret = rebuild_pg(cfg, paths, n);
	free(paths);
	return ret;
}
