/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The /run/passthru records: parsing (strict, with line numbers), formatting round trips,
 * escaping, the repair decision, the lock, and the small parsers next to them (kmsg records,
 * PASSTHRU_FAULT).
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "fault.h"
#include "journal.h"
#include "kmsg.h"
#include "test.h"

static char root[] = "/tmp/passthru-test-journal-XXXXXX";

static int parse(const char *text, enum journal_kind kind, struct journal **ret, unsigned *line)
{
	return journal_parse(text, strlen(text), kind, ret, line);
}

static void test_escape(void)
{
	const char *samples[] = {"vfio-pci", "",	  "a b",	  "100%",
				 "x/y",	     "\xff\x01z", "snd_hda_intel"};

	for (size_t i = 0; i < ELEMENTSOF(samples); i++) {
		_cleanup_free_ char *e = journal_escape(samples[i]), *back = NULL;

		CHECK(e != NULL);
		CHECK(strchr(e, ' ') == NULL);
		CHECK_INT(journal_unescape(e, strlen(e), &back), 0);
		CHECK_STR(back, samples[i]);
	}
	{
		_cleanup_free_ char *e = journal_escape("a b");

		CHECK_STR(e, "a%20b");
	}
	{
		char *out = NULL;

		CHECK_INT(journal_unescape("%", 1, &out), -EBADMSG);
		CHECK_INT(journal_unescape("%4", 2, &out), -EBADMSG);
		CHECK_INT(journal_unescape("%G0", 3, &out), -EBADMSG);
		CHECK_INT(journal_unescape("%00", 3, &out), -EBADMSG);
		CHECK_INT(journal_unescape("a b", 3, &out), -EBADMSG);
		CHECK_INT(journal_unescape("a=b", 3, &out), -EBADMSG);
		CHECK(out == NULL);
	}
}

static void test_parse_transaction(void)
{
	struct journal *j = NULL;
	unsigned line = 0;
	const char *text = "passthru-journal 1\n"
			   "op bind\n"
			   "pid 1234\n"
			   "dev 0000:01:00.0 driver=nouveau override= target=vfio-pci "
			   "target-override=vfio-pci id=10de:1b80:1458:3702\n"
			   "\n"
			   "dev 0000:01:00.1 driver= override=a%20b target=* target-override=\n";

	CHECK_INT(parse(text, JOURNAL_KIND_TRANSACTION, &j, &line), 0);
	if (!j)
		return;
	CHECK_INT(j->op, JOURNAL_OP_BIND);
	CHECK_INT(j->pid, 1234);
	CHECK_INT(j->n_entries, 2);
	CHECK_STR(j->entries[0].address, "0000:01:00.0");
	CHECK_STR(j->entries[0].driver, "nouveau");
	CHECK(j->entries[0].override == NULL);
	CHECK_STR(j->entries[0].target, "vfio-pci");
	CHECK(!j->entries[0].target_any);
	CHECK_STR(j->entries[0].target_override, "vfio-pci");
	CHECK_STR(j->entries[0].id, "10de:1b80:1458:3702");
	CHECK(j->entries[1].driver == NULL);
	CHECK_STR(j->entries[1].override, "a b");
	CHECK(j->entries[1].target == NULL);
	CHECK(j->entries[1].target_any);
	CHECK(j->entries[1].id == NULL);

	/* Formatting and parsing again gives the same record. */
	{
		_cleanup_free_ char *out = NULL;
		struct journal *k = NULL;

		CHECK_INT(journal_format(j, JOURNAL_KIND_TRANSACTION, &out), 0);
		CHECK_INT(parse(out, JOURNAL_KIND_TRANSACTION, &k, NULL), 0);
		if (k) {
			_cleanup_free_ char *again = NULL;

			CHECK_INT(journal_format(k, JOURNAL_KIND_TRANSACTION, &again), 0);
			CHECK_STR(again, out);
			CHECK(k->entries[1].target_any);
			CHECK_STR(k->entries[1].override, "a b");
		}
		journal_free(k);
	}
	journal_free(j);
}

