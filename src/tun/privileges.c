/* The daemon's sandbox once set up; see privileges.h and
 * common/sandbox.h.
 *
 * What the running daemon still does that needs a capability:
 *
 *   CAP_NET_ADMIN         `wg set IFNAME fwmark N` (SO_MARK on the UDP
 *                         sockets), SO_RCVBUFFORCE/SO_SNDBUFFORCE when the
 *                         sockets are reopened for a new listen-port.  The
 *                         TUN descriptor is already attached: reads and
 *                         writes on it need no capability.
 *   CAP_NET_BIND_SERVICE  `wg set IFNAME listen-port N` with N < 1024
 *                         reopens the UDP sockets on the new port.
 *
 * Everything else goes, and so does uid 0: as root with only those two a
 * process still owns every root file (no CAP_DAC_OVERRIDE needed to
 * rewrite /etc/shadow).  The daemon becomes user wgu (WGU_USER names
 * another; WGU_USER=root keeps uid 0, with the capabilities and filter
 * below all the same).
 *
 * The UAPI socket stays root's, 0600: only root may talk to the daemon.
 * Its directory becomes root:wgu 0770 so that the daemon, as a member of
 * group wgu, can stat its socket (the watch that notices its removal) and
 * unlink it at exit.  Others still cannot even look into the directory;
 * what group wgu gains is the power to remove or replace another wgu
 * daemon's socket, which the same user could disturb anyway. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/sandbox.h"
#include "log.h"
#include "privileges.h"
#include "uapi.h"

int wg_privileges_drop(char *err, size_t errlen)
{
	uint32_t uid, gid;
	int ret;

	if (geteuid() == 0) {
		if (!sandbox_user_lookup(&sandbox_daemon_policy, &uid, &gid, err,
		    errlen))
			return -ENOENT;
		if (uid != 0 && (ret = wg_uapi_dir_share(WG_UAPI_SOCKET_DIR,
		    gid, 0770)) < 0) {
			snprintf(err, errlen, "cannot give group %u access to "
			    "%s: %s", (unsigned)gid, WG_UAPI_SOCKET_DIR,
			    strerror(-ret));
			return ret;
		}
	}
	ret = sandbox_enter(&sandbox_daemon_policy, err, errlen);
	if (ret == 0)
		wg_log(WG_LOG_INFO, "Running as uid %u with CAP_NET_ADMIN and "
		    "CAP_NET_BIND_SERVICE only, under a seccomp filter",
		    (unsigned)getuid());
	return ret;
}
