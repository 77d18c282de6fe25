/* Everything that leaves through ops->send_udp and ops->send_udp_batch:
 * handshake initiations and responses, cookie replies, and transport data
 * (whitepaper 5.4.6), with the batch that gathers data messages for one
 * peer while the adapter has one open, and the staging ring that holds
 * packets while there is no session.  Follows Linux's send.c. */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "device_internal.h"

/* ---------------------------------------------------------------- udp */

/* One datagram now; what a batch holds goes first, so the wire keeps the
 * order in which the core built them. */
static int send_one(struct wg_device *dev, struct wg_endpoint *ep,
    const uint8_t *buf, size_t len)
{
	wg_send_batch_flush(dev);
	return dev->ops.send_udp(dev->ops.ctx, ep, buf, len);
}

static int send_to_peer(struct wg_peer *peer, const uint8_t *buf, size_t len)
{
	struct wg_device *dev = peer->dev;
	int ret;

	if (!peer->has_endpoint) {
		wg_device_logf(dev, WG_LOG_DEBUG,
		    "No endpoint has been configured or discovered for peer %llu",
		    (unsigned long long)peer->internal_id);
		dev->stats.tx_dropped++;
		return -EDESTADDRREQ;
	}
	ret = send_one(dev, &peer->endpoint, buf, len);
	if (ret == 0)
		peer->tx_bytes += len;
	else
		dev->stats.tx_dropped++;
	return ret;
}

/* ---------------------------------------------------------------- handshake */

/* At most one initiation per REKEY_TIMEOUT (whitepaper 6.1, Linux
 * last_sent_handshake); responses count too. */
static bool handshake_rate_limited(const struct wg_peer *peer)
{
	return peer->has_sent_handshake &&
	    !wg_timers_expired(peer->last_sent_handshake, WG_REKEY_TIMEOUT,
	    peer->dev->now);
}

static void mark_handshake_sent(struct wg_peer *peer)
{
	peer->last_sent_handshake = peer->dev->now;
	peer->has_sent_handshake = true;
}

static void tai64n_now(struct wg_device *dev, uint8_t out[WG_TAI64N_LEN])
{
	uint64_t wall = dev->ops.wall(dev->ops.ctx);

	wg_tai64n_encode(out, wall / WG_NSEC_PER_SEC,
	    (uint32_t)(wall % WG_NSEC_PER_SEC));
}

/* Linux's wg_packet_send_queued_handshake_initiation and
 * wg_packet_send_handshake_initiation in one (no work queue here). */
void wg_send_handshake_initiation(struct wg_peer *peer, bool is_retry)
{
	struct wg_device *dev = peer->dev;
	struct wg_msg_initiation msg;
	uint8_t ephemeral[WG_KEY_LEN], timestamp[WG_TAI64N_LEN];

	if (!is_retry)
		peer->timers.handshake_attempts = 0;
	if (handshake_rate_limited(peer))
		return;
	mark_handshake_sent(peer);
	wg_device_logf(dev, WG_LOG_DEBUG,
	    "Sending handshake initiation to peer %llu",
	    (unsigned long long)peer->internal_id);

	dev->ops.random(dev->ops.ctx, ephemeral, sizeof(ephemeral));
	tai64n_now(dev, timestamp);
	/* A new index for every attempt: a late response to an old one
	 * then finds nothing. */
	wg_index_table_insert(&dev->indices, &peer->handshake_entry,
	    wg_device_random, dev);
	if (!wg_noise_create_initiation(&msg, &peer->handshake, &dev->identity,
	    ephemeral, timestamp, peer->handshake_entry.index)) {
		wg_index_table_remove(&dev->indices, &peer->handshake_entry);
		goto out;
	}
	wg_cookie_add_macs(&peer->cookie, &msg, sizeof(msg), dev->now);
	wg_timers_any_authenticated_packet_traversal(peer);
	wg_timers_any_authenticated_packet_sent(peer);
	send_to_peer(peer, (const uint8_t *)&msg, sizeof(msg));
	wg_timers_handshake_initiated(peer);
out:
	wg_wipe(ephemeral, sizeof(ephemeral));
}

