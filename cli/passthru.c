/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The passthru command: global options, then one verb. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "cli.h"
#include "text.h" /* shell_quote() */

static const struct verb verbs[] = {
	{ "list", verb_list, "list PCI, USB and serial devices" },
	{ "show", verb_show, "show everything known about one device" },
	{ "type", verb_type, "manage custom PCI device types" },
	{ "check", verb_check, "check that the host is ready for passthrough" },
	{ "setup", verb_setup, "prepare the host: IOMMU kernel parameters, vfio modules" },
	{ "bind", verb_bind, "hand devices (whole IOMMU groups) to vfio-pci" },
	{ "unbind", verb_unbind, "give devices back to their host drivers" },
	{ "reset", verb_reset, "reset a PCI function" },
	{ "apply", verb_apply, "bring the host to the persisted bindings (boot time)" },
	{ "repair", verb_repair, "finish or roll back an interrupted bind or unbind" },
	{ "qemu-args", verb_qemu_args, "print QEMU options that give devices to a VM" },
	{ "attach", verb_attach, "hot-plug devices into a running QEMU VM (QMP)" },
	{ "detach", verb_detach, "hot-unplug devices from a running QEMU VM (QMP)" },
	{ "libvirt-xml", verb_libvirt_xml, "print libvirt <hostdev> and <serial> XML" },
	{ "sriov", verb_sriov, "make or remove the VFs of an SR-IOV PF" },
	{ "vf", verb_vf, "set a NIC VF's MAC, VLAN, spoof check, trust, rate" },
};

void cli_error(const char *format, ...)
{
	va_list ap;

	fputs("passthru: ", stderr);
	va_start(ap, format);
	vfprintf(stderr, format, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_hint(const char *format, ...)
{
	va_list ap;

	fputs("hint: ", stderr);
	va_start(ap, format);
	vfprintf(stderr, format, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage_error(const char *verb, const char *format, ...)
{
	va_list ap;

	fprintf(stderr, "passthru%s%s: ", verb ? " " : "", verb ? verb : "");
	va_start(ap, format);
	vfprintf(stderr, format, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'passthru %s%s--help'.\n", verb ? verb : "", verb ? " " : "");
	return EXIT_USAGE;
}

/* The command line as given, with -v, for hints that say how to see each step. */
static char *verbose_command;

const char *cli_verbose_command(void)
{
	return verbose_command ?: "passthru -v ...";
}

/* "passthru -v" and the arguments, quoted for a shell, without the -v or --verbose given. */
static char *command_line_verbose(int argc, char **argv)
{
	_cleanup_free_ char *line = strdup("passthru -v");
	bool options = true;

	for (int i = 1; line && i < argc; i++) {
		_cleanup_free_ char *word = NULL;
		char *longer;

		if (strcmp(argv[i], "--") == 0)
			options = false;
		if (options && (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0))
			continue;
		word = shell_quote(argv[i]);
		if (!word || asprintf(&longer, "%s %s", line, word) < 0)
			return NULL;
		free(line);
		line = longer;
	}
	return TAKE_PTR(line);
}

static void usage(FILE *f)
{
	fputs("Usage: passthru [--sysroot DIR] [-v] VERB [ARGS...]\n"
	      "\n"
	      "Hand a Linux host's PCI, USB and serial devices to virtual machines.\n"
	      "\n"
	      "Verbs:\n",
	      f);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-12s %s\n", verbs[i].name, verbs[i].summary);
	fputs("\n"
	      "Global options (accepted anywhere on the line):\n"
	      "  --sysroot DIR  read and change the host below DIR instead of /\n"
	      "                 (default: $PASSTHRU_SYSROOT, else /)\n"
	      "  -v, --verbose  log the library's debug messages to stderr\n"
	      "  -h, --help     show this help; 'passthru VERB --help' for a verb\n"
	      "  --version      show the version\n"
	      "\n"
	      "Devices are named as the kernel names them: 0000:42:00.0 or 42:00.0 (PCI),\n"
	      "1-2.3 (USB port path), /dev/ttyS1 (serial).\n"
	      "\n"
	      "Exit status: 0 done, 1 refused or failed, 2 bad usage.\n"
	      "See passthru(1).\n",
	      f);
}

static void log_to_stderr(void *userdata, int priority, const char *file, int line, const char *fn,
			  const char *format, va_list args)
{
	fprintf(stderr, "passthru: %s: ", fn);
	vfprintf(stderr, format, args);
	fputc('\n', stderr);
}

/*
 * Takes the global options out of argv wherever they stand (up to a "--"), so that
 * `passthru list --sysroot DIR` and `passthru --sysroot DIR list` mean the same.
 */
static int take_global_options(int *argc, char **argv, const char **sysroot, bool *verbose,
			       bool *help, bool *version)
{
	int out = 1;
	bool verb_seen = false;

	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		if (strcmp(a, "--sysroot") == 0 || strncmp(a, "--sysroot=", 10) == 0) {
			if (a[9] == '=')
				*sysroot = a + 10;
			else if (i + 1 < *argc)
				*sysroot = argv[++i];
			else
				return cli_usage_error(NULL,
						       "option '--sysroot' needs a directory");
			/*
			 * An empty root is an unset shell variable ("--sysroot $ROOT"), never a
			 * wish for the real host: the library would take it as "/".
			 */
			if (!**sysroot)
				return cli_usage_error(NULL, "option '--sysroot' needs a directory, "
							     "not an empty string");
		} else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			*verbose = true;
		} else if (!verb_seen && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
			*help = true;
		} else if (!verb_seen && strcmp(a, "--version") == 0) {
			*version = true;
		} else {
			if (a[0] != '-')
				verb_seen = true;
			else if (!verb_seen)
				return cli_usage_error(NULL, "unknown option '%s'", a);
			argv[out++] = argv[i];
		}
	}
	argv[out] = NULL;
	*argc = out;
	return 0;
}

int main(int argc, char **argv)
{
	const char *sysroot = NULL;
	bool verbose = false, help = false, version = false;
	struct cli cli = {0};
	const struct verb *verb = NULL;
	int r;

	verbose_command = command_line_verbose(argc, argv);
	r = take_global_options(&argc, argv, &sysroot, &verbose, &help, &version);
	if (r != 0)
		return r;
	if (version) {
		puts("passthru " PASSTHRU_VERSION);
		return EXIT_DONE;
	}
	if (help) {
		usage(stdout);
		return EXIT_DONE;
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			verb = &verbs[i];
	if (!verb)
		return cli_usage_error(NULL, "unknown verb '%s'", argv[1]);

	r = passthru_ctx_new(sysroot, &cli.ctx);
	if (r < 0) {
		cli_error("cannot use sysroot %s: %s", sysroot ? sysroot : "/", strerror(-r));
		return EXIT_REFUSED;
	}
	cli.verbose = verbose;
	if (verbose) {
		passthru_ctx_set_log_fn(cli.ctx, log_to_stderr, NULL);
		passthru_ctx_set_log_priority(cli.ctx, LOG_DEBUG);
	}

	r = verb->run(&cli, argc - 1, argv + 1);
	passthru_ctx_unref(cli.ctx);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("cannot write output: %s", strerror(errno));
		return EXIT_REFUSED;
	}
	return r;
}