static void expect_bad(const char *text, enum journal_kind kind, unsigned want_line)
{
	struct journal *j = NULL;
	unsigned line = 0;

	CHECK_INT(parse(text, kind, &j, &line), -EBADMSG);
	CHECK(j == NULL);
	if (line != want_line)
		fprintf(stderr, "for: %s\n", text);
	CHECK_INT(line, want_line);
}

/* A transaction of attribute writes (an SR-IOV change): its writes in order, with their undo. */
static void test_parse_writes(void)
{
	const enum journal_kind T = JOURNAL_KIND_TRANSACTION;
	const char *text = "passthru-journal 1\n"
			   "op write\n"
			   "pid 77\n"
			   "write 0000:03:00.0 sriov_numvfs value=0 undo=4\n"
			   "write 0000:03:00.0 sriov_drivers_autoprobe value=0 undo=1\n"
			   "write 0000:03:00.0 sriov_numvfs value=2 undo=0\n";
	struct journal *j = NULL;
	unsigned line = 0;

	CHECK_INT(parse(text, T, &j, &line), 0);
	if (!j)
		return;
	CHECK_INT(j->op, JOURNAL_OP_WRITE);
	CHECK_INT(j->n_entries, 0);
	CHECK_INT(j->n_writes, 3);
	CHECK_STR(j->writes[1].address, "0000:03:00.0");
	CHECK_STR(j->writes[1].name, "sriov_drivers_autoprobe");
	CHECK_STR(j->writes[1].value, "0");
	CHECK_STR(j->writes[1].undo, "1");
	CHECK_STR(j->writes[2].value, "2");
	CHECK_STR(j->writes[2].undo, "0");
	{
		_cleanup_free_ char *out = NULL;

		CHECK_INT(journal_format(j, T, &out), 0);
		CHECK_STR(out, text);
	}
	journal_free(j);

	/* Names are plain attribute names; values are never empty; no devices in such a record. */
	expect_bad("passthru-journal 1\nop write\nwrite 0000:03:00.0 ../remove value=1 undo=0\n", T,
		   3);
	expect_bad("passthru-journal 1\nop write\nwrite 0000:03:00.0 sriov_numvfs value= undo=0\n",
		   T, 3);
	expect_bad("passthru-journal 1\nop write\nwrite 3:0.0 sriov_numvfs value=1 undo=0\n", T, 3);
	expect_bad(
	    "passthru-journal 1\nop write\nwrite 0000:03:00.0 sriov_numvfs  value=1 undo=0\n", T,
	    3);
	expect_bad("passthru-journal 1\nop write\nwrite 0000:03:00.0 sriov_numvfs undo=0 value=1\n",
		   T, 3);
	expect_bad("passthru-journal 1\nop write\ndev 0000:00:02.0 driver=e1000e override= "
		   "target=vfio-pci target-override=vfio-pci\n",
		   T, 3);
	expect_bad("passthru-journal 1\nop bind\nwrite 0000:03:00.0 sriov_numvfs value=1 undo=0\n",
		   T, 3);
	expect_bad("passthru-journal 1\nwrite 0000:03:00.0 sriov_numvfs value=1 undo=0\n", T, 2);
	CHECK_INT(journal_new(JOURNAL_OP_WRITE, &j), 0);
	CHECK_INT(journal_add_write(j, "0000:03:00.0", "sriov_numvfs", "", "0"), -EINVAL);
	CHECK_INT(journal_add_write(j, "0000:03:00.0", "a/b", "1", "0"), -EINVAL);
	CHECK_INT(journal_add_write(j, "0000:03:00.0", "sriov_numvfs", "1", "0"), 0);
	CHECK_INT(j->n_writes, 1);
	journal_free(j);
}

