/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The takeover's logic on fixture roots: plans (groups, bridges, guards, users of a group,
 * originals for unbind, resets), the transaction's bookkeeping (journal, rollback, repair
 * decisions carried out) and the helper that abandons blocked writes.
 *
 * Writes into a fixture root are plain file writes: the kernel's reactions (a driver link that
 * changes) are not there, so an execution here always ends in "vfio-pci did not take it" and a
 * rollback. That is what these tests use; the real thing is tests/vm/takeover.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>

#include "takeover.h"
#include "test-takeover-fixture.h"
#include "test-takeover-plan.h"
#include "test.h"

static struct passthru_takeover *plan(struct passthru_ctx *ctx, enum passthru_takeover_op op,
				      unsigned flags, const char *const *devices, int *ret)
{
	struct passthru_takeover *t = NULL;

	CHECK_INT(passthru_takeover_new(ctx, op, flags, &t), 0);
	if (!t)
		exit(1);
	for (size_t i = 0; devices[i]; i++)
		CHECK_INT(passthru_takeover_add_device(t, devices[i]), 0);
	*ret = passthru_takeover_plan(t);
	return t;
}

/* The index of address in the plan, -1 when absent. */
static long find(struct passthru_takeover *t, const char *address)
{
	for (size_t i = 0; i < passthru_takeover_get_count(t); i++)
		if (strcmp(passthru_takeover_get_address(t, i), address) == 0)
			return (long)i;
	return -1;
}

static bool has_note(struct passthru_takeover *t, long i, const char *part)
{
	if (i < 0)
		return false;
	for (const char *const *n = passthru_takeover_get_notes(t, (size_t)i); *n; n++)
		if (strstr(*n, part))
			return true;
	return false;
}

