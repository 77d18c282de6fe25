/* The Noise IKpsk2 core against the cacophony vectors, byte for byte, and
 * WireGuard's handshake wrappers: agreement, Ci/Hi from wireguard_kdf.json,
 * PSKs, replay and flood guards, forgeries, unknown peers, low-order keys
 * (from Wycheproof) and wrong receiver indices. */
#include <endian.h>
#include <stdint.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "testutil.h"
#include "crypto/primitives.h"
#include "crypto/tai64n.h"
#include "messages.h"
#include "noise.h"

static const uint64_t ms = 1000000ULL;

/* ------------------------------------------------------------ helpers */

/* Decodes obj[name] into out (cap bytes at most); returns the length or -1
 * after failing the test. */
static long json_hex(const cJSON *obj, const char *name, uint8_t *out,
    size_t cap)
{
	const char *hex = json_str(obj, name);
	long n = hex ? check_unhex(hex, out, cap) : -1;

	if (n < 0)
		CHECK_FAIL("missing or bad hex field %s", name);
	return n;
}

static bool json_key(const cJSON *obj, const char *name,
    uint8_t out[static WG_KEY_LEN])
{
	return json_hex(obj, name, out, WG_KEY_LEN) == WG_KEY_LEN;
}

/* Deterministic "random" bytes: tests must be reproducible. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static void fill(uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		rng_state ^= rng_state << 13;
		rng_state ^= rng_state >> 7;
		rng_state ^= rng_state << 17;
		buf[i] = (uint8_t)rng_state;
	}
}

/* ------------------------------------------------------------ cacophony */

struct cacophony {
	uint8_t prologue[256];
	long prologue_len;
	uint8_t psk[WG_KEY_LEN];
	uint8_t i_s[WG_KEY_LEN], i_e[WG_KEY_LEN];
	uint8_t r_s[WG_KEY_LEN], r_e[WG_KEY_LEN];
	uint8_t r_s_pub[WG_KEY_LEN];
	uint8_t hash[WG_KEY_LEN];
	uint8_t payload[6][256], ct[6][512];
	long payload_len[6], ct_len[6];
};

static bool load_cacophony(struct cacophony *v)
{
	cJSON *root = load_json("noise_IKpsk2_25519_ChaChaPoly_BLAKE2s.json");
	const cJSON *vec, *msgs, *m, *psks;
	bool ok = false;
	int i = 0;

	if (root == NULL)
		return false;
	vec = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root,
	    "vectors"), 0);
	if (vec == NULL || json_str(vec, "protocol_name") == NULL ||
	    strcmp(json_str(vec, "protocol_name"),
	    "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s") != 0) {
		CHECK_FAIL("no IKpsk2 vector");
		goto out;
	}
	psks = cJSON_GetObjectItemCaseSensitive(vec, "init_psks");
	if (!cJSON_IsString(cJSON_GetArrayItem(psks, 0)) ||
	    check_unhex(cJSON_GetArrayItem(psks, 0)->valuestring, v->psk,
	    WG_KEY_LEN) != WG_KEY_LEN) {
		CHECK_FAIL("bad psk");
		goto out;
	}
	v->prologue_len = json_hex(vec, "init_prologue", v->prologue,
	    sizeof(v->prologue));
	if (v->prologue_len < 0 || !json_key(vec, "init_static", v->i_s) ||
	    !json_key(vec, "init_ephemeral", v->i_e) ||
	    !json_key(vec, "resp_static", v->r_s) ||
	    !json_key(vec, "resp_ephemeral", v->r_e) ||
	    !json_key(vec, "init_remote_static", v->r_s_pub) ||
	    !json_key(vec, "handshake_hash", v->hash))
		goto out;
	msgs = cJSON_GetObjectItemCaseSensitive(vec, "messages");
	cJSON_ArrayForEach(m, msgs) {
		if (i == 6)
			break;
		v->payload_len[i] = json_hex(m, "payload", v->payload[i],
		    sizeof(v->payload[i]));
		v->ct_len[i] = json_hex(m, "ciphertext", v->ct[i],
		    sizeof(v->ct[i]));
		if (v->payload_len[i] < 0 || v->ct_len[i] < 0)
			goto out;
		i++;
	}
	if (i != 6) {
		CHECK_FAIL("expected 6 messages, got %d", i);
		goto out;
	}
	ok = true;
out:
	cJSON_Delete(root);
	return ok;
}

