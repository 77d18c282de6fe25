/* Fuzzes wgu-query's user text (src/query/args.c): the input, cut at its
 * first NUL, is tried as a time, a duration, a node glob and a field name.
 *
 * Checked: a time is in 0..TELEMETRY_TIME_MS_MAX, a duration in
 * 1ms..366d; a valid glob or field name holds only the characters
 * documented.  abort() marks a broken invariant, never a bad input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt/telemetry.h"
#include "query/args.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[512];
	int64_t ms;
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;

	memcpy(s, data, n);
	s[n] = '\0';
	if (query_time_parse(s, INT64_C(1765000000000), &ms) == 0 &&
	    (ms < 0 || ms > TELEMETRY_TIME_MS_MAX))
		abort();
	if (query_duration_parse(s, &ms) == 0 &&
	    (ms < 1 || ms > INT64_C(366) * 86400000))
		abort();
	if (query_glob_valid(s) && (strlen(s) == 0 ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-*?[]^") != strlen(s)))
		abort();
	if (query_field_valid(s) && (strlen(s) == 0 || strlen(s) > 32))
		abort();
	return 0;
}
