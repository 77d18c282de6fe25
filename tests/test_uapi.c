/* The UAPI protocol (src/tun/uapi_protocol.c) over the real protocol core
 * with fake OS hooks: every key of set, the exact text of get, and the
 * errno of each kind of bad input.
 *
 * Where the expected text comes from: the line formats and errno values
 * are wireguard-go 0.0.20220316's (device/uapi.go, ipc/uapi_unix.go), as
 * observed on its socket; the keys are RFC 7748 section 6.1's Alice and
 * Bob, so the public key wgu derives is checked against the RFC, not
 * against our own X25519. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "device.h"
#include "fakeops.h"
#include "tun/uapi_protocol.h"

/* RFC 7748 section 6.1. */
#define ALICE_PRIV "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
/* The same key clamped: byte 0 & 248, byte 31 & 127 | 64. */
#define ALICE_PRIV_CLAMPED "70076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c6a"
#define ALICE_PUB "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
#define BOB_PUB "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
#define PEER2 "1111111111111111111111111111111111111111111111111111111111111111"
#define PEER3 "2222222222222222222222222222222222222222222222222222222222222222"
#define PSK "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define ZERO_KEY "0000000000000000000000000000000000000000000000000000000000000000"

/* ---------------------------------------------------------------- fixture */

struct fixture {
	struct fake_uapi fake;
	struct fake_ops dev_fake;
	struct wg_device *dev;
	struct wg_uapi_session s;
};

static void setup(struct fixture *fx)
{
	struct wg_device_ops ops;
	struct wg_uapi_ops uops = fake_uapi_make(&fx->fake);

	memset(fx, 0, sizeof(*fx));
	fx->dev_fake.now = 1000000000;
	fx->dev_fake.rng = 1;
	ops = fake_ops_make(&fx->dev_fake);
	fx->fake.port = 51820;
	fx->fake.taken_port = 4444;
	fx->dev = wg_device_new(&ops);
	if (fx->dev == NULL) {
		fprintf(stderr, "wg_device_new failed\n");
		exit(1);
	}
	wg_uapi_session_init(&fx->s, fx->dev, &uops);
}

static void teardown(struct fixture *fx)
{
	wg_uapi_session_clear(&fx->s);
	wg_device_free(fx->dev);
}

/* Feeds text (chunk bytes at a time, 0 = all at once) and returns what the
 * session answered, as a heap string.  *ret gets feed's last result. */
static char *talk_chunked(struct fixture *fx, const char *in, size_t chunk,
    int *ret)
{
	size_t len = strlen(in), off = 0, n, outlen;
	const uint8_t *out;
	char *text;
	int r = 0;

	while (off < len) {
		n = chunk && len - off > chunk ? chunk : len - off;
		r = wg_uapi_session_feed(&fx->s, (const uint8_t *)in + off, n);
		off += n;
	}
	if (ret)
		*ret = r;
	out = wg_uapi_session_output(&fx->s, &outlen);
	text = malloc(outlen + 1);
	if (text == NULL)
		exit(1);
	if (outlen)
		memcpy(text, out, outlen);
	text[outlen] = '\0';
	wg_uapi_session_consume(&fx->s, outlen);
	return text;
}

static char *talk(struct fixture *fx, const char *in)
{
	return talk_chunked(fx, in, 0, NULL);
}

/* One exchange whose answer must be exactly want. */
#define EXPECT(fx, in, want) do { \
	char *got_ = talk((fx), (in)); \
	if (strcmp(got_, (want)) != 0) \
		CHECK_FAIL("for %s\n--- got ---\n%s--- want ---\n%s", \
		    #in, got_, (want)); \
	free(got_); \
} while (0)

/* A fresh session fed in at once: true when it answered exactly want,
 * feed returned -EPROTO and the session is closed. */
static bool refused_alone(const char *in, const char *want)
{
	struct fixture fx;
	char *got;
	int ret;
	bool ok;

	setup(&fx);
	got = talk_chunked(&fx, in, 0, &ret);
	ok = ret == -EPROTO && strcmp(got, want) == 0 &&
	    wg_uapi_session_closed(&fx.s);
	free(got);
	teardown(&fx);
	return ok;
}

static struct wg_peer *peer_by_hex(struct fixture *fx, const char *hex)
{
	uint8_t key[WG_KEY_LEN];

	if (check_unhex(hex, key, sizeof(key)) != WG_KEY_LEN)
		return NULL;
	return wg_device_peer_lookup(fx->dev, key);
}

