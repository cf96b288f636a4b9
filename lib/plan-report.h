/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Library-private: what a plan refuses, what it notes, and what its execution reports when it
 * fails (plan-report.c). One type and one vocabulary for the takeover, SR-IOV and apply:
 *   refusal  something that keeps the plan from being executed: a kind, the device it is
 *            about and a reason ("IOMMU group 5 also holds 0000:42:00.1 (snd_hda_intel)");
 *   note     a remark that refuses nothing ("already on vfio-pci", "forced past a guard: ..."),
 *            with the device it is about;
 *   error    after a failed execution, one line naming the device and the cause, with detail
 *            lines (the device's state, the kernel's last words, what the rollback did).
 * The public struct passthru_plan_report is this type; objects embed one by value.
 */
#pragma once

#include "internal.h"

struct plan_refusal {
	enum passthru_refusal_kind kind;
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
	char *reason;
};

struct plan_note {
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
	char *text;
};

struct passthru_plan_report {
	struct plan_refusal *refusals;
	size_t n_refusals;
	struct plan_note *notes;
	size_t n_notes;
	char *error;
	char **details;
};

/* Appends a refusal; address may be NULL or longer than an address (then cut). */
int plan_report_refuse(struct passthru_plan_report *r, enum passthru_refusal_kind kind,
		       const char *address, const char *format, ...) _printf_(4, 5);
int plan_report_note(struct passthru_plan_report *r, const char *address, const char *format, ...)
    _printf_(3, 4);
/* Replaces the error (the details stay). -ENOMEM leaves no error. */
int plan_report_set_error(struct passthru_plan_report *r, const char *format, ...) _printf_(2, 3);
/* Appends a detail line; best effort. */
void plan_report_add_detail(struct passthru_plan_report *r, const char *format, ...) _printf_(2, 3);
/* Forgets the refusals and notes (a new plan), or the error and its details (a new run). */
void plan_report_clear_plan(struct passthru_plan_report *r);
void plan_report_clear_error(struct passthru_plan_report *r);
void plan_report_done(struct passthru_plan_report *r);
