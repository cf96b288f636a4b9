/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libpassthru: the host side of VM device passthrough.
 *
 * Conventions, for every function below (names written passthru_<type>_..., where <type> is
 * the struct passthru_<type> the function works on):
 * - Errors: functions returning int return 0 (or a non-negative value) on success and a
 *   negative errno on failure. Output parameters named ret* are written only on success. An
 *   object that plans or changes the host (takeover, setup, sriov, vf, vm_devices, qmp) also
 *   keeps one line saying why its last call failed, passthru_<type>_get_error(), NULL after
 *   a success; a plan refused as a whole returns -EPERM, its reasons read as that object's
 *   refusals (below).
 * - Objects are opaque and reference counted: *_ref() returns its argument, *_unref()
 *   drops a reference, accepts NULL and returns NULL.
 * - Constructors return 0 and the new object, holding one reference, in *ret. Their name
 *   begins with the type they return: passthru_<type>_new() builds one from its arguments;
 *   passthru_<type>_scan(), _load() and _read() fill one from the host (sysfs, files,
 *   netlink); passthru_guard_list_check_<what>() is the list of guards a check finds.
 * - Collections: a collection object (a passthru_<thing>_list, a check report, a plan) has
 *   passthru_<type>_count() items, indexed from 0, read with passthru_<type>_get(obj, index)
 *   (an object, borrowed) or passthru_<type>_get_<field>(obj, index). A second collection
 *   inside an object (refusals, changes, commands) has passthru_<type>_get_<item>_count() and
 *   passthru_<type>_get_<item>_<field>(obj, index). A collection is never a NULL-terminated
 *   array of objects; NULL-terminated arrays are for strings only.
 * - Out of range: for an index at or past the count, and for a NULL object, a getter returns
 *   NULL (pointers), false (bool), -EINVAL with *ret untouched (int), -EINVAL cast to the
 *   enum (enums: test (int)value < 0), and an empty array (string arrays, which are never
 *   NULL). A count of a NULL object is 0.
 * - Older names that break these rules are kept, each beside its new name, as long as the
 *   soname is libpassthru.so.0; new code uses the new names.
 * - Every object belongs to the context it was made from and keeps it alive. A context
 *   and its objects may be used from one thread at a time; different contexts are
 *   independent and may be used from different threads.
 * - Getters returning const char * or string arrays hand out borrowed memory owned by the
 *   object they were called on, valid until that object is released. NULL means
 *   "not known" or "not present"; string arrays are NULL-terminated and never NULL.
 * - The library never prints and never exits; diagnostics go to the context's log
 *   function (stderr at LOG_ERR and above by default, nothing below).
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/* Context                                                                                    */
/* ------------------------------------------------------------------------------------------ */

struct passthru_ctx;

/*
 * Creates a context whose host access is rooted at sysroot: every path the library reads or
 * writes under /sys, /proc, /dev, /etc, /run and /lib/modules is taken below it. NULL means
 * $PASSTHRU_SYSROOT when set, else "/". Fails with -ENOENT or -ENOTDIR when the root is not a
 * directory.
 */
int passthru_ctx_new(const char *sysroot, struct passthru_ctx **ret);
struct passthru_ctx *passthru_ctx_ref(struct passthru_ctx *ctx);
struct passthru_ctx *passthru_ctx_unref(struct passthru_ctx *ctx);

/* The root directory, as an absolute path without a trailing slash ("/" for the real host). */
const char *passthru_ctx_get_sysroot(const struct passthru_ctx *ctx);

/*
 * The kernel release of the (rooted) host, read once from /proc/sys/kernel/osrelease.
 * NULL when it cannot be read. Owned by the context.
 */
const char *passthru_ctx_get_kernel_release(struct passthru_ctx *ctx);

/* priority is a syslog priority (LOG_ERR ... LOG_DEBUG). */
typedef void (*passthru_log_fn)(void *userdata, int priority, const char *file, int line,
				const char *fn, const char *format, va_list args);
void passthru_ctx_set_log_fn(struct passthru_ctx *ctx, passthru_log_fn fn, void *userdata);
void passthru_ctx_set_log_priority(struct passthru_ctx *ctx, int priority);
int passthru_ctx_get_log_priority(const struct passthru_ctx *ctx);

/* ------------------------------------------------------------------------------------------ */
/* PCI                                                                                        */
/* ------------------------------------------------------------------------------------------ */

/*
 * Length of the longest PCI address without its NUL: "DDDDDDDD:BB:DD.F". The domain is 32
 * bits; the kernel prints it with at least four digits, so most addresses are 12 characters
 * ("0000:42:00.0") and those in the domains of Intel VMD or Hyper-V longer ("10000:00:04.0").
 */
#define PASSTHRU_PCI_ADDRESS_LEN 16

/*
 * Parses a PCI address as a user writes it, "0000:42:00.0", "10000:00:04.0" or "42:00.0"
 * (domain 0), in any case, and writes the canonical lower-case form the kernel uses
 * ("0000:42:00.0": the domain with at least four digits) to ret.
 * Returns -EINVAL for anything else.
 */
int passthru_pci_address_parse(const char *text, char ret[PASSTHRU_PCI_ADDRESS_LEN + 1]);

struct passthru_pci_device;
struct passthru_pci_list;

/*
 * Reads every PCI function of the host, sorted by address. A device that vanishes during
 * the scan is left out; a device with unreadable or garbage attributes is kept with what
 * could be read (see passthru_pci_device_get_problems()).
 */
int passthru_pci_list_scan(struct passthru_ctx *ctx, struct passthru_pci_list **ret);
/* The old name of passthru_pci_list_scan(). */
int passthru_pci_scan(struct passthru_ctx *ctx, struct passthru_pci_list **ret);
struct passthru_pci_list *passthru_pci_list_ref(struct passthru_pci_list *list);
struct passthru_pci_list *passthru_pci_list_unref(struct passthru_pci_list *list);
size_t passthru_pci_list_count(const struct passthru_pci_list *list);
/* Borrowed; valid while the list lives. */
struct passthru_pci_device *passthru_pci_list_get(const struct passthru_pci_list *list,
						  size_t index);
/* address in any form passthru_pci_address_parse() accepts; NULL when absent. Borrowed. */
struct passthru_pci_device *passthru_pci_list_find(const struct passthru_pci_list *list,
						   const char *address);

/*
 * Reads one PCI function. Returns -EINVAL for a malformed address and -ENODEV when the host
 * has no such function.
 */
int passthru_pci_device_new(struct passthru_ctx *ctx, const char *address,
			    struct passthru_pci_device **ret);
struct passthru_pci_device *passthru_pci_device_ref(struct passthru_pci_device *dev);
struct passthru_pci_device *passthru_pci_device_unref(struct passthru_pci_device *dev);

/* "0000:42:00.0". */
const char *passthru_pci_device_get_address(struct passthru_pci_device *dev);

/* Identity. Each returns -ENODATA when the value could not be read. */
int passthru_pci_device_get_vendor_id(struct passthru_pci_device *dev, uint16_t *ret);
int passthru_pci_device_get_device_id(struct passthru_pci_device *dev, uint16_t *ret);
int passthru_pci_device_get_subsystem_vendor_id(struct passthru_pci_device *dev, uint16_t *ret);
int passthru_pci_device_get_subsystem_device_id(struct passthru_pci_device *dev, uint16_t *ret);
/* 24 bits: base class, subclass, prog-if, as the sysfs "class" attribute. */
int passthru_pci_device_get_class(struct passthru_pci_device *dev, uint32_t *ret);
int passthru_pci_device_get_revision(struct passthru_pci_device *dev, uint8_t *ret);

/* Names from the pci.ids database; NULL when unknown. */
const char *passthru_pci_device_get_vendor_name(struct passthru_pci_device *dev);
const char *passthru_pci_device_get_device_name(struct passthru_pci_device *dev);
const char *passthru_pci_device_get_subsystem_name(struct passthru_pci_device *dev);
/* The subclass name ("VGA compatible controller"), else the base class name. */
const char *passthru_pci_device_get_class_name(struct passthru_pci_device *dev);
const char *passthru_pci_device_get_prog_if_name(struct passthru_pci_device *dev);

/*
 * The passthrough type: the name of the first matching custom type rule, else
 * "GPU-VGA" (class 0300), "GPU-HPC" (0302, or 0380 for vendors 10de and 1002), "NIC" (02xx),
 * "NVME" (010802) or "PCI".
 */
const char *passthru_pci_device_get_type(struct passthru_pci_device *dev);

/* The bound driver, NULL when none. */
const char *passthru_pci_device_get_driver(struct passthru_pci_device *dev);
/* Kernel modules able to drive the device (modalias lookup in the host's module index). */
const char *const *passthru_pci_device_get_modules(struct passthru_pci_device *dev);

/* -ENOENT when the device is in no IOMMU group (IOMMU off). */
int passthru_pci_device_get_iommu_group(struct passthru_pci_device *dev, int *ret);
/*
 * Addresses of every function in the device's IOMMU group, itself included; sorted. The group
 * with its endpoints and viability is passthru_iommu_group_new_for_device().
 */
const char *const *passthru_pci_device_get_iommu_group_members(struct passthru_pci_device *dev);

/* The kernel's value; -1 means no NUMA affinity. -ENODATA when unreadable. */
int passthru_pci_device_get_numa_node(struct passthru_pci_device *dev, int *ret);
bool passthru_pci_device_is_boot_vga(struct passthru_pci_device *dev);
/* True for PCI-to-PCI and CardBus bridges: header type 1 or 2, or class 0604 or 0607. */
bool passthru_pci_device_is_bridge(struct passthru_pci_device *dev);
/*
 * False for what stays with the host whatever its IOMMU group: bridges of every kind (PCI, host,
 * ISA), the IOMMU, a root complex event collector, a function of unreadable class. The rule
 * passthru_iommu_group_is_endpoint() applies to a group's members.
 */
bool passthru_pci_device_is_endpoint(struct passthru_pci_device *dev);

/* SR-IOV. The counts return -ENOENT for a device that is not a PF. */
int passthru_pci_device_get_sriov_totalvfs(struct passthru_pci_device *dev, unsigned *ret);
int passthru_pci_device_get_sriov_numvfs(struct passthru_pci_device *dev, unsigned *ret);
/* The PF's address for a VF, else NULL. */
const char *passthru_pci_device_get_physfn(struct passthru_pci_device *dev);
/* Addresses of a PF's current VFs, in VF index order. */
const char *const *passthru_pci_device_get_vfs(struct passthru_pci_device *dev);

/* Reset methods the kernel offers ("flr", "pm", "bus", ...), from reset_method. */
const char *const *passthru_pci_device_get_reset_methods(struct passthru_pci_device *dev);

/* PCIe link as the kernel prints it ("8.0 GT/s PCIe", "16"); NULL when not PCIe. */
const char *passthru_pci_device_get_current_link_speed(struct passthru_pci_device *dev);
const char *passthru_pci_device_get_current_link_width(struct passthru_pci_device *dev);
const char *passthru_pci_device_get_max_link_speed(struct passthru_pci_device *dev);
const char *passthru_pci_device_get_max_link_width(struct passthru_pci_device *dev);

/*
 * Problems met while reading the device, one line each ("numa_node: invalid value \"zzz\""),
 * for attributes that were unreadable or held garbage. Attributes read lazily add their
 * problems when their getter is first called.
 */
const char *const *passthru_pci_device_get_problems(struct passthru_pci_device *dev);

