/* The telemetry codec: round trips, the status thresholds and a table of
 * payloads that must be rejected, each with its reason. */
#include <errno.h>
#include <math.h>
#include <time.h>

#include "check.h"
#include "mqtt/telemetry.h"

static struct telemetry_reading sample(void)
{
	struct telemetry_reading r = {
		.timestamp_ms = 1764051600123, .boot_id = 3, .seq = 17,
		.p = 6.02, .t = 64.8, .v = 2.11, .status = 0,
	};
	snprintf(r.node_id, sizeof(r.node_id), "edge-01");
	return r;
}

static void test_round_trip(void)
{
	struct telemetry_reading r = sample(), back;
	char buf[TELEMETRY_PAYLOAD_MAX];
	int n;

	n = telemetry_build(&r, buf, sizeof(buf));
	CHECK(n > 0 && (size_t)n == strlen(buf));
	CHECK(telemetry_parse(buf, (size_t)n, &back, NULL) == TELEMETRY_OK);
	CHECK(back.timestamp_ms == r.timestamp_ms);
	CHECK(strcmp(back.node_id, "edge-01") == 0);
	CHECK(back.boot_id == 3 && back.seq == 17);
	CHECK(back.p == r.p && back.t == r.t && back.v == r.v);
	CHECK(back.status == 0);
	CHECK(strstr(buf, "\"timestamp\":1764051600123") != NULL);

	/* Extremes: largest exact integers, critical status. */
	r.boot_id = r.seq = 999999999999999ULL;
	r.v = 7.1;
	r.status = 2;
	n = telemetry_build(&r, buf, sizeof(buf));
	CHECK(n > 0);
	CHECK(telemetry_parse(buf, (size_t)n, &back, NULL) == TELEMETRY_OK);
	CHECK(back.seq == 999999999999999ULL && back.status == 2);
	r.seq++;
	CHECK(telemetry_build(&r, buf, sizeof(buf)) == -EINVAL);
	/* Prints as 8 with 15 digits, which the thresholds call a warning. */
	r = sample();
	r.p = 7.99999999999999999;
	CHECK(telemetry_build(&r, buf, sizeof(buf)) == -EINVAL);
}

static void test_build_refuses_invalid(void)
{
	struct telemetry_reading r = sample();
	char buf[TELEMETRY_PAYLOAD_MAX];

	r.status = 1;		/* thresholds say 0 */
	CHECK(telemetry_build(&r, buf, sizeof(buf)) == -EINVAL);
	r = sample();
	r.seq = 0;
	CHECK(telemetry_build(&r, buf, sizeof(buf)) == -EINVAL);
	r = sample();
	r.p = NAN;
	CHECK(telemetry_build(&r, buf, sizeof(buf)) == -EINVAL);
	r = sample();
	snprintf(r.node_id, sizeof(r.node_id), "a/b");
	CHECK(telemetry_build(&r, buf, sizeof(buf)) == -EINVAL);
	r = sample();
	CHECK(telemetry_build(&r, buf, 20) == -ENOSPC);
}

