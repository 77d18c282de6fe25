/* The TUN device and its rtnetlink watch; see tun.h.
 *
 * How Linux reports a deleted TUN device (checked on 6.x): `ip link del`
 * detaches every queue (tun_detach_all() sets RCV_SHUTDOWN and wakes the
 * readers), after which poll() reports POLLERR and read() fails with
 * EBADFD.  The rtnetlink RTM_DELLINK that also arrives is not proof: the
 * same message is sent when the interface is moved to another network
 * namespace, where it keeps working (the UDP sockets stay behind, the
 * trick wg-quick users know).  So a DELLINK only makes us look at the
 * descriptor, and the descriptor decides. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "tun.h"

int wg_tun_check_name(const char *name, const char **why)
{
	size_t len = strlen(name), i;

	*why = NULL;
	if (len == 0)
		*why = "the interface name is empty";
	else if (len >= IFNAMSIZ)
		*why = "the interface name is longer than 15 characters";
	else if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		*why = "the interface name cannot be \".\" or \"..\"";
	for (i = 0; i < len && *why == NULL; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '/' || c == ':' || c == '%' || c <= ' ' || c == 0x7f)
			*why = "the interface name may not contain '/', ':', "
			    "'%', spaces or control characters";
	}
	return *why ? -EINVAL : 0;
}

/* A socket for interface ioctls (any family will do). */
static int ctl_socket(void)
{
	static const int families[] = { AF_INET, AF_INET6, AF_UNIX };
	size_t i;
	int fd = -1;

	for (i = 0; i < sizeof(families) / sizeof(families[0]) && fd < 0; i++)
		fd = socket(families[i], SOCK_DGRAM | SOCK_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

static int ifreq_ioctl(const char *name, unsigned long req, struct ifreq *ifr)
{
	int fd = ctl_socket(), ret = 0;

	if (fd < 0)
		return fd;
	snprintf(ifr->ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, req, ifr) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int wg_tun_get_mtu(const struct wg_tun *tun, unsigned *mtu)
{
	struct ifreq ifr;
	int ret;

	memset(&ifr, 0, sizeof(ifr));
	ret = ifreq_ioctl(tun->name, SIOCGIFMTU, &ifr);
	if (ret == 0)
		*mtu = ifr.ifr_mtu > 0 ? (unsigned)ifr.ifr_mtu : 0;
	return ret;
}

static int set_mtu(const struct wg_tun *tun, unsigned mtu)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_mtu = (int)mtu;
	return ifreq_ioctl(tun->name, SIOCSIFMTU, &ifr);
}

static int open_netlink(void)
{
	struct sockaddr_nl sa;
	int fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	sa.nl_groups = RTMGRP_LINK;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

/* TUN_F_CSUM lets the kernel hand us partial checksums; TSO4/TSO6 then
 * let it hand us TCP super-packets (gso.h).  Refused on kernels or
 * devices without them: then we still read whole packets. */
static bool enable_tso(int fd)
{
	return ioctl(fd, TUNSETOFFLOAD,
	    TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) == 0;
}

int wg_tun_open(struct wg_tun *tun, const char *name, bool vnet_hdr,
    bool tso)
{
	struct ifreq ifr;
	const char *why;
	int ret;

	memset(tun, 0, sizeof(*tun));
	tun->fd = tun->netlink_fd = -1;
	if (wg_tun_check_name(name, &why) < 0)
		return -EINVAL;
	snprintf(tun->name, sizeof(tun->name), "%s", name);

	tun->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (tun->fd < 0) {
		ret = -errno;
		goto out;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0);
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(tun->fd, TUNSETIFF, &ifr) < 0) {
		ret = -errno;
		goto out;
	}
	/* The kernel may not have used our name verbatim. */
	if (strncmp(ifr.ifr_name, name, IFNAMSIZ) != 0) {
		ret = -EINVAL;
		goto out;
	}
	tun->ifindex = (int)if_nametoindex(name);
	if (tun->ifindex == 0) {
		ret = -errno;
		goto out;
	}
	tun->vnet_hdr = vnet_hdr;
	tun->tso = vnet_hdr && tso && enable_tso(tun->fd);
	if ((ret = set_mtu(tun, WG_TUN_DEFAULT_MTU)) < 0)
		goto out;
	tun->netlink_fd = open_netlink();
	if (tun->netlink_fd < 0) {
		ret = tun->netlink_fd;
		goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		wg_tun_close(tun);
	return ret;
}

void wg_tun_close(struct wg_tun *tun)
{
	if (tun->fd >= 0)
		close(tun->fd);
	if (tun->netlink_fd >= 0)
		close(tun->netlink_fd);
	tun->fd = tun->netlink_fd = -1;
}

ssize_t wg_tun_read(struct wg_tun *tun, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(tun->fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

int wg_tun_write(struct wg_tun *tun, const void *packet, size_t len)
{
	ssize_t n;

	do
		n = write(tun->fd, packet, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int wg_tun_write_packet(struct wg_tun *tun, const void *packet, size_t len)
{
	/* The AEAD tag vouched for every byte, so the kernel need not check
	 * the checksums again (Linux's WireGuard: CHECKSUM_UNNECESSARY). */
	struct virtio_net_hdr h = { .flags = VIRTIO_NET_HDR_F_DATA_VALID };
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)packet, .iov_len = len },
	};
	ssize_t n;

	if (!tun->vnet_hdr)
		return wg_tun_write(tun, packet, len);
	do
		n = writev(tun->fd, iov, 2);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == sizeof(h) + len ? 0 : -EIO;
}

bool wg_tun_exists(const struct wg_tun *tun)
{
	struct pollfd pfd = { .fd = tun->fd, .events = POLLIN };

	/* A detached queue polls as POLLERR (tun_chr_poll()). */
	if (poll(&pfd, 1, 0) < 0)
		return true;
	return !(pfd.revents & (POLLERR | POLLHUP | POLLNVAL));
}

/* Reads one RTM_NEWLINK/RTM_DELLINK about our interface. */
static void link_message(struct wg_tun *tun, const struct nlmsghdr *nh,
    bool *deleted, unsigned *mtu)
{
	const struct ifinfomsg *ifi;
	const struct rtattr *rta;
	size_t len;

	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return;
	ifi = NLMSG_DATA(nh);
	if (ifi->ifi_index != tun->ifindex)
		return;
	if (nh->nlmsg_type == RTM_DELLINK) {
		*deleted = true;
		return;
	}
	len = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));
	for (rta = IFLA_RTA(ifi); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		uint32_t v;

		if (rta->rta_type != IFLA_MTU ||
		    RTA_PAYLOAD(rta) != sizeof(v))
			continue;
		memcpy(&v, RTA_DATA(rta), sizeof(v));
		*mtu = v;
	}
}

int wg_tun_monitor(struct wg_tun *tun, bool *deleted, unsigned *mtu)
{
	/* Aligned for struct nlmsghdr. */
	uint32_t buf[8192 / sizeof(uint32_t)];
	struct sockaddr_nl from;
	socklen_t fromlen;
	const struct nlmsghdr *nh;
	ssize_t n;
	size_t left;

	for (;;) {
		fromlen = sizeof(from);
		n = recvfrom(tun->netlink_fd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&from, &fromlen);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -errno;
		}
		/* Only the kernel speaks on this group. */
		if (fromlen != sizeof(from) || from.nl_pid != 0)
			continue;
		left = (size_t)n;
		for (nh = (const struct nlmsghdr *)buf; NLMSG_OK(nh, left);
		    nh = NLMSG_NEXT(nh, left))
			if (nh->nlmsg_type == RTM_NEWLINK ||
			    nh->nlmsg_type == RTM_DELLINK)
				link_message(tun, nh, deleted, mtu);
	}
}
