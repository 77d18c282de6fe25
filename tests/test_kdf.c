/* The WireGuard KDF and the constant hashes of the handshake: the KDF1/2/3
 * vectors of wireguard_kdf.json, the initial chaining key and hash (Ci,
 * Hi), the MAC1 and cookie label hashes, and outputs aliasing inputs. */
#include <stdint.h>

#include <cjson/cJSON.h>

#include "testutil.h"
#include "crypto/blake2s.h"
#include "crypto/kdf.h"

/* Loads wireguard_kdf.json, or returns NULL having failed the test. */
static cJSON *load_vectors(void)
{
	cJSON *root = load_json("wireguard_kdf.json");

	if (!cJSON_IsObject(root)) {
		CHECK_FAIL("wireguard_kdf.json: not a JSON object");
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* The string field name of obj, or NULL having failed the test. */
static const char *field(const cJSON *obj, const char *name, int index)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(obj, name));

	if (s == NULL)
		CHECK_FAIL("entry %d: no string field \"%s\"", index, name);
	return s;
}

/* Decodes hex field name into exactly len bytes. */
static int field_bytes(const cJSON *obj, const char *name, int index,
    uint8_t *out, size_t len)
{
	const char *hex = field(obj, name, index);

	if (hex == NULL)
		return -1;
	if (check_unhex(hex, out, len) != (long)len) {
		CHECK_FAIL("entry %d: \"%s\" is not %zu hex bytes", index, name,
		    len);
		return -1;
	}
	return 0;
}

/* KDF1, KDF2 and KDF3 on each entry.  The file's keys are of any length,
 * as wireguard-go's test passes them to HMAC; wg_kdf takes a 32-byte
 * chaining key.  HMAC pads a short key with zeros to the block (RFC 2104
 * section 2), so the key zero-padded to 32 bytes is the same HMAC key. */
static void test_kdf_vectors(void)
{
	cJSON *root = load_vectors(), *kdf, *item;
	int index = -1, count = 0;

	if (root == NULL)
		return;
	kdf = cJSON_GetObjectItem(root, "kdf");
	if (!cJSON_IsArray(kdf)) {
		CHECK_FAIL("no \"kdf\" array");
		cJSON_Delete(root);
		return;
	}
	cJSON_ArrayForEach(item, kdf) {
		uint8_t ck[WG_KDF_LEN] = { 0 }, in[256], t[3][WG_KDF_LEN];
		uint8_t o1[WG_KDF_LEN], o2[WG_KDF_LEN], o3[WG_KDF_LEN];
		const char *keyhex, *inhex;
		long inlen;

		index++;
		keyhex = field(item, "key", index);
		inhex = field(item, "input", index);
		if (keyhex == NULL || inhex == NULL ||
		    check_unhex(keyhex, ck, sizeof(ck)) < 0 ||
		    (inlen = check_unhex(inhex, in, sizeof(in))) < 0) {
			CHECK_FAIL("entry %d: bad key or input", index);
			continue;
		}
		if (field_bytes(item, "t0", index, t[0], WG_KDF_LEN) < 0 ||
		    field_bytes(item, "t1", index, t[1], WG_KDF_LEN) < 0 ||
		    field_bytes(item, "t2", index, t[2], WG_KDF_LEN) < 0)
			continue;
		count++;

		wg_kdf(o1, NULL, NULL, ck, in, (size_t)inlen);
		if (memcmp(o1, t[0], WG_KDF_LEN) != 0)
			CHECK_FAIL("entry %d: KDF1 t0 differs", index);

		memset(o1, 0, sizeof(o1));
		wg_kdf(o1, o2, NULL, ck, in, (size_t)inlen);
		if (memcmp(o1, t[0], WG_KDF_LEN) != 0)
			CHECK_FAIL("entry %d: KDF2 t0 differs", index);
		if (memcmp(o2, t[1], WG_KDF_LEN) != 0)
			CHECK_FAIL("entry %d: KDF2 t1 differs", index);

		memset(o1, 0, sizeof(o1));
		memset(o2, 0, sizeof(o2));
		wg_kdf(o1, o2, o3, ck, in, (size_t)inlen);
		if (memcmp(o1, t[0], WG_KDF_LEN) != 0)
			CHECK_FAIL("entry %d: KDF3 t0 differs", index);
		if (memcmp(o2, t[1], WG_KDF_LEN) != 0)
			CHECK_FAIL("entry %d: KDF3 t1 differs", index);
		if (memcmp(o3, t[2], WG_KDF_LEN) != 0)
			CHECK_FAIL("entry %d: KDF3 t2 differs", index);
	}
	cJSON_Delete(root);
	if (count == 0)
		CHECK_FAIL("no KDF vectors");
}

/* WireGuard paper section 5.4.2: Ci = HASH(CONSTRUCTION) and
 * Hi = HASH(Ci || IDENTIFIER). */
static void test_initial_chaining_key_and_hash(void)
{
	cJSON *root = load_vectors();
	const char *construction, *identifier;
	uint8_t ci[32], hi[32], out[32];
	struct wg_blake2s s;

	if (root == NULL)
		return;
	construction = field(root, "construction", -1);
	identifier = field(root, "identifier", -1);
	if (construction == NULL || identifier == NULL ||
	    field_bytes(root, "initial_chaining_key_Ci", -1, ci, 32) < 0 ||
	    field_bytes(root, "initial_hash_Hi", -1, hi, 32) < 0) {
		cJSON_Delete(root);
		return;
	}

	wg_blake2s(out, 32, (const uint8_t *)construction,
	    strlen(construction), NULL, 0);
	CHECK_MEM(out, ci, 32);

	wg_blake2s_init(&s, 32);
	wg_blake2s_update(&s, out, 32);
	wg_blake2s_update(&s, (const uint8_t *)identifier, strlen(identifier));
	wg_blake2s_final(&s, out);
	CHECK_MEM(out, hi, 32);

	cJSON_Delete(root);
}

