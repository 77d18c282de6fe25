/* wgu-modbus's configuration file: see config.h and wgu-modbus.conf(5).
 * One line at a time: '#' starts a comment, blank lines are skipped, a
 * section header is "[mqtt]" or "[device ID]", anything else is
 * "key = value".  The first error ends the parse. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/conf_text.h"
#include "modbus/config.h"

enum {
	LINE_MAX_LEN = 1024,
	FILE_MAX = 1 << 20,
};

/* What a line may hold around its words. */
#define BLANKS " \t\r"

enum section { SECTION_NONE, SECTION_MQTT, SECTION_DEVICE };

struct parser {
	struct mb_config *cfg;
	const char *file;
	unsigned line;
	enum section section;
	size_t cap;		/* of cfg->devices */
	char *err;
};

static int fail(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = conf_verror(p->err, MBCONFIG_ERR_SIZE, 320, p->file, p->line,
	    fmt, ap);
	va_end(ap);
	return ret;
}

static bool printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static int parse_int(struct parser *p, const char *key, const char *s,
    long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (s[0] == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
		return fail(p, "%s: '%s' is not an integer in [%ld, %ld]", key,
		    s, min, max);
	*out = v;
	return 0;
}

static int parse_real(struct parser *p, const char *key, const char *s,
    double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (s[0] == '\0' || *end != '\0' || errno != 0 || !isfinite(v) ||
	    v < min || v > max)
		return fail(p, "%s: '%s' is not a number in [%g, %g]", key, s,
		    min, max);
	*out = v;
	return 0;
}

static int copy_string(struct parser *p, const char *key, const char *v,
    char *out, size_t cap)
{
	if (v[0] == '\0' || strlen(v) >= cap || !printable(v) ||
	    strpbrk(v, " \t") != NULL)
		return fail(p, "%s: needs 1..%zu printable characters without "
		    "blanks", key, cap - 1);
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

static int check_prefix(struct parser *p, const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > MBCONFIG_PREFIX_MAX || v[0] == '/' ||
	    v[n - 1] == '/' || strpbrk(v, "+#") != NULL ||
	    strstr(v, "//") != NULL)
		return fail(p, "topic-prefix: '%s' must be 1..%d characters of "
		    "topic levels, without '+', '#', empty levels or a "
		    "leading/trailing '/'", v, MBCONFIG_PREFIX_MAX);
	return 0;
}

static int mqtt_key(struct parser *p, const char *key, const char *v)
{
	struct mb_config *c = p->cfg;
	long n;
	int ret;

	if (strcmp(key, "broker") == 0)
		return copy_string(p, key, v, c->broker, sizeof(c->broker));
	if (strcmp(key, "port") == 0) {
		if ((ret = parse_int(p, key, v, 1, 65535, &n)) == 0)
			c->port = (int)n;
		return ret;
	}
	if (strcmp(key, "password-file") == 0)
		return copy_string(p, key, v, c->password_file,
		    sizeof(c->password_file));
	if (strcmp(key, "topic-prefix") == 0) {
		if ((ret = check_prefix(p, v)) == 0)
			ret = copy_string(p, key, v, c->prefix,
			    sizeof(c->prefix));
		return ret;
	}
	if (strcmp(key, "spool-dir") == 0)
		return copy_string(p, key, v, c->spool_dir,
		    sizeof(c->spool_dir));
	if (strcmp(key, "spool-max") == 0) {
		if ((ret = parse_int(p, key, v, 1, 10000000, &n)) == 0)
			c->spool_max = (size_t)n;
		return ret;
	}
	return fail(p, "unknown key '%s' in [mqtt] (broker, port, "
	    "password-file, topic-prefix, spool-dir, spool-max)", key);
}

/* ---------------------------------------------------------------- fields */

static const char *const kind_names[] = {
	[MB_COIL] = "coil", [MB_DISCRETE] = "discrete",
	[MB_INPUT] = "input", [MB_HOLDING] = "holding",
};
static const char *const type_names[] = {
	[MB_BIT] = "bit", [MB_INT16] = "int16", [MB_UINT16] = "uint16",
	[MB_INT32] = "int32", [MB_UINT32] = "uint32",
	[MB_FLOAT32] = "float32",
};
static const char *const order_names[] = {
	[MB_ABCD] = "abcd", [MB_CDAB] = "cdab", [MB_BADC] = "badc",
	[MB_DCBA] = "dcba",
};

/* The index of word in names[0..n), or -1. */
static int lookup(const char *const *names, int n, const char *word)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcasecmp(names[i], word) == 0)
			return i;
	return -1;
}

#define LOOKUP(names, word) \
	lookup(names, (int)(sizeof(names) / sizeof(names[0])), word)

