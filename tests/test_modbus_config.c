/* wgu-modbus's configuration parser: a full file, the defaults, the
 * grouping of fields into reads, and a table of refusals with their
 * FILE:LINE messages. */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "modbus/config.h"

static int parse(const char *text, struct mb_config *c, char *err)
{
	return mbconfig_parse("m.conf", text, strlen(text), c, err);
}

static void test_full(void)
{
	const char *text =
	    "# an edge\n"
	    "[mqtt]\n"
	    "broker = 10.9.0.1   # the hub\n"
	    "port = 8883\n"
	    "password-file = /etc/wgu/modbus.passwords\n"
	    "topic-prefix = p/a/l\n"
	    "spool-dir = /tmp/s\n"
	    "spool-max = 500\n"
	    "\n"
	    "[device press-01]\n"
	    "address = 192.168.10.20\n"
	    "port = 1502\n"
	    "unit = 7\n"
	    "interval = 0.5\n"
	    "timeout = 0.25\n"
	    "field = p holding 100 float32 CDAB scale 0.5 offset -1 warn 8 crit 9.5\n"
	    "field = t input 3 int16 badc\n"
	    "field = run coil 9\n"
	    "field = door discrete 2 bit\n"
	    "[device pump-02]\r\n"
	    "address = plc2.local\r\n"
	    "field = flow input 0\r\n";
	struct mb_config c;
	char err[MBCONFIG_ERR_SIZE];
	const struct mb_device *d;

	CHECK(parse(text, &c, err) == 0);
	CHECK(strcmp(c.broker, "10.9.0.1") == 0 && c.port == 8883);
	CHECK(strcmp(c.password_file, "/etc/wgu/modbus.passwords") == 0);
	CHECK(strcmp(c.prefix, "p/a/l") == 0 && c.spool_max == 500);
	CHECK(strcmp(c.spool_dir, "/tmp/s") == 0);
	CHECK(c.ndevices == 2);
	d = &c.devices[0];
	CHECK(strcmp(d->id, "press-01") == 0 && d->port == 1502);
	CHECK(d->unit == 7 && d->interval == 0.5 && d->timeout == 0.25);
	CHECK(d->nfields == 4);
	CHECK(d->fields[0].kind == MB_HOLDING && d->fields[0].addr == 100);
	CHECK(d->fields[0].type == MB_FLOAT32 && d->fields[0].order == MB_CDAB);
	CHECK(d->fields[0].scale == 0.5 && d->fields[0].offset == -1);
	CHECK(d->fields[0].has_warn && d->fields[0].warn == 8);
	CHECK(d->fields[0].has_crit && d->fields[0].crit == 9.5);
	CHECK(d->fields[1].type == MB_INT16 && d->fields[1].order == MB_BADC);
	CHECK(!d->fields[1].has_warn && d->fields[1].scale == 1);
	CHECK(d->fields[2].kind == MB_COIL && d->fields[2].type == MB_BIT);
	CHECK(d->fields[3].kind == MB_DISCRETE && d->fields[3].addr == 2);
	CHECK(d->nblocks == 4);
	d = &c.devices[1];
	CHECK(strcmp(d->host, "plc2.local") == 0 && d->port == 502);
	CHECK(d->unit == 1 && d->interval == 1 && d->timeout == 1);
	CHECK(d->fields[0].type == MB_UINT16 && d->fields[0].order == MB_ABCD);
	mbconfig_free(&c);
	CHECK(c.devices == NULL);
}

static void test_defaults(void)
{
	struct mb_config c;
	char err[MBCONFIG_ERR_SIZE];

	CHECK(parse("[device a]\naddress=h\nfield=x holding 0\n", &c, err) ==
	    0);
	CHECK(strcmp(c.broker, "10.0.0.1") == 0 && c.port == 1883);
	CHECK(strcmp(c.prefix, TELEMETRY_DEFAULT_PREFIX) == 0);
	CHECK(strcmp(c.spool_dir, "/var/lib/wgu-modbus") == 0);
	CHECK(c.password_file[0] == '\0' && c.spool_max == 100000);
	mbconfig_free(&c);
}

/* Neighbouring registers are read together, up to 125 per request; bits
 * up to 2000; kinds never mix. */
static void test_blocks(void)
{
	const char *text = "[device a]\naddress=h\n"
	    "field=a holding 10 float32\n"
	    "field=b holding 0\n"
	    "field=c holding 123 uint32\n"	/* 0..124: still one read */
	    "field=d holding 124\n"
	    "field=e holding 125\n"		/* 126 wide: a second read */
	    "field=f input 10\n"
	    "field=g coil 0\n"
	    "field=h coil 1999\n"
	    "field=i coil 2000\n";
	struct mb_config c;
	char err[MBCONFIG_ERR_SIZE];
	const struct mb_device *d;

	CHECK(parse(text, &c, err) == 0);
	d = &c.devices[0];
	CHECK(d->nblocks == 5);
	CHECK(d->blocks[0].kind == MB_COIL && d->blocks[0].addr == 0 &&
	    d->blocks[0].count == 2000);
	CHECK(d->blocks[1].kind == MB_COIL && d->blocks[1].addr == 2000 &&
	    d->blocks[1].count == 1);
	CHECK(d->blocks[2].kind == MB_INPUT && d->blocks[2].addr == 10 &&
	    d->blocks[2].count == 1);
	CHECK(d->blocks[3].kind == MB_HOLDING && d->blocks[3].addr == 0 &&
	    d->blocks[3].count == 125);
	CHECK(d->blocks[4].kind == MB_HOLDING && d->blocks[4].addr == 125 &&
	    d->blocks[4].count == 1);
	mbconfig_free(&c);
}

