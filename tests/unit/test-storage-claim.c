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

/* Debian 12's lvm2 writes its devices file so (2.03.16): one entry per PV, partitions by PART. */
static const char devices_file[] =
    "# LVM uses devices listed in this file.\n"
    "# Created by LVM command lvmdevices pid 812 at Thu Dec  3 12:00:00 2026\n"
    "VERSION=1.1.7\n"
    "IDTYPE=sys_wwid IDNAME=eui.0025388b91b2a1c4 DEVNAME=/dev/nvme0n1p3 PVID=AAAAhost PART=3\n"
    "IDTYPE=sys_wwid IDNAME=nvme.1b36-67756573742d6e766d65-51454d55-00000001 "
    "DEVNAME=/dev/nvme1n1p1 PVID=BBBBguest PART=1\n"
    "IDTYPE=sys_serial IDNAME=guest_nvme DEVNAME=/dev/nvme1n1 PVID=CCCCguest\n"
    "IDTYPE=devname IDNAME=/dev/nvme1n1p2 DEVNAME=/dev/nvme1n1p2 PVID=DDDDguest\n";

static void test_lvm_devices(void)
{
	_cleanup_free_ char *wwid = NULL, *serial = NULL, *dev = NULL, *bad = NULL;
	struct lvm_devices_record *recs = NULL;
	struct lvm_devices_edit e, back, again, later;
	struct lvm_devices_record *v = NULL;
	size_t n = 0, listed = 0;

	/* Ids as LVM writes them: a serial's padding dropped, blanks inside as "_". */
	CHECK_INT(
	    lvm_devices_id("sys_wwid", "nvme.1b36-67756573742d6e766d65-51454d55-00000001\n", &wwid),
	    0);
	CHECK_INT(lvm_devices_id("sys_serial", "guest nvme    \n", &serial), 0);
	CHECK_STR(serial, "sys_serial guest_nvme");
	CHECK_INT(lvm_devices_id("devname", "/dev/nvme1n1p2", &dev), 0);
	CHECK_INT(lvm_devices_id("sys_serial", "   \n", &bad), -EINVAL);
	{
		char *ids[] = {wwid, serial, dev, NULL};
		struct lvm_drive d = {"0000:02:00.0", ids};

		CHECK_INT(lvm_devices_edit(devices_file, NULL, &d, 1, true, &e), 0);
		CHECK_INT(e.removed, 3);
		CHECK_INT(e.restored, 0);
		/* The host's entry stays, VERSION goes one up. */
		CHECK_STR(e.devices, "# LVM uses devices listed in this file.\n"
				     "# Created by LVM command lvmdevices pid 812 at Thu Dec  3 "
				     "12:00:00 2026\n"
				     "VERSION=1.1.8\n"
				     "IDTYPE=sys_wwid IDNAME=eui.0025388b91b2a1c4 "
				     "DEVNAME=/dev/nvme0n1p3 PVID=AAAAhost PART=3\n");
		/* The record: the lasting ids (not the /dev name) and each line as it was. */
		CHECK(e.state &&
		      strstr(e.state, "\nid 0000:02:00.0 sys_wwid "
				      "nvme.1b36-67756573742d6e766d65-51454d55-00000001\n"
				      "id 0000:02:00.0 sys_serial guest_nvme\n"
				      "entry 0000:02:00.0 IDTYPE=sys_wwid IDNAME=nvme.1b36-"));
		CHECK(e.state && !strstr(e.state, "id 0000:02:00.0 devname"));
		CHECK(e.state && strstr(e.state, "\nentry 0000:02:00.0 IDTYPE=devname "
						 "IDNAME=/dev/nvme1n1p2 DEVNAME=/dev/nvme1n1p2 "
						 "PVID=DDDDguest\n"));
		CHECK_INT(lvm_devices_state_parse(e.state, strlen(e.state), &recs, &n), 0);
		CHECK_INT(n, 5);
		lvm_devices_records_free(recs, n);
		/* Again, from the record alone (the disks gone): nothing more to change. */
		CHECK_INT(lvm_devices_edit(e.devices, e.state, &(struct lvm_drive){"0000:02:00.0"},
					   1, true, &again),
			  0);
		CHECK_STR(again.devices, e.devices);
		CHECK_STR(again.state, e.state);
		CHECK_INT(again.removed + again.restored, 0);
		/* Listed again (lvmdevices --adddev): found by the recorded wwid. */
		{
			_cleanup_free_ char *relisted = NULL;

			CHECK(asprintf(&relisted,
				       "%sIDTYPE=sys_wwid IDNAME=nvme.1b36-67756573742d6e766d65-"
				       "51454d55-00000001 DEVNAME=/dev/nvme1n1p1 PVID=BBBBguest "
				       "PART=1\n",
				       e.devices) > 0);
			CHECK_INT(
			    lvm_devices_listed(relisted, e.state, "0000:02:00.0", NULL, &listed),
			    0);
			CHECK_INT(listed, 1);
			CHECK_INT(
			    lvm_devices_listed(e.devices, e.state, "0000:02:00.0", NULL, &listed),
			    0);
			CHECK_INT(listed, 0);
		}
		/* Given back: the same lines again (at the end), VERSION one up, no record. */
		CHECK_INT(lvm_devices_edit(e.devices, e.state, NULL, 0, true, &back), 0);
		CHECK_INT(back.restored, 3);
		CHECK(back.state == NULL);
		CHECK(back.devices && strstr(back.devices, "VERSION=1.1.9\n"));
		CHECK(back.devices && strstr(back.devices, strstr(devices_file, "IDTYPE=sys_wwid "
										"IDNAME=nvme")));
		/* Something the administrator listed again meanwhile is not doubled. */
		CHECK_INT(lvm_devices_edit(back.devices, e.state, NULL, 0, true, &later), 0);
		CHECK_INT(later.restored, 0);
		CHECK_STR(later.devices, back.devices);
		free(later.devices);
		free(back.devices);
		free(again.devices);
		free(again.state);
		/* LVM not reading it (remove false): nothing taken out, ids still kept. */
		CHECK_INT(lvm_devices_edit(devices_file, NULL, &d, 1, false, &later), 0);
		CHECK_STR(later.devices, devices_file);
		CHECK(later.state && !strstr(later.state, "entry "));
		free(later.devices);
		free(later.state);
		/* No devices file: only the record. */
		CHECK_INT(lvm_devices_edit(NULL, e.state, &d, 1, true, &later), 0);
		CHECK(later.devices == NULL);
		CHECK_STR(later.state, e.state);
		free(later.state);
		free(e.devices);
		free(e.state);
	}
	{
		const char *broken[] = {"junk\n", "id 0000:02:00.0\n", "id nope sys_wwid x\n",
					"entry 0000:02:00.0 PVID=x\n",
					"id 0000:02:00.0 sys_wwid\n"};

		for (size_t i = 0; i < ELEMENTSOF(broken); i++)
			CHECK_INT(lvm_devices_state_parse(broken[i], strlen(broken[i]), &v, &n),
				  -EBADMSG);
		CHECK_INT(lvm_devices_edit("a\0b", "junk\n", NULL, 0, true, &e), -EBADMSG);
	}
}

