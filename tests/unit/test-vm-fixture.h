/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host of the VM tests (test-qemu, test-qmp, test-libvirt), built with mksysfs.py into a
 * temporary directory (fixture.h). Shaped like the real-kernel test guest
 * (tests/vm/README.md) with the devices already on vfio-pci, plus the odd groups the guest
 * does not have:
 *   00:02.0 NIC on vfio-pci, group 1        00:03.0 NIC on e1000e, group 2
 *   00:07.0 root port; 01:00.0 VGA + 01:00.1 audio on vfio-pci, group 8 (the root port alone)
 *   00:1c.0 root port + 02:00.0 GPU on vfio-pci + 02:00.1 audio on snd_hda_intel, group 9
 *   03:00.0 and 04:00.0 behind a non-ACS switch: one group (10), both on vfio-pci
 *   05:00.1 and 05:00.2 on vfio-pci in group 11, 05:00.0 on igb alone in group 12
 *   06:00.0 a second VGA on vfio-pci, group 13; 07:00.0-07:01.1 nine endpoints of group 14
 *   08:00.0 on vfio-pci without an IOMMU group
 *   10000:00:02.0 on vfio-pci in group 15: a 32-bit domain (Intel VMD), 00:02.0's bus and slot
 *   USB bus 1: 1-1 keyboard and 1-2 tablet (both 0627:0001), 1-3 hub, 1-3.1 FTDI (ttyUSB0)
 *   ttyS0 the console (console=ttyS0), ttyS1 a real UART, ttyS3 a phantom, ttyS4-ttyS7 UARTs
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

