/* Trimming and error formatting for the line-based configuration
 * parsers; see conf_text.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/conf_text.h"

bool conf_is_blank(char c, const char *blanks)
{
	return c != '\0' && strchr(blanks, c) != NULL;
}

char *conf_trim(char *s, const char *blanks)
{
	size_t n;

	while (conf_is_blank(*s, blanks))
		s++;
	n = strlen(s);
	while (n > 0 && conf_is_blank(s[n - 1], blanks))
		s[--n] = '\0';
	return s;
}

int conf_verror(char *err, size_t err_size, size_t what_size,
    const char *file, unsigned line, const char *fmt, va_list ap)
{
	char what[512];

	if (what_size > sizeof(what))
		what_size = sizeof(what);
	vsnprintf(what, what_size, fmt, ap);
	snprintf(err, err_size, "%s:%u: %s", file, line, what);
	return -EINVAL;
}
