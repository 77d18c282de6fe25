/* The device core end to end: two (or three) devices joined by the
 * simulated link of simlink.c, a fake clock advanced event by event, and
 * real IPv4/IPv6 packets through the tunnel.  Each test states the rule it
 * checks (whitepaper section 6, Linux drivers/net/wireguard). */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"
#include "cookie.h"
#include "crypto/encoding.h"
#include "device.h"
#include "device_internal.h"
#include "simlink.h"

#define MS 1000000ULL
#define SEC 1000000000ULL
#define T_START (1000 * SEC)	/* an arbitrary non-zero start */

static const uint8_t priv_a[WG_KEY_LEN] = { 0xa0, 1, 2, 3, 4, 5, 6, 7 };
static const uint8_t priv_b[WG_KEY_LEN] = { 0xb0, 1, 2, 3, 4, 5, 6, 7 };
static const uint8_t priv_c[WG_KEY_LEN] = { 0xc0, 1, 2, 3, 4, 5, 6, 7 };

/* Tunnel addresses: 192.168.4.<n> and fd00::<n>. */
static void tun4(uint8_t out[4], uint8_t n)
{
	out[0] = 192;
	out[1] = 168;
	out[2] = 4;
	out[3] = n;
}

static void tun6(uint8_t out[16], uint8_t n)
{
	memset(out, 0, 16);
	out[0] = 0xfd;
	out[15] = n;
}

static uint16_t ip_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* An IPv4/UDP packet from 192.168.4.<s> to 192.168.4.<d> of total length
 * len (>= 32) carrying seq. */
static size_t ip4_packet(uint8_t *buf, const uint8_t src[4],
    const uint8_t dst[4], uint32_t seq, size_t len)
{
	size_t i;
	uint16_t ck;

	memset(buf, 0, len);
	buf[0] = 0x45;
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	buf[8] = 64;
	buf[9] = 17;
	memcpy(buf + 12, src, 4);
	memcpy(buf + 16, dst, 4);
	ck = ip_checksum(buf, 20);
	buf[10] = (uint8_t)(ck >> 8);
	buf[11] = (uint8_t)ck;
	buf[20] = 0x30;			/* UDP 12345 -> 12346 */
	buf[21] = 0x39;
	buf[22] = 0x30;
	buf[23] = 0x3a;
	buf[24] = (uint8_t)((len - 20) >> 8);
	buf[25] = (uint8_t)(len - 20);
	memcpy(buf + 28, &seq, 4);
	for (i = 32; i < len; i++)
		buf[i] = (uint8_t)(i * 7 + seq);
	return len;
}

/* An IPv6/UDP packet of total length len (>= 52) carrying seq. */
static size_t ip6_packet(uint8_t *buf, const uint8_t src[16],
    const uint8_t dst[16], uint32_t seq, size_t len)
{
	size_t i;

	memset(buf, 0, len);
	buf[0] = 0x60;
	buf[4] = (uint8_t)((len - 40) >> 8);
	buf[5] = (uint8_t)(len - 40);
	buf[6] = 17;
	buf[7] = 64;
	memcpy(buf + 8, src, 16);
	memcpy(buf + 24, dst, 16);
	buf[44] = (uint8_t)((len - 40) >> 8);
	buf[45] = (uint8_t)(len - 40);
	memcpy(buf + 48, &seq, 4);
	for (i = 52; i < len; i++)
		buf[i] = (uint8_t)(i * 5 + seq);
	return len;
}

static uint32_t packet_seq(const struct sim_packet *p)
{
	uint32_t seq = UINT32_MAX;

	if (p->len >= 32 && p->data[0] >> 4 == 4)
		memcpy(&seq, p->data + 28, 4);
	else if (p->len >= 52 && p->data[0] >> 4 == 6)
		memcpy(&seq, p->data + 48, 4);
	return seq;
}

static void send4(struct sim_node *from, uint8_t s, uint8_t d, uint32_t seq,
    size_t len)
{
	uint8_t buf[2048], src[4], dst[4];

	tun4(src, s);
	tun4(dst, d);
	ip4_packet(buf, src, dst, seq, len);
	wg_device_send_packet(from->dev, buf, len);
}

static void send6(struct sim_node *from, uint8_t s, uint8_t d, uint32_t seq,
    size_t len)
{
	uint8_t buf[2048], src[16], dst[16];

	tun6(src, s);
	tun6(dst, d);
	ip6_packet(buf, src, dst, seq, len);
	wg_device_send_packet(from->dev, buf, len);
}

static void public_of(const struct sim_node *n, uint8_t pub[WG_KEY_LEN])
{
	uint8_t priv[WG_KEY_LEN];

	if (!wg_device_get_keys(n->dev, priv, pub))
		abort();
	wg_wipe(priv, sizeof(priv));
}

/* Makes `peer_node` a peer of `node`, owning 192.168.4.<n>/32 and
 * fd00::<n>/128 where n is peer_node's host number, with its endpoint
 * when with_endpoint. */
static struct wg_peer *connect_peer(struct sim_node *node,
    struct sim_node *peer_node, bool with_endpoint, const uint8_t *psk)
{
	uint8_t pub[WG_KEY_LEN], a4[4], a6[16];
	uint8_t host =
	    (uint8_t)ntohl(peer_node->addr.addr.in4.sin_addr.s_addr);
	struct wg_peer *peer;

	public_of(peer_node, pub);
	if (wg_device_peer_add(node->dev, pub, &peer) != 0)
		abort();
	tun4(a4, host);
	tun6(a6, host);
	if (wg_peer_allowed_ip_add(peer, AF_INET, a4, 32) != 0 ||
	    wg_peer_allowed_ip_add(peer, AF_INET6, a6, 128) != 0)
		abort();
	if (with_endpoint)
		wg_peer_set_endpoint(peer, &peer_node->addr);
	wg_peer_set_preshared_key(peer, psk);
	return peer;
}

struct pair {
	struct sim *sim;
	struct sim_node *a, *b;		/* 10.0.0.1 and 10.0.0.2 */
	struct wg_peer *ab, *ba;	/* A's peer B, B's peer A */
};

/* A knows where B is; B learns A's endpoint from the handshake. */
static void pair_setup(struct pair *p, uint64_t seed, bool b_knows_a)
{
	char b64[WG_KEY_BASE64_SIZE], hex[WG_KEY_HEX_SIZE];
	uint8_t pub[WG_KEY_LEN];

	p->sim = sim_new(seed, T_START);
	p->a = sim_node_add(p->sim, "A", 1, 51820, priv_a);
	p->b = sim_node_add(p->sim, "B", 2, 51820, priv_b);
	p->ab = connect_peer(p->a, p->b, true, NULL);
	p->ba = connect_peer(p->b, p->a, b_knows_a, NULL);
	/* No log line may ever carry a key, private or public. */
	wg_key_to_base64(b64, priv_a);
	b64[12] = '\0';
	sim_forbid_in_logs(p->sim, b64);
	wg_key_to_hex(hex, priv_b);
	hex[16] = '\0';
	sim_forbid_in_logs(p->sim, hex);
	public_of(p->a, pub);
	wg_key_to_base64(b64, pub);
	b64[12] = '\0';
	sim_forbid_in_logs(p->sim, b64);
}

static void pair_free(struct pair *p)
{
	CHECK(!sim_stuck(p->sim));
	CHECK(sim_log_leaks(p->sim) == 0);
	sim_free(p->sim);
}

/* Brings a session up with one A->B packet and checks it arrived. */
static void pair_connect(struct pair *p)
{
	size_t before = p->b->tun_len;

	send4(p->a, 1, 2, 0xc0ffee, 100);
	sim_run_for(p->sim, 1 * SEC);
	CHECK(p->b->tun_len == before + 1);
}

static const struct wg_device_stats *stats(const struct sim_node *n)
{
	return wg_device_get_stats(n->dev);
}

static void check_no_drops(const struct sim_node *n)
{
	const struct wg_device_stats *s = stats(n);

	CHECK(s->rx_invalid == 0);
	CHECK(s->rx_bad_mac == 0);
	CHECK(s->rx_handshake_failed == 0);
	CHECK(s->rx_unknown_index == 0);
	CHECK(s->rx_decrypt_failed == 0);
	CHECK(s->rx_replayed == 0);
	CHECK(s->rx_bad_inner == 0);
	CHECK(s->tx_no_route == 0);
	CHECK(s->tx_dropped == 0);
}

/* ------------------------------------------------------------------ tests */

