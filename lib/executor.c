/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The takeover executor: under the lock, the journal first, then the writes (in parallel
 * lanes by IOMMU group), rollback on failure, and repair of an interrupted transaction (of
 * attribute writes too, through executor-write.c).
 */
#include <poll.h>
#include <time.h>

#include "takeover.h"

/* ------------------------------------------------------------------------------------------ */
/* Execution                                                                                  */

static void add_device_details(struct passthru_takeover *t, const char *address)
{
	_cleanup_strv_free_ char **lines = NULL;

	if (device_describe(t->ctx, takeover_writer(t), address, &lines) < 0)
		return;
	STRV_FOREACH (l, lines)
		plan_report_add_detail(&t->report, "%s", *l);
}

/* Returns -EIO for an injected failure; kills the process for an injected crash (tests). */
static int fault_point(struct passthru_takeover *t, const char *phase, const char *step,
		       unsigned index)
{
	return fault_hit(t->ctx, &t->fault, phase, step, index);
}

/* The error of a failed step: what it is called, and for a timeout what the device says. */
static void step_error(struct passthru_takeover *t, const char *address, const char *what, int r)
{
	char buf[32];

	if (r == -ETIMEDOUT) {
		plan_report_set_error(&t->report, "%s: %s timed out after %s", address, what,
				      ms_text(t->timeout_ms, buf));
		add_device_details(t, address);
		if (timed_writer_stuck_pid(t->writer))
			plan_report_add_detail(
			    &t->report, "the write is still pending in the kernel (process %d)",
			    (int)timed_writer_stuck_pid(t->writer));
	} else {
		plan_report_set_error(&t->report, "%s: cannot %s: %s", address, what, strerror(-r));
	}
}

/* A write of the transaction, with the step named in the error when it fails. */
static int step_write(struct passthru_takeover *t, const char *address, const char *what,
		      const char *path, const char *value)
{
	int r;

	if (!takeover_writer(t))
		return -ENOMEM;
	r = timed_write(t->writer, path, value, t->timeout_ms);
	if (r < 0)
		step_error(t, address, what, r);
	return r;
}

static int write_override(struct passthru_takeover *t, const char *address, const char *value)
{
	_cleanup_free_ char *path = NULL;

	if (asprintf(&path, "/sys/bus/pci/devices/%s/driver_override", address) < 0)
		return -ENOMEM;
	/* A lone newline clears the override. */
	return step_write(t, address, "write driver_override", path, value ?: "\n");
}

static int write_unbind(struct passthru_takeover *t, const char *address, const char *driver)
{
	_cleanup_free_ char *path = NULL, *what = NULL;

	/* Through the device's own link: the driver it is on now, whatever its name. */
	if (asprintf(&path, "/sys/bus/pci/devices/%s/driver/unbind", address) < 0 ||
	    asprintf(&what, "unbind from %s", driver ?: "its driver") < 0)
		return -ENOMEM;
	return step_write(t, address, what, path, address);
}

static int write_probe(struct passthru_takeover *t, const char *address)
{
	return step_write(t, address, "probe drivers", "/sys/bus/pci/drivers_probe", address);
}

static int write_bind(struct passthru_takeover *t, const char *address, const char *driver)
{
	_cleanup_free_ char *path = NULL, *what = NULL;

	if (asprintf(&path, "/sys/bus/pci/drivers/%s/bind", driver) < 0 ||
	    asprintf(&what, "bind to %s", driver) < 0)
		return -ENOMEM;
	return step_write(t, address, what, path, address);
}

static int read_state(struct passthru_takeover *t, const char *address, struct device_state *s)
{
	int r = device_state_read(t->ctx, takeover_writer(t), t->timeout_ms, address, s);

	if (r < 0)
		plan_report_set_error(&t->report, "%s: cannot read its state: %s", address,
				      r == -ENODEV ? "the device is gone" : strerror(-r));
	return r;
}

/* The writes that move one device, with what the messages call each. */
struct move {
	struct timed_step steps[3];
	const char *whats[3];
	int stages[3]; /* 0 override, 1 unbind, 2 probe or bind: where the fault hooks go */
	size_t n;
	char *override_path, *unbind_path, *unbind_what, *bind_path, *bind_what;
};

static void move_done(struct move *m)
{
	free(m->override_path);
	free(m->unbind_path);
	free(m->unbind_what);
	free(m->bind_path);
	free(m->bind_what);
	for (size_t i = 0; i < m->n; i++)
		free(m->steps[i].result);
	memset(m, 0, sizeof(*m));
}

