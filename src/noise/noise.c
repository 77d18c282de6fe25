/* The Noise IKpsk2 handshake and WireGuard's two handshake messages.
 *
 * Layer 1 follows the Noise specification (revision 34): section 5.2 for
 * the SymmetricState, 7.5 for the IK pattern and 9 for the psk2 modifier.
 * Layer 2 is whitepaper section 5.4.2 (first message) and 5.4.3 (second
 * message) expressed as that pattern; section 5.4.5 derives the transport
 * keys.  The steps carry their Noise tokens as comments. */
#include <endian.h>
#include <string.h>

#include "crypto/blake2s.h"
#include "crypto/kdf.h"
#include "crypto/primitives.h"
#include "crypto/tai64n.h"
#include "messages.h"
#include "noise.h"

const char wg_noise_construction[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
const char wg_noise_identifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";

static const uint64_t nsec_per_sec = 1000000000ULL;

/* Zero-length buffers still get a valid pointer: memcpy and the AEAD must
 * never see NULL. */
static const uint8_t empty[1];

/* ------------------------------------------------------------------ layer 1 */

void wg_noise_symmetric_init(struct wg_noise_symmetric *s,
    const char *protocol_name, const uint8_t *prologue, size_t prologue_len)
{
	size_t n = strlen(protocol_name);

	memset(s, 0, sizeof(*s));
	/* Noise 5.2 InitializeSymmetric: a name of at most HASHLEN bytes is
	 * zero-padded, a longer one hashed (WireGuard's is 37 bytes). */
	if (n <= WG_KEY_LEN)
		memcpy(s->hash, protocol_name, n);
	else
		wg_blake2s(s->hash, WG_KEY_LEN, (const uint8_t *)protocol_name, n,
		    NULL, 0);
	memcpy(s->chaining_key, s->hash, WG_KEY_LEN);
	wg_noise_mix_hash(s, prologue ? prologue : empty, prologue_len);
}

/* h = HASH(h || data) */
void wg_noise_mix_hash(struct wg_noise_symmetric *s, const uint8_t *data,
    size_t len)
{
	struct wg_blake2s b;

	wg_blake2s_init(&b, WG_KEY_LEN);
	wg_blake2s_update(&b, s->hash, WG_KEY_LEN);
	wg_blake2s_update(&b, data ? data : empty, len);
	wg_blake2s_final(&b, s->hash);
}

/* ck, k = HKDF(ck, ikm, 2); n = 0 */
void wg_noise_mix_key(struct wg_noise_symmetric *s, const uint8_t *ikm,
    size_t len)
{
	wg_kdf(s->chaining_key, s->key, NULL, s->chaining_key,
	    ikm ? ikm : empty, len);
	s->nonce = 0;
	s->has_key = true;
}

/* ck, temp_h, k = HKDF(ck, ikm, 3); MixHash(temp_h); n = 0.  Used by the
 * "psk" token (Noise 9.2). */
void wg_noise_mix_key_and_hash(struct wg_noise_symmetric *s,
    const uint8_t *ikm, size_t len)
{
	uint8_t temp_h[WG_KEY_LEN];

	wg_kdf(s->chaining_key, temp_h, s->key, s->chaining_key,
	    ikm ? ikm : empty, len);
	wg_noise_mix_hash(s, temp_h, sizeof(temp_h));
	s->nonce = 0;
	s->has_key = true;
	wg_wipe(temp_h, sizeof(temp_h));
}

/* A DH with a low-order point yields zeros, which would make the session
 * key independent of that party's secret: refuse (whitepaper 5.4.2, Linux
 * mix_dh). */
bool wg_noise_mix_dh(struct wg_noise_symmetric *s,
    const uint8_t priv[static WG_KEY_LEN], const uint8_t pub[static WG_KEY_LEN])
{
	uint8_t dh[WG_KEY_LEN];
	bool ok;

	ok = wg_x25519_dh(dh, priv, pub);
	if (ok)
		wg_noise_mix_key(s, dh, sizeof(dh));
	wg_wipe(dh, sizeof(dh));
	return ok;
}

bool wg_noise_mix_precomputed_dh(struct wg_noise_symmetric *s,
    const uint8_t dh[static WG_KEY_LEN])
{
	if (wg_is_zero_ct(dh, WG_KEY_LEN))
		return false;
	wg_noise_mix_key(s, dh, WG_KEY_LEN);
	return true;
}

/* Noise 5.2: with a key, ciphertext = ENCRYPT(k, n++, h, plaintext), else
 * the plaintext is sent as is; either way it is hashed into h. */
bool wg_noise_encrypt_and_hash(struct wg_noise_symmetric *s, uint8_t *dst,
    const uint8_t *src, size_t len)
{
	size_t out_len = len;

	if (src == NULL)
		src = empty;
	if (s->has_key) {
		/* Noise 5.1: nonce 2^64-1 is reserved. */
		if (s->nonce == UINT64_MAX)
			return false;
		if (!wg_aead_seal(dst, src, len, s->hash, WG_KEY_LEN, s->nonce,
		    s->key))
			return false;
		s->nonce++;
		out_len += WG_AEAD_TAG_LEN;
	} else if (len > 0) {
		memcpy(dst, src, len);
	}
	wg_noise_mix_hash(s, dst, out_len);
	return true;
}

bool wg_noise_decrypt_and_hash(struct wg_noise_symmetric *s, uint8_t *dst,
    const uint8_t *src, size_t len)
{
	uint8_t sink[1];	/* dst of an empty payload may be NULL */

	if (src == NULL)
		src = empty;
	if (dst == NULL)
		dst = sink;
	if (s->has_key) {
		if (len < WG_AEAD_TAG_LEN || s->nonce == UINT64_MAX)
			return false;
		if (dst == sink && len != WG_AEAD_TAG_LEN)
			return false;
		if (!wg_aead_open(dst, src, len, s->hash, WG_KEY_LEN, s->nonce,
		    s->key))
			return false;
		s->nonce++;
	} else if (len > 0) {
		if (dst == sink)
			return false;
		memcpy(dst, src, len);
	}
	/* h covers the ciphertext, as the sender hashed it. */
	wg_noise_mix_hash(s, src, len);
	return true;
}

/* temp_k1, temp_k2 = HKDF(ck, zerolen, 2) */
void wg_noise_split(const struct wg_noise_symmetric *s,
    uint8_t k1[static WG_KEY_LEN], uint8_t k2[static WG_KEY_LEN])
{
	wg_kdf(k1, k2, NULL, s->chaining_key, empty, 0);
}

void wg_noise_symmetric_clear(struct wg_noise_symmetric *s)
{
	wg_wipe(s, sizeof(*s));
}

/* "e" under a psk modifier: MixHash(e.public) and also MixKey(e.public)
 * (Noise 9.2), which is WireGuard's C = KDF1(C, E_pub). */
static void mix_ephemeral(struct wg_noise_symmetric *s,
    const uint8_t e_pub[static WG_KEY_LEN])
{
	wg_noise_mix_hash(s, e_pub, WG_KEY_LEN);
	wg_noise_mix_key(s, e_pub, WG_KEY_LEN);
}

void wg_noise_ikpsk2_init(struct wg_noise_symmetric *s,
    const char *protocol_name, const uint8_t *prologue, size_t prologue_len,
    const uint8_t responder_static[static WG_KEY_LEN])
{
	wg_noise_symmetric_init(s, protocol_name, prologue, prologue_len);
	/* <- s (pre-message) */
	wg_noise_mix_hash(s, responder_static, WG_KEY_LEN);
}

bool wg_noise_ikpsk2_write_msg1(struct wg_noise_symmetric *s, uint8_t *out,
    const uint8_t e_priv[static WG_KEY_LEN],
    const uint8_t responder_static[static WG_KEY_LEN],
    const uint8_t initiator_static_pub[static WG_KEY_LEN],
    const uint8_t ss[static WG_KEY_LEN], const uint8_t *payload,
    size_t payload_len)
{
	/* e */
	wg_x25519_public_from_private(out, e_priv);
	mix_ephemeral(s, out);
	/* es */
	if (!wg_noise_mix_dh(s, e_priv, responder_static))
		return false;
	/* s */
	if (!wg_noise_encrypt_and_hash(s, out + WG_KEY_LEN,
	    initiator_static_pub, WG_KEY_LEN))
		return false;
	/* ss */
	if (!wg_noise_mix_precomputed_dh(s, ss))
		return false;
	/* payload ({t} in WireGuard) */
	return wg_noise_encrypt_and_hash(s, out + WG_NOISE_MSG1_HEAD, payload,
	    payload_len);
}

bool wg_noise_ikpsk2_read_msg1_head(struct wg_noise_symmetric *s,
    const uint8_t in[static WG_NOISE_MSG1_HEAD],
    const uint8_t responder_static_priv[static WG_KEY_LEN],
    uint8_t re_out[static WG_KEY_LEN], uint8_t rs_out[static WG_KEY_LEN])
{
	/* e */
	memcpy(re_out, in, WG_KEY_LEN);
	mix_ephemeral(s, re_out);
	/* es */
	if (!wg_noise_mix_dh(s, responder_static_priv, re_out))
		return false;
	/* s */
	return wg_noise_decrypt_and_hash(s, rs_out, in + WG_KEY_LEN,
	    WG_KEY_LEN + WG_AEAD_TAG_LEN);
}

bool wg_noise_ikpsk2_read_msg1_tail(struct wg_noise_symmetric *s,
    const uint8_t *in, size_t in_len, const uint8_t ss[static WG_KEY_LEN],
    uint8_t *payload_out)
{
	if (in_len < WG_AEAD_TAG_LEN)
		return false;
	/* ss */
	if (!wg_noise_mix_precomputed_dh(s, ss))
		return false;
	/* payload ({t} in WireGuard) */
	return wg_noise_decrypt_and_hash(s, payload_out, in, in_len);
}

bool wg_noise_ikpsk2_write_msg2(struct wg_noise_symmetric *s, uint8_t *out,
    const uint8_t e_priv[static WG_KEY_LEN],
    const uint8_t initiator_ephemeral[static WG_KEY_LEN],
    const uint8_t initiator_static[static WG_KEY_LEN],
    const uint8_t psk[static WG_KEY_LEN], const uint8_t *payload,
    size_t payload_len)
{
	/* e */
	wg_x25519_public_from_private(out, e_priv);
	mix_ephemeral(s, out);
	/* ee */
	if (!wg_noise_mix_dh(s, e_priv, initiator_ephemeral))
		return false;
	/* se */
	if (!wg_noise_mix_dh(s, e_priv, initiator_static))
		return false;
	/* psk */
	wg_noise_mix_key_and_hash(s, psk, WG_KEY_LEN);
	/* payload ({} in WireGuard) */
	return wg_noise_encrypt_and_hash(s, out + WG_KEY_LEN, payload,
	    payload_len);
}

bool wg_noise_ikpsk2_read_msg2(struct wg_noise_symmetric *s,
    const uint8_t *in, size_t in_len,
    const uint8_t e_priv[static WG_KEY_LEN],
    const uint8_t initiator_static_priv[static WG_KEY_LEN],
    const uint8_t psk[static WG_KEY_LEN], uint8_t *payload_out)
{
	if (in_len < WG_NOISE_MSG2_OVERHEAD)
		return false;
	/* e */
	mix_ephemeral(s, in);
	/* ee */
	if (!wg_noise_mix_dh(s, e_priv, in))
		return false;
	/* se */
	if (!wg_noise_mix_dh(s, initiator_static_priv, in))
		return false;
	/* psk */
	wg_noise_mix_key_and_hash(s, psk, WG_KEY_LEN);
	/* payload ({} in WireGuard) */
	return wg_noise_decrypt_and_hash(s, payload_out, in + WG_KEY_LEN,
	    in_len - WG_KEY_LEN);
}

/* ------------------------------------------------------------------ layer 2 */

/* Ci, Hi and the responder's static key (whitepaper 5.4.2): the IKpsk2
 * initialisation with WireGuard's identifier as the prologue. */
static void wg_start(struct wg_noise_symmetric *s,
    const uint8_t responder_static[static WG_KEY_LEN])
{
	wg_noise_ikpsk2_init(s, wg_noise_construction,
	    (const uint8_t *)wg_noise_identifier, strlen(wg_noise_identifier),
	    responder_static);
}

/* Picks up a handshake between messages.  Only ck and h survive a message:
 * message 2 starts with "e", whose MixKey sets a fresh k. */
static void resume(struct wg_noise_symmetric *s, const struct wg_handshake *hs)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->chaining_key, hs->chaining_key, WG_KEY_LEN);
	memcpy(s->hash, hs->hash, WG_KEY_LEN);
}

