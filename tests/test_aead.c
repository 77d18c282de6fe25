/* ChaCha20-Poly1305 and XChaCha20-Poly1305 as primitives.h wraps them:
 * Wycheproof's vectors in full, RFC 8439's known answers, forgeries, the
 * in-place form and WireGuard's counter nonce. */
#include <stdint.h>
#include <cjson/cJSON.h>

#include "testutil.h"
#include "crypto/primitives.h"

/* Decodes a hex string into a fresh heap buffer (never NULL on success, even
 * for ""); fails the current test and returns NULL on bad hex. */
static uint8_t *unhex_alloc(const char *hex, size_t *len)
{
	size_t cap = strlen(hex) / 2;
	uint8_t *buf = malloc(cap + 1);
	long n;

	if (buf == NULL) {
		CHECK_FAIL("out of memory");
		return NULL;
	}
	n = check_unhex(hex, buf, cap);
	if (n < 0) {
		CHECK_FAIL("bad hex in vector: %.40s", hex);
		free(buf);
		return NULL;
	}
	*len = (size_t)n;
	return buf;
}

enum aead_kind { CHACHA, XCHACHA };

static bool seal(enum aead_kind kind, uint8_t *dst, const uint8_t *src,
    size_t len, const uint8_t *ad, size_t adlen, const uint8_t *nonce,
    const uint8_t *key)
{
	if (kind == CHACHA)
		return wg_aead_seal_nonce(dst, src, len, ad, adlen, nonce, key);
	return wg_xaead_seal(dst, src, len, ad, adlen, nonce, key);
}

static bool open_(enum aead_kind kind, uint8_t *dst, const uint8_t *src,
    size_t len, const uint8_t *ad, size_t adlen, const uint8_t *nonce,
    const uint8_t *key)
{
	if (kind == CHACHA)
		return wg_aead_open_nonce(dst, src, len, ad, adlen, nonce, key);
	return wg_xaead_open(dst, src, len, ad, adlen, nonce, key);
}

struct wycheproof_case {
	uint8_t *key, *iv, *aad, *msg, *ct, *tag;
	size_t keylen, ivlen, aadlen, msglen, ctlen, taglen;
};

static void free_case(struct wycheproof_case *c)
{
	free(c->key);
	free(c->iv);
	free(c->aad);
	free(c->msg);
	free(c->ct);
	free(c->tag);
}

static bool load_case(const cJSON *t, struct wycheproof_case *c)
{
	const char *key = json_str(t, "key"), *iv = json_str(t, "iv"),
	    *aad = json_str(t, "aad"), *msg = json_str(t, "msg"),
	    *ct = json_str(t, "ct"), *tag = json_str(t, "tag");

	memset(c, 0, sizeof(*c));
	if (!key || !iv || !aad || !msg || !ct || !tag) {
		CHECK_FAIL("test case lacks a field");
		return false;
	}
	c->key = unhex_alloc(key, &c->keylen);
	c->iv = unhex_alloc(iv, &c->ivlen);
	c->aad = unhex_alloc(aad, &c->aadlen);
	c->msg = unhex_alloc(msg, &c->msglen);
	c->ct = unhex_alloc(ct, &c->ctlen);
	c->tag = unhex_alloc(tag, &c->taglen);
	return c->key && c->iv && c->aad && c->msg && c->ct && c->tag;
}

/* Runs one case whose key and nonce sizes the API takes.  Returns false
 * when it failed. */
