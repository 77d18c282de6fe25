/* Writes the seed corpus of fuzz_receive: real handshakes and sessions
 * between an initiator device I (built here with the core) and the
 * harness's responder R, so the fuzzer starts from inputs that reach the
 * deep states (a consumed initiation, a confirmed keypair, decrypted data,
 * a cookie round trip) plus some garbage.  Everything is deterministic:
 * running it again rewrites the committed files byte for byte.  Not built
 * by make; run it by hand (from a configured build tree) after changing the
 * harness or the seeds:
 *
 *	cc -std=gnu11 -D_GNU_SOURCE -Isrc/noise -Isrc -Itests \
 *	    -I/usr/include/android fuzz/make-receive-seeds.c \
 *	    fuzz/fuzz_receive.c tests/fakeops.c \
 *	    src/libwgcore.a src/libwgcrypto.a \
 *	    -L/usr/lib/x86_64-linux-gnu/android -lcrypto -o /tmp/mrs
 *	/tmp/mrs fuzz/corpus/fuzz_receive
 *
 * It checks that each session seed really makes R deliver packets, and
 * exits non-zero otherwise. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "fakeops.h"
#include "messages.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern void (*fuzz_receive_capture)(const uint8_t *buf, size_t len);
extern void (*fuzz_receive_tun)(const uint8_t *buf, size_t len);
extern const uint8_t fuzz_receive_priv_r[WG_KEY_LEN];
extern const uint8_t fuzz_receive_priv_i[WG_KEY_LEN];

#define T0 (1000ULL * 1000000000ULL)

/* ---------------------------------------------------------------- buffers */

struct msgs {
	uint8_t buf[16][2048];
	size_t len[16];
	size_t n;
};

static void msgs_add(struct msgs *m, const uint8_t *buf, size_t len)
{
	if (m->n < 16 && len <= sizeof(m->buf[0])) {
		memcpy(m->buf[m->n], buf, len);
		m->len[m->n++] = len;
	}
}

/* The first message of a type (WG_MSG_*, or 5 for a keepalive). */
static const uint8_t *msgs_find(const struct msgs *m, int type, size_t skip,
    size_t *len)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		int t = m->buf[i][0] == WG_MSG_DATA && m->len[i] == 32 ? 5 :
		    m->buf[i][0];

		if (t == type && skip-- == 0) {
			*len = m->len[i];
			return m->buf[i];
		}
	}
	fprintf(stderr, "make-receive-seeds: no message of type %d\n", type);
	exit(1);
}

struct input {
	uint8_t buf[8192];
	size_t len;
};

static void in_start(struct input *in, uint8_t flags)
{
	in->buf[0] = flags;
	in->len = 1;
}

static void in_rec(struct input *in, uint8_t op, const uint8_t *data,
    size_t len)
{
	if (in->len + 3 + (op != 3 ? len : 0) > sizeof(in->buf))
		abort();
	in->buf[in->len++] = op;
	in->buf[in->len++] = (uint8_t)len;
	in->buf[in->len++] = (uint8_t)(len >> 8);
	if (op != 3) {
		memcpy(in->buf + in->len, data, len);
		in->len += len;
	}
}

static void in_time(struct input *in, unsigned ms)
{
	if (ms > 0xffff)
		abort();
	in_rec(in, 3, NULL, ms);
}

/* ---------------------------------------------------------------- R */

static struct msgs r_out;
static unsigned r_tun;

static void capture_r(const uint8_t *buf, size_t len)
{
	msgs_add(&r_out, buf, len);
}

static void count_tun(const uint8_t *buf, size_t len)
{
	r_tun++;
}

/* Runs the harness on in and returns what R sent. */
static void run_r(const struct input *in)
{
	uint8_t *copy = malloc(in->len);

	memcpy(copy, in->buf, in->len);
	memset(&r_out, 0, sizeof(r_out));
	r_tun = 0;
	LLVMFuzzerTestOneInput(copy, in->len);
	free(copy);
}

/* ---------------------------------------------------------------- I */

struct idev {
	struct fake_ops fake;
	struct msgs out;
	struct wg_device *dev;
	struct wg_peer *peer;
};

/* I draws from a generator of its own, so its keys and R's differ. */
static void i_random(void *ctx, void *buf, size_t len)
{
	struct fake_ops *f = ctx;
	uint8_t *p = buf;

	while (len-- > 0) {
		f->rng = f->rng * 2862933555777941757ULL + 3037000493ULL;
		*p++ = (uint8_t)(f->rng >> 40);
	}
}

static int i_send(void *ctx, struct wg_endpoint *ep, const uint8_t *buf,
    size_t len)
{
	msgs_add(ctx, buf, len);
	return 0;
}

