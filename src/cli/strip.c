/* `wgu strip IFNAME|CONFIG`: the config file without wg-quick's own keys
 * (Address, DNS, MTU, Table, the hooks, SaveConfig), what `wg setconf`
 * accepts, as `wg-quick strip` prints it. */
#include <stdio.h>

#include "cli/config.h"
#include "cli/subcommands.h"
#include "cli/target.h"

int strip_main(int argc, char **argv)
{
	struct wg_config cfg = { 0 };
	struct wg_target t;
	int ret = 1;

	if (argc != 2) {
		fprintf(stderr, "Usage: wgu strip [ CONFIG_FILE | INTERFACE ]\n");
		return 1;
	}
	if (wg_target_resolve(&t, argv[1]) == 0 &&
	    wg_target_load(&cfg, &t) == 0) {
		fputs(cfg.stripped, stdout);
		ret = fflush(stdout) == 0 ? 0 : 1;
	}
	wg_config_clear(&cfg);
	return ret;
}
