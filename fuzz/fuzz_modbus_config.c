/* Fuzzes wgu-modbus's configuration parser (src/modbus/config.c) with
 * arbitrary bytes, decodes a poll of every accepted device from registers
 * made of the input (src/modbus/decode.c), checks the input as a
 * response to a read of every kind (src/modbus/response.c), and frames it
 * as wgu-modbus does the bytes of a response as they come, in pieces the
 * input sizes (mbresponse_frame()).  Invariants: a
 * refused file has a "f:LINE: " message and no devices; an accepted one
 * has 1.. devices, each with an address, 1..16 fields each inside a block
 * of at most one request's size; a decoded reading is finite with a
 * status 0..2.  abort() marks a broken invariant. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modbus/config.h"
#include "modbus/decode.h"
#include "modbus/response.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_device(const struct mb_device *d, const uint8_t *data,
    size_t size)
{
	static struct mb_poll poll;
	struct telemetry_reading r;
	size_t i, j, bad;

	if (d->host[0] == '\0' || d->nfields < 1 ||
	    d->nfields > TELEMETRY_FIELDS_MAX || d->nblocks < 1 ||
	    d->nblocks > d->nfields)
		abort();
	for (i = 0; i < d->nblocks; i++)
		if (d->blocks[i].count < 1 || d->blocks[i].count >
		    ((d->blocks[i].kind == MB_COIL ||
		    d->blocks[i].kind == MB_DISCRETE) ?
		    MBCONFIG_BITS_PER_READ : MBCONFIG_REGS_PER_READ))
			abort();
	for (i = 0; i < MBCONFIG_BLOCKS_MAX; i++)
		for (j = 0; j < MBCONFIG_REGS_PER_READ; j++)
			poll.regs[i][j] = size ? (uint16_t)(data[(i * 131 + j) %
			    size] << 8 | data[(i * 7 + j * 3) % size]) : 0;
	if (mbdecode_reading(d, &poll, &r, &bad) == 0) {
		if (r.status < 0 || r.status > 2 || r.nfields != d->nfields)
			abort();
		for (i = 0; i < r.nfields; i++)
			if (!isfinite(r.fields[i].value))
				abort();
	} else if (bad >= d->nfields) {
		abort();
	}
}

/* The input as the response to reads of each kind, 1..2000 wide: an OK
 * needs the exact frame, whose length follows from the count. */
static void check_response(const uint8_t *data, size_t size)
{
	static uint16_t regs[MBCONFIG_BITS_PER_READ];
	static uint8_t bits[MBCONFIG_BITS_PER_READ];
	struct mb_block b;
	int exception, k;

	for (k = MB_COIL; k <= MB_HOLDING; k++) {
		b = (struct mb_block){ .kind = (enum mb_kind)k, .addr = 0,
		    .count = size > 10 ? (uint16_t)(data[size - 1] % 125 + 1) :
		    1 };
		if (mbresponse_check(data, size, size ? data[0] << 8 : 0,
		    size > 6 ? data[6] : 0, &b, regs, bits, &exception) ==
		    MB_ANSWER_OK && size != 9 + (k <= MB_DISCRETE ?
		    ((size_t)b.count + 7) / 8 : (size_t)b.count * 2))
			abort();
	}
}

/* The receive loop of src/modbus/source.c: pieces of 1..16 bytes (the
 * sizes from the input's last byte on) into the buffer until the frame
 * is whole or bad; it must never ask for more than the buffer holds, and
 * a whole frame is its MBAP length. */
static void check_framing(const uint8_t *data, size_t size)
{
	uint8_t rsp[MBRESPONSE_MAX];
	size_t got = 0, off = 0, piece, k = 0;
	enum mb_frame f = MB_FRAME_MORE;
	uint16_t regs[MBCONFIG_REGS_PER_READ];
	uint8_t bits[MBCONFIG_BITS_PER_READ];
	struct mb_block b = { .kind = MB_HOLDING, .count = 2 };
	int exception;

	while (off < size && f == MB_FRAME_MORE) {
		if (got >= sizeof(rsp))
			abort();
		piece = size ? (size_t)data[(size - 1 + k++) % size] % 16 + 1 : 1;
		if (piece > sizeof(rsp) - got)
			piece = sizeof(rsp) - got;
		if (piece > size - off)
			piece = size - off;
		memcpy(rsp + got, data + off, piece);
		got += piece;
		off += piece;
		f = mbresponse_frame(rsp, got);
	}
	if (f == MB_FRAME_WHOLE) {
		if (got < 9 || got != 6 + (size_t)(rsp[4] << 8 | rsp[5]))
			abort();
		mbresponse_check(rsp, got, 0, rsp[6], &b, regs, bits,
		    &exception);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mb_config cfg;
	char err[MBCONFIG_ERR_SIZE];
	size_t i;

	check_response(data, size);
	check_framing(data, size);
	if (mbconfig_parse("f", (const char *)data, size, &cfg, err) < 0) {
		if (strncmp(err, "f:", 2) != 0 || cfg.devices != NULL)
			abort();
		return 0;
	}
	if (cfg.ndevices < 1)
		abort();
	for (i = 0; i < cfg.ndevices; i++)
		check_device(&cfg.devices[i], data, size);
	mbconfig_free(&cfg);
	return 0;
}
