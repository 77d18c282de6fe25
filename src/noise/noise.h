/* The Noise IKpsk2 handshake (whitepaper section 5.4, Noise revision 34)
 * and WireGuard's two handshake messages built on it.
 *
 * Two layers, both pure (no clock, no RNG: the caller passes ephemeral
 * private keys, timestamps and the time):
 *
 *  1. A generic Noise symmetric state (MixHash, MixKey, MixKeyAndHash,
 *     EncryptAndHash, DecryptAndHash, Split) and the IKpsk2 message pattern
 *     with any prologue and payloads:
 *
 *	<- s
 *	...
 *	-> e, es, s, ss
 *	<- e, ee, se, psk
 *
 *     tests/test_noise.c drives this layer against the cacophony vectors.
 *
 *  2. WireGuard's wrappers (wg_noise_create_initiation etc.): the same
 *     handshake with prologue "WireGuard v1 zx2c4 Jason@zx2c4.com", a 12-byte
 *     TAI64N payload in message 1 and an empty payload in message 2, carried
 *     in struct wg_msg_initiation / wg_msg_response.
 *
 * Ownership: struct wg_handshake is embedded in its peer (peer.c); the
 * identity is the device's.  Nothing here allocates. */
#ifndef WG_NOISE_H
#define WG_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/primitives.h"
#include "crypto/tai64n.h"
#include "messages.h"

/* Limits from the whitepaper, section 6.1 (and Linux messages.h). */
enum {
	WG_INITIATIONS_PER_SECOND = 50,	/* per peer, consumed by a responder */
};

/* ------------------------------------------------------------------ layer 1
 * Generic Noise, used by the WireGuard wrappers and directly by tests. */

/* A Noise SymmetricState with its CipherState (Noise 5.1, 5.2), for
 * DH = 25519, cipher = ChaChaPoly, hash = BLAKE2s. */
struct wg_noise_symmetric {
	uint8_t chaining_key[WG_KEY_LEN];	/* ck */
	uint8_t hash[WG_KEY_LEN];		/* h */
	uint8_t key[WG_KEY_LEN];		/* k */
	uint64_t nonce;				/* n */
	bool has_key;
};

/* InitializeSymmetric(protocol_name) then MixHash(prologue). */
void wg_noise_symmetric_init(struct wg_noise_symmetric *s,
    const char *protocol_name, const uint8_t *prologue, size_t prologue_len);
void wg_noise_mix_hash(struct wg_noise_symmetric *s, const uint8_t *data,
    size_t len);
void wg_noise_mix_key(struct wg_noise_symmetric *s, const uint8_t *ikm,
    size_t len);
void wg_noise_mix_key_and_hash(struct wg_noise_symmetric *s,
    const uint8_t *ikm, size_t len);
/* MixKey(DH(priv, pub)); false (state unspecified) when the DH result is
 * all zeros, i.e. pub is a low-order point. */
WG_MUST_CHECK bool wg_noise_mix_dh(struct wg_noise_symmetric *s,
    const uint8_t priv[static WG_KEY_LEN], const uint8_t pub[static WG_KEY_LEN]);
/* MixKey(precomputed DH result); false when it is all zeros. */
WG_MUST_CHECK bool wg_noise_mix_precomputed_dh(struct wg_noise_symmetric *s,
    const uint8_t dh[static WG_KEY_LEN]);
/* EncryptAndHash: dst gets len bytes, plus a 16-byte tag when a key is set.
 * DecryptAndHash: src is len bytes (including the tag when a key is set),
 * dst gets len - 16 (or len); false on a bad tag or short input, and then
 * the state is unspecified: work on a copy.  dst must not overlap src. */
WG_MUST_CHECK bool wg_noise_encrypt_and_hash(struct wg_noise_symmetric *s,
    uint8_t *dst, const uint8_t *src, size_t len);
WG_MUST_CHECK bool wg_noise_decrypt_and_hash(struct wg_noise_symmetric *s,
    uint8_t *dst, const uint8_t *src, size_t len);
/* Split(): k1 is the initiator's sending key, k2 the responder's.  Both
 * transport CipherStates start at nonce 0 (wg_aead_seal's counter). */
void wg_noise_split(const struct wg_noise_symmetric *s,
    uint8_t k1[static WG_KEY_LEN], uint8_t k2[static WG_KEY_LEN]);
void wg_noise_symmetric_clear(struct wg_noise_symmetric *s);

/* The IKpsk2 pattern, message by message.  Keys are raw X25519 keys;
 * ephemeral privates are used as given (clamping is X25519's own).  The
 * static-static DH "ss" is passed in precomputed (WireGuard caches it per
 * peer).  All return false on any DH to a low-order point or bad tag; on
 * false, *s is unspecified and must be discarded. */
