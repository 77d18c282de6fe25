/* X25519 as primitives.h wraps it: all of Wycheproof, RFC 7748's known
 * answers, clamping, and rejection of all-zero shared secrets. */
#include <stdint.h>
#include <cjson/cJSON.h>

#include "testutil.h"
#include "crypto/primitives.h"

/* Wycheproof marks the low-order public keys "acceptable" with
 * ZeroSharedSecret: libraries may compute the zero result or refuse.
 * WireGuard must refuse, so dh() has to return false on exactly those; every
 * other case must succeed with Wycheproof's shared secret. */
static void test_wycheproof(void)
{
	static const char file[] = "wycheproof_x25519_test.json";
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN], want[WG_KEY_LEN],
	    got[WG_KEY_LEN];
	int checked = 0, refused = 0, total;
	const cJSON *group, *t, *num;
	cJSON *root = load_json(file);

	if (root == NULL)
		return;
	cJSON_ArrayForEach(group, cJSON_GetObjectItemCaseSensitive(root,
	    "testGroups")) {
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(group,
		    "tests")) {
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(t,
			    "tcId");
			const char *result = json_str(t, "result");
			int tc = id ? id->valueint : -1;
			bool ok, zero;

			unhex(json_str(t, "private"), priv, WG_KEY_LEN);
			unhex(json_str(t, "public"), pub, WG_KEY_LEN);
			unhex(json_str(t, "shared"), want, WG_KEY_LEN);
			zero = has_flag(t, "ZeroSharedSecret");
			memset(got, 0xaa, sizeof(got));
			ok = wg_x25519_dh(got, priv, pub);
			checked++;
			if (result == NULL ||
			    strcmp(result, "invalid") == 0) {
				/* None in this file; a computed answer
				 * would be wrong if one appeared. */
				if (ok)
					CHECK_FAIL("tcId %d: invalid case "
					    "accepted", tc);
			} else if (zero) {
				refused++;
				if (ok)
					CHECK_FAIL("tcId %d: zero shared "
					    "secret accepted", tc);
			} else if (!ok) {
				CHECK_FAIL("tcId %d (%s): dh refused", tc,
				    result);
			} else if (memcmp(got, want, sizeof(want)) != 0) {
				CHECK_FAIL("tcId %d (%s): wrong shared secret",
				    tc, result);
			}
		}
	}
	num = cJSON_GetObjectItemCaseSensitive(root, "numberOfTests");
	total = cJSON_IsNumber(num) ? num->valueint : -1;
	CHECK(checked == total);
	CHECK(refused > 0);
	printf("     %s: %d cases checked (%d must be refused as zero "
	    "shared secrets), %d in file\n", file, checked, refused, total);
	cJSON_Delete(root);
}

/* RFC 7748 section 5.2, the two single multiplications. */
static void test_rfc7748_5_2(void)
{
	static const char *const vectors[][3] = {
		{ "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
		  "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
		  "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
		{ "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
		  "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
		  "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
	};
	uint8_t k[WG_KEY_LEN], u[WG_KEY_LEN], want[WG_KEY_LEN], got[WG_KEY_LEN];
	size_t i;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		unhex(vectors[i][0], k, WG_KEY_LEN);
		unhex(vectors[i][1], u, WG_KEY_LEN);
		unhex(vectors[i][2], want, WG_KEY_LEN);
		CHECK(wg_x25519_dh(got, k, u));
		CHECK_MEM(got, want, WG_KEY_LEN);
	}
}

/* RFC 7748 section 5.2, iterated: k = X25519(k, u), u = old k, from
 * k = u = 9; after 1 and after 1000 rounds.  (The million-round value
 * takes minutes and adds nothing the others do not check.) */
static void test_rfc7748_5_2_iterated(void)
{
	uint8_t k[WG_KEY_LEN] = { 9 }, u[WG_KEY_LEN] = { 9 }, next[WG_KEY_LEN],
	    want1[WG_KEY_LEN], want1000[WG_KEY_LEN];
	int i;

	unhex("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079",
	    want1, WG_KEY_LEN);
	unhex("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51",
	    want1000, WG_KEY_LEN);
	for (i = 1; i <= 1000; i++) {
		CHECK(wg_x25519_dh(next, k, u));
		memcpy(u, k, WG_KEY_LEN);
		memcpy(k, next, WG_KEY_LEN);
		if (i == 1)
			CHECK_MEM(k, want1, WG_KEY_LEN);
	}
	CHECK_MEM(k, want1000, WG_KEY_LEN);
}

/* RFC 7748 section 6.1: both public keys and the shared secret, both ways. */
static void test_rfc7748_6_1(void)
{
	uint8_t a[WG_KEY_LEN], b[WG_KEY_LEN], a_pub[WG_KEY_LEN],
	    b_pub[WG_KEY_LEN], want_a_pub[WG_KEY_LEN], want_b_pub[WG_KEY_LEN],
	    want[WG_KEY_LEN], k1[WG_KEY_LEN], k2[WG_KEY_LEN];

	unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
	    a, WG_KEY_LEN);
	unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
	    want_a_pub, WG_KEY_LEN);
	unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
	    b, WG_KEY_LEN);
	unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
	    want_b_pub, WG_KEY_LEN);
	unhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
	    want, WG_KEY_LEN);
	wg_x25519_public_from_private(a_pub, a);
	wg_x25519_public_from_private(b_pub, b);
	CHECK_MEM(a_pub, want_a_pub, WG_KEY_LEN);
	CHECK_MEM(b_pub, want_b_pub, WG_KEY_LEN);
	CHECK(wg_x25519_dh(k1, a, b_pub));
	CHECK(wg_x25519_dh(k2, b, a_pub));
	CHECK_MEM(k1, want, WG_KEY_LEN);
	CHECK_MEM(k2, want, WG_KEY_LEN);
}

