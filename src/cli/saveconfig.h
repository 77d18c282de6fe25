/* SaveConfig = true: the running state written back to the config file
 * by `wgu down`. */
#ifndef WG_SAVECONFIG_H
#define WG_SAVECONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "cli/config.h"
#include "cli/target.h"

/* Replaces t->path, as wg-quick's save_config: the running state (reply,
 * a whole UAPI "get" answer, as `wg showconf`) under the config's own
 * wg-quick keys, with the Addresses the interface has now (addrs) and,
 * when the file has an MTU, the link's MTU now (mtu, or 0 to keep the
 * file's).  The new file (mode 0600) is written under a fresh random
 * name in the same directory, never through a file already there, and
 * renamed over the old one.  Returns 0, or a negative errno after a
 * message on stderr; the old file is then untouched. */
int wg_saveconfig_write(const struct wg_config *cfg,
    const struct wg_target *t, const char *reply,
    const struct wg_config_prefix *addrs, size_t n_addrs, uint32_t mtu);

#endif