static const char vm_fixture_spec[] =
    "{\"iommu\": \"intel\", \"pci_drivers\": [\"vfio-pci\"], \"pci\": ["
    "{\"addr\": \"0000:00:00.0\", \"vendor\": \"8086\", \"device\": \"29c0\", \"class\": "
    "\"060000\", \"group\": 0},"
    "{\"addr\": \"0000:00:02.0\", \"vendor\": \"8086\", \"device\": \"10d3\", \"class\": "
    "\"020000\", \"driver\": \"vfio-pci\", \"group\": 1},"
    "{\"addr\": \"0000:00:03.0\", \"vendor\": \"8086\", \"device\": \"10d3\", \"class\": "
    "\"020000\", \"driver\": \"e1000e\", \"group\": 2},"
    "{\"addr\": \"0000:00:07.0\", \"vendor\": \"1b36\", \"device\": \"000c\", \"class\": "
    "\"060400\", \"driver\": \"pcieport\", \"bridge\": 1, \"group\": 6},"
    "{\"addr\": \"0000:01:00.0\", \"vendor\": \"1234\", \"device\": \"1111\", \"class\": "
    "\"030000\", \"driver\": \"vfio-pci\", \"group\": 8},"
    "{\"addr\": \"0000:01:00.1\", \"vendor\": \"8086\", \"device\": \"293e\", \"class\": "
    "\"040300\", \"driver\": \"vfio-pci\", \"group\": 8},"
    "{\"addr\": \"0000:00:1c.0\", \"vendor\": \"8086\", \"device\": \"2948\", \"class\": "
    "\"060400\", \"driver\": \"pcieport\", \"bridge\": 2, \"group\": 9},"
    "{\"addr\": \"0000:02:00.0\", \"vendor\": \"10de\", \"device\": \"1b80\", \"class\": "
    "\"030000\", \"driver\": \"vfio-pci\", \"group\": 9},"
    "{\"addr\": \"0000:02:00.1\", \"vendor\": \"10de\", \"device\": \"10f0\", \"class\": "
    "\"040300\", \"driver\": \"snd_hda_intel\", \"group\": 9},"
    "{\"addr\": \"0000:03:00.0\", \"vendor\": \"8086\", \"device\": \"1533\", \"class\": "
    "\"020000\", \"driver\": \"vfio-pci\", \"group\": 10},"
    "{\"addr\": \"0000:04:00.0\", \"vendor\": \"8086\", \"device\": \"1533\", \"class\": "
    "\"020000\", \"driver\": \"vfio-pci\", \"group\": 10},"
    "{\"addr\": \"0000:05:00.0\", \"vendor\": \"8086\", \"device\": \"1521\", \"class\": "
    "\"020000\", \"driver\": \"igb\", \"group\": 12},"
    "{\"addr\": \"0000:05:00.1\", \"vendor\": \"8086\", \"device\": \"1521\", \"class\": "
    "\"020000\", \"driver\": \"vfio-pci\", \"group\": 11},"
    "{\"addr\": \"0000:05:00.2\", \"vendor\": \"8086\", \"device\": \"1521\", \"class\": "
    "\"020000\", \"driver\": \"vfio-pci\", \"group\": 11},"
    "{\"addr\": \"0000:06:00.0\", \"vendor\": \"1002\", \"device\": \"6929\", \"class\": "
    "\"030000\", \"driver\": \"vfio-pci\", \"group\": 13},"
    "{\"addr\": \"0000:07:00.0\", \"vendor\": \"1af4\", \"device\": \"1000\", \"class\": "
    "\"020000\", \"driver\": \"vfio-pci\", \"group\": 14},"
    "{\"addr\": \"0000:07:00.1\", \"vendor\": \"1af4\", \"device\": \"1000\", \"class\": "
    "\"020000\", \"driver\": \"vfio-pci\", \"group\": 14},"
    "{\"addr\": \"0000:07:00.2\", \"vendor\": \"1af4\", \"device\": \"1000\", \"class\": "
    "\"020000\", \"driver\": \"vfio-pci\", \"group\": 14},"
    "{\"addr\": \"0000:07:00.3\", \"vendor\": \"1af4\", \"device\": \"1000\", \"class\": "
    "\"020000\", \"driver\": \"vfio-pci\", \"group\": 14},"
    "{\"addr\": \"0000:07:00.4\", \"vendor\": \"1af4\", \"device\": \"1000\", \"class\": "
    "\"020000\", \"driver\": \"vfio-pci\", \"group\": 14},"
    "{\"addr\": \"0000:07:00.5\", \"vendor\": \"1af4\", \"device\": \"1000\", \"class\": "
    "\"020000\", \"driver\": \"vfio-pci\", \"group\": 14},"
    "{\"addr\": \"0000:07:00.6\", \"vendor\": \"1af4\", \"device\": \"1000\", \"class\": "
    "\"020000\", \"driver\": \"vfio-pci\", \"group\": 14},"
    "{\"addr\": \"0000:07:00.7\", \"vendor\": \"1af4\", \"device\": \"1000\", \"class\": "
    "\"020000\", \"driver\": \"vfio-pci\", \"group\": 14},"
    "{\"addr\": \"0000:07:01.0\", \"vendor\": \"1af4\", \"device\": \"1000\", \"class\": "
    "\"020000\", \"driver\": \"vfio-pci\", \"group\": 14},"
    "{\"addr\": \"0000:08:00.0\", \"vendor\": \"1af4\", \"device\": \"1041\", \"class\": "
    "\"020000\", \"driver\": \"vfio-pci\", \"group\": null},"
    "{\"addr\": \"10000:00:02.0\", \"vendor\": \"1af4\", \"device\": \"1041\", \"class\": "
    "\"020000\", \"driver\": \"vfio-pci\", \"group\": 15},"
    "{\"addr\": \"0000:00:14.0\", \"vendor\": \"8086\", \"device\": \"a36d\", \"class\": "
    "\"0c0330\", \"driver\": \"xhci_hcd\", \"pcie\": false, \"group\": 3}],"
    "\"usb\": [{\"bus\": 1, \"controller\": \"0000:00:14.0\", \"speed\": 480, \"ports\": 4, "
    "\"devices\": ["
    "{\"port\": 1, \"vendor\": \"0627\", \"product\": \"0001\"},"
    "{\"port\": 2, \"vendor\": \"0627\", \"product\": \"0001\"},"
    "{\"port\": 3, \"vendor\": \"0409\", \"product\": \"55aa\", \"hub\": 4, \"devices\": ["
    "{\"port\": 1, \"vendor\": \"0403\", \"product\": \"6001\", \"interfaces\": [{\"class\": "
    "\"ff\", \"driver\": \"ftdi_sio\", \"tty\": \"ttyUSB0\", \"tty_driver\": \"ftdi_sio\"}]}]}]}],"
    "\"serial\": [{\"name\": \"ttyS0\", \"pnp\": \"00:04\", \"port\": \"3f8\", \"irq\": 4},"
    "{\"name\": \"ttyS1\", \"port\": \"2f8\", \"irq\": 3},"
    "{\"name\": \"ttyS3\", \"type\": 0},"
    "{\"name\": \"ttyS4\", \"port\": \"3e8\", \"irq\": 4},"
    "{\"name\": \"ttyS5\", \"port\": \"2e8\", \"irq\": 3},"
    "{\"name\": \"ttyS6\", \"port\": \"e000\", \"irq\": 17},"
    "{\"name\": \"ttyS7\", \"port\": \"e008\", \"irq\": 17}],"
    "\"cmdline\": \"BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro console=ttyS0,115200n8 "
    "intel_iommu=on\"}";

/* Builds the fixture root (once) and returns its path; exits the test when that fails. */
static inline const char *vm_fixture_root(void)
{
	static char *root;

	if (!root) {
		root = fixture_new_root();
		fixture_build_text(vm_fixture_spec, root);
	}
	return root;
}

static inline struct passthru_ctx *vm_fixture_ctx(void)
{
	return fixture_ctx(vm_fixture_root());
}

/* A plan of the named devices with the given machine; NULL names end the list. */
static inline struct passthru_vm_devices *vm_devices(struct passthru_ctx *ctx, const char *machine,
						     const char *const *names)
{
	struct passthru_vm_devices *vd = NULL;

	if (passthru_vm_devices_new(ctx, &vd) < 0)
		exit(1);
	if (machine && passthru_vm_devices_set_machine(vd, machine) < 0)
		exit(1);
	for (size_t i = 0; names[i]; i++)
		if (passthru_vm_devices_add(vd, names[i]) < 0) {
			fprintf(stderr, "cannot add %s\n", names[i]);
			exit(1);
		}
	return vd;
}
