/* The historian's logs: opened and recovered into the duplicate table
 * and window at start (seed logs first), the store brought level with
 * them, the group commit timer, the reopen for logrotate, and the close
 * at exit (see ingest.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "hub/ingest.h"
#include "hub/ingest_internal.h"
#include "mqtt/recent.h"
#include "mqtt/telemetry.h"

/* The group commit: the log synced every tick; the store committed with
 * it while few rows wait (at most STORE_QUICK_ROWS: the store then lags
 * the log by one tick), else once STORE_COMMIT_S have passed since its
 * last commit.  A busy store's rows of a node then share their pages,
 * each written once a commit: committing a thousand nodes' rows every
 * tick (or every thousand rows) writes a page or two per row. */
static void on_commit(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ingest *in = w->data;
	int ret;

	if ((in->store || in->pg) && ingest_store_due(in, ev_now(loop)))
		ingest_store_flush(in);
	else if ((ret = ingest_log_sync(in)) < 0)
		view_warn("fdatasync %s: %s", in->cfg.log, strerror(-ret));
	if ((ret = histlog_sync(&in->rejects)) < 0)
		view_warn("fdatasync %s: %s", in->cfg.reject_log,
		    strerror(-ret));
}

void ingest_reopen(struct ingest *in)
{
	int ret;

	/* The store's position: the end of the old file. */
	ingest_store_flush(in);
	if ((ret = histlog_reopen(&in->log)) < 0)
		view_warn("reopen %s: %s (still writing the old file)",
		    in->cfg.log, strerror(-ret));
	else	/* a new file (logrotate's create) */
		ingest_store_mark_log(in, 0);
	ingest_store_flush(in);
	if ((ret = histlog_reopen(&in->rejects)) < 0)
		view_warn("reopen %s: %s (still writing the old file)",
		    in->cfg.reject_log, strerror(-ret));
	view_event(in->view, VIEW_SESSION, "logs reopened");
}

/* A log line of a node without boot_id/seq goes into the duplicate
 * window, aging from when it was received: 0, or -EINVAL when the line is
 * no such reading. */
static int recover_window(struct ingest *in, const char *line, size_t len)
{
	const struct telemetry_parse_opts opts = {
		.zoneless_offset_min = in->cfg.zoneless_offset_min,
	};
	struct telemetry_reading r;
	const cJSON *received;
	cJSON *rec = cJSON_ParseWithLength(line, len);
	int ret = -EINVAL;

	received = cJSON_GetObjectItemCaseSensitive(rec, "received");
	if (cJSON_IsNumber(received) && received->valuedouble >= 0 &&
	    telemetry_parse_object(cJSON_GetObjectItemCaseSensitive(rec,
	    "payload"), &opts, &r, NULL) == TELEMETRY_OK && !r.has_seq)
		ret = recent_recover(in->recent, r.node_id, r.timestamp_ms,
		    telemetry_content_digest(&r),
		    (uint64_t)received->valuedouble);
	cJSON_Delete(rec);
	return ret;
}

static void recover_line(void *ctx, const char *line, size_t len)
{
	struct ingest *in = ctx;
	struct histlog_key k;
	enum dedup_effect e;

	if (histlog_parse_key(line, len, &k) == 0) {
		if (dedup_add(in->dedup, k.node_id, k.boot_id, k.seq, true, &e,
		    NULL) < 0)
			in->recovered_bad++;
	} else if (recover_window(in, line, len) < 0) {
		in->recovered_bad++;
	}
}

/* A line of the reject log that logged an event with boot_id and
 * event_seq: marked seen (ingest.h).  Other lines are left alone. */
static void recover_event(void *ctx, const char *line, size_t len)
{
	static const char logged[] = "\"reason\":\"event ";
	struct ingest *in = ctx;
	const cJSON *raw, *id, *b, *q;
	enum dedup_effect e;
	cJSON *rec, *ev;

	if (memmem(line, len, logged, sizeof(logged) - 1) == NULL ||
	    (rec = cJSON_ParseWithLength(line, len)) == NULL)
		return;
	raw = cJSON_GetObjectItemCaseSensitive(rec, "raw");
	ev = cJSON_IsString(raw) ? cJSON_Parse(raw->valuestring) : NULL;
	id = cJSON_GetObjectItemCaseSensitive(ev, "node_id");
	b = cJSON_GetObjectItemCaseSensitive(ev, "boot_id");
	q = cJSON_GetObjectItemCaseSensitive(ev, "event_seq");
	if (cJSON_IsString(id) && cJSON_IsNumber(b) && cJSON_IsNumber(q) &&
	    b->valuedouble >= 0 && q->valuedouble >= 1 &&
	    b->valuedouble < 9007199254740992.0 &&
	    q->valuedouble < 9007199254740992.0)
		dedup_add(in->event_dedup, id->valuestring,
		    (uint64_t)b->valuedouble, (uint64_t)q->valuedouble, true,
		    &e, NULL);
	cJSON_Delete(ev);
	cJSON_Delete(rec);
}

