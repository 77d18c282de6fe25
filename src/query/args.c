/* wgu-query's user text: see args.h. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "mqtt/telemetry.h"
#include "query/args.h"

static const struct unit {
	const char *name;
	int64_t ms;
} units[] = {
	{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
	{ "d", 86400000 },
};

#define DURATION_MAX_MS (INT64_C(366) * 86400000)

int query_duration_parse(const char *s, int64_t *ms)
{
	int64_t n = 0;
	size_t i, digits = 0;

	while (s[digits] >= '0' && s[digits] <= '9') {
		if (n > DURATION_MAX_MS)
			return -ERANGE;
		n = n * 10 + (s[digits] - '0');
		digits++;
	}
	if (digits == 0 || digits > 12)
		return digits ? -ERANGE : -EINVAL;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(s + digits, units[i].name) != 0)
			continue;
		if (n == 0)
			return -EINVAL;
		if (n > DURATION_MAX_MS / units[i].ms)
			return -ERANGE;
		*ms = n * units[i].ms;
		return 0;
	}
	return -EINVAL;
}

int query_time_parse(const char *s, int64_t now_ms, int64_t *ms)
{
	int64_t back, t;
	int ret;

	if (strcmp(s, "now") == 0) {
		t = now_ms;
	} else if (s[0] == '-') {
		if ((ret = query_duration_parse(s + 1, &back)) < 0)
			return ret;
		t = now_ms - back;
	} else {
		return telemetry_time_parse(s, strlen(s), 0, ms);
	}
	if (t < 0 || t > TELEMETRY_TIME_MS_MAX)
		return -ERANGE;
	*ms = t;
	return 0;
}

static bool id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool query_glob_valid(const char *s)
{
	size_t n = strlen(s), i;
	bool in_class = false;

	if (n == 0 || n > QUERY_GLOB_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (in_class) {
			if (c == ']' && s[i - 1] != '[' &&
			    !(s[i - 1] == '^' && s[i - 2] == '['))
				in_class = false;
			else if (!id_char(c) && c != '^' && c != ']')
				return false;
		} else if (c == '[') {
			in_class = true;
		} else if (!id_char(c) && c != '*' && c != '?') {
			return false;
		}
	}
	return !in_class;
}

bool query_field_valid(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if (n >= QUERY_FIELD_MAX || !id_char(s[n]))
			return false;
	return n > 0;
}
