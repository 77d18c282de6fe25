/* The wgu daemon: one libev loop wiring the protocol core (device.h) to
 * the TUN device, the UDP sockets and the UAPI socket.
 *
 * Event sources: both UDP sockets, the TUN descriptor, an rtnetlink
 * socket (MTU changes, deletion), the UAPI listener and its clients, the
 * UAPI socket file (removal), SIGTERM/SIGINT/SIGHUP, and ONE ev_timer for
 * the core.  An ev_prepare watcher re-arms that timer to
 * wg_device_next_deadline() each time the loop is about to sleep, that is
 * after every batch of calls into the core, whichever watcher made them.
 * Each readable source is read until EAGAIN or a bounded batch, so none
 * can starve the others. */
#ifndef WG_DAEMON_H
#define WG_DAEMON_H

#include <stdbool.h>

/* Runs `wgu [-f] IFNAME` and returns the process exit status.
 *
 * Without foreground, forks: the child sets everything up (UAPI socket,
 * TUN device, UDP sockets) and reports success or its error message
 * through a pipe; the parent returns 0 once both the interface and the
 * socket exist, else prints the error and returns 1.  The child leaves
 * the session (setsid), sends stdio to /dev/null and logs to syslog.
 *
 * The daemon ends cleanly, removing its socket, on SIGTERM, SIGINT or
 * SIGHUP, when the interface is deleted, or when its socket file is
 * removed. */
int wg_daemon_main(const char *ifname, bool foreground);

#endif
