/* BLAKE2s and HMAC-BLAKE2s: the RFC 7693 examples and self-test, the 512
 * reference known answers, streaming against one-shot at every split, the
 * keyed 16-byte form MAC1 uses, and HMAC's key handling (RFC 2104). */
#include <stdint.h>

#include <cjson/cJSON.h>

#include "testutil.h"
#include "crypto/blake2s.h"

/* RFC 7693 Appendix B: BLAKE2s-256("abc"). */
static void test_rfc7693_abc(void)
{
	uint8_t expect[32], out[32];

	unhex("508c5e8c327c14e2e1a72ba34eeb452f"
	    "37458b209ed63a294d999b4c86675982", expect, sizeof(expect));
	wg_blake2s(out, 32, (const uint8_t *)"abc", 3, NULL, 0);
	CHECK_MEM(out, expect, 32);
}

/* RFC 7693 Appendix E: a Fibonacci-like generator of test inputs. */
static void selftest_seq(uint8_t *out, size_t len, uint32_t seed)
{
	uint32_t a = 0xDEAD4BADu * seed, b = 1, t;
	size_t i;

	for (i = 0; i < len; i++) {
		t = a + b;
		a = b;
		b = t;
		out[i] = (uint8_t)(t >> 24);
	}
}

/* RFC 7693 Appendix E: the "grand hash" of keyed and unkeyed hashes over a
 * grid of output and input lengths, fed through the streaming interface. */
static void test_rfc7693_selftest(void)
{
	static const size_t md_len[] = { 16, 20, 28, 32 };
	static const size_t in_len[] = { 0, 3, 64, 65, 255, 1024 };
	uint8_t expect[32], in[1024], md[32], key[32], out[32];
	struct wg_blake2s grand;
	size_t i, j;

	unhex("6a411f08ce25adcdfb02aba641451cec"
	    "53c598b24f4fc787fbdc88797f4c1dfe", expect, sizeof(expect));

	wg_blake2s_init(&grand, 32);
	for (i = 0; i < sizeof(md_len) / sizeof(md_len[0]); i++) {
		size_t outlen = md_len[i];

		for (j = 0; j < sizeof(in_len) / sizeof(in_len[0]); j++) {
			size_t inlen = in_len[j];

			selftest_seq(in, inlen, (uint32_t)inlen);
			wg_blake2s(md, outlen, in, inlen, NULL, 0);
			wg_blake2s_update(&grand, md, outlen);

			selftest_seq(key, outlen, (uint32_t)outlen);
			wg_blake2s(md, outlen, in, inlen, key, outlen);
			wg_blake2s_update(&grand, md, outlen);
		}
	}
	wg_blake2s_final(&grand, out);
	CHECK_MEM(out, expect, 32);
}

/* Runs every entry of blake2s_kat.json whose key is (keyed) or is not
 * (!keyed) empty, one-shot and streamed a byte at a time. */
