/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IOMMU groups on the healthy host (tests/fixtures/pci/host.json): members, endpoints, viability,
 * the same group from a scan and from sysfs, ACS of the bridge above a group; then groups that
 * are malformed or vanish while they are read, and a host without an IOMMU.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pci.h"
#include "test.h"
#include "test-pci-fixture.h"

/* The members' addresses, ","-joined. */
static const char *member_list(const struct passthru_iommu_group *g)
{
	static char buf[1024];
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < passthru_iommu_group_count(g); i++)
		n += (size_t)snprintf(
		    buf + n, sizeof(buf) - n, "%s%s", i ? "," : "",
		    passthru_pci_device_get_address(passthru_iommu_group_get(g, i)));
	return buf;
}

static struct passthru_iommu_group *group_of(struct passthru_ctx *ctx, const char *address)
{
	struct passthru_iommu_group *g = NULL;
	int r = passthru_iommu_group_new_for_address(ctx, address, &g);

	if (r < 0) {
		fprintf(stderr, "group of %s: %s\n", address, strerror(-r));
		exit(1);
	}
	return g;
}

/* Writes a config space of size bytes to the function's config file; cap_at > 0 puts ACS there. */
static void write_config(const char *root, const char *device_path, size_t size, size_t cap_at,
			 uint16_t cap, uint16_t ctrl)
{
	uint8_t cfg[4096] = {0};
	char *path;
	int fd;

	if (cap_at) {
		/* An AER header at 0x100 chaining to ACS (id 0x000d) at cap_at. */
		cfg[0x100] = 0x01;
		cfg[0x102] = (uint8_t)(0x1 | (cap_at << 4));
		cfg[0x103] = (uint8_t)(cap_at >> 4);
		cfg[cap_at] = 0x0d;
		cfg[cap_at + 2] = 0x01;
		cfg[cap_at + 4] = (uint8_t)cap;
		cfg[cap_at + 5] = (uint8_t)(cap >> 8);
		cfg[cap_at + 6] = (uint8_t)ctrl;
		cfg[cap_at + 7] = (uint8_t)(ctrl >> 8);
	}
	if (asprintf(&path, "%s/sys/devices/%s/config", root, device_path) < 0)
		exit(1);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0 || write(fd, cfg, size) != (ssize_t)size) {
		perror(path);
		exit(1);
	}
	close(fd);
	free(path);
}