static unsigned peer_count(struct fixture *fx)
{
	struct wg_peer *p;
	unsigned n = 0;

	for (p = wg_device_peer_first(fx->dev); p; p = wg_device_peer_next(p))
		n++;
	return n;
}

/* ---------------------------------------------------------------- get */

static void test_get_empty(void)
{
	struct fixture fx;

	setup(&fx);
	EXPECT(&fx, "get=1\n\n", "listen_port=51820\nerrno=0\n\n");
	fx.fake.port = 0;
	fx.fake.fwmark = 7;
	EXPECT(&fx, "get=1\n\n", "fwmark=7\nerrno=0\n\n");
	teardown(&fx);
}

static void test_private_key(void)
{
	struct fixture fx;
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN], want[WG_KEY_LEN];

	setup(&fx);
	EXPECT(&fx, "set=1\nprivate_key=" ALICE_PRIV "\n\n", "errno=0\n\n");
	/* Clamped on the way in; the public key is RFC 7748's. */
	EXPECT(&fx, "get=1\n\n", "private_key=" ALICE_PRIV_CLAMPED "\n"
	    "listen_port=51820\nerrno=0\n\n");
	CHECK(wg_device_get_keys(fx.dev, priv, pub));
	check_unhex(ALICE_PUB, want, sizeof(want));
	CHECK_MEM(pub, want, WG_KEY_LEN);
	/* Upper-case hex is accepted, as hex.DecodeString does. */
	EXPECT(&fx, "set=1\nprivate_key=77076D0A7318A57D3C16C17251B26645DF4C2F87EBC0992AB177FBA51DB92C2A\n\n",
	    "errno=0\n\n");
	/* All zeros removes the identity. */
	EXPECT(&fx, "set=1\nprivate_key=" ZERO_KEY "\n\n", "errno=0\n\n");
	CHECK(!wg_device_get_keys(fx.dev, priv, pub));
	EXPECT(&fx, "get=1\n\n", "listen_port=51820\nerrno=0\n\n");
	teardown(&fx);
}

static void test_device_keys(void)
{
	struct fixture fx;

	setup(&fx);
	EXPECT(&fx, "set=1\nlisten_port=1234\nfwmark=0x10\n\n", "errno=-22\n\n");
	CHECK(fx.fake.port == 1234);	/* applied before the bad line */
	EXPECT(&fx, "set=1\nlisten_port=00080\nfwmark=4294967295\n\n",
	    "errno=0\n\n");
	CHECK(fx.fake.port == 80 && fx.fake.fwmark == 4294967295u);
	EXPECT(&fx, "get=1\n\n", "listen_port=80\nfwmark=4294967295\n"
	    "errno=0\n\n");
	EXPECT(&fx, "set=1\nfwmark=0\nlisten_port=0\n\n", "errno=0\n\n");
	CHECK(fx.fake.fwmark == 0 && fx.fake.port == 40000);
	/* A port that cannot be bound: EADDRINUSE, as wireguard-go. */
	EXPECT(&fx, "set=1\nlisten_port=4444\n\n", "errno=-98\n\n");
	teardown(&fx);
}