unsigned mbconfig_field_width(const struct mb_field *f)
{
	return f->type == MB_INT32 || f->type == MB_UINT32 ||
	    f->type == MB_FLOAT32 ? 2 : 1;
}

static bool name_valid(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') ||
		    (s[n] >= 'A' && s[n] <= 'Z') ||
		    (s[n] >= '0' && s[n] <= '9') || s[n] == '.' ||
		    s[n] == '_' || s[n] == '-'))
			return false;
	return n >= 1 && n <= TELEMETRY_FIELD_NAME_MAX;
}

/* The optional "KEYWORD NUMBER" pairs after the type, from word on. */
static int field_options(struct parser *p, struct mb_field *f, char *word,
    char **save)
{
	char *num;
	double *dst;

	for (; word != NULL; word = strtok_r(NULL, " \t", save)) {
		if (strcasecmp(word, "scale") == 0)
			dst = &f->scale;
		else if (strcasecmp(word, "offset") == 0)
			dst = &f->offset;
		else if (strcasecmp(word, "warn") == 0)
			dst = &f->warn, f->has_warn = true;
		else if (strcasecmp(word, "crit") == 0)
			dst = &f->crit, f->has_crit = true;
		else
			return fail(p, "field %s: unknown option '%s' (scale, "
			    "offset, warn, crit)", f->name, word);
		if ((num = strtok_r(NULL, " \t", save)) == NULL)
			return fail(p, "field %s: %s needs a number", f->name,
			    word);
		if (parse_real(p, word, num, -1e15, 1e15, dst) < 0)
			return -EINVAL;
	}
	if (f->scale == 0)
		return fail(p, "field %s: scale 0 would hide the value",
		    f->name);
	if (f->has_warn && f->has_crit && f->warn > f->crit)
		return fail(p, "field %s: warn %g is above crit %g", f->name,
		    f->warn, f->crit);
	return 0;
}

/* The type (and order) word after the address, if any: *word is left at
 * the first word not consumed. */
static int field_type(struct parser *p, struct mb_field *f, char **word,
    char **save)
{
	bool bits = f->kind == MB_COIL || f->kind == MB_DISCRETE;
	int t = *word ? LOOKUP(type_names, *word) : -1, o;

	f->type = bits ? MB_BIT : MB_UINT16;
	if (t < 0)
		return 0;
	if (bits != (t == MB_BIT))
		return fail(p, "field %s: %s %s is %s", f->name,
		    kind_names[f->kind], bits ? "registers" : "bits",
		    bits ? "a bit (type bit or none)" :
		    "16-bit registers (int16, uint16, int32, uint32, "
		    "float32)");
	f->type = (enum mb_type)t;
	*word = strtok_r(NULL, " \t", save);
	if (*word && (o = LOOKUP(order_names, *word)) >= 0) {
		if (bits)
			return fail(p, "field %s: a bit has no byte order",
			    f->name);
		f->order = (enum mb_order)o;
		*word = strtok_r(NULL, " \t", save);
	}
	return 0;
}

/* field = NAME KIND ADDRESS [TYPE [ORDER]] [scale S] [offset O] [warn W]
 *         [crit C] */
static int field_line(struct parser *p, struct mb_device *d, char *v)
{
	struct mb_field *f;
	char *save = NULL, *name, *kind, *addr, *word;
	long a;
	size_t i;
	int k;

	if (d->nfields == TELEMETRY_FIELDS_MAX)
		return fail(p, "device %s: more than %d fields", d->id,
		    TELEMETRY_FIELDS_MAX);
	f = &d->fields[d->nfields];
	*f = (struct mb_field){ .scale = 1.0 };
	name = strtok_r(v, " \t", &save);
	kind = strtok_r(NULL, " \t", &save);
	addr = strtok_r(NULL, " \t", &save);
	if (name == NULL || kind == NULL || addr == NULL)
		return fail(p, "field: needs NAME KIND ADDRESS [TYPE [ORDER]] "
		    "[scale S] [offset O] [warn W] [crit C]");
	if (!name_valid(name))
		return fail(p, "field '%s': a name is 1..%d characters of "
		    "[A-Za-z0-9_.-]", name, TELEMETRY_FIELD_NAME_MAX);
	memcpy(f->name, name, strlen(name) + 1);
	for (i = 0; i < d->nfields; i++)
		if (strcmp(d->fields[i].name, name) == 0)
			return fail(p, "field %s: already defined in device %s",
			    name, d->id);
	if ((k = LOOKUP(kind_names, kind)) < 0)
		return fail(p, "field %s: unknown register kind '%s' (coil, "
		    "discrete, input, holding)", name, kind);
	f->kind = (enum mb_kind)k;
	if (parse_int(p, "field address", addr, 0, 65535, &a) < 0)
		return -EINVAL;
	f->addr = (uint16_t)a;
	word = strtok_r(NULL, " \t", &save);
	if (field_type(p, f, &word, &save) < 0)
		return -EINVAL;
	if (a + mbconfig_field_width(f) - 1 > 65535)
		return fail(p, "field %s: %s at %ld runs past address 65535",
		    name, type_names[f->type], a);
	if (field_options(p, f, word, &save) < 0)
		return -EINVAL;
	d->nfields++;
	return 0;
}

