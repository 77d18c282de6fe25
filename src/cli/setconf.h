/* Config to plan: what `wgu up` tells the daemon, as one UAPI request. */
#ifndef WG_SETCONF_H
#define WG_SETCONF_H

#include "cli/buf.h"
#include "cli/config.h"

/* Appends to b the "set=1" request `wg setconf` would send for cfg: keys
 * in hex, endpoint host names resolved now, the peers replacing whatever
 * the device had, the closing blank line.  Returns 0, -EHOSTUNREACH or
 * -EINVAL (after a message on stderr) for an endpoint that does not
 * resolve, or -ENOMEM. */
int wg_setconf_build(struct wg_buf *b, const struct wg_config *cfg);

#endif
