/* The wg-quick config parser (src/cli/config.c): good configs with every
 * key, each kind of mistake with its exact FILE:LINE message, wg-quick's
 * case-insensitivity and repeated keys, and `strip` output. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "check.h"
#include "cli/config.h"

#define PRIV "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
#define PUB "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
#define PSK "FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE="

/* The peers of test_full: strip keeps them line for line (the last line
 * follows, without a final newline in the input). */
#define FULL_PEERS \
	    "[peer]\n" \
	    "PublicKey=" PUB "\n" \
	    "PresharedKey = " PSK "\n" \
	    "AllowedIPs = 10.0.0.2/32, fd00::2/128\n" \
	    "AllowedIPs = 192.168.0.0/16\n" \
	    "Endpoint = [fd00:1::2]:51821\n" \
	    "PersistentKeepalive = 25\n" \
	    "[Peer]\n" \
	    "PublicKey = " PRIV "\n" \
	    "Endpoint = hub.example.org:443\n" \
	    "AllowedIPs = 0.0.0.0/0,::/0\n"

static int parse(struct wg_config *cfg, const char *text, char *err)
{
	return wg_config_parse(cfg, "t.conf", text, strlen(text), err);
}

static void test_full(void)
{
	static const char text[] =
	    "# a hub\n"
	    "[Interface]\n"
	    "  PrivateKey = " PRIV "\n"
	    "Address = 10.0.0.1/24, fd00::1/64\n"
	    "address=10.0.1.1/24 # second Address line accumulates\n"
	    "ListenPort = 51820\n"
	    "MTU = 1380\n"
	    "FwMark = 0x1234\n"
	    "Table = 1234\n"
	    "DNS = 10.0.0.53, fd00::53, corp.example\n"
	    "PreUp = echo pre %i\n"
	    "PostUp = echo post1\n"
	    "POSTUP = echo post2\n"
	    "PreDown = true\n"
	    "PostDown = true\n"
	    "SaveConfig = TRUE\n"
	    "\n"
	    FULL_PEERS
	    "PersistentKeepalive = off";	/* no final newline */
	struct wg_config c;
	char err[WG_CONFIG_ERR_SIZE], buf[64];
	int ret = parse(&c, text, err);

	CHECK(ret == 0);
	if (ret != 0) {
		CHECK_FAIL("%s", err);
		return;
	}
	CHECK(c.has_private_key && c.private_key[0] == 0xc8);
	CHECK(c.has_listen_port && c.listen_port == 51820);
	CHECK(c.mtu == 1380);
	CHECK(c.has_fwmark && c.fwmark == 0x1234);
	CHECK(c.table_mode == WG_CONFIG_TABLE_NUMBER && c.table == 1234);
	CHECK(c.save_config);
	CHECK(c.n_addresses == 3);
	wg_config_prefix_format(&c.addresses[1], buf, sizeof(buf));
	CHECK(strcmp(buf, "fd00::1/64") == 0);
	wg_config_prefix_format(&c.addresses[2], buf, sizeof(buf));
	CHECK(strcmp(buf, "10.0.1.1/24") == 0);
	CHECK(c.n_dns == 3 && strcmp(c.dns[2], "corp.example") == 0);
	CHECK(c.n_hooks[WG_HOOK_PRE_UP] == 1 &&
	    strcmp(c.hooks[WG_HOOK_PRE_UP][0], "echo pre %i") == 0);
	CHECK(c.n_hooks[WG_HOOK_POST_UP] == 2 &&
	    strcmp(c.hooks[WG_HOOK_POST_UP][1], "echo post2") == 0);
	CHECK(c.n_hooks[WG_HOOK_PRE_DOWN] == 1);
	CHECK(c.n_hooks[WG_HOOK_POST_DOWN] == 1);
	CHECK(c.n_peers == 2);
	if (c.n_peers == 2) {
		CHECK(c.peers[0].public_key[0] == 0xc5);
		CHECK(c.peers[0].has_preshared_key);
		CHECK(c.peers[0].n_allowed_ips == 3);
		CHECK(strcmp(c.peers[0].endpoint_host, "fd00:1::2") == 0);
		CHECK(c.peers[0].endpoint_port == 51821);
		CHECK(c.peers[0].has_keepalive && c.peers[0].keepalive == 25);
		CHECK(!c.peers[1].has_preshared_key);
		CHECK(strcmp(c.peers[1].endpoint_host, "hub.example.org") == 0);
		CHECK(c.peers[1].endpoint_port == 443);
		CHECK(c.peers[1].n_allowed_ips == 2);
		CHECK(wg_config_prefix_is_default(&c.peers[1].allowed_ips[0]));
		CHECK(c.peers[1].allowed_ips[1].family == AF_INET6);
		CHECK(c.peers[1].has_keepalive && c.peers[1].keepalive == 0);
	}
	/* As wg-quick strip: trimmed lines, the wg-quick keys gone. */
	CHECK(strcmp(c.stripped,
	    "# a hub\n"
	    "[Interface]\n"
	    "PrivateKey = " PRIV "\n"
	    "ListenPort = 51820\n"
	    "FwMark = 0x1234\n"
	    "\n"
	    FULL_PEERS
	    "PersistentKeepalive = off\n") == 0);
	wg_config_clear(&c);
}