static int move_add(struct move *m, int stage, const char *path, const char *value,
		    const char *what)
{
	m->steps[m->n] = (struct timed_step){.op = 'w', .path = path, .value = value};
	m->whats[m->n] = what;
	m->stages[m->n++] = stage;
	return 0;
}

/* The writes of one device: to vfio-pci for a bind, to its host driver for an unbind. */
static int move_prepare(struct passthru_takeover *t, const struct journal_entry *e, struct move *m)
{
	memset(m, 0, sizeof(*m));
	/* Planned under the lock a moment ago: e->driver and e->override are how it is now. */
	if (!streq_null(e->override, e->target_override)) {
		if (asprintf(&m->override_path, "/sys/bus/pci/devices/%s/driver_override",
			     e->address) < 0)
			return -ENOMEM;
		/* A lone newline clears the override. */
		move_add(m, 0, m->override_path, e->target_override ?: "\n",
			 "write driver_override");
	}
	if (e->driver && !(t->op == PASSTHRU_TAKEOVER_BIND && is_vfio(e->driver))) {
		/* Through the device's own link: the driver it is on now, whatever its name. */
		if (asprintf(&m->unbind_path, "/sys/bus/pci/devices/%s/driver/unbind", e->address) <
			0 ||
		    asprintf(&m->unbind_what, "unbind from %s", e->driver) < 0)
			return -ENOMEM;
		move_add(m, 1, m->unbind_path, e->address, m->unbind_what);
	}
	/*
	 * With the override set, drivers_probe can only pick vfio-pci. Giving back, the original
	 * driver is asked by name: left to drivers_probe, the first driver that matches wins,
	 * and that may be vfio-pci itself when its ids= option claims the device. Without a known
	 * original, the kernel's best match; a device that had no driver gets none back.
	 */
	if (t->op == PASSTHRU_TAKEOVER_UNBIND && e->target) {
		_cleanup_free_ char *dir = NULL;

		if (asprintf(&dir, "/sys/bus/pci/drivers/%s", e->target) < 0)
			return -ENOMEM;
		if (root_exists(t->ctx, dir) &&
		    (asprintf(&m->bind_path, "/sys/bus/pci/drivers/%s/bind", e->target) < 0 ||
		     asprintf(&m->bind_what, "bind to %s", e->target) < 0))
			return -ENOMEM;
	}
	if (m->bind_path)
		move_add(m, 2, m->bind_path, e->address, m->bind_what);
	else if (t->op == PASSTHRU_TAKEOVER_BIND || e->target || e->target_any)
		move_add(m, 2, "/sys/bus/pci/drivers_probe", e->address, "probe drivers");
	return 0;
}

/* After the writes: r and failed as timed_steps() left them; checks where the device is. */
static int move_finish(struct passthru_takeover *t, const struct journal_entry *e, struct item *it,
		       struct move *m, int r, size_t failed)
{
	_cleanup_free_ char *driver = NULL;

	if (r < 0) {
		step_error(t, e->address, failed < m->n ? m->whats[failed] : "move it", r);
		return r;
	}
	r = device_driver_read(t->ctx, e->address, &driver);
	if (r < 0) {
		plan_report_set_error(&t->report, "%s: cannot read its driver: %s", e->address,
				      r == -ENODEV ? "the device is gone" : strerror(-r));
		return r;
	}
	if (t->op == PASSTHRU_TAKEOVER_BIND && !is_vfio(driver)) {
		plan_report_set_error(&t->report, "%s: vfio-pci did not take it (driver now: %s)",
				      e->address, driver ?: "none");
		add_device_details(t, e->address);
		r = -EIO;
	} else if (t->op == PASSTHRU_TAKEOVER_UNBIND && is_vfio(driver)) {
		plan_report_set_error(&t->report,
				      "%s: vfio-pci took it again (does its ids= option claim it?)",
				      e->address);
		add_device_details(t, e->address);
		r = -EIO;
	} else if (t->op == PASSTHRU_TAKEOVER_UNBIND && e->target && !driver) {
		plan_report_set_error(&t->report,
				      "%s: no driver took it back, not even %s (its original)",
				      e->address, e->target);
		add_device_details(t, e->address);
		r = -ENODEV;
	} else if (t->op == PASSTHRU_TAKEOVER_UNBIND && e->target &&
		   !streq_null(driver, e->target)) {
		r = item_note(t, it, "%s took it, not the original %s", driver, e->target);
	} else if (t->op == PASSTHRU_TAKEOVER_UNBIND && e->target_any && !driver) {
		r = item_note(t, it, "no host driver took it: it is left without a driver");
	}
	if (r >= 0) {
		free(it->result);
		it->result = TAKE_PTR(driver);
	}
	return r;
}

