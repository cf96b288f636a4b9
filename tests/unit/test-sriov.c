/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VF counts against a fixture host: plans (going through 0, refusals, forcing, nothing to do),
 * execution, where sriov_numvfs is a FIFO so that every write the library makes is seen in
 * order, the persisted store and its application at boot.
 *
 * In a fixture the kernel does not react: a write to sriov_numvfs makes or removes no VF. The
 * plans and the writes are what is tested here; the kernel's side is the vm suite's.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "vf-config.h"
#include "fixture.h"
#include "test.h"

/*
 * 03:00.0  X710-like PF (i40e), 4 of 8 VFs: none, vfio-pci (group 21, open by a "VM"), iavf
 *          (its default: the module index says so), none.
 * 04:00.0  the same with 2 VFs, the first on pci-stub (not its default driver).
 * 05:00.0  a PF without a driver.
 * 06:00.0  an NVMe-like PF (nvme), 0 of 64 VFs.
 * 07:00.0  an NVMe-like PF with 2 driverless VFs, for binding.
 * 08:00.0  no SR-IOV.
 * 0b:00.0  an NVMe-like PF with 1 VF (0b:10.0) that test_apply_order() hides, for a fake
 *          kernel to make when "1" is written to sriov_numvfs.
 */
static const char spec[] =
    "{\"iommu\": \"intel\", \"pci_drivers\": [\"vfio-pci\"],"
    " \"modules\": {\"iavf\": [\"pci:v00008086d0000154Csv*sd*bc*sc*i*\"],"
    "              \"i40e\": [\"pci:v00008086d00001572sv*sd*bc*sc*i*\"]},"
    " \"pci\": ["
    " {\"addr\": \"0000:03:00.0\", \"vendor\": \"8086\", \"device\": \"1572\","
    "  \"class\": \"020000\", \"driver\": \"i40e\", \"group\": 3,"
    "  \"sriov\": {\"total\": 8, \"num\": 4, \"vf_device\": \"154c\","
    "   \"vf_groups\": [20, 21, 22, 23],"
    "   \"vfs\": [{}, {\"driver\": \"vfio-pci\"}, {\"driver\": \"iavf\"}, {}]}},"
    " {\"addr\": \"0000:04:00.0\", \"vendor\": \"8086\", \"device\": \"1572\","
    "  \"class\": \"020000\", \"driver\": \"i40e\", \"group\": 4,"
    "  \"sriov\": {\"total\": 8, \"num\": 2, \"vf_device\": \"154c\","
    "   \"vfs\": [{\"driver\": \"pci-stub\"}]}},"
    " {\"addr\": \"0000:05:00.0\", \"vendor\": \"8086\", \"device\": \"1572\","
    "  \"class\": \"020000\", \"group\": 5, \"sriov\": {\"total\": 4, \"num\": 0}},"
    " {\"addr\": \"0000:06:00.0\", \"vendor\": \"1b36\", \"device\": \"0010\","
    "  \"class\": \"010802\", \"driver\": \"nvme\", \"group\": 6,"
    "  \"sriov\": {\"total\": 64, \"num\": 0}},"
    " {\"addr\": \"0000:07:00.0\", \"vendor\": \"1b36\", \"device\": \"0010\","
    "  \"class\": \"010802\", \"driver\": \"nvme\", \"group\": 7,"
    "  \"sriov\": {\"total\": 4, \"num\": 2, \"vf_groups\": [70, 71]}},"
    " {\"addr\": \"0000:08:00.0\", \"vendor\": \"8086\", \"device\": \"10d3\","
    "  \"class\": \"020000\", \"driver\": \"e1000e\", \"group\": 8},"
    " {\"addr\": \"0000:0b:00.0\", \"vendor\": \"1b36\", \"device\": \"0010\","
    "  \"class\": \"010802\", \"driver\": \"nvme\", \"group\": 11,"
    "  \"sriov\": {\"total\": 4, \"num\": 1, \"vf_groups\": [110]}}],"
    " \"files\": {\"proc/812/comm\": \"qemu-system-x86\\n\","
    "            \"sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts\": \"N\\n\"},"
    " \"links\": {\"proc/812/fd/17\": \"/dev/vfio/21\", \"proc/812/fd/3\": \"/dev/null\"}}";

static char root[4200];

static void build_root(void)
{
	char spec_path[4200], *cmd = NULL;
	FILE *f;

	snprintf(spec_path, sizeof(spec_path), "%s/spec.json", fixture_tmpdir());
	f = fopen(spec_path, "w");
	if (!f || fputs(spec, f) < 0 || fclose(f) != 0) {
		perror(spec_path);
		exit(1);
	}
	snprintf(root, sizeof(root), "%s/root", fixture_tmpdir());
	if (asprintf(&cmd, "'%s' '%s/pci/build-root.py' '%s' '%s'", fixture_env("PYTHON"),
		     fixture_env("FIXTURES"), spec_path, root) < 0)
		exit(1);
	fixture_run(cmd);
	free(cmd);
}

static char *path_of(const char *rel)
{
	static char path[8192];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return path;
}

static char *read_text(const char *rel)
{
	return fixture_get(root, rel);
}

static void write_text(const char *rel, const char *text)
{
	FILE *f = fopen(path_of(rel), "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(rel);
		exit(1);
	}
}

static const char *joined(const char *const *v)
{
	static char buf[8192];
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; v && v[i]; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? "|" : "", v[i]);
	return buf;
}

static struct passthru_ctx *ctx;

static struct passthru_sriov *sriov(const char *pf, unsigned flags)
{
	struct passthru_sriov *s = NULL;
	int r = passthru_sriov_new(ctx, pf, flags, &s);

	if (r < 0) {
		fprintf(stderr, "passthru_sriov_new(%s): %s\n", pf, strerror(-r));
		exit(1);
	}
	return s;
}

