/* Fuzzes the device core's receive path (src/noise/receive.c and all it
 * reaches: the handshake queue, cookies, noise, keypairs, replay window,
 * inner-packet checks, timers) with a responder device R of fixed identity
 * and one configured peer I, on fake deterministic ops: the clock moves only
 * when the input says so, randomness is a counter, sends and TUN writes are
 * checked and discarded.
 *
 * Input: one flags byte, then records
 *
 *	u8 op, u16 len (little-endian), then len bytes (not for op 3)
 *
 *	op % 4 == 0: a datagram from I's usual address
 *	op % 4 == 1: a datagram from another address (roaming, strangers)
 *	op % 4 == 2: an IP packet read from R's TUN (the send path)
 *	op % 4 == 3: the clock advances by len milliseconds
 *
 * and after each record R is ticked until nothing is due.  Flags:
 *	bit 0: give handshake-sized datagrams a valid mac1 (so the fuzzer gets
 *	       past the first check), bit 1: and a valid mac2 (a cookie from
 *	       R's own checker), bit 2: R starts under load (cookies required).
 *
 * fuzz/make-receive-seeds.c writes seeds (a real initiation from I, then
 * data under the session it makes) by running this same harness; it gets
 * R's answers through fuzz_receive_capture.  abort() marks a broken
 * invariant, never a bad input. */
#include <arpa/inet.h>
#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cookie.h"
#include "device.h"
#include "device_internal.h"
#include "fakeops.h"
#include "messages.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Set by the seed generator to see what R sends and writes to its TUN;
 * NULL when fuzzing. */
void (*fuzz_receive_capture)(const uint8_t *buf, size_t len);
void (*fuzz_receive_tun)(const uint8_t *buf, size_t len);

/* The fixed identities (any 32 bytes are a private key once clamped). */
const uint8_t fuzz_receive_priv_r[WG_KEY_LEN] = {
	0x52, 0x52, 0x52, 0x52, 0x11, 0x22, 0x33, 0x44,
	0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc,
	0xdd, 0xee, 0xff, 0x01, 0x02, 0x03, 0x04, 0x05,
	0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x52,
};
const uint8_t fuzz_receive_priv_i[WG_KEY_LEN] = {
	0x49, 0x49, 0x49, 0x49, 0x10, 0x20, 0x30, 0x40,
	0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0,
	0xd0, 0xe0, 0xf0, 0x0f, 0x1f, 0x2f, 0x3f, 0x4f,
	0x5f, 0x6f, 0x7f, 0x8f, 0x9f, 0xaf, 0xbf, 0x49,
};
#define FUZZ_T0 (1000ULL * 1000000000ULL)

enum {
	FLAG_MAC1 = 1 << 0,
	FLAG_MAC2 = 1 << 1,
	FLAG_LOAD = 1 << 2,
	OP_FROM_PEER = 0,
	OP_FROM_OTHER = 1,
	OP_TUN = 2,
	OP_TIME = 3,
	MAX_TICKS = 4096,	/* per record: far above any honest need */
};

static void invariant(bool holds)
{
	if (!holds)
		abort();
}

/* What R sends must be one of the four messages, well formed. */
static int check_send(void *ctx, struct wg_endpoint *ep, const uint8_t *buf,
    size_t len)
{
	int type = wg_message_classify(buf, len, NULL);

	invariant(type != 0);
	invariant(ep->addr.sa.sa_family == AF_INET ||
	    ep->addr.sa.sa_family == AF_INET6);
	/* Padded to 16, or to the MTU (1420), or longer than the MTU. */
	if (type == WG_MSG_DATA)
		invariant((len - WG_DATA_MIN_LEN) % WG_PADDING_MULTIPLE == 0 ||
		    len - WG_DATA_MIN_LEN >= 1420);
	if (fuzz_receive_capture != NULL)
		fuzz_receive_capture(buf, len);
	return 0;
}

/* What reaches the TUN is an IP packet of exactly its stated length whose
 * source is I's (the only allowed IPs configured). */
static void check_tun(void *ctx, const uint8_t *p, size_t len)
{
	static const uint8_t i6[16] = { 0xfd, [15] = 2 };

	invariant(len >= 20);
	if (p[0] >> 4 == 4) {
		invariant(((size_t)p[2] << 8 | p[3]) == len);
		invariant(p[12] == 10 && p[13] == 0 && p[14] == 0 &&
		    p[15] == 2);
	} else {
		invariant(p[0] >> 4 == 6 && len >= 40);
		invariant(((size_t)p[4] << 8 | p[5]) + 40 == len);
		invariant(memcmp(p + 8, i6, 16) == 0);
	}
	if (fuzz_receive_tun != NULL)
		fuzz_receive_tun(p, len);
}

static void check_log(void *ctx, enum wg_log_level level,
    const char *line)
{
	invariant(line != NULL);
}

static struct wg_endpoint endpoint(uint32_t addr, uint16_t port)
{
	struct wg_endpoint ep;

