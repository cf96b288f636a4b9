/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Rooted access and strict parsing against a throwaway root. */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "fixture.h"
#include "test.h"

static const char *root;

static void put(const char *rel, const char *content)
{
	fixture_put(root, rel, content);
}

static void test_parsers(void)
{
	uint64_t u;
	long l;

	CHECK_INT(parse_hex("0x8086", 0xffff, &u), 0);
	CHECK_INT(u, 0x8086);
	CHECK_INT(parse_hex("10DE", 0xffff, &u), 0);
	CHECK_INT(u, 0x10de);
	CHECK_INT(parse_hex("0x10000", 0xffff, &u), -ERANGE);
	CHECK_INT(parse_hex("0x", 0xffff, &u), -EBADMSG);
	CHECK_INT(parse_hex("", 0xffff, &u), -EBADMSG);
	CHECK_INT(parse_hex("zzz", 0xffff, &u), -EBADMSG);
	CHECK_INT(parse_hex("0x80 86", 0xffff, &u), -EBADMSG);
	CHECK_INT(parse_hex("ffffffffffffffff", UINT64_MAX, &u), 0);
	CHECK(u == UINT64_MAX);
	CHECK_INT(parse_hex("10000000000000000", UINT64_MAX, &u), -ERANGE);

	CHECK_INT(parse_long("-1", -1, 1024, &l), 0);
	CHECK_INT(l, -1);
	CHECK_INT(parse_long("-2", -1, 1024, &l), -ERANGE);
	CHECK_INT(parse_long("12a", -1, 1024, &l), -EBADMSG);
	CHECK_INT(parse_long("-", -1, 1024, &l), -EBADMSG);
	CHECK_INT(parse_long("-9223372036854775808", LONG_MIN, LONG_MAX, &l), 0);
	CHECK(l == LONG_MIN);
	CHECK_INT(parse_long("9223372036854775808", LONG_MIN, LONG_MAX, &l), -ERANGE);
}

static void test_escape(void)
{
	char long_input[200];
	char *e;

	e = escape_for_message("ok\n\x01\"", 16);
	CHECK_STR(e, "ok\\x0a\\x01\\x22");
	free(e);

	/* Long and all non-printable: the worst case of the output's size. */
	memset(long_input, 0xff, sizeof(long_input) - 1);
	long_input[sizeof(long_input) - 1] = '\0';
	e = escape_for_message(long_input, 8);
	CHECK_STR(e, "\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff...");
	free(e);

	e = escape_for_message("exactly8", 8);
	CHECK_STR(e, "exactly8");
	free(e);
}

static void test_rooted(void)
{
	struct passthru_ctx *ctx = NULL;
	_cleanup_free_ char *s = NULL, *link = NULL;
	char path[4096];
	int fd;

	root = fixture_tmpdir();
	snprintf(path, sizeof(path), "%s/proc", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/proc/sys", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/proc/sys/kernel", root);
	mkdir(path, 0755);
	put("proc/sys/kernel/osrelease", "6.1.0-56-amd64\n");
	put("hostfile", "inside\n");
	/* An absolute link must resolve inside the root, never on the machine running the test. */
	snprintf(path, sizeof(path), "%s/abs", root);
	CHECK(symlink("/hostfile", path) == 0);

	CHECK_INT(passthru_ctx_new(root, &ctx), 0);
	CHECK_STR(passthru_ctx_get_sysroot(ctx), root);
	CHECK_STR(passthru_ctx_get_kernel_release(ctx), "6.1.0-56-amd64");

	CHECK_INT(root_read_file(ctx, "/abs", &s, NULL), 0);
	CHECK_STR(s, "inside\n");
	CHECK_INT(root_readlink(ctx, "/abs", &link), 0);
	CHECK_STR(link, "/hostfile");
	CHECK(root_exists(ctx, "/proc/sys/kernel/osrelease"));
	CHECK(!root_exists(ctx, "/nonexistent"));
	CHECK_INT(root_open(ctx, "relative/path", O_RDONLY, 0), -EINVAL);

	/* Atomic replace: new content, parents created, no temp file left behind. */
	CHECK_INT(root_write_file_atomic(ctx, "/etc/passthru/types.d/a.conf", "x 8086:10d3\n", 12, 0644),
		  0);
	free(s);
	s = NULL;
	CHECK_INT(root_read_file(ctx, "/etc/passthru/types.d/a.conf", &s, NULL), 0);
	CHECK_STR(s, "x 8086:10d3\n");
	{
		DIR *d = NULL;
		struct dirent *de;
		int entries = 0;

		CHECK_INT(root_opendir(ctx, "/etc/passthru/types.d", &d), 0);
		while (d && (de = readdir(d)))
			if (de->d_name[0] != '.')
				entries++;
			else
				CHECK(strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0);
		if (d)
			closedir(d);
		CHECK_INT(entries, 1);
	}

	fd = root_open_dir(ctx, "/proc/sys/kernel");
	CHECK(fd >= 0);
	{
		long l;
		_cleanup_free_ char *rel = NULL;

		put("proc/sys/kernel/num", "42\n");
		put("proc/sys/kernel/garbage", "4\0002\n");
		CHECK_INT(attr_read_long_at(fd, "num", 0, 100, &l), 0);
		CHECK_INT(l, 42);
		CHECK_INT(attr_read_at(fd, "osrelease", &rel), 0);
		CHECK_STR(rel, "6.1.0-56-amd64");
		CHECK_INT(attr_read_long_at(fd, "missing", 0, 100, &l), -ENOENT);
	}
	close(fd);
	passthru_ctx_unref(ctx);
}

/*
 * Attribute reads stay below their directory and never wait: a link out of the root (to a file
 * of the machine running the test), a FIFO and a directory in an attribute's place are refused.
 */
