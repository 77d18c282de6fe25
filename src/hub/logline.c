/* Reading the production log back: see logline.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "hub/histlog.h"
#include "hub/logline.h"

int logline_parse(const char *line, size_t len, struct telemetry_reading *r,
    uint64_t *received_ms, int64_t *ts_ms)
{
	const struct telemetry_parse_opts opts = { .zoneless_offset_min = 0 };
	const cJSON *received, *ts;
	cJSON *rec = cJSON_ParseWithLength(line, len);
	int ret = -EINVAL;

	received = cJSON_GetObjectItemCaseSensitive(rec, "received");
	ts = cJSON_GetObjectItemCaseSensitive(rec, "ts");
	if (!cJSON_IsNumber(received) || !(received->valuedouble >= 0) ||
	    received->valuedouble > TELEMETRY_INT_MAX)
		goto out;
	if (telemetry_parse_object(cJSON_GetObjectItemCaseSensitive(rec,
	    "payload"), &opts, r, NULL) != TELEMETRY_OK)
		goto out;
	*received_ms = (uint64_t)received->valuedouble;
	*ts_ms = r->timestamp_ms;
	if (ts != NULL) {
		/* The historian's own normalisation (its zoneless offset):
		 * it wins over ours. */
		if (!cJSON_IsNumber(ts) || !(ts->valuedouble >= 0) ||
		    ts->valuedouble > (double)TELEMETRY_TIME_MS_MAX)
			goto out;
		*ts_ms = (int64_t)ts->valuedouble;
		r->timestamp_ms = *ts_ms;
	}
	ret = 0;
out:
	cJSON_Delete(rec);
	return ret;
}

enum { CHUNK = 1 << 20 };

/* The buffer holds bytes of the file from base on: [0, len). */
struct reader {
	char *buf;
	size_t len, cap;
	uint64_t base;
	bool skipping;		/* inside an overlong line */
};

/* Hands over the whole lines in the buffer and keeps the rest. */
static int drain(struct reader *rd, logline_fn *on_line, void *ctx)
{
	size_t pos = 0;
	int ret = 0;

	while (pos < rd->len) {
		char *nl = memchr(rd->buf + pos, '\n', rd->len - pos);
		size_t n;

		if (nl == NULL)
			break;
		n = (size_t)(nl - (rd->buf + pos));
		ret = on_line(ctx, rd->buf + pos, rd->skipping ? 0 : n,
		    rd->base + pos + n + 1);
		rd->skipping = false;
		pos += n + 1;
		if (ret != 0)
			break;
	}
	if (pos < rd->len && rd->len - pos > HISTLOG_LINE_MAX) {
		/* Overlong: its bytes go, its end still counts. */
		rd->skipping = true;
		pos = rd->len;
	}
	memmove(rd->buf, rd->buf + pos, rd->len - pos);
	rd->len -= pos;
	rd->base += pos;
	return ret;
}

int logline_scan(int fd, uint64_t offset, logline_fn *on_line, void *ctx)
{
	struct reader rd = { .cap = HISTLOG_LINE_MAX + CHUNK + 1,
	    .base = offset };
	int ret = 0;

	rd.buf = malloc(rd.cap);
	if (rd.buf == NULL)
		return -ENOMEM;
	for (;;) {
		ssize_t n = pread(fd, rd.buf + rd.len, rd.cap - rd.len,
		    (off_t)(rd.base + rd.len));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		if (n == 0)
			break;
		rd.len += (size_t)n;
		if ((ret = drain(&rd, on_line, ctx)) != 0)
			break;
	}
	free(rd.buf);
	return ret;
}
