/* Cutting what the TUN device hands us into packets we can encrypt.
 *
 * With IFF_VNET_HDR and TUNSETOFFLOAD(TSO4 | TSO6 | CSUM) the kernel
 * prefixes every packet read from the TUN with a struct virtio_net_hdr
 * and may (1) leave the TCP/UDP checksum partial (VIRTIO_NET_HDR_F_NEEDS_
 * CSUM: the pseudo-header sum is in place, the rest is ours to add) and
 * (2) hand us one TCP "super-packet" of up to 64 KiB (gso_type TCPV4 or
 * TCPV6) that stands for many MSS-sized segments.  One read then moves
 * dozens of packets, which is most of the speed of wireguard-go's and
 * Linux's data paths.  This module turns either into ordinary IP packets
 * with valid checksums, as the kernel's own TCP segmentation would.
 *
 * Pure: no I/O.  The bytes come from the local kernel but are parsed as
 * untrusted all the same (fuzz/fuzz_offload.c). */
#ifndef WG_GSO_H
#define WG_GSO_H

#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdint.h>

enum {
	WG_VNET_HDR_LEN = sizeof(struct virtio_net_hdr),
	WG_GSO_MAX_PACKET = 65535,	/* the IP length fields' limit */
};

/* Receives each packet in order; p is valid only during the call. */
typedef void wg_gso_emit_fn(void *ctx, const uint8_t *p, size_t len);

/* Emits the packet pkt (len bytes, as read after the virtio header h):
 * itself, its checksum completed in place when the kernel left it
 * partial, or, for a TSO super-packet, each segment built in seg (a
 * buffer of seg_cap bytes, reused between calls to emit).  Returns the
 * number of packets emitted, or -EINVAL (malformed header or packet),
 * -EPROTONOSUPPORT (a GSO type we never enabled, an IPv6 extension
 * header before TCP) or -EMSGSIZE (a segment larger than seg_cap); on
 * error nothing was emitted. */
int wg_gso_split(const struct virtio_net_hdr *h, uint8_t *pkt, size_t len,
    uint8_t *seg, size_t seg_cap, wg_gso_emit_fn *emit, void *ctx);

#endif
