/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Custom device types: parsing types.d, precedence, problems, add and remove. */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "test-pci-fixture.h"

static const char *root;

/* Writes types.d/rel below root. */
static void put(const char *rel, const char *content)
{
	char path[512];

	snprintf(path, sizeof(path), "etc/passthru/types.d/%s", rel);
	fixture_put(root, path, content);
}

/* The content of a types.d file, or "(none)". */
static const char *slurp(const char *rel)
{
	static char buf[4096];
	char path[4096];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/etc/passthru/types.d/%s", root, rel);
	f = fopen(path, "r");
	if (!f)
		return "(none)";
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_syntax(void)
{
	CHECK(passthru_type_name_is_valid("FPGA"));
	CHECK(passthru_type_name_is_valid("gpu2"));
	CHECK(passthru_type_name_is_valid("9x_a.b-c"));
	CHECK(passthru_type_name_is_valid("A2345678901234567890123456789012"));
	CHECK(!passthru_type_name_is_valid("A23456789012345678901234567890123"));
	CHECK(!passthru_type_name_is_valid(""));
	CHECK(!passthru_type_name_is_valid(NULL));
	CHECK(!passthru_type_name_is_valid("-x"));
	CHECK(!passthru_type_name_is_valid(".x"));
	CHECK(!passthru_type_name_is_valid("a b"));
	CHECK(!passthru_type_name_is_valid("a/b"));
	CHECK(!passthru_type_name_is_valid("caf\xc3\xa9"));
	CHECK(!passthru_type_name_is_valid("NIC"));
	CHECK(!passthru_type_name_is_valid("gpu-vga"));
	CHECK(passthru_type_name_is_builtin("gpu-hpc"));
	CHECK(passthru_type_name_is_builtin("PCI"));
	CHECK(passthru_type_name_is_builtin("NVME"));
	CHECK(!passthru_type_name_is_builtin("FPGA"));

	CHECK(passthru_type_match_is_valid("10de:1b06"));
	CHECK(passthru_type_match_is_valid("10DE:1B06:10de:120F"));
	CHECK(!passthru_type_match_is_valid("10de"));
	CHECK(!passthru_type_match_is_valid("10de:1b6"));
	CHECK(!passthru_type_match_is_valid("10de:1b06:10de"));
	CHECK(!passthru_type_match_is_valid("10de:1b06:"));
	CHECK(!passthru_type_match_is_valid("10de-1b06"));
	CHECK(!passthru_type_match_is_valid("0x10:1b06"));
	CHECK(!passthru_type_match_is_valid("10de:1b06 "));
	CHECK(!passthru_type_match_is_valid(NULL));
}

static void check_rule(const struct passthru_type_rule *rule, const char *name, const char *match,
		       int subvendor, const char *file, unsigned line)
{
	CHECK(rule != NULL);
	if (!rule)
		return;
	CHECK_STR(passthru_type_rule_get_name(rule), name);
	CHECK_STR(passthru_type_rule_get_match(rule), match);
	CHECK_INT(passthru_type_rule_get_subsystem_vendor(rule), subvendor);
	CHECK_STR(passthru_type_rule_get_file(rule), file);
	CHECK_INT(passthru_type_rule_get_line(rule), line);
}

static void test_load(struct passthru_ctx *ctx)
{
	struct passthru_type_list *list = NULL;
	const char *const *problems;
	char path[4096];

	/* No types.d at all: no rules, no problems. */
	CHECK_INT(passthru_types_load(ctx, &list), 0);
	CHECK_INT(passthru_type_list_count(list), 0);
	CHECK_STR(joined(passthru_type_list_get_problems(list)), "");
	CHECK_STR(passthru_type_list_match(list, 0x10de, 0x1b06, -1, -1), NULL);
	passthru_type_list_unref(list);
	list = NULL;

	snprintf(path, sizeof(path), "mkdir -p '%s/etc/passthru/types.d'", root);
	CHECK(system(path) == 0);
	snprintf(path, sizeof(path), "%s/etc/passthru/types.d/30-dir.conf", root);
	CHECK(mkdir(path, 0755) == 0);
	put("10-a.conf", "# comment line\n"
			 "FPGA 10ee:7038\n"
			 "   \t\n"
			 "GPU2   10DE:1B06  # trailing comment\n"
			 "FPGA\n"
			 "NIC 8086:1572\n"
			 "bad/name 8086:1572\n"
			 "X 8086:1572 extra\n"
			 "Y 8086:15\n"
			 "Z 8086:1572:8086\r\n"
			 "ACCEL 10de:1db4:10de:1212\r\n"
			 "LAST 1234:5678");
	put("05-b.conf", "EARLY 10de:1b06\nANY 10de:1db4\n");
	put("20-c.conf", "LATE 10ee:7038\n");
	put("README", "not a rule file\n");
	put(".hidden.conf", "HIDDEN 1111:2222\n");

	CHECK_INT(passthru_types_load(ctx, &list), 0);
	if (!list)
		return;
	CHECK_INT(passthru_type_list_count(list), 7);
	check_rule(passthru_type_list_get(list, 0), "EARLY", "10de:1b06", -1,
		   "/etc/passthru/types.d/05-b.conf", 1);
	check_rule(passthru_type_list_get(list, 1), "ANY", "10de:1db4", -1,
		   "/etc/passthru/types.d/05-b.conf", 2);
	check_rule(passthru_type_list_get(list, 2), "FPGA", "10ee:7038", -1,
		   "/etc/passthru/types.d/10-a.conf", 2);
	check_rule(passthru_type_list_get(list, 3), "GPU2", "10de:1b06", -1,
		   "/etc/passthru/types.d/10-a.conf", 4);
	check_rule(passthru_type_list_get(list, 4), "ACCEL", "10de:1db4:10de:1212", 0x10de,
		   "/etc/passthru/types.d/10-a.conf", 11);
	check_rule(passthru_type_list_get(list, 5), "LAST", "1234:5678", -1,
		   "/etc/passthru/types.d/10-a.conf", 12);
	check_rule(passthru_type_list_get(list, 6), "LATE", "10ee:7038", -1,
		   "/etc/passthru/types.d/20-c.conf", 1);
	CHECK(passthru_type_list_get(list, 7) == NULL);
	CHECK_INT(passthru_type_rule_get_vendor(passthru_type_list_get(list, 4)), 0x10de);
	CHECK_INT(passthru_type_rule_get_device(passthru_type_list_get(list, 4)), 0x1db4);
	CHECK_INT(passthru_type_rule_get_subsystem_device(passthru_type_list_get(list, 4)), 0x1212);
	CHECK_INT(passthru_type_rule_get_subsystem_device(passthru_type_list_get(list, 0)), -1);

	problems = passthru_type_list_get_problems(list);
	CHECK_STR(problems[0], "/etc/passthru/types.d/10-a.conf:5: missing VENDOR:DEVICE after "
			       "\"FPGA\"");
	CHECK_STR(
	    problems[1],
	    "/etc/passthru/types.d/10-a.conf:6: built-in type name \"NIC\" cannot be redefined");
	CHECK_STR(problems[2],
		  "/etc/passthru/types.d/10-a.conf:7: invalid type name \"bad/name\" "
		  "(a letter or digit, then letters, digits, '_', '.', '-'; at most 32 "
		  "characters)");
	CHECK_STR(problems[3],
		  "/etc/passthru/types.d/10-a.conf:8: unexpected \"extra\" after the rule");
	CHECK_STR(problems[4], "/etc/passthru/types.d/10-a.conf:9: invalid match \"8086:15\", "
			       "expected VENDOR:DEVICE or VENDOR:DEVICE:SUBVENDOR:SUBDEVICE (4 hex "
			       "digits each)");
	{
		const char *p5 = "/etc/passthru/types.d/10-a.conf:10: invalid match "
				 "\"8086:1572:8086\", expected";

		CHECK(problems[5] && strncmp(problems[5], p5, strlen(p5)) == 0);
	}
	CHECK_STR(problems[6], "/etc/passthru/types.d/30-dir.conf: cannot read: Is a directory");
	CHECK_STR(problems[7], NULL);

	/* First match in file order; a rule with subsystem ids beats any without. */
	CHECK_STR(passthru_type_list_match(list, 0x10de, 0x1b06, 0x10de, 0x120f), "EARLY");
	CHECK_STR(passthru_type_list_match(list, 0x10ee, 0x7038, -1, -1), "FPGA");
	CHECK_STR(passthru_type_list_match(list, 0x10de, 0x1db4, 0x10de, 0x1212), "ACCEL");
	CHECK_STR(passthru_type_list_match(list, 0x10de, 0x1db4, 0x10de, 0x1213), "ANY");
	CHECK_STR(passthru_type_list_match(list, 0x10de, 0x1db4, -1, -1), "ANY");
	CHECK_STR(passthru_type_list_match(list, 0x1234, 0x5678, 0, 0), "LAST");
	CHECK_STR(passthru_type_list_match(list, 0x8086, 0x1572, -1, -1), NULL);
	CHECK(passthru_type_list_ref(list) == list);
	passthru_type_list_unref(list);
	passthru_type_list_unref(list);
}

static void test_add_remove(struct passthru_ctx *ctx)
{
	char path[4096];

	CHECK_INT(passthru_type_add(ctx, "NIC", "8086:1572"), -EINVAL);
	CHECK_INT(passthru_type_add(ctx, "a b", "8086:1572"), -EINVAL);
	CHECK_INT(passthru_type_add(ctx, "OK", "8086"), -EINVAL);
	CHECK_INT(passthru_type_add(ctx, "OK", NULL), -EINVAL);
	CHECK_STR(slurp("OK.conf"), "(none)");

	/* A new file, then appended to; ids written in canonical lower case. */
	CHECK_INT(passthru_type_add(ctx, "FPGA", "10EE:9038"), 0);
	CHECK_STR(slurp("FPGA.conf"), "FPGA 10ee:9038\n");
	CHECK_INT(passthru_type_add(ctx, "FPGA", "10ee:9038:10ee:0007"), 0);
	CHECK_STR(slurp("FPGA.conf"), "FPGA 10ee:9038\nFPGA 10ee:9038:10ee:0007\n");
	CHECK_INT(passthru_type_add(ctx, "FPGA", "10ee:9038"), -EEXIST);
	/* Identical to a rule in another file (10-a.conf: "FPGA 10ee:7038"). */
	CHECK_INT(passthru_type_add(ctx, "FPGA", "10ee:7038"), -EEXIST);
	CHECK_STR(slurp("FPGA.conf"), "FPGA 10ee:9038\nFPGA 10ee:9038:10ee:0007\n");

	/* A file an administrator wrote without a final newline and with comments. */
	put("GPU2.conf", "# mine\nGPU2 1111:2222");
	CHECK_INT(passthru_type_add(ctx, "GPU2", "1111:3333"), 0);
	CHECK_STR(slurp("GPU2.conf"), "# mine\nGPU2 1111:2222\nGPU2 1111:3333\n");
	/* No temporary files left behind. */
	snprintf(path, sizeof(path), "%s/etc/passthru/types.d/.FPGA.conf.tmp", root);
	CHECK(access(path, F_OK) < 0);

	/* One rule; then every rule of a name across files; emptied files go. */
	CHECK_INT(passthru_type_remove(ctx, "FPGA", "10ee:9038:10EE:0007"), 1);
	CHECK_STR(slurp("FPGA.conf"), "FPGA 10ee:9038\n");
	CHECK_INT(passthru_type_remove(ctx, "FPGA", "10ee:9038:10ee:0007"), -ENOENT);
	CHECK_INT(passthru_type_remove(ctx, "FPGA", NULL), 2);
	CHECK_STR(slurp("FPGA.conf"), "(none)");
	CHECK_STR(slurp("10-a.conf"), "# comment line\n"
				      "   \t\n"
				      "GPU2   10DE:1B06  # trailing comment\n"
				      "FPGA\n"
				      "NIC 8086:1572\n"
				      "bad/name 8086:1572\n"
				      "X 8086:1572 extra\n"
				      "Y 8086:15\n"
				      "Z 8086:1572:8086\r\n"
				      "ACCEL 10de:1db4:10de:1212\r\n"
				      "LAST 1234:5678");
	CHECK_INT(passthru_type_remove(ctx, "GPU2", "1111:2222"), 1);
	CHECK_INT(passthru_type_remove(ctx, "GPU2", "1111:3333"), 1);
	/* Only a comment left: kept, it is someone's text. */
	CHECK_STR(slurp("GPU2.conf"), "# mine\n");
	CHECK_INT(passthru_type_remove(ctx, "EARLY", NULL), 1);
	CHECK_INT(passthru_type_remove(ctx, "ANY", NULL), 1);
	CHECK_STR(slurp("05-b.conf"), "(none)");
	CHECK_INT(passthru_type_remove(ctx, "NOPE", NULL), -ENOENT);
	CHECK_INT(passthru_type_remove(ctx, "PCI", NULL), -ENOENT);
	CHECK_INT(passthru_type_remove(ctx, "a b", NULL), -EINVAL);
	CHECK_INT(passthru_type_remove(ctx, "GPU2", "zz"), -EINVAL);
}

/* A device's type follows rules added and removed through its context. */
static void test_device_type(void)
{
	char *fixture = fixture_root(fixtures_dir(), "noiommu.json");
	struct passthru_ctx *ctx = fixture_ctx(fixture);
	struct passthru_pci_device *dev = NULL;

	CHECK_INT(passthru_pci_device_new(ctx, "00:02.0", &dev), 0);
	CHECK_STR(passthru_pci_device_get_type(dev), "GPU-VGA");
	passthru_pci_device_unref(dev);

	CHECK_INT(passthru_type_add(ctx, "IGPU", "8086:3e92"), 0);
	dev = NULL;
	CHECK_INT(passthru_pci_device_new(ctx, "00:02.0", &dev), 0);
	CHECK_STR(passthru_pci_device_get_type(dev), "IGPU");
	/* Subsystem ids of the function are its own (mksysfs default). */
	CHECK_INT(passthru_type_add(ctx, "IGPU-OEM", "8086:3e92:8086:3e92"), 0);
	/* A device keeps the type it computed... */
	CHECK_STR(passthru_pci_device_get_type(dev), "IGPU");
	passthru_pci_device_unref(dev);
	/* ...a new one sees the new rules. */
	dev = NULL;
	CHECK_INT(passthru_pci_device_new(ctx, "00:02.0", &dev), 0);
	CHECK_STR(passthru_pci_device_get_type(dev), "IGPU-OEM");
	passthru_pci_device_unref(dev);

	CHECK_INT(passthru_type_remove(ctx, "IGPU", NULL), 1);
	CHECK_INT(passthru_type_remove(ctx, "IGPU-OEM", NULL), 1);
	dev = NULL;
	CHECK_INT(passthru_pci_device_new(ctx, "00:02.0", &dev), 0);
	CHECK_STR(passthru_pci_device_get_type(dev), "GPU-VGA");
	passthru_pci_device_unref(dev);
	passthru_ctx_unref(ctx);
	free(fixture);
}

int main(void)
{
	struct passthru_ctx *ctx;

	test_syntax();
	root = fixture_tmpdir();
	ctx = fixture_ctx(root);
	test_load(ctx);
	test_add_remove(ctx);
	passthru_ctx_unref(ctx);
	test_device_type();
	TEST_DONE();
}
