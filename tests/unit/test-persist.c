/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The persisted bindings: parsing /etc/passthru/bindings.conf (hand-edited files included),
 * the store against a fixture host (identity checks, add, remove, save), and the modprobe.d
 * file for GPUs.
 */
#include "persist.h"
#include "test-takeover-fixture.h"
#include "test.h"

static int parse(const char *text, struct persist_entry **ret, size_t *n, unsigned *line)
{
	return persist_parse(text, strlen(text), ret, n, line);
}

static void test_parse(void)
{
	struct persist_entry *e = NULL;
	size_t n = 0;
	unsigned line = 0;
	const char *text = "# a comment\n"
			   "\n"
			   "0000:01:00.0 10de:1b80 1458:3702 host=nouveau\n"
			   "  01:00.1\t10DE:10F0 1458:3702 force host=snd_hda_intel  # audio\n"
			   "0000:00:02.0 8086:10d3 8086:0000";

	CHECK_INT(parse(text, &e, &n, &line), 0);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_STR(e[0].address, "0000:01:00.0");
		CHECK_STR(e[0].id, "10de:1b80:1458:3702");
		CHECK_STR(e[0].host_driver, "nouveau");
		CHECK(!e[0].force);
		CHECK_STR(e[1].address, "0000:01:00.1");
		CHECK_STR(e[1].id, "10de:10f0:1458:3702");
		CHECK_STR(e[1].host_driver, "snd_hda_intel");
		CHECK(e[1].force);
		CHECK(e[2].host_driver == NULL);
		CHECK_INT(e[2].vendor, 0x8086);
		CHECK_INT(e[2].subdevice, 0);
	}
	{
		_cleanup_free_ char *out = NULL;
		struct persist_entry *e2 = NULL;
		size_t n2 = 0;

		CHECK_INT(persist_format(e, n, &out), 0);
		CHECK(out && strstr(out, "\n0000:01:00.1 10de:10f0 1458:3702 host=snd_hda_intel "
					 "force\n"));
		CHECK_INT(parse(out, &e2, &n2, NULL), 0);
		CHECK_INT(n2, n);
		if (n2 == n)
			for (size_t i = 0; i < n; i++) {
				CHECK_STR(e2[i].id, e[i].id);
				CHECK_STR(e2[i].host_driver, e[i].host_driver);
				CHECK_INT(e2[i].force, e[i].force);
			}
		persist_entries_free(e2, n2);
	}
	persist_entries_free(e, n);

	/* Malformed lines are refused with their number. */
	{
		const struct {
			const char *text;
			unsigned line;
		} bad[] = {
		    {"0000:01:00.0 10de:1b80\n", 1},
		    {"# ok\n0000:01:00.0 10de:1b8 1458:3702\n", 2},
		    {"0000:01:00.0 0x12:1b80 1458:3702\n", 1},
		    {"0000:01:00.0 10de-1b80 1458:3702\n", 1},
		    {"01:00.0 10de:1b80 1458:3702\n0000:01:00.0 10de:1b80 1458:3702\n", 2},
		    {"0000:01:00.0 10de:1b80 1458:3702 colour=blue\n", 1},
		    {"0000:01:00.0 10de:1b80 1458:3702 host=\n", 1},
		    {"0000:01:00.0 10de:1b80 1458:3702 host=../x\n", 1},
		    {"0000:01:00.0 10de:1b80 1458:3702 host=a host=b\n", 1},
		    {"0000:01:00.0 10de:1b80 1458:3702 force force\n", 1},
		    {"0000:01:00.8 10de:1b80 1458:3702\n", 1},
		    {"\n\n1 2 3 4 5 6 7 8 9\n", 3},
		};

		for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
			e = NULL;
			n = 0;
			line = 0;
			CHECK_INT(parse(bad[i].text, &e, &n, &line), -EBADMSG);
			CHECK_INT(line, bad[i].line);
		}
		CHECK_INT(persist_parse("0000:01:00.0 10de:1b80 1458:3702\n\0", 34, &e, &n, &line),
			  -EBADMSG);
	}
}

