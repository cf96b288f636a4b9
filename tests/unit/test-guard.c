/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Guards against a fixture host (tests/fixtures/guard/host.json): every kind of guard, the
 * idle devices that have none, garbage in each /proc file, and the parsers on their own.
 */
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "guard.h"
#include "test-takeover-plan.h"
#include "fixture.h"
#include "test.h"

static void put(const char *root, const char *rel, const char *content, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	if (!f || fwrite(content, 1, len, f) != len) {
		perror(path);
		exit(1);
	}
	fclose(f);
}

static void put_str(const char *root, const char *rel, const char *content)
{
	put(root, rel, content, strlen(content));
}

static char *get(const char *root, const char *rel)
{
	char path[4096], *s = NULL;
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "r");
	if (!f || getdelim(&s, &n, '\0', f) < 0) {
		perror(path);
		exit(1);
	}
	fclose(f);
	return s;
}

static void make_dir(const char *root, const char *rel)
{
	char cmd[8192];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/%s'", root, rel);
	if (system(cmd) != 0)
		exit(1);
}

static void relink(const char *root, const char *rel, const char *target)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	unlink(path);
	if (symlink(target, path) < 0) {
		perror(path);
		exit(1);
	}
}

static struct passthru_ctx *ctx_new(const char *root)
{
	struct passthru_ctx *ctx = NULL;

	if (passthru_ctx_new(root, &ctx) < 0) {
		fprintf(stderr, "cannot make a context for %s\n", root);
		exit(1);
	}
	/* Malformed lines are logged at LOG_ERR; keep the test's output for failures. */
	passthru_ctx_set_log_priority(ctx, LOG_CRIT);
	return ctx;
}

/* "kind|resource|reason|hint" per guard, one a line. */
static char *dump(const struct passthru_guard_list *list)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	for (size_t i = 0; i < passthru_guard_list_count(list); i++) {
		const char *hint = passthru_guard_list_get_hint(list, i);

		fprintf(f, "%s|%s|%s|%s\n",
			passthru_guard_kind_to_string(passthru_guard_list_get_kind(list, i)),
			passthru_guard_list_get_resource(list, i),
			passthru_guard_list_get_reason(list, i), hint ? hint : "-");
	}
	fclose(f);
	return s;
}

#define CHECK_GUARDS(ctx, address, expected)                                                       \
	do {                                                                                       \
		struct passthru_guard_list *_l = NULL;                                             \
		int _r = passthru_guard_check_pci(ctx, address, &_l);                              \
		CHECK_INT(_r, 0);                                                                  \
		if (_r >= 0) {                                                                     \
			char *_d = dump(_l);                                                       \
			CHECK_STR(_d, expected);                                                   \
			free(_d);                                                                  \
		}                                                                                  \
		passthru_guard_list_unref(_l);                                                     \
	} while (0)

#define CHECK_PCI_FAILS(ctx, address, error)                                                       \
	do {                                                                                       \
		struct passthru_guard_list *_l = NULL;                                             \
		CHECK_INT(passthru_guard_check_pci(ctx, address, &_l), error);                     \
		CHECK(_l == NULL);                                                                 \
	} while (0)

/*
 * The guards of the fixture's NVMe controller 0000:00:03.0: a partition, a swap file on it, LVM
 * on a partition (a mounted LV, a swap LV), plain swap.
 */
static const char nvme_guards[] =
    "mount|nvme0n1p1|/ is mounted from nvme0n1p1|umount /\n"
    "swap|nvme0n1p1|swap file /swapfile is active on nvme0n1p1|swapoff /swapfile\n"
    "mount|nvme0n1p2|/srv/my data is mounted from vg0-data (dm-0) on nvme0n1p2|umount '/srv/my "
    "data'\n"
    "holder|nvme0n1p2|nvme0n1p2 is held by dm-0 (vg0-data)|vgchange -an vg0\n"
    "swap|nvme0n1p2|swap is active on vg0-swap (dm-1) on nvme0n1p2|swapoff /dev/dm-1\n"
    "holder|nvme0n1p2|nvme0n1p2 is held by dm-1 (vg0-swap)|vgchange -an vg0\n"
    "swap|nvme0n1p3|swap is active on nvme0n1p3|swapoff /dev/nvme0n1p3\n";

static void test_storage(struct passthru_ctx *ctx)
{
	CHECK_GUARDS(ctx, "0000:00:03.0", nvme_guards);

	/* The short address form works the same. */
	CHECK_GUARDS(ctx, "00:03.0", nvme_guards);

	/* NVMe multipath: the disk is below the subsystem; btrfs has an anonymous number. */
	CHECK_GUARDS(ctx, "0000:00:04.0",
		     "mount|nvme1n1|/srv/btrfs is mounted from nvme1n1|umount /srv/btrfs\n");
	/* The second device of a two-device btrfs whose mount names the first. */
	CHECK_GUARDS(ctx, "0000:00:0e.0",
		     "mount|nvme3n1|/srv/btrfs is mounted from a btrfs filesystem that spans "
		     "nvme3n1|umount /srv/btrfs\n");
	/* SATA: a member of an MD array that is mounted. */
	CHECK_GUARDS(ctx, "0000:00:1f.2",
		     "mount|sda1|/data is mounted from md0 on sda1|umount /data\n"
		     "holder|sda1|sda1 is held by md0 (MD RAID)|mdadm --stop /dev/md0\n");
	/* An idle NVMe. */
	CHECK_GUARDS(ctx, "0000:00:05.0", "");
}

