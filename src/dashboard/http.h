/* wgu-dashboard's HTTP side: two libmicrohttpd daemons (the pages and
 * API on --listen, /metrics alone on --metrics-listen), each with its own
 * internal polling threads (epoll), over listening sockets the caller
 * made (so that they can be bound before the process gives up root, and
 * the daemons' threads start inside the sandbox).
 *
 * http_start() and http_stop() run on the main thread; http_event() and
 * http_keepalive() on any. */
#ifndef WGU_DASHBOARD_HTTP_H
#define WGU_DASHBOARD_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct dash_data;
struct users;
struct http_server;

struct http_config {
	struct dash_data *data;		/* what the API answers from */
	int listen_fd, metrics_fd;	/* bound and listening; taken over */
	int static_fd;			/* --static, an O_DIRECTORY fd */
	const char *chartjs;		/* --chartjs */
	const char *tls_cert, *tls_key;	/* PEM text, or NULL for HTTP */
	unsigned threads;		/* the main daemon's pool */
	bool quiet;			/* no per-login lines on stderr */
};

/* Sessions, the login limit and the SSE hub, before anything starts:
 * http_event() works from here on (so the data side's feed may start
 * first).  NULL when memory runs out. */
struct http_server *http_new(struct users *users);

/* Starts both daemons; the listening fds are the server's from here on,
 * whatever the outcome.  0, or -1 with a message in err. */
int http_start(struct http_server *s, const struct http_config *cfg,
    char *err, size_t errlen);

/* Ends the SSE streams, stops both daemons, closes the fds. */
void http_stop(struct http_server *s);
void http_free(struct http_server *s);

/* The data side's on_event hook (arg is the server): to every SSE
 * client. */
void http_event(void *arg, const char *event, const char *json);

/* Every 15 s: the SSE keepalive comment; streams whose session has
 * ended are closed, the others keep their session from going idle. */
void http_keepalive(struct http_server *s);

#endif