/* A peer with every key; then its exact get text. */
static void test_peer_all_keys(void)
{
	struct fixture fx;

	setup(&fx);
	EXPECT(&fx, "set=1\n"
	    "public_key=" BOB_PUB "\n"
	    "preshared_key=" PSK "\n"
	    "endpoint=192.0.2.1:51820\n"
	    "persistent_keepalive_interval=25\n"
	    "replace_allowed_ips=true\n"
	    "allowed_ip=fd00::1/64\n"
	    "allowed_ip=10.1.2.3/16\n"
	    "allowed_ip=192.168.7.0/24\n"
	    "protocol_version=1\n"
	    "\n", "errno=0\n\n");
	/* Host bits zeroed, IPv4 first, each family ascending. */
	EXPECT(&fx, "get=1\n\n",
	    "listen_port=51820\n"
	    "public_key=" BOB_PUB "\n"
	    "preshared_key=" PSK "\n"
	    "protocol_version=1\n"
	    "endpoint=192.0.2.1:51820\n"
	    "last_handshake_time_sec=0\n"
	    "last_handshake_time_nsec=0\n"
	    "tx_bytes=0\n"
	    "rx_bytes=0\n"
	    "persistent_keepalive_interval=25\n"
	    "allowed_ip=10.1.0.0/16\n"
	    "allowed_ip=192.168.7.0/24\n"
	    "allowed_ip=fd00::/64\n"
	    "errno=0\n\n");
	/* Without a PSK wireguard-go writes zeros; a second peer follows
	 * in insertion order; an IPv6 endpoint is bracketed. */
	EXPECT(&fx, "set=1\npublic_key=" PEER2 "\n"
	    "endpoint=[2001:db8::1]:443\n\n", "errno=0\n\n");
	EXPECT(&fx, "set=1\npublic_key=" BOB_PUB "\npreshared_key=" ZERO_KEY
	    "\npersistent_keepalive_interval=0\nreplace_allowed_ips=true\n\n",
	    "errno=0\n\n");
	EXPECT(&fx, "get=1\n\n",
	    "listen_port=51820\n"
	    "public_key=" BOB_PUB "\n"
	    "preshared_key=" ZERO_KEY "\n"
	    "protocol_version=1\n"
	    "endpoint=192.0.2.1:51820\n"
	    "last_handshake_time_sec=0\n"
	    "last_handshake_time_nsec=0\n"
	    "tx_bytes=0\n"
	    "rx_bytes=0\n"
	    "persistent_keepalive_interval=0\n"
	    "public_key=" PEER2 "\n"
	    "preshared_key=" ZERO_KEY "\n"
	    "protocol_version=1\n"
	    "endpoint=[2001:db8::1]:443\n"
	    "last_handshake_time_sec=0\n"
	    "last_handshake_time_nsec=0\n"
	    "tx_bytes=0\n"
	    "rx_bytes=0\n"
	    "persistent_keepalive_interval=0\n"
	    "errno=0\n\n");
	teardown(&fx);
}

static void test_endpoints(void)
{
	static const struct {
		const char *in, *out;
	} rows[] = {
		{ "1.2.3.4:5", "endpoint=1.2.3.4:5\n" },
		{ "[::ffff:1.2.3.4]:5", "endpoint=1.2.3.4:5\n" },	/* mapped */
		{ "[fe80::1%3]:51820", "endpoint=[fe80::1%3]:51820\n" },
		{ "[fe80::1%eth0]:51820", "endpoint=[fe80::1%2]:51820\n" },
		{ "[::1]:0", "endpoint=[::1]:0\n" },
		{ "255.255.255.255:65535", "endpoint=255.255.255.255:65535\n" },
	};
	struct fixture fx;
	char in[256], *got;
	size_t i;

	setup(&fx);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(in, sizeof(in), "set=1\npublic_key=" PEER2
		    "\nendpoint=%s\n\n", rows[i].in);
		EXPECT(&fx, in, "errno=0\n\n");
		got = talk(&fx, "get=1\n\n");
		if (strstr(got, rows[i].out) == NULL)
			CHECK_FAIL("endpoint %s: got\n%s", rows[i].in, got);
		free(got);
	}
	teardown(&fx);
}

/* ---------------------------------------------------------------- peers */

static void test_replace_peers(void)
{
	struct fixture fx;

	setup(&fx);
	EXPECT(&fx, "set=1\npublic_key=" PEER2 "\npublic_key=" PEER3 "\n\n",
	    "errno=0\n\n");
	CHECK(peer_count(&fx) == 2);
	EXPECT(&fx, "set=1\nreplace_peers=true\npublic_key=" BOB_PUB "\n"
	    "allowed_ip=10.0.0.0/8\n\n", "errno=0\n\n");
	CHECK(peer_count(&fx) == 1);
	CHECK(peer_by_hex(&fx, BOB_PUB) != NULL);
	CHECK(peer_by_hex(&fx, PEER2) == NULL);
	teardown(&fx);
}

static void test_remove(void)
{
	struct fixture fx;

	setup(&fx);
	EXPECT(&fx, "set=1\npublic_key=" PEER2 "\npublic_key=" PEER3 "\n\n",
	    "errno=0\n\n");
	EXPECT(&fx, "set=1\npublic_key=" PEER2 "\nremove=true\n"
	    "allowed_ip=10.0.0.0/8\n\n", "errno=0\n\n");
	CHECK(peer_by_hex(&fx, PEER2) == NULL);
	CHECK(peer_by_hex(&fx, PEER3) != NULL);
	/* Removing a peer that does not exist creates nothing. */
	EXPECT(&fx, "set=1\npublic_key=" BOB_PUB "\nremove=true\n\n",
	    "errno=0\n\n");
	CHECK(peer_count(&fx) == 1);
	teardown(&fx);
}