static void test_network(struct passthru_ctx *ctx)
{
	CHECK_GUARDS(ctx, "0000:00:02.0",
		     "route|eth0|eth0 carries the default route via 10.0.2.2|ip route del default "
		     "dev eth0\n"
		     "route|eth0|eth0 carries the IPv6 default route via fe80::2|ip -6 route del "
		     "default dev eth0\n"
		     "address|eth0|eth0 has the host address 2001:db8::15/64|ip addr del "
		     "2001:db8::15/64 dev eth0\n"
		     "address|eth0|eth0 has the host address 10.0.2.15/24|ip addr del 10.0.2.15/24 "
		     "dev eth0\n");
	/* Up, with only the link-local address every interface gets. */
	CHECK_GUARDS(ctx, "0000:00:06.0", "");
	CHECK_GUARDS(ctx, "0000:00:08.0",
		     "upper|eth2|eth2 is a slave of bond bond0, which has the host address "
		     "192.168.1.5/24|ip link set eth2 nomaster\n");
	/* Two levels up: the bridge has nothing, the VLAN on it has. */
	CHECK_GUARDS(
	    ctx, "0000:00:09.0",
	    "upper|eth3|eth3 is a port of bridge br0, under vlan br0.10, which carries the "
	    "IPv6 default route via fe80::1|ip link set eth3 nomaster\n"
	    "upper|eth3|eth3 is a port of bridge br0, under vlan br0.10, which has the host "
	    "address 2001:db8:10::1/64|ip link set eth3 nomaster\n");
}

static void test_console_and_vfs(struct passthru_ctx *ctx)
{
	CHECK_GUARDS(ctx, "0000:01:00.0",
		     "console|vtcon1|the boot VGA drives the host console: vtcon1 (frame buffer "
		     "device) is bound to fb0 (bochs-drmdrmfb) on it|echo 0 > "
		     "/sys/class/vtconsole/vtcon1/bind\n");
	/* Not the boot VGA, although it has a framebuffer. */
	CHECK_GUARDS(ctx, "0000:00:0d.0", "");
	/* The root port above the boot VGA is no VGA itself. */
	CHECK_GUARDS(ctx, "0000:00:07.0", "");
	/* A PCI UART card whose port is a console. */
	CHECK_GUARDS(ctx, "0000:00:0c.0",
		     "console|ttyS4|ttyS4 is a host console|boot without console=ttyS4 on the "
		     "kernel command line\n");
	/* A PF with one VF on vfio-pci and one without a driver. */
	CHECK_GUARDS(
	    ctx, "0000:00:0a.0",
	    "vfs-in-use|0000:00:1a.0|VF 0000:00:1a.0 is bound to vfio-pci; taking the PF "
	    "would remove it|echo 0 > /sys/bus/pci/devices/0000:00:0a.0/sriov_numvfs, once "
	    "nothing uses its VFs\n");
	/* A PF whose only VF has no driver; the VF itself. */
	CHECK_GUARDS(ctx, "0000:00:0b.0", "");
	CHECK_GUARDS(ctx, "0000:00:1a.0", "");

	CHECK_PCI_FAILS(ctx, "0000:00:1e.0", -ENODEV);
	CHECK_PCI_FAILS(ctx, "0000:00:03", -EINVAL);
	CHECK_PCI_FAILS(ctx, NULL, -EINVAL);
}

static void test_serial(struct passthru_ctx *ctx)
{
	struct passthru_guard_list *l = NULL;
	char *d;

	CHECK_INT(passthru_guard_check_serial(ctx, "/dev/ttyS0", &l), 0);
	d = dump(l);
	CHECK_STR(d, "console|ttyS0|ttyS0 is a host console|boot without console=ttyS0 on the "
		     "kernel command line\n");
	free(d);
	l = passthru_guard_list_unref(l);

	CHECK_INT(passthru_guard_check_serial(ctx, "ttyS1", &l), 0);
	CHECK_INT(passthru_guard_list_count(l), 0);
	l = passthru_guard_list_unref(l);

	/* A phantom port and a port that does not exist. */
	CHECK_INT(passthru_guard_check_serial(ctx, "ttyS3", &l), -ENODEV);
	CHECK_INT(passthru_guard_check_serial(ctx, "ttyS9", &l), -ENODEV);
	CHECK_INT(passthru_guard_check_serial(ctx, "../ttyS0", &l), -EINVAL);
	CHECK(l == NULL);
}

static void test_list_getters(struct passthru_ctx *ctx)
{
	struct passthru_guard_list *l = NULL;

	CHECK_INT(passthru_guard_check_pci(ctx, "0000:00:05.0", &l), 0);
	CHECK_INT(passthru_guard_list_count(l), 0);
	CHECK_INT((int)passthru_guard_list_get_kind(l, 0), -EINVAL);
	CHECK(passthru_guard_list_get_reason(l, 0) == NULL);
	CHECK(passthru_guard_list_get_resource(l, 0) == NULL);
	CHECK(passthru_guard_list_get_hint(l, 0) == NULL);
	CHECK(passthru_guard_list_ref(l) == l);
	CHECK(passthru_guard_list_unref(l) == NULL);
	CHECK(passthru_guard_list_unref(l) == NULL);
	CHECK(passthru_guard_list_unref(NULL) == NULL);

	CHECK_STR(passthru_guard_kind_to_string(PASSTHRU_GUARD_MOUNT), "mount");
	CHECK_STR(passthru_guard_kind_to_string(PASSTHRU_GUARD_VFS_IN_USE), "vfs-in-use");
	CHECK_STR(passthru_guard_kind_to_string(PASSTHRU_GUARD_UNREADABLE), "unreadable");
	CHECK(passthru_guard_kind_to_string((enum passthru_guard_kind)42) == NULL);
	CHECK(passthru_guard_kind_to_string((enum passthru_guard_kind) - 1) == NULL);
}

