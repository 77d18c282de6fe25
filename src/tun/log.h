/* wgu's log: one line per event, to stderr in the foreground and to
 * syslog (facility daemon) once daemonized.  The level comes from the
 * LOG_LEVEL environment variable with wireguard-go's names: "error" (the
 * default), "verbose" (also "info"), "debug", "silent".  Callers never pass
 * key material. */
#ifndef WG_TUN_LOG_H
#define WG_TUN_LOG_H

#include <stdbool.h>

#include "device.h"

enum {
	WG_LOG_SILENT = -1,	/* below WG_LOG_ERROR: nothing is logged */
};

/* Parses a LOG_LEVEL value into *level (a wg_log_level or WG_LOG_SILENT).
 * Returns 0 or -EINVAL for a name it does not know. */
int wg_log_parse_level(const char *name, int *level);

/* Sets the interface name shown in each line and the level from
 * $LOG_LEVEL (an unknown value is reported and treated as "error"). */
void wg_log_init(const char *ifname);

/* From now on log to syslog instead of stderr. */
void wg_log_use_syslog(void);

bool wg_log_enabled(enum wg_log_level level);

__attribute__((format(printf, 2, 3)))
void wg_log(enum wg_log_level level, const char *fmt, ...);

#endif