static void test_host(void)
{
	char *root = fixture_root(fixtures_dir(), "host.json");
	struct passthru_ctx *ctx = fixture_ctx(root);
	struct passthru_iommu_group *g, *g2 = NULL;
	struct passthru_pci_list *list = NULL;
	uint16_t cap = 0, ctrl = 0;

	/* A root port and the two endpoints behind it, both on host drivers. */
	g = group_of(ctx, "02:00.1");
	CHECK_INT(passthru_iommu_group_get_number(g), 3);
	CHECK_INT(passthru_iommu_group_count(g), 3);
	CHECK_STR(member_list(g), "0000:00:1c.0,0000:02:00.0,0000:02:00.1");
	CHECK(!passthru_iommu_group_is_endpoint(g, 0));
	CHECK(passthru_iommu_group_is_endpoint(g, 1));
	CHECK(passthru_iommu_group_is_endpoint(g, 2));
	CHECK(!passthru_iommu_group_is_endpoint(g, 3));
	CHECK_STR(passthru_iommu_group_get_driver(g, 0), "pcieport");
	CHECK_STR(passthru_iommu_group_get_driver(g, 1), "r8169");
	CHECK_STR(passthru_iommu_group_get_driver(g, 2), "xhci_hcd");
	CHECK_STR(passthru_iommu_group_get_driver(g, 3), NULL);
	CHECK(passthru_iommu_group_get(g, 3) == NULL);
	CHECK_STR(joined(passthru_iommu_group_get_endpoints(g)), "0000:02:00.0,0000:02:00.1");
	CHECK_STR(joined(passthru_iommu_group_get_blocking(g)), "0000:02:00.0,0000:02:00.1");
	CHECK(!passthru_iommu_group_is_viable(g));

	/* Bridges above: the root port for its endpoints, nothing for the port on the root bus. */
	CHECK_STR(joined(passthru_iommu_group_get_upstream(g, 0)), "");
	CHECK_STR(joined(passthru_iommu_group_get_upstream(g, 1)), "0000:00:1c.0");
	CHECK_STR(joined(passthru_iommu_group_get_upstream(g, 9)), "");
	CHECK_INT(passthru_iommu_group_get_acs_state(g, 0), PASSTHRU_ACS_ISOLATED);
	/* The fixture's config space is 256 bytes: no extended space, as a user reads it. */
	CHECK_INT(passthru_iommu_group_get_acs(g, "0000:00:1c.0", &cap, &ctrl), -ENODATA);
	CHECK_INT(passthru_iommu_group_get_acs_state(g, 1), PASSTHRU_ACS_UNKNOWN);
	CHECK_INT(passthru_iommu_group_get_acs_state(g, 7), PASSTHRU_ACS_UNKNOWN);
	/* Only bridges above a member. */
	CHECK_INT(passthru_iommu_group_get_acs(g, "0000:00:01.0", &cap, &ctrl), -EINVAL);
	CHECK_INT(passthru_iommu_group_get_acs(g, "0000:02:00.0", &cap, &ctrl), -EINVAL);
	CHECK(passthru_iommu_group_ref(g) == g);
	CHECK(passthru_iommu_group_unref(g) == NULL);
	passthru_iommu_group_unref(g);

	/* A GPU and its audio function on vfio-pci: viable. */
	g = group_of(ctx, "0000:01:00.0");
	CHECK_STR(member_list(g), "0000:01:00.0,0000:01:00.1");
	CHECK_STR(joined(passthru_iommu_group_get_endpoints(g)), "0000:01:00.0,0000:01:00.1");
	CHECK_STR(joined(passthru_iommu_group_get_blocking(g)), "");
	CHECK(passthru_iommu_group_is_viable(g));
	CHECK_STR(joined(passthru_iommu_group_get_upstream(g, 0)), "0000:00:01.0");
	passthru_iommu_group_unref(g);

	/* No driver is viable too; a host bridge alone has no endpoint at all. */
	CHECK_INT(passthru_iommu_group_new(ctx, 6, &g2), 0);
	CHECK_STR(member_list(g2), "0000:05:00.0");
	CHECK(passthru_iommu_group_is_viable(g2));
	CHECK_STR(passthru_iommu_group_get_driver(g2, 0), NULL);
	passthru_iommu_group_unref(g2);
	g2 = NULL;
	CHECK_INT(passthru_iommu_group_new(ctx, 0, &g2), 0);
	CHECK_STR(member_list(g2), "0000:00:00.0");
	CHECK_STR(joined(passthru_iommu_group_get_endpoints(g2)), "");
	CHECK(passthru_iommu_group_is_viable(g2));
	g2 = passthru_iommu_group_unref(g2);

	/* Out of range and absent groups. */
	CHECK_INT(passthru_iommu_group_new(ctx, -1, &g2), -EINVAL);
	CHECK_INT(passthru_iommu_group_new(ctx, 999, &g2), -ENOENT);
	CHECK_INT(passthru_iommu_group_new_for_address(ctx, "0000:0a:00.0", &g2), -ENODEV);
	CHECK_INT(passthru_iommu_group_new_for_address(ctx, "zz", &g2), -EINVAL);
	CHECK(g2 == NULL);
	CHECK_INT(passthru_iommu_group_get_number(NULL), -EINVAL);
	CHECK_INT(passthru_iommu_group_count(NULL), 0);
	CHECK(!passthru_iommu_group_is_viable(NULL));

	/* From a scan: the scan's own device objects, the same members as from sysfs. */
	CHECK_INT(passthru_pci_scan(ctx, &list), 0);
	if (list) {
		struct passthru_pci_device *nic = passthru_pci_list_find(list, "02:00.0");

		CHECK_INT(passthru_iommu_group_new_for_device(nic, &g), 0);
		CHECK_STR(member_list(g), "0000:00:1c.0,0000:02:00.0,0000:02:00.1");
		CHECK(passthru_iommu_group_get(g, 1) == nic);
		CHECK(passthru_iommu_group_get(g, 0) == passthru_pci_list_find(list, "00:1c.0"));
		/* The group keeps its members when the scan goes. */
		list = passthru_pci_list_unref(list);
		CHECK_STR(passthru_iommu_group_get_driver(g, 2), "xhci_hcd");
		CHECK_STR(joined(passthru_iommu_group_get_blocking(g)),
			  "0000:02:00.0,0000:02:00.1");
		passthru_iommu_group_unref(g);
	}

	/*
	 * ACS read from the root port's extended config space: all four controls on isolates;
	 * RR off, or no capability at all, lacks it.
	 */
	write_config(root, "pci0000:00/0000:00:1c.0", 4096, 0x148, 0x001f, 0x001d);
	g = group_of(ctx, "02:00.0");
	CHECK_INT(passthru_iommu_group_get_acs(g, "0000:00:1c.0", &cap, &ctrl), 0);
	CHECK_INT(cap, 0x001f);
	CHECK_INT(ctrl, 0x001d);
	CHECK_INT(passthru_iommu_group_get_acs_state(g, 1), PASSTHRU_ACS_ISOLATED);
	CHECK_INT(passthru_iommu_group_get_acs_state(g, 2), PASSTHRU_ACS_ISOLATED);
	passthru_iommu_group_unref(g);
	write_config(root, "pci0000:00/0000:00:1c.0", 4096, 0x148, 0x001f, 0x0019);
	g = group_of(ctx, "02:00.0");
	CHECK_INT(passthru_iommu_group_get_acs_state(g, 1), PASSTHRU_ACS_LACKING);
	passthru_iommu_group_unref(g);
	write_config(root, "pci0000:00/0000:00:1c.0", 4096, 0, 0, 0);
	g = group_of(ctx, "02:00.0");
	CHECK_INT(passthru_iommu_group_get_acs(g, "0000:00:1c.0", &cap, &ctrl), -ENOENT);
	CHECK_INT(passthru_iommu_group_get_acs_state(g, 1), PASSTHRU_ACS_LACKING);
	passthru_iommu_group_unref(g);

	passthru_ctx_unref(ctx);
	free(root);
}

