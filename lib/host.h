/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Facts about the (rooted) host that `check` judges and `setup` acts on: CPU vendor, the IOMMU
 * the firmware describes, distribution and boot loader layout, kernel log, modules, huge pages.
 * Every read goes through the context's root.
 */
#pragma once

#include "cmdline.h"
#include "internal.h"

/* ------------------------------------------------------------------------------------------ */
/* CPU and IOMMU                                                                              */

enum cpu_vendor {
	CPU_VENDOR_UNKNOWN,
	CPU_VENDOR_INTEL,
	CPU_VENDOR_AMD, /* Hygon's Zen derivatives included: same IOMMU, same parameters */
	CPU_VENDOR_OTHER,
};

/* The vendor_id of the first processor in /proc/cpuinfo text. -ENOENT when there is none. */
int cpuinfo_parse_vendor(const char *text, char **ret);
enum cpu_vendor cpu_vendor_from_id(const char *vendor_id);
const char *cpu_vendor_name(enum cpu_vendor v);
/* Reads /proc/cpuinfo; *ret_id (may be NULL) gets the raw vendor_id. */
int host_cpu_vendor(struct passthru_ctx *ctx, enum cpu_vendor *ret, char **ret_id);

enum iommu_kind {
	IOMMU_KIND_NONE,
	IOMMU_KIND_INTEL, /* VT-d: ACPI DMAR table */
	IOMMU_KIND_AMD,	  /* AMD-Vi: ACPI IVRS table */
};
const char *iommu_kind_name(enum iommu_kind k);

/* Which IOMMU the firmware describes, from the ACPI tables the kernel exports. */
enum iommu_kind host_firmware_iommu(struct passthru_ctx *ctx);

/*
 * The IOMMU whose parameters this host needs: the one the firmware describes, else the one that
 * goes with the CPU vendor. IOMMU_KIND_NONE when neither tells.
 */
enum iommu_kind host_iommu_for_params(enum iommu_kind firmware, enum cpu_vendor cpu);

/*
 * The kernel parameters of the product chapter for an IOMMU kind: Intel intel_iommu=on
 * iommu=pt, AMD iommu=pt (and no amd_iommu=off); with unsafe_interrupts (see
 * host_unsafe_interrupts_needed()) also vfio_iommu_type1.allow_unsafe_interrupts=1.
 * Static storage. *ret_n is 0 for IOMMU_KIND_NONE.
 */
const struct param_req *host_iommu_params(enum iommu_kind kind, bool unsafe_interrupts,
					  size_t *ret_n);

/* vfio_iommu_type1.allow_unsafe_interrupts=1, the last of host_iommu_params() when asked for. */
extern const struct param_req host_unsafe_interrupts_param;

/*
 * Whether the platform supports interrupt remapping, from the firmware's table for kind (DMAR
 * flag INTR_REMAP; IVRS the southbridge IOAPIC, see acpi.h), which says so before the IOMMU is
 * even on: 1 yes, 0 no, -ENOENT without a table, -EACCES for an unprivileged reader (the
 * tables are root's only), -EBADMSG for a table that cannot be parsed.
 */
int host_firmware_interrupt_remapping(struct passthru_ctx *ctx, enum iommu_kind kind);

/*
 * The one rule setup and check share: vfio_iommu_type1.allow_unsafe_interrupts=1 belongs on
 * the command line only where interrupt remapping is missing, i.e. the firmware's table says the
 * platform has none (firmware_remapping 0, from host_firmware_interrupt_remapping()) and the
 * running kernel shows none (host_interrupt_remapping()). When the table cannot be read, it is
 * not asked for: running as root, setup reads it.
 */
bool host_unsafe_interrupts_needed(int firmware_remapping, bool running_remapping);

/* The interrupt remapping evidence: /proc/interrupts chips named "IR-..." (the kernel names the
 * remapped MSI and IO-APIC domains so), else the kernel log's "Enabled IRQ remapping" /
 * "Interrupt remapping enabled". kmsg may be NULL. */
bool host_interrupt_remapping(struct passthru_ctx *ctx, char *const *kmsg);

/* The names in /sys/class/iommu ("dmar0", "ivhd0"), sorted; empty when none. */
int host_iommu_units(struct passthru_ctx *ctx, char ***ret);

