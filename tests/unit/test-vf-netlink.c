/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VF link settings over rtnetlink. No NIC that QEMU emulates has VFs, so the requests are
 * compared byte for byte with iproute2's (tests/fixtures/vf-netlink/iproute2.txt, captured by
 * capture-iproute2.py from `ip link set lo vf N ...`), the driver's report is parsed from
 * messages built here, and the socket code talks to the running kernel about lo in a network
 * namespace of its own, where every VF request is refused (lo has no VFs) with an ack to check.
 * The public VF object is tested against a fixture root with a NIC PF; applying settings
 * through the executor (undo read first, journal, read back, rollback, repair) against a fake
 * driver put on the context in place of rtnetlink (struct vf_link_ops).
 */
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "executor-vf.h"
#include "journal.h"
#include "vf-netlink.h"
#include "fixture.h"
#include "test.h"

static const uint8_t mac1[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
static const uint8_t mac7[6] = {0x0a, 0x00, 0x00, 0x00, 0x00, 0xff};
static const uint8_t mac_all[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};

/* What passthru sends for each case of iproute2.txt (same names as capture-iproute2.py). */
static struct vf_settings settings_for(const char *name, bool *found)
{
	struct vf_settings s = {.proto = ETH_P_8021Q_VALUE};

	*found = true;
	if (strcmp(name, "mac") == 0 || strcmp(name, "mac-vf7") == 0) {
		s.has_mac = true;
		memcpy(s.mac, strcmp(name, "mac") == 0 ? mac1 : mac7, 6);
	} else if (strcmp(name, "vlan") == 0) {
		s.has_vlan = true;
		s.vlan = 10;
	} else if (strcmp(name, "vlan-qos") == 0 || strcmp(name, "vlan-8021q") == 0) {
		s.has_vlan = true;
		s.vlan = 10;
		s.qos = 3;
	} else if (strcmp(name, "vlan-8021ad") == 0) {
		s.has_vlan = true;
		s.vlan = 100;
		s.qos = 5;
		s.proto = ETH_P_8021AD_VALUE;
	} else if (strcmp(name, "vlan-clear") == 0) {
		s.has_vlan = true;
	} else if (strncmp(name, "spoofchk-", 9) == 0) {
		s.has_spoofchk = true;
		s.spoofchk = strcmp(name + 9, "on") == 0;
	} else if (strncmp(name, "trust-", 6) == 0) {
		s.has_trust = true;
		s.trust = strcmp(name + 6, "on") == 0;
	} else if (strcmp(name, "rate") == 0) {
		s.has_rate = true;
		s.max_tx_rate = 100;
	} else if (strcmp(name, "rate-min") == 0) {
		s.has_rate = true;
		s.min_tx_rate = 10;
		s.max_tx_rate = 1000;
	} else if (strcmp(name, "rate-unlimited") == 0) {
		s.has_rate = true;
	} else if (strcmp(name, "rate-first") == 0) {
		s.has_rate = true;
		s.max_tx_rate = 100;
		s.has_mac = true;
		memcpy(s.mac, mac1, 6);
	} else if (strcmp(name, "all") == 0 || strcmp(name, "all-8021ad") == 0) {
		bool ad = strcmp(name, "all-8021ad") == 0;

		s.has_mac = s.has_vlan = s.has_spoofchk = s.has_trust = s.has_rate = true;
		memcpy(s.mac, mac_all, 6);
		s.vlan = ad ? 4095 : 42;
		s.qos = ad ? 0 : 7;
		s.proto = ad ? ETH_P_8021AD_VALUE : ETH_P_8021Q_VALUE;
		s.spoofchk = ad;
		s.trust = !ad;
		s.max_tx_rate = ad ? 10000 : 2500;
	} else {
		*found = false;
	}
	return s;
}

/* Sequence number, port id and ifindex differ between runs and devices. */
static void mask(uint8_t *msg, size_t len)
{
	if (len >= 24) {
		memset(msg + 8, 0, 8);
		memset(msg + 20, 0, 4);
	}
}

static size_t unhex(const char *hex, uint8_t *out, size_t max)
{
	size_t n = 0;

	for (; hex[0] && hex[1] && n < max; hex += 2) {
		unsigned b;

		if (sscanf(hex, "%2x", &b) != 1)
			break;
		out[n++] = (uint8_t)b;
	}
	return n;
}

static void test_iproute2_bytes(void)
{
	char path[4096], *line = NULL;
	size_t cap = 0;
	int cases = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/vf-netlink/iproute2.txt", fixture_env("FIXTURES"));
	f = fopen(path, "r");
	if (!f) {
		perror(path);
		exit(1);
	}
	while (getline(&line, &cap, f) > 0) {
		char name[64], hex[4096];
		unsigned vf;
		uint8_t want[2048], got[2048];
		size_t want_len;
		struct vf_settings s;
		bool found;
		int len;

		if (line[0] == '#' || sscanf(line, "%63s %u %4095s", name, &vf, hex) != 3)
			continue;
		s = settings_for(name, &found);
		if (!found) {
			fprintf(stderr, "iproute2.txt case %s is not known to the test\n", name);
			test_failures++;
			continue;
		}
		want_len = unhex(hex, want, sizeof(want));
		len = vf_netlink_build_set(got, sizeof(got), 12345, 42, vf, &s);
		CHECK(len > 0);
		if (len <= 0)
			continue;
		/* The ifindex really is where the mask puts it. */
		CHECK_INT(((struct ifinfomsg *)(got + 16))->ifi_index, 42);
		mask(want, want_len);
		mask(got, (size_t)len);
		if ((size_t)len != want_len || memcmp(got, want, want_len) != 0) {
			size_t at = 0;

			while (at < want_len && at < (size_t)len && got[at] == want[at])
				at++;
			fprintf(stderr,
				"%s: %d bytes, iproute2 sent %zu; first difference at %zu\n", name,
				len, want_len, at);
			test_failures++;
		}
		cases++;
	}
	free(line);
	fclose(f);
	/* Every case of capture-iproute2.py. */
	CHECK_INT(cases, 17);
}

static void test_build_errors(void)
{
	struct vf_settings none = {0}, mac = {.has_mac = true};
	uint8_t buf[4096];

	CHECK_INT(vf_netlink_build_set(buf, sizeof(buf), 1, 1, 0, &none), -EINVAL);
	CHECK_INT(vf_netlink_build_set(buf, 10, 1, 1, 0, &mac), -ENOBUFS);
	CHECK_INT(vf_netlink_build_set(buf, 60, 1, 1, 0, &mac), -ENOBUFS);
	CHECK(vf_netlink_build_set(buf, 80, 1, 1, 0, &mac) == 80);
	CHECK_INT(vf_netlink_build_get(buf, 20, 1, 1), -ENOBUFS);
}

static void test_build_get(void)
{
	uint8_t buf[256];
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct ifinfomsg *ifi;
	struct nlattr *a;
	int len = vf_netlink_build_get(buf, sizeof(buf), 7, 3);
	int seen = 0;

	CHECK_INT(len, 40);
	CHECK_INT(nlh->nlmsg_type, RTM_GETLINK);
	CHECK_INT(nlh->nlmsg_flags, NLM_F_REQUEST);
	CHECK_INT(nlh->nlmsg_seq, 7);
	ifi = mnl_nlmsg_get_payload(nlh);
	CHECK_INT(ifi->ifi_index, 3);
	mnl_attr_for_each(a, nlh, sizeof(*ifi))
	{
		CHECK_INT(mnl_attr_get_type(a), IFLA_EXT_MASK);
		CHECK_INT(mnl_attr_get_u32(a), RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS);
		seen++;
	}
	CHECK_INT(seen, 1);
}

/* A driver's report with two VFs, given in reverse order, as the kernel lays it out. */
static size_t build_report(uint8_t *buf, size_t size, bool truncate_rate)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;
	struct nlattr *list, *info, *vlist;

	memset(buf, 0, size);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = 3;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "enp3s0f0");
	mnl_attr_put_u32(nlh, IFLA_NUM_VF, 2);
	list = mnl_attr_nest_start(nlh, IFLA_VFINFO_LIST);

	/* VF 1: 802.1ad VLAN in the list (and the old attribute, as the kernel sends both). */
	info = mnl_attr_nest_start(nlh, IFLA_VF_INFO);
	{
		struct ifla_vf_mac m = {.vf = 1, .mac = {0x02, 0, 0, 0, 0, 0x01}};
		struct ifla_vf_vlan v = {.vf = 1, .vlan = 0, .qos = 0};
		struct ifla_vf_vlan_info vi = {
		    .vf = 1, .vlan = 300, .qos = 2, .vlan_proto = htons(0x88a8)};
		struct ifla_vf_spoofchk c = {.vf = 1, .setting = (uint32_t)-1};
		struct ifla_vf_trust t = {.vf = 1, .setting = 1};
		struct ifla_vf_link_state l = {.vf = 1, .link_state = IFLA_VF_LINK_STATE_DISABLE};

		mnl_attr_put(nlh, IFLA_VF_MAC, sizeof(m), &m);
		mnl_attr_put(nlh, IFLA_VF_VLAN, sizeof(v), &v);
		vlist = mnl_attr_nest_start(nlh, IFLA_VF_VLAN_LIST);
		mnl_attr_put(nlh, IFLA_VF_VLAN_INFO, sizeof(vi), &vi);
		mnl_attr_nest_end(nlh, vlist);
		mnl_attr_put(nlh, IFLA_VF_SPOOFCHK, sizeof(c), &c);
		mnl_attr_put(nlh, IFLA_VF_TRUST, sizeof(t), &t);
		mnl_attr_put(nlh, IFLA_VF_LINK_STATE, sizeof(l), &l);
	}
	mnl_attr_nest_end(nlh, info);

	/* VF 0: 802.1Q VLAN, rates; a rate shorter than its struct when asked. */
	info = mnl_attr_nest_start(nlh, IFLA_VF_INFO);
	{
		struct ifla_vf_mac m = {.vf = 0, .mac = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55}};
		struct ifla_vf_vlan v = {.vf = 0, .vlan = 10, .qos = 3};
		struct ifla_vf_rate r = {.vf = 0, .min_tx_rate = 10, .max_tx_rate = 1000};
		struct ifla_vf_spoofchk c = {.vf = 0, .setting = 0};

		mnl_attr_put(nlh, IFLA_VF_MAC, sizeof(m), &m);
		mnl_attr_put(nlh, IFLA_VF_VLAN, sizeof(v), &v);
		mnl_attr_put(nlh, IFLA_VF_RATE, truncate_rate ? 8 : sizeof(r), &r);
		mnl_attr_put(nlh, IFLA_VF_SPOOFCHK, sizeof(c), &c);
	}
	mnl_attr_nest_end(nlh, info);
	/* An entry with nothing the parser knows carries no VF number: left out. */
	info = mnl_attr_nest_start(nlh, IFLA_VF_INFO);
	mnl_attr_put_u32(nlh, 200, 5);
	mnl_attr_nest_end(nlh, info);
	mnl_attr_nest_end(nlh, list);
	return nlh->nlmsg_len;
}

