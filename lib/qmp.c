/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A QMP client (QEMU Machine Protocol) on json-c. QEMU greets with {"QMP": {...}}, the client
 * negotiates with qmp_capabilities, then sends {"execute": ..., "arguments": ..., "id": ...}
 * and gets {"return": ...} or {"error": {"class", "desc"}} back with the same id, while
 * {"event": ...} messages may arrive at any time in between: they are queued for whoever
 * waits for events. One command is in flight at a time.
 *
 * Every connect, read and write is non-blocking and bounded by poll() with a deadline, so a
 * stuck or paused VM gives -ETIMEDOUT instead of a hang. Writes use MSG_NOSIGNAL: a VM that
 * goes away is -ECONNRESET, not SIGPIPE.
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "qmp.h"

/* Events kept while nobody waits for them; older ones are dropped beyond this. */
#define QMP_EVENT_QUEUE_MAX    1024
#define QMP_DEFAULT_TIMEOUT_MS 10000

struct passthru_qmp {
	unsigned refcount;
	struct passthru_ctx *ctx;
	int fd;
	unsigned timeout_ms;
	struct qmp_stream stream;
	struct json_object **events;
	size_t n_events;
	unsigned next_id;
	char *version;
	char *error;
	/* A write was cut short or the peer spoke garbage: the byte stream is out of step. */
	bool broken;
};

/* ------------------------------------------------------------------------------------------ */
/* The message stream                                                                         */

int qmp_stream_init(struct qmp_stream *s)
{
	*s = (struct qmp_stream){0};
	s->tok = json_tokener_new();
	if (!s->tok)
		return -ENOMEM;
	/* QEMU writes strict JSON; several messages follow each other in one read. */
	json_tokener_set_flags(s->tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
					   JSON_TOKENER_VALIDATE_UTF8);
	return 0;
}

void qmp_stream_done(struct qmp_stream *s)
{
	if (s->tok)
		json_tokener_free(s->tok);
	free(s->buf);
	*s = (struct qmp_stream){0};
}

int qmp_stream_push(struct qmp_stream *s, const void *data, size_t len)
{
	if (s->pos > 0) {
		memmove(s->buf, s->buf + s->pos, s->len - s->pos);
		s->len -= s->pos;
		s->pos = 0;
	}
	if (len > QMP_MESSAGE_MAX || s->len + s->taken > QMP_MESSAGE_MAX - len)
		return -EMSGSIZE;
	if (s->len + len > s->size) {
		size_t size = s->size ? s->size : 4096;
		char *b;

		while (size < s->len + len)
			size *= 2;
		b = realloc(s->buf, size);
		if (!b)
			return -ENOMEM;
		s->buf = b;
		s->size = size;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	return 0;
}

static bool is_json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int qmp_stream_next(struct qmp_stream *s, struct json_object **ret)
{
	struct json_object *o;
	enum json_tokener_error e;
	size_t avail, end;

	/* Between messages, skip the CRLF QEMU puts after each. */
	if (s->taken == 0)
		while (s->pos < s->len && is_json_space(s->buf[s->pos]))
			s->pos++;
	avail = s->len - s->pos;
	if (avail == 0)
		return 0;
	/* json-c takes a NUL as the end of its input; QEMU never sends one. */
	if (memchr(s->buf + s->pos, '\0', avail))
		return -EBADMSG;
	o = json_tokener_parse_ex(s->tok, s->buf + s->pos, (int)avail);
	e = json_tokener_get_error(s->tok);
	if (!o && e == json_tokener_continue) {
		/* The tokener keeps what it took; only new bytes go to it next time. */
		s->taken += avail;
		s->pos = s->len;
		return 0;
	}
	if (!o) {
		/* A JSON null is a value too, but never a QMP message. */
		return -EBADMSG;
	}
	end = json_tokener_get_parse_end(s->tok);
	json_tokener_reset(s->tok);
	s->pos += end;
	s->taken = 0;
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return -EBADMSG;
	}
	*ret = o;
	return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* query-pci                                                                                  */

static int get_uint(struct json_object *o, const char *key, int64_t max, unsigned *ret)
{
	struct json_object *v;
	int64_t i;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return -EBADMSG;
	errno = 0;
	i = json_object_get_int64(v);
	if (errno != 0 || i < 0 || i > max)
		return -EBADMSG;
	*ret = (unsigned)i;
	return 0;
}

void qmp_pci_devices_free(struct qmp_pci_device *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].qdev_id);
	free(v);
}

