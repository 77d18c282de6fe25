/* MAC1, MAC2 and cookie replies (whitepaper 5.4.4, 5.4.7): known answers
 * computed outside the project, the round trip, source binding, lifetimes,
 * secret rotation and forged or unsolicited replies. */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "testutil.h"
#include "cookie.h"
#include "crypto/primitives.h"
#include "messages.h"

static const uint64_t sec = 1000000000ULL;

/* Known answers, computed with Python's hashlib.blake2s and pyca/
 * cryptography's ChaCha20Poly1305 (XChaCha20 built on an HChaCha20 checked
 * against draft-irtf-cfrg-xchacha section 2.2.1), from:
 *   responder public key = 40 41 .. 5f, checker secret = a0 a1 .. bf,
 *   source 192.0.2.1 port 51820, reply nonce = 10 11 .. 27,
 *   a 148-byte initiation: type 1, byte i = 7*i mod 256 for i in 4..115. */
static const char kat_mac1[] = "2921ecfed153bf2a28a8570d3127b8fd";
static const char kat_cookie[] = "7016835937852edc1b8d8fdb64effd95";
static const char kat_mac2[] = "6d202935d522dae3cec0f02620ff6ce4";
static const char kat_reply[] =
    "a30a8306cdf6e9e0a8918d806c86aeb5486b7a1c487f6a055aacadb314abc4fc";

static const uint8_t src4[6] = { 192, 0, 2, 1, 0xca, 0x6c };	/* :51820 */
static const uint8_t src4_other_ip[6] = { 192, 0, 2, 2, 0xca, 0x6c };
static const uint8_t src4_other_port[6] = { 192, 0, 2, 1, 0xca, 0x6d };
static const uint8_t src6[18] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1,
    0xca, 0x6c };

/* The checker's randomness: secret number n is (0xa0 + i + 0x20 n). */
struct rng {
	int calls;
};

static void fake_random(void *ctx, void *buf, size_t len)
{
	struct rng *r = ctx;
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(0xa0 + i + 0x20 * (size_t)r->calls);
	r->calls++;
}

static void kat_pub(uint8_t pub[static WG_KEY_LEN])
{
	int i;

	for (i = 0; i < WG_KEY_LEN; i++)
		pub[i] = (uint8_t)(0x40 + i);
}

static void kat_initiation(uint8_t msg[static 148])
{
	int i;

	memset(msg, 0, 148);
	msg[0] = WG_MSG_INITIATION;
	for (i = 4; i < 116; i++)
		msg[i] = (uint8_t)(i * 7);
}

struct pair {
	struct wg_cookie_checker checker;	/* responder */
	struct wg_cookie cookie;		/* initiator's, for it */
	struct rng rng;
	uint8_t pub[WG_KEY_LEN];
};

static void pair_init(struct pair *p)
{
	memset(p, 0, sizeof(*p));
	kat_pub(p->pub);
	wg_cookie_checker_init(&p->checker);
	wg_cookie_checker_precompute(&p->checker, p->pub);
	wg_cookie_init(&p->cookie, p->pub);
}

static enum wg_cookie_mac_state validate(struct pair *p, const uint8_t *msg,
    size_t len, const uint8_t *src, size_t src_len, bool check_cookie,
    uint64_t now)
{
	return wg_cookie_validate(&p->checker, msg, len, src, src_len,
	    check_cookie, now, fake_random, &p->rng);
}

/* The responder hands the initiator a cookie for src (as under load). */
static bool give_cookie(struct pair *p, const uint8_t *msg, size_t len,
    const uint8_t *src, size_t src_len, uint64_t now)
{
	struct wg_msg_cookie_reply reply;
	uint8_t nonce[WG_COOKIE_NONCE_LEN] = { 0 };

	if (wg_cookie_create_reply(&p->checker, &reply, msg, len, 7, src,
	    src_len, nonce, now, fake_random, &p->rng) != 0)
		return false;
	return wg_cookie_consume_reply(&p->cookie, &reply, now);
}

