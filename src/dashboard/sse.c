/* Server-Sent Events; see sse.h.
 *
 * One mutex guards the client list, every queue and the suspended flags.
 * A client is suspended only by its own reader, under the lock, and
 * resumed only by whoever finds the flag set, under the lock: so each
 * resume matches one suspend, as libmicrohttpd requires.  Readers run
 * on libmicrohttpd's threads, publishers on the data side's. */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "dashboard/request.h"
#include "dashboard/sse.h"

struct event {
	unsigned refs;		/* under the hub's lock */
	size_t len;
	char data[];
};

struct sse_client {
	struct sse_client *prev, *next;
	struct sse_hub *hub;
	void *conn;			/* struct MHD_Connection */
	char session[REQ_TOKEN_HEX + 1];
	struct event **ring;
	size_t head, count;	/* events queued from ring[head] */
	size_t offset;		/* bytes of ring[head] already sent */
	size_t bytes;		/* queued, not yet sent */
	bool suspended, closing;
};

struct sse_hub {
	pthread_mutex_t lock;
	struct sse_client *clients;
	void (*suspend)(void *conn), (*resume)(void *conn);
	size_t max_clients, queue_events, queue_bytes;
	struct sse_stats st;
};

static void mhd_suspend(void *conn)
{
	MHD_suspend_connection(conn);
}

static void mhd_resume(void *conn)
{
	MHD_resume_connection(conn);
}

struct sse_hub *sse_hub_new(size_t max_clients, size_t queue_events,
    size_t queue_bytes)
{
	struct sse_hub *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	pthread_mutex_init(&h->lock, NULL);
	h->suspend = mhd_suspend;
	h->resume = mhd_resume;
	h->max_clients = max_clients;
	h->queue_events = queue_events;
	h->queue_bytes = queue_bytes;
	return h;
}

void sse_hub_free(struct sse_hub *h)
{
	if (h == NULL)
		return;
	pthread_mutex_destroy(&h->lock);
	free(h);
}

static void event_put(struct event *e)
{
	if (--e->refs == 0)
		free(e);
}

/* Lock held.  Resumes c if its reader suspended it. */
static void wake(struct sse_client *c)
{
	if (c->suspended) {
		c->suspended = false;
		c->hub->resume(c->conn);
	}
}

/* Lock held.  Queues e on every open client; a full queue closes its
 * client instead. */
static void broadcast(struct sse_hub *h, struct event *e)
{
	struct sse_client *c;

	for (c = h->clients; c; c = c->next) {
		if (c->closing)
			continue;
		if (c->count == h->queue_events ||
		    c->bytes + e->len > h->queue_bytes) {
			c->closing = true;
			h->st.overflowed++;
		} else {
			c->ring[(c->head + c->count) % h->queue_events] = e;
			c->count++;
			c->bytes += e->len;
			e->refs++;
		}
		wake(c);
	}
}

static struct event *event_new(size_t cap)
{
	struct event *e = malloc(sizeof(*e) + cap);

	if (e) {
		e->refs = 1;	/* ours until broadcast is done */
		e->len = 0;
	}
	return e;
}

static void append(struct event *e, const char *s, size_t n)
{
	memcpy(e->data + e->len, s, n);
	e->len += n;
}

void sse_publish(struct sse_hub *h, const char *event, const char *json)
{
	size_t n = strlen(json), lines = 1, i, start;
	struct event *e;

	for (i = 0; i < n; i++)
		lines += json[i] == '\n';
	e = event_new(strlen(event) + n + lines * 7 + 16);
	if (e == NULL)
		return;
	append(e, "event: ", 7);
	append(e, event, strlen(event));
	append(e, "\n", 1);
	for (start = 0, i = 0; i <= n; i++) {
		if (i < n && json[i] != '\n')
			continue;
		append(e, "data: ", 6);
		append(e, json + start, i - start);
		append(e, "\n", 1);
		start = i + 1;
	}
	append(e, "\n", 1);
	pthread_mutex_lock(&h->lock);
	h->st.events++;
	broadcast(h, e);
	event_put(e);
	pthread_mutex_unlock(&h->lock);
}

void sse_keepalive(struct sse_hub *h)
{
	static const char ka[] = ": keepalive\n\n";
	struct event *e = event_new(sizeof(ka));

	if (e == NULL)
		return;
	append(e, ka, sizeof(ka) - 1);
	pthread_mutex_lock(&h->lock);
	broadcast(h, e);
	event_put(e);
	pthread_mutex_unlock(&h->lock);
}

/* ---------------------------------------------------------------- stream */

/* Lock held.  Copies queued bytes into buf; drops what was sent. */
static size_t drain(struct sse_client *c, char *buf, size_t max)
{
	struct sse_hub *h = c->hub;
	size_t done = 0, n;
	struct event *e;

	while (c->count > 0 && done < max) {
		e = c->ring[c->head];
		n = e->len - c->offset;
		if (n > max - done)
			n = max - done;
		memcpy(buf + done, e->data + c->offset, n);
		done += n;
		c->offset += n;
		c->bytes -= n;
		if (c->offset == e->len) {
			event_put(e);
			c->ring[c->head] = NULL;
			c->head = (c->head + 1) % h->queue_events;
			c->count--;
			c->offset = 0;
		}
	}
	return done;
}