static void i_setup(struct idev *d)
{
	struct wg_device_ops ops;
	uint8_t priv[WG_KEY_LEN], pub_r[WG_KEY_LEN], any[16] = { 0 };
	struct wg_endpoint ep;

	memset(d, 0, sizeof(*d));
	d->fake.now = T0;
	d->fake.rng = 99;
	d->fake.ctx = &d->out;
	d->fake.on_send = i_send;
	ops = fake_ops_make(&d->fake);
	ops.random = i_random;
	d->dev = wg_device_new(&ops);
	if (d->dev == NULL ||
	    wg_device_set_private_key(d->dev, fuzz_receive_priv_i) != 0)
		abort();
	memcpy(priv, fuzz_receive_priv_r, WG_KEY_LEN);
	wg_x25519_clamp(priv);
	wg_x25519_public_from_private(pub_r, priv);
	if (wg_device_peer_add(d->dev, pub_r, &d->peer) != 0 ||
	    wg_peer_allowed_ip_add(d->peer, AF_INET, any, 0) != 0 ||
	    wg_peer_allowed_ip_add(d->peer, AF_INET6, any, 0) != 0)
		abort();
	memset(&ep, 0, sizeof(ep));
	ep.addr.in4.sin_family = AF_INET;
	ep.addr.in4.sin_addr.s_addr = htonl(0xc0a80101);
	ep.addr.in4.sin_port = htons(51820);
	wg_peer_set_endpoint(d->peer, &ep);
}

static void i_receive(struct idev *d, const uint8_t *buf, size_t len)
{
	uint8_t copy[2048];
	struct wg_endpoint from;

	memset(&from, 0, sizeof(from));
	from.addr.in4.sin_family = AF_INET;
	from.addr.in4.sin_addr.s_addr = htonl(0xc0a80101);
	from.addr.in4.sin_port = htons(51820);
	memcpy(copy, buf, len);
	wg_device_receive_datagram(d->dev, &from, copy, len);
	while (wg_device_next_deadline(d->dev) <= d->fake.now)
		wg_device_tick(d->dev);
}

static void i_advance(struct idev *d, uint64_t ns)
{
	d->fake.now += ns;
	while (wg_device_next_deadline(d->dev) <= d->fake.now)
		wg_device_tick(d->dev);
}

/* An IPv4 (v6 false) UDP packet from I's tunnel address to R's. */
static size_t ip_packet(uint8_t *buf, bool v6, uint8_t src_host, size_t len)
{
	size_t i;

	memset(buf, 0, len);
	if (!v6) {
		buf[0] = 0x45;
		buf[2] = (uint8_t)(len >> 8);
		buf[3] = (uint8_t)len;
		buf[8] = 64;
		buf[9] = 17;
		buf[12] = 10, buf[15] = src_host;
		buf[16] = 10, buf[19] = 1;
		i = 20;
	} else {
		buf[0] = 0x60;
		buf[4] = (uint8_t)((len - 40) >> 8);
		buf[5] = (uint8_t)(len - 40);
		buf[6] = 17;
		buf[7] = 64;
		buf[8] = 0xfd, buf[23] = src_host;
		buf[24] = 0xfd, buf[39] = 1;
		i = 40;
	}
	for (; i < len; i++)
		buf[i] = (uint8_t)(i * 13);
	return len;
}

static void i_send_packet(struct idev *d, bool v6, uint8_t src_host,
    size_t len)
{
	uint8_t buf[1500];

	ip_packet(buf, v6, src_host, len);
	wg_device_send_packet(d->dev, buf, len);
}

/* ---------------------------------------------------------------- output */

static const char *outdir;

static void write_seed(const char *name, const struct input *in)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(in->buf, 1, in->len, f) != in->len ||
	    fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void expect_tun(const char *name, const struct input *in,
    unsigned want)
{
	run_r(in);
	if (r_tun != want) {
		fprintf(stderr,
		    "make-receive-seeds: %s: R delivered %u, want %u\n",
		    name, r_tun, want);
		exit(1);
	}
	write_seed(name, in);
}

/* ---------------------------------------------------------------- seeds */