static void test_plan_bind(struct passthru_ctx *ctx)
{
	struct passthru_takeover *t;
	long vga, hda, bridge;
	int r, g;

	/* One function of a GPU: its audio sibling is on a host driver. */
	t = plan(ctx, PASSTHRU_TAKEOVER_BIND, 0, (const char *[]){"01:00.0", NULL}, &r);
	CHECK_INT(r, -EPERM);
	CHECK(has_refusal(t, PASSTHRU_REFUSAL_GROUP, "0000:01:00.0",
			  "IOMMU group 3 also holds 0000:01:00.1 (snd_hda_intel)"));
	/* The report says the same. */
	{
		const struct passthru_plan_report *rep = passthru_takeover_get_report(t);
		size_t n = passthru_plan_report_get_refusal_count(rep);

		CHECK_INT(n, passthru_takeover_get_refusal_count(t));
		CHECK(n > 0 && passthru_plan_report_get_refusal_kind(rep, 0) ==
				   passthru_takeover_get_refusal_kind(t, 0));
		CHECK_STR(passthru_plan_report_get_refusal_reason(rep, 0),
			  passthru_takeover_get_refusal_reason(t, 0));
		CHECK(passthru_plan_report_get_refusal_kind(rep, n) ==
		      (enum passthru_refusal_kind) - EINVAL);
	}
	CHECK_INT(passthru_takeover_get_count(t), 3);
	bridge = find(t, "0000:00:07.0");
	vga = find(t, "0000:01:00.0");
	hda = find(t, "0000:01:00.1");
	/* Sorted by address. */
	CHECK(bridge == 0 && vga == 1 && hda == 2);
	CHECK_INT(passthru_takeover_get_action(t, 0), PASSTHRU_ACTION_KEEP_BRIDGE);
	CHECK_INT(passthru_takeover_get_action(t, 1), PASSTHRU_ACTION_BIND);
	CHECK_INT(passthru_takeover_get_action(t, 2), PASSTHRU_ACTION_NONE);
	CHECK(passthru_takeover_is_requested(t, 1));
	CHECK(!passthru_takeover_is_requested(t, 2));
	CHECK_INT(passthru_takeover_get_iommu_group(t, 1, &g), 0);
	CHECK_INT(g, 3);
	CHECK_STR(passthru_takeover_get_driver(t, 1), "nouveau");
	CHECK_STR(passthru_takeover_get_target(t, 1), "vfio-pci");
	CHECK_STR(passthru_takeover_get_original(t, 1), "nouveau");
	CHECK(passthru_takeover_get_guards(t, 1) != NULL);
	CHECK(passthru_takeover_get_guards(t, 0) == NULL);
	passthru_takeover_unref(t);

	/* With --group: both go, the bridge stays; the audio function has no FLR. */
	t = plan(ctx, PASSTHRU_TAKEOVER_BIND, PASSTHRU_TAKEOVER_GROUP,
		 (const char *[]){"0000:01:00.0", NULL}, &r);
	CHECK_INT(r, 0);
	CHECK_INT(passthru_takeover_get_refusal_count(t), 0);
	CHECK_INT(passthru_takeover_get_action(t, find(t, "0000:01:00.1")), PASSTHRU_ACTION_BIND);
	CHECK(has_note(t, find(t, "0000:01:00.1"),
		       "no function-level reset (reset methods: pm bus)"));
	CHECK(!has_note(t, find(t, "0000:01:00.0"), "function-level"));
	/* The report has the same notes, each with its device, and no refusal or error. */
	{
		const struct passthru_plan_report *rep = passthru_takeover_get_report(t);
		bool found = false;

		CHECK_INT(passthru_plan_report_get_refusal_count(rep), 0);
		CHECK(passthru_plan_report_get_error(rep) == NULL);
		for (size_t i = 0; i < passthru_plan_report_get_note_count(rep); i++)
			if (strcmp(passthru_plan_report_get_note_address(rep, i), "0000:01:00.1") ==
				0 &&
			    strstr(passthru_plan_report_get_note(rep, i),
				   "no function-level reset"))
				found = true;
		CHECK(found);
		CHECK(passthru_plan_report_get_note(
			  rep, passthru_plan_report_get_note_count(rep)) == NULL);
	}
	passthru_takeover_unref(t);

	/* A driverless sibling is viable for VFIO: not refused, but said. */
	t = plan(ctx, PASSTHRU_TAKEOVER_BIND, 0, (const char *[]){"02:00.0", NULL}, &r);
	CHECK_INT(r, 0);
	CHECK_INT(passthru_takeover_get_action(t, find(t, "0000:02:00.1")), PASSTHRU_ACTION_NONE);
	CHECK(has_note(t, find(t, "0000:02:00.1"), "without a driver"));
	passthru_takeover_unref(t);

	/* Bridges and devices without a group are refused, each for its reason. */
	t = plan(ctx, PASSTHRU_TAKEOVER_BIND, PASSTHRU_TAKEOVER_FORCE,
		 (const char *[]){"00:07.0", "00:04.0", NULL}, &r);
	CHECK_INT(r, -EPERM);
	CHECK(has_refusal(t, PASSTHRU_REFUSAL_BRIDGE, "0000:00:07.0", "bridge"));
	/* The fixture's IOMMU is on: what is true is that it leaves 00:04.0 out. */
	CHECK(has_refusal(t, PASSTHRU_REFUSAL_NO_GROUP, "0000:00:04.0",
			  "in no IOMMU group, although the IOMMU is on"));
	CHECK(!has_refusal(t, PASSTHRU_REFUSAL_NO_IOMMU, "0000:00:04.0", "off"));
	CHECK_INT(passthru_takeover_get_iommu_group(t, find(t, "0000:00:04.0"), &g), -ENOENT);
	passthru_takeover_unref(t);

	/* Already there: nothing to do, and said. Also no reset method at all. */
	t = plan(ctx, PASSTHRU_TAKEOVER_BIND, 0, (const char *[]){"00:05.0", NULL}, &r);
	CHECK_INT(r, 0);
	CHECK_INT(passthru_takeover_get_action(t, 0), PASSTHRU_ACTION_NONE);
	CHECK(has_note(t, 0, "already on vfio-pci"));
	passthru_takeover_unref(t);

	/* A PF whose VFs are on vfio-pci; forced, it goes ahead with a note. */
	t = plan(ctx, PASSTHRU_TAKEOVER_BIND, 0, (const char *[]){"00:03.0", NULL}, &r);
	CHECK_INT(r, -EPERM);
	CHECK(has_refusal(t, PASSTHRU_REFUSAL_GUARD, "0000:00:03.0", "0000:00:13.0") ||
	      has_refusal(t, PASSTHRU_REFUSAL_VFS_BOUND, "0000:00:03.0", "0000:00:13.0"));
	passthru_takeover_unref(t);
	t = plan(ctx, PASSTHRU_TAKEOVER_BIND, PASSTHRU_TAKEOVER_FORCE,
		 (const char *[]){"00:03.0", NULL}, &r);
	CHECK_INT(r, 0);
	CHECK(has_note(t, find(t, "0000:00:03.0"), "forced"));
	passthru_takeover_unref(t);

	/* Duplicates collapse; malformed and absent addresses are refused at once. */
	CHECK_INT(passthru_takeover_new(ctx, PASSTHRU_TAKEOVER_BIND, 0, &t), 0);
	CHECK_INT(passthru_takeover_add_device(t, "00:02.0"), 0);
	CHECK_INT(passthru_takeover_add_device(t, "0000:00:02.0"), 0);
	CHECK_INT(passthru_takeover_add_device(t, "00:02"), -EINVAL);
	CHECK_INT(passthru_takeover_add_device(t, "00:1e.7"), -ENODEV);
	CHECK_INT(passthru_takeover_plan(t), 0);
	CHECK_INT(passthru_takeover_get_count(t), 1);
	passthru_takeover_unref(t);
	CHECK_INT(passthru_takeover_new(ctx, PASSTHRU_TAKEOVER_BIND, 1u << 7, &t), -EINVAL);
}