static void test_new(void)
{
	struct passthru_sriov *s = NULL;
	unsigned u = 0;
	bool b = false;

	CHECK_INT(passthru_sriov_new(ctx, "0000:08:00.0", 0, &s), -EOPNOTSUPP);
	CHECK_INT(passthru_sriov_new(ctx, "0000:03:10.0", 0, &s), -EOPNOTSUPP);
	CHECK_INT(passthru_sriov_new(ctx, "0000:09:00.0", 0, &s), -ENODEV);
	CHECK_INT(passthru_sriov_new(ctx, "3:0.0", 0, &s), -EINVAL);
	CHECK(s == NULL);

	s = sriov("03:00.0", 0);
	CHECK_STR(passthru_sriov_get_pf(s), "0000:03:00.0");
	CHECK_INT(passthru_sriov_get_totalvfs(s, &u), 0);
	CHECK_INT(u, 8);
	CHECK_INT(passthru_sriov_get_numvfs(s, &u), 0);
	CHECK_INT(u, 4);
	CHECK_INT(passthru_sriov_get_autoprobe(s, &b), 0);
	CHECK(b);
	CHECK_INT(passthru_sriov_get_target(s, &u), -ENODATA);
	CHECK_INT(passthru_sriov_set_numvfs(s, 9), -ERANGE);
	CHECK_INT(passthru_sriov_set_numvfs(s, 8), 0);
	CHECK_INT(passthru_sriov_set_autoprobe(s, 2), -EINVAL);
	passthru_sriov_unref(s);
}

static void test_refusals(void)
{
	struct passthru_sriov *s;

	/* 4 -> 2 goes through 0: every VF goes, and the one a VM holds refuses it. */
	s = sriov("0000:03:00.0", PASSTHRU_SRIOV_FORCE);
	CHECK_INT(passthru_sriov_set_numvfs(s, 2), 0);
	CHECK_INT(passthru_sriov_plan(s), -EPERM);
	CHECK_STR(joined(passthru_sriov_get_removed(s)),
		  "0000:03:10.0|0000:03:10.2|0000:03:10.4|0000:03:10.6");
	CHECK_INT(passthru_sriov_get_refusal_count(s), 1);
	CHECK_INT(passthru_sriov_get_refusal_kind(s, 0), PASSTHRU_SRIOV_REFUSAL_IN_USE);
	CHECK_INT(passthru_plan_report_get_refusal_kind(passthru_sriov_get_report(s), 0),
		  PASSTHRU_REFUSAL_IN_USE);
	CHECK_STR(passthru_plan_report_get_refusal_address(passthru_sriov_get_report(s), 0),
		  "0000:03:10.2");
	CHECK_STR(passthru_sriov_get_refusal_address(s, 0), "0000:03:10.2");
	CHECK_STR(passthru_sriov_get_refusal_reason(s, 0),
		  "/dev/vfio/21 is open by pid 812 (qemu-system-x86)");
	CHECK(passthru_sriov_get_refusal_reason(s, 1) == NULL);
	/* Execution plans again and is refused the same way; nothing is written. */
	CHECK_INT(passthru_sriov_execute(s), -EPERM);
	CHECK_STR(passthru_sriov_get_error(s), "0000:03:00.0: refused: 0000:03:10.2: /dev/vfio/21 "
					       "is open by pid 812 (qemu-system-x86)");
	CHECK_STR(passthru_plan_report_get_error(passthru_sriov_get_report(s)),
		  passthru_sriov_get_error(s));
	passthru_sriov_unref(s);
	{
		char *n = read_text("sys/bus/pci/devices/0000:03:00.0/sriov_numvfs");

		CHECK_STR(n, "4\n");
		free(n);
	}

	/* The VM is gone: the VF on iavf has its default driver, so nothing refuses. */
	CHECK(unlink(path_of("proc/812/fd/17")) == 0);
	s = sriov("0000:03:00.0", 0);
	CHECK_INT(passthru_sriov_set_numvfs(s, 2), 0);
	CHECK_INT(passthru_sriov_plan(s), 0);
	CHECK_STR(joined(passthru_sriov_get_steps(s)),
		  "write 0 to /sys/bus/pci/devices/0000:03:00.0/sriov_numvfs (removes 4 VFs)|"
		  "write 2 to /sys/bus/pci/devices/0000:03:00.0/sriov_numvfs (makes 2 VFs)");
	CHECK_STR(joined(passthru_sriov_get_notes(s)), "");
	passthru_sriov_unref(s);

	/* A VF on another driver than its own is refused unless forced. */
	s = sriov("0000:04:00.0", 0);
	CHECK_INT(passthru_sriov_set_numvfs(s, 0), 0);
	CHECK_INT(passthru_sriov_plan(s), -EPERM);
	CHECK_INT(passthru_sriov_get_refusal_count(s), 1);
	CHECK_INT(passthru_sriov_get_refusal_kind(s, 0), PASSTHRU_SRIOV_REFUSAL_DRIVER);
	CHECK_INT(passthru_plan_report_get_refusal_kind(passthru_sriov_get_report(s), 0),
		  PASSTHRU_REFUSAL_DRIVER);
	CHECK_STR(passthru_sriov_get_refusal_address(s, 0), "0000:04:10.0");
	CHECK_STR(passthru_sriov_get_refusal_reason(s, 0),
		  "it is on pci-stub, not on its default driver or vfio-pci");
	CHECK_STR(joined(passthru_sriov_get_steps(s)),
		  "write 0 to /sys/bus/pci/devices/0000:04:00.0/sriov_numvfs (removes 2 VFs)");
	passthru_sriov_unref(s);
	s = sriov("0000:04:00.0", PASSTHRU_SRIOV_FORCE);
	CHECK_INT(passthru_sriov_set_numvfs(s, 0), 0);
	CHECK_INT(passthru_sriov_plan(s), 0);
	CHECK_INT(passthru_sriov_get_refusal_count(s), 0);
	CHECK_STR(joined(passthru_sriov_get_notes(s)),
		  "forced: 0000:04:10.0: it is on pci-stub, not on its default driver or vfio-pci");
	CHECK_INT(passthru_plan_report_get_note_count(passthru_sriov_get_report(s)), 1);
	CHECK_STR(passthru_plan_report_get_note_address(passthru_sriov_get_report(s), 0),
		  "0000:04:10.0");
	passthru_sriov_unref(s);
	{
		char *log = read_text("run/passthru/log");

		CHECK(log &&
		      strstr(log, "0000:04:00.0: removing VF 0000:04:10.0 although it is on "
				  "pci-stub, not on its default driver or vfio-pci (forced)"));
		free(log);
	}

	/* The kernel makes VFs through the PF's driver. */
	s = sriov("0000:05:00.0", PASSTHRU_SRIOV_FORCE);
	CHECK_INT(passthru_sriov_set_numvfs(s, 2), 0);
	CHECK_INT(passthru_sriov_plan(s), -EPERM);
	CHECK_INT(passthru_sriov_get_refusal_kind(s, 0), PASSTHRU_SRIOV_REFUSAL_NO_DRIVER);
	CHECK(passthru_sriov_get_refusal_kind(s, 1) == (enum passthru_sriov_refusal_kind) - EINVAL);
	CHECK_STR(passthru_sriov_get_refusal_address(s, 0), "0000:05:00.0");
	passthru_sriov_unref(s);

	/* vfio-pci and autoprobe on contradict each other. */
	s = sriov("0000:06:00.0", PASSTHRU_SRIOV_BIND_VFIO);
	CHECK_INT(passthru_sriov_set_autoprobe(s, 1), 0);
	CHECK_INT(passthru_sriov_plan(s), -EINVAL);
	passthru_sriov_unref(s);
}

