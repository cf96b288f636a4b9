/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VF counts: making and removing a PF's VFs through sriov_numvfs, as a plan (here) and its
 * execution (sriov-execute.c).
 *
 * The kernel's rules (drivers/pci/iov.c, Documentation/ABI/testing/sysfs-bus-pci):
 * - writing N to sriov_numvfs asks the PF's driver (its sriov_configure) to enable N VFs; a PF
 *   without a driver, or whose driver cannot, refuses with ENOENT;
 * - a count that is not 0 cannot be changed to another non-zero count (EBUSY): it goes through
 *   0, which removes every VF and unbinds whatever driver each has (vfio-pci's release waits for
 *   the VM that holds the device, possibly forever);
 * - the write returns once every VF was added (and probed) or removed: seconds for many VFs;
 * - sriov_drivers_autoprobe decides whether drivers probe the new VFs; a VF with
 *   driver_override set is probed anyway. It matters only when VFs are made.
 * The kernel makes the PF's virtfnN links (N from 0, without gaps) as it adds VFs: counting them
 * is how progress is seen while a write is under way.
 */

#include "device-state.h"
#include "journal.h"
#include "pf.h"
#include "plan-report.h"
#include "sriov.h"
#include "vf-config.h"
#include "vfio-users.h"

#define DEFAULT_TIMEOUT_MS 60000
#define LOCK_TIMEOUT_MS	   30000
/* The kernel's own limit on a PF's VFs (the SR-IOV capability's TotalVFs is 16 bits). */
#define VF_COUNT_MAX 65535

/* ------------------------------------------------------------------------------------------ */
/* The object                                                                                 */

static void plan_clear(struct passthru_sriov *s)
{
	strv_free(s->removed);
	strv_free(s->steps);
	strv_free(s->notes);
	s->removed = s->steps = s->notes = NULL;
	plan_report_clear_plan(&s->report);
	s->write_zero = s->write_target = s->bind = false;
	s->write_autoprobe = -1;
	s->planned = false;
}

/* Reads the PF's counts and autoprobe into s. */
int sriov_read_pf(struct passthru_sriov *s, int dfd)
{
	long total, autoprobe;
	int r;

	r = attr_read_long_at(dfd, "sriov_totalvfs", 0, VF_COUNT_MAX, &total);
	if (r < 0)
		return r;
	s->total = (unsigned)total;
	/* sriov_numvfs and the links say the same; the links are what progress counts. */
	s->current = pf_count_vfs(dfd);
	r = attr_read_long_at(dfd, "sriov_drivers_autoprobe", 0, 1, &autoprobe);
	s->autoprobe_now = r < 0 ? -ENODATA : (int)autoprobe;
	return 0;
}

_public_ int passthru_sriov_new(struct passthru_ctx *ctx, const char *pf, unsigned flags,
				struct passthru_sriov **ret)
{
	_cleanup_close_ int dfd = -1;
	struct passthru_sriov *s;
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
	int r;

	if (!ctx || !pf || !ret)
		return -EINVAL;
	dfd = pf_open_dir(ctx, pf, address);
	if (dfd < 0)
		return dfd;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->refcount = 1;
	s->ctx = passthru_ctx_ref(ctx);
	memcpy(s->pf, address, sizeof(s->pf));
	s->flags = flags;
	s->timeout_ms = DEFAULT_TIMEOUT_MS;
	s->lock_timeout_ms = LOCK_TIMEOUT_MS;
	s->autoprobe_want = -1;
	s->write_autoprobe = -1;
	r = sriov_read_pf(s, dfd);
	if (r < 0) {
		log_debug(ctx, "%s: cannot read sriov_totalvfs: %s", address, strerror(-r));
		passthru_sriov_unref(s);
		return r == -EBADMSG || r == -ERANGE ? -EOPNOTSUPP : r;
	}
	*ret = s;
	return 0;
}

static void sriov_free(struct passthru_sriov *s)
{
	plan_clear(s);
	plan_report_done(&s->report);
	strv_free(s->vfs);
	passthru_takeover_unref(s->takeover);
	passthru_ctx_unref(s->ctx);
	free(s);
}

DEFINE_REF_UNREF_FUNC(_public_, struct passthru_sriov, passthru_sriov, sriov_free);

_public_ const char *passthru_sriov_get_pf(const struct passthru_sriov *s)
{
	return s->pf;
}

_public_ int passthru_sriov_get_totalvfs(const struct passthru_sriov *s, unsigned *ret)
{
	*ret = s->total;
	return 0;
}

_public_ int passthru_sriov_get_numvfs(const struct passthru_sriov *s, unsigned *ret)
{
	*ret = s->current;
	return 0;
}

