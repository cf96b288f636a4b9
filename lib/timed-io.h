/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Library-private: sysfs writes and reads under a timeout, made by a helper process
 * (timed-io.c).
 */
#pragma once

#include <stdbool.h>

#include "internal.h"

struct timed_writer;

/*
 * Sysfs accesses that may block in the kernel, made by a helper process (timed-io.c): steps
 * run in order in one round trip; a step that does not finish within timeout_ms leaves the
 * helper behind, blocked, and returns -ETIMEDOUT instead of hanging the caller.
 */
struct timed_step {
	char op;	   /* 'w': write value to path; 'r': read path */
	const char *path;  /* a host path, resolved below the context's root */
	const char *value; /* for 'w' */
	char *result;	   /* for 'r': what was read, trailing newlines removed; the caller frees */
	int err;	   /* 0, or this step's negative errno */
};
/*
 * A writer; its helper is spawned by the first request. The helper keeps none of the caller's
 * descriptors but the context's root (a stuck one must not hold the lock or anything else).
 */
int timed_writer_new(struct passthru_ctx *ctx, struct timed_writer **ret);
void timed_writer_free(struct timed_writer *w);
/*
 * Runs the steps in order. A failed write ends the list (the steps after it assumed it worked);
 * a failed read only sets its err. Returns 0, or the failed write's negative errno (-ETIMEDOUT
 * for a step that did not finish) with *ret_failed set to its index.
 */
int timed_steps(struct timed_writer *w, struct timed_step *steps, size_t n, unsigned timeout_ms,
		size_t *ret_failed);
/*
 * The same without waiting, for several helpers at once: timed_submit() sends at most 32 steps;
 * when timed_fd() is readable, timed_collect() takes the answer (as timed_steps() returns).
 * timed_progress() is the step the helper is in (-1 before the first); timed_abandon() leaves
 * a helper that stopped making progress and returns that step.
 */
int timed_submit(struct timed_writer *w, struct timed_step *steps, size_t n);
int timed_fd(const struct timed_writer *w);
int timed_progress(const struct timed_writer *w);
size_t timed_abandon(struct timed_writer *w);
int timed_collect(struct timed_writer *w, struct timed_step *steps, size_t n, size_t *ret_failed);
int timed_write(struct timed_writer *w, const char *path, const char *value, unsigned timeout_ms);
/*
 * timed_write() that calls fn(userdata) every period_ms while the write is under way (in this
 * thread, between polls of the helper's socket): how a caller shows progress meanwhile.
 */
int timed_write_tick(struct timed_writer *w, const char *path, const char *value,
		     unsigned timeout_ms, unsigned period_ms, void (*fn)(void *userdata),
		     void *userdata);
/* Reads a host file the same way; trailing newlines removed. */
int timed_read(struct timed_writer *w, const char *path, unsigned timeout_ms, char **ret);
/* The pid of the helper left blocked in the kernel by the last timeout, else 0. */
pid_t timed_writer_stuck_pid(const struct timed_writer *w);
/* A timeout as messages give it: "10 s", or "1500 ms" when not whole seconds. */
const char *ms_text(unsigned ms, char buf[32]);
