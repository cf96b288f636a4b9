/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The floor of binding: the bare sysfs writes, nothing read back, nothing checked.
 *   floor-bind bind DEVICE...      driver_override = vfio-pci, unbind (if bound), drivers_probe
 *   floor-bind release DEVICE...   driver_override cleared, unbind from vfio-pci, and
 *                                  drivers_probe when -p is given first (back to a host driver)
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int put(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, value, strlen(value));
	close(fd);
	return n < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	int probe_release = 0, first = 2, failed = 0;
	char path[256];

	if (argc < 3 || (strcmp(argv[1], "bind") != 0 && strcmp(argv[1], "release") != 0)) {
		fprintf(stderr, "usage: floor-bind bind|release [-p] DEVICE...\n");
		return 2;
	}
	if (strcmp(argv[2], "-p") == 0) {
		probe_release = 1;
		first = 3;
	}
	for (int i = first; i < argc; i++) {
		const char *dev = argv[i];
		int bind = argv[1][0] == 'b';

		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", dev);
		failed |= put(path, bind ? "vfio-pci" : "\n");
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", dev);
		if (access(path, F_OK) == 0) {
			snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", dev);
			failed |= put(path, dev);
		}
		if (bind || probe_release)
			failed |= put("/sys/bus/pci/drivers_probe", dev);
	}
	return failed ? 1 : 0;
}
