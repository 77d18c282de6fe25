/* The UAPI server: a unix stream socket at /var/run/wireguard/IFNAME.sock
 * (the path wg(8) looks for), serving the protocol of uapi_protocol.h to
 * any number of clients at once from the libev loop.
 *
 * Each client has its own session, its output buffered and written as the
 * socket accepts it; a client idle for WG_UAPI_CLIENT_TIMEOUT seconds is
 * dropped, and one that does not read its answers stops being read.  So a
 * slow or hostile client costs memory bounded per client and never blocks
 * the loop. */
#ifndef WG_UAPI_H
#define WG_UAPI_H

#include <ev.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "uapi_path.h"
#include "uapi_protocol.h"

enum {
	WG_UAPI_MAX_CLIENTS = 64,
	WG_UAPI_CLIENT_TIMEOUT = 10,		/* seconds of silence */
	WG_UAPI_OUTPUT_HIGH = 256 * 1024,	/* stop reading above */
};

struct wg_uapi_client;

struct wg_uapi_server {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t st_dev;		/* our socket file, to know it from a */
	ino_t st_ino;		/* replacement */
	struct ev_loop *loop;
	struct wg_device *dev;
	struct wg_uapi_ops ops;
	ev_io accept_watcher;
	ev_timer accept_pause;	/* after accept() fails for lack of fds */
	ev_stat stat_watcher;
	/* Called once when the socket file is removed or replaced. */
	void (*on_gone)(void *ctx);
	void *gone_ctx;
	struct wg_uapi_client *clients;
	unsigned nclients;
	bool read_only;		/* the monitor socket: sessions read-only */
};

/* Creates WG_UAPI_SOCKET_DIR (0700) if needed and listens on IFNAME.sock
 * (mode 0600).  A stale socket (nobody accepts on it) is removed first;
 * a live one fails with -EADDRINUSE.  On failure *why says what went
 * wrong in words.  Nothing is served until start(). */
int wg_uapi_server_open(struct wg_uapi_server *srv, const char *ifname,
    const char **why);

/* Gives directory dir (root's, never through a symlink) to group gid with
 * mode: the socket directory to the daemon's group (privileges.c), the
 * monitor directory to wgu-monitor.  0, -EPERM when root does not own
 * it, or another negative errno. */
int wg_uapi_dir_share(const char *dir, gid_t gid, mode_t mode);

/* The monitor socket, WG_UAPI_MONITOR_DIR/IFNAME.sock: the same protocol
 * read-only (uapi_protocol.h), for group WG_UAPI_MONITOR_GROUP.  The
 * directory is made root:group 0750, the socket root:group 0660 (connect
 * needs write).  -ENOENT when the group does not exist (then there is no
 * monitor socket, and nothing else changes); other failures as open().
 * The socket is not watched for removal; at close its file is removed
 * when the process still may (a daemon that dropped root leaves it, and
 * the next one takes the stale socket over). */
int wg_uapi_monitor_open(struct wg_uapi_server *srv, const char *ifname,
    const char **why);

/* Starts accepting clients on loop, configuring dev through ops. */
void wg_uapi_server_start(struct wg_uapi_server *srv, struct ev_loop *loop,
    struct wg_device *dev, const struct wg_uapi_ops *ops,
    void (*on_gone)(void *ctx), void *gone_ctx);

/* Drops every client, closes the socket and removes its file if it is
 * still ours. */
void wg_uapi_server_close(struct wg_uapi_server *srv);

#endif
