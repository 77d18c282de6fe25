/* An edge node's MQTT password from a file that never appears on a
 * command line (ps would show it). */
#ifndef WGU_EDGE_PASSWORD_H
#define WGU_EDGE_PASSWORD_H

#include <stdbool.h>

enum { EDGE_PASSWORD_MAX = 256 };

/* Finds the password for user in the file: the whole first line when
 * single, else the line "user:password".  0, -ENOENT (no such user),
 * -ENAMETOOLONG, or a negative errno from opening the file.  The caller
 * wipes out. */
int edge_password_read(const char *path, const char *user, bool single,
    char out[static EDGE_PASSWORD_MAX]);

#endif
