/* The UAPI client of `wgu up`, `down`, `show` and `stats`: see ipc.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/ipc.h"
#include "tun/uapi_path.h"

/* IFNAME's UAPI socket, or its read-only monitor socket. */
static int connect_to(const char *ifname, bool monitor)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, ret;

	ret = (monitor ? wg_uapi_monitor_path : wg_uapi_socket_path)(
	    sun.sun_path, sizeof(sun.sun_path), ifname);
	if (ret < 0)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

int wg_ipc_connect(const char *ifname)
{
	return connect_to(ifname, false);
}

static int send_all(int fd, const char *req, size_t len)
{
	ssize_t n;

	while (len > 0) {
		/* MSG_NOSIGNAL: a daemon that hangs up is an error to
		 * report, not a SIGPIPE that kills us. */
		n = send(fd, req, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		req += n;
		len -= (size_t)n;
	}
	return 0;
}

static bool answer_complete(const struct wg_buf *r)
{
	return r->s != NULL && strstr(r->s, "\n\n") != NULL;
}

/* A daemon that stops answering makes the socket calls fail with
 * -EAGAIN after timeout_ms (0: wait for ever). */
static int set_timeout(int fd, int timeout_ms)
{
	struct timeval tv = { .tv_sec = timeout_ms / 1000,
	    .tv_usec = (timeout_ms % 1000) * 1000 };

	if (timeout_ms <= 0)
		return 0;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	return 0;
}

static int exchange(const char *ifname, bool monitor, const char *req,
    struct wg_buf *reply, int timeout_ms)
{
	char chunk[4096];
	ssize_t n;
	int fd, ret;

	fd = connect_to(ifname, monitor);
	if (fd < 0)
		return fd;
	if ((ret = set_timeout(fd, timeout_ms)) < 0 ||
	    (ret = send_all(fd, req, strlen(req))) < 0)
		goto out;
	wg_buf_printf(reply, "%s", "");
	while (!reply->failed && !answer_complete(reply)) {
		n = read(fd, chunk, sizeof(chunk) - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* An older daemon closes on an unknown operation. */
			ret = n < 0 ? -errno : -EPROTO;
			goto out;
		}
		chunk[n] = '\0';
		wg_buf_printf(reply, "%s", chunk);
	}
	if (reply->failed)
		ret = -ENOMEM;
out:
	explicit_bzero(chunk, sizeof(chunk));
	close(fd);
	return ret;
}

int wg_ipc_exchange(const char *ifname, const char *req,
    struct wg_buf *reply)
{
	return exchange(ifname, false, req, reply, 0);
}

int wg_ipc_errno(const char *reply)
{
	const char *v = wg_ipc_value(reply, "errno");

	return v == NULL ? -EPROTO : -abs(atoi(v));
}

int wg_ipc_call(const char *ifname, const char *req, struct wg_buf *reply)
{
	return wg_ipc_call_timeout(ifname, req, reply, 0);
}

static int call(const char *ifname, bool monitor, const char *req,
    struct wg_buf *reply, int timeout_ms)
{
	struct wg_buf local = { 0 }, *r = reply ? reply : &local;
	int ret;

	ret = exchange(ifname, monitor, req, r, timeout_ms);
	if (ret == 0)
		ret = wg_ipc_errno(r->s);
	wg_buf_free(&local);
	return ret;
}

int wg_ipc_call_timeout(const char *ifname, const char *req,
    struct wg_buf *reply, int timeout_ms)
{
	return call(ifname, false, req, reply, timeout_ms);
}

int wg_ipc_monitor_call_timeout(const char *ifname, const char *req,
    struct wg_buf *reply, int timeout_ms)
{
	return call(ifname, true, req, reply, timeout_ms);
}

const char *wg_ipc_value(const char *reply, const char *key)
{
	size_t klen = strlen(key);
	const char *p = reply;

	for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, klen) == 0 && p[klen] == '=')
			return p + klen + 1;
	return NULL;
}
