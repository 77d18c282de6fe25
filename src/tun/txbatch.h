/* Outgoing datagrams gathered while one readable event is handled, so
 * that a run of equal-sized datagrams to one endpoint (the segments of a
 * TCP super-packet, once encrypted) leaves in one UDP GSO system call
 * instead of one each.  Order is kept: a datagram that cannot join the
 * pending run flushes it first.
 *
 * The pending run refers to the peer's endpoint by pointer (a failed
 * sticky source is cleared there, as wg_udp_send does), so the owner
 * flushes before anything can remove a peer: at the end of every event
 * that added to it. */
#ifndef WG_TXBATCH_H
#define WG_TXBATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gso.h"
#include "udp.h"

struct wg_txbatch {
	struct wg_udp *udp;
	bool gso;		/* UDP_SEGMENT in use; off after a failure */
	struct wg_endpoint *ep;	/* of the pending run, NULL when empty */
	size_t seg_size, len;
	unsigned count;
	bool closed;		/* a shorter datagram ended the run */
	uint64_t send_errors;	/* datagrams the kernel refused */
	uint8_t buf[WG_GSO_MAX_PACKET];
};

void wg_txbatch_init(struct wg_txbatch *b, struct wg_udp *udp, bool gso);

/* Queues one datagram for ep (copied).  Returns 0, or the error of a
 * flush it had to do first. */
int wg_txbatch_add(struct wg_txbatch *b, struct wg_endpoint *ep,
    const uint8_t *buf, size_t len);

/* Sends the pending run.  When UDP GSO fails but the same datagrams go
 * out one by one, GSO is turned off for good (kernels have shipped
 * broken UDP GSO) and *gso_failed set.  Returns 0 or the last error. */
int wg_txbatch_flush(struct wg_txbatch *b, bool *gso_failed);

#endif
