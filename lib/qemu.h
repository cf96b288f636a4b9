/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to lib/ (and the tests, fuzzers and CLI): the guest devices a passthru_vm_devices
 * resolves to, shared by qemu.c (the object), qemu-plan.c (planning), qemu-argv.c (command
 * line), qemu-hotplug.c (QMP), libvirt.c (domain XML) and the pure text helpers they use.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/*
 * A value as QemuOpts wants it in "-device driver,key=value,...": every comma doubled (QEMU
 * reads ",," as one comma inside a value and a single comma as the end of it). Nothing else
 * needs escaping there; keys and driver names are never escaped (ours contain no comma).
 */
char *qemu_escape_value(const char *value);
/* The reverse, for tests and fuzzing: NULL when a single comma ends the value early. */
char *qemu_unescape_value(const char *escaped);

/* Text for an XML attribute value between single quotes: & < > ' " as entities. */
char *xml_escape_attribute(const char *value);

/*
 * QEMU ids of the devices passthru makes: deterministic from the host device, so that detach
 * finds what qemu-args or attach made, and well-formed for QEMU (a letter, then letters,
 * digits, '-', '.', '_').
 *   PCI 0000:01:00.0  -> "pt-0000-01-00.0", its slot's root port "pt-rp-0000-01-00"
 *   USB 1-1.2         -> "pt-usb-1-1.2"
 *   serial ttyS1      -> device "pt-ttyS1", chardev "pt-chr-ttyS1"
 */
char *qemu_id_pci(const char *address);
char *qemu_id_root_port(const char *address);
char *qemu_id_usb(const char *port);
char *qemu_id_serial(const char *tty);
char *qemu_id_chardev(const char *tty);
/* The usb-host controller passthru adds when no --usb-bus is given, and its bus. */
#define QEMU_ID_XHCI  "pt-xhci"
#define QEMU_XHCI_BUS "pt-xhci.0"

/* pcie-root-port chassis numbers start here (see qemu-plan.c). */
#define QEMU_ROOT_PORT_CHASSIS 112

/* QEMU gives a machine at most four isa-serial ports (COM1-COM4); the rest go on PCI. */
#define QEMU_ISA_SERIAL_MAX 4

/* Functions in one guest PCI slot (no ARI). */
#define GUEST_SLOT_FUNCTIONS 8

struct guest_device {
	enum passthru_vm_device_kind kind;
	/* "0000:01:00.0", "1-1.2", "/dev/ttyS1". */
	char *host;
	/* The QEMU device id. */
	char *id;
	/* Named by the user (else brought in as another endpoint of a named device's group). */
	bool requested;

	/* PCI: the guest slot (index into slots) and the function in it. */
	size_t slot;
	unsigned function;
	uint32_t pci_class;
	bool x_vga;
	char *romfile;

	/* USB. */
	/* devnum 0: unreadable (the kernel numbers a bus's devices from 1). */
	unsigned busnum, devnum;
	uint16_t vendor, product;
	bool have_ids;
	/* "1.2": the port path below the root hub, QEMU's hostport. */
	char *hostport;

	/* Serial. */
	char *tty;
	char *chardev_id;
	/* libvirt's <target port='N'/>: 1, 2, ... in the order of the serial ports. */
	unsigned serial_port;
	/* pci-serial: asked for, or a port beyond QEMU_ISA_SERIAL_MAX. */
	bool pci_serial;

	/* Placement: the bus and "slot.function" the device went on; NULL when QEMU chooses. */
	char *bus, *addr;
	bool multifunction;
	/* device_add succeeded (and was not taken back). */
	bool attached;
};

/* The PCI endpoints of one IOMMU group, as consecutive functions of one guest slot. */
struct guest_slot {
	/* Index of function 0 in devices[]; the slot's functions follow it in function order. */
	size_t first;
	size_t count;
	/* On q35, the pcie-root-port made for the slot on the command line. */
	char *root_port_id;
	unsigned chassis, port_slot;
};

struct vm_refusal {
	char *device, *reason, *fix;
};

/* What detach did to one named device: 0, or the errno and the line that says why. */
struct vm_outcome {
	int error;
	char *reason;
};

struct passthru_vm_devices {
	unsigned refcount;
	struct passthru_ctx *ctx;

	/* What the user named, canonical ("0000:01:00.0", "1-2", "/dev/ttyS1"), in order. */
	char **names;
	enum passthru_vm_device_kind *kinds;
	size_t n_names;

	enum passthru_vm_machine machine;
	bool vga;
	char *vga_address;
	char *romfile, *romfile_address;
	bool usb_by_id;
	char *usb_bus;
	enum passthru_vm_serial_model serial_model;

	bool planned;
	struct guest_device *devices;
	size_t n_devices;
	struct guest_slot *slots;
	size_t n_slots;
	struct vm_refusal *refusals;
	size_t n_refusals;
	char **notes;
	char **argv;

	char *error;
	/* After detach, one per name (NULL when it stopped before any device). */
	struct vm_outcome *outcomes;
};

/*
 * The device's QEMU properties in order, as a NULL-terminated vector of key, value, key,
 * value...; the first pair is ("driver", NAME). For the command line and device_add alike.
 */
int guest_device_props(const struct passthru_vm_devices *vd, const struct guest_device *d,
		       char ***ret);
/* Replaces vd's error (passthru_vm_devices_get_error()) and returns r. */
int vm_devices_set_error(struct passthru_vm_devices *vd, int r, const char *format, ...)
    _printf_(3, 4);
/* "driver,key=value,..." with values escaped. */
char *qemu_props_to_option(char *const *props);

/* The object (qemu.c), for the planning and hot-plug files. */
void guest_device_done(struct guest_device *d);
/* Forgets the plan: settings changed, or a new plan starts. */
void vm_devices_plan_clear(struct passthru_vm_devices *vd);
void vm_devices_outcomes_free(struct passthru_vm_devices *vd);
/* Replaces *where with a copy of value (NULL stays NULL). */
int vm_replace_string(char **where, const char *value);
/*
 * The kind of a device that exists and its canonical name: the kernel's PCI address, port path,
 * tty path. -EINVAL for a name of no kind (passthru_vm_device_kind_of()).
 */
int vm_device_canonical_name(struct passthru_ctx *ctx, const char *name,
			     enum passthru_vm_device_kind *ret_kind, char **ret);
