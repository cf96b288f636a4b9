/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writes and reads that may block in the kernel, made by a helper process and abandoned after
 * a timeout.
 *
 * An unbind waits for the driver's remove, which may wait for anything (vfio-pci waits for the
 * VM to release the device); a probe or a reset waits for the device; showing or setting
 * driver_override waits for the device lock that any of these holds. A write() stuck there
 * cannot be interrupted, and a thread stuck in it would keep the whole process from exiting.
 * So the sysfs accesses of a transaction are made by a helper process over a socket. When the
 * helper does not answer in time it is left where it is, still blocked (a grandchild, so
 * nobody has to reap it), and the caller gets -ETIMEDOUT; the next request starts a new helper.
 *
 * A request is a list of steps run in order: the steps of one device go in one round trip.
 * The helper writes the index of the step it is in to a page shared with the caller, so a
 * timeout still tells which step is stuck, and each step gets the whole timeout (at least, at
 * most twice) however long the steps before it took.
 *
 * Wire format. Request: u32 count, then per step: op ('w' write, 'r' read), path, NUL, value,
 * NUL. Reply: i32 errno of the write that stopped the list (0), u32 steps run, then per step
 * run: i32 errno, and for a read that worked u32 length and the bytes.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "context.h"
#include "timed-io.h"

/* Steps per round trip: their largest answer (a page each) fits a socket buffer. */
#define STEPS_PER_REQUEST 32
#define READ_MAX	  4096
#define REQUEST_MAX	  (STEPS_PER_REQUEST * 8192)
#define REPLY_MAX	  (8 + STEPS_PER_REQUEST * (8 + READ_MAX))

struct timed_writer {
	struct passthru_ctx *ctx;
	pid_t pid;
	int sock;
	pid_t stuck_pid;
	/* Shared with the current helper: the index of the step it is in. */
	volatile int *progress;
};

/* ------------------------------------------------------------------------------------------ */
/* The helper                                                                                 */

static void put_u32(char **p, uint32_t v)
{
	memcpy(*p, &v, sizeof(v));
	*p += sizeof(v);
}

static int run_step(struct passthru_ctx *ctx, char op, const char *path, const char *value,
		    char *data, size_t *ret_len)
{
	int fd, err = 0;

	*ret_len = 0;
	if (op == 'w') {
		size_t vlen = strlen(value);
		ssize_t k;

		fd = root_open(ctx, path, O_WRONLY | O_TRUNC | O_NOCTTY, 0);
		if (fd < 0)
			return -fd;
		do
			k = write(fd, value, vlen);
		while (k < 0 && errno == EINTR);
		err = k < 0 ? errno : (size_t)k != vlen ? EIO : 0;
		close(fd);
		return err;
	}
	fd = root_open(ctx, path, O_RDONLY | O_NOCTTY, 0);
	if (fd < 0)
		return -fd;
	while (*ret_len < READ_MAX) {
		ssize_t k = read(fd, data + *ret_len, READ_MAX - *ret_len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			err = errno;
		if (k <= 0)
			break;
		*ret_len += (size_t)k;
	}
	close(fd);
	return err;
}

/* Runs one request; the reply is built in reply, its length returned. */
static size_t helper_serve(struct passthru_ctx *ctx, volatile int *progress, const char *req,
			   size_t n, char *reply)
{
	const char *p = req + sizeof(uint32_t), *end = req + n;
	char *out = reply + 8;
	int32_t stop = 0;
	uint32_t count, done = 0;

	if (n < sizeof(uint32_t))
		count = 0, stop = EINVAL;
	else
		memcpy(&count, req, sizeof(count));
	for (uint32_t i = 0; !stop && i < count && i < STEPS_PER_REQUEST; i++) {
		const char *path, *value;
		size_t len;
		char op;
		int32_t err;

		/* op, path NUL, value NUL: anything else ends the request. */
		if (p >= end || (*p != 'w' && *p != 'r')) {
			stop = EINVAL;
			break;
		}
		op = *p++;
		path = p;
		p = memchr(p, '\0', (size_t)(end - p));
		if (!p++) {
			stop = EINVAL;
			break;
		}
		value = p;
		p = p < end ? memchr(p, '\0', (size_t)(end - p)) : NULL;
		if (!p++) {
			stop = EINVAL;
			break;
		}
		*progress = (int)i;
		err = run_step(ctx, op, path, value, out + 8, &len);
		memcpy(out, &err, sizeof(err));
		out += sizeof(err);
		if (op == 'r' && !err) {
			put_u32(&out, (uint32_t)len);
			out += len;
		}
		done++;
		/* A failed write ends the list: the steps after it assumed it worked. */
		if (op == 'w' && err)
			stop = err;
	}
	memcpy(reply, &stop, sizeof(stop));
	memcpy(reply + 4, &done, sizeof(done));
	return (size_t)(out - reply);
}

_Noreturn static void helper_main(struct passthru_ctx *ctx, volatile int *progress, int sock)
{
	char *req = malloc(REQUEST_MAX + 1), *reply = malloc(REPLY_MAX);

	if (!req || !reply)
		_exit(1);
	for (;;) {
		ssize_t n = recv(sock, req, REQUEST_MAX, 0);
		size_t len;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0);
		req[n] = '\0';
		len = helper_serve(ctx, progress, req, (size_t)n, reply);
		if (send(sock, reply, len, MSG_NOSIGNAL) < 0)
			_exit(0);
	}
}

