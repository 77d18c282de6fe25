/* BLAKE2s (RFC 7693) and HMAC-BLAKE2s, written here because BoringSSL ships
 * only BLAKE2b-256.  WireGuard uses BLAKE2s-256 for hashing (HASH), the
 * keyed 16-byte form for MAC1/MAC2, and HMAC-BLAKE2s inside its KDF. */
#ifndef WG_BLAKE2S_H
#define WG_BLAKE2S_H

#include <stddef.h>
#include <stdint.h>

enum {
	WG_BLAKE2S_BLOCK_LEN = 64,
	WG_BLAKE2S_HASH_LEN = 32,	/* largest output */
	WG_BLAKE2S_KEY_LEN = 32,	/* largest key */
};

struct wg_blake2s {
	uint32_t h[8];
	uint32_t t[2];
	uint32_t f[2];
	uint8_t buf[WG_BLAKE2S_BLOCK_LEN];
	size_t buflen;
	size_t outlen;
};

/* Streaming interface.  outlen is 1..32, keylen 0..32 (key may be NULL when
 * keylen is 0).  final() wipes the state. */
void wg_blake2s_init(struct wg_blake2s *s, size_t outlen);
void wg_blake2s_init_key(struct wg_blake2s *s, size_t outlen,
    const uint8_t *key, size_t keylen);
void wg_blake2s_update(struct wg_blake2s *s, const uint8_t *in, size_t inlen);
void wg_blake2s_final(struct wg_blake2s *s, uint8_t *out);

/* One-shot: out = BLAKE2s(key, in), outlen bytes. */
void wg_blake2s(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen,
    const uint8_t *key, size_t keylen);

/* HMAC (RFC 2104) over BLAKE2s-256: out is 32 bytes.  key may be up to any
 * length (longer than a block is hashed first, as RFC 2104 says). */
void wg_hmac_blake2s(uint8_t out[static WG_BLAKE2S_HASH_LEN],
    const uint8_t *in, size_t inlen, const uint8_t *key, size_t keylen);

#endif
