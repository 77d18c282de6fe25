/* The one file that talks to BoringSSL.  Everything here is a thin wrapper:
 * the point is that the rest of wgu depends on primitives.h, not on
 * <openssl/...>, so the library could be swapped by rewriting this file.
 *
 * The AEADs use an EVP_AEAD_CTX on the stack, initialised and cleaned up on
 * every call.  BoringSSL keeps the ChaCha20-Poly1305 state inside the
 * EVP_AEAD_CTX itself (union evp_aead_ctx_st_state), so this allocates
 * nothing; init only copies the 32-byte key, and cleanup wipes it. */
#include <string.h>

#include <openssl/aead.h>
#include <openssl/crypto.h>
#include <openssl/curve25519.h>
#include <openssl/err.h>
#include <openssl/mem.h>
#include <openssl/rand.h>

#include "crypto/primitives.h"

_Static_assert(WG_KEY_LEN == X25519_PRIVATE_KEY_LEN, "X25519 key size");
_Static_assert(WG_KEY_LEN == X25519_PUBLIC_VALUE_LEN, "X25519 key size");
_Static_assert(WG_KEY_LEN == X25519_SHARED_KEY_LEN, "X25519 key size");
_Static_assert(WG_XAEAD_NONCE_LEN <= EVP_AEAD_MAX_NONCE_LENGTH, "nonce size");

/* WireGuard's transport nonce (whitepaper section 5.4.6): 32 bits of zeros,
 * then the 64-bit counter little-endian. */
