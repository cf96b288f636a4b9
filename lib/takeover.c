/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The takeover: moving PCI functions to vfio-pci and back, as a plan and a transaction.
 *
 * Per device, binding is the kernel's documented sequence: write "vfio-pci" to driver_override
 * (so that only vfio-pci matches the device, whatever ids other drivers claim), unbind the
 * current driver, write the address to drivers_probe. new_id is never used: it matches every
 * device with the same vendor:device, host ones included, and fails with "File exists" when
 * the id is already there.
 *
 * VFIO can only hand a device to a VM when every endpoint of its IOMMU group is on a VFIO
 * driver or on none (bridges excepted), so the plan works on groups.
 *
 * Unbinding can block in the kernel for as long as a driver wants (vfio-pci's remove waits for
 * the VM to release the device; a GPU driver may wait for its clients) and a write() stuck
 * there cannot be interrupted. Such writes are made by a helper process over a socket; when
 * the helper does not answer in time it is abandoned, still stuck, and the caller gets
 * -ETIMEDOUT, the device's state and the kernel's last words instead of a hang. The helper is
 * a grandchild, so nobody has to reap it.
 */
#include "takeover.h"

static void item_done(struct item *it)
{
	passthru_pci_device_unref(it->dev);
	passthru_guard_list_unref(it->guards);
	passthru_iommu_group_unref(it->iommu_group);
	free(it->driver);
	free(it->override);
	free(it->original);
	free(it->original_override);
	free(it->target);
	free(it->target_override);
	free(it->result);
	strv_free(it->notes);
	memset(it, 0, sizeof(*it));
}

void takeover_plan_clear(struct passthru_takeover *t)
{
	for (size_t i = 0; i < t->n_items; i++)
		item_done(&t->items[i]);
	free(t->items);
	t->items = NULL;
	t->n_items = 0;
	plan_report_clear_plan(&t->report);
	t->planned = false;
}

void takeover_error_clear(struct passthru_takeover *t)
{
	plan_report_clear_error(&t->report);
}

_public_ int passthru_takeover_new(struct passthru_ctx *ctx, enum passthru_takeover_op op,
				   unsigned flags, struct passthru_takeover **ret)
{
	struct passthru_takeover *t;

	if (!ctx || !ret || op > PASSTHRU_TAKEOVER_REPAIR ||
	    (flags & ~(PASSTHRU_TAKEOVER_GROUP | PASSTHRU_TAKEOVER_FORCE)))
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->refcount = 1;
	t->ctx = passthru_ctx_ref(ctx);
	t->op = op;
	t->flags = flags;
	t->timeout_ms = DEFAULT_TIMEOUT_MS;
	t->lock_timeout_ms = LOCK_TIMEOUT_MS;
	t->lock_fd = -1;
	fault_from_environment(ctx, &t->fault);
	*ret = t;
	return 0;
}

static void takeover_free(struct passthru_takeover *t)
{
	takeover_plan_clear(t);
	takeover_error_clear(t);
	strv_free(t->requested);
	free(t->reset_method);
	timed_writer_free(t->writer);
	if (t->lock_fd >= 0)
		close(t->lock_fd);
	passthru_ctx_unref(t->ctx);
	free(t);
}

DEFINE_REF_UNREF_FUNC(_public_, struct passthru_takeover, passthru_takeover, takeover_free);

_public_ int passthru_takeover_add_device(struct passthru_takeover *t, const char *address)
{
	char canonical[PASSTHRU_PCI_ADDRESS_LEN + 1];
	_cleanup_close_ int fd = -1;

	if (!t || !address)
		return -EINVAL;
	if (passthru_pci_address_parse(address, canonical) < 0)
		return -EINVAL;
	fd = device_dir_open(t->ctx, canonical);
	if (fd < 0)
		return fd;
	if (strv_contains(t->requested, canonical))
		return 0;
	t->planned = false;
	return strv_push(&t->requested, canonical);
}

_public_ void passthru_takeover_set_timeout(struct passthru_takeover *t, unsigned msec)
{
	if (!t)
		return;
	t->timeout_ms = msec ? msec : DEFAULT_TIMEOUT_MS;
	t->lock_timeout_ms = msec ? msec : LOCK_TIMEOUT_MS;
}

_public_ void passthru_takeover_set_wait_fn(struct passthru_takeover *t,
					    passthru_takeover_wait_fn fn, void *userdata)
{
	if (!t)
		return;
	t->wait_fn = fn;
	t->wait_userdata = userdata;
}

