/* The historian's MQTT session (see session.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <mqtt_protocol.h>

#include "hub/session.h"

enum {
	KEEPALIVE = 30,
	RECEIVE_MAX = 1000,	/* hub-setup's max_inflight_messages */
};
/* MQTT 5 (--share): a session that never expires, like a 3.1.1 session
 * with clean session off; the broker's max_queued_messages bounds it. */
#define SESSION_NEVER_EXPIRES UINT32_MAX

int session_subscription(char *buf, size_t cap, const char *prefix,
    const char *share, const char *kind)
{
	int n = snprintf(buf, cap, "%s%s%s%s/+/%s",
	    share ? "$share/" : "", share ? share : "", share ? "/" : "",
	    prefix, kind);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* libmosquitto's obj is the adapter (mqtt_loop.h), whose ctx is ours. */
static void on_message(struct mosquitto *mosq, void *obj,
    const struct mosquitto_message *m)
{
	struct session *s = ((struct mqtt_loop *)obj)->ctx;

	s->ops->message(s->ctx, m->topic, m->payload,
	    m->payloadlen > 0 ? (size_t)m->payloadlen : 0);
}

static void on_connected(struct mqtt_loop *ml, int rc, void *ctx)
{
	struct session *s = ctx;
	int ret;

	if (rc != 0) {
		view_warn("broker %s:%d refused the connection: %s",
		    s->cfg.broker, s->cfg.port, s->connect_props ?
		    mosquitto_reason_string(rc) : mosquitto_connack_string(rc));
		return;
	}
	/* The persistent session keeps the subscription; subscribing again
	 * is harmless and covers a broker that lost its state. */
	ret = mosquitto_subscribe(s->mosq, NULL, s->sub_topic, 1);
	if (ret != MOSQ_ERR_SUCCESS)
		view_warn("subscribe %s: %s", s->sub_topic,
		    mosquitto_strerror(ret));
	ret = mosquitto_subscribe(s->mosq, NULL, s->event_topic, 1);
	if (ret != MOSQ_ERR_SUCCESS)
		view_warn("subscribe %s: %s", s->event_topic,
		    mosquitto_strerror(ret));
	view_event(s->view, VIEW_SESSION, "connected to %s:%d, subscribed to "
	    "%s and %s", s->cfg.broker, s->cfg.port, s->sub_topic,
	    s->event_topic);
	s->ops->connected(s->ctx);
}

static void on_disconnected(struct mqtt_loop *ml, int rc, void *ctx)
{
	struct session *s = ctx;

	view_event(s->view, VIEW_SESSION, "disconnected from %s:%d (%s), "
	    "reconnecting", s->cfg.broker, s->cfg.port,
	    rc ? mosquitto_strerror(rc) : "asked");
}

static const struct mqtt_loop_ops loop_ops = {
	.connected = on_connected,
	.disconnected = on_disconnected,
};

int session_init(struct session *s, struct ev_loop *loop,
    const struct session_config *cfg, const char *password,
    const struct view *view, const struct session_ops *ops, void *ctx)
{
	int ret;

	*s = (struct session){ .cfg = *cfg, .view = view, .ops = ops,
	    .ctx = ctx };
	if ((ret = session_subscription(s->sub_topic, sizeof(s->sub_topic),
	    cfg->prefix, cfg->share, "telemetry")) < 0 ||
	    (ret = session_subscription(s->event_topic,
	    sizeof(s->event_topic), cfg->prefix, cfg->share, "event")) < 0)
		return ret;
	/* Clean session off: the broker keeps the subscription and queues
	 * what arrives while we are away.  Shared subscriptions are MQTT 5,
	 * where that takes a Session Expiry Interval in every CONNECT (the
	 * adapter sends it on each reconnect too; without it the session
	 * would end at the first disconnect after a reconnect).  Without
	 * --share, MQTT 3.1.1, whose clean session flag alone does it. */
	s->mosq = mosquitto_new(cfg->client_id, false, &s->ml);
	if (s->mosq == NULL)
		return -ENOMEM;
	if (mosquitto_username_pw_set(s->mosq, cfg->username, password) !=
	    MOSQ_ERR_SUCCESS)
		return -EINVAL;
	mosquitto_message_callback_set(s->mosq, on_message);
	mqtt_loop_init(&s->ml, loop, s->mosq, &loop_ops, s);
	if (cfg->share) {
		/* MQTT 5's Receive Maximum: the in-flight window that the
		 * broker's max_inflight_messages is for 3.1.1 (hub-setup). */
		if (mosquitto_int_option(s->mosq, MOSQ_OPT_PROTOCOL_VERSION,
		    MQTT_PROTOCOL_V5) != MOSQ_ERR_SUCCESS ||
		    mosquitto_int_option(s->mosq, MOSQ_OPT_RECEIVE_MAXIMUM,
		    RECEIVE_MAX) != MOSQ_ERR_SUCCESS ||
		    mosquitto_property_add_int32(&s->connect_props,
		    MQTT_PROP_SESSION_EXPIRY_INTERVAL,
		    SESSION_NEVER_EXPIRES) != MOSQ_ERR_SUCCESS)
			return -ENOMEM;
		mqtt_loop_set_connect_properties(&s->ml, s->connect_props);
	}
	return 0;
}

int session_start(struct session *s)
{
	return mqtt_loop_start(&s->ml, s->cfg.broker, s->cfg.port, KEEPALIVE);
}

int session_publish(struct session *s, const char *topic,
    const char *payload, size_t len)
{
	int ret;

	if (!mqtt_loop_connected(&s->ml))
		return -ENOTCONN;
	ret = mosquitto_publish(s->mosq, NULL, topic, (int)len, payload, 1,
	    false);
	switch (ret) {
	case MOSQ_ERR_SUCCESS:
		return 0;
	case MOSQ_ERR_NO_CONN:
		return -ENOTCONN;
	case MOSQ_ERR_NOMEM:
		return -ENOMEM;
	case MOSQ_ERR_PAYLOAD_SIZE:
		return -EMSGSIZE;
	default:
		return -EIO;
	}
}

void session_stop(struct session *s)
{
	if (s->mosq)
		mqtt_loop_stop(&s->ml);
}

void session_clear(struct session *s)
{
	if (s->mosq)
		mosquitto_destroy(s->mosq);
	s->mosq = NULL;
	mosquitto_property_free_all(&s->connect_props);
}
