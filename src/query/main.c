/* wgu-query: asks the historian's store (a SQLite database derived from
 * the production log, src/hub/store.h) the common questions.  Opens it
 * read-only: it works while the historian writes (WAL mode).
 *
 *	wgu-query [VIEW] [options]
 *
 * VIEW is readings (the default), events, gaps or nodes; --every turns
 * readings into min/avg/max/count per interval.  Exit 0, 1 (failed: no
 * database, no such node) or 2 (usage). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#include "hub/store.h"
#include "mqtt/telemetry.h"
#include "query/args.h"
#include "query/output.h"
#include "query/views.h"

#ifndef WGU_QUERY_DEFAULT_DB
#define WGU_QUERY_DEFAULT_DB "/var/lib/wgu-historian/industrial_production.db"
#endif

enum { EXIT_FAILED = 1, EXIT_USAGE = 2 };

struct options {
	const char *db, *view;
	const char *pg, *plant;	/* --pg CONNINFO, --plant NAME */
	enum output_format format;
	struct query_filter filter;
	bool timing;
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: wgu-query [readings|events|gaps|nodes] [options]\n"
"  --db PATH          the historian's store\n"
"                     (" WGU_QUERY_DEFAULT_DB ")\n"
"  --pg CONNINFO      the historians' PostgreSQL database instead (libpq's\n"
"                     conninfo: 'host=db.example dbname=wgu user=reader')\n"
"  --plant NAME       with --pg: this plant's nodes only (default every\n"
"                     plant's, the plant in a first column)\n"
"  --format F         table (aligned; the default on a terminal), csv (with\n"
"                     a header; the default otherwise) or json (JSON lines)\n"
"  --node GLOB        nodes whose id matches (*, ?, [...]; default all)\n"
"  --since T          from T: RFC 3339 (2026-12-07T10:00:00Z), now, or\n"
"  --until T          relative (-2h, -30m, -7d, -90s); device time,\n"
"                     since inclusive, until exclusive\n"
"  --field NAME       only this data field (p, t, v or another)\n"
"  --status N         readings (episodes) of status N or worse (0..2)\n"
"  --every D          min/avg/max/count per node and interval D (1m, 15s,\n"
"                     1h, 1d)\n"
"  --timing           the rows, the time and CPU time the query took, on\n"
"                     stderr\n"
"views:\n"
"  readings           the readings, by node and device time\n"
"  events             anomaly episodes: a node's consecutive readings with\n"
"                     status > 0; kind (the fields over their warning\n"
"                     threshold, the furthest first, or status), start,\n"
"                     end, duration, peak of the first kind, worst status,\n"
"                     open while no reading followed\n"
"  gaps               missing seq ranges per node and boot: open (still\n"
"                     missing) or closed (filled late, by a resend)\n"
"  nodes              the nodes, their first and last reading\n");
}

__attribute__((format(printf, 1, 2), noreturn))
static void bad_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("wgu-query: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (wgu-query --help shows the options)\n", stderr);
	exit(EXIT_USAGE);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double clock_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec * 1000 + (double)ts.tv_nsec / 1e6;
}

static int64_t parse_time(const char *name, const char *s, int64_t now)
{
	int64_t ms;
	int ret = query_time_parse(s, now, &ms);

	if (ret == -ERANGE)
		bad_usage("%s: '%s' lies outside 1970..9999", name, s);
	if (ret < 0)
		bad_usage("%s: '%s' is not a time like 2026-12-07T10:00:00Z, "
		    "now or -2h", name, s);
	return ms;
}

