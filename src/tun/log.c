/* Logging for the daemon; see log.h.  The stderr format follows
 * wireguard-go's ("ERROR: (wg0) 2024/01/02 15:04:05 text") so logs of the
 * two read alike. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static int log_level = WG_LOG_ERROR;
static bool log_syslog;
static char log_ifname[32] = "wgu";

int wg_log_parse_level(const char *name, int *level)
{
	static const struct {
		const char *name;
		int level;
	} names[] = {
		{ "silent", WG_LOG_SILENT },
		{ "error", WG_LOG_ERROR },
		{ "verbose", WG_LOG_INFO },
		{ "info", WG_LOG_INFO },
		{ "debug", WG_LOG_DEBUG },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i].name) == 0) {
			*level = names[i].level;
			return 0;
		}
	}
	return -EINVAL;
}

void wg_log_init(const char *ifname)
{
	const char *env = getenv("LOG_LEVEL");

	snprintf(log_ifname, sizeof(log_ifname), "%s", ifname);
	log_level = WG_LOG_ERROR;
	if (env && *env && wg_log_parse_level(env, &log_level) < 0) {
		log_level = WG_LOG_ERROR;
		wg_log(WG_LOG_ERROR, "Unknown LOG_LEVEL \"%.32s\" (use error, "
		    "verbose, debug or silent): logging errors only", env);
	}
}

void wg_log_use_syslog(void)
{
	openlog("wgu", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_syslog = true;
}

bool wg_log_enabled(enum wg_log_level level)
{
	return (int)level <= log_level;
}

void wg_log(enum wg_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "ERROR", "INFO", "DEBUG" };
	static const int priorities[] = { LOG_ERR, LOG_INFO, LOG_DEBUG };
	char line[512], stamp[32];
	struct tm tm;
	time_t t;
	va_list ap;

	if (!wg_log_enabled(level) || level < 0 || level > WG_LOG_DEBUG)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_syslog) {
		syslog(priorities[level], "(%s) %s", log_ifname, line);
		return;
	}
	t = time(NULL);
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y/%m/%d %H:%M:%S", &tm) == 0)
		stamp[0] = '\0';
	fprintf(stderr, "%s: (%s) %s %s\n", names[level], log_ifname, stamp,
	    line);
}
