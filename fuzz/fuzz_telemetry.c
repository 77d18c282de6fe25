/* Fuzzes the telemetry payload parser (strict and plain), the timestamp
 * string parser and the command (resend request) parser with the same
 * bytes: all take MQTT payloads from the network.  Besides not crashing:
 * - a payload that parses gives a reading within the documented bounds,
 *   and the same reading (timestamp, content digest) after cJSON prints it
 *   again with other spacing, so the duplicate window sees such a
 *   redelivery as one; remembered in the window, it is found there at once;
 * - a reading the simulator could have sent builds back into one that
 *   parses to the same reading: the same integers and strings, numbers
 *   equal to 15 significant digits (cJSON prints no more), or a clean
 *   -EINVAL when that rounding would move a value across a status
 *   threshold;
 * - a refusal has a reason name, a field, a message that fits
 *   TELEMETRY_ERROR_MSG_MAX and an excerpt of printable ASCII only;
 * - a timestamp string that parses formats back to the same ms. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "mqtt/recent.h"
#include "mqtt/telemetry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool close_enough(double a, double b)
{
	return fabs(a - b) <= 1e-13 * fmax(fabs(a), 1.0);
}

static bool in_range(double x, double min, double max)
{
	return isnan(x) || (x >= min && x <= max);
}

static void check_bounds(const struct telemetry_reading *r)
{
	if (r->timestamp_ms < 0 || r->timestamp_ms > TELEMETRY_TIME_MS_MAX ||
	    r->status < 0 || r->status > 2 ||
	    r->nfields < 1 || r->nfields > TELEMETRY_FIELDS_MAX ||
	    r->has_seq != (r->boot_id >= 1 && r->seq >= 1) ||
	    !telemetry_node_id_valid(r->node_id) ||
	    !in_range(r->p, TELEMETRY_P_MIN, TELEMETRY_P_MAX) ||
	    !in_range(r->t, TELEMETRY_T_MIN, TELEMETRY_T_MAX) ||
	    !in_range(r->v, TELEMETRY_V_MIN, TELEMETRY_V_MAX))
		abort();
}

/* The same payload with cJSON's spacing parses to the same reading.
 * cJSON prints a number with 15 digits when that reads back within an ulp
 * or two, so values may move that little: the content digest must match
 * when they did not move, and a timestamp in seconds may move by 1 ms. */
static void check_reprinted(const uint8_t *data, size_t size,
    const struct telemetry_reading *r)
{
	struct telemetry_reading again;
	cJSON *root = cJSON_ParseWithLength((const char *)data, size);
	char *s = root ? cJSON_PrintUnformatted(root) : NULL;
	bool same = true;
	size_t i;

	if (s == NULL || strlen(s) > TELEMETRY_PAYLOAD_MAX)
		goto out;
	if (telemetry_parse_with(s, strlen(s), NULL, &again, NULL) !=
	    TELEMETRY_OK ||
	    again.nfields != r->nfields ||
	    again.timestamp_form != r->timestamp_form ||
	    llabs(again.timestamp_ms - r->timestamp_ms) >
	    (r->timestamp_form == TELEMETRY_TIME_SECONDS ? 1 : 0))
		abort();
	for (i = 0; i < r->nfields; i++) {
		if (strcmp(again.fields[i].name, r->fields[i].name) != 0 ||
		    !close_enough(again.fields[i].value, r->fields[i].value))
			abort();
		same = same && again.fields[i].value == r->fields[i].value;
	}
	if (same && telemetry_content_digest(&again) !=
	    telemetry_content_digest(r))
		abort();
out:
	cJSON_free(s);
	cJSON_Delete(root);
}

static void check_window(const struct telemetry_reading *r)
{
	static struct recent_table *t;
	static uint64_t now;
	uint64_t digest = telemetry_content_digest(r);

	if (t == NULL)
		t = recent_new(&(struct recent_limits){ 4, 4, 100 });
	if (t == NULL)
		abort();
	now += 7;
	if (recent_add(t, r->node_id, r->timestamp_ms, digest, now) != 0 ||
	    recent_lookup(t, r->node_id, r->timestamp_ms, digest, now) !=
	    RECENT_DUPLICATE)
		abort();
}

static void check_build(const struct telemetry_reading *r)
{
	struct telemetry_reading back;
	char buf[TELEMETRY_PAYLOAD_MAX + 1];
	int n;

	n = telemetry_build(r, buf, sizeof(buf));
	if (n == -EINVAL)
		return;
	if (n < 0 || telemetry_parse(buf, (size_t)n, &back, NULL) !=
	    TELEMETRY_OK || back.seq != r->seq ||
	    back.boot_id != r->boot_id ||
	    back.timestamp_ms != r->timestamp_ms ||
	    !close_enough(back.p, r->p) || !close_enough(back.t, r->t) ||
	    !close_enough(back.v, r->v) || back.status != r->status ||
	    strcmp(back.node_id, r->node_id) != 0)
		abort();
}

static void check_refusal(const struct telemetry_error *err)
{
	char msg[TELEMETRY_ERROR_MSG_MAX];
	size_t i;

	if (telemetry_reject_str(err->reason) == NULL || err->field == NULL ||
	    err->accepted == NULL ||
	    telemetry_error_format(err, msg, sizeof(msg)) >= (int)sizeof(msg))
		abort();
	for (i = 0; err->found[i] != '\0'; i++)
		if (err->found[i] < 0x20 || err->found[i] > 0x7e ||
		    i >= TELEMETRY_FOUND_MAX)
			abort();
}

/* The bytes as a timestamp string, at an offset they choose. */
static void check_time(const uint8_t *data, size_t size)
{
	char buf[TELEMETRY_TIME_FORMAT_LEN];
	int64_t ms, back;
	int offset = (int)(size * 97 % (2 * TELEMETRY_OFFSET_MAX_MIN + 1)) -
	    TELEMETRY_OFFSET_MAX_MIN;

	if (telemetry_time_parse((const char *)data, size, offset, &ms) != 0)
		return;
	if (ms < 0 || ms > TELEMETRY_TIME_MS_MAX ||
	    telemetry_time_format(ms, buf) != 0 ||
	    telemetry_time_parse(buf, strlen(buf), 0, &back) != 0 || back != ms)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct telemetry_reading r, strict;
	struct telemetry_resend rq;
	struct telemetry_error err;
	enum telemetry_reject rs;

	/* The strict parse (boot_id and seq required) takes a subset of what
	 * the plain one takes, and reads it the same. */
	rs = telemetry_parse(data, size, &strict, &err);
	if (rs != TELEMETRY_OK)
		check_refusal(&err);
	if (telemetry_parse_with(data, size, NULL, &r, &err) == TELEMETRY_OK) {
		if (rs == TELEMETRY_OK && (!strict.has_seq ||
		    strict.seq != r.seq || strict.boot_id != r.boot_id ||
		    strict.timestamp_ms != r.timestamp_ms ||
		    telemetry_content_digest(&strict) !=
		    telemetry_content_digest(&r)))
			abort();
		check_bounds(&r);
		check_reprinted(data, size, &r);
		check_window(&r);
		check_build(&r);
	} else {
		if (rs == TELEMETRY_OK)
			abort();
		check_refusal(&err);
	}
	check_time(data, size);
	if (telemetry_resend_parse(data, size, &rq, &err) != TELEMETRY_OK)
		check_refusal(&err);
	return 0;
}
