/* BLAKE2s as RFC 7693 specifies it, and HMAC-BLAKE2s (RFC 2104) for the
 * WireGuard KDF.  Portable C: words are loaded and stored little-endian
 * byte by byte, which compilers turn into plain loads on little-endian
 * machines, and the compression function makes no calls per byte. */
#include <stdlib.h>
#include <string.h>

#include "crypto/blake2s.h"

/* A wipe of our own rather than primitives.h's wg_wipe(): this file has no
 * other dependency, so the historian links it alone, without BoringSSL
 * (whose libcrypto clashes with the OpenSSL that libmosquitto brings). */
static void wipe(void *p, size_t len)
{
	explicit_bzero(p, len);
}

/* RFC 7693 section 2.6: the SHA-256 initial values. */
static const uint32_t IV[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

/* RFC 7693 section 2.7: the message schedule, one row per round
 * (BLAKE2s has 10 rounds, so rows 10 and 11 of BLAKE2b are not needed). */
static const uint8_t SIGMA[10][16] = {
	{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
	{ 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
	{ 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4 },
	{ 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8 },
	{ 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13 },
	{ 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9 },
	{ 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11 },
	{ 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10 },
	{ 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5 },
	{ 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0 },
};

static inline uint32_t rotr32(uint32_t x, unsigned int n)
{
	return (x >> n) | (x << (32 - n));
}

static inline uint32_t load32_le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static inline void store32_le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* RFC 7693 section 3.1, the mixing function G with BLAKE2s's rotation
 * constants (R1, R2, R3, R4) = (16, 12, 8, 7). */
#define G(a, b, c, d, x, y) do { \
	v[a] = v[a] + v[b] + (x); \
	v[d] = rotr32(v[d] ^ v[a], 16); \
	v[c] = v[c] + v[d]; \
	v[b] = rotr32(v[b] ^ v[c], 12); \
	v[a] = v[a] + v[b] + (y); \
	v[d] = rotr32(v[d] ^ v[a], 8); \
	v[c] = v[c] + v[d]; \
	v[b] = rotr32(v[b] ^ v[c], 7); \
} while (0)

/* RFC 7693 section 3.2, the compression function F.  The caller has
 * already added this block's length to the counter t and set f[0] if the
 * block is the last. */
static void compress(struct wg_blake2s *s, const uint8_t block[static 64])
{
	uint32_t m[16], v[16];
	int i, r;

	for (i = 0; i < 16; i++)
		m[i] = load32_le(block + 4 * i);
	for (i = 0; i < 8; i++) {
		v[i] = s->h[i];
		v[i + 8] = IV[i];
	}
	v[12] ^= s->t[0];
	v[13] ^= s->t[1];
	v[14] ^= s->f[0];
	v[15] ^= s->f[1];

	for (r = 0; r < 10; r++) {
		const uint8_t *sg = SIGMA[r];

		G(0, 4, 8, 12, m[sg[0]], m[sg[1]]);
		G(1, 5, 9, 13, m[sg[2]], m[sg[3]]);
		G(2, 6, 10, 14, m[sg[4]], m[sg[5]]);
		G(3, 7, 11, 15, m[sg[6]], m[sg[7]]);
		G(0, 5, 10, 15, m[sg[8]], m[sg[9]]);
		G(1, 6, 11, 12, m[sg[10]], m[sg[11]]);
		G(2, 7, 8, 13, m[sg[12]], m[sg[13]]);
		G(3, 4, 9, 14, m[sg[14]], m[sg[15]]);
	}

	for (i = 0; i < 8; i++)
		s->h[i] ^= v[i] ^ v[i + 8];

	/* The block may be a key block (keyed BLAKE2s, HMAC's padded key)
	 * and v is a function of it: leave neither on the stack. */
	wipe(m, sizeof(m));
	wipe(v, sizeof(v));
}

#undef G

/* The byte counter t is 64 bits kept as two words (RFC 7693 section 3.3). */
static inline void increment_counter(struct wg_blake2s *s, uint32_t inc)
{
	s->t[0] += inc;
	if (s->t[0] < inc)
		s->t[1]++;
}

void wg_blake2s_init(struct wg_blake2s *s, size_t outlen)
{
	wg_blake2s_init_key(s, outlen, NULL, 0);
}

void wg_blake2s_init_key(struct wg_blake2s *s, size_t outlen,
    const uint8_t *key, size_t keylen)
{
	/* Out-of-range lengths are a caller bug, never network input. */
	if (outlen == 0 || outlen > WG_BLAKE2S_HASH_LEN ||
	    keylen > WG_BLAKE2S_KEY_LEN || (keylen > 0 && key == NULL))
		abort();

	memset(s, 0, sizeof(*s));
	memcpy(s->h, IV, sizeof(s->h));
	/* Parameter block word 0 (RFC 7693 section 2.5): digest length, key
	 * length, fanout 1, depth 1; the other parameters are all zero. */
	s->h[0] ^= 0x01010000u ^ (uint32_t)(keylen << 8) ^ (uint32_t)outlen;
	s->outlen = outlen;

	/* A key is padded with zeros to a full first block (section 3.3). */
	if (keylen > 0) {
		uint8_t block[WG_BLAKE2S_BLOCK_LEN] = { 0 };

		memcpy(block, key, keylen);
		wg_blake2s_update(s, block, sizeof(block));
		wipe(block, sizeof(block));
	}
}

void wg_blake2s_update(struct wg_blake2s *s, const uint8_t *in, size_t inlen)
{
	size_t fill = WG_BLAKE2S_BLOCK_LEN - s->buflen;

	if (inlen == 0)
		return;

	/* The last block must be compressed with the final flag set, so a
	 * full block is only compressed once more input is known to follow:
	 * the buffer is left holding 1..64 bytes, never 0 after input. */
	if (inlen > fill) {
		memcpy(s->buf + s->buflen, in, fill);
		increment_counter(s, WG_BLAKE2S_BLOCK_LEN);
		compress(s, s->buf);
		s->buflen = 0;
		in += fill;
		inlen -= fill;
		while (inlen > WG_BLAKE2S_BLOCK_LEN) {
			increment_counter(s, WG_BLAKE2S_BLOCK_LEN);
			compress(s, in);
			in += WG_BLAKE2S_BLOCK_LEN;
			inlen -= WG_BLAKE2S_BLOCK_LEN;
		}
	}
	memcpy(s->buf + s->buflen, in, inlen);
	s->buflen += inlen;
}

void wg_blake2s_final(struct wg_blake2s *s, uint8_t *out)
{
	uint8_t full[WG_BLAKE2S_HASH_LEN];
	int i;

	increment_counter(s, (uint32_t)s->buflen);
	s->f[0] = 0xffffffffu;
	memset(s->buf + s->buflen, 0, WG_BLAKE2S_BLOCK_LEN - s->buflen);
	compress(s, s->buf);

	for (i = 0; i < 8; i++)
		store32_le(full + 4 * i, s->h[i]);
	memcpy(out, full, s->outlen);

	wipe(full, sizeof(full));
	wipe(s, sizeof(*s));
}

void wg_blake2s(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen,
    const uint8_t *key, size_t keylen)
{
	struct wg_blake2s s;

	wg_blake2s_init_key(&s, outlen, key, keylen);
	wg_blake2s_update(&s, in, inlen);
	wg_blake2s_final(&s, out);
}

/* RFC 2104: H((K ^ opad) || H((K ^ ipad) || text)), with K zero-padded to
 * the 64-byte block.  out is written only at the end, so it may alias the
 * key or the input (the KDF relies on this). */
void wg_hmac_blake2s(uint8_t out[static WG_BLAKE2S_HASH_LEN],
    const uint8_t *in, size_t inlen, const uint8_t *key, size_t keylen)
{
	struct wg_blake2s s;
	uint8_t block[WG_BLAKE2S_BLOCK_LEN] = { 0 };
	uint8_t inner[WG_BLAKE2S_HASH_LEN];
	int i;

	/* RFC 2104 section 2: a key longer than the block is hashed first. */
	if (keylen > WG_BLAKE2S_BLOCK_LEN)
		wg_blake2s(block, WG_BLAKE2S_HASH_LEN, key, keylen, NULL, 0);
	else if (keylen > 0)
		memcpy(block, key, keylen);

	for (i = 0; i < WG_BLAKE2S_BLOCK_LEN; i++)
		block[i] ^= 0x36;
	wg_blake2s_init(&s, WG_BLAKE2S_HASH_LEN);
	wg_blake2s_update(&s, block, sizeof(block));
	wg_blake2s_update(&s, in, inlen);
	wg_blake2s_final(&s, inner);

	/* Turn K ^ ipad into K ^ opad in place. */
	for (i = 0; i < WG_BLAKE2S_BLOCK_LEN; i++)
		block[i] ^= 0x36 ^ 0x5c;
	wg_blake2s_init(&s, WG_BLAKE2S_HASH_LEN);
	wg_blake2s_update(&s, block, sizeof(block));
	wg_blake2s_update(&s, inner, sizeof(inner));
	wg_blake2s_final(&s, out);

	wipe(block, sizeof(block));
	wipe(inner, sizeof(inner));
}