ssize_t sse_client_read(struct sse_client *c, char *buf, size_t max)
{
	struct sse_hub *h = c->hub;
	ssize_t n;

	pthread_mutex_lock(&h->lock);
	if (c->closing) {
		n = MHD_CONTENT_READER_END_OF_STREAM;	/* closed, or overflowed */
	} else if (c->count == 0) {
		/* Nothing to send: sleep until sse_publish() wakes us. */
		c->suspended = true;
		h->suspend(c->conn);
		n = 0;
	} else {
		n = (ssize_t)drain(c, buf, max);
	}
	pthread_mutex_unlock(&h->lock);
	return n;
}

void sse_client_detach(struct sse_client *c)
{
	struct sse_hub *h = c->hub;

	pthread_mutex_lock(&h->lock);
	while (c->count > 0) {
		event_put(c->ring[c->head]);
		c->head = (c->head + 1) % h->queue_events;
		c->count--;
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		h->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	h->st.clients--;
	pthread_mutex_unlock(&h->lock);
	free(c->ring);
	free(c);
}

struct sse_client *sse_client_attach(struct sse_hub *h, void *conn,
    const char *session_id)
{
	struct sse_client *c;

	pthread_mutex_lock(&h->lock);
	if (h->st.clients >= h->max_clients) {
		h->st.refused++;
		pthread_mutex_unlock(&h->lock);
		return NULL;
	}
	h->st.clients++;	/* the slot is ours from here */
	pthread_mutex_unlock(&h->lock);
	c = calloc(1, sizeof(*c));
	if (c)
		c->ring = calloc(h->queue_events, sizeof(*c->ring));
	if (c == NULL || c->ring == NULL) {
		free(c);
		pthread_mutex_lock(&h->lock);
		h->st.clients--;
		pthread_mutex_unlock(&h->lock);
		return NULL;
	}
	c->hub = h;
	c->conn = conn;
	strncpy(c->session, session_id, REQ_TOKEN_HEX);
	/* A comment first, so the browser sees the stream open at once. */
	c->ring[0] = event_new(16);
	if (c->ring[0]) {
		append(c->ring[0], ": hello\n\n", 9);
		c->count = 1;
		c->bytes = 9;
	}
	pthread_mutex_lock(&h->lock);
	c->next = h->clients;
	if (h->clients)
		h->clients->prev = c;
	h->clients = c;
	h->st.connected++;
	pthread_mutex_unlock(&h->lock);
	return c;
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	return sse_client_read(cls, buf, max);
}

static void reader_free(void *cls)
{
	sse_client_detach(cls);
}

struct MHD_Response *sse_client_new(struct sse_hub *h,
    struct MHD_Connection *conn, const char *session_id)
{
	struct sse_client *c = sse_client_attach(h, conn, session_id);
	struct MHD_Response *r;

	if (c == NULL)
		return NULL;
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
	    reader, c, reader_free);
	if (r == NULL)
		sse_client_detach(c);
	return r;
}

void sse_close_session(struct sse_hub *h, const char *session_id)
{
	struct sse_client *c;

	if (!req_token_valid(session_id))
		return;
	pthread_mutex_lock(&h->lock);
	for (c = h->clients; c; c = c->next)
		if (CRYPTO_memcmp(c->session, session_id, REQ_TOKEN_HEX) ==
		    0) {
			c->closing = true;
			wake(c);
		}
	pthread_mutex_unlock(&h->lock);
}

void sse_check_sessions(struct sse_hub *h,
    bool (*alive)(void *arg, const char *session_id), void *arg)
{
	struct sse_client *c;

	pthread_mutex_lock(&h->lock);
	for (c = h->clients; c; c = c->next)
		if (!c->closing && !alive(arg, c->session)) {
			c->closing = true;
			wake(c);
		}
	pthread_mutex_unlock(&h->lock);
}

void sse_close_all(struct sse_hub *h)
{
	struct timespec ten_ms = { 0, 10 * 1000 * 1000 };
	struct sse_client *c;
	bool empty = false;
	int i;

	for (i = 0; i < 200 && !empty; i++) {
		pthread_mutex_lock(&h->lock);
		for (c = h->clients; c; c = c->next) {
			c->closing = true;
			wake(c);
		}
		empty = h->clients == NULL;
		pthread_mutex_unlock(&h->lock);
		if (!empty)
			nanosleep(&ten_ms, NULL);
	}
}

void sse_stats(struct sse_hub *h, struct sse_stats *st)
{
	pthread_mutex_lock(&h->lock);
	*st = h->st;
	pthread_mutex_unlock(&h->lock);
}

void sse_hub_set_hooks(struct sse_hub *h, void (*suspend)(void *conn),
    void (*resume)(void *conn))
{
	h->suspend = suspend;
	h->resume = resume;
}
