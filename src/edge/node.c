/* One edge node: spool, MQTT session, the publish window and resend
 * requests (see node.h). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/sandbox.h"
#include "edge/node.h"

enum {
	KEEPALIVE = 30,
};

void node_log(const struct node *n, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s: ", n->cfg->prog, n->id);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The payload of an entry just appended, still in the caller's hands:
 * published from there rather than read back from the spool file. */
struct fresh {
	uint64_t boot_id, seq;
	const char *payload;
	int len;
};

/* Publishes the oldest unsent entries of one spool (the events' or the
 * readings') while the in-flight window has room.  -1 when publishing
 * failed (the rest waits). */
static int pump_spool(struct node *n, struct spool *sp, bool event,
    const struct fresh *fresh)
{
	char buf[TELEMETRY_PAYLOAD_MAX + 1];
	const char *payload;
	struct spool_entry *e;
	int mid, len, rc;

	while (n->ninflight < NODE_INFLIGHT_MAX &&
	    (e = spool_next_unsent(sp)) != NULL) {
		if (fresh && e->boot_id == fresh->boot_id &&
		    e->seq == fresh->seq) {
			payload = fresh->payload;
			len = fresh->len;
		} else {
			payload = buf;
			len = spool_payload(sp, e, buf, sizeof(buf));
		}
		if (len < 0) {
			node_log(n, "spool read: %s", strerror(-len));
			return -1;
		}
		rc = mosquitto_publish(n->mosq, &mid, event ? n->event_topic :
		    n->topic, len, payload, 1, false);
		if (rc != MOSQ_ERR_SUCCESS) {
			/* Lost connection: the adapter notices and the
			 * entry stays unsent. */
			node_log(n, "publish: %s", mosquitto_strerror(rc));
			return -1;
		}
		n->inflight[n->ninflight++] = (struct node_inflight){ mid,
		    event, e->boot_id, e->seq };
		spool_mark_inflight(sp, e);
		if (!event)
			n->published++;
	}
	return 0;
}

/* Publishes the oldest unsent events, then readings, while connected and
 * the in-flight window has room; fresh (may be NULL) is the entry just
 * appended to the readings' spool (reading) or the events' (!reading). */
static void pump_fresh(struct node *n, const struct fresh *fresh,
    bool reading)
{
	if (!mqtt_loop_connected(&n->ml))
		return;
	if (n->events_open && pump_spool(n, &n->esp, true, reading ? NULL :
	    fresh) < 0)
		return;
	pump_spool(n, &n->sp, false, reading ? fresh : NULL);
}

static void pump(struct node *n)
{
	pump_fresh(n, NULL, true);
}

/* libmosquitto's obj is the adapter (mqtt_loop.h), whose ctx is the node. */
static void on_publish(struct mosquitto *mosq, void *obj, int mid)
{
	struct node *n = ((struct mqtt_loop *)obj)->ctx;
	int i, ret;

	for (i = 0; i < n->ninflight; i++)
		if (n->inflight[i].mid == mid)
			break;
	if (i == n->ninflight)
		return;		/* from before a reconnect: already requeued */
	ret = spool_ack(n->inflight[i].event ? &n->esp : &n->sp,
	    n->inflight[i].boot_id, n->inflight[i].seq);
	if (ret == 0 && n->inflight[i].event)
		n->events_acked++;
	else if (ret == 0)
		n->acked++;
	else if (ret != -ENOENT)
		node_log(n, "spool ack: %s", strerror(-ret));
	if (n->inflight[i].event)
		n->events_dirty = true;
	else
		n->dirty = true;
	n->inflight[i] = n->inflight[--n->ninflight];
	pump(n);
}

static void on_message(struct mosquitto *mosq, void *obj,
    const struct mosquitto_message *msg)
{
	struct node *n = ((struct mqtt_loop *)obj)->ctx;
	struct telemetry_resend rq;
	struct telemetry_error err;
	size_t got;

	if (strcmp(msg->topic, n->cmd_topic) != 0)
		return;
	if (telemetry_resend_parse(msg->payload, (size_t)msg->payloadlen, &rq,
	    &err) != TELEMETRY_OK) {
		node_log(n, "ignored command: %s %s",
		    telemetry_reject_str(err.reason), err.field);
		return;
	}
	got = spool_resend(&n->sp, rq.boot_id, rq.from, rq.to,
	    TELEMETRY_RESEND_MAX);
	n->resends++;
	node_log(n, "resend request boot %" PRIu64 " seq %" PRIu64 "..%" PRIu64
	    ": %zu readings from the spool", rq.boot_id, rq.from, rq.to, got);
	pump(n);
}

