/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VF link settings over rtnetlink. A NIC's PF driver owns its VFs' MAC address, VLAN, spoof
 * checking, trust and rate limits; they are set with a request on the PF's interface carrying
 * IFLA_VFINFO_LIST -> IFLA_VF_INFO -> one attribute per setting, and read back with
 * RTM_GETLINK and RTEXT_FILTER_VF.
 *
 * The request is built to be byte for byte what iproute2's `ip link set DEV vf N ...` sends
 * (tests/fixtures/vf-netlink holds its captured messages), because that is the form every
 * driver has been exercised with:
 * - RTM_NEWLINK without NLM_F_CREATE (the kernel sets up an existing link with it as with
 *   RTM_SETLINK), NLM_F_REQUEST | NLM_F_ACK;
 * - nests without NLA_F_NESTED, which libmnl sets and the kernel ignores here;
 * - the settings in the order mac, vlan, spoofchk, trust, then the rate last;
 * - an 802.1Q VLAN as the old IFLA_VF_VLAN, only 802.1ad as IFLA_VF_VLAN_LIST;
 * - the rate as IFLA_VF_RATE with both limits (the minimum read from the driver first).
 * The socket sets NETLINK_EXT_ACK, so a refusal comes with the kernel's (or driver's) reason.
 *
 * rtnetlink reaches the running kernel only: below a sysroot other than "/" nothing is sent.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "sriov.h"

/* ------------------------------------------------------------------------------------------ */
/* Building requests                                                                          */

/* A nest as iproute2 makes it: libmnl adds NLA_F_NESTED, which iproute2 does not send. */
static struct nlattr *nest_start(struct nlmsghdr *nlh, size_t size, uint16_t type)
{
	struct nlattr *a = mnl_attr_nest_start_check(nlh, size, type);

	if (a)
		a->nla_type = type;
	return a;
}

static struct nlmsghdr *put_link_header(void *buf, size_t size, uint16_t type, uint16_t flags,
					uint32_t seq, int ifindex)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	if (size < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct ifinfomsg)))
		return NULL;
	memset(buf, 0, MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct ifinfomsg)));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return nlh;
}

int vf_netlink_build_set(void *buf, size_t size, uint32_t seq, int ifindex, unsigned vf,
			 const struct vf_settings *s)
{
	struct nlmsghdr *nlh;
	struct nlattr *list, *info;

	if (!s->has_mac && !s->has_vlan && !s->has_spoofchk && !s->has_trust && !s->has_rate)
		return -EINVAL;
	nlh = put_link_header(buf, size, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq, ifindex);
	if (!nlh)
		return -ENOBUFS;
	list = nest_start(nlh, size, IFLA_VFINFO_LIST);
	info = list ? nest_start(nlh, size, IFLA_VF_INFO) : NULL;
	if (!info)
		return -ENOBUFS;

	if (s->has_mac) {
		struct ifla_vf_mac m;

		memset(&m, 0, sizeof(m));
		m.vf = vf;
		memcpy(m.mac, s->mac, 6);
		if (!mnl_attr_put_check(nlh, size, IFLA_VF_MAC, sizeof(m), &m))
			return -ENOBUFS;
	}
	if (s->has_vlan && s->proto == ETH_P_8021AD_VALUE) {
		struct ifla_vf_vlan_info v;
		struct nlattr *vlist;

		memset(&v, 0, sizeof(v));
		v.vf = vf;
		v.vlan = s->vlan;
		v.qos = s->qos;
		v.vlan_proto = htons(s->proto);
		vlist = nest_start(nlh, size, IFLA_VF_VLAN_LIST);
		if (!vlist || !mnl_attr_put_check(nlh, size, IFLA_VF_VLAN_INFO, sizeof(v), &v))
			return -ENOBUFS;
		mnl_attr_nest_end(nlh, vlist);
	} else if (s->has_vlan) {
		struct ifla_vf_vlan v;

		memset(&v, 0, sizeof(v));
		v.vf = vf;
		v.vlan = s->vlan;
		v.qos = s->qos;
		if (!mnl_attr_put_check(nlh, size, IFLA_VF_VLAN, sizeof(v), &v))
			return -ENOBUFS;
	}
	if (s->has_spoofchk) {
		struct ifla_vf_spoofchk c = {.vf = vf, .setting = s->spoofchk};

		if (!mnl_attr_put_check(nlh, size, IFLA_VF_SPOOFCHK, sizeof(c), &c))
			return -ENOBUFS;
	}
	if (s->has_trust) {
		struct ifla_vf_trust t = {.vf = vf, .setting = s->trust};

		if (!mnl_attr_put_check(nlh, size, IFLA_VF_TRUST, sizeof(t), &t))
			return -ENOBUFS;
	}
	if (s->has_rate) {
		struct ifla_vf_rate r = {
		    .vf = vf, .min_tx_rate = s->min_tx_rate, .max_tx_rate = s->max_tx_rate};

		if (!mnl_attr_put_check(nlh, size, IFLA_VF_RATE, sizeof(r), &r))
			return -ENOBUFS;
	}
	mnl_attr_nest_end(nlh, info);
	mnl_attr_nest_end(nlh, list);
	return (int)nlh->nlmsg_len;
}

