/* Reading the production log back (histlog.h has its format): a line
 * into a reading, a file from a byte offset line by line.  For the store's
 * catch-up and --rebuild.  Members a line has beyond received, ts and
 * payload (guarantee, topic, a chain value) are ignored: guarantee follows
 * from the payload (boot_id/seq or not). */
#ifndef WGU_HUB_LOGLINE_H
#define WGU_HUB_LOGLINE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mqtt/telemetry.h"

/* A line (without its '\n', len bytes, not NUL-terminated) into *r, its
 * received member and its ts member (the payload's timestamp when the
 * line predates ts).  0, or -EINVAL when the line is no valid reading. */
int logline_parse(const char *line, size_t len, struct telemetry_reading *r,
    uint64_t *received_ms, int64_t *ts_ms);

/* The same, always through cJSON's parser: what logline_parse() must
 * agree with on every line (it reads the historian's own lines its own
 * way, logline.c), for the tests and fuzz/fuzz_logline.c. */
int logline_parse_cjson(const char *line, size_t len,
    struct telemetry_reading *r, uint64_t *received_ms, int64_t *ts_ms);

/* A whole line and the offset just past its '\n'. */
typedef int logline_fn(void *ctx, const char *line, size_t len,
    uint64_t end);

/* Calls on_line for every whole line of fd from offset on (a line longer
 * than HISTLOG_LINE_MAX is handed over with len 0); a torn last line is
 * left alone.  Stops at the first non-zero return of on_line and returns
 * it; else 0, or -errno when reading fails. */
int logline_scan(int fd, uint64_t offset, logline_fn *on_line, void *ctx);

#endif