static void test_plan_unbind(const char *root, struct passthru_ctx *ctx)
{
	struct passthru_takeover *t;
	long i;
	int r;

	/* A VM holds group 5 (/dev/vfio/5 open in pid 4242). */
	t = plan(ctx, PASSTHRU_TAKEOVER_UNBIND, 0, (const char *[]){"00:05.0", NULL}, &r);
	CHECK_INT(r, -EPERM);
	CHECK(has_refusal(t, PASSTHRU_REFUSAL_IN_USE, "0000:00:05.0",
			  "/dev/vfio/5 is open by pid 4242 (qemu-system-x86)"));
	/* Nothing recorded about where it came from: the kernel's best match. */
	CHECK(passthru_takeover_get_target(t, 0) == NULL);
	CHECK(passthru_takeover_get_original(t, 0) == NULL);
	passthru_takeover_unref(t);
	t = plan(ctx, PASSTHRU_TAKEOVER_UNBIND, PASSTHRU_TAKEOVER_FORCE,
		 (const char *[]){"00:05.0", NULL}, &r);
	CHECK_INT(r, 0);
	CHECK(has_note(t, 0, "forced although /dev/vfio/5 is open by pid 4242"));
	passthru_takeover_unref(t);

	/* Not on vfio-pci: nothing to do. */
	t = plan(ctx, PASSTHRU_TAKEOVER_UNBIND, 0, (const char *[]){"00:02.0", NULL}, &r);
	CHECK_INT(r, 0);
	CHECK_INT(passthru_takeover_get_action(t, 0), PASSTHRU_ACTION_NONE);
	CHECK(has_note(t, 0, "not on vfio-pci (driver e1000e)"));
	passthru_takeover_unref(t);

	/* This boot's record gives the original; a record for another device does not count. */
	fixture_put(root, "run/passthru/held",
		    "passthru-held 1\n"
		    "dev 0000:00:13.0 driver=nvme override= id=1b36:0010:1b36:0010\n"
		    "dev 0000:00:13.2 driver=ixgbevf override=\n"
		    "dev 0000:00:05.0 driver=igb override= id=8086:10fb:8086:0000\n");
	fixture_put(root, "etc/passthru/bindings.conf",
		    "0000:00:05.0 8086:1533 8086:1533 host=igb\n");
	t = plan(ctx, PASSTHRU_TAKEOVER_UNBIND, PASSTHRU_TAKEOVER_FORCE,
		 (const char *[]){"00:13.0", "00:13.2", "00:05.0", NULL}, &r);
	CHECK_INT(r, 0);
	i = find(t, "0000:00:13.2");
	CHECK_INT(passthru_takeover_get_action(t, i), PASSTHRU_ACTION_UNBIND);
	CHECK_STR(passthru_takeover_get_target(t, i), "ixgbevf");
	CHECK_STR(passthru_takeover_get_original(t, i), "ixgbevf");
	/* The held entry of 00:05.0 is for another card: the persisted wish (same card) wins. */
	i = find(t, "0000:00:05.0");
	CHECK_STR(passthru_takeover_get_target(t, i), "igb");
	passthru_takeover_unref(t);

	/* --group gives back the whole group, leaving the bridge alone. */
	t = plan(ctx, PASSTHRU_TAKEOVER_UNBIND, PASSTHRU_TAKEOVER_GROUP,
		 (const char *[]){"01:00.1", NULL}, &r);
	CHECK_INT(r, 0);
	CHECK_INT(passthru_takeover_get_count(t), 3);
	CHECK_INT(passthru_takeover_get_action(t, find(t, "0000:00:07.0")),
		  PASSTHRU_ACTION_KEEP_BRIDGE);
	passthru_takeover_unref(t);
	takeover_remove(root, "run/passthru/held");
	takeover_remove(root, "etc/passthru/bindings.conf");
}

static void test_plan_reset(struct passthru_ctx *ctx)
{
	struct passthru_takeover *t = NULL;
	int r;

	t = plan(ctx, PASSTHRU_TAKEOVER_RESET, 0, (const char *[]){"01:00.1", NULL}, &r);
	CHECK_INT(r, 0);
	CHECK_INT(passthru_takeover_get_action(t, 0), PASSTHRU_ACTION_RESET);
	passthru_takeover_unref(t);

	CHECK_INT(passthru_takeover_new(ctx, PASSTHRU_TAKEOVER_RESET, 0, &t), 0);
	CHECK_INT(passthru_takeover_set_reset_method(t, "flr"), 0);
	CHECK_INT(passthru_takeover_set_reset_method(t, "../x"), -EINVAL);
	CHECK_INT(passthru_takeover_set_reset_method(t, "flr bus"), -EINVAL);
	CHECK_INT(passthru_takeover_add_device(t, "01:00.1"), 0);
	CHECK_INT(passthru_takeover_plan(t), -EPERM);
	CHECK(has_refusal(t, PASSTHRU_REFUSAL_NO_RESET, "0000:01:00.1", "no reset method 'flr'"));
	passthru_takeover_unref(t);

	/* No method at all, and held by a VM. */
	t = plan(ctx, PASSTHRU_TAKEOVER_RESET, 0, (const char *[]){"00:05.0", NULL}, &r);
	CHECK_INT(r, -EPERM);
	CHECK(has_refusal(t, PASSTHRU_REFUSAL_NO_RESET, "0000:00:05.0", "no reset method"));
	CHECK(has_refusal(t, PASSTHRU_REFUSAL_IN_USE, "0000:00:05.0", "pid 4242"));
	passthru_takeover_unref(t);
}