static void save(struct wg_handshake *hs, const struct wg_noise_symmetric *s)
{
	memcpy(hs->chaining_key, s->chaining_key, WG_KEY_LEN);
	memcpy(hs->hash, s->hash, WG_KEY_LEN);
}

void wg_noise_precompute_static_static(struct wg_handshake *hs,
    const struct wg_static_identity *id)
{
	if (id == NULL || !id->has_identity ||
	    !wg_x25519_dh(hs->precomputed_static_static, id->static_private,
	    hs->remote_static))
		memset(hs->precomputed_static_static, 0, WG_KEY_LEN);
}

void wg_noise_handshake_init(struct wg_handshake *hs,
    const struct wg_static_identity *id,
    const uint8_t remote_static[static WG_KEY_LEN], const uint8_t *psk)
{
	memset(hs, 0, sizeof(*hs));
	hs->state = WG_HANDSHAKE_ZEROED;
	memcpy(hs->remote_static, remote_static, WG_KEY_LEN);
	if (psk != NULL)
		memcpy(hs->preshared_key, psk, WG_KEY_LEN);
	wg_noise_precompute_static_static(hs, id);
}

void wg_noise_handshake_clear(struct wg_handshake *hs)
{
	wg_wipe(hs->ephemeral_private, WG_KEY_LEN);
	wg_wipe(hs->remote_ephemeral, WG_KEY_LEN);
	wg_wipe(hs->hash, WG_KEY_LEN);
	wg_wipe(hs->chaining_key, WG_KEY_LEN);
	hs->local_index = 0;
	hs->remote_index = 0;
	hs->state = WG_HANDSHAKE_ZEROED;
}