struct pci_list {
	struct qmp_pci_device *v;
	size_t n;
};

static int parse_devices(struct json_object *devices, struct pci_list *l, size_t *ret_count);

static int parse_device(struct json_object *dev, struct pci_list *l)
{
	struct json_object *info, *id, *bridge, *v;
	struct qmp_pci_device d = {.secondary = -1};
	unsigned bus, slot, fn, vendor, device, cls = 0, secondary;
	struct qmp_pci_device *nv;
	size_t index;
	int r;

	if (!json_object_is_type(dev, json_type_object))
		return -EBADMSG;
	if (get_uint(dev, "bus", 255, &bus) < 0 || get_uint(dev, "slot", 31, &slot) < 0 ||
	    get_uint(dev, "function", 7, &fn) < 0)
		return -EBADMSG;
	if (!json_object_object_get_ex(dev, "id", &id) ||
	    get_uint(id, "vendor", 0xffff, &vendor) < 0 ||
	    get_uint(id, "device", 0xffff, &device) < 0)
		return -EBADMSG;
	if (json_object_object_get_ex(dev, "class_info", &info) &&
	    get_uint(info, "class", 0xffff, &cls) < 0)
		return -EBADMSG;
	d.bus = bus;
	d.slot = slot;
	d.function = fn;
	d.vendor = (uint16_t)vendor;
	d.device = (uint16_t)device;
	d.class_code = (uint16_t)cls;
	if (json_object_object_get_ex(dev, "qdev_id", &v)) {
		if (!json_object_is_type(v, json_type_string))
			return -EBADMSG;
		if (json_object_get_string_len(v) > 0) {
			d.qdev_id = strdup(json_object_get_string(v));
			if (!d.qdev_id)
				return -ENOMEM;
		}
	}
	nv = ARRAY_GROW(l->v, l->n);
	if (!nv) {
		free(d.qdev_id);
		return -ENOMEM;
	}
	*nv = d;
	index = l->n++;

	if (json_object_object_get_ex(dev, "pci_bridge", &bridge)) {
		struct json_object *b, *devices;
		size_t behind = 0;

		if (!json_object_is_type(bridge, json_type_object) ||
		    !json_object_object_get_ex(bridge, "bus", &b) ||
		    get_uint(b, "secondary", 255, &secondary) < 0)
			return -EBADMSG;
		l->v[index].secondary = (int)secondary;
		if (json_object_object_get_ex(bridge, "devices", &devices)) {
			r = parse_devices(devices, l, &behind);
			if (r < 0)
				return r;
		}
		l->v[index].behind = behind;
	}
	return 0;
}

static int parse_devices(struct json_object *devices, struct pci_list *l, size_t *ret_count)
{
	size_t before = l->n;

	if (!json_object_is_type(devices, json_type_array))
		return -EBADMSG;
	for (size_t i = 0; i < json_object_array_length(devices); i++) {
		int r = parse_device(json_object_array_get_idx(devices, i), l);

		if (r < 0)
			return r;
	}
	*ret_count = l->n - before;
	return 0;
}