enum {
	WG_NOISE_MSG1_OVERHEAD = WG_KEY_LEN + WG_KEY_LEN + WG_AEAD_TAG_LEN +
	    WG_AEAD_TAG_LEN,		/* e + {s} + tag of {payload} = 96 */
	WG_NOISE_MSG1_HEAD = WG_KEY_LEN + WG_KEY_LEN + WG_AEAD_TAG_LEN,	/* 80 */
	WG_NOISE_MSG2_OVERHEAD = WG_KEY_LEN + WG_AEAD_TAG_LEN,		/* 48 */
};

/* Both sides: InitializeSymmetric, MixHash(prologue), and the pre-message
 * "<- s" (MixHash(responder_static)). */
void wg_noise_ikpsk2_init(struct wg_noise_symmetric *s,
    const char *protocol_name, const uint8_t *prologue, size_t prologue_len,
    const uint8_t responder_static[static WG_KEY_LEN]);
/* Initiator: "-> e, es, s, ss" + payload.  out receives
 * WG_NOISE_MSG1_OVERHEAD + payload_len bytes.  e_pub_out (may be NULL)
 * receives the ephemeral public key. */
WG_MUST_CHECK bool wg_noise_ikpsk2_write_msg1(struct wg_noise_symmetric *s,
    uint8_t *out, const uint8_t e_priv[static WG_KEY_LEN],
    const uint8_t responder_static[static WG_KEY_LEN],
    const uint8_t initiator_static_pub[static WG_KEY_LEN],
    const uint8_t ss[static WG_KEY_LEN], const uint8_t *payload,
    size_t payload_len);
/* Responder, first half: "e, es, s" from the first WG_NOISE_MSG1_HEAD bytes
 * of in, yielding the initiator's ephemeral and static public keys.  The
 * caller then finds that static key's peer and its precomputed ss. */
WG_MUST_CHECK bool wg_noise_ikpsk2_read_msg1_head(struct wg_noise_symmetric *s,
    const uint8_t in[static WG_NOISE_MSG1_HEAD],
    const uint8_t responder_static_priv[static WG_KEY_LEN],
    uint8_t re_out[static WG_KEY_LEN], uint8_t rs_out[static WG_KEY_LEN]);
/* Responder, second half: "ss" then the payload.  in is the rest of the
 * message (payload_len + 16 bytes); payload_out gets payload_len bytes. */
WG_MUST_CHECK bool wg_noise_ikpsk2_read_msg1_tail(struct wg_noise_symmetric *s,
    const uint8_t *in, size_t in_len, const uint8_t ss[static WG_KEY_LEN],
    uint8_t *payload_out);
/* Responder: "<- e, ee, se, psk" + payload.  out receives
 * WG_NOISE_MSG2_OVERHEAD + payload_len bytes. */
WG_MUST_CHECK bool wg_noise_ikpsk2_write_msg2(struct wg_noise_symmetric *s,
    uint8_t *out, const uint8_t e_priv[static WG_KEY_LEN],
    const uint8_t initiator_ephemeral[static WG_KEY_LEN],
    const uint8_t initiator_static[static WG_KEY_LEN],
    const uint8_t psk[static WG_KEY_LEN], const uint8_t *payload,
    size_t payload_len);
/* Initiator: reads message 2 (in_len >= WG_NOISE_MSG2_OVERHEAD bytes);
 * payload_out gets in_len - 48 bytes. */
WG_MUST_CHECK bool wg_noise_ikpsk2_read_msg2(struct wg_noise_symmetric *s,
    const uint8_t *in, size_t in_len,
    const uint8_t e_priv[static WG_KEY_LEN],
    const uint8_t initiator_static_priv[static WG_KEY_LEN],
    const uint8_t psk[static WG_KEY_LEN], uint8_t *payload_out);

/* ------------------------------------------------------------------ layer 2
 * WireGuard. */

/* The construction and identifier strings (whitepaper 5.4). */
extern const char wg_noise_construction[];	/* Noise_IKpsk2_25519_... */
extern const char wg_noise_identifier[];	/* WireGuard v1 zx2c4 ... */

enum wg_handshake_state {
	WG_HANDSHAKE_ZEROED,
	WG_HANDSHAKE_CREATED_INITIATION,
	WG_HANDSHAKE_CONSUMED_INITIATION,
	WG_HANDSHAKE_CREATED_RESPONSE,
	WG_HANDSHAKE_CONSUMED_RESPONSE,
};

/* The device's static key pair.  The owner keeps static_public equal to the
 * public key of static_private and calls wg_noise_precompute_static_static
 * on every handshake when it changes. */
struct wg_static_identity {
	bool has_identity;
	uint8_t static_private[WG_KEY_LEN];
	uint8_t static_public[WG_KEY_LEN];
};

/* One per peer.  remote_static, preshared_key, precomputed_static_static,
 * latest_timestamp and last_initiation_consumption outlive a handshake;
 * the rest is per attempt and wiped by wg_noise_handshake_clear.  To change
 * the PSK, write preshared_key directly (zeros = none). */