static void test_status_thresholds(void)
{
	static const struct { double p, t, v; int status; } rows[] = {
		{ 6.0, 65.0, 2.0, 0 },
		{ 7.99, 79.99, 4.49, 0 },
		{ 8.0, 65.0, 2.0, 1 },
		{ 6.0, 80.0, 2.0, 1 },
		{ 6.0, 65.0, 4.5, 1 },
		{ 9.49, 94.9, 7.09, 1 },
		{ 9.5, 65.0, 2.0, 2 },
		{ 6.0, 95.0, 2.0, 2 },
		{ 6.0, 65.0, 7.1, 2 },
		{ 8.5, 65.0, 7.5, 2 },	/* the worst value wins */
		{ 0.0, -50.0, 0.0, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if ((int)telemetry_status(rows[i].p, rows[i].t, rows[i].v) !=
		    rows[i].status)
			CHECK_FAIL("row %zu: status %d expected", i,
			    rows[i].status);
}

#define OK_BODY "\"node_id\":\"edge-01\",\"boot_id\":1,\"seq\":1," \
	"\"data\":{\"p\":6,\"t\":65,\"v\":2},\"status\":0"

static void test_reject_table(void)
{
	static const struct {
		const char *json;
		enum telemetry_reject reason;
		const char *field;
	} rows[] = {
		{ "{\"timestamp\":1," OK_BODY "}", TELEMETRY_OK, "" },
		{ "{\"timestamp\":1," OK_BODY ",\"extra\":[1,2]}", TELEMETRY_OK, "" },
		{ "", TELEMETRY_E_JSON, "" },
		{ "{", TELEMETRY_E_JSON, "" },
		{ "{\"timestamp\":1," OK_BODY "} x", TELEMETRY_E_JSON, "" },
		{ "[1,2]", TELEMETRY_E_NOT_OBJECT, "" },
		{ "\"str\"", TELEMETRY_E_NOT_OBJECT, "" },
		{ "null", TELEMETRY_E_NOT_OBJECT, "" },
		{ "{" OK_BODY "}", TELEMETRY_E_MISSING, "timestamp" },
		{ "{\"timestamp\":\"1\"," OK_BODY "}", TELEMETRY_E_FORMAT, "timestamp" },
		{ "{\"timestamp\":true," OK_BODY "}", TELEMETRY_E_TYPE, "timestamp" },
		{ "{\"timestamp\":null," OK_BODY "}", TELEMETRY_E_TYPE, "timestamp" },
		{ "{\"timestamp\":{}," OK_BODY "}", TELEMETRY_E_TYPE, "timestamp" },
		/* Seconds may have a fraction; milliseconds may not. */
		{ "{\"timestamp\":1.5," OK_BODY "}", TELEMETRY_OK, "" },
		{ "{\"timestamp\":1764051600123.5," OK_BODY "}", TELEMETRY_E_NOT_INTEGER, "timestamp" },
		{ "{\"timestamp\":\"yesterday\"," OK_BODY "}", TELEMETRY_E_FORMAT, "timestamp" },
		{ "{\"timestamp\":\"2026-02-30T12:00:00Z\"," OK_BODY "}", TELEMETRY_E_RANGE, "timestamp" },
		{ "{\"timestamp\":253402300800000," OK_BODY "}", TELEMETRY_E_RANGE, "timestamp" },
		{ "{\"timestamp\":-1," OK_BODY "}", TELEMETRY_E_RANGE, "timestamp" },
		{ "{\"timestamp\":1e300," OK_BODY "}", TELEMETRY_E_RANGE, "timestamp" },
		{ "{\"timestamp\":1e999," OK_BODY "}", TELEMETRY_E_NOT_INTEGER, "timestamp" },
		{ "{\"timestamp\":1,\"timestamp\":2," OK_BODY "}", TELEMETRY_E_DUPLICATE, "timestamp" },
		{ "{\"timestamp\":1,\"node_id\":7,\"boot_id\":1,\"seq\":1,"
		  "\"data\":{\"p\":6,\"t\":65,\"v\":2},\"status\":0}",
		  TELEMETRY_E_TYPE, "node_id" },
		{ "{\"timestamp\":1,\"node_id\":\"\",\"boot_id\":1,\"seq\":1,"
		  "\"data\":{\"p\":6,\"t\":65,\"v\":2},\"status\":0}",
		  TELEMETRY_E_NODE_ID, "node_id" },
		{ "{\"timestamp\":1,\"node_id\":\"a/#\",\"boot_id\":1,\"seq\":1,"
		  "\"data\":{\"p\":6,\"t\":65,\"v\":2},\"status\":0}",
		  TELEMETRY_E_NODE_ID, "node_id" },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"boot_id\":0,\"seq\":1,"
		  "\"data\":{\"p\":6,\"t\":65,\"v\":2},\"status\":0}",
		  TELEMETRY_E_RANGE, "boot_id" },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"boot_id\":\"1\",\"seq\":1,"
		  "\"data\":{\"p\":6,\"t\":65,\"v\":2},\"status\":0}",
		  TELEMETRY_E_TYPE, "boot_id" },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"boot_id\":1,"
		  "\"data\":{\"p\":6,\"t\":65,\"v\":2},\"status\":0}",
		  TELEMETRY_E_MISSING, "seq" },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"seq\":1,"
		  "\"data\":{\"p\":6,\"t\":65,\"v\":2},\"status\":0}",
		  TELEMETRY_E_MISSING, "boot_id" },
		{ "{\"timestamp\":1,\"node_id\":\"e\","
		  "\"data\":{\"p\":6,\"t\":65,\"v\":2},\"status\":0}",
		  TELEMETRY_OK, "" },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"boot_id\":1,\"boot_id\":1,\"seq\":1,"
		  "\"data\":{\"p\":6,\"t\":65,\"v\":2},\"status\":0}",
		  TELEMETRY_E_DUPLICATE, "boot_id" },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"boot_id\":1,\"seq\":1.5,"
		  "\"data\":{\"p\":6,\"t\":65,\"v\":2},\"status\":0}",
		  TELEMETRY_E_NOT_INTEGER, "seq" },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"boot_id\":1,\"seq\":1000000000000000,"
		  "\"data\":{\"p\":6,\"t\":65,\"v\":2},\"status\":0}",
		  TELEMETRY_E_RANGE, "seq" },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"boot_id\":1,\"seq\":1,"
		  "\"data\":[6,65,2],\"status\":0}", TELEMETRY_E_TYPE, "data" },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"boot_id\":1,\"seq\":1,"
		  "\"data\":{\"t\":65,\"v\":2},\"status\":0}", TELEMETRY_OK, "" },
		{ "{\"timestamp\":1,\"node_id\":\"e\","
		  "\"status\":0}", TELEMETRY_E_MISSING, "data" },
		{ "{\"timestamp\":1,\"node_id\":\"e\","
		  "\"data\":{},\"status\":0}", TELEMETRY_E_RANGE, "data" },
		{ "{\"timestamp\":1,\"node_id\":\"e\","
		  "\"data\":{\"flow\":\"12\"},\"status\":0}", TELEMETRY_E_TYPE, "data" },
		{ "{\"timestamp\":1,\"node_id\":\"e\","
		  "\"data\":{\"flow\":null},\"status\":0}", TELEMETRY_E_TYPE, "data" },
		{ "{\"timestamp\":1,\"node_id\":\"e\","
		  "\"data\":{\"flow\":-1e999},\"status\":0}", TELEMETRY_E_RANGE, "data" },
		{ "{\"timestamp\":1,\"node_id\":\"e\","
		  "\"data\":{\"flow rate\":1},\"status\":0}", TELEMETRY_E_NAME, "data" },
		{ "{\"timestamp\":1,\"node_id\":\"e\","
		  "\"data\":{\"\":1},\"status\":0}", TELEMETRY_E_NAME, "data" },
		{ "{\"timestamp\":1,\"node_id\":\"e\","
		  "\"data\":{\"a23456789012345678901234567890123\":1},\"status\":0}",
		  TELEMETRY_E_NAME, "data" },
		{ "{\"timestamp\":1,\"node_id\":\"e\","
		  "\"data\":{\"a2345678901234567890123456789012\":-1e300},\"status\":0}",
		  TELEMETRY_OK, "" },
		{ "{\"timestamp\":1,\"node_id\":\"e\","
		  "\"data\":{\"flow\":1,\"flow\":1},\"status\":0}", TELEMETRY_E_DUPLICATE, "data" },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"data\":{\"a\":1,\"b\":2,"
		  "\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,\"j\":10,"
		  "\"k\":11,\"l\":12,\"m\":13,\"n\":14,\"o\":15,\"p\":16},\"status\":0}",
		  TELEMETRY_OK, "" },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"data\":{\"a\":1,\"b\":2,"
		  "\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,\"j\":10,"
		  "\"k\":11,\"l\":12,\"m\":13,\"n\":14,\"o\":15,\"p\":16,\"q\":17},"
		  "\"status\":0}", TELEMETRY_E_RANGE, "data" },
		/* The p, t and v ranges hold wherever they are. */
		{ "{\"timestamp\":1,\"node_id\":\"e\","
		  "\"data\":{\"flow\":1,\"v\":100.5},\"status\":0}", TELEMETRY_E_RANGE, "data.v" },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"boot_id\":1,\"seq\":1,"
		  "\"data\":{\"p\":true,\"t\":65,\"v\":2},\"status\":0}", TELEMETRY_E_TYPE, "data.p" },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"boot_id\":1,\"seq\":1,"
		  "\"data\":{\"p\":-0.5,\"t\":65,\"v\":2},\"status\":0}", TELEMETRY_E_RANGE, "data.p" },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"boot_id\":1,\"seq\":1,"
		  "\"data\":{\"p\":6,\"t\":301,\"v\":2},\"status\":2}", TELEMETRY_E_RANGE, "data.t" },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"boot_id\":1,\"seq\":1,"
		  "\"data\":{\"p\":6,\"t\":65,\"v\":1e999},\"status\":2}", TELEMETRY_E_RANGE, "data.v" },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"boot_id\":1,\"seq\":1,"
		  "\"data\":{\"p\":6,\"t\":65,\"v\":2,\"v\":9},\"status\":0}", TELEMETRY_E_DUPLICATE, "data.v" },
		{ "{\"timestamp\":1," OK_BODY ",\"status\":0}", TELEMETRY_E_DUPLICATE, "status" },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"boot_id\":1,\"seq\":1,"
		  "\"data\":{\"p\":6,\"t\":65,\"v\":2}}", TELEMETRY_E_MISSING, "status" },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"boot_id\":1,\"seq\":1,"
		  "\"data\":{\"p\":6,\"t\":65,\"v\":2},\"status\":3}", TELEMETRY_E_RANGE, "status" },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"boot_id\":1,\"seq\":1,"
		  "\"data\":{\"p\":6,\"t\":65,\"v\":2},\"status\":\"0\"}", TELEMETRY_E_TYPE, "status" },
		/* status is the device's verdict by its own thresholds: any
		 * of 0, 1, 2 goes, whatever ours would say. */
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"boot_id\":1,\"seq\":1,"
		  "\"data\":{\"p\":6,\"t\":65,\"v\":2},\"status\":1}", TELEMETRY_OK, "" },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"boot_id\":1,\"seq\":1,"
		  "\"data\":{\"p\":9.6,\"t\":65,\"v\":2},\"status\":0}", TELEMETRY_OK, "" },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"boot_id\":1,\"seq\":1,"
		  "\"data\":{\"p\":6,\"t\":65,\"v\":2},\"status\":-1}", TELEMETRY_E_RANGE, "status" },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"boot_id\":1,\"seq\":1,"
		  "\"data\":{\"p\":6,\"t\":65,\"v\":2},\"status\":1.5}", TELEMETRY_E_NOT_INTEGER, "status" },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"boot_id\":1,\"seq\":1,"
		  "\"data\":{\"p\":9.6,\"t\":65,\"v\":2},\"status\":2}", TELEMETRY_OK, "" },
	};
	struct telemetry_reading out;
	struct telemetry_error err;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum telemetry_reject r;

		err.field = "unset";
		r = telemetry_parse_with(rows[i].json, strlen(rows[i].json), NULL, &out,
		    &err);
		if (r != rows[i].reason || err.reason != r ||
		    strcmp(err.field, rows[i].field) != 0)
			CHECK_FAIL("row %zu: got %s (%s), want %s (%s)", i,
			    telemetry_reject_str(r), err.field,
			    telemetry_reject_str(rows[i].reason),
			    rows[i].field);
	}
}

