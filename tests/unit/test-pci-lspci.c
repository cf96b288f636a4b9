/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parity with lspci: over the same roots (our fixtures and trees captured from real kernels),
 * `lspci -D -vmm -k -O sysfs.path=...` and our scan must agree on every function, its ids, class,
 * revision, prog-if, driver, NUMA node, IOMMU group and (with the same pci.ids) names.
 */
#include <errno.h>
#include <stddef.h>

#include "test.h"
#include "test-pci-fixture.h"

struct record {
	char slot[64];
	char cls[256], vendor[256], device[256], svendor[256], sdevice[256];
	char rev[16], progif[16], driver[256], numa[16], group[16];
};

static void field(struct record *r, const char *key, const char *value)
{
	static const struct {
		const char *key;
		size_t offset, size;
	} fields[] = {
#define F(k, m) {k, offsetof(struct record, m), sizeof(((struct record *)0)->m)}
	    F("Slot", slot),	 F("Class", cls),	 F("Vendor", vendor),
	    F("Device", device), F("SVendor", svendor),	 F("SDevice", sdevice),
	    F("Rev", rev),	 F("ProgIf", progif),	 F("Driver", driver),
	    F("NUMANode", numa), F("IOMMUGroup", group),
#undef F
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strcmp(key, fields[i].key) == 0)
			snprintf((char *)r + fields[i].offset, fields[i].size, "%s", value);
}

/* Runs lspci over root and returns its records. */
static size_t run_lspci(const char *root, const char *options, struct record *out, size_t max)
{
	char cmd[8192], line[1024];
	size_t n = 0;
	bool in_record = false;
	FILE *f;

	/* lspci wants the bus/pci directory. Its own module lookup has no index here: quiet. */
	snprintf(cmd, sizeof(cmd), "lspci -D -vmm -k %s -O sysfs.path='%s/sys/bus/pci' 2>/dev/null",
		 options, root);
	f = popen(cmd, "r");
	if (!f) {
		perror("popen");
		exit(1);
	}
	while (fgets(line, sizeof(line), f)) {
		char *tab;

		line[strcspn(line, "\n")] = '\0';
		if (!*line) {
			in_record = false;
			continue;
		}
		tab = strchr(line, '\t');
		if (!tab || tab == line || tab[-1] != ':')
			continue;
		tab[-1] = '\0';
		if (!in_record) {
			if (n == max)
				break;
			memset(&out[n++], 0, sizeof(*out));
			in_record = true;
		}
		field(&out[n - 1], line, tab + 1);
	}
	CHECK_INT(pclose(f), 0);
	return n;
}

static void compare_ids(struct passthru_pci_device *dev, const struct record *r)
{
	uint16_t vendor = 0, device = 0, sv = 0, sd = 0;
	uint32_t cls = 0;
	uint8_t rev = 0;
	int numa = -2, group = -2, gr;
	char buf[64];

	fprintf(stderr, "-- %s\n", r->slot);
	CHECK_INT(passthru_pci_device_get_vendor_id(dev, &vendor), 0);
	CHECK_INT(passthru_pci_device_get_device_id(dev, &device), 0);
	CHECK_INT(passthru_pci_device_get_subsystem_vendor_id(dev, &sv), 0);
	CHECK_INT(passthru_pci_device_get_subsystem_device_id(dev, &sd), 0);
	CHECK_INT(passthru_pci_device_get_class(dev, &cls), 0);
	CHECK_INT(passthru_pci_device_get_revision(dev, &rev), 0);
	CHECK_INT(passthru_pci_device_get_numa_node(dev, &numa), 0);
	gr = passthru_pci_device_get_iommu_group(dev, &group);

	snprintf(buf, sizeof(buf), "%04x", vendor);
	CHECK_STR(buf, r->vendor);
	snprintf(buf, sizeof(buf), "%04x", device);
	CHECK_STR(buf, r->device);
	snprintf(buf, sizeof(buf), "%04x", cls >> 8);
	CHECK_STR(buf, r->cls);
	/* lspci leaves out zero subsystem ids, revision and prog-if. */
	if (*r->svendor) {
		snprintf(buf, sizeof(buf), "%04x", sv);
		CHECK_STR(buf, r->svendor);
		snprintf(buf, sizeof(buf), "%04x", sd);
		CHECK_STR(buf, r->sdevice);
	} else
		CHECK(sv == 0 && sd == 0);
	snprintf(buf, sizeof(buf), "%02x", rev);
	CHECK_STR(buf, *r->rev ? r->rev : "00");
	snprintf(buf, sizeof(buf), "%02x", cls & 0xff);
	CHECK_STR(buf, *r->progif ? r->progif : "00");
	CHECK_STR(passthru_pci_device_get_driver(dev), *r->driver ? r->driver : NULL);
	snprintf(buf, sizeof(buf), "%d", numa);
	CHECK_STR(buf, *r->numa ? r->numa : "-1");
	if (*r->group) {
		CHECK_INT(gr, 0);
		snprintf(buf, sizeof(buf), "%d", group);
		CHECK_STR(buf, r->group);
	} else
		CHECK_INT(gr, -ENOENT);
}