/* The evidence for the boot VGA: the text console, a firmware framebuffer. */
static void test_console_variants(const char *root)
{
	struct passthru_ctx *ctx;

	put_str(root, "sys/devices/virtual/vtconsole/vtcon0/name", "(S) VGA+\n");
	put_str(root, "sys/devices/virtual/vtconsole/vtcon0/bind", "1\n");
	put_str(root, "sys/devices/virtual/vtconsole/vtcon1/bind", "0\n");
	ctx = ctx_new(root);
	/*
	 * vgacon, the kernel's boot console driver ("(S)"): the kernel ignores a write of 0 to
	 * its bind attribute, so the hint must not offer one.
	 */
	CHECK_GUARDS(
	    ctx, "0000:01:00.0",
	    "console|vtcon0|the boot VGA drives the host console: vtcon0 (VGA+) is "
	    "bound|vtcon0 (VGA+) is built into the kernel and cannot be unbound; vfio-pci "
	    "replaces it with the dummy console when it takes the device (Linux 6.0 and later): "
	    "bind with --force if the host can do without this screen until the next boot\n"
	    "console|fb0|the boot VGA has framebuffer fb0 (bochs-drmdrmfb), which the host "
	    "may draw on|-\n");
	passthru_ctx_unref(ctx);
	/*
	 * vfio-pci removes the console drivers on the device it takes only from Linux 6.0 on
	 * ("vfio/pci: Remove console drivers"): before, vgacon stays, and the hint must not
	 * promise the dummy console.
	 */
	put_str(root, "proc/sys/kernel/osrelease", "5.15.0-91-generic\n");
	ctx = ctx_new(root);
	CHECK_GUARDS(
	    ctx, "0000:01:00.0",
	    "console|vtcon0|the boot VGA drives the host console: vtcon0 (VGA+) is "
	    "bound|vtcon0 (VGA+) is built into the kernel and cannot be unbound, and vfio-pci "
	    "removes it only from Linux 6.0 on (this kernel is 5.15.0-91-generic): make another "
	    "display adapter the primary one in the firmware setup, or bind with --force if the "
	    "host console may go on writing to this device\n"
	    "console|fb0|the boot VGA has framebuffer fb0 (bochs-drmdrmfb), which the host "
	    "may draw on|-\n");
	passthru_ctx_unref(ctx);
	put_str(root, "proc/sys/kernel/osrelease", "6.0.0\n");
	ctx = ctx_new(root);
	CHECK_GUARDS(
	    ctx, "0000:01:00.0",
	    "console|vtcon0|the boot VGA drives the host console: vtcon0 (VGA+) is "
	    "bound|vtcon0 (VGA+) is built into the kernel and cannot be unbound; vfio-pci "
	    "replaces it with the dummy console when it takes the device (Linux 6.0 and "
	    "later): bind with --force if the host can do without this screen until the "
	    "next boot\n"
	    "console|fb0|the boot VGA has framebuffer fb0 (bochs-drmdrmfb), which the host "
	    "may draw on|-\n");
	passthru_ctx_unref(ctx);
	put_str(root, "proc/sys/kernel/osrelease", "6.1.0-18-amd64\n");

	/* efifb on a platform device, fbcon on it; the DRM framebuffer gone. */
	put_str(root, "sys/devices/virtual/vtconsole/vtcon0/name", "(S) dummy device\n");
	put_str(root, "sys/devices/virtual/vtconsole/vtcon0/bind", "0\n");
	put_str(root, "sys/devices/virtual/vtconsole/vtcon1/bind", "1\n");
	make_dir(root, "sys/devices/platform/efi-framebuffer.0/graphics/fb0");
	put_str(root, "sys/devices/platform/efi-framebuffer.0/graphics/fb0/name", "EFI VGA\n");
	relink(root, "sys/class/graphics/fb0",
	       "../../devices/platform/efi-framebuffer.0/graphics/fb0");
	ctx = ctx_new(root);
	CHECK_GUARDS(ctx, "0000:01:00.0",
		     "console|vtcon1|the boot VGA drives the host console: vtcon1 (frame buffer "
		     "device) is bound to fb0 (EFI VGA), the firmware's framebuffer on it|echo 0 > "
		     "/sys/class/vtconsole/vtcon1/bind\n");
	CHECK_GUARDS(ctx, "0000:00:0d.0", "");
	passthru_ctx_unref(ctx);

	/* Garbage in boot_vga counts as "maybe": the console decides. */
	put_str(root, "sys/devices/pci0000:00/0000:00:0d.0/boot_vga", "zzz\n");
	put_str(root, "sys/devices/virtual/vtconsole/vtcon1/bind", "0\n");
	ctx = ctx_new(root);
	CHECK_GUARDS(ctx, "0000:00:0d.0",
		     "console|fb1|the boot VGA has framebuffer fb1 (amdgpudrmfb), which the host "
		     "may draw on|-\n");
	passthru_ctx_unref(ctx);
}

/* One "unreadable" guard line for path on resource, with the cause. */
static char *unreadable_line(const char *resource, const char *path, const char *cause)
{
	char *s;

	if (asprintf(&s,
		     "unreadable|%s|cannot read %s (%s): cannot tell what the host uses on %s|-\n",
		     resource, path, cause, resource) < 0)
		exit(1);
	return s;
}

/* True when the check of address lists line among its guards. */
static bool guards_have(struct passthru_ctx *ctx, const char *address, const char *line)
{
	struct passthru_guard_list *l = NULL;
	char *d;
	bool found;

	if (passthru_guard_check_pci(ctx, address, &l) < 0)
		return false;
	d = dump(l);
	found = strstr(d, line) != NULL;
	if (!found)
		fprintf(stderr, "no \"%s\" in:\n%s", line, d);
	free(d);
	passthru_guard_list_unref(l);
	return found;
}

static void remove_file(const char *root, const char *rel)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	CHECK(unlink(path) == 0);
}

/*
 * Replaces a /proc file with bad content: the check fails closed, naming the file, then the
 * file goes back.
 */
static void check_garbage(const char *root, const char *rel, const char *content, size_t len,
			  const char *address, const char *resource)
{
	char *saved = get(root, rel), *path = NULL, *line;
	struct passthru_ctx *ctx;

	if (asprintf(&path, "/%s", rel) < 0)
		exit(1);
	line = unreadable_line(resource, path, "malformed");
	put(root, rel, content, len);
	ctx = ctx_new(root);
	CHECK(guards_have(ctx, address, line));
	passthru_ctx_unref(ctx);
	put_str(root, rel, saved);
	free(saved);
	free(path);
	free(line);
}

