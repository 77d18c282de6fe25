/* fdatasync in a thread of its own (see syncer.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edge/syncer.h"

struct syncer_entry {
	int fd;			/* ours: a dup */
	char label[SYNCER_LABEL_MAX];
};

struct syncer {
	pthread_mutex_t lock;
	pthread_cond_t work;	/* an entry was added, or stop */
	pthread_cond_t done;	/* the queue ran empty */
	pthread_t thread;
	bool running, stop;
	size_t cap, head, count;
	bool busy;		/* the thread syncs an entry taken off */
	struct syncer_counts n;
	struct syncer_entry q[];
};

static int sync_one(struct syncer *s, int fd, const char *label)
{
	int ret = fdatasync(fd) == 0 ? 0 : -errno;

	if (ret < 0)
		fprintf(stderr, "%s sync: %s\n", label, strerror(-ret));
	return ret;
}

static void *run(void *arg)
{
	struct syncer *s = arg;
	struct syncer_entry e;
	int ret;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (s->count == 0 && !s->stop)
			pthread_cond_wait(&s->work, &s->lock);
		if (s->count == 0)
			break;		/* stop, and nothing left */
		e = s->q[s->head];
		s->head = (s->head + 1) % s->cap;
		s->count--;
		s->busy = true;
		pthread_mutex_unlock(&s->lock);
		ret = sync_one(s, e.fd, e.label);
		close(e.fd);
		pthread_mutex_lock(&s->lock);
		s->busy = false;
		s->n.synced++;
		if (ret < 0)
			s->n.errors++;
		if (s->count == 0)
			pthread_cond_broadcast(&s->done);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

struct syncer *syncer_new(size_t cap)
{
	struct syncer *s;
	int ret;

	if (cap == 0) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s) + cap * sizeof(s->q[0]));
	if (s == NULL)
		return NULL;
	s->cap = cap;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->work, NULL);
	pthread_cond_init(&s->done, NULL);
	if ((ret = pthread_create(&s->thread, NULL, run, s)) != 0) {
		/* Every add syncs inline. */
		fprintf(stderr, "sync thread: %s; syncing in the loop\n",
		    strerror(ret));
		return s;
	}
	s->running = true;
	return s;
}

int syncer_add(struct syncer *s, int fd, const char *label)
{
	struct syncer_entry *e;
	int copy, ret;

	pthread_mutex_lock(&s->lock);
	if (!s->running || s->count == s->cap) {
		s->n.inline_++;
		pthread_mutex_unlock(&s->lock);
		ret = sync_one(s, fd, label);
		if (ret < 0) {
			pthread_mutex_lock(&s->lock);
			s->n.errors++;
			pthread_mutex_unlock(&s->lock);
		}
		return ret;
	}
	pthread_mutex_unlock(&s->lock);
	/* The thread never touches our descriptor, only its copy. */
	copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (copy < 0)
		return -errno;
	pthread_mutex_lock(&s->lock);
	e = &s->q[(s->head + s->count) % s->cap];
	e->fd = copy;
	snprintf(e->label, sizeof(e->label), "%s", label);
	s->count++;
	s->n.queued++;
	pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

void syncer_flush(struct syncer *s)
{
	pthread_mutex_lock(&s->lock);
	while (s->running && (s->count > 0 || s->busy))
		pthread_cond_wait(&s->done, &s->lock);
	pthread_mutex_unlock(&s->lock);
}

void syncer_counts(struct syncer *s, struct syncer_counts *c)
{
	pthread_mutex_lock(&s->lock);
	*c = s->n;
	pthread_mutex_unlock(&s->lock);
}

void syncer_free(struct syncer *s)
{
	if (s == NULL)
		return;
	if (s->running) {
		pthread_mutex_lock(&s->lock);
		s->stop = true;
		pthread_cond_signal(&s->work);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->thread, NULL);
	}
	pthread_cond_destroy(&s->done);
	pthread_cond_destroy(&s->work);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