static void connected(struct mqtt_loop *ml, int rc, void *ctx)
{
	struct node *n = ctx;

	if (rc != 0) {
		node_log(n, "broker refused the connection: %s",
		    mosquitto_connack_string(rc));
		return;
	}
	node_log(n, "connected to %s:%d (%zu readings waiting)",
	    n->cfg->broker, n->cfg->port, n->sp.pending);
	rc = mosquitto_subscribe(n->mosq, NULL, n->cmd_topic, 1);
	if (rc != MOSQ_ERR_SUCCESS)
		node_log(n, "subscribe %s: %s", n->cmd_topic,
		    mosquitto_strerror(rc));
	pump(n);
}

static void disconnected(struct mqtt_loop *ml, int rc, void *ctx)
{
	struct node *n = ctx;

	node_log(n, "connection lost (%s); %d in flight will be sent again",
	    mosquitto_strerror(rc), n->ninflight);
	n->ninflight = 0;
	spool_requeue_inflight(&n->sp);
	if (n->events_open)
		spool_requeue_inflight(&n->esp);
}

static const struct mqtt_loop_ops loop_ops = {
	.connected = connected,
	.disconnected = disconnected,
};

/* Readings held for want of disk space go to the spool first. */
static void flush_held(struct node *n)
{
	size_t before = n->sp.nheld;

	if (before == 0 || spool_flush_held(&n->sp) == before)
		return;
	n->dirty = true;
	if (n->sp.nheld == 0)
		node_log(n, "spool has room again: held readings written");
	pump(n);
}

void node_publish(struct node *n, const struct telemetry_reading *in)
{
	struct telemetry_reading r = *in;
	char payload[TELEMETRY_PAYLOAD_MAX];
	int len, ret;

	if (r.timestamp_ms == 0)
		r.timestamp_ms = now_ms();
	snprintf(r.node_id, sizeof(r.node_id), "%s", n->id);
	r.boot_id = n->sp.boot_id;
	r.seq = ++n->seq;
	n->generated++;
	len = r.nfields == 0 ? telemetry_build(&r, payload, sizeof(payload)) :
	    telemetry_build_fields(&r, payload, sizeof(payload));
	if (len < 0) {
		node_log(n, "seq %" PRIu64 ": cannot encode: %s", r.seq,
		    strerror(-len));
		n->lost++;
		return;
	}
	flush_held(n);
	ret = spool_append(&n->sp, r.boot_id, r.seq, payload, (size_t)len);
	if (ret == SPOOL_HELD) {
		if (n->sp.nheld == 1)
			node_log(n, "spool write: %s; readings held in memory "
			    "until there is room", strerror(-n->sp.held_err));
		return;
	}
	if (ret < 0) {
		/* The seq is used up all the same: the historian sees the
		 * hole and reports it. */
		n->lost++;
		if (n->lost == 1 || n->lost % 100 == 0)
			node_log(n, "reading seq %" PRIu64 " LOST: spool: %s "
			    "(%" PRIu64 " lost so far)", r.seq,
			    ret == -ENOSPC ? "full of unacknowledged readings"
			    : strerror(-ret), n->lost);
		return;
	}
	n->dirty = true;
	pump_fresh(n, &(struct fresh){ r.boot_id, r.seq, payload, len },
	    true);
}

