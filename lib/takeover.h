/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Library-private pieces of the takeover: the /run/passthru records (journal.c), the persisted
 * wishes (persist.c), writes under a timeout and device state reads (takeover.c), resets
 * (reset.c) and the vfio modules (vfio-modules.c).
 */
#pragma once

#include <stdbool.h>

#include "internal.h"

/* ------------------------------------------------------------------------------------------ */
/* Records under /run/passthru (journal.c)                                                    */

#define RUN_DIR "/run/passthru"
/* The transaction under way: written (fsync'd) before the first device is touched. */
#define JOURNAL_PATH RUN_DIR "/journal"
/* The devices this boot's passthru moved to vfio-pci, with the driver they came from. */
#define HELD_PATH RUN_DIR "/held"
/* Serialises every state change; flock(2)ed, so a killed owner releases it. */
#define LOCK_PATH RUN_DIR "/lock"
/* One line per forced guard and per repair: what a human wants to read afterwards. */
#define LOG_PATH RUN_DIR "/log"

enum journal_op {
	JOURNAL_OP_BIND,
	JOURNAL_OP_UNBIND,
	_JOURNAL_OP_MAX,
};

/*
 * One device of a record. Drivers and overrides are NULL for "none". target_any means "any
 * driver but vfio-pci, or none" (giving a device back when its original driver is unknown).
 */
struct journal_entry {
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
	char *driver;
	char *override;
	char *target;
	bool target_any;
	char *target_override;
	/* "vvvv:dddd:ssss:ssss", or NULL when not recorded. */
	char *id;
};

struct journal {
	enum journal_op op;
	long pid;
	struct journal_entry *entries;
	size_t n_entries;
};

void journal_free(struct journal *j);
static inline void journal_freep(struct journal **j)
{
	journal_free(*j);
}
#define _cleanup_journal_ _cleanup_(journal_freep)

/* Which of the two record files a text is. */
enum journal_kind {
	JOURNAL_KIND_TRANSACTION, /* JOURNAL_PATH: op, pid, entries with targets */
	JOURNAL_KIND_HELD,	  /* HELD_PATH: entries with driver, override, id */
};

/*
 * Parses a record. -EBADMSG with *ret_line set to the 1-based line of the first error (when
 * ret_line is given). Strict: unknown keys, duplicate devices and bad escapes are errors.
 */
int journal_parse(const char *text, size_t len, enum journal_kind kind, struct journal **ret,
		  unsigned *ret_line);
int journal_format(const struct journal *j, enum journal_kind kind, char **ret);

int journal_entry_set(struct journal_entry *e, const char *address, const char *driver,
		      const char *override, const char *target, bool target_any,
		      const char *target_override, const char *id);
/* Appends a copy of e; replaces an entry of the same address. */
int journal_put(struct journal *j, const struct journal_entry *e);
/* Removes the entry of address; -ENOENT when absent. */
int journal_remove(struct journal *j, const char *address);
struct journal_entry *journal_find(const struct journal *j, const char *address);
int journal_new(enum journal_op op, struct journal **ret);

/* Reads a record file; -ENOENT when it does not exist. */
int journal_load(struct passthru_ctx *ctx, const char *path, enum journal_kind kind,
		 struct journal **ret);
/* Writes a record atomically (fsync'd file and directory). */
int journal_save(struct passthru_ctx *ctx, const char *path, enum journal_kind kind,
		 const struct journal *j);

/*
 * Called once when another process holds the lock, before waiting for it: holder is
 * "pid 812 (passthru bind 0000:42:00.0)", or NULL when /proc/locks does not say.
 */
typedef void (*journal_lock_wait_fn)(void *userdata, const char *holder);
/*
 * Creates /run/passthru (0700) and takes its lock, waiting up to timeout_ms (-EBUSY then).
 * Returns the fd.
 */
int journal_lock_wait(struct passthru_ctx *ctx, unsigned timeout_ms, journal_lock_wait_fn on_wait,
		      void *userdata);