static void run_kat(int keyed)
{
	cJSON *root, *item;
	int index = -1, count = 0;

	root = load_json("blake2s_kat.json");
	if (!cJSON_IsArray(root)) {
		CHECK_FAIL("blake2s_kat.json: not a JSON array");
		cJSON_Delete(root);
		return;
	}

	cJSON_ArrayForEach(item, root) {
		const char *hash, *inhex, *keyhex, *outhex;
		uint8_t in[256], key[32], expect[32], out[32];
		struct wg_blake2s s;
		long inlen, keylen;
		long i;

		index++;
		hash = cJSON_GetStringValue(cJSON_GetObjectItem(item, "hash"));
		inhex = cJSON_GetStringValue(cJSON_GetObjectItem(item, "in"));
		keyhex = cJSON_GetStringValue(cJSON_GetObjectItem(item, "key"));
		outhex = cJSON_GetStringValue(cJSON_GetObjectItem(item, "out"));
		if (hash == NULL || inhex == NULL || keyhex == NULL ||
		    outhex == NULL) {
			CHECK_FAIL("vector %d: missing field", index);
			continue;
		}
		if (strcmp(hash, "blake2s") != 0 ||
		    (keyhex[0] != '\0') != (keyed != 0))
			continue;
		inlen = check_unhex(inhex, in, sizeof(in));
		keylen = check_unhex(keyhex, key, sizeof(key));
		if (inlen < 0 || keylen < 0 ||
		    check_unhex(outhex, expect, sizeof(expect)) != 32) {
			CHECK_FAIL("vector %d: bad hex", index);
			continue;
		}
		count++;

		wg_blake2s(out, 32, in, (size_t)inlen, key, (size_t)keylen);
		if (memcmp(out, expect, 32) != 0)
			CHECK_FAIL("vector %d (%s, inlen %ld): one-shot differs",
			    index, keyed ? "keyed" : "unkeyed", inlen);

		wg_blake2s_init_key(&s, 32, key, (size_t)keylen);
		for (i = 0; i < inlen; i++)
			wg_blake2s_update(&s, in + i, 1);
		wg_blake2s_final(&s, out);
		if (memcmp(out, expect, 32) != 0)
			CHECK_FAIL("vector %d (%s, inlen %ld): streamed differs",
			    index, keyed ? "keyed" : "unkeyed", inlen);
	}
	cJSON_Delete(root);

	/* The file holds inputs of length 0..255 for each form. */
	if (count != 256)
		CHECK_FAIL("%d %s vectors, expected 256", count,
		    keyed ? "keyed" : "unkeyed");
}

static void test_kat_unkeyed(void)
{
	run_kat(0);
}

static void test_kat_keyed(void)
{
	run_kat(1);
}

/* Splits the input into three updates at every pair of positions: this
 * walks each boundary case of the buffer (empty, partial, exactly full, one
 * over) that the "keep the last block" rule of update() must get right. */
static void test_streaming_splits(void)
{
	static const size_t lengths[] = { 0, 1, 63, 64, 65, 127, 128, 129, 200 };
	uint8_t in[200], key[32], want[32], got[32];
	size_t n, i, j, k;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7 + 3);
	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0xa0 + i);

	for (n = 0; n < sizeof(lengths) / sizeof(lengths[0]); n++) {
		size_t len = lengths[n];

		for (k = 0; k <= 32; k += 32) {
			wg_blake2s(want, 32, in, len, key, k);
			for (i = 0; i <= len; i++) {
				for (j = i; j <= len; j++) {
					struct wg_blake2s s;

					wg_blake2s_init_key(&s, 32, key, k);
					wg_blake2s_update(&s, in, i);
					wg_blake2s_update(&s, in + i, j - i);
					wg_blake2s_update(&s, in + j, len - j);
					wg_blake2s_final(&s, got);
					if (memcmp(got, want, 32) != 0) {
						CHECK_FAIL("len %zu keylen %zu "
						    "split %zu/%zu differs",
						    len, k, i, j);
						return;
					}
				}
			}
		}
	}
}

/* final() must leave nothing of the state behind. */
static void test_final_wipes(void)
{
	static const uint8_t zero[sizeof(struct wg_blake2s)];
	struct wg_blake2s s;
	uint8_t out[32];

	wg_blake2s_init_key(&s, 32, (const uint8_t *)"secret", 6);
	wg_blake2s_update(&s, (const uint8_t *)"abc", 3);
	wg_blake2s_final(&s, out);
	CHECK_MEM(&s, zero, sizeof(s));
}

/* The MAC1 shape: a 32-byte key and a 16-byte output over the 116 bytes of
 * an initiation that precede mac1.  Expected value from Python's
 * hashlib.blake2s(bytes(range(116)), key=bytes(range(32)), digest_size=16).
 * The output length is in the parameter block, so it is not a prefix of
 * the 32-byte hash. */
static void test_keyed_16(void)
{
	uint8_t in[116], key[32], expect[16], out[16], out32[32];
	size_t i;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	unhex("072e94ffbfc684bd8ab2a1b9dade2fd5", expect,
	    sizeof(expect));

	memset(out, 0, sizeof(out));
	wg_blake2s(out, 16, in, sizeof(in), key, sizeof(key));
	CHECK_MEM(out, expect, 16);

	wg_blake2s(out32, 32, in, sizeof(in), key, sizeof(key));
	CHECK(memcmp(out32, out, 16) != 0);
}