static void recover_torn(void *ctx, const char *bytes, size_t len)
{
	struct ingest *in = ctx;

	ingest_reject(in, ingest_now_ms(), NULL, "torn last line of the log, "
	    "cut off at startup", bytes, len);
	in->n.rejected--;	/* not a received message */
}

/* A rotated log's readings are in the log too, as far as duplicates go:
 * without them a restart after logrotate would log a replayed reading
 * again.  A seed log that does not exist (yet) is only noted. */
static int seed_from(struct ingest *in, const char *path)
{
	struct histlog_recovery r;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		view_warn("--seed-log %s: %s%s", path, strerror(-ret),
		    ret == -ENOENT ? " (skipped)" : "");
		return ret == -ENOENT ? 0 : ret;
	}
	ret = histlog_scan_fd(fd, recover_line, in, &r);
	close(fd);
	if (ret < 0) {
		view_warn("--seed-log %s: %s", path, strerror(-ret));
		return ret;
	}
	view_warn("%s: %" PRIu64 " lines read%s", path, r.lines,
	    r.torn ? " (and a torn last line, ignored)" : "");
	return 0;
}

int ingest_init(struct ingest *in, struct ev_loop *loop,
    const struct ingest_config *cfg, struct dedup_table *dedup,
    struct resend *resend, const struct view *view)
{
	struct histlog_recovery r;
	uint64_t gaps = 0;
	size_t i;
	int ret, k;

	*in = (struct ingest){ .cfg = *cfg, .loop = loop, .dedup = dedup,
	    .resend = resend, .view = view };
	in->log.fd = in->rejects.fd = -1;
	in->recent = recent_new(&cfg->window);
	in->event_dedup = dedup_new(1);
	if (in->recent == NULL || in->event_dedup == NULL) {
		ret = -errno;
		view_warn("duplicate window: %s", strerror(-ret));
		return ret;
	}
	ev_timer_init(&in->commit, on_commit, cfg->fsync_interval,
	    cfg->fsync_interval);
	in->commit.data = in;
	ev_timer_init(&in->retain, ingest_on_retain, 0, 3600);
	in->retain.data = in;
	for (k = 0; k < cfg->nseed_logs; k++)
		if ((ret = seed_from(in, cfg->seed_logs[k])) < 0)
			return ret;
	ret = histlog_open(&in->rejects, cfg->reject_log, cfg->fsync,
	    recover_event, NULL, in, &r);
	if (ret < 0) {
		view_warn("%s: %s", cfg->reject_log, strerror(-ret));
		return ret;
	}
	ret = histlog_open(&in->log, cfg->log, cfg->fsync, recover_line,
	    recover_torn, in, &r);
	if (ret < 0) {
		view_warn("%s: %s", cfg->log, strerror(-ret));
		return ret;
	}
	if (cfg->db || cfg->pg) {
		/* The log is the record: without its store the historian
		 * still logs, and the next start catches the store up. */
		if (cfg->db && (ret = ingest_store_level(cfg, &in->store)) < 0)
			view_warn("store %s: %s; logging without it", cfg->db,
			    strerror(-ret));
		if (in->store == NULL || store_position(in->store,
		    &in->pos) < 0 || in->pos.offset != (uint64_t)in->log.size ||
		    in->pos.dev == 0)
			ingest_store_mark_log(in, r.lines + r.overlong);
	}
	if ((ret = ingest_pg_init(in)) < 0)
		view_warn("postgresql: %s; logging without it", strerror(-ret));
	for (i = 0; i < dedup_node_count(dedup); i++)
		for (k = 0; k < (int)dedup_node_at(dedup, i)->nboots; k++)
			gaps += dedup_node_at(dedup, i)->boots[k].ngaps;
	view_warn("%s: %" PRIu64 " lines recovered, %zu streams, %" PRIu64
	    " open gaps%s", cfg->log, r.lines, dedup_count(dedup), gaps,
	    r.torn ? ", torn last line cut off (copy in the reject log)" : "");
	if (in->recovered_bad || r.overlong)
		view_warn("%" PRIu64 " lines of the logs read are not readings "
		    "and were left as they are", in->recovered_bad + r.overlong);
	return 0;
}

struct histlog *ingest_log(struct ingest *in)
{
	return &in->log;
}

void ingest_start(struct ingest *in)
{
	/* The store commits on the group commit timer whatever the fsync
	 * policy. */
	if (in->cfg.fsync == HISTLOG_FSYNC_INTERVAL || in->store ||
	    in->cfg.pg)
		ev_timer_start(in->loop, &in->commit);
	if ((in->store || in->cfg.pg) && in->cfg.retain_days > 0)
		ev_timer_start(in->loop, &in->retain);
	ingest_pg_start(in);
}

void ingest_stop(struct ingest *in)
{
	ev_timer_stop(in->loop, &in->commit);
	ev_timer_stop(in->loop, &in->retain);
	ingest_store_flush(in);
	ingest_pg_stop(in);
	store_close(in->store);
	in->store = NULL;
	histlog_close(&in->log);
	histlog_close(&in->rejects);
	recent_free(in->recent);
	in->recent = NULL;
	dedup_free(in->event_dedup);
	in->event_dedup = NULL;
}