_public_ int passthru_takeover_set_reset_method(struct passthru_takeover *t, const char *method)
{
	char *m = NULL;

	if (!t)
		return -EINVAL;
	if (method) {
		/* One word of the kernel's list, never something that reaches another file. */
		if (!*method || strlen(method) > 32 || strpbrk(method, " /\n\t"))
			return -EINVAL;
		m = strdup(method);
		if (!m)
			return -ENOMEM;
	}
	free(t->reset_method);
	t->reset_method = m;
	t->planned = false;
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Getters                                                                                    */

static const struct item *item_at(const struct passthru_takeover *t, size_t i)
{
	return t && i < t->n_items ? &t->items[i] : NULL;
}

_public_ size_t passthru_takeover_get_count(const struct passthru_takeover *t)
{
	return t ? t->n_items : 0;
}

_public_ const char *passthru_takeover_get_address(const struct passthru_takeover *t, size_t i)
{
	const struct item *it = item_at(t, i);

	return it ? it->address : NULL;
}

_public_ bool passthru_takeover_is_requested(const struct passthru_takeover *t, size_t i)
{
	const struct item *it = item_at(t, i);

	return it && it->requested;
}

_public_ int passthru_takeover_get_iommu_group(const struct passthru_takeover *t, size_t i,
					       int *ret)
{
	const struct item *it = item_at(t, i);

	if (!it)
		return -EINVAL;
	if (it->group < 0)
		return -ENOENT;
	*ret = it->group;
	return 0;
}

_public_ const char *passthru_takeover_get_driver(const struct passthru_takeover *t, size_t i)
{
	const struct item *it = item_at(t, i);

	return it ? it->driver : NULL;
}

_public_ const char *passthru_takeover_get_target(const struct passthru_takeover *t, size_t i)
{
	const struct item *it = item_at(t, i);

	return it ? it->target : NULL;
}

_public_ const char *passthru_takeover_get_original(const struct passthru_takeover *t, size_t i)
{
	const struct item *it = item_at(t, i);

	return it ? it->original : NULL;
}

_public_ enum passthru_takeover_action
passthru_takeover_get_action(const struct passthru_takeover *t, size_t i)
{
	const struct item *it = item_at(t, i);

	return it ? it->action : PASSTHRU_ACTION_NONE;
}

_public_ struct passthru_guard_list *passthru_takeover_get_guards(const struct passthru_takeover *t,
								  size_t i)
{
	const struct item *it = item_at(t, i);

	return it ? it->guards : NULL;
}

_public_ const char *const *passthru_takeover_get_notes(const struct passthru_takeover *t, size_t i)
{
	const struct item *it = item_at(t, i);

	return it && it->notes ? (const char *const *)it->notes : strv_empty;
}

_public_ const char *passthru_takeover_get_result(const struct passthru_takeover *t, size_t i)
{
	const struct item *it = item_at(t, i);

	return it ? it->result : NULL;
}

/* The refusal and error getters of before the report: the same answers from it. */
_public_ size_t passthru_takeover_get_refusal_count(const struct passthru_takeover *t)
{
	return passthru_plan_report_get_refusal_count(passthru_takeover_get_report(t));
}

_public_ enum passthru_refusal_kind
passthru_takeover_get_refusal_kind(const struct passthru_takeover *t, size_t i)
{
	return passthru_plan_report_get_refusal_kind(passthru_takeover_get_report(t), i);
}

_public_ const char *passthru_takeover_get_refusal_address(const struct passthru_takeover *t,
							   size_t i)
{
	return passthru_plan_report_get_refusal_address(passthru_takeover_get_report(t), i);
}

_public_ const char *passthru_takeover_get_refusal_reason(const struct passthru_takeover *t,
							  size_t i)
{
	return passthru_plan_report_get_refusal_reason(passthru_takeover_get_report(t), i);
}

_public_ const char *passthru_takeover_get_error(const struct passthru_takeover *t)
{
	return passthru_plan_report_get_error(passthru_takeover_get_report(t));
}

_public_ const char *const *passthru_takeover_get_error_details(const struct passthru_takeover *t)
{
	return passthru_plan_report_get_error_details(passthru_takeover_get_report(t));
}

_public_ const struct passthru_plan_report *
passthru_takeover_get_report(const struct passthru_takeover *t)
{
	return t ? &t->report : NULL;
}

_public_ enum passthru_repair_outcome
passthru_takeover_get_repair_outcome(const struct passthru_takeover *t)
{
	return t ? t->repair : PASSTHRU_REPAIR_NOTHING;
}
