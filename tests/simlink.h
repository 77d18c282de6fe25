/* A simulated network for testing the protocol core: devices joined by an
 * in-process UDP "link" with a fake clock.
 *
 * Each node is one struct wg_device whose ops write into the simulation:
 * send_udp (and send_udp_batch, one datagram at a time) queues a datagram with a delivery time (latency, and optionally
 * loss, duplication and reordering from a seeded PRNG), write_tun records
 * the packet.  sim_run_until() advances the clock event by event: the
 * earliest of the next delivery and every device's wg_device_next_deadline()
 * happens next, exactly as the real adapter's event loop would order them.
 * Everything is deterministic for a given seed. */
#ifndef WG_SIMLINK_H
#define WG_SIMLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"

enum { SIM_MAX_NODES = 8, SIM_MAX_FORBIDDEN = 16 };

struct sim;

/* A packet the device wrote to its TUN. */
struct sim_packet {
	uint64_t at;
	size_t len;
	uint8_t *data;
};

struct sim_node {
	struct sim *sim;
	char name[16];
	struct wg_device *dev;
	struct wg_endpoint addr;	/* its UDP address, both ways */
	bool down;			/* drops everything to and from it */

	/* What it sent, by message type (index 1..4), and keepalives. */
	uint64_t sent[5], sent_keepalive;
	uint64_t sent_bytes;
	uint64_t batches;		/* calls of ops->send_udp_batch */
	uint64_t last_initiation_at;	/* sim time, 0 = never */

	/* What it wrote to its TUN. */
	struct sim_packet *tun;
	size_t tun_len, tun_cap;
};

/* Called for every datagram a node sends, before impairments; return false
 * to drop it.  to is NULL when the destination is no node. */
typedef bool sim_filter_fn(void *ctx, struct sim_node *from,
    struct sim_node *to, const uint8_t *buf, size_t len);

struct sim_impair {
	unsigned loss_pct, dup_pct, reorder_pct;
	uint64_t latency_ns;		/* base one-way delay */
};

struct sim *sim_new(uint64_t seed, uint64_t start_ns);
void sim_free(struct sim *sim);

/* A node with a fresh device (MTU 1420) at 10.0.0.<host>:port.  The
 * private key is set when priv is not NULL. */
struct sim_node *sim_node_add(struct sim *sim, const char *name,
    uint8_t host, uint16_t port, const uint8_t *priv);
/* Moves a node to a new address (roaming): what it sends comes from there
 * and what is sent there reaches it. */
void sim_node_move(struct sim_node *node, uint8_t host, uint16_t port);
void sim_node_clear_tun(struct sim_node *node);

void sim_set_impair(struct sim *sim, const struct sim_impair *imp);
void sim_set_filter(struct sim *sim, sim_filter_fn *fn, void *ctx);

uint64_t sim_now(const struct sim *sim);
/* Runs events until the clock reaches t (absolute) or dt from now. */
void sim_run_until(struct sim *sim, uint64_t t);
void sim_run_for(struct sim *sim, uint64_t dt);
/* Datagrams in flight. */
size_t sim_in_flight(const struct sim *sim);
/* How many device calls the last runs made (a runaway deadline shows as a
 * huge number, and the run stops at a cap and sets sim_stuck). */
uint64_t sim_events(const struct sim *sim);
bool sim_stuck(const struct sim *sim);

/* Hands a datagram straight to a node's device as if it came from `from`
 * (the buffer is copied; the device may modify its copy). */
void sim_inject(struct sim_node *to, const struct wg_endpoint *from,
    const uint8_t *buf, size_t len);

/* The deterministic PRNG the devices' ops->random uses. */
void sim_random(struct sim *sim, void *buf, size_t len);

/* Strings that must never appear in any log line (key material in base64
 * or hex); sim_log_leaks() counts the lines that contained one. */
void sim_forbid_in_logs(struct sim *sim, const char *s);
uint64_t sim_log_leaks(const struct sim *sim);
uint64_t sim_log_lines(const struct sim *sim);

/* A struct wg_endpoint for 10.0.0.<host>:port. */
struct wg_endpoint sim_endpoint(uint8_t host, uint16_t port);

#endif
