/* The telemetry codec: round trips, the status thresholds and a table of
 * payloads that must be rejected, each with its reason. */
#include <errno.h>
#include <math.h>

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
		r = telemetry_parse(rows[i].json, strlen(rows[i].json), &out,
		    &err);
		if (r != rows[i].reason || err.reason != r ||
		    strcmp(err.field, rows[i].field) != 0)
			CHECK_FAIL("row %zu: got %s (%s), want %s (%s)", i,
			    telemetry_reject_str(r), err.field,
			    telemetry_reject_str(rows[i].reason),
			    rows[i].field);
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
}

int main(void)
{
	RUN(test_round_trip);
	RUN(test_build_refuses_invalid);
	RUN(test_status_thresholds);
	RUN(test_reject_table);
	RUN(test_garbage);
	RUN(test_resend);
	RUN(test_topics);
	return check_summary();
}
