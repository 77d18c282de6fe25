/* Sending a batch of datagrams to one endpoint (what the core hands to
 * ops->send_udp_batch, device.h) with as few system calls as UDP GSO
 * allows: each run of equal-sized datagrams (the last of a run may be
 * shorter, as the kernel's UDP_SEGMENT wants) leaves in one sendmsg.
 * Order is kept.
 *
 * When a GSO send fails but the same datagrams then go out one by one,
 * the kernel's UDP GSO is broken (such kernels have shipped): it is
 * turned off for good, and that is logged once, here. */
#ifndef WG_TXBATCH_H
#define WG_TXBATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "udp.h"

struct wg_txbatch {
	struct wg_udp *udp;
	bool gso;		/* UDP_SEGMENT in use; off after a failure */
	uint64_t send_errors;	/* datagrams the kernel refused */
};

/* udp must outlive b; gso says whether to try UDP GSO at all. */
void wg_txbatch_init(struct wg_txbatch *b, struct wg_udp *udp, bool gso);

/* Sends the n datagrams laid back to back in buf (the i-th lens[i]
 * bytes) to ep, in order; ep as for wg_udp_send.  Returns 0 when all
 * left, else the last error (each refused datagram is counted). */
int wg_txbatch_send(struct wg_txbatch *b, struct wg_endpoint *ep,
    const uint8_t *buf, const size_t *lens, unsigned n);

#endif
