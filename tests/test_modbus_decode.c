/* Register values to readings: every type in every word and byte order
 * (the registers as pymodbus's payload builder lays them out), scaling,
 * thresholds and the worst status, and the refusal of NaN/infinity. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "check.h"
#include "modbus/config.h"
#include "modbus/decode.h"
#include "modbus/response.h"

static struct mb_field field(enum mb_type t, enum mb_order o)
{
	return (struct mb_field){ .kind = MB_HOLDING, .type = t, .order = o,
	    .scale = 1 };
}

/* (type, order, registers, value): 123.456f is 0x42F6E979 (ABCD). */
static const struct {
	enum mb_type type;
	enum mb_order order;
	uint16_t regs[2];
	double value;
} rows[] = {
	{ MB_FLOAT32, MB_ABCD, { 0x42F6, 0xE979 }, 123.456f },
	{ MB_FLOAT32, MB_CDAB, { 0xE979, 0x42F6 }, 123.456f },
	{ MB_FLOAT32, MB_BADC, { 0xF642, 0x79E9 }, 123.456f },
	{ MB_FLOAT32, MB_DCBA, { 0x79E9, 0xF642 }, 123.456f },
	{ MB_INT32, MB_ABCD, { 0xFFFE, 0x1DC0 }, -123456 },
	{ MB_INT32, MB_CDAB, { 0x1DC0, 0xFFFE }, -123456 },
	{ MB_INT32, MB_BADC, { 0xFEFF, 0xC01D }, -123456 },
	{ MB_INT32, MB_DCBA, { 0xC01D, 0xFEFF }, -123456 },
	{ MB_UINT32, MB_ABCD, { 0xDEAD, 0xBEEF }, 3735928559.0 },
	{ MB_UINT32, MB_CDAB, { 0xBEEF, 0xDEAD }, 3735928559.0 },
	{ MB_UINT32, MB_BADC, { 0xADDE, 0xEFBE }, 3735928559.0 },
	{ MB_UINT32, MB_DCBA, { 0xEFBE, 0xADDE }, 3735928559.0 },
	{ MB_INT16, MB_ABCD, { 0xFF85 }, -123 },
	{ MB_INT16, MB_CDAB, { 0xFF85 }, -123 },
	{ MB_INT16, MB_BADC, { 0x85FF }, -123 },
	{ MB_INT16, MB_DCBA, { 0x85FF }, -123 },
	{ MB_UINT16, MB_ABCD, { 0xFF85 }, 65413 },
	{ MB_UINT16, MB_BADC, { 0x85FF }, 65413 },
	{ MB_INT16, MB_ABCD, { 0x8000 }, -32768 },
	{ MB_INT32, MB_ABCD, { 0x8000, 0x0000 }, -2147483648.0 },
	{ MB_BIT, MB_ABCD, { 1 }, 1 },
	{ MB_BIT, MB_ABCD, { 0 }, 0 },
};

static void test_types(void)
{
	size_t i;
	double raw;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct mb_field f = field(rows[i].type, rows[i].order);

		if (!mbdecode_raw(&f, rows[i].regs, &raw) ||
		    raw != rows[i].value)
			CHECK_FAIL("row %zu: got %.17g, want %.17g", i, raw,
			    rows[i].value);
	}
}

static void test_not_finite(void)
{
	struct mb_field f = field(MB_FLOAT32, MB_ABCD);
	uint16_t nan_regs[2] = { 0x7FC0, 0 }, inf_regs[2] = { 0xFF80, 0 };
	double raw;

	CHECK(!mbdecode_raw(&f, nan_regs, &raw));
	CHECK(!mbdecode_raw(&f, inf_regs, &raw));
}

static void test_status(void)
{
	struct mb_field f = field(MB_INT16, MB_ABCD);

	CHECK(mbdecode_status(&f, 1e9) == TELEMETRY_NORMAL);
	f.has_warn = true;
	f.warn = 8;
	CHECK(mbdecode_status(&f, 7.99) == TELEMETRY_NORMAL);
	CHECK(mbdecode_status(&f, 8) == TELEMETRY_WARNING);
	f.has_crit = true;
	f.crit = 9.5;
	CHECK(mbdecode_status(&f, 9.49) == TELEMETRY_WARNING);
	CHECK(mbdecode_status(&f, 9.5) == TELEMETRY_CRITICAL);
	f.has_warn = false;
	CHECK(mbdecode_status(&f, 9) == TELEMETRY_NORMAL);
}