/* ------------------------------------------------------------------------------------------ */
/* IOMMU groups                                                                               */
/* ------------------------------------------------------------------------------------------ */
/*
 * An IOMMU group is the unit VFIO hands out: a VM gets all of a group or none of it. Its
 * members are the PCI functions in /sys/kernel/iommu_groups/N/devices, sorted by address.
 * Bridges among them (passthru_iommu_group_is_endpoint() false) stay with the host; every
 * endpoint moves together. The group is viable, i.e. VFIO lets a user open it, when every
 * endpoint is on vfio-pci, on pci-stub or on no driver.
 *
 * Typical use, "may 0000:01:00.0 go to a VM":
 *     r = passthru_iommu_group_new_for_address(ctx, "01:00.0", &g);   (-ENOENT: no group)
 *     if (!passthru_iommu_group_is_viable(g))
 *             ... passthru_iommu_group_get_blocking(g) names the endpoints in the way
 */

struct passthru_iommu_group;

/*
 * Reads IOMMU group number. Returns -EINVAL for a negative number, -ENOENT when the host has no
 * such group. A member that vanishes while the group is read is left out.
 */
int passthru_iommu_group_new(struct passthru_ctx *ctx, int number,
			     struct passthru_iommu_group **ret);
/*
 * Reads the group of the function at address (any form passthru_pci_address_parse() accepts).
 * Returns -EINVAL for a malformed address, -ENODEV when the host has no such function or the
 * group went away while it was read, -ENOENT when the function is in no IOMMU group (IOMMU off)
 * and -ENODATA when its group link is broken.
 */
int passthru_iommu_group_new_for_address(struct passthru_ctx *ctx, const char *address,
					 struct passthru_iommu_group **ret);
/*
 * The same for a device at hand. The group holds dev itself as its member; for a device of a
 * scan, the other members are the scan's devices of that group (no further reads).
 */
int passthru_iommu_group_new_for_device(struct passthru_pci_device *dev,
					struct passthru_iommu_group **ret);
struct passthru_iommu_group *passthru_iommu_group_ref(struct passthru_iommu_group *group);
struct passthru_iommu_group *passthru_iommu_group_unref(struct passthru_iommu_group *group);

/* The group's number, as in /sys/kernel/iommu_groups/N. */
int passthru_iommu_group_get_number(const struct passthru_iommu_group *group);

/* Members, sorted by address. */
size_t passthru_iommu_group_count(const struct passthru_iommu_group *group);
/* Borrowed; valid while the group lives. NULL when index is out of range. */
struct passthru_pci_device *passthru_iommu_group_get(const struct passthru_iommu_group *group,
						     size_t index);
/*
 * Whether the member is an endpoint, which goes to vfio-pci with the others; false for bridges
 * of every kind (PCI-to-PCI, host, ISA), the IOMMU itself, and functions of unknown class. False
 * when index is out of range.
 */
bool passthru_iommu_group_is_endpoint(const struct passthru_iommu_group *group, size_t index);
/* The member's bound driver, NULL when none (or index out of range). Borrowed. */
const char *passthru_iommu_group_get_driver(const struct passthru_iommu_group *group, size_t index);

/* Addresses of the endpoints, which must move together; sorted. Owned by the group. */
const char *const *passthru_iommu_group_get_endpoints(const struct passthru_iommu_group *group);
/*
 * Addresses of the endpoints on a host driver (not vfio-pci, not pci-stub), which keep the group
 * from being viable; sorted. Owned by the group.
 */
const char *const *passthru_iommu_group_get_blocking(const struct passthru_iommu_group *group);
/* True when no endpoint is on a host driver: VFIO lets a user open the group. */
bool passthru_iommu_group_is_viable(const struct passthru_iommu_group *group);

/* ACS control bits (PCIe r6.0, 7.7.8.3), as passthru_iommu_group_get_acs() reports them. */
#define PASSTHRU_ACS_SV 0x0001 /* source validation */
#define PASSTHRU_ACS_TB 0x0002 /* translation blocking */
#define PASSTHRU_ACS_RR 0x0004 /* P2P request redirect */
#define PASSTHRU_ACS_CR 0x0008 /* P2P completion redirect */
#define PASSTHRU_ACS_UF 0x0010 /* upstream forwarding */

enum passthru_acs_state {
	/* Every bridge above isolates (SV, RR, CR and UF on where capable), or there is none. */
	PASSTHRU_ACS_ISOLATED,
	/* A bridge above has no ACS capability, or has some of those controls off. */
	PASSTHRU_ACS_LACKING,
	/* None lacks it, but the extended config space of one cannot be read (not root). */
	PASSTHRU_ACS_UNKNOWN,
};

/*
 * Addresses of the bridges above the member (its root port, switch ports), nearest first, from
 * its sysfs path; empty on a root bus, when the path cannot be read or index is out of range.
 * Owned by the group.
 */
const char *const *passthru_iommu_group_get_upstream(struct passthru_iommu_group *group,
						     size_t index);
/*
 * The ACS capability and control registers of a bridge above a member (an address from
 * passthru_iommu_group_get_upstream()), read from its config space once. Returns -ENOENT when it
 * has no ACS capability, -ENODATA when its extended config space cannot be read (the kernel shows
 * only 64 bytes to users other than root), -EINVAL when bridge is above no member.
 */
int passthru_iommu_group_get_acs(struct passthru_iommu_group *group, const char *bridge,
				 uint16_t *ret_cap, uint16_t *ret_ctrl);
/* The verdict on the bridges above the member; PASSTHRU_ACS_UNKNOWN for an index out of range. */
enum passthru_acs_state passthru_iommu_group_get_acs_state(struct passthru_iommu_group *group,
							   size_t index);

/* ------------------------------------------------------------------------------------------ */
/* Custom device types                                                                        */
/* ------------------------------------------------------------------------------------------ */
/*
 * Rules live in /etc/passthru/types.d/ *.conf, one per line: "NAME VENDOR:DEVICE" or
 * "NAME VENDOR:DEVICE:SUBVENDOR:SUBDEVICE" (4 hex digits each). '#' starts a comment.
 *
 * NAME is a letter or digit followed by letters, digits, '_', '.' or '-', at most
 * PASSTHRU_TYPE_NAME_MAX characters, and not a built-in type name (GPU-VGA, GPU-HPC, NIC,
 * NVME, PCI, in any case). Files are read in lexical order of their names, rules in file order.
 * A function gets the name of the first rule with subsystem ids that matches it, else of the
 * first rule without, else its built-in type (see passthru_pci_device_get_type()).
 * A malformed line is ignored and reported by passthru_type_list_get_problems().
 *
 * Typical use, "passthru type add FPGA 10ee:7038":
 *     if (!passthru_type_name_is_valid(name)) ... (passthru_type_name_is_builtin() says why)
 *     if (!passthru_type_match_is_valid(match)) ...
 *     r = passthru_type_add(ctx, name, match);   (-EEXIST: already there)
 */

#define PASSTHRU_TYPE_NAME_MAX 32

struct passthru_type_list;
struct passthru_type_rule;

/* Syntax checks of a NAME (built-in names are not valid) and of a match, as rules need them. */
bool passthru_type_name_is_valid(const char *name);
bool passthru_type_name_is_builtin(const char *name);
bool passthru_type_match_is_valid(const char *match);

/*
 * Reads every rule of types.d. A missing directory gives an empty list; malformed lines and
 * unreadable files are left out and reported as problems. Fails only when types.d exists
 * but cannot be listed, or on -ENOMEM.
 */
int passthru_type_list_load(struct passthru_ctx *ctx, struct passthru_type_list **ret);
/* The old name of passthru_type_list_load(). */
int passthru_types_load(struct passthru_ctx *ctx, struct passthru_type_list **ret);
struct passthru_type_list *passthru_type_list_ref(struct passthru_type_list *list);
struct passthru_type_list *passthru_type_list_unref(struct passthru_type_list *list);
size_t passthru_type_list_count(const struct passthru_type_list *list);
/* Rules in the order they apply. A rule is a view into its list: valid while the list lives. */
const struct passthru_type_rule *passthru_type_list_get(const struct passthru_type_list *list,
							size_t index);
/*
 * One line per malformed rule or unreadable file, "FILE:LINE: what is wrong" (FILE a host
 * path, "/etc/passthru/types.d/gpu.conf:3: invalid match \"10de\" ...").
 */
const char *const *passthru_type_list_get_problems(const struct passthru_type_list *list);
/*
 * The type the rules give to a function with these ids; subvendor and subdevice are -1 when
 * unknown (only rules without subsystem ids can match then). NULL when no rule matches.
 */
const char *passthru_type_list_match(const struct passthru_type_list *list, uint16_t vendor,
				     uint16_t device, int subvendor, int subdevice);

const char *passthru_type_rule_get_name(const struct passthru_type_rule *rule);
/* "10ee:7038" or "10de:1db4:10de:1212", lower case: the form passthru_type_add() takes. */
const char *passthru_type_rule_get_match(const struct passthru_type_rule *rule);
uint16_t passthru_type_rule_get_vendor(const struct passthru_type_rule *rule);
uint16_t passthru_type_rule_get_device(const struct passthru_type_rule *rule);
/* -1 when the rule has no subsystem ids. */
int passthru_type_rule_get_subsystem_vendor(const struct passthru_type_rule *rule);
int passthru_type_rule_get_subsystem_device(const struct passthru_type_rule *rule);
/* The host path of the rule's file ("/etc/passthru/types.d/FPGA.conf") and its line (from 1). */
const char *passthru_type_rule_get_file(const struct passthru_type_rule *rule);
unsigned passthru_type_rule_get_line(const struct passthru_type_rule *rule);

/*
 * Adds the rule "NAME MATCH" at the end of /etc/passthru/types.d/NAME.conf (created if
 * needed), replacing the file atomically. -EINVAL for a name or match the checks above
 * refuse, -EEXIST when an identical rule exists in any file. A rule of another name with the
 * same ids in an earlier file still wins: check passthru_type_list_match() to warn about it.
 */
int passthru_type_add(struct passthru_ctx *ctx, const char *name, const char *match);
/*
 * Removes the rule "NAME MATCH", or every rule of NAME when match is NULL, from whichever
 * types.d files hold them; a file left with nothing but blank lines is deleted. Returns the
 * number of rules removed, -ENOENT when there was none, -EINVAL for a malformed argument.
 */
int passthru_type_remove(struct passthru_ctx *ctx, const char *name, const char *match);

/* ------------------------------------------------------------------------------------------ */
/* USB                                                                                        */
/* ------------------------------------------------------------------------------------------ */

struct passthru_usb_device;
struct passthru_usb_list;

/* Every USB device (root hubs included), sorted by bus then port path. */
int passthru_usb_list_scan(struct passthru_ctx *ctx, struct passthru_usb_list **ret);
/* The old name of passthru_usb_list_scan(). */
int passthru_usb_scan(struct passthru_ctx *ctx, struct passthru_usb_list **ret);
struct passthru_usb_list *passthru_usb_list_ref(struct passthru_usb_list *list);
struct passthru_usb_list *passthru_usb_list_unref(struct passthru_usb_list *list);
size_t passthru_usb_list_count(const struct passthru_usb_list *list);
struct passthru_usb_device *passthru_usb_list_get(const struct passthru_usb_list *list,
						  size_t index);
/* By port path ("1-2.3", "usb1" for a root hub); NULL when absent. Borrowed. */
struct passthru_usb_device *passthru_usb_list_find(const struct passthru_usb_list *list,
						   const char *port);

/* -EINVAL for a malformed port path, -ENODEV when absent. */
int passthru_usb_device_new(struct passthru_ctx *ctx, const char *port,
			    struct passthru_usb_device **ret);
struct passthru_usb_device *passthru_usb_device_ref(struct passthru_usb_device *dev);
struct passthru_usb_device *passthru_usb_device_unref(struct passthru_usb_device *dev);

