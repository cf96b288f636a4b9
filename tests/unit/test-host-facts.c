/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Host facts: the parsers, and the boot loader layout of each distribution against small roots. */
#include <fcntl.h>
#include <sys/stat.h>

#include "acpi.h"
#include "host.h"
#include "internal.h"
#include "fixture.h"
#include "test.h"

static const char *root;

/* Writes root/rel (creating its directories); content NULL makes a directory. */
static void put(const char *rel, const char *content)
{
	fixture_put(root, rel, content);
}

static void wipe(void)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'/*", root);
	(void)!system(cmd);
}

static struct passthru_ctx *ctx_new(void)
{
	struct passthru_ctx *ctx = NULL;

	CHECK_INT(passthru_ctx_new(root, &ctx), 0);
	return ctx;
}

static void test_cpu(void)
{
	_cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

	CHECK_INT(cpuinfo_parse_vendor("processor\t: 0\nvendor_id\t: GenuineIntel\n", &a), 0);
	CHECK_STR(a, "GenuineIntel");
	CHECK_INT(cpuinfo_parse_vendor("vendor_id:AuthenticAMD", &b), 0);
	CHECK_STR(b, "AuthenticAMD");
	CHECK_INT(cpuinfo_parse_vendor("processor : 0\nvendor_idx : x\n", &c), -ENOENT);
	CHECK_INT(cpuinfo_parse_vendor("vendor_id\t:   \n", &c), -EBADMSG);
	CHECK_INT(cpuinfo_parse_vendor("", &c), -ENOENT);
	CHECK(c == NULL);
	CHECK_INT(cpu_vendor_from_id("GenuineIntel"), CPU_VENDOR_INTEL);
	CHECK_INT(cpu_vendor_from_id("AuthenticAMD"), CPU_VENDOR_AMD);
	CHECK_INT(cpu_vendor_from_id("HygonGenuine"), CPU_VENDOR_AMD);
	CHECK_INT(cpu_vendor_from_id("CentaurHauls"), CPU_VENDOR_OTHER);
	CHECK_INT(cpu_vendor_from_id(NULL), CPU_VENDOR_UNKNOWN);

	/* The firmware's IOMMU wins over the CPU vendor (virtual machines mix them). */
	CHECK_INT(host_iommu_for_params(IOMMU_KIND_INTEL, CPU_VENDOR_AMD), IOMMU_KIND_INTEL);
	CHECK_INT(host_iommu_for_params(IOMMU_KIND_NONE, CPU_VENDOR_AMD), IOMMU_KIND_AMD);
	CHECK_INT(host_iommu_for_params(IOMMU_KIND_NONE, CPU_VENDOR_OTHER), IOMMU_KIND_NONE);
	{
		size_t n;
		const struct param_req *r = host_iommu_params(IOMMU_KIND_INTEL, true, &n);

		CHECK_INT(n, 3);
		CHECK_STR(r[0].key, "intel_iommu");
		CHECK_STR(r[2].key, "vfio_iommu_type1.allow_unsafe_interrupts");
		r = host_iommu_params(IOMMU_KIND_INTEL, false, &n);
		CHECK_INT(n, 2);
		CHECK_STR(r[1].key, "iommu");
		r = host_iommu_params(IOMMU_KIND_AMD, true, &n);
		CHECK_INT(n, 3);
		CHECK_INT(r[0].kind, PARAM_REQ_NOT);
		r = host_iommu_params(IOMMU_KIND_AMD, false, &n);
		CHECK_INT(n, 2);
		CHECK(host_iommu_params(IOMMU_KIND_NONE, true, &n) == NULL && n == 0);
	}
	/* allow_unsafe_interrupts only where remapping is missing: the firmware says it has none
	 * and the kernel shows none. An unreadable table asks for nothing. */
	CHECK(host_unsafe_interrupts_needed(0, false));
	CHECK(!host_unsafe_interrupts_needed(0, true));
	CHECK(!host_unsafe_interrupts_needed(1, false));
	CHECK(!host_unsafe_interrupts_needed(1, true));
	CHECK(!host_unsafe_interrupts_needed(-EACCES, false));
	CHECK(!host_unsafe_interrupts_needed(-ENOENT, false));
}

