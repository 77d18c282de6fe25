/* The dashboard's own MQTT subscription, read-only: PREFIX/+/telemetry
 * (readings, parsed by the shared telemetry codec into the fleet),
 * PREFIX/+/event (counted) and PREFIX/alarms (the historian's alarms,
 * with their acks), each passed on to the live-event hook.  A payload
 * that is no reading or no alarm is counted and dropped. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <mosquitto.h>

#include "dashboard/internal.h"
#include "edge/password.h"
#include "mqtt/mqtt_loop.h"

enum {
	KEEPALIVE = 30,
	TOPIC_MAX = 512,
	ALARM_PAYLOAD_MAX = 4096,
};

struct dash_feed {
	struct dash_data *d;
	struct mosquitto *mosq;
	struct mqtt_loop ml;
	char sub_telemetry[TOPIC_MAX], sub_event[TOPIC_MAX];
	char alarms[TOPIC_MAX];
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void emit(struct dash_data *d, const char *event, cJSON *o)
{
	char *text;

	if (d->cfg.on_event && o && (text = cJSON_PrintUnformatted(o))) {
		d->cfg.on_event(d->cfg.event_arg, event, text);
		free(text);
	}
	cJSON_Delete(o);
}

static cJSON *reading_json(const struct telemetry_reading *r,
    const struct fleet_entry *e, int64_t received_ms)
{
	cJSON *o = cJSON_CreateObject(), *data;
	size_t i;

	cJSON_AddStringToObject(o, "node", r->node_id);
	cJSON_AddNumberToObject(o, "ts", (double)r->timestamp_ms);
	cJSON_AddNumberToObject(o, "received", (double)received_ms);
	/* NAN (no such field) prints as null. */
	cJSON_AddNumberToObject(o, "p", r->p);
	cJSON_AddNumberToObject(o, "t", r->t);
	cJSON_AddNumberToObject(o, "v", r->v);
	cJSON_AddNumberToObject(o, "status", r->status);
	if (r->has_seq) {
		cJSON_AddNumberToObject(o, "boot_id", (double)r->boot_id);
		cJSON_AddNumberToObject(o, "seq", (double)r->seq);
	}
	if (e) {
		cJSON_AddNumberToObject(o, "readings", (double)e->readings);
		cJSON_AddNumberToObject(o, "rate", e->rate);
	}
	data = cJSON_AddObjectToObject(o, "data");
	for (i = 0; i < r->nfields; i++)
		cJSON_AddNumberToObject(data, r->fields[i].name,
		    r->fields[i].value);
	return o;
}

static void take_reading(struct dash_data *d, const char *node,
    const void *payload, size_t len, int64_t received_ms)
{
	const struct telemetry_parse_opts opts = { 0 };
	struct telemetry_reading r;
	struct fleet_entry e;
	bool have;

	/* Both schemas, with and without boot_id/seq: a display needs no
	 * duplicate window.  The node in the payload must be the topic's
	 * (the broker's ACL vouches only for the topic). */
	if (telemetry_parse_with(payload, len, &opts, &r, NULL) !=
	    TELEMETRY_OK || strcmp(r.node_id, node) != 0) {
		DASH_COUNT(d, bad_readings);
		return;
	}
	if (fleet_update(d->fleet, &r, received_ms, true) < 0)
		return;
	have = fleet_lookup(d->fleet, node, received_ms, &e) == 0;
	if (d->cfg.on_event)
		emit(d, "reading", reading_json(&r, have ? &e : NULL,
		    received_ms));
}

static void take_alarm(struct dash_data *d, const void *payload, size_t len)
{
	cJSON *msg, *o;

	if (len > ALARM_PAYLOAD_MAX || memchr(payload, '\0', len) ||
	    (msg = cJSON_ParseWithLength(payload, len)) == NULL) {
		DASH_COUNT(d, bad_alarms);
		return;
	}
	o = dash_alarm_with_ack(d, msg);
	cJSON_Delete(msg);
	if (o == NULL) {
		DASH_COUNT(d, bad_alarms);
		return;
	}
	emit(d, "alarm", o);
}

/* PREFIX/NODE/KIND: the node, when topic is under our prefix. */
static bool under_prefix(const struct dash_data *d, const char *topic,
    const char *kind, char node[static TELEMETRY_NODE_ID_MAX + 1])
{
	size_t plen = strlen(d->topic_prefix);

	return strncmp(topic, d->topic_prefix, plen) == 0 &&
	    topic[plen] == '/' && strchr(topic + plen + 1, '/') ==
	    strrchr(topic, '/') && telemetry_topic_node(topic, kind, node) == 0;
}

void dash_feed_message(struct dash_data *d, const char *topic,
    const void *payload, size_t len, int64_t received_ms)
{
	char node[TELEMETRY_NODE_ID_MAX + 1], alarms[TOPIC_MAX];

	snprintf(alarms, sizeof(alarms), "%s/alarms", d->topic_prefix);
	if (strcmp(topic, alarms) == 0)
		take_alarm(d, payload, len);
	else if (under_prefix(d, topic, "telemetry", node))
		take_reading(d, node, payload, len, received_ms);
	else if (under_prefix(d, topic, "event", node))
		DASH_COUNT(d, node_events);
	else
		DASH_COUNT(d, other);
}

