/* The command line's one client of the daemon's UAPI socket
 * (wireguard-tools' ipc.h): connect to /var/run/wireguard/IFNAME.sock,
 * send one request, read the answer through its blank line.  The
 * protocol is wireguard.com/xplatform's (src/tun/uapi_protocol.h). */
#ifndef WG_IPC_H
#define WG_IPC_H

#include "cli/buf.h"

/* A connected stream socket to IFNAME's UAPI socket (close-on-exec), or
 * a negative errno. */
int wg_ipc_connect(const char *ifname);

/* Sends req (a whole request, blank line included) and appends the answer
 * up to and including its blank line to *reply.  Returns 0 when the whole
 * answer came, or a negative errno: the socket's, -EPROTO when the daemon
 * closed the connection before the blank line, -ENOMEM. */
int wg_ipc_exchange(const char *ifname, const char *req,
    struct wg_buf *reply);

/* The value of the "errno=" line of a whole answer (0 or a negative errno,
 * as the daemon sends it), or -EPROTO when there is none. */
int wg_ipc_errno(const char *reply);

/* Both: exchange, then the answer's errno.  Returns 0, the exchange's
 * negative errno or the answer's.  reply may be NULL when only the
 * outcome matters; otherwise the caller frees it, whatever the result. */
int wg_ipc_call(const char *ifname, const char *req, struct wg_buf *reply);

/* The same, for a long-running program that must not hang on a daemon
 * that stops answering: each send or read waits at most timeout_ms (0:
 * for ever), else -EAGAIN. */
int wg_ipc_call_timeout(const char *ifname, const char *req,
    struct wg_buf *reply, int timeout_ms);

/* The same over IFNAME's read-only monitor socket
 * (/var/run/wgu-monitor/IFNAME.sock, group wgu-monitor: tun/uapi_path.h),
 * for the hub's programs that only watch: "get" without the keys, set
 * refused. */
int wg_ipc_monitor_call_timeout(const char *ifname, const char *req,
    struct wg_buf *reply, int timeout_ms);

/* The value of "key=" in an answer (up to its newline), or NULL. */
const char *wg_ipc_value(const char *reply, const char *key);

#endif