static void test_known_answers(void)
{
	struct pair p;
	struct wg_msg_cookie_reply reply;
	uint8_t msg[148], want[32], nonce[WG_COOKIE_NONCE_LEN];
	size_t i;

	pair_init(&p);
	kat_initiation(msg);
	for (i = 0; i < sizeof(nonce); i++)
		nonce[i] = (uint8_t)(0x10 + i);

	wg_cookie_add_macs(&p.cookie, msg, sizeof(msg), 0);
	unhex(kat_mac1, want, 16);
	CHECK_MEM(msg + 116, want, 16);
	CHECK(wg_is_zero_ct(msg + 132, 16));
	CHECK(validate(&p, msg, sizeof(msg), src4, 6, false, 0) ==
	    WG_COOKIE_MAC_VALID_NO_COOKIE);
	CHECK(p.rng.calls == 0);	/* no secret needed for mac1 alone */

	CHECK(wg_cookie_create_reply(&p.checker, &reply, msg, sizeof(msg),
	    0x01020304, src4, 6, nonce, 0, fake_random, &p.rng) == 0);
	CHECK(p.rng.calls == 1);
	CHECK(wg_message_classify((const uint8_t *)&reply, sizeof(reply),
	    NULL) == WG_MSG_COOKIE_REPLY);
	CHECK(le32toh(reply.receiver_index) == 0x01020304);
	CHECK_MEM(reply.nonce, nonce, sizeof(nonce));
	unhex(kat_reply, want, 32);
	CHECK_MEM(reply.encrypted_cookie, want, 32);

	CHECK(wg_cookie_consume_reply(&p.cookie, &reply, 0));
	unhex(kat_cookie, want, 16);
	CHECK_MEM(p.cookie.cookie, want, 16);

	wg_cookie_add_macs(&p.cookie, msg, sizeof(msg), 1 * sec);
	unhex(kat_mac1, want, 16);
	CHECK_MEM(msg + 116, want, 16);
	unhex(kat_mac2, want, 16);
	CHECK_MEM(msg + 132, want, 16);
	CHECK(validate(&p, msg, sizeof(msg), src4, 6, true, 1 * sec) ==
	    WG_COOKIE_MAC_VALID_WITH_COOKIE);
}