static void test_cacophony(void)
{
	static const char name[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
	struct wg_noise_symmetric ini, res;
	struct cacophony v;
	uint8_t i_s_pub[WG_KEY_LEN], ss[WG_KEY_LEN], re[WG_KEY_LEN],
	    rs[WG_KEY_LEN];
	uint8_t ik1[WG_KEY_LEN], ik2[WG_KEY_LEN], rk1[WG_KEY_LEN],
	    rk2[WG_KEY_LEN];
	uint8_t out[512], pt[512];
	uint64_t n_i = 0, n_r = 0;
	int i;

	if (!load_cacophony(&v))
		return;
	wg_x25519_public_from_private(i_s_pub, v.i_s);
	/* The vector's own consistency: its remote static is r_s's public. */
	wg_x25519_public_from_private(out, v.r_s);
	CHECK_MEM(out, v.r_s_pub, WG_KEY_LEN);
	CHECK(wg_x25519_dh(ss, v.i_s, v.r_s_pub));

	wg_noise_ikpsk2_init(&ini, name, v.prologue, (size_t)v.prologue_len,
	    v.r_s_pub);
	wg_noise_ikpsk2_init(&res, name, v.prologue, (size_t)v.prologue_len,
	    v.r_s_pub);

	/* -> e, es, s, ss, payload */
	CHECK(v.ct_len[0] == WG_NOISE_MSG1_OVERHEAD + v.payload_len[0]);
	CHECK(wg_noise_ikpsk2_write_msg1(&ini, out, v.i_e, v.r_s_pub, i_s_pub,
	    ss, v.payload[0], (size_t)v.payload_len[0]));
	CHECK_MEM(out, v.ct[0], (size_t)v.ct_len[0]);
	CHECK(wg_noise_ikpsk2_read_msg1_head(&res, v.ct[0], v.r_s, re, rs));
	CHECK_MEM(rs, i_s_pub, WG_KEY_LEN);
	CHECK(wg_noise_ikpsk2_read_msg1_tail(&res, v.ct[0] + WG_NOISE_MSG1_HEAD,
	    (size_t)v.ct_len[0] - WG_NOISE_MSG1_HEAD, ss, pt));
	CHECK_MEM(pt, v.payload[0], (size_t)v.payload_len[0]);

	/* <- e, ee, se, psk, payload */
	CHECK(v.ct_len[1] == WG_NOISE_MSG2_OVERHEAD + v.payload_len[1]);
	CHECK(wg_noise_ikpsk2_write_msg2(&res, out, v.r_e, re, rs, v.psk,
	    v.payload[1], (size_t)v.payload_len[1]));
	CHECK_MEM(out, v.ct[1], (size_t)v.ct_len[1]);
	CHECK(wg_noise_ikpsk2_read_msg2(&ini, v.ct[1], (size_t)v.ct_len[1],
	    v.i_e, v.i_s, v.psk, pt));
	CHECK_MEM(pt, v.payload[1], (size_t)v.payload_len[1]);

	CHECK_MEM(ini.hash, v.hash, WG_KEY_LEN);
	CHECK_MEM(res.hash, v.hash, WG_KEY_LEN);

	/* Transport: Split, then the initiator sends with k1 and the responder
	 * with k2, each CipherState counting its own nonces from 0, AD empty. */
	wg_noise_split(&ini, ik1, ik2);
	wg_noise_split(&res, rk1, rk2);
	CHECK_MEM(ik1, rk1, WG_KEY_LEN);
	CHECK_MEM(ik2, rk2, WG_KEY_LEN);
	for (i = 2; i < 6; i++) {
		bool from_initiator = i % 2 == 0;
		const uint8_t *k = from_initiator ? ik1 : ik2;
		uint64_t n = from_initiator ? n_i++ : n_r++;
		size_t len = (size_t)v.payload_len[i];

		CHECK((size_t)v.ct_len[i] == len + WG_AEAD_TAG_LEN);
		CHECK(wg_aead_seal(out, v.payload[i], len, (const uint8_t *)"",
		    0, n, k));
		CHECK_MEM(out, v.ct[i], len + WG_AEAD_TAG_LEN);
		CHECK(wg_aead_open(pt, v.ct[i], len + WG_AEAD_TAG_LEN,
		    (const uint8_t *)"", 0, n, from_initiator ? rk1 : rk2));
		CHECK_MEM(pt, v.payload[i], len);
	}
}

/* A flipped bit anywhere in either cacophony message fails the reader. */
static void test_cacophony_tamper(void)
{
	static const char name[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
	struct wg_noise_symmetric s;
	struct cacophony v;
	uint8_t ss[WG_KEY_LEN], re[WG_KEY_LEN], rs[WG_KEY_LEN], pt[512];
	long i;
	int accepted = 0;

	if (!load_cacophony(&v))
		return;
	CHECK(wg_x25519_dh(ss, v.i_s, v.r_s_pub));
	for (i = 0; i < v.ct_len[0]; i++) {
		v.ct[0][i] ^= 0x01;
		wg_noise_ikpsk2_init(&s, name, v.prologue,
		    (size_t)v.prologue_len, v.r_s_pub);
		if (wg_noise_ikpsk2_read_msg1_head(&s, v.ct[0], v.r_s, re, rs) &&
		    wg_noise_ikpsk2_read_msg1_tail(&s,
		    v.ct[0] + WG_NOISE_MSG1_HEAD,
		    (size_t)v.ct_len[0] - WG_NOISE_MSG1_HEAD, ss, pt))
			accepted++;
		v.ct[0][i] ^= 0x01;
	}
	CHECK(accepted == 0);
	/* The untouched message still reads (the loop proved something). */
	wg_noise_ikpsk2_init(&s, name, v.prologue, (size_t)v.prologue_len,
	    v.r_s_pub);
	CHECK(wg_noise_ikpsk2_read_msg1_head(&s, v.ct[0], v.r_s, re, rs));
	CHECK(wg_noise_ikpsk2_read_msg1_tail(&s, v.ct[0] + WG_NOISE_MSG1_HEAD,
	    (size_t)v.ct_len[0] - WG_NOISE_MSG1_HEAD, ss, pt));
	/* A different prologue is a different handshake. */
	wg_noise_ikpsk2_init(&s, name, (const uint8_t *)"John Gal", 8,
	    v.r_s_pub);
	CHECK(!wg_noise_ikpsk2_read_msg1_head(&s, v.ct[0], v.r_s, re, rs));
}

/* ------------------------------------------------------------ WireGuard */

static void test_wireguard_ci_hi(void)
{
	cJSON *root = load_json("wireguard_kdf.json");
	struct wg_noise_symmetric s;
	uint8_t ci[WG_KEY_LEN], hi[WG_KEY_LEN];

	if (root == NULL)
		return;
	CHECK(json_str(root, "construction") != NULL &&
	    strcmp(json_str(root, "construction"), wg_noise_construction) == 0);
	CHECK(json_str(root, "identifier") != NULL &&
	    strcmp(json_str(root, "identifier"), wg_noise_identifier) == 0);
	if (json_key(root, "initial_chaining_key_Ci", ci) &&
	    json_key(root, "initial_hash_Hi", hi)) {
		/* Ci = HASH(construction), Hi = HASH(Ci || identifier): Noise's
		 * InitializeSymmetric and MixHash(prologue). */
		wg_noise_symmetric_init(&s, wg_noise_construction,
		    (const uint8_t *)wg_noise_identifier,
		    strlen(wg_noise_identifier));
		CHECK_MEM(s.chaining_key, ci, WG_KEY_LEN);
		CHECK_MEM(s.hash, hi, WG_KEY_LEN);
		CHECK(!s.has_key);
	}
	cJSON_Delete(root);
}

/* One side of a simulated pair: its identity and its handshake for each
 * known peer.  The lookups are what helper code in peer.c does. */
struct side {
	struct wg_static_identity id;
	struct wg_handshake hs[2];
	int npeers;
};

static void side_init(struct side *d)
{
	memset(d, 0, sizeof(*d));
	fill(d->id.static_private, WG_KEY_LEN);
	wg_x25519_clamp(d->id.static_private);
	wg_x25519_public_from_private(d->id.static_public, d->id.static_private);
	d->id.has_identity = true;
}

static struct wg_handshake *side_add_peer(struct side *d,
    const uint8_t pub[static WG_KEY_LEN], const uint8_t *psk)
{
	struct wg_handshake *hs = &d->hs[d->npeers++];

	wg_noise_handshake_init(hs, &d->id, pub, psk);
	return hs;
}

static struct wg_handshake *lookup_static(void *ctx,
    const uint8_t pub[static WG_KEY_LEN])
{
	struct side *d = ctx;
	int i;

	for (i = 0; i < d->npeers; i++)
		if (memcmp(d->hs[i].remote_static, pub, WG_KEY_LEN) == 0)
			return &d->hs[i];
	return NULL;
}

static struct wg_handshake *lookup_index(void *ctx, uint32_t index)
{
	struct side *d = ctx;
	int i;

	for (i = 0; i < d->npeers; i++)
		if (d->hs[i].local_index == index &&
		    d->hs[i].state != WG_HANDSHAKE_ZEROED)
			return &d->hs[i];
	return NULL;
}

static struct wg_handshake *lookup_first(void *ctx, uint32_t index)
{
	struct side *d = ctx;

	return d->npeers > 0 ? &d->hs[0] : NULL;
}

static void tai(uint8_t t[static WG_TAI64N_LEN], uint64_t sec)
{
	wg_tai64n_encode(t, sec, 0);
}

/* Runs a whole handshake a -> b; returns true when both derived keys. */
static bool handshake(struct side *a, struct wg_handshake *ha, struct side *b,
    uint64_t unix_sec, uint64_t now_ns, struct wg_session_keys *ka,
    struct wg_session_keys *kb)
{
	struct wg_msg_initiation init;
	struct wg_msg_response resp;
	struct wg_handshake *hb;
	uint8_t e[WG_KEY_LEN], t[WG_TAI64N_LEN];

	tai(t, unix_sec);
	fill(e, sizeof(e));
	if (!wg_noise_create_initiation(&init, ha, &a->id, e, t, 0x11111111))
		return false;
	hb = wg_noise_consume_initiation(&init, &b->id, lookup_static, b,
	    now_ns);
	if (hb == NULL)
		return false;
	fill(e, sizeof(e));
	if (!wg_noise_create_response(&resp, hb, e, 0x22222222))
		return false;
	if (wg_noise_consume_response(&resp, &a->id, lookup_index, a) != ha)
		return false;
	return wg_noise_derive_keys(kb, hb) && wg_noise_derive_keys(ka, ha);
}

static void check_keys_agree(const struct wg_session_keys *ka,
    const struct wg_session_keys *kb)
{
	uint8_t buf[64 + WG_AEAD_TAG_LEN], out[64];
	static const uint8_t msg[64] = "a transport message";

	CHECK_MEM(ka->sending, kb->receiving, WG_KEY_LEN);
	CHECK_MEM(ka->receiving, kb->sending, WG_KEY_LEN);
	CHECK(memcmp(ka->sending, ka->receiving, WG_KEY_LEN) != 0);
	CHECK(ka->is_initiator && !kb->is_initiator);
	CHECK(ka->local_index == 0x11111111 && ka->remote_index == 0x22222222);
	CHECK(kb->local_index == 0x22222222 && kb->remote_index == 0x11111111);
	CHECK(wg_aead_seal(buf, msg, sizeof(msg), (const uint8_t *)"", 0, 7,
	    ka->sending));
	CHECK(wg_aead_open(out, buf, sizeof(buf), (const uint8_t *)"", 0, 7,
	    kb->receiving));
	CHECK_MEM(out, msg, sizeof(msg));
}

static void test_wg_handshake(void)
{
	struct side a, b;
	struct wg_handshake *ha, *hb;
	struct wg_session_keys ka, kb;
	uint8_t psk[WG_KEY_LEN];
	int with_psk;

	for (with_psk = 0; with_psk < 2; with_psk++) {
		side_init(&a);
		side_init(&b);
		fill(psk, sizeof(psk));
		ha = side_add_peer(&a, b.id.static_public,
		    with_psk ? psk : NULL);
		hb = side_add_peer(&b, a.id.static_public,
		    with_psk ? psk : NULL);
		CHECK(handshake(&a, ha, &b, 1000, 5 * ms, &ka, &kb));
		check_keys_agree(&ka, &kb);
		/* Both handshakes are wiped and ready for the next one. */
		CHECK(ha->state == WG_HANDSHAKE_ZEROED &&
		    hb->state == WG_HANDSHAKE_ZEROED);
		CHECK(wg_is_zero_ct(ha->chaining_key, WG_KEY_LEN) &&
		    wg_is_zero_ct(ha->ephemeral_private, WG_KEY_LEN));
		CHECK(!wg_noise_derive_keys(&ka, ha));
		/* A second handshake (newer timestamp, later) gives new keys. */
		{
			struct wg_session_keys ka2, kb2;

			CHECK(handshake(&a, ha, &b, 1001, 1000 * ms, &ka2,
			    &kb2));
			check_keys_agree(&ka2, &kb2);
			CHECK(memcmp(ka.sending, ka2.sending, WG_KEY_LEN) != 0);
		}
		/* Roles reversed over the same pair of handshakes. */
		CHECK(handshake(&b, hb, &a, 1002, 2000 * ms, &kb, &ka));
		check_keys_agree(&kb, &ka);
	}
}

/* The wrapper is the generic IKpsk2 with WireGuard's prologue: the same
 * inputs through layer 1 give the same bytes (and layer 1 is pinned to the
 * cacophony vectors above). */
static void test_wg_is_ikpsk2(void)
{
	struct side a, b;
	struct wg_handshake *ha;
	struct wg_msg_initiation init;
	struct wg_noise_symmetric s;
	uint8_t e[WG_KEY_LEN], t[WG_TAI64N_LEN], ss[WG_KEY_LEN];
	uint8_t body[WG_NOISE_MSG1_OVERHEAD + WG_TAI64N_LEN];

	side_init(&a);
	side_init(&b);
	ha = side_add_peer(&a, b.id.static_public, NULL);
	fill(e, sizeof(e));
	tai(t, 12345);
	CHECK(wg_noise_create_initiation(&init, ha, &a.id, e, t, 0xabcdef01));
	CHECK(le32toh(init.header.type) == WG_MSG_INITIATION);
	CHECK(le32toh(init.sender_index) == 0xabcdef01);
	CHECK(wg_is_zero_ct(&init.macs, sizeof(init.macs)));
	CHECK(wg_message_classify((const uint8_t *)&init, sizeof(init), NULL) ==
	    WG_MSG_INITIATION);

	wg_x25519_clamp(e);
	CHECK(wg_x25519_dh(ss, a.id.static_private, b.id.static_public));
	wg_noise_ikpsk2_init(&s, wg_noise_construction,
	    (const uint8_t *)wg_noise_identifier, strlen(wg_noise_identifier),
	    b.id.static_public);
	CHECK(wg_noise_ikpsk2_write_msg1(&s, body, e, b.id.static_public,
	    a.id.static_public, ss, t, WG_TAI64N_LEN));
	CHECK_MEM(init.unencrypted_ephemeral, body, WG_KEY_LEN);
	CHECK_MEM(init.encrypted_static, body + 32, 48);
	CHECK_MEM(init.encrypted_timestamp, body + 80, 28);
	CHECK_MEM(ha->hash, s.hash, WG_KEY_LEN);
	CHECK_MEM(ha->chaining_key, s.chaining_key, WG_KEY_LEN);
	CHECK(ha->state == WG_HANDSHAKE_CREATED_INITIATION);
}

static void test_wg_psk_mismatch(void)
{
	struct side a, b;
	struct wg_handshake *ha, *hb, saved;
	struct wg_msg_initiation init;
	struct wg_msg_response resp;
	uint8_t psk1[WG_KEY_LEN], psk2[WG_KEY_LEN], e[WG_KEY_LEN],
	    t[WG_TAI64N_LEN];
	int round;

	/* psk vs other psk, and psk vs none. */
	for (round = 0; round < 2; round++) {
		side_init(&a);
		side_init(&b);
		fill(psk1, sizeof(psk1));
		fill(psk2, sizeof(psk2));
		ha = side_add_peer(&a, b.id.static_public, psk1);
		side_add_peer(&b, a.id.static_public, round ? NULL : psk2);
		fill(e, sizeof(e));
		tai(t, 77);
		CHECK(wg_noise_create_initiation(&init, ha, &a.id, e, t, 1));
		/* psk2 mixes in only at message 2. */
		hb = wg_noise_consume_initiation(&init, &b.id, lookup_static, &b,
		    0);
		CHECK(hb != NULL);
		if (hb == NULL)
			continue;
		fill(e, sizeof(e));
		CHECK(wg_noise_create_response(&resp, hb, e, 2));
		saved = *ha;
		CHECK(wg_noise_consume_response(&resp, &a.id, lookup_index, &a) ==
		    NULL);
		CHECK(memcmp(&saved, ha, sizeof(saved)) == 0);
	}
}

/* Initiations with chosen timestamps at chosen times, against one
 * responder: the replay and flood guards as a table. */
static void test_wg_timestamp_and_flood(void)
{
	static const struct {
		uint64_t unix_sec;	/* timestamp in the initiation */
		uint64_t now_ns;	/* responder's monotonic clock */
		bool accept;
	} rows[] = {
		{ 100, 0, true },	/* first ever, even at time 0 */
		{ 100, 1000 * ms, false },	/* same timestamp: replay */
		{ 99, 2000 * ms, false },	/* older timestamp */
		{ 101, 2000 * ms, true },
		{ 102, 2019 * ms, false },	/* 19 ms later: flood */
		{ 102, 2020 * ms - 1, false },	/* 1/50 s minus 1 ns */
		{ 103, 2020 * ms, true },	/* exactly 1/50 s: allowed */
		{ 104, 2039 * ms, false },
		{ 104, 2040 * ms, true },	/* the flood reject did not advance */
		{ 104, 3000 * ms, false },	/* ...nor did the replay */
		{ 200, 1000 * ms, false },	/* clock went backwards: refuse */
		{ 200, 5000 * ms, true },
	};
	struct side a, b;
	struct wg_handshake *ha, *hb;
	struct wg_msg_initiation init;
	uint8_t e[WG_KEY_LEN], t[WG_TAI64N_LEN];
	size_t i;

	side_init(&a);
	side_init(&b);
	ha = side_add_peer(&a, b.id.static_public, NULL);
	hb = side_add_peer(&b, a.id.static_public, NULL);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct wg_handshake saved = *hb, *got;

		fill(e, sizeof(e));
		tai(t, rows[i].unix_sec);
		CHECK(wg_noise_create_initiation(&init, ha, &a.id, e, t, 9));
		got = wg_noise_consume_initiation(&init, &b.id, lookup_static,
		    &b, rows[i].now_ns);
		if ((got != NULL) != rows[i].accept)
			CHECK_FAIL("row %zu: expected %s", i,
			    rows[i].accept ? "accept" : "reject");
		if (got == NULL && memcmp(&saved, hb, sizeof(saved)) != 0)
			CHECK_FAIL("row %zu: rejected but state changed", i);
		if (got != NULL) {
			CHECK(got == hb);
			CHECK(hb->state == WG_HANDSHAKE_CONSUMED_INITIATION);
			CHECK(hb->remote_index == 9);
		}
	}
	/* The very same datagram twice: the second is a replay. */
	tai(t, 300);
	fill(e, sizeof(e));
	CHECK(wg_noise_create_initiation(&init, ha, &a.id, e, t, 9));
	CHECK(wg_noise_consume_initiation(&init, &b.id, lookup_static, &b,
	    10000 * ms) == hb);
	CHECK(wg_noise_consume_initiation(&init, &b.id, lookup_static, &b,
	    20000 * ms) == NULL);
}

/* Every bit of the authenticated part of each message, flipped, is
 * rejected and leaves the receiver's state exactly as it was. */
static void test_wg_forgery(void)
{
	struct side a, b;
	struct wg_handshake *ha, *hb, saved;
	struct wg_msg_initiation init, bad_init;
	struct wg_msg_response resp, bad_resp;
	uint8_t e[WG_KEY_LEN], t[WG_TAI64N_LEN];
	size_t byte, bit, flips = 0, accepted = 0;

	side_init(&a);
	side_init(&b);
	ha = side_add_peer(&a, b.id.static_public, NULL);
	hb = side_add_peer(&b, a.id.static_public, NULL);
	fill(e, sizeof(e));
	tai(t, 500);
	CHECK(wg_noise_create_initiation(&init, ha, &a.id, e, t, 3));

	saved = *hb;
	for (byte = offsetof(struct wg_msg_initiation, unencrypted_ephemeral);
	    byte < offsetof(struct wg_msg_initiation, macs); byte++) {
		for (bit = 0; bit < 8; bit++) {
			bad_init = init;
			((uint8_t *)&bad_init)[byte] ^= (uint8_t)(1u << bit);
			flips++;
			if (wg_noise_consume_initiation(&bad_init, &b.id,
			    lookup_static, &b, 1000 * ms) != NULL)
				accepted++;
		}
	}
	CHECK(flips == 108 * 8);
	CHECK(accepted == 0);
	CHECK(memcmp(&saved, hb, sizeof(saved)) == 0);

	/* The genuine one is still accepted afterwards. */
	CHECK(wg_noise_consume_initiation(&init, &b.id, lookup_static, &b,
	    1000 * ms) == hb);
	fill(e, sizeof(e));
	CHECK(wg_noise_create_response(&resp, hb, e, 4));

	saved = *ha;
	accepted = 0;
	for (byte = offsetof(struct wg_msg_response, receiver_index);
	    byte < offsetof(struct wg_msg_response, macs); byte++) {
		for (bit = 0; bit < 8; bit++) {
			bad_resp = resp;
			((uint8_t *)&bad_resp)[byte] ^= (uint8_t)(1u << bit);
			if (wg_noise_consume_response(&bad_resp, &a.id,
			    lookup_index, &a) != NULL)
				accepted++;
		}
	}
	CHECK(accepted == 0);
	CHECK(memcmp(&saved, ha, sizeof(saved)) == 0);
	CHECK(wg_noise_consume_response(&resp, &a.id, lookup_index, &a) == ha);
	/* A response is good once: the handshake has moved on. */
	CHECK(wg_noise_consume_response(&resp, &a.id, lookup_index, &a) ==
	    NULL);
}

static void test_wg_unknown_peer_and_identity(void)
{
	struct side a, b, c;
	struct wg_handshake *ha, *hc;
	struct wg_msg_initiation init;
	struct wg_msg_response resp;
	struct wg_static_identity none;
	uint8_t e[WG_KEY_LEN], t[WG_TAI64N_LEN];

	side_init(&a);
	side_init(&b);
	side_init(&c);
	ha = side_add_peer(&a, b.id.static_public, NULL);
	/* b knows only c. */
	hc = side_add_peer(&b, c.id.static_public, NULL);
	fill(e, sizeof(e));
	tai(t, 600);
	CHECK(wg_noise_create_initiation(&init, ha, &a.id, e, t, 5));
	CHECK(wg_noise_consume_initiation(&init, &b.id, lookup_static, &b, 0) ==
	    NULL);
	CHECK(hc->state == WG_HANDSHAKE_ZEROED);
	/* Sent to the wrong responder (c's key, not b's): nothing decrypts. */
	side_add_peer(&c, a.id.static_public, NULL);
	CHECK(wg_noise_consume_initiation(&init, &c.id, lookup_static, &c, 0) ==
	    NULL);

	/* No identity: no message, no consumption. */
	memset(&none, 0, sizeof(none));
	CHECK(!wg_noise_create_initiation(&init, ha, &none, e, t, 5));
	CHECK(wg_noise_consume_initiation(&init, &none, lookup_static, &b, 0) ==
	    NULL);
	/* No response from a handshake that consumed nothing. */
	CHECK(!wg_noise_create_response(&resp, hc, e, 6));
	CHECK(hc->state == WG_HANDSHAKE_ZEROED);
}

static void test_wg_wrong_receiver_index(void)
{
	struct side a, b;
	struct wg_handshake *ha, *hb;
	struct wg_msg_initiation init;
	struct wg_msg_response resp, bad;
	uint8_t e[WG_KEY_LEN], t[WG_TAI64N_LEN];

	side_init(&a);
	side_init(&b);
	ha = side_add_peer(&a, b.id.static_public, NULL);
	hb = side_add_peer(&b, a.id.static_public, NULL);
	fill(e, sizeof(e));
	tai(t, 700);
	CHECK(wg_noise_create_initiation(&init, ha, &a.id, e, t, 0x1234));
	hb = wg_noise_consume_initiation(&init, &b.id, lookup_static, &b, 0);
	CHECK(hb != NULL);
	if (hb == NULL)
		return;
	fill(e, sizeof(e));
	CHECK(wg_noise_create_response(&resp, hb, e, 0x5678));
	CHECK(le32toh(resp.receiver_index) == 0x1234);
	CHECK(le32toh(resp.sender_index) == 0x5678);

	bad = resp;
	bad.receiver_index = htole32(0x1235);
	CHECK(wg_noise_consume_response(&bad, &a.id, lookup_index, &a) == NULL);
	/* The index exists but belongs to a handshake in another state. */
	ha->local_index = 0x1235;
	bad.receiver_index = htole32(0x1235);
	ha->state = WG_HANDSHAKE_CONSUMED_INITIATION;
	CHECK(wg_noise_consume_response(&bad, &a.id, lookup_index, &a) == NULL);
	ha->state = WG_HANDSHAKE_CREATED_INITIATION;
	ha->local_index = 0x1234;
	/* Even a sloppy table that hands back the wrong handshake for an
	 * index cannot make a response land on it. */
	bad.receiver_index = htole32(0x1235);
	CHECK(wg_noise_consume_response(&bad, &a.id, lookup_first, &a) == NULL);
	CHECK(wg_noise_consume_response(&resp, &a.id, lookup_index, &a) == ha);
}

/* The low-order public keys Wycheproof flags (RFC 7748 section 7's list
 * and their non-canonical twins). */
static int load_low_order(uint8_t keys[][WG_KEY_LEN], int cap)
{
	cJSON *root = load_json("wycheproof_x25519_test.json");
	const cJSON *group, *t, *f;
	int n = 0, i;

	if (root == NULL)
		return 0;
	cJSON_ArrayForEach(group, cJSON_GetObjectItemCaseSensitive(root,
	    "testGroups")) {
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(group,
		    "tests")) {
			bool low = false;
			uint8_t k[WG_KEY_LEN];

			cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(t,
			    "flags"))
				if (cJSON_IsString(f) &&
				    strcmp(f->valuestring, "LowOrderPublic") == 0)
					low = true;
			if (!low || n == cap || !json_key(t, "public", k))
				continue;
			for (i = 0; i < n; i++)
				if (memcmp(keys[i], k, WG_KEY_LEN) == 0)
					break;
			if (i == n)
				memcpy(keys[n++], k, WG_KEY_LEN);
		}
	}
	cJSON_Delete(root);
	return n;
}

