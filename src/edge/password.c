/* An edge node's password from a file (see password.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "edge/password.h"
#include "mqtt/telemetry.h"

int edge_password_read(const char *path, const char *user, bool single,
    char out[static EDGE_PASSWORD_MAX])
{
	FILE *f = fopen(path, "r");
	char line[EDGE_PASSWORD_MAX + TELEMETRY_NODE_ID_MAX + 8];
	size_t ulen = strlen(user);
	int ret = -ENOENT;

	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t n = strcspn(line, "\r\n");
		const char *pw = line;

		line[n] = '\0';
		if (!single) {
			if (strncmp(line, user, ulen) != 0 || line[ulen] != ':')
				continue;
			pw = line + ulen + 1;
		}
		if (strlen(pw) >= EDGE_PASSWORD_MAX) {
			ret = -ENAMETOOLONG;
			break;
		}
		memcpy(out, pw, strlen(pw) + 1);
		ret = 0;
		break;
	}
	explicit_bzero(line, sizeof(line));
	fclose(f);
	return ret;
}
