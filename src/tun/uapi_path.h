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

#endif
