// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * passthrud's side of Kubernetes: the resources of kubernetes.d, read at start-up and again
 * whenever the directory changes (inotify, in the event loop: no restart). Their devices belong
 * to the kubelet (the device plugin API has no release call: the kubelet tracks its pods), so
 * the HTTP API shows them owned by the kubelet and never allocates them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "kubernetes-files.h"
#include "passthrud.h"

/* An editor writes a file in several steps: the changes of this long are read once. */
#define RELOAD_DELAY_USEC (100 * 1000ULL)

/*
 * kubernetes.d may not exist yet, nor /etc/passthru: each level is watched for the next one to
 * appear, and the directory itself for its files.
 */
struct kube_watch {
	struct daemon *d;
	int fd;
	int wd_etc, wd_passthru, wd_dir; /* -1: not watched (the directory is not there) */
	sd_event_source *io, *timer;
};

static char *host_path(const struct daemon *d, const char *path)
{
	const char *root = passthru_ctx_get_sysroot(d->ctx);
	char *s;

	if (asprintf(&s, "%s%s", strcmp(root, "/") == 0 ? "" : root, path) < 0)
		return NULL;
	return s;
}

static int watch_path(struct kube_watch *w, const char *path, uint32_t mask)
{
	char *full = host_path(w->d, path);
	int wd;

	if (!full)
		return -1;
	wd = inotify_add_watch(w->fd, full, mask | IN_ONLYDIR);
	free(full);
	return wd;
}

/* (Again) watches each level that exists now. */
static void watch_levels(struct kube_watch *w)
{
	w->wd_etc = watch_path(w, "/etc", IN_CREATE | IN_MOVED_TO);
	w->wd_passthru =
	    watch_path(w, "/etc/passthru", IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM);
	w->wd_dir = watch_path(w, KUBE_CONFIG_DIR,
			       IN_CREATE | IN_DELETE | IN_CLOSE_WRITE | IN_MOVED_TO |
				   IN_MOVED_FROM | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF);
}

static bool str_equal(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool config_equal(const struct kube_config *a, const struct kube_config *b)
{
	if (a->n != b->n || a->n_problems != b->n_problems)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct kube_resource *x = &a->v[i], *y = &b->v[i];

		if (!str_equal(x->name, y->name) || x->vendor_id != y->vendor_id ||
		    x->device_id != y->device_id || !str_equal(x->type, y->type) ||
		    x->numa_node != y->numa_node || !str_equal(x->file, y->file) ||
		    x->line != y->line)
			return false;
	}
	for (size_t i = 0; i < a->n_problems; i++)
		if (!str_equal(a->problems[i], b->problems[i]))
			return false;
	return true;
}

/* Whether old had the problem already, in a file that has not changed since. */
static bool problem_told(const struct kube_config *old, const struct kube_config *cfg,
			 const char *problem)
{
	const struct kube_file *now = kube_config_problem_file(cfg, problem), *then;
	bool known = false;

	for (size_t i = 0; old && i < old->n_problems && !known; i++)
		known = strcmp(old->problems[i], problem) == 0;
	if (!known || !now)
		return false;
	then = kube_config_problem_file(old, problem);
	return then && then->digest == now->digest;
}

/*
 * The problems of cfg, each once per change of its file: those old (the configuration before,
 * NULL at start-up) told already, in a file whose text is the same, are not told again.
 */
static void print_problems(const struct kube_config *cfg, const struct kube_config *old)
{
	/* A bad line leaves out its resource only: the others still serve. */
	for (size_t i = 0; i < cfg->n_problems; i++)
		if (!problem_told(old, cfg, cfg->problems[i]))
			fprintf(stderr, "passthrud: %s\n", cfg->problems[i]);
}

/* The owning resource's name of each function (NULL: none), borrowed from d->kube. */
static const char **owners(const struct daemon *d)
{
	const char **v = calloc(d->inv.n ?: 1, sizeof(*v));
	struct kube_function *f = kubernetes_functions(&d->inv);

	if (!v || !f) {
		free(v);
		free(f);
		return NULL;
	}
	for (size_t i = 0; i < d->inv.n; i++) {
		int ri = kube_config_owner(&d->kube, f, d->inv.n, d->inv.v[i].address);

		v[i] = ri >= 0 ? d->kube.v[ri].name : NULL;
	}
	free(f);
	return v;
}