_public_ int passthru_sriov_get_autoprobe(const struct passthru_sriov *s, bool *ret)
{
	if (s->autoprobe_now < 0)
		return s->autoprobe_now;
	*ret = s->autoprobe_now == 1;
	return 0;
}

_public_ int passthru_sriov_set_numvfs(struct passthru_sriov *s, unsigned numvfs)
{
	if (numvfs > s->total)
		return -ERANGE;
	s->target = numvfs;
	s->has_target = true;
	s->planned = false;
	return 0;
}

_public_ int passthru_sriov_set_autoprobe(struct passthru_sriov *s, int autoprobe)
{
	if (autoprobe < -1 || autoprobe > 1)
		return -EINVAL;
	s->autoprobe_want = autoprobe;
	s->planned = false;
	return 0;
}

_public_ void passthru_sriov_set_timeout(struct passthru_sriov *s, unsigned msec)
{
	s->timeout_ms = msec ? msec : DEFAULT_TIMEOUT_MS;
	s->lock_timeout_ms = msec ? msec : LOCK_TIMEOUT_MS;
}

void sriov_set_lock_timeout(struct passthru_sriov *s, unsigned msec)
{
	s->lock_timeout_ms = msec ? msec : LOCK_TIMEOUT_MS;
}

_public_ void passthru_sriov_set_wait_fn(struct passthru_sriov *s, passthru_takeover_wait_fn fn,
					 void *userdata)
{
	s->wait_fn = fn;
	s->wait_userdata = userdata;
}

_public_ void passthru_sriov_set_progress_fn(struct passthru_sriov *s,
					     passthru_sriov_progress_fn fn, void *userdata)
{
	s->progress = fn;
	s->progress_userdata = userdata;
}

/* ------------------------------------------------------------------------------------------ */
/* Planning                                                                                   */

/* A remark of the plan: in the notes (passthru_sriov_get_notes()) and in the report. */
static int note(struct passthru_sriov *s, const char *address, const char *format, ...)
    _printf_(3, 4);
static int note(struct passthru_sriov *s, const char *address, const char *format, ...)
{
	_cleanup_free_ char *text = NULL;
	va_list ap;
	int r;

	va_start(ap, format);
	text = strfv(format, ap);
	va_end(ap);
	if (!text)
		return -ENOMEM;
	r = plan_report_note(&s->report, address, "%s", text);
	if (r < 0)
		return r;
	return strv_consume(&s->notes, TAKE_PTR(text));
}

/* The report's kind of each of SR-IOV's own. */
static const enum passthru_refusal_kind refusal_kinds[] = {
    [PASSTHRU_SRIOV_REFUSAL_IN_USE] = PASSTHRU_REFUSAL_IN_USE,
    [PASSTHRU_SRIOV_REFUSAL_DRIVER] = PASSTHRU_REFUSAL_DRIVER,
    [PASSTHRU_SRIOV_REFUSAL_GUARD] = PASSTHRU_REFUSAL_GUARD,
    [PASSTHRU_SRIOV_REFUSAL_NO_DRIVER] = PASSTHRU_REFUSAL_NO_DRIVER,
};

/* A refusal, or with PASSTHRU_SRIOV_FORCE for the kinds it overrides, a note and a log line. */
static int refuse(struct passthru_sriov *s, enum passthru_sriov_refusal_kind kind,
		  const char *address, const char *reason)
{
	if ((s->flags & PASSTHRU_SRIOV_FORCE) &&
	    (kind == PASSTHRU_SRIOV_REFUSAL_DRIVER || kind == PASSTHRU_SRIOV_REFUSAL_GUARD)) {
		journal_log_line(s->ctx, "%s: removing VF %s although %s (forced)", s->pf, address,
				 reason);
		return note(s, address, "forced: %s: %s", address, reason);
	}
	return plan_report_refuse(&s->report, refusal_kinds[kind], address, "%s", reason);
}

/* Module names treat '-' and '_' alike; driver names keep what the author wrote. */
static bool same_module(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (*a != *b && !((*a == '-' || *a == '_') && (*b == '-' || *b == '_')))
			return false;
	return !*a && !*b;
}