static bool run_case(enum aead_kind kind, const struct wycheproof_case *c,
    bool valid)
{
	size_t sealed_len = c->ctlen + c->taglen;
	uint8_t *expect = malloc(sealed_len + 1), *out = malloc(sealed_len + 1);
	bool ok = true;

	if (expect == NULL || out == NULL) {
		free(expect);
		free(out);
		return false;
	}
	memcpy(expect, c->ct, c->ctlen);
	memcpy(expect + c->ctlen, c->tag, c->taglen);

	if (valid) {
		/* Seal must give exactly ct||tag, then open must give msg
		 * back. */
		if (c->taglen != WG_AEAD_TAG_LEN || c->ctlen != c->msglen ||
		    !seal(kind, out, c->msg, c->msglen, c->aad, c->aadlen,
		    c->iv, c->key) ||
		    memcmp(out, expect, sealed_len) != 0)
			ok = false;
		if (!open_(kind, out, expect, sealed_len, c->aad, c->aadlen,
		    c->iv, c->key) || memcmp(out, c->msg, c->msglen) != 0)
			ok = false;
	} else {
		if (open_(kind, out, expect, sealed_len, c->aad, c->aadlen,
		    c->iv, c->key))
			ok = false;
	}
	free(expect);
	free(out);
	return ok;
}

static void run_wycheproof(const char *file, enum aead_kind kind)
{
	size_t want_iv = kind == CHACHA ? WG_AEAD_NONCE_LEN : WG_XAEAD_NONCE_LEN;
	int checked = 0, skipped = 0, total;
	const cJSON *groups, *group, *tests, *t, *num;
	cJSON *root = load_json(file);

	if (root == NULL)
		return;
	groups = cJSON_GetObjectItemCaseSensitive(root, "testGroups");
	cJSON_ArrayForEach(group, groups) {
		tests = cJSON_GetObjectItemCaseSensitive(group, "tests");
		cJSON_ArrayForEach(t, tests) {
			struct wycheproof_case c;
			const char *result = json_str(t, "result");
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(t,
			    "tcId");
			bool valid = result && strcmp(result, "valid") == 0;

			if (!load_case(t, &c) || result == NULL) {
				free_case(&c);
				continue;
			}
			if (c.keylen != WG_KEY_LEN || c.ivlen != want_iv) {
				/* primitives.h has no way to pass such a
				 * key or nonce; only invalid cases may be
				 * of that kind. */
				if (valid)
					CHECK_FAIL("%s tcId %d: valid case "
					    "with a %zu-byte nonce", file,
					    id ? id->valueint : -1, c.ivlen);
				skipped++;
				free_case(&c);
				continue;
			}
			if (!run_case(kind, &c, valid))
				CHECK_FAIL("%s tcId %d (%s) failed", file,
				    id ? id->valueint : -1, result);
			checked++;
			free_case(&c);
		}
	}
	num = cJSON_GetObjectItemCaseSensitive(root, "numberOfTests");
	total = cJSON_IsNumber(num) ? num->valueint : -1;
	CHECK(checked + skipped == total);
	CHECK(checked > 0);
	printf("     %s: %d cases checked, %d skipped (nonce size the API "
	    "cannot express), %d in file\n", file, checked, skipped, total);
	cJSON_Delete(root);
}

static void test_wycheproof_chacha20_poly1305(void)
{
	run_wycheproof("wycheproof_chacha20_poly1305_test.json", CHACHA);
}

static void test_wycheproof_xchacha20_poly1305(void)
{
	run_wycheproof("wycheproof_xchacha20_poly1305_test.json", XCHACHA);
}

