/* Small helpers for file descriptors that the commands and the daemon
 * share. */
#ifndef WG_FDIO_H
#define WG_FDIO_H

#include <stddef.h>

/* write(2) all of buf, retrying on EINTR and short writes.  Returns 0 or
 * a negative errno (-EPIPE when the descriptor takes no more bytes). */
int wg_write_all(int fd, const void *buf, size_t len);

#endif