static inline int journal_lock(struct passthru_ctx *ctx, unsigned timeout_ms)
{
	return journal_lock_wait(ctx, timeout_ms, NULL, NULL);
}
/*
 * journal_lock_wait() as execution takes the lock (a takeover's, an SR-IOV change's), with
 * on_wait told who holds it. On failure a negative errno and *ret_error the message for the
 * user (NULL without memory; the caller frees it): "another passthru is changing devices:
 * pid 812 (passthru bind 0000:42:00.0) holds /run/passthru/lock; gave up waiting after 30 s".
 */
int journal_lock_take(struct passthru_ctx *ctx, unsigned timeout_ms, journal_lock_wait_fn on_wait,
		      void *userdata, char **ret_error);
/*
 * The pid of the flock(2) holder of the file major:minor:ino in the text of /proc/locks;
 * -ENOENT when none is listed.
 */
int proc_locks_flock_pid(const char *text, unsigned major, unsigned minor, unsigned long ino,
			 long *ret);
/* Appends one line with a timestamp to LOG_PATH; best effort. */
void journal_log_line(struct passthru_ctx *ctx, const char *format, ...) _printf_(2, 3);

/* What a device looks like now, for the repair decision. */
struct device_state {
	bool present;
	char *driver;
	char *override;
};

enum repair_decision {
	REPAIR_COMMIT,	 /* every device is where the transaction wanted it */
	REPAIR_ROLLBACK, /* put every device back where it was */
};

/* True when state satisfies the entry's target (driver and override). */
bool journal_entry_at_target(const struct journal_entry *e, const struct device_state *state);
/* True when state is the entry's original (driver and override). */
bool journal_entry_at_origin(const struct journal_entry *e, const struct device_state *state);
/*
 * The decision for an interrupted transaction, states[i] being the state of entries[i]: commit
 * only when every present device reached its target, otherwise roll everything back. Devices
 * that vanished are ignored (nothing can be done for them).
 */
enum repair_decision journal_decide(const struct journal *j, const struct device_state *states);

/* Percent-escaping of record values (bytes outside [A-Za-z0-9_.:+-] become %XX). */
char *journal_escape(const char *s);
int journal_unescape(const char *s, size_t len, char **ret);

/* ------------------------------------------------------------------------------------------ */
/* Persisted wishes under /etc/passthru (persist.c)                                           */

#define PERSIST_PATH  "/etc/passthru/bindings.conf"
#define MODPROBE_PATH "/etc/modprobe.d/passthru-vfio.conf"

struct persist_entry {
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
	uint16_t vendor, device, subvendor, subdevice;
	/* The same as "vvvv:dddd:ssss:ssss". */
	char id[20];
	/* The driver the device had before it was bound; NULL when unknown. */
	char *host_driver;
	bool force;
};

/* Parses the store; -EBADMSG with *ret_line (1-based) on the first malformed line. */
int persist_parse(const char *text, size_t len, struct persist_entry **ret, size_t *ret_n,
		  unsigned *ret_line);
int persist_format(const struct persist_entry *entries, size_t n, char **ret);
void persist_entries_free(struct persist_entry *entries, size_t n);
/* "vvvv:dddd:ssss:ssss" of a device; -ENODATA when an id cannot be read. */
int pci_identity(struct passthru_pci_device *dev, char ret[20]);

/* ------------------------------------------------------------------------------------------ */
/* Device state and writes under a timeout (takeover.c)                                       */

/*
 * Reads the driver and driver_override of a PCI function; -ENODEV when it is gone. With w, the
 * override (whose read takes the device lock) is read by the helper within timeout_ms.
 */
struct timed_writer;
int device_state_read(struct passthru_ctx *ctx, struct timed_writer *w, unsigned timeout_ms,
		      const char *address, struct device_state *ret);
void device_state_done(struct device_state *s);

/*
 * Sysfs accesses that may block in the kernel, made by a helper process (timed-io.c): steps
 * run in order in one round trip; a step that does not finish within timeout_ms leaves the
 * helper behind, blocked, and returns -ETIMEDOUT instead of hanging the caller.
 */
