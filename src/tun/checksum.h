/* The Internet checksum (RFC 1071) for the offload code: completing the
 * TCP/UDP checksums the kernel left partial in TUN packets, and filling
 * in those of the segments we cut from a TSO super-packet.
 *
 * Sums are kept unfolded in a 64-bit accumulator of 16-bit words in
 * network order, so pieces can be added in any order as long as every
 * piece but the last has an even length. */
#ifndef WG_CHECKSUM_H
#define WG_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* Adds len bytes at p to sum. */
uint64_t wg_csum_add(uint64_t sum, const uint8_t *p, size_t len);

/* Adds the TCP/UDP pseudo-header of RFC 793 / RFC 8200 section 8.1:
 * family is AF_INET (addresses 4 bytes) or AF_INET6 (16 bytes). */
uint64_t wg_csum_pseudo(uint64_t sum, int family, const uint8_t *src,
    const uint8_t *dst, uint8_t protocol, uint32_t length);

/* Folds to 16 bits (not complemented), in network order as a host
 * integer: the value to store with wg_csum_store after complementing. */
uint16_t wg_csum_fold(uint64_t sum);

/* Stores v big-endian at p. */
void wg_csum_store(uint8_t *p, uint16_t v);

/* The IPv4 header checksum of hdr (hdr_len bytes, checksum field zeroed
 * by the caller or not: it is skipped). */
uint16_t wg_csum_ipv4_header(const uint8_t *hdr, size_t hdr_len);

#endif