static void test_parse_errors(void)
{
	const enum journal_kind T = JOURNAL_KIND_TRANSACTION, H = JOURNAL_KIND_HELD;
	const char *dev = "dev 0000:00:02.0 driver=e1000e override= target=vfio-pci "
			  "target-override=vfio-pci\n";
	char buf[512];

	expect_bad("", T, 1);
	expect_bad("passthru-journal 2\nop bind\n", T, 1);
	expect_bad("passthru-held 1\n", T, 1);
	/* No op at all, or the op after a device. */
	expect_bad("passthru-journal 1\n", T, 2);
	snprintf(buf, sizeof(buf), "passthru-journal 1\n%sop bind\n", dev);
	expect_bad(buf, T, 2);
	expect_bad("passthru-journal 1\nop rebind\n", T, 2);
	expect_bad("passthru-journal 1\nop bind\nop bind\n", T, 3);
	expect_bad("passthru-journal 1\nop bind\npid -5\n", T, 3);
	expect_bad("passthru-journal 1\nop bind\npid 12x\n", T, 3);
	/* The same device twice. */
	snprintf(buf, sizeof(buf), "passthru-journal 1\nop bind\n%s%s", dev, dev);
	expect_bad(buf, T, 4);
	/* Addresses only in the kernel's spelling. */
	expect_bad("passthru-journal 1\nop bind\ndev 00:02.0 driver= override= target= "
		   "target-override=\n",
		   T, 3);
	expect_bad("passthru-journal 1\nop bind\ndev 0000:00:02.0 driver=e1000e override=\n", T, 3);
	expect_bad("passthru-journal 1\nop bind\ndev 0000:00:02.0 driver=e1000e override= "
		   "target=vfio-pci target-override= colour=blue\n",
		   T, 3);
	expect_bad("passthru-journal 1\nop bind\ndev 0000:00:02.0 driver=e1000e driver=x "
		   "override= target= target-override=\n",
		   T, 3);
	/* A driver name is a path component: no slash, even escaped. */
	expect_bad("passthru-journal 1\nop bind\ndev 0000:00:02.0 driver=..%2Fetc override= "
		   "target= target-override=\n",
		   T, 3);
	expect_bad("passthru-journal 1\nop bind\ndev 0000:00:02.0 driver=%2E%2E override= "
		   "target= target-override=\n",
		   T, 3);
	expect_bad("passthru-journal 1\nop bind\ndev 0000:00:02.0 driver= override= target= "
		   "target-override= id=10DE:1b80:1458:3702\n",
		   T, 3);
	expect_bad("passthru-journal 1\nop bind\ndev 0000:00:02.0  driver= override= target= "
		   "target-override=\n",
		   T, 3);
	/* Held records have no targets. */
	expect_bad("passthru-held 1\ndev 0000:00:02.0 driver=e1000e override= target=x\n", H, 2);
	expect_bad("passthru-held 1\nop bind\n", H, 2);
	{
		struct journal *j = NULL;
		unsigned line = 0;

		CHECK_INT(journal_parse("passthru-held 1\n\0", 17, H, &j, &line), -EBADMSG);
	}
}

static void test_records(void)
{
	struct journal *j = NULL;
	struct journal_entry e = {0};

	CHECK_INT(journal_new(JOURNAL_OP_UNBIND, &j), 0);
	CHECK_INT(journal_entry_set(&e, "0000:00:02.0", "vfio-pci", "vfio-pci", "e1000e", false,
				    NULL, "8086:10d3:8086:0000"),
		  0);
	CHECK_INT(journal_put(j, &e), 0);
	CHECK_INT(journal_put(j, &e), 0);
	CHECK_INT(j->n_entries, 1);
	CHECK_INT(journal_entry_set(&e, "0000:00:03.0", NULL, NULL, NULL, true, NULL, NULL), 0);
	CHECK_INT(journal_put(j, &e), 0);
	CHECK_INT(j->n_entries, 2);
	CHECK(journal_find(j, "0000:00:03.0") != NULL);
	CHECK_INT(journal_remove(j, "0000:00:02.0"), 0);
	CHECK_INT(journal_remove(j, "0000:00:02.0"), -ENOENT);
	CHECK_INT(j->n_entries, 1);
	CHECK_STR(j->entries[0].address, "0000:00:03.0");
	CHECK_INT(journal_entry_set(&e, "00:03.0", NULL, NULL, NULL, false, NULL, NULL), -EINVAL);
	free(e.driver);
	free(e.override);
	free(e.target);
	free(e.target_override);
	free(e.id);
	journal_free(j);
}

