/* The daemon's process, seen from `wgu up` and `wgu down`. */
#ifndef WG_DAEMONCTL_H
#define WG_DAEMONCTL_H

#include <sys/types.h>

/* Starts `wgu IFNAME` (this very binary, in the background whatever
 * WG_PROCESS_FOREGROUND says) and waits until it has created the TUN
 * device and the UAPI socket.  Returns 0, or a negative errno (-ECHILD:
 * the daemon failed, having said why). */
int wg_daemonctl_start(const char *ifname);

/* The process serving IFNAME's UAPI socket (SO_PEERCRED), or 0. */
pid_t wg_daemonctl_pid(const char *ifname);

/* Waits, up to five seconds, until IFNAME's socket is gone and pid (as
 * wg_daemonctl_pid found it before, or 0) no longer runs; then removes a
 * socket file left behind. */
void wg_daemonctl_wait_gone(const char *ifname, pid_t pid);

#endif