static void test_mac1(void)
{
	struct pair p;
	struct wg_cookie_checker other;
	uint8_t msg[148], resp[92], other_pub[WG_KEY_LEN];
	size_t i, bad = 0;

	pair_init(&p);
	kat_initiation(msg);
	wg_cookie_add_macs(&p.cookie, msg, sizeof(msg), 0);
	CHECK(validate(&p, msg, sizeof(msg), src4, 6, false, 0) ==
	    WG_COOKIE_MAC_VALID_NO_COOKIE);
	/* Any flipped bit before mac2 breaks mac1. */
	for (i = 0; i < 132 * 8; i++) {
		msg[i / 8] ^= (uint8_t)(1u << (i % 8));
		if (validate(&p, msg, sizeof(msg), src4, 6, false, 0) !=
		    WG_COOKIE_MAC_INVALID)
			bad++;
		msg[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	CHECK(bad == 0);
	/* mac2 is not covered by mac1. */
	msg[140] ^= 1;
	CHECK(validate(&p, msg, sizeof(msg), src4, 6, false, 0) ==
	    WG_COOKIE_MAC_VALID_NO_COOKIE);
	msg[140] ^= 1;
	/* Only whole handshake messages. */
	CHECK(validate(&p, msg, 147, src4, 6, false, 0) ==
	    WG_COOKIE_MAC_INVALID);
	CHECK(validate(&p, msg, 64, src4, 6, false, 0) ==
	    WG_COOKIE_MAC_INVALID);
	/* Keyed by the responder's public key. */
	memcpy(other_pub, p.pub, WG_KEY_LEN);
	other_pub[0] ^= 1;
	wg_cookie_checker_init(&other);
	wg_cookie_checker_precompute(&other, other_pub);
	CHECK(wg_cookie_validate(&other, msg, sizeof(msg), src4, 6, false, 0,
	    fake_random, &p.rng) == WG_COOKIE_MAC_INVALID);
	/* No identity: nothing validates. */
	wg_cookie_checker_precompute(&other, NULL);
	CHECK(wg_cookie_validate(&other, msg, sizeof(msg), src4, 6, false, 0,
	    fake_random, &p.rng) == WG_COOKIE_MAC_INVALID);
	wg_cookie_checker_clear(&other);

	/* A response carries its MACs at offset 60. */
	memset(resp, 0x5a, sizeof(resp));
	resp[0] = WG_MSG_RESPONSE;
	resp[1] = resp[2] = resp[3] = 0;
	wg_cookie_add_macs(&p.cookie, resp, sizeof(resp), 0);
	CHECK(wg_is_zero_ct(resp + 76, 16));
	CHECK(validate(&p, resp, sizeof(resp), src4, 6, false, 0) ==
	    WG_COOKIE_MAC_VALID_NO_COOKIE);
	resp[59] ^= 0x80;
	CHECK(validate(&p, resp, sizeof(resp), src4, 6, false, 0) ==
	    WG_COOKIE_MAC_INVALID);
	/* A length that is neither is left alone by add_macs. */
	memset(msg, 0x33, sizeof(msg));
	wg_cookie_add_macs(&p.cookie, msg, 100, 0);
	for (i = 0; i < sizeof(msg); i++)
		bad += msg[i] != 0x33;
	CHECK(bad == 0);
}

static void test_mac2_absent(void)
{
	struct pair p;
	uint8_t msg[148];

	pair_init(&p);
	kat_initiation(msg);
	wg_cookie_add_macs(&p.cookie, msg, sizeof(msg), 0);
	CHECK(wg_is_zero_ct(msg + 132, 16));
	CHECK(validate(&p, msg, sizeof(msg), src4, 6, true, 0) ==
	    WG_COOKIE_MAC_VALID_NO_COOKIE);
}

static void test_round_trip_and_source(void)
{
	struct pair p;
	uint8_t msg[148], resp[92];

	pair_init(&p);
	kat_initiation(msg);
	wg_cookie_add_macs(&p.cookie, msg, sizeof(msg), 10 * sec);
	CHECK(give_cookie(&p, msg, sizeof(msg), src4, 6, 10 * sec));
	CHECK(p.cookie.is_valid);

	/* The retried initiation carries mac2. */
	msg[10] ^= 0xff;	/* a new initiation, new bytes */
	wg_cookie_add_macs(&p.cookie, msg, sizeof(msg), 11 * sec);
	CHECK(!wg_is_zero_ct(msg + 132, 16));
	CHECK(validate(&p, msg, sizeof(msg), src4, 6, true, 11 * sec) ==
	    WG_COOKIE_MAC_VALID_WITH_COOKIE);
	CHECK(validate(&p, msg, sizeof(msg), src4_other_ip, 6, true,
	    11 * sec) == WG_COOKIE_MAC_VALID_NO_COOKIE);
	CHECK(validate(&p, msg, sizeof(msg), src4_other_port, 6, true,
	    11 * sec) == WG_COOKIE_MAC_VALID_NO_COOKIE);
	CHECK(validate(&p, msg, sizeof(msg), src6, 18, true, 11 * sec) ==
	    WG_COOKIE_MAC_VALID_NO_COOKIE);
	/* A flipped mac2 bit fails mac2 only. */
	msg[135] ^= 4;
	CHECK(validate(&p, msg, sizeof(msg), src4, 6, true, 11 * sec) ==
	    WG_COOKIE_MAC_VALID_NO_COOKIE);
	msg[135] ^= 4;

	/* The same cookie covers a response from that source, and an IPv6
	 * source gets its own. */
	memset(resp, 0x21, sizeof(resp));
	resp[0] = WG_MSG_RESPONSE;
	resp[1] = resp[2] = resp[3] = 0;
	wg_cookie_add_macs(&p.cookie, resp, sizeof(resp), 12 * sec);
	CHECK(validate(&p, resp, sizeof(resp), src4, 6, true, 12 * sec) ==
	    WG_COOKIE_MAC_VALID_WITH_COOKIE);
	CHECK(give_cookie(&p, resp, sizeof(resp), src6, 18, 12 * sec));
	wg_cookie_add_macs(&p.cookie, msg, sizeof(msg), 13 * sec);
	CHECK(validate(&p, msg, sizeof(msg), src6, 18, true, 13 * sec) ==
	    WG_COOKIE_MAC_VALID_WITH_COOKIE);
	CHECK(validate(&p, msg, sizeof(msg), src4, 6, true, 13 * sec) ==
	    WG_COOKIE_MAC_VALID_NO_COOKIE);
	CHECK(p.rng.calls == 1);	/* one secret throughout */
}

/* The initiator uses a cookie for COOKIE_SECRET_MAX_AGE - LATENCY = 115 s
 * (Linux cookie.c wg_cookie_add_mac_to_packet), so it never sends a mac2
 * made with a secret the responder may already have rotated. */
static void test_cookie_lifetime(void)
{
	static const struct {
		uint64_t age_ns;
		bool mac2;
	} rows[] = {
		{ 0, true },
		{ 60 * sec, true },
		{ 115 * sec - 1, true },
		{ 115 * sec, false },
		{ 120 * sec, false },
		{ 1000 * sec, false },
	};
	const uint64_t t0 = 50 * sec;
	struct pair p;
	uint8_t msg[148];
	size_t i;

	pair_init(&p);
	kat_initiation(msg);
	wg_cookie_add_macs(&p.cookie, msg, sizeof(msg), t0);
	CHECK(give_cookie(&p, msg, sizeof(msg), src4, 6, t0));
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		wg_cookie_add_macs(&p.cookie, msg, sizeof(msg),
		    t0 + rows[i].age_ns);
		if (wg_is_zero_ct(msg + 132, 16) == rows[i].mac2)
			CHECK_FAIL("row %zu: mac2 %s expected", i,
			    rows[i].mac2 ? "present" : "absent");
	}
}

/* The responder's secret lives 120 s: a cookie from the old secret stops
 * validating the moment a new one is drawn. */
static void test_secret_rotation(void)
{
	const uint64_t t0 = 7 * sec;
	struct pair p;
	uint8_t msg[148];

	pair_init(&p);
	kat_initiation(msg);
	wg_cookie_add_macs(&p.cookie, msg, sizeof(msg), t0);
	CHECK(give_cookie(&p, msg, sizeof(msg), src4, 6, t0));
	CHECK(p.rng.calls == 1);
	wg_cookie_add_macs(&p.cookie, msg, sizeof(msg), t0 + 100 * sec);
	CHECK(validate(&p, msg, sizeof(msg), src4, 6, true,
	    t0 + 120 * sec - 1) == WG_COOKIE_MAC_VALID_WITH_COOKIE);
	CHECK(p.rng.calls == 1);
	CHECK(validate(&p, msg, sizeof(msg), src4, 6, true, t0 + 120 * sec) ==
	    WG_COOKIE_MAC_VALID_NO_COOKIE);
	CHECK(p.rng.calls == 2);
	/* A fresh cookie from the new secret works again. */
	CHECK(give_cookie(&p, msg, sizeof(msg), src4, 6, t0 + 121 * sec));
	wg_cookie_add_macs(&p.cookie, msg, sizeof(msg), t0 + 122 * sec);
	CHECK(validate(&p, msg, sizeof(msg), src4, 6, true, t0 + 122 * sec) ==
	    WG_COOKIE_MAC_VALID_WITH_COOKIE);
	CHECK(p.rng.calls == 2);
}

static void test_unsolicited_reply(void)
{
	struct pair p;
	struct wg_msg_cookie_reply reply;
	uint8_t msg[148], msg2[148], nonce[WG_COOKIE_NONCE_LEN] = { 1 };

	pair_init(&p);
	kat_initiation(msg);
	/* A reply to a message the initiator never sent (here: built by the
	 * responder over bytes the initiator never MACed). */
	wg_cookie_add_macs(&p.cookie, msg, sizeof(msg), 0);
	wg_cookie_init(&p.cookie, p.pub);	/* forget everything sent */
	CHECK(wg_cookie_create_reply(&p.checker, &reply, msg, sizeof(msg), 1,
	    src4, 6, nonce, 0, fake_random, &p.rng) == 0);
	CHECK(!wg_cookie_consume_reply(&p.cookie, &reply, 0));
	CHECK(!p.cookie.is_valid);

	/* A reply to an older message: AD is the latest mac1 only. */
	wg_cookie_add_macs(&p.cookie, msg, sizeof(msg), 0);
	memcpy(msg2, msg, sizeof(msg2));
	msg2[20] ^= 1;
	wg_cookie_add_macs(&p.cookie, msg2, sizeof(msg2), 0);
	CHECK(!wg_cookie_consume_reply(&p.cookie, &reply, 0));
	CHECK(!p.cookie.is_valid);

	/* The right one is accepted, but only once. */
	CHECK(wg_cookie_create_reply(&p.checker, &reply, msg2, sizeof(msg2), 1,
	    src4, 6, nonce, 0, fake_random, &p.rng) == 0);
	CHECK(wg_cookie_consume_reply(&p.cookie, &reply, 0));
	CHECK(p.cookie.is_valid);
	CHECK(!wg_cookie_consume_reply(&p.cookie, &reply, 0));

	/* Replies are only built for whole handshake messages. */
	CHECK(wg_cookie_create_reply(&p.checker, &reply, msg, 100, 1, src4, 6,
	    nonce, 0, fake_random, &p.rng) == -EINVAL);
}

static void test_tampered_reply(void)
{
	struct pair p;
	struct wg_msg_cookie_reply reply, bad;
	uint8_t msg[148], nonce[WG_COOKIE_NONCE_LEN] = { 9 };
	size_t start = offsetof(struct wg_msg_cookie_reply, nonce), i,
	    accepted = 0;

	pair_init(&p);
	kat_initiation(msg);
	wg_cookie_add_macs(&p.cookie, msg, sizeof(msg), 0);
	CHECK(wg_cookie_create_reply(&p.checker, &reply, msg, sizeof(msg), 1,
	    src4, 6, nonce, 0, fake_random, &p.rng) == 0);
	for (i = start * 8; i < sizeof(reply) * 8; i++) {
		bad = reply;
		((uint8_t *)&bad)[i / 8] ^= (uint8_t)(1u << (i % 8));
		if (wg_cookie_consume_reply(&p.cookie, &bad, 0))
			accepted++;
	}
	CHECK(accepted == 0);
	CHECK(!p.cookie.is_valid && p.cookie.have_sent_mac1);
	/* A reply encrypted for another responder key. */
	{
		struct wg_cookie_checker other;
		uint8_t other_pub[WG_KEY_LEN];

		memcpy(other_pub, p.pub, WG_KEY_LEN);
		other_pub[31] ^= 0x40;
		wg_cookie_checker_init(&other);
		wg_cookie_checker_precompute(&other, other_pub);
		CHECK(wg_cookie_create_reply(&other, &bad, msg, sizeof(msg), 1,
		    src4, 6, nonce, 0, fake_random, &p.rng) == 0);
		CHECK(!wg_cookie_consume_reply(&p.cookie, &bad, 0));
	}
	CHECK(wg_cookie_consume_reply(&p.cookie, &reply, 0));
}

int main(void)
{
	RUN(test_known_answers);
	RUN(test_mac1);
	RUN(test_mac2_absent);
	RUN(test_round_trip_and_source);
	RUN(test_cookie_lifetime);
	RUN(test_secret_rotation);
	RUN(test_unsolicited_reply);
	RUN(test_tampered_reply);
	return check_summary();
}