int vf_netlink_build_get(void *buf, size_t size, uint32_t seq, int ifindex)
{
	struct nlmsghdr *nlh = put_link_header(buf, size, RTM_GETLINK, NLM_F_REQUEST, seq, ifindex);

	if (!nlh)
		return -ENOBUFS;
	/* VF statistics are large and not what we show. */
	if (!mnl_attr_put_u32_check(nlh, size, IFLA_EXT_MASK,
				    RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS))
		return -ENOBUFS;
	return (int)nlh->nlmsg_len;
}

/* ------------------------------------------------------------------------------------------ */
/* Parsing the driver's report                                                                */

/* Copies an attribute's payload when it holds at least size bytes. */
static bool payload_get(const struct nlattr *a, void *dst, size_t size)
{
	if (mnl_attr_get_payload_len(a) < size)
		return false;
	memcpy(dst, mnl_attr_get_payload(a), size);
	return true;
}

static void parse_vf_info(const struct nlattr *info, struct vf_report *v, bool *has_vf)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, info)
	{
		switch (mnl_attr_get_type(a)) {
		case IFLA_VF_MAC: {
			struct ifla_vf_mac m;

			if (!payload_get(a, &m, sizeof(m)))
				break;
			v->vf = m.vf;
			*has_vf = true;
			snprintf(v->mac, sizeof(v->mac), "%02x:%02x:%02x:%02x:%02x:%02x", m.mac[0],
				 m.mac[1], m.mac[2], m.mac[3], m.mac[4], m.mac[5]);
			v->has_mac = true;
			break;
		}
		case IFLA_VF_VLAN: {
			struct ifla_vf_vlan vl;

			/* The list, when there is one, tells the protocol too: it wins. */
			if (v->has_vlan || !payload_get(a, &vl, sizeof(vl)))
				break;
			v->vf = vl.vf;
			*has_vf = true;
			v->vlan = vl.vlan;
			v->qos = vl.qos;
			v->proto = ETH_P_8021Q_VALUE;
			v->has_vlan = true;
			break;
		}
		case IFLA_VF_VLAN_LIST: {
			const struct nlattr *e;

			mnl_attr_for_each_nested(e, a)
			{
				struct ifla_vf_vlan_info vi;

				if (mnl_attr_get_type(e) != IFLA_VF_VLAN_INFO ||
				    !payload_get(e, &vi, sizeof(vi)))
					continue;
				v->vf = vi.vf;
				*has_vf = true;
				v->vlan = vi.vlan;
				v->qos = vi.qos;
				v->proto = ntohs(vi.vlan_proto);
				v->has_vlan = true;
				break;
			}
			break;
		}
		case IFLA_VF_RATE: {
			struct ifla_vf_rate r;

			if (!payload_get(a, &r, sizeof(r)))
				break;
			v->vf = r.vf;
			*has_vf = true;
			v->min_tx_rate = r.min_tx_rate;
			v->max_tx_rate = r.max_tx_rate;
			v->has_rate = true;
			break;
		}
		case IFLA_VF_SPOOFCHK: {
			struct ifla_vf_spoofchk c;

			if (!payload_get(a, &c, sizeof(c)))
				break;
			v->vf = c.vf;
			*has_vf = true;
			/* The kernel fills in -1 for a driver that does not say. */
			if (c.setting <= 1) {
				v->spoofchk = c.setting;
				v->has_spoofchk = true;
			}
			break;
		}
		case IFLA_VF_TRUST: {
			struct ifla_vf_trust t;

			if (!payload_get(a, &t, sizeof(t)))
				break;
			v->vf = t.vf;
			*has_vf = true;
			if (t.setting <= 1) {
				v->trust = t.setting;
				v->has_trust = true;
			}
			break;
		}
		case IFLA_VF_LINK_STATE: {
			struct ifla_vf_link_state l;

			if (!payload_get(a, &l, sizeof(l)))
				break;
			v->vf = l.vf;
			*has_vf = true;
			if (l.link_state < __IFLA_VF_LINK_STATE_MAX) {
				v->link_state = l.link_state;
				v->has_link_state = true;
			}
			break;
		}
		default:
			break;
		}
	}
}

