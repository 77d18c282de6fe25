/* A Modbus TCP device polled into an edge node (see source.h). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <modbus.h>

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

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* {"event":"source-down",...}: spooled, then published (node.h), and
 * logged by the historian. */
static void publish_event(struct mb_source *s, const char *what,
    const char *why)
{
	char members[512];

	snprintf(members, sizeof(members), "\"timestamp\":%" PRId64
	    ",\"device\":\"%s:%d\",\"unit\":%d,\"reason\":\"%s\"", now_ms(),
	    s->dev->host, s->dev->port, s->dev->unit, why);
	node_event(&s->node, what, members);
}

/* Closes the connection; the poll, if any, is over. */
static void disconnect(struct mb_source *s)
{
	ev_io_stop(s->loop, &s->io);
	ev_timer_stop(s->loop, &s->deadline);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->step = MB_IDLE;
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

/* Every block read: the reading, unless a value is not a number. */
static void poll_done(struct mb_source *s)
{
	struct telemetry_reading r = { .timestamp_ms = s->poll_ms };
	size_t bad;

	answered(s);
	if (mbdecode_reading(s->dev, s->poll, &r, &bad) < 0) {
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

/* The request of the current block; its response is due within the
 * device's timeout. */
static void send_request(struct mb_source *s)
{
	uint8_t req[MBRESPONSE_REQUEST_LEN];

	mbresponse_request(req, ++s->tid, (uint8_t)s->dev->unit,
	    &s->dev->blocks[s->block]);
	if (send(s->fd, req, sizeof(req), MSG_NOSIGNAL | MSG_DONTWAIT) !=
	    (ssize_t)sizeof(req)) {
		failed(s, MB_F_NO_ANSWER, "connection lost");
		return;
	}
	s->step = MB_WAITING;
	s->got = 0;
	ev_timer_again(s->loop, &s->deadline);
}

/* A whole response to the current block's request. */
static void response(struct mb_source *s)
{
	static const enum mb_failure of_answer[] = {
		[MB_ANSWER_EXCEPTION] = MB_F_EXCEPTION,
		[MB_ANSWER_MALFORMED] = MB_F_MALFORMED,
		[MB_ANSWER_WRONG_TID] = MB_F_WRONG_TID,
		[MB_ANSWER_WRONG_UNIT] = MB_F_WRONG_UNIT,
	};
	int exception = 0;
	enum mb_answer a;

	a = mbresponse_check(s->rsp, s->got, s->tid, (uint8_t)s->dev->unit,
	    &s->dev->blocks[s->block], s->poll->regs[s->block],
	    s->poll->bits[s->block], &exception);
	if (a != MB_ANSWER_OK) {
		failed(s, of_answer[a], a == MB_ANSWER_EXCEPTION ?
		    modbus_strerror(MODBUS_ENOBASE + exception) :
		    mb_failure_str(of_answer[a]));
		return;
	}
	if (++s->block < s->dev->nblocks) {
		send_request(s);
		return;
	}
	ev_timer_stop(s->loop, &s->deadline);
	s->step = MB_IDLE;
	poll_done(s);
}

/* The bytes of a response as they come: at most one frame is due, so
 * anything after it is a stray answer. */
static void receive(struct mb_source *s)
{
	ssize_t n;

	n = recv(s->fd, s->rsp + s->got, sizeof(s->rsp) - s->got,
	    MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n <= 0) {
		failed(s, MB_F_NO_ANSWER, n == 0 ?
		    "connection closed by the device" : strerror(errno));
		return;
	}
	s->got += (size_t)n;
	switch (mbresponse_frame(s->rsp, s->got)) {
	case MB_FRAME_MORE:
		break;
	case MB_FRAME_WHOLE:
		response(s);
		break;
	case MB_FRAME_BAD_LENGTH:
		failed(s, MB_F_MALFORMED, "impossible length in the header");
		break;
	case MB_FRAME_TRAILING:
		failed(s, MB_F_MALFORMED, "bytes after the response");
		break;
	}
}

/* Bytes or the end of the connection between polls: nothing is due, so
 * the connection goes (the next poll connects again). */
static void idle_input(struct mb_source *s)
{
	uint8_t buf[64];
	ssize_t n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	disconnect(s);
}

/* The connect completed, or failed. */
static void connected(struct mb_source *s)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err != 0) {
		failed(s, MB_F_NO_ANSWER, strerror(err));
		return;
	}
	ev_io_stop(s->loop, &s->io);
	ev_io_set(&s->io, s->fd, EV_READ);
	ev_io_start(s->loop, &s->io);
	send_request(s);
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mb_source *s = w->data;

	if (s->step == MB_CONNECTING)
		connected(s);
	else if (s->step == MB_WAITING)
		receive(s);
	else
		idle_input(s);
}

static void deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mb_source *s = w->data;

	failed(s, MB_F_NO_ANSWER, s->step == MB_CONNECTING ?
	    "connect timed out" : "response timed out");
}

