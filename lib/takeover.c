/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The takeover: moving PCI functions to vfio-pci and back, as a plan and a transaction.
 *
 * Per device, binding is the kernel's documented sequence: write "vfio-pci" to driver_override
 * (so that only vfio-pci matches the device, whatever ids other drivers claim), unbind the
 * current driver, write the address to drivers_probe. new_id is never used: it matches every
 * device with the same vendor:device, host ones included, and fails with "File exists" when
 * the id is already there.
 *
 * VFIO can only hand a device to a VM when every endpoint of its IOMMU group is on a VFIO
 * driver or on none (bridges excepted), so the plan works on groups.
 *
 * Unbinding can block in the kernel for as long as a driver wants (vfio-pci's remove waits for
 * the VM to release the device; a GPU driver may wait for its clients) and a write() stuck
 * there cannot be interrupted. Such writes are made by a helper process over a socket; when
 * the helper does not answer in time it is abandoned, still stuck, and the caller gets
 * -ETIMEDOUT, the device's state and the kernel's last words instead of a hang. The helper is
 * a grandchild, so nobody has to reap it.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include "host.h"
#include "pci.h"
#include "takeover.h"

#define DEFAULT_TIMEOUT_MS 10000
#define LOCK_TIMEOUT_MS	   30000

/* ------------------------------------------------------------------------------------------ */
/* Device state                                                                               */

void device_state_done(struct device_state *s)
{
	free(s->driver);
	free(s->override);
	s->driver = s->override = NULL;
	s->present = false;
}

static int device_dir_open(struct passthru_ctx *ctx, const char *address)
{
	_cleanup_free_ char *path = NULL;
	int fd;

	if (asprintf(&path, "/sys/bus/pci/devices/%s", address) < 0)
		return -ENOMEM;
	fd = root_open_dir(ctx, path);
	return fd == -ENOENT ? -ENODEV : fd;
}

/* The driver alone: a readlink, which no device lock holds up. NULL when none. */
static int device_driver_read(struct passthru_ctx *ctx, const char *address, char **ret)
{
	_cleanup_close_ int fd = device_dir_open(ctx, address);
	char *driver = NULL;
	int r;

	if (fd < 0)
		return fd;
	r = attr_link_basename_at(fd, "driver", &driver);
	if (r < 0 && r != -ENOENT)
		return r;
	*ret = driver;
	return 0;
}

/* The kernel shows an unset override as "(null)"; NULL here. Takes s. */
static char *override_value(char *s)
{
	if (s && (!*s || strcmp(s, "(null)") == 0)) {
		free(s);
		return NULL;
	}
	return s;
}

int device_state_read(struct passthru_ctx *ctx, struct timed_writer *w, unsigned timeout_ms,
		      const char *address, struct device_state *ret)
{
	_cleanup_close_ int fd = device_dir_open(ctx, address);
	_cleanup_free_ char *driver = NULL, *override = NULL;
	int r;

	if (fd < 0)
		return fd;
	r = attr_link_basename_at(fd, "driver", &driver);
	if (r < 0 && r != -ENOENT)
		return r;
	/*
	 * Showing driver_override takes the device lock, which a stuck unbind or probe holds:
	 * with a helper, the read is abandoned after the timeout like a write.
	 */
	if (w) {
		_cleanup_free_ char *path = NULL;

		if (asprintf(&path, "/sys/bus/pci/devices/%s/driver_override", address) < 0)
			return -ENOMEM;
		r = timed_read(w, path, timeout_ms, &override);
	} else {
		r = attr_read_at(fd, "driver_override", &override);
	}
	if (r < 0 && r != -ENOENT)
		return r;
	ret->present = true;
	ret->driver = TAKE_PTR(driver);
	ret->override = override_value(TAKE_PTR(override));
	return 0;
}

