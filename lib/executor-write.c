/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The executor for plans of attribute writes (an SR-IOV change: sriov_numvfs through 0,
 * sriov_drivers_autoprobe): the takeover's lock and journal, each write through timed-io's
 * helper, the writes undone in reverse when one fails, and repair of an interrupted one.
 *
 * Undoing is by value, not by replaying: a write is undone only when its attribute is neither
 * as it was before the transaction nor already at the undo value. That is what makes the same
 * walk right for a failure in this run and for a crash found by the next one: a count that went
 * 4 -> 0 -> 2 and was cut short at 0 gets 4 back with one write, not "0" then "4".
 */
#include "executor.h"
#include "takeover.h"

static char *attr_path(const char *address, const char *name)
{
	return strf("/sys/bus/pci/devices/%s/%s", address, name);
}

/* The value of an attribute now; -ENODEV when its device is gone. */
static int read_value(struct passthru_ctx *ctx, struct timed_writer *w, unsigned timeout_ms,
		      const char *address, const char *name, char **ret)
{
	_cleanup_free_ char *path = attr_path(address, name);
	int r;

	if (!path)
		return -ENOMEM;
	r = timed_read(w, path, timeout_ms, ret);
	if (r == -ENOENT || r == -ENODEV) {
		_cleanup_free_ char *dir = strf("/sys/bus/pci/devices/%s", address);

		if (!dir)
			return -ENOMEM;
		if (!root_exists(ctx, dir))
			return -ENODEV;
	}
	return r;
}

/* The value attribute (address, name) had before writes [0, n): the undo of its first write. */
static const char *original_value(const struct journal *j, size_t n, const struct journal_write *w)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(j->writes[i].address, w->address) == 0 &&
		    strcmp(j->writes[i].name, w->name) == 0)
			return j->writes[i].undo;
	return w->undo;
}

/* Undoes writes [0, n) in reverse. The first failure is the report's error. */
static int undo_writes(struct passthru_ctx *ctx, struct timed_writer *w, unsigned timeout_ms,
		       const struct journal *j, size_t n, struct passthru_plan_report *report)
{
	char buf[32];

	for (size_t i = n; i-- > 0;) {
		const struct journal_write *jw = &j->writes[i];
		_cleanup_free_ char *now = NULL, *path = NULL;
		int r;

		r = read_value(ctx, w, timeout_ms, jw->address, jw->name, &now);
		if (r == -ENODEV)
			continue; /* gone (the VFs of a removed PF): nothing left to put back */
		if (r < 0) {
			plan_report_set_error(report, "%s: cannot read %s: %s", jw->address,
					      jw->name,
					      r == -ETIMEDOUT ? "timed out" : strerror(-r));
			return r;
		}
		if (strcmp(now, original_value(j, n, jw)) == 0 || strcmp(now, jw->undo) == 0)
			continue;
		path = attr_path(jw->address, jw->name);
		if (!path)
			return -ENOMEM;
		r = timed_write(w, path, jw->undo, timeout_ms);
		if (r == -ETIMEDOUT) {
			plan_report_set_error(report, "%s: writing %s to %s timed out after %s",
					      jw->address, jw->undo, jw->name,
					      ms_text(timeout_ms, buf));
			return r;
		}
		if (r < 0) {
			plan_report_set_error(report, "%s: cannot write %s to %s: %s", jw->address,
					      jw->undo, jw->name, strerror(-r));
			return r;
		}
	}
	return 0;
}

int executor_repair_writes(struct passthru_ctx *ctx, struct timed_writer *w, unsigned timeout_ms,
			   const struct journal *j, struct passthru_plan_report *report)
{
	bool complete = true;
	int r;

	/* Complete when every attribute has the value of its last write. */
	for (size_t i = 0; complete && i < j->n_writes; i++) {
		const struct journal_write *jw = &j->writes[i];
		_cleanup_free_ char *now = NULL;
		bool last = true;

		for (size_t k = i + 1; k < j->n_writes; k++)
			if (strcmp(j->writes[k].address, jw->address) == 0 &&
			    strcmp(j->writes[k].name, jw->name) == 0)
				last = false;
		if (!last)
			continue;
		r = read_value(ctx, w, timeout_ms, jw->address, jw->name, &now);
		if (r == -ENODEV)
			continue;
		if (r < 0) {
			plan_report_set_error(report, "%s: cannot read %s: %s", jw->address,
					      jw->name,
					      r == -ETIMEDOUT ? "timed out" : strerror(-r));
			return r;
		}
		complete = strcmp(now, jw->value) == 0;
	}
	if (complete)
		return REPAIR_COMMIT;
	r = undo_writes(ctx, w, timeout_ms, j, j->n_writes, report);
	return r < 0 ? r : REPAIR_ROLLBACK;
}