int qmp_parse_query_pci(struct json_object *value, struct qmp_pci_device **ret, size_t *ret_n)
{
	struct pci_list l = {0};
	int r = 0;

	if (!json_object_is_type(value, json_type_array))
		return -EBADMSG;
	for (size_t i = 0; i < json_object_array_length(value) && r >= 0; i++) {
		struct json_object *bus = json_object_array_get_idx(value, i), *devices;
		size_t count;

		if (!json_object_is_type(bus, json_type_object) ||
		    !json_object_object_get_ex(bus, "devices", &devices))
			r = -EBADMSG;
		else
			r = parse_devices(devices, &l, &count);
	}
	if (r < 0) {
		qmp_pci_devices_free(l.v, l.n);
		return r;
	}
	*ret = l.v;
	*ret_n = l.n;
	return 0;
}

int qmp_parse_qom_list(struct json_object *value, const char *name_prefix, const char *type_prefix,
		       char ***ret)
{
	_cleanup_strv_free_ char **names = NULL;
	int r = 0;

	if (!json_object_is_type(value, json_type_array))
		return -EBADMSG;
	for (size_t i = 0; i < json_object_array_length(value) && r >= 0; i++) {
		struct json_object *e = json_object_array_get_idx(value, i), *name, *type;
		const char *n, *t;

		if (!json_object_object_get_ex(e, "name", &name) ||
		    !json_object_object_get_ex(e, "type", &type) ||
		    !json_object_is_type(name, json_type_string) ||
		    !json_object_is_type(type, json_type_string))
			continue;
		n = json_object_get_string(name);
		t = json_object_get_string(type);
		if ((name_prefix && strncmp(n, name_prefix, strlen(name_prefix)) != 0) ||
		    (type_prefix && strncmp(t, type_prefix, strlen(type_prefix)) != 0))
			continue;
		r = strv_push(&names, n);
	}
	if (r < 0)
		return r;
	if (strv_ensure(&names) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(names);
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The connection                                                                             */

uint64_t qmp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

unsigned qmp_get_timeout(const struct passthru_qmp *qmp)
{
	return qmp->timeout_ms;
}

static int set_error(struct passthru_qmp *qmp, int r, const char *format, ...) _printf_(3, 4);

static int set_error(struct passthru_qmp *qmp, int r, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	r = error_setfv(&qmp->error, r, format, ap);
	va_end(ap);
	if (qmp->error)
		log_debug(qmp->ctx, "qmp: %s", qmp->error);
	return r;
}

/* Waits until fd is ready for events, or the deadline passes. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = events};
		uint64_t now = qmp_now_ms();
		int r;

		if (now >= deadline)
			return -ETIMEDOUT;
		r = poll(&pfd, 1, deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r > 0) {
			if (pfd.revents & POLLNVAL)
				return -EBADF;
			/* Errors and hang-ups show on the next read or write. */
			return 0;
		}
	}
}

static int connect_socket(struct passthru_ctx *ctx, const char *path, uint64_t deadline, int *ret)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_free_ char *real = NULL;
	_cleanup_close_ int fd = -1, pathfd = -1;
	int r;

	if (!path || !*path)
		return -EINVAL;
	if (path[0] == '/') {
		r = root_path(ctx, path, &real);
		if (r < 0)
			return r;
	} else {
		real = strdup(path);
		if (!real)
			return -ENOMEM;
	}
	if (strlen(real) < sizeof(sa.sun_path)) {
		memcpy(sa.sun_path, real, strlen(real) + 1);
	} else {
		/* Too long for sun_path: connect through the socket's inode in /proc/self/fd. */
		pathfd = path[0] == '/' ? root_open(ctx, path, O_PATH, 0)
					: open(real, O_PATH | O_CLOEXEC);
		if (pathfd < 0)
			return path[0] == '/' ? pathfd : -errno;
		snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d", pathfd);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	for (;;) {
		int error = 0;
		socklen_t len = sizeof(error);

		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			/* The listener's backlog is full: try again until the deadline. */
			if (qmp_now_ms() >= deadline)
				return -ETIMEDOUT;
			(void)poll(NULL, 0, 10);
			continue;
		}
		if (errno != EINPROGRESS)
			return -errno;
		r = wait_fd(fd, POLLOUT, deadline);
		if (r < 0)
			return r;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
			return -errno;
		if (error != 0)
			return -error;
		break;
	}
	*ret = TAKE_FD(fd);
	return 0;
}

