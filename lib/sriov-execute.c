/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Executing a VF count's plan (sriov.c makes it): its writes to sriov_numvfs and
 * sriov_drivers_autoprobe, each with the value that undoes it, handed to the executor
 * (executor-write.c: the lock, the journal, rollback, repair), with the progress of each count;
 * the check of what the PF has afterwards; the new VFs to vfio-pci through a takeover.
 */
#include <time.h>

#include "executor.h"
#include "journal.h"
#include "pf.h"
#include "plan-report.h"
#include "sriov.h"
#include "timed-io.h"

#define PROGRESS_PERIOD_MS 100

static int set_error(struct passthru_sriov *s, int r, const char *format, ...) _printf_(3, 4);
static int set_error(struct passthru_sriov *s, int r, const char *format, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, format);
	msg = strfv(format, ap);
	va_end(ap);
	if (!msg || plan_report_set_error(&s->report, "%s: %s", s->pf, msg) < 0)
		plan_report_clear_error(&s->report);
	return r;
}

/*
 * The writes of a plan as the executor runs them, and what each tells: -v's debug line before a
 * count is written, the progress of the count while it is, the message when one fails.
 */
struct sriov_run {
	struct passthru_sriov *s;
	int dfd;
	struct exec_write writes[3];
	char values[3][16], undos[3][16];
	/* For a write to sriov_numvfs: the count it writes; -1 for sriov_drivers_autoprobe. */
	long counts[3];
	size_t n;
	/* The VFs counted for the progress callback while a count is written. */
	unsigned last;
};

static void run_add(struct sriov_run *run, const char *name, long count, unsigned value,
		    unsigned undo)
{
	size_t i = run->n++;

	snprintf(run->values[i], sizeof(run->values[i]), "%u", value);
	snprintf(run->undos[i], sizeof(run->undos[i]), "%u", undo);
	run->writes[i] = (struct exec_write){
	    .address = run->s->pf, .name = name, .value = run->values[i], .undo = run->undos[i]};
	run->counts[i] = count;
}

/* The plan's writes, each with the value that undoes it. */
static void run_prepare(struct sriov_run *run)
{
	struct passthru_sriov *s = run->s;

	if (s->write_zero)
		run_add(run, "sriov_numvfs", 0, 0, s->current);
	/* Unreadable before: the kernel's default is what it gets back. */
	if (s->write_autoprobe >= 0)
		run_add(run, "sriov_drivers_autoprobe", -1, (unsigned)s->write_autoprobe,
			s->autoprobe_now < 0 ? 1 : (unsigned)s->autoprobe_now);
	/* Going through 0 when the PF had VFs: the count before is 0 either way. */
	if (s->write_target)
		run_add(run, "sriov_numvfs", s->plan_target, s->plan_target, 0);
}

static void on_write_start(void *userdata, size_t i)
{
	struct sriov_run *run = userdata;

	run->last = UINT32_MAX;
	if (run->counts[i] >= 0)
		log_debug(run->s->ctx, "%s: writing %s to sriov_numvfs", run->s->pf,
			  run->values[i]);
}

static void on_write_tick(void *userdata, size_t i)
{
	struct sriov_run *run = userdata;
	unsigned now;

	if (run->counts[i] < 0)
		return;
	now = pf_count_vfs(run->dfd);
	if (now != run->last)
		run->s->progress(run->s->progress_userdata, now, (unsigned)run->counts[i]);
	run->last = now;
}

