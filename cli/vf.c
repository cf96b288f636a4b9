/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * passthru vf PF [INDEX] [--mac M] [--vlan V [--qos Q] [--vlan-proto P]] [--spoofchk on|off]
 * [--trust on|off] [--max-tx-rate R] [--persist]: a NIC VF's link settings over rtnetlink (see
 * passthru-sriov(1)); without settings, show what the PF's driver reports.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "strv.h"
#include "cli.h"
#include "options.h"
#include "takeover-cli.h"

static void help(void)
{
	printf("Usage: passthru vf PF [INDEX] [SETTINGS] [--persist]\n"
	       "\n"
	       "Set the link settings of a NIC's VF through its PF's driver (rtnetlink, as\n"
	       "'ip link set DEV vf INDEX ...'). Without settings, show what the driver\n"
	       "reports for the VF, or for every VF of the PF without INDEX.\n"
	       "\n"
	       "Settings:\n"
	       "      --mac MAC              the VF's MAC address (02:11:22:33:44:55)\n"
	       "      --vlan ID              VLAN 1-4095 the VF's traffic is tagged with; 0: none\n"
	       "      --qos PRIO             its priority, 0-7 (with --vlan)\n"
	       "      --vlan-proto PROTO     802.1Q (default) or 802.1ad (with --vlan)\n"
	       "      --spoofchk on|off      drop frames with a source MAC not the VF's\n"
	       "      --trust on|off         let the VF change its MAC, promiscuous mode\n"
	       "      --max-tx-rate RATE     Mbit/s (\"100\", \"10G\"); 0: no limit\n"
	       "Options:\n"
	       "      --persist              also save the settings for 'passthru apply'\n"
	       "  -h, --help                 show this help\n"
	       "\n"
	       "See passthru-sriov(1).\n");
}

static const char *pf_error(int r)
{
	switch (r) {
	case -ENODEV:
		return "no such PCI device";
	case -EOPNOTSUPP:
		return "not an SR-IOV PF (it has no sriov_totalvfs)";
	case -ENOLINK:
		return "it has no network interface: VF link settings are a NIC's";
	default:
		return strerror(-r);
	}
}

static void print_row(size_t vf, const char *address, struct passthru_vf_list *list, size_t i)
{
	char vlan[16] = "-", qos[8] = "-", proto[16] = "-", rate[16] = "-";
	unsigned v, q, min, max;
	uint16_t p;
	bool b;
	const char *spoofchk = "-", *trust = "-";

	if (list && passthru_vf_list_get_vlan(list, i, &v, &q, &p) >= 0) {
		snprintf(vlan, sizeof(vlan), "%u", v);
		snprintf(qos, sizeof(qos), "%u", q);
		snprintf(proto, sizeof(proto), "%s", p == 0x88a8 ? "802.1ad" : "802.1Q");
	}
	if (list && passthru_vf_list_get_spoofchk(list, i, &b) >= 0)
		spoofchk = b ? "on" : "off";
	if (list && passthru_vf_list_get_trust(list, i, &b) >= 0)
		trust = b ? "on" : "off";
	if (list && passthru_vf_list_get_tx_rate(list, i, &min, &max) >= 0)
		snprintf(rate, sizeof(rate), "%u", max);
	printf("%-4zu %-12s  %-17s  %4s  %3s  %-7s  %-8s  %-5s  %11s  %s\n", vf, address ?: "-",
	       (list ? passthru_vf_list_get_mac(list, i) : NULL) ?: "-", vlan, qos, proto, spoofchk,
	       trust, rate, (list ? passthru_vf_list_get_link_state(list, i) : NULL) ?: "-");
}