/* Whether a program is installed in /usr/sbin, /usr/bin, /sbin or /bin of the (rooted) host. */
bool host_tool_installed(struct passthru_ctx *ctx, const char *name);

/* The number of IOMMU groups in /sys/kernel/iommu_groups. */
int host_iommu_group_count(struct passthru_ctx *ctx, unsigned *ret);

/*
 * Why a device is in no IOMMU group, in the words bind and check share. With no group on the
 * host, the IOMMU is off (or there is none); with groups, the IOMMU is on but leaves the device
 * out, and turning it on would change nothing. Returns 1 (on) or 0 (off), with the sentence in
 * *ret (the caller frees it); -ENOMEM.
 */
int host_ungrouped_reason(struct passthru_ctx *ctx, char **ret);

/* ------------------------------------------------------------------------------------------ */
/* Kernel log                                                                                 */

/*
 * The messages of /dev/kmsg records ("6,339,5140900,-;DMAR: IOMMU enabled"), without their
 * prefix and without the "KEY=value" continuation lines. A line that is not a record (a plain
 * dmesg dump in a fixture) is taken whole.
 */
int kmsg_parse(const char *buf, size_t len, char ***ret);
/* Reads the whole kernel log without blocking. -EACCES/-EPERM when the caller may not. */
int host_read_kmsg(struct passthru_ctx *ctx, char ***ret);

/* ------------------------------------------------------------------------------------------ */
/* Distribution and boot loader                                                               */

struct os_release {
	char *id;
	char *id_like;
	char *version_id;
	char *pretty_name;
};

/* os-release(5) text: KEY=value with optional shell quoting; unknown keys ignored. */
int os_release_parse(const char *text, struct os_release *ret);
void os_release_done(struct os_release *o);
/* /etc/os-release, else /usr/lib/os-release. */
int host_os_release(struct passthru_ctx *ctx, struct os_release *ret);

enum distro_family {
	DISTRO_UNKNOWN,
	DISTRO_RHEL, /* RHEL, CentOS, Rocky, Alma, Oracle, Fedora */
	DISTRO_DEBIAN,
	DISTRO_SUSE,
	DISTRO_ARCH,
};
enum distro_family distro_family_of(const struct os_release *o);

struct boot_info {
	bool uefi;
	enum distro_family family;
	char *distro;	     /* PRETTY_NAME, else ID; "unknown distribution" */
	char *grub_cfg;	     /* the grub.cfg to regenerate; NULL when unknown */
	char **regen_argv;   /* the command that regenerates it; NULL when unknown */
	char **initrd_argv;  /* the command that rebuilds the initramfs (Debian family) or NULL */
	bool bls;	     /* boot entries live in /boot/loader/entries */
	const char *problem; /* why grub_cfg is unknown, static */
};

/*
 * Works out the boot mode (UEFI when /sys/firmware/efi exists), and the grub.cfg and the command
 * the distribution uses to regenerate it: RHEL 7/8 grub2-mkconfig -o /boot/grub2/grub.cfg, or
 * /boot/efi/EFI/<vendor>/grub.cfg in UEFI mode; RHEL 9 and Fedora 34+ /boot/grub2/grub.cfg in
 * both modes (the EFI file only points there), with --update-bls-cmdline from 9.3 and Fedora 39
 * on (grub2-mkconfig no longer rewrites the BLS entries' options without it); Debian family
 * update-grub (or grub-mkconfig -o /boot/grub/grub.cfg when update-grub is not installed).
 */
int host_boot_info(struct passthru_ctx *ctx, struct boot_info *ret);
void boot_info_done(struct boot_info *b);

/*
 * The kernel command lines the boot loader is configured to pass: the linux lines of grub.cfg,
 * or the options of the BLS entries (with $kernelopts expanded from grubenv). Empty when none
 * is found.
 */
int host_boot_cmdlines(struct passthru_ctx *ctx, const struct boot_info *b, char ***ret);

/* Space-joined argv, for messages. */
char *argv_join(char *const *argv);
/*
 * Runs a command the way passthru setup does (host-setup-apply.c): found in the system
 * directories of the root, chrooted there when it is not "/", output captured in *ret_output
 * (NULL when it did not run). -EIO with *ret_error (its last output line) when it fails.
 */
