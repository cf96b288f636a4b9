/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The unified diff, the setup object's API contract (errors before and after planning, stale
 * files, backups that never overwrite each other) and the check report's getters.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "diff.h"
#include "internal.h"
#include "fixture.h"
#include "test.h"

static const char *root;

static void put(const char *rel, const char *content)
{
	fixture_put(root, rel, content);
}

static char *get(const char *rel)
{
	return fixture_get(root, rel);
}

/* ------------------------------------------------------------------------------------------ */

/* Applies a diff_unified() diff to old, as patch(1) would: NULL when it does not apply. */
static char *apply_diff(const char *old, const char *diff)
{
	const char *o = old, *d = diff;
	size_t cap = strlen(old) + strlen(diff) + 1, len = 0;
	char *out = malloc(cap);
	bool in_hunk = false;

	while (out && *d) {
		const char *nl = strchr(d, '\n');
		size_t n = nl ? (size_t)(nl - d) : strlen(d);
		bool no_newline = nl && strncmp(nl + 1, "\\ No newline", 12) == 0;

		if (!in_hunk && (strncmp(d, "--- ", 4) == 0 || strncmp(d, "+++ ", 4) == 0)) {
			/* header */
		} else if (strncmp(d, "@@ -", 4) == 0) {
			char *end;
			unsigned long start = strtoul(d + 4, &end, 10), count = 1, line = 1;
			const char *p = old;

			in_hunk = true;
			if (*end == ',')
				count = strtoul(end + 1, NULL, 10);
			if (count > 0 && start > 0)
				start--;
			for (; line <= start && *p; line++)
				p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p);
			if (p < o)
				goto fail;
			memcpy(out + len, o, (size_t)(p - o));
			len += (size_t)(p - o);
			o = p;
		} else if (*d == ' ' || *d == '-' || *d == '+') {
			if (*d != '+') {
				size_t on =
				    strchr(o, '\n') ? (size_t)(strchr(o, '\n') - o) : strlen(o);

				if (on != n - 1 || strncmp(o, d + 1, on) != 0 ||
				    (o[on] == '\n') == no_newline)
					goto fail;
				o += on + (o[on] == '\n');
			}
			if (*d != '-') {
				memcpy(out + len, d + 1, n - 1);
				len += n - 1;
				if (!no_newline)
					out[len++] = '\n';
			}
		} else if (*d != '\\') {
			goto fail;
		}
		d += n + (nl ? 1 : 0);
	}
	if (!out)
		return NULL;
	memcpy(out + len, o, strlen(o) + 1);
	return out;
fail:
	free(out);
	return NULL;
}

static void diff_case(int line, const char *a, const char *b, const char *want)
{
	_cleanup_free_ char *d = NULL, *rebuilt = NULL;

	CHECK_INT(diff_unified(a, b, "a/f", "b/f", &d), 0);
	if (want && strcmp(d, want) != 0) {
		fprintf(stderr, "line %d: diff\n%s---expected\n%s", line, d, want);
		test_failures++;
	}
	rebuilt = apply_diff(a ? a : "", d);
	if (!rebuilt || strcmp(rebuilt, b) != 0) {
		fprintf(stderr, "line %d: the diff does not rebuild the new text\n%s", line, d);
		test_failures++;
	}
}

