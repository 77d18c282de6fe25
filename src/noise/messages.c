/* The gate every datagram passes before any of its fields is read:
 * whitepaper section 5.4 fixes the four message layouts, and the Linux
 * driver's prepare_skb_header() rejects anything whose first little-endian
 * word is not exactly a known type or whose length does not fit it. */
#include <endian.h>
#include <string.h>

#include "messages.h"

enum { HEADER_LEN = sizeof(struct wg_message_header) };

size_t wg_message_handshake_len(uint8_t type)
{
	switch (type) {
	case WG_MSG_INITIATION:
		return sizeof(struct wg_msg_initiation);
	case WG_MSG_RESPONSE:
		return sizeof(struct wg_msg_response);
	case WG_MSG_COOKIE_REPLY:
		return sizeof(struct wg_msg_cookie_reply);
	default:
		return 0;
	}
}

static int reject(enum wg_message_reject why, enum wg_message_reject *reason)
{
	if (reason)
		*reason = why;
	return 0;
}

int wg_message_classify(const uint8_t *buf, size_t len,
    enum wg_message_reject *reason)
{
	uint32_t word;
	uint8_t type;

	if (len < HEADER_LEN)
		return reject(WG_REJECT_TOO_SHORT, reason);
	/* The buffer may sit at any alignment: copy, never cast. */
	memcpy(&word, buf, sizeof(word));
	word = le32toh(word);
	type = (uint8_t)(word & 0xff);

	if (type < WG_MSG_INITIATION || type > WG_MSG_DATA)
		return reject(WG_REJECT_UNKNOWN_TYPE, reason);
	if ((word >> 8) != 0)
		return reject(WG_REJECT_RESERVED_NONZERO, reason);

	/* Data plaintext is padded to WG_PADDING_MULTIPLE by the sender, but a
	 * receiver must not insist on it (Linux and wireguard-go do not). */
	if (type == WG_MSG_DATA) {
		if (len < WG_DATA_MIN_LEN)
			return reject(WG_REJECT_BAD_LENGTH, reason);
	} else if (len != wg_message_handshake_len(type)) {
		return reject(WG_REJECT_BAD_LENGTH, reason);
	}

	if (reason)
		*reason = WG_REJECT_NONE;
	return type;
}

const char *wg_message_reject_name(enum wg_message_reject reason)
{
	switch (reason) {
	case WG_REJECT_NONE:
		return "none";
	case WG_REJECT_TOO_SHORT:
		return "too-short";
	case WG_REJECT_UNKNOWN_TYPE:
		return "unknown-type";
	case WG_REJECT_RESERVED_NONZERO:
		return "reserved-nonzero";
	case WG_REJECT_BAD_LENGTH:
		return "bad-length";
	case WG_REJECT_COUNT:
		break;
	}
	return "invalid-reason";
}