/*
 * Replaces a PF's sriov_numvfs with a FIFO and reads every write made to it in a child, which
 * also notes sriov_drivers_autoprobe as it is when each write arrives. Returns the pipe the
 * child reports on, one line per write: "numvfs=N autoprobe=A".
 */
static int watch_numvfs(const char *pf, pid_t *ret_pid)
{
	char fifo[8192], autoprobe[8192];
	int p[2];
	pid_t pid;

	snprintf(fifo, sizeof(fifo), "%s/sys/bus/pci/devices/%s/sriov_numvfs", root, pf);
	snprintf(autoprobe, sizeof(autoprobe), "%s/sys/bus/pci/devices/%s/sriov_drivers_autoprobe",
		 root, pf);
	if (unlink(fifo) < 0 || mkfifo(fifo, 0644) < 0 || pipe(p) < 0) {
		perror(fifo);
		exit(1);
	}
	pid = fork();
	if (pid < 0)
		exit(1);
	if (pid == 0) {
		close(p[0]);
		for (;;) {
			char value[64] = "", ap[64] = "", line[160];
			int fd = open(fifo, O_RDONLY);
			ssize_t n, k = 0;
			FILE *f;

			if (fd < 0)
				_exit(1);
			while ((n = read(fd, value + k, sizeof(value) - 1 - (size_t)k)) > 0)
				k += n;
			value[k] = '\0';
			close(fd);
			f = fopen(autoprobe, "r");
			if (f) {
				if (!fgets(ap, sizeof(ap), f))
					ap[0] = '\0';
				fclose(f);
			}
			ap[strcspn(ap, "\n")] = '\0';
			snprintf(line, sizeof(line), "numvfs=%s autoprobe=%s\n", value, ap);
			if (write(p[1], line, strlen(line)) < 0)
				_exit(1);
		}
	}
	close(p[1]);
	*ret_pid = pid;
	return p[0];
}

/* Collects count lines from the watcher (waiting at most 5 s), then stops it. */
static char *watched(int fd, pid_t pid, int count)
{
	static char buf[4096];
	size_t n = 0;
	int lines = 0;

	buf[0] = '\0';
	while (lines < count) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t k;

		if (poll(&pfd, 1, 5000) <= 0)
			break;
		k = read(fd, buf + n, sizeof(buf) - 1 - n);
		if (k <= 0)
			break;
		for (ssize_t i = 0; i < k; i++)
			lines += buf[n + (size_t)i] == '\n';
		n += (size_t)k;
		buf[n] = '\0';
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(fd);
	return buf;
}

struct progress_log {
	char text[4096];
	size_t len;
};

static void on_progress(void *userdata, unsigned current, unsigned target)
{
	struct progress_log *log = userdata;
	char item[64];
	int n = snprintf(item, sizeof(item), "%u/%u ", current, target);

	if (log->len + (size_t)n < sizeof(log->text)) {
		memcpy(log->text + log->len, item, (size_t)n + 1);
		log->len += (size_t)n;
	}
}