static void parse_options(struct options *o, int argc, char **argv)
{
	enum { OPT_DB = 256, OPT_FORMAT, OPT_NODE, OPT_SINCE, OPT_UNTIL,
		OPT_FIELD, OPT_STATUS, OPT_EVERY, OPT_TIMING, OPT_PG,
		OPT_PLANT };
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, OPT_DB },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "node", required_argument, NULL, OPT_NODE },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ "field", required_argument, NULL, OPT_FIELD },
		{ "status", required_argument, NULL, OPT_STATUS },
		{ "every", required_argument, NULL, OPT_EVERY },
		{ "timing", no_argument, NULL, OPT_TIMING },
		{ "pg", required_argument, NULL, OPT_PG },
		{ "plant", required_argument, NULL, OPT_PLANT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t now = now_ms();
	int c;

	*o = (struct options){ .db = WGU_QUERY_DEFAULT_DB, .view = "readings",
	    .format = isatty(STDOUT_FILENO) ? OUTPUT_TABLE : OUTPUT_CSV,
	    .filter = { .glob = "*", .since = 0,
	    .until = TELEMETRY_TIME_MS_MAX + 1, .now = now } };
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_DB:
			if (*optarg == '\0')
				bad_usage("--db: empty path");
			o->db = optarg;
			break;
		case OPT_PG: o->pg = optarg; break;
		case OPT_PLANT:
			if (*optarg == '\0')
				bad_usage("--plant: empty");
			o->plant = optarg;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "table") == 0)
				o->format = OUTPUT_TABLE;
			else if (strcmp(optarg, "csv") == 0)
				o->format = OUTPUT_CSV;
			else if (strcmp(optarg, "json") == 0)
				o->format = OUTPUT_JSON;
			else
				bad_usage("--format: '%s' is not table, csv or "
				    "json", optarg);
			break;
		case OPT_NODE:
			if (!query_glob_valid(optarg))
				bad_usage("--node: '%s' is not a glob over node "
				    "ids ([A-Za-z0-9._-], *, ?, [...])",
				    optarg);
			o->filter.glob = optarg;
			break;
		case OPT_SINCE:
			o->filter.since = parse_time("--since", optarg, now);
			break;
		case OPT_UNTIL:
			o->filter.until = parse_time("--until", optarg, now);
			break;
		case OPT_FIELD:
			if (!query_field_valid(optarg))
				bad_usage("--field: '%s' is not a field name "
				    "(1..32 of [A-Za-z0-9._-])", optarg);
			o->filter.field = optarg;
			break;
		case OPT_STATUS:
			if (strcmp(optarg, "0") != 0 && strcmp(optarg, "1") != 0
			    && strcmp(optarg, "2") != 0)
				bad_usage("--status: '%s' is not 0, 1 or 2",
				    optarg);
			o->filter.status = optarg[0] - '0';
			break;
		case OPT_EVERY:
			if (query_duration_parse(optarg, &o->filter.every) < 0)
				bad_usage("--every: '%s' is not a duration from "
				    "1ms to 366d like 1m, 15s or 1h", optarg);
			break;
		case OPT_TIMING:
			o->timing = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			bad_usage("%s needs a value", argv[optind - 1]);
		default:
			if (optopt)
				bad_usage("unknown option -%c", optopt);
			bad_usage("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		o->view = argv[optind++];
	if (optind < argc)
		bad_usage("unexpected argument '%s'", argv[optind]);
	if (o->plant && !o->pg)
		bad_usage("--plant: only with --pg");
	if (o->filter.since >= o->filter.until)
		bad_usage("--since must be before --until: the range is empty");
	if (o->filter.every && strcmp(o->view, "readings") != 0)
		bad_usage("--every: only with the readings view");
}

static query_view_fn *view_named(const char *name)
{
	static const struct {
		const char *name;
		query_view_fn *fn;
	} views[] = {
		{ "readings", view_readings }, { "events", view_events },
		{ "gaps", view_gaps }, { "nodes", view_nodes },
	};
	size_t i;

	for (i = 0; i < sizeof(views) / sizeof(views[0]); i++)
		if (strcmp(views[i].name, name) == 0)
			return views[i].fn;
	return NULL;
}

int main(int argc, char **argv)
{
	struct options o;
	struct output out = { 0 };
	struct query_node *nodes = NULL;
	query_view_fn *view;
	size_t n = 0;
	struct qdb *db;
	double t0, cpu0;
	int ret;

	parse_options(&o, argc, argv);
	t0 = clock_ms(CLOCK_MONOTONIC);
	cpu0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
	if ((view = view_named(o.view)) == NULL)
		bad_usage("'%s' is not a view: readings, events, gaps or nodes",
		    o.view);
	if (o.filter.every)
		view = view_every;
	db = o.pg ? qdb_open_pg(o.pg, o.plant) : qdb_open_sqlite(o.db);
	if (db == NULL)
		return EXIT_FAILED;
	out.plant_column = qdb_many_plants(db);
	ret = query_nodes(db, o.filter.glob, &nodes, &n);
	if (ret == 0 && n == 0) {
		fprintf(stderr, "wgu-query: no node matches '%s' in %s "
		    "(wgu-query nodes lists them)\n", o.filter.glob,
		    o.pg ? "the PostgreSQL database" : o.db);
		ret = -ENOENT;
	}
	if (ret == 0) {
		out.format = o.format;
		out.f = stdout;
		ret = view(db, &o.filter, nodes, n, &out);
		if (output_end(&out) < 0 && ret == 0) {
			fprintf(stderr, "wgu-query: writing the output: %s\n",
			    strerror(errno ? errno : EIO));
			ret = -EIO;
		}
	}
	query_nodes_free(nodes, n);
	qdb_close(db);
	if (o.timing && ret == 0)
		fprintf(stderr, "wgu-query: %zu rows in %.1f ms (%.1f ms CPU)\n",
		    out.rows, clock_ms(CLOCK_MONOTONIC) - t0,
		    clock_ms(CLOCK_PROCESS_CPUTIME_ID) - cpu0);
	return ret < 0 ? EXIT_FAILED : 0;
}