/* Every timestamp form, through the whole parser: the normalised ms and
 * the form, or the reason. */
static void test_timestamp_forms(void)
{
	static const struct {
		const char *ts;		/* the JSON text of the member */
		int64_t ms;
		enum telemetry_time_form form;
		enum telemetry_reject reason;
	} rows[] = {
		{ "1764051600123", 1764051600123, TELEMETRY_TIME_MS, TELEMETRY_OK },
		{ "1.764051600123e12", 1764051600123, TELEMETRY_TIME_MS, TELEMETRY_OK },
		{ "100000000000", 100000000000, TELEMETRY_TIME_MS, TELEMETRY_OK },
		{ "253402300799999", 253402300799999, TELEMETRY_TIME_MS, TELEMETRY_OK },
		{ "253402300800000", 0, 0, TELEMETRY_E_RANGE },
		{ "999999999999999", 0, 0, TELEMETRY_E_RANGE },
		{ "1e300", 0, 0, TELEMETRY_E_RANGE },
		{ "1e999", 0, 0, TELEMETRY_E_NOT_INTEGER },
		{ "1764051600123.25", 0, 0, TELEMETRY_E_NOT_INTEGER },
		/* Seconds: below 1e11, a fraction rounded to the ms. */
		{ "1764051600", 1764051600000, TELEMETRY_TIME_SECONDS, TELEMETRY_OK },
		{ "1764051600.123", 1764051600123, TELEMETRY_TIME_SECONDS, TELEMETRY_OK },
		{ "1764051600.1234567", 1764051600123, TELEMETRY_TIME_SECONDS, TELEMETRY_OK },
		{ "1764051600.9996", 1764051601000, TELEMETRY_TIME_SECONDS, TELEMETRY_OK },
		{ "99999999999.999", 99999999999999, TELEMETRY_TIME_SECONDS, TELEMETRY_OK },
		{ "0", 0, TELEMETRY_TIME_SECONDS, TELEMETRY_OK },
		{ "0.0004", 0, TELEMETRY_TIME_SECONDS, TELEMETRY_OK },
		{ "1e-300", 0, TELEMETRY_TIME_SECONDS, TELEMETRY_OK },
		{ "-0", 0, TELEMETRY_TIME_SECONDS, TELEMETRY_OK },
		{ "-1", 0, 0, TELEMETRY_E_RANGE },
		{ "-0.001", 0, 0, TELEMETRY_E_RANGE },
		{ "-1764051600123", 0, 0, TELEMETRY_E_RANGE },
		{ "-1e999", 0, 0, TELEMETRY_E_RANGE },
		/* Strings. */
		{ "\"2026-12-07T12:00:00Z\"", 1796644800000, TELEMETRY_TIME_STRING, TELEMETRY_OK },
		{ "\"2026-12-07t12:00:00z\"", 1796644800000, TELEMETRY_TIME_STRING, TELEMETRY_OK },
		{ "\"2026-12-07 12:00:00Z\"", 1796644800000, TELEMETRY_TIME_STRING, TELEMETRY_OK },
		{ "\"2026-12-07T12:00:00\"", 1796644800000, TELEMETRY_TIME_STRING, TELEMETRY_OK },
		{ "\"2026-12-07T12:00:00.123456\"", 1796644800123, TELEMETRY_TIME_STRING, TELEMETRY_OK },
		{ "\"2026-12-07T13:00:00+01:00\"", 1796644800000, TELEMETRY_TIME_STRING, TELEMETRY_OK },
		{ "\"2026-12-07T13:00:00+0100\"", 1796644800000, TELEMETRY_TIME_STRING, TELEMETRY_OK },
		{ "\"2026-12-07T13:00:00+01\"", 1796644800000, TELEMETRY_TIME_STRING, TELEMETRY_OK },
		{ "\"2026-12-07T06:30:00-05:30\"", 1796644800000, TELEMETRY_TIME_STRING, TELEMETRY_OK },
		{ "\"2026-12-07T12:00:00-00:00\"", 1796644800000, TELEMETRY_TIME_STRING, TELEMETRY_OK },
		{ "\"2026-12-07T12:00:00.5+00:00\"", 1796644800500, TELEMETRY_TIME_STRING, TELEMETRY_OK },
		{ "\"2026-12-07T12:00:00.999999999Z\"", 1796644801000, TELEMETRY_TIME_STRING, TELEMETRY_OK },
		{ "\"2026-12-07T12:00:00.0004Z\"", 1796644800000, TELEMETRY_TIME_STRING, TELEMETRY_OK },
		{ "\"2026-12-07T12:00:00.0005Z\"", 1796644800001, TELEMETRY_TIME_STRING, TELEMETRY_OK },
		{ "\"1970-01-01T00:00:00Z\"", 0, TELEMETRY_TIME_STRING, TELEMETRY_OK },
		{ "\"1969-12-31T23:59:59.999Z\"", 0, 0, TELEMETRY_E_RANGE },
		{ "\"1969-12-31T23:30:00-01:00\"", 1800000, TELEMETRY_TIME_STRING, TELEMETRY_OK },
		{ "\"1970-01-01T00:30:00+01:00\"", 0, 0, TELEMETRY_E_RANGE },
		{ "\"9999-12-31T23:59:59.999Z\"", 253402300799999, TELEMETRY_TIME_STRING, TELEMETRY_OK },
		{ "\"9999-12-31T23:59:59.9996Z\"", 0, 0, TELEMETRY_E_RANGE },
		{ "\"9999-12-31T23:30:00-01:00\"", 0, 0, TELEMETRY_E_RANGE },
		{ "\"0000-01-01T00:00:00Z\"", 0, 0, TELEMETRY_E_RANGE },
		/* The calendar: leap days, ends of months. */
		{ "\"2024-02-29T00:00:00Z\"", 1709164800000, TELEMETRY_TIME_STRING, TELEMETRY_OK },
		{ "\"2000-02-29T00:00:00Z\"", 951782400000, TELEMETRY_TIME_STRING, TELEMETRY_OK },
		{ "\"2026-02-29T00:00:00Z\"", 0, 0, TELEMETRY_E_RANGE },
		{ "\"2100-02-29T00:00:00Z\"", 0, 0, TELEMETRY_E_RANGE },
		{ "\"2026-02-30T00:00:00Z\"", 0, 0, TELEMETRY_E_RANGE },
		{ "\"2026-04-31T00:00:00Z\"", 0, 0, TELEMETRY_E_RANGE },
		{ "\"2026-04-30T23:59:59Z\"", 1777593599000, TELEMETRY_TIME_STRING, TELEMETRY_OK },
		{ "\"2026-12-31T23:59:59Z\"", 1798761599000, TELEMETRY_TIME_STRING, TELEMETRY_OK },
		{ "\"2026-12-31T23:30:00-01:00\"", 1798763400000, TELEMETRY_TIME_STRING, TELEMETRY_OK },
		{ "\"2026-13-01T00:00:00Z\"", 0, 0, TELEMETRY_E_RANGE },
		{ "\"2026-00-01T00:00:00Z\"", 0, 0, TELEMETRY_E_RANGE },
		{ "\"2026-01-00T00:00:00Z\"", 0, 0, TELEMETRY_E_RANGE },
		{ "\"2026-01-32T00:00:00Z\"", 0, 0, TELEMETRY_E_RANGE },
		{ "\"2026-12-07T24:00:00Z\"", 0, 0, TELEMETRY_E_RANGE },
		{ "\"2026-12-07T12:60:00Z\"", 0, 0, TELEMETRY_E_RANGE },
		{ "\"2016-12-31T23:59:60Z\"", 0, 0, TELEMETRY_E_RANGE },
		/* Not the grammar. */
		{ "\"\"", 0, 0, TELEMETRY_E_FORMAT },
		{ "\"1764051600123\"", 0, 0, TELEMETRY_E_FORMAT },
		{ "\"2026-12-07\"", 0, 0, TELEMETRY_E_FORMAT },
		{ "\"2026-12-07T12:00Z\"", 0, 0, TELEMETRY_E_FORMAT },
		{ "\"2026-12-07T12:00:00ZZ\"", 0, 0, TELEMETRY_E_FORMAT },
		{ "\"2026-12-07T12:00:00Z \"", 0, 0, TELEMETRY_E_FORMAT },
		{ "\" 2026-12-07T12:00:00Z\"", 0, 0, TELEMETRY_E_FORMAT },
		{ "\"2026-12-07X12:00:00Z\"", 0, 0, TELEMETRY_E_FORMAT },
		{ "\"2026/12/07T12:00:00Z\"", 0, 0, TELEMETRY_E_FORMAT },
		{ "\"2026-12-7T12:00:00Z\"", 0, 0, TELEMETRY_E_FORMAT },
		{ "\"+2026-12-07T12:00:00Z\"", 0, 0, TELEMETRY_E_FORMAT },
		{ "\"2026-12-07T12:00:00.Z\"", 0, 0, TELEMETRY_E_FORMAT },
		{ "\"2026-12-07T12:00:00.1234567890Z\"", 0, 0, TELEMETRY_E_FORMAT },
		{ "\"2026-12-07T12:00:00,5Z\"", 0, 0, TELEMETRY_E_FORMAT },
		{ "\"2026-12-07T12:00:00+1:00\"", 0, 0, TELEMETRY_E_FORMAT },
		{ "\"2026-12-07T12:00:00+01:0\"", 0, 0, TELEMETRY_E_FORMAT },
		{ "\"2026-12-07T12:00:00+24:00\"", 0, 0, TELEMETRY_E_FORMAT },
		{ "\"2026-12-07T12:00:00+01:60\"", 0, 0, TELEMETRY_E_FORMAT },
		{ "\"2026-12-07T12:00:00+01:00:00\"", 0, 0, TELEMETRY_E_FORMAT },
		{ "\"2026-12-07T12:00:00 UTC\"", 0, 0, TELEMETRY_E_FORMAT },
		{ "\"2026-12-07T12:00:00Zjunk\"", 0, 0, TELEMETRY_E_FORMAT },
		/* cJSON ends a string at an escaped NUL: the value is what
		 * comes before it (node_id is read the same way). */
		{ "\"2026-12-07T12:00:00\\u0000\"", 1796644800000, TELEMETRY_TIME_STRING, TELEMETRY_OK },
		{ "\"2026-12-07T12:00:00.000000000000000000000000000000000000001Z\"", 0, 0, TELEMETRY_E_FORMAT },
		{ "\"\\u00e92026-12-07T12:00:00Z\"", 0, 0, TELEMETRY_E_FORMAT },
	};
	struct telemetry_reading out;
	struct telemetry_error err;
	char json[256];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum telemetry_reject r;
		int n;

		n = snprintf(json, sizeof(json), "{\"timestamp\":%s,"
		    "\"node_id\":\"e\",\"data\":{\"p\":6},\"status\":0}",
		    rows[i].ts);
		r = telemetry_parse_with(json, (size_t)n, NULL, &out, &err);
		if (r != rows[i].reason || (r != TELEMETRY_OK &&
		    strcmp(err.field, "timestamp") != 0))
			CHECK_FAIL("row %zu (%s): got %s (%s), want %s", i,
			    rows[i].ts, telemetry_reject_str(r), err.field,
			    telemetry_reject_str(rows[i].reason));
		else if (r == TELEMETRY_OK && (out.timestamp_ms != rows[i].ms ||
		    out.timestamp_form != rows[i].form))
			CHECK_FAIL("row %zu (%s): got %lld form %d, want %lld "
			    "form %d", i, rows[i].ts,
			    (long long)out.timestamp_ms, out.timestamp_form,
			    (long long)rows[i].ms, rows[i].form);
	}
}

