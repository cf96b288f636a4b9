/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What bind, unbind, repair, reset and apply share (takeover-cli.h): options, plan tables,
 * messages, and the run of bind and unbind.
 */
#include <errno.h>
#include <libsmartcols/libsmartcols.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "macro.h"
#include "options.h"
#include "service-client.h"
#include "takeover-cli.h"

void takeover_cli_on_lock_wait(void *userdata, const char *holder)
{
	if (holder)
		fprintf(stderr, "passthru: waiting for the lock held by %s\n", holder);
	else
		fprintf(stderr,
			"passthru: waiting for another process to release /run/passthru/lock\n");
}

void takeover_cli_say_lock_wait(struct passthru_takeover *t)
{
	passthru_takeover_set_wait_fn(t, takeover_cli_on_lock_wait, NULL);
}

int takeover_cli_add_devices(const char *verb, struct passthru_takeover *t, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		char canonical[PASSTHRU_PCI_ADDRESS_LEN + 1];
		int r;

		if (passthru_pci_address_parse(argv[i], canonical) < 0)
			return cli_usage_error(
			    verb, "invalid PCI address '%s': use 0000:42:00.0 or 42:00.0", argv[i]);
		r = passthru_takeover_add_device(t, canonical);
		if (r == -ENODEV) {
			cli_error("%s: no such PCI device", canonical);
			cli_hint("'passthru list pci' shows the devices of this host");
			return EXIT_REFUSED;
		}
		if (r < 0) {
			cli_error("%s: cannot read it: %s", canonical, strerror(-r));
			return EXIT_REFUSED;
		}
	}
	return EXIT_DONE;
}

static const char *action_text(struct passthru_takeover *t, size_t i, char *buf, size_t size)
{
	const char *target = passthru_takeover_get_target(t, i);

	switch (passthru_takeover_get_action(t, i)) {
	case PASSTHRU_ACTION_BIND:
		return "bind to vfio-pci";
	case PASSTHRU_ACTION_UNBIND:
		if (target)
			snprintf(buf, size, "give back to %s", target);
		else
			snprintf(buf, size, "give back (best matching driver)");
		return buf;
	case PASSTHRU_ACTION_KEEP_BRIDGE:
		return "keep (bridge)";
	case PASSTHRU_ACTION_RESET:
		return "reset";
	case PASSTHRU_ACTION_NONE:
		break;
	}
	return "none";
}

int takeover_cli_print_plan(struct passthru_takeover *t)
{
	struct libscols_table *table = scols_new_table();
	int r = 0;

	if (!table)
		return -ENOMEM;
	if (!scols_table_new_column(table, "DEVICE", 12, 0) ||
	    !scols_table_new_column(table, "GROUP", 5, SCOLS_FL_RIGHT) ||
	    !scols_table_new_column(table, "DRIVER", 0.15, 0) ||
	    !scols_table_new_column(table, "ACTION", 0.25, 0) ||
	    !scols_table_new_column(table, "GUARDS", 0.4, SCOLS_FL_WRAP))
		r = -ENOMEM;
	for (size_t i = 0; r >= 0 && i < passthru_takeover_get_count(t); i++) {
		struct libscols_line *line = scols_table_new_line(table, NULL);
		struct passthru_guard_list *guards = passthru_takeover_get_guards(t, i);
		_cleanup_free_ char *guard_text = NULL;
		char group[16] = "-", action[128];
		int g;

		if (passthru_takeover_get_iommu_group(t, i, &g) >= 0)
			snprintf(group, sizeof(group), "%d", g);
		if (guards) {
			size_t n = passthru_guard_list_count(guards);

			for (size_t k = 0; k < n; k++) {
				char *s;

				if (asprintf(&s, "%s%s%s", guard_text ?: "", guard_text ? "; " : "",
					     passthru_guard_list_get_reason(guards, k) ?: "?") <
				    0) {
					r = -ENOMEM;
					break;
				}
				free(guard_text);
				guard_text = s;
			}
			if (!n)
				guard_text = strdup("none");
		}
		if (!line ||
		    scols_line_set_data(line, 0, passthru_takeover_get_address(t, i)) < 0 ||
		    scols_line_set_data(line, 1, group) < 0 ||
		    scols_line_set_data(line, 2, passthru_takeover_get_driver(t, i) ?: "-") < 0 ||
		    scols_line_set_data(line, 3, action_text(t, i, action, sizeof(action))) < 0 ||
		    scols_line_set_data(line, 4, guard_text ?: "-") < 0)
			r = -ENOMEM;
	}
	if (r >= 0)
		r = scols_print_table(table);
	scols_unref_table(table);
	if (r >= 0)
		for (size_t i = 0; i < passthru_takeover_get_count(t); i++)
			for (const char *const *n = passthru_takeover_get_notes(t, i); *n; n++)
				printf("%s: %s\n", passthru_takeover_get_address(t, i), *n);
	return r;
}

