/* hostile_flood: the attacker of tests/sys_hostile.sh.  It sends hostile
 * UDP datagrams to a WireGuard port and reports, on one line of key=value
 * pairs, what it sent and what came back.  Test-only: it sends only to
 * the address it is given, from the addresses it is given, and the test
 * runs it inside network namespaces it created.
 *
 *	hostile_flood junk -t ADDR:PORT [-s SRC] [-n N] [-r PPS] [-d SECS]
 *	    [-k PUBKEY] [-S SEED]
 *		Random and malformed datagrams of every type and size 0 to
 *		65535: random bytes, right type bytes with wrong lengths,
 *		exact-size handshakes with forged MAC1, truncated handshakes
 *		(with a valid MAC1 when -k gives the responder's key), data
 *		packets for unknown indexes, nonzero reserved bytes.  Each is
 *		classified with the core's own wg_message_classify, so the
 *		report says which drop counter each should have raised:
 *		exp_invalid, exp_bad_mac, exp_unknown_index.
 *	hostile_flood handshake -t ADDR:PORT -k PUBKEY -s SRC -n N
 *	    [-r PPS | -A] [-d SECS] [-C]
 *		Handshake initiations with a correct MAC1 for PUBKEY (the
 *		core's cookie code, over our BLAKE2s) from N source addresses
 *		SRC, SRC+1, ...: they pass MAC1 and reach the under-load,
 *		cookie and rate-limit logic.  A cookie reply is decrypted and
 *		its cookie used as MAC2 from then on, as a real initiator
 *		would, so the per-source rate limit is hit too.  With -C
 *		the cookies are thrown away, as a spoofer who never sees the
 *		replies would: every initiation then costs the responder a
 *		cookie reply.  -A finds the rate: doubled from 4000 a
 *		second until the first cookie reply comes back.
 *	hostile_flood loworder -t ADDR:PORT -k PUBKEY -l LOWKEY [-s SRC]
 *	    [-c COUNT]
 *		Initiations claiming to come from the peer whose public key
 *		LOWKEY is a low-order point: the static-static DH with such
 *		a key is all zeros whatever the private key, so anyone can
 *		compute it; a responder that does not refuse it answers.
 *		COUNT of them (default 1), ten a second, each with a fresh
 *		timestamp.
 *	hostile_flood replay -t ADDR:PORT -f FILE [-s SRC] [-c COUNT]
 *		Sends FILE's bytes as one datagram COUNT times (default 1).
 *	hostile_flood listen -s ADDR:PORT -d SECS
 *		Counts the datagrams that arrive at ADDR:PORT.
 *	hostile_flood capture -i IFNAME -p PORT -o DIR [-d SECS]
 *		Sniffs IPv4 UDP to PORT on IFNAME (AF_PACKET) and saves the
 *		first handshake initiation as DIR/initiation.bin and the first
 *		data packet that is not a keepalive as DIR/data.bin; exits
 *		when it has both or after SECS (default 30).
 *
 * Keys are base64 (as wg prints them) or 64 hex digits.  PPS 0 (the
 * default) means as fast as possible.  Every mode prints its report and
 * exits 0, or 1 on a usage or setup error; what the target did is for the
 * caller to judge. */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cookie.h"
#include "crypto/encoding.h"
#include "crypto/primitives.h"
#include "crypto/tai64n.h"
#include "messages.h"
#include "noise.h"

enum {
	MAX_SOURCES = 1024,
	MAX_DATAGRAM = 65535,
	MAX_UDP4_PAYLOAD = 65507,	/* 65535 - IPv4 header - UDP header */
	BURST = 64,			/* datagrams between two polls */
	MAC1_RING = 256,		/* recent mac1s kept per source */
	INDEX_BASE = 0x48000000,	/* sender index: base, source, seq */
	AUTO_START = 4000,		/* -A: first rate, doubled */
	AUTO_MAX = 1 << 20,
};

_Static_assert(MAX_SOURCES * MAC1_RING <= 0x1000000, "sender index");

static const uint64_t nsec_per_sec = 1000000000ull;