/*
 * Moves one device, its writes in one round trip; with a fault hook set for this phase they
 * go one by one, the hook between them. index counts from 1 for the hook.
 */
static int forward(struct passthru_takeover *t, const struct journal_entry *e, struct item *it,
		   unsigned index)
{
	static const char *const stage_faults[] = {"after-override", "after-unbind", "after-probe"};
	const char *phase = t->op == PASSTHRU_TAKEOVER_BIND ? "bind" : "unbind";
	struct move m;
	size_t failed = 0;
	int r;

	if (!takeover_writer(t))
		return -ENOMEM;
	r = move_prepare(t, e, &m);
	if (r < 0) {
		move_done(&m);
		return r;
	}
	if (t->fault.set && strcmp(t->fault.phase, phase) == 0) {
		size_t k = 0;

		for (int stage = 0; stage < 3 && r >= 0; stage++) {
			if (k < m.n && m.stages[k] == stage) {
				r = timed_steps(t->writer, &m.steps[k], 1, t->timeout_ms, NULL);
				if (r < 0) {
					failed = k;
					break;
				}
				k++;
			}
			r = fault_point(t, phase, stage_faults[stage], index);
			if (r < 0) {
				plan_report_set_error(&t->report,
						      "%s: injected failure (PASSTHRU_FAULT)",
						      e->address);
				move_done(&m);
				return r;
			}
		}
	} else if (m.n > 0) {
		r = timed_steps(t->writer, m.steps, m.n, t->timeout_ms, &failed);
	}
	r = move_finish(t, e, it, &m, r, failed);
	move_done(&m);
	return r;
}

/* ------------------------------------------------------------------------------------------ */
/* Independent IOMMU groups in parallel                                                       */

/*
 * Most of a device's move is the kernel waiting (a device put into D3hot and back, a function
 * reset, a driver's remove): devices of different IOMMU groups are moved at the same time, by
 * up to MAX_LANES helpers. Within a group the order is kept: one lane does a whole group.
 */
#define MAX_LANES     8
#define LANE_AFTER_MS 5

struct lane {
	struct timed_writer *w;
	size_t first, end, pos; /* the entries of its group: [first, end), pos in flight */
	bool busy;
	struct move move;
	int seen;
	struct timespec since;
};

static long elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* Starts the move of e in a lane; 1 when there is nothing to write. */
static int lane_start(struct passthru_takeover *t, const struct journal_entry *e, struct lane *l)
{
	int r = move_prepare(t, e, &l->move);

	if (r >= 0 && l->move.n == 0)
		return 1; /* nothing to write: done at once */
	if (r >= 0)
		r = timed_submit(l->w, l->move.steps, l->move.n);
	if (r < 0) {
		step_error(t, e->address, "move it", r);
		move_done(&l->move);
		return r;
	}
	l->busy = true;
	l->seen = -1;
	clock_gettime(CLOCK_MONOTONIC, &l->since);
	return 0;
}

static struct item *entry_item(struct passthru_takeover *t, const struct journal_entry *e)
{
	return takeover_item_find(t, e->address);
}

/* move_finish() in parallel: the first failure is the error, later ones are details. */
static void lane_finish(struct passthru_takeover *t, const struct journal_entry *e, struct move *m,
			int r, size_t failed, int *result)
{
	_cleanup_free_ char *first = *result < 0 ? TAKE_PTR(t->report.error) : NULL;

	r = move_finish(t, e, entry_item(t, e), m, r, failed);
	if (r < 0 && *result < 0) {
		plan_report_add_detail(&t->report, "also: %s", t->report.error ?: strerror(-r));
		free(t->report.error);
		t->report.error = TAKE_PTR(first);
	} else if (first) {
		t->report.error = TAKE_PTR(first);
	}
	if (r < 0 && *result >= 0)
		*result = r;
}

