/* Everything that arrives through wg_device_receive_datagram: handshake
 * messages go through a bounded queue processed by wg_device_tick() (with
 * the cookie/rate-limit defence of whitepaper 5.3 when it fills up), data
 * messages are decrypted at once (whitepaper 5.4.6).  Follows Linux's
 * receive.c. */
#include <arpa/inet.h>
#include <endian.h>
#include <stddef.h>
#include <string.h>

#include "device_internal.h"

/* ---------------------------------------------------------------- handshake */

static struct wg_handshake *lookup_static(void *ctx,
    const uint8_t static_public[static WG_KEY_LEN])
{
	struct wg_peer *peer = wg_device_peer_lookup(ctx, static_public);

	return peer ? &peer->handshake : NULL;
}

static struct wg_handshake *lookup_index(void *ctx, uint32_t index)
{
	struct wg_device *dev = ctx;
	struct wg_index_entry *e;

	e = wg_index_table_lookup(&dev->indices, index, WG_INDEX_HANDSHAKE);
	return e ? &e->peer->handshake : NULL;
}

static struct wg_peer *peer_of(struct wg_handshake *hs)
{
	return (struct wg_peer *)((char *)hs - offsetof(struct wg_peer,
	    handshake));
}

static uint32_t read_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static uint64_t read_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static void consume_cookie_reply(struct wg_device *dev,
    const struct wg_queued_handshake *q)
{
	struct wg_msg_cookie_reply reply;
	struct wg_index_entry *e;

	memcpy(&reply, q->buf, sizeof(reply));
	e = wg_index_table_lookup(&dev->indices,
	    le32toh(reply.receiver_index), WG_INDEX_HANDSHAKE |
	    WG_INDEX_KEYPAIR);
	if (e == NULL) {
		dev->stats.rx_unknown_index++;
		return;
	}
	/* Whitepaper 5.4.7: the cookie only feeds our next mac2; the reply
	 * is not authenticated as coming from the peer, so it moves no
	 * endpoint and touches no timer. */
	if (!wg_cookie_consume_reply(&e->peer->cookie, &reply, dev->now)) {
		dev->stats.rx_handshake_failed++;
		return;
	}
	wg_device_logf(dev, WG_LOG_DEBUG,
	    "Receiving cookie response for peer %llu",
	    (unsigned long long)e->peer->internal_id);
}

/* Linux: under load while the queue is 1/8 full, and for a second after. */
static bool under_load(struct wg_device *dev)
{
	if (dev->handshakes.len >= WG_MAX_QUEUED_HANDSHAKES / 8) {
		dev->last_under_load = dev->now;
		return true;
	}
	if (dev->last_under_load == 0)
		return false;
	if (!wg_timers_expired(dev->last_under_load, 1, dev->now))
		return true;
	dev->last_under_load = 0;
	return false;
}

/* Under load, a message with a valid mac2 still passes the per-source
 * token bucket before it may cost us a DH. */
static bool ratelimit_allow(struct wg_device *dev,
    const struct wg_endpoint *from)
{
	const uint8_t *addr;
	int family = wg_device_endpoint_addr(from, &addr);

	if (dev->ratelimit_gc_at == WG_TIMER_OFF)
		dev->ratelimit_gc_at = dev->now + WG_NSEC_PER_SEC;
	return wg_ratelimit_allow(&dev->ratelimit, family, addr, dev->now);
}

enum mac_verdict { MAC_OK, MAC_NEEDS_COOKIE, MAC_DROP };

static enum mac_verdict check_macs(struct wg_device *dev,
    const struct wg_endpoint *from, const uint8_t *buf, size_t len,
    bool load)
{
	enum wg_cookie_mac_state state;
	uint8_t src[18];
	size_t src_len = wg_device_endpoint_bytes(from, src);

	state = wg_cookie_validate(&dev->cookie_checker, buf, len, src,
	    src_len, load, dev->now, wg_device_random, dev);
	if (!load && state == WG_COOKIE_MAC_VALID_NO_COOKIE)
		return MAC_OK;
	if (load && state == WG_COOKIE_MAC_VALID_WITH_COOKIE) {
		if (ratelimit_allow(dev, from))
			return MAC_OK;
		dev->stats.rx_ratelimited++;
		return MAC_DROP;
	}
	if (load && state == WG_COOKIE_MAC_VALID_NO_COOKIE) {
		dev->stats.rx_cookie_required++;
		return MAC_NEEDS_COOKIE;
	}
	dev->stats.rx_bad_mac++;
	wg_device_logf(dev, WG_LOG_DEBUG,
	    "Invalid MAC of handshake, dropping packet");
	return MAC_DROP;
}