static void test_execute(const char *root, struct passthru_ctx *ctx)
{
	struct passthru_takeover *t = NULL;
	const char *override_path = "sys/bus/pci/devices/0000:00:02.0/driver_override";
	bool rolled_back = false, kernel = false;
	int r;

	/* An injected failure right after the journal: nothing touched, journal gone. */
	setenv("PASSTHRU_FAULT", "bind:after-journal:1:fail", 1);
	t = plan(ctx, PASSTHRU_TAKEOVER_BIND, 0, (const char *[]){"00:02.0", NULL}, &r);
	CHECK_INT(r, 0);
	CHECK_INT(passthru_takeover_execute(t), -EIO);
	CHECK(passthru_takeover_get_error(t) && strstr(passthru_takeover_get_error(t), "injected"));
	CHECK(takeover_get(root, "run/passthru/journal") == NULL);
	CHECK_STR(takeover_get(root, override_path), "(null)\n");
	passthru_takeover_unref(t);
	unsetenv("PASSTHRU_FAULT");

	/* The fixture's driver link never moves: vfio-pci "does not take it", all rolls back. */
	t = plan(ctx, PASSTHRU_TAKEOVER_BIND, 0, (const char *[]){"00:02.0", NULL}, &r);
	CHECK_INT(passthru_takeover_execute(t), -EIO);
	CHECK(passthru_takeover_get_error(t) &&
	      strstr(passthru_takeover_get_error(t),
		     "0000:00:02.0: vfio-pci did not take it (driver now: e1000e)"));
	for (const char *const *d = passthru_takeover_get_error_details(t); *d; d++) {
		if (strstr(*d, "rolled back: every touched device"))
			rolled_back = true;
		if (strstr(*d, "kernel: [    1.234567] e1000e 0000:00:02.0: eth0: link up"))
			kernel = true;
	}
	CHECK(rolled_back);
	CHECK(kernel);
	{
		char **v = NULL;

		/* No kernel line names 00:03.0: none is shown, not the last lines about others. */
		CHECK_INT(device_describe(ctx, NULL, "0000:00:03.0", &v), 0);
		CHECK_INT(strv_length(v), 1);
		STRV_FOREACH (l, v)
			CHECK(!strstr(*l, "kernel:"));
		strv_free(v);
		v = NULL;
		/* Those that name 00:02.0 are, and only they. */
		CHECK_INT(device_describe(ctx, NULL, "0000:00:02.0", &v), 0);
		CHECK_INT(strv_length(v), 2);
		CHECK(v && v[1] && strstr(v[1], "kernel: [    1.234567] e1000e 0000:00:02.0:"));
		strv_free(v);
	}
	CHECK_INT(passthru_takeover_get_repair_outcome(t), PASSTHRU_REPAIR_NOTHING);
	/* The writes went where the kernel takes them, in order, and the override came back. */
	CHECK_STR(takeover_get(root, "sys/bus/pci/drivers/e1000e/unbind"), "0000:00:02.0");
	CHECK_STR(takeover_get(root, "sys/bus/pci/drivers_probe"), "0000:00:02.0");
	CHECK_STR(takeover_get(root, override_path), "\n");
	CHECK(takeover_get(root, "run/passthru/journal") == NULL);
	CHECK(takeover_get(root, "run/passthru/held") == NULL);
	passthru_takeover_unref(t);
	fixture_put(root, override_path, "(null)\n");
}

