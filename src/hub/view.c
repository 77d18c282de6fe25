/* The historian's live view, warnings and summary (see view.h). */
#include <inttypes.h>
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

void view_reading(const struct view *v, const struct telemetry_reading *r,
    const char *note)
{
	char when[32];
	time_t secs = (time_t)(r->timestamp_ms / 1000);
	struct tm tm;
	const char *on = "", *off = "";

	if (v->color && r->status == TELEMETRY_CRITICAL)
		on = "\033[1;31m", off = "\033[0m";
	else if (v->color && r->status == TELEMETRY_WARNING)
		on = "\033[33m", off = "\033[0m";
	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	printf("%s%s.%03dZ %-12s boot %-3" PRIu64 " seq %-7" PRIu64
	    " p %6.2f bar  t %6.1f C  v %5.2f mm/s  %-8s%s%s\n", on, when,
	    (int)(r->timestamp_ms % 1000), r->node_id, r->boot_id, r->seq,
	    r->p, r->t, r->v, status_name(r->status), note, off);
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

void view_summary(const struct view *v, const struct view_totals *n,
    const struct dedup_table *t, const char *share)
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
	fflush(stdout);
}