static void test_update_only(void)
{
	struct fixture fx;
	struct wg_peer_info info;
	struct wg_peer *p;

	setup(&fx);
	EXPECT(&fx, "set=1\npublic_key=" PEER2 "\nupdate_only=true\n"
	    "endpoint=1.2.3.4:5\n\n", "errno=0\n\n");
	CHECK(peer_count(&fx) == 0);
	EXPECT(&fx, "set=1\npublic_key=" PEER2 "\n\n", "errno=0\n\n");
	EXPECT(&fx, "set=1\npublic_key=" PEER2 "\nupdate_only=true\n"
	    "persistent_keepalive_interval=7\n\n", "errno=0\n\n");
	p = peer_by_hex(&fx, PEER2);
	CHECK(p != NULL);
	if (p) {
		wg_peer_get_info(p, &info);
		CHECK(info.persistent_keepalive == 7);
	}
	teardown(&fx);
}

static void test_replace_allowed_ips(void)
{
	struct fixture fx;

	setup(&fx);
	EXPECT(&fx, "set=1\npublic_key=" PEER2 "\nallowed_ip=10.0.0.0/8\n"
	    "allowed_ip=fd00::/8\n\n", "errno=0\n\n");
	EXPECT(&fx, "set=1\npublic_key=" PEER2 "\nallowed_ip=10.9.0.0/16\n\n",
	    "errno=0\n\n");
	EXPECT(&fx, "set=1\npublic_key=" PEER2 "\nreplace_allowed_ips=true\n"
	    "allowed_ip=192.168.0.0/16\n\n", "errno=0\n\n");
	EXPECT(&fx, "get=1\n\n", "listen_port=51820\n"
	    "public_key=" PEER2 "\npreshared_key=" ZERO_KEY "\n"
	    "protocol_version=1\nlast_handshake_time_sec=0\n"
	    "last_handshake_time_nsec=0\ntx_bytes=0\nrx_bytes=0\n"
	    "persistent_keepalive_interval=0\n"
	    "allowed_ip=192.168.0.0/16\nerrno=0\n\n");
	/* A prefix moves to the peer that claims it last. */
	EXPECT(&fx, "set=1\npublic_key=" PEER3 "\nallowed_ip=192.168.0.0/16\n\n",
	    "errno=0\n\n");
	EXPECT(&fx, "get=1\n\n", "listen_port=51820\n"
	    "public_key=" PEER2 "\npreshared_key=" ZERO_KEY "\n"
	    "protocol_version=1\nlast_handshake_time_sec=0\n"
	    "last_handshake_time_nsec=0\ntx_bytes=0\nrx_bytes=0\n"
	    "persistent_keepalive_interval=0\n"
	    "public_key=" PEER3 "\npreshared_key=" ZERO_KEY "\n"
	    "protocol_version=1\nlast_handshake_time_sec=0\n"
	    "last_handshake_time_nsec=0\ntx_bytes=0\nrx_bytes=0\n"
	    "persistent_keepalive_interval=0\n"
	    "allowed_ip=192.168.0.0/16\nerrno=0\n\n");
	teardown(&fx);
}

/* Our own public key as a peer is ignored, as by the kernel. */
static void test_own_key_ignored(void)
{
	struct fixture fx;

	setup(&fx);
	EXPECT(&fx, "set=1\nprivate_key=" ALICE_PRIV "\npublic_key=" ALICE_PUB
	    "\nallowed_ip=10.0.0.0/8\n\n", "errno=0\n\n");
	CHECK(peer_count(&fx) == 0);
	teardown(&fx);
}

/* Turning keepalive on with a key and an endpoint sends at once. */
static void test_keepalive_sends(void)
{
	struct fixture fx;

	setup(&fx);
	EXPECT(&fx, "set=1\nprivate_key=" ALICE_PRIV "\npublic_key=" BOB_PUB
	    "\nendpoint=192.0.2.1:51820\npersistent_keepalive_interval=25\n\n",
	    "errno=0\n\n");
	CHECK(fx.dev_fake.sends >= 1);
	teardown(&fx);
}

/* ---------------------------------------------------------------- errors */

