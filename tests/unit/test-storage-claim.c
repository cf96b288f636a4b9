/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Early claim and storage prevention of persisted storage controllers: the lvm.conf block
 * (added, removed byte for byte, refused next to the administrator's own global_filter), and
 * against a fixture host with two identical NVMe controllers, one persisted: the generated
 * files name only the persisted one, are written with their modes and read back, go again when
 * the wish goes, and a different controller in the slot is never claimed (check says why).
 */
#include <sys/stat.h>

#include "diff.h"
#include "storage-claim.h"
#include "test-takeover-fixture.h"
#include "test.h"

static const char lvm_conf[] = "config {\n\tchecks = 1\n}\n\ndevices {\n\tdir = \"/dev\"\n"
			       "\tscan = [ \"/dev\" ]\n\t# use_devicesfile = 0\n"
			       "\t# global_filter = [ \"a|.*|\" ]\n}\n\nlog {\n\tverbose = 0\n}\n";

static void test_lvm_conf(void)
{
	char *rejects[] = {"^/dev/disk/by-path/pci-0000:02:00[.]0-", NULL};
	_cleanup_free_ char *out = NULL, *back = NULL, *again = NULL;
	struct lvm_conf_facts f;

	CHECK_INT(lvm_conf_scan(lvm_conf, strlen(lvm_conf), &f), 0);
	CHECK_INT(f.use_devicesfile, -1);
	CHECK(!f.own_global_filter);
	CHECK(!f.has_block);
	CHECK(f.devices_open > 0 && lvm_conf[f.devices_open] == '{');

	CHECK_INT(lvm_conf_edit(lvm_conf, strlen(lvm_conf), rejects, &out), 0);
	CHECK(out && strstr(out, "devices {\n\t# BEGIN passthru"));
	CHECK(out &&
	      strstr(out, "\tglobal_filter = [ \"r|^/dev/disk/by-path/pci-0000:02:00[.]0-|\" ]\n"
			  "\t# END passthru\n\tdir = \"/dev\"\n"));
	CHECK_INT(lvm_conf_scan(out, strlen(out), &f), 0);
	CHECK(f.has_block);
	CHECK(!f.own_global_filter); /* ours is not the administrator's */
	/* Editing again gives the same file; removing gives the original back, byte for byte. */
	CHECK_INT(lvm_conf_edit(out, strlen(out), rejects, &again), 0);
	CHECK_STR(again, out);
	CHECK_INT(lvm_conf_edit(out, strlen(out), NULL, &back), 0);
	CHECK_STR(back, lvm_conf);

	{
		const char *own = "devices {\n\tglobal_filter = [ \"a|.*|\" ]\n}\n";
		const char *one_line = "devices { dir = \"/dev\" }\n";
		const char *none = "log {\n\tverbose = 0\n}";
		const char *dfile = "devices {\n\tuse_devicesfile = 1\n}\n";
		const char *broken[] = {"devices {\n", "}\n", "a = \"x\n", "\t# BEGIN passthru\n",
					"\t# END passthru\n"};
		_cleanup_free_ char *o1 = NULL, *o2 = NULL;

		CHECK_INT(lvm_conf_edit(own, strlen(own), rejects, &o1), -EEXIST);
		CHECK_INT(lvm_conf_edit(one_line, strlen(one_line), rejects, &o1), -EOPNOTSUPP);
		CHECK_INT(lvm_conf_edit(none, strlen(none), rejects, &o1), 0);
		CHECK(o1 && strstr(o1, "verbose = 0\n}\n# BEGIN passthru: the drives"));
		CHECK(
		    o1 &&
		    strstr(o1,
			   "\ndevices {\n\tglobal_filter = [ "
			   "\"r|^/dev/disk/by-path/pci-0000:02:00[.]0-|\" ]\n}\n# END passthru\n"));
		CHECK_INT(lvm_conf_scan(dfile, strlen(dfile), &f), 0);
		CHECK_INT(f.use_devicesfile, 1);
		for (size_t i = 0; i < ELEMENTSOF(broken); i++)
			CHECK_INT(lvm_conf_scan(broken[i], strlen(broken[i]), &f), -EBADMSG);
		CHECK_INT(lvm_conf_edit("x", 1, NULL, &o2), 0);
		CHECK_STR(o2, "x");
	}
}

static const struct storage_file *file_of(const struct storage_plan *p, const char *path)
{
	for (size_t i = 0; i < p->n_files; i++)
		if (strcmp(p->files[i].path, path) == 0)
			return &p->files[i];
	return NULL;
}

static mode_t mode_of(const char *root, const char *rel)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	return stat(path, &st) < 0 ? 0 : st.st_mode & 07777;
}

