/* The PostgreSQL store's month partitions (src/hub/store_pg_month.c):
 * names and ranges against a table of dates, every month's range
 * against the C library's timegm() and its neighbours, the partition
 * names retention parses back, and the plant names accepted. */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "hub/store_pg.h"

static int64_t utc_ms(int y, int m, int d, int hh, int mm, int ss)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d,
	    .tm_hour = hh, .tm_min = mm, .tm_sec = ss };

	return (int64_t)timegm(&tm) * 1000;
}

static void test_month_table(void)
{
	static const struct {
		int y, m, d, hh, mm, ss, ms;
		const char *name;
		int ty, tm;	/* the start of the next month */
	} rows[] = {
		{ 1970, 1, 1, 0, 0, 0, 0, "readings_1970_01", 1970, 2 },
		{ 2026, 12, 7, 15, 46, 42, 123, "readings_2026_12", 2027, 1 },
		{ 2026, 12, 31, 23, 59, 59, 999, "readings_2026_12", 2027, 1 },
		{ 2027, 1, 1, 0, 0, 0, 0, "readings_2027_01", 2027, 2 },
		{ 2024, 2, 29, 12, 0, 0, 0, "readings_2024_02", 2024, 3 },
		{ 2100, 2, 28, 23, 59, 59, 999, "readings_2100_02", 2100, 3 },
		{ 2000, 2, 29, 0, 0, 0, 0, "readings_2000_02", 2000, 3 },
		{ 9999, 12, 31, 23, 59, 59, 999, "readings_9999_12", 10000, 1 },
	};
	char name[STORE_PG_PART_NAME];
	int64_t from, to, ts;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		ts = utc_ms(rows[i].y, rows[i].m, rows[i].d, rows[i].hh,
		    rows[i].mm, rows[i].ss) + rows[i].ms;
		CHECK(store_pg_month(ts, name, &from, &to));
		if (strcmp(name, rows[i].name) != 0)
			CHECK_FAIL("row %zu: %s, not %s", i, name,
			    rows[i].name);
		CHECK(from == utc_ms(rows[i].y, rows[i].m, 1, 0, 0, 0));
		CHECK(to == utc_ms(rows[i].ty, rows[i].tm, 1, 0, 0, 0));
		CHECK(from <= ts && ts < to);
	}
}

/* Every month from 1970 to 2200: contiguous ranges, the end of one the
 * start of the next, each one ms before its end still inside. */
static void test_months_contiguous(void)
{
	char name[STORE_PG_PART_NAME], want[STORE_PG_PART_NAME];
	int64_t from, to, prev_to = 0, end;
	int y, m;

	for (y = 1970; y <= 2200; y++)
		for (m = 1; m <= 12; m++) {
			int64_t start = utc_ms(y, m, 1, 0, 0, 0);

			snprintf(want, sizeof(want), "readings_%04d_%02d", y, m);
			CHECK(store_pg_month(start, name, &from, &to));
			CHECK(strcmp(name, want) == 0);
			CHECK(from == start && from == prev_to);
			CHECK(store_pg_month(to - 1, name, &from, &end));
			CHECK(strcmp(name, want) == 0 && end == to);
			CHECK(store_pg_month_end(want, &end) && end == to);
			prev_to = to;
		}
}

static void test_outside(void)
{
	char name[STORE_PG_PART_NAME];
	int64_t from, to;

	CHECK(!store_pg_month(-1, name, &from, &to));
	CHECK(strcmp(name, "readings_before_1970") == 0 && to == 0);
	CHECK(!store_pg_month(INT64_MIN, name, &from, &to));
	CHECK(strcmp(name, "readings_before_1970") == 0);
	CHECK(!store_pg_month(utc_ms(10000, 1, 1, 0, 0, 0), name, &from, &to));
	CHECK(strcmp(name, "readings_after_9999") == 0);
	CHECK(from == 253402300800000 && to == INT64_MAX);
	CHECK(!store_pg_month(INT64_MAX, name, &from, &to));
}

static void test_names_parsed(void)
{
	static const char *const bad[] = {
		"readings", "readings_2026_13", "readings_2026_00",
		"readings_2026_1", "readings_26_12", "readings_2026_12x",
		"readings_before_1970", "readings_after_9999", "nodes",
		"readings_1969_12", "readings_+026_12", "readings_2026_ 1",
	};
	int64_t to;
	size_t i;

	CHECK(store_pg_month_end("readings_2026_12", &to) &&
	    to == utc_ms(2027, 1, 1, 0, 0, 0));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (store_pg_month_end(bad[i], &to))
			CHECK_FAIL("%s taken for a month", bad[i]);
}

static void test_plants(void)
{
	char long_name[STORE_PG_PLANT_MAX + 2];

	CHECK(store_pg_plant_ok("north"));
	CHECK(store_pg_plant_ok("hub-01.plant_a"));
	CHECK(!store_pg_plant_ok(""));
	CHECK(!store_pg_plant_ok("a b"));
	CHECK(!store_pg_plant_ok("x'; DROP TABLE readings; --"));
	CHECK(!store_pg_plant_ok("caf\xc3\xa9"));
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	CHECK(!store_pg_plant_ok(long_name));
	long_name[STORE_PG_PLANT_MAX] = '\0';
	CHECK(store_pg_plant_ok(long_name));
}

int main(void)
{
	RUN(test_month_table);
	RUN(test_months_contiguous);
	RUN(test_outside);
	RUN(test_names_parsed);
	RUN(test_plants);
	return check_summary();
}
