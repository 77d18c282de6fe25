/* wgu-sim's nodes and their schedule (see fleet.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "sim/fleet.h"

#define SYNC_INTERVAL 1.0	/* spool fsync at most this often */

static bool all_acked(const struct fleet *f)
{
	int i;

	for (i = 0; i < f->nnodes; i++)
		if (node_pending(&f->nodes[i]) > 0)
			return false;
	return true;
}

static void drain_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

/* Generation is over: wait for the last PUBACKs, a while. */
static void start_drain(struct fleet *f)
{
	f->draining = true;
	ev_timer_stop(f->loop, &f->tick);
	if (all_acked(f)) {
		ev_break(f->loop, EVBREAK_ALL);
		return;
	}
	ev_timer_start(f->loop, &f->drain);
}

/* One reading of node i's model at model time elapsed (seconds). */
static void generate(struct fleet *f, int i, double elapsed)
{
	struct telemetry_reading r = { 0 };
	struct model_sample s;

	model_sample(&f->models[i], elapsed, &s);
	r.p = s.p;
	r.t = s.t;
	r.v = s.v;
	r.status = s.status;
	node_publish(&f->nodes[i], &r);
}

static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct fleet *f = w->data;
	double elapsed = (double)f->ticks / f->sched.rate;
	int i;

	if (f->slice == 0 && ((f->sched.count && f->ticks >= f->sched.count) ||
	    (f->sched.duration > 0 && elapsed >= f->sched.duration))) {
		start_drain(f);
		return;
	}
	/* Slice k of the period: every node i with i % slices == k. */
	for (i = f->slice; i < f->nnodes; i += f->slices)
		generate(f, i, elapsed);
	if (++f->slice == f->slices) {
		f->slice = 0;
		f->ticks++;
	}
}

static void sync_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct fleet *f = w->data;
	int i;

	for (i = 0; i < f->nnodes; i++)
		node_tick_second(&f->nodes[i]);
	if (f->draining && all_acked(f))
		ev_break(loop, EVBREAK_ALL);
}

int fleet_init(struct fleet *f, struct ev_loop *loop,
    const struct fleet_schedule *sched, int cap)
{
	*f = (struct fleet){ .loop = loop, .sched = *sched, .cap = cap };
	ev_timer_init(&f->tick, tick_cb, 0.0, 1.0 / sched->rate);
	f->tick.data = f;
	ev_timer_init(&f->sync, sync_cb, SYNC_INTERVAL, SYNC_INTERVAL);
	f->sync.data = f;
	ev_timer_init(&f->drain, drain_cb, FLEET_DRAIN_TIMEOUT, 0.0);
	f->nodes = calloc((size_t)cap, sizeof(*f->nodes));
	f->models = calloc((size_t)cap, sizeof(*f->models));
	return f->nodes && f->models ? 0 : -ENOMEM;
}

int fleet_add(struct fleet *f, const struct node_config *cfg, const char *id,
    uint64_t seed, double cycle, const char *password)
{
	if (f->nnodes == f->cap)
		return -ENOSPC;
	model_init(&f->models[f->nnodes], seed, cycle);
	/* Counted first: fleet_clear() frees what a failed init made. */
	return node_init(&f->nodes[f->nnodes++], f->loop, cfg, id, password);
}

int fleet_start(struct fleet *f)
{
	int i, ret;

	f->started = true;
	for (i = 0; i < f->nnodes; i++)
		if ((ret = node_start(&f->nodes[i])) < 0)
			return ret;
	/* As many slices as nodes, at most FLEET_SLICES, and no more than
	 * FLEET_TICKS_MAX ticks a second. */
	f->slices = f->nnodes < FLEET_SLICES ? f->nnodes : FLEET_SLICES;
	if (f->slices > FLEET_TICKS_MAX / f->sched.rate)
		f->slices = (int)(FLEET_TICKS_MAX / f->sched.rate);
	if (f->slices < 1)
		f->slices = 1;
	f->slice = 0;
	ev_timer_set(&f->tick, 0.0, 1.0 / (f->sched.rate * f->slices));
	ev_timer_start(f->loop, &f->tick);
	ev_timer_start(f->loop, &f->sync);
	return 0;
}

void fleet_summary(struct fleet *f)
{
	int i;

	for (i = 0; i < f->nnodes; i++) {
		node_finish(&f->nodes[i]);
		node_summary(&f->nodes[i]);
	}
	fflush(stdout);
}

void fleet_stop(struct fleet *f)
{
	int i;

	ev_timer_stop(f->loop, &f->tick);
	ev_timer_stop(f->loop, &f->sync);
	ev_timer_stop(f->loop, &f->drain);
	for (i = 0; f->started && i < f->nnodes; i++)
		node_stop(&f->nodes[i]);
}

void fleet_clear(struct fleet *f)
{
	int i;

	for (i = 0; f->nodes && i < f->nnodes; i++)
		node_clear(&f->nodes[i]);
	free(f->nodes);
	free(f->models);
	f->nodes = NULL;
	f->models = NULL;
	f->nnodes = 0;
}