/* The kernel's name: "1-2.3", stable across re-plug into the same port; "usb1" for root hubs. */
const char *passthru_usb_device_get_port(struct passthru_usb_device *dev);
int passthru_usb_device_get_busnum(struct passthru_usb_device *dev, unsigned *ret);
int passthru_usb_device_get_devnum(struct passthru_usb_device *dev, unsigned *ret);
int passthru_usb_device_get_vendor_id(struct passthru_usb_device *dev, uint16_t *ret);
int passthru_usb_device_get_product_id(struct passthru_usb_device *dev, uint16_t *ret);
/* bDeviceClass. */
int passthru_usb_device_get_class(struct passthru_usb_device *dev, uint8_t *ret);
/* From usb.ids (udev hwdb); NULL when unknown. */
const char *passthru_usb_device_get_vendor_name(struct passthru_usb_device *dev);
const char *passthru_usb_device_get_product_name(struct passthru_usb_device *dev);
/* The device's own strings; NULL when it has none. */
const char *passthru_usb_device_get_manufacturer(struct passthru_usb_device *dev);
const char *passthru_usb_device_get_product(struct passthru_usb_device *dev);
const char *passthru_usb_device_get_serial(struct passthru_usb_device *dev);
/* Negotiated speed in Mbit/s as the kernel prints it ("480", "1.5"). */
const char *passthru_usb_device_get_speed(struct passthru_usb_device *dev);
bool passthru_usb_device_is_hub(struct passthru_usb_device *dev);
bool passthru_usb_device_is_root_hub(struct passthru_usb_device *dev);
/* Drivers bound to the device's interfaces, without duplicates, in interface order. */
const char *const *passthru_usb_device_get_drivers(struct passthru_usb_device *dev);
const char *const *passthru_usb_device_get_problems(struct passthru_usb_device *dev);

/* ------------------------------------------------------------------------------------------ */
/* Serial ports                                                                               */
/* ------------------------------------------------------------------------------------------ */

struct passthru_serial_port;
struct passthru_serial_list;

/*
 * Every real serial port: ttyS* whose UART type is not 0 (type 0 is a phantom the 8250
 * driver registers without hardware), and USB serial ports (ttyUSB*, ttyACM*). Sorted by name.
 */
int passthru_serial_list_scan(struct passthru_ctx *ctx, struct passthru_serial_list **ret);
/* The old name of passthru_serial_list_scan(). */
int passthru_serial_scan(struct passthru_ctx *ctx, struct passthru_serial_list **ret);
struct passthru_serial_list *passthru_serial_list_ref(struct passthru_serial_list *list);
struct passthru_serial_list *passthru_serial_list_unref(struct passthru_serial_list *list);
size_t passthru_serial_list_count(const struct passthru_serial_list *list);
struct passthru_serial_port *passthru_serial_list_get(const struct passthru_serial_list *list,
						      size_t index);
/* By "/dev/ttyS1" or "ttyS1"; NULL when absent. Borrowed. */
struct passthru_serial_port *passthru_serial_list_find(const struct passthru_serial_list *list,
						       const char *path);

/* name is "/dev/ttyS1" or "ttyS1". -EINVAL when malformed, -ENODEV when absent or phantom. */
int passthru_serial_port_new(struct passthru_ctx *ctx, const char *name,
			     struct passthru_serial_port **ret);
struct passthru_serial_port *passthru_serial_port_ref(struct passthru_serial_port *port);
struct passthru_serial_port *passthru_serial_port_unref(struct passthru_serial_port *port);

/* "/dev/ttyS1". */
const char *passthru_serial_port_get_path(struct passthru_serial_port *port);
/* "ttyS1". */
const char *passthru_serial_port_get_name(struct passthru_serial_port *port);
/* True when the port is a host console (console= on the kernel command line). */
bool passthru_serial_port_is_console(struct passthru_serial_port *port);
/* I/O port base; -ENOENT for memory-mapped and USB ports. */
int passthru_serial_port_get_io_port(struct passthru_serial_port *port, unsigned *ret);
int passthru_serial_port_get_irq(struct passthru_serial_port *port, unsigned *ret);
/* The 8250 UART type number (4 = 16550A); -ENOENT for USB ports. */
int passthru_serial_port_get_uart_type(struct passthru_serial_port *port, unsigned *ret);
/* The port path of the USB device behind a USB serial port, else NULL. */
const char *passthru_serial_port_get_usb_port(struct passthru_serial_port *port);
/* The driver of the port's device ("serial8250", "ftdi_sio", "cdc_acm"); NULL when unknown. */
const char *passthru_serial_port_get_driver(struct passthru_serial_port *port);

/* ------------------------------------------------------------------------------------------ */
/* Guards: what the host itself uses                                                          */
/* ------------------------------------------------------------------------------------------ */

enum passthru_guard_kind {
	PASSTHRU_GUARD_MOUNT,      /* a mounted filesystem lives on a disk behind the device */
	PASSTHRU_GUARD_SWAP,       /* active swap on it */
	PASSTHRU_GUARD_HOLDER,     /* an LVM PV, MD or device-mapper member (holders) */
	PASSTHRU_GUARD_ROUTE,      /* a NIC that carries a default route */
	PASSTHRU_GUARD_ADDRESS,    /* a NIC with a host IP address */
	PASSTHRU_GUARD_UPPER,      /* a NIC that is a slave/port of a bond, bridge or team in use */
	PASSTHRU_GUARD_CONSOLE,    /* the boot VGA driving the console, or the console serial port */
	PASSTHRU_GUARD_VFS_IN_USE, /* a PF whose VFs are bound or would be removed */
	PASSTHRU_GUARD_UNREADABLE, /* a host table a check needs cannot be read: use unknown */
};

struct passthru_guard_list;

/*
 * Finds every host resource that depends on the PCI function at address (its disks, network
 * interfaces, console, VFs). An empty list means nothing of the host's was found on it.
 * A host table a check needs (mount table, swaps, routes, addresses, the block devices) that
 * cannot be read is a guard of kind PASSTHRU_GUARD_UNREADABLE naming the file and the cause:
 * the checks fail closed, never taking "unreadable" for "nothing there".
 */
int passthru_guard_list_check_pci(struct passthru_ctx *ctx, const char *address,
				  struct passthru_guard_list **ret);
/* The same for a serial port ("/dev/ttyS0" or "ttyS0"). */
int passthru_guard_list_check_serial(struct passthru_ctx *ctx, const char *port,
				     struct passthru_guard_list **ret);
/* The old names of passthru_guard_list_check_pci() and passthru_guard_list_check_serial(). */
int passthru_guard_check_pci(struct passthru_ctx *ctx, const char *address,
			     struct passthru_guard_list **ret);
int passthru_guard_check_serial(struct passthru_ctx *ctx, const char *port,
				struct passthru_guard_list **ret);
struct passthru_guard_list *passthru_guard_list_ref(struct passthru_guard_list *list);
struct passthru_guard_list *passthru_guard_list_unref(struct passthru_guard_list *list);
size_t passthru_guard_list_count(const struct passthru_guard_list *list);
enum passthru_guard_kind passthru_guard_list_get_kind(const struct passthru_guard_list *list,
						      size_t index);
/* What is in use, naming the resource: "/ is mounted from nvme0n1p2", "eth0 carries the
 * default route via 10.0.2.2". Owned by the list. */
const char *passthru_guard_list_get_reason(const struct passthru_guard_list *list, size_t index);
/* The device the resource was found on ("nvme0n1", "eth0"); owned by the list. */
const char *passthru_guard_list_get_resource(const struct passthru_guard_list *list,
					     size_t index);
/*
 * What would free the resource, as a command or one line of advice: "umount /mnt/data",
 * "swapoff /dev/nvme0n1p3", "ip route del default dev eth0", "vgchange -an vg0". NULL when
 * there is none. Owned by the list.
 */
const char *passthru_guard_list_get_hint(const struct passthru_guard_list *list, size_t index);
/*
 * A kind's stable short name, for machine-readable output: "mount", "swap", "holder", "route",
 * "address", "upper", "console", "vfs-in-use", "unreadable". NULL for a value that is no kind.
 * Static.
 */
const char *passthru_guard_kind_to_string(enum passthru_guard_kind kind);
/*
 * Notes on what the checks see (no functions here):
 * - Storage: block devices below the function in sysfs (NVMe namespaces, also those an NVMe
 *   subsystem shows under /sys/devices/virtual/nvme-subsystem when this function is one of
 *   the subsystem's controllers; SCSI/ATA disks), their partitions, and what is stacked on
 *   them (holders: device-mapper, LVM, MD), recursively. A mount is matched by device number
 *   and by source name (btrfs shows an anonymous device number); every device of a mounted
 *   multi-device btrfs counts. Swap is matched by the name in /proc/swaps; a swap file
 *   counts for the filesystem it lives on. Not seen: ZFS pools and other exclusive openers
 *   that register no holder in sysfs.
 * - Network interfaces moved into another network namespace are not in the host's
 *   /sys/class/net and are not seen; routes are those of the main table.
 * - Network: the function's interfaces and, recursively, the bond, bridge, team or VLAN
 *   devices above them. IPv6 link-local addresses are not counted: the kernel gives every
 *   interface that is up one of its own. IPv4 addresses come over rtnetlink when the context's
 *   root is "/"; below any other root they are read from /proc/net/if_inet4, a file the
 *   kernel does not have: fixture roots provide it in the format of /proc/net/if_inet6, with
 *   an 8-digit address in network byte order ("0a00020f 02 18 00 80 eth0").
 * - Every check reads the host afresh: nothing is cached between calls, so a guard reflects
 *   the host at the time of the call.
 */

/* ------------------------------------------------------------------------------------------ */
/* Takeover: binding devices to vfio-pci and giving them back                                 */
/* ------------------------------------------------------------------------------------------ */
/*
 * A takeover is a plan and its transaction. Make one for an operation, add the devices the
 * user named, plan it (IOMMU groups, guards, processes holding the devices), look at the plan,
 * execute it:
 *
 *     passthru_takeover_new(ctx, PASSTHRU_TAKEOVER_BIND, PASSTHRU_TAKEOVER_GROUP, &t);
 *     passthru_takeover_add_device(t, "0000:01:00.0");
 *     if (passthru_takeover_plan(t) == -EPERM) ... passthru_takeover_get_refusal_*()
 *     if (passthru_takeover_execute(t) < 0) ... passthru_takeover_get_error()
 *
 * Binding writes vfio-pci to driver_override, unbinds the current driver and asks the kernel
 * to probe (never new_id, which claims every device with the same ids). Before the first
 * device is touched, the original driver and driver_override of every device the
 * transaction touches are recorded and fsync'd under /run/passthru; a failure rolls every
 * touched device back, and a transaction cut short (the process killed, the machine losing
 * power before /run is gone) is finished or rolled back by the next execution of any takeover
 * or by PASSTHRU_TAKEOVER_REPAIR: every device ends either where the transaction wanted it or
 * on the driver it started with. Writes that can block in the kernel (unbind, probe, reset)
 * are made by a helper process and abandoned after the timeout, never waited for forever.
 *
 * Test builds only: PASSTHRU_FAULT="PHASE:STEP:N[:fail]" kills the process (or, with ":fail",
 * fails the step) when the transaction reaches STEP for its N-th device (from 1). PHASE is
 * bind, unbind, rollback or repair; STEP is after-journal, after-override, after-unbind,
 * after-probe or before-commit. An SR-IOV change's writes have PHASE write and STEP
 * after-journal (N 1) or after-write (its N-th write). The shipped library never reads it (see
 * lib/fault.h).
 */

struct passthru_takeover;

enum passthru_takeover_op {
	PASSTHRU_TAKEOVER_BIND,   /* to vfio-pci */
	PASSTHRU_TAKEOVER_UNBIND, /* from vfio-pci back to a host driver */
	PASSTHRU_TAKEOVER_RESET,  /* a function reset through sysfs */
	PASSTHRU_TAKEOVER_REPAIR, /* finish or roll back an interrupted transaction; no devices */
};