static void test_os_release(void)
{
	struct os_release o;
	static const struct {
		const char *text;
		enum distro_family family;
	} cases[] = {
	    {"ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n", DISTRO_RHEL},
	    {"ID=fedora\n", DISTRO_RHEL},
	    {"ID=\"almalinux\"\n", DISTRO_RHEL},
	    {"ID=\"ol\"\nID_LIKE=\"fedora\"\n", DISTRO_RHEL},
	    {"ID=ubuntu\nID_LIKE=debian\n", DISTRO_DEBIAN},
	    {"ID=linuxmint\nID_LIKE=\"ubuntu debian\"\n", DISTRO_DEBIAN},
	    {"ID=\"opensuse-leap\"\nID_LIKE=\"suse opensuse\"\n", DISTRO_SUSE},
	    {"ID=arch\n", DISTRO_ARCH},
	    {"ID=nixos\n", DISTRO_UNKNOWN},
	    {"ID_LIKE=\"centosish\"\n", DISTRO_UNKNOWN},
	    {"", DISTRO_UNKNOWN},
	};

	CHECK_INT(os_release_parse("# comment\nNAME=\"x\"\nID=debian\n"
				   "PRETTY_NAME=\"Debian \\\"GNU\\\"/Linux 12\"\n"
				   "VERSION_ID='12'\nGARBAGE\nID_LIKE=\n",
				   &o),
		  0);
	CHECK_STR(o.id, "debian");
	CHECK_STR(o.pretty_name, "Debian \"GNU\"/Linux 12");
	CHECK_STR(o.version_id, "12");
	CHECK_STR(o.id_like, "");
	os_release_done(&o);
	/* A quote that does not close is not a value. */
	CHECK_INT(os_release_parse("ID=\"rocky\nVERSION_ID=9\n", &o), 0);
	CHECK(o.id == NULL);
	CHECK_STR(o.version_id, "9");
	os_release_done(&o);
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		CHECK_INT(os_release_parse(cases[i].text, &o), 0);
		if (distro_family_of(&o) != cases[i].family) {
			fprintf(stderr, "os-release case %zu: family %d, expected %d\n", i,
				distro_family_of(&o), cases[i].family);
			test_failures++;
		}
		os_release_done(&o);
	}
}

static void test_kmsg(void)
{
	static const char log[] = "6,120,1200,-;DMAR: Host address width 39\n"
				  " SUBSYSTEM=pci\n"
				  " DEVICE=+pci:0000:00:02.0\n"
				  "3,121,1300,-,caller=T1;vfio-pci 0000:01:00.0: DMAR: Device is "
				  "ineligible for IOMMU domain attach\n"
				  "[    0.5] a plain dmesg line\n"
				  "6,x,1,-;not a record\n"
				  "\n"
				  "4,9,9,c;unterminated";
	_cleanup_strv_free_ char **v = NULL;

	CHECK_INT(kmsg_parse(log, sizeof(log) - 1, &v), 0);
	CHECK_INT(strv_length(v), 5);
	CHECK_STR(v[0], "DMAR: Host address width 39");
	CHECK_STR(v[1],
		  "vfio-pci 0000:01:00.0: DMAR: Device is ineligible for IOMMU domain attach");
	CHECK_STR(v[2], "[    0.5] a plain dmesg line");
	CHECK_STR(v[3], "6,x,1,-;not a record");
	CHECK_STR(v[4], "unterminated");
}

static void test_small_parsers(void)
{
	_cleanup_strv_free_ char **mods = NULL;
	unsigned long long u = 0;

	CHECK_INT(
	    meminfo_parse("MemTotal:       16303536 kB\nHugePages_Total:     4\n", "MemTotal", &u),
	    0);
	CHECK(u == 16303536);
	CHECK_INT(meminfo_parse("MemTotal:       16303536 kB\nHugePages_Total:     4\n",
				"HugePages_Total", &u),
		  0);
	CHECK(u == 4);
	CHECK_INT(meminfo_parse("MemTotalX: 1 kB\n", "MemTotal", &u), -ENOENT);
	CHECK_INT(meminfo_parse("MemTotal: lots\n", "MemTotal", &u), -EBADMSG);
	CHECK_INT(meminfo_parse("MemTotal: 12 MB\n", "MemTotal", &u), -EBADMSG);

	CHECK_INT(
	    modules_load_parse("# vfio\n; also a comment\nvfio\n  vfio-pci  \n\nkvmgt", &mods), 0);
	CHECK_INT(strv_length(mods), 3);
	CHECK_STR(mods[1], "vfio_pci");
	CHECK_STR(mods[2], "kvmgt");

	CHECK(driver_is_display("nouveau") && driver_is_display("nvidia-drm") &&
	      !driver_is_display("e1000e") && !driver_is_display("vfio-pci"));
}