/* "0000:03:00.0 sriov_numvfs, 0000:03:00.0 sriov_drivers_autoprobe": what a transaction wrote. */
static char *write_names(const struct journal *j)
{
	_cleanup_strv_free_ char **names = NULL;
	char *text = NULL;

	for (size_t i = 0; i < j->n_writes; i++) {
		_cleanup_free_ char *name = strf("%s %s", j->writes[i].address, j->writes[i].name);

		if (!name)
			return NULL;
		if (strv_contains(names, name))
			continue;
		if (strv_consume(&names, TAKE_PTR(name)) < 0)
			return NULL;
	}
	STRV_FOREACH (n, names) {
		char *longer = text ? strf("%s, %s", text, *n) : strdup(*n);

		free(text);
		text = longer;
		if (!text)
			return NULL;
	}
	return text ?: strdup("");
}

int takeover_repair_settle(struct passthru_takeover *t, int r, const char *what)
{
	if (r < 0) {
		_cleanup_free_ char *cause = TAKE_PTR(t->report.error);

		plan_report_set_error(&t->report, "cannot roll back the interrupted %s", what);
		if (cause)
			plan_report_add_detail(&t->report, "%s", cause);
		return r;
	}
	r = root_unlink(t->ctx, JOURNAL_PATH);
	if (r < 0 && r != -ENOENT) {
		plan_report_set_error(&t->report, "cannot remove %s: %s", JOURNAL_PATH,
				      strerror(-r));
		return r;
	}
	return 0;
}