static int show(struct cli *cli, const char *pf, bool has_index, unsigned index)
{
	struct passthru_vf_list *list = NULL;
	struct passthru_pci_device *dev = NULL;
	const char *const *vfs;
	int r, ret = EXIT_DONE;

	r = passthru_pci_device_new(cli->ctx, pf, &dev);
	if (r < 0) {
		cli_error("%s: %s", pf, pf_error(r));
		return EXIT_REFUSED;
	}
	r = passthru_vf_list_read(cli->ctx, pf, &list);
	if (r == -EOPNOTSUPP && strcmp(passthru_ctx_get_sysroot(cli->ctx), "/") != 0) {
		cli_error("%s: VF settings come from the running kernel, not from --sysroot", pf);
		ret = EXIT_REFUSED;
		goto out;
	}
	if (r < 0) {
		cli_error("%s: cannot read its VF settings: %s", pf, pf_error(r));
		ret = EXIT_REFUSED;
		goto out;
	}
	vfs = passthru_pci_device_get_vfs(dev);
	if (has_index && index >= strv_length((char **)vfs)) {
		cli_error("%s: no VF %u (it has %zu)", pf, index, strv_length((char **)vfs));
		ret = EXIT_REFUSED;
		goto out;
	}
	printf("%-4s %-12s  %-17s  %4s  %3s  %-7s  %-8s  %-5s  %11s  %s\n", "VF", "DEVICE", "MAC",
	       "VLAN", "QOS", "PROTO", "SPOOFCHK", "TRUST", "MAX-TX-RATE", "LINK");
	for (size_t k = 0; vfs[k]; k++) {
		size_t found = SIZE_MAX;

		if (has_index && k != index)
			continue;
		for (size_t i = 0; i < passthru_vf_list_count(list); i++) {
			unsigned n;

			if (passthru_vf_list_get_vf(list, i, &n) >= 0 && n == k)
				found = i;
		}
		print_row(k, vfs[k], found == SIZE_MAX ? NULL : list, found);
	}
out:
	passthru_vf_list_unref(list);
	passthru_pci_device_unref(dev);
	return ret;
}

static int on_off(const char *opt, const char *s, bool *ret)
{
	if (strcmp(s, "on") == 0)
		*ret = true;
	else if (strcmp(s, "off") == 0)
		*ret = false;
	else
		return cli_usage_error("vf", "%s takes on or off, not '%s'", opt, s);
	return EXIT_DONE;
}

