/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * uevent-to-inventory latency of passthrud on a real kernel (run in the guest):
 *
 *     uevent-latency SOCKET ADDRESS COUNT
 *
 * COUNT times: write 1 to /sys/bus/pci/devices/ADDRESS/remove, then 1 to /sys/bus/pci/rescan.
 * For each write it notes when the write was started, when passthrud's event for ADDRESS
 * arrived on GET /v1/events, and when the kernel uevent that the event names ("uevent":
 * "unbind", "remove", "add"...) reached a NETLINK_KOBJECT_UEVENT socket of its own (what
 * `udevadm monitor --kernel` sees: the peer, and the floor for any listener). Prints each round and p50/p99/max of each interval. Exits 1 when an event
 * does not come within 10 s.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 10000

struct stream {
	int fd;
	char buf[1 << 16];
	size_t len;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int uevent_socket(void)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = 1};
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
	int size = 4 << 20;

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("NETLINK_KOBJECT_UEVENT");
		exit(2);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return fd;
}

/* GET /v1/events over HTTP/1.0: the body comes unchunked until the service closes it. */
static int events_socket(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char req[] = "GET /v1/events HTTP/1.0\r\nHost: localhost\r\n\r\n";
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1)) {
		perror(path);
		exit(2);
	}
	return fd;
}

static void write_one(const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, "1", 1) != 1) {
		perror(path);
		exit(2);
	}
	close(fd);
}

/* A kernel uevent "ACTION@DEVPATH" for a devpath ending in /address: its action, or NULL. */
static const char *uevent_action(char *msg, size_t n, const char *address)
{
	size_t ld = strlen(address), end;
	char *at = memchr(msg, '@', n);

	msg[n] = '\0';
	end = strlen(msg);
	if (!at || end <= ld + 1 || msg[end - ld - 1] != '/' || strcmp(msg + end - ld, address) != 0)
		return NULL;
	*at = '\0';
	return msg;
}

/*
 * A "data:" line of the stream with "action":"ACTION" and "address":"ADDRESS": copies its
 * "uevent" (the kernel's action it came from) to uevent. Drops the complete lines it looked at.
 */
static bool stream_take(struct stream *s, const char *action, const char *address, char *uevent,
			size_t size)
{
	char want_action[64], want_address[64];
	bool found = false;
	char *line = s->buf, *nl;

	snprintf(want_action, sizeof(want_action), "\"action\":\"%s\"", action);
	snprintf(want_address, sizeof(want_address), "\"address\":\"%s\"", address);
	while (!found && (nl = memchr(line, '\n', s->len - (size_t)(line - s->buf)))) {
		*nl = '\0';
		found = strncmp(line, "data:", 5) == 0 && strstr(line, want_action) &&
			strstr(line, want_address);
		if (found) {
			const char *u = strstr(line, "\"uevent\":\"");

			snprintf(uevent, size, "%s", u ? u + 10 : "");
			uevent[strcspn(uevent, "\"")] = '\0';
		}
		line = nl + 1;
	}
	s->len -= (size_t)(line - s->buf);
	memmove(s->buf, line, s->len);
	return found;
}

/*
 * Waits for passthrud's event (into *sse) and the kernel's uevent on the address that it came
 * from (into *kernel: the first one of the action that the event names; *first: the first
 * uevent on the address at all).
 */