struct source {
	int fd;
	struct wg_cookie cookie;	/* handshake modes */
	/* The mac1 of the initiation with sequence number seq, at
	 * seq % MAC1_RING: a cookie reply names it by our sender index. */
	uint8_t mac1[MAC1_RING][WG_MAC_LEN];
	unsigned seq;
};

struct opts {
	const char *mode;
	struct sockaddr_in target;
	bool have_target;
	struct sockaddr_in src;		/* first source; port 0 = any */
	unsigned nsrc;
	uint64_t rate;			/* datagrams per second, 0 = max */
	bool auto_rate;			/* -A */
	uint64_t seconds;		/* -d */
	uint64_t seed;
	uint8_t key[WG_KEY_LEN], lowkey[WG_KEY_LEN];
	bool have_key, have_lowkey;
	const char *file, *ifname, *outdir;
	unsigned count;
	uint16_t port;
};

struct report {
	uint64_t sent, send_errors, too_big;
	uint64_t exp_invalid, exp_bad_mac, exp_unknown_index;
	uint64_t received, recv_bytes, by_type[5];
	uint64_t cookies_ok, cookies_bad;
};

static struct source sources[MAX_SOURCES];
static unsigned nsources;
static int epfd = -1;
static uint64_t rng_state;
static bool use_cookies = true;	/* false with -C */
static uint8_t buf[MAX_DATAGRAM];

/* ---------------------------------------------------------------- helpers */

static void usage(void)
{
	fprintf(stderr,
	    "usage: hostile_flood junk -t ADDR:PORT [-s SRC] [-n N] [-r PPS] "
	    "[-d SECS] [-k KEY] [-S SEED]\n"
	    "       hostile_flood handshake -t ADDR:PORT -k KEY -s SRC -n N "
	    "[-r PPS | -A] [-d SECS] [-C]\n"
	    "       hostile_flood loworder -t ADDR:PORT -k KEY -l LOWKEY "
	    "[-s SRC] [-c COUNT]\n"
	    "       hostile_flood replay -t ADDR:PORT -f FILE [-s SRC] "
	    "[-c COUNT]\n"
	    "       hostile_flood listen -s ADDR:PORT -d SECS\n"
	    "       hostile_flood capture -i IFNAME -p PORT -o DIR "
	    "[-d SECS]\n");
	exit(1);
}

static void die(const char *what)
{
	fprintf(stderr, "hostile_flood: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * nsec_per_sec + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: fast and seedable, so a failing run can be repeated.  Not
 * for secrets: nothing here is one. */
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static void rnd_fill(uint8_t *p, size_t len)
{
	uint64_t r;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		r = rnd();
		memcpy(p + i, &r, 8);
	}
	r = rnd();
	if (i < len)
		memcpy(p + i, &r, len - i);
}

/* "a.b.c.d:port" or, with port_optional, "a.b.c.d". */
static bool parse_addr(const char *text, struct sockaddr_in *sin,
    bool port_optional)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strchr(text, ':');
	size_t hlen = colon ? (size_t)(colon - text) : strlen(text);
	char *end;
	unsigned long port = 0;

	if (hlen >= sizeof(host) || (colon == NULL && !port_optional))
		return false;
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return false;
	if (colon) {
		errno = 0;
		port = strtoul(colon + 1, &end, 10);
		if (errno || *end || end == colon + 1 || port > 65535)
			return false;
	}
	sin->sin_port = htons((uint16_t)port);
	return true;
}

static bool parse_key(const char *text, uint8_t key[static WG_KEY_LEN])
{
	size_t len = strlen(text);

	if (len == WG_KEY_HEX_LEN) {
		for (size_t i = 0; i < WG_KEY_LEN; i++) {
			unsigned v;

			if (sscanf(text + 2 * i, "%2x", &v) != 1)
				return false;
			key[i] = (uint8_t)v;
		}
		return true;
	}
	return wg_key_from_base64(key, text, len);
}

static uint64_t parse_number(const char *text, uint64_t max)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(text, &end, 10);
	if (errno || *end || end == text || n > max)
		usage();
	return n;
}

/* ---------------------------------------------------------------- sockets */