static void on_message(struct mosquitto *mosq, void *obj,
    const struct mosquitto_message *m)
{
	struct dash_feed *f = ((struct mqtt_loop *)obj)->ctx;

	(void)mosq;
	dash_feed_message(f->d, m->topic, m->payload,
	    m->payloadlen > 0 ? (size_t)m->payloadlen : 0, now_ms());
}

static void subscribe(struct dash_feed *f, const char *topic, int qos)
{
	int ret = mosquitto_subscribe(f->mosq, NULL, topic, qos);

	if (ret != MOSQ_ERR_SUCCESS)
		fprintf(stderr, "wgu-dashboard: subscribe %s: %s\n", topic,
		    mosquitto_strerror(ret));
}

static void on_connected(struct mqtt_loop *ml, int rc, void *ctx)
{
	struct dash_feed *f = ctx;

	(void)ml;
	if (rc != 0) {
		fprintf(stderr, "wgu-dashboard: broker %s:%d refused the "
		    "connection: %s\n", f->d->broker_host,
		    f->d->cfg.broker_port,
		    mosquitto_connack_string(rc));
		return;
	}
	/* Live display: a reading lost in a reconnect is in the store. */
	subscribe(f, f->sub_telemetry, 0);
	subscribe(f, f->sub_event, 0);
	subscribe(f, f->alarms, 1);
	fprintf(stderr, "wgu-dashboard: connected to %s:%d\n",
	    f->d->broker_host, f->d->cfg.broker_port);
}

static void on_disconnected(struct mqtt_loop *ml, int rc, void *ctx)
{
	struct dash_feed *f = ctx;

	(void)ml;
	fprintf(stderr, "wgu-dashboard: disconnected from %s:%d (%s), "
	    "reconnecting\n", f->d->broker_host, f->d->cfg.broker_port,
	    rc ? mosquitto_strerror(rc) : "asked");
}

static const struct mqtt_loop_ops loop_ops = {
	.connected = on_connected,
	.disconnected = on_disconnected,
};

static int make_client(struct dash_data *d, struct dash_feed *f,
    char err[static DASH_ERR_MAX])
{
	char pw[EDGE_PASSWORD_MAX];
	int ret = 0;

	f->mosq = mosquitto_new(d->client_id, true, NULL);
	if (f->mosq == NULL) {
		snprintf(err, DASH_ERR_MAX, "mosquitto_new: %s",
		    strerror(errno));
		return -ENOMEM;
	}
	pw[0] = '\0';
	if (d->password_file && (ret = edge_password_read(d->password_file,
	    d->username ? d->username : "", true, pw)) < 0) {
		snprintf(err, DASH_ERR_MAX, "--password-file %s: %s",
		    d->password_file, ret == -ENOENT ? "no password on its "
		    "first line" : strerror(-ret));
		goto out;
	}
	if (d->username && mosquitto_username_pw_set(f->mosq, d->username,
	    d->password_file ? pw : NULL) != MOSQ_ERR_SUCCESS) {
		snprintf(err, DASH_ERR_MAX, "bad MQTT user name");
		ret = -EINVAL;
		goto out;
	}
	mosquitto_message_callback_set(f->mosq, on_message);
out:
	explicit_bzero(pw, sizeof(pw));
	return ret;
}

int dash_feed_start(struct dash_data *d, struct ev_loop *loop,
    char err[static DASH_ERR_MAX])
{
	struct dash_feed *f = calloc(1, sizeof(*f));
	int ret;

	if (f == NULL)
		return -ENOMEM;
	f->d = d;
	snprintf(f->sub_telemetry, TOPIC_MAX, "%s/+/telemetry",
	    d->topic_prefix);
	snprintf(f->sub_event, TOPIC_MAX, "%s/+/event", d->topic_prefix);
	snprintf(f->alarms, TOPIC_MAX, "%s/alarms", d->topic_prefix);
	mosquitto_lib_init();
	if ((ret = make_client(d, f, err)) < 0)
		goto fail;
	mqtt_loop_init(&f->ml, loop, f->mosq, &loop_ops, f);
	ret = mqtt_loop_start(&f->ml, d->broker_host, d->cfg.broker_port,
	    KEEPALIVE);
	if (ret < 0) {
		snprintf(err, DASH_ERR_MAX, "broker %s:%d: %s", d->broker_host,
		    d->cfg.broker_port, strerror(-ret));
		goto fail;
	}
	d->feed = f;
	return 0;
fail:
	mosquitto_destroy(f->mosq);
	mosquitto_lib_cleanup();
	free(f);
	return ret;
}

void dash_feed_stop(struct dash_data *d)
{
	struct dash_feed *f = d->feed;

	if (f == NULL)
		return;
	mqtt_loop_stop(&f->ml);
	mosquitto_destroy(f->mosq);
	mosquitto_lib_cleanup();
	free(f);
	d->feed = NULL;
}