static void test_bad_inputs(void)
{
	static const struct {
		const char *lines;	/* between "set=1\n" and "\n" */
		int err;
	} rows[] = {
		{ "foo=bar\n", -EINVAL },
		{ "noequals\n", -EPROTO },
		{ "=\n", -EINVAL },
		{ "private_key=zz\n", -EINVAL },
		{ "private_key=" ZERO_KEY "0\n", -EINVAL },	/* 65 digits */
		{ "private_key=000000000000000000000000000000000000000000000000000000000000000\n", -EINVAL },
		{ "private_key=000000000000000000000000000000000000000000000000000000000000000g\n", -EINVAL },
		{ "private_key= " ZERO_KEY "\n", -EINVAL },
		{ "listen_port=65536\n", -EINVAL },
		{ "listen_port=-1\n", -EINVAL },
		{ "listen_port=+1\n", -EINVAL },
		{ "listen_port=\n", -EINVAL },
		{ "listen_port=1 \n", -EINVAL },
		{ "listen_port=0x10\n", -EINVAL },
		{ "listen_port=99999999999999999999999\n", -EINVAL },
		{ "fwmark=4294967296\n", -EINVAL },
		{ "replace_peers=false\n", -EINVAL },
		{ "replace_peers=True\n", -EINVAL },
		/* Peer keys before any public_key are unknown device keys. */
		{ "endpoint=1.2.3.4:5\n", -EINVAL },
		{ "allowed_ip=10.0.0.0/8\n", -EINVAL },
		{ "protocol_version=1\n", -EINVAL },
		{ "public_key=" PEER2 "0\n", -EINVAL },
		{ "public_key=\n", -EINVAL },
		/* Device keys after a public_key are unknown peer keys. */
		{ "public_key=" PEER2 "\nlisten_port=5\n", -EINVAL },
		{ "public_key=" PEER2 "\nprivate_key=" PSK "\n", -EINVAL },
		{ "public_key=" PEER2 "\nprotocol_version=2\n", -EINVAL },
		{ "public_key=" PEER2 "\nprotocol_version=\n", -EINVAL },
		{ "public_key=" PEER2 "\nremove=1\n", -EINVAL },
		{ "public_key=" PEER2 "\nupdate_only=false\n", -EINVAL },
		{ "public_key=" PEER2 "\nreplace_allowed_ips=yes\n", -EINVAL },
		{ "public_key=" PEER2 "\npreshared_key=" PSK "ff\n", -EINVAL },
		{ "public_key=" PEER2 "\npersistent_keepalive_interval=65536\n", -EINVAL },
		{ "public_key=" PEER2 "\npersistent_keepalive_interval=-1\n", -EINVAL },
		{ "public_key=" PEER2 "\nendpoint=1.2.3.4\n", -EINVAL },
		{ "public_key=" PEER2 "\nendpoint=1.2.3.4:\n", -EINVAL },
		{ "public_key=" PEER2 "\nendpoint=1.2.3.4:65536\n", -EINVAL },
		{ "public_key=" PEER2 "\nendpoint=1.2.3.256:5\n", -EINVAL },
		{ "public_key=" PEER2 "\nendpoint=localhost:5\n", -EINVAL },
		{ "public_key=" PEER2 "\nendpoint=::1:5\n", -EINVAL },
		{ "public_key=" PEER2 "\nendpoint=[::1]\n", -EINVAL },
		{ "public_key=" PEER2 "\nendpoint=[::1]:x\n", -EINVAL },
		{ "public_key=" PEER2 "\nendpoint=[::1:5\n", -EINVAL },
		{ "public_key=" PEER2 "\nendpoint=[fe80::1%nosuchif]:5\n", -EINVAL },
		{ "public_key=" PEER2 "\nendpoint=\n", -EINVAL },
		{ "public_key=" PEER2 "\nallowed_ip=10.0.0.0\n", -EINVAL },
		{ "public_key=" PEER2 "\nallowed_ip=10.0.0.0/33\n", -EINVAL },
		{ "public_key=" PEER2 "\nallowed_ip=fd00::/129\n", -EINVAL },
		{ "public_key=" PEER2 "\nallowed_ip=10.0.0.0/-1\n", -EINVAL },
		{ "public_key=" PEER2 "\nallowed_ip=10.0.0.0/ 8\n", -EINVAL },
		{ "public_key=" PEER2 "\nallowed_ip=10.0.0.0/8/8\n", -EINVAL },
		{ "public_key=" PEER2 "\nallowed_ip=fe80::1%1/64\n", -EINVAL },
		{ "public_key=" PEER2 "\nallowed_ip=/8\n", -EINVAL },
		{ "public_key=" PEER2 "\nfoo=bar\n", -EINVAL },
	};
	struct fixture fx;
	char in[512], want[32];
	size_t i;

	setup(&fx);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *got;

		snprintf(in, sizeof(in), "set=1\n%s\n", rows[i].lines);
		snprintf(want, sizeof(want), "errno=%d\n\n", rows[i].err);
		got = talk(&fx, in);
		if (strcmp(got, want) != 0)
			CHECK_FAIL("row %zu (%s): got %s", i, rows[i].lines, got);
		free(got);
		/* The session is still usable after every error. */
		got = talk(&fx, "get=1\n\n");
		if (strstr(got, "errno=0\n\n") == NULL)
			CHECK_FAIL("row %zu: no get after the error", i);
		free(got);
	}
	teardown(&fx);
}