static int send_all(struct passthru_qmp *qmp, const char *data, size_t len, uint64_t deadline)
{
	size_t sent = 0;

	while (sent < len) {
		ssize_t n = send(qmp->fd, data + sent, len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
		int r;

		if (n >= 0) {
			sent += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			r = wait_fd(qmp->fd, POLLOUT, deadline);
			if (r >= 0)
				continue;
		} else {
			r = errno == EPIPE ? -ECONNRESET : -errno;
		}
		/* Half a command on the wire: nothing sensible can follow it. */
		if (sent > 0)
			qmp->broken = true;
		return r;
	}
	return 0;
}

/* The next message, whatever it is. */
static int receive(struct passthru_qmp *qmp, uint64_t deadline, struct json_object **ret)
{
	char buf[65536];

	for (;;) {
		ssize_t n;
		int r;

		r = qmp_stream_next(&qmp->stream, ret);
		if (r > 0)
			return 0;
		if (r < 0) {
			qmp->broken = true;
			return set_error(qmp, -EPROTO, "QEMU sent %s",
					 r == -EMSGSIZE ? "a message too large"
							: "something that is not a QMP message");
		}
		r = wait_fd(qmp->fd, POLLIN, deadline);
		if (r < 0)
			return r;
		n = recv(qmp->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0) {
			qmp->broken = true;
			return set_error(qmp, -ECONNRESET, "QEMU closed the connection");
		}
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			r = -errno;
			qmp->broken = true;
			return set_error(qmp, r, "cannot read from QEMU: %s", strerror(-r));
		}
		r = qmp_stream_push(&qmp->stream, buf, (size_t)n);
		if (r < 0) {
			qmp->broken = true;
			return set_error(qmp, -EPROTO, "QEMU sent a message too large");
		}
	}
}

/* One message on the wire: compact JSON and CRLF, as QEMU writes its own. */
static char *json_line(struct json_object *o)
{
	const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
	char *s;

	if (!t || asprintf(&s, "%s\r\n", t) < 0)
		return NULL;
	return s;
}

static bool has_key(struct json_object *o, const char *key)
{
	return json_object_object_get_ex(o, key, NULL);
}

static int queue_event(struct passthru_qmp *qmp, struct json_object *event)
{
	struct json_object **v;

	if (qmp->n_events >= QMP_EVENT_QUEUE_MAX) {
		json_object_put(qmp->events[0]);
		memmove(qmp->events, qmp->events + 1, (qmp->n_events - 1) * sizeof(*qmp->events));
		qmp->n_events--;
	}
	v = ARRAY_GROW(qmp->events, qmp->n_events);
	if (!v) {
		json_object_put(event);
		return -ENOMEM;
	}
	*v = event;
	qmp->n_events++;
	return 0;
}

int qmp_execute(struct passthru_qmp *qmp, const char *command, struct json_object *args,
		struct json_object **ret)
{
	uint64_t deadline = qmp_now_ms() + qmp->timeout_ms;
	struct json_object *msg;
	_cleanup_free_ char *text = NULL;
	char id[32];
	int r;

