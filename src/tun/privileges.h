/* What the daemon keeps of root's powers once it is set up. */
#ifndef WG_TUN_PRIVILEGES_H
#define WG_TUN_PRIVILEGES_H

/* Call once, after the TUN device, the UDP sockets and the UAPI socket
 * exist and before the loop runs.  Sets no_new_privs, empties the
 * ambient, inheritable and bounding sets, and keeps in the effective and
 * permitted sets only CAP_NET_ADMIN and CAP_NET_BIND_SERVICE (those of
 * them the process has).  The uid stays 0: the daemon still owns its
 * socket file and directory, so it can remove them at exit.
 *
 * Returns 0 or a negative errno; a failure is logged (wg_log) and leaves
 * the process with whatever it could not drop, still able to run. */
int wg_privileges_drop(void);

#endif
