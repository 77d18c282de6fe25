/* The historian's ingest: validate -> dedup -> append -> remember, and the
 * logs it appends to (see ingest.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "hub/ingest.h"
#include "mqtt/recent.h"
#include "mqtt/telemetry.h"

/* A message that passed validation: the reading and its parsed payload
 * (for the log line). */
struct accepted {
	uint64_t received;
	const char *topic;
	struct telemetry_reading r;
	cJSON *payload;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* To the reject log, with the reason; topic may be NULL.  A node's event
 * (is_event) goes there too, with its name as the reason: the log of
 * everything that is not a reading. */
static void reject_or_event(struct ingest *in, uint64_t received,
    const char *topic, const char *reason, const void *raw, size_t rawlen,
    bool is_event)
{
	char *line = histlog_format_reject(received, topic, reason, raw, rawlen);
	int ret = line ? histlog_append(&in->rejects, line, strlen(line)) :
	    -ENOMEM;
	char shown[256] = "-";

	if (is_event)
		in->n.events++;
	else
		in->n.rejected++;
	if (topic) {
		/* The topic level matched by '+' is the sender's choice: keep
		 * control bytes (escape sequences) off the terminal. */
		size_t i, n = strlen(topic) < sizeof(shown) - 1 ?
		    strlen(topic) : sizeof(shown) - 1;

		for (i = 0; i < n; i++)
			shown[i] = topic[i] >= 0x20 && topic[i] < 0x7f ?
			    topic[i] : '?';
		shown[n] = '\0';
	}
	if (ret < 0) {
		/* The reject log is the last place it could go: say it
		 * loudly on stderr rather than lose the evidence quietly. */
		view_warn("cannot write to reject log %s: %s; rejected (%s) on "
		    "%s: %zu bytes", in->cfg.reject_log, strerror(-ret),
		    reason, shown, rawlen);
		in->n.write_errors++;
	}
	free(line);
	if (is_event)
		view_event(in->view, VIEW_SESSION, "EVENT %s: %s", shown,
		    reason);
	else
		view_event(in->view, VIEW_REJECTED, "REJECTED %s: %s", shown,
		    reason);
}

static void reject(struct ingest *in, uint64_t received, const char *topic,
    const char *reason, const void *raw, size_t rawlen)
{
	reject_or_event(in, received, topic, reason, raw, rawlen, false);
}

/* An event on PREFIX/NODE/event: a JSON object of at most
 * TELEMETRY_PAYLOAD_MAX bytes with "event" (1..32 of [a-z-]) and
 * "node_id" (the topic's node).  Logged as it came; anything else is
 * rejected. */
static void event_message(struct ingest *in, uint64_t received,
    const char *topic, const char *node, const void *payload, size_t len)
{
	const cJSON *ev, *id;
	cJSON *root = NULL;
	char reason[64];
	const char *why = NULL;

	if (len > TELEMETRY_PAYLOAD_MAX || memchr(payload, '\0', len) != NULL ||
	    (root = cJSON_ParseWithLength(payload, len)) == NULL ||
	    !cJSON_IsObject(root))
		why = "event: not a JSON object of at most 1024 bytes";
	else if (!cJSON_IsString(ev = cJSON_GetObjectItemCaseSensitive(root,
	    "event")) || strlen(ev->valuestring) < 1 ||
	    strlen(ev->valuestring) > 32 ||
	    strspn(ev->valuestring, "abcdefghijklmnopqrstuvwxyz-") !=
	    strlen(ev->valuestring))
		why = "event: needs \"event\", 1..32 characters of [a-z-]";
	else if (!cJSON_IsString(id = cJSON_GetObjectItemCaseSensitive(root,
	    "node_id")) || strcmp(id->valuestring, node) != 0)
		why = "event: node_id does not match topic";
	if (why == NULL)
		snprintf(reason, sizeof(reason), "event %s", ev->valuestring);
	reject_or_event(in, received, topic, why ? why : reason, payload, len,
	    why == NULL);
	cJSON_Delete(root);
}

/* validate: 0 and *a (a->payload to delete), or rejected and -EINVAL. */
static int validate(struct ingest *in, struct accepted *a,
    const void *payload, size_t len)
{
	const struct telemetry_parse_opts opts = {
		.zoneless_offset_min = in->cfg.zoneless_offset_min,
	};
	struct telemetry_error err = { .reason = TELEMETRY_OK, .field = "" };
	char node[TELEMETRY_NODE_ID_MAX + 1], reason[TELEMETRY_ERROR_MSG_MAX];
	enum telemetry_reject rc;

	if (telemetry_topic_node(a->topic, "telemetry", node) < 0) {
		reject(in, a->received, a->topic, "unexpected topic: readings "
		    "go to PREFIX/NODE/telemetry", payload, len);
		return -EINVAL;
	}
	rc = telemetry_parse_tree(payload, len, &opts, &a->r, &a->payload,
	    &err);
	if (rc != TELEMETRY_OK) {
		telemetry_error_format(&err, reason, sizeof(reason));
		reject(in, a->received, a->topic, reason, payload, len);
		return -EINVAL;
	}
	if (strcmp(a->r.node_id, node) != 0) {
		/* A node may only speak for itself (the ACL lets it write
		 * its own topic only). */
		reject(in, a->received, a->topic, "node_id does not match topic",
		    payload, len);
		return -EINVAL;
	}
	return 0;
}

/* dedup: true when the reading is to be logged. */
static bool admit(struct ingest *in, const struct accepted *a,
    const void *payload, size_t len)
{
	const struct telemetry_reading *r = &a->r;
	const char *why;

	if (!r->has_seq) {
		/* At least once: a redelivery within the window is dropped. */
		if (recent_lookup(in->recent, r->node_id, r->timestamp_ms,
		    telemetry_content_digest(r), a->received) == RECENT_NEW)
			return true;
		in->n.duplicates++;
		recent_note_duplicate(in->recent, r->node_id);
		view_event(in->view, VIEW_DUPLICATE, "duplicate %s timestamp %"
		    PRId64 " (same content, no seq) dropped", r->node_id,
		    r->timestamp_ms);
		return false;
	}
	switch (dedup_lookup(in->dedup, r->node_id, r->boot_id, r->seq)) {
	case DEDUP_NEW:
		return true;
	case DEDUP_DUPLICATE:
		in->n.duplicates++;
		view_event(in->view, VIEW_DUPLICATE, "duplicate %s boot %"
		    PRIu64 " seq %" PRIu64 " dropped", r->node_id, r->boot_id,
		    r->seq);
		return false;
	case DEDUP_RETIRED:
		why = "boot retired: older than the boots kept for this node";
		break;
	default:
		why = "no room to keep its duplicate state";
		break;
	}
	/* Logged, it could be logged again by the next copy: refused. */
	in->n.refused++;
	reject(in, a->received, a->topic, why, payload, len);
	return false;
}

/* ------------------------------------------------------------ the store */

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

/* The log synced first: the store is never ahead of it on disk. */
static void store_flush(struct ingest *in)
{
	int ret;

	if (in->store == NULL)
		return;
	if (in->cfg.fsync != HISTLOG_FSYNC_NEVER &&
	    (ret = histlog_sync(&in->log)) < 0) {
		view_warn("fdatasync %s: %s (store not committed)", in->cfg.log,
		    strerror(-ret));
		return;
	}
	if ((ret = store_commit(in->store)) < 0)
		store_give_up(in, ret);
}

/* After a successful append: the reading and where its line ends. */
static void store_take(struct ingest *in, const struct accepted *a)
{
	int ret;

	in->pos.offset = (uint64_t)in->log.size;
	in->pos.lines++;
	if (in->store == NULL)
		return;
	ret = store_add(in->store, &a->r, a->received, a->r.timestamp_ms,
	    &in->pos);
	if (ret < 0)
		store_give_up(in, ret);
	else if (store_pending(in->store) >= STORE_BATCH_ROWS)
		store_flush(in);
}

/* The log's identity and end, for the store's position. */
static void store_mark_log(struct ingest *in, uint64_t lines)
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

static void on_retain(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ingest *in = w->data;
	int64_t cutoff = (int64_t)now_ms() -
	    (int64_t)in->cfg.retain_days * 86400000;
	int64_t n;

	if (in->store == NULL)
		return;
	store_flush(in);
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

/* Opens the store and brings it level with the logs; an unreadable
 * database is moved aside (PATH.unreadable) and made anew. */
static int store_level(const struct ingest_config *cfg, struct store **sp)
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

int ingest_rebuild(const struct ingest_config *cfg)
{
	struct store *s;
	struct timespec t0, t1;
	uint64_t lines, bad;
	const char **paths;
	double secs;
	int n, ret;

	if ((ret = store_remove(cfg->db)) < 0) {
		fprintf(stderr, "wgu-historian: %s: %s\n", cfg->db,
		    strerror(-ret));
		return ret;
	}
	if ((ret = store_open(&s, cfg->db)) < 0)
		return ret;
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
	free(paths);
	return ret;
}

/* append: 0 when the reading is in the log. */
static int append(struct ingest *in, const struct accepted *a)
{
	const struct telemetry_reading *r = &a->r;
	char *line = histlog_format_record(a->received, a->topic, a->payload,
	    r->timestamp_ms, r->has_seq);
	int ret = line ? histlog_append_chained(&in->log, line, strlen(line),
	    NULL) : -ENOMEM;

	free(line);
	if (ret < 0 && !r->has_seq) {
		/* Nothing to ask for again: the node does not number its
		 * readings.  Said loudly; its publisher got its PUBACK. */
		in->n.write_errors++;
		view_warn("cannot append to %s: %s (%s timestamp %" PRId64
		    " lost: the node sends no seq to ask for it again)",
		    in->cfg.log, strerror(-ret), r->node_id, r->timestamp_ms);
		return ret;
	}
	if (ret < 0) {
		/* Not marked seen: the next reading of this node shows the
		 * hole, and the resend request fetches it again. */
		in->n.write_errors++;
		view_warn("cannot append to %s: %s (%s boot %" PRIu64 " seq %"
		    PRIu64 " will be asked for again)", in->cfg.log,
		    strerror(-ret), r->node_id, r->boot_id, r->seq);
		return ret;
	}
	in->n.logged++;
	store_take(in, a);
	return 0;
}

/* remember: marks it seen (room made by admit()), asks for a gap it
 * opens, shows it. */
static void remember(struct ingest *in, const struct accepted *a)
{
	const struct telemetry_reading *r = &a->r;
	enum dedup_effect effect;
	struct dedup_gap gap;
	char note[96] = "";
	int ret;

	if (!r->has_seq) {
		ret = recent_add(in->recent, r->node_id, r->timestamp_ms,
		    telemetry_content_digest(r), a->received);
		if (ret < 0)
			view_warn("duplicate window: %s (%s)", strerror(-ret),
			    r->node_id);
		view_reading(in->view, r, "  (at least once)");
		return;
	}
	ret = dedup_add(in->dedup, r->node_id, r->boot_id, r->seq, false,
	    &effect, &gap);
	if (ret < 0) {
		/* dedup_lookup() answered NEW: cannot happen (dedup.h). */
		view_warn("duplicate table: %s (%s)", strerror(-ret),
		    r->node_id);
		view_reading(in->view, r, "");
		return;
	}
	if (effect == DEDUP_OPENED_GAP && resend_active(in->resend)) {
		snprintf(note, sizeof(note), "  GAP %" PRIu64 "..%" PRIu64
		    ", resend requested", gap.from, gap.to);
		resend_gap_opened(in->resend, r->node_id, r->boot_id, &gap);
	} else if (effect == DEDUP_FILLED) {
		snprintf(note, sizeof(note), gap.from > gap.to ?
		    "  (late, gap closed)" : "  (late, gap partly filled)");
	}
	view_reading(in->view, r, note);
}

void ingest_message(struct ingest *in, const char *topic,
    const void *payload, size_t len)
{
	struct accepted a = { .received = now_ms(), .topic = topic };
	char node[TELEMETRY_NODE_ID_MAX + 1];

	in->n.received++;
	if (telemetry_topic_node(topic, "event", node) == 0) {
		event_message(in, a.received, topic, node, payload, len);
		return;
	}
	/* Readings with boot_id/seq are logged exactly once (dedup.h), those
	 * without at least once (recent.h): admit() and remember() pick. */
	if (validate(in, &a, payload, len) < 0)
		return;
	/* A store derived from the log takes the reading once append()
	 * succeeded: it is never ahead of the log. */
	if (admit(in, &a, payload, len) && append(in, &a) == 0)
		remember(in, &a);
	cJSON_Delete(a.payload);
}

void ingest_totals(const struct ingest *in, struct view_totals *t)
{
	t->received = in->n.received;
	t->logged = in->n.logged;
	t->duplicates = in->n.duplicates;
	t->rejected = in->n.rejected;
	t->write_errors = in->n.write_errors;
	t->refused = in->n.refused;
}

/* ------------------------------------------------------------ the logs */

static void on_commit(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ingest *in = w->data;
	int ret;

	if (in->store)
		store_flush(in);
	else if ((ret = histlog_sync(&in->log)) < 0)
		view_warn("fdatasync %s: %s", in->cfg.log, strerror(-ret));
	if ((ret = histlog_sync(&in->rejects)) < 0)
		view_warn("fdatasync %s: %s", in->cfg.reject_log,
		    strerror(-ret));
}

void ingest_reopen(struct ingest *in)
{
	int ret;

	store_flush(in);	/* its position: the end of the old file */
	if ((ret = histlog_reopen(&in->log)) < 0)
		view_warn("reopen %s: %s (still writing the old file)",
		    in->cfg.log, strerror(-ret));
	else
		store_mark_log(in, 0);	/* a new file (logrotate's create) */
	store_flush(in);
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

static void recover_torn(void *ctx, const char *bytes, size_t len)
{
	struct ingest *in = ctx;

	reject(in, now_ms(), NULL, "torn last line of the log, cut off at "
	    "startup", bytes, len);
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
	if (in->recent == NULL) {
		ret = -errno;
		view_warn("duplicate window: %s", strerror(-ret));
		return ret;
	}
	ev_timer_init(&in->commit, on_commit, cfg->fsync_interval,
	    cfg->fsync_interval);
	in->commit.data = in;
	ev_timer_init(&in->retain, on_retain, 0, 3600);
	in->retain.data = in;
	for (k = 0; k < cfg->nseed_logs; k++)
		if ((ret = seed_from(in, cfg->seed_logs[k])) < 0)
			return ret;
	ret = histlog_open(&in->rejects, cfg->reject_log, cfg->fsync, NULL,
	    NULL, NULL, &r);
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
	if (cfg->db) {
		/* The log is the record: without its store the historian
		 * still logs, and the next start catches the store up. */
		if ((ret = store_level(cfg, &in->store)) < 0)
			view_warn("store %s: %s; logging without it", cfg->db,
			    strerror(-ret));
		if (in->store == NULL || store_position(in->store,
		    &in->pos) < 0 || in->pos.offset != (uint64_t)in->log.size)
			store_mark_log(in, r.lines + r.overlong);
	}
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
	if (in->cfg.fsync == HISTLOG_FSYNC_INTERVAL || in->store)
		ev_timer_start(in->loop, &in->commit);
	if (in->store && in->cfg.retain_days > 0)
		ev_timer_start(in->loop, &in->retain);
}

void ingest_stop(struct ingest *in)
{
	ev_timer_stop(in->loop, &in->commit);
	ev_timer_stop(in->loop, &in->retain);
	store_flush(in);
	store_close(in->store);
	in->store = NULL;
	histlog_close(&in->log);
	histlog_close(&in->rejects);
	recent_free(in->recent);
	in->recent = NULL;
}