/* Whitepaper 5.4: the first packet is staged, an initiation and response
 * follow, and the packet arrives intact; then IPv6 the other way. */
static void test_handshake_and_data(void)
{
	struct pair p;
	struct wg_peer_info ia, ib;
	uint8_t src[4], dst[4], want4[100], s6[16], d6[16], want6[300];

	pair_setup(&p, 1, false);
	tun4(src, 1);
	tun4(dst, 2);
	ip4_packet(want4, src, dst, 7, sizeof(want4));
	wg_device_send_packet(p.a->dev, want4, sizeof(want4));
	sim_run_for(p.sim, 1 * SEC);

	CHECK(p.a->sent[WG_MSG_INITIATION] == 1);
	CHECK(p.b->sent[WG_MSG_RESPONSE] == 1);
	/* The staged packet itself confirms the session: no keepalive. */
	CHECK(p.a->sent_keepalive == 0);
	CHECK(p.a->sent[WG_MSG_DATA] == 1);
	CHECK(p.b->tun_len == 1);
	if (p.b->tun_len == 1) {
		CHECK(p.b->tun[0].len == sizeof(want4));
		CHECK_MEM(p.b->tun[0].data, want4, sizeof(want4));
	}

	tun6(s6, 2);
	tun6(d6, 1);
	ip6_packet(want6, s6, d6, 9, sizeof(want6));
	wg_device_send_packet(p.b->dev, want6, sizeof(want6));
	sim_run_for(p.sim, 1 * SEC);
	CHECK(p.a->tun_len == 1);
	if (p.a->tun_len == 1) {
		CHECK(p.a->tun[0].len == sizeof(want6));
		CHECK_MEM(p.a->tun[0].data, want6, sizeof(want6));
	}

	wg_peer_get_info(p.ab, &ia);
	wg_peer_get_info(p.ba, &ib);
	CHECK(ia.last_handshake_unix_ns != 0);
	CHECK(ib.last_handshake_unix_ns != 0);
	CHECK(ib.has_endpoint);
	CHECK(ib.endpoint.addr.in4.sin_addr.s_addr ==
	    p.a->addr.addr.in4.sin_addr.s_addr);
	/* Whole messages both ways, nothing lost: what one sent the other
	 * received. */
	CHECK(ia.tx_bytes == ib.rx_bytes);
	CHECK(ib.tx_bytes == ia.rx_bytes);
	CHECK(ia.tx_bytes == 148 + 16 + 112 + 16);
	CHECK(ib.tx_bytes == 92 + 16 + 300 + 4 + 16);
	check_no_drops(p.a);
	check_no_drops(p.b);
	CHECK(sim_log_lines(p.sim) > 0);
	pair_free(&p);
}

static unsigned dropped_data;

static bool drop_first_data(void *ctx, struct sim_node *from,
    struct sim_node *to, const uint8_t *buf, size_t len)
{
	if (buf[0] == WG_MSG_DATA && from == ctx && dropped_data == 0) {
		dropped_data++;
		return false;
	}
	return true;
}

/* Key confirmation (whitepaper 5.4.6, Linux add_new_keypair): the
 * responder does not send with its new keypair until the initiator's first
 * data message arrives under it. */
static void test_responder_waits_for_confirmation(void)
{
	struct pair p;

	pair_setup(&p, 25, false);
	dropped_data = 0;
	sim_set_filter(p.sim, drop_first_data, p.a);
	send4(p.a, 1, 2, 1, 64);
	sim_run_for(p.sim, 15 * MS);		/* B has answered */
	CHECK(p.b->sent[WG_MSG_RESPONSE] == 1);
	CHECK(p.ba->keypairs.next != NULL && p.ba->keypairs.current == NULL);
	send4(p.b, 2, 1, 2, 64);
	sim_run_for(p.sim, 1 * SEC);
	CHECK(dropped_data == 1);
	CHECK(p.b->sent[WG_MSG_DATA] == 0);	/* staged, not sent */
	CHECK(p.a->tun_len == 0);
	send4(p.a, 1, 2, 3, 64);		/* confirms */
	sim_run_for(p.sim, 1 * SEC);
	CHECK(p.b->tun_len == 1);
	CHECK(p.a->tun_len == 1);
	CHECK(p.ba->keypairs.current != NULL && p.ba->keypairs.next == NULL);
	pair_free(&p);
}

/* Either side may initiate. */
static void test_b_initiates(void)
{
	struct pair p;

	pair_setup(&p, 2, true);
	send6(p.b, 2, 1, 1, 80);
	sim_run_for(p.sim, 1 * SEC);
	CHECK(p.b->sent[WG_MSG_INITIATION] == 1);
	CHECK(p.a->sent[WG_MSG_INITIATION] == 0);
	CHECK(p.a->tun_len == 1);
	send4(p.a, 1, 2, 2, 60);
	sim_run_for(p.sim, 1 * SEC);
	CHECK(p.b->tun_len == 1);
	check_no_drops(p.a);
	check_no_drops(p.b);
	pair_free(&p);
}

static size_t wire_len;

static bool capture_len(void *ctx, struct sim_node *from, struct sim_node *to,
    const uint8_t *buf, size_t len)
{
	if (buf[0] == WG_MSG_DATA)
		wire_len = len;
	return true;
}

/* Plaintext padded to 16 but never past the MTU (Linux
 * calculate_skb_padding). */
static void test_padding(void)
{
	static const struct {
		size_t len;
		unsigned mtu;
		size_t padded;
	} rows[] = {
		{ 32, 1420, 32 }, { 33, 1420, 48 }, { 100, 1420, 112 },
		{ 1419, 1420, 1420 }, { 1420, 1420, 1420 },
		{ 1421, 1420, 1436 },	/* over the MTU: last unit padded */
		{ 1500, 1500, 1504 - 4 }, { 1490, 1500, 1500 },
		{ 60, 0, 64 },
	};
	struct pair p;
	size_t i;

	pair_setup(&p, 3, false);
	pair_connect(&p);
	sim_set_filter(p.sim, capture_len, NULL);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t before = p.b->tun_len;

		wg_device_set_mtu(p.a->dev, rows[i].mtu);
		wire_len = 0;
		send4(p.a, 1, 2, (uint32_t)i, rows[i].len);
		sim_run_for(p.sim, 100 * MS);
		if (wire_len != 16 + rows[i].padded + 16)
			CHECK_FAIL("len %zu mtu %u: wire %zu, want %zu",
			    rows[i].len, rows[i].mtu, wire_len,
			    16 + rows[i].padded + 16);
		/* The receiver trims the padding by the IP length. */
		CHECK(p.b->tun_len == before + 1);
		if (p.b->tun_len == before + 1)
			CHECK(p.b->tun[before].len == rows[i].len);
	}
	pair_free(&p);
}

/* Records when each side sent which kind of message. */
struct trace {
	uint64_t at[4096];
	size_t n;
	struct sim_node *who;
	int type;		/* message type; 5 = keepalive */
};

static bool record(void *ctx, struct sim_node *from, struct sim_node *to,
    const uint8_t *buf, size_t len)
{
	struct trace *t = ctx;
	int type = buf[0] == WG_MSG_DATA && len == 32 ? 5 : buf[0];

	if (from == t->who && type == t->type && t->n < 4096)
		t->at[t->n++] = sim_now(from->sim);
	return true;
}

/* KEEPALIVE_TIMEOUT: data received and nothing sent for 10 s -> an empty
 * data message; receiving it does not trigger another. */
static void test_keepalive_after_receive(void)
{
	struct pair p;
	struct trace t = { .type = 5 };
	uint64_t t0;

	pair_setup(&p, 4, false);
	pair_connect(&p);
	sim_run_for(p.sim, 20 * SEC);
	t.who = p.b;
	sim_set_filter(p.sim, record, &t);
	t0 = sim_now(p.sim);
	send4(p.a, 1, 2, 1, 64);
	sim_run_for(p.sim, 30 * SEC);
	CHECK(t.n == 1);
	if (t.n == 1) {
		/* Sent 10 s after the data arrived (10 ms latency). */
		CHECK(t.at[0] == t0 + 10 * MS + 10 * SEC);
	}
	/* A sent data and heard the keepalive: no new handshake at 15 s. */
	CHECK(p.a->sent[WG_MSG_INITIATION] == 1);
	CHECK(p.a->sent_keepalive == 0);
	check_no_drops(p.a);
	check_no_drops(p.b);
	pair_free(&p);
}