/* RFC 8439 section 2.8.2. */
static void test_rfc8439_2_8_2(void)
{
	static const char plaintext[] = "Ladies and Gentlemen of the class "
	    "of '99: If I could offer you only one tip for the future, "
	    "sunscreen would be it.";
	static const char ct_hex[] =
	    "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
	    "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
	    "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
	    "3ff4def08e4b7a9de576d26586cec64b6116"
	    "1ae10b594f09e26a7e902ecbd0600691";
	enum { LEN = sizeof(plaintext) - 1 };
	uint8_t key[WG_KEY_LEN], nonce[WG_AEAD_NONCE_LEN], ad[12];
	uint8_t expect[LEN + WG_AEAD_TAG_LEN], out[LEN + WG_AEAD_TAG_LEN];
	int i;

	CHECK(LEN == 114);
	for (i = 0; i < WG_KEY_LEN; i++)
		key[i] = (uint8_t)(0x80 + i);
	unhex("070000004041424344454647", nonce, sizeof(nonce));
	unhex("50515253c0c1c2c3c4c5c6c7", ad, sizeof(ad));
	unhex(ct_hex, expect, sizeof(expect));

	CHECK(wg_aead_seal_nonce(out, (const uint8_t *)plaintext, LEN, ad,
	    sizeof(ad), nonce, key));
	CHECK_MEM(out, expect, sizeof(expect));
	memset(out, 0, sizeof(out));
	CHECK(wg_aead_open_nonce(out, expect, sizeof(expect), ad, sizeof(ad),
	    nonce, key));
	CHECK_MEM(out, plaintext, LEN);
}

/* RFC 8439 appendix A.5.  Its nonce, 00000000 0102030405060708, is exactly
 * WireGuard's layout for the counter 0x0807060504030201, so this is also a
 * known answer for wg_aead_seal/open. */
static void test_rfc8439_a5_counter_nonce(void)
{
	static const char plaintext[] = "Internet-Drafts are draft documents "
	    "valid for a maximum of six months and may be updated, replaced, "
	    "or obsoleted by other documents at any time. It is inappropriate "
	    "to use Internet-Drafts as reference material or to cite them "
	    "other than as /\xe2\x80\x9cwork in progress./\xe2\x80\x9d";
	static const char sealed_hex[] =
	    "64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2"
	    "4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf"
	    "332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855"
	    "9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4"
	    "b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e"
	    "af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a"
	    "0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10"
	    "49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29"
	    "a6ad5cb4022b02709b"
	    "eead9d67890cbb22392336fea1851f38";
	enum { LEN = sizeof(plaintext) - 1 };
	const uint64_t counter = 0x0807060504030201ULL;
	uint8_t key[WG_KEY_LEN], ad[12];
	uint8_t expect[LEN + WG_AEAD_TAG_LEN], out[LEN + WG_AEAD_TAG_LEN];

	CHECK(LEN == 265);
	unhex("1c9240a5eb55d38af333888604f6b5f0"
	    "473917c1402b80099dca5cbc207075c0", key, sizeof(key));
	unhex("f33388860000000000004e91", ad, sizeof(ad));
	unhex(sealed_hex, expect, sizeof(expect));

	CHECK(wg_aead_seal(out, (const uint8_t *)plaintext, LEN, ad,
	    sizeof(ad), counter, key));
	CHECK_MEM(out, expect, sizeof(expect));
	memset(out, 0, sizeof(out));
	CHECK(wg_aead_open(out, expect, sizeof(expect), ad, sizeof(ad),
	    counter, key));
	CHECK_MEM(out, plaintext, LEN);
	/* The counter's byte order matters. */
	CHECK(!wg_aead_open(out, expect, sizeof(expect), ad, sizeof(ad),
	    0x0102030405060708ULL, key));
}

static void fill(uint8_t *p, size_t len, uint8_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + 7 * i);
}

/* A single flipped bit anywhere in tag, ciphertext or AD, or the wrong
 * counter or key, must make open fail. */
