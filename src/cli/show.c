/* `wgu show [IFNAME]`: runs `wg show` when wg is installed (it speaks
 * our UAPI socket); otherwise prints the state read from the socket, as
 * `wg showconf` with the private key left out. */
#include <stdio.h>
#include <unistd.h>

#include "cli/ipc.h"
#include "cli/run.h"
#include "cli/showconf.h"
#include "cli/subcommands.h"
#include "tun/tun.h"

int show_main(int argc, char **argv)
{
	struct wg_buf reply = { 0 }, out = { 0 };
	const char *why;

	if (argc > 2) {
		fprintf(stderr, "Usage: wgu show [ INTERFACE ]\n");
		return 1;
	}
	if (wg_run_exists("wg")) {
		char *args[] = { "wg", "show", argc == 2 ? argv[1] : NULL,
		    NULL };

		execvp("wg", args);
	}
	if (argc != 2) {
		fprintf(stderr, "wgu: without wg installed, name the "
		    "interface: wgu show INTERFACE\n");
		return 1;
	}
	if (wg_tun_check_name(argv[1], &why) < 0 ||
	    wg_ipc_call(argv[1], "get=1\n\n", &reply) < 0) {
		fprintf(stderr, "wgu: `%s' is not a WireGuard interface\n",
		    argv[1]);
		wg_buf_free(&reply);
		return 1;
	}
	wg_showconf(&out, reply.s, false);
	fputs(out.failed ? "" : out.s, stdout);
	wg_buf_free(&reply);
	wg_buf_free(&out);
	return 0;
}