int verb_vf(struct cli *cli, int argc, char **argv)
{
	enum {
		OPT_MAC = 0x100,
		OPT_VLAN,
		OPT_QOS,
		OPT_VLAN_PROTO,
		OPT_SPOOFCHK,
		OPT_TRUST,
		OPT_MAX_TX_RATE,
		OPT_PERSIST,
	};
	static const struct option options[] = {
	    {"mac", required_argument, NULL, OPT_MAC},
	    {"vlan", required_argument, NULL, OPT_VLAN},
	    {"qos", required_argument, NULL, OPT_QOS},
	    {"vlan-proto", required_argument, NULL, OPT_VLAN_PROTO},
	    {"spoofchk", required_argument, NULL, OPT_SPOOFCHK},
	    {"trust", required_argument, NULL, OPT_TRUST},
	    {"max-tx-rate", required_argument, NULL, OPT_MAX_TX_RATE},
	    {"persist", no_argument, NULL, OPT_PERSIST},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct cli_options opts = {"vf", "h", options, help};
	struct passthru_vf *vf = NULL;
	char pf[PASSTHRU_PCI_ADDRESS_LEN + 1];
	uint8_t mac[6];
	unsigned vlan = 0, qos = 0, rate = 0, index = 0;
	uint16_t proto = 0;
	bool has_mac = false, has_vlan = false, has_qos = false, has_proto = false;
	bool has_spoofchk = false, spoofchk = false, has_trust = false, trust = false;
	bool has_rate = false, persist = false, has_index = false;
	int c, r, ret;

	while ((c = cli_options_next(&opts, argc, argv)) >= 0) {
		switch (c) {
		case OPT_MAC:
			if (passthru_vf_parse_mac(optarg, mac) < 0)
				return cli_usage_error("vf",
						       "invalid MAC address '%s': six hex pairs "
						       "(02:11:22:33:44:55), not a group address",
						       optarg);
			has_mac = true;
			break;
		case OPT_VLAN:
			if (passthru_vf_parse_vlan(optarg, &vlan) < 0)
				return cli_usage_error("vf", "invalid VLAN '%s': 0-4095", optarg);
			has_vlan = true;
			break;
		case OPT_QOS:
			if (passthru_vf_parse_qos(optarg, &qos) < 0)
				return cli_usage_error("vf", "invalid priority '%s': 0-7", optarg);
			has_qos = true;
			break;
		case OPT_VLAN_PROTO:
			if (passthru_vf_parse_vlan_proto(optarg, &proto) < 0)
				return cli_usage_error("vf",
						       "invalid VLAN protocol '%s': 802.1Q or "
						       "802.1ad",
						       optarg);
			has_proto = true;
			break;
		case OPT_SPOOFCHK:
			ret = on_off("--spoofchk", optarg, &spoofchk);
			if (ret != EXIT_DONE)
				return ret;
			has_spoofchk = true;
			break;
		case OPT_TRUST:
			ret = on_off("--trust", optarg, &trust);
			if (ret != EXIT_DONE)
				return ret;
			has_trust = true;
			break;
		case OPT_MAX_TX_RATE:
			if (passthru_vf_parse_rate(optarg, &rate) < 0)
				return cli_usage_error("vf",
						       "invalid rate '%s': Mbit/s (\"100\", "
						       "\"100M\", \"10G\"), below 4294967296",
						       optarg);
			has_rate = true;
			break;
		case OPT_PERSIST:
			persist = true;
			break;
		}
	}
	if (c == CLI_OPTIONS_EXIT)
		return opts.exit;
	if (optind >= argc)
		return cli_usage_error("vf", "which PF?");
	if (passthru_pci_address_parse(argv[optind], pf) < 0)
		return cli_usage_error(
		    "vf", "invalid PCI address '%s': use 0000:42:00.0 or 42:00.0", argv[optind]);
	if (optind + 1 < argc) {
		const char *s = argv[optind + 1];
		char *end = NULL;
		unsigned long n;

		errno = 0;
		n = strtoul(s, &end, 10);
		if (errno || !end || *end || end == s || s[0] < '0' || s[0] > '9' || n > 65535)
			return cli_usage_error("vf", "invalid VF index '%s'", s);
		index = (unsigned)n;
		has_index = true;
	}
	if (optind + 2 < argc)
		return cli_usage_error("vf", "unexpected argument '%s'", argv[optind + 2]);
	if ((has_qos || has_proto) && !has_vlan)
		return cli_usage_error("vf", "--qos and --vlan-proto go with --vlan");

	if (!has_mac && !has_vlan && !has_spoofchk && !has_trust && !has_rate) {
		if (persist)
			return cli_usage_error("vf", "nothing to persist: give settings");
		return show(cli, pf, has_index, index);
	}
	if (!has_index)
		return cli_usage_error("vf", "which VF? give its index after the PF");

	r = passthru_vf_new(cli->ctx, pf, index, &vf);
	if (r == -ENOENT) {
		cli_error("%s: it has no VF %u now", pf, index);
		cli_hint("'passthru sriov %s' shows its VFs; '--vfs N' makes them", pf);
		return EXIT_REFUSED;
	}
	if (r < 0) {
		cli_error("%s: %s", pf, pf_error(r));
		return EXIT_REFUSED;
	}
	if (has_mac)
		(void)passthru_vf_set_mac(vf, mac);
	if (has_vlan)
		(void)passthru_vf_set_vlan(vf, vlan, qos, proto);
	if (has_spoofchk)
		passthru_vf_set_spoofchk(vf, spoofchk);
	if (has_trust)
		passthru_vf_set_trust(vf, trust);
	if (has_rate)
		passthru_vf_set_max_tx_rate(vf, rate);
	passthru_vf_set_wait_fn(vf, takeover_cli_on_lock_wait, NULL);

	r = passthru_vf_apply(vf);
	if (r == -EOPNOTSUPP && strcmp(passthru_ctx_get_sysroot(cli->ctx), "/") != 0) {
		cli_error("%s: VF settings go to the running kernel, not below --sysroot", pf);
		ret = EXIT_REFUSED;
		goto out;
	}
	if (r < 0) {
		cli_error("%s: VF %u on %s: cannot set %s: %s%s%s", pf, index,
			  passthru_vf_get_netdev(vf), passthru_vf_get_summary(vf), strerror(-r),
			  passthru_vf_get_error(vf) ? ": " : "", passthru_vf_get_error(vf) ?: "");
		if (r == -EOPNOTSUPP)
			cli_hint("the driver of %s does not offer this setting for its VFs",
				 passthru_vf_get_netdev(vf));
		ret = EXIT_REFUSED;
		goto out;
	}
	printf("%s: VF %u (%s) on %s: %s\n", pf, index, passthru_vf_get_address(vf),
	       passthru_vf_get_netdev(vf), passthru_vf_get_summary(vf));
	ret = EXIT_DONE;
	if (persist) {
		r = passthru_vf_save(vf);
		if (r < 0) {
			cli_error("%s: cannot save the settings in /etc/passthru/vf.d: %s", pf,
				  strerror(-r));
			ret = EXIT_REFUSED;
		} else {
			printf("%s: saved in /etc/passthru/vf.d/%s.conf for 'passthru apply'\n", pf,
			       pf);
		}
	}
out:
	passthru_vf_unref(vf);
	return ret;
}
