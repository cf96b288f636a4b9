/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A PF's sysfs: its directory, its VF links (virtfnN) and its network interface.
 */
#include <fcntl.h>

#include "pf.h"

int pf_open_dir(struct passthru_ctx *ctx, const char *pf,
		char ret_address[PASSTHRU_PCI_ADDRESS_LEN + 1])
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];

	if (passthru_pci_address_parse(pf, address) < 0)
		return -EINVAL;
	if (asprintf(&path, "/sys/bus/pci/devices/%s", address) < 0)
		return -ENOMEM;
	fd = root_open_dir(ctx, path);
	if (fd < 0)
		return errno_is_vanished(fd) ? -ENODEV : fd;
	/* A VF has no SR-IOV capability of its own; sriov_totalvfs marks a PF. */
	if (faccessat(fd, "physfn", F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
	    faccessat(fd, "sriov_totalvfs", F_OK, 0) < 0)
		return -EOPNOTSUPP;
	memcpy(ret_address, address, sizeof(address));
	return TAKE_FD(fd);
}

unsigned pf_count_vfs(int pf_dirfd)
{
	unsigned n = 0;

	for (;; n++) {
		char name[32];

		snprintf(name, sizeof(name), "virtfn%u", n);
		if (faccessat(pf_dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
			return n;
	}
}

int pf_vf_address(int pf_dirfd, unsigned index, char ret[PASSTHRU_PCI_ADDRESS_LEN + 1])
{
	_cleanup_free_ char *base = NULL;
	char name[32];
	int r;

	snprintf(name, sizeof(name), "virtfn%u", index);
	r = attr_link_basename_at(pf_dirfd, name, &base);
	if (r < 0)
		return r;
	return passthru_pci_address_parse(base, ret) < 0 ? -EBADMSG : 0;
}

int pf_vf_address_to_be(int pf_dirfd, const char *pf, unsigned index,
			char ret[PASSTHRU_PCI_ADDRESS_LEN + 1])
{
	unsigned domain, bus, dev, fn;
	long offset, stride;
	uint64_t rid;
	int r;

	if (sscanf(pf, "%x:%x:%x.%x", &domain, &bus, &dev, &fn) != 4 || bus > 0xff || dev > 0x1f ||
	    fn > 7)
		return -EINVAL;
	r = attr_read_long_at(pf_dirfd, "sriov_offset", 0, 0xffff, &offset);
	if (r < 0)
		return r;
	r = attr_read_long_at(pf_dirfd, "sriov_stride", 0, 0xffff, &stride);
	if (r < 0)
		return r;
	/* As the kernel's pci_iov_virtfn_bus() and _devfn() count; a routing ID is bus:devfn. */
	rid = ((uint64_t)bus << 8 | dev << 3 | fn) + (uint64_t)offset + (uint64_t)stride * index;
	if (rid > 0xffff)
		return -ERANGE;
	snprintf(ret, PASSTHRU_PCI_ADDRESS_LEN + 1, "%04x:%02x:%02x.%x", domain,
		 (unsigned)(rid >> 8), (unsigned)(rid >> 3) & 0x1f, (unsigned)rid & 7);
	return 0;
}

int pf_netdev(struct passthru_ctx *ctx, const char *pf, char **ret_name, int *ret_ifindex)
{
	_cleanup_free_ char *path = NULL, *best = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_close_ int fd = -1;
	struct dirent *de;
	long ifindex;
	int r;

	if (asprintf(&path, "/sys/bus/pci/devices/%s/net", pf) < 0)
		return -ENOMEM;
	r = root_opendir(ctx, path, &d);
	if (r == -ENOENT)
		return -ENOLINK;
	if (r < 0)
		return r;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (!best || strcmp(de->d_name, best) < 0) {
			free(best);
			best = strdup(de->d_name);
			if (!best)
				return -ENOMEM;
		}
	}
	if (!best)
		return -ENOLINK;
	fd = openat(dirfd(d), best, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENOLINK : -errno;
	r = attr_read_long_at(fd, "ifindex", 1, INT32_MAX, &ifindex);
	if (r < 0)
		return r == -ENOENT ? -ENOLINK : r;
	*ret_name = TAKE_PTR(best);
	*ret_ifindex = (int)ifindex;
	return 0;
}