static int cmp_report(const void *a, const void *b)
{
	const struct vf_report *x = a, *y = b;

	return x->vf < y->vf ? -1 : x->vf > y->vf;
}

int vf_netlink_parse_link(const void *msg, size_t len, struct vf_report **ret, size_t *ret_n)
{
	const struct nlmsghdr *nlh = msg;
	const struct nlattr *a;
	_cleanup_free_ struct vf_report *vfs = NULL;
	size_t n = 0;

	if (len < MNL_NLMSG_HDRLEN || nlh->nlmsg_len < MNL_NLMSG_HDRLEN || nlh->nlmsg_len > len ||
	    nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < MNL_ALIGN(sizeof(struct ifinfomsg)))
		return -EBADMSG;

	mnl_attr_for_each(a, nlh, sizeof(struct ifinfomsg))
	{
		const struct nlattr *info;

		if (mnl_attr_get_type(a) != IFLA_VFINFO_LIST)
			continue;
		mnl_attr_for_each_nested(info, a)
		{
			struct vf_report v = {0};
			bool has_vf = false;

			if (mnl_attr_get_type(info) != IFLA_VF_INFO)
				continue;
			parse_vf_info(info, &v, &has_vf);
			/* Every setting carries the VF number: without any, it is nobody's. */
			if (!has_vf)
				continue;
			if (n % 16 == 0) {
				struct vf_report *nv = realloc(vfs, (n + 16) * sizeof(*vfs));

				if (!nv)
					return -ENOMEM;
				vfs = nv;
			}
			vfs[n++] = v;
		}
	}
	if (n > 1)
		qsort(vfs, n, sizeof(*vfs), cmp_report);
	*ret = TAKE_PTR(vfs);
	*ret_n = n;
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Talking to the kernel                                                                      */

static void mnl_socket_closep(struct mnl_socket **nl)
{
	if (*nl)
		mnl_socket_close(*nl);
}

/* The kernel's message in an error's extended ack TLVs, when there is one. */
static char *extack_message(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	size_t offset = sizeof(*err), payload = mnl_nlmsg_get_payload_len(nlh);
	const struct nlattr *a;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	/* Without NLM_F_CAPPED the whole request is echoed before the TLVs. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (err->msg.nlmsg_len < MNL_NLMSG_HDRLEN)
			return NULL;
		offset += MNL_ALIGN(err->msg.nlmsg_len - MNL_NLMSG_HDRLEN);
	}
	if (offset >= payload)
		return NULL;
	mnl_attr_for_each(a, nlh, offset)
	{
		if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0) {
			const char *s = mnl_attr_get_str(a);

			return *s ? escape_for_message(s, 512) : NULL;
		}
	}
	return NULL;
}

int vf_netlink_talk(void *request, size_t len, bool want_reply, void **ret_reply,
		    size_t *ret_reply_len, char **ret_extack)
{
	_cleanup_(mnl_socket_closep) struct mnl_socket *nl = NULL;
	const struct nlmsghdr *req = request;
	struct timeval tv = {.tv_sec = 10};
	unsigned portid;
	int one = 1;

	*ret_extack = NULL;
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	/* Kernels before 4.12 have no extended acks: errors then come without a message. */
	(void)mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	/* rtnetlink answers at once; a receive that waits this long will not get one. */
	(void)setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, request, len) < 0)
		return -errno;

	for (;;) {
		_cleanup_free_ char *buf = NULL;
		const struct nlmsghdr *nlh;
		ssize_t n;
		int left;

		/* Learn the datagram's size first: a PF with many VFs sends a large one. */
		n = recv(mnl_socket_get_fd(nl), NULL, 0, MSG_PEEK | MSG_TRUNC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		if (n > 16 * 1024 * 1024)
			return -EMSGSIZE;
		buf = malloc(n > 0 ? (size_t)n : 1);
		if (!buf)
			return -ENOMEM;
		n = recv(mnl_socket_get_fd(nl), buf, (size_t)n, 0);
		if (n < 0)
			return -errno;
		left = (int)n;
		for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			if (!mnl_nlmsg_portid_ok(nlh, portid) ||
			    !mnl_nlmsg_seq_ok(nlh, req->nlmsg_seq))
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);

				if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*err))
					return -EBADMSG;
				if (err->error < 0) {
					*ret_extack = extack_message(nlh);
					return err->error;
				}
				if (!want_reply)
					return 0;
				/* An ack without the answer we asked for. */
				return -ENODATA;
			}
			if (nlh->nlmsg_type == NLMSG_DONE)
				return -ENODATA;
			if (want_reply) {
				void *copy = malloc(nlh->nlmsg_len);

				if (!copy)
					return -ENOMEM;
				memcpy(copy, nlh, nlh->nlmsg_len);
				*ret_reply = copy;
				*ret_reply_len = nlh->nlmsg_len;
				return 0;
			}
		}
	}
}

