/* The historian's MQTT session: one libmosquitto client driven by
 * mqtt_loop.h, subscribed with QoS 1 to every node's telemetry in a
 * persistent session (clean session off; with --share, MQTT 5 and a
 * session that never expires), handing each message to the program and
 * publishing its commands.
 *
 * Usage: session_init() (after mosquitto_lib_init()), session_start(),
 * ev_run(), session_stop(), session_clear(). */
#ifndef WGU_HUB_SESSION_H
#define WGU_HUB_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include <ev.h>
#include <mosquitto.h>

#include "hub/view.h"
#include "mqtt/mqtt_loop.h"

enum {
	SESSION_TOPIC_MAX = 512,
};

struct session_config {
	const char *broker, *username, *client_id, *prefix;
	const char *share;	/* MQTT 5 shared subscription group, or NULL */
	int port;
};

struct session_ops {
	/* A message on the subscription; topic NUL-terminated, payload not
	 * (len bytes, any bytes). */
	void (*message)(void *ctx, const char *topic, const void *payload,
	    size_t len);
	/* Subscribed again after a (re)connect. */
	void (*connected)(void *ctx);
};

struct session {
	struct session_config cfg;
	const struct view *view;
	const struct session_ops *ops;
	void *ctx;
	struct mosquitto *mosq;
	struct mqtt_loop ml;
	mosquitto_property *connect_props;	/* MQTT 5 (--share) only */
	char sub_topic[SESSION_TOPIC_MAX];
	char event_topic[SESSION_TOPIC_MAX];	/* PREFIX/+/event */
};

/* A subscription: PREFIX/+/KIND, or $share/GROUP/PREFIX/+/KIND (KIND
 * "telemetry" for readings, "event" for the nodes' events).  Returns 0, or
 * -ENAMETOOLONG when it does not fit in cap. */
int session_subscription(char *buf, size_t cap, const char *prefix,
    const char *share, const char *kind);

/* Creates the client with the credentials (password may be NULL; the
 * caller wipes its copy afterwards, libmosquitto keeps its own).  cfg's
 * strings, view, ops and ctx must outlive s.  0 or a negative errno; on
 * error session_clear() still frees what was made. */
int session_init(struct session *s, struct ev_loop *loop,
    const struct session_config *cfg, const char *password,
    const struct view *view, const struct session_ops *ops, void *ctx);

/* Starts connecting; the adapter reconnects for ever.  0 or -EINVAL. */
int session_start(struct session *s);

/* Publishes a QoS 1 command.  0, -ENOTCONN while there is no session (the
 * caller asks again later), or another negative errno. */
int session_publish(struct session *s, const char *topic,
    const char *payload, size_t len);

/* DISCONNECT (best effort) and watchers off. */
void session_stop(struct session *s);

/* Frees the client; safe after a failed session_init(). */
void session_clear(struct session *s);

#endif
