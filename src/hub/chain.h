/* The hash chain of the production log (histlog.h).  A chained line is
 *
 *	BODY,"chain":"HEX"}
 *
 * where BODY is the record's JSON object without its closing '}' (it
 * starts with '{'), and HEX is 64 lowercase hex digits of
 *
 *	chain(n) = BLAKE2s-256(chain(n-1) || BODY(n))
 *
 * chain(0), before the first line of the record, is 32 zero bytes.  The
 * value runs on across files (a rotated log's successor starts from its
 * last line) and restarts.  Each value commits to every line before it, so
 * an edited, inserted, removed or reordered line breaks the chain there;
 * cutting the tail or recomputing the whole chain is caught by the signed
 * checkpoints (checkpoint.h), not by the chain.
 *
 * Pure: no I/O, no clock. */
#ifndef WGU_HUB_CHAIN_H
#define WGU_HUB_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	CHAIN_LEN = 32,
	CHAIN_HEX_LEN = 2 * CHAIN_LEN,
	/* ,"chain":"  HEX  "} */
	CHAIN_MEMBER_LEN = 10 + CHAIN_HEX_LEN + 2,
};

/* out = BLAKE2s-256(prev || body).  out may alias prev. */
void chain_next(uint8_t out[static CHAIN_LEN],
    const uint8_t prev[static CHAIN_LEN], const char *body, size_t len);

/* Splits a line (without its '\n') into BODY and its chain value.
 * Returns false when the line does not start with '{' and end with a well
 * formed chain member (lowercase hex only). */
bool chain_split(const char *line, size_t len, size_t *bodylen,
    uint8_t chain[static CHAIN_LEN]);

/* Writes ,"chain":"HEX"} (CHAIN_MEMBER_LEN bytes, no NUL) at out. */
void chain_member(char out[static CHAIN_MEMBER_LEN],
    const uint8_t chain[static CHAIN_LEN]);

/* Lowercase hex of n bytes into out (2n bytes, no NUL). */
void chain_hex(char *out, const uint8_t *in, size_t n);
/* Parses exactly 2n lowercase hex digits; false on anything else. */
bool chain_unhex(uint8_t *out, const char *in, size_t n);

#endif