static void test_execute(void)
{
	struct progress_log progress = {.len = 0};
	struct passthru_sriov *s;
	unsigned now = 0;
	pid_t pid;
	int fd;

	/* 4 -> 2 with autoprobe off: "0" first, autoprobe next, then "2". */
	fd = watch_numvfs("0000:03:00.0", &pid);
	s = sriov("0000:03:00.0", 0);
	CHECK_INT(passthru_sriov_set_numvfs(s, 2), 0);
	CHECK_INT(passthru_sriov_set_autoprobe(s, 0), 0);
	passthru_sriov_set_progress_fn(s, on_progress, &progress);
	CHECK_INT(passthru_sriov_plan(s), 0);
	CHECK_STR(joined(passthru_sriov_get_steps(s)),
		  "write 0 to /sys/bus/pci/devices/0000:03:00.0/sriov_numvfs (removes 4 VFs)|"
		  "write 0 to /sys/bus/pci/devices/0000:03:00.0/sriov_drivers_autoprobe|"
		  "write 2 to /sys/bus/pci/devices/0000:03:00.0/sriov_numvfs (makes 2 VFs)");
	/*
	 * The fixture's kernel makes no VF: its 4 links stay. The writes succeeded, but the PF
	 * does not have the 2 VFs asked for, and that is what execution says.
	 */
	CHECK_INT(passthru_sriov_execute(s), -EIO);
	CHECK_STR(passthru_sriov_get_error(s), "0000:03:00.0: asked for 2 VFs, but it has 4 now "
					       "(its driver may enable fewer than asked)");
	CHECK_INT(passthru_sriov_get_numvfs(s, &now), 0);
	CHECK_INT(now, 4);
	CHECK(passthru_sriov_get_takeover(s) == NULL);
	{
		/*
		 * Two writes reach the FIFO back to back; when the watcher is slow (a loaded
		 * machine) it reads both before the writer's close, as one value "02". The
		 * watcher reads autoprobe after the "0" has arrived, by when the writer may
		 * already have turned it off: the state seen with "0" is either. The values
		 * in order and the autoprobe state when "2" was seen are what count; the
		 * order of the steps is asserted above.
		 */
		const char *w = watched(fd, pid, 2);

		bool seen_in_order =
		    strcmp(w, "numvfs=0 autoprobe=1\nnumvfs=2 autoprobe=0\n") == 0 ||
		    strcmp(w, "numvfs=0 autoprobe=0\nnumvfs=2 autoprobe=0\n") == 0 ||
		    strcmp(w, "numvfs=02 autoprobe=0\n") == 0;

		if (!seen_in_order)
			fprintf(stderr, "watched:\n%s", w);
		CHECK(seen_in_order);
	}
	/* Its links stay, and so does the count seen. */
	CHECK_STR(progress.text, "4/0 4/2 ");
	passthru_sriov_unref(s);

	/* 0 -> 64 with vfio-pci: autoprobe off before, never "0" first. */
	fd = watch_numvfs("0000:06:00.0", &pid);
	s = sriov("0000:06:00.0", PASSTHRU_SRIOV_BIND_VFIO);
	CHECK_INT(passthru_sriov_set_numvfs(s, 64), 0);
	CHECK_INT(passthru_sriov_plan(s), 0);
	CHECK_STR(joined(passthru_sriov_get_removed(s)), "");
	CHECK_STR(joined(passthru_sriov_get_steps(s)),
		  "write 0 to /sys/bus/pci/devices/0000:06:00.0/sriov_drivers_autoprobe|"
		  "write 64 to /sys/bus/pci/devices/0000:06:00.0/sriov_numvfs (makes 64 VFs)|"
		  "bind the new VFs to vfio-pci");
	/* No VF appeared (a driver that enables none): a failure, and nothing bound. */
	CHECK_INT(passthru_sriov_execute(s), -EIO);
	CHECK_STR(watched(fd, pid, 1), "numvfs=64 autoprobe=0\n");
	CHECK_STR(passthru_sriov_get_error(s), "0000:06:00.0: asked for 64 VFs, but it has 0 now "
					       "(its driver may enable fewer than asked)");
	CHECK_STR(joined(passthru_sriov_get_vfs(s)), "");
	CHECK(passthru_sriov_get_takeover(s) == NULL);
	passthru_sriov_unref(s);

	/* The count it already has: nothing is written (a write would block on the FIFO). */
	fd = watch_numvfs("0000:03:00.0", &pid);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(fd);
	s = sriov("0000:03:00.0", 0);
	passthru_sriov_set_timeout(s, 500);
	CHECK_INT(passthru_sriov_set_numvfs(s, 4), 0);
	CHECK_INT(passthru_sriov_plan(s), 0);
	CHECK_STR(joined(passthru_sriov_get_steps(s)), "");
	CHECK_STR(joined(passthru_sriov_get_notes(s)), "it already has 4 VFs");
	CHECK_INT(passthru_sriov_execute(s), 0);
	CHECK_STR(joined(passthru_sriov_get_vfs(s)),
		  "0000:03:10.0|0000:03:10.2|0000:03:10.4|0000:03:10.6");
	passthru_sriov_unref(s);

	/* A write nobody takes is abandoned after the timeout, and said so. */
	s = sriov("0000:03:00.0", 0);
	passthru_sriov_set_timeout(s, 300);
	CHECK_INT(passthru_sriov_set_numvfs(s, 0), 0);
	CHECK_INT(passthru_sriov_execute(s), -ETIMEDOUT);
	CHECK(passthru_sriov_get_error(s) &&
	      strstr(passthru_sriov_get_error(s),
		     "0000:03:00.0: writing 0 to sriov_numvfs did not return within 300 ms"));
	passthru_sriov_unref(s);
	/* Let the abandoned helper go: open the FIFO once for reading. */
	{
		int r = open(path_of("sys/bus/pci/devices/0000:03:00.0/sriov_numvfs"),
			     O_RDONLY | O_NONBLOCK);

		if (r >= 0)
			close(r);
	}
}

/* The current VFs to vfio-pci: the takeover runs (and, without a kernel, cannot finish). */
static void test_bind_current(void)
{
	struct passthru_sriov *s = sriov("0000:07:00.0", PASSTHRU_SRIOV_BIND_VFIO);
	int r;

	passthru_sriov_set_timeout(s, 2000);
	CHECK_INT(passthru_sriov_plan(s), 0);
	CHECK_STR(joined(passthru_sriov_get_steps(s)), "bind the current VFs to vfio-pci");
	r = passthru_sriov_execute(s);
	CHECK(passthru_sriov_get_takeover(s) != NULL);
	if (r < 0) {
		CHECK(passthru_sriov_get_error(s) &&
		      strncmp(passthru_sriov_get_error(s),
			      "0000:07:00.0: binding the VFs failed: ", 38) == 0);
		fprintf(stderr, "binding in a fixture: %s\n", passthru_sriov_get_error(s));
	}
	/* The takeover wrote the override where the kernel takes it, for each VF. */
	{
		char *o = read_text("sys/bus/pci/drivers_probe");

		CHECK(o && (strcmp(o, "0000:07:10.0") == 0 || strcmp(o, "0000:07:10.2") == 0));
		free(o);
	}
	passthru_sriov_unref(s);
}

