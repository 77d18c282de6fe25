/* wg_message_classify: a table of (length, first four bytes) rows, a sweep
 * against a deliberately naive twin, and the struct layouts checked field by
 * field against the whitepaper (section 5.4). */
#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "messages.h"

/* A datagram of exactly len bytes placed at offset off of its own heap
 * block, so ASan reports any read past len and off = 1 makes it unaligned.
 * The first min(len, 4) bytes come from head; the rest is filler. */
static uint8_t *datagram_new(size_t len, const uint8_t head[4], size_t off,
    uint8_t **block)
{
	size_t i;

	*block = malloc(off + len);
	if (*block == NULL)
		abort();	/* glibc's malloc(0) is not NULL either */
	for (i = 0; i < len; i++)
		(*block)[off + i] = i < 4 ? head[i] : (uint8_t)(0xa5 ^ i);
	return *block + off;
}

struct classify_row {
	size_t len;
	uint8_t head[4];
	int type;
	enum wg_message_reject reason;
};

#define OK(t) (t), WG_REJECT_NONE
#define NO(r) 0, WG_REJECT_##r

static const struct classify_row classify_rows[] = {
	/* Not even a type. */
	{ 0, { 0 }, NO(TOO_SHORT) },
	{ 1, { 1 }, NO(TOO_SHORT) },
	{ 2, { 1, 0 }, NO(TOO_SHORT) },
	{ 3, { 1, 0, 0 }, NO(TOO_SHORT) },
	{ 3, { 4, 0, 0 }, NO(TOO_SHORT) },
	{ 3, { 9, 9, 9 }, NO(TOO_SHORT) },
	/* Initiation: exactly 148. */
	{ 148, { 1, 0, 0, 0 }, OK(WG_MSG_INITIATION) },
	{ 147, { 1, 0, 0, 0 }, NO(BAD_LENGTH) },
	{ 149, { 1, 0, 0, 0 }, NO(BAD_LENGTH) },
	{ 4, { 1, 0, 0, 0 }, NO(BAD_LENGTH) },
	{ 92, { 1, 0, 0, 0 }, NO(BAD_LENGTH) },
	/* Response: exactly 92. */
	{ 92, { 2, 0, 0, 0 }, OK(WG_MSG_RESPONSE) },
	{ 91, { 2, 0, 0, 0 }, NO(BAD_LENGTH) },
	{ 93, { 2, 0, 0, 0 }, NO(BAD_LENGTH) },
	{ 148, { 2, 0, 0, 0 }, NO(BAD_LENGTH) },
	/* Cookie reply: exactly 64. */
	{ 64, { 3, 0, 0, 0 }, OK(WG_MSG_COOKIE_REPLY) },
	{ 63, { 3, 0, 0, 0 }, NO(BAD_LENGTH) },
	{ 65, { 3, 0, 0, 0 }, NO(BAD_LENGTH) },
	{ 32, { 3, 0, 0, 0 }, NO(BAD_LENGTH) },
	/* Data: header and tag at least; padding is not required. */
	{ 32, { 4, 0, 0, 0 }, OK(WG_MSG_DATA) },	/* keepalive */
	{ 31, { 4, 0, 0, 0 }, NO(BAD_LENGTH) },
	{ 33, { 4, 0, 0, 0 }, OK(WG_MSG_DATA) },
	{ 48, { 4, 0, 0, 0 }, OK(WG_MSG_DATA) },
	{ 148, { 4, 0, 0, 0 }, OK(WG_MSG_DATA) },
	{ 65535, { 4, 0, 0, 0 }, OK(WG_MSG_DATA) },
	{ 16, { 4, 0, 0, 0 }, NO(BAD_LENGTH) },
	{ 4, { 4, 0, 0, 0 }, NO(BAD_LENGTH) },
	/* Unknown types, at sizes that would fit a known one. */
	{ 148, { 0, 0, 0, 0 }, NO(UNKNOWN_TYPE) },
	{ 32, { 0, 0, 0, 0 }, NO(UNKNOWN_TYPE) },
	{ 4, { 0, 0, 0, 0 }, NO(UNKNOWN_TYPE) },
	{ 32, { 5, 0, 0, 0 }, NO(UNKNOWN_TYPE) },
	{ 64, { 5, 0, 0, 0 }, NO(UNKNOWN_TYPE) },
	{ 148, { 255, 0, 0, 0 }, NO(UNKNOWN_TYPE) },
	{ 32, { 0x84, 0, 0, 0 }, NO(UNKNOWN_TYPE) },
	/* Big-endian 1 is not type 1. */
	{ 148, { 0, 0, 0, 1 }, NO(UNKNOWN_TYPE) },
	/* The type byte is judged before the reserved bytes. */
	{ 148, { 0, 1, 0, 0 }, NO(UNKNOWN_TYPE) },
	{ 32, { 5, 0, 0, 4 }, NO(UNKNOWN_TYPE) },
	/* Each reserved byte on its own. */
	{ 148, { 1, 1, 0, 0 }, NO(RESERVED_NONZERO) },
	{ 148, { 1, 0, 1, 0 }, NO(RESERVED_NONZERO) },
	{ 148, { 1, 0, 0, 1 }, NO(RESERVED_NONZERO) },
	{ 92, { 2, 0x80, 0, 0 }, NO(RESERVED_NONZERO) },
	{ 92, { 2, 0, 0, 0xff }, NO(RESERVED_NONZERO) },
	{ 64, { 3, 0, 0x10, 0 }, NO(RESERVED_NONZERO) },
	{ 32, { 4, 0xff, 0xff, 0xff }, NO(RESERVED_NONZERO) },
	{ 32, { 4, 0, 0, 0x80 }, NO(RESERVED_NONZERO) },
	/* Reserved bytes are judged before the length. */
	{ 10, { 1, 0, 1, 0 }, NO(RESERVED_NONZERO) },
	{ 4, { 4, 1, 0, 0 }, NO(RESERVED_NONZERO) },
};