int takeover_repair_writes(struct passthru_takeover *t, const struct journal *j)
{
	_cleanup_free_ char *names = write_names(j), *what = NULL;
	int r, settled;

	if (!takeover_writer(t) || !names)
		return -ENOMEM;
	what = strf("write of %s", names);
	if (!what)
		return -ENOMEM;
	r = executor_repair_writes(t->ctx, t->writer, t->timeout_ms, j, &t->report);
	settled = takeover_repair_settle(t, r, what);
	if (settled < 0)
		return settled;
	t->repair = r == REPAIR_COMMIT ? PASSTHRU_REPAIR_COMPLETED : PASSTHRU_REPAIR_ROLLED_BACK;
	journal_log_line(t->ctx, "repair: interrupted write of %s %s", names,
			 r == REPAIR_COMMIT ? "had completed" : "rolled back");
	/* The devices written become the plan, for whoever reports the repair. */
	if (t->op == PASSTHRU_TAKEOVER_REPAIR) {
		takeover_plan_clear(t);
		for (size_t i = 0; i < j->n_writes; i++) {
			struct item *it;

			if (takeover_item_find(t, j->writes[i].address))
				continue;
			r = takeover_item_add(t, j->writes[i].address, true, &it);
			if (r < 0 && !errno_is_vanished(r))
				return r;
			if (r >= 0)
				(void)device_driver_read(t->ctx, it->address, &it->result);
		}
		t->planned = true;
	}
	return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Execution                                                                                  */

int executor_begin(struct executor *x, struct passthru_ctx *ctx, unsigned timeout_ms,
		   unsigned lock_timeout_ms, journal_lock_wait_fn on_wait, void *wait_userdata,
		   struct passthru_plan_report *report)
{
	_cleanup_free_ char *lock_error = NULL;
	struct passthru_takeover *t = NULL;
	int r;

	*x = (struct executor){.ctx = ctx, .timeout_ms = timeout_ms, .report = report};
	fault_from_environment(ctx, &x->fault);
	x->lock_fd = journal_lock_take(ctx, lock_timeout_ms, on_wait, wait_userdata, &lock_error);
	if (x->lock_fd < 0) {
		r = x->lock_fd;
		x->lock_fd = -1;
		plan_report_set_error(report, "%s", lock_error ?: strerror(-r));
		return r;
	}
	/* An interrupted transaction first, of either kind: the takeover's repair does both. */
	r = passthru_takeover_new(ctx, PASSTHRU_TAKEOVER_REPAIR, 0, &t);
	if (r >= 0) {
		passthru_takeover_set_timeout(t, timeout_ms);
		r = takeover_repair_locked(t);
		if (r < 0)
			plan_report_set_error(report, "%s",
					      passthru_takeover_get_error(t) ?: strerror(-r));
		passthru_takeover_unref(t);
	}
	if (r >= 0)
		r = timed_writer_new(ctx, &x->writer);
	if (r < 0) {
		if (!report->error)
			plan_report_set_error(report, "%s", strerror(-r));
		executor_end(x);
		return r;
	}
	return 0;
}

void executor_end(struct executor *x)
{
	timed_writer_free(x->writer);
	x->writer = NULL;
	if (x->lock_fd >= 0)
		close(x->lock_fd);
	x->lock_fd = -1;
}

void executor_report_rollback(struct executor *x, int q, char *error, const char *undone)
{
	if (q < 0) {
		plan_report_add_detail(x->report, "rollback: %s", x->report->error ?: strerror(-q));
		plan_report_add_detail(x->report,
				       "the journal is kept: 'passthru repair' tries again");
	} else {
		plan_report_add_detail(x->report, "rolled back: %s", undone);
		(void)root_unlink(x->ctx, JOURNAL_PATH);
	}
	free(x->report->error);
	x->report->error = error;
}

int executor_journal_save(struct executor *x, const struct journal *j, const char *kind)
{
	int r = journal_save(x->ctx, JOURNAL_PATH, JOURNAL_KIND_TRANSACTION, j);

	if (r < 0) {
		plan_report_set_error(x->report, "cannot write %s: %s", JOURNAL_PATH, strerror(-r));
		return r;
	}
	return executor_fault(x, kind, "after-journal", 1);
}

int executor_journal_remove(struct executor *x)
{
	int r = root_unlink(x->ctx, JOURNAL_PATH);

	if (r < 0 && r != -ENOENT) {
		plan_report_set_error(x->report, "cannot remove %s: %s", JOURNAL_PATH,
				      strerror(-r));
		return r;
	}
	return 0;
}

int executor_fault(struct executor *x, const char *kind, const char *step, unsigned index)
{
	int r = fault_hit(x->ctx, &x->fault, kind, step, index);

	if (r < 0)
		plan_report_set_error(x->report, "injected failure (PASSTHRU_FAULT) %s %u", step,
				      index);
	return r;
}

struct tick {
	struct executor *x;
	size_t i;
};

static void on_tick(void *userdata)
{
	struct tick *tk = userdata;

	tk->x->ops->tick(tk->x->userdata, tk->i);
}

/* Write i of the journal, told to the caller. */
static int run_write(struct executor *x, const struct journal_write *jw, size_t i)
{
	_cleanup_free_ char *path = attr_path(jw->address, jw->name);
	struct tick tk = {.x = x, .i = i};
	int r;

	if (!path)
		return -ENOMEM;
	if (x->ops->start)
		x->ops->start(x->userdata, i);
	if (x->ops->tick)
		r = timed_write_tick(x->writer, path, jw->value, x->timeout_ms, x->ops->period_ms,
				     on_tick, &tk);
	else
		r = timed_write(x->writer, path, jw->value, x->timeout_ms);
	if (x->ops->done)
		x->ops->done(x->userdata, i, r, x->writer);
	if (r < 0 && !x->ops->done)
		plan_report_set_error(x->report, "%s: cannot write %s to %s: %s", jw->address,
				      jw->value, jw->name, strerror(-r));
	return r;
}

int executor_run_writes(struct executor *x, const struct exec_write *writes, size_t n,
			const struct exec_write_ops *ops, void *userdata)
{
	static const struct exec_write_ops none = {0};
	_cleanup_journal_ struct journal *j = NULL;
	size_t i = 0;
	int r;

	if (x->lock_fd < 0 || !x->writer)
		return -EBADF;
	if (n == 0)
		return 0;
	x->ops = ops ?: &none;
	x->userdata = userdata;
	r = journal_new(JOURNAL_OP_WRITE, &j);
	if (r < 0)
		return r;
	j->pid = getpid();
	for (size_t k = 0; k < n; k++) {
		r = journal_add_write(j, writes[k].address, writes[k].name, writes[k].value,
				      writes[k].undo);
		if (r < 0)
			return r;
	}
	/* Nothing is written before the record of how to undo it is on disk. */
	r = executor_journal_save(x, j, "write");
	/* i ends as the count of writes begun: a failed one may have done part of its work. */
	for (; r >= 0 && i < n; i++) {
		r = run_write(x, &j->writes[i], i);
		if (r >= 0)
			r = executor_fault(x, "write", "after-write", (unsigned)i + 1);
	}
	if (r < 0) {
		char *error = TAKE_PTR(x->report->error);
		int q = undo_writes(x->ctx, x->writer, x->timeout_ms, j, i, x->report);

		executor_report_rollback(x, q, error, "every attribute written is as it was");
		return r;
	}
	return executor_journal_remove(x);
}
