/* TCP segment merging; see gro.h.  The merge rules follow the kernel's
 * tcp_gro_receive() and inet_gro_receive(): a flush on any difference in
 * the IP header except length, ID and checksum, or in the TCP header
 * except sequence number, PSH and checksum; an IPv4 header whose checksum
 * does not verify is never merged. */
#include <string.h>
#include <sys/socket.h>

#include "bytes.h"
#include "checksum.h"
#include "gro.h"

enum {
	TCP_ACK = 0x10,
	TCP_PSH = 0x08,
	PROTO_TCP = 6,
	IPV4_HEADER = 20,
	IPV6_HEADER = 40,
	TCP_MIN_HEADER = 20,
};

void wg_gro_reset(struct wg_gro *g)
{
	g->len = 0;
	g->segments = 0;
	g->closed = false;
}

/* A TCP segment we may merge: plain IPv4 (no options, not a fragment) or
 * IPv6 with TCP right after the fixed header, only ACK (and PSH) set, and
 * some payload.  Fills the layout in *t. */
struct layout {
	int family;
	size_t ip_len, hdr_len, payload;
};

static bool mergeable(const uint8_t *pkt, size_t len, struct layout *t)
{
	const uint8_t *tcp;
	uint8_t flags;

	if (len >= IPV4_HEADER && pkt[0] == 0x45) {
		/* MF set or a fragment offset: not a whole segment. */
		if ((wg_load_be16(pkt + 6) & 0x3fff) != 0 || pkt[9] != PROTO_TCP ||
		    wg_load_be16(pkt + 2) != len)
			return false;
		/* A bad header checksum: inet_gro_receive() leaves it
		 * unmerged and ip_rcv() drops it, so it goes to the TUN on
		 * its own, as it came; merged, it would get a fresh one. */
		if (wg_csum_fold(wg_csum_add(0, pkt, IPV4_HEADER)) != 0xffff)
			return false;
		t->family = AF_INET;
		t->ip_len = IPV4_HEADER;
	} else if (len >= IPV6_HEADER && pkt[0] >> 4 == 6) {
		if (pkt[6] != PROTO_TCP ||
		    (size_t)wg_load_be16(pkt + 4) + IPV6_HEADER != len)
			return false;
		t->family = AF_INET6;
		t->ip_len = IPV6_HEADER;
	} else {
		return false;
	}
	if (t->ip_len + TCP_MIN_HEADER > len)
		return false;
	tcp = pkt + t->ip_len;
	t->hdr_len = t->ip_len + (size_t)(tcp[12] >> 4) * 4;
	if (t->hdr_len < t->ip_len + TCP_MIN_HEADER || t->hdr_len >= len)
		return false;
	flags = tcp[13];
	if ((flags & (uint8_t)~TCP_PSH) != TCP_ACK)
		return false;
	t->payload = len - t->hdr_len;
	return true;
}

static void start(struct wg_gro *g, const uint8_t *pkt, size_t len,
    const struct layout *t)
{
	memcpy(g->buf + WG_VNET_HDR_LEN, pkt, len);
	g->len = len;
	g->family = t->family;
	g->ip_len = t->ip_len;
	g->hdr_len = t->hdr_len;
	g->mss = t->payload;
	g->segments = 1;
	g->next_seq = wg_load_be32(pkt + t->ip_len + 4) + (uint32_t)t->payload;
	g->closed = (pkt[t->ip_len + 13] & TCP_PSH) != 0;
}

/* The same flow and everything GRO compares: for IPv4 the bytes before
 * the length and from TTL/protocol on (not ID, flags or checksum); for
 * IPv6 all but the payload length; for TCP ports, ack, flags (PSH aside),
 * window and options. */
