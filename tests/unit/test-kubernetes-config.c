/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kubernetes.d parser and the grouping of functions into devices (daemon/kubernetes-config.c).
 */
#include <string.h>

#include "kubernetes-config.h"
#include "test.h"

static void parse(struct kube_config *cfg, const char *text)
{
	CHECK_INT(kube_config_parse(cfg, "/etc/passthru/kubernetes.d/a.conf", text, strlen(text)),
		  0);
}

static void test_good(void)
{
	struct kube_config cfg = {};
	const struct kube_resource *r;

	parse(&cfg, "# VFs for the VMs\n"
		    "passthru.io/vf id=8086:10ED   # ixgbe VFs\n"
		    "\n"
		    "   example.com/gpu.a100\ttype=GPU-HPC numa=1\n"
		    "passthru.io/nic type=nic\r\n"
		    "passthru.io/fpga type=FPGA id=10ee:7038");
	CHECK_INT(cfg.n, 4);
	CHECK_INT(cfg.n_problems, 0);
	CHECK(cfg.problems == NULL);
	r = kube_config_find(&cfg, "passthru.io/vf");
	CHECK(r != NULL);
	if (r) {
		CHECK_INT(r->vendor_id, 0x8086);
		CHECK_INT(r->device_id, 0x10ed);
		CHECK(r->type == NULL);
		CHECK_INT(r->numa_node, -1);
		CHECK_INT(r->line, 2);
		CHECK_STR(r->file, "/etc/passthru/kubernetes.d/a.conf");
	}
	r = kube_config_find(&cfg, "example.com/gpu.a100");
	CHECK(r != NULL);
	if (r) {
		CHECK_STR(r->type, "GPU-HPC");
		CHECK_INT(r->numa_node, 1);
		CHECK_INT(r->vendor_id, -1);
		CHECK_INT(r->line, 4);
	}
	r = kube_config_find(&cfg, "passthru.io/fpga");
	CHECK(r && r->vendor_id == 0x10ee && r->device_id == 0x7038 &&
	      strcmp(r->type, "FPGA") == 0);
	kube_config_done(&cfg);
}