/* Flags of passthru_takeover_new(). */
#define PASSTHRU_TAKEOVER_GROUP (1u << 0) /* also the other endpoints of each IOMMU group */
#define PASSTHRU_TAKEOVER_FORCE (1u << 1) /* go ahead despite guards or a VM holding it (logged) */

enum passthru_takeover_action {
	PASSTHRU_ACTION_NONE,        /* nothing to do (already there, or left alone: see notes) */
	PASSTHRU_ACTION_BIND,        /* moves to vfio-pci */
	PASSTHRU_ACTION_UNBIND,      /* leaves vfio-pci for a host driver */
	PASSTHRU_ACTION_KEEP_BRIDGE, /* a bridge in the group: keeps its driver, as VFIO allows */
	PASSTHRU_ACTION_RESET,       /* gets reset */
};

enum passthru_refusal_kind {
	PASSTHRU_REFUSAL_NO_IOMMU,  /* the device is in no IOMMU group: the host has none at all */
	PASSTHRU_REFUSAL_BRIDGE,    /* a bridge: vfio-pci does not drive bridges */
	PASSTHRU_REFUSAL_GROUP,	    /* other endpoints of its IOMMU group stay on host drivers */
	PASSTHRU_REFUSAL_GUARD,	    /* the host uses it (passthru_guard_list_check_pci()) */
	PASSTHRU_REFUSAL_IN_USE,    /* a process (a VM) holds the group's VFIO files open */
	PASSTHRU_REFUSAL_VFS_BOUND, /* a PF whose VFs are on vfio-pci: they would go with it */
	PASSTHRU_REFUSAL_NO_RESET,  /* no reset attribute, or not the requested method */
	PASSTHRU_REFUSAL_NO_GROUP,  /* the IOMMU is on, but the device is in none of its groups */
	/* SR-IOV's (passthru_sriov): */
	PASSTHRU_REFUSAL_DRIVER,    /* a VF to be removed is on a driver not its default */
	PASSTHRU_REFUSAL_NO_DRIVER, /* the PF has no driver: the kernel makes VFs through it */
};

/*
 * The report of a plan and its execution: one type for the takeover
 * (passthru_takeover_get_report()) and SR-IOV (passthru_sriov_get_report()), in one vocabulary:
 *   refusal  what keeps the plan from being executed (planning returned -EPERM): a kind, the
 *            device it is about, and a reason;
 *   note     a remark that refuses nothing ("already on vfio-pci", "forced past a guard: ..."),
 *            with the device it is about;
 *   error    after a failed execution: one line naming the device and the cause, and detail
 *            lines (the device's state, the kernel's last messages, what the rollback did).
 * Owned by its object, valid until the object plans or executes again. For an index beyond the
 * count the getters return NULL, and -EINVAL (as the enum type) for the kind.
 */
struct passthru_plan_report;

size_t passthru_plan_report_get_refusal_count(const struct passthru_plan_report *r);
enum passthru_refusal_kind
passthru_plan_report_get_refusal_kind(const struct passthru_plan_report *r, size_t index);
const char *passthru_plan_report_get_refusal_address(const struct passthru_plan_report *r,
						     size_t index);
const char *passthru_plan_report_get_refusal_reason(const struct passthru_plan_report *r,
						    size_t index);
size_t passthru_plan_report_get_note_count(const struct passthru_plan_report *r);
const char *passthru_plan_report_get_note_address(const struct passthru_plan_report *r,
						  size_t index);
const char *passthru_plan_report_get_note(const struct passthru_plan_report *r, size_t index);
/* NULL when the last execution succeeded (or none ran). */
const char *passthru_plan_report_get_error(const struct passthru_plan_report *r);
const char *const *passthru_plan_report_get_error_details(const struct passthru_plan_report *r);

enum passthru_repair_outcome {
	PASSTHRU_REPAIR_NOTHING,     /* no interrupted transaction */
	PASSTHRU_REPAIR_COMPLETED,   /* every device had reached its target: recorded as done */
	PASSTHRU_REPAIR_ROLLED_BACK, /* every device is back on its original driver */
};

int passthru_takeover_new(struct passthru_ctx *ctx, enum passthru_takeover_op op, unsigned flags,
			  struct passthru_takeover **ret);
struct passthru_takeover *passthru_takeover_ref(struct passthru_takeover *t);
struct passthru_takeover *passthru_takeover_unref(struct passthru_takeover *t);

/* Adds a device the user named. -EINVAL for a malformed address, -ENODEV when absent. */
int passthru_takeover_add_device(struct passthru_takeover *t, const char *address);
/*
 * The limit for each write that can block (unbind, probe, reset); 10000 ms by default. Also the
 * limit of the wait for another passthru's lock at execution, 30000 ms when none was set.
 */
void passthru_takeover_set_timeout(struct passthru_takeover *t, unsigned msec);
/*
 * Called once per execution when another process holds the lock that serialises changes,
 * before waiting for it: holder is "pid 812 (passthru bind 0000:42:00.0)", NULL when the
 * kernel does not say (owned by the library, valid during the call).
 */
typedef void (*passthru_takeover_wait_fn)(void *userdata, const char *holder);
void passthru_takeover_set_wait_fn(struct passthru_takeover *t, passthru_takeover_wait_fn fn,
				   void *userdata);
/* For PASSTHRU_TAKEOVER_RESET: the reset_method to use ("flr", "bus", ...). */
int passthru_takeover_set_reset_method(struct passthru_takeover *t, const char *method);

/*
 * Reads the devices, their groups and drivers, and decides what happens to each. Returns 0 when
 * the plan can be executed, -EPERM when something refuses it (see the refusals), another
 * negative errno when the host cannot be read. May be called again; execution plans again
 * when the host changed in between.
 */
int passthru_takeover_plan(struct passthru_takeover *t);

/* The devices of the plan, sorted by address: those named, and their group when it matters. */
size_t passthru_takeover_get_count(const struct passthru_takeover *t);
const char *passthru_takeover_get_address(const struct passthru_takeover *t, size_t index);
/* True for devices the user named, false for those the plan added (group members). */
bool passthru_takeover_is_requested(const struct passthru_takeover *t, size_t index);
/* -ENOENT when the device is in no IOMMU group. */
int passthru_takeover_get_iommu_group(const struct passthru_takeover *t, size_t index, int *ret);
/* The driver at planning time; NULL for none. */
const char *passthru_takeover_get_driver(const struct passthru_takeover *t, size_t index);
/*
 * The driver the device is to end on: "vfio-pci" for a bind; for an unbind the original
 * driver, NULL when unknown (the kernel's best match will do). For a repair, the driver the
 * interrupted transaction wanted.
 */
const char *passthru_takeover_get_target(const struct passthru_takeover *t, size_t index);
/*
 * The host driver the device had before passthru took it, when known: the current driver for
 * a bind, the recorded one for devices already on vfio-pci and for unbinds. NULL when unknown.
 */
const char *passthru_takeover_get_original(const struct passthru_takeover *t, size_t index);
enum passthru_takeover_action passthru_takeover_get_action(const struct passthru_takeover *t,
							   size_t index);
/* What the guards found on a device to be bound; NULL for other actions. Borrowed. */
struct passthru_guard_list *passthru_takeover_get_guards(const struct passthru_takeover *t,
							 size_t index);
/*
 * Remarks on the device, one line each: "already on vfio-pci", "no function-level reset
 * (reset methods: pm bus)", "forced past a guard: ...", "ixgbe took it, not the original ...".
 */
const char *const *passthru_takeover_get_notes(const struct passthru_takeover *t, size_t index);
/* After execution: the driver the device ended on; NULL for none. */
const char *passthru_takeover_get_result(const struct passthru_takeover *t, size_t index);

/* Why the plan is refused: one entry per device and reason. */
size_t passthru_takeover_get_refusal_count(const struct passthru_takeover *t);
enum passthru_refusal_kind passthru_takeover_get_refusal_kind(const struct passthru_takeover *t,
							      size_t index);
const char *passthru_takeover_get_refusal_address(const struct passthru_takeover *t,
						  size_t index);
/*
 * "IOMMU group 3 also holds 0000:01:00.1 (snd_hda_intel)", "/dev/vfio/2 is open by pid 812
 * (qemu-system-x86)", the guard's reason, ...
 */
const char *passthru_takeover_get_refusal_reason(const struct passthru_takeover *t,
						 size_t index);
/* The refusals, notes and error as one report (see struct passthru_plan_report). Owned by t. */
const struct passthru_plan_report *passthru_takeover_get_report(const struct passthru_takeover *t);

/*
 * Runs the plan (planning first when needed) under /run/passthru/lock, after repairing any
 * interrupted transaction. Returns 0 when every device is where the plan wanted it, -EPERM when
 * refused, -EBUSY when another passthru holds the lock, another negative errno when a step
 * failed (every touched device was then rolled back, unless the details say otherwise).
 */
int passthru_takeover_execute(struct passthru_takeover *t);
/* After a failed execution: one line naming the device and the cause; NULL after success. */
const char *passthru_takeover_get_error(const struct passthru_takeover *t);
/*
 * More lines about the failure: the device's state, the kernel's last messages about it, what
 * the rollback did.
 */
const char *const *passthru_takeover_get_error_details(const struct passthru_takeover *t);
/*
 * What execution found and did about an interrupted transaction (every op repairs first).
 * The devices of a PASSTHRU_TAKEOVER_REPAIR are those of the interrupted transaction.
 */
enum passthru_repair_outcome passthru_takeover_get_repair_outcome(const struct passthru_takeover *t);

/* ------------------------------------------------------------------------------------------ */
/* Persisted bindings: /etc/passthru/bindings.conf                                           */
/* ------------------------------------------------------------------------------------------ */
/*
 * The devices to bind to vfio-pci at boot (`passthru apply`), one a line:
 *     ADDRESS VENDOR:DEVICE SUBVENDOR:SUBDEVICE [host=DRIVER] [force]
 * keyed by address and identity: when the address later holds another device, the wish does
 * not apply to it. Saving rewrites the file atomically (comments are not kept).
 */

struct passthru_persist;

/* Reads the store; a missing file is an empty store. -EBADMSG for a malformed file (logged). */
int passthru_persist_load(struct passthru_ctx *ctx, struct passthru_persist **ret);
struct passthru_persist *passthru_persist_ref(struct passthru_persist *p);
struct passthru_persist *passthru_persist_unref(struct passthru_persist *p);
size_t passthru_persist_get_count(const struct passthru_persist *p);
/* "0000:01:00.0". */
const char *passthru_persist_get_address(const struct passthru_persist *p, size_t index);
/* "10de:1b80:1458:3702": vendor, device, subsystem vendor, subsystem device. */
const char *passthru_persist_get_identity(const struct passthru_persist *p, size_t index);
/* The driver the device had before it was bound; NULL when unknown. */
const char *passthru_persist_get_host_driver(const struct passthru_persist *p, size_t index);
/* True when the wish was made past a guard (--force). */
bool passthru_persist_get_force(const struct passthru_persist *p, size_t index);
/* The index of an address's entry; -ENOENT when none, -EINVAL for a malformed address. */
int passthru_persist_find(const struct passthru_persist *p, const char *address);
/*
 * Compares an entry with the host: 0 when its device is at its address, -ENODEV when nothing
 * is there, -ESTALE when another device is (passthru_pci_device_new() tells which).
 */
int passthru_persist_check(struct passthru_persist *p, size_t index);
/* Adds or replaces the entry of dev's address (in memory; see passthru_persist_save()). */
int passthru_persist_add(struct passthru_persist *p, struct passthru_pci_device *dev,
			 const char *host_driver, bool force);