/* Persistent keepalive: turning it on sends at once (here: a handshake
 * and then the keepalive), then every N s of silence. */
static void test_persistent_keepalive(void)
{
	struct pair p;
	struct trace t = { .type = 5 };
	size_t i;

	pair_setup(&p, 5, false);
	t.who = p.a;
	sim_set_filter(p.sim, record, &t);
	wg_peer_set_persistent_keepalive(p.ab, 25);
	sim_run_for(p.sim, 101 * SEC);
	CHECK(p.a->sent[WG_MSG_INITIATION] == 1);
	CHECK(t.n == 5);
	for (i = 1; i < t.n; i++)
		CHECK(t.at[i] - t.at[i - 1] == 25 * SEC);
	/* B only received keepalives, so it sends none of its own. */
	CHECK(p.b->sent_keepalive == 0);
	wg_peer_set_persistent_keepalive(p.ab, 0);
	sim_run_for(p.sim, 100 * SEC);
	CHECK(t.n == 5);
	check_no_drops(p.a);
	check_no_drops(p.b);
	pair_free(&p);
}

/* REKEY_TIMEOUT retransmission with jitter, give-up after
 * REKEY_ATTEMPT_TIME (20 initiations, Linux MAX_TIMER_HANDSHAKES + 2), the
 * staged packets dropped, and silence afterwards. */
static void test_retransmit_and_give_up(void)
{
	struct pair p;
	struct trace t = { .type = WG_MSG_INITIATION };
	size_t i;

	pair_setup(&p, 6, false);
	p.b->down = true;
	t.who = p.a;
	sim_set_filter(p.sim, record, &t);
	send4(p.a, 1, 2, 1, 64);
	send4(p.a, 1, 2, 2, 64);
	send4(p.a, 1, 2, 3, 64);
	sim_run_for(p.sim, 300 * SEC);
	CHECK(t.n == WG_MAX_TIMER_HANDSHAKES + 2);
	for (i = 1; i < t.n; i++) {
		uint64_t d = t.at[i] - t.at[i - 1];

		if (d < 5 * SEC || d > 5 * SEC + 333 * MS)
			CHECK_FAIL("retry %zu after %llu ns", i,
			    (unsigned long long)d);
	}
	/* Gave up about 90-100 s in, dropping the three staged packets. */
	CHECK(t.n > 0 && t.at[t.n - 1] - t.at[0] >= 95 * SEC &&
	    t.at[t.n - 1] - t.at[0] <= 100 * SEC);
	CHECK(stats(p.a)->tx_dropped == 3);
	CHECK(p.a->sent[WG_MSG_DATA] == 0);

	/* New data starts over. */
	p.b->down = false;
	send4(p.a, 1, 2, 4, 64);
	sim_run_for(p.sim, 1 * SEC);
	CHECK(p.b->tun_len == 1);
	pair_free(&p);
}

/* Linux MAX_STAGED_PACKETS: while there is no session at most 128 packets
 * wait per peer, the oldest dropped first, and they go out in order once
 * the handshake completes. */
static void test_staging_limit(void)
{
	struct pair p;
	uint32_t seq;
	size_t i;

	pair_setup(&p, 33, false);
	p.b->down = true;
	for (seq = 0; seq < 200; seq++)
		send4(p.a, 1, 2, seq, 100);
	CHECK(p.ab->staged.count == WG_MAX_STAGED_PACKETS);
	CHECK(stats(p.a)->tx_dropped == 200 - WG_MAX_STAGED_PACKETS);
	p.b->down = false;
	sim_run_for(p.sim, 6 * SEC);	/* the retransmission gets through */
	CHECK(p.b->tun_len == WG_MAX_STAGED_PACKETS);
	for (i = 0; i < p.b->tun_len; i++)
		if (packet_seq(&p.b->tun[i]) != 200 - WG_MAX_STAGED_PACKETS + i)
			CHECK_FAIL("staged packet %zu out of order", i);
	CHECK(p.ab->staged.count == 0);
	pair_free(&p);
}

struct counting {
	uint8_t seen[2][8192];		/* per direction, per seq */
	unsigned dup;
};

static void tally(struct counting *c, int dir, const struct sim_node *n,
    size_t from)
{
	size_t i;

	for (i = from; i < n->tun_len; i++) {
		uint32_t seq = packet_seq(&n->tun[i]);

		if (seq >= 8192)
			continue;
		if (c->seen[dir][seq]++)
			c->dup++;
	}
}

/* REKEY_AFTER_TIME under continuous traffic both ways, with reordering and
 * duplication: several handshakes, and every packet arrives exactly once. */
static void test_rekey_no_loss(void)
{
	struct sim_impair imp = {
		.latency_ns = 20 * MS, .reorder_pct = 20, .dup_pct = 5,
	};
	struct pair p;
	struct counting *c = calloc(1, sizeof(*c));
	uint32_t seq;
	uint64_t ids_seen = 0, last_id = 0;

	pair_setup(&p, 7, false);
	sim_set_impair(p.sim, &imp);
	pair_connect(&p);
	sim_node_clear_tun(p.b);
	for (seq = 0; seq < 4000; seq++) {
		struct wg_keypair *kp;

		send4(p.a, 1, 2, seq, 200);
		send6(p.b, 2, 1, seq, 300);
		sim_run_for(p.sim, 100 * MS);
		kp = p.ab->keypairs.current;
		if (kp != NULL && kp->internal_id != last_id) {
			last_id = kp->internal_id;
			ids_seen++;
		}
	}
	sim_run_for(p.sim, 1 * SEC);
	tally(c, 0, p.b, 0);
	tally(c, 1, p.a, 0);
	for (seq = 0; seq < 4000; seq++) {
		if (c->seen[0][seq] != 1 || c->seen[1][seq] != 1) {
			CHECK_FAIL("seq %u arrived %u and %u times", seq,
			    c->seen[0][seq], c->seen[1][seq]);
			break;
		}
	}
	CHECK(c->dup == 0);
	/* 400 s of traffic: a new session about every 120 s, started by the
	 * initiator (A) only. */
	CHECK(ids_seen >= 4);
	CHECK(p.a->sent[WG_MSG_INITIATION] >= 4 &&
	    p.a->sent[WG_MSG_INITIATION] <= 5);
	CHECK(p.b->sent[WG_MSG_INITIATION] == 0);
	CHECK(stats(p.a)->tx_dropped == 0 && stats(p.b)->tx_dropped == 0);
	CHECK(stats(p.a)->rx_decrypt_failed == 0);
	CHECK(stats(p.b)->rx_replayed > 0);	/* the duplicates */
	free(c);
	pair_free(&p);
}

/* Whitepaper 6.2, receive side (Linux receive.c keep_key_fresh): an
 * initiator that gets data on a session older than REJECT_AFTER_TIME -
 * KEEPALIVE_TIMEOUT - REKEY_TIMEOUT (165 s) starts a handshake at once,
 * even though it has sent nothing itself; younger, it does not. */
static void test_receive_side_rekey(void)
{
	static const struct {
		uint64_t after_s;
		bool initiates;
	} rows[] = { { 160, false }, { 166, true } };
	size_t i;

	for (i = 0; i < 2; i++) {
		struct pair p;
		uint64_t born;

		pair_setup(&p, 30 + i, false);
		pair_connect(&p);
		born = p.ab->keypairs.current->birthdate;
		sim_run_until(p.sim, born + rows[i].after_s * SEC);
		CHECK(p.a->sent[WG_MSG_INITIATION] == 1);
		send4(p.b, 2, 1, 1, 64);
		sim_run_for(p.sim, 50 * MS);
		CHECK(p.a->tun_len == 1);
		CHECK((p.a->sent[WG_MSG_INITIATION] == 2) == rows[i].initiates);
		pair_free(&p);
	}
}

/* REKEY_AFTER_MESSAGES and REJECT_AFTER_MESSAGES (whitepaper 6.1), with
 * the counter moved close to the limits by hand. */