static int device_key(struct parser *p, const char *key, char *v)
{
	struct mb_device *d = &p->cfg->devices[p->cfg->ndevices - 1];
	long n;
	int ret;

	if (strcmp(key, "field") == 0)
		return field_line(p, d, v);
	if (strcmp(key, "address") == 0) {
		if (strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789.:-_") != strlen(v))
			return fail(p, "address: '%s' is not a host name or an "
			    "IP address", v);
		return copy_string(p, key, v, d->host, sizeof(d->host));
	}
	if (strcmp(key, "port") == 0) {
		if ((ret = parse_int(p, key, v, 1, 65535, &n)) == 0)
			d->port = (int)n;
		return ret;
	}
	if (strcmp(key, "unit") == 0) {
		if ((ret = parse_int(p, key, v, 0, 255, &n)) == 0)
			d->unit = (int)n;
		return ret;
	}
	if (strcmp(key, "interval") == 0)
		return parse_real(p, key, v, 0.01, 86400, &d->interval);
	if (strcmp(key, "timeout") == 0)
		return parse_real(p, key, v, 0.01, 60, &d->timeout);
	return fail(p, "unknown key '%s' in [device %s] (address, port, unit, "
	    "interval, timeout, field)", key, d->id);
}

/* ---------------------------------------------------------------- blocks */

/* Groups the fields into as few reads as the protocol's limits allow:
 * per kind, by address, a block grows while it spans no more than one
 * request may read. */
static void make_blocks(struct mb_device *d)
{
	bool done[TELEMETRY_FIELDS_MAX] = { false };
	size_t i, left = d->nfields;

	d->nblocks = 0;
	while (left > 0) {
		const struct mb_field *lo = NULL;
		struct mb_block *b = &d->blocks[d->nblocks++];
		unsigned limit, end;

		for (i = 0; i < d->nfields; i++)
			if (!done[i] && (lo == NULL ||
			    d->fields[i].kind < lo->kind ||
			    (d->fields[i].kind == lo->kind &&
			    d->fields[i].addr < lo->addr)))
				lo = &d->fields[i];
		limit = lo->kind == MB_COIL || lo->kind == MB_DISCRETE ?
		    MBCONFIG_BITS_PER_READ : MBCONFIG_REGS_PER_READ;
		b->kind = lo->kind;
		b->addr = lo->addr;
		end = lo->addr;
		for (i = 0; i < d->nfields; i++) {
			const struct mb_field *f = &d->fields[i];
			unsigned last = f->addr + mbconfig_field_width(f) - 1;

			if (done[i] || f->kind != lo->kind ||
			    last - lo->addr + 1 > limit)
				continue;
			done[i] = true;
			left--;
			if (last > end)
				end = last;
		}
		b->count = (uint16_t)(end - b->addr + 1);
	}
}

static int end_device(struct parser *p)
{
	struct mb_device *d;

	if (p->section != SECTION_DEVICE)
		return 0;
	d = &p->cfg->devices[p->cfg->ndevices - 1];
	if (d->host[0] == '\0')
		return fail(p, "device %s (line %u): no address", d->id,
		    d->line);
	if (d->nfields == 0)
		return fail(p, "device %s (line %u): no field", d->id,
		    d->line);
	if (d->timeout > d->interval)
		return fail(p, "device %s (line %u): timeout %g is longer than "
		    "the interval %g", d->id, d->line, d->timeout,
		    d->interval);
	make_blocks(d);
	return 0;
}

static int new_device(struct parser *p, const char *id)
{
	struct mb_config *c = p->cfg;
	struct mb_device *d;
	size_t i;

	if (!telemetry_node_id_valid(id))
		return fail(p, "[device %s]: the id is a node id, 1..%d "
		    "characters of [A-Za-z0-9._-]", id, TELEMETRY_NODE_ID_MAX);
	for (i = 0; i < c->ndevices; i++)
		if (strcmp(c->devices[i].id, id) == 0)
			return fail(p, "[device %s]: already defined on line %u",
			    id, c->devices[i].line);
	if (c->ndevices == MBCONFIG_DEVICES_MAX)
		return fail(p, "more than %d devices", MBCONFIG_DEVICES_MAX);
	if (c->ndevices == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		struct mb_device *nd = realloc(c->devices, cap * sizeof(*nd));

		if (nd == NULL)
			return -ENOMEM;
		c->devices = nd;
		p->cap = cap;
	}
	d = &c->devices[c->ndevices++];
	*d = (struct mb_device){ .port = 502, .unit = 1, .interval = 1.0,
	    .timeout = 1.0, .line = p->line };
	memcpy(d->id, id, strlen(id) + 1);
	return 0;
}

static int section_line(struct parser *p, char *s)
{
	size_t n = strlen(s);
	char *name;
	int ret;

	if (s[n - 1] != ']')
		return fail(p, "a section header ends with ']'");
	s[n - 1] = '\0';
	name = conf_trim(s + 1, BLANKS);
	if ((ret = end_device(p)) < 0)
		return ret;
	if (strcmp(name, "mqtt") == 0) {
		p->section = SECTION_MQTT;
		return 0;
	}
	if (strncmp(name, "device", 6) == 0 &&
	    conf_is_blank(name[6], BLANKS)) {
		p->section = SECTION_DEVICE;
		return new_device(p, conf_trim(name + 7, BLANKS));
	}
	return fail(p, "unknown section '[%s]' ([mqtt], [device ID])", name);
}

static int one_line(struct parser *p, char *s)
{
	char *eq, *key, *v;

	if ((eq = strchr(s, '#')) != NULL)
		*eq = '\0';
	s = conf_trim(s, BLANKS);
	if (s[0] == '\0')
		return 0;
	if (!printable(s))
		return fail(p, "a control or non-ASCII character");
	if (s[0] == '[')
		return section_line(p, s);
	if ((eq = strchr(s, '=')) == NULL)
		return fail(p, "expected 'key = value' or a [section]");
	*eq = '\0';
	key = conf_trim(s, BLANKS);
	v = conf_trim(eq + 1, BLANKS);
	if (v[0] == '\0')
		return fail(p, "%s: empty value", key);
	switch (p->section) {
	case SECTION_MQTT:
		return mqtt_key(p, key, v);
	case SECTION_DEVICE:
		return device_key(p, key, v);
	default:
		return fail(p, "'%s' outside a section ([mqtt], [device ID])",
		    key);
	}
}

int mbconfig_parse(const char *file, const char *text, size_t len,
    struct mb_config *cfg, char *err)
{
	struct parser p = { .cfg = cfg, .file = file, .err = err };
	char line[LINE_MAX_LEN + 1];
	size_t pos = 0;
	int ret = 0;

	*cfg = (struct mb_config){ .port = 1883, .spool_max = 100000 };
	snprintf(cfg->broker, sizeof(cfg->broker), "10.0.0.1");
	snprintf(cfg->prefix, sizeof(cfg->prefix), TELEMETRY_DEFAULT_PREFIX);
	snprintf(cfg->spool_dir, sizeof(cfg->spool_dir), "/var/lib/wgu-modbus");
	err[0] = '\0';
	while (pos < len && ret == 0) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		p.line++;
		if (n > LINE_MAX_LEN)
			ret = fail(&p, "line longer than %d bytes",
			    LINE_MAX_LEN);
		else if (memchr(text + pos, '\0', n) != NULL)
			ret = fail(&p, "a NUL byte");
		else {
			memcpy(line, text + pos, n);
			line[n] = '\0';
			ret = one_line(&p, line);
		}
		pos += n + 1;
	}
	if (ret == 0)
		ret = end_device(&p);
	if (ret == 0 && cfg->ndevices == 0)
		ret = fail(&p, "no [device ID] section");
	if (ret < 0)
		mbconfig_free(cfg);
	return ret;
}

int mbconfig_parse_file(const char *path, struct mb_config *cfg, char *err)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;
	int ret;

	if (f == NULL) {
		ret = -errno;
		snprintf(err, MBCONFIG_ERR_SIZE, "%s: %s", path,
		    strerror(errno));
		return ret;
	}
	buf = malloc(FILE_MAX + 1);
	if (buf == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, FILE_MAX + 1, f);
	if (ferror(f) || n > FILE_MAX) {
		snprintf(err, MBCONFIG_ERR_SIZE, "%s: %s", path, ferror(f) ?
		    "read error" : "larger than 1 MiB");
		ret = -EINVAL;
	} else {
		ret = mbconfig_parse(path, buf, n, cfg, err);
	}
	free(buf);
	fclose(f);
	return ret;
}

void mbconfig_free(struct mb_config *cfg)
{
	free(cfg->devices);
	cfg->devices = NULL;
	cfg->ndevices = 0;
}