/* Closes the descriptors from..to (inclusive), with close_range(2) when the kernel has it. */
static void close_span(unsigned from, unsigned to)
{
	struct rlimit rl;

	if (from > to || close_range(from, to, 0) == 0 || errno != ENOSYS)
		return;
	/* Before Linux 5.9: one by one, up to the limit of open files. */
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > 1048576)
		rl.rlim_cur = 1048576;
	if (to >= rl.rlim_cur)
		to = (unsigned)rl.rlim_cur - 1;
	for (unsigned fd = from; fd <= to && fd >= from; fd++)
		(void)close((int)fd);
}

/*
 * In the helper: every descriptor the caller had open goes, but stdio, the socket and the
 * context's root. A helper left stuck in the kernel lives on; whatever it inherited (the
 * transaction lock, a service's client sockets, a VM's files) would stay open with it.
 */
static void close_inherited(int sock, int root_fd)
{
	int keep[2] = {sock < root_fd ? sock : root_fd, sock < root_fd ? root_fd : sock};
	unsigned from = 3;

	for (size_t i = 0; i < ELEMENTSOF(keep); i++) {
		if (keep[i] < (int)from)
			continue;
		if ((unsigned)keep[i] > from)
			close_span(from, (unsigned)keep[i] - 1);
		from = (unsigned)keep[i] + 1;
	}
	close_span(from, ~0U);
}

/* ------------------------------------------------------------------------------------------ */
/* The caller's side                                                                          */

static void writer_drop(struct timed_writer *w)
{
	if (w->sock >= 0)
		close(w->sock);
	w->sock = -1;
	w->pid = 0;
	/* A helper left blocked keeps its own mapping of the page. */
	if (w->progress)
		munmap((void *)w->progress, sizeof(int));
	w->progress = NULL;
}

