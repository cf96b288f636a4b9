/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The executor for plans of VF link settings (MAC, VLAN, spoof checking, trust, rate): the
 * lock and journal of every other change, each VF's settings read back from the driver before
 * anything is sent (that is the undo, journaled as "vf" lines), then sent and read back again
 * to check that the driver took them, and the settings from before sent again in reverse when
 * a step fails. An interrupted change is put back the same way by the next run: a request on
 * the PF is not atomic (the kernel stops at the first setting a driver refuses), so only the
 * settings from before are a state known to be whole.
 */
#include <time.h>

#include "executor-vf.h"
#include "pf.h"
#include "takeover.h"

/* ------------------------------------------------------------------------------------------ */
/* The transport                                                                              */

static int kernel_get(void *userdata, int ifindex, struct vf_report **ret, size_t *ret_n)
{
	char req[256];
	_cleanup_free_ void *reply = NULL;
	_cleanup_free_ char *extack = NULL;
	size_t reply_len = 0;
	int len, r;

	(void)userdata;
	len = vf_netlink_build_get(req, sizeof(req), (uint32_t)time(NULL), ifindex);
	if (len < 0)
		return len;
	r = vf_netlink_talk(req, (size_t)len, true, &reply, &reply_len, &extack);
	if (r < 0)
		return r;
	return vf_netlink_parse_link(reply, reply_len, ret, ret_n);
}

static int kernel_set(void *userdata, int ifindex, unsigned vf, const struct vf_settings *s,
		      char **ret_extack)
{
	_cleanup_free_ char *buf = malloc(VF_NETLINK_BUFFER_SIZE);
	int len;

	(void)userdata;
	*ret_extack = NULL;
	if (!buf)
		return -ENOMEM;
	len =
	    vf_netlink_build_set(buf, VF_NETLINK_BUFFER_SIZE, (uint32_t)time(NULL), ifindex, vf, s);
	if (len < 0)
		return len;
	return vf_netlink_talk(buf, (size_t)len, false, NULL, NULL, ret_extack);
}

static const struct vf_link_ops kernel_ops = {.get = kernel_get, .set = kernel_set};

const struct vf_link_ops *vf_link_get_ops(struct passthru_ctx *ctx)
{
	const struct vf_link_ops *ops = ctx_slot_get(ctx, CTX_SLOT_VF_LINK);

	if (ops)
		return ops;
	/* rtnetlink reaches the running kernel only, never the host below a sysroot. */
	return strcmp(passthru_ctx_get_sysroot(ctx), "/") == 0 ? &kernel_ops : NULL;
}