static void test_parse_report(void)
{
	uint8_t buf[4096];
	struct vf_report *v = NULL;
	size_t n = 0, len;

	len = build_report(buf, sizeof(buf), false);
	CHECK_INT(vf_netlink_parse_link(buf, len, &v, &n), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_INT(v[0].vf, 0);
		CHECK_STR(v[0].mac, "02:11:22:33:44:55");
		CHECK(v[0].has_vlan);
		CHECK_INT(v[0].vlan, 10);
		CHECK_INT(v[0].qos, 3);
		CHECK_INT(v[0].proto, 0x8100);
		CHECK(v[0].has_rate);
		CHECK_INT(v[0].min_tx_rate, 10);
		CHECK_INT(v[0].max_tx_rate, 1000);
		CHECK(v[0].has_spoofchk && !v[0].spoofchk);
		CHECK(!v[0].has_trust);
		CHECK(!v[0].has_link_state);

		CHECK_INT(v[1].vf, 1);
		CHECK_STR(v[1].mac, "02:00:00:00:00:01");
		CHECK_INT(v[1].vlan, 300);
		CHECK_INT(v[1].qos, 2);
		CHECK_INT(v[1].proto, 0x88a8);
		/* -1 is the kernel's "the driver did not say". */
		CHECK(!v[1].has_spoofchk);
		CHECK(v[1].has_trust && v[1].trust);
		CHECK(v[1].has_link_state);
		CHECK_INT(v[1].link_state, IFLA_VF_LINK_STATE_DISABLE);
	}
	free(v);
	v = NULL;

	/* A short attribute is not read past its end. */
	len = build_report(buf, sizeof(buf), true);
	CHECK_INT(vf_netlink_parse_link(buf, len, &v, &n), 0);
	CHECK_INT(n, 2);
	if (n == 2)
		CHECK(!v[0].has_rate);
	free(v);
	v = NULL;

	/* Truncated messages, another type, a length beyond the buffer. */
	CHECK_INT(vf_netlink_parse_link(buf, 10, &v, &n), -EBADMSG);
	CHECK_INT(vf_netlink_parse_link(buf, len - 4, &v, &n), -EBADMSG);
	((struct nlmsghdr *)buf)->nlmsg_type = RTM_GETLINK;
	CHECK_INT(vf_netlink_parse_link(buf, len, &v, &n), -EBADMSG);
	((struct nlmsghdr *)buf)->nlmsg_type = RTM_NEWLINK;
	((struct nlmsghdr *)buf)->nlmsg_len = 20;
	CHECK_INT(vf_netlink_parse_link(buf, len, &v, &n), -EBADMSG);

	/* No VF list: no VFs. */
	{
		uint8_t small[256];
		struct nlmsghdr *nlh;

		memset(small, 0, sizeof(small));
		nlh = mnl_nlmsg_put_header(small);
		nlh->nlmsg_type = RTM_NEWLINK;
		mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));
		mnl_attr_put_strz(nlh, IFLA_IFNAME, "lo");
		n = 99;
		CHECK_INT(vf_netlink_parse_link(small, nlh->nlmsg_len, &v, &n), 0);
		CHECK_INT(n, 0);
		free(v);
	}
}

