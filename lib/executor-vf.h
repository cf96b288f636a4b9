/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Library-private: the executor of plans of VF link settings (executor-vf.c), and how those
 * settings reach a PF's driver (the kernel's rtnetlink, or what a test puts on the context).
 */
#pragma once

#include "executor.h"
#include "vf-netlink.h"
#include "vf-settings.h"

/* How VF link settings are read from and sent to the driver of the interface ifindex. */
struct vf_link_ops {
	/* What the driver reports about its VFs (vf_netlink_parse_link()'s answer). */
	int (*get)(void *userdata, int ifindex, struct vf_report **ret, size_t *ret_n);
	/* Sends settings to VF vf; on failure *ret_extack may say why (the caller frees it). */
	int (*set)(void *userdata, int ifindex, unsigned vf, const struct vf_settings *settings,
		   char **ret_extack);
	void *userdata;
};

/*
 * The transport of ctx: rtnetlink when the context's root is "/", NULL (none) below another
 * sysroot, unless vf_link_set_ops() gave one. ops must outlive ctx; NULL goes back to the default.
 */
const struct vf_link_ops *vf_link_get_ops(struct passthru_ctx *ctx);
void vf_link_set_ops(struct passthru_ctx *ctx, const struct vf_link_ops *ops);

/* A step of a plan: settings to VF index of pf, whose interface is ifindex. */
struct exec_vf {
	const char *pf;
	unsigned index;
	int ifindex;
	struct vf_settings settings;
};

/*
 * Runs the steps in order under x's lock: reads each VF's settings from the driver first (the
 * undo), puts the journal (JOURNAL_OP_VF) on disk, sends each step's settings and reads them
 * back. When a step fails or does not read back as sent, every step begun is undone in reverse
 * (the driver's settings from before sent again); when that fails too the journal stays for
 * the next run. On failure report's error says why; when the driver refused a request,
 * *ret_refused is true and *ret_extack holds its message if it gave one. Fault points (test
 * builds): "vf:after-journal:1", "vf:after-set:N".
 */
int executor_run_vfs(struct executor *x, const struct exec_vf *steps, size_t n, char **ret_extack,
		     bool *ret_refused);

/*
 * Repair of an interrupted JOURNAL_OP_VF transaction, with the lock held: sends each VF its
 * settings from before, in reverse. Returns REPAIR_ROLLBACK, or a negative errno with report's
 * error set.
 */
int executor_repair_vfs(struct passthru_ctx *ctx, const struct journal *j,
			struct passthru_plan_report *report);
