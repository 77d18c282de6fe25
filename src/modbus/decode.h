/* From the registers and bits a poll read to one reading: each field's
 * raw value by its type and byte order, scaled, and the status its
 * thresholds give (the worst of the fields).  Pure. */
#ifndef WGU_MODBUS_DECODE_H
#define WGU_MODBUS_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "modbus/config.h"
#include "mqtt/telemetry.h"

/* What one poll of a device read: block i's registers in regs[i] or bits
 * (0 or 1 per byte) in bits[i], as struct mb_device's blocks[i] says. */
struct mb_poll {
	uint16_t regs[MBCONFIG_BLOCKS_MAX][MBCONFIG_REGS_PER_READ];
	uint8_t bits[MBCONFIG_BLOCKS_MAX][MBCONFIG_BITS_PER_READ];
};

/* The raw value of a field from its registers (mbconfig_field_width() of
 * them, in wire order).  False for a float32 that is NaN or infinite. */
bool mbdecode_raw(const struct mb_field *f, const uint16_t *regs,
    double *raw);

/* The status the field's thresholds give value. */
int mbdecode_status(const struct mb_field *f, double value);

/* Fills r's fields[] and status from a poll.  0, or -ERANGE when a value
 * is not a finite number (then *bad is its field index, and r must not
 * be published). */
int mbdecode_reading(const struct mb_device *d, const struct mb_poll *poll,
    struct telemetry_reading *r, size_t *bad);

#endif