/* ------------------------------------------------------------------------------------------ */
/* The PF's interface                                                                         */

int pf_netdev(struct passthru_ctx *ctx, const char *pf, char **ret_name, int *ret_ifindex)
{
	_cleanup_free_ char *path = NULL, *best = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_close_ int fd = -1;
	struct dirent *de;
	long ifindex;
	int r;

	if (asprintf(&path, "/sys/bus/pci/devices/%s/net", pf) < 0)
		return -ENOMEM;
	r = root_opendir(ctx, path, &d);
	if (r == -ENOENT)
		return -ENOLINK;
	if (r < 0)
		return r;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (!best || strcmp(de->d_name, best) < 0) {
			free(best);
			best = strdup(de->d_name);
			if (!best)
				return -ENOMEM;
		}
	}
	if (!best)
		return -ENOLINK;
	fd = openat(dirfd(d), best, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENOLINK : -errno;
	r = attr_read_long_at(fd, "ifindex", 1, INT32_MAX, &ifindex);
	if (r < 0)
		return r == -ENOENT ? -ENOLINK : r;
	*ret_name = TAKE_PTR(best);
	*ret_ifindex = (int)ifindex;
	return 0;
}

static bool live(struct passthru_ctx *ctx)
{
	return strcmp(passthru_ctx_get_sysroot(ctx), "/") == 0;
}

/* Reads what the driver reports about the VFs of ifindex. */
static int read_reports(struct passthru_ctx *ctx, int ifindex, struct vf_report **ret,
			size_t *ret_n)
{
	char req[256];
	_cleanup_free_ void *reply = NULL;
	_cleanup_free_ char *extack = NULL;
	size_t reply_len = 0;
	int len, r;

	len = vf_netlink_build_get(req, sizeof(req), (uint32_t)time(NULL), ifindex);
	if (len < 0)
		return len;
	r = vf_netlink_talk(req, (size_t)len, true, &reply, &reply_len, &extack);
	if (r < 0) {
		log_debug(ctx, "RTM_GETLINK of ifindex %d: %s%s%s", ifindex, strerror(-r),
			  extack ? ": " : "", extack ?: "");
		return r;
	}
	return vf_netlink_parse_link(reply, reply_len, ret, ret_n);
}

/* ------------------------------------------------------------------------------------------ */
/* Settings summaries                                                                         */