static void counter_nonce(uint8_t nonce[static WG_AEAD_NONCE_LEN],
    uint64_t counter)
{
	int i;

	memset(nonce, 0, 4);
	for (i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

static bool aead_seal(const EVP_AEAD *aead, uint8_t *dst, const uint8_t *src,
    size_t len, const uint8_t *ad, size_t adlen, const uint8_t *nonce,
    size_t noncelen, const uint8_t key[static WG_KEY_LEN])
{
	EVP_AEAD_CTX ctx;
	size_t outlen = 0;
	bool ok = false;

	if (len > SIZE_MAX - WG_AEAD_TAG_LEN)
		return false;
	if (!EVP_AEAD_CTX_init(&ctx, aead, key, WG_KEY_LEN, WG_AEAD_TAG_LEN,
	    NULL)) {
		ERR_clear_error();
		return false;
	}
	/* BoringSSL allows in == out exactly, which is the in-place case. */
	if (EVP_AEAD_CTX_seal(&ctx, dst, &outlen, len + WG_AEAD_TAG_LEN,
	    nonce, noncelen, src, len, ad, adlen) &&
	    outlen == len + WG_AEAD_TAG_LEN)
		ok = true;
	else
		ERR_clear_error();
	EVP_AEAD_CTX_cleanup(&ctx);
	return ok;
}

static bool aead_open(const EVP_AEAD *aead, uint8_t *dst, const uint8_t *src,
    size_t len, const uint8_t *ad, size_t adlen, const uint8_t *nonce,
    size_t noncelen, const uint8_t key[static WG_KEY_LEN])
{
	EVP_AEAD_CTX ctx;
	size_t outlen = 0;
	bool ok = false;

	if (len < WG_AEAD_TAG_LEN)
		return false;
	if (!EVP_AEAD_CTX_init(&ctx, aead, key, WG_KEY_LEN, WG_AEAD_TAG_LEN,
	    NULL)) {
		ERR_clear_error();
		return false;
	}
	if (EVP_AEAD_CTX_open(&ctx, dst, &outlen, len - WG_AEAD_TAG_LEN,
	    nonce, noncelen, src, len, ad, adlen) &&
	    outlen == len - WG_AEAD_TAG_LEN)
		ok = true;
	else
		/* A forged packet is not an error worth keeping: do not let
		 * BoringSSL's per-thread error queue fill with them. */
		ERR_clear_error();
	EVP_AEAD_CTX_cleanup(&ctx);
	return ok;
}

bool wg_aead_seal(uint8_t *dst, const uint8_t *src, size_t len,
    const uint8_t *ad, size_t adlen, uint64_t counter,
    const uint8_t key[static WG_KEY_LEN])
{
	uint8_t nonce[WG_AEAD_NONCE_LEN];

	counter_nonce(nonce, counter);
	return aead_seal(EVP_aead_chacha20_poly1305(), dst, src, len, ad,
	    adlen, nonce, sizeof(nonce), key);
}

bool wg_aead_open(uint8_t *dst, const uint8_t *src, size_t len,
    const uint8_t *ad, size_t adlen, uint64_t counter,
    const uint8_t key[static WG_KEY_LEN])
{
	uint8_t nonce[WG_AEAD_NONCE_LEN];

	counter_nonce(nonce, counter);
	return aead_open(EVP_aead_chacha20_poly1305(), dst, src, len, ad,
	    adlen, nonce, sizeof(nonce), key);
}

bool wg_aead_seal_nonce(uint8_t *dst, const uint8_t *src, size_t len,
    const uint8_t *ad, size_t adlen,
    const uint8_t nonce[static WG_AEAD_NONCE_LEN],
    const uint8_t key[static WG_KEY_LEN])
{
	return aead_seal(EVP_aead_chacha20_poly1305(), dst, src, len, ad,
	    adlen, nonce, WG_AEAD_NONCE_LEN, key);
}

bool wg_aead_open_nonce(uint8_t *dst, const uint8_t *src, size_t len,
    const uint8_t *ad, size_t adlen,
    const uint8_t nonce[static WG_AEAD_NONCE_LEN],
    const uint8_t key[static WG_KEY_LEN])
{
	return aead_open(EVP_aead_chacha20_poly1305(), dst, src, len, ad,
	    adlen, nonce, WG_AEAD_NONCE_LEN, key);
}

bool wg_xaead_seal(uint8_t *dst, const uint8_t *src, size_t len,
    const uint8_t *ad, size_t adlen,
    const uint8_t nonce[static WG_XAEAD_NONCE_LEN],
    const uint8_t key[static WG_KEY_LEN])
{
	return aead_seal(EVP_aead_xchacha20_poly1305(), dst, src, len, ad,
	    adlen, nonce, WG_XAEAD_NONCE_LEN, key);
}

bool wg_xaead_open(uint8_t *dst, const uint8_t *src, size_t len,
    const uint8_t *ad, size_t adlen,
    const uint8_t nonce[static WG_XAEAD_NONCE_LEN],
    const uint8_t key[static WG_KEY_LEN])
{
	return aead_open(EVP_aead_xchacha20_poly1305(), dst, src, len, ad,
	    adlen, nonce, WG_XAEAD_NONCE_LEN, key);
}

/* RFC 7748 section 5, decodeScalar25519.  BoringSSL clamps internally too;
 * WireGuard stores private keys clamped, so we clamp explicitly. */
void wg_x25519_clamp(uint8_t key[static WG_KEY_LEN])
{
	key[0] &= 248;
	key[31] &= 127;
	key[31] |= 64;
}

void wg_x25519_public_from_private(uint8_t pub[static WG_KEY_LEN],
    const uint8_t priv[static WG_KEY_LEN])
{
	X25519_public_from_private(pub, priv);
}

/* X25519() itself returns 0 when the result is all zeros (checked with
 * CRYPTO_memcmp), which is what a low-order point gives: WireGuard must
 * reject it (whitepaper section 5.4.2, Linux noise.c mix_dh). */
bool wg_x25519_dh(uint8_t shared[static WG_KEY_LEN],
    const uint8_t priv[static WG_KEY_LEN],
    const uint8_t pub[static WG_KEY_LEN])
{
	return X25519(shared, priv, pub) == 1;
}

void wg_random_bytes(uint8_t *buf, size_t len)
{
	/* BoringSSL's RAND_bytes cannot fail: it aborts if the OS has no
	 * entropy to give, which is the only safe answer for key material. */
	RAND_bytes(buf, len);
}

bool wg_equal_ct(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

bool wg_is_zero_ct(const void *a, size_t len)
{
	const volatile uint8_t *p = a;
	uint8_t acc = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		acc |= p[i];
		/* Hide acc from the optimiser so it cannot stop early once
		 * acc is 0xff. */
		__asm__ volatile("" : "+r"(acc));
	}
	/* (acc - 1) >> 8 is 1 only when acc was 0, with no branch on acc. */
	return 1 & (((unsigned int)acc - 1) >> 8);
}