static void test_config_parse(void)
{
	static const char good[] = "# comment\n"
				   "device 8086:1572:8086:0000\n"
				   "\n"
				   "vfs 4 autoprobe=off vfio  # trailing comment\n"
				   "vf 3 trust=on\n"
				   "vf 0 mac=02:11:22:33:44:55 vlan=10 qos=3 spoofchk=off "
				   "max-tx-rate=10G\n"
				   "vf 1 vlan=20 proto=802.1AD\n";
	static const char *const bad[] = {
	    "vfs 4\n",							   /* no device line */
	    "device 8086:1572:8086\n",					   /* short id */
	    "device 8086:1572:8086:0000\ndevice 8086:1572:8086:0000\n",	   /* twice */
	    "device 8086:1572:8086:0000\nvfs 4\nvfs 2\n",		   /* twice */
	    "device 8086:1572:8086:0000\nvfs -1\n",			   /* sign */
	    "device 8086:1572:8086:0000\nvfs 4 autoprobe=on vfio\n",	   /* contradiction */
	    "device 8086:1572:8086:0000\nvfs 4 autoprobe=maybe\n",	   /* value */
	    "device 8086:1572:8086:0000\nvf 0\n",			   /* no setting */
	    "device 8086:1572:8086:0000\nvf 0 qos=3\n",			   /* qos without vlan */
	    "device 8086:1572:8086:0000\nvf 0 mac=ff:ff:ff:ff:ff:ff\n",	   /* multicast */
	    "device 8086:1572:8086:0000\nvf 0 trust=on\nvf 0 trust=off\n", /* VF twice */
	    "device 8086:1572:8086:0000\nvf 0 trust=on trust=off\n",	   /* key twice */
	    "device 8086:1572:8086:0000\nvf 0 colour=blue\n",		   /* unknown key */
	    "device 8086:1572:8086:0000\nvfs 4 x x x x x x x x x x x x x x x x x\n",
	    "device 8086:1572:8086:0000\nbogus\n",
	};
	static const unsigned bad_lines[] = {0, 1, 2, 3, 2, 2, 2, 2, 2, 2, 3, 2, 2, 2, 2};
	struct vf_config *c = NULL;
	char *text = NULL;
	unsigned line = 99;

	CHECK_INT(vf_config_parse(good, strlen(good), &c, &line), 0);
	if (c) {
		CHECK_STR(c->id, "8086:1572:8086:0000");
		CHECK(c->has_numvfs);
		CHECK_INT(c->numvfs, 4);
		CHECK_INT(c->autoprobe, 0);
		CHECK(c->bind_vfio);
		CHECK_INT(c->n_vfs, 3);
		CHECK_INT(c->vfs[0].index, 0);
		CHECK_INT(c->vfs[0].settings.max_tx_rate, 10000);
		CHECK_INT(c->vfs[2].index, 3);
		snprintf(c->address, sizeof(c->address), "0000:03:00.0");
		CHECK_INT(vf_config_format(c, &text), 0);
		CHECK_STR(text, "# SR-IOV settings of 0000:03:00.0, applied by 'passthru apply'.\n"
				"# Written by passthru sriov/vf --persist; comments are not kept.\n"
				"device 8086:1572:8086:0000\n"
				"vfs 4 autoprobe=off vfio\n"
				"vf 0 mac=02:11:22:33:44:55 vlan=10 qos=3 spoofchk=off "
				"max-tx-rate=10000\n"
				"vf 1 vlan=20 proto=802.1ad\n"
				"vf 3 trust=on\n");
		/* What is written reads back the same. */
		{
			struct vf_config *again = NULL;
			char *text2 = NULL;

			CHECK_INT(vf_config_parse(text, strlen(text), &again, NULL), 0);
			if (again) {
				snprintf(again->address, sizeof(again->address), "0000:03:00.0");
				CHECK_INT(vf_config_format(again, &text2), 0);
				CHECK_STR(text2, text);
			}
			free(text2);
			vf_config_free(again);
		}
		free(text);
		vf_config_free(c);
	}
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		c = NULL;
		line = 99;
		CHECK_INT(vf_config_parse(bad[i], strlen(bad[i]), &c, &line), -EBADMSG);
		if (line != bad_lines[i])
			fprintf(stderr, "bad[%zu]: line %u, expected %u\n", i, line, bad_lines[i]);
		CHECK_INT(line, bad_lines[i]);
		CHECK(c == NULL);
	}
	CHECK_INT(vf_config_parse("device 8086:1572:8086:0000\n\0", 28, &c, &line), -EBADMSG);
}

struct reports {
	char text[8192];
	size_t len;
};

static void on_report(void *userdata, const char *pf, int error, const char *message)
{
	struct reports *r = userdata;
	int n =
	    snprintf(r->text + r->len, sizeof(r->text) - r->len, "%s %d %s\n", pf, error, message);

	if (n > 0 && r->len + (size_t)n < sizeof(r->text))
		r->len += (size_t)n;
}