/*
 * A "device" event for each function whose owning resource changed (action "change", uevent
 * null): the clients of the stream see a device become the kubelet's or come back.
 */
static void emit_owner_changes(struct daemon *d, const char **before, const char **after)
{
	for (size_t i = 0; before && after && i < d->inv.n; i++) {
		struct json_object *o;

		if (str_equal(before[i], after[i]))
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "action", json_object_new_string("change"));
		json_object_object_add(o, "uevent", NULL);
		json_object_object_add(o, "address", json_object_new_string(d->inv.v[i].address));
		json_object_object_add(o, "device", device_to_json(d, &d->inv.v[i]));
		events_emit(d, "device", o);
	}
}

/* Reads kubernetes.d again; a change goes to the device plugin and the HTTP API at once. */
static void reload(struct daemon *d)
{
	struct kube_config cfg = {}, old;
	const char **before, **after;
	int r = kube_config_load(passthru_ctx_get_sysroot(d->ctx), &cfg);

	if (r < 0) {
		fprintf(stderr, "passthrud: %s: cannot read: %s; the resources stay as they were\n",
			KUBE_CONFIG_DIR, strerror(-r));
		kube_config_done(&cfg);
		return;
	}
	if (config_equal(&cfg, &d->kube)) {
		struct kube_file *files = d->kube.files;
		size_t n_files = d->kube.n_files;

		/*
		 * Nothing to apply. A file whose text changed (a comment) with its bad line kept
		 * has it told again; the digests are the new ones from now on.
		 */
		print_problems(&cfg, &d->kube);
		d->kube.files = cfg.files;
		d->kube.n_files = cfg.n_files;
		cfg.files = files;
		cfg.n_files = n_files;
		kube_config_done(&cfg);
		return;
	}
	fprintf(stderr, "passthrud: %s changed: %zu resource%s\n", KUBE_CONFIG_DIR, cfg.n,
		cfg.n == 1 ? "" : "s");
	print_problems(&cfg, &d->kube);
	before = owners(d);
	old = d->kube;
	d->kube = cfg;
	kubelet_config_changed(d);
	after = owners(d);
	emit_owner_changes(d, before, after);
	free(before);
	free(after);
	kube_config_done(&old);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct kube_watch *w = userdata;

	reload(w->d);
	return 0;
}

static int on_change(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct kube_watch *w = userdata;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool changed = false;
	int enabled = SD_EVENT_OFF;
	uint64_t now;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (char *at = buf; at < buf + n;) {
			const struct inotify_event *e = (const struct inotify_event *)at;

			/* Events were lost (wd -1, as an unwatched level's): read all again. */
			if (e->mask & IN_Q_OVERFLOW)
				changed = true;
			else if (e->wd == w->wd_etc)
				changed |= e->len && strcmp(e->name, "passthru") == 0;
			else if (e->wd == w->wd_passthru)
				changed |= e->len && strcmp(e->name, "kubernetes.d") == 0;
			else if (e->wd == w->wd_dir)
				changed = true;
			at += sizeof(*e) + e->len;
		}
	if (!changed)
		return 0;
	watch_levels(w);
	sd_event_source_get_enabled(w->timer, &enabled);
	if (enabled != SD_EVENT_OFF)
		return 0;
	sd_event_now(w->d->event, CLOCK_MONOTONIC, &now);
	sd_event_source_set_time(w->timer, now + RELOAD_DELAY_USEC);
	sd_event_source_set_enabled(w->timer, SD_EVENT_ONESHOT);
	return 0;
}