static void open_sources(const struct opts *o)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct sockaddr_in sin = o->src;
	int buffer = 4 << 20;
	unsigned i;

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1");
	for (i = 0; i < o->nsrc; i++) {
		struct source *s = &sources[i];

		s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (s->fd < 0)
			die("socket");
		setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &buffer,
		    sizeof(buffer));
		setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &buffer,
		    sizeof(buffer));
		sin.sin_addr.s_addr = htonl(ntohl(o->src.sin_addr.s_addr) + i);
		if (bind(s->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
			char a[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &sin.sin_addr, a, sizeof(a));
			fprintf(stderr, "hostile_flood: bind %s: %s\n", a,
			    strerror(errno));
			exit(1);
		}
		if (o->have_key)
			wg_cookie_init(&s->cookie, o->key);
		ev.data.u32 = i;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0)
			die("epoll_ctl");
	}
	nsources = o->nsrc;
}

/* A cookie reply for source s: its cookie is the MAC2 key of the next
 * initiations.  It answers one of the last MAC1_RING initiations we sent
 * (the queue in front of the responder may hold many): the one whose
 * sender index it carries, whose mac1 is its associated data. */
static void take_cookie(struct source *s, const uint8_t *p, size_t len,
    struct report *r)
{
	struct wg_msg_cookie_reply reply;
	uint32_t index;

	if (len != sizeof(reply))
		return;
	memcpy(&reply, p, sizeof(reply));
	index = le32toh(reply.receiver_index);
	memcpy(s->cookie.last_mac1_sent, s->mac1[index % MAC1_RING],
	    WG_MAC_LEN);
	s->cookie.have_sent_mac1 = true;
	if (wg_cookie_consume_reply(&s->cookie, &reply, now_ns()))
		r->cookies_ok++;
	else
		r->cookies_bad++;
}

static void receive_from(unsigned i, struct report *r)
{
	struct source *s = &sources[i];
	ssize_t n;

	for (;;) {
		n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return;
		r->received++;
		r->recv_bytes += (uint64_t)n;
		if (n >= 4 && buf[0] >= 1 && buf[0] <= 4)
			r->by_type[buf[0]]++;
		else
			r->by_type[0]++;
		if (n >= 4 && buf[0] == WG_MSG_COOKIE_REPLY && s->seq > 0 &&
		    use_cookies)
			take_cookie(s, buf, (size_t)n, r);
	}
}

/* Reads whatever arrived, waiting up to timeout_ms for something. */
static void poll_replies(int timeout_ms, struct report *r)
{
	struct epoll_event ev[64];
	int n, k;

	n = epoll_wait(epfd, ev, 64, timeout_ms);
	for (k = 0; k < n; k++)
		receive_from(ev[k].data.u32, r);
}

/* True when the datagram left. */
static bool send_from(struct source *s, const struct opts *o,
    const uint8_t *p, size_t len, struct report *r)
{
	ssize_t n;

	do {
		n = sendto(s->fd, p, len, 0, (const struct sockaddr *)&o->target,
		    sizeof(o->target));
	} while (n < 0 && errno == EINTR);
	if (n >= 0) {
		r->sent++;
		return true;
	}
	if (errno == EMSGSIZE)
		r->too_big++;	/* over IPv4's 65507: the kernel refuses */
	else
		r->send_errors++;	/* ENOBUFS, EAGAIN: our queue is full */
	return false;
}

/* ---------------------------------------------------------------- messages */

/* A handshake initiation from source s with a correct mac1 (and mac2 once
 * s holds a cookie); everything else random.  Remembers the mac1. */
static void make_initiation(struct source *s, unsigned index, uint8_t *out)
{
	struct wg_msg_initiation msg;

	unsigned slot = s->seq++ % MAC1_RING;

	rnd_fill((uint8_t *)&msg, sizeof(msg));
	msg.header.type = htole32(WG_MSG_INITIATION);
	/* MAX_SOURCES * MAC1_RING fits below the base's byte. */
	msg.sender_index = htole32(INDEX_BASE + index * MAC1_RING + slot);
	wg_cookie_add_macs(&s->cookie, &msg, sizeof(msg), now_ns());
	memcpy(s->mac1[slot], msg.macs.mac1, WG_MAC_LEN);
	memcpy(out, &msg, sizeof(msg));
}