/* WireGuard paper section 5.4.4: the MAC1 key is HASH(LABEL-MAC1 || Spub)
 * and the cookie key HASH(LABEL-COOKIE || Spub).  The file gives only the
 * labels, so the public key is RFC 7748 section 6.1's Alice's, and the
 * expected hashes come from Python's hashlib.blake2s(label + pub). */
static void test_label_hashes(void)
{
	static const struct {
		const char *field, *expect;
	} rows[] = {
		{ "mac1_label", "0ec72453412f9befa2f799ea837d0b88"
		    "429321711dd01f9025163123bd1905be" },
		{ "cookie_label", "9c357cf611ac8d2e8e2369cda113f1ae"
		    "6dc10d4f90c4d0f91fb235a27f890afd" },
	};
	cJSON *root = load_vectors();
	uint8_t pub[32], expect[32], out[32];
	size_t i;

	if (root == NULL)
		return;
	if (check_unhex("8520f0098930a754748b7ddcb43ef75a"
	    "0dbf3a0d26381af4eba4a98eaa9b4e6a", pub, sizeof(pub)) != 32)
		CHECK_FAIL("bad public key constant");

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *label = field(root, rows[i].field, (int)i);
		struct wg_blake2s s;

		if (label == NULL)
			continue;
		/* The paper defines both labels as 8 ASCII bytes. */
		if (strlen(label) != 8) {
			CHECK_FAIL("%s is \"%s\", not 8 bytes", rows[i].field,
			    label);
			continue;
		}
		if (check_unhex(rows[i].expect, expect, sizeof(expect)) != 32) {
			CHECK_FAIL("bad expected constant for %s",
			    rows[i].field);
			continue;
		}
		wg_blake2s_init(&s, 32);
		wg_blake2s_update(&s, (const uint8_t *)label, 8);
		wg_blake2s_update(&s, pub, sizeof(pub));
		wg_blake2s_final(&s, out);
		if (memcmp(out, expect, 32) != 0)
			CHECK_FAIL("HASH(%s || pub) differs", rows[i].field);
	}
	cJSON_Delete(root);
}

/* A naive twin written straight from the formula, with a fresh buffer for
 * every step: the aliasing tests compare against it. */
static void naive_kdf3(uint8_t t1[32], uint8_t t2[32], uint8_t t3[32],
    const uint8_t ck[32], const uint8_t *in, size_t inlen)
{
	uint8_t prk[32], buf[33];

	wg_hmac_blake2s(prk, in, inlen, ck, 32);
	buf[0] = 1;
	wg_hmac_blake2s(t1, buf, 1, prk, 32);
	memcpy(buf, t1, 32);
	buf[32] = 2;
	wg_hmac_blake2s(t2, buf, 33, prk, 32);
	memcpy(buf, t2, 32);
	buf[32] = 3;
	wg_hmac_blake2s(t3, buf, 33, prk, 32);
}

/* The Noise core writes the new chaining key over the old one
 * (KDF2(C, ...) -> (C, k)), and may derive from a buffer it overwrites. */
static void test_kdf_aliasing(void)
{
	uint8_t ck[32], in[40], w1[32], w2[32], w3[32];
	uint8_t c[32], buf[40], k2[32], k3[32];
	size_t i;

	for (i = 0; i < sizeof(ck); i++)
		ck[i] = (uint8_t)(0x11 * i + 5);
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(0xc3 ^ i);
	naive_kdf3(w1, w2, w3, ck, in, sizeof(in));

	/* out1 is the chaining key. */
	memcpy(c, ck, 32);
	wg_kdf(c, k2, k3, c, in, sizeof(in));
	CHECK_MEM(c, w1, 32);
	CHECK_MEM(k2, w2, 32);
	CHECK_MEM(k3, w3, 32);

	/* out2 and out3 are the chaining key. */
	memcpy(c, ck, 32);
	wg_kdf(k2, c, NULL, c, in, sizeof(in));
	CHECK_MEM(k2, w1, 32);
	CHECK_MEM(c, w2, 32);
	memcpy(c, ck, 32);
	wg_kdf(k2, k3, c, c, in, sizeof(in));
	CHECK_MEM(c, w3, 32);

	/* An output is the input buffer. */
	memcpy(buf, in, sizeof(buf));
	wg_kdf(buf, k2, k3, ck, buf, sizeof(buf));
	CHECK_MEM(buf, w1, 32);
	CHECK_MEM(k2, w2, 32);
	CHECK_MEM(k3, w3, 32);
}

/* wg_kdf against the naive twin over input lengths across block edges. */
static void test_kdf_lengths(void)
{
	uint8_t ck[32], in[200], w1[32], w2[32], w3[32], o1[32], o2[32], o3[32];
	size_t i, len;

	for (i = 0; i < sizeof(ck); i++)
		ck[i] = (uint8_t)(0xff - i);
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 13);
	for (len = 0; len <= sizeof(in); len++) {
		naive_kdf3(w1, w2, w3, ck, in, len);
		wg_kdf(o1, o2, o3, ck, len ? in : NULL, len);
		if (memcmp(o1, w1, 32) != 0 || memcmp(o2, w2, 32) != 0 ||
		    memcmp(o3, w3, 32) != 0) {
			CHECK_FAIL("input length %zu differs", len);
			return;
		}
	}
}

int main(void)
{
	RUN(test_kdf_vectors);
	RUN(test_initial_chaining_key_and_hash);
	RUN(test_label_hashes);
	RUN(test_kdf_aliasing);
	RUN(test_kdf_lengths);
	return check_summary();
}
