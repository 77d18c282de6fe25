/* For tests/sys_dashboard_tunnel.sh: the dashboard data side's answers
 * about a real interface, printed.
 *
 *	dash_tunnel_probe tunnel|metrics IFNAME ACKS_DB
 *
 * prints the body of /api/tunnel or /metrics (no store: a path that does
 * not exist) and exits 0 for status 200, 1 otherwise, 2 for usage. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dashboard/data.h"

int main(int argc, char **argv)
{
	struct dash_data_config cfg = { .db_path = "/nonexistent/store.db" };
	struct dash_reply r = { 0 };
	char err[DASH_ERR_MAX];
	struct dash_data *d;
	struct timespec ts;
	int64_t now;
	int status;

	if (argc != 4 || (strcmp(argv[1], "tunnel") != 0 &&
	    strcmp(argv[1], "metrics") != 0)) {
		fprintf(stderr, "usage: dash_tunnel_probe tunnel|metrics "
		    "IFNAME ACKS_DB\n");
		return 2;
	}
	cfg.interface = argv[2];
	cfg.acks_path = argv[3];
	if ((d = dash_data_new(&cfg, err)) == NULL) {
		fprintf(stderr, "dash_tunnel_probe: %s\n", err);
		return 1;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (strcmp(argv[1], "tunnel") == 0)
		dash_api_tunnel(d, now, &r);
	else
		dash_metrics(d, now, &r);
	if (r.body)
		fwrite(r.body, 1, r.len, stdout);
	printf("\n");
	status = r.status;
	dash_reply_free(&r);
	dash_data_free(d);
	return status == 200 ? 0 : 1;
}
