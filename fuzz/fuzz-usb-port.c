/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * USB port paths and interface names. Beyond not crashing: whatever the parser accepts is in
 * the kernel's canonical form (printing it back gives the input), within the limits, and
 * orders equal to itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usb.h"

static void format(const struct usb_port_path *p, char *buf, size_t size)
{
	size_t n;

	if (p->depth == 0) {
		snprintf(buf, size, "usb%u", p->bus);
		return;
	}
	n = (size_t)snprintf(buf, size, "%u-", p->bus);
	for (unsigned i = 0; i < p->depth && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, i ? ".%u" : "%u", p->ports[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct usb_port_path p;
	char *s, *colon, buf[64];
	unsigned config, ifnum;

	if (size > 4096)
		return 0;
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	if (usb_port_path_parse(s, &p) == 0) {
		if (p.bus < 1 || p.bus > USB_BUS_MAX || p.depth > USB_PORT_DEPTH_MAX)
			abort();
		for (unsigned i = 0; i < p.depth; i++)
			if (p.ports[i] == 0)
				abort();
		format(&p, buf, sizeof(buf));
		if (strcmp(buf, s) != 0)
			abort();
		if (usb_port_path_compare(&p, &p) != 0)
			abort();
	}

	/* "1-2.3:1.0" is an interface of "1-2.3"; "1-0:1.0" of "usb1". */
	colon = strchr(s, ':');
	if (colon) {
		char *device = strndup(s, (size_t)(colon - s));

		if (device) {
			if (usb_interface_name_parse(s, device, &config, &ifnum) == 0 &&
			    (config > 255 || ifnum > 255 || usb_port_path_parse(device, &p) < 0))
				abort();
			if (strncmp(device, "usb", 3) != 0) {
				char *dash = strstr(device, "-0");

				if (dash && !dash[2]) {
					*dash = '\0';
					snprintf(buf, sizeof(buf), "usb%.40s", device);
					(void)usb_interface_name_parse(s, buf, &config, &ifnum);
				}
			}
			free(device);
		}
	}
	free(s);
	return 0;
}
