/* The BoringSSL-backed primitives.  primitives.c is the only file in the
 * project that includes <openssl/...>; everything else calls these.
 *
 * Every function that can fail returns bool marked must-check: true means
 * success (an AEAD tag verified, a DH produced a non-zero secret). */
#ifndef WG_PRIMITIVES_H
#define WG_PRIMITIVES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WG_MUST_CHECK __attribute__((warn_unused_result))

enum {
	WG_KEY_LEN = 32,		/* X25519 keys, symmetric keys, PSK */
	WG_AEAD_TAG_LEN = 16,
	WG_AEAD_NONCE_LEN = 12,		/* ChaCha20-Poly1305 (IETF) */
	WG_XAEAD_NONCE_LEN = 24,	/* XChaCha20-Poly1305 */
};

/* ChaCha20-Poly1305 with WireGuard's nonce: 4 zero bytes then the 64-bit
 * counter little-endian.  seal writes len bytes of ciphertext followed by a
 * 16-byte tag to dst (dst may equal src: in place).  open reads len bytes of
 * ciphertext+tag (len >= 16) and writes len-16 bytes of plaintext; on a bad
 * tag it returns false and dst is unspecified.  No allocation per call. */
WG_MUST_CHECK bool wg_aead_seal(uint8_t *dst, const uint8_t *src, size_t len,
    const uint8_t *ad, size_t adlen, uint64_t counter,
    const uint8_t key[static WG_KEY_LEN]);
WG_MUST_CHECK bool wg_aead_open(uint8_t *dst, const uint8_t *src, size_t len,
    const uint8_t *ad, size_t adlen, uint64_t counter,
    const uint8_t key[static WG_KEY_LEN]);

/* The same AEAD with an arbitrary 12-byte nonce (for known-answer tests). */
WG_MUST_CHECK bool wg_aead_seal_nonce(uint8_t *dst, const uint8_t *src,
    size_t len, const uint8_t *ad, size_t adlen,
    const uint8_t nonce[static WG_AEAD_NONCE_LEN],
    const uint8_t key[static WG_KEY_LEN]);
WG_MUST_CHECK bool wg_aead_open_nonce(uint8_t *dst, const uint8_t *src,
    size_t len, const uint8_t *ad, size_t adlen,
    const uint8_t nonce[static WG_AEAD_NONCE_LEN],
    const uint8_t key[static WG_KEY_LEN]);

/* XChaCha20-Poly1305 (24-byte nonce), used for cookie replies. */
WG_MUST_CHECK bool wg_xaead_seal(uint8_t *dst, const uint8_t *src, size_t len,
    const uint8_t *ad, size_t adlen,
    const uint8_t nonce[static WG_XAEAD_NONCE_LEN],
    const uint8_t key[static WG_KEY_LEN]);
WG_MUST_CHECK bool wg_xaead_open(uint8_t *dst, const uint8_t *src, size_t len,
    const uint8_t *ad, size_t adlen,
    const uint8_t nonce[static WG_XAEAD_NONCE_LEN],
    const uint8_t key[static WG_KEY_LEN]);

/* X25519.  clamp() applies RFC 7748 clamping in place.  public_from_private
 * derives the public key.  dh() computes the shared secret and returns false
 * when it is all zeros (a low-order peer key). */
void wg_x25519_clamp(uint8_t key[static WG_KEY_LEN]);
void wg_x25519_public_from_private(uint8_t pub[static WG_KEY_LEN],
    const uint8_t priv[static WG_KEY_LEN]);
WG_MUST_CHECK bool wg_x25519_dh(uint8_t shared[static WG_KEY_LEN],
    const uint8_t priv[static WG_KEY_LEN],
    const uint8_t pub[static WG_KEY_LEN]);

/* Cryptographically secure random bytes from the OS (BoringSSL RAND_bytes).
 * Only the OS adapters call this: the protocol core gets randomness through
 * its ops struct so tests and fuzzers are deterministic. */
void wg_random_bytes(uint8_t *buf, size_t len);

/* Constant-time equality of two buffers (CRYPTO_memcmp == 0). */
WG_MUST_CHECK bool wg_equal_ct(const void *a, const void *b, size_t len);
/* Constant-time test that a buffer is all zeros. */
WG_MUST_CHECK bool wg_is_zero_ct(const void *a, size_t len);

/* Wipes a secret in a way the compiler cannot remove (OPENSSL_cleanse). */
void wg_wipe(void *p, size_t len);

#endif