int vf_settings_summary(const struct vf_settings *s, char **ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t size = 0;
	const char *sep = "";
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return -ENOMEM;
	if (s->has_mac) {
		fprintf(f, "%smac %02x:%02x:%02x:%02x:%02x:%02x", sep, s->mac[0], s->mac[1],
			s->mac[2], s->mac[3], s->mac[4], s->mac[5]);
		sep = " ";
	}
	if (s->has_vlan) {
		fprintf(f, "%svlan %u", sep, s->vlan);
		if (s->qos)
			fprintf(f, " qos %u", s->qos);
		if (s->proto == ETH_P_8021AD_VALUE)
			fputs(" proto 802.1ad", f);
		sep = " ";
	}
	if (s->has_spoofchk) {
		fprintf(f, "%sspoofchk %s", sep, s->spoofchk ? "on" : "off");
		sep = " ";
	}
	if (s->has_trust) {
		fprintf(f, "%strust %s", sep, s->trust ? "on" : "off");
		sep = " ";
	}
	if (s->has_rate)
		fprintf(f, "%smax-tx-rate %u", sep, s->max_tx_rate);
	if (fclose(f) != 0)
		return -ENOMEM;
	*ret = TAKE_PTR(buf);
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* One VF                                                                                     */

struct passthru_vf {
	unsigned refcount;
	struct passthru_ctx *ctx;
	char pf[PASSTHRU_PCI_ADDRESS_LEN + 1];
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
	unsigned index;
	char *netdev;
	int ifindex;
	struct vf_settings settings;
	char *summary;
	char *error;
};

_public_ int passthru_vf_new(struct passthru_ctx *ctx, const char *pf, unsigned index,
			     struct passthru_vf **ret)
{
	_cleanup_close_ int dfd = -1;
	struct passthru_vf *vf;
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1], vf_address[PASSTHRU_PCI_ADDRESS_LEN + 1];
	_cleanup_free_ char *netdev = NULL;
	int ifindex = 0, r;

	if (!ctx || !pf || !ret)
		return -EINVAL;
	dfd = pf_open_dir(ctx, pf, address);
	if (dfd < 0)
		return dfd;
	r = pf_vf_address(dfd, index, vf_address);
	if (r < 0)
		return r == -ENOENT ? -ENOENT : r;
	r = pf_netdev(ctx, address, &netdev, &ifindex);
	if (r < 0)
		return r;

	vf = calloc(1, sizeof(*vf));
	if (!vf)
		return -ENOMEM;
	vf->refcount = 1;
	vf->ctx = passthru_ctx_ref(ctx);
	memcpy(vf->pf, address, sizeof(vf->pf));
	memcpy(vf->address, vf_address, sizeof(vf->address));
	vf->index = index;
	vf->netdev = TAKE_PTR(netdev);
	vf->ifindex = ifindex;
	*ret = vf;
	return 0;
}

_public_ struct passthru_vf *passthru_vf_ref(struct passthru_vf *vf)
{
	if (vf)
		vf->refcount++;
	return vf;
}

_public_ struct passthru_vf *passthru_vf_unref(struct passthru_vf *vf)
{
	if (!vf || --vf->refcount > 0)
		return NULL;
	free(vf->netdev);
	free(vf->summary);
	free(vf->error);
	passthru_ctx_unref(vf->ctx);
	free(vf);
	return NULL;
}

_public_ const char *passthru_vf_get_pf(const struct passthru_vf *vf)
{
	return vf->pf;
}

_public_ unsigned passthru_vf_get_index(const struct passthru_vf *vf)
{
	return vf->index;
}

_public_ const char *passthru_vf_get_address(const struct passthru_vf *vf)
{
	return vf->address;
}

_public_ const char *passthru_vf_get_netdev(const struct passthru_vf *vf)
{
	return vf->netdev;
}

_public_ int passthru_vf_set_mac(struct passthru_vf *vf, const uint8_t mac[6])
{
	/* A VF's address is a station's: a group address would never be its own. */
	if (mac[0] & 1)
		return -EINVAL;
	memcpy(vf->settings.mac, mac, 6);
	vf->settings.has_mac = true;
	return 0;
}

_public_ int passthru_vf_set_vlan(struct passthru_vf *vf, unsigned vlan, unsigned qos,
				  uint16_t proto)
{
	if (proto == 0)
		proto = ETH_P_8021Q_VALUE;
	if (proto != ETH_P_8021Q_VALUE && proto != ETH_P_8021AD_VALUE)
		return -EINVAL;
	if (vlan > 4095 || qos > 7)
		return -ERANGE;
	vf->settings.vlan = vlan;
	vf->settings.qos = qos;
	vf->settings.proto = proto;
	vf->settings.has_vlan = true;
	return 0;
}

