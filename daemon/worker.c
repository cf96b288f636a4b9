/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The takeover worker: binds and unbinds run here, off the loop, so that a slow one (a driver
 * whose remove waits, a probe that takes seconds) does not hold up the reads, the event stream
 * and the allocations of devices already on vfio-pci.
 *
 * One takeover at a time, in a thread of its own with a passthru_ctx of its own (a context and
 * its objects are used by one thread at a time; contexts are independent). Taking them one at a
 * time costs nothing: the library serialises changes to the host with a lock anyway, and a
 * second thread would only wait for it. Jobs queue in submission order. The thread posts its end
 * through an eventfd that the loop watches; the loop joins it, hands the job (the takeover now
 * the loop's) to its done callback and starts the next one. Everything but the takeover itself
 * (reservations, the answer, the inventory, the database) stays in the loop.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "passthrud.h"

void takeover_job_free(struct takeover_job *job)
{
	if (!job)
		return;
	passthru_takeover_unref(job->t);
	passthru_ctx_unref(job->ctx);
	passthru_strv_free(job->addresses);
	free(job);
}

/* In the thread: new, devices, plan, execute; the first failure stops it. */
static void *job_run(void *userdata)
{
	struct takeover_job *job = userdata;
	struct timespec t0, t1;
	uint64_t one = 1;
	int r;

	r = passthru_takeover_new(job->ctx, job->op, job->flags, &job->t);
	if (r >= 0 && job->timeout_ms)
		passthru_takeover_set_timeout(job->t, job->timeout_ms);
	for (size_t i = 0; r >= 0 && job->addresses[i]; i++)
		r = passthru_takeover_add_device(job->t, job->addresses[i]);
	if (r >= 0)
		r = passthru_takeover_plan(job->t);
	if (r >= 0) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = passthru_takeover_execute(job->t);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		job->executed = true;
		job->seconds =
		    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	}
	job->r = r;
	/* The loop reads it; an eventfd's counter cannot overflow from one write per job. */
	if (write(job->d->worker.efd, &one, sizeof(one)) < 0)
		fprintf(stderr, "passthrud: cannot wake the loop: %s\n", strerror(errno));
	return NULL;
}

static void start_next(struct daemon *d)
{
	struct worker *w = &d->worker;
	struct takeover_job *job;
	sigset_t all, old;
	int r;

	while (!w->running && w->head) {
		job = w->head;
		w->head = job->next;
		if (!w->head)
			w->tail = NULL;
		job->next = NULL;
		r = passthru_ctx_new(passthru_ctx_get_sysroot(d->ctx), &job->ctx);
		if (r >= 0) {
			passthru_ctx_set_log_fn(job->ctx, d->log_fn, NULL);
			passthru_ctx_set_log_priority(job->ctx,
						      passthru_ctx_get_log_priority(d->ctx));
			/* The thread takes no signal: the loop's signalfd wants them all. */
			sigfillset(&all);
			pthread_sigmask(SIG_BLOCK, &all, &old);
			r = -pthread_create(&w->thread, NULL, job_run, job);
			pthread_sigmask(SIG_SETMASK, &old, NULL);
		}
		if (r < 0) {
			/*
			 * Answered from the loop, not from here: the submitter (a request handler)
			 * has not suspended its request yet.
			 */
			fprintf(stderr, "passthrud: cannot start a takeover: %s\n", strerror(-r));
			job->r = r;
			job->next = w->failed;
			w->failed = job;
			sd_event_source_set_enabled(w->failed_source, SD_EVENT_ONESHOT);
			continue;
		}
		w->running = job;
	}
}

static int on_worker(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;
	struct worker *w = &d->worker;
	struct takeover_job *job = w->running;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0 || !job)
		return 0;
	pthread_join(w->thread, NULL);
	w->running = NULL;
	job->done(d, job);
	start_next(d);
	return 0;
}

/* The jobs whose thread could not start get their answers. */
static void finish_failed(struct daemon *d)
{
	struct takeover_job *job;

	while ((job = d->worker.failed)) {
		d->worker.failed = job->next;
		job->done(d, job);
	}
}

static int on_failed(sd_event_source *s, void *userdata)
{
	finish_failed(userdata);
	return 0;
}

int worker_start(struct daemon *d)
{
	int r;

	d->worker.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->worker.efd < 0)
		return -errno;
	r = sd_event_add_io(d->event, &d->worker.source, d->worker.efd, EPOLLIN, on_worker, d);
	if (r >= 0)
		r = sd_event_add_defer(d->event, &d->worker.failed_source, on_failed, d);
	if (r >= 0)
		r = sd_event_source_set_enabled(d->worker.failed_source, SD_EVENT_OFF);
	return r < 0 ? r : 0;
}

void worker_submit(struct daemon *d, struct takeover_job *job)
{
	struct worker *w = &d->worker;

	job->d = d;
	job->timeout_ms = d->bind_timeout_ms;
	job->next = NULL;
	if (w->tail)
		w->tail->next = job;
	else
		w->head = job;
	w->tail = job;
	start_next(d);
}

void worker_stop(struct daemon *d)
{
	struct worker *w = &d->worker;
	struct takeover_job *job;

	/* The running takeover ends by itself: every blocking step of it has a timeout. */
	if (w->running) {
		pthread_join(w->thread, NULL);
		job = w->running;
		w->running = NULL;
		job->done(d, job);
	}
	while ((job = w->head)) {
		w->head = job->next;
		job->r = -ECANCELED;
		job->done(d, job);
	}
	w->tail = NULL;
	finish_failed(d);
	w->source = sd_event_source_unref(w->source);
	w->failed_source = sd_event_source_unref(w->failed_source);
	if (w->efd >= 0)
		close(w->efd);
	w->efd = -1;
}