static void test_repair(const char *root, struct passthru_ctx *ctx)
{
	struct passthru_takeover *t = NULL;
	const char *held;

	/* Nothing to repair. */
	CHECK_INT(passthru_takeover_new(ctx, PASSTHRU_TAKEOVER_REPAIR, 0, &t), 0);
	CHECK_INT(passthru_takeover_execute(t), 0);
	CHECK_INT(passthru_takeover_get_repair_outcome(t), PASSTHRU_REPAIR_NOTHING);
	CHECK_INT(passthru_takeover_get_count(t), 0);
	passthru_takeover_unref(t);

	/* Killed after the journal: every device is still at its origin; rolled back. */
	fixture_put(root, "run/passthru/journal",
		    "passthru-journal 1\nop bind\npid 99999\n"
		    "dev 0000:00:02.0 driver=e1000e override= target=vfio-pci "
		    "target-override=vfio-pci id=8086:10d3:8086:10d3\n");
	CHECK_INT(passthru_takeover_new(ctx, PASSTHRU_TAKEOVER_REPAIR, 0, &t), 0);
	CHECK_INT(passthru_takeover_execute(t), 0);
	CHECK_INT(passthru_takeover_get_repair_outcome(t), PASSTHRU_REPAIR_ROLLED_BACK);
	CHECK_INT(passthru_takeover_get_count(t), 1);
	CHECK_STR(passthru_takeover_get_address(t, 0), "0000:00:02.0");
	CHECK_STR(passthru_takeover_get_original(t, 0), "e1000e");
	CHECK_STR(passthru_takeover_get_result(t, 0), "e1000e");
	CHECK(takeover_get(root, "run/passthru/journal") == NULL);
	passthru_takeover_unref(t);

	/* Everything had made it (00:05.0 is on vfio-pci with the override): completed. */
	fixture_put(root, "run/passthru/journal",
		    "passthru-journal 1\nop bind\n"
		    "dev 0000:00:05.0 driver=igb override= target=vfio-pci "
		    "target-override=vfio-pci id=8086:1533:8086:1533\n");
	CHECK_INT(passthru_takeover_new(ctx, PASSTHRU_TAKEOVER_REPAIR, 0, &t), 0);
	CHECK_INT(passthru_takeover_execute(t), 0);
	CHECK_INT(passthru_takeover_get_repair_outcome(t), PASSTHRU_REPAIR_COMPLETED);
	CHECK(takeover_get(root, "run/passthru/journal") == NULL);
	held = takeover_get(root, "run/passthru/held");
	CHECK(held && strstr(held, "dev 0000:00:05.0 driver=igb override= id=8086:1533:8086:1533"));
	CHECK(strstr(takeover_get(root, "run/passthru/log") ?: "", "had completed") != NULL);
	passthru_takeover_unref(t);

	/* A bind repairs first, and says so. */
	fixture_put(root, "run/passthru/journal",
		    "passthru-journal 1\nop unbind\n"
		    "dev 0000:00:05.0 driver=vfio-pci override=vfio-pci target=igb "
		    "target-override=\n");
	CHECK_INT(passthru_takeover_new(ctx, PASSTHRU_TAKEOVER_BIND, 0, &t), 0);
	CHECK_INT(passthru_takeover_add_device(t, "00:05.0"), 0);
	CHECK_INT(passthru_takeover_execute(t), 0);
	CHECK_INT(passthru_takeover_get_repair_outcome(t), PASSTHRU_REPAIR_ROLLED_BACK);
	CHECK(has_note(t, 0, "already on vfio-pci"));
	passthru_takeover_unref(t);

	/* A damaged journal stops every change: nobody can tell what it did. */
	fixture_put(root, "run/passthru/journal", "passthru-journal 1\nop bind\ngarbage\n");
	CHECK_INT(passthru_takeover_new(ctx, PASSTHRU_TAKEOVER_BIND, 0, &t), 0);
	CHECK_INT(passthru_takeover_add_device(t, "00:02.0"), 0);
	CHECK_INT(passthru_takeover_execute(t), -EBADMSG);
	CHECK(passthru_takeover_get_error(t) &&
	      strstr(passthru_takeover_get_error(t), "/run/passthru/journal is damaged (line 3)"));
	passthru_takeover_unref(t);
	CHECK(takeover_get(root, "run/passthru/journal") != NULL);
	takeover_remove(root, "run/passthru/journal");
}

static long ms_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

/*
 * The helper keeps none of the caller's descriptors: with the write end of a pipe open in this
 * process when the helper is spawned, closing it here must give the read end its EOF at once.
 * A helper that had inherited it would hold it open as long as it lives.
 */
static void test_timed_writer_fds(struct passthru_ctx *ctx)
{
	struct timed_writer *w = NULL;
	struct pollfd pfd;
	int p[2];

	CHECK_INT(pipe2(p, O_CLOEXEC), 0);
	CHECK_INT(timed_writer_new(ctx, &w), 0);
	if (!w)
		return;
	CHECK_INT(timed_write(w, "/sys/bus/pci/drivers_probe", "0000:00:05.0", 1000), 0);
	close(p[1]);
	pfd = (struct pollfd){.fd = p[0], .events = POLLIN};
	CHECK_INT(poll(&pfd, 1, 2000), 1);
	CHECK(pfd.revents & POLLHUP);
	/* The helper still answers: it kept its socket and the root. */
	CHECK_INT(timed_write(w, "/sys/bus/pci/drivers_probe", "0000:00:07.0", 1000), 0);
	close(p[0]);
	timed_writer_free(w);
}