static void symlink_or_die(const char *target, const char *root, const char *path)
{
	char *p;

	if (asprintf(&p, "%s/%s", root, path) < 0)
		exit(1);
	if (symlink(target, p) < 0) {
		perror(p);
		exit(1);
	}
	free(p);
}

/* Runs "command 'root/path'". */
static void run(const char *command, const char *root, const char *path)
{
	char *cmd;

	if (asprintf(&cmd, "%s '%s/%s'", command, root, path) < 0 || system(cmd) != 0) {
		fprintf(stderr, "failed: %s %s\n", command, path);
		exit(1);
	}
	free(cmd);
}

static void test_broken(void)
{
	char *root = fixture_root(fixtures_dir(), "host.json");
	struct passthru_ctx *ctx = fixture_ctx(root);
	struct passthru_iommu_group *g = NULL;
	struct passthru_pci_device *dev = NULL;

	/*
	 * A member that vanished leaves a dangling link; an entry that is no PCI address is not a
	 * member either. Both are left out.
	 */
	symlink_or_die("../../../../devices/pci0000:00/0000:00:1c.0/0000:02:00.7", root,
		       "sys/kernel/iommu_groups/3/devices/0000:02:00.7");
	symlink_or_die("../../../../devices/pci0000:00/0000:00:1c.0", root,
		       "sys/kernel/iommu_groups/3/devices/not-a-function");
	CHECK_INT(passthru_iommu_group_new(ctx, 3, &g), 0);
	CHECK_STR(member_list(g), "0000:00:1c.0,0000:02:00.0,0000:02:00.1");
	g = passthru_iommu_group_unref(g);

	/* The group of a device read alone goes away before its members are listed. */
	CHECK_INT(passthru_pci_device_new(ctx, "0000:05:00.0", &dev), 0);
	run("rm -rf", root, "sys/kernel/iommu_groups/6");
	CHECK_INT(passthru_iommu_group_new_for_device(dev, &g), -ENODEV);
	CHECK(g == NULL);
	CHECK_INT(passthru_iommu_group_new(ctx, 6, &g), -ENOENT);
	passthru_pci_device_unref(dev);
	/* Read now, its group link dangles: broken, not absent. */
	CHECK_INT(passthru_iommu_group_new_for_address(ctx, "0000:05:00.0", &g), -ENODATA);

	/* A group whose devices entry is a file, not a directory. */
	run("rm -rf", root, "sys/kernel/iommu_groups/7/devices");
	run(": >", root, "sys/kernel/iommu_groups/7/devices");
	CHECK_INT(passthru_iommu_group_new(ctx, 7, &g), -ENOENT);
	CHECK(g == NULL);

	passthru_ctx_unref(ctx);
	free(root);
}