/* A zoneless string is at the configured offset; one with a zone is not. */
static void test_zoneless_offset(void)
{
	static const struct {
		const char *s;
		int offset;
		int64_t ms;
		int ret;
	} rows[] = {
		{ "2026-12-07T12:00:00", 0, 1796644800000, 0 },
		{ "2026-12-07T13:00:00", 60, 1796644800000, 0 },
		{ "2026-12-07T07:00:00", -300, 1796644800000, 0 },
		{ "2026-12-07T13:00:00Z", 60, 1796648400000, 0 },
		{ "2026-12-07T13:00:00+01:00", -300, 1796644800000, 0 },
		{ "1970-01-01T00:30:00", 60, 0, -ERANGE },
		{ "1970-01-01T01:00:00", 60, 0, 0 },
		{ "2026-12-07T12:00:00", 24 * 60, 0, -EINVAL },
		{ "2026-12-07T12:00:00Z", -24 * 60, 0, -EINVAL },
		{ "2026-12-07T12:00:00", 23 * 60 + 59, 1796558460000, 0 },
	};
	struct telemetry_parse_opts opts = { .zoneless_offset_min = 60 };
	struct telemetry_reading out;
	const char *json = "{\"timestamp\":\"2026-12-07T13:00:00\","
	    "\"node_id\":\"e\",\"data\":{\"p\":6},\"status\":0}";
	size_t i;
	int64_t ms;
	int m;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int ret;

		ms = 0;
		ret = telemetry_time_parse(rows[i].s, strlen(rows[i].s),
		    rows[i].offset, &ms);
		if (ret != rows[i].ret || (ret == 0 && ms != rows[i].ms))
			CHECK_FAIL("row %zu (%s at %d): got %d %lld", i,
			    rows[i].s, rows[i].offset, ret, (long long)ms);
	}
	CHECK(telemetry_parse_with(json, strlen(json), &opts, &out, NULL) ==
	    TELEMETRY_OK);
	CHECK(out.timestamp_ms == 1796644800000);
	CHECK(telemetry_parse_with(json, strlen(json), NULL, &out, NULL) ==
	    TELEMETRY_OK);
	CHECK(out.timestamp_ms == 1796648400000);

	CHECK(telemetry_offset_parse("Z", &m) == 0 && m == 0);
	CHECK(telemetry_offset_parse("+01:00", &m) == 0 && m == 60);
	CHECK(telemetry_offset_parse("-0530", &m) == 0 && m == -330);
	CHECK(telemetry_offset_parse("+23", &m) == 0 && m == 1380);
	CHECK(telemetry_offset_parse("-23:59", &m) == 0 && m == -1439);
	CHECK(telemetry_offset_parse("+24:00", &m) == -EINVAL);
	CHECK(telemetry_offset_parse("01:00", &m) == -EINVAL);
	CHECK(telemetry_offset_parse("", &m) == -EINVAL);
	CHECK(telemetry_offset_parse("+01:00 ", &m) == -EINVAL);
}

