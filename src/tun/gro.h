/* Merging decrypted TCP segments into one super-packet for the TUN.
 *
 * Written to a TUN opened with IFF_VNET_HDR, a TCP packet of up to 64 KiB
 * with gso_type TCPV4/TCPV6 enters the stack as the many segments it
 * stands for, in one system call and one pass through the stack: the
 * receive-side twin of gso.h, as wireguard-go's TUN GRO and the kernel's
 * tcp_gro_receive() do it.  Only what the kernel's GRO would merge is
 * merged: consecutive segments of one flow (same addresses, ports, ack,
 * window, TCP options and IP fields), each carrying mss bytes except the
 * last, in sequence, with no flags but ACK (PSH closes the run), and an
 * IPv4 header checksum that verifies.
 * Anything else is written on its own, in arrival order.
 *
 * Pure: no I/O; the caller writes wg_gro_packet() and calls
 * wg_gro_reset(). */
#ifndef WG_GRO_H
#define WG_GRO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gso.h"

struct wg_gro {
	/* The virtio header, then the merged packet. */
	uint8_t buf[WG_VNET_HDR_LEN + WG_GSO_MAX_PACKET];
	size_t len;		/* of the packet, 0 when none is pending */
	int family;
	size_t ip_len, hdr_len, mss;
	unsigned segments;
	uint32_t next_seq;
	bool closed;		/* a short or PSH segment ended the run */
};

void wg_gro_reset(struct wg_gro *g);

/* Offers one decrypted IP packet.  Returns true when it was taken:
 * appended to the pending super-packet, or, with none pending, kept as
 * the start of one.  False means it cannot join: the caller writes out
 * the pending one (if any), resets, and offers again; a packet refused
 * with nothing pending is one to write on its own. */
bool wg_gro_offer(struct wg_gro *g, const uint8_t *pkt, size_t len);

/* Finishes the pending packet (lengths, IPv4 header checksum, virtio
 * header) and returns the bytes to write, virtio header first, or NULL
 * when nothing is pending. */
const uint8_t *wg_gro_packet(struct wg_gro *g, size_t *len);

#endif
