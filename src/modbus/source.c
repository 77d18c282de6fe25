/* A Modbus TCP device polled into an edge node (see source.h). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "modbus/decode.h"
#include "modbus/response.h"
#include "modbus/source.h"

static const char *const failure_names[MB_F_MAX] = {
	[MB_F_NO_ANSWER] = "no answer",
	[MB_F_EXCEPTION] = "exception",
	[MB_F_MALFORMED] = "malformed",
	[MB_F_WRONG_TID] = "wrong transaction id",
	[MB_F_WRONG_UNIT] = "wrong unit id",
	[MB_F_BAD_VALUE] = "bad value",
};

const char *mb_failure_str(enum mb_failure f)
{
	return f < MB_F_MAX ? failure_names[f] : "?";
}

enum mb_failure mb_failure_of(int err)
{
	if (err > MODBUS_ENOBASE && err <= EMBXGTAR)
		return MB_F_EXCEPTION;
	if (err == EMBBADSLAVE)
		return MB_F_WRONG_UNIT;
	if (err == EMBBADDATA || err == EMBBADCRC || err == EMBBADEXC ||
	    err == EMBUNKEXC || err == EMBMDATA)
		return MB_F_MALFORMED;
	return MB_F_NO_ANSWER;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* {"event":"source-down",...}: what the historian logs. */
static void publish_event(struct mb_source *s, const char *what,
    const char *why)
{
	char json[512];

	snprintf(json, sizeof(json), "{\"event\":\"%s\",\"node_id\":\"%s\","
	    "\"timestamp\":%" PRId64 ",\"device\":\"%s:%d\",\"unit\":%d,"
	    "\"reason\":\"%s\"}", what, s->dev->id, now_ms(), s->dev->host,
	    s->dev->port, s->dev->unit, why);
	if (node_event(&s->node, json) < 0)
		node_log(&s->node, "%s event not sent: no broker session",
		    what);
}

static void disconnect(struct mb_source *s)
{
	if (s->connected)
		modbus_close(s->ctx);
	s->connected = false;
}

static void rearm(struct mb_source *s, double after)
{
	ev_timer_stop(s->loop, &s->timer);
	ev_timer_set(&s->timer, after, s->dev->interval);
	ev_timer_start(s->loop, &s->timer);
}

/* A poll that read nothing usable, and why. */
static void failed(struct mb_source *s, enum mb_failure f, const char *why)
{
	s->failures[f]++;
	disconnect(s);
	if (!s->logged[f]) {
		s->logged[f] = true;
		node_log(&s->node, "%s:%d unit %d: %s (%s); counted from now "
		    "on, said again after a good poll", s->dev->host,
		    s->dev->port, s->dev->unit, mb_failure_str(f), why);
	}
	if (f != MB_F_NO_ANSWER) {
		s->silent = 0;
		return;
	}
	if (++s->silent < MB_DOWN_AFTER && !s->down)
		return;
	if (!s->down) {
		s->down = true;
		s->downs++;
		s->down_since_ms = now_ms();
		s->backoff = s->dev->interval;
		node_log(&s->node, "source down: %u polls without an answer",
		    s->silent);
		publish_event(s, "source-down", why);
	}
	s->backoff = fmin(s->backoff * 2, fmax(MB_BACKOFF_MAX,
	    s->dev->interval));
	rearm(s, s->backoff);
}

/* The device answered every request of a poll. */
static void answered(struct mb_source *s)
{
	s->silent = 0;
	if (!s->down)
		return;
	s->down = false;
	node_log(&s->node, "source up again after %.1f s",
	    (double)(now_ms() - s->down_since_ms) / 1000.0);
	publish_event(s, "source-up", "answering again");
	rearm(s, s->dev->interval);
}

/* One request of block i and its checked response.  0, or -1 with *f
 * and why (static storage) set. */
static int read_block(struct mb_source *s, size_t i, struct mb_poll *poll,
    enum mb_failure *f, const char **why)
{
	static const enum mb_failure of_answer[] = {
		[MB_ANSWER_EXCEPTION] = MB_F_EXCEPTION,
		[MB_ANSWER_MALFORMED] = MB_F_MALFORMED,
		[MB_ANSWER_WRONG_TID] = MB_F_WRONG_TID,
		[MB_ANSWER_WRONG_UNIT] = MB_F_WRONG_UNIT,
	};
	const struct mb_block *b = &s->dev->blocks[i];
	uint8_t req[MBRESPONSE_REQUEST_LEN], rsp[MBRESPONSE_MAX];
	enum mb_answer a;
	int n, exception = 0;