void vf_link_set_ops(struct passthru_ctx *ctx, const struct vf_link_ops *ops)
{
	struct vf_link_ops *copy = NULL;

	if (ops) {
		copy = malloc(sizeof(*copy));
		if (!copy)
			return;
		*copy = *ops;
	}
	ctx_slot_set(ctx, CTX_SLOT_VF_LINK, copy, copy ? free : NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* Reading back                                                                               */

/* What the driver reports about VF index of ifindex; -ENODATA when it is not listed. */
static int read_vf(const struct vf_link_ops *ops, int ifindex, unsigned index,
		   struct vf_report *ret)
{
	_cleanup_free_ struct vf_report *reports = NULL;
	size_t n = 0;
	int r;

	r = ops->get(ops->userdata, ifindex, &reports, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (reports[i].vf == index) {
			*ret = reports[i];
			return 0;
		}
	return -ENODATA;
}

/* The driver's settings of what want sets, in *ret; -ENODATA when it does not report one. */
static int settings_from_report(const struct vf_report *v, const struct vf_settings *want,
				struct vf_settings *ret)
{
	struct vf_settings s = {.proto = ETH_P_8021Q_VALUE};

	if (want->has_mac) {
		if (!v->has_mac || passthru_vf_parse_mac(v->mac, s.mac) < 0)
			return -ENODATA;
		s.has_mac = true;
	}
	if (want->has_vlan) {
		if (!v->has_vlan || v->vlan > 4095 || v->qos > 7)
			return -ENODATA;
		s.has_vlan = true;
		s.vlan = v->vlan;
		s.qos = v->qos;
		if (v->proto == ETH_P_8021AD_VALUE)
			s.proto = ETH_P_8021AD_VALUE;
	}
	if (want->has_spoofchk) {
		if (!v->has_spoofchk)
			return -ENODATA;
		s.has_spoofchk = true;
		s.spoofchk = v->spoofchk;
	}
	if (want->has_trust) {
		if (!v->has_trust)
			return -ENODATA;
		s.has_trust = true;
		s.trust = v->trust;
	}
	if (want->has_rate) {
		if (!v->has_rate)
			return -ENODATA;
		s.has_rate = true;
		s.min_tx_rate = v->min_tx_rate;
		s.max_tx_rate = v->max_tx_rate;
	}
	*ret = s;
	return 0;
}

static bool settings_equal(const struct vf_settings *a, const struct vf_settings *b)
{
	return (!a->has_mac || memcmp(a->mac, b->mac, 6) == 0) &&
	       (!a->has_vlan || (a->vlan == b->vlan && a->qos == b->qos &&
				 (a->vlan == 0 || a->proto == b->proto))) &&
	       (!a->has_spoofchk || a->spoofchk == b->spoofchk) &&
	       (!a->has_trust || a->trust == b->trust) &&
	       (!a->has_rate || a->max_tx_rate == b->max_tx_rate);
}

/* ------------------------------------------------------------------------------------------ */
/* Undoing                                                                                    */

/* Sends steps n-1 .. 0 of j their settings from before; the first failure is in report. */
static int undo_vfs(struct passthru_ctx *ctx, const struct vf_link_ops *ops,
		    const struct journal *j, size_t n, const int *ifindexes,
		    struct passthru_plan_report *report)
{
	int ret = 0;

	for (size_t i = n; i-- > 0;) {
		const struct journal_vf *v = &j->vfs[i];
		_cleanup_free_ char *extack = NULL, *netdev = NULL;
		int ifindex, r;

		if (ifindexes)
			ifindex = ifindexes[i];
		else {
			r = pf_netdev(ctx, v->pf, &netdev, &ifindex);
			if (r == -ENODEV || r == -ENOLINK)
				continue; /* gone with its VFs: nothing to put back */
			if (r < 0) {
				if (ret == 0)
					plan_report_set_error(report,
							      "%s: cannot find its interface: %s",
							      v->pf, strerror(-r));
				ret = ret ?: r;
				continue;
			}
		}
		r = ops->set(ops->userdata, ifindex, v->index, &v->undo, &extack);
		if (r < 0 && ret == 0) {
			plan_report_set_error(report,
					      "%s: cannot put back the settings of VF %u: %s",
					      v->pf, v->index, extack ?: strerror(-r));
			ret = r;
		}
	}
	return ret;
}

int executor_repair_vfs(struct passthru_ctx *ctx, const struct journal *j,
			struct passthru_plan_report *report)
{
	const struct vf_link_ops *ops = vf_link_get_ops(ctx);
	int r;

	if (!ops) {
		plan_report_set_error(report,
				      "VF settings can be put back on the running kernel only");
		return -EOPNOTSUPP;
	}
	r = undo_vfs(ctx, ops, j, j->n_vfs, NULL, report);
	return r < 0 ? r : REPAIR_ROLLBACK;
}

int takeover_repair_vfs(struct passthru_takeover *t, const struct journal *j)
{
	int r;

	r = executor_repair_vfs(t->ctx, j, &t->report);
	r = takeover_repair_settle(t, r, "change of VF settings");
	if (r < 0)
		return r;
	t->repair = PASSTHRU_REPAIR_ROLLED_BACK;
	journal_log_line(t->ctx, "repair: interrupted change of VF settings rolled back");
	return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Execution                                                                                  */

/* Sends step i and reads it back. */
static int run_vf(struct executor *x, const struct vf_link_ops *ops, const struct exec_vf *s,
		  char **extack, bool *refused)
{
	struct vf_report v;
	struct vf_settings now;
	int r;

	r = ops->set(ops->userdata, s->ifindex, s->index, &s->settings, extack);
	if (r < 0) {
		*refused = true;
		plan_report_set_error(x->report, "%s: cannot set VF %u: %s", s->pf, s->index,
				      *extack ?: strerror(-r));
		return r;
	}
	r = read_vf(ops, s->ifindex, s->index, &v);
	if (r >= 0)
		r = settings_from_report(&v, &s->settings, &now);
	if (r < 0) {
		plan_report_set_error(x->report, "%s: cannot read VF %u back: %s", s->pf, s->index,
				      strerror(-r));
		return r;
	}
	if (!settings_equal(&s->settings, &now)) {
		plan_report_set_error(x->report,
				      "%s: VF %u does not have the settings sent (the driver "
				      "changed or ignored some)",
				      s->pf, s->index);
		return -EIO;
	}
	return 0;
}

int executor_run_vfs(struct executor *x, const struct exec_vf *steps, size_t n, char **ret_extack,
		     bool *ret_refused)
{
	_cleanup_journal_ struct journal *j = NULL;
	_cleanup_free_ int *ifindexes = NULL;
	_cleanup_free_ char *extack = NULL;
	const struct vf_link_ops *ops = vf_link_get_ops(x->ctx);
	size_t i = 0;
	int r;

	bool refused = false;

	if (ret_extack)
		*ret_extack = NULL;
	if (ret_refused)
		*ret_refused = false;
	if (x->lock_fd < 0)
		return -EBADF;
	if (!ops)
		return -EOPNOTSUPP;
	if (n == 0)
		return 0;
	r = journal_new(JOURNAL_OP_VF, &j);
	if (r < 0)
		return r;
	j->pid = getpid();
	ifindexes = calloc(n, sizeof(*ifindexes));
	if (!ifindexes)
		return -ENOMEM;
	/* The undo: each VF's settings as the driver has them now. */
	for (size_t k = 0; k < n; k++) {
		struct vf_report v;
		struct vf_settings before;

		r = read_vf(ops, steps[k].ifindex, steps[k].index, &v);
		if (r >= 0)
			r = settings_from_report(&v, &steps[k].settings, &before);
		if (r < 0) {
			plan_report_set_error(x->report,
					      "%s: cannot read the settings of VF %u: %s",
					      steps[k].pf, steps[k].index, strerror(-r));
			return r;
		}
		r = journal_add_vf(j, steps[k].pf, steps[k].index, &steps[k].settings, &before);
		if (r < 0)
			return r;
		ifindexes[k] = steps[k].ifindex;
	}
	/* Nothing is sent before the record of how to undo it is on disk. */
	r = executor_journal_save(x, j, "vf");
	/* i ends as the count of steps begun: a refused request may have set part of its work. */
	for (; r >= 0 && i < n; i++) {
		free(extack);
		extack = NULL;
		r = run_vf(x, ops, &steps[i], &extack, &refused);
		if (r >= 0)
			r = executor_fault(x, "vf", "after-set", (unsigned)i + 1);
	}
	if (r < 0) {
		_cleanup_free_ char *error = TAKE_PTR(x->report->error);
		int q = undo_vfs(x->ctx, ops, j, i, ifindexes, x->report);

		executor_report_rollback(x, q, TAKE_PTR(error), "every VF is as it was");
		if (ret_extack)
			*ret_extack = TAKE_PTR(extack);
		if (ret_refused)
			*ret_refused = refused;
		return r;
	}
	return executor_journal_remove(x);
}