static void test_message_limits(void)
{
	struct pair p;
	struct wg_keypair *kp, *old;

	pair_setup(&p, 32, false);
	pair_connect(&p);
	kp = p.ab->keypairs.current;
	kp->sending_counter = WG_REKEY_AFTER_MESSAGES + 1;
	sim_run_for(p.sim, 6 * SEC);
	send4(p.a, 1, 2, 1, 64);
	sim_run_for(p.sim, 1 * SEC);
	CHECK(p.b->tun_len == 2);
	CHECK(p.a->sent[WG_MSG_INITIATION] == 2);
	CHECK(p.ab->keypairs.current != kp);

	sim_run_for(p.sim, 6 * SEC);
	kp = p.ab->keypairs.current;
	kp->sending_counter = WG_REJECT_AFTER_MESSAGES - 1;
	send4(p.a, 1, 2, 2, 64);	/* the last nonce there is */
	CHECK(p.a->sent[WG_MSG_INITIATION] == 3);	/* and rekey */
	send4(p.a, 1, 2, 3, 64);	/* none left: staged */
	CHECK(p.ab->staged.count == 1 || p.ab->keypairs.current != kp);
	sim_run_for(p.sim, 1 * SEC);
	CHECK(p.b->tun_len == 4);
	CHECK(!kp->sending_valid);
	/* B took the last counter under that keypair: it receives no more
	 * with it. */
	old = p.ba->keypairs.previous;
	CHECK(old != NULL && old->replay.top == WG_REJECT_AFTER_MESSAGES);
	CHECK(old != NULL && !wg_keypair_can_receive(old, sim_now(p.sim)));
	CHECK(stats(p.a)->tx_dropped == 0);
	pair_free(&p);
}

struct hold {
	uint64_t at;		/* capture the first data message after this */
	bool drop_handshakes;
	uint8_t buf[2048];
	size_t len;
	uint64_t last_data_at;
	struct sim_node *who;
};

static bool hold_filter(void *ctx, struct sim_node *from, struct sim_node *to,
    const uint8_t *buf, size_t len)
{
	struct hold *h = ctx;
	uint64_t now = sim_now(from->sim);

	if (h->drop_handshakes && buf[0] != WG_MSG_DATA)
		return false;
	if (from == h->who && buf[0] == WG_MSG_DATA && len > 32) {
		h->last_data_at = now;
		if (h->len == 0 && now >= h->at && len <= sizeof(h->buf)) {
			memcpy(h->buf, buf, len);
			h->len = len;
			return false;
		}
	}
	return true;
}

/* REJECT_AFTER_TIME: with no new handshake possible, nothing is sent with
 * a keypair older than 180 s and nothing older is accepted; after 540 s
 * the keys are gone. */
static void test_expiry(void)
{
	struct pair p;
	struct hold h = { 0 };
	uint64_t born;
	size_t tun_before;
	int i;

	pair_setup(&p, 8, false);
	pair_connect(&p);
	born = p.ab->keypairs.current->birthdate;
	h.drop_handshakes = true;
	h.who = p.a;
	h.at = born + 179 * SEC;
	sim_set_filter(p.sim, hold_filter, &h);
	for (i = 0; i < 200; i++) {
		send4(p.a, 1, 2, (uint32_t)i, 64);
		sim_run_for(p.sim, 1 * SEC);
	}
	CHECK(h.len > 0);
	CHECK(h.last_data_at < born + 180 * SEC);
	CHECK(h.last_data_at >= born + 178 * SEC);
	/* The packets after 180 s wait for a handshake that never comes. */
	CHECK(p.ab->staged.count > 0);

	/* The held message, 180 s after its keypair was made, is refused. */
	tun_before = p.b->tun_len;
	sim_inject(p.b, &p.a->addr, h.buf, h.len);
	CHECK(p.b->tun_len == tun_before);
	CHECK(stats(p.b)->rx_unknown_index == 1);

	sim_run_until(p.sim, born + 541 * SEC);
	CHECK(p.ab->keypairs.current == NULL);
	CHECK(p.ab->keypairs.previous == NULL);
	CHECK(p.ba->keypairs.current == NULL);
	CHECK(p.a->dev->indices.count == 0);
	pair_free(&p);
}

static struct {
	uint8_t buf[2048];
	size_t len;
} captured;

static bool capture_first_data(void *ctx, struct sim_node *from,
    struct sim_node *to, const uint8_t *buf, size_t len)
{
	if (buf[0] == WG_MSG_DATA && len > 32 && captured.len == 0) {
		memcpy(captured.buf, buf, len);
		captured.len = len;
	}
	return true;
}

/* Replay protection: a replayed data message is dropped and counted, its
 * inner packet delivered once. */
static void test_replay(void)
{
	struct pair p;

	pair_setup(&p, 9, false);
	pair_connect(&p);
	captured.len = 0;
	sim_set_filter(p.sim, capture_first_data, NULL);
	send4(p.a, 1, 2, 5, 64);
	sim_run_for(p.sim, 1 * SEC);
	CHECK(captured.len > 0);
	CHECK(p.b->tun_len == 2);
	sim_inject(p.b, &p.a->addr, captured.buf, captured.len);
	sim_inject(p.b, &p.a->addr, captured.buf, captured.len);
	CHECK(p.b->tun_len == 2);
	CHECK(stats(p.b)->rx_replayed == 2);
	/* A forged counter far ahead fails the tag and does not move the
	 * window: the next real packet (a small counter) still arrives. */
	captured.buf[8 + 3] = 0x7f;
	sim_inject(p.b, &p.a->addr, captured.buf, captured.len);
	CHECK(stats(p.b)->rx_decrypt_failed == 1);
	send4(p.a, 1, 2, 6, 64);
	sim_run_for(p.sim, 1 * SEC);
	CHECK(p.b->tun_len == 3);
	CHECK(stats(p.b)->rx_replayed == 2);
	pair_free(&p);
}

/* Every packet duplicated on the wire still arrives exactly once. */
static void test_duplicates(void)
{
	struct sim_impair imp = { .latency_ns = 5 * MS, .dup_pct = 100 };
	struct pair p;
	struct counting *c = calloc(1, sizeof(*c));
	uint32_t seq;

	pair_setup(&p, 10, false);
	sim_set_impair(p.sim, &imp);
	pair_connect(&p);
	sim_node_clear_tun(p.b);
	for (seq = 0; seq < 50; seq++)
		send4(p.a, 1, 2, seq, 100);
	sim_run_for(p.sim, 1 * SEC);
	tally(c, 0, p.b, 0);
	CHECK(p.b->tun_len == 50);
	CHECK(c->dup == 0);
	CHECK(stats(p.b)->rx_replayed >= 50);
	free(c);
	pair_free(&p);
}

/* Cryptokey routing inbound: the inner source must be the sending peer's. */
static void test_inner_source_checked(void)
{
	struct pair p;
	uint8_t buf[64], src[4], dst[4];

	pair_setup(&p, 11, false);
	pair_connect(&p);
	send4(p.a, 99, 2, 1, 64);	/* 192.168.4.99 is nobody's */
	send4(p.a, 2, 2, 2, 64);	/* B's own address */
	sim_run_for(p.sim, 1 * SEC);
	CHECK(p.b->tun_len == 1);
	CHECK(stats(p.b)->rx_bad_inner == 2);
	/* Not IP at all, and a total length beyond what was decrypted. */
	tun4(src, 1);
	tun4(dst, 2);
	ip4_packet(buf, src, dst, 3, sizeof(buf));
	buf[3] = 200;
	wg_device_send_packet(p.a->dev, buf, sizeof(buf));
	sim_run_for(p.sim, 1 * SEC);
	CHECK(stats(p.b)->rx_bad_inner == 3);
	CHECK(p.b->tun_len == 1);
	pair_free(&p);
}

/* Cryptokey routing outbound: no peer for the destination. */
static void test_no_route(void)
{
	struct pair p;
	uint8_t junk[10] = { 0x45 };

	pair_setup(&p, 12, false);
	send4(p.a, 1, 77, 1, 64);
	sim_run_for(p.sim, 1 * SEC);
	CHECK(stats(p.a)->tx_no_route == 1);
	CHECK(p.a->sent[WG_MSG_INITIATION] == 0);
	wg_device_send_packet(p.a->dev, junk, sizeof(junk));
	CHECK(stats(p.a)->tx_dropped == 1);
	CHECK(stats(p.a)->tx_no_route == 1);
	pair_free(&p);
}

struct flood {
	struct wg_cookie mac;		/* keyed with B's public key */
	uint32_t next_src;
};

/* n initiations with a valid mac1 and garbage inside, from n sources. */
static void inject_flood(struct pair *p, struct flood *f, unsigned n)
{
	struct wg_msg_initiation msg;
	struct wg_endpoint from;
	unsigned i;

	for (i = 0; i < n; i++) {
		sim_random(p->sim, &msg, sizeof(msg));
		msg.header.type = htole32(WG_MSG_INITIATION);
		wg_cookie_add_macs(&f->mac, &msg, sizeof(msg), sim_now(p->sim));
		memset(&from, 0, sizeof(from));
		from.addr.in4.sin_family = AF_INET;
		from.addr.in4.sin_port = htons(1024 + (f->next_src & 0x3fff));
		from.addr.in4.sin_addr.s_addr =
		    htonl(0xac100000u | (f->next_src++ & 0xfffff));
		sim_inject(p->b, &from, (const uint8_t *)&msg, sizeof(msg));
	}
}

