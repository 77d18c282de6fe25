/* wgu-sim's nodes and their schedule: one tick timer generates a reading
 * on every node at --rate, the nodes spread over the period in up to
 * FLEET_SLICES slices (as devices that are not in step would: a thousand
 * readings at one instant would overflow the tunnel's queues), a
 * one-second timer fsyncs the spools and
 * watches the sessions, and when generation is over (--count readings or
 * --duration seconds) the fleet waits up to FLEET_DRAIN_TIMEOUT seconds
 * for the last PUBACKs, then ends the loop.  Model time advances by the
 * tick, not the wall clock, so a seed reproduces the same readings however
 * the loop was scheduled.
 *
 * Usage: fleet_init(), fleet_add() per node, fleet_start(), ev_run(),
 * fleet_summary(), fleet_stop(), fleet_clear() (safe after any failure). */
#ifndef WGU_SIM_FLEET_H
#define WGU_SIM_FLEET_H

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include "edge/node.h"
#include "sim/model.h"

#define FLEET_DRAIN_TIMEOUT 10.0	/* seconds to wait for PUBACKs */
#define FLEET_SLICES 50			/* of each tick's period, at most */
#define FLEET_TICKS_MAX 2000.0		/* slice ticks a second, at most */

struct fleet_schedule {
	double rate;		/* readings per second per node */
	uint64_t count;		/* per node; 0: no limit */
	double duration;	/* seconds; 0: no limit */
};

struct fleet {
	struct ev_loop *loop;
	struct fleet_schedule sched;
	struct node *nodes;
	struct model *models;	/* nodes[i]'s source */
	int nnodes, cap;
	bool started;
	ev_timer tick, sync, drain;
	uint64_t ticks;		/* whole periods generated */
	int slices, slice;	/* slices of a period, the next one */
	bool draining;
};

/* Room for cap nodes.  0 or -ENOMEM. */
int fleet_init(struct fleet *f, struct ev_loop *loop,
    const struct fleet_schedule *sched, int cap);

/* node_init() of the next node (see node.h) and its model (seed, anomaly
 * cycle in seconds).  0 or a negative errno. */
int fleet_add(struct fleet *f, const struct node_config *cfg, const char *id,
    uint64_t seed, double cycle, const char *password);

/* Connects every node and starts the timers.  0 or a negative errno. */
int fleet_start(struct fleet *f);

/* Each node finished (node_finish()) and its summary line on stdout. */
void fleet_summary(struct fleet *f);

void fleet_stop(struct fleet *f);
void fleet_clear(struct fleet *f);

#endif
