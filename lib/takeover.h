/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Library-private: the takeover object shared by its three files: takeover.c (the object, its
 * setters and getters), planner.c (what would be done, no writes) and executor.c (doing it).
 */
#pragma once

#include <stdbool.h>

#include "device-state.h"
#include "fault.h"
#include "host.h"
#include "internal.h"
#include "journal.h"
#include "kmsg.h"
#include "pci.h"
#include "persist.h"
#include "plan-report.h"
#include "reset.h"
#include "timed-io.h"
#include "vfio-modules.h"
#include "vfio-users.h"

#define DEFAULT_TIMEOUT_MS 10000
#define LOCK_TIMEOUT_MS	   30000

struct item {
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
	struct passthru_pci_device *dev;
	bool requested;
	/* Not an endpoint (pci_device_non_endpoint()): never goes to vfio-pci. */
	bool bridge;
	const char *non_endpoint;
	int group; /* -1: none */
	/* A requested item's IOMMU group, once its members were added (NULL: not walked). */
	struct passthru_iommu_group *iommu_group;
	char *driver;
	char *override;
	char *original;
	char *original_override;
	/* original is known (NULL then means "no driver"), not just absent. */
	bool original_known;
	char *target;
	bool target_any;
	char *target_override;
	char id[20];
	enum passthru_takeover_action action;
	struct passthru_guard_list *guards;
	char **notes;
	char *result;
};

struct passthru_takeover {
	unsigned refcount;
	struct passthru_ctx *ctx;
	enum passthru_takeover_op op;
	unsigned flags;
	unsigned timeout_ms;
	/* The wait for another passthru's lock: the timeout when one was set, else 30 s. */
	unsigned lock_timeout_ms;
	passthru_takeover_wait_fn wait_fn;
	void *wait_userdata;
	char *reset_method;
	struct fault fault;

	char **requested;
	struct item *items;
	size_t n_items;
	bool planned;

	/* Refusals and notes of the plan, the error of the last execution. */
	struct passthru_plan_report report;
	enum passthru_repair_outcome repair;

	/* While executing. */
	int lock_fd;
	struct timed_writer *writer;
};

static inline bool streq_null(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static inline bool is_vfio(const char *driver)
{
	return driver && strcmp(driver, "vfio-pci") == 0;
}

static inline int dup_or_null(const char *s, char **ret)
{
	*ret = NULL;
	if (!s)
		return 0;
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

/* takeover.c */
void takeover_plan_clear(struct passthru_takeover *t);
void takeover_error_clear(struct passthru_takeover *t);

/* planner.c */
/* The helper for reads and writes that may block; NULL (direct reads) when out of memory. */
struct timed_writer *takeover_writer(struct passthru_takeover *t);
struct item *takeover_item_find(struct passthru_takeover *t, const char *address);
/* Adds the function at address (once); fills what every op needs. */
int takeover_item_add(struct passthru_takeover *t, const char *address, bool requested,
		      struct item **ret);
/* A note on a device: on the item (passthru_takeover_get_notes()) and in the report. */
int item_note(struct passthru_takeover *t, struct item *it, const char *format, ...) _printf_(3, 4);
/*
 * The driver_override of n devices in one round trip of the helper. ret[i] is NULL for none.
 * On failure the error names the device.
 */
int takeover_overrides_read(struct passthru_takeover *t, const char *const *addresses, size_t n,
			    char **ret);

/* executor.c */
/*
 * Finishes or rolls back an interrupted transaction of either kind, with the lock held: 0 when
 * there was none, 1 when one was repaired (t's repair outcome says how).
 */
int takeover_repair_locked(struct passthru_takeover *t);

/* executor-write.c */
/* takeover_repair_locked() for a transaction of attribute writes (JOURNAL_OP_WRITE). */
int takeover_repair_writes(struct passthru_takeover *t, const struct journal *j);
/* The same for an interrupted change of VF settings (executor-vf.c): always put back. */
int takeover_repair_vfs(struct passthru_takeover *t, const struct journal *j);
/*
 * After an executor's repair of t's journal returned r: a negative r becomes t's error
 * "cannot roll back the interrupted <what>" with the executor's cause as its detail;
 * otherwise the journal is removed. 0, or a negative errno with t's error set.
 */
int takeover_repair_settle(struct passthru_takeover *t, int r, const char *what);