/*
 * The real kernel, in a network namespace of our own (with a user namespace when we are not
 * root, which gives CAP_NET_ADMIN over it): lo has no VFs, so the kernel refuses VF settings
 * with EOPNOTSUPP, and refuses a malformed name with an extended ack message.
 */
static void test_kernel(void)
{
	uint8_t buf[4096];
	struct vf_settings s = {.has_mac = true, .has_trust = true};
	void *reply = NULL;
	size_t reply_len = 0;
	char *extack = NULL;
	struct vf_report *v = NULL;
	size_t n = 99;
	int ifindex, len, r;

	if (unshare(CLONE_NEWNET) < 0 && unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0) {
		fprintf(stderr, "cannot make a network namespace: %m\n");
		test_failures++;
		return;
	}
	ifindex = (int)if_nametoindex("lo");
	CHECK(ifindex > 0);

	memcpy(s.mac, mac1, 6);
	len = vf_netlink_build_set(buf, sizeof(buf), 1, ifindex, 0, &s);
	CHECK(len > 0);
	r = vf_netlink_talk(buf, (size_t)len, false, NULL, NULL, &extack);
	CHECK_INT(r, -EOPNOTSUPP);
	free(extack);
	extack = NULL;

	len = vf_netlink_build_get(buf, sizeof(buf), 2, ifindex);
	r = vf_netlink_talk(buf, (size_t)len, true, &reply, &reply_len, &extack);
	CHECK_INT(r, 0);
	CHECK(extack == NULL);
	if (r == 0) {
		CHECK_INT(vf_netlink_parse_link(reply, reply_len, &v, &n), 0);
		CHECK_INT(n, 0);
		free(v);
	}
	free(reply);

	/* An interface that does not exist. */
	len = vf_netlink_build_set(buf, sizeof(buf), 3, 99999, 0, &s);
	CHECK_INT(vf_netlink_talk(buf, (size_t)len, false, NULL, NULL, &extack), -ENODEV);
	free(extack);
	extack = NULL;

	/* A name longer than IFNAMSIZ fails policy validation, which the kernel explains. */
	{
		struct nlmsghdr *nlh;
		struct ifinfomsg *ifi;

		memset(buf, 0, sizeof(buf));
		nlh = mnl_nlmsg_put_header(buf);
		nlh->nlmsg_type = RTM_NEWLINK;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		nlh->nlmsg_seq = 4;
		ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
		ifi->ifi_index = ifindex;
		mnl_attr_put_strz(nlh, IFLA_IFNAME, "a-name-far-longer-than-ifnamsiz");
		r = vf_netlink_talk(buf, nlh->nlmsg_len, false, NULL, NULL, &extack);
		CHECK(r < 0);
		CHECK(extack != NULL && *extack);
		fprintf(stderr, "kernel's extended ack: %d %s\n", r, extack ? extack : "(none)");
		free(extack);
	}
}