static void test_diff(void)
{
	static const char ten[] = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n";
	unsigned seed = 12345;

	diff_case(__LINE__, "a\n", "a\n", "");
	/* What GNU diff -u prints for the same inputs. */
	diff_case(__LINE__, NULL, "x\ny\n", "--- /dev/null\n+++ b/f\n@@ -0,0 +1,2 @@\n+x\n+y\n");
	diff_case(__LINE__, "x\ny\n", "", "--- a/f\n+++ b/f\n@@ -1,2 +0,0 @@\n-x\n-y\n");
	diff_case(__LINE__, ten, "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\n",
		  "--- a/f\n+++ b/f\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
	diff_case(__LINE__, "a\nb", "a\nb\n",
		  "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n");
	diff_case(__LINE__, ten, "one\n2\n3\n4\n5\n6\n7\n8\n9\nten\n",
		  "--- a/f\n+++ b/f\n@@ -1,4 +1,4 @@\n-1\n+one\n 2\n 3\n 4\n"
		  "@@ -7,4 +7,4 @@\n 7\n 8\n 9\n-10\n+ten\n");
	diff_case(__LINE__, ten, "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11", NULL);
	diff_case(__LINE__, "a\n+++ b\nc\n", "a\n--- x\nc\n", NULL);
	/* Random line edits: the hunks always rebuild the new text. */
	for (int round = 0; round < 300; round++) {
		char a[512] = "", b[512] = "";
		size_t la = 0, lb = 0;

		for (int i = 0; i < 12; i++) {
			int op;

			seed = seed * 1103515245 + 12345;
			op = (seed >> 16) % 5;
			if (op != 1)
				la += (size_t)sprintf(a + la, "l%d\n", i);
			if (op != 2)
				lb += (size_t)sprintf(b + lb, op == 3 ? "m%d\n" : "l%d\n", i);
		}
		if (round % 7 == 0 && lb > 0)
			b[--lb] = '\0';
		diff_case(__LINE__, a, b, NULL);
	}
}

/* ------------------------------------------------------------------------------------------ */

static struct passthru_ctx *ctx_new(void)
{
	struct passthru_ctx *ctx = NULL;

	CHECK_INT(passthru_ctx_new(root, &ctx), 0);
	passthru_ctx_set_log_fn(ctx, NULL, NULL);
	return ctx;
}

/* A 48-byte DMAR table with these flags (bit 0: interrupt remapping supported). */
static void put_dmar(unsigned flags)
{
	uint8_t t[48] = {'D', 'M', 'A', 'R', 48, 0, 0, 0, 1};
	char path[4096];
	FILE *f;

	t[36] = 38; /* host address width - 1 */
	t[37] = (uint8_t)flags;
	snprintf(path, sizeof(path), "%s/sys/firmware/acpi/tables/DMAR", root);
	f = fopen(path, "w");
	if (!f || fwrite(t, 1, sizeof(t), f) != sizeof(t)) {
		perror(path);
		exit(1);
	}
	fclose(f);
}

/* An Intel host whose platform has no interrupt remapping (DMAR flags 0). */
static void host(void)
{
	put("proc/cpuinfo", "vendor_id\t: GenuineIntel\n");
	put("proc/sys/kernel/osrelease", "6.1.0-18-amd64\n");
	put("proc/cmdline", "BOOT_IMAGE=/vmlinuz ro quiet\n");
	put("sys/firmware/acpi/tables/DMAR", "");
	put_dmar(0);
	put("etc/os-release", "ID=debian\n");
	put("etc/default/grub", "GRUB_CMDLINE_LINUX=\"quiet\"\n");
	put("boot/grub/grub.cfg", "linux /vmlinuz ro quiet\n");
}

static void test_setup_api(void)
{
	struct passthru_ctx *ctx;
	struct passthru_setup *s = NULL;
	char path[4200];
	struct stat st;

	host();
	ctx = ctx_new();
	CHECK_INT(passthru_setup_new(ctx, &s), 0);
	CHECK_INT(passthru_setup_set_hugepages(s, "1G", 0), -EINVAL);
	CHECK_INT(passthru_setup_set_hugepages(s, "1Q", 4), -EINVAL);
	CHECK_INT(passthru_setup_set_hugepages(s, "100", 4), -EINVAL);
	CHECK_INT(passthru_setup_add_blacklist(s, ""), -EINVAL);
	CHECK_INT(passthru_setup_add_blacklist(s, "nou veau"), -EINVAL);
	CHECK_INT(passthru_setup_add_blacklist(s, "a;b"), -EINVAL);
	CHECK_INT(passthru_setup_add_blacklist(s, "nvidia-drm"), 0);
	CHECK_INT(passthru_setup_add_blacklist(s, "nvidia_drm"), 0);
	/* Nothing planned: apply refuses, getters are empty. */
	CHECK_INT(passthru_setup_apply(s), -EINVAL);
	CHECK(passthru_setup_get_error(s) != NULL);
	CHECK_INT(passthru_setup_get_change_count(s), 0);
	CHECK(passthru_setup_get_change_path(s, 0) == NULL);
	CHECK(passthru_setup_get_command_argv(s, 5)[0] == NULL);
	CHECK(!passthru_setup_get_reboot_needed(s));

	CHECK_INT(passthru_setup_plan(s), 0);
	CHECK(passthru_setup_get_error(s) == NULL);
	CHECK_INT(passthru_setup_get_change_count(s), 3);
	CHECK_STR(passthru_setup_get_change_path(s, 0), "/etc/default/grub");
	CHECK_STR(passthru_setup_get_change_content(s, 0),
		  "GRUB_CMDLINE_LINUX=\"quiet intel_iommu=on iommu=pt "
		  "vfio_iommu_type1.allow_unsafe_interrupts=1 rd.driver.blacklist=nvidia_drm "
		  "nvidia-drm.modeset=0\"\n");
	CHECK_STR(passthru_setup_get_change_path(s, 2), "/etc/modprobe.d/passthru-blacklist.conf");
	CHECK(passthru_setup_get_change_backup(s, 0) == NULL);
	CHECK_INT(passthru_setup_get_command_count(s), 2);
	CHECK_STR(passthru_setup_get_command_argv(s, 0)[0], "update-grub");
	{
		int st2 = 0;

		CHECK_INT(passthru_setup_get_command_status(s, 0, &st2), -ENODATA);
		CHECK(passthru_setup_get_command_output(s, 0) == NULL);
	}
	CHECK(passthru_setup_get_reboot_needed(s));

	/* The file changed after the plan: it is not overwritten. */
	put("etc/default/grub", "GRUB_CMDLINE_LINUX=\"quiet splash\"\n");
	CHECK_INT(passthru_setup_apply(s), -ESTALE);
	CHECK(strstr(passthru_setup_get_error(s), "/etc/default/grub: changed since the plan") !=
	      NULL);
	{
		_cleanup_free_ char *g = get("etc/default/grub");

		CHECK_STR(g, "GRUB_CMDLINE_LINUX=\"quiet splash\"\n");
	}
	snprintf(path, sizeof(path), "%s/etc/modules-load.d/vfio.conf", root);
	CHECK(stat(path, &st) < 0);
	passthru_setup_unref(s);
	passthru_ctx_unref(ctx);
}

/* Two applies within one second back up to two different files; the mode is kept. */
static void test_backups(void)
{
	struct passthru_ctx *ctx;
	char path[4200];
	struct stat st;
	const char *first = NULL;
	_cleanup_free_ char *first_copy = NULL;

	host();
	snprintf(path, sizeof(path), "%s/etc/default/grub", root);
	CHECK(chmod(path, 0600) == 0);
	ctx = ctx_new();
	for (int round = 0; round < 2; round++) {
		struct passthru_setup *s = NULL;
		const char *b;

		CHECK_INT(passthru_setup_new(ctx, &s), 0);
		CHECK_INT(passthru_setup_plan(s), 0);
		CHECK_STR(passthru_setup_get_change_path(s, 0), "/etc/default/grub");
		/* Applying fails on the command (update-grub is not installed), after the files. */
		CHECK_INT(passthru_setup_apply(s), -ENOENT);
		CHECK(strstr(passthru_setup_get_error(s), "update-grub: not installed below ") !=
		      NULL);
		b = passthru_setup_get_change_backup(s, 0);
		CHECK(b && strncmp(b, "/etc/default/grub.passthru-", 27) == 0);
		if (round == 0) {
			first_copy = strdup(b);
			first = first_copy;
		} else {
			CHECK(first && strcmp(b, first) != 0);
		}
		snprintf(path, sizeof(path), "%s%s", root, b ? b : "/none");
		CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
		{
			_cleanup_free_ char *backup = get(b ? b + 1 : "none");

			CHECK_STR(backup, "GRUB_CMDLINE_LINUX=\"quiet\"\n");
		}
		snprintf(path, sizeof(path), "%s/etc/default/grub", root);
		CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
		passthru_setup_unref(s);
		/* Back to the original, for the second round. */
		put("etc/default/grub", "GRUB_CMDLINE_LINUX=\"quiet\"\n");
		CHECK(chmod(path, 0600) == 0);
	}
	passthru_ctx_unref(ctx);
}

/*
 * A symlinked /etc/default/grub: the target is edited and backed up beside itself, the link
 * stays. An absolute target is resolved inside the root, not on the machine running the test.
 */
static void symlinked_grub_case(const char *target, const char *target_rel)
{
	struct passthru_ctx *ctx;
	struct passthru_setup *s = NULL;
	char path[4200], link[4200];
	struct stat st;
	ssize_t n;
	const char *b;

	host();
	put(target_rel, "GRUB_CMDLINE_LINUX=\"quiet\"\n");
	snprintf(path, sizeof(path), "%s/etc/default/grub", root);
	CHECK(unlink(path) == 0);
	CHECK(symlink(target, path) == 0);
	ctx = ctx_new();
	CHECK_INT(passthru_setup_new(ctx, &s), 0);
	CHECK_INT(passthru_setup_plan(s), 0);
	CHECK_STR(passthru_setup_get_change_path(s, 0), "/etc/default/grub");
	/* Fails on the command (update-grub is not installed), after the files. */
	CHECK_INT(passthru_setup_apply(s), -ENOENT);
	CHECK(strstr(passthru_setup_get_error(s), "update-grub: not installed") != NULL);
	CHECK(lstat(path, &st) == 0 && S_ISLNK(st.st_mode));
	n = readlink(path, link, sizeof(link) - 1);
	CHECK(n > 0);
	link[n > 0 ? n : 0] = '\0';
	CHECK_STR(link, target);
	{
		_cleanup_free_ char *g = get(target_rel);

		CHECK(g && strstr(g, "intel_iommu=on") != NULL);
	}
	b = passthru_setup_get_change_backup(s, 0);
	CHECK(b && b[0] == '/' && strncmp(b + 1, target_rel, strlen(target_rel)) == 0 &&
	      strncmp(b + 1 + strlen(target_rel), ".passthru-", 10) == 0);
	{
		_cleanup_free_ char *backup = get(b ? b + 1 : "none");

		CHECK_STR(backup, "GRUB_CMDLINE_LINUX=\"quiet\"\n");
	}
	passthru_setup_unref(s);
	passthru_ctx_unref(ctx);
	CHECK(unlink(path) == 0);
	put("etc/default/grub", "GRUB_CMDLINE_LINUX=\"quiet\"\n");
}

static void test_symlinked_grub(void)
{
	symlinked_grub_case("grub.local", "etc/default/grub.local");
	symlinked_grub_case("../../usr/share/grub/default", "usr/share/grub/default");
	symlinked_grub_case("/srv/boot/grub-default", "srv/boot/grub-default");
}

/*
 * allow_unsafe_interrupts=1 only where interrupt remapping is missing: the DMAR flags say so
 * before the IOMMU is on, the running kernel's remapped interrupt domains after; check asks for
 * exactly what setup writes.
 */
static void unsafe_case(int line, unsigned dmar_flags, const char *interrupts, bool want_unsafe)
{
	struct passthru_ctx *ctx;
	struct passthru_setup *s = NULL;
	struct passthru_check_report *rep = NULL;
	const char *content;

	host();
	put_dmar(dmar_flags);
	put("proc/interrupts", interrupts);
	ctx = ctx_new();
	CHECK_INT(passthru_setup_new(ctx, &s), 0);
	CHECK_INT(passthru_setup_plan(s), 0);
	content = passthru_setup_get_change_content(s, 0);
	if (!content || (strstr(content, "allow_unsafe_interrupts=1") != NULL) != want_unsafe) {
		fprintf(stderr, "line %d: setup planned %s", line, content ? content : "nothing\n");
		test_failures++;
	}
	CHECK_INT(passthru_check_run(ctx, NULL, &rep), 0);
	for (size_t i = 0; rep && i < passthru_check_report_count(rep); i++) {
		const char *seen = passthru_check_report_get_seen(rep, i);

		if (strcmp(passthru_check_report_get_id(rep, i), "kernel-cmdline") == 0 &&
		    (strstr(seen, "allow_unsafe_interrupts") != NULL) != want_unsafe) {
			fprintf(stderr, "line %d: check says %s\n", line, seen);
			test_failures++;
		}
	}
	passthru_check_report_unref(rep);
	passthru_setup_unref(s);
	passthru_ctx_unref(ctx);
}

static void test_unsafe_interrupts(void)
{
	static const char plain[] = "  0: 44 IO-APIC 2-edge timer\n";
	static const char remapped[] = "  0: 44 IR-IO-APIC 2-edge timer\n";
	struct passthru_ctx *ctx;
	struct passthru_setup *s = NULL;
	bool noted = false;

	unsafe_case(__LINE__, 0x00, plain, true);
	unsafe_case(__LINE__, 0x02, plain, true); /* x2APIC opt-out alone */
	unsafe_case(__LINE__, 0x01, plain, false);
	unsafe_case(__LINE__, 0x05, plain, false);
	/* The running kernel remaps: whatever the table says. */
	unsafe_case(__LINE__, 0x00, remapped, false);

	/* Already set on a host with remapping: left alone, with a note. */
	host();
	put_dmar(0x01);
	put("etc/default/grub",
	    "GRUB_CMDLINE_LINUX=\"quiet vfio_iommu_type1.allow_unsafe_interrupts=1\"\n");
	ctx = ctx_new();
	CHECK_INT(passthru_setup_new(ctx, &s), 0);
	CHECK_INT(passthru_setup_plan(s), 0);
	CHECK(strstr(passthru_setup_get_change_content(s, 0),
		     "quiet vfio_iommu_type1.allow_unsafe_interrupts=1 intel_iommu=on iommu=pt") !=
	      NULL);
	for (const char *const *n = passthru_setup_get_notes(s); *n; n++)
		noted = noted || strstr(*n, "makes it unnecessary") != NULL;
	CHECK(noted);
	passthru_setup_unref(s);
	passthru_ctx_unref(ctx);
	put("etc/default/grub", "GRUB_CMDLINE_LINUX=\"quiet\"\n");
	unlink(strcat(strcpy((char[4200]){0}, root), "/proc/interrupts"));
}

static void test_plan_errors(void)
{
	struct passthru_ctx *ctx;
	struct passthru_setup *s = NULL;

	host();
	put("proc/cpuinfo", "vendor_id\t: CentaurHauls\n");
	unlink(strcat(strcpy((char[4200]){0}, root), "/sys/firmware/acpi/tables/DMAR"));
	ctx = ctx_new();
	CHECK_INT(passthru_setup_new(ctx, &s), 0);
	CHECK_INT(passthru_setup_plan(s), -ENXIO);
	CHECK(strstr(passthru_setup_get_error(s), "CentaurHauls") != NULL);
	CHECK_INT(passthru_setup_get_change_count(s), 0);
	CHECK_INT(passthru_setup_apply(s), -EINVAL);
	passthru_setup_unref(s);
	passthru_ctx_unref(ctx);

	host();
	unlink(strcat(strcpy((char[4200]){0}, root), "/etc/default/grub"));
	ctx = ctx_new();
	CHECK_INT(passthru_setup_new(ctx, &s), 0);
	CHECK_INT(passthru_setup_plan(s), -ENOENT);
	CHECK_STR(passthru_setup_get_error(s),
		  "/etc/default/grub: not found; passthru configures GRUB only");
	passthru_setup_unref(s);
	passthru_ctx_unref(ctx);
}

static void test_check_report(void)
{
	struct passthru_ctx *ctx;
	struct passthru_check_report *rep = NULL;
	const char *const bad[] = {"0000:zz:00.0", NULL};
	bool seen_cmdline = false;

	host();
	ctx = ctx_new();
	CHECK_INT(passthru_check_run(ctx, bad, &rep), -EINVAL);
	CHECK(rep == NULL);
	CHECK_INT(passthru_check_run(ctx, NULL, &rep), 0);
	CHECK(passthru_check_report_count(rep) >= 10);
	CHECK_INT(passthru_check_report_get_overall(rep), PASSTHRU_CHECK_FAIL);
	for (size_t i = 0; i < passthru_check_report_count(rep); i++) {
		const char *id = passthru_check_report_get_id(rep, i);

		CHECK(passthru_check_report_get_seen(rep, i) != NULL);
		CHECK(passthru_check_report_get_details(rep, i) != NULL);
		CHECK(passthru_check_report_get_device(rep, i) == NULL);
		if (strcmp(id, "kernel-cmdline") == 0) {
			seen_cmdline = true;
			CHECK_INT(passthru_check_report_get_status(rep, i), PASSTHRU_CHECK_FAIL);
			CHECK_STR(passthru_check_report_get_seen(rep, i),
				  "lacks intel_iommu=on iommu=pt "
				  "vfio_iommu_type1.allow_unsafe_interrupts=1");
		}
	}
	CHECK(seen_cmdline);
	CHECK(passthru_check_report_get_id(rep, 1000) == NULL);
	CHECK(passthru_check_report_get_details(rep, 1000)[0] == NULL);
	CHECK_STR(passthru_check_status_to_string(PASSTHRU_CHECK_WARN), "warn");
	CHECK(passthru_check_status_to_string((enum passthru_check_status)7) == NULL);
	CHECK(passthru_check_report_ref(rep) == rep);
	CHECK(passthru_check_report_unref(rep) == NULL);
	CHECK(passthru_check_report_unref(rep) == NULL);
	CHECK(passthru_check_report_unref(NULL) == NULL);
	passthru_ctx_unref(ctx);
}

/*
 * An existing blacklist file is kept line for line; a module it already lists (in either
 * spelling, whatever follows on the line) is not added again, the others are.
 */
static void test_blacklist_existing(void)
{
	struct passthru_ctx *ctx;
	struct passthru_setup *s = NULL;
	const char *content = NULL;
	char path[4200];

	host();
	put("etc/modprobe.d/passthru-blacklist.conf",
	    "# mine\n\nblacklist\tnvidia_drm extra\n  blacklist snd_hda_intel");
	ctx = ctx_new();
	CHECK_INT(passthru_setup_new(ctx, &s), 0);
	CHECK_INT(passthru_setup_add_blacklist(s, "nvidia-drm"), 0);
	CHECK_INT(passthru_setup_add_blacklist(s, "nouveau"), 0);
	CHECK_INT(passthru_setup_add_blacklist(s, "snd-hda-intel"), 0);
	CHECK_INT(passthru_setup_plan(s), 0);
	for (size_t i = 0; i < passthru_setup_get_change_count(s); i++)
		if (strcmp(passthru_setup_get_change_path(s, i),
			   "/etc/modprobe.d/passthru-blacklist.conf") == 0)
			content = passthru_setup_get_change_content(s, i);
	CHECK_STR(content, "# mine\n\nblacklist\tnvidia_drm extra\n  blacklist snd_hda_intel\n"
			   "blacklist nouveau\n");
	passthru_setup_unref(s);
	passthru_ctx_unref(ctx);
	snprintf(path, sizeof(path), "%s/etc/modprobe.d/passthru-blacklist.conf", root);
	CHECK_INT(unlink(path), 0);
}

int main(void)
{
	root = fixture_tmpdir();
	test_diff();
	test_setup_api();
	test_blacklist_existing();
	test_backups();
	test_symlinked_grub();
	test_unsafe_interrupts();
	test_plan_errors();
	test_check_report();
	TEST_DONE();
}