/* A device from the parser, a poll laid out by its blocks. */
static void test_reading(void)
{
	const char *text = "[device d]\naddress=h\n"
	    "field=p holding 100 float32 cdab warn 8 crit 9.5\n"
	    "field=t input 0 int16 scale 0.1 offset -40 warn 80\n"
	    "field=run coil 3\n";
	static struct mb_poll poll;
	struct telemetry_reading r = { 0 };
	struct mb_config c;
	char err[MBCONFIG_ERR_SIZE];
	size_t bad;

	CHECK(mbconfig_parse("m", text, strlen(text), &c, err) == 0);
	/* blocks: coil 3, input 0, holding 100..101 */
	CHECK(c.devices[0].nblocks == 3);
	poll.bits[0][0] = 1;
	poll.regs[1][0] = 1205;		/* 120.5 - 40 = 80.5: warning */
	poll.regs[2][0] = 0x0000;	/* 6.0f = 0x40C00000, CDAB */
	poll.regs[2][1] = 0x40C0;
	CHECK(mbdecode_reading(&c.devices[0], &poll, &r, &bad) == 0);
	CHECK(r.nfields == 3 && r.status == TELEMETRY_WARNING);
	CHECK(strcmp(r.fields[0].name, "p") == 0 && r.fields[0].value == 6.0);
	CHECK(strcmp(r.fields[1].name, "t") == 0 &&
	    fabs(r.fields[1].value - 80.5) < 1e-9);
	CHECK(strcmp(r.fields[2].name, "run") == 0 && r.fields[2].value == 1);
	poll.regs[2][1] = 0x4120;	/* 10.0f: critical, the worst */
	CHECK(mbdecode_reading(&c.devices[0], &poll, &r, &bad) == 0);
	CHECK(r.status == TELEMETRY_CRITICAL && r.fields[0].value == 10.0);
	poll.regs[2][1] = 0x7FC0;	/* NaN: no reading */
	CHECK(mbdecode_reading(&c.devices[0], &poll, &r, &bad) == -ERANGE);
	CHECK(bad == 0);
	mbconfig_free(&c);
}

/* A reading of any fields builds into a payload the historian takes. */
static void test_build(void)
{
	struct telemetry_reading r = { .timestamp_ms = 1764051600000,
	    .boot_id = 2, .seq = 9, .nfields = 2, .status = 1 };
	struct telemetry_reading back;
	char buf[TELEMETRY_PAYLOAD_MAX];
	int n;

	strcpy(r.node_id, "press-01");
	strcpy(r.fields[0].name, "pressure");
	r.fields[0].value = 8.25;
	strcpy(r.fields[1].name, "run");
	r.fields[1].value = 1;
	n = telemetry_build_fields(&r, buf, sizeof(buf));
	CHECK(n > 0 && strcmp(buf, "{\"timestamp\":1764051600000,\"node_id\":"
	    "\"press-01\",\"boot_id\":2,\"seq\":9,\"data\":{\"pressure\":8.25,"
	    "\"run\":1},\"status\":1}") == 0);
	CHECK(telemetry_parse(buf, (size_t)n, &back, NULL) == TELEMETRY_OK);
	CHECK(back.nfields == 2 && back.status == 1 && back.seq == 9);
	r.status = 3;
	CHECK(telemetry_build_fields(&r, buf, sizeof(buf)) == -EINVAL);
	r.status = 0;
	strcpy(r.fields[1].name, "pressure");	/* twice */
	CHECK(telemetry_build_fields(&r, buf, sizeof(buf)) == -EINVAL);
	strcpy(r.fields[1].name, "p");		/* p beyond its range */
	r.fields[1].value = 1000;
	CHECK(telemetry_build_fields(&r, buf, sizeof(buf)) == -EINVAL);
	r.nfields = 0;
	CHECK(telemetry_build_fields(&r, buf, sizeof(buf)) == -EINVAL);
}

static void test_request(void)
{
	const struct mb_block b = { .kind = MB_HOLDING, .addr = 0x1234,
	    .count = 10 };
	const uint8_t want[] = { 0xBE, 0xEF, 0, 0, 0, 6, 7, 3, 0x12, 0x34,
	    0, 10 };
	uint8_t req[MBRESPONSE_REQUEST_LEN];

	mbresponse_request(req, 0xBEEF, 7, &b);
	CHECK_MEM(req, want, sizeof(want));
	CHECK(mbresponse_function(&(struct mb_block){ .kind = MB_COIL }) == 1);
	CHECK(mbresponse_function(&(struct mb_block){ .kind = MB_DISCRETE }) ==
	    2);
	CHECK(mbresponse_function(&(struct mb_block){ .kind = MB_INPUT }) == 4);
}

