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
	/* "# use_devicesfile = N": lvm.conf shows the built-in defaults so; -1 when it does not */
	int use_devicesfile_default;
	ssize_t devices_open; /* offset of the devices section's "{", -1 when there is none */
	bool has_block;	      /* passthru's block, [block_begin, block_end) */
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
/* LVM's devices file and passthru's record of it (lvm-devices.c)                             */

/* A persisted drive and the ids of its disks seen now ("IDTYPE IDNAME", lvm_devices_id()). */
struct lvm_drive {
	const char *address;
	char *const *ids; /* may be NULL */
};

/* One line of the record: an id of the drive's disks, or an entry line taken out. */
struct lvm_devices_record {
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
	bool entry;
	char *text; /* "IDTYPE IDNAME", or the entry's line as it was */
};

struct lvm_devices_edit {
	char *devices;		    /* the new system.devices; NULL when there was none */
	char *state;		    /* the new record; NULL when there is nothing to keep */
	unsigned removed, restored; /* entry lines taken out now, put back now */
};

/* The index of the drive with this address among drives, n when none has it. */
size_t lvm_drive_index(const struct lvm_drive *drives, size_t n, const char *address);

/* "IDTYPE IDNAME" as the devices file writes it (blanks inside as "_"). -EINVAL: empty. */
int lvm_devices_id(const char *idtype, const char *value, char **ret);

/*
 * An NVMe namespace's sysfs attribute (ATTR "uuid", "nguid" or "eui") as the id newer LVM
 * versions list it by: "nvme_uuid uuid.8-4-4-4-12", "nvme_nguid eui.<32 digits>", "nvme_eui64
 * eui.<16 digits>", lowercase. -EINVAL: another attribute, not that many hex digits, or all
 * zero (the namespace has none).
 */
int lvm_devices_nvme_id(const char *attr, const char *value, char **ret);

/* Parses the record. -EBADMSG: a line that is not "id ADDR TYPE NAME" or "entry ADDR LINE". */
int lvm_devices_state_parse(const char *text, size_t len, struct lvm_devices_record **ret,
			    size_t *ret_n);
void lvm_devices_records_free(struct lvm_devices_record *v, size_t n);

/*
 * system.devices (NULL: none) without the entries of these drives when remove (matched by the
 * ids recorded in state and those given), with the lines state took out for drives no longer
 * given put back (unless the file names that device again), VERSION one up when it changed;
 * and the new record. Unchanged, the devices text is returned as it was. -EBADMSG: a record
 * that does not parse.
 */
int lvm_devices_edit(const char *devices, const char *state, const struct lvm_drive *drives,
		     size_t n, bool remove, struct lvm_devices_edit *ret);

/*
 * How many entries of system.devices name none of these ids (those of the disks the host has
 * now, lvm_ids_of()): the entries that may be a drive's whose ids are not known.
 */
int lvm_devices_unmatched(const char *devices, char *const *ids, size_t *ret);

/* How many entries of system.devices name this drive (by its recorded and given ids). */
int lvm_devices_listed(const char *devices, const char *state, const char *address,
		       char *const *ids, size_t *ret);

/* ------------------------------------------------------------------------------------------ */
/* The generated files (storage-claim.c)                                                      */

#define STORAGE_CLAIM_SCRIPT	  "/etc/passthru/early-claim.sh"
#define STORAGE_MODPROBE_PATH	  "/etc/modprobe.d/passthru-storage.conf"
#define STORAGE_UDEV_PATH	  "/etc/udev/rules.d/63-passthru-storage.rules"
#define STORAGE_ITOOLS_HOOK	  "/etc/initramfs-tools/hooks/passthru"
#define STORAGE_ITOOLS_INIT_TOP	  "/etc/initramfs-tools/scripts/init-top/passthru"
#define STORAGE_DRACUT_SETUP	  "/usr/lib/dracut/modules.d/90passthru/module-setup.sh"
#define STORAGE_DRACUT_HOOK	  "/usr/lib/dracut/modules.d/90passthru/passthru-early-claim.sh"
#define STORAGE_DRACUT_CONF	  "/etc/dracut.conf.d/passthru.conf"
#define STORAGE_MULTIPATH_PATH	  "/etc/multipath/conf.d/passthru.conf"
#define STORAGE_LVM_CONF	  "/etc/lvm/lvm.conf"
#define STORAGE_LVM_DEVICES_FILE  "/etc/lvm/devices/system.devices"
#define STORAGE_LVM_DEVICES_STATE "/etc/passthru/lvm-devices"

/* A persisted storage controller, by the identity bindings.conf gives it. */
struct storage_target {
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
	uint16_t vendor, device, subvendor, subdevice;
	char **modules; /* the host drivers' modules that would bind it (never vfio-pci) */
	char **lvm_ids; /* the ids of its disks seen now, for the devices file (may be NULL) */
};

/* What the host has, which decides the files: each flag adds its tool's files. */
struct storage_layout {
	bool initramfs_tools; /* /usr/share/initramfs-tools */
	bool dracut;	      /* /usr/lib/dracut */
	bool multipath;	      /* multipath-tools installed or configured */
	bool lvm;	      /* /etc/lvm/lvm.conf */
	bool lvm_devicesfile; /* LVM reads system.devices: the drives' entries come out of it */
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
	char **incomplete;     /* the targets whose storage prevention it cannot complete */
	char **initramfs_argv; /* the regeneration, when a file the initramfs carries changes */
	size_t n_targets;      /* persisted storage controllers found */
};

void storage_targets_free(struct storage_target *t, size_t n);

/* What LVM has: lvm.conf, system.devices and passthru's record of it (NULL: none). */
struct storage_lvm_text {
	const char *conf, *devices, *state;
	char *const *host_ids; /* the ids of every disk the host has now (may be NULL) */
};

/*
 * The content of every file passthru may generate, for these targets and this layout: entries
 * for all paths the layout covers, new NULL for those that should not exist (no targets). The
 * lvm.conf entry is computed from lvm->conf (NULL: none) and only when layout->lvm; those of
 * system.devices and the record when either exists. Notes are appended to *notes, and the
 * addresses of the targets whose storage prevention stays incomplete (LVM devices file entries
 * that may be theirs, their ids never seen) to *incomplete. Pure: no I/O.
 */
int storage_render(const struct storage_target *targets, size_t n,
		   const struct storage_layout *layout, const struct storage_lvm_text *lvm,
		   struct storage_file **ret, size_t *ret_n, char ***notes, char ***incomplete);
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

/*
 * Before a storage controller leaves the host (bind --persist): the ids of its disks, and of
 * those of every other storage controller of its IOMMU group (they leave with it), go into
 * passthru's record, so that setup can find their entries in LVM's devices file once the disks
 * are gone. 0 also when they have no disk or the host has no devices file.
 */
int storage_record_ids(struct passthru_ctx *ctx, const char *address);

/* One finding per persisted storage controller (or persisted slot now holding one). */
int storage_check(struct passthru_ctx *ctx, struct storage_finding **ret, size_t *ret_n);
void storage_findings_free(struct storage_finding *f, size_t n);
