/* The historian's alarms at work (see watch.h). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/buf.h"
#include "cli/ipc.h"
#include "hub/peers.h"
#include "hub/store.h"
#include "hub/watch.h"

/* ms since the epoch (CLOCK_REALTIME), the time of the alarms. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- changes */

static void said_store_error(struct watch *w, struct store *s, int ret)
{
	if (w->store_errors++ == 0)
		view_warn("store: alarm not kept: %s (said once)",
		    ret == -ENOMEM ? strerror(-ret) : store_error(s));
}

/* Every change: kept, shown, published, and the hook run. */
static void on_changed(void *ctx, struct alarm *a, enum alarm_event ev)
{
	struct watch *w = ctx;
	struct store *s = ingest_store(w->in);
	int ret = 0;

	if (ev == ALARM_RAISE) {
		if (s == NULL || (ret = store_alarm_add(s, a)) < 0)
			a->id = w->last_id + 1;
		if (a->id > w->last_id)
			w->last_id = a->id;
	} else if (s) {
		ret = store_alarm_update(s, a);
	}
	if (ret < 0)
		said_store_error(w, s, ret);
	if (ev != ALARM_PEAK)
		view_event(w->view, VIEW_SESSION, "ALARM %s #%" PRId64 " %s %s%s%s"
		    " %s: %s", alarm_event_name(ev), a->id, a->node,
		    alarm_kind_name(a->kind), a->field[0] ? " " : "", a->field,
		    a->severity == ALARM_CRITICAL ? "critical" : "warning",
		    a->detail);
	alarms_publish(&w->pub, a, ev);
	hook_alarm(w->hook, a, ev);
}

/* ---------------------------------------------------------------- inputs */

static void on_reading(void *ctx, const struct telemetry_reading *r,
    uint64_t received)
{
	struct watch *w = ctx;

	w->lag = ((double)received - (double)r->timestamp_ms) / 1000.0;
	alarms_reading(&w->al, r, (int64_t)received);
}

static void on_event(void *ctx, const char *node, const char *event,
    const char *reason, uint64_t received)
{
	struct watch *w = ctx;

	alarms_event(&w->al, node, event, reason, (int64_t)received);
}

static void on_tick(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct watch *w = t->data;

	alarms_tick(&w->al, now_ms());
}

/* The gaps of every node to the alarms; returns the gaps open. */
static uint64_t gaps(struct watch *w, int64_t now)
{
	uint64_t open = 0, missing;
	size_t i, b, ngaps;

	for (i = 0; i < dedup_node_count(w->dedup); i++) {
		const struct dedup_node *nd = dedup_node_at(w->dedup, i);

		ngaps = 0;
		missing = 0;
		for (b = 0; b < nd->nboots; b++) {
			ngaps += nd->boots[b].ngaps;
			missing += dedup_missing(&nd->boots[b]);
		}
		open += ngaps;
		if (w->cfg.gaps)
			alarms_gaps(&w->al, nd->node_id, ngaps, missing, now);
	}
	return open;
}

static void on_stats(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct watch *w = t->data;
	int64_t now = now_ms();
	const struct ingest_counters *n = &w->in->n;
	struct store *s;
	double gaps_open = (double)gaps(w, now);
	const struct { const char *name; double value; } rows[] = {
		{ "duplicates_dropped", (double)n->duplicates },
		{ "gaps_open", gaps_open },
		{ "rejects", (double)n->rejected },
		{ "log_bytes", (double)w->in->log.size },
		{ "ingest_lag_seconds", w->lag },
		{ "readings_logged", (double)n->logged },
		{ "alarms_open", (double)alarms_open_count(&w->al) },
		{ "alarms_published", (double)w->pub.published },
		{ "hook_runs", (double)w->hook->n.runs },
		{ "hook_failures", (double)w->hook->n.failures },
	};
	size_t i;
	int ret;

	if ((s = ingest_store(w->in)) == NULL)
		return;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if ((ret = store_stat_set(s, rows[i].name, rows[i].value,
		    now)) < 0) {
			said_store_error(w, s, ret);
			break;
		}
}

/* ---------------------------------------------------------------- peers */

static void peer_seen(void *ctx, const char *key_b64, int64_t latest_ms)
{
	struct watch *w = ctx;

	alarms_peer(&w->al, key_b64, latest_ms, now_ms());
}