static struct device_state state(bool present, const char *driver, const char *override)
{
	return (struct device_state){
	    .present = present, .driver = (char *)driver, .override = (char *) override};
}

static void test_decide(void)
{
	struct journal *j = NULL;
	const char *text = "passthru-journal 1\nop bind\n"
			   "dev 0000:01:00.0 driver=nouveau override= target=vfio-pci "
			   "target-override=vfio-pci\n"
			   "dev 0000:01:00.1 driver=snd_hda_intel override= target=vfio-pci "
			   "target-override=vfio-pci\n";
	struct device_state s[2];

	CHECK_INT(parse(text, JOURNAL_KIND_TRANSACTION, &j, NULL), 0);
	if (!j)
		return;

	/* Killed before anything: both at their origin. */
	s[0] = state(true, "nouveau", NULL);
	s[1] = state(true, "snd_hda_intel", NULL);
	CHECK_INT(journal_decide(j, s), REPAIR_ROLLBACK);
	CHECK(journal_entry_at_origin(&j->entries[0], &s[0]));

	/* Half-way: the first is done, the second unbound. */
	s[0] = state(true, "vfio-pci", "vfio-pci");
	s[1] = state(true, NULL, "vfio-pci");
	CHECK_INT(journal_decide(j, s), REPAIR_ROLLBACK);
	CHECK(journal_entry_at_target(&j->entries[0], &s[0]));
	CHECK(!journal_entry_at_target(&j->entries[1], &s[1]));
	CHECK(!journal_entry_at_origin(&j->entries[1], &s[1]));

	/* On vfio-pci without the override is not the target: a reprobe could lose it. */
	s[1] = state(true, "vfio-pci", NULL);
	CHECK_INT(journal_decide(j, s), REPAIR_ROLLBACK);

	/* Everything got there before the crash: commit. */
	s[1] = state(true, "vfio-pci", "vfio-pci");
	CHECK_INT(journal_decide(j, s), REPAIR_COMMIT);

	/* A device that vanished counts for nothing either way. */
	s[1] = state(false, NULL, NULL);
	CHECK_INT(journal_decide(j, s), REPAIR_COMMIT);
	s[0] = state(true, NULL, NULL);
	CHECK_INT(journal_decide(j, s), REPAIR_ROLLBACK);
	journal_free(j);

	/* Giving back to "any driver". */
	CHECK_INT(parse("passthru-journal 1\nop unbind\ndev 0000:00:02.0 driver=vfio-pci "
			"override=vfio-pci target=* target-override=\n",
			JOURNAL_KIND_TRANSACTION, &j, NULL),
		  0);
	if (!j)
		return;
	s[0] = state(true, "e1000e", NULL);
	CHECK(journal_entry_at_target(&j->entries[0], &s[0]));
	s[0] = state(true, NULL, NULL);
	CHECK(journal_entry_at_target(&j->entries[0], &s[0]));
	s[0] = state(true, "vfio-pci", NULL);
	CHECK(!journal_entry_at_target(&j->entries[0], &s[0]));
	s[0] = state(true, "e1000e", "vfio-pci");
	CHECK(!journal_entry_at_target(&j->entries[0], &s[0]));
	journal_free(j);
}

