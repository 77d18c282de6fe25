/* `wg showconf` from the daemon's UAPI "get" answer, in the order of
 * wg(8)'s showconf.c: what `wgu show` prints without wg installed and the
 * peers SaveConfig writes back. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ipc.h"
#include "cli/showconf.h"
#include "crypto/encoding.h"

static void put_key(struct wg_buf *b, const char *name, const char *hexline)
{
	char b64[WG_KEY_BASE64_SIZE];
	uint8_t key[WG_KEY_LEN];
	size_t n = strcspn(hexline, "\n");

	if (wg_key_from_hex(key, hexline, n)) {
		wg_key_to_base64(b64, key);
		wg_buf_printf(b, "%s = %s\n", name, b64);
	}
	explicit_bzero(key, sizeof(key));
	explicit_bzero(b64, sizeof(b64));
}

/* `wg showconf` from a UAPI get answer (wg(8)'s showconf.c order). */
void wg_showconf(struct wg_buf *b, const char *reply, bool private)
{
	static const uint8_t zero[WG_KEY_LEN];
	const char *line = reply, *v;
	bool in_peer = false, first_ip = true;
	uint8_t key[WG_KEY_LEN];
	size_t n;

	wg_buf_printf(b, "[Interface]\n");
	if ((v = wg_ipc_value(reply, "listen_port")) != NULL)
		wg_buf_printf(b, "ListenPort = %.*s\n", (int)strcspn(v, "\n"),
		    v);
	if ((v = wg_ipc_value(reply, "fwmark")) != NULL && atol(v) != 0)
		wg_buf_printf(b, "FwMark = 0x%lx\n", strtoul(v, NULL, 10));
	if (private && (v = wg_ipc_value(reply, "private_key")) != NULL)
		put_key(b, "PrivateKey", v);
	for (; *line; line += n + (line[n] == '\n')) {
		n = strcspn(line, "\n");
		if (n == 0)
			break;
		if (strncmp(line, "public_key=", 11) == 0) {
			if (in_peer && !first_ip)
				wg_buf_printf(b, "\n");
			wg_buf_printf(b, "\n[Peer]\n");
			put_key(b, "PublicKey", line + 11);
			in_peer = true;
			first_ip = true;
		} else if (!in_peer)
			continue;
		else if (strncmp(line, "preshared_key=", 14) == 0) {
			if (wg_key_from_hex(key, line + 14, n - 14) &&
			    memcmp(key, zero, sizeof(key)) != 0)
				put_key(b, "PresharedKey", line + 14);
			explicit_bzero(key, sizeof(key));
		} else if (strncmp(line, "allowed_ip=", 11) == 0) {
			wg_buf_printf(b, first_ip ? "AllowedIPs = %.*s" :
			    ", %.*s", (int)n - 11, line + 11);
			first_ip = false;
		} else if (strncmp(line, "endpoint=", 9) == 0 ||
		    (strncmp(line, "persistent_keepalive_interval=", 30) == 0 &&
		    atoi(line + 30) != 0)) {
			if (!first_ip)
				wg_buf_printf(b, "\n");
			first_ip = true;
			if (line[0] == 'e')
				wg_buf_printf(b, "Endpoint = %.*s\n",
				    (int)n - 9, line + 9);
			else
				wg_buf_printf(b, "PersistentKeepalive = %.*s\n",
				    (int)n - 30, line + 30);
		}
	}
	if (in_peer && !first_ip)
		wg_buf_printf(b, "\n");
}
