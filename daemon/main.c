/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * passthrud: options, the listening socket (its own, or systemd's through socket activation),
 * start-up (repair of an interrupted takeover, the inventory, the allocations on disk, the
 * VMs already running), the loop, and the goodbye.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "passthrud.h"

#define DEFAULT_SOCKET	    "/run/passthru/passthrud.sock"
#define DEFAULT_STATE_DIR   "/var/lib/passthru"
#define DEFAULT_GROUP	    "passthru"
#define DEFAULT_KUBELET_DIR "/var/lib/kubelet/device-plugins"

static void usage(FILE *f)
{
	fputs(
	    "Usage: passthrud [OPTIONS]\n"
	    "\n"
	    "The passthru host service: a live inventory of the host's PCI functions, USB devices\n"
	    "and serial ports and their allocation to VMs, over HTTP/1.1 with JSON on a unix\n"
	    "socket.\n"
	    "\n"
	    "Options:\n"
	    "  --socket PATH     listen on PATH (default " DEFAULT_SOCKET ");\n"
	    "                    under socket activation systemd's socket is used instead\n"
	    "  --state-dir DIR   keep the allocations in DIR/passthrud.db (default\n"
	    "                    " DEFAULT_STATE_DIR ")\n"
	    "  --group NAME      members of NAME may read (default " DEFAULT_GROUP
	    "); changes need root\n"
	    "  --write-group NAME members of NAME may also allocate and release\n"
	    "  --sysroot DIR     read and change the host below DIR instead of / (tests)\n"
	    "  --bind-timeout MS limit of each blocking sysfs write of a binding (default 10000)\n"
	    "  --kubelet-dir DIR the kubelet's device plugin directory, for the resources of\n"
	    "                    /etc/passthru/kubernetes.d (default " DEFAULT_KUBELET_DIR ")\n"
	    "  -v, --verbose     log the library's debug messages\n"
	    "  -h, --help        show this help\n"
	    "  --version         show the version\n"
	    "\n"
	    "API: GET /v1/devices, GET /v1/devices/ADDRESS, GET|POST /v1/allocations,\n"
	    "GET|DELETE /v1/allocations/ID, GET /v1/events, GET /metrics. See passthrud(8).\n",
	    f);
}

static void log_to_stderr(void *userdata, int priority, const char *file, int line, const char *fn,
			  const char *format, va_list args)
{
	if (!format)
		return;
	fprintf(stderr, "<%d>passthrud: ", priority);
	vfprintf(stderr, format, args);
	if (!*format || format[strlen(format) - 1] != '\n')
		fputc('\n', stderr);
}

/* The socket systemd passed (socket activation), else one of our own at path. */
static int open_socket(struct daemon *d, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_free_ char *dir = NULL;
	int n = sd_listen_fds(1), fd;

	if (n > 1) {
		fprintf(stderr, "passthrud: systemd passed %d sockets, one is wanted\n", n);
		return -EINVAL;
	}
	if (n == 1) {
		fd = SD_LISTEN_FDS_START;
		if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
			fprintf(stderr, "passthrud: systemd's socket is not a listening unix "
					"stream socket\n");
			return -EINVAL;
		}
		/* sd_listen_fds() set FD_CLOEXEC; MHD wants the socket non-blocking. */
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		d->listen_fd = fd;
		return 0;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "passthrud: %s: the socket path is too long\n", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	dir = strdup(path);
	if (!dir)
		return -ENOMEM;
	if (strrchr(dir, '/') && strrchr(dir, '/') != dir) {
		*strrchr(dir, '/') = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			fprintf(stderr, "passthrud: %s: %m\n", dir);
			return -errno;
		}
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A socket left by a killed passthrud: nobody listens on it any more. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		fprintf(stderr, "passthrud: %s: another passthrud listens there\n", path);
		close(fd);
		return -EADDRINUSE;
	}
	unlink(path);
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 128) < 0) {
		int e = errno;

		fprintf(stderr, "passthrud: %s: %s\n", path, strerror(e));
		close(fd);
		return -e;
	}
	/*
	 * Everyone may connect: the peer's credentials decide what it may do, and a client that
	 * may do nothing gets a 403 that says so instead of a bare EACCES.
	 */
	if (chmod(path, 0666) < 0) {
		int e = errno;

		close(fd);
		unlink(path);
		return -e;
	}
	d->listen_fd = fd;
	d->socket_path = strdup(path);
	return d->socket_path ? 0 : -ENOMEM;
}

