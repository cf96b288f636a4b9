/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What to tell about a device that failed: its state and the kernel's last messages
 * about it from /dev/kmsg.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "device-state.h"
#include "kmsg.h"

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
