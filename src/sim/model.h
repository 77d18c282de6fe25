/* The sensor model of wgu-sim: pressure, temperature and vibration of a
 * hydraulic machine, on a noisy baseline (p ~ 6 bar, t ~ 65 C,
 * v ~ 2 mm/s), with an operating cycle that injects one anomaly after the
 * other.  Over a cycle of C seconds (120 by default), as fractions of C:
 *
 *	[0.00, 0.25)  normal
 *	[0.25, 0.40)  pressure spikes: hydraulic overpressure, three square
 *	              spikes of 8.8..10.5 bar (warning, often critical)
 *	[0.40, 0.50)  normal
 *	[0.50, 0.70)  thermal fluctuation: cooling inefficiency, a hump of
 *	              +20..+32 C with a ripple (warning, sometimes critical)
 *	[0.70, 0.75)  normal
 *	[0.75, 0.95)  vibration: mechanical wear, velocity rising to
 *	              5.5..9.5 mm/s and back, noisier (ISO 10816 C/D)
 *	[0.95, 1.00)  normal
 *
 * Outside its window each value stays well inside the normal zone.  The
 * anomaly strengths are drawn per cycle.  Pure and deterministic: the same
 * seed and the same sequence of elapsed times give the same readings, from
 * its own PRNG (xorshift64*), never rand().  Values are rounded to 0.01 so
 * they print short and survive the JSON round trip exactly. */
#ifndef WGU_MODEL_H
#define WGU_MODEL_H

#include <stdint.h>

#define MODEL_DEFAULT_CYCLE 120.0

enum model_phase {
	MODEL_NORMAL = 0,
	MODEL_PRESSURE,
	MODEL_THERMAL,
	MODEL_VIBRATION,
};

struct model {
	uint64_t rng;
	double cycle;		/* seconds */
	long cycle_no;		/* which cycle the amplitudes belong to */
	double amp_p, amp_t, amp_v;
	double t_drift;		/* slow random walk of the temperature */
};

struct model_sample {
	double p, t, v;
	int status;		/* telemetry_status(p, t, v) */
	enum model_phase phase;
};

/* Returns 0, or -EINVAL when cycle is not a positive finite number. */
int model_init(struct model *m, uint64_t seed, double cycle);

/* The phase at elapsed seconds since the start. */
enum model_phase model_phase_at(const struct model *m, double elapsed);

/* The reading at elapsed seconds since the start; elapsed must not
 * decrease from one call to the next. */
void model_sample(struct model *m, double elapsed, struct model_sample *out);

/* "normal", "pressure", "thermal", "vibration". */
const char *model_phase_name(enum model_phase phase);

#endif