	mbresponse_request(req, ++s->tid, (uint8_t)s->dev->unit, b);
	if (send(modbus_get_socket(s->ctx), req, sizeof(req), MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(req)) {
		*f = MB_F_NO_ANSWER;
		*why = "connection lost";
		return -1;
	}
	n = modbus_receive_confirmation(s->ctx, rsp);
	if (n < 0) {
		*f = mb_failure_of(errno);
		*why = modbus_strerror(errno);
		return -1;
	}
	a = mbresponse_check(rsp, (size_t)n, s->tid, (uint8_t)s->dev->unit, b,
	    poll->regs[i], poll->bits[i], &exception);
	if (a == MB_ANSWER_OK)
		return 0;
	*f = of_answer[a];
	*why = a == MB_ANSWER_EXCEPTION ?
	    modbus_strerror(MODBUS_ENOBASE + exception) : mb_failure_str(*f);
	return -1;
}

/* Reads every block into poll.  0, or -1 with *f and why set. */
static int read_blocks(struct mb_source *s, struct mb_poll *poll,
    enum mb_failure *f, const char **why)
{
	size_t i;

	if (!s->connected) {
		if (modbus_connect(s->ctx) < 0) {
			*f = MB_F_NO_ANSWER;
			*why = modbus_strerror(errno);
			return -1;
		}
		s->connected = true;
	}
	for (i = 0; i < s->dev->nblocks; i++)
		if (read_block(s, i, poll, f, why) < 0)
			return -1;
	return 0;
}

static void poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	static struct mb_poll poll;	/* one poll at a time */
	struct mb_source *s = w->data;
	struct telemetry_reading r = { 0 };
	enum mb_failure f;
	const char *why;
	size_t bad;

	s->polls++;
	r.timestamp_ms = now_ms();
	if (read_blocks(s, &poll, &f, &why) < 0) {
		failed(s, f, why);
		return;
	}
	answered(s);
	if (mbdecode_reading(s->dev, &poll, &r, &bad) < 0) {
		s->failures[MB_F_BAD_VALUE]++;
		if (!s->logged[MB_F_BAD_VALUE]) {
			s->logged[MB_F_BAD_VALUE] = true;
			node_log(&s->node, "field %s: not a finite number; "
			    "no reading while it lasts",
			    s->dev->fields[bad].name);
		}
		return;
	}
	/* A good poll ends every episode. */
	memset(s->logged, 0, sizeof(s->logged));
	s->readings++;
	node_publish(&s->node, &r);
}

int mb_source_init(struct mb_source *s, struct ev_loop *loop,
    const struct node_config *cfg, const struct mb_device *dev,
    const char *password)
{
	char port[8];
	uint32_t sec, usec;
	int ret;

	*s = (struct mb_source){ .dev = dev, .loop = loop };
	if ((ret = node_init(&s->node, loop, cfg, dev->id, password)) < 0)
		return ret;
	snprintf(port, sizeof(port), "%d", dev->port);
	s->ctx = modbus_new_tcp_pi(dev->host, port);
	if (s->ctx == NULL) {
		node_log(&s->node, "modbus: %s", strerror(errno));
		return -ENOMEM;
	}
	sec = (uint32_t)dev->timeout;
	usec = (uint32_t)((dev->timeout - sec) * 1e6);
	if (modbus_set_slave(s->ctx, dev->unit) < 0 ||
	    modbus_set_response_timeout(s->ctx, sec, usec) < 0 ||
	    modbus_set_byte_timeout(s->ctx, sec, usec) < 0) {
		node_log(&s->node, "modbus: %s", modbus_strerror(errno));
		return -EINVAL;
	}
	ev_timer_init(&s->timer, poll_cb, 0.0, dev->interval);
	s->timer.data = s;
	return 0;
}

int mb_source_start(struct mb_source *s)
{
	int ret = node_start(&s->node);

	if (ret == 0)
		ev_timer_start(s->loop, &s->timer);
	return ret;
}

void mb_source_stop_polling(struct mb_source *s)
{
	ev_timer_stop(s->loop, &s->timer);
	disconnect(s);
}

void mb_source_tick_second(struct mb_source *s)
{
	node_tick_second(&s->node);
}

void mb_source_summary(struct mb_source *s)
{
	node_finish(&s->node);
	node_summary(&s->node);
	printf("%s: polls %" PRIu64 ", readings %" PRIu64 ", no answer %"
	    PRIu64 ", exceptions %" PRIu64 ", malformed %" PRIu64
	    ", wrong transaction id %" PRIu64 ", wrong unit id %" PRIu64
	    ", bad values %" PRIu64 ", source down %" PRIu64 " times, events %"
	    PRIu64 "\n", s->dev->id, s->polls, s->readings,
	    s->failures[MB_F_NO_ANSWER], s->failures[MB_F_EXCEPTION],
	    s->failures[MB_F_MALFORMED], s->failures[MB_F_WRONG_TID],
	    s->failures[MB_F_WRONG_UNIT], s->failures[MB_F_BAD_VALUE],
	    s->downs, s->node.events);
}

void mb_source_stop(struct mb_source *s)
{
	if (s->loop)
		ev_timer_stop(s->loop, &s->timer);
	if (s->node.mosq)
		node_stop(&s->node);
}

void mb_source_clear(struct mb_source *s)
{
	if (s->ctx) {
		disconnect(s);
		modbus_free(s->ctx);
	}
	s->ctx = NULL;
	node_clear(&s->node);
}