static struct {
	uint8_t buf[sizeof(struct wg_msg_initiation)];
	bool have;
} with_mac2;

static bool capture_mac2(void *ctx, struct sim_node *from, struct sim_node *to,
    const uint8_t *buf, size_t len)
{
	static const uint8_t zero[WG_MAC_LEN];

	if (buf[0] == WG_MSG_INITIATION && len == sizeof(with_mac2.buf) &&
	    memcmp(buf + 132, zero, WG_MAC_LEN) != 0 && !with_mac2.have) {
		memcpy(with_mac2.buf, buf, len);
		with_mac2.have = true;
	}
	return true;
}

/* Whitepaper 5.3 and 5.4.7: under load (queue 1/8 full) B answers
 * initiations without mac2 with cookie replies; A takes the cookie and its
 * retransmission carries mac2, which B accepts while still under load;
 * the rate limiter then caps what one source can make B compute. */
static void test_cookie_under_load(void)
{
	struct pair p;
	struct flood f = { .next_src = 1 };
	uint8_t pub_b[WG_KEY_LEN];
	uint64_t done_at = 0, i, limited;

	pair_setup(&p, 13, false);
	public_of(p.b, pub_b);
	wg_cookie_init(&f.mac, pub_b);
	with_mac2.have = false;
	sim_set_filter(p.sim, capture_mac2, NULL);

	inject_flood(&p, &f, 1000);
	CHECK(wg_device_next_deadline(p.b->dev) <= sim_now(p.sim));
	send4(p.a, 1, 2, 1, 64);
	for (i = 0; i < 100 && done_at == 0; i++) {
		inject_flood(&p, &f, 600);
		sim_run_for(p.sim, 200 * MS);
		if (p.b->tun_len > 0)
			done_at = sim_now(p.sim);
	}
	CHECK(done_at != 0);
	CHECK(stats(p.b)->rx_cookie_required > 1000);
	CHECK(p.b->sent[WG_MSG_COOKIE_REPLY] > 1000);
	/* A got a cookie for its first initiation and retried with mac2
	 * after REKEY_TIMEOUT; B was under load all along. */
	CHECK(p.a->sent[WG_MSG_INITIATION] == 2);
	CHECK(with_mac2.have);
	CHECK(p.ab->cookie.is_valid);
	CHECK(p.b->dev->last_under_load != 0);
	CHECK(done_at >= T_START + 5 * SEC && done_at < T_START + 6 * SEC);
	/* The cookie reply moved no endpoint and A counted no failures. */
	CHECK(stats(p.a)->rx_handshake_failed == 0);

	/* The same mac2-bearing initiation, 20 times at once from A's
	 * address while under load: five tokens of burst at most. */
	limited = stats(p.b)->rx_ratelimited;
	inject_flood(&p, &f, 600);
	for (i = 0; i < 20; i++)
		sim_inject(p.b, &p.a->addr, with_mac2.buf,
		    sizeof(with_mac2.buf));
	sim_run_for(p.sim, 1 * MS);
	CHECK(stats(p.b)->rx_ratelimited - limited >= 15);

	/* Load over: a second later the queue is empty and handshakes
	 * need no cookie again. */
	sim_run_for(p.sim, 2 * SEC);
	CHECK(wg_device_next_deadline(p.b->dev) > sim_now(p.sim));
	pair_free(&p);
}

/* Whitepaper 5.3: the queue is bounded.  A flood without mac2 fills it
 * only to the under-load mark (1/8): from then on each message is answered
 * with a cookie reply at the door and takes no place, so the queue stays
 * free for initiations that prove their address. */
static void test_handshake_queue_bounded(void)
{
	struct pair p;
	struct flood f = { .next_src = 1 };
	uint8_t pub_b[WG_KEY_LEN];

	pair_setup(&p, 14, false);
	public_of(p.b, pub_b);
	wg_cookie_init(&f.mac, pub_b);
	inject_flood(&p, &f, WG_MAX_QUEUED_HANDSHAKES + 100);
	CHECK(p.b->dev->handshakes.len == WG_MAX_QUEUED_HANDSHAKES / 8);
	CHECK(stats(p.b)->rx_cookie_required ==
	    WG_MAX_QUEUED_HANDSHAKES + 100 - WG_MAX_QUEUED_HANDSHAKES / 8);
	CHECK(p.b->sent[WG_MSG_COOKIE_REPLY] ==
	    WG_MAX_QUEUED_HANDSHAKES + 100 - WG_MAX_QUEUED_HANDSHAKES / 8);
	CHECK(stats(p.b)->rx_queue_full == 0);
	/* One tick does a bounded amount of work. */
	wg_device_tick(p.b->dev);
	CHECK(p.b->dev->handshakes.len ==
	    WG_MAX_QUEUED_HANDSHAKES / 8 - WG_HANDSHAKES_PER_TICK);
	sim_run_for(p.sim, 1 * MS);
	CHECK(p.b->dev->handshakes.len == 0);
	pair_free(&p);
}

/* The reason for the check at the door.  Each time A's initiation leaves,
 * a burst of 5,000 spoofed initiations (valid mac1, no mac2) reaches B
 * before it: more than the whole queue.  Answered with cookie replies at
 * the door, they never fill the queue (were they queued, it would overflow
 * and, on a real CPU that cannot drain it before A's initiation lands,
 * drop A's too: the simulated B computes instantly, so what this test can
 * show is the queue never overflowing); A's retry with its cookie gets
 * through. */
static struct {
	struct pair *p;
	struct flood *f;
	unsigned bursts;
} ahead;

static bool flood_ahead_of_initiations(void *ctx, struct sim_node *from,
    struct sim_node *to, const uint8_t *buf, size_t len)
{
	if (from == ahead.p->a && buf[0] == WG_MSG_INITIATION) {
		ahead.bursts++;
		inject_flood(ahead.p, ahead.f, 5000);
	}
	return true;
}

static void test_peer_completes_during_spoofed_flood(void)
{
	struct pair p;
	struct flood f = { .next_src = 1 };
	uint8_t pub_b[WG_KEY_LEN];

	pair_setup(&p, 15, false);
	public_of(p.b, pub_b);
	wg_cookie_init(&f.mac, pub_b);
	ahead.p = &p;
	ahead.f = &f;
	ahead.bursts = 0;
	sim_set_filter(p.sim, flood_ahead_of_initiations, NULL);
	send4(p.a, 1, 2, 1, 64);
	sim_run_for(p.sim, 12 * SEC);
	/* The first initiation got a cookie reply, the retry after
	 * REKEY_TIMEOUT carried mac2 and went through. */
	CHECK(p.b->tun_len > 0);
	CHECK(ahead.bursts == 2);
	CHECK(stats(p.b)->rx_queue_full == 0);
	CHECK(stats(p.b)->rx_cookie_required >= 2 * 5000 -
	    WG_MAX_QUEUED_HANDSHAKES / 8);
	sim_set_filter(p.sim, NULL, NULL);
	pair_free(&p);
}

/* Adds a peer for every distinct Wycheproof X25519 public key flagged
 * LowOrderPublic, owning 10.200.0.<n>/32; returns how many. */
static unsigned add_low_order_peers(struct sim_node *a,
    const struct wg_endpoint *ep)
{
	cJSON *root, *group, *test;
	unsigned n = 0;

	root = load_json("wycheproof_x25519_test.json");
	cJSON_ArrayForEach(group, cJSON_GetObjectItem(root, "testGroups")) {
		cJSON_ArrayForEach(test, cJSON_GetObjectItem(group, "tests")) {
			const char *hex = cJSON_GetStringValue(
			    cJSON_GetObjectItem(test, "public"));
			uint8_t pub[WG_KEY_LEN], addr[4] = { 10, 200, 0, 0 };
			struct wg_peer *peer;

			if (!has_flag(test, "LowOrderPublic") || hex == NULL ||
			    check_unhex(hex, pub, sizeof(pub)) != WG_KEY_LEN)
				continue;
			if (wg_device_peer_add(a->dev, pub, &peer) != 0)
				continue;	/* the same point twice */
			addr[3] = (uint8_t)++n;
			CHECK(wg_peer_allowed_ip_add(peer, AF_INET, addr,
			    32) == 0);
			wg_peer_set_endpoint(peer, ep);
		}
	}
	cJSON_Delete(root);
	return n;
}

