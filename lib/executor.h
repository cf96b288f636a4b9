/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Library-private: the executor of plans that write sysfs attributes (executor-write.c), an
 * SR-IOV change's writes to sriov_numvfs and sriov_drivers_autoprobe. It is the takeover's
 * executor (executor.c) for another kind of step: the same lock, the same journal
 * (JOURNAL_OP_WRITE records), the same timed writes, rollback on failure, and repair of an
 * interrupted transaction of either kind by whichever run comes next.
 */
#pragma once

#include "fault.h"
#include "internal.h"
#include "journal.h"
#include "plan-report.h"
#include "timed-io.h"

/* A step of a plan: value to /sys/bus/pci/devices/ADDRESS/NAME; undo puts back what it did. */
struct exec_write {
	const char *address;
	const char *name;
	const char *value;
	const char *undo;
};

/* What the caller is told while the writes run; each may be NULL. */
struct exec_write_ops {
	/* Before write i. */
	void (*start)(void *userdata, size_t i);
	/* Every period_ms while write i is under way (in this thread, between polls). */
	void (*tick)(void *userdata, size_t i);
	unsigned period_ms;
	/*
	 * After write i with what it returned. On a failure the caller sets the report's error;
	 * without done the executor sets "ADDRESS: cannot write VALUE to NAME: CAUSE".
	 */
	void (*done)(void *userdata, size_t i, int r, struct timed_writer *w);
};

/* An execution: between executor_begin() and executor_end(), the lock is held. */
struct executor {
	struct passthru_ctx *ctx;
	unsigned timeout_ms;
	struct passthru_plan_report *report;
	int lock_fd;
	struct timed_writer *writer;
	struct fault fault;
	/* Who called, for the callbacks. */
	const struct exec_write_ops *ops;
	void *userdata;
};

/*
 * Takes the lock, waiting up to lock_timeout_ms (on_wait told who holds it), then finishes or
 * rolls back an interrupted transaction of either kind. On failure report's error says why
 * (the lock's message: "another passthru is changing devices: ...") and nothing is held.
 */
int executor_begin(struct executor *x, struct passthru_ctx *ctx, unsigned timeout_ms,
		   unsigned lock_timeout_ms, journal_lock_wait_fn on_wait, void *wait_userdata,
		   struct passthru_plan_report *report);
/*
 * Runs the writes in order, the journal on disk before the first. When one fails, what was
 * written is undone in reverse; when that fails too the journal stays, for the next run (or
 * `passthru repair`) to finish, and the report's details say so. Fault points (test builds):
 * "write:after-journal:1", "write:after-write:N" (N counts writes from 1).
 */
int executor_run_writes(struct executor *x, const struct exec_write *writes, size_t n,
			const struct exec_write_ops *ops, void *userdata);
/* Releases the lock and the helper. */
void executor_end(struct executor *x);
/*
 * A fault point of kind ("write", "vf") for the crash tests (test builds only): negative with
 * the report's error set when PASSTHRU_FAULT names it, else 0.
 */
int executor_fault(struct executor *x, const char *kind, const char *step, unsigned index);
/*
 * After a failed run whose undo returned q: the report gets the rollback as a detail ("rolled
 * back: <undone>", the journal removed) or, when q < 0, the undo's failure and the kept
 * journal; its error is the run's own, error (taken).
 */
void executor_report_rollback(struct executor *x, int q, char *error, const char *undone);
/*
 * Writes the journal of a run before its first change, then passes the fault point
 * "KIND:after-journal:1". 0, or a negative errno with the report's error set.
 */
int executor_journal_save(struct executor *x, const struct journal *j, const char *kind);
/* Removes the journal of a run that finished. 0 or a negative errno with the report's error. */
int executor_journal_remove(struct executor *x);

/*
 * Repair of an interrupted JOURNAL_OP_WRITE transaction, with the lock held: commits when every
 * attribute has the value of its last write, otherwise puts each back as it was before the
 * first. Returns REPAIR_COMMIT or REPAIR_ROLLBACK, or a negative errno with report's error set.
 */
int executor_repair_writes(struct passthru_ctx *ctx, struct timed_writer *w, unsigned timeout_ms,
			   const struct journal *j, struct passthru_plan_report *report);
