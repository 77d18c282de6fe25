/* Key encodings: known answers, round trips, and a differential test of the
 * constant-time code against a deliberately naive table-driven twin, over
 * every byte value at every position. */
#include <stdint.h>

#include "check.h"
#include "crypto/encoding.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The naive twin: index of c in the alphabet, or -1. */
static int naive_b64_value(unsigned char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(alphabet, c);
	return p ? (int)(p - alphabet) : -1;
}

static void naive_to_base64(char out[WG_KEY_BASE64_SIZE],
    const uint8_t key[WG_KEY_LEN])
{
	int bit, i;

	/* 44 digits of 6 bits = 264 bits: the key's 256 then zeros; the last
	 * digit is the padding. */
	for (i = 0; i < 43; i++) {
		int v = 0;

		for (bit = 0; bit < 6; bit++) {
			int n = 6 * i + bit;

			v <<= 1;
			if (n < 256)
				v |= (key[n / 8] >> (7 - n % 8)) & 1;
		}
		out[i] = alphabet[v];
	}
	out[43] = '=';
	out[44] = '\0';
}

static void test_known_answers(void)
{
	static const struct {
		const char *hex, *b64;
	} rows[] = {
		{ "0000000000000000000000000000000000000000000000000000000000000000",
		  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" },
		{ "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		  "//////////////////////////////////////////8=" },
		{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		  "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" },
		/* RFC 7748 section 6.1, Alice's public key. */
		{ "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
		  "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=" },
	};
	uint8_t key[WG_KEY_LEN], back[WG_KEY_LEN];
	char b64[WG_KEY_BASE64_SIZE], hex[WG_KEY_HEX_SIZE];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		CHECK(check_unhex(rows[i].hex, key, sizeof(key)) == WG_KEY_LEN);
		wg_key_to_base64(b64, key);
		CHECK(strcmp(b64, rows[i].b64) == 0);
		wg_key_to_hex(hex, key);
		CHECK(strcmp(hex, rows[i].hex) == 0);
		CHECK(wg_key_from_base64(back, rows[i].b64,
		    strlen(rows[i].b64)));
		CHECK_MEM(back, key, WG_KEY_LEN);
		CHECK(wg_key_from_hex(back, rows[i].hex, strlen(rows[i].hex)));
		CHECK_MEM(back, key, WG_KEY_LEN);
	}
}

static void test_round_trips(void)
{
	uint8_t key[WG_KEY_LEN], back[WG_KEY_LEN];
	char b64[WG_KEY_BASE64_SIZE], naive[WG_KEY_BASE64_SIZE],
	    hex[WG_KEY_HEX_SIZE];
	unsigned int x = 12345;
	int i, j;

	for (i = 0; i < 2000; i++) {
		/* A cheap deterministic generator, so a failure repeats. */
		for (j = 0; j < WG_KEY_LEN; j++) {
			x = x * 1103515245u + 12345u;
			key[j] = (uint8_t)(x >> 16);
		}
		wg_key_to_base64(b64, key);
		naive_to_base64(naive, key);
		CHECK(strcmp(b64, naive) == 0);
		CHECK(strlen(b64) == WG_KEY_BASE64_LEN);
		memset(back, 0, sizeof(back));
		CHECK(wg_key_from_base64(back, b64, WG_KEY_BASE64_LEN));
		CHECK_MEM(back, key, WG_KEY_LEN);

		wg_key_to_hex(hex, key);
		CHECK(strlen(hex) == WG_KEY_HEX_LEN);
		for (j = 0; j < WG_KEY_HEX_LEN; j++)
			CHECK(strchr("0123456789abcdef", hex[j]) != NULL);
		memset(back, 0, sizeof(back));
		CHECK(wg_key_from_hex(back, hex, WG_KEY_HEX_LEN));
		CHECK_MEM(back, key, WG_KEY_LEN);
	}
}

/* Every byte value at every one of the 44 positions of a valid string:
 * accepted exactly when the naive twin says it should be, and then to the
 * key the naive twin computes. */
static void test_base64_every_char(void)
{
	static const char good[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
	uint8_t key[WG_KEY_LEN];
	char s[WG_KEY_BASE64_SIZE], enc[WG_KEY_BASE64_SIZE];
	int pos, c, accepted = 0, rejected = 0;

	for (pos = 0; pos < WG_KEY_BASE64_LEN; pos++) {
		for (c = 0; c < 256; c++) {
			int v = naive_b64_value((unsigned char)c);
			bool expect, ok;

			memcpy(s, good, sizeof(s));
			s[pos] = (char)c;
			if (pos == 43)
				expect = c == '=';
			else if (pos == 42)
				/* 43rd digit: its 2 low bits fall past the
				 * key and must be zero. */
				expect = v >= 0 && (v & 3) == 0;
			else
				expect = v >= 0;
			ok = wg_key_from_base64(key, s, WG_KEY_BASE64_LEN);
			if (ok != expect) {
				CHECK_FAIL("position %d byte 0x%02x: %s", pos,
				    c, ok ? "accepted" : "rejected");
				continue;
			}
			if (!ok) {
				rejected++;
				CHECK(wg_is_zero_ct(key, WG_KEY_LEN));
				continue;
			}
			accepted++;
			/* The naive encoder maps the decoded key back to
			 * the very same text: decoding was exact. */
			naive_to_base64(enc, key);
			CHECK(strcmp(enc, s) == 0);
		}
	}
	/* 42 positions x 64 digits + 16 canonical last digits + '='. */
	CHECK(accepted == 42 * 64 + 16 + 1);
	CHECK(rejected == 44 * 256 - accepted);
}

static void test_base64_bad_inputs(void)
{
	static const char *const bad[] = {
		"",
		"=",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",	/* 43 */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",	/* 43 */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",	/* no = */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",/* 45 */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",	/* two = */
		"AAAAAAAAAAAAAAAAAAAAA=AAAAAAAAAAAAAAAAAAAAA=",	/* inner = */
		" AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA =",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=",	/* not canonical */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/=",	/* not canonical */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-A=",	/* base64url */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_A=",	/* base64url */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\xc3\xa9=",
		"0000000000000000000000000000000000000000000000000000000000000000",
	};
	uint8_t key[WG_KEY_LEN];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(key, 0x55, sizeof(key));
		if (wg_key_from_base64(key, bad[i], strlen(bad[i])))
			CHECK_FAIL("bad base64 %zu accepted", i);
		CHECK(wg_is_zero_ct(key, WG_KEY_LEN));
	}
	/* An embedded NUL is just a bad character. */
	{
		char s[WG_KEY_BASE64_SIZE] =
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

		CHECK(wg_key_from_base64(key, s, WG_KEY_BASE64_LEN));
		s[10] = '\0';
		CHECK(!wg_key_from_base64(key, s, WG_KEY_BASE64_LEN));
	}
	/* The length is the caller's: a valid key inside a longer buffer. */
	CHECK(wg_key_from_base64(key,
	    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\nnext line", 44));
	CHECK(key[31] == 0x1f);
}

static int naive_hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void test_hex_every_char(void)
{
	char s[WG_KEY_HEX_SIZE];
	uint8_t key[WG_KEY_LEN];
	int pos, c, i, accepted = 0;

	for (i = 0; i < WG_KEY_HEX_LEN; i++)
		s[i] = "0123456789abcdef"[(i * 7) % 16];
	s[WG_KEY_HEX_LEN] = '\0';
	for (pos = 0; pos < WG_KEY_HEX_LEN; pos++) {
		char saved = s[pos];

		for (c = 0; c < 256; c++) {
			int v = naive_hex_value((unsigned char)c);
			bool ok;

			s[pos] = (char)c;
			ok = wg_key_from_hex(key, s, WG_KEY_HEX_LEN);
			if (ok != (v >= 0)) {
				CHECK_FAIL("position %d byte 0x%02x: %s", pos,
				    c, ok ? "accepted" : "rejected");
				continue;
			}
			if (!ok) {
				CHECK(wg_is_zero_ct(key, WG_KEY_LEN));
				continue;
			}
			accepted++;
			/* The nibble decoded is the digit's value, the other
			 * nibble of that byte is untouched. */
			if (pos % 2 == 0)
				CHECK((key[pos / 2] >> 4) == v &&
				    (key[pos / 2] & 15) ==
				    naive_hex_value((unsigned char)s[pos + 1]));
			else
				CHECK((key[pos / 2] & 15) == v &&
				    (key[pos / 2] >> 4) ==
				    naive_hex_value((unsigned char)s[pos - 1]));
		}
		s[pos] = saved;
	}
	CHECK(accepted == WG_KEY_HEX_LEN * 22);
}

static void test_hex_bad_inputs(void)
{
	static const char *const bad[] = {
		"",
		"0",
		"000000000000000000000000000000000000000000000000000000000000000",
		"00000000000000000000000000000000000000000000000000000000000000000",
		"000000000000000000000000000000000000000000000000000000000000000g",
		"000000000000000000000000000000000000000000000000000000000000000 ",
		" 000000000000000000000000000000000000000000000000000000000000000",
		"0x00000000000000000000000000000000000000000000000000000000000000",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	};
	uint8_t key[WG_KEY_LEN];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(key, 0x55, sizeof(key));
		if (wg_key_from_hex(key, bad[i], strlen(bad[i])))
			CHECK_FAIL("bad hex %zu accepted", i);
		CHECK(wg_is_zero_ct(key, WG_KEY_LEN));
	}
	/* Upper case is read (wg and wireguard-go do), but never written. */
	CHECK(wg_key_from_hex(key,
	    "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
	    WG_KEY_HEX_LEN));
	CHECK(key[10] == 0x0a && key[31] == 0x1f);
}

int main(void)
{
	RUN(test_known_answers);
	RUN(test_round_trips);
	RUN(test_base64_every_char);
	RUN(test_base64_bad_inputs);
	RUN(test_hex_every_char);
	RUN(test_hex_bad_inputs);
	return check_summary();
}
