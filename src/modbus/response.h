/* The request of one read and the check of its response, as Modbus TCP
 * frames them (MBAP header: transaction id, protocol 0, length, unit id;
 * then function code and data).  Pure: bytes in, verdict and values out.
 *
 * Ours rather than libmodbus's because libmodbus 3.1.6 (Debian 12) does
 * not compare a TCP response's unit id with the request's: the answer of
 * another unit would be taken for the device's values (tests/sys_modbus.sh
 * proves the difference), and because its calls block: wgu-modbus drives
 * every device's socket from its event loop (source.h), so the framing of
 * a response from the bytes as they come (mbresponse_frame()) is ours
 * too. */
#ifndef WGU_MODBUS_RESPONSE_H
#define WGU_MODBUS_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

#include "modbus/config.h"

enum {
	MBRESPONSE_REQUEST_LEN = 12,
	MBRESPONSE_MAX = 260,		/* MODBUS_TCP_MAX_ADU_LENGTH */
	MBRESPONSE_MBAP_LEN = 7,	/* tid 2, protocol 2, length 2, unit 1 */
};

enum mb_answer {
	MB_ANSWER_OK,
	MB_ANSWER_EXCEPTION,	/* function | 0x80 and an exception code */
	MB_ANSWER_MALFORMED,	/* short, long, wrong protocol, length,
				 * function code or byte count */
	MB_ANSWER_WRONG_TID,
	MB_ANSWER_WRONG_UNIT,
};

/* The function code that reads block b's kind (1, 2, 3 or 4). */
uint8_t mbresponse_function(const struct mb_block *b);

/* Writes the read request of b with transaction id tid for unit. */
void mbresponse_request(uint8_t req[static MBRESPONSE_REQUEST_LEN],
    uint16_t tid, uint8_t unit, const struct mb_block *b);

/* Where a response stands after got bytes of it arrived in rsp (any
 * bytes are safe): MB_FRAME_MORE, more to read (at most MBRESPONSE_MAX -
 * got: a frame never needs more); MB_FRAME_WHOLE, exactly one frame by
 * its MBAP length field (for mbresponse_check()); MB_FRAME_BAD_LENGTH,
 * that field cannot be a response's (below 3: unit id, function and one
 * byte at least; or a frame beyond MBRESPONSE_MAX); MB_FRAME_TRAILING,
 * bytes after the frame (no answer was asked for them). */
enum mb_frame {
	MB_FRAME_MORE,
	MB_FRAME_WHOLE,
	MB_FRAME_BAD_LENGTH,
	MB_FRAME_TRAILING,
};
enum mb_frame mbresponse_frame(const uint8_t *rsp, size_t got);

/* Checks the n bytes of a response (any bytes are safe) against the
 * request (tid, unit, b).  On MB_ANSWER_OK, fills regs[0..b->count) for
 * registers or bits[0..b->count) (0 or 1 each) for coils and discrete
 * inputs; on MB_ANSWER_EXCEPTION, *exception is its code. */
enum mb_answer mbresponse_check(const uint8_t *rsp, size_t n, uint16_t tid,
    uint8_t unit, const struct mb_block *b, uint16_t *regs, uint8_t *bits,
    int *exception);

#endif