int host_run_command(struct passthru_ctx *ctx, char *const *argv, char **ret_output,
		     char **ret_error);

/* ------------------------------------------------------------------------------------------ */
/* Kernel modules                                                                             */

enum module_state {
	MODULE_ABSENT,
	MODULE_LOADED,	 /* initstate "live" */
	MODULE_CHANGING, /* "coming" or "going" */
	MODULE_BUILTIN,	 /* /sys/module/<name> without initstate */
};

/* The state of a module from /sys/module ('-' and '_' alike). */
enum module_state host_module_state(struct passthru_ctx *ctx, const char *name);

/*
 * Whether the running kernel has a module (file or built in), asked of its module index in
 * /lib/modules/<release>: 1 yes, 0 no, -ENOENT when there is no usable index.
 */
int host_module_exists(struct passthru_ctx *ctx, const char *name);

/*
 * The vfio modules this kernel needs loaded: vfio, vfio_iommu_type1, vfio_pci, and vfio_virqfd
 * when the kernel has it (from its module index, else when it is older than 6.2).
 * -EINVAL when the kernel release cannot be read or parsed.
 */
int host_vfio_modules(struct passthru_ctx *ctx, char ***ret);

/* The module names of a modules-load.d file, in order, '-' as '_'. */
int modules_load_parse(const char *text, char ***ret);

/* ------------------------------------------------------------------------------------------ */
/* Memory                                                                                     */

struct hugepage_pool {
	unsigned long long kib;
	unsigned long nr;
	unsigned long free;
};

/* /sys/kernel/mm/hugepages/hugepages-<N>kB, sorted by size. -ENOENT when the directory is absent.
 */
int host_hugepage_pools(struct passthru_ctx *ctx, struct hugepage_pool **ret, size_t *ret_n);
/* A /proc/meminfo value in kB ("MemTotal"); -ENOENT when absent, -EBADMSG when malformed. */
int meminfo_parse(const char *text, const char *key, unsigned long long *ret);
int host_meminfo(struct passthru_ctx *ctx, const char *key, unsigned long long *ret);

/* ------------------------------------------------------------------------------------------ */
/* Files the checks and the setup share                                                       */

#define HOST_GRUB_DEFAULT      "/etc/default/grub"
#define HOST_GRUB_DEFAULT_D    "/etc/default/grub.d"
#define HOST_VFIO_MODULES_LOAD "/etc/modules-load.d/vfio.conf"
#define HOST_BLACKLIST_CONF    "/etc/modprobe.d/passthru-blacklist.conf"

/* Drivers that drive displays and want DRIVER.modeset=0 besides the blacklist. */
bool driver_is_display(const char *driver);

/*
 * /etc/default/grub.d/ *.cfg, which grub-mkconfig sources after /etc/default/grub (Ubuntu's cloud
 * images set GRUB_CMDLINE_LINUX_DEFAULT there). Returns 0 when none of them undoes reqs;
 * -EBADMSG with *ret_error ("/etc/default/grub.d/50-x.cfg:3: ...") when one replaces
 * GRUB_CMDLINE_LINUX, sets a parameter against reqs, or cannot be read safely.
 */
int host_grub_snippets_check(struct passthru_ctx *ctx, const struct param_req *reqs, size_t n,
			     char **ret_error);

/* ------------------------------------------------------------------------------------------ */
/* PCI config space                                                                           */

/* The ACS control bits are public: PASSTHRU_ACS_* in passthru.h. */

/*
 * Finds the ACS extended capability in a config space dump: 1 with its capability and control
 * registers, 0 when there is none, -ENODATA when the dump stops before the extended space
 * (unprivileged readers get 64 bytes, conventional PCI has 256).
 */
int pci_config_find_acs(const uint8_t *cfg, size_t len, uint16_t *ret_cap, uint16_t *ret_ctrl);

/* For host-facts.c and host-boot.c: s without its leading and trailing white space, in place. */
char *host_strip(char *s);
/* The names in a directory under the root, sorted; NULL when it is missing. */
int host_list_dir_sorted(struct passthru_ctx *ctx, const char *path, char ***ret);
