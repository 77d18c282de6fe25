/* The command line's growing string: see buf.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/buf.h"

void wg_buf_printf(struct wg_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *grown;

	if (b->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || b->len + (size_t)n + 1 > b->cap) {
		size_t cap = (b->len + (size_t)(n < 0 ? 0 : n) + 1) * 2;

		if (n < 0 || (grown = malloc(cap)) == NULL) {
			b->failed = true;
			return;
		}
		if (b->s) {
			memcpy(grown, b->s, b->len + 1);
			explicit_bzero(b->s, b->cap);
			free(b->s);
		}
		b->s = grown;
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void wg_buf_free(struct wg_buf *b)
{
	if (b->s) {
		explicit_bzero(b->s, b->cap);
		free(b->s);
	}
	memset(b, 0, sizeof(*b));
}
