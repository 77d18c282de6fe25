/* The sensor model; the cycle is described in model.h. */
#include <errno.h>
#include <math.h>

#include "mqtt/telemetry.h"
#include "sim/model.h"

/* Window boundaries as fractions of the cycle. */
#define PRESSURE_FROM 0.25
#define PRESSURE_TO 0.40
#define THERMAL_FROM 0.50
#define THERMAL_TO 0.70
#define VIBRATION_FROM 0.75
#define VIBRATION_TO 0.95

#define BASE_P 6.0
#define BASE_T 65.0
#define BASE_V 2.0

/* xorshift64*: small, fast, and ours, so a seed means the same run on
 * every libc. */
static uint64_t next_u64(struct model *m)
{
	m->rng ^= m->rng >> 12;
	m->rng ^= m->rng << 25;
	m->rng ^= m->rng >> 27;
	return m->rng * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [0, 1). */
static double uniform(struct model *m)
{
	return (double)(next_u64(m) >> 11) * (1.0 / 9007199254740992.0);
}

/* Standard normal (Box-Muller), clipped to +-3 so that a noise sample can
 * never push a baseline value across a threshold. */
static double gauss(struct model *m)
{
	double u1 = uniform(m), u2 = uniform(m), g;

	if (u1 < 1e-12)
		u1 = 1e-12;
	g = sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
	return g > 3.0 ? 3.0 : g < -3.0 ? -3.0 : g;
}

static double round2(double x)
{
	return round(x * 100.0) / 100.0;
}

int model_init(struct model *m, uint64_t seed, double cycle)
{
	if (!isfinite(cycle) || cycle <= 0.0)
		return -EINVAL;
	/* splitmix64 of the seed: xorshift must not start at 0, and nearby
	 * seeds should give unrelated runs. */
	seed += 0x9E3779B97F4A7C15ULL;
	seed = (seed ^ (seed >> 30)) * 0xBF58476D1CE4E5B9ULL;
	seed = (seed ^ (seed >> 27)) * 0x94D049BB133111EBULL;
	seed ^= seed >> 31;
	m->rng = seed ? seed : 1;
	m->cycle = cycle;
	m->cycle_no = -1;
	m->t_drift = 0.0;
	return 0;
}

static double cycle_fraction(const struct model *m, double elapsed)
{
	double f;

	if (!(elapsed > 0.0))
		return 0.0;
	f = fmod(elapsed, m->cycle) / m->cycle;
	return f < 0.0 ? 0.0 : f >= 1.0 ? 0.0 : f;
}

enum model_phase model_phase_at(const struct model *m, double elapsed)
{
	double f = cycle_fraction(m, elapsed);

	if (f >= PRESSURE_FROM && f < PRESSURE_TO)
		return MODEL_PRESSURE;
	if (f >= THERMAL_FROM && f < THERMAL_TO)
		return MODEL_THERMAL;
	if (f >= VIBRATION_FROM && f < VIBRATION_TO)
		return MODEL_VIBRATION;
	return MODEL_NORMAL;
}

/* Draws this cycle's anomaly strengths when a new cycle begins. */
static void enter_cycle(struct model *m, double elapsed)
{
	long no = elapsed > 0.0 ? (long)floor(elapsed / m->cycle) : 0;

	if (no == m->cycle_no)
		return;
	m->cycle_no = no;
	/* Even the weakest anomaly, with the noise against it, crosses its
	 * warning threshold at its peak. */
	m->amp_p = 2.8 + 1.7 * uniform(m);	/* peaks 8.8 .. 10.5 bar */
	m->amp_t = 20.0 + 12.0 * uniform(m);	/* peaks 85 .. 97 C */
	m->amp_v = 3.5 + 4.0 * uniform(m);	/* peaks 5.5 .. 9.5 mm/s */
}

/* Position inside a window, 0 at its start and 1 at its end. */
static double within(double f, double from, double to)
{
	return (f - from) / (to - from);
}

void model_sample(struct model *m, double elapsed, struct model_sample *out)
{
	double f = cycle_fraction(m, elapsed), x;

	enter_cycle(m, elapsed);
	/* The noisy baseline.  The temperature drifts slowly (a reversion
	 * to the set point keeps it within about +-2 C). */
	m->t_drift = 0.98 * m->t_drift + 0.1 * gauss(m);
	m->t_drift = m->t_drift > 3.0 ? 3.0 : m->t_drift < -3.0 ? -3.0 :
	    m->t_drift;
	out->p = BASE_P + 0.08 * gauss(m);
	out->t = BASE_T + m->t_drift + 0.15 * gauss(m);
	out->v = BASE_V + 0.12 * gauss(m);
	out->phase = model_phase_at(m, elapsed);

	switch (out->phase) {
	case MODEL_PRESSURE:
		/* Three spikes, each filling the first 40% of its third of
		 * the window: a relief valve that closes too late. */
		x = within(f, PRESSURE_FROM, PRESSURE_TO) * 3.0;
		if (x - floor(x) < 0.4)
			out->p += m->amp_p + 0.1 * gauss(m);
		break;
	case MODEL_THERMAL:
		/* A hump with a ripple: the cooler cutting in and out. */
		x = within(f, THERMAL_FROM, THERMAL_TO);
		out->t += m->amp_t * sin(M_PI * x) *
		    (1.0 + 0.1 * sin(8.0 * M_PI * x));
		break;
	case MODEL_VIBRATION:
		/* Wear: rising, noisier, then the machine is eased off. */
		x = within(f, VIBRATION_FROM, VIBRATION_TO);
		out->v += m->amp_v * sin(M_PI * x) + 0.15 * sin(M_PI * x) *
		    gauss(m);
		break;
	case MODEL_NORMAL:
		break;
	}
	if (out->v < 0.05)
		out->v = 0.05;
	out->p = round2(out->p);
	out->t = round2(out->t);
	out->v = round2(out->v);
	out->status = (int)telemetry_status(out->p, out->t, out->v);
}

const char *model_phase_name(enum model_phase phase)
{
	switch (phase) {
	case MODEL_PRESSURE:
		return "pressure";
	case MODEL_THERMAL:
		return "thermal";
	case MODEL_VIBRATION:
		return "vibration";
	case MODEL_NORMAL:
		break;
	}
	return "normal";
}