static void test_store(void)
{
	char *root = takeover_root("host.json");
	struct passthru_ctx *ctx = fixture_ctx(root);
	struct passthru_persist *p = NULL;
	struct passthru_pci_device *nic = NULL, *vga = NULL;
	const char *conf;

	CHECK_INT(passthru_persist_load(ctx, &p), 0);
	CHECK_INT(passthru_persist_get_count(p), 0);
	CHECK_INT(passthru_pci_device_new(ctx, "00:02.0", &nic), 0);
	CHECK_INT(passthru_pci_device_new(ctx, "01:00.0", &vga), 0);
	CHECK_INT(passthru_persist_add(p, nic, "e1000e", false), 0);
	CHECK_INT(passthru_persist_add(p, vga, "nouveau", true), 0);
	/* Again for the same device: replaces, and keeps what it knew about the host driver. */
	CHECK_INT(passthru_persist_add(p, vga, NULL, false), 0);
	CHECK_INT(passthru_persist_get_count(p), 2);
	CHECK_INT(passthru_persist_find(p, "01:00.0"), 1);
	CHECK_STR(passthru_persist_get_host_driver(p, 1), "nouveau");
	CHECK(passthru_persist_get_force(p, 1));
	CHECK_STR(passthru_persist_get_identity(p, 1), "10de:1b80:1458:3702");
	CHECK_STR(passthru_persist_get_identity(p, 0), "8086:10d3:8086:10d3");
	CHECK_INT(passthru_persist_find(p, "05:00.0"), -ENOENT);
	CHECK_INT(passthru_persist_find(p, "bogus"), -EINVAL);
	CHECK_INT(passthru_persist_save(p), 0);
	passthru_persist_unref(p);
	p = NULL;

	conf = takeover_get(root, "etc/passthru/bindings.conf");
	CHECK(conf && strstr(conf, "\n0000:00:02.0 8086:10d3 8086:10d3 host=e1000e\n"));
	CHECK(conf && strstr(conf, "\n0000:01:00.0 10de:1b80 1458:3702 host=nouveau force\n"));

	CHECK_INT(passthru_persist_load(ctx, &p), 0);
	CHECK_INT(passthru_persist_get_count(p), 2);
	CHECK_INT(passthru_persist_check(p, 0), 0);
	CHECK_INT(passthru_persist_check(p, 1), 0);
	/* Another card at the address: its identity is in config space (device id at 2). */
	{
		char path[4096];
		FILE *f;

		snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/0000:00:02.0/config", root);
		f = fopen(path, "r+");
		CHECK(f != NULL);
		if (f) {
			fseek(f, 2, SEEK_SET);
			fputc(0x33, f);
			fputc(0x15, f);
			fclose(f);
		}
		fixture_put(root, "sys/bus/pci/devices/0000:00:02.0/device", "0x1533\n");
	}
	CHECK_INT(passthru_persist_check(p, 0), -ESTALE);
	CHECK_INT(passthru_persist_remove(p, "0000:00:02.0"), 0);
	CHECK_INT(passthru_persist_remove(p, "0000:00:02.0"), -ENOENT);
	CHECK_INT(passthru_persist_get_count(p), 1);
	passthru_persist_unref(p);
	p = NULL;

	/* Nothing at the address. */
	fixture_put(root, "etc/passthru/bindings.conf", "0000:00:1f.0 8086:2918 1af4:1100\n");
	CHECK_INT(passthru_persist_load(ctx, &p), 0);
	CHECK_INT(passthru_persist_check(p, 0), -ENODEV);
	passthru_persist_unref(p);
	p = NULL;

	/* A broken file is an error, not an empty store. */
	fixture_put(root, "etc/passthru/bindings.conf", "0000:00:02.0 nonsense\n");
	passthru_ctx_set_log_fn(ctx, NULL, NULL);
	CHECK_INT(passthru_persist_load(ctx, &p), -EBADMSG);
	CHECK(p == NULL);

	passthru_pci_device_unref(nic);
	passthru_pci_device_unref(vga);
	passthru_ctx_unref(ctx);
	free(root);
}

static void add(struct passthru_ctx *ctx, struct passthru_persist *p, const char *address)
{
	struct passthru_pci_device *dev = NULL;

	CHECK_INT(passthru_pci_device_new(ctx, address, &dev), 0);
	CHECK_INT(passthru_persist_add(p, dev, NULL, false), 0);
	passthru_pci_device_unref(dev);
}

static void test_modprobe(void)
{
	char *root = takeover_root("host.json");
	struct passthru_ctx *ctx = fixture_ctx(root);
	struct passthru_persist *p = NULL;
	const char *mp;

	CHECK_INT(passthru_persist_load(ctx, &p), 0);
	if (!p)
		return;
	/* A NIC is no GPU: no modprobe.d. */
	add(ctx, p, "00:02.0");
	CHECK_INT(passthru_persist_write_modprobe(p), 0);
	CHECK(takeover_get(root, "etc/modprobe.d/passthru-vfio.conf") == NULL);

	/*
	 * One of two identical GPUs: ids= would take the host's one too, so nothing is
	 * claimed at boot (apply binds it by address instead).
	 */
	add(ctx, p, "01:00.0");
	add(ctx, p, "01:00.1");
	CHECK_INT(passthru_persist_write_modprobe(p), 0);
	CHECK(takeover_get(root, "etc/modprobe.d/passthru-vfio.conf") == NULL);

	/* Both GPUs (and their audio functions, which go with their group). */
	add(ctx, p, "02:00.0");
	add(ctx, p, "02:00.1");
	CHECK_INT(passthru_persist_write_modprobe(p), 1);
	mp = takeover_get(root, "etc/modprobe.d/passthru-vfio.conf");
	CHECK(mp && strstr(mp, "\noptions vfio-pci ids=10de:1b80,10de:10f0\n"));
	CHECK(mp && !strstr(mp, "8086:10d3"));
	CHECK_INT(passthru_persist_write_modprobe(p), 0);

	/* The audio function alone, without its GPU, is no reason to claim it at boot. */
	CHECK_INT(passthru_persist_remove(p, "01:00.0"), 0);
	CHECK_INT(passthru_persist_remove(p, "02:00.0"), 0);
	CHECK_INT(passthru_persist_write_modprobe(p), 1);
	CHECK(takeover_get(root, "etc/modprobe.d/passthru-vfio.conf") == NULL);
	CHECK_INT(passthru_persist_write_modprobe(p), 0);

	passthru_persist_unref(p);
	passthru_ctx_unref(ctx);
	free(root);
}

int main(void)
{
	test_parse();
	test_store();
	test_modprobe();
	TEST_DONE();
}
