/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to the host checks (host-check.c, host-check-system.c, host-check-device.c): the
 * report's items, the host state gathered once, and the checks the report runs.
 */
#pragma once

#include "host.h"
#include "internal.h"

struct check_item {
	const char *id;	   /* static */
	const char *title; /* static */
	char *device;
	enum passthru_check_status status;
	char *seen;
	char *fix;
	char **details;
};

struct passthru_check_report {
	unsigned refcount;
	struct passthru_ctx *ctx;
	struct check_item *items;
	size_t n_items;
};

/* Everything the host checks look at, gathered once. */
struct host_state {
	enum cpu_vendor cpu;
	char *cpu_id;
	int cpu_r;
	enum iommu_kind firmware;
	enum iommu_kind params_kind;
	const struct param_req *reqs;
	size_t n_reqs;
	char **kmsg;
	int kmsg_r;
	char **units;
	unsigned groups;
	struct cmdline *proc_cmdline;
	bool remapping;		/* the running kernel remaps interrupts */
	int firmware_remapping; /* host_firmware_interrupt_remapping() */
	bool unsafe_interrupts;
	struct boot_info boot;
	int boot_r;
	char *regen; /* the regeneration command as text, or a placeholder */
};

/* The item being filled; NULL on allocation failure (the report records it). */
struct check_item *check_item_add(struct passthru_check_report *rep, const char *id,
				  const char *title, const char *device);
int check_item_set_seen(struct check_item *it, enum passthru_check_status status, const char *fmt,
			...) _printf_(3, 4);

/* The checks of the host (host-check-system.c), in the order of the report. */
int check_cpu(struct passthru_check_report *rep, struct host_state *s);
int check_firmware(struct passthru_check_report *rep, struct host_state *s);
int check_kernel_iommu(struct passthru_check_report *rep, struct host_state *s);
int check_remapping(struct passthru_check_report *rep, struct host_state *s);
int check_cmdline(struct passthru_check_report *rep, struct host_state *s);
int check_grub(struct passthru_check_report *rep, struct host_state *s);
int check_boot(struct passthru_check_report *rep, struct host_state *s);
int check_modules(struct passthru_check_report *rep, struct host_state *s);
int check_modules_boot(struct passthru_check_report *rep, struct host_state *s);
int check_hugepages(struct passthru_check_report *rep, struct host_state *s);

/* The checks of one candidate device (host-check-device.c). */
int check_device(struct passthru_check_report *rep, struct host_state *s,
		 struct passthru_pci_device *dev);
