/* The PostgreSQL store's month partitions (store_pg.h): names and
 * ranges, without libpq, for the unit test. */
#include <stdio.h>
#include <string.h>

#include "hub/store_pg.h"

static const int64_t DAY_MS = 86400000;

/* Days from 1970-01-01 to the first of month m (1..12) of year y
 * (proleptic Gregorian; Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int64_t month_start(int64_t y, int64_t m)
{
	return days_from_civil(y, m) * DAY_MS;
}

bool store_pg_month(int64_t ts_ms, char name[STORE_PG_PART_NAME],
    int64_t *from, int64_t *to)
{
	int64_t y, m, lo, hi;

	if (ts_ms < 0) {
		snprintf(name, STORE_PG_PART_NAME, "readings_before_1970");
		*from = INT64_MIN;
		*to = 0;
		return false;
	}
	if (ts_ms >= month_start(10000, 1)) {
		snprintf(name, STORE_PG_PART_NAME, "readings_after_9999");
		*from = month_start(10000, 1);
		*to = INT64_MAX;
		return false;
	}
	/* A first guess from the mean month, then the exact one. */
	y = 1970 + ts_ms / (DAY_MS * 146097 / 400);
	m = 1;
	while (month_start(y, 1) > ts_ms)
		y--;
	while (month_start(y + 1, 1) <= ts_ms)
		y++;
	while (m < 12 && month_start(y, m + 1) <= ts_ms)
		m++;
	lo = month_start(y, m);
	hi = m == 12 ? month_start(y + 1, 1) : month_start(y, m + 1);
	snprintf(name, STORE_PG_PART_NAME, "readings_%04d_%02d", (int)y,
	    (int)m);
	*from = lo;
	*to = hi;
	return true;
}

bool store_pg_month_end(const char *name, int64_t *to)
{
	int y, m, n = 0;

	if (strlen(name) != strlen("readings_YYYY_MM") ||
	    sscanf(name, "readings_%4d_%2d%n", &y, &m, &n) != 2 ||
	    n != (int)strlen(name) || y < 1970 || m < 1 || m > 12 ||
	    name[9] < '0' || name[9] > '9' || name[14] < '0' ||
	    name[14] > '9')
		return false;
	*to = m == 12 ? month_start(y + 1, 1) : month_start(y, m + 1);
	return true;
}

bool store_pg_plant_ok(const char *plant)
{
	size_t len = strlen(plant);

	return len > 0 && len <= STORE_PG_PLANT_MAX &&
	    strspn(plant, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") == len;
}