/* Removes an address's entry; -ENOENT when none. */
int passthru_persist_remove(struct passthru_persist *p, const char *address);
int passthru_persist_save(struct passthru_persist *p);
/*
 * Makes /etc/modprobe.d/passthru-vfio.conf match the store: for persisted GPUs (and the other
 * persisted functions of their IOMMU groups) "softdep MODULE pre: vfio-pci" for each module
 * that can drive them and "options vfio-pci ids=VENDOR:DEVICE,...", leaving out ids that a
 * device the host keeps also has. Removes the file when there is nothing to claim. Returns 1
 * when the file changed, 0 when it was already right.
 */
int passthru_persist_write_modprobe(struct passthru_persist *p);

/* ------------------------------------------------------------------------------------------ */
/* Host readiness                                                                             */
/* ------------------------------------------------------------------------------------------ */
/*
 * What the product chapter asks of a host before any device can be passed through (IOMMU in the
 * firmware and the kernel, kernel parameters, vfio modules, huge pages) and what each candidate
 * device needs (a viable IOMMU group, ACS, a reset, no host driver fighting vfio-pci).
 * passthru_check_*() only reads; passthru_setup_*() works out and applies the changes.
 */

enum passthru_check_status {
	PASSTHRU_CHECK_OK,
	PASSTHRU_CHECK_WARN,
	PASSTHRU_CHECK_FAIL,
};

/* "ok", "warn", "fail"; NULL for anything else. */
const char *passthru_check_status_to_string(enum passthru_check_status status);

struct passthru_check_report;

/*
 * Runs every readiness check (passthru-check(1) lists them). devices holds PCI addresses in any
 * form passthru_pci_address_parse() accepts; NULL or empty means every passthrough candidate:
 * functions bound to vfio-pci and display controllers other than the boot VGA. Returns -EINVAL
 * for a malformed address and -ENODEV for a device the host does not have. Host state that cannot
 * be read makes a check warn or fail; it never fails the call.
 */
int passthru_check_report_new(struct passthru_ctx *ctx, const char *const *devices,
			      struct passthru_check_report **ret);
/* The old name of passthru_check_report_new(). */
int passthru_check_run(struct passthru_ctx *ctx, const char *const *devices,
		       struct passthru_check_report **ret);
struct passthru_check_report *passthru_check_report_ref(struct passthru_check_report *report);
struct passthru_check_report *passthru_check_report_unref(struct passthru_check_report *report);
size_t passthru_check_report_count(const struct passthru_check_report *report);
/* The worst status of all checks. */
enum passthru_check_status
passthru_check_report_get_overall(const struct passthru_check_report *report);
/* A stable identifier ("cpu-vendor", "kernel-cmdline", "device-group"). Owned by the report. */
const char *passthru_check_report_get_id(const struct passthru_check_report *report, size_t index);
/* A short human title ("Kernel command line"). Owned by the report. */
const char *passthru_check_report_get_title(const struct passthru_check_report *report,
					    size_t index);
/* The PCI address a device check is about; NULL for host checks. Owned by the report. */
const char *passthru_check_report_get_device(const struct passthru_check_report *report,
					     size_t index);
/* Out of range -EINVAL (it was PASSTHRU_CHECK_FAIL before 0.2). */
enum passthru_check_status
passthru_check_report_get_status(const struct passthru_check_report *report, size_t index);
/* What was seen, one line. Owned by the report. */
const char *passthru_check_report_get_seen(const struct passthru_check_report *report,
					   size_t index);
/*
 * For a failure or a warning, the exact command or setting that fixes it ("enable VT-d in the
 * firmware setup", "passthru setup --apply, then reboot"); NULL when there is none. Owned by the
 * report.
 */
const char *passthru_check_report_get_fix(const struct passthru_check_report *report,
					  size_t index);
/* Further evidence, one line each (kernel log lines, group members). Owned by the report. */
const char *const *passthru_check_report_get_details(const struct passthru_check_report *report,
						     size_t index);

struct passthru_setup;

/*
 * A host preparation (passthru-setup(1)): the vendor's IOMMU parameters in GRUB_CMDLINE_LINUX,
 * the vfio modules for boot, and optionally huge pages and driver blacklists. Nothing is read
 * before passthru_setup_plan() and nothing is written before passthru_setup_apply().
 */
int passthru_setup_new(struct passthru_ctx *ctx, struct passthru_setup **ret);
struct passthru_setup *passthru_setup_ref(struct passthru_setup *setup);
struct passthru_setup *passthru_setup_unref(struct passthru_setup *setup);
/*
 * Also reserves count huge pages of size ("1G", "2M", "1048576K") at boot, as the default size.
 * -EINVAL for a malformed size or a zero count.
 */
int passthru_setup_set_hugepages(struct passthru_setup *setup, const char *size,
				 unsigned long count);
/*
 * Also keeps a host driver ("nouveau") off the devices: a modprobe.d blacklist,
 * rd.driver.blacklist=DRIVER, and DRIVER.modeset=0 for display drivers. -EINVAL for a name that
 * is not a module name; -EPERM (with passthru_setup_get_error()) for vfio or one of its modules
 * (vfio-pci, vfio_iommu_type1...), which passthrough itself needs. The driver of the boot
 * display is refused by passthru_setup_plan() unless forced.
 */
int passthru_setup_add_blacklist(struct passthru_setup *setup, const char *driver);
/* Blacklists the driver of the boot display all the same (passthru setup --force). */
int passthru_setup_set_force(struct passthru_setup *setup, bool force);
/*
 * Works out every change the host needs. Nothing is written. Returns 0, or a negative errno with
 * passthru_setup_get_error() naming the file (and line) that stopped it: -EBADMSG for a file that
 * cannot be edited safely, -ENOENT for a missing /etc/default/grub, -EOPNOTSUPP when the huge
 * page size or the boot loader layout is not supported, -ENXIO when neither the firmware nor the
 * CPU tells which IOMMU parameters apply, -ERANGE for huge pages that exceed the memory, -EPERM
 * when a blacklisted driver drives the boot display and the setup is not forced.
 */
int passthru_setup_plan(struct passthru_setup *setup);
/*
 * Applies the plan: each changed file is first copied to FILE.passthru-YYYYmmdd-HHMMSS beside it,
 * then replaced atomically; then the commands run (chrooted into the sysroot when it is not "/").
 * Returns 0, or a negative errno with passthru_setup_get_error(); files already replaced stay
 * replaced (their backups say what they were).
 */
int passthru_setup_apply(struct passthru_setup *setup);
/* Why plan or apply failed, one line naming the file or command. NULL after success. */
const char *passthru_setup_get_error(const struct passthru_setup *setup);

size_t passthru_setup_get_change_count(const struct passthru_setup *setup);
/* The host path of a changed file. Owned by the setup. */
const char *passthru_setup_get_change_path(const struct passthru_setup *setup, size_t index);
/* The change as a unified diff ("--- a/etc/default/grub", "+++ b/etc/default/grub"). */
const char *passthru_setup_get_change_diff(const struct passthru_setup *setup, size_t index);
/* The file's new content. */
const char *passthru_setup_get_change_content(const struct passthru_setup *setup, size_t index);
/* After apply, the backup's host path; NULL for a file that did not exist or was not written. */
const char *passthru_setup_get_change_backup(const struct passthru_setup *setup, size_t index);

size_t passthru_setup_get_command_count(const struct passthru_setup *setup);
/* The argv of a command to run ("grub2-mkconfig", "-o", "/boot/grub2/grub.cfg"). */
const char *const *passthru_setup_get_command_argv(const struct passthru_setup *setup,
						   size_t index);
/* After apply: what the command printed (stdout and stderr); NULL when it did not run. */
const char *passthru_setup_get_command_output(const struct passthru_setup *setup, size_t index);
/* After apply: its exit status; -ENODATA when it did not run. */
int passthru_setup_get_command_status(const struct passthru_setup *setup, size_t index, int *ret);

/* Whether the host must reboot for the configuration to take effect, and why. */
bool passthru_setup_get_reboot_needed(const struct passthru_setup *setup);
const char *const *passthru_setup_get_reboot_reasons(const struct passthru_setup *setup);
/* Remarks worth reading (the isolation cost of allow_unsafe_interrupts, a kept file). */
const char *const *passthru_setup_get_notes(const struct passthru_setup *setup);

/* ------------------------------------------------------------------------------------------ */
/* Virtual machines: QEMU arguments, QMP hot-plug, libvirt XML                                */
/* ------------------------------------------------------------------------------------------ */
/*
 * A passthru_vm_devices is the set of host devices to give one VM and what they become in it:
 *
 *     passthru_vm_devices_new(ctx, &vd);
 *     passthru_vm_devices_add(vd, "0000:01:00.0");    (PCI address, USB port path or tty)
 *     if (passthru_vm_devices_plan(vd) == -EPERM) ... passthru_vm_devices_get_refusal_*()
 *     argv = passthru_vm_devices_get_qemu_argv(vd);   or _attach(), _get_libvirt_xml()
 *
 * - A PCI function brings every endpoint of its IOMMU group (bridges stay on the host): they
 *   become the functions of one guest slot, in address order, keeping their host function
 *   numbers when they all sit in one host slot with its function 0, else numbered from 0.
 *   Every endpoint of the group must be on vfio-pci (`passthru bind ADDRESS --group`).
 * - A USB device becomes a usb-host device, by bus and port path (stable while it stays in the
 *   same port) or by vendor and product id. Hubs cannot be passed.
 * - A serial port becomes a "serial" chardev on its tty and an isa-serial or pci-serial device
 *   on it. Host consoles are refused (passthru_guard_list_check_serial()).
 * Device ids are made from the host device ("pt-0000-01-00.0", "pt-usb-1-2", "pt-ttyS1"), so
 * that devices given by the command line or by attach can be detached by name.
 */

struct passthru_vm_devices;

enum passthru_vm_device_kind {
	PASSTHRU_VM_DEVICE_PCI,
	PASSTHRU_VM_DEVICE_USB,
	PASSTHRU_VM_DEVICE_SERIAL,
};

enum passthru_vm_machine {
	PASSTHRU_VM_MACHINE_Q35, /* PCI Express; each guest slot on a pcie-root-port of its own */
	PASSTHRU_VM_MACHINE_PC,  /* i440FX; conventional PCI slots on pci.0 */
};

enum passthru_vm_serial_model {
	PASSTHRU_VM_SERIAL_ISA, /* isa-serial: a COM port; cannot be hot-plugged */
	PASSTHRU_VM_SERIAL_PCI, /* pci-serial */
};

/*
 * What kind of device a name is, from its syntax: a PCI address (passthru_pci_address_parse()),
 * a USB port path ("1-2.3", "usb1"), else a tty ("/dev/ttyS1", "ttyS1"). -EINVAL for none.
 */
int passthru_vm_device_kind_of(const char *name, enum passthru_vm_device_kind *ret);

int passthru_vm_devices_new(struct passthru_ctx *ctx, struct passthru_vm_devices **ret);
struct passthru_vm_devices *passthru_vm_devices_ref(struct passthru_vm_devices *vd);
struct passthru_vm_devices *passthru_vm_devices_unref(struct passthru_vm_devices *vd);

/*
 * Adds a host device the user named. -EINVAL when the name is no device name, -ENODEV when the
 * host has no such device (or the tty is a phantom port). A name given twice counts once.
 */
int passthru_vm_devices_add(struct passthru_vm_devices *vd, const char *name);

/* Settings; each undoes a plan made before it. */
/* "q35" (the default) or "pc", or a versioned machine type ("pc-q35-7.2", "pc-i440fx-7.2"). */
int passthru_vm_devices_set_machine(struct passthru_vm_devices *vd, const char *machine);
/*
 * With vga, a display controller becomes the VM's display (x-vga=on: the legacy VGA ranges go
 * to it): the one at address, or with address NULL the only VGA controller among the devices.
 */
int passthru_vm_devices_set_vga(struct passthru_vm_devices *vd, bool vga, const char *address);
/* A ROM image for a PCI function (romfile=): address NULL means the first PCI device named. */
int passthru_vm_devices_set_romfile(struct passthru_vm_devices *vd, const char *address,
				    const char *file);
