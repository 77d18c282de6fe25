/* TSO segmentation and checksum completion; see gso.h.  The per-segment
 * header rules are those of the kernel's tcp_gso_segment() and
 * inet_gso_segment(): sequence numbers advance by the bytes before the
 * segment, FIN and PSH stay only on the last segment, CWR only on the
 * first, and each IPv4 segment takes the next IP ID. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "bytes.h"
#include "checksum.h"
#include "gso.h"

enum {
	TCP_FIN = 0x01,
	TCP_PSH = 0x08,
	TCP_CWR = 0x80,
	TCP_MIN_HEADER = 20,
	IPV4_MIN_HEADER = 20,
	IPV6_HEADER = 40,
	PROTO_TCP = 6,
};

/* VIRTIO_NET_HDR_F_NEEDS_CSUM: the field at csum_start + csum_offset
 * holds the pseudo-header sum; the checksum covers csum_start to the
 * end (virtio spec 5.1.6.2). */
static int complete_checksum(const struct virtio_net_hdr *h, uint8_t *pkt,
    size_t len)
{
	size_t start = h->csum_start, field = start + h->csum_offset;

	if (start >= len || field + 2 > len || field < start)
		return -EINVAL;
	wg_csum_store(pkt + field,
	    (uint16_t)~wg_csum_fold(wg_csum_add(0, pkt + start, len - start)));
	return 0;
}

/* The layout of a TCP super-packet, checked. */
struct tso {
	int family;
	size_t ip_len, hdr_len, mss;
};

static int parse_tso(const struct virtio_net_hdr *h, const uint8_t *pkt,
    size_t len, struct tso *t)
{
	uint8_t type = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	size_t tcp_len;

	if (type == VIRTIO_NET_HDR_GSO_TCPV4) {
		if (len < IPV4_MIN_HEADER || pkt[0] >> 4 != 4)
			return -EINVAL;
		t->family = AF_INET;
		t->ip_len = (size_t)(pkt[0] & 0x0f) * 4;
		if (t->ip_len < IPV4_MIN_HEADER || t->ip_len > len ||
		    wg_load_be16(pkt + 2) != len)
			return -EINVAL;
		if (pkt[9] != PROTO_TCP)
			return -EPROTONOSUPPORT;
	} else if (type == VIRTIO_NET_HDR_GSO_TCPV6) {
		if (len < IPV6_HEADER || pkt[0] >> 4 != 6 ||
		    (size_t)wg_load_be16(pkt + 4) + IPV6_HEADER != len)
			return -EINVAL;
		t->family = AF_INET6;
		t->ip_len = IPV6_HEADER;
		if (pkt[6] != PROTO_TCP)
			return -EPROTONOSUPPORT;
	} else {
		return -EPROTONOSUPPORT;
	}
	if (t->ip_len + TCP_MIN_HEADER > len)
		return -EINVAL;
	tcp_len = (size_t)(pkt[t->ip_len + 12] >> 4) * 4;
	if (tcp_len < TCP_MIN_HEADER || t->ip_len + tcp_len > len)
		return -EINVAL;
	t->hdr_len = t->ip_len + tcp_len;
	t->mss = h->gso_size;
	if (t->mss == 0)
		return -EINVAL;
	return 0;
}

/* Segment number i, of n payload bytes starting at offset off. */
static size_t build_segment(const struct tso *t, const uint8_t *pkt,
    size_t off, size_t n, unsigned i, bool last, uint8_t *out)
{
	uint8_t *tcp = out + t->ip_len;
	size_t tcp_total = t->hdr_len - t->ip_len + n;
	const uint8_t *src, *dst;
	uint64_t sum;

	memcpy(out, pkt, t->hdr_len);
	memcpy(out + t->hdr_len, pkt + t->hdr_len + off, n);
	if (t->family == AF_INET) {
		wg_csum_store(out + 2, (uint16_t)(t->hdr_len + n));
		wg_csum_store(out + 4, (uint16_t)(wg_load_be16(pkt + 4) + i));
		wg_csum_store(out + 10, 0);
		wg_csum_store(out + 10, wg_csum_ipv4_header(out, t->ip_len));
		src = out + 12;
		dst = out + 16;
	} else {
		wg_csum_store(out + 4, (uint16_t)tcp_total);
		src = out + 8;
		dst = out + 24;
	}
	wg_store_be32(tcp + 4, wg_load_be32(pkt + t->ip_len + 4) + (uint32_t)off);
	if (!last)
		tcp[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
	if (i > 0)
		tcp[13] &= (uint8_t)~TCP_CWR;
	wg_csum_store(tcp + 16, 0);
	sum = wg_csum_pseudo(0, t->family, src, dst, PROTO_TCP,
	    (uint32_t)tcp_total);
	wg_csum_store(tcp + 16,
	    (uint16_t)~wg_csum_fold(wg_csum_add(sum, tcp, tcp_total)));
	return t->hdr_len + n;
}

static int split_tso(const struct tso *t, const uint8_t *pkt, size_t len,
    uint8_t *seg, size_t seg_cap, wg_gso_emit_fn *emit, void *ctx)
{
	size_t payload = len - t->hdr_len, off = 0, n;
	unsigned i = 0;

	if (t->hdr_len + (payload < t->mss ? payload : t->mss) > seg_cap)
		return -EMSGSIZE;
	do {
		n = payload - off < t->mss ? payload - off : t->mss;
		emit(ctx, seg, build_segment(t, pkt, off, n, i,
		    off + n == payload, seg));
		off += n;
		i++;
	} while (off < payload);
	return (int)i;
}

int wg_gso_split(const struct virtio_net_hdr *h, uint8_t *pkt, size_t len,
    uint8_t *seg, size_t seg_cap, wg_gso_emit_fn *emit, void *ctx)
{
	struct tso t;
	int ret;

	if (len == 0 || len > WG_GSO_MAX_PACKET)
		return -EINVAL;
	if (h->gso_type == VIRTIO_NET_HDR_GSO_NONE) {
		if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
		    (ret = complete_checksum(h, pkt, len)) < 0)
			return ret;
		emit(ctx, pkt, len);
		return 1;
	}
	if ((ret = parse_tso(h, pkt, len, &t)) < 0)
		return ret;
	return split_tso(&t, pkt, len, seg, seg_cap, emit, ctx);
}
