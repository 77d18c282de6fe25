/* Fuzzes wg_message_classify(), the gate in front of every datagram parser.
 *
 * A verdict is checked against the rules written out independently here;
 * an accepted datagram is then read field by field through its struct the
 * way the receive path does (copied to an aligned struct, integers through
 * le32toh/le64toh), so ASan sees any read the classifier should have
 * prevented.  abort() marks a broken invariant, never a bad input. */
#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "messages.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Keeps the field reads from being optimised away. */
static volatile uint64_t sink;

static void invariant(bool holds)
{
	if (!holds)
		abort();
}

static uint64_t fold(uint64_t acc, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		acc = acc * 31 + p[i];
	return acc;
}

/* The verdict the header's contract demands, spelled out byte by byte. */
static int expected_type(const uint8_t *data, size_t size,
    enum wg_message_reject *reason)
{
	static const size_t exact[] = { 0, 148, 92, 64 };

	if (size < 4) {
		*reason = WG_REJECT_TOO_SHORT;
		return 0;
	}
	if (data[0] < 1 || data[0] > 4) {
		*reason = WG_REJECT_UNKNOWN_TYPE;
		return 0;
	}
	if (data[1] | data[2] | data[3]) {
		*reason = WG_REJECT_RESERVED_NONZERO;
		return 0;
	}
	if (data[0] == 4 ? size < 32 : size != exact[data[0]]) {
		*reason = WG_REJECT_BAD_LENGTH;
		return 0;
	}
	*reason = WG_REJECT_NONE;
	return data[0];
}

/* The MACs trail every handshake message. */
static uint64_t read_macs(uint64_t acc, const struct wg_macs *macs,
    const uint8_t *data, size_t size)
{
	invariant(memcmp(macs->mac1, data + size - 2 * WG_MAC_LEN,
	    WG_MAC_LEN) == 0);
	invariant(memcmp(macs->mac2, data + size - WG_MAC_LEN,
	    WG_MAC_LEN) == 0);
	acc = fold(acc, macs->mac1, sizeof(macs->mac1));
	return fold(acc, macs->mac2, sizeof(macs->mac2));
}

static uint64_t read_initiation(const uint8_t *data, size_t size)
{
	struct wg_msg_initiation m;
	uint64_t acc;

	invariant(size == sizeof(m));
	memcpy(&m, data, sizeof(m));
	invariant(le32toh(m.header.type) == WG_MSG_INITIATION);
	acc = le32toh(m.sender_index);
	acc = fold(acc, m.unencrypted_ephemeral, sizeof(m.unencrypted_ephemeral));
	acc = fold(acc, m.encrypted_static, sizeof(m.encrypted_static));
	acc = fold(acc, m.encrypted_timestamp, sizeof(m.encrypted_timestamp));
	return read_macs(acc, &m.macs, data, size);
}

static uint64_t read_response(const uint8_t *data, size_t size)
{
	struct wg_msg_response m;
	uint64_t acc;

	invariant(size == sizeof(m));
	memcpy(&m, data, sizeof(m));
	invariant(le32toh(m.header.type) == WG_MSG_RESPONSE);
	acc = le32toh(m.sender_index);
	acc = acc * 31 + le32toh(m.receiver_index);
	acc = fold(acc, m.unencrypted_ephemeral, sizeof(m.unencrypted_ephemeral));
	acc = fold(acc, m.encrypted_nothing, sizeof(m.encrypted_nothing));
	return read_macs(acc, &m.macs, data, size);
}

static uint64_t read_cookie_reply(const uint8_t *data, size_t size)
{
	struct wg_msg_cookie_reply m;
	uint64_t acc;

	invariant(size == sizeof(m));
	memcpy(&m, data, sizeof(m));
	invariant(le32toh(m.header.type) == WG_MSG_COOKIE_REPLY);
	acc = le32toh(m.receiver_index);
	acc = fold(acc, m.nonce, sizeof(m.nonce));
	return fold(acc, m.encrypted_cookie, sizeof(m.encrypted_cookie));
}

static uint64_t read_data(const uint8_t *data, size_t size)
{
	struct wg_msg_data m;
	uint64_t acc;

	invariant(size >= WG_DATA_MIN_LEN);
	memcpy(&m, data, sizeof(m));
	invariant(le32toh(m.header.type) == WG_MSG_DATA);
	acc = le32toh(m.receiver_index);
	acc = acc * 31 + le64toh(m.counter);
	/* Ciphertext and tag follow the header; bytes need no alignment. */
	return fold(acc, data + sizeof(m), size - sizeof(m));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum wg_message_reject reason = WG_REJECT_COUNT, want_reason;
	int type, want;

	type = wg_message_classify(data, size, &reason);
	want = expected_type(data, size, &want_reason);
	invariant(type == want && reason == want_reason);
	invariant(wg_message_classify(data, size, NULL) == type);
	invariant(wg_message_reject_name(reason) != NULL);

	switch (type) {
	case 0:
		invariant(reason != WG_REJECT_NONE && reason < WG_REJECT_COUNT);
		invariant(strcmp(wg_message_reject_name(reason), "none") != 0);
		break;
	case WG_MSG_INITIATION:
		sink = read_initiation(data, size);
		break;
	case WG_MSG_RESPONSE:
		sink = read_response(data, size);
		break;
	case WG_MSG_COOKIE_REPLY:
		sink = read_cookie_reply(data, size);
		break;
	case WG_MSG_DATA:
		sink = read_data(data, size);
		break;
	default:
		invariant(false);
	}
	return 0;
}