/* The calendar against libc's, a day at a time across the range, and the
 * formatter as the parser's inverse. */
static void test_calendar_against_libc(void)
{
	char buf[TELEMETRY_TIME_FORMAT_LEN], s[64];
	int64_t ms, back;
	time_t secs;
	struct tm tm;
	unsigned int x = 2026;
	size_t bad = 0;

	/* Every day up to 2101 (a second earlier each day, so the time of
	 * day wanders too), then every fifth day up to 9999. */
	for (secs = 0; secs < (time_t)253402300799;
	    secs += secs < (time_t)4133980800 ? 86400 - 7 : 5 * 86400 + 1) {
		int64_t frac;

		x ^= x << 13; x ^= x >> 17; x ^= x << 5;
		frac = x % 1000;
		ms = (int64_t)secs * 1000 + frac;
		gmtime_r(&secs, &tm);
		snprintf(s, sizeof(s), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, (int)frac);
		if (telemetry_time_format(ms, buf) != 0 || strcmp(buf, s) != 0 ||
		    telemetry_time_parse(s, strlen(s), 0, &back) != 0 ||
		    back != ms) {
			if (bad++ < 5)
				CHECK_FAIL("%lld: libc %s, ours %s", (long long)ms,
				    s, buf);
		}
	}
	CHECK(telemetry_time_format(0, buf) == 0);
	CHECK(strcmp(buf, "1970-01-01T00:00:00.000Z") == 0);
	CHECK(telemetry_time_format(TELEMETRY_TIME_MS_MAX, buf) == 0);
	CHECK(strcmp(buf, "9999-12-31T23:59:59.999Z") == 0);
	CHECK(telemetry_time_format(951868799999, buf) == 0);
	CHECK(strcmp(buf, "2000-02-29T23:59:59.999Z") == 0);
	CHECK(telemetry_time_format(-1, buf) == -ERANGE && buf[0] == '\0');
	CHECK(telemetry_time_format(TELEMETRY_TIME_MS_MAX + 1, buf) ==
	    -ERANGE);
}