static void test_parsers(void)
{
	uint8_t mac[6];
	unsigned u;
	uint16_t p;

	CHECK_INT(passthru_vf_parse_mac("02:11:22:33:44:55", mac), 0);
	CHECK(memcmp(mac, mac1, 6) == 0);
	CHECK_INT(passthru_vf_parse_mac("02-AA-bb-CC-dd-EE", mac), 0);
	CHECK(memcmp(mac, mac_all, 6) == 0);
	CHECK_INT(passthru_vf_parse_mac("00:00:00:00:00:00", mac), 0);
	CHECK_INT(passthru_vf_parse_mac("01:00:5e:00:00:01", mac), -EINVAL);
	CHECK_INT(passthru_vf_parse_mac("ff:ff:ff:ff:ff:ff", mac), -EINVAL);
	CHECK_INT(passthru_vf_parse_mac("02:11:22:33:44", mac), -EINVAL);
	CHECK_INT(passthru_vf_parse_mac("02:11:22:33:44:5g", mac), -EINVAL);
	CHECK_INT(passthru_vf_parse_mac("02:11-22:33:44:55", mac), -EINVAL);
	CHECK_INT(passthru_vf_parse_mac("02:11:22:33:44:55:", mac), -EINVAL);
	CHECK_INT(passthru_vf_parse_mac("0211.2233.4455", mac), -EINVAL);

	CHECK_INT(passthru_vf_parse_vlan("4095", &u), 0);
	CHECK_INT(u, 4095);
	CHECK_INT(passthru_vf_parse_vlan("0", &u), 0);
	CHECK_INT(u, 0);
	CHECK_INT(passthru_vf_parse_vlan("4096", &u), -ERANGE);
	CHECK_INT(passthru_vf_parse_vlan("-1", &u), -EINVAL);
	CHECK_INT(passthru_vf_parse_vlan("+5", &u), -EINVAL);
	CHECK_INT(passthru_vf_parse_vlan("0x10", &u), -EINVAL);
	CHECK_INT(passthru_vf_parse_vlan("", &u), -EINVAL);
	CHECK_INT(passthru_vf_parse_vlan("99999999999999999999999", &u), -ERANGE);
	CHECK_INT(passthru_vf_parse_qos("7", &u), 0);
	CHECK_INT(passthru_vf_parse_qos("8", &u), -ERANGE);

	CHECK_INT(passthru_vf_parse_vlan_proto("802.1Q", &p), 0);
	CHECK_INT(p, 0x8100);
	CHECK_INT(passthru_vf_parse_vlan_proto("802.1AD", &p), 0);
	CHECK_INT(p, 0x88a8);
	CHECK_INT(passthru_vf_parse_vlan_proto("qinq", &p), -EINVAL);

	CHECK_INT(passthru_vf_parse_rate("100", &u), 0);
	CHECK_INT(u, 100);
	CHECK_INT(passthru_vf_parse_rate("100M", &u), 0);
	CHECK_INT(u, 100);
	CHECK_INT(passthru_vf_parse_rate("250mbit", &u), 0);
	CHECK_INT(u, 250);
	CHECK_INT(passthru_vf_parse_rate("10G", &u), 0);
	CHECK_INT(u, 10000);
	CHECK_INT(passthru_vf_parse_rate("4Gbit", &u), 0);
	CHECK_INT(u, 4000);
	CHECK_INT(passthru_vf_parse_rate("0", &u), 0);
	CHECK_INT(u, 0);
	CHECK_INT(passthru_vf_parse_rate("4294967295", &u), 0);
	CHECK(u == 4294967295u);
	CHECK_INT(passthru_vf_parse_rate("4294967296", &u), -ERANGE);
	CHECK_INT(passthru_vf_parse_rate("4294968G", &u), -ERANGE);
	CHECK_INT(passthru_vf_parse_rate("G", &u), -EINVAL);
	CHECK_INT(passthru_vf_parse_rate("10K", &u), -EINVAL);
	CHECK_INT(passthru_vf_parse_rate("1.5G", &u), -EINVAL);
	CHECK_INT(passthru_vf_parse_rate("", &u), -EINVAL);
}

