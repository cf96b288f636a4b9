/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IOMMU groups: the members of /sys/kernel/iommu_groups/N/devices, which of them are endpoints
 * (pci_device_non_endpoint(), the one rule bind, vm and check share), whether VFIO would let a
 * user open the group, and the ACS of the bridges above its members.
 *
 * A group made for a device of a scan takes its members from the scan, as
 * passthru_pci_device_get_iommu_group_members() does: a listing of a thousand functions does not
 * read each group's directory again. Any other group reads the directory and each member.
 *
 * The bridges above a member come from its sysfs path (.../0000:00:1c.0/0000:02:00.0), their ACS
 * from the extended capability in their config space; both are read when first asked for, as
 * only passthru check wants them and the config read costs 4 KiB per bridge.
 */
#include "host.h"
#include "pci.h"

#define PCI_DEVICES_DIR "/sys/bus/pci/devices"

/* Extended config space: what the ACS capability needs, and all the kernel shows root. */
#define CONFIG_SPACE_SIZE 4096

struct member {
	struct passthru_pci_device *dev;
	/* pci_device_non_endpoint(): NULL for an endpoint. */
	const char *non_endpoint;
	char **upstream;
	bool upstream_loaded;
};

struct bridge {
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
	/* 0, -ENOENT (no capability) or -ENODATA (not readable). */
	int r;
	uint16_t cap, ctrl;
};

struct passthru_iommu_group {
	unsigned refcount;
	struct passthru_ctx *ctx;
	int number;
	struct member *members;
	size_t n_members;
	char **endpoints;
	char **blocking;
	/* Bridges whose ACS was read, in the order they were met. */
	struct bridge *bridges;
	size_t n_bridges;
};

/* ------------------------------------------------------------------------------------------ */
/* Bridges and ACS                                                                            */

int pci_path_bridges(const char *target, const char *address, char ***ret)
{
	_cleanup_free_ char *copy = strdup(target);
	_cleanup_strv_free_ char **v = NULL;
	char *save = NULL, *tok;
	int r;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		char canon[PASSTHRU_PCI_ADDRESS_LEN + 1];

		/* Components that are PCI addresses in the kernel's own spelling. */
		if (passthru_pci_address_parse(tok, canon) < 0 || strcmp(canon, tok) != 0 ||
		    strcmp(canon, address) == 0)
			continue;
		r = strv_push(&v, canon);
		if (r < 0)
			return r;
	}
	/* Nearest first. */
	for (size_t i = 0, n = strv_length(v); i < n / 2; i++) {
		char *t = v[i];

		v[i] = v[n - 1 - i];
		v[n - 1 - i] = t;
	}
	*ret = TAKE_PTR(v);
	return 0;
}

int pci_upstream_bridges(struct passthru_ctx *ctx, const char *address, char ***ret)
{
	_cleanup_free_ char *path = NULL, *target = NULL;
	int r;

	if (asprintf(&path, PCI_DEVICES_DIR "/%s", address) < 0)
		return -ENOMEM;
	r = root_readlink(ctx, path, &target);
	if (r < 0)
		return r;
	return pci_path_bridges(target, address, ret);
}

int pci_function_acs(struct passthru_ctx *ctx, const char *address, uint16_t *ret_cap,
		     uint16_t *ret_ctrl)
{
	_cleanup_free_ uint8_t *cfg = malloc(CONFIG_SPACE_SIZE);
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	uint16_t cap = 0, ctrl = 0;
	ssize_t len;
	int r;

	if (!cfg || asprintf(&path, PCI_DEVICES_DIR "/%s", address) < 0)
		return -ENOMEM;
	fd = root_open_dir(ctx, path);
	if (fd < 0)
		return -ENODATA;
	len = attr_read_raw_at(fd, "config", cfg, CONFIG_SPACE_SIZE);
	if (len < 0)
		return -ENODATA;
	r = pci_config_find_acs(cfg, (size_t)len, &cap, &ctrl);
	if (r < 0)
		return -ENODATA;
	if (r == 0)
		return -ENOENT;
	*ret_cap = cap;
	*ret_ctrl = ctrl;
	return 0;
}

bool pci_acs_isolates(uint16_t cap, uint16_t ctrl)
{
	uint16_t need = PASSTHRU_ACS_SV | PASSTHRU_ACS_RR | PASSTHRU_ACS_CR | PASSTHRU_ACS_UF;

	/* Each control the bridge has must be on, and without P2P redirect nothing isolates. */
	return (ctrl & (cap & need)) == (cap & need) && (cap & PASSTHRU_ACS_RR);
}

/* ------------------------------------------------------------------------------------------ */
/* Building a group                                                                           */

static void group_free(struct passthru_iommu_group *g)
{
	for (size_t i = 0; i < g->n_members; i++) {
		passthru_pci_device_unref(g->members[i].dev);
		strv_free(g->members[i].upstream);
	}
	free(g->members);
	strv_free(g->endpoints);
	strv_free(g->blocking);
	free(g->bridges);
	passthru_ctx_unref(g->ctx);
	free(g);
}