static void test_timed_writer(const char *root, struct passthru_ctx *ctx)
{
	struct timed_writer *w = NULL;
	struct timespec start;
	char fifo[4096];
	char *s = NULL;
	pid_t stuck;

	CHECK_INT(timed_writer_new(ctx, &w), 0);
	if (!w)
		return;
	CHECK_INT(timed_write(w, "/sys/bus/pci/drivers_probe", "0000:00:05.0", 1000), 0);
	CHECK_STR(takeover_get(root, "sys/bus/pci/drivers_probe"), "0000:00:05.0");
	CHECK_INT(timed_read(w, "/sys/bus/pci/devices/0000:00:05.0/driver_override", 1000, &s), 0);
	CHECK_STR(s, "vfio-pci");
	free(s);
	s = NULL;
	CHECK_INT(timed_write(w, "/sys/bus/pci/devices/0000:00:05.0/nonexistent", "1", 1000),
		  -ENOENT);
	CHECK_INT(timed_read(w, "/nonexistent", 1000, &s), -ENOENT);

	/* Several steps in one round trip: reads of any length go on past a failed read; the
	 * first failed write ends the list and is named. */
	{
		struct timed_step steps[] = {
		    {.op = 'r', .path = "/sys/bus/pci/devices/0000:00:05.0/driver_override"},
		    {.op = 'r', .path = "/nonexistent"},
		    {.op = 'r', .path = "/dev/kmsg"},
		    {.op = 'w', .path = "/sys/bus/pci/drivers_probe", .value = "0000:00:07.0"},
		    {.op = 'w', .path = "/sys/nonexistent", .value = "x"},
		    {.op = 'w', .path = "/sys/bus/pci/drivers_probe", .value = "never"},
		};
		size_t failed = 99;

		CHECK_INT(timed_steps(w, steps, ELEMENTSOF(steps), 1000, &failed), -ENOENT);
		CHECK_INT(failed, 4);
		CHECK_STR(steps[0].result, "vfio-pci");
		CHECK_INT(steps[1].err, -ENOENT);
		CHECK(steps[1].result == NULL);
		CHECK_STR(steps[2].result, "6,100,1234567,-;e1000e 0000:00:02.0: eth0: link up\n"
					   "6,101,2234567,-;something else");
		CHECK_INT(steps[3].err, 0);
		CHECK_INT(steps[4].err, -ENOENT);
		CHECK_STR(takeover_get(root, "sys/bus/pci/drivers_probe"), "0000:00:07.0");
		for (size_t i = 0; i < ELEMENTSOF(steps); i++)
			free(steps[i].result);
	}

	/* A FIFO without a reader blocks the helper in open(): abandoned after the timeout. */
	snprintf(fifo, sizeof(fifo), "%s/sys/blocker", root);
	CHECK_INT(mkfifo(fifo, 0600), 0);
	clock_gettime(CLOCK_MONOTONIC, &start);
	CHECK_INT(timed_write(w, "/sys/blocker", "x", 300), -ETIMEDOUT);
	CHECK(ms_since(&start) >= 290 && ms_since(&start) < 5000);
	stuck = timed_writer_stuck_pid(w);
	CHECK(stuck > 0);
	CHECK(kill(stuck, 0) == 0);
	/* The next write gets a new helper. */
	CHECK_INT(timed_write(w, "/sys/bus/pci/drivers_probe", "0000:00:02.0", 1000), 0);
	CHECK_STR(takeover_get(root, "sys/bus/pci/drivers_probe"), "0000:00:02.0");
	{
		/* Let the stuck one go: it finishes its write and exits on its own. */
		int fd = open(fifo, O_RDONLY);
		char c = 0;

		CHECK(fd >= 0);
		CHECK_INT(read(fd, &c, 1), 1);
		CHECK_INT(c, 'x');
		close(fd);
	}
	timed_writer_free(w);

	/* The state of a device, read through a helper and directly, agrees. */
	{
		struct device_state a = {0}, b = {0};

		CHECK_INT(timed_writer_new(ctx, &w), 0);
		CHECK_INT(device_state_read(ctx, w, 1000, "0000:00:05.0", &a), 0);
		CHECK_INT(device_state_read(ctx, NULL, 0, "0000:00:05.0", &b), 0);
		CHECK_STR(a.driver, "vfio-pci");
		CHECK_STR(a.override, b.override);
		CHECK_INT(device_state_read(ctx, w, 1000, "0000:00:1e.7", &a), -ENODEV);
		device_state_done(&a);
		device_state_done(&b);
		CHECK_INT(device_state_read(ctx, NULL, 0, "0000:00:02.0", &a), 0);
		CHECK(a.override == NULL);
		device_state_done(&a);
		timed_writer_free(w);
	}
}

static void test_users(struct passthru_ctx *ctx)
{
	char **users = NULL;

	CHECK_INT(vfio_group_users(ctx, 5, "0000:00:05.0", &users), 0);
	CHECK_INT(strv_length(users), 1);
	CHECK_STR(users ? users[0] : NULL, "/dev/vfio/5 is open by pid 4242 (qemu-system-x86)");
	strv_free(users);
	users = NULL;
	CHECK_INT(vfio_group_users(ctx, 6, NULL, &users), 0);
	CHECK(users == NULL);
}