/* A fixture host: an X710-like PF with two VFs and an interface, a PF without one. */
static const char spec[] =
    "{\"iommu\": \"intel\", \"pci\": ["
    " {\"addr\": \"0000:03:00.0\", \"vendor\": \"8086\", \"device\": \"1572\","
    "  \"class\": \"020000\", \"driver\": \"i40e\","
    "  \"sriov\": {\"total\": 8, \"num\": 2, \"vf_device\": \"154c\"}},"
    " {\"addr\": \"0000:04:00.0\", \"vendor\": \"8086\", \"device\": \"1572\","
    "  \"class\": \"020000\", \"driver\": \"i40e\","
    "  \"sriov\": {\"total\": 8, \"num\": 1, \"vf_device\": \"154c\"}},"
    " {\"addr\": \"0000:05:00.0\", \"vendor\": \"8086\", \"device\": \"10d3\","
    "  \"class\": \"020000\", \"driver\": \"e1000e\"}],"
    " \"files\": {\"sys/bus/pci/devices/0000:03:00.0/net/enp3s0f0/ifindex\": \"5\\n\","
    "            \"sys/bus/pci/devices/0000:03:00.0/net/enp3s0f1/ifindex\": \"6\\n\","
    "            \"sys/bus/pci/devices/0000:05:00.0/net/eth0/ifindex\": \"2\\n\"}}";

static char *build_root(void)
{
	char *root;

	if (asprintf(&root, "%s/root", fixture_tmpdir()) < 0)
		exit(1);
	fixture_build_text(spec, root);
	return root;
}

static void test_vf_object(void)
{
	struct passthru_ctx *ctx = NULL;
	struct passthru_vf *vf = NULL;
	struct passthru_vf_list *list = NULL;
	char *root = build_root(), *text;
	uint8_t mac[6];

	CHECK_INT(passthru_ctx_new(root, &ctx), 0);
	CHECK_INT(passthru_vf_new(ctx, "03:00.0", 1, &vf), 0);
	if (vf) {
		CHECK_STR(passthru_vf_get_pf(vf), "0000:03:00.0");
		CHECK_INT(passthru_vf_get_index(vf), 1);
		CHECK_STR(passthru_vf_get_address(vf), "0000:03:10.2");
		/* The first interface by name. */
		CHECK_STR(passthru_vf_get_netdev(vf), "enp3s0f0");
		CHECK_STR(passthru_vf_get_summary(vf), "");
		/* Nothing set: nothing to send or save. */
		CHECK_INT(passthru_vf_apply(vf), -EINVAL);
		CHECK_INT(passthru_vf_save(vf), -EINVAL);

		mac[0] = 0x01;
		CHECK_INT(passthru_vf_set_mac(vf, mac), -EINVAL);
		CHECK_INT(passthru_vf_set_vlan(vf, 4096, 0, 0), -ERANGE);
		CHECK_INT(passthru_vf_set_vlan(vf, 10, 8, 0), -ERANGE);
		CHECK_INT(passthru_vf_set_vlan(vf, 10, 0, 0x1234), -EINVAL);
		CHECK_INT(passthru_vf_set_mac(vf, mac1), 0);
		CHECK_INT(passthru_vf_set_vlan(vf, 100, 5, 0x88a8), 0);
		passthru_vf_set_spoofchk(vf, false);
		passthru_vf_set_trust(vf, true);
		passthru_vf_set_max_tx_rate(vf, 2500);
		CHECK_STR(passthru_vf_get_summary(vf),
			  "mac 02:11:22:33:44:55 vlan 100 qos 5 proto "
			  "802.1ad spoofchk off trust on max-tx-rate 2500");
		/* Below a fixture root there is no kernel to tell. */
		CHECK_INT(passthru_vf_apply(vf), -EOPNOTSUPP);
		CHECK(passthru_vf_get_error(vf) == NULL);
		CHECK_INT(passthru_vf_save(vf), 0);
		text = fixture_get(root, "etc/passthru/vf.d/0000:03:00.0.conf");
		CHECK(text && strstr(text, "\ndevice 8086:1572:8086:1572\n"));
		CHECK(text &&
		      strstr(text, "\nvf 1 mac=02:11:22:33:44:55 vlan=100 qos=5 "
				   "proto=802.1ad spoofchk=off trust=on max-tx-rate=2500\n"));
		free(text);
		passthru_vf_unref(vf);
		vf = NULL;
	}

	/* A second save of the same VF merges, another VF gets its own line, in order. */
	CHECK_INT(passthru_vf_new(ctx, "0000:03:00.0", 0, &vf), 0);
	if (vf) {
		passthru_vf_set_trust(vf, false);
		CHECK_INT(passthru_vf_save(vf), 0);
		passthru_vf_unref(vf);
		vf = NULL;
	}
	CHECK_INT(passthru_vf_new(ctx, "0000:03:00.0", 1, &vf), 0);
	if (vf) {
		CHECK_INT(passthru_vf_set_vlan(vf, 0, 0, 0), 0);
		CHECK_INT(passthru_vf_save(vf), 0);
		passthru_vf_unref(vf);
		vf = NULL;
	}
	text = fixture_get(root, "etc/passthru/vf.d/0000:03:00.0.conf");
	CHECK(text && strstr(text, "\ndevice 8086:1572:8086:1572\nvf 0 trust=off\nvf 1 "
				   "mac=02:11:22:33:44:55 vlan=0 spoofchk=off trust=on "
				   "max-tx-rate=2500\n"));
	free(text);

	CHECK_INT(passthru_vf_new(ctx, "0000:03:00.0", 2, &vf), -ENOENT);
	CHECK_INT(passthru_vf_new(ctx, "0000:04:00.0", 0, &vf), -ENOLINK);
	CHECK_INT(passthru_vf_new(ctx, "0000:05:00.0", 0, &vf), -EOPNOTSUPP);
	CHECK_INT(passthru_vf_new(ctx, "0000:03:10.0", 0, &vf), -EOPNOTSUPP);
	CHECK_INT(passthru_vf_new(ctx, "0000:09:00.0", 0, &vf), -ENODEV);
	CHECK_INT(passthru_vf_new(ctx, "3:0.0", 0, &vf), -EINVAL);

	CHECK_INT(passthru_vf_list_read(ctx, "0000:03:00.0", &list), -EOPNOTSUPP);
	CHECK_INT(passthru_vf_list_read(ctx, "0000:04:00.0", &list), -ENOLINK);
	CHECK(list == NULL);
	CHECK_INT(passthru_vf_list_count(NULL), 0);
	passthru_ctx_unref(ctx);
	free(root);
}