static void test_garbage(const char *root)
{
	struct passthru_ctx *ctx;
	char *saved;

	check_garbage(root, "proc/self/mountinfo", "zzz\n", 4, "0000:00:03.0", "nvme0n1");
	check_garbage(root, "proc/self/mountinfo", "1 0 259:1 / / rw - ext4\n", 24, "0000:00:03.0",
		      "nvme0n1");
	check_garbage(root, "proc/self/mountinfo", "1 0 259:1 / / rw\0 - ext4 /dev/x rw\n", 34,
		      "0000:00:03.0", "nvme0n1");
	check_garbage(root, "proc/swaps",
		      "Filename Type Size Used Priority\n/dev/sda1 disk 1 0 -2\n", 56,
		      "0000:00:03.0", "nvme0n1");
	check_garbage(root, "proc/net/route", "Iface\tDestination\neth0\tzzz\n", 27, "0000:00:02.0",
		      "eth0");
	check_garbage(root, "proc/net/ipv6_route", "00 00 eth0\n", 11, "0000:00:02.0", "eth0");
	check_garbage(root, "proc/net/if_inet6", "fe80::1 02 40 20 80 eth0\n", 25, "0000:00:02.0",
		      "eth0");
	check_garbage(root, "proc/net/if_inet4", "0a00020f 02 99 00 80 eth0\n", 26, "0000:00:02.0",
		      "eth0");

	/* A broken mount table is no reason to refuse a NIC: it is not even read. */
	saved = get(root, "proc/self/mountinfo");
	put_str(root, "proc/self/mountinfo", "zzz\n");
	ctx = ctx_new(root);
	CHECK_GUARDS(ctx, "0000:00:06.0", "");
	passthru_ctx_unref(ctx);
	put_str(root, "proc/self/mountinfo", saved);
	free(saved);
}

/*
 * A table a guard needs that cannot be read refuses, naming the file and the cause; it is
 * never taken as empty. The rest is still said.
 */
static void test_unreadable(const char *root)
{
	char *mountinfo = get(root, "proc/self/mountinfo"), *swaps = get(root, "proc/swaps");
	char *route = get(root, "proc/net/route"), *ipv6_route = get(root, "proc/net/ipv6_route");
	char *if_inet6 = get(root, "proc/net/if_inet6");
	struct passthru_ctx *ctx;

	/* No swaps: the rest of the storage guards, and the refusal. */
	remove_file(root, "proc/swaps");
	ctx = ctx_new(root);
	CHECK_GUARDS(ctx, "0000:00:03.0",
		     "unreadable|nvme0n1|cannot read /proc/swaps (No such file or directory): "
		     "cannot tell what the host uses on nvme0n1|-\n"
		     "mount|nvme0n1p1|/ is mounted from nvme0n1p1|umount /\n"
		     "mount|nvme0n1p2|/srv/my data is mounted from vg0-data (dm-0) on "
		     "nvme0n1p2|umount '/srv/my data'\n"
		     "holder|nvme0n1p2|nvme0n1p2 is held by dm-0 (vg0-data)|vgchange -an vg0\n"
		     "holder|nvme0n1p2|nvme0n1p2 is held by dm-1 (vg0-swap)|vgchange -an vg0\n");
	/* A device without disks reads no /proc file. */
	CHECK_GUARDS(ctx, "0000:00:06.0", "");
	passthru_ctx_unref(ctx);
	put_str(root, "proc/swaps", swaps);

	/* No mountinfo and no /proc/mounts: the controller that holds / is refused. */
	remove_file(root, "proc/self/mountinfo");
	ctx = ctx_new(root);
	CHECK_GUARDS(ctx, "0000:00:1f.2",
		     "unreadable|sda|cannot read /proc/self/mountinfo (No such file or directory): "
		     "cannot tell what the host uses on sda|-\n"
		     "holder|sda1|sda1 is held by md0 (MD RAID)|mdadm --stop /dev/md0\n");
	CHECK(guards_have(ctx, "0000:00:03.0",
			  "unreadable|nvme0n1|cannot read /proc/self/mountinfo (No such file or "
			  "directory): cannot tell what the host uses on nvme0n1|-\n"));
	passthru_ctx_unref(ctx);

	/* /proc/mounts stands in: mounts known by their sources' names. */
	put_str(root, "proc/mounts",
		"/dev/nvme0n1p1 / ext4 rw,relatime,errors=remount-ro 0 0\n"
		"proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
		"/dev/mapper/vg0-data /srv/my\\040data xfs rw,relatime 0 0\n"
		"/dev/md0 /data ext4 rw,relatime 0 0\n");
	ctx = ctx_new(root);
	CHECK_GUARDS(ctx, "0000:00:03.0", nvme_guards); /* as from mountinfo */

	CHECK_GUARDS(ctx, "0000:00:1f.2",
		     "mount|sda1|/data is mounted from md0 on sda1|umount /data\n"
		     "holder|sda1|sda1 is held by md0 (MD RAID)|mdadm --stop /dev/md0\n");
	CHECK_GUARDS(ctx, "0000:00:05.0", "");
	passthru_ctx_unref(ctx);

	/*
	 * The machine of the report: / from /dev/root, the kernel's own name for the root it
	 * mounted, which names no block device: any controller with disks is refused.
	 */
	put_str(root, "proc/mounts",
		"/dev/root / ext4 rw,relatime 0 0\nproc /proc proc rw,relatime 0 0\n");
	ctx = ctx_new(root);
	CHECK_GUARDS(ctx, "0000:00:03.0",
		     "unreadable|nvme0n1|cannot tell which disk / is mounted from: /proc/mounts "
		     "names /dev/root, no block device here, and /proc/self/mountinfo, which has "
		     "the device numbers, cannot be read|-\n"
		     "holder|nvme0n1p2|nvme0n1p2 is held by dm-0 (vg0-data)|vgchange -an vg0\n"
		     "swap|nvme0n1p2|swap is active on vg0-swap (dm-1) on nvme0n1p2|swapoff "
		     "/dev/dm-1\n"
		     "holder|nvme0n1p2|nvme0n1p2 is held by dm-1 (vg0-swap)|vgchange -an vg0\n"
		     "swap|nvme0n1p3|swap is active on nvme0n1p3|swapoff /dev/nvme0n1p3\n");
	CHECK_GUARDS(ctx, "0000:00:06.0", "");
	passthru_ctx_unref(ctx);
	remove_file(root, "proc/mounts");
	put_str(root, "proc/self/mountinfo", mountinfo);

	/* No routes: the NIC is refused, and its addresses are still said. */
	remove_file(root, "proc/net/route");
	ctx = ctx_new(root);
	CHECK_GUARDS(ctx, "0000:00:02.0",
		     "unreadable|eth0|cannot read /proc/net/route (No such file or directory): "
		     "cannot tell what the host uses on eth0|-\n"
		     "route|eth0|eth0 carries the IPv6 default route via fe80::2|ip -6 route del "
		     "default dev eth0\n"
		     "address|eth0|eth0 has the host address 2001:db8::15/64|ip addr del "
		     "2001:db8::15/64 dev eth0\n"
		     "address|eth0|eth0 has the host address 10.0.2.15/24|ip addr del 10.0.2.15/24 "
		     "dev eth0\n");
	passthru_ctx_unref(ctx);
	put_str(root, "proc/net/route", route);

	/* No IPv6 files: the kernel has no IPv6 (no /proc/sys/net/ipv6), nothing to refuse. */
	remove_file(root, "proc/net/ipv6_route");
	remove_file(root, "proc/net/if_inet6");
	ctx = ctx_new(root);
	CHECK_GUARDS(ctx, "0000:00:02.0",
		     "route|eth0|eth0 carries the default route via 10.0.2.2|ip route del default "
		     "dev eth0\n"
		     "address|eth0|eth0 has the host address 10.0.2.15/24|ip addr del 10.0.2.15/24 "
		     "dev eth0\n");
	passthru_ctx_unref(ctx);
	/* ...but with IPv6 in the kernel, a missing file is unreadable. */
	make_dir(root, "proc/sys/net/ipv6");
	ctx = ctx_new(root);
	CHECK(guards_have(ctx, "0000:00:02.0",
			  "unreadable|eth0|cannot read /proc/net/ipv6_route (No such file or "
			  "directory): cannot tell what the host uses on eth0|-\n"));
	passthru_ctx_unref(ctx);
	{
		char cmd[8192];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s/proc/sys/net'", root);
		CHECK(system(cmd) == 0);
	}
	put_str(root, "proc/net/ipv6_route", ipv6_route);
	put_str(root, "proc/net/if_inet6", if_inet6);

	free(mountinfo);
	free(swaps);
	free(route);
	free(ipv6_route);
	free(if_inet6);
}