	memset(&ep, 0, sizeof(ep));
	ep.addr.in4.sin_family = AF_INET;
	ep.addr.in4.sin_addr.s_addr = htonl(addr);
	ep.addr.in4.sin_port = htons(port);
	return ep;
}

static struct wg_device *responder(struct fake_ops *f, uint8_t flags)
{
	struct wg_device_ops ops;
	uint8_t priv[WG_KEY_LEN], pub_i[WG_KEY_LEN];
	static const uint8_t a4[4] = { 10, 0, 0, 2 };
	static const uint8_t a6[16] = { 0xfd, [15] = 2 };
	struct wg_device *dev;
	struct wg_peer *peer;

	f->on_send = check_send;
	f->on_tun = check_tun;
	f->on_log = check_log;
	ops = fake_ops_make(f);
	dev = wg_device_new(&ops);
	invariant(dev != NULL);
	invariant(wg_device_set_private_key(dev, fuzz_receive_priv_r) == 0);
	memcpy(priv, fuzz_receive_priv_i, WG_KEY_LEN);
	wg_x25519_clamp(priv);
	wg_x25519_public_from_private(pub_i, priv);
	invariant(wg_device_peer_add(dev, pub_i, &peer) == 0);
	invariant(wg_peer_allowed_ip_add(peer, AF_INET, a4, 32) == 0);
	invariant(wg_peer_allowed_ip_add(peer, AF_INET6, a6, 128) == 0);
	if (flags & FLAG_LOAD)
		dev->last_under_load = f->now;
	return dev;
}

/* Gives a handshake message the MACs a sender who knows R's public key
 * would compute; with FLAG_MAC2 also the cookie R would hand to `from`. */
static void fix_macs(struct wg_device *dev, struct fake_ops *f,
    uint8_t flags, const struct wg_endpoint *from, uint8_t *buf, size_t len)
{
	struct wg_cookie c;
	struct wg_msg_cookie_reply reply;
	uint8_t nonce[WG_COOKIE_NONCE_LEN], src[18];
	size_t src_len;

	if (len != sizeof(struct wg_msg_initiation) &&
	    len != sizeof(struct wg_msg_response))
		return;
	wg_cookie_init(&c, dev->identity.static_public);
	wg_cookie_add_macs(&c, buf, len, f->now);
	if (flags & FLAG_MAC2) {
		src_len = wg_device_endpoint_bytes(from, src);
		memset(nonce, 0x4e, sizeof(nonce));
		if (wg_cookie_create_reply(&dev->cookie_checker, &reply, buf,
		    len, 0, src, src_len, nonce, f->now, fake_ops_random, f) == 0 &&
		    wg_cookie_consume_reply(&c, &reply, f->now))
			wg_cookie_add_macs(&c, buf, len, f->now);
	}
	wg_cookie_clear(&c);
}

static void settle(struct wg_device *dev, struct fake_ops *f)
{
	int i;

	for (i = 0; i < MAX_TICKS && wg_device_next_deadline(dev) <= f->now;
	    i++)
		wg_device_tick(dev);
	/* Whatever was due ran; only a later deadline may remain. */
	invariant(wg_device_next_deadline(dev) > f->now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fake_ops f = { .now = FUZZ_T0, .rng = 1 };
	const struct wg_endpoint from_peer = endpoint(0xc0a80102, 51820);
	const struct wg_endpoint from_other = endpoint(0xcb007101, 40000);
	struct wg_device *dev;
	uint8_t flags, *buf;
	size_t off = 1;

	if (size < 1)
		return 0;
	flags = data[0];
	dev = responder(&f, flags);
	buf = malloc(65536);
	invariant(buf != NULL);

	while (off + 3 <= size) {
		uint8_t op = data[off] & 3;
		size_t len = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;
		const struct wg_endpoint *from;

		off += 3;
		if (op == OP_TIME) {
			f.now += len * 1000000ULL;
			settle(dev, &f);
			continue;
		}
		if (len > size - off)
			len = size - off;
		/* An exact-size copy in its own block: ASan sees overreads. */
		memcpy(buf, data + off, len);
		off += len;
		if (op == OP_TUN) {
			uint8_t *pkt = malloc(len ? len : 1);

			invariant(pkt != NULL);
			memcpy(pkt, buf, len);
			wg_device_send_packet(dev, pkt, len);
			free(pkt);
		} else {
			uint8_t *dgram = malloc(len ? len : 1);

			invariant(dgram != NULL);
			from = op == OP_FROM_PEER ? &from_peer : &from_other;
			memcpy(dgram, buf, len);
			if (flags & (FLAG_MAC1 | FLAG_MAC2))
				fix_macs(dev, &f, flags, from, dgram, len);
			wg_device_receive_datagram(dev, from, dgram, len);
			free(dgram);
		}
		settle(dev, &f);
	}
	/* Let every timer run out: retransmissions, keepalives, key
	 * zeroing. */
	f.now += 600ULL * 1000000000ULL;
	settle(dev, &f);
	free(buf);
	wg_device_free(dev);
	return 0;
}