/* An error stops the set where it happened (wireguard-go applies lines as
 * it reads them): earlier lines stay, later ones are ignored. */
static void test_partial_application(void)
{
	struct fixture fx;

	setup(&fx);
	EXPECT(&fx, "set=1\nlisten_port=1000\npublic_key=" PEER2 "\n"
	    "allowed_ip=10.0.0.0/8\nendpoint=nonsense\npublic_key=" PEER3 "\n"
	    "\n", "errno=-22\n\n");
	CHECK(fx.fake.port == 1000);
	CHECK(peer_by_hex(&fx, PEER2) != NULL);
	CHECK(peer_by_hex(&fx, PEER3) == NULL);
	teardown(&fx);
}

static void test_long_line(void)
{
	struct fixture fx;
	char *in, *got;
	size_t n = WG_UAPI_LINE_MAX + 100;
	int ret;

	setup(&fx);
	in = malloc(n + 64);
	if (in == NULL)
		exit(1);
	/* Inside a set: the line fails, the set goes on to its end. */
	strcpy(in, "set=1\nlisten_port=");
	memset(in + strlen(in), '1', n);
	strcpy(in + strlen("set=1\nlisten_port=") + n, "\n\n");
	got = talk(&fx, in);
	CHECK(strcmp(got, "errno=-22\n\n") == 0);
	free(got);
	/* Exactly the maximum is still a line (and a bad number). */
	strcpy(in, "set=1\n");
	memset(in + 6, 'x', WG_UAPI_LINE_MAX);
	strcpy(in + 6 + WG_UAPI_LINE_MAX, "\n\n");
	got = talk(&fx, in);
	CHECK(strcmp(got, "errno=-71\n\n") == 0);
	free(got);
	/* Between operations: closed without an answer. */
	memset(in, 'g', n);
	in[n] = '\0';
	got = talk_chunked(&fx, in, 0, &ret);
	CHECK(ret == -EPROTO && got[0] == '\0');
	CHECK(wg_uapi_session_closed(&fx.s));
	free(got);
	free(in);
	teardown(&fx);
}

static void test_bad_operations(void)
{
	struct fixture fx;
	char *got;
	int ret;

	setup(&fx);
	got = talk_chunked(&fx, "bogus=1\n\n", 0, &ret);
	CHECK(ret == -EPROTO && got[0] == '\0' &&
	    wg_uapi_session_closed(&fx.s));
	free(got);
	/* Nothing more is read once closed. */
	got = talk(&fx, "get=1\n\n");
	CHECK(got[0] == '\0');
	free(got);
	teardown(&fx);

	CHECK(refused_alone("get=1\nx", "errno=-22\n\n"));
	CHECK(refused_alone("\n", ""));
}

/* ---------------------------------------------------------------- stats */

#define STATS_ZERO "rx_invalid=0\nrx_bad_mac=0\nrx_cookie_required=0\n" \
	"rx_ratelimited=0\nrx_queue_full=0\nrx_handshake_failed=0\n" \
	"rx_unknown_index=0\n" \
	"rx_decrypt_failed=0\nrx_replayed=0\nrx_bad_inner=0\n" \
	"tx_no_route=0\ntx_dropped=0\nerrno=0\n\n"

static void receive(struct fixture *fx, uint8_t type, size_t len)
{
	struct wg_endpoint from;
	uint8_t buf[256];

	memset(&from, 0, sizeof(from));
	from.addr.in4.sin_family = AF_INET;
	from.addr.in4.sin_port = htons(9);
	from.addr.in4.sin_addr.s_addr = htonl(0x7f000001);
	memset(buf, 0xa5, sizeof(buf));
	buf[0] = type;
	buf[1] = buf[2] = buf[3] = 0;
	wg_device_receive_datagram(fx->dev, &from, buf, len);
}

