/* `wgu stats --prometheus`: a tunnel's metrics in Prometheus' text
 * exposition format 0.0.4, for node_exporter's textfile collector.  Pure:
 * the daemon's answers and the time come in, text goes out.
 *
 * The families (names as the dashboard's /metrics gives them):
 *
 *	wgu_peers{interface}                                   gauge
 *	wgu_peer_last_handshake_timestamp_seconds{interface,peer}  gauge
 *	wgu_peer_last_handshake_age_seconds{interface,peer}    gauge
 *	wgu_peer_receive_bytes_total{interface,peer}           counter
 *	wgu_peer_transmit_bytes_total{interface,peer}          counter
 *	wgu_drops_total{interface,reason}                      counter
 *
 * peer is the public key in base64 (as wg show prints it), reason the
 * daemon's counter name (rx_invalid, ..., tx_dropped).  A peer that never
 * completed a handshake has no sample in the two handshake families: an
 * absent series is how Prometheus says "unknown", where a made-up value
 * (0, or an age of 55 years) would pass for a measurement in max(),
 * avg() and alert thresholds; `absent()` or `unless` finds such peers. */
#ifndef WG_PROMTEXT_H
#define WG_PROMTEXT_H

#include <stdint.h>

#include "cli/buf.h"

/* Appends the metrics of interface ifname to out, from the daemon's
 * answers to get=1 (get_reply) and stats=1 (stats_reply), with now_ns the
 * wall clock in ns since the epoch (for the handshake ages).  Lines of
 * the answers it does not know are skipped; out->failed on no memory. */
void wg_promtext_format(struct wg_buf *out, const char *ifname,
    const char *get_reply, const char *stats_reply, uint64_t now_ns);

/* Appends s as a label value: \, " and newline escaped. */
void wg_promtext_label(struct wg_buf *out, const char *s);

#endif
