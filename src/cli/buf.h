/* A growing NUL-terminated string for the command line's requests,
 * answers and generated files.  It may carry keys, so every copy it
 * leaves behind is wiped.  A failed allocation sets `failed` and makes
 * further appends do nothing: check it once, after the last append. */
#ifndef WG_BUF_H
#define WG_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct wg_buf {
	char *s;		/* NULL until the first append */
	size_t len, cap;
	bool failed;
};

/* Appends printf-formatted text. */
void wg_buf_printf(struct wg_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Wipes and frees the text; b is empty (all zero) again. */
void wg_buf_free(struct wg_buf *b);

#endif