	if (qmp->broken)
		return set_error(qmp, -ENOTCONN, "the connection to QEMU is out of step");
	free(qmp->error);
	qmp->error = NULL;
	snprintf(id, sizeof(id), "passthru-%u", ++qmp->next_id);
	msg = json_object_new_object();
	if (!msg)
		return -ENOMEM;
	json_object_object_add(msg, "execute", json_object_new_string(command));
	if (args)
		json_object_object_add(msg, "arguments", json_object_get(args));
	json_object_object_add(msg, "id", json_object_new_string(id));
	text = json_line(msg);
	json_object_put(msg);
	if (!text)
		return -ENOMEM;
	log_debug(qmp->ctx, "qmp: -> %.*s", (int)strcspn(text, "\r"), text);
	r = send_all(qmp, text, strlen(text), deadline);
	if (r == -ETIMEDOUT)
		return set_error(qmp, r, "QEMU did not take %s within %.1f s", command,
				 qmp->timeout_ms / 1000.0);
	if (r < 0)
		return set_error(qmp, r, "cannot send %s to QEMU: %s", command, strerror(-r));

	for (;;) {
		struct json_object *reply = NULL, *v, *error, *desc;

		r = receive(qmp, deadline, &reply);
		if (r == -ETIMEDOUT)
			return set_error(qmp, r, "no answer to %s within %.1f s", command,
					 qmp->timeout_ms / 1000.0);
		if (r < 0)
			return r;
		if (has_key(reply, "event")) {
			r = queue_event(qmp, reply);
			if (r < 0)
				return r;
			continue;
		}
		/* A reply to an earlier command that timed out: not ours. */
		if (json_object_object_get_ex(reply, "id", &v) &&
		    (!json_object_is_type(v, json_type_string) ||
		     strcmp(json_object_get_string(v), id) != 0)) {
			log_debug(qmp->ctx, "qmp: ignoring a reply to another command");
			json_object_put(reply);
			continue;
		}
		if (json_object_object_get_ex(reply, "return", &v)) {
			if (ret)
				*ret = json_object_get(v);
			json_object_put(reply);
			return 0;
		}
		if (json_object_object_get_ex(reply, "error", &error)) {
			if (json_object_object_get_ex(error, "desc", &desc) &&
			    json_object_is_type(desc, json_type_string))
				r = set_error(qmp, -EREMOTEIO, "%s", json_object_get_string(desc));
			else
				r = set_error(qmp, -EREMOTEIO, "an error without a description");
			json_object_put(reply);
			return r;
		}
		json_object_put(reply);
		qmp->broken = true;
		return set_error(qmp, -EPROTO, "QEMU answered %s with neither return nor error",
				 command);
	}
}

int qmp_next_event(struct passthru_qmp *qmp, uint64_t deadline, struct json_object **ret)
{
	if (qmp->n_events > 0) {
		*ret = qmp->events[0];
		memmove(qmp->events, qmp->events + 1, (qmp->n_events - 1) * sizeof(*qmp->events));
		qmp->n_events--;
		return 0;
	}
	if (qmp->broken)
		return set_error(qmp, -ENOTCONN, "the connection to QEMU is out of step");
	for (;;) {
		struct json_object *msg = NULL;
		int r = receive(qmp, deadline, &msg);

		if (r < 0)
			return r;
		if (has_key(msg, "event")) {
			*ret = msg;
			return 0;
		}
		log_debug(qmp->ctx, "qmp: ignoring a message that is no event");
		json_object_put(msg);
	}
}

_public_ int passthru_qmp_connect(struct passthru_ctx *ctx, const char *path, unsigned timeout_ms,
				  struct passthru_qmp **ret)
{
	return passthru_qmp_connect_full(ctx, path, timeout_ms, ret, NULL);
}