static int wait_both(int nl, struct stream *s, const char *action, const char *address,
		     double *kernel, double *first, double *sse, char *uevent, size_t size)
{
	double deadline = now_ms() + WAIT_MS;
	struct {
		char action[16];
		double t;
	} seen[32];
	size_t n_seen = 0;

	*kernel = *first = *sse = -1;
	uevent[0] = '\0';
	for (;;) {
		struct pollfd p[2] = {{.fd = nl, .events = POLLIN}, {.fd = s->fd, .events = POLLIN}};
		int left = (int)(deadline - now_ms());

		if (*sse >= 0)
			for (size_t i = 0; i < n_seen && *kernel < 0; i++)
				if (strcmp(seen[i].action, uevent) == 0)
					*kernel = seen[i].t;
		if (*sse >= 0 && *kernel >= 0)
			return 0;
		if (left <= 0 || poll(p, 2, left) <= 0)
			return -ETIMEDOUT;
		if (p[0].revents) {
			char msg[8192];
			ssize_t n = recv(nl, msg, sizeof(msg) - 1, MSG_DONTWAIT);
			double t = now_ms();
			const char *a = n > 0 ? uevent_action(msg, (size_t)n, address) : NULL;

			if (a && n_seen < 32) {
				snprintf(seen[n_seen].action, sizeof(seen[n_seen].action), "%s", a);
				seen[n_seen++].t = t;
				if (*first < 0)
					*first = t;
			}
		}
		if (p[1].revents) {
			ssize_t n = read(s->fd, s->buf + s->len, sizeof(s->buf) - 1 - s->len);
			double t = now_ms();

			if (n <= 0)
				return -ECONNRESET;
			s->len += (size_t)n;
			s->buf[s->len] = '\0';
			if (*sse < 0 && stream_take(s, action, address, uevent, size))
				*sse = t;
			if (s->len == sizeof(s->buf) - 1)
				s->len = 0;
		}
	}
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	printf("%-44s p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms  (n=%d)\n", what, v[n / 2],
	       v[(int)(n * 0.99) < n ? (int)(n * 0.99) : n - 1], v[n - 1], n);
}

int main(int argc, char **argv)
{
	const char *address;
	char remove_path[256];
	struct stream *s;
	double *v[6];
	int nl, count;

	if (argc != 4 || (count = atoi(argv[3])) <= 0) {
		fprintf(stderr, "usage: uevent-latency SOCKET ADDRESS COUNT\n");
		return 2;
	}
	address = argv[2];
	snprintf(remove_path, sizeof(remove_path), "/sys/bus/pci/devices/%s/remove", address);
	nl = uevent_socket();
	s = calloc(1, sizeof(*s));
	for (int k = 0; k < 6; k++)
		v[k] = calloc((size_t)count, sizeof(double));
	if (!s || !v[5])
		return 2;
	s->fd = events_socket(argv[1]);
	usleep(200 * 1000); /* the stream's headers and backlog, before the first write */
	for (int i = 0; i < count; i++) {
		for (int add = 0; add < 2; add++) {
			const char *action = add ? "add" : "remove";
			double t0 = now_ms(), kernel, first, sse;
			char uevent[32];
			/* The write returns only once the kernel is done (after its uevent): a
			 * child writes, so that arrivals are seen while it runs. */
			pid_t pid = fork();
			int r;

			if (pid < 0)
				return 2;
			if (pid == 0) {
				write_one(add ? "/sys/bus/pci/rescan" : remove_path);
				_exit(0);
			}
			r = wait_both(nl, s, action, address, &kernel, &first, &sse, uevent,
				      sizeof(uevent));
			waitpid(pid, NULL, 0);
			if (r < 0) {
				fprintf(stderr,
					"round %d: no %s event of %s with its uevent within %d ms "
					"(passthrud %s, from uevent \"%s\")\n",
					i, action, address, WAIT_MS, sse < 0 ? "no" : "yes", uevent);
				return 1;
			}
			printf("round %d %-6s write->first uevent %8.2f ms  write->%s uevent %8.2f ms  "
			       "write->SSE %8.2f ms  %s uevent->SSE %6.2f ms\n",
			       i, action, first - t0, uevent, kernel - t0, sse - t0, uevent,
			       sse - kernel);
			v[add * 3 + 0][i] = kernel - t0;
			v[add * 3 + 1][i] = sse - t0;
			v[add * 3 + 2][i] = sse - kernel;
		}
	}
	report("remove: write -> the kernel's uevent (peer)", v[0], count);
	report("remove: write -> passthrud's event", v[1], count);
	report("remove: the kernel's uevent -> passthrud's", v[2], count);
	report("rescan: write -> the kernel's uevent (peer)", v[3], count);
	report("rescan: write -> passthrud's event", v[4], count);
	report("rescan: the kernel's uevent -> passthrud's", v[5], count);
	return 0;
}