void wg_send_handshake_response(struct wg_peer *peer)
{
	struct wg_device *dev = peer->dev;
	struct wg_msg_response msg;
	uint8_t ephemeral[WG_KEY_LEN];

	mark_handshake_sent(peer);
	wg_device_logf(dev, WG_LOG_DEBUG,
	    "Sending handshake response to peer %llu",
	    (unsigned long long)peer->internal_id);

	dev->ops.random(dev->ops.ctx, ephemeral, sizeof(ephemeral));
	wg_index_table_insert(&dev->indices, &peer->handshake_entry,
	    wg_device_random, dev);
	if (!wg_noise_create_response(&msg, &peer->handshake, ephemeral,
	    peer->handshake_entry.index)) {
		wg_index_table_remove(&dev->indices, &peer->handshake_entry);
		goto out;
	}
	wg_cookie_add_macs(&peer->cookie, &msg, sizeof(msg), dev->now);
	if (!wg_peer_begin_session(peer))
		goto out;
	wg_timers_session_derived(peer);
	wg_timers_any_authenticated_packet_traversal(peer);
	wg_timers_any_authenticated_packet_sent(peer);
	send_to_peer(peer, (const uint8_t *)&msg, sizeof(msg));
out:
	wg_wipe(ephemeral, sizeof(ephemeral));
}

void wg_send_cookie_reply(struct wg_device *dev,
    const struct wg_endpoint *to, const uint8_t *msg, size_t len,
    uint32_t sender_index)
{
	struct wg_msg_cookie_reply reply;
	struct wg_endpoint ep = *to;
	uint8_t nonce[WG_COOKIE_NONCE_LEN], src[18];
	size_t src_len = wg_device_endpoint_bytes(to, src);

	dev->ops.random(dev->ops.ctx, nonce, sizeof(nonce));
	if (wg_cookie_create_reply(&dev->cookie_checker, &reply, msg, len,
	    sender_index, src, src_len, nonce, dev->now, wg_device_random,
	    dev) != 0)
		return;
	wg_device_logf(dev, WG_LOG_DEBUG,
	    "Sending cookie response for denied handshake message");
	/* A reply to whoever sent the message, not to any peer. */
	if (send_one(dev, &ep, (const uint8_t *)&reply, sizeof(reply)) != 0)
		dev->stats.tx_dropped++;
}

/* ---------------------------------------------------------------- batch */

void wg_device_batch_begin(struct wg_device *dev)
{
	dev->batch.open = true;
}

void wg_device_batch_end(struct wg_device *dev)
{
	wg_send_batch_flush(dev);
	dev->batch.open = false;
}

void wg_send_batch_flush(struct wg_device *dev)
{
	struct wg_tx_batch *b = &dev->batch;
	struct wg_peer *peer = b->peer;

	if (peer == NULL)
		return;
	if (dev->ops.send_udp_batch(dev->ops.ctx, &peer->endpoint, b->buf,
	    b->lens, b->count) == 0)
		peer->tx_bytes += b->len;
	else
		dev->stats.tx_dropped += b->count;
	b->peer = NULL;
	b->len = 0;
	b->count = 0;
}

/* Where a data message of len bytes for peer is built: at the end of the
 * open batch (flushed first when it holds another peer's or has no room
 * left), or in the scratch buffer to be sent on its own. */
static uint8_t *data_buffer(struct wg_peer *peer, size_t len)
{
	struct wg_device *dev = peer->dev;
	struct wg_tx_batch *b = &dev->batch;

	if (!b->open || !peer->has_endpoint || len > WG_BATCH_MAX_BYTES)
		return dev->scratch;
	if (b->peer != NULL && (b->peer != peer ||
	    b->count == WG_BATCH_MAX_DATAGRAMS ||
	    b->len + len > WG_BATCH_MAX_BYTES))
		wg_send_batch_flush(dev);
	return b->buf + b->len;
}

/* ---------------------------------------------------------------- data */

/* Initiator side of whitepaper 6.2: rekey after REKEY_AFTER_MESSAGES or,
 * as the initiator, REKEY_AFTER_TIME. */
static void keep_key_fresh(struct wg_peer *peer)
{
	struct wg_keypair *kp = peer->keypairs.current;

	if (kp != NULL && kp->sending_valid &&
	    (kp->sending_counter > WG_REKEY_AFTER_MESSAGES ||
	    (kp->i_am_the_initiator && wg_timers_expired(kp->birthdate,
	    WG_REKEY_AFTER_TIME, peer->dev->now))))
		wg_send_handshake_initiation(peer, false);
}

/* Linux calculate_skb_padding(): pad to a multiple of 16, never past the
 * MTU; a packet already longer than the MTU pads its last MTU-sized unit. */
