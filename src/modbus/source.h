/* One Modbus TCP device as the source of one edge node (edge/node.h):
 * polled every interval, each poll that reads every field is one reading,
 * and a device that stops answering is published as a source-down event
 * (source-up when it answers again) while polling goes on with back-off.
 *
 * Every device's socket is non-blocking and driven by the one event loop:
 * a poll is a small state machine (connect, then per block a request and
 * its response), so a device that does not answer holds up nobody but
 * itself.  Its timeout bounds the connect and each response (from the
 * request to the response's last byte).  The requests, the framing of the
 * responses as their bytes come and their checks are ours (response.h).
 * Any failure closes the connection, so a late or stray answer can never
 * be taken for the next request's; the next poll connects again.  A poll
 * due while the last one is still running is skipped (counted).  Failures
 * are counted by class and logged once per episode (an episode ends with
 * the next good poll).
 *
 * Usage: mb_source_init() (after mosquitto_lib_init()), mb_source_start(),
 * the loop runs, mb_source_stop(), mb_source_clear() (safe on a zeroed or
 * failed source). */
#ifndef WGU_MODBUS_SOURCE_H
#define WGU_MODBUS_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include "edge/node.h"
#include "modbus/config.h"
#include "modbus/decode.h"
#include "modbus/response.h"

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

/* Where a poll is. */
enum mb_step {
	MB_IDLE,		/* between polls */
	MB_CONNECTING,		/* waiting for the connect to complete */
	MB_WAITING,		/* a request sent, its response coming */
};

struct mb_source {
	const struct mb_device *dev;
	struct node node;
	struct ev_loop *loop;
	int fd;			/* -1: not connected */
	enum mb_step step;
	size_t block;		/* the block being read */
	uint16_t tid;		/* of the last request */
	uint8_t rsp[MBRESPONSE_MAX];
	size_t got;		/* bytes of rsp received */
	struct mb_poll *poll;	/* what this poll read so far */
	int64_t poll_ms;	/* when it started: the reading's time */
	bool down;
	unsigned silent;	/* polls without an answer in a row */
	double backoff;		/* seconds till the next poll while down */
	ev_timer timer;		/* the next poll */
	ev_timer deadline;	/* of the connect or the response */
	ev_io io;
	bool logged[MB_F_MAX];	/* said once in this episode */
	int64_t down_since_ms;
	uint64_t polls, readings, failures[MB_F_MAX], downs, skipped;
};

/* The node (edge/node.h) and the libmodbus context.  0 or a negative
 * errno, said on stderr. */
int mb_source_init(struct mb_source *s, struct ev_loop *loop,
    const struct node_config *cfg, const struct mb_device *dev,
    const char *password);

/* The first poll after first seconds (to spread many devices' polls over
 * their interval), then every interval.  0 or a negative errno. */
int mb_source_start(struct mb_source *s, double first);

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

#endif
