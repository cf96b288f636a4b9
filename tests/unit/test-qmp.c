/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The QMP client against a fake QEMU: a child process listening on a unix socket that plays a
 * script (expect this command, send these bytes), and the attach/detach conversations of
 * test-vm-fixture.h's devices. Also the stream parser and query-pci on their own.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "qmp.h"
#include "test-vm-fixture.h"
#include "test.h"

#define GREETING                                                                                   \
	"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, "          \
	"\"package\": \"Debian 1:7.2+dfsg-7\"}, \"capabilities\": [\"oob\"]}}\r\n"
#define OK "{\"return\": {}, \"id\": \"@ID@\"}\r\n"
#define CAPS                                                                                       \
	{                                                                                          \
		"\"execute\":\"qmp_capabilities\"", OK, 0                                          \
	}
#define EVENT(name, device)                                                                        \
	"{\"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 1}, \"event\": \"" name       \
	"\", \"data\": {\"device\": \"" device "\", \"path\": \"/machine/peripheral/" device       \
	"\"}}\r\n"

/* One step of the fake QEMU: read a command containing expect (unless NULL), then send reply. */
struct step {
	const char *expect;
	/* "@ID@" becomes the command's id; a '\v' flushes what came before and pauses 30 ms. */
	const char *reply;
	unsigned delay_ms;
};

/*
 * How long the client waits where the fake QEMU is expected to answer: it answers at once, but
 * it is a forked process that a loaded machine may not run for seconds, so a short bound there
 * made -ETIMEDOUT out of a right answer. The wait ends when the answer comes, so a long bound
 * costs nothing; it stays under meson's 30 s test timeout so that a real hang is told as one.
 * Waits that are meant to expire keep their short timeouts and are checked to last at least
 * that long, and at most this.
 */
#define PATIENT_MS 20000

static char dir[] = "/tmp/passthru-test-qmp-XXXXXX";
static char sock_path[256];