struct wg_handshake {
	enum wg_handshake_state state;
	uint8_t remote_static[WG_KEY_LEN];
	/* DH(s_priv, S_remote); all zeros when there is no identity or the
	 * remote key is low order: such a peer never gets a message or a
	 * session. */
	uint8_t precomputed_static_static[WG_KEY_LEN];
	uint8_t preshared_key[WG_KEY_LEN];
	uint8_t ephemeral_private[WG_KEY_LEN];
	uint8_t remote_ephemeral[WG_KEY_LEN];
	uint8_t hash[WG_KEY_LEN];
	uint8_t chaining_key[WG_KEY_LEN];
	/* Greatest TAI64N timestamp consumed from this peer (replay guard). */
	uint8_t latest_timestamp[WG_TAI64N_LEN];
	/* Monotonic ns of the last consumed initiation (flood guard: at most
	 * WG_INITIATIONS_PER_SECOND); meaningful once has_consumed_initiation. */
	uint64_t last_initiation_consumption;
	bool has_consumed_initiation;
	uint32_t local_index, remote_index;	/* host byte order */
};

struct wg_session_keys {
	uint8_t sending[WG_KEY_LEN];
	uint8_t receiving[WG_KEY_LEN];
	uint32_t local_index, remote_index;	/* host byte order */
	bool is_initiator;
};

/* Sets up a zeroed handshake for the peer remote_static (psk NULL = none)
 * and precomputes ss from id (which may have no identity yet). */
void wg_noise_handshake_init(struct wg_handshake *hs,
    const struct wg_static_identity *id,
    const uint8_t remote_static[static WG_KEY_LEN], const uint8_t *psk);
/* Recomputes precomputed_static_static after the identity changed. */
void wg_noise_precompute_static_static(struct wg_handshake *hs,
    const struct wg_static_identity *id);
/* Wipes ephemeral, hash, chaining key and indices; state ZEROED.  Keeps
 * remote_static, preshared_key, precomputed_static_static, latest_timestamp
 * and the flood-guard time. */
void wg_noise_handshake_clear(struct wg_handshake *hs);
/* Wipes everything (peer removal). */
void wg_noise_handshake_wipe(struct wg_handshake *hs);

/* Initiator, message 1.  ephemeral_private: 32 random bytes from the caller
 * (clamped here); timestamp: TAI64N of the wall clock now; local_index: the
 * caller's freshly allocated index (written as sender_index).  Fills every
 * field but the MACs (zeroed: wg_cookie_add_macs writes them).  On success
 * hs is CREATED_INITIATION; on failure (no identity, low-order peer) hs is
 * unchanged. */
WG_MUST_CHECK bool wg_noise_create_initiation(struct wg_msg_initiation *msg,
    struct wg_handshake *hs, const struct wg_static_identity *id,
    const uint8_t ephemeral_private[static WG_KEY_LEN],
    const uint8_t timestamp[static WG_TAI64N_LEN], uint32_t local_index);

/* Responder, message 1 (already classified and MAC-checked by the caller).
 * Decrypts the initiator's static key, calls lookup(ctx, static_public) to
 * find that peer's handshake (NULL: unknown peer), requires the timestamp
 * to be strictly newer than latest_timestamp and the previous consumed
 * initiation to be at least 1/50 s older than now_ns (monotonic), and only
 * then commits: state CONSUMED_INITIATION, remote_index = sender_index.
 * Returns that handshake, or NULL with every handshake unchanged. */
struct wg_handshake *wg_noise_consume_initiation(
    const struct wg_msg_initiation *msg, const struct wg_static_identity *id,
    struct wg_handshake *(*lookup)(void *ctx,
	const uint8_t static_public[static WG_KEY_LEN]),
    void *ctx, uint64_t now_ns);

/* Responder, message 2.  Requires CONSUMED_INITIATION; local_index is the
 * caller's fresh index.  On success hs is CREATED_RESPONSE and the caller
 * derives keys at once; on failure hs is unchanged. MACs zeroed. */
WG_MUST_CHECK bool wg_noise_create_response(struct wg_msg_response *msg,
    struct wg_handshake *hs,
    const uint8_t ephemeral_private[static WG_KEY_LEN], uint32_t local_index);

/* Initiator, message 2: lookup_index(ctx, receiver_index) returns the
 * handshake whose local_index that is (NULL: none); it must be in
 * CREATED_INITIATION.  On success that handshake is CONSUMED_RESPONSE with
 * remote_index = sender_index; NULL leaves everything unchanged. */
struct wg_handshake *wg_noise_consume_response(
    const struct wg_msg_response *msg, const struct wg_static_identity *id,
    struct wg_handshake *(*lookup_index)(void *ctx, uint32_t local_index),
    void *ctx);

/* Both sides after message 2 (responder: CREATED_RESPONSE, initiator:
 * CONSUMED_RESPONSE): Split() into the transport keys, then clear the
 * handshake.  False (hs unchanged) in any other state.  The caller owns
 * keys and wipes it with wg_wipe when done. */
WG_MUST_CHECK bool wg_noise_derive_keys(struct wg_session_keys *keys,
    struct wg_handshake *hs);

#endif