int node_event(struct node *n, const char *event, const char *members)
{
	char json[NODE_EVENT_MAX];
	uint64_t seq = n->event_seq + 1;
	int len, ret;

	if (!n->events_open)
		return -EINVAL;
	len = snprintf(json, sizeof(json), "{\"event\":\"%s\",\"node_id\":"
	    "\"%s\",\"boot_id\":%" PRIu64 ",\"event_seq\":%" PRIu64 "%s%s}",
	    event, n->id, n->sp.boot_id, seq, members[0] ? "," : "",
	    members);
	ret = len < 0 || (size_t)len >= sizeof(json) ? -EMSGSIZE :
	    spool_append(&n->esp, n->sp.boot_id, seq, json, (size_t)len);
	if (ret == SPOOL_HELD || ret == 0) {
		/* Held for want of disk space: written before the next, and
		 * published only once written. */
		n->event_seq = seq;
		n->events++;
		n->events_dirty = true;
		pump_fresh(n, ret == 0 ? &(struct fresh){ n->sp.boot_id, seq,
		    json, len } : NULL, false);
		return 0;
	}
	n->events_lost++;
	node_log(n, "%s event LOST: events spool: %s", event, ret == -ENOSPC ?
	    "full of unacknowledged events" : strerror(-ret));
	return ret;
}

static int sync_spool(struct node *n, struct spool *sp, const char *what)
{
	char label[SYNCER_LABEL_MAX];

	if (n->cfg->syncer == NULL)
		return spool_sync(sp);
	snprintf(label, sizeof(label), "%s: %s: %s", n->cfg->prog, n->id,
	    what);
	return syncer_add(n->cfg->syncer, sp->fd, label);
}

void node_tick_second(struct node *n)
{
	int ret;

	/* The adapter retries silently; say so now and then. */
	n->down_s = mqtt_loop_connected(&n->ml) ? 0 : n->down_s + 1;
	if (n->down_s == 5 || (n->down_s > 0 && n->down_s % 60 == 0))
		node_log(n, "no broker session with %s:%d for %u s; %zu "
		    "readings waiting in the spool", n->cfg->broker,
		    n->cfg->port, n->down_s, n->sp.pending);
	flush_held(n);
	if (n->events_open && n->esp.nheld > 0 &&
	    spool_flush_held(&n->esp) == 0)
		pump(n);
	if (n->events_dirty && (ret = sync_spool(n, &n->esp,
	    "events spool")) < 0)
		node_log(n, "events spool sync: %s", strerror(-ret));
	n->events_dirty = false;
	if (!n->dirty)
		return;
	n->dirty = false;
	if ((ret = sync_spool(n, &n->sp, "spool")) < 0)
		node_log(n, "spool sync: %s", strerror(-ret));
}

size_t node_pending(const struct node *n)
{
	return n->sp.pending + (n->events_open ? n->esp.pending : 0);
}

static int make_dir(const struct node *n, const char *path)
{
	/* sandbox: a new directory is given to the program's user */
	int ret = sandbox_mkdir(n->cfg->policy, path, 0700);

	if (ret < 0 && ret != -EEXIST)
		return ret;
	return 0;
}

/* The events spool in DIR/events: its entries are keyed by the readings'
 * boot id, which only grows, so its own boot id goes unused. */