void wg_noise_handshake_wipe(struct wg_handshake *hs)
{
	wg_wipe(hs, sizeof(*hs));
	hs->state = WG_HANDSHAKE_ZEROED;
}

/* Whitepaper 5.4.2. */
bool wg_noise_create_initiation(struct wg_msg_initiation *msg,
    struct wg_handshake *hs, const struct wg_static_identity *id,
    const uint8_t ephemeral_private[static WG_KEY_LEN],
    const uint8_t timestamp[static WG_TAI64N_LEN], uint32_t local_index)
{
	uint8_t body[WG_NOISE_MSG1_OVERHEAD + WG_TAI64N_LEN];
	uint8_t e[WG_KEY_LEN];
	struct wg_noise_symmetric s;
	bool ok = false;

	memset(&s, 0, sizeof(s));
	/* No identity or a low-order peer key: never send a message. */
	if (!id->has_identity ||
	    wg_is_zero_ct(hs->precomputed_static_static, WG_KEY_LEN))
		goto out;

	memcpy(e, ephemeral_private, WG_KEY_LEN);
	wg_x25519_clamp(e);
	wg_start(&s, hs->remote_static);
	/* e, es, s, ss, {t} */
	if (!wg_noise_ikpsk2_write_msg1(&s, body, e, hs->remote_static,
	    id->static_public, hs->precomputed_static_static, timestamp,
	    WG_TAI64N_LEN))
		goto out;

	memset(msg, 0, sizeof(*msg));
	msg->header.type = htole32(WG_MSG_INITIATION);
	msg->sender_index = htole32(local_index);
	memcpy(msg->unencrypted_ephemeral, body, WG_KEY_LEN);
	memcpy(msg->encrypted_static, body + WG_KEY_LEN,
	    sizeof(msg->encrypted_static));
	memcpy(msg->encrypted_timestamp, body + WG_NOISE_MSG1_HEAD,
	    sizeof(msg->encrypted_timestamp));

	save(hs, &s);
	memcpy(hs->ephemeral_private, e, WG_KEY_LEN);
	wg_wipe(hs->remote_ephemeral, WG_KEY_LEN);
	hs->local_index = local_index;
	hs->remote_index = 0;
	hs->state = WG_HANDSHAKE_CREATED_INITIATION;
	ok = true;
out:
	wg_noise_symmetric_clear(&s);
	wg_wipe(e, sizeof(e));
	wg_wipe(body, sizeof(body));
	return ok;
}

