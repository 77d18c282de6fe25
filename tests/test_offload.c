/* The offload code: the Internet checksum (RFC 1071's worked example and
 * the classic IPv4 header example, then a naive 16-bit twin on random
 * data), TSO segmentation (gso.c) checked field by field against what the
 * kernel's tcp_gso_segment() produces, and segment merging (gro.c)
 * checked by merging and splitting again. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "check.h"
#include "tun/checksum.h"
#include "tun/gro.h"
#include "tun/gso.h"

/* ---------------------------------------------------------------- naive */

/* RFC 1071 section 4.1, one 16-bit word at a time. */
static uint16_t naive_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	while (len > 1) {
		sum += (uint32_t)(p[0] << 8 | p[1]);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Whether the TCP/UDP checksum of the segment at l4 verifies. */
static bool l4_checksum_ok(const uint8_t *ip, const uint8_t *l4,
    size_t l4_len, uint8_t proto)
{
	uint8_t pseudo[40];
	size_t plen;
	uint32_t sum;

	memset(pseudo, 0, sizeof(pseudo));
	if (ip[0] >> 4 == 4) {
		memcpy(pseudo, ip + 12, 8);
		pseudo[9] = proto;
		pseudo[10] = (uint8_t)(l4_len >> 8);
		pseudo[11] = (uint8_t)l4_len;
		plen = 12;
	} else {
		memcpy(pseudo, ip + 8, 32);
		pseudo[34] = (uint8_t)(l4_len >> 8);
		pseudo[35] = (uint8_t)l4_len;
		pseudo[39] = proto;
		plen = 40;
	}
	sum = naive_sum(pseudo, plen, 0);
	return naive_sum(l4, l4_len, sum) == 0xffff;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* ---------------------------------------------------------------- checksum */

static void test_rfc1071_example(void)
{
	/* RFC 1071 section 3: these bytes sum to ddf2 (before the
	 * complement). */
	static const uint8_t bytes[] = {
		0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7,
	};

	CHECK(wg_csum_fold(wg_csum_add(0, bytes, sizeof(bytes))) == 0xddf2);
}

static void test_ipv4_header_example(void)
{
	/* The IPv4 header example used across the literature (Wikipedia,
	 * "Internet checksum"): its checksum is b861. */
	static const uint8_t hdr[20] = {
		0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
		0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
	};

	CHECK(wg_csum_ipv4_header(hdr, sizeof(hdr)) == 0xb861);
}

static void test_checksum_matches_naive(void)
{
	uint8_t buf[1600];
	size_t len, split, i;
	int round;
	uint64_t sum;

	srand(7);
	for (round = 0; round < 2000; round++) {
		len = (size_t)rand() % sizeof(buf);
		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)rand();
		if (round % 3 == 0)
			memset(buf, 0xff, len);
		CHECK(wg_csum_fold(wg_csum_add(0, buf, len)) ==
		    naive_sum(buf, len, 0));
		/* Pieces of even length add up to the whole. */
		split = len ? ((size_t)rand() % len) & ~(size_t)1 : 0;
		sum = wg_csum_add(0, buf, split);
		sum = wg_csum_add(sum, buf + split, len - split);
		CHECK(wg_csum_fold(sum) == naive_sum(buf, len, 0));
	}
}

/* ---------------------------------------------------------------- packets */

enum { PAYLOAD = 3500, MSS = 1000, TCP_OPTS = 12 };

static const uint8_t src4[4] = { 10, 0, 0, 2 }, dst4[4] = { 10, 0, 0, 1 };

/* After a change to an IPv4 header, so that what a test row is about is
 * the only thing wrong with it. */
static void set_ipv4_checksum(uint8_t *p)
{
	p[10] = p[11] = 0;
	wg_csum_store(p + 10, (uint16_t)~naive_sum(p, 20, 0));
}

/* A TCP packet: IPv4 (id 0x1234, DF) or IPv6, TCP with a timestamp
 * option, flags as given, payload bytes i*7. */
static size_t make_tcp(uint8_t *p, int family, size_t payload, uint8_t flags,
    uint32_t seq)
{
	size_t ip_len = family == AF_INET ? 20 : 40, tcp_len = 20 + TCP_OPTS;
	size_t total = ip_len + tcp_len + payload, i;
	uint8_t *tcp = p + ip_len;

	memset(p, 0, ip_len + tcp_len);
	if (family == AF_INET) {
		p[0] = 0x45;
		p[2] = (uint8_t)(total >> 8);
		p[3] = (uint8_t)total;
		p[4] = 0x12;
		p[5] = 0x34;
		p[6] = 0x40;
		p[8] = 64;
		p[9] = 6;
		memcpy(p + 12, src4, 4);
		memcpy(p + 16, dst4, 4);
		set_ipv4_checksum(p);
	} else {
		p[0] = 0x60;
		p[4] = (uint8_t)((total - 40) >> 8);
		p[5] = (uint8_t)(total - 40);
		p[6] = 6;
		p[7] = 64;
		p[8] = 0xfd;
		p[23] = 2;
		p[24] = 0xfd;
		p[39] = 1;
	}
	tcp[0] = 0xc3;			/* source port 50000 */
	tcp[1] = 0x50;
	tcp[2] = 0x14;			/* destination port 5201 */
	tcp[3] = 0x51;
	tcp[4] = (uint8_t)(seq >> 24);
	tcp[5] = (uint8_t)(seq >> 16);
	tcp[6] = (uint8_t)(seq >> 8);
	tcp[7] = (uint8_t)seq;
	tcp[8] = 0x0a;			/* ack */
	tcp[12] = (uint8_t)((tcp_len / 4) << 4);
	tcp[13] = flags;
	tcp[14] = 0x01;			/* window */
	tcp[20] = 1;			/* NOP NOP TS */
	tcp[21] = 1;
	tcp[22] = 8;
	tcp[23] = 10;
	tcp[27] = 0x99;
	for (i = 0; i < payload; i++)
		p[ip_len + tcp_len + i] = (uint8_t)(i * 7);
	return total;
}

struct collected {
	unsigned n;
	size_t len[80];
	uint8_t pkt[80][1600];
};

static void collect(void *ctx, const uint8_t *p, size_t len)
{
	struct collected *c = ctx;

	if (c->n < 80 && len <= sizeof(c->pkt[0])) {
		memcpy(c->pkt[c->n], p, len);
		c->len[c->n] = len;
	}
	c->n++;
}

static struct virtio_net_hdr tso_header(int family, size_t hdr_len)
{
	struct virtio_net_hdr h;

	memset(&h, 0, sizeof(h));
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.gso_type = family == AF_INET ? VIRTIO_NET_HDR_GSO_TCPV4 :
	    VIRTIO_NET_HDR_GSO_TCPV6;
	h.hdr_len = (uint16_t)hdr_len;
	h.gso_size = MSS;
	h.csum_start = (uint16_t)(family == AF_INET ? 20 : 40);
	h.csum_offset = 16;
	return h;
}

static void check_segments(int family)
{
	static uint8_t pkt[WG_GSO_MAX_PACKET], seg[WG_GSO_MAX_PACKET];
	static struct collected c;
	size_t ip_len = family == AF_INET ? 20 : 40, hdr = ip_len + 32;
	size_t len = make_tcp(pkt, family, PAYLOAD, 0x80 | 0x18 | 0x01, 1000);
	struct virtio_net_hdr h = tso_header(family, hdr);
	size_t off = 0;
	unsigned i;

	memset(&c, 0, sizeof(c));
	CHECK(wg_gso_split(&h, pkt, len, seg, sizeof(seg), collect, &c) == 4);
	CHECK(c.n == 4);
	for (i = 0; i < c.n && i < 4; i++) {
		const uint8_t *s = c.pkt[i], *tcp = s + ip_len;
		size_t n = i < 3 ? MSS : PAYLOAD - 3 * MSS;

		CHECK(c.len[i] == hdr + n);
		if (family == AF_INET) {
			CHECK(be16(s + 2) == hdr + n);
			CHECK(be16(s + 4) == 0x1234 + i);
			CHECK(naive_sum(s, 20, 0) == 0xffff);
		} else {
			CHECK(be16(s + 4) == 32 + n);
		}
		CHECK(be32(tcp + 4) == 1000 + off);
		/* CWR on the first only; FIN and PSH on the last only. */
		CHECK(((tcp[13] & 0x80) != 0) == (i == 0));
		CHECK(((tcp[13] & 0x09) == 0x09) == (i == 3));
		CHECK((tcp[13] & 0x10) != 0);
		CHECK_MEM(tcp + 20, pkt + ip_len + 20, TCP_OPTS);
		CHECK_MEM(s + hdr, pkt + hdr + off, n);
		CHECK(l4_checksum_ok(s, tcp, c.len[i] - ip_len, 6));
		off += n;
	}
}

static void test_tso_split_ipv4(void)
{
	check_segments(AF_INET);
}

static void test_tso_split_ipv6(void)
{
	check_segments(AF_INET6);
}

static void test_partial_checksum_completed(void)
{
	/* A UDP datagram as the kernel hands it with TUN_F_CSUM: the
	 * checksum field holds the pseudo-header sum. */
	uint8_t pkt[20 + 8 + 33], seg[64];
	struct collected *c = calloc(1, sizeof(*c));
	struct virtio_net_hdr h;
	size_t i;

	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x45;
	pkt[3] = sizeof(pkt);
	pkt[8] = 64;
	pkt[9] = 17;
	memcpy(pkt + 12, src4, 4);
	memcpy(pkt + 16, dst4, 4);
	pkt[21] = 53;
	pkt[23] = 53;
	pkt[25] = 8 + 33;
	for (i = 28; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)(i * 13);
	wg_csum_store(pkt + 26, wg_csum_fold(wg_csum_pseudo(0, AF_INET,
	    src4, dst4, 17, 8 + 33)));
	memset(&h, 0, sizeof(h));
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.csum_start = 20;
	h.csum_offset = 6;
	CHECK(!l4_checksum_ok(pkt, pkt + 20, 8 + 33, 17));
	CHECK(wg_gso_split(&h, pkt, sizeof(pkt), seg, sizeof(seg), collect,
	    c) == 1);
	CHECK(c->n == 1 && c->len[0] == sizeof(pkt));
	CHECK(l4_checksum_ok(c->pkt[0], c->pkt[0] + 20, 8 + 33, 17));
	/* A plain packet goes through untouched. */
	h.flags = 0;
	c->n = 0;
	pkt[30] ^= 1;
	CHECK(wg_gso_split(&h, pkt, sizeof(pkt), seg, sizeof(seg), collect,
	    c) == 1);
	CHECK_MEM(c->pkt[0], pkt, sizeof(pkt));
	free(c);
}

static void test_bad_super_packets_refused(void)
{
	static uint8_t pkt[WG_GSO_MAX_PACKET], seg[WG_GSO_MAX_PACKET];
	struct collected *c = calloc(1, sizeof(*c));
	size_t len = make_tcp(pkt, AF_INET, PAYLOAD, 0x10, 1);
	struct virtio_net_hdr h = tso_header(AF_INET, 52), bad;

	bad = h;
	bad.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;	/* an IPv4 packet */
	CHECK(wg_gso_split(&bad, pkt, len, seg, sizeof(seg), collect, c) ==
	    -EINVAL);
	bad = h;
	bad.gso_size = 0;
	CHECK(wg_gso_split(&bad, pkt, len, seg, sizeof(seg), collect, c) ==
	    -EINVAL);
	bad = h;
	bad.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	CHECK(wg_gso_split(&bad, pkt, len, seg, sizeof(seg), collect, c) ==
	    -EPROTONOSUPPORT);
	CHECK(wg_gso_split(&h, pkt, len - 1, seg, sizeof(seg), collect, c) ==
	    -EINVAL);			/* length field disagrees */
	CHECK(wg_gso_split(&h, pkt, len, seg, 100, collect, c) == -EMSGSIZE);
	pkt[20 + 12] = 0x40;		/* TCP header of 16 bytes */
	CHECK(wg_gso_split(&h, pkt, len, seg, sizeof(seg), collect, c) ==
	    -EINVAL);
	pkt[20 + 12] = 0xf0;		/* 60 bytes, fine */
	pkt[9] = 17;			/* but not TCP */
	CHECK(wg_gso_split(&h, pkt, len, seg, sizeof(seg), collect, c) ==
	    -EPROTONOSUPPORT);
	bad = h;
	bad.gso_type = VIRTIO_NET_HDR_GSO_NONE;
	bad.csum_start = (uint16_t)len;	/* past the end */
	CHECK(wg_gso_split(&bad, pkt, len, seg, sizeof(seg), collect, c) ==
	    -EINVAL);
	bad.csum_start = 20;
	bad.csum_offset = (uint16_t)(len - 21);	/* field runs past the end */
	CHECK(wg_gso_split(&bad, pkt, len, seg, sizeof(seg), collect, c) ==
	    -EINVAL);
	CHECK(c->n == 0);		/* nothing emitted on any error */
	free(c);
}

/* ---------------------------------------------------------------- gro */

static void check_merge_round_trip(int family)
{
	static uint8_t pkt[WG_GSO_MAX_PACKET], seg[WG_GSO_MAX_PACKET];
	static struct collected first, again;
	static struct wg_gro g;
	size_t ip_len = family == AF_INET ? 20 : 40, hdr = ip_len + 32;
	size_t len = make_tcp(pkt, family, PAYLOAD, 0x18, 77), out_len;
	struct virtio_net_hdr h = tso_header(family, hdr), mh;
	const uint8_t *out;
	unsigned i;

	memset(&first, 0, sizeof(first));
	memset(&again, 0, sizeof(again));
	CHECK(wg_gso_split(&h, pkt, len, seg, sizeof(seg), collect,
	    &first) == 4);
	wg_gro_reset(&g);
	for (i = 0; i < first.n; i++)
		CHECK(wg_gro_offer(&g, first.pkt[i], first.len[i]));
	out = wg_gro_packet(&g, &out_len);
	CHECK(out != NULL && out_len == WG_VNET_HDR_LEN + len);
	if (out == NULL)
		return;
	memcpy(&mh, out, sizeof(mh));
	CHECK(mh.gso_type == h.gso_type);
	CHECK(mh.gso_size == MSS && mh.hdr_len == hdr);
	CHECK(mh.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CHECK(mh.csum_start == ip_len && mh.csum_offset == 16);
	/* The merged packet is the super-packet we started from (PSH
	 * included), checksum fields aside. */
	CHECK_MEM(out + WG_VNET_HDR_LEN + ip_len, pkt + ip_len, 16);
	CHECK_MEM(out + WG_VNET_HDR_LEN + ip_len + 18, pkt + ip_len + 18,
	    len - ip_len - 18);
	if (family == AF_INET) {
		CHECK_MEM(out + WG_VNET_HDR_LEN, pkt, 10);
		CHECK(naive_sum(out + WG_VNET_HDR_LEN, 20, 0) == 0xffff);
	} else {
		CHECK_MEM(out + WG_VNET_HDR_LEN, pkt, 40);
	}
	/* Cut again, it gives the same segments. */
	CHECK(wg_gso_split(&mh, (uint8_t *)out + WG_VNET_HDR_LEN,
	    out_len - WG_VNET_HDR_LEN, seg, sizeof(seg), collect, &again) == 4);
	for (i = 0; i < 4; i++) {
		CHECK(again.len[i] == first.len[i]);
		CHECK_MEM(again.pkt[i], first.pkt[i], first.len[i]);
	}
}

static void test_gro_merges_ipv4(void)
{
	check_merge_round_trip(AF_INET);
}

static void test_gro_merges_ipv6(void)
{
	check_merge_round_trip(AF_INET6);
}

static void test_gro_refusals(void)
{
	static struct wg_gro g;
	uint8_t a[1600], b[1600];
	size_t la, lb;

	la = make_tcp(a, AF_INET, 1000, 0x10, 1);
	wg_gro_reset(&g);
	CHECK(wg_gro_offer(&g, a, la));

	lb = make_tcp(b, AF_INET, 1000, 0x10, 5);	/* out of order */
	CHECK(!wg_gro_offer(&g, b, lb));
	lb = make_tcp(b, AF_INET, 1000, 0x10, 1001);
	b[20 + 1] ^= 1;					/* another port */
	CHECK(!wg_gro_offer(&g, b, lb));
	lb = make_tcp(b, AF_INET, 1000, 0x10, 1001);
	b[20 + 27] ^= 1;				/* another TSval */
	CHECK(!wg_gro_offer(&g, b, lb));
	lb = make_tcp(b, AF_INET, 1000, 0x11, 1001);	/* FIN */
	CHECK(!wg_gro_offer(&g, b, lb));
	lb = make_tcp(b, AF_INET, 1200, 0x10, 1001);	/* longer than mss */
	CHECK(!wg_gro_offer(&g, b, lb));
	lb = make_tcp(b, AF_INET6, 1000, 0x10, 1001);	/* another family */
	CHECK(!wg_gro_offer(&g, b, lb));
	lb = make_tcp(b, AF_INET, 400, 0x10, 1001);	/* short: ends run */
	CHECK(wg_gro_offer(&g, b, lb));
	lb = make_tcp(b, AF_INET, 1000, 0x10, 1401);
	CHECK(!wg_gro_offer(&g, b, lb));
	CHECK(g.segments == 2);

	/* Never the start of a run: a pure ACK, a SYN, a fragment, IPv4
	 * with options, something not TCP. */
	wg_gro_reset(&g);
	la = make_tcp(a, AF_INET, 0, 0x10, 1);
	CHECK(!wg_gro_offer(&g, a, la));
	la = make_tcp(a, AF_INET, 100, 0x12, 1);
	CHECK(!wg_gro_offer(&g, a, la));
	la = make_tcp(a, AF_INET, 100, 0x10, 1);
	a[6] = 0x20;					/* MF */
	set_ipv4_checksum(a);
	CHECK(!wg_gro_offer(&g, a, la));
	la = make_tcp(a, AF_INET, 100, 0x10, 1);
	a[0] = 0x46;
	set_ipv4_checksum(a);
	CHECK(!wg_gro_offer(&g, a, la));
	la = make_tcp(a, AF_INET, 100, 0x10, 1);
	a[9] = 17;
	set_ipv4_checksum(a);
	CHECK(!wg_gro_offer(&g, a, la));
	la = make_tcp(a, AF_INET, 100, 0x10, 1);
	CHECK(!wg_gro_offer(&g, a, la - 1));		/* length disagrees */
	CHECK(wg_gro_packet(&g, &la) == NULL);
}

/* A bad IPv4 header checksum: the kernel's inet_gro_receive() leaves such
 * a packet unmerged (ip_fast_csum fails) and ip_rcv() then drops it, so
 * it must reach the TUN as it came, never inside a merged packet with a
 * fresh checksum, neither starting a run nor joining one. */
static void test_gro_refuses_bad_ipv4_checksum(void)
{
	static struct wg_gro g;
	uint8_t a[1600], b[1600];
	size_t la, lb;

	wg_gro_reset(&g);
	la = make_tcp(a, AF_INET, 1000, 0x10, 1);
	a[10] ^= 0x01;
	CHECK(!wg_gro_offer(&g, a, la));
	a[10] ^= 0x01;
	CHECK(wg_gro_offer(&g, a, la));
	lb = make_tcp(b, AF_INET, 1000, 0x10, 1001);
	b[11] ^= 0x80;
	CHECK(!wg_gro_offer(&g, b, lb));
	CHECK(g.segments == 1);
	lb = make_tcp(b, AF_INET, 1000, 0x10, 1001);
	CHECK(wg_gro_offer(&g, b, lb));
	CHECK(g.segments == 2);

	/* A header whose checksum is zero may carry it as 0x0000 or 0xffff
	 * (one's complement has two zeros); ip_fast_csum takes both.  The
	 * ID is chosen so that the rest of the header sums to 0xffff. */
	wg_gro_reset(&g);
	la = make_tcp(a, AF_INET, 1000, 0x10, 1);
	a[4] = a[5] = a[10] = a[11] = 0;
	wg_csum_store(a + 4, (uint16_t)~naive_sum(a, 20, 0));
	CHECK(naive_sum(a, 20, 0) == 0xffff);
	a[10] = a[11] = 0xff;
	CHECK(wg_gro_offer(&g, a, la));
}

static void test_gro_stops_at_64k(void)
{
	static struct wg_gro g;
	uint8_t a[1600];
	size_t la, total = 0;
	unsigned taken = 0, i;

	wg_gro_reset(&g);
	for (i = 0; i < 80; i++) {
		la = make_tcp(a, AF_INET, 1448, 0x10, 1 + i * 1448);
		if (!wg_gro_offer(&g, a, la))
			break;
		taken++;
	}
	total = 52 + (size_t)taken * 1448;
	CHECK(taken == (WG_GSO_MAX_PACKET - 52) / 1448);
	CHECK(total <= WG_GSO_MAX_PACKET);
	CHECK(wg_gro_packet(&g, &la) != NULL && la == WG_VNET_HDR_LEN + total);
}

static void test_single_segment_written_plain(void)
{
	static struct wg_gro g;
	struct virtio_net_hdr h;
	uint8_t a[1600];
	const uint8_t *out;
	size_t la = make_tcp(a, AF_INET6, 500, 0x18, 9), n;

	wg_gro_reset(&g);
	CHECK(wg_gro_offer(&g, a, la));
	out = wg_gro_packet(&g, &n);
	CHECK(out != NULL && n == WG_VNET_HDR_LEN + la);
	if (out == NULL)
		return;
	memcpy(&h, out, sizeof(h));
	CHECK(h.gso_type == VIRTIO_NET_HDR_GSO_NONE);
	CHECK(h.flags == VIRTIO_NET_HDR_F_DATA_VALID);
	CHECK_MEM(out + WG_VNET_HDR_LEN, a, la);
}

int main(void)
{
	RUN(test_rfc1071_example);
	RUN(test_ipv4_header_example);
	RUN(test_checksum_matches_naive);
	RUN(test_tso_split_ipv4);
	RUN(test_tso_split_ipv6);
	RUN(test_partial_checksum_completed);
	RUN(test_bad_super_packets_refused);
	RUN(test_gro_merges_ipv4);
	RUN(test_gro_merges_ipv6);
	RUN(test_gro_refusals);
	RUN(test_gro_refuses_bad_ipv4_checksum);
	RUN(test_gro_stops_at_64k);
	RUN(test_single_segment_written_plain);
	return check_summary();
}