_public_ int passthru_qmp_connect_full(struct passthru_ctx *ctx, const char *path,
				       unsigned timeout_ms, struct passthru_qmp **ret,
				       char **ret_error)
{
	struct passthru_qmp *qmp;
	struct json_object *greeting = NULL, *info, *version, *q;
	int r;

	if (!ctx || !path || !ret)
		return -EINVAL;
	qmp = calloc(1, sizeof(*qmp));
	if (!qmp)
		return -ENOMEM;
	qmp->refcount = 1;
	qmp->ctx = passthru_ctx_ref(ctx);
	qmp->fd = -1;
	qmp->timeout_ms = timeout_ms ? timeout_ms : QMP_DEFAULT_TIMEOUT_MS;
	r = qmp_stream_init(&qmp->stream);
	if (r < 0)
		goto fail;
	r = connect_socket(ctx, path, qmp_now_ms() + qmp->timeout_ms, &qmp->fd);
	if (r < 0) {
		log_debug(ctx, "qmp: cannot connect to %s: %s", path, strerror(-r));
		goto fail;
	}
	r = receive(qmp, qmp_now_ms() + qmp->timeout_ms, &greeting);
	if (r < 0) {
		if (r == -ETIMEDOUT)
			log_debug(ctx, "qmp: no greeting from %s", path);
		goto fail;
	}
	if (!json_object_object_get_ex(greeting, "QMP", &info) ||
	    !json_object_is_type(info, json_type_object)) {
		json_object_put(greeting);
		r = -EPROTO;
		goto fail;
	}
	if (json_object_object_get_ex(info, "version", &version) &&
	    json_object_object_get_ex(version, "qemu", &q)) {
		unsigned major, minor, micro;

		if (get_uint(q, "major", INT_MAX, &major) >= 0 &&
		    get_uint(q, "minor", INT_MAX, &minor) >= 0 &&
		    get_uint(q, "micro", INT_MAX, &micro) >= 0 &&
		    asprintf(&qmp->version, "%u.%u.%u", major, minor, micro) < 0)
			qmp->version = NULL;
	}
	json_object_put(greeting);
	/* An error reply is QEMU speaking QMP all the same: its "desc" is the reason. */
	r = qmp_execute(qmp, "qmp_capabilities", NULL, NULL);
	if (r < 0)
		goto fail;
	*ret = qmp;
	return 0;
fail:
	if (ret_error && qmp->error)
		*ret_error = TAKE_PTR(qmp->error);
	passthru_qmp_unref(qmp);
	return r;
}

static void qmp_free(struct passthru_qmp *qmp)
{
	for (size_t i = 0; i < qmp->n_events; i++)
		json_object_put(qmp->events[i]);
	free(qmp->events);
	qmp_stream_done(&qmp->stream);
	if (qmp->fd >= 0)
		close(qmp->fd);
	free(qmp->version);
	free(qmp->error);
	passthru_ctx_unref(qmp->ctx);
	free(qmp);
}

DEFINE_REF_UNREF_FUNC(_public_, struct passthru_qmp, passthru_qmp, qmp_free);

_public_ void passthru_qmp_set_timeout(struct passthru_qmp *qmp, unsigned timeout_ms)
{
	if (qmp)
		qmp->timeout_ms = timeout_ms ? timeout_ms : QMP_DEFAULT_TIMEOUT_MS;
}

_public_ const char *passthru_qmp_get_qemu_version(const struct passthru_qmp *qmp)
{
	return qmp ? qmp->version : NULL;
}

_public_ const char *passthru_qmp_get_error(const struct passthru_qmp *qmp)
{
	return qmp ? qmp->error : NULL;
}

_public_ int passthru_qmp_execute(struct passthru_qmp *qmp, const char *command,
				  const char *arguments, char **ret)
{
	struct json_object *args = NULL, *value = NULL;
	int r;

	if (!qmp || !command || !*command)
		return -EINVAL;
	if (arguments) {
		args = json_tokener_parse(arguments);
		if (!args || !json_object_is_type(args, json_type_object)) {
			json_object_put(args);
			return -EINVAL;
		}
	}
	r = qmp_execute(qmp, command, args, ret ? &value : NULL);
	json_object_put(args);
	if (r < 0)
		return r;
	if (ret) {
		char *s = strdup(json_object_to_json_string_ext(
		    value, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));

		json_object_put(value);
		if (!s)
			return -ENOMEM;
		*ret = s;
	}
	return 0;
}
