/* Fuzzes the telemetry payload parser and the command (resend request)
 * parser with the same bytes: both take MQTT payloads from the network.
 * A payload that parses must build back into one that parses to the same
 * reading, or the codec disagrees with itself: the same integers and
 * strings, numbers equal to 15 significant digits (cJSON prints no more),
 * or a clean -EINVAL when that rounding would move a value across a
 * status threshold. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt/telemetry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool close_enough(double a, double b)
{
	return fabs(a - b) <= 1e-13 * fmax(fabs(a), 1.0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct telemetry_reading r, back;
	struct telemetry_resend rq;
	struct telemetry_error err;
	char buf[TELEMETRY_PAYLOAD_MAX + 1];
	int n;

	if (telemetry_parse(data, size, &r, &err) == TELEMETRY_OK) {
		n = telemetry_build(&r, buf, sizeof(buf));
		if (n == -EINVAL)
			goto cmd;
		if (n < 0 || telemetry_parse(buf, (size_t)n, &back, NULL) !=
		    TELEMETRY_OK || back.seq != r.seq ||
		    back.boot_id != r.boot_id ||
		    back.timestamp_ms != r.timestamp_ms ||
		    !close_enough(back.p, r.p) || !close_enough(back.t, r.t) ||
		    !close_enough(back.v, r.v) || back.status != r.status ||
		    strcmp(back.node_id, r.node_id) != 0)
			abort();
	} else if (telemetry_reject_str(err.reason) == NULL ||
	    err.field == NULL) {
		abort();
	}
cmd:
	(void)telemetry_resend_parse(data, size, &rq, &err);
	return 0;
}
