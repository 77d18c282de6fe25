/* MAC1, MAC2 and cookie replies: whitepaper 5.3 (why), 5.4.4 (the MACs)
 * and 5.4.7 (the cookie reply); lifetimes from section 6.1. */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "cookie.h"
#include "crypto/blake2s.h"
#include "crypto/primitives.h"
#include "messages.h"

static const uint64_t nsec_per_sec = 1000000000ULL;

/* The two 8-byte labels of whitepaper 5.4.4. */
static const char mac1_label[] = "mac1----";
static const char cookie_label[] = "cookie--";
enum { LABEL_LEN = sizeof(mac1_label) - 1 };
_Static_assert(sizeof(cookie_label) - 1 == LABEL_LEN, "label length");

/* HASH(label || public key) */
static void precompute_key(uint8_t key[static WG_KEY_LEN],
    const uint8_t pub[static WG_KEY_LEN], const char *label)
{
	struct wg_blake2s b;

	wg_blake2s_init(&b, WG_KEY_LEN);
	wg_blake2s_update(&b, (const uint8_t *)label, LABEL_LEN);
	wg_blake2s_update(&b, pub, WG_KEY_LEN);
	wg_blake2s_final(&b, key);
}

/* Where mac1 sits in a handshake message of this exact length; false for
 * anything that is not a whole initiation or response. */
static bool macs_offset(size_t len, size_t *off)
{
	if (len == sizeof(struct wg_msg_initiation))
		*off = offsetof(struct wg_msg_initiation, macs);
	else if (len == sizeof(struct wg_msg_response))
		*off = offsetof(struct wg_msg_response, macs);
	else
		return false;
	return true;
}

/* Linux's wg_birthdate_has_expired: a birth in the future never expires. */
static bool has_expired(uint64_t birth, uint64_t secs, uint64_t now_ns)
{
	return now_ns >= birth && now_ns - birth >= secs * nsec_per_sec;
}

/* mac1 = MAC(HASH("mac1----" || S_receiver), msg up to mac1) */
static void compute_mac1(uint8_t mac[static WG_MAC_LEN], const uint8_t *msg,
    size_t off, const uint8_t key[static WG_KEY_LEN])
{
	wg_blake2s(mac, WG_MAC_LEN, msg, off, key, WG_KEY_LEN);
}

/* mac2 = MAC(cookie, msg up to mac2) */
static void compute_mac2(uint8_t mac[static WG_MAC_LEN], const uint8_t *msg,
    size_t off, const uint8_t cookie[static WG_COOKIE_LEN])
{
	wg_blake2s(mac, WG_MAC_LEN, msg, off + WG_MAC_LEN, cookie,
	    WG_COOKIE_LEN);
}

/* cookie = MAC(R_m, A_m): the source address and port under a secret that
 * changes every two minutes (5.4.7). */
static void make_cookie(struct wg_cookie_checker *c,
    uint8_t cookie[static WG_COOKIE_LEN], const uint8_t *src, size_t src_len,
    uint64_t now_ns, void (*random)(void *ctx, void *buf, size_t len),
    void *rctx)
{
	if (!c->secret_valid ||
	    has_expired(c->secret_birth, WG_COOKIE_SECRET_MAX_AGE, now_ns)) {
		random(rctx, c->secret, sizeof(c->secret));
		c->secret_birth = now_ns;
		c->secret_valid = true;
	}
	if (src == NULL)
		src_len = 0;
	wg_blake2s(cookie, WG_COOKIE_LEN, src ? src : c->secret, src_len,
	    c->secret, sizeof(c->secret));
}

void wg_cookie_checker_init(struct wg_cookie_checker *c)
{
	memset(c, 0, sizeof(*c));
}

void wg_cookie_checker_precompute(struct wg_cookie_checker *c,
    const uint8_t *our_public)
{
	if (our_public == NULL) {
		wg_wipe(c->cookie_encryption_key, WG_KEY_LEN);
		wg_wipe(c->message_mac1_key, WG_KEY_LEN);
		c->has_identity = false;
		return;
	}
	precompute_key(c->cookie_encryption_key, our_public, cookie_label);
	precompute_key(c->message_mac1_key, our_public, mac1_label);
	c->has_identity = true;
}

void wg_cookie_checker_clear(struct wg_cookie_checker *c)
{
	wg_wipe(c, sizeof(*c));
}

void wg_cookie_init(struct wg_cookie *c,
    const uint8_t peer_public[static WG_KEY_LEN])
{
	memset(c, 0, sizeof(*c));
	precompute_key(c->cookie_decryption_key, peer_public, cookie_label);
	precompute_key(c->message_mac1_key, peer_public, mac1_label);
}

void wg_cookie_clear(struct wg_cookie *c)
{
	wg_wipe(c, sizeof(*c));
}

