/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Guards: the host resources that forbid taking a device away from the host. This file has
 * the list object, the reading of /proc tables the checks share, and the checks that need no
 * /proc parser: the console (boot VGA, serial) and SR-IOV VFs. Storage is in guard-block.c,
 * network in guard-net.c.
 *
 * Every check reads the host afresh and looks at each class directory once per call: a check
 * runs before every bind, and binding 64 VFs means 64 checks, so a device that has no disk and
 * no interface costs a few directory listings and no /proc file at all.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "guard.h"
#include "kver.h"
#include "sysfs-list.h"

struct guard {
	enum passthru_guard_kind kind;
	char *resource;
	char *reason;
	char *hint;
};

struct passthru_guard_list {
	unsigned refcount;
	struct passthru_ctx *ctx;
	struct guard *v;
	size_t n;
};

/* ------------------------------------------------------------------------------------------ */
/* The list                                                                                   */

static int guard_list_new(struct passthru_ctx *ctx, struct passthru_guard_list **ret)
{
	struct passthru_guard_list *list = calloc(1, sizeof(*list));

	if (!list)
		return -ENOMEM;
	list->refcount = 1;
	list->ctx = passthru_ctx_ref(ctx);
	*ret = list;
	return 0;
}

static struct passthru_guard_list *guard_list_free(struct passthru_guard_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		free(list->v[i].resource);
		free(list->v[i].reason);
		free(list->v[i].hint);
	}
	free(list->v);
	passthru_ctx_unref(list->ctx);
	free(list);
	return NULL;
}

static void guard_list_freep(struct passthru_guard_list **list)
{
	if (*list)
		guard_list_free(*list);
}

int guard_list_add(struct passthru_guard_list *list, enum passthru_guard_kind kind,
		   const char *resource, const char *hint, const char *reason_format, ...)
{
	_cleanup_free_ char *reason = NULL, *res = NULL, *h = NULL;
	struct guard *v;
	va_list ap;
	int r;

	va_start(ap, reason_format);
	r = vasprintf(&reason, reason_format, ap);
	va_end(ap);
	if (r < 0) {
		reason = NULL;
		return -ENOMEM;
	}
	for (size_t i = 0; i < list->n; i++)
		if (list->v[i].kind == kind && strcmp(list->v[i].reason, reason) == 0)
			return 0;

	res = strdup(resource);
	if (!res || (hint && !(h = strdup(hint))))
		return -ENOMEM;
	v = ARRAY_GROW(list->v, list->n);
	if (!v)
		return -ENOMEM;
	*v = (struct guard){
	    .kind = kind,
	    .resource = TAKE_PTR(res),
	    .reason = TAKE_PTR(reason),
	    .hint = TAKE_PTR(h),
	};
	list->n++;
	log_debug(list->ctx, "guard: %s", v->reason);
	return 0;
}

DEFINE_REF_UNREF_FUNC(_public_, struct passthru_guard_list, passthru_guard_list, guard_list_free);

_public_ size_t passthru_guard_list_count(const struct passthru_guard_list *list)
{
	return list ? list->n : 0;
}

_public_ enum passthru_guard_kind
passthru_guard_list_get_kind(const struct passthru_guard_list *list, size_t index)
{
	if (!list || index >= list->n)
		return (enum passthru_guard_kind) - EINVAL;
	return list->v[index].kind;
}

_public_ const char *passthru_guard_list_get_reason(const struct passthru_guard_list *list,
						    size_t index)
{
	return list && index < list->n ? list->v[index].reason : NULL;
}

_public_ const char *passthru_guard_list_get_resource(const struct passthru_guard_list *list,
						      size_t index)
{
	return list && index < list->n ? list->v[index].resource : NULL;
}

_public_ const char *passthru_guard_list_get_hint(const struct passthru_guard_list *list,
						  size_t index)
{
	return list && index < list->n ? list->v[index].hint : NULL;
}