/*
 * USB devices by vendorid/productid instead of hostbus/hostport (QEMU), by vendor/product
 * instead of bus/device number (libvirt).
 */
void passthru_vm_devices_set_usb_by_id(struct passthru_vm_devices *vd, bool by_id);
/*
 * An existing USB bus of the VM ("xhci.0") for usb-host devices; then no controller is added.
 * NULL (the default): the command line adds "-device qemu-xhci,id=pt-xhci" and hot-plug lets
 * QEMU choose. -EINVAL for a name QEMU would not accept.
 */
int passthru_vm_devices_set_usb_bus(struct passthru_vm_devices *vd, const char *bus);
void passthru_vm_devices_set_serial_model(struct passthru_vm_devices *vd,
					  enum passthru_vm_serial_model model);

/*
 * Reads the named devices and their groups and decides the guest devices. Returns 0 when all
 * are ready, -EPERM when something is refused (see the refusals), another negative errno when
 * the host cannot be read.
 */
int passthru_vm_devices_plan(struct passthru_vm_devices *vd);
size_t passthru_vm_devices_get_refusal_count(const struct passthru_vm_devices *vd);
/* The device (or the option, "--vga") a refusal is about. Owned by vd. */
const char *passthru_vm_devices_get_refusal_device(const struct passthru_vm_devices *vd,
						   size_t index);
/* "is on e1000e, not vfio-pci", "IOMMU group 8 is not viable: 0000:01:00.1 is on ...". */
const char *passthru_vm_devices_get_refusal_reason(const struct passthru_vm_devices *vd,
						   size_t index);
/* The command that fixes it ("passthru bind 0000:01:00.0 --group"); NULL when none. */
const char *passthru_vm_devices_get_refusal_fix(const struct passthru_vm_devices *vd, size_t index);
/* Remarks on the plan, one line each (two USB devices with the same ids, ...). */
const char *const *passthru_vm_devices_get_notes(const struct passthru_vm_devices *vd);

/*
 * The guest devices of the plan: PCI functions by guest slot, then USB, then serial ports
 * (not the root ports and controllers made for them). Empty before a successful plan.
 */
size_t passthru_vm_devices_count(const struct passthru_vm_devices *vd);
/* The old name of passthru_vm_devices_count(). */
size_t passthru_vm_devices_get_count(const struct passthru_vm_devices *vd);
enum passthru_vm_device_kind passthru_vm_devices_get_kind(const struct passthru_vm_devices *vd,
							  size_t index);
/* The host device: "0000:01:00.1", "1-2", "/dev/ttyS1". Owned by vd. */
const char *passthru_vm_devices_get_host(const struct passthru_vm_devices *vd, size_t index);
/* QEMU's id of it. Owned by vd. */
const char *passthru_vm_devices_get_id(const struct passthru_vm_devices *vd, size_t index);
/* True when named, false for another endpoint of a named device's IOMMU group. */
bool passthru_vm_devices_is_requested(const struct passthru_vm_devices *vd, size_t index);
/*
 * Where the device goes: the bus and the "slot.function" (hexadecimal) on it, after a plan
 * (command line) or an attach. NULL when QEMU chooses. Owned by vd.
 */
const char *passthru_vm_devices_get_bus(const struct passthru_vm_devices *vd, size_t index);
const char *passthru_vm_devices_get_addr(const struct passthru_vm_devices *vd, size_t index);
/* True once attach put the device into the VM (also when a later device failed). */
bool passthru_vm_devices_is_attached(const struct passthru_vm_devices *vd, size_t index);

/*
 * QEMU's options for the plan, as argv words: "-device", "pcie-root-port,id=...", "-device",
 * "vfio-pci,host=0000:01:00.0,id=pt-0000-01-00.0,...", "-chardev", "serial,...". Option values
 * are escaped as QemuOpts requires (a comma doubled); the words are not quoted for any shell.
 * On q35 each guest slot gets "-device pcie-root-port,id=pt-rp-DDDD-BB-DD,bus=pcie.0,
 * chassis=C,slot=S" (C = 112 + the low 7 bits of the PCI domain, S = host bus * 32 + host
 * device of the slot's first function: unique for different host slots, so the options of
 * several runs can be combined). On pc, multi-function slots get addresses 0x10, 0x11... on
 * pci.0 and come first. Empty before a successful plan.
 */
const char *const *passthru_vm_devices_get_qemu_argv(const struct passthru_vm_devices *vd);

/*
 * libvirt <hostdev> and <serial> elements for the plan, one after another, each valid inside a
 * domain's <devices> (and each alone a valid `virsh attach-device` document): PCI functions
 * with managed='no' (passthru does the binding), USB by vendor/product (or bus/device number
 * without usb_by_id), serial ports as <serial type='dev'> with target ports from 1 (0 is left
 * for the guest's own console). -EPERM before a successful plan, -EINVAL for a relative ROM
 * file (libvirt wants an absolute path), -ENODATA when a USB device's ids (usb_by_id) or its
 * device number (by address) cannot be read, passthru_vm_devices_get_error() then naming it.
 * The caller frees *ret.
 */
int passthru_vm_devices_get_libvirt_xml(struct passthru_vm_devices *vd, char **ret);

/*
 * A client of QEMU's QMP monitor (a "-qmp unix:PATH,server=on,wait=off" socket). Every read,
 * write and connect is bounded by the timeout: a VM that does not answer gives -ETIMEDOUT,
 * never a hang. A late answer to a command that timed out is recognised by its id and dropped;
 * after a protocol error or a write cut short the connection is unusable (-ENOTCONN).
 */
struct passthru_qmp;

/*
 * Connects, reads QEMU's greeting and negotiates capabilities. path is a host path (below the
 * context's root) when absolute, else relative to the working directory; a path too long for
 * a socket address is reached through an O_PATH descriptor. timeout_ms applies to each step
 * (0: 10 s). -ENOENT no such socket, -ECONNREFUSED nothing listening, -ETIMEDOUT no greeting
 * (QEMU serves one QMP client per socket at a time), -EPROTO the peer does not speak QMP,
 * -EREMOTEIO QEMU answered the capabilities negotiation with an error.
 */
int passthru_qmp_connect(struct passthru_ctx *ctx, const char *path, unsigned timeout_ms,
			 struct passthru_qmp **ret);
/*
 * passthru_qmp_connect() that also says why it failed: on failure *ret_error (when not NULL)
 * gets one line, QEMU's own "desc" for -EREMOTEIO, else what went wrong on the way ("QEMU sent
 * something that is not a QMP message"), or NULL when the errno says all. Freed by the caller;
 * untouched on success.
 */
int passthru_qmp_connect_full(struct passthru_ctx *ctx, const char *path, unsigned timeout_ms,
			      struct passthru_qmp **ret, char **ret_error);
struct passthru_qmp *passthru_qmp_ref(struct passthru_qmp *qmp);
struct passthru_qmp *passthru_qmp_unref(struct passthru_qmp *qmp);
void passthru_qmp_set_timeout(struct passthru_qmp *qmp, unsigned timeout_ms);
/* QEMU's version from the greeting ("7.2.0"); NULL when it did not say. Owned by qmp. */
const char *passthru_qmp_get_qemu_version(const struct passthru_qmp *qmp);
/*
 * Runs one command. arguments is a JSON object as text, or NULL. On success *ret (when not
 * NULL) gets the "return" value as JSON text, freed by the caller. -EREMOTEIO when QEMU
 * answered with an error: passthru_qmp_get_error() is then its "desc", as QEMU wrote it.
 * -EINVAL for arguments that are not a JSON object. Events that arrive meanwhile are kept for
 * the waits of passthru_vm_devices_detach().
 */
int passthru_qmp_execute(struct passthru_qmp *qmp, const char *command, const char *arguments,
			 char **ret);
/* The last error: QEMU's "desc", or what went wrong locally. NULL when none. Owned by qmp. */
const char *passthru_qmp_get_error(const struct passthru_qmp *qmp);

/*
 * Hot-plugs the plan (planning first when needed) into a running VM: device_add with the
 * options of the command line; a multi-function slot's other functions first and function 0
 * (multifunction=on) last, so that the guest sees the slot complete. Placement: bus NULL
 * takes the first free pcie-root-port (any bridge with an id and nothing behind it, in
 * query-pci order), one per slot; on a pc machine (no PCIe root bus) the lowest free slots of
 * pci.0. A bus named by the caller is used for every slot: a free port gets the slot at 0,
 * pci.0/pcie.0 or another bridge its lowest free slot, an unknown bus name goes to QEMU as
 * is. Serial ports are hot-plugged as chardev-add + pci-serial. Stops at the first failure:
 * what was attached before stays, the functions of the failing slot are removed again.
 * Returns -EPERM when the plan is refused, -EREMOTEIO when QEMU refused a command, -ENOSPC
 * when the VM has no free place, -EOPNOTSUPP for isa-serial; passthru_vm_devices_get_error()
 * says which device and why.
 */
int passthru_vm_devices_attach(struct passthru_vm_devices *vd, struct passthru_qmp *qmp,
			       const char *bus);
/*
 * Unplugs the named devices (no plan needed), found by passthru's ids among the VM's devices
 * (qom-list): device_del for each; for a PCI function, device_del of its guest slot's function
 * 0 (the first endpoint of its IOMMU group), which takes the whole slot. Then waits until QEMU
 * reports DEVICE_DELETED for every device that goes (for PCI, the group's endpoints in the VM),
 * at most timeout_ms (0: 10 s) for all of them together; then removes the chardevs of serial
 * ports. A PCI unplug completes only when the guest OS acknowledges it: a paused VM or one
 * without a running OS gives -ETIMEDOUT. Each named device goes on its own: one that fails does
 * not keep the others in the VM, and passthru_vm_devices_get_detach_result() tells what
 * happened to each. Returns 0 when every device left, else the error of the first named one
 * that did not (passthru_vm_devices_get_error() says why): -ENODEV when it is not in the VM
 * (under passthru's id), -EREMOTEIO when QEMU refused or the guest reported an unplug error.
 */
int passthru_vm_devices_detach(struct passthru_vm_devices *vd, struct passthru_qmp *qmp,
			       unsigned timeout_ms);
/*
 * After passthru_vm_devices_detach(): what happened to the device added under name (any form
 * of it): 0 when it left the VM, else its negative errno as detach gives it, with *ret_reason
 * (when not NULL) one line naming the device and the cause, owned by vd. -ENODATA when detach
 * stopped before any device (it could not list the VM's devices), -ENOENT for a device that
 * was not added.
 */
int passthru_vm_devices_get_detach_result(const struct passthru_vm_devices *vd, const char *name,
					  const char **ret_reason);
/*
 * After a failed attach, detach or libvirt XML: one line naming the device and the cause. Owned
 * by vd.
 */
const char *passthru_vm_devices_get_error(const struct passthru_vm_devices *vd);

/* ------------------------------------------------------------------------------------------ */
/* SR-IOV: VF counts and VF link settings                                                     */
/* ------------------------------------------------------------------------------------------ */
/*
 * A PF's VFs are made and removed by writing their count to its sriov_numvfs. The kernel
 * refuses to change a count that is not 0 (EBUSY), so a change goes through 0: every current
 * VF is removed, not only those above the new count, and with it whatever used it. A change
 * is therefore a plan and its execution, like a takeover:
 *
 *     passthru_sriov_new(ctx, "0000:03:00.0", PASSTHRU_SRIOV_BIND_VFIO, &s);
 *     passthru_sriov_set_numvfs(s, 8);                  (-ERANGE: above sriov_totalvfs)
 *     if (passthru_sriov_plan(s) == -EPERM) ... passthru_sriov_get_refusal_*()
 *     if (passthru_sriov_execute(s) < 0) ... passthru_sriov_get_error()
 *
 * A VF to be removed is refused when a VM holds it (its /dev/vfio group or device file is
 * open; nothing overrides that), when it is on a driver other than vfio-pci and the one the
 * kernel gives it by itself (a module its modalias matches), and when the host uses it (a
 * guard, see passthru_guard_list_check_pci()); PASSTHRU_SRIOV_FORCE overrides the last two.
 * A write to sriov_numvfs returns once every VF is made (and probed) or gone, which can take
 * seconds; it is made by a helper process and abandoned after the timeout, like the
 * takeover's writes. The same lock as the takeover's serialises the change.
 */

