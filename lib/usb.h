/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* USB port paths: the kernel's device names under /sys/bus/usb/devices. Private to lib/. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * The kernel names a USB device by where it is plugged: "B-P[.P...]", the bus number, then
 * the port on the root hub, then the port on each hub below it ("1-2.3"). The root hub itself
 * is "usbB". The kernel's USB_MAXBUS is 64 and its hubs have at most 255 ports (the hub
 * descriptor's bNbrPorts is one byte, USB_MAXCHILDREN is lower still); the USB topology allows
 * at most 7 tiers, so a device is at most 7 ports away from its root hub.
 */
#define USB_BUS_MAX	   255
#define USB_PORT_MAX	   255
#define USB_PORT_DEPTH_MAX 7

struct usb_port_path {
	unsigned bus;
	/* 0 for a root hub. */
	unsigned depth;
	uint8_t ports[USB_PORT_DEPTH_MAX];
};

/*
 * Parses a device name: "usbB" or "B-P[.P...]", in the kernel's form (decimal, no leading
 * zeros, no sign, nothing around it). Interfaces ("1-2:1.0") are not devices. Returns 0, or
 * -EINVAL for anything else (bus or port 0 or out of range, more than USB_PORT_DEPTH_MAX
 * levels, empty levels).
 */
int usb_port_path_parse(const char *text, struct usb_port_path *ret);

/*
 * Orders by bus, then port by port, a hub before the devices behind it ("usb1" < "1-2" <
 * "1-2.1" < "1-10"). Returns <0, 0 or >0 like strcmp().
 */
int usb_port_path_compare(const struct usb_port_path *a, const struct usb_port_path *b);

/*
 * Parses an interface name "<device>:<config>.<ifnum>" ("1-2.3:1.0"; a root hub's are
 * "1-0:1.0"), checking that it belongs to the device named device_name ("usb1" or "1-2.3").
 * Returns 0 with the configuration and interface numbers, -EINVAL when it is not an
 * interface of that device.
 */
int usb_interface_name_parse(const char *text, const char *device_name, unsigned *ret_config,
			     unsigned *ret_ifnum);