static void test_clamp(void)
{
	static const struct {
		uint8_t in0, in31, out0, out31;
	} rows[] = {
		{ 0xff, 0xff, 0xf8, 0x7f },
		{ 0x00, 0x00, 0x00, 0x40 },
		{ 0x07, 0x80, 0x00, 0x40 },
		{ 0x09, 0x3f, 0x08, 0x7f },
		{ 0xf8, 0x40, 0xf8, 0x40 },
	};
	uint8_t key[WG_KEY_LEN], again[WG_KEY_LEN];
	size_t i;
	int j;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(key, 0x5a, sizeof(key));
		key[0] = rows[i].in0;
		key[31] = rows[i].in31;
		wg_x25519_clamp(key);
		CHECK(key[0] == rows[i].out0);
		CHECK(key[31] == rows[i].out31);
		for (j = 1; j < 31; j++)
			CHECK(key[j] == 0x5a);
		memcpy(again, key, sizeof(key));
		wg_x25519_clamp(again);
		CHECK_MEM(again, key, WG_KEY_LEN);
	}
}

/* The scalar is clamped inside X25519, so a key and its clamped form have
 * the same public key (which is why `wg pubkey` accepts unclamped keys). */
static void test_unclamped_private_key(void)
{
	uint8_t key[WG_KEY_LEN], clamped[WG_KEY_LEN], p1[WG_KEY_LEN],
	    p2[WG_KEY_LEN];
	int i;

	for (i = 0; i < 16; i++) {
		wg_random_bytes(key, sizeof(key));
		key[0] |= 7;
		key[31] |= 0x80;
		memcpy(clamped, key, sizeof(key));
		wg_x25519_clamp(clamped);
		wg_x25519_public_from_private(p1, key);
		wg_x25519_public_from_private(p2, clamped);
		CHECK_MEM(p1, p2, WG_KEY_LEN);
	}
}

/* Random pairs agree, and public_from_private is dh with the base point. */
static void test_random_agreement(void)
{
	static const uint8_t base[WG_KEY_LEN] = { 9 };
	uint8_t a[WG_KEY_LEN], b[WG_KEY_LEN], ap[WG_KEY_LEN], bp[WG_KEY_LEN],
	    k1[WG_KEY_LEN], k2[WG_KEY_LEN], viadh[WG_KEY_LEN];
	int i;

	for (i = 0; i < 32; i++) {
		wg_random_bytes(a, sizeof(a));
		wg_random_bytes(b, sizeof(b));
		wg_x25519_clamp(a);
		wg_x25519_clamp(b);
		wg_x25519_public_from_private(ap, a);
		wg_x25519_public_from_private(bp, b);
		CHECK(wg_x25519_dh(viadh, a, base));
		CHECK_MEM(viadh, ap, WG_KEY_LEN);
		CHECK(wg_x25519_dh(k1, a, bp));
		CHECK(wg_x25519_dh(k2, b, ap));
		CHECK_MEM(k1, k2, WG_KEY_LEN);
		CHECK(!wg_is_zero_ct(k1, WG_KEY_LEN));
	}
}

/* The public keys of order 1, 2, 4 and 8 (and their non-canonical twins)
 * give an all-zero secret for every private key. */
static void test_low_order_refused(void)
{
	static const char *const points[] = {
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000000",
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	};
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN], out[WG_KEY_LEN];
	size_t i;

	wg_random_bytes(priv, sizeof(priv));
	wg_x25519_clamp(priv);
	for (i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
		unhex(points[i], pub, WG_KEY_LEN);
		if (wg_x25519_dh(out, priv, pub))
			CHECK_FAIL("low-order point %zu accepted", i);
	}
}

static void test_is_zero_and_equal(void)
{
	uint8_t buf[64] = { 0 }, other[64] = { 0 };
	size_t i;

	CHECK(wg_is_zero_ct(buf, sizeof(buf)));
	CHECK(wg_is_zero_ct(buf, 0));
	CHECK(wg_equal_ct(buf, other, sizeof(buf)));
	for (i = 0; i < sizeof(buf); i++) {
		buf[i] = (uint8_t)(1u << (i % 8));
		CHECK(!wg_is_zero_ct(buf, sizeof(buf)));
		CHECK(!wg_equal_ct(buf, other, sizeof(buf)));
		CHECK(wg_is_zero_ct(buf, i));
		buf[i] = 0;
	}
	buf[63] = 0x80;
	CHECK(wg_equal_ct(buf, other, 63));
	wg_wipe(buf, sizeof(buf));
	CHECK(wg_is_zero_ct(buf, sizeof(buf)));
}

int main(void)
{
	RUN(test_wycheproof);
	RUN(test_rfc7748_5_2);
	RUN(test_rfc7748_5_2_iterated);
	RUN(test_rfc7748_6_1);
	RUN(test_clamp);
	RUN(test_unclamped_private_key);
	RUN(test_random_agreement);
	RUN(test_low_order_refused);
	RUN(test_is_zero_and_equal);
	return check_summary();
}