struct passthru_sriov;

/* Flags of passthru_sriov_new(). */
#define PASSTHRU_SRIOV_FORCE (1u << 0) /* remove VFs on other drivers or used by the host */
/*
 * The new VFs go to vfio-pci (through a takeover, see passthru_sriov_get_takeover()):
 * sriov_drivers_autoprobe is set to 0 before they are made, so that no host driver takes them
 * first, and left at 0. With a count that does not change, the current VFs are bound.
 */
#define PASSTHRU_SRIOV_BIND_VFIO (1u << 1)

enum passthru_sriov_refusal_kind {
	PASSTHRU_SRIOV_REFUSAL_IN_USE,    /* a VM holds a VF to be removed (never forced) */
	PASSTHRU_SRIOV_REFUSAL_DRIVER,    /* a VF to be removed is on a driver not its default */
	PASSTHRU_SRIOV_REFUSAL_GUARD,     /* the host uses a VF to be removed */
	PASSTHRU_SRIOV_REFUSAL_NO_DRIVER, /* the PF has no driver: the kernel makes VFs through it */
};

/*
 * Reads the PF at address. -EINVAL for a malformed address, -ENODEV when absent, -EOPNOTSUPP
 * for a function that is not an SR-IOV PF (no sriov_totalvfs, or a VF).
 */
int passthru_sriov_new(struct passthru_ctx *ctx, const char *pf, unsigned flags,
		       struct passthru_sriov **ret);
struct passthru_sriov *passthru_sriov_ref(struct passthru_sriov *s);
struct passthru_sriov *passthru_sriov_unref(struct passthru_sriov *s);

/* "0000:03:00.0". */
const char *passthru_sriov_get_pf(const struct passthru_sriov *s);
int passthru_sriov_get_totalvfs(const struct passthru_sriov *s, unsigned *ret);
/* The current count (as last read: by passthru_sriov_new(), plan or execute). */
int passthru_sriov_get_numvfs(const struct passthru_sriov *s, unsigned *ret);
/* sriov_drivers_autoprobe as last read: 1 or 0; -ENODATA when unreadable. */
int passthru_sriov_get_autoprobe(const struct passthru_sriov *s, bool *ret);

/* The count to end with; -ERANGE above sriov_totalvfs. Without it the count stays. */
int passthru_sriov_set_numvfs(struct passthru_sriov *s, unsigned numvfs);
/* sriov_drivers_autoprobe to set before VFs are made: 1, 0, or -1 to leave it (default). */
int passthru_sriov_set_autoprobe(struct passthru_sriov *s, int autoprobe);
/*
 * The limit for each write to sriov_numvfs and for the binding; 60000 ms by default. Also the
 * limit of the wait for another passthru's lock at execution, 30000 ms when none was set.
 */
void passthru_sriov_set_timeout(struct passthru_sriov *s, unsigned msec);
/*
 * Called when another process holds the lock that serialises changes, before waiting for it,
 * as passthru_takeover_set_wait_fn() says: once when execution takes it, and once more when
 * the binding of the new VFs (a takeover) has to wait for it again.
 */
void passthru_sriov_set_wait_fn(struct passthru_sriov *s, passthru_takeover_wait_fn fn,
				void *userdata);
/*
 * Called during execution while the kernel makes or removes VFs: when the number of VFs the
 * PF has changes (looked at every 100 ms) and when each write to sriov_numvfs returns, at
 * least once per write. current is the number of VFs at that moment, target the count being
 * written (0 while going through 0).
 */
typedef void (*passthru_sriov_progress_fn)(void *userdata, unsigned current, unsigned target);
void passthru_sriov_set_progress_fn(struct passthru_sriov *s, passthru_sriov_progress_fn fn,
				    void *userdata);

/*
 * Reads the PF and its VFs and decides what happens. Returns 0 when the plan can be executed,
 * -EPERM when something refuses it, -EINVAL for PASSTHRU_SRIOV_BIND_VFIO with autoprobe 1,
 * another negative errno when the host cannot be read.
 */
int passthru_sriov_plan(struct passthru_sriov *s);
/* The count the plan ends with. */
int passthru_sriov_get_target(const struct passthru_sriov *s, unsigned *ret);
/* The VFs the plan removes (every current one when the count changes), by VF index. */
const char *const *passthru_sriov_get_removed(const struct passthru_sriov *s);
/*
 * What execution does, one line a step: "write 0 to
 * /sys/bus/pci/devices/0000:03:00.0/sriov_numvfs (removes 4 VFs)", "bind the new VFs to
 * vfio-pci". Empty when there is nothing to do.
 */
const char *const *passthru_sriov_get_steps(const struct passthru_sriov *s);
/* Remarks: forced refusals, "already has 4 VFs", ... */
const char *const *passthru_sriov_get_notes(const struct passthru_sriov *s);
size_t passthru_sriov_get_refusal_count(const struct passthru_sriov *s);
enum passthru_sriov_refusal_kind passthru_sriov_get_refusal_kind(const struct passthru_sriov *s,
								 size_t index);
/* The VF (or, for PASSTHRU_SRIOV_REFUSAL_NO_DRIVER, the PF) a refusal is about. */
const char *passthru_sriov_get_refusal_address(const struct passthru_sriov *s, size_t index);
/*
 * "/dev/vfio/12 is open by pid 812 (qemu-system-x86)", "it is on ixgbevf, not on its default
 * driver or vfio-pci", a guard's reason. For an index beyond the count the refusal getters
 * return NULL, and -EINVAL (as the enum type) for the kind.
 */
const char *passthru_sriov_get_refusal_reason(const struct passthru_sriov *s, size_t index);
/*
 * The refusals (kinds PASSTHRU_REFUSAL_IN_USE, _DRIVER, _GUARD and _NO_DRIVER), notes and error
 * as one report (see struct passthru_plan_report). Owned by s.
 */
const struct passthru_plan_report *passthru_sriov_get_report(const struct passthru_sriov *s);

/*
 * Runs the plan (planning first when not done or when the VF count changed since). Returns 0
 * when the PF has the target count, read back after the writes (and, with
 * PASSTHRU_SRIOV_BIND_VFIO, its VFs are on vfio-pci), -EPERM when refused, -EBUSY when another
 * passthru holds the lock, -ETIMEDOUT when a write did not return in time, -EIO when the writes
 * succeeded but the PF has another count (a driver may enable fewer VFs than asked: those it
 * made stay, not bound to vfio-pci), another negative errno from the kernel. A failure after
 * the VFs were removed leaves the PF with none; a failed binding leaves the new VFs made.
 */
int passthru_sriov_execute(struct passthru_sriov *s);
/* After a failed execution: one line naming the PF and the cause; NULL after success. */
const char *passthru_sriov_get_error(const struct passthru_sriov *s);
/* After execution: the VFs the PF has, by VF index. */
const char *const *passthru_sriov_get_vfs(const struct passthru_sriov *s);
/*
 * After execution with PASSTHRU_SRIOV_BIND_VFIO: the takeover that bound the VFs (its
 * results, refusals and errors); NULL when none ran. Owned by s.
 */
struct passthru_takeover *passthru_sriov_get_takeover(const struct passthru_sriov *s);

/*
 * Persists the plan's count, the autoprobe setting when one was given and
 * PASSTHRU_SRIOV_BIND_VFIO in /etc/passthru/vf.d/PF.conf, for passthru_sriov_apply_persisted().
 * The entry is keyed by address and identity (vendor, device, subsystem ids), like
 * bindings.conf. VF link settings persisted with passthru_vf_save() are kept.
 */
int passthru_sriov_save(struct passthru_sriov *s);

/* Flags of passthru_sriov_apply_persisted(). */
#define PASSTHRU_SRIOV_APPLY_DRY_RUN (1u << 0) /* plan and report; change nothing */

/*
 * Called by passthru_sriov_apply_persisted() once per thing done or refused: pf the PF's
 * address (the directory's path when /etc/passthru/vf.d cannot be read), error 0 or a negative
 * errno, message one line ("4 VFs made, on vfio-pci", "VF 0: mac 02:11:22:33:44:55 vlan 10",
 * "saved for 8086:1572 (subsystem 8086:0000), but the address now holds 8086:10fb (subsystem
 * 8086:000c): not applied").
 */
typedef void (*passthru_sriov_report_fn)(void *userdata, const char *pf, int error,
					 const char *message);
/*
 * Brings every PF of /etc/passthru/vf.d/ to its persisted settings: the VF count (through 0
 * when it differs, refused as passthru_sriov_plan() refuses), autoprobe, the VFs to vfio-pci,
 * then each VF's link settings. Meant for boot (`passthru apply`), before bindings of VFs
 * are applied: the VFs exist only afterwards. A PF that fails does not stop the others.
 * Returns 0 when everything was applied, else the first negative errno; a malformed file is
 * reported with its line and gives -EBADMSG.
 */
int passthru_sriov_apply_persisted(struct passthru_ctx *ctx, unsigned flags,
				   passthru_sriov_report_fn report, void *userdata);

/* ------------------------------------------------------------------------------------------ */
/* Applying every persisted setting                                                           */
/* ------------------------------------------------------------------------------------------ */

/* Flags of passthru_apply_persisted(). */
#define PASSTHRU_APPLY_DRY_RUN (1u << 0) /* plan and report; change nothing */

/* What passthru_apply_persisted() tells as it goes; any member may be NULL. */
struct passthru_apply_ops {
	/*
	 * Each SR-IOV setting of /etc/passthru/vf.d/ applied, planned or refused. In a dry run,
	 * also each binding of a VF that a planned count would make (error 0, under its PF):
	 * the dry run makes no VF, so its binding is planned only when the count is applied.
	 */
	passthru_sriov_report_fn sriov;
	/* bindings.conf cannot be read (-EBADMSG: a malformed line); none of it is applied. */
	void (*bindings_unreadable)(void *userdata, int error);
	/*
	 * Entry index of p is not applied: -ENODEV no device at its address (not for a VF a
	 * dry run's count would make: see sriov), -ESTALE another device there now
	 * (passthru_persist_check()), else the errno of reading it.
	 */
	void (*binding_refused)(void *userdata, struct passthru_persist *p, size_t index,
				int error);
	/*
	 * One IOMMU group's persisted devices as one takeover, after its plan (a dry run: r of
	 * passthru_takeover_plan()) or its execution (r of passthru_takeover_execute()). t is
	 * NULL when it could not be made (r says why). t is valid during the call only.
	 */
	void (*group)(void *userdata, struct passthru_takeover *t, int r);
	/*
	 * A takeover, a change of a VF count or of a VF's settings waits for another
	 * process's lock (passthru_takeover_set_wait_fn()).
	 */
	passthru_takeover_wait_fn lock_wait;
	/* After the bindings, not in a dry run: r of passthru_persist_write_modprobe(). */
	void (*modprobe)(void *userdata, struct passthru_persist *p, int r);
};