/* use_devicesfile: set, or the installed version's default that its lvm.conf shows. */
static void test_lvm_conf_default(void)
{
	const char *deb = "devices {\n\t# use_devicesfile = 0\n}\n";
	const char *rhel = "devices {\n\t# use_devicesfile = 1\n}\n";
	const char *set = "devices {\n\t# use_devicesfile = 0\n\tuse_devicesfile = 1\n}\n";
	const char *other = "log {\n\t# use_devicesfile = 1\n}\n";
	struct lvm_conf_facts f;

	CHECK_INT(lvm_conf_scan(deb, strlen(deb), &f), 0);
	CHECK_INT(f.use_devicesfile, -1);
	CHECK_INT(f.use_devicesfile_default, 0);
	CHECK_INT(lvm_conf_scan(rhel, strlen(rhel), &f), 0);
	CHECK_INT(f.use_devicesfile_default, 1);
	CHECK_INT(lvm_conf_scan(set, strlen(set), &f), 0);
	CHECK_INT(f.use_devicesfile, 1);
	CHECK_INT(lvm_conf_scan(other, strlen(other), &f), 0);
	CHECK_INT(f.use_devicesfile_default, -1);
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
	struct passthru_ctx *ctx = fixture_ctx(root);
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
	fixture_put(
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
	fixture_put(root, "etc/passthru/bindings.conf", "");
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

/*
 * A host whose LVM uses its devices file (use_devicesfile = 1): bind --persist keeps the ids of
 * the drive's disks while it still has them, setup takes the drive's entries out of
 * system.devices (the record keeps them) beside the global_filter, check says when one is
 * listed again, and the give-back puts the same lines back.
 */
static void test_fixture_devices_file(void)
{
	char *root = takeover_root("storage.json");
	struct passthru_ctx *ctx = fixture_ctx(root);
	const char *disk = "sys/devices/pci0000:00/0000:00:04.0/0000:02:00.0/nvme/nvme1/nvme1n1";
	struct storage_finding *f = NULL;
	struct storage_plan p;
	const struct storage_file *x;
	char path[4096];
	size_t n = 0;

	fixture_put(root, "etc/lvm/lvm.conf", "devices {\n\tuse_devicesfile = 1\n}\n");
	fixture_put(root, "etc/lvm/devices/system.devices", devices_file);
	/*
	 * Bound with no disk ever seen (on vfio-pci when persisted), and the file lists disks the
	 * host does not have: which are its cannot be told. The plan says so in one line, with
	 * the commands that complete it, and leaves the file alone.
	 */
	CHECK_INT(storage_plan_make(ctx, &p), 0);
	CHECK(p.notes && p.notes[0] && !p.notes[1] &&
	      strstr(p.notes[0],
		     "0000:02:00.0: storage prevention incomplete: its disks were not "
		     "on the host when it was persisted (on vfio-pci), so their ids are "
		     "unknown and 4 entries of /etc/lvm/devices/system.devices naming no "
		     "disk the host has stay in it; to complete it: passthru unbind "
		     "0000:02:00.0, then passthru bind --persist 0000:02:00.0") &&
	      !strchr(p.notes[0], '\n'));
	CHECK(!file_of(&p, STORAGE_LVM_DEVICES_FILE));
	storage_plan_done(&p);
	/* The public object has the same note (bind --persist prints it). */
	{
		struct passthru_storage_claim *c = NULL;

		CHECK_INT(passthru_storage_claim_new(ctx, &c), 0);
		CHECK(passthru_storage_claim_get_notes(c) &&
		      passthru_storage_claim_get_notes(c)[0] &&
		      strstr(passthru_storage_claim_get_notes(c)[0],
			     "0000:02:00.0: storage prevention incomplete"));
		passthru_storage_claim_unref(c);
	}
	/* The drive still on nvme, as bind --persist finds it: its disk, wwid and serial. */
	snprintf(path, sizeof(path), "%s/wwid", disk);
	fixture_put(root, path, "nvme.1b36-67756573742d6e766d65-51454d55-00000001\n");
	snprintf(path, sizeof(path), "%s/device/serial", disk);
	fixture_put(root, path, "guest nvme          \n");
	snprintf(path, sizeof(path), "%s/nvme1n1p1/partition", disk);
	fixture_put(root, path, "1\n");
	snprintf(path, sizeof(path), "%s/sys/class/block", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/sys/class/block/nvme1n1", root);
	CHECK_INT(
	    symlink("../../devices/pci0000:00/0000:00:04.0/0000:02:00.0/nvme/nvme1/nvme1n1", path),
	    0);
	snprintf(path, sizeof(path), "%s/sys/class/block/nvme1n1p1", root);
	CHECK_INT(symlink("../../devices/pci0000:00/0000:00:04.0/0000:02:00.0/nvme/nvme1/nvme1n1/"
			  "nvme1n1p1",
			  path),
		  0);
	CHECK_INT(storage_record_ids(ctx, "0000:02:00.0"), 0);
	CHECK(takeover_get(root, "etc/passthru/lvm-devices") &&
	      strstr(takeover_get(root, "etc/passthru/lvm-devices"),
		     "\nid 0000:02:00.0 sys_wwid nvme.1b36-67756573742d6e766d65-51454d55-00000001\n"
		     "id 0000:02:00.0 sys_serial guest_nvme\n"));
	/* Then it is on vfio-pci: no disk any more. */
	snprintf(path, sizeof(path), "%s/sys/class/block/nvme1n1", root);
	unlink(path);
	snprintf(path, sizeof(path), "%s/sys/class/block/nvme1n1p1", root);
	unlink(path);

	CHECK_INT(storage_check(ctx, &f, &n), 0);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_INT(f[0].status, PASSTHRU_CHECK_WARN);
		CHECK(strstr(f[0].seen,
			     "still listed in /etc/lvm/devices/system.devices (2 entries)"));
	}
	storage_findings_free(f, n);

	CHECK_INT(storage_plan_make(ctx, &p), 0);
	x = file_of(&p, STORAGE_LVM_CONF);
	CHECK(x && x->new &&strstr(x->new, "global_filter")); /* the filter too */
	x = file_of(&p, STORAGE_LVM_DEVICES_FILE);
	CHECK(x && !x->generated && x->initramfs && x->new &&strstr(x->new, "VERSION=1.1.8\n") &&
	      strstr(x->new, "PVID=AAAAhost") && !strstr(x->new, "nvme1n1p1"));
	/* The devname entry of p2 is not found without the disk: its name is not kept. */
	CHECK(x && x->new &&strstr(x->new, "IDNAME=/dev/nvme1n1p2"));
	x = file_of(&p, STORAGE_LVM_DEVICES_STATE);
	CHECK(x && x->generated &&
	      x->new &&strstr(x->new, "\nentry 0000:02:00.0 IDTYPE=sys_serial IDNAME=guest_nvme "
				      "DEVNAME=/dev/nvme1n1 PVID=CCCCguest\n"));
	/* The record is written before the devices file loses the lines. */
	CHECK(file_of(&p, STORAGE_LVM_DEVICES_STATE) < file_of(&p, STORAGE_LVM_DEVICES_FILE));
	apply(ctx, &p);
	storage_plan_done(&p);
	CHECK_INT(storage_plan_make(ctx, &p), 0);
	CHECK_INT(p.n_files, 0);
	storage_plan_done(&p);
	CHECK_INT(storage_check(ctx, &f, &n), 0);
	CHECK(n == 1 && f[0].status == PASSTHRU_CHECK_OK);
	storage_findings_free(f, n);

	/* Given back: the two lines return as they were, the record goes. */
	fixture_put(root, "etc/passthru/bindings.conf", "");
	CHECK_INT(storage_plan_make(ctx, &p), 0);
	CHECK(file_of(&p, STORAGE_LVM_DEVICES_FILE) < file_of(&p, STORAGE_LVM_DEVICES_STATE));
	apply(ctx, &p);
	storage_plan_done(&p);
	CHECK(takeover_get(root, "etc/passthru/lvm-devices") == NULL);
	CHECK(takeover_get(root, "etc/lvm/devices/system.devices") &&
	      strstr(takeover_get(root, "etc/lvm/devices/system.devices"), "VERSION=1.1.9\n") &&
	      strstr(takeover_get(root, "etc/lvm/devices/system.devices"),
		     "IDTYPE=sys_wwid IDNAME=nvme.1b36-67756573742d6e766d65-51454d55-00000001 "
		     "DEVNAME=/dev/nvme1n1p1 PVID=BBBBguest PART=1\n"
		     "IDTYPE=sys_serial IDNAME=guest_nvme DEVNAME=/dev/nvme1n1 PVID=CCCCguest\n"));
	passthru_ctx_unref(ctx);
	free(root);
}

/* A disk of a controller as the host driver shows it: /sys/class/block/NAME and its attributes
 * (path -> content, relative to the disk), NULL-terminated pairs. */
static void put_disk(const char *root, const char *controller, const char *name,
		     const char *const *attrs)
{
	char path[4096], target[4096], rel[1024];

	for (size_t i = 0; attrs && attrs[i]; i += 2) {
		snprintf(rel, sizeof(rel), "%s/nvme/%s/%s", controller, name, attrs[i]);
		fixture_put(root, rel, attrs[i + 1]);
	}
	snprintf(path, sizeof(path), "%s/sys/class/block", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/sys/class/block/%s", root, name);
	snprintf(target, sizeof(target), "../../%s/nvme/%s", controller + strlen("sys/"), name);
	CHECK_INT(symlink(target, path), 0);
}

static void drop_disk(const char *root, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/sys/class/block/%s", root, name);
	CHECK_INT(unlink(path), 0);
}

/*
 * bind --persist --group on an IOMMU group with two NVMe controllers: the record keeps the ids
 * of both drives' disks (it is asked for the one named), setup takes both drives' entries out
 * of system.devices, and the give-back of the group (unbind --persist --group) puts both back.
 */
static void test_fixture_group(void)
{
	char *root = takeover_root("storage-group.json");
	struct passthru_ctx *ctx = fixture_ctx(root);
	const char *a = "sys/devices/pci0000:00/0000:00:04.0/0000:02:00.0";
	const char *b = "sys/devices/pci0000:00/0000:00:05.0/0000:03:00.0";
	const char *const disk_a[] = {"wwid", "eui.00000000000000000000000000000a01\n", NULL};
	const char *const disk_b[] = {"wwid", "eui.00000000000000000000000000000b01\n", NULL};
	const char *devices = "VERSION=1.1.4\n"
			      "IDTYPE=sys_wwid IDNAME=eui.0025388b91b2a1c4 DEVNAME=/dev/nvme0n1 "
			      "PVID=AAAAhost\n"
			      "IDTYPE=sys_wwid IDNAME=eui.00000000000000000000000000000a01 "
			      "DEVNAME=/dev/nvme1n1 PVID=BBBBguest\n"
			      "IDTYPE=sys_wwid IDNAME=eui.00000000000000000000000000000b01 "
			      "DEVNAME=/dev/nvme2n1 PVID=CCCCguest\n";
	const struct storage_file *x;
	struct storage_plan p;

	fixture_put(root, "etc/lvm/devices/system.devices", devices);
	put_disk(root, a, "nvme1n1", disk_a);
	put_disk(root, b, "nvme2n1", disk_b);
	/* bind --persist --group 02:00.0, before the execution: both drives leave. */
	CHECK_INT(storage_record_ids(ctx, "0000:02:00.0"), 0);
	CHECK(takeover_get(root, "etc/passthru/lvm-devices") &&
	      strstr(takeover_get(root, "etc/passthru/lvm-devices"),
		     "\nid 0000:02:00.0 sys_wwid eui.00000000000000000000000000000a01\n"));
	CHECK(takeover_get(root, "etc/passthru/lvm-devices") &&
	      strstr(takeover_get(root, "etc/passthru/lvm-devices"),
		     "\nid 0000:03:00.0 sys_wwid eui.00000000000000000000000000000b01\n"));
	/* Then both are on vfio-pci and persisted, as bind --persist --group leaves them. */
	drop_disk(root, "nvme1n1");
	drop_disk(root, "nvme2n1");
	fixture_put(root, "etc/passthru/bindings.conf",
		     "0000:02:00.0 1b36:0010 1af4:1100 host=nvme\n"
		     "0000:03:00.0 1b36:0010 1af4:1100 host=nvme\n");
	CHECK_INT(storage_plan_make(ctx, &p), 0);
	CHECK_INT(p.n_targets, 2);
	CHECK(p.notes == NULL);
	x = file_of(&p, STORAGE_CLAIM_SCRIPT);
	CHECK(x && x->new &&strstr(x->new, "\nclaim 0000:02:00.0 ") &&
	      strstr(x->new, "\nclaim 0000:03:00.0 "));
	x = file_of(&p, STORAGE_LVM_DEVICES_FILE);
	CHECK(x && x->new &&strstr(x->new, "PVID=AAAAhost") && !strstr(x->new, "PVID=BBBBguest") &&
	      !strstr(x->new, "PVID=CCCCguest"));
	apply(ctx, &p);
	storage_plan_done(&p);

	/* unbind --persist --group: both wishes go, both drives' lines come back. */
	fixture_put(root, "etc/passthru/bindings.conf", "");
	CHECK_INT(storage_plan_make(ctx, &p), 0);
	apply(ctx, &p);
	storage_plan_done(&p);
	CHECK(takeover_get(root, "etc/passthru/early-claim.sh") == NULL);
	CHECK(takeover_get(root, "etc/passthru/lvm-devices") == NULL);
	CHECK(takeover_get(root, "etc/lvm/devices/system.devices") &&
	      strstr(takeover_get(root, "etc/lvm/devices/system.devices"), "PVID=BBBBguest") &&
	      strstr(takeover_get(root, "etc/lvm/devices/system.devices"), "PVID=CCCCguest"));
	passthru_ctx_unref(ctx);
	free(root);
}

/*
 * NVMe namespaces in the devices file of newer LVM versions: listed by nvme_uuid, nvme_nguid or
 * nvme_eui64 (or wwid_eui), not only sys_wwid. The namespace's sysfs attributes (uuid and nguid
 * as the kernel prints a UUID, eui as bytes apart) give those ids, and a sys_wwid recorded by
 * an older passthru finds the same namespace's entries under the new types.
 */
static void test_lvm_devices_nvme(void)
{
	const char *devices =
	    "VERSION=1.1.2\n"
	    "IDTYPE=nvme_uuid IDNAME=uuid.8f5c1e2a-4b3d-4c6e-9f70-112233445566 "
	    "DEVNAME=/dev/nvme1n1p1 PVID=AAAAguest PART=1\n"
	    "IDTYPE=nvme_nguid IDNAME=eui.0025388b91b2a1c40025388b91b2a1c4 DEVNAME=/dev/nvme1n2 "
	    "PVID=BBBBguest\n"
	    "IDTYPE=nvme_eui64 IDNAME=eui.0025388b91b2a1c5 DEVNAME=/dev/nvme1n3 PVID=CCCCguest\n"
	    "IDTYPE=wwid_eui IDNAME=eui.0025388b91b2a1c5 DEVNAME=/dev/nvme1n3 PVID=DDDDguest\n"
	    "IDTYPE=nvme_eui64 IDNAME=eui.00000000000000aa DEVNAME=/dev/nvme0n1 PVID=EEEEhost\n";
	char *uuid = NULL, *nguid = NULL, *eui = NULL, *bad = NULL;
	struct lvm_devices_edit e;
	size_t n = 0;

	CHECK_INT(lvm_devices_nvme_id("uuid", "8f5c1e2a-4b3d-4c6e-9f70-112233445566\n", &uuid), 0);
	CHECK_STR(uuid, "nvme_uuid uuid.8f5c1e2a-4b3d-4c6e-9f70-112233445566");
	CHECK_INT(lvm_devices_nvme_id("nguid", "0025388b-91b2-a1c4-0025-388B91B2A1C4\n", &nguid),
		  0);
	CHECK_STR(nguid, "nvme_nguid eui.0025388b91b2a1c40025388b91b2a1c4");
	CHECK_INT(lvm_devices_nvme_id("eui", "00 25 38 8b 91 b2 a1 c5\n", &eui), 0);
	CHECK_STR(eui, "nvme_eui64 eui.0025388b91b2a1c5");
	/* Unset (all zero), the wrong length, not hex, not a namespace id. */
	CHECK_INT(lvm_devices_nvme_id("eui", "00 00 00 00 00 00 00 00\n", &bad), -EINVAL);
	CHECK_INT(lvm_devices_nvme_id("nguid", "00000000-0000-0000-0000-000000000000\n", &bad),
		  -EINVAL);
	CHECK_INT(lvm_devices_nvme_id("uuid", "00 25 38 8b 91 b2 a1 c5\n", &bad), -EINVAL);
	CHECK_INT(lvm_devices_nvme_id("eui", "00 25 38 8b 91 b2 a1 zz\n", &bad), -EINVAL);
	CHECK_INT(lvm_devices_nvme_id("serial", "0025388b91b2a1c5", &bad), -EINVAL);
	CHECK(bad == NULL);
	{
		char *ids[] = {uuid, nguid, eui, NULL};
		struct lvm_drive d = {"0000:02:00.0", ids};

		CHECK_INT(lvm_devices_edit(devices, NULL, &d, 1, true, &e), 0);
		CHECK_INT(e.removed, 4);
		CHECK_STR(e.devices, "VERSION=1.1.3\n"
				     "IDTYPE=nvme_eui64 IDNAME=eui.00000000000000aa "
				     "DEVNAME=/dev/nvme0n1 PVID=EEEEhost\n");
		free(e.devices);
		free(e.state);
	}
	{
		/* Recorded by an older passthru: the kernel's wwid, which is the uuid here. */
		char *ids[] = {"sys_wwid uuid.8F5C1E2A-4B3D-4C6E-9F70-112233445566", NULL};
		struct lvm_drive d = {"0000:02:00.0", ids};

		CHECK_INT(lvm_devices_edit(devices, NULL, &d, 1, true, &e), 0);
		CHECK_INT(e.removed, 1);
		CHECK(e.devices && !strstr(e.devices, "AAAAguest"));
		free(e.devices);
		free(e.state);
	}
	/* Entries naming no disk the host has: all but the host's. */
	{
		char *host[] = {"nvme_eui64 eui.00000000000000AA", NULL};

		CHECK_INT(lvm_devices_unmatched(devices, host, &n), 0);
		CHECK_INT(n, 4);
		CHECK_INT(lvm_devices_unmatched(devices, NULL, &n), 0);
		CHECK_INT(n, 5);
	}
	free(uuid);
	free(nguid);
	free(eui);
}

/* Persisted while on vfio-pci: complete when every entry of system.devices names a disk the
 * host has (its NVMe known by the namespace's uuid, nguid, eui), else incomplete, and said. */
static void test_fixture_vfio_persisted(void)
{
	const char *host = "sys/devices/pci0000:00/0000:00:03.0/0000:01:00.0";
	const char *const disk[] = {"uuid",  "8f5c1e2a-4b3d-4c6e-9f70-112233445566\n",
				    "nguid", "00000000-0000-0000-0000-000000000000\n",
				    "eui",   "00 25 38 8b 91 b2 a1 c4\n",
				    NULL};
	char *root = takeover_root("storage.json");
	struct passthru_ctx *ctx = fixture_ctx(root);
	struct storage_plan p;

	fixture_put(root, "etc/lvm/lvm.conf", "devices {\n\tuse_devicesfile = 1\n}\n");
	fixture_put(root, "etc/lvm/devices/system.devices",
		     "VERSION=1.1.1\n"
		     "IDTYPE=nvme_uuid IDNAME=uuid.8f5c1e2a-4b3d-4c6e-9f70-112233445566 "
		     "DEVNAME=/dev/nvme0n1p3 PVID=AAAAhost PART=3\n"
		     "IDTYPE=nvme_eui64 IDNAME=eui.0025388b91b2a1c4 DEVNAME=/dev/nvme0n1 "
		     "PVID=BBBBhost\n"
		     "IDTYPE=devname IDNAME=/dev/nvme0n1p3 DEVNAME=/dev/nvme0n1p3 PVID=CCCChost\n");
	put_disk(root, host, "nvme0n1", disk);
	{
		char path[4096];

		/* Its partition, with a /sys/class/block name of its own. */
		snprintf(path, sizeof(path), "%s/nvme/nvme0n1/nvme0n1p3/partition", host);
		fixture_put(root, path, "3\n");
		snprintf(path, sizeof(path), "%s/sys/class/block/nvme0n1p3", root);
		CHECK_INT(symlink("../../devices/pci0000:00/0000:00:03.0/0000:01:00.0/nvme/"
				  "nvme0n1/nvme0n1p3",
				  path),
			  0);
	}
	CHECK_INT(storage_plan_make(ctx, &p), 0);
	CHECK(p.notes == NULL);
	CHECK(!file_of(&p, STORAGE_LVM_DEVICES_FILE));
	storage_plan_done(&p);

	fixture_put(root, "etc/lvm/devices/system.devices",
		     "VERSION=1.1.1\n"
		     "IDTYPE=nvme_uuid IDNAME=uuid.8f5c1e2a-4b3d-4c6e-9f70-112233445566 "
		     "DEVNAME=/dev/nvme0n1p3 PVID=AAAAhost PART=3\n"
		     "IDTYPE=nvme_nguid IDNAME=eui.11111111111111112222222222222222 "
		     "DEVNAME=/dev/nvme1n1 PVID=DDDDguest\n");
	CHECK_INT(storage_plan_make(ctx, &p), 0);
	CHECK(p.notes && p.notes[0] &&
	      strstr(p.notes[0], "0000:02:00.0: storage prevention incomplete: ") &&
	      strstr(p.notes[0], " and 1 entry of /etc/lvm/devices/system.devices naming no disk "
				 "the host has stays in it; "));
	storage_plan_done(&p);
	/* check says so too, with the same commands. */
	{
		struct storage_finding *f = NULL;
		size_t n = 0;

		CHECK_INT(storage_check(ctx, &f, &n), 0);
		CHECK(n == 1 && f[0].status == PASSTHRU_CHECK_WARN &&
		      strstr(f[0].seen, "storage prevention incomplete") && f[0].fix &&
		      strcmp(f[0].fix, "passthru unbind 0000:02:00.0, then passthru bind --persist "
				       "0000:02:00.0") == 0);
		storage_findings_free(f, n);
	}
	passthru_ctx_unref(ctx);
	free(root);
}

static void test_other_model(void)
{
	char *root = takeover_root("storage.json");
	struct passthru_ctx *ctx = fixture_ctx(root);
	struct storage_finding *f = NULL;
	struct storage_plan p;
	size_t n = 0;

	/* The wish was for another model: the slot's controller is the host's. */
	fixture_put(root, "etc/passthru/bindings.conf",
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
	test_lvm_conf_default();
	test_lvm_devices();
	test_fixture();
	test_fixture_devices_file();
	test_other_model();
	test_fixture_group();
	test_lvm_devices_nvme();
	test_fixture_vfio_persisted();
	TEST_DONE();
}