/* Every counter, by name, in order; only the ones hit change. */
static void test_stats(void)
{
	struct fixture fx;
	char *got;
	size_t i;

	setup(&fx);
	EXPECT(&fx, "stats=1\n\n", STATS_ZERO);
	EXPECT(&fx, "set=1\nprivate_key=" ALICE_PRIV "\n\n", "errno=0\n\n");
	receive(&fx, 1, 5);		/* a truncated initiation */
	receive(&fx, 9, 148);		/* no such type */
	receive(&fx, 1, 148);		/* right size, forged MAC1 */
	receive(&fx, 4, 32);		/* data for an index nobody has */
	got = talk(&fx, "stats=1\n\n");
	CHECK(strncmp(got, "rx_invalid=2\nrx_bad_mac=1\n", 26) == 0);
	CHECK(strstr(got, "\nrx_unknown_index=1\n") != NULL);
	CHECK(strstr(got, "\nrx_replayed=0\n") != NULL);
	CHECK(strlen(got) > 9 &&
	    strcmp(got + strlen(got) - 9, "errno=0\n\n") == 0);
	free(got);
	/* A field added to the struct must get a line. */
	for (i = 0; wg_uapi_stat_name(i); i++)
		;
	CHECK(i * sizeof(uint64_t) == sizeof(struct wg_device_stats));
	teardown(&fx);
}

/* stats beside get and set: framing as for get, and get's answer is the
 * same bytes whether or not stats was asked first. */
static void test_stats_framing(void)
{
	struct fixture a, b;
	char *x, *y;

	setup(&a);
	setup(&b);
	EXPECT(&a, "set=1\nprivate_key=" ALICE_PRIV "\npublic_key=" BOB_PUB
	    "\nallowed_ip=10.0.0.0/8\n\n", "errno=0\n\n");
	EXPECT(&b, "set=1\nprivate_key=" ALICE_PRIV "\npublic_key=" BOB_PUB
	    "\nallowed_ip=10.0.0.0/8\n\n", "errno=0\n\n");
	x = talk(&a, "get=1\n\n");
	y = talk_chunked(&b, "stats=1\n\nget=1\n\n", 1, NULL);
	CHECK(strncmp(y, STATS_ZERO, strlen(STATS_ZERO)) == 0);
	CHECK(strcmp(y + strlen(STATS_ZERO), x) == 0);
	free(x);
	free(y);
	teardown(&a);
	teardown(&b);

	CHECK(refused_alone("stats=1\nget=1\n\n", "errno=-22\n\n"));
	CHECK(refused_alone("stats=2\n\n", ""));
}

/* ---------------------------------------------------------------- framing */

/* The same session fed one byte at a time answers the same bytes. */
static void test_chunking(void)
{
	const char *in = "set=1\nprivate_key=" ALICE_PRIV "\npublic_key="
	    BOB_PUB "\nallowed_ip=10.0.0.0/8\n\nget=1\n\nset=1\nfoo=1\n\n";
	struct fixture a, b;
	char *x, *y;

	setup(&a);
	setup(&b);
	x = talk_chunked(&a, in, 0, NULL);
	y = talk_chunked(&b, in, 1, NULL);
	CHECK(strcmp(x, y) == 0);
	/* Two answers and a -EINVAL, in order. */
	CHECK(strncmp(x, "errno=0\n\nprivate_key=", 21) == 0);
	CHECK(strlen(x) > 11 &&
	    strcmp(x + strlen(x) - 11, "errno=-22\n\n") == 0);
	free(x);
	free(y);
	teardown(&a);
	teardown(&b);
}

static void test_crlf_and_eof(void)
{
	struct fixture fx;
	char *got;

	setup(&fx);
	/* bufio.ScanLines drops the '\r'. */
	EXPECT(&fx, "set=1\r\n", "");
	CHECK(wg_uapi_session_closed(&fx.s));	/* "set=1\r" is no op */
	teardown(&fx);

	setup(&fx);
	EXPECT(&fx, "set=1\nlisten_port=7\r\n\r\n", "errno=0\n\n");
	CHECK(fx.fake.port == 7);
	/* EOF ends a set: applied and answered, the last line too. */
	EXPECT(&fx, "set=1\npublic_key=" PEER2 "\nallowed_ip=10.0.0.0/8", "");
	wg_uapi_session_eof(&fx.s);
	got = talk(&fx, "");
	CHECK(strcmp(got, "errno=0\n\n") == 0);
	free(got);
	CHECK(peer_by_hex(&fx, PEER2) != NULL);
	CHECK(wg_uapi_session_closed(&fx.s));
	teardown(&fx);
}

