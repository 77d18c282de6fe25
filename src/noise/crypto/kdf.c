/* The KDF of the WireGuard paper (section 5.4), which is HKDF (RFC 5869)
 * with HMAC-BLAKE2s, a 32-byte chaining key as the salt, no info string,
 * and at most three 32-byte outputs:
 *
 *	tau0 = HMAC(C, input)			(HKDF-Extract: the PRK)
 *	tau1 = HMAC(tau0, 0x1)			(HKDF-Expand, T(1))
 *	tau2 = HMAC(tau0, tau1 || 0x2)		(T(2))
 *	tau3 = HMAC(tau0, tau2 || 0x3)		(T(3))
 */
#include <string.h>

#include "crypto/blake2s.h"
#include "crypto/kdf.h"
#include "crypto/primitives.h"

void wg_kdf(uint8_t out1[static WG_KDF_LEN], uint8_t *out2, uint8_t *out3,
    const uint8_t chaining_key[static WG_KDF_LEN],
    const uint8_t *input, size_t inlen)
{
	uint8_t prk[WG_KDF_LEN];
	/* T(i) followed by the counter byte of the next step. */
	uint8_t t[WG_KDF_LEN + 1];

	/* The chaining key and the input are read only here, so every output
	 * may alias either of them: the Noise core writes the new chaining
	 * key over the old one. */
	wg_hmac_blake2s(prk, input, inlen, chaining_key, WG_KDF_LEN);

	t[0] = 0x1;
	wg_hmac_blake2s(t, t, 1, prk, sizeof(prk));
	memcpy(out1, t, WG_KDF_LEN);
	if (out2 == NULL && out3 == NULL)
		goto out;

	t[WG_KDF_LEN] = 0x2;
	wg_hmac_blake2s(t, t, sizeof(t), prk, sizeof(prk));
	if (out2 != NULL)
		memcpy(out2, t, WG_KDF_LEN);
	if (out3 == NULL)
		goto out;

	t[WG_KDF_LEN] = 0x3;
	wg_hmac_blake2s(t, t, sizeof(t), prk, sizeof(prk));
	memcpy(out3, t, WG_KDF_LEN);

out:
	wg_wipe(prk, sizeof(prk));
	wg_wipe(t, sizeof(t));
}