/*
 * Trees captured from the test guests (tests/vm/captured, after guest-sriov.sh): every
 * function checks cleanly; the NVMe PF, whose first VF is on vfio-pci, is the only one guarded
 * (the captures hold no /proc/self/mountinfo, no network and no vtconsoles).
 */
static void test_captured(const char *name)
{
	char root[4096], devices[4200];
	struct passthru_ctx *ctx;
	DIR *d;
	struct dirent *de;
	int functions = 0;

	snprintf(root, sizeof(root), "%s/../vm/captured/%s", fixture_env("FIXTURES"), name);
	snprintf(devices, sizeof(devices), "%s/sys/bus/pci/devices", root);
	ctx = ctx_new(root);
	d = opendir(devices);
	CHECK(d != NULL);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		functions++;
		if (strcmp(de->d_name, "0000:00:03.0") == 0)
			CHECK_GUARDS(
			    ctx, de->d_name,
			    "vfs-in-use|0000:00:03.1|VF 0000:00:03.1 is bound to vfio-pci; "
			    "taking the PF would remove it|echo 0 > "
			    "/sys/bus/pci/devices/0000:00:03.0/sriov_numvfs, once nothing "
			    "uses its VFs\n");
		else
			CHECK_GUARDS(ctx, de->d_name, "");
	}
	if (d)
		closedir(d);
	/* q35's functions, the test devices and four VFs. */
	CHECK(functions >= 16);
	passthru_ctx_unref(ctx);
}

/* ------------------------------------------------------------------------------------------ */
/* Parsers and helpers                                                                        */

static void test_unescape(void)
{
	char *s = NULL;

	CHECK_INT(unescape_octal("/srv/my\\040data", 15, &s), 0);
	CHECK_STR(s, "/srv/my data");
	free(s);
	CHECK_INT(unescape_octal("a\\134b", 6, &s), 0);
	CHECK_STR(s, "a\\b");
	free(s);
	CHECK_INT(unescape_octal("a\\04", 4, &s), -EBADMSG);
	CHECK_INT(unescape_octal("a\\000", 5, &s), -EBADMSG);
	CHECK_INT(unescape_octal("a\\400", 5, &s), -EBADMSG);
	CHECK_INT(unescape_octal("a\\08x", 5, &s), -EBADMSG);
}

static void test_mountinfo_parser(void)
{
	struct mount_table t = {0};
	size_t bad = 0;

	CHECK_INT(
	    mountinfo_parse("36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 shared:2 - ext3 "
			    "/dev/root rw,errors=continue\n"
			    "\n"
			    "37 36 0:45 / /a\\040b rw - btrfs /dev/sd\\040x\n",
			    &t, &bad),
	    0);
	CHECK_INT(t.n, 2);
	if (t.n == 2) {
		CHECK_INT(t.v[0].major, 98);
		CHECK_INT(t.v[0].minor, 0);
		CHECK_STR(t.v[0].mount_point, "/mnt/parent");
		CHECK_STR(t.v[0].fstype, "ext3");
		CHECK_STR(t.v[0].source, "/dev/root");
		CHECK_STR(t.v[1].mount_point, "/a b");
		CHECK_STR(t.v[1].source, "/dev/sd x");
	}
	mount_table_done(&t);

	CHECK_INT(mountinfo_parse("", &t, &bad), 0);
	CHECK_INT(t.n, 0);

	bad = 0;
	CHECK_INT(mountinfo_parse("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
				  "2 1 8:x / /b rw - ext4 /dev/sda2 rw\n",
				  &t, &bad),
		  -EBADMSG);
	CHECK_INT(bad, 2);
	CHECK_INT(t.n, 0);
	/* No separator; separator among the first six fields; too many after it. */
	CHECK_INT(mountinfo_parse("1 0 8:1 / / rw ext4 /dev/sda1 rw\n", &t, &bad), -EBADMSG);
	CHECK_INT(mountinfo_parse("1 0 8:1 / - rw ext4 /dev/sda1 rw\n", &t, &bad), -EBADMSG);
	CHECK_INT(mountinfo_parse("1 0 8:1 / / rw - ext4 /dev/sda1 rw x\n", &t, &bad), -EBADMSG);
	/* Double blank, relative mount point, minor out of range, signed id. */
	CHECK_INT(mountinfo_parse("1  0 8:1 / / rw - ext4 /dev/sda1 rw\n", &t, &bad), -EBADMSG);
	CHECK_INT(mountinfo_parse("1 0 8:1 / mnt rw - ext4 /dev/sda1 rw\n", &t, &bad), -EBADMSG);
	CHECK_INT(mountinfo_parse("1 0 8:1048576 / / rw - ext4 /dev/sda1 rw\n", &t, &bad),
		  -EBADMSG);
	CHECK_INT(mountinfo_parse("-1 0 8:1 / / rw - ext4 /dev/sda1 rw\n", &t, &bad), -EBADMSG);
}