/* The entries of j (sorted by address) grouped by IOMMU group, in lanes. */
static int run_parallel(struct passthru_takeover *t, const struct journal *j)
{
	_cleanup_free_ size_t *order = calloc(j->n_entries + 1, sizeof(size_t));
	struct lane lanes[MAX_LANES] = {0};
	size_t n_lanes = 0, next = 0, n_groups = 0, *group_start = NULL;
	int *groups;
	int result = 0;

	if (!order)
		return -ENOMEM;
	/* Entries ordered by group (stable: by address within a group); no group, alone. */
	groups = calloc(j->n_entries + 1, sizeof(int));
	group_start = calloc(j->n_entries + 1, sizeof(size_t));
	if (!groups || !group_start) {
		free(groups);
		free(group_start);
		return -ENOMEM;
	}
	for (size_t i = 0; i < j->n_entries; i++) {
		const struct item *it = entry_item(t, &j->entries[i]);

		groups[i] = it ? it->group : -1;
	}
	{
		size_t k = 0;

		for (size_t i = 0; i < j->n_entries; i++) {
			bool seen = false;

			for (size_t p = 0; p < i && !seen; p++)
				seen = groups[i] >= 0 && groups[p] == groups[i];
			if (seen)
				continue;
			group_start[n_groups++] = k;
			for (size_t q = i; q < j->n_entries; q++)
				if (q == i || (groups[i] >= 0 && groups[q] == groups[i]))
					order[k++] = q;
		}
	}
	group_start[n_groups] = j->n_entries;
	free(groups);

	/* One lane to begin with; more only while devices keep lanes busy (see below). */
	lanes[0].w = takeover_writer(t);
	if (!lanes[0].w) {
		free(group_start);
		return -ENOMEM;
	}
	n_lanes = 1;

	for (;;) {
		struct pollfd pfds[MAX_LANES];
		size_t busy = 0;
		int wait = -1, r;

		/* Idle lanes take the next entry of their group, or the next group. */
		for (size_t i = 0; i < n_lanes && result >= 0; i++) {
			struct lane *l = &lanes[i];

			while (!l->busy && result >= 0) {
				if (l->end == 0 || l->pos + 1 >= l->end) {
					if (next >= n_groups)
						break;
					l->first = group_start[next];
					l->end = group_start[next + 1];
					l->pos = l->first;
					next++;
				} else {
					l->pos++;
				}
				r = lane_start(t, &j->entries[order[l->pos]], l);
				if (r == 1) {
					struct move none = {0};

					lane_finish(t, &j->entries[order[l->pos]], &none, 0, 0,
						    &result);
				} else if (r < 0) {
					result = r;
				}
			}
		}
		for (size_t i = 0; i < n_lanes; i++) {
			if (!lanes[i].busy)
				continue;
			pfds[busy++] =
			    (struct pollfd){.fd = timed_fd(lanes[i].w), .events = POLLIN};
		}
		if (busy == 0)
			break;
		/* Wake up for the lane whose step has gone longest without progress. */
		for (size_t i = 0; i < n_lanes; i++)
			if (lanes[i].busy) {
				long left = (long)t->timeout_ms - elapsed_ms(&lanes[i].since);

				if (left < 0)
					left = 0;
				if (wait < 0 || left < wait)
					wait = (int)left;
			}
		/*
		 * A helper costs two forks. Binding a device without a driver takes the kernel a
		 * few milliseconds, giving one back to a driver tens: another lane starts when
		 * every lane has been busy for LANE_AFTER_MS and groups are waiting.
		 */
		if (next < n_groups && n_lanes < MAX_LANES && busy == n_lanes &&
		    wait > LANE_AFTER_MS)
			wait = LANE_AFTER_MS;
		do
			r = poll(pfds, busy, wait);
		while (r < 0 && errno == EINTR);
		if (r < 0) {
			result = -errno;
			break;
		}
		if (r == 0 && next < n_groups && n_lanes < MAX_LANES && busy == n_lanes &&
		    result >= 0 && timed_writer_new(t->ctx, &lanes[n_lanes].w) >= 0)
			n_lanes++;
		for (size_t i = 0, p = 0; i < n_lanes; i++) {
			struct lane *l = &lanes[i];
			size_t failed = 0, e;

			if (!l->busy)
				continue;
			e = order[l->pos];
			if (pfds[p++].revents) {
				r = timed_collect(l->w, l->move.steps, l->move.n, &failed);
				l->busy = false;
				lane_finish(t, &j->entries[e], &l->move, r, failed, &result);
				move_done(&l->move);
			} else if (elapsed_ms(&l->since) >= (long)t->timeout_ms) {
				int now = timed_progress(l->w);

				if (now != l->seen) {
					l->seen = now;
					clock_gettime(CLOCK_MONOTONIC, &l->since);
					continue;
				}
				failed = timed_abandon(l->w);
				l->busy = false;
				lane_finish(t, &j->entries[e], &l->move, -ETIMEDOUT, failed,
					    &result);
				move_done(&l->move);
			}
		}
		/* After a failure nothing new starts; what is in flight finishes. */
		if (result < 0)
			next = n_groups;
	}
	for (size_t i = 1; i < n_lanes; i++)
		timed_writer_free(lanes[i].w);
	free(group_start);
	return result;
}