int takeover_cli_dry_run(struct passthru_takeover *t, const char *verb)
{
	return takeover_cli_report_plan(t, passthru_takeover_plan(t), verb);
}

int takeover_cli_report_plan(struct passthru_takeover *t, int r, const char *verb)
{
	if (r < 0 && r != -EPERM) {
		if (passthru_takeover_get_error(t))
			cli_error("%s", passthru_takeover_get_error(t));
		else
			cli_error("cannot plan: %s", strerror(-r));
		return EXIT_REFUSED;
	}
	if (takeover_cli_print_plan(t) < 0) {
		cli_error("cannot print the plan");
		return EXIT_REFUSED;
	}
	return r == -EPERM ? takeover_cli_report_refusals(t, verb) : EXIT_DONE;
}

static const char *refusal_hint(enum passthru_refusal_kind kind, const char *verb,
				const char *address, char *buf, size_t size)
{
	switch (kind) {
	case PASSTHRU_REFUSAL_NO_IOMMU:
		return "turn the IOMMU on in the firmware and on the kernel command line "
		       "(intel_iommu=on, or amd_iommu=on), then reboot";
	case PASSTHRU_REFUSAL_NO_GROUP:
		snprintf(buf, size,
			 "the kernel may have said why the IOMMU left it out: dmesg | grep %s",
			 address);
		return buf;
	case PASSTHRU_REFUSAL_BRIDGE:
		return "name the endpoints behind the bridge instead ('passthru list pci')";
	case PASSTHRU_REFUSAL_GROUP:
		snprintf(buf, size, "a VM needs the whole group: passthru %s --group %s", verb,
			 address);
		return buf;
	case PASSTHRU_REFUSAL_GUARD:
		snprintf(buf, size,
			 "free that first; if the host can really do without it: passthru %s "
			 "--force %s",
			 verb, address);
		return buf;
	case PASSTHRU_REFUSAL_IN_USE:
		snprintf(buf, size, "stop the VM (or the process) holding it, then: passthru %s %s",
			 verb, address);
		return buf;
	case PASSTHRU_REFUSAL_VFS_BOUND:
		return "give the VFs back first ('passthru unbind VF...'), or stop using them";
	case PASSTHRU_REFUSAL_NO_RESET:
		snprintf(buf, size, "'passthru show %s' lists the reset methods it has", address);
		return buf;
	case PASSTHRU_REFUSAL_DRIVER:
	case PASSTHRU_REFUSAL_NO_DRIVER:
		break; /* SR-IOV's, never a takeover's */
	}
	return NULL;
}

/*
 * A guard's remedy, for this verb. The VF guard's (echo 0 > sriov_numvfs) is bind's: a reset
 * does not remove the VFs, so it needs them free, not gone.
 */
static const char *guard_hint(const struct passthru_guard_list *g, size_t k, const char *verb)
{
	if (strcmp(verb, "reset") == 0 &&
	    passthru_guard_list_get_kind(g, k) == PASSTHRU_GUARD_VFS_IN_USE)
		return "free its VFs first: stop the VMs using them, then give those on vfio-pci "
		       "back ('passthru unbind VF...')";
	return passthru_guard_list_get_hint(g, k);
}

/* The guards know how to free what they found; each remedy is said once. */
static void print_guard_hints(struct passthru_takeover *t, const char *verb)
{
	for (size_t d = 0; d < passthru_takeover_get_count(t); d++) {
		struct passthru_guard_list *g = passthru_takeover_get_guards(t, d);

		for (size_t k = 0; g && k < passthru_guard_list_count(g); k++) {
			const char *h = guard_hint(g, k, verb);
			bool said = false;

			for (size_t q = 0; h && q < k; q++) {
				const char *o = guard_hint(g, q, verb);

				if (o && strcmp(o, h) == 0)
					said = true;
			}
			if (h && !said)
				cli_hint("%s: %s", passthru_takeover_get_address(t, d), h);
		}
	}
}

