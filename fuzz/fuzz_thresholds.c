/* Fuzzes wgu-historian's --thresholds parser (src/hub/thresholds.c) with
 * arbitrary bytes.  Invariants: a refused file has a "f:LINE: " message;
 * an accepted one has 1..ALARMS_THRESHOLDS_MAX distinct, valid field
 * names with finite thresholds in the order their direction needs, and
 * alarm_threshold_severity() of any value is 0..2.  abort() marks a
 * broken invariant. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hub/thresholds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct alarms_config *cfg, const uint8_t *data,
    size_t size)
{
	size_t i, j;
	double v;
	int sev;

	if (cfg->nthresholds < 1 || cfg->nthresholds > ALARMS_THRESHOLDS_MAX)
		abort();
	for (i = 0; i < cfg->nthresholds; i++) {
		const struct alarm_threshold *t = &cfg->thresholds[i];

		if (t->field[0] == '\0' || strcmp(t->field, "status") == 0 ||
		    !isfinite(t->warning) || !isfinite(t->critical) ||
		    (t->below ? t->warning < t->critical :
		    t->warning > t->critical))
			abort();
		for (j = 0; j < i; j++)
			if (strcmp(cfg->thresholds[j].field, t->field) == 0)
				abort();
		v = size ? (double)data[i % size] - 128.0 : 0.0;
		sev = alarm_threshold_severity(t, v);
		if (sev < 0 || sev > 2 || alarm_threshold_severity(t,
		    t->critical) != 2)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct alarms_config cfg;
	char err[THRESHOLDS_ERR_SIZE] = "";

	if (thresholds_parse((const char *)data, size, "f", &cfg, err) < 0) {
		if (strncmp(err, "f:", 2) != 0 || strchr(err + 2, ':') == NULL)
			abort();
		return 0;
	}
	check(&cfg, data, size);
	return 0;
}