static struct wg_peer *consume_initiation(struct wg_device *dev,
    const struct wg_queued_handshake *q)
{
	struct wg_msg_initiation msg;
	struct wg_handshake *hs;
	struct wg_peer *peer;

	memcpy(&msg, q->buf, sizeof(msg));
	hs = wg_noise_consume_initiation(&msg, &dev->identity, lookup_static,
	    dev, dev->now);
	if (hs == NULL) {
		dev->stats.rx_handshake_failed++;
		wg_device_logf(dev, WG_LOG_DEBUG,
		    "Invalid handshake initiation");
		return NULL;
	}
	peer = peer_of(hs);
	wg_peer_update_endpoint(peer, &q->from);
	wg_device_logf(dev, WG_LOG_DEBUG,
	    "Receiving handshake initiation from peer %llu",
	    (unsigned long long)peer->internal_id);
	wg_send_handshake_response(peer);
	return peer;
}

static struct wg_peer *consume_response(struct wg_device *dev,
    const struct wg_queued_handshake *q)
{
	struct wg_msg_response msg;
	struct wg_handshake *hs;
	struct wg_peer *peer;

	memcpy(&msg, q->buf, sizeof(msg));
	if (lookup_index(dev, le32toh(msg.receiver_index)) == NULL) {
		dev->stats.rx_unknown_index++;
		return NULL;
	}
	hs = wg_noise_consume_response(&msg, &dev->identity, lookup_index,
	    dev);
	if (hs == NULL) {
		dev->stats.rx_handshake_failed++;
		wg_device_logf(dev, WG_LOG_DEBUG, "Invalid handshake response");
		return NULL;
	}
	peer = peer_of(hs);
	wg_peer_update_endpoint(peer, &q->from);
	wg_device_logf(dev, WG_LOG_DEBUG,
	    "Receiving handshake response from peer %llu",
	    (unsigned long long)peer->internal_id);
	if (wg_peer_begin_session(peer)) {
		wg_timers_session_derived(peer);
		wg_timers_handshake_complete(peer);
		/* Sends what was staged, or else a keepalive, so the
		 * responder gets its key confirmation at once. */
		wg_send_keepalive(peer);
	}
	return peer;
}

/* The cookie reply of whitepaper 5.4.7 to a message without mac2. */
static void reply_with_cookie(struct wg_device *dev,
    const struct wg_endpoint *from, const uint8_t *buf, size_t len)
{
	/* The sender index sits at the same offset in both. */
	wg_send_cookie_reply(dev, from, buf, len, read_le32(buf +
	    offsetof(struct wg_msg_initiation, sender_index)));
}

static void process_handshake(struct wg_device *dev,
    const struct wg_queued_handshake *q)
{
	uint8_t type = q->buf[0];
	struct wg_peer *peer;

	if (type == WG_MSG_COOKIE_REPLY) {
		consume_cookie_reply(dev, q);
		return;
	}
	/* Admitted under load at the door (mac2 and rate checked there), or
	 * checked now against the load of now, as Linux does. */
	if (!q->admitted) {
		switch (check_macs(dev, &q->from, q->buf, q->len,
		    under_load(dev))) {
		case MAC_OK:
			break;
		case MAC_NEEDS_COOKIE:
			reply_with_cookie(dev, &q->from, q->buf, q->len);
			return;
		case MAC_DROP:
			return;
		}
	}
	if (type == WG_MSG_INITIATION)
		peer = consume_initiation(dev, q);
	else
		peer = consume_response(dev, q);
	if (peer == NULL)
		return;
	peer->rx_bytes += q->len;
	wg_timers_any_authenticated_packet_received(peer);
	wg_timers_any_authenticated_packet_traversal(peer);
}