/* A serial port or a USB device's node: the same scan, one line per process, exact paths. */
static void test_node_users(struct passthru_ctx *ctx)
{
	char **users = NULL;

	CHECK_INT(passthru_device_node_get_users(ctx, "/dev/ttyS1", &users), 0);
	CHECK_INT(strv_length(users), 1);
	CHECK_STR(users ? users[0] : NULL, "/dev/ttyS1 is open by pid 4244 (minicom)");
	users = passthru_strv_free(users);
	CHECK_INT(passthru_device_node_get_users(ctx, "/dev/bus/usb/001/004", &users), 0);
	CHECK_INT(strv_length(users), 1);
	CHECK_STR(users ? users[0] : NULL,
		  "/dev/bus/usb/001/004 is open by pid 4242 (qemu-system-x86)");
	users = passthru_strv_free(users);
	/* Nobody: an empty array, never NULL. */
	CHECK_INT(passthru_device_node_get_users(ctx, "/dev/ttyS2", &users), 0);
	CHECK(users && !users[0]);
	users = passthru_strv_free(users);
	/* The group's users are still only its /dev/vfio files. */
	CHECK_INT(passthru_vfio_group_get_users(ctx, 5, NULL, &users), 0);
	CHECK_INT(strv_length(users), 1);
	users = passthru_strv_free(users);
	for (size_t i = 0; i < 7; i++) {
		const char *bad = (const char *[]){
		    "ttyS1",	    "/dev/",	   "/dev//ttyS1", "/dev/../etc/passwd",
		    "/dev/./ttyS1", "/dev/ttyS1/", "/proc/1/fd/0"}[i];

		users = NULL;
		CHECK_INT(passthru_device_node_get_users(ctx, bad, &users), -EINVAL);
		CHECK(users == NULL);
	}
	CHECK_INT(passthru_device_node_get_users(ctx, NULL, &users), -EINVAL);
	CHECK_INT(passthru_device_node_get_users(NULL, "/dev/ttyS1", &users), -EINVAL);
}

/* A function in a 32-bit PCI domain (Intel VMD) binds like any other. */
static void test_domain32(void)
{
	char *root = takeover_root("domain32.json");
	struct passthru_ctx *ctx = fixture_ctx(root);
	struct passthru_takeover *t;
	int r;

	t = plan(ctx, PASSTHRU_TAKEOVER_BIND, 0, (const char *[]){"10000:00:04.0", NULL}, &r);
	CHECK_INT(r, 0);
	CHECK_INT(passthru_takeover_get_count(t), 1);
	CHECK_STR(passthru_takeover_get_address(t, 0), "10000:00:04.0");
	CHECK_INT(passthru_takeover_get_action(t, 0), PASSTHRU_ACTION_BIND);
	CHECK_STR(passthru_takeover_get_driver(t, 0), "nvme");
	/* The fixture's driver link never moves; the writes name the device as the kernel does. */
	CHECK_INT(passthru_takeover_execute(t), -EIO);
	CHECK(passthru_takeover_get_error(t) &&
	      strstr(passthru_takeover_get_error(t), "10000:00:04.0: vfio-pci did not take it"));
	CHECK_STR(takeover_get(root, "sys/bus/pci/drivers/nvme/unbind"), "10000:00:04.0");
	CHECK_STR(takeover_get(root, "sys/bus/pci/drivers_probe"), "10000:00:04.0");
	passthru_takeover_unref(t);
	passthru_ctx_unref(ctx);
	free(root);
}

struct waits {
	unsigned calls;
	char *holder;
};

static void on_wait(void *userdata, const char *holder)
{
	struct waits *w = userdata;

	w->calls++;
	free(w->holder);
	w->holder = holder ? strdup(holder) : NULL;
}

/*
 * Another passthru holds the lock: execution waits for it no longer than the timeout given,
 * and says who holds it, from /proc/locks and the holder's command line. The holder is a child
 * process (not this one: the library's helpers, forked, would inherit its lock); the fixture's
 * /proc says what the kernel would.
 */