static void test_files(void)
{
	struct passthru_ctx *ctx = NULL;
	struct journal *j = NULL, *k = NULL;
	struct journal_entry e = {0};
	_cleanup_free_ char *log = NULL;
	int fd, fd2;

	CHECK(mkdtemp(root) != NULL);
	CHECK_INT(passthru_ctx_new(root, &ctx), 0);
	if (!ctx)
		return;
	CHECK_INT(journal_load(ctx, HELD_PATH, JOURNAL_KIND_HELD, &k), -ENOENT);

	/* The lock creates /run/passthru (0700) in a bare root; a second holder waits, then fails.
	 */
	fd = journal_lock(ctx, 100);
	CHECK(fd >= 0);
	{
		char path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/run/passthru", root);
		CHECK_INT(stat(path, &st), 0);
		CHECK_INT(st.st_mode & 0777, 0700);
	}
	fd2 = journal_lock(ctx, 50);
	CHECK_INT(fd2, -EBUSY);
	close(fd);
	fd2 = journal_lock(ctx, 50);
	CHECK(fd2 >= 0);
	close(fd2);

	CHECK_INT(journal_new(JOURNAL_OP_BIND, &j), 0);
	CHECK_INT(journal_entry_set(&e, "0000:00:02.0", "e1000e", NULL, NULL, false, NULL,
				    "8086:10d3:8086:0000"),
		  0);
	CHECK_INT(journal_put(j, &e), 0);
	CHECK_INT(journal_save(ctx, HELD_PATH, JOURNAL_KIND_HELD, j), 0);
	CHECK_INT(journal_load(ctx, HELD_PATH, JOURNAL_KIND_HELD, &k), 0);
	if (k) {
		CHECK_INT(k->n_entries, 1);
		CHECK_STR(k->entries[0].driver, "e1000e");
		CHECK_STR(k->entries[0].id, "8086:10d3:8086:0000");
	}
	/* A held record is not a transaction. */
	{
		struct journal *bad = NULL;

		CHECK_INT(journal_load(ctx, HELD_PATH, JOURNAL_KIND_TRANSACTION, &bad), -EBADMSG);
	}
	journal_log_line(ctx, "bind %s: forced past a guard: %s", "0000:00:02.0", "eth0 route");
	CHECK_INT(root_read_file(ctx, LOG_PATH, &log, NULL), 0);
	CHECK(log && strstr(log, "passthru[") && strstr(log, "forced past a guard: eth0 route\n"));

	free(e.driver);
	free(e.id);
	journal_free(j);
	journal_free(k);
	passthru_ctx_unref(ctx);
}

static void test_proc_locks(void)
{
	const char *text = "1: POSIX  ADVISORY  WRITE 700 00:19:42 0 EOF\n"
			   "2: OFDLCK ADVISORY  WRITE -1 00:19:43 0 EOF\n"
			   "3: FLOCK  ADVISORY  WRITE 812 00:19:44 0 EOF\n"
			   "3: -> FLOCK  ADVISORY  WRITE 900 00:19:44 0 EOF\n"
			   "4: FLOCK  ADVISORY  WRITE 813 fd:01:44 0 EOF\n"
			   "5: FLOCK  ADVISORY  WRITE 814 00:1a:44 0 EOF";
	long pid = 0;

	CHECK_INT(proc_locks_flock_pid(text, 0x00, 0x19, 44, &pid), 0);
	CHECK_INT(pid, 812);
	CHECK_INT(proc_locks_flock_pid(text, 0xfd, 0x01, 44, &pid), 0);
	CHECK_INT(pid, 813);
	/* The last line, without a newline; minors in hex. */
	CHECK_INT(proc_locks_flock_pid(text, 0x00, 0x1a, 44, &pid), 0);
	CHECK_INT(pid, 814);
	/* POSIX and OFD locks are not flock(2)'s; waiters hold nothing. */
	pid = 0;
	CHECK_INT(proc_locks_flock_pid(text, 0x00, 0x19, 42, &pid), -ENOENT);
	CHECK_INT(proc_locks_flock_pid(text, 0x00, 0x19, 43, &pid), -ENOENT);
	CHECK_INT(proc_locks_flock_pid("3: -> FLOCK  ADVISORY  WRITE 900 00:19:44 0 EOF\n", 0x00,
				       0x19, 44, &pid),
		  -ENOENT);
	CHECK_INT(proc_locks_flock_pid("", 0, 0, 0, &pid), -ENOENT);
	CHECK_INT(proc_locks_flock_pid("garbage\n\n1:\n", 0, 0, 0, &pid), -ENOENT);
	CHECK_INT(pid, 0);
}