static size_t padding_for(size_t len, unsigned mtu)
{
	size_t last_unit = len, padded;

	if (mtu == 0)
		return (WG_PADDING_MULTIPLE - len % WG_PADDING_MULTIPLE) %
		    WG_PADDING_MULTIPLE;
	if (last_unit > mtu)
		last_unit %= mtu;
	padded = (last_unit + WG_PADDING_MULTIPLE - 1) &
	    ~(size_t)(WG_PADDING_MULTIPLE - 1);
	if (padded > mtu)
		padded = mtu;
	return padded - last_unit;
}

/* Encrypts one packet (len 0: a keepalive) with the next nonce of kp and
 * sends it, or adds it to the open batch.  The caller checked that kp can
 * send. */
static int encrypt_and_send(struct wg_peer *peer, struct wg_keypair *kp,
    const uint8_t *packet, size_t len)
{
	struct wg_device *dev = peer->dev;
	struct wg_tx_batch *b = &dev->batch;
	struct wg_msg_data header;
	size_t padded = len + padding_for(len, dev->mtu);
	size_t total = WG_DATA_HEADER_LEN + padded + WG_AEAD_TAG_LEN;
	uint64_t nonce = kp->sending_counter++;
	uint8_t *out;

	if (total > dev->scratch_len) {
		dev->stats.tx_dropped++;
		return -EMSGSIZE;
	}
	out = data_buffer(peer, total);
	header.header.type = htole32(WG_MSG_DATA);
	header.receiver_index = htole32(kp->remote_index);
	header.counter = htole64(nonce);
	memcpy(out, &header, WG_DATA_HEADER_LEN);
	if (len > 0)
		memcpy(out + WG_DATA_HEADER_LEN, packet, len);
	memset(out + WG_DATA_HEADER_LEN + len, 0, padded - len);
	if (!wg_aead_seal(out + WG_DATA_HEADER_LEN, out + WG_DATA_HEADER_LEN,
	    padded, NULL, 0, nonce, kp->sending_key)) {
		dev->stats.tx_dropped++;
		return -EIO;
	}
	if (out == dev->scratch)
		return send_to_peer(peer, out, total);
	b->peer = peer;
	b->lens[b->count++] = total;
	b->len += total;
	return 0;
}

/* The usable sending keypair, or NULL (Linux: out_nokey / out_invalid). */
static struct wg_keypair *sending_keypair(struct wg_peer *peer, size_t n)
{
	struct wg_keypair *kp = peer->keypairs.current;

	if (kp == NULL || !wg_keypair_can_send(kp, peer->dev->now))
		return NULL;
	/* Every one of the n packets needs a nonce below the limit, or none
	 * is sent and the next handshake takes them. */
	if (WG_REJECT_AFTER_MESSAGES - kp->sending_counter < n) {
		kp->sending_valid = false;
		return NULL;
	}
	return kp;
}

static void data_done(struct wg_peer *peer, bool data_sent)
{
	if (data_sent)
		wg_timers_data_sent(peer);
	keep_key_fresh(peer);
}

/* ---------------------------------------------------------------- staging */

static struct wg_staged_slot *stage_slot(struct wg_peer *peer, size_t len)
{
	struct wg_staged *st = &peer->staged;
	struct wg_staged_slot *slot;

	if (st->slots == NULL) {
		st->slots = calloc(WG_MAX_STAGED_PACKETS, sizeof(*st->slots));
		if (st->slots == NULL)
			return NULL;
	}
	if (st->count == WG_MAX_STAGED_PACKETS) {
		/* Full: the oldest makes room, as Linux's wg_xmit. */
		st->head = (st->head + 1) % WG_MAX_STAGED_PACKETS;
		st->count--;
		peer->dev->stats.tx_dropped++;
	}
	slot = &st->slots[(st->head + st->count) % WG_MAX_STAGED_PACKETS];
	if (slot->cap < len) {
		size_t cap = len < 2048 ? 2048 : len;
		uint8_t *buf = realloc(slot->buf, cap);

		if (buf == NULL)
			return NULL;
		slot->buf = buf;
		slot->cap = cap;
	}
	slot->len = len;
	st->count++;
	return slot;
}

static void stage(struct wg_peer *peer, const uint8_t *packet, size_t len)
{
	struct wg_staged_slot *slot = stage_slot(peer, len);

	if (slot == NULL) {
		peer->dev->stats.tx_dropped++;
		return;
	}
	if (len > 0)
		memcpy(slot->buf, packet, len);
}

