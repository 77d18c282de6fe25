/* Small helpers for file descriptors that the commands and the daemon
 * share. */
#ifndef WG_FDIO_H
#define WG_FDIO_H

#include <stddef.h>

/* write(2) all of buf, retrying on EINTR and short writes.  Returns 0 or
 * a negative errno (-EPIPE when the descriptor takes no more bytes). */
int wg_write_all(int fd, const void *buf, size_t len);

/* read(2) into buf until len bytes, end of file or an error, retrying on
 * EINTR and short reads.  Returns how many bytes were read: fewer than
 * len means the rest will not come. */
size_t wg_read_full(int fd, void *buf, size_t len);

#endif