static void test_acs(void)
{
	uint8_t cfg[4096] = {0};
	uint16_t cap = 0, ctrl = 0;

	CHECK_INT(pci_config_find_acs(cfg, 64, &cap, &ctrl), -ENODATA);
	CHECK_INT(pci_config_find_acs(cfg, 256, &cap, &ctrl), -ENODATA);
	CHECK_INT(pci_config_find_acs(cfg, 4096, &cap, &ctrl), 0);
	/* AER at 0x100, then ACS at 0x148 with SV RR CR UF capable, SV RR CR enabled. */
	cfg[0x100] = 0x01;
	cfg[0x102] = 0x81; /* version 1, next 0x148 (bits 20..31) */
	cfg[0x103] = 0x14;
	cfg[0x148] = 0x0d;
	cfg[0x14a] = 0x01;
	cfg[0x14c] = 0x1d;
	cfg[0x14e] = 0x0d;
	CHECK_INT(pci_config_find_acs(cfg, 4096, &cap, &ctrl), 1);
	CHECK_INT(cap, 0x1d);
	CHECK_INT(ctrl, 0x0d);
	/* Cut before the capability body: not found rather than read past the end. */
	CHECK_INT(pci_config_find_acs(cfg, 0x14c, &cap, &ctrl), 0);
	/* A capability pointing at itself ends, it does not loop. */
	cfg[0x102] = 0x01;
	cfg[0x103] = 0x10;
	CHECK_INT(pci_config_find_acs(cfg, 4096, &cap, &ctrl), 0);
}

struct boot_case {
	const char *os_release;
	bool uefi;
	const char *const *files; /* extra files, NULL-terminated */
	const char *grub_cfg;
	const char *command;
};

