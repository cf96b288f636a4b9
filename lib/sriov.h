/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Library-private: VF counts, the object shared by sriov.c (the object, its plan, its
 * persistence) and sriov-execute.c (executing the plan).
 */
#pragma once

#include "internal.h"
#include "plan-report.h"

struct passthru_sriov {
	unsigned refcount;
	struct passthru_ctx *ctx;
	char pf[PASSTHRU_PCI_ADDRESS_LEN + 1];
	unsigned flags;
	unsigned timeout_ms;
	/* The wait for another passthru's lock: the timeout when one was set, else 30 s. */
	unsigned lock_timeout_ms;
	passthru_takeover_wait_fn wait_fn;
	void *wait_userdata;
	passthru_sriov_progress_fn progress;
	void *progress_userdata;

	/* As last read. */
	unsigned total, current;
	int autoprobe_now; /* -ENODATA when unreadable */

	/* Wishes. */
	bool has_target;
	unsigned target;
	int autoprobe_want; /* -1: leave it */

	/* The plan. */
	bool planned;
	unsigned plan_target;
	bool write_zero, write_target;
	int write_autoprobe; /* -1: no write */
	bool bind;
	char **removed;
	char **steps;
	char **notes;

	/* Refusals and notes of the plan, the error of the last execution. */
	struct passthru_plan_report report;

	/* Execution. */
	char **vfs;
	struct passthru_takeover *takeover;
};

/* Only the limit of the wait for another passthru's lock (0: 30 s); the writes' stays. */
void sriov_set_lock_timeout(struct passthru_sriov *s, unsigned msec);
/* Reads the PF's counts and autoprobe into s. */
int sriov_read_pf(struct passthru_sriov *s, int dfd);