void wg_send_staged(struct wg_peer *peer)
{
	struct wg_staged *st = &peer->staged;
	struct wg_keypair *kp;
	bool data_sent = false;

	if (st->count == 0)
		return;
	kp = sending_keypair(peer, st->count);
	if (kp == NULL) {
		/* Keep them for the session the handshake will bring. */
		wg_send_handshake_initiation(peer, false);
		return;
	}
	wg_timers_any_authenticated_packet_traversal(peer);
	wg_timers_any_authenticated_packet_sent(peer);
	while (st->count > 0) {
		struct wg_staged_slot *slot = &st->slots[st->head];

		st->head = (st->head + 1) % WG_MAX_STAGED_PACKETS;
		st->count--;
		if (encrypt_and_send(peer, kp, slot->buf, slot->len) == 0 &&
		    slot->len > 0)
			data_sent = true;
	}
	st->head = 0;
	data_done(peer, data_sent);
}

void wg_send_purge_staged(struct wg_peer *peer)
{
	struct wg_staged *st = &peer->staged;
	unsigned i;

	peer->dev->stats.tx_dropped += st->count;
	st->head = st->count = 0;
	/* The peer seems gone: give the buffers back until it returns. */
	if (st->slots != NULL) {
		for (i = 0; i < WG_MAX_STAGED_PACKETS; i++) {
			if (st->slots[i].buf != NULL)
				wg_wipe(st->slots[i].buf, st->slots[i].cap);
			free(st->slots[i].buf);
		}
		free(st->slots);
		st->slots = NULL;
	}
}

void wg_send_free_staged(struct wg_peer *peer)
{
	uint64_t dropped = peer->dev->stats.tx_dropped;

	wg_send_purge_staged(peer);
	/* Removing a peer is not a transmit drop. */
	peer->dev->stats.tx_dropped = dropped;
}

/* Sends one packet (len 0: a keepalive) now when a session allows, else
 * stages it behind the others and asks for a handshake. */
static void send_or_stage(struct wg_peer *peer, const uint8_t *packet,
    size_t len)
{
	struct wg_keypair *kp;

	if (peer->staged.count == 0 &&
	    (kp = sending_keypair(peer, 1)) != NULL) {
		wg_timers_any_authenticated_packet_traversal(peer);
		wg_timers_any_authenticated_packet_sent(peer);
		data_done(peer, encrypt_and_send(peer, kp, packet, len) == 0 &&
		    len > 0);
		return;
	}
	stage(peer, packet, len);
	wg_send_staged(peer);
}

void wg_send_keepalive(struct wg_peer *peer)
{
	/* Staged packets, when there are any, confirm the session better
	 * than an empty one. */
	if (peer->staged.count > 0) {
		wg_send_staged(peer);
		return;
	}
	wg_device_logf(peer->dev, WG_LOG_DEBUG,
	    "Sending keepalive packet to peer %llu",
	    (unsigned long long)peer->internal_id);
	send_or_stage(peer, NULL, 0);
}

/* The destination of an IP packet, for the allowed-IPs lookup. */
static int packet_destination(const uint8_t *packet, size_t len,
    const uint8_t **dst)
{
	if (len >= 20 && packet[0] >> 4 == 4) {
		*dst = packet + 16;
		return AF_INET;
	}
	if (len >= 40 && packet[0] >> 4 == 6) {
		*dst = packet + 24;
		return AF_INET6;
	}
	return AF_UNSPEC;
}

void wg_device_send_packet(struct wg_device *dev, const uint8_t *packet,
    size_t len)
{
	struct wg_peer *peer;
	const uint8_t *dst;
	int family;

	wg_device_enter(dev);
	family = packet_destination(packet, len, &dst);
	if (family == AF_UNSPEC || len > WG_MAX_PACKET_LEN) {
		wg_device_logf(dev, WG_LOG_DEBUG, "Invalid IP packet");
		dev->stats.tx_dropped++;
		return;
	}
	/* Cryptokey routing, whitepaper section 2. */
	peer = wg_allowedips_lookup(&dev->allowedips, family, dst);
	if (peer == NULL) {
		dev->stats.tx_no_route++;
		return;
	}
	if (!peer->has_endpoint) {
		wg_device_logf(dev, WG_LOG_DEBUG,
		    "No valid endpoint has been configured or discovered for peer %llu",
		    (unsigned long long)peer->internal_id);
		dev->stats.tx_dropped++;
		return;
	}
	send_or_stage(peer, packet, len);
}
