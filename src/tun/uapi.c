/* The UAPI unix socket server; see uapi.h.  The socket handling follows
 * wireguard-go's ipc/uapi_linux.go: listen with umask 077; when the path
 * is taken, connect to it to tell a live daemon (refuse) from a stale
 * socket (remove and listen again); watch the file and stop when it is
 * removed. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crypto/primitives.h"
#include "log.h"
#include "uapi.h"

enum {
	READ_CHUNK = 4096,
	READS_PER_EVENT = 16,	/* then let the other watchers run */
	ACCEPTS_PER_EVENT = 16,
};

struct wg_uapi_client {
	struct wg_uapi_server *srv;
	struct wg_uapi_client *next, **pprev;
	int fd;
	ev_io read_watcher, write_watcher;
	ev_timer idle;
	struct wg_uapi_session session;
};

/* ---------------------------------------------------------------- clients */

static void client_free(struct wg_uapi_client *c)
{
	struct ev_loop *loop = c->srv->loop;

	ev_io_stop(loop, &c->read_watcher);
	ev_io_stop(loop, &c->write_watcher);
	ev_timer_stop(loop, &c->idle);
	close(c->fd);
	*c->pprev = c->next;
	if (c->next)
		c->next->pprev = c->pprev;
	c->srv->nclients--;
	wg_uapi_session_clear(&c->session);
	free(c);
}

/* Writes what the session produced.  Returns false when the client is
 * gone (freed). */
static bool client_flush(struct wg_uapi_client *c)
{
	struct ev_loop *loop = c->srv->loop;
	const uint8_t *out;
	size_t len;
	ssize_t n;

	for (;;) {
		out = wg_uapi_session_output(&c->session, &len);
		if (len == 0)
			break;
		n = send(c->fd, out, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			client_free(c);
			return false;
		}
		wg_uapi_session_consume(&c->session, (size_t)n);
	}
	if (len == 0 && wg_uapi_session_closed(&c->session)) {
		client_free(c);
		return false;
	}
	if (len > 0)
		ev_io_start(loop, &c->write_watcher);
	else
		ev_io_stop(loop, &c->write_watcher);
	/* Back-pressure: a client that does not read its answers is not
	 * read either, so its buffer cannot grow without bound. */
	if (len > WG_UAPI_OUTPUT_HIGH || wg_uapi_session_closed(&c->session))
		ev_io_stop(loop, &c->read_watcher);
	else
		ev_io_start(loop, &c->read_watcher);
	return true;
}

static void client_read(struct ev_loop *loop, ev_io *w, int revents)
{
	struct wg_uapi_client *c = w->data;
	uint8_t buf[READ_CHUNK];
	int i, ret;
	ssize_t n;

	ev_timer_again(loop, &c->idle);
	for (i = 0; i < READS_PER_EVENT; i++) {
		n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			client_free(c);
			goto out;
		}
		if (n == 0) {
			wg_uapi_session_eof(&c->session);
			break;
		}
		ret = wg_uapi_session_feed(&c->session, buf, (size_t)n);
		if (ret < 0) {
			wg_log(WG_LOG_ERROR, "UAPI: %s; closing the connection",
			    ret == -EPROTO ? "invalid operation" :
			    strerror(-ret));
			break;
		}
		if (c->session.out_len > WG_UAPI_OUTPUT_HIGH)
			break;
	}
	client_flush(c);
out:
	/* What was read may hold a key. */
	wg_wipe(buf, sizeof(buf));
}

static void client_write(struct ev_loop *loop, ev_io *w, int revents)
{
	struct wg_uapi_client *c = w->data;

	ev_timer_again(loop, &c->idle);
	client_flush(c);
}

static void client_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct wg_uapi_client *c = w->data;

	wg_log(WG_LOG_INFO, "UAPI: dropping a client idle for %d seconds",
	    WG_UAPI_CLIENT_TIMEOUT);
	client_free(c);
}