static void test_attr_not_regular(void)
{
	char outside[] = "/tmp/passthru-test-outside-XXXXXX";
	struct passthru_ctx *ctx = NULL;
	char path[4096], buf[16];
	_cleanup_free_ char *s = NULL;
	int fd, dfd;

	fd = mkstemp(outside);
	CHECK(fd >= 0 && write(fd, "outside\n", 8) == 8);
	close(fd);
	snprintf(path, sizeof(path), "%s/dev", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/dev/abs", root);
	CHECK(symlink(outside, path) == 0);
	snprintf(path, sizeof(path), "%s/dev/rel", root);
	CHECK(symlink("../../../../../../../../../../..", path) == 0);
	snprintf(path, sizeof(path), "%s/dev/fifo", root);
	CHECK(mkfifo(path, 0644) == 0);
	snprintf(path, sizeof(path), "%s/dev/dir", root);
	mkdir(path, 0755);
	put("dev/inner", "inner\n");
	snprintf(path, sizeof(path), "%s/dev/link", root);
	CHECK(symlink("inner", path) == 0);

	CHECK_INT(passthru_ctx_new(root, &ctx), 0);
	dfd = root_open_dir(ctx, "/dev");
	CHECK(dfd >= 0);
	/* A hang is a failure too. */
	alarm(20);
	CHECK_INT(attr_read_at(dfd, "abs", &s), -EXDEV);
	CHECK(s == NULL);
	snprintf(path, sizeof(path), "rel%s", outside);
	CHECK_INT(attr_read_at(dfd, path, &s), -EXDEV);
	CHECK_INT(attr_read_at(dfd, "fifo", &s), -EBADFD);
	CHECK_INT(attr_read_at(dfd, "dir", &s), -EISDIR);
	CHECK_INT((int)attr_read_raw_at(dfd, "fifo", buf, sizeof(buf)), -EBADFD);
	CHECK_INT((int)attr_read_raw_at(dfd, "abs", buf, sizeof(buf)), -EXDEV);
	CHECK_INT(root_read_file(ctx, "/dev/fifo", &s, NULL), -EBADFD);
	alarm(0);
	/* A link that stays below the directory is no escape. */
	CHECK_INT(attr_read_at(dfd, "link", &s), 0);
	CHECK_STR(s, "inner");
	close(dfd);
	passthru_ctx_unref(ctx);
	unlink(outside);
}

static void resolve_case(struct passthru_ctx *ctx, const char *path, int want_r, const char *want)
{
	_cleanup_free_ char *got = NULL;

	CHECK_INT(root_resolve_path(ctx, path, &got), want_r);
	if (want_r == 0)
		CHECK_STR(got, want);
}

/* Links are followed inside the root, component by component, ".." after a link included. */
static void test_resolve(void)
{
	struct passthru_ctx *ctx = NULL;
	static const char *const dirs[] = {"etc", "etc/default", "srv", "srv/dir"};
	static const char *const links[][2] = {
	    {"etc/default/grub", "grub.local"},
	    {"etc/dlink", "/srv/dir"},
	    {"srv/dir/back", "../../etc/./default//grub"},
	    {"up", "../../../.."},
	    {"loop", "loop"},
	};
	char path[4096];

	for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, dirs[i]);
		mkdir(path, 0755);
	}
	put("etc/default/grub.local", "x\n");
	for (size_t i = 0; i < ELEMENTSOF(links); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, links[i][0]);
		CHECK(symlink(links[i][1], path) == 0);
	}
	CHECK_INT(passthru_ctx_new(root, &ctx), 0);
	resolve_case(ctx, "/etc/default/grub", 0, "/etc/default/grub.local");
	resolve_case(ctx, "/etc/default/grub.local", 0, "/etc/default/grub.local");
	resolve_case(ctx, "/etc/dlink/../x", 0, "/srv/x");
	resolve_case(ctx, "/etc/dlink/back", 0, "/etc/default/grub.local");
	resolve_case(ctx, "/up/etc/dlink", 0, "/srv/dir");
	resolve_case(ctx, "/etc/missing/file", 0, "/etc/missing/file");
	resolve_case(ctx, "/", 0, "/");
	resolve_case(ctx, "/loop", -ELOOP, NULL);
	resolve_case(ctx, "etc", -EINVAL, NULL);
	passthru_ctx_unref(ctx);
}

/*
 * openat2() below a root answers EAGAIN for a path with ".." when a rename anywhere on the
 * system races with the look-up; rooted opens retry it. A child renames in a loop while the
 * parent opens through ".." many times: every open must succeed.
 */
static void test_rename_race(void)
{
	struct passthru_ctx *ctx = NULL;
	char a[4096], b[4096];
	unsigned failed = 0;
	pid_t child;

	snprintf(a, sizeof(a), "%s/race-a", root);
	snprintf(b, sizeof(b), "%s/race-b", root);
	put("race-a", "x");
	child = fork();
	CHECK(child >= 0);
	if (child == 0) {
		for (;;) {
			(void)!rename(a, b);
			(void)!rename(b, a);
		}
	}
	CHECK_INT(passthru_ctx_new(root, &ctx), 0);
	for (unsigned i = 0; i < 20000; i++) {
		int fd = root_open(ctx, "/proc/sys/../sys/kernel/osrelease", O_RDONLY, 0);

		if (fd < 0)
			failed++;
		else
			close(fd);
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	CHECK_INT(failed, 0);
	passthru_ctx_unref(ctx);
}

int main(void)
{
	test_parsers();
	test_escape();
	test_rooted();
	test_attr_not_regular();
	test_resolve();
	test_rename_race();
	TEST_DONE();
}