static void test_damaged_and_no_iommu(void)
{
	char *root = fixture_root(fixtures_dir(), "damaged.json");
	struct passthru_ctx *ctx = fixture_ctx(root);
	struct passthru_iommu_group *g = NULL;

	/* Its group link leads to a group that does not exist. */
	CHECK_INT(passthru_iommu_group_new_for_address(ctx, "0000:00:1f.3", &g), -ENODATA);
	/* Vanished mid-scan: its bus link dangles. */
	CHECK_INT(passthru_iommu_group_new_for_address(ctx, "0000:00:1f.0", &g), -ENODEV);
	CHECK(g == NULL);
	passthru_ctx_unref(ctx);
	free(root);

	root = fixture_root(fixtures_dir(), "noiommu.json");
	ctx = fixture_ctx(root);
	CHECK_INT(passthru_iommu_group_new_for_address(ctx, "0000:00:00.0", &g), -ENOENT);
	CHECK_INT(passthru_iommu_group_new(ctx, 0, &g), -ENOENT);
	CHECK(g == NULL);
	passthru_ctx_unref(ctx);
	free(root);
}

/* The sysfs path parser: bridges nearest first, the root bus and odd spellings left out. */
static void test_path(void)
{
	char **v = NULL;

	CHECK_INT(pci_path_bridges("../../../devices/pci0000:00/0000:00:1c.0/0000:03:00.0/"
				   "0000:04:01.0/0000:05:00.0",
				   "0000:05:00.0", &v),
		  0);
	CHECK_STR(joined((const char *const *)v), "0000:04:01.0,0000:03:00.0,0000:00:1c.0");
	strv_free(v);
	v = NULL;
	CHECK_INT(pci_path_bridges("../../../devices/pci0000:00/0000:00:02.0", "0000:00:02.0", &v),
		  0);
	CHECK(v == NULL);
	CHECK_INT(pci_path_bridges("/x/10000:00:04.0/0000:00:1C.0/00:1c.0/0000:01:00.0",
				   "0000:01:00.0", &v),
		  0);
	CHECK_STR(joined((const char *const *)v), "10000:00:04.0");
	strv_free(v);
}

int main(void)
{
	test_path();
	test_host();
	test_broken();
	test_damaged_and_no_iommu();
	TEST_DONE();
}
