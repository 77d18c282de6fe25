/* Config to plan: the parsed config as the UAPI "set" request `wg setconf`
 * would send, which `wgu up` gives the daemon in one exchange. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cli/setconf.h"
#include "crypto/encoding.h"

/* The config as `wg setconf` sends it: keys in hex, host names resolved
 * now, the peers replacing whatever the device had. */
int wg_setconf_build(struct wg_buf *b, const struct wg_config *cfg)
{
	char hex[WG_KEY_HEX_SIZE], host[NI_MAXHOST], port[8], pfx[64];
	const struct wg_config_peer *peer;
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
	    .ai_protocol = IPPROTO_UDP }, *ai;
	size_t i, j;
	int ret = 0;

	wg_buf_printf(b, "set=1\n");
	if (cfg->has_private_key) {
		wg_key_to_hex(hex, cfg->private_key);
		wg_buf_printf(b, "private_key=%s\n", hex);
	}
	if (cfg->has_listen_port)
		wg_buf_printf(b, "listen_port=%u\n", cfg->listen_port);
	if (cfg->has_fwmark)
		wg_buf_printf(b, "fwmark=%u\n", cfg->fwmark);
	wg_buf_printf(b, "replace_peers=true\n");
	for (i = 0; i < cfg->n_peers; i++) {
		peer = &cfg->peers[i];
		wg_key_to_hex(hex, peer->public_key);
		wg_buf_printf(b, "public_key=%s\n", hex);
		if (peer->has_preshared_key) {
			wg_key_to_hex(hex, peer->preshared_key);
			wg_buf_printf(b, "preshared_key=%s\n", hex);
		}
		if (peer->endpoint_host) {
			snprintf(port, sizeof(port), "%u", peer->endpoint_port);
			ret = getaddrinfo(peer->endpoint_host, port, &hints,
			    &ai);
			if (ret != 0) {
				fprintf(stderr, "wgu: %s:%s: %s\n",
				    peer->endpoint_host, port,
				    gai_strerror(ret));
				ret = -EHOSTUNREACH;
				goto out;
			}
			ret = getnameinfo(ai->ai_addr, ai->ai_addrlen, host,
			    sizeof(host), NULL, 0, NI_NUMERICHOST);
			if (ret == 0)
				wg_buf_printf(b, ai->ai_family == AF_INET6 ?
				    "endpoint=[%s]:%s\n" : "endpoint=%s:%s\n",
				    host, port);
			freeaddrinfo(ai);
			if (ret != 0) {
				ret = -EINVAL;
				goto out;
			}
		}
		if (peer->has_keepalive)
			wg_buf_printf(b, "persistent_keepalive_interval=%u\n",
			    peer->keepalive);
		wg_buf_printf(b, "replace_allowed_ips=true\n");
		for (j = 0; j < peer->n_allowed_ips; j++) {
			wg_config_prefix_format(&peer->allowed_ips[j], pfx,
			    sizeof(pfx));
			wg_buf_printf(b, "allowed_ip=%s\n", pfx);
		}
	}
	wg_buf_printf(b, "\n");
	ret = b->failed ? -ENOMEM : 0;
out:
	explicit_bzero(hex, sizeof(hex));
	return ret;
}