struct small {
	const char *text;
	int ret;
	const char *err;
};

static const struct small rows[] = {
	{ "", 0, "" },
	{ "[Interface]\n", 0, "" },
	{ "[INTERFACE]\nlistenport=1\nTABLE=OFF\nmtu=1280\n", 0, "" },
	{ "[Interface]\nTable = main\nFwMark = off\nAddress =\n", 0, "" },
	{ "[Interface]\nPostUp = echo a # comment is cut, as wg-quick\n", 0,
	    "" },
	{ "[Interface]\r\nListenPort = 7\r\n", 0, "" },
	{ "[Peer]\nPublicKey = " PUB "\nAllowedIPs =\nEndpoint = 1.2.3.4:5\n",
	    0, "" },
	/* Mistakes, each with its exact message. */
	{ "ListenPort = 1\n", -EINVAL,
	    "t.conf:1: key \"ListenPort\" outside [Interface] or [Peer]" },
	{ "[Interface]\n[Wat]\n", -EINVAL, "t.conf:2: unknown section \"[Wat]\"" },
	{ "[Interface]\nFoo = 1\n", -EINVAL,
	    "t.conf:2: unknown key \"Foo\" in [Interface]" },
	{ "[Peer]\nPublicKey = " PUB "\nListenPort = 1\n", -EINVAL,
	    "t.conf:3: unknown key \"ListenPort\" in [Peer]" },
	{ "[Interface]\nListenPort\n", -EINVAL,
	    "t.conf:2: expected KEY = VALUE or a [Section]" },
	{ "[Interface]\n = 4\n", -EINVAL, "t.conf:2: missing key before '='" },
	{ "[Interface]\nListenPort =\n", -EINVAL,
	    "t.conf:2: ListenPort has no value" },
	{ "[Interface]\nPrivateKey = abc=\n", -EINVAL,
	    "t.conf:2: bad PrivateKey: not a base64 key of 32 bytes" },
	{ "[Interface]\nPrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmn=\n",
	    -EINVAL, "t.conf:2: bad PrivateKey: not a base64 key of 32 bytes" },
	{ "[Interface]\nListenPort = 65536\n", -EINVAL,
	    "t.conf:2: bad ListenPort: expected 0 to 65535" },
	{ "[Interface]\nListenPort = -1\n", -EINVAL,
	    "t.conf:2: bad ListenPort: expected 0 to 65535" },
	{ "[Interface]\nMTU = 67\n", -EINVAL,
	    "t.conf:2: bad MTU: expected 68 to 65535" },
	{ "[Interface]\nMTU = 1420x\n", -EINVAL,
	    "t.conf:2: bad MTU: expected 68 to 65535" },
	{ "[Interface]\nFwMark = 0x100000000\n", -EINVAL,
	    "t.conf:2: bad FwMark: expected off or a 32-bit number" },
	{ "[Interface]\nTable = 0\n", -EINVAL,
	    "t.conf:2: bad Table: expected off, auto, main or a table number" },
	{ "[Interface]\nSaveConfig = yes\n", -EINVAL,
	    "t.conf:2: bad SaveConfig: `yes' is neither true nor false" },
	{ "[Interface]\nAddress = 10.0.0.1/33\n", -EINVAL,
	    "t.conf:2: bad Address: invalid prefix \"10.0.0.1/33\"" },
	{ "[Interface]\nAddress = 10.0.0.1/24,,10.0.0.300\n", -EINVAL,
	    "t.conf:2: bad Address: invalid prefix \"10.0.0.300\"" },
	{ "[Interface]\nDNS = 1.1.1.1, bad;name\n", -EINVAL,
	    "t.conf:2: bad DNS: \"bad;name\" is neither an address nor a "
	    "search domain" },
	{ "[Peer]\nAllowedIPs = 10.0.0.0/8\n[Peer]\n", -EINVAL,
	    "t.conf:1: [Peer] without a PublicKey" },
	{ "[Peer]\nPublicKey = " PUB "\n[Peer]\n", -EINVAL,
	    "t.conf:3: [Peer] without a PublicKey" },
	{ "[Peer]\nPublicKey = " PUB "\nAllowedIPs = fd00::/129\n", -EINVAL,
	    "t.conf:3: bad AllowedIPs: invalid prefix \"fd00::/129\"" },
	{ "[Peer]\nPublicKey = " PUB "\nAllowedIPs = 10.0.0.0/-1\n", -EINVAL,
	    "t.conf:3: bad AllowedIPs: invalid prefix \"10.0.0.0/-1\"" },
	{ "[Peer]\nPublicKey = " PUB "\nPresharedKey = x\n", -EINVAL,
	    "t.conf:3: bad PresharedKey: not a base64 key of 32 bytes" },
	{ "[Peer]\nPublicKey = " PUB "\nEndpoint = 1.2.3.4\n", -EINVAL,
	    "t.conf:3: bad Endpoint: expected HOST:PORT" },
	{ "[Peer]\nPublicKey = " PUB "\nEndpoint = 1.2.3.4:0\n", -EINVAL,
	    "t.conf:3: bad Endpoint: invalid port" },
	{ "[Peer]\nPublicKey = " PUB "\nEndpoint = fd00::1:51820\n", -EINVAL,
	    "t.conf:3: bad Endpoint: IPv6 needs brackets" },
	{ "[Peer]\nPublicKey = " PUB "\nEndpoint = [fd00::g]:1\n", -EINVAL,
	    "t.conf:3: bad Endpoint: invalid IPv6 address" },
	{ "[Peer]\nPublicKey = " PUB "\nEndpoint = [fd00::1]1\n", -EINVAL,
	    "t.conf:3: bad Endpoint: expected [IPv6]:PORT" },
	{ "[Peer]\nPublicKey = " PUB "\nEndpoint = a b:1\n", -EINVAL,
	    "t.conf:3: bad Endpoint: invalid host" },
	{ "[Peer]\nPublicKey = " PUB "\nPersistentKeepalive = 1s\n", -EINVAL,
	    "t.conf:3: bad PersistentKeepalive: expected off or 0 to 65535" },
	/* A key where no key belongs is refused without being quoted. */
	{ "[Interface]\n" PRIV "\n", -EINVAL,
	    "t.conf:2: <hidden: looks like a key> has no value" },
	{ "[" PSK "]\n", -EINVAL,
	    "t.conf:1: unknown section \"<hidden: looks like a key>\"" },
	{ "[Interface]\nAddress = " PSK "\n", -EINVAL,
	    "t.conf:2: bad Address: invalid prefix "
	    "\"<hidden: looks like a key>\"" },
	{ "[Interface]\nAddress = 10.0.0.1/24, "
	    "f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f\n",
	    -EINVAL, "t.conf:2: bad Address: invalid prefix "
	    "\"<hidden: looks like a key>\"" },
	{ "[Interface]\nDNS = " PRIV "\n", -EINVAL,
	    "t.conf:2: bad DNS: \"<hidden: looks like a key>\" is "
	    "neither an address nor a search domain" },
	{ "PrivateKey = " PRIV "\n", -EINVAL,
	    "t.conf:1: key \"PrivateKey\" outside [Interface] or [Peer]" },
	{ "[Interface]\nSaveConfig = " PSK "\n", -EINVAL,
	    "t.conf:2: bad SaveConfig: `<hidden: looks like a key>' is "
	    "neither true nor false" },
	/* ... while names and addresses are still quoted in full. */
	{ "[Interface]\nPersistentKeepalive = 25\n", -EINVAL,
	    "t.conf:2: unknown key \"PersistentKeepalive\" in [Interface]" },
	{ "[Interface]\nAddress = 2001:db8:1234:5678:9abc:def0:1234:5678/129\n",
	    -EINVAL, "t.conf:2: bad Address: invalid prefix "
	    "\"2001:db8:1234:5678:9abc:def0:1234:5678/129\"" },
};

