/* The UDP sockets: one IPv4 and one IPv6 (IPV6_V6ONLY) bound to the same
 * port, nonblocking, with large buffers, reporting each datagram's local
 * destination address (IP_PKTINFO / IPV6_RECVPKTINFO) so replies can
 * leave from it (the endpoint's sticky source, as Linux's WireGuard does
 * in socket.c). */
#ifndef WG_UDP_H
#define WG_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "device.h"

enum {
	/* As wireguard-go (socketBufferSize): bursts at line rate. */
	WG_UDP_BUFFER_SIZE = 7 << 20,
	WG_UDP_BIND_RETRIES = 100,
	WG_UDP_MAX_BATCH = 64,		/* messages per recvmmsg */
	/* The kernel's UDP_MAX_SEGMENTS before Linux 6.9 raised it. */
	WG_UDP_MAX_SEGMENTS = 64,
	/* What one UDP GSO send carries: 64 KiB less the IPv6 and UDP
	 * headers. */
	WG_UDP_MAX_GSO_BYTES = 65535 - 40 - 8,
};

struct wg_udp {
	int fd4, fd6;		/* -1 when that family is unavailable */
	uint16_t port;
	uint32_t fwmark;
};

/* Binds both sockets to port (0: the kernel picks one for IPv4 and IPv6
 * takes the same, retrying with another when that is taken there).  A
 * host without IPv6 gets an IPv4 socket only.  Returns 0 or a negative
 * errno; on failure *udp is left closed. */
int wg_udp_open(struct wg_udp *udp, uint16_t port, uint32_t fwmark);
void wg_udp_close(struct wg_udp *udp);

/* Moves to another port: the new sockets are bound before the old ones
 * close, so a failure (-EADDRINUSE) changes nothing.  Port 0 picks a new
 * one; the current port is a no-op, as in the kernel. */
int wg_udp_rebind(struct wg_udp *udp, uint16_t port);

/* SO_MARK on both sockets (needs CAP_NET_ADMIN); 0 clears it. */
int wg_udp_set_fwmark(struct wg_udp *udp, uint32_t mark);

/* One message of a batch receive: the caller sets buf and cap; the call
 * fills the rest.  With UDP GRO on, one message may carry several
 * datagrams of seg_size bytes each, back to back (the last may be
 * shorter); seg_size 0 means one datagram. */
struct wg_udp_msg {
	uint8_t *buf;
	size_t cap;
	size_t len;
	size_t seg_size;
	bool truncated;		/* larger than cap: not one of ours */
	struct wg_endpoint from;	/* sender and the local address */
};

/* Receives up to n (at most WG_UDP_MAX_BATCH) messages from fd (fd4 or
 * fd6) in one system call.  Returns how many, or a negative errno
 * (-EAGAIN when none is waiting; ICMP errors surface as ECONNREFUSED and
 * the like). */
int wg_udp_recv_batch(int fd, struct wg_udp_msg *msgs, unsigned n);

/* Asks both sockets to deliver UDP GRO super-datagrams.  False when a
 * kernel refuses (before Linux 5.0 for IPv4, 5.12 for IPv6 it was
 * missing or broken): then each datagram comes on its own. */
bool wg_udp_enable_gro(struct wg_udp *udp);

/* Sends one datagram to ep, from ep's sticky source when it has one.  When
 * that source is gone (EINVAL, EADDRNOTAVAIL, ENETUNREACH), clears it in
 * *ep and retries once letting the kernel choose.  Returns 0 or a negative
 * errno. */
int wg_udp_send(struct wg_udp *udp, struct wg_endpoint *ep,
    const uint8_t *buf, size_t len);

/* The same for len bytes holding datagrams of seg_size bytes each (the
 * last may be shorter), sent with one UDP GSO system call (UDP_SEGMENT);
 * at most WG_UDP_MAX_SEGMENTS of them.  Errors as wg_udp_send, plus what
 * a kernel without working UDP GSO says (EIO, EINVAL, EOPNOTSUPP). */
int wg_udp_send_segments(struct wg_udp *udp, struct wg_endpoint *ep,
    const uint8_t *buf, size_t len, size_t seg_size);

#endif
