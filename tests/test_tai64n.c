/* TAI64N timestamps: exact encodings, whitening of the nanoseconds, and the
 * strictly-after order the responder uses against replays. */
#include <stdint.h>

#include "check.h"
#include "crypto/tai64n.h"

static void test_known_encodings(void)
{
	static const struct {
		uint64_t sec;
		uint32_t nsec;
		const char *hex;
	} rows[] = {
		/* The Unix epoch is 2^62 + 10 in TAI64. */
		{ 0, 0, "400000000000000a00000000" },
		{ 1, 0, "400000000000000b00000000" },
		/* 2020-01-01T00:00:00Z = 1577836800 = 0x5e0be100. */
		{ 1577836800, 0, "400000005e0be10a00000000" },
		/* 123456789 ns = 0x075bcd15, whitened to 0x07000000. */
		{ 1577836800, 123456789, "400000005e0be10a07000000" },
		/* 999999999 ns = 0x3b9ac9ff, whitened to 0x3b000000. */
		{ 1577836800, 999999999, "400000005e0be10a3b000000" },
		/* 2038-01-19T03:14:08Z, one past INT32_MAX: no overflow. */
		{ 2147483648u, 0, "400000008000000a00000000" },
		/* Carry out of the low 32 bits of the seconds. */
		{ 0xfffffff6u, (1u << 24), "400000010000000001000000" },
		{ 1ULL << 40, 0, "400001000000000a00000000" },
	};
	uint8_t got[WG_TAI64N_LEN], want[WG_TAI64N_LEN];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		CHECK(check_unhex(rows[i].hex, want, sizeof(want)) ==
		    WG_TAI64N_LEN);
		memset(got, 0xee, sizeof(got));
		wg_tai64n_encode(got, rows[i].sec, rows[i].nsec);
		if (memcmp(got, want, sizeof(want)) != 0)
			CHECK_FAIL("row %zu (%llu s, %u ns) encodes wrong", i,
			    (unsigned long long)rows[i].sec, rows[i].nsec);
	}
}

/* The nanoseconds are rounded down to a multiple of 2^24 (16.777216 ms),
 * as Linux's noise.c and wireguard-go do: stamps within one step are
 * equal, and the low 24 bits are always zero. */
static void test_whitening(void)
{
	uint8_t a[WG_TAI64N_LEN], b[WG_TAI64N_LEN];
	uint32_t ns, step = 1u << 24;

	for (ns = 0; ns < 1000000000u; ns += 999983) {
		wg_tai64n_encode(a, 7, ns);
		CHECK(a[9] == 0 && a[10] == 0 && a[11] == 0);
		CHECK(a[8] == (uint8_t)(ns >> 24));
	}
	wg_tai64n_encode(a, 100, 0);
	wg_tai64n_encode(b, 100, step - 1);
	CHECK_MEM(a, b, WG_TAI64N_LEN);
	wg_tai64n_encode(a, 100, 5 * step);
	wg_tai64n_encode(b, 100, 6 * step - 1);
	CHECK_MEM(a, b, WG_TAI64N_LEN);
	wg_tai64n_encode(b, 100, 6 * step);
	CHECK(memcmp(a, b, WG_TAI64N_LEN) != 0);
}

/* (a_sec, a_nsec) strictly after (b_sec, b_nsec)? */
static void test_after_order(void)
{
	static const struct {
		uint64_t a_sec;
		uint32_t a_nsec;
		uint64_t b_sec;
		uint32_t b_nsec;
		bool after;
	} rows[] = {
		{ 10, 0, 10, 0, false },		/* equal: a replay */
		{ 11, 0, 10, 0, true },
		{ 10, 0, 11, 0, false },
		{ 11, 0, 10, 999999999, true },		/* seconds first */
		{ 10, 999999999, 11, 0, false },
		{ 10, 1u << 24, 10, 0, true },		/* next step */
		{ 10, 0, 10, 1u << 24, false },
		{ 10, (1u << 24) - 1, 10, 0, false },	/* same step */
		{ 10, 0, 10, (1u << 24) - 1, false },
		{ 1ULL << 32, 0, 0xffffffffu, 0, true },
		{ 0xffffffffu, 0, 1ULL << 32, 0, false },
		{ 1ULL << 40, 0, 1577836800, 999999999, true },
	};
	uint8_t a[WG_TAI64N_LEN], b[WG_TAI64N_LEN];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		wg_tai64n_encode(a, rows[i].a_sec, rows[i].a_nsec);
		wg_tai64n_encode(b, rows[i].b_sec, rows[i].b_nsec);
		if (wg_tai64n_after(a, b) != rows[i].after)
			CHECK_FAIL("row %zu: after() is %d", i, !rows[i].after);
	}
}

/* after() compares all twelve bytes, first to last, as unsigned. */
static void test_after_bytewise(void)
{
	uint8_t a[WG_TAI64N_LEN], b[WG_TAI64N_LEN];
	int i;

	for (i = 0; i < WG_TAI64N_LEN; i++) {
		memset(a, 0x11, sizeof(a));
		memset(b, 0x11, sizeof(b));
		a[i] = 0x12;
		CHECK(wg_tai64n_after(a, b));
		CHECK(!wg_tai64n_after(b, a));
		/* An earlier byte outweighs everything after it. */
		if (i + 1 < WG_TAI64N_LEN) {
			b[i + 1] = 0xff;
			CHECK(wg_tai64n_after(a, b));
		}
		/* Bytes above 0x7f are large, not negative. */
		memset(a, 0x11, sizeof(a));
		memset(b, 0x11, sizeof(b));
		a[i] = 0x80;
		b[i] = 0x7f;
		CHECK(wg_tai64n_after(a, b));
		CHECK(!wg_tai64n_after(b, a));
	}
	CHECK(!wg_tai64n_after(a, a));
}

int main(void)
{
	RUN(test_known_encodings);
	RUN(test_whitening);
	RUN(test_after_order);
	RUN(test_after_bytewise);
	return check_summary();
}