static void test_kmsg(void)
{
	char *s = NULL;
	const char *rec = "6,1234,30764510,-;vfio-pci 0000:00:02.0: Relaying device request to "
			  "user (#0)\n SUBSYSTEM=pci\n DEVICE=+pci:0000:00:02.0\n";

	CHECK_INT(kmsg_record_parse(rec, strlen(rec), &s), 0);
	CHECK_STR(s, "[   30.764510] vfio-pci 0000:00:02.0: Relaying device request to user (#0)");
	free(s);
	s = NULL;
	CHECK_INT(kmsg_record_parse("4,5,6,c,extra;x", 15, &s), 0);
	CHECK_STR(s, "[    0.000006] x");
	free(s);
	s = NULL;
	CHECK_INT(kmsg_record_parse("no semicolon", 12, &s), -EBADMSG);
	CHECK_INT(kmsg_record_parse("6,1;short", 9, &s), -EBADMSG);
	CHECK_INT(kmsg_record_parse("a,b,c,-;x", 9, &s), -EBADMSG);
	CHECK_INT(kmsg_record_parse("6,1,99999999999999999999999,-;x", 31, &s), -EBADMSG);
	CHECK(s == NULL);
}

static void test_fault(void)
{
	struct fault f;

	CHECK_INT(fault_parse("bind:after-unbind:2", &f), 0);
	CHECK_STR(f.phase, "bind");
	CHECK_STR(f.step, "after-unbind");
	CHECK_INT(f.index, 2);
	CHECK(!f.fail && f.set);
	CHECK_INT(fault_parse("repair:before-commit:1:fail", &f), 0);
	CHECK(f.fail);
	CHECK_INT(fault_parse("bind:after-unbind", &f), -EINVAL);
	CHECK_INT(fault_parse("bind:after-lunch:1", &f), -EINVAL);
	CHECK_INT(fault_parse("rebind:after-unbind:1", &f), -EINVAL);
	CHECK_INT(fault_parse("bind:after-unbind:0", &f), -EINVAL);
	CHECK_INT(fault_parse("bind:after-unbind:+1", &f), -EINVAL);
	CHECK_INT(fault_parse("bind:after-unbind:1:crash", &f), -EINVAL);
	CHECK_INT(fault_parse("bind:after-unbind:1:fail:x", &f), -EINVAL);
}