_public_ void passthru_vf_set_spoofchk(struct passthru_vf *vf, bool on)
{
	vf->settings.spoofchk = on;
	vf->settings.has_spoofchk = true;
}

_public_ void passthru_vf_set_trust(struct passthru_vf *vf, bool on)
{
	vf->settings.trust = on;
	vf->settings.has_trust = true;
}

_public_ void passthru_vf_set_max_tx_rate(struct passthru_vf *vf, unsigned mbps)
{
	vf->settings.max_tx_rate = mbps;
	vf->settings.has_rate = true;
}

struct passthru_ctx *vf_context(struct passthru_vf *vf)
{
	return vf->ctx;
}

const struct vf_settings *vf_get_settings(const struct passthru_vf *vf)
{
	return &vf->settings;
}

int vf_set_settings(struct passthru_vf *vf, const struct vf_settings *settings)
{
	if ((settings->has_mac && (settings->mac[0] & 1)) ||
	    (settings->has_vlan &&
	     (settings->vlan > 4095 || settings->qos > 7 ||
	      (settings->proto != ETH_P_8021Q_VALUE && settings->proto != ETH_P_8021AD_VALUE))))
		return -EINVAL;
	vf->settings = *settings;
	return 0;
}

_public_ const char *passthru_vf_get_summary(struct passthru_vf *vf)
{
	free(vf->summary);
	vf->summary = NULL;
	if (vf_settings_summary(&vf->settings, &vf->summary) < 0)
		return "";
	return vf->summary;
}

_public_ int passthru_vf_apply(struct passthru_vf *vf)
{
	_cleanup_free_ char *buf = NULL;
	struct vf_settings s = vf->settings;
	int len, r;

	free(vf->error);
	vf->error = NULL;
	if (!s.has_mac && !s.has_vlan && !s.has_spoofchk && !s.has_trust && !s.has_rate)
		return -EINVAL;
	if (!live(vf->ctx))
		return -EOPNOTSUPP;

	/* IFLA_VF_RATE sets both limits: keep the minimum the driver has, as ip does. */
	if (s.has_rate) {
		_cleanup_free_ struct vf_report *reports = NULL;
		size_t n = 0;

		s.min_tx_rate = 0;
		r = read_reports(vf->ctx, vf->ifindex, &reports, &n);
		if (r < 0)
			log_debug(vf->ctx, "%s: cannot read the VF rates of %s: %s", vf->pf,
				  vf->netdev, strerror(-r));
		for (size_t i = 0; r >= 0 && i < n; i++)
			if (reports[i].vf == vf->index && reports[i].has_rate)
				s.min_tx_rate = reports[i].min_tx_rate;
		if (s.max_tx_rate && s.min_tx_rate > s.max_tx_rate) {
			if (asprintf(&vf->error,
				     "the VF's minimum rate %u Mbit/s is above the maximum %u",
				     s.min_tx_rate, s.max_tx_rate) < 0)
				vf->error = NULL;
			return -ERANGE;
		}
	}

	buf = malloc(VF_NETLINK_BUFFER_SIZE);
	if (!buf)
		return -ENOMEM;
	len = vf_netlink_build_set(buf, VF_NETLINK_BUFFER_SIZE, (uint32_t)time(NULL), vf->ifindex,
				   vf->index, &s);
	if (len < 0)
		return len;
	log_debug(vf->ctx, "%s: VF %u on %s (ifindex %d): %s", vf->pf, vf->index, vf->netdev,
		  vf->ifindex, passthru_vf_get_summary(vf));
	{
		char *extack = NULL;

		r = vf_netlink_talk(buf, (size_t)len, false, NULL, NULL, &extack);
		vf->error = extack;
	}
	return r;
}

_public_ const char *passthru_vf_get_error(const struct passthru_vf *vf)
{
	return vf->error;
}

/* ------------------------------------------------------------------------------------------ */
/* What the driver reports                                                                    */

struct passthru_vf_list {
	unsigned refcount;
	struct passthru_ctx *ctx;
	struct vf_report *vfs;
	size_t n;
};

_public_ int passthru_vf_list_read(struct passthru_ctx *ctx, const char *pf,
				   struct passthru_vf_list **ret)
{
	_cleanup_close_ int dfd = -1;
	_cleanup_free_ char *netdev = NULL;
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
	struct passthru_vf_list *list;
	struct vf_report *vfs = NULL;
	size_t n = 0;
	int ifindex, r;