static void msleep(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static bool write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Reads one line (a command); NULL at the end. */
static char *read_line(int fd)
{
	size_t n = 0, size = 256;
	char *s = malloc(size), c;

	while (s) {
		ssize_t r = read(fd, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(s);
			return NULL;
		}
		if (c == '\n')
			break;
		if (n + 2 > size)
			s = realloc(s, size *= 2);
		if (s)
			s[n++] = c;
	}
	if (s)
		s[n] = '\0';
	return s;
}

static void send_reply(int fd, const char *reply, const char *id)
{
	for (const char *p = reply; *p;) {
		size_t n = strcspn(p, "@\v");

		write_all(fd, p, n);
		p += n;
		if (strncmp(p, "@ID@", 4) == 0) {
			write_all(fd, id, strlen(id));
			p += 4;
		} else if (*p == '\v') {
			msleep(30);
			p++;
		} else if (*p) {
			write_all(fd, p++, 1);
		}
	}
}

static int serve(int listener, const char *greeting, const struct step *steps, size_t n, bool hold)
{
	int fd = accept(listener, NULL, NULL), failures = 0;

	if (fd < 0)
		return 100;
	if (greeting)
		send_reply(fd, greeting, "");
	if (n == 0 && !hold) {
		/* A peer that says its piece and hangs up. */
		close(fd);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *line = NULL;
		char id[64] = "";

		if (steps[i].expect) {
			struct json_object *o, *v;

			line = read_line(fd);
			if (!line) {
				fprintf(stderr,
					"fake QEMU: step %zu: the client hung up, expected %s\n", i,
					steps[i].expect);
				return failures + 1;
			}
			if (!strstr(line, steps[i].expect)) {
				fprintf(stderr, "fake QEMU: step %zu: expected %s\n  got %s\n", i,
					steps[i].expect, line);
				failures++;
			}
			o = json_tokener_parse(line);
			if (o && json_object_object_get_ex(o, "id", &v))
				snprintf(id, sizeof(id), "%s", json_object_get_string(v));
			json_object_put(o);
		}
		msleep(steps[i].delay_ms);
		if (steps[i].reply)
			send_reply(fd, steps[i].reply, id);
	}
	if (hold)
		for (;;)
			pause();
	/* Whatever the client still says is unexpected. */
	{
		char *extra = read_line(fd);

		if (extra) {
			fprintf(stderr, "fake QEMU: unexpected %s\n", extra);
			free(extra);
			failures++;
		}
	}
	close(fd);
	return failures;
}

/* Listens on path (relative to the working directory when not absolute). */
static int listen_on(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	unlink(path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
		perror(path);
		exit(1);
	}
	return fd;
}

static pid_t server_start_at(const char *path, const char *greeting, const struct step *steps,
			     size_t n, bool hold)
{
	int listener = listen_on(path);
	pid_t pid = fork();

	if (pid < 0)
		exit(1);
	if (pid == 0)
		_exit(serve(listener, greeting, steps, n, hold));
	close(listener);
	return pid;
}

#define server_start(steps, hold)                                                                  \
	server_start_at(sock_path, GREETING, steps, ELEMENTSOF(steps), hold)

/* The server's verdict: 0 when the client said exactly what the script expected. */
static int server_finish(pid_t pid, bool kill_it)
{
	int status = 0;

	if (kill_it)
		kill(pid, SIGTERM);
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	if (kill_it)
		return WIFSIGNALED(status) ? 0 : 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static struct passthru_qmp *connect_ok(struct passthru_ctx *ctx, unsigned timeout_ms)
{
	struct passthru_qmp *qmp = NULL;
	int r = passthru_qmp_connect(ctx, sock_path, timeout_ms, &qmp);

	CHECK_INT(r, 0);
	return qmp;
}

/* ------------------------------------------------------------------------------------------ */

static void test_stream(void)
{
	struct qmp_stream s;
	struct json_object *o = NULL;
	const char two[] = "{\"a\": 1}\r\n  {\"b\"";
	char *big;

	CHECK_INT(qmp_stream_init(&s), 0);
	CHECK_INT(qmp_stream_next(&s, &o), 0);
	CHECK_INT(qmp_stream_push(&s, two, strlen(two)), 0);
	CHECK_INT(qmp_stream_next(&s, &o), 1);
	CHECK(o && json_object_object_get_ex(o, "a", NULL));
	json_object_put(o);
	CHECK_INT(qmp_stream_next(&s, &o), 0);
	CHECK_INT(qmp_stream_push(&s, ": [1,\n 2]}\r\n", 12), 0);
	CHECK_INT(qmp_stream_next(&s, &o), 1);
	CHECK(o && json_object_object_get_ex(o, "b", NULL));
	json_object_put(o);
	CHECK_INT(qmp_stream_next(&s, &o), 0);
	/* A value that is no object, garbage, a NUL: each breaks the stream. */
	CHECK_INT(qmp_stream_push(&s, "[1]\r\n", 5), 0);
	CHECK_INT(qmp_stream_next(&s, &o), -EBADMSG);
	qmp_stream_done(&s);
	CHECK_INT(qmp_stream_init(&s), 0);
	CHECK_INT(qmp_stream_push(&s, "{a: 1}", 6), 0);
	CHECK_INT(qmp_stream_next(&s, &o), -EBADMSG);
	qmp_stream_done(&s);
	CHECK_INT(qmp_stream_init(&s), 0);
	CHECK_INT(qmp_stream_push(&s, "{\"a\": \"\0\"}", 10), 0);
	CHECK_INT(qmp_stream_next(&s, &o), -EBADMSG);
	qmp_stream_done(&s);
	CHECK_INT(qmp_stream_init(&s), 0);
	CHECK_INT(qmp_stream_push(&s, "null\r\n", 6), 0);
	CHECK_INT(qmp_stream_next(&s, &o), -EBADMSG);
	qmp_stream_done(&s);

	/* A message that never ends is refused once it passes the limit. */
	big = malloc(QMP_MESSAGE_MAX / 2 + 16);
	CHECK_INT(qmp_stream_init(&s), 0);
	if (big) {
		memset(big, 'a', QMP_MESSAGE_MAX / 2 + 16);
		memcpy(big, "{\"a\": \"", 7);
		CHECK_INT(qmp_stream_push(&s, big, QMP_MESSAGE_MAX / 2), 0);
		CHECK_INT(qmp_stream_next(&s, &o), 0);
		CHECK_INT(qmp_stream_push(&s, big + 7, QMP_MESSAGE_MAX / 2), 0);
		CHECK_INT(qmp_stream_next(&s, &o), 0);
		CHECK_INT(qmp_stream_push(&s, big + 7, 16), -EMSGSIZE);
	}
	free(big);
	qmp_stream_done(&s);
}

static void test_query_pci(void)
{
	struct json_object *v = json_tokener_parse(
	    "[{\"bus\": 0, \"devices\": ["
	    "{\"bus\": 0, \"slot\": 0, \"function\": 0, \"class_info\": "
	    "{\"class\": 1536}, \"id\": {\"vendor\": 32902, \"device\": "
	    "10688}, \"qdev_id\": \"\"},"
	    "{\"bus\": 0, \"slot\": 1, \"function\": 0, \"id\": {\"vendor\": "
	    "6966, \"device\": 12}, \"qdev_id\": \"rp1\", \"pci_bridge\": "
	    "{\"bus\": {\"number\": 1, \"secondary\": 1, \"subordinate\": 2}, "
	    "\"devices\": [{\"bus\": 1, \"slot\": 0, \"function\": 0, \"id\": "
	    "{\"vendor\": 6966, \"device\": 14}, \"qdev_id\": \"br\", "
	    "\"pci_bridge\": {\"bus\": {\"secondary\": 2}, \"devices\": [{\"bus\":"
	    " 2, \"slot\": 3, \"function\": 7, \"id\": {\"vendor\": 1, \"device\":"
	    " 2}}]}}]}},"
	    "{\"bus\": 0, \"slot\": 2, \"function\": 0, \"id\": {\"vendor\": "
	    "6966, \"device\": 12}, \"qdev_id\": \"rp2\", \"pci_bridge\": "
	    "{\"bus\": {\"secondary\": 0}}}]}]");
	struct json_object *bad = json_tokener_parse(
	    "[{\"bus\": 0, \"devices\": [{\"bus\": 0, \"slot\": 32, \"function\": 0, \"id\": "
	    "{\"vendor\": 1, \"device\": 2}}]}]");
	struct qmp_pci_device *d = NULL;
	size_t n = 0;

	CHECK_INT(qmp_parse_query_pci(v, &d, &n), 0);
	CHECK_INT(n, 5);
	if (n == 5) {
		CHECK(d[0].qdev_id == NULL);
		CHECK_INT(d[0].vendor, 0x8086);
		CHECK_INT(d[0].class_code, 0x0600);
		CHECK_STR(d[1].qdev_id, "rp1");
		CHECK_INT(d[1].secondary, 1);
		CHECK_INT(d[1].behind, 2);
		CHECK_STR(d[2].qdev_id, "br");
		CHECK_INT(d[2].behind, 1);
		CHECK_INT(d[3].bus, 2);
		CHECK_INT(d[3].slot, 3);
		CHECK_INT(d[3].function, 7);
		CHECK_INT(d[3].secondary, -1);
		CHECK_STR(d[4].qdev_id, "rp2");
		CHECK_INT(d[4].secondary, 0);
		CHECK_INT(d[4].behind, 0);
	}
	qmp_pci_devices_free(d, n);
	d = NULL;
	CHECK_INT(qmp_parse_query_pci(bad, &d, &n), -EBADMSG);
	CHECK_INT(qmp_parse_query_pci(json_object_array_get_idx(v, 0), &d, &n), -EBADMSG);
	CHECK(d == NULL);
	json_object_put(v);
	json_object_put(bad);
}

static void test_qom_list(void)
{
	struct json_object *v = json_tokener_parse(
	    "[{\"name\": \"type\", \"type\": \"string\"}, {\"name\": \"child[0]\", \"type\": "
	    "\"link<e1000e>\"}, {\"name\": \"rp1\", \"type\": \"child<pcie-root-port>\"}, "
	    "{\"name\": 5, \"type\": \"child<x>\"}, {\"name\": \"child[1]\"}]");
	char **names = NULL;

	CHECK_INT(qmp_parse_qom_list(v, "child[", NULL, &names), 0);
	CHECK(names && strv_length(names) == 1 && strcmp(names[0], "child[0]") == 0);
	strv_free(names);
	names = NULL;
	CHECK_INT(qmp_parse_qom_list(v, NULL, "child<", &names), 0);
	CHECK(names && strv_length(names) == 1 && strcmp(names[0], "rp1") == 0);
	strv_free(names);
	names = NULL;
	CHECK_INT(qmp_parse_qom_list(v, "nothing", NULL, &names), 0);
	CHECK(names && names[0] == NULL);
	strv_free(names);
	names = NULL;
	CHECK_INT(qmp_parse_qom_list(json_object_array_get_idx(v, 0), NULL, NULL, &names),
		  -EBADMSG);
	CHECK(names == NULL);
	json_object_put(v);
}

static void test_conversation(struct passthru_ctx *ctx)
{
	const struct step steps[] = {
	    CAPS,
	    /* A late reply to an older command and an event come before the answer. */
	    {"\"execute\":\"query-status\"",
	     "{\"return\": {}, \"id\": \"passthru-0\"}\r\n" EVENT(
		 "RESUME", "x") "{\"return\": {\"status\": \"prelaunch\", \"running\": false}, "
				"\"id\": \"@ID@\"}\r\n",
	     0},
	    /* Pretty-printed and cut in pieces. */
	    {"\"execute\":\"query-name\"",
	     "{\n    \"return\": {\n\v        \"name\": \"t\\u00e9st\"\n    },\n    \"i\vd\": "
	     "\"@ID@\"\n}\r\n",
	     0},
	    {"\"execute\":\"device_add\",\"arguments\":{\"driver\":\"x\"}",
	     "{\"id\": \"@ID@\", \"error\": {\"class\": \"GenericError\", \"desc\": \"'x' is not "
	     "a valid device model name\"}}\r\n",
	     0},
	    {"\"execute\":\"stop\"", "{\"id\": \"@ID@\", \"error\": {\"class\": \"X\"}}\r\n", 0},
	};
	pid_t pid = server_start(steps, false);
	struct passthru_qmp *qmp = connect_ok(ctx, PATIENT_MS);
	char *ret = NULL;

	CHECK_STR(passthru_qmp_get_qemu_version(qmp), "7.2.0");
	CHECK(passthru_qmp_get_error(qmp) == NULL);
	CHECK_INT(passthru_qmp_execute(qmp, "query-status", NULL, &ret), 0);
	CHECK_STR(ret, "{\"status\":\"prelaunch\",\"running\":false}");
	free(ret);
	ret = NULL;
	CHECK_INT(passthru_qmp_execute(qmp, "query-name", "{}", &ret), 0);
	CHECK_STR(ret, "{\"name\":\"t\xc3\xa9st\"}");
	free(ret);
	ret = NULL;
	CHECK_INT(passthru_qmp_execute(qmp, "device_add", "[1]", &ret), -EINVAL);
	CHECK_INT(passthru_qmp_execute(qmp, "device_add", "{\"driver\":", &ret), -EINVAL);
	CHECK_INT(passthru_qmp_execute(qmp, "device_add", "{\"driver\": \"x\"}", &ret), -EREMOTEIO);
	CHECK_STR(passthru_qmp_get_error(qmp), "'x' is not a valid device model name");
	CHECK(ret == NULL);
	CHECK_INT(passthru_qmp_execute(qmp, "stop", NULL, NULL), -EREMOTEIO);
	CHECK_STR(passthru_qmp_get_error(qmp), "an error without a description");
	/* The RESUME event was kept for whoever waits for events. */
	{
		struct json_object *e = NULL, *name;

		CHECK_INT(qmp_next_event(qmp, qmp_now_ms() + PATIENT_MS, &e), 0);
		CHECK(e && json_object_object_get_ex(e, "event", &name) &&
		      strcmp(json_object_get_string(name), "RESUME") == 0);
		json_object_put(e);
	}
	passthru_qmp_unref(qmp);
	CHECK_INT(server_finish(pid, false), 0);
}

static void test_errors(struct passthru_ctx *ctx)
{
	struct passthru_qmp *qmp = NULL;
	uint64_t start;
	pid_t pid;

	/* No socket; a socket nobody listens on. */
	unlink(sock_path);
	CHECK_INT(passthru_qmp_connect(ctx, sock_path, 500, &qmp), -ENOENT);
	close(listen_on(sock_path));
	CHECK_INT(passthru_qmp_connect(ctx, sock_path, 500, &qmp), -ECONNREFUSED);

	/* Accepted, but no greeting (another client has the monitor): a bounded wait. */
	pid = server_start_at(sock_path, NULL, NULL, 0, true);
	start = qmp_now_ms();
	CHECK_INT(passthru_qmp_connect(ctx, sock_path, 300, &qmp), -ETIMEDOUT);
	CHECK(qmp_now_ms() - start >= 300 && qmp_now_ms() - start < PATIENT_MS);
	CHECK_INT(server_finish(pid, true), 0);

	/* Something that is not QMP; garbage; a peer that hangs up; capabilities refused. */
	pid = server_start_at(sock_path, "{\"hello\": 1}\r\n", NULL, 0, false);
	CHECK_INT(passthru_qmp_connect(ctx, sock_path, PATIENT_MS, &qmp), -EPROTO);
	CHECK_INT(server_finish(pid, false), 0);
	pid = server_start_at(sock_path, "SSH-2.0-OpenSSH_9.2\r\n", NULL, 0, false);
	CHECK_INT(passthru_qmp_connect(ctx, sock_path, PATIENT_MS, &qmp), -EPROTO);
	CHECK_INT(server_finish(pid, false), 0);
	pid = server_start_at(sock_path, "", NULL, 0, false);
	CHECK_INT(passthru_qmp_connect(ctx, sock_path, PATIENT_MS, &qmp), -ECONNRESET);
	CHECK_INT(server_finish(pid, false), 0);
	{
		const struct step refuse[] = {
		    {"qmp_capabilities",
		     "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"no\"}}\r\n", 0},
		};

		const struct step refuse_why[] = {
		    {"qmp_capabilities",
		     "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Capabilities "
		     "negotiation is already complete, command ignored\"}, \"id\": \"@ID@\"}\r\n",
		     0},
		};
		char *why = NULL;

		/* An error reply is QMP all the same: -EREMOTEIO, and QEMU's words. */
		pid = server_start(refuse, false);
		CHECK_INT(passthru_qmp_connect(ctx, sock_path, PATIENT_MS, &qmp), -EREMOTEIO);
		CHECK_INT(server_finish(pid, false), 0);
		pid = server_start(refuse_why, false);
		CHECK_INT(passthru_qmp_connect_full(ctx, sock_path, PATIENT_MS, &qmp, &why),
			  -EREMOTEIO);
		CHECK_STR(why, "Capabilities negotiation is already complete, command ignored");
		CHECK_INT(server_finish(pid, false), 0);
		free(why);
		why = NULL;
		/* Not QMP at all: -EPROTO, and what came instead. */
		pid = server_start_at(sock_path, "SSH-2.0-OpenSSH_9.2\r\n", NULL, 0, false);
		CHECK_INT(passthru_qmp_connect_full(ctx, sock_path, PATIENT_MS, &qmp, &why),
			  -EPROTO);
		CHECK_STR(why, "QEMU sent something that is not a QMP message");
		CHECK_INT(server_finish(pid, false), 0);
		free(why);
	}
	CHECK(qmp == NULL);

	/* A command QEMU never answers: -ETIMEDOUT after the timeout, not a hang. */
	{
		const struct step slow[] = {
		    CAPS,
		    {"\"execute\":\"query-pci\"", NULL, 0},
		};

		pid = server_start(slow, true);
		qmp = connect_ok(ctx, PATIENT_MS);
		passthru_qmp_set_timeout(qmp, 250);
		start = qmp_now_ms();
		CHECK_INT(passthru_qmp_execute(qmp, "query-pci", NULL, NULL), -ETIMEDOUT);
		CHECK(qmp_now_ms() - start >= 250 && qmp_now_ms() - start < PATIENT_MS);
		CHECK_STR(passthru_qmp_get_error(qmp), "no answer to query-pci within 0.2 s");
		passthru_qmp_unref(qmp);
		qmp = NULL;
		CHECK_INT(server_finish(pid, true), 0);
	}

	/* Garbage in the middle of a conversation leaves the connection unusable. */
	{
		const struct step garbage[] = {
		    CAPS,
		    {"\"execute\":\"query-pci\"", "{\"return\": [}\r\n", 0},
		};

		pid = server_start(garbage, false);
		qmp = connect_ok(ctx, PATIENT_MS);
		CHECK_INT(passthru_qmp_execute(qmp, "query-pci", NULL, NULL), -EPROTO);
		CHECK_INT(passthru_qmp_execute(qmp, "query-pci", NULL, NULL), -ENOTCONN);
		passthru_qmp_unref(qmp);
		qmp = NULL;
		CHECK_INT(server_finish(pid, false), 0);
	}
}

/* A socket below the context's root, and one whose path is too long for sun_path. */
static void test_paths(void)
{
	const char *root = vm_fixture_root();
	struct passthru_ctx *ctx = NULL;
	struct passthru_qmp *qmp = NULL;
	const struct step steps[] = {CAPS};
	char path[4096], cwd[4096];
	pid_t pid;

	snprintf(path, sizeof(path), "%s/run", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/run/vm.qmp", root);
	CHECK_INT(passthru_ctx_new(root, &ctx), 0);
	pid = server_start_at(path, GREETING, steps, ELEMENTSOF(steps), false);
	CHECK_INT(passthru_qmp_connect(ctx, "/run/vm.qmp", PATIENT_MS, &qmp), 0);
	passthru_qmp_unref(qmp);
	qmp = NULL;
	CHECK_INT(server_finish(pid, false), 0);

	/* 150 characters and more: connected through an O_PATH descriptor. */
	snprintf(path, sizeof(path), "%s/run/%s", root,
		 "a-directory-name-long-enough-to-overflow-sun-path-"
		 "which-holds-one-hundred-and-eight-bytes-at-most");
	CHECK(mkdir(path, 0755) == 0);
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	CHECK(chdir(path) == 0);
	pid = server_start_at("vm.qmp", GREETING, steps, ELEMENTSOF(steps), false);
	CHECK(chdir(cwd) == 0);
	snprintf(path, sizeof(path), "/run/%s/vm.qmp",
		 "a-directory-name-long-enough-to-overflow-sun-path-"
		 "which-holds-one-hundred-and-eight-bytes-at-most");
	CHECK(strlen(root) + strlen(path) > sizeof(((struct sockaddr_un *)0)->sun_path));
	CHECK_INT(passthru_qmp_connect(ctx, path, PATIENT_MS, &qmp), 0);
	passthru_qmp_unref(qmp);
	CHECK_INT(server_finish(pid, false), 0);
	passthru_ctx_unref(ctx);
}

/* ------------------------------------------------------------------------------------------ */
/* attach and detach                                                                          */

/* A q35 VM paused since its start: rp1 holds a NIC, rp2 is free (unnumbered buses). */
#define QUERY_PCI_Q35                                                                              \
	"{\"return\": [{\"bus\": 0, \"devices\": ["                                                \
	"{\"bus\": 0, \"slot\": 0, \"function\": 0, \"class_info\": {\"class\": 1536}, "           \
	"\"id\": {\"vendor\": 32902, \"device\": 10688}, \"qdev_id\": \"\"},"                      \
	"{\"bus\": 0, \"slot\": 1, \"function\": 0, \"class_info\": {\"class\": 1540}, "           \
	"\"id\": {\"vendor\": 6966, \"device\": 12}, \"qdev_id\": \"rp1\", "                       \
	"\"pci_bridge\": {\"bus\": {\"number\": 0, \"secondary\": 0, \"subordinate\": 0}}},"       \
	"{\"bus\": 0, \"slot\": 2, \"function\": 0, \"class_info\": {\"class\": 1540}, "           \
	"\"id\": {\"vendor\": 6966, \"device\": 12}, \"qdev_id\": \"rp2\", "                       \
	"\"pci_bridge\": {\"bus\": {\"number\": 0, \"secondary\": 0, \"subordinate\": 0}}}"        \
	"]}], \"id\": \"@ID@\"}\r\n"
#define QOM_BUS_BUSY                                                                               \
	"{\"return\": [{\"name\": \"type\", \"type\": \"string\"}, {\"name\": \"child[0]\", "      \
	"\"type\": \"link<e1000e>\"}], \"id\": \"@ID@\"}\r\n"
#define QOM_BUS_FREE                                                                               \
	"{\"return\": [{\"name\": \"type\", \"type\": \"string\"}], \"id\": \"@ID@\"}\r\n"
#define ADD_FN1                                                                                    \
	"\"execute\":\"device_add\",\"arguments\":{\"driver\":\"vfio-pci\",\"host\":"              \
	"\"0000:01:00.1\",\"id\":\"pt-0000-01-00.1\",\"bus\":\"rp2\",\"addr\":\"0.1\"}"
#define ADD_FN0                                                                                    \
	"\"execute\":\"device_add\",\"arguments\":{\"driver\":\"vfio-pci\",\"host\":"              \
	"\"0000:01:00.0\",\"id\":\"pt-0000-01-00.0\",\"bus\":\"rp2\",\"addr\":\"0.0\","            \
	"\"multifunction\":\"on\"}"

static void test_attach(struct passthru_ctx *ctx)
{
	const char *gpu[] = {"01:00.0", NULL};
	struct passthru_vm_devices *vd = vm_devices(ctx, NULL, gpu);
	struct passthru_qmp *qmp;
	pid_t pid;

	/* The audio function first, function 0 last, both into the free port. */
	{
		const struct step steps[] = {
		    CAPS,
		    {"\"execute\":\"query-pci\"", QUERY_PCI_Q35, 0},
		    {"\"arguments\":{\"path\":\"/machine/peripheral/rp1/rp1\"}", QOM_BUS_BUSY, 0},
		    {"\"arguments\":{\"path\":\"/machine/peripheral/rp2/rp2\"}", QOM_BUS_FREE, 0},
		    {ADD_FN1, EVENT("X-SOMETHING", "y") OK, 20},
		    {ADD_FN0, OK, 0},
		};

		pid = server_start(steps, false);
		qmp = connect_ok(ctx, PATIENT_MS);
		CHECK_INT(passthru_vm_devices_attach(vd, qmp, NULL), 0);
		CHECK(passthru_vm_devices_get_error(vd) == NULL);
		CHECK_INT(passthru_vm_devices_get_count(vd), 2);
		for (size_t i = 0; i < 2; i++) {
			CHECK(passthru_vm_devices_is_attached(vd, i));
			CHECK_STR(passthru_vm_devices_get_bus(vd, i), "rp2");
		}
		CHECK_STR(passthru_vm_devices_get_addr(vd, 0), "0.0");
		CHECK_STR(passthru_vm_devices_get_addr(vd, 1), "0.1");
		passthru_qmp_unref(qmp);
		CHECK_INT(server_finish(pid, false), 0);
	}

	/* QEMU refuses function 0: its error as it is, function 1 taken back. */
	{
		const struct step steps[] = {
		    CAPS,
		    {"\"execute\":\"query-pci\"", QUERY_PCI_Q35, 0},
		    {"/machine/peripheral/rp1/rp1", QOM_BUS_BUSY, 0},
		    {"/machine/peripheral/rp2/rp2", QOM_BUS_FREE, 0},
		    {ADD_FN1, OK, 0},
		    {ADD_FN0,
		     "{\"error\": {\"class\": \"GenericError\", \"desc\": \"vfio 0000:01:00.0: "
		     "group 8 is not viable\"}, \"id\": \"@ID@\"}\r\n",
		     0},
		    {"\"execute\":\"device_del\",\"arguments\":{\"id\":\"pt-0000-01-00.1\"}", OK,
		     0},
		};

		pid = server_start(steps, false);
		qmp = connect_ok(ctx, PATIENT_MS);
		CHECK_INT(passthru_vm_devices_attach(vd, qmp, NULL), -EREMOTEIO);
		CHECK_STR(
		    passthru_vm_devices_get_error(vd),
		    "0000:01:00.0: QEMU refused device_add: vfio 0000:01:00.0: group 8 is not "
		    "viable");
		CHECK(!passthru_vm_devices_is_attached(vd, 0));
		CHECK(!passthru_vm_devices_is_attached(vd, 1));
		passthru_qmp_unref(qmp);
		CHECK_INT(server_finish(pid, false), 0);
	}

	/* No free port; a named port that is taken; a named bus QEMU does not show. */
	{
		const struct step steps[] = {
		    CAPS,
		    {"\"execute\":\"query-pci\"", QUERY_PCI_Q35, 0},
		    {"/machine/peripheral/rp1/rp1", QOM_BUS_BUSY, 0},
		    {"/machine/peripheral/rp2/rp2", QOM_BUS_BUSY, 0},
		    {"\"execute\":\"query-pci\"", QUERY_PCI_Q35, 0},
		    {"\"arguments\":{\"path\":\"/machine/peripheral/rp1/rp1\"}", QOM_BUS_BUSY, 0},
		    {"\"arguments\":{\"path\":\"/machine/peripheral/rp1/rp1\",\"property\":"
		     "\"child[0]\"}",
		     "{\"return\": \"/machine/peripheral/nic\", \"id\": \"@ID@\"}\r\n", 0},
		    {"\"arguments\":{\"path\":\"/machine/peripheral/nic\",\"property\":\"addr\"}",
		     "{\"return\": 0, \"id\": \"@ID@\"}\r\n", 0},
		    {"\"execute\":\"query-pci\"", QUERY_PCI_Q35, 0},
		    {"\"bus\":\"elsewhere\"}", OK, 0},
		    {"\"bus\":\"elsewhere\",\"multifunction\":\"on\"}", OK, 0},
		};

		pid = server_start(steps, false);
		qmp = connect_ok(ctx, PATIENT_MS);
		CHECK_INT(passthru_vm_devices_attach(vd, qmp, NULL), -ENOSPC);
		CHECK(strstr(passthru_vm_devices_get_error(vd) ?: "",
			     "0000:01:00.0: the VM has no free pcie-root-port") != NULL);
		CHECK_INT(passthru_vm_devices_attach(vd, qmp, "rp1"), -ENOSPC);
		CHECK_STR(passthru_vm_devices_get_error(vd),
			  "0000:01:00.0: bus rp1 has no free slot");
		CHECK_INT(passthru_vm_devices_attach(vd, qmp, "elsewhere"), 0);
		CHECK(passthru_vm_devices_get_addr(vd, 0) == NULL);
		passthru_qmp_unref(qmp);
		CHECK_INT(server_finish(pid, false), 0);
	}
	passthru_vm_devices_unref(vd);

	/* pc: a serial port as chardev + pci-serial in the lowest free slot; USB: no query-pci. */
	{
		const char *names[] = {"ttyS1", "1-1", NULL};
		const struct step steps[] = {
		    CAPS,
		    {"\"execute\":\"query-pci\"",
		     "{\"return\": [{\"bus\": 0, \"devices\": [{\"bus\": 0, \"slot\": 0, "
		     "\"function\": 0, \"id\": {\"vendor\": 32902, \"device\": 4663}}, "
		     "{\"bus\": 0, \"slot\": 1, \"function\": 0, \"id\": {\"vendor\": 32902, "
		     "\"device\": 28672}}, {\"bus\": 0, \"slot\": 2, \"function\": 0, \"id\": "
		     "{\"vendor\": 4660, \"device\": 4369}}]}], \"id\": \"@ID@\"}\r\n",
		     0},
		    {"\"execute\":\"device_add\",\"arguments\":{\"driver\":\"usb-host\","
		     "\"hostbus\":\"1\",\"hostport\":\"1\",\"id\":\"pt-usb-1-1\"}",
		     OK, 0},
		    {"\"execute\":\"chardev-add\",\"arguments\":{\"id\":\"pt-chr-ttyS1\","
		     "\"backend\":{\"type\":\"serial\",\"data\":{\"device\":\"/dev/ttyS1\"}}}",
		     OK, 0},
		    {"\"execute\":\"device_add\",\"arguments\":{\"driver\":\"pci-serial\","
		     "\"chardev\":\"pt-chr-ttyS1\",\"id\":\"pt-ttyS1\",\"bus\":\"pci.0\","
		     "\"addr\":\"3.0\"}",
		     "{\"error\": {\"class\": \"GenericError\", \"desc\": \"nope\"}, \"id\": "
		     "\"@ID@\"}\r\n",
		     0},
		    {"\"execute\":\"chardev-remove\",\"arguments\":{\"id\":\"pt-chr-ttyS1\"}", OK,
		     0},
		};

		vd = vm_devices(ctx, "pc", names);
		CHECK_INT(passthru_vm_devices_attach(vd, NULL, NULL), -EINVAL);
		pid = server_start(steps, false);
		qmp = connect_ok(ctx, PATIENT_MS);
		CHECK_INT(passthru_vm_devices_attach(vd, qmp, NULL), -EOPNOTSUPP);
		CHECK_STR(passthru_vm_devices_get_error(vd),
			  "/dev/ttyS1: isa-serial cannot be hot-plugged; use pci-serial");
		passthru_vm_devices_set_serial_model(vd, PASSTHRU_VM_SERIAL_PCI);
		CHECK_INT(passthru_vm_devices_attach(vd, qmp, NULL), -EREMOTEIO);
		CHECK_STR(passthru_vm_devices_get_error(vd),
			  "/dev/ttyS1: QEMU refused device_add: nope");
		CHECK(passthru_vm_devices_is_attached(vd, 0)); /* the USB device went in */
		CHECK(!passthru_vm_devices_is_attached(vd, 1));
		passthru_qmp_unref(qmp);
		CHECK_INT(server_finish(pid, false), 0);
		passthru_vm_devices_unref(vd);
	}

	/* A plan that is refused is not attached. */
	{
		const char *names[] = {"00:03.0", NULL};
		const struct step steps[] = {CAPS};

		vd = vm_devices(ctx, NULL, names);
		pid = server_start(steps, false);
		qmp = connect_ok(ctx, PATIENT_MS);
		CHECK_INT(passthru_vm_devices_attach(vd, qmp, NULL), -EPERM);
		CHECK_STR(passthru_vm_devices_get_error(vd),
			  "0000:00:03.0: is on e1000e, not vfio-pci");
		passthru_qmp_unref(qmp);
		CHECK_INT(server_finish(pid, false), 0);
		passthru_vm_devices_unref(vd);
	}
}

#define PERIPHERALS                                                                                \
	"{\"return\": [{\"name\": \"type\", \"type\": \"string\"}, {\"name\": \"rp2\", \"type\": " \
	"\"child<pcie-root-port>\"}, {\"name\": \"pt-0000-01-00.0\", \"type\": "                   \
	"\"child<vfio-pci>\"}, {\"name\": \"pt-0000-01-00.1\", \"type\": \"child<vfio-pci>\"}, "   \
	"{\"name\": \"pt-usb-1-1\", \"type\": \"child<usb-host>\"}, {\"name\": \"pt-ttyS1\", "     \
	"\"type\": \"child<pci-serial>\"}], \"id\": \"@ID@\"}\r\n"
#define DEL(id) "\"execute\":\"device_del\",\"arguments\":{\"id\":\"" id "\"}"

static void test_detach(struct passthru_ctx *ctx)
{
	const char *gpu[] = {"01:00.1", NULL}, *nic[] = {"00:02.0", NULL},
		   *others[] = {"1-1", "/dev/ttyS1", NULL};
	struct passthru_vm_devices *vd = vm_devices(ctx, NULL, gpu);
	struct passthru_qmp *qmp;
	uint64_t start;
	pid_t pid;

	/* Function 1 named: function 0 is deleted, both are waited for, in any order. */
	{
		const struct step steps[] = {
		    CAPS,
		    {"\"arguments\":{\"path\":\"/machine/peripheral\"}", PERIPHERALS, 0},
		    {DEL("pt-0000-01-00.0"), EVENT("DEVICE_DELETED", "pt-0000-01-00.1") OK, 0},
		    {NULL,
		     "{\"event\": \"DEVICE_DELETED\", \"data\": {\"path\": "
		     "\"/machine/peripheral-anon/device[3]\"}}\r\n" EVENT("RTC_CHANGE", "x")
			 EVENT("DEVICE_DELETED", "pt-0000-01-00.0"),
		     100},
		};

		pid = server_start(steps, false);
		qmp = connect_ok(ctx, PATIENT_MS);
		CHECK_INT(passthru_vm_devices_detach(vd, qmp, PATIENT_MS), 0);
		CHECK(passthru_vm_devices_get_error(vd) == NULL);
		passthru_qmp_unref(qmp);
		CHECK_INT(server_finish(pid, false), 0);
	}

	/* A guest that never answers: a prompt, clean timeout. A guest that refuses. */
	{
		const struct step steps[] = {
		    CAPS,
		    {"/machine/peripheral\"", PERIPHERALS, 0},
		    {DEL("pt-0000-01-00.0"), OK, 0},
		    {"/machine/peripheral\"", PERIPHERALS, 0},
		    {DEL("pt-0000-01-00.0"),
		     OK EVENT("DEVICE_UNPLUG_GUEST_ERROR", "pt-0000-01-00.0"), 0},
		};

		pid = server_start(steps, false);
		qmp = connect_ok(ctx, PATIENT_MS);
		start = qmp_now_ms();
		CHECK_INT(passthru_vm_devices_detach(vd, qmp, 300), -ETIMEDOUT);
		CHECK(qmp_now_ms() - start >= 300 && qmp_now_ms() - start < PATIENT_MS);
		CHECK_STR(passthru_vm_devices_get_error(vd),
			  "0000:01:00.1: no DEVICE_DELETED for pt-0000-01-00.0 within 0.3 s: the "
			  "guest OS has not acknowledged the unplug (a paused VM, or one without a "
			  "running OS, never does); the device stays in the VM");
		/*
		 * The refusal of function 0's delete keeps the whole slot: the wait for function
		 * 1's DEVICE_DELETED ends with it, not at the timeout.
		 */
		CHECK_INT(passthru_vm_devices_detach(vd, qmp, PATIENT_MS), -EREMOTEIO);
		CHECK_STR(passthru_vm_devices_get_error(vd),
			  "0000:01:00.1: the guest refused to unplug pt-0000-01-00.0 "
			  "(DEVICE_UNPLUG_GUEST_ERROR)");
		passthru_qmp_unref(qmp);
		CHECK_INT(server_finish(pid, false), 0);
	}
	passthru_vm_devices_unref(vd);

	/*
	 * Both functions of the slot named: one device_del (function 0's), and the guest's
	 * refusal of it is each name's outcome, function 1's too, though its own DEVICE_DELETED
	 * was what it waited for. Before, function 1 waited for the timeout and failed with it.
	 */
	{
		const char *slot[] = {"01:00.0", "01:00.1", NULL};
		const struct step steps[] = {
		    CAPS,
		    {"/machine/peripheral\"", PERIPHERALS, 0},
		    {DEL("pt-0000-01-00.0"),
		     OK EVENT("DEVICE_UNPLUG_GUEST_ERROR", "pt-0000-01-00.0"), 0},
		};
		const char *reason = NULL;

		vd = vm_devices(ctx, NULL, slot);
		pid = server_start(steps, false);
		qmp = connect_ok(ctx, PATIENT_MS);
		CHECK_INT(passthru_vm_devices_detach(vd, qmp, PATIENT_MS), -EREMOTEIO);
		CHECK_STR(passthru_vm_devices_get_error(vd),
			  "0000:01:00.0: the guest refused to unplug pt-0000-01-00.0 "
			  "(DEVICE_UNPLUG_GUEST_ERROR)");
		CHECK_INT(passthru_vm_devices_get_detach_result(vd, "01:00.1", &reason),
			  -EREMOTEIO);
		CHECK_STR(reason, "0000:01:00.1: the guest refused to unplug pt-0000-01-00.0 "
				  "(DEVICE_UNPLUG_GUEST_ERROR)");
		passthru_qmp_unref(qmp);
		CHECK_INT(server_finish(pid, false), 0);
		passthru_vm_devices_unref(vd);
	}

	/* Not in the VM under passthru's id. */
	{
		const struct step steps[] = {CAPS, {"/machine/peripheral\"", PERIPHERALS, 0}};

		vd = vm_devices(ctx, NULL, nic);
		pid = server_start(steps, false);
		qmp = connect_ok(ctx, PATIENT_MS);
		CHECK_INT(passthru_vm_devices_detach(vd, qmp, PATIENT_MS), -ENODEV);
		CHECK_STR(passthru_vm_devices_get_error(vd),
			  "0000:00:02.0: not in the VM (no device with id pt-0000-00-02.0)");
		passthru_qmp_unref(qmp);
		CHECK_INT(server_finish(pid, false), 0);
		passthru_vm_devices_unref(vd);
	}

	/*
	 * One device not in the VM does not keep the others in it, whichever comes first: each
	 * one's outcome is told (1-2 is not in PERIPHERALS, 1-1 and ttyS1 are).
	 */
	{
		const char *mixed[] = {"1-2", "1-1", "/dev/ttyS1", NULL};
		const struct step steps[] = {
		    CAPS,
		    {"/machine/peripheral\"", PERIPHERALS, 0},
		    {DEL("pt-usb-1-1"), OK EVENT("DEVICE_DELETED", "pt-usb-1-1"), 0},
		    {DEL("pt-ttyS1"), OK, 0},
		};
		const char *reason = NULL;

		vd = vm_devices(ctx, NULL, mixed);
		CHECK_INT(passthru_vm_devices_get_detach_result(vd, "1-1", &reason), -ENODATA);
		pid = server_start(steps, false);
		qmp = connect_ok(ctx, PATIENT_MS);
		CHECK_INT(passthru_vm_devices_detach(vd, qmp, 300), -ENODEV);
		CHECK_STR(passthru_vm_devices_get_error(vd),
			  "1-2: not in the VM (no device with id pt-usb-1-2)");
		CHECK_INT(passthru_vm_devices_get_detach_result(vd, "1-2", &reason), -ENODEV);
		CHECK_STR(reason, "1-2: not in the VM (no device with id pt-usb-1-2)");
		reason = NULL;
		CHECK_INT(passthru_vm_devices_get_detach_result(vd, "1-1", &reason), 0);
		CHECK(reason == NULL);
		/* The serial port's device never goes: its chardev stays, and that is said. */
		CHECK_INT(passthru_vm_devices_get_detach_result(vd, "/dev/ttyS1", &reason),
			  -ETIMEDOUT);
		CHECK(reason &&
		      strstr(reason, "/dev/ttyS1: no DEVICE_DELETED for pt-ttyS1 within 0.3 s") ==
			  reason);
		CHECK_INT(passthru_vm_devices_get_detach_result(vd, "1-3.1", &reason), -ENOENT);
		passthru_qmp_unref(qmp);
		CHECK_INT(server_finish(pid, false), 0);
		passthru_vm_devices_unref(vd);
	}

	/* USB goes at once; the serial port's chardev goes after its device. */
	{
		const struct step steps[] = {
		    CAPS,
		    {"/machine/peripheral\"", PERIPHERALS, 0},
		    {DEL("pt-usb-1-1"), EVENT("DEVICE_DELETED", "pt-usb-1-1") OK, 0},
		    {DEL("pt-ttyS1"), OK, 0},
		    {NULL, EVENT("DEVICE_DELETED", "pt-ttyS1"), 50},
		    {"\"execute\":\"chardev-remove\",\"arguments\":{\"id\":\"pt-chr-ttyS1\"}", OK,
		     0},
		};

		vd = vm_devices(ctx, NULL, others);
		pid = server_start(steps, false);
		qmp = connect_ok(ctx, PATIENT_MS);
		CHECK_INT(passthru_vm_devices_detach(vd, qmp, PATIENT_MS), 0);
		passthru_qmp_unref(qmp);
		CHECK_INT(server_finish(pid, false), 0);
		passthru_vm_devices_unref(vd);
	}
}

int main(void)
{
	struct passthru_ctx *ctx = NULL;

	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	/* Relative: the socket is then where the test is, whatever the context's root. */
	if (chdir(dir) < 0) {
		perror(dir);
		return 1;
	}
	snprintf(sock_path, sizeof(sock_path), "qmp.sock");
	test_stream();
	test_query_pci();
	test_qom_list();
	ctx = vm_fixture_ctx();
	test_conversation(ctx);
	test_errors(ctx);
	test_paths();
	test_attach(ctx);
	test_detach(ctx);
	passthru_ctx_unref(ctx);
	unlink(sock_path);
	if (chdir("/") == 0)
		rmdir(dir);
	TEST_DONE();
}