/* data carries any numeric fields, in order; p, t, v are NAN when
 * absent; the reading says whether it had boot_id and seq. */
static void test_fields(void)
{
	const char *json = "{\"timestamp\":\"2026-12-07T12:00:00Z\","
	    "\"node_id\":\"plc-7\",\"data\":{\"flow_l.min\":12.5,\"t\":61.25,"
	    "\"rpm\":1480,\"pressure-in\":-0.25},\"status\":1,\"extra\":\"x\"}";
	struct telemetry_reading r;
	char buf[TELEMETRY_PAYLOAD_MAX];

	CHECK(telemetry_parse_with(json, strlen(json), NULL, &r, NULL) == TELEMETRY_OK);
	CHECK(r.nfields == 4 && !r.has_seq && r.boot_id == 0 && r.seq == 0);
	CHECK(strcmp(r.fields[0].name, "flow_l.min") == 0 &&
	    r.fields[0].value == 12.5);
	CHECK(strcmp(r.fields[1].name, "t") == 0 && r.fields[1].value == 61.25);
	CHECK(strcmp(r.fields[2].name, "rpm") == 0 &&
	    r.fields[2].value == 1480);
	CHECK(strcmp(r.fields[3].name, "pressure-in") == 0 &&
	    r.fields[3].value == -0.25);
	CHECK(isnan(r.p) && r.t == 61.25 && isnan(r.v));
	CHECK(r.status == 1 && strcmp(r.node_id, "plc-7") == 0);
	/* Not the simulator's reading: telemetry_build() will not write it. */
	CHECK(telemetry_build(&r, buf, sizeof(buf)) == -EINVAL);

	json = "{\"timestamp\":1,\"node_id\":\"e\",\"boot_id\":5,\"seq\":9,"
	    "\"data\":{\"v\":2,\"p\":6,\"t\":65},\"status\":0}";
	CHECK(telemetry_parse_with(json, strlen(json), NULL, &r, NULL) == TELEMETRY_OK);
	CHECK(r.has_seq && r.boot_id == 5 && r.seq == 9 && r.nfields == 3);
	CHECK(r.p == 6 && r.t == 65 && r.v == 2);
	CHECK(strcmp(r.fields[0].name, "v") == 0);
}

/* The content digest ignores member order, whitespace, number spelling,
 * the node, the timestamp, boot_id and seq; it sees every value, name and
 * the status. */