/* Whitepaper 5.1 and 5.4.2: the timestamp must grow (replay of a captured
 * initiation), and a peer gets at most 50 initiations a second consumed
 * (Linux noise.c: a flood of valid initiations could otherwise keep
 * resetting the session).  Both guard state only a real peer can move. */
static bool is_fresh(const struct wg_handshake *hs,
    const uint8_t timestamp[static WG_TAI64N_LEN], uint64_t now_ns)
{
	const uint64_t min_gap = nsec_per_sec / WG_INITIATIONS_PER_SECOND;

	if (!wg_tai64n_after(timestamp, hs->latest_timestamp))
		return false;
	if (hs->has_consumed_initiation &&
	    (now_ns < hs->last_initiation_consumption ||
	    now_ns - hs->last_initiation_consumption < min_gap))
		return false;
	return true;
}

struct wg_handshake *wg_noise_consume_initiation(
    const struct wg_msg_initiation *msg, const struct wg_static_identity *id,
    struct wg_handshake *(*lookup)(void *ctx,
	const uint8_t static_public[static WG_KEY_LEN]),
    void *ctx, uint64_t now_ns)
{
	uint8_t head[WG_NOISE_MSG1_HEAD];
	uint8_t re[WG_KEY_LEN], rs[WG_KEY_LEN], t[WG_TAI64N_LEN];
	struct wg_handshake *hs = NULL, *ret = NULL;
	struct wg_noise_symmetric s;

	memset(&s, 0, sizeof(s));
	if (!id->has_identity)
		goto out;

	memcpy(head, msg->unencrypted_ephemeral, WG_KEY_LEN);
	memcpy(head + WG_KEY_LEN, msg->encrypted_static,
	    sizeof(msg->encrypted_static));
	wg_start(&s, id->static_public);
	/* e, es, s */
	if (!wg_noise_ikpsk2_read_msg1_head(&s, head, id->static_private, re,
	    rs))
		goto out;

	hs = lookup(ctx, rs);
	if (hs == NULL || !wg_equal_ct(hs->remote_static, rs, WG_KEY_LEN))
		goto out;

	/* ss, {t}: fails for a low-order peer (zero precomputed ss). */
	if (!wg_noise_ikpsk2_read_msg1_tail(&s, msg->encrypted_timestamp,
	    sizeof(msg->encrypted_timestamp), hs->precomputed_static_static, t))
		goto out;
	if (!is_fresh(hs, t, now_ns))
		goto out;

	/* Everything verified: commit.  Any initiation of our own to this
	 * peer is abandoned, as in Linux. */
	save(hs, &s);
	memcpy(hs->remote_ephemeral, re, WG_KEY_LEN);
	wg_wipe(hs->ephemeral_private, WG_KEY_LEN);
	memcpy(hs->latest_timestamp, t, WG_TAI64N_LEN);
	if (!hs->has_consumed_initiation ||
	    now_ns > hs->last_initiation_consumption)
		hs->last_initiation_consumption = now_ns;
	hs->has_consumed_initiation = true;
	hs->remote_index = le32toh(msg->sender_index);
	hs->state = WG_HANDSHAKE_CONSUMED_INITIATION;
	ret = hs;
out:
	wg_noise_symmetric_clear(&s);
	wg_wipe(rs, sizeof(rs));
	wg_wipe(re, sizeof(re));
	wg_wipe(t, sizeof(t));
	return ret;
}