/* HMAC-BLAKE2s against Python's hmac.new(key, msg, hashlib.blake2s), with a
 * short key, a key of exactly one block, and a key longer than a block. */
static void test_hmac_known(void)
{
	static const char fox[] = "The quick brown fox jumps over the lazy dog";
	uint8_t key[100], expect[32], out[32];
	size_t i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;

	unhex("f93215bb90d4af4c3061cd932fb169fb"
	    "8bb8a91d0b4022baea1271e1323cd9a0", expect, sizeof(expect));
	wg_hmac_blake2s(out, (const uint8_t *)fox, strlen(fox),
	    (const uint8_t *)"key", 3);
	CHECK_MEM(out, expect, 32);

	unhex("3a0ef09eac123871fb79852ec512086d"
	    "013abff437bd68ca03630932bd6ba81f", expect, sizeof(expect));
	wg_hmac_blake2s(out, (const uint8_t *)"abc", 3, key, 64);
	CHECK_MEM(out, expect, 32);

	unhex("62bc55ee982e83e9f80ff756c037bac8"
	    "35c4201c91817685b52396da1482a6e4", expect, sizeof(expect));
	wg_hmac_blake2s(out, (const uint8_t *)fox, strlen(fox), key, 100);
	CHECK_MEM(out, expect, 32);
}

/* RFC 2104 section 2's key rules, as identities: a key longer than the
 * block is replaced by its hash; a key of exactly one block is not hashed;
 * a shorter key is padded with zeros, so trailing zeros do not matter. */
static void test_hmac_key_rules(void)
{
	uint8_t key[65], hashed[32], padded[8] = { 'k', 'e', 'y' };
	static const uint8_t zeros[32];
	uint8_t a[32], b[32];
	size_t i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0x55 ^ i);

	wg_blake2s(hashed, 32, key, 65, NULL, 0);
	wg_hmac_blake2s(a, (const uint8_t *)"msg", 3, key, 65);
	wg_hmac_blake2s(b, (const uint8_t *)"msg", 3, hashed, 32);
	CHECK_MEM(a, b, 32);

	wg_blake2s(hashed, 32, key, 64, NULL, 0);
	wg_hmac_blake2s(a, (const uint8_t *)"msg", 3, key, 64);
	wg_hmac_blake2s(b, (const uint8_t *)"msg", 3, hashed, 32);
	CHECK(memcmp(a, b, 32) != 0);

	wg_hmac_blake2s(a, (const uint8_t *)"msg", 3, padded, 3);
	wg_hmac_blake2s(b, (const uint8_t *)"msg", 3, padded, sizeof(padded));
	CHECK_MEM(a, b, 32);
	/* So an empty key is the same as an all-zero one. */
	wg_hmac_blake2s(a, NULL, 0, NULL, 0);
	wg_hmac_blake2s(b, NULL, 0, zeros, sizeof(zeros));
	CHECK_MEM(a, b, 32);
}

/* The KDF hashes in place: out may be the key or the input buffer. */
static void test_hmac_aliasing(void)
{
	uint8_t key[32], in[32], want[32], buf[32];
	size_t i;

	for (i = 0; i < 32; i++) {
		key[i] = (uint8_t)(i + 1);
		in[i] = (uint8_t)(0xf0 - i);
	}
	wg_hmac_blake2s(want, in, sizeof(in), key, sizeof(key));

	memcpy(buf, key, 32);
	wg_hmac_blake2s(buf, in, sizeof(in), buf, sizeof(buf));
	CHECK_MEM(buf, want, 32);

	memcpy(buf, in, 32);
	wg_hmac_blake2s(buf, buf, sizeof(buf), key, sizeof(key));
	CHECK_MEM(buf, want, 32);
}

int main(void)
{
	RUN(test_rfc7693_abc);
	RUN(test_rfc7693_selftest);
	RUN(test_kat_unkeyed);
	RUN(test_kat_keyed);
	RUN(test_streaming_splits);
	RUN(test_final_wipes);
	RUN(test_keyed_16);
	RUN(test_hmac_known);
	RUN(test_hmac_key_rules);
	RUN(test_hmac_aliasing);
	return check_summary();
}
