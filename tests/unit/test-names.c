/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Names of ids: the root's own pci.ids through libpci, a broken pci.ids, udev's hwdb. */
#include <errno.h>
#include <unistd.h>

#include "names.h"
#include "test.h"
#include "test-pci-fixture.h"

static char tmp[] = "/tmp/passthru-test-names-XXXXXX";

/* A root whose pci.ids (at rel) is text. */
static struct passthru_ctx *root_with_ids(const char *name, const char *rel, const char *text)
{
	char path[4096], cmd[8192];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", tmp, name, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	if (system(cmd) != 0)
		exit(1);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	return fixture_ctx(path);
}

static void test_fixture_ids(void)
{
	char cmd[16384], path[4096];
	struct passthru_ctx *ctx;
	const char *a, *b;

	snprintf(path, sizeof(path), "%s/fixture/usr/share/misc", tmp);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && cp '%s/pci.ids' '%s/'", path, fixtures_dir(),
		 path);
	CHECK(system(cmd) == 0);
	snprintf(path, sizeof(path), "%s/fixture", tmp);
	ctx = fixture_ctx(path);

	CHECK_STR(names_pci_vendor(ctx, 0x10de), "NVIDIA Corporation (fixture)");
	CHECK_STR(names_pci_device(ctx, 0x10de, 0x1b06), "GP102 [GeForce GTX 1080 Ti] (fixture)");
	CHECK_STR(names_pci_subsystem(ctx, 0x10de, 0x1b06, 0x10de, 0x120f),
		  "GeForce GTX 1080 Ti (fixture)");
	/* A subsystem that is the device itself takes the device's name, as in lspci. */
	CHECK_STR(names_pci_subsystem(ctx, 0x10de, 0x10ef, 0x10de, 0x10ef),
		  "GP102 HDMI Audio Controller (fixture)");
	CHECK_STR(names_pci_subsystem(ctx, 0x10de, 0x1b06, 0x1458, 0x3702), NULL);
	CHECK_STR(names_pci_class(ctx, 0x03, 0x00), "VGA compatible controller (fixture)");
	CHECK_STR(names_pci_class(ctx, 0x05, 0x80), "Memory controller (fixture)");
	CHECK_STR(names_pci_class(ctx, 0x12, 0x00), NULL);
	CHECK_STR(names_pci_prog_if(ctx, 0x01, 0x08, 0x02), "NVM Express (fixture)");
	CHECK_STR(names_pci_prog_if(ctx, 0x01, 0x08, 0x03), NULL);

	/* Unknown ids: NULL, never "Device 1234"; nothing from the machine's hwdb either. */
	CHECK_STR(names_pci_vendor(ctx, 0x1b21), NULL);
	CHECK_STR(names_pci_device(ctx, 0x10de, 0xffff), NULL);
	CHECK_STR(names_pci_device(ctx, 0x8086, 0x15bc), NULL);

	/* Cached: the same string every time. */
	a = names_pci_vendor(ctx, 0x10de);
	b = names_pci_vendor(ctx, 0x10de);
	CHECK(a && a == b);
	a = names_pci_class(ctx, 0x05, 0x80);
	b = names_pci_class(ctx, 0x05, 0x80);
	CHECK(a && a == b);
	passthru_ctx_unref(ctx);
}

/*
 * A malformed pci.ids must not take the process down (libpci's default is to exit); what
 * came before the bad line is still known.
 */
static void test_broken_ids(void)
{
	struct passthru_ctx *ctx = root_with_ids("broken", "usr/share/misc/pci.ids",
						 "1234  Good Vendor\n"
						 "\t5678  Good Device\n"
						 "zzzz  this line is garbage\n"
						 "abcd  Never Reached\n");

	CHECK_STR(names_pci_vendor(ctx, 0x1234), "Good Vendor");
	CHECK_STR(names_pci_device(ctx, 0x1234, 0x5678), "Good Device");
	CHECK_STR(names_pci_vendor(ctx, 0xabcd), NULL);
	CHECK_STR(names_pci_class(ctx, 0x03, 0x00), NULL);
	passthru_ctx_unref(ctx);

	/* Nesting too deep fails later in the file: still survived. */
	ctx = root_with_ids("deep", "usr/share/misc/pci.ids", "1234  Good Vendor\n\t\t\t\tdeep\n");
	CHECK_STR(names_pci_device(ctx, 0x1234, 0x0001), NULL);
	CHECK_STR(names_pci_vendor(ctx, 0x1234), "Good Vendor");
	passthru_ctx_unref(ctx);
}

/* hwdata's location is the second choice. */
static void test_hwdata_ids(void)
{
	struct passthru_ctx *ctx =
	    root_with_ids("hwdata", "usr/share/hwdata/pci.ids", "4321  Hwdata Vendor\n");

	CHECK_STR(names_pci_vendor(ctx, 0x4321), "Hwdata Vendor");
	passthru_ctx_unref(ctx);
}

static bool have_hwdb(void)
{
	static const char *const paths[] = {
	    "/etc/systemd/hwdb/hwdb.bin", "/etc/udev/hwdb.bin", "/usr/lib/systemd/hwdb/hwdb.bin",
	    "/lib/systemd/hwdb/hwdb.bin", "/lib/udev/hwdb.bin", "/usr/lib/udev/hwdb.bin",
	};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (access(paths[i], R_OK) == 0)
			return true;
	return false;
}

/*
 * USB names come from the machine's hwdb (Debian package udev), whatever the root; without
 * one there are none.
 */
static void test_usb(void)
{
	struct passthru_ctx *ctx = fixture_ctx(tmp);
	const char *a;

	if (have_hwdb()) {
		CHECK_STR(names_usb_vendor(ctx, 0x1d6b), "Linux Foundation");
		CHECK_STR(names_usb_product(ctx, 0x1d6b, 0x0002), "2.0 root hub");
		CHECK_STR(names_usb_product(ctx, 0x1d6b, 0xfff0), NULL);
	} else {
		fprintf(stderr, "no hwdb.bin on this machine: USB names must be NULL\n");
		CHECK_STR(names_usb_vendor(ctx, 0x1d6b), NULL);
		CHECK_STR(names_usb_product(ctx, 0x1d6b, 0x0002), NULL);
	}
	CHECK_STR(names_usb_vendor(ctx, 0xfff0), NULL);
	a = names_usb_vendor(ctx, 0x1d6b);
	CHECK(a == names_usb_vendor(ctx, 0x1d6b));
	passthru_ctx_unref(ctx);
}

int main(void)
{
	char cmd[256];

	CHECK(mkdtemp(tmp) != NULL);
	test_fixture_ids();
	test_broken_ids();
	test_hwdata_ids();
	test_usb();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	(void)!system(cmd);
	TEST_DONE();
}
