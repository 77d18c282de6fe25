/* Small pieces the line-based configuration parsers share (wgu's
 * wg-quick file in src/cli, wgu-modbus's file in src/modbus): trimming a
 * line and formatting a "FILE:LINE: what" error.  No library dependency,
 * so programs linking BoringSSL and programs linking libmosquitto can
 * both link it. */
#ifndef WGU_CONF_TEXT_H
#define WGU_CONF_TEXT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* Whether c is one of the characters in blanks ('\0' never is). */
bool conf_is_blank(char c, const char *blanks);

/* s without the leading and trailing characters of blanks, in place;
 * returns the new start. */
char *conf_trim(char *s, const char *blanks);

/* Writes "file:line: what" into err (err_size bytes), what being fmt
 * formatted with ap and cut to what_size - 1 bytes first (what_size
 * at most 512).  Returns
 * -EINVAL, for the parser to return. */
int conf_verror(char *err, size_t err_size, size_t what_size,
    const char *file, unsigned line, const char *fmt, va_list ap)
    __attribute__((format(printf, 6, 0)));

#endif
