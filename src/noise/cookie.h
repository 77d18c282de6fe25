/* WireGuard's MAC and cookie mechanism (whitepaper 5.4.4 and 5.4.7): every
 * handshake message carries mac1, keyed by the receiver's public key, so a
 * responder can drop junk without a DH; under load it also requires mac2,
 * keyed by a cookie bound to the sender's IP address and port, which it
 * hands out in an encrypted cookie reply.
 *
 * Pure like the rest of src/noise: time (monotonic ns) and randomness are
 * arguments.  Nothing here allocates. */
#ifndef WG_COOKIE_H
#define WG_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/primitives.h"
#include "messages.h"

/* Whitepaper section 6.1 and Linux messages.h. */
enum {
	WG_COOKIE_SECRET_MAX_AGE = 120,	/* s: responder's secret rotates */
	WG_COOKIE_SECRET_LATENCY = 5,	/* s: an initiator stops using a
					 * cookie 115 s after receiving it */
};

/* The responder side, one per device. */
struct wg_cookie_checker {
	uint8_t secret[WG_KEY_LEN];		/* rotated every 120 s */
	uint64_t secret_birth;			/* monotonic ns */
	bool secret_valid;			/* false: make one on first use */
	bool has_identity;
	uint8_t cookie_encryption_key[WG_KEY_LEN]; /* HASH("cookie--" || S_pub) */
	uint8_t message_mac1_key[WG_KEY_LEN];	   /* HASH("mac1----" || S_pub) */
};

/* The initiator side, one per peer. */
struct wg_cookie {
	uint8_t cookie[WG_COOKIE_LEN];
	uint64_t birth;				/* monotonic ns, when received */
	bool is_valid;
	uint8_t last_mac1_sent[WG_MAC_LEN];
	bool have_sent_mac1;
	/* From the PEER's public key: */
	uint8_t cookie_decryption_key[WG_KEY_LEN];
	uint8_t message_mac1_key[WG_KEY_LEN];
};

/* Zeroes the checker (no identity: every message is INVALID). */
void wg_cookie_checker_init(struct wg_cookie_checker *c);
/* Derives the keys from our public key (NULL: no identity).  Call again
 * whenever the device's key changes. */
void wg_cookie_checker_precompute(struct wg_cookie_checker *c,
    const uint8_t *our_public);
void wg_cookie_checker_clear(struct wg_cookie_checker *c);

/* Sets up a peer's cookie state for its public key; no cookie held. */
void wg_cookie_init(struct wg_cookie *c,
    const uint8_t peer_public[static WG_KEY_LEN]);
void wg_cookie_clear(struct wg_cookie *c);

/* msg is a whole initiation or response (len 148 or 92; anything else is
 * left untouched).  Writes mac1, and mac2 when a cookie received less than
 * 120 - 5 s ago is held (zeros otherwise); remembers mac1 so a cookie reply
 * to this message can be decrypted. */
void wg_cookie_add_macs(struct wg_cookie *c, void *msg, size_t len,
    uint64_t now_ns);

enum wg_cookie_mac_state {
	WG_COOKIE_MAC_INVALID,
	WG_COOKIE_MAC_VALID_NO_COOKIE,
	WG_COOKIE_MAC_VALID_WITH_COOKIE,
};

/* Responder: checks mac1 (and with check_cookie, mac2) of a whole
 * initiation or response (len 148 or 92, else INVALID).  src/src_len: the
 * sender's IP address bytes followed by its UDP port (network order), as
 * the kernel feeds them to the cookie MAC (6 or 18 bytes).  random(rctx,
 * buf, 32) is called to refresh the secret when it is missing or 120 s
 * old. */
enum wg_cookie_mac_state wg_cookie_validate(struct wg_cookie_checker *c,
    const void *msg, size_t len, const uint8_t *src, size_t src_len,
    bool check_cookie, uint64_t now_ns,
    void (*random)(void *ctx, void *buf, size_t len), void *rctx);

/* Responder under load: builds a cookie reply to msg (an initiation or
 * response of len 148 or 92 whose mac1 already validated).  sender_index is
 * msg's sender index in host order (goes in receiver_index); nonce: 24
 * random bytes from the caller.  Returns 0, or -EINVAL for a bad len. */
int wg_cookie_create_reply(struct wg_cookie_checker *c,
    struct wg_msg_cookie_reply *reply, const void *msg, size_t len,
    uint32_t sender_index, const uint8_t *src, size_t src_len,
    const uint8_t nonce[static WG_COOKIE_NONCE_LEN], uint64_t now_ns,
    void (*random)(void *ctx, void *buf, size_t len), void *rctx);

/* Initiator: the caller found c by reply->receiver_index.  Decrypts the
 * cookie with AD = the last mac1 we sent; true stores it (birth = now_ns)
 * and forgets that mac1, so a reply is accepted once.  A reply never
 * moves the peer's endpoint (callers: don't). */
WG_MUST_CHECK bool wg_cookie_consume_reply(struct wg_cookie *c,
    const struct wg_msg_cookie_reply *reply, uint64_t now_ns);

#endif
