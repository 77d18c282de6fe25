/* The TUN device (Linux /dev/net/tun, IFF_TUN | IFF_NO_PI: each read and
 * write is one bare IPv4 or IPv6 packet, after a struct virtio_net_hdr
 * when opened with IFF_VNET_HDR for offloads, see gso.h and gro.h) and an rtnetlink watch on it, so
 * the daemon learns when the interface's MTU changes or the interface is
 * deleted (ip link del). */
#ifndef WG_TUN_H
#define WG_TUN_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum {
	WG_TUN_DEFAULT_MTU = 1420,	/* as wireguard-go and wg-quick */
};

struct wg_tun {
	int fd;			/* the packet file descriptor, nonblocking */
	int netlink_fd;		/* RTNLGRP_LINK messages, nonblocking */
	int ifindex;
	bool vnet_hdr;		/* reads and writes carry a virtio_net_hdr */
	bool tso;		/* the kernel may hand us TCP super-packets */
	char name[IFNAMSIZ];
};

/* Checks an interface name as the kernel's dev_valid_name() does, and
 * rejects '%' (a template to the kernel, but our socket path must be the
 * name itself).  Returns 0, or -EINVAL with *why set to a short reason. */
int wg_tun_check_name(const char *name, const char **why);

/* Creates the device (or attaches to a persistent one of that name), sets
 * its MTU to WG_TUN_DEFAULT_MTU and opens the rtnetlink watch.  With
 * vnet_hdr every read and write carries a virtio_net_hdr, and with tso
 * too the kernel is asked for checksum and TCP segmentation offload
 * (tun->tso says whether it agreed).  Returns 0 or a negative errno;
 * nothing is left open on failure. */
int wg_tun_open(struct wg_tun *tun, const char *name, bool vnet_hdr,
    bool tso);
void wg_tun_close(struct wg_tun *tun);

/* One packet, as the device delivers it (after its virtio header with
 * vnet_hdr).  read() returns its length or a negative errno (-EAGAIN
 * when there is none; -EBADFD or -EIO once the device was deleted). */
ssize_t wg_tun_read(struct wg_tun *tun, void *buf, size_t len);
int wg_tun_write(struct wg_tun *tun, const void *packet, size_t len);
/* Writes one decrypted IP packet, with a virtio header saying its
 * checksums need no checking when the device has them. */
int wg_tun_write_packet(struct wg_tun *tun, const void *packet, size_t len);

int wg_tun_get_mtu(const struct wg_tun *tun, unsigned *mtu);

/* Drains the rtnetlink socket.  Sets *deleted when the interface went
 * away and *mtu (else left alone) when a message carried its MTU.
 * Returns 0 or a negative errno (-ENOBUFS: messages were lost, so the
 * caller should check the state itself). */
int wg_tun_monitor(struct wg_tun *tun, bool *deleted, unsigned *mtu);

/* Whether the interface still exists (by index, then by name). */
bool wg_tun_exists(const struct wg_tun *tun);

#endif