static void session_seeds(void)
{
	struct idev d;
	struct input in;
	const uint8_t *m1, *m2, *d1, *p;
	uint8_t flipped[2048], out[1500];
	size_t m1_len, m2_len, d1_len, len;

	i_setup(&d);
	i_send_packet(&d, false, 2, 84);
	m1 = msgs_find(&d.out, WG_MSG_INITIATION, 0, &m1_len);

	in_start(&in, 0);
	in_rec(&in, 0, m1, m1_len);
	expect_tun("initiation", &in, 0);
	m2 = msgs_find(&r_out, WG_MSG_RESPONSE, 0, &m2_len);
	i_receive(&d, m2, m2_len);
	d1 = msgs_find(&d.out, WG_MSG_DATA, 0, &d1_len);

	in_rec(&in, 0, d1, d1_len);
	expect_tun("initiation-data", &in, 1);

	/* More of the session: IPv6, a keepalive, a forbidden inner source,
	 * a replay, a flipped bit, R answering through its TUN, time. */
	i_send_packet(&d, true, 2, 120);
	p = msgs_find(&d.out, WG_MSG_DATA, 1, &len);
	in_rec(&in, 0, p, len);
	wg_peer_set_persistent_keepalive(d.peer, 25);
	p = msgs_find(&d.out, 5, 0, &len);
	in_rec(&in, 0, p, len);
	i_send_packet(&d, false, 99, 60);
	p = msgs_find(&d.out, WG_MSG_DATA, 2, &len);
	in_rec(&in, 0, p, len);
	in_rec(&in, 0, d1, d1_len);
	memcpy(flipped, d1, d1_len);
	flipped[d1_len - 1] ^= 0x80;
	in_rec(&in, 0, flipped, d1_len);
	ip_packet(out, false, 1, 64);
	out[12] = 10, out[15] = 1, out[16] = 10, out[19] = 2;
	in_rec(&in, 2, out, 64);
	in_time(&in, 11000);
	expect_tun("session", &in, 2);

	/* The same data from a new address: R roams to it. */
	in_start(&in, 0);
	in_rec(&in, 0, m1, m1_len);
	in_rec(&in, 1, d1, d1_len);
	expect_tun("roaming", &in, 1);

	/* Data first (unknown index), then too late (REJECT_AFTER_TIME). */
	in_start(&in, 0);
	in_rec(&in, 0, d1, d1_len);
	in_rec(&in, 0, m1, m1_len);
	in_time(&in, 60000);
	in_time(&in, 60000);
	in_time(&in, 61000);
	in_rec(&in, 0, d1, d1_len);
	expect_tun("expired", &in, 0);

	/* R's own response and a replayed initiation thrown back at it. */
	in_start(&in, 0);
	in_rec(&in, 0, m1, m1_len);
	in_rec(&in, 0, m2, m2_len);
	in_rec(&in, 0, m1, m1_len);
	expect_tun("initiation-replayed", &in, 0);
	wg_device_free(d.dev);
}

/* R under load answers with a cookie; I's next initiation carries mac2. */
static void cookie_seeds(void)
{
	struct idev d;
	struct input in;
	const uint8_t *m1, *c, *m1b, *m2, *d1;
	size_t m1_len, c_len, m1b_len, m2_len, d1_len;

	i_setup(&d);
	i_send_packet(&d, false, 2, 84);
	m1 = msgs_find(&d.out, WG_MSG_INITIATION, 0, &m1_len);
	in_start(&in, 4);		/* FLAG_LOAD */
	in_rec(&in, 0, m1, m1_len);
	expect_tun("under-load", &in, 0);
	c = msgs_find(&r_out, WG_MSG_COOKIE_REPLY, 0, &c_len);
	i_receive(&d, c, c_len);
	i_advance(&d, 5400ULL * 1000000ULL);	/* the retransmission */
	m1b = msgs_find(&d.out, WG_MSG_INITIATION, 1, &m1b_len);
	in_rec(&in, 0, m1b, m1b_len);
	expect_tun("under-load-mac2", &in, 0);
	m2 = msgs_find(&r_out, WG_MSG_RESPONSE, 0, &m2_len);
	i_receive(&d, m2, m2_len);
	d1 = msgs_find(&d.out, WG_MSG_DATA, 0, &d1_len);
	in_rec(&in, 0, d1, d1_len);
	in_rec(&in, 0, c, c_len);	/* a stale cookie reply */
	expect_tun("under-load-session", &in, 1);
	wg_device_free(d.dev);
}

static void garbage_seeds(void)
{
	struct input in;
	uint8_t junk[256];
	size_t i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	/* Handshake-sized junk with the MACs fixed up, plain and under
	 * load, with and without mac2. */
	junk[0] = WG_MSG_INITIATION, junk[1] = junk[2] = junk[3] = 0;
	in_start(&in, 1);
	in_rec(&in, 0, junk, sizeof(struct wg_msg_initiation));
	junk[0] = WG_MSG_RESPONSE;
	in_rec(&in, 1, junk, sizeof(struct wg_msg_response));
	expect_tun("junk-mac1", &in, 0);
	in.buf[0] = 1 | 4;
	expect_tun("junk-mac1-load", &in, 0);
	in.buf[0] = 1 | 2 | 4;
	expect_tun("junk-mac2-load", &in, 0);

	in_start(&in, 0);
	junk[0] = WG_MSG_COOKIE_REPLY;
	in_rec(&in, 0, junk, sizeof(struct wg_msg_cookie_reply));
	junk[0] = WG_MSG_DATA;
	in_rec(&in, 0, junk, 32);
	in_rec(&in, 0, junk, 100);
	in_rec(&in, 1, junk, 3);
	in_rec(&in, 0, junk, 0);
	junk[0] = 9;
	in_rec(&in, 0, junk, 64);
	expect_tun("junk-types", &in, 0);

	/* TUN packets R has no route for, or that are not IP. */
	in_start(&in, 0);
	ip_packet(junk, false, 2, 40);
	in_rec(&in, 2, junk, 40);
	ip_packet(junk, true, 2, 60);
	junk[24] = 0xfe;
	in_rec(&in, 2, junk, 60);
	in_rec(&in, 2, junk, 7);
	in_time(&in, 60000);
	expect_tun("tun-packets", &in, 0);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: make-receive-seeds DIR\n");
		return 2;
	}
	outdir = argv[1];
	fuzz_receive_capture = capture_r;
	fuzz_receive_tun = count_tun;
	session_seeds();
	cookie_seeds();
	garbage_seeds();
	return 0;
}