static void client_new(struct wg_uapi_server *srv, int fd)
{
	struct wg_uapi_client *c;

	if (srv->nclients >= WG_UAPI_MAX_CLIENTS ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		wg_log(WG_LOG_ERROR, "UAPI: too many clients, refusing one");
		close(fd);
		return;
	}
	c->srv = srv;
	c->fd = fd;
	wg_uapi_session_init(&c->session, srv->dev, &srv->ops);
	c->session.read_only = srv->read_only;
	ev_io_init(&c->read_watcher, client_read, fd, EV_READ);
	ev_io_init(&c->write_watcher, client_write, fd, EV_WRITE);
	ev_init(&c->idle, client_timeout);
	c->idle.repeat = WG_UAPI_CLIENT_TIMEOUT;
	c->read_watcher.data = c->write_watcher.data = c->idle.data = c;
	c->next = srv->clients;
	c->pprev = &srv->clients;
	if (c->next)
		c->next->pprev = &c->next;
	srv->clients = c;
	srv->nclients++;
	ev_io_start(srv->loop, &c->read_watcher);
	ev_timer_again(srv->loop, &c->idle);
}

static void server_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct wg_uapi_server *srv = w->data;
	int i, fd;

	for (i = 0; i < ACCEPTS_PER_EVENT; i++) {
		fd = accept4(srv->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN)
				return;
			/* Out of descriptors or memory: the listener stays
			 * readable, so pause instead of spinning. */
			wg_log(WG_LOG_ERROR, "UAPI: accept: %s; pausing",
			    strerror(errno));
			ev_io_stop(loop, &srv->accept_watcher);
			ev_timer_start(loop, &srv->accept_pause);
			return;
		}
		client_new(srv, fd);
	}
}

static void server_resume(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct wg_uapi_server *srv = w->data;

	ev_io_start(loop, &srv->accept_watcher);
}

/* The socket file changed: still ours, or removed / replaced? */
static void server_stat(struct ev_loop *loop, ev_stat *w, int revents)
{
	struct wg_uapi_server *srv = w->data;

	if (w->attr.st_nlink != 0 && w->attr.st_dev == srv->st_dev &&
	    w->attr.st_ino == srv->st_ino)
		return;
	wg_log(WG_LOG_INFO, "UAPI socket %s was removed", srv->path);
	ev_stat_stop(loop, w);
	if (srv->on_gone)
		srv->on_gone(srv->gone_ctx);
}

/* ---------------------------------------------------------------- socket */

static int listen_at(const struct sockaddr_un *sun)
{
	mode_t old;
	int fd, ret = 0;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* The file is created with this mask: no window where others may
	 * connect. */
	old = umask(0077);
	if (bind(fd, (const struct sockaddr *)sun, sizeof(*sun)) < 0 ||
	    listen(fd, SOMAXCONN) < 0)
		ret = -errno;
	umask(old);
	if (ret < 0) {
		close(fd);
		return ret;
	}
	return fd;
}

/* Whether a daemon accepts connections on the socket at sun. */
static bool socket_alive(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool alive;

	if (fd < 0)
		return false;
	alive = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return alive;
}

/* Listens at sun for srv: a stale socket there (nobody accepts on it) is
 * removed first; a live one fails with -EADDRINUSE.  The file's identity
 * is kept, to know it from a replacement. */
static int open_socket(struct wg_uapi_server *srv,
    const struct sockaddr_un *sun, mode_t mode, gid_t gid, const char **why)
{
	struct stat st;
	int ret;

	memcpy(srv->path, sun->sun_path, sizeof(srv->path));
	srv->fd = listen_at(sun);
	if (srv->fd == -EADDRINUSE) {
		if (socket_alive(sun)) {
			*why = "another daemon is already listening on the "
			    "UAPI socket";
			return -EADDRINUSE;
		}
		/* Stale: the daemon that made it is gone.  Remove only a
		 * socket, never some other file at that path. */
		if (lstat(sun->sun_path, &st) < 0 || !S_ISSOCK(st.st_mode)) {
			*why = "the UAPI socket path exists and is not a "
			    "socket";
			return -EEXIST;
		}
		if (unlink(sun->sun_path) < 0 && errno != ENOENT) {
			ret = -errno;
			*why = "cannot remove a stale UAPI socket";
			return ret;
		}
		srv->fd = listen_at(sun);
	}
	if (srv->fd < 0) {
		ret = srv->fd;
		srv->fd = -1;
		*why = "cannot listen on the UAPI socket";
		return ret;
	}
	if ((gid != (gid_t)-1 && chown(sun->sun_path, 0, gid) < 0) ||
	    chmod(sun->sun_path, mode) < 0 || stat(sun->sun_path, &st) < 0) {
		ret = -errno;
		close(srv->fd);
		srv->fd = -1;
		*why = "cannot set the UAPI socket's owner and mode";
		return ret;
	}
	srv->st_dev = st.st_dev;
	srv->st_ino = st.st_ino;
	return 0;
}