/*
 * Puts a device back where the entry says it was: its original driver_override and driver.
 * phase is "rollback" or "repair", for the fault hook.
 */
static int restore(struct passthru_takeover *t, const struct journal_entry *e, const char *phase,
		   unsigned index)
{
	struct device_state s = {0};
	int r;

	r = read_state(t, e->address, &s);
	if (r == -ENODEV) {
		/* Gone (hot-unplugged, VFs removed): there is nothing left to put back. */
		free(t->report.error);
		t->report.error = NULL;
		return 0;
	}
	if (r < 0)
		return r;
	if (journal_entry_at_origin(e, &s)) {
		device_state_done(&s);
		return 0;
	}
	if (!streq_null(s.override, e->override))
		r = write_override(t, e->address, e->override);
	if (r >= 0)
		r = fault_point(t, phase, "after-override", index);
	if (r >= 0 && s.driver && !streq_null(s.driver, e->driver))
		r = write_unbind(t, e->address, s.driver);
	if (r >= 0)
		r = fault_point(t, phase, "after-unbind", index);
	if (r >= 0 && e->driver && !streq_null(s.driver, e->driver)) {
		_cleanup_free_ char *dir = NULL;

		if (asprintf(&dir, "/sys/bus/pci/drivers/%s", e->driver) < 0)
			r = -ENOMEM;
		else if (root_exists(t->ctx, dir))
			r = write_bind(t, e->address, e->driver);
		else
			r = write_probe(t, e->address);
	}
	if (r >= 0)
		r = fault_point(t, phase, "after-probe", index);
	device_state_done(&s);
	if (r < 0)
		return r;

	r = read_state(t, e->address, &s);
	if (r < 0)
		return r;
	if (!journal_entry_at_origin(e, &s)) {
		plan_report_set_error(&t->report, "%s: could not go back to %s (driver now: %s)",
				      e->address, e->driver ?: "no driver", s.driver ?: "none");
		add_device_details(t, e->address);
		r = -EIO;
	}
	device_state_done(&s);
	return r;
}

/* Rolls back every entry (in reverse); 0 when every device is back. */
static int rollback(struct passthru_takeover *t, const struct journal *j, const char *phase)
{
	int result = 0;

	for (size_t i = j->n_entries; i-- > 0;) {
		_cleanup_free_ char *saved = TAKE_PTR(t->report.error);
		int r = restore(t, &j->entries[i], phase, (unsigned)(j->n_entries - i));

		if (r < 0) {
			plan_report_add_detail(&t->report, "rollback: %s",
					       t->report.error ?: strerror(-r));
			result = r;
		}
		free(t->report.error);
		t->report.error = TAKE_PTR(saved);
	}
	return result;
}

/* Records the outcome in the held record: who is on vfio-pci through us, coming from where. */
static int commit_held(struct passthru_takeover *t, const struct journal *j)
{
	_cleanup_journal_ struct journal *held = NULL;
	int r;

	r = journal_load(t->ctx, HELD_PATH, JOURNAL_KIND_HELD, &held);
	if (r == -ENOENT || r == -EBADMSG)
		r = journal_new(JOURNAL_OP_BIND, &held);
	if (r < 0)
		return r;
	for (size_t i = 0; i < j->n_entries; i++) {
		const struct journal_entry *e = &j->entries[i];

		if (j->op == JOURNAL_OP_BIND) {
			struct journal_entry h = {0};

			r = journal_entry_set(&h, e->address, e->driver, e->override, NULL, false,
					      NULL, e->id);
			if (r >= 0)
				r = journal_put(held, &h);
			free(h.driver);
			free(h.override);
			free(h.id);
			if (r < 0)
				return r;
		} else {
			(void)journal_remove(held, e->address);
		}
	}
	if (held->n_entries == 0) {
		r = root_unlink(t->ctx, HELD_PATH);
		return r == -ENOENT ? 0 : r;
	}
	return journal_save(t->ctx, HELD_PATH, JOURNAL_KIND_HELD, held);
}

static int journal_finish(struct passthru_takeover *t)
{
	int r = root_unlink(t->ctx, JOURNAL_PATH);

	return r == -ENOENT ? 0 : r;
}