static void test_lock(const char *root, struct passthru_ctx *ctx)
{
	struct passthru_takeover *t = NULL;
	const char argv[] = "/usr/bin/passthru\0bind\0"
			    "0000:01:00.0\0";
	char rel[64], path[4096], locks[512], expected[128];
	struct timespec start;
	struct waits waits = {0};
	struct stat st;
	int fd, r, ready[2];
	pid_t holder;
	char c;
	FILE *f;

	CHECK_INT(pipe(ready), 0);
	holder = fork();
	if (holder == 0) {
		fd = journal_lock(ctx, 100);
		if (fd < 0 || write(ready[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	CHECK(holder > 0 && read(ready[0], &c, 1) == 1);
	close(ready[0]);
	close(ready[1]);
	snprintf(path, sizeof(path), "%s/run/passthru/lock", root);
	CHECK_INT(stat(path, &st), 0);
	snprintf(locks, sizeof(locks),
		 "1: POSIX  ADVISORY  WRITE 77 %02x:%02x:%lu 0 EOF\n"
		 "2: FLOCK  ADVISORY  WRITE %d %02x:%02x:%lu 0 EOF\n"
		 "2: -> FLOCK  ADVISORY  WRITE 99 %02x:%02x:%lu 0 EOF\n",
		 major(st.st_dev), minor(st.st_dev), (unsigned long)st.st_ino + 1, (int)holder,
		 major(st.st_dev), minor(st.st_dev), (unsigned long)st.st_ino, major(st.st_dev),
		 minor(st.st_dev), (unsigned long)st.st_ino);
	fixture_put(root, "proc/locks", locks);
	snprintf(rel, sizeof(rel), "proc/%d/cmdline", (int)holder);
	fixture_put(root, rel, "");
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fwrite(argv, 1, sizeof(argv) - 1, f);
		fclose(f);
	}
	snprintf(expected, sizeof(expected), "pid %d (passthru bind 0000:01:00.0)", (int)holder);

	t = plan(ctx, PASSTHRU_TAKEOVER_BIND, 0, (const char *[]){"00:02.0", NULL}, &r);
	CHECK_INT(r, 0);
	passthru_takeover_set_timeout(t, 300);
	passthru_takeover_set_wait_fn(t, on_wait, &waits);
	clock_gettime(CLOCK_MONOTONIC, &start);
	CHECK_INT(passthru_takeover_execute(t), -EBUSY);
	CHECK(ms_since(&start) >= 290 && ms_since(&start) < 5000);
	CHECK(passthru_takeover_get_error(t) && strstr(passthru_takeover_get_error(t), expected));
	if (passthru_takeover_get_error(t))
		printf("# %s\n", passthru_takeover_get_error(t));
	/* Told once, before the wait, with the same holder. */
	CHECK_INT(waits.calls, 1);
	CHECK_STR(waits.holder, expected);
	free(waits.holder);
	waits = (struct waits){0};
	passthru_takeover_unref(t);

	/* An empty command line (a kernel thread, a zombie): the holder by its comm. */
	fixture_put(root, rel, "");
	snprintf(path, sizeof(path), "proc/%d/comm", (int)holder);
	fixture_put(root, path, "flock\n");
	snprintf(expected, sizeof(expected), "pid %d (flock) holds", (int)holder);
	t = plan(ctx, PASSTHRU_TAKEOVER_BIND, 0, (const char *[]){"00:02.0", NULL}, &r);
	passthru_takeover_set_timeout(t, 100);
	CHECK_INT(passthru_takeover_execute(t), -EBUSY);
	CHECK(passthru_takeover_get_error(t) && strstr(passthru_takeover_get_error(t), expected));
	passthru_takeover_unref(t);
	takeover_remove(root, path);

	/* Without a line in /proc/locks for it, the holder is not made up. */
	fixture_put(root, "proc/locks", "");
	t = plan(ctx, PASSTHRU_TAKEOVER_BIND, 0, (const char *[]){"00:02.0", NULL}, &r);
	passthru_takeover_set_timeout(t, 100);
	passthru_takeover_set_wait_fn(t, on_wait, &waits);
	CHECK_INT(passthru_takeover_execute(t), -EBUSY);
	CHECK(passthru_takeover_get_error(t) &&
	      strstr(passthru_takeover_get_error(t), "another process holds") &&
	      !strstr(passthru_takeover_get_error(t), "pid"));
	CHECK_INT(waits.calls, 1);
	CHECK(waits.holder == NULL);
	passthru_takeover_unref(t);

	/* Released: execution goes on, and nobody is told to wait. */
	kill(holder, SIGTERM);
	waitpid(holder, NULL, 0);
	t = plan(ctx, PASSTHRU_TAKEOVER_BIND, 0, (const char *[]){"00:02.0", NULL}, &r);
	passthru_takeover_set_wait_fn(t, on_wait, &waits);
	CHECK(passthru_takeover_execute(t) != -EBUSY);
	CHECK_INT(waits.calls, 1);
	passthru_takeover_unref(t);
	fixture_put(root, "sys/bus/pci/devices/0000:00:02.0/driver_override", "(null)\n");

	takeover_remove(root, "proc/locks");
	takeover_remove(root, rel);
	snprintf(rel, sizeof(rel), "proc/%d", (int)holder);
	takeover_remove(root, rel);
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	rmdir(path);
}

int main(void)
{
	char *root = takeover_root("host.json");
	struct passthru_ctx *ctx = fixture_ctx(root);

	test_plan_bind(ctx);
	test_plan_unbind(root, ctx);
	test_plan_reset(ctx);
	test_users(ctx);
	test_node_users(ctx);
	test_timed_writer(root, ctx);
	test_timed_writer_fds(ctx);
	test_execute(root, ctx);
	test_repair(root, ctx);
	test_lock(root, ctx);
	passthru_ctx_unref(ctx);
	free(root);
	test_domain32();
	TEST_DONE();
}
