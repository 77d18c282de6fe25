/* wgu-query's arguments that are text from the user: points in time,
 * durations, node globs.  Pure functions, fuzzed (fuzz/fuzz_queryargs.c). */
#ifndef WGU_QUERY_ARGS_H
#define WGU_QUERY_ARGS_H

#include <stdbool.h>
#include <stdint.h>

enum {
	QUERY_GLOB_MAX = 256,
	QUERY_FIELD_MAX = 32,		/* TELEMETRY_FIELD_NAME_MAX */
};

/* A point in time: RFC 3339 ("2026-12-07T10:00:00Z", a zone required
 * unless zoneless_offset_min applies: a string without a zone is UTC),
 * "now", or relative to now_ms: "-2h", "-30m", "-7d", "-90s", "-1500ms".
 * 0, -EINVAL (not one of these forms) or -ERANGE (before 1970, after
 * 9999). */
int query_time_parse(const char *s, int64_t now_ms, int64_t *ms);

/* A positive duration: a whole number and a unit, ms, s, m, h or d
 * ("1m", "15s", "1h"), at most 366 days.  0, -EINVAL or -ERANGE. */
int query_duration_parse(const char *s, int64_t *ms);

/* A node glob (SQLite's GLOB: '*', '?', '[...]', '[^...]') over the
 * characters of node ids: 1..QUERY_GLOB_MAX bytes, brackets closed. */
bool query_glob_valid(const char *s);

/* A field name as telemetry.h allows it (1..32 of [A-Za-z0-9._-]). */
bool query_field_valid(const char *s);

#endif