static bool same_headers(const struct wg_gro *g, const uint8_t *pkt)
{
	const uint8_t *head = g->buf + WG_VNET_HDR_LEN;
	const uint8_t *a = head + g->ip_len, *b = pkt + g->ip_len;

	if (g->family == AF_INET) {
		if (memcmp(head, pkt, 2) != 0 || head[8] != pkt[8] ||
		    memcmp(head + 12, pkt + 12, 8) != 0 ||
		    (head[6] & 0x40) != (pkt[6] & 0x40))
			return false;
	} else if (memcmp(head, pkt, 4) != 0 ||
	    memcmp(head + 6, pkt + 6, 34) != 0) {
		return false;
	}
	return memcmp(a, b, 4) == 0 && memcmp(a + 8, b + 8, 5) == 0 &&
	    memcmp(a + 14, b + 14, 2) == 0 &&
	    memcmp(a + 20, b + 20, g->hdr_len - g->ip_len - 20) == 0;
}

bool wg_gro_offer(struct wg_gro *g, const uint8_t *pkt, size_t len)
{
	struct layout t;

	if (!mergeable(pkt, len, &t))
		return false;
	if (g->len == 0) {
		start(g, pkt, len, &t);
		return true;
	}
	if (g->closed || t.family != g->family || t.hdr_len != g->hdr_len ||
	    t.payload > g->mss || g->len + t.payload > WG_GSO_MAX_PACKET ||
	    wg_load_be32(pkt + t.ip_len + 4) != g->next_seq ||
	    !same_headers(g, pkt))
		return false;
	memcpy(g->buf + WG_VNET_HDR_LEN + g->len, pkt + t.hdr_len, t.payload);
	g->len += t.payload;
	g->next_seq += (uint32_t)t.payload;
	g->segments++;
	if (t.payload < g->mss || (pkt[t.ip_len + 13] & TCP_PSH)) {
		/* The segment that ends the run lends its PSH. */
		g->buf[WG_VNET_HDR_LEN + g->ip_len + 13] |=
		    pkt[t.ip_len + 13] & TCP_PSH;
		g->closed = true;
	}
	return true;
}

/* A merged packet enters the stack as CHECKSUM_PARTIAL: the TCP checksum
 * field holds the pseudo-header sum and the kernel trusts the rest, as
 * Linux's WireGuard marks decrypted packets CHECKSUM_UNNECESSARY: the
 * AEAD tag already vouched for every byte. */
const uint8_t *wg_gro_packet(struct wg_gro *g, size_t *len)
{
	struct virtio_net_hdr h;
	uint8_t *pkt = g->buf + WG_VNET_HDR_LEN, *tcp = pkt + g->ip_len;
	size_t tcp_total = g->len - g->ip_len;

	if (g->len == 0)
		return NULL;
	memset(&h, 0, sizeof(h));
	if (g->segments > 1) {
		if (g->family == AF_INET) {
			wg_csum_store(pkt + 2, (uint16_t)g->len);
			wg_csum_store(pkt + 10, 0);
			wg_csum_store(pkt + 10,
			    wg_csum_ipv4_header(pkt, g->ip_len));
			wg_csum_store(tcp + 16, wg_csum_fold(wg_csum_pseudo(0,
			    AF_INET, pkt + 12, pkt + 16, PROTO_TCP,
			    (uint32_t)tcp_total)));
			h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
		} else {
			wg_csum_store(pkt + 4, (uint16_t)tcp_total);
			wg_csum_store(tcp + 16, wg_csum_fold(wg_csum_pseudo(0,
			    AF_INET6, pkt + 8, pkt + 24, PROTO_TCP,
			    (uint32_t)tcp_total)));
			h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
		}
		h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h.hdr_len = (uint16_t)g->hdr_len;
		h.gso_size = (uint16_t)g->mss;
		h.csum_start = (uint16_t)g->ip_len;
		h.csum_offset = 16;
	} else {
		h.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	}
	memcpy(g->buf, &h, sizeof(h));
	*len = WG_VNET_HDR_LEN + g->len;
	return g->buf;
}
