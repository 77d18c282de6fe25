/* The sensor model: each anomaly in its window of the cycle and nowhere
 * else, statuses following the thresholds, reproducible with a seed. */
#include <errno.h>
#include <math.h>

#include "check.h"
#include "mqtt/telemetry.h"
#include "sim/model.h"

/* Per phase: the highest p, t, v and status seen. */
struct seen {
	double p, t, v;
	int status;
	int n;
};

static void run_cycles(uint64_t seed, double cycle, double rate, int cycles,
    struct seen seen[4])
{
	struct model m;
	struct model_sample s;
	long i, n = (long)(cycle * rate * cycles);

	memset(seen, 0, 4 * sizeof(seen[0]));
	CHECK(model_init(&m, seed, cycle) == 0);
	for (i = 0; i < n; i++) {
		double at = (double)i / rate;
		struct seen *x;

		model_sample(&m, at, &s);
		CHECK(s.phase == model_phase_at(&m, at));
		if (s.status != (int)telemetry_status(s.p, s.t, s.v))
			CHECK_FAIL("status %d at %.2f s", s.status, at);
		if (s.p != round(s.p * 100) / 100)
			CHECK_FAIL("p %.17g not rounded", s.p);
		x = &seen[s.phase];
		x->n++;
		x->p = fmax(x->p, s.p);
		x->t = fmax(x->t, s.t);
		x->v = fmax(x->v, s.v);
		if (s.status > x->status)
			x->status = s.status;
	}
}

static void check_windows(uint64_t seed, double cycle, double rate)
{
	struct seen seen[4];

	run_cycles(seed, cycle, rate, 5, seen);
	/* Normal: every value in the normal zone, status 0 throughout. */
	CHECK(seen[MODEL_NORMAL].n > 0 && seen[MODEL_NORMAL].status == 0);
	/* Each anomaly raises its own quantity to warning at least, and
	 * only its own. */
	CHECK(seen[MODEL_PRESSURE].p >= TELEMETRY_P_WARN);
	CHECK(seen[MODEL_PRESSURE].t < TELEMETRY_T_WARN &&
	    seen[MODEL_PRESSURE].v < TELEMETRY_V_WARN);
	CHECK(seen[MODEL_THERMAL].t >= TELEMETRY_T_WARN);
	CHECK(seen[MODEL_THERMAL].p < TELEMETRY_P_WARN &&
	    seen[MODEL_THERMAL].v < TELEMETRY_V_WARN);
	CHECK(seen[MODEL_VIBRATION].v >= TELEMETRY_V_WARN);
	CHECK(seen[MODEL_VIBRATION].p < TELEMETRY_P_WARN &&
	    seen[MODEL_VIBRATION].t < TELEMETRY_T_WARN);
	CHECK(seen[MODEL_PRESSURE].status >= 1 &&
	    seen[MODEL_THERMAL].status >= 1 &&
	    seen[MODEL_VIBRATION].status >= 1);
	/* The baseline is realistic: about 6 bar, 65 C, 2 mm/s. */
	CHECK(seen[MODEL_NORMAL].p > 6.0 && seen[MODEL_NORMAL].p < 6.5);
	CHECK(seen[MODEL_NORMAL].t > 65.0 && seen[MODEL_NORMAL].t < 70.0);
	CHECK(seen[MODEL_NORMAL].v > 2.0 && seen[MODEL_NORMAL].v < 3.0);
}

static void test_windows_default_cycle(void)
{
	uint64_t seed;

	for (seed = 0; seed < 20; seed++)
		check_windows(seed, MODEL_DEFAULT_CYCLE, 5.0);
}

static void test_windows_short_cycle(void)
{
	/* --cycle 12 at 20 Hz, as a system test would run it. */
	check_windows(42, 12.0, 20.0);
}

static void test_phase_table(void)
{
	static const struct { double at; enum model_phase phase; } rows[] = {
		{ 0.0, MODEL_NORMAL }, { 29.9, MODEL_NORMAL },
		{ 30.0, MODEL_PRESSURE }, { 47.9, MODEL_PRESSURE },
		{ 48.0, MODEL_NORMAL }, { 59.9, MODEL_NORMAL },
		{ 60.0, MODEL_THERMAL }, { 83.9, MODEL_THERMAL },
		{ 84.0, MODEL_NORMAL }, { 90.0, MODEL_VIBRATION },
		{ 113.9, MODEL_VIBRATION }, { 114.0, MODEL_NORMAL },
		{ 120.0, MODEL_NORMAL }, { 150.0, MODEL_PRESSURE },
		{ -5.0, MODEL_NORMAL },
	};
	struct model m;
	size_t i;

	CHECK(model_init(&m, 1, 120.0) == 0);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (model_phase_at(&m, rows[i].at) != rows[i].phase)
			CHECK_FAIL("at %.1f: %s, want %s", rows[i].at,
			    model_phase_name(model_phase_at(&m, rows[i].at)),
			    model_phase_name(rows[i].phase));
	CHECK(model_init(&m, 1, 0.0) == -EINVAL);
	CHECK(model_init(&m, 1, -1.0) == -EINVAL);
	CHECK(model_init(&m, 1, NAN) == -EINVAL);
}

static void test_reproducible(void)
{
	struct model a, b, c;
	struct model_sample sa, sb, sc;
	int i, same_c = 0;

	model_init(&a, 7, 60.0);
	model_init(&b, 7, 60.0);
	model_init(&c, 8, 60.0);
	for (i = 0; i < 600; i++) {
		model_sample(&a, i * 0.5, &sa);
		model_sample(&b, i * 0.5, &sb);
		model_sample(&c, i * 0.5, &sc);
		if (memcmp(&sa, &sb, sizeof(sa)) != 0)
			CHECK_FAIL("seed 7 differs at sample %d", i);
		same_c += sa.p == sc.p && sa.t == sc.t && sa.v == sc.v;
	}
	CHECK(same_c < 10);
}

int main(void)
{
	RUN(test_windows_default_cycle);
	RUN(test_windows_short_cycle);
	RUN(test_phase_table);
	RUN(test_reproducible);
	return check_summary();
}