static int writer_spawn(struct timed_writer *w)
{
	volatile int *progress;
	int sv[2], status;
	pid_t pid, helper = 0;

	progress =
	    mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (progress == MAP_FAILED)
		return -errno;
	*progress = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		int r = -errno;

		munmap((void *)progress, sizeof(int));
		return r;
	}
	pid = fork();
	if (pid < 0) {
		int r = -errno;

		close(sv[0]);
		close(sv[1]);
		munmap((void *)progress, sizeof(int));
		return r;
	}
	if (pid == 0) {
		pid_t h;

		/* A helper stuck in the kernel must not keep the transaction lock, nor anything. */
		close_inherited(sv[1], w->ctx->root_fd);
		signal(SIGPIPE, SIG_IGN);
		h = fork();
		if (h < 0)
			_exit(1);
		if (h > 0) {
			(void)!send(sv[1], &h, sizeof(h), MSG_NOSIGNAL);
			_exit(0);
		}
		helper_main(w->ctx, progress, sv[1]);
	}
	close(sv[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (recv(sv[0], &helper, sizeof(helper), 0) != sizeof(helper)) {
		close(sv[0]);
		munmap((void *)progress, sizeof(int));
		return -ECHILD;
	}
	w->pid = helper;
	w->sock = sv[0];
	w->progress = progress;
	return 0;
}

int timed_writer_new(struct passthru_ctx *ctx, struct timed_writer **ret)
{
	struct timed_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->ctx = ctx;
	w->sock = -1;
	*ret = w;
	return 0;
}

void timed_writer_free(struct timed_writer *w)
{
	if (!w)
		return;
	writer_drop(w);
	free(w);
}

pid_t timed_writer_stuck_pid(const struct timed_writer *w)
{
	return w ? w->stuck_pid : 0;
}

static size_t build_request(const struct timed_step *steps, size_t n, char *buf)
{
	char *p = buf;

	put_u32(&p, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		const char *value = steps[i].op == 'w' ? steps[i].value : "";
		size_t plen = strlen(steps[i].path) + 1, vlen = strlen(value) + 1;

		*p++ = steps[i].op;
		memcpy(p, steps[i].path, plen);
		p += plen;
		memcpy(p, value, vlen);
		p += vlen;
	}
	return (size_t)(p - buf);
}

static long elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* What to call while waiting, every period_ms. */
struct tick {
	unsigned period_ms;
	void (*fn)(void *userdata);
	void *userdata;
};

/*
 * Waits for the answer; a helper that makes no progress for timeout_ms is stuck. With tick,
 * its function is called every period while the helper works.
 */
static int wait_reply(struct timed_writer *w, unsigned timeout_ms, const struct tick *tick)
{
	int seen = *w->progress;
	struct timespec since;

	clock_gettime(CLOCK_MONOTONIC, &since);
	for (;;) {
		struct pollfd pfd = {.fd = w->sock, .events = POLLIN};
		long left = (long)timeout_ms - elapsed_ms(&since);
		int r, now;

		if (left < 0)
			left = 0;
		if (tick && tick->period_ms < left)
			left = tick->period_ms;
		r = poll(&pfd, 1, (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (tick)
			tick->fn(tick->userdata);
		now = *w->progress;
		if (now != seen) {
			seen = now;
			clock_gettime(CLOCK_MONOTONIC, &since);
			continue;
		}
		if (elapsed_ms(&since) >= (long)timeout_ms)
			return -ETIMEDOUT;
	}
}

static int parse_reply(const char *reply, size_t n, struct timed_step *steps, size_t count,
		       size_t *ret_done)
{
	const char *p = reply + 8, *end = reply + n;
	int32_t stop;
	uint32_t done;

	if (n < 8)
		return -EBADMSG;
	memcpy(&stop, reply, sizeof(stop));
	memcpy(&done, reply + 4, sizeof(done));
	if (done > count)
		return -EBADMSG;
	for (uint32_t i = 0; i < done; i++) {
		int32_t err;
		uint32_t len;

		if (end - p < 4)
			return -EBADMSG;
		memcpy(&err, p, sizeof(err));
		p += 4;
		steps[i].err = -err;
		if (steps[i].op != 'r' || err)
			continue;
		if (end - p < 4)
			return -EBADMSG;
		memcpy(&len, p, sizeof(len));
		p += 4;
		if (len > (size_t)(end - p) || memchr(p, '\0', len)) {
			steps[i].err = -EBADMSG;
		} else {
			size_t k = len;

			steps[i].result = strndup(p, len);
			if (!steps[i].result)
				return -ENOMEM;
			while (k > 0 && steps[i].result[k - 1] == '\n')
				steps[i].result[--k] = '\0';
		}
		p += len;
	}
	*ret_done = done;
	return -stop;
}

int timed_submit(struct timed_writer *w, struct timed_step *steps, size_t n)
{
	_cleanup_free_ char *req = NULL;
	size_t len = sizeof(uint32_t);
	int r;

	if (n == 0 || n > STEPS_PER_REQUEST)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (steps[i].op != 'w' && steps[i].op != 'r')
			return -EINVAL;
		len +=
		    3 + strlen(steps[i].path) + (steps[i].op == 'w' ? strlen(steps[i].value) : 0);
		steps[i].err = 0;
		steps[i].result = NULL;
	}
	if (len > REQUEST_MAX)
		return -E2BIG;
	req = malloc(len);
	if (!req)
		return -ENOMEM;
	build_request(steps, n, req);

	for (int attempt = 0;; attempt++) {
		if (w->sock < 0) {
			r = writer_spawn(w);
			if (r < 0)
				return r;
		}
		*w->progress = -1;
		if (send(w->sock, req, len, MSG_NOSIGNAL) >= 0)
			return 0;
		/* The helper died (killed from outside): one fresh one, then give up. */
		writer_drop(w);
		if (attempt > 0)
			return -ECHILD;
	}
}

int timed_fd(const struct timed_writer *w)
{
	return w->sock;
}

int timed_progress(const struct timed_writer *w)
{
	return w->progress ? *w->progress : -1;
}

size_t timed_abandon(struct timed_writer *w)
{
	int step = timed_progress(w);

	/* Still in the kernel: leave it there, the next request gets a new helper. */
	w->stuck_pid = w->pid;
	writer_drop(w);
	return step > 0 ? (size_t)step : 0;
}

int timed_collect(struct timed_writer *w, struct timed_step *steps, size_t n, size_t *ret_failed)
{
	_cleanup_free_ char *reply = malloc(REPLY_MAX);
	size_t done = 0;
	ssize_t k;
	int r;

	if (!reply)
		return -ENOMEM;
	k = recv(w->sock, reply, REPLY_MAX, 0);
	if (k < 8) {
		writer_drop(w);
		return -ECHILD;
	}
	r = parse_reply(reply, (size_t)k, steps, n, &done);
	if (r < 0 && ret_failed)
		*ret_failed = done ? done - 1 : 0;
	return r;
}

/* One round trip for at most STEPS_PER_REQUEST steps. */
static int run_chunk(struct timed_writer *w, struct timed_step *steps, size_t n,
		     unsigned timeout_ms, const struct tick *tick, size_t *ret_failed)
{
	int r;

	r = timed_submit(w, steps, n);
	if (r < 0)
		return r;
	r = wait_reply(w, timeout_ms, tick);
	if (r == -ETIMEDOUT) {
		*ret_failed = timed_abandon(w);
		if (*ret_failed >= n)
			*ret_failed = 0;
		steps[*ret_failed].err = -ETIMEDOUT;
		return -ETIMEDOUT;
	}
	if (r < 0)
		return r;
	return timed_collect(w, steps, n, ret_failed);
}

static int steps_run(struct timed_writer *w, struct timed_step *steps, size_t n,
		     unsigned timeout_ms, const struct tick *tick, size_t *ret_failed)
{
	size_t failed = 0;

	for (size_t i = 0; i < n; i++) {
		steps[i].err = 0;
		steps[i].result = NULL;
	}
	for (size_t off = 0; off < n; off += STEPS_PER_REQUEST) {
		size_t count = n - off < STEPS_PER_REQUEST ? n - off : STEPS_PER_REQUEST;
		int r = run_chunk(w, steps + off, count, timeout_ms, tick, &failed);

		if (r < 0) {
			if (ret_failed)
				*ret_failed = off + failed;
			return r;
		}
	}
	return 0;
}

int timed_steps(struct timed_writer *w, struct timed_step *steps, size_t n, unsigned timeout_ms,
		size_t *ret_failed)
{
	return steps_run(w, steps, n, timeout_ms, NULL, ret_failed);
}

int timed_write_tick(struct timed_writer *w, const char *path, const char *value,
		     unsigned timeout_ms, unsigned period_ms, void (*fn)(void *userdata),
		     void *userdata)
{
	struct timed_step s = {.op = 'w', .path = path, .value = value};
	struct tick tick = {.period_ms = period_ms ? period_ms : 1, .fn = fn, .userdata = userdata};

	return steps_run(w, &s, 1, timeout_ms, fn ? &tick : NULL, NULL);
}

int timed_write(struct timed_writer *w, const char *path, const char *value, unsigned timeout_ms)
{
	struct timed_step s = {.op = 'w', .path = path, .value = value};

	return timed_steps(w, &s, 1, timeout_ms, NULL);
}

int timed_read(struct timed_writer *w, const char *path, unsigned timeout_ms, char **ret)
{
	struct timed_step s = {.op = 'r', .path = path};
	int r;

	r = timed_steps(w, &s, 1, timeout_ms, NULL);
	if (r >= 0 && s.err < 0)
		r = s.err;
	if (r < 0) {
		free(s.result);
		return r;
	}
	*ret = s.result;
	return 0;
}

const char *ms_text(unsigned ms, char buf[32])
{
	if (ms % 1000 == 0)
		snprintf(buf, 32, "%u s", ms / 1000);
	else
		snprintf(buf, 32, "%u ms", ms);
	return buf;
}