/* A fake PF driver with two VFs: what it reports, and what it does with a request. */
struct fake_pf {
	struct vf_report vfs[2];
	unsigned sets;
	/* The set request of this number (from 1) is refused after its MAC was taken. */
	unsigned refuse_at;
	/* The driver takes trust without error but keeps it off. */
	bool ignore_trust;
};

static int fake_get(void *userdata, int ifindex, struct vf_report **ret, size_t *ret_n)
{
	struct fake_pf *f = userdata;

	if (ifindex != 5)
		return -ENODEV;
	*ret = malloc(sizeof(f->vfs));
	if (!*ret)
		return -ENOMEM;
	memcpy(*ret, f->vfs, sizeof(f->vfs));
	*ret_n = 2;
	return 0;
}

static int fake_set(void *userdata, int ifindex, unsigned vf, const struct vf_settings *s,
		    char **ret_extack)
{
	struct fake_pf *f = userdata;
	struct vf_report *v;

	*ret_extack = NULL;
	if (ifindex != 5)
		return -ENODEV;
	if (vf >= 2)
		return -EINVAL;
	v = &f->vfs[vf];
	f->sets++;
	/* As the kernel does: the settings in order, stopping at the first refused. */
	if (s->has_mac)
		snprintf(v->mac, sizeof(v->mac), "%02x:%02x:%02x:%02x:%02x:%02x", s->mac[0],
			 s->mac[1], s->mac[2], s->mac[3], s->mac[4], s->mac[5]);
	if (f->sets == f->refuse_at) {
		*ret_extack = strdup("fake refusal");
		return -EINVAL;
	}
	if (s->has_vlan) {
		v->vlan = s->vlan;
		v->qos = s->qos;
		v->proto = s->proto;
	}
	if (s->has_spoofchk)
		v->spoofchk = s->spoofchk;
	if (s->has_trust && !f->ignore_trust)
		v->trust = s->trust;
	if (s->has_rate) {
		v->min_tx_rate = s->min_tx_rate;
		v->max_tx_rate = s->max_tx_rate;
	}
	return 0;
}

static void fake_reset(struct fake_pf *f)
{
	memset(f, 0, sizeof(*f));
	for (unsigned i = 0; i < 2; i++) {
		f->vfs[i] = (struct vf_report){.vf = i,
					       .has_mac = true,
					       .has_vlan = true,
					       .has_spoofchk = true,
					       .has_trust = true,
					       .has_rate = true,
					       .proto = ETH_P_8021Q_VALUE,
					       .spoofchk = true,
					       .min_tx_rate = 0,
					       .max_tx_rate = 0};
		snprintf(f->vfs[i].mac, sizeof(f->vfs[i].mac), "00:00:00:00:00:0%u", i);
	}
}

static bool file_exists(const char *root, const char *rel)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return access(path, F_OK) == 0;
}

/* A context on the fixture root whose VF driver is ops (a fake's) in place of rtnetlink. */
static struct passthru_ctx *fake_driver_ctx(const struct vf_link_ops *ops, char **ret_root)
{
	struct passthru_ctx *ctx = NULL;

	if (asprintf(ret_root, "%s/root", fixture_tmpdir()) < 0)
		exit(1);
	CHECK_INT(passthru_ctx_new(*ret_root, &ctx), 0);
	if (ctx)
		vf_link_set_ops(ctx, ops);
	return ctx;
}

