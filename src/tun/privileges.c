/* Dropping capabilities after setup; see privileges.h.
 *
 * What the running daemon still does that needs a capability:
 *
 *   CAP_NET_ADMIN         `wg set IFNAME fwmark N` (SO_MARK on the UDP
 *                         sockets), SO_RCVBUFFORCE/SO_SNDBUFFORCE when the
 *                         sockets are reopened for a new listen-port, and
 *                         nothing else we know of: the TUN descriptor is
 *                         already attached, reads and writes on it need no
 *                         capability.
 *   CAP_NET_BIND_SERVICE  `wg set IFNAME listen-port N` with N < 1024
 *                         reopens the UDP sockets on the new port.
 *
 * Everything else goes: CAP_SYS_ADMIN, CAP_DAC_OVERRIDE, CAP_SYS_PTRACE,
 * CAP_SETUID... none of them is used after setup, and a bug that let a
 * datagram take over the process should not find them there.  The
 * bounding set is emptied and no_new_privs set, so nothing the process
 * could execute would get any back (a root execve takes its capabilities
 * from the bounding set).  The uid stays 0 on purpose: the UAPI socket and
 * /var/run/wireguard belong to root and the daemon must still unlink its
 * socket at exit; as the owner it needs no CAP_DAC_OVERRIDE for that.
 *
 * Raw system calls (capget/capset, prctl), not libcap: the daemon links
 * nothing new for six calls. */
#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "privileges.h"

/* The capabilities kept, as a mask over the 64-bit set. */
static const uint64_t keep_mask = (1ull << CAP_NET_ADMIN) |
    (1ull << CAP_NET_BIND_SERVICE);

static int get_caps(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};

	memset(data, 0, 2 * sizeof(*data));
	return syscall(SYS_capget, &hdr, data) < 0 ? -errno : 0;
}

static int set_caps(uint64_t permitted)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	data[0].permitted = data[0].effective = (uint32_t)permitted;
	data[1].permitted = data[1].effective = (uint32_t)(permitted >> 32);
	return syscall(SYS_capset, &hdr, data) < 0 ? -errno : 0;
}

/* Empties the bounding set.  Needs CAP_SETPCAP, so it runs before capset
 * takes that away.  The kernel may know more capabilities than our
 * headers: go on until it says EINVAL (no such capability). */
static int clear_bounding_set(void)
{
	unsigned long cap;

	for (cap = 0; cap < 64; cap++) {
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				return 0;
			return -errno;
		}
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return -errno;
	}
	return 0;
}

int wg_privileges_drop(void)
{
	struct __user_cap_data_struct data[2];
	uint64_t permitted, effective;
	const char *what;
	int ret;

	what = "no_new_privs";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		ret = -errno;
		goto out;
	}
	/* Before 4.3 there is no ambient set: nothing to clear. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL) {
		what = "the ambient capabilities";
		ret = -errno;
		goto out;
	}
	what = "the capabilities";
	if ((ret = get_caps(data)) < 0)
		goto out;
	permitted = (uint64_t)data[1].permitted << 32 | data[0].permitted;
	effective = (uint64_t)data[1].effective << 32 | data[0].effective;
	/* Without CAP_SETPCAP (started with file capabilities, say) the
	 * bounding set cannot shrink; no_new_privs still holds. */
	if (effective & (1ull << CAP_SETPCAP)) {
		what = "the bounding set";
		if ((ret = clear_bounding_set()) < 0)
			goto out;
	}
	/* A capability the process never had cannot be kept: capset
	 * refuses any permitted set that grows. */
	what = "the capabilities";
	ret = set_caps(permitted & keep_mask);
out:
	if (ret < 0)
		wg_log(WG_LOG_ERROR, "Cannot drop %s: %s (running with more "
		    "privileges than needed)", what, strerror(-ret));
	else
		wg_log(WG_LOG_INFO, "Dropped every capability but "
		    "CAP_NET_ADMIN and CAP_NET_BIND_SERVICE");
	return ret;
}