int takeover_cli_report_refusals(struct passthru_takeover *t, const char *verb)
{
	size_t n = passthru_takeover_get_refusal_count(t);

	for (size_t i = 0; i < n; i++)
		cli_error("%s: %s", passthru_takeover_get_refusal_address(t, i),
			  passthru_takeover_get_refusal_reason(t, i));
	/* One hint per kind and device is enough; the first device of each kind stands for all. */
	for (size_t i = 0; i < n; i++) {
		enum passthru_refusal_kind kind = passthru_takeover_get_refusal_kind(t, i);
		bool seen = false;
		char buf[512];
		const char *hint;

		for (size_t k = 0; k < i; k++)
			if (passthru_takeover_get_refusal_kind(t, k) == kind)
				seen = true;
		if (seen)
			continue;
		hint = refusal_hint(kind, verb, passthru_takeover_get_refusal_address(t, i), buf,
				    sizeof(buf));
		if (hint)
			cli_hint("%s", hint);
		if (kind == PASSTHRU_REFUSAL_GUARD)
			print_guard_hints(t, verb);
	}
	return EXIT_REFUSED;
}

int takeover_cli_report_failure(struct passthru_takeover *t, const char *verb)
{
	const char *error = passthru_takeover_get_error(t);
	const char *const *details = passthru_takeover_get_error_details(t);
	bool kept = false, timed_out = error && strstr(error, "timed out");

	cli_error("%s", error ?: "failed");
	for (const char *const *d = details; *d; d++) {
		fprintf(stderr, "  %s\n", *d);
		if (strstr(*d, "journal is kept"))
			kept = true;
	}
	if (error && strstr(error, "another passthru is changing devices"))
		cli_hint("wait for the other passthru to finish, then try again");
	else if (error && strstr(error, "vfio-pci is not available"))
		cli_hint("load the modules: modprobe vfio-pci vfio_iommu_type1");
	else if (error && strstr(error, "is damaged"))
		cli_hint("look at /run/passthru/journal and the devices it names ('passthru list "
			 "pci'), put them right, then remove the file");
	else if (kept || timed_out)
		cli_hint("once the kernel lets go of the device ('dmesg'), 'passthru repair' puts "
			 "every device back where it was");
	else if (strcmp(verb, "reset") == 0 || strcmp(verb, "repair") == 0)
		cli_hint("to see each step: %s", cli_verbose_command());
	else
		cli_hint("nothing was left changed; to see each step: %s", cli_verbose_command());
	return EXIT_REFUSED;
}

void takeover_cli_report_repair(struct passthru_takeover *t)
{
	switch (passthru_takeover_get_repair_outcome(t)) {
	case PASSTHRU_REPAIR_COMPLETED:
		fprintf(stderr,
			"passthru: an interrupted transaction had completed; recorded it\n");
		break;
	case PASSTHRU_REPAIR_ROLLED_BACK:
		fprintf(stderr, "passthru: rolled back an interrupted transaction first\n");
		break;
	case PASSTHRU_REPAIR_NOTHING:
		break;
	}
}

void takeover_cli_print_results(struct passthru_takeover *t)
{
	for (size_t i = 0; i < passthru_takeover_get_count(t); i++) {
		const char *address = passthru_takeover_get_address(t, i);
		const char *before = passthru_takeover_get_driver(t, i);
		const char *after = passthru_takeover_get_result(t, i);
		const char *const *notes = passthru_takeover_get_notes(t, i);

		switch (passthru_takeover_get_action(t, i)) {
		case PASSTHRU_ACTION_BIND:
		case PASSTHRU_ACTION_UNBIND:
			printf("%s: %s -> %s\n", address, before ?: "no driver",
			       after ?: "no driver");
			break;
		case PASSTHRU_ACTION_RESET:
			printf("%s: reset\n", address);
			break;
		case PASSTHRU_ACTION_NONE:
			if (passthru_takeover_is_requested(t, i))
				printf("%s: nothing to do: %s\n", address,
				       notes[0] ?: "already where asked");
			break;
		case PASSTHRU_ACTION_KEEP_BRIDGE:
			break;
		}
	}
}

void takeover_cli_print_notes(struct passthru_takeover *t, const char *verb)
{
	bool opened = false;

	for (size_t i = 0; i < passthru_takeover_get_count(t); i++) {
		const char *address = passthru_takeover_get_address(t, i);
		const char *const *notes = passthru_takeover_get_notes(t, i);

		/* The first note of a requested device left alone is its result line. */
		if (passthru_takeover_get_action(t, i) == PASSTHRU_ACTION_NONE &&
		    passthru_takeover_is_requested(t, i) && notes[0])
			notes++;
		for (; *notes; notes++) {
			fprintf(stderr, "passthru: %s: %s\n", address, *notes);
			if (strncmp(*notes, "forced", 6) == 0) {
				if (!opened)
					openlog("passthru", LOG_PID, LOG_USER);
				opened = true;
				syslog(LOG_WARNING, "%s %s: %s", verb, address, *notes);
			}
		}
	}
	if (opened)
		closelog();
}

