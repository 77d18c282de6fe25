/* Which offloads the daemon uses, and the runtime switch to turn each
 * off.  Every one falls back by itself when the kernel refuses it or it
 * fails at run time; the switch is for kernels that accept an offload
 * and then get it wrong (TUN GRO writes failing with EINVAL, UDP GSO
 * corrupting data have both shipped):
 *
 *   WGU_DISABLE_OFFLOAD=all | a comma-separated list of
 *     tun-tso   TCP super-packets from the TUN (gso.h)
 *     tun-gro   merged TCP segments written to the TUN (gro.h)
 *     udp-gso   one system call for many datagrams out (txbatch.h)
 *     udp-gro   one receive for many datagrams in (udp.h) */
#ifndef WG_OFFLOAD_H
#define WG_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>

#define WG_OFFLOAD_ENV "WGU_DISABLE_OFFLOAD"

struct wg_offloads {
	bool tun_tso, tun_gro, udp_gso, udp_gro;
};

/* All on, minus those spec names (NULL or "" for none).  Returns 0, or
 * -EINVAL with the unknown word copied to bad. */
int wg_offloads_parse(struct wg_offloads *o, const char *spec, char *bad,
    size_t bad_len);

#endif
