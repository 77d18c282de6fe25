/* The tunnel page's way to the daemon's UAPI socket once the dashboard
 * has given up root.
 *
 * The socket (/var/run/wireguard/IFACE.sock) is root's, mode 0600 in a
 * 0700 directory, and it answers "set" as readily as "get": a process
 * facing browsers must not hold it.  So before the sandbox, a child is
 * forked that keeps uid 0 but no capability, under a seccomp filter of
 * a dozen calls (no open, no exec), holding nothing but one end of a
 * socketpair.  It asks the one interface it was given the two questions
 * the tunnel page needs ("get=1", "stats=1"), whichever the dashboard
 * names with one byte, and hands back the answer with the private and
 * preshared keys' lines taken out.
 *
 * The data side asks through wg_ipc_call() (src/cli/ipc.c).  The program
 * is linked with -Wl,--wrap=wg_ipc_call: __wrap_wg_ipc_call() here sends
 * those two requests through the relay when it runs, and anything else,
 * or everything when there is no relay (not root), to the real one. */
#ifndef WGU_DASHBOARD_UAPI_RELAY_H
#define WGU_DASHBOARD_UAPI_RELAY_H

#include <stddef.h>

/* Forks the relay for ifname.  Call as root, first thing (before any
 * secret is read, any thread started).  0, or -1 with a message. */
int uapi_relay_start(const char *ifname, char *err, size_t errlen);

/* Ends the relay (it also ends by itself when the dashboard exits). */
void uapi_relay_stop(void);

/* What the relay does to an answer before handing it over: the lines
 * "private_key=..." and "preshared_key=..." removed, in place.  Returns
 * the new length. */
size_t uapi_relay_strip_keys(char *text);

#endif