void wg_cookie_add_macs(struct wg_cookie *c, void *msg, size_t len,
    uint64_t now_ns)
{
	uint8_t *p = msg;
	size_t off;

	if (!macs_offset(len, &off))
		return;
	compute_mac1(p + off, p, off, c->message_mac1_key);
	memcpy(c->last_mac1_sent, p + off, WG_MAC_LEN);
	c->have_sent_mac1 = true;

	/* Stop using a cookie COOKIE_SECRET_LATENCY before the responder's
	 * secret could have rotated under it (Linux cookie.c: MAX_AGE -
	 * LATENCY), so mac2 is not computed with a stale cookie. */
	if (c->is_valid && !has_expired(c->birth,
	    WG_COOKIE_SECRET_MAX_AGE - WG_COOKIE_SECRET_LATENCY, now_ns))
		compute_mac2(p + off + WG_MAC_LEN, p, off, c->cookie);
	else
		memset(p + off + WG_MAC_LEN, 0, WG_MAC_LEN);
}

enum wg_cookie_mac_state wg_cookie_validate(struct wg_cookie_checker *c,
    const void *msg, size_t len, const uint8_t *src, size_t src_len,
    bool check_cookie, uint64_t now_ns,
    void (*random)(void *ctx, void *buf, size_t len), void *rctx)
{
	enum wg_cookie_mac_state ret = WG_COOKIE_MAC_INVALID;
	uint8_t computed[WG_MAC_LEN], cookie[WG_COOKIE_LEN];
	const uint8_t *p = msg;
	size_t off;

	if (!c->has_identity || !macs_offset(len, &off))
		goto out;
	compute_mac1(computed, p, off, c->message_mac1_key);
	if (!wg_equal_ct(computed, p + off, WG_MAC_LEN))
		goto out;
	ret = WG_COOKIE_MAC_VALID_NO_COOKIE;
	if (!check_cookie)
		goto out;

	make_cookie(c, cookie, src, src_len, now_ns, random, rctx);
	compute_mac2(computed, p, off, cookie);
	if (!wg_equal_ct(computed, p + off + WG_MAC_LEN, WG_MAC_LEN))
		goto out;
	ret = WG_COOKIE_MAC_VALID_WITH_COOKIE;
out:
	wg_wipe(cookie, sizeof(cookie));
	wg_wipe(computed, sizeof(computed));
	return ret;
}

int wg_cookie_create_reply(struct wg_cookie_checker *c,
    struct wg_msg_cookie_reply *reply, const void *msg, size_t len,
    uint32_t sender_index, const uint8_t *src, size_t src_len,
    const uint8_t nonce[static WG_COOKIE_NONCE_LEN], uint64_t now_ns,
    void (*random)(void *ctx, void *buf, size_t len), void *rctx)
{
	uint8_t cookie[WG_COOKIE_LEN];
	const uint8_t *p = msg;
	size_t off;
	int ret = -EINVAL;

	if (!c->has_identity || !macs_offset(len, &off))
		goto out;
	memset(reply, 0, sizeof(*reply));
	reply->header.type = htole32(WG_MSG_COOKIE_REPLY);
	reply->receiver_index = htole32(sender_index);
	memcpy(reply->nonce, nonce, WG_COOKIE_NONCE_LEN);

	/* The message's mac1 is the AD: the reply is useful only to whoever
	 * sent that exact message (5.4.7). */
	make_cookie(c, cookie, src, src_len, now_ns, random, rctx);
	if (!wg_xaead_seal(reply->encrypted_cookie, cookie, WG_COOKIE_LEN,
	    p + off, WG_MAC_LEN, reply->nonce, c->cookie_encryption_key)) {
		ret = -EIO;
		goto out;
	}
	ret = 0;
out:
	wg_wipe(cookie, sizeof(cookie));
	return ret;
}

bool wg_cookie_consume_reply(struct wg_cookie *c,
    const struct wg_msg_cookie_reply *reply, uint64_t now_ns)
{
	uint8_t cookie[WG_COOKIE_LEN];
	bool ok = false;

	/* Only a reply to a message we sent (its mac1 is the AD) counts. */
	if (!c->have_sent_mac1)
		goto out;
	if (!wg_xaead_open(cookie, reply->encrypted_cookie,
	    sizeof(reply->encrypted_cookie), c->last_mac1_sent, WG_MAC_LEN,
	    reply->nonce, c->cookie_decryption_key))
		goto out;
	memcpy(c->cookie, cookie, WG_COOKIE_LEN);
	c->birth = now_ns;
	c->is_valid = true;
	c->have_sent_mac1 = false;
	ok = true;
out:
	wg_wipe(cookie, sizeof(cookie));
	return ok;
}