/* Whitepaper 5.4.3. */
bool wg_noise_create_response(struct wg_msg_response *msg,
    struct wg_handshake *hs,
    const uint8_t ephemeral_private[static WG_KEY_LEN], uint32_t local_index)
{
	uint8_t body[WG_NOISE_MSG2_OVERHEAD];
	uint8_t e[WG_KEY_LEN];
	struct wg_noise_symmetric s;
	bool ok = false;

	memset(&s, 0, sizeof(s));
	if (hs->state != WG_HANDSHAKE_CONSUMED_INITIATION)
		goto out;

	memcpy(e, ephemeral_private, WG_KEY_LEN);
	wg_x25519_clamp(e);
	resume(&s, hs);
	/* e, ee, se, psk, {} */
	if (!wg_noise_ikpsk2_write_msg2(&s, body, e, hs->remote_ephemeral,
	    hs->remote_static, hs->preshared_key, NULL, 0))
		goto out;

	memset(msg, 0, sizeof(*msg));
	msg->header.type = htole32(WG_MSG_RESPONSE);
	msg->sender_index = htole32(local_index);
	msg->receiver_index = htole32(hs->remote_index);
	memcpy(msg->unencrypted_ephemeral, body, WG_KEY_LEN);
	memcpy(msg->encrypted_nothing, body + WG_KEY_LEN,
	    sizeof(msg->encrypted_nothing));

	save(hs, &s);
	memcpy(hs->ephemeral_private, e, WG_KEY_LEN);
	hs->local_index = local_index;
	hs->state = WG_HANDSHAKE_CREATED_RESPONSE;
	ok = true;
out:
	wg_noise_symmetric_clear(&s);
	wg_wipe(e, sizeof(e));
	return ok;
}