/* lspci prints "Device 1234" (or "Class [0380]" suffixes) where we have no name. */
static void compare_name(const char *ours, const char *theirs, const char *unknown_prefix)
{
	if (!ours) {
		CHECK(strncmp(theirs, unknown_prefix, strlen(unknown_prefix)) == 0);
		return;
	}
	if (strcmp(ours, theirs) != 0) {
		/* An unknown subclass: lspci appends the class number to the base class name. */
		size_t len = strlen(ours);

		CHECK(strncmp(ours, theirs, len) == 0 && strlen(theirs) == len + 7 &&
		      theirs[len] == ' ' && theirs[len + 1] == '[');
	}
}

static void compare_names(struct passthru_pci_device *dev, const struct record *r)
{
	fprintf(stderr, "-- names of %s\n", r->slot);
	compare_name(passthru_pci_device_get_vendor_name(dev), r->vendor, "Vendor ");
	compare_name(passthru_pci_device_get_device_name(dev), r->device, "Device ");
	compare_name(passthru_pci_device_get_class_name(dev), r->cls, "Class ");
	if (*r->sdevice)
		compare_name(passthru_pci_device_get_subsystem_name(dev), r->sdevice, "Device ");
}

static void parity(const char *root, bool own_ids)
{
	struct passthru_ctx *ctx = fixture_ctx(root);
	struct passthru_pci_list *list = NULL;
	static struct record records[64];
	char options[4200];
	size_t n;

	fprintf(stderr, "== %s\n", root);
	CHECK_INT(passthru_pci_scan(ctx, &list), 0);
	n = run_lspci(root, "-n", records, 64);
	CHECK(n > 0);
	CHECK_INT(passthru_pci_list_count(list), n);
	for (size_t i = 0; i < n; i++) {
		struct passthru_pci_device *dev = passthru_pci_list_find(list, records[i].slot);

		CHECK(dev != NULL);
		if (dev)
			compare_ids(dev, &records[i]);
	}

	/* Names: the root's own pci.ids and no hwdb, or for both the machine's database. */
	if (own_ids)
		snprintf(options, sizeof(options),
			 "-i '%s/usr/share/misc/pci.ids' -O hwdb.disable=1", root);
	else
		options[0] = '\0';
	n = run_lspci(root, options, records, 64);
	CHECK_INT(passthru_pci_list_count(list), n);
	for (size_t i = 0; i < n; i++) {
		struct passthru_pci_device *dev = passthru_pci_list_find(list, records[i].slot);

		if (dev)
			compare_names(dev, &records[i]);
	}
	passthru_pci_list_unref(list);
	passthru_ctx_unref(ctx);
}

int main(void)
{
	static const char *const captured[] = {
	    "qemu-q35-intel-6.1",
	    "qemu-q35-intel-6.12",
	    "dev-vm-noiommu",
	};
	char *root;

	root = fixture_root(fixtures_dir(), "host.json");
	parity(root, true);
	free(root);
	root = fixture_root(fixtures_dir(), "noiommu.json");
	parity(root, false);
	free(root);

	/* Trees captured from real kernels (tests/vm): no pci.ids of their own. */
	for (size_t i = 0; i < sizeof(captured) / sizeof(captured[0]); i++) {
		if (asprintf(&root, "%s/../vm/captured/%s", getenv("FIXTURES"), captured[i]) < 0)
			return 1;
		parity(root, false);
		free(root);
	}
	TEST_DONE();
}