static void test_content_digest(void)
{
	static const struct {
		const char *a, *b;
		bool same;
	} rows[] = {
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"data\":{\"p\":6,\"t\":65},\"status\":0}",
		  "{ \"status\" : 0, \"data\" : { \"t\" : 65.0, \"p\" : 6e0 }, \"node_id\" : \"e\", \"timestamp\" : 1 }",
		  true },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"data\":{\"p\":6},\"status\":0}",
		  "{\"timestamp\":\"2026-12-07T12:00:00Z\",\"node_id\":\"f\",\"boot_id\":1,\"seq\":2,\"data\":{\"p\":6},\"status\":0}",
		  true },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"data\":{\"p\":0},\"status\":0}",
		  "{\"timestamp\":1,\"node_id\":\"e\",\"data\":{\"p\":-0.0},\"status\":0}",
		  true },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"data\":{\"p\":6},\"status\":0}",
		  "{\"timestamp\":1,\"node_id\":\"e\",\"data\":{\"p\":6.000001},\"status\":0}",
		  false },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"data\":{\"p\":6},\"status\":0}",
		  "{\"timestamp\":1,\"node_id\":\"e\",\"data\":{\"p\":6},\"status\":1}",
		  false },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"data\":{\"p\":6},\"status\":0}",
		  "{\"timestamp\":1,\"node_id\":\"e\",\"data\":{\"t\":6},\"status\":0}",
		  false },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"data\":{\"p\":6},\"status\":0}",
		  "{\"timestamp\":1,\"node_id\":\"e\",\"data\":{\"p\":6,\"t\":0},\"status\":0}",
		  false },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"data\":{\"a\":1,\"b\":2},\"status\":0}",
		  "{\"timestamp\":1,\"node_id\":\"e\",\"data\":{\"a\":2,\"b\":1},\"status\":0}",
		  false },
	};
	struct telemetry_reading a, b;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (telemetry_parse_with(rows[i].a, strlen(rows[i].a), NULL, &a, NULL) !=
		    TELEMETRY_OK ||
		    telemetry_parse_with(rows[i].b, strlen(rows[i].b), NULL, &b, NULL) !=
		    TELEMETRY_OK) {
			CHECK_FAIL("row %zu does not parse", i);
			continue;
		}
		if ((telemetry_content_digest(&a) ==
		    telemetry_content_digest(&b)) != rows[i].same)
			CHECK_FAIL("row %zu: digests %s", i,
			    rows[i].same ? "differ" : "equal");
	}
}

/* Each refusal says what to change: the whole line for a few, and for
 * every reason a field, an excerpt and what is accepted. */
static void test_error_messages(void)
{
	static const struct {
		const char *json;
		const char *message;
	} rows[] = {
		{ "{\"timestamp\":\"yesterday\"," OK_BODY "}",
		  "timestamp: bad timestamp format, found \"yesterday\"; "
		  "accepted: integer ms since 1970 (>= 1e11), seconds since "
		  "1970 (< 1e11, fraction allowed) or an RFC 3339 string like "
		  "\"2026-12-07T12:00:00Z\", within 1970..9999" },
		{ "{\"timestamp\":1,\"node_id\":\"e\",\"boot_id\":3,"
		  "\"data\":{\"p\":6},\"status\":0}",
		  "seq: missing field, found boot_id without seq; accepted: "
		  "an integer 1..999999999999999; boot_id and seq together, "
		  "or neither" },
		{ "{\"timestamp\":1,\"node_id\":\"e\","
		  "\"data\":{\"p\":6,\"rate\":\"fast\"},\"status\":0}",
		  "data: wrong type, found \"rate\":\"fast\"; accepted: an "
		  "object of 1..16 fields, each a finite number, names of 1..32 "
		  "characters of A-Z a-z 0-9 _ . -" },
		{ "{\"timestamp\":1,\"node_id\":\"e\","
		  "\"data\":{\"p\":600},\"status\":0}",
		  "data.p: value out of range, found \"p\":600; accepted: a "
		  "number from 0 to 400 (bar)" },
		{ "{\"timestamp\":1,\"node_id\":\"e\","
		  "\"data\":{\"p\":6}}",
		  "status: missing field; accepted: 0 (normal), 1 (warning) "
		  "or 2 (critical)" },
		{ "{\"timestamp\":1,\"node_id\":\"e\","
		  "\"data\":{\"p\":6},\"status\":7}",
		  "status: value out of range, found 7; accepted: 0 (normal), "
		  "1 (warning) or 2 (critical)" },
		{ "{\"timestamp\":1,}",
		  "payload: not valid JSON, found near byte 16: mestamp\":1,}; accepted: one "
		  "JSON object of at most 1024 bytes, without NUL bytes" },
		{ "[1]",
		  "payload: not a JSON object, found [1]; accepted: one JSON "
		  "object of at most 1024 bytes, without NUL bytes" },
		{ "{\"timestamp\":1,\"node_id\":\"e\","
		  "\"data\":{\"flow\":1e999},\"status\":0}",
		  "data: value out of range, found \"flow\":an infinite number; "
		  "accepted: an object of 1..16 fields, each a finite number, "
		  "names of 1..32 characters of A-Z a-z 0-9 _ . -" },
		/* Not printable ASCII, and long: cut, '?' for the rest. */
		{ "{\"timestamp\":\"\xc3\xa9t\xc3\xa9 2026 \\u001b[31m "
		  "0123456789012345678901234567890123456789\"," OK_BODY "}",
		  "timestamp: bad timestamp format, found \"??t?? 2026 "
		  "\\u001b[31m 0123456789012345678901...; accepted: integer ms since "
		  "1970 (>= 1e11), seconds since 1970 (< 1e11, fraction allowed) "
		  "or an RFC 3339 string like \"2026-12-07T12:00:00Z\", within "
		  "1970..9999" },
	};
	struct telemetry_reading out;
	struct telemetry_error err;
	char msg[TELEMETRY_ERROR_MSG_MAX];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		CHECK(telemetry_parse_with(rows[i].json, strlen(rows[i].json), NULL, &out,
		    &err) != TELEMETRY_OK);
		CHECK(telemetry_error_format(&err, msg, sizeof(msg)) <
		    (int)sizeof(msg));
		if (strcmp(msg, rows[i].message) != 0)
			CHECK_FAIL("row %zu:\n got  %s\n want %s", i, msg,
			    rows[i].message);
	}
	/* telemetry_parse() wants boot_id and seq. */
	CHECK(telemetry_parse(rows[1].json, strlen(rows[1].json), &out, &err) ==
	    TELEMETRY_E_MISSING);
	{
		const char *plain = "{\"timestamp\":1,\"node_id\":\"e\","
		    "\"data\":{\"p\":6},\"status\":0}";
		CHECK(telemetry_parse(plain, strlen(plain), &out, &err) ==
		    TELEMETRY_E_MISSING);
		telemetry_error_format(&err, msg, sizeof(msg));
		CHECK(strcmp(msg, "boot_id: missing field, found neither boot_id "
		    "nor seq; accepted: an integer 1..999999999999999; boot_id "
		    "and seq both (required by this consumer)") == 0);
		CHECK(telemetry_parse_with(plain, strlen(plain), NULL, &out,
		    &err) == TELEMETRY_OK);
	}
	/* A partly filled error (no found, no accepted) still formats. */
	{
		struct telemetry_error e = { .reason = TELEMETRY_E_JSON };
		CHECK(telemetry_error_format(&e, msg, sizeof(msg)) > 0);
		CHECK(strcmp(msg, "payload: not valid JSON") == 0);
	}
}