static void test_persist(void)
{
	struct passthru_sriov *s;
	struct reports rep = {.len = 0};
	char *text;

	/* Saving the count keeps VF lines saved before; the plan's count is what is saved. */
	mkdir(path_of("etc"), 0755);
	mkdir(path_of("etc/passthru"), 0755);
	mkdir(path_of("etc/passthru/vf.d"), 0755);
	write_text("etc/passthru/vf.d/0000:07:00.0.conf",
		   "device 1b36:0010:1b36:0010\nvfs 1\nvf 0 trust=on\n");
	s = sriov("0000:07:00.0", PASSTHRU_SRIOV_BIND_VFIO);
	CHECK_INT(passthru_sriov_set_numvfs(s, 3), 0);
	CHECK_INT(passthru_sriov_set_autoprobe(s, 0), 0);
	CHECK_INT(passthru_sriov_plan(s), 0);
	CHECK_INT(passthru_sriov_save(s), 0);
	passthru_sriov_unref(s);
	text = read_text("etc/passthru/vf.d/0000:07:00.0.conf");
	CHECK(text && strstr(text, "\ndevice 1b36:0010:1b36:0010\nvfs 3 autoprobe=off vfio\n"
				   "vf 0 trust=on\n"));
	free(text);

	/* A file left by another device at the address is replaced. */
	write_text("etc/passthru/vf.d/0000:06:00.0.conf", "device 8086:1572:8086:0000\nvf 5 "
							  "trust=on\n");
	s = sriov("0000:06:00.0", 0);
	CHECK_INT(passthru_sriov_set_numvfs(s, 0), 0);
	CHECK_INT(passthru_sriov_save(s), 0);
	passthru_sriov_unref(s);
	text = read_text("etc/passthru/vf.d/0000:06:00.0.conf");
	CHECK(text && strstr(text, "\ndevice 1b36:0010:1b36:0010\nvfs 0\n") &&
	      !strstr(text, "vf 5"));
	free(text);

	/* Boot: a dry run says what would happen to each PF, in address order. */
	write_text("etc/passthru/vf.d/0000:04:00.0.conf",
		   "device 8086:1572:8086:1572\nvfs 2\nvf 1 mac=02:00:00:00:00:01\n");
	write_text("etc/passthru/vf.d/0000:05:00.0.conf", "device 8086:1572:8086:1572\nvfs 9\n");
	write_text("etc/passthru/vf.d/0000:08:00.0.conf", "device 8086:10d3:8086:0000\nvfs 1\n");
	write_text("etc/passthru/vf.d/0000:09:00.0.conf", "device 8086:10d3:8086:10d3\nvfs 1\n");
	write_text("etc/passthru/vf.d/0000:0a:00.0.conf", "vfs 1\n");
	write_text("etc/passthru/vf.d/notes.txt", "not ours\n");
	write_text("etc/passthru/vf.d/3:0.0.conf", "not canonical\n");
	CHECK_INT(
	    passthru_sriov_apply_persisted(ctx, PASSTHRU_SRIOV_APPLY_DRY_RUN, on_report, &rep),
	    -ERANGE);
	CHECK_STR(
	    rep.text,
	    "0000:04:00.0 0 2 VFs, nothing to do\n"
	    "0000:04:00.0 0 would set VF 1: mac 02:00:00:00:00:01\n"
	    "0000:05:00.0 -34 9 VFs saved, but it offers at most 4\n"
	    "0000:06:00.0 0 0 VFs, nothing to do\n"
	    "0000:07:00.0 0 would write 0 to /sys/bus/pci/devices/0000:07:00.0/sriov_numvfs "
	    "(removes 2 VFs)\n"
	    "0000:07:00.0 0 would write 0 to "
	    "/sys/bus/pci/devices/0000:07:00.0/sriov_drivers_autoprobe\n"
	    "0000:07:00.0 0 would write 3 to /sys/bus/pci/devices/0000:07:00.0/sriov_numvfs "
	    "(makes 3 VFs)\n"
	    "0000:07:00.0 0 would bind the new VFs to vfio-pci\n"
	    "0000:07:00.0 0 would set VF 0: trust on\n"
	    "0000:08:00.0 -116 saved for 8086:10d3 (subsystem 8086:0000), but the address now "
	    "holds 8086:10d3 (subsystem 8086:10d3): not applied\n"
	    "0000:09:00.0 -19 saved for 8086:10d3 (subsystem 8086:10d3), but there is no "
	    "device at this address now: not applied\n"
	    "0000:0a:00.0 -74 /etc/passthru/vf.d/0000:0a:00.0.conf: no device line\n");

	/* For real: VF settings need the running kernel, which a fixture is not. */
	rep.len = 0;
	rep.text[0] = '\0';
	CHECK(unlink(path_of("etc/passthru/vf.d/0000:05:00.0.conf")) == 0);
	CHECK(unlink(path_of("etc/passthru/vf.d/0000:07:00.0.conf")) == 0);
	CHECK(unlink(path_of("etc/passthru/vf.d/0000:08:00.0.conf")) == 0);
	CHECK(unlink(path_of("etc/passthru/vf.d/0000:09:00.0.conf")) == 0);
	CHECK(unlink(path_of("etc/passthru/vf.d/0000:0a:00.0.conf")) == 0);
	CHECK_INT(passthru_sriov_apply_persisted(ctx, 0, on_report, &rep), -ENOLINK);
	CHECK_STR(rep.text, "0000:04:00.0 0 2 VFs (already there)\n"
			    "0000:04:00.0 -67 VF 1: the PF has no network interface\n"
			    "0000:06:00.0 0 0 VFs (already there)\n");

	/* No directory: nothing to do. */
	{
		char cmd[8300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path_of("etc/passthru/vf.d"));
		CHECK(system(cmd) == 0);
	}
	CHECK_INT(passthru_sriov_apply_persisted(ctx, 0, on_report, &rep), 0);
}

static void on_binding_refused(void *userdata, struct passthru_persist *p, size_t index, int error)
{
	struct reports *r = userdata;
	int n = snprintf(r->text + r->len, sizeof(r->text) - r->len, "binding %s %d\n",
			 passthru_persist_get_address(p, index), error);

	if (n > 0 && r->len + (size_t)n < sizeof(r->text))
		r->len += (size_t)n;
}

/* Everything persisted, in the order boot needs: the VFs of vf.d before the bindings. */
static void test_apply_persisted(void)
{
	const struct passthru_apply_ops ops = {
	    .sriov = on_report,
	    .binding_refused = on_binding_refused,
	};
	struct reports rep = {.len = 0};

	mkdir(path_of("etc/passthru/vf.d"), 0755);
	write_text("etc/passthru/vf.d/0000:06:00.0.conf", "device 1b36:0010:1b36:0010\nvfs 0\n");
	write_text("etc/passthru/bindings.conf", "0000:06:10.0 1b36:0010 1b36:0010\n"
						 "0000:08:00.0 8086:10d3 8086:beef\n");
	CHECK_INT(passthru_apply_persisted(ctx, PASSTHRU_APPLY_DRY_RUN, 0, &ops, &rep), -ENODEV);
	CHECK_STR(rep.text, "0000:06:00.0 0 0 VFs, nothing to do\n"
			    "binding 0000:06:10.0 -19\n"
			    "binding 0000:08:00.0 -116\n");

	/*
	 * A dry run makes no VF: a binding of a VF that the count it plans would make is a note
	 * (at the address sriov_offset and sriov_stride give), not a failure; one of a VF past
	 * the count is still refused as absent.
	 */
	write_text("etc/passthru/vf.d/0000:06:00.0.conf", "device 1b36:0010:1b36:0010\nvfs 2\n");
	write_text("etc/passthru/bindings.conf", "0000:06:10.0 1b36:0010 1b36:0010\n"
						 "0000:06:10.2 1b36:0010 1b36:0010\n");
	rep.len = 0;
	rep.text[0] = '\0';
	CHECK_INT(passthru_apply_persisted(ctx, PASSTHRU_APPLY_DRY_RUN, 0, &ops, &rep), 0);
	CHECK_STR(rep.text,
		  "0000:06:00.0 0 would write 2 to /sys/bus/pci/devices/0000:06:00.0/sriov_numvfs "
		  "(makes 2 VFs)\n"
		  "0000:06:00.0 0 VF 0 would appear at 0000:06:10.0 once the VF count is applied; "
		  "its binding of bindings.conf is planned then, not in a dry run\n"
		  "0000:06:00.0 0 VF 1 would appear at 0000:06:10.2 once the VF count is applied; "
		  "its binding of bindings.conf is planned then, not in a dry run\n");
	write_text("etc/passthru/bindings.conf", "0000:06:10.2 1b36:0010 1b36:0010\n"
						 "0000:06:10.4 1b36:0010 1b36:0010\n");
	rep.len = 0;
	rep.text[0] = '\0';
	CHECK_INT(passthru_apply_persisted(ctx, PASSTHRU_APPLY_DRY_RUN, 0, &ops, &rep), -ENODEV);
	CHECK(strstr(rep.text, "0000:06:00.0 0 VF 1 would appear at 0000:06:10.2 ") != NULL);
	CHECK(strstr(rep.text, "\nbinding 0000:06:10.4 -19\n") != NULL);

	CHECK(unlink(path_of("etc/passthru/bindings.conf")) == 0);
	CHECK(unlink(path_of("etc/passthru/vf.d/0000:06:00.0.conf")) == 0);
	/* Nothing persisted: nothing said, nothing failed. */
	rep.len = 0;
	rep.text[0] = '\0';
	CHECK_INT(passthru_apply_persisted(ctx, 0, 0, &ops, &rep), 0);
	CHECK_STR(rep.text, "");
}