static void check_row(const struct classify_row *row, size_t off)
{
	enum wg_message_reject reason = WG_REJECT_COUNT;
	uint8_t *block, *buf;
	int type, type_noreason;

	buf = datagram_new(row->len, row->head, off, &block);
	type = wg_message_classify(buf, row->len, &reason);
	type_noreason = wg_message_classify(buf, row->len, NULL);
	if (type != row->type || reason != row->reason)
		CHECK_FAIL("len %zu head %02x %02x %02x %02x offset %zu: got "
		    "type %d %s, want type %d %s", row->len, row->head[0],
		    row->head[1], row->head[2], row->head[3], off, type,
		    wg_message_reject_name(reason), row->type,
		    wg_message_reject_name(row->reason));
	CHECK(type_noreason == type);
	free(block);
}

static void test_classify_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(classify_rows) / sizeof(classify_rows[0]); i++) {
		check_row(&classify_rows[i], 0);
		check_row(&classify_rows[i], 1);	/* unaligned */
	}
}

/* The rules spelled out the slow way, for the sweep below. */
static int naive_classify(const uint8_t *buf, size_t len,
    enum wg_message_reject *reason)
{
	size_t want;

	*reason = WG_REJECT_TOO_SHORT;
	if (len < 4)
		return 0;
	*reason = WG_REJECT_UNKNOWN_TYPE;
	if (buf[0] == 1)
		want = 148;
	else if (buf[0] == 2)
		want = 92;
	else if (buf[0] == 3)
		want = 64;
	else if (buf[0] == 4)
		want = 0;
	else
		return 0;
	*reason = WG_REJECT_RESERVED_NONZERO;
	if (buf[1] != 0 || buf[2] != 0 || buf[3] != 0)
		return 0;
	*reason = WG_REJECT_BAD_LENGTH;
	if (want != 0 && len != want)
		return 0;
	if (want == 0 && len < 16 + 16)
		return 0;
	*reason = WG_REJECT_NONE;
	return buf[0];
}

/* Every type byte, with each reserved byte zero or not, at every length up
 * to past the largest message and at the largest UDP payload. */
static void test_classify_sweep(void)
{
	static const size_t extra_lens[] = { 1400, 1420, 65535 };
	size_t len, n, mismatches = 0;
	unsigned int t, r;

	for (n = 0; n <= 160 + 3; n++) {
		len = n <= 160 ? n : extra_lens[n - 161];
		for (t = 0; t < 256; t++) {
			for (r = 0; r < 4; r++) {
				enum wg_message_reject got, want;
				uint8_t head[4] = { (uint8_t)t, 0, 0, 0 };
				uint8_t *block, *buf;
				int gt, wt;

				if (r > 0)
					head[r] = (uint8_t)(t ^ 0x5a) | 1;
				buf = datagram_new(len, head, 0, &block);
				gt = wg_message_classify(buf, len, &got);
				wt = naive_classify(buf, len, &want);
				if ((gt != wt || got != want) && mismatches++ < 5)
					CHECK_FAIL("len %zu type %u reserved byte %u:"
					    " got %d %s, naive %d %s", len, t, r,
					    gt, wg_message_reject_name(got), wt,
					    wg_message_reject_name(want));
				free(block);
			}
		}
	}
	CHECK(mismatches == 0);
}

static void test_reject_names(void)
{
	const char *names[WG_REJECT_COUNT];
	int i, j;

	CHECK(strcmp(wg_message_reject_name(WG_REJECT_NONE), "none") == 0);
	for (i = 0; i < WG_REJECT_COUNT; i++) {
		names[i] = wg_message_reject_name((enum wg_message_reject)i);
		CHECK(names[i] != NULL && names[i][0] != '\0');
		for (j = 0; j < i; j++)
			CHECK(strcmp(names[i], names[j]) != 0);
	}
	CHECK(wg_message_reject_name(WG_REJECT_COUNT) != NULL);
	CHECK(wg_message_reject_name((enum wg_message_reject)-1) != NULL);
	CHECK(wg_message_reject_name((enum wg_message_reject)1000) != NULL);
}