/* The message for a failed write of value to sriov_numvfs. */
static int numvfs_error(struct passthru_sriov *s, struct timed_writer *w, int r, unsigned value,
			unsigned now)
{
	char t[32];

	if (r == -ETIMEDOUT)
		return set_error(s, r,
				 "writing %u to sriov_numvfs did not return within %s (pid %d is "
				 "still waiting in the kernel); the PF has %u VFs now",
				 value, ms_text(s->timeout_ms, t), (int)timed_writer_stuck_pid(w),
				 now);
	if (r == -EBUSY && value > 0)
		return set_error(s, r,
				 "cannot write %u to sriov_numvfs: %s (the PF already has VFs)",
				 value, strerror(-r));
	if (r == -ENOENT)
		return set_error(s, r,
				 "cannot write %u to sriov_numvfs: its driver does not make VFs "
				 "through sysfs (or it has none)",
				 value);
	return set_error(s, r, "cannot write %u to sriov_numvfs: %s; the PF has %u VFs now", value,
			 strerror(-r), now);
}

static void on_write_done(void *userdata, size_t i, int r, struct timed_writer *w)
{
	struct sriov_run *run = userdata;
	struct passthru_sriov *s = run->s;

	if (run->counts[i] < 0) {
		if (r < 0)
			set_error(s, r, "cannot write %d to sriov_drivers_autoprobe: %s",
				  s->write_autoprobe, strerror(-r));
		else
			s->autoprobe_now = s->write_autoprobe;
		return;
	}
	/* Once more when the write returned, unless that count was just reported. */
	if (s->progress && pf_count_vfs(run->dfd) != run->last)
		s->progress(s->progress_userdata, pf_count_vfs(run->dfd), (unsigned)run->counts[i]);
	if (r < 0)
		numvfs_error(s, w, r, (unsigned)run->counts[i], pf_count_vfs(run->dfd));
	else if (run->counts[i] == 0 && s->write_zero && i == 0)
		journal_log_line(s->ctx, "%s: removed its %u VFs", s->pf, s->current);
}

static int read_vfs(struct passthru_sriov *s, int dfd)
{
	_cleanup_strv_free_ char **vfs = NULL;
	unsigned n = pf_count_vfs(dfd);

	for (unsigned i = 0; i < n; i++) {
		char vf[PASSTHRU_PCI_ADDRESS_LEN + 1];
		int r = pf_vf_address(dfd, i, vf);

		if (r < 0)
			continue;
		r = strv_push(&vfs, vf);
		if (r < 0)
			return r;
	}
	strv_free(s->vfs);
	s->vfs = TAKE_PTR(vfs);
	s->current = n;
	return 0;
}

static int bind_vfs(struct passthru_sriov *s)
{
	/* After making them, say that they are there: a failed binding does not remove them. */
	const char *made = s->write_target ? "the VFs were made, but " : "";
	struct passthru_takeover *t = NULL;
	int r;

	r = passthru_takeover_new(s->ctx, PASSTHRU_TAKEOVER_BIND,
				  (s->flags & PASSTHRU_SRIOV_FORCE) ? PASSTHRU_TAKEOVER_FORCE : 0,
				  &t);
	if (r < 0)
		return set_error(s, r, "%scannot bind them: %s", made, strerror(-r));
	passthru_takeover_unref(s->takeover);
	s->takeover = t;
	passthru_takeover_set_timeout(t, s->timeout_ms);
	passthru_takeover_set_wait_fn(t, s->wait_fn, s->wait_userdata);
	STRV_FOREACH (vf, s->vfs) {
		r = passthru_takeover_add_device(t, *vf);
		if (r < 0)
			return set_error(s, r, "%sVF %s cannot be bound: %s", made, *vf,
					 strerror(-r));
	}
	r = passthru_takeover_plan(t);
	if (r >= 0)
		r = passthru_takeover_execute(t);
	if (r == -EPERM)
		return set_error(s, r, "%sVF %s cannot go to vfio-pci: %s", made,
				 passthru_takeover_get_refusal_address(t, 0),
				 passthru_takeover_get_refusal_reason(t, 0));
	if (r < 0)
		return set_error(s, r, "%sbinding the VFs failed: %s", made,
				 passthru_takeover_get_error(t) ?: strerror(-r));
	return 0;
}