/* The value of a fixture attribute, without its newline ("" when unreadable). */
static const char *attr(const char *pf, const char *name)
{
	static char value[256];
	char rel[512];
	char *text;

	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/%s", pf, name);
	text = read_text(rel);
	snprintf(value, sizeof(value), "%s", text ?: "");
	value[strcspn(value, "\n")] = '\0';
	free(text);
	return value;
}

/*
 * The writes go through the executor: journaled, rolled back when one fails, and an interrupted
 * transaction repaired by whichever run comes next (an SR-IOV change or `passthru repair`).
 */
static void test_rollback_and_repair(void)
{
	struct passthru_sriov *s;
	struct passthru_takeover *t = NULL;
	char *text;

	/* 04:00.0 goes 2 -> 3 with autoprobe off; a failure after the second write undoes both. */
	write_text("sys/bus/pci/devices/0000:04:00.0/sriov_numvfs", "2\n");
	write_text("sys/bus/pci/devices/0000:04:00.0/sriov_drivers_autoprobe", "1\n");
	s = sriov("0000:04:00.0", PASSTHRU_SRIOV_FORCE);
	CHECK_INT(passthru_sriov_set_numvfs(s, 3), 0);
	CHECK_INT(passthru_sriov_set_autoprobe(s, 0), 0);
	CHECK_INT(passthru_sriov_plan(s), 0);
	setenv("PASSTHRU_FAULT", "write:after-write:2:fail", 1);
	CHECK_INT(passthru_sriov_execute(s), -EIO);
	unsetenv("PASSTHRU_FAULT");
	CHECK_STR(passthru_sriov_get_error(s),
		  "0000:04:00.0: injected failure (PASSTHRU_FAULT) after-write 2");
	CHECK_STR(joined(passthru_plan_report_get_error_details(passthru_sriov_get_report(s))),
		  "rolled back: every attribute written is as it was");
	CHECK_STR(attr("0000:04:00.0", "sriov_numvfs"), "2");
	CHECK_STR(attr("0000:04:00.0", "sriov_drivers_autoprobe"), "1");
	CHECK(read_text("run/passthru/journal") == NULL);
	{
		bool autoprobe = false;

		CHECK_INT(passthru_sriov_get_autoprobe(s, &autoprobe), 0);
		CHECK(autoprobe);
	}
	passthru_sriov_unref(s);

	/*
	 * A run killed after "0" and autoprobe left its journal: the next SR-IOV change puts the
	 * PF back first (one write of "2", not "0" then "2"), then finds nothing to do.
	 */
	write_text("run/passthru/journal",
		   "passthru-journal 1\nop write\npid 99999\n"
		   "write 0000:04:00.0 sriov_numvfs value=0 undo=2\n"
		   "write 0000:04:00.0 sriov_drivers_autoprobe value=0 undo=1\n"
		   "write 0000:04:00.0 sriov_numvfs value=3 undo=0\n");
	write_text("sys/bus/pci/devices/0000:04:00.0/sriov_numvfs", "0\n");
	write_text("sys/bus/pci/devices/0000:04:00.0/sriov_drivers_autoprobe", "0\n");
	s = sriov("0000:04:00.0", PASSTHRU_SRIOV_FORCE);
	CHECK_INT(passthru_sriov_set_numvfs(s, 2), 0);
	CHECK_INT(passthru_sriov_execute(s), 0);
	CHECK_STR(attr("0000:04:00.0", "sriov_numvfs"), "2");
	CHECK_STR(attr("0000:04:00.0", "sriov_drivers_autoprobe"), "1");
	CHECK(read_text("run/passthru/journal") == NULL);
	text = read_text("run/passthru/log");
	CHECK(text && strstr(text, "repair: interrupted write of 0000:04:00.0 sriov_numvfs, "
				   "0000:04:00.0 sriov_drivers_autoprobe rolled back"));
	free(text);
	passthru_sriov_unref(s);

	/* One that had reached every value: `passthru repair` commits it, writing nothing. */
	write_text("run/passthru/journal",
		   "passthru-journal 1\nop write\npid 99999\n"
		   "write 0000:04:00.0 sriov_drivers_autoprobe value=1 undo=0\n");
	CHECK_INT(passthru_takeover_new(ctx, PASSTHRU_TAKEOVER_REPAIR, 0, &t), 0);
	CHECK_INT(passthru_takeover_execute(t), 0);
	CHECK_INT(passthru_takeover_get_repair_outcome(t), PASSTHRU_REPAIR_COMPLETED);
	CHECK_INT(passthru_takeover_get_count(t), 1);
	CHECK_STR(passthru_takeover_get_address(t, 0), "0000:04:00.0");
	CHECK(read_text("run/passthru/journal") == NULL);
	passthru_takeover_unref(t);

	/* A damaged record is not guessed at. */
	write_text("run/passthru/journal", "passthru-journal 1\nop write\nwrite 0000:04:00.0 "
					   "../remove value=1 undo=0\n");
	s = sriov("0000:04:00.0", 0);
	CHECK_INT(passthru_sriov_execute(s), -EBADMSG);
	CHECK_STR(passthru_sriov_get_error(s),
		  "0000:04:00.0: /run/passthru/journal is damaged (line 3): cannot tell what an "
		  "interrupted transaction did");
	passthru_sriov_unref(s);
	CHECK(unlink(path_of("run/passthru/journal")) == 0);
}