_public_ const char *passthru_guard_kind_to_string(enum passthru_guard_kind kind)
{
	static const char *const names[] = {
	    [PASSTHRU_GUARD_MOUNT] = "mount",		[PASSTHRU_GUARD_SWAP] = "swap",
	    [PASSTHRU_GUARD_HOLDER] = "holder",		[PASSTHRU_GUARD_ROUTE] = "route",
	    [PASSTHRU_GUARD_ADDRESS] = "address",	[PASSTHRU_GUARD_UPPER] = "upper",
	    [PASSTHRU_GUARD_CONSOLE] = "console",	[PASSTHRU_GUARD_VFS_IN_USE] = "vfs-in-use",
	    [PASSTHRU_GUARD_UNREADABLE] = "unreadable",
	};

	if ((unsigned)kind >= ELEMENTSOF(names))
		return NULL;
	return names[kind];
}

int guard_read_text(struct passthru_ctx *ctx, const char *path, char **ret)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	r = root_read_file(ctx, path, &text, &len);
	if (r < 0)
		return r;
	if (strlen(text) != len) {
		log_err(ctx, "%s: holds a NUL byte", path);
		return -EBADMSG;
	}
	*ret = TAKE_PTR(text);
	return 0;
}

int guard_load_table(struct passthru_ctx *ctx, const char *path,
		     int (*parse)(const char *text, void *table, size_t *ret_bad_line), void *table)
{
	_cleanup_free_ char *text = NULL;
	size_t bad = 0;
	int r;

	r = guard_read_text(ctx, path, &text);
	if (r < 0) {
		log_debug(ctx, "cannot read %s: %s", path, strerror(-r));
		return r;
	}
	r = parse(text, table, &bad);
	if (r == -EBADMSG)
		return guard_bad_line(ctx, path, text, bad);
	return r;
}

int guard_add_unreadable(struct passthru_guard_list *list, const char *resource, const char *path,
			 int error)
{
	if (error == -ENOMEM)
		return error;
	return guard_list_add(list, PASSTHRU_GUARD_UNREADABLE, resource, NULL,
			      "cannot read %s (%s): cannot tell what the host uses on %s", path,
			      error == -EBADMSG ? "malformed" : strerror(-error), resource);
}

int guard_bad_line(struct passthru_ctx *ctx, const char *file, const char *text, size_t lineno)
{
	_cleanup_free_ char *line = NULL, *escaped = NULL;
	const char *p = text;

	for (size_t i = 1; i < lineno && strchr(p, '\n'); i++)
		p = strchr(p, '\n') + 1;
	line = strndup(p, strcspn(p, "\n"));
	escaped = line ? escape_for_message(line, 80) : NULL;
	log_err(ctx, "%s: line %zu is malformed: \"%s\"", file, lineno, escaped ? escaped : "");
	return -EBADMSG;
}

/* ------------------------------------------------------------------------------------------ */
/* Console: the boot VGA                                                                      */

/* "(M) frame buffer device" -> "frame buffer device": vtcon names carry a mode prefix. */
static const char *vtcon_display_name(const char *name)
{
	if (name[0] == '(' && name[1] && name[2] == ')' && name[3] == ' ')
		return name + 4;
	return name;
}

/*
 * What frees the host console from a vtcon. The kernel unbinds through the bind attribute
 * only the console drivers registered after boot, "(M)" (fbcon): for the one the VT layer
 * started with, "(S)" (vgacon), vt_unbind() does nothing and the write still succeeds. That
 * one goes only when a driver takes the boot VGA and removes it: vfio-pci does since Linux
 * 6.0 ("vfio/pci: Remove console drivers": aperture_remove_conflicting_pci_devices(), then
 * vgaarb's "deactivate vga console"), handing the VTs to the dummy console for the rest of
 * the boot. Before 6.0 it leaves vgacon in place; a release that cannot be read gets the
 * promise with its condition.
 */
static char *vtcon_hint(struct passthru_ctx *ctx, const struct sysfs_entry *vt, const char *name)
{
	const char *release = passthru_ctx_get_kernel_release(ctx);
	struct kver kv;

	if (strncmp(name, "(S) ", 4) != 0)
		return strf("echo 0 > /sys/class/vtconsole/%s/bind", vt->name);
	if (release && kver_parse(release, &kv) == 0 && kver_compare(&kv, 6, 0) < 0)
		return strf("%s (%s) is built into the kernel and cannot be unbound, and vfio-pci "
			    "removes it only from Linux 6.0 on (this kernel is %s): make another "
			    "display adapter the primary one in the firmware setup, or bind with "
			    "--force if the host console may go on writing to this device",
			    vt->name, vtcon_display_name(name), release);
	return strf("%s (%s) is built into the kernel and cannot be unbound; vfio-pci replaces "
		    "it with the dummy console when it takes the device (Linux 6.0 and later): "
		    "bind with --force if the host can do without this screen until the next boot",
		    vt->name, vtcon_display_name(name));
}