struct timed_step {
	char op;	   /* 'w': write value to path; 'r': read path */
	const char *path;  /* a host path, resolved below the context's root */
	const char *value; /* for 'w' */
	char *result;	   /* for 'r': what was read, trailing newlines removed; the caller frees */
	int err;	   /* 0, or this step's negative errno */
};
int timed_writer_new(struct passthru_ctx *ctx, int close_fd, struct timed_writer **ret);
void timed_writer_free(struct timed_writer *w);
/*
 * Runs the steps in order. A failed write ends the list (the steps after it assumed it worked);
 * a failed read only sets its err. Returns 0, or the failed write's negative errno (-ETIMEDOUT
 * for a step that did not finish) with *ret_failed set to its index.
 */
int timed_steps(struct timed_writer *w, struct timed_step *steps, size_t n, unsigned timeout_ms,
		size_t *ret_failed);
/*
 * The same without waiting, for several helpers at once: timed_submit() sends at most 32 steps;
 * when timed_fd() is readable, timed_collect() takes the answer (as timed_steps() returns).
 * timed_progress() is the step the helper is in (-1 before the first); timed_abandon() leaves
 * a helper that stopped making progress and returns that step.
 */
int timed_submit(struct timed_writer *w, struct timed_step *steps, size_t n);
int timed_fd(const struct timed_writer *w);
int timed_progress(const struct timed_writer *w);
size_t timed_abandon(struct timed_writer *w);
int timed_collect(struct timed_writer *w, struct timed_step *steps, size_t n, size_t *ret_failed);
int timed_write(struct timed_writer *w, const char *path, const char *value, unsigned timeout_ms);
/* Reads a host file the same way; trailing newlines removed. */
int timed_read(struct timed_writer *w, const char *path, unsigned timeout_ms, char **ret);
/* Which fd a helper spawned from now on closes (the transaction lock), -1 for none. */
void timed_writer_set_close_fd(struct timed_writer *w, int fd);
/* The pid of the helper left blocked in the kernel by the last timeout, else 0. */
pid_t timed_writer_stuck_pid(const struct timed_writer *w);
/* A timeout as messages give it: "10 s", or "1500 ms" when not whole seconds. */
const char *ms_text(unsigned ms, char buf[32]);

/* PASSTHRU_FAULT: "PHASE:STEP:N[:fail]" (see the header's Takeover section). */
struct fault {
	char phase[16];
	char step[16];
	unsigned index;
	bool fail;
	bool set;
};
int fault_parse(const char *spec, struct fault *ret);

/*
 * Lines describing a device after a failure: its driver, driver_override, power state, and the
 * kernel's last messages about it (or its last messages at all) from /dev/kmsg. driver_override
 * is read through w, waiting at most a second.
 */
int device_describe(struct passthru_ctx *ctx, struct timed_writer *w, const char *address,
		    char ***ret);

/*
 * Parses one /dev/kmsg record ("6,1234,5678901,-;message") into "[seconds] message".
 * -EBADMSG for anything else.
 */
int kmsg_record_parse(const char *record, size_t len, char **ret);

/*
 * Processes that hold the VFIO files of an IOMMU group open (/dev/vfio/<group>, and the
 * device's /dev/vfio/devices/vfioN when iommufd is used), as "pid 123 (qemu-system-x86)".
 */
int vfio_group_users(struct passthru_ctx *ctx, int group, const char *address, char ***ret);

/* ------------------------------------------------------------------------------------------ */
/* vfio modules (vfio-modules.c)                                                              */

/*
 * Makes sure the vfio-pci driver and the type1 IOMMU backend are there, loading vfio, vfio_pci
 * and vfio_iommu_type1 through libkmod when missing. On a root other than "/" nothing can be
 * loaded: -ENOPKG when something is missing.
 */
int vfio_modules_ensure(struct passthru_ctx *ctx);
bool vfio_pci_driver_present(struct passthru_ctx *ctx);

/* ------------------------------------------------------------------------------------------ */
/* Reset (reset.c)                                                                            */

/*
 * Resets a PCI function through its reset attribute, with method (one of the kernel's
 * reset_method values) chosen for this reset only when given.
 */
int pci_reset_run(struct passthru_ctx *ctx, struct timed_writer *w, const char *address,
		  const char *method, unsigned timeout_ms);
