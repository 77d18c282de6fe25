/* The log's hash chain: BLAKE2s over the previous value and the line. */
#include <string.h>

#include "crypto/blake2s.h"
#include "hub/chain.h"

static const char MEMBER_HEAD[] = ",\"chain\":\"";

void chain_next(uint8_t out[static CHAIN_LEN],
    const uint8_t prev[static CHAIN_LEN], const char *body, size_t len)
{
	struct wg_blake2s s;

	wg_blake2s_init(&s, CHAIN_LEN);
	wg_blake2s_update(&s, prev, CHAIN_LEN);
	wg_blake2s_update(&s, (const uint8_t *)body, len);
	wg_blake2s_final(&s, out);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

bool chain_unhex(uint8_t *out, const char *in, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int hi = hexval(in[2 * i]), lo = hexval(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

void chain_hex(char *out, const uint8_t *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
}

bool chain_split(const char *line, size_t len, size_t *bodylen,
    uint8_t chain[static CHAIN_LEN])
{
	const char *m;

	/* The body holds at least '{' and one byte of a member. */
	if (len < CHAIN_MEMBER_LEN + 2 || line[0] != '{')
		return false;
	m = line + len - CHAIN_MEMBER_LEN;
	if (memcmp(m, MEMBER_HEAD, sizeof(MEMBER_HEAD) - 1) != 0 ||
	    memcmp(line + len - 2, "\"}", 2) != 0 ||
	    !chain_unhex(chain, m + sizeof(MEMBER_HEAD) - 1, CHAIN_LEN))
		return false;
	*bodylen = len - CHAIN_MEMBER_LEN;
	return true;
}

void chain_member(char out[static CHAIN_MEMBER_LEN],
    const uint8_t chain[static CHAIN_LEN])
{
	memcpy(out, MEMBER_HEAD, sizeof(MEMBER_HEAD) - 1);
	chain_hex(out + sizeof(MEMBER_HEAD) - 1, chain, CHAIN_LEN);
	memcpy(out + CHAIN_MEMBER_LEN - 2, "\"}", 2);
}