static const char *entry_names(const struct journal *j, char **buf)
{
	size_t len = 1;

	for (size_t i = 0; i < j->n_entries; i++)
		len += PASSTHRU_PCI_ADDRESS_LEN + 1;
	*buf = calloc(1, len);
	if (!*buf)
		return "";
	for (size_t i = 0; i < j->n_entries; i++) {
		if (i)
			strcat(*buf, " ");
		strcat(*buf, j->entries[i].address);
	}
	return *buf;
}

int takeover_repair_locked(struct passthru_takeover *t)
{
	_cleanup_journal_ struct journal *j = NULL;
	_cleanup_free_ struct device_state *states = NULL;
	_cleanup_free_ char *names = NULL;
	enum repair_decision decision;
	unsigned line = 0;
	int r;

	t->repair = PASSTHRU_REPAIR_NOTHING;
	{
		_cleanup_free_ char *text = NULL;
		size_t len;

		r = root_read_file(t->ctx, JOURNAL_PATH, &text, &len);
		if (r == -ENOENT)
			return 0;
		if (r >= 0)
			r = journal_parse(text, len, JOURNAL_KIND_TRANSACTION, &j, &line);
	}
	if (r == -EBADMSG) {
		plan_report_set_error(
		    &t->report,
		    "%s is damaged (line %u): cannot tell what an interrupted transaction "
		    "did",
		    JOURNAL_PATH, line);
		return r;
	}
	if (r < 0) {
		plan_report_set_error(&t->report, "cannot read %s: %s", JOURNAL_PATH, strerror(-r));
		return r;
	}
	if (j->op == JOURNAL_OP_WRITE)
		return takeover_repair_writes(t, j);
	if (j->op == JOURNAL_OP_VF)
		return takeover_repair_vfs(t, j);

	states = calloc(j->n_entries + 1, sizeof(*states));
	if (!states)
		return -ENOMEM;
	for (size_t i = 0; i < j->n_entries; i++) {
		r = device_state_read(t->ctx, takeover_writer(t), t->timeout_ms,
				      j->entries[i].address, &states[i]);
		if (r < 0 && r != -ENODEV) {
			for (size_t k = 0; k < i; k++)
				device_state_done(&states[k]);
			plan_report_set_error(&t->report, "%s: cannot read its state: %s",
					      j->entries[i].address, strerror(-r));
			return r;
		}
	}
	decision = journal_decide(j, states);

	/* The devices of the interrupted transaction become the plan, for whoever reports it. */
	if (t->op == PASSTHRU_TAKEOVER_REPAIR) {
		takeover_plan_clear(t);
		for (size_t i = 0; i < j->n_entries; i++) {
			const struct journal_entry *e = &j->entries[i];
			struct item *it;

			if (!states[i].present)
				continue;
			r = takeover_item_add(t, e->address, true, &it);
			if (r < 0 && errno_is_vanished(r))
				continue;
			if (r < 0)
				break;
			it->action = j->op == JOURNAL_OP_BIND ? PASSTHRU_ACTION_BIND
							      : PASSTHRU_ACTION_UNBIND;
			if (dup_or_null(e->driver, &it->original) < 0 ||
			    dup_or_null(e->target, &it->target) < 0) {
				r = -ENOMEM;
				break;
			}
			it->target_any = e->target_any;
		}
		t->planned = true;
	}
	for (size_t i = 0; i < j->n_entries; i++)
		device_state_done(&states[i]);
	if (r < 0)
		return r;

	if (decision == REPAIR_COMMIT) {
		r = commit_held(t, j);
		if (r >= 0)
			r = journal_finish(t);
		if (r < 0) {
			plan_report_set_error(&t->report, "cannot record the completed %s: %s",
					      j->op == JOURNAL_OP_BIND ? "bind" : "unbind",
					      strerror(-r));
			return r;
		}
		t->repair = PASSTHRU_REPAIR_COMPLETED;
		journal_log_line(t->ctx, "repair: interrupted %s of %s had completed",
				 j->op == JOURNAL_OP_BIND ? "bind" : "unbind",
				 entry_names(j, &names));
	} else {
		r = rollback(t, j, "repair");
		if (r < 0) {
			plan_report_set_error(
			    &t->report, "cannot roll back the interrupted %s of %s",
			    j->op == JOURNAL_OP_BIND ? "bind" : "unbind", entry_names(j, &names));
			return r;
		}
		r = journal_finish(t);
		if (r < 0) {
			plan_report_set_error(&t->report, "cannot remove %s: %s", JOURNAL_PATH,
					      strerror(-r));
			return r;
		}
		t->repair = PASSTHRU_REPAIR_ROLLED_BACK;
		journal_log_line(t->ctx, "repair: interrupted %s of %s rolled back",
				 j->op == JOURNAL_OP_BIND ? "bind" : "unbind",
				 entry_names(j, &names));
	}
	if (t->op == PASSTHRU_TAKEOVER_REPAIR)
		for (size_t i = 0; i < t->n_items; i++) {
			struct device_state s = {0};

			if (device_state_read(t->ctx, takeover_writer(t), t->timeout_ms,
					      t->items[i].address, &s) >= 0) {
				free(t->items[i].result);
				t->items[i].result = TAKE_PTR(s.driver);
				device_state_done(&s);
			}
		}
	return 1;
}