/* Datagrams that never get far: not a message, a bad mac1, handshakes from
 * IPv6 sources under load (cookie reply to them), and a peer with no
 * endpoint yet. */
static void test_odd_inputs(void)
{
	struct pair p;
	struct flood f = { .next_src = 1 };
	struct wg_msg_initiation msg;
	struct wg_endpoint from6;
	uint8_t pub_b[WG_KEY_LEN], junk[40] = { 7 };
	uint64_t replies;

	pair_setup(&p, 26, false);
	public_of(p.b, pub_b);
	wg_cookie_init(&f.mac, pub_b);
	sim_inject(p.b, &p.a->addr, junk, sizeof(junk));
	CHECK(stats(p.b)->rx_invalid == 1);
	sim_random(p.sim, &msg, sizeof(msg));
	msg.header.type = htole32(WG_MSG_INITIATION);
	sim_inject(p.b, &p.a->addr, (const uint8_t *)&msg, sizeof(msg));
	CHECK(stats(p.b)->rx_bad_mac == 1);
	CHECK(p.b->dev->handshakes.len == 0);

	/* B has no endpoint for A yet: nothing to send to. */
	send4(p.b, 2, 1, 1, 64);
	CHECK(stats(p.b)->tx_dropped == 1);
	CHECK(p.b->sent[WG_MSG_INITIATION] == 0);

	/* Under load, an IPv6 source gets its cookie reply too (at the
	 * door, like the flood past the under-load mark; the first 512 get
	 * theirs when processed). */
	replies = p.b->sent[WG_MSG_COOKIE_REPLY];
	inject_flood(&p, &f, 600);
	memset(&from6, 0, sizeof(from6));
	from6.addr.in6.sin6_family = AF_INET6;
	from6.addr.in6.sin6_port = htons(4242);
	from6.addr.in6.sin6_addr.s6_addr[0] = 0x20;
	from6.addr.in6.sin6_addr.s6_addr[15] = 1;
	wg_cookie_add_macs(&f.mac, &msg, sizeof(msg), sim_now(p.sim));
	sim_inject(p.b, &from6, (const uint8_t *)&msg, sizeof(msg));
	sim_run_for(p.sim, 1 * MS);
	CHECK(p.b->sent[WG_MSG_COOKIE_REPLY] == replies + 601);
	/* A second later the load is over: no cookie, a plain failure. */
	sim_run_for(p.sim, 1100 * MS);
	inject_flood(&p, &f, 1);
	sim_run_for(p.sim, 1 * MS);
	CHECK(p.b->sent[WG_MSG_COOKIE_REPLY] == replies + 601);
	CHECK(stats(p.b)->rx_handshake_failed == 1);
	CHECK(p.b->dev->last_under_load == 0);
	pair_free(&p);
}

/* Low-order public keys (Wycheproof x25519 "LowOrderPublic") never yield
 * a handshake message: DH with them is all zeros. */
static void test_low_order_peers(void)
{
	struct sim *sim = sim_new(15, T_START);
	struct sim_node *a = sim_node_add(sim, "A", 1, 51820, priv_a);
	struct wg_endpoint ep = sim_endpoint(2, 51820);
	unsigned n = add_low_order_peers(a, &ep), i;

	CHECK(n >= 10);
	for (i = 1; i <= n; i++) {
		uint8_t buf[64], src[4] = { 10, 100, 0, 1 };
		uint8_t dst[4] = { 10, 200, 0, (uint8_t)i };

		ip4_packet(buf, src, dst, i, sizeof(buf));
		wg_device_send_packet(a->dev, buf, sizeof(buf));
	}
	sim_run_for(sim, 60 * SEC);
	CHECK(a->sent[WG_MSG_INITIATION] == 0);
	CHECK(a->sent[WG_MSG_DATA] == 0);
	CHECK(!sim_stuck(sim));
	sim_free(sim);
}

/* Both sides need the same PSK (whitepaper 5.2). */
static void test_psk(void)
{
	uint8_t psk1[WG_KEY_LEN], psk2[WG_KEY_LEN];
	struct wg_peer_info info;
	struct pair p;

	memset(psk1, 0x11, sizeof(psk1));
	memset(psk2, 0x22, sizeof(psk2));

	pair_setup(&p, 16, false);
	wg_peer_set_preshared_key(p.ab, psk1);
	wg_peer_set_preshared_key(p.ba, psk1);
	pair_connect(&p);
	wg_peer_get_info(p.ab, &info);
	CHECK_MEM(info.preshared_key, psk1, WG_KEY_LEN);
	wg_wipe(&info, sizeof(info));
	pair_free(&p);

	pair_setup(&p, 17, false);
	wg_peer_set_preshared_key(p.ab, psk1);
	wg_peer_set_preshared_key(p.ba, psk2);
	send4(p.a, 1, 2, 1, 64);
	sim_run_for(p.sim, 30 * SEC);
	CHECK(p.b->tun_len == 0);
	CHECK(stats(p.a)->rx_handshake_failed >= 1);
	CHECK(p.ab->keypairs.current == NULL);
	/* B derived a keypair but never got confirmation: it stays next. */
	CHECK(p.ba->keypairs.current == NULL);
	pair_free(&p);
}

/* Roaming (whitepaper 2.1 / 6.5): the endpoint follows authenticated
 * packets only. */
static void test_roaming(void)
{
	struct pair p;
	struct wg_peer_info info;
	struct wg_endpoint stranger = sim_endpoint(66, 666);
	struct wg_msg_cookie_reply fake;
	uint8_t junk[80];

	pair_setup(&p, 18, false);
	pair_connect(&p);
	captured.len = 0;
	sim_set_filter(p.sim, capture_first_data, NULL);
	send4(p.a, 1, 2, 1, 64);
	sim_run_for(p.sim, 1 * SEC);
	sim_set_filter(p.sim, NULL, NULL);

	sim_node_move(p.a, 11, 40000);
	send4(p.a, 1, 2, 2, 64);
	sim_run_for(p.sim, 1 * SEC);
	wg_peer_get_info(p.ba, &info);
	CHECK(info.endpoint.addr.in4.sin_addr.s_addr == htonl(0x0a00000b));
	CHECK(info.endpoint.addr.in4.sin_port == htons(40000));
	/* The sticky source is where it arrived. */
	CHECK(info.endpoint.src_ifindex == 1);
	CHECK(info.endpoint.src4.s_addr == p.b->addr.addr.in4.sin_addr.s_addr);
	send4(p.b, 2, 1, 3, 64);
	sim_run_for(p.sim, 1 * SEC);
	CHECK(p.a->tun_len == 1);

	/* A replayed data message, a forged one, a cookie reply for a live
	 * index and a junk initiation, all from a stranger: nothing moves. */
	sim_inject(p.b, &stranger, captured.buf, captured.len);
	sim_random(p.sim, junk, sizeof(junk));
	junk[0] = WG_MSG_DATA;
	junk[1] = junk[2] = junk[3] = 0;
	memcpy(junk + 4, &captured.buf[4], 4);	/* a live receiver index */
	sim_inject(p.b, &stranger, junk, sizeof(junk));
	sim_random(p.sim, &fake, sizeof(fake));
	fake.header.type = htole32(WG_MSG_COOKIE_REPLY);
	fake.receiver_index = htole32(p.ba->keypairs.current->entry.index);
	sim_inject(p.b, &stranger, (const uint8_t *)&fake, sizeof(fake));
	sim_run_for(p.sim, 1 * SEC);
	wg_peer_get_info(p.ba, &info);
	CHECK(info.endpoint.addr.in4.sin_addr.s_addr == htonl(0x0a00000b));
	CHECK(stats(p.b)->rx_replayed == 1);
	CHECK(stats(p.b)->rx_decrypt_failed == 1);
	CHECK(stats(p.b)->rx_handshake_failed == 1);
	pair_free(&p);
}