/* A VF on vfio-pci: refused while a process (a VM) holds its group or device file. */
static int check_vfio_vf(struct passthru_sriov *s, const char *vf)
{
	_cleanup_free_ char *path = NULL, *group_name = NULL;
	_cleanup_strv_free_ char **users = NULL;
	_cleanup_close_ int fd = -1;
	long group;
	int r;

	if (asprintf(&path, "/sys/bus/pci/devices/%s", vf) < 0)
		return -ENOMEM;
	fd = root_open_dir(s->ctx, path);
	if (fd < 0)
		return errno_is_vanished(fd) ? 0 : fd;
	r = attr_link_basename_at(fd, "iommu_group", &group_name);
	if (r < 0 || parse_long(group_name, 0, INT32_MAX, &group) < 0)
		group = -1;
	/* Without a group no VM can have it through the group file; iommufd's cdev still counts. */
	r = vfio_group_users(s->ctx, (int)group, vf, &users);
	if (r < 0)
		return r;
	STRV_FOREACH (u, users) {
		r = refuse(s, PASSTHRU_SRIOV_REFUSAL_IN_USE, vf, *u);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * A VF on a host driver: refused when the driver is not the one the kernel would give it (a
 * module its modalias matches: what autoprobe binds), and when the host uses it.
 */
static int check_host_vf(struct passthru_sriov *s, const char *vf, const char *driver)
{
	struct passthru_pci_device *dev = NULL;
	struct passthru_guard_list *guards = NULL;
	bool is_default = false;
	int r;

	r = passthru_pci_device_new(s->ctx, vf, &dev);
	if (r < 0)
		return errno_is_vanished(r) ? 0 : r;
	for (const char *const *m = passthru_pci_device_get_modules(dev); *m; m++)
		if (same_module(*m, driver))
			is_default = true;
	passthru_pci_device_unref(dev);
	if (!is_default) {
		_cleanup_free_ char *reason = NULL;

		if (asprintf(&reason, "it is on %s, not on its default driver or vfio-pci",
			     driver) < 0)
			return -ENOMEM;
		r = refuse(s, PASSTHRU_SRIOV_REFUSAL_DRIVER, vf, reason);
		if (r < 0)
			return r;
	}

	r = passthru_guard_check_pci(s->ctx, vf, &guards);
	if (r < 0)
		return errno_is_vanished(r) ? 0 : r;
	for (size_t i = 0; r >= 0 && i < passthru_guard_list_count(guards); i++)
		r = refuse(s, PASSTHRU_SRIOV_REFUSAL_GUARD, vf,
			   passthru_guard_list_get_reason(guards, i));
	passthru_guard_list_unref(guards);
	return r < 0 ? r : 0;
}

static int check_removed_vf(struct passthru_sriov *s, const char *vf)
{
	struct device_state state = {0};
	int r;

	r = device_state_read(s->ctx, NULL, 0, vf, &state);
	if (r < 0)
		return errno_is_vanished(r) ? 0 : r;
	if (!state.driver)
		r = 0;
	else if (strcmp(state.driver, "vfio-pci") == 0)
		r = check_vfio_vf(s, vf);
	else
		r = check_host_vf(s, vf, state.driver);
	device_state_done(&state);
	return r;
}

_public_ int passthru_sriov_plan(struct passthru_sriov *s)
{
	_cleanup_close_ int dfd = -1;
	_cleanup_free_ char *pf_driver = NULL;
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
	bool change;
	int desired_autoprobe, r;

	plan_clear(s);
	if ((s->flags & PASSTHRU_SRIOV_BIND_VFIO) && s->autoprobe_want == 1)
		return -EINVAL;
	dfd = pf_open_dir(s->ctx, s->pf, address);
	if (dfd < 0)
		return dfd;
	r = sriov_read_pf(s, dfd);
	if (r < 0)
		return r;
	s->plan_target = s->has_target ? s->target : s->current;
	if (s->plan_target > s->total)
		return -ERANGE;
	change = s->plan_target != s->current;

	if (change && s->current > 0) {
		for (unsigned i = 0; i < s->current; i++) {
			char vf[PASSTHRU_PCI_ADDRESS_LEN + 1];

			r = pf_vf_address(dfd, i, vf);
			if (r == -ENOENT)
				break; /* removed while we look */
			if (r < 0)
				return r;
			r = strv_push(&s->removed, vf);
			if (r < 0)
				return r;
		}
		STRV_FOREACH (vf, s->removed) {
			r = check_removed_vf(s, *vf);
			if (r < 0)
				return r;
		}
	}
	if (change) {
		r = attr_link_basename_at(dfd, "driver", &pf_driver);
		if (r == -ENOENT) {
			r = refuse(s, PASSTHRU_SRIOV_REFUSAL_NO_DRIVER, s->pf,
				   "it has no driver, and the kernel makes and removes VFs through "
				   "the PF's driver");
			if (r < 0)
				return r;
		} else if (r < 0) {
			return r;
		}
	}

	if (change && s->current > 0) {
		s->write_zero = true;
		r = strv_pushf(&s->steps,
			       "write 0 to /sys/bus/pci/devices/%s/sriov_numvfs (removes %u VF%s)",
			       s->pf, s->current, s->current == 1 ? "" : "s");
		if (r < 0)
			return r;
	}
	/* The new VFs must not meet a host driver on their way to vfio-pci. */
	desired_autoprobe = s->autoprobe_want;
	if (desired_autoprobe < 0 && (s->flags & PASSTHRU_SRIOV_BIND_VFIO) && change &&
	    s->plan_target > 0)
		desired_autoprobe = 0;
	if (desired_autoprobe >= 0 && desired_autoprobe != s->autoprobe_now) {
		s->write_autoprobe = desired_autoprobe;
		r = strv_pushf(&s->steps,
			       "write %d to /sys/bus/pci/devices/%s/sriov_drivers_autoprobe",
			       desired_autoprobe, s->pf);
		if (r < 0)
			return r;
	}
	if (change && s->plan_target > 0) {
		s->write_target = true;
		r = strv_pushf(
		    &s->steps, "write %u to /sys/bus/pci/devices/%s/sriov_numvfs (makes %u VF%s)",
		    s->plan_target, s->pf, s->plan_target, s->plan_target == 1 ? "" : "s");
		if (r < 0)
			return r;
	}
	if ((s->flags & PASSTHRU_SRIOV_BIND_VFIO) && s->plan_target > 0) {
		s->bind = true;
		r = strv_pushf(&s->steps, "bind the %s VFs to vfio-pci",
			       change ? "new" : "current");
		if (r < 0)
			return r;
	}
	if (!change) {
		r = note(s, s->pf, "it already has %u VF%s", s->current,
			 s->current == 1 ? "" : "s");
		if (r < 0)
			return r;
	}
	s->planned = true;
	return s->report.n_refusals > 0 ? -EPERM : 0;
}

_public_ int passthru_sriov_get_target(const struct passthru_sriov *s, unsigned *ret)
{
	if (!s->planned && !s->has_target)
		return -ENODATA;
	*ret = s->planned ? s->plan_target : s->target;
	return 0;
}

_public_ const char *const *passthru_sriov_get_removed(const struct passthru_sriov *s)
{
	return s->removed ? (const char *const *)s->removed : strv_empty;
}

_public_ const char *const *passthru_sriov_get_steps(const struct passthru_sriov *s)
{
	return s->steps ? (const char *const *)s->steps : strv_empty;
}

_public_ const char *const *passthru_sriov_get_notes(const struct passthru_sriov *s)
{
	return s->notes ? (const char *const *)s->notes : strv_empty;
}

_public_ size_t passthru_sriov_get_refusal_count(const struct passthru_sriov *s)
{
	return s->report.n_refusals;
}

_public_ enum passthru_sriov_refusal_kind
passthru_sriov_get_refusal_kind(const struct passthru_sriov *s, size_t index)
{
	enum passthru_refusal_kind kind = passthru_plan_report_get_refusal_kind(&s->report, index);

	for (size_t k = 0; k < ELEMENTSOF(refusal_kinds); k++)
		if (refusal_kinds[k] == kind)
			return (enum passthru_sriov_refusal_kind)k;
	return (enum passthru_sriov_refusal_kind) - EINVAL;
}

_public_ const char *passthru_sriov_get_refusal_address(const struct passthru_sriov *s,
							size_t index)
{
	return passthru_plan_report_get_refusal_address(&s->report, index);
}

_public_ const char *passthru_sriov_get_refusal_reason(const struct passthru_sriov *s, size_t index)
{
	return passthru_plan_report_get_refusal_reason(&s->report, index);
}

_public_ const struct passthru_plan_report *
passthru_sriov_get_report(const struct passthru_sriov *s)
{
	return s ? &s->report : NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Persistence                                                                                */

_public_ int passthru_sriov_save(struct passthru_sriov *s)
{
	_cleanup_vf_config_ struct vf_config *c = NULL;
	struct passthru_pci_device *dev = NULL;
	int r;

	r = passthru_pci_device_new(s->ctx, s->pf, &dev);
	if (r < 0)
		return r;
	r = vf_config_for_device(s->ctx, dev, &c);
	passthru_pci_device_unref(dev);
	if (r < 0)
		return r;
	c->has_numvfs = true;
	c->numvfs = s->planned ? s->plan_target : s->has_target ? s->target : s->current;
	c->autoprobe = s->autoprobe_want;
	c->bind_vfio = s->flags & PASSTHRU_SRIOV_BIND_VFIO;
	return vf_config_save(s->ctx, c);
}