static int watch_start(struct daemon *d)
{
	struct kube_watch *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	d->kube_watch = w;
	w->d = d;
	w->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (w->fd < 0)
		return -errno;
	watch_levels(w);
	r = sd_event_add_io(d->event, &w->io, w->fd, EPOLLIN, on_change, w);
	if (r < 0)
		return r;
	r = sd_event_add_time(d->event, &w->timer, CLOCK_MONOTONIC, 0, 10000, on_timer, w);
	if (r < 0)
		return r;
	return sd_event_source_set_enabled(w->timer, SD_EVENT_OFF);
}

int kubernetes_start(struct daemon *d)
{
	int r = kube_config_load(passthru_ctx_get_sysroot(d->ctx), &d->kube);

	if (r < 0) {
		fprintf(stderr, "passthrud: %s: cannot read: %s\n", KUBE_CONFIG_DIR, strerror(-r));
		return r;
	}
	print_problems(&d->kube, NULL);
	r = watch_start(d);
	if (r < 0)
		fprintf(stderr, "passthrud: %s: cannot watch it (changes need a restart): %s\n",
			KUBE_CONFIG_DIR, strerror(-r));
	return 0;
}

void kubernetes_stop(struct daemon *d)
{
	struct kube_watch *w = d->kube_watch;

	if (w) {
		sd_event_source_disable_unref(w->io);
		sd_event_source_disable_unref(w->timer);
		if (w->fd >= 0)
			close(w->fd);
		free(w);
		d->kube_watch = NULL;
	}
	kube_config_done(&d->kube);
}

/* The inventory as kubernetes-config.c takes it; strings borrowed from inv. */
struct kube_function *kubernetes_functions(const struct inventory *inv)
{
	struct kube_function *f = calloc(inv->n ?: 1, sizeof(*f));

	if (!f)
		return NULL;
	for (size_t i = 0; i < inv->n; i++) {
		const struct device *dev = &inv->v[i];

		f[i] = (struct kube_function){
		    .address = dev->address,
		    .type = dev->type,
		    .driver = dev->driver,
		    .vendor_id = dev->vendor_id,
		    .device_id = dev->device_id,
		    .group = dev->group,
		    .numa_node = dev->numa_node,
		    .non_endpoint = dev->non_endpoint,
		};
	}
	return f;
}

const char *kubernetes_owner(const struct daemon *d, const char *address)
{
	struct kube_function *f;
	int ri;

	if (d->kube.n == 0)
		return NULL;
	f = kubernetes_functions(&d->inv);
	/* Out of memory: say the kubelet owns it, never hand it out twice. */
	if (!f)
		return "?";
	ri = kube_config_owner(&d->kube, f, d->inv.n, address);
	free(f);
	return ri >= 0 ? d->kube.v[ri].name : NULL;
}

struct json_object *kubernetes_to_json(const struct daemon *d)
{
	struct json_object *o = json_object_new_object(), *list = json_object_new_array();
	struct kube_function *f = kubernetes_functions(&d->inv);

	for (size_t ri = 0; ri < d->kube.n; ri++) {
		struct json_object *r = json_object_new_object(), *devs = json_object_new_array();
		struct kube_devices kd = {};

		json_object_object_add(r, "name", json_object_new_string(d->kube.v[ri].name));
		/* Where it is defined: taking a device out of it is a change there. */
		json_object_object_add(r, "file", json_object_new_string(d->kube.v[ri].file));
		json_object_object_add(r, "line", json_object_new_int((int)d->kube.v[ri].line));
		json_object_object_add(r, "registration",
				       json_object_new_string(kubelet_registration(d, ri)));
		if (f && kube_resource_devices(&d->kube, ri, f, d->inv.n, &kd) >= 0)
			for (size_t i = 0; i < kd.n; i++) {
				struct json_object *dv = json_object_new_object();

				json_object_object_add(dv, "id", json_object_new_string(kd.v[i].id));
				json_object_object_add(
				    dv, "health",
				    json_object_new_string(kd.v[i].healthy ? "Healthy" : "Unhealthy"));
				json_object_array_add(devs, dv);
			}
		kube_devices_done(&kd);
		json_object_object_add(r, "devices", devs);
		json_object_array_add(list, r);
	}
	free(f);
	json_object_object_add(o, "resources", list);
	return o;
}