/* A peer removed by another client while this one configures it. */
static void test_concurrent_removal(void)
{
	struct fixture fx;
	struct wg_uapi_session other;
	struct wg_uapi_ops uops;
	uint8_t key[WG_KEY_LEN];

	setup(&fx);
	uops = fx.s.ops;
	wg_uapi_session_init(&other, fx.dev, &uops);
	EXPECT(&fx, "set=1\npublic_key=" PEER2 "\n\n", "errno=0\n\n");
	EXPECT(&fx, "set=1\npublic_key=" PEER2 "\n", "");
	CHECK(wg_uapi_session_feed(&other,
	    (const uint8_t *)"set=1\nreplace_peers=true\n\n", 27) == 0);
	EXPECT(&fx, "allowed_ip=10.0.0.0/8\n\n", "errno=0\n\n");
	CHECK(peer_count(&fx) == 0);
	check_unhex(PEER2, key, sizeof(key));
	CHECK(wg_device_peer_lookup(fx.dev, key) == NULL);
	wg_uapi_session_clear(&other);
	teardown(&fx);
}

/* A monitor's session: the same answers without a secret, and no set. */
static void test_read_only(void)
{
	struct fixture fx;
	char *got;
	int ret;

	setup(&fx);
	EXPECT(&fx, "set=1\nprivate_key=" ALICE_PRIV "\n"
	    "public_key=" BOB_PUB "\npreshared_key=" PSK "\n"
	    "endpoint=192.0.2.1:51820\nallowed_ip=10.1.0.0/16\n\n",
	    "errno=0\n\n");
	fx.s.read_only = true;
	EXPECT(&fx, "get=1\n\n",
	    "listen_port=51820\n"
	    "public_key=" BOB_PUB "\n"
	    "protocol_version=1\n"
	    "endpoint=192.0.2.1:51820\n"
	    "last_handshake_time_sec=0\n"
	    "last_handshake_time_nsec=0\n"
	    "tx_bytes=0\n"
	    "rx_bytes=0\n"
	    "persistent_keepalive_interval=0\n"
	    "allowed_ip=10.1.0.0/16\n"
	    "errno=0\n\n");
	got = talk(&fx, "stats=1\n\n");
	CHECK(strncmp(got, "rx_invalid=0\n", 13) == 0 &&
	    strstr(got, "errno=0\n\n") != NULL);
	free(got);
	/* A set is refused before any of its lines is read. */
	got = talk_chunked(&fx, "set=1\nprivate_key=" ZERO_KEY "\n"
	    "public_key=" BOB_PUB "\nremove=true\n\n", 0, &ret);
	CHECK(strcmp(got, "errno=-1\n\n") == 0);
	CHECK(ret == -EPROTO && wg_uapi_session_closed(&fx.s));
	free(got);
	CHECK(peer_by_hex(&fx, BOB_PUB) != NULL);
	teardown(&fx);
	/* The full session still shows the key the refused set named. */
	setup(&fx);
	EXPECT(&fx, "set=1\nprivate_key=" ALICE_PRIV "\n\n", "errno=0\n\n");
	got = talk(&fx, "get=1\n\n");
	CHECK(strstr(got, "private_key=" ALICE_PRIV_CLAMPED "\n") != NULL);
	free(got);
	teardown(&fx);
}

int main(void)
{
	RUN(test_get_empty);
	RUN(test_private_key);
	RUN(test_device_keys);
	RUN(test_peer_all_keys);
	RUN(test_endpoints);
	RUN(test_replace_peers);
	RUN(test_remove);
	RUN(test_update_only);
	RUN(test_replace_allowed_ips);
	RUN(test_own_key_ignored);
	RUN(test_keepalive_sends);
	RUN(test_bad_inputs);
	RUN(test_partial_application);
	RUN(test_long_line);
	RUN(test_bad_operations);
	RUN(test_chunking);
	RUN(test_crlf_and_eof);
	RUN(test_concurrent_removal);
	RUN(test_stats);
	RUN(test_stats_framing);
	RUN(test_read_only);
	return check_summary();
}