/* A handshake message's exact size, a data message's smallest. */
static size_t exact_len(uint8_t type)
{
	size_t len = wg_message_handshake_len(type);

	return len ? len : WG_DATA_MIN_LEN;
}

static void header(uint8_t *p, uint8_t type)
{
	p[0] = type;
	p[1] = p[2] = p[3] = 0;
}

/* One junk datagram in buf; returns its length.  The kinds are weighted
 * towards the cheap ones: a 64 KiB datagram is 45 IP fragments. */
static size_t make_junk(const struct opts *o, struct source *s, unsigned i)
{
	uint8_t type = (uint8_t)(1 + rnd_below(4));
	size_t len, exact = exact_len(type);

	switch (rnd_below(16)) {
	case 0:		/* anything, any size */
		len = (size_t)rnd_below(MAX_DATAGRAM + 1);
		rnd_fill(buf, len);
		return len;
	case 1:		/* nothing at all, or less than a header */
		len = (size_t)rnd_below(4);
		rnd_fill(buf, len);
		return len;
	case 2:
	case 3:		/* the right type byte, the wrong length */
		do {
			len = type == WG_MSG_DATA ? 4 + rnd_below(28) :
			    rnd_below(4) ? exact + rnd_below(3) - 1 :
			    4 + rnd_below(1500);
		} while (type != WG_MSG_DATA && len == exact);
		rnd_fill(buf, len);
		header(buf, type);
		return len;
	case 4:
	case 5:
	case 6:		/* a valid-looking handshake with a forged mac1 */
		type = (uint8_t)(1 + rnd_below(2));
		len = exact_len(type);
		rnd_fill(buf, len);
		header(buf, type);
		return len;
	case 7:		/* a cookie reply nobody asked for */
		len = sizeof(struct wg_msg_cookie_reply);
		rnd_fill(buf, len);
		header(buf, WG_MSG_COOKIE_REPLY);
		return len;
	case 8:
	case 9:		/* a truncated initiation (valid mac1 with -k) */
		if (o->have_key)
			make_initiation(s, i, buf);
		else {
			rnd_fill(buf, sizeof(struct wg_msg_initiation));
			header(buf, WG_MSG_INITIATION);
		}
		return (size_t)rnd_below(sizeof(struct wg_msg_initiation));
	case 10:
	case 11:
	case 12:	/* data for an index nobody has */
		len = WG_DATA_MIN_LEN + (size_t)rnd_below(1500);
		rnd_fill(buf, len);
		header(buf, WG_MSG_DATA);
		return len;
	case 13:	/* a right length, nonzero reserved bytes */
		rnd_fill(buf, exact);
		header(buf, type);
		buf[1 + rnd_below(3)] |= (uint8_t)(1 + rnd_below(255));
		return exact;
	default:	/* no such type */
		len = 4 + (size_t)rnd_below(200);
		rnd_fill(buf, len);
		buf[0] = (uint8_t)(rnd_below(2) ? 0 : 5 + rnd_below(251));
		return len;
	}
}

/* Which drop counter of the target a junk datagram should raise. */
static void expect(const uint8_t *p, size_t len, struct report *r)
{
	switch (wg_message_classify(p, len, NULL)) {
	case WG_MSG_INITIATION:
	case WG_MSG_RESPONSE:
		r->exp_bad_mac++;
		break;
	case WG_MSG_COOKIE_REPLY:
	case WG_MSG_DATA:
		r->exp_unknown_index++;
		break;
	default:
		r->exp_invalid++;
		break;
	}
}

/* A Noise IKpsk2 initiation from the peer whose public key is the
 * low-order point lowkey: ss = DH(s_i, S_r) = DH(S_r priv, lowkey) is all
 * zeros, so it is built without any private static key.  mac1 is correct.
 * Returns false when a step failed (never expected). */
