// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The floor of `passthru list pci`: the least work that still answers the same
 * question (ids, class, NUMA node, driver, IOMMU group of every PCI function).
 *
 *   floor ROOT        lists ROOT/sys/bus/pci/devices/<addr>
 *
 * Per function: one openat+read+close of `config` (64 bytes: ids and class),
 * one of `numa_node`, readlinkat of `driver` and `iommu_group`, all relative to
 * one directory fd, no stdio per attribute and one write() at the end. A VF's
 * config space reads ffff as vendor and device (SR-IOV spec), so for those the
 * `vendor` and `device` files are read instead: that is the price any correct
 * tool pays.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

struct entry {
	char name[16]; /* "dddd:bb:dd.f" */
};

static int compare_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/* Read up to size bytes of dfd/dev/attr; returns the length or -1. */
static ssize_t read_attr(int dfd, const char *dev, const char *attr, void *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dev, attr);
	fd = openat(dfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, size);
	close(fd);
	return n;
}

static unsigned long read_hex_attr(int dfd, const char *dev, const char *attr)
{
	char buf[32];
	ssize_t n = read_attr(dfd, dev, attr, buf, sizeof(buf) - 1);

	if (n <= 0)
		return 0xffff;
	buf[n] = '\0';
	return strtoul(buf, NULL, 16);
}

/* basename of the target of dfd/dev/link, or "-" */
static const char *link_name(int dfd, const char *dev, const char *link, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	char *slash;

	snprintf(path, sizeof(path), "%s/%s", dev, link);
	n = readlinkat(dfd, path, buf, size - 1);
	if (n < 0)
		return "-";
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	return slash ? slash + 1 : buf;
}

int main(int argc, char **argv)
{
	struct entry *entries = NULL;
	size_t n_entries = 0, cap_entries = 0;
	char *out = NULL;
	size_t out_len = 0, out_cap = 0;
	char dents[65536];
	char path[PATH_MAX];
	int dfd;

	if (argc != 2) {
		fprintf(stderr, "usage: floor ROOT\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices", argv[1]);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		fprintf(stderr, "floor: %s: %s\n", path, strerror(errno));
		return 1;
	}

	for (;;) {
		long n = syscall(SYS_getdents64, dfd, dents, sizeof(dents));

		if (n < 0) {
			fprintf(stderr, "floor: %s: %s\n", path, strerror(errno));
			return 1;
		}
		if (n == 0)
			break;
		for (long off = 0; off < n;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(dents + off);

			off += d->d_reclen;
			if (d->d_name[0] == '.' || strlen(d->d_name) >= sizeof(entries->name))
				continue;
			if (n_entries == cap_entries) {
				cap_entries = cap_entries ? cap_entries * 2 : 1024;
				entries = realloc(entries, cap_entries * sizeof(*entries));
				if (!entries)
					return 1;
			}
			strcpy(entries[n_entries++].name, d->d_name);
		}
	}
	qsort(entries, n_entries, sizeof(*entries), compare_entry);

	for (size_t i = 0; i < n_entries; i++) {
		const char *dev = entries[i].name;
		unsigned char cfg[64];
		char numa[16] = "-1";
		char drvbuf[256], grpbuf[256];
		unsigned vendor, device, class;
		ssize_t n;

		n = read_attr(dfd, dev, "config", cfg, sizeof(cfg));
		if (n < 0x0c)
			continue; /* vanished mid-scan: skip, as a real tool must */
		vendor = cfg[0] | cfg[1] << 8;
		device = cfg[2] | cfg[3] << 8;
		class = cfg[0x0b] << 8 | cfg[0x0a];
		if (vendor == 0xffff) {
			vendor = read_hex_attr(dfd, dev, "vendor");
			device = read_hex_attr(dfd, dev, "device");
		}
		n = read_attr(dfd, dev, "numa_node", numa, sizeof(numa) - 1);
		if (n > 0) {
			numa[n] = '\0';
			numa[strcspn(numa, "\n")] = '\0';
		}
		if (out_cap - out_len < 1024) {
			out_cap = out_cap ? out_cap * 2 : 1 << 18;
			out = realloc(out, out_cap);
			if (!out)
				return 1;
		}
		out_len += snprintf(out + out_len, out_cap - out_len,
				    "%s %04x:%04x %04x numa=%s driver=%s group=%s\n", dev, vendor,
				    device, class, numa,
				    link_name(dfd, dev, "driver", drvbuf, sizeof(drvbuf)),
				    link_name(dfd, dev, "iommu_group", grpbuf, sizeof(grpbuf)));
	}

	for (size_t off = 0; off < out_len;) {
		ssize_t w = write(STDOUT_FILENO, out + off, out_len - off);

		if (w < 0)
			return 1;
		off += w;
	}
	free(out);
	free(entries);
	close(dfd);
	return 0;
}