int wg_uapi_server_open(struct wg_uapi_server *srv, const char *ifname,
    const char **why)
{
	struct sockaddr_un sun;
	int ret;

	memset(srv, 0, sizeof(*srv));
	srv->fd = -1;
	*why = NULL;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ret = wg_uapi_socket_path(sun.sun_path, sizeof(sun.sun_path), ifname);
	if (ret < 0) {
		*why = "socket path too long";
		return -ENAMETOOLONG;
	}
	if (mkdir(WG_UAPI_SOCKET_DIR, 0700) < 0 && errno != EEXIST) {
		ret = -errno;
		*why = "cannot create " WG_UAPI_SOCKET_DIR;
		return ret;
	}
	/* wg needs write permission only; wireguard-go leaves 0700. */
	return open_socket(srv, &sun, 0600, (gid_t)-1, why);
}

int wg_uapi_dir_share(const char *dir, gid_t gid, mode_t mode)
{
	struct stat st;
	int fd, ret = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		ret = -errno;
	else if (st.st_uid != 0)
		ret = -EPERM;
	else if ((st.st_gid != gid && fchown(fd, 0, gid) < 0) ||
	    ((st.st_mode & 07777) != mode && fchmod(fd, mode) < 0))
		ret = -errno;
	close(fd);
	return ret;
}

int wg_uapi_monitor_open(struct wg_uapi_server *srv, const char *ifname,
    const char **why)
{
	struct sockaddr_un sun;
	struct group *gr;
	int ret;

	memset(srv, 0, sizeof(*srv));
	srv->fd = -1;
	srv->read_only = true;
	*why = NULL;
	errno = 0;
	if ((gr = getgrnam(WG_UAPI_MONITOR_GROUP)) == NULL) {
		*why = "no group " WG_UAPI_MONITOR_GROUP;
		return errno ? -errno : -ENOENT;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (wg_uapi_monitor_path(sun.sun_path, sizeof(sun.sun_path),
	    ifname) < 0) {
		*why = "socket path too long";
		return -ENAMETOOLONG;
	}
	ret = mkdir(WG_UAPI_MONITOR_DIR, 0750) < 0 && errno != EEXIST ?
	    -errno : wg_uapi_dir_share(WG_UAPI_MONITOR_DIR, gr->gr_gid, 0750);
	if (ret < 0) {
		*why = "cannot make " WG_UAPI_MONITOR_DIR " root:"
		    WG_UAPI_MONITOR_GROUP " 0750";
		return ret;
	}
	return open_socket(srv, &sun, 0660, gr->gr_gid, why);
}

void wg_uapi_server_start(struct wg_uapi_server *srv, struct ev_loop *loop,
    struct wg_device *dev, const struct wg_uapi_ops *ops,
    void (*on_gone)(void *ctx), void *gone_ctx)
{
	srv->loop = loop;
	srv->dev = dev;
	srv->ops = *ops;
	srv->on_gone = on_gone;
	srv->gone_ctx = gone_ctx;
	ev_io_init(&srv->accept_watcher, server_accept, srv->fd, EV_READ);
	srv->accept_watcher.data = srv;
	ev_io_start(loop, &srv->accept_watcher);
	ev_timer_init(&srv->accept_pause, server_resume, 1.0, 0.);
	srv->accept_pause.data = srv;
	/* inotify when libev has it; otherwise a stat() every second. */
	ev_stat_init(&srv->stat_watcher, server_stat, srv->path, 1.0);
	srv->stat_watcher.data = srv;
	if (on_gone)
		ev_stat_start(loop, &srv->stat_watcher);
}

void wg_uapi_server_close(struct wg_uapi_server *srv)
{
	struct stat st;

	if (srv->loop) {
		while (srv->clients)
			client_free(srv->clients);
		ev_io_stop(srv->loop, &srv->accept_watcher);
		ev_timer_stop(srv->loop, &srv->accept_pause);
		ev_stat_stop(srv->loop, &srv->stat_watcher);
	}
	if (srv->fd >= 0) {
		close(srv->fd);
		srv->fd = -1;
		if (lstat(srv->path, &st) == 0 && st.st_dev == srv->st_dev &&
		    st.st_ino == srv->st_ino)
			unlink(srv->path);
	}
	srv->loop = NULL;
}