static void test_swaps_parser(void)
{
	struct swap_table t = {0};
	size_t bad = 0;

	CHECK_INT(swaps_parse("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n", &t, &bad), 0);
	CHECK_INT(t.n, 0);
	CHECK_INT(swaps_parse("Filename Type Size Used Priority\n"
			      "/dev/dm-1   partition\t100\t0\t-2\n"
			      "/swap\\040file   file\t100\t0\t5\n",
			      &t, &bad),
		  0);
	CHECK_INT(t.n, 2);
	if (t.n == 2) {
		CHECK_STR(t.v[0].path, "/dev/dm-1");
		CHECK(!t.v[0].is_file);
		CHECK_STR(t.v[1].path, "/swap file");
		CHECK(t.v[1].is_file);
	}
	swap_table_done(&t);
	CHECK_INT(swaps_parse("Filename\n/dev/sda1 partition 100 0\n", &t, &bad), -EBADMSG);
	CHECK_INT(bad, 2);
	CHECK_INT(swaps_parse("/dev/sda1 partition 100 -1 0\n", &t, &bad), -EBADMSG);
	CHECK_INT(swaps_parse("dev/sda1 partition 100 0 0\n", &t, &bad), -EBADMSG);
	/* The header only counts as one on the first line. */
	CHECK_INT(
	    swaps_parse("/dev/sda1 partition 1 0 0\nFilename Type Size Used Priority\n", &t, &bad),
	    -EBADMSG);
}

static void test_route_parsers(void)
{
	struct route_table t = {0};
	size_t bad = 0;
	char text[INET6_ADDRSTRLEN];

	CHECK_INT(proc_net_route_parse(
		      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\t"
		      "Window\tIRTT\n"
		      "eth0\t00000000\t0202000A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
		      "eth0\t0002000A\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n"
		      "wg0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n"
		      "eth1\t00000000\t0102000A\t0002\t0\t0\t0\t00000000\t0\t0\t0\n"
		      "eth2\t00000000\t00000000\t0201\t0\t0\t0\t00000000\t0\t0\t0\n",
		      &t, &bad),
		  0);
	/* eth1's route is not up, eth2's is a reject route. */
	CHECK_INT(t.n, 2);
	if (t.n == 2) {
		CHECK_STR(t.v[0].ifname, "eth0");
		CHECK(t.v[0].has_gateway);
		CHECK_STR(inet_ntop(AF_INET, t.v[0].gateway, text, sizeof(text)), "10.0.2.2");
		CHECK_STR(t.v[1].ifname, "wg0");
		CHECK(!t.v[1].has_gateway);
	}
	route_table_done(&t);
	CHECK_INT(
	    proc_net_route_parse("eth0\t00000000\t0202000A\t0003\t0\t0\t100\t00000000\n", &t, &bad),
	    -EBADMSG);
	CHECK_INT(bad, 1);
	CHECK_INT(proc_net_route_parse("eth0\t0x000000\t0202000A\t0003\t0\t0\t100\t00000000\t0\t0\t"
				       "0\n",
				       &t, &bad),
		  -EBADMSG);
	route_table_done(&t);

	CHECK_INT(proc_net_ipv6_route_parse(
		      "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
		      "fe800000000000000000000000000002 00000400 00000001 00000000 00450003     "
		      "eth0\n"
		      "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
		      "00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       "
		      "lo\n"
		      "20010db8000000000000000000000000 40 00000000000000000000000000000000 00 "
		      "00000000000000000000000000000000 00000100 00000001 00000000 00000001     "
		      "eth0\n",
		      &t, &bad),
		  0);
	CHECK_INT(t.n, 1);
	if (t.n == 1) {
		CHECK_STR(t.v[0].ifname, "eth0");
		CHECK_STR(inet_ntop(AF_INET6, t.v[0].gateway, text, sizeof(text)), "fe80::2");
	}
	route_table_done(&t);
	/* A short address; a prefix length over 128. */
	CHECK_INT(proc_net_ipv6_route_parse("0000 00 00000000000000000000000000000000 00 "
					    "00000000000000000000000000000000 00000400 00000001 "
					    "00000000 00450003 eth0\n",
					    &t, &bad),
		  -EBADMSG);
	CHECK_INT(proc_net_ipv6_route_parse("00000000000000000000000000000000 81 "
					    "00000000000000000000000000000000 00 "
					    "00000000000000000000000000000000 00000400 00000001 "
					    "00000000 00450003 eth0\n",
					    &t, &bad),
		  -EBADMSG);
	route_table_done(&t);
}

