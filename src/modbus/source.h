/* One Modbus TCP device as the source of one edge node (edge/node.h):
 * libmodbus polls it every interval, each poll that reads every field
 * is one reading, and a device that stops answering is published as a
 * source-down event (source-up when it answers again) while polling goes
 * on with back-off.
 *
 * A poll is blocking (libmodbus), bounded by the device's timeout per
 * request.  The requests and the checks of the responses are ours
 * (response.h), the connection, framing and timeouts libmodbus's.  Any failure closes the connection, so a late or stray answer
 * can never be taken for the next request's; the next poll connects
 * again.  Failures are counted by class and logged once per episode (an
 * episode ends with the next good poll).
 *
 * Usage: mb_source_init() (after mosquitto_lib_init()), mb_source_start(),
 * the loop runs, mb_source_stop(), mb_source_clear() (safe on a zeroed or
 * failed source). */
#ifndef WGU_MODBUS_SOURCE_H
#define WGU_MODBUS_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>
#include <modbus.h>

#include "edge/node.h"
#include "modbus/config.h"

enum {
	/* Polls without an answer in a row before the device is down. */
	MB_DOWN_AFTER = 3,
};

/* Back-off of a down device: from its interval, doubled, up to this. */
#define MB_BACKOFF_MAX 8.0

enum mb_failure {
	MB_F_NO_ANSWER,		/* connect failed, timeout, connection lost */
	MB_F_EXCEPTION,		/* a Modbus exception response */
	MB_F_MALFORMED,		/* short, long, wrong function code, length
				 * or byte count */
	MB_F_WRONG_TID,		/* the answer to another transaction */
	MB_F_WRONG_UNIT,	/* the answer of another unit id */
	MB_F_BAD_VALUE,		/* a float32 NaN or infinity */
	MB_F_MAX
};

struct mb_source {
	const struct mb_device *dev;
	struct node node;
	struct ev_loop *loop;
	modbus_t *ctx;
	uint16_t tid;		/* of the last request */
	bool connected, down;
	unsigned silent;	/* polls without an answer in a row */
	double backoff;		/* seconds till the next poll while down */
	ev_timer timer;
	bool logged[MB_F_MAX];	/* said once in this episode */
	int64_t down_since_ms;
	uint64_t polls, readings, failures[MB_F_MAX], downs;
};

/* The node (edge/node.h) and the libmodbus context.  0 or a negative
 * errno, said on stderr. */
int mb_source_init(struct mb_source *s, struct ev_loop *loop,
    const struct node_config *cfg, const struct mb_device *dev,
    const char *password);

int mb_source_start(struct mb_source *s);

/* No more polls (the node goes on: its PUBACKs and resends). */
void mb_source_stop_polling(struct mb_source *s);

/* Once a second: the node's housekeeping (node_tick_second()). */
void mb_source_tick_second(struct mb_source *s);

/* The summary line (node's and the source's counters) on stdout. */
void mb_source_summary(struct mb_source *s);

void mb_source_stop(struct mb_source *s);
void mb_source_clear(struct mb_source *s);

/* "no answer", "exception", ... */
const char *mb_failure_str(enum mb_failure f);

/* The class of a libmodbus errno (from connecting or receiving). */
enum mb_failure mb_failure_of(int err);

#endif
