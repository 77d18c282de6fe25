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

/* Receives one datagram from fd (fd4 or fd6).  Fills *from with the
 * sender and the local address it was sent to.  Returns its length or a
 * negative errno (-EAGAIN when none is waiting). */
ssize_t wg_udp_recv(int fd, uint8_t *buf, size_t len,
    struct wg_endpoint *from);

/* Sends one datagram to ep, from ep's sticky source when it has one.  When
 * that source is gone (EINVAL, EADDRNOTAVAIL, ENETUNREACH), clears it in
 * *ep and retries once letting the kernel choose.  Returns 0 or a negative
 * errno. */
int wg_udp_send(struct wg_udp *udp, struct wg_endpoint *ep,
    const uint8_t *buf, size_t len);

#endif