static void apply(struct passthru_ctx *ctx, const struct storage_plan *p)
{
	_cleanup_free_ char *out = NULL, *err = NULL;

	CHECK_INT(storage_plan_apply(ctx, p, &out, &err), 0);
	if (err)
		fprintf(stderr, "apply: %s\n", err);
}

static void test_fixture(void)
{
	char *root = takeover_root("storage.json");
	struct passthru_ctx *ctx = takeover_ctx(root);
	struct storage_finding *f = NULL;
	struct storage_plan p;
	const struct storage_file *x;
	size_t n = 0;

	CHECK_INT(storage_plan_make(ctx, &p), 0);
	CHECK_INT(p.n_targets, 1);
	CHECK_INT(p.n_files, 10);	 /* script, modprobe, udev, 2 initramfs-tools, 3 dracut,
					    multipath, lvm.conf */
	CHECK(p.initramfs_argv == NULL); /* no update-initramfs or dracut in the fixture */
	x = file_of(&p, STORAGE_CLAIM_SCRIPT);
	CHECK(x && x->new && !x->old && x->mode == 0755 && x->generated);
	CHECK(x &&
	      x->new &&strstr(x->new, "\nclaim 0000:02:00.0 \"0x1b36 0x0010 0x1af4 0x1100\"\n"));
	/* The host's own NVMe has the same ids: nothing may name it (no ids=, no new_id). */
	for (size_t i = 0; i < p.n_files; i++)
		CHECK(!p.files[i].new || !strstr(p.files[i].new, "01:00.0"));
	x = file_of(&p, STORAGE_MODPROBE_PATH);
	CHECK(x &&
	      x->new &&strstr(
		  x->new, "\nsoftdep nvme pre: vfio-pci\ninstall nvme /bin/sh " STORAGE_CLAIM_SCRIPT
			  "; /sbin/modprobe --ignore-install nvme $CMDLINE_OPTS\n"));
	CHECK(x && x->new && !strstr(x->new, "ids="));
	x = file_of(&p, STORAGE_UDEV_PATH);
	CHECK(x && x->new &&strstr(
		       x->new,
		       "SUBSYSTEM==\"block\", KERNELS==\"0000:02:00.0\", SUBSYSTEMS==\"pci\", "
		       "ATTRS{vendor}==\"0x1b36\", ATTRS{device}==\"0x0010\", "
		       "ATTRS{subsystem_vendor}==\"0x1af4\", ATTRS{subsystem_device}==\"0x1100\", "
		       "ENV{PASSTHRU_STORAGE}=\"0000:02:00.0\", ENV{SYSTEMD_READY}=\"0\", "
		       "ENV{DM_UDEV_DISABLE_OTHER_RULES_FLAG}=\"1\", ENV{UDISKS_IGNORE}=\"1\"\n"));
	x = file_of(&p, STORAGE_ITOOLS_HOOK);
	CHECK(x && x->mode == 0755 && x->new &&strstr(x->new, "manual_add_modules vfio-pci\n"));
	x = file_of(&p, STORAGE_ITOOLS_INIT_TOP);
	CHECK(x && x->mode == 0755);
	x = file_of(&p, STORAGE_DRACUT_SETUP);
	CHECK(x && x->new &&strstr(x->new, "inst_hook pre-udev 00"));
	x = file_of(&p, STORAGE_MULTIPATH_PATH);
	CHECK(x && x->new &&strstr(x->new, "property \"^PASSTHRU_STORAGE$\""));
	x = file_of(&p, STORAGE_LVM_CONF);
	CHECK(x && !x->generated && x->old &&
	      x->new &&strstr(x->new, "\"r|^/dev/disk/by-path/pci-0000:02:00[.]0-|\""));

	apply(ctx, &p);
	storage_plan_done(&p);
	CHECK_INT(mode_of(root, STORAGE_ITOOLS_HOOK), 0755);
	CHECK_INT(mode_of(root, STORAGE_UDEV_PATH), 0644);
	CHECK(takeover_get(root, "etc/lvm/lvm.conf") &&
	      strstr(takeover_get(root, "etc/lvm/lvm.conf"), "# BEGIN passthru"));
	/* Applied: nothing left to change, and check finds it claimed. */
	CHECK_INT(storage_plan_make(ctx, &p), 0);
	CHECK_INT(p.n_files, 0);
	storage_plan_done(&p);
	CHECK_INT(storage_check(ctx, &f, &n), 0);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_INT(f[0].status, PASSTHRU_CHECK_OK);
		CHECK_STR(f[0].address, "0000:02:00.0");
	}
	storage_findings_free(f, n);

	/* The host opened it after all: its disk exists, LVM holds it. */
	takeover_put(
	    root,
	    "sys/devices/pci0000:00/0000:00:04.0/0000:02:00.0/nvme/nvme1/nvme1n1/holders/dm-0/x",
	    "");
	{
		char link[4096];

		snprintf(link, sizeof(link), "%s/sys/class/block", root);
		mkdir(link, 0755);
		snprintf(link, sizeof(link), "%s/sys/class/block/nvme1n1", root);
		CHECK_INT(symlink("../../devices/pci0000:00/0000:00:04.0/0000:02:00.0/nvme/nvme1/"
				  "nvme1n1",
				  link),
			  0);
	}
	CHECK_INT(storage_check(ctx, &f, &n), 0);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_INT(f[0].status, PASSTHRU_CHECK_FAIL);
		CHECK(strstr(f[0].seen, "the host opened it: nvme1n1 (held by dm-0)"));
	}
	storage_findings_free(f, n);

	/* Given back (unbind --persist): every file goes, lvm.conf is the original again. */
	takeover_put(root, "etc/passthru/bindings.conf", "");
	CHECK_INT(storage_plan_make(ctx, &p), 0);
	CHECK_INT(p.n_targets, 0);
	CHECK_INT(p.n_files, 10);
	for (size_t i = 0; i < p.n_files; i++)
		CHECK(p.files[i].generated ? p.files[i].new == NULL : p.files[i].new != NULL);
	apply(ctx, &p);
	storage_plan_done(&p);
	CHECK(takeover_get(root, "etc/passthru/early-claim.sh") == NULL);
	CHECK(takeover_get(root, "etc/udev/rules.d/63-passthru-storage.rules") == NULL);
	CHECK(takeover_get(root, "etc/initramfs-tools/hooks/passthru") == NULL);
	CHECK_STR(takeover_get(root, "etc/lvm/lvm.conf"), lvm_conf);
	CHECK_INT(storage_plan_make(ctx, &p), 0);
	CHECK_INT(p.n_files, 0);
	storage_plan_done(&p);
	passthru_ctx_unref(ctx);
	free(root);
}