/* True when the devices still look as they did when the plan was made. */
static bool plan_still_valid(struct passthru_takeover *t)
{
	_cleanup_free_ const char **addresses = calloc(t->n_items + 1, sizeof(char *));
	_cleanup_free_ char **overrides = calloc(t->n_items + 1, sizeof(char *));
	bool same = addresses && overrides;

	for (size_t i = 0; same && i < t->n_items; i++) {
		_cleanup_free_ char *driver = NULL;

		addresses[i] = t->items[i].address;
		same = device_driver_read(t->ctx, t->items[i].address, &driver) >= 0 &&
		       streq_null(driver, t->items[i].driver);
	}
	if (same && takeover_overrides_read(t, addresses, t->n_items, overrides) < 0) {
		/* Planning again says why. */
		free(t->report.error);
		t->report.error = NULL;
		return false;
	}
	for (size_t i = 0; same && i < t->n_items; i++)
		same = streq_null(overrides[i], t->items[i].override);
	for (size_t i = 0; overrides && i < t->n_items; i++)
		free(overrides[i]);
	return same;
}

static int run_transaction(struct passthru_takeover *t)
{
	_cleanup_journal_ struct journal *j = NULL;
	enum passthru_takeover_action action =
	    t->op == PASSTHRU_TAKEOVER_BIND ? PASSTHRU_ACTION_BIND : PASSTHRU_ACTION_UNBIND;
	const char *phase = t->op == PASSTHRU_TAKEOVER_BIND ? "bind" : "unbind";
	unsigned index = 0;
	int r;

	r = journal_new(t->op == PASSTHRU_TAKEOVER_BIND ? JOURNAL_OP_BIND : JOURNAL_OP_UNBIND, &j);
	if (r < 0)
		return r;
	j->pid = getpid();
	for (size_t i = 0; i < t->n_items; i++) {
		struct item *it = &t->items[i];
		struct journal_entry e = {0};

		if (it->action != action)
			continue;
		r = journal_entry_set(&e, it->address, it->driver, it->override, it->target,
				      it->target_any, it->target_override,
				      it->id[0] ? it->id : NULL);
		if (r >= 0)
			r = journal_put(j, &e);
		free(e.driver);
		free(e.override);
		free(e.target);
		free(e.target_override);
		free(e.id);
		if (r < 0)
			return r;
	}
	if (j->n_entries == 0)
		return 0;

	if (t->op == PASSTHRU_TAKEOVER_BIND) {
		r = vfio_modules_ensure(t->ctx);
		if (r < 0) {
			plan_report_set_error(
			    &t->report, "%s: vfio-pci is not available: %s", j->entries[0].address,
			    r == -ENOPKG ? "the modules are not loaded (and cannot be loaded "
					   "below a sysroot)"
					 : strerror(-r));
			return r;
		}
	}

	/* Nothing is touched before the record of how things were is on disk. */
	r = journal_save(t->ctx, JOURNAL_PATH, JOURNAL_KIND_TRANSACTION, j);
	if (r < 0) {
		plan_report_set_error(&t->report, "cannot write %s: %s", JOURNAL_PATH,
				      strerror(-r));
		return r;
	}
	for (size_t i = 0; i < t->n_items; i++)
		STRV_FOREACH (n, t->items[i].notes)
			if (strncmp(*n, "forced", 6) == 0)
				journal_log_line(t->ctx, "%s %s: %s", phase, t->items[i].address,
						 *n);
	r = fault_point(t, phase, "after-journal", 1);
	if (r < 0) {
		plan_report_set_error(&t->report,
				      "injected failure (PASSTHRU_FAULT) after the journal");
		(void)journal_finish(t);
		return r;
	}

	if (t->fault.set && strcmp(t->fault.phase, phase) == 0) {
		/* The fault hook counts devices in order: one at a time. */
		for (size_t i = 0; i < t->n_items; i++) {
			struct item *it = &t->items[i];

			if (it->action != action)
				continue;
			r = forward(t, journal_find(j, it->address), it, ++index);
			if (r < 0)
				break;
		}
	} else {
		r = run_parallel(t, j);
	}
	if (r >= 0) {
		r = fault_point(t, phase, "before-commit", 1);
		if (r < 0)
			plan_report_set_error(
			    &t->report, "injected failure (PASSTHRU_FAULT) before the commit");
	}
	if (r < 0) {
		int q = rollback(t, j, "rollback");

		if (q < 0) {
			plan_report_add_detail(
			    &t->report, "the journal is kept: 'passthru repair' tries again");
		} else {
			plan_report_add_detail(
			    &t->report,
			    "rolled back: every touched device is on its original driver");
			(void)journal_finish(t);
		}
		return r;
	}

	r = commit_held(t, j);
	if (r >= 0)
		r = journal_finish(t);
	if (r < 0) {
		plan_report_set_error(&t->report, "cannot record the %s in %s: %s", phase,
				      HELD_PATH, strerror(-r));
		return r;
	}
	return 0;
}