static void test_addr_parsers(void)
{
	struct addr_table t = {0};
	size_t bad = 0;
	char text[INET6_ADDRSTRLEN];

	CHECK_INT(proc_net_if_inet_parse("00000000000000000000000000000001 01 80 10 80       lo\n"
					 "fe80000000000000505400fffe123456 1a2 40 20 80 "
					 "enp0s31f6\n",
					 AF_INET6, &t, &bad),
		  0);
	CHECK_INT(t.n, 2);
	if (t.n == 2) {
		CHECK_STR(t.v[1].ifname, "enp0s31f6");
		CHECK_INT(t.v[1].ifindex, 0x1a2);
		CHECK_INT(t.v[1].prefixlen, 64);
		CHECK_INT(t.v[1].scope, 0x20);
		CHECK_STR(inet_ntop(AF_INET6, t.v[1].address, text, sizeof(text)),
			  "fe80::5054:ff:fe12:3456");
	}
	CHECK_INT(proc_net_if_inet_parse("0a00020f 02 18 00 80 eth0\n", AF_INET, &t, &bad), 0);
	CHECK_INT(t.n, 3);
	if (t.n == 3)
		CHECK_STR(inet_ntop(AF_INET, t.v[2].address, text, sizeof(text)), "10.0.2.15");
	addr_table_done(&t);

	CHECK_INT(proc_net_if_inet_parse("0a00020f 02 18 00 80 eth0\n", AF_INET6, &t, &bad),
		  -EBADMSG);
	CHECK_INT(proc_net_if_inet_parse("0a00020f 02 21 00 80 eth0\n", AF_INET, &t, &bad),
		  -EBADMSG);
	CHECK_INT(proc_net_if_inet_parse("0a00020f 02 18 00 80 eth0/x\n", AF_INET, &t, &bad),
		  -EBADMSG);
	CHECK_INT(proc_net_if_inet_parse("0a00020f 02 18 00 80 averyveryverylongname\n", AF_INET,
					 &t, &bad),
		  -EBADMSG);
	CHECK_INT(proc_net_if_inet_parse("0a00020f 02 18 00 eth0\n", AF_INET, &t, &bad), -EBADMSG);
	CHECK_INT(proc_net_if_inet_parse("", AF_PACKET, &t, &bad), -EINVAL);
	addr_table_done(&t);
}

/* The live provider asks this machine's kernel; lo has 127.0.0.1/8 in any network namespace
 * where it was ever brought up, which every test machine does. */
static void test_rtnetlink_provider(void)
{
	struct passthru_ctx *ctx = ctx_new("/");
	struct addr_table t = {0};
	bool found = false;

	CHECK_INT(netstate_rtnetlink.ipv4_addresses(ctx, &t), 0);
	for (size_t i = 0; i < t.n; i++) {
		const uint8_t lo[4] = {127, 0, 0, 1};

		CHECK_INT(t.v[i].family, AF_INET);
		if (t.v[i].ifname && strcmp(t.v[i].ifname, "lo") == 0 &&
		    memcmp(t.v[i].address, lo, 4) == 0 && t.v[i].prefixlen == 8)
			found = true;
	}
	CHECK(found);
	addr_table_done(&t);
	passthru_ctx_unref(ctx);
}

/* Below a fixture root the addresses come from the fixture only. */
static void test_netstate_provider_choice(const char *root)
{
	struct passthru_ctx *ctx = ctx_new(root);
	struct netstate s = {0};
	size_t v4 = 0;

	CHECK_INT(netstate_load(ctx, &s), 0);
	for (size_t i = 0; i < s.addresses.n; i++)
		if (s.addresses.v[i].family == AF_INET)
			v4++;
	CHECK_INT(v4, 3);
	CHECK_INT(s.addresses.n, 8);
	CHECK_INT(s.routes.n, 3);
	netstate_done(&s);
	passthru_ctx_unref(ctx);
}

static void test_helpers(void)
{
	char *s = NULL;

	CHECK_INT(path_join_lexical("/sys/block",
				    "../devices/pci0000:00/0000:00:03.0/nvme/nvme0/nvme0n1", &s),
		  0);
	CHECK_STR(s, "/sys/devices/pci0000:00/0000:00:03.0/nvme/nvme0/nvme0n1");
	free(s);
	CHECK_INT(path_join_lexical("/sys/class/net", "/sys/devices/./virtual//net/lo", &s), 0);
	CHECK_STR(s, "/sys/devices/virtual/net/lo");
	free(s);
	CHECK_INT(path_join_lexical("/sys", "../../..", &s), 0);
	CHECK_STR(s, "/");
	free(s);

	CHECK(path_is_below("/sys/devices/pci0000:00/0000:00:03.0/nvme",
			    "/sys/devices/pci0000:00/0000:00:03.0"));
	CHECK(path_is_below("/sys/devices/pci0000:00/0000:00:03.0",
			    "/sys/devices/pci0000:00/0000:00:03.0"));
	CHECK(!path_is_below("/sys/devices/pci0000:00/0000:00:03.00",
			     "/sys/devices/pci0000:00/0000:00:03.0"));
	CHECK(path_is_below("/swapfile", "/"));

	s = shell_quote("/mnt/data");
	CHECK_STR(s, "/mnt/data");
	free(s);
	s = shell_quote("/mnt/it's mine");
	CHECK_STR(s, "'/mnt/it'\\''s mine'");
	free(s);
	s = shell_quote("");
	CHECK_STR(s, "''");
	free(s);
}

/* ------------------------------------------------------------------------------------------ */
/* The guards in the verbs that can hurt the host                                             */

static struct passthru_takeover *plan_one(struct passthru_ctx *ctx, enum passthru_takeover_op op,
					  unsigned flags, const char *address, int *ret)
{
	struct passthru_takeover *t = NULL;

	CHECK_INT(passthru_takeover_new(ctx, op, flags, &t), 0);
	CHECK_INT(passthru_takeover_add_device(t, address), 0);
	*ret = passthru_takeover_plan(t);
	return t;
}

/* True when a device of the plan has a note that holds part. */
static bool noted(struct passthru_takeover *t, const char *part)
{
	for (size_t i = 0; i < passthru_takeover_get_count(t); i++)
		for (const char *const *n = passthru_takeover_get_notes(t, i); *n; n++)
			if (strstr(*n, part))
				return true;
	return false;
}

