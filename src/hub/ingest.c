/* The historian's ingest, the path of each message: validate -> dedup
 * -> append -> remember (see ingest.h).  ingest_logs.c opens and recovers
 * the logs and commits them; ingest_store.c hands the store each reading
 * appended. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "hub/ingest.h"
#include "hub/ingest_internal.h"
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

uint64_t ingest_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* To the reject log, with the reason; topic may be NULL.  A node's event
 * (is_event) goes there too, with its name as the reason: the log of
 * everything that is not a reading.  0 when the line is in the file. */
static int reject_or_event(struct ingest *in, uint64_t received,
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
	return ret;
}

void ingest_reject(struct ingest *in, uint64_t received, const char *topic,
    const char *reason, const void *raw, size_t rawlen)
{
	reject_or_event(in, received, topic, reason, raw, rawlen, false);
}

/* An event's key: 1 with *boot and *seq when it has "boot_id" and
 * "event_seq" (integers, event_seq from 1), 0 when it has neither, -1
 * when they are not both such numbers. */
static int event_key(const cJSON *root, uint64_t *boot, uint64_t *seq)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(root, "boot_id");
	const cJSON *q = cJSON_GetObjectItemCaseSensitive(root, "event_seq");
	const double max = 9007199254740992.0;	/* 2^53 */

	if (b == NULL && q == NULL)
		return 0;
	if (!cJSON_IsNumber(b) || !cJSON_IsNumber(q) || b->valuedouble < 0 ||
	    b->valuedouble > max || q->valuedouble < 1 ||
	    q->valuedouble > max || b->valuedouble != (uint64_t)b->valuedouble ||
	    q->valuedouble != (uint64_t)q->valuedouble)
		return -1;
	*boot = (uint64_t)b->valuedouble;
	*seq = (uint64_t)q->valuedouble;
	return 1;
}

/* A keyed event: DEDUP_NEW to log it, else dropped (a copy, counted) or
 * refused (*why set). */
static enum dedup_verdict event_admit(struct ingest *in, const char *node,
    uint64_t boot, uint64_t seq, const char **why)
{
	enum dedup_verdict v = dedup_lookup(in->event_dedup, node, boot, seq);

	if (v == DEDUP_DUPLICATE) {
		in->n.event_duplicates++;
		view_event(in->view, VIEW_DUPLICATE, "duplicate event %s boot %"
		    PRIu64 " event_seq %" PRIu64 " dropped", node, boot, seq);
	} else if (v != DEDUP_NEW) {
		*why = v == DEDUP_RETIRED ? "event: boot retired: older than "
		    "the boots kept for this node" : "event: no room to keep "
		    "its duplicate state";
	}
	return v;
}

/* An event on PREFIX/NODE/event: a JSON object of at most
 * TELEMETRY_PAYLOAD_MAX bytes with "event" (1..32 of [a-z-]),
 * "node_id" (the topic's node) and, for exactly once, "boot_id" and
 * "event_seq" (ingest.h).  Logged as it came; anything else is
 * rejected. */
static void event_message(struct ingest *in, uint64_t received,
    const char *topic, const char *node, const void *payload, size_t len)
{
	const cJSON *ev = NULL, *id;
	cJSON *root = NULL;
	char reason[64];
	const char *why = NULL;
	uint64_t boot = 0, seq = 0;
	enum dedup_effect effect;
	int keyed = 0;

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
	else if ((keyed = event_key(root, &boot, &seq)) < 0)
		why = "event: boot_id and event_seq must be integers "
		    "(event_seq from 1)";
	if (why == NULL && keyed && event_admit(in, node, boot, seq, &why) ==
	    DEDUP_DUPLICATE) {
		cJSON_Delete(root);
		return;
	}
	if (why == NULL)
		snprintf(reason, sizeof(reason), "event %s", ev->valuestring);
	if (reject_or_event(in, received, topic, why ? why : reason, payload,
	    len, why == NULL) == 0 && why == NULL && keyed)
		/* Cannot fail after DEDUP_NEW (dedup.h); not in the file,
		 * it is not seen, and its next copy is logged. */
		dedup_add(in->event_dedup, node, boot, seq, false, &effect,
		    NULL);
	if (why == NULL && in->cfg.observer && in->cfg.observer->event) {
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(root,
		    "reason");

		in->cfg.observer->event(in->cfg.observer->ctx, node,
		    ev->valuestring, cJSON_IsString(r) ? r->valuestring : "",
		    received);
	}
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
		ingest_reject(in, a->received, a->topic, "unexpected topic: "
		    "readings go to PREFIX/NODE/telemetry", payload, len);
		return -EINVAL;
	}
	rc = telemetry_parse_tree(payload, len, &opts, &a->r, &a->payload,
	    &err);
	if (rc != TELEMETRY_OK) {
		telemetry_error_format(&err, reason, sizeof(reason));
		ingest_reject(in, a->received, a->topic, reason, payload, len);
		return -EINVAL;
	}
	if (strcmp(a->r.node_id, node) != 0) {
		/* A node may only speak for itself (the ACL lets it write
		 * its own topic only). */
		ingest_reject(in, a->received, a->topic, "node_id does not "
		    "match topic", payload, len);
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
	ingest_reject(in, a->received, a->topic, why, payload, len);
	return false;
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
	ingest_store_take(in, &a->r, a->received);
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
	struct accepted a = { .received = ingest_now_ms(), .topic = topic };
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
	if (admit(in, &a, payload, len) && append(in, &a) == 0) {
		remember(in, &a);
		if (in->cfg.observer && in->cfg.observer->reading)
			in->cfg.observer->reading(in->cfg.observer->ctx, &a.r,
			    a.received);
	}
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