static void test_boot_info(void)
{
	static const char *const rhel8_efi[] = {"boot/efi/EFI/redhat/grub.cfg", NULL};
	static const char *const c7_other_efi[] = {"boot/efi/EFI/BOOT/grub.cfg",
						   "boot/efi/EFI/custom/grub.cfg", NULL};
	static const char *const deb_mkconfig[] = {"usr/sbin/grub-mkconfig", NULL};
	static const char *const deb_update[] = {"usr/sbin/update-grub", "usr/sbin/grub-mkconfig",
						 NULL};
	static const char *const grub2_cfg[] = {"boot/grub2/grub.cfg", NULL};
	static const char *const grub_cfg[] = {"boot/grub/grub.cfg", NULL};
	static const char *const none[] = {NULL};
	static const struct boot_case cases[] = {
	    {"ID=rhel\nVERSION_ID=8.9\n", true, rhel8_efi, "/boot/efi/EFI/redhat/grub.cfg",
	     "grub2-mkconfig -o /boot/efi/EFI/redhat/grub.cfg"},
	    {"ID=rhel\nVERSION_ID=8.9\n", false, rhel8_efi, "/boot/grub2/grub.cfg",
	     "grub2-mkconfig -o /boot/grub2/grub.cfg"},
	    {"ID=centos\nVERSION_ID=7\n", true, c7_other_efi, "/boot/efi/EFI/custom/grub.cfg",
	     "grub2-mkconfig -o /boot/efi/EFI/custom/grub.cfg"},
	    {"ID=almalinux\nVERSION_ID=9.2\n", true, none, "/boot/grub2/grub.cfg",
	     "grub2-mkconfig -o /boot/grub2/grub.cfg"},
	    {"ID=rhel\nVERSION_ID=9.3\n", true, none, "/boot/grub2/grub.cfg",
	     "grub2-mkconfig -o /boot/grub2/grub.cfg --update-bls-cmdline"},
	    {"ID=rocky\nVERSION_ID=10.0\n", false, none, "/boot/grub2/grub.cfg",
	     "grub2-mkconfig -o /boot/grub2/grub.cfg --update-bls-cmdline"},
	    {"ID=fedora\nVERSION_ID=33\n", true, none, "/boot/efi/EFI/fedora/grub.cfg",
	     "grub2-mkconfig -o /boot/efi/EFI/fedora/grub.cfg"},
	    {"ID=fedora\nVERSION_ID=38\n", true, none, "/boot/grub2/grub.cfg",
	     "grub2-mkconfig -o /boot/grub2/grub.cfg"},
	    {"ID=fedora\nVERSION_ID=39\n", true, none, "/boot/grub2/grub.cfg",
	     "grub2-mkconfig -o /boot/grub2/grub.cfg --update-bls-cmdline"},
	    {"ID=debian\n", true, deb_update, "/boot/grub/grub.cfg", "update-grub"},
	    {"ID=debian\n", false, deb_mkconfig, "/boot/grub/grub.cfg",
	     "grub-mkconfig -o /boot/grub/grub.cfg"},
	    {"ID=ubuntu\nID_LIKE=debian\n", false, none, "/boot/grub/grub.cfg", "update-grub"},
	    {"ID=opensuse-tumbleweed\nID_LIKE=\"opensuse suse\"\n", true, none,
	     "/boot/grub2/grub.cfg", "grub2-mkconfig -o /boot/grub2/grub.cfg"},
	    {"ID=arch\n", true, none, "/boot/grub/grub.cfg",
	     "grub-mkconfig -o /boot/grub/grub.cfg"},
	    {"ID=gentoo\n", false, grub2_cfg, "/boot/grub2/grub.cfg",
	     "grub2-mkconfig -o /boot/grub2/grub.cfg"},
	    {"ID=gentoo\n", false, grub_cfg, "/boot/grub/grub.cfg",
	     "grub-mkconfig -o /boot/grub/grub.cfg"},
	    {"ID=gentoo\n", false, none, NULL, NULL},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct passthru_ctx *ctx;
		struct boot_info b = {0};
		_cleanup_free_ char *cmd = NULL;

		wipe();
		put("etc/os-release", cases[i].os_release);
		if (cases[i].uefi)
			put("sys/firmware/efi", NULL);
		for (size_t k = 0; cases[i].files[k]; k++)
			put(cases[i].files[k], "");
		ctx = ctx_new();
		CHECK_INT(host_boot_info(ctx, &b), 0);
		cmd = b.regen_argv ? argv_join(b.regen_argv) : NULL;
		if (b.uefi != cases[i].uefi || !!b.grub_cfg != !!cases[i].grub_cfg ||
		    (b.grub_cfg && strcmp(b.grub_cfg, cases[i].grub_cfg) != 0) ||
		    !!cmd != !!cases[i].command || (cmd && strcmp(cmd, cases[i].command) != 0)) {
			fprintf(stderr, "boot case %zu (%s): %s / %s, expected %s / %s\n", i,
				cases[i].os_release, b.grub_cfg, cmd, cases[i].grub_cfg,
				cases[i].command);
			test_failures++;
		}
		if (!cases[i].grub_cfg)
			CHECK(b.problem != NULL);
		boot_info_done(&b);
		passthru_ctx_unref(ctx);
	}
}

static void test_boot_cmdlines(void)
{
	struct passthru_ctx *ctx;
	struct boot_info b = {0};
	_cleanup_strv_free_ char **v = NULL, **w = NULL;

	wipe();
	put("etc/os-release", "ID=centos\nVERSION_ID=7\n");
	put("boot/grub2/grub.cfg",
	    "menuentry 'a' {\n\tlinux16 /vmlinuz-3.10 root=/dev/sda1 ro quiet\n"
	    "}\n  linuxefi  /vmlinuz-x  a=1  \nlinuxfoo /x\n\tlinux /k\n");
	ctx = ctx_new();
	CHECK_INT(host_boot_info(ctx, &b), 0);
	CHECK_INT(host_boot_cmdlines(ctx, &b, &v), 0);
	CHECK_INT(strv_length(v), 3);
	CHECK_STR(v[0], "root=/dev/sda1 ro quiet");
	CHECK_STR(v[1], "a=1");
	CHECK_STR(v[2], "");
	boot_info_done(&b);
	passthru_ctx_unref(ctx);

	/* RHEL 8: BLS entries with $kernelopts from grubenv. */
	wipe();
	put("etc/os-release", "ID=rhel\nVERSION_ID=8.9\n");
	put("boot/grub2/grub.cfg", "blscfg\n");
	put("boot/grub2/grubenv", "# GRUB Environment Block\nkernelopts=root=/dev/rhel/root ro "
				  "intel_iommu=on\n####\n");
	put("boot/loader/entries/a-4.18.conf", "title A\noptions $kernelopts $tuned_params\n");
	put("boot/loader/entries/b-4.18.conf", "title B\noptions root=/x ro\n");
	put("boot/loader/entries/notes.txt", "options ignored\n");
	ctx = ctx_new();
	CHECK_INT(host_boot_info(ctx, &b), 0);
	CHECK(b.bls);
	CHECK_INT(host_boot_cmdlines(ctx, &b, &w), 0);
	CHECK_INT(strv_length(w), 2);
	CHECK_STR(w[0], "root=/dev/rhel/root ro intel_iommu=on $tuned_params");
	CHECK_STR(w[1], "root=/x ro");
	boot_info_done(&b);
	passthru_ctx_unref(ctx);
}

