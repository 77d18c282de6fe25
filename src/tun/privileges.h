/* What the daemon keeps of root's powers once it is set up. */
#ifndef WG_TUN_PRIVILEGES_H
#define WG_TUN_PRIVILEGES_H

#include <stddef.h>

/* Call once, after the TUN device, the UDP sockets and the UAPI socket
 * exist and the watchers are started, before the loop runs.  As root:
 * makes the UAPI socket directory root:wgu 0770 and becomes user wgu
 * (WGU_USER=NAME another user, WGU_USER=root none).  Then keeps only
 * CAP_NET_ADMIN and CAP_NET_BIND_SERVICE, empties the other capability
 * sets, sets no_new_privs and loads the daemon's seccomp filter
 * (common/sandbox.h).
 *
 * Returns 0, or a negative errno with a message in err (the user does
 * not exist, say): the daemon must then exit, it may be half-dropped. */
int wg_privileges_drop(char *err, size_t errlen);

#endif