/* reset takes a device from its driver as bind does: the same guards, --force past them. */
static void test_reset_guarded(struct passthru_ctx *ctx)
{
	struct passthru_takeover *t;
	int r;

	t = plan_one(ctx, PASSTHRU_TAKEOVER_RESET, 0, "00:03.0", &r);
	CHECK_INT(r, -EPERM);
	CHECK(
	    has_refusal(t, PASSTHRU_REFUSAL_GUARD, "0000:00:03.0", "/ is mounted from nvme0n1p1"));
	CHECK(
	    has_refusal(t, PASSTHRU_REFUSAL_GUARD, "0000:00:03.0", "swap is active on nvme0n1p3"));
	passthru_takeover_unref(t);

	t = plan_one(ctx, PASSTHRU_TAKEOVER_RESET, 0, "00:1f.2", &r);
	CHECK_INT(r, -EPERM);
	CHECK(has_refusal(t, PASSTHRU_REFUSAL_GUARD, "0000:00:1f.2", "/data is mounted from md0"));
	passthru_takeover_unref(t);

	/*
	 * A PF's reset resets its VFs; one of them is in use. The kernel keeps them listed and
	 * bound, but a VF may not answer afterwards: the guard's words for bind do not fit.
	 */
	t = plan_one(ctx, PASSTHRU_TAKEOVER_RESET, 0, "00:0a.0", &r);
	CHECK_INT(r, -EPERM);
	CHECK(
	    has_refusal(t, PASSTHRU_REFUSAL_GUARD, "0000:00:0a.0",
			"VF 0000:00:1a.0 is bound to vfio-pci; resetting the PF resets the VF too, "
			"under whoever uses it, and can leave it unresponsive until the VFs are "
			"created again"));
	CHECK(!has_refusal(t, PASSTHRU_REFUSAL_GUARD, "0000:00:0a.0", "remove"));
	passthru_takeover_unref(t);
	t = plan_one(ctx, PASSTHRU_TAKEOVER_RESET, PASSTHRU_TAKEOVER_FORCE, "00:0a.0", &r);
	CHECK_INT(r, 0);
	CHECK(noted(t, "forced past a guard: VF 0000:00:1a.0 is bound to vfio-pci; resetting the "
		       "PF resets the VF too"));
	passthru_takeover_unref(t);
	/* bind keeps them: taking the PF from its driver does remove its VFs. */
	t = plan_one(ctx, PASSTHRU_TAKEOVER_BIND, 0, "00:0a.0", &r);
	CHECK_INT(r, -EPERM);
	CHECK(has_refusal(t, PASSTHRU_REFUSAL_GUARD, "0000:00:0a.0",
			  "taking the PF would remove it"));
	passthru_takeover_unref(t);

	t = plan_one(ctx, PASSTHRU_TAKEOVER_RESET, PASSTHRU_TAKEOVER_FORCE, "00:03.0", &r);
	CHECK_INT(r, 0);
	CHECK_INT(passthru_takeover_get_action(t, 0), PASSTHRU_ACTION_RESET);
	CHECK(noted(t, "forced past a guard: / is mounted from nvme0n1p1"));
	passthru_takeover_unref(t);

	/* An idle device resets as before. */
	t = plan_one(ctx, PASSTHRU_TAKEOVER_RESET, 0, "00:05.0", &r);
	CHECK_INT(r, 0);
	CHECK_INT(passthru_takeover_get_refusal_count(t), 0);
	passthru_takeover_unref(t);
}

/*
 * The report of the machine that had /proc/mounts and no mountinfo: bind, reset and check of
 * the controller that holds / refuse, naming the file; --force goes past.
 */
static void test_unreadable_refuses(const char *root)
{
	char *mountinfo = get(root, "proc/self/mountinfo");
	struct passthru_check_report *rep = NULL;
	struct passthru_takeover *t;
	struct passthru_ctx *ctx;
	bool seen = false;
	int r;

	remove_file(root, "proc/self/mountinfo");
	put_str(root, "proc/mounts", "/dev/root / ext4 rw,relatime 0 0\n");
	ctx = ctx_new(root);

	t = plan_one(ctx, PASSTHRU_TAKEOVER_BIND, 0, "00:03.0", &r);
	CHECK_INT(r, -EPERM);
	CHECK(
	    has_refusal(t, PASSTHRU_REFUSAL_GUARD, "0000:00:03.0",
			"cannot tell which disk / is mounted from: /proc/mounts names /dev/root"));
	passthru_takeover_unref(t);

	t = plan_one(ctx, PASSTHRU_TAKEOVER_RESET, 0, "00:03.0", &r);
	CHECK_INT(r, -EPERM);
	CHECK(has_refusal(t, PASSTHRU_REFUSAL_GUARD, "0000:00:03.0", "/proc/self/mountinfo"));
	passthru_takeover_unref(t);

	t = plan_one(ctx, PASSTHRU_TAKEOVER_BIND, PASSTHRU_TAKEOVER_FORCE, "00:05.0", &r);
	CHECK_INT(r, 0);
	CHECK(noted(t, "forced past a guard: cannot tell which disk / is mounted from"));
	passthru_takeover_unref(t);

	CHECK_INT(passthru_check_run(ctx, (const char *[]){"00:03.0", NULL}, &rep), 0);
	for (size_t i = 0; i < passthru_check_report_count(rep); i++)
		if (strcmp(passthru_check_report_get_id(rep, i), "device-group") == 0) {
			seen = true;
			CHECK_INT(passthru_check_report_get_status(rep, i), PASSTHRU_CHECK_FAIL);
			CHECK(strstr(passthru_check_report_get_seen(rep, i),
				     "cannot tell which disk / is mounted from") != NULL);
		}
	CHECK(seen);
	passthru_check_report_unref(rep);

	passthru_ctx_unref(ctx);
	remove_file(root, "proc/mounts");
	put_str(root, "proc/self/mountinfo", mountinfo);
	free(mountinfo);
}

int main(void)
{
	struct passthru_ctx *ctx;
	char *root;

	test_unescape();
	test_mountinfo_parser();
	test_swaps_parser();
	test_route_parsers();
	test_addr_parsers();
	test_helpers();
	test_rtnetlink_provider();

	root = fixture_build("guard/host.json");
	ctx = ctx_new(root);
	test_storage(ctx);
	test_network(ctx);
	test_console_and_vfs(ctx);
	test_serial(ctx);
	test_list_getters(ctx);
	test_reset_guarded(ctx);
	passthru_ctx_unref(ctx);
	test_netstate_provider_choice(root);
	test_garbage(root);
	test_unreadable(root);
	test_unreadable_refuses(root);
	test_console_variants(root);
	free(root);

	test_captured("qemu-q35-intel-6.1");
	test_captured("qemu-q35-intel-6.12");
	TEST_DONE();
}