static void test_modules(void)
{
	struct passthru_ctx *ctx;
	_cleanup_strv_free_ char **a = NULL, **b = NULL;

	wipe();
	put("proc/sys/kernel/osrelease", "5.14.0-427.el9.x86_64\n");
	put("sys/module/vfio/initstate", "live\n");
	put("sys/module/vfio_pci/parameters/ids", "\n");
	put("sys/module/vfio_iommu_type1/initstate", "coming\n");
	ctx = ctx_new();
	CHECK_INT(host_module_state(ctx, "vfio"), MODULE_LOADED);
	CHECK_INT(host_module_state(ctx, "vfio-pci"), MODULE_BUILTIN);
	CHECK_INT(host_module_state(ctx, "vfio_iommu_type1"), MODULE_CHANGING);
	CHECK_INT(host_module_state(ctx, "vfio_virqfd"), MODULE_ABSENT);
	CHECK_INT(host_module_state(ctx, "../../etc"), MODULE_ABSENT);
	/* No module index below the root: the version rule. */
	CHECK_INT(host_module_exists(ctx, "vfio_virqfd"), -ENOENT);
	CHECK_INT(host_vfio_modules(ctx, &a), 0);
	CHECK_INT(strv_length(a), 4);
	CHECK_STR(a[3], "vfio_virqfd");
	passthru_ctx_unref(ctx);

	put("proc/sys/kernel/osrelease", "6.2.0\n");
	ctx = ctx_new();
	CHECK_INT(host_vfio_modules(ctx, &b), 0);
	CHECK_INT(strv_length(b), 3);
	passthru_ctx_unref(ctx);

	put("proc/sys/kernel/osrelease", "garbage\n");
	ctx = ctx_new();
	{
		char **c = NULL;

		CHECK_INT(host_vfio_modules(ctx, &c), -EINVAL);
		CHECK(c == NULL);
	}
	passthru_ctx_unref(ctx);
}

