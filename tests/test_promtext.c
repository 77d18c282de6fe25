/* `wgu stats --prometheus`'s text (src/cli/promtext.h) from fixed daemon
 * answers: the exact lines for a peer with a handshake, none for one that
 * never had one, escaping of label values, answers with lines it does not
 * know. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "cli/promtext.h"

/* Keys 0x01.. and 0x02..: their base64 is what wg show prints. */
#define KEY1 "0101010101010101010101010101010101010101010101010101010101010101"
#define KEY2 "0202020202020202020202020202020202020202020202020202020202020202"
#define B64_1 "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
#define B64_2 "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="

static const char get_reply[] =
    "private_key=" KEY2 "\n"
    "listen_port=51820\n"
    "public_key=" KEY1 "\n"
    "endpoint=192.0.2.1:51820\n"
    "last_handshake_time_sec=1796644800\n"
    "last_handshake_time_nsec=250000000\n"
    "tx_bytes=1234\n"
    "rx_bytes=5678\n"
    "allowed_ip=10.0.0.2/32\n"
    "public_key=" KEY2 "\n"
    "last_handshake_time_sec=0\n"
    "last_handshake_time_nsec=0\n"
    "tx_bytes=148\n"
    "rx_bytes=0\n"
    "errno=0\n"
    "\n";

static const char stats_reply[] =
    "rx_invalid=3\n"
    "tx_dropped=18446744073709551615\n"
    "errno=0\n"
    "\n";

/* 1796644810.500 s: 10.25 s after KEY1's handshake. */
static const uint64_t now_ns = 1796644810500000000ull;

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
		p += n;
	}
	return false;
}

static size_t count(const char *text, const char *needle)
{
	size_t n = 0;

	for (; (text = strstr(text, needle)) != NULL; text++)
		n++;
	return n;
}

static void test_samples(void)
{
	static const char *const want[] = {
		"# TYPE wgu_peers gauge",
		"wgu_peers{interface=\"wg0\"} 2",
		"# TYPE wgu_peer_last_handshake_age_seconds gauge",
		"wgu_peer_last_handshake_age_seconds{interface=\"wg0\","
		    "peer=\"" B64_1 "\"} 10.250",
		"wgu_peer_last_handshake_timestamp_seconds{interface=\"wg0\","
		    "peer=\"" B64_1 "\"} 1796644800.250",
		"# TYPE wgu_peer_receive_bytes_total counter",
		"wgu_peer_receive_bytes_total{interface=\"wg0\",peer=\""
		    B64_1 "\"} 5678",
		"wgu_peer_transmit_bytes_total{interface=\"wg0\",peer=\""
		    B64_1 "\"} 1234",
		"wgu_peer_receive_bytes_total{interface=\"wg0\",peer=\""
		    B64_2 "\"} 0",
		"wgu_peer_transmit_bytes_total{interface=\"wg0\",peer=\""
		    B64_2 "\"} 148",
		"# TYPE wgu_drops_total counter",
		"wgu_drops_total{interface=\"wg0\",reason=\"rx_invalid\"} 3",
		"wgu_drops_total{interface=\"wg0\",reason=\"tx_dropped\"} "
		    "18446744073709551615",
	};
	struct wg_buf out = { 0 };
	size_t i;

	wg_promtext_format(&out, "wg0", get_reply, stats_reply, now_ns);
	CHECK(!out.failed && out.s != NULL);
	if (out.s == NULL)
		return;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!has_line(out.s, want[i]))
			CHECK_FAIL("missing line: %s\n%s", want[i], out.s);
	/* KEY2 never handshook: no sample in either handshake family. */
	CHECK(count(out.s, "handshake_age_seconds{") == 1);
	CHECK(count(out.s, "handshake_timestamp_seconds{") == 1);
	/* Neither the private key nor errno gets out. */
	CHECK(strstr(out.s, KEY2) == NULL);
	CHECK(strstr(out.s, "errno") == NULL);
	/* One HELP and one TYPE per family, six families. */
	CHECK(count(out.s, "# HELP ") == 6 && count(out.s, "# TYPE ") == 6);
	wg_buf_free(&out);
}

/* A clock set back before the handshake: age 0, never negative. */
static void test_clock_behind(void)
{
	struct wg_buf out = { 0 };

	wg_promtext_format(&out, "wg0", get_reply, stats_reply,
	    1796644700000000000ull);
	CHECK(out.s != NULL && has_line(out.s,
	    "wgu_peer_last_handshake_age_seconds{interface=\"wg0\",peer=\""
	    B64_1 "\"} 0.000"));
	wg_buf_free(&out);
}

/* No peers, an empty stats answer: the families' headers, wgu_peers 0. */
static void test_empty(void)
{
	struct wg_buf out = { 0 };

	wg_promtext_format(&out, "wg1", "listen_port=1\nerrno=0\n\n",
	    "errno=0\n\n", now_ns);
	CHECK(out.s != NULL && has_line(out.s, "wgu_peers{interface=\"wg1\"} 0"));
	CHECK(out.s != NULL && count(out.s, "{") == 1);
	wg_buf_free(&out);
}

/* A peer whose key is not 64 hex digits is left out, and so are lines
 * without '=' or with a name too long to be a counter. */
static void test_odd_lines(void)
{
	struct wg_buf out = { 0 };

	wg_promtext_format(&out, "wg0",
	    "public_key=zz\nrx_bytes=1\npublic_key=" KEY1 "\nrx_bytes=x9\n\n",
	    "junk\n=5\nrx_invalid=12abc\n"
	    "a_name_longer_than_sixty_four_characters_is_not_a_counter_name_x=1"
	    "\n\n", now_ns);
	CHECK(out.s != NULL && has_line(out.s, "wgu_peers{interface=\"wg0\"} 1"));
	CHECK(out.s != NULL && has_line(out.s,
	    "wgu_peer_receive_bytes_total{interface=\"wg0\",peer=\"" B64_1
	    "\"} 0"));
	CHECK(out.s != NULL && has_line(out.s,
	    "wgu_drops_total{interface=\"wg0\",reason=\"rx_invalid\"} 0"));
	CHECK(out.s != NULL && count(out.s, "wgu_drops_total{") == 1);
	wg_buf_free(&out);
}

static void test_label_escaping(void)
{
	static const struct {
		const char *in, *out;
	} rows[] = {
		{ "wg0", "wg0" },
		{ "", "" },
		{ "a\"b", "a\\\"b" },
		{ "a\\b", "a\\\\b" },
		{ "a\nb", "a\\nb" },
		{ "\"\\\n", "\\\"\\\\\\n" },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct wg_buf out = { 0 };

		wg_promtext_label(&out, rows[i].in);
		if (strcmp(out.s ? out.s : "", rows[i].out) != 0)
			CHECK_FAIL("row %zu: got \"%s\"", i, out.s ? out.s : "");
		wg_buf_free(&out);
	}
}

int main(void)
{
	RUN(test_samples);
	RUN(test_clock_behind);
	RUN(test_empty);
	RUN(test_odd_lines);
	RUN(test_label_escaping);
	return check_summary();
}
