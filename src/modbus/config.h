/* wgu-modbus's configuration file (man/wgu-modbus.conf.5): an [mqtt]
 * section, then one [device ID] section per Modbus TCP device, each with
 * its fields:
 *
 *	[mqtt]
 *	broker = 10.0.0.1
 *	password-file = /etc/wgu/modbus.passwords
 *	[device press-01]
 *	address = 192.168.10.20
 *	unit = 1
 *	interval = 1
 *	field = pressure holding 100 float32 abcd scale 0.1 warn 8 crit 9.5
 *
 * Pure: no I/O but the reading of the file (mbconfig_parse_file()); the
 * text parser is mbconfig_parse(), which the fuzzer drives.  Bad input is
 * refused with "FILE:LINE: what is wrong". */
#ifndef WGU_MODBUS_CONFIG_H
#define WGU_MODBUS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtt/telemetry.h"

enum {
	MBCONFIG_ERR_SIZE = 512,
	MBCONFIG_HOST_MAX = 253,
	MBCONFIG_PATH_MAX = 1024,
	MBCONFIG_PREFIX_MAX = 128,
	MBCONFIG_DEVICES_MAX = 1000,
	/* One request reads at most this many registers or bits (the
	 * protocol's limits for read holding/input registers and coils). */
	MBCONFIG_REGS_PER_READ = 125,
	MBCONFIG_BITS_PER_READ = 2000,
	MBCONFIG_BLOCKS_MAX = TELEMETRY_FIELDS_MAX,
};

enum mb_kind {
	MB_COIL,		/* function 1, one bit */
	MB_DISCRETE,		/* function 2, one bit */
	MB_INPUT,		/* function 4, 16-bit registers */
	MB_HOLDING,		/* function 3, 16-bit registers */
};

enum mb_type {
	MB_BIT,			/* coils and discrete inputs: 0 or 1 */
	MB_INT16, MB_UINT16, MB_INT32, MB_UINT32, MB_FLOAT32,
};

/* The order of the value's bytes A (most significant) .. D on the wire:
 * ABCD big-endian words in big-endian order (the Modbus default), CDAB
 * word-swapped, BADC byte-swapped, DCBA both.  A 16-bit value uses the
 * byte order only: ABCD and CDAB read AB, BADC and DCBA read BA. */
enum mb_order { MB_ABCD, MB_CDAB, MB_BADC, MB_DCBA };

struct mb_field {
	char name[TELEMETRY_FIELD_NAME_MAX + 1];
	enum mb_kind kind;
	uint16_t addr;
	enum mb_type type;
	enum mb_order order;
	double scale, offset;	/* value = raw * scale + offset */
	bool has_warn, has_crit;
	double warn, crit;	/* status 1 at >= warn, 2 at >= crit */
};

/* Fields read by one request: kind, first address, count. */
struct mb_block {
	enum mb_kind kind;
	uint16_t addr, count;
};

struct mb_device {
	char id[TELEMETRY_NODE_ID_MAX + 1];	/* node id, [device ID] */
	char host[MBCONFIG_HOST_MAX + 1];
	int port;			/* 502 */
	int unit;			/* 0..255, 1 */
	double interval;		/* seconds between polls, 1 */
	double timeout;			/* seconds per request, 1 */
	size_t nfields;
	struct mb_field fields[TELEMETRY_FIELDS_MAX];
	size_t nblocks;			/* filled by the parse */
	struct mb_block blocks[MBCONFIG_BLOCKS_MAX];
	unsigned line;			/* where its section starts */
};

struct mb_config {
	char broker[MBCONFIG_HOST_MAX + 1];	/* 10.0.0.1 */
	int port;				/* 1883 */
	char password_file[MBCONFIG_PATH_MAX];	/* "": none */
	char prefix[MBCONFIG_PREFIX_MAX + 1];	/* TELEMETRY_DEFAULT_PREFIX */
	char spool_dir[MBCONFIG_PATH_MAX];	/* /var/lib/wgu-modbus */
	size_t spool_max;			/* 100000 */
	size_t ndevices;
	struct mb_device *devices;		/* mbconfig_free() frees */
};

/* Parses len bytes of text (need not be NUL-terminated; any bytes are
 * safe) named file in messages.  0 and *cfg filled (mbconfig_free() it),
 * or -EINVAL with "FILE:LINE: what" in err (MBCONFIG_ERR_SIZE bytes) and
 * nothing to free; -ENOMEM. */
int mbconfig_parse(const char *file, const char *text, size_t len,
    struct mb_config *cfg, char *err);

/* Reads the file (at most 1 MiB) and parses it.  As mbconfig_parse(),
 * and a negative errno when it cannot be read (err says so). */
int mbconfig_parse_file(const char *path, struct mb_config *cfg, char *err);

void mbconfig_free(struct mb_config *cfg);

/* The number of 16-bit registers (or bits) the field spans. */
unsigned mbconfig_field_width(const struct mb_field *f);

#endif
