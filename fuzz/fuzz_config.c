/* Fuzzes the wg-quick config parser (src/cli/config.c) with arbitrary
 * bytes, as a config file could hold.  Invariants: an accepted config has
 * a NUL-terminated strip text no longer than the input plus one newline
 * per line, and every endpoint a port; a refused one has a "FILE:LINE: "
 * message and an empty struct.  abort() marks a broken invariant. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_config cfg;
	char err[WG_CONFIG_ERR_SIZE];
	size_t i, lines = 1;
	int ret;

	ret = wg_config_parse(&cfg, "f", (const char *)data, size, err);
	if (ret == 0) {
		for (i = 0; i < size; i++)
			lines += data[i] == '\n';
		if (cfg.stripped == NULL || strlen(cfg.stripped) > size + lines)
			abort();
		for (i = 0; i < cfg.n_peers; i++)
			if (cfg.peers[i].endpoint_host != NULL &&
			    cfg.peers[i].endpoint_port == 0)
				abort();
	} else if (strncmp(err, "f:", 2) != 0 || cfg.stripped != NULL)
		abort();
	wg_config_clear(&cfg);
	return 0;
}