static void test_bad_lines(void)
{
	static const struct {
		const char *line, *problem;
	} cases[] = {
	    {"vf id=8086:10ed",
	     "a.conf:2: invalid resource name \"vf\" (DOMAIN/NAME, e.g. passthru.io/vf)"},
	    {"Passthru.io/vf id=8086:10ed", "a.conf:2: invalid resource name"},
	    {"passthru.io/-vf id=8086:10ed", "a.conf:2: invalid resource name"},
	    {"passthru.io/vf", "a.conf:2: resource passthru.io/vf has no selector"},
	    {"passthru.io/vf numa=0", "a.conf:2: resource passthru.io/vf needs id= or type="},
	    {"passthru.io/vf id=8086",
	     "a.conf:2: \"id=8086\": id= needs VVVV:DDDD (4 hex digits each)"},
	    {"passthru.io/vf id=8086:10eg", "a.conf:2: \"id=8086:10eg\": id= needs VVVV:DDDD"},
	    {"passthru.io/vf id=8086:10ed id=8086:10ed",
	     "a.conf:2: \"id=8086:10ed\": id= given twice"},
	    {"passthru.io/vf type=a/b", "a.conf:2: \"type=a/b\": type= needs a type name"},
	    {"passthru.io/vf type=", "a.conf:2: \"type=\": type= needs a type name"},
	    {"passthru.io/vf type=NIC numa=x",
	     "a.conf:2: \"numa=x\": numa= needs a NUMA node number"},
	    {"passthru.io/vf type=NIC numa=-1", "a.conf:2: \"numa=-1\": numa= needs"},
	    {"passthru.io/vf type=NIC numa=99999999999999999999",
	     "a.conf:2: \"numa=99999999999999999999\": numa= needs"},
	    {"passthru.io/vf type=NIC vendor=8086", "a.conf:2: \"vendor=8086\": unknown selector"},
	    {"passthru.io/nic type=NIC", "a.conf:2: resource passthru.io/nic is defined again"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kube_config cfg = {};
		char text[256];

		snprintf(text, sizeof(text),
			 "passthru.io/nic type=NIC\n%s\npassthru.io/gpu type=GPU-VGA\n",
			 cases[i].line);
		CHECK_INT(kube_config_parse(&cfg, "a.conf", text, strlen(text)), 0);
		/* the other lines still give their resources */
		CHECK_INT(cfg.n, 2);
		CHECK(kube_config_find(&cfg, "passthru.io/gpu") != NULL);
		CHECK_INT(cfg.n_problems, 1);
		if (cfg.n_problems == 1 &&
		    strncmp(cfg.problems[0], cases[i].problem, strlen(cases[i].problem)) != 0) {
			fprintf(stderr, "line \"%s\": problem \"%s\", expected \"%s...\"\n",
				cases[i].line, cfg.problems[0], cases[i].problem);
			test_failures++;
		}
		kube_config_done(&cfg);
	}
	{
		struct kube_config cfg = {};

		CHECK_INT(
		    kube_config_parse(&cfg, "b.conf", "x.io/a type=NIC\n\0\nx.io/b type=NIC", 32),
		    0);
		CHECK_INT(cfg.n, 2);
		CHECK_INT(cfg.n_problems, 1);
		CHECK_STR(cfg.problems[0], "b.conf:2: a NUL byte");
		kube_config_done(&cfg);
	}
}

static void test_names(void)
{
	char *env;

	CHECK(kube_resource_name_is_valid("passthru.io/vf"));
	CHECK(kube_resource_name_is_valid("a/b"));
	CHECK(kube_resource_name_is_valid("example.com/Gpu_A.100-x"));
	CHECK(!kube_resource_name_is_valid("example.com/"));
	CHECK(!kube_resource_name_is_valid("/vf"));
	CHECK(!kube_resource_name_is_valid("example..com/vf"));
	CHECK(!kube_resource_name_is_valid("example.com/vf/x"));
	CHECK(!kube_resource_name_is_valid("example.com/vf-"));
	CHECK(!kube_resource_name_is_valid(
	    "example.com/a123456789012345678901234567890123456789012345678901234567890123"));
	env = kube_resource_env_name("passthru.io/vf-a.b");
	CHECK_STR(env, "PCI_RESOURCE_PASSTHRU_IO_VF-A_B");
	free(env);
}

/*
 * Functions: a bridge, a two-function NIC in group 7 (both 8086:10fb, one on ixgbe), a VF in
 * group 8 on NUMA 1, a GPU + audio in group 12, a function without a group.
 */
static const struct kube_function fixture[] = {
    {"0000:00:01.0", "PCI", "pcieport", 0x8086, 0x1901, 2, -1, true},
    {"0000:00:06.0", "NIC", "vfio-pci", 0x8086, 0x10fb, 7, 0, false},
    {"0000:00:06.1", "NIC", "ixgbe", 0x8086, 0x10fb, 7, 0, false},
    {"0000:00:09.0", "NIC", "vfio-pci", 0x8086, 0x1521, 8, 1, false},
    {"0000:00:0b.0", "GPU-VGA", "vfio-pci", 0x10de, 0x1b80, 12, 1, false},
    {"0000:00:0b.1", "PCI", "vfio-pci", 0x10de, 0x10f0, 12, 1, false},
    {"0000:00:0c.0", "NIC", "vfio-pci", 0x8086, 0x1521, -1, 0, false},
};
#define N_FIXTURE (sizeof(fixture) / sizeof(fixture[0]))

static void test_devices(void)
{
	struct kube_config cfg = {};
	struct kube_devices devs = {};

	parse(&cfg, "x.io/gpu type=GPU-VGA\n"
		    "x.io/nic type=NIC\n"
		    "x.io/numa1 type=NIC numa=1\n"
		    "x.io/pci type=pci\n");
	CHECK_INT(cfg.n, 4);

	/* the GPU's group is one device with both functions, healthy */
	CHECK_INT(kube_resource_devices(&cfg, 0, fixture, N_FIXTURE, &devs), 0);
	CHECK_INT(devs.n, 1);
	if (devs.n == 1) {
		CHECK_STR(devs.v[0].id, "0000:00:0b.0");
		CHECK_INT(devs.v[0].group, 12);
		CHECK_INT(devs.v[0].numa_node, 1);
		CHECK_INT(devs.v[0].n_addresses, 2);
		CHECK_STR(devs.v[0].addresses[1], "0000:00:0b.1");
		CHECK(devs.v[0].healthy);
	}
	kube_devices_done(&devs);

	/* groups 7 and 8; 7 unhealthy (06.1 on ixgbe); the function without a group never */
	CHECK_INT(kube_resource_devices(&cfg, 1, fixture, N_FIXTURE, &devs), 0);
	CHECK_INT(devs.n, 2);
	if (devs.n == 2) {
		CHECK_STR(devs.v[0].id, "0000:00:06.0");
		CHECK_INT(devs.v[0].n_addresses, 2);
		CHECK(!devs.v[0].healthy);
		CHECK_STR(devs.v[1].id, "0000:00:09.0");
		CHECK_INT(devs.v[1].numa_node, 1);
		CHECK(devs.v[1].healthy);
	}
	kube_devices_done(&devs);

	/* group 8 belongs to x.io/nic (the first resource); group 12's audio to x.io/gpu; the
	 * bridge to nobody */
	CHECK_INT(kube_resource_devices(&cfg, 2, fixture, N_FIXTURE, &devs), 0);
	CHECK_INT(devs.n, 0);
	kube_devices_done(&devs);
	CHECK_INT(kube_resource_devices(&cfg, 3, fixture, N_FIXTURE, &devs), 0);
	CHECK_INT(devs.n, 0);
	kube_devices_done(&devs);

	CHECK_INT(kube_config_owner(&cfg, fixture, N_FIXTURE, "0000:00:0b.1"), 0);
	CHECK_INT(kube_config_owner(&cfg, fixture, N_FIXTURE, "0000:00:09.0"), 1);
	CHECK_INT(kube_config_owner(&cfg, fixture, N_FIXTURE, "0000:00:01.0"), -1);
	CHECK_INT(kube_config_owner(&cfg, fixture, N_FIXTURE, "0000:00:0c.0"), -1);
	CHECK_INT(kube_config_owner(&cfg, fixture, N_FIXTURE, "0000:00:99.0"), -1);
	kube_config_done(&cfg);

	/* numa= and id= narrow */
	parse(&cfg, "x.io/numa1 type=NIC numa=1\nx.io/id id=8086:10FB\n");
	CHECK_INT(kube_resource_devices(&cfg, 0, fixture, N_FIXTURE, &devs), 0);
	CHECK_INT(devs.n, 1);
	CHECK(devs.n == 1 && strcmp(devs.v[0].id, "0000:00:09.0") == 0);
	kube_devices_done(&devs);
	CHECK_INT(kube_resource_devices(&cfg, 1, fixture, N_FIXTURE, &devs), 0);
	CHECK_INT(devs.n, 1);
	CHECK(devs.n == 1 && strcmp(devs.v[0].id, "0000:00:06.0") == 0);
	kube_devices_done(&devs);
	kube_config_done(&cfg);
}

int main(void)
{
	test_good();
	test_bad_lines();
	test_names();
	test_devices();
	TEST_DONE();
}