static void test_garbage(void)
{
	static char big[TELEMETRY_PAYLOAD_MAX * 4];
	const char nul[] = "{\"timestamp\":1,\0\"x\":1}";
	struct telemetry_reading out;
	unsigned int x = 12345;
	size_t i, j;

	memset(big, ' ', sizeof(big));
	CHECK(telemetry_parse(big, sizeof(big), &out, NULL) ==
	    TELEMETRY_E_TOO_BIG);
	CHECK(telemetry_parse(big, TELEMETRY_PAYLOAD_MAX, &out, NULL) ==
	    TELEMETRY_E_JSON);
	CHECK(telemetry_parse(nul, sizeof(nul) - 1, &out, NULL) ==
	    TELEMETRY_E_JSON);
	CHECK(telemetry_parse(NULL, 0, &out, NULL) == TELEMETRY_E_JSON);
	/* Deep nesting within the size limit. */
	for (i = 0; i < 500; i++) {
		big[i] = '[';
		big[1000 - i] = ']';
	}
	CHECK(telemetry_parse(big, 1001, &out, NULL) != TELEMETRY_OK);
	/* Random bytes: must not crash (the sanitizers judge). */
	for (i = 0; i < 2000; i++) {
		size_t n = i % 300;
		for (j = 0; j < n; j++) {
			x ^= x << 13; x ^= x >> 17; x ^= x << 5;
			big[j] = (char)"{}[]\":,0123456789.eE-truefalsn xp"[x % 34];
		}
		(void)telemetry_parse(big, n, &out, NULL);
	}
}

static void test_resend(void)
{
	struct telemetry_resend rq = { .boot_id = 4, .from = 10, .to = 12 };
	struct telemetry_resend back;
	struct telemetry_error err;
	char buf[256];
	int n;

	n = telemetry_resend_build(&rq, buf, sizeof(buf));
	CHECK(n > 0);
	CHECK(strcmp(buf, "{\"resend\":{\"boot_id\":4,\"from\":10,\"to\":12}}") == 0);
	CHECK(telemetry_resend_parse(buf, (size_t)n, &back, NULL) == TELEMETRY_OK);
	CHECK(back.boot_id == 4 && back.from == 10 && back.to == 12);
	rq.from = 13;
	CHECK(telemetry_resend_build(&rq, buf, sizeof(buf)) == -EINVAL);
	CHECK(telemetry_resend_parse("{\"resend\":{\"boot_id\":4,\"from\":3,\"to\":2}}",
	    40, &back, &err) == TELEMETRY_E_RANGE);
	CHECK(strcmp(err.field, "resend.to") == 0);
	CHECK(telemetry_resend_parse("{\"other\":1}", 11, &back, &err) ==
	    TELEMETRY_E_MISSING);
	CHECK(telemetry_resend_parse("{\"resend\":1}", 12, &back, &err) ==
	    TELEMETRY_E_TYPE);
}

static void test_topics(void)
{
	char buf[128], node[TELEMETRY_NODE_ID_MAX + 1];

	CHECK(telemetry_topic(buf, sizeof(buf), TELEMETRY_DEFAULT_PREFIX,
	    "edge-01", "telemetry") == 36);
	CHECK(strcmp(buf, "plant1/area1/line1/edge-01/telemetry") == 0);
	CHECK(telemetry_topic(buf, sizeof(buf), "p", "bad/id", "cmd") == -EINVAL);
	CHECK(telemetry_topic(buf, 10, "plant1", "edge-01", "cmd") == -ENOSPC);
	CHECK(telemetry_topic_node("plant1/area1/line1/edge-01/telemetry",
	    "telemetry", node) == 0);
	CHECK(strcmp(node, "edge-01") == 0);
	CHECK(telemetry_topic_node("a/edge-01/cmd", "telemetry", node) == -EINVAL);
	CHECK(telemetry_topic_node("edge-01/telemetry", "telemetry", node) == 0);
	CHECK(telemetry_topic_node("/telemetry", "telemetry", node) == -EINVAL);
	CHECK(telemetry_topic_node("telemetry", "telemetry", node) == -EINVAL);
	CHECK(telemetry_topic_node("a/b+c/telemetry", "telemetry", node) == -EINVAL);
	CHECK(!telemetry_node_id_valid(
	    "x12345678901234567890123456789012345678901234567890123456789012345"));
	/* Directory names, never nodes (a spool dir is SPOOL_DIR/ID). */
	CHECK(!telemetry_node_id_valid("."));
	CHECK(!telemetry_node_id_valid(".."));
	CHECK(telemetry_node_id_valid("..."));
	CHECK(telemetry_node_id_valid(".a"));
	CHECK(telemetry_topic_node("p/../telemetry", "telemetry", node) ==
	    -EINVAL);
}

int main(void)
{
	RUN(test_round_trip);
	RUN(test_build_refuses_invalid);
	RUN(test_status_thresholds);
	RUN(test_reject_table);
	RUN(test_timestamp_forms);
	RUN(test_zoneless_offset);
	RUN(test_calendar_against_libc);
	RUN(test_fields);
	RUN(test_content_digest);
	RUN(test_error_messages);
	RUN(test_garbage);
	RUN(test_resend);
	RUN(test_topics);
	return check_summary();
}