static void test_other_model(void)
{
	char *root = takeover_root("storage.json");
	struct passthru_ctx *ctx = takeover_ctx(root);
	struct storage_finding *f = NULL;
	struct storage_plan p;
	size_t n = 0;

	/* The wish was for another model: the slot's controller is the host's. */
	takeover_put(root, "etc/passthru/bindings.conf",
		     "0000:02:00.0 8086:f1a8 8086:390d host=nvme\n");
	CHECK_INT(storage_plan_make(ctx, &p), 0);
	CHECK_INT(p.n_targets, 0);
	CHECK_INT(p.n_files, 0); /* nothing generated, lvm.conf untouched */
	storage_plan_done(&p);
	CHECK_INT(storage_check(ctx, &f, &n), 0);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_INT(f[0].status, PASSTHRU_CHECK_WARN);
		CHECK(strstr(f[0].seen,
			     "persisted for 8086:f1a8:8086:390d, the slot now holds "
			     "1b36:0010:1af4:1100 (a different controller): not claimed"));
		CHECK(f[0].fix && strstr(f[0].fix, "passthru unbind --persist 0000:02:00.0"));
	}
	storage_findings_free(f, n);
	passthru_ctx_unref(ctx);
	free(root);
}

/* lvm.conf is 2400 lines: setup's diff of the block must not be refused for the file's size. */
static void test_big_diff(void)
{
	char *rejects[] = {"^/dev/disk/by-path/pci-0000:02:00[.]0-", NULL};
	_cleanup_free_ char *big = NULL, *edited = NULL, *diff = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&big, &len);

	fputs("devices {\n", f);
	for (int i = 0; i < 3000; i++)
		fprintf(f, "\t# comment line %d\n", i);
	fputs("}\n", f);
	fclose(f);
	CHECK_INT(lvm_conf_edit(big, len, rejects, &edited), 0);
	CHECK_INT(diff_unified(big, edited, "a/etc/lvm/lvm.conf", "b/etc/lvm/lvm.conf", &diff), 0);
	CHECK(diff && strstr(diff, "@@ -1,4 +1,8 @@\n devices {\n+\t# BEGIN passthru"));
}

int main(void)
{
	test_big_diff();
	test_lvm_conf();
	test_fixture();
	test_other_model();
	TEST_DONE();
}
