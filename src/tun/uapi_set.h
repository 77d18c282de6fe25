/* The "set=1" half of the UAPI protocol (uapi_protocol.h): the key=value
 * lines that configure the device and its peers, each applied as it
 * comes, as wireguard-go's device/uapi.go does, with the value syntax it
 * accepts.  Internal to uapi_protocol.c, which reads the lines and
 * answers. */
#ifndef WG_UAPI_SET_H
#define WG_UAPI_SET_H

#include <stdbool.h>
#include <stddef.h>

#include "uapi_protocol.h"

/* After "set=1": no peer section open, no error yet. */
void wg_uapi_set_begin(struct wg_uapi_session *s);

/* One line of the set (no newline, no carriage return).  Returns 0 or
 * the negative errno the set will answer. */
int wg_uapi_set_line(struct wg_uapi_session *s, const char *line,
    size_t len);

/* The blank line (or EOF): finishes the last peer section.  Returns the
 * set's errno for the answer (0 or negative); the session is back to
 * waiting for an operation. */
int wg_uapi_set_end(struct wg_uapi_session *s);

/* Whether the len bytes at value are exactly the string want. */
bool wg_uapi_value_is(const char *value, size_t len, const char *want);

#endif