/* A non-blocking connect to the device (a name is looked up each time, as
 * libmodbus did: an address that changes is followed). */
static void start_connect(struct mb_source *s)
{
	const struct addrinfo hints = { .ai_family = AF_UNSPEC,
	    .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai;
	char port[8];
	int one = 1, err = 0, ret;

	snprintf(port, sizeof(port), "%d", s->dev->port);
	if ((ret = getaddrinfo(s->dev->host, port, &hints, &ai)) != 0) {
		failed(s, MB_F_NO_ANSWER, ret == EAI_SYSTEM ? strerror(errno) :
		    gai_strerror(ret));
		return;
	}
	s->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		err = errno;
	else if (setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one)) < 0 || (connect(s->fd, ai->ai_addr,
	    ai->ai_addrlen) < 0 && errno != EINPROGRESS))
		err = errno;
	freeaddrinfo(ai);
	if (err != 0) {
		failed(s, MB_F_NO_ANSWER, strerror(err));
		return;
	}
	s->step = MB_CONNECTING;
	ev_io_set(&s->io, s->fd, EV_WRITE);
	ev_io_start(s->loop, &s->io);
	ev_timer_again(s->loop, &s->deadline);
}

static void poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mb_source *s = w->data;

	if (s->step != MB_IDLE) {
		s->skipped++;
		return;
	}
	s->polls++;
	s->poll_ms = now_ms();
	s->block = 0;
	if (s->fd < 0)
		start_connect(s);
	else
		send_request(s);
}

int mb_source_init(struct mb_source *s, struct ev_loop *loop,
    const struct node_config *cfg, const struct mb_device *dev,
    const char *password)
{
	int ret;

	*s = (struct mb_source){ .dev = dev, .loop = loop, .fd = -1 };
	ev_timer_init(&s->timer, poll_cb, 0.0, dev->interval);
	s->timer.data = s;
	ev_timer_init(&s->deadline, deadline_cb, 0.0, dev->timeout);
	s->deadline.data = s;
	ev_io_init(&s->io, io_cb, -1, EV_READ);
	s->io.data = s;
	if ((ret = node_init(&s->node, loop, cfg, dev->id, password)) < 0)
		return ret;
	s->poll = calloc(1, sizeof(*s->poll));
	if (s->poll == NULL) {
		node_log(&s->node, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	return 0;
}

int mb_source_start(struct mb_source *s, double first)
{
	int ret = node_start(&s->node);

	if (ret == 0)
		rearm(s, first);
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
	    PRIu64 " (acknowledged %" PRIu64 ", lost %" PRIu64 "), polls "
	    "skipped %" PRIu64 "\n", s->dev->id, s->polls, s->readings,
	    s->failures[MB_F_NO_ANSWER], s->failures[MB_F_EXCEPTION],
	    s->failures[MB_F_MALFORMED], s->failures[MB_F_WRONG_TID],
	    s->failures[MB_F_WRONG_UNIT], s->failures[MB_F_BAD_VALUE],
	    s->downs, s->node.events, s->node.events_acked,
	    s->node.events_lost, s->skipped);
}

void mb_source_stop(struct mb_source *s)
{
	if (s->loop)
		mb_source_stop_polling(s);
	if (s->node.mosq)
		node_stop(&s->node);
}

void mb_source_clear(struct mb_source *s)
{
	if (s->loop)
		disconnect(s);
	free(s->poll);
	s->poll = NULL;
	node_clear(&s->node);
}
