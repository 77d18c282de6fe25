/* libmosquitto driven by libev; the design is described in mqtt_loop.h. */
#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "mqtt/mqtt_loop.h"

static void on_connect(struct mosquitto *mosq, void *obj, int rc);
static void on_disconnect(struct mosquitto *mosq, void *obj, int rc);
static void schedule_retry(struct mqtt_loop *ml);

/* Stops watching the current socket (it is closed or about to be). */
static void detach(struct mqtt_loop *ml)
{
	ev_io_stop(ml->loop, &ml->io);
	ml->fd = -1;
}

/* Starts watching the socket libmosquitto has now, which after a reconnect
 * is a different descriptor from the last one. */
static void attach(struct mqtt_loop *ml)
{
	int fd = mosquitto_socket(ml->mosq);

	if (fd == ml->fd)
		return;
	detach(ml);
	if (fd < 0)
		return;
	ml->fd = fd;
	ev_io_set(&ml->io, fd, EV_READ | (mosquitto_want_write(ml->mosq) ?
	    EV_WRITE : 0));
	ev_io_start(ml->loop, &ml->io);
}

/* The socket is gone: tell the program once, then retry later. */
static void lost(struct mqtt_loop *ml, int rc)
{
	bool was = ml->connected;

	detach(ml);
	ml->connected = false;
	if (was && ml->ops->disconnected)
		ml->ops->disconnected(ml, rc, ml->ctx);
	if (!ml->stopping)
		schedule_retry(ml);
}

/* After any libmosquitto call: did it close the socket? */
static void check_socket(struct mqtt_loop *ml, int rc)
{
	if (ml->fd >= 0 && mosquitto_socket(ml->mosq) != ml->fd) {
		lost(ml, rc ? rc : MOSQ_ERR_CONN_LOST);
		return;
	}
	if (rc != MOSQ_ERR_SUCCESS && ml->fd >= 0) {
		/* An error with the socket still open: make sure it is
		 * closed before it is reopened. */
		mosquitto_disconnect(ml->mosq);
		lost(ml, rc);
	}
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mqtt_loop *ml = w->data;
	int rc = MOSQ_ERR_SUCCESS;

	if (revents & EV_READ)
		rc = mosquitto_loop_read(ml->mosq, 1);
	if (rc == MOSQ_ERR_SUCCESS && ml->fd >= 0 &&
	    mosquitto_socket(ml->mosq) == ml->fd && (revents & EV_WRITE))
		rc = mosquitto_loop_write(ml->mosq, 1);
	check_socket(ml, rc);
}

/* Before the loop sleeps: watch for writability only while libmosquitto
 * has bytes queued, else the loop would spin on a writable socket. */
static void prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct mqtt_loop *ml = w->data;
	int want;

	if (ml->fd < 0)
		return;
	want = EV_READ | (mosquitto_want_write(ml->mosq) ? EV_WRITE : 0);
	if ((ml->io.events & (EV_READ | EV_WRITE)) != want) {
		ev_io_stop(loop, &ml->io);
		ev_io_set(&ml->io, ml->fd, want);
		ev_io_start(loop, &ml->io);
	}
}

static void misc_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mqtt_loop *ml = w->data;

	if (ml->fd < 0)
		return;
	check_socket(ml, mosquitto_loop_misc(ml->mosq));
}

/* The next backoff: doubling, capped, with +-25% jitter so that many
 * nodes that lost the broker together do not all come back at once. */
static double next_backoff(struct mqtt_loop *ml)
{
	double d = ml->backoff, j;

	ml->jitter ^= ml->jitter << 13;
	ml->jitter ^= ml->jitter >> 17;
	ml->jitter ^= ml->jitter << 5;
	j = 0.75 + 0.5 * (double)(ml->jitter % 1000) / 1000.0;
	ml->backoff = d * 2 > MQTT_LOOP_BACKOFF_MAX ? MQTT_LOOP_BACKOFF_MAX :
	    d * 2;
	return d * j;
}

static void schedule_retry(struct mqtt_loop *ml)
{
	ev_timer_stop(ml->loop, &ml->retry);
	ev_timer_set(&ml->retry, next_backoff(ml), 0.0);
	ev_timer_start(ml->loop, &ml->retry);
}

/* A connection attempt: with MQTT 5 CONNECT properties always a full
 * connect that sends them, else libmosquitto's asynchronous (re)connect
 * to the host it remembers. */
static int connect_now(struct mqtt_loop *ml, bool first)
{
	if (ml->connect_props != NULL)
		return mosquitto_connect_bind_v5(ml->mosq, ml->host, ml->port,
		    ml->keepalive, NULL, ml->connect_props);
	if (first)
		return mosquitto_connect_async(ml->mosq, ml->host, ml->port,
		    ml->keepalive);
	return mosquitto_reconnect_async(ml->mosq);
}