static bool streq_null(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* ------------------------------------------------------------------------------------------ */
/* What to tell about a device that failed                                                   */

int kmsg_record_parse(const char *record, size_t len, char **ret)
{
	const char *p = record, *end = record + len, *semi, *nl;
	unsigned long long fields[3];
	_cleanup_free_ char *msg = NULL;

	/* "PRIO,SEQ,TIMESTAMP_US,FLAGS[,...];MESSAGE\n[ KEY=VALUE\n...]" */
	semi = memchr(record, ';', len);
	if (!semi)
		return -EBADMSG;
	for (int i = 0; i < 3; i++) {
		unsigned long long v = 0;
		const char *start = p;

		while (p < semi && *p >= '0' && *p <= '9') {
			if (v > (~0ULL - 9) / 10)
				return -EBADMSG;
			v = v * 10 + (unsigned long long)(*p++ - '0');
		}
		if (p == start || p >= semi || *p != ',')
			return -EBADMSG;
		p++;
		fields[i] = v;
	}
	nl = memchr(semi + 1, '\n', (size_t)(end - semi - 1));
	msg = strndup(semi + 1, nl ? (size_t)(nl - semi - 1) : (size_t)(end - semi - 1));
	if (!msg)
		return -ENOMEM;
	if (strlen(msg) != (size_t)((nl ? nl : end) - semi - 1))
		return -EBADMSG;
	{
		_cleanup_free_ char *clean = escape_for_message(msg, 400);

		if (!clean)
			return -ENOMEM;
		if (asprintf(ret, "[%5llu.%06llu] %s", fields[2] / 1000000, fields[2] % 1000000,
			     clean) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Keeps the last n lines of a stream in a ring. */
struct ring {
	char *lines[8];
	size_t n, next, max;
};

static void ring_put(struct ring *r, char *line)
{
	free(r->lines[r->next]);
	r->lines[r->next] = line;
	r->next = (r->next + 1) % r->max;
	if (r->n < r->max)
		r->n++;
}

static int ring_take(struct ring *r, char ***v)
{
	for (size_t i = 0; i < r->n; i++) {
		size_t k = (r->next + r->max - r->n + i) % r->max;
		int q = strv_consume(v, TAKE_PTR(r->lines[k]));

		if (q < 0)
			return q;
	}
	return 0;
}

static void ring_clear(struct ring *r)
{
	for (size_t i = 0; i < ELEMENTSOF(r->lines); i++)
		free(r->lines[i]);
}

static void kmsg_take(struct ring *about, const char *address, const char *rec, size_t len)
{
	char *line = NULL;

	if (kmsg_record_parse(rec, len, &line) < 0)
		return;
	if (strstr(line, address))
		ring_put(about, line);
	else
		free(line);
}

/*
 * The kernel's last messages that name address ("vfio-pci 0000:42:00.0: ..."), none when no
 * message does: the lines before a failure are as often about other devices, and shown under
 * this one they would read as its cause. /dev/kmsg hands out one record per read(); a fixture
 * root has a plain file instead.
 */
static int kmsg_tail(struct passthru_ctx *ctx, const char *address, char ***v)
{
	_cleanup_close_ int fd = root_open(ctx, "/dev/kmsg", O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
	struct ring about = {.max = 8};
	char buf[8192];
	struct stat st;
	size_t have = 0;
	int r;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	for (unsigned reads = 0; reads < 100000; reads++) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);

		if (n < 0 && errno == EPIPE)
			continue; /* records were overwritten while we read: go on */
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (!S_ISREG(st.st_mode)) {
			kmsg_take(&about, address, buf, (size_t)n);
			continue;
		}
		have += (size_t)n;
		for (;;) {
			char *nl = memchr(buf, '\n', have);
			size_t l;

			if (!nl)
				break;
			l = (size_t)(nl - buf) + 1;
			kmsg_take(&about, address, buf, l);
			memmove(buf, buf + l, have - l);
			have -= l;
		}
		if (have == sizeof(buf) - 1)
			have = 0; /* a line longer than any record: drop it */
	}
	r = ring_take(&about, v);
	ring_clear(&about);
	return r;
}

int device_describe(struct passthru_ctx *ctx, struct timed_writer *w, const char *address,
		    char ***ret)
{
	_cleanup_strv_free_ char **v = NULL;
	struct device_state s = {0};
	_cleanup_free_ char *line = NULL, *power = NULL, *enable = NULL;
	int r;

	r = device_state_read(ctx, w, 1000, address, &s);
	if (r == -ETIMEDOUT) {
		if (asprintf(&line,
			     "%s: state unreadable: the device is locked (by the stuck write)",
			     address) < 0)
			return -ENOMEM;
	} else if (r < 0) {
		if (asprintf(&line, "%s: state unreadable: %s", address, strerror(-r)) < 0)
			return -ENOMEM;
	} else {
		_cleanup_close_ int fd = device_dir_open(ctx, address);

		if (fd >= 0) {
			(void)attr_read_at(fd, "power_state", &power);
			(void)attr_read_at(fd, "enable", &enable);
		}
		r = asprintf(&line, "%s: driver %s, driver_override %s%s%s%s%s", address,
			     s.driver ?: "(none)", s.override ?: "(none)",
			     power ? ", power state " : "", power ?: "", enable ? ", enable " : "",
			     enable ?: "");
		device_state_done(&s);
		if (r < 0)
			return -ENOMEM;
	}
	r = strv_consume(&v, TAKE_PTR(line));
	if (r < 0)
		return r;
	{
		_cleanup_strv_free_ char **k = NULL;

		if (kmsg_tail(ctx, address, &k) >= 0)
			STRV_FOREACH (m, k) {
				char *l = NULL;

				if (asprintf(&l, "kernel: %s", *m) < 0)
					return -ENOMEM;
				r = strv_consume(&v, l);
				if (r < 0)
					return r;
			}
	}
	*ret = TAKE_PTR(v);
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Who holds a group                                                                          */

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* A file under /dev/vfio that a process has open. */
struct vfio_opener {
	char *path;
	char *who; /* "pid 812 (qemu-system-x86)" */
};

static void openers_free(struct vfio_opener *o, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(o[i].path);
		free(o[i].who);
	}
	free(o);
}

/* Every process's open files under /dev/vfio: one pass over /proc, however many groups. */
static int vfio_openers_scan(struct passthru_ctx *ctx, struct vfio_opener **ret, size_t *ret_n)
{
	_cleanup_closedir_ DIR *proc = NULL;
	struct vfio_opener *list = NULL;
	struct dirent *de;
	size_t n = 0;
	int r;

	r = root_opendir(ctx, "/proc", &proc);
	if (r < 0)
		return r;
	while ((de = readdir(proc))) {
		_cleanup_free_ char *fddir = NULL, *who = NULL;
		_cleanup_closedir_ DIR *fds = NULL;
		struct dirent *fe;

		if (!all_digits(de->d_name))
			continue;
		if (asprintf(&fddir, "/proc/%s/fd", de->d_name) < 0)
			goto oom;
		/* Processes come and go while we look: a vanished one holds nothing. */
		if (root_opendir(ctx, fddir, &fds) < 0)
			continue;
		while ((fe = readdir(fds))) {
			_cleanup_free_ char *target = NULL;
			struct vfio_opener *nl;
			bool seen = false;

			if (fe->d_name[0] == '.' ||
			    attr_readlink_at(dirfd(fds), fe->d_name, &target) < 0 ||
			    strncmp(target, "/dev/vfio/", 10) != 0)
				continue;
			for (size_t i = 0; i < n && !seen; i++)
				seen = strcmp(list[i].path, target) == 0 && who &&
				       strcmp(list[i].who, who) == 0;
			if (seen)
				continue;
			if (!who) {
				_cleanup_free_ char *commpath = NULL, *comm = NULL, *clean = NULL;

				if (asprintf(&commpath, "/proc/%s/comm", de->d_name) < 0)
					goto oom;
				if (root_read_file(ctx, commpath, &comm, NULL) >= 0) {
					strip_trailing(comm);
					clean = escape_for_message(comm, 64);
				}
				if (asprintf(&who, "pid %s (%s)", de->d_name, clean ?: "?") < 0) {
					who = NULL;
					goto oom;
				}
			}
			nl = realloc(list, (n + 1) * sizeof(*list));
			if (!nl)
				goto oom;
			list = nl;
			list[n].path = TAKE_PTR(target);
			list[n].who = strdup(who);
			if (!list[n++].who)
				goto oom;
		}
	}
	*ret = list;
	*ret_n = n;
	return 0;
oom:
	openers_free(list, n);
	return -ENOMEM;
}

/*
 * Who holds a device for a VM: /dev/vfio/<group> open, or with iommufd (6.2+) the device's own
 * cdev, listed under its vfio-dev/ directory. Lines "/dev/vfio/5 is open by pid 812 (qemu)".
 */
static int openers_match(struct passthru_ctx *ctx, const struct vfio_opener *o, size_t n, int group,
			 const char *address, char ***ret)
{
	_cleanup_strv_free_ char **users = NULL, **paths = NULL;
	char *p;
	int r;

	if (asprintf(&p, "/dev/vfio/%d", group) < 0)
		return -ENOMEM;
	r = strv_consume(&paths, p);
	if (r < 0)
		return r;
	if (address) {
		_cleanup_free_ char *dir = NULL;
		_cleanup_closedir_ DIR *d = NULL;
		struct dirent *de;

		if (asprintf(&dir, "/sys/bus/pci/devices/%s/vfio-dev", address) < 0)
			return -ENOMEM;
		if (root_opendir(ctx, dir, &d) >= 0)
			while ((de = readdir(d))) {
				if (strncmp(de->d_name, "vfio", 4) != 0 ||
				    !all_digits(de->d_name + 4))
					continue;
				if (asprintf(&p, "/dev/vfio/devices/%s", de->d_name) < 0)
					return -ENOMEM;
				r = strv_consume(&paths, p);
				if (r < 0)
					return r;
			}
	}
	for (size_t i = 0; i < n; i++) {
		if (!strv_contains(paths, o[i].path))
			continue;
		if (asprintf(&p, "%s is open by %s", o[i].path, o[i].who) < 0)
			return -ENOMEM;
		r = strv_consume(&users, p);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(users);
	return 0;
}

int vfio_group_users(struct passthru_ctx *ctx, int group, const char *address, char ***ret)
{
	struct vfio_opener *o = NULL;
	size_t n = 0;
	int r;

	r = vfio_openers_scan(ctx, &o, &n);
	if (r < 0)
		return r;
	r = openers_match(ctx, o, n, group, address, ret);
	openers_free(o, n);
	return r;
}

/* ------------------------------------------------------------------------------------------ */
/* Fault injection (tests)                                                                    */

static const char *const fault_steps[] = {
    "after-journal", "after-override", "after-unbind", "after-probe", "before-commit",
};

int fault_parse(const char *spec, struct fault *ret)
{
	_cleanup_free_ char *copy = NULL;
	char *parts[5];
	size_t n = 0;
	char *save = NULL;
	long index;
	bool step_ok = false;

	if (!spec || strlen(spec) > 128)
		return -EINVAL;
	copy = strdup(spec);
	if (!copy)
		return -ENOMEM;
	for (char *t = strtok_r(copy, ":", &save); t; t = strtok_r(NULL, ":", &save)) {
		if (n == ELEMENTSOF(parts))
			return -EINVAL;
		parts[n++] = t;
	}
	if (n < 3 || n > 4)
		return -EINVAL;
	if (strcmp(parts[0], "bind") != 0 && strcmp(parts[0], "unbind") != 0 &&
	    strcmp(parts[0], "rollback") != 0 && strcmp(parts[0], "repair") != 0)
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(fault_steps); i++)
		if (strcmp(parts[1], fault_steps[i]) == 0)
			step_ok = true;
	if (!step_ok || parse_long(parts[2], 1, 100000, &index) < 0 || !all_digits(parts[2]))
		return -EINVAL;
	if (n == 4 && strcmp(parts[3], "fail") != 0)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->phase, sizeof(ret->phase), "%s", parts[0]);
	snprintf(ret->step, sizeof(ret->step), "%s", parts[1]);
	ret->index = (unsigned)index;
	ret->fail = n == 4;
	ret->set = true;
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The object                                                                                 */

struct item {
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
	struct passthru_pci_device *dev;
	bool requested;
	/* Not an endpoint (pci_device_non_endpoint()): never goes to vfio-pci. */
	bool bridge;
	const char *non_endpoint;
	int group; /* -1: none */
	char *driver;
	char *override;
	char *original;
	char *original_override;
	/* original is known (NULL then means "no driver"), not just absent. */
	bool original_known;
	char *target;
	bool target_any;
	char *target_override;
	char id[20];
	enum passthru_takeover_action action;
	struct passthru_guard_list *guards;
	char **notes;
	char *result;
};

struct refusal {
	enum passthru_refusal_kind kind;
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
	char *reason;
};

struct passthru_takeover {
	unsigned refcount;
	struct passthru_ctx *ctx;
	enum passthru_takeover_op op;
	unsigned flags;
	unsigned timeout_ms;
	/* The wait for another passthru's lock: the timeout when one was set, else 30 s. */
	unsigned lock_timeout_ms;
	passthru_takeover_wait_fn wait_fn;
	void *wait_userdata;
	char *reset_method;
	struct fault fault;

	char **requested;
	struct item *items;
	size_t n_items;
	struct refusal *refusals;
	size_t n_refusals;
	bool planned;

	char *error;
	char **details;
	enum passthru_repair_outcome repair;

	/* While executing. */
	int lock_fd;
	struct timed_writer *writer;
};

static void item_done(struct item *it)
{
	passthru_pci_device_unref(it->dev);
	passthru_guard_list_unref(it->guards);
	free(it->driver);
	free(it->override);
	free(it->original);
	free(it->original_override);
	free(it->target);
	free(it->target_override);
	free(it->result);
	strv_free(it->notes);
	memset(it, 0, sizeof(*it));
}

static void plan_clear(struct passthru_takeover *t)
{
	for (size_t i = 0; i < t->n_items; i++)
		item_done(&t->items[i]);
	free(t->items);
	t->items = NULL;
	t->n_items = 0;
	for (size_t i = 0; i < t->n_refusals; i++)
		free(t->refusals[i].reason);
	free(t->refusals);
	t->refusals = NULL;
	t->n_refusals = 0;
	t->planned = false;
}

static void error_clear(struct passthru_takeover *t)
{
	free(t->error);
	t->error = NULL;
	strv_free(t->details);
	t->details = NULL;
}

_public_ int passthru_takeover_new(struct passthru_ctx *ctx, enum passthru_takeover_op op,
				   unsigned flags, struct passthru_takeover **ret)
{
	struct passthru_takeover *t;
	const char *fault;

	if (!ctx || !ret || op > PASSTHRU_TAKEOVER_REPAIR ||
	    (flags & ~(PASSTHRU_TAKEOVER_GROUP | PASSTHRU_TAKEOVER_FORCE)))
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->refcount = 1;
	t->ctx = passthru_ctx_ref(ctx);
	t->op = op;
	t->flags = flags;
	t->timeout_ms = DEFAULT_TIMEOUT_MS;
	t->lock_timeout_ms = LOCK_TIMEOUT_MS;
	t->lock_fd = -1;
	fault = getenv("PASSTHRU_FAULT");
	if (fault && *fault && fault_parse(fault, &t->fault) < 0)
		log_debug(ctx, "ignoring malformed PASSTHRU_FAULT");
	*ret = t;
	return 0;
}

_public_ struct passthru_takeover *passthru_takeover_ref(struct passthru_takeover *t)
{
	if (t)
		t->refcount++;
	return t;
}

_public_ struct passthru_takeover *passthru_takeover_unref(struct passthru_takeover *t)
{
	if (!t || --t->refcount > 0)
		return NULL;
	plan_clear(t);
	error_clear(t);
	strv_free(t->requested);
	free(t->reset_method);
	timed_writer_free(t->writer);
	if (t->lock_fd >= 0)
		close(t->lock_fd);
	passthru_ctx_unref(t->ctx);
	free(t);
	return NULL;
}

_public_ int passthru_takeover_add_device(struct passthru_takeover *t, const char *address)
{
	char canonical[PASSTHRU_PCI_ADDRESS_LEN + 1];
	_cleanup_close_ int fd = -1;

	if (!t || !address)
		return -EINVAL;
	if (passthru_pci_address_parse(address, canonical) < 0)
		return -EINVAL;
	fd = device_dir_open(t->ctx, canonical);
	if (fd < 0)
		return fd;
	if (strv_contains(t->requested, canonical))
		return 0;
	t->planned = false;
	return strv_push(&t->requested, canonical);
}

_public_ void passthru_takeover_set_timeout(struct passthru_takeover *t, unsigned msec)
{
	if (!t)
		return;
	t->timeout_ms = msec ? msec : DEFAULT_TIMEOUT_MS;
	t->lock_timeout_ms = msec ? msec : LOCK_TIMEOUT_MS;
}

_public_ void passthru_takeover_set_wait_fn(struct passthru_takeover *t,
					    passthru_takeover_wait_fn fn, void *userdata)
{
	if (!t)
		return;
	t->wait_fn = fn;
	t->wait_userdata = userdata;
}

_public_ int passthru_takeover_set_reset_method(struct passthru_takeover *t, const char *method)
{
	char *m = NULL;

	if (!t)
		return -EINVAL;
	if (method) {
		/* One word of the kernel's list, never something that reaches another file. */
		if (!*method || strlen(method) > 32 || strpbrk(method, " /\n\t"))
			return -EINVAL;
		m = strdup(method);
		if (!m)
			return -ENOMEM;
	}
	free(t->reset_method);
	t->reset_method = m;
	t->planned = false;
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Planning                                                                                   */

/* The helper for reads and writes that may block; NULL (direct reads) when out of memory. */
static struct timed_writer *writer(struct passthru_takeover *t)
{
	if (!t->writer && timed_writer_new(t->ctx, t->lock_fd, &t->writer) < 0)
		t->writer = NULL;
	return t->writer;
}

static struct item *item_find(struct passthru_takeover *t, const char *address)
{
	for (size_t i = 0; i < t->n_items; i++)
		if (strcmp(t->items[i].address, address) == 0)
			return &t->items[i];
	return NULL;
}

static int dup_or_null(const char *s, char **ret)
{
	*ret = NULL;
	if (!s)
		return 0;
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

/* Adds the function at address (once); fills what every op needs. */
static int item_add(struct passthru_takeover *t, const char *address, bool requested,
		    struct item **ret)
{
	struct item *it = item_find(t, address), *n;
	struct passthru_pci_device *dev = NULL;
	char *driver = NULL;
	int r;

	if (it) {
		it->requested |= requested;
		if (ret)
			*ret = it;
		return 0;
	}
	r = passthru_pci_device_new(t->ctx, address, &dev);
	if (r < 0)
		return r;
	/* driver_override comes later, for every device in one round trip (plan_read_overrides). */
	r = device_driver_read(t->ctx, address, &driver);
	if (r < 0) {
		passthru_pci_device_unref(dev);
		return r;
	}
	n = realloc(t->items, (t->n_items + 1) * sizeof(*t->items));
	if (!n) {
		passthru_pci_device_unref(dev);
		free(driver);
		return -ENOMEM;
	}
	t->items = n;
	it = &t->items[t->n_items++];
	memset(it, 0, sizeof(*it));
	memcpy(it->address, passthru_pci_device_get_address(dev), PASSTHRU_PCI_ADDRESS_LEN + 1);
	it->dev = dev;
	it->requested = requested;
	it->non_endpoint = pci_device_non_endpoint(dev);
	it->bridge = it->non_endpoint != NULL;
	if (passthru_pci_device_get_iommu_group(dev, &it->group) < 0)
		it->group = -1;
	it->driver = driver;
	if (pci_identity(dev, it->id) < 0)
		it->id[0] = '\0';
	if (ret)
		*ret = it;
	return 0;
}

static int refuse(struct passthru_takeover *t, enum passthru_refusal_kind kind, const char *address,
		  const char *format, ...) _printf_(4, 5);
static int refuse(struct passthru_takeover *t, enum passthru_refusal_kind kind, const char *address,
		  const char *format, ...)
{
	struct refusal *n;
	char *reason;
	va_list ap;
	int k;

	va_start(ap, format);
	k = vasprintf(&reason, format, ap);
	va_end(ap);
	if (k < 0)
		return -ENOMEM;
	n = realloc(t->refusals, (t->n_refusals + 1) * sizeof(*n));
	if (!n) {
		free(reason);
		return -ENOMEM;
	}
	t->refusals = n;
	n = &t->refusals[t->n_refusals++];
	n->kind = kind;
	snprintf(n->address, sizeof(n->address), "%s", address);
	n->reason = reason;
	return 0;
}

static int note(struct item *it, const char *format, ...) _printf_(2, 3);
static int note(struct item *it, const char *format, ...)
{
	char *s;
	va_list ap;
	int k;

	va_start(ap, format);
	k = vasprintf(&s, format, ap);
	va_end(ap);
	if (k < 0)
		return -ENOMEM;
	return strv_consume(&it->notes, s);
}

static bool is_vfio(const char *driver)
{
	return driver && strcmp(driver, "vfio-pci") == 0;
}

/*
 * The host driver a device on vfio-pci came from: this boot's record first, then the persisted
 * wish, each only when it was made for the device that is at the address now.
 */
static int find_original(struct passthru_takeover *t, struct item *it, struct journal *held,
			 struct passthru_persist *persist)
{
	struct journal_entry *e = held ? journal_find(held, it->address) : NULL;
	int k;

	if (e && (!e->id || streq_null(e->id, it->id))) {
		if (dup_or_null(e->driver, &it->original) < 0 ||
		    dup_or_null(e->override, &it->original_override) < 0)
			return -ENOMEM;
		it->original_known = true;
		return 0;
	}
	k = persist ? passthru_persist_find(persist, it->address) : -ENOENT;
	if (k >= 0 && strcmp(passthru_persist_get_identity(persist, (size_t)k), it->id) == 0 &&
	    passthru_persist_get_host_driver(persist, (size_t)k)) {
		it->original_known = true;
		return dup_or_null(passthru_persist_get_host_driver(persist, (size_t)k),
				   &it->original);
	}
	return 0;
}

static int cmp_item(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->address, ((const struct item *)b)->address);
}

/*
 * The VF guard speaks of bind: taking the PF from its driver disables SR-IOV and removes the
 * VFs. A PF's reset leaves them listed and bound (the kernel keeps their devices), but it
 * resets each VF under whoever uses it, and may leave it unresponsive: a PF's FLR clears VF
 * Enable, and in the guest QEMU's NVMe VFs no longer answered afterwards (tests/vm/takeover/
 * test-sriov.sh). *ret stays NULL when the guard's words stand.
 */
static int reset_vf_reason(struct passthru_takeover *t, const struct passthru_guard_list *g,
			   size_t index, char **ret)
{
	_cleanup_free_ char *driver = NULL;
	const char *vf = passthru_guard_list_get_resource(g, index);
	int k;

	*ret = NULL;
	if (t->op != PASSTHRU_TAKEOVER_RESET ||
	    passthru_guard_list_get_kind(g, index) != PASSTHRU_GUARD_VFS_IN_USE || !vf)
		return 0;
	if (device_driver_read(t->ctx, vf, &driver) < 0)
		driver = NULL; /* gone since the guard looked: it was in use then */
	if (driver)
		k = asprintf(ret,
			     "VF %s is bound to %s; resetting the PF resets the VF too, under "
			     "whoever uses it, and can leave it unresponsive until the VFs are "
			     "created again",
			     vf, driver);
	else
		k = asprintf(ret,
			     "VF %s is in use; resetting the PF resets the VF too, under "
			     "whoever uses it, and can leave it unresponsive until the VFs are "
			     "created again",
			     vf);
	if (k < 0) {
		*ret = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int plan_guards(struct passthru_takeover *t, struct item *it)
{
	bool vfs_guarded = false;
	int r;

	r = passthru_guard_check_pci(t->ctx, it->address, &it->guards);
	if (r < 0) {
		/* Not knowing what the host uses is no licence to take it. */
		if (t->flags & PASSTHRU_TAKEOVER_FORCE)
			return note(it, "forced without guard checks (%s)", strerror(-r));
		return refuse(t, PASSTHRU_REFUSAL_GUARD, it->address,
			      "cannot check what the host uses on it: %s", strerror(-r));
	}
	for (size_t g = 0; g < passthru_guard_list_count(it->guards); g++) {
		_cleanup_free_ char *own = NULL;
		const char *reason;

		r = reset_vf_reason(t, it->guards, g, &own);
		if (r < 0)
			return r;
		reason = own ?: passthru_guard_list_get_reason(it->guards, g);

		if (passthru_guard_list_get_kind(it->guards, g) == PASSTHRU_GUARD_VFS_IN_USE)
			vfs_guarded = true;
		if (t->flags & PASSTHRU_TAKEOVER_FORCE)
			r = note(it, "forced past a guard: %s", reason ?: "(no reason given)");
		else
			r = refuse(t, PASSTHRU_REFUSAL_GUARD, it->address, "%s",
				   reason ?: "the host uses it");
		if (r < 0)
			return r;
	}
	if (vfs_guarded)
		return 0;
	return 1;
}

/* A PF whose VFs are on vfio-pci: taking its driver away takes the VFs from under their VMs. */
static int plan_vfs(struct passthru_takeover *t, struct item *it)
{
	_cleanup_strv_free_ char **bound = NULL;
	_cleanup_free_ char *list = NULL;
	size_t len = 0;

	STRV_FOREACH (vf, (char **)passthru_pci_device_get_vfs(it->dev)) {
		_cleanup_free_ char *driver = NULL;

		if (device_driver_read(t->ctx, *vf, &driver) < 0)
			continue;
		if (is_vfio(driver) && strv_push(&bound, *vf) < 0)
			return -ENOMEM;
	}
	if (!bound)
		return 0;
	STRV_FOREACH (b, bound)
		len += strlen(*b) + 2;
	list = calloc(1, len + 1);
	if (!list)
		return -ENOMEM;
	STRV_FOREACH (b, bound) {
		if (b != bound)
			strcat(list, ", ");
		strcat(list, *b);
	}
	if (t->flags & PASSTHRU_TAKEOVER_FORCE)
		return note(it, "forced although its VFs %s are on vfio-pci", list);
	if (t->op == PASSTHRU_TAKEOVER_RESET)
		return refuse(t, PASSTHRU_REFUSAL_VFS_BOUND, it->address,
			      "its VFs %s are on vfio-pci: resetting it resets them under their "
			      "VMs, and can leave them unresponsive until they are created again",
			      list);
	return refuse(t, PASSTHRU_REFUSAL_VFS_BOUND, it->address,
		      "its VFs %s are on vfio-pci and would go with it", list);
}

/*
 * What the host uses on the device (its guards), then the VMs its VFs serve. Binding and
 * resetting hurt them alike: a reset takes the device from its driver for a moment, and a
 * PF's reset resets its VFs.
 */
static int plan_host_use(struct passthru_takeover *t, struct item *it)
{
	int r = plan_guards(t, it);

	if (r <= 0)
		return r;
	return plan_vfs(t, it);
}

static int note_reset(struct item *it)
{
	const char *const *methods = passthru_pci_device_get_reset_methods(it->dev);
	_cleanup_free_ char *list = NULL;
	size_t len = 1;

	for (size_t i = 0; methods[i]; i++) {
		if (strcmp(methods[i], "flr") == 0)
			return 0;
		len += strlen(methods[i]) + 1;
	}
	if (!methods[0])
		return note(it, "no reset method at all: a VM may find it as the last one left it");
	list = calloc(1, len);
	if (!list)
		return -ENOMEM;
	for (size_t i = 0; methods[i]; i++) {
		if (i)
			strcat(list, " ");
		strcat(list, methods[i]);
	}
	return note(it, "no function-level reset (reset methods: %s)", list);
}

static int set_error(struct passthru_takeover *t, const char *format, ...) _printf_(2, 3);

/*
 * The driver_override of n devices in one round trip of the helper: the kernel takes the
 * device lock to show it, and a device stuck in an earlier unbind must not hold us up.
 * ret[i] is NULL for none. On failure the error names the device.
 */
static int overrides_read(struct passthru_takeover *t, const char *const *addresses, size_t n,
			  char **ret)
{
	_cleanup_free_ struct timed_step *steps = NULL;
	size_t failed = 0;
	int r = 0;

	if (n == 0)
		return 0;
	if (!writer(t))
		return -ENOMEM;
	steps = calloc(n, sizeof(*steps));
	if (!steps)
		return -ENOMEM;
	for (size_t i = 0; i < n && r >= 0; i++) {
		char *path;

		if (asprintf(&path, "/sys/bus/pci/devices/%s/driver_override", addresses[i]) < 0)
			r = -ENOMEM;
		else
			steps[i] = (struct timed_step){.op = 'r', .path = path};
	}
	if (r >= 0)
		r = timed_steps(t->writer, steps, n, t->timeout_ms, &failed);
	if (r == -ETIMEDOUT)
		set_error(t,
			  "%s: cannot read its driver_override: the device is locked (an unbind "
			  "or a probe is stuck on it)",
			  addresses[failed]);
	for (size_t i = 0; i < n; i++) {
		/* Kernels before 3.16 have no driver_override: none. */
		if (r >= 0 && steps[i].err < 0 && steps[i].err != -ENOENT) {
			r = steps[i].err;
			set_error(t, "%s: cannot read its driver_override: %s", addresses[i],
				  strerror(-r));
		}
		ret[i] = r >= 0 ? override_value(TAKE_PTR(steps[i].result)) : NULL;
		free(steps[i].result);
		free((char *)steps[i].path);
	}
	if (r < 0)
		for (size_t i = 0; i < n; i++) {
			free(ret[i]);
			ret[i] = NULL;
		}
	return r;
}

static int plan_read_overrides(struct passthru_takeover *t)
{
	_cleanup_free_ const char **addresses = calloc(t->n_items + 1, sizeof(char *));
	_cleanup_free_ char **values = calloc(t->n_items + 1, sizeof(char *));
	int r;

	if (!addresses || !values)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_items; i++)
		addresses[i] = t->items[i].address;
	r = overrides_read(t, addresses, t->n_items, values);
	if (r < 0)
		return r;
	for (size_t i = 0; i < t->n_items; i++) {
		free(t->items[i].override);
		t->items[i].override = values[i];
	}
	return 0;
}

/* A device in no IOMMU group: the IOMMU is off, or on and leaving it out (host.h). */
static int refuse_ungrouped(struct passthru_takeover *t, const char *address)
{
	_cleanup_free_ char *reason = NULL;
	int on = host_ungrouped_reason(t->ctx, &reason);

	if (on < 0)
		return on;
	return refuse(t, on ? PASSTHRU_REFUSAL_NO_GROUP : PASSTHRU_REFUSAL_NO_IOMMU, address, "%s",
		      reason);
}

static int plan_bind(struct passthru_takeover *t)
{
	int r;

	STRV_FOREACH (a, t->requested) {
		struct item *it;

		r = item_add(t, *a, true, &it);
		if (r < 0)
			return r;
		if (it->bridge) {
			r = refuse(t, PASSTHRU_REFUSAL_BRIDGE, it->address,
				   "it is %s; vfio-pci only drives endpoints", it->non_endpoint);
			if (r < 0)
				return r;
			continue;
		}
		if (it->group < 0) {
			r = refuse_ungrouped(t, it->address);
			if (r < 0)
				return r;
			continue;
		}
		STRV_FOREACH (m, (char **)passthru_pci_device_get_iommu_group_members(it->dev)) {
			r = item_add(t, *m, false, NULL);
			if (r < 0 && !errno_is_vanished(r))
				return r;
		}
	}
	qsort(t->items, t->n_items, sizeof(*t->items), cmp_item);
	r = plan_read_overrides(t);
	if (r < 0)
		return r;

	for (size_t i = 0; i < t->n_items; i++) {
		struct item *it = &t->items[i];

		if (it->bridge && !it->requested) {
			it->action = PASSTHRU_ACTION_KEEP_BRIDGE;
		} else if (is_vfio(it->driver)) {
			it->action = PASSTHRU_ACTION_NONE;
			r = note(it, "already on vfio-pci");
			if (r < 0)
				return r;
		} else if (it->requested || (t->flags & PASSTHRU_TAKEOVER_GROUP)) {
			if (it->bridge || it->group < 0)
				continue; /* refused above */
			it->action = PASSTHRU_ACTION_BIND;
			if (dup_or_null(it->driver, &it->original) < 0 ||
			    dup_or_null(it->override, &it->original_override) < 0 ||
			    dup_or_null("vfio-pci", &it->target) < 0 ||
			    dup_or_null("vfio-pci", &it->target_override) < 0)
				return -ENOMEM;
		} else if (!it->driver || strcmp(it->driver, "pci-stub") == 0) {
			/* VFIO accepts a group with driverless (or pci-stub) members. */
			it->action = PASSTHRU_ACTION_NONE;
			r = note(it,
				 "left %s; a host driver loaded later could take it "
				 "(--group binds it too)",
				 it->driver ? "on pci-stub" : "without a driver");
			if (r < 0)
				return r;
		} else {
			it->action = PASSTHRU_ACTION_NONE;
		}
	}

	/* Siblings on host drivers, told on each requested device of their group. */
	for (size_t i = 0; i < t->n_items; i++) {
		struct item *req = &t->items[i];
		_cleanup_free_ char *list = NULL;

		if (!req->requested || req->group < 0 || req->bridge)
			continue;
		for (size_t k = 0; k < t->n_items; k++) {
			struct item *sib = &t->items[k];
			char *n;

			if (sib->group != req->group || sib->requested || sib->bridge ||
			    sib->action != PASSTHRU_ACTION_NONE || !sib->driver ||
			    is_vfio(sib->driver) || strcmp(sib->driver, "pci-stub") == 0)
				continue;
			if (asprintf(&n, "%s%s%s (%s)", list ?: "", list ? ", " : "", sib->address,
				     sib->driver) < 0)
				return -ENOMEM;
			free(list);
			list = n;
		}
		if (list) {
			r = refuse(t, PASSTHRU_REFUSAL_GROUP, req->address,
				   "IOMMU group %d also holds %s, on host drivers", req->group,
				   list);
			if (r < 0)
				return r;
		}
	}

	for (size_t i = 0; i < t->n_items; i++) {
		struct item *it = &t->items[i];

		if (it->action == PASSTHRU_ACTION_BIND) {
			r = plan_host_use(t, it);
			if (r < 0)
				return r;
			r = note_reset(it);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int plan_in_use(struct passthru_takeover *t, enum passthru_takeover_action action)
{
	struct vfio_opener *openers = NULL;
	size_t n_openers = 0;
	bool scanned = false;
	int r = 0;

	for (size_t i = 0; i < t->n_items && r >= 0; i++) {
		struct item *it = &t->items[i];
		_cleanup_strv_free_ char **users = NULL;

		if (it->action != action || it->group < 0)
			continue;
		if (!scanned) {
			r = vfio_openers_scan(t->ctx, &openers, &n_openers);
			if (r < 0) {
				log_debug(t->ctx, "cannot look for users of VFIO groups: %s",
					  strerror(-r));
				return 0;
			}
			scanned = true;
		}
		r = openers_match(t->ctx, openers, n_openers, it->group, it->address, &users);
		STRV_FOREACH (u, users) {
			/*
			 * Forced, the unbind asks the VM to let go (vfio-pci relays the request to
			 * its QEMU, which unplugs the device if the guest agrees) and waits for it,
			 * up to the timeout.
			 */
			if (t->flags & PASSTHRU_TAKEOVER_FORCE)
				r = note(it, "forced although %s", *u);
			else
				r = refuse(t, PASSTHRU_REFUSAL_IN_USE, it->address, "%s", *u);
			if (r < 0)
				break;
		}
	}
	openers_free(openers, n_openers);
	return r < 0 ? r : 0;
}

static int plan_unbind(struct passthru_takeover *t)
{
	_cleanup_journal_ struct journal *held = NULL;
	struct passthru_persist *persist = NULL;
	int r;

	STRV_FOREACH (a, t->requested) {
		struct item *it;

		r = item_add(t, *a, true, &it);
		if (r < 0)
			return r;
		if (!(t->flags & PASSTHRU_TAKEOVER_GROUP) || it->group < 0)
			continue;
		STRV_FOREACH (m, (char **)passthru_pci_device_get_iommu_group_members(it->dev)) {
			r = item_add(t, *m, false, NULL);
			if (r < 0 && !errno_is_vanished(r))
				return r;
		}
	}
	qsort(t->items, t->n_items, sizeof(*t->items), cmp_item);
	r = plan_read_overrides(t);
	if (r < 0)
		return r;

	r = journal_load(t->ctx, HELD_PATH, JOURNAL_KIND_HELD, &held);
	if (r < 0 && r != -ENOENT)
		log_debug(t->ctx, "ignoring unreadable %s: %s", HELD_PATH, strerror(-r));
	if (passthru_persist_load(t->ctx, &persist) < 0)
		persist = NULL;

	for (size_t i = 0; i < t->n_items && r != -ENOMEM; i++) {
		struct item *it = &t->items[i];

		r = 0;
		if (it->bridge && !it->requested) {
			it->action = PASSTHRU_ACTION_KEEP_BRIDGE;
		} else if (!is_vfio(it->driver)) {
			it->action = PASSTHRU_ACTION_NONE;
			if (it->driver)
				r = note(it, "not on vfio-pci (driver %s)", it->driver);
			else
				r = note(it, "not on vfio-pci (no driver)");
		} else {
			it->action = PASSTHRU_ACTION_UNBIND;
			r = find_original(t, it, held, persist);
			if (r >= 0)
				r = dup_or_null(it->original, &it->target);
			if (r >= 0)
				r = dup_or_null(it->original_override, &it->target_override);
			/*
			 * An original override of vfio-pci would put the device straight back:
			 * giving it back means clearing it.
			 */
			if (r >= 0 && is_vfio(it->target_override)) {
				free(it->target_override);
				it->target_override = NULL;
			}
			it->target_any = !it->original_known;
			if (r >= 0 && is_vfio(it->target)) {
				free(it->target);
				it->target = NULL;
				it->target_any = true;
			}
			if (r >= 0 && passthru_pci_device_get_vfs(it->dev)[0])
				r = plan_vfs(t, it);
		}
	}
	passthru_persist_unref(persist);
	if (r < 0)
		return r;
	return plan_in_use(t, PASSTHRU_ACTION_UNBIND);
}

static int plan_reset(struct passthru_takeover *t)
{
	int r;

	STRV_FOREACH (a, t->requested) {
		const char *const *methods;
		struct item *it;
		bool offered = false;

		r = item_add(t, *a, true, &it);
		if (r < 0)
			return r;
		it->action = PASSTHRU_ACTION_RESET;
		methods = passthru_pci_device_get_reset_methods(it->dev);
		for (size_t m = 0; methods[m]; m++)
			if (t->reset_method && strcmp(methods[m], t->reset_method) == 0)
				offered = true;
		if (!methods[0])
			r = refuse(t, PASSTHRU_REFUSAL_NO_RESET, it->address,
				   "the kernel offers no reset method for it");
		else if (t->reset_method && !offered)
			r = refuse(t, PASSTHRU_REFUSAL_NO_RESET, it->address,
				   "the kernel offers no reset method '%s' for it",
				   t->reset_method);
		if (r < 0)
			return r;
		r = plan_host_use(t, it);
		if (r < 0)
			return r;
	}
	qsort(t->items, t->n_items, sizeof(*t->items), cmp_item);
	return plan_in_use(t, PASSTHRU_ACTION_RESET);
}

_public_ int passthru_takeover_plan(struct passthru_takeover *t)
{
	int r = 0;

	if (!t)
		return -EINVAL;
	plan_clear(t);
	switch (t->op) {
	case PASSTHRU_TAKEOVER_BIND:
		r = plan_bind(t);
		break;
	case PASSTHRU_TAKEOVER_UNBIND:
		r = plan_unbind(t);
		break;
	case PASSTHRU_TAKEOVER_RESET:
		r = plan_reset(t);
		break;
	case PASSTHRU_TAKEOVER_REPAIR:
		break;
	}
	if (r < 0) {
		plan_clear(t);
		return r;
	}
	t->planned = true;
	return t->n_refusals > 0 ? -EPERM : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Execution                                                                                  */

static int set_error(struct passthru_takeover *t, const char *format, ...)
{
	va_list ap;
	char *s;
	int k;

	va_start(ap, format);
	k = vasprintf(&s, format, ap);
	va_end(ap);
	if (k < 0)
		return -ENOMEM;
	free(t->error);
	t->error = s;
	return 0;
}

static void add_detail(struct passthru_takeover *t, const char *format, ...) _printf_(2, 3);
static void add_detail(struct passthru_takeover *t, const char *format, ...)
{
	va_list ap;
	char *s;

	va_start(ap, format);
	if (vasprintf(&s, format, ap) >= 0)
		(void)strv_consume(&t->details, s);
	va_end(ap);
}

static void add_device_details(struct passthru_takeover *t, const char *address)
{
	_cleanup_strv_free_ char **lines = NULL;

	if (device_describe(t->ctx, writer(t), address, &lines) < 0)
		return;
	STRV_FOREACH (l, lines)
		add_detail(t, "%s", *l);
}

/* Returns -EIO for an injected failure; kills the process for an injected crash. */
static int fault_point(struct passthru_takeover *t, const char *phase, const char *step,
		       unsigned index)
{
	if (!t->fault.set || strcmp(t->fault.phase, phase) != 0 ||
	    strcmp(t->fault.step, step) != 0 || t->fault.index != index)
		return 0;
	if (t->fault.fail) {
		log_debug(t->ctx, "injected failure at %s:%s:%u", phase, step, index);
		return -EIO;
	}
	log_debug(t->ctx, "injected crash at %s:%s:%u", phase, step, index);
	raise(SIGKILL);
	return -EIO;
}

/* A write of the transaction, with the step named in the error when it fails. */
static int step_write(struct passthru_takeover *t, const char *address, const char *what,
		      const char *path, const char *value)
{
	char buf[32];
	int r;

	if (!writer(t))
		return -ENOMEM;
	r = timed_write(t->writer, path, value, t->timeout_ms);
	if (r == -ETIMEDOUT) {
		set_error(t, "%s: %s timed out after %s", address, what,
			  ms_text(t->timeout_ms, buf));
		add_device_details(t, address);
		if (timed_writer_stuck_pid(t->writer))
			add_detail(t, "the write is still pending in the kernel (process %d)",
				   (int)timed_writer_stuck_pid(t->writer));
	} else if (r < 0) {
		set_error(t, "%s: cannot %s: %s", address, what, strerror(-r));
	}
	return r;
}

static int write_override(struct passthru_takeover *t, const char *address, const char *value)
{
	_cleanup_free_ char *path = NULL;

	if (asprintf(&path, "/sys/bus/pci/devices/%s/driver_override", address) < 0)
		return -ENOMEM;
	/* A lone newline clears the override. */
	return step_write(t, address, "write driver_override", path, value ?: "\n");
}

static int write_unbind(struct passthru_takeover *t, const char *address, const char *driver)
{
	_cleanup_free_ char *path = NULL, *what = NULL;

	/* Through the device's own link: the driver it is on now, whatever its name. */
	if (asprintf(&path, "/sys/bus/pci/devices/%s/driver/unbind", address) < 0 ||
	    asprintf(&what, "unbind from %s", driver ?: "its driver") < 0)
		return -ENOMEM;
	return step_write(t, address, what, path, address);
}

static int write_probe(struct passthru_takeover *t, const char *address)
{
	return step_write(t, address, "probe drivers", "/sys/bus/pci/drivers_probe", address);
}

static int write_bind(struct passthru_takeover *t, const char *address, const char *driver)
{
	_cleanup_free_ char *path = NULL, *what = NULL;

	if (asprintf(&path, "/sys/bus/pci/drivers/%s/bind", driver) < 0 ||
	    asprintf(&what, "bind to %s", driver) < 0)
		return -ENOMEM;
	return step_write(t, address, what, path, address);
}

static int read_state(struct passthru_takeover *t, const char *address, struct device_state *s)
{
	int r = device_state_read(t->ctx, writer(t), t->timeout_ms, address, s);

	if (r < 0)
		set_error(t, "%s: cannot read its state: %s", address,
			  r == -ENODEV ? "the device is gone" : strerror(-r));
	return r;
}

static void step_error(struct passthru_takeover *t, const char *address, const char *what, int r)
{
	char buf[32];

	if (r == -ETIMEDOUT) {
		set_error(t, "%s: %s timed out after %s", address, what,
			  ms_text(t->timeout_ms, buf));
		add_device_details(t, address);
		if (timed_writer_stuck_pid(t->writer))
			add_detail(t, "the write is still pending in the kernel (process %d)",
				   (int)timed_writer_stuck_pid(t->writer));
	} else {
		set_error(t, "%s: cannot %s: %s", address, what, strerror(-r));
	}
}

/* The writes that move one device, with what the messages call each. */
struct move {
	struct timed_step steps[3];
	const char *whats[3];
	int stages[3]; /* 0 override, 1 unbind, 2 probe or bind: where the fault hooks go */
	size_t n;
	char *override_path, *unbind_path, *unbind_what, *bind_path, *bind_what;
};

static void move_done(struct move *m)
{
	free(m->override_path);
	free(m->unbind_path);
	free(m->unbind_what);
	free(m->bind_path);
	free(m->bind_what);
	for (size_t i = 0; i < m->n; i++)
		free(m->steps[i].result);
	memset(m, 0, sizeof(*m));
}

static int move_add(struct move *m, int stage, const char *path, const char *value,
		    const char *what)
{
	m->steps[m->n] = (struct timed_step){.op = 'w', .path = path, .value = value};
	m->whats[m->n] = what;
	m->stages[m->n++] = stage;
	return 0;
}

/* The writes of one device: to vfio-pci for a bind, to its host driver for an unbind. */
static int move_prepare(struct passthru_takeover *t, const struct journal_entry *e, struct move *m)
{
	memset(m, 0, sizeof(*m));
	/* Planned under the lock a moment ago: e->driver and e->override are how it is now. */
	if (!streq_null(e->override, e->target_override)) {
		if (asprintf(&m->override_path, "/sys/bus/pci/devices/%s/driver_override",
			     e->address) < 0)
			return -ENOMEM;
		/* A lone newline clears the override. */
		move_add(m, 0, m->override_path, e->target_override ?: "\n",
			 "write driver_override");
	}
	if (e->driver && !(t->op == PASSTHRU_TAKEOVER_BIND && is_vfio(e->driver))) {
		/* Through the device's own link: the driver it is on now, whatever its name. */
		if (asprintf(&m->unbind_path, "/sys/bus/pci/devices/%s/driver/unbind", e->address) <
			0 ||
		    asprintf(&m->unbind_what, "unbind from %s", e->driver) < 0)
			return -ENOMEM;
		move_add(m, 1, m->unbind_path, e->address, m->unbind_what);
	}
	/*
	 * With the override set, drivers_probe can only pick vfio-pci. Giving back, the original
	 * driver is asked by name: left to drivers_probe, the first driver that matches wins,
	 * and that may be vfio-pci itself when its ids= option claims the device. Without a known
	 * original, the kernel's best match; a device that had no driver gets none back.
	 */
	if (t->op == PASSTHRU_TAKEOVER_UNBIND && e->target) {
		_cleanup_free_ char *dir = NULL;

		if (asprintf(&dir, "/sys/bus/pci/drivers/%s", e->target) < 0)
			return -ENOMEM;
		if (root_exists(t->ctx, dir) &&
		    (asprintf(&m->bind_path, "/sys/bus/pci/drivers/%s/bind", e->target) < 0 ||
		     asprintf(&m->bind_what, "bind to %s", e->target) < 0))
			return -ENOMEM;
	}
	if (m->bind_path)
		move_add(m, 2, m->bind_path, e->address, m->bind_what);
	else if (t->op == PASSTHRU_TAKEOVER_BIND || e->target || e->target_any)
		move_add(m, 2, "/sys/bus/pci/drivers_probe", e->address, "probe drivers");
	return 0;
}

/* After the writes: r and failed as timed_steps() left them; checks where the device is. */
static int move_finish(struct passthru_takeover *t, const struct journal_entry *e, struct item *it,
		       struct move *m, int r, size_t failed)
{
	_cleanup_free_ char *driver = NULL;

	if (r < 0) {
		step_error(t, e->address, failed < m->n ? m->whats[failed] : "move it", r);
		return r;
	}
	r = device_driver_read(t->ctx, e->address, &driver);
	if (r < 0) {
		set_error(t, "%s: cannot read its driver: %s", e->address,
			  r == -ENODEV ? "the device is gone" : strerror(-r));
		return r;
	}
	if (t->op == PASSTHRU_TAKEOVER_BIND && !is_vfio(driver)) {
		set_error(t, "%s: vfio-pci did not take it (driver now: %s)", e->address,
			  driver ?: "none");
		add_device_details(t, e->address);
		r = -EIO;
	} else if (t->op == PASSTHRU_TAKEOVER_UNBIND && is_vfio(driver)) {
		set_error(t, "%s: vfio-pci took it again (does its ids= option claim it?)",
			  e->address);
		add_device_details(t, e->address);
		r = -EIO;
	} else if (t->op == PASSTHRU_TAKEOVER_UNBIND && e->target && !driver) {
		set_error(t, "%s: no driver took it back, not even %s (its original)", e->address,
			  e->target);
		add_device_details(t, e->address);
		r = -ENODEV;
	} else if (t->op == PASSTHRU_TAKEOVER_UNBIND && e->target &&
		   !streq_null(driver, e->target)) {
		r = note(it, "%s took it, not the original %s", driver, e->target);
	} else if (t->op == PASSTHRU_TAKEOVER_UNBIND && e->target_any && !driver) {
		r = note(it, "no host driver took it: it is left without a driver");
	}
	if (r >= 0) {
		free(it->result);
		it->result = TAKE_PTR(driver);
	}
	return r;
}

/*
 * Moves one device, its writes in one round trip; with a fault hook set for this phase they
 * go one by one, the hook between them. index counts from 1 for the hook.
 */
static int forward(struct passthru_takeover *t, const struct journal_entry *e, struct item *it,
		   unsigned index)
{
	static const char *const stage_faults[] = {"after-override", "after-unbind", "after-probe"};
	const char *phase = t->op == PASSTHRU_TAKEOVER_BIND ? "bind" : "unbind";
	struct move m;
	size_t failed = 0;
	int r;

	if (!writer(t))
		return -ENOMEM;
	r = move_prepare(t, e, &m);
	if (r < 0) {
		move_done(&m);
		return r;
	}
	if (t->fault.set && strcmp(t->fault.phase, phase) == 0) {
		size_t k = 0;

		for (int stage = 0; stage < 3 && r >= 0; stage++) {
			if (k < m.n && m.stages[k] == stage) {
				r = timed_steps(t->writer, &m.steps[k], 1, t->timeout_ms, NULL);
				if (r < 0) {
					failed = k;
					break;
				}
				k++;
			}
			r = fault_point(t, phase, stage_faults[stage], index);
			if (r < 0) {
				set_error(t, "%s: injected failure (PASSTHRU_FAULT)", e->address);
				move_done(&m);
				return r;
			}
		}
	} else if (m.n > 0) {
		r = timed_steps(t->writer, m.steps, m.n, t->timeout_ms, &failed);
	}
	r = move_finish(t, e, it, &m, r, failed);
	move_done(&m);
	return r;
}

/* ------------------------------------------------------------------------------------------ */
/* Independent IOMMU groups in parallel                                                       */

/*
 * Most of a device's move is the kernel waiting (a device put into D3hot and back, a function
 * reset, a driver's remove): devices of different IOMMU groups are moved at the same time, by
 * up to MAX_LANES helpers. Within a group the order is kept: one lane does a whole group.
 */
#define MAX_LANES     8
#define LANE_AFTER_MS 5

struct lane {
	struct timed_writer *w;
	size_t first, end, pos; /* the entries of its group: [first, end), pos in flight */
	bool busy;
	struct move move;
	int seen;
	struct timespec since;
};

static long elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* Starts the move of e in a lane; 1 when there is nothing to write. */
static int lane_start(struct passthru_takeover *t, const struct journal_entry *e, struct lane *l)
{
	int r = move_prepare(t, e, &l->move);

	if (r >= 0 && l->move.n == 0)
		return 1; /* nothing to write: done at once */
	if (r >= 0)
		r = timed_submit(l->w, l->move.steps, l->move.n);
	if (r < 0) {
		step_error(t, e->address, "move it", r);
		move_done(&l->move);
		return r;
	}
	l->busy = true;
	l->seen = -1;
	clock_gettime(CLOCK_MONOTONIC, &l->since);
	return 0;
}

static struct item *entry_item(struct passthru_takeover *t, const struct journal_entry *e)
{
	return item_find(t, e->address);
}

/* move_finish() in parallel: the first failure is the error, later ones are details. */
static void lane_finish(struct passthru_takeover *t, const struct journal_entry *e, struct move *m,
			int r, size_t failed, int *result)
{
	_cleanup_free_ char *first = *result < 0 ? TAKE_PTR(t->error) : NULL;

	r = move_finish(t, e, entry_item(t, e), m, r, failed);
	if (r < 0 && *result < 0) {
		add_detail(t, "also: %s", t->error ?: strerror(-r));
		free(t->error);
		t->error = TAKE_PTR(first);
	} else if (first) {
		t->error = TAKE_PTR(first);
	}
	if (r < 0 && *result >= 0)
		*result = r;
}

/* The entries of j (sorted by address) grouped by IOMMU group, in lanes. */
static int run_parallel(struct passthru_takeover *t, const struct journal *j)
{
	_cleanup_free_ size_t *order = calloc(j->n_entries + 1, sizeof(size_t));
	struct lane lanes[MAX_LANES] = {0};
	size_t n_lanes = 0, next = 0, n_groups = 0, *group_start = NULL;
	int *groups;
	int result = 0;

	if (!order)
		return -ENOMEM;
	/* Entries ordered by group (stable: by address within a group); no group, alone. */
	groups = calloc(j->n_entries + 1, sizeof(int));
	group_start = calloc(j->n_entries + 1, sizeof(size_t));
	if (!groups || !group_start) {
		free(groups);
		free(group_start);
		return -ENOMEM;
	}
	for (size_t i = 0; i < j->n_entries; i++) {
		const struct item *it = entry_item(t, &j->entries[i]);

		groups[i] = it ? it->group : -1;
	}
	{
		size_t k = 0;

		for (size_t i = 0; i < j->n_entries; i++) {
			bool seen = false;

			for (size_t p = 0; p < i && !seen; p++)
				seen = groups[i] >= 0 && groups[p] == groups[i];
			if (seen)
				continue;
			group_start[n_groups++] = k;
			for (size_t q = i; q < j->n_entries; q++)
				if (q == i || (groups[i] >= 0 && groups[q] == groups[i]))
					order[k++] = q;
		}
	}
	group_start[n_groups] = j->n_entries;
	free(groups);

	/* One lane to begin with; more only while devices keep lanes busy (see below). */
	lanes[0].w = writer(t);
	if (!lanes[0].w) {
		free(group_start);
		return -ENOMEM;
	}
	n_lanes = 1;

	for (;;) {
		struct pollfd pfds[MAX_LANES];
		size_t busy = 0;
		int wait = -1, r;

		/* Idle lanes take the next entry of their group, or the next group. */
		for (size_t i = 0; i < n_lanes && result >= 0; i++) {
			struct lane *l = &lanes[i];

			while (!l->busy && result >= 0) {
				if (l->end == 0 || l->pos + 1 >= l->end) {
					if (next >= n_groups)
						break;
					l->first = group_start[next];
					l->end = group_start[next + 1];
					l->pos = l->first;
					next++;
				} else {
					l->pos++;
				}
				r = lane_start(t, &j->entries[order[l->pos]], l);
				if (r == 1) {
					struct move none = {0};

					lane_finish(t, &j->entries[order[l->pos]], &none, 0, 0,
						    &result);
				} else if (r < 0) {
					result = r;
				}
			}
		}
		for (size_t i = 0; i < n_lanes; i++) {
			if (!lanes[i].busy)
				continue;
			pfds[busy++] =
			    (struct pollfd){.fd = timed_fd(lanes[i].w), .events = POLLIN};
		}
		if (busy == 0)
			break;
		/* Wake up for the lane whose step has gone longest without progress. */
		for (size_t i = 0; i < n_lanes; i++)
			if (lanes[i].busy) {
				long left = (long)t->timeout_ms - elapsed_ms(&lanes[i].since);

				if (left < 0)
					left = 0;
				if (wait < 0 || left < wait)
					wait = (int)left;
			}
		/*
		 * A helper costs two forks. Binding a device without a driver takes the kernel a
		 * few milliseconds, giving one back to a driver tens: another lane starts when
		 * every lane has been busy for LANE_AFTER_MS and groups are waiting.
		 */
		if (next < n_groups && n_lanes < MAX_LANES && busy == n_lanes &&
		    wait > LANE_AFTER_MS)
			wait = LANE_AFTER_MS;
		do
			r = poll(pfds, busy, wait);
		while (r < 0 && errno == EINTR);
		if (r < 0) {
			result = -errno;
			break;
		}
		if (r == 0 && next < n_groups && n_lanes < MAX_LANES && busy == n_lanes &&
		    result >= 0 && timed_writer_new(t->ctx, t->lock_fd, &lanes[n_lanes].w) >= 0)
			n_lanes++;
		for (size_t i = 0, p = 0; i < n_lanes; i++) {
			struct lane *l = &lanes[i];
			size_t failed = 0, e;

			if (!l->busy)
				continue;
			e = order[l->pos];
			if (pfds[p++].revents) {
				r = timed_collect(l->w, l->move.steps, l->move.n, &failed);
				l->busy = false;
				lane_finish(t, &j->entries[e], &l->move, r, failed, &result);
				move_done(&l->move);
			} else if (elapsed_ms(&l->since) >= (long)t->timeout_ms) {
				int now = timed_progress(l->w);

				if (now != l->seen) {
					l->seen = now;
					clock_gettime(CLOCK_MONOTONIC, &l->since);
					continue;
				}
				failed = timed_abandon(l->w);
				l->busy = false;
				lane_finish(t, &j->entries[e], &l->move, -ETIMEDOUT, failed,
					    &result);
				move_done(&l->move);
			}
		}
		/* After a failure nothing new starts; what is in flight finishes. */
		if (result < 0)
			next = n_groups;
	}
	for (size_t i = 1; i < n_lanes; i++)
		timed_writer_free(lanes[i].w);
	free(group_start);
	return result;
}

/*
 * Puts a device back where the entry says it was: its original driver_override and driver.
 * phase is "rollback" or "repair", for the fault hook.
 */
static int restore(struct passthru_takeover *t, const struct journal_entry *e, const char *phase,
		   unsigned index)
{
	struct device_state s = {0};
	int r;

	r = read_state(t, e->address, &s);
	if (r == -ENODEV) {
		/* Gone (hot-unplugged, VFs removed): there is nothing left to put back. */
		free(t->error);
		t->error = NULL;
		return 0;
	}
	if (r < 0)
		return r;
	if (journal_entry_at_origin(e, &s)) {
		device_state_done(&s);
		return 0;
	}
	if (!streq_null(s.override, e->override))
		r = write_override(t, e->address, e->override);
	if (r >= 0)
		r = fault_point(t, phase, "after-override", index);
	if (r >= 0 && s.driver && !streq_null(s.driver, e->driver))
		r = write_unbind(t, e->address, s.driver);
	if (r >= 0)
		r = fault_point(t, phase, "after-unbind", index);
	if (r >= 0 && e->driver && !streq_null(s.driver, e->driver)) {
		_cleanup_free_ char *dir = NULL;

		if (asprintf(&dir, "/sys/bus/pci/drivers/%s", e->driver) < 0)
			r = -ENOMEM;
		else if (root_exists(t->ctx, dir))
			r = write_bind(t, e->address, e->driver);
		else
			r = write_probe(t, e->address);
	}
	if (r >= 0)
		r = fault_point(t, phase, "after-probe", index);
	device_state_done(&s);
	if (r < 0)
		return r;

	r = read_state(t, e->address, &s);
	if (r < 0)
		return r;
	if (!journal_entry_at_origin(e, &s)) {
		set_error(t, "%s: could not go back to %s (driver now: %s)", e->address,
			  e->driver ?: "no driver", s.driver ?: "none");
		add_device_details(t, e->address);
		r = -EIO;
	}
	device_state_done(&s);
	return r;
}

/* Rolls back every entry (in reverse); 0 when every device is back. */
static int rollback(struct passthru_takeover *t, const struct journal *j, const char *phase)
{
	int result = 0;

	for (size_t i = j->n_entries; i-- > 0;) {
		_cleanup_free_ char *saved = TAKE_PTR(t->error);
		int r = restore(t, &j->entries[i], phase, (unsigned)(j->n_entries - i));

		if (r < 0) {
			add_detail(t, "rollback: %s", t->error ?: strerror(-r));
			result = r;
		}
		free(t->error);
		t->error = TAKE_PTR(saved);
	}
	return result;
}

/* Records the outcome in the held record: who is on vfio-pci through us, coming from where. */
static int commit_held(struct passthru_takeover *t, const struct journal *j)
{
	_cleanup_journal_ struct journal *held = NULL;
	int r;

	r = journal_load(t->ctx, HELD_PATH, JOURNAL_KIND_HELD, &held);
	if (r == -ENOENT || r == -EBADMSG)
		r = journal_new(JOURNAL_OP_BIND, &held);
	if (r < 0)
		return r;
	for (size_t i = 0; i < j->n_entries; i++) {
		const struct journal_entry *e = &j->entries[i];

		if (j->op == JOURNAL_OP_BIND) {
			struct journal_entry h = {0};

			r = journal_entry_set(&h, e->address, e->driver, e->override, NULL, false,
					      NULL, e->id);
			if (r >= 0)
				r = journal_put(held, &h);
			free(h.driver);
			free(h.override);
			free(h.id);
			if (r < 0)
				return r;
		} else {
			(void)journal_remove(held, e->address);
		}
	}
	if (held->n_entries == 0) {
		r = root_unlink(t->ctx, HELD_PATH);
		return r == -ENOENT ? 0 : r;
	}
	return journal_save(t->ctx, HELD_PATH, JOURNAL_KIND_HELD, held);
}

static int journal_finish(struct passthru_takeover *t)
{
	int r = root_unlink(t->ctx, JOURNAL_PATH);

	return r == -ENOENT ? 0 : r;
}

static const char *entry_names(const struct journal *j, char **buf)
{
	size_t len = 1;

	for (size_t i = 0; i < j->n_entries; i++)
		len += PASSTHRU_PCI_ADDRESS_LEN + 1;
	*buf = calloc(1, len);
	if (!*buf)
		return "";
	for (size_t i = 0; i < j->n_entries; i++) {
		if (i)
			strcat(*buf, " ");
		strcat(*buf, j->entries[i].address);
	}
	return *buf;
}

/* Finishes or rolls back an interrupted transaction. Called with the lock held. */
static int repair_locked(struct passthru_takeover *t)
{
	_cleanup_journal_ struct journal *j = NULL;
	_cleanup_free_ struct device_state *states = NULL;
	_cleanup_free_ char *names = NULL;
	enum repair_decision decision;
	unsigned line = 0;
	int r;

	t->repair = PASSTHRU_REPAIR_NOTHING;
	{
		_cleanup_free_ char *text = NULL;
		size_t len;

		r = root_read_file(t->ctx, JOURNAL_PATH, &text, &len);
		if (r == -ENOENT)
			return 0;
		if (r >= 0)
			r = journal_parse(text, len, JOURNAL_KIND_TRANSACTION, &j, &line);
	}
	if (r == -EBADMSG) {
		set_error(t,
			  "%s is damaged (line %u): cannot tell what an interrupted transaction "
			  "did",
			  JOURNAL_PATH, line);
		return r;
	}
	if (r < 0) {
		set_error(t, "cannot read %s: %s", JOURNAL_PATH, strerror(-r));
		return r;
	}

	states = calloc(j->n_entries + 1, sizeof(*states));
	if (!states)
		return -ENOMEM;
	for (size_t i = 0; i < j->n_entries; i++) {
		r = device_state_read(t->ctx, writer(t), t->timeout_ms, j->entries[i].address,
				      &states[i]);
		if (r < 0 && r != -ENODEV) {
			for (size_t k = 0; k < i; k++)
				device_state_done(&states[k]);
			set_error(t, "%s: cannot read its state: %s", j->entries[i].address,
				  strerror(-r));
			return r;
		}
	}
	decision = journal_decide(j, states);

	/* The devices of the interrupted transaction become the plan, for whoever reports it. */
	if (t->op == PASSTHRU_TAKEOVER_REPAIR) {
		plan_clear(t);
		for (size_t i = 0; i < j->n_entries; i++) {
			const struct journal_entry *e = &j->entries[i];
			struct item *it;

			if (!states[i].present)
				continue;
			r = item_add(t, e->address, true, &it);
			if (r < 0 && errno_is_vanished(r))
				continue;
			if (r < 0)
				break;
			it->action = j->op == JOURNAL_OP_BIND ? PASSTHRU_ACTION_BIND
							      : PASSTHRU_ACTION_UNBIND;
			if (dup_or_null(e->driver, &it->original) < 0 ||
			    dup_or_null(e->target, &it->target) < 0) {
				r = -ENOMEM;
				break;
			}
			it->target_any = e->target_any;
		}
		t->planned = true;
	}
	for (size_t i = 0; i < j->n_entries; i++)
		device_state_done(&states[i]);
	if (r < 0)
		return r;

	if (decision == REPAIR_COMMIT) {
		r = commit_held(t, j);
		if (r >= 0)
			r = journal_finish(t);
		if (r < 0) {
			set_error(t, "cannot record the completed %s: %s",
				  j->op == JOURNAL_OP_BIND ? "bind" : "unbind", strerror(-r));
			return r;
		}
		t->repair = PASSTHRU_REPAIR_COMPLETED;
		journal_log_line(t->ctx, "repair: interrupted %s of %s had completed",
				 j->op == JOURNAL_OP_BIND ? "bind" : "unbind",
				 entry_names(j, &names));
	} else {
		r = rollback(t, j, "repair");
		if (r < 0) {
			set_error(t, "cannot roll back the interrupted %s of %s",
				  j->op == JOURNAL_OP_BIND ? "bind" : "unbind",
				  entry_names(j, &names));
			return r;
		}
		r = journal_finish(t);
		if (r < 0) {
			set_error(t, "cannot remove %s: %s", JOURNAL_PATH, strerror(-r));
			return r;
		}
		t->repair = PASSTHRU_REPAIR_ROLLED_BACK;
		journal_log_line(t->ctx, "repair: interrupted %s of %s rolled back",
				 j->op == JOURNAL_OP_BIND ? "bind" : "unbind",
				 entry_names(j, &names));
	}
	if (t->op == PASSTHRU_TAKEOVER_REPAIR)
		for (size_t i = 0; i < t->n_items; i++) {
			struct device_state s = {0};

			if (device_state_read(t->ctx, writer(t), t->timeout_ms, t->items[i].address,
					      &s) >= 0) {
				free(t->items[i].result);
				t->items[i].result = TAKE_PTR(s.driver);
				device_state_done(&s);
			}
		}
	return 1;
}

/* True when the devices still look as they did when the plan was made. */
static bool plan_still_valid(struct passthru_takeover *t)
{
	_cleanup_free_ const char **addresses = calloc(t->n_items + 1, sizeof(char *));
	_cleanup_free_ char **overrides = calloc(t->n_items + 1, sizeof(char *));
	bool same = addresses && overrides;

	for (size_t i = 0; same && i < t->n_items; i++) {
		_cleanup_free_ char *driver = NULL;

		addresses[i] = t->items[i].address;
		same = device_driver_read(t->ctx, t->items[i].address, &driver) >= 0 &&
		       streq_null(driver, t->items[i].driver);
	}
	if (same && overrides_read(t, addresses, t->n_items, overrides) < 0) {
		/* Planning again says why. */
		free(t->error);
		t->error = NULL;
		return false;
	}
	for (size_t i = 0; same && i < t->n_items; i++)
		same = streq_null(overrides[i], t->items[i].override);
	for (size_t i = 0; overrides && i < t->n_items; i++)
		free(overrides[i]);
	return same;
}

static int run_transaction(struct passthru_takeover *t)
{
	_cleanup_journal_ struct journal *j = NULL;
	enum passthru_takeover_action action =
	    t->op == PASSTHRU_TAKEOVER_BIND ? PASSTHRU_ACTION_BIND : PASSTHRU_ACTION_UNBIND;
	const char *phase = t->op == PASSTHRU_TAKEOVER_BIND ? "bind" : "unbind";
	unsigned index = 0;
	int r;

	r = journal_new(t->op == PASSTHRU_TAKEOVER_BIND ? JOURNAL_OP_BIND : JOURNAL_OP_UNBIND, &j);
	if (r < 0)
		return r;
	j->pid = getpid();
	for (size_t i = 0; i < t->n_items; i++) {
		struct item *it = &t->items[i];
		struct journal_entry e = {0};

		if (it->action != action)
			continue;
		r = journal_entry_set(&e, it->address, it->driver, it->override, it->target,
				      it->target_any, it->target_override,
				      it->id[0] ? it->id : NULL);
		if (r >= 0)
			r = journal_put(j, &e);
		free(e.driver);
		free(e.override);
		free(e.target);
		free(e.target_override);
		free(e.id);
		if (r < 0)
			return r;
	}
	if (j->n_entries == 0)
		return 0;

	if (t->op == PASSTHRU_TAKEOVER_BIND) {
		r = vfio_modules_ensure(t->ctx);
		if (r < 0) {
			set_error(t, "%s: vfio-pci is not available: %s", j->entries[0].address,
				  r == -ENOPKG ? "the modules are not loaded (and cannot be loaded "
						 "below a sysroot)"
					       : strerror(-r));
			return r;
		}
	}

	/* Nothing is touched before the record of how things were is on disk. */
	r = journal_save(t->ctx, JOURNAL_PATH, JOURNAL_KIND_TRANSACTION, j);
	if (r < 0) {
		set_error(t, "cannot write %s: %s", JOURNAL_PATH, strerror(-r));
		return r;
	}
	for (size_t i = 0; i < t->n_items; i++)
		STRV_FOREACH (n, t->items[i].notes)
			if (strncmp(*n, "forced", 6) == 0)
				journal_log_line(t->ctx, "%s %s: %s", phase, t->items[i].address,
						 *n);
	r = fault_point(t, phase, "after-journal", 1);
	if (r < 0) {
		set_error(t, "injected failure (PASSTHRU_FAULT) after the journal");
		(void)journal_finish(t);
		return r;
	}

	if (t->fault.set && strcmp(t->fault.phase, phase) == 0) {
		/* The fault hook counts devices in order: one at a time. */
		for (size_t i = 0; i < t->n_items; i++) {
			struct item *it = &t->items[i];

			if (it->action != action)
				continue;
			r = forward(t, journal_find(j, it->address), it, ++index);
			if (r < 0)
				break;
		}
	} else {
		r = run_parallel(t, j);
	}
	if (r >= 0) {
		r = fault_point(t, phase, "before-commit", 1);
		if (r < 0)
			set_error(t, "injected failure (PASSTHRU_FAULT) before the commit");
	}
	if (r < 0) {
		int q = rollback(t, j, "rollback");

		if (q < 0) {
			add_detail(t, "the journal is kept: 'passthru repair' tries again");
		} else {
			add_detail(t,
				   "rolled back: every touched device is on its original driver");
			(void)journal_finish(t);
		}
		return r;
	}

	r = commit_held(t, j);
	if (r >= 0)
		r = journal_finish(t);
	if (r < 0) {
		set_error(t, "cannot record the %s in %s: %s", phase, HELD_PATH, strerror(-r));
		return r;
	}
	return 0;
}

static int run_resets(struct passthru_takeover *t)
{
	for (size_t i = 0; i < t->n_items; i++)
		STRV_FOREACH (n, t->items[i].notes)
			if (strncmp(*n, "forced", 6) == 0)
				journal_log_line(t->ctx, "reset %s: %s", t->items[i].address, *n);
	for (size_t i = 0; i < t->n_items; i++) {
		struct item *it = &t->items[i];
		char buf[32];
		int r;

		if (it->action != PASSTHRU_ACTION_RESET)
			continue;
		r = writer(t) ? pci_reset_run(t->ctx, t->writer, it->address, t->reset_method,
					      t->timeout_ms)
			      : -ENOMEM;
		if (r == -ETIMEDOUT) {
			set_error(t, "%s: reset timed out after %s", it->address,
				  ms_text(t->timeout_ms, buf));
			add_device_details(t, it->address);
			if (timed_writer_stuck_pid(t->writer))
				add_detail(t,
					   "the write is still pending in the kernel (process %d)",
					   (int)timed_writer_stuck_pid(t->writer));
		} else if (r < 0) {
			set_error(t, "%s: reset failed: %s", it->address, strerror(-r));
			add_device_details(t, it->address);
		}
		if (r < 0)
			return r;
		it->result = it->driver ? strdup(it->driver) : NULL;
	}
	return 0;
}

_public_ int passthru_takeover_execute(struct passthru_takeover *t)
{
	_cleanup_free_ char *lock_error = NULL;
	int r;

	if (!t)
		return -EINVAL;
	error_clear(t);
	t->repair = PASSTHRU_REPAIR_NOTHING;

	t->lock_fd = journal_lock_take(t->ctx, t->lock_timeout_ms, t->wait_fn, t->wait_userdata,
				       &lock_error);
	if (t->lock_fd < 0) {
		r = t->lock_fd;
		t->lock_fd = -1;
		set_error(t, "%s", lock_error ?: strerror(-r));
		return r;
	}
	/* Helpers spawned from now on must not inherit the lock: a stuck one would keep it. */
	if (writer(t))
		timed_writer_set_close_fd(t->writer, t->lock_fd);

	r = repair_locked(t);
	if (r < 0 || t->op == PASSTHRU_TAKEOVER_REPAIR)
		goto out;

	if (!t->planned || r > 0 || !plan_still_valid(t)) {
		r = passthru_takeover_plan(t);
		if (r < 0)
			goto out;
	} else if (t->n_refusals > 0) {
		r = -EPERM;
		goto out;
	}
	if (t->op == PASSTHRU_TAKEOVER_RESET)
		r = run_resets(t);
	else
		r = run_transaction(t);
	if (r >= 0)
		for (size_t i = 0; i < t->n_items; i++) {
			struct item *it = &t->items[i];

			if (it->result || it->action == PASSTHRU_ACTION_RESET)
				continue;
			(void)device_driver_read(t->ctx, it->address, &it->result);
		}
out:
	if (r < 0 && !t->error && r != -EPERM)
		set_error(t, "%s", strerror(-r));
	if (t->writer)
		timed_writer_set_close_fd(t->writer, -1);
	close(t->lock_fd);
	t->lock_fd = -1;
	return r < 0 ? r : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Getters                                                                                    */

static const struct item *item_at(const struct passthru_takeover *t, size_t i)
{
	return t && i < t->n_items ? &t->items[i] : NULL;
}

_public_ size_t passthru_takeover_get_count(const struct passthru_takeover *t)
{
	return t ? t->n_items : 0;
}

_public_ const char *passthru_takeover_get_address(const struct passthru_takeover *t, size_t i)
{
	const struct item *it = item_at(t, i);

	return it ? it->address : NULL;
}

_public_ bool passthru_takeover_is_requested(const struct passthru_takeover *t, size_t i)
{
	const struct item *it = item_at(t, i);

	return it && it->requested;
}

_public_ int passthru_takeover_get_iommu_group(const struct passthru_takeover *t, size_t i,
					       int *ret)
{
	const struct item *it = item_at(t, i);

	if (!it)
		return -EINVAL;
	if (it->group < 0)
		return -ENOENT;
	*ret = it->group;
	return 0;
}

_public_ const char *passthru_takeover_get_driver(const struct passthru_takeover *t, size_t i)
{
	const struct item *it = item_at(t, i);

	return it ? it->driver : NULL;
}

_public_ const char *passthru_takeover_get_target(const struct passthru_takeover *t, size_t i)
{
	const struct item *it = item_at(t, i);

	return it ? it->target : NULL;
}

_public_ const char *passthru_takeover_get_original(const struct passthru_takeover *t, size_t i)
{
	const struct item *it = item_at(t, i);

	return it ? it->original : NULL;
}

_public_ enum passthru_takeover_action
passthru_takeover_get_action(const struct passthru_takeover *t, size_t i)
{
	const struct item *it = item_at(t, i);

	return it ? it->action : PASSTHRU_ACTION_NONE;
}

_public_ struct passthru_guard_list *passthru_takeover_get_guards(const struct passthru_takeover *t,
								  size_t i)
{
	const struct item *it = item_at(t, i);

	return it ? it->guards : NULL;
}

_public_ const char *const *passthru_takeover_get_notes(const struct passthru_takeover *t, size_t i)
{
	const struct item *it = item_at(t, i);

	return it && it->notes ? (const char *const *)it->notes : strv_empty;
}

_public_ const char *passthru_takeover_get_result(const struct passthru_takeover *t, size_t i)
{
	const struct item *it = item_at(t, i);

	return it ? it->result : NULL;
}

_public_ size_t passthru_takeover_get_refusal_count(const struct passthru_takeover *t)
{
	return t ? t->n_refusals : 0;
}

_public_ enum passthru_refusal_kind
passthru_takeover_get_refusal_kind(const struct passthru_takeover *t, size_t i)
{
	return t && i < t->n_refusals ? t->refusals[i].kind : (enum passthru_refusal_kind) - EINVAL;
}

_public_ const char *passthru_takeover_get_refusal_address(const struct passthru_takeover *t,
							   size_t i)
{
	return t && i < t->n_refusals ? t->refusals[i].address : NULL;
}

_public_ const char *passthru_takeover_get_refusal_reason(const struct passthru_takeover *t,
							  size_t i)
{
	return t && i < t->n_refusals ? t->refusals[i].reason : NULL;
}

_public_ const char *passthru_takeover_get_error(const struct passthru_takeover *t)
{
	return t ? t->error : NULL;
}

_public_ const char *const *passthru_takeover_get_error_details(const struct passthru_takeover *t)
{
	return t && t->details ? (const char *const *)t->details : strv_empty;
}

_public_ enum passthru_repair_outcome
passthru_takeover_get_repair_outcome(const struct passthru_takeover *t)
{
	return t ? t->repair : PASSTHRU_REPAIR_NOTHING;
}
