/* wgu-historian's --thresholds file: what it alarms on (alarms.h), one
 * field a line,
 *
 *	# field  warning  critical  [above|below]
 *	p        8.0      9.5
 *	t        80       95        above
 *	level    20       5         below
 *
 * '#' starts a comment; blank lines are skipped.  A field name is 1..32
 * of [A-Za-z0-9._-] as in a reading's data (not "status", which names
 * the device's own verdict); the numbers are finite; "above" (the
 * default) alarms at or above each threshold, so warning <= critical,
 * "below" at or below, so warning >= critical.  A field appears once;
 * at most ALARMS_THRESHOLDS_MAX lines.  The file replaces the defaults
 * (wgu-sim's p, t, v) as a whole.
 *
 * Errors are "FILE:LINE: what is wrong".  Pure (but thresholds_load's
 * read); the parser is fuzzed (fuzz/fuzz_thresholds.c). */
#ifndef WGU_HUB_THRESHOLDS_H
#define WGU_HUB_THRESHOLDS_H

#include <stddef.h>

#include "hub/alarms.h"

enum {
	THRESHOLDS_ERR_SIZE = 512,
	THRESHOLDS_FILE_MAX = 64 * 1024,	/* bytes */
};

/* Parses len bytes of text (any bytes) named file in messages into
 * cfg->thresholds (the rest of cfg untouched).  0, or -EINVAL with err
 * (THRESHOLDS_ERR_SIZE bytes) filled; cfg's thresholds are then
 * unspecified. */
int thresholds_parse(const char *text, size_t len, const char *file,
    struct alarms_config *cfg, char *err);

/* Reads and parses the file at path.  0, -EINVAL or another negative
 * errno, err filled either way on failure. */
int thresholds_load(const char *path, struct alarms_config *cfg, char *err);

#endif