static bool make_loworder_initiation(const struct opts *o, struct source *s,
    struct wg_msg_initiation *msg)
{
	uint8_t e[WG_KEY_LEN], body[WG_NOISE_MSG1_OVERHEAD + WG_TAI64N_LEN];
	uint8_t zeros[WG_KEY_LEN] = { 0 }, ts[WG_TAI64N_LEN];
	struct wg_noise_symmetric sym;
	struct timespec wall;
	bool ok;

	wg_random_bytes(e, sizeof(e));
	wg_x25519_clamp(e);
	clock_gettime(CLOCK_REALTIME, &wall);
	wg_tai64n_encode(ts, (uint64_t)wall.tv_sec, (uint32_t)wall.tv_nsec);
	wg_noise_ikpsk2_init(&sym, wg_noise_construction,
	    (const uint8_t *)wg_noise_identifier, strlen(wg_noise_identifier),
	    o->key);
	/* e */
	wg_x25519_public_from_private(body, e);
	wg_noise_mix_hash(&sym, body, WG_KEY_LEN);
	wg_noise_mix_key(&sym, body, WG_KEY_LEN);
	/* es */
	ok = wg_noise_mix_dh(&sym, e, o->key);
	/* s */
	ok = ok && wg_noise_encrypt_and_hash(&sym, body + WG_KEY_LEN,
	    o->lowkey, WG_KEY_LEN);
	/* ss: the all-zero DH an honest initiator refuses to mix */
	wg_noise_mix_key(&sym, zeros, sizeof(zeros));
	/* {t} */
	ok = ok && wg_noise_encrypt_and_hash(&sym, body + WG_NOISE_MSG1_HEAD,
	    ts, sizeof(ts));
	memset(msg, 0, sizeof(*msg));
	msg->header.type = htole32(WG_MSG_INITIATION);
	msg->sender_index = htole32((uint32_t)rnd());
	memcpy(msg->unencrypted_ephemeral, body, WG_KEY_LEN);
	memcpy(msg->encrypted_static, body + WG_KEY_LEN,
	    sizeof(msg->encrypted_static));
	memcpy(msg->encrypted_timestamp, body + WG_NOISE_MSG1_HEAD,
	    sizeof(msg->encrypted_timestamp));
	wg_cookie_add_macs(&s->cookie, msg, sizeof(*msg), now_ns());
	wg_noise_symmetric_clear(&sym);
	wg_wipe(e, sizeof(e));
	return ok;
}

/* ---------------------------------------------------------------- modes */

static void print_report(const char *mode, const struct report *r)
{
	printf("mode=%s sent=%llu send_errors=%llu too_big=%llu "
	    "exp_invalid=%llu exp_bad_mac=%llu exp_unknown_index=%llu "
	    "received=%llu recv_other=%llu recv_initiation=%llu "
	    "recv_response=%llu recv_cookie=%llu recv_data=%llu "
	    "cookies_ok=%llu cookies_bad=%llu\n", mode,
	    (unsigned long long)r->sent, (unsigned long long)r->send_errors,
	    (unsigned long long)r->too_big,
	    (unsigned long long)r->exp_invalid,
	    (unsigned long long)r->exp_bad_mac,
	    (unsigned long long)r->exp_unknown_index,
	    (unsigned long long)r->received,
	    (unsigned long long)r->by_type[0],
	    (unsigned long long)r->by_type[1],
	    (unsigned long long)r->by_type[2],
	    (unsigned long long)r->by_type[3],
	    (unsigned long long)r->by_type[4],
	    (unsigned long long)r->cookies_ok,
	    (unsigned long long)r->cookies_bad);
}

/* junk and handshake: paced sending from every source in turn.  With -A
 * (handshake) the rate starts at AUTO_START and doubles every half second
 * until the first cookie reply shows that the target is under load, then
 * stays: the lowest such rate, so the target is under load but not
 * swamped (a cookie reply costs it far less than the DH it stopped
 * doing). */