void wg_receive_handshakes(struct wg_device *dev, unsigned budget)
{
	struct wg_handshake_queue *hq = &dev->handshakes;

	while (budget-- > 0 && hq->len > 0) {
		/* Still counted in len while processed, as in Linux, so the
		 * load estimate includes it. */
		process_handshake(dev, &hq->ring[hq->head]);
		hq->head = (hq->head + 1) % WG_MAX_QUEUED_HANDSHAKES;
		hq->len--;
	}
	if (hq->len == 0)
		hq->head = 0;
}

static void enqueue_handshake(struct wg_device *dev,
    const struct wg_endpoint *from, const uint8_t *buf, size_t len)
{
	struct wg_handshake_queue *hq = &dev->handshakes;
	struct wg_queued_handshake *q;
	bool admitted;

	/* mac1 costs one BLAKE2s and needs no state: junk without it never
	 * takes a place in the queue.  (It is checked again, with mac2 when
	 * under load, when the message is processed.) */
	if (buf[0] != WG_MSG_COOKIE_REPLY &&
	    wg_cookie_validate(&dev->cookie_checker, buf, len, NULL, 0, false,
	    dev->now, wg_device_random, dev) == WG_COOKIE_MAC_INVALID) {
		dev->stats.rx_bad_mac++;
		return;
	}
	/* Under load, what the worker would refuse anyway is refused at the
	 * door: a message without mac2 gets its cookie reply now, one over
	 * its source's rate is dropped now.  Neither takes a place in the
	 * queue, so a flood from spoofed sources cannot crowd out a peer's
	 * initiation (Linux checks only when processing, with the queue
	 * already full of them). */
	admitted = false;
	if (buf[0] != WG_MSG_COOKIE_REPLY && under_load(dev)) {
		switch (check_macs(dev, from, buf, len, true)) {
		case MAC_OK:
			admitted = true;
			break;
		case MAC_NEEDS_COOKIE:
			reply_with_cookie(dev, from, buf, len);
			return;
		case MAC_DROP:
			return;
		}
	}
	if (hq->len == WG_MAX_QUEUED_HANDSHAKES) {
		dev->stats.rx_queue_full++;
		wg_device_logf(dev, WG_LOG_DEBUG,
		    "Dropping handshake packet: queue full");
		return;
	}
	q = &hq->ring[(hq->head + hq->len) % WG_MAX_QUEUED_HANDSHAKES];
	q->from = *from;
	q->len = len;
	q->admitted = admitted;
	memcpy(q->buf, buf, len);
	hq->len++;
}

/* ---------------------------------------------------------------- data */

/* Responder side of whitepaper 6.2: an initiator whose session is close to
 * REJECT_AFTER_TIME and that is still receiving starts a new handshake once,
 * so the session never dies while in use. */
static void keep_key_fresh(struct wg_peer *peer)
{
	struct wg_keypair *kp = peer->keypairs.current;

	if (peer->timers.sent_lastminute_handshake)
		return;
	if (kp != NULL && kp->sending_valid && kp->i_am_the_initiator &&
	    wg_timers_expired(kp->birthdate, WG_REJECT_AFTER_TIME -
	    WG_KEEPALIVE_TIMEOUT - WG_REKEY_TIMEOUT, peer->dev->now)) {
		peer->timers.sent_lastminute_handshake = true;
		wg_send_handshake_initiation(peer, false);
	}
}

/* The inner packet's family, length (from its own header) and source
 * address; AF_UNSPEC when it is not a plausible IPv4/IPv6 packet that fits
 * in what was decrypted. */
static int inner_packet(const uint8_t *p, size_t len, size_t *ip_len,
    const uint8_t **src)
{
	size_t n;

	if (len >= 20 && p[0] >> 4 == 4) {
		n = (size_t)p[2] << 8 | p[3];
		if (n < 20 || n > len)
			return AF_UNSPEC;
		*ip_len = n;
		*src = p + 12;
		return AF_INET;
	}
	if (len >= 40 && p[0] >> 4 == 6) {
		n = ((size_t)p[4] << 8 | p[5]) + 40;
		if (n > len)
			return AF_UNSPEC;
		*ip_len = n;
		*src = p + 8;
		return AF_INET6;
	}
	return AF_UNSPEC;
}