static void test_vf_executor(void)
{
	struct fake_pf f;
	const struct vf_link_ops ops = {.get = fake_get, .set = fake_set, .userdata = &f};
	struct passthru_ctx *ctx = NULL;
	struct passthru_vf *vf = NULL;
	char *root, *text;

	ctx = fake_driver_ctx(&ops, &root);
	if (!ctx)
		return;

	/* Success: sent, read back, no journal left. */
	fake_reset(&f);
	CHECK_INT(passthru_vf_new(ctx, "0000:03:00.0", 1, &vf), 0);
	if (vf) {
		CHECK_INT(passthru_vf_set_mac(vf, mac1), 0);
		passthru_vf_set_trust(vf, true);
		passthru_vf_set_max_tx_rate(vf, 100);
		CHECK_INT(passthru_vf_apply(vf), 0);
		CHECK(passthru_vf_get_error(vf) == NULL);
		CHECK_STR(f.vfs[1].mac, "02:11:22:33:44:55");
		CHECK(f.vfs[1].trust);
		CHECK_INT(f.vfs[1].max_tx_rate, 100);
		CHECK_STR(f.vfs[0].mac, "00:00:00:00:00:00");
		CHECK_INT(f.sets, 1);
		CHECK(!file_exists(root, "run/passthru/journal"));

		/* Refused after its MAC was taken: the MAC goes back, the kernel's word kept. */
		fake_reset(&f);
		f.refuse_at = 1;
		CHECK_INT(passthru_vf_apply(vf), -EINVAL);
		CHECK_STR(passthru_vf_get_error(vf), "fake refusal");
		CHECK_STR(f.vfs[1].mac, "00:00:00:00:00:01");
		CHECK(!f.vfs[1].trust);
		CHECK_INT(f.sets, 2);
		CHECK(!file_exists(root, "run/passthru/journal"));

		/* Taken without error but not read back as sent: undone too. */
		fake_reset(&f);
		f.ignore_trust = true;
		CHECK_INT(passthru_vf_apply(vf), -EIO);
		CHECK(passthru_vf_get_error(vf) &&
		      strstr(passthru_vf_get_error(vf), "does not have the settings sent"));
		CHECK_STR(f.vfs[1].mac, "00:00:00:00:00:01");
		CHECK(!file_exists(root, "run/passthru/journal"));
		passthru_vf_unref(vf);
		vf = NULL;
	}

	/* A plan of two steps whose second fails: both undone, the first after the second. */
	fake_reset(&f);
	f.refuse_at = 2;
	{
		struct passthru_plan_report report = {0};
		struct executor x;
		struct exec_vf steps[2] = {
		    {.pf = "0000:03:00.0",
		     .index = 0,
		     .ifindex = 5,
		     .settings = {.has_mac = true, .mac = {0x02, 0, 0, 0, 0, 0x10}}},
		    {.pf = "0000:03:00.0",
		     .index = 1,
		     .ifindex = 5,
		     .settings = {.has_mac = true,
				  .mac = {0x02, 0, 0, 0, 0, 0x11},
				  .has_spoofchk = true,
				  .spoofchk = false}},
		};
		char *extack = NULL;
		bool refused = false;

		CHECK_INT(executor_begin(&x, ctx, 1000, 1000, NULL, NULL, &report), 0);
		CHECK_INT(executor_run_vfs(&x, steps, 2, &extack, &refused), -EINVAL);
		executor_end(&x);
		CHECK(refused);
		CHECK_STR(extack, "fake refusal");
		CHECK_STR(report.error, "0000:03:00.0: cannot set VF 1: fake refusal");
		CHECK_STR(f.vfs[0].mac, "00:00:00:00:00:00");
		CHECK_STR(f.vfs[1].mac, "00:00:00:00:00:01");
		CHECK(f.vfs[1].spoofchk);
		/* Two sends, then the undo of VF 1, then of VF 0. */
		CHECK_INT(f.sets, 4);
		CHECK(!file_exists(root, "run/passthru/journal"));
		free(extack);
		plan_report_done(&report);
	}

	/* An interrupted change (its journal left, VF 1 half set): the next run puts it back. */
	fake_reset(&f);
	snprintf(f.vfs[1].mac, sizeof(f.vfs[1].mac), "02:11:22:33:44:55");
	f.vfs[1].trust = true;
	{
		char path[4096];
		FILE *jf;

		snprintf(path, sizeof(path), "%s/run/passthru/journal", root);
		jf = fopen(path, "we");
		CHECK(jf != NULL);
		if (jf) {
			fputs("passthru-journal 1\nop vf\npid 999999\n"
			      "vf 0000:03:00.0 1 mac=02:11:22:33:44:55 trust=on "
			      "undo mac=00:00:00:00:00:01 trust=off\n",
			      jf);
			fclose(jf);
		}
	}
	CHECK_INT(passthru_vf_new(ctx, "0000:03:00.0", 0, &vf), 0);
	if (vf) {
		passthru_vf_set_spoofchk(vf, false);
		CHECK_INT(passthru_vf_apply(vf), 0);
		CHECK_STR(f.vfs[1].mac, "00:00:00:00:00:01");
		CHECK(!f.vfs[1].trust);
		CHECK(!f.vfs[0].spoofchk);
		CHECK(!file_exists(root, "run/passthru/journal"));
		text = fixture_get(root, "run/passthru/log");
		CHECK(text &&
		      strstr(text, "repair: interrupted change of VF settings rolled back"));
		free(text);
		passthru_vf_unref(vf);
	}

	/* Without the fake, a fixture root has no driver to tell. */
	vf_link_set_ops(ctx, NULL);
	CHECK(vf_link_get_ops(ctx) == NULL);
	passthru_ctx_unref(ctx);
	free(root);
}

/* What a lock_wait callback was told. */
struct lock_waits {
	unsigned calls;
	char holder[256];
	char reports[2048];
};

