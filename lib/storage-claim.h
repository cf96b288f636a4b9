/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Early claim and storage prevention for persisted storage controllers (storage-claim.c,
 * lvm-conf.c): the files that put a persisted NVMe (any class 01xx controller) on vfio-pci from
 * the initramfs on and keep the host's LVM, mdadm, multipath and udisks off its disks. Private
 * to the library; host-setup.c shows and writes them, cli/unbind.c removes them, host-check.c
 * reports on them.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "internal.h"

/* ------------------------------------------------------------------------------------------ */
/* lvm.conf (lvm-conf.c)                                                                      */

struct lvm_conf_facts {
	int use_devicesfile;	/* devices/use_devicesfile: -1 not set, else 0 or 1 */
	bool own_global_filter; /* a devices/global_filter outside passthru's block */
	ssize_t devices_open;	/* offset of the devices section's "{", -1 when there is none */
	bool has_block;		/* passthru's block, [block_begin, block_end) */
	size_t block_begin, block_end;
};

/* Scans lvm.conf text. -EBADMSG: unbalanced braces, an unterminated string, a NUL byte, or a
 * broken passthru block. */
int lvm_conf_scan(const char *text, size_t len, struct lvm_conf_facts *ret);

/*
 * The text with passthru's block removed and, when rejects is not empty, a new one in the
 * devices section: global_filter = [ "r|PATTERN|", ... ]. -EEXIST when the file sets a
 * global_filter of its own (it would be overridden), -EOPNOTSUPP when the devices section opens
 * and continues on one line. *ret is a new NUL-terminated string.
 */
int lvm_conf_edit(const char *text, size_t len, char *const *rejects, char **ret);

/* ------------------------------------------------------------------------------------------ */
/* The generated files (storage-claim.c)                                                      */

#define STORAGE_CLAIM_SCRIPT	 "/etc/passthru/early-claim.sh"
#define STORAGE_MODPROBE_PATH	 "/etc/modprobe.d/passthru-storage.conf"
#define STORAGE_UDEV_PATH	 "/etc/udev/rules.d/63-passthru-storage.rules"
#define STORAGE_ITOOLS_HOOK	 "/etc/initramfs-tools/hooks/passthru"
#define STORAGE_ITOOLS_INIT_TOP	 "/etc/initramfs-tools/scripts/init-top/passthru"
#define STORAGE_DRACUT_SETUP	 "/usr/lib/dracut/modules.d/90passthru/module-setup.sh"
#define STORAGE_DRACUT_HOOK	 "/usr/lib/dracut/modules.d/90passthru/passthru-early-claim.sh"
#define STORAGE_DRACUT_CONF	 "/etc/dracut.conf.d/passthru.conf"
#define STORAGE_MULTIPATH_PATH	 "/etc/multipath/conf.d/passthru.conf"
#define STORAGE_LVM_CONF	 "/etc/lvm/lvm.conf"
#define STORAGE_LVM_DEVICES_FILE "/etc/lvm/devices/system.devices"

/* A persisted storage controller, by the identity bindings.conf gives it. */
struct storage_target {
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
	uint16_t vendor, device, subvendor, subdevice;
	char **modules; /* the host drivers' modules that would bind it (never vfio-pci) */
};

/* What the host has, which decides the files: each flag adds its tool's files. */
struct storage_layout {
	bool initramfs_tools; /* /usr/share/initramfs-tools */
	bool dracut;	      /* /usr/lib/dracut */
	bool multipath;	      /* multipath-tools installed or configured */
	bool lvm;	      /* /etc/lvm/lvm.conf */
	bool lvm_devicesfile; /* LVM reads system.devices: no filter is written */
};

/* One file as it is and as it should be. */
struct storage_file {
	const char *path; /* static */
	char *old;	  /* NULL: the file does not exist */
	char *new;	  /* NULL: the file should not exist */
	mode_t mode;
	bool initramfs; /* the initramfs carries it: a change means regenerating it */
	bool generated; /* passthru's whole (no backup); else an edit of the administrator's file */
};

struct storage_plan {
	struct storage_file *files; /* only those that change */
	size_t n_files;
	char **notes;	       /* what the plan could not do, for the user */
	char **initramfs_argv; /* the regeneration, when a file the initramfs carries changes */
	size_t n_targets;      /* persisted storage controllers found */
};

void storage_targets_free(struct storage_target *t, size_t n);

/*
 * The content of every file passthru may generate, for these targets and this layout: entries
 * for all paths the layout covers, new NULL for those that should not exist (no targets). The
 * lvm.conf entry is computed from lvm_conf (NULL: none) and only when layout->lvm. Notes are
 * appended to *notes. Pure: no I/O.
 */
int storage_render(const struct storage_target *targets, size_t n,
		   const struct storage_layout *layout, const char *lvm_conf,
		   struct storage_file **ret, size_t *ret_n, char ***notes);
void storage_files_free(struct storage_file *files, size_t n);

/* The plan for this host: bindings.conf and sysfs decide the targets, the root the layout. */
int storage_plan_make(struct passthru_ctx *ctx, struct storage_plan *ret);
void storage_plan_done(struct storage_plan *p);

/*
 * Writes one file of a plan: atomically (temporary file, rename) and read back, or removes it.
 * *ret_error says which step failed.
 */
int storage_file_write(struct passthru_ctx *ctx, const struct storage_file *f, char **ret_error);

/*
 * Writes (or removes) every file of the plan, then runs its initramfs regeneration. The command's
 * output goes to *ret_output; on failure *ret_error names the file or the command.
 */
int storage_plan_apply(struct passthru_ctx *ctx, const struct storage_plan *p, char **ret_output,
		       char **ret_error);

/* ------------------------------------------------------------------------------------------ */
/* passthru check                                                                             */

struct storage_finding {
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
	enum passthru_check_status status;
	char *seen;
	char *fix; /* NULL when ok */
};

/* One finding per persisted storage controller (or persisted slot now holding one). */
int storage_check(struct passthru_ctx *ctx, struct storage_finding **ret, size_t *ret_n);
void storage_findings_free(struct storage_finding *f, size_t n);
