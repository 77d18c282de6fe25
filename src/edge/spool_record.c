/* The spool's record format: parsing, sealing (see spool_record.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edge/spool_record.h"

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32()): it catches the cut or
 * merged records a short write leaves, and flipped bits. */
static uint32_t crc32_update(uint32_t crc, const char *p, size_t len)
{
	static uint32_t table[256];
	uint32_t c;
	int i, k;

	if (table[1] == 0) {
		for (i = 0; i < 256; i++) {
			c = (uint32_t)i;
			for (k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	}
	crc = ~crc;
	while (len-- > 0)
		crc = table[(crc ^ (uint8_t)*p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

size_t spool_record_seal(char *rec, size_t n)
{
	snprintf(rec + n, SPOOL_RECORD_TRAILER_LEN + 1, " %08" PRIx32 "\n",
	    crc32_update(0, rec, n));
	return n + SPOOL_RECORD_TRAILER_LEN;
}

/* Whether [p, nl) is " <8 hex digits>" and the CRC of [line, p). */
static bool sealed(const char *line, const char *p, const char *nl)
{
	uint32_t want = 0;
	int i;

	if (nl - p != SPOOL_RECORD_TRAILER_LEN - 1 || *p != ' ')
		return false;
	for (i = 1; i < SPOOL_RECORD_TRAILER_LEN - 1; i++) {
		int c = p[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return false;
		want = want << 4 | (uint32_t)d;
	}
	return crc32_update(0, line, (size_t)(p - line)) == want;
}

static bool parse_u64(const char **p, const char *end, uint64_t *v)
{
	const char *q = *p;

	*v = 0;
	if (q >= end || *q < '0' || *q > '9')
		return false;
	while (q < end && *q >= '0' && *q <= '9') {
		if (*v > (UINT64_MAX - 9) / 10)
			return false;
		*v = *v * 10 + (uint64_t)(*q - '0');
		q++;
	}
	*p = q;
	return true;
}

/* Parses "<u64> <u64>" at *p, advancing past it. */
static bool parse_key(const char **p, const char *end, uint64_t *b,
    uint64_t *s)
{
	if (!parse_u64(p, end, b) || *p >= end || **p != ' ')
		return false;
	++*p;
	return parse_u64(p, end, s) && *b >= 1 && *s >= 1;
}

/* A record of the format before checksums carries its JSON object bare:
 * it must close the brace it opens exactly at its end, which a record
 * merged with a cut one does not (unless the cut fell inside a string). */
static bool balanced(const char *p, const char *end)
{
	bool str = false;
	int depth = 0;

	for (; p < end; p++) {
		if (str) {
			if (*p == '\\' && p + 1 < end)
				p++;
			else if (*p == '"')
				str = false;
		} else if (*p == '"') {
			str = true;
		} else if (*p == '{') {
			depth++;
		} else if (*p == '}' && --depth <= 0) {
			return depth == 0 && p + 1 == end;
		}
	}
	return false;
}

/* Finds the payload of an R record after "R <boot> <seq> ": [*pay, *end).
 * Sealed: "<len> <payload> <crc>"; old format: "<payload>", read only
 * before the first sealed record (the first open rewrites it sealed). */
static bool record_payload(const char *line, const char *p, const char *nl,
    bool *sealed_seen, const char **pay, const char **end)
{
	uint64_t len;

	if (p < nl && *p == '{' && !*sealed_seen) {
		*pay = p;
		*end = nl;
		return balanced(p, nl);
	}
	if (!parse_u64(&p, nl, &len) || p >= nl || *p != ' ' || len == 0 ||
	    len > SPOOL_RECORD_MAX || (uint64_t)(nl - p - 1) != len + SPOOL_RECORD_TRAILER_LEN - 1)
		return false;
	*pay = p + 1;
	*end = *pay + len;
	if (!sealed(line, *end, nl))
		return false;
	*sealed_seen = true;
	return true;
}

/* Starts an R record, "R <boot> <seq> <len> ", in *bufp, grown to hold
 * the payload and the seal after it.  Returns the header's length or
 * -ENOMEM. */
int spool_record_head(char **bufp, size_t *capp, uint64_t boot_id,
    uint64_t seq, size_t len)
{
	char head[SPOOL_RECORD_HEADER_MAX];
	int n;

	n = snprintf(head, sizeof(head), "R %" PRIu64 " %" PRIu64 " %zu ",
	    boot_id, seq, len);
	if (*capp < (size_t)n + len + SPOOL_RECORD_TRAILER_LEN + 1) {
		size_t cap = (size_t)n + len + SPOOL_RECORD_TRAILER_LEN + 1;
		char *b = realloc(*bufp, cap);
		if (b == NULL)
			return -ENOMEM;
		*bufp = b;
		*capp = cap;
	}
	memcpy(*bufp, head, (size_t)n);
	return n;
}

/* The A record of (boot_id, seq) in rec; returns its length. */
size_t spool_record_ack(char rec[static SPOOL_RECORD_HEADER_MAX],
    uint64_t boot_id, uint64_t seq)
{
	int n = snprintf(rec, SPOOL_RECORD_HEADER_MAX - SPOOL_RECORD_TRAILER_LEN - 1,
	    "A %" PRIu64 " %" PRIu64, boot_id, seq);

	return spool_record_seal(rec, (size_t)n);
}

enum spool_record_kind spool_record_parse(const char *line, const char *nl,
    bool *sealed_seen, struct spool_record *out)
{
	const char *p = line + 2, *pay, *end;

	if (nl - line < 5 || line[1] != ' ' || !parse_key(&p, nl,
	    &out->boot_id, &out->seq))
		return SPOOL_RECORD_BAD;
	if (line[0] == 'A') {
		if (p == nl && !*sealed_seen)
			return SPOOL_RECORD_ACK;	/* before checksums */
		if (!sealed(line, p, nl))
			return SPOOL_RECORD_BAD;
		*sealed_seen = true;
		return SPOOL_RECORD_ACK;
	}
	if (line[0] != 'R' || p >= nl || *p != ' ' ||
	    !record_payload(line, p + 1, nl, sealed_seen, &pay, &end))
		return SPOOL_RECORD_BAD;
	out->payload_off = (size_t)(pay - line);
	out->payload_len = (size_t)(end - pay);
	return SPOOL_RECORD_READING;
}
