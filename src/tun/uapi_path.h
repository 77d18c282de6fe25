/* Where an interface's UAPI socket lives: /var/run/wireguard/IFNAME.sock,
 * the path wg(8) and wireguard-go use.  The daemon's server (uapi.c) and
 * the command line's client (src/cli/ipc.c) both name it through here. */
#ifndef WG_UAPI_PATH_H
#define WG_UAPI_PATH_H

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/un.h>

#define WG_UAPI_SOCKET_DIR "/var/run/wireguard"

/* The room a socket path has (sun_path). */
#define WG_UAPI_PATH_SIZE sizeof(((struct sockaddr_un *)0)->sun_path)

/* Writes IFNAME's socket path into out (size bytes, NUL-terminated).
 * Returns 0, or -ENAMETOOLONG when it does not fit. */
static inline int wg_uapi_socket_path(char *out, size_t size,
    const char *ifname)
{
	int n = snprintf(out, size, "%s/%s.sock", WG_UAPI_SOCKET_DIR, ifname);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* The monitor sockets (uapi.h): /var/run/wgu-monitor/IFNAME.sock, served
 * read-only to group wgu-monitor, for the hub's programs that watch the
 * tunnel (the historian's handshake alarms, the dashboard's tunnel page)
 * without the power to reconfigure it.  A directory of their own, so that
 * wg(8), listing /var/run/wireguard, never takes one for an interface. */
#define WG_UAPI_MONITOR_DIR "/var/run/wgu-monitor"
#define WG_UAPI_MONITOR_GROUP "wgu-monitor"

static inline int wg_uapi_monitor_path(char *out, size_t size,
    const char *ifname)
{
	int n = snprintf(out, size, "%s/%s.sock", WG_UAPI_MONITOR_DIR, ifname);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

#endif