/* Removing one peer at runtime leaves another's traffic alone. */
static void test_remove_peer_at_runtime(void)
{
	struct pair p;
	struct sim_node *c;
	struct wg_peer *bc;
	struct counting *cnt = calloc(1, sizeof(*cnt));
	uint32_t seq;
	size_t c_tun = 0;

	pair_setup(&p, 19, false);
	c = sim_node_add(p.sim, "C", 3, 51820, priv_c);
	connect_peer(c, p.b, true, NULL);
	bc = connect_peer(p.b, c, false, NULL);
	pair_connect(&p);
	send4(c, 3, 2, 9999, 100);
	sim_run_for(p.sim, 1 * SEC);
	CHECK(p.b->tun_len == 2);
	sim_node_clear_tun(p.b);
	for (seq = 0; seq < 200; seq++) {
		send4(p.a, 1, 2, seq, 100);
		send4(p.b, 2, 1, seq, 100);
		send4(c, 3, 2, 10000 + seq, 100);
		if (seq == 100) {
			c_tun = p.b->tun_len;
			wg_device_peer_remove(p.b->dev, bc);
		}
		sim_run_for(p.sim, 50 * MS);
	}
	sim_run_for(p.sim, 1 * SEC);
	tally(cnt, 0, p.b, 0);
	tally(cnt, 1, p.a, 0);
	for (seq = 0; seq < 200; seq++)
		if (cnt->seen[0][seq] != 1 || cnt->seen[1][seq] != 1)
			CHECK_FAIL("A<->B seq %u lost", seq);
	/* C's packets stopped at B with its peer; B has no route to C. */
	CHECK(c_tun >= 200 && p.b->tun_len <= c_tun + 100 + 2);
	CHECK(stats(p.b)->rx_unknown_index > 0);
	send4(p.b, 2, 3, 1, 64);
	CHECK(stats(p.b)->tx_no_route == 1);
	CHECK(wg_device_peer_first(p.b->dev) == p.ba);
	CHECK(wg_device_peer_next(p.ba) == NULL);
	free(cnt);
	pair_free(&p);
}

/* Both sides initiate at the same instant: each consumes the other's
 * initiation and answers it, so both hold only unconfirmed (next)
 * keypairs; the jittered retransmission breaks the tie (as in Linux). */
static void test_simultaneous_initiation(void)
{
	struct pair p;

	pair_setup(&p, 24, true);
	send4(p.a, 1, 2, 1, 64);
	send6(p.b, 2, 1, 2, 64);
	sim_run_for(p.sim, 5 * SEC + 400 * MS);
	CHECK(p.a->tun_len == 1);
	CHECK(p.b->tun_len == 1);
	CHECK(p.ab->keypairs.current != NULL && p.ba->keypairs.current != NULL);
	/* Each side's first response named an index the other had already
	 * replaced. */
	CHECK(stats(p.a)->rx_unknown_index <= 1);
	CHECK(stats(p.b)->rx_unknown_index <= 1);
	CHECK(stats(p.a)->tx_dropped == 0 && stats(p.b)->tx_dropped == 0);
	pair_free(&p);
}

/* The private key: clamping, the same key changes nothing, a new key stops
 * the old sessions, a peer with our own key is refused or removed. */
static void test_private_key(void)
{
	struct pair p;
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN], pub_a[WG_KEY_LEN];
	uint8_t zero[WG_KEY_LEN] = { 0 }, other[WG_KEY_LEN];
	struct wg_peer *peer;
	uint64_t data_before;

	pair_setup(&p, 20, false);
	CHECK(wg_device_get_keys(p.a->dev, priv, pub));
	CHECK((priv[0] & 7) == 0 && (priv[31] & 0xc0) == 0x40);
	memcpy(pub_a, pub, WG_KEY_LEN);
	CHECK(wg_device_peer_add(p.a->dev, pub_a, &peer) == -EINVAL);
	CHECK(wg_device_peer_add(p.b->dev, pub_a, &peer) == -EEXIST);
	CHECK(peer == p.ba);

	pair_connect(&p);
	/* Same key again: the session survives. */
	CHECK(wg_device_set_private_key(p.a->dev, priv_a) == 0);
	data_before = p.a->sent[WG_MSG_DATA];
	send4(p.a, 1, 2, 1, 64);
	sim_run_for(p.sim, 1 * SEC);
	CHECK(p.a->sent[WG_MSG_DATA] == data_before + 1);
	CHECK(p.a->sent[WG_MSG_INITIATION] == 1);

	/* A new key: no more data with the old session, a handshake at
	 * once (which B, knowing the old key, ignores). */
	memset(other, 0x5a, sizeof(other));
	CHECK(wg_device_set_private_key(p.a->dev, other) == 0);
	data_before = p.a->sent[WG_MSG_DATA];
	send4(p.a, 1, 2, 2, 64);
	sim_run_for(p.sim, 1 * SEC);
	CHECK(p.a->sent[WG_MSG_DATA] == data_before);
	CHECK(p.a->sent[WG_MSG_INITIATION] == 2);
	CHECK(stats(p.b)->rx_handshake_failed == 1);

	/* B takes A's old key: its peer A is itself now and goes. */
	CHECK(wg_device_set_private_key(p.b->dev, priv_a) == 0);
	CHECK(wg_device_peer_lookup(p.b->dev, pub_a) == NULL);
	CHECK(wg_device_peer_first(p.b->dev) == NULL);

	/* All zeros removes the identity. */
	CHECK(wg_device_set_private_key(p.b->dev, zero) == 0);
	CHECK(!wg_device_get_keys(p.b->dev, priv, pub));
	wg_wipe(priv, sizeof(priv));
	p.ba = NULL;
	pair_free(&p);
}

/* Peer table operations, iteration order and the allowed-IPs glue. */
static int count_prefixes(void *ctx, int family, const uint8_t *addr,
    uint8_t cidr)
{
	(*(int *)ctx)++;
	return 0;
}

