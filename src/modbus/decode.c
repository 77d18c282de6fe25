/* Registers to values (see decode.h). */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "modbus/decode.h"

static uint16_t swap16(uint16_t w)
{
	return (uint16_t)(w << 8 | w >> 8);
}

/* The 32 bits ABCD from two registers in the given order. */
static uint32_t word32(enum mb_order o, const uint16_t *regs)
{
	switch (o) {
	case MB_CDAB:
		return (uint32_t)regs[1] << 16 | regs[0];
	case MB_BADC:
		return (uint32_t)swap16(regs[0]) << 16 | swap16(regs[1]);
	case MB_DCBA:
		return (uint32_t)swap16(regs[1]) << 16 | swap16(regs[0]);
	case MB_ABCD:
	default:
		return (uint32_t)regs[0] << 16 | regs[1];
	}
}

bool mbdecode_raw(const struct mb_field *f, const uint16_t *regs,
    double *raw)
{
	uint16_t w = f->order == MB_BADC || f->order == MB_DCBA ?
	    swap16(regs[0]) : regs[0];
	uint32_t u;
	float fl;

	switch (f->type) {
	case MB_BIT:
		*raw = regs[0] != 0;
		return true;
	case MB_INT16:
		*raw = (int16_t)w;
		return true;
	case MB_UINT16:
		*raw = w;
		return true;
	case MB_INT32:
		*raw = (int32_t)word32(f->order, regs);
		return true;
	case MB_UINT32:
		*raw = word32(f->order, regs);
		return true;
	case MB_FLOAT32:
		u = word32(f->order, regs);
		memcpy(&fl, &u, sizeof(fl));
		*raw = fl;
		return isfinite(*raw);
	}
	return false;
}

int mbdecode_status(const struct mb_field *f, double value)
{
	if (f->has_crit && value >= f->crit)
		return TELEMETRY_CRITICAL;
	if (f->has_warn && value >= f->warn)
		return TELEMETRY_WARNING;
	return TELEMETRY_NORMAL;
}

/* The index of the block holding f (the parse put every field in one). */
static size_t block_of(const struct mb_device *d, const struct mb_field *f)
{
	size_t i;

	for (i = 0; i < d->nblocks; i++)
		if (d->blocks[i].kind == f->kind && f->addr >= d->blocks[i].addr &&
		    f->addr + mbconfig_field_width(f) <=
		    (unsigned)d->blocks[i].addr + d->blocks[i].count)
			return i;
	return d->nblocks;
}

int mbdecode_reading(const struct mb_device *d, const struct mb_poll *poll,
    struct telemetry_reading *r, size_t *bad)
{
	size_t i, b;
	int st;

	r->nfields = d->nfields;
	r->status = TELEMETRY_NORMAL;
	for (i = 0; i < d->nfields; i++) {
		const struct mb_field *f = &d->fields[i];
		uint16_t bit;
		double raw, v;
		unsigned off;

		b = block_of(d, f);
		if (b == d->nblocks) {
			*bad = i;
			return -ERANGE;
		}
		off = f->addr - d->blocks[b].addr;
		bit = poll->bits[b][off];
		if (!mbdecode_raw(f, f->type == MB_BIT ? &bit :
		    &poll->regs[b][off], &raw) ||
		    !isfinite(v = raw * f->scale + f->offset)) {
			*bad = i;
			return -ERANGE;
		}
		memcpy(r->fields[i].name, f->name, sizeof(f->name));
		r->fields[i].value = v;
		st = mbdecode_status(f, v);
		if (st > r->status)
			r->status = st;
	}
	return 0;
}
