/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Guards, private to lib/: what guard.c, guard-block.c and guard-net.c share, and the parsers
 * of the /proc files they read (pure functions, for the unit tests and the fuzzers).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* ------------------------------------------------------------------------------------------ */
/* The list being built (guard.c)                                                             */

/*
 * Appends a guard. resource and hint are copied (hint may be NULL); the reason is formatted.
 * A guard with the same kind and reason as one already listed is dropped: the same mount can
 * be reached from two partitions that both hold one volume group.
 */
int guard_list_add(struct passthru_guard_list *list, enum passthru_guard_kind kind,
		   const char *resource, const char *hint, const char *reason_format, ...)
    _printf_(5, 6);

/*
 * Reads a host text file (/proc/...). -EBADMSG, logged, when it holds a NUL byte; the errors
 * of root_read_file() otherwise.
 */
int guard_read_text(struct passthru_ctx *ctx, const char *path, char **ret);

/*
 * Reads a /proc file and parses it into table with parse, which returns -EBADMSG and the bad
 * line's number for a malformed line: that line is logged. A missing file is -ENOENT like any
 * other failure: the caller decides (guard_add_unreadable(), mostly).
 */
int guard_load_table(struct passthru_ctx *ctx, const char *path,
		     int (*parse)(const char *text, void *table, size_t *ret_bad_line),
		     void *table);

/*
 * Fails closed: adds the guard that says the host file (or directory) path, which the checks
 * of resource need, cannot be read, and why (error, a negative errno; -EBADMSG: malformed).
 * Returns -ENOMEM as it is, 0 once the guard is added.
 */
int guard_add_unreadable(struct passthru_guard_list *list, const char *resource, const char *path,
			 int error);

/*
 * Logs line lineno (1-based) of a host file's text as malformed, at LOG_ERR and escaped, and
 * returns -EBADMSG.
 */
int guard_bad_line(struct passthru_ctx *ctx, const char *file, const char *text, size_t lineno);

/* ------------------------------------------------------------------------------------------ */
/* Storage (guard-block.c)                                                                    */

/* One line of /proc/self/mountinfo; strings unescaped (the kernel writes " " as "\040"). */
struct mount_entry {
	unsigned major, minor;
	char *mount_point;
	char *fstype;
	/* The mount source ("/dev/nvme0n1p2", "tmpfs", "none"). */
	char *source;
};

struct mount_table {
	struct mount_entry *v;
	size_t n;
};

void mount_table_done(struct mount_table *t);

/*
 * Parses the text of /proc/self/mountinfo. Returns -EBADMSG for a malformed line and stores
 * its number (1-based) in *ret_bad_line when that is not NULL; -ENOMEM.
 */
int mountinfo_parse(const char *text, struct mount_table *ret, size_t *ret_bad_line);

/*
 * Parses the text of /proc/mounts ("/dev/nvme0n1p2 / ext4 rw,relatime 0 0"), the fallback when
 * mountinfo cannot be read: it has no device numbers, so every entry gets 0:0 and is matched
 * by its source's name. As mountinfo_parse().
 */
int proc_mounts_parse(const char *text, struct mount_table *ret, size_t *ret_bad_line);

struct swap_entry {
	/* Unescaped, as the kernel prints it ("/dev/nvme0n1p3", "/swapfile"). */
	char *path;
	/* "file" rather than "partition". */
	bool is_file;
};

struct swap_table {
	struct swap_entry *v;
	size_t n;
};

void swap_table_done(struct swap_table *t);

/* Parses the text of /proc/swaps (with or without its header line); as mountinfo_parse(). */
int swaps_parse(const char *text, struct swap_table *ret, size_t *ret_bad_line);

/*
 * Undoes the octal escapes the kernel uses for paths in /proc files ("\040" for a space).
 * -EBADMSG for a truncated or out-of-range escape.
 */
int unescape_octal(const char *s, size_t len, char **ret);

/* Adds a guard for each mount, swap and holder on the disks below the device at devpath. */
int guard_check_storage(struct passthru_ctx *ctx, const char *devpath,
			struct passthru_guard_list *list);

/* ------------------------------------------------------------------------------------------ */
/* Network (guard-net.c)                                                                      */

/* A default route (0.0.0.0/0 or ::/0) that is up and not a reject route. */
struct route_entry {
	char *ifname;
	int family;
	bool has_gateway;
	uint8_t gateway[16];
};

struct route_table {
	struct route_entry *v;
	size_t n;
};

void route_table_done(struct route_table *t);

/*
 * Parse /proc/net/route and /proc/net/ipv6_route, adding their default routes to t (which may
 * hold some of them after a failure). -EBADMSG and the line's number (1-based) in
 * *ret_bad_line, when not NULL, for a malformed line; -ENOMEM.
 */
int proc_net_route_parse(const char *text, struct route_table *t, size_t *ret_bad_line);
int proc_net_ipv6_route_parse(const char *text, struct route_table *t, size_t *ret_bad_line);

struct addr_entry {
	/* NULL when the source named only the index. */
	char *ifname;
	int ifindex;
	int family;
	uint8_t address[16];
	unsigned prefixlen;
	/* RT_SCOPE_* for IPv4; IPv6 as if_inet6 prints it (0x20 link, 0x10 host, 0 global). */
	unsigned scope;
	/* IFA_F_* flags. */
	unsigned flags;
};

struct addr_table {
	struct addr_entry *v;
	size_t n;
};

void addr_table_done(struct addr_table *t);

/*
 * Parses /proc/net/if_inet6 (family AF_INET6) or the fixture's /proc/net/if_inet4 (AF_INET,
 * the same format with 8 hex digits of address), adding to t. As proc_net_route_parse().
 */
int proc_net_if_inet_parse(const char *text, int family, struct addr_table *t,
			   size_t *ret_bad_line);

/*
 * Where the host's IPv4 addresses come from; everything else comes from /proc/net in both.
 * rtnetlink asks the kernel of the calling process and serves the live host (root "/"); the
 * file provider reads /proc/net/if_inet4 below the root, so a fixture test never sees the
 * network of the machine it runs on.
 */
struct netstate_provider {
	const char *name;
	/* What a guard names when the addresses cannot be read. */
	const char *source;
	int (*ipv4_addresses)(struct passthru_ctx *ctx, struct addr_table *t);
};

extern const struct netstate_provider netstate_rtnetlink;
extern const struct netstate_provider netstate_files;

/* The network state the guards look at. */
struct netstate {
	struct route_table routes;
	struct addr_table addresses;
	/*
	 * The first source that could not be read (a /proc path, or the provider's name), and
	 * why (a negative errno); NULL when all were read. The tables then hold what was read.
	 */
	const char *unreadable;
	int unreadable_error;
};

void netstate_done(struct netstate *s);
/*
 * Reads the state through the provider the context calls for. A source that cannot be read is
 * recorded in unreadable, not returned: only -ENOMEM is. The IPv6 files may be missing only
 * when the kernel has no IPv6 (no /proc/sys/net/ipv6: CONFIG_IPV6=n, ipv6.disable=1).
 */
int netstate_load(struct passthru_ctx *ctx, struct netstate *ret);
int netstate_load_with(struct passthru_ctx *ctx, const struct netstate_provider *provider,
		       struct netstate *ret);

/* Adds a guard for each route, address and used upper device of the device's interfaces. */
int guard_check_network(struct passthru_ctx *ctx, const char *devpath,
			struct passthru_guard_list *list);
