/* WireGuard's four wire messages (whitepaper section 5.4), as naturally
 * aligned structs of fixed-width fields.  Multi-byte integers are
 * little-endian on the wire: read them with le32toh()/le64toh().
 *
 * Nothing may read a field of a datagram before wg_message_classify() has
 * checked its type, reserved bytes and exact size. */
#ifndef WG_MESSAGES_H
#define WG_MESSAGES_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/primitives.h"
#include "crypto/tai64n.h"

enum wg_message_type {
	WG_MSG_INITIATION = 1,
	WG_MSG_RESPONSE = 2,
	WG_MSG_COOKIE_REPLY = 3,
	WG_MSG_DATA = 4,
};

enum {
	WG_COOKIE_LEN = 16,
	WG_MAC_LEN = 16,
	WG_COOKIE_NONCE_LEN = 24,
	WG_DATA_HEADER_LEN = 16,
	WG_DATA_MIN_LEN = WG_DATA_HEADER_LEN + WG_AEAD_TAG_LEN, /* keepalive */
	WG_PADDING_MULTIPLE = 16,
};

/* The MACs trail every handshake message; mac1 covers everything before
 * it, mac2 everything before mac2 (whitepaper 5.4.4). */
struct wg_macs {
	uint8_t mac1[WG_MAC_LEN];
	uint8_t mac2[WG_MAC_LEN];
};

/* The first four bytes: one type byte and three reserved zero bytes, read
 * together as a little-endian uint32 equal to the type. */
struct wg_message_header {
	uint32_t type;
};

struct wg_msg_initiation {
	struct wg_message_header header;
	uint32_t sender_index;
	uint8_t unencrypted_ephemeral[WG_KEY_LEN];
	uint8_t encrypted_static[WG_KEY_LEN + WG_AEAD_TAG_LEN];
	uint8_t encrypted_timestamp[WG_TAI64N_LEN + WG_AEAD_TAG_LEN];
	struct wg_macs macs;
};

struct wg_msg_response {
	struct wg_message_header header;
	uint32_t sender_index;
	uint32_t receiver_index;
	uint8_t unencrypted_ephemeral[WG_KEY_LEN];
	uint8_t encrypted_nothing[WG_AEAD_TAG_LEN];
	struct wg_macs macs;
};

struct wg_msg_cookie_reply {
	struct wg_message_header header;
	uint32_t receiver_index;
	uint8_t nonce[WG_COOKIE_NONCE_LEN];
	uint8_t encrypted_cookie[WG_COOKIE_LEN + WG_AEAD_TAG_LEN];
};

struct wg_msg_data {
	struct wg_message_header header;
	uint32_t receiver_index;
	uint64_t counter;
	uint8_t encrypted_data[];
};

_Static_assert(sizeof(struct wg_macs) == 32, "macs size");
_Static_assert(sizeof(struct wg_msg_initiation) == 148, "initiation size");
_Static_assert(sizeof(struct wg_msg_response) == 92, "response size");
_Static_assert(sizeof(struct wg_msg_cookie_reply) == 64, "cookie reply size");
_Static_assert(sizeof(struct wg_msg_data) == WG_DATA_HEADER_LEN, "data header size");
_Static_assert(offsetof(struct wg_msg_initiation, macs) == 116, "mac1 offset");
_Static_assert(offsetof(struct wg_msg_response, macs) == 60, "mac1 offset");

/* Why a datagram was rejected before any field was read. */
enum wg_message_reject {
	WG_REJECT_NONE = 0,
	WG_REJECT_TOO_SHORT,		/* fewer than 4 bytes: no type at all */
	WG_REJECT_UNKNOWN_TYPE,		/* type byte not 1..4 */
	WG_REJECT_RESERVED_NONZERO,	/* bytes 1..3 not zero */
	WG_REJECT_BAD_LENGTH,		/* wrong size for its type */
	WG_REJECT_COUNT,
};

/* Classifies a datagram: returns its enum wg_message_type when the type,
 * reserved bytes and size are valid (handshake messages exactly their size,
 * data at least WG_DATA_MIN_LEN), else 0 with *reason set.  reason may be
 * NULL.  Reads nothing past len. */
int wg_message_classify(const uint8_t *buf, size_t len,
    enum wg_message_reject *reason);

/* The exact size of a handshake message of that type (initiation,
 * response, cookie reply); 0 for any other type. */
size_t wg_message_handshake_len(uint8_t type);

/* A short fixed name for a reject reason, for logs and counters. */
const char *wg_message_reject_name(enum wg_message_reject reason);

#endif
