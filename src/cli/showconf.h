/* `wg showconf` from a UAPI "get" answer. */
#ifndef WG_SHOWCONF_H
#define WG_SHOWCONF_H

#include <stdbool.h>

#include "cli/buf.h"

/* Appends to b the config text of reply (a whole "get" answer): the
 * [Interface] section, with the private key only when private is true,
 * then a [Peer] section per peer.  Keys become base64 again. */
void wg_showconf(struct wg_buf *b, const char *reply, bool private);

#endif