/* A transaction of VF link settings: each VF's settings sent, with the driver's before. */
static void test_parse_vfs(void)
{
	const enum journal_kind T = JOURNAL_KIND_TRANSACTION;
	const char *text =
	    "passthru-journal 1\n"
	    "op vf\n"
	    "pid 77\n"
	    "vf 0000:03:00.0 1 mac=02:11:22:33:44:55 trust=on "
	    "undo mac=00:00:00:00:00:00 trust=off\n"
	    "vf 0000:03:00.0 0 vlan=100 qos=5 proto=802.1ad spoofchk=off max-tx-rate=2500 "
	    "undo vlan=0 spoofchk=on max-tx-rate=0\n";
	struct vf_settings value = {.has_mac = true}, undo = {.has_mac = true};
	struct journal *j = NULL;
	unsigned line = 0;

	CHECK_INT(parse(text, T, &j, &line), 0);
	if (!j)
		return;
	CHECK_INT(j->op, JOURNAL_OP_VF);
	CHECK_INT(j->n_entries, 0);
	CHECK_INT(j->n_writes, 0);
	CHECK_INT(j->n_vfs, 2);
	CHECK_STR(j->vfs[0].pf, "0000:03:00.0");
	CHECK_INT(j->vfs[0].index, 1);
	CHECK(j->vfs[0].value.has_mac && j->vfs[0].value.mac[5] == 0x55);
	CHECK(j->vfs[0].value.has_trust && j->vfs[0].value.trust);
	CHECK(!j->vfs[0].value.has_vlan && !j->vfs[0].value.has_rate);
	CHECK(j->vfs[0].undo.has_trust && !j->vfs[0].undo.trust);
	CHECK_INT(j->vfs[1].index, 0);
	CHECK_INT(j->vfs[1].value.vlan, 100);
	CHECK_INT(j->vfs[1].value.qos, 5);
	CHECK_INT(j->vfs[1].value.proto, ETH_P_8021AD_VALUE);
	CHECK_INT(j->vfs[1].value.max_tx_rate, 2500);
	CHECK_INT(j->vfs[1].undo.vlan, 0);
	CHECK_INT(j->vfs[1].undo.proto, ETH_P_8021Q_VALUE);
	CHECK(j->vfs[1].undo.spoofchk);
	{
		_cleanup_free_ char *out = NULL;

		CHECK_INT(journal_format(j, T, &out), 0);
		CHECK_STR(out, text);
	}
	journal_free(j);

	/* Strict: the undo covers the same settings; canonical fields; one kind per record. */
	expect_bad("passthru-journal 1\nop vf\nvf 0000:03:00.0 1 trust=on undo trust=off "
		   "mac=00:00:00:00:00:00\n",
		   T, 3);
	expect_bad("passthru-journal 1\nop vf\nvf 0000:03:00.0 1 trust=on\n", T, 3);
	expect_bad("passthru-journal 1\nop vf\nvf 0000:03:00.0 1 undo trust=off\n", T, 3);
	expect_bad("passthru-journal 1\nop vf\nvf 0000:03:00.0 1 trust=on undo\n", T, 3);
	expect_bad("passthru-journal 1\nop vf\nvf 0000:03:00.0 1 trust=on undo trust=off undo "
		   "trust=on\n",
		   T, 3);
	expect_bad("passthru-journal 1\nop vf\nvf 0000:03:00.0 1  trust=on undo trust=off\n", T, 3);
	expect_bad("passthru-journal 1\nop vf\nvf 0000:03:00.0 1 trust=on undo trust=off \n", T, 3);
	expect_bad("passthru-journal 1\nop vf\nvf 3:0.0 1 trust=on undo trust=off\n", T, 3);
	expect_bad("passthru-journal 1\nop vf\nvf 0000:03:00.0 01 trust=on undo trust=off\n", T, 3);
	expect_bad("passthru-journal 1\nop vf\nvf 0000:03:00.0 65536 trust=on undo trust=off\n", T,
		   3);
	expect_bad("passthru-journal 1\nop vf\nvf 0000:03:00.0 1 trust=yes undo trust=off\n", T, 3);
	expect_bad("passthru-journal 1\nop vf\nvf 0000:03:00.0 1 qos=3 undo qos=0\n", T, 3);
	expect_bad("passthru-journal 1\nop vf\nvf 0000:03:00.0 1 mac=01:00:5e:00:00:01 undo "
		   "mac=00:00:00:00:00:00\n",
		   T, 3);
	expect_bad("passthru-journal 1\nop vf\nwrite 0000:03:00.0 sriov_numvfs value=1 undo=0\n", T,
		   3);
	expect_bad("passthru-journal 1\nop write\nvf 0000:03:00.0 1 trust=on undo trust=off\n", T,
		   3);
	expect_bad("passthru-held 1\nvf 0000:03:00.0 1 trust=on undo trust=off\n",
		   JOURNAL_KIND_HELD, 2);

	CHECK_INT(journal_new(JOURNAL_OP_VF, &j), 0);
	memcpy(value.mac, (const uint8_t[6]){0x02, 1, 2, 3, 4, 5}, 6);
	CHECK_INT(journal_add_vf(j, "0000:03:00.0", 1, &value, &(struct vf_settings){0}), -EINVAL);
	CHECK_INT(journal_add_vf(j, "03:00.0", 1, &value, &undo), -EINVAL);
	CHECK_INT(journal_add_vf(j, "0000:03:00.0", 65536, &value, &undo), -EINVAL);
	value.mac[0] = 0x01;
	CHECK_INT(journal_add_vf(j, "0000:03:00.0", 1, &value, &undo), -EINVAL);
	value.mac[0] = 0x02;
	CHECK_INT(journal_add_vf(j, "0000:03:00.0", 1, &value, &undo), 0);
	CHECK_INT(j->n_vfs, 1);
	journal_free(j);
}

int main(void)
{
	test_escape();
	test_parse_transaction();
	test_parse_writes();
	test_parse_vfs();
	test_parse_errors();
	test_records();
	test_decide();
	test_files();
	test_kmsg();
	test_proc_locks();
	test_fault();
	{
		char cmd[4200];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		(void)!system(cmd);
	}
	TEST_DONE();
}