static void test_iommu_and_pools(void)
{
	struct passthru_ctx *ctx;
	_cleanup_free_ struct hugepage_pool *p = NULL;
	_cleanup_strv_free_ char **units = NULL;
	unsigned groups = 99;
	size_t n = 0;

	wipe();
	put("sys/firmware/acpi/tables/DMAR1", "x");
	put("sys/firmware/acpi/tables/DMARX", "x");
	put("sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages", "4\n");
	put("sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages", "3\n");
	put("sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "zzz\n");
	put("sys/kernel/mm/hugepages/hugepages-oops/nr_hugepages", "1\n");
	put("sys/class/iommu", NULL);
	ctx = ctx_new();
	CHECK_INT(host_firmware_iommu(ctx), IOMMU_KIND_INTEL);
	CHECK_INT(host_iommu_units(ctx, &units), 0);
	CHECK(units == NULL);
	CHECK_INT(host_iommu_group_count(ctx, &groups), 0);
	CHECK_INT(groups, 0);
	CHECK_INT(host_hugepage_pools(ctx, &p, &n), 0);
	CHECK_INT(n, 2);
	CHECK(p[0].kib == 2048 && p[0].nr == 0);
	CHECK(p[1].kib == 1048576 && p[1].nr == 4 && p[1].free == 3);
	/* Without /proc/interrupts or a log saying so, no interrupt remapping. */
	CHECK(!host_interrupt_remapping(ctx, NULL));
	put("proc/interrupts", "  0:  44  IO-APIC  2-edge  timer\n 24: 0 DMAR-MSI 0-edge dmar0\n");
	CHECK(!host_interrupt_remapping(ctx, NULL));
	put("proc/interrupts", " 25: 0 IR-PCI-MSIX-0000:00:1f.6 0-edge eno1\n");
	CHECK(host_interrupt_remapping(ctx, NULL));
	passthru_ctx_unref(ctx);

	wipe();
	put("sys/firmware/acpi/tables/IVRS", "x");
	ctx = ctx_new();
	CHECK_INT(host_firmware_iommu(ctx), IOMMU_KIND_AMD);
	CHECK_INT(host_hugepage_pools(ctx, &p, &n), -ENOENT);
	passthru_ctx_unref(ctx);
}

/* ------------------------------------------------------------------------------------------ */
/* ACPI tables, built byte by byte */

struct blob {
	uint8_t b[512];
	size_t n;
};

static void blob_put(struct blob *t, const void *p, size_t n)
{
	if (t->n + n > sizeof(t->b))
		abort();
	memcpy(t->b + t->n, p, n);
	t->n += n;
}

static void blob_u8(struct blob *t, unsigned v)
{
	uint8_t b = (uint8_t)v;

	blob_put(t, &b, 1);
}

static void blob_u16(struct blob *t, unsigned v)
{
	blob_u8(t, v & 0xff);
	blob_u8(t, v >> 8);
}

static void blob_zeros(struct blob *t, size_t n)
{
	while (n--)
		blob_u8(t, 0);
}

/* The 36-byte header with the length left 0 (blob_finish sets it). */
static void blob_header(struct blob *t, const char *sig)
{
	t->n = 0;
	blob_put(t, sig, 4);
	blob_zeros(t, 4);
	blob_u8(t, 1); /* revision */
	blob_u8(t, 0); /* checksum */
	blob_put(t, "PTHRU FAKESYS \1\0\0\0PTHR\1\0\0\0", 26);
}

static void blob_finish(struct blob *t)
{
	t->b[4] = (uint8_t)t->n;
	t->b[5] = (uint8_t)(t->n >> 8);
	t->b[6] = t->b[7] = 0;
}

static void dmar(struct blob *t, unsigned flags)
{
	blob_header(t, "DMAR");
	blob_u8(t, 38); /* host address width - 1 */
	blob_u8(t, flags);
	blob_zeros(t, 10);
	/* A DRHD (type 0, 16 bytes) with no device scope. */
	blob_u16(t, 0);
	blob_u16(t, 16);
	blob_zeros(t, 12);
	blob_finish(t);
}

/* An IVRS up to its first block; IVHD blocks follow with ivhd_begin()/ivhd_end(). */
static void ivrs(struct blob *t)
{
	blob_header(t, "IVRS");
	blob_u8(t, 0x41); /* IVinfo: EFRSup, 40-bit virtual addresses */
	blob_zeros(t, 3 + 8);
}

static size_t ivhd_begin(struct blob *t, unsigned type)
{
	size_t start = t->n;

	blob_u8(t, type);
	blob_u8(t, 0xb0); /* flags: Coherent, IotlbSup... */
	blob_u16(t, 0);	  /* length, set by ivhd_end() */
	blob_u16(t, 0x0002);
	blob_zeros(t, (type == 0x10 ? 24 : 40) - 6);
	return start;
}

static void ivhd_end(struct blob *t, size_t start)
{
	t->b[start + 2] = (uint8_t)(t->n - start);
	t->b[start + 3] = (uint8_t)((t->n - start) >> 8);
}

/* A special device entry (48h): handle, the device id it uses, variety (1 IOAPIC, 2 HPET). */
static void ivhd_special(struct blob *t, unsigned handle, unsigned devid, unsigned variety)
{
	blob_u8(t, 0x48);
	blob_zeros(t, 2);
	blob_u8(t, 0xd7); /* DTE setting */
	blob_u8(t, handle);
	blob_u16(t, devid);
	blob_u8(t, variety);
}

static void test_acpi(void)
{
	struct blob t;
	size_t start;

	/* DMAR: bit 0 of the flags. */
	dmar(&t, 0x01);
	CHECK_INT(acpi_dmar_interrupt_remapping(t.b, t.n), 1);
	dmar(&t, 0x07);
	CHECK_INT(acpi_dmar_interrupt_remapping(t.b, t.n), 1);
	dmar(&t, 0x06); /* x2APIC opt-out, DMA control opt-in: no remapping */
	CHECK_INT(acpi_dmar_interrupt_remapping(t.b, t.n), 0);
	dmar(&t, 0x00);
	CHECK_INT(acpi_dmar_interrupt_remapping(t.b, t.n), 0);
	dmar(&t, 0x01);
	CHECK_INT(acpi_dmar_interrupt_remapping(t.b, 37), -EBADMSG);	  /* cut before the flags */
	CHECK_INT(acpi_dmar_interrupt_remapping(t.b, t.n - 1), -EBADMSG); /* length too long */
	t.b[4] = 37;
	CHECK_INT(acpi_dmar_interrupt_remapping(t.b, t.n), -EBADMSG); /* length too short */
	dmar(&t, 0x01);
	memcpy(t.b, "IVRS", 4);
	CHECK_INT(acpi_dmar_interrupt_remapping(t.b, t.n), -EBADMSG);
	CHECK_INT(acpi_dmar_interrupt_remapping(NULL, 0), -EBADMSG);

	/* IVRS, as QEMU's amd-iommu with intremap=on writes it: an IVHD 10h and an 11h, each
	 * with the southbridge IOAPIC. */
	ivrs(&t);
	start = ivhd_begin(&t, 0x10);
	blob_u8(&t, 0x01); /* select all */
	blob_zeros(&t, 3);
	ivhd_special(&t, 0, 0x00a0, 1);
	ivhd_end(&t, start);
	start = ivhd_begin(&t, 0x11);
	blob_u8(&t, 0x01);
	blob_zeros(&t, 3);
	ivhd_special(&t, 0, 0x00a0, 1);
	ivhd_end(&t, start);
	blob_finish(&t);
	CHECK_INT(acpi_ivrs_interrupt_remapping(t.b, t.n), 1);
	/* Cut inside the blocks: the table's length is beyond the data. */
	CHECK_INT(acpi_ivrs_interrupt_remapping(t.b, t.n - 1), -EBADMSG);

	/* Without the special entry (intremap=off): no remapping. */
	ivrs(&t);
	start = ivhd_begin(&t, 0x10);
	blob_u8(&t, 0x01);
	blob_zeros(&t, 3);
	ivhd_end(&t, start);
	blob_finish(&t);
	CHECK_INT(acpi_ivrs_interrupt_remapping(t.b, t.n), 0);

	/* An HPET, another IOAPIC and an ACPI HID entry before it; after an IVMD block; in a
	 * type 40h block. */
	ivrs(&t);
	blob_u8(&t, 0x21); /* IVMD, 32 bytes */
	blob_u8(&t, 0);
	blob_u16(&t, 32);
	blob_zeros(&t, 28);
	start = ivhd_begin(&t, 0x40);
	ivhd_special(&t, 0, 0x00a2, 2);
	ivhd_special(&t, 33, 0x0001, 1);
	blob_u8(&t, 0xf0); /* ACPI HID entry with a 3-byte UID */
	blob_zeros(&t, 20);
	blob_u8(&t, 3);
	blob_zeros(&t, 3);
	ivhd_special(&t, 32, 0x00a0, 1);
	ivhd_end(&t, start);
	blob_finish(&t);
	CHECK_INT(acpi_ivrs_interrupt_remapping(t.b, t.n), 1);

	/* The southbridge IOAPIC as an HPET, or in an IVMD block, does not count. */
	ivrs(&t);
	start = ivhd_begin(&t, 0x10);
	ivhd_special(&t, 0, 0x00a0, 2);
	ivhd_end(&t, start);
	start = t.n;
	blob_u8(&t, 0x20);
	blob_u8(&t, 0);
	blob_u16(&t, 0);
	blob_zeros(&t, 4);
	ivhd_special(&t, 0, 0x00a0, 1);
	ivhd_end(&t, start);
	blob_finish(&t);
	CHECK_INT(acpi_ivrs_interrupt_remapping(t.b, t.n), 0);

	/* An entry that runs past its block, a block that runs past the table, an unknown entry
	 * type: the walk stops there. */
	ivrs(&t);
	start = ivhd_begin(&t, 0x10);
	ivhd_special(&t, 0, 0x00a0, 1);
	ivhd_end(&t, start);
	t.b[start + 2] -= 1;
	blob_finish(&t);
	CHECK_INT(acpi_ivrs_interrupt_remapping(t.b, t.n), 0);
	ivrs(&t);
	start = ivhd_begin(&t, 0x10);
	ivhd_special(&t, 0, 0x00a0, 1);
	ivhd_end(&t, start);
	t.b[start + 2] += 1;
	blob_finish(&t);
	CHECK_INT(acpi_ivrs_interrupt_remapping(t.b, t.n), 0);
	ivrs(&t);
	start = ivhd_begin(&t, 0x10);
	blob_u8(&t, 0x85);
	blob_zeros(&t, 15);
	ivhd_special(&t, 0, 0x00a0, 1);
	ivhd_end(&t, start);
	blob_finish(&t);
	CHECK_INT(acpi_ivrs_interrupt_remapping(t.b, t.n), 0);

	/* Header only, or not an IVRS. */
	ivrs(&t);
	blob_finish(&t);
	CHECK_INT(acpi_ivrs_interrupt_remapping(t.b, t.n), 0);
	CHECK_INT(acpi_ivrs_interrupt_remapping(t.b, 40), -EBADMSG);
	memcpy(t.b, "DMAR", 4);
	CHECK_INT(acpi_ivrs_interrupt_remapping(t.b, t.n), -EBADMSG);
}

/* The tables QEMU writes for the vm suite's guests (tests/fixtures/acpi/README.md). */
static void test_acpi_qemu(void)
{
	static const struct {
		const char *file;
		int want;
	} tables[] = {
	    {"qemu-intel-iommu-intremap-on.DMAR", 1},
	    {"qemu-intel-iommu-intremap-off.DMAR", 0},
	    {"qemu-amd-iommu-intremap-on.IVRS", 1},
	    {"qemu-amd-iommu-intremap-off.IVRS", 0},
	};

	for (size_t i = 0; i < ELEMENTSOF(tables); i++) {
		_cleanup_free_ char *path = NULL;
		uint8_t buf[4096];
		size_t n;
		FILE *f;
		int r;

		CHECK(asprintf(&path, "%s/acpi/%s", getenv("FIXTURES"), tables[i].file) > 0);
		f = fopen(path, "rb");
		CHECK(f != NULL);
		if (!f)
			continue;
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		r = strstr(tables[i].file, ".DMAR") ? acpi_dmar_interrupt_remapping(buf, n)
						    : acpi_ivrs_interrupt_remapping(buf, n);
		if (r != tables[i].want) {
			fprintf(stderr, "%s: %d, expected %d\n", tables[i].file, r, tables[i].want);
			test_failures++;
		}
	}
}

static void test_snippets(void)
{
	size_t n;
	const struct param_req *reqs = host_iommu_params(IOMMU_KIND_INTEL, true, &n);
	struct passthru_ctx *ctx;
	char *error = NULL;

	wipe();
	put("etc/default/grub.d/10-ok.cfg",
	    "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT quiet intel_iommu=on\"\n");
	put("etc/default/grub.d/20-ignored.txt", "GRUB_CMDLINE_LINUX=\"x\"\n");
	ctx = ctx_new();
	CHECK_INT(host_grub_snippets_check(ctx, reqs, n, &error), 0);
	CHECK(error == NULL);
	put("etc/default/grub.d/30-bad.cfg", "# x\nGRUB_CMDLINE_LINUX_DEFAULT=\"iommu=soft\"\n");
	CHECK_INT(host_grub_snippets_check(ctx, reqs, n, &error), -EBADMSG);
	CHECK_STR(error, "/etc/default/grub.d/30-bad.cfg:2: GRUB_CMDLINE_LINUX_DEFAULT sets "
			 "iommu=soft, against iommu=pt");
	free(error);
	error = NULL;
	put("etc/default/grub.d/30-bad.cfg", "GRUB_CMDLINE_LINUX_DEFAULT=\"$(cat /x)\"\n");
	CHECK_INT(host_grub_snippets_check(ctx, reqs, n, &error), -EBADMSG);
	CHECK_STR(error, "/etc/default/grub.d/30-bad.cfg:1: GRUB_CMDLINE_LINUX_DEFAULT uses a "
			 "shell expansion ($)");
	free(error);
	passthru_ctx_unref(ctx);
}

int main(void)
{
	root = fixture_tmpdir();
	test_cpu();
	test_os_release();
	test_kmsg();
	test_small_parsers();
	test_acs();
	test_boot_info();
	test_boot_cmdlines();
	test_modules();
	test_iommu_and_pools();
	test_acpi();
	test_acpi_qemu();
	test_snippets();
	TEST_DONE();
}