static void on_lock_wait(void *userdata, const char *holder)
{
	struct lock_waits *w = userdata;

	w->calls++;
	snprintf(w->holder, sizeof(w->holder), "%s", holder ? holder : "(nobody named)");
}

static void on_apply_report(void *userdata, const char *pf, int error, const char *message)
{
	struct lock_waits *w = userdata;
	size_t len = strlen(w->reports);

	snprintf(w->reports + len, sizeof(w->reports) - len, "%s %d %s\n", pf, error, message);
}

static void write_file(const char *root, const char *rel, const char *text, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "we");
	if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/*
 * Another process's change holds /run/passthru/lock (here the test itself, through a descriptor
 * of its own): applying VF settings gives up after the timeout it was given, naming the holder
 * as the running kernel's /proc/locks says (copied into the root with the holder's command
 * line), and sends nothing. The same through passthru_apply_persisted(), whose timeout reaches
 * the VF's settings.
 */
static void test_vf_lock_wait(void)
{
	static const char cmdline[] = "/usr/bin/lock-holder\0--test\0";
	struct fake_pf f;
	const struct vf_link_ops ops = {.get = fake_get, .set = fake_set, .userdata = &f};
	const struct passthru_apply_ops apply_ops = {.sriov = on_apply_report,
						     .lock_wait = on_lock_wait};
	struct lock_waits w = {.calls = 0};
	struct passthru_ctx *ctx = NULL;
	struct passthru_vf *vf = NULL;
	char *root, path[4096], rel[64], holder[128], error[512], *locks;
	int fd;

	ctx = fake_driver_ctx(&ops, &root);
	if (!ctx)
		return;
	fake_reset(&f);

	snprintf(path, sizeof(path), "%s/run/passthru", root);
	(void)mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/run/passthru/lock", root);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	CHECK(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0);
	locks = fixture_get("/", "proc/locks");
	CHECK(locks != NULL);
	snprintf(path, sizeof(path), "%s/proc", root);
	(void)mkdir(path, 0755);
	write_file(root, "proc/locks", locks ? locks : "", locks ? strlen(locks) : 0);
	free(locks);
	snprintf(rel, sizeof(rel), "proc/%d", (int)getpid());
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	(void)mkdir(path, 0755);
	snprintf(rel, sizeof(rel), "proc/%d/cmdline", (int)getpid());
	write_file(root, rel, cmdline, sizeof(cmdline) - 1);
	snprintf(holder, sizeof(holder), "pid %d (lock-holder --test)", (int)getpid());
	snprintf(error, sizeof(error),
		 "another passthru is changing devices: %s holds /run/passthru/lock; gave up "
		 "waiting after 100 ms",
		 holder);

	CHECK_INT(passthru_vf_new(ctx, "0000:03:00.0", 1, &vf), 0);
	if (vf) {
		passthru_vf_set_trust(vf, true);
		passthru_vf_set_timeout(vf, 100);
		passthru_vf_set_wait_fn(vf, on_lock_wait, &w);
		CHECK_INT(passthru_vf_apply(vf), -EBUSY);
		CHECK_STR(passthru_vf_get_error(vf), error);
		CHECK_INT(w.calls, 1);
		CHECK_STR(w.holder, holder);
		CHECK_INT(f.sets, 0);
		CHECK(!f.vfs[1].trust);
		passthru_vf_unref(vf);
	}

	/* At boot: passthru apply --timeout reaches the VF's settings too. */
	snprintf(path, sizeof(path), "%s/etc/passthru/vf.d", root);
	CHECK(access(path, F_OK) == 0);
	write_file(root, "etc/passthru/vf.d/0000:03:00.0.conf",
		   "device 8086:1572:8086:1572\nvf 1 trust=on\n",
		   strlen("device 8086:1572:8086:1572\nvf 1 trust=on\n"));
	w = (struct lock_waits){.calls = 0};
	CHECK_INT(passthru_apply_persisted(ctx, 0, 100, &apply_ops, &w), -EBUSY);
	{
		char want[1024];

		snprintf(want, sizeof(want),
			 "0000:03:00.0 -16 VF 1 on enp3s0f0: cannot set trust on: Device or "
			 "resource busy: %s\n",
			 error);
		CHECK_STR(w.reports, want);
	}
	CHECK_INT(w.calls, 1);
	CHECK_STR(w.holder, holder);
	CHECK_INT(f.sets, 0);

	/* The holder gone, the same settings go through. */
	close(fd);
	w = (struct lock_waits){.calls = 0};
	CHECK_INT(passthru_apply_persisted(ctx, 0, 100, &apply_ops, &w), 0);
	CHECK_STR(w.reports, "0000:03:00.0 0 VF 1 on enp3s0f0: trust on\n");
	CHECK_INT(w.calls, 0);
	CHECK(f.vfs[1].trust);

	snprintf(path, sizeof(path), "%s/etc/passthru/vf.d/0000:03:00.0.conf", root);
	CHECK(unlink(path) == 0);
	vf_link_set_ops(ctx, NULL);
	passthru_ctx_unref(ctx);
	free(root);
}

int main(void)
{
	test_iproute2_bytes();
	test_build_errors();
	test_build_get();
	test_parse_report();
	test_parsers();
	test_vf_object();
	test_vf_executor();
	test_vf_lock_wait();
	/* Last: it moves the process into namespaces of its own. */
	test_kernel();
	TEST_DONE();
}