static void flood(const struct opts *o, bool handshake)
{
	struct report r = { 0 };
	uint64_t now, due, attempts = 0, rate = o->rate;
	uint64_t start = now_ns(), phase = start;
	uint64_t end = start + o->seconds * nsec_per_sec;
	unsigned next = 0, k;
	size_t len;

	if (o->auto_rate)
		rate = AUTO_START;
	open_sources(o);
	while ((now = now_ns()) < end) {
		if (o->auto_rate && r.by_type[WG_MSG_COOKIE_REPLY] == 0 &&
		    now - phase >= nsec_per_sec / 2 && rate < AUTO_MAX) {
			rate *= 2;
			phase = now;
			attempts = 0;
		}
		due = rate ? (now - phase) / 1000 * rate / 1000000 - attempts :
		    BURST;
		if (due > BURST)
			due = BURST;
		for (k = 0; k < due; k++) {
			struct source *s = &sources[next];

			if (handshake) {
				make_initiation(s, next, buf);
				len = sizeof(struct wg_msg_initiation);
			} else
				len = make_junk(o, s, next);
			if (send_from(s, o, buf, len, &r) && !handshake)
				expect(buf, len, &r);
			attempts++;
			next = (next + 1) % nsources;
		}
		poll_replies(due ? 0 : 1, &r);
	}
	/* Late replies: cookie replies to the last of the queue. */
	for (k = 0; k < 5; k++)
		poll_replies(100, &r);
	print_report(o->mode, &r);
	printf("rate=%llu\n", (unsigned long long)rate);
}

static void loworder(const struct opts *o)
{
	struct wg_msg_initiation msg;
	struct report r = { 0 };
	unsigned k;

	open_sources(o);
	for (k = 0; k < o->count; k++) {
		if (!make_loworder_initiation(o, &sources[0], &msg)) {
			fprintf(stderr, "hostile_flood: building the "
			    "initiation failed\n");
			exit(1);
		}
		send_from(&sources[0], o, (const uint8_t *)&msg, sizeof(msg),
		    &r);
		/* 100 ms apart: more than the 20 ms a responder waits
		 * between two initiations of one peer. */
		poll_replies(100, &r);
	}
	poll_replies(300, &r);
	print_report(o->mode, &r);
}

static void replay(const struct opts *o)
{
	struct report r = { 0 };
	unsigned k;
	ssize_t len;
	int fd;

	fd = open(o->file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(o->file);
	len = read(fd, buf, sizeof(buf));
	if (len < 0)
		die(o->file);
	close(fd);
	open_sources(o);
	for (k = 0; k < o->count; k++) {
		send_from(&sources[0], o, buf, (size_t)len, &r);
		poll_replies(20, &r);
	}
	poll_replies(300, &r);
	print_report(o->mode, &r);
}

static void listen_mode(const struct opts *o)
{
	struct report r = { 0 };
	uint64_t end = now_ns() + o->seconds * nsec_per_sec;

	open_sources(o);
	while (now_ns() < end)
		poll_replies(100, &r);
	print_report(o->mode, &r);
}

static bool save(const char *dir, const char *name, const uint8_t *p,
    size_t len)
{
	char path[PATH_MAX];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL)
		return false;
	ok = fwrite(p, 1, len, f) == len;
	return fclose(f) == 0 && ok;
}

/* The UDP payload of an IPv4 datagram to port, or NULL. */
static const uint8_t *udp_payload(const uint8_t *p, size_t len,
    uint16_t port, size_t *plen)
{
	struct iphdr ip;
	struct udphdr udp;
	size_t ihl;

	if (len < sizeof(ip))
		return NULL;
	memcpy(&ip, p, sizeof(ip));
	ihl = (size_t)ip.ihl * 4;
	if (ip.version != 4 || ip.protocol != IPPROTO_UDP || ihl < 20 ||
	    len < ihl + sizeof(udp) ||
	    (ntohs(ip.frag_off) & (IP_MF | IP_OFFMASK)))
		return NULL;
	memcpy(&udp, p + ihl, sizeof(udp));
	if (ntohs(udp.dest) != port || ntohs(udp.len) < sizeof(udp) ||
	    ntohs(udp.len) > len - ihl)
		return NULL;
	*plen = ntohs(udp.len) - sizeof(udp);
	return p + ihl + sizeof(udp);
}