/* Finishes or rolls back a takeover a crash left half done, before anything is read. */
static void repair(struct daemon *d)
{
	struct passthru_takeover *t = NULL;
	int r = passthru_takeover_new(d->ctx, PASSTHRU_TAKEOVER_REPAIR, 0, &t);

	if (r >= 0)
		r = passthru_takeover_execute(t);
	if (r < 0)
		fprintf(stderr, "passthrud: repair of an interrupted bind: %s\n",
			(t ? passthru_takeover_get_error(t) : NULL) ?: strerror(-r));
	else if (passthru_takeover_get_repair_outcome(t) != PASSTHRU_REPAIR_NOTHING)
		fprintf(stderr, "passthrud: an interrupted bind or unbind was %s\n",
			passthru_takeover_get_repair_outcome(t) == PASSTHRU_REPAIR_COMPLETED
			    ? "completed"
			    : "rolled back");
	passthru_takeover_unref(t);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

/* The device counts: "free" and "allocated" are of every kind, as GET /v1/devices shows them. */
static void status(struct daemon *d)
{
	size_t free_n = 0, alloc_n = 0, usb_n = 0;

	for (size_t i = 0; i < d->inv.n + d->inv.n_ports; i++) {
		const struct device *dev =
		    i < d->inv.n ? &d->inv.v[i] : &d->inv.ports[i - d->inv.n];
		const char *st = device_state(d, dev, NULL);

		free_n += strcmp(st, "free") == 0;
		alloc_n += strcmp(st, "allocated") == 0;
		usb_n += dev->kind == DEVICE_USB;
	}
	sd_notifyf(0,
		   "STATUS=%zu PCI functions, %zu USB devices, %zu serial ports: %zu free, %zu "
		   "allocated in %zu allocations",
		   d->inv.n, usb_n, d->inv.n_ports - usb_n, free_n, alloc_n, d->allocs.n);
}

static int on_status(sd_event_source *s, uint64_t usec, void *userdata)
{
	status(userdata);
	/* A time source is one-shot: it is off after it fired until enabled again. */
	sd_event_source_set_time(s, usec + 10 * 1000000ULL);
	sd_event_source_set_enabled(s, SD_EVENT_ON);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"state-dir", required_argument, NULL, 'd'},
	    {"group", required_argument, NULL, 'g'},
	    {"write-group", required_argument, NULL, 'w'},
	    {"sysroot", required_argument, NULL, 'r'},
	    {"bind-timeout", required_argument, NULL, 't'},
	    {"kubelet-dir", required_argument, NULL, 'k'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {},
	};
	const char *socket_path = DEFAULT_SOCKET, *state_dir = DEFAULT_STATE_DIR;
	const char *group = DEFAULT_GROUP, *write_group = NULL, *sysroot = NULL;
	const char *kubelet_dir = NULL;
	char *kubelet_dir_below = NULL;
	struct daemon d = {.listen_fd = -1, .read_gid = (gid_t)-1, .worker.efd = -1};
	sd_event_source *status_timer = NULL;
	bool verbose = false;
	struct group *gr;
	sigset_t mask;
	uint64_t now;
	int c, r;

	while ((c = getopt_long(argc, argv, "vh", options, NULL)) >= 0) {
		switch (c) {
		case 's':
			socket_path = optarg;
			break;
		case 'd':
			state_dir = optarg;
			break;
		case 'g':
			group = optarg;
			break;
		case 'w':
			write_group = optarg;
			break;
		case 'r':
			sysroot = optarg;
			break;
		case 'k':
			kubelet_dir = optarg;
			break;
		case 't': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (!*optarg || *end || v == 0 || v > 600000) {
				fprintf(stderr, "passthrud: --bind-timeout: give milliseconds, "
						"1 to 600000\n");
				return 2;
			}
			d.bind_timeout_ms = (unsigned)v;
			break;
		}
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			puts("passthrud " PASSTHRU_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "passthrud: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (!*socket_path || !*state_dir || (sysroot && !*sysroot) ||
	    (kubelet_dir && !*kubelet_dir)) {
		fprintf(stderr, "passthrud: an empty path was given\n");
		return 2;
	}

	r = passthru_ctx_new(sysroot ?: "/", &d.ctx);
	if (r < 0) {
		fprintf(stderr, "passthrud: %s: %s\n", sysroot ?: "/", strerror(-r));
		return 1;
	}
	d.log_fn = log_to_stderr;
	passthru_ctx_set_log_fn(d.ctx, log_to_stderr, NULL);
	passthru_ctx_set_log_priority(d.ctx, verbose ? LOG_DEBUG : LOG_WARNING);
	d.real_root = strcmp(passthru_ctx_get_sysroot(d.ctx), "/") == 0;
	gr = getgrnam(group);
	if (gr)
		d.read_gid = gr->gr_gid;
	else
		fprintf(stderr, "passthrud: no group %s: only root may use the service\n", group);
	if (write_group) {
		gr = getgrnam(write_group);
		if (!gr) {
			fprintf(stderr, "passthrud: --write-group: no group %s\n", write_group);
			r = -ENOENT;
			goto out;
		}
		d.write_gid = gr->gr_gid;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	r = sd_event_default(&d.event);
	if (r >= 0)
		r = sd_event_add_signal(d.event, NULL, SIGTERM, on_signal, NULL);
	if (r >= 0)
		r = sd_event_add_signal(d.event, NULL, SIGINT, on_signal, NULL);
	if (r < 0) {
		fprintf(stderr, "passthrud: cannot make the event loop: %s\n", strerror(-r));
		goto out;
	}

	r = worker_start(&d);
	if (r < 0) {
		fprintf(stderr, "passthrud: cannot start the takeover worker: %s\n", strerror(-r));
		goto out;
	}
	r = store_open(d.event, state_dir, &d.db);
	if (r < 0) {
		fprintf(stderr, "passthrud: %s: cannot open the state database: %s\n", state_dir,
			strerror(-r));
		goto out;
	}
	repair(&d);
	r = store_load(d.db, &d.allocs);
	if (r >= 0)
		r = inventory_scan(d.ctx, &d.inv);
	if (r < 0) {
		fprintf(stderr, "passthrud: cannot read the host's PCI functions: %s\n",
			strerror(-r));
		goto out;
	}
	/* Listen before adopting: a uevent between the scan and now would be lost otherwise. */
	r = uevents_start(&d);
	if (r >= 0)
		r = allocations_adopt(&d);
	if (r < 0) {
		fprintf(stderr, "passthrud: cannot adopt the running VMs' devices: %s\n",
			strerror(-r));
		goto out;
	}
	r = kubernetes_start(&d);
	if (r < 0)
		goto out;
	r = open_socket(&d, socket_path);
	if (r < 0)
		goto out;
	r = http_start(&d);
	if (r < 0) {
		fprintf(stderr, "passthrud: cannot start the HTTP server\n");
		goto out;
	}
	/* Below a fixture root, the default directory is the root's: never the host's. */
	if (!kubelet_dir && !d.real_root &&
	    asprintf(&kubelet_dir_below, "%s" DEFAULT_KUBELET_DIR,
		     passthru_ctx_get_sysroot(d.ctx)) < 0) {
		r = -ENOMEM;
		goto out;
	}
	if (!kubelet_dir)
		kubelet_dir = kubelet_dir_below ?: DEFAULT_KUBELET_DIR;
	/* Without the kubelet's directory the HTTP API still serves: said, not fatal. */
	r = kubelet_start(&d, kubelet_dir);
	if (r < 0) {
		fprintf(stderr, "passthrud: the device plugin is not served in %s: %s\n",
			kubelet_dir, strerror(-r));
		kubelet_stop(&d);
		r = 0;
	}
	sd_event_now(d.event, CLOCK_MONOTONIC, &now);
	sd_event_add_time(d.event, &status_timer, CLOCK_MONOTONIC, now + 10 * 1000000ULL, 1000000,
			  on_status, &d);
	/* The start-up scan freed much more than the service keeps: give it back. */
	malloc_trim(0);
	fprintf(stderr, "passthrud: listening on %s: %zu PCI functions, %zu allocations\n",
		d.socket_path ?: "systemd's socket", d.inv.n, d.allocs.n);
	sd_notify(0, "READY=1");
	status(&d);
	r = sd_event_loop(d.event);
	sd_notify(0, "STOPPING=1");
out:
	status_timer = sd_event_source_unref(status_timer);
	kubelet_stop(&d);
	free(kubelet_dir_below);
	/* The waiting requests get their answers before the server stops. */
	worker_stop(&d);
	http_stop(&d);
	uevents_stop(&d);
	if (d.listen_fd >= 0)
		close(d.listen_fd);
	if (d.socket_path)
		unlink(d.socket_path);
	free(d.socket_path);
	store_close(d.db);
	kubernetes_stop(&d);
	allocations_done(&d.allocs);
	inventory_done(&d.inv);
	sd_event_unref(d.event);
	passthru_ctx_unref(d.ctx);
	return r < 0 ? 1 : 0;
}
