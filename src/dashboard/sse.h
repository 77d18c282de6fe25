/* GET /events: Server-Sent Events to every logged-in browser.
 *
 * Each client has a bounded queue of events (shared, reference-counted
 * blocks: one copy of a reading however many browsers watch) that
 * sse_publish() fills from any thread and libmicrohttpd's thread drains
 * through a content-reader callback.  A client with nothing to send is
 * suspended (MHD_suspend_connection) and resumed by the next event, so an
 * event leaves as soon as it is published and no thread polls.  A client
 * whose queue overflows (a browser that stopped reading) is disconnected
 * and counted; the publisher never waits for anyone. */
#ifndef WGU_DASHBOARD_SSE_H
#define WGU_DASHBOARD_SSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct MHD_Connection;
struct MHD_Response;

struct sse_stats {
	uint64_t clients;	/* connected now */
	uint64_t connected;	/* ever */
	uint64_t overflowed;	/* disconnected: their queue was full */
	uint64_t refused;	/* turned away: max_clients reached */
	uint64_t events;	/* published */
};

struct sse_hub;

/* At most max_clients streams at once, each queueing at most
 * queue_events events and queue_bytes bytes. */
struct sse_hub *sse_hub_new(size_t max_clients, size_t queue_events,
    size_t queue_bytes);
/* After the HTTP daemon has stopped (sse_close_all() first). */
void sse_hub_free(struct sse_hub *h);

/* "event: EVENT\ndata: JSON\n\n" to every client (a newline inside json
 * starts another data: line).  Any thread; never blocks on a client. */
void sse_publish(struct sse_hub *h, const char *event, const char *json);

/* ": keepalive\n\n" to every client: proxies keep the stream, and a
 * browser that has gone is noticed when the write fails. */
void sse_keepalive(struct sse_hub *h);

/* A stream response for a new client on c, logged in with session id
 * (closed by sse_close_session()).  NULL when max_clients are connected
 * (answer 503) or memory ran out.  The caller queues it with 200 and
 * destroys its reference; the stream ends when the connection does. */
struct MHD_Response *sse_client_new(struct sse_hub *h,
    struct MHD_Connection *c, const char *session_id);

/* Ends the streams of a session (logout). */
void sse_close_session(struct sse_hub *h, const char *session_id);

/* Asks alive(arg, session_id) for every open stream and ends those whose
 * session is not (expired).  Called under the hub's lock: alive must not
 * call back into the hub. */
void sse_check_sessions(struct sse_hub *h,
    bool (*alive)(void *arg, const char *session_id), void *arg);

/* Ends every stream and waits (up to about 2 s) until libmicrohttpd has
 * let go of them all: a daemon must not stop with suspended
 * connections. */
void sse_close_all(struct sse_hub *h);

void sse_stats(struct sse_hub *h, struct sse_stats *st);

/* What sse_client_new() is made of, for tests that drive the queues
 * without a socket: attach a client (NULL when full), read from it as
 * libmicrohttpd would (bytes, 0 after suspending it, or
 * MHD_CONTENT_READER_END_OF_STREAM once closed), detach it.  The hooks
 * replace MHD_suspend_connection() and MHD_resume_connection(). */
struct sse_client;
struct sse_client *sse_client_attach(struct sse_hub *h, void *conn,
    const char *session_id);
ssize_t sse_client_read(struct sse_client *c, char *buf, size_t max);
void sse_client_detach(struct sse_client *c);
void sse_hub_set_hooks(struct sse_hub *h, void (*suspend)(void *conn),
    void (*resume)(void *conn));

#endif
