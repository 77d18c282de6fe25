/* The historian's live view, warnings and summary (see view.h). */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "hub/view.h"

static const char *const event_color[] = {
	[VIEW_REJECTED] = "\033[35m",
	[VIEW_DUPLICATE] = "\033[2m",
	[VIEW_GAP] = "\033[33m",
	[VIEW_SESSION] = "\033[36m",
};

void view_init(struct view *v, bool color)
{
	v->color = color;
}

static const char *status_name(int s)
{
	return s == TELEMETRY_CRITICAL ? "CRITICAL" :
	    s == TELEMETRY_WARNING ? "WARNING" : "normal";
}

/* The reading's values: p, t and v as the simulator's nodes send them,
 * or every field by name. */
static void format_values(const struct telemetry_reading *r, char *buf,
    size_t cap)
{
	size_t i, used = 0;
	int n;

	if (r->nfields == 3 && !isnan(r->p) && !isnan(r->t) && !isnan(r->v)) {
		snprintf(buf, cap, "p %6.2f bar  t %6.1f C  v %5.2f mm/s",
		    r->p, r->t, r->v);
		return;
	}
	buf[0] = '\0';
	for (i = 0; i < r->nfields && used < cap; i++) {
		n = snprintf(buf + used, cap - used, "%s%s %g", i ? "  " : "",
		    r->fields[i].name, r->fields[i].value);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

void view_reading(const struct view *v, const struct telemetry_reading *r,
    const char *note)
{
	char when[32], ident[48], values[TELEMETRY_FIELDS_MAX * 48];
	time_t secs = (time_t)(r->timestamp_ms / 1000);
	struct tm tm;
	const char *on = "", *off = "";

	if (v->color && r->status == TELEMETRY_CRITICAL)
		on = "\033[1;31m", off = "\033[0m";
	else if (v->color && r->status == TELEMETRY_WARNING)
		on = "\033[33m", off = "\033[0m";
	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	if (r->has_seq)
		snprintf(ident, sizeof(ident), "boot %-3" PRIu64 " seq %-7"
		    PRIu64, r->boot_id, r->seq);
	else
		snprintf(ident, sizeof(ident), "%-20s", "(no seq)");
	format_values(r, values, sizeof(values));
	printf("%s%s.%03dZ %-12s %s %s  %-8s%s%s\n", on, when,
	    (int)(r->timestamp_ms % 1000), r->node_id, ident, values,
	    status_name(r->status), note, off);
}

void view_event(const struct view *v, enum view_event kind,
    const char *fmt, ...)
{
	va_list ap;

	if (v->color)
		fputs(event_color[kind], stdout);
	fputs("-- ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputs(v->color ? "\033[0m\n" : "\n", stdout);
}

void view_warn(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("wgu-historian: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void summary_stream(const struct dedup_stream *s)
{
	size_t g;

	printf("%-16s %6" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64
	    " %8" PRIu64 " %10" PRIu64 "\n", s->node_id, s->boot_id,
	    s->logged, s->recovered, s->duplicates, s->gaps_opened,
	    dedup_missing(s));
	for (g = 0; g < s->ngaps && g < VIEW_GAPS_SHOWN; g++)
		printf("    still missing seq %" PRIu64 "..%" PRIu64 "\n",
		    s->gaps[g].from, s->gaps[g].to);
	if (s->ngaps > VIEW_GAPS_SHOWN)
		printf("    ... and %zu more gaps\n",
		    s->ngaps - VIEW_GAPS_SHOWN);
}

/* The at-least-once nodes: those that send no boot_id/seq. */
static void summary_window(const struct recent_table *window)
{
	struct recent_node_info info;
	size_t i;

	if (window == NULL || recent_nodes(window) == 0)
		return;
	printf("at least once (no boot_id/seq; redeliveries within the "
	    "window dropped):\n%-16s %6s %10s %10s %10s\n", "node", "",
	    "logged", "from log", "duplicates");
	for (i = 0; recent_node_at(window, i, &info); i++)
		printf("%-16s %6s %10" PRIu64 " %10" PRIu64 " %10" PRIu64 "\n",
		    info.node_id, "-", info.logged, info.recovered,
		    info.duplicates);
}

void view_summary(const struct view *v, const struct view_totals *n,
    const struct dedup_table *t, const struct recent_table *window,
    const char *share)
{
	size_t i, b;

	printf("\nwgu-historian summary: %" PRIu64 " received, %" PRIu64
	    " logged, %" PRIu64 " duplicates dropped, %" PRIu64 " rejected, %"
	    PRIu64 " write errors, %" PRIu64 " resend requests, %" PRIu64
	    " refused (duplicate state not kept), %" PRIu64 " requests held back by the "
	    "rate limit\n", n->received, n->logged, n->duplicates, n->rejected,
	    n->write_errors, n->resend_requests, n->refused, n->resends_held);
	if (share)
		printf("(member of shared subscription group %s: the gaps below "
		    "are mostly the other members' readings)\n", share);
	printf("%-16s %6s %10s %10s %10s %8s %10s\n", "node", "boot",
	    "logged", "from log", "duplicates", "gaps", "missing");
	for (i = 0; i < dedup_node_count(t); i++) {
		const struct dedup_node *nd = dedup_node_at(t, i);

		for (b = 0; b < nd->nboots; b++)
			summary_stream(&nd->boots[b]);
		if (nd->retired || nd->refused)
			printf("    %" PRIu64 " older boots retired (%" PRIu64
			    " logged, %" PRIu64 " seqs given up), %" PRIu64
			    " readings of retired boots refused\n",
			    nd->retired, nd->retired_logged,
			    nd->retired_missing, nd->refused);
	}
	summary_window(window);
	fflush(stdout);
}