struct framebuffer {
	const char *name;
	char *id; /* the fb's "name" attribute ("EFI VGA", "bochs-drmdrmfb") */
	bool on_device, firmware;
};

struct framebuffers {
	struct framebuffer *v;
	size_t n;
};

static void framebuffers_done(struct framebuffers *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].id);
	free(f->v);
}

/*
 * True unless the device says it is not the boot VGA. An unreadable or garbage boot_vga on a
 * device that has one is taken as "yes": the console checks decide then.
 */
static bool device_is_boot_vga(struct passthru_ctx *ctx, int devfd)
{
	_cleanup_free_ char *s = NULL;
	int r;

	r = attr_read_at(devfd, "boot_vga", &s);
	if (r == -ENOENT)
		return false;
	if (r < 0) {
		log_debug(ctx, "boot_vga: %s; checking its console anyway", strerror(-r));
		return true;
	}
	if (strcmp(s, "0") == 0)
		return false;
	if (strcmp(s, "1") != 0)
		log_debug(ctx, "boot_vga: unexpected value; checking its console anyway");
	return true;
}

/* The framebuffers (/sys/class/graphics/fbN; "fbcon" there is no framebuffer). */
static int framebuffers_read(struct passthru_ctx *ctx, const struct sysfs_list *gfx,
			     const char *devpath, struct framebuffers *ret)
{
	_cleanup_(framebuffers_done) struct framebuffers f = {0};

	f.v = calloc(gfx->n ? gfx->n : 1, sizeof(*f.v));
	if (!f.v)
		return -ENOMEM;
	for (size_t i = 0; i < gfx->n; i++) {
		_cleanup_close_ int fd = -1;
		struct framebuffer *fb = &f.v[f.n];

		if (!name_is_numbered(gfx->v[i].name, "fb"))
			continue;
		fb->name = gfx->v[i].name;
		fb->on_device = path_is_below(gfx->v[i].path, devpath);
		fb->firmware = path_is_below(gfx->v[i].path, "/sys/devices/platform");
		f.n++;
		fd = root_open_dir(ctx, gfx->v[i].path);
		if (fd >= 0 && attr_read_at(fd, "name", &fb->id) == -ENOMEM)
			return -ENOMEM;
	}
	*ret = f;
	f = (struct framebuffers){0};
	return 0;
}

/* The framebuffer fbcon draws on when it is on this device: its own, else the firmware's. */
static const struct framebuffer *fbcon_framebuffer(const struct framebuffers *f)
{
	for (size_t j = 0; j < f->n; j++)
		if (f->v[j].on_device)
			return &f->v[j];
	for (size_t j = 0; j < f->n; j++)
		if (f->v[j].firmware)
			return &f->v[j];
	return NULL;
}

/* One /sys/class/vtconsole/vtconN that is bound and not the dummy console. */
static int vtcon_check(struct passthru_ctx *ctx, const struct sysfs_entry *vt,
		       const struct framebuffers *fbs, bool *fbcon_bound,
		       struct passthru_guard_list *list)
{
	_cleanup_free_ char *name = NULL, *bind = NULL, *hint = NULL;
	_cleanup_close_ int fd = root_open_dir(ctx, vt->path);
	const struct framebuffer *fb;
	const char *shown;

	if (fd < 0)
		return errno_is_vanished(fd) ? 0 : fd;
	if (attr_read_at(fd, "name", &name) < 0 || attr_read_at(fd, "bind", &bind) < 0)
		return 0; /* not a console we can say anything about */
	if (strcmp(bind, "0") == 0 || strstr(name, "dummy"))
		return 0;
	shown = vtcon_display_name(name);
	hint = vtcon_hint(ctx, vt, name);
	if (!hint)
		return -ENOMEM;
	if (!strstr(name, "frame buffer"))
		return guard_list_add(list, PASSTHRU_GUARD_CONSOLE, vt->name, hint,
				      "the boot VGA drives the host console: %s (%s) is bound",
				      vt->name, shown);
	*fbcon_bound = true;
	fb = fbcon_framebuffer(fbs);
	if (!fb)
		return 0; /* fbcon draws on another device's framebuffer */
	return guard_list_add(list, PASSTHRU_GUARD_CONSOLE, vt->name, hint,
			      "the boot VGA drives the host console: %s (%s) is bound to %s (%s)%s",
			      vt->name, shown, fb->name, fb->id ? fb->id : "no name",
			      fb->on_device ? " on it" : ", the firmware's framebuffer on it");
}