static int run_resets(struct passthru_takeover *t)
{
	for (size_t i = 0; i < t->n_items; i++)
		STRV_FOREACH (n, t->items[i].notes)
			if (strncmp(*n, "forced", 6) == 0)
				journal_log_line(t->ctx, "reset %s: %s", t->items[i].address, *n);
	for (size_t i = 0; i < t->n_items; i++) {
		struct item *it = &t->items[i];
		char buf[32];
		int r;

		if (it->action != PASSTHRU_ACTION_RESET)
			continue;
		r = takeover_writer(t) ? pci_reset_run(t->ctx, t->writer, it->address,
						       t->reset_method, t->timeout_ms)
				       : -ENOMEM;
		if (r == -ETIMEDOUT) {
			plan_report_set_error(&t->report, "%s: reset timed out after %s",
					      it->address, ms_text(t->timeout_ms, buf));
			add_device_details(t, it->address);
			if (timed_writer_stuck_pid(t->writer))
				plan_report_add_detail(
				    &t->report,
				    "the write is still pending in the kernel (process %d)",
				    (int)timed_writer_stuck_pid(t->writer));
		} else if (r < 0) {
			plan_report_set_error(&t->report, "%s: reset failed: %s", it->address,
					      strerror(-r));
			add_device_details(t, it->address);
		}
		if (r < 0)
			return r;
		it->result = it->driver ? strdup(it->driver) : NULL;
	}
	return 0;
}

_public_ int passthru_takeover_execute(struct passthru_takeover *t)
{
	_cleanup_free_ char *lock_error = NULL;
	int r;

	if (!t)
		return -EINVAL;
	takeover_error_clear(t);
	t->repair = PASSTHRU_REPAIR_NOTHING;

	t->lock_fd = journal_lock_take(t->ctx, t->lock_timeout_ms, t->wait_fn, t->wait_userdata,
				       &lock_error);
	if (t->lock_fd < 0) {
		r = t->lock_fd;
		t->lock_fd = -1;
		plan_report_set_error(&t->report, "%s", lock_error ?: strerror(-r));
		return r;
	}
	/* Helpers spawned from now on do not inherit the lock (timed-io.c closes it in them). */
	r = takeover_repair_locked(t);
	if (r < 0 || t->op == PASSTHRU_TAKEOVER_REPAIR)
		goto out;

	if (!t->planned || r > 0 || !plan_still_valid(t)) {
		r = passthru_takeover_plan(t);
		if (r < 0)
			goto out;
	} else if (t->report.n_refusals > 0) {
		r = -EPERM;
		goto out;
	}
	if (t->op == PASSTHRU_TAKEOVER_RESET)
		r = run_resets(t);
	else
		r = run_transaction(t);
	if (r >= 0)
		for (size_t i = 0; i < t->n_items; i++) {
			struct item *it = &t->items[i];

			if (it->result || it->action == PASSTHRU_ACTION_RESET)
				continue;
			(void)device_driver_read(t->ctx, it->address, &it->result);
		}
out:
	if (r < 0 && !t->report.error && r != -EPERM)
		plan_report_set_error(&t->report, "%s", strerror(-r));
	close(t->lock_fd);
	t->lock_fd = -1;
	return r < 0 ? r : 0;
}