static void capture(const struct opts *o)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
	    .sll_protocol = htons(ETH_P_IP) };
	uint64_t end = now_ns() + o->seconds * nsec_per_sec;
	bool have_init = false, have_data = false;
	struct timeval tv = { .tv_usec = 100000 };
	const uint8_t *p;
	size_t plen;
	ssize_t n;
	int fd;

	sll.sll_ifindex = (int)if_nametoindex(o->ifname);
	if (sll.sll_ifindex == 0)
		die(o->ifname);
	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_IP));
	if (fd < 0)
		die("socket(AF_PACKET)");
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		die("bind(AF_PACKET)");
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* Ready: the caller may start the traffic now. */
	printf("capturing\n");
	fflush(stdout);
	while ((!have_init || !have_data) && now_ns() < end) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			continue;
		p = udp_payload(buf, (size_t)n, o->port, &plen);
		if (p == NULL)
			continue;
		if (!have_init && wg_message_classify(p, plen, NULL) ==
		    WG_MSG_INITIATION)
			have_init = save(o->outdir, "initiation.bin", p, plen);
		else if (!have_data && wg_message_classify(p, plen, NULL) ==
		    WG_MSG_DATA && plen > WG_DATA_MIN_LEN)
			have_data = save(o->outdir, "data.bin", p, plen);
	}
	close(fd);
	printf("mode=capture initiation=%d data=%d\n", have_init, have_data);
}

/* ---------------------------------------------------------------- main */

static void parse_options(int argc, char **argv, struct opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->mode = argv[1];
	o->nsrc = 1;
	o->seconds = 5;
	o->count = 1;
	o->seed = 1;
	o->src.sin_family = AF_INET;
	optind = 2;
	while ((c = getopt(argc, argv, "t:s:n:r:d:k:l:S:f:c:i:p:o:CA")) != -1) {
		switch (c) {
		case 't':
			if (!parse_addr(optarg, &o->target, false))
				usage();
			o->have_target = true;
			break;
		case 's':
			if (!parse_addr(optarg, &o->src, true))
				usage();
			break;
		case 'n':
			o->nsrc = (unsigned)parse_number(optarg, MAX_SOURCES);
			break;
		case 'r':
			o->rate = parse_number(optarg, 10000000);
			break;
		case 'd':
			o->seconds = parse_number(optarg, 3600);
			break;
		case 'k':
			if (!parse_key(optarg, o->key))
				usage();
			o->have_key = true;
			break;
		case 'l':
			if (!parse_key(optarg, o->lowkey))
				usage();
			o->have_lowkey = true;
			break;
		case 'S':
			o->seed = parse_number(optarg, UINT64_MAX);
			break;
		case 'f':
			o->file = optarg;
			break;
		case 'c':
			o->count = (unsigned)parse_number(optarg, 1000000);
			break;
		case 'i':
			o->ifname = optarg;
			break;
		case 'p':
			o->port = (uint16_t)parse_number(optarg, 65535);
			break;
		case 'o':
			o->outdir = optarg;
			break;
		case 'C':
			use_cookies = false;
			break;
		case 'A':
			o->auto_rate = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || o->nsrc == 0)
		usage();
	rng_state = o->seed ? o->seed : 1;
}

int main(int argc, char **argv)
{
	struct opts o;

	if (argc < 2)
		usage();
	parse_options(argc, argv, &o);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(o.mode, "junk") == 0 && o.have_target)
		flood(&o, false);
	else if (strcmp(o.mode, "handshake") == 0 && o.have_target &&
	    o.have_key)
		flood(&o, true);
	else if (strcmp(o.mode, "loworder") == 0 && o.have_target &&
	    o.have_key && o.have_lowkey)
		loworder(&o);
	else if (strcmp(o.mode, "replay") == 0 && o.have_target && o.file)
		replay(&o);
	else if (strcmp(o.mode, "listen") == 0 && o.src.sin_port)
		listen_mode(&o);
	else if (strcmp(o.mode, "capture") == 0 && o.ifname && o.port &&
	    o.outdir)
		capture(&o);
	else
		usage();
	return 0;
}
