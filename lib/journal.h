/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Library-private: the records under /run/passthru (journal.c): the transaction
 * journal, the held record, the lock and the log.
 */
#pragma once

#include <stdbool.h>

#include "internal.h"
#include "device-state.h"
#include "vf-settings.h"

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
	/* Attribute writes (an SR-IOV change): the record's "write" lines, no devices. */
	JOURNAL_OP_WRITE,
	/* VF link settings (over rtnetlink): the record's "vf" lines, no devices. */
	JOURNAL_OP_VF,
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

/*
 * One write of a JOURNAL_OP_WRITE transaction, in the order they are made: value to the
 * attribute name of the PCI function at address (/sys/bus/pci/devices/ADDRESS/NAME), and undo,
 * the value that puts back what it changed.
 */
struct journal_write {
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
	char *name;
	char *value;
	char *undo;
};

/*
 * One step of a JOURNAL_OP_VF transaction: value to VF index of the PF at pf, and undo, the
 * settings the driver had before (the same settings, read back), which put back what it changed.
 */
struct journal_vf {
	char pf[PASSTHRU_PCI_ADDRESS_LEN + 1];
	unsigned index;
	struct vf_settings value;
	struct vf_settings undo;
};

struct journal {
	enum journal_op op;
	long pid;
	struct journal_entry *entries;
	size_t n_entries;
	struct journal_write *writes;
	size_t n_writes;
	struct journal_vf *vfs;
	size_t n_vfs;
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
/*
 * Appends a write (JOURNAL_OP_WRITE). -EINVAL for an address not in the canonical form, a name
 * that is not a plain attribute name ([a-z0-9_]) or an empty value or undo.
 */
int journal_add_write(struct journal *j, const char *address, const char *name, const char *value,
		      const char *undo);

/*
 * Appends a VF step (JOURNAL_OP_VF). -EINVAL for a pf not in the canonical form, an index above
 * 65535, a value that sets nothing or is out of range (vf_set_settings()'s rules), or an undo
 * that does not cover exactly the settings of value.
 */
int journal_add_vf(struct journal *j, const char *pf, unsigned index,
		   const struct vf_settings *value, const struct vf_settings *undo);

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