_public_ int passthru_sriov_execute(struct passthru_sriov *s)
{
	static const struct exec_write_ops ops = {.start = on_write_start,
						  .tick = on_write_tick,
						  .period_ms = PROGRESS_PERIOD_MS,
						  .done = on_write_done};
	static const struct exec_write_ops ops_quiet = {.start = on_write_start,
							.done = on_write_done};
	_cleanup_close_ int dfd = -1;
	struct executor x;
	struct sriov_run run = {.s = s};
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
	int r;

	plan_report_clear_error(&s->report);
	/* The lock, and an interrupted transaction of any kind finished or rolled back. */
	r = executor_begin(&x, s->ctx, s->timeout_ms, s->lock_timeout_ms, s->wait_fn,
			   s->wait_userdata, &s->report);
	if (r < 0)
		return set_error(s, r, "%s", s->report.error ?: strerror(-r));
	dfd = pf_open_dir(s->ctx, s->pf, address);
	if (dfd < 0) {
		r = set_error(s, dfd, "cannot open it: %s", strerror(-dfd));
		goto out;
	}
	/* Under the lock, the plan must still describe the PF. */
	if (!s->planned || pf_count_vfs(dfd) != s->current) {
		r = passthru_sriov_plan(s);
		if (r == -EPERM) {
			r = set_error(s, r, "refused: %s: %s", s->report.refusals[0].address,
				      s->report.refusals[0].reason);
			goto out;
		}
		if (r < 0) {
			r = set_error(s, r, "cannot plan: %s", strerror(-r));
			goto out;
		}
	}
	if (s->report.n_refusals > 0) {
		r = set_error(s, -EPERM, "refused: %s: %s", s->report.refusals[0].address,
			      s->report.refusals[0].reason);
		goto out;
	}

	run.dfd = dfd;
	run_prepare(&run);
	r = executor_run_writes(&x, run.writes, run.n, s->progress ? &ops : &ops_quiet, &run);
	/* The executor's own messages (the journal, a fault point) do not name the PF yet. */
	if (r < 0 && s->report.error && strncmp(s->report.error, s->pf, strlen(s->pf)) != 0)
		set_error(s, r, "%s", s->report.error);
	if (r < 0) {
		long autoprobe;

		/* The rollback may have put it back. */
		if (attr_read_long_at(dfd, "sriov_drivers_autoprobe", 0, 1, &autoprobe) >= 0)
			s->autoprobe_now = (int)autoprobe;
		goto out;
	}
	r = read_vfs(s, dfd);
	if (r < 0)
		goto out;
	/*
	 * A successful write is no promise: a driver's sriov_configure may enable fewer VFs than
	 * asked (the kernel only warns), and a PF may keep its VFs. What counts is what is there.
	 */
	if (s->current != s->plan_target) {
		journal_log_line(s->ctx, "%s: asked for %u VFs, has %u", s->pf, s->plan_target,
				 s->current);
		r = set_error(s, -EIO,
			      "asked for %u VF%s, but it has %u now (its driver may enable fewer "
			      "than asked)",
			      s->plan_target, s->plan_target == 1 ? "" : "s", s->current);
		goto out;
	}
	if (s->write_target)
		journal_log_line(s->ctx, "%s: made %u VFs", s->pf, s->plan_target);
	/* The takeover takes the lock itself. */
	executor_end(&x);
	if (s->bind && s->vfs)
		r = bind_vfs(s);
	s->planned = false;
out:
	executor_end(&x);
	if (r < 0 && !s->report.error)
		set_error(s, r, "%s", strerror(-r));
	return r;
}

_public_ const char *passthru_sriov_get_error(const struct passthru_sriov *s)
{
	return s->report.error;
}

_public_ const char *const *passthru_sriov_get_vfs(const struct passthru_sriov *s)
{
	return s->vfs ? (const char *const *)s->vfs : strv_empty;
}

_public_ struct passthru_takeover *passthru_sriov_get_takeover(const struct passthru_sriov *s)
{
	return s->takeover;
}