static void on_peers(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct watch *w = t->data;
	struct wg_buf reply = { 0 };
	int ret;

	/* The daemon's local socket answers at once (it is not the
	 * network): a blocking exchange, every WATCH_PEERS_SECONDS, that
	 * gives up on a daemon that hangs rather than hold up the
	 * readings. */
	ret = wg_ipc_monitor_call_timeout(w->cfg.interface, "get=1\n\n",
	    &reply, WATCH_UAPI_TIMEOUT_MS);
	if (ret == 0)
		ret = peers_parse(reply.s, peer_seen, w);
	wg_buf_free(&reply);	/* wiped (the monitor sends no keys) */
	if (ret < 0) {
		/* The peers' state is unknown: their alarms stay as they
		 * are. */
		if (!w->peers_failing)
			view_warn("--interface %s: monitor socket: %s (the peers' "
			    "handshakes are not watched until it answers)",
			    w->cfg.interface, strerror(-ret));
		w->peers_failing = true;
		return;
	}
	if (w->peers_failing)
		view_warn("--interface %s: UAPI answers again",
		    w->cfg.interface);
	w->peers_failing = false;
	alarms_peers_done(&w->al, now_ms());
}

/* ---------------------------------------------------------------- setup */

void watch_prepare(struct watch *w, const struct watch_config *cfg,
    struct hook *hook, const struct view *view, alarms_publish_fn *publish,
    void *publish_ctx)
{
	*w = (struct watch){ .cfg = *cfg, .hook = hook, .view = view };
	alarms_init(&w->al, &cfg->alarms, on_changed, w);
	/* The prefix was checked with the options: it fits. */
	(void)alarms_publisher_init(&w->pub, cfg->prefix, publish,
	    publish_ctx);
	w->observer = (struct ingest_observer){ .reading = on_reading,
	    .event = on_event, .ctx = w };
}

static int resume(void *ctx, const struct alarm *a)
{
	struct watch *w = ctx;
	struct alarm closed;
	int ret;

	if (a->id > w->last_id)
		w->last_id = a->id;
	/* Without --interface nobody watches the peers any more. */
	if (a->kind == ALARM_HANDSHAKE && w->cfg.interface == NULL)
		ret = -EEXIST;
	else
		ret = alarms_resume(&w->al, a);
	if (ret == -EEXIST) {
		/* A second open alarm of one key: closed, not resumed. */
		closed = *a;
		closed.end = now_ms();
		if ((ret = store_alarm_update(ingest_store(w->in), &closed)) <
		    0)
			return ret;
		view_event(w->view, VIEW_SESSION, "ALARM #%" PRId64 " closed "
		    "at start (%s)", a->id, a->kind == ALARM_HANDSHAKE &&
		    w->cfg.interface == NULL ? "no --interface" :
		    "another alarm of its key is open");
		return 0;
	}
	return ret == -ENOSPC ? 0 : ret;
}

static int seen(void *ctx, const char *node, int64_t received_ms)
{
	struct watch *w = ctx;

	alarms_seen(&w->al, node, received_ms);
	return 0;
}

void watch_init(struct watch *w, struct ev_loop *loop, struct ingest *in,
    const struct dedup_table *dedup)
{
	struct store *s = ingest_store(in);

	w->loop = loop;
	w->in = in;
	w->dedup = dedup;
	/* The log goes on without them: said, not fatal. */
	if (s && (store_alarms_open(s, resume, w) < 0 ||
	    store_nodes_last(s, seen, w) < 0 ||
	    store_thresholds_set(s, w->cfg.alarms.thresholds,
	    w->cfg.alarms.nthresholds) < 0))
		view_warn("store: the open alarms, the nodes or the thresholds "
		    "cannot be read or written (%s): alarms already open may be "
		    "raised again", store_error(s));
	if (alarms_open_count(&w->al) > 0)
		view_event(w->view, VIEW_SESSION, "%zu alarms open, resumed "
		    "from the store", alarms_open_count(&w->al));
	ev_timer_init(&w->tick, on_tick, WATCH_TICK_SECONDS,
	    WATCH_TICK_SECONDS);
	ev_timer_init(&w->stats, on_stats, WATCH_STATS_SECONDS,
	    WATCH_STATS_SECONDS);
	ev_timer_init(&w->peers, on_peers, 0.5, WATCH_PEERS_SECONDS);
	w->tick.data = w->stats.data = w->peers.data = w;
}

void watch_start(struct watch *w)
{
	ev_timer_start(w->loop, &w->tick);
	ev_timer_start(w->loop, &w->stats);
	if (w->cfg.interface)
		ev_timer_start(w->loop, &w->peers);
	else
		/* Nothing to watch: resumed handshake alarms were closed. */
		alarms_peers_done(&w->al, now_ms());
}

void watch_connected(struct watch *w)
{
	alarms_publish_flush(&w->pub);
}

void watch_stop(struct watch *w)
{
	if (w->loop) {
		ev_timer_stop(w->loop, &w->tick);
		ev_timer_stop(w->loop, &w->stats);
		ev_timer_stop(w->loop, &w->peers);
	}
	alarms_publisher_clear(&w->pub);
	alarms_clear(&w->al);
}