static void test_wg_low_order(void)
{
	uint8_t low[32][WG_KEY_LEN];
	struct side a, b, x;
	struct wg_handshake *ha, *hb, *hx, saved;
	struct wg_msg_initiation init, bad_init;
	struct wg_msg_response resp, bad_resp;
	uint8_t e[WG_KEY_LEN], t[WG_TAI64N_LEN];
	int n = load_low_order(low, 32), i, made = 0, consumed = 0;

	CHECK(n >= 10);
	side_init(&a);
	side_init(&b);
	ha = side_add_peer(&a, b.id.static_public, NULL);
	hb = side_add_peer(&b, a.id.static_public, NULL);
	for (i = 0; i < n; i++) {
		/* A peer configured with a low-order key never gets one. */
		side_init(&x);
		hx = side_add_peer(&x, low[i], NULL);
		CHECK(wg_is_zero_ct(hx->precomputed_static_static, WG_KEY_LEN));
		fill(e, sizeof(e));
		tai(t, 800 + (uint64_t)i);
		if (wg_noise_create_initiation(&init, hx, &x.id, e, t, 1))
			made++;
		CHECK(hx->state == WG_HANDSHAKE_ZEROED);

		/* An initiation carrying a low-order ephemeral is refused
		 * before anything is decrypted ("es" is zero). */
		fill(e, sizeof(e));
		CHECK(wg_noise_create_initiation(&init, ha, &a.id, e, t, 1));
		bad_init = init;
		memcpy(bad_init.unencrypted_ephemeral, low[i], WG_KEY_LEN);
		saved = *hb;
		if (wg_noise_consume_initiation(&bad_init, &b.id,
		    lookup_static, &b, 0) != NULL)
			consumed++;
		CHECK(memcmp(&saved, hb, sizeof(saved)) == 0);
	}
	CHECK(made == 0);
	CHECK(consumed == 0);

	/* A response with a low-order ephemeral ("ee" is zero). */
	tai(t, 900);
	fill(e, sizeof(e));
	CHECK(wg_noise_create_initiation(&init, ha, &a.id, e, t, 1));
	CHECK(wg_noise_consume_initiation(&init, &b.id, lookup_static, &b,
	    0) == hb);
	fill(e, sizeof(e));
	CHECK(wg_noise_create_response(&resp, hb, e, 2));
	saved = *ha;
	for (i = 0, consumed = 0; i < n; i++) {
		bad_resp = resp;
		memcpy(bad_resp.unencrypted_ephemeral, low[i], WG_KEY_LEN);
		if (wg_noise_consume_response(&bad_resp, &a.id, lookup_index,
		    &a) != NULL)
			consumed++;
	}
	CHECK(consumed == 0);
	CHECK(memcmp(&saved, ha, sizeof(saved)) == 0);

	/* A responder's peer whose key is low order: even if an initiation
	 * claimed that identity, ss is zero and it is refused. */
	side_init(&x);
	hx = side_add_peer(&x, low[0], NULL);
	CHECK(!wg_noise_mix_precomputed_dh(&(struct wg_noise_symmetric){ 0 },
	    hx->precomputed_static_static));
}

int main(void)
{
	RUN(test_cacophony);
	RUN(test_cacophony_tamper);
	RUN(test_wireguard_ci_hi);
	RUN(test_wg_handshake);
	RUN(test_wg_is_ikpsk2);
	RUN(test_wg_psk_mismatch);
	RUN(test_wg_timestamp_and_flood);
	RUN(test_wg_forgery);
	RUN(test_wg_unknown_peer_and_identity);
	RUN(test_wg_wrong_receiver_index);
	RUN(test_wg_low_order);
	return check_summary();
}