/* Responses to "tid 5, unit 1, read 2 holding registers" (and 10 coils). */
static const struct {
	uint8_t bytes[16];
	size_t n;
	enum mb_answer answer;
} responses[] = {
	{ { 0, 5, 0, 0, 0, 7, 1, 3, 4, 0x12, 0x34, 0xAB, 0xCD }, 13,
	  MB_ANSWER_OK },
	{ { 0, 6, 0, 0, 0, 7, 1, 3, 4, 0x12, 0x34, 0xAB, 0xCD }, 13,
	  MB_ANSWER_WRONG_TID },
	{ { 0, 5, 0, 0, 0, 7, 2, 3, 4, 0x12, 0x34, 0xAB, 0xCD }, 13,
	  MB_ANSWER_WRONG_UNIT },
	{ { 0, 5, 0, 0, 0, 3, 1, 0x83, 2 }, 9, MB_ANSWER_EXCEPTION },
	{ { 0, 5, 0, 0, 0, 7, 1, 4, 4, 0x12, 0x34, 0xAB, 0xCD }, 13,
	  MB_ANSWER_MALFORMED },		/* another function */
	{ { 0, 5, 0, 0, 0, 4, 1, 3, 1, 0x12 }, 10,
	  MB_ANSWER_MALFORMED },		/* short */
	{ { 0, 5, 0, 0, 0, 9, 1, 3, 6, 0, 1, 0, 2, 0, 3 }, 15,
	  MB_ANSWER_MALFORMED },		/* long */
	{ { 0, 5, 0, 1, 0, 7, 1, 3, 4, 0x12, 0x34, 0xAB, 0xCD }, 13,
	  MB_ANSWER_MALFORMED },		/* protocol 1 */
	{ { 0, 5, 0, 0, 0, 8, 1, 3, 4, 0x12, 0x34, 0xAB, 0xCD }, 13,
	  MB_ANSWER_MALFORMED },		/* length field */
	{ { 0, 5, 0, 0, 0, 7, 1, 3, 5, 0x12, 0x34, 0xAB, 0xCD }, 13,
	  MB_ANSWER_MALFORMED },		/* byte count */
	{ { 0, 5, 0, 0, 0, 2, 1, 3 }, 8, MB_ANSWER_MALFORMED },
	{ { 0 }, 0, MB_ANSWER_MALFORMED },
};

static void test_response(void)
{
	const struct mb_block b = { .kind = MB_HOLDING, .addr = 0, .count = 2 };
	const struct mb_block coils = { .kind = MB_COIL, .addr = 0,
	    .count = 10 };
	const uint8_t coil_rsp[] = { 0, 5, 0, 0, 0, 5, 1, 1, 2, 0x05, 0x02 };
	uint16_t regs[2];
	uint8_t bits[10];
	int exception = 0;
	size_t i;

	for (i = 0; i < sizeof(responses) / sizeof(responses[0]); i++)
		if (mbresponse_check(responses[i].bytes, responses[i].n, 5, 1,
		    &b, regs, bits, &exception) != responses[i].answer)
			CHECK_FAIL("row %zu", i);
	CHECK(mbresponse_check(responses[0].bytes, 13, 5, 1, &b, regs, bits,
	    &exception) == MB_ANSWER_OK);
	CHECK(regs[0] == 0x1234 && regs[1] == 0xABCD);
	CHECK(mbresponse_check(responses[3].bytes, 9, 5, 1, &b, regs, bits,
	    &exception) == MB_ANSWER_EXCEPTION && exception == 2);
	CHECK(mbresponse_check(coil_rsp, sizeof(coil_rsp), 5, 1, &coils, regs,
	    bits, &exception) == MB_ANSWER_OK);
	CHECK(bits[0] == 1 && bits[1] == 0 && bits[2] == 1 && bits[3] == 0 &&
	    bits[8] == 0 && bits[9] == 1);
}

/* A response's bytes as they come: more, whole, a length no response has,
 * bytes after it. */
static void test_frame(void)
{
	uint8_t rsp[MBRESPONSE_MAX + 8] = { 0, 5, 0, 0, 0, 7, 1, 3, 4, 0x12,
	    0x34, 0xAB, 0xCD, 0xEE };
	size_t got;

	for (got = 0; got < 13; got++)
		if (mbresponse_frame(rsp, got) != MB_FRAME_MORE)
			CHECK_FAIL("%zu bytes", got);
	CHECK(mbresponse_frame(rsp, 13) == MB_FRAME_WHOLE);
	CHECK(mbresponse_frame(rsp, 14) == MB_FRAME_TRAILING);
	rsp[5] = 2;			/* unit and function only */
	CHECK(mbresponse_frame(rsp, 7) == MB_FRAME_BAD_LENGTH);
	rsp[5] = 3;			/* an exception's length */
	CHECK(mbresponse_frame(rsp, 8) == MB_FRAME_MORE);
	CHECK(mbresponse_frame(rsp, 9) == MB_FRAME_WHOLE);
	rsp[4] = 0;			/* 6 + 254 = MBRESPONSE_MAX */
	rsp[5] = 254;
	CHECK(mbresponse_frame(rsp, MBRESPONSE_MAX - 1) == MB_FRAME_MORE);
	CHECK(mbresponse_frame(rsp, MBRESPONSE_MAX) == MB_FRAME_WHOLE);
	rsp[5] = 255;			/* one beyond */
	CHECK(mbresponse_frame(rsp, 7) == MB_FRAME_BAD_LENGTH);
	rsp[4] = 0xFF;			/* announced 65535 */
	CHECK(mbresponse_frame(rsp, 7) == MB_FRAME_BAD_LENGTH);
}

int main(void)
{
	RUN(test_request);
	RUN(test_frame);
	RUN(test_response);
	RUN(test_types);
	RUN(test_not_finite);
	RUN(test_status);
	RUN(test_reading);
	RUN(test_build);
	return check_summary();
}