static void test_forgeries_rejected(void)
{
	enum { LEN = 100, ADLEN = 32 };
	uint8_t key[WG_KEY_LEN], ad[ADLEN], msg[LEN];
	uint8_t sealed[LEN + WG_AEAD_TAG_LEN], out[LEN + WG_AEAD_TAG_LEN];
	size_t bit;

	fill(key, sizeof(key), 1);
	fill(ad, sizeof(ad), 2);
	fill(msg, sizeof(msg), 3);
	CHECK(wg_aead_seal(sealed, msg, LEN, ad, ADLEN, 42, key));
	CHECK(wg_aead_open(out, sealed, sizeof(sealed), ad, ADLEN, 42, key));
	CHECK_MEM(out, msg, LEN);

	for (bit = 0; bit < 8 * sizeof(sealed); bit++) {
		sealed[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (wg_aead_open(out, sealed, sizeof(sealed), ad, ADLEN, 42,
		    key))
			CHECK_FAIL("flipped bit %zu of %s accepted", bit,
			    bit / 8 < LEN ? "ciphertext" : "tag");
		sealed[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	for (bit = 0; bit < 8 * ADLEN; bit++) {
		ad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (wg_aead_open(out, sealed, sizeof(sealed), ad, ADLEN, 42,
		    key))
			CHECK_FAIL("flipped bit %zu of AD accepted", bit);
		ad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	CHECK(!wg_aead_open(out, sealed, sizeof(sealed), ad, ADLEN - 1, 42,
	    key));
	CHECK(!wg_aead_open(out, sealed, sizeof(sealed), ad, ADLEN, 43, key));
	CHECK(!wg_aead_open(out, sealed, sizeof(sealed) - 1, ad, ADLEN, 42,
	    key));
	key[5] ^= 0x10;
	CHECK(!wg_aead_open(out, sealed, sizeof(sealed), ad, ADLEN, 42, key));
	key[5] ^= 0x10;
	/* Still intact after all that. */
	CHECK(wg_aead_open(out, sealed, sizeof(sealed), ad, ADLEN, 42, key));
}

static void test_xaead_forgeries_rejected(void)
{
	enum { LEN = 48 };
	uint8_t key[WG_KEY_LEN], nonce[WG_XAEAD_NONCE_LEN], msg[LEN];
	uint8_t sealed[LEN + WG_AEAD_TAG_LEN], out[LEN + WG_AEAD_TAG_LEN];
	size_t bit;

	fill(key, sizeof(key), 9);
	fill(nonce, sizeof(nonce), 10);
	fill(msg, sizeof(msg), 11);
	CHECK(wg_xaead_seal(sealed, msg, LEN, NULL, 0, nonce, key));
	CHECK(wg_xaead_open(out, sealed, sizeof(sealed), NULL, 0, nonce, key));
	CHECK_MEM(out, msg, LEN);
	for (bit = 0; bit < 8 * sizeof(sealed); bit++) {
		sealed[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (wg_xaead_open(out, sealed, sizeof(sealed), NULL, 0, nonce,
		    key))
			CHECK_FAIL("flipped bit %zu accepted", bit);
		sealed[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	nonce[23] ^= 1;
	CHECK(!wg_xaead_open(out, sealed, sizeof(sealed), NULL, 0, nonce,
	    key));
}

/* Too short to hold a tag: rejected without reading past the buffer. */
static void test_short_input_rejected(void)
{
	uint8_t key[WG_KEY_LEN] = { 0 }, buf[WG_AEAD_TAG_LEN], out[1];
	uint8_t nonce[WG_XAEAD_NONCE_LEN] = { 0 };
	size_t len;

	fill(buf, sizeof(buf), 0);
	for (len = 0; len < WG_AEAD_TAG_LEN; len++) {
		CHECK(!wg_aead_open(out, buf, len, NULL, 0, 0, key));
		CHECK(!wg_xaead_open(out, buf, len, NULL, 0, nonce, key));
	}
	/* The empty message: just a tag, and it must verify. */
	CHECK(wg_aead_seal(buf, NULL, 0, NULL, 0, 7, key));
	CHECK(wg_aead_open(out, buf, WG_AEAD_TAG_LEN, NULL, 0, 7, key));
	CHECK(!wg_aead_open(out, buf, WG_AEAD_TAG_LEN, NULL, 0, 8, key));
}

/* dst == src, as the data path will encrypt packets in their buffer. */
static void test_in_place(void)
{
	enum { LEN = 1420 };
	static uint8_t msg[LEN], ref[LEN + WG_AEAD_TAG_LEN],
	    buf[LEN + WG_AEAD_TAG_LEN];
	uint8_t key[WG_KEY_LEN], ad[16], xnonce[WG_XAEAD_NONCE_LEN];
	size_t len;

	fill(key, sizeof(key), 20);
	fill(ad, sizeof(ad), 21);
	fill(xnonce, sizeof(xnonce), 22);
	fill(msg, sizeof(msg), 23);
	for (len = 0; len <= LEN; len += len < 70 ? 1 : 450) {
		CHECK(wg_aead_seal(ref, msg, len, ad, sizeof(ad), 99, key));
		memcpy(buf, msg, len);
		CHECK(wg_aead_seal(buf, buf, len, ad, sizeof(ad), 99, key));
		CHECK_MEM(buf, ref, len + WG_AEAD_TAG_LEN);
		CHECK(wg_aead_open(buf, buf, len + WG_AEAD_TAG_LEN, ad,
		    sizeof(ad), 99, key));
		CHECK_MEM(buf, msg, len);

		CHECK(wg_xaead_seal(ref, msg, len, ad, sizeof(ad), xnonce,
		    key));
		memcpy(buf, msg, len);
		CHECK(wg_xaead_seal(buf, buf, len, ad, sizeof(ad), xnonce,
		    key));
		CHECK_MEM(buf, ref, len + WG_AEAD_TAG_LEN);
		CHECK(wg_xaead_open(buf, buf, len + WG_AEAD_TAG_LEN, ad,
		    sizeof(ad), xnonce, key));
		CHECK_MEM(buf, msg, len);
	}
}

/* wg_aead_seal(counter) is wg_aead_seal_nonce(00000000 || LE64(counter)),
 * written out here byte by byte, independently of primitives.c. */
static void test_counter_nonce_form(void)
{
	static const uint64_t counters[] = {
		0, 1, 255, 256, 0x0102030405060708ULL, 0xfffffffffffffffeULL,
		UINT64_MAX,
	};
	uint8_t key[WG_KEY_LEN], msg[64], a[64 + WG_AEAD_TAG_LEN],
	    b[64 + WG_AEAD_TAG_LEN], nonce[WG_AEAD_NONCE_LEN];
	size_t i;
	int j;

	fill(key, sizeof(key), 30);
	fill(msg, sizeof(msg), 31);
	for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		memset(nonce, 0, sizeof(nonce));
		for (j = 0; j < 8; j++)
			nonce[4 + j] = (uint8_t)(counters[i] >> (8 * j));
		CHECK(wg_aead_seal(a, msg, sizeof(msg), msg, 5, counters[i],
		    key));
		CHECK(wg_aead_seal_nonce(b, msg, sizeof(msg), msg, 5, nonce,
		    key));
		CHECK_MEM(a, b, sizeof(a));
		CHECK(wg_aead_open_nonce(b, a, sizeof(a), msg, 5, nonce, key));
		CHECK_MEM(b, msg, sizeof(msg));
	}
	/* Different counters really are different nonces. */
	CHECK(wg_aead_seal(a, msg, sizeof(msg), NULL, 0, 1, key));
	CHECK(wg_aead_seal(b, msg, sizeof(msg), NULL, 0, 1ULL << 32, key));
	CHECK(memcmp(a, b, sizeof(a)) != 0);
}

int main(void)
{
	RUN(test_wycheproof_chacha20_poly1305);
	RUN(test_wycheproof_xchacha20_poly1305);
	RUN(test_rfc8439_2_8_2);
	RUN(test_rfc8439_a5_counter_nonce);
	RUN(test_forgeries_rejected);
	RUN(test_xaead_forgeries_rejected);
	RUN(test_short_input_rejected);
	RUN(test_in_place);
	RUN(test_counter_nonce_form);
	return check_summary();
}