/*
 * The boot VGA drives the host console when a console is bound to it: vgacon (the VGA text
 * console, "VGA+") always is on the boot VGA; fbcon ("frame buffer device") is when a
 * framebuffer lives on the device (a DRM driver's fbdev) or is the firmware's (efifb, vesafb,
 * simplefb: platform devices showing the boot VGA's memory). A framebuffer on the device
 * counts even without fbcon: something on the host may draw on it.
 */
static int guard_check_boot_vga(struct passthru_ctx *ctx, int devfd, const char *devpath,
				struct passthru_guard_list *list)
{
	_cleanup_(sysfs_list_done) struct sysfs_list vt = {0}, gfx = {0};
	_cleanup_(framebuffers_done) struct framebuffers fbs = {0};
	bool fbcon_bound = false;
	int r;

	if (!device_is_boot_vga(ctx, devfd))
		return 0;

	r = sysfs_class_list(ctx, "/sys/class/graphics", NULL, &gfx);
	if (r < 0)
		return r;
	r = framebuffers_read(ctx, &gfx, devpath, &fbs);
	if (r < 0)
		return r;
	r = sysfs_class_list(ctx, "/sys/class/vtconsole", NULL, &vt);
	if (r < 0)
		return r;
	for (size_t i = 0; i < vt.n; i++) {
		r = vtcon_check(ctx, &vt.v[i], &fbs, &fbcon_bound, list);
		if (r < 0)
			return r;
	}
	for (size_t j = 0; j < fbs.n && !fbcon_bound; j++) {
		if (!fbs.v[j].on_device)
			continue;
		r = guard_list_add(
		    list, PASSTHRU_GUARD_CONSOLE, fbs.v[j].name, NULL,
		    "the boot VGA has framebuffer %s (%s), which the host may draw on",
		    fbs.v[j].name, fbs.v[j].id ? fbs.v[j].id : "no name");
		if (r < 0)
			return r;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Console: serial ports                                                                      */

static int guard_add_serial_console(struct passthru_guard_list *list,
				    struct passthru_serial_port *port)
{
	_cleanup_free_ char *hint = NULL;
	const char *name = passthru_serial_port_get_name(port);

	if (!passthru_serial_port_is_console(port))
		return 0;
	hint = strf("boot without console=%s on the kernel command line", name);
	if (!hint)
		return -ENOMEM;
	return guard_list_add(list, PASSTHRU_GUARD_CONSOLE, name, hint, "%s is a host console",
			      name);
}

/*
 * The tty core makes virtual terminals (tty, tty0, tty1...), console, ptmx and ttyprintk
 * without a parent device: they are below /sys/devices/virtual, never a device's. They are
 * most of /sys/class/tty (64 VTs), so they are known by name rather than by their links.
 */
static bool tty_is_virtual(const char *name)
{
	return strcmp(name, "tty") == 0 || name_is_numbered(name, "tty") ||
	       strcmp(name, "console") == 0 || strcmp(name, "ptmx") == 0 ||
	       strcmp(name, "ttyprintk") == 0;
}

/* Serial ports below the device (a PCI UART card, a USB serial adapter behind xHCI). */
static int guard_check_ttys(struct passthru_ctx *ctx, const char *devpath,
			    struct passthru_guard_list *list)
{
	_cleanup_(sysfs_list_done) struct sysfs_list ttys = {0};
	int r;

	r = sysfs_class_list(ctx, "/sys/class/tty", tty_is_virtual, &ttys);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ttys.n; i++) {
		struct passthru_serial_port *port = NULL;

		if (!path_is_below(ttys.v[i].path, devpath))
			continue;
		r = passthru_serial_port_new(ctx, ttys.v[i].name, &port);
		if (r == -ENODEV || r == -EINVAL)
			continue; /* not a serial port, a phantom, or gone */
		if (r < 0)
			return r;
		r = guard_add_serial_console(list, port);
		passthru_serial_port_unref(port);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* SR-IOV                                                                                     */

/*
 * Unbinding a PF from its driver disables SR-IOV on the way (drivers call pci_disable_sriov()
 * in their remove), so every VF disappears, with whatever driver or VM was using it.
 * VFs without a driver are nobody's.
 */
static int guard_check_vfs(int devfd, const char *address, struct passthru_guard_list *list)
{
	_cleanup_strv_free_ char **links = NULL;
	int r;

	r = dir_numbered_entries(devfd, "virtfn", &links);
	if (r < 0)
		return r;
	STRV_FOREACH (l, links) {
		_cleanup_free_ char *vf = NULL, *driver = NULL, *driver_link = NULL, *hint = NULL;

		r = attr_link_basename_at(devfd, *l, &vf);
		if (errno_is_vanished(r))
			continue;
		if (r < 0)
			return r;
		driver_link = strf("%s/driver", *l);
		if (!driver_link)
			return -ENOMEM;
		r = attr_link_basename_at(devfd, driver_link, &driver);
		if (errno_is_vanished(r))
			continue; /* no driver, or the VF went away */
		if (r < 0)
			return r;
		hint =
		    strf("echo 0 > /sys/bus/pci/devices/%s/sriov_numvfs, once nothing uses its VFs",
			 address);
		if (!hint)
			return -ENOMEM;
		r = guard_list_add(list, PASSTHRU_GUARD_VFS_IN_USE, vf, hint,
				   "VF %s is bound to %s; taking the PF would remove it", vf,
				   driver);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Public checks                                                                              */

_public_ int passthru_guard_list_check_pci(struct passthru_ctx *ctx, const char *address,
					   struct passthru_guard_list **ret)
{
	_cleanup_(guard_list_freep) struct passthru_guard_list *list = NULL;
	_cleanup_free_ char *link = NULL, *devpath = NULL;
	_cleanup_close_ int devfd = -1;
	char addr[PASSTHRU_PCI_ADDRESS_LEN + 1];
	int r;

	if (!ctx || !ret)
		return -EINVAL;
	r = passthru_pci_address_parse(address, addr);
	if (r < 0)
		return r;
	link = strf("/sys/bus/pci/devices/%s", addr);
	if (!link)
		return -ENOMEM;
	r = root_resolve_link(ctx, link, &devpath);
	if (r < 0)
		return errno_is_vanished(r) ? -ENODEV : r;
	devfd = root_open_dir(ctx, devpath);
	if (devfd < 0)
		return errno_is_vanished(devfd) ? -ENODEV : devfd;

	r = guard_list_new(ctx, &list);
	if (r < 0)
		return r;
	log_debug(ctx, "%s: checking what the host uses below %s", addr, devpath);

	r = guard_check_storage(ctx, devpath, list);
	if (r < 0)
		return r;
	r = guard_check_network(ctx, devpath, list);
	if (r < 0)
		return r;
	r = guard_check_boot_vga(ctx, devfd, devpath, list);
	if (r < 0)
		return r;
	r = guard_check_ttys(ctx, devpath, list);
	if (r < 0)
		return r;
	r = guard_check_vfs(devfd, addr, list);
	if (r < 0)
		return r;

	*ret = TAKE_PTR(list);
	return 0;
}

/* The old name. */
_public_ int passthru_guard_check_pci(struct passthru_ctx *ctx, const char *address,
				      struct passthru_guard_list **ret)
    _alias_(passthru_guard_list_check_pci);

_public_ int passthru_guard_list_check_serial(struct passthru_ctx *ctx, const char *port,
					      struct passthru_guard_list **ret)
{
	_cleanup_(guard_list_freep) struct passthru_guard_list *list = NULL;
	struct passthru_serial_port *p = NULL;
	int r;

	if (!ctx || !ret)
		return -EINVAL;
	r = passthru_serial_port_new(ctx, port, &p);
	if (r < 0)
		return r;
	r = guard_list_new(ctx, &list);
	if (r >= 0)
		r = guard_add_serial_console(list, p);
	passthru_serial_port_unref(p);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(list);
	return 0;
}

/* The old name. */
_public_ int passthru_guard_check_serial(struct passthru_ctx *ctx, const char *port,
					 struct passthru_guard_list **ret)
    _alias_(passthru_guard_list_check_serial);