struct wg_handshake *wg_noise_consume_response(
    const struct wg_msg_response *msg, const struct wg_static_identity *id,
    struct wg_handshake *(*lookup_index)(void *ctx, uint32_t local_index),
    void *ctx)
{
	uint8_t body[WG_NOISE_MSG2_OVERHEAD];
	uint8_t nothing[1];
	struct wg_handshake *hs, *ret = NULL;
	struct wg_noise_symmetric s;
	uint32_t index = le32toh(msg->receiver_index);

	memset(&s, 0, sizeof(s));
	if (!id->has_identity)
		goto out;
	hs = lookup_index(ctx, index);
	if (hs == NULL || hs->state != WG_HANDSHAKE_CREATED_INITIATION ||
	    hs->local_index != index)
		goto out;

	memcpy(body, msg->unencrypted_ephemeral, WG_KEY_LEN);
	memcpy(body + WG_KEY_LEN, msg->encrypted_nothing,
	    sizeof(msg->encrypted_nothing));
	resume(&s, hs);
	/* e, ee, se, psk, {} */
	if (!wg_noise_ikpsk2_read_msg2(&s, body, sizeof(body),
	    hs->ephemeral_private, id->static_private, hs->preshared_key,
	    nothing))
		goto out;

	save(hs, &s);
	memcpy(hs->remote_ephemeral, body, WG_KEY_LEN);
	hs->remote_index = le32toh(msg->sender_index);
	hs->state = WG_HANDSHAKE_CONSUMED_RESPONSE;
	ret = hs;
out:
	wg_noise_symmetric_clear(&s);
	return ret;
}

/* Whitepaper 5.4.5: T_send, T_recv = KDF2(C, empty), the initiator sending
 * with the first. */
bool wg_noise_derive_keys(struct wg_session_keys *keys,
    struct wg_handshake *hs)
{
	uint8_t k1[WG_KEY_LEN], k2[WG_KEY_LEN];
	struct wg_noise_symmetric s;
	bool initiator;

	if (hs->state != WG_HANDSHAKE_CREATED_RESPONSE &&
	    hs->state != WG_HANDSHAKE_CONSUMED_RESPONSE)
		return false;
	initiator = hs->state == WG_HANDSHAKE_CONSUMED_RESPONSE;

	resume(&s, hs);
	wg_noise_split(&s, k1, k2);
	memcpy(keys->sending, initiator ? k1 : k2, WG_KEY_LEN);
	memcpy(keys->receiving, initiator ? k2 : k1, WG_KEY_LEN);
	keys->local_index = hs->local_index;
	keys->remote_index = hs->remote_index;
	keys->is_initiator = initiator;
	wg_noise_handshake_clear(hs);

	wg_noise_symmetric_clear(&s);
	wg_wipe(k1, sizeof(k1));
	wg_wipe(k2, sizeof(k2));
	return true;
}
