/* Timestamps of the telemetry payload (telemetry.h): RFC 3339 strings
 * read and written, UTC offsets, with our own calendar arithmetic so that
 * no field is silently normalised (February 30 is refused, not March 2).
 * Pure: no clock, no locale, no time zone database. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mqtt/telemetry.h"

static bool leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
	};

	return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d of the Gregorian calendar, y >= 1, the
 * date valid.  Leap days of the years before y, counted from year 1. */
static int64_t epoch_days(int y, int m, int d)
{
	static const int before[12] = {
		0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334,
	};
	int64_t p = y - 1, leaps = p / 4 - p / 100 + p / 400;
	int64_t leaps1970 = 1969 / 4 - 1969 / 100 + 1969 / 400;

	return 365 * (int64_t)(y - 1970) + (leaps - leaps1970) +
	    before[m - 1] + (m > 2 && leap_year(y)) + d - 1;
}

/* n decimal digits at s, exactly. */
static bool digits(const char *s, size_t n, int *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

/* "Z", "z", "+hh:mm", "+hhmm", "+hh" or with '-', exactly n bytes. */
static int zone(const char *s, size_t n, int *minutes)
{
	int h, m = 0, sign;

	if (n == 1 && (s[0] == 'Z' || s[0] == 'z')) {
		*minutes = 0;
		return 0;
	}
	if (n < 3 || (s[0] != '+' && s[0] != '-') || !digits(s + 1, 2, &h))
		return -EINVAL;
	sign = s[0] == '-' ? -1 : 1;
	if (n == 6 && s[3] == ':' && digits(s + 4, 2, &m))
		;
	else if (n == 5 && digits(s + 3, 2, &m))
		;
	else if (n != 3)
		return -EINVAL;
	if (h > 23 || m > 59)
		return -EINVAL;
	*minutes = sign * (h * 60 + m);
	return 0;
}

int telemetry_offset_parse(const char *s, int *minutes)
{
	return zone(s, strlen(s), minutes);
}

int telemetry_time_parse(const char *s, size_t len, int zoneless_offset_min,
    int64_t *ms)
{
	int y, mo, d, h, mi, sec, off = zoneless_offset_min;
	int64_t frac_ns = 0, scale = 100000000, total;
	size_t i = 19;

	if (off < -TELEMETRY_OFFSET_MAX_MIN || off > TELEMETRY_OFFSET_MAX_MIN)
		return -EINVAL;
	if (len < 19 || len > TELEMETRY_TIME_STRING_MAX)
		return -EINVAL;
	if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    !digits(s + 11, 2, &h) || s[13] != ':' ||
	    !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec))
		return -EINVAL;
	if (i < len && s[i] == '.') {
		/* 1..9 digits, as nanoseconds. */
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
			if (scale == 0)
				return -EINVAL;
			frac_ns += (s[i] - '0') * scale;
			scale /= 10;
		}
		if (scale == 100000000)
			return -EINVAL;
	}
	if (i < len && zone(s + i, len - i, &off) < 0)
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
	    h > 23 || mi > 59 || sec > 59)
		return -ERANGE;
	/* A year before 1969 cannot reach 1970 by any offset. */
	if (y < 1969)
		return -ERANGE;
	total = epoch_days(y, mo, d) * 86400000 + h * INT64_C(3600000) +
	    mi * INT64_C(60000) + sec * INT64_C(1000) +
	    (frac_ns + 500000) / 1000000 - off * INT64_C(60000);
	if (total < 0 || total > TELEMETRY_TIME_MS_MAX)
		return -ERANGE;
	*ms = total;
	return 0;
}

int telemetry_time_format(int64_t ms,
    char buf[static TELEMETRY_TIME_FORMAT_LEN])
{
	int64_t days, rem;
	int y, m = 1, d;

	buf[0] = '\0';
	if (ms < 0 || ms > TELEMETRY_TIME_MS_MAX)
		return -ERANGE;
	days = ms / 86400000;
	rem = ms % 86400000;
	/* No year has 366 days more than once: a lower bound. */
	y = 1970 + (int)(days / 366);
	while (epoch_days(y + 1, 1, 1) <= days)
		y++;
	while (m < 12 && epoch_days(y, m + 1, 1) <= days)
		m++;
	d = (int)(days - epoch_days(y, m, 1)) + 1;
	snprintf(buf, TELEMETRY_TIME_FORMAT_LEN,
	    "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y % 10000, m % 100, d % 100,
	    (int)(rem / 3600000), (int)(rem / 60000 % 60),
	    (int)(rem / 1000 % 60), (int)(rem % 1000));
	return 0;
}