	if (!ctx || !pf || !ret)
		return -EINVAL;
	dfd = pf_open_dir(ctx, pf, address);
	if (dfd < 0)
		return dfd;
	r = pf_netdev(ctx, address, &netdev, &ifindex);
	if (r < 0)
		return r;
	if (!live(ctx))
		return -EOPNOTSUPP;
	r = read_reports(ctx, ifindex, &vfs, &n);
	if (r < 0)
		return r;
	list = calloc(1, sizeof(*list));
	if (!list) {
		free(vfs);
		return -ENOMEM;
	}
	list->refcount = 1;
	list->ctx = passthru_ctx_ref(ctx);
	list->vfs = vfs;
	list->n = n;
	*ret = list;
	return 0;
}

_public_ struct passthru_vf_list *passthru_vf_list_ref(struct passthru_vf_list *list)
{
	if (list)
		list->refcount++;
	return list;
}

_public_ struct passthru_vf_list *passthru_vf_list_unref(struct passthru_vf_list *list)
{
	if (!list || --list->refcount > 0)
		return NULL;
	free(list->vfs);
	passthru_ctx_unref(list->ctx);
	free(list);
	return NULL;
}

_public_ size_t passthru_vf_list_count(const struct passthru_vf_list *list)
{
	return list ? list->n : 0;
}

static const struct vf_report *report_at(const struct passthru_vf_list *list, size_t i)
{
	return list && i < list->n ? &list->vfs[i] : NULL;
}

_public_ int passthru_vf_list_get_vf(const struct passthru_vf_list *list, size_t index,
				     unsigned *ret)
{
	const struct vf_report *v = report_at(list, index);

	if (!v)
		return -EINVAL;
	*ret = v->vf;
	return 0;
}

_public_ const char *passthru_vf_list_get_mac(const struct passthru_vf_list *list, size_t index)
{
	const struct vf_report *v = report_at(list, index);

	return v && v->has_mac ? v->mac : NULL;
}

_public_ int passthru_vf_list_get_vlan(const struct passthru_vf_list *list, size_t index,
				       unsigned *ret_vlan, unsigned *ret_qos, uint16_t *ret_proto)
{
	const struct vf_report *v = report_at(list, index);

	if (!v)
		return -EINVAL;
	if (!v->has_vlan)
		return -ENODATA;
	if (ret_vlan)
		*ret_vlan = v->vlan;
	if (ret_qos)
		*ret_qos = v->qos;
	if (ret_proto)
		*ret_proto = v->proto;
	return 0;
}

_public_ int passthru_vf_list_get_spoofchk(const struct passthru_vf_list *list, size_t index,
					   bool *ret)
{
	const struct vf_report *v = report_at(list, index);

	if (!v)
		return -EINVAL;
	if (!v->has_spoofchk)
		return -ENODATA;
	*ret = v->spoofchk;
	return 0;
}

_public_ int passthru_vf_list_get_trust(const struct passthru_vf_list *list, size_t index,
					bool *ret)
{
	const struct vf_report *v = report_at(list, index);

	if (!v)
		return -EINVAL;
	if (!v->has_trust)
		return -ENODATA;
	*ret = v->trust;
	return 0;
}

_public_ int passthru_vf_list_get_tx_rate(const struct passthru_vf_list *list, size_t index,
					  unsigned *ret_min, unsigned *ret_max)
{
	const struct vf_report *v = report_at(list, index);

	if (!v)
		return -EINVAL;
	if (!v->has_rate)
		return -ENODATA;
	if (ret_min)
		*ret_min = v->min_tx_rate;
	if (ret_max)
		*ret_max = v->max_tx_rate;
	return 0;
}

_public_ const char *passthru_vf_list_get_link_state(const struct passthru_vf_list *list,
						     size_t index)
{
	static const char *const names[] = {
	    [IFLA_VF_LINK_STATE_AUTO] = "auto",
	    [IFLA_VF_LINK_STATE_ENABLE] = "enable",
	    [IFLA_VF_LINK_STATE_DISABLE] = "disable",
	};
	const struct vf_report *v = report_at(list, index);

	if (!v || !v->has_link_state || v->link_state >= ELEMENTSOF(names))
		return NULL;
	return names[v->link_state];
}
