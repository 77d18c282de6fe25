/* Drives one libmosquitto client from a libev loop, without libmosquitto's
 * own thread or blocking loop:
 *
 * - an ev_io on mosquitto_socket(): readable -> mosquitto_loop_read(),
 *   writable -> mosquitto_loop_write();
 * - an ev_prepare that, before the loop sleeps, watches for writability
 *   only while mosquitto_want_write() says bytes are queued (so a
 *   mosquitto_publish() from anywhere in the program gets flushed without
 *   a "kick" call);
 * - an ev_timer calling mosquitto_loop_misc() every second (keepalive
 *   PINGREQ, ping timeouts);
 * - reconnecting, which libmosquitto leaves to the program when it does not
 *   run its own loop: when the socket goes away (read/write error, broker
 *   closed it, refused CONNACK, keepalive timeout), or no CONNACK arrives
 *   within MQTT_LOOP_CONNECT_TIMEOUT seconds, the adapter waits a backoff
 *   (1 s doubling to 30 s, with jitter; back to 1 s after a CONNACK with
 *   rc 0) and calls mosquitto_reconnect_async().  The socket is a new one
 *   after every reconnect, so the ev_io is stopped and set to the new fd
 *   each time;
 * - MQTT 5 CONNECT properties (mqtt_loop_set_connect_properties()), sent
 *   with every CONNECT: a session whose reconnect lacks the Session Expiry
 *   Interval ends at the next disconnect.  libmosquitto's asynchronous
 *   connect takes no properties, and its reconnect functions resend only
 *   those of an earlier mosquitto_connect_bind_v5() (since 2.0; 1.6 sends
 *   none).  So with properties the adapter connects, and reconnects, with
 *   mosquitto_connect_bind_v5() every time.  That call connects the TCP
 *   socket blocking: meant for a broker on the same host or LAN, which
 *   answers a connect() at once; an address that drops SYNs would stall
 *   the loop for the kernel's connect timeout.
 *
 * The adapter installs libmosquitto's connect and disconnect callbacks
 * itself and forwards them through struct mqtt_loop_ops; the program sets
 * every other callback (message, publish, subscribe, log) itself.  The
 * adapter also sets libmosquitto's user data: the obj argument of every
 * libmosquitto callback is the struct mqtt_loop *, whose ctx member is the
 * program's own pointer.
 *
 * Usage:
 *	mosq = mosquitto_new(id, clean, obj);  ...username/pw, callbacks...
 *	mqtt_loop_init(&ml, EV_DEFAULT, mosq, &ops, ctx);
 *	mqtt_loop_start(&ml, host, port, keepalive);   // async connect
 *	ev_run(EV_DEFAULT, 0);
 *	mqtt_loop_stop(&ml);   // DISCONNECT sent best effort, watchers off
 *	mosquitto_destroy(mosq);
 *
 * The adapter does not own mosq.  Everything runs on the loop's thread.
 */
#ifndef WGU_MQTT_LOOP_H
#define WGU_MQTT_LOOP_H

#include <stdbool.h>
#include <ev.h>
#include <mosquitto.h>

#define MQTT_LOOP_BACKOFF_MIN 1.0
#define MQTT_LOOP_BACKOFF_MAX 30.0
#define MQTT_LOOP_CONNECT_TIMEOUT 10.0

struct mqtt_loop;

struct mqtt_loop_ops {
	/* CONNACK received: rc is the MQTT 3.1.1 return code (0 accepted,
	 * 5 not authorised, ...; mosquitto_connack_string()) or, with MQTT 5,
	 * the reason code (0, 135 not authorised, ...;
	 * mosquitto_reason_string()).  After rc != 0 the adapter
	 * reconnects. */
	void (*connected)(struct mqtt_loop *ml, int rc, void *ctx);
	/* The session is gone (rc 0: we asked for it).  Called once per lost
	 * connection, before the reconnect is scheduled.  QoS 1 messages in
	 * flight may or may not have reached the broker. */
	void (*disconnected)(struct mqtt_loop *ml, int rc, void *ctx);
};

struct mqtt_loop {
	struct ev_loop *loop;
	struct mosquitto *mosq;
	const struct mqtt_loop_ops *ops;
	void *ctx;
	ev_io io;
	ev_prepare prepare;
	ev_timer misc;
	ev_timer retry;		/* reconnect backoff, and the connect timeout */
	int fd;			/* the socket ev_io watches, or -1 */
	bool connected;		/* CONNACK rc 0 seen on this socket */
	bool stopping;
	double backoff;
	unsigned int jitter;	/* xorshift state for the backoff jitter */
	unsigned long reconnects; /* connection attempts after the first */
	/* MQTT 5 only: sent with every CONNECT (see above). */
	const mosquitto_property *connect_props;
	const char *host;
	int port, keepalive;
};

/* Prepares ml; no I/O yet.  ops and ctx must outlive ml. */
void mqtt_loop_init(struct mqtt_loop *ml, struct ev_loop *loop,
    struct mosquitto *mosq, const struct mqtt_loop_ops *ops, void *ctx);

/* MQTT 5: props (Session Expiry Interval, ...) go with every CONNECT,
 * through mosquitto_connect_bind_v5() (see above).  The client must have
 * MOSQ_OPT_PROTOCOL_VERSION set to MQTT_PROTOCOL_V5.  Call before
 * mqtt_loop_start(); props stay the caller's and must outlive ml. */
void mqtt_loop_set_connect_properties(struct mqtt_loop *ml,
    const mosquitto_property *props);

/* Starts connecting (non-blocking TCP connect, except with MQTT 5 CONNECT
 * properties; the host must be an address or resolve quickly, and must
 * outlive ml).  A failure to connect right away is not an error: the
 * adapter retries with backoff.  Returns 0, or -EINVAL for arguments
 * libmosquitto rejects. */
int mqtt_loop_start(struct mqtt_loop *ml, const char *host, int port,
    int keepalive);

/* True while a CONNACK with rc 0 has been seen on the current socket. */
bool mqtt_loop_connected(const struct mqtt_loop *ml);

/* Sends DISCONNECT if connected, flushes what it can without blocking, and
 * stops all watchers.  ml can be discarded afterwards. */
void mqtt_loop_stop(struct mqtt_loop *ml);

#endif