struct layout_row {
	const char *field;
	size_t offset, size;
	size_t want_offset, want_size;
};

#define FIELD(type, field, off, len) { #type "." #field, \
	offsetof(struct type, field), sizeof(((struct type *)0)->field), \
	(off), (len) }

/* Offsets and sizes as drawn in whitepaper 5.4.2 to 5.4.7. */
static const struct layout_row layout_rows[] = {
	FIELD(wg_msg_initiation, header, 0, 4),
	FIELD(wg_msg_initiation, sender_index, 4, 4),
	FIELD(wg_msg_initiation, unencrypted_ephemeral, 8, 32),
	FIELD(wg_msg_initiation, encrypted_static, 40, 48),
	FIELD(wg_msg_initiation, encrypted_timestamp, 88, 28),
	FIELD(wg_msg_initiation, macs.mac1, 116, 16),
	FIELD(wg_msg_initiation, macs.mac2, 132, 16),
	FIELD(wg_msg_response, header, 0, 4),
	FIELD(wg_msg_response, sender_index, 4, 4),
	FIELD(wg_msg_response, receiver_index, 8, 4),
	FIELD(wg_msg_response, unencrypted_ephemeral, 12, 32),
	FIELD(wg_msg_response, encrypted_nothing, 44, 16),
	FIELD(wg_msg_response, macs.mac1, 60, 16),
	FIELD(wg_msg_response, macs.mac2, 76, 16),
	FIELD(wg_msg_cookie_reply, header, 0, 4),
	FIELD(wg_msg_cookie_reply, receiver_index, 4, 4),
	FIELD(wg_msg_cookie_reply, nonce, 8, 24),
	FIELD(wg_msg_cookie_reply, encrypted_cookie, 32, 32),
	FIELD(wg_msg_data, header, 0, 4),
	FIELD(wg_msg_data, receiver_index, 4, 4),
	FIELD(wg_msg_data, counter, 8, 8),
};

static void test_layout(void)
{
	size_t i;

	for (i = 0; i < sizeof(layout_rows) / sizeof(layout_rows[0]); i++) {
		const struct layout_row *row = &layout_rows[i];

		if (row->offset != row->want_offset || row->size != row->want_size)
			CHECK_FAIL("%s at %zu size %zu, want %zu size %zu",
			    row->field, row->offset, row->size,
			    row->want_offset, row->want_size);
	}
	CHECK(offsetof(struct wg_msg_data, encrypted_data) == 16);
	CHECK(sizeof(struct wg_msg_initiation) == 148);
	CHECK(sizeof(struct wg_msg_response) == 92);
	CHECK(sizeof(struct wg_msg_cookie_reply) == 64);
	CHECK(sizeof(struct wg_msg_data) == 16);
	CHECK(WG_DATA_MIN_LEN == 32);
}

/* Bytes at the whitepaper's offsets land in the fields, little-endian. */
static void test_fields_from_wire(void)
{
	static const uint8_t wire[32] = {
		0x04, 0x00, 0x00, 0x00,
		0x78, 0x56, 0x34, 0x12,
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x88,
	};
	struct wg_msg_response resp;
	struct wg_msg_data data;
	uint8_t rwire[92];
	size_t i;

	memcpy(&data, wire, sizeof(data));
	CHECK(le32toh(data.header.type) == WG_MSG_DATA);
	CHECK(le32toh(data.receiver_index) == 0x12345678);
	CHECK(le64toh(data.counter) == UINT64_C(0x8807060504030201));

	for (i = 0; i < sizeof(rwire); i++)
		rwire[i] = (uint8_t)i;
	memcpy(rwire, "\x02\x00\x00\x00", 4);
	CHECK(wg_message_classify(rwire, sizeof(rwire), NULL) == WG_MSG_RESPONSE);
	memcpy(&resp, rwire, sizeof(resp));
	CHECK(le32toh(resp.sender_index) == 0x07060504);
	CHECK(le32toh(resp.receiver_index) == 0x0b0a0908);
	CHECK(resp.unencrypted_ephemeral[0] == 12);
	CHECK(resp.encrypted_nothing[0] == 44);
	CHECK(resp.macs.mac1[0] == 60);
	CHECK(resp.macs.mac2[15] == 91);
}

int main(void)
{
	RUN(test_classify_table);
	RUN(test_classify_sweep);
	RUN(test_reject_names);
	RUN(test_layout);
	RUN(test_fields_from_wire);
	return check_summary();
}
