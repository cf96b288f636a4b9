/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The vfio modules. vfio-pci is the driver; vfio_iommu_type1 is the IOMMU backend a VM's
 * QEMU asks for. The kernel loads vfio and vfio_pci's other dependencies with vfio_pci, but
 * nothing pulls in vfio_iommu_type1: without it QEMU fails with "No available IOMMU models".
 * Loading goes through libkmod (module options, soft dependencies and blacklist in modprobe.d
 * are honoured as modprobe would).
 */
#include <libkmod.h>

#include "vfio-modules.h"

bool vfio_pci_driver_present(struct passthru_ctx *ctx)
{
	return root_exists(ctx, "/sys/bus/pci/drivers/vfio-pci");
}

/* Built-in modules with parameters and loaded modules both have /sys/module/NAME. */
static bool type1_present(struct passthru_ctx *ctx)
{
	return root_exists(ctx, "/sys/module/vfio_iommu_type1");
}

_printf_(6, 0) static void kmod_log(void *data, int priority, const char *file, int line,
				    const char *fn, const char *format, va_list args)
{
	struct passthru_ctx *ctx = data;
	_cleanup_free_ char *msg = NULL;

	if (passthru_ctx_get_log_priority(ctx) < LOG_DEBUG)
		return;
	if (vasprintf(&msg, format, args) < 0)
		return;
	strip_trailing(msg);
	ctx_log(ctx, LOG_DEBUG, file, line, fn, "libkmod: %s", msg);
}

static int load(struct passthru_ctx *ctx, struct kmod_ctx *k, const char *name)
{
	struct kmod_module *mod = NULL;
	int r;

	r = kmod_module_new_from_name(k, name, &mod);
	if (r < 0)
		return r;
	r = kmod_module_probe_insert_module(mod, 0, NULL, NULL, NULL, NULL);
	log_debug(ctx, "loading %s: %s", name, r < 0 ? strerror(-r) : "done");
	kmod_module_unref(mod);
	/* A module is never blacklisted for an explicit load; anything positive is. */
	return r > 0 ? -EPERM : r;
}

int vfio_modules_ensure(struct passthru_ctx *ctx)
{
	_cleanup_free_ char *dir = NULL, *moddir = NULL;
	struct kmod_ctx *k;
	const char *release;
	bool need_pci = !vfio_pci_driver_present(ctx), need_type1 = !type1_present(ctx);
	int r = 0;

	if (!need_pci && !need_type1)
		return 0;
	/* Modules go into the running kernel: never for a fixture or another system's root. */
	if (strcmp(passthru_ctx_get_sysroot(ctx), "/") != 0)
		return -ENOPKG;
	release = passthru_ctx_get_kernel_release(ctx);
	if (!release)
		return -ENOPKG;
	if (asprintf(&moddir, "/lib/modules/%s", release) < 0)
		return -ENOMEM;
	r = root_path(ctx, moddir, &dir);
	if (r < 0)
		return r;
	k = kmod_new(dir, NULL);
	if (!k)
		return -ENOMEM;
	kmod_set_log_fn(k, kmod_log, ctx);
	if (need_type1)
		r = load(ctx, k, "vfio_iommu_type1");
	if (r >= 0 && need_pci)
		r = load(ctx, k, "vfio_pci");
	kmod_unref(k);
	if (r < 0)
		return r;
	return vfio_pci_driver_present(ctx) && type1_present(ctx) ? 0 : -ENOPKG;
}
