/* Modbus TCP read requests and the checks of their responses (see
 * response.h; the Modbus Application Protocol v1.1b3 and the Messaging on
 * TCP/IP Implementation Guide v1.0b, section 3.1.3, for the frames). */
#include "modbus/response.h"

enum {
	MBAP_LEN = MBRESPONSE_MBAP_LEN,
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

uint8_t mbresponse_function(const struct mb_block *b)
{
	switch (b->kind) {
	case MB_COIL:
		return 1;
	case MB_DISCRETE:
		return 2;
	case MB_HOLDING:
		return 3;
	case MB_INPUT:
	default:
		return 4;
	}
}

static bool is_bits(const struct mb_block *b)
{
	return b->kind == MB_COIL || b->kind == MB_DISCRETE;
}

void mbresponse_request(uint8_t req[static MBRESPONSE_REQUEST_LEN],
    uint16_t tid, uint8_t unit, const struct mb_block *b)
{
	put16(req, tid);
	put16(req + 2, 0);		/* protocol: Modbus */
	put16(req + 4, 6);		/* unit, function, address, count */
	req[6] = unit;
	req[7] = mbresponse_function(b);
	put16(req + 8, b->addr);
	put16(req + 10, b->count);
}

enum mb_frame mbresponse_frame(const uint8_t *rsp, size_t got)
{
	size_t len;

	if (got < MBAP_LEN)
		return MB_FRAME_MORE;
	len = get16(rsp + 4);
	if (len < 3 || 6 + len > MBRESPONSE_MAX)
		return MB_FRAME_BAD_LENGTH;
	if (got < 6 + len)
		return MB_FRAME_MORE;
	return got == 6 + len ? MB_FRAME_WHOLE : MB_FRAME_TRAILING;
}

enum mb_answer mbresponse_check(const uint8_t *rsp, size_t n, uint16_t tid,
    uint8_t unit, const struct mb_block *b, uint16_t *regs, uint8_t *bits,
    int *exception)
{
	uint8_t fc = mbresponse_function(b);
	size_t want = is_bits(b) ? ((size_t)b->count + 7) / 8 :
	    (size_t)b->count * 2, i;

	if (n < MBAP_LEN + 2 || n > MBRESPONSE_MAX)
		return MB_ANSWER_MALFORMED;
	if (get16(rsp) != tid)
		return MB_ANSWER_WRONG_TID;
	if (get16(rsp + 2) != 0 || get16(rsp + 4) != n - 6)
		return MB_ANSWER_MALFORMED;
	if (rsp[6] != unit)
		return MB_ANSWER_WRONG_UNIT;
	if (rsp[7] == (fc | 0x80) && n == MBAP_LEN + 2) {
		*exception = rsp[8];
		return MB_ANSWER_EXCEPTION;
	}
	if (rsp[7] != fc || rsp[8] != want || n != MBAP_LEN + 2 + want)
		return MB_ANSWER_MALFORMED;
	rsp += MBAP_LEN + 2;
	for (i = 0; i < b->count; i++) {
		if (is_bits(b))
			bits[i] = rsp[i / 8] >> (i % 8) & 1;
		else
			regs[i] = get16(rsp + 2 * i);
	}
	return MB_ANSWER_OK;
}
