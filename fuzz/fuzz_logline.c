/* Fuzzes the log line reader the store's catch-up and --rebuild use
 * (src/hub/logline.c): the input is a log file, cut into lines by
 * logline_scan() from a memfd, each line parsed by logline_parse().
 *
 * Checked: every line handed over lies inside the input, ends where the
 * next '\n' is, and lines come in order without overlap; a parsed
 * reading is one the codec accepts (node id valid, ts in range); the
 * fast path for the historian's own lines gives what cJSON's way gives
 * (logline_parse_cjson(): the verdict, and the reading byte for byte).
 * abort() marks a broken invariant, never a bad input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hub/logline.h"
#include "mqtt/telemetry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct state {
	const uint8_t *data;
	size_t size;
	uint64_t next;		/* where the next line must start */
};

static int on_line(void *ctx, const char *line, size_t len, uint64_t end)
{
	struct state *st = ctx;
	struct telemetry_reading r, ref;
	uint64_t received = 0, ref_received = 0;
	int64_t ts = 0, ref_ts = 0;
	int ret;

	if (end > st->size || end <= st->next || st->data[end - 1] != '\n' ||
	    (len != 0 && len != end - 1 - st->next) ||
	    memchr(st->data + st->next, '\n', end - 1 - st->next) != NULL)
		abort();
	if (len != 0 && memcmp(line, st->data + st->next, len) != 0)
		abort();
	st->next = end;
	if (len == 0)
		return 0;
	memset(&r, 0, sizeof(r));
	memset(&ref, 0, sizeof(ref));
	ret = logline_parse(line, len, &r, &received, &ts);
	if (ret != logline_parse_cjson(line, len, &ref, &ref_received,
	    &ref_ts))
		abort();
	if (ret == 0 && (received != ref_received || ts != ref_ts ||
	    memcmp(&r, &ref, sizeof(r)) != 0))
		abort();
	if (ret == 0 && (!telemetry_node_id_valid(r.node_id) || ts < 0 ||
	    ts > TELEMETRY_TIME_MS_MAX || r.timestamp_ms != ts))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state st = { data, size, 0 };
	const uint8_t *last;
	int fd = memfd_create("fuzz_logline", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	if (logline_scan(fd, 0, on_line, &st) != 0)
		abort();
	close(fd);
	/* Every whole line was handed over. */
	last = size ? memrchr(data, '\n', size) : NULL;
	if (st.next != (last ? (uint64_t)(last - data) + 1 : 0))
		abort();
	return 0;
}