static void test_peer_table(void)
{
	struct sim *sim = sim_new(21, T_START);
	struct sim_node *a = sim_node_add(sim, "A", 1, 51820, priv_a);
	struct wg_peer *peers[5], *p;
	uint8_t key[WG_KEY_LEN] = { 0 }, a4[4] = { 10, 1, 0, 0 };
	struct wg_peer_info info;
	int i, n;

	for (i = 0; i < 5; i++) {
		key[0] = (uint8_t)(i + 1);
		CHECK(wg_device_peer_add(a->dev, key, &peers[i]) == 0);
		a4[2] = (uint8_t)i;
		CHECK(wg_peer_allowed_ip_add(peers[i], AF_INET, a4, 24) == 0);
	}
	for (p = wg_device_peer_first(a->dev), i = 0; p != NULL;
	    p = wg_device_peer_next(p), i++)
		CHECK(p == peers[i]);
	CHECK(i == 5);
	wg_device_peer_remove(a->dev, peers[2]);
	for (p = wg_device_peer_first(a->dev), i = 0; p != NULL;
	    p = wg_device_peer_next(p), i++)
		CHECK(p == peers[i < 2 ? i : i + 1]);
	CHECK(i == 4);
	key[0] = 3;
	CHECK(wg_device_peer_lookup(a->dev, key) == NULL);
	/* A prefix moves to its new owner. */
	a4[2] = 0;
	CHECK(wg_peer_allowed_ip_add(peers[1], AF_INET, a4, 24) == 0);
	n = 0;
	wg_peer_allowed_ips_foreach(peers[0], count_prefixes, &n);
	CHECK(n == 0);
	n = 0;
	wg_peer_allowed_ips_foreach(peers[1], count_prefixes, &n);
	CHECK(n == 2);
	CHECK(wg_peer_allowed_ip_add(peers[1], AF_INET, a4, 33) == -EINVAL);
	wg_peer_allowed_ips_clear(peers[1]);
	n = 0;
	wg_peer_allowed_ips_foreach(peers[1], count_prefixes, &n);
	CHECK(n == 0);
	wg_peer_get_info(peers[0], &info);
	CHECK(!info.has_endpoint && info.last_handshake_unix_ns == 0);
	CHECK(info.persistent_keepalive == 0);
	wg_device_peers_clear(a->dev);
	CHECK(wg_device_peer_first(a->dev) == NULL);
	CHECK(wg_device_next_deadline(a->dev) == UINT64_MAX);
	sim_free(sim);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* 1,000 peers: adding them (each costs one X25519 for the precomputed
 * static-static DH) in well under a second, lookups, a rekey of the whole
 * device, and a handshake with the last one still works. */
static void test_thousand_peers(void)
{
	enum { N = 1000 };
	struct pair p;
	uint8_t (*keys)[WG_KEY_LEN] = malloc(N * WG_KEY_LEN);
	struct wg_peer *peer;
	struct timespec t0;
	double add_s, lookup_s, rekey_s;
	uint8_t a4[4] = { 10, 50, 0, 0 }, priv[WG_KEY_LEN];
	int i;

	pair_setup(&p, 22, false);
	for (i = 0; i < N; i++) {
		sim_random(p.sim, priv, sizeof(priv));
		wg_x25519_clamp(priv);
		wg_x25519_public_from_private(keys[i], priv);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < N; i++) {
		CHECK(wg_device_peer_add(p.b->dev, keys[i], &peer) == 0);
		a4[2] = (uint8_t)(i >> 8);
		a4[3] = (uint8_t)i;
		CHECK(wg_peer_allowed_ip_add(peer, AF_INET, a4, 32) == 0);
	}
	add_s = seconds_since(&t0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < N; i++)
		CHECK(wg_device_peer_lookup(p.b->dev, keys[i]) != NULL);
	lookup_s = seconds_since(&t0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(wg_device_set_private_key(p.b->dev, priv_c) == 0);
	CHECK(wg_device_set_private_key(p.b->dev, priv_b) == 0);
	rekey_s = seconds_since(&t0) / 2;
	printf("     1000 peers: add %.1f ms, lookup all %.3f ms, "
	    "set_private_key %.1f ms\n", add_s * 1e3, lookup_s * 1e3,
	    rekey_s * 1e3);
	CHECK(add_s < 0.5);
	pair_connect(&p);
	send6(p.b, 2, 1, 1, 100);
	sim_run_for(p.sim, 1 * SEC);
	CHECK(p.a->tun_len == 1);
	CHECK(p.b->dev->peers.count == N + 1);
	free(keys);
	pair_free(&p);
}

/* The sticky source is dropped when a handshake goes unanswered (Linux
 * wg_socket_clear_peer_endpoint_src), so the kernel can pick a route. */
static void test_endpoint_src_cleared_on_retry(void)
{
	struct pair p;
	struct wg_peer_info info;

	pair_setup(&p, 23, false);
	pair_connect(&p);
	send4(p.b, 2, 1, 1, 64);
	sim_run_for(p.sim, 1 * SEC);
	wg_peer_get_info(p.ba, &info);
	CHECK(info.endpoint.src_ifindex == 1);
	p.a->down = true;
	sim_run_for(p.sim, 125 * SEC);
	send4(p.b, 2, 1, 2, 64);	/* data then silence: new handshake */
	sim_run_for(p.sim, 30 * SEC);
	wg_peer_get_info(p.ba, &info);
	CHECK(info.endpoint.src_ifindex == 0);
	CHECK(info.endpoint.src4.s_addr == 0);
	CHECK(p.b->sent[WG_MSG_INITIATION] >= 1);
	pair_free(&p);
}

/* Whether n's TUN got seqs first..last-1, once each and in order. */
static bool got_in_order(const struct sim_node *n, uint32_t first,
    uint32_t last)
{
	size_t i;

	if (n->tun_len != last - first)
		return false;
	for (i = 0; i < n->tun_len; i++)
		if (packet_seq(&n->tun[i]) != first + i)
			return false;
	return true;
}

/* The batch (device.h): between batch_begin and batch_end, data for one
 * peer waits and leaves in one send_udp_batch, in order; the batch is cut
 * by data for another peer, at WG_BATCH_MAX_DATAGRAMS or
 * WG_BATCH_MAX_BYTES, before a handshake message, when its peer is
 * removed, and at the end.  Outside a batch, data leaves at once. */
static void test_batch(void)
{
	static const uint8_t priv_d[WG_KEY_LEN] = { 0xd0, 1, 2, 3 };
	struct pair p;
	struct sim_node *c, *d;
	struct wg_peer *ac;
	struct wg_peer_info ia, ib;
	uint64_t data0, batches0, init0;
	uint32_t seq;

	pair_setup(&p, 29, false);
	c = sim_node_add(p.sim, "C", 3, 51820, priv_c);
	d = sim_node_add(p.sim, "D", 4, 51820, priv_d);
	ac = connect_peer(p.a, c, true, NULL);
	connect_peer(c, p.a, false, NULL);
	pair_connect(&p);
	send4(p.a, 1, 3, 1000, 100);
	sim_run_for(p.sim, 1 * SEC);
	CHECK(c->tun_len == 1);
	sim_node_clear_tun(p.b);
	sim_node_clear_tun(c);
	data0 = p.a->sent[WG_MSG_DATA];
	batches0 = p.a->batches;

	wg_device_batch_begin(p.a->dev);
	for (seq = 0; seq < 10; seq++)
		send4(p.a, 1, 2, seq, 1000);
	CHECK(p.a->sent[WG_MSG_DATA] == data0);		/* all waiting */
	send4(p.a, 1, 3, 1001, 500);			/* another peer */
	CHECK(p.a->batches == batches0 + 1);
	CHECK(p.a->sent[WG_MSG_DATA] == data0 + 10);
	/* 100 small ones: C's leaves, then B's in 64 and (at the end) 36. */
	for (seq = 10; seq < 110; seq++)
		send4(p.a, 1, 2, seq, 100);
	CHECK(p.a->batches == batches0 + 3);
	wg_device_batch_end(p.a->dev);
	CHECK(p.a->batches == batches0 + 4);
	CHECK(p.a->sent[WG_MSG_DATA] == data0 + 111);

	/* 90 of 1440 bytes on the wire: 45 fill WG_BATCH_MAX_BYTES. */
	wg_device_batch_begin(p.a->dev);
	for (seq = 110; seq < 200; seq++)
		send4(p.a, 1, 2, seq, 1400);
	CHECK(p.a->batches == batches0 + 5);
	wg_device_batch_end(p.a->dev);
	CHECK(p.a->batches == batches0 + 6);

	/* A handshake message goes after the data that came before it. */
	connect_peer(p.a, d, true, NULL);
	init0 = p.a->sent[WG_MSG_INITIATION];
	wg_device_batch_begin(p.a->dev);
	send4(p.a, 1, 2, 200, 100);
	send4(p.a, 1, 4, 1, 100);			/* no session: staged */
	CHECK(p.a->sent[WG_MSG_INITIATION] == init0 + 1);
	CHECK(p.a->batches == batches0 + 7);
	/* Removing a peer sends what waits for it first. */
	send4(p.a, 1, 3, 1002, 100);
	wg_device_peer_remove(p.a->dev, ac);
	CHECK(p.a->batches == batches0 + 8);
	wg_device_batch_end(p.a->dev);
	CHECK(p.a->batches == batches0 + 8);

	/* Outside a batch, one by one. */
	send4(p.a, 1, 2, 201, 100);
	CHECK(p.a->batches == batches0 + 8);
	CHECK(p.a->sent[WG_MSG_DATA] == data0 + 111 + 90 + 3);

	sim_run_for(p.sim, 1 * SEC);
	CHECK(got_in_order(p.b, 0, 202));
	CHECK(c->tun_len == 2);
	CHECK(c->tun_len == 2 && packet_seq(&c->tun[0]) == 1001 &&
	    packet_seq(&c->tun[1]) == 1002);
	wg_peer_get_info(p.ab, &ia);
	wg_peer_get_info(p.ba, &ib);
	CHECK(ia.tx_bytes == ib.rx_bytes);
	check_no_drops(p.a);
	check_no_drops(p.b);
	pair_free(&p);
}

int main(void)
{
	RUN(test_handshake_and_data);
	RUN(test_b_initiates);
	RUN(test_responder_waits_for_confirmation);
	RUN(test_padding);
	RUN(test_keepalive_after_receive);
	RUN(test_persistent_keepalive);
	RUN(test_retransmit_and_give_up);
	RUN(test_staging_limit);
	RUN(test_rekey_no_loss);
	RUN(test_expiry);
	RUN(test_receive_side_rekey);
	RUN(test_message_limits);
	RUN(test_replay);
	RUN(test_duplicates);
	RUN(test_inner_source_checked);
	RUN(test_no_route);
	RUN(test_cookie_under_load);
	RUN(test_handshake_queue_bounded);
	RUN(test_peer_completes_during_spoofed_flood);
	RUN(test_odd_inputs);
	RUN(test_low_order_peers);
	RUN(test_psk);
	RUN(test_roaming);
	RUN(test_remove_peer_at_runtime);
	RUN(test_simultaneous_initiation);
	RUN(test_private_key);
	RUN(test_peer_table);
	RUN(test_thousand_peers);
	RUN(test_endpoint_src_cleared_on_retry);
	RUN(test_batch);
	return check_summary();
}
