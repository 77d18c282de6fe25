/* The offload switch; see offload.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "offload.h"

int wg_offloads_parse(struct wg_offloads *o, const char *spec, char *bad,
    size_t bad_len)
{
	static const struct {
		const char *name;
		size_t offset;
	} names[] = {
		{ "tun-tso", offsetof(struct wg_offloads, tun_tso) },
		{ "tun-gro", offsetof(struct wg_offloads, tun_gro) },
		{ "udp-gso", offsetof(struct wg_offloads, udp_gso) },
		{ "udp-gro", offsetof(struct wg_offloads, udp_gro) },
	};
	const char *p = spec, *end;
	size_t i, n;

	o->tun_tso = o->tun_gro = o->udp_gso = o->udp_gro = true;
	while (p != NULL && *p != '\0') {
		end = strchr(p, ',');
		n = end ? (size_t)(end - p) : strlen(p);
		if (n == 3 && strncmp(p, "all", 3) == 0) {
			o->tun_tso = o->tun_gro = o->udp_gso = o->udp_gro =
			    false;
		} else if (n > 0) {
			for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
				if (strlen(names[i].name) == n &&
				    strncmp(p, names[i].name, n) == 0)
					break;
			if (i == sizeof(names) / sizeof(names[0])) {
				snprintf(bad, bad_len, "%.*s", (int)n, p);
				return -EINVAL;
			}
			*(bool *)((char *)o + names[i].offset) = false;
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}