/* Either the backoff ran out (reconnect now), or the connect timeout did
 * (no CONNACK: drop the attempt). */
static void retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mqtt_loop *ml = w->data;
	int rc;

	if (ml->stopping)
		return;
	if (ml->fd >= 0) {
		if (ml->connected)
			return;
		mosquitto_disconnect(ml->mosq);
		lost(ml, MOSQ_ERR_CONN_LOST);
		return;
	}
	ml->reconnects++;
	rc = connect_now(ml, false);
	attach(ml);
	if (rc != MOSQ_ERR_SUCCESS || ml->fd < 0) {
		schedule_retry(ml);
		return;
	}
	ev_timer_set(&ml->retry, MQTT_LOOP_CONNECT_TIMEOUT, 0.0);
	ev_timer_start(loop, &ml->retry);
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
	struct mqtt_loop *ml = mosquitto_userdata(mosq);

	(void)obj;
	if (rc == 0) {
		ml->connected = true;
		ml->backoff = MQTT_LOOP_BACKOFF_MIN;
		ev_timer_stop(ml->loop, &ml->retry);
	}
	if (ml->ops->connected)
		ml->ops->connected(ml, rc, ml->ctx);
}

/* libmosquitto calls this from inside loop_read/loop_write/loop_misc (or
 * mosquitto_disconnect) when it closed the socket; check_socket() does the
 * rest once that call has returned. */
static void on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
	(void)mosq;
	(void)obj;
	(void)rc;
}

void mqtt_loop_init(struct mqtt_loop *ml, struct ev_loop *loop,
    struct mosquitto *mosq, const struct mqtt_loop_ops *ops, void *ctx)
{
	ml->loop = loop;
	ml->mosq = mosq;
	ml->ops = ops;
	ml->ctx = ctx;
	ml->fd = -1;
	ml->connected = false;
	ml->stopping = false;
	ml->backoff = MQTT_LOOP_BACKOFF_MIN;
	ml->jitter = (unsigned int)time(NULL) ^ (unsigned int)(uintptr_t)ml;
	if (ml->jitter == 0)
		ml->jitter = 1;
	ml->reconnects = 0;
	ml->connect_props = NULL;
	ml->host = NULL;
	ml->port = ml->keepalive = 0;
	ev_io_init(&ml->io, io_cb, -1, EV_READ);
	ml->io.data = ml;
	ev_prepare_init(&ml->prepare, prepare_cb);
	ml->prepare.data = ml;
	ev_timer_init(&ml->misc, misc_cb, 1.0, 1.0);
	ml->misc.data = ml;
	ev_timer_init(&ml->retry, retry_cb, 0.0, 0.0);
	ml->retry.data = ml;
	/* The callbacks find ml through the userdata pointer. */
	mosquitto_user_data_set(mosq, ml);
	mosquitto_connect_callback_set(mosq, on_connect);
	mosquitto_disconnect_callback_set(mosq, on_disconnect);
}

void mqtt_loop_set_connect_properties(struct mqtt_loop *ml,
    const mosquitto_property *props)
{
	ml->connect_props = props;
}

int mqtt_loop_start(struct mqtt_loop *ml, const char *host, int port,
    int keepalive)
{
	int rc;

	ml->host = host;
	ml->port = port;
	ml->keepalive = keepalive;
	ev_prepare_start(ml->loop, &ml->prepare);
	ev_timer_start(ml->loop, &ml->misc);
	rc = connect_now(ml, true);
	if (rc == MOSQ_ERR_INVAL || rc == MOSQ_ERR_NOT_SUPPORTED ||
	    rc == MOSQ_ERR_PROTOCOL || rc == MOSQ_ERR_MALFORMED_PACKET ||
	    rc == MOSQ_ERR_DUPLICATE_PROPERTY)
		return -EINVAL;
	attach(ml);
	if (rc != MOSQ_ERR_SUCCESS || ml->fd < 0) {
		/* Unreachable right now (no route while the tunnel is down,
		 * refused): not fatal, try again later. */
		schedule_retry(ml);
		return 0;
	}
	ev_timer_set(&ml->retry, MQTT_LOOP_CONNECT_TIMEOUT, 0.0);
	ev_timer_start(ml->loop, &ml->retry);
	return 0;
}

bool mqtt_loop_connected(const struct mqtt_loop *ml)
{
	return ml->connected;
}

void mqtt_loop_stop(struct mqtt_loop *ml)
{
	ml->stopping = true;
	if (ml->fd >= 0) {
		if (ml->connected) {
			mosquitto_disconnect(ml->mosq);
			/* Flush the DISCONNECT; a slow peer just misses it. */
			(void)mosquitto_loop_write(ml->mosq, 1);
		}
	}
	detach(ml);
	ml->connected = false;
	ev_prepare_stop(ml->loop, &ml->prepare);
	ev_timer_stop(ml->loop, &ml->misc);
	ev_timer_stop(ml->loop, &ml->retry);
}