static int open_events(struct node *n, const char *dir)
{
	char path[PATH_MAX];
	int ret;

	if (snprintf(path, sizeof(path), "%s/events", dir) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	if ((ret = make_dir(n, path)) < 0 ||
	    (ret = spool_open(&n->esp, path, NODE_EVENTS_MAX)) < 0) {
		node_log(n, "events spool %s: %s", path, strerror(-ret));
		return ret;
	}
	n->events_open = true;
	if (n->esp.repaired_bytes || n->esp.bad_lines)
		node_log(n, "events spool repaired: torn record of %" PRIu64
		    " bytes cut, %" PRIu64 " unreadable lines skipped",
		    n->esp.repaired_bytes, n->esp.bad_lines);
	if (n->esp.pending > 0)
		node_log(n, "%zu unacknowledged events in the spool",
		    n->esp.pending);
	return 0;
}

static int open_spool(struct node *n)
{
	char path[PATH_MAX];
	int ret;

	if (snprintf(path, sizeof(path), "%s/%s", n->cfg->spool_dir, n->id) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	if ((ret = make_dir(n, path)) < 0 ||
	    (ret = spool_open(&n->sp, path, n->cfg->spool_max)) < 0) {
		node_log(n, "spool %s: %s%s", path, ret == -EBUSY ?
		    "in use by another " : strerror(-ret),
		    ret == -EBUSY ? n->cfg->prog : "");
		return ret;
	}
	n->spool_open = true;
	if (n->sp.repaired_bytes || n->sp.bad_lines)
		node_log(n, "spool repaired: torn record of %" PRIu64 " bytes "
		    "cut, %" PRIu64 " unreadable lines skipped",
		    n->sp.repaired_bytes, n->sp.bad_lines);
	node_log(n, "boot %" PRIu64 ", %zu unacknowledged readings in the "
	    "spool", n->sp.boot_id, n->sp.pending);
	return n->cfg->events ? open_events(n, path) : 0;
}

static int new_client(struct node *n, struct ev_loop *loop,
    const char *password)
{
	const char *user = n->cfg->username ? n->cfg->username : n->id;

	n->mosq = mosquitto_new(n->id, true, &n->ml);
	if (n->mosq == NULL)
		return -ENOMEM;
	mosquitto_int_option(n->mosq, MOSQ_OPT_PROTOCOL_VERSION,
	    MQTT_PROTOCOL_V311);
	mosquitto_max_inflight_messages_set(n->mosq, NODE_INFLIGHT_MAX);
	if (mosquitto_username_pw_set(n->mosq, user, password) !=
	    MOSQ_ERR_SUCCESS)
		return -EINVAL;
	mosquitto_publish_callback_set(n->mosq, on_publish);
	mosquitto_message_callback_set(n->mosq, on_message);
	mqtt_loop_init(&n->ml, loop, n->mosq, &loop_ops, n);
	return 0;
}

int node_init(struct node *n, struct ev_loop *loop,
    const struct node_config *cfg, const char *id, const char *password)
{
	int ret;

	*n = (struct node){ .cfg = cfg };
	snprintf(n->id, sizeof(n->id), "%s", id);
	if (telemetry_topic(n->topic, sizeof(n->topic), cfg->prefix, n->id,
	    "telemetry") < 0 || telemetry_topic(n->cmd_topic,
	    sizeof(n->cmd_topic), cfg->prefix, n->id, "cmd") < 0 ||
	    telemetry_topic(n->event_topic, sizeof(n->event_topic),
	    cfg->prefix, n->id, "event") < 0) {
		node_log(n, "topic too long");
		return -EINVAL;
	}
	if ((ret = open_spool(n)) < 0)
		return ret;
	return new_client(n, loop, password);
}

int node_start(struct node *n)
{
	if (mqtt_loop_start(&n->ml, n->cfg->broker, n->cfg->port,
	    KEEPALIVE) < 0) {
		node_log(n, "bad broker address %s:%d", n->cfg->broker,
		    n->cfg->port);
		return -EINVAL;
	}
	return 0;
}

void node_finish(struct node *n)
{
	size_t lost;

	if (n->events_open && spool_flush_held(&n->esp) > 0) {
		lost = spool_drop_held(&n->esp);
		n->events_lost += lost;
		node_log(n, "%zu events LOST: held in memory, no room in the "
		    "spool (%s)", lost, strerror(-n->esp.held_err));
	}
	if (!n->spool_open || spool_flush_held(&n->sp) == 0)
		return;
	lost = spool_drop_held(&n->sp);
	n->lost += lost;
	node_log(n, "%zu readings LOST: held in memory, no room in the spool "
	    "(%s)", lost, strerror(-n->sp.held_err));
}

void node_summary(const struct node *n)
{
	printf("%s: generated %" PRIu64 ", acknowledged %" PRIu64 ", pending "
	    "%zu, lost %" PRIu64 " (boot %" PRIu64 ", published %" PRIu64
	    ", resend requests %" PRIu64 ")\n", n->id, n->generated, n->acked,
	    n->sp.pending, n->lost, n->sp.boot_id, n->published, n->resends);
}

void node_stop(struct node *n)
{
	if (n->mosq)
		mqtt_loop_stop(&n->ml);
}

void node_clear(struct node *n)
{
	if (n->mosq)
		mosquitto_destroy(n->mosq);
	n->mosq = NULL;
	if (n->spool_open)
		spool_close(&n->sp);
	n->spool_open = false;
	if (n->events_open)
		spool_close(&n->esp);
	n->events_open = false;
}