/*
 * A fake kernel for 0b:00.0: hides its VF, makes sriov_numvfs a FIFO kept full, and once the
 * executor's journal says "1" is about to be written, puts the VF back and only then lets the
 * write through. As with the kernel, the write returns with the VF there.
 */
static pid_t fake_kernel_makes_vf(void)
{
	static const char pf_dir[] = "sys/bus/pci/devices/0000:0b:00.0";
	char vf_link[8192], virtfn[8192], fifo[8192], journal[8192];
	char vf_target[4096], virtfn_target[4096];
	ssize_t n;
	int ready[2];
	pid_t pid;
	char c;

	snprintf(vf_link, sizeof(vf_link), "%s", path_of("sys/bus/pci/devices/0000:0b:10.0"));
	snprintf(virtfn, sizeof(virtfn), "%s/%s/virtfn0", root, pf_dir);
	snprintf(fifo, sizeof(fifo), "%s/%s/sriov_numvfs", root, pf_dir);
	snprintf(journal, sizeof(journal), "%s", path_of("run/passthru/journal"));
	n = readlink(vf_link, vf_target, sizeof(vf_target) - 1);
	if (n <= 0)
		exit(1);
	vf_target[n] = '\0';
	n = readlink(virtfn, virtfn_target, sizeof(virtfn_target) - 1);
	if (n <= 0)
		exit(1);
	virtfn_target[n] = '\0';
	if (unlink(vf_link) < 0 || unlink(virtfn) < 0 || unlink(fifo) < 0 ||
	    mkfifo(fifo, 0644) < 0 || pipe(ready) < 0) {
		perror("fake kernel");
		exit(1);
	}
	pid = fork();
	if (pid < 0)
		exit(1);
	if (pid == 0) {
		int fd = open(fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		char junk[4096];
		bool seen = false;

		if (fd < 0)
			_exit(1);
		/* Full: a writer blocks until the kernel drains it. */
		memset(junk, 'x', sizeof(junk));
		while (write(fd, junk, sizeof(junk)) > 0)
			;
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		for (int i = 0; i < 2000 && !seen; i++) {
			char *text = read_text("run/passthru/journal");

			seen = text && strstr(text, "sriov_numvfs value=1 undo=0");
			free(text);
			if (!seen)
				usleep(5000);
		}
		if (!seen || symlink(vf_target, vf_link) < 0 || symlink(virtfn_target, virtfn) < 0)
			_exit(1);
		/* Drain until the "1" has come through. */
		while (!seen || c != '1') {
			struct pollfd pfd = {.fd = fd, .events = POLLIN};

			if (poll(&pfd, 1, 10000) <= 0 || read(fd, &c, 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1)
		exit(1);
	close(ready[0]);
	return pid;
}

/* A group's takeover: its device, and what stopped it (a fixture's kernel binds nothing). */
static void on_group(void *userdata, struct passthru_takeover *t, int error)
{
	struct reports *r = userdata;
	const char *what = !t ? "-" : error >= 0 ? "bound" : passthru_takeover_get_error(t);
	int n = snprintf(r->text + r->len, sizeof(r->text) - r->len, "group %s %s\n",
			 t ? passthru_takeover_get_address(t, 0) : "-", what ?: "?");

	if (n > 0 && r->len + (size_t)n < sizeof(r->text))
		r->len += (size_t)n;
}

/*
 * The order of passthru_apply_persisted(): the PF's VF count, then its VFs' settings (tried: an
 * NVMe PF has no network interface to send them to), then the bindings. A persisted binding of
 * a VF that only exists once the count was applied is bound, because the counts come first.
 */
static void test_apply_order(void)
{
	const struct passthru_apply_ops ops = {
	    .sriov = on_report,
	    .binding_refused = on_binding_refused,
	    .group = on_group,
	};
	struct reports rep = {.len = 0};
	pid_t kernel;
	int status = -1;

	mkdir(path_of("etc/passthru/vf.d"), 0755);
	write_text("etc/passthru/vf.d/0000:0b:00.0.conf",
		   "device 1b36:0010:1b36:0010\nvfs 1\nvf 0 trust=on\n");
	write_text("etc/passthru/bindings.conf", "0000:0b:10.0 1b36:0010 1b36:0010\n");
	kernel = fake_kernel_makes_vf();
	/* Before: no such VF. */
	CHECK(access(path_of("sys/bus/pci/devices/0000:0b:10.0"), F_OK) < 0);
	passthru_apply_persisted(ctx, 0, 2000, &ops, &rep);
	CHECK(waitpid(kernel, &status, 0) == kernel);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/*
	 * The VF was there for its binding: the takeover moved it as far as a fixture allows (no
	 * kernel to bind it), where a missing VF would have been refused as -ENODEV.
	 */
	CHECK_STR(rep.text,
		  "0000:0b:00.0 0 1 VFs made (it had 0)\n"
		  "0000:0b:00.0 -67 VF 0: the PF has no network interface\n"
		  "group 0000:0b:10.0 0000:0b:10.0: vfio-pci did not take it (driver now: "
		  "none)\n");
	CHECK(unlink(path_of("etc/passthru/bindings.conf")) == 0);
	CHECK(unlink(path_of("etc/passthru/vf.d/0000:0b:00.0.conf")) == 0);
}

int main(void)
{
	build_root();
	if (passthru_ctx_new(root, &ctx) < 0)
		return 1;
	test_new();
	test_refusals();
	test_config_parse();
	test_persist();
	test_apply_persisted();
	test_apply_order();
	test_rollback_and_repair();
	test_bind_current();
	test_execute();
	passthru_ctx_unref(ctx);
	TEST_DONE();
}
