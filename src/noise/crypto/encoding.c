/* Constant-time key encodings.  Every character is computed, or decoded, by
 * evaluating all the alphabet's ranges with masks and OR-ing together the
 * one that matches; nothing branches on, or indexes memory by, a key bit.
 *
 * The masks work on unsigned int holding small values (< 2^16), so the
 * borrow of a - b lands in bit 31 exactly when a < b. */
#include <string.h>

#include "crypto/encoding.h"

/* All ones when a < b, else zero. */
static unsigned int mask_lt(unsigned int a, unsigned int b)
{
	return 0u - ((a - b) >> 31);
}

/* All ones when lo <= c <= hi, else zero. */
static unsigned int mask_in(unsigned int c, unsigned int lo, unsigned int hi)
{
	return ~mask_lt(c, lo) & mask_lt(c, hi + 1);
}

static unsigned int mask_eq(unsigned int a, unsigned int b)
{
	return mask_in(a, b, b);
}

/* One base64 digit for a 6-bit value. */
static char b64_char(unsigned int v)
{
	unsigned int c;

	c = (mask_in(v, 0, 25) & (v + 'A')) |
	    (mask_in(v, 26, 51) & (v - 26 + 'a')) |
	    (mask_in(v, 52, 61) & (v - 52 + '0')) |
	    (mask_eq(v, 62) & '+') |
	    (mask_eq(v, 63) & '/');
	return (char)c;
}

/* The 6-bit value of a base64 digit; ORs all ones into *bad if c is not
 * one. */
static unsigned int b64_value(unsigned char uc, unsigned int *bad)
{
	unsigned int c = uc, in_upper, in_lower, in_digit, is_plus, is_slash;

	in_upper = mask_in(c, 'A', 'Z');
	in_lower = mask_in(c, 'a', 'z');
	in_digit = mask_in(c, '0', '9');
	is_plus = mask_eq(c, '+');
	is_slash = mask_eq(c, '/');
	*bad |= ~(in_upper | in_lower | in_digit | is_plus | is_slash);
	return ((in_upper & (c - 'A')) | (in_lower & (c - 'a' + 26)) |
	    (in_digit & (c - '0' + 52)) | (is_plus & 62) | (is_slash & 63)) &
	    63;
}

/* 32 bytes are ten 3-byte groups (40 digits) and 2 bytes left over, which
 * take 3 digits and one '=' of padding. */
void wg_key_to_base64(char out[static WG_KEY_BASE64_SIZE],
    const uint8_t key[static WG_KEY_LEN])
{
	uint32_t group;
	int i;

	for (i = 0; i < WG_KEY_LEN / 3; i++) {
		group = (uint32_t)key[3 * i] << 16 |
		    (uint32_t)key[3 * i + 1] << 8 | key[3 * i + 2];
		out[4 * i] = b64_char(group >> 18);
		out[4 * i + 1] = b64_char((group >> 12) & 63);
		out[4 * i + 2] = b64_char((group >> 6) & 63);
		out[4 * i + 3] = b64_char(group & 63);
	}
	group = (uint32_t)key[30] << 16 | (uint32_t)key[31] << 8;
	out[40] = b64_char(group >> 18);
	out[41] = b64_char((group >> 12) & 63);
	out[42] = b64_char((group >> 6) & 63);
	out[43] = '=';
	out[44] = '\0';
}

bool wg_key_from_base64(uint8_t key[static WG_KEY_LEN], const char *b64,
    size_t len)
{
	const unsigned char *s = (const unsigned char *)b64;
	uint8_t tmp[WG_KEY_LEN];
	unsigned int bad = 0;
	uint32_t group;
	int i, j;
	bool ok;

	memset(key, 0, WG_KEY_LEN);
	if (len != WG_KEY_BASE64_LEN || s[WG_KEY_BASE64_LEN - 1] != '=')
		return false;
	for (i = 0; i < WG_KEY_LEN / 3; i++) {
		group = 0;
		for (j = 0; j < 4; j++)
			group = group << 6 | b64_value(s[4 * i + j], &bad);
		tmp[3 * i] = (uint8_t)(group >> 16);
		tmp[3 * i + 1] = (uint8_t)(group >> 8);
		tmp[3 * i + 2] = (uint8_t)group;
	}
	group = 0;
	for (j = 0; j < 3; j++)
		group = group << 6 | b64_value(s[40 + j], &bad);
	/* 18 bits carry 16: the 2 low bits must be zero, or the text is not
	 * the canonical encoding of any key (and wg would reject it). */
	bad |= ~mask_eq(group & 3, 0);
	tmp[30] = (uint8_t)(group >> 10);
	tmp[31] = (uint8_t)(group >> 2);

	ok = bad == 0;
	if (ok)
		memcpy(key, tmp, WG_KEY_LEN);
	wg_wipe(tmp, sizeof(tmp));
	return ok;
}

static char hex_char(unsigned int n)
{
	return (char)((mask_lt(n, 10) & (n + '0')) |
	    (~mask_lt(n, 10) & (n - 10 + 'a')));
}

static unsigned int hex_value(unsigned char uc, unsigned int *bad)
{
	unsigned int c = uc, folded = c | 0x20, in_digit, in_letter;

	/* Only 'A'-'F' fold into 'a'-'f' under | 0x20; the digits already
	 * have that bit set. */
	in_digit = mask_in(c, '0', '9');
	in_letter = mask_in(folded, 'a', 'f');
	*bad |= ~(in_digit | in_letter);
	return ((in_digit & (c - '0')) | (in_letter & (folded - 'a' + 10))) &
	    15;
}

void wg_key_to_hex(char out[static WG_KEY_HEX_SIZE],
    const uint8_t key[static WG_KEY_LEN])
{
	int i;

	for (i = 0; i < WG_KEY_LEN; i++) {
		out[2 * i] = hex_char(key[i] >> 4);
		out[2 * i + 1] = hex_char(key[i] & 15);
	}
	out[WG_KEY_HEX_LEN] = '\0';
}

bool wg_key_from_hex(uint8_t key[static WG_KEY_LEN], const char *hex,
    size_t len)
{
	const unsigned char *s = (const unsigned char *)hex;
	uint8_t tmp[WG_KEY_LEN];
	unsigned int bad = 0;
	int i;
	bool ok;

	memset(key, 0, WG_KEY_LEN);
	if (len != WG_KEY_HEX_LEN)
		return false;
	for (i = 0; i < WG_KEY_LEN; i++)
		tmp[i] = (uint8_t)(hex_value(s[2 * i], &bad) << 4 |
		    hex_value(s[2 * i + 1], &bad));
	ok = bad == 0;
	if (ok)
		memcpy(key, tmp, WG_KEY_LEN);
	wg_wipe(tmp, sizeof(tmp));
	return ok;
}
