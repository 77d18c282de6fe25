/* The --thresholds file (see thresholds.h). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/conf_text.h"
#include "hub/thresholds.h"

#define BLANKS " \t\r"

enum {
	LINE_MAX_BYTES = 1024,
	WHAT_MAX = 320,		/* of a message, before FILE:LINE */
};

struct parser {
	const char *file;
	unsigned line;
	char *err;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = conf_verror(p->err, THRESHOLDS_ERR_SIZE, WHAT_MAX, p->file,
	    p->line, fmt, ap);
	va_end(ap);
	return ret;
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= ALARMS_FIELD_MAX && strspn(s,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-") == n;
}

static bool number(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return *s != '\0' && *end == '\0' && errno == 0 && isfinite(*v);
}

/* The next word of *s (NUL-terminated in place), or NULL at the end. */
static char *word(char **s)
{
	char *w = *s + strspn(*s, BLANKS), *end;

	if (*w == '\0')
		return NULL;
	end = w + strcspn(w, BLANKS);
	*s = end;
	if (*end != '\0') {
		*end = '\0';
		*s = end + 1;
	}
	return w;
}

static int parse_line(struct parser *p, char *s, struct alarms_config *cfg)
{
	struct alarm_threshold *t;
	char *field, *warn, *crit, *dir, *extra;
	size_t i;

	field = word(&s);
	warn = word(&s);
	crit = word(&s);
	dir = word(&s);
	extra = word(&s);
	if (crit == NULL || extra != NULL)
		return fail(p, "expected: field warning critical [above|below]");
	if (!name_ok(field))
		return fail(p, "'%.40s' is not a field name (1..32 of "
		    "A-Za-z0-9._-)", field);
	if (strcmp(field, "status") == 0)
		return fail(p, "'status' is the device's verdict, not a field");
	for (i = 0; i < cfg->nthresholds; i++)
		if (strcmp(cfg->thresholds[i].field, field) == 0)
			return fail(p, "field %s appears twice", field);
	if (cfg->nthresholds == ALARMS_THRESHOLDS_MAX)
		return fail(p, "more than %d fields", ALARMS_THRESHOLDS_MAX);
	t = &cfg->thresholds[cfg->nthresholds];
	*t = (struct alarm_threshold){ 0 };
	snprintf(t->field, sizeof(t->field), "%s", field);
	if (!number(warn, &t->warning))
		return fail(p, "warning '%.40s' is not a finite number", warn);
	if (!number(crit, &t->critical))
		return fail(p, "critical '%.40s' is not a finite number", crit);
	if (dir == NULL || strcmp(dir, "above") == 0)
		t->below = false;
	else if (strcmp(dir, "below") == 0)
		t->below = true;
	else
		return fail(p, "'%.40s' is not above or below", dir);
	if (!t->below && t->warning > t->critical)
		return fail(p, "%s: warning %g is above critical %g (alarms at "
		    "or above: warning <= critical)", field, t->warning,
		    t->critical);
	if (t->below && t->warning < t->critical)
		return fail(p, "%s: warning %g is below critical %g (alarms at "
		    "or below: warning >= critical)", field, t->warning,
		    t->critical);
	cfg->nthresholds++;
	return 0;
}

int thresholds_parse(const char *text, size_t len, const char *file,
    struct alarms_config *cfg, char *err)
{
	struct parser p = { .file = file, .err = err };
	char line[LINE_MAX_BYTES + 1];
	size_t pos = 0;
	int ret;

	cfg->nthresholds = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char *s, *hash;

		p.line++;
		if (n > LINE_MAX_BYTES)
			return fail(&p, "line longer than %d bytes",
			    LINE_MAX_BYTES);
		if (memchr(text + pos, '\0', n) != NULL)
			return fail(&p, "a NUL byte");
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + 1;
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		s = conf_trim(line, BLANKS);
		if (*s == '\0')
			continue;
		if ((ret = parse_line(&p, s, cfg)) < 0)
			return ret;
	}
	if (cfg->nthresholds == 0) {
		p.line = p.line ? p.line : 1;
		return fail(&p, "no thresholds (an empty file would alarm on "
		    "nothing but the devices' status)");
	}
	return 0;
}

int thresholds_load(const char *path, struct alarms_config *cfg, char *err)
{
	FILE *f = fopen(path, "r");
	char *text;
	size_t n;
	int ret;

	if (f == NULL) {
		ret = -errno;
		snprintf(err, THRESHOLDS_ERR_SIZE, "%s: %s", path,
		    strerror(-ret));
		return ret;
	}
	if ((text = malloc(THRESHOLDS_FILE_MAX + 1)) == NULL) {
		fclose(f);
		snprintf(err, THRESHOLDS_ERR_SIZE, "%s: out of memory", path);
		return -ENOMEM;
	}
	n = fread(text, 1, THRESHOLDS_FILE_MAX + 1, f);
	if (ferror(f)) {
		ret = -EIO;
		snprintf(err, THRESHOLDS_ERR_SIZE, "%s: read error", path);
	} else if (n > THRESHOLDS_FILE_MAX) {
		ret = -EFBIG;
		snprintf(err, THRESHOLDS_ERR_SIZE, "%s: larger than %d bytes",
		    path, THRESHOLDS_FILE_MAX);
	} else {
		ret = thresholds_parse(text, n, path, cfg, err);
	}
	free(text);
	fclose(f);
	return ret;
}