/*
 * Brings the host to every persisted setting, in the order boot needs: the SR-IOV settings of
 * /etc/passthru/vf.d/ first (passthru_sriov_apply_persisted(); the VFs must exist before
 * bindings of VFs are applied), then the bindings of /etc/passthru/bindings.conf, one takeover
 * per IOMMU group (forced when any of its entries was; a group that fails does not stop the
 * others), then /etc/modprobe.d/passthru-vfio.conf. timeout_ms limits each takeover's writes
 * and each wait for another passthru's lock, also those of a VF count's change and of a VF's
 * settings (0: the defaults). What `passthru apply` and passthru-apply.service run. Returns 0
 * when everything persisted was applied (or nothing is persisted), else the first negative
 * errno (-EROFS of the modprobe.d file is not one: early at boot /etc may be read-only).
 */
int passthru_apply_persisted(struct passthru_ctx *ctx, unsigned flags, unsigned timeout_ms,
			     const struct passthru_apply_ops *ops, void *userdata);

/*
 * VF link settings. A NIC PF's driver configures its VFs' MAC address, VLAN, spoof checking,
 * trust and rate limit on the PF's network interface, over rtnetlink: the same RTM_NEWLINK
 * request with IFLA_VFINFO_LIST that `ip link set DEV vf N ...` sends, byte for byte. This
 * needs the running kernel: below a sysroot other than "/" sending and reading fail with
 * -EOPNOTSUPP. The PF's interface is the first of /sys/bus/pci/devices/PF/net/ by name.
 *
 * Parsers of the settings as users write them; each returns -EINVAL for anything else:
 */
/* "02:11:22:33:44:55" (also with '-', any case); a multicast address is refused. */
int passthru_vf_parse_mac(const char *text, uint8_t ret[6]);
/* A VLAN id 0-4095 (0: no VLAN) or a priority (QoS) 0-7, decimal. -ERANGE when too large. */
int passthru_vf_parse_vlan(const char *text, unsigned *ret);
int passthru_vf_parse_qos(const char *text, unsigned *ret);
/* "802.1Q" or "802.1ad" (any case) to 0x8100 or 0x88a8. */
int passthru_vf_parse_vlan_proto(const char *text, uint16_t *ret);
/*
 * A rate in Mbit/s: "100", "100M", "100Mbit", "10G", "10Gbit" (G is 1000 M); 0 means no
 * limit. -ERANGE above 2^32-1 Mbit/s.
 */
int passthru_vf_parse_rate(const char *text, unsigned *ret);

struct passthru_vf;

/*
 * One VF of a NIC PF. -EINVAL for a malformed address, -ENODEV when the PF is absent,
 * -EOPNOTSUPP for a function that is not an SR-IOV PF, -ENOENT when the PF has no VF of that
 * index now, -ENOLINK when the PF has no network interface.
 */
int passthru_vf_new(struct passthru_ctx *ctx, const char *pf, unsigned index,
		    struct passthru_vf **ret);
struct passthru_vf *passthru_vf_ref(struct passthru_vf *vf);
struct passthru_vf *passthru_vf_unref(struct passthru_vf *vf);
const char *passthru_vf_get_pf(const struct passthru_vf *vf);
unsigned passthru_vf_get_index(const struct passthru_vf *vf);
/* The VF's own PCI address. */
const char *passthru_vf_get_address(const struct passthru_vf *vf);
/* The PF's network interface ("enp3s0f0"). */
const char *passthru_vf_get_netdev(const struct passthru_vf *vf);

/* Settings to change; those not set stay as they are. -EINVAL or -ERANGE for bad values. */
int passthru_vf_set_mac(struct passthru_vf *vf, const uint8_t mac[6]);
/* proto 0 means 802.1Q. */
int passthru_vf_set_vlan(struct passthru_vf *vf, unsigned vlan, unsigned qos, uint16_t proto);
void passthru_vf_set_spoofchk(struct passthru_vf *vf, bool on);
void passthru_vf_set_trust(struct passthru_vf *vf, bool on);
/* Mbit/s, 0 for no limit. The minimum rate is kept as the driver reports it. */
void passthru_vf_set_max_tx_rate(struct passthru_vf *vf, unsigned mbps);
/* The settings made, as "mac 02:11:22:33:44:55 vlan 10 qos 3 spoofchk on"; "" when none. */
const char *passthru_vf_get_summary(struct passthru_vf *vf);

/*
 * The limit of the wait for another passthru's lock when the settings are applied, 30000 ms by
 * default (and for 0); also of each write of the repair of an interrupted change that applying
 * makes first, 10000 ms by default.
 */
void passthru_vf_set_timeout(struct passthru_vf *vf, unsigned msec);
/*
 * Called when another process holds the lock that serialises changes, before waiting for it,
 * as passthru_takeover_set_wait_fn() says.
 */
void passthru_vf_set_wait_fn(struct passthru_vf *vf, passthru_takeover_wait_fn fn,
			     void *userdata);

/*
 * Sends the settings in one request and waits for the kernel's answer, under the lock that
 * serialises changes (passthru_vf_set_timeout()). Returns 0, -EINVAL when nothing was set,
 * -EBUSY when another process kept the lock (passthru_vf_get_error() names it), or the
 * kernel's negative errno; passthru_vf_get_error() then holds the kernel's extended
 * acknowledgement message, when it sent one.
 */
int passthru_vf_apply(struct passthru_vf *vf);
const char *passthru_vf_get_error(const struct passthru_vf *vf);
/*
 * Persists the settings made in /etc/passthru/vf.d/PF.conf (merged with those saved before
 * for the same VF), for passthru_sriov_apply_persisted().
 */
int passthru_vf_save(struct passthru_vf *vf);

/* What the PF's driver reports about its VFs (RTM_GETLINK with RTEXT_FILTER_VF). */
struct passthru_vf_list;

/*
 * Reads the VF settings of a PF's network interface. -ENOLINK when the PF has no network
 * interface, -EOPNOTSUPP below a sysroot other than "/", other errors as passthru_vf_new().
 * A PF whose driver reports no VFs gives an empty list.
 */
int passthru_vf_list_read(struct passthru_ctx *ctx, const char *pf, struct passthru_vf_list **ret);
struct passthru_vf_list *passthru_vf_list_ref(struct passthru_vf_list *list);
struct passthru_vf_list *passthru_vf_list_unref(struct passthru_vf_list *list);
size_t passthru_vf_list_count(const struct passthru_vf_list *list);
/* For entry index of the list (not a VF number). Each getter returns -ENODATA when the driver
 * did not report the value, -EINVAL for an index out of range. */
int passthru_vf_list_get_vf(const struct passthru_vf_list *list, size_t index, unsigned *ret);
/* "02:11:22:33:44:55"; NULL when not reported. Owned by the list. */
const char *passthru_vf_list_get_mac(const struct passthru_vf_list *list, size_t index);
int passthru_vf_list_get_vlan(const struct passthru_vf_list *list, size_t index,
			      unsigned *ret_vlan, unsigned *ret_qos, uint16_t *ret_proto);
int passthru_vf_list_get_spoofchk(const struct passthru_vf_list *list, size_t index, bool *ret);
int passthru_vf_list_get_trust(const struct passthru_vf_list *list, size_t index, bool *ret);
/* Mbit/s; 0 means no limit. */
int passthru_vf_list_get_tx_rate(const struct passthru_vf_list *list, size_t index,
				 unsigned *ret_min, unsigned *ret_max);
/* "auto", "enable" or "disable"; NULL when not reported. Static. */
const char *passthru_vf_list_get_link_state(const struct passthru_vf_list *list, size_t index);

/* ------------------------------------------------------------------------------------------ */
/* Early claim of persisted storage                                                           */
/* ------------------------------------------------------------------------------------------ */

/*
 * The files that put a persisted storage controller (class 01xx in bindings.conf) on vfio-pci
 * from the initramfs on and keep the host's LVM, mdadm, multipath and udisks off its disks,
 * compared with what is on the host. passthru setup shows them as part of its plan; this
 * object brings them in line on their own (after unbind --persist, for example).
 */
struct passthru_storage_claim;

/* Works out, for the persisted bindings, which of those files must change. */
int passthru_storage_claim_new(struct passthru_ctx *ctx, struct passthru_storage_claim **ret);
struct passthru_storage_claim *passthru_storage_claim_ref(struct passthru_storage_claim *c);
struct passthru_storage_claim *passthru_storage_claim_unref(struct passthru_storage_claim *c);
/*
 * Before a storage controller leaves the host for good (bind --persist): keeps the ids of its
 * disks (wwid, serial, NVMe namespace ids) and of the disks of every other storage controller
 * of its IOMMU group (vfio-pci takes the group whole) in /etc/passthru/lvm-devices, so that
 * passthru setup can take their entries out of LVM's devices file once the disks are gone. 0
 * also when there is nothing to keep (no disks, no devices file); -EINVAL for a bad address.
 */
int passthru_storage_claim_record(struct passthru_ctx *ctx, const char *address);
/* The persisted storage controllers found. */
size_t passthru_storage_claim_get_target_count(const struct passthru_storage_claim *c);
/* The files that change. */
size_t passthru_storage_claim_count(const struct passthru_storage_claim *c);
/* The file's path on the host; NULL out of range. */
const char *passthru_storage_claim_get_path(const struct passthru_storage_claim *c, size_t index);
/* True when the file goes, false when it is written; false out of range. */
bool passthru_storage_claim_get_removes(const struct passthru_storage_claim *c, size_t index);
/* The initramfs regeneration the changes need, as one shell-quoted line; NULL when none. */
const char *passthru_storage_claim_get_command(const struct passthru_storage_claim *c);
/*
 * What the files cannot do, one line each, NULL-terminated; NULL when nothing. A persisted
 * drive whose storage prevention is incomplete (its LVM devices file entries cannot be told,
 * for one) is named with the commands that complete it. Owned by c.
 */
const char *const *passthru_storage_claim_get_notes(const struct passthru_storage_claim *c);
/* Writes (or removes) every file that changes, atomically and read back, then runs the
 * regeneration. On failure passthru_storage_claim_get_error() names the file or command. */
int passthru_storage_claim_apply(struct passthru_storage_claim *c);
/* The regeneration's output after passthru_storage_claim_apply(); NULL when none ran. */
const char *passthru_storage_claim_get_output(const struct passthru_storage_claim *c);
const char *passthru_storage_claim_get_error(const struct passthru_storage_claim *c);

/* ------------------------------------------------------------------------------------------ */
/* Processes holding VFIO files and device nodes                                              */
/* ------------------------------------------------------------------------------------------ */

/*
 * Who holds IOMMU group `group` for a VM: processes with /dev/vfio/GROUP open, and, when address
 * (a PCI address in any form passthru_pci_address_parse() accepts) is given, that device's
 * iommufd cdev (/dev/vfio/devices/vfioN). One line per file and process, in the form
 * "/dev/vfio/5 is open by pid 812 (qemu-system-x86)", the same words a takeover's IN_USE
 * refusal uses. *ret is a NULL-terminated array (empty when nobody holds the group), freed by
 * the caller with passthru_strv_free(). -EINVAL for a negative group or a malformed address.
 */
int passthru_vfio_group_get_users(struct passthru_ctx *ctx, int group, const char *address,
				  char ***ret);
/*
 * Who holds a device node: processes with path open, path as the kernel shows it in
 * /proc/PID/fd (the node itself, not a link to it: "/dev/ttyS1", "/dev/ttyUSB0", a USB device's
 * "/dev/bus/usb/001/004"). One line per process, "/dev/ttyS1 is open by pid 812 (minicom)",
 * the shape of passthru_vfio_group_get_users(); the same one pass over /proc serves both.
 * *ret is a NULL-terminated array (empty when nobody holds it), freed with
 * passthru_strv_free(). -EINVAL for a path not under /dev/ or with empty, "." or ".."
 * components.
 */
int passthru_device_node_get_users(struct passthru_ctx *ctx, const char *path, char ***ret);
/* Frees a NULL-terminated array of strings the library handed over; returns NULL. */
char **passthru_strv_free(char **strv);

#ifdef __cplusplus
}
#endif