static const struct {
	const char *text, *err;
} refused[] = {
	{ "", "m.conf:0: no [device ID] section" },
	{ "broker = x\n", "m.conf:1: 'broker' outside a section" },
	{ "[mqtt]\nport = 0\n", "m.conf:2: port: '0' is not an integer in [1, 65535]" },
	{ "[mqtt]\nbrokr = x\n", "m.conf:2: unknown key 'brokr' in [mqtt]" },
	{ "[mqtt]\ntopic-prefix = a/+/b\n", "m.conf:2: topic-prefix: 'a/+/b'" },
	{ "[mqtt]\nbroker =\n", "m.conf:2: broker: empty value" },
	{ "[mqtt\n", "m.conf:1: a section header ends with ']'" },
	{ "[plc]\n", "m.conf:1: unknown section '[plc]'" },
	{ "[device a/b]\n", "m.conf:1: [device a/b]: the id is a node id" },
	{ "[device a]\naddress=h\nfield=x holding 0\n[device a]\n",
	  "m.conf:4: [device a]: already defined on line 1" },
	{ "[device a]\nfield=x holding 0\n", "m.conf:2: device a (line 1): no address" },
	{ "[device a]\naddress=h\n", "m.conf:2: device a (line 1): no field" },
	{ "[device a]\naddress=h\"x\n", "m.conf:2: address: 'h\"x' is not a host" },
	{ "[device a]\naddress=h\nunit=256\n", "m.conf:3: unit: '256'" },
	{ "[device a]\naddress=h\ninterval=0\n", "m.conf:3: interval: '0' is not a number" },
	{ "[device a]\naddress=h\ninterval=1\ntimeout=2\nfield=x coil 0\n",
	  "m.conf:5: device a (line 1): timeout 2 is longer than the interval 1" },
	{ "[device a]\naddress=h\nfield=x\n", "m.conf:3: field: needs NAME KIND ADDRESS" },
	{ "[device a]\naddress=h\nfield=x/y holding 0\n", "m.conf:3: field 'x/y': a name is" },
	{ "[device a]\naddress=h\nfield=x holding 0\nfield=x coil 1\n",
	  "m.conf:4: field x: already defined in device a" },
	{ "[device a]\naddress=h\nfield=x register 0\n", "m.conf:3: field x: unknown register kind 'register'" },
	{ "[device a]\naddress=h\nfield=x holding 65536\n", "m.conf:3: field address: '65536'" },
	{ "[device a]\naddress=h\nfield=x holding 65535 float32\n",
	  "m.conf:3: field x: float32 at 65535 runs past address 65535" },
	{ "[device a]\naddress=h\nfield=x coil 0 int16\n", "m.conf:3: field x: coil registers is a bit" },
	{ "[device a]\naddress=h\nfield=x input 0 bit\n", "m.conf:3: field x: input bits is 16-bit registers" },
	{ "[device a]\naddress=h\nfield=x coil 0 bit abcd\n", "m.conf:3: field x: a bit has no byte order" },
	{ "[device a]\naddress=h\nfield=x input 0 int16 abdc\n", "m.conf:3: field x: unknown option 'abdc'" },
	{ "[device a]\naddress=h\nfield=x input 0 scale\n", "m.conf:3: field x: scale needs a number" },
	{ "[device a]\naddress=h\nfield=x input 0 scale 0\n", "m.conf:3: field x: scale 0 would hide the value" },
	{ "[device a]\naddress=h\nfield=x input 0 warn nan\n", "m.conf:3: warn: 'nan' is not a number" },
	{ "[device a]\naddress=h\nfield=x input 0 warn 9 crit 8\n", "m.conf:3: field x: warn 9 is above crit 8" },
	{ "[device a]\naddress=h\nfield=x input 0\x01\n", "m.conf:3: a control or non-ASCII character" },
};

static void test_refused(void)
{
	char text[2048], err[MBCONFIG_ERR_SIZE];
	struct mb_config c;
	size_t i;
	int n;

	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		CHECK(parse(refused[i].text, &c, err) == -EINVAL);
		if (strncmp(err, refused[i].err, strlen(refused[i].err)) != 0)
			CHECK_FAIL("row %zu: got '%s', want '%s...'", i, err,
			    refused[i].err);
		CHECK(c.devices == NULL);
	}
	/* 17 fields, a NUL byte, a long line. */
	n = snprintf(text, sizeof(text), "[device a]\naddress=h\n");
	for (i = 0; i < 17; i++)
		n += snprintf(text + n, sizeof(text) - (size_t)n,
		    "field=f%zu input %zu\n", i, i);
	CHECK(parse(text, &c, err) == -EINVAL);
	CHECK(strcmp(err, "m.conf:19: device a: more than 16 fields") == 0);
	CHECK(mbconfig_parse("m.conf", "[mqtt]\n\0", 8, &c, err) == -EINVAL);
	CHECK(strcmp(err, "m.conf:2: a NUL byte") == 0);
	memset(text, 'x', 1100);
	text[1100] = '\0';
	CHECK(parse(text, &c, err) == -EINVAL);
	CHECK(strcmp(err, "m.conf:1: line longer than 1024 bytes") == 0);
}

static void test_file(void)
{
	struct mb_config c;
	char err[MBCONFIG_ERR_SIZE];

	CHECK(mbconfig_parse_file("/nonexistent/m.conf", &c, err) == -ENOENT);
	CHECK(strcmp(err, "/nonexistent/m.conf: No such file or directory") ==
	    0);
}

int main(void)
{
	RUN(test_full);
	RUN(test_defaults);
	RUN(test_blocks);
	RUN(test_refused);
	RUN(test_file);
	return check_summary();
}