static void test_rows(void)
{
	struct wg_config c;
	char err[WG_CONFIG_ERR_SIZE];
	size_t i;
	int ret;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		ret = parse(&c, rows[i].text, err);
		if (ret != rows[i].ret || strcmp(err, rows[i].err) != 0)
			CHECK_FAIL("row %zu: got %d \"%s\", want %d \"%s\"", i,
			    ret, err, rows[i].ret, rows[i].err);
		if (ret != 0)
			CHECK(c.peers == NULL && c.stripped == NULL);
		wg_config_clear(&c);
	}
}

static void test_last_wins_and_nul(void)
{
	static const char nul[] = "[Interface]\nListenPort = 1\0\n";
	struct wg_config c;
	char err[WG_CONFIG_ERR_SIZE];

	CHECK(parse(&c, "[Interface]\nListenPort = 1\nlistenPORT = 2\n"
	    "Table = 7\nTable = auto\n", err) == 0);
	CHECK(c.listen_port == 2 && c.table_mode == WG_CONFIG_TABLE_AUTO);
	wg_config_clear(&c);
	CHECK(wg_config_parse(&c, "n.conf", nul, sizeof(nul) - 1, err) ==
	    -EINVAL);
	CHECK(strcmp(err, "n.conf:2: NUL byte in line") == 0);
	wg_config_clear(&c);
}

static void test_ifname(void)
{
	CHECK(wg_config_valid_ifname("wg0", 3));
	CHECK(wg_config_valid_ifname("a.b+c=d-e_f0123", 15));
	CHECK(!wg_config_valid_ifname("a.b+c=d-e_f01234", 16));
	CHECK(!wg_config_valid_ifname("", 0));
	CHECK(!wg_config_valid_ifname("wg 0", 4));
	CHECK(!wg_config_valid_ifname("wg/0", 4));
}

int main(void)
{
	RUN(test_full);
	RUN(test_rows);
	RUN(test_last_wins_and_nul);
	RUN(test_ifname);
	return check_summary();
}