static void data_done(struct wg_peer *peer, struct wg_keypair *kp,
    const struct wg_endpoint *from, const uint8_t *plain, size_t plain_len,
    size_t msg_len)
{
	struct wg_device *dev = peer->dev;
	const uint8_t *src;
	size_t ip_len;
	int family;

	wg_peer_update_endpoint(peer, from);
	if (wg_keypairs_received_with(&peer->keypairs, kp, &dev->indices)) {
		/* Key confirmation (whitepaper 5.4.6): next is current. */
		wg_timers_handshake_complete(peer);
		wg_send_staged(peer);
	}
	keep_key_fresh(peer);
	wg_timers_any_authenticated_packet_received(peer);
	wg_timers_any_authenticated_packet_traversal(peer);

	if (plain_len == 0) {
		peer->rx_bytes += msg_len;
		wg_device_logf(dev, WG_LOG_DEBUG,
		    "Receiving keepalive packet from peer %llu",
		    (unsigned long long)peer->internal_id);
		return;
	}
	wg_timers_data_received(peer);

	family = inner_packet(plain, plain_len, &ip_len, &src);
	/* Cryptokey routing, inbound (whitepaper section 2): the source must
	 * be one of the addresses this peer may use. */
	if (family == AF_UNSPEC ||
	    wg_allowedips_lookup(&dev->allowedips, family, src) != peer) {
		dev->stats.rx_bad_inner++;
		wg_device_logf(dev, WG_LOG_DEBUG,
		    "Packet has unallowed src IP, bad type or bad size from peer %llu",
		    (unsigned long long)peer->internal_id);
		return;
	}
	dev->ops.write_tun(dev->ops.ctx, plain, ip_len);
	peer->rx_bytes += msg_len;
}

static void receive_data(struct wg_device *dev, const struct wg_endpoint *from,
    uint8_t *buf, size_t len)
{
	uint32_t index = read_le32(buf + offsetof(struct wg_msg_data,
	    receiver_index));
	uint64_t counter = read_le64(buf + offsetof(struct wg_msg_data,
	    counter));
	struct wg_index_entry *e;
	struct wg_keypair *kp;
	uint8_t *payload = buf + WG_DATA_HEADER_LEN;
	size_t payload_len = len - WG_DATA_HEADER_LEN;

	e = wg_index_table_lookup(&dev->indices, index, WG_INDEX_KEYPAIR);
	if (e == NULL) {
		dev->stats.rx_unknown_index++;
		return;
	}
	kp = (struct wg_keypair *)((char *)e - offsetof(struct wg_keypair,
	    entry));
	if (!wg_keypair_can_receive(kp, dev->now)) {
		dev->stats.rx_unknown_index++;
		return;
	}
	/* Cheap replay pre-check, then decrypt, then commit the counter:
	 * a forged packet never moves the window. */
	if (!wg_replay_check(&kp->replay, counter, WG_REJECT_AFTER_MESSAGES)) {
		dev->stats.rx_replayed++;
		return;
	}
	if (!wg_aead_open(payload, payload, payload_len, NULL, 0, counter,
	    kp->receiving_key)) {
		dev->stats.rx_decrypt_failed++;
		return;
	}
	if (!wg_replay_update(&kp->replay, counter, WG_REJECT_AFTER_MESSAGES)) {
		dev->stats.rx_replayed++;
		return;
	}
	data_done(e->peer, kp, from, payload, payload_len - WG_AEAD_TAG_LEN,
	    len);
}

/* ---------------------------------------------------------------- entry */

void wg_device_receive_datagram(struct wg_device *dev,
    const struct wg_endpoint *from, uint8_t *buf, size_t len)
{
	enum wg_message_reject why;

	wg_device_enter(dev);
	switch (wg_message_classify(buf, len, &why)) {
	case WG_MSG_INITIATION:
	case WG_MSG_RESPONSE:
	case WG_MSG_COOKIE_REPLY:
		enqueue_handshake(dev, from, buf, len);
		break;
	case WG_MSG_DATA:
		receive_data(dev, from, buf, len);
		break;
	default:
		dev->stats.rx_invalid++;
		wg_device_logf(dev, WG_LOG_DEBUG, "Invalid datagram (%s)",
		    wg_message_reject_name(why));
		break;
	}
}