static void group_freep(struct passthru_iommu_group **g)
{
	if (*g)
		group_free(*g);
}

static struct passthru_iommu_group *group_alloc(struct passthru_ctx *ctx, int number)
{
	struct passthru_iommu_group *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->refcount = 1;
	g->ctx = passthru_ctx_ref(ctx);
	g->number = number;
	return g;
}

/* Takes a new reference on dev. */
static int member_add(struct passthru_iommu_group *g, struct passthru_pci_device *dev)
{
	struct member *v = realloc(g->members, (g->n_members + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	g->members = v;
	v[g->n_members++] = (struct member){
	    .dev = passthru_pci_device_ref(dev),
	    .non_endpoint = pci_device_non_endpoint(dev),
	};
	return 0;
}

static int cmp_member(const void *a, const void *b)
{
	return pci_address_compare(
	    passthru_pci_device_get_address(((const struct member *)a)->dev),
	    passthru_pci_device_get_address(((const struct member *)b)->dev));
}

static bool driver_lets_vfio_open(const char *driver)
{
	/* VFIO takes a group with driverless or pci-stub members as viable. */
	return !driver || strcmp(driver, "vfio-pci") == 0 || strcmp(driver, "pci-stub") == 0;
}

/* Sorts the members and works out the endpoints and those in VFIO's way. */
static int group_finish(struct passthru_iommu_group *g)
{
	if (g->n_members > 1)
		qsort(g->members, g->n_members, sizeof(*g->members), cmp_member);
	for (size_t i = 0; i < g->n_members; i++) {
		const struct member *m = &g->members[i];
		const char *address = passthru_pci_device_get_address(m->dev);
		int r;

		if (m->non_endpoint)
			continue;
		r = strv_push(&g->endpoints, address);
		if (r >= 0 && !driver_lets_vfio_open(passthru_pci_device_get_driver(m->dev)))
			r = strv_push(&g->blocking, address);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * The members from the group's directory; self, when given, stands for its own entry instead of
 * being read again.
 */
static int members_from_sysfs(struct passthru_iommu_group *g, struct passthru_pci_device *self)
{
	_cleanup_strv_free_ char **addresses = NULL;
	int r;

	r = pci_iommu_group_addresses(g->ctx, g->number, &addresses);
	if (r < 0) {
		log_debug(g->ctx, "cannot list IOMMU group %d: %s", g->number, strerror(-r));
		return r;
	}
	STRV_FOREACH (a, addresses) {
		struct passthru_pci_device *dev = NULL;

		if (self && strcmp(*a, passthru_pci_device_get_address(self)) == 0) {
			r = member_add(g, self);
			self = NULL;
		} else {
			r = passthru_pci_device_new(g->ctx, *a, &dev);
			/* Gone between the listing and the read: the race is inherent. */
			if (errno_is_vanished(r))
				continue;
			if (r >= 0)
				r = member_add(g, dev);
			passthru_pci_device_unref(dev);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

_public_ int passthru_iommu_group_new(struct passthru_ctx *ctx, int number,
				      struct passthru_iommu_group **ret)
{
	_cleanup_(group_freep) struct passthru_iommu_group *g = NULL;
	int r;

	if (!ctx || !ret || number < 0)
		return -EINVAL;
	g = group_alloc(ctx, number);
	if (!g)
		return -ENOMEM;
	r = members_from_sysfs(g, NULL);
	if (r == -ENOTDIR)
		r = -ENOENT;
	if (r >= 0)
		r = group_finish(g);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(g);
	return 0;
}

_public_ int passthru_iommu_group_new_for_device(struct passthru_pci_device *dev,
						 struct passthru_iommu_group **ret)
{
	_cleanup_(group_freep) struct passthru_iommu_group *g = NULL;
	struct passthru_pci_device *const *scan;
	size_t n_scan;
	int number, r;

	if (!dev || !ret)
		return -EINVAL;
	r = passthru_pci_device_get_iommu_group(dev, &number);
	if (r < 0)
		return r;
	g = group_alloc(pci_device_get_ctx(dev), number);
	if (!g)
		return -ENOMEM;
	if (pci_device_scan_group(dev, &scan, &n_scan) >= 0) {
		for (size_t i = 0; i < n_scan; i++) {
			r = member_add(g, scan[i]);
			if (r < 0)
				return r;
		}
	} else {
		r = members_from_sysfs(g, dev);
		/* The device had the group a moment ago: it went away with its device. */
		if (r == -ENOENT || r == -ENOTDIR)
			r = -ENODEV;
		if (r < 0)
			return r;
	}
	r = group_finish(g);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(g);
	return 0;
}

_public_ int passthru_iommu_group_new_for_address(struct passthru_ctx *ctx, const char *address,
						  struct passthru_iommu_group **ret)
{
	struct passthru_pci_device *dev = NULL;
	int r;

	if (!ctx || !ret)
		return -EINVAL;
	r = passthru_pci_device_new(ctx, address, &dev);
	if (r < 0)
		return r;
	r = passthru_iommu_group_new_for_device(dev, ret);
	passthru_pci_device_unref(dev);
	return r;
}

_public_ struct passthru_iommu_group *passthru_iommu_group_ref(struct passthru_iommu_group *group)
{
	if (group)
		group->refcount++;
	return group;
}

_public_ struct passthru_iommu_group *passthru_iommu_group_unref(struct passthru_iommu_group *group)
{
	if (group && --group->refcount == 0)
		group_free(group);
	return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Getters                                                                                    */

_public_ int passthru_iommu_group_get_number(const struct passthru_iommu_group *group)
{
	return group ? group->number : -EINVAL;
}

_public_ size_t passthru_iommu_group_count(const struct passthru_iommu_group *group)
{
	return group ? group->n_members : 0;
}

static struct member *member_at(const struct passthru_iommu_group *group, size_t index)
{
	return group && index < group->n_members ? &group->members[index] : NULL;
}

_public_ struct passthru_pci_device *
passthru_iommu_group_get(const struct passthru_iommu_group *group, size_t index)
{
	struct member *m = member_at(group, index);

	return m ? m->dev : NULL;
}

_public_ bool passthru_iommu_group_is_endpoint(const struct passthru_iommu_group *group,
					       size_t index)
{
	struct member *m = member_at(group, index);

	return m && !m->non_endpoint;
}

_public_ const char *passthru_iommu_group_get_driver(const struct passthru_iommu_group *group,
						     size_t index)
{
	struct member *m = member_at(group, index);

	return m ? passthru_pci_device_get_driver(m->dev) : NULL;
}

_public_ const char *const *
passthru_iommu_group_get_endpoints(const struct passthru_iommu_group *group)
{
	return group && group->endpoints ? (const char *const *)group->endpoints : strv_empty;
}

_public_ const char *const *
passthru_iommu_group_get_blocking(const struct passthru_iommu_group *group)
{
	return group && group->blocking ? (const char *const *)group->blocking : strv_empty;
}

_public_ bool passthru_iommu_group_is_viable(const struct passthru_iommu_group *group)
{
	return group && !group->blocking;
}

_public_ const char *const *passthru_iommu_group_get_upstream(struct passthru_iommu_group *group,
							      size_t index)
{
	struct member *m = member_at(group, index);

	if (!m)
		return strv_empty;
	if (!m->upstream_loaded) {
		int r = pci_upstream_bridges(group->ctx, passthru_pci_device_get_address(m->dev),
					     &m->upstream);

		if (r < 0)
			log_debug(group->ctx, "%s: cannot read the path above it: %s",
				  passthru_pci_device_get_address(m->dev), strerror(-r));
		m->upstream_loaded = true;
	}
	return m->upstream ? (const char *const *)m->upstream : strv_empty;
}

static bool above_a_member(struct passthru_iommu_group *group, const char *bridge)
{
	for (size_t i = 0; i < group->n_members; i++) {
		const char *const *up = passthru_iommu_group_get_upstream(group, i);

		for (size_t k = 0; up[k]; k++)
			if (strcmp(up[k], bridge) == 0)
				return true;
	}
	return false;
}

_public_ int passthru_iommu_group_get_acs(struct passthru_iommu_group *group, const char *bridge,
					  uint16_t *ret_cap, uint16_t *ret_ctrl)
{
	struct bridge *b = NULL;

	if (!group || !bridge || !ret_cap || !ret_ctrl)
		return -EINVAL;
	for (size_t i = 0; i < group->n_bridges && !b; i++)
		if (strcmp(group->bridges[i].address, bridge) == 0)
			b = &group->bridges[i];
	if (!b) {
		struct bridge *v;

		if (strlen(bridge) > PASSTHRU_PCI_ADDRESS_LEN || !above_a_member(group, bridge))
			return -EINVAL;
		v = realloc(group->bridges, (group->n_bridges + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		group->bridges = v;
		b = &v[group->n_bridges++];
		*b = (struct bridge){0};
		pci_address_copy(b->address, bridge);
		b->r = pci_function_acs(group->ctx, bridge, &b->cap, &b->ctrl);
		if (b->r == -ENOMEM) {
			group->n_bridges--;
			return -ENOMEM;
		}
	}
	if (b->r < 0)
		return b->r;
	*ret_cap = b->cap;
	*ret_ctrl = b->ctrl;
	return 0;
}

_public_ enum passthru_acs_state
passthru_iommu_group_get_acs_state(struct passthru_iommu_group *group, size_t index)
{
	const char *const *up;
	bool unknown = false;

	if (!member_at(group, index))
		return PASSTHRU_ACS_UNKNOWN;
	up = passthru_iommu_group_get_upstream(group, index);
	for (size_t i = 0; up[i]; i++) {
		uint16_t cap = 0, ctrl = 0;
		int r = passthru_iommu_group_get_acs(group, up[i], &cap, &ctrl);

		if (r == -ENOENT || (r == 0 && !pci_acs_isolates(cap, ctrl)))
			return PASSTHRU_ACS_LACKING;
		if (r < 0)
			unknown = true;
	}
	return unknown ? PASSTHRU_ACS_UNKNOWN : PASSTHRU_ACS_ISOLATED;
}