int takeover_cli_load_persist(struct cli *cli, const char *verb, struct passthru_persist **ret)
{
	int r = passthru_persist_load(cli->ctx, ret);

	if (r < 0) {
		cli_error("cannot read /etc/passthru/bindings.conf: %s", strerror(-r));
		cli_hint("fix or remove the file, then: passthru %s --persist ...", verb);
		return EXIT_REFUSED;
	}
	return EXIT_DONE;
}

int takeover_cli_save_persist(struct passthru_persist *p, const char *hint)
{
	int r = passthru_persist_save(p);

	if (r < 0) {
		cli_error("cannot write /etc/passthru/bindings.conf: %s", strerror(-r));
		if (hint)
			cli_hint("%s", hint);
		return EXIT_REFUSED;
	}
	return takeover_cli_write_modprobe(p);
}

int takeover_cli_write_modprobe(struct passthru_persist *p)
{
	return takeover_cli_report_modprobe(passthru_persist_write_modprobe(p));
}

int takeover_cli_report_modprobe(int r)
{
	/* Early at boot / may still be read-only: the bindings matter, the file can wait. */
	if (r == -EROFS) {
		fprintf(stderr, "passthru: /etc is read-only: /etc/modprobe.d/passthru-vfio.conf "
				"not updated\n");
		return EXIT_DONE;
	}
	if (r < 0) {
		cli_error("cannot update /etc/modprobe.d/passthru-vfio.conf: %s", strerror(-r));
		cli_hint("the bindings are saved; 'passthru apply' tries again");
		return EXIT_REFUSED;
	}
	if (r > 0) {
		fprintf(stderr, "passthru: updated /etc/modprobe.d/passthru-vfio.conf\n");
		cli_hint("if the GPU's driver loads from the initramfs, rebuild it "
			 "(update-initramfs -u) so that vfio-pci wins at boot there too");
	}
	return EXIT_DONE;
}

int takeover_cli_run(struct cli *cli, const struct takeover_verb *verb, int argc, char **argv)
{
	static const struct option options[] = {
	    {"group", no_argument, NULL, 'g'},
	    {"persist", no_argument, NULL, 'p'},
	    {"force", no_argument, NULL, 'f'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct passthru_takeover *t = NULL;
	unsigned flags = 0, timeout = 0;
	struct cli_options opts = {verb->name, "gpfnt:h", options, verb->help,
				   .timeout_ms = &timeout};
	bool persist = false, dry_run = false;
	int c, r, ret;

	while ((c = cli_options_next(&opts, argc, argv)) >= 0) {
		switch (c) {
		case 'g':
			flags |= PASSTHRU_TAKEOVER_GROUP;
			break;
		case 'p':
			persist = true;
			break;
		case 'f':
			flags |= PASSTHRU_TAKEOVER_FORCE;
			break;
		case 'n':
			dry_run = true;
			break;
		}
	}
	if (c == CLI_OPTIONS_EXIT)
		return opts.exit;
	if (optind >= argc)
		return cli_usage_error(verb->name, "name at least one device");

	r = passthru_takeover_new(cli->ctx, verb->op, flags, &t);
	if (r < 0) {
		cli_error("cannot start: %s", strerror(-r));
		return EXIT_REFUSED;
	}
	passthru_takeover_set_timeout(t, timeout);
	takeover_cli_say_lock_wait(t);
	ret = takeover_cli_add_devices(verb->name, t, argc - optind, argv + optind);
	if (ret != EXIT_DONE)
		goto out;
	ret = service_check_takeover(cli, t, verb->name);
	if (ret != EXIT_DONE)
		goto out;

	if (dry_run) {
		ret = takeover_cli_dry_run(t, verb->name);
		goto out;
	}
	if (persist && verb->prepare)
		verb->prepare(cli, argc - optind, argv + optind);
	/* Planned under the transaction's lock: refusals come back as -EPERM. */
	r = passthru_takeover_execute(t);
	takeover_cli_report_repair(t);
	if (r == -EPERM) {
		ret = takeover_cli_report_refusals(t, verb->name);
		goto out;
	}
	if (r < 0) {
		ret = takeover_cli_report_failure(t, verb->name);
		goto out;
	}
	takeover_cli_print_results(t);
	takeover_cli_print_notes(t, verb->name);
	ret = persist ? verb->persist(cli, t, flags & PASSTHRU_TAKEOVER_FORCE) : EXIT_DONE;
out:
	passthru_takeover_unref(t);
	return ret;
}
